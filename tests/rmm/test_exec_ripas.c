/* SPDX-License-Identifier: MIT */
/*
 * RSI_IPA_STATE_SET and RMI_RTT_SET_RIPAS (reference sections 14.1, 8.2,
 * 6.3 entry processing): the realm's input errors, the RIPAS_CHANGE exit,
 * every transition of the table in 8.2 (with and without
 * CHANGE_DESTROYED), RTT_SET_RIPAS's failure conditions in order and
 * pairwise, partial progress across RTTs and at block level, the
 * ACCEPT/REJECT rules, and what the realm's accesses see afterwards.
 */
#include "exec_util.h"

#define CELL(n) (0x20000ULL + 0x10000ULL * (n)) /* six pages, one per entry state */
#define EMPTY_IPA 0x100000ULL
#define L2_BLOCK 0x200000ULL /* [2 MiB, 4 MiB): no L3 table, an unassigned L2 entry */
#define CHANGE_DESTROYED 1ULL

enum cell_state { UE, UR, AE, AR, UD, AD, NSTATES };
static const char *const state_name[] = { "UNASSIGNED EMPTY", "UNASSIGNED RAM",       "ASSIGNED EMPTY",
					  "ASSIGNED RAM",     "UNASSIGNED DESTROYED", "ASSIGNED DESTROYED" };

/* Build one page per entry state at base (realm NEW): UE, UR, AE, AR, UD, AD. */
static void make_cell(struct xr *x, uint64_t base)
{
	static uint8_t pat[4096];

	memset(pat, 0x77, sizeof(pat));
	xr_init_ripas(x, base + UR * G, base + UR * G + G);
	xr_map(x, base + AE * G);
	xr_page(x, base + AR * G, pat, RMI_NO_MEASURE_CONTENT);
	xr_page(x, base + UD * G, pat, RMI_NO_MEASURE_CONTENT);
	xr_unmap(x, base + UD * G);
	xr_page(x, base + AD * G, pat, RMI_NO_MEASURE_CONTENT);
	xr_unmap(x, base + AD * G);
	xr_map(x, base + AD * G);
}

/* The entry at ipa (level 3): RTT_READ_ENTRY state and RIPAS. */
static void expect_entry(struct xr *x, uint64_t ipa, uint64_t st, uint64_t ripas)
{
	struct rmi_out o;

	assert_int_equal(t_read_entry(x->m, x->rd, ipa, 3, &o), RMI_SUCCESS);
	assert_int_equal(o.x[1], 3);
	if (o.x[2] != st || o.x[4] != ripas) {
		print_error("entry 0x%llx: state %llu ripas %llu, expected %llu %llu\n",
			    (unsigned long long)ipa, (unsigned long long)o.x[2], (unsigned long long)o.x[4],
			    (unsigned long long)st, (unsigned long long)ripas);
		fail();
	}
}

static void expect_cell_state(struct xr *x, uint64_t ipa, enum cell_state s)
{
	static const uint64_t st[] = { 0, 0, 1, 1, 0, 1 };
	static const uint64_t rp[] = { 0, 1, 0, 1, 2, 2 };

	expect_entry(x, ipa, st[s], rp[s]);
}

/* RPC: IPA_STATE_SET(base, top, ripas, flags) -> a RIPAS_CHANGE exit, checked field by field. */
static void request(struct xr *x, unsigned int i, uint64_t base, uint64_t top, uint64_t ripas, uint64_t flags)
{
	struct rmi_rec_exit ex, e;

	assert_int_equal(xr_rpc(x, i, XR_ARGS(RSI_FID_IPA_STATE_SET, base, top, ripas, flags), &ex),
			 RMI_SUCCESS);
	e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_RIPAS_CHANGE);
	EX_EQ(e, ripas_base, base);
	EX_EQ(e, ripas_top, top);
	EX_EQ(e, ripas_value, ripas);
	EX_DONE(e);
}

