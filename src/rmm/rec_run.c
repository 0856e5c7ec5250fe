/* SPDX-License-Identifier: MIT */
/*
 * RMI_REC_ENTER and the REC run loop: the loop that drives the execution
 * engine (platform/cpu), resolves stage-2 faults against the RTTs, answers
 * RSI and PSCI calls (rsi/smc.c; register-only ones on the engine's fast
 * path) and fills RmiRecExit when the host has to act.
 *
 * Locking: REC_ENTER checks its conditions with the REC and RD locked (L2),
 * marks the REC running (refcount 1), drops both and takes the realm's run
 * lock (one REC of a realm executes at a time: exclusives are not atomic
 * between engines). Lock order: RD -> realm run lock -> RTTs. Commands that
 * take a valid mapping away (DATA_UNMAP, UNPROT_UNMAP, SET_RIPAS, RTT_DESTROY of
 * an unprotected RTT) take the run
 * lock too, so no engine keeps using a granule after it left the realm; they
 * bump the stage-2 generation, and an engine whose generation is stale drops
 * all its mappings at the next entry and faults them back in from the RTTs.
 *
 * Interrupts (docs/architecture.md, "Interrupts"): the host programs the GIC
 * virtual CPU interface of the CPU it issues REC_ENTER on (platform/gic.h);
 * REC_ENTER checks its list registers (vgic_lrs_valid), the REC runs with a
 * copy of it (rec->vgic: the virtual IRQ line follows it, a maintenance
 * condition ends the run with an IRQ exit, as the physical maintenance
 * interrupt would; the realm's ICC_* accesses are emulated against it by the
 * CPU interface's emulation, platform/vcpuif.h: inside the engine through the
 * sysreg handler, idregs.c, or from an UNDEF exit in hooks mode,
 * rec_icc_undef), and every exit hands it back with
 * ICH_HCR_EL2.En clear and reports the REC's timers (realmkit/gtimer.h: a timer output
 * that changed since the last exit ends the run with an IRQ exit, and the
 * slice ends at the next timer deadline).
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "realmkit/cpu.h"
#include "realmkit/gtimer.h"
#include "realmkit/arch/gic.h"
#include "realmkit/arch/insn.h"
#include "realmkit/arch/psci.h"
#include "realmkit/arch/smccc.h"
#include "realmkit/arch/sysreg.h"
#include "realmkit/platform.h"
#include "platform/platform.h"
#include "platform/vcpuif.h"
#include "engines.h"
#include "granule.h"
#include "ns.h"
#include "rec_engine.h"
#include "rmi/rmi.h"
#include "rmi/rmi_handlers_gen.h"
#include "rsi/smc.h"
#include "run_lock.h"
#include "s2tt.h"
#include "vgic.h"

#define ENTER_FLAG(f, name) (((f)&RMI_REC_ENTER_FLAGS_##name##_MASK) != 0)
#define ESR_EMULATED_ISS_MASK ((uint64_t)(ESR_ISV | ESR_SAS_MASK | ESR_SF | ESR_WNR))

/*
 * Park the engine of REC pa, chosen by engines_used(), if it is still an idle
 * REC with an engine. Called with no lock held; the REC's granule lock keeps
 * its REC_ENTER (refcount 1 while running) and REC_DESTROY out meanwhile.
 */
static void rec_park_engine(struct rmm *rmm, uint64_t pa)
{
	struct granule *g = find_lock_granule(rmm, pa, GRANULE_STATE_REC);
	struct rec *rec;

	if (!g)
		return;
	rec = rec_of(rmm, g);
	if (!g->refcount && rec->cpu)
		(void)rk_cpu_park(rec->cpu);
	granule_unlock(g);
}

/*
 * The fast path: RSI and PSCI calls that only read and write registers are
 * answered inside the engine's SMC hook, without an exit from the engine.
 * Everything else (calls that touch realm memory, may exit to the host, or
 * change PC) takes the exit path in rec_run_loop().
 */
/* Fast-path calls pass and return at most X0..X10 (MEASUREMENT_EXTEND's ten arguments). */
#define RSI_FAST_NREGS 11u

/* Is fid a fast-path call? Its registers, and its RSI handler (NULL: go through rsi_handle). */
static bool rsi_fast_fid(uint64_t fid, unsigned int *nargs, unsigned int *nres, rsi_handler_fn **handler)
{
	uint64_t fnum = fid & 0xffff;

	switch (rsi_fid(fid)) {
	case RSI_FID_VERSION:
	case RSI_FID_FEATURES:
	case RSI_FID_MEASUREMENT_READ:
	case RSI_FID_MEASUREMENT_EXTEND:
	case RSI_FID_IPA_STATE_GET: {
		/* argument and result registers from the generated ABI table */
		const struct rsi_cmd_desc *d = &rsi_cmd_table[fnum - RSI_FNUM_MIN];
		*nargs = d->nargs;
		*nres = d->nres;
		*handler = d->handler;
		break;
	}
	case PSCI_VERSION:
	case PSCI_FEATURES:
	case SMCCC_VERSION:
		*nargs = 1;
		*nres = 0;
		*handler = NULL;
		break;
	default:
		return false;
	}
	return *nargs < RSI_FAST_NREGS && *nres < RSI_FAST_NREGS;
}

