/* SPDX-License-Identifier: MIT */
/*
 * rk_cpu: a backend-neutral interface to run one realm vCPU (a REC).
 *
 * The RMM runs realm code only through this interface; it never calls the
 * emulator directly. The only backend today is Unicorn 2.0.1 (cpu_unicorn.c),
 * one engine per vCPU.
 *
 * Model
 * -----
 * - The guest runs at EL1 in AArch64. In hooks mode (enum rk_cpu_mode) its
 *   MMU stays off, so guest VA == IPA; in stage-2 mode its own MMU may be on
 *   (stage 1 over the stage 2 rk_cpu_map() describes), faults of its
 *   stage 1 go to its own vectors, and aborts report the IPA.
 *   Guest memory is described by rk_cpu_map(): IPA ranges backed by host
 *   memory the caller owns. Every access to an IPA that is not mapped (or that
 *   violates the mapping's protection) stops the vCPU with a precise data or
 *   instruction abort exit, so the RMM can implement stage 2.
 * - A vCPU starts in EL1h with DAIF masked, PC = 0 and all GPRs 0.
 * - Synchronous exceptions that belong to the RMM or the host (SMC, HVC, WFI,
 *   aborts on unmapped IPAs, undefined instructions) become exits. SVC and BRK
 *   executed by the guest at EL1 are delivered to the guest's own VBAR_EL1
 *   vectors by the backend and never exit.
 * - Stage-2 mode only: the guest may also run at EL0 (entered by its own
 *   ERET). Every synchronous exception its EL0 takes to EL1 (SVC, BRK,
 *   UNDEF, also SMC and HVC, which are UNDEFINED at EL0, stage-1 and
 *   alignment aborts) is delivered to VBAR_EL1 + 0x400 with the
 *   architectural ESR_EL1, FAR_EL1, ELR_EL1 and SPSR_EL1, never an exit:
 *   EL0 never reaches the SMC handler. Stage-2 faults, trapped WFI, time
 *   slices and kicks at EL0 are exits as at EL1, and the next run resumes at
 *   EL0. rk_cpu_inject_sync() also works at EL0.
 * - Stage-2 mode only: MRS/MSR accesses the engine refuses (a register it
 *   does not implement, or one the current EL may not access) and accesses to
 *   registers the caller traps are offered to the layer above ("System
 *   registers" below); the rest are the engine's.
 * - WFI always exits (trapped); WFE is a no-op. DC ZVA is prohibited
 *   (DCZID_EL0.DZP reads 1) and exits as UNDEF. There is no generic timer.
 *
 * Threads
 * -------
 * One rk_cpu is driven by one thread at a time: every function except
 * rk_cpu_kick() must not be called while rk_cpu_run() is in progress on
 * another thread (rk_cpu_run() itself returns -EBUSY then). rk_cpu_kick() may
 * be called from any thread at any time between create and destroy.
 * Different rk_cpu objects are independent and run in parallel.
 *
 * Errors
 * ------
 * Functions that act return 0 or a negative errno; they never abort on bad
 * input. Predicates return bool.
 */
#ifndef RK_REALMKIT_CPU_H
#define RK_REALMKIT_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "realmkit/arch/esr.h"
#include "realmkit/arch/sysreg.h"
#include "realmkit/cpu_model.h"
#include "realmkit/export.h"

struct rk_cpu;

/* ------------------------------------------------------------------------ */
/* Lifecycle                                                                */
/* ------------------------------------------------------------------------ */

/*
 * How the engine implements stage 2 (see cpu_unicorn.c):
 * - RK_CPU_MODE_HOOKS: every rk_cpu_map() range is an engine memory region
 *   at its IPA and memory hooks make aborts precise (every access is watched);
 * - RK_CPU_MODE_STAGE2: the engine runs the guest at NS EL1 under
 *   HCR_EL2.VM and walks a shadow stage 2 (VMSAv8-64 descriptors) that the
 *   backend builds from rk_cpu_map(); host memory is the engine's physical
 *   memory (rk_cpu_add_ram); no memory hook on loads and stores.
 * Both give the same exits for an MMU-off guest.
 */
enum rk_cpu_mode {
	RK_CPU_MODE_HOOKS = 0,
	RK_CPU_MODE_STAGE2 = 1,
};
/*
 * The mode of vCPUs created from now on (process-wide). Until the first call,
 * the environment variable RK_CPU_MODE ("hooks" or "stage2") decides, else
 * RK_CPU_MODE_STAGE2 (another value: a message on stderr, then stage2).
 */
