/* SPDX-License-Identifier: MIT */
/*
 * RTT commands against the 2.0-bet1 digest (§7, §8.1, §12.4, §13):
 * RTT_CREATE (copy and unfold of the parent entry), RTT_DESTROY (skip
 * address in x2), RTT_FOLD (every homogeneous kind, refusals, the minimum
 * block level), RTT_READ_ENTRY (every entry kind) and RTT_INIT_RIPAS, each
 * failure condition with its status and index, in the digest's order, and
 * each failure checked to change nothing.
 *
 * The realm used by most tests: s2sz 40, start level 1, 2 root RTTs; the
 * protected half is [0, 512 GiB), the unprotected half [512 GiB, 1 TiB).
 */
#include <string.h>

#include "machine.h"
#include "rk_test.h"
#include "rmm/realm.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)
#define L2SZ (2 * MIB)
#define U (1ULL << 39) /* first unprotected IPA */

#define CREATE RMI_FID_RTT_CREATE
#define DESTROY RMI_FID_RTT_DESTROY
#define FOLD RMI_FID_RTT_FOLD
#define READ RMI_FID_RTT_READ_ENTRY
#define INIT_RIPAS RMI_FID_RTT_INIT_RIPAS

static struct rk_machine *m;
static struct t_pool pool;
static uint64_t rd;

static int setup(void **state)
{
	(void)state;
	m = t_machine(128);
	t_pool_init(&pool, T_DRAM_BASE + MIB, (120 * MIB) / G);
	rd = t_realm_new(m, &pool, 40, 1, 2, RMI_HASH_SHA_256);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	t_check_realm(m, rd, NULL, NULL);
	t_check_gpt_consistent(m, NULL);
	t_teardown_all(m);
	rk_machine_destroy(m);
	return 0;
}

static uint64_t del(uint64_t n, uint64_t align)
{
	return t_pool_delegated(m, &pool, n, align);
}

/* A new delegated granule, made an RTT at (ipa, level). */
static uint64_t rtt(uint64_t ipa, int level)
{
	uint64_t pa = del(1, 0);

	t_rtt_create(m, rd, pa, ipa, level);
	return pa;
}

static void read_entry(uint64_t ipa, int level, struct rmi_out *o)
{
	assert_int_equal(RMI(m, READ, o, rd, ipa, level), RMI_SUCCESS);
}

/* READ_ENTRY at (ipa, level) must report exactly this. */
static void expect_entry(uint64_t ipa, int level, uint64_t st, uint64_t desc, uint64_t ripas)
{
	struct rmi_out o;

	read_entry(ipa, level, &o);
	if (o.x[1] != (uint64_t)level || o.x[2] != st || o.x[3] != desc || o.x[4] != ripas) {
		print_error("entry 0x%llx L%d: level %llu state %llu desc 0x%llx ripas %llu; expected "
			    "state %llu desc 0x%llx ripas %llu\n",
			    (unsigned long long)ipa, level, (unsigned long long)o.x[1],
			    (unsigned long long)o.x[2], (unsigned long long)o.x[3],
			    (unsigned long long)o.x[4], (unsigned long long)st, (unsigned long long)desc,
			    (unsigned long long)ripas);
		fail();
	}
}

/* Every entry of the table covering [base, base + 512 entries) at level is this. */
static void expect_table(uint64_t base, int level, uint64_t st, uint64_t desc0, uint64_t desc_step,
			 uint64_t ripas, int kind)
{
	uint64_t esz = s2_level_size(level);

	for (unsigned int i = 0; i < S2_ENTRIES; i++) {
		assert_int_equal(t_entry_kind(m, rd, base + i * esz, level), kind);
		if (i % 37 == 0 || i == S2_ENTRIES - 1)
			expect_entry(base + i * esz, level, st, desc0 + i * desc_step, ripas);
	}
}

static uint64_t data_map(uint64_t base, uint64_t top, uint64_t desc)
{
	struct rmi_out o;

	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_MAP, &o, rd, base, top, RMI_ADDR_TYPE_SINGLE, desc),
			 RMI_SUCCESS);
	return o.x[1];
}

static void init_ripas(uint64_t base, uint64_t top)
{
	struct rmi_out o;

	for (uint64_t a = base; a < top; a = o.x[1])
		assert_int_equal(RMI(m, INIT_RIPAS, &o, rd, a, top), RMI_SUCCESS);
}

/* descriptor bits for flags MemAttr and S2AP (direct: flag bit 0 W -> desc bit 7, bit 1 R -> desc bit 6) */
#define NSATTR(memattr, s2ap) \
	(((uint64_t)(memattr) << 2) | ((uint64_t)(((s2ap) >> 1) & 1) << 6) | ((uint64_t)((s2ap)&1) << 7))

/* ---- RTT_CREATE ---- */

static void test_create_copies_parent(void **state)
{
	struct rmi_out o;

	(void)state;
	uint64_t root0 = t_rd(m, rd)->s2.rtt_base;
	uint64_t l2 = rtt(0, 2);
	assert_int_equal(t_gstate(m, l2), GRANULE_STATE_RTT);
	expect_entry(0, 1, RMI_RTTE_TABLE, l2, 0);
	assert_int_equal(t_refcount(m, root0), 1);
	assert_int_equal(t_refcount(m, l2), 0);
	expect_table(0, 2, RMI_RTTE_UNASSIGNED, 0, 0, RMI_RIPAS_EMPTY, S2TTE_UNASSIGNED);
	uint64_t l3 = rtt(0, 3);
	assert_int_equal(t_refcount(m, l2), 1);
	expect_table(0, 3, RMI_RTTE_UNASSIGNED, 0, 0, RMI_RIPAS_EMPTY, S2TTE_UNASSIGNED);
	(void)l3;

	/* RAM parent: 512 RAM children */
	init_ripas(GIB, 2 * GIB);
	expect_entry(GIB, 1, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_RAM);
	rtt(GIB, 2);
	expect_table(GIB, 2, RMI_RTTE_UNASSIGNED, 0, 0, RMI_RIPAS_RAM, S2TTE_UNASSIGNED);
	rtt(GIB + 5 * L2SZ, 3);
	expect_table(GIB + 5 * L2SZ, 3, RMI_RTTE_UNASSIGNED, 0, 0, RMI_RIPAS_RAM, S2TTE_UNASSIGNED);

	/* DESTROYED parent: 512 DESTROYED children */
	rtt(2 * GIB, 2);
	assert_int_equal(RMI(m, DESTROY, &o, rd, 2 * GIB, 2), RMI_SUCCESS);
	expect_entry(2 * GIB, 1, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_DESTROYED);
	rtt(2 * GIB, 2);
	expect_table(2 * GIB, 2, RMI_RTTE_UNASSIGNED, 0, 0, RMI_RIPAS_DESTROYED, S2TTE_UNASSIGNED);

	/* unprotected: UNASSIGNED_NS children */
	rtt(U, 2);
	expect_table(U, 2, RMI_RTTE_UNASSIGNED, 0, 0, RMI_RIPAS_EMPTY, S2TTE_UNASSIGNED_NS);
	rtt(U + 7 * L2SZ, 3);
	expect_table(U + 7 * L2SZ, 3, RMI_RTTE_UNASSIGNED, 0, 0, RMI_RIPAS_EMPTY, S2TTE_UNASSIGNED_NS);
	rtt((1ULL << 40) - GIB, 2); /* last entry of the IPA space */

	/* any realm state */
	assert_int_equal(RMI(m, RMI_FID_REALM_ACTIVATE, NULL, rd), RMI_SUCCESS);
	rtt(3 * GIB, 2);
	assert_int_equal(RMI(m, RMI_FID_REALM_TERMINATE, NULL, rd), RMI_SUCCESS);
	rtt(3 * GIB, 3);
	t_check_realm(m, rd, NULL, NULL);
}