static void rsi_log_call(struct rmm *rmm, const struct rec *rec, const uint64_t in[5],
			 const struct rsi_call *c);

/*
 * Cost matters here (bench_run's RSI round trip): the registers cross the
 * engine boundary in batched calls (X0..X1 first, which covers every call
 * but IPA_STATE_GET and MEASUREMENT_EXTEND), RSI commands go straight to
 * their handler, and only the argument and result registers of the call are
 * initialised (the handlers of these calls touch no others).
 */
static bool rsi_fast(struct rk_cpu *cpu, uint16_t imm, struct rk_cpu_smc_ctx *fc)
{
	struct rsi_call c;
	unsigned int nargs, nres;
	rsi_handler_fn *handler;

	(void)imm;
	if (rk_cpu_get_xregs(cpu, 0, 2, c.x) || !rsi_fast_fid(c.x[0], &nargs, &nres, &handler))
		return false;
	if (nargs > 1 && rk_cpu_get_xregs(cpu, 2, nargs - 1, &c.x[2]))
		return false;
	/* a result the handler leaves alone returns 0, never an argument */
	for (unsigned int i = nargs + 1; i <= nres; i++)
		c.x[i] = 0;
	c.rmm = fc->rmm;
	c.rec = fc->rec;
	c.rd_pa = fc->rec->rd;
	c.s2 = fc->s2;
	c.exit = NULL;
	c.to_host = false;
	c.retry = false;
	if (atomic_load_explicit(&fc->rmm->rsi_log, memory_order_relaxed)) {
		uint64_t in[5] = { 0 };
		memcpy(in, c.x, (nargs < 4 ? nargs + 1 : 5) * sizeof(in[0])); /* what the realm passed */
		rsi_handle(&c);
		rsi_log_call(fc->rmm, fc->rec, in, &c);
	} else if (handler) {
		handler(c.rmm, &c); /* an RSI command: straight to its handler */
	} else {
		rsi_handle(&c);
	}
	/* x0 and the result registers */
	(void)rk_cpu_set_xregs(cpu, 0, nres + 1, c.x);
	return true;
}

/*
 * The engine of a REC, created on its first entry from the REC's saved state,
 * in its realm's TLB domain (the RD outlives its RECs and their engines).
 */
static int rec_engine(struct rmm *rmm, struct rec *rec, struct rd *rd)
{
	uint64_t mpidr_el1;
	int ret;

	if (rec->cpu)
		return 0;
	ret = rk_cpu_create(&rec->cpu);
	if (ret)
		return ret;
	rec->virq = 0; /* a new engine's virtual IRQ line is low */
	/* DRAM is the engine's physical memory (stage-2 mode: one region per bank) */
	for (unsigned int i = 0; !ret && i < rmm->plat->nbanks; i++)
		ret = rk_cpu_add_ram(rec->cpu, rmm->plat->banks[i].mem, rmm->plat->banks[i].size);
	/* MPIDR_EL1 as the realm reads it: RES1 bit 31, Aff3 at [39:32] */
	mpidr_el1 = MPIDR_EL1_RES1 | (rec->mpidr & 0xffffffULL) | ((rec->mpidr >> 24 & 0xff) << 32);
	if (!ret)
		ret = rk_cpu_set_gprs(rec->cpu, rec->gprs);
	if (!ret)
		ret = rk_cpu_set_reg(rec->cpu, RK_CPU_REG_PC, rec->pc);
	if (!ret)
		ret = rk_cpu_set_reg(rec->cpu, RK_CPU_REG_MPIDR_EL1, mpidr_el1);
	if (!ret)
		ret = rk_cpu_set_smc_handler_noimm(rec->cpu, rsi_fast, &rec->fast);
	rec->idregs.timer = &rec->timer;
	rec->idregs.ich = &rec->vgic;
	rec->idregs.virq = &rec->virq;
	rec->idregs.icc_trap = 0;
	if (!ret)
		ret = realm_idregs_attach(rec->cpu, &rec->idregs);
	if (!ret)
		ret = rk_cpu_set_tlb_domain(rec->cpu, &rd->tlb);
	if (ret)
		rec_free_engine(rec);
	return ret;
}

/*
 * Before the engine runs: drop its translations of the pages the RMM wrote
 * since it last ran (RSI_REALM_CONFIG, RSI_ATTEST_TOKEN_CONTINUE, host call
 * results). Without this a realm that had those written over its code kept
 * running the old code from the engine's translations, and switched to what
 * is in memory at whichever block happened to be translated afresh (seen as
 * a realm wedged after a retried RSI call: fuzz_rsi).
 */
