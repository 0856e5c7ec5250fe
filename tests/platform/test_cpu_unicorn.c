/* SPDX-License-Identifier: MIT */
/*
 * rk_cpu on Unicorn: exits, MMIO decode and write-back, exception injection,
 * timeouts and kicks, the memory map (coalescing, limit), threads.
 *
 * Guest payloads are AArch64 instruction words assembled with
 * aarch64-linux-gnu-as; the disassembly is next to each word.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <unicorn/unicorn.h>

#include "cpu_util.h"
#include "realmkit/cpu.h"
#include "platform/cpu/cpu_decode.h"
#include "platform/cpu/cpu_unicorn.h"

#define RAM_IPA 0x80000000ull
#define RAM_SIZE 0x10000ull             /* 16 pages */
#define MMIO_IPA 0x8009000000ull        /* unprotected half, s2sz 40 */
#define UNMAPPED_PROT_IPA 0x80100000ull /* protected, not mapped */

struct fx {
	struct rk_cpu *cpu;
	uint8_t *ram;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ram = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(f->ram);
	memset(f->ram, 0, RAM_SIZE);
	assert_int_equal(rk_cpu_create(&f->cpu), 0);
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
	size_t i;

	assert_true(off + n * 4 <= RAM_SIZE);
	for (i = 0; i < n; i++) {
		f->ram[off + 4 * i + 0] = (uint8_t)w[i];
		f->ram[off + 4 * i + 1] = (uint8_t)(w[i] >> 8);
		f->ram[off + 4 * i + 2] = (uint8_t)(w[i] >> 16);
		f->ram[off + 4 * i + 3] = (uint8_t)(w[i] >> 24);
	}
}

/*
 * A run that should end (a timeout, a kick) must end; how soon depends on the
 * machine's load, so this only catches a run that never ends.
 */
#define RUN_LIVENESS_S 60.0

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------------ */

static const uint32_t p_smc[] = {
	0xd2800200, /* mov x0, #0x10 */
	0xd2800221, /* mov x1, #0x11 */
	0xd2800242, /* mov x2, #0x12 */
	0xd2800263, /* mov x3, #0x13 */
	0xd2800284, /* mov x4, #0x14 */
	0xd28002a5, /* mov x5, #0x15 */
	0xd28002c6, /* mov x6, #0x16 */
	0xd28002e7, /* mov x7, #0x17 */
	0xd4024683, /* smc #0x1234 */
	0x8b01000a, /* add x10, x0, x1 */
	0x8b02014a, /* add x10, x10, x2 */
	0x8b03014a, /* add x10, x10, x3 */
	0xd4000023, /* smc #0x1 */
	0xd40000e3, /* smc #0x7 */
	0xaa0003eb, /* mov x11, x0 */
	0xd4000103, /* smc #0x8 */
};

struct rk_cpu_smc_ctx {
	unsigned calls;
	int run_rc;
	int set_pc_rc;
	int set_x0_rc;
};

static bool smc_handler(struct rk_cpu *cpu, uint16_t imm, struct rk_cpu_smc_ctx *ctx)
{
	struct rk_cpu_exit e;

	ctx->calls++;
	if (imm != 7)
		return false;
	/* Not allowed from inside the handler. */
	ctx->run_rc = rk_cpu_run(cpu, 0, &e);
	ctx->set_pc_rc = rk_cpu_set_reg(cpu, RK_CPU_REG_PC, 0);
	ctx->set_x0_rc = rk_cpu_set_reg(cpu, RK_CPU_REG_X0, 42);
	return true;
}

static void test_smc_exit_and_writeback(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_smc_ctx ctx = { 0 };
	struct rk_cpu_stats st;
	struct rk_cpu_exit e;
	uint64_t x[RK_CPU_NUM_GPRS];
	unsigned i;

	load(f, 0, p_smc, sizeof(p_smc) / 4);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA);
	assert_int_equal(rk_cpu_set_smc_handler(f->cpu, smc_handler, &ctx), 0);

	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(e.imm, 0x1234);
	assert_int_equal(e.insn, 0xd4024683);
	assert_int_equal(e.pc, RAM_IPA + 9 * 4); /* after the SMC */
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_PC), RAM_IPA + 9 * 4);
	assert_int_equal(rk_cpu_get_gprs(f->cpu, x), 0);
	for (i = 0; i < 8; i++)
		assert_int_equal(x[i], 0x10 + i);
	{ /* a window of the GPRs reads and writes exactly those registers */
		uint64_t w[3] = { 0 }, in[2] = { 0x77, 0x88 };

		assert_int_equal(rk_cpu_get_xregs(f->cpu, 5, 3, w), 0);
		assert_int_equal(w[0], 0x15);
		assert_int_equal(w[2], 0x17);
		assert_int_equal(rk_cpu_set_xregs(f->cpu, 6, 2, in), 0);
		assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(5)), 0x15);
		assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(6)), 0x77);
		assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(7)), 0x88);
		assert_int_equal(rk_cpu_get_xregs(f->cpu, 30, 1, w), 0);
		assert_int_equal(w[0], x[30]);
	}

	/* Results written by the "RMM" are what the guest sees. */
	x[0] = 1000;
	x[1] = 200;
	x[2] = 30;
	x[3] = 4;
	assert_int_equal(rk_cpu_set_gprs(f->cpu, x), 0);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(e.imm, 1);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(10)), 1234);

	/* smc #7 is completed by the handler (x0 = 42), smc #8 exits. */
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(e.imm, 8);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(11)), 42);
	assert_int_equal(ctx.calls, 4); /* 0x1234, 1 and 8 declined, 7 handled */
	assert_int_equal(ctx.run_rc, -EBUSY);
	assert_int_equal(ctx.set_pc_rc, -EBUSY);
	assert_int_equal(ctx.set_x0_rc, 0);
	rk_cpu_get_stats(f->cpu, &st);
	assert_int_equal(st.smc_in_hook, 1);
}

/* A handler registered without the immediate: called with imm 0, before any decoding. */
static bool smc_noimm_handler(struct rk_cpu *cpu, uint16_t imm, struct rk_cpu_smc_ctx *ctx)
{
	uint64_t x0 = 0;

	ctx->calls++;
	ctx->set_pc_rc = imm; /* what it was given */
	(void)rk_cpu_get_reg(cpu, RK_CPU_REG_X0, &x0);
	if (x0 != 1000)
		return false;
	ctx->set_x0_rc = rk_cpu_set_reg(cpu, RK_CPU_REG_X0, 42);
	return true;
}

static void test_smc_noimm_handler(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_smc_ctx ctx = { 0 };
	struct rk_cpu_exit e;

	load(f, 0, p_smc, sizeof(p_smc) / 4);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA);
	assert_int_equal(rk_cpu_set_smc_handler_noimm(f->cpu, smc_noimm_handler, &ctx), 0);
	/* declined (x0 = 0x10): a normal exit that still reports the real immediate */
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(e.imm, 0x1234);
	assert_int_equal(e.pc, RAM_IPA + 9 * 4);
	assert_int_equal(ctx.calls, 1);
	assert_int_equal(ctx.set_pc_rc, 0); /* the handler saw imm 0 */
	/* accepted (x0 = 1000): completed in the hook, the guest goes on to smc #7 */
	t_cpu_set(f->cpu, RK_CPU_REG_X0, 1000);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(e.imm, 7);
	assert_int_equal(ctx.calls, 3); /* 0x1234, then smc #1 handled, then smc #7 declined */
	assert_int_equal(ctx.set_x0_rc, 0);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X0), 42);
	/* rk_cpu_set_smc_handler() (with imm) clears the no-imm mode */
	assert_int_equal(rk_cpu_set_smc_handler(f->cpu, smc_handler, &ctx), 0);
	assert_int_equal(rk_cpu_set_smc_handler_noimm(NULL, NULL, NULL), -EINVAL);
}

/* ------------------------------------------------------------------------ */

static const uint32_t p_mmio_st[] = {
	0x91000694, /* add x20, x20, #0x1 */
	0x39000041, /* strb w1, [x2] */
	0x91000694, /* add x20, x20, #0x1 */
	0x79000443, /* strh w3, [x2, #2] */
	0x91000694, /* add x20, x20, #0x1 */
	0xb9000444, /* str w4, [x2, #4] */
	0x91000694, /* add x20, x20, #0x1 */
	0xf9000445, /* str x5, [x2, #8] */
	0x91000694, /* add x20, x20, #0x1 */
	0xf81f8046, /* stur x6, [x2, #-8] */
	0x91000694, /* add x20, x20, #0x1 */
	0xf8286847, /* str x7, [x2, x8] */
	0x91000694, /* add x20, x20, #0x1 */
	0x889ffc49, /* stlr w9, [x2] */
	0x91000694, /* add x20, x20, #0x1 */
	0x3900045f, /* strb wzr, [x2, #1] */
	0x91000694, /* add x20, x20, #0x1 */
	0xf8008441, /* str x1, [x2], #8   (writeback: no ISV) */
	0x91000694, /* add x20, x20, #0x1 */
	0xa9000c41, /* stp x1, x3, [x2]   (pair: no ISV) */
	0xd4000003, /* smc #0x0 */
};

struct st_expect {
	uint64_t addr;
	unsigned size;
	uint64_t value;
	bool isv;
	unsigned srt;
	bool sf;
	bool ar;
};

