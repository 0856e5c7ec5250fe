/* SPDX-License-Identifier: MIT */
/*
 * TLB maintenance across vCPUs (stage-2 mode, guest MMU on): a broadcast TLBI
 * one vCPU executes reaches the other vCPUs of its TLB domain before they run
 * again (rk_cpu_set_tlb_domain). Two vCPUs share the guest's RAM and page
 * tables; both read a VA (each engine's TLB holds its translation), vCPU A
 * points the VA's page-table entry at another page and executes TLBI +
 * DSB, then vCPU B reads the VA again.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "a64.h"
#include "cpu_util.h"
#include "realmkit/cpu.h"

#define RAM_IPA 0x80000000ull
#define RAM_SIZE 0x10000ull
#define L1 0x8000ull
#define L2 0x9000ull
#define L3 0xa000ull
#define VA (RAM_IPA + 0x5000ull) /* the VA whose translation changes */
#define OLD_PAGE 0x3000ull
#define NEW_PAGE 0x4000ull
#define OLD_VAL 0x1111111111111111ull
#define NEW_VAL 0x2222222222222222ull

/* Entry points (offsets into RAM). */
#define E_MMU 0x00   /* enable the MMU, then E_READ */
#define E_READ 0x20  /* x1 = [x2]; smc */
#define E_IS 0x40    /* [x4] = x3; dsb; tlbi vae1is, x5; dsb; isb; smc */
#define E_LOCAL 0x60 /* the same with tlbi vae1 */
#define E_ALL 0x80   /* [x4] = x3; dsb; tlbi vmalle1is; dsb; isb; smc */

struct fx {
	uint8_t *ram;
	struct rk_cpu *cpu[2];
	struct rk_cpu_tlb_domain dom;
};

static void put(struct fx *f, uint64_t off, const uint32_t *w, size_t n)
{
	assert_true(off + n * 4 <= RAM_SIZE);
	memcpy(f->ram + off, w, n * 4);
}

static uint64_t pte(uint64_t page_off)
{
	return (RAM_IPA + page_off) | 0x703; /* page, AF, inner shareable, AttrIndx 0 */
}

static int fx_setup(void **state)
{
	const uint32_t mmu[] = {
		a64_msr(A64_SYSREG(3, 0, 2, 0, 0), 10),  /* ttbr0_el1 */
		a64_msr(A64_SYSREG(3, 0, 2, 0, 2), 11),  /* tcr_el1 */
		a64_msr(A64_SYSREG(3, 0, 10, 2, 0), 12), /* mair_el1 */
		A64_ISB,
		a64_mrs(0, A64_SYSREG(3, 0, 1, 0, 0)), /* sctlr_el1 */
		0xb2400000,                            /* orr x0, x0, #1 */
		a64_msr(A64_SYSREG(3, 0, 1, 0, 0), 0),
		A64_ISB,
	};
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
	const uint64_t tcr = 25 | 1ull << 8 | 1ull << 10 | 3ull << 12 | 1ull << 23 | 4ull << 32;
	struct fx *f = calloc(1, sizeof(*f));
	uint64_t d;

	assert_non_null(f);
	rk_cpu_set_default_mode(RK_CPU_MODE_STAGE2);
	f->ram = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(f->ram);
	memset(f->ram, 0, RAM_SIZE);
	put(f, E_MMU, mmu, sizeof(mmu) / 4);
	put(f, E_READ, rd, 2);
	put(f, E_IS, is, 6);
	put(f, E_LOCAL, local, 6);
	put(f, E_ALL, all, 6);
	/* VA [0x80000000, +64 KiB) -> the same IPA, but VA's page -> OLD_PAGE */
	d = (RAM_IPA + L2) | 3;
	memcpy(f->ram + L1 + 8 * 2, &d, 8);
	d = (RAM_IPA + L3) | 3;
	memcpy(f->ram + L2, &d, 8);
	for (unsigned i = 0; i < 16; i++) {
		d = pte(0x1000ull * i);
		memcpy(f->ram + L3 + 8 * i, &d, 8);
	}
	d = pte(OLD_PAGE);
	memcpy(f->ram + L3 + 8 * 5, &d, 8);
	d = OLD_VAL;
	memcpy(f->ram + OLD_PAGE, &d, 8);
	d = NEW_VAL;
	memcpy(f->ram + NEW_PAGE, &d, 8);
	rk_cpu_tlb_domain_init(&f->dom);
	for (unsigned i = 0; i < 2; i++) {
		struct rk_cpu *c;

		assert_int_equal(rk_cpu_create(&f->cpu[i]), 0);
		c = f->cpu[i];
		assert_int_equal(rk_cpu_mode(c), RK_CPU_MODE_STAGE2);
		assert_int_equal(rk_cpu_map(c, RAM_IPA, RAM_SIZE, f->ram, RK_CPU_PROT_ALL), 0);
		assert_int_equal(rk_cpu_set_tlb_domain(c, &f->dom), 0);
		t_cpu_set(c, RK_CPU_REG_X(10), RAM_IPA + L1);
		t_cpu_set(c, RK_CPU_REG_X(11), tcr);
		t_cpu_set(c, RK_CPU_REG_X(12), 0xff);
		t_cpu_set(c, RK_CPU_REG_X(2), VA);
		t_cpu_set(c, RK_CPU_REG_X(4), RAM_IPA + L3 + 8 * 5); /* VA's entry (identity-mapped) */
		t_cpu_set(c, RK_CPU_REG_X(5), VA >> 12);             /* TLBI VA argument, ASID 0 */
		t_cpu_set(c, RK_CPU_REG_PC, RAM_IPA + E_MMU);
	}
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	rk_cpu_destroy(f->cpu[0]);
	rk_cpu_destroy(f->cpu[1]);
	free(f->ram);
	free(f);
	return 0;
}

