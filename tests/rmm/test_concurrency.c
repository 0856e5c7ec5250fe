/* SPDX-License-Identifier: MIT */
/*
 * RMI from several host threads at once (run under ThreadSanitizer in CI).
 *
 *  - two threads build and tear down two different realms, 200 cycles each;
 *  - threads delegate and undelegate overlapping ranges of the same granules;
 *  - threads race DATA_MAP, DATA_MAP_INIT, DATA_UNMAP, RTT_CREATE, RTT_FOLD,
 *    RTT_DESTROY, INIT_RIPAS, READ_ENTRY and (un)delegation on the same realm,
 *    the same IPA ranges and the same granules;
 *  - commands on a realm race its destruction and the re-use of its granules.
 *
 * Every result must be one the reference allows for that command; afterwards
 * the GPT agrees with the granule states, no lock is held, every RTT refcount
 * equals its live entries, DATA granules are referenced once, and tearing
 * everything down leaves every granule UNDELEGATED.
 *
 * cmocka is not thread-safe: worker threads record their first failure and
 * the main thread asserts after joining.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "machine.h"
#include "rk_test.h"
#include "rmm/realm.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)
#define L2SZ (2 * MIB)
#define U (1ULL << 39)

/* ---- worker plumbing ---- */

struct worker {
	struct rk_machine *m;
	uint64_t seed;
	unsigned int iters;
	int fail_line;
	uint64_t fail_x0;
	const char *what;
	unsigned int nok;  /* successful state changes */
	unsigned int role; /* which worker of a mix (test_same_realm_race) */
};

static bool wfail(struct worker *w, int line, uint64_t x0, const char *what)
{
	if (!w->fail_line) {
		w->fail_line = line;
		w->fail_x0 = x0;
		w->what = what;
	}
	return false;
}

#define CALL(w, o, fid, ...) \
	rmi_args((w)->m, (fid), (o), (const uint64_t[]){ __VA_ARGS__ }, RK_NARGS(__VA_ARGS__))
