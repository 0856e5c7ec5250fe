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

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "realmkit/arch/stage2.h"
#include "realmkit/cpu.h"
#include "realmkit/gtimer.h"
#include "realmkit/host.h"
#include "realmkit/measure.h"

#define G4K RK_GRANULE_SIZE
#define HOST_RMI_NFNUM (RMI_FNUM_MAX - RMI_FNUM_MIN + 1)
#define HOST_MAX_FAULTS 32u
#define HOST_RETRY_MAX 1000u /* BUSY / BLOCKED retries of one call */
#define HOST_SRO_MAX_STEPS 4096u
#define HOST_LIST_MAX 512u /* descriptors in one list granule */
#define HOST_MAX_VCPUS 4096u

/* RmiResult fields */
#define RMI_ST(x0) ((unsigned int)((x0)&RMI_RESULT_STATUS_MASK))
#define RMI_IDX(x0) ((unsigned int)(((x0)&RMI_RESULT_INDEX_MASK) >> RMI_RESULT_INDEX_SHIFT))
#define RMI_MEMREQ(x0) ((unsigned int)(((x0)&RMI_RESULT_MEMREQ_MASK) >> RMI_RESULT_MEMREQ_SHIFT))

/* ---- the granule ledger: one byte per DRAM granule ---- */
#define LED_STATE_MASK 0x07u
#define LED_DIRTY 0x08u
#define LED_ROLE_SHIFT 4

struct host_bank {
	uint64_t base; /* PA */
	uint64_t ngranules;
	uint64_t first; /* global index of its first granule */
};

struct host_fault {
	struct rk_host_fault f;
	uint32_t seen;  /* calls of f.fid since armed */
	uint32_t fired; /* bool */
};

#define HOST_MAX_HCPUS 64u

