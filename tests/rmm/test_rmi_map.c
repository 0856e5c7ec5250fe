/* SPDX-License-Identifier: MIT */
/*
 * Mapping commands against the 2.0-bet1 digest (§8, §12.4, §16.3):
 * RTT_DATA_MAP_INIT (all 13 failure conditions in order, the RIM extension
 * recomputed here with OpenSSL from the descriptor layout, SHA-256/512/384),
 * RTT_DATA_MAP (SINGLE and LIST, 4 KiB and 2 MiB, idempotence, RIPAS kept,
 * rollback, partial progress), RTT_DATA_UNMAP (NONE/SINGLE/LIST outputs,
 * RIPAS transitions, scrubbing) and RTT_UNPROT_MAP/UNMAP. Every failure is
 * checked to change nothing (granules, GPT, RTTs, RD and RIM).
 *
 * The realm: s2sz 40, start level 1, 2 roots; L2 and L3 tables at IPA 0 and at
 * U (the first unprotected IPA, 512 GiB).
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "machine.h"
#include "rk_test.h"
#include "rmm/realm.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)
#define L2SZ (2 * MIB)
#define U (1ULL << 39)

#define MAP_INIT RMI_FID_RTT_DATA_MAP_INIT
#define MAP RMI_FID_RTT_DATA_MAP
#define UNMAP RMI_FID_RTT_DATA_UNMAP
#define UMAP RMI_FID_RTT_UNPROT_MAP
#define UUNMAP RMI_FID_RTT_UNPROT_UNMAP
#define SINGLE ((uint64_t)RMI_ADDR_TYPE_SINGLE)
#define LIST(n) ((uint64_t)RMI_ADDR_TYPE_LIST | ((uint64_t)(n) << 2))
/* descriptor bits for flags MemAttr and S2AP (direct: flag bit 0 W -> desc bit 7, bit 1 R -> desc bit 6) */
#define NSATTR(memattr, s2ap) \
	(((uint64_t)(memattr) << 2) | ((uint64_t)(((s2ap) >> 1) & 1) << 6) | ((uint64_t)((s2ap)&1) << 7))

static struct rk_machine *m;
static struct t_pool pool;
static uint64_t rd, l3, src;

static void fill_src(uint64_t pa, unsigned int seed)
{
	uint8_t page[4096];

	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = (uint8_t)(i * 13 + seed + (i >> 8));
	t_write(m, pa, page, sizeof(page));
}

static void realm_setup(unsigned int algo)
{
	m = t_machine(128);
	t_pool_init(&pool, T_DRAM_BASE + MIB, (120 * MIB) / G);
	rd = t_realm_new(m, &pool, 40, 1, 2, algo);
	t_rtt_to(m, rd, 0, 3, &pool);
	t_rtt_to(m, rd, U, 3, &pool);
	l3 = t_raw_entry(m, rd, 0, 2, NULL) & S2_DESC_OA_MASK;
	assert_int_equal(t_gstate(m, l3), GRANULE_STATE_RTT);
	src = t_pool_get(&pool, 1, 0);
	fill_src(src, 1);
}

