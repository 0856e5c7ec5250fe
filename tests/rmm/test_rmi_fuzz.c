/* SPDX-License-Identifier: MIT */
/*
 * Random RMI calls against a machine holding a built realm. Bad input from
 * the host must never crash, assert, leak or corrupt state.
 *
 *  - garbage: every implemented RMI command (whatever the dispatch table
 *    holds) with argument values that name no granule and no valid IPA:
 *    nothing may change at all (whole-machine snapshot).
 *  - biased: the memory-management commands with arguments drawn from the
 *    realm's own objects (RD, RTTs, DATA, delegated and NS granules), IPAs
 *    near table and half boundaries, descriptors, flags and levels. State may
 *    change legitimately; the invariants are checked as it goes (GPT agrees
 *    with granule states, no lock held, every RTT refcount equals its live
 *    entries, DATA granules referenced once), the realm must still be there,
 *    and everything must tear down to all-UNDELEGATED.
 *
 * Deterministic: seeds are fixed (RK_FUZZ_SEED overrides; RK_FUZZ_ITERS sets
 * the iterations of each biased run).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "machine.h"
#include "rk_test.h"
#include "rmm/realm.h"
#include "rmm/rmi/rmi.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)
#define L2SZ (2 * MIB)
#define DRAM_MIB 64ULL
#define DRAM_END (T_DRAM_BASE + DRAM_MIB * MIB)
#define U (1ULL << 39)

/* The built realm and the pools the biased arguments come from. */
struct world {
	struct rk_machine *m;
	uint64_t seed;
	uint64_t rd;
	uint64_t params, list, src;
	uint64_t objs[64];
	unsigned int nobjs;
	uint64_t pool, npool;     /* DELEGATED granules for the fuzzer (some become RTT/DATA) */
	uint64_t nspool, nnspool; /* NS granules */
};

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

static uint64_t rnd(struct world *w)
{
	return t_rand(&w->seed);
}

static uint64_t below(struct world *w, uint64_t n)
{
	return n ? rnd(w) % n : 0;
}

/* ---- building the realm ---- */

