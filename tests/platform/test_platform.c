/* SPDX-License-Identifier: MIT */
/*
 * The platform's promises: DRAM layouts (banks, holes, lazy backing up to
 * 64 GiB and beyond), the GPT, and the host's two doors. A host access to any
 * granule the RMM owns (RD, RTT, REC, REC_AUX, DATA, DELEGATED) or to a
 * ROOT/SECURE carve-out fails with -RK_EGPF and changes nothing; outside DRAM
 * it fails with -EFAULT.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rk_test.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

static long rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void test_64gib_lazily(void **state)
{
	struct rk_machine_config cfg;
	struct rk_machine *m = NULL;
	long before = rss_kib();
	uint64_t top = T_DRAM_BASE + 64 * GIB, cfgp[2] = { 0, 0 };
	struct rmi_out o;
	uint8_t b = 0x77;

	(void)state;
	rk_machine_config_default(&cfg);
	cfg.dram_size = 64 * GIB;
	assert_int_equal(rk_machine_create(&cfg, &m), 0);
	assert_int_equal(rk_machine_dram_granules(m), 64 * GIB / G);
	/* the last granule works like the first */
	t_write(m, T_DRAM_BASE, cfgp, sizeof(cfgp));
	assert_int_equal(RMI(m, RMI_FID_RMM_CONFIG_SET, NULL, T_DRAM_BASE), RMI_SUCCESS);
	assert_int_equal(RMI0(m, RMI_FID_RMM_ACTIVATE, NULL), RMI_SUCCESS);
	t_write(m, top - G, &b, 1);
	assert_int_equal(RMI(m, RMI_FID_GRANULE_RANGE_DELEGATE, &o, top - G, top), RMI_SUCCESS);
	assert_int_equal(rk_ns_read(m, top - G, &b, 1), -RK_EGPF);
	assert_int_equal(RMI(m, RMI_FID_GRANULE_RANGE_UNDELEGATE, &o, top - G, top), RMI_SUCCESS);
	assert_int_equal(rk_ns_read(m, top - G, &b, 1), 0);
	assert_int_equal(b, 0);
	assert_int_equal(rk_ns_read(m, top, &b, 1), -EFAULT);
	/* modelled, not touched: far less than 1% of 64 GiB became resident */
	if (before >= 0)
		assert_true(rss_kib() - before < 64 * 1024);
	rk_machine_destroy(m);
}