static void rec_sync_code(struct rec *rec, const struct rd *rd, const struct s2tt_ctx *s2)
{
	uint64_t gen = rd->code_gen;

	if (rec->code_gen == gen)
		return;
	if (gen - rec->code_gen > REALM_CODE_LOG) {
		(void)rk_cpu_invalidate_code(rec->cpu, 0, s2tt_ipa_limit(s2));
	} else {
		for (uint64_t g = rec->code_gen; g != gen; g++)
			(void)rk_cpu_invalidate_code(rec->cpu, rd->code_log[g % REALM_CODE_LOG],
						     RK_GRANULE_SIZE);
	}
	rec->code_gen = gen;
}

/* The abort's EC: from the realm's EL0 ("lower EL") or its EL1 ("same EL"). */
static uint64_t abort_ec(struct rec *rec, bool instruction)
{
	uint64_t pstate = PSTATE_EL1H_DAIF;
	bool el0 = !rk_cpu_get_reg(rec->cpu, RK_CPU_REG_PSTATE, &pstate) && PSTATE_EL(pstate) == 0;

	if (instruction)
		return el0 ? ESR_EC_IABT_LOW : ESR_EC_IABT_CUR;
	return el0 ? ESR_EC_DABT_LOW : ESR_EC_DABT_CUR;
}

/* The RMM delivers an exception to the realm itself (counted by the exception-loop diagnosis). */
static void inject_sea(struct rec *rec, bool instruction, uint64_t addr)
{
	uint64_t ec = abort_ec(rec, instruction);
	uint64_t esr = ESR_EC(ec) | ESR_IL | ESR_FSC_SEA;

	if (!rk_cpu_inject_sync(rec->cpu, esr, addr)) {
		rec->xloop.injected = 1;
		rec->xloop.cur_esr = esr;
	}
}

static void inject_undef(struct rec *rec)
{
	if (!rk_cpu_inject_undef(rec->cpu)) {
		rec->xloop.injected = 1;
		rec->xloop.cur_esr = ESR_EC(ESR_EC_UNKNOWN) | ESR_IL;
	}
}

/*
 * The exception-loop diagnosis (realmkit/platform.h, RK_EXC_LOOP_LIMIT). Called
 * after the RMM handled an engine exit without leaving the run loop; pc and
 * addr say where that exit happened. If the RMM delivered an exception and this
 * exit was taken at the very instruction the previous delivered exception went
 * to, with the same kind, address and syndrome, no instruction retired in
 * between: the REC's state is what it was one turn before. True: stopped after
 * RK_EXC_LOOP_LIMIT such turns in a row, exit filled.
 */
static bool xloop_stuck(struct rec *rec, enum rk_cpu_exit_reason reason, uint64_t pc, uint64_t addr,
			struct rmi_rec_exit *exit)
{
	typeof(rec->xloop) *x = &rec->xloop;
	uint64_t vector = 0;

	if (!x->injected || rk_cpu_get_reg(rec->cpu, RK_CPU_REG_PC, &vector)) {
		x->armed = 0;
		x->count = 0;
		return false;
	}
	bool again = x->armed && pc == x->vector && pc == x->pc && addr == x->addr && reason == x->reason &&
		     x->cur_esr == x->esr;
	x->count = again ? x->count + 1 : 1;
	x->vector = vector;
	x->pc = pc;
	x->addr = addr;
	x->esr = x->cur_esr;
	x->reason = (uint8_t)reason;
	x->armed = 1;
	if (x->count < RK_EXC_LOOP_LIMIT)
		return false;
	memset(exit, 0, sizeof(*exit));
	exit->exit_reason = RMI_EXIT_SERROR;
	exit->esr = RK_EXC_LOOP_ESR;
	exit->far = addr;
	exit->gprs[0] = pc;
	exit->gprs[1] = x->esr;
	exit->gprs[2] = x->count;
	x->armed = 0;
	x->count = 0;
	rec_set_runnable(rec, false);
	return true;
}

/* Anything but a delivered exception or the end of a time slice: the count starts again. */
static void xloop_reset(struct rec *rec)
{
	rec->xloop.armed = 0;
	rec->xloop.count = 0;
}

/*
 * A realm ICC_* access that traps to EL2 (SGIs, ICH_HCR_EL2 TC/TALLn/TDIR),
 * PC already past it: a SYNC exit with EC 0x18, the ISS with Rt = 0,
 * gprs[0] = the value written; a read completes from enter.gprs[0] at the
 * next entry (TF-RMM emulate_sysreg_access_ns / complete_sysreg_emulation).
 */
static void icc_trap_exit(struct rec *rec, const struct rk_cpu_sysreg *acc, struct rmi_rec_exit *exit)
{
	uint64_t enc = SYSREG_ENC(acc->op0, acc->op1, acc->crn, acc->crm, acc->op2);

	exit->exit_reason = RMI_EXIT_SYNC;
	exit->esr = ESR_EC(ESR_EC_SYS64) | ESR_IL | enc | (acc->is_read ? ESR_SYS64_DIR_READ : 0);
	if (acc->is_read) {
		rec->pending = REC_PENDING_SYSREG;
		rec->sysreg_rt = acc->rt;
	} else {
		exit->gprs[0] = acc->value;
	}
}