static void build(struct world *w)
{
	struct rk_machine *m = w->m;
	struct t_pool p;
	struct rmi_out o;
	uint8_t page[4096];

	t_pool_init(&p, T_DRAM_BASE + MIB, (DRAM_MIB - 2) * MIB / G);
	w->rd = t_realm_new(m, &p, 40, 1, 2, RMI_HASH_SHA_256);
	w->params = t_pool_get(&p, 1, 0);
	w->list = t_pool_get(&p, 1, 0);
	w->src = t_pool_get(&p, 1, 0);
	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = (uint8_t)(i ^ 0x5a);
	t_write(m, w->src, page, sizeof(page));
	/* tables at 0 (L2, L3), 1 GiB (L2), U (L2, L3) */
	t_rtt_to(m, w->rd, 0, 3, &p);
	t_rtt_to(m, w->rd, L2SZ, 3, &p);
	t_rtt_to(m, w->rd, GIB, 2, &p);
	t_rtt_to(m, w->rd, U, 3, &p);
	/* measured pages, unmeasured pages, a 2 MiB block, RIPAS RAM, NS pages */
	for (uint64_t i = 0; i < 8; i++)
		assert_int_equal(RMI(m, RMI_FID_RTT_DATA_MAP_INIT, NULL, w->rd, t_pool_delegated(m, &p, 1, 0),
				     i * G, w->src, i & 1),
				 RMI_SUCCESS);
	uint64_t d = t_pool_delegated(m, &p, 8, 0);
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_MAP, &o, w->rd, L2SZ, L2SZ + 8 * G, RMI_ADDR_TYPE_SINGLE,
			     t_desc(d, 3, 8)),
			 RMI_SUCCESS);
	uint64_t b = t_pool_delegated(m, &p, 512, L2SZ);
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_MAP, &o, w->rd, GIB + L2SZ, GIB + 2 * L2SZ,
			     RMI_ADDR_TYPE_SINGLE, t_desc(b, 2, 1)),
			 RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_RTT_INIT_RIPAS, &o, w->rd, 16 * G, 64 * G), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_RTT_UNPROT_MAP, &o, w->rd, U, U + 4 * G,
			     t_unprot_flags(RMI_ADDR_TYPE_SINGLE, 6, 3), t_desc(DRAM_END - 4 * MIB, 3, 4)),
			 RMI_SUCCESS);
	t_check_realm(m, w->rd, NULL, NULL);

	/* objects the biased arguments name */
	const struct rd *r = t_rd(m, w->rd);
	w->nobjs = 0;
	w->objs[w->nobjs++] = w->rd;
	w->objs[w->nobjs++] = r->s2.rtt_base;
	w->objs[w->nobjs++] = r->s2.rtt_base + G;
	w->objs[w->nobjs++] = t_raw_entry(m, w->rd, 0, 1, NULL) & S2_DESC_OA_MASK;
	w->objs[w->nobjs++] = t_raw_entry(m, w->rd, 0, 2, NULL) & S2_DESC_OA_MASK;
	w->objs[w->nobjs++] = t_raw_entry(m, w->rd, U, 2, NULL) & S2_DESC_OA_MASK;
	w->objs[w->nobjs++] = d;
	w->objs[w->nobjs++] = b;
	w->objs[w->nobjs++] = b + 17 * G;
	w->objs[w->nobjs++] = w->params;
	w->objs[w->nobjs++] = w->list;
	w->objs[w->nobjs++] = w->src;
	/* the fuzzer's own granules: 1024 delegated (two 2 MiB-aligned blocks among them), 256 NS */
	w->pool = t_pool_delegated(m, &p, 1024, L2SZ);
	w->npool = 1024;
	w->nspool = t_pool_get(&p, 256, 0);
	w->nnspool = 256;
	w->objs[w->nobjs++] = w->pool;
	w->objs[w->nobjs++] = w->pool + L2SZ;
	w->objs[w->nobjs++] = w->nspool;
}

/* ---- argument generators ---- */

/* Values that name no granule and no usable IPA: for the garbage phase. */
static uint64_t garbage(struct world *w)
{
	switch (below(w, 5)) {
	case 0:
		return rnd(w);
	case 1: /* DRAM address, not even 8-byte aligned */
		return T_DRAM_BASE + (below(w, DRAM_MIB * MIB) & ~0xfffULL) + 1 + 2 * below(w, 0x7ff);
	case 2: /* beyond the IPA space and DRAM */
		return (1ULL << 44) + below(w, 1ULL << 40) + (1ULL << 47) * below(w, 2);
	case 3: /* aligned, beyond the IPA space and DRAM */
		return (1ULL << 41) + G * below(w, 1ULL << 30);
	default: /* high bits set */
		return rnd(w) | (1ULL << 63) | 0x7;
	}
}

static uint64_t pick_pa(struct world *w)
{
	switch (below(w, 6)) {
	case 0:
		return w->objs[below(w, w->nobjs)];
	case 1:
	case 2:
		return w->pool + below(w, w->npool) * G;
	case 3:
		return w->nspool + below(w, w->nnspool) * G;
	case 4:
		return T_DRAM_BASE + below(w, DRAM_MIB * MIB / G) * G;
	default:
		return w->pool + below(w, 2) * L2SZ;
	}
}

