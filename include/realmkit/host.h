/* SPDX-License-Identifier: MIT */
/*
 * realmkit host: the KVM-side layer. What a VMM uses to run normal VMs and
 * realms (CCA VMs) on a machine whose RMM it reaches only through the two
 * doors of realmkit/platform.h (rk_smc() and the GPT-checked rk_ns_*()).
 *
 * Vocabulary. "realm" means one CCA VM. Properties of the RMM as a whole are
 * named rmi_* (rmi_ipa_limit, rmi_max_recs, ...). Every RMM object the host
 * holds is a typed handle: the PA of a granule in a known role (rk_rd_t,
 * rk_rtt_t, rk_rec_t, rk_data_t), never a void pointer.
 *
 * Lifecycle (docs/lifecycle.md has the diagram and the tables, which a test
 * checks against rk_vm_transitions(), rk_vm_ops() and rk_host_teardown_stages()):
 *
 *   NONE --create--> NEW --activate--> ACTIVE
 *     \               |                  |
 *      +--------------+---- destroy -----+--> DYING --> DEAD
 *
 * The host's VM state is host-internal, not ABI: the RMM tracks its own realm
 * state (NEW, ACTIVE, SYSTEM_OFF, ZOMBIE), which rk_vm_rmm_realm_states()
 * asks it for.
 *
 * Errors: functions return 0 or a negative errno; rk_host_last_error() then
 * tells which RMI command failed with which status, and why, in one line.
 *   -EINVAL  bad argument            -EPERM   not legal in the VM's state
 *   -ENOENT  no such vCPU            -EFAULT  IPA not backed by a memory slot
 *   -EEXIST  overlap / already mapped -ENOMEM host memory exhausted
 *   -ENODEV  no usable RMM (realms)  -EIO     an RMI command failed
 *   -EOPNOTSUPP the RMM does not implement a command the host needs
 *   -EBUSY   the VM's vCPUs are running (destroy), or this vCPU already runs
 *   -EINTR   rk_vcpu_run() returned because rk_vm_stop() asked
 *   -EACCES  the host cannot access a realm's private memory
 *   -ELOOP   a vCPU is stuck in an exception loop (the RMM stopped the REC:
 *            the same abort or UNDEF at its own vector, no progress; the
 *            run info's msg names PC, address and syndrome)
 *
 * Threading: every call takes the host's lock, so a host and its VMs may be
 * used from several threads. rk_vcpu_run() of different vCPUs, of one VM or
 * of several, run in parallel: RMI_REC_ENTER is issued without the lock, and
 * exits are handled under it. rk_host_last_error() is per thread. A VM must
 * not be destroyed while one of its vCPUs runs (-EBUSY), nor the host while
 * any vCPU runs.
 */
#ifndef REALMKIT_HOST_H
#define REALMKIT_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "realmkit/abi_gen.h"
#include "realmkit/export.h"
#include "realmkit/platform.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Typed handles: RMM objects the host holds, by the PA of their granule ---- */

typedef struct {
	uint64_t pa;
} rk_rd_t; /* Realm Descriptor */
typedef struct {
	uint64_t pa;
} rk_rtt_t; /* Realm Translation Table */
typedef struct {
	uint64_t pa;
} rk_rec_t; /* Realm Execution Context */
typedef struct {
	uint64_t pa;
} rk_data_t; /* realm data granule (or first granule of a block) */

struct rk_host;
struct rk_vm;

/* ---- Host ----------------------------------------------------------------- */

/*
 * A fault armed in the host's SMC wrapper: the nth call (1 = the next one) of
 * RMI command `fid` issued after arming does not reach the RMM; the wrapper
 * returns x[0..4] instead (x[0] = the status, packed as an RmiResult).
 */
struct rk_host_fault {
	uint64_t fid;
	uint64_t x[5];
	uint32_t nth;
	uint32_t reserved;
};

/*
 * An SMC filter sees every RMI call after fault injection and before the RMM.
 * Return true if it handled the call (regs holds the results), false to let
 * it through. For tests of host code against an RMM that behaves differently.
 */
typedef bool (*rk_host_smc_filter)(void *arg, struct rk_smc_regs *regs);

struct rk_host_config {
	FILE *trace;                        /* every RMI call and its result; NULL: none */
	const struct rk_host_fault *faults; /* armed before the RMM is booted */
	uint32_t nfaults;
	uint32_t reserved;
};

/*
 * Take over a machine: build the page allocator over its NS DRAM, then boot
 * the RMM as Linux does (RMI_VERSION, RMI_FEATURES, RMI_RMM_CONFIG_SET,
 * RMI_RMM_ACTIVATE, RMI_GRANULE_TRACKING_GET, RMI_GPT_L1_CREATE). An RMM that
 * is absent or fails to boot is not an error: rk_host_caps() says so and
 * realm VMs are refused with -ENODEV. An RMM already activated (by someone
 * else) is accepted if its configuration matches.
 */
RK_API int rk_host_create(struct rk_machine *m, const struct rk_host_config *cfg, struct rk_host **out);
/* Destroys every VM still alive (rk_vm_destroy + rk_vm_free), then the host. */
RK_API void rk_host_destroy(struct rk_host *h);