static void test_mmio_store(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_exit e;
	const uint64_t b = MMIO_IPA + 0x10;
	const struct st_expect ex[] = {
		{ b, 1, 0xa1, true, 1, false, false },
		{ b + 2, 2, 0xb3b2, true, 3, false, false },
		{ b + 4, 4, 0xc4c3c2c1, true, 4, false, false },
		{ b + 8, 8, 0xd5d4d3d2d1d0cfceull, true, 5, true, false },
		{ b - 8, 8, 0x0606060606060606ull, true, 6, true, false },
		{ b + 0x100, 8, 0x7777777777777777ull, true, 7, true, false },
		{ b, 4, 0x99999999, true, 9, false, true },
		{ b + 1, 1, 0, true, 31, false, false },
		{ b, 8, 0xa1a1a1a1a1a1a1a1ull, false, 0, false, false },
		{ b, 8, 0xa1a1a1a1a1a1a1a1ull, false, 0, false, false },
	};
	unsigned i;

	load(f, 0, p_mmio_st, sizeof(p_mmio_st) / 4);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA);
	t_cpu_set(f->cpu, RK_CPU_REG_X(1), 0xa1a1a1a1a1a1a1a1ull);
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), b);
	t_cpu_set(f->cpu, RK_CPU_REG_X(3), 0xb3b2);
	t_cpu_set(f->cpu, RK_CPU_REG_X(4), 0xffffffffc4c3c2c1ull);
	t_cpu_set(f->cpu, RK_CPU_REG_X(5), 0xd5d4d3d2d1d0cfceull);
	t_cpu_set(f->cpu, RK_CPU_REG_X(6), 0x0606060606060606ull);
	t_cpu_set(f->cpu, RK_CPU_REG_X(7), 0x7777777777777777ull);
	t_cpu_set(f->cpu, RK_CPU_REG_X(8), 0x100);
	t_cpu_set(f->cpu, RK_CPU_REG_X(9), 0x1234567899999999ull);

	for (i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		uint64_t iss;

		e = t_cpu_run(f->cpu, RK_CPU_EXIT_DABT);
		/* Precise PC: the store, not the block start; the add before it
		 * ran exactly once. */
		assert_int_equal(e.pc, RAM_IPA + (2 * i + 1) * 4);
		assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_PC), e.pc);
		assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(20)), i + 1);
		assert_int_equal(e.insn, p_mmio_st[2 * i + 1]);
		assert_true(e.mem.is_write);
		assert_false(e.mem.is_perm);
		assert_int_equal(e.mem.addr, ex[i].addr);
		assert_int_equal(e.mem.isv, ex[i].isv);
		if (ex[i].isv) {
			assert_int_equal(e.mem.size, ex[i].size);
			assert_int_equal(e.mem.value, ex[i].value);
			assert_int_equal(e.mem.srt, ex[i].srt);
			assert_int_equal(e.mem.sf, ex[i].sf);
			assert_int_equal(e.mem.ar, ex[i].ar);
			assert_false(e.mem.sse);
		}
		iss = rk_cpu_dabt_iss(&e.mem);
		assert_true(iss & ESR_WNR);
		assert_int_equal(!!(iss & ESR_ISV), ex[i].isv);
		if (ex[i].isv)
			assert_int_equal(esr_srt(iss), ex[i].srt);
		/* A load completion is refused for a store. */
		assert_int_equal(rk_cpu_complete_mmio_read(f->cpu, 0), -EINVAL);
		assert_int_equal(rk_cpu_complete_mmio_write(f->cpu), 0);
		assert_int_equal(rk_cpu_complete_mmio_write(f->cpu), -EINVAL); /* once */
		if (i == 8) /* the post-indexed store was skipped, not executed */
			assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(2)), b);
	}
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(20)), 10);
}

/* ------------------------------------------------------------------------ */

static const uint32_t p_mmio_ld[] = {
	0x39400041, /* ldrb w1, [x2] */
	0x79400443, /* ldrh w3, [x2, #2] */
	0xb9400444, /* ldr w4, [x2, #4] */
	0xf9400445, /* ldr x5, [x2, #8] */
	0x39c00046, /* ldrsb w6, [x2] */
	0x39800047, /* ldrsb x7, [x2] */
	0x79c00048, /* ldrsh w8, [x2] */
	0x79800049, /* ldrsh x9, [x2] */
	0xb980004a, /* ldrsw x10, [x2] */
	0x88dffc4b, /* ldar w11, [x2] */
	0xf86d684c, /* ldr x12, [x2, x13] */
	0xb85fc04e, /* ldur w14, [x2, #-4] */
	0xd4000003, /* smc #0x0 */
};

struct ld_expect {
	unsigned rt;
	uint64_t addr_off;
	unsigned size;
	bool sse;
	bool sf;
	uint64_t result;
};

static void test_mmio_load(void **state)
{
	struct fx *f = *state;
	const uint64_t b = MMIO_IPA + 0x100;
	const uint64_t v = 0x8899aabbccddeeffull;
	const struct ld_expect ex[] = {
		{ 1, 0, 1, false, false, 0xff },
		{ 3, 2, 2, false, false, 0xeeff },
		{ 4, 4, 4, false, false, 0xccddeeff },
		{ 5, 8, 8, false, true, v },
		{ 6, 0, 1, true, false, 0xffffffff },
		{ 7, 0, 1, true, true, 0xffffffffffffffffull },
		{ 8, 0, 2, true, false, 0xffffeeff },
		{ 9, 0, 2, true, true, 0xffffffffffffeeffull },
		{ 10, 0, 4, true, true, 0xffffffffccddeeffull },
		{ 11, 0, 4, false, false, 0xccddeeff },
		{ 12, 0x40, 8, false, true, v },
		{ 14, (uint64_t)-4, 4, false, false, 0xccddeeff },
	};
	unsigned i;

	load(f, 0, p_mmio_ld, sizeof(p_mmio_ld) / 4);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA);
	for (i = 0; i < 15; i++)
		t_cpu_set(f->cpu, RK_CPU_REG_X(i), 0x5555555555555555ull);
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), b);
	t_cpu_set(f->cpu, RK_CPU_REG_X(13), 0x40);

	for (i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		struct rk_cpu_exit e = t_cpu_run(f->cpu, RK_CPU_EXIT_DABT);
		uint64_t iss = rk_cpu_dabt_iss(&e.mem);
		unsigned sas = ex[i].size == 1 ? 0 : ex[i].size == 2 ? 1 : ex[i].size == 4 ? 2 : 3;

		assert_int_equal(e.pc, RAM_IPA + 4 * i);
		assert_false(e.mem.is_write);
		assert_true(e.mem.isv);
		assert_int_equal(e.mem.addr, b + ex[i].addr_off);
		assert_int_equal(e.mem.size, ex[i].size);
		assert_int_equal(e.mem.srt, ex[i].rt);
		assert_int_equal(e.mem.sse, ex[i].sse);
		assert_int_equal(e.mem.sf, ex[i].sf);
		assert_int_equal(e.mem.ar, i == 9);
		assert_int_equal(iss & ESR_WNR, 0);
		assert_true(iss & ESR_ISV);
		assert_int_equal(esr_sas(iss), sas);
		assert_int_equal(!!(iss & ESR_SSE), ex[i].sse);
		assert_int_equal(!!(iss & ESR_SF), ex[i].sf);
		assert_int_equal(esr_srt(iss), ex[i].rt);
		assert_int_equal(rk_cpu_complete_mmio_write(f->cpu), -EINVAL);
		assert_int_equal(rk_cpu_complete_mmio_read(f->cpu, v), 0);
		assert_int_equal(rk_cpu_complete_mmio_read(f->cpu, v), -EINVAL);
		assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_PC), RAM_IPA + 4 * (i + 1));
	}
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	for (i = 0; i < sizeof(ex) / sizeof(ex[0]); i++)
		assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(ex[i].rt)), ex[i].result);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(13)), 0x40);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(2)), b);
}

/* ------------------------------------------------------------------------ */

static const uint32_t p_wfx[] = {
	0xd503207f, /* wfi */
	0xd4000023, /* smc #0x1 */
	0xd4000442, /* hvc #0x22 */
	0x00000000, /* udf #0 */
	0xd4000043, /* smc #0x2 */
};

static void test_wfi_hvc_undef(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_exit e;

	load(f, 0, p_wfx, sizeof(p_wfx) / 4);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA);

	e = t_cpu_run(f->cpu, RK_CPU_EXIT_WFI);
	assert_int_equal(e.pc, RAM_IPA);
	assert_int_equal(e.insn, 0xd503207f);
	/* Without completing it, the WFI exits again. */
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_WFI);
	assert_int_equal(rk_cpu_skip_insn(f->cpu), 0);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(e.imm, 1);

	e = t_cpu_run(f->cpu, RK_CPU_EXIT_HVC);
	assert_int_equal(e.imm, 0x22);
	assert_int_equal(e.pc, RAM_IPA + 12);

	e = t_cpu_run(f->cpu, RK_CPU_EXIT_UNDEF);
	assert_int_equal(e.pc, RAM_IPA + 12);
	assert_int_equal(e.insn, 0);
	assert_int_equal(rk_cpu_skip_insn(f->cpu), 0);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(e.imm, 2);
}

/* ------------------------------------------------------------------------ */

static const uint32_t p_vec_main[] = {
	0x10004009, /* 0x00 adr x9, . + 0x800 */
	0xd518c009, /* 0x04 msr vbar_el1, x9 */
	0xd5033fdf, /* 0x08 isb */
	0xf9400041, /* 0x0c ldr x1, [x2] */
	0xd4000203, /* 0x10 smc #0x10 */
	0xd4000841, /* 0x14 svc #0x42 */
	0xd4000303, /* 0x18 smc #0x18 */
	0x00000000, /* 0x1c udf #0 */
	0xd4000403, /* 0x20 smc #0x20 */
	0xd50342ff, /* 0x24 msr daifclr, #0x2 */
	0x14000000, /* 0x28 b . */
};
static const uint32_t p_vec_el1t[] = {
	/* VBAR + 0x000 */
	0x910003e8, /* mov x8, sp */
	0xd4000003, /* smc #0x0 */
	0x14000000, /* b . */
};
static const uint32_t p_vec_el1h[] = {
	/* VBAR + 0x200 */
	0xd5385203, /* mrs x3, esr_el1 */
	0xd5386004, /* mrs x4, far_el1 */
	0xd5384025, /* mrs x5, elr_el1 */
	0xd5384006, /* mrs x6, spsr_el1 */
	0xd4004003, /* smc #0x200 */
	0xd35afc67, /* lsr x7, x3, #26 */
	0xf10054ff, /* cmp x7, #0x15 */
	0x54000060, /* b.eq 1f */
	0x910010a5, /* add x5, x5, #0x4 */
	0xd5184025, /* msr elr_el1, x5 */
	0xd69f03e0, /* 1: eret */
};
static const uint32_t p_vec_irq[] = {
	/* VBAR + 0x280 */
	0xd4005003, /* smc #0x280 */
	0x14000000, /* b . */
};