RK_API void rk_cpu_set_default_mode(enum rk_cpu_mode mode);
RK_API enum rk_cpu_mode rk_cpu_default_mode(void);

/*
 * Create a vCPU in its reset state (EL1h, DAIF masked, PC 0, no memory).
 * -ENOTSUP: the engine failed its start-up calibration (stage-2 mode: this
 * Unicorn build's internals differ from what the backend relies on; a
 * message on stderr says what).
 */
RK_API int rk_cpu_create(struct rk_cpu **out);
/* The mode cpu was created in. */
RK_API enum rk_cpu_mode rk_cpu_mode(const struct rk_cpu *cpu);
/* Destroy a vCPU (NULL is allowed). Must not race with rk_cpu_run/kick. */
RK_API void rk_cpu_destroy(struct rk_cpu *cpu);

/*
 * Park an idle vCPU: give back its engine (translated code, TLBs, engine
 * memory: ~3.5 MiB) and its watchdog thread, keeping only its architectural
 * state (~13 KiB) and its memory map. The next function that needs the
 * engine (rk_cpu_run, register access, injection, completion) opens a new
 * engine in exactly that state, at the cost of an engine open (~0.5 ms) and
 * translating the guest's code again; the guest cannot tell. A host that
 * keeps many idle vCPUs parks them so that they cost nothing while idle.
 * Kicks, the memory map (rk_cpu_map/unmap) and stats work while parked.
 * Returns 0 (also if already parked), -EINVAL, -EBUSY (running, or in the
 * SMC handler), -ENOMEM/-EIO (the state could not be saved; not parked).
 * A failure to open the engine again later is reported by the function that
 * needed it: -EIO, or an RK_CPU_EXIT_ERROR exit from rk_cpu_run.
 */
RK_API int rk_cpu_park(struct rk_cpu *cpu);
/* True if cpu is parked (no engine). */
RK_API bool rk_cpu_is_parked(const struct rk_cpu *cpu);

/* ------------------------------------------------------------------------ */
/* Guest physical (IPA) memory                                              */
/* ------------------------------------------------------------------------ */

#define RK_CPU_PAGE_SIZE 4096u

/* Protection bits for rk_cpu_map(). */
#define RK_CPU_PROT_READ 1u
#define RK_CPU_PROT_WRITE 2u
#define RK_CPU_PROT_EXEC 4u
#define RK_CPU_PROT_ALL (RK_CPU_PROT_READ | RK_CPU_PROT_WRITE | RK_CPU_PROT_EXEC)

/*
 * Maximum number of (coalesced) regions per vCPU. Unicorn 2.0.1 aborts the
 * process on its 1024th region and map/unmap cost grows with the count, so
 * rk_cpu refuses to go beyond this with -ENOSPC.
 */
#define RK_CPU_MAX_REGIONS 512u

/*
 * Guest memory must lie below 2^RK_CPU_PA_BITS: the CPU model's physical
 * address range (ID_AA64MMFR0_EL1.PARange of Unicorn 2.0.1's Cortex-A72 and
 * "max" models). With the guest's MMU off an access to memory mapped above it
 * takes an address size fault the backend cannot report precisely, so
 * rk_cpu_map() refuses such mappings with -ERANGE. Accesses to unmapped IPAs
 * above it are still exact aborts (emulated MMIO works there).
 */
#define RK_CPU_PA_BITS RK_MACHINE_CPU_PA_BITS

/*
 * Map [ipa, ipa + size) to host memory [host, host + size) with protection
 * prot (RK_CPU_PROT_*). ipa and size must be multiples of RK_CPU_PAGE_SIZE,
 * size > 0, and the range must not overlap an existing mapping. The host
 * memory must stay valid until it is unmapped or the vCPU is destroyed.
 *
 * A mapping adjacent to an existing one with the same protection and
 * contiguous host memory is merged into that region, so a realm whose memory
 * is one host buffer costs one region however it is mapped. Changes are
 * applied to the engine at the next rk_cpu_run(), so many small maps between
 * two runs cost one engine mapping.
 *
 * Returns 0, -EINVAL (alignment, size, prot, NULL host, wrap; stage-2 mode:
 * also a host pointer that is not page aligned), -ERANGE (the range reaches
 * 2^RK_CPU_PA_BITS), -EEXIST (overlap), -ENOSPC (more than RK_CPU_MAX_REGIONS
 * regions; stage-2 mode: more than RK_CPU_MAX_RAM RAM windows), -EBUSY
 * (running).
 */