struct rk_host_caps {
	bool rmm_present; /* RMI_VERSION answered */
	bool rmm_usable;  /* RMI 2.0 and booted: realms can be created */
	uint16_t reserved;
	uint32_t rmi_version;      /* (major << 16) | minor: RMI_VERSION x1 */
	uint32_t rmi_version_high; /* RMI_VERSION x2 */
	uint32_t rmi_ipa_limit;    /* FR0.S2SZ: largest realm IPA size, bits */
	uint32_t rmi_hash_algos;   /* bit (1 << RMI_HASH_*) per algorithm in FR1 */
	uint32_t rmi_max_recs;     /* 2^FR1.MAX_RECS_ORDER - 1 */
	uint32_t host_ipa_limit;   /* largest normal VM IPA size, bits */
	uint32_t reserved2;
	uint64_t rmi_features[5]; /* FR0..FR4 as read */
};

RK_API int rk_host_caps(const struct rk_host *h, struct rk_host_caps *out);

struct rk_host_error {
	int err; /* the negative errno returned */
	uint32_t reserved;
	uint64_t fid;  /* RMI command that failed, 0 if none */
	uint64_t x0;   /* its result (packed RmiResult) */
	char msg[200]; /* one line, no newline */
};

/* The last error of a host call (cleared by every successful public call). */
RK_API const struct rk_host_error *rk_host_last_error(const struct rk_host *h);
RK_API const char *rk_rmi_status_name(uint64_t x0);   /* "ERROR_RTT", ... */
RK_API const char *rk_rmi_command_name(uint64_t fid); /* "RMI_REALM_CREATE", ... or "RMI_?" */

/* ---- Fault injection and observation ------------------------------------- */

/* Arm a fault: the nth next call of fid returns `status` (x1..x4 = 0). */
RK_API int rk_host_inject_fault(struct rk_host *h, uint64_t fid, uint32_t nth, uint64_t status);
/* Same with all five result registers given. */
RK_API int rk_host_inject_fault_regs(struct rk_host *h, const struct rk_host_fault *f);
RK_API void rk_host_clear_faults(struct rk_host *h);
/* Number of armed faults that have fired since the host was created. */
RK_API uint64_t rk_host_faults_fired(const struct rk_host *h);
RK_API void rk_host_set_smc_filter(struct rk_host *h, rk_host_smc_filter fn, void *arg);
RK_API void rk_host_set_trace(struct rk_host *h, FILE *f);

struct rk_host_stats {
	uint64_t rmi_calls;         /* every call through the host's SMC wrapper */
	uint64_t rmi_retries;       /* of which retries after BUSY / BLOCKED */
	uint64_t rmi_faults;        /* of which answered by an injected fault */
	uint64_t s2_table_writes;   /* descriptors written to host-memory page tables */
	uint64_t ns_writes;         /* other host writes to NS memory (content, params, lists) */
	uint64_t s2_tables;         /* live non-root stage-2 tables (page tables and RTTs) */
	uint64_t s2_rtt_hint_skips; /* entries skipped on RMI_RTT_DESTROY's x2 hint */
	uint64_t shadow_mismatches; /* RMM answers that contradicted the host's RTT shadow */
	uint64_t ledger_errors;     /* host bugs caught by the granule ledger (always 0) */
	uint64_t granules_total;    /* DRAM granules */
	uint64_t granules_free;     /* in the page allocator */
	uint64_t granules_leaked;   /* leaked: never reused */
};

RK_API void rk_host_get_stats(const struct rk_host *h, struct rk_host_stats *out);
/* Calls of one RMI command through the wrapper (injected ones included). */
RK_API uint64_t rk_host_rmi_count(const struct rk_host *h, uint64_t fid);

/* ---- Host memory: the granule ledger and the leak report ------------------- */

/* What the host believes of a granule of DRAM. */
enum rk_granule_state {
	RK_GRANULE_FREE = 0,      /* in the page allocator (NS) */
	RK_GRANULE_HOST = 1,      /* allocated, NS: host memory */
	RK_GRANULE_DELEGATED = 2, /* delegated, in no RMM object yet */
	RK_GRANULE_RMM = 3,       /* in an RMM object (RD, RTT, REC, aux, data) */
	RK_GRANULE_LEAKED = 4,    /* could not be reclaimed: never reused */
	RK_GRANULE_RESERVED = 5,  /* not NS at boot (firmware carve-out) */
};

enum rk_granule_role {
	RK_ROLE_NONE = 0,
	RK_ROLE_HOST = 1,     /* host-internal page (RMM config, params, lists, bounce) */
	RK_ROLE_MEMSLOT = 2,  /* guest memory; realm data granule while delegated */
	RK_ROLE_S2_TABLE = 3, /* normal VM stage-2 page table */
	RK_ROLE_RD = 4,
	RK_ROLE_RTT = 5,
	RK_ROLE_REC = 6,
	RK_ROLE_REC_AUX = 7, /* donated to the RMM by an SRO */
	RK_ROLE_COUNT
};

struct rk_granule_info {
	uint8_t state; /* enum rk_granule_state */
	uint8_t role;  /* enum rk_granule_role */
	uint8_t dirty; /* may hold data: zeroed before it is handed out again */
	uint8_t reserved;
	uint32_t vm_id; /* owning VM (0: the host) */
};

