/* SPDX-License-Identifier: MIT */
/*
 * A realm's EL0 and its system registers through the real RMM, in the vCPU
 * backend's stage-2 mode (set here, whatever RK_CPU_MODE says): the realm's
 * EL1 reads its ID registers (sanitised as TF-RMM does, debug resources from
 * RmiRealmParams), takes an UNDEF for an unknown system register, then
 * ERETs to EL0 (MMU off), where an SMC with an RSI function ID is UNDEFINED
 * and never reaches the RMM, an SVC, an access to RIPAS EMPTY memory (the
 * RMM's SEA, injected at EL0) and an MMIO store (a REC exit taken at EL0 and
 * resumed there) all behave as on hardware.
 */
#include "exec_util.h"
#include "rmm/idregs.h"

#define EMPTY_IPA 0x100000ULL /* RIPAS EMPTY in the standard layout */
#define REALM_BPS 3u          /* num_bps, num_wps of the realm (the CPU has 5 and 3) */
#define REALM_WPS 1u

#define MRS_ID(crm, op2) A64_SYSREG(3, 0, 0, (crm), (op2))

/* xr_create with the realm's breakpoints and watchpoints chosen here. */
static void create_realm(struct xenv *e, struct xr *x)
{
	static struct rmi_realm_params p;

	memset(x, 0, sizeof(*x));
	x->e = e;
	x->m = e->m;
	x->hash = RMI_HASH_SHA_256;
	x->params = xr_ns_page(x);
	x->ns = xr_ns_page(x);
	x->list = xr_ns_page(x);
	x->rd = t_pool_delegated(x->m, &e->pool, 1, 0);
	x->root = t_pool_delegated(x->m, &e->pool, 2, 2 * G);
	for (int i = 0; i < 64; i++)
		x->rpv[i] = (uint8_t)i;
	t_realm_params(&p, XR_S2SZ, x->root, x->hash);
	p.rtt_level_start = 1;
	p.rtt_num_start = 2;
	p.num_bps = REALM_BPS;
	p.num_wps = REALM_WPS;
	memcpy(p.rpv, x->rpv, sizeof(p.rpv));
	t_write(x->m, x->params, &p, sizeof(p));
	assert_int_equal(RMI(x->m, RMI_FID_REALM_CREATE, NULL, x->rd, x->params), RMI_SUCCESS);
	xr_init_ripas(x, 0, XR_RAM_TOP);
}

