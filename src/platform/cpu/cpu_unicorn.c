/* SPDX-License-Identifier: MIT */
/*
 * rk_cpu on Unicorn 2.0.1 (Debian 12 libunicorn-dev). See cpu.h for the
 * interface and /work/shared/reference/unicorn-2.0.1.md for the engine facts
 * this relies on.
 *
 * Design notes
 * ------------
 * One engine per vCPU: switching vCPUs on one engine sees stale translations.
 *
 * Two modes (rk_cpu_mode). What follows up to "Stage-2 mode" describes hooks
 * mode. Stage-2 mode (docs/architecture.md, "Two-stage translation") keeps
 * the region bookkeeping, the watchdog, parking and the code budget, but maps
 * no region per rk_cpu_map(): it writes a shadow stage 2 (cpu_s2tt.c) the
 * engine walks itself, installs no memory hook and no block hook, and takes
 * aborts as exceptions (s2_abort) whose syndrome it reads from the context
 * blob at the offset calibrate() found. Its stops are plain uc_emu_stop()
 * calls from any thread (the watchdog, rk_cpu_kick), made exact by turning
 * off the engine's exit checks after loads and stores (stop_calibrate_locked)
 * so that only the one at each block start (and exception boundaries)
 * remains; the watchdog issues a stop again until the run ends, because
 * uc_emu_start() clears a stop that arrives before it runs.
 *
 * Precise data aborts. In Unicorn 2.0.1 the PC seen by an unmapped-memory
 * hook is the start of the translated block, not the faulting instruction;
 * the registers are already those of the faulting instruction, so resuming at
 * the block start would re-execute earlier instructions. A UC_HOOK_MEM_WRITE
 * hook installed before anything is translated makes the translator store the
 * exact PC before every load and store (translate-a64.c disas_ldst checks
 * HOOK_EXISTS_BOUNDED(MEM_READ or MEM_WRITE, pc)); the hook also serves the
 * stops below. So in the fault hook PC is the faulting instruction: we read
 * it, decode it (cpu_decode.c) and stop by returning false, which longjmps out
 * before the instruction writes anything. Cost, measured by bench/bench_cpu.c:
 * any memory hook sends every load through the slow path (loads about 8x
 * slower); stores always take the slow path in 2.0.1, so they only pay the
 * callback; register-only code is unaffected. We chose exactness over load
 * speed: decoding forward from the block start cannot tell apart, e.g., two
 * post-indexed stores in one block (both recompute to the fault address).
 * (Upstream Unicorn 2.1 restores the exact PC before calling unmapped hooks
 * and reworked the exit checks; a backend for it would not need this.)
 *
 * WFI is trapped with HCR_EL2.TWI so that it arrives as an UNDEF exception
 * with PC on the WFI (QEMU's helper_wfi), which we recognise by its encoding.
 * WFE is a yield in 2.0.1 and never traps (HCR_EL2.TWE is ignored).
 *
 * SVC and BRK at EL1 go to the guest's VBAR_EL1 (built in C, as Unicorn never
 * vectors synchronous exceptions); no exit.
 *
 * EL0 (stage-2 mode). Unicorn hands every synchronous exception to the
 * interrupt hook and never takes it itself, and register writes cannot
 * change the EL code runs at, so an exception from EL0 to EL1 cannot be built
 * in C like an EL1 -> EL1 one. The engine does take interrupts itself, so
 * s2_exception() turns each exception from EL0 that targets EL1 (the
 * engine's own syndrome says so) into a virtual FIQ (el0_enter: ESR_EL1 and
 * FAR_EL1 set, VBAR_EL1 lowered by 0x100 so that the FIQ-from-lower-EL
 * vector is the synchronous one, HCR_EL2.FMO|VF, VI held back, PSTATE.F
 * cleared if EL0 had it set) and requests a stop. The engine takes the FIQ
 * as soon as the hook returns (ELR_EL1, SPSR_EL1, PSTATE, SP_EL1 and the
 * translation regime as the hardware sets them) and stops before it
 * translates the vector's first block: cpu_handle_interrupt() looks at the
 * exit request right after taking an interrupt. el0_finish() then puts
 * VBAR_EL1 and HCR_EL2 back (and F into SPSR_EL1) and the run goes on. No
 * block hook is involved (the reference's probe restored them from a block
 * hook at the vector; a bounded one would have to follow every VBAR_EL1 write
 * and drop the vector's translations, which Unicorn can only do reliably by
 * flushing all code), and nothing of the guest runs with the lowered VBAR.
 * An exception injected from outside while the vCPU is at EL0
 * (rk_cpu_inject_sync: the RMM's SEA, an UNDEF) takes the same path from a
 * fault forced at RK_S2_FORCE_VA (el0_inject). SMC and HVC are UNDEFINED at
 * EL0 (the translator raises UNDEF for them at EL0), so EL0 never reaches
 * the SMC handler. Stage-2 faults, trapped WFI, stops and parking at EL0 need
 * nothing special: exits keep the EL, and a run resumes where it stopped.
 *
 * System registers (stage-2 mode). UC_HOOK_INSN hooks on MRS and MSR (op0 2
 * and 3; not on loads and stores) see every access before the engine checks
 * it. A register the engine does not implement (GICv3 ICC_* without a GIC,
 * IMPLEMENTATION DEFINED ones) must not be skipped by the hook (returning 1
 * re-executes the instruction forever): the hook only notes the access, the
 * engine raises UNDEF at that exact PC, and s2_exception() recognises the
 * refusal (syndrome EC 0 at the noted PC, with no exception in between) and
 * offers it to the sysreg handler, else exits (EL1) or gives the guest its
 * UNDEF (EL0). Registers the caller traps (rk_cpu_trap_sysreg) and the engine
 * implements are offered in the hook itself, with the engine's value; if the
 * handler completes the access the hook returns 1 (skipped). A caveat: a
 * refusal is matched by PC, and the note is cleared by every exception and
 * run; code replaced at the very VA of an MRS without an exception in between
 * could be taken for that MRS.
 *
 * Broadcast TLB maintenance (stage-2 mode). A UC_HOOK_INSN hook on SYS
 * (op0 1 only: DC, IC, AT, TLBI; the translator calls it before the access
 * checks, with the encoding and Xt) sees every TLBI; it returns 0, so the
 * engine still performs it on its own TLB. For a broadcast form at EL1 it
 * bumps the TLB domain's generation (rk_cpu_set_tlb_domain), and every other
 * vCPU of the domain sees the new generation when its next run starts
 * (tlb_domain_check, from s2_sync) and changes VMID, which flushes its whole
 * TLB. No exit, no hook on other instructions. IC IVAU logs the IPA page
 * behind its VA (the guest's stage 1 walked in software) in the domain's
 * code log with a new code generation, and every other vCPU drops the
 * translated code of just the logged pages (its memory map from IPA to host
 * page, then by engine PA, s2_drop_code) before its next run
 * (code_domain_check); IC IALLUIS, an
 * IC IVAU whose VA cannot be walked, or a vCPU more than RK_CPU_CODE_LOG
 * entries behind moves that vCPU to a fresh engine instead (all its code).
 *
 * Stores and self-modifying code (both modes). Unicorn 2.0.1 sends every
 * store through its slow path to notice stores to translated code; realmkit
 * turns that off once per process (cpu_ucfix.c: patched, proven, or left as
 * it is with a message), so each vCPU applies its own IC ops to its own engine
 * (ic_op, from the SYS hook, which hooks mode installs for that alone): IC
 * IVAU drops the translations overlapping its line (rk_ucfix_code_written on
 * the host address of the line), IC IALLU(IS) or an IC IVAU that cannot be
 * walked drops all of them (ic_drop_own: the run stops at its next exact
 * point and goes on in a fresh engine, renew_in_run, within the same time
 * slice).
 *
 * Timeouts and kicks must stop the vCPU at a point where it can resume
 * exactly. In hooks mode, a plain uc_emu_stop() from another thread does not: Unicorn 2.0.1
 * checks for an exit request at the start of every translated block AND right
 * after every memory access (tcg-op.c check_exit_request); leaving a block
 * after an access makes cpu_tb_exec() reset PC to the start of the block
 * while the registers and memory already reflect the instructions before the
 * access, so the guest re-executes them on resume (seen as duplicated or
 * skipped stores, a stale x30, a runaway memset). So nothing ever calls
 * uc_emu_stop() from another thread: a stop request only sets want_stop, and
 * the vCPU thread stops itself at its next exact point:
 *  - a block hook (UC_HOOK_BLOCK, called before the block's first
 *    instruction and before the engine's exit check at the block start) stops
 *    there, PC being the block start; this is the stop point of code that
 *    makes no memory access;
 *  - the memory hooks (stores: UC_HOOK_MEM_WRITE, before the access; loads:
 *    UC_HOOK_MEM_READ_AFTER) stop at the first access after which the
 *    instruction can be resumed exactly (rk_cpu_resume_after_access: run it
 *    again, or finish a load whose Rt is also its base), and record that
 *    fix-up; the run applies it after uc_emu_start() returns;
 *  - an SMC completed in the SMC handler stops there (an exception boundary).
 * A stop is thus only ever requested from a hook on the vCPU thread, and the
 * exit check that takes it belongs to the point the hook knows. An earlier
 * design let the watchdog uc_emu_stop() code that had made no memory access
 * for 2 ms of CPU time; a store whose hook ran before the request and that
 * then spent that long inside the engine (it allocates there; under ASan a
 * free() drains the quarantine for tens of ms) was cut at its exit check with
 * nothing recorded (test_cpu_unicorn's test_stall_in_store). The block hook
 * costs a helper call per executed block (bench/bench_cpu.c: integer loop).
 * An architecturally UNPREDICTABLE form such as LDR X0, [X0], #8 is never a
 * stop point of its own; the block hook after it is. want_stop stays set
 * until the run ends, so a stop that uc_emu_start() discards when it starts
 * is taken again at the first block.
 * uc_emu_start()'s own timeout is not used: it creates and joins a thread per
 * call that polls every 2 us, and stops asynchronously. Each vCPU has one
 * watchdog thread instead, armed with a deadline per run and signalled only
 * when the new deadline is earlier than its current wake-up; at the deadline
 * it sets want_stop and sleeps until the next run or kick.
 *
 * DC ZVA writes memory from a helper with a stale PC, so HCR_EL2.TDZ traps it
 * (an UNDEF exit; DCZID_EL0.DZP reads 1 so well-behaved guests do not use it).
 *
 * Memory. rk_cpu keeps the coalesced regions the caller asked for and applies
 * them to the engine lazily, at the start of rk_cpu_run(). Unmapping in
 * Unicorn costs ~140 ns per page (TLB flush per page), so growing a large
 * engine region one page at a time by unmap + remap would be quadratic.
 * Instead each coalesced region is kept in the engine as a few pieces of
 * balanced sizes (two adjacent pieces merge when neither is more than twice
 * the other, like a binary counter): a region grown page by page costs
 * O(log n) pieces and each byte is remapped O(log n) times. If the pieces
 * would exceed RK_CPU_ENGINE_MAX_PIECES, every region is mapped as one piece.
 * Before unmapping a piece its translated code is dropped
 * (uc_ctl_remove_cache), so new memory at the same IPA never runs stale code.
 *
 * Translated code (RK_CPU_CODE_BUDGET, cpu.h). Unicorn 2.0.1 translates into a
 * 1 GiB code buffer per engine (an anonymous rwx mapping, touched page by
 * page) and never frees a translation before the buffer is full: remapped
 * memory is translated again (remove_cache invalidates, it does not free), and
 * so is a run that starts at an unmapped PC (a temporary block). When the
 * buffer fills inside a run, tb_gen_code() flushes it, and 2.0.1 can then
 * crash in tb_set_jmp_target() (upstream issues 1702, 2048); its flush
 * (tcg_region_assign) also memsets all 1 GiB, so even a flush between runs
 * (UC_CTL_TB_FLUSH) would make every page resident. 2.0.1 has no control for
 * the buffer's size (UC_CTL_TCG_BUFFER_SIZE came later). So: when an engine
 * is opened we find its buffer (the one new large rwx mapping in
 * /proc/self/maps; engines are opened and closed under one lock), and before
 * every RK_CPU_CODE_CHECK_RUNS-th run one mincore() looks at the buffer's page
 * at the budget (a mincore() on this mapping costs ~1.5 us, ten times an
 * exit): code is allocated upwards from the buffer's start, so once that page
 * is resident the translations have reached the budget. Then the vCPU is
 * parked (its state saved, the engine closed, which unmaps its buffer) and
 * woken at once in a fresh engine (context, HCR_EL2, hooks; its memory
 * applied again): the same path as rk_cpu_park() and the next use of a
 * parked vCPU. The budget is a multiple of
 * 2 MiB because the buffer may be backed by transparent huge pages. If the
 * buffer cannot be found, a fresh engine every RK_CPU_CODE_FALLBACK_RUNS runs.
 * One run still translates without limit (only a guest rewriting its own code
 * for a whole time slice could fill 1 GiB in one).
 */
#include "realmkit/cpu.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/mman.h>
#include <time.h>

#include <unicorn/unicorn.h>

#include "cpu/cpu_decode.h"
#include "cpu/cpu_s2tt.h"
#include "cpu/cpu_ucfix.h"
#include "cpu/cpu_unicorn.h"
#include "realmkit/cpu_model.h"

/* Hard cap on engine regions: well below Unicorn's fatal 1024th. */
#define RK_CPU_ENGINE_MAX_PIECES 768u
/* Unicorn's code buffer: an anonymous rwx mapping of about 1 GiB per engine. */
#define RK_CPU_CODE_BUF_MIN (256ull << 20)
#define RK_CPU_CODE_ALIGN (2ull << 20) /* the budget's granule (a huge page) */
#define RK_CPU_CODE_BUFS_MAX 1024u
/* The code budget is checked every this many runs (a mincore() costs ~1.5 us). */
#define RK_CPU_CODE_CHECK_RUNS 64u
/* Without a code buffer to watch: a fresh engine every this many runs. */
#define RK_CPU_CODE_FALLBACK_RUNS 65536u

/* The mode of vCPUs created from now on (-1: not decided yet). */
static _Atomic int default_mode = -1;

void rk_cpu_set_default_mode(enum rk_cpu_mode mode)
{
	atomic_store(&default_mode, mode == RK_CPU_MODE_STAGE2 ? RK_CPU_MODE_STAGE2 : RK_CPU_MODE_HOOKS);
}

enum rk_cpu_mode rk_cpu_default_mode(void)
{
	int m = atomic_load(&default_mode);

	if (m < 0) {
		const char *env = getenv("RK_CPU_MODE");
		int want = RK_CPU_MODE_STAGE2;

		if (env && !strcmp(env, "hooks"))
			want = RK_CPU_MODE_HOOKS;
		else if (env && *env && strcmp(env, "stage2"))
			fprintf(stderr,
				"realmkit: RK_CPU_MODE=%s is neither \"stage2\" nor \"hooks\": using stage2\n",
				env);

		atomic_compare_exchange_strong(&default_mode, &m, want);
		m = atomic_load(&default_mode);
	}
	return (enum rk_cpu_mode)m;
}

/* Tests: a pause before every uc_emu_start() of a run (rk_cpu_unicorn_start_delay_test). */
static _Atomic uint64_t start_delay_ns;

void rk_cpu_unicorn_start_delay_test(uint64_t ns)
{
	atomic_store(&start_delay_ns, ns);
}

/* The code budget of vCPUs created from now on (rk_cpu_set_code_budget). */
static _Atomic uint64_t code_budget_default = RK_CPU_CODE_BUDGET;
/*
 * Engines are opened and closed one at a time, so that each finds its own
 * code buffer among the process's mappings.
 */
static pthread_mutex_t engine_open_lock = PTHREAD_MUTEX_INITIALIZER;

struct rk_cpu_region {
	uint64_t ipa;
	uint64_t size;
	uint8_t *host;
	unsigned prot;
	uint64_t pa; /* stage-2 mode: the engine PA of host (hooks mode: 0) */
};

/*
 * Stage-2 mode: the engine's physical address space. The shadow stage 2's
 * pool of tables at RK_S2_POOL_PA (page 0 the root, page 1 the eret
 * trampoline, page 2 an empty root), host RAM windows from RK_S2_WIN_BASE up, each placed so that
 * PA and host address agree modulo 1 GiB (blocks need aligned PAs), and
 * "shadow" MMIO regions over every other address: Unicorn 2.0.1 checks the
 * VIRTUAL address of a TLB-missing access against its regions before it
 * translates, so every address must be some region; translation itself only
 * ever leads into the pool or a window.
 */
#define RK_S2_POOL_PA 0ull
#define RK_S2_POOL_SIZE (64ull << 20) /* 16,383 tables: ~32 GiB of 4 KiB pages */
#define RK_S2_POOL_RESERVED 4u
#define RK_S2_TRAMP_OFF 0x1000u
#define RK_S2_EMPTY_ROOT_OFF 0x2000u /* an always empty root table, for calibrate() */
#define RK_S2_PROBE_OFF 0x3000u      /* the stop probe's code (stop_probe) */
/* The stop probe's MMIO page, below the first window, gone before the shadows come. */
#define RK_S2_PROBE_MMIO (RK_S2_POOL_PA + RK_S2_POOL_SIZE)
#define RK_S2_WIN_BASE (1ull << 30)
#define RK_S2_WIN_ALIGN (1ull << 30)
#define RK_S2_PA_LIMIT (1ull << RK_CPU_PA_BITS)
#define RK_S2_MAX_SHADOWS (RK_CPU_MAX_RAM + 4u)
/* VTCR_EL2: T0SZ 20 (44-bit IPA), SL0 2 (start at level 0), inner/outer WB, inner shareable, 4 KiB, PS 44 bits */
#define RK_S2_VTCR                                                                          \
	(VTCR_EL2_T0SZ(RK_S2TT_IPA_BITS) | 2ull << VTCR_EL2_SL0_SHIFT | VTCR_EL2_IRGN0_WB | \
	 VTCR_EL2_ORGN0_WB | VTCR_EL2_SH0_IS | (uint64_t)VTCR_EL2_PS_44 << VTCR_EL2_PS_SHIFT)
/*
 * rk_cpu_inject_sync() at EL0 (el0_inject): an instruction fetch here faults at
 * stage 1 whatever the guest's page tables (bit 55 set selects TTBR1, whose
 * range needs bits [55:48] all ones) and with its MMU off too (an address
 * size fault), in a shadow region (the engine's "is it mapped" check passes).
 */
#define RK_S2_FORCE_VA 0x0080000000000000ull
/* The trapped-sysreg bitmap: op0 2 or 3, so the encoding's low 15 bits. */
#define RK_SR_TRAP_BITS (1u << 15)
/* The known fault of the calibration: an instruction fetch at this IPA, which the empty stage 2 does not map. */
#define RK_S2_CALIB_IPA 0x5a5a5000ull
/* ESR_EL2 of that fault: an instruction abort from a lower EL, translation fault at level 0. */
#define RK_S2_CALIB_ESR ((uint32_t)ESR_MAKE(ESR_EC_IABT_LOW, 1, ESR_FSC_TRANS(0)))

struct rk_cpu_window {
	uint8_t *host;
	uint64_t size;
	uint64_t pa;
	bool in_engine;
};

struct rk_cpu_span {
	uint64_t start;
	uint64_t size;
};

enum rk_cpu_internal {
	RK_CPU_INTERNAL_NONE = 0,
	RK_CPU_INTERNAL_SYNC, /* deliver internal_esr to the guest (SVC, BRK, stage-1 faults) */
};

struct rk_cpu {
	uc_engine *uc;
	enum rk_cpu_mode mode;

	/* Stage-2 mode (see RK_S2_*). */
	struct rk_s2tt tt;
	uint8_t *tt_pool; /* RK_S2_POOL_SIZE, ours, mapped into every engine */
	bool tt_rebuild;  /* the tables must be rebuilt from regions */
	bool tlb_stale;   /* a mapping was removed or narrowed: new VMID before running */
	uint16_t vmid;
	struct rk_cpu_window win[RK_CPU_MAX_RAM];
	unsigned nwin;
	uint64_t win_next_pa;
	bool layout_dirty; /* windows not yet in the engine */
	bool pool_in_engine;
	bool shadowed; /* the shadows are in the engine: no more windows */
	struct rk_cpu_span shadows[RK_S2_MAX_SHADOWS];
	unsigned nshadows;
	struct rk_cpu_span *stale_code; /* engine PA ranges whose code must go */
	unsigned nstale_code;
	bool stale_code_all;
	uc_context *exc_ctx; /* scratch for reading env->exception */
	bool calibrating;
	uint32_t calib_intno;
	/* An exception from EL0 on its way to the guest's EL1 (el0_enter: the vFIQ trick). */
	bool el0_entry;     /* the engine takes the vFIQ, then stops: el0_finish() */
	bool el0_f;         /* PSTATE.F was set at EL0: set it again in SPSR_EL1 */
	uint64_t el0_vbar;  /* VBAR_EL1 to put back */
	bool el0_forcing;   /* el0_inject(): the forced fault at RK_S2_FORCE_VA is expected */
	uint64_t force_esr; /* ... and the exception it stands for */
	uint64_t force_far;
	/* System registers: the last MRS/MSR the sysreg hooks saw (s2_exception). */
	struct rk_cpu_sysreg sr;
	uint64_t sr_pc;
	bool sr_valid;     /* sr is the instruction at sr_pc, no exception since */
	bool sr_declined;  /* the sysreg handler already declined it */
	uint64_t *sr_trap; /* bitmap of trapped encodings (RK_SR_TRAP_BITS), NULL: none */
	rk_cpu_sysreg_fn sysreg_fn;
	struct rk_cpu_sysreg_ctx *sysreg_ctx;