static void test_create_unfolds(void **state)
{
	(void)state;
	rtt(0, 2);
	/* an ASSIGNED EMPTY 2 MiB block */
	uint64_t blk = del(512, L2SZ);
	assert_int_equal(data_map(L2SZ, 2 * L2SZ, t_desc(blk, 2, 1)), 2 * L2SZ);
	expect_entry(L2SZ, 2, RMI_RTTE_ASSIGNED, blk, RMI_RIPAS_EMPTY);
	uint64_t l2 = t_raw_entry(m, rd, 0, 1, NULL) & S2_DESC_OA_MASK;
	assert_int_equal(t_refcount(m, l2), 1);
	uint64_t l3 = rtt(L2SZ, 3);
	assert_int_equal(t_refcount(m, l2), 1);   /* live before, live after */
	assert_int_equal(t_refcount(m, l3), 512); /* 512 live pages */
	expect_table(L2SZ, 3, RMI_RTTE_ASSIGNED, blk, G, RMI_RIPAS_EMPTY, S2TTE_ASSIGNED);
	for (uint64_t i = 0; i < 512; i++)
		assert_int_equal(t_gstate(m, blk + i * G), GRANULE_STATE_DATA);

	/* an ASSIGNED RAM block: valid pages */
	uint64_t blk2 = del(512, L2SZ);
	init_ripas(2 * L2SZ, 3 * L2SZ);
	assert_int_equal(data_map(2 * L2SZ, 3 * L2SZ, t_desc(blk2, 2, 1)), 3 * L2SZ);
	expect_entry(2 * L2SZ, 2, RMI_RTTE_ASSIGNED, blk2, RMI_RIPAS_RAM);
	uint64_t l3b = rtt(2 * L2SZ, 3);
	expect_table(2 * L2SZ, 3, RMI_RTTE_ASSIGNED, blk2, G, RMI_RIPAS_RAM, S2TTE_ASSIGNED);
	assert_true(t_raw_entry(m, rd, 2 * L2SZ + 9 * G, 3, NULL) & S2_DESC_VALID);
	/* round trip: folding gives the block back */
	struct rmi_out o;
	assert_int_equal(RMI(m, FOLD, &o, rd, 2 * L2SZ, 3), RMI_SUCCESS);
	assert_int_equal(o.x[1], l3b);
	expect_entry(2 * L2SZ, 2, RMI_RTTE_ASSIGNED, blk2, RMI_RIPAS_RAM);

	/* ASSIGNED_NS blocks: 2 MiB, and 1 GiB at the root level */
	uint64_t npa = 0x40000000ULL; /* NS memory need not be DRAM (e.g. MMIO) */
	rtt(U, 2);
	assert_int_equal(RMI(m, RMI_FID_RTT_UNPROT_MAP, &o, rd, U, U + L2SZ,
			     t_unprot_flags(RMI_ADDR_TYPE_SINGLE, 5, 1), t_desc(npa, 2, 1)),
			 RMI_SUCCESS);
	expect_entry(U, 2, RMI_RTTE_ASSIGNED, npa | NSATTR(5, 1), 0);
	rtt(U, 3);
	expect_table(U, 3, RMI_RTTE_ASSIGNED, npa | NSATTR(5, 1), G, 0, S2TTE_ASSIGNED_NS);
	assert_int_equal(RMI(m, RMI_FID_RTT_UNPROT_MAP, &o, rd, U + GIB, U + 2 * GIB,
			     t_unprot_flags(RMI_ADDR_TYPE_SINGLE, 6, 3), t_desc(GIB, 1, 1)),
			 RMI_SUCCESS);
	expect_entry(U + GIB, 1, RMI_RTTE_ASSIGNED, GIB | NSATTR(6, 3), 0);
	uint64_t nl2 = rtt(U + GIB, 2);
	assert_int_equal(t_refcount(m, nl2), 512);
	expect_table(U + GIB, 2, RMI_RTTE_ASSIGNED, GIB | NSATTR(6, 3), L2SZ, 0, S2TTE_ASSIGNED_NS);
	assert_int_equal(RMI(m, FOLD, &o, rd, U + GIB, 2), RMI_SUCCESS);
	assert_int_equal(o.x[1], nl2);
	expect_entry(U + GIB, 1, RMI_RTTE_ASSIGNED, GIB | NSATTR(6, 3), 0);
	/* an unfolded ASSIGNED DESTROYED block keeps DESTROYED */
	uint64_t blk3 = del(512, L2SZ);
	rtt(4 * L2SZ, 3);
	assert_int_equal(RMI(m, DESTROY, &o, rd, 4 * L2SZ, 3), RMI_SUCCESS);
	assert_int_equal(data_map(4 * L2SZ, 5 * L2SZ, t_desc(blk3, 2, 1)), 5 * L2SZ);
	expect_entry(4 * L2SZ, 2, RMI_RTTE_ASSIGNED, blk3, RMI_RIPAS_DESTROYED);
	rtt(4 * L2SZ, 3);
	expect_table(4 * L2SZ, 3, RMI_RTTE_ASSIGNED, blk3, G, RMI_RIPAS_DESTROYED, S2TTE_ASSIGNED);
}

static void test_create_errors(void **state)
{
	(void)state;
	uint64_t l2 = rtt(0, 2);
	uint64_t r = del(1, 0), ns = t_pool_get(&pool, 1, 0);
	uint64_t data = del(1, 0);
	rtt(0, 3);
	assert_int_equal(data_map(0, G, t_desc(data, 3, 1)), G);

	/* 1: the RTT granule and the RD */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, rd, ns, GIB, 2);       /* NS */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, rd, l2, GIB, 2);       /* already an RTT */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, rd, data, GIB, 2);     /* DATA */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, rd, rd, GIB, 2);       /* the RD */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, rd, r + 8, GIB, 2);    /* unaligned */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, rd, 0x1000, GIB, 2);   /* not DRAM */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, r, r, GIB, 2);         /* rd == rtt */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, r, del(1, 0), GIB, 2); /* rd DELEGATED */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, ns, r, GIB, 2);        /* rd NS */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, l2, r, GIB, 2);        /* rd an RTT */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, rd + 8, r, GIB, 2);
	/* 2: level and ipa */
	static const uint64_t bad_level[] = { 0, 1, 4, 5, ~0ULL, 1ULL << 32 };
	for (size_t i = 0; i < sizeof(bad_level) / sizeof(bad_level[0]); i++)
		RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, rd, r, 0, bad_level[i]);
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, rd, r, GIB + L2SZ, 2); /* not 1 GiB aligned */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, rd, r, L2SZ + G, 3);   /* not 2 MiB aligned */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, rd, r, 1ULL << 40, 2); /* outside the IPA space */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, rd, r, ~0ULL << 30, 2);
	/* 4: the walk stops before level - 1 */
	RMI_FAIL(m, T_RTT(1), CREATE, rd, r, GIB, 3);
	RMI_FAIL(m, T_RTT(1), CREATE, rd, r, U + 4 * L2SZ, 3);
	/* 5: the parent entry is already a table */
	RMI_FAIL(m, T_RTT(1), CREATE, rd, r, 0, 2);
	RMI_FAIL(m, T_RTT(2), CREATE, rd, r, 0, 3);
	/* priorities: 1 before 2 before 4/5 */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, rd, ns, GIB, 3);    /* NS and walk error */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, rd, l2, 0, 2);      /* RTT and parent TABLE */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, rd, ns, 0, 9);      /* NS and bad level */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, rd, r, GIB + G, 3); /* unaligned and walk error */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, rd, r, G, 3);       /* unaligned and parent TABLE */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, rd, r, 0, 1);       /* bad level and parent TABLE */
	/* and it still works */
	t_rtt_create(m, rd, r, GIB, 2);
}

