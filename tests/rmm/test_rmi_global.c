/* SPDX-License-Identifier: MIT */
/*
 * RMM-level RMI commands against the 2.0-bet1 digest (§1, §3, §11):
 * VERSION, FEATURES, RMM_CONFIG_GET/SET, RMM_ACTIVATE and the RMM state gate,
 * GRANULE_TRACKING_GET, GPT_L1_CREATE, the FID decoding (unknown FIDs,
 * defined-but-unimplemented commands, the SVE hint bit) and SMCCC register
 * rules, and the firmware log of refused commands. Every failure is checked
 * to leave the RMM state unchanged.
 */
#include <string.h>

#include "machine.h"
#include "rk_test.h"
#include "rmm/rmi/rmi.h"
#include "rmm/rmm.h"

#define MIB (1ULL << 20)
#define CFG_PA (T_DRAM_BASE + 16 * MIB)

static uint64_t fr(struct rk_machine *m, unsigned int i)
{
	struct rmi_out o;

	assert_int_equal(RMI(m, RMI_FID_FEATURES, &o, i), RMI_SUCCESS);
	return o.x[1];
}

#define FIELD(v, reg, f) (((v)&RMI_##reg##_##f##_MASK) >> RMI_##reg##_##f##_SHIFT)

/* ---- VERSION (§3.1) ---- */

static void check_version(struct rk_machine *m)
{
	struct rmi_out o;

	assert_int_equal(RMI(m, RMI_FID_VERSION, &o, 0x20000), RMI_SUCCESS);
	assert_int_equal(o.x[1], 0x20000);
	assert_int_equal(o.x[2], 0x20000);
	/* an unsupported request: ERROR_INPUT, still reporting lower/higher */
	static const uint64_t bad[] = { 0x10000, 0x10001, 0x20001, 0x30000, 0, ~0ULL, 0x120000 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		RMI_FAIL_OUT(m, RMI_ERROR_INPUT, &o, RMI_FID_VERSION, bad[i]);
		assert_int_equal(o.x[1], 0x20000);
		assert_int_equal(o.x[2], 0x20000);
	}
}

static void test_version(void **state)
{
	struct rk_machine *m = t_machine_inactive(32);

	(void)state;
	check_version(m); /* 'any' gate: before RMM_ACTIVATE */
	rk_machine_destroy(m);
	m = t_machine(32);
	check_version(m);
	rk_machine_destroy(m);
}

/* ---- FEATURES (§3.2, §11) ---- */

static void check_features(struct rk_machine *m, unsigned int s2sz)
{
	uint64_t f0 = fr(m, 0), f1 = fr(m, 1);

	assert_int_equal(FIELD(f0, FR0, S2SZ), s2sz);
	assert_int_equal(FIELD(f0, FR0, LPA2), 0);
	assert_int_equal(FIELD(f0, FR0, SVE_EN), 0);
	assert_int_equal(FIELD(f0, FR0, SVE_VL), 0);
	/* the CPU model's (Cortex-A72: 6 breakpoints, 4 watchpoints), as TF-RMM reads ID_AA64DFR0_EL1 */
	assert_int_equal(FIELD(f0, FR0, NUM_BPS), 5);
	assert_int_equal(FIELD(f0, FR0, NUM_WPS), 3);
	assert_int_equal(FIELD(f0, FR0, PMU_EN), 0);
	assert_int_equal(FIELD(f0, FR0, PMU_NUM_CTRS), 0);
	assert_int_equal(f0 >> 32, 0);
	assert_int_equal(FIELD(f1, FR1, GRAN_SZ_4KB), 1);
	assert_int_equal(FIELD(f1, FR1, GRAN_SZ_16KB), 0);
	assert_int_equal(FIELD(f1, FR1, GRAN_SZ_64KB), 0);
	assert_int_equal(FIELD(f1, FR1, HASH_SHA_256), 1);
	assert_int_equal(FIELD(f1, FR1, HASH_SHA_384), 1); /* advertised: REALM_CREATE accepts it */
	assert_int_equal(FIELD(f1, FR1, HASH_SHA_512), 1);
	assert_int_equal(FIELD(f1, FR1, MAX_RECS_ORDER), 10);
	assert_int_equal(FIELD(f1, FR1, L0GPTSZ), 0);
	assert_int_equal(FIELD(f1, FR1, PPS), 5);
	assert_int_equal(f1 >> 17, 0);
	assert_int_equal(fr(m, 2), 0); /* no device assignment */
	assert_int_equal(fr(m, 3), 0); /* no planes */
	assert_int_equal(fr(m, 4), 0); /* no private MECIDs */
	/* index > 4 reads 0, always SUCCESS */
	static const uint64_t idx[] = { 5, 6, 255, 256, 1ULL << 32, ~0ULL };
	for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
		struct rmi_out o;

		memset(&o, 0xa5, sizeof(o));
		RMI_NOCHANGE(m, &o, RMI_FID_FEATURES, idx[i]);
		assert_int_equal(o.x[1], 0);
	}
}