	/* Broadcast TLBIs shared with other vCPUs (rk_cpu_set_tlb_domain; NULL: none), and the
	 * domain's generation this engine's TLB reflects. */
	struct rk_cpu_tlb_domain *tlb_dom;
	uint64_t tlb_seen;
	uint64_t code_seen; /* the domain's code_gen this engine's translated code reflects */
	bool code_stale;    /* drop all translated code before the next run (s2_drop_code) */
	/* IC IVAU (ic_op): the last VA page translated, in this run, while no MSR or TLBI
	 * since, and its IPA page; and the code_gen that recorded it (0: none this run). */
	bool ic_cached;
	uint64_t ic_va;
	uint64_t ic_ipa;
	uint64_t ic_gen;

	/* Memory: what the caller asked for, and what the engine has. */
	struct rk_cpu_region *regions; /* sorted, coalesced */
	unsigned nregions;
	struct rk_cpu_region *pieces; /* sorted, mapped in the engine */
	unsigned npieces;
	bool mem_dirty;
	bool broken; /* the engine's memory map is unknown after a failure */

	/* Translated code: the engine's code buffer and the budget's tripwire. */
	uint8_t *code_buf; /* NULL: not found, flush every RK_CPU_CODE_FALLBACK_RUNS */
	size_t code_size;
	size_t code_trip; /* offset of the tripwire page */
	uint64_t runs_since_flush;
	unsigned runs_since_check;

	/* Run state, touched only by the thread inside rk_cpu_run(). */
	atomic_bool running;
	bool in_hook;
	bool have_pending;
	struct rk_cpu_exit pending;
	enum rk_cpu_internal internal;
	uint64_t internal_esr;
	uint64_t internal_far;
	uint64_t internal_elr;
	struct rk_cpu_exit last;
	bool last_done;
	rk_cpu_smc_fn smc_fn;
	struct rk_cpu_smc_ctx *smc_ctx;
	bool smc_no_imm; /* the handler ignores imm: call it before decoding */
	uint64_t hcr;
	struct rk_cpu_stats stats;
	struct {
		bool valid;
		bool complete; /* else: re-execute the instruction at pc */
		uint8_t rt;
		uint64_t pc;
		uint64_t value; /* complete: the value for X[rt] */
	} fix;

	/* Watchdog. */
	pthread_t wd;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool wd_quit;             /* lock */
	bool armed;               /* lock: a run is in progress */
	bool has_deadline;        /* lock */
	struct timespec deadline; /* lock */
	bool wd_timed_wait;       /* lock: the watchdog sleeps until wd_wake */
	struct timespec wd_wake;  /* lock */
	atomic_bool kick_pending;
	atomic_bool timed_out;
	atomic_bool want_stop; /* stop at the next exact point */
	bool wd_running;       /* the watchdog thread exists (not while parked) */
	uint64_t run_gen;      /* lock: runs armed so far */

	/* Parked (rk_cpu_park): no engine (uc == NULL), no watchdog; the
	 * engine's architectural state, saved, until the next use. */
	uc_context *parked;
};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

static int ts_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec < b->tv_nsec ? -1 : 1;
	return 0;
}

static struct timespec ts_add_ns(struct timespec t, uint64_t ns)
{
	uint64_t sec = ns / 1000000000ull;

	/* Clamp absurd timeouts to about a century. */
	if (sec > 3153600000ull)
		sec = 3153600000ull;
	t.tv_sec += (time_t)sec;
	t.tv_nsec += (long)(ns % 1000000000ull);
	if (t.tv_nsec >= 1000000000l) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000l;
	}
	return t;
}

static struct timespec mono_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

static uint64_t region_end(const struct rk_cpu_region *r)
{
	return r->ipa + r->size;
}

static int uc_cp_read(uc_engine *uc, uint64_t *val, int op0, int op1, int crn, int crm, int op2)
{
	uc_arm64_cp_reg r = { .crn = (uint32_t)crn,
			      .crm = (uint32_t)crm,
			      .op0 = (uint32_t)op0,
			      .op1 = (uint32_t)op1,
			      .op2 = (uint32_t)op2,
			      .val = 0 };

	if (uc_reg_read(uc, UC_ARM64_REG_CP_REG, &r) != UC_ERR_OK)
		return -EIO;
	*val = r.val;
	return 0;
}

static int uc_cp_write(uc_engine *uc, uint64_t val, int op0, int op1, int crn, int crm, int op2)
{
	uc_arm64_cp_reg r = { .crn = (uint32_t)crn,
			      .crm = (uint32_t)crm,
			      .op0 = (uint32_t)op0,
			      .op1 = (uint32_t)op1,
			      .op2 = (uint32_t)op2,
			      .val = val };

	return uc_reg_write(uc, UC_ARM64_REG_CP_REG, &r) == UC_ERR_OK ? 0 : -EIO;
}

#define CP_READ(uc, val, enc) uc_cp_read((uc), (val), enc)
#define CP_WRITE(uc, val, enc) uc_cp_write((uc), (val), enc)

static int gpr_uc_id(unsigned n)
{
	if (n <= 28)
		return UC_ARM64_REG_X0 + (int)n;
	return n == 29 ? UC_ARM64_REG_X29 : UC_ARM64_REG_X30;
}

static uint64_t read_u64(uc_engine *uc, int reg)
{
	uint64_t v = 0;

	uc_reg_read(uc, reg, &v);
	return v;
}

static void write_u64(uc_engine *uc, int reg, uint64_t v)
{
	uc_reg_write(uc, reg, &v);
}

static uint32_t read_pstate(uc_engine *uc)
{
	uint32_t v = 0;

	uc_reg_read(uc, UC_ARM64_REG_PSTATE, &v);
	return v;
}

static bool busy(const struct rk_cpu *cpu)
{
	return cpu->in_hook || atomic_load(&cpu->running);
}

/* Registers may be used while no run is in progress, or from inside the SMC handler. */
static bool regs_busy(const struct rk_cpu *cpu)
{
	return atomic_load(&cpu->running) && !cpu->in_hook;
}

/* ------------------------------------------------------------------------ */
/* Hooks (run on the thread inside uc_emu_start)                            */
/* ------------------------------------------------------------------------ */

/*
 * Read the instruction at addr from the caller's host memory (cheaper than
 * uc_mem_read in the hooks). While a run is in progress the engine's memory
 * is exactly cpu->regions.
 */
static bool fetch_insn(const struct rk_cpu *cpu, uint64_t addr, uint32_t *insn)
{
	unsigned lo = 0, hi = cpu->nregions;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct rk_cpu_region *r = &cpu->regions[mid];

		if (addr < r->ipa) {
			hi = mid;
		} else if (addr - r->ipa >= r->size) {
			lo = mid + 1;
		} else {
			const uint8_t *b = r->host + (addr - r->ipa);

			if (addr - r->ipa > r->size - 4 || !(r->prot & RK_CPU_PROT_EXEC))
				return false;
			*insn = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
				(uint32_t)b[3] << 24;
			return true;
		}
	}
	return false;
}

/* A readable 64-bit word of guest memory at an IPA (as fetch_insn finds it). */
static bool read_ipa_u64(const struct rk_cpu *cpu, uint64_t ipa, uint64_t *v)
{
	for (unsigned i = 0; i < cpu->nregions; i++) {
		const struct rk_cpu_region *r = &cpu->regions[i];

		if (ipa >= r->ipa && ipa - r->ipa <= r->size - 8 && (r->prot & RK_CPU_PROT_READ)) {
			memcpy(v, r->host + (ipa - r->ipa), 8);
			return true;
		}
	}
	return false;
}

/*
 * Stage-2 mode, the guest's MMU on: the IPA of the VA va, found by walking
 * the guest's stage-1 tables in software (4 KiB granule; the top byte
 * ignored; descriptors read at their IPAs; permissions not checked). False
 * if the walk cannot be done here (another granule, a descriptor not in
 * guest memory, a fault).
 */
static bool s1_walk(const struct rk_cpu *cpu, uc_engine *uc, uint64_t va, uint64_t *ipa)
{
	bool upper = (va >> 55) & 1u;
	uint64_t tcr = 0, ttbr = 0, desc, table;
	unsigned bits, level, start, shift;

	if (CP_READ(uc, &tcr, SYSREG_TCR_EL1) ||
	    (upper ? CP_READ(uc, &ttbr, SYSREG_TTBR1_EL1) : CP_READ(uc, &ttbr, SYSREG_TTBR0_EL1)))
		return false;
	if (upper ? ((tcr >> 30) & 3u) != 2u || (tcr >> 23) & 1u
		  : ((tcr >> 14) & 3u) != 0u || (tcr >> 7) & 1u)
		return false; /* not a 4 KiB granule, or walks disabled */
	bits = 64u - (unsigned)(upper ? (tcr >> 16) & 63u : tcr & 63u);
	if (bits < 25u || bits > 48u)
		return false;
	level = bits > 39u ? 0u : bits > 30u ? 1u : 2u;
	start = level;
	table = ttbr & 0x0000fffffffffff8ull;
	for (;;) {
		shift = 39u - 9u * level;
		/* the start level resolves the VA bits left above shift, the others 9 */
		uint64_t idx = (va >> shift) & (level == start ? (1ull << (bits - shift)) - 1u : 511u);
		if (!read_ipa_u64(cpu, table + 8u * idx, &desc) || !(desc & 1u))
			return false;
		if (level == 3u || (desc & 3u) == 1u) {
			if ((level == 3u) != ((desc & 3u) == 3u) || level == 0u)
				return false;
			uint64_t off = va & ((1ull << shift) - 1u);
			*ipa = (desc & 0x0000fffffffff000ull & ~((1ull << shift) - 1u)) | off;
			return true;
		}
		table = desc & 0x0000fffffffff000ull;
		level++;
	}
}

/* Stage-2 mode, the guest's MMU on: the instruction at the VA va (s1_walk). */
static bool fetch_insn_va(const struct rk_cpu *cpu, uc_engine *uc, uint64_t va, uint32_t *insn)
{
	uint64_t ipa;

	return s1_walk(cpu, uc, va, &ipa) && fetch_insn(cpu, ipa, insn);
}

/* The host address backing the IPA ipa (any protection), or NULL. */
static const uint8_t *ipa_host(const struct rk_cpu *cpu, uint64_t ipa)
{
	unsigned lo = 0, hi = cpu->nregions;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct rk_cpu_region *r = &cpu->regions[mid];

		if (ipa < r->ipa)
			hi = mid;
		else if (ipa - r->ipa >= r->size)
			lo = mid + 1;
		else
			return r->host + (ipa - r->ipa);
	}
	return NULL;
}

static void record(struct rk_cpu *cpu, const struct rk_cpu_exit *e)
{
	if (cpu->have_pending)
		return;
	cpu->pending = *e;
	cpu->have_pending = true;
}

/* A hook cannot go on: an ERROR exit (-EIO). */
static void hook_error(struct rk_cpu *cpu, uc_engine *uc)
{
	struct rk_cpu_exit e;

	memset(&e, 0, sizeof(e));
	e.reason = RK_CPU_EXIT_ERROR;
	e.error = -EIO;
	e.pc = read_u64(uc, UC_ARM64_REG_PC);
	record(cpu, &e);
	uc_emu_stop(uc);
}

/* ------------------------------------------------------------------------ */
/* Stage-2 mode: the exception the engine is taking                         */
/* ------------------------------------------------------------------------ */

/*
 * Offset of QEMU's env->exception {u32 syndrome; u32 fsr; u64 vaddress;
 * u32 target_el} in the uc_context blob (3040 in Debian's 2.0.1 build),
 * found by the first stage-2 engine (calibrate()); -1 until then.
 */
static pthread_mutex_t calib_lock = PTHREAD_MUTEX_INITIALIZER;
static int exc_offset = -1;
static int exc_bias;
/*
 * What the calibrating engine leaves for the later ones (calib_lock; see
 * calibrate()): its context in the reset state at NS EL1 (restored instead
 * of running the eret and the fault again), and the offsets, relative to
 * env->exception, of registers the backend can write (calib_anchor_reg), by
 * which every later engine checks its context's layout without a run.
 */
#define RK_CALIB_ANCHORS 2
static const int calib_anchor_reg[RK_CALIB_ANCHORS] = { UC_ARM64_REG_ELR_EL2, UC_ARM64_REG_FAR_EL2 };
static int calib_anchor[RK_CALIB_ANCHORS];
static uc_context *calib_template;
static uint64_t calib_runs;   /* calibrations with the known fault (tests) */
static uint64_t calib_checks; /* engines checked without a run; also the check's sentinels */

void rk_cpu_unicorn_calibration_test(int bias)
{
	pthread_mutex_lock(&calib_lock);
	exc_bias = bias;
	exc_offset = -1;
	if (calib_template)
		uc_context_free(calib_template);
	calib_template = NULL;
	pthread_mutex_unlock(&calib_lock);
}

void rk_cpu_unicorn_calibration_bias_test(int bias)
{
	pthread_mutex_lock(&calib_lock);
	exc_bias = bias;
	pthread_mutex_unlock(&calib_lock);
}

void rk_cpu_unicorn_calibration_counts(uint64_t *runs, uint64_t *checks)
{
	pthread_mutex_lock(&calib_lock);
	if (runs)
		*runs = calib_runs;
	if (checks)
		*checks = calib_checks;
	pthread_mutex_unlock(&calib_lock);
}

int rk_cpu_unicorn_exception_offset(void)
{
	int off;

	pthread_mutex_lock(&calib_lock);
	off = exc_offset;
	pthread_mutex_unlock(&calib_lock);
	return off;
}

struct exc_info {
	uint32_t esr;
	uint64_t far;
	uint32_t target_el;
};

static struct exc_info exc_at(const uint8_t *blob, size_t off)
{
	struct exc_info x;

	memcpy(&x.esr, blob + off, 4);
	memcpy(&x.far, blob + off + 8, 8);
	memcpy(&x.target_el, blob + off + 16, 4);
	return x;
}

/* The exception being taken (inside UC_HOOK_INTR). -EIO if it cannot be read. */
static int exc_read(struct rk_cpu *cpu, int off, struct exc_info *x)
{
	size_t size = uc_context_size(cpu->uc);

	if (off < 0 || (size_t)off + 20 > size || uc_context_save(cpu->uc, cpu->exc_ctx) != UC_ERR_OK)
		return -EIO;
	*x = exc_at((const uint8_t *)cpu->exc_ctx, (size_t)off);
	return 0;
}

/*
 * Stage-2 mode: a data or instruction abort (PC is the faulting instruction).
 * Target EL2 is a stage-2 fault: an exit with the IPA (HPFAR_EL2 and the
 * FAR's page offset). Target EL1 is the guest's own fault (alignment, its
 * stage 1): delivered to its vectors, except an address size fault with the
 * MMU off (an IPA beyond the CPU's PA range), which exits like a stage-2
 * fault at that IPA, as in hooks mode.
 */
static void el0_enter(struct rk_cpu *cpu, uc_engine *uc, uint32_t pstate, uint64_t esr, uint64_t far);

static void s2_abort(struct rk_cpu *cpu, uc_engine *uc, uint32_t intno, const struct exc_info *xp,
		     uint32_t pstate)
{
	struct rk_cpu_exit e;
	struct exc_info x = *xp;
	struct rk_cpu_ldst d;
	uint64_t hpfar = 0, sctlr = 0;
	unsigned fsc;

	memset(&e, 0, sizeof(e));
	e.pc = read_u64(uc, UC_ARM64_REG_PC);
	if (CP_READ(uc, &sctlr, SYSREG_SCTLR_EL1)) {
		e.reason = RK_CPU_EXIT_ERROR;
		e.error = -EIO;
		goto out;
	}
	fsc = x.esr & 0x3fu;
	e.mem.va = x.far;
	if (x.target_el == 2) {
		if (CP_READ(uc, &hpfar, SYSREG_HPFAR_EL2)) {
			e.reason = RK_CPU_EXIT_ERROR;
			e.error = -EIO;
			goto out;
		}
		e.mem.s1ptw = (x.esr & ESR_S1PTW) != 0;
		/* a walk's descriptor: HPFAR has its page, FAR is the address translated */
		e.mem.addr = ((hpfar >> HPFAR_EL2_FIPA_SHIFT) << 12) | (e.mem.s1ptw ? 0 : x.far & 0xfffu);
	} else if (!(sctlr & 1) && (fsc & 0x3cu) == 0) {
		e.mem.addr = x.far; /* MMU off: VA == IPA */
	} else if (PSTATE_EL(pstate) == 0) {
		el0_enter(cpu, uc, pstate, x.esr, x.far); /* the guest's fault, from EL0 */
		return;
	} else {
		cpu->internal_esr = x.esr;
		cpu->internal_far = x.far;
		cpu->internal_elr = e.pc;
		if (!cpu->have_pending)
			cpu->internal = RK_CPU_INTERNAL_SYNC;
		uc_emu_stop(uc);
		return;
	}
	e.mem.is_perm = (fsc & 0x3cu) == 0x0cu;
	if (intno == RK_UC_EXCP_PREFETCH_ABORT) {
		e.reason = RK_CPU_EXIT_IABT;
		goto out;
	}
	e.reason = RK_CPU_EXIT_DABT;
	e.mem.is_write = (x.esr & ESR_WNR) != 0;
	if (x.esr & ESR_ISV)
		e.mem.size = 1u << ((x.esr >> ESR_SAS_SHIFT) & 3u);
	/*
	 * The instruction (at a VA with the guest's MMU on) decides the
	 * syndrome, as in hooks mode: the engine (QEMU 5) also sets ISV for
	 * the pre- and post-index forms, which write back their base register
	 * (architecturally ISV 0: completing them as emulated MMIO would lose
	 * the write-back). The engine's own syndrome only if the instruction
	 * cannot be found.
	 */
	bool have_insn = !e.mem.s1ptw && ((sctlr & 1) ? fetch_insn_va(cpu, uc, e.pc, &e.insn)
						      : fetch_insn(cpu, e.pc, &e.insn));
	if ((sctlr & 1) && (x.esr & ESR_ISV) && !e.mem.s1ptw && !have_insn) {
		/* guest MMU on: the engine's syndrome (the instruction is at a VA) */
		e.mem.isv = true;
		e.mem.srt = (x.esr >> ESR_SRT_SHIFT) & 31u;
		e.mem.sse = (x.esr & ESR_SSE) != 0;
		e.mem.sf = (x.esr & ESR_SF) != 0;
		e.mem.ar = (x.esr & ESR_AR) != 0;
		if (e.mem.is_write && e.mem.srt != 31)
			e.mem.value = rk_cpu_ldst_extend(read_u64(uc, gpr_uc_id(e.mem.srt)), e.mem.size,
							 false, true);
	}
	/* The syndrome as hooks mode reports it: decoded from the instruction. */
	if (have_insn && rk_cpu_decode_ldst(e.insn, &d) && d.is_load == !e.mem.is_write) {
		e.mem.size = d.size;
		e.mem.isv = true;
		e.mem.srt = d.rt;
		e.mem.sse = d.sse;
		e.mem.sf = d.sf;
		e.mem.ar = d.ar;
		if (e.mem.is_write && d.rt != 31)
			e.mem.value = rk_cpu_ldst_extend(read_u64(uc, gpr_uc_id(d.rt)),
							 d.size < 8 ? d.size : 8, false, true);
	}
out:
	record(cpu, &e);
	uc_emu_stop(uc);
}

/*
 * Stage-2 mode: exceptions from EL0 (see the design notes, "EL0"). Inside the
 * interrupt hook, with PC already the preferred return address (the faulting
 * or undefined instruction, the instruction after an SVC): ESR_EL1 and
 * FAR_EL1 get the exception's syndrome and address, VBAR_EL1 moves down by
 * 0x100 and HCR_EL2 asserts a virtual FIQ (FMO|VF, the virtual IRQ held
 * back). When the hook returns the engine takes that FIQ from EL0 as the
 * hardware takes an exception: ELR_EL1 = PC, SPSR_EL1 = the EL0 PSTATE,
 * PSTATE = EL1h with DAIF masked, SP = SP_EL1, PC = (VBAR_EL1 - 0x100) +
 * 0x500, which is the real VBAR_EL1 + 0x400 (synchronous, lower EL,
 * AArch64). The stop requested here is taken right after that entry (the
 * engine checks for it after taking an interrupt, before translating the
 * vector's first block), and el0_finish() puts VBAR_EL1 and HCR_EL2 back
 * before the guest executes anything at EL1.
 */
static void el0_enter(struct rk_cpu *cpu, uc_engine *uc, uint32_t pstate, uint64_t esr, uint64_t far)
{
	uint64_t vbar = read_u64(uc, UC_ARM64_REG_VBAR_EL1);

	/* a virtual FIQ is masked by PSTATE.F: clear it, el0_finish() sets it in SPSR_EL1 again */
	cpu->el0_f = (pstate & PSTATE_F) != 0;
	if (cpu->el0_f) {
		uint32_t ps = pstate & ~(uint32_t)PSTATE_F;

		uc_reg_write(uc, UC_ARM64_REG_PSTATE, &ps);
	}
	cpu->el0_vbar = vbar;
	if (CP_WRITE(uc, esr, SYSREG_ESR_EL1) || CP_WRITE(uc, far, SYSREG_FAR_EL1) ||
	    CP_WRITE(uc, (cpu->hcr & ~HCR_EL2_VI) | HCR_EL2_FMO | HCR_EL2_VF, SYSREG_HCR_EL2)) {
		hook_error(cpu, uc);
		return;
	}
	write_u64(uc, UC_ARM64_REG_VBAR_EL1, vbar - VECTOR_FIQ);
	cpu->el0_entry = true;
	uc_emu_stop(uc);
}

