/* SPDX-License-Identifier: MIT */
/*
 * Realm lifecycle commands against the 2.0-bet1 digest (§5, §10.1, §13.2,
 * §16.2): REALM_CREATE (every RmiRealmParams field, every start-level /
 * root-count combination, granule states and aliasing, the order of its
 * failure conditions, VMIDs recycled), REALM_ACTIVATE, REALM_TERMINATE and
 * REALM_DESTROY. Every failure is checked to leave the RMM state (granules,
 * GPT, RTT and RD contents, the VMID allocator) unchanged.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "machine.h"
#include "rk_test.h"
#include "rmm/realm.h"
#include "rmm/vmid.h"

#define MIB (1ULL << 20)
#define RD_PA (T_DRAM_BASE + 1 * MIB)
#define RD2_PA (RD_PA + G)
#define ROOT_PA (T_DRAM_BASE + 2 * MIB) /* 16 roots, 64 KiB aligned */
#define ROOT2_PA (ROOT_PA + 32 * G)
#define POOL_PA (T_DRAM_BASE + 4 * MIB)
#define PARAMS_PA (T_DRAM_BASE + 32 * MIB)
#define NS_PA (T_DRAM_BASE + 33 * MIB)

#define CREATE RMI_FID_REALM_CREATE

static struct rk_machine *m;

static int setup(void **state)
{
	(void)state;
	m = t_machine(64);
	t_delegate(m, RD_PA, 2);
	t_delegate(m, ROOT_PA, 16);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	t_teardown_all(m);
	rk_machine_destroy(m);
	return 0;
}

/* A valid parameter set: s2sz 40, start level 1, 2 root RTTs at ROOT_PA. */
static void params_default(struct rmi_realm_params *p)
{
	t_realm_params(p, 40, ROOT_PA, RMI_HASH_SHA_256);
	p->rtt_level_start = 1;
	p->rtt_num_start = 2;
}

static uint64_t create_with(uint64_t rd, const struct rmi_realm_params *p)
{
	t_write(m, PARAMS_PA, p, sizeof(*p));
	return RMI(m, CREATE, NULL, rd, PARAMS_PA);
}

static void create_fails(uint64_t expect, uint64_t rd, const struct rmi_realm_params *p)
{
	t_write(m, PARAMS_PA, p, sizeof(*p));
	RMI_FAIL(m, expect, CREATE, rd, PARAMS_PA);
}

/* Destroy the realm at rd (no tables below the roots) leaving RD and roots DELEGATED. */
static void destroy(uint64_t rd)
{
	assert_int_equal(RMI(m, RMI_FID_REALM_TERMINATE, NULL, rd), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_REALM_DESTROY, NULL, rd), RMI_SUCCESS);
}

static bool vmid_used(uint16_t vmid)
{
	struct rmm *rmm = machine_rmm(m);

	return rmm->vmid_bitmap[vmid / 64] & (1ULL << (vmid % 64));
}

/* Root entries after REALM_CREATE: protected UNASSIGNED/EMPTY, unprotected UNASSIGNED_NS. */
static void check_fresh_roots(struct rk_machine *mm, uint64_t rd, unsigned int s2sz, int sl)
{
	uint64_t esz = s2_level_size(sl), lim = 1ULL << s2sz;
	uint64_t nrtt = 0, ndata = 0;
	struct rmi_out o;

	t_check_realm(mm, rd, &nrtt, &ndata);
	assert_int_equal(ndata, 0);
	for (uint64_t ipa = 0; ipa < lim; ipa += esz) {
		bool prot = ipa < lim / 2;

		assert_int_equal(t_entry_kind(mm, rd, ipa, sl),
				 prot ? S2TTE_UNASSIGNED : S2TTE_UNASSIGNED_NS);
		if (ipa % (lim / 8) == 0 || ipa + esz == lim) {
			assert_int_equal(RMI(mm, RMI_FID_RTT_READ_ENTRY, &o, rd, ipa, sl), RMI_SUCCESS);
			assert_int_equal(o.x[1], sl);
			assert_int_equal(o.x[2], RMI_RTTE_UNASSIGNED);
			assert_int_equal(o.x[3], 0);
			assert_int_equal(o.x[4], RMI_RIPAS_EMPTY);
		}
	}
}

/* ---- REALM_CREATE: success ---- */