#define VBAR (RAM_IPA + 0x800)

static void load_vectors(struct fx *f)
{
	load(f, 0, p_vec_main, sizeof(p_vec_main) / 4);
	load(f, 0x800, p_vec_el1t, sizeof(p_vec_el1t) / 4);
	load(f, 0xa00, p_vec_el1h, sizeof(p_vec_el1h) / 4);
	load(f, 0xa80, p_vec_irq, sizeof(p_vec_irq) / 4);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA);
}

static void test_sea_svc_undef_injection(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_exit e;
	struct rk_cpu_stats st;
	const uint64_t esr = ESR_EC(ESR_EC_DABT_CUR) | ESR_IL | ESR_FSC_SEA;

	load_vectors(f);
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), UNMAPPED_PROT_IPA + 0x28);
	t_cpu_set(f->cpu, RK_CPU_REG_PSTATE, PSTATE_EL1H_DAIF | (1u << 30) /* Z */);

	/* The load from a protected IPA nobody mapped: a DABT exit. */
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_DABT);
	assert_int_equal(e.pc, RAM_IPA + 0x0c);
	assert_int_equal(e.mem.addr, UNMAPPED_PROT_IPA + 0x28);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_VBAR_EL1), VBAR);

	/* The RMM injects an SEA. */
	assert_int_equal(rk_cpu_inject_sync(f->cpu, esr, e.mem.addr), 0);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_PC), VBAR + 0x200);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_ELR_EL1), RAM_IPA + 0x0c);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_ESR_EL1), esr);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_FAR_EL1), UNMAPPED_PROT_IPA + 0x28);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_SPSR_EL1), PSTATE_EL1H_DAIF | (1u << 30));
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_PSTATE) & 0x3ff, PSTATE_EL1H_DAIF);

	/* The guest's handler sees the same through MRS. */
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(e.imm, 0x200);
	assert_int_equal(e.pc, VBAR + 0x200 + 5 * 4);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(3)), esr);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(4)), UNMAPPED_PROT_IPA + 0x28);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(5)), RAM_IPA + 0x0c);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(6)), PSTATE_EL1H_DAIF | (1u << 30));

	/* It returns past the load (ERET restores PSTATE, incl. Z). */
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(e.imm, 0x10);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_PSTATE), PSTATE_EL1H_DAIF | (1u << 30));

	/* SVC #0x42 is delivered to the guest without an exit. */
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(e.imm, 0x200);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(3)), ESR_EC(ESR_EC_SVC64) | ESR_IL | 0x42);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(5)), RAM_IPA + 0x18); /* after the SVC */
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(e.imm, 0x18);
	rk_cpu_get_stats(f->cpu, &st);
	assert_int_equal(st.guest_exceptions, 1);

	/* UDF: an UNDEF exit; the RMM injects an UNDEF. */
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_UNDEF);
	assert_int_equal(e.pc, RAM_IPA + 0x1c);
	assert_int_equal(rk_cpu_inject_undef(f->cpu), 0);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(e.imm, 0x200);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(3)), ESR_IL);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(5)), RAM_IPA + 0x1c);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(e.imm, 0x20);
}

static void test_virq_and_el1t(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_exit e;

	load_vectors(f);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + 0x24); /* msr daifclr, #2; b . */
	t_cpu_set(f->cpu, RK_CPU_REG_VBAR_EL1, VBAR);
	assert_int_equal(rk_cpu_run(f->cpu, 20000, &e), 0);
	assert_int_equal(e.reason, RK_CPU_EXIT_TIMEOUT);
	assert_int_equal(e.pc, RAM_IPA + 0x28);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_PSTATE) & PSTATE_I, 0);
	assert_int_equal(rk_cpu_set_virq(f->cpu, true), 0);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(e.imm, 0x280);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_ELR_EL1), RAM_IPA + 0x28);
	assert_int_not_equal(t_cpu_reg(f->cpu, RK_CPU_REG_PSTATE) & PSTATE_I, 0);
	assert_int_equal(rk_cpu_set_virq(f->cpu, false), 0);

	/* Injection from EL1t: vector + 0x000, and SP switches to SP_EL1. */
	t_cpu_set(f->cpu, RK_CPU_REG_SP, 0x8000f000); /* SP_EL1 (EL1h now) */
	t_cpu_set(f->cpu, RK_CPU_REG_PSTATE, PSTATE_DAIF | PSTATE_M_EL1T);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_SP_EL1), 0x8000f000);
	t_cpu_set(f->cpu, RK_CPU_REG_SP, 0x8000e000); /* now SP_EL0 */
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_SP_EL0), 0x8000e000);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_SP_EL1), 0x8000f000);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + 0x28);
	assert_int_equal(rk_cpu_inject_sync(f->cpu, ESR_IL, 0), 0);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_PC), VBAR);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(8)), 0x8000f000);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_SP_EL0), 0x8000e000);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_SPSR_EL1), PSTATE_DAIF | PSTATE_M_EL1T);

	/* PSTATE cannot leave EL1 from the host. */
	assert_int_equal(rk_cpu_set_reg(f->cpu, RK_CPU_REG_PSTATE, 0x3c4 & ~0xcu), -EINVAL);
	assert_int_equal(rk_cpu_set_reg(f->cpu, RK_CPU_REG_PSTATE, 0x3c9), -EINVAL);
}

/* ------------------------------------------------------------------------ */

static const uint32_t p_misc[] = {
	0x14000000, /* 0x00 b . */
	0xd53800a0, /* 0x04 mrs x0, mpidr_el1 */
	0xd4000003, /* 0x08 smc #0x0 */
	0xa8810401, /* 0x0c stp x1, x1, [x0], #16 */
	0xa8810401, /* 0x10 stp x1, x1, [x0], #16 */
	0xd4000003, /* 0x14 smc #0x0 */
	0x9b027c00, /* 0x18 1: mul x0, x0, x2 */
	0x8b030000, /* 0x1c add x0, x0, x3 */
	0xf1000421, /* 0x20 subs x1, x1, #0x1 */
	0x54ffffa1, /* 0x24 b.ne 1b */
	0xd4000003, /* 0x28 smc #0x0 */
	0xd61f0120, /* 0x2c br x9 */
	0xd2800020, /* 0x30 mov x0, #0x1 */
	0xd4000003, /* 0x34 smc #0x0 */
	0xd2800040, /* 0x38 mov x0, #0x2 */
	0xd4000003, /* 0x3c smc #0x0 */
	0xf9400041, /* 0x40 ldr x1, [x2] */
	0xd4000003, /* 0x44 smc #0x0 */
};
#define P_LOOP 0x00
#define P_MPIDR 0x04
#define P_PAIR 0x0c
#define P_LCG 0x18
#define P_BR 0x2c
#define P_ONE 0x30
#define P_TWO 0x38
#define P_LDR 0x40

static void test_timeout(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_exit e;
	double t;

	load(f, 0, p_misc, sizeof(p_misc) / 4);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + P_LOOP);
	t = now_s();
	assert_int_equal(rk_cpu_run(f->cpu, 50000, &e), 0);
	t = now_s() - t;
	assert_int_equal(e.reason, RK_CPU_EXIT_TIMEOUT);
	assert_int_equal(e.pc, RAM_IPA + P_LOOP);
	assert_true(t >= 0.049);         /* never early */
	assert_true(t < RUN_LIVENESS_S); /* and it ends (no upper bound on a loaded machine) */
	/* Again, shorter: the watchdog re-arms. */
	t = now_s();
	assert_int_equal(rk_cpu_run(f->cpu, 5000, &e), 0);
	t = now_s() - t;
	assert_int_equal(e.reason, RK_CPU_EXIT_TIMEOUT);
	assert_true(t >= 0.0049);
	assert_true(t < RUN_LIVENESS_S);
}

struct kicker {
	struct rk_cpu *cpu;
	unsigned delay_us;
};

static void *kick_thread(void *arg)
{
	struct kicker *k = arg;
	struct timespec ts = { 0, (long)k->delay_us * 1000 };

	nanosleep(&ts, NULL);
	rk_cpu_kick(k->cpu);
	return NULL;
}

static void test_kick(void **state)
{
	struct fx *f = *state;
	struct kicker k = { f->cpu, 30000 };
	struct rk_cpu_exit e;
	pthread_t th;
	double t;
	int i;

	load(f, 0, p_misc, sizeof(p_misc) / 4);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + P_LOOP);

	/* A kick before the run: the run returns at once. */
	rk_cpu_kick(f->cpu);
	assert_int_equal(rk_cpu_run(f->cpu, 0, &e), 0);
	assert_int_equal(e.reason, RK_CPU_EXIT_KICK);
	assert_int_equal(e.pc, RAM_IPA + P_LOOP);

	/* A kick from another thread during a run without a time limit. */
	for (i = 0; i < 3; i++) {
		assert_int_equal(pthread_create(&th, NULL, kick_thread, &k), 0);
		t = now_s();
		assert_int_equal(rk_cpu_run(f->cpu, 0, &e), 0);
		t = now_s() - t;
		assert_int_equal(pthread_join(th, NULL), 0);
		assert_int_equal(e.reason, RK_CPU_EXIT_KICK);
		assert_true(t < RUN_LIVENESS_S);
	}
	/* Kicks are consumed: this one times out. */
	assert_int_equal(rk_cpu_run(f->cpu, 2000, &e), 0);
	assert_int_equal(e.reason, RK_CPU_EXIT_TIMEOUT);
}