enum icc_outcome { ICC_NOT, ICC_DONE, ICC_EXIT };

/*
 * An UNDEF exit that is an MRS/MSR the engine refused (ex->sysreg): in
 * hooks mode, which has no sysreg handler, the realm's ICC_* accesses come
 * this way (stage-2 mode: realm_sysreg_handler, idregs.c, completes them
 * inside the run). Done: X[Rt] for a read, PC += 4, the run goes on (the
 * loop re-evaluates the vIRQ line and the maintenance interrupt). A trap:
 * icc_trap_exit(). ICC_NOT: not such an access (the caller injects the UNDEF).
 */
static enum icc_outcome rec_icc_undef(struct rec *rec, struct rk_cpu_sysreg *acc, struct rmi_rec_exit *exit)
{
	if (!acc->valid)
		return ICC_NOT;
	switch (vgic_icc_sysreg(&rec->vgic, rec->virq != 0, acc)) {
	case VGIC_ICC_DONE:
	case VGIC_ICC_RECHECK:
		if (acc->is_read)
			(void)rk_cpu_complete_sysreg_read(rec->cpu, acc->value);
		else
			(void)rk_cpu_skip_insn(rec->cpu);
		return ICC_DONE;
	case VGIC_ICC_TRAP:
		(void)rk_cpu_skip_insn(rec->cpu);
		icc_trap_exit(rec, acc, exit);
		return ICC_EXIT;
	case VGIC_ICC_NOT:
	default:
		return ICC_NOT;
	}
}

/*
 * Map the block holding ipa into the engine; on region exhaustion start
 * afresh. A block across DRAM banks or past the CPU model's physical address
 * range is mapped a page at a time. -ERANGE: the page itself is beyond that
 * range (RK_CPU_PA_BITS), the engine cannot run this access.
 */
static int engine_map(struct rmm *rmm, struct rk_cpu *cpu, const struct s2tt_ctx *s2, uint64_t ipa,
		      uint64_t pa, int level, unsigned int prot)
{
	uint64_t size = s2_level_size(level), base = ipa & ~(size - 1), gidx = 0;
	int ret;

	if (!plat_range_in_dram(rmm->plat, pa, size) ||
	    (size > RK_GRANULE_SIZE && base + size > 1ULL << RK_CPU_PA_BITS)) {
		base = ipa & ~(RK_GRANULE_SIZE - 1);
		pa += base - (ipa & ~(size - 1));
		size = RK_GRANULE_SIZE;
	}
	plat_pa_to_gidx(rmm->plat, pa, &gidx);
	uint8_t *host = plat_gidx_ptr(rmm->plat, gidx);
	ret = rk_cpu_map(cpu, base, size, host, prot);
	if (ret == -EEXIST) {
		/* pages of the block are in the engine already (mapped one by one
		 * before RTT_FOLD made a block of them): the block replaces them */
		ret = rk_cpu_unmap(cpu, base, size);
		if (!ret)
			ret = rk_cpu_map(cpu, base, size, host, prot);
	}
	if (ret == -ENOSPC) {
		(void)rk_cpu_unmap(cpu, 0, s2tt_ipa_limit(s2));
		ret = rk_cpu_map(cpu, base, size, host, prot);
	}
	return ret;
}

/* The engine cannot map what the realm touched: an SError exit, the REC stops. */
static bool engine_cannot_map(struct rec *rec, struct rmi_rec_exit *exit)
{
	exit->exit_reason = RMI_EXIT_SERROR;
	rec_set_runnable(rec, false);
	return true;
}

/*
 * A data or instruction abort from the engine. True: the host must act (exit filled).
 * An SEA the RMM injects reports the VA the realm used (FAR_EL2), not the IPA. A
 * stage-2 fault on the realm's stage-1 walk (s1ptw) is a read of the descriptor's
 * IPA, also for an instruction fetch: NS memory mapped there is mapped for it; the
 * outcome is otherwise that of the access's kind (an instruction abort at an
 * unprotected IPA is an SEA, a data abort there a non-emulatable exit).
 */
