/* SPDX-License-Identifier: MIT */
/*
 * Host internals: the KVM-side layer. Includes only public headers; reaches
 * the RMM through rk_smc() (via host_rmi(), the one SMC wrapper) and NS
 * memory through rk_ns_*() (via host_ns_write()/host_ns_read()).
 *
 * The structs below are checked for holes by scripts/check-holes.sh (pahole):
 * keep 8-byte fields first, then 4-byte fields in pairs.
 */
#ifndef RK_HOST_INTERNAL_H
#define RK_HOST_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "realmkit/host.h"
#include "realmkit/measure.h"

#define G4K RK_GRANULE_SIZE
#define HOST_RMI_NFNUM (RMI_FNUM_MAX - RMI_FNUM_MIN + 1)
#define HOST_MAX_FAULTS 32u
#define HOST_RETRY_MAX 1000u   /* BUSY / BLOCKED retries of one call */
#define HOST_SRO_MAX_STEPS 4096u
#define HOST_LIST_MAX 512u     /* descriptors in one list granule */
#define HOST_MAX_VCPUS 4096u

/* RmiResult fields */
#define RMI_ST(x0) ((unsigned int)((x0) & RMI_RESULT_STATUS_MASK))
#define RMI_IDX(x0) ((unsigned int)(((x0) & RMI_RESULT_INDEX_MASK) >> RMI_RESULT_INDEX_SHIFT))
#define RMI_MEMREQ(x0) ((unsigned int)(((x0) & RMI_RESULT_MEMREQ_MASK) >> RMI_RESULT_MEMREQ_SHIFT))

/* ---- the granule ledger: one byte per DRAM granule ---- */
#define LED_STATE_MASK 0x07u
#define LED_DIRTY 0x08u
#define LED_ROLE_SHIFT 4

struct host_bank {
	uint64_t base;      /* PA */
	uint64_t ngranules;
	uint64_t first;     /* global index of its first granule */
};

struct host_fault {
	struct rk_host_fault f;
	uint32_t seen;  /* calls of f.fid since armed */
	uint32_t fired; /* bool */
};

struct rk_host {
	struct rk_machine *m;
	uint8_t *ledger;            /* per granule: state, dirty, role */
	uint32_t *owner;            /* per granule: VM id (0: host) */
	uint64_t *used;             /* allocation bitmap: 1 = not free */
	uint64_t ngranules;
	uint64_t hint;              /* next-fit start (global index) */
	struct rk_leak *leaks;
	uint64_t nleaks, leaks_cap;
	/* host-internal NS pages */
	uint64_t params_pa;         /* RmiRmmConfig / RmiRealmParams / RmiRecParams */
	uint64_t bounce_pa;         /* populate source */
	uint64_t list_pa;           /* SRO donate / reclaim descriptor lists */
	uint64_t probe_pa;          /* a harmless NS granule for probes */
	FILE *trace;
	rk_host_smc_filter filter;
	void *filter_arg;
	struct rk_vm *vms;          /* live VM structs */
	uint64_t faults_fired;
	struct rk_host_caps caps;
	struct rk_host_stats stats;
	struct rk_host_error err;
	struct rk_host_error boot_err; /* why the RMM is not usable */
	uint64_t rmi_count[HOST_RMI_NFNUM];
	struct host_fault faults[HOST_MAX_FAULTS];
	struct host_bank banks[RK_MAX_DRAM_BANKS];
	uint32_t nbanks;
	uint32_t nfaults;
	uint32_t next_vm_id;
	uint32_t reserved;
};

/* A run of granules held by the RMM for an object (a REC's aux granules). */
struct host_block {
	uint64_t pa;
	uint64_t n; /* granules */
};

struct host_blocks {
	struct host_block *v;
	uint32_t n, cap;
};

/* A vCPU: host-side record; its REC exists once the realm is activated. */
struct rk_vcpu {
	uint64_t pc;
	uint64_t gprs[8];
	rk_rec_t rec;            /* 0: no REC */
	struct host_blocks aux;  /* granules donated to the REC */
	struct rk_vm *vm;
	uint32_t id;
	uint32_t flags;          /* RK_VCPU_RUNNABLE, VCPU_REC_LOST */
};