static int setup(void **state)
{
	(void)state;
	realm_setup(RMI_HASH_SHA_256);
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

static void expect_entry(uint64_t ipa, int level, uint64_t st, uint64_t desc, uint64_t ripas)
{
	struct rmi_out o;

	assert_int_equal(RMI(m, RMI_FID_RTT_READ_ENTRY, &o, rd, ipa, level), RMI_SUCCESS);
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

static uint64_t map(uint64_t base, uint64_t top, uint64_t flags, uint64_t oaddr)
{
	struct rmi_out o;
	uint64_t x0 = RMI(m, MAP, &o, rd, base, top, flags, oaddr);

	if (x0 != RMI_SUCCESS) {
		print_error("DATA_MAP 0x%llx: status %u index %u\n", (unsigned long long)base, ST(x0),
			    IDX(x0));
		fail();
	}
	return o.x[1];
}

static void map_init(uint64_t data, uint64_t ipa)
{
	assert_int_equal(RMI(m, MAP_INIT, NULL, rd, data, ipa, src, RMI_NO_MEASURE_CONTENT), RMI_SUCCESS);
}

static void unmap(uint64_t base, uint64_t top, struct rmi_out *o)
{
	assert_int_equal(RMI(m, UNMAP, o, rd, base, top, 0, 0), RMI_SUCCESS);
}

static void init_ripas(uint64_t base, uint64_t top)
{
	struct rmi_out o;

	for (uint64_t a = base; a < top; a = o.x[1])
		assert_int_equal(RMI(m, RMI_FID_RTT_INIT_RIPAS, &o, rd, a, top), RMI_SUCCESS);
}

/* ---- RTT_DATA_MAP_INIT ---- */

static void map_init_measured(unsigned int algo)
{
	uint8_t rim[64], page[4096];
	struct rmi_out o;

	realm_setup(algo);
	t_ref_rim_init(algo, 0, 40, 0, 5, 3, 0, rim);
	assert_memory_equal(t_rim(m, rd), rim, 64);
	uint64_t d = del(6, 0);
	/* measured content, then unmeasured, at several IPAs */
	for (unsigned int i = 0; i < 6; i++) {
		uint64_t flags = i % 2 ? RMI_NO_MEASURE_CONTENT : RMI_MEASURE_CONTENT, ipa = (7 + 3 * i) * G;

		fill_src(src, i);
		t_read(m, src, page, sizeof(page));
		assert_int_equal(RMI(m, MAP_INIT, NULL, rd, d + i * G, ipa, src, flags), RMI_SUCCESS);
		t_ref_rim_extend_data(algo, rim, ipa, flags, page);
		assert_memory_equal(t_rim(m, rd), rim, 64);
		/* copied, ASSIGNED RAM (a valid mapping), DATA, out of the host's reach */
		assert_memory_equal(t_gptr(m, d + i * G), page, G);
		expect_entry(ipa, 3, RMI_RTTE_ASSIGNED, d + i * G, RMI_RIPAS_RAM);
		assert_true(t_raw_entry(m, rd, ipa, 3, NULL) & S2_DESC_VALID);
		assert_int_equal(t_gstate(m, d + i * G), GRANULE_STATE_DATA);
		assert_int_equal(rk_ns_read(m, d + i * G, page, 1), -RK_EGPF);
	}
	assert_int_equal(t_refcount(m, l3), 6);
	/* the realm's data is scrubbed on its way back to the host */
	for (unsigned int i = 0; i < 6; i++)
		unmap((7 + 3 * i) * G, (8 + 3 * i) * G, &o);
	for (unsigned int i = 0; i < 6; i++) {
		assert_int_equal(t_gstate(m, d + i * G), GRANULE_STATE_DELEGATED);
		assert_true(t_gzero(m, d + i * G));
	}
	t_undelegate(m, d, 6);
	t_read(m, d, page, sizeof(page));
	for (size_t k = 0; k < sizeof(page); k++)
		assert_int_equal(page[k], 0);
	teardown(NULL);
}

static void test_map_init_sha256(void **state)
{
	(void)state;
	map_init_measured(RMI_HASH_SHA_256);
}

static void test_map_init_sha512(void **state)
{
	(void)state;
	map_init_measured(RMI_HASH_SHA_512);
}

static void test_map_init_sha384(void **state)
{
	(void)state;
	map_init_measured(RMI_HASH_SHA_384);
}

/* The worked example of the digest (§16.5): RIM1 after one measured page at 0x80000000. */
static void test_map_init_worked_example(void **state)
{
	static const uint8_t rim1[32] = {
		0xfb, 0x96, 0x2c, 0xc3, 0xdf, 0x8f, 0x69, 0xd4, 0x00, 0x19, 0x96,
		0xb0, 0x35, 0x49, 0xca, 0xae, 0xa6, 0xea, 0xe7, 0xcf, 0xe8, 0x43,
		0x33, 0xb5, 0xdd, 0x26, 0x05, 0x3d, 0xa0, 0x30, 0xbe, 0x96,
	};
	static const uint8_t rim1_nomeasure[32] = {
		0x73, 0xb6, 0x7d, 0x5f, 0x56, 0x45, 0x1c, 0x34, 0xe3, 0xe8, 0x65,
		0x98, 0xe0, 0x33, 0xe3, 0xae, 0xf6, 0x17, 0x80, 0x5c, 0x77, 0x8c,
		0xfa, 0x60, 0x4d, 0xdd, 0x24, 0xe2, 0x43, 0x41, 0xc2, 0x23,
	};
	uint8_t page[4096];

	(void)state;
	for (int measure = 1; measure >= 0; measure--) {
		realm_setup(RMI_HASH_SHA_256);
		for (size_t i = 0; i < sizeof(page); i++)
			page[i] = (uint8_t)i;
		t_write(m, src, page, sizeof(page));
		t_rtt_to(m, rd, 0x80000000ULL, 3, &pool);
		assert_int_equal(RMI(m, MAP_INIT, NULL, rd, del(1, 0), 0x80000000ULL, src, (uint64_t)measure),
				 RMI_SUCCESS);
		assert_memory_equal(t_rim(m, rd), measure ? rim1 : rim1_nomeasure, 32);
		teardown(NULL);
	}
}

static void test_map_init_ripas(void **state)
{
	struct rmi_out o;

	(void)state;
	uint64_t d = del(4, 0);
	/* from UNASSIGNED EMPTY, RAM and DESTROYED: always ASSIGNED RAM */
	map_init(d, 0);
	expect_entry(0, 3, RMI_RTTE_ASSIGNED, d, RMI_RIPAS_RAM);
	init_ripas(G, 2 * G);
	map_init(d + G, G);
	expect_entry(G, 3, RMI_RTTE_ASSIGNED, d + G, RMI_RIPAS_RAM);
	unmap(0, G, &o);
	expect_entry(0, 3, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_DESTROYED);
	map_init(d + 2 * G, 0);
	expect_entry(0, 3, RMI_RTTE_ASSIGNED, d + 2 * G, RMI_RIPAS_RAM);
	assert_int_equal(t_refcount(m, l3), 2);
}

static void test_map_init_errors(void **state)
{
	uint64_t d = del(1, 0), ns = t_pool_get(&pool, 1, 0), mapped = del(1, 0);
	uint64_t l2 = t_raw_entry(m, rd, 0, 1, NULL) & S2_DESC_OA_MASK;

	(void)state;
	map_init(mapped, 9 * G);
	/* 1: flags */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, d, 0, src, 2);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, d, 0, src, ~0ULL);
	/* 2: data == rd */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, rd, 0, src, 0);
	/* 3: src not NS */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, d, 0, src + 8, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, d, 0, 0x1000, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, d, 0, d, 0);      /* DELEGATED */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, d, 0, rd, 0);     /* an RD */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, d, 0, mapped, 0); /* DATA */
	/* 4: rd */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd + 8, d, 0, src, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, l2, d, 0, src, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, ns, d, 0, src, 0);
	/* 6: ipa */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, d, 8, src, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, d, U, src, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, d, U + G, src, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, d, 1ULL << 40, src, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, d, ~0xfffULL, src, 0);
	/* 8: the walk does not reach level 3 */
	RMI_FAIL(m, T_RTT(2), MAP_INIT, rd, d, L2SZ, src, 0);
	RMI_FAIL(m, T_RTT(1), MAP_INIT, rd, d, GIB, src, 0);
	/* 9: the entry is not UNASSIGNED (no idempotence here) */
	RMI_FAIL(m, T_RTT(3), MAP_INIT, rd, d, 9 * G, src, 0);
	RMI_FAIL(m, T_RTT(3), MAP_INIT, rd, mapped, 9 * G, src, 0);
	/* 11: data is the leaf RTT */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, l3, 0, src, 0);
	/* 12: data not DELEGATED */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, ns, 0, src, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, mapped, 0, src, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, l2, 0, src, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, t_rd(m, rd)->s2.rtt_base, 0, src, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, src, 0, src, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, d + 8, 0, src, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, 0x1000, 0, src, 0);
	/* priorities */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, rd, 0, src, 7);       /* 1 < 2 */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, d, U, d, 0);          /* 3 < 6 */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, d, L2SZ + 8, src, 0); /* 6 < 8 */
	RMI_FAIL(m, T_RTT(2), MAP_INIT, rd, ns, L2SZ, src, 0);           /* 8 < 12 */
	RMI_FAIL(m, T_RTT(1), MAP_INIT, rd, l3, GIB, src, 0);            /* 8 < 11 */
	RMI_FAIL(m, T_RTT(3), MAP_INIT, rd, ns, 9 * G, src, 0);          /* 9 < 12 */
	RMI_FAIL(m, T_RTT(3), MAP_INIT, rd, l3, 9 * G, src, 0);          /* 9 < 11 */
	/* 5: realm not NEW, after 1-4 and before 6-12 */
	assert_int_equal(RMI(m, RMI_FID_REALM_ACTIVATE, NULL, rd), RMI_SUCCESS);
	RMI_FAIL(m, RMI_ERROR_REALM, MAP_INIT, rd, d, 0, src, 0);
	RMI_FAIL(m, RMI_ERROR_REALM, MAP_INIT, rd, d, U, src, 0);     /* 5 < 6 */
	RMI_FAIL(m, RMI_ERROR_REALM, MAP_INIT, rd, d, L2SZ, src, 0);  /* 5 < 8 */
	RMI_FAIL(m, RMI_ERROR_REALM, MAP_INIT, rd, d, 9 * G, src, 0); /* 5 < 9 */
	RMI_FAIL(m, RMI_ERROR_REALM, MAP_INIT, rd, ns, 0, src, 0);    /* 5 < 12 */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, d, 0, src, 2);     /* 1 < 5 */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, rd, 0, src, 0);    /* 2 < 5 */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, d, 0, d, 0);       /* 3 < 5 */
	assert_int_equal(RMI(m, RMI_FID_REALM_TERMINATE, NULL, rd), RMI_SUCCESS);
	RMI_FAIL(m, RMI_ERROR_REALM, MAP_INIT, rd, d, 0, src, 0);
}

