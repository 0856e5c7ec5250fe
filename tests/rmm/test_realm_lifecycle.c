/* SPDX-License-Identifier: MIT */
/*
 * A realm built and torn down end to end over RMI, as a KVM host would:
 * delegate -> REALM_CREATE -> RTTs -> INIT_RIPAS -> DATA_MAP_INIT 1 MiB image
 * -> DATA_MAP 63 MiB unknown -> TERMINATE -> DATA_UNMAP -> RTT_DESTROY ->
 * REALM_DESTROY -> undelegate, 1000 times: every granule ends UNDELEGATED,
 * the GPT agrees with the granule states after every step, and the RIM
 * equals the value this test computes itself from the descriptor layout.
 */
#include <string.h>

#include <openssl/evp.h>

#include "machine.h"
#include "rk_test.h"
#include "rmm/realm.h"

#define MIB (1ULL << 20)
#define DRAM_MIB 256
#define BLOCKS_PA (T_DRAM_BASE + 64 * MIB) /* 31 x 2 MiB data blocks */
#define PAGES_PA (T_DRAM_BASE + 128 * MIB) /* 512 data pages */
#define RD_PA (T_DRAM_BASE + 130 * MIB)
#define ROOT_PA (RD_PA + 2 * G) /* 2 concatenated root RTTs */
#define L2_PA (RD_PA + 4 * G)
#define L3_PA (RD_PA + 5 * G)
#define PARAMS_PA (T_DRAM_BASE + 131 * MIB)
#define IMAGE_PA (T_DRAM_BASE + 132 * MIB) /* 1 MiB NS source image */
#define IMAGE_SIZE MIB
#define REALM_SIZE (64 * MIB)

/* ---- the test's own measurement model (independent of src/rmm/measure.c) ---- */

static void sha256(const void *d, size_t n, uint8_t out[32])
{
	unsigned int len = 0;

	assert_int_equal(EVP_Digest(d, n, out, &len, EVP_sha256(), NULL), 1);
	assert_int_equal(len, 32);
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void expect_rim0(uint8_t rim[64])
{
	uint8_t img[4096] = { 0 };

	img[0x08] = 40; /* s2sz */
	img[0x18] = 5;  /* num_bps */
	img[0x20] = 3;  /* num_wps */
	memset(rim, 0, 64);
	sha256(img, sizeof(img), rim);
}

static void expect_extend_data(uint8_t rim[64], uint64_t ipa, const uint8_t *page)
{
	uint8_t d[256] = { 0 };

	d[0] = 0;
	put64(&d[0x08], 256);
	memcpy(&d[0x10], rim, 64);
	put64(&d[0x50], ipa);
	put64(&d[0x58], 1);
	sha256(page, 4096, &d[0x60]);
	memset(rim, 0, 64);
	sha256(d, sizeof(d), rim);
}

static const uint8_t *realm_rim(struct rk_machine *m)
{
	struct rmm *rmm = machine_rmm(m);

	return rd_of(rmm, granule_from_pa(rmm, RD_PA))->rim;
}

static void fill_image(struct rk_machine *m)
{
	static uint8_t img[IMAGE_SIZE];

	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 7 + (i >> 12));
	t_write(m, IMAGE_PA, img, sizeof(img));
}