RK_API int rk_host_granule_info(const struct rk_host *h, uint64_t pa, struct rk_granule_info *out);
RK_API const char *rk_granule_state_name(unsigned int state);
RK_API const char *rk_granule_role_name(unsigned int role);

/* One leaked range: granules the host gave up on, and the failure that caused it. */
struct rk_leak {
	uint64_t pa;
	uint64_t ngranules;
	uint64_t fid;  /* RMI command whose failure made the granules unreclaimable (0: none) */
	uint64_t x0;   /* its result */
	uint32_t role; /* enum rk_granule_role */
	uint32_t vm_id;
};

/* Copies up to cap entries; returns the number of entries in the report. */
RK_API size_t rk_host_leak_report(const struct rk_host *h, struct rk_leak *out, size_t cap);
RK_API uint64_t rk_host_leaked_granules(const struct rk_host *h);
RK_API void rk_host_print_leaks(const struct rk_host *h, FILE *f);

/* ---- VMs -------------------------------------------------------------------- */

enum rk_vm_kind {
	RK_VM_NORMAL = 0, /* stage-2 page tables in host memory, written by the host */
	RK_VM_REALM = 1,  /* CCA VM: RTTs owned by the RMM, driven over RMI */
};

/* Host-internal VM state (not ABI); rk_vm_state_info() says which RMM realm states each one means. */
enum rk_vm_state {
	RK_VM_NONE = 0,   /* realm VM without a Realm Descriptor yet */
	RK_VM_NEW = 1,    /* being built: memory may be populated */
	RK_VM_ACTIVE = 2, /* activated: vCPUs may run; no more populate */
	RK_VM_DYING = 3,  /* teardown in progress */
	RK_VM_DEAD = 4,   /* torn down; leaks (if any) in the leak report */
	RK_VM_NSTATES
};

struct rk_vm_config {
	enum rk_vm_kind kind;
	uint32_t ipa_bits;  /* IPA size; checked against rmi_ipa_limit (realm) or host_ipa_limit */
	uint32_t hash_algo; /* realm: RMI_HASH_*; must be in rk_host_caps().rmi_hash_algos */
	uint32_t num_bps;   /* realm: breakpoints - 1 (RmiRealmParams encoding); 0: the RMM's maximum */
	uint32_t num_wps;   /* realm: watchpoints - 1; 0: the RMM's maximum */
	uint32_t flags;     /* RK_VM_* */
	uint8_t rpv[64];    /* realm: Realm Personalization Value */
};

/* Realm: do not keep the RIM prediction (saves one hash per measured page). */
#define RK_VM_NO_RIM_PREDICTION (1u << 0)

/* Defaults: 40-bit IPA, SHA-256, zero RPV. */
RK_API void rk_vm_config_default(struct rk_vm_config *cfg, enum rk_vm_kind kind);

/* A normal VM starts NEW; a realm VM starts NONE (no RMM object yet). */
RK_API int rk_vm_create(struct rk_host *h, const struct rk_vm_config *cfg, struct rk_vm **out);
/*
 * Realm only, NONE -> NEW: delegate the RD and the root RTTs (range
 * delegation) and issue RMI_REALM_CREATE. Implicit in the first populate, map,
 * activate or run, as in Linux v14.
 */
RK_API int rk_vm_realm_create(struct rk_vm *vm);

#define RK_MEMSLOT_SHARED (1u << 0) /* realm: unprotected IPA (top IPA bit set), NS memory */

/*
 * Guest memory at [ipa, ipa + size), backed by host memory the host allocates
 * (2 MiB-aligned chunks where the IPA allows, so blocks can be used).
 * Not mapped until populated or mapped. Legal in NONE, NEW, ACTIVE.
 */
RK_API int rk_vm_add_memslot(struct rk_vm *vm, uint64_t ipa, uint64_t size, uint32_t flags);

#define RK_POPULATE_MEASURE (1u << 0) /* extend the RIM with the contents (RMI_MEASURE_CONTENT) */

/*
 * Load [ipa, ipa + len) of a memory slot from a host buffer (len rounded up to
 * 4 KiB, the tail zero-filled) and map it, before the VM runs (NONE, NEW).
 * Realm: range-delegate the destination granules, then RMI_RTT_DATA_MAP_INIT
 * per granule, measured or not. Normal VM: copy, then map.
 */
RK_API int rk_vm_populate(struct rk_vm *vm, uint64_t ipa, const void *buf, size_t len, uint32_t flags);

/*
 * Map [ipa, ipa + size) of memory slots with unknown (zero) contents, in 2 MiB
 * blocks where IPA and backing allow. Realm: RMI_RTT_DATA_MAP of delegated
 * granules (protected IPA) or RMI_RTT_UNPROT_MAP (shared slot).
 * Legal in NONE, NEW, ACTIVE.
 */
RK_API int rk_vm_map(struct rk_vm *vm, uint64_t ipa, uint64_t size);
/* Unmap; the memory stays in its slot (realm: unmapped, undelegated). Blocks are split. */
RK_API int rk_vm_unmap(struct rk_vm *vm, uint64_t ipa, uint64_t size);
/* Fold tables whose entries are one contiguous block (or all empty) into their parent. */
RK_API int rk_vm_fold(struct rk_vm *vm, uint64_t ipa, uint64_t size);

