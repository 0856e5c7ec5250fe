/* SPDX-License-Identifier: MIT */
/*
 * TLB maintenance across a realm's RECs through the real RMM, in the vCPU
 * backend's stage-2 mode (set here, whatever RK_CPU_MODE says): two RECs with
 * their MMU on share one set of stage-1 tables; both read a VA (each REC's
 * engine caches its translation), REC 0 points the VA at another page and
 * executes TLBI VAE1IS + DSB ISH, and REC 1's next read (next REC_ENTER) sees
 * the new page, as an inner-shareable TLBI on hardware guarantees. (SMP Linux
 * relies on it: every unmap and COW break is a broadcast TLBI.)
 */
#include "exec_util.h"

/* IPAs in the realm's RIPAS RAM (identity-mapped by its stage 1, but VA) */
#define OLD_IPA 0x4000ULL
#define NEW_IPA 0x5000ULL
#define VA 0x6000ULL /* -> OLD_IPA, then NEW_IPA; IPA 0x6000 itself is never mapped */
#define OLD_VAL 0x0101010101010101ULL
#define NEW_VAL 0x0202020202020202ULL

/* MMU on with the shared tables (xr_s1_tables); x28 = MMIO, x2 = VA. */
static void p_mmu_on(struct prog *p)
{
	p_s1_mmu_on(p);
	p_mov(p, 2, VA);
}

/* Read VA and report it by an MMIO store. */
static void p_read_report(struct prog *p)
{
	p_put(p, a64_ldr(1, 2));
	p_put(p, a64_str(1, XR_MMIO_REG));
}

/* The next exit of REC i is an MMIO store: its value (the previous one completed first if mmio). */
static uint64_t next_store(struct xr *x, unsigned int i, bool mmio)
{
	struct rmi_rec_exit ex;

	assert_int_equal(xr_enter(x, i, mmio ? XR_ENTER_MMIO : 0, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
	assert_true(ex.esr & ESR_ISV);
	assert_true(ex.esr & ESR_WNR);
	return ex.gprs[0];
}

static void test_vae1is_across_recs(void **state)
{
	static uint32_t vec[1024];
	static uint64_t page[512];
	struct prog p = { .n = 0 };
	unsigned int pc_b;
	struct xr x;

	(void)state;
	xr_create(&env, &x, RMI_HASH_SHA_256, NULL);
	/* REC 0: read; remap VA to NEW_IPA with TLBI VAE1IS; read */
	p_mmu_on(&p);
	p_read_report(&p);
	p_mov(&p, 3, NEW_IPA | XR_S1_PAGE);
	p_mov(&p, 4, XR_S1_L3 + 8 * (VA >> 12));
	p_mov(&p, 5, VA >> 12); /* TLBI argument: VA[55:12], ASID 0 */
	p_put(&p, a64_str(3, 4));
	p_put(&p, A64_DSB_ISH);
	p_put(&p, A64_TLBI_VAE1IS(5));
	p_put(&p, A64_DSB_ISH);
	p_put(&p, A64_ISB);
	p_read_report(&p);
	p_put(&p, A64_B_SELF);
	/* REC 1: read; read again */
	pc_b = p.n;
	p_mmu_on(&p);
	p_read_report(&p);
	p_read_report(&p);
	p_put(&p, A64_B_SELF);
	xr_load(&x, XR_CODE_IPA, p.w, p.n);
	xr_vector_words(vec);
	xr_load(&x, XR_VEC_IPA, vec, 1024);
	for (unsigned int i = 0; i < 512; i++)
		page[i] = OLD_VAL;
	xr_page(&x, OLD_IPA, page, RMI_NO_MEASURE_CONTENT);
	for (unsigned int i = 0; i < 512; i++)
		page[i] = NEW_VAL;
	xr_page(&x, NEW_IPA, page, RMI_NO_MEASURE_CONTENT);
	xr_s1_tables(&x, VA, OLD_IPA);
	xr_rec(&x, true, XR_CODE_IPA);
	xr_rec(&x, true, p_ipa(pc_b));
	xr_activate(&x);

	/* both RECs' engines translate VA -> OLD_IPA */
	assert_int_equal(next_store(&x, 0, false), OLD_VAL);
	assert_int_equal(next_store(&x, 1, false), OLD_VAL);
	/* REC 0 remaps, invalidates (inner shareable) and sees the new page */
	assert_int_equal(next_store(&x, 0, true), NEW_VAL);
	/* REC 1 at its next entry: no stale translation */
	assert_int_equal(next_store(&x, 1, true), NEW_VAL);

	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vae1is_across_recs, xenv_setup, xenv_teardown),
	};

	rk_cpu_set_default_mode(RK_CPU_MODE_STAGE2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
