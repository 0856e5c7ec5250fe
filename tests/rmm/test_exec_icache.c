/* SPDX-License-Identifier: MIT */
/*
 * Instruction-cache maintenance across a realm's RECs through the real RMM, in
 * the vCPU backend's stage-2 mode (set here, whatever RK_CPU_MODE says): two
 * RECs with their MMU on share one set of stage-1 tables; REC 1 calls a
 * function (its engine translates it), REC 0 rewrites the function and makes
 * it visible with DC CVAU; DSB ISH; IC IVAU; DSB ISH; ISB, and REC 1's next
 * call (next REC_ENTER) runs the new code, as IC IVAU (broadcast to the inner
 * shareable domain) guarantees on hardware. REC 1's engine drops just that
 * page's translated code: it is not replaced by a fresh engine. (SMP Linux
 * relies on it for every new executable page: exec, modules, jump labels.)
 */
#include "exec_util.h"

#define FN_IPA 0x7000ULL /* the function: movz x0, #n; ret */

#define A64_BLR(rn) (0xD63F0000u | ((rn) << 5))
#define A64_RET 0xD65F03C0u

static uint64_t fn_code(uint16_t n)
{
	return (uint64_t)A64_RET << 32 | a64_movz(0, n, 0);
}

static struct rk_cpu_stats rec_stats(struct xr *x, unsigned int i)
{
	struct rk_cpu_stats st;

	assert_non_null(xr_recp(x, i)->cpu);
	rk_cpu_get_stats(xr_recp(x, i)->cpu, &st);
	return st;
}

static void test_ivau_across_recs(void **state)
{
	static uint32_t vec[1024];
	const uint32_t fn[2] = { a64_movz(0, 1, 0), A64_RET };
	struct prog p = { .n = 0 };
	struct rk_cpu_stats before, after;
	unsigned int pc_b;
	struct xr x;

	(void)state;
	xr_create(&env, &x, RMI_HASH_SHA_256, NULL);
	/* REC 0: rewrite the function to return 2, make it visible (IC IVAU), report */
	p_s1_mmu_on(&p);
	p_mov(&p, 3, fn_code(2));
	p_mov(&p, 4, FN_IPA);
	p_put(&p, a64_str(3, 4));
	p_put(&p, A64_DC_CVAU(4));
	p_put(&p, A64_DSB_ISH);
	p_put(&p, A64_IC_IVAU(4));
	p_put(&p, A64_DSB_ISH);
	p_put(&p, A64_ISB);
	p_put(&p, a64_str(3, XR_MMIO_REG));
	p_put(&p, A64_B_SELF);
	/* REC 1: call it and report x0, twice */
	pc_b = p.n;
	p_s1_mmu_on(&p);
	p_mov(&p, 6, FN_IPA);
	p_put(&p, A64_BLR(6));
	p_put(&p, a64_str(0, XR_MMIO_REG));
	p_put(&p, A64_BLR(6));
	p_put(&p, a64_str(0, XR_MMIO_REG));
	p_put(&p, A64_B_SELF);
	xr_load(&x, XR_CODE_IPA, p.w, p.n);
	xr_vector_words(vec);
	xr_load(&x, XR_VEC_IPA, vec, 1024);
	xr_load(&x, FN_IPA, fn, 2);
	xr_s1_tables(&x, 0, 0); /* identity */
	xr_rec(&x, true, XR_CODE_IPA);
	xr_rec(&x, true, p_ipa(pc_b));
	xr_activate(&x);

	/* REC 1's engine translates the function */
	xr_next_store(&x, 1, 0, 1);
	/* REC 0 rewrites it, IC IVAU */
	xr_next_store(&x, 0, 0, fn_code(2));
	before = rec_stats(&x, 1);
	/* REC 1 at its next entry: the new code, only that page's code dropped */
	xr_next_store(&x, 1, XR_ENTER_MMIO, 2);
	after = rec_stats(&x, 1);
	assert_int_equal(after.code_page_drops, before.code_page_drops + 1);
	assert_int_equal(after.code_domain_flushes, before.code_domain_flushes);
	assert_int_equal(after.wakes, before.wakes); /* the same engine */
	assert_int_equal(rec_stats(&x, 0).ic_broadcast, 1);

	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ivau_across_recs, xenv_setup, xenv_teardown),
	};

	rk_cpu_set_default_mode(RK_CPU_MODE_STAGE2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