/* RTT PA >= 2^48 without LPA2 (condition 3): a DRAM bank above 2^48. */
static void test_create_high_pa(void **state)
{
	struct rk_machine_config cfg;
	struct rk_machine *mh;
	struct t_pool lo;
	const uint64_t hi = 1ULL << 48;

	(void)state;
	rk_machine_config_default(&cfg);
	cfg.pa_bits = 52;
	cfg.nbanks = 2;
	cfg.banks[0] = (struct rk_dram_bank){ T_DRAM_BASE, 32 * MIB };
	cfg.banks[1] = (struct rk_dram_bank){ hi, 16 * MIB };
	mh = t_machine_cfg(&cfg, true);
	t_pool_init(&lo, T_DRAM_BASE, 1024);
	uint64_t r = t_realm_new(mh, &lo, 40, 1, 2, RMI_HASH_SHA_256);
	t_delegate(mh, hi, 4);
	RMI_FAIL(mh, RMI_ERROR_INPUT, CREATE, r, hi, 0, 2);
	RMI_FAIL(mh, RMI_ERROR_INPUT, CREATE, r, hi + G, 0, 3); /* and a walk error: 3 first */
	/* a realm's RD may live above 2^48: only RTTs are named in descriptors */
	t_teardown_all(mh);
	rk_machine_destroy(mh);
}

/* ---- RTT_DESTROY ---- */

static void test_destroy(void **state)
{
	struct rmi_out o;

	(void)state;
	uint64_t root0 = t_rd(m, rd)->s2.rtt_base;
	uint64_t l2a = rtt(0, 2), l2b = rtt(3 * GIB, 2), l3 = rtt(0, 3);
	assert_int_equal(t_refcount(m, root0), 2);

	/* 1-2: inputs; x2 = 0 */
	RMI_FAIL_OUT(m, RMI_ERROR_INPUT, &o, DESTROY, l2a, 0, 3); /* rd is an RTT */
	assert_int_equal(o.x[2], 0);
	RMI_FAIL_OUT(m, RMI_ERROR_INPUT, &o, DESTROY, rd + 8, 0, 3);
	assert_int_equal(o.x[2], 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, DESTROY, rd, 0, 1);
	RMI_FAIL(m, RMI_ERROR_INPUT, DESTROY, rd, 0, 4);
	RMI_FAIL(m, RMI_ERROR_INPUT, DESTROY, rd, 0, ~0ULL);
	RMI_FAIL(m, RMI_ERROR_INPUT, DESTROY, rd, G, 3);
	RMI_FAIL(m, RMI_ERROR_INPUT, DESTROY, rd, L2SZ, 2);
	RMI_FAIL(m, RMI_ERROR_INPUT, DESTROY, rd, 1ULL << 40, 2);
	RMI_FAIL(m, RMI_ERROR_INPUT, DESTROY, rd, GIB + G, 3); /* unaligned and walk error */
	/* 3: the walk stops early, or the parent is not a table: x2 = the skip address */
	RMI_FAIL_OUT(m, T_RTT(1), &o, DESTROY, rd, GIB, 3);
	assert_int_equal(o.x[2], 3 * GIB); /* next live root entry */
	RMI_FAIL_OUT(m, T_RTT(1), &o, DESTROY, rd, GIB, 2);
	assert_int_equal(o.x[2], 3 * GIB);
	RMI_FAIL_OUT(m, T_RTT(2), &o, DESTROY, rd, L2SZ, 3);
	assert_int_equal(o.x[2], GIB); /* end of the L2 table */
	RMI_FAIL_OUT(m, T_RTT(1), &o, DESTROY, rd, 4 * GIB, 2);
	assert_int_equal(o.x[2], U); /* end of root 0 */
	RMI_FAIL_OUT(m, T_RTT(1), &o, DESTROY, rd, U + GIB, 2);
	assert_int_equal(o.x[2], 1ULL << 40);
	/* a live parent that is not a table: x2 = ipa */
	uint64_t blk = del(512, L2SZ);
	assert_int_equal(data_map(2 * L2SZ, 3 * L2SZ, t_desc(blk, 2, 1)), 3 * L2SZ);
	RMI_FAIL_OUT(m, T_RTT(2), &o, DESTROY, rd, 2 * L2SZ, 3);
	assert_int_equal(o.x[2], 2 * L2SZ);
	/* 4: a live RTT: x2 = ipa */
	uint64_t d = del(1, 0);
	assert_int_equal(data_map(5 * G, 6 * G, t_desc(d, 3, 1)), 6 * G);
	RMI_FAIL_OUT(m, T_RTT(3), &o, DESTROY, rd, 0, 3);
	assert_int_equal(o.x[2], 0);
	RMI_FAIL_OUT(m, T_RTT(2), &o, DESTROY, rd, 0, 2); /* has a TABLE and a block */
	assert_int_equal(o.x[2], 0);
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_UNMAP, &o, rd, 0, L2SZ, 0, 0), RMI_SUCCESS);

	/* success: x1 = the RTT, x2 = the skip address; parent entry DESTROYED */
	assert_int_equal(RMI(m, DESTROY, &o, rd, 0, 3), RMI_SUCCESS);
	assert_int_equal(o.x[1], l3);
	assert_int_equal(o.x[2], 2 * L2SZ); /* entry 1 non-live, entry 2 the block */
	assert_int_equal(t_gstate(m, l3), GRANULE_STATE_DELEGATED);
	assert_true(t_gzero(m, l3));
	expect_entry(0, 2, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_DESTROYED);
	assert_int_equal(t_refcount(m, l2a), 1);
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_UNMAP, &o, rd, 2 * L2SZ, 3 * L2SZ, 0, 0), RMI_SUCCESS);
	assert_int_equal(RMI(m, DESTROY, &o, rd, 0, 2), RMI_SUCCESS);
	assert_int_equal(o.x[1], l2a);
	assert_int_equal(o.x[2], 3 * GIB);
	expect_entry(0, 1, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_DESTROYED);
	assert_int_equal(t_refcount(m, root0), 1);
	assert_int_equal(RMI(m, DESTROY, &o, rd, 3 * GIB, 2), RMI_SUCCESS);
	assert_int_equal(o.x[1], l2b);
	assert_int_equal(o.x[2], U);
	assert_int_equal(t_refcount(m, root0), 0);
	/* unprotected: the parent becomes UNASSIGNED_NS; realm in any state */
	assert_int_equal(RMI(m, RMI_FID_REALM_TERMINATE, NULL, rd), RMI_SUCCESS);
	uint64_t nl2 = rtt(U + 2 * GIB, 2);
	assert_int_equal(RMI(m, DESTROY, &o, rd, U + 2 * GIB, 2), RMI_SUCCESS);
	assert_int_equal(o.x[1], nl2);
	assert_int_equal(o.x[2], 1ULL << 40);
	assert_int_equal(t_entry_kind(m, rd, U + 2 * GIB, 1), S2TTE_UNASSIGNED_NS);
	expect_entry(U + 2 * GIB, 1, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_EMPTY);
}

