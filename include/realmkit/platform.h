/* SPDX-License-Identifier: MIT */
/*
 * realmkit platform: the machine an RMM guards.
 *
 * A machine has DRAM in one or more banks (non-DRAM holes between them), a
 * Granule Protection Table (GPT) giving every 4 KiB granule a physical
 * address space (PAS), and firmware at R-EL2 (the RMM) reached by SMC.
 *
 * Host code reaches the RMM exactly as on hardware, through two doors only:
 *  1. the SMC conduit, rk_smc(): SMCCC register file in, register file out;
 *  2. non-secure memory access by physical address, rk_ns_read(),
 *     rk_ns_write() and rk_ns_map(), each checked against the GPT: touching a
 *     granule whose PAS is not NS fails with -RK_EGPF (granule protection
 *     fault) and changes nothing; touching an address outside DRAM fails
 *     with -EFAULT.
 * Everything else in this header is machine construction and inspection.
 */
#ifndef REALMKIT_PLATFORM_H
#define REALMKIT_PLATFORM_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "realmkit/arch/esr.h"
#include "realmkit/cpu_model.h"
#include "realmkit/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RK_GRANULE_SHIFT 12
#define RK_GRANULE_SIZE (1ULL << RK_GRANULE_SHIFT)

/* The error a GPT check failure returns (negated), distinct from -EFAULT. */
#define RK_EGPF EACCES

/* Physical address spaces a granule can be in (GPT entry values). */
enum rk_pas {
	RK_PAS_NS = 0,     /* non-secure: host-accessible */
	RK_PAS_REALM = 1,  /* realm world: RMM and realms only */
	RK_PAS_ROOT = 2,   /* root (EL3): nobody but firmware */
	RK_PAS_SECURE = 3, /* secure world: not used by CCA hosts */
};

#define RK_MAX_DRAM_BANKS 8

struct rk_dram_bank {
	uint64_t base; /* granule-aligned PA */
	uint64_t size; /* granule-aligned size in bytes */
};

/* RMM specification revision the machine's RMM implements. */
enum rk_rmm_revision {
	RK_RMM_REV_2_0_BET1 = 0, /* RMM 2.0-bet1 (default) */
};

struct rk_machine_config {
	/* DRAM: if nbanks == 0, one bank of dram_size bytes at 0x80000000. */
	uint64_t dram_size;
	unsigned int nbanks;
	struct rk_dram_bank banks[RK_MAX_DRAM_BANKS];
	/* Physical address width. 0: 48. FR0.S2SZ is the smaller of it, 48 (no
	 * LPA2) and RK_MACHINE_CPU_PA_BITS. */
	unsigned int pa_bits;
	enum rk_rmm_revision revision;
	/* Number of host (physical) CPUs, each with its GIC virtual CPU
	 * interface (rk_hcpu_ich_read()). 0: 8; at most 4096. */
	unsigned int ncpus;
	/* Longest uninterrupted run of one RMI_REC_ENTER before an IRQ exit, in
	 * microseconds (the RMM's time slice). 0: 2000. */
	unsigned int rec_time_slice_us;
	/* RECs that keep an open CPU engine (~3.5 MiB and a thread each); the
	 * least recently run beyond it are parked: their state is kept, the
	 * engine reopens at their next REC_ENTER (~1 ms). 0: 64. */
	unsigned int max_open_engines;
	/*
	 * Attestation material (PEM / CBOR file paths, all optional). Without
	 * rak_pem the machine generates a P-384 Realm Attestation Key when it
	 * first needs one; without platform_token it generates a platform token
	 * signed with cpak_pem, or with a CPAK it generates (rk_machine_cpak()).
	 * A platform_token file must be bound to the RAK given in rak_pem.
	 */
	const char *rak_pem;
	const char *cpak_pem;
	const char *platform_token;
	/* DRAM ranges firmware keeps out of the NS world at boot (ROOT/SECURE). */
	unsigned int ncarveouts;
	struct rk_pas_region {
		uint64_t base, size; /* granule-aligned, inside DRAM */
		enum rk_pas pas;
	} carveouts[4];
	/* List registers of every CPU's GIC virtual CPU interface
	 * (ICH_VTR_EL2.ListRegs + 1), 1..16. 0: 4. */
	unsigned int gic_nr_lrs;
};