enum rk_s2_kind { RK_S2_TABLE = 0, RK_S2_PAGE = 1, RK_S2_BLOCK = 2, RK_S2_INVALID = 3 };

/* One stage-2 entry as the owner of the tables reports it. */
struct rk_s2_entry {
	uint64_t ipa;
	uint64_t pa; /* output address (table: next-level table) */
	int32_t level;
	uint32_t kind;     /* enum rk_s2_kind */
	int32_t ripas;     /* realm: RIPAS from RMI_RTT_READ_ENTRY; normal VM: -1 */
	uint32_t mismatch; /* realm: the RMM's answer differs from the host's shadow */
};

typedef int (*rk_s2_dump_fn)(void *arg, const struct rk_s2_entry *e);

/*
 * Visit every table and valid leaf covering [ipa, ipa + size), parents before
 * children. Normal VM: read from the page tables. Realm: RMI_RTT_READ_ENTRY for
 * each entry the host's shadow holds. A non-zero return from fn stops the walk.
 */
RK_API int rk_vm_s2_dump(struct rk_vm *vm, uint64_t ipa, uint64_t size, rk_s2_dump_fn fn, void *arg);
RK_API int rk_vm_s2_print(struct rk_vm *vm, FILE *f);

/* ---- vCPUs ------------------------------------------------------------------ */

#define RK_VCPU_RUNNABLE (1u << 0) /* realm: REC created runnable (measured into the RIM) */

struct rk_vcpu_config {
	uint64_t pc;
	uint64_t gprs[8]; /* x0..x7 at reset */
	uint32_t flags;   /* RK_VCPU_*; ignored if cfg is NULL: vCPU 0 runnable, others not */
	uint32_t reserved;
};

/*
 * vCPU `id` (ids are dense: 0, 1, 2, ..., in creation order, which is the
 * REC MPIDR order). Host-side only: a realm's RECs are created at activation.
 * Legal in NONE, NEW.
 */
RK_API int rk_vcpu_create(struct rk_vm *vm, uint32_t id, const struct rk_vcpu_config *cfg);

/*
 * NEW -> ACTIVE (NONE: realm created first). Realm: one REC per vCPU, in id
 * order, through the SRO protocol (RMI_REC_CREATE, RMI_OP_MEM_DONATE,
 * RMI_OP_CONTINUE); RMI_RTT_INIT_RIPAS over every protected memory slot;
 * RMI_REALM_ACTIVATE. On failure the VM stays NEW and activation can be retried.
 */
RK_API int rk_vm_activate(struct rk_vm *vm);

/* ---- Running: devices, host calls, RIPAS policy, the run loop ---------------- */

/*
 * The run loop (docs/lifecycle.md, "Running") is KVM_RUN with the VMM's device
 * model inside the host library: rk_vcpu_run() runs one vCPU in the calling
 * thread and handles every exit itself until the VM stops:
 *
 *   realm (RMI_REC_ENTER; RecRun page per vCPU in host memory)
 *     SYNC data abort, unprotected IPA: emulated MMIO to the VM's device there
 *         (RMI_REC_ENTER_FLAGS_EMULATED_MMIO), shared memory mapped on demand
 *         with RMI_RTT_UNPROT_MAP (a RK_MEMSLOT_SHARED slot, or the unprotected
 *         alias of a private slot page the realm made RIPAS EMPTY), otherwise
 *         INJECT_SEA (no device there, or no syndrome to emulate).
 *     SYNC abort, protected IPA (RIPAS RAM, not mapped): the page of the
 *         memory slot is delegated and mapped (RMI_RTT_DATA_MAP), as KVM does;
 *         outside every slot the VM stops with -EFAULT.
 *     PSCI: CPU_ON / AFFINITY_INFO completed with RMI_PSCI_COMPLETE before the
 *         caller's next entry (CPU_ON status SUCCESS if the target exists,
 *         else DENIED, as Linux v14); CPU_OFF parks the vCPU until a CPU_ON
 *         targets it; SYSTEM_OFF / SYSTEM_RESET stop the VM.
 *     RIPAS_CHANGE: the VM's policy decides; accepted: RMI_RTT_SET_RIPAS loop
 *         on the next entry; to EMPTY the private pages are then unmapped and
 *         undelegated, to RAM the unprotected alias is unmapped first.
 *     HOST_CALL: the VM's host-call handler; its answer goes in enter.gprs.
 *     SYNC WFI (trapped): the vCPU sleeps until its vGIC has an interrupt
 *         for it, a timer deadline, or a stop. SYNC ICC_SGI1R/SGI0R/ASGI1R:
 *         the SGI to the vGIC, its targets woken.
 *     IRQ, FIQ: enter again. SERROR: the RMM's engine failed: the VM stops.
 *   A realm has a GICv3 (the host's vGIC, docs/architecture.md "Interrupts"):
 *   created at its first run with a redistributor per vCPU, its frames at
 *   RK_GUEST_GICD_IPA / RK_GUEST_GICR_IPA (realmkit/guest_abi.h, moved with
 *   the realm's IPA size; an MMIO region added there fails that run); the
 *   timer PPIs 27 and 30 and each PL011's SPI (rk_uart_config.intid) feed it.
 *   normal VM: the host runs the vCPU on a CPU backend engine it owns
 *     (src/platform/cpu), with the same devices, PSCI, host calls (the SMC
 *     RSI_HOST_CALL is emulated by the host) and stage-2 faults.
 *
 * A vCPU that is off (never started, or CPU_OFF) waits in rk_vcpu_run() for a
 * CPU_ON targeting it. rk_vm_run() runs every vCPU on a thread of its own.
 */