/*
 * RTT_DESTROY of unprotected RTTs that still hold ASSIGNED_NS entries
 * (docs/abi-coverage.md, RTT_DESTROY): as in TF-RMM, whose RTT refcount
 * counts no NS mapping, such an RTT is destroyed and its NS mappings go with
 * it; an unprotected RTT that holds a TABLE is still live.
 */
static void test_destroy_ns_mappings(void **state)
{
	const uint64_t npa = 0x40000000ULL; /* NS memory need not be DRAM */
	const uint64_t flags = t_unprot_flags(RMI_ADDR_TYPE_SINGLE, 6, 3);
	uint64_t root1 = t_rd(m, rd)->s2.rtt_base + G; /* the unprotected half */
	struct rmi_out o;

	(void)state;
	uint64_t l2 = rtt(U, 2), l3 = rtt(U, 3);
	assert_int_equal(t_refcount(m, root1), 1);
	/* three NS pages at U + 4 KiB .. U + 16 KiB */
	assert_int_equal(RMI(m, RMI_FID_RTT_UNPROT_MAP, &o, rd, U + G, U + 4 * G, flags, t_desc(npa, 3, 3)),
			 RMI_SUCCESS);
	assert_int_equal(t_refcount(m, l3), 3);
	/* the level-2 RTT holds a TABLE: live, x2 = ipa, nothing changes */
	RMI_FAIL_OUT(m, T_RTT(2), &o, DESTROY, rd, U, 2);
	assert_int_equal(o.x[2], U);
	/* the level-3 RTT holds only NS mappings: destroyed with them */
	assert_int_equal(RMI(m, DESTROY, &o, rd, U, 3), RMI_SUCCESS);
	assert_int_equal(o.x[1], l3);
	assert_int_equal(o.x[2], U + GIB); /* nothing live after it in the level-2 RTT */
	assert_int_equal(t_gstate(m, l3), GRANULE_STATE_DELEGATED);
	assert_int_equal(t_refcount(m, l3), 0);
	assert_true(t_gzero(m, l3));
	assert_int_equal(t_entry_kind(m, rd, U, 2), S2TTE_UNASSIGNED_NS);
	expect_entry(U, 2, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_EMPTY);
	read_entry(U + 2 * G, 3, &o); /* a page that was mapped: the walk stops at level 2 */
	assert_int_equal(o.x[1], 2);
	assert_int_equal(o.x[2], RMI_RTTE_UNASSIGNED);
	assert_int_equal(t_refcount(m, l2), 0);

	/* a level-2 RTT of NS 2 MiB blocks */
	assert_int_equal(
		RMI(m, RMI_FID_RTT_UNPROT_MAP, &o, rd, U + L2SZ, U + 3 * L2SZ, flags, t_desc(npa, 2, 2)),
		RMI_SUCCESS);
	assert_int_equal(t_refcount(m, l2), 2);
	assert_int_equal(RMI(m, DESTROY, &o, rd, U, 2), RMI_SUCCESS);
	assert_int_equal(o.x[1], l2);
	assert_int_equal(t_entry_kind(m, rd, U, 1), S2TTE_UNASSIGNED_NS);
	assert_int_equal(t_refcount(m, root1), 0);

	/* an RTT made by unfolding an NS block: 512 live entries, destroyed all the same */
	rtt(U + GIB, 2);
	assert_int_equal(
		RMI(m, RMI_FID_RTT_UNPROT_MAP, &o, rd, U + GIB, U + GIB + L2SZ, flags, t_desc(npa, 2, 1)),
		RMI_SUCCESS);
	uint64_t ul3 = rtt(U + GIB, 3);
	assert_int_equal(t_refcount(m, ul3), 512);
	assert_int_equal(RMI(m, DESTROY, &o, rd, U + GIB, 3), RMI_SUCCESS);
	assert_int_equal(o.x[1], ul3);
	assert_int_equal(t_refcount(m, ul3), 0);
	assert_int_equal(t_entry_kind(m, rd, U + GIB, 2), S2TTE_UNASSIGNED_NS);

	/* protected RTTs: an ASSIGNED entry still keeps the RTT live */
	rtt(0, 2);
	uint64_t pl3 = rtt(0, 3), d = del(1, 0);
	assert_int_equal(data_map(0, G, t_desc(d, 3, 1)), G);
	RMI_FAIL_OUT(m, T_RTT(3), &o, DESTROY, rd, 0, 3);
	assert_int_equal(o.x[2], 0);
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_UNMAP, &o, rd, 0, G, 0, 0), RMI_SUCCESS);
	assert_int_equal(RMI(m, DESTROY, &o, rd, 0, 3), RMI_SUCCESS);
	assert_int_equal(o.x[1], pl3);
}

/* ---- RTT_FOLD ---- */

static void test_fold_unassigned(void **state)
{
	struct rmi_out o;

	(void)state;
	uint64_t l2 = rtt(0, 2);
	/* EMPTY */
	uint64_t l3 = rtt(0, 3);
	assert_int_equal(t_refcount(m, l2), 1);
	assert_int_equal(RMI(m, FOLD, &o, rd, 0, 3), RMI_SUCCESS);
	assert_int_equal(o.x[1], l3);
	assert_int_equal(t_gstate(m, l3), GRANULE_STATE_DELEGATED);
	assert_true(t_gzero(m, l3));
	assert_int_equal(t_refcount(m, l2), 0);
	expect_entry(0, 2, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_EMPTY);
	/* RAM */
	l3 = rtt(L2SZ, 3);
	init_ripas(L2SZ, 2 * L2SZ);
	assert_int_equal(RMI(m, FOLD, &o, rd, L2SZ, 3), RMI_SUCCESS);
	assert_int_equal(o.x[1], l3);
	expect_entry(L2SZ, 2, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_RAM);
	/* DESTROYED */
	rtt(2 * L2SZ, 3);
	assert_int_equal(RMI(m, DESTROY, &o, rd, 2 * L2SZ, 3), RMI_SUCCESS);
	l3 = rtt(2 * L2SZ, 3);
	assert_int_equal(RMI(m, FOLD, &o, rd, 2 * L2SZ, 3), RMI_SUCCESS);
	assert_int_equal(o.x[1], l3);
	expect_entry(2 * L2SZ, 2, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_DESTROYED);
	/* NS */
	rtt(U, 2);
	l3 = rtt(U + L2SZ, 3);
	assert_int_equal(RMI(m, FOLD, &o, rd, U + L2SZ, 3), RMI_SUCCESS);
	assert_int_equal(o.x[1], l3);
	assert_int_equal(t_entry_kind(m, rd, U + L2SZ, 2), S2TTE_UNASSIGNED_NS);
	/* a level-2 table into a root entry */
	uint64_t root0 = t_rd(m, rd)->s2.rtt_base;
	uint64_t l2b = rtt(GIB, 2);
	init_ripas(GIB, 2 * GIB);
	assert_int_equal(t_refcount(m, root0), 2);
	assert_int_equal(RMI(m, FOLD, &o, rd, GIB, 2), RMI_SUCCESS);
	assert_int_equal(o.x[1], l2b);
	assert_int_equal(t_refcount(m, root0), 1);
	expect_entry(GIB, 1, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_RAM);
}

