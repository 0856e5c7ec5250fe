/* SPDX-License-Identifier: MIT */
/*
 * RMI_GRANULE_RANGE_DELEGATE / _UNDELEGATE against the 2.0-bet1 digest (§4):
 * alignment and bounds, partial progress reported in x1, non-DRAM and holes,
 * granules in the wrong state, GPT carve-outs (Secure and Root granules can
 * never be delegated), and scrubbing in both directions. Every failure is
 * checked to leave the RMM state unchanged.
 */
#include <string.h>

#include "machine.h"
#include "rk_test.h"
#include "rmm/realm.h"

#define MIB (1ULL << 20)
#define DEL RMI_FID_GRANULE_RANGE_DELEGATE
#define UNDEL RMI_FID_GRANULE_RANGE_UNDELEGATE

static void fill(struct rk_machine *m, uint64_t pa, uint64_t n, uint8_t v)
{
	static uint8_t buf[4096];

	memset(buf, v, sizeof(buf));
	for (uint64_t i = 0; i < n; i++)
		t_write(m, pa + i * G, buf, sizeof(buf));
}

static bool host_reads_zero(struct rk_machine *m, uint64_t pa, uint64_t n)
{
	static uint8_t buf[4096];

	for (uint64_t i = 0; i < n; i++) {
		t_read(m, pa + i * G, buf, sizeof(buf));
		for (size_t k = 0; k < sizeof(buf); k++)
			if (buf[k])
				return false;
	}
	return true;
}

static enum rk_pas pas(struct rk_machine *m, uint64_t pa)
{
	enum rk_pas p = RK_PAS_NS;

	assert_int_equal(rk_gpt_get(m, pa, &p), 0);
	return p;
}

static void test_delegate_undelegate(void **state)
{
	struct rk_machine *m = t_machine(64);
	const uint64_t a = T_DRAM_BASE + MIB, top = a + 8 * G;
	struct rmi_out o;
	uint8_t byte;

	(void)state;
	fill(m, a, 8, 0x5a);
	assert_int_equal(RMI(m, DEL, &o, a, top), RMI_SUCCESS);
	assert_int_equal(o.x[1], top);
	for (uint64_t pa = a; pa < top; pa += G) {
		assert_int_equal(t_gstate(m, pa), GRANULE_STATE_DELEGATED);
		assert_int_equal(pas(m, pa), RK_PAS_REALM);
		/* the host can no longer touch it; the RMM sees zeros */
		assert_int_equal(rk_ns_read(m, pa, &byte, 1), -RK_EGPF);
		assert_int_equal(rk_ns_write(m, pa, &byte, 1), -RK_EGPF);
		assert_true(t_gzero(m, pa));
	}
	assert_int_equal(t_gstate(m, top), GRANULE_STATE_NS);
	assert_int_equal(t_gstate(m, a - G), GRANULE_STATE_NS);
	t_check_gpt_consistent(m, NULL);

	assert_int_equal(RMI(m, UNDEL, &o, a, top), RMI_SUCCESS);
	assert_int_equal(o.x[1], top);
	assert_true(host_reads_zero(m, a, 8));
	t_assert_all_undelegated(m);
	rk_machine_destroy(m);
}

/* Contents are scrubbed both ways: what the realm world left behind never reaches the host. */
static void test_undelegate_scrubs(void **state)
{
	struct rk_machine *m = t_machine(64);
	const uint64_t a = T_DRAM_BASE + MIB;

	(void)state;
	t_delegate(m, a, 20); /* 20: more than one madvise-sized run */
	for (uint64_t i = 0; i < 20; i++)
		memset(t_gptr(m, a + i * G), 0xc3, G); /* realm-world data */
	t_undelegate(m, a, 20);
	assert_true(host_reads_zero(m, a, 20));
	/* and single granules */
	t_delegate(m, a, 1);
	memset(t_gptr(m, a), 0x3c, G);
	t_undelegate(m, a, 1);
	assert_true(host_reads_zero(m, a, 1));
	t_assert_all_undelegated(m);
	rk_machine_destroy(m);
}