/* An emulated MMIO device. offset is from the region's base; size is 1, 2, 4 or 8.
 * Return 0, or non-zero to fail the access (the guest gets a synchronous
 * external abort). Called from vCPU threads with the VM's device lock held
 * (one callback at a time per VM); may call rk_vm_read_mem(), rk_vm_write_mem()
 * and rk_vm_stop(). */
struct rk_mmio_ops {
	int (*read)(void *arg, uint32_t vcpu, uint64_t offset, uint32_t size, uint64_t *value);
	int (*write)(void *arg, uint32_t vcpu, uint64_t offset, uint32_t size, uint64_t value);
};

/* MMIO region [ipa, ipa + size) (4 KiB aligned, outside memory slots;
 * realm: in the unprotected half). Legal in NONE, NEW, ACTIVE. */
RK_API int rk_vm_add_mmio(struct rk_vm *vm, uint64_t ipa, uint64_t size, const struct rk_mmio_ops *ops,
			  void *arg);

/* Console output of a UART: len bytes (a line, or a full buffer). */
typedef void (*rk_console_fn)(void *arg, const char *buf, size_t len);

#define RK_UART_SIZE 0x1000u

/*
 * A PL011 UART (ARM DDI 0183; the model is src/host/pl011.h, registers
 * UARTDR..UARTDMACR and the PrimeCell ID registers, PeriphID 0x00141011,
 * PCellID 0xb105f00d). Every callback gets arg and is called with the VM's
 * device lock held (one at a time per VM), from a vCPU thread or from the
 * thread calling rk_vm_uart_input(); none may call rk_vm_uart_input().
 *  - out: what the guest writes to UARTDR, a line at a time ("\r\n" as
 *    '\n', a lone '\r' kept),
 *    or whatever is pending when the guest reads UARTDR, or UARTFR with
 *    nothing received (it is waiting for input), and when the VM stops.
 *  - rx_ready (optional): the guest wants input: called the first time it
 *    reads UARTDR, UARTFR, UARTRIS or UARTMIS, and whenever it makes room in
 *    an RX FIFO that was full. A feeder holding bytes back retries then.
 *  - irq (optional): the interrupt line UARTINTR (UARTMIS != 0) changed
 *    level. The line also drives SPI intid of the VM's vGIC (realm or normal VM)
 *    (level-sensitive; 0: INTID 32 + RK_GUEST_UART_SPI, what the device tree
 *    says); a vCPU it is routed to is woken from WFI.
 */
struct rk_uart_config {
	rk_console_fn out;
	void (*rx_ready)(void *arg);
	void (*irq)(void *arg, bool level);
	void *arg;
	uint32_t intid; /* the SPI (32..) in the VM's vGIC; 0: 32 + RK_GUEST_UART_SPI */
	uint32_t reserved;
};
RK_API int rk_vm_add_pl011(struct rk_vm *vm, uint64_t ipa, const struct rk_uart_config *cfg);
/* rk_vm_add_pl011() with output only (out, arg). */
RK_API int rk_vm_add_uart(struct rk_vm *vm, uint64_t ipa, rk_console_fn out, void *arg);
/*
 * Input for the UART at ipa: puts bytes of buf in its RX FIFO while there is
 * room (32 bytes with UARTLCR_H.FEN, else 1) and says in *taken how many
 * (0: full; keep the rest and retry on rx_ready). Any thread, while the VM
 * exists. 0, or -ENODEV (no UART at ipa), -EINVAL.
 */
RK_API int rk_vm_uart_input(struct rk_vm *vm, uint64_t ipa, const void *buf, size_t len, size_t *taken);
/* The UART's interrupt line: 1 high, 0 low, -ENODEV no UART at ipa. */
RK_API int rk_vm_uart_irq_level(struct rk_vm *vm, uint64_t ipa);

/*
 * Host calls (RSI_HOST_CALL): imm and gprs[0..30] as the guest sent them; the
 * handler leaves in gprs what the guest gets back (RecEnter gprs). Return 0,
 * or a negative errno to stop the VM with that error. Without a handler every
 * call is answered with zeros ("not provided"). Called like the MMIO callbacks.
 */
typedef int (*rk_host_call_fn)(void *arg, struct rk_vm *vm, uint32_t vcpu, uint32_t imm, uint64_t gprs[31]);
RK_API void rk_vm_set_host_call_handler(struct rk_vm *vm, rk_host_call_fn fn, void *arg);

/*
 * Realm RIPAS changes (RSI_IPA_STATE_SET): return true to accept the change
 * of [base, top) to ripas (RMI_RIPAS_EMPTY or RMI_RIPAS_RAM). Without a policy
 * a change is accepted when the range is inside the VM's private memory slots.
 */