struct rk_machine;

/* Default configuration: 1 GiB DRAM at 0x80000000, 48-bit PA, RMM 2.0-bet1. */
RK_API void rk_machine_config_default(struct rk_machine_config *cfg);

/*
 * Create a machine with its RMM loaded (not yet activated: the host runs
 * RMI_RMM_CONFIG_SET / RMI_RMM_ACTIVATE as on hardware). DRAM is backed lazily,
 * so large machines cost nothing until touched. Returns 0 or -errno
 * (-EINVAL for an invalid layout, -ENOMEM).
 */
RK_API int rk_machine_create(const struct rk_machine_config *cfg, struct rk_machine **out);
RK_API void rk_machine_destroy(struct rk_machine *m);

/* ---- Door 1: the SMC conduit ------------------------------------------- */

/* SMCCC register file: x0 = FID and x1..x17 on entry; x0..x17 on return. */
struct rk_smc_regs {
	uint64_t x[18];
};

/* Issue an SMC from the host (EL2, non-secure). Thread-safe. */
RK_API void rk_smc(struct rk_machine *m, struct rk_smc_regs *regs);

/*
 * A host IPI: interrupt the physical CPU that is executing REC rec_pa (inside
 * an RMI_REC_ENTER), as a host kicks a vCPU. That REC_ENTER returns soon with
 * exit reason IRQ. Nothing happens if no CPU is running that REC. Thread-safe.
 */
RK_API void rk_smc_kick_rec(struct rk_machine *m, uint64_t rec_pa);

/*
 * A REC stuck in an exception loop. When a synchronous exception the RMM
 * delivers to the realm itself (an SEA for an access to RIPAS EMPTY memory or
 * outside the IPA space, an UNDEF) is taken again and again at the very
 * instruction it vectored to, with the same syndrome and address, the realm
 * can make no progress: its state is the same at every turn. After
 * RK_EXC_LOOP_LIMIT such turns in a row the RMM stops the REC (no longer
 * runnable) with an SError exit whose RmiRecExit carries (realmkit's
 * IMPLEMENTATION DEFINED syndrome):
 *   esr     = RK_EXC_LOOP_ESR (EC SError, IDS, ISS RK_EXC_LOOP_ISS)
 *   far     = the faulting address (instruction aborts: the PC)
 *   gprs[0] = the PC of the faulting instruction
 *   gprs[1] = the syndrome (ESR_EL1) of the exception delivered each time
 *   gprs[2] = how many times in a row it was taken
 * Any other event (another exception, an exit to the host, a change of
 * stage 2) starts the count again.
 */
#define RK_EXC_LOOP_LIMIT 20000u
#define RK_EXC_LOOP_ISS 0x10f00dULL
#define RK_EXC_LOOP_ESR ESR_MAKE(ESR_EC_SERROR, 1, ESR_SERROR_IDS | RK_EXC_LOOP_ISS)

/* ---- Host CPUs and their GIC virtual CPU interface ------------------------ */