/* Enter after the host's answer: the realm's x0..x2, reported by the next RPC exit. */
static void response(struct xr *x, unsigned int i, uint64_t flags, uint64_t next, uint64_t resp)
{
	struct rmi_rec_exit ex;

	assert_int_equal(xr_enter(x, i, flags, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_HOST_CALL);
	assert_int_equal(ex.gprs[0], RSI_SUCCESS);
	assert_int_equal(ex.gprs[1], next);
	assert_int_equal(ex.gprs[2], resp);
}

static uint64_t set_ripas(struct xr *x, unsigned int i, uint64_t base, uint64_t top, struct rmi_out *o)
{
	return RMI(x->m, RMI_FID_RTT_SET_RIPAS, o, x->rd, x->rec[i], base, top);
}

/* A standard RPC realm whose NEW phase also runs `prep`. */
static void rpc_realm(struct xr *x, unsigned int nrec, void (*prep)(struct xr *))
{
	struct prog p = { .n = 0 };

	xr_create(&env, x, RMI_HASH_SHA_256, NULL);
	p_rpc(&p);
	xr_program(x, &p);
	if (prep)
		prep(x);
	for (unsigned int i = 0; i < nrec; i++)
		xr_rec(x, i == 0, XR_CODE_IPA);
	xr_activate(x);
	xr_rpc_start(x, 0);
}

/* ---- the realm's side: IPA_STATE_SET input errors -------------------------------------- */

static void test_state_set_inputs(void **state)
{
	static const uint64_t bad[][3] = {
		{ 0x10000, 0x11000, 2 }, { 0x10000, 0x11000, 3 },          { 0x10000, 0x11000, ~0ULL },
		{ 0x10008, 0x11000, 1 }, { 0x10000, 0x11008, 1 },          { 0x10000, 0x10000, 1 },
		{ 0x11000, 0x10000, 0 }, { 0x10000, XR_PAR_TOP + G, 1 },   { XR_PAR_TOP, XR_PAR_TOP + G, 0 },
		{ 0, XR_IPA_TOP, 1 },    { ~0ULL & ~0xfffULL, 0x1000, 0 }, { 0x10000, ~0ULL & ~0xfffULL, 1 },
	};
	uint64_t out[18];
	struct xr x;

	(void)state;
	rpc_realm(&x, 1, NULL);
	struct t_snap *s = t_snap_take(x.m);
	for (unsigned int k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		XR_CALL(&x, 0, out, RSI_FID_IPA_STATE_SET, bad[k][0], bad[k][1], bad[k][2], 0);
		assert_int_equal(out[0], RSI_ERROR_INPUT); /* no RIPAS_CHANGE exit */
	}
	/* nothing is pending: the host cannot apply anything */
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, x.rd, x.rec[0], 0x10000ULL, 0x11000ULL);
	t_snap_free(s);
	/* the whole PAR is a valid request */
	request(&x, 0, 0, XR_PAR_TOP, RMI_RIPAS_RAM, 0);
	response(&x, 0, 0, 0, RSI_ACCEPT);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* ---- every transition of 8.2 --------------------------------------------------------- */

static void cells4(struct xr *x)
{
	for (unsigned int n = 0; n < 4; n++)
		make_cell(x, CELL(n));
}

static void test_transitions(void **state)
{
	/* [request][flag][from] -> to, or NSTATES for "stops: no progress" */
	static const struct {
		uint64_t ripas, flags;
		enum cell_state to[NSTATES];
	} rows[] = {
		{ RMI_RIPAS_RAM, 0, { UR, UR, AR, AR, NSTATES, NSTATES } },
		{ RMI_RIPAS_RAM, CHANGE_DESTROYED, { UR, UR, AR, AR, UR, AR } },
		{ RMI_RIPAS_EMPTY, 0, { UE, UE, AE, AE, UE, AE } },
		{ RMI_RIPAS_EMPTY, CHANGE_DESTROYED, { UE, UE, AE, AE, UE, AE } },
	};
	struct rmi_out o;
	struct xr x;

	(void)state;
	rpc_realm(&x, 1, cells4);
	for (unsigned int n = 0; n < 4; n++)
		for (unsigned int s = 0; s < NSTATES; s++)
			expect_cell_state(&x, CELL(n) + s * G, (enum cell_state)s);
	for (unsigned int n = 0; n < 4; n++)
		for (unsigned int s = 0; s < NSTATES; s++) {
			uint64_t ipa = CELL(n) + s * G;
			enum cell_state to = rows[n].to[s];
			request(&x, 0, ipa, ipa + G, rows[n].ripas, rows[n].flags);
			if (to == NSTATES) {
				struct t_snap *sn = t_snap_take(x.m);
				uint64_t x0 = set_ripas(&x, 0, ipa, ipa + G, &o);
				if (x0 != T_RTT(3)) {
					print_error("%s -> RIPAS %llu: x0 0x%llx, expected ERROR_RTT(3)\n",
						    state_name[s], (unsigned long long)rows[n].ripas,
						    (unsigned long long)x0);
					fail();
				}
				t_snap_check(x.m, sn);
				t_snap_free(sn);
				expect_cell_state(&x, ipa, (enum cell_state)s);
				response(&x, 0, 0, ipa, RSI_ACCEPT); /* nothing done */
			} else {
				assert_int_equal(set_ripas(&x, 0, ipa, ipa + G, &o), RMI_SUCCESS);
				assert_int_equal(o.x[1], ipa + G);
				expect_cell_state(&x, ipa, to);
				response(&x, 0, 0, ipa + G, RSI_ACCEPT);
			}
		}
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* ---- RTT_SET_RIPAS failure conditions in order ----------------------------------------- */

static void test_set_ripas_conditions(void **state)
{
	const uint64_t base = EMPTY_IPA, top = EMPTY_IPA + 4 * G;
	struct xr_blocked b;
	struct xr x, y;

	(void)state;
	rpc_realm(&x, 2, NULL);
	rpc_realm(&y, 1, NULL);
	uint64_t rd = x.rd, rec = x.rec[0], deleg = xr_delegated(&x, 1);
	uint64_t data = t_raw_entry(x.m, rd, XR_CODE_IPA, 3, NULL) & S2_DESC_OA_MASK;
	request(&x, 0, base, top, RMI_RIPAS_RAM, 0);

	/* 1: top <= base, top not aligned */
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rd, rec, base, base);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rd, rec, base, base - G);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rd, rec, base, top - 0x800);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rd, rec, base, top + 1);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rec, rd, base, base); /* with 2 */
	/* 2: the RD and the REC granules */
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rec, rec, base, top);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rd, rd, base, top);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rec, rd, base, top);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, data, rec, base, top);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, deleg, rec, base, top);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rd + 8, rec, base, top);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rd, rec + 8, base, top);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rd, deleg, base, top);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rd, x.run[0], base, top);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, 0x1000ULL, rec, base, top);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, y.rd, data, base, top); /* with 4 */
	/* 4: the REC belongs to another realm */
	RMI_FAIL(x.m, RMI_ERROR_REC, RMI_FID_RTT_SET_RIPAS, y.rd, rec, base, top);
	RMI_FAIL(x.m, RMI_ERROR_REC, RMI_FID_RTT_SET_RIPAS, y.rd, rec, base + G, top); /* with 5 */
	RMI_FAIL(x.m, RMI_ERROR_REC, RMI_FID_RTT_SET_RIPAS, rd, y.rec[0], base, top);
	/* 5: base is not the next address of the request, top beyond it, no request at all */
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rd, rec, base + G, top);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rd, rec, base - G, top);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rd, rec, base, top + G);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rd, rec, 0x0ULL, G);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rd, x.rec[1], base, top);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, y.rd, y.rec[0], base, top);
	/* a part of the range is fine; progress is kept per call */
	struct rmi_out o;
	assert_int_equal(set_ripas(&x, 0, base, base + G, &o), RMI_SUCCESS);
	assert_int_equal(o.x[1], base + G);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rd, rec, base, top); /* base moved on */
	assert_int_equal(set_ripas(&x, 0, base + G, top, &o), RMI_SUCCESS);
	assert_int_equal(o.x[1], top);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rd, rec, top, top + G); /* beyond the request */
	response(&x, 0, 0, top, RSI_ACCEPT);
	/* completed: nothing pending any more */
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rd, rec, top, top + G);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rd, rec, base, top);

	/* 6: base not aligned to the entry where the walk stops (an L2 block), before "no progress" */
	request(&x, 0, L2_BLOCK + G, L2_BLOCK + 2 * G, RMI_RIPAS_RAM, 0);
	RMI_FAIL(x.m, T_RTT(2), RMI_FID_RTT_SET_RIPAS, rd, rec, L2_BLOCK + G, L2_BLOCK + 2 * G);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rd, rec, L2_BLOCK,
		 L2_BLOCK + 2 * G); /* 5 first */
	response(&x, 0, 0, L2_BLOCK + G, RSI_ACCEPT);
	/* 8: no progress: the L2 block is larger than the range */
	request(&x, 0, L2_BLOCK, L2_BLOCK + 2 * G, RMI_RIPAS_RAM, 0);
	RMI_FAIL(x.m, T_RTT(2), RMI_FID_RTT_SET_RIPAS, rd, rec, L2_BLOCK, L2_BLOCK + 2 * G);
	response(&x, 0, 0, L2_BLOCK, RSI_ACCEPT);

	/* 3: REC running (deterministically: inside REC_ENTER, waiting for the realm's run lock) */
	request(&x, 0, base, top, RMI_RIPAS_RAM, 0);
	xr_block_start(&b, &x, 0);
	RMI_FAIL(x.m, RMI_ERROR_REC, RMI_FID_RTT_SET_RIPAS, rd, rec, base, top);
	RMI_FAIL(x.m, RMI_ERROR_REC, RMI_FID_RTT_SET_RIPAS, rd, rec, base + G, top); /* with 5 */
	RMI_FAIL(x.m, RMI_ERROR_REC, RMI_FID_RTT_SET_RIPAS, y.rd, rec, base, top);   /* with 4 */
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, data, rec, base, top); /* 2 first */
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_RTT_SET_RIPAS, rd, rec, base, base);  /* 1 first */
	xr_block_end(&b);
	/* that entry completed the request as it stood: nothing done, ACCEPT */
	if (b.ex.exit_reason == RMI_EXIT_HOST_CALL) {
		assert_int_equal(b.ex.gprs[0], RSI_SUCCESS);
		assert_int_equal(b.ex.gprs[1], base);
		assert_int_equal(b.ex.gprs[2], RSI_ACCEPT);
	} else {
		assert_int_equal(b.ex.exit_reason, RMI_EXIT_IRQ);
	}
	struct xr *xs[] = { &x, &y };
	xr_teardown(xs, 2);
}