static uint64_t read_va(struct rk_cpu *c, uint64_t entry)
{
	t_cpu_set(c, RK_CPU_REG_PC, RAM_IPA + entry);
	t_cpu_run(c, RK_CPU_EXIT_SMC);
	return t_cpu_reg(c, RK_CPU_REG_X(1));
}

/* vCPU c points VA at page (new descriptor in x3) with the TLBI sequence at entry. */
static void remap(struct rk_cpu *c, uint64_t entry, uint64_t page)
{
	t_cpu_set(c, RK_CPU_REG_X(3), pte(page));
	t_cpu_set(c, RK_CPU_REG_PC, RAM_IPA + entry);
	t_cpu_run(c, RK_CPU_EXIT_SMC);
}

static struct rk_cpu_stats stats(struct rk_cpu *c)
{
	struct rk_cpu_stats s;

	rk_cpu_get_stats(c, &s);
	return s;
}

/* Both vCPUs enable their MMU and read VA: each engine's TLB holds VA -> OLD_PAGE. */
static void fill_both(struct fx *f)
{
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(read_va(f->cpu[i], E_MMU), OLD_VAL);
		assert_int_equal(read_va(f->cpu[i], E_READ), OLD_VAL); /* again: a TLB hit */
	}
}

/* TLBI VAE1IS + DSB on A: B's next run reads the new page. */
static void test_vae1is_reaches_other_vcpu(void **state)
{
	struct fx *f = *state;
	struct rk_cpu *a = f->cpu[0], *b = f->cpu[1];
	uint64_t gen, a_flushes, b_flushes;

	fill_both(f);
	gen = __atomic_load_n(&f->dom.gen, __ATOMIC_ACQUIRE);
	a_flushes = stats(a).tlb_domain_flushes;
	b_flushes = stats(b).tlb_domain_flushes;
	remap(a, E_IS, NEW_PAGE);
	assert_int_equal(__atomic_load_n(&f->dom.gen, __ATOMIC_ACQUIRE), gen + 1);
	assert_int_equal(stats(a).tlbi_broadcast, 1);
	assert_int_equal(read_va(a, E_READ), NEW_VAL); /* A's own engine performed the TLBI */
	assert_int_equal(read_va(b, E_READ), NEW_VAL);
	assert_int_equal(stats(b).tlb_domain_flushes, b_flushes + 1);
	/* A's own TLBI costs A no flush */
	assert_int_equal(stats(a).tlb_domain_flushes, a_flushes);

	/* and back, from B, with TLBI VMALLE1IS */
	remap(b, E_ALL, OLD_PAGE);
	assert_int_equal(read_va(b, E_READ), OLD_VAL);
	assert_int_equal(read_va(a, E_READ), OLD_VAL);
	assert_int_equal(stats(b).tlbi_broadcast, 1);
}

/* A local TLBI VAE1 is not broadcast: no generation bump (what B then reads is not asserted). */
static void test_local_tlbi_not_broadcast(void **state)
{
	struct fx *f = *state;
	struct rk_cpu *a = f->cpu[0];
	uint64_t gen;

	fill_both(f);
	gen = __atomic_load_n(&f->dom.gen, __ATOMIC_ACQUIRE);
	remap(a, E_LOCAL, NEW_PAGE);
	assert_int_equal(read_va(a, E_READ), NEW_VAL);
	assert_int_equal(__atomic_load_n(&f->dom.gen, __ATOMIC_ACQUIRE), gen);
	assert_int_equal(stats(a).tlbi_broadcast, 0);
}

/* Parking gives B a fresh engine (empty TLB): the domain still works after waking. */
static void test_after_park(void **state)
{
	struct fx *f = *state;
	struct rk_cpu *a = f->cpu[0], *b = f->cpu[1];

	fill_both(f);
	assert_int_equal(rk_cpu_park(b), 0);
	assert_int_equal(read_va(b, E_READ), OLD_VAL);
	remap(a, E_IS, NEW_PAGE);
	assert_int_equal(read_va(b, E_READ), NEW_VAL);
}

/* Leaving the domain (NULL) and bad arguments. */
static void test_domain_args(void **state)
{
	struct fx *f = *state;

	assert_int_equal(rk_cpu_set_tlb_domain(NULL, &f->dom), -EINVAL);
	assert_int_equal(rk_cpu_set_tlb_domain(f->cpu[1], NULL), 0);
	fill_both(f);
	remap(f->cpu[0], E_IS, NEW_PAGE);
	assert_int_equal(stats(f->cpu[1]).tlb_domain_flushes, 0);
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