static void test_create(void **state)
{
	struct rmi_realm_params p;
	uint8_t rim[64];

	(void)state;
	for (unsigned int algo = 0; algo <= 2; algo++) {
		params_default(&p);
		p.hash_algo = algo;
		for (int i = 0; i < 64; i++)
			p.rpv[i] = (uint8_t)(i * 3 + algo);
		assert_int_equal(create_with(RD_PA, &p), RMI_SUCCESS);
		assert_int_equal(t_gstate(m, RD_PA), GRANULE_STATE_RD);
		assert_int_equal(t_gstate(m, ROOT_PA), GRANULE_STATE_RTT);
		assert_int_equal(t_gstate(m, ROOT_PA + G), GRANULE_STATE_RTT);
		assert_int_equal(t_gstate(m, ROOT_PA + 2 * G), GRANULE_STATE_DELEGATED);
		assert_int_equal(t_refcount(m, RD_PA), 0);
		struct rd *rd = t_rd(m, RD_PA);
		assert_int_equal(rd->state, RMI_REALM_STATE_NEW);
		assert_int_equal(rd->hash_algo, algo);
		assert_memory_equal(rd->rpv, p.rpv, 64);
		assert_int_equal(rd->realm_id[0], 0x01);
		assert_true(rd->vmid != 0 && vmid_used(rd->vmid));
		t_ref_rim_init(algo, 0, 40, 0, 5, 3, 0, rim);
		assert_memory_equal(t_rim(m, RD_PA), rim, 64);
		check_fresh_roots(m, RD_PA, 40, 1);
		t_check_gpt_consistent(m, NULL);
		uint16_t vmid = rd->vmid;
		destroy(RD_PA);
		assert_false(vmid_used(vmid));
		assert_true(t_gzero(m, RD_PA));
		assert_true(t_gzero(m, ROOT_PA));
		assert_true(t_gzero(m, ROOT_PA + G));
	}
	/* the SHA-512 worked example of the digest (§16.5) */
	static const uint8_t ex512[64] = {
		0x1c, 0xda, 0x1f, 0xc6, 0x39, 0xe5, 0x60, 0x4d, 0xa5, 0x37, 0xf0, 0x4e, 0x7f,
		0x2d, 0x6f, 0x8e, 0x18, 0x89, 0x4c, 0x86, 0xf4, 0xb6, 0x4f, 0x33, 0x97, 0x78,
		0x3b, 0x09, 0x00, 0x53, 0xba, 0x0d, 0x81, 0xdd, 0x58, 0x58, 0x10, 0xb5, 0xaa,
		0xd1, 0xe5, 0xc2, 0xac, 0x5c, 0x65, 0xfa, 0x0c, 0x8a, 0xd8, 0xb1, 0x25, 0x03,
		0x1a, 0xe2, 0xd3, 0xa9, 0x87, 0xf0, 0xd8, 0x4d, 0xd7, 0x75, 0xc4, 0xc6,
	};
	params_default(&p);
	p.hash_algo = RMI_HASH_SHA_512;
	assert_int_equal(create_with(RD_PA, &p), RMI_SUCCESS);
	assert_memory_equal(t_rim(m, RD_PA), ex512, 64);
	destroy(RD_PA);

	/* measured fields: sve_vl and pmu_num_ctrs are measured even with their flags clear */
	params_default(&p);
	p.sve_vl = 3;
	p.pmu_num_ctrs = 2;
	p.num_bps = 4;
	p.num_wps = 2;
	p.rtt_base = ROOT_PA + 2 * G; /* not measured */
	assert_int_equal(create_with(RD_PA, &p), RMI_SUCCESS);
	t_ref_rim_init(0, 0, 40, 3, 4, 2, 2, rim);
	assert_memory_equal(t_rim(m, RD_PA), rim, 64);
	destroy(RD_PA);
}

/* ---- REALM_CREATE: start level and root tables (§13.2) ---- */

struct geo {
	unsigned int s2sz;
	int sl;
	unsigned int nroot;
};