static void build_and_teardown(struct rk_machine *m, bool check_each_step)
{
	struct rmi_out o;
	uint8_t rim[64];
	uint64_t ipa;

	assert_int_equal(t_realm_create(m, RD_PA, ROOT_PA, 40, 1, 2, PARAMS_PA, RMI_HASH_SHA_256),
			 RMI_SUCCESS);
	expect_rim0(rim);
	assert_memory_equal(realm_rim(m), rim, 64);

	t_delegate(m, L2_PA, 2);
	assert_int_equal(RMI(m, RMI_FID_RTT_CREATE, NULL, RD_PA, L2_PA, 0ULL, 2ULL), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_RTT_CREATE, NULL, RD_PA, L3_PA, 0ULL, 3ULL), RMI_SUCCESS);

	for (ipa = 0; ipa < REALM_SIZE; ipa = o.x[1])
		assert_int_equal(RMI(m, RMI_FID_RTT_INIT_RIPAS, &o, RD_PA, ipa, REALM_SIZE), RMI_SUCCESS);
	assert_int_equal(ipa, REALM_SIZE);

	/* measured image: 256 pages */
	t_delegate(m, PAGES_PA, 512);
	for (uint64_t i = 0; i < IMAGE_SIZE / G; i++) {
		uint8_t page[4096];

		assert_int_equal(RMI(m, RMI_FID_RTT_DATA_MAP_INIT, NULL, RD_PA, PAGES_PA + i * G, i * G,
				     IMAGE_PA + i * G, (uint64_t)RMI_MEASURE_CONTENT),
				 RMI_SUCCESS);
		if (check_each_step) {
			t_read(m, IMAGE_PA + i * G, page, sizeof(page));
			expect_extend_data(rim, i * G, page);
			assert_memory_equal(realm_rim(m), rim, 64);
		}
	}
	/* unknown contents: 256 pages at 1 MiB, then 31 blocks of 2 MiB */
	uint64_t d = (PAGES_PA + IMAGE_SIZE) | (256ULL << 2); /* SZ 4K, CNT 256, DELEGATED */
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_MAP, &o, RD_PA, IMAGE_SIZE, 2 * MIB,
			     (uint64_t)RMI_ADDR_TYPE_SINGLE, d),
			 RMI_SUCCESS);
	assert_int_equal(o.x[1], 2 * MIB);
	t_delegate(m, BLOCKS_PA, 31 * 512);
	d = BLOCKS_PA | (31ULL << 2) | 1; /* SZ 2M, CNT 31 */
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_MAP, &o, RD_PA, 2 * MIB, REALM_SIZE,
			     (uint64_t)RMI_ADDR_TYPE_SINGLE, d),
			 RMI_SUCCESS);
	assert_int_equal(o.x[1], REALM_SIZE);
	if (check_each_step) {
		assert_int_equal(t_gstate(m, BLOCKS_PA + 30 * 2 * MIB + 511 * G), GRANULE_STATE_DATA);
		t_check_gpt_consistent(m, NULL);
	}

	assert_int_equal(RMI(m, RMI_FID_REALM_ACTIVATE, NULL, RD_PA), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_REALM_TERMINATE, NULL, RD_PA), RMI_SUCCESS);

	/* unmap everything; undelegate what each call returns */
	for (ipa = 0; ipa < REALM_SIZE; ipa = o.x[1]) {
		assert_int_equal(RMI(m, RMI_FID_RTT_DATA_UNMAP, &o, RD_PA, ipa, REALM_SIZE,
				     (uint64_t)RMI_ADDR_TYPE_SINGLE, 0ULL),
				 RMI_SUCCESS);
		assert_true(o.x[1] > ipa);
		if (o.x[2]) {
			uint64_t sz = 1ULL << (12 + 9 * (o.x[2] & 3)), cnt = (o.x[2] >> 2) & 0x3ff;
			uint64_t pa = o.x[2] & 0x000FFFFFFFFFF000ULL;
			assert_int_equal(o.x[2] >> 63, 0); /* DELEGATED */
			t_undelegate(m, pa, cnt * sz / G);
		}
	}
	assert_int_equal(RMI(m, RMI_FID_RTT_DESTROY, &o, RD_PA, 0ULL, 3ULL), RMI_SUCCESS);
	assert_int_equal(o.x[1], L3_PA);
	assert_int_equal(RMI(m, RMI_FID_RTT_DESTROY, &o, RD_PA, 0ULL, 2ULL), RMI_SUCCESS);
	assert_int_equal(o.x[1], L2_PA);
	t_undelegate(m, L2_PA, 2);
	assert_int_equal(RMI(m, RMI_FID_REALM_DESTROY, NULL, RD_PA), RMI_SUCCESS);
	t_undelegate(m, RD_PA, 1);
	t_undelegate(m, ROOT_PA, 2);
	if (check_each_step)
		t_assert_all_undelegated(m);
}

static void test_lifecycle_once_checked(void **state)
{
	struct rk_machine *m = t_machine(DRAM_MIB);
	uint8_t page[4096];

	(void)state;
	fill_image(m);
	build_and_teardown(m, true);
	/* the host reads zeros where realm data was */
	t_read(m, PAGES_PA, page, sizeof(page));
	for (size_t i = 0; i < sizeof(page); i++)
		assert_int_equal(page[i], 0);
	rk_machine_destroy(m);
}

static void test_lifecycle_1000(void **state)
{
	struct rk_machine *m = t_machine(DRAM_MIB);

	(void)state;
	fill_image(m);
	for (int i = 0; i < 1000; i++) {
		build_and_teardown(m, false);
		if (i % 100 == 99)
			t_assert_all_undelegated(m);
	}
	t_assert_all_undelegated(m);
	rk_machine_destroy(m);
}

static void test_reference_rim_example(void **state)
{
	/* worked example of the ABI digest, section 16.5 */
	static const uint8_t rim0[32] = {
		0xf3, 0x34, 0x98, 0xf2, 0x2e, 0xed, 0x8d, 0x51, 0xfb, 0x28, 0xb9,
		0x57, 0x69, 0xb2, 0x72, 0x75, 0xa8, 0xc6, 0x9a, 0x46, 0x9e, 0x26,
		0xb0, 0x05, 0x0f, 0x1e, 0x80, 0x9c, 0x4e, 0x01, 0x46, 0xb4,
	};
	struct rk_machine *m = t_machine(DRAM_MIB);

	(void)state;
	assert_int_equal(t_realm_create(m, RD_PA, ROOT_PA, 40, 1, 2, PARAMS_PA, RMI_HASH_SHA_256),
			 RMI_SUCCESS);
	assert_memory_equal(realm_rim(m), rim0, 32);
	rk_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_rim_example),
		cmocka_unit_test(test_lifecycle_once_checked),
		cmocka_unit_test(test_lifecycle_1000),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