static bool handle_abort(struct rmm *rmm, struct rec *rec, const struct s2tt_ctx *s2,
			 const struct rk_cpu_exit *ex, struct rmi_rec_exit *exit)
{
	bool iabt = ex->reason == RK_CPU_EXIT_IABT;
	uint64_t addr = ex->mem.addr, va = ex->mem.va;
	struct rtt_walk w;

	if (addr >= s2tt_ipa_limit(s2)) {
		inject_sea(rec, iabt, va); /* outside the IPA space: the RMM's own business */
		return false;
	}
	s2tt_walk_lock(rmm, s2, addr, S2_MAX_LEVEL, &w);
	uint64_t e = w.table[w.idx];
	int level = w.level;
	enum s2tte_kind k = s2tte_kind(e, level);
	enum rmi_ripas ripas = s2tte_ripas(e, level);
	granule_unlock(w.g);

	if (k == S2TTE_ASSIGNED && ripas == RMI_RIPAS_RAM) {
		if (engine_map(rmm, rec->cpu, s2, addr, s2tte_oa(e), level, RK_CPU_PROT_ALL))
			return engine_cannot_map(rec, exit);
		return false;
	}
	bool gpf = false;
	if (k == S2TTE_ASSIGNED_NS && (!iabt || ex->mem.s1ptw)) {
		unsigned int prot = 0;
		uint64_t page = s2tte_oa(e) + (addr & (s2_level_size(level) - 1) & ~(RK_GRANULE_SIZE - 1));
		if (e & (1ULL << S2_DESC_S2AP_SHIFT))
			prot |= RK_CPU_PROT_READ;
		if (e & (2ULL << S2_DESC_S2AP_SHIFT))
			prot |= RK_CPU_PROT_WRITE;
		/*
		 * The access goes to the NS PAS: only a DRAM granule that is NS in
		 * the GPT may back it (the hardware's granule protection check);
		 * anything else is a fault for the host, never the granule's data.
		 * One page at a time, so every page is checked.
		 */
		gpf = !plat_pa_is_ns(rmm->plat, page);
		if (!ex->mem.is_perm && prot && !gpf) {
			if (engine_map(rmm, rec->cpu, s2, addr & ~(RK_GRANULE_SIZE - 1), page, 3, prot))
				return engine_cannot_map(rec, exit);
			return false;
		}
		/* permission or protection fault on NS memory: the host decides (MMIO path) */
	}
	if (s2tt_ipa_protected(s2, addr)) {
		if (ripas == RMI_RIPAS_EMPTY) {
			inject_sea(rec, iabt, va);
			return false;
		}
		/* RIPAS RAM without a mapping, or DESTROYED: a stage-2 fault for the host */
		exit->exit_reason = RMI_EXIT_SYNC;
		exit->esr = ESR_EC(iabt ? ESR_EC_IABT_LOW : ESR_EC_DABT_LOW) | ESR_FSC_TRANS(level);
		exit->far = 0;
		exit->hpfar = (addr >> 12) << 4;
		return true;
	}
	if (iabt) {
		inject_sea(rec, true, va); /* no execution from unprotected memory */
		return false;
	}
	/* unprotected IPA: emulatable MMIO when the syndrome is valid */
	exit->exit_reason = RMI_EXIT_SYNC;
	exit->hpfar = (addr >> 12) << 4;
	uint64_t fsc = gpf ? ESR_FSC_GPF : ex->mem.is_perm ? ESR_FSC_PERM(3) : ESR_FSC_TRANS(level);
	if (ex->mem.isv && !ex->mem.s1ptw) {
		/* ISV, SAS, SF, WnR only: the RMM completes the access itself, so the
		 * register number, sign extension and ordering stay hidden (10.4) */
		exit->esr = ESR_EC(ESR_EC_DABT_LOW) | ESR_IL |
			    (rk_cpu_dabt_iss(&ex->mem) & ESR_EMULATED_ISS_MASK) | fsc;
		exit->far = addr & (RK_GRANULE_SIZE - 1);
		if (ex->mem.is_write)
			exit->gprs[0] = ex->mem.value;
		rec->last_exit_emulatable = 1;
		rec->mmio_is_write = ex->mem.is_write;
	} else {
		exit->esr = ESR_EC(ESR_EC_DABT_LOW) | ESR_IL | fsc;
		exit->far = 0;
	}
	rec->last_exit_ns_abort = 1;
	rec->last_far = va; /* an SEA the host asks for reports it (FAR_EL2) */
	return true;
}

/* Firmware log line for one realm call (rk_machine_set_rsi_log()). */
static void rsi_log_call(struct rmm *rmm, const struct rec *rec, const uint64_t in[5],
			 const struct rsi_call *c)
{
	FILE *f = atomic_load_explicit(&rmm->rsi_log, memory_order_relaxed);

	if (!f)
		return;
	fprintf(f, "rmm: rec %u %s(0x%llx, 0x%llx, 0x%llx, 0x%llx) -> 0x%llx 0x%llx 0x%llx%s\n", rec->index,
		rsi_call_name(in[0]), (unsigned long long)in[1], (unsigned long long)in[2],
		(unsigned long long)in[3], (unsigned long long)in[4], (unsigned long long)c->x[0],
		(unsigned long long)c->x[1], (unsigned long long)c->x[2],
		c->to_host ? (c->retry ? " [exit to host, retry]" : " [exit to host]") : "");
}