static void test_create_geometry(void **state)
{
	static const struct geo valid[] = {
		{ 32, 1, 1 }, { 32, 2, 4 }, { 33, 1, 1 }, { 33, 2, 8 },  { 34, 1, 1 }, { 34, 2, 16 },
		{ 35, 1, 1 }, { 36, 1, 1 }, { 39, 1, 1 }, { 40, 0, 1 },  { 40, 1, 2 }, { 41, 0, 1 },
		{ 41, 1, 4 }, { 42, 1, 8 }, { 43, 0, 1 }, { 43, 1, 16 }, { 44, 0, 1 },
	};
	static const struct geo invalid[] = {
		/* wrong number of concatenated tables */
		{ 32, 2, 1 },
		{ 32, 2, 2 },
		{ 32, 2, 8 },
		{ 33, 2, 4 },
		{ 34, 2, 8 },
		{ 32, 1, 2 },
		{ 39, 1, 2 },
		{ 40, 1, 1 },
		{ 40, 1, 4 },
		{ 43, 1, 8 },
		{ 41, 0, 2 },
		{ 48, 0, 2 },
		{ 35, 1, 0 },
		{ 40, 0, 0 },
		/* s2sz out of the start level's range */
		{ 35, 2, 32 },
		{ 35, 2, 16 },
		{ 44, 1, 16 },
		{ 44, 1, 32 },
		{ 39, 0, 1 },
		{ 32, 0, 1 },
		{ 32, 3, 1 },
		{ 36, 3, 16 },
		{ 40, 2, 16 },
		/* valid geometry, but above FR0.S2SZ (RK_MACHINE_CPU_PA_BITS: what the vCPUs reach) */
		{ 45, 0, 1 },
		{ 46, 0, 1 },
		{ 47, 0, 1 },
		{ 48, 0, 1 },
		/* level -1 needs LPA2; levels beyond 3 do not exist */
		{ 40, -1, 1 },
		{ 48, -1, 1 },
		{ 40, -2, 1 },
		{ 40, 4, 1 },
		{ 48, 0, 16 },
	};
	struct rmi_realm_params p;

	(void)state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		params_default(&p);
		p.s2sz = valid[i].s2sz;
		p.rtt_level_start = valid[i].sl;
		p.rtt_num_start = valid[i].nroot;
		if (create_with(RD_PA, &p) != RMI_SUCCESS) {
			print_error("s2sz %u SL%d x%u refused\n", valid[i].s2sz, valid[i].sl, valid[i].nroot);
			fail();
		}
		for (unsigned int r = 0; r < 16; r++)
			assert_int_equal(t_gstate(m, ROOT_PA + r * G),
					 r < valid[i].nroot ? GRANULE_STATE_RTT : GRANULE_STATE_DELEGATED);
		check_fresh_roots(m, RD_PA, valid[i].s2sz, valid[i].sl);
		destroy(RD_PA);
	}
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		params_default(&p);
		p.s2sz = invalid[i].s2sz;
		p.rtt_level_start = invalid[i].sl;
		p.rtt_num_start = invalid[i].nroot;
		create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	}
	/* absurd values */
	params_default(&p);
	p.rtt_level_start = INT64_MIN;
	create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	p.rtt_level_start = INT64_MAX;
	create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	params_default(&p);
	p.rtt_num_start = 2 + (1ULL << 32);
	create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	p.rtt_num_start = ~0ULL;
	create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	/* rtt_base aligned to rtt_num_start x 4 KiB */
	params_default(&p);
	p.rtt_base = ROOT_PA + G;
	create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	p.s2sz = 42;
	p.rtt_num_start = 8;
	p.rtt_base = ROOT_PA + 4 * G;
	create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	p.rtt_base = ROOT_PA + 8 * G;
	assert_int_equal(create_with(RD_PA, &p), RMI_SUCCESS);
	destroy(RD_PA);
	p.s2sz = 34;
	p.rtt_level_start = 2;
	p.rtt_num_start = 16;
	p.rtt_base = ROOT_PA + 8 * G;
	create_fails(RMI_ERROR_INPUT, RD_PA, &p);
}

/* Start level 0 needs a PA width of at least 44 bits; s2sz is bounded by FR0.S2SZ. */
static void test_create_pa40(void **state)
{
	struct rk_machine_config cfg;
	struct rk_machine *m40;
	struct rmi_realm_params p;

	(void)state;
	rk_machine_config_default(&cfg);
	cfg.dram_size = 64 * MIB;
	cfg.pa_bits = 40;
	m40 = t_machine_cfg(&cfg, true);
	t_delegate(m40, RD_PA, 1);
	t_delegate(m40, ROOT_PA, 2);
	for (int i = 0; i < 4; i++) {
		params_default(&p);
		if (i == 0) {
			p.rtt_level_start = 0; /* s2sz 40 with SL0:1 is valid geometry, but PA < 44 bits */
			p.rtt_num_start = 1;
		} else if (i == 1) {
			p.s2sz = 41; /* > FR0.S2SZ */
			p.rtt_num_start = 4;
		} else if (i == 2) {
			p.s2sz = 48;
			p.rtt_level_start = 0;
			p.rtt_num_start = 1;
		}
		t_write(m40, PARAMS_PA, &p, sizeof(p));
		if (i < 3) {
			RMI_FAIL(m40, RMI_ERROR_INPUT, CREATE, RD_PA, PARAMS_PA);
		} else {
			assert_int_equal(RMI(m40, CREATE, NULL, RD_PA, PARAMS_PA), RMI_SUCCESS);
			check_fresh_roots(m40, RD_PA, 40, 1);
		}
	}
	t_teardown_all(m40);
	rk_machine_destroy(m40);
}

/* ---- REALM_CREATE: every other parameter ---- */

