/* SPDX-License-Identifier: MIT */
/*
 * REC_CREATE / REC_DESTROY through their SROs, beyond tests/test_rec_sro.c
 * (reference sections 6.1, 6.2, 9, 10.2, 12.5): RmiRecMpidr encodings and
 * the creation-order rule, failures reported at the end of the SRO with
 * nothing changed (REC count, RIM), the priority of "realm not NEW" over a
 * bad MPIDR, a REC's initial state as the realm sees it (x0-x7, PC,
 * PSTATE, MPIDR_EL1), CPU_ON of a REC with Aff1 set, REC_DESTROY of a
 * running REC, and REALM_DESTROY refused while RECs live.
 *
 * Not covered: "RD refcount at maximum" (needs 2^10 - 1 RECs, each with 16
 * donated granules: impractical here).
 */
#include "exec_util.h"

#define A64_DAIF A64_SYSREG(3, 3, 4, 2, 1)
#define A64_CURRENTEL A64_SYSREG(3, 0, 4, 2, 2)
#define A64_SPSEL A64_SYSREG(3, 0, 4, 2, 0)

/* REC_CREATE with these params at a fresh granule; returns the final status (and the granule). */
static uint64_t try_create(struct xr *x, uint64_t flags, uint64_t mpidr, uint64_t *rec_pa)
{
	uint64_t rec = xr_delegated(x, 1);

	if (rec_pa)
		*rec_pa = rec;
	xr_rec_params(x, flags, mpidr, XR_CODE_IPA, NULL);
	return xr_rec_create_sro(x, rec);
}

/* A failed REC_CREATE changes nothing: REC count, RD refcount, RIM. */
static void expect_create_fails(struct xr *x, uint64_t flags, uint64_t mpidr, uint64_t expect)
{
	uint8_t rim[64];
	uint16_t count = t_rd(x->m, x->rd)->rec_count, ref = t_refcount(x->m, x->rd);
	uint64_t rec;

	memcpy(rim, t_rim(x->m, x->rd), 64);
	uint64_t x0 = try_create(x, flags, mpidr, &rec);
	if (x0 != expect) {
		print_error("REC_CREATE(mpidr 0x%llx): 0x%llx, expected 0x%llx\n", (unsigned long long)mpidr,
			    (unsigned long long)x0, (unsigned long long)expect);
		fail();
	}
	assert_int_equal(t_gstate(x->m, rec), GRANULE_STATE_DELEGATED);
	assert_int_equal(t_rd(x->m, x->rd)->rec_count, count);
	assert_int_equal(t_refcount(x->m, x->rd), ref);
	assert_memory_equal(t_rim(x->m, x->rd), rim, 64);
}

/* ---- MPIDR encodings and creation order -------------------------------------------------- */