static uint64_t pick_ipa(struct world *w)
{
	static const uint64_t edges[] = { 0,     G,          L2SZ - G,         L2SZ,      4 * L2SZ, GIB - G,
					  GIB,   GIB + L2SZ, 2 * GIB,          U - G,     U - L2SZ, U,
					  U + G, U + L2SZ,   (1ULL << 40) - G, 1ULL << 40 };
	uint64_t align = below(w, 3) == 0 ? GIB : below(w, 2) ? G : L2SZ;

	switch (below(w, 4)) {
	case 0:
		return edges[below(w, sizeof(edges) / sizeof(edges[0]))];
	case 1: /* around the populated tables */
		return below(w, 2) * GIB + below(w, 1024) * G;
	case 2:
		return U + below(w, 1024) * G;
	default:
		return below(w, 1ULL << 41) & ~(align - 1);
	}
}

/* An IPA where the realm has tables, mappings or both. */
static uint64_t pick_populated_ipa(struct world *w)
{
	switch (below(w, 4)) {
	case 0:
		return below(w, 1024) * G; /* L3 tables at 0 and 2 MiB */
	case 1:
		return GIB + below(w, 4) * L2SZ; /* L2 table at 1 GiB, a 2 MiB block */
	case 2:
		return U + below(w, 512) * G; /* NS L3 table */
	default:
		return below(w, 8) * GIB; /* root entries */
	}
}

static uint64_t pick_desc(struct world *w)
{
	uint64_t level = 1 + below(w, 3), cnt = below(w, 3) == 0 ? below(w, 1024) : 1 + below(w, 4);
	uint64_t pa = below(w, 3) ? pick_pa(w) : w->objs[below(w, w->nobjs)];

	if (level < 3)
		pa &= ~(L2SZ - 1);
	return t_desc(pa & RMI_ADDR_RANGE_ADDR_MASK, (int)level, cnt & 0x3ff) |
	       (below(w, 8) ? 0 : T_DESC_UNDELEGATED);
}

static uint64_t pick_flags(struct world *w)
{
	return below(w, 4) | (below(w, 4) ? 0 : below(w, 600) << 2) | (below(w, 8) << 16) |
	       (below(w, 16) << 19);
}

static uint64_t pick_any(struct world *w)
{
	switch (below(w, 9)) {
	case 0:
		return rnd(w);
	case 1:
		return below(w, 8);
	case 2:
	case 3:
		return pick_pa(w) + (below(w, 8) ? 0 : below(w, 4096));
	case 4:
	case 5:
		return pick_ipa(w);
	case 6:
		return pick_desc(w);
	case 7:
		return pick_flags(w);
	default: {
		static const uint64_t v[] = { 0,      ~0ULL,      1ULL << 63, 0xfff,
					      0x1000, 1ULL << 48, ~0xfffULL,  0x20000 };
		return v[below(w, sizeof(v) / sizeof(v[0]))];
	}
	}
}

/* Random page contents: a list of descriptors, or realm parameters (mostly valid, mutated). */
static void scribble(struct world *w)
{
	uint64_t buf[512];

	for (int i = 0; i < 512; i++)
		buf[i] = below(w, 2) ? pick_desc(w) : pick_any(w);
	(void)rk_ns_write(w->m, w->list, buf, sizeof(buf));

	struct rmi_realm_params p;
	t_realm_params(&p, 32 + (unsigned int)below(w, 18), pick_pa(w) & ~0xffffULL,
		       (unsigned int)below(w, 4));
	p.rtt_level_start = (int64_t)below(w, 5) - 1;
	p.rtt_num_start = 1ULL << below(w, 5);
	if (!below(w, 4))
		p.flags0 = below(w, 512);
	if (!below(w, 4))
		((uint64_t *)&p)[below(w, 512)] = pick_any(w);
	(void)rk_ns_write(w->m, w->params, &p, sizeof(p));
}

/* ---- invariants ---- */