static void test_create_params(void **state)
{
	struct rmi_realm_params p;

	(void)state;
	static const uint64_t bad_s2sz[] = { 0, 16, 31, 49, 52, 64, 255, 256 + 40, 1ULL << 32 };
	for (size_t i = 0; i < sizeof(bad_s2sz) / sizeof(bad_s2sz[0]); i++) {
		params_default(&p);
		p.s2sz = bad_s2sz[i];
		create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	}
	/* breakpoints and watchpoints: 0 and above FR0 (5 and 3: the CPU's) */
	static const uint64_t bad_bps[] = { 0, 6, 15, 16, 63, 64, 1ULL << 40 };
	static const uint64_t bad_wps[] = { 0, 4, 15, 16, 63, 64, 1ULL << 40 };
	for (size_t i = 0; i < sizeof(bad_bps) / sizeof(bad_bps[0]); i++) {
		params_default(&p);
		p.num_bps = bad_bps[i];
		create_fails(RMI_ERROR_INPUT, RD_PA, &p);
		params_default(&p);
		p.num_wps = bad_wps[i];
		create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	}
	params_default(&p);
	p.num_bps = 1;
	p.num_wps = 3;
	assert_int_equal(create_with(RD_PA, &p), RMI_SUCCESS);
	destroy(RD_PA);

	/* features this RMM does not have: LPA2, SVE, PMU, DA */
	static const uint64_t bad_flags[] = {
		RMI_REALM_FLAGS0_LPA2_MASK,
		RMI_REALM_FLAGS0_SVE_MASK,
		RMI_REALM_FLAGS0_PMU_MASK,
		RMI_REALM_FLAGS0_DA_MASK,
		RMI_REALM_FLAGS0_LPA2_MASK | RMI_REALM_FLAGS0_SVE_MASK,
	};
	for (size_t i = 0; i < sizeof(bad_flags) / sizeof(bad_flags[0]); i++) {
		params_default(&p);
		p.flags0 = bad_flags[i];
		create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	}
	params_default(&p);
	p.flags0 = RMI_REALM_FLAGS0_PMU_MASK;
	p.pmu_num_ctrs = 1;
	create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	/* MEC policy: 2 and 3 are not policies; 1 (private) needs a MECID and there are none */
	for (uint64_t mec = 2; mec <= 3; mec++) {
		params_default(&p);
		p.flags0 = mec << RMI_REALM_FLAGS0_MEC_POLICY_SHIFT;
		create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	}
	params_default(&p);
	p.flags0 = 1ULL << RMI_REALM_FLAGS0_MEC_POLICY_SHIFT;
	create_fails(RMI_ERROR_GLOBAL, RD_PA, &p);
	params_default(&p);
	p.flags0 = 0; /* shared */
	assert_int_equal(create_with(RD_PA, &p), RMI_SUCCESS);
	destroy(RD_PA);

	/* hash algorithm */
	static const uint64_t bad_algo[] = { 3, 4, 255, 256 + 3 };
	for (size_t i = 0; i < sizeof(bad_algo) / sizeof(bad_algo[0]); i++) {
		params_default(&p);
		p.hash_algo = bad_algo[i];
		create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	}
	/* planes and device assignment */
	params_default(&p);
	p.num_aux_planes = 1;
	create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	params_default(&p);
	p.ats_plane = 1;
	create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	params_default(&p);
	p.flags1 = RMI_REALM_FLAGS1_RTT_TREE_PP_MASK;
	create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	p.flags1 = RMI_REALM_FLAGS1_S2AP_ENC_MASK;
	create_fails(RMI_ERROR_INPUT, RD_PA, &p);
}

/* ---- REALM_CREATE: the params granule, the RD and the root RTTs ---- */