/* ---- RTT_DATA_MAP ---- */

static void test_data_map_single(void **state)
{
	struct rmi_out o;
	uint8_t rim[64];

	(void)state;
	memcpy(rim, t_rim(m, rd), 64);
	/* 8 pages: ASSIGNED, RIPAS kept (EMPTY), DATA, zero */
	uint64_t p = del(8, 0);
	for (uint64_t i = 0; i < 8; i++)
		memset(t_gptr(m, p + i * G), 0, G);
	assert_int_equal(map(0, 8 * G, SINGLE, t_desc(p, 3, 8)), 8 * G);
	for (uint64_t i = 0; i < 8; i++) {
		expect_entry(i * G, 3, RMI_RTTE_ASSIGNED, p + i * G, RMI_RIPAS_EMPTY);
		assert_false(t_raw_entry(m, rd, i * G, 3, NULL) & S2_DESC_VALID); /* no access while EMPTY */
		assert_int_equal(t_gstate(m, p + i * G), GRANULE_STATE_DATA);
		assert_true(t_gzero(m, p + i * G));
	}
	assert_int_equal(t_refcount(m, l3), 8);
	assert_memory_equal(t_rim(m, rd), rim, 64); /* not measured */
	/* idempotent: the same mapping again changes nothing */
	RMI_NOCHANGE(m, &o, MAP, rd, 0, 8 * G, SINGLE, t_desc(p, 3, 8));
	assert_int_equal(o.x[1], 8 * G);
	/* RIPAS RAM kept: a valid mapping */
	uint64_t q = del(2, 0);
	init_ripas(16 * G, 18 * G);
	assert_int_equal(map(16 * G, 18 * G, SINGLE, t_desc(q, 3, 2)), 18 * G);
	expect_entry(17 * G, 3, RMI_RTTE_ASSIGNED, q + G, RMI_RIPAS_RAM);
	assert_true(t_raw_entry(m, rd, 17 * G, 3, NULL) & S2_DESC_VALID);
	/* RIPAS DESTROYED kept */
	uint64_t r = del(1, 0);
	map_init(r, 20 * G);
	unmap(20 * G, 21 * G, &o);
	assert_int_equal(map(20 * G, 21 * G, SINGLE, t_desc(r, 3, 1)), 21 * G);
	expect_entry(20 * G, 3, RMI_RTTE_ASSIGNED, r, RMI_RIPAS_DESTROYED);
	/* 2 MiB blocks */
	uint64_t b = del(1024, L2SZ);
	assert_int_equal(map(2 * L2SZ, 4 * L2SZ, SINGLE, t_desc(b, 2, 2)), 4 * L2SZ);
	expect_entry(2 * L2SZ, 2, RMI_RTTE_ASSIGNED, b, RMI_RIPAS_EMPTY);
	expect_entry(3 * L2SZ, 2, RMI_RTTE_ASSIGNED, b + L2SZ, RMI_RIPAS_EMPTY);
	for (uint64_t i = 0; i < 1024; i++)
		assert_int_equal(t_gstate(m, b + i * G), GRANULE_STATE_DATA);
	RMI_NOCHANGE(m, &o, MAP, rd, 2 * L2SZ, 4 * L2SZ, SINGLE, t_desc(b, 2, 2));
	/* block with RIPAS RAM */
	uint64_t b2 = del(512, L2SZ);
	init_ripas(4 * L2SZ, 5 * L2SZ);
	assert_int_equal(map(4 * L2SZ, 5 * L2SZ, SINGLE, t_desc(b2, 2, 1)), 5 * L2SZ);
	expect_entry(4 * L2SZ, 2, RMI_RTTE_ASSIGNED, b2, RMI_RIPAS_RAM);
	/* a different PA over a mapped entry: ERROR_RTT; after an idempotent block: partial progress */
	uint64_t other = del(2, 0);
	RMI_FAIL(m, T_RTT(3), MAP, rd, 0, G, SINGLE, t_desc(other, 3, 1));
	RMI_FAIL(m, T_RTT(2), MAP, rd, 2 * L2SZ, 3 * L2SZ, SINGLE, t_desc(b2, 2, 1));
	/* page 7 is idempotent (progress); page 8 would be q, which is DATA: stop there, SUCCESS */
	assert_int_equal(q, p + 8 * G);
	assert_int_equal(RMI(m, MAP, &o, rd, 7 * G, 9 * G, SINGLE, t_desc(p + 7 * G, 3, 2)), RMI_SUCCESS);
	assert_int_equal(o.x[1], 8 * G);
	expect_entry(8 * G, 3, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_EMPTY);
	/* the realm may be ACTIVE */
	assert_int_equal(RMI(m, RMI_FID_REALM_ACTIVATE, NULL, rd), RMI_SUCCESS);
	assert_int_equal(map(30 * G, 32 * G, SINGLE, t_desc(other, 3, 2)), 32 * G);
	t_check_realm(m, rd, NULL, NULL);
}