static void test_banks_and_holes(void **state)
{
	struct rk_machine_config cfg;
	struct rk_machine *m = NULL;
	enum rk_pas pas;
	uint8_t buf[2 * 4096] = { 0 };

	(void)state;
	rk_machine_config_default(&cfg);
	cfg.nbanks = 2;
	cfg.banks[0] = (struct rk_dram_bank){ 0x80000000ULL, 16 * MIB };
	cfg.banks[1] = (struct rk_dram_bank){ 0x880000000ULL, 16 * MIB };
	assert_int_equal(rk_machine_create(&cfg, &m), 0);
	assert_int_equal(rk_machine_nbanks(m), 2);
	assert_true(rk_pa_is_dram(m, 0x880000000ULL));
	assert_false(rk_pa_is_dram(m, 0x80000000ULL + 16 * MIB));
	assert_int_equal(rk_gpt_get(m, 0x90000000ULL, &pas), -EFAULT);
	assert_int_equal(rk_gpt_get(m, 0x880000000ULL, &pas), 0);
	assert_int_equal(pas, RK_PAS_NS);
	/* an access that runs off the end of a bank into the hole fails whole */
	assert_int_equal(rk_ns_write(m, 0x80000000ULL + 16 * MIB - G, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(rk_ns_read(m, 0x80000000ULL + 16 * MIB - G, buf, G), 0);
	uint8_t *p = NULL;
	assert_int_equal(rk_ns_map(m, 0x80000000ULL + 16 * MIB - G, 2 * G, &p), -EFAULT);
	assert_int_equal(rk_ns_zero(m, 0x80000000ULL + 16 * MIB - G, 2 * G), -EFAULT);
	rk_machine_destroy(m);

	/* invalid layouts */
	cfg.banks[1].base = 0x80000000ULL + 8 * MIB; /* overlap */
	assert_int_equal(rk_machine_create(&cfg, &m), -EINVAL);
	cfg.banks[1].base = 0x880000000ULL + 1; /* unaligned */
	assert_int_equal(rk_machine_create(&cfg, &m), -EINVAL);
	cfg.banks[1].base = 1ULL << 48; /* beyond the PA width */
	assert_int_equal(rk_machine_create(&cfg, &m), -EINVAL);
	cfg.nbanks = RK_MAX_DRAM_BANKS + 1;
	assert_int_equal(rk_machine_create(&cfg, &m), -EINVAL);
}

/* Every access path fails on pa with -RK_EGPF, and the granule keeps its contents. */
static void expect_gpf(struct rk_machine *m, uint64_t pa)
{
	uint8_t buf[16], *p = NULL;

	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(rk_ns_read(m, pa, buf, sizeof(buf)), -RK_EGPF);
	assert_int_equal(buf[0], 0xee); /* nothing copied */
	assert_int_equal(rk_ns_write(m, pa, buf, sizeof(buf)), -RK_EGPF);
	assert_int_equal(rk_ns_map(m, pa, 16, &p), -RK_EGPF);
	assert_null(p);
	/* a range that starts in NS memory and ends here fails whole */
	assert_int_equal(rk_ns_write(m, pa - 8, buf, sizeof(buf)), -RK_EGPF);
	assert_int_equal(rk_ns_map(m, pa - G, 2 * G, &p), -RK_EGPF);
	assert_int_equal(rk_ns_zero(m, pa & ~(G - 1), G), -RK_EGPF);
	assert_int_equal(rk_ns_zero(m, (pa & ~(G - 1)) - G, 2 * G), -RK_EGPF);
}

/* rk_ns_zero: whole granules, small (written) and large (given back to the OS) ranges alike. */
static void test_ns_zero(void **state)
{
	struct rk_machine *m = t_machine(32);
	const uint64_t base = 0x80000000ULL + 4 * MIB;
	static const uint64_t sizes[] = { G, 3 * G, 64 * G, MIB + G };
	uint8_t *p = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(rk_ns_map(m, base - G, sizes[i] + 2 * G, &p), 0);
		memset(p, 0xa5, sizes[i] + 2 * G);
		assert_int_equal(rk_ns_zero(m, base, sizes[i]), 0);
		for (uint64_t b = 0; b < sizes[i] + 2 * G; b += 511) {
			bool inside = b >= G && b < G + sizes[i];
			assert_int_equal(p[b], inside ? 0 : 0xa5); /* exactly the range */
		}
		assert_int_equal(p[G + sizes[i] - 1], 0);
		assert_int_equal(p[G + sizes[i]], 0xa5);
	}
	assert_int_equal(rk_ns_zero(m, base + 8, G), -EINVAL);
	assert_int_equal(rk_ns_zero(m, base, G + 8), -EINVAL);
	assert_int_equal(rk_ns_zero(m, base, 0), -EFAULT);
	assert_int_equal(rk_ns_zero(m, 0x1000, G), -EFAULT); /* not DRAM */
	rk_machine_destroy(m);
}

static void test_gpf_on_rmm_objects(void **state)
{
	struct rk_machine *m = t_machine(64);
	const uint64_t rd = T_DRAM_BASE + 0x100000, root = rd + 2 * G, l2 = rd + 4 * G, data = rd + 8 * G;
	const uint64_t dlg = rd + 9 * G, params = T_DRAM_BASE + 0x200000, src = params + G;
	uint8_t page[4096], zero[4096] = { 0 };

	(void)state;
	memset(page, 0x5a, sizeof(page));
	t_write(m, src, page, sizeof(page));
	/* the granules just below each object stay NS: only the object faults */
	assert_int_equal(t_realm_create(m, rd, root, 40, 1, 2, params, RMI_HASH_SHA_256), RMI_SUCCESS);
	t_delegate(m, l2, 2);
	t_delegate(m, data, 2);
	assert_int_equal(RMI(m, RMI_FID_RTT_CREATE, NULL, rd, l2, 0ULL, 2ULL), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_RTT_CREATE, NULL, rd, l2 + G, 0ULL, 3ULL), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_MAP_INIT, NULL, rd, data, 0ULL, src, 1ULL), RMI_SUCCESS);
	assert_int_equal(t_gstate(m, rd), GRANULE_STATE_RD);
	assert_int_equal(t_gstate(m, root), GRANULE_STATE_RTT);
	assert_int_equal(t_gstate(m, l2 + G), GRANULE_STATE_RTT);
	assert_int_equal(t_gstate(m, data), GRANULE_STATE_DATA);
	assert_int_equal(t_gstate(m, dlg), GRANULE_STATE_DELEGATED);
	uint64_t objs[] = { rd, root, root + G, l2, l2 + G, data, dlg };
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		enum rk_pas pas;
		expect_gpf(m, objs[i]);
		assert_int_equal(rk_gpt_get(m, objs[i], &pas), 0);
		assert_int_equal(pas, RK_PAS_REALM);
	}
	/* the realm's data is intact after the failed writes */
	struct rmi_out o;
	assert_int_equal(t_read_entry(m, rd, 0, 3, &o), RMI_SUCCESS);
	assert_int_equal(o.x[3], data);
	assert_int_equal(rk_ns_read(m, rd - G, zero, 1), 0); /* NS neighbour */
	t_check_gpt_consistent(m, NULL);
	rk_machine_destroy(m);
}