static void test_create_granules(void **state)
{
	struct rmi_realm_params p;

	(void)state;
	params_default(&p);
	t_write(m, PARAMS_PA, &p, sizeof(p));
	/* params: unaligned, not DRAM, not NS */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, RD_PA, PARAMS_PA + 8);
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, RD_PA, 0x1000);
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, RD_PA, T_DRAM_BASE + 64 * MIB);
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, RD_PA, RD2_PA); /* DELEGATED */
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, RD_PA, RD_PA);  /* params == RD */
	/* root RTT not DELEGATED: NS, or only one of two */
	t_undelegate(m, ROOT_PA + G, 1);
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, RD_PA, PARAMS_PA);
	t_delegate(m, ROOT_PA + G, 1);
	p.rtt_base = NS_PA;
	create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	p.rtt_base = 0x10000; /* not DRAM */
	create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	p.rtt_base = ~0ULL & ~0x1fffULL; /* wraps */
	create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	/* RD: not DELEGATED, unaligned, not DRAM, aliasing a root */
	params_default(&p);
	t_write(m, PARAMS_PA, &p, sizeof(p));
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, NS_PA, PARAMS_PA);
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, RD_PA + 8, PARAMS_PA);
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, 0x1000, PARAMS_PA);
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, ROOT_PA, PARAMS_PA);
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, ROOT_PA + G, PARAMS_PA);
	/* granules owned by another realm */
	assert_int_equal(create_with(RD_PA, &p), RMI_SUCCESS);
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, RD_PA, PARAMS_PA); /* RD is an RD */
	p.rtt_base = ROOT2_PA;
	t_delegate(m, ROOT2_PA, 2);
	create_fails(RMI_ERROR_INPUT, RD_PA, &p);   /* RD is an RD */
	create_fails(RMI_ERROR_INPUT, ROOT_PA, &p); /* RD is an RTT */
	p.rtt_base = ROOT_PA;
	create_fails(RMI_ERROR_INPUT, RD2_PA, &p); /* roots are RTTs */
	p.rtt_base = ROOT_PA - 32 * G;
	t_delegate(m, ROOT_PA - 32 * G, 1);
	create_fails(RMI_ERROR_INPUT, RD2_PA, &p); /* second root not delegated */
	p.rtt_base = RD_PA;
	p.rtt_num_start = 1;
	p.s2sz = 39;
	create_fails(RMI_ERROR_INPUT, RD2_PA, &p); /* root is an RD */
	/* and the second realm can be created next to the first */
	p.rtt_base = ROOT2_PA;
	p.rtt_num_start = 2;
	p.s2sz = 40;
	assert_int_equal(create_with(RD2_PA, &p), RMI_SUCCESS);
	assert_int_not_equal(t_rd(m, RD_PA)->vmid, t_rd(m, RD2_PA)->vmid);
	destroy(RD2_PA);
	destroy(RD_PA);
	t_undelegate(m, ROOT2_PA, 2);
	t_undelegate(m, ROOT_PA - 32 * G, 1);
}

/* params in a Secure carve-out are not NS */
static void test_create_params_carveout(void **state)
{
	struct rk_machine_config cfg;
	struct rk_machine *mc;

	(void)state;
	rk_machine_config_default(&cfg);
	cfg.dram_size = 64 * MIB;
	cfg.ncarveouts = 1;
	cfg.carveouts[0] = (struct rk_pas_region){ PARAMS_PA, G, RK_PAS_SECURE };
	mc = t_machine_cfg(&cfg, true);
	t_delegate(mc, RD_PA, 1);
	t_delegate(mc, ROOT_PA, 2);
	RMI_FAIL(mc, RMI_ERROR_INPUT, CREATE, RD_PA, PARAMS_PA);
	t_teardown_all(mc);
	rk_machine_destroy(mc);
}

/* Which failure wins when several hold (digest §5.1 order). */
static void test_create_priority(void **state)
{
	struct rmi_realm_params p;

	(void)state;
	/* MECID allocation (5) comes before the root RTTs (6) and the RD (7) */
	params_default(&p);
	p.flags0 = 1ULL << RMI_REALM_FLAGS0_MEC_POLICY_SHIFT;
	create_fails(RMI_ERROR_GLOBAL, NS_PA, &p);
	p.rtt_base = NS_PA;
	create_fails(RMI_ERROR_GLOBAL, RD_PA, &p);
	create_fails(RMI_ERROR_GLOBAL, ROOT_PA, &p);
	/* ... but after the parameter checks (2) */
	p.s2sz = 49;
	create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	params_default(&p);
	p.flags0 = (1ULL << RMI_REALM_FLAGS0_MEC_POLICY_SHIFT) | RMI_REALM_FLAGS0_SVE_MASK;
	create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	params_default(&p);
	p.flags0 = 1ULL << RMI_REALM_FLAGS0_MEC_POLICY_SHIFT;
	p.hash_algo = 3;
	create_fails(RMI_ERROR_INPUT, RD_PA, &p);
	/* ... and after the params granule (1) */
	params_default(&p);
	p.flags0 = 1ULL << RMI_REALM_FLAGS0_MEC_POLICY_SHIFT;
	t_write(m, PARAMS_PA, &p, sizeof(p));
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, RD_PA, PARAMS_PA + 16);
	RMI_FAIL(m, RMI_ERROR_INPUT, CREATE, RD_PA, RD2_PA);
}