RK_API int rk_cpu_map(struct rk_cpu *cpu, uint64_t ipa, uint64_t size, uint8_t *host, unsigned prot);

/*
 * Unmap every mapped page in [ipa, ipa + size) (unmapped pages in the range
 * are ignored). May split a region in two. Returns 0, -EINVAL, -ENOSPC (the
 * split would exceed RK_CPU_MAX_REGIONS; nothing changed), -EBUSY.
 */
RK_API int rk_cpu_unmap(struct rk_cpu *cpu, uint64_t ipa, uint64_t size);

/*
 * Stage-2 mode: [host, host + size) is physical memory that later
 * rk_cpu_map() calls point into (e.g. a DRAM bank): the engine sees it as
 * one region of its physical address space, so mapping any part of it costs
 * no engine region. Without it, every host range mapped that is not inside
 * such memory becomes a region of its own (at most RK_CPU_MAX_RAM, then
 * -ENOSPC). A no-op (0) in hooks mode. Page aligned; -EINVAL, -ENOSPC,
 * -ERANGE (the engine's physical address space is full), -EBUSY.
 */
#define RK_CPU_MAX_RAM 64u
RK_API int rk_cpu_add_ram(struct rk_cpu *cpu, uint8_t *host, uint64_t size);

/* True if every byte of [ipa, ipa + size) is mapped (size 0: false). */
RK_API bool rk_cpu_is_mapped(const struct rk_cpu *cpu, uint64_t ipa, uint64_t size);

/*
 * Translated code. The engine translates guest code into a code buffer that
 * it only empties when full (Unicorn 2.0.1: 1 GiB per vCPU, touched page by
 * page; emptying it in the middle of a run can crash the process). Code is
 * translated again after every change of the memory map around it, and an
 * instruction fetch that faults costs a translation too, so a guest that
 * changes its stage 2 or takes aborts in a loop fills it. rk_cpu_run()
 * therefore gives up all translated code, before running, once the
 * translations reach RK_CPU_CODE_BUDGET bytes (the vCPU moves to a fresh
 * engine in the same state: see cpu_unicorn.c): the engine's code memory
 * stays within the budget plus what one run translates. Counted in
 * rk_cpu_stats.code_flushes.
 */
#define RK_CPU_CODE_BUDGET (32ull << 20)
/*
 * The budget of vCPUs created from now on (0: RK_CPU_CODE_BUDGET; rounded up
 * to a multiple of 2 MiB). For tests that want to reach it quickly;
 * process-wide.
 */
RK_API void rk_cpu_set_code_budget(uint64_t bytes);

/*
 * Memory in [ipa, ipa + size) was written behind the engine's back (through
 * the host pointer given to rk_cpu_map, as the RMM does for RSI calls that
 * write realm memory): drop whatever code the engine translated from it, so
 * the vCPU executes what is in memory now. The engine only sees its own
 * stores; without this it runs the old code for as long as its translations
 * live, and the new code from the first block it translates afresh.
 */
RK_API int rk_cpu_invalidate_code(struct rk_cpu *cpu, uint64_t ipa, uint64_t size);

