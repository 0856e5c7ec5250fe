/* SPDX-License-Identifier: MIT */
/*
 * RMI_REC_ENTER and RmiRecExit with the GIC virtual CPU interface the host
 * programs on its CPU (realmkit/platform.h rk_hcpu_ich_write, rk_hcpu_smc),
 * through the real RMM:
 *  - a valid list register with HW = 1, or two valid ones with the same
 *    vINTID: RMI_ERROR_REC, and nothing changed (REC, exit record, the CPU's
 *    registers); the same LRs with the offending one invalid are accepted;
 *  - the check's place: after the run page, the REC and the realm's state;
 *  - the state comes back as the realm left it (LRs, VMCR, APRs, HCR bits
 *    unmasked), with ICH_HCR_EL2.En cleared after every kind of exit, and
 *    MISR/EISR/ELRSR computed from it; an entry through rk_smc() (no CPU)
 *    does not see or touch any CPU's state;
 *  - a maintenance condition at entry (En and MISR != 0) ends the entry with
 *    an IRQ exit before any instruction;
 *  - a pending Group 1 LR the interface can signal raises the realm's
 *    virtual IRQ (taken at VBAR_EL1 + 0x280); not with En = 0, below PMR,
 *    Group 1 disabled, or Group 0;
 *  - the realm's ICC_* accesses reach its virtual CPU interface: acknowledge,
 *    EOI (an LR with EOI: the maintenance interrupt ends the entry), RPR;
 *    an SGI write and a trapped read exit to the host with EC 0x18 (Rt 0,
 *    gprs[0]; the read completed from enter.gprs[0]); an UNDEFINED one is the
 *    realm's UNDEF;
 *  - RecExit carries the REC's timers (cntv/cntp ctl and cval) on every exit
 *    (ISTATUS computed: tests/rmm/test_rec_timer.c).
 */
#include "exec_util.h"
#include "realmkit/arch/gic.h"

#define A64_MSR_DAIFCLR_I 0xd50342ffu /* msr daifclr, #2: unmask IRQs */
#define IRQ_MARK 0x1aaULL             /* what the IRQ vector stores */
#define MAIN_MARK 7ULL                /* what the main path stores after unmasking */

#define LR_P1(prio, id) ICH_LR(ICH_LR_STATE_PENDING, 1, prio, id)
#define VMCR_ON (ICH_VMCR_VENG1 | 0xf8ULL << ICH_VMCR_VPMR_SHIFT)

static void ich_w(struct xr *x, unsigned int cpu, uint32_t reg, uint64_t v)
{
	assert_int_equal(rk_hcpu_ich_write(x->m, cpu, reg, v), 0);
}

static uint64_t ich_r(struct xr *x, unsigned int cpu, uint32_t reg)
{
	uint64_t v = 0;

	assert_int_equal(rk_hcpu_ich_read(x->m, cpu, reg, &v), 0);
	return v;
}

/* Every ICH register of a CPU, in a fixed order (4 LRs). */
#define NREGS 12
static void ich_all(struct xr *x, unsigned int cpu, uint64_t out[NREGS])
{
	const uint32_t regs[NREGS] = { ICH_HCR_EL2,   ICH_VMCR_EL2,  ICH_AP0R_EL2(0), ICH_AP1R_EL2(0),
				       ICH_LR_EL2(0), ICH_LR_EL2(1), ICH_LR_EL2(2),   ICH_LR_EL2(3),
				       ICH_MISR_EL2,  ICH_EISR_EL2,  ICH_ELRSR_EL2,   ICH_VTR_EL2 };

	for (unsigned int k = 0; k < NREGS; k++)
		out[k] = ich_r(x, cpu, regs[k]);
}

static void ich_clear(struct xr *x, unsigned int cpu)
{
	ich_w(x, cpu, ICH_HCR_EL2, 0);
	ich_w(x, cpu, ICH_VMCR_EL2, 0);
	ich_w(x, cpu, ICH_AP0R_EL2(0), 0);
	ich_w(x, cpu, ICH_AP1R_EL2(0), 0);
	for (unsigned int n = 0; n < 4; n++)
		ich_w(x, cpu, ICH_LR_EL2(n), 0);
}

/* REC_ENTER of REC i issued on host CPU cpu; the exit area is filled first and
 * must be untouched on failure (as xr_enter1). */
static uint64_t enter_on(struct xr *x, unsigned int i, unsigned int cpu, uint64_t flags,
			 struct rmi_rec_exit *ex)
{
	static struct rmi_rec_run r;
	struct rk_smc_regs regs = { .x = { RMI_FID_REC_ENTER, x->rec[i], x->run[i] } };