/* 512 contiguous pages fold into a 2 MiB block; 512 2 MiB blocks into 1 GiB (NS). */
static void test_fold_assigned(void **state)
{
	struct rmi_out o;

	(void)state;
	uint64_t l2 = rtt(0, 2);
	/* DATA_MAP of 512 contiguous pages (EMPTY) */
	uint64_t pages = del(512, L2SZ);
	uint64_t l3 = rtt(0, 3);
	assert_int_equal(data_map(0, L2SZ, t_desc(pages, 3, 512)), L2SZ);
	assert_int_equal(t_refcount(m, l3), 512);
	assert_int_equal(RMI(m, FOLD, &o, rd, 0, 3), RMI_SUCCESS);
	assert_int_equal(o.x[1], l3);
	assert_int_equal(t_gstate(m, l3), GRANULE_STATE_DELEGATED);
	assert_true(t_gzero(m, l3));
	assert_int_equal(t_refcount(m, l2), 1);
	expect_entry(0, 2, RMI_RTTE_ASSIGNED, pages, RMI_RIPAS_EMPTY);
	for (uint64_t i = 0; i < 512; i++)
		assert_int_equal(t_gstate(m, pages + i * G), GRANULE_STATE_DATA);
	/* the block unmaps as one */
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_UNMAP, &o, rd, 0, L2SZ, RMI_ADDR_TYPE_SINGLE, 0),
			 RMI_SUCCESS);
	assert_int_equal(o.x[1], L2SZ);
	assert_int_equal(o.x[2], t_desc(pages, 2, 1));
	assert_int_equal(t_gstate(m, pages + 511 * G), GRANULE_STATE_DELEGATED);

	/* RAM pages from DATA_MAP_INIT (measured) fold into a valid RAM block */
	uint64_t src = t_pool_get(&pool, 1, 0);
	uint64_t pages2 = del(512, L2SZ);
	rtt(L2SZ, 3);
	for (uint64_t i = 0; i < 512; i++)
		assert_int_equal(
			RMI(m, RMI_FID_RTT_DATA_MAP_INIT, NULL, rd, pages2 + i * G, L2SZ + i * G, src, 0),
			RMI_SUCCESS);
	assert_int_equal(RMI(m, FOLD, &o, rd, L2SZ, 3), RMI_SUCCESS);
	expect_entry(L2SZ, 2, RMI_RTTE_ASSIGNED, pages2, RMI_RIPAS_RAM);
	uint64_t e = t_raw_entry(m, rd, L2SZ, 2, NULL);
	assert_true(e & S2_DESC_VALID);
	assert_int_equal(e & S2_DESC_TYPE_MASK, S2_DESC_TYPE_BLOCK);

	/* NS pages fold into an ASSIGNED_NS block with the same attributes */
	rtt(U, 2);
	rtt(U, 3);
	assert_int_equal(RMI(m, RMI_FID_RTT_UNPROT_MAP, &o, rd, U, U + L2SZ,
			     t_unprot_flags(RMI_ADDR_TYPE_SINGLE, 6, 2), t_desc(0x7fe00000ULL, 3, 512)),
			 RMI_SUCCESS);
	assert_int_equal(o.x[1], U + L2SZ);
	assert_int_equal(RMI(m, FOLD, &o, rd, U, 3), RMI_SUCCESS);
	expect_entry(U, 2, RMI_RTTE_ASSIGNED, 0x7fe00000ULL | NSATTR(6, 2), 0);
	/* 512 NS 2 MiB blocks fold into a 1 GiB block at the root level */
	uint64_t nl2 = rtt(U + GIB, 2);
	assert_int_equal(RMI(m, RMI_FID_RTT_UNPROT_MAP, &o, rd, U + GIB, U + 2 * GIB,
			     t_unprot_flags(RMI_ADDR_TYPE_SINGLE, 6, 3), t_desc(4 * GIB, 2, 512)),
			 RMI_SUCCESS);
	assert_int_equal(o.x[1], U + 2 * GIB);
	assert_int_equal(RMI(m, FOLD, &o, rd, U + GIB, 2), RMI_SUCCESS);
	assert_int_equal(o.x[1], nl2);
	expect_entry(U + GIB, 1, RMI_RTTE_ASSIGNED, (4 * GIB) | NSATTR(6, 3), 0);
	t_check_realm(m, rd, NULL, NULL);
}

/* 512 DATA 2 MiB blocks fold into a 1 GiB DATA block (1 GiB of delegated DRAM). */
static void test_fold_assigned_1g(void **state)
{
	struct rk_machine *mm;
	struct t_pool p;
	struct rmi_out o;
	uint64_t r, l2, blk = T_DRAM_BASE + GIB;

	(void)state;
	mm = t_machine(2048);
	t_pool_init(&p, T_DRAM_BASE, 1024);
	r = t_realm_new(mm, &p, 40, 1, 2, RMI_HASH_SHA_256);
	l2 = t_pool_delegated(mm, &p, 1, 0);
	t_rtt_create(mm, r, l2, GIB, 2);
	t_delegate(mm, blk, GIB / G);
	assert_int_equal(
		RMI(mm, RMI_FID_RTT_DATA_MAP, &o, r, GIB, 2 * GIB, RMI_ADDR_TYPE_SINGLE, t_desc(blk, 2, 512)),
		RMI_SUCCESS);
	assert_int_equal(o.x[1], 2 * GIB);
	assert_int_equal(RMI(mm, FOLD, &o, r, GIB, 2), RMI_SUCCESS);
	assert_int_equal(o.x[1], l2);
	assert_int_equal(RMI(mm, READ, &o, r, GIB, 1), RMI_SUCCESS);
	assert_int_equal(o.x[2], RMI_RTTE_ASSIGNED);
	assert_int_equal(o.x[3], blk);
	uint64_t nd = 0;
	t_check_realm(mm, r, NULL, &nd);
	assert_int_equal(nd, GIB / G);
	assert_int_equal(RMI(mm, RMI_FID_RTT_DATA_UNMAP, &o, r, GIB, 2 * GIB, RMI_ADDR_TYPE_SINGLE, 0),
			 RMI_SUCCESS);
	assert_int_equal(o.x[2], t_desc(blk, 1, 1));
	t_teardown_all(mm);
	rk_machine_destroy(mm);
}