static void check_world(struct world *w)
{
	struct rmm *rmm = machine_rmm(w->m);
	struct platform *p = machine_platform(w->m);
	uint64_t counts[GRANULE_STATE_COUNT], nrtt = 0, ndata = 0, nrd = 0;

	t_check_gpt_consistent(w->m, counts);
	assert_int_equal(t_gstate(w->m, w->rd), GRANULE_STATE_RD);
	unsigned int st = t_realm_state(w->m, w->rd);
	assert_true(st == RMI_REALM_STATE_NEW || st == RMI_REALM_STATE_ACTIVE);
	for (uint64_t i = 0; i < p->ngranules; i++)
		if (granule_state(&rmm->granules[i]) == GRANULE_STATE_RD) {
			t_check_realm(w->m, plat_gidx_to_pa(p, i), &nrtt, &ndata);
			nrd++;
		}
	/* every RTT and DATA granule belongs to a realm's tree */
	assert_int_equal(counts[GRANULE_STATE_RD], nrd);
	assert_int_equal(counts[GRANULE_STATE_RTT], nrtt);
	assert_int_equal(counts[GRANULE_STATE_DATA], ndata);
	/* L6: DELEGATED granules are zero */
	for (uint64_t i = 0; i < p->ngranules; i += 7)
		if (granule_state(&rmm->granules[i]) == GRANULE_STATE_DELEGATED)
			assert_true(t_gzero(w->m, plat_gidx_to_pa(p, i)));
}

/* ---- the garbage phase: all implemented commands, nothing may change ---- */

static void garbage_phase(struct world *w, unsigned int iters)
{
	uint64_t fids[RMI_FNUM_MAX - RMI_FNUM_MIN + 1];
	unsigned int n = 0;

	for (unsigned int f = RMI_FNUM_MIN; f <= RMI_FNUM_MAX; f++) {
		const struct rmi_cmd_desc *c = &rmi_cmd_table[f - RMI_FNUM_MIN];
		if (c->defined && c->handler && c->gate != RMI_GATE_INIT)
			fids[n++] = SMC_FID_BASE | f;
	}
	assert_true(n >= 21);
	struct t_snap *s = t_snap_take(w->m);
	for (unsigned int i = 0; i < iters; i++) {
		uint64_t fid = fids[i % n] | (below(w, 2) ? SMC_FID_SVE_HINT : 0), a[6];

		for (int k = 0; k < 6; k++)
			a[k] = garbage(w);
		/* the RD itself, with garbage around it (not for the one-argument state changes) */
		if (below(w, 3) == 0 && fids[i % n] != RMI_FID_REALM_ACTIVATE &&
		    fids[i % n] != RMI_FID_REALM_TERMINATE)
			a[0] = w->rd;
		rmi_args(w->m, fid, NULL, a, 6);
		if (i % 997 == 0)
			t_snap_check(w->m, s);
	}
	t_snap_check(w->m, s);
	t_snap_free(s);
}

/* ---- the biased phase: the memory-management commands ---- */

static const uint64_t mm_fids[] = {
	RMI_FID_VERSION,
	RMI_FID_FEATURES,
	RMI_FID_RMM_CONFIG_GET,
	RMI_FID_RMM_CONFIG_SET,
	RMI_FID_RMM_ACTIVATE,
	RMI_FID_GRANULE_TRACKING_GET,
	RMI_FID_GRANULE_RANGE_DELEGATE,
	RMI_FID_GRANULE_RANGE_UNDELEGATE,
	RMI_FID_GPT_L1_CREATE,
	RMI_FID_REALM_CREATE,
	RMI_FID_REALM_ACTIVATE,
	RMI_FID_REALM_TERMINATE,
	RMI_FID_REALM_DESTROY,
	RMI_FID_RTT_CREATE,
	RMI_FID_RTT_DESTROY,
	RMI_FID_RTT_FOLD,
	RMI_FID_RTT_READ_ENTRY,
	RMI_FID_RTT_INIT_RIPAS,
	RMI_FID_RTT_DATA_MAP_INIT,
	RMI_FID_RTT_DATA_MAP,
	RMI_FID_RTT_DATA_UNMAP,
	RMI_FID_RTT_UNPROT_MAP,
	RMI_FID_RTT_UNPROT_UNMAP,
};