/*
 * TLB maintenance across vCPUs. A broadcast TLBI the guest executes at EL1 on
 * one vCPU (the inner- and outer-shareable forms: VMALLE1IS, VAE1IS,
 * ASIDE1IS, VAAE1IS, VALE1IS, VAALE1IS, their OS and range forms) must reach
 * the TLBs of every other vCPU of the same machine; each vCPU is an engine of
 * its own, so the engine only invalidates its own TLB. The owner of the vCPUs
 * (the RMM per realm, the host per normal VM) puts them in one TLB domain:
 * such a TLBI on one of them bumps the domain's generation (in a hook, no
 * exit), and every vCPU whose generation is behind flushes its whole TLB
 * (stage 1 and 2) before its next run starts. Exact when the vCPUs of a
 * domain never run at the same instant (the TLBI completes with the DSB that
 * follows it, before any other vCPU runs again); a vCPU running concurrently
 * with the TLBI flushes at its next run only. Stage-2 mode only (in hooks mode
 * the guest's MMU is off: there is no stage-1 TLB to keep coherent).
 *
 * The same domain carries instruction-cache maintenance: each engine keeps
 * its own translated code, so code one vCPU writes is not seen by another
 * that already translated it. IC IVAU (broadcast to the PoU; EL0 too with
 * SCTLR_EL1.UCI) on one vCPU records the page of its VA (translated through
 * the vCPU's stage 1 to its IPA, which names the page for every vCPU of the
 * domain alike) in the domain's code log and bumps code_gen; every other vCPU
 * whose code_gen is behind drops the translated code of just those pages (if
 * they are in its memory map at all) before its next run starts. IC
 * IALLUIS (EL1), an IC IVAU whose VA cannot be translated, or a vCPU more
 * than RK_CPU_CODE_LOG entries behind drops all its translated code instead
 * (a fresh engine). Repeated IC IVAU of one page within one run of the
 * issuer (a line at a time) are one entry.
 *
 * The issuing vCPU's own engine: Unicorn 2.0.1 would notice the engine's own
 * stores to code it translated, on every store to any page, which makes all
 * stores slow; realmkit switches that off once per process (cpu_ucfix.c), so
 * like the CPU it models (Cortex-A72: CTR_EL0.DIC = 0) a guest that writes
 * code must clean to the point of unification and invalidate the instruction
 * cache before it runs it (DC CVAU, DSB, IC, DSB, ISB), and the issuer
 * performs that maintenance on its own engine too, in either mode, with or
 * without a domain: IC IVAU drops its translations of the line, IC IALLU or
 * IALLUIS (EL1) and an IC IVAU it cannot translate all of them (a fresh
 * engine, within the run). RK_UNICORN_FAST_STORES=0 in the environment before
 * the process's first vCPU runs keeps Unicorn's detection (and slow stores);
 * so does a failure to switch it off (one line on stderr says why).
 *
 * The caller owns the storage: zero it or rk_cpu_tlb_domain_init() it, and
 * keep it alive while any vCPU is in it (rk_cpu_destroy leaves).
 */
#define RK_CPU_CODE_LOG 16u
struct rk_cpu_tlb_domain {
	uint64_t gen;      /* broadcast TLBIs so far (atomic; read it with __atomic builtins) */
	uint64_t code_gen; /* IC IALLUIS / IC IVAU so far (atomic) */
	/* The code log, under code_lock (a spin lock: 0 free): */
	uint64_t code_all;                   /* the last code_gen that drops all code (0: none) */
	uint64_t code_page[RK_CPU_CODE_LOG]; /* IPA page of code_gen g at g % RK_CPU_CODE_LOG */
	uint32_t code_lock;
	uint32_t code_reserved;
};
RK_API void rk_cpu_tlb_domain_init(struct rk_cpu_tlb_domain *d);
/* Put cpu in domain d (NULL: in none), flushing its TLB before its next run. -EBUSY while it runs. */
RK_API int rk_cpu_set_tlb_domain(struct rk_cpu *cpu, struct rk_cpu_tlb_domain *d);

/* Counters, for tests, diagnostics and the CLI. */
struct rk_cpu_stats {
	unsigned regions;               /* coalesced regions (what the limit counts) */
	unsigned engine_regions;        /* regions currently mapped in the engine
	                              (stage-2 mode: RAM windows) */
	uint64_t engine_maps;           /* engine map operations so far */
	uint64_t engine_unmaps;         /* engine unmap operations so far */
	uint64_t engine_unmapped_pages; /* pages those unmaps covered (their cost) */
	uint64_t runs;                  /* rk_cpu_run() calls */
	uint64_t exits;                 /* exits reported by rk_cpu_run() */
	uint64_t smc_in_hook;           /* SMCs completed by the SMC handler */
	uint64_t guest_exceptions;      /* exceptions the backend delivered to the guest's vectors
					   (SVC/BRK at EL1, everything from EL0, stage-1 faults) */
	uint64_t el0_exceptions;        /* of which taken from EL0 */
	uint64_t sysreg_in_hook;        /* system register accesses the sysreg handler completed */
	uint64_t parks;                 /* rk_cpu_park() that gave an engine back */
	uint64_t wakes;                 /* engines opened again for a parked vCPU */
	uint64_t code_flushes;          /* translated code dropped to stay in the budget */
	uint64_t tlbi_broadcast;        /* broadcast TLBIs the guest executed (rk_cpu_set_tlb_domain) */
	uint64_t tlb_domain_flushes;    /* TLB flushes for another vCPU's broadcast TLBI */
	uint64_t ic_broadcast;          /* IC IALLUIS / IC IVAU the guest executed */
	uint64_t code_domain_flushes;   /* whole code drops for another vCPU's IC IALLUIS / IC IVAU */
	uint64_t code_page_drops;       /* pages whose code was dropped for another vCPU's IC IVAU */
	uint64_t ic_local_lines;        /* IC IVAU lines whose code this vCPU's own engine dropped */
	uint64_t ic_local_flushes;      /* fresh engines for this vCPU's own IC IALLU(IS), or an IC IVAU
					   whose VA it could not walk */
};
RK_API void rk_cpu_get_stats(const struct rk_cpu *cpu, struct rk_cpu_stats *out);