	memset(&r, 0, sizeof(r));
	r.enter.flags = flags;
	memset(&r.exit, XR_EXIT_FILL, sizeof(r.exit));
	t_write(x->m, x->run[i], &r, sizeof(r));
	assert_int_equal(rk_hcpu_smc(x->m, cpu, &regs), 0);
	t_read(x->m, x->run[i] + RMI_REC_RUN_OFF_EXIT, ex, sizeof(*ex));
	if (regs.x[0] != RMI_SUCCESS) {
		const uint8_t *b = (const uint8_t *)ex;
		for (size_t k = 0; k < sizeof(*ex); k++)
			if (b[k] != XR_EXIT_FILL) {
				print_error("failed REC_ENTER wrote the exit record (byte 0x%zx)\n", k);
				fail();
			}
	}
	return regs.x[0];
}

/*
 * enter_on until an exit other than IRQ (a time slice: a REC's first entry
 * creates its engine and may use up the slice), re-entering with the same
 * ICH_HCR_EL2 (the RMM clears En at every exit) and no flags. Fails after
 * XR_PATIENCE_S.
 */
static uint64_t enter_run(struct xr *x, unsigned int i, unsigned int cpu, uint64_t flags,
			  struct rmi_rec_exit *ex)
{
	uint64_t hcr = 0, x0;
	double t0 = t_now();

	assert_int_equal(rk_hcpu_ich_read(x->m, cpu, ICH_HCR_EL2, &hcr), 0);
	for (x0 = enter_on(x, i, cpu, flags, ex); x0 == RMI_SUCCESS && ex->exit_reason == RMI_EXIT_IRQ;
	     x0 = enter_on(x, i, cpu, 0, ex)) {
		assert_true(t_now() - t0 < XR_PATIENCE_S);
		assert_int_equal(rk_hcpu_ich_write(x->m, cpu, ICH_HCR_EL2, hcr), 0);
	}
	return x0;
}

/* REC_ENTER on cpu refused with ERROR_REC, and nothing changed: the REC, the CPU's registers. */
static void enter_refused(struct xr *x, unsigned int i, unsigned int cpu, uint64_t expect)
{
	static struct rec before;
	uint64_t ich0[NREGS], ich1[NREGS];
	struct rmi_rec_exit ex;

	memcpy(&before, xr_recp(x, i), sizeof(before));
	ich_all(x, cpu, ich0);
	assert_int_equal(enter_on(x, i, cpu, 0, &ex), expect);
	assert_memory_equal(&before, xr_recp(x, i), sizeof(before));
	ich_all(x, cpu, ich1);
	assert_memory_equal(ich0, ich1, sizeof(ich0));
}

/* Code: report 1 (MMIO), then loop. */
static void realm_report(struct xr *x, unsigned int nrec)
{
	struct prog p = { .n = 0 };

	p_prologue(&p);
	p_mov(&p, 1, 1);
	p_report(&p, 1);
	p_put(&p, A64_B_SELF);
	xr_create(&env, x, RMI_HASH_SHA_256, NULL);
	xr_program(x, &p);
	for (unsigned int i = 0; i < nrec; i++)
		xr_rec(x, i == 0, XR_CODE_IPA);
}

static void expect_store(const struct rmi_rec_exit *ex, uint64_t v)
{
	assert_int_equal(ex->exit_reason, RMI_EXIT_SYNC);
	assert_true(ex->esr & ESR_ISV);
	assert_int_equal(ex->gprs[0], v);
}

/* ---- what REC_ENTER refuses -------------------------------------------------------- */

