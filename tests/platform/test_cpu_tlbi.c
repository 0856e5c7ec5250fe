/* SPDX-License-Identifier: MIT */
/*
 * TLB maintenance across vCPUs (stage-2 mode, guest MMU on): a broadcast TLBI
 * one vCPU executes reaches the other vCPUs of its TLB domain before they run
 * again (rk_cpu_set_tlb_domain). Two vCPUs share the guest's RAM and page
 * tables (tests/support/cpu_smp.h); both read a VA (each engine's TLB holds
 * its translation), vCPU A points the VA's page-table entry at another page
 * and executes TLBI + DSB, then vCPU B reads the VA again.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "a64.h"
#include "cpu_smp.h"
#include "cpu_util.h"
#include "realmkit/cpu.h"

#define VA_PAGE 5u /* the VA page whose translation changes */
#define VA (T_SMP_RAM_IPA + 0x1000ull * VA_PAGE)
#define OLD_PAGE 0x3000ull
#define NEW_PAGE 0x4000ull
#define OLD_VAL 0x1111111111111111ull
#define NEW_VAL 0x2222222222222222ull

/* Entry points (offsets into RAM); every one ends in SMC. */
#define E_READ T_SMP_E_FREE    /* x1 = [x2] */
#define E_IS (E_READ + 0x20)   /* [x4] = x3; dsb; tlbi vae1is, x5; dsb; isb */
#define E_LOCAL (E_IS + 0x20)  /* the same with tlbi vae1 */
#define E_ALL (E_LOCAL + 0x20) /* [x4] = x3; dsb; tlbi vmalle1is; dsb; isb */

static int fx_setup(void **state)
{
	const uint32_t rd[] = { a64_ldr(1, 2), A64_SMC };
	const uint32_t is[] = {
		a64_str(3, 4), A64_DSB_ISH, A64_TLBI_VAE1IS(5), A64_DSB_ISH, A64_ISB, A64_SMC
	};
	const uint32_t local[] = {
		a64_str(3, 4), A64_DSB_ISH, A64_TLBI_VAE1(5), A64_DSB_ISH, A64_ISB, A64_SMC
	};
	const uint32_t all[] = {
		a64_str(3, 4), A64_DSB_ISH, A64_TLBI_VMALLE1IS, A64_DSB_ISH, A64_ISB, A64_SMC
	};
	struct t_smp *f = t_smp_new(T_SMP_RAM_SIZE);
	uint64_t d;

	t_smp_put(f, E_READ, rd, 2);
	t_smp_put(f, E_IS, is, 6);
	t_smp_put(f, E_LOCAL, local, 6);
	t_smp_put(f, E_ALL, all, 6);
	t_smp_map(f, VA_PAGE, OLD_PAGE);
	d = OLD_VAL;
	memcpy(f->ram + OLD_PAGE, &d, 8);
	d = NEW_VAL;
	memcpy(f->ram + NEW_PAGE, &d, 8);
	for (unsigned i = 0; i < 2; i++) {
		t_cpu_set(f->cpu[i], RK_CPU_REG_X(2), VA);
		t_cpu_set(f->cpu[i], RK_CPU_REG_X(4),
			  T_SMP_RAM_IPA + T_SMP_L3 + 8 * VA_PAGE); /* (identity) */
		t_cpu_set(f->cpu[i], RK_CPU_REG_X(5), VA >> 12);   /* TLBI VA argument, ASID 0 */
	}
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	t_smp_free(*state);
	return 0;
}

static uint64_t read_va(struct rk_cpu *c)
{
	t_smp_run(c, E_READ);
	return t_cpu_reg(c, RK_CPU_REG_X(1));
}

/* vCPU c points VA at page (new descriptor in x3) with the TLBI sequence at entry. */
static void remap(struct rk_cpu *c, uint64_t entry, uint64_t page)
{
	t_cpu_set(c, RK_CPU_REG_X(3), t_smp_pte(page));
	t_smp_run(c, entry);
}