static void input_errors(struct rk_machine *m, uint64_t fid, uint64_t a)
{
	struct rmi_out o;
	static const uint64_t bad[][2] = {
		{ 1, 2 * G },     /* base unaligned */
		{ G, 2 * G + 8 }, /* top unaligned */
		{ G, G },         /* top == base */
		{ 2 * G, G },     /* top < base */
		{ 8, 8 },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		RMI_FAIL_OUT(m, RMI_ERROR_INPUT, &o, fid, a + bad[i][0], a + bad[i][1]);
		assert_int_equal(o.x[1], a + bad[i][0]);
	}
	/* wrap-around: top <= base */
	RMI_FAIL_OUT(m, RMI_ERROR_INPUT, &o, fid, ~0xfffULL, 0);
	assert_int_equal(o.x[1], ~0xfffULL);
	/* not DRAM: below it, above it, and in the PA space's far end */
	RMI_FAIL_OUT(m, RMI_ERROR_INPUT, &o, fid, 0, G);
	assert_int_equal(o.x[1], 0);
	RMI_FAIL_OUT(m, RMI_ERROR_INPUT, &o, fid, T_DRAM_BASE - G, T_DRAM_BASE + G);
	assert_int_equal(o.x[1], T_DRAM_BASE - G);
	RMI_FAIL_OUT(m, RMI_ERROR_INPUT, &o, fid, T_DRAM_BASE + 64 * MIB, T_DRAM_BASE + 65 * MIB);
	assert_int_equal(o.x[1], T_DRAM_BASE + 64 * MIB);
	RMI_FAIL(m, RMI_ERROR_INPUT, fid, 1ULL << 47, (1ULL << 47) + G);
}

static void test_input_errors(void **state)
{
	struct rk_machine *m = t_machine(64);
	const uint64_t a = T_DRAM_BASE + MIB;

	(void)state;
	input_errors(m, DEL, a);
	t_delegate(m, a, 4);
	input_errors(m, UNDEL, a);
	t_undelegate(m, a, 4);
	t_assert_all_undelegated(m);
	rk_machine_destroy(m);
}