/* VMIDs are the RMM's: a failed create gives its VMID back, and so does REALM_DESTROY. */
static void test_vmids_recycled(void **state)
{
	struct rmi_realm_params p;
	struct t_snap *s;

	(void)state;
	params_default(&p);
	t_write(m, PARAMS_PA, &p, sizeof(p));
	t_undelegate(m, ROOT_PA + G, 1);
	s = t_snap_take(m);
	/* more attempts than there are VMIDs: each allocates one, then fails on the root RTT */
	for (unsigned int i = 0; i < RMM_MAX_VMIDS + 64; i++)
		assert_int_equal(RMI(m, CREATE, NULL, RD_PA, PARAMS_PA), RMI_ERROR_INPUT);
	t_snap_check(m, s);
	t_snap_free(s);
	t_delegate(m, ROOT_PA + G, 1);
	/* more create/destroy cycles than there are VMIDs */
	s = t_snap_take(m);
	for (unsigned int i = 0; i < RMM_MAX_VMIDS + 64; i++) {
		assert_int_equal(RMI(m, CREATE, NULL, RD_PA, PARAMS_PA), RMI_SUCCESS);
		assert_int_equal(RMI(m, RMI_FID_REALM_TERMINATE, NULL, RD_PA), RMI_SUCCESS);
		assert_int_equal(RMI(m, RMI_FID_REALM_DESTROY, NULL, RD_PA), RMI_SUCCESS);
	}
	t_snap_check(m, s);
	t_snap_free(s);
}

/*
 * A REALM_CREATE refused for its MEC policy (no private MECIDs here) holds no
 * VMID, not even for a moment: with one VMID left, realms are created and
 * destroyed over and over while another CPU keeps asking for a private-MEC
 * realm, and every create succeeds. (When the VMID was allocated before the
 * MEC check, a create that ran while the refused command held the last VMID
 * failed with ERROR_GLOBAL.)
 */
#define MEC_PARAMS_PA (NS_PA + G)

static atomic_bool mec_stop;
static atomic_ulong mec_refused_n, mec_other_n;

/* cmocka asserts belong to the main thread: this one counts */
static void *mec_refused(void *arg)
{
	(void)arg;
	while (!atomic_load(&mec_stop)) {
		if (RMI(m, CREATE, NULL, RD2_PA, MEC_PARAMS_PA) == RMI_ERROR_GLOBAL)
			atomic_fetch_add(&mec_refused_n, 1);
		else
			atomic_fetch_add(&mec_other_n, 1);
	}
	return NULL;
}

static void test_create_mec_holds_no_vmid(void **state)
{
	static uint16_t taken[RMM_MAX_VMIDS];
	struct rmm *rmm = machine_rmm(m);
	struct rmi_realm_params p;
	unsigned int ntaken = 0, failed = 0;
	pthread_t th;

	(void)state;
	/* all VMIDs but one are in use */
	while (rmm_vmid_alloc(rmm, &taken[ntaken]) == 0)
		ntaken++;
	rmm_vmid_free(rmm, taken[--ntaken]);
	params_default(&p);
	p.flags0 = 1ULL << RMI_REALM_FLAGS0_MEC_POLICY_SHIFT;
	t_write(m, MEC_PARAMS_PA, &p, sizeof(p));
	params_default(&p);
	t_write(m, PARAMS_PA, &p, sizeof(p));
	atomic_store(&mec_stop, false);
	atomic_store(&mec_refused_n, 0);
	atomic_store(&mec_other_n, 0);
	assert_int_equal(pthread_create(&th, NULL, mec_refused, NULL), 0);
	/* until the other thread has been refused often enough, at least 20000 cycles */
	for (unsigned int i = 0; i < 20000 || atomic_load(&mec_refused_n) < 20000; i++) {
		uint64_t x0 = RMI(m, CREATE, NULL, RD_PA, PARAMS_PA);
		if (x0 != RMI_SUCCESS) {
			assert_int_equal(x0, RMI_ERROR_GLOBAL);
			failed++;
			break;
		}
		destroy(RD_PA);
	}
	atomic_store(&mec_stop, true);
	assert_int_equal(pthread_join(th, NULL), 0);
	while (ntaken)
		rmm_vmid_free(rmm, taken[--ntaken]);
	assert_int_equal(atomic_load(&mec_other_n), 0);
	assert_int_equal(failed, 0);
}

/* ---- REALM_ACTIVATE (§5.2) ---- */

static void bad_rd_args(uint64_t fid)
{
	RMI_FAIL(m, RMI_ERROR_INPUT, fid, RD_PA + 8); /* not aligned */
	RMI_FAIL(m, RMI_ERROR_INPUT, fid, 0);         /* not DRAM */
	RMI_FAIL(m, RMI_ERROR_INPUT, fid, 0x1000);
	RMI_FAIL(m, RMI_ERROR_INPUT, fid, ~0xfffULL);
	RMI_FAIL(m, RMI_ERROR_INPUT, fid, RD2_PA);  /* DELEGATED */
	RMI_FAIL(m, RMI_ERROR_INPUT, fid, NS_PA);   /* NS */
	RMI_FAIL(m, RMI_ERROR_INPUT, fid, ROOT_PA); /* an RTT */
	RMI_FAIL(m, RMI_ERROR_INPUT, fid, PARAMS_PA);
}