/* DC ZVA is trapped (HCR_EL2.TDZ) and advertised as prohibited. */
static void test_dc_zva_trapped(void **state)
{
	struct fx *f = *state;
	const uint32_t p[] = {
		0xd53b00e0, /* mrs x0, dczid_el0 */
		0xd4000003, /* smc #0 */
		0xd50b7421, /* dc zva, x1 */
	};
	struct rk_cpu_exit e;

	load(f, 0, p, 3);
	f->ram[0x1000] = 0x77;
	t_cpu_set(f->cpu, RK_CPU_REG_X(1), RAM_IPA + 0x1000);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_not_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(0)) & 0x10, 0); /* DZP */
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_UNDEF);
	assert_int_equal(e.pc, RAM_IPA + 8);
	assert_int_equal(e.insn, 0xd50b7421);
	assert_int_equal(f->ram[0x1000], 0x77);
}

static void test_mpidr_iabt(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_exit e;

	load(f, 0, p_misc, sizeof(p_misc) / 4);
	t_cpu_set(f->cpu, RK_CPU_REG_MPIDR_EL1, 0x80000102);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_MPIDR_EL1), 0x80000102);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + P_MPIDR);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(0)), 0x80000102);

	t_cpu_set(f->cpu, RK_CPU_REG_X(9), UNMAPPED_PROT_IPA + 0x40);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + P_BR);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_IABT);
	assert_int_equal(e.pc, UNMAPPED_PROT_IPA + 0x40);
	assert_int_equal(e.mem.addr, UNMAPPED_PROT_IPA + 0x40);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_PC), UNMAPPED_PROT_IPA + 0x40);
	/* Branch to 0 is an abort too (no "until" address at 0). */
	t_cpu_set(f->cpu, RK_CPU_REG_X(9), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + P_BR);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_IABT);
	assert_int_equal(e.pc, 0);
}

/* Two post-indexed pair stores in one block: both recompute to the fault
 * address, only an exact PC tells which one faulted. */
static void test_precise_pc_pairs(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_exit e;
	uint64_t v;

	load(f, 0, p_misc, sizeof(p_misc) / 4);
	t_cpu_set(f->cpu, RK_CPU_REG_X(1), 0x1111222233334444ull);

	/* The second store faults. */
	t_cpu_set(f->cpu, RK_CPU_REG_X(0), RAM_IPA + RAM_SIZE - 16);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + P_PAIR);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_DABT);
	assert_int_equal(e.pc, RAM_IPA + P_PAIR + 4);
	assert_int_equal(e.mem.addr, RAM_IPA + RAM_SIZE);
	assert_true(e.mem.is_write);
	assert_false(e.mem.isv);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(0)), RAM_IPA + RAM_SIZE);
	memcpy(&v, f->ram + RAM_SIZE - 16, 8);
	assert_int_equal(v, 0x1111222233334444ull);

	/* The first store faults. */
	t_cpu_set(f->cpu, RK_CPU_REG_X(0), RAM_IPA + RAM_SIZE);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + P_PAIR);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_DABT);
	assert_int_equal(e.pc, RAM_IPA + P_PAIR);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(0)), RAM_IPA + RAM_SIZE);

	/* The "host" maps the page and the store is retried. */
	{
		uint8_t *page = aligned_alloc(4096, 8192);

		assert_non_null(page);
		memset(page, 0, 8192);
		assert_int_equal(rk_cpu_map(f->cpu, RAM_IPA + RAM_SIZE, 8192, page,
					    RK_CPU_PROT_READ | RK_CPU_PROT_WRITE),
				 0);
		e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
		assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(0)), RAM_IPA + RAM_SIZE + 32);
		memcpy(&v, page + 24, 8);
		assert_int_equal(v, 0x1111222233334444ull);
		/* Not executable: fetch is a permission IABT. */
		t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + RAM_SIZE);
		e = t_cpu_run(f->cpu, RK_CPU_EXIT_IABT);
		assert_true(e.mem.is_perm);
		assert_int_equal(rk_cpu_unmap(f->cpu, RAM_IPA + RAM_SIZE, 8192), 0);
		/* Runs with the page gone before it is freed. */
		t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + P_MPIDR);
		t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
		free(page);
	}
}

/* ------------------------------------------------------------------------ */

static void test_region_limit(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_stats st;
	struct rk_cpu_exit e;
	uint8_t *pool;
	const uint64_t base = 0x40000000ull;
	unsigned i;

	/* RAM is 1 region; add separated pages up to the limit. */
	pool = aligned_alloc(4096, (size_t)RK_CPU_MAX_REGIONS * 4096);
	assert_non_null(pool);
	memset(pool, 0, (size_t)RK_CPU_MAX_REGIONS * 4096);
	for (i = 0; i + 1 < RK_CPU_MAX_REGIONS; i++)
		assert_int_equal(rk_cpu_map(f->cpu, base + 2ull * i * 4096, 4096, pool + (size_t)i * 4096,
					    RK_CPU_PROT_ALL),
				 0);
	rk_cpu_get_stats(f->cpu, &st);
	assert_int_equal(st.regions, RK_CPU_MAX_REGIONS);
	/* One more is refused cleanly, whether new or by splitting. */
	assert_int_equal(
		rk_cpu_map(f->cpu, base + 2ull * i * 4096, 4096, pool + (size_t)i * 4096, RK_CPU_PROT_ALL),
		-ENOSPC);
	assert_int_equal(rk_cpu_unmap(f->cpu, RAM_IPA + 4096, 4096), -ENOSPC);
	/* But a page that merges into a neighbour is fine. */
	assert_int_equal(rk_cpu_map(f->cpu, base + 4096, 4096, pool + 4096, RK_CPU_PROT_ALL), 0);
	rk_cpu_get_stats(f->cpu, &st);
	assert_int_equal(st.regions, RK_CPU_MAX_REGIONS);

	/* The engine takes them all and the guest runs. */
	load(f, 0, p_misc, sizeof(p_misc) / 4);
	pool[4096 * 300] = 0x5a;
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), base + 2ull * 300 * 4096);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + P_LDR);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(1)), 0x5a);
	rk_cpu_get_stats(f->cpu, &st);
	if (rk_cpu_mode(f->cpu) == RK_CPU_MODE_STAGE2)
		assert_true(st.engine_regions <= 2); /* RAM windows: the regions are stage-2 entries */
	else
		assert_int_equal(st.engine_regions, RK_CPU_MAX_REGIONS);
	/* The gaps between them are unmapped. */
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), base + 2ull * 300 * 4096 + 4096);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + P_LDR);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_DABT);
	assert_int_equal(e.mem.addr, base + 2ull * 300 * 4096 + 4096);

	/* Unmap them all: back to one region. */
	assert_int_equal(rk_cpu_unmap(f->cpu, base, 2ull * RK_CPU_MAX_REGIONS * 4096), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + P_MPIDR);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	rk_cpu_get_stats(f->cpu, &st);
	assert_int_equal(st.regions, 1);
	if (rk_cpu_mode(f->cpu) == RK_CPU_MODE_STAGE2)
		assert_true(st.engine_regions <= 2);
	else
		assert_int_equal(st.engine_regions, 1);
	free(pool);
}

static void test_coalesce_and_growth(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_stats st0, st;
	struct rk_cpu *cpu;
	struct rk_cpu_exit e;
	const uint64_t base = 0x90000000ull;
	const unsigned pages = 200;
	uint8_t *buf, *other;
	unsigned i;

	buf = aligned_alloc(4096, (size_t)(pages + 64) * 4096);
	other = aligned_alloc(4096, 4096);
	assert_non_null(buf);
	assert_non_null(other);
	memset(buf, 0, (size_t)(pages + 64) * 4096);
	memset(other, 0, 4096);

	/* Before the first run: page by page, in a scrambled order, is still
	 * one region and one engine mapping (code is mapped at RAM_IPA). */
	assert_int_equal(rk_cpu_create(&cpu), 0);
	for (i = 0; i < 64; i++) {
		unsigned p = (i * 37) % 64; /* a permutation of 0..63 */

		assert_int_equal(rk_cpu_map(cpu, base + (uint64_t)p * 4096, 4096, buf + (size_t)p * 4096,
					    RK_CPU_PROT_ALL),
				 0);
	}
	rk_cpu_get_stats(cpu, &st);
	assert_int_equal(st.regions, 1);
	assert_true(rk_cpu_is_mapped(cpu, base, 64 * 4096));
	assert_false(rk_cpu_is_mapped(cpu, base, 65 * 4096));
	/* Same IPA adjacency but a different host buffer: a second region. */
	assert_int_equal(rk_cpu_map(cpu, base + 64 * 4096, 4096, other, RK_CPU_PROT_ALL), 0);
	/* Overlaps are refused. */
	assert_int_equal(rk_cpu_map(cpu, base + 10 * 4096, 4096, other, RK_CPU_PROT_ALL), -EEXIST);
	rk_cpu_get_stats(cpu, &st);
	assert_int_equal(st.regions, 2);
	assert_int_equal(rk_cpu_unmap(cpu, base + 64 * 4096, 4096), 0);

	load(f, 0, p_misc, sizeof(p_misc) / 4);
	memcpy(buf, f->ram + P_LDR, 8); /* ldr x1, [x2]; smc #0 at base */
	t_cpu_set(cpu, RK_CPU_REG_PC, base);
	t_cpu_set(cpu, RK_CPU_REG_X(2), base + 8);
	t_cpu_run(cpu, RK_CPU_EXIT_SMC);
	rk_cpu_get_stats(cpu, &st0);
	if (rk_cpu_mode(cpu) == RK_CPU_MODE_STAGE2) {
		/* a RAM window for each buffer's 1 GiB of address space, at most */
		assert_true(st0.engine_regions >= 1 && st0.engine_regions <= 2);
		assert_int_equal(st0.engine_maps, st0.engine_regions);
	} else {
		assert_int_equal(st0.engine_regions, 1);
		assert_int_equal(st0.engine_maps, 1);
	}

	/* After it: grow page by page with a run in between; each new page is
	 * read by the guest. The engine keeps O(log n) pieces. */
	for (i = 64; i < pages; i++) {
		uint64_t ipa = base + (uint64_t)i * 4096;

		buf[(size_t)i * 4096] = (uint8_t)i;
		t_cpu_set(cpu, RK_CPU_REG_X(2), ipa);
		t_cpu_set(cpu, RK_CPU_REG_PC, base);
		e = t_cpu_run(cpu, RK_CPU_EXIT_DABT);
		assert_int_equal(e.mem.addr, ipa);
		assert_int_equal(rk_cpu_map(cpu, ipa, 4096, buf + (size_t)i * 4096, RK_CPU_PROT_ALL), 0);
		t_cpu_run(cpu, RK_CPU_EXIT_SMC);
		assert_int_equal(t_cpu_reg(cpu, RK_CPU_REG_X(1)), i);
	}
	rk_cpu_get_stats(cpu, &st);
	assert_int_equal(st.regions, 1);
	assert_true(st.engine_regions <= 12);
	/* Not quadratic: merging everything each time would unmap about
	 * (64 + 200) * 136 / 2 = 17952 pages. */
	assert_true(st.engine_unmaps < 4 * pages);
	assert_true(st.engine_unmapped_pages < 3000);

	/* Unmapping a page in the middle splits the region: an abort there,
	 * data around it intact. */
	assert_int_equal(rk_cpu_unmap(cpu, base + 100 * 4096, 4096), 0);
	rk_cpu_get_stats(cpu, &st);
	assert_int_equal(st.regions, 2);
	t_cpu_set(cpu, RK_CPU_REG_X(2), base + 100 * 4096);
	t_cpu_set(cpu, RK_CPU_REG_PC, base);
	t_cpu_run(cpu, RK_CPU_EXIT_DABT);
	t_cpu_set(cpu, RK_CPU_REG_X(2), base + 101 * 4096);
	t_cpu_set(cpu, RK_CPU_REG_PC, base);
	t_cpu_run(cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(t_cpu_reg(cpu, RK_CPU_REG_X(1)), 101);
	t_cpu_set(cpu, RK_CPU_REG_X(2), base + 99 * 4096);
	t_cpu_set(cpu, RK_CPU_REG_PC, base);
	t_cpu_run(cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(t_cpu_reg(cpu, RK_CPU_REG_X(1)), 99);

	rk_cpu_destroy(cpu);
	free(buf);
	free(other);
}

/* New memory at an IPA that held code must not run the old translation. */
static void test_no_stale_code(void **state)
{
	struct fx *f = *state;
	uint8_t *a = aligned_alloc(4096, 4096), *b = aligned_alloc(4096, 4096);
	const uint64_t ipa = 0xa0000000ull;

	assert_non_null(a);
	assert_non_null(b);
	load(f, 0, p_misc, sizeof(p_misc) / 4);
	memcpy(a, f->ram + P_ONE, 8);
	memcpy(b, f->ram + P_TWO, 8);
	assert_int_equal(rk_cpu_map(f->cpu, ipa, 4096, a, RK_CPU_PROT_ALL), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, ipa);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(0)), 1);
	assert_int_equal(rk_cpu_unmap(f->cpu, ipa, 4096), 0);
	assert_int_equal(rk_cpu_map(f->cpu, ipa, 4096, b, RK_CPU_PROT_ALL), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, ipa);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(0)), 2);
	assert_int_equal(rk_cpu_unmap(f->cpu, ipa, 4096), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + P_MPIDR);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	free(a);
	free(b);
}