static void test_features(void **state)
{
	struct rk_machine_config cfg;
	struct rk_machine *m = t_machine_inactive(32);

	(void)state;
	check_features(m, RK_MACHINE_CPU_PA_BITS);
	rk_machine_destroy(m);
	m = t_machine(32);
	check_features(m, RK_MACHINE_CPU_PA_BITS);
	rk_machine_destroy(m);

	/* FR0.S2SZ follows the PA width, capped at 48 without LPA2 and at what the
	 * realm's vCPUs can address (RK_MACHINE_CPU_PA_BITS: only what runs) */
	rk_machine_config_default(&cfg);
	cfg.dram_size = 32 * MIB;
	cfg.pa_bits = 40;
	m = t_machine_cfg(&cfg, true);
	check_features(m, 40);
	rk_machine_destroy(m);
	cfg.pa_bits = 52;
	m = t_machine_cfg(&cfg, true);
	check_features(m, RK_MACHINE_CPU_PA_BITS);
	rk_machine_destroy(m);
}

/* ---- RMM_CONFIG_GET / _SET (§3.3) ---- */

static void write_cfg(struct rk_machine *m, uint64_t pa, uint64_t tracking, uint64_t gran)
{
	uint64_t c[2] = { tracking, gran };

	t_write(m, pa, c, sizeof(c));
}

static void test_config(void **state)
{
	struct rk_machine_config cfg;
	struct rk_machine *m;
	uint64_t page[2], carve = T_DRAM_BASE + 8 * MIB;

	(void)state;
	rk_machine_config_default(&cfg);
	cfg.dram_size = 32 * MIB;
	cfg.ncarveouts = 2;
	cfg.carveouts[0] = (struct rk_pas_region){ carve, G, RK_PAS_SECURE };
	cfg.carveouts[1] = (struct rk_pas_region){ carve + G, G, RK_PAS_ROOT };
	m = t_machine_cfg(&cfg, false);

	/* GET before activation ('any'): writes the current values (4 KiB, 1 GiB) */
	memset(page, 0xff, sizeof(page));
	t_write(m, CFG_PA, page, sizeof(page));
	assert_int_equal(RMI(m, RMI_FID_RMM_CONFIG_GET, NULL, CFG_PA), RMI_SUCCESS);
	t_read(m, CFG_PA, page, sizeof(page));
	assert_int_equal(page[0], 0);
	assert_int_equal(page[1], 0);

	/* SET failures, every one ERROR_INPUT and without effect */
	write_cfg(m, CFG_PA, 0, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_RMM_CONFIG_SET, 0);          /* null */
	RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_RMM_CONFIG_SET, CFG_PA + 8); /* unaligned */
	RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_RMM_CONFIG_SET, 0x1000);     /* not DRAM */
	RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_RMM_CONFIG_SET, T_DRAM_BASE + 32 * MIB);
	RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_RMM_CONFIG_SET, carve);     /* Secure PAS */
	RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_RMM_CONFIG_SET, carve + G); /* Root PAS */
	static const uint64_t bad[][2] = { { 0, 1 }, { 0, 2 }, { 0, 3 }, { 1, 0 }, { 2, 0 }, { 0, ~0ULL } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_cfg(m, CFG_PA, bad[i][0], bad[i][1]);
		RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_RMM_CONFIG_SET, CFG_PA);
	}
	/* GET failures */
	RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_RMM_CONFIG_GET, 0);
	RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_RMM_CONFIG_GET, CFG_PA + 8);
	RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_RMM_CONFIG_GET, 0x1000);
	RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_RMM_CONFIG_GET, carve);

	/* a valid SET, then ACTIVATE */
	write_cfg(m, CFG_PA, 0, 0);
	assert_int_equal(RMI(m, RMI_FID_RMM_CONFIG_SET, NULL, CFG_PA), RMI_SUCCESS);
	assert_int_equal(RMI0(m, RMI_FID_RMM_ACTIVATE, NULL), RMI_SUCCESS);

	/* after activation: SET -> ERROR_GLOBAL whatever its argument (the gate comes first) */
	RMI_FAIL(m, RMI_ERROR_GLOBAL, RMI_FID_RMM_CONFIG_SET, CFG_PA);
	RMI_FAIL(m, RMI_ERROR_GLOBAL, RMI_FID_RMM_CONFIG_SET, 0);
	write_cfg(m, CFG_PA, 0, 1);
	RMI_FAIL(m, RMI_ERROR_GLOBAL, RMI_FID_RMM_CONFIG_SET, CFG_PA);
	/* GET still works; a delegated page is not NS */
	memset(page, 0xff, sizeof(page));
	t_write(m, CFG_PA, page, sizeof(page));
	assert_int_equal(RMI(m, RMI_FID_RMM_CONFIG_GET, NULL, CFG_PA), RMI_SUCCESS);
	t_read(m, CFG_PA, page, sizeof(page));
	assert_int_equal(page[0], 0);
	assert_int_equal(page[1], 0);
	t_delegate(m, CFG_PA, 1);
	RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_RMM_CONFIG_GET, CFG_PA);
	t_undelegate(m, CFG_PA, 1);
	rk_machine_destroy(m);
}