static void test_data_map_partial(void **state)
{
	struct rmi_out o;

	(void)state;
	/* a granule that is not DELEGATED stops the range there */
	uint64_t p = del(2, 0);
	uint64_t ns = t_pool_get(&pool, 1, 0);
	uint64_t p2 = del(1, 0);
	assert_int_equal(p2, ns + G);
	assert_int_equal(RMI(m, MAP, &o, rd, 0, 4 * G, SINGLE, t_desc(p, 3, 4)), RMI_SUCCESS);
	assert_int_equal(o.x[1], 2 * G);
	expect_entry(G, 3, RMI_RTTE_ASSIGNED, p + G, RMI_RIPAS_EMPTY);
	expect_entry(2 * G, 3, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_EMPTY);
	assert_int_equal(t_gstate(m, p2), GRANULE_STATE_DELEGATED);
	/* re-issued from x1: no progress -> the error */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 2 * G, 4 * G, SINGLE, t_desc(ns, 3, 2));
	/* blocks beyond top are not mapped */
	uint64_t q = del(8, 0);
	assert_int_equal(RMI(m, MAP, &o, rd, 8 * G, 12 * G, SINGLE, t_desc(q, 3, 8)), RMI_SUCCESS);
	assert_int_equal(o.x[1], 12 * G);
	expect_entry(12 * G, 3, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_EMPTY);
	assert_int_equal(t_gstate(m, q + 4 * G), GRANULE_STATE_DELEGATED);
	/* one leaf table per call */
	uint64_t r = del(4, 0);
	t_rtt_to(m, rd, L2SZ, 3, &pool);
	assert_int_equal(RMI(m, MAP, &o, rd, L2SZ - 2 * G, L2SZ + 2 * G, SINGLE, t_desc(r, 3, 4)),
			 RMI_SUCCESS);
	assert_int_equal(o.x[1], L2SZ);
	assert_int_equal(t_gstate(m, r + 2 * G), GRANULE_STATE_DELEGATED);
	assert_int_equal(map(L2SZ, L2SZ + 2 * G, SINGLE, t_desc(r + 2 * G, 3, 2)), L2SZ + 2 * G);
	/* a 2 MiB block with one granule not DELEGATED: rolled back, ERROR_INPUT, nothing changed */
	uint64_t b = del(512, L2SZ);
	t_undelegate(m, b + 300 * G, 1);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 4 * L2SZ, 5 * L2SZ, SINGLE, t_desc(b, 2, 1));
	for (uint64_t i = 0; i < 512; i++)
		assert_int_equal(t_gstate(m, b + i * G),
				 i == 300 ? GRANULE_STATE_NS : GRANULE_STATE_DELEGATED);
	/* ... and the second block of a range then stops with partial progress */
	uint64_t b0 = del(1536, L2SZ);
	t_undelegate(m, b0 + L2SZ + 7 * G, 1);
	assert_int_equal(RMI(m, MAP, &o, rd, 6 * L2SZ, 9 * L2SZ, SINGLE, t_desc(b0, 2, 3)), RMI_SUCCESS);
	assert_int_equal(o.x[1], 7 * L2SZ);
	assert_int_equal(t_gstate(m, b0 + L2SZ), GRANULE_STATE_DELEGATED);
	expect_entry(7 * L2SZ, 2, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_EMPTY);
}

static void test_data_map_list(void **state)
{
	uint64_t list = t_pool_get(&pool, 1, 0), descs[8];
	struct rmi_out o;

	(void)state;
	uint64_t a = del(2, 0);
	del(1, 0);
	uint64_t b = del(3, 0);
	descs[0] = t_desc(a, 3, 2);
	descs[1] = t_desc(0, 3, 0); /* empty: skipped */
	descs[2] = t_desc(b, 3, 3);
	t_write(m, list, descs, 3 * sizeof(uint64_t));
	assert_int_equal(map(0, 5 * G, LIST(3), list), 5 * G);
	expect_entry(G, 3, RMI_RTTE_ASSIGNED, a + G, RMI_RIPAS_EMPTY);
	expect_entry(2 * G, 3, RMI_RTTE_ASSIGNED, b, RMI_RIPAS_EMPTY);
	expect_entry(4 * G, 3, RMI_RTTE_ASSIGNED, b + 2 * G, RMI_RIPAS_EMPTY);
	/* the list cannot cross its granule: the count is clipped */
	uint64_t c = del(4, 0);
	for (int i = 0; i < 4; i++)
		descs[i] = t_desc(c + (uint64_t)i * G, 3, 1);
	t_write(m, list + G - 16, descs, 2 * sizeof(uint64_t));
	assert_int_equal(map(8 * G, 16 * G, LIST(4), list + G - 16), 10 * G);
	assert_int_equal(t_gstate(m, c + 2 * G), GRANULE_STATE_DELEGATED);
	/* a descriptor of another size ends the range */
	uint64_t d = del(1, 0);
	descs[0] = t_desc(d, 3, 1);
	descs[1] = t_desc(c + 2 * G, 2, 1);
	t_write(m, list, descs, 2 * sizeof(uint64_t));
	assert_int_equal(RMI(m, MAP, &o, rd, 16 * G, 20 * G, LIST(2), list), RMI_SUCCESS);
	assert_int_equal(o.x[1], 17 * G);
	/* list errors */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 20 * G, 21 * G, LIST(1), list + 4); /* not 8-byte aligned */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 20 * G, 21 * G, LIST(0), list);     /* count 0 */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 20 * G, 21 * G, LIST(1), d);        /* not NS */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 20 * G, 21 * G, LIST(1), 0x1000);   /* not DRAM */
	descs[0] = t_desc(c + 2 * G, 3, 0);
	t_write(m, list, descs, sizeof(uint64_t));
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 20 * G, 21 * G, LIST(1), list); /* only empty descriptors */
	descs[0] = t_desc(c + 2 * G, 3, 1) | T_DESC_UNDELEGATED;
	t_write(m, list, descs, sizeof(uint64_t));
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 20 * G, 21 * G, LIST(1), list); /* ST = UNDELEGATED */
}

/* DATA_MAP naming the realm's own RD (or a block holding it) must fail, not hang. */
static void test_data_map_own_granules(void **state)
{
	uint64_t l2 = t_raw_entry(m, rd, 0, 1, NULL) & S2_DESC_OA_MASK;
	uint64_t root = t_rd(m, rd)->s2.rtt_base;
	uint64_t blk_rd = rd & ~(L2SZ - 1), blk_l2 = l2 & ~(L2SZ - 1);

	(void)state;
	alarm(60); /* a livelock here would otherwise hang the test */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 0, G, SINGLE, t_desc(rd, 3, 1));
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 0, G, SINGLE, t_desc(l3, 3, 1)); /* the leaf RTT */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 0, G, SINGLE, t_desc(l2, 3, 1));
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 0, G, SINGLE, t_desc(root, 3, 1));
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 0, 2 * G, SINGLE, t_desc(rd - G, 3, 2));
	/* 2 MiB blocks holding the RD, the level-2 leaf table */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 2 * L2SZ, 3 * L2SZ, SINGLE, t_desc(blk_rd, 2, 1));
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 2 * L2SZ, 3 * L2SZ, SINGLE, t_desc(blk_l2, 2, 1));
	/* in the unprotected half the RMM does not track the memory: allowed */
	assert_int_equal(RMI(m, UMAP, NULL, rd, U, U + G, t_unprot_flags(SINGLE, 6, 3), t_desc(rd, 3, 1)),
			 RMI_SUCCESS);
	assert_int_equal(t_gstate(m, rd), GRANULE_STATE_RD);
	alarm(0);
}