typedef bool (*rk_ripas_policy_fn)(void *arg, struct rk_vm *vm, uint32_t vcpu, uint64_t base, uint64_t top,
				   unsigned int ripas);
RK_API void rk_vm_set_ripas_policy(struct rk_vm *vm, rk_ripas_policy_fn fn, void *arg);

/* Run-loop events worth a line (unhandled MMIO, rejected RIPAS changes, the
 * error that stopped the VM); NULL (the default): none. --trace style exit lines
 * go to the host's trace (rk_host_set_trace()). */
RK_API void rk_vm_set_run_log(struct rk_vm *vm, FILE *f);

/*
 * Guest memory the host can reach: a normal VM's memory slots; a realm's
 * unprotected IPAs backed by host memory (a shared slot, or the alias of a
 * private slot page the realm shared). A realm's protected IPAs are -EACCES
 * (private memory); IPAs in no slot -EFAULT.
 */
RK_API int rk_vm_read_mem(struct rk_vm *vm, uint64_t ipa, void *buf, size_t len);
RK_API int rk_vm_write_mem(struct rk_vm *vm, uint64_t ipa, const void *buf, size_t len);

enum rk_vm_stop_reason {
	RK_STOP_NONE = 0,         /* running, or never ran */
	RK_STOP_SYSTEM_OFF = 1,   /* PSCI SYSTEM_OFF */
	RK_STOP_SYSTEM_RESET = 2, /* PSCI SYSTEM_RESET (not restarted) */
	RK_STOP_REQUESTED = 3,    /* rk_vm_stop() */
	RK_STOP_TIMEOUT = 4,      /* rk_vm_run()'s timeout */
	RK_STOP_ERROR = 5,        /* the run loop could not go on: see msg */
};

struct rk_vm_run_info {
	uint32_t reason; /* enum rk_vm_stop_reason */
	uint32_t vcpu;   /* the vCPU whose exit stopped the VM */
	int32_t err;     /* RK_STOP_ERROR: the negative errno */
	uint32_t reserved;
	uint64_t fid;            /* RMI command behind an error (0: none) */
	uint64_t x0;             /* its result */
	uint64_t entries;        /* RMI_REC_ENTER calls (normal VM: engine runs) */
	uint64_t exits[8];       /* by RMI_EXIT_* reason, SYNC .. S2AP_CHANGE (normal VM: the same classes) */
	uint64_t mmio;           /* emulated MMIO accesses */
	uint64_t mmio_unhandled; /* MMIO aborts with no device or no syndrome: SEA injected */
	uint64_t s2_faults;      /* stage-2 faults on private (normal VM: any) memory resolved by mapping */
	uint64_t shared_faults;  /* unprotected faults resolved with RMI_RTT_UNPROT_MAP */
	uint64_t host_calls;
	uint64_t psci;           /* PSCI exits */
	uint64_t ripas_changes;  /* RIPAS_CHANGE exits */
	uint64_t ripas_rejected; /* of which rejected by the policy */
	char msg[256];           /* one line: why the VM stopped */
};

RK_API int rk_vm_get_run_info(struct rk_vm *vm, struct rk_vm_run_info *out);
RK_API const char *rk_vm_stop_reason_name(unsigned int reason);

/*
 * Run vCPU id in the calling thread until the VM stops; activates the VM first
 * if it is not yet (as Linux v14 does on the first KVM_RUN). Returns 0 when
 * the guest switched the VM off (SYSTEM_OFF, SYSTEM_RESET), -EINTR when
 * rk_vm_stop() asked (also before the first entry: KVM's immediate_exit),
 * -EBUSY if another thread runs this vCPU, or the negative errno of the
 * failure that stopped the VM (RK_STOP_ERROR; rk_vm_get_run_info() says
 * what). Once the VM stopped by itself or failed, every run returns that.
 */
RK_API int rk_vcpu_run(struct rk_vm *vm, uint32_t id);

/*
 * Run every vCPU, each on a thread of its own, until the VM stops or
 * timeout_ms (0: none) passes (then the VM is stopped: RK_STOP_TIMEOUT,
 * -ETIMEDOUT). Returns as rk_vcpu_run().
 */
RK_API int rk_vm_run(struct rk_vm *vm, uint64_t timeout_ms);

/*
 * Ask every vCPU of vm to return from rk_vcpu_run() with -EINTR: waiting ones
 * at once, running ones within a time slice (2 ms). The request stays until
 * rk_vm_resume(). Thread-safe, also from device and host-call callbacks.
 */
RK_API void rk_vm_stop(struct rk_vm *vm);
RK_API void rk_vm_resume(struct rk_vm *vm);

/*
 * Tear down (NONE/NEW/ACTIVE -> DYING -> DEAD), reclaiming every granule
 * (docs/lifecycle.md, teardown stages). Never fails halfway: a step that fails
 * is reported, its granules are leaked (rk_host_leak_report()), and the
 * teardown goes on with what can still be reclaimed. Returns 0 if nothing
 * leaked, -EIO if something did (the VM is DEAD either way), -EPERM if the VM
 * is already DYING or DEAD.
 */