static void test_fold_refused(void **state)
{
	struct rmi_out o;

	(void)state;
	rtt(0, 2);
	/* 511 assigned pages and one unassigned */
	uint64_t pages = del(512, L2SZ);
	rtt(0, 3);
	assert_int_equal(data_map(0, L2SZ, t_desc(pages, 3, 511)), L2SZ - G);
	RMI_FAIL(m, T_RTT(3), FOLD, rd, 0, 3);
	/* 512 pages, not contiguous: swap the last */
	uint64_t extra = del(1, 0);
	assert_int_equal(data_map(L2SZ - G, L2SZ, t_desc(extra, 3, 1)), L2SZ);
	RMI_FAIL(m, T_RTT(3), FOLD, rd, 0, 3);
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_UNMAP, &o, rd, 0, L2SZ, 0, 0), RMI_SUCCESS);
	/* unassigned with mixed RIPAS: EMPTY, and one DESTROYED (RAM page unmapped) */
	uint64_t src = t_pool_get(&pool, 1, 0);
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_MAP_INIT, NULL, rd, extra, 7 * G, src, 0), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_UNMAP, &o, rd, 7 * G, 8 * G, 0, 0), RMI_SUCCESS);
	expect_entry(7 * G, 3, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_DESTROYED);
	expect_entry(8 * G, 3, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_EMPTY);
	RMI_FAIL(m, T_RTT(3), FOLD, rd, 0, 3);
	/* contiguous but not aligned to 2 MiB */
	rtt(L2SZ, 3);
	uint64_t mis = del(513, L2SZ) + G;
	assert_int_equal(data_map(L2SZ, 2 * L2SZ, t_desc(mis, 3, 512)), 2 * L2SZ);
	RMI_FAIL(m, T_RTT(3), FOLD, rd, L2SZ, 3);
	/* contiguous and aligned, mixed RIPAS (half RAM) */
	rtt(2 * L2SZ, 3);
	uint64_t al = del(512, L2SZ);
	assert_int_equal(data_map(2 * L2SZ, 3 * L2SZ, t_desc(al, 3, 512)), 3 * L2SZ);
	init_ripas(2 * L2SZ, 2 * L2SZ + MIB);
	RMI_FAIL(m, T_RTT(3), FOLD, rd, 2 * L2SZ, 3);
	/* unassigned, mixed RIPAS (half RAM) */
	rtt(3 * L2SZ, 3);
	init_ripas(3 * L2SZ, 3 * L2SZ + MIB);
	RMI_FAIL(m, T_RTT(3), FOLD, rd, 3 * L2SZ, 3);
	/* NS pages with different attributes */
	rtt(U, 2);
	rtt(U, 3);
	assert_int_equal(RMI(m, RMI_FID_RTT_UNPROT_MAP, &o, rd, U, U + MIB,
			     t_unprot_flags(RMI_ADDR_TYPE_SINGLE, 6, 3), t_desc(0, 3, 256)),
			 RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_RTT_UNPROT_MAP, &o, rd, U + MIB, U + L2SZ,
			     t_unprot_flags(RMI_ADDR_TYPE_SINGLE, 5, 3), t_desc(MIB, 3, 256)),
			 RMI_SUCCESS);
	RMI_FAIL(m, T_RTT(3), FOLD, rd, U, 3);
	/* a table holding a TABLE entry */
	RMI_FAIL(m, T_RTT(2), FOLD, rd, 0, 2);
	/* 2: the walk does not reach level - 1; 3: the parent is not a table */
	RMI_FAIL(m, T_RTT(1), FOLD, rd, GIB, 3);
	RMI_FAIL(m, T_RTT(1), FOLD, rd, GIB, 2);
	RMI_FAIL(m, T_RTT(2), FOLD, rd, 4 * L2SZ, 3);
	uint64_t blk = del(512, L2SZ);
	assert_int_equal(data_map(5 * L2SZ, 6 * L2SZ, t_desc(blk, 2, 1)), 6 * L2SZ);
	RMI_FAIL(m, T_RTT(2), FOLD, rd, 5 * L2SZ, 3); /* parent is a block */
	/* 1: inputs */
	RMI_FAIL(m, RMI_ERROR_INPUT, FOLD, rd + 8, 0, 3);
	RMI_FAIL(m, RMI_ERROR_INPUT, FOLD, pages, 0, 3);
	RMI_FAIL(m, RMI_ERROR_INPUT, FOLD, rd, 0, 1);
	RMI_FAIL(m, RMI_ERROR_INPUT, FOLD, rd, 0, 4);
	RMI_FAIL(m, RMI_ERROR_INPUT, FOLD, rd, 0, ~0ULL);
	RMI_FAIL(m, RMI_ERROR_INPUT, FOLD, rd, G, 3);
	RMI_FAIL(m, RMI_ERROR_INPUT, FOLD, rd, L2SZ, 2);
	RMI_FAIL(m, RMI_ERROR_INPUT, FOLD, rd, 1ULL << 40, 2);
	RMI_FAIL(m, RMI_ERROR_INPUT, FOLD, rd, GIB + G, 3); /* and a walk error */
}

/* No blocks at level 0: a homogeneous level-1 table of blocks cannot fold (SL0 realm). */
static void test_fold_min_level(void **state)
{
	struct rk_machine *mm = t_machine(64);
	struct t_pool p;
	struct rmi_out o;
	const uint64_t u44 = 1ULL << 43; /* the unprotected half of a 44-bit realm */

	(void)state;
	t_pool_init(&p, T_DRAM_BASE, 1024);
	uint64_t r = t_realm_new(mm, &p, 44, 0, 1, RMI_HASH_SHA_256);
	/* unassigned level-1 tables fold into level-0 entries */
	uint64_t l1 = t_pool_delegated(mm, &p, 1, 0);
	t_rtt_create(mm, r, l1, 0, 1);
	assert_int_equal(RMI(mm, FOLD, &o, r, 0, 1), RMI_SUCCESS);
	assert_int_equal(o.x[1], l1);
	t_rtt_create(mm, r, l1, u44, 1);
	/* 512 contiguous 1 GiB NS blocks, 512 GiB aligned: homogeneous, but level 0 has no blocks */
	assert_int_equal(RMI(mm, RMI_FID_RTT_UNPROT_MAP, &o, r, u44, u44 + 512 * GIB,
			     t_unprot_flags(RMI_ADDR_TYPE_SINGLE, 6, 3), t_desc(0, 1, 512)),
			 RMI_SUCCESS);
	assert_int_equal(o.x[1], u44 + 512 * GIB);
	assert_int_equal(t_refcount(mm, l1), 512);
	RMI_FAIL(mm, T_RTT(0), FOLD, r, u44, 1);
	/* not homogeneous: the index is the table's level */
	assert_int_equal(RMI(mm, RMI_FID_RTT_UNPROT_UNMAP, &o, r, u44, u44 + GIB, 0, 0), RMI_SUCCESS);
	RMI_FAIL(mm, T_RTT(1), FOLD, r, u44, 1);
	/* level 0 is the root: not a valid fold level */
	RMI_FAIL(mm, RMI_ERROR_INPUT, FOLD, r, 0, 0);
	t_check_realm(mm, r, NULL, NULL);
	t_teardown_all(mm);
	rk_machine_destroy(mm);
}

/* ---- RTT_READ_ENTRY ---- */

