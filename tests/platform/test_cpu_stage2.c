/* SPDX-License-Identifier: MIT */
/*
 * rk_cpu in stage-2 mode (RK_CPU_MODE_STAGE2): the engine's start-up
 * calibration and its clean failure, the shadow stage-2 tables, and the exits
 * and invalidations that must come out exactly as in hooks mode.
 * (test_cpu_unicorn runs in either mode: RK_CPU_MODE=stage2.)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu_util.h"
#include "realmkit/cpu.h"
#include "platform/cpu/cpu_s2tt.h"
#include "platform/cpu/cpu_unicorn.h"

#define RAM_IPA 0x80000000ull
#define RAM_SIZE 0x10000ull

struct fx {
	struct rk_cpu *cpu;
	uint8_t *ram;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	rk_cpu_set_default_mode(RK_CPU_MODE_STAGE2);
	f->ram = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(f->ram);
	memset(f->ram, 0, RAM_SIZE);
	assert_int_equal(rk_cpu_create(&f->cpu), 0);
	assert_int_equal(rk_cpu_mode(f->cpu), RK_CPU_MODE_STAGE2);
	assert_int_equal(rk_cpu_map(f->cpu, RAM_IPA, RAM_SIZE, f->ram, RK_CPU_PROT_ALL), 0);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	rk_cpu_destroy(f->cpu);
	free(f->ram);
	free(f);
	return 0;
}

static void load(struct fx *f, uint64_t off, const uint32_t *w, size_t n)
{
	assert_true(off + n * 4 <= RAM_SIZE);
	memcpy(f->ram + off, w, n * 4);
}

/* ------------------------------------------------------------------------ */

static uint64_t calib_runs(void)
{
	uint64_t runs = 0;

	rk_cpu_unicorn_calibration_counts(&runs, NULL);
	return runs;
}

static uint64_t calib_checks(void)
{
	uint64_t checks = 0;

	rk_cpu_unicorn_calibration_counts(NULL, &checks);
	return checks;
}

/*
 * The engine's calibration: found once with a known fault (a run), verified by
 * every later engine without a run; a layout that does not match (a bias
 * pretends the blob moved) makes creation fail cleanly with -ENOTSUP, on the
 * calibrating path and on the verifying path alike, and parking/waking (a new
 * engine) fails the same way.
 */
static void test_calibration(void **state)
{
	struct fx *f = *state;
	struct rk_cpu *cpu = (struct rk_cpu *)0x1;
	struct rk_cpu_exit e;
	int off = rk_cpu_unicorn_exception_offset();
	uint64_t runs, checks;

	assert_true(off > 0); /* found by the fixture's engine (or an earlier one) */
	/* a later engine: verified without the fault run */
	runs = calib_runs();
	checks = calib_checks();
	assert_int_equal(rk_cpu_create(&cpu), 0);
	assert_int_equal(calib_runs(), runs);
	assert_int_equal(calib_checks(), checks + 1);
	rk_cpu_destroy(cpu);

	/* the verifying path with a moved layout: refused, still without a run */
	cpu = (struct rk_cpu *)0x1;
	rk_cpu_unicorn_calibration_bias_test(8);
	assert_int_equal(rk_cpu_create(&cpu), -ENOTSUP);
	assert_null(cpu);
	assert_int_equal(calib_runs(), runs);
	assert_int_equal(rk_cpu_unicorn_exception_offset(), off);

	/* the calibrating path (the offset forgotten) with a moved layout */
	rk_cpu_unicorn_calibration_test(8);
	cpu = (struct rk_cpu *)0x1;
	assert_int_equal(rk_cpu_create(&cpu), -ENOTSUP);
	assert_null(cpu);
	assert_int_equal(calib_runs(), runs + 1);
	/* an existing vCPU's next engine (after parking) is refused too */
	assert_int_equal(rk_cpu_park(f->cpu), 0);
	assert_int_equal(rk_cpu_run(f->cpu, 0, &e), 0);
	assert_int_equal(e.reason, RK_CPU_EXIT_ERROR);
	assert_int_equal(rk_cpu_get_reg(f->cpu, RK_CPU_REG_PC, &(uint64_t){ 0 }), -EIO);

	/* the right layout again: engines open, the offset is found again (a run), then verified */
	rk_cpu_unicorn_calibration_test(0);
	runs = calib_runs();
	assert_int_equal(rk_cpu_create(&cpu), 0);
	assert_int_equal(calib_runs(), runs + 1);
	assert_int_equal(rk_cpu_unicorn_exception_offset(), off);
	rk_cpu_destroy(cpu);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA);
	load(f, 0, (const uint32_t[]){ 0xd4000003 /* smc #0 */ }, 1);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC); /* its new engine: verified */
	assert_int_equal(calib_runs(), runs + 1);
}