static void test_data_map_errors(void **state)
{
	uint64_t p = del(1, 0), ns = t_pool_get(&pool, 1, 0), b = del(512, L2SZ);
	uint64_t list = t_pool_get(&pool, 1, 0);
	uint64_t l2 = t_raw_entry(m, rd, 0, 1, NULL) & S2_DESC_OA_MASK;
	const uint64_t dp = t_desc(p, 3, 1), db = t_desc(b, 2, 1);

	(void)state;
	t_write(m, list, &dp, sizeof(dp));
	/* 2: rd */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd + 8, 0, G, SINGLE, dp);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, l2, 0, G, SINGLE, dp);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, p, 0, G, SINGLE, dp);
	/* 4: top <= base */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, G, G, SINGLE, dp);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 2 * G, G, SINGLE, dp);
	/* 5: address type and list */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 0, G, (uint64_t)RMI_ADDR_TYPE_NONE, dp);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 0, G, 3, dp);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 0, G, SINGLE, t_desc(p, 3, 0)); /* count 0 */
	/* 6: ST */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 0, G, SINGLE, dp | T_DESC_UNDELEGATED);
	/* 7: alignment, IPA space, protected range, descriptor level */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, G, L2SZ + G, SINGLE, db);         /* base not 2 MiB aligned */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 0, G + 8, SINGLE, dp);            /* top unaligned */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 0, (1ULL << 40) + G, SINGLE, dp); /* top outside */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, U, U + G, SINGLE, dp);            /* unprotected */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, U - G, U + G, SINGLE, dp);        /* crossing */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 0, 1ULL << 39, SINGLE,
		 t_desc(0, 0, 1)); /* level 0: no blocks */
	/* 8: the range is smaller than one block */
	RMI_FAIL(m, T_RTT(2), MAP, rd, 2 * L2SZ, 2 * L2SZ + MIB, SINGLE, db);
	RMI_FAIL(m, T_RTT(2), MAP, rd, 2 * GIB, 2 * GIB + MIB, SINGLE, db); /* 8 before 9 */
	RMI_FAIL(m, T_RTT(1), MAP, rd, 0, GIB - G, SINGLE, t_desc(0, 1, 1));
	/* 9: the walk does not end at the descriptor's level */
	RMI_FAIL(m, T_RTT(2), MAP, rd, 2 * L2SZ, 2 * L2SZ + G, SINGLE, dp); /* no L3 there */
	RMI_FAIL(m, T_RTT(1), MAP, rd, 2 * GIB, 2 * GIB + G, SINGLE, dp);
	RMI_FAIL(m, T_RTT(1), MAP, rd, 2 * GIB, 2 * GIB + L2SZ, SINGLE, db);
	/* per block: a TABLE entry where a block should go */
	RMI_FAIL(m, T_RTT(2), MAP, rd, 0, L2SZ, SINGLE, db);
	/* per block: PA not aligned to the block */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 2 * L2SZ, 3 * L2SZ, SINGLE, t_desc(b + G, 2, 1));
	/* per block: granule not DELEGATED */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 0, G, SINGLE, t_desc(ns, 3, 1));
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 0, G, SINGLE, t_desc(0x1000, 3, 1));
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 0, G, SINGLE, t_desc(l2, 3, 1));
	/* priorities */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 2 * G, G, 0, 0);                            /* 4 < 5 */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, U, U + G, SINGLE, dp | T_DESC_UNDELEGATED); /* 6 < 7 */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 2 * GIB + G, 2 * GIB + L2SZ, SINGLE, db);   /* 7 < 8 */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 2 * GIB, 2 * GIB + G, SINGLE,
		 dp | T_DESC_UNDELEGATED);                                                /* 6 < 9 */
	RMI_FAIL(m, T_RTT(2), MAP, rd, 2 * L2SZ, 2 * L2SZ + G, SINGLE, t_desc(ns, 3, 1)); /* 9 < block */
	/* 3: realm state, after 2 and before 4 */
	assert_int_equal(RMI(m, RMI_FID_REALM_TERMINATE, NULL, rd), RMI_SUCCESS);
	RMI_FAIL(m, RMI_ERROR_REALM, MAP, rd, 0, G, SINGLE, dp);
	RMI_FAIL(m, RMI_ERROR_REALM, MAP, rd, 2 * G, G, SINGLE, dp); /* 3 < 4 */
	RMI_FAIL(m, RMI_ERROR_REALM, MAP, rd, 0, G, 0, 0);           /* 3 < 5 */
	RMI_FAIL(m, RMI_ERROR_REALM, MAP, rd, U, U + G, SINGLE, dp); /* 3 < 7 */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd + 8, 0, G, SINGLE, dp); /* 2 < 3 */
}

/* ---- RTT_DATA_UNMAP ---- */