RK_API int rk_vm_destroy(struct rk_vm *vm);
/* Release the VM structure (destroying it first if needed). */
RK_API void rk_vm_free(struct rk_vm *vm);

RK_API enum rk_vm_state rk_vm_get_state(const struct rk_vm *vm);
RK_API enum rk_vm_kind rk_vm_get_kind(const struct rk_vm *vm);
RK_API uint32_t rk_vm_id(const struct rk_vm *vm);
RK_API uint32_t rk_vm_ipa_bits(const struct rk_vm *vm);
/* Realm: the RD handle (-ENOENT in NONE, and after the RD was destroyed). */
RK_API int rk_vm_rd(const struct rk_vm *vm, rk_rd_t *out);
/*
 * Realm: the host's prediction of the RIM, computed with realmkit/measure.h
 * from what it asked the RMM to do (REALM_CREATE parameters, measured
 * DATA_MAP_INIT contents, runnable RECs). The host cannot read the RD.
 * -ENODATA if the VM was created with RK_VM_NO_RIM_PREDICTION.
 */
RK_API int rk_vm_rim(const struct rk_vm *vm, uint8_t rim[64], size_t *len);

/* ---- Construction plans: building a VM, and predicting a realm's RIM ------------ */

/* A memory slot of a plan (rk_vm_add_memslot()). */
struct rk_plan_memslot {
	uint64_t ipa, size;
	uint32_t flags; /* RK_MEMSLOT_* */
	uint32_t reserved;
};

/* A populate of a plan (rk_vm_populate()): len bytes at ipa, 4 KiB aligned. */
struct rk_plan_load {
	uint64_t ipa;
	const void *data;
	size_t len;
	uint32_t flags; /* RK_POPULATE_* */
	uint32_t reserved;
};

/*
 * Everything that builds a VM, in order: the VM (config), its memory slots,
 * its populates, its vCPUs (RECs, created at activation in id order).
 */
struct rk_vm_plan {
	struct rk_vm_config config;
	const struct rk_plan_memslot *memslots;
	const struct rk_plan_load *loads;
	const struct rk_vcpu_config *vcpus; /* NULL: nvcpus vCPUs with the defaults of rk_vcpu_create() */
	uint32_t nmemslots;
	uint32_t nloads;
	uint32_t nvcpus;
	uint32_t reserved;
};

/* Carry out a plan: rk_vm_create, rk_vm_add_memslot, rk_vm_populate, rk_vcpu_create. */
RK_API int rk_vm_create_from_plan(struct rk_host *h, const struct rk_vm_plan *plan, struct rk_vm **out);

/*
 * The RIM a realm built from plan will have, computed through the host's
 * measurement path only (the same RmiRealmParams, page images and
 * RmiRecParams the host gives the RMM, hashed with realmkit/measure.h): no
 * host, no RMI call. rmi_fr0 is RMI_FEATURES(0) of the RMM, to resolve
 * num_bps/num_wps = 0 ("the RMM's maximum"); 0 if the plan gives them.
 */
RK_API int rk_plan_rim(const struct rk_vm_plan *plan, uint64_t rmi_fr0, uint8_t rim[64], size_t *len);

/*
 * Ask the RMM which realm states (bit 1 << RMI_REALM_STATE_*) are consistent
 * with its answers to side-effect-free probes (RMI_RTT_READ_ENTRY,
 * RMI_RTT_DATA_MAP and RMI_RTT_DATA_MAP_INIT with arguments that fail, in the
 * failure-condition order of the reference). 0: the RMM knows no such realm.
 * SYSTEM_OFF and ZOMBIE cannot be told apart this way.
 */
RK_API uint32_t rk_vm_rmm_realm_states(struct rk_vm *vm);

/* ---- Device tree: what a VMM tells the guest about its machine ---------------- */

/*
 * A flattened device tree (DTB) for the Linux arm64 boot protocol
 * (Documentation/arch/arm64/booting.rst), built with libfdt as kvmtool's VMM
 * builds it. The caller places it in the guest's RAM (a measured populate: a
 * realm's RIM covers it) and starts vCPU 0 with x0 = its IPA, x1..x3 = 0.
 *
 * It describes: the memory ranges (device_type "memory"); one cpu node per
 * vCPU (reg = the MPIDR the host gives vCPU i, enable-method "psci"); PSCI
 * 1.0 over SMC for a realm (the RMM's conduit), HVC for a normal VM; the
 * generic timer (arm,armv8-timer, the four PPIs of realmkit/guest_abi.h); a
 * GICv3 (distributor, one redistributor frame per vCPU); a PL011 with its SPI
 * and a fixed 24 MHz apb_pclk; /chosen (bootargs, linux,initrd-start/end,
 * stdout-path) and /aliases/serial0.
 *
 * Device addresses are given as the IPAs where the host serves them
 * (rk_vm_add_uart(), rk_vm_add_mmio()). For a realm these are in the
 * unprotected half, and the tree gives their protected alias (the IPA with
 * bit ipa_bits - 1 clear), as kvmtool and QEMU do: a realm-aware Linux maps
 * every device whose RIPAS is not DEV at its unprotected alias itself
 * (ioremap through PROT_NS_SHARED). A realm's host serves the GIC at the
 * default addresses (its vGIC, created at the first run) with the timer PPIs
 * and the UART's SPI; a normal VM's host likewise (at the default addresses).
 */