static void test_partial_progress(void **state)
{
	struct rk_machine_config cfg;
	struct rk_machine *m;
	struct rmi_out o;
	/* banks 0 and 1 adjacent, a hole, then bank 2 */
	const uint64_t b0 = T_DRAM_BASE, b1 = b0 + 16 * MIB, b2 = b0 + 64 * MIB;
	const uint64_t a = b0 + MIB;

	(void)state;
	rk_machine_config_default(&cfg);
	cfg.nbanks = 3;
	cfg.banks[0] = (struct rk_dram_bank){ b0, 16 * MIB };
	cfg.banks[1] = (struct rk_dram_bank){ b1, 16 * MIB };
	cfg.banks[2] = (struct rk_dram_bank){ b2, 16 * MIB };
	m = t_machine_cfg(&cfg, true);

	/* a granule already DELEGATED in the middle stops the range there */
	t_delegate(m, a + 3 * G, 1);
	assert_int_equal(RMI(m, DEL, &o, a, a + 8 * G), RMI_SUCCESS);
	assert_int_equal(o.x[1], a + 3 * G);
	for (uint64_t i = 0; i < 8; i++)
		assert_int_equal(t_gstate(m, a + i * G), i <= 3 ? GRANULE_STATE_DELEGATED : GRANULE_STATE_NS);
	/* re-issued from x1: the first granule is not NS -> ERROR_INPUT, nothing done */
	RMI_FAIL_OUT(m, RMI_ERROR_INPUT, &o, DEL, a + 3 * G, a + 8 * G);
	assert_int_equal(o.x[1], a + 3 * G);
	assert_int_equal(RMI(m, DEL, &o, a + 4 * G, a + 8 * G), RMI_SUCCESS);
	assert_int_equal(o.x[1], a + 8 * G);

	/* undelegate stops at the first granule that is not DELEGATED */
	t_undelegate(m, a + 5 * G, 1);
	assert_int_equal(RMI(m, UNDEL, &o, a, a + 8 * G), RMI_SUCCESS);
	assert_int_equal(o.x[1], a + 5 * G);
	RMI_FAIL_OUT(m, RMI_ERROR_INPUT, &o, UNDEL, a + 5 * G, a + 8 * G);
	assert_int_equal(o.x[1], a + 5 * G);
	assert_int_equal(RMI(m, UNDEL, &o, a + 6 * G, a + 8 * G), RMI_SUCCESS);
	t_assert_all_undelegated(m);

	/* adjacent banks: one range */
	assert_int_equal(RMI(m, DEL, &o, b1 - 2 * G, b1 + 2 * G), RMI_SUCCESS);
	assert_int_equal(o.x[1], b1 + 2 * G);
	assert_int_equal(RMI(m, UNDEL, &o, b1 - 2 * G, b1 + 2 * G), RMI_SUCCESS);
	assert_int_equal(o.x[1], b1 + 2 * G);

	/* a range running into the hole stops at the end of the bank */
	const uint64_t end1 = b1 + 16 * MIB;
	assert_int_equal(RMI(m, DEL, &o, end1 - 2 * G, b2 + 2 * G), RMI_SUCCESS);
	assert_int_equal(o.x[1], end1);
	RMI_FAIL_OUT(m, RMI_ERROR_INPUT, &o, DEL, end1, b2 + 2 * G);
	assert_int_equal(o.x[1], end1);
	assert_int_equal(t_gstate(m, b2), GRANULE_STATE_NS);
	assert_int_equal(RMI(m, UNDEL, &o, end1 - 2 * G, b2 + 2 * G), RMI_SUCCESS);
	assert_int_equal(o.x[1], end1);
	/* a range from the hole: nothing */
	RMI_FAIL(m, RMI_ERROR_INPUT, DEL, end1 + G, b2 + G);
	t_assert_all_undelegated(m);
	rk_machine_destroy(m);
}

/* Granules owned by a realm (RD, RTT, DATA) can be neither delegated nor undelegated. */
static void test_wrong_state(void **state)
{
	struct rk_machine *m = t_machine(64);
	struct t_pool pool;
	uint64_t rd, data, l3;
	struct rmi_out o;

	(void)state;
	t_pool_init(&pool, T_DRAM_BASE + MIB, 1024);
	rd = t_realm_new(m, &pool, 40, 1, 2, RMI_HASH_SHA_256);
	t_rtt_to(m, rd, 0, 3, &pool);
	data = t_pool_delegated(m, &pool, 1, 0);
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_MAP, &o, rd, 0, G, RMI_ADDR_TYPE_SINGLE, t_desc(data, 3, 1)),
			 RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_RTT_READ_ENTRY, &o, rd, 0, 2), RMI_SUCCESS);
	l3 = o.x[3];
	assert_int_equal(t_gstate(m, l3), GRANULE_STATE_RTT);

	const uint64_t owned[] = { rd, t_rd(m, rd)->s2.rtt_base, t_rd(m, rd)->s2.rtt_base + G, l3, data };
	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
		RMI_FAIL_OUT(m, RMI_ERROR_INPUT, &o, DEL, owned[i], owned[i] + G);
		assert_int_equal(o.x[1], owned[i]);
		RMI_FAIL_OUT(m, RMI_ERROR_INPUT, &o, UNDEL, owned[i], owned[i] + G);
		assert_int_equal(o.x[1], owned[i]);
	}
	/* a DELEGATED range ending at a realm granule stops there */
	uint64_t d = t_pool_delegated(m, &pool, 2, 0);
	assert_int_equal(d + 2 * G, pool.next);
	uint64_t after = t_pool_delegated(m, &pool, 1, 0);
	t_rtt_create(m, rd, after, 2ULL << 20, 3);
	assert_int_equal(RMI(m, UNDEL, &o, d, after + G), RMI_SUCCESS);
	assert_int_equal(o.x[1], after);
	assert_int_equal(t_gstate(m, after), GRANULE_STATE_RTT);
	/* NS granules are not DELEGATED */
	RMI_FAIL(m, RMI_ERROR_INPUT, UNDEL, d, d + G);
	t_check_realm(m, rd, NULL, NULL);
	t_teardown_all(m);
	rk_machine_destroy(m);
}