/* ------------------------------------------------------------------------ */
/* Registers                                                                */
/* ------------------------------------------------------------------------ */

enum rk_cpu_reg {
	RK_CPU_REG_X0 = 0, /* X0..X30 are RK_CPU_REG_X0 + n */
	RK_CPU_REG_X30 = 30,
	RK_CPU_REG_SP, /* the current stack pointer (SP_EL1 in EL1h) */
	RK_CPU_REG_PC,
	RK_CPU_REG_PSTATE, /* NZCV, DAIF, M[3:0] (EL and SPSel), as SPSR */
	RK_CPU_REG_SP_EL0,
	RK_CPU_REG_SP_EL1,
	RK_CPU_REG_ELR_EL1,
	RK_CPU_REG_SPSR_EL1,
	RK_CPU_REG_ESR_EL1,
	RK_CPU_REG_FAR_EL1,
	RK_CPU_REG_VBAR_EL1,
	RK_CPU_REG_SCTLR_EL1,
	RK_CPU_REG_MPIDR_EL1, /* what the guest reads (VMPIDR_EL2) */
	RK_CPU_REG_TPIDR_EL1,
	RK_CPU_REG_COUNT
};

#define RK_CPU_REG_X(n) ((enum rk_cpu_reg)(RK_CPU_REG_X0 + (n)))
#define RK_CPU_NUM_GPRS 31u

/*
 * Read/write one register. -EINVAL for an unknown register. Inside the SMC
 * handler (see rk_cpu_set_smc_handler) only X0..X30 may be written (-EBUSY).
 * Writing PSTATE changes flags, masks and SPSel but not the exception level:
 * M[3:2] must stay EL1 (-EINVAL otherwise).
 */
RK_API int rk_cpu_get_reg(struct rk_cpu *cpu, enum rk_cpu_reg reg, uint64_t *val);
RK_API int rk_cpu_set_reg(struct rk_cpu *cpu, enum rk_cpu_reg reg, uint64_t val);
/* X0..X30 at once (host calls, PSCI, REC entry/exit). */
RK_API int rk_cpu_get_gprs(struct rk_cpu *cpu, uint64_t x[RK_CPU_NUM_GPRS]);
RK_API int rk_cpu_set_gprs(struct rk_cpu *cpu, const uint64_t x[RK_CPU_NUM_GPRS]);
/*
 * X[first]..X[first + n - 1] at once, from or into x[0..n-1]: one engine
 * call however many registers (the SMC handler's arguments and results).
 * -EINVAL if n is 0 or the range passes X30.
 */
RK_API int rk_cpu_get_xregs(struct rk_cpu *cpu, unsigned first, unsigned n, uint64_t *x);
RK_API int rk_cpu_set_xregs(struct rk_cpu *cpu, unsigned first, unsigned n, const uint64_t *x);

/* ------------------------------------------------------------------------ */
/* Running                                                                  */
/* ------------------------------------------------------------------------ */

enum rk_cpu_exit_reason {
	RK_CPU_EXIT_NONE = 0,
	RK_CPU_EXIT_SMC,     /* pc = after the SMC; imm; X0..X30 live */
	RK_CPU_EXIT_HVC,     /* pc = after the HVC; imm */
	RK_CPU_EXIT_WFI,     /* pc = the WFI; rk_cpu_skip_insn() completes it */
	RK_CPU_EXIT_DABT,    /* pc = the faulting load/store; mem.* */
	RK_CPU_EXIT_IABT,    /* pc = mem.addr = the address fetched */
	RK_CPU_EXIT_UNDEF,   /* pc = the undefined instruction; insn */
	RK_CPU_EXIT_TIMEOUT, /* the time slice ended; pc = next instruction */
	RK_CPU_EXIT_KICK,    /* rk_cpu_kick(); pc = next instruction */
	RK_CPU_EXIT_ERROR,   /* the engine failed or the guest did something
	                        the backend cannot model; error says what */
	RK_CPU_EXIT_SYSREG,  /* the sysreg handler completed an access and asked
	                        to stop (rk_cpu_sysreg.stop); pc = next instruction;
	                        sysreg = the access as completed */
};

