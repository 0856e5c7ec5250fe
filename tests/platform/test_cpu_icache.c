/* SPDX-License-Identifier: MIT */
/*
 * Instruction-cache maintenance across vCPUs (stage-2 mode, guest MMU on):
 * code one vCPU writes and makes visible with IC IVAU or IC IALLUIS runs on
 * the other vCPUs of its domain at their next run (rk_cpu_set_tlb_domain).
 * Each engine keeps its own translated code: vCPU A calls a function that
 * returns 1 (A's engine translates it), vCPU B rewrites it to return 2 with
 * DC CVAU; DSB ISH; IC <op>; DSB ISH; ISB, then A calls it again.
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
#define BIG_RAM_SIZE (256ull << 20)
#define L1 0x8000ull
#define L2 0x9000ull
#define L3 0xa000ull
#define FN 0x2000ull /* the function: movz x0, #n; ret */

/* Entry points (offsets into RAM); every one ends in SMC. */
#define E_MMU 0x00    /* enable the MMU */
#define E_CALL 0x40   /* blr x6 (x6 = FN) */
#define E_IVAU 0x80   /* [x4] = x3; dc cvau, x4; dsb ish; ic ivau, x4; dsb ish; isb */
#define E_ALLIS 0xc0  /* the same with ic ialluis */
#define E_LOCAL 0x100 /* the same with ic iallu (local) */
#define E_SELF 0x140  /* [x4] = x3; blr x6: the engine's own store to code it ran */

#define A64_BLR(rn) (0xD63F0000u | ((rn) << 5))
#define A64_RET 0xD65F03C0u

struct fx {
	uint8_t *ram;
	uint64_t ram_size;
	struct rk_cpu *cpu[2];
	struct rk_cpu_tlb_domain dom;
};

static void put(struct fx *f, uint64_t off, const uint32_t *w, size_t n)
{
	assert_true(off + n * 4 <= RAM_SIZE);
	memcpy(f->ram + off, w, n * 4);
}

/* The function's two instructions as one doubleword: movz x0, #n; ret. */
static uint64_t fn_code(uint16_t n)
{
	return (uint64_t)A64_RET << 32 | a64_movz(0, n, 0);
}

static int fx_setup_size(void **state, uint64_t ram_size)
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
		A64_SMC,
	};
	const uint32_t call[] = { A64_BLR(6), A64_SMC };
	const uint32_t ivau[] = { a64_str(3, 4), A64_DC_CVAU(4), A64_DSB_ISH, A64_IC_IVAU(4),
				  A64_DSB_ISH,   A64_ISB,        A64_SMC };
	const uint32_t allis[] = { a64_str(3, 4), A64_DC_CVAU(4), A64_DSB_ISH, A64_IC_IALLUIS,
				   A64_DSB_ISH,   A64_ISB,        A64_SMC };
	const uint32_t local[] = { a64_str(3, 4), A64_DC_CVAU(4), A64_DSB_ISH, A64_IC_IALLU,
				   A64_DSB_ISH,   A64_ISB,        A64_SMC };
	const uint32_t self[] = { a64_str(3, 4), A64_BLR(6), A64_SMC };
	const uint64_t tcr = 25 | 1ull << 8 | 1ull << 10 | 3ull << 12 | 1ull << 23 | 4ull << 32;
	struct fx *f = calloc(1, sizeof(*f));
	uint64_t d;

	assert_non_null(f);
	rk_cpu_set_default_mode(RK_CPU_MODE_STAGE2);
	f->ram_size = ram_size;
	f->ram = aligned_alloc(4096, ram_size);
	assert_non_null(f->ram);
	memset(f->ram, 0, RAM_SIZE);
	put(f, E_MMU, mmu, sizeof(mmu) / 4);
	put(f, E_CALL, call, 2);
	put(f, E_IVAU, ivau, 7);
	put(f, E_ALLIS, allis, 7);
	put(f, E_LOCAL, local, 7);
	put(f, E_SELF, self, 3);
	d = fn_code(1);
	memcpy(f->ram + FN, &d, 8);
	/* VA [0x80000000, +64 KiB) -> the same IPA */
	d = (RAM_IPA + L2) | 3;
	memcpy(f->ram + L1 + 8 * 2, &d, 8);
	d = (RAM_IPA + L3) | 3;
	memcpy(f->ram + L2, &d, 8);
	for (unsigned i = 0; i < 16; i++) {
		d = (RAM_IPA + 0x1000ull * i) | 0x703; /* page, AF, inner shareable, AttrIndx 0 */
		memcpy(f->ram + L3 + 8 * i, &d, 8);
	}
	rk_cpu_tlb_domain_init(&f->dom);
	for (unsigned i = 0; i < 2; i++) {
		struct rk_cpu *c;

		assert_int_equal(rk_cpu_create(&f->cpu[i]), 0);
		c = f->cpu[i];
		assert_int_equal(rk_cpu_mode(c), RK_CPU_MODE_STAGE2);
		assert_int_equal(rk_cpu_map(c, RAM_IPA, ram_size, f->ram, RK_CPU_PROT_ALL), 0);
		assert_int_equal(rk_cpu_set_tlb_domain(c, &f->dom), 0);
		t_cpu_set(c, RK_CPU_REG_X(10), RAM_IPA + L1);
		t_cpu_set(c, RK_CPU_REG_X(11), tcr);
		t_cpu_set(c, RK_CPU_REG_X(12), 0xff);
		t_cpu_set(c, RK_CPU_REG_X(4), RAM_IPA + FN);
		t_cpu_set(c, RK_CPU_REG_X(6), RAM_IPA + FN);
		t_cpu_set(c, RK_CPU_REG_PC, RAM_IPA + E_MMU);
		t_cpu_run(c, RK_CPU_EXIT_SMC);
	}
	*state = f;
	return 0;
}