static void test_activate(void **state)
{
	struct rmi_realm_params p;

	(void)state;
	params_default(&p);
	assert_int_equal(create_with(RD_PA, &p), RMI_SUCCESS);
	bad_rd_args(RMI_FID_REALM_ACTIVATE);
	assert_int_equal(t_realm_state(m, RD_PA), RMI_REALM_STATE_NEW);
	assert_int_equal(RMI(m, RMI_FID_REALM_ACTIVATE, NULL, RD_PA), RMI_SUCCESS);
	assert_int_equal(t_realm_state(m, RD_PA), RMI_REALM_STATE_ACTIVE);
	RMI_FAIL(m, RMI_ERROR_REALM, RMI_FID_REALM_ACTIVATE, RD_PA);
	/* NEW-only commands are refused now */
	RMI_FAIL(m, RMI_ERROR_REALM, RMI_FID_RTT_INIT_RIPAS, RD_PA, 0, 1ULL << 30);
	assert_int_equal(RMI(m, RMI_FID_REALM_TERMINATE, NULL, RD_PA), RMI_SUCCESS);
	RMI_FAIL(m, RMI_ERROR_REALM, RMI_FID_REALM_ACTIVATE, RD_PA);
	/* priority: an RD that is not an RD wins over everything */
	RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_REALM_ACTIVATE, RD_PA + 8);
	assert_int_equal(RMI(m, RMI_FID_REALM_DESTROY, NULL, RD_PA), RMI_SUCCESS);
	RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_REALM_ACTIVATE, RD_PA); /* DELEGATED again */
}

/* ---- REALM_TERMINATE (§5.3) ---- */

static void test_terminate(void **state)
{
	struct rmi_realm_params p;
	struct t_pool pool;

	(void)state;
	t_pool_init(&pool, POOL_PA, 64);
	params_default(&p);
	bad_rd_args(RMI_FID_REALM_TERMINATE);
	/* from NEW */
	assert_int_equal(create_with(RD_PA, &p), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_REALM_TERMINATE, NULL, RD_PA), RMI_SUCCESS);
	assert_int_equal(t_realm_state(m, RD_PA), RMI_REALM_STATE_ZOMBIE);
	/* from ZOMBIE (accepted, stays ZOMBIE) */
	assert_int_equal(RMI(m, RMI_FID_REALM_TERMINATE, NULL, RD_PA), RMI_SUCCESS);
	assert_int_equal(t_realm_state(m, RD_PA), RMI_REALM_STATE_ZOMBIE);
	assert_int_equal(RMI(m, RMI_FID_REALM_DESTROY, NULL, RD_PA), RMI_SUCCESS);
	/* from ACTIVE */
	assert_int_equal(create_with(RD_PA, &p), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_REALM_ACTIVATE, NULL, RD_PA), RMI_SUCCESS);
	t_rtt_to(m, RD_PA, 0, 3, &pool);
	uint64_t data = t_pool_delegated(m, &pool, 1, 0);
	assert_int_equal(
		RMI(m, RMI_FID_RTT_DATA_MAP, NULL, RD_PA, 0, G, RMI_ADDR_TYPE_SINGLE, t_desc(data, 3, 1)),
		RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_REALM_TERMINATE, NULL, RD_PA), RMI_SUCCESS);
	assert_int_equal(t_realm_state(m, RD_PA), RMI_REALM_STATE_ZOMBIE);
	/* a ZOMBIE realm takes no new mappings and cannot be activated */
	uint64_t d2 = t_pool_delegated(m, &pool, 1, 0);
	RMI_FAIL(m, RMI_ERROR_REALM, RMI_FID_RTT_DATA_MAP, RD_PA, G, 2 * G, RMI_ADDR_TYPE_SINGLE,
		 t_desc(d2, 3, 1));
	RMI_FAIL(m, RMI_ERROR_REALM, RMI_FID_REALM_ACTIVATE, RD_PA);
	/* ... but can be taken apart: READ_ENTRY, DATA_UNMAP, RTT commands work in any state */
	struct rmi_out o;
	assert_int_equal(RMI(m, RMI_FID_RTT_READ_ENTRY, &o, RD_PA, 0, 3), RMI_SUCCESS);
	assert_int_equal(o.x[2], RMI_RTTE_ASSIGNED);
	assert_int_equal(o.x[3], data);
	uint64_t l3b = t_pool_delegated(m, &pool, 1, 0);
	t_rtt_create(m, RD_PA, l3b, 2 * MIB, 3);
	t_realm_teardown(m, RD_PA); /* TERMINATE again from ZOMBIE, unmap, RTT_DESTROY, REALM_DESTROY */
	t_undelegate_all(m);
	t_delegate(m, RD_PA, 2);
	t_delegate(m, ROOT_PA, 16);
}