/*
 * The exact-stop switch (the engine's exit checks after loads and stores off):
 * found and probed once, verified by every engine; where it is not what was
 * found (a bias), creation fails with -ENOTSUP, and so does a parked vCPU's
 * next engine.
 */
static void test_stop_calibration(void **state)
{
	struct fx *f = *state;
	struct rk_cpu *cpu = (struct rk_cpu *)0x1;
	struct rk_cpu_exit e;
	int off = rk_cpu_unicorn_stop_offset();

	assert_true(off > 0); /* found by the fixture's engine */

	rk_cpu_unicorn_stop_calibration_test(8);
	assert_int_equal(rk_cpu_create(&cpu), -ENOTSUP);
	assert_null(cpu);
	assert_int_equal(rk_cpu_park(f->cpu), 0);
	assert_int_equal(rk_cpu_run(f->cpu, 0, &e), 0);
	assert_int_equal(e.reason, RK_CPU_EXIT_ERROR);

	rk_cpu_unicorn_stop_calibration_test(0);
	assert_int_equal(rk_cpu_create(&cpu), 0);
	assert_int_equal(rk_cpu_unicorn_stop_offset(), off);
	rk_cpu_destroy(cpu);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA);
	load(f, 0, (const uint32_t[]){ 0xd4000003 /* smc #0 */ }, 1);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
}

/* The shadow tables: blocks where aligned, pages otherwise; splits on unmap. */
static void test_tables(void **state)
{
	static uint8_t pool[16 * 4096] __attribute__((aligned(4096)));
	struct rk_s2tt t;
	uint64_t pa;
	unsigned prot;
	int level;
	bool removed = false;

	(void)state;
	rk_s2tt_init(&t, pool, 0x100000, 16, 1);
	/* 4 MiB at a 2 MiB-aligned IPA and PA: two level-2 blocks */
	assert_int_equal(rk_s2tt_map(&t, 0x40000000, 4ull << 20, 0x80000000, RK_S2TT_PROT_R), 0);
	assert_true(rk_s2tt_lookup(&t, 0x40201234, &pa, &prot, &level));
	assert_int_equal(pa, 0x80201234);
	assert_int_equal(prot, RK_S2TT_PROT_R);
	assert_int_equal(level, 2);
	/* PA not 2 MiB aligned: pages */
	assert_int_equal(rk_s2tt_map(&t, 0x50000000, 2ull << 20, 0x80001000,
				     RK_S2TT_PROT_R | RK_S2TT_PROT_W | RK_S2TT_PROT_X),
			 0);
	assert_true(rk_s2tt_lookup(&t, 0x50000000, &pa, &prot, &level));
	assert_int_equal(level, 3);
	assert_int_equal(prot, 7);
	assert_int_equal(pa, 0x80001000);
	/* unmapping a page inside a block splits it: its neighbours stay */
	assert_int_equal(rk_s2tt_unmap(&t, 0x40001000, 4096, &removed), 0);
	assert_true(removed);
	assert_false(rk_s2tt_lookup(&t, 0x40001000, NULL, NULL, NULL));
	assert_true(rk_s2tt_lookup(&t, 0x40002000, &pa, NULL, &level));
	assert_int_equal(pa, 0x80002000);
	assert_int_equal(level, 3);
	assert_true(rk_s2tt_lookup(&t, 0x40000000, &pa, NULL, NULL));
	assert_int_equal(pa, 0x80000000);
	/* unmapping nothing removes nothing */
	removed = false;
	assert_int_equal(rk_s2tt_unmap(&t, 0x60000000, 1ull << 30, &removed), 0);
	assert_false(removed);
	/* the pool runs out cleanly; reset gives everything back */
	assert_int_equal(rk_s2tt_map(&t, 0, 64 * 4096 * 512ull, 0x100001000ull, RK_S2TT_PROT_R), -ENOSPC);
	rk_s2tt_reset(&t);
	assert_int_equal(t.tables, 0);
	assert_false(rk_s2tt_lookup(&t, 0x40000000, NULL, NULL, NULL));
	/* bad input */
	assert_int_equal(rk_s2tt_map(&t, 0x1001, 4096, 0, 1), -EINVAL);
	assert_int_equal(rk_s2tt_map(&t, 1ull << 44, 4096, 0, 1), -EINVAL);
	assert_int_equal(rk_s2tt_map(&t, 0, 4096, 1ull << 48, 1), -EINVAL);
	assert_int_equal(rk_s2tt_map(&t, 0, 4096, 0, 0), -EINVAL);
}