static void test_data_unmap_outputs(void **state)
{
	uint64_t list = t_pool_get(&pool, 1, 0), out[8];
	struct rmi_out o;

	(void)state;
	/* ipa 0,1 -> A, A+G; 2 -> C; 4,5,6 -> E.. (3 is empty) */
	uint64_t a = del(2, 0);
	del(1, 0);
	uint64_t c = del(1, 0);
	del(1, 0);
	uint64_t e = del(3, 0);
	assert_int_equal(map(0, 2 * G, SINGLE, t_desc(a, 3, 2)), 2 * G);
	assert_int_equal(map(2 * G, 3 * G, SINGLE, t_desc(c, 3, 1)), 3 * G);
	assert_int_equal(map(4 * G, 7 * G, SINGLE, t_desc(e, 3, 3)), 7 * G);
	assert_int_equal(t_refcount(m, l3), 6);
	/* SINGLE: stops at the first PA discontinuity */
	assert_int_equal(RMI(m, UNMAP, &o, rd, 0, 8 * G, SINGLE, 0), RMI_SUCCESS);
	assert_int_equal(o.x[1], 2 * G);
	assert_int_equal(o.x[2], t_desc(a, 3, 2));
	assert_int_equal(o.x[3], 0);
	expect_entry(2 * G, 3, RMI_RTTE_ASSIGNED, c, RMI_RIPAS_EMPTY);
	expect_entry(G, 3, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_EMPTY); /* EMPTY stays EMPTY */
	assert_int_equal(t_gstate(m, a + G), GRANULE_STATE_DELEGATED);
	/* LIST: one descriptor per PA run, until the list is full */
	memset(out, 0xaa, sizeof(out));
	t_write(m, list, out, sizeof(out));
	assert_int_equal(map(0, 2 * G, SINGLE, t_desc(a, 3, 2)), 2 * G);
	assert_int_equal(RMI(m, UNMAP, &o, rd, 0, 8 * G, LIST(2), list), RMI_SUCCESS);
	assert_int_equal(o.x[1], 4 * G);
	assert_int_equal(o.x[2], 0);
	assert_int_equal(o.x[3], 2);
	t_read(m, list, out, sizeof(out));
	assert_int_equal(out[0], t_desc(a, 3, 2));
	assert_int_equal(out[1], t_desc(c, 3, 1));
	assert_int_equal(out[2], 0xaaaaaaaaaaaaaaaaULL);
	expect_entry(4 * G, 3, RMI_RTTE_ASSIGNED, e, RMI_RIPAS_EMPTY);
	/* LIST clipped to its granule: one slot */
	assert_int_equal(RMI(m, UNMAP, &o, rd, 4 * G, 8 * G, LIST(4), list + G - 8), RMI_SUCCESS);
	assert_int_equal(o.x[1], 8 * G); /* the non-live entry after the run is skipped */
	assert_int_equal(o.x[3], 1);
	t_read(m, list + G - 8, out, 8);
	assert_int_equal(out[0], t_desc(e, 3, 3));
	/* NONE: no output; non-live entries are skipped */
	assert_int_equal(map(0, 3 * G, SINGLE, t_desc(a, 3, 2)), 2 * G);
	assert_int_equal(map(5 * G, 6 * G, SINGLE, t_desc(c, 3, 1)), 6 * G);
	assert_int_equal(RMI(m, UNMAP, &o, rd, 0, 8 * G, 0, 0), RMI_SUCCESS);
	assert_int_equal(o.x[1], 8 * G);
	assert_int_equal(o.x[2], 0);
	assert_int_equal(o.x[3], 0);
	assert_int_equal(t_refcount(m, l3), 0);
	/* SINGLE across non-live entries: contiguous PAs merge */
	assert_int_equal(map(0, G, SINGLE, t_desc(a, 3, 1)), G);
	assert_int_equal(map(3 * G, 4 * G, SINGLE, t_desc(a + G, 3, 1)), 4 * G);
	assert_int_equal(RMI(m, UNMAP, &o, rd, 0, 8 * G, SINGLE, 0), RMI_SUCCESS);
	assert_int_equal(o.x[1], 8 * G);
	assert_int_equal(o.x[2], t_desc(a, 3, 2));
	/* nothing mapped: SUCCESS, nothing returned */
	RMI_NOCHANGE(m, &o, UNMAP, rd, 0, 8 * G, SINGLE, 0);
	assert_true(o.x[1] >= 8 * G);
	assert_int_equal(o.x[2], 0);
	/* one leaf table per call */
	t_rtt_to(m, rd, L2SZ, 3, &pool);
	uint64_t f = del(4, 0);
	assert_int_equal(map(L2SZ - 2 * G, L2SZ, SINGLE, t_desc(f, 3, 2)), L2SZ);
	assert_int_equal(map(L2SZ, L2SZ + 2 * G, SINGLE, t_desc(f + 2 * G, 3, 2)), L2SZ + 2 * G);
	assert_int_equal(RMI(m, UNMAP, &o, rd, L2SZ - 2 * G, L2SZ + 2 * G, SINGLE, 0), RMI_SUCCESS);
	assert_int_equal(o.x[1], L2SZ);
	assert_int_equal(o.x[2], t_desc(f, 3, 2));
	assert_int_equal(RMI(m, UNMAP, &o, rd, L2SZ, L2SZ + 2 * G, SINGLE, 0), RMI_SUCCESS);
	assert_int_equal(o.x[2], t_desc(f + 2 * G, 3, 2));
	/* 2 MiB blocks */
	uint64_t b = del(1024, L2SZ);
	assert_int_equal(map(2 * L2SZ, 4 * L2SZ, SINGLE, t_desc(b, 2, 2)), 4 * L2SZ);
	assert_int_equal(RMI(m, UNMAP, &o, rd, 2 * L2SZ, 4 * L2SZ, SINGLE, 0), RMI_SUCCESS);
	assert_int_equal(o.x[1], 4 * L2SZ);
	assert_int_equal(o.x[2], t_desc(b, 2, 2));
	for (uint64_t i = 0; i < 1024; i++)
		assert_int_equal(t_gstate(m, b + i * G), GRANULE_STATE_DELEGATED);
}

static void test_data_unmap_ripas(void **state)
{
	struct rmi_out o;

	(void)state;
	uint64_t p = del(3, 0);
	fill_src(src, 77);
	map_init(p, 0);                                                      /* ASSIGNED RAM */
	assert_int_equal(map(G, 2 * G, SINGLE, t_desc(p + G, 3, 1)), 2 * G); /* ASSIGNED EMPTY */
	map_init(p + 2 * G, 2 * G);
	unmap(2 * G, 3 * G, &o);
	assert_int_equal(map(2 * G, 3 * G, SINGLE, t_desc(p + 2 * G, 3, 1)), 3 * G); /* ASSIGNED DESTROYED */
	assert_false(t_gzero(m, p));
	unmap(0, 3 * G, &o);
	assert_int_equal(o.x[1], 3 * G);
	expect_entry(0, 3, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_DESTROYED);
	expect_entry(G, 3, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_EMPTY);
	expect_entry(2 * G, 3, RMI_RTTE_UNASSIGNED, 0, RMI_RIPAS_DESTROYED);
	for (uint64_t i = 0; i < 3; i++) {
		assert_int_equal(t_gstate(m, p + i * G), GRANULE_STATE_DELEGATED);
		assert_true(t_gzero(m, p + i * G));
	}
	/* any realm state */
	assert_int_equal(RMI(m, RMI_FID_REALM_ACTIVATE, NULL, rd), RMI_SUCCESS);
	assert_int_equal(map(0, G, SINGLE, t_desc(p, 3, 1)), G);
	unmap(0, G, &o);
	assert_int_equal(map(0, G, SINGLE, t_desc(p, 3, 1)), G);
	assert_int_equal(RMI(m, RMI_FID_REALM_TERMINATE, NULL, rd), RMI_SUCCESS);
	unmap(0, G, &o);
	assert_int_equal(t_gstate(m, p), GRANULE_STATE_DELEGATED);
}