static void test_read_entry(void **state)
{
	struct rmi_out o;

	(void)state;
	uint64_t l2 = rtt(0, 2);
	uint64_t l3 = rtt(0, 3);
	uint64_t d = del(3, 0), src = t_pool_get(&pool, 1, 0);
	/* page 0 ASSIGNED EMPTY, page 1 ASSIGNED RAM, page 2 ASSIGNED DESTROYED,
	 * page 3 UNASSIGNED RAM, page 4 UNASSIGNED DESTROYED, page 5 UNASSIGNED EMPTY */
	assert_int_equal(data_map(0, G, t_desc(d, 3, 1)), G);
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_MAP_INIT, NULL, rd, d + G, G, src, 0), RMI_SUCCESS);
	uint64_t tmp = del(2, 0);
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_MAP_INIT, NULL, rd, tmp, 2 * G, src, 0), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_MAP_INIT, NULL, rd, tmp + G, 4 * G, src, 0), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_UNMAP, &o, rd, 2 * G, 3 * G, 0, 0), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_UNMAP, &o, rd, 4 * G, 5 * G, 0, 0), RMI_SUCCESS);
	assert_int_equal(data_map(2 * G, 3 * G, t_desc(d + 2 * G, 3, 1)), 3 * G);
	init_ripas(3 * G, 4 * G);
	expect_entry(0, 3, RMI_RTTE_ASSIGNED, d, RMI_RIPAS_EMPTY);
	expect_entry(G, 3, RMI_RTTE_ASSIGNED, d + G, RMI_RIPAS_RAM);
	expect_entry(2 * G, 3, RMI_RTTE_ASSIGNED, d + 2 * G, RMI_RIPAS_DESTROYED);
	expect_entry(3 * G, 3, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_RAM);
	expect_entry(4 * G, 3, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_DESTROYED);
	expect_entry(5 * G, 3, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_EMPTY);
	/* TABLE entries */
	expect_entry(0, 1, RMI_RTTE_TABLE, l2, 0);
	expect_entry(0, 2, RMI_RTTE_TABLE, l3, 0);
	/* the walk stops at the first non-table entry: x1 = that level */
	RMI_NOCHANGE(m, &o, READ, rd, 5 * GIB + 3 * L2SZ + 7 * G, 3);
	assert_int_equal(o.x[1], 1);
	assert_int_equal(o.x[2], RMI_RTTE_UNASSIGNED);
	RMI_NOCHANGE(m, &o, READ, rd, L2SZ, 3);
	assert_int_equal(o.x[1], 2);
	/* NS entries: UNASSIGNED_NS reads as UNASSIGNED/EMPTY; ASSIGNED_NS shows the host's bits */
	expect_entry(U + 5 * GIB, 1, RMI_RTTE_UNASSIGNED, 0, 0);
	rtt(U, 2);
	rtt(U, 3);
	assert_int_equal(RMI(m, RMI_FID_RTT_UNPROT_MAP, &o, rd, U + G, U + 2 * G,
			     t_unprot_flags(RMI_ADDR_TYPE_SINGLE, 5, 2), t_desc(0x12345000ULL, 3, 1)),
			 RMI_SUCCESS);
	expect_entry(U + G, 3, RMI_RTTE_ASSIGNED, 0x12345000ULL | NSATTR(5, 2), 0);
	expect_entry(U, 3, RMI_RTTE_UNASSIGNED, 0, 0);
	/* failures */
	RMI_FAIL(m, RMI_ERROR_INPUT, READ, rd + 8, 0, 3);
	RMI_FAIL(m, RMI_ERROR_INPUT, READ, l2, 0, 3);
	RMI_FAIL(m, RMI_ERROR_INPUT, READ, d, 0, 3);
	RMI_FAIL(m, RMI_ERROR_INPUT, READ, rd, 0, 0); /* below the start level */
	RMI_FAIL(m, RMI_ERROR_INPUT, READ, rd, 0, 4);
	RMI_FAIL(m, RMI_ERROR_INPUT, READ, rd, 0, ~0ULL);
	RMI_FAIL(m, RMI_ERROR_INPUT, READ, rd, G, 2); /* not aligned to the level */
	RMI_FAIL(m, RMI_ERROR_INPUT, READ, rd, L2SZ, 1);
	RMI_FAIL(m, RMI_ERROR_INPUT, READ, rd, 1ULL << 40, 1); /* outside the IPA space */
	RMI_FAIL(m, RMI_ERROR_INPUT, READ, rd, ~0xfffULL, 3);
	/* any realm state */
	assert_int_equal(RMI(m, RMI_FID_REALM_TERMINATE, NULL, rd), RMI_SUCCESS);
	expect_entry(G, 3, RMI_RTTE_ASSIGNED, d + G, RMI_RIPAS_RAM);
}

/* ---- RTT_INIT_RIPAS ---- */