struct rk_host {
	pthread_mutex_t lock;       /* the host lock (recursive): every public call, exit handling */
	pthread_mutex_t fault_lock; /* the armed faults (host_rmi() runs without the host lock) */
	struct rk_machine *m;
	/* host CPUs the vCPU threads issue REC_ENTER on (vtimer.c): vCPU i on
	 * CPU i % nhcpus (below), its GIC state loaded and saved around the SMC
	 * under hcpu_mtx[that CPU] */
	pthread_mutex_t hcpu_mtx[HOST_MAX_HCPUS];
	uint8_t *ledger; /* per granule: state, dirty, role */
	uint32_t *owner; /* per granule: VM id (0: host) */
	uint64_t *used;  /* allocation bitmap: 1 = not free */
	uint64_t ngranules;
	uint64_t hint; /* next-fit start (global index) */
	struct rk_leak *leaks;
	uint64_t nleaks, leaks_cap;
	/* host-internal NS pages */
	uint64_t params_pa; /* RmiRmmConfig / RmiRealmParams / RmiRecParams */
	uint64_t bounce_pa; /* populate source */
	uint64_t list_pa;   /* SRO donate / reclaim descriptor lists */
	uint64_t probe_pa;  /* a harmless NS granule for probes */
	FILE *trace;
	rk_host_smc_filter filter;
	void *filter_arg;
	struct rk_vm *vms; /* live VM structs */
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
	uint32_t nhcpus; /* host CPUs in use (hcpu_mtx above) */
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

struct rk_cpu;

/* What a vCPU owes the RMM (or its engine) before its next entry. */
struct host_pending {
	uint64_t psci_fid;    /* PSCI_COMPLETE due (0: none) */
	uint64_t psci_status; /* its status (PSCI SUCCESS or DENIED) */
	uint64_t ripas_base, ripas_top;
	uint64_t gprs[31];    /* RecEnter gprs (host call answer, MMIO read value) */
	uint64_t enter_flags; /* RMI_REC_ENTER_FLAGS_* of the next entry */
	uint64_t last_fault;  /* IPA of the last stage-2 fault the host mapped, + 1 (0: none) */
	uint32_t psci_target; /* target vCPU of a CPU_ON / AFFINITY_INFO */
	uint32_t ripas;       /* RIPAS_CHANGE due: 1 + the RIPAS asked (0: none) */
	uint32_t ripas_accept;
	uint32_t gprs_valid; /* copy gprs into RecEnter */
	uint64_t start_pc;   /* normal VM: a CPU_ON started this vCPU here (run.mtx) */
	uint64_t start_ctx;  /* ... with this context id in x0 */
	uint32_t start;      /* ... if set */
	uint32_t reserved;
};

/*
 * A vCPU's interrupt inputs besides its vGIC state (vtimer.c): the timer
 * lines as last driven into the vGIC, and its kicks.
 */
struct host_vcpu_irq {
	uint64_t kick_gen; /* host_vcpu_kick() count (run.mtx): wakes a vCPU asleep in WFI */
	uint32_t timer;    /* timer lines high, as last set: 1 virtual, 2 physical */
	uint32_t reserved;
};

/*
 * A normal VM's vCPU as its engine's sysreg handler sees it (run_normal.c):
 * its EL1 timers (realmkit/gtimer.h) and the host CPU it is on.
 */
struct rk_cpu_sysreg_ctx {
	struct rk_vm *vm;
	struct rk_gtimer timer;
	int32_t hcpu;   /* the host CPU it runs on now (hcpu_mtx held); -1: none */
	uint8_t virq;   /* bool: the engine's virtual IRQ line as last set */
	uint8_t trap;   /* bool: an ICC access that traps to EL2 ended the run */
	uint8_t loaded; /* bool: host_gic_load() succeeded (host_gic_save() syncs) */
	uint8_t reserved;
};

/* A vCPU: host-side record; its REC exists once the realm is activated. */
struct rk_vcpu {
	uint64_t pc;
	uint64_t gprs[8];
	rk_rec_t rec;           /* 0: no REC */
	struct host_blocks aux; /* granules donated to the REC */
	struct rk_vm *vm;
	/* run loop */
	uint64_t run_pa;         /* realm: its RmiRecRun page (host memory); 0: none yet */
	struct rmi_rec_run *run; /* the host's view of it */
	struct rk_cpu *cpu;      /* normal VM: its engine; NULL: none yet */
	uint64_t wake_gen;       /* CPU_ON completions that targeted this vCPU (run.mtx) */
	struct host_pending pend;
	struct host_vcpu_irq gic;
	struct rk_cpu_sysreg_ctx nvm; /* normal VM: its sysreg handler's (run_normal.c) */
	uint32_t on;                  /* power state as the host sees it (run.mtx) */
	uint32_t in_run;              /* a thread is inside rk_vcpu_run() for it (run.mtx) */
	uint32_t id;
	uint32_t flags; /* RK_VCPU_RUNNABLE, VCPU_REC_LOST */
};

#define VCPU_REC_LOST (1u << 31) /* REC leaked: its SRO was abandoned */

struct host_mmio {
	uint64_t ipa, size;
	const struct rk_mmio_ops *ops;
	void *arg;
	void *owned; /* freed with the VM (the UART's state) */
};

/* Per VM: run control. Lock order: dev_mtx -> host lock -> mtx; exec_mtx innermost. */
struct host_run {
	pthread_mutex_t mtx;      /* power states, stop, info */
	pthread_cond_t cv;        /* a vCPU was started, or the VM stops */
	pthread_mutex_t dev_mtx;  /* MMIO and host-call callbacks, one at a time */
	pthread_mutex_t exec_mtx; /* normal VM: one engine of the VM runs at a time */
	struct host_mmio *mmio;
	rk_host_call_fn hc_fn;
	void *hc_arg;
	rk_ripas_policy_fn ripas_fn;
	void *ripas_arg;
	FILE *log;
	/* its vGIC (vgic.h; realm and normal VM), created at the first run (host_gic_init);
	 * set and read by devices under dev_mtx, by vCPU threads after that */
	struct host_vgic *vgic;
	/*
	 * host_run_log's rate limit: messages of one kind (one format string) are
	 * printed HOST_RUN_LOG_LIMIT times, then counted; host_run_log_flush() says
	 * how many were suppressed.
	 */
	pthread_mutex_t log_mtx;
	struct host_log_kind {
		const char *fmt; /* NULL: free slot */
		uint64_t n;
		char first[160]; /* the first message of the kind, to name it */
	} log_kinds[16];
	struct rk_vm_run_info info;
	uint32_t nmmio, mmio_cap;
	uint32_t stop_requested; /* rk_vm_stop() until rk_vm_resume() */
	uint32_t running;        /* threads inside rk_vcpu_run() */
	uint32_t wfi_max_ms;     /* realm: the longest WFI sleep without a wake-up (0: 10 ms; tests) */
	uint32_t reserved;
	/* normal VM: its engines share their broadcast TLBIs (run_normal.c) */
	struct rk_cpu_tlb_domain tlb;
};

/* What the host holds for a realm (the RD itself is the RMM's). */
struct rk_realm {
	rk_rd_t rd;                      /* 0: no RD (NONE, or destroyed) */
	rk_rtt_t rtt_base;               /* first root RTT */
	uint8_t rim[RK_MEASUREMENT_MAX]; /* the host's RIM prediction */
	uint8_t rpv[64];
	uint32_t hash_algo;
	uint32_t num_bps;
	uint32_t num_wps;
	uint32_t nrecs; /* RECs created (vCPUs 0..nrecs-1) */
	uint32_t flags; /* REALM_* */
	uint32_t reserved;
};

#define REALM_RD_LEAKED (1u << 0)  /* the RD (and roots) could not be reclaimed */
#define REALM_TERMINATED (1u << 1) /* RMI_REALM_TERMINATE succeeded */

/* Realm RTT shadow: the host's copy of one RTT, in VMSAv8-64 stage-2 format. */
struct host_shadow {
	rk_rtt_t rtt;
	uint64_t e[S2_ENTRIES];
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
	uint64_t root_pa;              /* 0: no tables yet */
	struct host_shadow_map shadow; /* realm backend only */
	uint32_t ia_bits;
	int32_t start_level;
	uint32_t nroot; /* concatenated root tables */
	uint32_t reserved;
};

struct host_memslot {
	uint64_t ipa, size;
	uint64_t *pa;     /* backing PA of each granule */
	uint64_t *shared; /* realm private slot: bitmap of pages the realm made RIPAS EMPTY (NULL: none) */
	uint32_t flags;   /* RK_MEMSLOT_* */
	uint32_t id;
};

struct rk_vm {
	struct rk_host *host;
	struct rk_vm *next;
	struct host_memslot *slots;
	struct rk_vcpu **vcpus;
	struct host_s2 s2;
	struct rk_realm realm;
	struct host_run run;
	uint32_t nslots, slots_cap;
	uint32_t nvcpus, vcpus_cap;
	uint32_t id;
	uint32_t kind;  /* enum rk_vm_kind */
	uint32_t state; /* enum rk_vm_state */
	uint32_t ipa_bits;
	uint32_t flags; /* VM_* */
	uint32_t reserved;
};

#define VM_EVER_ACTIVE (1u << 0) /* the guest may have written its NS memory */
#define VM_NO_RIM (1u << 1)      /* RK_VM_NO_RIM_PREDICTION */
#define VM_BLOCKS_DONE (1u << 2) /* realm: populated blocks completed before the first entry */

/* ---- the host lock (host.c) ---- */
void host_lock(struct rk_host *h);
void host_unlock(struct rk_host *h);

/* ---- errors (host.c) ---- */
int host_fail(struct rk_host *h, int err, uint64_t fid, uint64_t x0, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int host_rmi_errno(uint64_t x0);
void host_ok(struct rk_host *h);

/* ---- the host's granules: page allocator, ledger, delegation, leaks (granules.c) ---- */
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

/* NS access: every host read and write of NS memory goes through here. */
int host_ns_write(struct rk_host *h, uint64_t pa, const void *buf, size_t len);
int host_ns_read(struct rk_host *h, uint64_t pa, void *buf, size_t len);
int host_ns_zero(struct rk_host *h, uint64_t pa, uint64_t n);

/* ---- the SMC wrapper (rmi.c; the typed commands: rmi_cmds.h) ---- */
/* host_rmi() issued on host CPU cpu (rk_hcpu_smc; cpu < 0: rk_smc). */
uint64_t host_rmi_on(struct rk_host *h, int cpu, uint64_t fid, uint64_t out[5], uint64_t a1, uint64_t a2,
		     uint64_t a3, uint64_t a4, uint64_t a5);

/*
 * Interrupts of realm and normal VM vCPUs (vtimer.c): host_vcpu_enter
 * issues REC_ENTER on the vCPU's host CPU between host_gic_load() and
 * host_gic_save(), and drives the timer PPIs from RecExit. host_vcpu_wfi
 * blocks a realm vCPU whose WFI trapped until its vGIC has an interrupt for
 * it, its earliest timer deadline, a kick or a stop (host_vcpu_block with
 * RecExit's deadline). host_vcpu_kick wakes it from WFI and ends its run (a
 * REC's or an engine's); host_vgic_kick_pending kicks every vCPU (but skip)
 * with something pending.
 */
uint64_t host_vcpu_enter(struct rk_vm *vm, struct rk_vcpu *v);
void host_vcpu_wfi(struct rk_vm *vm, struct rk_vcpu *v);
void host_vcpu_kick(struct rk_vm *vm, struct rk_vcpu *v);
void host_vgic_kick_pending(struct rk_vm *vm, uint32_t skip);
/* An SGI vCPU v wrote (ICC_SGI1R/SGI0R/ASGI1R, value): to the vGIC, targets kicked. */
void host_vcpu_sgi(struct rk_vm *vm, struct rk_vcpu *v, uint32_t reg, uint64_t value);
/*
 * What both loops share: the vCPU's host CPU (-1: none, or no vGIC); its
 * vGIC state onto that CPU (host_gic_load: hcpu_mtx[cpu] taken, the
 * vGIC's flush; <0: refused, nothing to sync) and back (host_gic_save: the
 * sync unless loaded < 0, hcpu_mtx[cpu] released); its timer lines (1
 * virtual, 2 physical) into the vGIC's PPIs 27 and 30; and blocking until
 * the vGIC has an interrupt for it, the counter value due (UINT64_MAX:
 * none), a kick or a stop.
 */
int host_vcpu_hcpu(const struct rk_vm *vm, const struct rk_vcpu *v);
int host_gic_load(struct rk_vm *vm, struct rk_vcpu *v, unsigned int cpu);
void host_gic_save(struct rk_vm *vm, struct rk_vcpu *v, unsigned int cpu, int loaded);
void host_vcpu_timer_lines(struct rk_vm *vm, struct rk_vcpu *v, uint32_t lines);
void host_vcpu_block(struct rk_vm *vm, struct rk_vcpu *v, uint64_t due);
bool host_run_stopping_locked(struct rk_vm *vm); /* run.mtx held */
/* A VM's vGIC and its MMIO frames (devices.c), before its first run (host lock held). */
int host_gic_init(struct rk_vm *vm);

uint64_t host_rmi(struct rk_host *h, uint64_t fid, uint64_t out[5], uint64_t a1, uint64_t a2, uint64_t a3,
		  uint64_t a4, uint64_t a5);

/* ---- the Stateful RMI Operation driver (sro.c) ---- */
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
/* Map [ipa, ipa + size) of memory slots (realm: delegate first); alias: the unprotected
 * alias of a private slot, as shared memory (pages zeroed first if dirty). */
int host_vm_map(struct rk_vm *vm, uint64_t ipa, uint64_t size, int min_level, bool alias);
/* Backing PA of [ipa, ipa + size): one contiguous run of a slot (alias: the private slot
 * under the unprotected alias), else -EFAULT (no slot) / -ERANGE. */
int host_memslot_backing(struct rk_vm *vm, uint64_t ipa, uint64_t size, bool alias, uint64_t *pa);
int host_vm_activate(struct rk_vm *vm);
/* Is op legal in the VM's state? -EPERM with a message naming both if not. */
int host_vm_check(struct rk_vm *vm, enum rk_vm_op op, const char *fn);

/* ---- construction plans (plan.c): what the host gives the RMM, shared with rk_plan_rim() ---- */
#define HOST_DEFAULT_IPA_BITS 40u
void host_realm_params(struct rmi_realm_params *p, uint32_t ipa_bits, uint32_t hash_algo, uint32_t num_bps,
		       uint32_t num_wps, const uint8_t rpv[64]);
uint64_t host_rec_mpidr(uint32_t idx);
void host_rec_params(struct rmi_rec_params *p, uint32_t id, uint32_t flags, uint64_t pc,
		     const uint64_t gprs[8]);
/*
 * The 4 KiB page at ipa of a populate of [src_ipa, src_ipa + len) from buf: in buf
 * itself when all of it is there, else copied into page and zero-filled past
 * the end (the last page of a length that is not a multiple of 4 KiB).
 */
const uint8_t *host_populate_page(uint8_t page[4096], const uint8_t *buf, uint64_t src_ipa, uint64_t len,
				  uint64_t ipa);

/* ---- the run loop (run.c, run_normal.c, devices.c) ---- */
int host_run_init(struct rk_vm *vm);
void host_run_fini(struct rk_vm *vm); /* vCPU run pages and engines, devices */
void host_run_vcpu_fini(struct rk_vm *vm, struct rk_vcpu *v);
/* Stop the VM for good (first reason wins); wakes every waiting vCPU. */
void host_run_stop(struct rk_vm *vm, uint32_t vcpu, unsigned int reason, int err, uint64_t fid, uint64_t x0,
		   const char *fmt, ...) __attribute__((format(printf, 7, 8)));
struct host_mmio *host_mmio_find(struct rk_vm *vm, uint64_t ipa);
/* Emulate one MMIO access with the device at ipa: 0, -ENODEV (none there), -EIO (device refused). */
int host_mmio_access(struct rk_vm *vm, uint32_t vcpu, uint64_t ipa, uint32_t size, bool write,
		     uint64_t *value);
void host_devices_flush(struct rk_vm *vm);
void host_devices_free(struct rk_vm *vm);
/* Host call: the VM's handler (zeros without one). <0: stop the VM. */
int host_run_host_call(struct rk_vm *vm, uint32_t vcpu, uint32_t imm, uint64_t gprs[31]);
/* vCPU index of a PSCI target (MPIDR_EL1 affinity); false if none. */
bool host_mpidr_vcpu(const struct rk_vm *vm, uint64_t mpidr, uint32_t *id);
/* A CPU_ON targeting vCPU t succeeded: mark it on and wake its thread. */
void host_run_wake(struct rk_vm *vm, uint32_t t);
void host_run_log(struct rk_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define HOST_RUN_LOG_LIMIT 10u
/* One line per kind of host_run_log message that was suppressed, then the counts start again. */
void host_run_log_flush(struct rk_vm *vm);
bool host_run_stopping(struct rk_vm *vm);
/* Sleep until v is on or the VM stops. 1: go on (gen: its wake generation), else what rk_vcpu_run() returns. */
int host_run_wait(struct rk_vm *vm, struct rk_vcpu *v, uint64_t *gen);
/* v went off (unless a CPU_ON targeted it since gen); stops the VM if no vCPU is on any more. */
void host_run_vcpu_off(struct rk_vm *vm, struct rk_vcpu *v, uint64_t gen, const char *why);
/* Stop the VM with an error found on vCPU v ("vCPU n: msg"); returns err. */
int host_run_error(struct rk_vm *vm, struct rk_vcpu *v, int err, uint64_t fid, uint64_t x0, const char *msg);
int host_normal_vcpu_loop(struct rk_vm *vm, struct rk_vcpu *v);
void host_normal_vcpu_free(struct rk_vm *vm, struct rk_vcpu *v);
void host_normal_kick(struct rk_vm *vm);

static inline uint64_t host_align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

#endif
