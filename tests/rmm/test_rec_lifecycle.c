/* SPDX-License-Identifier: MIT */
/*
 * A REC's life: REC_CREATE / REC_DESTROY through their SROs (reference
 * sections 6.1, 6.2, 9, 10.2, 12.5, 16.5). The SRO protocol itself (donation,
 * reclaim, OP_CONTINUE, the expected-next-call rule, failure after donation,
 * pool exhaustion, the lock order against a concurrent REC_DESTROY, the RIM of
 * a runnable REC); RmiRecMpidr encodings and the creation-order rule, failures
 * reported at the end of the SRO with nothing changed (REC count, RIM), the
 * priority of "realm not NEW" over a bad MPIDR, a REC's initial state as the
 * realm sees it (x0-x7, PC, PSTATE, MPIDR_EL1), CPU_ON of a REC with Aff1 set,
 * REC_DESTROY of a running REC, REALM_DESTROY refused while RECs live, and
 * idle RECs parked (at most max_open_engines keep an engine).
 *
 * Not covered: "RD refcount at maximum" (needs 2^10 - 1 RECs, each with 16
 * donated granules: impractical here).
 */
#include <stdio.h>
#include <unistd.h>

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
	static const uint64_t bad0[] = { 1,    0x100,      0x10000,    0x1000000,  0x10,  0x80,
					 0xf0, 1ULL << 32, 1ULL << 31, 1ULL << 63, 0x4000 };
	for (unsigned int k = 0; k < sizeof(bad0) / sizeof(bad0[0]); k++)
		expect_create_fails(&x, 1, bad0[k], RMI_ERROR_INPUT);
	/* indexes 0..15 are Aff0 0..15; 16 is Aff1 = 1 (0x100) */
	for (unsigned int i = 0; i < 17; i++) {
		uint64_t g8[8] = { XR_HC_IPA + 0x100ULL * (i % 16) };
		if (i == 16) {
			expect_create_fails(&x, 1, 0x10, RMI_ERROR_INPUT); /* Aff0 [7:4] is not part of it */
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
	assert_int_equal(xr_rpc(&x, 0, XR_ARGS(PSCI_CPU_ON_64, 0x0f, p_ipa(rpc), XR_HC_IPA + 0xf00), &ex),
			 RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_PSCI);
	assert_int_equal(ex.gprs[1], 0x0f);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, x.rec[0], x.rec[16], PSCI_RET_SUCCESS);
	assert_int_equal(RMI(x.m, RMI_FID_PSCI_COMPLETE, NULL, x.rec[0], x.rec[15], PSCI_RET_SUCCESS),
			 RMI_SUCCESS);
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
	xr_next_store(&x, 0, XR_ENTER_MMIO, 0x3c0);  /* D, A, I, F */
	xr_next_store(&x, 0, XR_ENTER_MMIO, 1 << 2); /* EL1 */
	xr_next_store(&x, 0, XR_ENTER_MMIO, 1);      /* SP_EL1 */
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
			assert_int_equal(xr_enter(&x, i, round > 1 ? XR_ENTER_MMIO : 0, NULL, &ex),
					 RMI_SUCCESS);
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

/* ---- the SROs, on a realm at fixed addresses (FX_*) without the harness ----------------- */

/*
 * REC_CREATE / REC_DESTROY as stateful RMI operations (2.0-bet1): donation,
 * reclaim, OP_CONTINUE, the expected-next-call rule, failure after donation,
 * pool exhaustion, the lock order against a concurrent REC_DESTROY, and the
 * RIM extension of a runnable REC (worked example of the ABI digest, section
 * 16.5).
 */

#define FX_RD_PA (T_DRAM_BASE + 0x100000)
#define FX_ROOT_PA (FX_RD_PA + 2 * G)
#define FX_L2_PA (FX_RD_PA + 4 * G)
#define FX_L3_PA (FX_RD_PA + 5 * G)
#define FX_REC_PA (FX_RD_PA + 8 * G)
#define FX_AUX_PA (FX_RD_PA + 32 * G) /* 64 granules for donation */
#define FX_DATA_PA (FX_RD_PA + 128 * G)
#define FX_PARAMS_PA (T_DRAM_BASE + 0x200000)
#define FX_RECP_PA (FX_PARAMS_PA + G)
#define FX_LIST_PA (FX_PARAMS_PA + 2 * G)
#define FX_SRC_PA (FX_PARAMS_PA + 3 * G)

static struct rk_machine *fx_m;

static int fx_setup(void **state)
{
	(void)state;
	fx_m = t_machine(64);
	assert_int_equal(t_realm_create(fx_m, FX_RD_PA, FX_ROOT_PA, 40, 1, 2, FX_PARAMS_PA, RMI_HASH_SHA_256),
			 RMI_SUCCESS);
	t_delegate(fx_m, FX_AUX_PA, 64);
	t_delegate(fx_m, FX_REC_PA, 4);
	return 0;
}

static int fx_teardown(void **state)
{
	(void)state;
	rk_machine_destroy(fx_m);
	return 0;
}

static void write_rec_params(uint64_t flags, uint64_t mpidr, uint64_t pc, uint64_t x0)
{
	static struct rmi_rec_params p;

	memset(&p, 0, sizeof(p));
	p.flags = flags;
	p.mpidr = mpidr;
	p.pc = pc;
	p.gprs[0] = x0;
	t_write(fx_m, FX_RECP_PA, &p, sizeof(p));
}

/* n descriptors of one 4 KiB DELEGATED granule each, from pa */
static void write_list(uint64_t pa, unsigned int n)
{
	uint64_t list[64];

	for (unsigned int i = 0; i < n; i++)
		list[i] = (pa + i * G) | (1ULL << 2);
	t_write(fx_m, FX_LIST_PA, list, n * sizeof(uint64_t));
}

static uint64_t donate_all(uint64_t handle, uint64_t aux)
{
	struct rmi_out o;

	write_list(aux, 16);
	assert_int_equal(RMI(fx_m, RMI_FID_OP_MEM_DONATE, &o, handle, FX_LIST_PA, 16ULL), RMI_INCOMPLETE);
	assert_int_equal(o.x[1], 16);
	return RMI(fx_m, RMI_FID_OP_CONTINUE, &o, handle, 0ULL);
}

static uint64_t rec_create(uint64_t rec, uint64_t aux, struct rmi_out *o)
{
	uint64_t x0 = RMI(fx_m, RMI_FID_REC_CREATE, o, FX_RD_PA, rec, FX_RECP_PA);

	if (x0 != XR_INCOMPLETE_DONATE)
		return x0;
	assert_int_equal(o->x[2], 16ULL << 2); /* 16 x 4 KiB, non-contiguous, DELEGATED */
	return donate_all(o->x[1], aux);
}

static void rec_destroy_ok(uint64_t rec)
{
	struct rmi_out o;
	uint64_t list[16], h;

	assert_int_equal(RMI(fx_m, RMI_FID_REC_DESTROY, &o, rec), XR_INCOMPLETE_RECLAIM);
	h = o.x[1];
	assert_int_equal(RMI(fx_m, RMI_FID_OP_MEM_RECLAIM, &o, h, FX_LIST_PA, 16ULL), RMI_INCOMPLETE);
	assert_int_equal(o.x[1], 16);
	t_read(fx_m, FX_LIST_PA, list, sizeof(list));
	for (int i = 0; i < 16; i++) {
		assert_int_equal(list[i] >> 63, 0);          /* DELEGATED */
		assert_int_equal((list[i] >> 2) & 0x3ff, 1); /* one granule */
		assert_int_equal(t_gstate(fx_m, list[i] & ~0xfffULL), GRANULE_STATE_DELEGATED);
	}
	assert_int_equal(RMI(fx_m, RMI_FID_OP_CONTINUE, &o, h, 0ULL), RMI_SUCCESS);
	assert_int_equal(t_gstate(fx_m, rec), GRANULE_STATE_DELEGATED);
}

static void test_create_destroy(void **state)
{
	struct rmi_out o;

	(void)state;
	write_rec_params(1, 0, 0x1000, 0);
	assert_int_equal(rec_create(FX_REC_PA, FX_AUX_PA, &o), RMI_SUCCESS);
	assert_int_equal(t_gstate(fx_m, FX_REC_PA), GRANULE_STATE_REC);
	for (int i = 0; i < 16; i++)
		assert_int_equal(t_gstate(fx_m, FX_AUX_PA + i * G), GRANULE_STATE_REC_AUX);
	/* a live REC keeps the realm from being destroyed */
	assert_int_equal(RMI(fx_m, RMI_FID_REALM_TERMINATE, NULL, FX_RD_PA), RMI_SUCCESS);
	assert_int_equal(RMI(fx_m, RMI_FID_REALM_DESTROY, NULL, FX_RD_PA), RMI_ERROR_REALM);
	rec_destroy_ok(FX_REC_PA);
	assert_int_equal(RMI(fx_m, RMI_FID_REALM_DESTROY, NULL, FX_RD_PA), RMI_SUCCESS);
	t_check_gpt_consistent(fx_m, NULL);
}

static void test_rim_after_rec(void **state)
{
	static const uint8_t rim2[32] = {
		0xd7, 0x1c, 0x60, 0x3b, 0x0f, 0x2c, 0x88, 0xad, 0x1b, 0xc7, 0xe3,
		0xe7, 0x6f, 0x6f, 0xd2, 0xda, 0x72, 0x5b, 0xef, 0xf4, 0xd4, 0x3e,
		0x87, 0x61, 0x7e, 0x9c, 0xfe, 0x51, 0x7e, 0x28, 0x25, 0xfd,
	};
	uint8_t page[4096];
	struct rmi_out o;

	(void)state;
	for (int i = 0; i < 4096; i++)
		page[i] = (uint8_t)i;
	t_write(fx_m, FX_SRC_PA, page, sizeof(page));
	t_delegate(fx_m, FX_L2_PA, 2);
	t_delegate(fx_m, FX_DATA_PA, 1);
	assert_int_equal(RMI(fx_m, RMI_FID_RTT_CREATE, NULL, FX_RD_PA, FX_L2_PA, 0x80000000ULL, 2ULL),
			 RMI_SUCCESS);
	assert_int_equal(RMI(fx_m, RMI_FID_RTT_CREATE, NULL, FX_RD_PA, FX_L3_PA, 0x80000000ULL, 3ULL),
			 RMI_SUCCESS);
	assert_int_equal(RMI(fx_m, RMI_FID_RTT_DATA_MAP_INIT, NULL, FX_RD_PA, FX_DATA_PA, 0x80000000ULL,
			     FX_SRC_PA, (uint64_t)RMI_MEASURE_CONTENT),
			 RMI_SUCCESS);
	write_rec_params(1, 0, 0x80000000, 0x80200000);
	assert_int_equal(rec_create(FX_REC_PA, FX_AUX_PA, &o), RMI_SUCCESS);
	struct rmm *rmm = machine_rmm(fx_m);
	assert_memory_equal(rd_of(rmm, granule_from_pa(rmm, FX_RD_PA))->rim, rim2, 32);
	/* a second, non-runnable REC does not extend the RIM */
	write_rec_params(0, 1, 0x80000000, 0);
	assert_int_equal(rec_create(FX_REC_PA + G, FX_AUX_PA + 16 * G, &o), RMI_SUCCESS);
	assert_memory_equal(rd_of(rmm, granule_from_pa(rmm, FX_RD_PA))->rim, rim2, 32);
}

static void test_protocol_errors(void **state)
{
	struct rmi_out o;
	uint64_t h;

	(void)state;
	write_rec_params(0, 0, 0, 0);
	/* REC granule not DELEGATED */
	assert_int_equal(RMI(fx_m, RMI_FID_REC_CREATE, &o, FX_RD_PA, FX_REC_PA + 8 * G, FX_RECP_PA),
			 RMI_ERROR_INPUT);
	assert_int_equal(RMI(fx_m, RMI_FID_REC_CREATE, &o, FX_RD_PA, FX_REC_PA, FX_RECP_PA),
			 XR_INCOMPLETE_DONATE);
	h = o.x[1];
	assert_int_equal(t_gstate(fx_m, FX_REC_PA), GRANULE_STATE_PARTIAL);
	/* wrong next call, unknown handle, unaligned list */
	assert_int_equal(RMI(fx_m, RMI_FID_OP_CONTINUE, &o, h, 0ULL), RMI_ERROR_INPUT);
	assert_int_equal(RMI(fx_m, RMI_FID_OP_MEM_RECLAIM, &o, h, FX_LIST_PA, 16ULL), RMI_ERROR_INPUT);
	assert_int_equal(RMI(fx_m, RMI_FID_OP_MEM_DONATE, &o, h + 1, FX_LIST_PA, 16ULL), RMI_ERROR_INPUT);
	assert_int_equal(RMI(fx_m, RMI_FID_OP_MEM_DONATE, &o, 1000ULL, FX_LIST_PA, 16ULL), RMI_ERROR_INPUT);
	assert_int_equal(RMI(fx_m, RMI_FID_OP_MEM_DONATE, &o, h, FX_LIST_PA + 4, 16ULL), RMI_ERROR_INPUT);
	/* too much, wrong state marker, not delegated: nothing is taken */
	write_list(FX_AUX_PA, 17);
	assert_int_equal(RMI(fx_m, RMI_FID_OP_MEM_DONATE, &o, h, FX_LIST_PA, 17ULL), RMI_ERROR_INPUT);
	uint64_t bad[2] = { FX_AUX_PA | (1ULL << 2) | (1ULL << 63), 0 };
	t_write(fx_m, FX_LIST_PA, bad, sizeof(bad));
	assert_int_equal(RMI(fx_m, RMI_FID_OP_MEM_DONATE, &o, h, FX_LIST_PA, 1ULL), RMI_ERROR_INPUT);
	uint64_t mixed[2] = { FX_AUX_PA | (1ULL << 2), FX_PARAMS_PA | (1ULL << 2) };
	t_write(fx_m, FX_LIST_PA, mixed, sizeof(mixed));
	assert_int_equal(RMI(fx_m, RMI_FID_OP_MEM_DONATE, &o, h, FX_LIST_PA, 2ULL), RMI_ERROR_INPUT);
	assert_int_equal(t_gstate(fx_m, FX_AUX_PA), GRANULE_STATE_DELEGATED);
	/* donation in two parts */
	write_list(FX_AUX_PA, 10);
	assert_int_equal(RMI(fx_m, RMI_FID_OP_MEM_DONATE, &o, h, FX_LIST_PA, 10ULL), XR_INCOMPLETE_DONATE);
	assert_int_equal(o.x[1], 10);
	assert_int_equal(o.x[2], 6ULL << 2);
	write_list(FX_AUX_PA + 10 * G, 6);
	assert_int_equal(RMI(fx_m, RMI_FID_OP_MEM_DONATE, &o, h, FX_LIST_PA, 6ULL), RMI_INCOMPLETE);
	assert_int_equal(RMI(fx_m, RMI_FID_OP_MEM_DONATE, &o, h, FX_LIST_PA, 6ULL), RMI_ERROR_INPUT);
	assert_int_equal(RMI(fx_m, RMI_FID_OP_CANCEL, &o, h), RMI_ERROR_INPUT);
	assert_int_equal(RMI(fx_m, RMI_FID_OP_CONTINUE, &o, h, 0ULL), RMI_SUCCESS);
	assert_int_equal(RMI(fx_m, RMI_FID_OP_CONTINUE, &o, h, 0ULL), RMI_ERROR_INPUT); /* handle is gone */
	/* REC_DESTROY of something that is not a REC */
	assert_int_equal(RMI(fx_m, RMI_FID_REC_DESTROY, &o, FX_RD_PA), RMI_ERROR_INPUT);
	rec_destroy_ok(FX_REC_PA);
	t_check_gpt_consistent(fx_m, NULL);
}

/* A create that fails after donation gives the memory back, then reports the error. */
static void check_failed_create(uint64_t want)
{
	struct rmi_out o;
	uint64_t h, list[16];

	assert_int_equal(RMI(fx_m, RMI_FID_REC_CREATE, &o, FX_RD_PA, FX_REC_PA, FX_RECP_PA),
			 XR_INCOMPLETE_DONATE);
	h = o.x[1];
	assert_int_equal(donate_all(h, FX_AUX_PA), XR_INCOMPLETE_RECLAIM);
	assert_int_equal(RMI(fx_m, RMI_FID_OP_CONTINUE, &o, h, 0ULL),
			 RMI_ERROR_INPUT); /* must reclaim first */
	assert_int_equal(RMI(fx_m, RMI_FID_OP_MEM_RECLAIM, &o, h, FX_LIST_PA, 0ULL), XR_INCOMPLETE_RECLAIM);
	assert_int_equal(o.x[1], 0);
	assert_int_equal(RMI(fx_m, RMI_FID_OP_MEM_RECLAIM, &o, h, FX_LIST_PA, 5ULL), XR_INCOMPLETE_RECLAIM);
	assert_int_equal(o.x[1], 5);
	assert_int_equal(RMI(fx_m, RMI_FID_OP_MEM_RECLAIM, &o, h, FX_LIST_PA, 16ULL), RMI_INCOMPLETE);
	assert_int_equal(o.x[1], 11);
	t_read(fx_m, FX_LIST_PA, list, 11 * sizeof(uint64_t));
	assert_int_equal(RMI(fx_m, RMI_FID_OP_CONTINUE, &o, h, 0ULL), want);
	assert_int_equal(t_gstate(fx_m, FX_REC_PA), GRANULE_STATE_DELEGATED);
	for (int i = 0; i < 16; i++)
		assert_int_equal(t_gstate(fx_m, FX_AUX_PA + i * G), GRANULE_STATE_DELEGATED);
	t_check_gpt_consistent(fx_m, NULL);
}

static void test_failure_after_donation(void **state)
{
	(void)state;
	write_rec_params(0, 1, 0, 0); /* MPIDR index 1, but no REC 0 yet */
	check_failed_create(RMI_ERROR_INPUT);
	write_rec_params(0, 1ULL << 40, 0, 0); /* MPIDR bits outside the affinity fields */
	check_failed_create(RMI_ERROR_INPUT);
	write_rec_params(0, 0, 0, 0);
	assert_int_equal(RMI(fx_m, RMI_FID_REALM_ACTIVATE, NULL, FX_RD_PA), RMI_SUCCESS);
	check_failed_create(RMI_ERROR_REALM); /* realm not NEW */
}

static void test_pool_exhaustion(void **state)
{
	struct rmi_out o;
	uint64_t handles[64];
	int n = 0;

	(void)state;
	t_delegate(fx_m, FX_RD_PA + 512 * G, 65);
	write_rec_params(0, 0, 0, 0);
	for (n = 0; n < 64; n++) {
		assert_int_equal(
			RMI(fx_m, RMI_FID_REC_CREATE, &o, FX_RD_PA, FX_RD_PA + (512 + n) * G, FX_RECP_PA),
			XR_INCOMPLETE_DONATE);
		handles[n] = o.x[1];
	}
	assert_int_equal(RMI(fx_m, RMI_FID_REC_CREATE, &o, FX_RD_PA, FX_RD_PA + (512 + 64) * G, FX_RECP_PA),
			 RMI_BLOCKED);
	assert_int_equal(t_gstate(fx_m, FX_RD_PA + (512 + 64) * G), GRANULE_STATE_DELEGATED);
	assert_int_equal(RMI(fx_m, RMI_FID_REC_DESTROY, &o, FX_REC_PA), RMI_BLOCKED);
	/* each finishes (MPIDR 0 is taken by the first only) */
	for (int i = 0; i < n; i++) {
		uint64_t x0 = donate_all(handles[i], i == 0 ? FX_AUX_PA : FX_AUX_PA + 16 * G);
		if (i == 0) {
			assert_int_equal(x0, RMI_SUCCESS);
			write_rec_params(0, 5, 0, 0); /* the rest fail: index 5 != 1 */
			continue;
		}
		assert_int_equal(x0, XR_INCOMPLETE_RECLAIM);
		assert_int_equal(RMI(fx_m, RMI_FID_OP_MEM_RECLAIM, &o, handles[i], FX_LIST_PA, 16ULL),
				 RMI_INCOMPLETE);
		assert_int_equal(RMI(fx_m, RMI_FID_OP_CONTINUE, &o, handles[i], 0ULL), RMI_ERROR_INPUT);
	}
}

/*
 * Lock order: the SRO pool before granules. REC_DESTROY (like OP_CONTINUE and
 * OP_MEM_DONATE) locks granules with the pool held; REC_CREATE locked its REC
 * granule and then waited for the pool, so a REC_CREATE and a REC_DESTROY of
 * the same address on two CPUs could each hold what the other waits for, and
 * both CPUs hung in the RMM. Here one CPU creates a REC at X and fails it
 * after donation, over and over (X goes back to DELEGATED each time), while
 * another keeps destroying X. A hang is reported after 20 s without progress.
 */
static atomic_bool order_stop;
static atomic_uint order_cycles, order_bad;

static void *destroy_x(void *arg)
{
	(void)arg;
	while (!atomic_load(&order_stop))
		if (RMI(fx_m, RMI_FID_REC_DESTROY, NULL, FX_REC_PA) != RMI_ERROR_INPUT)
			atomic_fetch_add(&order_bad, 1);
	return NULL;
}

/* One failed REC_CREATE at FX_REC_PA (MPIDR index 1 with no REC 0): true if each step answered as expected. */
static bool create_fail_cycle(void)
{
	struct rmi_out o;
	uint64_t h;

	if (RMI(fx_m, RMI_FID_REC_CREATE, &o, FX_RD_PA, FX_REC_PA, FX_RECP_PA) != XR_INCOMPLETE_DONATE)
		return false;
	h = o.x[1];
	return RMI(fx_m, RMI_FID_OP_MEM_DONATE, &o, h, FX_LIST_PA, 16ULL) == RMI_INCOMPLETE &&
	       RMI(fx_m, RMI_FID_OP_CONTINUE, &o, h, 0ULL) == XR_INCOMPLETE_RECLAIM &&
	       RMI(fx_m, RMI_FID_OP_MEM_RECLAIM, &o, h, FX_LIST_PA + 1024, 16ULL) == RMI_INCOMPLETE &&
	       RMI(fx_m, RMI_FID_OP_CONTINUE, &o, h, 0ULL) == RMI_ERROR_INPUT;
}

static void *create_x(void *arg)
{
	(void)arg;
	for (unsigned int i = 0; i < 3000; i++) {
		if (!create_fail_cycle())
			atomic_fetch_add(&order_bad, 1);
		atomic_fetch_add(&order_cycles, 1);
	}
	atomic_store(&order_stop, true);
	return NULL;
}

static void test_create_destroy_lock_order(void **state)
{
	pthread_t th[2];
	unsigned int last = ~0u;
	time_t since = time(NULL);

	(void)state;
	write_rec_params(0, 1, 0, 0);
	write_list(FX_AUX_PA, 16);
	atomic_store(&order_stop, false);
	atomic_store(&order_cycles, 0);
	atomic_store(&order_bad, 0);
	assert_int_equal(pthread_create(&th[0], NULL, destroy_x, NULL), 0);
	assert_int_equal(pthread_create(&th[1], NULL, create_x, NULL), 0);
	while (!atomic_load(&order_stop)) {
		unsigned int c = atomic_load(&order_cycles);
		if (c != last) {
			last = c;
			since = time(NULL);
		} else if (time(NULL) - since > 20) {
			/* two CPUs deadlocked in the RMM: nothing can be torn down */
			fprintf(stderr, "REC_CREATE / REC_DESTROY deadlock after %u cycles\n", c);
			fflush(NULL);
			_exit(1);
		}
		usleep(10000);
	}
	assert_int_equal(pthread_join(th[0], NULL), 0);
	assert_int_equal(pthread_join(th[1], NULL), 0);
	assert_int_equal(atomic_load(&order_bad), 0);
	assert_int_equal(t_gstate(fx_m, FX_REC_PA), GRANULE_STATE_DELEGATED);
	for (int i = 0; i < 16; i++)
		assert_int_equal(t_gstate(fx_m, FX_AUX_PA + i * G), GRANULE_STATE_DELEGATED);
	t_check_gpt_consistent(fx_m, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mpidr_order, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_initial_state, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_destroy_rules, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_idle_recs_parked, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_create_destroy, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rim_after_rec, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_protocol_errors, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_failure_after_donation, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_pool_exhaustion, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_create_destroy_lock_order, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