/* ---- RMM_ACTIVATE and the state gate (§1.5, §3.4) ---- */

/* Every RMI command, by name, with the gate §1.5 gives it. */
static unsigned int expected_gate(const char *name)
{
	static const char *const any[] = { "VERSION", "FEATURES", "RMM_CONFIG_GET", "GRANULE_TRACKING_GET" };
	static const char *const init[] = { "RMM_CONFIG_SET", "RMM_ACTIVATE" };

	for (size_t i = 0; i < sizeof(any) / sizeof(any[0]); i++)
		if (!strcmp(name, any[i]))
			return RMI_GATE_ANY;
	for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++)
		if (!strcmp(name, init[i]))
			return RMI_GATE_INIT;
	return RMI_GATE_ACTIVE;
}

static void test_activate_gate(void **state)
{
	struct rk_machine *m = t_machine_inactive(32);
	unsigned int nactive = 0, nany = 0;
	struct rmi_out o;

	(void)state;
	/* before activation: every implemented ACTIVE-gated command -> ERROR_GLOBAL, with any arguments */
	for (unsigned int f = RMI_FNUM_MIN; f <= RMI_FNUM_MAX; f++) {
		const struct rmi_cmd_desc *c = &rmi_cmd_table[f - RMI_FNUM_MIN];
		uint64_t fid = SMC_FID_BASE | f;

		if (!c->defined)
			continue;
		assert_int_equal(c->gate, expected_gate(c->name));
		if (!c->handler || c->gate != RMI_GATE_ACTIVE)
			continue;
		nactive++;
		RMI_FAIL(m, RMI_ERROR_GLOBAL, fid, 0, 0, 0, 0, 0, 0);
		RMI_FAIL(m, RMI_ERROR_GLOBAL, fid, T_DRAM_BASE, T_DRAM_BASE + G, 0, 0, 0, 0);
		RMI_FAIL(m, RMI_ERROR_GLOBAL, fid | SMC_FID_SVE_HINT, T_DRAM_BASE, T_DRAM_BASE + G);
	}
	assert_true(nactive >= 18);
	/* in particular: no delegation before activation */
	RMI_FAIL(m, RMI_ERROR_GLOBAL, RMI_FID_GRANULE_RANGE_DELEGATE, T_DRAM_BASE, T_DRAM_BASE + G);
	assert_int_equal(t_gstate(m, T_DRAM_BASE), GRANULE_STATE_NS);
	RMI_FAIL(m, RMI_ERROR_GLOBAL, RMI_FID_GPT_L1_CREATE, 0);

	/* the 'any' commands work */
	for (unsigned int f = RMI_FNUM_MIN; f <= RMI_FNUM_MAX; f++) {
		const struct rmi_cmd_desc *c = &rmi_cmd_table[f - RMI_FNUM_MIN];
		if (c->defined && c->handler && c->gate == RMI_GATE_ANY)
			nany++;
	}
	assert_int_equal(nany, 4);
	assert_int_equal(RMI(m, RMI_FID_VERSION, NULL, 0x20000), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_FEATURES, NULL, 0), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_RMM_CONFIG_GET, NULL, CFG_PA), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_GRANULE_TRACKING_GET, &o, T_DRAM_BASE, T_DRAM_BASE + G), RMI_SUCCESS);
	assert_int_equal(o.x[2], RMI_TRACKING_FINE);

	/* ACTIVATE without CONFIG_SET (optional), then everything is open */
	assert_int_equal(RMI0(m, RMI_FID_RMM_ACTIVATE, NULL), RMI_SUCCESS);
	assert_int_equal(atomic_load(&machine_rmm(m)->state), RMM_STATE_ACTIVE);
	assert_int_equal(RMI(m, RMI_FID_GRANULE_RANGE_DELEGATE, &o, T_DRAM_BASE, T_DRAM_BASE + G),
			 RMI_SUCCESS);
	assert_int_equal(t_gstate(m, T_DRAM_BASE), GRANULE_STATE_DELEGATED);
	t_undelegate(m, T_DRAM_BASE, 1);

	/* twice -> ERROR_GLOBAL, no change */
	struct t_snap *s = t_snap_take(m);
	assert_int_equal(RMI0(m, RMI_FID_RMM_ACTIVATE, &o), RMI_ERROR_GLOBAL);
	assert_int_equal(RMI0(m, RMI_FID_RMM_ACTIVATE | SMC_FID_SVE_HINT, &o), RMI_ERROR_GLOBAL);
	t_snap_check(m, s);
	t_snap_free(s);
	assert_int_equal(RMI(m, RMI_FID_VERSION, NULL, 0x20000), RMI_SUCCESS);
	t_assert_all_undelegated(m);
	rk_machine_destroy(m);
}

