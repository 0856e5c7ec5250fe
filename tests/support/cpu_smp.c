/* SPDX-License-Identifier: MIT */
/* The two-vCPU fixture of the cross-vCPU maintenance tests: see cpu_smp.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "a64.h"
#include "cpu_smp.h"
#include "cpu_util.h"

/* TCR_EL1: T0SZ 25 (39-bit VA, start at level 1), WB walks, inner shareable, 4 KiB, 44-bit IPS */
#define T_SMP_TCR (25ull | 1ull << 8 | 1ull << 10 | 3ull << 12 | 1ull << 23 | 4ull << 32)

uint64_t t_smp_pte(uint64_t page_off)
{
	return (T_SMP_RAM_IPA + page_off) | 0x703; /* page, AF, inner shareable, AttrIndx 0 */
}

void t_smp_put(struct t_smp *f, uint64_t off, const uint32_t *w, size_t n)
{
	assert_true(off + n * 4 <= T_SMP_RAM_SIZE);
	memcpy(f->ram + off, w, n * 4);
}

void t_smp_map(struct t_smp *f, unsigned i, uint64_t page_off)
{
	uint64_t d = t_smp_pte(page_off);

	assert_true(i < T_SMP_RAM_SIZE / 4096);
	memcpy(f->ram + T_SMP_L3 + 8 * i, &d, 8);
}

struct t_smp *t_smp_new(uint64_t ram_size)
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
	struct t_smp *f = calloc(1, sizeof(*f));
	uint64_t d;

	assert_non_null(f);
	assert_true(ram_size >= T_SMP_RAM_SIZE);
	rk_cpu_set_default_mode(RK_CPU_MODE_STAGE2);
	f->ram_size = ram_size;
	f->ram = aligned_alloc(4096, ram_size);
	assert_non_null(f->ram);
	memset(f->ram, 0, T_SMP_RAM_SIZE);
	t_smp_put(f, T_SMP_E_MMU, mmu, sizeof(mmu) / 4);
	/* VA [T_SMP_RAM_IPA, +T_SMP_RAM_SIZE) -> the same IPA */
	d = (T_SMP_RAM_IPA + T_SMP_L2) | 3;
	memcpy(f->ram + T_SMP_L1 + 8 * (T_SMP_RAM_IPA >> 30), &d, 8);
	d = (T_SMP_RAM_IPA + T_SMP_L3) | 3;
	memcpy(f->ram + T_SMP_L2 + 8 * ((T_SMP_RAM_IPA >> 21) & 511), &d, 8);
	for (unsigned i = 0; i < T_SMP_RAM_SIZE / 4096; i++)
		t_smp_map(f, i, 0x1000ull * i);
	rk_cpu_tlb_domain_init(&f->dom);
	for (unsigned i = 0; i < 2; i++) {
		struct rk_cpu *c;

		assert_int_equal(rk_cpu_create(&f->cpu[i]), 0);
		c = f->cpu[i];
		assert_int_equal(rk_cpu_mode(c), RK_CPU_MODE_STAGE2);
		assert_int_equal(rk_cpu_map(c, T_SMP_RAM_IPA, ram_size, f->ram, RK_CPU_PROT_ALL), 0);
		assert_int_equal(rk_cpu_set_tlb_domain(c, &f->dom), 0);
		t_cpu_set(c, RK_CPU_REG_X(10), T_SMP_RAM_IPA + T_SMP_L1);
		t_cpu_set(c, RK_CPU_REG_X(11), T_SMP_TCR);
		t_cpu_set(c, RK_CPU_REG_X(12), 0xff); /* MAIR: attr 0 normal WB */
		t_cpu_set(c, RK_CPU_REG_PC, T_SMP_RAM_IPA + T_SMP_E_MMU);
	}
	return f;
}

void t_smp_free(struct t_smp *f)
{
	if (!f)
		return;
	rk_cpu_destroy(f->cpu[0]);
	rk_cpu_destroy(f->cpu[1]);
	free(f->ram);
	free(f);
}

void t_smp_run(struct rk_cpu *cpu, uint64_t entry)
{
	t_cpu_set(cpu, RK_CPU_REG_PC, T_SMP_RAM_IPA + entry);
	t_cpu_run(cpu, RK_CPU_EXIT_SMC);
}

uint64_t t_smp_tlb_gen(struct t_smp *f)
{
	return __atomic_load_n(&f->dom.gen, __ATOMIC_ACQUIRE);
}

uint64_t t_smp_code_gen(struct t_smp *f)
{
	return __atomic_load_n(&f->dom.code_gen, __ATOMIC_ACQUIRE);
}