/* After the engine took the vFIQ of el0_enter(): the guest's registers as the exception leaves them. */
static int el0_finish(struct rk_cpu *cpu, bool set_elr, uint64_t elr)
{
	uc_engine *uc = cpu->uc;
	uint32_t ps = read_pstate(uc);
	uint64_t pc = read_u64(uc, UC_ARM64_REG_PC), spsr = 0;
	int rc = 0;

	cpu->el0_entry = false;
	write_u64(uc, UC_ARM64_REG_VBAR_EL1, cpu->el0_vbar);
	if (CP_WRITE(uc, cpu->hcr, SYSREG_HCR_EL2))
		rc = -EIO;
	/* the FIQ was not taken (a backend defect): the vCPU cannot go on */
	if ((ps & PSTATE_M_MASK) != PSTATE_M_EL1H || pc != cpu->el0_vbar + VECTOR_LOWER_A64 + VECTOR_SYNC)
		rc = -EIO;
	if (!rc && cpu->el0_f &&
	    (CP_READ(uc, &spsr, SYSREG_SPSR_EL1) || CP_WRITE(uc, spsr | PSTATE_F, SYSREG_SPSR_EL1)))
		rc = -EIO;
	if (!rc && set_elr)
		write_u64(uc, UC_ARM64_REG_ELR_EL1, elr);
	if (!rc) {
		cpu->stats.guest_exceptions++;
		cpu->stats.el0_exceptions++;
	}
	return rc;
}

/* The X register number of a Unicorn register id (31: XZR). */
static uint8_t uc_gpr_num(int reg)
{
	if (reg == UC_ARM64_REG_X29)
		return 29;
	if (reg == UC_ARM64_REG_X30)
		return 30;
	if (reg >= UC_ARM64_REG_X0 && reg <= UC_ARM64_REG_X28)
		return (uint8_t)(reg - UC_ARM64_REG_X0);
	return 31;
}

static bool sr_trapped(const struct rk_cpu *cpu, const struct rk_cpu_sysreg *a)
{
	uint32_t idx = RK_CPU_SYSREG_OF(a) & (RK_SR_TRAP_BITS - 1);

	return cpu->sr_trap && (cpu->sr_trap[idx / 64] >> (idx % 64) & 1);
}

static bool sr_call(struct rk_cpu *cpu, struct rk_cpu_sysreg *a)
{
	bool done;

	cpu->in_hook = true;
	done = cpu->sysreg_fn(cpu, a, cpu->sysreg_ctx);
	cpu->in_hook = false;
	return done;
}

/*
 * Every MRS/MSR of op0 2 or 3 (stage-2 mode), before the engine checks or
 * performs it: remember it (a refusal comes next as an UNDEF at this PC,
 * s2_exception), and offer an access to a trapped register the engine
 * implements to the sysreg handler. Returning 1 skips the instruction; only
 * for a register the engine implements (for any other the engine would
 * execute the same instruction again forever).
 */
static uint32_t sysreg_access(struct rk_cpu *cpu, uc_engine *uc, int reg, const uc_arm64_cp_reg *cp,
			      bool is_read)
{
	struct rk_cpu_sysreg *a = &cpu->sr, acc;
	uint64_t v = 0;

	memset(a, 0, sizeof(*a));
	a->is_read = is_read;
	a->op0 = (uint8_t)cp->op0;
	a->op1 = (uint8_t)cp->op1;
	a->crn = (uint8_t)cp->crn;
	a->crm = (uint8_t)cp->crm;
	a->op2 = (uint8_t)cp->op2;
	a->rt = uc_gpr_num(reg);
	a->value = is_read ? 0 : cp->val;
	cpu->sr_pc = read_u64(uc, UC_ARM64_REG_PC);
	cpu->sr_valid = true;
	cpu->sr_declined = false;
	if (!is_read)
		cpu->ic_cached = false; /* TTBR, TCR, SCTLR...: IC IVAU translates again */
	if (__builtin_expect(!sr_trapped(cpu, a), 1) || !cpu->sysreg_fn)
		return 0;
	if (uc_cp_read(uc, &v, a->op0, a->op1, a->crn, a->crm, a->op2))
		return 0; /* not the engine's: the refusal offers it */
	a->known = true;
	a->el = (uint8_t)PSTATE_EL(read_pstate(uc));
	if (is_read)
		a->value = v;
	acc = *a;
	if (!sr_call(cpu, &acc)) {
		cpu->sr_declined = true;
		return 0;
	}
	if (is_read && acc.rt != 31)
		write_u64(uc, gpr_uc_id(acc.rt), acc.value);
	cpu->stats.sysreg_in_hook++;
	cpu->sr_valid = false;
	return 1;
}

static uint32_t hook_mrs(uc_engine *uc, uc_arm64_reg reg, const uc_arm64_cp_reg *cp, void *user)
{
	return sysreg_access(user, uc, (int)reg, cp, true);
}

static uint32_t hook_msr(uc_engine *uc, uc_arm64_reg reg, const uc_arm64_cp_reg *cp, void *user)
{
	return sysreg_access(user, uc, (int)reg, cp, false);
}

/* The domain's code log (struct rk_cpu_tlb_domain): a spin lock, held for a few stores. */
static void code_log_lock(struct rk_cpu_tlb_domain *d)
{
	while (__atomic_exchange_n(&d->code_lock, 1u, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&d->code_lock, __ATOMIC_RELAXED))
			;
}

static void code_log_unlock(struct rk_cpu_tlb_domain *d)
{
	__atomic_store_n(&d->code_lock, 0u, __ATOMIC_RELEASE);
}

/*
 * The IPA page behind the VA of an IC IVAU (inside the SYS hook): the
 * guest's stage 1 (s1_walk; VA == IPA with its MMU off). False if it cannot
 * be walked here (the caller drops all code). The IPA names the page for
 * every vCPU of the domain alike (they share one stage 2); the data page need
 * not be in this vCPU's memory map (written through another vCPU: then this
 * engine has no code from it).
 */
static bool ic_ipa_page(const struct rk_cpu *cpu, uc_engine *uc, uint64_t va, uint64_t *ipa)
{
	uint64_t sctlr = 0;

	*ipa = va;
	if (CP_READ(uc, &sctlr, SYSREG_SCTLR_EL1) || ((sctlr & SCTLR_EL1_M) && !s1_walk(cpu, uc, va, ipa)))
		return false;
	*ipa &= ~(uint64_t)(RK_CPU_PAGE_SIZE - 1);
	return true;
}

/* The IC instructions (SYS, CRn 7) ic_op handles. */
enum ic_kind {
	IC_OTHER,   /* DC ops, AT: nothing to do */
	IC_IVAU,    /* op1 3, CRm 5, op2 1; EL0 too when SCTLR_EL1.UCI allows it */
	IC_IALLUIS, /* op1 0, CRm 1, op2 0; EL1 */
	IC_IALLU,   /* op1 0, CRm 5, op2 0; EL1; this PE only */
};

static enum ic_kind ic_kind(const uc_arm64_cp_reg *cp)
{
	if (cp->op1 == 3 && cp->crm == 5 && cp->op2 == 1)
		return IC_IVAU;
	if (cp->op1 == 0 && cp->op2 == 0 && cp->crm == 1)
		return IC_IALLUIS;
	if (cp->op1 == 0 && cp->op2 == 0 && cp->crm == 5)
		return IC_IALLU;
	return IC_OTHER;
}

/*
 * This vCPU's own code must all go before its next instruction (its IC
 * IALLU(IS), or an IC IVAU it cannot walk, with fast stores): the run stops
 * at its next exact point (stage-2 mode: the next block start, the ISB having
 * ended this block; hooks mode: want_stop) and goes on in a fresh engine
 * (rk_cpu_run, renew_in_run).
 */
static void ic_drop_own(struct rk_cpu *cpu, uc_engine *uc)
{
	if (!cpu->stale_code_all)
		cpu->stats.ic_local_flushes++;
	cpu->stale_code_all = true;
	if (cpu->mode == RK_CPU_MODE_STAGE2)
		uc_emu_stop(uc);
	else
		atomic_store(&cpu->want_stop, true);
}

/*
 * An IC instruction, in the SYS hook (never skipped: the engine raises what
 * it raises, e.g. the trap of an IC IVAU at EL0 without SCTLR_EL1.UCI, after
 * which anything done here was merely spurious).
 *
 * On this vCPU's engine, with fast stores only (cpu_ucfix.c; else the engine
 * notices its own stores to code itself): IC IVAU drops the translations that
 * overlap the line of its VA (host address: the guest's stage 1 walked in
 * software, s1_walk, then the memory map; a page not in this vCPU's map has
 * no code in its engine), IC IALLU(IS) all of them (ic_drop_own), as does an
 * IC IVAU whose VA cannot be walked here.
 *
 * For the other vCPUs of the domain (stage-2 mode): IC IVAU and IC IALLUIS
 * add an entry to the domain's code log, the IPA page of IC IVAU's VA or
 * "all", which every other vCPU of the domain applies before it runs again
 * (code_domain_check: that page's code, or all of it). IC IVAU of the page
 * this run already logged, with no IC op of another vCPU since, adds nothing
 * (Linux cleans a page a line at a time).
 */
static uint32_t ic_op(struct rk_cpu *cpu, uc_engine *uc, const uc_arm64_cp_reg *cp)
{
	struct rk_cpu_tlb_domain *d = cpu->tlb_dom;
	enum ic_kind k = ic_kind(cp);
	uint64_t ipa = 0, va = cp->val & ~(uint64_t)(RK_CPU_PAGE_SIZE - 1), g;
	bool logged = false, all = true, fast = rk_ucfix_state() == RK_UCFIX_FAST;

	if (k == IC_OTHER)
		return 0;
	if (k != IC_IVAU && PSTATE_EL(read_pstate(uc)) != 1)
		return 0; /* EL0: UNDEFINED, the engine raises it */
	if (k != IC_IALLU)
		cpu->stats.ic_broadcast++;
	if (cpu->mode != RK_CPU_MODE_STAGE2)
		cpu->ic_cached = false; /* no MSR hook to tell a TTBR write: walk every time */
	if (k == IC_IVAU) {
		if (cpu->ic_cached && cpu->ic_va == va) {
			/* this page is the log's last entry, from this run */
			logged = d && cpu->ic_gen &&
				 cpu->ic_gen == __atomic_load_n(&d->code_gen, __ATOMIC_ACQUIRE);
			ipa = cpu->ic_ipa;
			all = false;
		} else if (ic_ipa_page(cpu, uc, cp->val, &ipa)) {
			cpu->ic_cached = true;
			cpu->ic_va = va;
			cpu->ic_ipa = ipa;
			all = false;
		}
	}
	if (fast && all) {
		ic_drop_own(cpu, uc);
	} else if (fast) {
		uint64_t line =
			cp->val & (RK_CPU_PAGE_SIZE - 1) & ~(uint64_t)(RK_MACHINE_CPU_IMINLINE_BYTES - 1);
		const uint8_t *h = ipa_host(cpu, ipa);

		/* not in this vCPU's map: its engine has no code from the page */
		if (h && rk_ucfix_code_written(uc, h + line, RK_MACHINE_CPU_IMINLINE_BYTES))
			cpu->stats.ic_local_lines++;
		else if (h)
			ic_drop_own(cpu, uc);
	}
	if (!d || cpu->mode != RK_CPU_MODE_STAGE2 || k == IC_IALLU || logged)
		return 0;
	code_log_lock(d);
	g = d->code_gen + 1;
	if (all)
		d->code_all = g;
	else
		d->code_page[g % RK_CPU_CODE_LOG] = ipa;
	__atomic_store_n(&d->code_gen, g, __ATOMIC_RELEASE);
	code_log_unlock(d);
	if (cpu->code_seen == g - 1)
		cpu->code_seen = g;
	cpu->ic_gen = all ? 0 : g;
	return 0;
}

/*
 * Every SYS instruction (op0 1: DC, IC, AT, TLBI; stage-2 mode), before the
 * engine checks or performs it; never skipped (returns 0: the engine does its
 * own TLB's part). A broadcast TLBI at EL1 (op1 0, CRn 8, or 9 for the nXS
 * forms; CRm 1 OS, 2 range IS, 3 IS, 5 range OS; CRm 6 and 7 are the local
 * forms, and EL2's op1 4 forms are UNDEFINED at EL1) bumps the TLB domain's
 * generation: the other vCPUs flush before they run again. This vCPU's own
 * engine performs the TLBI itself, so it keeps up with the bump unless
 * another vCPU bumped since its run began (then it flushes too).
 */
static uint32_t hook_sys(uc_engine *uc, uc_arm64_reg reg, const uc_arm64_cp_reg *cp, void *user)
{
	struct rk_cpu *cpu = user;
	uint64_t old;

	(void)reg;
	if (cp->crn == 7)
		return ic_op(cpu, uc, cp);
	if (cp->crn == 8 || cp->crn == 9)
		cpu->ic_cached = false; /* a TLBI: IC IVAU translates again */
	if (cp->op1 != 0 || (cp->crn != 8 && cp->crn != 9) ||
	    !(cp->crm == 1 || cp->crm == 2 || cp->crm == 3 || cp->crm == 5))
		return 0;
	if (PSTATE_EL(read_pstate(uc)) != 1)
		return 0; /* EL0: UNDEFINED, the engine raises it */
	cpu->stats.tlbi_broadcast++;
	if (!cpu->tlb_dom)
		return 0;
	old = __atomic_fetch_add(&cpu->tlb_dom->gen, 1, __ATOMIC_ACQ_REL);
	if (old == cpu->tlb_seen)
		cpu->tlb_seen = old + 1;
	return 0;
}

/* Hooks mode: the SYS hook (installed with fast stores only) does the IC ops' own-engine part. */
static uint32_t hook_sys_hooks(uc_engine *uc, uc_arm64_reg reg, const uc_arm64_cp_reg *cp, void *user)
{
	(void)reg;
	return cp->crn == 7 ? ic_op(user, uc, cp) : 0;
}

/*
 * An MRS/MSR the engine refused (UNDEF at the PC the sysreg hook saw it): the
 * sysreg handler may complete it; else UNDEF, to the guest from EL0, an exit
 * with the access from EL1.
 */
static void s2_sysreg_refused(struct rk_cpu *cpu, uc_engine *uc, uint64_t pc, uint32_t pstate,
			      const struct exc_info *x)
{
	struct rk_cpu_sysreg acc = cpu->sr;
	struct rk_cpu_exit e;
	uint64_t v;

	acc.valid = true;
	acc.el = (uint8_t)PSTATE_EL(pstate);
	acc.known = !uc_cp_read(uc, &v, acc.op0, acc.op1, acc.crn, acc.crm, acc.op2);
	if (!cpu->sr_declined && cpu->sysreg_fn && sr_call(cpu, &acc)) {
		if (acc.is_read && acc.rt != 31)
			write_u64(uc, gpr_uc_id(acc.rt), acc.value);
		cpu->stats.sysreg_in_hook++;
		if (acc.stop) {
			/* the handler ends the run there (rk_cpu_sysreg.stop): PC is set
			 * past it once the engine has stopped (rk_cpu_run), as for an
			 * abort; a PC write here would restart the engine */
			memset(&e, 0, sizeof(e));
			e.reason = RK_CPU_EXIT_SYSREG;
			e.pc = pc + 4;
			e.sysreg = acc;
			record(cpu, &e);
			uc_emu_stop(uc);
			return;
		}
		/* the engine goes on at the next instruction (a PC write restarts it there) */
		write_u64(uc, UC_ARM64_REG_PC, pc + 4);
		return;
	}
	if (acc.el == 0) {
		el0_enter(cpu, uc, pstate, x->esr, 0);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.reason = RK_CPU_EXIT_UNDEF;
	e.pc = pc;
	e.insn = 0xd5000000u | (uint32_t)acc.is_read << 21 | (uint32_t)acc.op0 << 19 |
		 (uint32_t)acc.op1 << 16 | (uint32_t)acc.crn << 12 | (uint32_t)acc.crm << 8 |
		 (uint32_t)acc.op2 << 5 | acc.rt;
	e.sysreg = acc;
	record(cpu, &e);
	uc_emu_stop(uc);
}

/*
 * Stage-2 mode: every exception but SMC and HVC (which only EL1 can take).
 * The engine's own syndrome says where it goes: to EL1 from EL0, to the
 * guest's vectors (el0_enter); to EL2, an exit; to EL1 from EL1, as in hooks
 * mode (SVC/BRK delivered, UNDEF an exit).
 */
static void s2_exception(struct rk_cpu *cpu, uc_engine *uc, uint32_t intno)
{
	uint64_t pc = read_u64(uc, UC_ARM64_REG_PC);
	uint32_t pstate = read_pstate(uc), insn = 0;
	bool el0 = PSTATE_EL(pstate) == 0, sr = cpu->sr_valid && cpu->sr_pc == pc;
	struct rk_cpu_exit e;
	struct exc_info x;
	unsigned ec;

	cpu->sr_valid = false;
	memset(&e, 0, sizeof(e));
	e.pc = pc;
	if (exc_read(cpu, exc_offset, &x)) {
		e.reason = RK_CPU_EXIT_ERROR;
		e.error = -EIO;
		goto out;
	}
	ec = x.esr >> ESR_EC_SHIFT;
	if (cpu->el0_forcing) {
		/* el0_inject(): the forced fault stands for the injected exception */
		cpu->el0_forcing = false;
		if (el0 && intno == RK_UC_EXCP_PREFETCH_ABORT && pc == RK_S2_FORCE_VA && x.target_el == 1) {
			el0_enter(cpu, uc, pstate, cpu->force_esr, cpu->force_far);
			return;
		}
		e.reason = RK_CPU_EXIT_ERROR;
		e.error = -EIO;
		goto out;
	}
	if (intno == RK_UC_EXCP_DATA_ABORT || intno == RK_UC_EXCP_PREFETCH_ABORT) {
		s2_abort(cpu, uc, intno, &x, pstate);
		return;
	}
	if (intno == RK_UC_EXCP_UDEF && sr &&
	    (ec == ESR_EC_UNKNOWN || (ec == ESR_EC_SYS64 && x.target_el == 2))) {
		s2_sysreg_refused(cpu, uc, pc, pstate, &x);
		return;
	}
	if (el0 && x.target_el == 1) {
		/* SVC, BRK, UNDEF (SMC and HVC are UNDEFINED at EL0), FP traps... */
		el0_enter(cpu, uc, pstate, x.esr, 0);
		return;
	}
	switch (intno) {
	case RK_UC_EXCP_UDEF:
		fetch_insn(cpu, pc, &insn);
		e.reason = insn == A64_WFI ? RK_CPU_EXIT_WFI : RK_CPU_EXIT_UNDEF;
		if (ec == ESR_EC_WFX && !(x.esr & 1) && x.target_el == 2) {
			/* the syndrome says WFI trapped to EL2 (also with the guest's MMU on) */
			e.reason = RK_CPU_EXIT_WFI;
			insn = A64_WFI;
		}
		e.insn = insn;
		break;
	case RK_UC_EXCP_SVC:
	case RK_UC_EXCP_BKPT:
		/* EL1: to its own vectors, with the engine's syndrome (SVC: PC is already the preferred return) */
		cpu->internal_esr = x.esr;
		cpu->internal_far = 0;
		cpu->internal_elr = pc;
		if (!cpu->have_pending)
			cpu->internal = RK_CPU_INTERNAL_SYNC;
		uc_emu_stop(uc);
		return;
	default:
		e.reason = RK_CPU_EXIT_ERROR;
		e.error = -ENOTSUP;
		fetch_insn(cpu, pc, &e.insn);
		break;
	}
out:
	record(cpu, &e);
	uc_emu_stop(uc);
}

/*
 * Hooks mode: an UNDEF that is an MRS/MSR (register form) fills exit.sysreg as
 * stage-2 mode's refusals do (the guest is at EL1; an MSR's value from Xt).
 */
static void hooks_undef_sysreg(uc_engine *uc, uint32_t insn, struct rk_cpu_sysreg *a)
{
	uint64_t v;

	if ((insn & A64_MRS_MSR_MASK) != A64_MRS_MSR)
		return;
	a->valid = true;
	a->is_read = (insn & A64_MRS_L) != 0;
	a->op0 = (uint8_t)(2 + (insn >> 19 & 1));
	a->op1 = (uint8_t)(insn >> 16 & 7);
	a->crn = (uint8_t)(insn >> 12 & 15);
	a->crm = (uint8_t)(insn >> 8 & 15);
	a->op2 = (uint8_t)(insn >> 5 & 7);
	a->rt = (uint8_t)(insn & 31);
	a->el = 1;
	a->known = !uc_cp_read(uc, &v, a->op0, a->op1, a->crn, a->crm, a->op2);
	a->value = !a->is_read && a->rt != 31 ? read_u64(uc, gpr_uc_id(a->rt)) : 0;
}

static void hook_intr(uc_engine *uc, uint32_t intno, void *user)
{
	struct rk_cpu *cpu = user;
	struct rk_cpu_exit e;
	uint64_t pc;
	uint32_t insn = 0;

	/* fast path: a handler that needs no immediate runs before any decoding */
	if (intno == RK_UC_EXCP_SMC && cpu->smc_fn && cpu->smc_no_imm) {
		bool done;

		cpu->in_hook = true;
		done = cpu->smc_fn(cpu, 0, cpu->smc_ctx);
		cpu->in_hook = false;
		if (done) {
			cpu->stats.smc_in_hook++;
			if (atomic_load(&cpu->want_stop))
				uc_emu_stop(uc);
			return;
		}
	}
	if (cpu->calibrating) {
		/* the known fault of calibrate(): keep the state, stop */
		cpu->calib_intno = intno;
		if (uc_context_save(uc, cpu->exc_ctx) != UC_ERR_OK)
			cpu->calib_intno = 0;
		uc_emu_stop(uc);
		return;
	}
	if (cpu->mode == RK_CPU_MODE_STAGE2 && intno != RK_UC_EXCP_SMC && intno != RK_UC_EXCP_HVC) {
		s2_exception(cpu, uc, intno);
		return;
	}
	pc = read_u64(uc, UC_ARM64_REG_PC);
	memset(&e, 0, sizeof(e));
	e.pc = pc;
	switch (intno) {
	case RK_UC_EXCP_SMC:
		fetch_insn(cpu, pc - 4, &insn);
		e.reason = RK_CPU_EXIT_SMC;
		e.insn = insn;
		e.imm = RK_A64_IMM16(insn);
		if (cpu->smc_fn && !cpu->smc_no_imm) {
			bool done;

			cpu->in_hook = true;
			done = cpu->smc_fn(cpu, e.imm, cpu->smc_ctx);
			cpu->in_hook = false;
			if (done) {
				cpu->stats.smc_in_hook++;
				/* An exception boundary: a safe place to stop. */
				if (atomic_load(&cpu->want_stop))
					uc_emu_stop(uc);
				return;
			}
		}
		break;
	case RK_UC_EXCP_HVC:
		fetch_insn(cpu, pc - 4, &insn);
		e.reason = RK_CPU_EXIT_HVC;
		e.insn = insn;
		e.imm = RK_A64_IMM16(insn);
		break;
	case RK_UC_EXCP_UDEF:
		fetch_insn(cpu, pc, &insn);
		e.reason = insn == A64_WFI ? RK_CPU_EXIT_WFI : RK_CPU_EXIT_UNDEF;
		e.insn = insn;
		if (e.reason == RK_CPU_EXIT_UNDEF)
			hooks_undef_sysreg(uc, insn, &e.sysreg);
		break;
	case RK_UC_EXCP_SVC:
	case RK_UC_EXCP_BKPT:
		if (intno == RK_UC_EXCP_SVC) {
			/* Preferred return: the next instruction. */
			fetch_insn(cpu, pc - 4, &insn);
			cpu->internal_esr = ESR_EC(ESR_EC_SVC64);
		} else {
			/* Preferred return: the BRK itself. */
			fetch_insn(cpu, pc, &insn);
			cpu->internal_esr = ESR_EC(ESR_EC_BRK64);
		}
		cpu->internal_esr |= ESR_IL | RK_A64_IMM16(insn);
		cpu->internal_far = 0;
		cpu->internal_elr = pc;
		if (!cpu->have_pending)
			cpu->internal = RK_CPU_INTERNAL_SYNC;
		uc_emu_stop(uc);
		return;
	default:
		/* Guest-MMU aborts, alignment faults... we cannot read their
		 * syndrome from Unicorn. */
		e.reason = RK_CPU_EXIT_ERROR;
		e.error = -ENOTSUP;
		fetch_insn(cpu, pc, &e.insn);
		break;
	}
	record(cpu, &e);
	uc_emu_stop(uc);
}

static bool hook_mem_fault(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
			   void *user)
{
	struct rk_cpu *cpu = user;
	struct rk_cpu_exit e;
	struct rk_cpu_ldst d;

	memset(&e, 0, sizeof(e));
	e.mem.addr = addr;
	e.mem.va = addr; /* hooks mode: the guest's MMU is off */
	e.mem.size = size > 0 ? (uint32_t)size : 0;
	switch (type) {
	case UC_MEM_FETCH_UNMAPPED:
	case UC_MEM_FETCH_PROT:
		e.reason = RK_CPU_EXIT_IABT;
		e.pc = addr;
		e.mem.is_perm = type == UC_MEM_FETCH_PROT;
		record(cpu, &e);
		return false;
	case UC_MEM_WRITE_UNMAPPED:
	case UC_MEM_WRITE_PROT:
		e.mem.is_write = true;
		break;
	default:
		break;
	}
	e.mem.is_perm = type == UC_MEM_WRITE_PROT || type == UC_MEM_READ_PROT;
	e.reason = RK_CPU_EXIT_DABT;
	e.pc = read_u64(uc, UC_ARM64_REG_PC); /* exact: see the design notes */
	if (fetch_insn(cpu, e.pc, &e.insn) && rk_cpu_decode_ldst(e.insn, &d) &&
	    d.is_load == !e.mem.is_write && d.size == e.mem.size) {
		e.mem.isv = true;
		e.mem.srt = d.rt;
		e.mem.sse = d.sse;
		e.mem.sf = d.sf;
		e.mem.ar = d.ar;
	}
	if (e.mem.is_write)
		e.mem.value =
			rk_cpu_ldst_extend((uint64_t)value, e.mem.size < 8 ? e.mem.size : 8, false, true);
	record(cpu, &e);
	return false; /* Unicorn longjmps out; nothing of the access happens */
}

/*
 * Every store (before it happens) and every load (after it). The store hook's
 * existence also makes the translator keep PC exact at loads and stores; see
 * the design notes. While a stop is wanted, stop right after this access if
 * the instruction can then resume exactly.
 */
static void hook_mem_access(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
			    void *user)
{
	struct rk_cpu *cpu = user;
	enum rk_cpu_resume how;
	struct rk_cpu_ldst d;
	uint32_t insn;
	uint64_t pc;

	/* the common case, on every load and store: no stop wanted */
	if (__builtin_expect(!atomic_load_explicit(&cpu->want_stop, memory_order_relaxed), 1))
		return;
	if (cpu->fix.valid)
		return;
	pc = read_u64(uc, UC_ARM64_REG_PC);
	if (!fetch_insn(cpu, pc, &insn))
		return;
	how = rk_cpu_resume_after_access(insn, type == UC_MEM_WRITE);
	if (how == RK_CPU_RESUME_REEXEC_FIRST) {
		unsigned rn = (insn >> 5) & 31u;

		how = addr == rk_cpu_pair_first_addr(insn, read_u64(uc, gpr_uc_id(rn))) ? RK_CPU_RESUME_REEXEC
											: RK_CPU_RESUME_NONE;
	}
	if (how == RK_CPU_RESUME_NONE)
		return;
	if (how == RK_CPU_RESUME_COMPLETE) {
		if (!rk_cpu_decode_ldst(insn, &d) || !d.is_load)
			return;
		cpu->fix.rt = d.rt;
		cpu->fix.value = rk_cpu_ldst_extend((uint64_t)value, d.size, d.sse, d.sf);
	}
	cpu->fix.complete = how == RK_CPU_RESUME_COMPLETE;
	cpu->fix.pc = pc;
	cpu->fix.valid = true;
	uc_emu_stop(uc); /* the engine leaves the block right after this access */
}

/*
 * Every translated block, before its first instruction and before the
 * engine's exit check at the block start: while a stop is wanted, stop there,
 * where PC is the block start and nothing of the block has run. This is the
 * stop point of code that makes no memory access.
 */
static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
	struct rk_cpu *cpu = user;

	(void)addr;
	(void)size;
	if (__builtin_expect(!atomic_load_explicit(&cpu->want_stop, memory_order_relaxed), 1))
		return;
	uc_emu_stop(uc);
}