/*
 * The machine has rk_machine_ncpus() host CPUs, numbered from 0. Each has the
 * GICv3 virtual CPU interface registers ICH_*_EL2 (realmkit/arch/gic.h), as
 * state that belongs to the CPU and not to any vCPU. NS-EL2 software (the
 * host) programs them before RMI_REC_ENTER (list registers, ICH_HCR_EL2 with
 * En = 1, ICH_VMCR_EL2, ICH_AP0R<n>/AP1R<n>_EL2) and reads them after the exit
 * (the same, and ICH_MISR/EISR/ELRSR_EL2), as with MSR and MRS; the REC_ENTER
 * must then be issued on that CPU, rk_hcpu_smc(). The RMM refuses a
 * REC_ENTER whose list registers hold a valid entry with HW = 1, or two valid
 * entries with the same vINTID (RMI_ERROR_REC), runs the REC against the
 * state and leaves it as the realm left it, with ICH_HCR_EL2.En cleared
 * (docs/architecture.md, "Interrupts").
 *
 * Writes store the value as this GIC implementation would: bits it makes
 * RES0 read as zero (the low 3 bits of an LR priority: 5 priority bits;
 * vINTID bits [31:16]: 16-bit INTIDs; ICH_HCR_EL2 bits of features it lacks).
 * ICH_VTR_EL2 says what it implements: gic_nr_lrs list registers, 5 priority
 * and preemption bits (ICH_AP0R0/AP1R0 only), 16-bit vINTIDs.
 *
 * 0, or -EINVAL (no such CPU; an encoding that is not an ICH_*_EL2 register
 * this CPU implements: LR n >= gic_nr_lrs, AP0R/AP1R n >= 1), -EPERM (a write
 * to a read-only register: VTR, MISR, EISR, ELRSR). Thread-safe; a CPU is
 * used by one thread at a time (a call waits while another thread is in an
 * rk_hcpu_smc() on that CPU).
 */
RK_API unsigned int rk_machine_ncpus(const struct rk_machine *m);
RK_API int rk_hcpu_ich_read(struct rk_machine *m, unsigned int cpu, uint32_t reg, uint64_t *val);
RK_API int rk_hcpu_ich_write(struct rk_machine *m, unsigned int cpu, uint32_t reg, uint64_t val);

/*
 * The guest side of a host CPU's GIC virtual CPU interface, as the hardware
 * gives it to a vCPU the host runs there itself (a normal VM: KVM at EL2 sets
 * HCR_EL2.IMO/FMO, so the guest's ICC_*_EL1 accesses reach the ICV_*
 * registers, driven by the ICH_*_EL2 state the host programmed with
 * rk_hcpu_ich_write()). The engine has no GIC (realmkit/cpu.h), so the host
 * hands each such access from its sysreg handler to rk_hcpu_icc_access(); the
 * RMM does the same for a realm against the state it took at REC_ENTER. The
 * emulation is the platform's one (docs/architecture.md, "Interrupts").
 *
 * rk_hcpu_icc_access(): acc is an MRS (acc->is_read) or MSR of the guest
 * (realmkit/cpu.h; a write's value in acc->value). Returns RK_ICC_DONE
 * (emulated: a read's value in acc->value; the vIRQ line or the maintenance
 * interrupt may have changed), RK_ICC_TRAP (the access traps to EL2: SGI
 * generation, ICC_SGI0R/SGI1R/ASGI1R, always; the registers ICH_HCR_EL2's
 * TC/TALL0/TALL1/TDIR trap; nothing changed), RK_ICC_UNDEF (UNDEFINED: at
 * EL0, not an ICC register this interface implements, the wrong direction;
 * nothing changed), or -EINVAL (no such CPU, NULL acc).
 * rk_hcpu_virq(): the virtual IRQ line the interface drives now (HCR_EL2.VI
 * for the engine: rk_cpu_set_virq()). rk_hcpu_maint(): its maintenance
 * interrupt is asserted (En and ICH_MISR_EL2 != 0), a physical interrupt for
 * the host. Both false for no such CPU. Thread-safe, as rk_hcpu_ich_read().
 */
enum rk_icc_result {
	RK_ICC_DONE = 0,
	RK_ICC_TRAP = 1,
	RK_ICC_UNDEF = 2,
};
struct rk_cpu_sysreg;
RK_API int rk_hcpu_icc_access(struct rk_machine *m, unsigned int cpu, struct rk_cpu_sysreg *acc);
RK_API bool rk_hcpu_virq(struct rk_machine *m, unsigned int cpu);
RK_API bool rk_hcpu_maint(struct rk_machine *m, unsigned int cpu);