/* ---- GRANULE_TRACKING_GET (§3.5) ---- */

static void test_tracking_get(void **state)
{
	struct rk_machine_config cfg;
	struct rk_machine *m;
	struct rmi_out o;
	const uint64_t b0 = T_DRAM_BASE, b1 = T_DRAM_BASE + 64 * MIB; /* 16 MiB hole between */

	(void)state;
	rk_machine_config_default(&cfg);
	cfg.nbanks = 2;
	cfg.banks[0] = (struct rk_dram_bank){ b0, 48 * MIB };
	cfg.banks[1] = (struct rk_dram_bank){ b1, 16 * MIB };
	for (int active = 0; active < 2; active++) {
		m = t_machine_cfg(&cfg, active);
		/* inside a bank */
		assert_int_equal(RMI(m, RMI_FID_GRANULE_TRACKING_GET, &o, b0, b0 + MIB), RMI_SUCCESS);
		assert_int_equal(o.x[1], RMI_MEM_CATEGORY_CONVENTIONAL);
		assert_int_equal(o.x[2], RMI_TRACKING_FINE);
		assert_int_equal(o.x[3], b0 + MIB);
		assert_int_equal(o.x[4], 0);
		/* the answer holds up to the end of the bank */
		assert_int_equal(RMI(m, RMI_FID_GRANULE_TRACKING_GET, &o, b0 + G, b1 + MIB), RMI_SUCCESS);
		assert_int_equal(o.x[2], RMI_TRACKING_FINE);
		assert_int_equal(o.x[3], b0 + 48 * MIB);
		/* a hole: not tracked, up to the next bank */
		assert_int_equal(RMI(m, RMI_FID_GRANULE_TRACKING_GET, &o, b0 + 48 * MIB, b1 + MIB),
				 RMI_SUCCESS);
		assert_int_equal(o.x[1], RMI_MEM_CATEGORY_CONVENTIONAL);
		assert_int_equal(o.x[2], RMI_TRACKING_NONE);
		assert_int_equal(o.x[3], b1);
		/* below DRAM, and above the last bank */
		assert_int_equal(RMI(m, RMI_FID_GRANULE_TRACKING_GET, &o, 0, b0 + G), RMI_SUCCESS);
		assert_int_equal(o.x[2], RMI_TRACKING_NONE);
		assert_int_equal(o.x[3], b0);
		assert_int_equal(RMI(m, RMI_FID_GRANULE_TRACKING_GET, &o, b1 + 16 * MIB, 1ULL << 40),
				 RMI_SUCCESS);
		assert_int_equal(o.x[2], RMI_TRACKING_NONE);
		assert_int_equal(o.x[3], 1ULL << 40);
		/* the whole PA space is a valid range */
		assert_int_equal(RMI(m, RMI_FID_GRANULE_TRACKING_GET, &o, 0, 1ULL << 48), RMI_SUCCESS);
		/* failures */
		RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_GRANULE_TRACKING_GET, b0 + 1,
			 b0 + MIB); /* base unaligned */
		RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_GRANULE_TRACKING_GET, b0,
			 b0 + MIB + 8);                                                 /* top unaligned */
		RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_GRANULE_TRACKING_GET, b0 + G, b0); /* start > end */
		RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_GRANULE_TRACKING_GET, b0, b0);     /* < 4 KiB */
		RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_GRANULE_TRACKING_GET, b0,
			 (1ULL << 48) + G); /* end > max PA */
		RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_GRANULE_TRACKING_GET, (1ULL << 48) + G,
			 (1ULL << 48) + 2 * G);
		RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_GRANULE_TRACKING_GET, ~0xfffULL, 0);
		rk_machine_destroy(m);
	}
}