/* ------------------------------------------------------------------------ */
/* Watchdog                                                                 */
/* ------------------------------------------------------------------------ */

/* A stop request the watchdog re-issues first after this long, then twice as long each time. */
#define RK_CPU_STOP_RETRY_NS 20000ull
#define RK_CPU_STOP_RETRY_MAX_NS 2000000ull

/*
 * Ask the running vCPU to stop at its next exact point (lock held, armed).
 * Hooks mode: its own hooks see want_stop. Stage-2 mode: uc_emu_stop(),
 * which the engine takes at its next block start or exception boundary (the
 * exit checks after loads and stores are off: stop_calibrate_locked); the
 * watchdog issues it again until the run ends (wd_main).
 */
static void want_stop_locked(struct rk_cpu *cpu)
{
	atomic_store(&cpu->want_stop, true);
	if (cpu->mode == RK_CPU_MODE_STAGE2 && cpu->armed)
		uc_emu_stop(cpu->uc);
}

static void *wd_main(void *arg)
{
	struct rk_cpu *cpu = arg;
	uint64_t retry_ns = 0, gen = 0;

	pthread_mutex_lock(&cpu->lock);
	while (!cpu->wd_quit) {
		struct timespec now, wake;
		bool kick, expired;

		if (!cpu->armed) {
			cpu->wd_timed_wait = false;
			pthread_cond_wait(&cpu->cond, &cpu->lock);
			continue;
		}
		if (gen != cpu->run_gen) {
			gen = cpu->run_gen;
			retry_ns = 0;
		}
		now = mono_now();
		kick = atomic_load(&cpu->kick_pending);
		expired = cpu->has_deadline && ts_cmp(&now, &cpu->deadline) >= 0;
		if (expired)
			atomic_store(&cpu->timed_out, true);
		if (kick || expired) {
			/* Hooks mode: the vCPU stops itself at its next exact
			 * point; never uc_emu_stop() (see the design notes). */
			want_stop_locked(cpu);
			if (cpu->mode == RK_CPU_MODE_STAGE2) {
				/* Again until the run ends (wd_disarm): a stop that
				 * lands before uc_emu_start() clears its stop request,
				 * or between two uc_emu_start() of the run, is lost. */
				retry_ns = retry_ns ? retry_ns * 2 : RK_CPU_STOP_RETRY_NS;
				if (retry_ns > RK_CPU_STOP_RETRY_MAX_NS)
					retry_ns = RK_CPU_STOP_RETRY_MAX_NS;
				wake = ts_add_ns(now, retry_ns);
				cpu->wd_timed_wait = true;
				cpu->wd_wake = wake;
				pthread_cond_timedwait(&cpu->cond, &cpu->lock, &wake);
				cpu->wd_timed_wait = false;
				continue;
			}
			cpu->wd_timed_wait = false;
			pthread_cond_wait(&cpu->cond, &cpu->lock);
			continue;
		}
		if (cpu->has_deadline) {
			wake = cpu->deadline;
		} else {
			cpu->wd_timed_wait = false;
			pthread_cond_wait(&cpu->cond, &cpu->lock);
			continue;
		}
		cpu->wd_timed_wait = true;
		cpu->wd_wake = wake;
		pthread_cond_timedwait(&cpu->cond, &cpu->lock, &wake);
		cpu->wd_timed_wait = false;
	}
	pthread_mutex_unlock(&cpu->lock);
	return NULL;
}

static void wd_arm(struct rk_cpu *cpu, uint64_t timeout_us)
{
	pthread_mutex_lock(&cpu->lock);
	cpu->armed = true;
	cpu->run_gen++;
	atomic_store(&cpu->want_stop, false);
	atomic_store(&cpu->timed_out, false);
	cpu->has_deadline = timeout_us != 0;
	if (cpu->has_deadline) {
		uint64_t ns = timeout_us > UINT64_MAX / 1000u ? UINT64_MAX : timeout_us * 1000u;

		cpu->deadline = ts_add_ns(mono_now(), ns);
		if (!cpu->wd_timed_wait || ts_cmp(&cpu->deadline, &cpu->wd_wake) < 0)
			pthread_cond_signal(&cpu->cond);
	}
	if (atomic_load(&cpu->kick_pending)) { /* a kick raced with the start */
		want_stop_locked(cpu);
		pthread_cond_signal(&cpu->cond); /* stage-2 mode: the watchdog repeats it */
	}
	pthread_mutex_unlock(&cpu->lock);
}

static void wd_disarm(struct rk_cpu *cpu)
{
	pthread_mutex_lock(&cpu->lock);
	cpu->armed = false;
	atomic_store(&cpu->want_stop, false);
	pthread_mutex_unlock(&cpu->lock);
}

void rk_cpu_kick(struct rk_cpu *cpu)
{
	if (!cpu)
		return;
	pthread_mutex_lock(&cpu->lock);
	atomic_store(&cpu->kick_pending, true);
	if (cpu->armed)
		want_stop_locked(cpu);
	pthread_cond_signal(&cpu->cond);
	pthread_mutex_unlock(&cpu->lock);
}

/* ------------------------------------------------------------------------ */
/* Lifecycle                                                                */
/* ------------------------------------------------------------------------ */

/*
 * The large anonymous rwx mappings of the process: Unicorn's code buffers
 * (nothing else here maps memory writable and executable). Returns how many
 * were stored in starts[] (at most max), or -1 if /proc/self/maps is unreadable.
 */
static int find_code_bufs(uintptr_t *starts, size_t *sizes, unsigned max)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	unsigned n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		uintptr_t lo, hi;
		char perms[8];
		unsigned long long off;
		unsigned long inode;
		int path = 0;

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %llx %*x:%*x %lu %n", &lo, &hi, perms, &off,
			   &inode, &path) < 5)
			continue;
		if (strcmp(perms, "rwxp") || inode != 0 || hi - lo < RK_CPU_CODE_BUF_MIN ||
		    (path > 0 && line[path] != '\n' && line[path] != '\0'))
			continue;
		if (n < max) {
			starts[n] = lo;
			sizes[n] = hi - lo;
		}
		n++;
	}
	fclose(f);
	return n <= max ? (int)n : -1;
}

static int setup_engine(struct rk_cpu *cpu);
static unsigned to_uc_prot(unsigned prot);

/*
 * The code buffers the last scan found (engine_open_lock; nknown -1: none to
 * trust, scan before opening). Reading /proc/self/maps costs ~40-60 us here,
 * so an open compares its one scan with the list the previous open left,
 * less the buffers of the engines closed since (close_engine_locked). A
 * buffer that came or went unseen (an engine opened outside rk_cpu) can only
 * make an open find no buffer or two, and then that vCPU bounds its code by
 * runs (RK_CPU_CODE_FALLBACK_RUNS), as when the scan fails.
 */
static uintptr_t known_buf[RK_CPU_CODE_BUFS_MAX];
static size_t known_buf_sz[RK_CPU_CODE_BUFS_MAX];
static int nknown = -1;

/* Close cpu's engine (engine_open_lock held): its code buffer leaves the known list. */
static void close_engine_locked(struct rk_cpu *cpu)
{
	int i;

	uc_close(cpu->uc);
	cpu->uc = NULL;
	for (i = 0; cpu->code_buf && i < nknown; i++)
		if (known_buf[i] == (uintptr_t)cpu->code_buf)
			break;
	if (!cpu->code_buf || i >= nknown) {
		nknown = -1; /* not ours to remove: scan before the next open */
	} else {
		known_buf[i] = known_buf[nknown - 1];
		known_buf_sz[i] = known_buf_sz[nknown - 1];
		nknown--;
	}
	cpu->code_buf = NULL;
}

static void close_engine(struct rk_cpu *cpu)
{
	pthread_mutex_lock(&engine_open_lock);
	close_engine_locked(cpu);
	pthread_mutex_unlock(&engine_open_lock);
}

/* Open and set up cpu's engine, and find its code buffer (engine_open_lock held). */
static int open_engine_locked(struct rk_cpu *cpu)
{
	static uintptr_t before[RK_CPU_CODE_BUFS_MAX], after[RK_CPU_CODE_BUFS_MAX];
	static size_t before_sz[RK_CPU_CODE_BUFS_MAX], after_sz[RK_CPU_CODE_BUFS_MAX];
	int nb, na, found = -1, rc;
	uint64_t budget = atomic_load(&code_budget_default);

	rk_ucfix_init(); /* once, before the first engine (it opens and closes one of its own) */
	if (nknown >= 0) {
		nb = nknown;
		memcpy(before, known_buf, (size_t)nb * sizeof(*before));
		memcpy(before_sz, known_buf_sz, (size_t)nb * sizeof(*before_sz));
	} else {
		nb = find_code_bufs(before, before_sz, RK_CPU_CODE_BUFS_MAX);
	}
	cpu->code_buf = NULL;

	if (uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &cpu->uc) != UC_ERR_OK) {
		cpu->uc = NULL;
		return -EIO;
	}
	rc = setup_engine(cpu); /* its first register write allocates the code buffer */
	if (rc)
		return rc;
	na = find_code_bufs(after, after_sz, RK_CPU_CODE_BUFS_MAX);
	nknown = na;
	if (na > 0) {
		memcpy(known_buf, after, (size_t)na * sizeof(*after));
		memcpy(known_buf_sz, after_sz, (size_t)na * sizeof(*after_sz));
	}
	for (int i = 0; nb >= 0 && na >= 0 && i < na; i++) {
		bool old = false;

		for (int j = 0; j < nb; j++)
			old = old || (before[j] == after[i] && before_sz[j] == after_sz[i]);
		if (old)
			continue;
		found = found == -1 ? i : -2; /* exactly one new buffer, or none */
	}
	if (found >= 0) {
		/* on a huge-page boundary: the buffer may be backed by transparent
		 * huge pages, resident 2 MiB at a time */
		uint64_t trip = (budget + RK_CPU_CODE_ALIGN - 1) & ~(RK_CPU_CODE_ALIGN - 1);

		if (trip > after_sz[found] / 2)
			trip = (after_sz[found] / 2) & ~(RK_CPU_CODE_ALIGN - 1);
		cpu->code_buf = (uint8_t *)after[found];
		cpu->code_size = after_sz[found];
		cpu->code_trip = (size_t)trip;
	}
	return 0;
}

void rk_cpu_set_code_budget(uint64_t bytes)
{
	atomic_store(&code_budget_default, bytes ? bytes : RK_CPU_CODE_BUDGET);
}

static int park_engine(struct rk_cpu *cpu);

/*
 * Before a run: once the engine's translations have reached the budget, give
 * them all up (see the design notes: not with a TB flush, which in Unicorn
 * 2.0.1 zeroes the whole 1 GiB buffer, but by moving to a fresh engine).
 */
static void bound_code(struct rk_cpu *cpu)
{
	unsigned char resident = 0;

	if (cpu->broken || ++cpu->runs_since_check < RK_CPU_CODE_CHECK_RUNS)
		return;
	cpu->runs_since_check = 0;
	if (cpu->code_buf) {
		if (mincore(cpu->code_buf + cpu->code_trip, RK_CPU_PAGE_SIZE, &resident) || !(resident & 1))
			return;
	} else if ((cpu->runs_since_flush += RK_CPU_CODE_CHECK_RUNS) < RK_CPU_CODE_FALLBACK_RUNS) {
		return;
	}
	/* park it: the run opens a fresh engine in the same state (wake()) */
	if (park_engine(cpu))
		return; /* try again before the next run */
	cpu->runs_since_flush = 0;
	cpu->stats.code_flushes++;
}

/* ------------------------------------------------------------------------ */
/* Stage-2 mode: the engine's physical address space, calibration           */
/* ------------------------------------------------------------------------ */

/* An access that translation led to a shadow region: a backend defect. */
static void shadow_hit(struct rk_cpu *cpu, uc_engine *uc)
{
	struct rk_cpu_exit e;

	memset(&e, 0, sizeof(e));
	e.reason = RK_CPU_EXIT_ERROR;
	e.error = -EIO;
	e.pc = read_u64(uc, UC_ARM64_REG_PC);
	record(cpu, &e);
	uc_emu_stop(uc);
}

static uint64_t shadow_read(uc_engine *uc, uint64_t off, unsigned size, void *user)
{
	(void)off;
	(void)size;
	shadow_hit(user, uc);
	return 0;
}

static void shadow_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t value, void *user)
{
	(void)off;
	(void)size;
	(void)value;
	shadow_hit(user, uc);
}

static bool hook_s2_unmapped(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
			     void *user)
{
	(void)type;
	(void)addr;
	(void)size;
	(void)value;
	shadow_hit(user, uc);
	return false;
}

static int shadow_map(struct rk_cpu *cpu, uint64_t start, uint64_t size)
{
	if (size == 0)
		return 0;
	if (cpu->nshadows >= RK_S2_MAX_SHADOWS ||
	    uc_mmio_map(cpu->uc, start, size, shadow_read, cpu, shadow_write, cpu) != UC_ERR_OK ||
	    uc_mem_protect(cpu->uc, start, size, UC_PROT_ALL) != UC_ERR_OK)
		return -EIO;
	cpu->shadows[cpu->nshadows++] = (struct rk_cpu_span){ start, size };
	return 0;
}

/*
 * Bring the engine's physical address space up to date: the pool and every
 * window (setup_engine_s2), then, at the first run, shadows over the rest.
 * A shadow is never unmapped: Unicorn 2.0.1 flushes its TLB page by page
 * when it unmaps a region (hours for a 2^48-byte shadow). So a window added
 * after the shadows moves the vCPU to a fresh engine (rk_cpu_run), which
 * lays everything out again; the RMM adds its DRAM before the first run.
 */
static int s2_layout(struct rk_cpu *cpu, bool shadows)
{
	uc_engine *uc = cpu->uc;
	uint64_t at;

	if (!cpu->pool_in_engine) {
		if (uc_mem_map_ptr(uc, RK_S2_POOL_PA, RK_S2_POOL_SIZE, UC_PROT_ALL, cpu->tt_pool) !=
		    UC_ERR_OK)
			return -EIO;
		cpu->pool_in_engine = true;
	}
	for (unsigned i = 0; i < cpu->nwin; i++) {
		struct rk_cpu_window *w = &cpu->win[i];

		if (w->in_engine)
			continue;
		if (cpu->shadowed)
			return -EAGAIN; /* a fresh engine is needed */
		if (uc_mem_map_ptr(uc, w->pa, w->size, UC_PROT_ALL, w->host) != UC_ERR_OK)
			return -EIO;
		w->in_engine = true;
		cpu->stats.engine_maps++;
	}
	cpu->layout_dirty = false;
	if (!shadows || cpu->shadowed)
		return 0;
	at = RK_S2_POOL_PA + RK_S2_POOL_SIZE;
	for (unsigned i = 0; i < cpu->nwin; i++) {
		if (shadow_map(cpu, at, cpu->win[i].pa - at))
			return -EIO;
		at = cpu->win[i].pa + cpu->win[i].size;
	}
	/* the rest of the 64-bit space as one region (each region costs the engine a TLB flush and
	 * a rebuild of its memory map, ~10 us): its end wraps to 0, which Unicorn's lookup handles */
	if (shadow_map(cpu, at, 0 - at))
		return -EIO;
	cpu->shadowed = true;
	return 0;
}