static void test_carveouts(void **state)
{
	struct rk_machine_config cfg;
	struct rk_machine *m = NULL;
	enum rk_pas pas;
	uint8_t b = 0;

	(void)state;
	rk_machine_config_default(&cfg);
	cfg.dram_size = 32 * MIB;
	cfg.ncarveouts = 2;
	cfg.carveouts[0] = (struct rk_pas_region){ T_DRAM_BASE + MIB, G, RK_PAS_ROOT };
	cfg.carveouts[1] = (struct rk_pas_region){ T_DRAM_BASE + 2 * MIB, 2 * G, RK_PAS_SECURE };
	assert_int_equal(rk_machine_create(&cfg, &m), 0);
	assert_int_equal(rk_gpt_get(m, T_DRAM_BASE + MIB, &pas), 0);
	assert_int_equal(pas, RK_PAS_ROOT);
	assert_int_equal(rk_gpt_get(m, T_DRAM_BASE + 2 * MIB + G, &pas), 0);
	assert_int_equal(pas, RK_PAS_SECURE);
	assert_int_equal(rk_ns_read(m, T_DRAM_BASE + MIB, &b, 1), -RK_EGPF);
	assert_int_equal(rk_ns_write(m, T_DRAM_BASE + 2 * MIB + G, &b, 1), -RK_EGPF);
	assert_int_equal(rk_ns_read(m, T_DRAM_BASE + MIB + G, &b, 1), 0);
	rk_machine_destroy(m);
	/* a carve-out outside DRAM is refused */
	cfg.carveouts[1].base = T_DRAM_BASE + 64 * MIB;
	assert_int_equal(rk_machine_create(&cfg, &m), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_64gib_lazily), cmocka_unit_test(test_banks_and_holes),
		cmocka_unit_test(test_ns_zero),      cmocka_unit_test(test_gpf_on_rmm_objects),
		cmocka_unit_test(test_carveouts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