/* Run until the host has to act; fills exit. */
static void rec_run_loop(struct rmm *rmm, struct rec *rec, struct rd *rd, const struct s2tt_ctx *s2,
			 uint64_t enter_flags, double start, struct rmi_rec_exit *exit)
{
	double deadline = start + rmm->slice_us;
	struct rk_cpu_exit ex;

	for (;;) {
		/* other RECs of the realm wait for the run lock: hand it on sooner */
		if (realm_run_contended(rd) && start + REC_CONTENDED_SLICE_US < deadline)
			deadline = start + REC_CONTENDED_SLICE_US;
		/*
		 * The timers (TF-RMM check_pending_timers): an output that changed
		 * since the last exit is the physical PPI the host must see: IRQ
		 * exit. Else the slice ends at the next CVAL that would assert one.
		 */
		uint64_t now = plat_counter_read();
		if (rk_gtimer_outputs(&rec->timer, now) != rec->timer_out) {
			exit->exit_reason = RMI_EXIT_IRQ;
			return;
		}
		double left = deadline - run_lock_now_us();
		if (left < 1) {
			exit->exit_reason = RMI_EXIT_IRQ;
			return;
		}
		uint64_t due = rk_gtimer_next(&rec->timer, now);
		if (due != UINT64_MAX && (double)(due - now) * 1e6 / CNTFRQ_HZ + 1 < left)
			left = (double)(due - now) * 1e6 / CNTFRQ_HZ + 1;
		/* the maintenance interrupt is a physical IRQ for the host: it ends the run */
		if (plat_ich_maint(&rec->vgic)) {
			exit->exit_reason = RMI_EXIT_IRQ;
			return;
		}
		bool virq = plat_icv_virq(&rec->vgic);
		if (virq != (rec->virq != 0) && !rk_cpu_set_virq(rec->cpu, virq))
			rec->virq = virq;
		rec_sync_code(rec, rd, s2);
		rec->idregs.icc_trap = 0;
		if (rk_cpu_run(rec->cpu, (uint64_t)left, &ex)) {
			exit->exit_reason = RMI_EXIT_SERROR;
			rec_set_runnable(rec, false);
			return;
		}
		uint64_t where = ex.pc, what = ex.mem.addr;
		rec->xloop.injected = 0;
		if (ex.reason != RK_CPU_EXIT_TIMEOUT && ex.reason != RK_CPU_EXIT_KICK &&
		    ex.reason != RK_CPU_EXIT_HVC && ex.reason != RK_CPU_EXIT_UNDEF &&
		    ex.reason != RK_CPU_EXIT_DABT && ex.reason != RK_CPU_EXIT_IABT)
			xloop_reset(rec);
		switch (ex.reason) {
		case RK_CPU_EXIT_SMC: {
			struct rsi_call c = {
				.rmm = rmm, .rec = rec, .rd_pa = rec->rd, .s2 = *s2, .exit = exit
			};
			(void)rk_cpu_get_gprs(rec->cpu, c.x);
			uint64_t in[5] = { c.x[0], c.x[1], c.x[2], c.x[3], c.x[4] };
			rsi_handle(&c);
			rsi_log_call(rmm, rec, in, &c);
			(void)rk_cpu_set_gprs(rec->cpu, c.x);
			if (c.retry)
				(void)rk_cpu_set_reg(rec->cpu, RK_CPU_REG_PC, ex.pc - 4);
			if (c.to_host)
				return;
			break;
		}
		case RK_CPU_EXIT_HVC:
			/* an HVC from the realm is UNDEFINED */
			where = ex.pc - 4;
			what = ex.insn;
			(void)rk_cpu_set_reg(rec->cpu, RK_CPU_REG_PC, where);
			inject_undef(rec);
			break;
		case RK_CPU_EXIT_SYSREG:
			/* the sysreg handler ended the run after an ICC access (idregs.c) */
			xloop_reset(rec);
			if (rec->idregs.icc_trap) {
				rec->idregs.icc_trap = 0;
				icc_trap_exit(rec, &ex.sysreg, exit);
				return;
			}
			break; /* the vIRQ line or the maintenance interrupt changed: checked above */
		case RK_CPU_EXIT_UNDEF: {
			enum icc_outcome icc = rec_icc_undef(rec, &ex.sysreg, exit);
			if (icc == ICC_EXIT) {
				xloop_reset(rec);
				return;
			}
			if (icc == ICC_DONE) {
				xloop_reset(rec);
				break;
			}
			what = ex.insn;
			inject_undef(rec);
			break;
		}
		case RK_CPU_EXIT_WFI: {
			bool wfe = ex.insn == A64_WFE;
			(void)rk_cpu_skip_insn(rec->cpu);
			if ((wfe && ENTER_FLAG(enter_flags, TRAP_WFE)) ||
			    (!wfe && ENTER_FLAG(enter_flags, TRAP_WFI))) {
				exit->exit_reason = RMI_EXIT_SYNC;
				/* WFx exposes EC and TI only (reference 10.4) */
				exit->esr = ESR_EC(ESR_EC_WFX) | (wfe ? ESR_WFX_TI_WFE : 0);
			} else {
				/* not trapped: the vCPU idles until an interrupt; let the host run */
				exit->exit_reason = RMI_EXIT_IRQ;
			}
			return;
		}
		case RK_CPU_EXIT_DABT:
		case RK_CPU_EXIT_IABT:
			if (handle_abort(rmm, rec, s2, &ex, exit)) {
				xloop_reset(rec);
				return;
			}
			break;
		case RK_CPU_EXIT_TIMEOUT:
		case RK_CPU_EXIT_KICK:
			exit->exit_reason = RMI_EXIT_IRQ;
			return;
		case RK_CPU_EXIT_ERROR:
		case RK_CPU_EXIT_NONE:
		default:
			/* the engine cannot go on with this REC: report an SError, stop it */
			exit->exit_reason = RMI_EXIT_SERROR;
			rec_set_runnable(rec, false);
			return;
		}
		if (xloop_stuck(rec, ex.reason, where, what, exit))
			return;
	}
}