/*
 * Exits: an unmapped IPA, a permission fault, an emulatable MMIO load and
 * store with the syndrome, an instruction abort; and the engine sees an
 * unmap (TLB invalidated) and new memory at the same IPA (code dropped).
 */
static void test_exits(void **state)
{
	static const uint32_t p[] = {
		0xf9400041, /* 0x00 ldr x1, [x2] */
		0xd4000003, /* 0x04 smc #0 */
		0xb9000043, /* 0x08 str w3, [x2] */
		0xd4000003, /* 0x0c smc #0 */
		0xa9000c43, /* 0x10 stp x3, x3, [x2] */
		0xd4000003, /* 0x14 smc #0 */
	};
	struct fx *f = *state;
	uint8_t *page = aligned_alloc(4096, 4096), *page2 = aligned_alloc(4096, 4096);
	const uint64_t dev = 0x8009000000ull;
	struct rk_cpu_exit e;

	assert_non_null(page);
	assert_non_null(page2);
	memset(page, 0x11, 4096);
	memset(page2, 0x22, 4096);
	load(f, 0, p, sizeof(p) / 4);

	/* unmapped: a DABT at the exact PC with the IPA and the syndrome */
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), dev + 0x18);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_DABT);
	assert_int_equal(e.pc, RAM_IPA);
	assert_int_equal(e.mem.addr, dev + 0x18);
	assert_false(e.mem.is_write);
	assert_false(e.mem.is_perm);
	assert_true(e.mem.isv);
	assert_int_equal(e.mem.size, 8);
	assert_int_equal(e.mem.srt, 1);
	assert_true(e.mem.sf);
	assert_int_equal(rk_cpu_complete_mmio_read(f->cpu, 0x1234), 0);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(1)), 0x1234);

	/* a store: the value from Rt, masked to the access */
	t_cpu_set(f->cpu, RK_CPU_REG_X(3), 0xaabbccdd11223344ull);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + 8);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_DABT);
	assert_int_equal(e.pc, RAM_IPA + 8);
	assert_true(e.mem.is_write);
	assert_true(e.mem.isv);
	assert_int_equal(e.mem.size, 4);
	assert_int_equal(e.mem.value, 0x11223344);
	assert_int_equal(rk_cpu_complete_mmio_write(f->cpu), 0);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);

	/* a pair: no valid syndrome */
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + 0x10);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_DABT);
	assert_true(e.mem.is_write);
	assert_false(e.mem.isv);

	/* read-only memory: a load works, a store is a permission fault */
	assert_int_equal(rk_cpu_map(f->cpu, 0x90000000, 4096, page, RK_CPU_PROT_READ), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), 0x90000008);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(1)), 0x1111111111111111ull);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + 8);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_DABT);
	assert_true(e.mem.is_perm);
	assert_true(e.mem.is_write);
	assert_int_equal(e.mem.addr, 0x90000008);

	/* unmapped while the engine has it in its TLB: the next access exits */
	assert_int_equal(rk_cpu_unmap(f->cpu, 0x90000000, 4096), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_DABT);
	assert_int_equal(e.mem.addr, 0x90000008);
	assert_false(e.mem.is_perm);
	/* other memory at that IPA: the new contents */
	assert_int_equal(rk_cpu_map(f->cpu, 0x90000000, 4096, page2, RK_CPU_PROT_ALL), 0);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(1)), 0x2222222222222222ull);

	/* code: an instruction abort at an unmapped IPA, and not-executable memory */
	t_cpu_set(f->cpu, RK_CPU_REG_PC, 0x70000000);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_IABT);
	assert_int_equal(e.pc, 0x70000000);
	assert_int_equal(e.mem.addr, 0x70000000);
	assert_int_equal(rk_cpu_unmap(f->cpu, 0x90000000, 4096), 0);
	memcpy(page, p + 1, 4); /* smc #0 */
	assert_int_equal(rk_cpu_map(f->cpu, 0x90000000, 4096, page, RK_CPU_PROT_READ), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, 0x90000000);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_IABT);
	assert_true(e.mem.is_perm);
	assert_int_equal(rk_cpu_unmap(f->cpu, 0x90000000, 4096), 0);
	assert_int_equal(rk_cpu_map(f->cpu, 0x90000000, 4096, page, RK_CPU_PROT_ALL), 0);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);

	/* code rewritten behind the engine's back runs after invalidate_code */
	memcpy(page, (const uint32_t[]){ 0xd2800540 /* mov x0, #42 */, 0xd4000003 }, 8);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, 0x90000000);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	memcpy(page, (const uint32_t[]){ 0xd2800560 /* mov x0, #43 */ }, 4);
	assert_int_equal(rk_cpu_invalidate_code(f->cpu, 0x90000000, 4096), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, 0x90000000);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(0)), 43);

	/* beyond the CPU's physical address range: an abort at that address */
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), 1ull << 46);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_DABT);
	assert_int_equal(e.mem.addr, 1ull << 46);
	assert_int_equal(e.pc, RAM_IPA);
	free(page);
	free(page2);
}