/* ---- progress across RTTs, blocks; ACCEPT and REJECT ------------------------------------- */

static void two_tables(struct xr *x)
{
	t_rtt_to(x->m, x->rd, 0x600000, 3, &x->e->pool); /* [6, 8) MiB has an L3 table too */
}

static void test_progress_and_response(void **state)
{
	const uint64_t b = 0x7fe000, t = 0x802000; /* crosses the 8 MiB boundary: two leaf tables */
	struct rmi_out o;
	struct xr x;

	(void)state;
	rpc_realm(&x, 1, two_tables);
	t_rtt_to(x.m, x.rd, 0x800000, 3, &env.pool);

	/* RAM across two RTTs: one leaf table per call; the realm sees the final address, ACCEPT */
	request(&x, 0, b, t, RMI_RIPAS_RAM, 0);
	assert_int_equal(set_ripas(&x, 0, b, t, &o), RMI_SUCCESS);
	assert_int_equal(o.x[1], 0x800000);
	assert_int_equal(set_ripas(&x, 0, 0x800000, t, &o), RMI_SUCCESS);
	assert_int_equal(o.x[1], t);
	response(&x, 0, XR_ENTER_REJECT, t, RSI_ACCEPT); /* done: a REJECT flag does not matter */
	for (uint64_t a = b; a < t; a += G)
		expect_entry(&x, a, RMI_RTTE_UNASSIGNED, RMI_RIPAS_RAM);

	/* RAM, partly done, host rejects: x1 = where it stopped, REJECT */
	request(&x, 0, b - 2 * G, t + 2 * G, RMI_RIPAS_RAM, 0);
	assert_int_equal(set_ripas(&x, 0, b - 2 * G, t + 2 * G, &o), RMI_SUCCESS);
	assert_int_equal(o.x[1], 0x800000);
	response(&x, 0, XR_ENTER_REJECT, 0x800000, RSI_REJECT);
	expect_entry(&x, t, RMI_RTTE_UNASSIGNED, RMI_RIPAS_EMPTY);
	/* RAM, partly done, no REJECT: ACCEPT with the same x1 */
	request(&x, 0, t, t + 4 * G, RMI_RIPAS_RAM, 0);
	assert_int_equal(set_ripas(&x, 0, t, t + G, &o), RMI_SUCCESS);
	response(&x, 0, 0, t + G, RSI_ACCEPT);
	/* RAM, nothing done, REJECT: x1 = base */
	request(&x, 0, t + G, t + 4 * G, RMI_RIPAS_RAM, 0);
	response(&x, 0, XR_ENTER_REJECT, t + G, RSI_REJECT);
	/* EMPTY, partly done, REJECT: always ACCEPT (REJECT applies to RAM only) */
	request(&x, 0, b, t, RMI_RIPAS_EMPTY, 0);
	assert_int_equal(set_ripas(&x, 0, b, t, &o), RMI_SUCCESS);
	assert_int_equal(o.x[1], 0x800000);
	response(&x, 0, XR_ENTER_REJECT, 0x800000, RSI_ACCEPT);
	expect_entry(&x, b, RMI_RTTE_UNASSIGNED, RMI_RIPAS_EMPTY);
	expect_entry(&x, 0x800000, RMI_RTTE_UNASSIGNED, RMI_RIPAS_RAM);

	/* blocks: the unassigned L2 entries of [2, 6) MiB are changed whole, two in one call */
	request(&x, 0, 0x200000, 0x600000, RMI_RIPAS_RAM, 0);
	assert_int_equal(set_ripas(&x, 0, 0x200000, 0x600000, &o), RMI_SUCCESS);
	assert_int_equal(o.x[1], 0x600000);
	response(&x, 0, 0, 0x600000, RSI_ACCEPT);
	assert_int_equal(t_read_entry(x.m, x.rd, 0x400000, 2, &o), RMI_SUCCESS);
	assert_int_equal(o.x[1], 2);
	assert_int_equal(o.x[4], RMI_RIPAS_RAM);
	/* a request within one block: no progress possible until the host makes an L3 table */
	request(&x, 0, 0x200000, 0x201000, RMI_RIPAS_EMPTY, 0);
	RMI_FAIL(x.m, T_RTT(2), RMI_FID_RTT_SET_RIPAS, x.rd, x.rec[0], 0x200000ULL, 0x201000ULL);
	t_rtt_to(x.m, x.rd, 0x200000, 3, &env.pool);
	assert_int_equal(set_ripas(&x, 0, 0x200000, 0x201000, &o), RMI_SUCCESS);
	assert_int_equal(o.x[1], 0x201000);
	response(&x, 0, 0, 0x201000, RSI_ACCEPT);
	expect_entry(&x, 0x200000, RMI_RTTE_UNASSIGNED, RMI_RIPAS_EMPTY);
	expect_entry(&x, 0x201000, RMI_RTTE_UNASSIGNED, RMI_RIPAS_RAM);
	/* a later IPA_STATE_GET agrees */
	uint64_t out[18];
	XR_CALL(&x, 0, out, RSI_FID_IPA_STATE_GET, 0x201000, 0x800000);
	assert_int_equal(out[0], RSI_SUCCESS);
	assert_int_equal(out[1], 0x600000);
	assert_int_equal(out[2], RMI_RIPAS_RAM);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* ---- what the realm's accesses see after a change ----------------------------------------- */

static void test_access_after_change(void **state)
{
	const uint64_t ar = CELL(0) + AR * G, ae = CELL(0) + AE * G, ud = CELL(0) + UD * G;
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex;
	struct rmi_out o;
	uint64_t far, esr;
	struct xr x;

	(void)state;
	p_prologue(&p);
	/* read the RAM page (the engine maps it), then make it EMPTY, then read it again: SEA */
	p_mov(&p, 2, ar);
	p_put(&p, a64_ldr(3, 2));
	p_report(&p, 3);
	p_mov(&p, 1, ar);
	p_mov(&p, 2, ar + G);
	p_mov(&p, 3, RMI_RIPAS_EMPTY);
	p_mov(&p, 4, 0);
	p_smc(&p, RSI_FID_IPA_STATE_SET);
	p_report(&p, 1);
	p_mov(&p, 2, ar);
	p_put(&p, a64_ldr(3, 2));
	/* ASSIGNED EMPTY to RAM: the (zeroed) page becomes readable */
	p_mov(&p, 1, ae);
	p_mov(&p, 2, ae + G);
	p_mov(&p, 3, RMI_RIPAS_RAM);
	p_mov(&p, 4, 0);
	p_smc(&p, RSI_FID_IPA_STATE_SET);
	p_mov(&p, 2, ae);
	p_put(&p, a64_ldr(3, 2));
	p_report(&p, 3);
	/* UNASSIGNED DESTROYED to RAM with CHANGE_DESTROYED: then a stage-2 fault the host resolves */
	p_mov(&p, 1, ud);
	p_mov(&p, 2, ud + G);
	p_mov(&p, 3, RMI_RIPAS_RAM);
	p_mov(&p, 4, CHANGE_DESTROYED);
	p_smc(&p, RSI_FID_IPA_STATE_SET);
	p_report(&p, 2);
	p_mov(&p, 2, ud);
	p_put(&p, a64_ldr(3, 2));
	p_report(&p, 3);
	p_put(&p, A64_B_SELF);
	xr_create(&env, &x, RMI_HASH_SHA_256, NULL);
	xr_program(&x, &p);
	make_cell(&x, CELL(0));
	xr_rec(&x, true, XR_CODE_IPA);
	xr_activate(&x);

	xr_next_store(&x, 0, 0, 0x7777777777777777ULL);
	assert_int_equal(xr_enter(&x, 0, XR_ENTER_MMIO, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_RIPAS_CHANGE);
	assert_int_equal(set_ripas(&x, 0, ar, ar + G, &o), RMI_SUCCESS);
	xr_next_store(&x, 0, 0, ar + G);
	esr = xr_expect_exception(&x, 0, XR_ENTER_MMIO, &far, NULL);
	assert_int_equal(esr_ec(esr), ESR_EC_DABT_CUR);
	assert_int_equal(esr & 0x3f, ESR_FSC_SEA);
	assert_int_equal(far, ar);

	assert_int_equal(xr_enter(&x, 0, XR_ENTER_MMIO, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_RIPAS_CHANGE);
	assert_int_equal(set_ripas(&x, 0, ae, ae + G, &o), RMI_SUCCESS);
	xr_next_store(&x, 0, 0, 0);

	assert_int_equal(xr_enter(&x, 0, XR_ENTER_MMIO, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_RIPAS_CHANGE);
	assert_int_equal(set_ripas(&x, 0, ud, ud + G, &o), RMI_SUCCESS);
	xr_next_store(&x, 0, 0, RSI_ACCEPT);
	assert_int_equal(xr_enter(&x, 0, XR_ENTER_MMIO, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
	assert_int_equal(ex.esr, ESR_EC(ESR_EC_DABT_LOW) | ESR_FSC_TRANS(3));
	assert_int_equal(ex.hpfar, (ud >> 12) << 4);
	xr_map(&x, ud);
	xr_next_store(&x, 0, 0, 0);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_state_set_inputs, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_transitions, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_set_ripas_conditions, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_progress_and_response, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_access_after_change, xenv_setup, xenv_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