/* ------------------------------------------------------------------------ */

struct lcg_job {
	uint64_t seed, mul, inc, iters;
	uint64_t result;
	uint32_t *shared; /* one page both engines map at SHARED_IPA */
	unsigned me;      /* this job's flag in it: word me; the other's: word !me */
	int rc;
	enum rk_cpu_exit_reason reason;
	enum rk_cpu_exit_reason meet_reason;
};

/*
 * The rendezvous: set my flag, wait for the other's, SMC. Two engines can only
 * both finish it if they run at the same time: an engine that ran alone would
 * spin until its run's timeout. x0 = &my flag, x1 = &the other's flag.
 */
static const uint32_t p_meet[] = {
	0x52800022, /* mov w2, #1 */
	0xb9000002, /* str w2, [x0] */
	0xb9400023, /* 1: ldr w3, [x1] */
	0x34ffffe3, /* cbz w3, 1b */
	0xd4000003, /* smc #0 */
};
#define SHARED_IPA (RAM_IPA + 0x100000ull)
#define P_MEET_OFF 0x800u
/* Generous: only a machine that never runs the two threads together reaches it. */
#define MEET_TIMEOUT_US (120ull * 1000 * 1000)

static uint64_t lcg_c(const struct lcg_job *j)
{
	uint64_t x = j->seed, n;

	for (n = 0; n < j->iters; n++)
		x = x * j->mul + j->inc;
	return x;
}

static void *lcg_thread(void *arg)
{
	struct lcg_job *j = arg;
	struct rk_cpu *cpu = NULL;
	struct rk_cpu_exit e;
	uint8_t *ram = aligned_alloc(4096, 4096);

	j->rc = -1;
	if (!ram)
		return NULL;
	memset(ram, 0, 4096);
	memcpy(ram, (const uint8_t *)p_misc + P_LCG, 5 * 4);
	if (rk_cpu_create(&cpu) == 0 && rk_cpu_map(cpu, RAM_IPA, 4096, ram, RK_CPU_PROT_ALL) == 0) {
		rk_cpu_set_reg(cpu, RK_CPU_REG_X(0), j->seed);
		rk_cpu_set_reg(cpu, RK_CPU_REG_X(1), j->iters);
		rk_cpu_set_reg(cpu, RK_CPU_REG_X(2), j->mul);
		rk_cpu_set_reg(cpu, RK_CPU_REG_X(3), j->inc);
		rk_cpu_set_reg(cpu, RK_CPU_REG_PC, RAM_IPA);
		j->rc = rk_cpu_run(cpu, 0, &e);
		j->reason = e.reason;
		rk_cpu_get_reg(cpu, RK_CPU_REG_X(0), &j->result);
	}
	if (j->rc == 0) {
		memcpy(ram + P_MEET_OFF, p_meet, sizeof(p_meet));
		j->rc = rk_cpu_map(cpu, SHARED_IPA, 4096, (uint8_t *)j->shared, RK_CPU_PROT_ALL);
		rk_cpu_set_reg(cpu, RK_CPU_REG_X(0), SHARED_IPA + 4 * j->me);
		rk_cpu_set_reg(cpu, RK_CPU_REG_X(1), SHARED_IPA + 4 * !j->me);
		rk_cpu_set_reg(cpu, RK_CPU_REG_PC, RAM_IPA + P_MEET_OFF);
		if (j->rc == 0)
			j->rc = rk_cpu_run(cpu, MEET_TIMEOUT_US, &e);
		j->meet_reason = e.reason;
	}
	rk_cpu_destroy(cpu);
	free(ram);
	return NULL;
}

static void test_two_threads(void **state)
{
	/* p_misc is little-endian words; the payload copy relies on that. */
	struct lcg_job j[2] = {
		{ .seed = 1, .mul = 6364136223846793005ull, .inc = 1442695040888963407ull, .iters = 3000000 },
		{ .seed = 7, .mul = 2862933555777941757ull, .inc = 3037000493ull, .iters = 3000000 },
	};
	uint32_t *shared = aligned_alloc(4096, 4096);
	pthread_t th[2];
	int i;

	(void)state;
	assert_non_null(shared);
	memset(shared, 0, 4096);
	for (i = 0; i < 2; i++) {
		j[i].shared = shared;
		j[i].me = (unsigned)i;
	}
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, lcg_thread, &j[i]), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(j[i].rc, 0);
		assert_int_equal(j[i].reason, RK_CPU_EXIT_SMC);
		assert_int_equal(j[i].result, lcg_c(&j[i]));
	}
	assert_int_not_equal(j[0].result, j[1].result);
	/* The two engines ran at the same time: each saw the other's flag while it waited. */
	for (i = 0; i < 2; i++)
		assert_int_equal(j[i].meet_reason, RK_CPU_EXIT_SMC);
	assert_int_equal(shared[0], 1);
	assert_int_equal(shared[1], 1);
	free(shared);
}

/* ------------------------------------------------------------------------ */

/*
 * Timeouts and kicks stop the vCPU anywhere; resuming must be exact. Every
 * kind of access that is hard to resume is in the loop: post-indexed pairs,
 * pointer chasing (Rt == Rn), LDXR/STXR, LDP with Rt == Rn, LDRSB into its
 * base, SIMD post-indexed copies, a register-only loop, a writeback store.
 * A run cut into ~20 us slices and kicked at random must end with the same
 * registers and memory as an uninterrupted run. (The classifier that decides
 * where a stop may land is tested case by case in test_decode.)
 */
static const uint32_t p_stop[] = {
	0xaa0a03e0, /* outer: mov x0, x10 */
	0xaa0b03e1, /* mov x1, x11 */
	0xd2800202, /* mov x2, #16 */
	0xa8c11003, /* 1: ldp x3, x4, [x0], #16 */
	0xa8811023, /* stp x3, x4, [x1], #16 */
	0xf1000442, /* subs x2, x2, #1 */
	0x54ffffa1, /* b.ne 1b */
	0xaa0c03e5, /* mov x5, x12 */
	0xd2800006, /* mov x6, #0 */
	0xf94004a7, /* 2: ldr x7, [x5, #8] */
	0x8b0700c6, /* add x6, x6, x7 */
	0xf94000a5, /* ldr x5, [x5] */
	0xb5ffffa5, /* cbnz x5, 2b */
	0x8b0602b5, /* add x21, x21, x6 */
	0xc85f7da8, /* 3: ldxr x8, [x13] */
	0x91000508, /* add x8, x8, #1 */
	0xc8097da8, /* stxr w9, x8, [x13] */
	0x35ffffa9, /* cbnz w9, 3b */
	0xaa0f03ee, /* mov x14, x15 */
	0xa94039d0, /* ldp x16, x14, [x14]  (Rt2 == Rn) */
	0x8b1002b5, /* add x21, x21, x16 */
	0x8b0e02b5, /* add x21, x21, x14 */
	0xaa1203f1, /* mov x17, x18 */
	0x39800231, /* ldrsb x17, [x17] */
	0x8b1102b5, /* add x21, x21, x17 */
	0xaa0a03e0, /* mov x0, x10 */
	0xaa1703e1, /* mov x1, x23 */
	0xd2800102, /* mov x2, #8 */
	0x4cdf7000, /* 5: ld1 {v0.16b}, [x0], #16 */
	0x4c9f7020, /* st1 {v0.16b}, [x1], #16 */
	0xf1000442, /* subs x2, x2, #1 */
	0x54ffffa1, /* b.ne 5b */
	0xd2800293, /* mov x19, #20 */
	0x8b1302b5, /* 4: add x21, x21, x19 */
	0xca551eb5, /* eor x21, x21, x21, lsr #7 */
	0xf1000673, /* subs x19, x19, #1 */
	0x54ffffa1, /* b.ne 4b */
	0xf9400143, /* ldr x3, [x10] */
	0x8b150063, /* add x3, x3, x21 */
	0xf9000143, /* str x3, [x10] */
	0xf80086d5, /* str x21, [x22], #8 */
	0xf1000694, /* subs x20, x20, #1 */
	0x54fffac1, /* b.ne outer */
	0xd4000003, /* smc #0 */
};