/* ---- GPT_L1_CREATE (§3.6) ---- */

static void test_gpt_l1_create(void **state)
{
	struct rk_machine *m = t_machine(32);
	uint64_t l0 = 1ULL << (30 + FIELD(fr(m, 1), FR1, L0GPTSZ));

	(void)state;
	/* aligned to the L0GPT region: the L1 table already exists -> ERROR_GPT */
	RMI_FAIL(m, RMI_ERROR_GPT, RMI_FID_GPT_L1_CREATE, 0);
	RMI_FAIL(m, RMI_ERROR_GPT, RMI_FID_GPT_L1_CREATE, T_DRAM_BASE & ~(l0 - 1));
	RMI_FAIL(m, RMI_ERROR_GPT, RMI_FID_GPT_L1_CREATE, 7 * l0);
	/* not aligned -> ERROR_INPUT */
	RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_GPT_L1_CREATE, T_DRAM_BASE + G);
	RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_GPT_L1_CREATE, l0 / 2);
	RMI_FAIL(m, RMI_ERROR_INPUT, RMI_FID_GPT_L1_CREATE, 1);
	rk_machine_destroy(m);
}

/* ---- FID decoding (§1.1) ---- */

static void test_unknown_fid(void **state)
{
	struct rk_machine *m = t_machine(32);
	static const uint64_t unknown[] = {
		/* holes of the RMI range, among them the 1.0 commands removed in 2.0 (§2.2) */
		0xC4000151,
		0xC4000152,
		0xC4000154,
		0xC4000155,
		0xC400015F,
		0xC4000162,
		0xC4000167,
		0xC40001E2,
		0xC40001EF,
		/* RSI FIDs are not host commands */
		0xC4000190,
		0xC4000194,
		0xC40001AF,
		/* outside the RMI range */
		0xC400014F,
		0xC400020F,
		0xC4000211,
		0xC4000000,
		0xC400FFFF,
		/* SMC32 and other owners */
		0x84000150,
		0x84000165,
		0xC5000150,
		0xC3000150,
		0x04000150,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		struct t_snap *s = t_snap_take(m);
		struct rk_smc_regs r;

		for (int k = 0; k < 18; k++)
			r.x[k] = 0x1111 * (uint64_t)k;
		r.x[0] = unknown[i];
		rk_smc(m, &r);
		assert_int_equal(r.x[0], SMC_UNKNOWN);
		for (int k = 1; k < 18; k++)
			assert_int_equal(r.x[k], 0x1111 * (uint64_t)k);
		/* the SVE hint does not make an unknown FID known, nor does X0's upper half */
		assert_int_equal(RMI(m, unknown[i] | SMC_FID_SVE_HINT, NULL, 0), SMC_UNKNOWN);
		assert_int_equal(RMI(m, unknown[i] | 0xFFFFFFFF00000000ULL, NULL, 0), SMC_UNKNOWN);
		t_snap_check(m, s);
		t_snap_free(s);
	}
	/* the FID is W0 (SMCCC): X0's upper half is ignored, as by TF-A and TF-RMM */
	struct rmi_out o;
	assert_int_equal(RMI(m, 0xFFFFFFFF00000000ULL | RMI_FID_VERSION, &o, 0x20000), RMI_SUCCESS);
	assert_int_equal(RMI(m, 0x1234567800000000ULL | RMI_FID_FEATURES, &o, 0), RMI_SUCCESS);
	assert_int_not_equal(o.x[1], 0); /* FR0 */
	rk_machine_destroy(m);
}