#define VCPU_REC_LOST (1u << 31) /* REC leaked: its SRO was abandoned */

/* What the host holds for a realm (the RD itself is the RMM's). */
struct rk_realm {
	rk_rd_t rd;               /* 0: no RD (NONE, or destroyed) */
	rk_rtt_t rtt_base;        /* first root RTT */
	uint8_t rim[RK_MEASUREMENT_MAX]; /* the host's RIM prediction */
	uint8_t rpv[64];
	uint32_t hash_algo;
	uint32_t num_bps;
	uint32_t num_wps;
	uint32_t nrecs;           /* RECs created (vCPUs 0..nrecs-1) */
	uint32_t flags;           /* REALM_* */
	uint32_t reserved;
};

#define REALM_RD_LEAKED (1u << 0)  /* the RD (and roots) could not be reclaimed */
#define REALM_TERMINATED (1u << 1) /* RMI_REALM_TERMINATE succeeded */

/* Realm RTT shadow: the host's copy of one RTT, in VMSAv8-64 stage-2 format. */
struct host_shadow {
	rk_rtt_t rtt;
	uint64_t e[512];
};

struct host_shadow_map {
	struct host_shadow **slot; /* open addressing, keyed by RTT PA */
	uint32_t cap, n;
};

struct host_s2_ops;

/* One stage-2 translation: the same structure for normal VMs and realms. */
struct host_s2 {
	const struct host_s2_ops *ops;
	struct rk_vm *vm;
	struct rk_host *h;
	uint64_t root_pa;               /* 0: no tables yet */
	struct host_shadow_map shadow;  /* realm backend only */
	uint32_t ia_bits;
	int32_t start_level;
	uint32_t nroot;                 /* concatenated root tables */
	uint32_t reserved;
};

struct host_memslot {
	uint64_t ipa, size;
	uint64_t *pa;   /* backing PA of each granule */
	uint32_t flags; /* RK_MEMSLOT_* */
	uint32_t id;
};

struct rk_vm {
	struct rk_host *host;
	struct rk_vm *next;
	struct host_memslot *slots;
	struct rk_vcpu **vcpus;
	struct host_s2 s2;
	struct rk_realm realm;
	uint32_t nslots, slots_cap;
	uint32_t nvcpus, vcpus_cap;
	uint32_t id;
	uint32_t kind;     /* enum rk_vm_kind */
	uint32_t state;    /* enum rk_vm_state */
	uint32_t ipa_bits;
	uint32_t flags;    /* VM_* */
	uint32_t reserved;
};

#define VM_EVER_ACTIVE (1u << 0) /* the guest may have written its NS memory */
#define VM_NO_RIM (1u << 1)      /* RK_VM_NO_RIM_PREDICTION */