#define STOP_ITERS 1000

static void stop_setup(struct rk_cpu *cpu, uint8_t *ram)
{
	uint64_t v;
	unsigned i;

	memset(ram, 0, RAM_SIZE);
	memcpy(ram, p_stop, sizeof(p_stop)); /* little-endian host */
	for (i = 0; i < 256; i++)
		ram[0x4000 + i] = (uint8_t)(i * 13 + 5);
	for (i = 0; i < 20; i++) { /* a list visiting the nodes in a scrambled order */
		unsigned node = (i * 7) % 20, next = ((i + 1) * 7) % 20;

		v = i == 19 ? 0 : RAM_IPA + 0x6000 + 16 * next;
		memcpy(ram + 0x6000 + 16 * node, &v, 8);
		v = 1000 + node;
		memcpy(ram + 0x6000 + 16 * node + 8, &v, 8);
	}
	v = 0x1234;
	memcpy(ram + 0x7100, &v, 8);
	v = 0x55;
	memcpy(ram + 0x7108, &v, 8);
	ram[0x7200] = 0x9c;
	for (i = 0; i < 31; i++)
		t_cpu_set(cpu, RK_CPU_REG_X(i), 0);
	t_cpu_set(cpu, RK_CPU_REG_X(10), RAM_IPA + 0x4000);
	t_cpu_set(cpu, RK_CPU_REG_X(11), RAM_IPA + 0x5000);
	t_cpu_set(cpu, RK_CPU_REG_X(12), RAM_IPA + 0x6000 + 0); /* node 0 is first (i = 0) */
	t_cpu_set(cpu, RK_CPU_REG_X(13), RAM_IPA + 0x7000);
	t_cpu_set(cpu, RK_CPU_REG_X(15), RAM_IPA + 0x7100);
	t_cpu_set(cpu, RK_CPU_REG_X(18), RAM_IPA + 0x7200);
	t_cpu_set(cpu, RK_CPU_REG_X(20), STOP_ITERS);
	t_cpu_set(cpu, RK_CPU_REG_X(22), RAM_IPA + 0x8000);
	t_cpu_set(cpu, RK_CPU_REG_X(23), RAM_IPA + 0xe000);
	t_cpu_set(cpu, RK_CPU_REG_PC, RAM_IPA);
}

struct rand_kicker {
	struct rk_cpu *cpu;
	volatile int stop; /* read by the kicker, written once by the test */
	pthread_mutex_t lock;
};

static void *rand_kick_thread(void *arg)
{
	struct rand_kicker *k = arg;
	unsigned seed = 12345;

	for (;;) {
		struct timespec ts;
		int stop;

		pthread_mutex_lock(&k->lock);
		stop = k->stop;
		pthread_mutex_unlock(&k->lock);
		if (stop)
			break;
		seed = seed * 1103515245u + 12345u;
		ts.tv_sec = 0;
		ts.tv_nsec = 10000 + (long)(seed >> 16) % 60000;
		nanosleep(&ts, NULL);
		rk_cpu_kick(k->cpu);
	}
	return NULL;
}

static void test_stops_are_exact(void **state)
{
	struct fx *f = *state;
	uint8_t *ref = malloc(RAM_SIZE);
	uint64_t xref[RK_CPU_NUM_GPRS], x[RK_CPU_NUM_GPRS], v;
	struct rand_kicker k = { .cpu = f->cpu };
	unsigned timeouts = 0, kicks = 0, round;
	struct rk_cpu_exit e, bad = { 0 };
	bool bad_exit = false, diverged = false;
	pthread_t th;

	assert_non_null(ref);
	/* Reference: one uninterrupted run. */
	stop_setup(f->cpu, f->ram);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(rk_cpu_get_gprs(f->cpu, xref), 0);
	memcpy(ref, f->ram, RAM_SIZE);
	memcpy(&v, ref + 0x7000, 8);
	assert_int_equal(v, STOP_ITERS); /* the atomic counter */
	assert_int_equal(xref[22], RAM_IPA + 0x8000 + 8 * STOP_ITERS);

	/* Interrupted runs. Failures are recorded and asserted only after the
	 * kicker thread is joined, so that it never outlives the vCPU. */
	assert_int_equal(pthread_mutex_init(&k.lock, NULL), 0);
	assert_int_equal(pthread_create(&th, NULL, rand_kick_thread, &k), 0);
	/* At least two rounds, and on until both kinds of stop were seen often
	 * enough (how many a round gets depends on the machine's load) */
	for (round = 0;
	     (round < 2 || timeouts == 0 || timeouts + kicks < 20) && round < 1000 && !bad_exit && !diverged;
	     round++) {
		stop_setup(f->cpu, f->ram);
		for (;;) {
			if (rk_cpu_run(f->cpu, 20, &e) != 0) {
				bad_exit = true;
				break;
			}
			if (e.reason == RK_CPU_EXIT_SMC)
				break;
			if (e.reason == RK_CPU_EXIT_TIMEOUT) {
				timeouts++;
			} else if (e.reason == RK_CPU_EXIT_KICK) {
				kicks++;
			} else {
				bad_exit = true;
				bad = e;
				break;
			}
		}
		if (!bad_exit)
			diverged = rk_cpu_get_gprs(f->cpu, x) != 0 || memcmp(x, xref, sizeof(x)) != 0 ||
				   memcmp(f->ram, ref, RAM_SIZE) != 0;
	}
	pthread_mutex_lock(&k.lock);
	k.stop = 1;
	pthread_mutex_unlock(&k.lock);
	assert_int_equal(pthread_join(th, NULL), 0);
	pthread_mutex_destroy(&k.lock);
	free(ref);
	if (bad_exit)
		fail_msg("exit %s at 0x%llx", rk_cpu_exit_reason_name(bad.reason),
			 (unsigned long long)bad.pc);
	assert_false(diverged);
	/* It was really cut up. */
	assert_true(timeouts + kicks >= 20);
	assert_true(timeouts > 0);
}

/*
 * Parking is invisible to the guest: the stop test's loop (pairs, SIMD
 * copies, exclusives, pointer chasing) parked in the middle of its first
 * iteration (at a data abort on its counter's page, which the test unmaps:
 * a point that does not depend on timing), then cut into slices with the
 * vCPU parked after every one, ends with the same registers and memory as
 * one uninterrupted run, and each park gave the engine back.
 */
static void test_park_is_invisible(void **state)
{
	struct fx *f = *state;
	uint8_t *ref = malloc(RAM_SIZE);
	uint64_t xref[RK_CPU_NUM_GPRS], x[RK_CPU_NUM_GPRS];
	struct rk_cpu_stats st0, st;
	struct rk_cpu_exit e;
	unsigned slices = 0;

	assert_non_null(ref);
	stop_setup(f->cpu, f->ram);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(rk_cpu_get_gprs(f->cpu, xref), 0);
	memcpy(ref, f->ram, RAM_SIZE);

	stop_setup(f->cpu, f->ram);
	rk_cpu_get_stats(f->cpu, &st0);
	assert_int_equal(rk_cpu_unmap(f->cpu, RAM_IPA + 0x7000, 4096), 0);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_DABT);
	assert_int_equal(e.mem.addr & ~0xfffull, RAM_IPA + 0x7000);
	assert_int_equal(rk_cpu_park(f->cpu), 0);
	assert_int_equal(rk_cpu_map(f->cpu, RAM_IPA + 0x7000, 4096, f->ram + 0x7000, RK_CPU_PROT_ALL), 0);
	for (;;) {
		assert_int_equal(rk_cpu_park(f->cpu), 0);
		assert_true(rk_cpu_is_parked(f->cpu));
		assert_int_equal(rk_cpu_park(f->cpu), 0); /* again: nothing to do */
		assert_int_equal(rk_cpu_run(f->cpu, 200, &e), 0);
		assert_false(rk_cpu_is_parked(f->cpu));
		if (e.reason == RK_CPU_EXIT_SMC)
			break;
		if (e.reason != RK_CPU_EXIT_TIMEOUT)
			fail_msg("exit %s at 0x%llx", rk_cpu_exit_reason_name(e.reason),
				 (unsigned long long)e.pc);
		slices++;
	}
	assert_int_equal(rk_cpu_get_gprs(f->cpu, x), 0);
	assert_memory_equal(x, xref, sizeof(x));
	assert_memory_equal(f->ram, ref, RAM_SIZE);
	rk_cpu_get_stats(f->cpu, &st);
	/* parked at the abort (still parked when the loop parks it first) and after each slice */
	assert_int_equal(st.parks - st0.parks, slices + 1);
	assert_int_equal(st.wakes - st0.wakes, slices + 1);
	free(ref);
}

/*
 * What a parked vCPU keeps: system registers (VBAR, SCTLR, SP_EL0/EL1,
 * TPIDR, MPIDR), a pending virtual IRQ, a pending kick, a memory map changed
 * while parked, the last exit's MMIO completion; any access wakes it.
 */