/*
 * Issue an SMC on host CPU cpu: as rk_smc(), and an RMI_REC_ENTER runs the
 * REC with that CPU's GIC virtual CPU interface. -EINVAL (nothing issued) if
 * there is no such CPU. rk_smc() is an SMC from a CPU whose virtual interface
 * is in its reset state (disabled, no list register in use) and whose state
 * nobody reads back: a REC_ENTER through it delivers no virtual interrupt.
 */
RK_API int rk_hcpu_smc(struct rk_machine *m, unsigned int cpu, struct rk_smc_regs *regs);

/*
 * The system counter every CPU of the machine reads (CNTPCT_EL0 = CNTVCT_EL0:
 * realms have no counter offset), counting at CNTFRQ_HZ (realmkit/arch/sysreg.h,
 * 62.5 MHz) from the host's CLOCK_MONOTONIC. A host compares the timer CVALs
 * of RmiRecExit with it. Thread-safe.
 */
RK_API uint64_t rk_counter_read(void);

/* ---- Door 2: non-secure memory access by physical address ---------------- */

/*
 * Copy between host memory and [pa, pa + len). Every granule touched must be
 * DRAM (else -EFAULT) and NS in the GPT (else -RK_EGPF); on failure nothing
 * is copied.
 */
RK_API int rk_ns_read(struct rk_machine *m, uint64_t pa, void *buf, size_t len);
RK_API int rk_ns_write(struct rk_machine *m, uint64_t pa, const void *buf, size_t len);

/*
 * Map [pa, pa + len) for direct host access. Checked like rk_ns_read() at the
 * time of the call. The mapping is the host's view of NS memory: once a
 * granule in it is delegated, the host must no longer touch it (on hardware
 * the access would fault; here it is the host's bug, as with a stale PTE).
 */
RK_API int rk_ns_map(struct rk_machine *m, uint64_t pa, size_t len, uint8_t **out);

/*
 * Zero the whole granules [pa, pa + len) (pa and len 4 KiB aligned, else
 * -EINVAL; len 0 is -EFAULT), checked like rk_ns_write(). Large ranges are given back to the
 * operating system (they read as zero and cost nothing until touched), so
 * this is much cheaper than writing zeros through rk_ns_map().
 */
RK_API int rk_ns_zero(struct rk_machine *m, uint64_t pa, size_t len);

/* ---- Firmware log ------------------------------------------------------------ */

/*
 * Where the RMM logs every RSI and PSCI call a realm makes, with arguments and
 * results (as TF-RMM logs to its own console), and every RMI command it
 * refuses (status other than SUCCESS and INCOMPLETE) with its arguments and
 * status; NULL (the default) for none. The host cannot see realm calls otherwise.
 */
RK_API void rk_machine_set_rsi_log(struct rk_machine *m, FILE *f);

/* ---- Attestation keys ------------------------------------------------------ */

struct rk_attest_key;
/*
 * The machine's CCA Platform Attestation Key (public part is what a verifier
 * trusts), created or loaded on first use. NULL if the machine was given a
 * platform token file instead, or the key cannot be made.
 */
RK_API const struct rk_attest_key *rk_machine_cpak(struct rk_machine *m);

/* ---- Inspection ---------------------------------------------------------- */

/* The GPT entry of the granule holding pa; -EFAULT if pa is not DRAM. */
RK_API int rk_gpt_get(const struct rk_machine *m, uint64_t pa, enum rk_pas *out);
/* DRAM layout. */
RK_API unsigned int rk_machine_nbanks(const struct rk_machine *m);
RK_API struct rk_dram_bank rk_machine_bank(const struct rk_machine *m, unsigned int i);
RK_API uint64_t rk_machine_dram_granules(const struct rk_machine *m);
RK_API bool rk_pa_is_dram(const struct rk_machine *m, uint64_t pa);

#ifdef __cplusplus
}
#endif
#endif