static void calib_fail(const char *what, int found, int expected)
{
	fprintf(stderr,
		"realmkit: the CPU engine (Unicorn) failed its start-up calibration: %s "
		"(context offset %d, expected %d); this Unicorn build is not supported in "
		"stage-2 mode\n",
		what, found, expected);
}

/* A unique offset of exc in blob, or -1. */
static int calib_search(const uint8_t *blob, size_t size, const struct exc_info *want)
{
	int found = -1;

	for (size_t off = 0; off + 20 <= size; off += 4) {
		struct exc_info x = exc_at(blob, off);

		if (x.esr != want->esr || x.far != want->far || x.target_el != want->target_el)
			continue;
		if (found >= 0)
			return -1;
		found = (int)off;
	}
	return found;
}

/*
 * Exact asynchronous stops (stage-2 mode; see the design notes). Unicorn
 * 2.0.1 emits an exit check after every load and store (tcg-op.c,
 * check_exit_request) besides the one at every block start; an exit taken
 * there resets PC to the block start while registers and memory already hold
 * the instructions before the access. The translator leaves those checks out
 * while uc_struct.no_exit_request is set (Unicorn's own switch for AArch32 IT
 * blocks, never touched by A64 translation). The first stage-2 engine finds
 * that byte (stop_find: a run of fields around it whose values are known) and
 * checks that it does what it should (stop_probe); every engine checks the
 * fields around it again and sets it before translating anything. Then a
 * uc_emu_stop() from any thread is taken at a block start or an exception
 * boundary only.
 */
static int noexit_offset = -1; /* calib_lock */
static int noexit_bias;        /* calib_lock; tests */

void rk_cpu_unicorn_stop_calibration_test(int bias)
{
	pthread_mutex_lock(&calib_lock);
	noexit_bias = bias;
	noexit_offset = -1;
	pthread_mutex_unlock(&calib_lock);
}

int rk_cpu_unicorn_stop_offset(void)
{
	int off;

	pthread_mutex_lock(&calib_lock);
	off = noexit_offset;
	pthread_mutex_unlock(&calib_lock);
	return off;
}

/*
 * uc_struct's fields from target_page_size to init_done, at base + o:
 * u32 target_page_size, u32 target_page_align (size - 1), u64
 * qemu_host_page_size, u64 qemu_real_host_page_size, int
 * qemu_icache_linesize, int cpu_context_size (uc_context_size() less the
 * blob's 16-byte header), u64 next_pc, bool hook_insert (0), bool first_tb,
 * bool no_exit_request (0 in a new engine), bool init_done (1). Returns the
 * offset of no_exit_request, or -1 if the fields are not there.
 */
static int noexit_at(const uint8_t *base, size_t size, size_t o, uint32_t page, uint32_t ctx)
{
	uint32_t ps, pa;
	uint64_t hp, rhp;
	int32_t line, cs;

	if (o + 44 > size)
		return -1;
	memcpy(&ps, base + o, 4);
	memcpy(&pa, base + o + 4, 4);
	memcpy(&hp, base + o + 8, 8);
	memcpy(&rhp, base + o + 16, 8);
	memcpy(&line, base + o + 24, 4);
	memcpy(&cs, base + o + 28, 4);
	if (ps != page || pa != page - 1 || hp < rhp || rhp != (uint64_t)sysconf(_SC_PAGESIZE) || line <= 0 ||
	    line > 4096 || cs < 0 || (uint32_t)cs != ctx || base[o + 40] != 0 || base[o + 41] > 1 ||
	    base[o + 42] != 0 || base[o + 43] != 1)
		return -1;
	return (int)(o + 42);
}

/* The unique offset of no_exit_request in uc (-1 if not exactly one). */
static int stop_find(uc_engine *uc, uint32_t page, uint32_t ctx)
{
	const uint8_t *base = (const uint8_t *)uc;
	size_t size = malloc_usable_size(uc); /* the engine is one calloc() */
	int found = -1;

	for (size_t o = 0; o + 44 <= size; o += 8) {
		int at = noexit_at(base, size, o, page, ctx);

		if (at < 0)
			continue;
		if (found >= 0)
			return -1;
		found = at;
	}
	return found;
}

static uint64_t probe_read(uc_engine *uc, uint64_t off, unsigned size, void *user)
{
	(void)off;
	(void)size;
	(void)user;
	uc_emu_stop(uc); /* a stop requested during a load */
	return 0;
}

static void probe_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t value, void *user)
{
	(void)uc;
	(void)off;
	(void)size;
	(void)value;
	(void)user;
}

/*
 * Run "mov x1, #1; ldr x2, [x3]; mov x1, #2; b ." at pool offset off (at the
 * reset regime: PA == VA), the load reading the probe's MMIO page, whose read
 * asks the engine to stop. 1: the stop was taken right after the load (x1 ==
 * 1, PC back at the block start: the inexact exit); 0: at the next block
 * start (x1 == 2, PC on the b .); -EIO: neither.
 */
static int stop_probe(struct rk_cpu *cpu, uint32_t off)
{
	static const uint32_t code[] = { 0xd2800021, 0xf9400062, 0xd2800041, 0x14000000 };
	uc_engine *uc = cpu->uc;
	uint64_t x1, pc;

	memcpy(cpu->tt_pool + off, code, sizeof(code));
	write_u64(uc, UC_ARM64_REG_X1, 0);
	write_u64(uc, UC_ARM64_REG_X3, RK_S2_PROBE_MMIO);
	if (uc_emu_start(uc, RK_S2_POOL_PA + off, 0, 0, 0) != UC_ERR_OK)
		return -EIO;
	x1 = read_u64(uc, UC_ARM64_REG_X1);
	pc = read_u64(uc, UC_ARM64_REG_PC);
	write_u64(uc, UC_ARM64_REG_X1, 0);
	write_u64(uc, UC_ARM64_REG_X2, 0);
	write_u64(uc, UC_ARM64_REG_X3, 0);
	if (x1 == 1 && pc == RK_S2_POOL_PA + off)
		return 1;
	if (x1 == 2 && pc == RK_S2_POOL_PA + off + 12)
		return 0;
	return -EIO;
}

/* Find (the first engine) or verify the no_exit_request byte, and set it (calib_lock held). */
static int stop_calibrate_locked(struct rk_cpu *cpu)
{
	uc_engine *uc = cpu->uc;
	size_t page = 0, size = malloc_usable_size(uc);
	uint32_t ctx;
	int rc = 0, off;

	if (uc_query(uc, UC_QUERY_PAGE_SIZE, &page) != UC_ERR_OK || page == 0 || page > UINT32_MAX ||
	    uc_context_size(uc) < 16 || uc_context_size(uc) - 16 > UINT32_MAX)
		return -EIO;
	ctx = (uint32_t)(uc_context_size(uc) - 16);
	if (noexit_offset < 0) {
		bool probe_mapped = false;

		off = stop_find(uc, (uint32_t)page, ctx);
		if (off < 0) {
			calib_fail("the engine's exit-check switch was not found (once)", -1, -1);
			return -ENOTSUP;
		}
		if (noexit_bias && noexit_at((const uint8_t *)uc, size, (size_t)(off + noexit_bias - 42),
					     (uint32_t)page, ctx) != off + noexit_bias) {
			calib_fail("the engine's exit-check switch is not where it was found",
				   off + noexit_bias, off);
			return -ENOTSUP;
		}
		if (uc_mmio_map(uc, RK_S2_PROBE_MMIO, RK_CPU_PAGE_SIZE, probe_read, cpu, probe_write, cpu) !=
		    UC_ERR_OK)
			return -EIO;
		probe_mapped = true;
		/* without the switch: the exit lands mid-block (what must not happen) */
		if (stop_probe(cpu, RK_S2_PROBE_OFF) != 1) {
			calib_fail("a stop during a load did not behave as expected", off, -1);
			rc = -ENOTSUP;
		} else {
			((uint8_t *)uc)[off] = 1;
			/* with it: at the next block start */
			if (stop_probe(cpu, RK_S2_PROBE_OFF + 0x100) != 0) {
				calib_fail("the exit-check switch did not move the stop to a block start",
					   off, -1);
				((uint8_t *)uc)[off] = 0;
				rc = -ENOTSUP;
			}
		}
		if (probe_mapped && uc_mem_unmap(uc, RK_S2_PROBE_MMIO, RK_CPU_PAGE_SIZE) != UC_ERR_OK && !rc)
			rc = -EIO;
		if (rc)
			return rc;
		noexit_offset = off;
		return 0;
	}
	off = noexit_offset + noexit_bias;
	if (off < 42 || noexit_at((const uint8_t *)uc, size, (size_t)off - 42, (uint32_t)page, ctx) != off) {
		calib_fail("the engine's exit-check switch is not where it was found", off, noexit_offset);
		return -ENOTSUP;
	}
	((uint8_t *)uc)[off] = 1;
	return 0;
}

/* A sentinel for anchor i of check n (never 0: the registers' reset value). */
static uint64_t calib_sentinel(uint64_t n, unsigned i)
{
	return (0x5ca1ab1e00000000ull | (uint64_t)(i + 1) << 28) ^ (n * 0x9e3779b97f4a7c15ull >> 8);
}

/* The unique offset of the 8 bytes v in blob (4-aligned), or -1. */
static int blob_find_u64(const uint8_t *blob, size_t size, uint64_t v)
{
	int found = -1;

	for (size_t off = 0; off + 8 <= size; off += 4) {
		if (memcmp(blob + off, &v, 8))
			continue;
		if (found >= 0)
			return -1;
		found = (int)off;
	}
	return found;
}

/*
 * Write a sentinel into every anchor register, save the context into
 * cpu->exc_ctx, and put the registers back to 0 (their value in every
 * engine's reset state). The sentinels are returned in v.
 */
static int calib_mark(struct rk_cpu *cpu, uint64_t n, uint64_t v[RK_CALIB_ANCHORS])
{
	uc_engine *uc = cpu->uc;
	int rc = 0;

	for (unsigned i = 0; i < RK_CALIB_ANCHORS; i++) {
		v[i] = calib_sentinel(n, i);
		if (uc_reg_write(uc, calib_anchor_reg[i], &v[i]) != UC_ERR_OK)
			rc = -EIO;
	}
	if (!rc && uc_context_save(uc, cpu->exc_ctx) != UC_ERR_OK)
		rc = -EIO;
	for (unsigned i = 0; i < RK_CALIB_ANCHORS; i++)
		write_u64(uc, calib_anchor_reg[i], 0);
	return rc;
}

/*
 * Every engine after the calibrating one (calib_lock held): restore the
 * calibrated engine's context (the reset state at NS EL1: a context restore
 * carries the EL and the translation regime, as parking relies on), then
 * check that this engine's context has the calibrated layout: fresh
 * sentinels written to the anchor registers appear at their offsets from
 * env->exception, and env->exception holds the known fault the template
 * carries. -ENOTSUP and a message on a mismatch.
 */
static int calib_check_locked(struct rk_cpu *cpu, const struct exc_info *want)
{
	uc_engine *uc = cpu->uc;
	const uint8_t *blob = (const uint8_t *)cpu->exc_ctx;
	size_t size = uc_context_size(uc);
	int off = exc_offset + exc_bias;
	uint64_t v[RK_CALIB_ANCHORS];
	bool ok;

	if (uc_context_restore(uc, calib_template) != UC_ERR_OK || calib_mark(cpu, ++calib_checks, v))
		return -EIO;
	ok = off >= 0 && (size_t)off + 20 <= size;
	for (unsigned i = 0; ok && i < RK_CALIB_ANCHORS; i++) {
		int at = off + calib_anchor[i];

		ok = at >= 0 && (size_t)at + 8 <= size && !memcmp(blob + at, &v[i], 8);
	}
	if (ok) {
		struct exc_info x = exc_at(blob, (size_t)off);

		ok = x.esr == want->esr && x.far == want->far && x.target_el == want->target_el;
	}
	if (!ok) {
		calib_fail("the engine's context does not have the calibrated layout", off, exc_offset);
		return -ENOTSUP;
	}
	return 0;
}

/*
 * The first engine (calib_lock held, after the known fault, exc_offset found):
 * locate the anchor registers relative to env->exception, and keep the
 * engine's context, to be put in the reset state by the caller before it is
 * saved (calib_keep_template).
 */
static int calib_find_anchors_locked(struct rk_cpu *cpu)
{
	size_t size = uc_context_size(cpu->uc);
	uint64_t v[RK_CALIB_ANCHORS];
	int rc = calib_mark(cpu, 0, v);

	if (rc)
		return rc;
	for (unsigned i = 0; i < RK_CALIB_ANCHORS; i++) {
		int at = blob_find_u64((const uint8_t *)cpu->exc_ctx, size, v[i]);

		if (at < 0) {
			calib_fail(
				"a register written for the layout check was not found (once) in the context",
				-1, exc_offset);
			return -ENOTSUP;
		}
		calib_anchor[i] = at - exc_offset;
	}
	return 0;
}

/*
 * Enter NS EL1 under stage 2 (an eret: the engine computes its translation
 * regime at exceptions and returns only) and take a known stage-2 fault: an
 * instruction fetch at RK_S2_CALIB_IPA, which the empty stage 2 does not map.
 * Its syndrome, address and target EL locate env->exception in the context
 * blob. That is the first engine's calibration (and again after
 * rk_cpu_unicorn_calibration_test); it keeps its context, in the reset state,
 * as the template of the later engines, which restore it and check their
 * context's layout without a run (calib_check_locked: ~30 us less per
 * engine). Leaves the vCPU in its reset state at NS EL1. -ENOTSUP on a
 * mismatch.
 */
static int calibrate(struct rk_cpu *cpu)
{
	uc_engine *uc = cpu->uc;
	static const uint8_t eret[4] = { 0xe0, 0x03, 0x9f, 0xd6 };
	const struct exc_info want = { RK_S2_CALIB_ESR, RK_S2_CALIB_IPA, 2 };
	uint64_t hpfar = 0;
	uint32_t pstate = PSTATE_EL1H_DAIF;
	bool full;
	int off, rc;

	pthread_mutex_lock(&calib_lock);
	rc = stop_calibrate_locked(cpu);
	full = exc_offset < 0 || !calib_template;
	if (!rc && !full)
		rc = calib_check_locked(cpu, &want);
	pthread_mutex_unlock(&calib_lock);
	if (rc)
		return rc;
	if (!full)
		goto reset; /* the template's state, on this vCPU's stage 2 */
	memcpy(cpu->tt_pool + RK_S2_TRAMP_OFF, eret, sizeof(eret));
	memset(cpu->tt_pool + RK_S2_EMPTY_ROOT_OFF, 0, RK_S2TT_PAGE);
	write_u64(uc, UC_ARM64_REG_ELR_EL1, RK_S2_CALIB_IPA);
	if (CP_WRITE(uc, PSTATE_EL1H_DAIF, SYSREG_SPSR_EL1) || CP_WRITE(uc, 0, SYSREG_HPFAR_EL2) ||
	    CP_WRITE(uc, (RK_S2_POOL_PA + RK_S2_EMPTY_ROOT_OFF) | 3ull << VTTBR_EL2_VMID_SHIFT,
		     SYSREG_VTTBR_EL2))
		return -EIO;
	cpu->calibrating = true;
	cpu->calib_intno = 0;
	uc_emu_start(uc, RK_S2_POOL_PA + RK_S2_TRAMP_OFF, 0, 0, 0);
	cpu->calibrating = false;
	if (CP_READ(uc, &hpfar, SYSREG_HPFAR_EL2))
		return -EIO;
	pthread_mutex_lock(&calib_lock);
	calib_runs++;
	if (cpu->calib_intno != RK_UC_EXCP_PREFETCH_ABORT ||
	    read_u64(uc, UC_ARM64_REG_PC) != RK_S2_CALIB_IPA ||
	    hpfar != (RK_S2_CALIB_IPA >> 12) << HPFAR_EL2_FIPA_SHIFT) {
		calib_fail("the known stage-2 fault was not taken as expected", -1, exc_offset);
		rc = -ENOTSUP;
		goto out;
	}
	if (exc_offset < 0) {
		exc_offset = calib_search((const uint8_t *)cpu->exc_ctx, uc_context_size(uc), &want);
		if (exc_offset < 0) {
			calib_fail("the exception syndrome was not found (once) in the context", -1, -1);
			rc = -ENOTSUP;
			goto out;
		}
	}
	/* (cpu->exc_ctx now holds the fault with the anchors marked) */
	rc = calib_find_anchors_locked(cpu);
	if (rc)
		goto out;
	off = exc_offset + exc_bias;
	if (off < 0 || (size_t)off + 20 > uc_context_size(uc)) {
		calib_fail("the exception syndrome is outside the context", off, exc_offset);
		rc = -ENOTSUP;
		goto out;
	} else {
		struct exc_info x = exc_at((const uint8_t *)cpu->exc_ctx, (size_t)off);

		if (x.esr != want.esr || x.far != want.far || x.target_el != want.target_el) {
			calib_fail("the exception syndrome is not where it was found", off, exc_offset);
			rc = -ENOTSUP;
			goto out;
		}
	}
out:
	pthread_mutex_unlock(&calib_lock);
	if (rc)
		return rc;
	write_u64(uc, UC_ARM64_REG_PC, 0);
	write_u64(uc, UC_ARM64_REG_ELR_EL1, 0);
	if (CP_WRITE(uc, 0, SYSREG_SPSR_EL1) || uc_reg_write(uc, UC_ARM64_REG_PSTATE, &pstate) != UC_ERR_OK)
		return -EIO;
	/* the reset state at NS EL1, for the later engines */
	pthread_mutex_lock(&calib_lock);
	if (!calib_template && uc_context_alloc(uc, &calib_template) != UC_ERR_OK)
		calib_template = NULL;
	if (calib_template && uc_context_save(uc, calib_template) != UC_ERR_OK) {
		uc_context_free(calib_template);
		calib_template = NULL;
	}
	pthread_mutex_unlock(&calib_lock);
reset:
	/* on the vCPU's stage 2 (a VMID of its own: the TLB holds nothing of it) */
	if (CP_WRITE(uc, rk_s2tt_root_pa(&cpu->tt) | (uint64_t)cpu->vmid << VTTBR_EL2_VMID_SHIFT,
		     SYSREG_VTTBR_EL2) ||
	    CP_WRITE(uc, cpu->hcr, SYSREG_HCR_EL2))
		return -EIO;
	return 0;
}

static int setup_engine_s2(struct rk_cpu *cpu)
{
	uc_engine *uc = cpu->uc;
	uc_hook h;
	int rc;

	/* a new engine has none of our memory */
	cpu->pool_in_engine = false;
	cpu->shadowed = false;
	cpu->nshadows = 0;
	for (unsigned i = 0; i < cpu->nwin; i++)
		cpu->win[i].in_engine = false;
	if (!cpu->exc_ctx && uc_context_alloc(uc, &cpu->exc_ctx) != UC_ERR_OK) {
		cpu->exc_ctx = NULL;
		return -ENOMEM;
	}
	if (CP_WRITE(uc, SCR_EL3_NS | SCR_EL3_RW | SCR_EL3_HCE, SYSREG_SCR_EL3) ||
	    CP_WRITE(uc, RK_S2_VTCR, SYSREG_VTCR_EL2) ||
	    CP_WRITE(uc, rk_s2tt_root_pa(&cpu->tt) | (uint64_t)cpu->vmid << VTTBR_EL2_VMID_SHIFT,
		     SYSREG_VTTBR_EL2) ||
	    CP_WRITE(uc, cpu->hcr, SYSREG_HCR_EL2) || CP_WRITE(uc, 0x80000000ull, SYSREG_VMPIDR_EL2))
		return -EIO;
	if (uc_ctl_exits_enable(uc) != UC_ERR_OK)
		return -EIO;
	rc = s2_layout(cpu, false);
	if (rc)
		return rc;
	/* All hooks before anything is translated; none on loads and stores, none
	 * per block: stops come from uc_emu_stop() (stop_calibrate_locked). */
	if (uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)hook_intr, cpu, 1, 0) != UC_ERR_OK ||
	    uc_hook_add(uc, &h, UC_HOOK_MEM_UNMAPPED | UC_HOOK_MEM_PROT, (void *)hook_s2_unmapped, cpu, 1,
			0) != UC_ERR_OK ||
	    uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)hook_mrs, cpu, 1, 0, UC_ARM64_INS_MRS) != UC_ERR_OK ||
	    uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)hook_msr, cpu, 1, 0, UC_ARM64_INS_MSR) != UC_ERR_OK ||
	    uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)hook_sys, cpu, 1, 0, UC_ARM64_INS_SYS) != UC_ERR_OK)
		return -EIO;
	return calibrate(cpu);
}