static void test_park_keeps_state(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_exit e;
	uint8_t *extra = aligned_alloc(4096, 4096);

	assert_non_null(extra);
	load_vectors(f);
	t_cpu_set(f->cpu, RK_CPU_REG_VBAR_EL1, VBAR);
	t_cpu_set(f->cpu, RK_CPU_REG_TPIDR_EL1, 0x1234);
	t_cpu_set(f->cpu, RK_CPU_REG_MPIDR_EL1, 0x80000003);
	t_cpu_set(f->cpu, RK_CPU_REG_SP_EL0, 0x8000e000);
	t_cpu_set(f->cpu, RK_CPU_REG_SP_EL1, 0x8000f000);
	assert_int_equal(rk_cpu_park(f->cpu), 0);
	/* a register read wakes it */
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_VBAR_EL1), VBAR);
	assert_false(rk_cpu_is_parked(f->cpu));
	assert_int_equal(rk_cpu_park(f->cpu), 0);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_TPIDR_EL1), 0x1234);
	assert_int_equal(rk_cpu_park(f->cpu), 0);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_MPIDR_EL1), 0x80000003);
	assert_int_equal(rk_cpu_park(f->cpu), 0);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_SP_EL0), 0x8000e000);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_SP_EL1), 0x8000f000);

	/* a virtual IRQ asserted before parking is taken after it */
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + 0x24); /* msr daifclr, #2; b . */
	assert_int_equal(rk_cpu_set_virq(f->cpu, true), 0);
	assert_int_equal(rk_cpu_park(f->cpu), 0);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(e.imm, 0x280);
	assert_int_equal(rk_cpu_set_virq(f->cpu, false), 0);

	/* a kick that arrives while parked ends the next run at once */
	assert_int_equal(rk_cpu_park(f->cpu), 0);
	rk_cpu_kick(f->cpu);
	assert_int_equal(rk_cpu_run(f->cpu, 0, &e), 0);
	assert_int_equal(e.reason, RK_CPU_EXIT_KICK);

	/* memory mapped while parked is there after; an MMIO load exit parked
	 * before its completion completes after */
	load(f, 0, p_misc, sizeof(p_misc) / 4);
	memset(extra, 0, 4096);
	extra[0] = 0x5a;
	assert_int_equal(rk_cpu_park(f->cpu), 0);
	assert_int_equal(rk_cpu_map(f->cpu, 0x90000000ull, 4096, extra, RK_CPU_PROT_ALL), 0);
	assert_true(rk_cpu_is_parked(f->cpu)); /* the map did not need the engine */
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), 0x90000000ull);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + P_LDR);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(1)), 0x5a);
	assert_int_equal(rk_cpu_unmap(f->cpu, 0x90000000ull, 4096), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + P_LDR);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_DABT);
	assert_int_equal(e.mem.addr, 0x90000000ull);
	assert_int_equal(rk_cpu_park(f->cpu), 0);
	assert_int_equal(rk_cpu_complete_mmio_read(f->cpu, 0x77), 0);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(1)), 0x77);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(e.pc, RAM_IPA + P_LDR + 8);

	assert_int_equal(rk_cpu_park(NULL), -EINVAL);
	assert_false(rk_cpu_is_parked(NULL));
	/* destroyed while parked (the fixture's teardown): nothing leaks (ASan) */
	assert_int_equal(rk_cpu_park(f->cpu), 0);
	free(extra);
}

/* Parking from inside the SMC handler is refused: the engine is running. */
static int park_result;
static bool park_in_hook(struct rk_cpu *cpu, uint16_t imm, struct rk_cpu_smc_ctx *ctx)
{
	(void)imm;
	(void)ctx;
	park_result = rk_cpu_park(cpu);
	return false;
}

static void test_park_busy(void **state)
{
	struct fx *f = *state;

	load(f, 0, p_misc, sizeof(p_misc) / 4);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + P_ONE);
	assert_int_equal(rk_cpu_set_smc_handler(f->cpu, park_in_hook, NULL), 0);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(park_result, -EBUSY);
	assert_false(rk_cpu_is_parked(f->cpu));
	assert_int_equal(rk_cpu_set_smc_handler(f->cpu, NULL, NULL), 0);
}

/*
 * A store that takes long inside the engine, between realmkit's store hook
 * and the engine's exit check after the store (Unicorn 2.0.1 allocates there;
 * under ASan a free() can drain the quarantine for tens of ms), while a stop
 * is wanted: the vCPU must still stop at an exact point. A second store hook,
 * which runs after realmkit's, kicks the vCPU and then burns CPU time; the
 * block must run once (x1 counts its executions).
 */
struct stall {
	struct rk_cpu *cpu;
	uint64_t addr;
	unsigned hits;
};

static double thread_cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void stall_hook(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *user)
{
	struct stall *s = user;
	double c0 = thread_cpu_s(), t0 = now_s();

	(void)uc;
	(void)type;
	(void)size;
	(void)value;
	if (addr != s->addr || s->hits++)
		return;
	rk_cpu_kick(s->cpu); /* the stop is wanted only now: realmkit's hook has run */
	/* longer than any CPU-time or wall-time grace a watchdog would give */
	while (thread_cpu_s() - c0 < 0.02 || now_s() - t0 < 0.1)
		;
}

static void test_stall_in_store(void **state)
{
	static const uint32_t p[] = {
		0x91000421, /* add x1, x1, #1 */
		0xf9000041, /* str x1, [x2] (stalls) */
		0x91000421, /* add x1, x1, #1 */
		0xf9000441, /* str x1, [x2, #8] */
		0xd4000003, /* smc #0 */
	};
	struct fx *f = *state;
	struct stall s = { .cpu = f->cpu, .addr = RAM_IPA + 0x8000 };
	struct rk_cpu_exit e;
	uint64_t v;
	uc_hook h;

	assert_int_equal(
		uc_hook_add(rk_cpu_engine(f->cpu), &h, UC_HOOK_MEM_WRITE, (void *)stall_hook, &s, 1, 0),
		UC_ERR_OK);
	load(f, 0, p, sizeof(p) / 4);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA);
	t_cpu_set(f->cpu, RK_CPU_REG_X(1), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), RAM_IPA + 0x8000);
	assert_int_equal(rk_cpu_run(f->cpu, 0, &e), 0);
	if (rk_cpu_mode(f->cpu) == RK_CPU_MODE_STAGE2) {
		/* no stops at accesses: the kick waits for the next block start,
		 * after the SMC that ends this one, and is taken by the next run */
		assert_int_equal(e.reason, RK_CPU_EXIT_SMC);
		assert_int_equal(rk_cpu_run(f->cpu, 0, &e), 0);
		assert_int_equal(e.reason, RK_CPU_EXIT_KICK);
		assert_int_equal(s.hits, 1);
	} else {
		assert_int_equal(e.reason, RK_CPU_EXIT_KICK);
		assert_int_equal(s.hits, 1);
		t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	}
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(1)), 2);
	memcpy(&v, f->ram + 0x8000, 8);
	assert_int_equal(v, 1);
	memcpy(&v, f->ram + 0x8008, 8);
	assert_int_equal(v, 2);
}

/* ------------------------------------------------------------------------ */

static void test_bad_args(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_exit e;
	struct rk_cpu_stats st;
	uint64_t v;
	uint8_t page[8192];

	assert_int_equal(rk_cpu_create(NULL), -EINVAL);
	rk_cpu_destroy(NULL);
	rk_cpu_kick(NULL);
	assert_int_equal(rk_cpu_run(NULL, 0, &e), -EINVAL);
	assert_int_equal(rk_cpu_run(f->cpu, 0, NULL), -EINVAL);
	assert_int_equal(rk_cpu_map(NULL, 0, 4096, page, 1), -EINVAL);
	assert_int_equal(rk_cpu_map(f->cpu, 0x1000, 4096, NULL, 1), -EINVAL);
	assert_int_equal(rk_cpu_map(f->cpu, 0x1001, 4096, page, 1), -EINVAL);
	assert_int_equal(rk_cpu_map(f->cpu, 0x1000, 4095, page, 1), -EINVAL);
	assert_int_equal(rk_cpu_map(f->cpu, 0x1000, 0, page, 1), -EINVAL);
	assert_int_equal(rk_cpu_map(f->cpu, 0x1000, 4096, page, 0), -EINVAL);
	assert_int_equal(rk_cpu_map(f->cpu, 0x1000, 4096, page, 8), -EINVAL);
	assert_int_equal(rk_cpu_map(f->cpu, 0xfffffffffffff000ull, 0x2000, page, 1), -EINVAL);
	/* guest memory stops at the CPU model's physical address range */
	assert_int_equal(rk_cpu_map(f->cpu, (1ull << RK_CPU_PA_BITS) - 4096, 8192, page, 1), -ERANGE);
	assert_int_equal(rk_cpu_map(f->cpu, 1ull << 46, 4096, page, 1), -ERANGE);
	assert_int_equal(rk_cpu_map(f->cpu, RAM_IPA + RAM_SIZE - 4096, 8192, page, 1), -EEXIST);
	assert_int_equal(rk_cpu_map(f->cpu, RAM_IPA - 4096, 8192, page, 1), -EEXIST);
	assert_int_equal(rk_cpu_unmap(f->cpu, 0x1001, 4096), -EINVAL);
	assert_int_equal(rk_cpu_unmap(f->cpu, 0x1000, 0), -EINVAL);
	assert_int_equal(rk_cpu_unmap(f->cpu, 0x1000, 4096), 0); /* nothing there */
	assert_false(rk_cpu_is_mapped(NULL, 0, 1));
	assert_false(rk_cpu_is_mapped(f->cpu, RAM_IPA, 0));
	assert_true(rk_cpu_is_mapped(f->cpu, RAM_IPA + 5, 10));
	assert_int_equal(rk_cpu_get_reg(f->cpu, RK_CPU_REG_COUNT, &v), -EINVAL);
	assert_int_equal(rk_cpu_get_reg(f->cpu, (enum rk_cpu_reg) - 1, &v), -EINVAL);
	assert_int_equal(rk_cpu_get_reg(f->cpu, RK_CPU_REG_PC, NULL), -EINVAL);
	assert_int_equal(rk_cpu_set_reg(f->cpu, RK_CPU_REG_COUNT, 0), -EINVAL);
	assert_int_equal(rk_cpu_set_reg(NULL, RK_CPU_REG_PC, 0), -EINVAL);
	assert_int_equal(rk_cpu_get_gprs(f->cpu, NULL), -EINVAL);
	assert_int_equal(rk_cpu_set_gprs(NULL, NULL), -EINVAL);
	assert_int_equal(rk_cpu_get_xregs(f->cpu, 0, 0, &v), -EINVAL);
	assert_int_equal(rk_cpu_get_xregs(f->cpu, 31, 1, &v), -EINVAL);
	assert_int_equal(rk_cpu_get_xregs(f->cpu, 30, 2, &v), -EINVAL);
	assert_int_equal(rk_cpu_get_xregs(f->cpu, 0, 1, NULL), -EINVAL);
	assert_int_equal(rk_cpu_set_xregs(f->cpu, 29, 3, &v), -EINVAL);
	assert_int_equal(rk_cpu_set_xregs(NULL, 0, 1, &v), -EINVAL);
	assert_int_equal(rk_cpu_set_xregs(f->cpu, 0xffffffffu, 2, &v), -EINVAL);
	assert_int_equal(rk_cpu_complete_mmio_read(f->cpu, 0), -EINVAL);
	assert_int_equal(rk_cpu_complete_mmio_write(f->cpu), -EINVAL);
	assert_int_equal(rk_cpu_inject_sync(NULL, 0, 0), -EINVAL);
	assert_int_equal(rk_cpu_set_virq(NULL, true), -EINVAL);
	assert_int_equal(rk_cpu_set_smc_handler(NULL, NULL, NULL), -EINVAL);
	assert_int_equal(rk_cpu_skip_insn(NULL), -EINVAL);
	assert_int_equal(rk_cpu_dabt_iss(NULL), 0);
	assert_string_equal(rk_cpu_exit_reason_name(RK_CPU_EXIT_DABT), "dabt");
	assert_string_equal(rk_cpu_exit_reason_name((enum rk_cpu_exit_reason)99), "?");
	rk_cpu_get_stats(NULL, &st);
	assert_int_equal(st.regions, 0);
	rk_cpu_get_stats(f->cpu, NULL);
}