/* The next exit is an MMIO store: its value (the previous exit completed as emulated MMIO if mmio). */
static uint64_t next_store(struct xr *x, bool mmio)
{
	struct rmi_rec_exit ex;

	assert_int_equal(xr_enter(x, 0, mmio ? XR_ENTER_MMIO : 0, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
	assert_true(ex.esr & ESR_ISV);
	assert_true(ex.esr & ESR_WNR);
	return ex.gprs[0];
}

/* The EL0 exception the realm's lower-EL vector reported: ESR, FAR, ELR, SPSR, x0. */
static void expect_el0_exception(struct xr *x, uint64_t esr, uint64_t far, uint64_t elr, uint64_t x0)
{
	assert_int_equal(next_store(x, true), esr);
	assert_int_equal(next_store(x, true), far);
	assert_int_equal(next_store(x, true), elr);
	assert_int_equal(next_store(x, true), 0); /* SPSR_EL1: EL0t, nothing masked */
	assert_int_equal(next_store(x, true), x0);
}

static void test_el0_and_sysregs(void **state)
{
	static uint32_t vec[1024];
	const unsigned int ids[][2] = {
		{ 4, 0 }, { 4, 1 }, { 5, 0 }, { 4, 4 }, { 4, 5 }, { 6, 3 }, { 7, 3 }
	};
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex;
	unsigned int mrs_unknown, el0, el0_smc, el0_svc, el0_ldr, el0_str;
	uint64_t v[7], far = 0, elr = 0;
	struct xr x;

	(void)state;
	create_realm(&env, &x);
	p_prologue(&p);
	for (unsigned int i = 0; i < 7; i++) {
		p_put(&p, a64_mrs(1, MRS_ID(ids[i][0], ids[i][1])));
		p_report(&p, 1);
	}
	mrs_unknown = p.n;
	p_put(&p, a64_mrs(1, A64_SYSREG(3, 0, 15, 0, 0))); /* IMPLEMENTATION DEFINED: UNDEF */
	/* to EL0: SPSR_EL1 = EL0t, ELR_EL1 = el0 */
	p_put(&p, a64_msr(A64_SPSR_EL1, 31));
	unsigned int adr = p.n;
	p_mov(&p, 2, 0); /* patched below: x2 = the IPA of el0 */
	p_put(&p, a64_msr(A64_ELR_EL1, 2));
	p_put(&p, A64_ERET);
	el0 = p.n;
	p_mov(&p, 0, RSI_FID_VERSION);
	p_mov(&p, 1, 0x10001);
	el0_smc = p.n;
	p_put(&p, 0xd4000003u); /* smc #0: UNDEFINED at EL0 */
	el0_svc = p.n;
	p_put(&p, 0xd40000e1u); /* svc #7 */
	p_mov(&p, 4, EMPTY_IPA);
	el0_ldr = p.n;
	p_put(&p, a64_ldr(3, 4)); /* RIPAS EMPTY: the RMM's SEA */
	el0_str = p.n;
	p_report(&p, 0);        /* an MMIO store from EL0 */
	p_put(&p, 0xd4000101u); /* svc #8 */
	p_put(&p, A64_B_SELF);
	{
		struct prog q = { .n = 0 };

		p_mov(&q, 2, p_ipa(el0));
		memcpy(&p.w[adr], q.w, q.n * 4);
	}
	xr_load(&x, XR_CODE_IPA, p.w, p.n);
	/* vectors: the standard current-EL one, and a lower-EL (AArch64) sync one that reports
	 * ESR, FAR, ELR, SPSR and x0 by MMIO and returns to ELR + 4 */
	xr_vector_words(vec);
	{
		unsigned int k = 0x400 / 4;
		const uint32_t regs[] = { A64_ESR_EL1, A64_FAR_EL1, A64_ELR_EL1, A64_SPSR_EL1 };

		for (unsigned int i = 0; i < 4; i++) {
			vec[k++] = a64_mrs(9, regs[i]);
			vec[k++] = a64_str(9, XR_MMIO_REG);
		}
		vec[k++] = a64_str(0, XR_MMIO_REG);
		vec[k++] = a64_mrs(9, A64_ELR_EL1);
		vec[k++] = a64_add_imm(9, 9, 4);
		vec[k++] = a64_msr(A64_ELR_EL1, 9);
		vec[k++] = A64_ERET;
	}
	xr_load(&x, XR_VEC_IPA, vec, 1024);
	xr_rec(&x, true, XR_CODE_IPA);
	xr_activate(&x);

	/* EL1: the ID registers */
	for (unsigned int i = 0; i < 7; i++)
		v[i] = next_store(&x, i > 0);
	/* ID_AA64PFR0_EL1: EL0/EL1 AArch64 as the CPU has them; no RAS, SVE, MPAM, AMU */
	assert_int_not_equal(v[0] & 0xff, 0);
	assert_int_equal(v[0] & (0xfULL << 28 | 0xfULL << 32 | 0xfULL << 40 | 0xfULL << 44), 0);
	/* ID_AA64PFR1_EL1: no RAS_frac, MPAM_frac, SME */
	assert_int_equal(v[1] & (0xfULL << 12 | 0xfULL << 16 | 0xfULL << 24), 0);
	/* ID_AA64DFR0_EL1: the CPU's debug version, no PMU, trace, SPE or BRBE; the realm's BRPs/WRPs */
	assert_int_not_equal(v[2] & 0xf, 0);
	assert_int_equal((v[2] >> 8) & 0xf, 0);
	assert_int_equal((v[2] >> 12) & 0xf, REALM_BPS);
	assert_int_equal((v[2] >> 20) & 0xf, REALM_WPS);
	assert_true(((v[2] >> 28) & 0xf) <= REALM_BPS);
	assert_int_equal(v[2] & (0xfULL << 4 | 0xfULL << 32 | 0xfULL << 40 | 0xfULL << 44 | 0xfULL << 52 |
				 0xfULL << 56),
			 0);
	/* ZFR0 (no SVE), SMFR0 (no SME), ISAR3: 0; MMFR3 without S2PIE/S2POE */
	assert_int_equal(v[3], 0);
	assert_int_equal(v[4], 0);
	assert_int_equal(v[5], 0);
	assert_int_equal(v[6] & (0xfULL << 12 | 0xfULL << 20), 0);

	/* an unknown system register at EL1: the RMM gives the realm an UNDEF */
	assert_int_equal(xr_expect_exception(&x, 0, XR_ENTER_MMIO, &far, &elr),
			 ESR_MAKE(ESR_EC_UNKNOWN, 1, 0));
	assert_int_equal(elr, p_ipa(mrs_unknown));

	/* EL0: SMC with RSI_VERSION is UNDEFINED, x0 untouched (the RMM never answered) */
	expect_el0_exception(&x, ESR_MAKE(ESR_EC_UNKNOWN, 1, 0), 0, p_ipa(el0_smc), RSI_FID_VERSION);
	/* SVC */
	expect_el0_exception(&x, ESR_MAKE(ESR_EC_SVC64, 1, 7), 0, p_ipa(el0_svc + 1), RSI_FID_VERSION);
	/* RIPAS EMPTY: the RMM's SEA, a data abort from the lower EL */
	expect_el0_exception(&x, ESR_MAKE(ESR_EC_DABT_LOW, 1, ESR_FSC_SEA), EMPTY_IPA, p_ipa(el0_ldr),
			     RSI_FID_VERSION);
	/* an MMIO store from EL0: a REC exit, then the realm goes on at EL0 */
	assert_int_equal(next_store(&x, true), RSI_FID_VERSION);
	expect_el0_exception(&x, ESR_MAKE(ESR_EC_SVC64, 1, 8), 0, p_ipa(el0_str + 2), RSI_FID_VERSION);
	(void)ex;

	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* The sanitising itself, field by field, on a CPU that has everything. */
static void test_idreg_masks(void **state)
{
	struct rk_cpu_sysreg_ctx c = { .num_bps = 2, .num_wps = 1 };
	const uint64_t all = ~0ULL;

	(void)state;
	assert_true(realm_idreg_space(RK_CPU_SYSREG(3, 0, 0, 4, 0)));
	assert_true(realm_idreg_space(RK_CPU_SYSREG(3, 0, 0, 7, 7)));
	assert_false(realm_idreg_space(RK_CPU_SYSREG(3, 0, 0, 3, 7)));
	assert_false(realm_idreg_space(RK_CPU_SYSREG(3, 0, 1, 4, 0)));
	/* PFR0: RAS [31:28], SVE [35:32], MPAM [43:40], AMU [47:44] */
	assert_int_equal(realm_idreg(&c, RK_CPU_SYSREG(3, 0, 0, 4, 0), all),
			 ~(0xfULL << 28 | 0xfULL << 32 | 0xfULL << 40 | 0xfULL << 44));
	c.sve = 1;
	assert_int_equal(realm_idreg(&c, RK_CPU_SYSREG(3, 0, 0, 4, 0), all),
			 ~(0xfULL << 28 | 0xfULL << 40 | 0xfULL << 44));
	assert_int_equal(realm_idreg(&c, RK_CPU_SYSREG(3, 0, 0, 4, 4), all), all);
	c.sve = 0;
	assert_int_equal(realm_idreg(&c, RK_CPU_SYSREG(3, 0, 0, 4, 4), all), 0);
	/* PFR1: RAS_frac, MPAM_frac, SME */
	assert_int_equal(realm_idreg(&c, RK_CPU_SYSREG(3, 0, 0, 4, 1), all),
			 ~(0xfULL << 12 | 0xfULL << 16 | 0xfULL << 24));
	assert_int_equal(realm_idreg(&c, RK_CPU_SYSREG(3, 0, 0, 4, 5), all), 0);
	/* DFR0: BRPs 2, WRPs 1, CTX_CMPs clamped to 2; PMU, trace, SPE, BRBE gone */
	uint64_t d = realm_idreg(&c, RK_CPU_SYSREG(3, 0, 0, 5, 0), all);
	assert_int_equal(d,
			 (all & ~(0xfULL << 4 | 0xfULL << 8 | 0xfULL << 12 | 0xfULL << 20 | 0xfULL << 28 |
				  0xfULL << 32 | 0xfULL << 40 | 0xfULL << 44 | 0xfULL << 52 | 0xfULL << 56)) |
				 2ULL << 12 | 1ULL << 20 | 2ULL << 28);
	c.pmu = 1;
	assert_int_equal((realm_idreg(&c, RK_CPU_SYSREG(3, 0, 0, 5, 0), all) >> 8) & 0xf, 0xf);
	/* ISAR3 0; MMFR3 without S2PIE, S2POE; others as they are */
	assert_int_equal(realm_idreg(&c, RK_CPU_SYSREG(3, 0, 0, 6, 3), all), 0);
	assert_int_equal(realm_idreg(&c, RK_CPU_SYSREG(3, 0, 0, 7, 3), all), ~(0xfULL << 12 | 0xfULL << 20));
	assert_int_equal(realm_idreg(&c, RK_CPU_SYSREG(3, 0, 0, 6, 0), 0x1234), 0x1234);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_el0_and_sysregs, xenv_setup, xenv_teardown),
		cmocka_unit_test(test_idreg_masks),
	};

	rk_cpu_set_default_mode(RK_CPU_MODE_STAGE2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