/*
 * The guest's own MMU on top of stage 2: its stage 1 translates, a VA whose
 * IPA stage 2 does not map is an exit with the IPA and the engine's syndrome,
 * a stage-1 fault goes to the guest's vectors (EL1 -> EL1) with ESR/FAR/ELR,
 * and code rewritten behind the engine's back is dropped with the MMU on.
 * Aborts carry the VA; a writeback form has no valid syndrome.
 */
static void test_guest_mmu(void **state)
{
	static const uint32_t p[] = {
		0xd518200a, /* 0x00 msr ttbr0_el1, x10 */
		0xd518204b, /* 0x04 msr tcr_el1, x11 */
		0xd518a20c, /* 0x08 msr mair_el1, x12 */
		0xd5033fdf, /* 0x0c isb */
		0xd5381000, /* 0x10 mrs x0, sctlr_el1 */
		0xb2400000, /* 0x14 orr x0, x0, #1 */
		0xd5181000, /* 0x18 msr sctlr_el1, x0 */
		0xd5033fdf, /* 0x1c isb */
		0xf9400041, /* 0x20 ldr x1, [x2] */
		0xd4000003, /* 0x24 smc #0 */
		0xf9400041, /* 0x28 ldr x1, [x2] */
		0xd4000003, /* 0x2c smc #0 */
		0xb9000043, /* 0x30 str w3, [x2] */
		0xd4000003, /* 0x34 smc #0 */
	};
	static const uint32_t vec[] = {
		0xd5385205, /* 0x200 mrs x5, esr_el1 */
		0xd5386006, /* mrs x6, far_el1 */
		0xd5384027, /* mrs x7, elr_el1 */
		0xd4000023, /* smc #1 */
	};
	struct fx *f = *state;
	const uint64_t l1 = 0x8000, l2 = 0x9000, l3 = 0xa000;
	const uint64_t tcr = 25 | 1ull << 8 | 1ull << 10 | 3ull << 12 | 1ull << 23 | 4ull << 32;
	uint64_t d;
	struct rk_cpu_exit e;
	unsigned i;

	load(f, 0, p, sizeof(p) / 4);
	load(f, 0x200, vec, sizeof(vec) / 4);
	/* VA [0x80000000, +64 KiB) -> the same IPA; VA 0x80010000 -> IPA 0x90000000 (not in
	 * stage 2); VA 0x80011000 not mapped by the guest */
	d = (RAM_IPA + l2) | 3;
	memcpy(f->ram + l1 + 8 * 2, &d, 8);
	d = (RAM_IPA + l3) | 3;
	memcpy(f->ram + l2, &d, 8);
	for (i = 0; i < 16; i++) {
		d = (RAM_IPA + 0x1000ull * i) | 0x703;
		memcpy(f->ram + l3 + 8 * i, &d, 8);
	}
	d = 0x90000000ull | 0x703;
	memcpy(f->ram + l3 + 8 * 16, &d, 8);
	memset(f->ram + 0x3000, 0x5c, 8);

	t_cpu_set(f->cpu, RK_CPU_REG_VBAR_EL1, RAM_IPA);
	t_cpu_set(f->cpu, RK_CPU_REG_X(10), RAM_IPA + l1);
	t_cpu_set(f->cpu, RK_CPU_REG_X(11), tcr);
	t_cpu_set(f->cpu, RK_CPU_REG_X(12), 0xff);
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), RAM_IPA + 0x3000);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_true(t_cpu_reg(f->cpu, RK_CPU_REG_SCTLR_EL1) & 1);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(1)), 0x5c5c5c5c5c5c5c5cull);

	/* a stage-2 fault through the guest's stage 1: the IPA, the syndrome */
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), 0x80010018);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + 0x28);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_DABT);
	assert_int_equal(e.pc, RAM_IPA + 0x28);
	assert_int_equal(e.mem.addr, 0x90000018);
	assert_int_equal(e.mem.va, 0x80010018); /* the VA, for an SEA's FAR */
	assert_false(e.mem.s1ptw);
	assert_true(e.mem.isv);
	assert_int_equal(e.mem.srt, 1);
	assert_int_equal(e.mem.size, 8);
	assert_true(e.mem.sf);
	assert_int_equal(rk_cpu_complete_mmio_read(f->cpu, 0x77), 0);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(1)), 0x77);
	t_cpu_set(f->cpu, RK_CPU_REG_X(3), 0x1122334455667788ull);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + 0x30);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_DABT);
	assert_true(e.mem.is_write);
	assert_int_equal(e.mem.size, 4);
	assert_int_equal(e.mem.value, 0x55667788);

	/* a pre-index load: no valid syndrome (the engine's says ISV; the instruction decides) */
	memcpy(f->ram + 0x28, (const uint32_t[]){ 0xf8408c41 /* ldr x1, [x2, #8]! */ }, 4);
	assert_int_equal(rk_cpu_invalidate_code(f->cpu, RAM_IPA, 4096), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), 0x80010018);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + 0x28);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_DABT);
	assert_int_equal(e.mem.addr, 0x90000020);
	assert_false(e.mem.isv);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(2)), 0x80010018);
	memcpy(f->ram + 0x28, p + 10, 4); /* ldr x1, [x2] again */
	assert_int_equal(rk_cpu_invalidate_code(f->cpu, RAM_IPA, 4096), 0);

	/* a stage-1 fault: the guest's vector, its ESR/FAR/ELR */
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), 0x80011010);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + 0x28);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(e.imm, 1);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(5)),
			 (uint64_t)ESR_EC_DABT_CUR << ESR_EC_SHIFT | ESR_IL | ESR_FSC_TRANS(3));
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(6)), 0x80011010);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(7)), RAM_IPA + 0x28);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_PSTATE) & PSTATE_M_MASK, PSTATE_M_EL1H);

	/* new code behind the engine's back, MMU on */
	memcpy(f->ram + 0x28, (const uint32_t[]){ 0xd2800541 /* mov x1, #42 */ }, 4);
	assert_int_equal(rk_cpu_invalidate_code(f->cpu, RAM_IPA, 4096), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + 0x28);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(1)), 42);

	/* the host unmaps a page the guest reaches through its MMU: the next access exits */
	memcpy(f->ram + 0x28, p + 10, 4); /* ldr x1, [x2] again */
	assert_int_equal(rk_cpu_invalidate_code(f->cpu, RAM_IPA, 4096), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), RAM_IPA + 0x3000);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + 0x28);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(rk_cpu_unmap(f->cpu, RAM_IPA + 0x3000, 4096), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + 0x28);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_DABT);
	assert_int_equal(e.mem.addr, RAM_IPA + 0x3000);
}

/* No memory hook: a time slice still ends a loop that never leaves its block. */
static void test_slice_ends_loop(void **state)
{
	static const uint32_t p[] = {
		0xf9400041, /* ldr x1, [x2] */
		0x91000400, /* add x0, x0, #1 */
		0x17fffffe, /* b .-8 */
	};
	struct fx *f = *state;
	struct rk_cpu_exit e;

	load(f, 0, p, 3);
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), RAM_IPA + 0x100);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA);
	assert_int_equal(rk_cpu_run(f->cpu, 2000, &e), 0);
	assert_int_equal(e.reason, RK_CPU_EXIT_TIMEOUT);
	assert_true(e.pc == RAM_IPA); /* a block start */
	assert_true(t_cpu_reg(f->cpu, RK_CPU_REG_X(0)) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_calibration, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_stop_calibration, fx_setup, fx_teardown),
		cmocka_unit_test(test_tables),
		cmocka_unit_test_setup_teardown(test_exits, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_slice_ends_loop, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_guest_mmu, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