static void test_decode(void **state)
{
	struct rk_cpu_ldst d;

	(void)state;
	assert_true(rk_cpu_decode_ldst(0xb9400444, &d)); /* ldr w4, [x2, #4] */
	assert_int_equal(d.size, 4);
	assert_true(d.is_load);
	assert_int_equal(d.rt, 4);
	assert_true(rk_cpu_decode_ldst(0x58000041, &d)); /* ldr x1, #8 (literal) */
	assert_int_equal(d.size, 8);
	assert_true(d.sf);
	assert_true(rk_cpu_decode_ldst(0x98000041, &d)); /* ldrsw x1, #8 */
	assert_true(d.sse);
	assert_true(d.sf);
	assert_true(rk_cpu_decode_ldst(0x38a16841, &d)); /* ldrsb x1, [x2, x1] */
	assert_true(d.sse);
	assert_true(rk_cpu_decode_ldst(0xb8400841, &d));  /* ldtr w1, [x2] */
	assert_false(rk_cpu_decode_ldst(0xf8408441, &d)); /* ldr x1, [x2], #8 */
	assert_false(rk_cpu_decode_ldst(0xf8408c41, &d)); /* ldr x1, [x2, #8]! */
	assert_false(rk_cpu_decode_ldst(0xa9400c41, &d)); /* ldp x1, x3, [x2] */
	assert_false(rk_cpu_decode_ldst(0xc85f7c41, &d)); /* ldxr x1, [x2] */
	assert_false(rk_cpu_decode_ldst(0xf8200041, &d)); /* ldadd x0, x1, [x2] */
	assert_false(rk_cpu_decode_ldst(0x3d400441, &d)); /* ldr b1, [x2, #1] */
	assert_false(rk_cpu_decode_ldst(0xf9800040, &d)); /* prfm pldl1keep, [x2] */
	assert_false(rk_cpu_decode_ldst(0xd503201f, &d)); /* nop */
	assert_int_equal(rk_cpu_ldst_extend(0x80, 1, true, false), 0xffffff80);
	assert_int_equal(rk_cpu_ldst_extend(0x80, 1, true, true), 0xffffffffffffff80ull);
	assert_int_equal(rk_cpu_ldst_extend(0x1234567880, 1, false, true), 0x80);
	assert_int_equal(rk_cpu_ldst_extend(0xffffffffffffffffull, 8, true, false), 0xffffffff);
	assert_int_equal(rk_cpu_ldst_extend(5, 0, false, true), 0);
}

struct resume_case {
	uint32_t insn;
	bool is_write;
	enum rk_cpu_resume want;
	const char *what;
};

static void test_resume_classifier(void **state)
{
	const enum rk_cpu_resume N = RK_CPU_RESUME_NONE, R = RK_CPU_RESUME_REEXEC, C = RK_CPU_RESUME_COMPLETE,
				 F = RK_CPU_RESUME_REEXEC_FIRST;
	const struct resume_case c[] = {
		{ 0xa94039d0, false, F, "ldp x16, x14, [x14] (Rt2 == Rn): first access only" },
		{ 0xa8c139d0, false, N, "ldp x16, x14, [x14], #16 (UNPREDICTABLE)" },
		{ 0xa9400400, false, R, "ldp x0, x1, [x0] (Rt via a temporary)" },
		{ 0xa8c10400, false, N, "ldp x0, x1, [x0], #16 (UNPREDICTABLE)" },
		{ 0xa8c11003, false, R, "ldp x3, x4, [x0], #16" },
		{ 0xa8810400, true, R, "stp x0, x1, [x0], #16" },
		{ 0xad400400, false, R, "ldp q0, q1, [x0]" },
		{ 0xc8097da8, true, N, "stxr w9, x8, [x13] (store)" },
		{ 0xc8097da8, false, R, "stxr w9, x8, [x13] (its load)" },
		{ 0xc809fda8, true, N, "stlxr" },
		{ 0xc8240861, true, N, "stxp" },
		{ 0xc85ffda8, false, R, "ldaxr x8, [x13]" },
		{ 0xc87f0861, false, R, "ldxp x1, x2, [x3]" },
		{ 0xc89ffc41, true, R, "stlr x1, [x2]" },
		{ 0xc89ffc41, false, N, "stlr as a load" },
		{ 0xc8dffc00, false, C, "ldar x0, [x0]" },
		{ 0xc8dffc00, true, N, "ldar as a store" },
		{ 0xf8408400, false, N, "ldr x0, [x0], #8 (UNPREDICTABLE)" },
		{ 0xf8408401, false, R, "ldr x1, [x0], #8" },
		{ 0xf8606820, false, C, "ldr x0, [x1, x0]" },
		{ 0xf8626820, false, R, "ldr x0, [x1, x2]" },
		{ 0xf94000a5, false, C, "ldr x5, [x5]" },
		{ 0xb9800442, false, C, "ldrsw x2, [x2, #4]" },
		{ 0x39800231, false, C, "ldrsb x17, [x17]" },
		{ 0xf8400863, false, C, "ldtr x3, [x3]" },
		{ 0xb9400be0, false, R, "ldr w0, [sp, #8] (Rn = SP)" },
		{ 0xf940001f, false, R, "ldr xzr, [x0]" },
		{ 0xf900001f, true, R, "str xzr, [x0]" },
		{ 0xf80086d5, true, R, "str x21, [x22], #8" },
		{ 0x58000200, false, R, "ldr x0, literal" },
		{ 0x3dc00000, false, R, "ldr q0, [x0]" },
		{ 0x3c810c00, true, R, "str q0, [x0, #16]!" },
		{ 0x4cdf0800, false, R, "ld4 {v0.4s-v3.4s}, [x0], #64" },
		{ 0x4d008441, true, R, "st1 {v1.d}[1], [x2]" },
		{ 0xf9800000, false, N, "prfm" },
		{ 0xd50b7420, true, N, "dc zva" },
		{ 0xf8200041, false, N, "ldadd (LSE)" },
		{ 0x91000400, false, N, "add" },
	};
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (rk_cpu_resume_after_access(c[i].insn, c[i].is_write) != c[i].want)
			fail_msg("%s: got %d, want %d", c[i].what,
				 rk_cpu_resume_after_access(c[i].insn, c[i].is_write), c[i].want);
	/* First access of a pair: base + imm7 * size, or the base (post-index). */
	assert_int_equal(rk_cpu_pair_first_addr(0xa94039d0, 0x1000), 0x1000); /* [x14] */
	assert_int_equal(rk_cpu_pair_first_addr(0xa97f39d0, 0x1000), 0x0ff0); /* [x14, #-16] */
	assert_int_equal(rk_cpu_pair_first_addr(0xa94139d0, 0x1000), 0x1010); /* [x14, #16] */
	assert_int_equal(rk_cpu_pair_first_addr(0x294139d0, 0x1000), 0x1008); /* w, #8 */
	assert_int_equal(rk_cpu_pair_first_addr(0xa8c11003, 0x1000), 0x1000); /* post */
	assert_int_equal(rk_cpu_pair_first_addr(0xa9c11003, 0x1000), 0x1010); /* pre #16 */
	assert_int_equal(rk_cpu_pair_first_addr(0xad410400, 0x1000), 0x1020); /* q, #32 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_resume_classifier),
		cmocka_unit_test_setup_teardown(test_smc_exit_and_writeback, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_smc_noimm_handler, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_mmio_store, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_mmio_load, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_wfi_hvc_undef, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_sea_svc_undef_injection, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_virq_and_el1t, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_timeout, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_kick, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_mpidr_iabt, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_dc_zva_trapped, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_precise_pc_pairs, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_region_limit, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_coalesce_and_growth, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_no_stale_code, fx_setup, fx_teardown),
		cmocka_unit_test(test_two_threads),
		cmocka_unit_test_setup_teardown(test_stops_are_exact, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_park_is_invisible, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_park_keeps_state, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_park_busy, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_stall_in_store, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_args, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