static void test_init_ripas(void **state)
{
	struct rmi_out o;
	uint8_t rim[64];

	(void)state;
	memcpy(rim, t_rim(m, rd), 64);
	rtt(0, 2);
	rtt(0, 3);
	/* one leaf table */
	assert_int_equal(RMI(m, INIT_RIPAS, &o, rd, 0, L2SZ), RMI_SUCCESS);
	assert_int_equal(o.x[1], L2SZ);
	expect_table(0, 3, RMI_RTTE_UNASSIGNED, 0, 0, RMI_RIPAS_RAM, S2TTE_UNASSIGNED);
	/* already RAM: accepted, nothing changes */
	RMI_NOCHANGE(m, &o, INIT_RIPAS, rd, 0, L2SZ);
	assert_int_equal(o.x[1], L2SZ);
	/* partial progress: one leaf table per call */
	rtt(L2SZ, 3);
	rtt(2 * L2SZ, 3);
	assert_int_equal(RMI(m, INIT_RIPAS, &o, rd, L2SZ + 4 * G, 3 * L2SZ), RMI_SUCCESS);
	assert_int_equal(o.x[1], 2 * L2SZ);
	expect_entry(L2SZ + 3 * G, 3, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_EMPTY);
	expect_entry(L2SZ + 4 * G, 3, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_RAM);
	assert_int_equal(RMI(m, INIT_RIPAS, &o, rd, 2 * L2SZ, 3 * L2SZ), RMI_SUCCESS);
	assert_int_equal(o.x[1], 3 * L2SZ);
	/* level-2 entries; a TABLE entry stops the sweep */
	rtt(6 * L2SZ, 3);
	assert_int_equal(RMI(m, INIT_RIPAS, &o, rd, 4 * L2SZ, 8 * L2SZ), RMI_SUCCESS);
	assert_int_equal(o.x[1], 6 * L2SZ);
	expect_entry(5 * L2SZ, 2, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_RAM);
	expect_entry(6 * L2SZ, 3, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_EMPTY);
	/* an entry larger than what is left of the range stops it */
	assert_int_equal(RMI(m, INIT_RIPAS, &o, rd, 7 * L2SZ, 8 * L2SZ + MIB), RMI_SUCCESS);
	assert_int_equal(o.x[1], 8 * L2SZ);
	RMI_FAIL(m, T_RTT(2), INIT_RIPAS, rd, 8 * L2SZ, 8 * L2SZ + MIB);
	/* root-level entries */
	assert_int_equal(RMI(m, INIT_RIPAS, &o, rd, 2 * GIB, 4 * GIB), RMI_SUCCESS);
	assert_int_equal(o.x[1], 4 * GIB);
	expect_entry(3 * GIB, 1, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_RAM);
	/* the last protected granule */
	rtt(U - GIB, 2);
	rtt(U - L2SZ, 3);
	assert_int_equal(RMI(m, INIT_RIPAS, &o, rd, U - G, U), RMI_SUCCESS);
	assert_int_equal(o.x[1], U);
	/* ASSIGNED EMPTY -> ASSIGNED RAM (a valid mapping) */
	uint64_t d = del(4, 0);
	rtt(9 * L2SZ, 3);
	assert_int_equal(data_map(9 * L2SZ, 9 * L2SZ + 4 * G, t_desc(d, 3, 4)), 9 * L2SZ + 4 * G);
	expect_entry(9 * L2SZ, 3, RMI_RTTE_ASSIGNED, d, RMI_RIPAS_EMPTY);
	assert_int_equal(RMI(m, INIT_RIPAS, &o, rd, 9 * L2SZ, 10 * L2SZ), RMI_SUCCESS);
	assert_int_equal(o.x[1], 10 * L2SZ);
	expect_entry(9 * L2SZ + 3 * G, 3, RMI_RTTE_ASSIGNED, d + 3 * G, RMI_RIPAS_RAM);
	assert_true(t_raw_entry(m, rd, 9 * L2SZ + 3 * G, 3, NULL) & S2_DESC_VALID);
	/* an ASSIGNED EMPTY 2 MiB block -> ASSIGNED RAM block */
	uint64_t blk = del(512, L2SZ);
	assert_int_equal(data_map(11 * L2SZ, 12 * L2SZ, t_desc(blk, 2, 1)), 12 * L2SZ);
	assert_int_equal(RMI(m, INIT_RIPAS, &o, rd, 11 * L2SZ, 12 * L2SZ), RMI_SUCCESS);
	assert_int_equal(o.x[1], 12 * L2SZ);
	expect_entry(11 * L2SZ, 2, RMI_RTTE_ASSIGNED, blk, RMI_RIPAS_RAM);
	assert_int_equal(t_raw_entry(m, rd, 11 * L2SZ, 2, NULL) & S2_DESC_TYPE_MASK, S2_DESC_TYPE_BLOCK);
	/* DESTROYED (unassigned or assigned) stops it */
	uint64_t src = t_pool_get(&pool, 1, 0), p = del(2, 0);
	const uint64_t b = 10 * L2SZ;
	rtt(b, 3);
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_MAP_INIT, NULL, rd, p, b + 5 * G, src, 0), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_MAP_INIT, NULL, rd, p + G, b + 9 * G, src, 0), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_UNMAP, &o, rd, b + 5 * G, b + 6 * G, 0, 0), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_UNMAP, &o, rd, b + 9 * G, b + 10 * G, 0, 0), RMI_SUCCESS);
	assert_int_equal(data_map(b + 9 * G, b + 10 * G, t_desc(p, 3, 1)),
			 b + 10 * G); /* ASSIGNED DESTROYED */
	memcpy(rim, t_rim(m, rd), 64);
	assert_int_equal(RMI(m, INIT_RIPAS, &o, rd, b, b + L2SZ), RMI_SUCCESS);
	assert_int_equal(o.x[1], b + 5 * G);
	RMI_FAIL(m, T_RTT(3), INIT_RIPAS, rd, b + 5 * G, b + L2SZ);
	assert_int_equal(RMI(m, INIT_RIPAS, &o, rd, b + 6 * G, b + L2SZ), RMI_SUCCESS);
	assert_int_equal(o.x[1], b + 9 * G);
	RMI_FAIL(m, T_RTT(3), INIT_RIPAS, rd, b + 9 * G, b + L2SZ);
	/* not measured */
	assert_memory_equal(t_rim(m, rd), rim, 64);

	/* failures, in order */
	RMI_FAIL(m, RMI_ERROR_INPUT, INIT_RIPAS, rd, L2SZ, L2SZ); /* 1: top <= base */
	RMI_FAIL(m, RMI_ERROR_INPUT, INIT_RIPAS, rd, L2SZ, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, INIT_RIPAS, rd + 8, L2SZ, 0); /*    before the RD */
	RMI_FAIL(m, RMI_ERROR_INPUT, INIT_RIPAS, rd + 8, 0, L2SZ); /* 2: the RD */
	RMI_FAIL(m, RMI_ERROR_INPUT, INIT_RIPAS, d, 0, L2SZ);
	RMI_FAIL(m, RMI_ERROR_INPUT, INIT_RIPAS, rd, 8, L2SZ); /* 3: alignment */
	RMI_FAIL(m, RMI_ERROR_INPUT, INIT_RIPAS, rd, 0, L2SZ - 8);
	RMI_FAIL(m, RMI_ERROR_INPUT, INIT_RIPAS, rd, U, U + G);            /*    unprotected */
	RMI_FAIL(m, RMI_ERROR_INPUT, INIT_RIPAS, rd, U - G, U + G);        /*    crossing into it */
	RMI_FAIL(m, RMI_ERROR_INPUT, INIT_RIPAS, rd, 0, (1ULL << 40) + G); /*    outside the IPA space */
	RMI_FAIL(m, RMI_ERROR_INPUT, INIT_RIPAS, rd, 0, ~0xfffULL);
	RMI_FAIL(m, T_RTT(1), INIT_RIPAS, rd, 5 * GIB + L2SZ,
		 6 * GIB); /* 5: base unaligned to the walk level */
	RMI_FAIL(m, T_RTT(2), INIT_RIPAS, rd, 12 * L2SZ + G, 13 * L2SZ);
	RMI_FAIL(m, T_RTT(1), INIT_RIPAS, rd, 5 * GIB, 5 * GIB + L2SZ); /* 6: no entry fits */
	/* 4: realm not NEW; after 1-3, before 5-6 */
	assert_int_equal(RMI(m, RMI_FID_REALM_ACTIVATE, NULL, rd), RMI_SUCCESS);
	RMI_FAIL(m, RMI_ERROR_REALM, INIT_RIPAS, rd, 12 * L2SZ, 13 * L2SZ);
	RMI_FAIL(m, RMI_ERROR_REALM, INIT_RIPAS, rd, 5 * GIB + L2SZ, 6 * GIB);
	RMI_FAIL(m, RMI_ERROR_REALM, INIT_RIPAS, rd, b + 5 * G, b + L2SZ);
	RMI_FAIL(m, RMI_ERROR_INPUT, INIT_RIPAS, rd, U, U + G);
	RMI_FAIL(m, RMI_ERROR_INPUT, INIT_RIPAS, rd, 8, L2SZ);
	RMI_FAIL(m, RMI_ERROR_INPUT, INIT_RIPAS, rd, L2SZ, L2SZ);
	assert_int_equal(RMI(m, RMI_FID_REALM_TERMINATE, NULL, rd), RMI_SUCCESS);
	RMI_FAIL(m, RMI_ERROR_REALM, INIT_RIPAS, rd, 12 * L2SZ, 13 * L2SZ);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_copies_parent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_unfolds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_errors, setup, teardown),
		cmocka_unit_test(test_create_high_pa),
		cmocka_unit_test_setup_teardown(test_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_ns_mappings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fold_unassigned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fold_assigned, setup, teardown),
		cmocka_unit_test(test_fold_assigned_1g),
		cmocka_unit_test_setup_teardown(test_fold_refused, setup, teardown),
		cmocka_unit_test(test_fold_min_level),
		cmocka_unit_test_setup_teardown(test_read_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_ripas, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