/* A data or instruction abort. */
struct rk_cpu_mem_access {
	uint64_t addr; /* faulting IPA (guest VA == IPA) */
	/*
	 * The virtual address the guest accessed or fetched (FAR_EL2): what
	 * an exception delivered for this access reports in FAR_EL1. The
	 * same as addr with the guest's MMU off.
	 */
	uint64_t va;
	/*
	 * A stage-2 fault on the guest's stage-1 translation table walk
	 * (ESR_EL2.S1PTW; stage-2 mode, guest MMU on): addr is the IPA of the
	 * descriptor the walk read (its page), va the address being
	 * translated; the walk only reads (also for an instruction fetch or
	 * a store), and isv is false.
	 */
	bool s1ptw;
	uint64_t value; /* store data (is_write), masked to size */
	uint32_t size;  /* access size in bytes */
	bool is_write;  /* WnR */
	bool is_perm;   /* mapped, but the access violates the protection */
	/*
	 * Syndrome, as the hardware reports it in ESR_EL2.ISS: valid (isv) only
	 * for a load or store of a single general-purpose register without
	 * writeback (LDR/STR/LDUR/STUR/LDTR/STTR, register offset, literal,
	 * LDAR/STLR and their B/H/SB/SH/SW forms). Pairs, SIMD/FP, exclusives,
	 * atomics and writeback forms have isv = false.
	 */
	bool isv;
	uint8_t srt; /* Rt; 31 = XZR/WZR */
	bool sse;    /* the load sign-extends */
	bool sf;     /* Rt is a 64-bit X register */
	bool ar;     /* acquire/release */
};

/*
 * An MRS or MSR of a system register (op0 2 or 3), as the layer above sees it
 * (the sysreg handler, or an UNDEF exit with valid set).
 */
struct rk_cpu_sysreg {
	bool valid;   /* UNDEF exit: the undefined instruction is this access */
	bool is_read; /* MRS (else MSR) */
	bool known;   /* the engine implements the register (it may still refuse
			 the access at this EL) */
	uint8_t op0, op1, crn, crm, op2;
	uint8_t rt; /* the transfer register; 31 = XZR */
	uint8_t el; /* the EL that executed it: 0 or 1 */
	/*
	 * Set by a sysreg handler that completes the access (returns true): end
	 * the run right after it, with RK_CPU_EXIT_SYSREG (the access may have
	 * changed what the caller does between runs: the virtual IRQ line, or
	 * something to report). Honoured for an access the engine refuses
	 * (known false, e.g. GICv3 ICC_*); ignored for a trapped register the
	 * engine implements.
	 */
	bool stop;
	/*
	 * MSR: the value written. MRS: the engine's own value of a register it
	 * implements (else 0); the handler leaves the result here.
	 */
	uint64_t value;
};

/* A system register encoding, for rk_cpu_trap_sysreg() (op0 2 or 3). */
#define RK_CPU_SYSREG(op0, op1, crn, crm, op2)                                                         \
	((uint32_t)(op0) << 14 | (uint32_t)(op1) << 11 | (uint32_t)(crn) << 7 | (uint32_t)(crm) << 3 | \
	 (uint32_t)(op2))
#define RK_CPU_SYSREG_OF(acc) RK_CPU_SYSREG((acc)->op0, (acc)->op1, (acc)->crn, (acc)->crm, (acc)->op2)

struct rk_cpu_exit {
	enum rk_cpu_exit_reason reason;
	uint64_t pc;                  /* guest PC now (see the reasons) */
	uint32_t insn;                /* SMC/HVC/WFI/UNDEF/DABT: the instruction (0 if unknown) */
	uint16_t imm;                 /* SMC/HVC: the immediate */
	struct rk_cpu_mem_access mem; /* DABT; IABT uses addr, va, is_perm and s1ptw */
	struct rk_cpu_sysreg sysreg;  /* UNDEF: a refused MRS/MSR at EL1 (valid set; hooks mode:
					 decoded from the instruction); SYSREG: the access */
	int error;                    /* ERROR: negative errno (-EIO engine, -ENOTSUP guest) */
};