/* ---- REALM_DESTROY (§5.4) ---- */

static void test_destroy(void **state)
{
	struct rmi_realm_params p;
	struct t_pool pool;
	struct rmi_out o;

	(void)state;
	t_pool_init(&pool, POOL_PA, 64);
	bad_rd_args(RMI_FID_REALM_DESTROY);
	params_default(&p);
	assert_int_equal(create_with(RD_PA, &p), RMI_SUCCESS);
	uint16_t vmid = t_rd(m, RD_PA)->vmid;
	/* not ZOMBIE: NEW, ACTIVE */
	RMI_FAIL(m, RMI_ERROR_REALM, RMI_FID_REALM_DESTROY, RD_PA);
	uint64_t l2 = t_pool_delegated(m, &pool, 1, 0);
	t_rtt_create(m, RD_PA, l2, 0, 2);
	RMI_FAIL(m, RMI_ERROR_REALM, RMI_FID_REALM_DESTROY, RD_PA); /* NEW and a live root */
	assert_int_equal(RMI(m, RMI_FID_REALM_ACTIVATE, NULL, RD_PA), RMI_SUCCESS);
	RMI_FAIL(m, RMI_ERROR_REALM, RMI_FID_REALM_DESTROY, RD_PA);
	assert_int_equal(RMI(m, RMI_FID_REALM_TERMINATE, NULL, RD_PA), RMI_SUCCESS);
	/* ZOMBIE, but a root RTT is live: a TABLE entry ... */
	RMI_FAIL(m, RMI_ERROR_REALM, RMI_FID_REALM_DESTROY, RD_PA);
	assert_int_equal(RMI(m, RMI_FID_RTT_DESTROY, &o, RD_PA, 0, 2), RMI_SUCCESS);
	assert_int_equal(o.x[1], l2);
	/* ... but an ASSIGNED_NS block in the second root (unprotected half) does not keep the
	 * realm live: it goes with the realm (as in TF-RMM; docs/abi-coverage.md, RTT_DESTROY) */
	const uint64_t uipa = 1ULL << 39;
	/* UNPROT_MAP needs NEW or ACTIVE: map in a fresh realm, then terminate */
	assert_int_equal(RMI(m, RMI_FID_REALM_DESTROY, NULL, RD_PA), RMI_SUCCESS);
	assert_false(vmid_used(vmid));
	assert_int_equal(create_with(RD_PA, &p), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_RTT_UNPROT_MAP, &o, RD_PA, uipa, uipa + (1ULL << 30),
			     t_unprot_flags(RMI_ADDR_TYPE_SINGLE, 6, 3), t_desc(0, 1, 1)),
			 RMI_SUCCESS);
	assert_int_equal(o.x[1], uipa + (1ULL << 30));
	assert_int_equal(t_refcount(m, ROOT_PA + G), 1);
	assert_int_equal(RMI(m, RMI_FID_REALM_TERMINATE, NULL, RD_PA), RMI_SUCCESS);

	/* success: RD and roots back to DELEGATED and zeroed (the NS block with them), VMID freed */
	vmid = t_rd(m, RD_PA)->vmid;
	assert_true(vmid_used(vmid));
	assert_int_equal(RMI(m, RMI_FID_REALM_DESTROY, NULL, RD_PA), RMI_SUCCESS);
	assert_false(vmid_used(vmid));
	assert_int_equal(t_gstate(m, RD_PA), GRANULE_STATE_DELEGATED);
	assert_int_equal(t_gstate(m, ROOT_PA), GRANULE_STATE_DELEGATED);
	assert_int_equal(t_gstate(m, ROOT_PA + G), GRANULE_STATE_DELEGATED);
	assert_true(t_gzero(m, RD_PA));
	assert_true(t_gzero(m, ROOT_PA));
	assert_true(t_gzero(m, ROOT_PA + G));
	assert_int_equal(t_refcount(m, ROOT_PA + G), 0);
	/* the old RD is no RD any more */
	RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_REALM_DESTROY, RD_PA);
	RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_REALM_TERMINATE, RD_PA);
	RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_RTT_READ_ENTRY, RD_PA, 0, 1);
	t_check_gpt_consistent(m, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_geometry, setup, teardown),
		cmocka_unit_test(test_create_pa40),
		cmocka_unit_test_setup_teardown(test_create_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_granules, setup, teardown),
		cmocka_unit_test(test_create_params_carveout),
		cmocka_unit_test_setup_teardown(test_create_priority, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vmids_recycled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_mec_holds_no_vmid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_activate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_terminate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