static void biased_call(struct world *w, uint64_t *nsuccess, unsigned int *ok_by_fnum)
{
	uint64_t fid = mm_fids[below(w, sizeof(mm_fids) / sizeof(mm_fids[0]))], a[6];
	struct rmi_out o;

	for (int k = 0; k < 6; k++)
		a[k] = pick_any(w);
	switch (fid) {
	case RMI_FID_REALM_CREATE:
		a[0] = pick_pa(w);
		a[1] = below(w, 4) ? w->params : pick_any(w);
		break;
	case RMI_FID_RTT_CREATE:
		a[0] = below(w, 4) ? w->rd : pick_pa(w);
		a[1] = pick_pa(w);
		a[2] = pick_ipa(w);
		a[3] = below(w, 6);
		break;
	case RMI_FID_RTT_DESTROY:
	case RMI_FID_RTT_FOLD:
	case RMI_FID_RTT_READ_ENTRY:
		a[0] = below(w, 4) ? w->rd : pick_pa(w);
		a[1] = pick_ipa(w);
		a[2] = below(w, 6);
		break;
	case RMI_FID_RTT_INIT_RIPAS:
		a[0] = below(w, 4) ? w->rd : pick_pa(w);
		a[1] = pick_ipa(w);
		a[2] = below(w, 2) ? a[1] + G * (1 + below(w, 1024)) : pick_ipa(w);
		break;
	case RMI_FID_RTT_DATA_MAP_INIT:
		a[0] = below(w, 4) ? w->rd : pick_pa(w);
		a[1] = pick_pa(w);
		a[2] = pick_ipa(w);
		a[3] = below(w, 4) ? w->src : pick_pa(w);
		a[4] = below(w, 5);
		break;
	case RMI_FID_RTT_DATA_MAP:
	case RMI_FID_RTT_UNPROT_MAP:
	case RMI_FID_RTT_DATA_UNMAP:
	case RMI_FID_RTT_UNPROT_UNMAP:
		a[0] = below(w, 5) ? w->rd : pick_pa(w);
		a[1] = below(w, 3) ? pick_populated_ipa(w) : pick_ipa(w);
		a[2] = below(w, 4) ? a[1] + (G << (9 * below(w, 2))) * (1 + below(w, 4)) : pick_ipa(w);
		a[3] = pick_flags(w);
		if (below(w, 4))
			a[3] = (a[3] & ~3ULL) | (below(w, 3) ? RMI_ADDR_TYPE_SINGLE : RMI_ADDR_TYPE_LIST);
		a[4] = below(w, 2) ? pick_desc(w) : below(w, 2) ? w->list + 8 * below(w, 520) : 0;
		if ((fid == RMI_FID_RTT_DATA_UNMAP || fid == RMI_FID_RTT_UNPROT_UNMAP) && below(w, 2)) {
			a[3] &= 3;
			a[4] = a[3] == RMI_ADDR_TYPE_LIST ? w->list : 0;
			a[3] |= a[3] == RMI_ADDR_TYPE_LIST ? (1 + below(w, 600)) << 2 : 0;
		}
		break;
	case RMI_FID_GRANULE_RANGE_DELEGATE:
	case RMI_FID_GRANULE_RANGE_UNDELEGATE:
		a[0] = pick_pa(w);
		a[1] = below(w, 2) ? a[0] + G * (1 + below(w, 600)) : pick_any(w);
		break;
	default:
		break;
	}
	/* the realm under test stays alive: no TERMINATE/DESTROY of it */
	if ((fid == RMI_FID_REALM_TERMINATE || fid == RMI_FID_REALM_DESTROY) && a[0] == w->rd)
		a[0] = w->pool;
	if (!below(w, 50))
		scribble(w);
	if (rmi_args(w->m, fid | (below(w, 4) ? 0 : SMC_FID_SVE_HINT), &o, a, 6) == RMI_SUCCESS) {
		(*nsuccess)++;
		ok_by_fnum[fid - SMC_FID_BASE - RMI_FNUM_MIN]++;
	}
}