/* ---- errors (host.c) ---- */
int host_fail(struct rk_host *h, int err, uint64_t fid, uint64_t x0, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int host_rmi_errno(uint64_t x0);
void host_ok(struct rk_host *h);

/* ---- page allocator and ledger (palloc.c) ---- */
int host_palloc_init(struct rk_host *h);
void host_palloc_fini(struct rk_host *h);
bool host_pa_index(const struct rk_host *h, uint64_t pa, uint64_t *idx);
uint64_t host_index_pa(const struct rk_host *h, uint64_t idx);

#define PALLOC_ZERO (1u << 0)
/* n contiguous granules aligned to `align` granules (a power of two), in one bank. */
int host_palloc(struct rk_host *h, uint64_t n, uint64_t align, unsigned int role, uint32_t vm_id,
		unsigned int flags, uint64_t *pa);
/* Return HOST granules to the allocator; anything else is a ledger error (never freed). */
void host_pfree(struct rk_host *h, uint64_t pa, uint64_t n);

unsigned int host_led_state(const struct rk_host *h, uint64_t pa);
/* Length of the prefix of [pa, pa + n granules) whose state is (in) / is not (!in) `state`. */
uint64_t host_led_prefix(const struct rk_host *h, uint64_t pa, uint64_t n, unsigned int state, bool in);
/* Move n granules from state `from` to `to`; a granule in another state is a ledger error. */
void host_led_move(struct rk_host *h, uint64_t pa, uint64_t n, unsigned int from, unsigned int to);
void host_led_dirty(struct rk_host *h, uint64_t pa, uint64_t n, bool dirty);
/* Leak n granules (any state but FREE/RESERVED/LEAKED): counted, reported, never reused. */
void host_leak(struct rk_host *h, uint64_t pa, uint64_t n, uint64_t fid, uint64_t x0);

int host_ns_write(struct rk_host *h, uint64_t pa, const void *buf, size_t len);
int host_ns_read(struct rk_host *h, uint64_t pa, void *buf, size_t len);
int host_ns_zero(struct rk_host *h, uint64_t pa, uint64_t n);

/* ---- the SMC wrapper and typed RMI commands (rmi.c) ---- */
uint64_t host_rmi(struct rk_host *h, uint64_t fid, uint64_t out[5], uint64_t a1, uint64_t a2,
		  uint64_t a3, uint64_t a4, uint64_t a5);

/* Delegate / undelegate [pa, pa + n granules) with the range commands, updating the ledger. */
int host_delegate(struct rk_host *h, uint64_t pa, uint64_t n);
/* Undelegate DELEGATED granules; on failure the rest are leaked. 0 or -EIO (something leaked). */
int host_undelegate(struct rk_host *h, uint64_t pa, uint64_t n);
/* Undelegate, then free (like Linux free_delegated_page()); leaks what cannot be undelegated. */
int host_free_delegated(struct rk_host *h, uint64_t pa, uint64_t n);
/* Delegate the HOST granules of [pa, pa + n granules), run by run. */
int host_delegate_runs(struct rk_host *h, uint64_t pa, uint64_t n);
/* Undelegate the DELEGATED granules of [pa, pa + n granules), run by run; -EIO if any leaked. */
int host_undelegate_runs(struct rk_host *h, uint64_t pa, uint64_t n);

/*
 * Drive a Stateful RMI Operation started by a command whose result is in
 * x[0..4], until its final result (left in x). Donated memory is allocated
 * with `role`, delegated if asked, and recorded in `held`; reclaimed memory is
 * matched against `held`, undelegated and freed. Returns 0 when the operation
 * ended (x[0] = its final status, maybe an error), -EIO if it had to be
 * abandoned (a follow-up command failed): the object and `held` are then the
 * caller's to leak.
 */
int host_sro_drive(struct rk_host *h, uint64_t x[5], struct host_blocks *held, unsigned int role,
		   uint32_t vm_id);
/*
 * Finish an SRO that moves no memory (an IRQ yield; reference 8.4, 8.5, and
 * 4.1 where Linux has a FIXME) if the command in x started one; x[0] = final.
 * Memory the RMM would ask for is given, and leaked (the host cannot tell
 * what it is for).
 */
uint64_t host_sro_finish(struct rk_host *h, uint64_t fid, uint64_t x[5], uint32_t vm_id);
int host_blocks_add(struct host_blocks *b, uint64_t pa, uint64_t n);
void host_blocks_free(struct host_blocks *b);

/* ---- VM internals shared by vm.c and realm.c ---- */
int host_realm_create(struct rk_vm *vm);
int host_realm_activate(struct rk_vm *vm);
int host_realm_teardown(struct rk_vm *vm);
uint32_t host_realm_probe(struct rk_vm *vm);
struct host_memslot *host_memslot_find(struct rk_vm *vm, uint64_t ipa, uint64_t size);
/* Backing PA of [ipa, ipa + size) if it is one contiguous, size-aligned run; else -ERANGE. */
int host_memslot_pa(struct rk_vm *vm, uint64_t ipa, uint64_t size, uint64_t *pa);
void host_vm_set_state(struct rk_vm *vm, enum rk_vm_state to);

static inline uint64_t host_align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

#endif