/*
 * Run the vCPU until it exits, for about timeout_us microseconds of wall time
 * at most (0: no limit). A time slice or kick ends at the guest's next memory
 * access after which it can resume exactly, or at the start of its next
 * translated block, whichever comes first (within microseconds); only hooks
 * on the vCPU's own thread stop it, see cpu_unicorn.c for why. Fills *exit and returns 0 for every exit, including
 * RK_CPU_EXIT_ERROR. Returns -EINVAL (NULL), -EBUSY (already running on
 * another thread, or called from the SMC handler).
 *
 * Pending memory changes are applied first (a failure there is an ERROR exit).
 * A kick that arrived since the last run makes this return RK_CPU_EXIT_KICK
 * at once.
 */
RK_API int rk_cpu_run(struct rk_cpu *cpu, uint64_t timeout_us, struct rk_cpu_exit *exit);

/*
 * Make the current run of cpu return RK_CPU_EXIT_KICK soon (see rk_cpu_run),
 * or the next run return it at once if none is in progress. Thread-safe;
 * async-signal-unsafe.
 */
RK_API void rk_cpu_kick(struct rk_cpu *cpu);

/* The name of an exit reason ("smc", "dabt", ...). */
RK_API const char *rk_cpu_exit_reason_name(enum rk_cpu_exit_reason reason);

/*
 * Optional fast path for SMCs: fn is called inside rk_cpu_run() for every SMC
 * the guest executes, with PC already past the SMC. It may read any register
 * and write X0..X30. If it returns true the SMC is complete and the guest
 * continues without an exit (e.g. RSI calls the RMM answers by itself); if it
 * returns false the run exits with RK_CPU_EXIT_SMC. fn must not call
 * rk_cpu_run, map/unmap or inject. ctx is a type of the caller's choosing.
 * fn = NULL removes the handler.
 */
struct rk_cpu_smc_ctx;
typedef bool (*rk_cpu_smc_fn)(struct rk_cpu *cpu, uint16_t imm, struct rk_cpu_smc_ctx *ctx);
RK_API int rk_cpu_set_smc_handler(struct rk_cpu *cpu, rk_cpu_smc_fn fn, struct rk_cpu_smc_ctx *ctx);
/*
 * The same for a handler that does not use the SMC immediate (SMCCC calls
 * carry everything in registers): it is called with imm = 0 before the
 * instruction is fetched and decoded, which makes an SMC it completes cheaper.
 */
RK_API int rk_cpu_set_smc_handler_noimm(struct rk_cpu *cpu, rk_cpu_smc_fn fn, struct rk_cpu_smc_ctx *ctx);

/* ------------------------------------------------------------------------ */
/* System registers (stage-2 mode)                                          */
/* ------------------------------------------------------------------------ */

/*
 * The engine implements a set of system registers (its CPU model's). The
 * layer above (the RMM) sees:
 * - every MRS/MSR the engine refuses: a register it does not implement
 *   (e.g. GICv3 ICC_*, IMPLEMENTATION DEFINED ones) or one the current EL
 *   may not access;
 * - every MRS/MSR of a register it traps with rk_cpu_trap_sysreg(), at EL0
 *   and EL1 (the handler checks acc->el: the engine's own EL checks do not
 *   apply to a completed access).
 * Each is first offered to the sysreg handler, inside rk_cpu_run(): if it
 * returns true the access is complete (a read's result in acc->value goes to
 * X[rt], XZR discards it) and the guest goes on at the next instruction. If
 * it returns false (or there is none): a trapped register the engine
 * implements is then accessed as the engine would; a refused access at EL1
 * exits as RK_CPU_EXIT_UNDEF with exit.sysreg valid and pc on the
 * instruction (complete it with rk_cpu_complete_sysreg_read() or
 * rk_cpu_skip_insn(), or rk_cpu_inject_undef()); at EL0 the guest's EL1
 * takes the UNDEF (ESR EC 0), as for any EL0 UNDEF. A handler that completes
 * a refused access may also end the run there (acc->stop: an
 * RK_CPU_EXIT_SYSREG exit, PC past the instruction), e.g. when the access
 * changed the virtual IRQ line (rk_cpu_set_virq() cannot be called from the
 * handler) or traps to the layer above. fn must not call rk_cpu functions
 * other than the register getters. ctx is a type of the caller's choosing;
 * fn = NULL removes the handler.
 * Hooks mode has none of this: a refused access is a plain UNDEF exit (with
 * exit.sysreg decoded from the instruction).
 */