static int fx_setup(void **state)
{
	return fx_setup_size(state, RAM_SIZE);
}

static int fx_setup_big(void **state)
{
	return fx_setup_size(state, BIG_RAM_SIZE);
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

static uint64_t call(struct rk_cpu *c)
{
	t_cpu_set(c, RK_CPU_REG_PC, RAM_IPA + E_CALL);
	t_cpu_run(c, RK_CPU_EXIT_SMC);
	return t_cpu_reg(c, RK_CPU_REG_X(0));
}

/* vCPU c stores fn_code(n) over the function with the sequence at entry. */
static void patch(struct rk_cpu *c, uint64_t entry, uint16_t n)
{
	t_cpu_set(c, RK_CPU_REG_X(3), fn_code(n));
	t_cpu_set(c, RK_CPU_REG_PC, RAM_IPA + entry);
	t_cpu_run(c, RK_CPU_EXIT_SMC);
}

static struct rk_cpu_stats stats(struct rk_cpu *c)
{
	struct rk_cpu_stats s;

	rk_cpu_get_stats(c, &s);
	return s;
}

static void check_broadcast(struct fx *f, uint64_t entry)
{
	struct rk_cpu *a = f->cpu[0], *b = f->cpu[1];
	uint64_t a_drops = stats(a).code_domain_flushes, b_drops = stats(b).code_domain_flushes;

	assert_int_equal(call(a), 1);
	assert_int_equal(call(a), 1); /* translated in A's engine */
	assert_int_equal(call(b), 1);
	patch(b, entry, 2);
	assert_int_equal(stats(b).ic_broadcast, 1);
	assert_int_equal(__atomic_load_n(&f->dom.code_gen, __ATOMIC_ACQUIRE), 1);
	assert_int_equal(call(a), 2);
	assert_int_equal(stats(a).code_domain_flushes, a_drops + 1);
	assert_int_equal(call(b), 2); /* B's engine saw its own store */
	assert_int_equal(stats(b).code_domain_flushes, b_drops);
	/* and back, from A */
	patch(a, entry, 3);
	assert_int_equal(call(b), 3);
	assert_int_equal(call(a), 3);
	assert_int_equal(stats(b).code_domain_flushes, b_drops + 1);
	assert_int_equal(stats(a).code_domain_flushes, a_drops + 1);
}

/* IC IVAU (by VA to the PoU: broadcast) on B: A's next call runs the new code. */
static void test_ivau_reaches_other_vcpu(void **state)
{
	check_broadcast(*state, E_IVAU);
}

/* IC IALLUIS on B: the same. */
static void test_ialluis_reaches_other_vcpu(void **state)
{
	check_broadcast(*state, E_ALLIS);
}

/* IC IALLU is local: no bump; B's engine runs its own new code. */
static void test_iallu_local(void **state)
{
	struct fx *f = *state;
	struct rk_cpu *b = f->cpu[1];

	assert_int_equal(call(b), 1);
	patch(b, E_LOCAL, 2);
	assert_int_equal(call(b), 2);
	assert_int_equal(stats(b).ic_broadcast, 0);
	assert_int_equal(__atomic_load_n(&f->dom.code_gen, __ATOMIC_ACQUIRE), 0);
}

/*
 * One engine writing code it has translated, with no maintenance at all, runs
 * the new code at once: QEMU's self-modifying-code detection, which is why
 * the issuing vCPU drops nothing.
 */
static void test_self_modifying_same_engine(void **state)
{
	struct fx *f = *state;
	struct rk_cpu *a = f->cpu[0];

	assert_int_equal(call(a), 1);
	assert_int_equal(call(a), 1);
	t_cpu_set(a, RK_CPU_REG_X(3), fn_code(7));
	t_cpu_set(a, RK_CPU_REG_PC, RAM_IPA + E_SELF);
	t_cpu_run(a, RK_CPU_EXIT_SMC);
	assert_int_equal(t_cpu_reg(a, RK_CPU_REG_X(0)), 7);
	assert_int_equal(stats(a).code_domain_flushes, 0);
}

/* A parked vCPU wakes with no code; outside a domain nothing is bumped. */
static void test_park_and_no_domain(void **state)
{
	struct fx *f = *state;
	struct rk_cpu *a = f->cpu[0], *b = f->cpu[1];

	assert_int_equal(call(a), 1);
	assert_int_equal(rk_cpu_park(a), 0);
	patch(b, E_IVAU, 2);
	assert_int_equal(call(a), 2);
	assert_int_equal(rk_cpu_set_tlb_domain(b, NULL), 0);
	patch(b, E_IVAU, 4);
	assert_int_equal(stats(b).ic_broadcast, 2);
	assert_int_equal(__atomic_load_n(&f->dom.code_gen, __ATOMIC_ACQUIRE), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ivau_reaches_other_vcpu, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ialluis_reaches_other_vcpu, fx_setup, fx_teardown),
		/* a realm-sized RAM window: the same (the drop does not walk the RAM) */
		cmocka_unit_test_setup_teardown(test_ivau_reaches_other_vcpu, fx_setup_big, fx_teardown),
		cmocka_unit_test_setup_teardown(test_iallu_local, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_self_modifying_same_engine, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_park_and_no_domain, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