static int setup_engine(struct rk_cpu *cpu)
{
	uc_engine *uc = cpu->uc;
	uc_hook h;
	uint32_t pstate = PSTATE_EL1H_DAIF;

	if (cpu->mode == RK_CPU_MODE_STAGE2)
		return setup_engine_s2(cpu);

	/* EL1 is AArch64 only with SCR_EL3.RW; NS makes EL2 (HCR_EL2, VMPIDR)
	 * apply; HCE turns HVC from UNDEF into an HVC exception. */
	if (CP_WRITE(uc, SCR_EL3_NS | SCR_EL3_RW | SCR_EL3_HCE, SYSREG_SCR_EL3))
		return -EIO;
	if (CP_WRITE(uc, cpu->hcr, SYSREG_HCR_EL2))
		return -EIO;
	if (CP_WRITE(uc, MPIDR_EL1_RES1, SYSREG_VMPIDR_EL2))
		return -EIO;
	if (uc_reg_write(uc, UC_ARM64_REG_PSTATE, &pstate) != UC_ERR_OK)
		return -EIO;
	/* No "until" address: a guest branch to 0 must be an abort, not a stop. */
	if (uc_ctl_exits_enable(uc) != UC_ERR_OK)
		return -EIO;
	/* All hooks before anything is translated. */
	if (uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)hook_intr, cpu, 1, 0) != UC_ERR_OK ||
	    uc_hook_add(uc, &h, UC_HOOK_MEM_UNMAPPED | UC_HOOK_MEM_PROT, (void *)hook_mem_fault, cpu, 1, 0) !=
		    UC_ERR_OK ||
	    uc_hook_add(uc, &h, UC_HOOK_MEM_WRITE | UC_HOOK_MEM_READ_AFTER, (void *)hook_mem_access, cpu, 1,
			0) != UC_ERR_OK ||
	    uc_hook_add(uc, &h, UC_HOOK_BLOCK, (void *)hook_block, cpu, 1, 0) != UC_ERR_OK)
		return -EIO;
	/* With fast stores the vCPU performs its IC ops on its own engine (ic_op). */
	if (rk_ucfix_state() == RK_UCFIX_FAST && uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)hook_sys_hooks,
							     cpu, 1, 0, UC_ARM64_INS_SYS) != UC_ERR_OK)
		return -EIO;
	return 0;
}

/* A new engine with realmkit's configuration and hooks, in cpu->uc. */
static int open_engine(struct rk_cpu *cpu)
{
	int rc;

	pthread_mutex_lock(&engine_open_lock);
	rc = open_engine_locked(cpu);
	if (rc && cpu->uc)
		close_engine_locked(cpu);
	pthread_mutex_unlock(&engine_open_lock);
	return rc;
}

/*
 * Stage-2 tables pools. A pool is 64 MiB of address space touched a page at
 * a time; mapping one per engine and unmapping it (a TLB shootdown when the
 * vCPU's threads ran on several host CPUs) cost ~0.03-0.05 ms per engine, so
 * a few freed pools are kept for the next engines, their first
 * RK_S2_POOL_KEEP bytes resident (what a small realm's tables use), the rest
 * given back. A kept pool's old contents do not matter: rk_s2tt clears the
 * root and every table it hands out, and calibrate()/stop_probe() write
 * their pages before use.
 */
#define RK_S2_POOL_CACHE 4u
#define RK_S2_POOL_KEEP (64u * RK_S2TT_PAGE)
static pthread_mutex_t pool_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *pool_cache[RK_S2_POOL_CACHE];
static unsigned npool_cache;

static uint8_t *pool_get(void)
{
	uint8_t *p = NULL;

	pthread_mutex_lock(&pool_cache_lock);
	if (npool_cache)
		p = pool_cache[--npool_cache];
	pthread_mutex_unlock(&pool_cache_lock);
	if (p)
		return p;
	p = mmap(NULL, RK_S2_POOL_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* Tables are touched a page at a time: a transparent huge page
	 * would make the first one zero 2 MiB (~0.1 ms per engine). */
	(void)madvise(p, RK_S2_POOL_SIZE, MADV_NOHUGEPAGE);
	return p;
}

static void pool_put(uint8_t *p)
{
	if (!p)
		return;
	if (madvise(p + RK_S2_POOL_KEEP, RK_S2_POOL_SIZE - RK_S2_POOL_KEEP, MADV_DONTNEED) == 0) {
		pthread_mutex_lock(&pool_cache_lock);
		if (npool_cache < RK_S2_POOL_CACHE) {
			pool_cache[npool_cache++] = p;
			p = NULL;
		}
		pthread_mutex_unlock(&pool_cache_lock);
	}
	if (p)
		munmap(p, RK_S2_POOL_SIZE);
}

static int wd_start(struct rk_cpu *cpu)
{
	pthread_mutex_lock(&cpu->lock);
	cpu->wd_quit = false;
	pthread_mutex_unlock(&cpu->lock);
	if (pthread_create(&cpu->wd, NULL, wd_main, cpu))
		return -EAGAIN;
	cpu->wd_running = true;
	return 0;
}

static void wd_stop(struct rk_cpu *cpu)
{
	if (!cpu->wd_running)
		return;
	pthread_mutex_lock(&cpu->lock);
	cpu->wd_quit = true;
	pthread_cond_signal(&cpu->cond);
	pthread_mutex_unlock(&cpu->lock);
	pthread_join(cpu->wd, NULL);
	cpu->wd_running = false;
}

int rk_cpu_create(struct rk_cpu **out)
{
	struct rk_cpu *cpu;
	pthread_condattr_t ca;
	int rc = -ENOMEM;

	if (!out)
		return -EINVAL;
	*out = NULL;
	cpu = calloc(1, sizeof(*cpu));
	if (!cpu)
		return -ENOMEM;
	cpu->regions = calloc(RK_CPU_MAX_REGIONS, sizeof(*cpu->regions));
	cpu->pieces = calloc(RK_CPU_ENGINE_MAX_PIECES, sizeof(*cpu->pieces));
	if (!cpu->regions || !cpu->pieces)
		goto err_free;
	atomic_init(&cpu->running, false);
	atomic_init(&cpu->kick_pending, false);
	atomic_init(&cpu->timed_out, false);
	atomic_init(&cpu->want_stop, false);
	cpu->hcr = HCR_EL2_RW | HCR_EL2_IMO | HCR_EL2_TWI | HCR_EL2_TDZ;
	cpu->mode = rk_cpu_default_mode();
	if (cpu->mode == RK_CPU_MODE_STAGE2) {
		cpu->hcr |= HCR_EL2_VM;
		cpu->vmid = 1;
		cpu->win_next_pa = RK_S2_WIN_BASE;
		cpu->tt_pool = pool_get();
		cpu->stale_code = calloc(RK_CPU_MAX_REGIONS, sizeof(*cpu->stale_code));
		if (!cpu->tt_pool || !cpu->stale_code)
			goto err_free;
		rk_s2tt_init(&cpu->tt, cpu->tt_pool, RK_S2_POOL_PA, RK_S2_POOL_SIZE / RK_S2TT_PAGE,
			     RK_S2_POOL_RESERVED);
	}
	rc = open_engine(cpu);
	if (rc)
		goto err_free;

	rc = -ENOMEM;
	if (pthread_mutex_init(&cpu->lock, NULL))
		goto err_close;
	if (pthread_condattr_init(&ca))
		goto err_mutex;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) || pthread_cond_init(&cpu->cond, &ca)) {
		pthread_condattr_destroy(&ca);
		goto err_mutex;
	}
	pthread_condattr_destroy(&ca);
	rc = wd_start(cpu);
	if (rc)
		goto err_cond;
	*out = cpu;
	return 0;

err_cond:
	pthread_cond_destroy(&cpu->cond);
err_mutex:
	pthread_mutex_destroy(&cpu->lock);
err_close:
	close_engine(cpu);
err_free:
	free(cpu->sr_trap);
	if (cpu->exc_ctx)
		uc_context_free(cpu->exc_ctx);
	pool_put(cpu->tt_pool);
	free(cpu->stale_code);
	free(cpu->pieces);
	free(cpu->regions);
	free(cpu);
	return rc;
}

void rk_cpu_destroy(struct rk_cpu *cpu)
{
	if (!cpu)
		return;
	wd_stop(cpu);
	pthread_cond_destroy(&cpu->cond);
	pthread_mutex_destroy(&cpu->lock);
	if (cpu->uc)
		close_engine(cpu);
	if (cpu->parked)
		uc_context_free(cpu->parked);
	free(cpu->sr_trap);
	if (cpu->exc_ctx)
		uc_context_free(cpu->exc_ctx);
	pool_put(cpu->tt_pool);
	free(cpu->stale_code);
	free(cpu->pieces);
	free(cpu->regions);
	free(cpu);
}

/* ------------------------------------------------------------------------ */
/* Parking                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * The engine state is QEMU's CPUARMState up to its breakpoint pointers
 * (uc_context_save: a memcpy of ~13 KiB). Restored into a new engine of the
 * same CPU model it carries every register, the exception level and the
 * cached translation flags; the pointers it holds (PMSA, NVIC, GICv3 state,
 * breakpoints) are NULL for this model in every engine. What is not in it is
 * derived again: the engine's memory (cpu->regions, applied by the next
 * sync_memory), translated code and TLBs (empty in a new engine), and the
 * virtual IRQ line, which the engine derives from HCR_EL2.VI on a write.
 */
/* Save the engine's state and close it (no checks: rk_cpu_park, bound_code). */
static int park_engine(struct rk_cpu *cpu)
{
	uc_context *ctx;

	if (uc_context_alloc(cpu->uc, &ctx) != UC_ERR_OK)
		return -ENOMEM;
	if (uc_context_save(cpu->uc, ctx) != UC_ERR_OK) {
		uc_context_free(ctx);
		return -EIO;
	}
	wd_stop(cpu);
	close_engine(cpu);
	cpu->parked = ctx;
	cpu->npieces = 0; /* the new engine starts with no memory */
	cpu->pool_in_engine = false;
	cpu->shadowed = false;
	cpu->nshadows = 0;
	for (unsigned i = 0; i < cpu->nwin; i++)
		cpu->win[i].in_engine = false;
	cpu->layout_dirty = cpu->nwin > 0;
	cpu->nstale_code = 0; /* a new engine has no code and no TLB */
	cpu->stale_code_all = false;
	cpu->code_stale = false;
	cpu->tlb_stale = false;
	cpu->broken = false;
	cpu->mem_dirty = true; /* cpu->regions go to it at the next run */
	return 0;
}

int rk_cpu_park(struct rk_cpu *cpu)
{
	int rc;

	if (!cpu)
		return -EINVAL;
	if (busy(cpu))
		return -EBUSY;
	if (cpu->parked)
		return 0;
	rc = park_engine(cpu);
	if (!rc)
		cpu->stats.parks++;
	return rc;
}

enum rk_cpu_mode rk_cpu_mode(const struct rk_cpu *cpu)
{
	return cpu ? cpu->mode : RK_CPU_MODE_HOOKS;
}

bool rk_cpu_is_parked(const struct rk_cpu *cpu)
{
	return cpu && cpu->parked;
}