#define RK_FDT_MAX_SIZE (2u << 20) /* booting.rst: a DTB is at most 2 MiB */
#define RK_FDT_MAX_MEM 8u
#define RK_FDT_MAX_CPUS 4096u
#define RK_FDT_BOOTARGS_MAX 2048u /* with its NUL: Linux arm64's COMMAND_LINE_SIZE */
#define RK_FDT_UART_CLOCK_HZ 24000000u

struct rk_fdt_mem {
	uint64_t base, size; /* 4 KiB aligned; a realm's in the protected half */
};

struct rk_fdt_config {
	enum rk_vm_kind kind; /* realm: PSCI by SMC, devices at their protected alias */
	uint32_t ipa_bits;    /* the VM's IPA size (rk_vm_config.ipa_bits) */
	uint32_t nvcpus;      /* 1..RK_FDT_MAX_CPUS, and the redistributors must fit */
	uint32_t nmem;        /* 1..RK_FDT_MAX_MEM ranges in mem[], none overlapping */
	struct rk_fdt_mem mem[RK_FDT_MAX_MEM];
	uint64_t uart_ipa; /* PL011, RK_UART_SIZE bytes */
	uint64_t gicd_ipa; /* GICv3 distributor, 64 KiB */
	uint64_t gicr_ipa; /* redistributors, 128 KiB per vCPU */
	uint32_t uart_spi; /* the UART's SPI (INTID 32 + uart_spi), < 988 */
	uint32_t reserved;
	const char *bootargs;              /* /chosen/bootargs; NULL: none */
	uint64_t initrd_start, initrd_end; /* [start, end) in a memory range; both 0: none */
};

/*
 * Defaults: realmkit's machine (realmkit/guest_abi.h): RK_GUEST_S2SZ-bit IPA,
 * ram_size bytes of RAM at RK_GUEST_RAM_BASE, the UART at RK_GUEST_UART_IPA
 * with SPI RK_GUEST_UART_SPI, the GIC at RK_GUEST_GICD_IPA / RK_GUEST_GICR_IPA,
 * no bootargs, no initrd.
 */
RK_API void rk_fdt_config_default(struct rk_fdt_config *cfg, enum rk_vm_kind kind, uint32_t nvcpus,
				  uint64_t ram_size);

/*
 * Build the tree cfg describes into buf (size bytes, any alignment; place it
 * 8-byte aligned in the guest). Returns 0 with *len = its size (the DTB
 * header's totalsize), or:
 *   -EINVAL  a bad cfg (no or too many vCPUs or memory ranges, a range that is
 *            empty, unaligned, outside the IPA space or overlapping another or
 *            a device, a realm device outside the unprotected half, bootargs
 *            too long, an initrd outside memory); err says which, in a sentence
 *   -ENOSPC  buf is too small (or NULL): *len = the size it needs
 *   -ENOMEM  out of memory
 * The same cfg always gives the same bytes. err may be NULL; len may not.
 */
RK_API int rk_fdt_build(const struct rk_fdt_config *cfg, void *buf, size_t size, size_t *len, char *err,
			size_t err_len);

/* ---- The lifecycle as data (docs/lifecycle.md is checked against it) -------- */

enum rk_vm_op {
	RK_OP_REALM_CREATE = 0,
	RK_OP_ADD_MEMSLOT,
	RK_OP_POPULATE,
	RK_OP_MAP,
	RK_OP_UNMAP,
	RK_OP_VCPU_CREATE,
	RK_OP_ACTIVATE,
	RK_OP_RUN,
	RK_OP_DESTROY,
	RK_OP_COUNT
};

struct rk_vm_state_info {
	const char *name;       /* "NONE", ... */
	const char *rmm_states; /* the RMM realm states it corresponds to, in words */
	const char *meaning;
	uint32_t rmm_mask; /* bit (1 << RMI_REALM_STATE_*) the RMM may be in */
	uint32_t reserved;
};

struct rk_vm_transition {
	enum rk_vm_state from, to;
	const char *trigger; /* API call(s) */
	const char *rmi;     /* RMI commands a realm issues (normal VM: none) */
};

struct rk_vm_op_info {
	const char *name; /* API function */
	uint32_t legal;   /* bit (1 << enum rk_vm_state) where the operation is allowed */
	uint32_t reserved;
	const char *note;
};

struct rk_teardown_stage {
	const char *name;
	const char *rmi;      /* RMI commands issued */
	const char *returned; /* granules returned to the page allocator */
	const char *on_failure;
};

RK_API const struct rk_vm_state_info *rk_vm_state_info(enum rk_vm_state s);
RK_API const char *rk_vm_state_name(enum rk_vm_state s);
RK_API const struct rk_vm_transition *rk_vm_transitions(size_t *n);
RK_API const struct rk_vm_op_info *rk_vm_ops(size_t *n); /* indexed by enum rk_vm_op */
RK_API const struct rk_teardown_stage *rk_host_teardown_stages(size_t *n);

#ifdef __cplusplus
}
#endif
#endif