static void test_not_supported(void **state)
{
	struct rk_machine *m = t_machine(32);
	struct rk_machine *mi = t_machine_inactive(32);
	unsigned int n = 0;

	(void)state;
	/* every defined command without a handler -> RMI_ERROR_NOT_SUPPORTED, in any RMM state */
	for (unsigned int f = RMI_FNUM_MIN; f <= RMI_FNUM_MAX; f++) {
		const struct rmi_cmd_desc *c = &rmi_cmd_table[f - RMI_FNUM_MIN];
		uint64_t fid = SMC_FID_BASE | f;

		if (!c->defined || c->handler)
			continue;
		n++;
		RMI_FAIL(m, RMI_ERROR_NOT_SUPPORTED, fid, 0, 0, 0, 0, 0, 0);
		RMI_FAIL(m, RMI_ERROR_NOT_SUPPORTED, fid | SMC_FID_SVE_HINT, T_DRAM_BASE, ~0ULL, 1, 2, 3, 4);
		RMI_FAIL(mi, RMI_ERROR_NOT_SUPPORTED, fid, 0);
	}
	assert_true(n > 0);
	/* device assignment and planes are out of scope: defined, not implemented */
	RMI_FAIL(m, RMI_ERROR_NOT_SUPPORTED, RMI_FID_PDEV_CREATE, 0);
	RMI_FAIL(m, RMI_ERROR_NOT_SUPPORTED, RMI_FID_RTT_AUX_CREATE, 0);
	RMI_FAIL(m, RMI_ERROR_NOT_SUPPORTED, RMI_FID_GPT_L1_DESTROY, 0);
	RMI_FAIL(m, RMI_ERROR_NOT_SUPPORTED, RMI_FID_RMM_STATE_GET, 0);
	rk_machine_destroy(m);
	rk_machine_destroy(mi);
}

static void test_sve_hint_and_registers(void **state)
{
	struct rk_machine *m = t_machine(32);
	struct rk_smc_regs r;
	struct rmi_out o;

	(void)state;
	/* bit 16 is ignored */
	assert_int_equal(RMI(m, RMI_FID_VERSION | SMC_FID_SVE_HINT, &o, 0x20000), RMI_SUCCESS);
	assert_int_equal(o.x[2], 0x20000);
	assert_int_equal(RMI(m, RMI_FID_FEATURES | SMC_FID_SVE_HINT, &o, 1), RMI_SUCCESS);
	assert_int_equal(o.x[1], fr(m, 1));
	assert_int_equal(RMI(m, RMI_FID_GRANULE_RANGE_DELEGATE | SMC_FID_SVE_HINT, &o, T_DRAM_BASE,
			     T_DRAM_BASE + 2 * G),
			 RMI_SUCCESS);
	assert_int_equal(o.x[1], T_DRAM_BASE + 2 * G);
	assert_int_equal(t_gstate(m, T_DRAM_BASE + G), GRANULE_STATE_DELEGATED);
	assert_int_equal(RMI(m, RMI_FID_GRANULE_RANGE_UNDELEGATE | SMC_FID_SVE_HINT, &o, T_DRAM_BASE,
			     T_DRAM_BASE + 2 * G),
			 RMI_SUCCESS);
	t_assert_all_undelegated(m);

	/* output registers a command does not set read 0; x5..x17 are preserved (SMCCC) */
	for (int k = 0; k < 18; k++)
		r.x[k] = 0xdead0000 + (uint64_t)k;
	r.x[0] = RMI_FID_VERSION;
	r.x[1] = 0x20000;
	rk_smc(m, &r);
	assert_int_equal(r.x[0], RMI_SUCCESS);
	assert_int_equal(r.x[3], 0);
	assert_int_equal(r.x[4], 0);
	for (int k = 5; k < 18; k++)
		assert_int_equal(r.x[k], 0xdead0000 + (uint64_t)k);
	for (int k = 0; k < 18; k++)
		r.x[k] = 0xdead0000 + (uint64_t)k;
	r.x[0] = RMI_FID_FEATURES;
	r.x[1] = 0;
	rk_smc(m, &r);
	assert_int_equal(r.x[0], RMI_SUCCESS);
	assert_int_equal(r.x[2], 0);
	assert_int_equal(r.x[3], 0);
	assert_int_equal(r.x[4], 0);
	for (int k = 5; k < 18; k++)
		assert_int_equal(r.x[k], 0xdead0000 + (uint64_t)k);
	rk_machine_destroy(m);
}