/* The call must return exactly `want`; on failure the worker returns 0 (false / NULL). */
#define MUST(w, want, call)                                     \
	do {                                                    \
		uint64_t x0_ = (call);                          \
		if (x0_ != (want)) {                            \
			(void)wfail((w), __LINE__, x0_, #call); \
			return 0;                               \
		}                                               \
	} while (0)
#define ENSURE(w, cond)                                       \
	do {                                                  \
		if (!(cond)) {                                \
			(void)wfail((w), __LINE__, 0, #cond); \
			return 0;                             \
		}                                             \
	} while (0)
/* The status must be one of the mask's bits. */
#define ALLOWED(w, x0, mask)                                                   \
	do {                                                                   \
		uint64_t s_ = (x0)&0xff;                                       \
		if (((x0) >> 16) || s_ >= 32 || !((mask) & (1u << s_))) {      \
			(void)wfail((w), __LINE__, (x0), "unexpected status"); \
			return 0;                                              \
		}                                                              \
	} while (0)
#define B(st) (1u << (st))

static void check_workers(struct worker *ws, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (ws[i].fail_line) {
			print_error("worker %u: line %d: %s (x0 = 0x%llx)\n", i, ws[i].fail_line, ws[i].what,
				    (unsigned long long)ws[i].fail_x0);
			fail();
		}
}

static void run_workers(struct worker *ws, unsigned int n, void *(*fn)(void *))
{
	pthread_t th[8];

	assert_true(n <= 8);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(pthread_create(&th[i], NULL, fn, &ws[i]), 0);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	check_workers(ws, n);
}

static uint64_t rnd(struct worker *w, uint64_t n)
{
	return t_rand(&w->seed) % n;
}

static bool w_range(struct worker *w, uint64_t fid, uint64_t pa, uint64_t n)
{
	struct rmi_out o;

	for (uint64_t top = pa + n * G; pa < top; pa = o.x[1]) {
		MUST(w, RMI_SUCCESS, CALL(w, &o, fid, pa, top));
		ENSURE(w, o.x[1] > pa && o.x[1] <= top);
	}
	return true;
}

/* ---- 1. two realms built and torn down at once ---- */

struct builder {
	struct worker w;
	uint64_t base; /* 8 MiB region, 2 MiB aligned */
	uint8_t rim[64];
};

/* Layout inside a builder's region. */
#define B_BLK(b) ((b)->base) /* 2 MiB data block */
#define B_RD(b) ((b)->base + L2SZ)
#define B_ROOT(b) ((b)->base + L2SZ + 2 * G) /* 2 roots, 8 KiB aligned */
#define B_RTT(b, i) ((b)->base + L2SZ + (4 + (i)) * G)
#define B_PAGES(b) ((b)->base + L2SZ + 16 * G) /* 8 pages */
#define B_PARAMS(b) ((b)->base + 2 * L2SZ)
#define B_SRC(b) ((b)->base + 2 * L2SZ + G)
#define B_NS(b) ((b)->base + 2 * L2SZ + 2 * G)

static bool build_cycle(struct builder *b)
{
	struct worker *w = &b->w;
	const uint64_t rd = B_RD(b);
	struct rmi_out o;

	ENSURE(w, w_range(w, RMI_FID_GRANULE_RANGE_DELEGATE, B_BLK(b), 512));
	ENSURE(w, w_range(w, RMI_FID_GRANULE_RANGE_DELEGATE, B_RD(b), 24));
	MUST(w, RMI_SUCCESS, CALL(w, NULL, RMI_FID_REALM_CREATE, rd, B_PARAMS(b)));
	MUST(w, RMI_SUCCESS, CALL(w, NULL, RMI_FID_RTT_CREATE, rd, B_RTT(b, 0), 0, 2));
	MUST(w, RMI_SUCCESS, CALL(w, NULL, RMI_FID_RTT_CREATE, rd, B_RTT(b, 1), 0, 3));
	MUST(w, RMI_SUCCESS, CALL(w, NULL, RMI_FID_RTT_CREATE, rd, B_RTT(b, 2), U, 2));
	MUST(w, RMI_SUCCESS, CALL(w, NULL, RMI_FID_RTT_CREATE, rd, B_RTT(b, 3), U, 3));
	MUST(w, RMI_SUCCESS, CALL(w, &o, RMI_FID_RTT_INIT_RIPAS, rd, 0, L2SZ));
	ENSURE(w, o.x[1] == L2SZ);
	for (uint64_t i = 0; i < 8; i++)
		MUST(w, RMI_SUCCESS,
		     CALL(w, NULL, RMI_FID_RTT_DATA_MAP_INIT, rd, B_PAGES(b) + i * G, i * G, B_SRC(b),
			  RMI_MEASURE_CONTENT));
	MUST(w, RMI_SUCCESS,
	     CALL(w, &o, RMI_FID_RTT_DATA_MAP, rd, L2SZ, 2 * L2SZ, RMI_ADDR_TYPE_SINGLE,
		  t_desc(B_BLK(b), 2, 1)));
	ENSURE(w, o.x[1] == 2 * L2SZ);
	MUST(w, RMI_SUCCESS,
	     CALL(w, &o, RMI_FID_RTT_UNPROT_MAP, rd, U, U + 4 * G, t_unprot_flags(RMI_ADDR_TYPE_SINGLE, 6, 3),
		  t_desc(B_NS(b), 3, 4)));
	ENSURE(w, o.x[1] == U + 4 * G);
	MUST(w, RMI_SUCCESS, CALL(w, NULL, RMI_FID_REALM_ACTIVATE, rd));
	MUST(w, RMI_SUCCESS, CALL(w, &o, RMI_FID_RTT_READ_ENTRY, rd, 7 * G, 3));
	ENSURE(w, o.x[2] == RMI_RTTE_ASSIGNED && o.x[3] == B_PAGES(b) + 7 * G && o.x[4] == RMI_RIPAS_RAM);
	struct rmm *rmm = machine_rmm(w->m);
	ENSURE(w, !memcmp(rd_of(rmm, granule_from_pa(rmm, rd))->rim, b->rim, 64));
	MUST(w, RMI_SUCCESS, CALL(w, NULL, RMI_FID_REALM_TERMINATE, rd));
	MUST(w, RMI_SUCCESS, CALL(w, &o, RMI_FID_RTT_DATA_UNMAP, rd, 0, L2SZ, RMI_ADDR_TYPE_SINGLE, 0));
	ENSURE(w, o.x[1] == L2SZ && o.x[2] == t_desc(B_PAGES(b), 3, 8));
	MUST(w, RMI_SUCCESS,
	     CALL(w, &o, RMI_FID_RTT_DATA_UNMAP, rd, L2SZ, 2 * L2SZ, RMI_ADDR_TYPE_SINGLE, 0));
	ENSURE(w, o.x[2] == t_desc(B_BLK(b), 2, 1));
	MUST(w, RMI_SUCCESS, CALL(w, &o, RMI_FID_RTT_UNPROT_UNMAP, rd, U, U + L2SZ, 0, 0));
	for (int i = 3; i >= 0; i--) {
		MUST(w, RMI_SUCCESS, CALL(w, &o, RMI_FID_RTT_DESTROY, rd, i >= 2 ? U : 0, i % 2 ? 3 : 2));
		ENSURE(w, o.x[1] == B_RTT(b, i));
	}
	MUST(w, RMI_SUCCESS, CALL(w, NULL, RMI_FID_REALM_DESTROY, rd));
	ENSURE(w, w_range(w, RMI_FID_GRANULE_RANGE_UNDELEGATE, B_BLK(b), 512));
	ENSURE(w, w_range(w, RMI_FID_GRANULE_RANGE_UNDELEGATE, B_RD(b), 24));
	return true;
}

static void *builder_main(void *arg)
{
	struct builder *b = arg;

	for (unsigned int i = 0; i < b->w.iters; i++)
		if (!build_cycle(b))
			break;
	return NULL;
}

static void test_two_realms(void **state)
{
	struct rk_machine *m = t_machine(64);
	struct builder b[2];
	uint8_t page[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = (uint8_t)(i * 31 + 7);
	for (int i = 0; i < 2; i++) {
		struct rmi_realm_params p;

		memset(&b[i], 0, sizeof(b[i]));
		b[i].w.m = m;
		b[i].w.iters = 200;
		b[i].base = T_DRAM_BASE + (uint64_t)(1 + i) * 8 * MIB;
		t_realm_params(&p, 40, B_ROOT(&b[i]), i ? RMI_HASH_SHA_512 : RMI_HASH_SHA_256);
		p.rtt_level_start = 1;
		p.rtt_num_start = 2;
		t_write(m, B_PARAMS(&b[i]), &p, sizeof(p));
		t_write(m, B_SRC(&b[i]), page, sizeof(page));
		t_ref_rim_init(i, 0, 40, 0, 5, 3, 0, b[i].rim);
		for (uint64_t k = 0; k < 8; k++)
			t_ref_rim_extend_data(i, b[i].rim, k * G, 1, page);
	}
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, builder_main, &b[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	check_workers(&b[0].w, 1);
	check_workers(&b[1].w, 1);
	t_assert_all_undelegated(m);
	rk_machine_destroy(m);
}

/* ---- 2. delegate / undelegate of overlapping ranges ---- */

#define DW_BASE (T_DRAM_BASE + 4 * MIB)
#define DW_N 256u

static void *delegator_main(void *arg)
{
	struct worker *w = arg;

	for (unsigned int i = 0; i < w->iters; i++) {
		uint64_t a = rnd(w, DW_N), n = 1 + rnd(w, 64), top = a + n > DW_N + 8 ? DW_N + 8 : a + n;
		uint64_t base = DW_BASE + a * G,
			 fid = rnd(w, 2) ? RMI_FID_GRANULE_RANGE_DELEGATE : RMI_FID_GRANULE_RANGE_UNDELEGATE;
		struct rmi_out o;
		uint64_t x0 = CALL(w, &o, fid, base, DW_BASE + top * G);

		ALLOWED(w, x0, B(RMI_SUCCESS) | B(RMI_ERROR_INPUT));
		if (x0 == RMI_SUCCESS)
			ENSURE(w, o.x[1] > base && o.x[1] <= DW_BASE + top * G);
		else
			ENSURE(w, o.x[1] == base);
	}
	return NULL;
}

static void test_delegate_race(void **state)
{
	struct rk_machine *m = t_machine(32);
	struct worker ws[4];
	uint8_t buf[4096];

	(void)state;
	memset(buf, 0x77, sizeof(buf));
	for (unsigned int i = 0; i < DW_N + 8; i++)
		t_write(m, DW_BASE + i * G, buf, sizeof(buf));
	for (unsigned int i = 0; i < 4; i++)
		ws[i] = (struct worker){ .m = m, .seed = 100 + i, .iters = 3000 };
	run_workers(ws, 4, delegator_main);
	t_check_gpt_consistent(m, NULL);
	/* every granule is NS with its host data intact or scrubbed, or DELEGATED and zero */
	for (unsigned int i = 0; i < DW_N + 8; i++) {
		uint64_t pa = DW_BASE + i * G;

		if (t_gstate(m, pa) == GRANULE_STATE_DELEGATED) {
			assert_true(t_gzero(m, pa));
		} else {
			t_read(m, pa, buf, sizeof(buf));
			for (size_t k = 1; k < sizeof(buf); k++)
				assert_int_equal(buf[k], buf[0]);
			assert_true(buf[0] == 0 || buf[0] == 0x77);
		}
	}
	t_undelegate_all(m);
	t_assert_all_undelegated(m);
	rk_machine_destroy(m);
}

/* ---- 3. one realm, the same IPA ranges and the same granules ---- */

struct shared {
	uint64_t rd, src, pool, npool, blocks; /* pool: DELEGATED granules; blocks: 4 x 2 MiB */
	uint64_t lists[8];
};

static struct shared sh;

static uint64_t pool_pa(struct worker *w)
{
	return rnd(w, 4) ? sh.pool + rnd(w, sh.npool) * G : sh.blocks + rnd(w, 2048) * G;
}

static uint64_t race_ipa(struct worker *w)
{
	return rnd(w, 2) * L2SZ + rnd(w, 512) * G; /* [0, 4 MiB): two L3 tables' worth */
}

static void *mapper_main(void *arg)
{
	struct worker *w = arg;
	struct rmi_out o;

	for (unsigned int i = 0; i < w->iters; i++) {
		uint64_t x0, ipa = race_ipa(w);

		switch (rnd(w, 4)) {
		case 0: { /* pages */
			uint64_t cnt = 1 + rnd(w, 4), top = ipa + cnt * G;
			x0 = CALL(w, &o, RMI_FID_RTT_DATA_MAP, sh.rd, ipa, top, RMI_ADDR_TYPE_SINGLE,
				  t_desc(pool_pa(w), 3, cnt));
			ALLOWED(w, x0, B(RMI_SUCCESS) | B(RMI_ERROR_INPUT) | B(RMI_ERROR_RTT));
			if (x0 == RMI_SUCCESS) {
				ENSURE(w, o.x[1] > ipa && o.x[1] <= top);
				w->nok++;
			}
			break;
		}
		case 1: { /* a 2 MiB block */
			uint64_t base = rnd(w, 2) * L2SZ;
			x0 = CALL(w, &o, RMI_FID_RTT_DATA_MAP, sh.rd, base, base + L2SZ, RMI_ADDR_TYPE_SINGLE,
				  t_desc(sh.blocks + rnd(w, 4) * L2SZ, 2, 1));
			ALLOWED(w, x0, B(RMI_SUCCESS) | B(RMI_ERROR_INPUT) | B(RMI_ERROR_RTT));
			w->nok += x0 == RMI_SUCCESS;
			break;
		}
		case 2: /* measured populate */
			x0 = CALL(w, NULL, RMI_FID_RTT_DATA_MAP_INIT, sh.rd, pool_pa(w), ipa, sh.src,
				  rnd(w, 2));
			ALLOWED(w, x0, B(RMI_SUCCESS) | B(RMI_ERROR_INPUT) | B(RMI_ERROR_RTT));
			w->nok += x0 == RMI_SUCCESS;
			break;
		default: { /* LIST */
			uint64_t list = sh.lists[w->seed % 4], d[3];
			for (int k = 0; k < 3; k++)
				d[k] = t_desc(pool_pa(w), 3, 1);
			(void)rk_ns_write(w->m, list, d, sizeof(d));
			x0 = CALL(w, &o, RMI_FID_RTT_DATA_MAP, sh.rd, ipa, ipa + 3 * G,
				  RMI_ADDR_TYPE_LIST | (3 << 2), list);
			ALLOWED(w, x0, B(RMI_SUCCESS) | B(RMI_ERROR_INPUT) | B(RMI_ERROR_RTT));
			w->nok += x0 == RMI_SUCCESS;
			break;
		}
		}
	}
	return NULL;
}

static void *unmapper_main(void *arg)
{
	struct worker *w = arg;
	struct rmi_out o;

	for (unsigned int i = 0; i < w->iters; i++) {
		uint64_t base = race_ipa(w) & ~(rnd(w, 2) ? L2SZ - 1 : G - 1),
			 top = base + G * (1 + rnd(w, 1024));
		uint64_t type = rnd(w, 3), x0;

		if (top > 2 * L2SZ)
			top = 2 * L2SZ;
		if (top <= base)
			continue;
		if (type == RMI_ADDR_TYPE_LIST)
			x0 = CALL(w, &o, RMI_FID_RTT_DATA_UNMAP, sh.rd, base, top, type | (64 << 2),
				  sh.lists[4 + w->seed % 4]);
		else
			x0 = CALL(w, &o, RMI_FID_RTT_DATA_UNMAP, sh.rd, base, top, type, 0);
		/* ERROR_RTT: base inside a block, or a block larger than the range */
		ALLOWED(w, x0, B(RMI_SUCCESS) | B(RMI_ERROR_RTT));
		if (x0 == RMI_SUCCESS) {
			ENSURE(w, o.x[1] > base);
			w->nok += o.x[2] || o.x[3] || type == RMI_ADDR_TYPE_NONE;
		} else {
			ENSURE(w, o.x[1] == 0);
		}
	}
	return NULL;
}

static void *rtt_main(void *arg)
{
	struct worker *w = arg;
	struct rmi_out o;

	for (unsigned int i = 0; i < w->iters; i++) {
		uint64_t ipa = rnd(w, 2) * L2SZ, x0;

		switch (rnd(w, 8)) {
		case 0:
		case 2:
		case 3:
		case 4:
		case 5:
			x0 = CALL(w, NULL, RMI_FID_RTT_CREATE, sh.rd, pool_pa(w), ipa, 3);
			ALLOWED(w, x0, B(RMI_SUCCESS) | B(RMI_ERROR_INPUT) | B(RMI_ERROR_RTT));
			if (ST(x0) == RMI_ERROR_RTT)
				ENSURE(w, x0 == T_RTT(2));
			w->nok += x0 == RMI_SUCCESS;
			break;
		case 1:
			x0 = CALL(w, &o, RMI_FID_RTT_FOLD, sh.rd, ipa, 3);
			ALLOWED(w, x0, B(RMI_SUCCESS) | B(RMI_ERROR_RTT));
			break;
		default:
			x0 = CALL(w, &o, RMI_FID_RTT_DESTROY, sh.rd, ipa, 3);
			ALLOWED(w, x0, B(RMI_SUCCESS) | B(RMI_ERROR_RTT));
			w->nok += x0 == RMI_SUCCESS;
			break;
		}
	}
	return NULL;
}

static void *misc_main(void *arg)
{
	struct worker *w = arg;
	struct rmi_out o;

	for (unsigned int i = 0; i < w->iters; i++) {
		uint64_t x0, ipa = race_ipa(w);

		switch (rnd(w, 4)) {
		case 0:
			MUST(w, RMI_SUCCESS, CALL(w, &o, RMI_FID_RTT_READ_ENTRY, sh.rd, ipa, 3));
			ENSURE(w, o.x[1] >= 2 && o.x[1] <= 3 && o.x[2] <= RMI_RTTE_TABLE);
			break;
		case 1:
			x0 = CALL(w, &o, RMI_FID_RTT_INIT_RIPAS, sh.rd, ipa, ipa + G * (1 + rnd(w, 600)));
			ALLOWED(w, x0, B(RMI_SUCCESS) | B(RMI_ERROR_RTT));
			break;
		case 2: { /* take a pool granule away from the realm world for a while */
			uint64_t pa = pool_pa(w);
			x0 = CALL(w, &o, RMI_FID_GRANULE_RANGE_UNDELEGATE, pa, pa + G);
			ALLOWED(w, x0, B(RMI_SUCCESS) | B(RMI_ERROR_INPUT));
			if (x0 == RMI_SUCCESS)
				MUST(w, RMI_SUCCESS, CALL(w, &o, RMI_FID_GRANULE_RANGE_DELEGATE, pa, pa + G));
			break;
		}
		default:
			x0 = CALL(w, &o, RMI_FID_RTT_UNPROT_UNMAP, sh.rd, U, U + L2SZ, 0, 0);
			ALLOWED(w, x0, B(RMI_SUCCESS) | B(RMI_ERROR_RTT));
			break;
		}
	}
	return NULL;
}

static void *same_realm_main(void *arg)
{
	struct worker *w = arg;
	void *(*fns[])(void *) = { mapper_main, unmapper_main, rtt_main, misc_main };

	return fns[w->role % 4](arg);
}

static void test_same_realm_race(void **state)
{
	struct rk_machine *m = t_machine(64);
	struct t_pool p;
	struct worker ws[4];
	uint64_t counts[GRANULE_STATE_COUNT], nrtt = 0, ndata = 0;

	(void)state;
	t_pool_init(&p, T_DRAM_BASE + MIB, 8192);
	sh.rd = t_realm_new(m, &p, 40, 1, 2, RMI_HASH_SHA_256);
	t_rtt_to(m, sh.rd, 0, 2, &p);
	t_rtt_to(m, sh.rd, U, 3, &p);
	sh.src = t_pool_get(&p, 1, 0);
	for (int i = 0; i < 8; i++)
		sh.lists[i] = t_pool_get(&p, 1, 0);
	sh.npool = 256;
	sh.pool = t_pool_delegated(m, &p, sh.npool, 0);
	sh.blocks = t_pool_delegated(m, &p, 2048, L2SZ);
	for (unsigned int i = 0; i < 4; i++)
		ws[i] = (struct worker){ .m = m, .seed = 4 * (7 + i) + i, .iters = 8000, .role = i };
	/* the race must have raced: each kind of change happened many times. How
	 * many times in one round depends on how the threads were scheduled (on a
	 * loaded machine one may run alone for long): more rounds until it has. */
	for (unsigned int round = 0; round < 50; round++) {
		run_workers(ws, 4, same_realm_main);
		if (ws[0].nok > 50 && ws[1].nok > 50 && ws[2].nok > 0)
			break;
	}
	print_message("same realm: %u maps, %u unmaps, %u RTT creates/destroys\n", ws[0].nok, ws[1].nok,
		      ws[2].nok);
	assert_true(ws[0].nok > 50 && ws[1].nok > 50 && ws[2].nok > 0);

	/* invariants after the storm */
	t_check_gpt_consistent(m, counts);
	t_check_realm(m, sh.rd, &nrtt, &ndata);
	assert_int_equal(counts[GRANULE_STATE_RTT], nrtt);
	assert_int_equal(counts[GRANULE_STATE_DATA], ndata);
	assert_int_equal(counts[GRANULE_STATE_RD], 1);
	t_teardown_all(m);
	rk_machine_destroy(m);
}

/* ---- 4. commands on a realm racing its destruction and the re-use of its granules ---- */

#define RX_RD (T_DRAM_BASE + 8 * MIB)
#define RX_RD2 (RX_RD + G)
#define RX_ROOT (RX_RD + 2 * G) /* 2 roots, used by both realms in turn */
#define RX_L2 (RX_RD + 4 * G)
#define RX_L3 (RX_RD + 5 * G)
#define RX_PAGE (RX_RD + 6 * G)
#define RX_N 7
#define RX_PARAMS (T_DRAM_BASE + 12 * MIB)

static atomic_int rx_stop;

/*
 * Realm A (RX_RD) and realm B (RX_RD2) are created in turn on the same root
 * RTTs; between two realms the host undelegates every granule and fills it
 * with TABLE descriptors pointing outside DRAM. A command that walked a realm
 * it no longer holds would crash or corrupt state. The racers may take the
 * realm's tables apart under the recycler's feet (RTT_DESTROY/FOLD are legal
 * in any state), so the recycler accepts ERROR_RTT while it builds.
 */
static void *recycler_main(void *arg)
{
	struct worker *w = arg;
	const uint32_t built = B(RMI_SUCCESS) | B(RMI_ERROR_RTT);
	uint64_t tab[512];
	struct rmi_out o;

	for (int k = 0; k < 512; k++)
		tab[k] = 0x1003; /* a TABLE entry pointing outside DRAM */
	for (unsigned int i = 0; i < w->iters; i++) {
		uint64_t rd = i % 2 ? RX_RD2 : RX_RD;

		if (!w_range(w, RMI_FID_GRANULE_RANGE_DELEGATE, RX_RD, RX_N))
			break;
		MUST(w, RMI_SUCCESS, CALL(w, NULL, RMI_FID_REALM_CREATE, rd, RX_PARAMS));
		ALLOWED(w, CALL(w, NULL, RMI_FID_RTT_CREATE, rd, RX_L2, 0, 2), built);
		ALLOWED(w, CALL(w, NULL, RMI_FID_RTT_CREATE, rd, RX_L3, 0, 3), built);
		ALLOWED(w,
			CALL(w, &o, RMI_FID_RTT_DATA_MAP, rd, 4 * G, 5 * G, RMI_ADDR_TYPE_SINGLE,
			     t_desc(RX_PAGE, 3, 1)),
			built);
		MUST(w, RMI_SUCCESS, CALL(w, NULL, RMI_FID_REALM_TERMINATE, rd));
		MUST(w, RMI_SUCCESS, CALL(w, &o, RMI_FID_RTT_DATA_UNMAP, rd, 0, L2SZ, 0, 0));
		ALLOWED(w, CALL(w, &o, RMI_FID_RTT_DESTROY, rd, 0, 3), built);
		ALLOWED(w, CALL(w, &o, RMI_FID_RTT_DESTROY, rd, 0, 2), built);
		MUST(w, RMI_SUCCESS, CALL(w, NULL, RMI_FID_REALM_DESTROY, rd));
		if (!w_range(w, RMI_FID_GRANULE_RANGE_UNDELEGATE, RX_RD, RX_N))
			break;
		for (uint64_t pa = RX_RD; pa < RX_RD + RX_N * G; pa += G)
			ENSURE(w, rk_ns_write(w->m, pa, tab, sizeof(tab)) == 0);
	}
	atomic_store(&rx_stop, 1);
	return NULL;
}

static void *racer_main(void *arg)
{
	struct worker *w = arg;
	struct rmi_out o;
	const uint32_t any_rtt = B(RMI_SUCCESS) | B(RMI_ERROR_INPUT) | B(RMI_ERROR_RTT) | B(RMI_ERROR_REALM);

	while (!atomic_load(&rx_stop)) {
		uint64_t rd = rnd(w, 2) ? RX_RD : RX_RD2, x0;

		switch (rnd(w, 6)) {
		case 0:
			x0 = CALL(w, &o, RMI_FID_RTT_DATA_UNMAP, rd, 0, L2SZ, 0, 0);
			break;
		case 1:
			x0 = CALL(w, &o, RMI_FID_RTT_UNPROT_UNMAP, rd, U, U + L2SZ, 0, 0);
			break;
		case 2:
			x0 = CALL(w, &o, RMI_FID_RTT_READ_ENTRY, rd, 4 * G, 3);
			break;
		case 3:
			x0 = CALL(w, &o, RMI_FID_RTT_DESTROY, rd, 0, 2);
			break;
		case 4:
			x0 = CALL(w, &o, RMI_FID_RTT_FOLD, rd, 0, 2);
			break;
		default:
			x0 = CALL(w, &o, RMI_FID_RTT_INIT_RIPAS, rd, 0, L2SZ);
			break;
		}
		ALLOWED(w, x0, any_rtt);
	}
	return NULL;
}

static void *recycle_race_main(void *arg)
{
	struct worker *w = arg;

	return w->seed == 0 ? recycler_main(arg) : racer_main(arg);
}

static void test_destroy_race(void **state)
{
	struct rk_machine *m = t_machine(32);
	struct rmi_realm_params p;
	struct worker ws[4];

	(void)state;
	t_realm_params(&p, 40, RX_ROOT, RMI_HASH_SHA_256);
	p.rtt_level_start = 1;
	p.rtt_num_start = 2;
	t_write(m, RX_PARAMS, &p, sizeof(p));
	atomic_store(&rx_stop, 0);
	/* more threads than cores: racers get preempted inside commands */
	for (unsigned int i = 0; i < 4; i++)
		ws[i] = (struct worker){ .m = m, .seed = i, .iters = 2000 };
	run_workers(ws, 4, recycle_race_main);
	t_check_gpt_consistent(m, NULL);
	t_teardown_all(m);
	rk_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_realms),
		cmocka_unit_test(test_delegate_race),
		cmocka_unit_test(test_same_realm_race),
		cmocka_unit_test(test_destroy_race),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