/* Work the host's answer to the previous exit into the REC (spec: entry processing). */
static bool rec_entry_complete(struct rmm *rmm, struct rec *rec, struct rd *rd, const struct s2tt_ctx *s2,
			       const struct rmi_rec_enter *enter, struct rmi_rec_exit *exit)
{
	if (ENTER_FLAG(enter->flags, INJECT_SEA)) {
		uint64_t esr = ESR_EC(abort_ec(rec, false)) | ESR_IL | ESR_FSC_SEA;
		(void)rk_cpu_inject_sync(rec->cpu, esr, rec->last_far);
	} else if (ENTER_FLAG(enter->flags, EMULATED_MMIO)) {
		if (rec->mmio_is_write)
			(void)rk_cpu_complete_mmio_write(rec->cpu);
		else
			(void)rk_cpu_complete_mmio_read(rec->cpu, enter->gprs[0]);
	}
	switch (rec->pending) {
	case REC_PENDING_HOST_CALL: {
		int level = 3;
		/* the host's results go into the realm's RsiHostCall.gprs */
		enum ipa_resolve res = realm_ipa_copy(rmm, s2, rec->host_call_ipa + RSI_HOST_CALL_OFF_GPRS,
						      (void *)enter->gprs, sizeof(enter->gprs), true, &level);
		if (res == IPA_UNMAPPED) {
			rec_exit_s2_abort(exit, rec->host_call_ipa, level);
			return false; /* the host maps it, then enters again */
		}
		if (res == IPA_MAPPED)
			realm_code_written(rd, rec->host_call_ipa);
		rec_set_gpr(rec, 0, RSI_SUCCESS);
		break;
	}
	case REC_PENDING_SYSREG:
		/* the host's value for the trapped MRS (PC is past it already) */
		if (rec->sysreg_rt != 31)
			(void)rk_cpu_set_reg(rec->cpu, RK_CPU_REG_X(rec->sysreg_rt), enter->gprs[0]);
		break;
	case REC_PENDING_RIPAS: {
		bool reject = ENTER_FLAG(enter->flags, RIPAS_RESPONSE) && rec->ripas_value == RMI_RIPAS_RAM &&
			      rec->ripas_addr < rec->ripas_top;
		rec_set_gpr(rec, 0, RSI_SUCCESS);
		rec_set_gpr(rec, 1, rec->ripas_addr);
		rec_set_gpr(rec, 2, reject ? 1 : 0);
		break;
	}
	default:
		break;
	}
	rec->pending = REC_PENDING_NONE;
	rec->last_exit_emulatable = 0;
	rec->last_exit_ns_abort = 0;
	return true;
}