static void test_data_unmap_errors(void **state)
{
	uint64_t list = t_pool_get(&pool, 1, 0), p = del(1, 0), b = del(512, L2SZ);

	(void)state;
	assert_int_equal(map(0, G, SINGLE, t_desc(p, 3, 1)), G);
	assert_int_equal(map(2 * L2SZ, 3 * L2SZ, SINGLE, t_desc(b, 2, 1)), 3 * L2SZ);
	/* 2: rd */
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, rd + 8, 0, G, 0, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, p, 0, G, 0, 0);
	/* 3: alignment, top <= base */
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, rd, 8, G, 0, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, rd, 0, G + 8, 0, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, rd, G, G, 0, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, rd, 2 * G, G, 0, 0);
	/* 4: outside the IPA space; 5: not entirely protected */
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, rd, 0, (1ULL << 40) + G, 0, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, rd, U, U + G, 0, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, rd, U - G, U + G, 0, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, UUNMAP, rd, 0, G, 0, 0); /* and the NS variant */
	RMI_FAIL(m, RMI_ERROR_INPUT, UUNMAP, rd, U - G, U + G, 0, 0);
	/* 6: type and flags */
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, rd, 0, G, 0, list);                 /* NONE, oaddr != 0 */
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, rd, 0, G, 1ULL << 2, 0);            /* NONE, count != 0 */
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, rd, 0, G, SINGLE, list);            /* SINGLE, oaddr != 0 */
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, rd, 0, G, SINGLE | (1ULL << 2), 0); /* SINGLE, count != 0 */
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, rd, 0, G, 3, 0);                    /* no such type */
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, rd, 0, G, LIST(0), list);           /* LIST, count 0 */
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, rd, 0, G, LIST(1), list + 4);       /* LIST, unaligned */
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, rd, 0, G, LIST(1), p);              /* LIST, not NS */
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, rd, 0, G, LIST(1), 0x1000);         /* LIST, not DRAM */
	/* 7: base not aligned to the leaf entry, or a live block larger than the range: x1 = 0 */
	struct rmi_out o;
	RMI_FAIL_OUT(m, T_RTT(2), &o, UNMAP, rd, L2SZ + G, L2SZ + 2 * G, 0, 0);
	assert_int_equal(o.x[1], 0);
	RMI_FAIL_OUT(m, T_RTT(1), &o, UNMAP, rd, GIB + G, GIB + 2 * G, 0, 0);
	assert_int_equal(o.x[1], 0);
	RMI_FAIL_OUT(m, T_RTT(2), &o, UNMAP, rd, 2 * L2SZ, 2 * L2SZ + G, SINGLE, 0);
	assert_int_equal(o.x[1], 0);
	/* priorities */
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, rd, L2SZ + G, L2SZ + 2 * G, SINGLE, list); /* 6 < 7 */
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, rd, 2 * L2SZ, 2 * L2SZ + G, 3, 0);         /* 6 < 7 */
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, rd, U, U + G, 3, 0);                       /* 5, 6 */
	RMI_FAIL(m, RMI_ERROR_INPUT, UNMAP, rd + 8, L2SZ + G, L2SZ + 2 * G, 0, 0);     /* 2 < 7 */
	/* a non-live 2 MiB entry straddling top is skipped, and out_top stops at top */
	assert_int_equal(RMI(m, UNMAP, &o, rd, 4 * L2SZ, 4 * L2SZ + G, 0ULL, 0ULL), RMI_SUCCESS);
	assert_int_equal(o.x[1], 4 * L2SZ + G);
}

/* ---- RTT_UNPROT_MAP / RTT_UNPROT_UNMAP ---- */