/* Secure and Root carve-outs: the GTSI refuses them, so they are never delegated. */
static void test_carveouts(void **state)
{
	struct rk_machine_config cfg;
	struct rk_machine *m;
	struct rmi_out o;
	const uint64_t c = T_DRAM_BASE + 8 * MIB;

	(void)state;
	rk_machine_config_default(&cfg);
	cfg.dram_size = 64 * MIB;
	cfg.ncarveouts = 2;
	cfg.carveouts[0] = (struct rk_pas_region){ c, 2 * G, RK_PAS_SECURE };
	cfg.carveouts[1] = (struct rk_pas_region){ c + 2 * G, G, RK_PAS_ROOT };
	m = t_machine_cfg(&cfg, true);

	for (uint64_t pa = c; pa < c + 3 * G; pa += G) {
		RMI_FAIL_OUT(m, RMI_ERROR_INPUT, &o, DEL, pa, pa + G);
		assert_int_equal(o.x[1], pa);
		RMI_FAIL(m, RMI_ERROR_INPUT, UNDEL, pa, pa + G);
		assert_int_equal(t_gstate(m, pa), GRANULE_STATE_NS);
	}
	assert_int_equal(pas(m, c), RK_PAS_SECURE);
	assert_int_equal(pas(m, c + 2 * G), RK_PAS_ROOT);
	/* a range up to the carve-out stops at it; a range from just after it works */
	assert_int_equal(RMI(m, DEL, &o, c - 2 * G, c + 4 * G), RMI_SUCCESS);
	assert_int_equal(o.x[1], c);
	RMI_FAIL(m, RMI_ERROR_INPUT, DEL, c + G, c + 4 * G);
	RMI_FAIL(m, RMI_ERROR_INPUT, DEL, c + 2 * G, c + 4 * G);
	assert_int_equal(RMI(m, DEL, &o, c + 3 * G, c + 4 * G), RMI_SUCCESS);
	assert_int_equal(pas(m, c + 3 * G), RK_PAS_REALM);
	/* undelegate a range spanning the carve-out: stops at it */
	assert_int_equal(RMI(m, UNDEL, &o, c - 2 * G, c + 4 * G), RMI_SUCCESS);
	assert_int_equal(o.x[1], c);
	assert_int_equal(RMI(m, UNDEL, &o, c + 3 * G, c + 4 * G), RMI_SUCCESS);
	t_check_gpt_consistent(m, NULL);
	assert_int_equal(pas(m, c + G), RK_PAS_SECURE);
	t_assert_all_undelegated(m);
	rk_machine_destroy(m);
}

static void test_large_ranges(void **state)
{
	struct rk_machine *m = t_machine(128);
	const uint64_t a = T_DRAM_BASE, n = (120 * MIB) / G;
	uint64_t counts[GRANULE_STATE_COUNT];

	(void)state;
	t_delegate(m, a, n); /* loops on x1, asserting progress */
	t_check_gpt_consistent(m, counts);
	assert_int_equal(counts[GRANULE_STATE_DELEGATED], n);
	t_undelegate(m, a, n);
	t_assert_all_undelegated(m);
	rk_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delegate_undelegate), cmocka_unit_test(test_undelegate_scrubs),
		cmocka_unit_test(test_input_errors),        cmocka_unit_test(test_partial_progress),
		cmocka_unit_test(test_wrong_state),         cmocka_unit_test(test_carveouts),
		cmocka_unit_test(test_large_ranges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