uint64_t rmi_rec_enter(struct rmm *rmm, const struct rmi_rec_enter_args *args, struct rmi_rec_enter_res *res)
{
	static _Thread_local struct rmi_rec_enter enter;
	static _Thread_local struct rmi_rec_exit exit;
	uint64_t rec_pa = args->rec, run_pa = args->run, ret;
	struct plat_ich *cpu_ich = vgic_cpu();
	struct granule *g_rec, *g_rd;
	struct plat_ich ich;
	struct s2tt_ctx s2;
	struct rec *rec;
	struct rd *rd;

	(void)res;
	/* the GIC virtual interface of the CPU this SMC is issued on, as the host left it */
	vgic_take(&ich, cpu_ich, rmm->plat->ich_vtr);
	if (run_pa & (RK_GRANULE_SIZE - 1) || !plat_pa_is_ns(rmm->plat, run_pa))
		return rmi_result(RMI_ERROR_INPUT, 0);
	g_rec = lock_rec_and_rd(rmm, rec_pa, GRANULE_STATE_REC, &g_rd);
	if (!g_rec)
		return rmi_result(RMI_ERROR_INPUT, 0);
	rec = rec_of(rmm, g_rec);
	rd = rd_of(rmm, g_rd);
	if (g_rec->refcount)
		ret = rmi_result(RMI_ERROR_REC, 0);
	else if (!rmm_ns_read(rmm, run_pa, &enter, sizeof(enter)))
		ret = rmi_result(RMI_ERROR_INPUT, 0);
	else if (rd->state != RMI_REALM_STATE_ACTIVE)
		ret = rmi_result(RMI_ERROR_REALM, 0);
	else if (!rec_runnable(rec) || rec->pending == REC_PENDING_PSCI)
		ret = rmi_result(RMI_ERROR_REC, 0);
	else if (!vgic_lrs_valid(&ich)) /* TF-RMM: gic_validate_vgic() here */
		ret = rmi_result(RMI_ERROR_REC, 0);
	else if (ENTER_FLAG(enter.flags, INJECT_SEA) && !rec->last_exit_ns_abort)
		ret = rmi_result(RMI_ERROR_REC, 0);
	else if (ENTER_FLAG(enter.flags, EMULATED_MMIO) && !rec->last_exit_emulatable)
		ret = rmi_result(RMI_ERROR_REC, 0);
	else
		ret = rmi_result(RMI_SUCCESS, 0);
	if (ret == rmi_result(RMI_SUCCESS, 0)) {
		granule_set_refcount(g_rec, 1); /* running */
		rd->running_recs++;
		s2 = rd->s2;
		rec->vgic = ich;
	}
	granule_unlock(g_rec);
	granule_unlock(g_rd);
	if (ret != rmi_result(RMI_SUCCESS, 0))
		return ret;
	/* the REC is marked running: it runs with no granule lock held */

	memset(&exit, 0, sizeof(exit));
	double slice_start = realm_run_lock_rec(rd, rec_pa);
	if (rec_engine(rmm, rec, rd)) {
		exit.exit_reason = RMI_EXIT_SERROR;
		rec_set_runnable(rec, false);
	} else {
		uint64_t nsgen, gen = __atomic_load_n(&rd->s2_gen, __ATOMIC_ACQUIRE);
		unsigned int slot = engines_enter(rmm->engines, rec->cpu, rec_pa, &nsgen);
		rec->fast = (struct rk_cpu_smc_ctx){ .rmm = rmm, .rec = rec, .s2 = s2 };
		if (rec->s2_gen != gen) {
			xloop_reset(rec); /* stage 2 changed: the loop may end */
			(void)rk_cpu_unmap(rec->cpu, 0, s2tt_ipa_limit(&s2));
			rec->s2_gen = gen;
		} else if (rec->ns_gen != nsgen) {
			/* granules left the NS PAS since: fault the NS half in again through the GPT */
			uint64_t half = 1ULL << (s2.s2sz - 1);
			(void)rk_cpu_unmap(rec->cpu, half, half);
		}
		rec->ns_gen = nsgen;
		if (rec_entry_complete(rmm, rec, rd, &s2, &enter, &exit))
			rec_run_loop(rmm, rec, rd, &s2, enter.flags, slice_start, &exit);
		engines_leave(rmm->engines, slot);
	}
	rec->exits++;
	/* exits the host completes at once and then enters again (emulated MMIO,
	 * host calls, PSCI calls that wait for PSCI_COMPLETE): the REC keeps the
	 * rest of its slice. Not CPU_OFF, SYSTEM_OFF, WFI...: no prompt return. */
	bool keep = rec_runnable(rec) &&
		    ((exit.exit_reason == RMI_EXIT_SYNC && rec->last_exit_emulatable) ||
		     (exit.exit_reason == RMI_EXIT_HOST_CALL && rec->pending == REC_PENDING_HOST_CALL) ||
		     (exit.exit_reason == RMI_EXIT_PSCI && rec->pending == REC_PENDING_PSCI));
	realm_run_unlock_rec(rd, rec_pa, keep, slice_start);
	/* every exit: the timers (ISTATUS now; the outputs reported are the
	 * ones the next entries compare with), and the GIC state back on the
	 * CPU with En clear */
	uint64_t now = plat_counter_read();
	exit.cntp_ctl = rk_gtimer_ctl(rec->timer.cntp_ctl, rec->timer.cntp_cval, now);
	exit.cntp_cval = rec->timer.cntp_cval;
	exit.cntv_ctl = rk_gtimer_ctl(rec->timer.cntv_ctl, rec->timer.cntv_cval, now);
	exit.cntv_cval = rec->timer.cntv_cval;
	rec->timer_out = (uint8_t)rk_gtimer_outputs(&rec->timer, now);
	if (cpu_ich)
		vgic_give_back(cpu_ich, &rec->vgic);
	(void)rmm_ns_write(rmm, run_pa + RMI_REC_RUN_OFF_EXIT, &exit, sizeof(exit));

	g_rec = lock_rec_and_rd(rmm, rec_pa, GRANULE_STATE_REC, &g_rd);
	if (g_rec) { /* cannot fail: a running REC cannot be destroyed */
		granule_set_refcount(g_rec, 0);
		rd_of(rmm, g_rd)->running_recs--;
		granule_unlock(g_rec);
		granule_unlock(g_rd);
	}
	/* no lock held: keep the open engines to the cap (engines.h) */
	uint64_t victim;
	if (engines_used(rmm->engines, rec_pa, &victim))
		rec_park_engine(rmm, victim);
	return rmi_result(RMI_SUCCESS, 0);
}