/* Both vCPUs enable their MMU and read VA: each engine's TLB holds VA -> OLD_PAGE. */
static void fill_both(struct t_smp *f)
{
	for (unsigned i = 0; i < 2; i++) {
		t_smp_run(f->cpu[i], T_SMP_E_MMU);
		assert_int_equal(read_va(f->cpu[i]), OLD_VAL);
		assert_int_equal(read_va(f->cpu[i]), OLD_VAL); /* again: a TLB hit */
	}
}

/* TLBI VAE1IS + DSB on A: B's next run reads the new page. */
static void test_vae1is_reaches_other_vcpu(void **state)
{
	struct t_smp *f = *state;
	struct rk_cpu *a = f->cpu[0], *b = f->cpu[1];
	uint64_t gen, a_flushes, b_flushes;

	fill_both(f);
	gen = t_smp_tlb_gen(f);
	a_flushes = t_cpu_stats(a).tlb_domain_flushes;
	b_flushes = t_cpu_stats(b).tlb_domain_flushes;
	remap(a, E_IS, NEW_PAGE);
	assert_int_equal(t_smp_tlb_gen(f), gen + 1);
	assert_int_equal(t_cpu_stats(a).tlbi_broadcast, 1);
	assert_int_equal(read_va(a), NEW_VAL); /* A's own engine performed the TLBI */
	assert_int_equal(read_va(b), NEW_VAL);
	assert_int_equal(t_cpu_stats(b).tlb_domain_flushes, b_flushes + 1);
	/* A's own TLBI costs A no flush */
	assert_int_equal(t_cpu_stats(a).tlb_domain_flushes, a_flushes);

	/* and back, from B, with TLBI VMALLE1IS */
	remap(b, E_ALL, OLD_PAGE);
	assert_int_equal(read_va(b), OLD_VAL);
	assert_int_equal(read_va(a), OLD_VAL);
	assert_int_equal(t_cpu_stats(b).tlbi_broadcast, 1);
}

/* A local TLBI VAE1 is not broadcast: no generation bump (what B then reads is not asserted). */
static void test_local_tlbi_not_broadcast(void **state)
{
	struct t_smp *f = *state;
	struct rk_cpu *a = f->cpu[0];
	uint64_t gen;

	fill_both(f);
	gen = t_smp_tlb_gen(f);
	remap(a, E_LOCAL, NEW_PAGE);
	assert_int_equal(read_va(a), NEW_VAL);
	assert_int_equal(t_smp_tlb_gen(f), gen);
	assert_int_equal(t_cpu_stats(a).tlbi_broadcast, 0);
}

/* Parking gives B a fresh engine (empty TLB): the domain still works after waking. */
static void test_after_park(void **state)
{
	struct t_smp *f = *state;
	struct rk_cpu *a = f->cpu[0], *b = f->cpu[1];

	fill_both(f);
	assert_int_equal(rk_cpu_park(b), 0);
	assert_int_equal(read_va(b), OLD_VAL);
	remap(a, E_IS, NEW_PAGE);
	assert_int_equal(read_va(b), NEW_VAL);
}

/* Leaving the domain (NULL) and bad arguments. */
static void test_domain_args(void **state)
{
	struct t_smp *f = *state;

	assert_int_equal(rk_cpu_set_tlb_domain(NULL, &f->dom), -EINVAL);
	assert_int_equal(rk_cpu_set_tlb_domain(f->cpu[1], NULL), 0);
	fill_both(f);
	remap(f->cpu[0], E_IS, NEW_PAGE);
	assert_int_equal(t_cpu_stats(f->cpu[1]).tlb_domain_flushes, 0);
	rk_cpu_tlb_domain_init(NULL); /* no crash */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vae1is_reaches_other_vcpu, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_local_tlbi_not_broadcast, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_after_park, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_domain_args, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