static void fuzz_run(uint64_t seed, unsigned int iters)
{
	struct world w;
	struct rk_machine_config cfg;
	uint64_t nsuccess = 0;
	unsigned int ok[RMI_FNUM_MAX - RMI_FNUM_MIN + 1] = { 0 };

	memset(&w, 0, sizeof(w));
	rk_machine_config_default(&cfg);
	cfg.dram_size = DRAM_MIB * MIB;
	cfg.ncarveouts = 1;
	cfg.carveouts[0] = (struct rk_pas_region){ DRAM_END - 2 * MIB, 16 * G, RK_PAS_SECURE };
	w.m = t_machine_cfg(&cfg, true);
	w.seed = seed;
	print_message("fuzz seed 0x%llx, %u iterations\n", (unsigned long long)seed, iters);
	build(&w);
	w.objs[w.nobjs++] = DRAM_END - 2 * MIB; /* a Secure granule */
	check_world(&w);

	garbage_phase(&w, iters / 2);
	for (unsigned int i = 0; i < iters; i++) {
		biased_call(&w, &nsuccess, ok);
		if (i == iters / 2)
			(void)RMI(w.m, RMI_FID_REALM_ACTIVATE, NULL, w.rd); /* NEW- and ACTIVE-only paths */
		if (i % 512 == 511)
			check_world(&w);
	}
	check_world(&w);
	/* the fuzzer must have done real work, not only bounced off input checks */
	print_message("%llu successful calls:", (unsigned long long)nsuccess);
	for (unsigned int f = 0; f <= RMI_FNUM_MAX - RMI_FNUM_MIN; f++)
		if (ok[f])
			print_message(" %s %u", rmi_cmd_table[f].name, ok[f]);
	print_message("\n");
	static const uint64_t must[] = {
		RMI_FID_GRANULE_RANGE_DELEGATE,
		RMI_FID_GRANULE_RANGE_UNDELEGATE,
		RMI_FID_RTT_CREATE,
		RMI_FID_RTT_DESTROY,
		RMI_FID_RTT_READ_ENTRY,
		RMI_FID_RTT_INIT_RIPAS,
		RMI_FID_RTT_DATA_MAP,
		RMI_FID_RTT_DATA_UNMAP,
		RMI_FID_RTT_UNPROT_MAP,
		RMI_FID_RTT_UNPROT_UNMAP,
	};
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
		if (!ok[must[i] - SMC_FID_BASE - RMI_FNUM_MIN]) {
			print_error("%s never succeeded\n",
				    rmi_cmd_table[must[i] - SMC_FID_BASE - RMI_FNUM_MIN].name);
			fail();
		}
	}
	t_teardown_all(w.m);
	rk_machine_destroy(w.m);
}

static void test_fuzz_seed1(void **state)
{
	(void)state;
	fuzz_run(env_u64("RK_FUZZ_SEED", 0x5eed0001ULL), (unsigned int)env_u64("RK_FUZZ_ITERS", 60000));
}

static void test_fuzz_seed2(void **state)
{
	(void)state;
	fuzz_run(env_u64("RK_FUZZ_SEED", 0x5eed0001ULL) ^ 0xabcdef12345ULL,
		 (unsigned int)env_u64("RK_FUZZ_ITERS", 60000));
}

static void watchdog(int sig)
{
	static const char msg[] = "test_rmi_fuzz: watchdog: an RMI call did not return (livelock?)\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(1);
}

int main(void)
{
	signal(SIGALRM, watchdog);
	alarm((unsigned int)env_u64("RK_FUZZ_WATCHDOG", 300));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz_seed1),
		cmocka_unit_test(test_fuzz_seed2),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