static void test_mpidr_order(void **state)
{
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex;
	struct xr x;

	(void)state;
	/* each REC reports MPIDR_EL1, then does RPC */
	p_prologue(&p);
	p_put(&p, a64_mrs(9, A64_MPIDR_EL1));
	p_report(&p, 9);
	unsigned int rpc = p.n;
	p_rpc(&p);
	xr_create(&env, &x, RMI_HASH_SHA_256, NULL);
	xr_program(&x, &p);

	/* index 0 must come first: refused out of order, or with bits outside the Aff fields */
	static const uint64_t bad0[] = { 1, 0x100, 0x10000, 0x1000000, 0x10, 0x80, 0xf0, 1ULL << 32, 1ULL << 31,
					 1ULL << 63, 0x4000 };
	for (unsigned int k = 0; k < sizeof(bad0) / sizeof(bad0[0]); k++)
		expect_create_fails(&x, 1, bad0[k], RMI_ERROR_INPUT);
	/* indexes 0..15 are Aff0 0..15; 16 is Aff1 = 1 (0x100) */
	for (unsigned int i = 0; i < 17; i++) {
		uint64_t g8[8] = { XR_HC_IPA + 0x100ULL * (i % 16) };
		if (i == 16) {
			expect_create_fails(&x, 1, 0x10, RMI_ERROR_INPUT);   /* Aff0 [7:4] is not part of it */
			expect_create_fails(&x, 1, 0x1000, RMI_ERROR_INPUT); /* Aff1 = 0x10: index 256 */
			expect_create_fails(&x, 1, 0x101, RMI_ERROR_INPUT);  /* index 17 */
		}
		if (i > 0)
			expect_create_fails(&x, 1, rec_index_mpidr(i - 1), RMI_ERROR_INPUT); /* reused */
		assert_int_equal(xr_rec_g(&x, i == 0 || i == 16, XR_CODE_IPA, g8), i);
		assert_int_equal(xr_recp(&x, i)->mpidr, i < 16 ? i : 0x100);
	}
	/* the next one would be index 17 = 0x101 */
	expect_create_fails(&x, 1, 0x102, RMI_ERROR_INPUT);
	xr_activate(&x);
	/* after activation: the realm's state comes first (ERROR_REALM even for a bad MPIDR) */
	expect_create_fails(&x, 1, 0x101, RMI_ERROR_REALM);
	expect_create_fails(&x, 1, 0x10, RMI_ERROR_REALM);
	/* the realm sees MPIDR_EL1 = RES1 bit 31 | Aff0..Aff2 */
	xr_next_store(&x, 0, 0, 0x80000000ULL);
	xr_next_store(&x, 16, 0, 0x80000100ULL);
	assert_int_equal(xr_enter(&x, 0, XR_ENTER_MMIO, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_HOST_CALL);
	/* CPU_ON by MPIDR: 0x10f is nobody, 0x0f is REC 15 */
	uint64_t out[18];
	XR_CALL(&x, 0, out, PSCI_CPU_ON_64, 0x10f, XR_CODE_IPA, 0);
	assert_int_equal(out[0], PSCI_RET_INVALID_PARAMETERS);
	assert_int_equal(xr_rpc(&x, 0, XR_ARGS(PSCI_CPU_ON_64, 0x0f, p_ipa(rpc), XR_HC_IPA + 0xf00), &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_PSCI);
	assert_int_equal(ex.gprs[1], 0x0f);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, x.rec[0], x.rec[16], PSCI_RET_SUCCESS);
	assert_int_equal(RMI(x.m, RMI_FID_PSCI_COMPLETE, NULL, x.rec[0], x.rec[15], PSCI_RET_SUCCESS), RMI_SUCCESS);
	xr_rpc_start(&x, 15);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* ---- a REC's initial state ------------------------------------------------------------------ */

static void test_initial_state(void **state)
{
	static const uint64_t g8[8] = { 0x1111, 0x2222, 0x3333, 0x4444, 0x5555, 0x6666, 0x7777, 0x8888 };
	struct prog p = { .n = 0 };
	struct xr x;

	(void)state;
	/* the REC starts at pc = 0x40 (not 0): x0..x7 from the params, x8 = 0, EL1h, DAIF masked */
	for (unsigned int k = 0; k < 16; k++)
		p_put(&p, A64_UDF);
	p_mov(&p, XR_MMIO_REG, XR_MMIO_IPA);
	for (unsigned int r = 0; r <= 8; r++)
		p_report(&p, r);
	p_put(&p, a64_mrs(9, A64_DAIF));
	p_report(&p, 9);
	p_put(&p, a64_mrs(9, A64_CURRENTEL));
	p_report(&p, 9);
	p_put(&p, a64_mrs(9, A64_SPSEL));
	p_report(&p, 9);
	p_put(&p, A64_B_SELF);
	xr_create(&env, &x, RMI_HASH_SHA_256, NULL);
	xr_program(&x, &p);
	xr_rec_g(&x, true, p_ipa(16), g8);
	xr_rec_g(&x, false, p_ipa(16), g8);
	xr_activate(&x);
	/* not runnable: refused */
	assert_int_equal(xr_enter1(&x, 1, 0, NULL, &(struct rmi_rec_exit){ 0 }), RMI_ERROR_REC);
	for (unsigned int r = 0; r <= 8; r++)
		xr_next_store(&x, 0, r ? XR_ENTER_MMIO : 0, r < 8 ? g8[r] : 0);
	xr_next_store(&x, 0, XR_ENTER_MMIO, 0x3c0); /* D, A, I, F */
	xr_next_store(&x, 0, XR_ENTER_MMIO, 1 << 2);  /* EL1 */
	xr_next_store(&x, 0, XR_ENTER_MMIO, 1);       /* SP_EL1 */
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* ---- REC_CREATE in other realm states; REC_DESTROY; REALM_DESTROY ------------------------------ */

static void test_destroy_rules(void **state)
{
	struct xr_blocked b;
	struct rmi_rec_exit ex;
	struct xr x;

	(void)state;
	xr_rpc_realm(&env, &x, RMI_HASH_SHA_256, 3);
	expect_create_fails(&x, 1, 3, RMI_ERROR_REALM); /* ACTIVE */
	xr_rpc_start(&x, 0);

	/* a running REC cannot be destroyed (deterministic: waiting for the run lock inside REC_ENTER) */
	xr_block_start(&b, &x, 0);
	RMI_FAIL(x.m, RMI_ERROR_REC, RMI_FID_REC_DESTROY, x.rec[0]);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_REC_DESTROY, x.rec[0] + 8);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_REC_DESTROY, x.rd);
	xr_block_end(&b);
	/* that entry went on from REC 0's host call; on a loaded machine its slice
	 * can end (IRQ) before the program's next host call: go on to it */
	if (b.ex.exit_reason != RMI_EXIT_HOST_CALL) {
		assert_int_equal(b.ex.exit_reason, RMI_EXIT_IRQ);
		xr_rpc_start(&x, 0);
	}
	/* a REC of an ACTIVE realm can be destroyed; its granule is then no REC for REC_ENTER */
	xr_rec_destroy(&x, x.rec[2]);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_REC_DESTROY, x.rec[2]);
	assert_int_equal(RMI(x.m, RMI_FID_REC_ENTER, NULL, x.rec[2], x.run[2]), RMI_ERROR_INPUT);
	/* SYSTEM_OFF, ZOMBIE: creating is refused, destroying works; REALM_DESTROY waits for the last REC */
	assert_int_equal(xr_rpc(&x, 0, XR_ARGS(PSCI_SYSTEM_OFF), &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_PSCI);
	expect_create_fails(&x, 1, 3, RMI_ERROR_REALM);
	assert_int_equal(RMI(x.m, RMI_FID_REALM_TERMINATE, NULL, x.rd), RMI_SUCCESS);
	expect_create_fails(&x, 1, 3, RMI_ERROR_REALM);
	assert_int_equal(t_refcount(x.m, x.rd), 2);
	RMI_FAIL(x.m, RMI_ERROR_REALM, RMI_FID_REALM_DESTROY, x.rd);
	xr_rec_destroy(&x, x.rec[1]);
	RMI_FAIL(x.m, RMI_ERROR_REALM, RMI_FID_REALM_DESTROY, x.rd);
	xr_rec_destroy(&x, x.rec[0]);
	assert_int_equal(t_refcount(x.m, x.rd), 0);
	t_teardown_all(x.m);
}

/* ---- idle RECs: at most max_open_engines keep an engine open ------------------------------ */

/* RECs of x with an open engine; *open_i: whether REC i is one of them. */
static unsigned int open_engines(struct xr *x, unsigned int i, bool *open_i, uint64_t *parks)
{
	struct rmm *rmm = machine_rmm(x->m);
	unsigned int n = 0;

	*parks = 0;
	for (unsigned int k = 0; k < x->nrec; k++) {
		struct rec *r = rec_of(rmm, granule_from_pa(rmm, x->rec[k]));
		bool open = r->cpu && !rk_cpu_is_parked(r->cpu);
		struct rk_cpu_stats st;

		n += open;
		if (k == i)
			*open_i = open;
		if (r->cpu) {
			rk_cpu_get_stats(r->cpu, &st);
			*parks += st.parks;
		}
	}
	return n;
}

/*
 * Four RECs on a machine that keeps two engines open: after every REC_ENTER
 * the REC that ran has an engine and no more than two do; the others are
 * parked, and each REC goes on exactly where it was (its counter lives in a
 * SIMD register, its identity in MPIDR_EL1).
 */
static void test_idle_recs_parked(void **state)
{
	struct rk_machine_config cfg;
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex;
	uint64_t parks;
	bool open;
	struct xr x;

	(void)state;
	rk_machine_destroy(env.m);
	rk_machine_config_default(&cfg);
	cfg.dram_size = (uint64_t)XR_MIB << 20;
	cfg.max_open_engines = 2;
	env.m = t_machine_cfg(&cfg, true);

	p_prologue(&p);
	p_put(&p, 0xd53800a2); /* mrs x2, mpidr_el1 */
	p_put(&p, 0x92401c42); /* and x2, x2, #0xff */
	p_put(&p, 0xd3607c42); /* lsl x2, x2, #32 */
	p_put(&p, 0x9e670043); /* fmov d3, x2 */
	unsigned int loop = p.n;
	p_put(&p, 0x9e660061); /* fmov x1, d3 */
	p_put(&p, 0x91000421); /* add x1, x1, #1 */
	p_put(&p, 0x9e670023); /* fmov d3, x1 */
	p_report(&p, 1);
	p_b_to(&p, loop);
	xr_create(&env, &x, RMI_HASH_SHA_256, NULL);
	xr_program(&x, &p);
	for (unsigned int i = 0; i < 4; i++)
		xr_rec(&x, true, XR_CODE_IPA);
	xr_activate(&x);

	for (uint64_t round = 1; round <= 3; round++) {
		for (unsigned int i = 0; i < 4; i++) {
			assert_int_equal(xr_enter(&x, i, round > 1 ? XR_ENTER_MMIO : 0, NULL, &ex), RMI_SUCCESS);
			xr_expect_mmio_store(&ex, 0, ((uint64_t)i << 32) + round);
			assert_true(open_engines(&x, i, &open, &parks) <= 2);
			assert_true(open);
		}
	}
	/* every REC was parked and woken at least once: 4 RECs, 2 engines, 12 entries round robin */
	assert_int_equal(open_engines(&x, 0, &open, &parks), 2);
	assert_true(parks >= 8);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mpidr_order, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_initial_state, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_destroy_rules, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_idle_recs_parked, xenv_setup, xenv_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