static void test_unprot(void **state)
{
	uint64_t list = t_pool_get(&pool, 1, 0), descs[2];
	struct rmi_out o;

	(void)state;
	const uint64_t ns = 0x12340000ULL;
	/* a page: the host's PA, MemAttr and S2AP; the RMM adds AF and NS */
	assert_int_equal(
		RMI(m, UMAP, &o, rd, U + G, U + 2 * G, t_unprot_flags(SINGLE, 6, 3), t_desc(ns, 3, 1)),
		RMI_SUCCESS);
	assert_int_equal(o.x[1], U + 2 * G);
	expect_entry(U + G, 3, RMI_RTTE_ASSIGNED, ns | NSATTR(6, 3), 0);
	uint64_t e = t_raw_entry(m, rd, U + G, 3, NULL);
	assert_true(e & S2_DESC_VALID);
	assert_true(e & S2_DESC_NS);
	assert_true(e & S2_DESC_AF);
	uint64_t l3u = t_raw_entry(m, rd, U, 2, NULL) & S2_DESC_OA_MASK;
	assert_int_equal(t_refcount(m, l3u), 1);
	/* idempotent; a different mapping over it is ERROR_RTT */
	RMI_NOCHANGE(m, &o, UMAP, rd, U + G, U + 2 * G, t_unprot_flags(SINGLE, 6, 3), t_desc(ns, 3, 1));
	RMI_FAIL(m, T_RTT(3), UMAP, rd, U + G, U + 2 * G, t_unprot_flags(SINGLE, 5, 3), t_desc(ns, 3, 1));
	RMI_FAIL(m, T_RTT(3), UMAP, rd, U + G, U + 2 * G, t_unprot_flags(SINGLE, 6, 1), t_desc(ns, 3, 1));
	RMI_FAIL(m, T_RTT(3), UMAP, rd, U + G, U + 2 * G, t_unprot_flags(SINGLE, 6, 3), t_desc(ns + G, 3, 1));
	/* every S2AP, Normal NC, the descriptor's ST is not checked, PAs need not be DRAM */
	for (uint64_t ap = 0; ap < 4; ap++) {
		uint64_t ipa = U + (4 + ap) * G;
		assert_int_equal(RMI(m, UMAP, NULL, rd, ipa, ipa + G, t_unprot_flags(SINGLE, 5, ap),
				     t_desc(ns + ap * G, 3, 1) | T_DESC_UNDELEGATED),
				 RMI_SUCCESS);
		expect_entry(ipa, 3, RMI_RTTE_ASSIGNED, (ns + ap * G) | NSATTR(5, ap), 0);
	}
	/* the last granule below 2^48 is fine, 2^48 is not (no LPA2) */
	assert_int_equal(RMI(m, UMAP, NULL, rd, U + 8 * G, U + 9 * G, t_unprot_flags(SINGLE, 6, 3),
			     t_desc((1ULL << 48) - G, 3, 1)),
			 RMI_SUCCESS);
	RMI_FAIL(m, RMI_ERROR_INPUT, UMAP, rd, U + 9 * G, U + 10 * G, t_unprot_flags(SINGLE, 6, 3),
		 t_desc(1ULL << 48, 3, 1));
	/* refused attributes: MemAttr 0b100, the upper S2AP bits */
	RMI_FAIL(m, RMI_ERROR_INPUT, UMAP, rd, U, U + G, t_unprot_flags(SINGLE, 4, 3), t_desc(ns, 3, 1));
	RMI_FAIL(m, RMI_ERROR_INPUT, UMAP, rd, U, U + G, t_unprot_flags(SINGLE, 6, 4), t_desc(ns, 3, 1));
	RMI_FAIL(m, RMI_ERROR_INPUT, UMAP, rd, U, U + G, t_unprot_flags(SINGLE, 6, 8), t_desc(ns, 3, 1));
	RMI_FAIL(m, RMI_ERROR_INPUT, UMAP, rd, U, U + G, t_unprot_flags(SINGLE, 6, 0xf), t_desc(ns, 3, 1));
	/* the protected half, and ranges crossing into it */
	RMI_FAIL(m, RMI_ERROR_INPUT, UMAP, rd, 0, G, t_unprot_flags(SINGLE, 6, 3), t_desc(ns, 3, 1));
	RMI_FAIL(m, RMI_ERROR_INPUT, UMAP, rd, U - G, U + G, t_unprot_flags(SINGLE, 6, 3), t_desc(ns, 3, 2));
	RMI_FAIL(m, RMI_ERROR_INPUT, UMAP, rd, U, (1ULL << 40) + G, t_unprot_flags(SINGLE, 6, 3),
		 t_desc(ns, 3, 1));
	/* other common checks */
	RMI_FAIL(m, RMI_ERROR_INPUT, UMAP, rd, U, U, t_unprot_flags(SINGLE, 6, 3), t_desc(ns, 3, 1));
	RMI_FAIL(m, RMI_ERROR_INPUT, UMAP, rd, U, U + G, t_unprot_flags(0, 6, 3), t_desc(ns, 3, 1));
	RMI_FAIL(m, RMI_ERROR_INPUT, UMAP, rd, U + G, U + L2SZ + G, t_unprot_flags(SINGLE, 6, 3),
		 t_desc(0, 2, 1));
	RMI_FAIL(m, RMI_ERROR_INPUT, UMAP, rd, U + L2SZ, U + 2 * L2SZ, t_unprot_flags(SINGLE, 6, 3),
		 t_desc(G, 2, 1)); /* PA not aligned to the block */
	RMI_FAIL(m, T_RTT(2), UMAP, rd, U + L2SZ, U + L2SZ + G, t_unprot_flags(SINGLE, 6, 3),
		 t_desc(ns, 3, 1));
	RMI_FAIL(m, T_RTT(2), UMAP, rd, U, U + L2SZ, t_unprot_flags(SINGLE, 6, 3),
		 t_desc(0, 2, 1)); /* TABLE */
	RMI_FAIL(m, RMI_ERROR_INPUT, UMAP, rd + 8, U, U + G, t_unprot_flags(SINGLE, 6, 3), t_desc(ns, 3, 1));
	/* blocks and LIST */
	assert_int_equal(RMI(m, UMAP, &o, rd, U + L2SZ, U + 3 * L2SZ, t_unprot_flags(SINGLE, 6, 2),
			     t_desc(4 * L2SZ, 2, 2)),
			 RMI_SUCCESS);
	assert_int_equal(o.x[1], U + 3 * L2SZ);
	expect_entry(U + 2 * L2SZ, 2, RMI_RTTE_ASSIGNED, (5 * L2SZ) | NSATTR(6, 2), 0);
	descs[0] = t_desc(0x50000000ULL, 3, 1);
	descs[1] = t_desc(0x60000000ULL, 3, 1);
	t_write(m, list, descs, sizeof(descs));
	assert_int_equal(RMI(m, UMAP, &o, rd, U + 10 * G, U + 12 * G, t_unprot_flags(LIST(2), 6, 3), list),
			 RMI_SUCCESS);
	assert_int_equal(o.x[1], U + 12 * G);
	expect_entry(U + 11 * G, 3, RMI_RTTE_ASSIGNED, 0x60000000ULL | NSATTR(6, 3), 0);

	/* UNPROT_UNMAP: descriptors have ST = UNDELEGATED */
	assert_int_equal(RMI(m, UUNMAP, &o, rd, U + L2SZ, U + 3 * L2SZ, SINGLE, 0), RMI_SUCCESS);
	assert_int_equal(o.x[1], U + 3 * L2SZ);
	assert_int_equal(o.x[2], t_desc(4 * L2SZ, 2, 2) | T_DESC_UNDELEGATED);
	assert_int_equal(t_entry_kind(m, rd, U + L2SZ, 2), S2TTE_UNASSIGNED_NS);
	assert_int_equal(RMI(m, UUNMAP, &o, rd, U + 10 * G, U + 12 * G, LIST(4), list), RMI_SUCCESS);
	assert_int_equal(o.x[3], 2);
	t_read(m, list, descs, sizeof(descs));
	assert_int_equal(descs[0], t_desc(0x50000000ULL, 3, 1) | T_DESC_UNDELEGATED);
	assert_int_equal(descs[1], t_desc(0x60000000ULL, 3, 1) | T_DESC_UNDELEGATED);
	/* a ZOMBIE realm: no new NS mappings; unmapping works */
	assert_int_equal(RMI(m, RMI_FID_REALM_TERMINATE, NULL, rd), RMI_SUCCESS);
	RMI_FAIL(m, RMI_ERROR_REALM, UMAP, rd, U + 20 * G, U + 21 * G, t_unprot_flags(SINGLE, 6, 3),
		 t_desc(ns, 3, 1));
	assert_int_equal(RMI(m, UUNMAP, &o, rd, U, U + L2SZ, 0, 0), RMI_SUCCESS);
	assert_int_equal(o.x[1], U + L2SZ);
	assert_int_equal(t_refcount(m, l3u), 0);
	expect_entry(U + G, 3, RMI_RTTE_UNASSIGNED, 0, 0);
}

/* PAs at or above 2^48 without LPA2: a DRAM bank above 2^48. */
static void test_high_pa(void **state)
{
	struct rk_machine_config cfg;
	const uint64_t hi = 1ULL << 48;
	uint64_t ns;

	(void)state;
	rk_machine_config_default(&cfg);
	cfg.pa_bits = 52;
	cfg.nbanks = 2;
	cfg.banks[0] = (struct rk_dram_bank){ T_DRAM_BASE, 64 * MIB };
	cfg.banks[1] = (struct rk_dram_bank){ hi, 16 * MIB };
	m = t_machine_cfg(&cfg, true);
	t_pool_init(&pool, T_DRAM_BASE + MIB, 4096);
	rd = t_realm_new(m, &pool, 40, 1, 2, RMI_HASH_SHA_256);
	t_rtt_to(m, rd, 0, 3, &pool);
	t_rtt_to(m, rd, U, 3, &pool);
	src = t_pool_get(&pool, 1, 0);
	ns = hi + 8 * MIB;
	t_delegate(m, hi, 512);
	/* DATA_MAP_INIT 7, before the walk (8) */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, hi, 0, src, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP_INIT, rd, hi, L2SZ, src, 0);
	/* DATA_MAP per block, UNPROT_MAP per block */
	RMI_FAIL(m, RMI_ERROR_INPUT, MAP, rd, 0, G, SINGLE, t_desc(hi, 3, 1));
	RMI_FAIL(m, RMI_ERROR_INPUT, UMAP, rd, U, U + G, t_unprot_flags(SINGLE, 6, 3), t_desc(ns, 3, 1));
	/* an RD and a params page above 2^48 are fine: only RTT/DATA PAs go into descriptors */
	teardown(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_init_sha256),
		cmocka_unit_test(test_map_init_sha512),
		cmocka_unit_test(test_map_init_sha384),
		cmocka_unit_test(test_map_init_worked_example),
		cmocka_unit_test_setup_teardown(test_map_init_ripas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_init_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_map_single, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_map_partial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_map_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_map_own_granules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_map_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_unmap_outputs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_unmap_ripas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_unmap_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unprot, setup, teardown),
		cmocka_unit_test(test_high_pa),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