static void test_hw_lr_refused(void **state)
{
	struct rmi_rec_exit ex;
	struct xr x;

	(void)state;
	realm_report(&x, 1);
	xr_activate(&x);
	/* a pending LR with HW = 1 (any valid state) */
	ich_w(&x, 0, ICH_HCR_EL2, ICH_HCR_EN);
	ich_w(&x, 0, ICH_VMCR_EL2, VMCR_ON);
	for (unsigned int st = ICH_LR_STATE_PENDING; st <= ICH_LR_STATE_PENDING_ACTIVE; st++) {
		ich_w(&x, 0, ICH_LR_EL2(3),
		      ICH_LR(st, 1, 0x80, 27) | ICH_LR_HW | (27ULL << ICH_LR_PINTID_SHIFT));
		enter_refused(&x, 0, 0, RMI_ERROR_REC);
	}
	assert_int_equal(xr_recp(&x, 0)->exits, 0);
	assert_null(xr_recp(&x, 0)->cpu); /* never ran */
	/* the CPU's state is the CPU's: another CPU, and rk_smc() (no CPU), enter */
	assert_int_equal(enter_run(&x, 0, 1, 0, &ex), RMI_SUCCESS);
	expect_store(&ex, 1);
	assert_int_equal(xr_enter1(&x, 0, XR_ENTER_MMIO, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_IRQ);
	assert_int_equal(ich_r(&x, 0, ICH_HCR_EL2), ICH_HCR_EN); /* rk_smc() left CPU 0 alone */
	/* the same LR invalid: accepted; HW is kept as written */
	uint64_t lr = ICH_LR(ICH_LR_STATE_INVALID, 1, 0x80, 27) | ICH_LR_HW;
	ich_w(&x, 0, ICH_LR_EL2(3), lr);
	assert_int_equal(enter_on(&x, 0, 0, 0, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_IRQ);
	assert_int_equal(ich_r(&x, 0, ICH_LR_EL2(3)), lr);
	assert_int_equal(ich_r(&x, 0, ICH_HCR_EL2), 0);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

static void test_duplicate_vintid_refused(void **state)
{
	struct rmi_rec_exit ex;
	struct xr x;

	(void)state;
	realm_report(&x, 1);
	xr_activate(&x);
	ich_w(&x, 2, ICH_HCR_EL2, ICH_HCR_EN);
	ich_w(&x, 2, ICH_VMCR_EL2, ICH_VMCR_VENG1); /* PMR 0: nothing is signalled */
	ich_w(&x, 2, ICH_LR_EL2(0), LR_P1(0x80, 30));
	ich_w(&x, 2, ICH_LR_EL2(1), LR_P1(0x80, 31));
	ich_w(&x, 2, ICH_LR_EL2(3), ICH_LR(ICH_LR_STATE_ACTIVE, 1, 0x40, 30));
	enter_refused(&x, 0, 2, RMI_ERROR_REC);
	/* in the other group, pending+active: the same */
	ich_w(&x, 2, ICH_LR_EL2(3), ICH_LR(ICH_LR_STATE_PENDING_ACTIVE, 0, 0x40, 31));
	enter_refused(&x, 0, 2, RMI_ERROR_REC);
	/* vINTIDs that differ only above bit 15 are the same vINTID (16-bit IDbits: stored as 31) */
	ich_w(&x, 2, ICH_LR_EL2(3), LR_P1(0x80, 0x10000 | 31));
	assert_int_equal(ich_r(&x, 2, ICH_LR_EL2(3)), LR_P1(0x80, 31));
	enter_refused(&x, 0, 2, RMI_ERROR_REC);
	/* the duplicate invalid: accepted */
	ich_w(&x, 2, ICH_LR_EL2(3), ICH_LR(ICH_LR_STATE_INVALID, 1, 0x80, 31));
	assert_int_equal(enter_run(&x, 0, 2, 0, &ex), RMI_SUCCESS);
	expect_store(&ex, 1);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* The GIC check comes after the run page, the REC, the realm's state and the REC's runnability. */
static void test_check_order(void **state)
{
	struct rk_smc_regs regs;
	struct xr x;

	(void)state;
	realm_report(&x, 2); /* REC 1 not runnable */
	ich_w(&x, 0, ICH_HCR_EL2, ICH_HCR_EN);
	ich_w(&x, 0, ICH_LR_EL2(0), LR_P1(0x80, 27) | ICH_LR_HW);
	/* realm NEW: ERROR_REALM, not ERROR_REC */
	enter_refused(&x, 0, 0, RMI_ERROR_REALM);
	xr_activate(&x);
	/* run page not NS, REC not a REC: ERROR_INPUT */
	regs = (struct rk_smc_regs){ .x = { RMI_FID_REC_ENTER, x.rec[0], x.rd } };
	assert_int_equal(rk_hcpu_smc(x.m, 0, &regs), 0);
	assert_int_equal(regs.x[0], RMI_ERROR_INPUT);
	regs = (struct rk_smc_regs){ .x = { RMI_FID_REC_ENTER, x.rd, x.run[0] } };
	assert_int_equal(rk_hcpu_smc(x.m, 0, &regs), 0);
	assert_int_equal(regs.x[0], RMI_ERROR_INPUT);
	/* REC 1 not runnable: ERROR_REC either way */
	enter_refused(&x, 1, 0, RMI_ERROR_REC);
	enter_refused(&x, 0, 0, RMI_ERROR_REC);
	assert_int_equal(ich_r(&x, 0, ICH_HCR_EL2), ICH_HCR_EN);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* ---- what comes back ---------------------------------------------------------------- */

static void test_state_round_trip(void **state)
{
	uint64_t before[NREGS], after[NREGS];
	struct rmi_rec_exit ex;
	struct xr x;

	(void)state;
	realm_report(&x, 1);
	xr_activate(&x);
	/* everything a host may program; HCR bits the RMM 2.0 does not mask (TC, TALL0/1, TDIR,
	 * NPIE off since LR0 is pending, EOIcount); PMR 0x80: LR0 is not signalled */
	ich_w(&x, 3, ICH_LR_EL2(0), LR_P1(0xa0, 30) | ICH_LR_EOI);
	ich_w(&x, 3, ICH_LR_EL2(1), ICH_LR(ICH_LR_STATE_ACTIVE, 1, 0x80, 27));
	ich_w(&x, 3, ICH_LR_EL2(2), ICH_LR(ICH_LR_STATE_INVALID, 1, 0x80, 29));
	ich_w(&x, 3, ICH_LR_EL2(3), ICH_LR(ICH_LR_STATE_PENDING, 0, 0x10, 40));
	ich_w(&x, 3, ICH_VMCR_EL2, ICH_VMCR_VENG1 | ICH_VMCR_VEOIM | 0x80ULL << ICH_VMCR_VPMR_SHIFT);
	ich_w(&x, 3, ICH_AP1R_EL2(0), 1u << (0x80 >> 3));
	ich_w(&x, 3, ICH_AP0R_EL2(0), 0x80000000u);
	uint64_t hcr = ICH_HCR_EN | ICH_HCR_TC | ICH_HCR_TALL0 | ICH_HCR_TALL1 | ICH_HCR_TDIR | ICH_HCR_NPIE |
		       5ULL << ICH_HCR_EOICOUNT_SHIFT;
	ich_w(&x, 3, ICH_HCR_EL2, hcr);
	assert_int_equal(ich_r(&x, 3, ICH_HCR_EL2), hcr); /* stored unmasked */
	ich_all(&x, 3, before);
	assert_int_equal(enter_run(&x, 0, 3, 0, &ex), RMI_SUCCESS);
	expect_store(&ex, 1);
	ich_all(&x, 3, after);
	/* all as the host left it (the realm did not touch the interface), En cleared */
	assert_int_equal(after[0], hcr & ~ICH_HCR_EN);
	after[0] = before[0];
	assert_memory_equal(before, after, sizeof(before));
	assert_int_equal(ich_r(&x, 3, ICH_ELRSR_EL2), 0x4);
	assert_int_equal(ich_r(&x, 3, ICH_MISR_EL2), 0);
	/* the host does not enable it again: the realm runs on, En stays 0 */
	assert_int_equal(enter_on(&x, 0, 3, XR_ENTER_MMIO, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_IRQ);
	assert_int_equal(ich_r(&x, 3, ICH_HCR_EL2), hcr & ~ICH_HCR_EN);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* A maintenance condition with En = 1: the physical maintenance interrupt ends the entry. */
static void test_maintenance_at_entry(void **state)
{
	struct rmi_rec_exit ex, e;
	struct xr x;

	(void)state;
	realm_report(&x, 1);
	xr_activate(&x);
	struct {
		uint64_t hcr, lr0, vmcr, misr;
	} cases[] = {
		{ ICH_HCR_EN | ICH_HCR_UIE, 0, 0, ICH_MISR_U },                        /* underflow */
		{ ICH_HCR_EN, ICH_LR_EOI | 27, 0, ICH_MISR_EOI },                      /* EOI */
		{ ICH_HCR_EN | ICH_HCR_NPIE, 0, 0, ICH_MISR_NP },                      /* no pending */
		{ ICH_HCR_EN | ICH_HCR_LRENPIE | 1ULL << 27, 0, 0, ICH_MISR_LRENP },   /* EOIcount */
		{ ICH_HCR_EN | ICH_HCR_VGRP1DIE, 0, 0, ICH_MISR_VGRP1D },              /* Group 1 off */
		{ ICH_HCR_EN | ICH_HCR_VGRP1EIE, 0, ICH_VMCR_VENG1, ICH_MISR_VGRP1E }, /* Group 1 on */
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		ich_clear(&x, 0);
		ich_w(&x, 0, ICH_LR_EL2(0), cases[k].lr0);
		ich_w(&x, 0, ICH_VMCR_EL2, cases[k].vmcr);
		/* however often the host enters, the REC does not get to run */
		for (int n = 0; n < 5; n++) {
			ich_w(&x, 0, ICH_HCR_EL2, cases[k].hcr);
			assert_int_equal(enter_on(&x, 0, 0, 0, &ex), RMI_SUCCESS);
			e = ex;
			EX_EQ(e, exit_reason, RMI_EXIT_IRQ);
			EX_DONE(e);
			assert_int_equal(xr_pc(&x, 0), XR_CODE_IPA); /* no instruction ran */
			assert_int_equal(ich_r(&x, 0, ICH_HCR_EL2), cases[k].hcr & ~ICH_HCR_EN);
			assert_int_equal(ich_r(&x, 0, ICH_MISR_EL2), cases[k].misr);
		}
	}
	/* the same conditions with En = 0 signal nothing: the realm runs */
	ich_clear(&x, 0);
	ich_w(&x, 0, ICH_HCR_EL2, ICH_HCR_UIE | ICH_HCR_NPIE);
	assert_int_equal(enter_run(&x, 0, 0, 0, &ex), RMI_SUCCESS);
	expect_store(&ex, 1);
	assert_int_equal(ich_r(&x, 0, ICH_MISR_EL2), ICH_MISR_U | ICH_MISR_NP);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* ---- the virtual IRQ ---------------------------------------------------------------- */

/* A realm that unmasks IRQs and stores MAIN_MARK; its IRQ vector stores IRQ_MARK. */
static void realm_irq(struct xr *x)
{
	static uint32_t v[1024];
	struct prog p = { .n = 0 };

	p_prologue(&p);
	p_put(&p, A64_MSR_DAIFCLR_I);
	p_put(&p, A64_NOP);
	p_put(&p, A64_NOP);
	p_mov(&p, 1, MAIN_MARK);
	p_report(&p, 1);
	p_put(&p, A64_B_SELF);
	xr_vector_words(v);
	unsigned int k = (VECTOR_CUR_SPX + VECTOR_IRQ) / 4;
	v[k++] = a64_movz(1, IRQ_MARK, 0);
	v[k++] = a64_str(1, XR_MMIO_REG);
	v[k++] = A64_B_SELF;
	xr_create(&env, x, RMI_HASH_SHA_256, NULL);
	xr_load(x, XR_CODE_IPA, p.w, p.n);
	xr_load(x, XR_VEC_IPA, v, 1024);
	xr_page(x, XR_HC_IPA, NULL, RMI_NO_MEASURE_CONTENT);
	xr_rec(x, true, XR_CODE_IPA);
	xr_activate(x);
}

static void test_virq(void **state)
{
	struct {
		uint64_t hcr, vmcr, lr0;
		uint64_t mark;
	} cases[] = {
		{ ICH_HCR_EN, VMCR_ON, LR_P1(0x80, 27), IRQ_MARK },
		{ 0, VMCR_ON, LR_P1(0x80, 27), MAIN_MARK },                                  /* En = 0 */
		{ ICH_HCR_EN, ICH_VMCR_VENG1 | 0x80ULL << 24, LR_P1(0x80, 27), MAIN_MARK },  /* PMR */
		{ ICH_HCR_EN, ICH_VMCR_VENG1 | 0x88ULL << 24, LR_P1(0x80, 27), IRQ_MARK },   /* PMR above */
		{ ICH_HCR_EN, 0xf8ULL << 24, LR_P1(0x80, 27), MAIN_MARK },                   /* Group 1 off */
		{ ICH_HCR_EN, VMCR_ON | ICH_VMCR_VENG0, ICH_LR(1, 0, 0x80, 27), MAIN_MARK }, /* Group 0 */
		{ ICH_HCR_EN, VMCR_ON, ICH_LR(ICH_LR_STATE_ACTIVE, 1, 0x80, 27), MAIN_MARK }, /* active */
	};

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct rmi_rec_exit ex;
		struct xr x;

		realm_irq(&x);
		ich_clear(&x, 1);
		ich_w(&x, 1, ICH_LR_EL2(0), cases[k].lr0);
		ich_w(&x, 1, ICH_VMCR_EL2, cases[k].vmcr);
		ich_w(&x, 1, ICH_HCR_EL2, cases[k].hcr);
		assert_int_equal(enter_run(&x, 0, 1, 0, &ex), RMI_SUCCESS);
		if (ex.exit_reason != RMI_EXIT_SYNC || ex.gprs[0] != cases[k].mark)
			print_error("case %zu: exit %llu value 0x%llx\n", k,
				    (unsigned long long)ex.exit_reason, (unsigned long long)ex.gprs[0]);
		expect_store(&ex, cases[k].mark);
		/* the realm has not acknowledged it (no ICC access yet): the LR is as written */
		assert_int_equal(ich_r(&x, 1, ICH_LR_EL2(0)), cases[k].lr0);
		struct xr *xs[] = { &x };
		xr_teardown(xs, 1);
	}
}

/* ---- the realm's ICC_* accesses ------------------------------------------------------- */

#define ICC_A64(enc) A64_SYSREG(3, 0, ((enc) >> 10) & 15, ((enc) >> 1) & 15, ((enc) >> 17) & 7)

/*
 * The realm takes the vIRQ, acknowledges it (ICC_IAR1_EL1, reported), EOIs it,
 * reports ICC_RPR_EL1 and one more ICC_IAR1_EL1, then loops.
 */
static void realm_ack(struct xr *x)
{
	static uint32_t v[1024];
	struct prog p = { .n = 0 };

	p_prologue(&p);
	p_put(&p, A64_MSR_DAIFCLR_I);
	p_put(&p, A64_B_SELF);
	xr_vector_words(v);
	unsigned int k = (VECTOR_CUR_SPX + VECTOR_IRQ) / 4;
	v[k++] = a64_mrs(1, ICC_A64(ICC_IAR1_EL1));
	v[k++] = a64_str(1, XR_MMIO_REG);
	v[k++] = a64_msr(ICC_A64(ICC_EOIR1_EL1), 1);
	v[k++] = a64_mrs(2, ICC_A64(ICC_RPR_EL1));
	v[k++] = a64_str(2, XR_MMIO_REG);
	v[k++] = a64_mrs(3, ICC_A64(ICC_IAR1_EL1));
	v[k++] = a64_str(3, XR_MMIO_REG);
	v[k++] = A64_B_SELF;
	xr_create(&env, x, RMI_HASH_SHA_256, NULL);
	xr_load(x, XR_CODE_IPA, p.w, p.n);
	xr_load(x, XR_VEC_IPA, v, 1024);
	xr_page(x, XR_HC_IPA, NULL, RMI_NO_MEASURE_CONTENT);
	xr_rec(x, true, XR_CODE_IPA);
	xr_activate(x);
}

static void test_icc_ack_eoi(void **state)
{
	struct rmi_rec_exit ex;
	struct xr x;

	(void)state;
	realm_ack(&x);
	ich_w(&x, 0, ICH_LR_EL2(0), LR_P1(0x80, 27) | ICH_LR_EOI); /* level: the host wants the EOI */
	ich_w(&x, 0, ICH_LR_EL2(1), LR_P1(0xa0, 28));
	ich_w(&x, 0, ICH_VMCR_EL2, VMCR_ON);
	ich_w(&x, 0, ICH_HCR_EL2, ICH_HCR_EN);
	/* acknowledged: 27 (the higher priority), active, its priority active */
	assert_int_equal(enter_run(&x, 0, 0, 0, &ex), RMI_SUCCESS);
	expect_store(&ex, 27);
	assert_int_equal(ich_r(&x, 0, ICH_LR_EL2(0)), ICH_LR(ICH_LR_STATE_ACTIVE, 1, 0x80, 27) | ICH_LR_EOI);
	assert_int_equal(ich_r(&x, 0, ICH_AP1R_EL2(0)), 1u << (0x80 >> 3));
	assert_int_equal(ich_r(&x, 0, ICH_HCR_EL2), 0);
	/* the EOI deactivates it; its EOI bit raises the maintenance interrupt: an IRQ exit */
	uint64_t flags = XR_ENTER_MMIO;
	for (double t0 = t_now();; flags = 0) {
		assert_true(t_now() - t0 < XR_PATIENCE_S);
		ich_w(&x, 0, ICH_HCR_EL2, ICH_HCR_EN);
		assert_int_equal(enter_on(&x, 0, 0, flags, &ex), RMI_SUCCESS);
		assert_int_equal(ex.exit_reason, RMI_EXIT_IRQ);
		if (ich_r(&x, 0, ICH_EISR_EL2))
			break; /* else the time slice ended first */
	}
	assert_int_equal(ich_r(&x, 0, ICH_EISR_EL2), 1);
	assert_int_equal(ich_r(&x, 0, ICH_MISR_EL2), ICH_MISR_EOI);
	assert_int_equal(ich_r(&x, 0, ICH_LR_EL2(0)), ICH_LR(ICH_LR_STATE_INVALID, 1, 0x80, 27) | ICH_LR_EOI);
	assert_int_equal(ich_r(&x, 0, ICH_AP1R_EL2(0)), 0);
	/* the host folds it (LR0 free); the realm goes on: no priority active, then 28 */
	ich_w(&x, 0, ICH_LR_EL2(0), 0);
	ich_w(&x, 0, ICH_HCR_EL2, ICH_HCR_EN);
	assert_int_equal(enter_run(&x, 0, 0, 0, &ex), RMI_SUCCESS);
	expect_store(&ex, 0xff);
	ich_w(&x, 0, ICH_HCR_EL2, ICH_HCR_EN);
	assert_int_equal(enter_run(&x, 0, 0, XR_ENTER_MMIO, &ex), RMI_SUCCESS);
	expect_store(&ex, 28);
	assert_int_equal(ich_r(&x, 0, ICH_LR_EL2(1)), ICH_LR(ICH_LR_STATE_ACTIVE, 1, 0xa0, 28));
	assert_int_equal(ich_r(&x, 0, ICH_ELRSR_EL2), 0xd);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/*
 * Stage-2 mode: the realm's ICC_* accesses are completed inside the engine by
 * the sysreg handler (no engine exit each); one that changes the vIRQ line
 * ends the engine run, and the RMM raises or lowers the line before the realm
 * goes on. Hooks mode has no handler: every access is an UNDEF exit.
 */
static void test_icc_in_engine(void **state)
{
	struct rk_cpu_stats st0;
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex;
	struct xr x;

	(void)state;
	p_prologue(&p);
	p_put(&p, a64_mrs(1, ICC_A64(ICC_PMR_EL1)));
	p_put(&p, a64_mrs(2, ICC_A64(ICC_CTLR_EL1)));
	p_put(&p, a64_mrs(3, ICC_A64(ICC_RPR_EL1)));
	p_put(&p, a64_msr(ICC_A64(ICC_BPR1_EL1), 2));
	p_report(&p, 3);
	xr_create(&env, &x, RMI_HASH_SHA_256, NULL);
	xr_program(&x, &p);
	xr_rec(&x, true, XR_CODE_IPA);
	xr_activate(&x);
	ich_w(&x, 0, ICH_VMCR_EL2, VMCR_ON);
	ich_w(&x, 0, ICH_HCR_EL2, ICH_HCR_EN);
	assert_int_equal(enter_run(&x, 0, 0, 0, &ex), RMI_SUCCESS);
	expect_store(&ex, 0xff); /* ICC_RPR: nothing active */
	struct rec *rec = xr_recp(&x, 0);
	rk_cpu_get_stats(rec->cpu, &st0);
	if (rk_cpu_mode(rec->cpu) == RK_CPU_MODE_STAGE2)
		assert_int_equal(st0.sysreg_in_hook, 4); /* the four ICC accesses, no exit */
	else
		assert_int_equal(st0.sysreg_in_hook, 0);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* SGIs and trapped ICC accesses exit to the host (EC 0x18); a read completes from enter.gprs[0]. */
static void test_icc_traps(void **state)
{
	const uint64_t sgi = 5ULL << ICC_SGIR_INTID_SHIFT | 1ULL << ICC_SGIR_AFF1_SHIFT | 0x3;
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex, e;
	struct xr x;

	(void)state;
	p_prologue(&p);
	p_mov(&p, 1, sgi);
	p_put(&p, a64_msr(ICC_A64(ICC_SGI1R_EL1), 1));
	unsigned int after_sgi = p.n;
	p_put(&p, a64_mrs(3, ICC_A64(ICC_IAR1_EL1))); /* TALL1: the host's */
	p_report(&p, 3);
	p_put(&p, a64_mrs(4, ICC_A64(ICC_CTLR_EL1))); /* not trapped */
	p_report(&p, 4);
	p_put(&p, a64_mrs(5, ICC_A64(ICC_SGI1R_EL1))); /* write-only: UNDEFINED */
	p_put(&p, A64_B_SELF);
	xr_create(&env, &x, RMI_HASH_SHA_256, NULL);
	xr_program(&x, &p);
	xr_rec(&x, true, XR_CODE_IPA);
	xr_activate(&x);

	/* ICC_SGI1R_EL1 write: SYNC, EC 0x18, the register's ISS with Rt = 0, the value in gprs[0] */
	ich_w(&x, 0, ICH_HCR_EL2, ICH_HCR_EN | ICH_HCR_TALL1);
	assert_int_equal(enter_run(&x, 0, 0, 0, &ex), RMI_SUCCESS);
	e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_SYNC);
	EX_EQ(e, esr, ESR_EC(ESR_EC_SYS64) | ESR_IL | ICC_SGI1R_EL1);
	EX_EQ(e, gprs[0], sgi);
	EX_DONE(e);
	assert_int_equal(xr_pc(&x, 0), p_ipa(after_sgi)); /* stepped over */
	/* ICC_IAR1_EL1 with TALL1: a read for the host, completed from enter.gprs[0] into x3 */
	ich_w(&x, 0, ICH_HCR_EL2, ICH_HCR_EN | ICH_HCR_TALL1);
	assert_int_equal(enter_run(&x, 0, 0, 0, &ex), RMI_SUCCESS);
	e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_SYNC);
	EX_EQ(e, esr, ESR_EC(ESR_EC_SYS64) | ESR_IL | ICC_IAR1_EL1 | ESR_SYS64_DIR_READ);
	EX_DONE(e);
	uint64_t g[31] = { 0x77 };
	ich_w(&x, 0, ICH_HCR_EL2, ICH_HCR_EN | ICH_HCR_TALL1);
	struct rmi_rec_run r;
	memset(&r, 0, sizeof(r));
	memcpy(r.enter.gprs, g, sizeof(g));
	t_write(x.m, x.run[0], &r.enter, sizeof(r.enter));
	struct rk_smc_regs regs = { .x = { RMI_FID_REC_ENTER, x.rec[0], x.run[0] } };
	assert_int_equal(rk_hcpu_smc(x.m, 0, &regs), 0);
	assert_int_equal(regs.x[0], RMI_SUCCESS);
	t_read(x.m, x.run[0] + RMI_REC_RUN_OFF_EXIT, &ex, sizeof(ex));
	if (ex.exit_reason == RMI_EXIT_IRQ)
		assert_int_equal(enter_run(&x, 0, 0, 0, &ex), RMI_SUCCESS);
	expect_store(&ex, 0x77);
	/* ICC_CTLR_EL1: emulated (PRIbits 4, IDbits 0, A3V) */
	assert_int_equal(enter_run(&x, 0, 0, XR_ENTER_MMIO, &ex), RMI_SUCCESS);
	expect_store(&ex, 4ULL << ICC_CTLR_PRIBITS_SHIFT | ICC_CTLR_A3V);
	/* a read of ICC_SGI1R_EL1: UNDEFINED, the realm's vector reports EC 0 */
	assert_int_equal(xr_expect_exception(&x, 0, XR_ENTER_MMIO, NULL, NULL),
			 ESR_EC(ESR_EC_UNKNOWN) | ESR_IL);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* ---- RecExit: timers; En cleared after every kind of exit ----------------------------- */

static void test_every_exit(void **state)
{
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex;
	struct xr x;

	(void)state;
	p_put(&p, a64_mov(XR_HC_REG, 0));
	p_prologue(&p);
	p_mov(&p, 1, 1);
	p_report(&p, 1); /* SYNC */
	p_put(&p, a64_mov(1, XR_HC_REG));
	p_smc(&p, RSI_FID_HOST_CALL); /* HOST_CALL */
	p_mov(&p, 0, PSCI_CPU_OFF);
	p_put(&p, A64_SMC); /* PSCI */
	xr_create(&env, &x, RMI_HASH_SHA_256, NULL);
	xr_program(&x, &p);
	xr_rec(&x, true, XR_CODE_IPA);
	xr_activate(&x);
	/* a fresh REC: all zero */
	ich_w(&x, 0, ICH_HCR_EL2, ICH_HCR_EN);
	assert_int_equal(enter_run(&x, 0, 0, 0, &ex), RMI_SUCCESS);
	expect_store(&ex, 1);
	assert_int_equal(ex.cntv_ctl | ex.cntv_cval | ex.cntp_ctl | ex.cntp_cval, 0);
	assert_int_equal(ich_r(&x, 0, ICH_HCR_EL2), 0);
	/* the REC's timer registers as the RMM keeps them are what every exit reports */
	struct rec *rec = xr_recp(&x, 0);
	rec->timer.cntv_ctl = 5;
	rec->timer.cntv_cval = 0x1234567;
	rec->timer.cntp_ctl = 1;
	uint64_t future = rk_counter_read() + 3600ULL * 62500000ULL; /* not ISTATUS during the test */
	rec->timer.cntp_cval = future;
	struct {
		uint64_t hcr, flags, reason;
	} steps[] = {
		{ ICH_HCR_EN | ICH_HCR_TALL1, XR_ENTER_MMIO, RMI_EXIT_HOST_CALL },
		{ ICH_HCR_EN | ICH_HCR_UIE, 0, RMI_EXIT_IRQ }, /* maintenance: before any instruction */
		{ ICH_HCR_EN, 0, RMI_EXIT_PSCI },              /* CPU_OFF */
	};
	for (unsigned int k = 0; k < 3; k++) {
		ich_w(&x, 0, ICH_HCR_EL2, steps[k].hcr);
		if (steps[k].reason == RMI_EXIT_IRQ)
			assert_int_equal(enter_on(&x, 0, 0, steps[k].flags, &ex), RMI_SUCCESS);
		else
			assert_int_equal(enter_run(&x, 0, 0, steps[k].flags, &ex), RMI_SUCCESS);
		assert_int_equal(ex.exit_reason, steps[k].reason);
		assert_int_equal(ex.cntv_ctl, 5);
		assert_int_equal(ex.cntv_cval, 0x1234567);
		assert_int_equal(ex.cntp_ctl, 1);
		assert_int_equal(ex.cntp_cval, future);
		assert_int_equal(ich_r(&x, 0, ICH_HCR_EL2), steps[k].hcr & ~ICH_HCR_EN);
	}
	/* refused (the REC is off): nothing cleared */
	ich_w(&x, 0, ICH_HCR_EL2, ICH_HCR_EN);
	enter_refused(&x, 0, 0, RMI_ERROR_REC);
	assert_int_equal(ich_r(&x, 0, ICH_HCR_EL2), ICH_HCR_EN);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hw_lr_refused, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_vintid_refused, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_check_order, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_state_round_trip, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_maintenance_at_entry, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_virq, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_icc_ack_eoi, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_icc_in_engine, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_icc_traps, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_every_exit, xenv_setup, xenv_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