/*
 * The firmware log (rk_machine_set_rsi_log) also gets one line per RMI command
 * the RMM refuses, with its arguments by name and the status and index (as
 * TF-RMM's rmi_log_on_exit); nothing for SUCCESS or INCOMPLETE, nothing when
 * the log is off.
 */
static void test_refusal_log(void **state)
{
	struct rk_machine *m = t_machine(32);
	const uint64_t rd = T_DRAM_BASE + MIB, root = rd + 2 * G, rec = rd + 4 * G,
		       params = T_DRAM_BASE + 2 * MIB;
	FILE *f = tmpfile();
	char buf[2048], want[2048];
	size_t n;

	(void)state;
	assert_non_null(f);
	assert_int_equal(t_realm_create(m, rd, root, 40, 1, 2, params, RMI_HASH_SHA_256), RMI_SUCCESS);
	t_delegate(m, rec, 1);
	RMI(m, RMI_FID_REALM_ACTIVATE, NULL, T_DRAM_BASE); /* refused: no log yet */
	rk_machine_set_rsi_log(m, f);
	assert_int_equal(RMI(m, RMI_FID_VERSION, NULL, 0x20000), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_REALM_ACTIVATE, NULL, T_DRAM_BASE), RMI_ERROR_INPUT);
	assert_int_equal(RMI(m, RMI_FID_GRANULE_RANGE_DELEGATE, NULL, T_DRAM_BASE + 2 * G, T_DRAM_BASE + G),
			 RMI_ERROR_INPUT);
	assert_int_equal(RMI(m, RMI_FID_RTT_FOLD, NULL, rd, 0, 3), T_RTT(1));
	assert_int_equal(RMI(m, RMI_FID_PDEV_CREATE, NULL, 0), RMI_ERROR_NOT_SUPPORTED);
	assert_int_equal(RMI(m, RMI_FID_RMM_CONFIG_SET, NULL, 0), RMI_ERROR_GLOBAL); /* the state gate */
	assert_int_equal(ST(RMI(m, RMI_FID_REC_CREATE, NULL, rd, rec, params)), RMI_INCOMPLETE);
	rk_machine_set_rsi_log(m, NULL);
	RMI(m, RMI_FID_REALM_ACTIVATE, NULL, T_DRAM_BASE);
	fflush(f);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	snprintf(want, sizeof(want),
		 "rmm: RMI_REALM_ACTIVATE(rd=0x%llx) -> status 1 index 0\n"
		 "rmm: RMI_GRANULE_RANGE_DELEGATE(base=0x%llx, top=0x%llx) -> status 1 index 0\n"
		 "rmm: RMI_RTT_FOLD(rd=0x%llx, ipa=0x0, level=0x3) -> status 4 index 1\n"
		 "rmm: RMI_PDEV_CREATE() -> status 5 index 0\n"
		 "rmm: RMI_RMM_CONFIG_SET(config=0x0) -> status 11 index 0\n",
		 (unsigned long long)T_DRAM_BASE, (unsigned long long)(T_DRAM_BASE + 2 * G),
		 (unsigned long long)(T_DRAM_BASE + G), (unsigned long long)rd);
	assert_string_equal(buf, want);
	fclose(f);
	rk_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_activate_gate),
		cmocka_unit_test(test_tracking_get),
		cmocka_unit_test(test_gpt_l1_create),
		cmocka_unit_test(test_unknown_fid),
		cmocka_unit_test(test_not_supported),
		cmocka_unit_test(test_sve_hint_and_registers),
		cmocka_unit_test(test_refusal_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