struct rk_cpu_sysreg_ctx;
typedef bool (*rk_cpu_sysreg_fn)(struct rk_cpu *cpu, struct rk_cpu_sysreg *acc,
				 struct rk_cpu_sysreg_ctx *ctx);
RK_API int rk_cpu_set_sysreg_handler(struct rk_cpu *cpu, rk_cpu_sysreg_fn fn, struct rk_cpu_sysreg_ctx *ctx);
/*
 * Trap (trap = true) or stop trapping MRS/MSR of the register enc
 * (RK_CPU_SYSREG(op0, op1, CRn, CRm, op2), op0 2 or 3). Applies from the next
 * run. -EINVAL (encoding), -ENOTSUP (hooks mode), -ENOMEM, -EBUSY.
 */
RK_API int rk_cpu_trap_sysreg(struct rk_cpu *cpu, uint32_t enc, bool trap);

/* ------------------------------------------------------------------------ */
/* Completing exits                                                         */
/* ------------------------------------------------------------------------ */

/*
 * Complete the refused MRS of the last exit (UNDEF with sysreg.valid and
 * is_read): X[sysreg.rt] = value (not if 31), PC += 4. -EINVAL otherwise.
 * An MSR is completed by rk_cpu_skip_insn().
 */
RK_API int rk_cpu_complete_sysreg_read(struct rk_cpu *cpu, uint64_t value);

/* PC += 4 (after WFI, an emulated MMIO store, an emulated sysreg...). */
RK_API int rk_cpu_skip_insn(struct rk_cpu *cpu);

/*
 * Complete the emulatable MMIO load of the last exit: value is masked to the
 * access size, sign-extended if mem.sse, truncated to 32 bits unless mem.sf,
 * written to X[mem.srt] (not if 31) and PC advances by 4. -EINVAL if the last
 * exit was not a DABT load with isv, or it was already completed.
 */
RK_API int rk_cpu_complete_mmio_read(struct rk_cpu *cpu, uint64_t value);
/* Complete the emulatable MMIO store of the last exit: PC += 4. */
RK_API int rk_cpu_complete_mmio_write(struct rk_cpu *cpu);

/* ------------------------------------------------------------------------ */
/* Exceptions and interrupts                                                */
/* ------------------------------------------------------------------------ */

/*
 * The data-abort ISS bits the hardware would report for this access: ISV,
 * SAS, SSE, SRT, SF and AR when a->isv, and WnR always. No EC, IL or DFSC.
 */
RK_API uint64_t rk_cpu_dabt_iss(const struct rk_cpu_mem_access *a);

/*
 * Take a synchronous exception to the guest's EL1, as the hardware would:
 * ELR_EL1 = PC, SPSR_EL1 = PSTATE, ESR_EL1 = esr, FAR_EL1 = far, PSTATE =
 * EL1h with DAIF masked, PC = VBAR_EL1 + 0x200 (from EL1h) or + 0x000 (from
 * EL1t), or + 0x400 from EL0 (stage-2 mode). After a DABT/UNDEF exit PC is
 * the faulting instruction, as an injected SEA or UNDEF needs; after an HVC
 * exit set PC back by 4 first. -ENOTSUP if the vCPU is at EL0 in hooks mode
 * (an EL change Unicorn 2.0.1 cannot make from outside); -EIO if the engine
 * failed to take the exception from EL0.
 */
RK_API int rk_cpu_inject_sync(struct rk_cpu *cpu, uint64_t esr, uint64_t far);
/* inject_sync with ESR = EC 0 (unknown reason), IL = 1: an UNDEF. */
RK_API int rk_cpu_inject_undef(struct rk_cpu *cpu);

/*
 * Assert or deassert the virtual IRQ line (HCR_EL2.VI). While asserted and
 * PSTATE.I is clear the guest takes an IRQ at VBAR_EL1 + 0x280 (from EL1h).
 */
RK_API int rk_cpu_set_virq(struct rk_cpu *cpu, bool pending);

#endif /* RK_REALMKIT_CPU_H */