/* Give a parked vCPU an engine again, in the state it was parked in. */
static int wake(struct rk_cpu *cpu)
{
	int rc;

	if (__builtin_expect(!cpu->parked, 1))
		return 0;
	rc = open_engine(cpu);
	if (rc)
		return rc;
	if (uc_context_restore(cpu->uc, cpu->parked) != UC_ERR_OK ||
	    CP_WRITE(cpu->uc, cpu->hcr, SYSREG_HCR_EL2)) {
		rc = -EIO;
		goto err;
	}
	rc = wd_start(cpu);
	if (rc)
		goto err;
	uc_context_free(cpu->parked);
	cpu->parked = NULL;
	cpu->stats.wakes++;
	if (cpu->tlb_dom) /* a fresh engine: no code to drop for IC ops before now */
		cpu->code_seen = __atomic_load_n(&cpu->tlb_dom->code_gen, __ATOMIC_ACQUIRE);
	return 0;
err:
	close_engine(cpu);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Memory: the caller's view                                                */
/* ------------------------------------------------------------------------ */

static bool page_aligned(uint64_t v)
{
	return (v & (RK_CPU_PAGE_SIZE - 1)) == 0;
}

static bool mergeable(const struct rk_cpu_region *a, uint64_t ipa, const uint8_t *host, unsigned prot,
		      uint64_t pa)
{
	/* a immediately followed by (ipa, host) */
	return region_end(a) == ipa && a->prot == prot && a->host + a->size == host && a->pa + a->size == pa;
}

/* Stage-2 mode: a new window for [host, host + size) (page aligned). */
static int add_window(struct rk_cpu *cpu, uint8_t *host, uint64_t size, struct rk_cpu_window **out)
{
	uint64_t pa;

	if (cpu->nwin >= RK_CPU_MAX_RAM)
		return -ENOSPC;
	pa = ((cpu->win_next_pa + RK_S2_WIN_ALIGN - 1) & ~(RK_S2_WIN_ALIGN - 1)) +
	     ((uintptr_t)host & (RK_S2_WIN_ALIGN - 1));
	if (pa + size < pa || pa + size > RK_S2_PA_LIMIT)
		return -ERANGE;
	cpu->win[cpu->nwin] = (struct rk_cpu_window){ host, size, pa, false };
	*out = &cpu->win[cpu->nwin++];
	cpu->win_next_pa = pa + size;
	cpu->layout_dirty = true;
	return 0;
}

static struct rk_cpu_window *find_window(struct rk_cpu *cpu, const uint8_t *host, uint64_t size)
{
	for (unsigned i = 0; i < cpu->nwin; i++) {
		struct rk_cpu_window *w = &cpu->win[i];

		if ((uintptr_t)host >= (uintptr_t)w->host &&
		    (uintptr_t)host + size <= (uintptr_t)w->host + w->size)
			return w;
	}
	return NULL;
}

int rk_cpu_add_ram(struct rk_cpu *cpu, uint8_t *host, uint64_t size)
{
	struct rk_cpu_window *w;

	if (!cpu || !host || size == 0 || !page_aligned((uintptr_t)host) || !page_aligned(size) ||
	    (uintptr_t)host + size < (uintptr_t)host)
		return -EINVAL;
	if (busy(cpu))
		return -EBUSY;
	if (cpu->mode != RK_CPU_MODE_STAGE2 || find_window(cpu, host, size))
		return 0;
	return add_window(cpu, host, size, &w);
}

/*
 * Stage-2 mode: the engine PA of [host, host + size), adding a window if
 * needed: the 1 GiB-aligned blocks of host address space around it, so that
 * neighbouring buffers share a window (the guest reaches only what the
 * stage 2 maps; a window is address space, nothing is touched).
 */
static int host_pa(struct rk_cpu *cpu, uint8_t *host, uint64_t size, uint64_t *pa)
{
	struct rk_cpu_window *w = find_window(cpu, host, size);
	int rc;

	if (!w) {
		uintptr_t lo = (uintptr_t)host & ~(uintptr_t)(RK_S2_WIN_ALIGN - 1);
		uintptr_t hi =
			((uintptr_t)host + size + RK_S2_WIN_ALIGN - 1) & ~(uintptr_t)(RK_S2_WIN_ALIGN - 1);

		if (!page_aligned((uintptr_t)host))
			return -EINVAL;
		if (lo == 0) /* the engine takes no NULL pointer */
			lo = (uintptr_t)host;
		if (hi < lo) /* the top of the address space */
			hi = (uintptr_t)host + size;
		rc = add_window(cpu, (uint8_t *)lo, hi - lo, &w);
		if (rc)
			return rc;
	}
	*pa = w->pa + (uint64_t)(host - w->host);
	return 0;
}

/* Stage-2 mode: translated code from engine PAs [pa, pa + size) must go before the next run. */
static void stale_code(struct rk_cpu *cpu, uint64_t pa, uint64_t size)
{
	if (!cpu->uc)
		return; /* parked: the next engine starts with no code */
	if (cpu->nstale_code >= RK_CPU_MAX_REGIONS) {
		cpu->stale_code_all = true;
		return;
	}
	cpu->stale_code[cpu->nstale_code++] = (struct rk_cpu_span){ pa, size };
}

int rk_cpu_map(struct rk_cpu *cpu, uint64_t ipa, uint64_t size, uint8_t *host, unsigned prot)
{
	unsigned i, idx, n;
	bool left, right;
	uint64_t pa = 0;
	int rc;

	if (!cpu || !host || size == 0 || !page_aligned(ipa) || !page_aligned(size) || ipa + size < ipa ||
	    (prot & ~RK_CPU_PROT_ALL) != 0 || prot == 0 || (uintptr_t)host + size < (uintptr_t)host)
		return -EINVAL;
	if (ipa + size > 1ULL << RK_CPU_PA_BITS)
		return -ERANGE;
	if (busy(cpu))
		return -EBUSY;
	n = cpu->nregions;
	/* idx: first region at or after ipa */
	for (idx = 0; idx < n && cpu->regions[idx].ipa < ipa; idx++)
		;
	if (idx > 0 && region_end(&cpu->regions[idx - 1]) > ipa)
		return -EEXIST;
	if (idx < n && cpu->regions[idx].ipa < ipa + size)
		return -EEXIST;
	if (cpu->mode == RK_CPU_MODE_STAGE2) {
		rc = host_pa(cpu, host, size, &pa);
		if (rc)
			return rc;
	} else {
		pa = (uintptr_t)host; /* merging then needs contiguous host memory only */
	}
	left = idx > 0 && mergeable(&cpu->regions[idx - 1], ipa, host, prot, pa);
	right = idx < n && cpu->regions[idx].prot == prot && cpu->regions[idx].ipa == ipa + size &&
		host + size == cpu->regions[idx].host && pa + size == cpu->regions[idx].pa;

	if (left && right) {
		cpu->regions[idx - 1].size += size + cpu->regions[idx].size;
		for (i = idx; i + 1 < n; i++)
			cpu->regions[i] = cpu->regions[i + 1];
		cpu->nregions--;
	} else if (left) {
		cpu->regions[idx - 1].size += size;
	} else if (right) {
		cpu->regions[idx].ipa = ipa;
		cpu->regions[idx].host = host;
		cpu->regions[idx].pa = pa;
		cpu->regions[idx].size += size;
	} else {
		if (n >= RK_CPU_MAX_REGIONS)
			return -ENOSPC;
		for (i = n; i > idx; i--)
			cpu->regions[i] = cpu->regions[i - 1];
		cpu->regions[idx] = (struct rk_cpu_region){ ipa, size, host, prot, pa };
		cpu->nregions++;
	}
	cpu->mem_dirty = true;
	if (cpu->mode == RK_CPU_MODE_STAGE2 && !cpu->tt_rebuild && rk_s2tt_map(&cpu->tt, ipa, size, pa, prot))
		cpu->tt_rebuild = true; /* the pool is full: rebuilt at the next run */
	return 0;
}

int rk_cpu_unmap(struct rk_cpu *cpu, uint64_t ipa, uint64_t size)
{
	struct rk_cpu_region *out;
	unsigned i, n = 0, count = 0;
	uint64_t end = ipa + size;

	if (!cpu || size == 0 || !page_aligned(ipa) || !page_aligned(size) || end < ipa)
		return -EINVAL;
	if (busy(cpu))
		return -EBUSY;
	/* Count first, so that -ENOSPC changes nothing. */
	for (i = 0; i < cpu->nregions; i++) {
		const struct rk_cpu_region *r = &cpu->regions[i];

		if (region_end(r) <= ipa || r->ipa >= end) {
			count++;
			continue;
		}
		count += (r->ipa < ipa) + (region_end(r) > end);
	}
	if (count > RK_CPU_MAX_REGIONS)
		return -ENOSPC;
	if (count == cpu->nregions) {
		bool touched = false;

		for (i = 0; i < cpu->nregions; i++)
			if (region_end(&cpu->regions[i]) > ipa && cpu->regions[i].ipa < end)
				touched = true;
		if (!touched)
			return 0;
	}
	out = calloc(count ? count : 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (i = 0; i < cpu->nregions; i++) {
		const struct rk_cpu_region *r = &cpu->regions[i];

		if (region_end(r) <= ipa || r->ipa >= end) {
			out[n++] = *r;
			continue;
		}
		if (r->ipa < ipa)
			out[n++] = (struct rk_cpu_region){ r->ipa, ipa - r->ipa, r->host, r->prot, r->pa };
		if (region_end(r) > end)
			out[n++] = (struct rk_cpu_region){ end, region_end(r) - end, r->host + (end - r->ipa),
							   r->prot, r->pa + (end - r->ipa) };
		if (cpu->mode == RK_CPU_MODE_STAGE2) {
			uint64_t lo = r->ipa > ipa ? r->ipa : ipa;
			uint64_t hi = region_end(r) < end ? region_end(r) : end;

			stale_code(cpu, r->pa + (lo - r->ipa), hi - lo);
		}
	}
	memcpy(cpu->regions, out, n * sizeof(*out));
	cpu->nregions = n;
	free(out);
	cpu->mem_dirty = true;
	if (cpu->mode == RK_CPU_MODE_STAGE2) {
		bool removed = false;

		uint64_t lim = 1ull << RK_S2TT_IPA_BITS;

		if (!cpu->tt_rebuild && ipa < lim &&
		    rk_s2tt_unmap(&cpu->tt, ipa, (end < lim ? end : lim) - ipa, &removed))
			cpu->tt_rebuild = true;
		if (removed || cpu->tt_rebuild)
			cpu->tlb_stale = true;
	}
	return 0;
}

bool rk_cpu_is_mapped(const struct rk_cpu *cpu, uint64_t ipa, uint64_t size)
{
	uint64_t end = ipa + size;
	unsigned i;

	if (!cpu || size == 0 || end < ipa)
		return false;
	for (i = 0; i < cpu->nregions && ipa < end; i++) {
		const struct rk_cpu_region *r = &cpu->regions[i];

		if (region_end(r) <= ipa)
			continue;
		if (r->ipa > ipa)
			return false;
		ipa = region_end(r);
	}
	return ipa >= end;
}

struct uc_struct *rk_cpu_engine(struct rk_cpu *cpu)
{
	return cpu ? cpu->uc : NULL;
}

int rk_cpu_invalidate_code(struct rk_cpu *cpu, uint64_t ipa, uint64_t size)
{
	uint64_t end = ipa + size, sctlr = 0;
	unsigned i;

	if (!cpu || size == 0 || end < ipa)
		return -EINVAL;
	if (busy(cpu))
		return -EBUSY;
	if (!cpu->uc)
		return 0; /* parked: the engine comes back with no translations */
	ipa &= ~(uint64_t)(RK_CPU_PAGE_SIZE - 1);
	if (end & (RK_CPU_PAGE_SIZE - 1))
		end = (end | (RK_CPU_PAGE_SIZE - 1)) + 1;
	if (cpu->mode == RK_CPU_MODE_STAGE2) {
		/* by engine PA, before the next run (s2_drop_code) */
		for (i = 0; i < cpu->nregions; i++) {
			const struct rk_cpu_region *r = &cpu->regions[i];
			uint64_t lo = r->ipa > ipa ? r->ipa : ipa;
			uint64_t hi = region_end(r) < end ? region_end(r) : end;

			if (lo < hi)
				stale_code(cpu, r->pa + (lo - r->ipa), hi - lo);
		}
		return 0;
	}
	/* With the guest MMU on, uc_ctl_remove_cache translates the address
	 * through it (a VA, not an IPA): flush all translated code instead. */
	if (CP_READ(cpu->uc, &sctlr, SYSREG_SCTLR_EL1) || (sctlr & SCTLR_EL1_M)) {
		uc_ctl_flush_tlb(cpu->uc);
		return 0;
	}
	/* Only what is in the engine can have been translated (pieces); the
	 * translation of an address outside them would fault. */
	for (i = 0; i < cpu->npieces; i++) {
		const struct rk_cpu_region *p = &cpu->pieces[i];
		uint64_t lo = p->ipa > ipa ? p->ipa : ipa;
		uint64_t hi = region_end(p) < end ? region_end(p) : end;

		if (lo < hi)
			uc_ctl_remove_cache(cpu->uc, lo, hi);
	}
	return 0;
}

void rk_cpu_tlb_domain_init(struct rk_cpu_tlb_domain *d)
{
	if (d) {
		memset(d, 0, sizeof(*d));
		__atomic_store_n(&d->gen, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&d->code_gen, 0, __ATOMIC_RELEASE);
	}
}

int rk_cpu_set_tlb_domain(struct rk_cpu *cpu, struct rk_cpu_tlb_domain *d)
{
	if (!cpu)
		return -EINVAL;
	if (busy(cpu))
		return -EBUSY;
	cpu->tlb_dom = d;
	if (d) {
		/* what the TLB holds predates the domain: flush once */
		cpu->tlb_seen = __atomic_load_n(&d->gen, __ATOMIC_ACQUIRE);
		cpu->code_seen = __atomic_load_n(&d->code_gen, __ATOMIC_ACQUIRE);
		cpu->tlb_stale = true; /* (code is kept: a vCPU joins before its first run) */
	}
	return 0;
}

void rk_cpu_get_stats(const struct rk_cpu *cpu, struct rk_cpu_stats *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!cpu)
		return;
	*out = cpu->stats;
	out->regions = cpu->nregions;
	out->engine_regions = cpu->npieces;
	if (cpu->mode == RK_CPU_MODE_STAGE2)
		for (unsigned i = 0; i < cpu->nwin; i++)
			out->engine_regions += cpu->win[i].in_engine;
}

/* ------------------------------------------------------------------------ */
/* Memory: applying it to the engine                                        */
/* ------------------------------------------------------------------------ */

/* One planned engine piece: either exactly one existing piece (kept), or a new
 * mapping that replaces the existing pieces [first, first + count). */
struct plan_ent {
	uint64_t ipa;
	uint64_t size;
	unsigned first; /* index into cpu->pieces (valid pieces only) */
	unsigned count; /* existing pieces absorbed */
	bool gap;       /* contains memory not yet in the engine */
};

static bool balanced(uint64_t a, uint64_t b)
{
	uint64_t lo = a < b ? a : b, hi = a < b ? b : a;

	return hi / 2 <= lo;
}

static unsigned to_uc_prot(unsigned prot)
{
	unsigned p = 0;

	if (prot & RK_CPU_PROT_READ)
		p |= UC_PROT_READ;
	if (prot & RK_CPU_PROT_WRITE)
		p |= UC_PROT_WRITE;
	if (prot & RK_CPU_PROT_EXEC)
		p |= UC_PROT_EXEC;
	return p;
}

static bool piece_valid(const struct rk_cpu *cpu, const struct rk_cpu_region *p)
{
	unsigned i;

	for (i = 0; i < cpu->nregions; i++) {
		const struct rk_cpu_region *r = &cpu->regions[i];

		if (r->ipa <= p->ipa && region_end(p) <= region_end(r))
			return r->prot == p->prot && r->host + (p->ipa - r->ipa) == p->host;
	}
	return false;
}

static int engine_unmap(struct rk_cpu *cpu, const struct rk_cpu_region *p)
{
	/* Drop translations first: new memory at this IPA must not run stale
	 * code (TBs are keyed by the engine's RAM offsets, which get reused). */
	uc_ctl_remove_cache(cpu->uc, p->ipa, region_end(p));
	if (uc_mem_unmap(cpu->uc, p->ipa, p->size) != UC_ERR_OK)
		return -EIO;
	cpu->stats.engine_unmaps++;
	cpu->stats.engine_unmapped_pages += p->size / RK_CPU_PAGE_SIZE;
	return 0;
}

/* Plan region r's pieces, cpu->pieces[*pi...] being the valid pieces inside it. */
static unsigned plan_region(const struct rk_cpu *cpu, const struct rk_cpu_region *r, unsigned *pi, bool whole,
			    struct plan_ent *st)
{
	unsigned top = 0;
	uint64_t at = r->ipa;

	while (at < region_end(r)) {
		struct plan_ent e;

		if (*pi < cpu->npieces && cpu->pieces[*pi].ipa == at) {
			e = (struct plan_ent){ at, cpu->pieces[*pi].size, *pi, 1, false };
			(*pi)++;
		} else {
			uint64_t next = region_end(r);

			if (*pi < cpu->npieces && cpu->pieces[*pi].ipa < next)
				next = cpu->pieces[*pi].ipa;
			e = (struct plan_ent){ at, next - at, *pi, 0, true };
		}
		at += e.size;
		st[top++] = e;
		while (top >= 2 && (whole || balanced(st[top - 2].size, st[top - 1].size))) {
			struct plan_ent *a = &st[top - 2], *b = &st[top - 1];

			if (a->count == 0)
				a->first = b->first;
			a->size += b->size;
			a->count += b->count;
			a->gap = a->gap || b->gap;
			top--;
		}
	}
	return top;
}

/*
 * Stage-2 mode: drop the translated code of the engine PAs in stale_code, or
 * of all the engine's RAM windows (code_stale: another vCPU's IC IALLUIS or
 * IC IVAU; the pool holds only stage-2 tables, never code).
 * uc_ctl_remove_cache() takes a virtual address and translates it through
 * the current regime, so stage 2 and the guest's stage 1 are switched off
 * around it (VA == PA); the TLB entries that leaves behind go with the VMID
 * change that follows (tlb_stale).
 */
static int s2_drop_code(struct rk_cpu *cpu)
{
	uc_engine *uc = cpu->uc;
	uint64_t sctlr = 0;
	int rc = 0;

	if (!cpu->nstale_code && !cpu->code_stale)
		return 0;
	if (CP_READ(uc, &sctlr, SYSREG_SCTLR_EL1) || CP_WRITE(uc, cpu->hcr & ~HCR_EL2_VM, SYSREG_HCR_EL2) ||
	    ((sctlr & 1) && CP_WRITE(uc, sctlr & ~1ull, SYSREG_SCTLR_EL1)))
		rc = -EIO;
	for (unsigned i = 0; !rc && cpu->code_stale && i < cpu->nwin; i++)
		if (cpu->win[i].in_engine)
			uc_ctl_remove_cache(uc, cpu->win[i].pa, cpu->win[i].pa + cpu->win[i].size);
	for (unsigned i = 0; !rc && !cpu->code_stale && i < cpu->nstale_code; i++)
		uc_ctl_remove_cache(uc, cpu->stale_code[i].start,
				    cpu->stale_code[i].start + cpu->stale_code[i].size);
	if (((sctlr & 1) && CP_WRITE(uc, sctlr, SYSREG_SCTLR_EL1)) || CP_WRITE(uc, cpu->hcr, SYSREG_HCR_EL2))
		rc = -EIO;
	cpu->nstale_code = 0;
	cpu->code_stale = false;
	cpu->tlb_stale = true;
	return rc;
}

/* A generation of the vCPU's domain moved since *seen: note the new one. */
static bool domain_gen_moved(const uint64_t *gen, uint64_t *seen)
{
	uint64_t g = __atomic_load_n(gen, __ATOMIC_ACQUIRE);

	if (g == *seen)
		return false;
	*seen = g;
	return true;
}

/* Another vCPU of the domain executed a broadcast TLBI since this one last ran: flush (s2_sync). */
static void tlb_domain_check(struct rk_cpu *cpu)
{
	if (cpu->tlb_dom && domain_gen_moved(&cpu->tlb_dom->gen, &cpu->tlb_seen)) {
		cpu->tlb_stale = true;
		cpu->stats.tlb_domain_flushes++;
	}
}

/*
 * The translated code of the IPA page ipa (another vCPU's IC IVAU) goes before
 * the next run: through this vCPU's memory map to its host page and the RAM
 * window that holds it in this engine. Not mapped here: no code from it.
 */
static void code_page_stale(struct rk_cpu *cpu, uint64_t ipa)
{
	const uint8_t *h = ipa_host(cpu, ipa);
	uint64_t host = (uint64_t)(uintptr_t)h;

	if (!h)
		return;
	for (unsigned i = 0; i < cpu->nwin; i++) {
		const struct rk_cpu_window *w = &cpu->win[i];
		uint64_t start = (uint64_t)(uintptr_t)w->host;

		if (!w->in_engine || host < start || host - start >= w->size)
			continue;
		if (cpu->nstale_code >= RK_CPU_MAX_REGIONS) {
			cpu->code_stale = true; /* no room: all of it */
			return;
		}
		stale_code(cpu, w->pa + (host - start), RK_CPU_PAGE_SIZE);
		cpu->stats.code_page_drops++;
		return;
	}
	/* in no window of this engine: it has no code from that page */
}

/*
 * Another vCPU of the domain executed IC IVAU or IC IALLUIS since this one
 * last ran (rk_cpu_run, s2_sync): the code of the pages in the domain's code
 * log since code_seen goes before the run (s2_drop_code), or all of it
 * (code_stale: IC IALLUIS, an IC IVAU not logged by page, or more entries
 * than the log keeps).
 */
static void code_domain_check(struct rk_cpu *cpu)
{
	struct rk_cpu_tlb_domain *d = cpu->tlb_dom;
	uint64_t seen = cpu->code_seen, g;

	if (!d || __atomic_load_n(&d->code_gen, __ATOMIC_ACQUIRE) == seen)
		return;
	code_log_lock(d);
	g = d->code_gen;
	if (!cpu->uc) {
		/* parked: the next engine starts with no code */
	} else if (d->code_all > seen || g - seen > RK_CPU_CODE_LOG) {
		cpu->code_stale = true;
		cpu->stats.code_domain_flushes++;
	} else {
		for (uint64_t k = seen + 1; k - 1 != g && !cpu->code_stale; k++)
			code_page_stale(cpu, d->code_page[k % RK_CPU_CODE_LOG]);
		if (cpu->code_stale)
			cpu->stats.code_domain_flushes++;
	}
	code_log_unlock(d);
	cpu->code_seen = g;
}

/* Stage-2 mode: bring the engine up to date with the caller's memory map. */
static int s2_sync(struct rk_cpu *cpu)
{
	int rc;

	if (cpu->broken)
		return -EIO;
	tlb_domain_check(cpu);
	code_domain_check(cpu);
	rc = s2_layout(cpu, true);
	if (rc) {
		cpu->broken = true;
		return rc;
	}
	if (cpu->tt_rebuild) {
		rk_s2tt_reset(&cpu->tt);
		for (unsigned i = 0; i < cpu->nregions; i++) {
			const struct rk_cpu_region *r = &cpu->regions[i];

			rc = rk_s2tt_map(&cpu->tt, r->ipa, r->size, r->pa, r->prot);
			if (rc)
				return rc; /* still to rebuild: fails again next time */
		}
		cpu->tt_rebuild = false;
		cpu->tlb_stale = true;
	}
	rc = s2_drop_code(cpu);
	if (rc) {
		cpu->broken = true;
		return rc;
	}
	if (cpu->tlb_stale) {
		/* a new VMID: the engine flushes its stage 1+2 TLB (what TLBI VMALLS12E1 does) */
		cpu->vmid = cpu->vmid == 1 ? 2 : 1;
		if (CP_WRITE(cpu->uc, rk_s2tt_root_pa(&cpu->tt) | (uint64_t)cpu->vmid << VTTBR_EL2_VMID_SHIFT,
			     SYSREG_VTTBR_EL2)) {
			cpu->broken = true;
			return -EIO;
		}
		cpu->tlb_stale = false;
	}
	cpu->mem_dirty = false;
	return 0;
}

static int sync_memory(struct rk_cpu *cpu)
{
	struct plan_ent *plan;
	struct rk_cpu_region *np;
	unsigned i, j, n, nplan, max_plan;
	bool whole = false;
	int rc = 0;

	if (cpu->broken)
		return -EIO;
	if (!cpu->mem_dirty)
		return 0;

	/* 1. Unmap pieces that no longer match the caller's regions. */
	for (i = 0, n = 0; i < cpu->npieces; i++) {
		if (piece_valid(cpu, &cpu->pieces[i])) {
			cpu->pieces[n++] = cpu->pieces[i];
			continue;
		}
		rc = engine_unmap(cpu, &cpu->pieces[i]);
		if (rc) {
			cpu->broken = true;
			return rc;
		}
	}
	cpu->npieces = n;

	/* 2. Plan: existing pieces plus gaps, merged while balanced. */
	max_plan = 2 * cpu->npieces + cpu->nregions + 1;
	plan = calloc(max_plan, sizeof(*plan));
	np = calloc(RK_CPU_ENGINE_MAX_PIECES, sizeof(*np));
	if (!plan || !np) {
		free(plan);
		free(np);
		return -ENOMEM;
	}
replan:
	nplan = 0;
	for (i = 0, j = 0; i < cpu->nregions; i++)
		nplan += plan_region(cpu, &cpu->regions[i], &j, whole, plan + nplan);
	if (nplan > RK_CPU_ENGINE_MAX_PIECES && !whole) {
		whole = true;
		goto replan;
	}

	/* 3. Apply. */
	for (i = 0, j = 0, n = 0; i < cpu->nregions; i++) {
		const struct rk_cpu_region *r = &cpu->regions[i];

		for (; j < nplan && plan[j].ipa < region_end(r); j++) {
			const struct plan_ent *e = &plan[j];
			struct rk_cpu_region p = { e->ipa, e->size, r->host + (e->ipa - r->ipa), r->prot, 0 };
			unsigned k;

			if (e->count == 1 && !e->gap) {
				np[n++] = cpu->pieces[e->first];
				continue;
			}
			for (k = 0; k < e->count; k++) {
				rc = engine_unmap(cpu, &cpu->pieces[e->first + k]);
				if (rc)
					goto fail;
			}
			if (uc_mem_map_ptr(cpu->uc, p.ipa, p.size, to_uc_prot(p.prot), p.host) != UC_ERR_OK) {
				rc = -EIO;
				goto fail;
			}
			cpu->stats.engine_maps++;
			np[n++] = p;
		}
	}
	memcpy(cpu->pieces, np, n * sizeof(*np));
	cpu->npieces = n;
	cpu->mem_dirty = false;
	free(plan);
	free(np);
	return 0;
fail:
	cpu->broken = true;
	free(plan);
	free(np);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Registers                                                                */
/* ------------------------------------------------------------------------ */

static bool sp_sel(uint32_t pstate)
{
	return (pstate & 1u) != 0;
}

int rk_cpu_get_reg(struct rk_cpu *cpu, enum rk_cpu_reg reg, uint64_t *val)
{
	uc_engine *uc;

	if (!cpu || !val)
		return -EINVAL;
	if (regs_busy(cpu))
		return -EBUSY;
	if (wake(cpu))
		return -EIO;
	uc = cpu->uc;
	if ((unsigned)reg <= RK_CPU_REG_X30) {
		*val = read_u64(uc, gpr_uc_id((unsigned)reg));
		return 0;
	}
	switch (reg) {
	case RK_CPU_REG_SP:
		*val = read_u64(uc, UC_ARM64_REG_SP);
		return 0;
	case RK_CPU_REG_PC:
		*val = read_u64(uc, UC_ARM64_REG_PC);
		return 0;
	case RK_CPU_REG_PSTATE:
		*val = read_pstate(uc);
		return 0;
	case RK_CPU_REG_SP_EL0: /* live in SP while in EL1t */
		*val = read_u64(uc, sp_sel(read_pstate(uc)) ? UC_ARM64_REG_SP_EL0 : UC_ARM64_REG_SP);
		return 0;
	case RK_CPU_REG_SP_EL1: /* live in SP while in EL1h */
		*val = read_u64(uc, sp_sel(read_pstate(uc)) ? UC_ARM64_REG_SP : UC_ARM64_REG_SP_EL1);
		return 0;
	case RK_CPU_REG_ELR_EL1:
		*val = read_u64(uc, UC_ARM64_REG_ELR_EL1);
		return 0;
	case RK_CPU_REG_SPSR_EL1:
		return CP_READ(uc, val, SYSREG_SPSR_EL1);
	case RK_CPU_REG_ESR_EL1:
		*val = read_u64(uc, UC_ARM64_REG_ESR_EL1);
		return 0;
	case RK_CPU_REG_FAR_EL1:
		*val = read_u64(uc, UC_ARM64_REG_FAR_EL1);
		return 0;
	case RK_CPU_REG_VBAR_EL1:
		*val = read_u64(uc, UC_ARM64_REG_VBAR_EL1);
		return 0;
	case RK_CPU_REG_SCTLR_EL1:
		return CP_READ(uc, val, SYSREG_SCTLR_EL1);
	case RK_CPU_REG_MPIDR_EL1:
		return CP_READ(uc, val, SYSREG_VMPIDR_EL2);
	case RK_CPU_REG_TPIDR_EL1:
		*val = read_u64(uc, UC_ARM64_REG_TPIDR_EL1);
		return 0;
	default:
		return -EINVAL;
	}
}

static int set_pstate(uc_engine *uc, uint64_t val)
{
	uint32_t old = read_pstate(uc), nv = (uint32_t)val;

	if (val > UINT32_MAX || ((nv >> 2) & 3u) != 1 || (nv & 0x12u))
		return -EINVAL; /* must stay AArch64 EL1 (t or h) */
	if (sp_sel(old) != sp_sel(nv)) {
		/* PSTATE writes do not switch the banked SP: do it here. */
		uint64_t cur = read_u64(uc, UC_ARM64_REG_SP);

		write_u64(uc, sp_sel(old) ? UC_ARM64_REG_SP_EL1 : UC_ARM64_REG_SP_EL0, cur);
		write_u64(uc, UC_ARM64_REG_SP,
			  read_u64(uc, sp_sel(nv) ? UC_ARM64_REG_SP_EL1 : UC_ARM64_REG_SP_EL0));
	}
	return uc_reg_write(uc, UC_ARM64_REG_PSTATE, &nv) == UC_ERR_OK ? 0 : -EIO;
}

int rk_cpu_set_reg(struct rk_cpu *cpu, enum rk_cpu_reg reg, uint64_t val)
{
	uc_engine *uc;

	if (!cpu)
		return -EINVAL;
	if ((unsigned)reg > RK_CPU_REG_X30 && (unsigned)reg < RK_CPU_REG_COUNT && cpu->in_hook)
		return -EBUSY;
	if (regs_busy(cpu))
		return -EBUSY;
	if (wake(cpu))
		return -EIO;
	uc = cpu->uc;
	if ((unsigned)reg <= RK_CPU_REG_X30) {
		write_u64(uc, gpr_uc_id((unsigned)reg), val);
		return 0;
	}
	switch (reg) {
	case RK_CPU_REG_SP:
		write_u64(uc, UC_ARM64_REG_SP, val);
		return 0;
	case RK_CPU_REG_PC:
		write_u64(uc, UC_ARM64_REG_PC, val);
		return 0;
	case RK_CPU_REG_PSTATE:
		return set_pstate(uc, val);
	case RK_CPU_REG_SP_EL0:
		write_u64(uc, sp_sel(read_pstate(uc)) ? UC_ARM64_REG_SP_EL0 : UC_ARM64_REG_SP, val);
		return 0;
	case RK_CPU_REG_SP_EL1:
		write_u64(uc, sp_sel(read_pstate(uc)) ? UC_ARM64_REG_SP : UC_ARM64_REG_SP_EL1, val);
		return 0;
	case RK_CPU_REG_ELR_EL1:
		write_u64(uc, UC_ARM64_REG_ELR_EL1, val);
		return 0;
	case RK_CPU_REG_SPSR_EL1:
		return CP_WRITE(uc, val, SYSREG_SPSR_EL1);
	case RK_CPU_REG_ESR_EL1:
		write_u64(uc, UC_ARM64_REG_ESR_EL1, val);
		return 0;
	case RK_CPU_REG_FAR_EL1:
		write_u64(uc, UC_ARM64_REG_FAR_EL1, val);
		return 0;
	case RK_CPU_REG_VBAR_EL1:
		write_u64(uc, UC_ARM64_REG_VBAR_EL1, val);
		return 0;
	case RK_CPU_REG_SCTLR_EL1:
		return CP_WRITE(uc, val, SYSREG_SCTLR_EL1);
	case RK_CPU_REG_MPIDR_EL1:
		return CP_WRITE(uc, val, SYSREG_VMPIDR_EL2);
	case RK_CPU_REG_TPIDR_EL1:
		write_u64(uc, UC_ARM64_REG_TPIDR_EL1, val);
		return 0;
	default:
		return -EINVAL;
	}
}

int rk_cpu_get_xregs(struct rk_cpu *cpu, unsigned first, unsigned n, uint64_t *x)
{
	int ids[RK_CPU_NUM_GPRS];
	void *ptrs[RK_CPU_NUM_GPRS];

	if (!cpu || !x || n == 0 || first >= RK_CPU_NUM_GPRS || n > RK_CPU_NUM_GPRS - first)
		return -EINVAL;
	if (regs_busy(cpu))
		return -EBUSY;
	if (wake(cpu))
		return -EIO;
	for (unsigned i = 0; i < n; i++) {
		ids[i] = gpr_uc_id(first + i);
		ptrs[i] = &x[i];
	}
	return uc_reg_read_batch(cpu->uc, ids, ptrs, (int)n) == UC_ERR_OK ? 0 : -EIO;
}

int rk_cpu_set_xregs(struct rk_cpu *cpu, unsigned first, unsigned n, const uint64_t *x)
{
	int ids[RK_CPU_NUM_GPRS];
	void *ptrs[RK_CPU_NUM_GPRS];

	if (!cpu || !x || n == 0 || first >= RK_CPU_NUM_GPRS || n > RK_CPU_NUM_GPRS - first)
		return -EINVAL;
	if (regs_busy(cpu))
		return -EBUSY;
	if (wake(cpu))
		return -EIO;
	for (unsigned i = 0; i < n; i++) {
		ids[i] = gpr_uc_id(first + i);
		ptrs[i] = (void *)(uintptr_t)&x[i]; /* the engine only reads through it */
	}
	return uc_reg_write_batch(cpu->uc, ids, ptrs, (int)n) == UC_ERR_OK ? 0 : -EIO;
}

int rk_cpu_get_gprs(struct rk_cpu *cpu, uint64_t x[RK_CPU_NUM_GPRS])
{
	return rk_cpu_get_xregs(cpu, 0, RK_CPU_NUM_GPRS, x);
}

int rk_cpu_set_gprs(struct rk_cpu *cpu, const uint64_t x[RK_CPU_NUM_GPRS])
{
	return rk_cpu_set_xregs(cpu, 0, RK_CPU_NUM_GPRS, x);
}

/* ------------------------------------------------------------------------ */
/* Running                                                                  */
/* ------------------------------------------------------------------------ */

const char *rk_cpu_exit_reason_name(enum rk_cpu_exit_reason reason)
{
	switch (reason) {
	case RK_CPU_EXIT_NONE:
		return "none";
	case RK_CPU_EXIT_SMC:
		return "smc";
	case RK_CPU_EXIT_HVC:
		return "hvc";
	case RK_CPU_EXIT_WFI:
		return "wfi";
	case RK_CPU_EXIT_DABT:
		return "dabt";
	case RK_CPU_EXIT_IABT:
		return "iabt";
	case RK_CPU_EXIT_UNDEF:
		return "undef";
	case RK_CPU_EXIT_TIMEOUT:
		return "timeout";
	case RK_CPU_EXIT_KICK:
		return "kick";
	case RK_CPU_EXIT_ERROR:
		return "error";
	case RK_CPU_EXIT_SYSREG:
		return "sysreg";
	}
	return "?";
}

int rk_cpu_set_smc_handler(struct rk_cpu *cpu, rk_cpu_smc_fn fn, struct rk_cpu_smc_ctx *ctx)
{
	if (!cpu)
		return -EINVAL;
	if (busy(cpu))
		return -EBUSY;
	cpu->smc_fn = fn;
	cpu->smc_ctx = fn ? ctx : NULL;
	cpu->smc_no_imm = false;
	return 0;
}

int rk_cpu_set_smc_handler_noimm(struct rk_cpu *cpu, rk_cpu_smc_fn fn, struct rk_cpu_smc_ctx *ctx)
{
	int ret = rk_cpu_set_smc_handler(cpu, fn, ctx);

	if (!ret)
		cpu->smc_no_imm = fn != NULL;
	return ret;
}

int rk_cpu_set_sysreg_handler(struct rk_cpu *cpu, rk_cpu_sysreg_fn fn, struct rk_cpu_sysreg_ctx *ctx)
{
	if (!cpu)
		return -EINVAL;
	if (busy(cpu))
		return -EBUSY;
	cpu->sysreg_fn = fn;
	cpu->sysreg_ctx = fn ? ctx : NULL;
	return 0;
}

int rk_cpu_trap_sysreg(struct rk_cpu *cpu, uint32_t enc, bool trap)
{
	uint32_t idx = enc & (RK_SR_TRAP_BITS - 1);

	if (!cpu || enc >> 16 || enc >> 14 < 2)
		return -EINVAL;
	if (cpu->mode != RK_CPU_MODE_STAGE2)
		return -ENOTSUP;
	if (busy(cpu))
		return -EBUSY;
	if (!cpu->sr_trap) {
		if (!trap)
			return 0;
		cpu->sr_trap = calloc(RK_SR_TRAP_BITS / 64, sizeof(*cpu->sr_trap));
		if (!cpu->sr_trap)
			return -ENOMEM;
	}
	if (trap)
		cpu->sr_trap[idx / 64] |= 1ull << (idx % 64);
	else
		cpu->sr_trap[idx / 64] &= ~(1ull << (idx % 64));
	return 0;
}

static int do_inject(struct rk_cpu *cpu, uint64_t esr, uint64_t far, uint64_t elr)
{
	uc_engine *uc = cpu->uc;
	uint32_t pstate = read_pstate(uc), m = pstate & PSTATE_M_MASK;
	uint32_t nps = PSTATE_EL1H_DAIF;
	uint64_t vbar = read_u64(uc, UC_ARM64_REG_VBAR_EL1), off;

	if (m == PSTATE_M_EL1H) {
		off = VECTOR_CUR_SPX + VECTOR_SYNC;
	} else if (m == PSTATE_M_EL1T) {
		off = VECTOR_CUR_SP0 + VECTOR_SYNC; /* switch to SP_EL1 */
		write_u64(uc, UC_ARM64_REG_SP_EL0, read_u64(uc, UC_ARM64_REG_SP));
		write_u64(uc, UC_ARM64_REG_SP, read_u64(uc, UC_ARM64_REG_SP_EL1));
	} else {
		return -ENOTSUP;
	}
	write_u64(uc, UC_ARM64_REG_ELR_EL1, elr);
	if (CP_WRITE(uc, pstate, SYSREG_SPSR_EL1))
		return -EIO;
	write_u64(uc, UC_ARM64_REG_ESR_EL1, esr);
	write_u64(uc, UC_ARM64_REG_FAR_EL1, far);
	if (uc_reg_write(uc, UC_ARM64_REG_PSTATE, &nps) != UC_ERR_OK)
		return -EIO;
	write_u64(uc, UC_ARM64_REG_PC, vbar + off);
	return 0;
}

/*
 * Stage-2 mode: take the exception (esr, far) from EL0, between runs. The
 * engine changes EL only by taking an exception, so it runs from a PC whose
 * fetch faults at once (RK_S2_FORCE_VA, the virtual IRQ held back so that
 * nothing is taken before): in the interrupt hook that fault enters the
 * guest's EL1 with the injected syndrome instead (el0_enter), and ELR_EL1 is
 * then set to the PC the vCPU was at. Nothing of the guest executes.
 */
static int el0_inject(struct rk_cpu *cpu, uint64_t esr, uint64_t far)
{
	uc_engine *uc;
	uint64_t elr;
	int rc = 0;

	/* memory as rk_cpu_run() brings it up to date (a window after the shadows: a fresh engine) */
	if (cpu->layout_dirty && cpu->shadowed && !park_engine(cpu))
		rc = wake(cpu);
	if (!rc)
		rc = s2_sync(cpu);
	if (rc)
		return rc;
	uc = cpu->uc;
	elr = read_u64(uc, UC_ARM64_REG_PC);
	if (CP_WRITE(uc, cpu->hcr & ~HCR_EL2_VI, SYSREG_HCR_EL2))
		return -EIO;
	cpu->have_pending = false;
	cpu->internal = RK_CPU_INTERNAL_NONE;
	cpu->el0_entry = false;
	cpu->sr_valid = false;
	cpu->force_esr = esr;
	cpu->force_far = far;
	cpu->el0_forcing = true;
	uc_emu_start(uc, RK_S2_FORCE_VA, 0, 0, 0);
	cpu->el0_forcing = false;
	if (!cpu->el0_entry || cpu->have_pending) {
		/* not taken as expected (a backend defect): leave the vCPU where it was */
		cpu->el0_entry = false;
		cpu->have_pending = false;
		write_u64(uc, UC_ARM64_REG_PC, elr);
		(void)CP_WRITE(uc, cpu->hcr, SYSREG_HCR_EL2);
		return -EIO;
	}
	return el0_finish(cpu, true, elr);
}

int rk_cpu_inject_sync(struct rk_cpu *cpu, uint64_t esr, uint64_t far)
{
	int rc;

	if (!cpu)
		return -EINVAL;
	if (busy(cpu))
		return -EBUSY;
	if (wake(cpu))
		return -EIO;
	if (cpu->mode == RK_CPU_MODE_STAGE2 && PSTATE_EL(read_pstate(cpu->uc)) == 0)
		rc = el0_inject(cpu, esr, far);
	else
		rc = do_inject(cpu, esr, far, read_u64(cpu->uc, UC_ARM64_REG_PC));
	if (rc == 0)
		cpu->last_done = true; /* the faulting access will not complete */
	return rc;
}

int rk_cpu_inject_undef(struct rk_cpu *cpu)
{
	return rk_cpu_inject_sync(cpu, ESR_MAKE(ESR_EC_UNKNOWN, 1, 0), 0);
}

int rk_cpu_set_virq(struct rk_cpu *cpu, bool pending)
{
	uint64_t hcr;

	if (!cpu)
		return -EINVAL;
	if (busy(cpu))
		return -EBUSY;
	if (wake(cpu))
		return -EIO;
	hcr = pending ? cpu->hcr | HCR_EL2_VI : cpu->hcr & ~HCR_EL2_VI;
	if (CP_WRITE(cpu->uc, hcr, SYSREG_HCR_EL2))
		return -EIO;
	cpu->hcr = hcr;
	return 0;
}

/*
 * The vCPU's own IC IALLU(IS) (ic_drop_own) stopped the run: all its code goes
 * now (a fresh engine in the same state, as at the start of a run), and the
 * run goes on with what is left of its time slice (*out_of_time if none).
 */
static int renew_in_run(struct rk_cpu *cpu, uint64_t timeout_us, const struct timespec *end,
			bool *out_of_time)
{
	uint64_t left_us = 0;
	int rc;

	wd_disarm(cpu);
	rc = park_engine(cpu);
	if (!rc)
		rc = wake(cpu);
	if (!rc)
		rc = cpu->mode == RK_CPU_MODE_STAGE2 ? s2_sync(cpu) : sync_memory(cpu);
	if (rc)
		return rc;
	if (timeout_us) {
		struct timespec now = mono_now();

		if (ts_cmp(&now, end) >= 0) {
			*out_of_time = true;
			return 0;
		}
		left_us = (uint64_t)(end->tv_sec - now.tv_sec) * 1000000u +
			  (uint64_t)((end->tv_nsec - now.tv_nsec) / 1000) + 1u;
	}
	wd_arm(cpu, left_us);
	return 0;
}

static void set_simple(struct rk_cpu_exit *exit, enum rk_cpu_exit_reason reason, uint64_t pc)
{
	memset(exit, 0, sizeof(*exit));
	exit->reason = reason;
	exit->pc = pc;
}

int rk_cpu_run(struct rk_cpu *cpu, uint64_t timeout_us, struct rk_cpu_exit *exit)
{
	struct timespec end = { 0, 0 };
	bool expected = false;
	uc_engine *uc;
	int rc;

	if (!cpu || !exit)
		return -EINVAL;
	if (cpu->in_hook)
		return -EBUSY;
	if (!atomic_compare_exchange_strong(&cpu->running, &expected, true))
		return -EBUSY;
	cpu->stats.runs++;
	cpu->ic_cached = false;
	cpu->ic_gen = 0;
	if (cpu->stale_code_all && cpu->uc && !park_engine(cpu))
		cpu->stats.code_flushes++; /* too much stale code: a fresh engine */
	if (cpu->mode == RK_CPU_MODE_STAGE2 && cpu->uc) {
		/*
		 * All code must go (another vCPU's IC IALLUIS, or IC IVAU the code log
		 * cannot name by page): a fresh engine, measured cheaper (~0.5-0.9 ms) than
		 * uc_ctl_remove_cache() over every RAM window (~0.8 ms for 64 KiB, 6 ms for
		 * 256 MiB); on failure s2_drop_code does that. Pages of the code log go
		 * by page in s2_drop_code.
		 */
		code_domain_check(cpu);
		if (cpu->code_stale)
			(void)park_engine(cpu);
	}
	if (cpu->layout_dirty && cpu->shadowed && cpu->uc)
		(void)park_engine(cpu); /* a window after the shadows: a fresh engine (s2_layout) */
	bound_code(cpu);                /* may park it, to give its translated code back */
	rc = wake(cpu);
	if (rc) {
		set_simple(exit, RK_CPU_EXIT_ERROR, 0);
		exit->error = rc;
		goto out;
	}
	uc = cpu->uc;

	rc = cpu->mode == RK_CPU_MODE_STAGE2 ? s2_sync(cpu) : sync_memory(cpu);
	if (rc) {
		set_simple(exit, RK_CPU_EXIT_ERROR, read_u64(uc, UC_ARM64_REG_PC));
		exit->error = rc;
		goto out;
	}
	if (atomic_exchange(&cpu->kick_pending, false)) {
		set_simple(exit, RK_CPU_EXIT_KICK, read_u64(uc, UC_ARM64_REG_PC));
		goto out;
	}

	if (timeout_us)
		end = ts_add_ns(mono_now(),
				timeout_us > UINT64_MAX / 1000u ? UINT64_MAX : timeout_us * 1000u);
	wd_arm(cpu, timeout_us);
	for (;;) {
		bool out_of_time = false;
		uc_err err;

		cpu->have_pending = false;
		cpu->internal = RK_CPU_INTERNAL_NONE;
		cpu->fix.valid = false;
		cpu->sr_valid = false;
		if (__builtin_expect(atomic_load_explicit(&start_delay_ns, memory_order_relaxed) != 0, 0)) {
			uint64_t ns = atomic_load(&start_delay_ns);
			struct timespec d = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };

			nanosleep(&d, NULL);
		}
		err = uc_emu_start(uc, read_u64(uc, UC_ARM64_REG_PC), 0, 0, 0);
		if (cpu->el0_entry && (rc = el0_finish(cpu, false, 0)) != 0) {
			set_simple(exit, RK_CPU_EXIT_ERROR, read_u64(uc, UC_ARM64_REG_PC));
			exit->error = rc;
			break;
		}
		if (cpu->fix.valid) {
			/* Stopped right after an access: PC is the block start. */
			if (cpu->fix.complete) {
				if (cpu->fix.rt != 31)
					write_u64(uc, gpr_uc_id(cpu->fix.rt), cpu->fix.value);
				write_u64(uc, UC_ARM64_REG_PC, cpu->fix.pc + 4);
			} else {
				write_u64(uc, UC_ARM64_REG_PC, cpu->fix.pc);
			}
			cpu->fix.valid = false;
		}
		if (cpu->have_pending) {
			*exit = cpu->pending;
			if (exit->reason == RK_CPU_EXIT_DABT || exit->reason == RK_CPU_EXIT_IABT ||
			    exit->reason == RK_CPU_EXIT_SYSREG)
				write_u64(uc, UC_ARM64_REG_PC, exit->pc);
			break;
		}
		if (cpu->internal == RK_CPU_INTERNAL_SYNC) {
			rc = do_inject(cpu, cpu->internal_esr, cpu->internal_far, cpu->internal_elr);
			if (rc) {
				set_simple(exit, RK_CPU_EXIT_ERROR, cpu->internal_elr);
				exit->error = rc;
				break;
			}
			cpu->stats.guest_exceptions++;
		} else if (err != UC_ERR_OK) {
			set_simple(exit, RK_CPU_EXIT_ERROR, read_u64(uc, UC_ARM64_REG_PC));
			exit->error = -EIO;
			break;
		}
		/* Only stops at an exact point get here; see the design notes. */
		if (atomic_exchange(&cpu->kick_pending, false)) {
			set_simple(exit, RK_CPU_EXIT_KICK, read_u64(uc, UC_ARM64_REG_PC));
			break;
		}
		if (atomic_load(&cpu->timed_out)) {
			set_simple(exit, RK_CPU_EXIT_TIMEOUT, read_u64(uc, UC_ARM64_REG_PC));
			break;
		}
		if (cpu->stale_code_all) {
			rc = renew_in_run(cpu, timeout_us, &end, &out_of_time);
			uc = cpu->uc;
			if (rc) {
				set_simple(exit, RK_CPU_EXIT_ERROR, uc ? read_u64(uc, UC_ARM64_REG_PC) : 0);
				exit->error = rc;
				break;
			}
			if (out_of_time) {
				set_simple(exit, RK_CPU_EXIT_TIMEOUT, read_u64(uc, UC_ARM64_REG_PC));
				break;
			}
		}
		/* A guest exception delivered, a fresh engine, or a stop meant
		 * for an earlier moment: keep running. */
	}
	wd_disarm(cpu);
out:
	cpu->last = *exit;
	cpu->last_done = false;
	cpu->stats.exits++;
	atomic_store(&cpu->running, false);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Completing exits                                                         */
/* ------------------------------------------------------------------------ */

int rk_cpu_skip_insn(struct rk_cpu *cpu)
{
	if (!cpu)
		return -EINVAL;
	if (busy(cpu))
		return -EBUSY;
	if (wake(cpu))
		return -EIO;
	write_u64(cpu->uc, UC_ARM64_REG_PC, read_u64(cpu->uc, UC_ARM64_REG_PC) + 4);
	cpu->last_done = true;
	return 0;
}

/*
 * The emulatable MMIO access of the last exit that is still to be completed,
 * a store (is_write) or a load with a valid syndrome; NULL if there is none.
 */
static const struct rk_cpu_mem_access *pending_mmio(const struct rk_cpu *cpu, bool is_write)
{
	const struct rk_cpu_mem_access *m = &cpu->last.mem;

	if (cpu->last.reason != RK_CPU_EXIT_DABT || m->is_write != is_write || (!is_write && !m->isv) ||
	    cpu->last_done)
		return NULL;
	return m;
}

/* Retire the faulting instruction of the last exit. */
static void complete_last(struct rk_cpu *cpu)
{
	write_u64(cpu->uc, UC_ARM64_REG_PC, cpu->last.pc + 4);
	cpu->last_done = true;
}

int rk_cpu_complete_mmio_read(struct rk_cpu *cpu, uint64_t value)
{
	const struct rk_cpu_mem_access *m;

	if (!cpu)
		return -EINVAL;
	if (busy(cpu))
		return -EBUSY;
	m = pending_mmio(cpu, false);
	if (!m)
		return -EINVAL;
	if (wake(cpu))
		return -EIO;
	value = rk_cpu_ldst_extend(value, m->size, m->sse, m->sf);
	if (m->srt != 31)
		write_u64(cpu->uc, gpr_uc_id(m->srt), value);
	complete_last(cpu);
	return 0;
}

int rk_cpu_complete_sysreg_read(struct rk_cpu *cpu, uint64_t value)
{
	const struct rk_cpu_sysreg *a;

	if (!cpu)
		return -EINVAL;
	if (busy(cpu))
		return -EBUSY;
	a = &cpu->last.sysreg;
	if (cpu->last.reason != RK_CPU_EXIT_UNDEF || !a->valid || !a->is_read || cpu->last_done)
		return -EINVAL;
	if (wake(cpu))
		return -EIO;
	if (a->rt != 31)
		write_u64(cpu->uc, gpr_uc_id(a->rt), value);
	complete_last(cpu);
	return 0;
}

int rk_cpu_complete_mmio_write(struct rk_cpu *cpu)
{
	if (!cpu)
		return -EINVAL;
	if (busy(cpu))
		return -EBUSY;
	if (!pending_mmio(cpu, true))
		return -EINVAL;
	if (wake(cpu))
		return -EIO;
	complete_last(cpu);
	return 0;
}

uint64_t rk_cpu_dabt_iss(const struct rk_cpu_mem_access *a)
{
	uint64_t iss = 0;
	unsigned sas = 0;

	if (!a)
		return 0;
	if (a->is_write)
		iss |= ESR_WNR;
	if (!a->isv)
		return iss;
	while ((1u << sas) < a->size && sas < 3)
		sas++;
	iss |= ESR_ISV | ESR_SAS(sas) | ESR_SRT(a->srt & 31u);
	if (a->sse)
		iss |= ESR_SSE;
	if (a->sf)
		iss |= ESR_SF;
	if (a->ar)
		iss |= ESR_AR;
	return iss;
}
