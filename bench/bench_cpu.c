/* SPDX-License-Identifier: MIT */
/*
 * bench_cpu: the rk_cpu backend against raw Unicorn 2.0.1, in the same run.
 *
 *   guest loops:  integer, store, load   rk_cpu vs raw Unicorn (no hooks); the store
 *                 loop also on raw Unicorn with one empty UC_HOOK_MEM_WRITE hook (the
 *                 floor for any backend that needs a callback per store); and
 *                 rk_cpu in stage-2 mode vs a raw engine with the same regime
 *                 (HCR_EL2.VM, the same VTCR_EL2, 2 MiB stage-2 blocks), with the
 *                 guest's MMU off and on (4 KiB pages), each with a TLB-miss
 *                 loop too (a load from another of 1024 pages every iteration)
 *   SMC:          raw hook (handled in the hook, no stop) vs
 *                 rk_cpu SMC handler (in the hook; also the no-immediate handler with
 *                 batched register windows the RMM's RSI fast path uses) and
 *                 rk_cpu exit + rk_cpu_run round trip (with and without a
 *                 time slice), and raw Unicorn stop + uc_emu_start
 *
 * The store loop also on a raw engine before realmkit's first engine opens:
 * Unicorn as Debian ships it, every store on its slow path (cpu_ucfix.c).
 *
 * Each figure is the best of several trials (the machine is shared).
 * Usage: bench_cpu [scale]   (scale 1 = default sizes; 0.1 for a quick run)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unicorn/unicorn.h>

#include "realmkit/cpu.h"
#include "platform/cpu/cpu_ucfix.h"
#include "platform/cpu/cpu_unicorn.h"

#define RAM_IPA 0x80000000ull
#define RAM_SIZE 0x800000ull /* 8 MiB: code, data, the TLB loop's 4 MiB, page tables */
#define DATA_IPA (RAM_IPA + 0x100000)
#define TRIALS 3

static const uint32_t payload[] = {
	0x91000400, /* 0x00 1: add x0, x0, #0x1 */
	0x8b000042, /* 0x04 add x2, x2, x0 */
	0xf1000421, /* 0x08 subs x1, x1, #0x1 */
	0x54ffffa1, /* 0x0c b.ne 1b */
	0xd4000003, /* 0x10 smc #0x0 */
	0xf9000060, /* 0x14 2: str x0, [x3] */
	0xf9000462, /* 0x18 str x2, [x3, #8] */
	0xf1000421, /* 0x1c subs x1, x1, #0x1 */
	0x54ffffa1, /* 0x20 b.ne 2b */
	0xd4000003, /* 0x24 smc #0x0 */
	0xf9400064, /* 0x28 3: ldr x4, [x3] */
	0xf9400465, /* 0x2c ldr x5, [x3, #8] */
	0xf1000421, /* 0x30 subs x1, x1, #0x1 */
	0x54ffffa1, /* 0x34 b.ne 3b */
	0xd4000003, /* 0x38 smc #0x0 */
	0xd4000003, /* 0x3c 4: smc #0x0 */
	0xf1000421, /* 0x40 subs x1, x1, #0x1 */
	0x54ffffc1, /* 0x44 b.ne 4b */
	0xd4000002, /* 0x48 hvc #0x0 */
	0xf8636924, /* 0x4c 5: ldr x4, [x9, x3] */
	0x91400463, /* 0x50 add x3, x3, #0x1, lsl #12 */
	0x92405463, /* 0x54 and x3, x3, #0x3fffff */
	0xf1000421, /* 0x58 subs x1, x1, #0x1 */
	0x54ffff81, /* 0x5c b.ne 5b */
	0xd4000003, /* 0x60 smc #0x0 */
	0xd518200a, /* 0x64 msr ttbr0_el1, x10 */
	0xd518204b, /* 0x68 msr tcr_el1, x11 */
	0xd518a20c, /* 0x6c msr mair_el1, x12 */
	0xd5033fdf, /* 0x70 isb */
	0xd5381000, /* 0x74 mrs x0, sctlr_el1 */
	0xb2400000, /* 0x78 orr x0, x0, #1 */
	0xd5181000, /* 0x7c msr sctlr_el1, x0 */
	0xd5033fdf, /* 0x80 isb */
	0xd4000003, /* 0x84 smc #0x0 */
};
#define P_INT 0x00
#define P_STORE 0x14
#define P_LOAD 0x28
#define P_SMC 0x3c
#define P_TLB 0x4c    /* a load from another 4 KiB page each iteration: 1024 pages, a TLB miss each */
#define P_MMU_ON 0x64 /* identity-maps the RAM with 4 KiB pages and turns the guest's MMU on */
#define TLB_BASE (RAM_IPA + 0x100000)
#define PT_OFF 0x600000ull /* L1, L2, then four L3 tables */
#define MMU_TCR (25ull | 1ull << 8 | 1ull << 10 | 3ull << 12 | 1ull << 23 | 4ull << 32)

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint8_t *new_ram(void)
{
	/* 2 MiB-aligned: rk_cpu's shadow stage 2 maps it with 2 MiB blocks, as the raw engine's does */
	uint8_t *ram = aligned_alloc(2u << 20, RAM_SIZE);

	if (!ram) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	memset(ram, 0, RAM_SIZE);
	memcpy(ram, payload, sizeof(payload)); /* little-endian host */
	/* the guest's stage 1 (used once P_MMU_ON ran): VA == IPA over the RAM, 4 KiB pages */
	{
		uint64_t d = (RAM_IPA + PT_OFF + 0x1000) | 3;

		memcpy(ram + PT_OFF + 8 * 2, &d, 8);
		for (unsigned i = 0; i < RAM_SIZE >> 21; i++) {
			d = (RAM_IPA + PT_OFF + 0x2000 + 0x1000ull * i) | 3;
			memcpy(ram + PT_OFF + 0x1000 + 8 * i, &d, 8);
		}
		for (unsigned i = 0; i < RAM_SIZE >> 12; i++) {
			d = (RAM_IPA + 0x1000ull * i) | 0x703;
			memcpy(ram + PT_OFF + 0x2000 + 8 * i, &d, 8);
		}
	}
	return ram;
}

/* ---- raw Unicorn -------------------------------------------------------- */

struct raw {
	uc_engine *uc;
	uint8_t *ram;
	bool handle_smc; /* complete SMCs inside the hook */
};

static void raw_intr(uc_engine *uc, uint32_t intno, void *user)
{
	struct raw *r = user;

	if (intno == RK_UC_EXCP_SMC && r->handle_smc) {
		uint64_t x0 = 0;

		uc_reg_write(uc, UC_ARM64_REG_X0, &x0);
		return;
	}
	uc_emu_stop(uc);
}

static void empty_write_hook(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
			     void *user)
{
	(void)uc, (void)type, (void)addr, (void)size, (void)value, (void)user;
}

static void raw_open(struct raw *r, bool write_hook)
{
	uc_hook h;

	memset(r, 0, sizeof(*r));
	r->ram = new_ram();
	if (uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &r->uc) != UC_ERR_OK ||
	    uc_mem_map_ptr(r->uc, RAM_IPA, RAM_SIZE, UC_PROT_ALL, r->ram) != UC_ERR_OK ||
	    uc_hook_add(r->uc, &h, UC_HOOK_INTR, (void *)raw_intr, r, 1, 0) != UC_ERR_OK ||
	    (write_hook &&
	     uc_hook_add(r->uc, &h, UC_HOOK_MEM_WRITE, (void *)empty_write_hook, r, 1, 0) != UC_ERR_OK)) {
		fprintf(stderr, "unicorn setup failed\n");
		exit(1);
	}
}

static uint64_t raw_mmio_read(uc_engine *uc, uint64_t off, unsigned size, void *user)
{
	(void)uc, (void)off, (void)size, (void)user;
	fprintf(stderr, "raw stage-2 engine: shadow read\n");
	exit(1);
}

static void raw_mmio_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t v, void *user)
{
	(void)uc, (void)off, (void)size, (void)v, (void)user;
	fprintf(stderr, "raw stage-2 engine: shadow write\n");
	exit(1);
}

static void raw_cp_write(uc_engine *uc, int op0, int op1, int crn, int crm, int op2, uint64_t v)
{
	uc_arm64_cp_reg r = { .crn = (uint32_t)crn,
			      .crm = (uint32_t)crm,
			      .op0 = (uint32_t)op0,
			      .op1 = (uint32_t)op1,
			      .op2 = (uint32_t)op2,
			      .val = v };

	if (uc_reg_write(uc, UC_ARM64_REG_CP_REG, &r) != UC_ERR_OK) {
		fprintf(stderr, "raw stage-2 engine: sysreg write failed\n");
		exit(1);
	}
}

/*
 * Raw Unicorn with the regime of rk_cpu's stage-2 mode: RAM at PA 0x40000000,
 * stage 2 (44-bit IPA, start level 0) mapping IPA 0x80000000 there with
 * 2 MiB blocks (the tables rk_cpu builds for this 2 MiB-aligned RAM), shadow
 * MMIO regions over every other address, entered at NS EL1 by an eret. No
 * hooks but the exception hook.
 */
#define RAW_S2_RAM_PA 0x40000000ull
#define RAW_S2_TT_PA 0x50000000ull
static void raw_open_s2(struct raw *r)
{
	static const uint64_t shadows[][2] = {
		{ 0, RAW_S2_RAM_PA },
		{ RAW_S2_RAM_PA + RAM_SIZE, RAW_S2_TT_PA - RAW_S2_RAM_PA - RAM_SIZE },
		{ RAW_S2_TT_PA + 0x10000, (1ull << 48) - RAW_S2_TT_PA - 0x10000 },
		{ 1ull << 48, 0xffff000000000000ull - (1ull << 48) },
		{ 0xffff000000000000ull, 1ull << 48 },
	};
	uint64_t l0 = (RAW_S2_TT_PA + 0x1000) | 3, l1 = (RAW_S2_TT_PA + 0x2000) | 3;
	uint32_t eret = 0xd69f03e0;
	uc_hook h;

	memset(r, 0, sizeof(*r));
	r->ram = new_ram();
	if (uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &r->uc) != UC_ERR_OK ||
	    uc_mem_map_ptr(r->uc, RAW_S2_RAM_PA, RAM_SIZE, UC_PROT_ALL, r->ram) != UC_ERR_OK ||
	    uc_mem_map(r->uc, RAW_S2_TT_PA, 0x10000, UC_PROT_ALL) != UC_ERR_OK ||
	    uc_mem_write(r->uc, RAW_S2_TT_PA, &l0, 8) != UC_ERR_OK ||
	    uc_mem_write(r->uc, RAW_S2_TT_PA + 0x1000 + 8 * 2, &l1, 8) != UC_ERR_OK ||
	    uc_mem_write(r->uc, RAW_S2_TT_PA + 0x3000, &eret, 4) != UC_ERR_OK ||
	    uc_hook_add(r->uc, &h, UC_HOOK_INTR, (void *)raw_intr, r, 1, 0) != UC_ERR_OK) {
		fprintf(stderr, "unicorn setup failed\n");
		exit(1);
	}
	for (uint64_t i = 0; i < RAM_SIZE >> 21; i++) {
		/* stage-2 2 MiB block: valid, MemAttr WB, S2AP RW, SH IS, AF (bit 54 XN clear) */
		uint64_t l2 =
			(RAW_S2_RAM_PA + (i << 21)) | 1 | 0xfull << 2 | 3ull << 6 | 3ull << 8 | 1ull << 10;

		if (uc_mem_write(r->uc, RAW_S2_TT_PA + 0x2000 + 8 * i, &l2, 8) != UC_ERR_OK) {
			fprintf(stderr, "unicorn setup failed\n");
			exit(1);
		}
	}
	for (unsigned i = 0; i < sizeof(shadows) / sizeof(shadows[0]); i++)
		if (uc_mmio_map(r->uc, shadows[i][0], shadows[i][1], raw_mmio_read, NULL, raw_mmio_write,
				NULL) != UC_ERR_OK ||
		    uc_mem_protect(r->uc, shadows[i][0], shadows[i][1], UC_PROT_ALL) != UC_ERR_OK) {
			fprintf(stderr, "unicorn shadow setup failed\n");
			exit(1);
		}
	raw_cp_write(r->uc, SYSREG_SCR_EL3, SCR_EL3_NS | SCR_EL3_RW | SCR_EL3_HCE);
	raw_cp_write(r->uc, SYSREG_VTCR_EL2,
		     20ull | 2ull << 6 | 1ull << 8 | 1ull << 10 | 3ull << 12 | 4ull << 16);
	raw_cp_write(r->uc, SYSREG_VTTBR_EL2, RAW_S2_TT_PA | 1ull << 48);
	raw_cp_write(r->uc, SYSREG_HCR_EL2, HCR_EL2_RW | HCR_EL2_VM);
	/* eret to the HVC at the end of the payload: NS EL1 under stage 2, then a stop */
	{
		uint64_t elr = RAM_IPA + 0x48;

		uc_reg_write(r->uc, UC_ARM64_REG_ELR_EL1, &elr);
		raw_cp_write(r->uc, SYSREG_SPSR_EL1, 0x3c5);
		if (uc_emu_start(r->uc, RAW_S2_TT_PA + 0x3000, 0, 0, 0) != UC_ERR_OK) {
			fprintf(stderr, "raw stage-2 engine: eret failed\n");
			exit(1);
		}
	}
}

/* Run P_MMU_ON: the guest's MMU on, RAM identity-mapped with 4 KiB pages. */
static void raw_mmu_on(struct raw *r)
{
	uint64_t x10 = RAM_IPA + PT_OFF, x11 = MMU_TCR, x12 = 0xff;
	uc_arm64_cp_reg sctlr = { .crn = 1, .crm = 0, .op0 = 3, .op1 = 0, .op2 = 0, .val = 0 };

	uc_reg_write(r->uc, UC_ARM64_REG_X10, &x10);
	uc_reg_write(r->uc, UC_ARM64_REG_X11, &x11);
	uc_reg_write(r->uc, UC_ARM64_REG_X12, &x12);
	r->handle_smc = false;
	if (uc_emu_start(r->uc, RAM_IPA + P_MMU_ON, 0, 0, 0) != UC_ERR_OK ||
	    uc_reg_read(r->uc, UC_ARM64_REG_CP_REG, &sctlr) != UC_ERR_OK || !(sctlr.val & 1)) {
		fprintf(stderr, "raw engine: the guest MMU did not turn on\n");
		exit(1);
	}
}

static void raw_close(struct raw *r)
{
	uc_close(r->uc);
	free(r->ram);
}

static double raw_loop(struct raw *r, uint64_t off, uint64_t n)
{
	uint64_t x3 = DATA_IPA, zero = 0;
	double t;

	uint64_t x9 = TLB_BASE;

	if (off == P_TLB)
		x3 = 0;
	uc_reg_write(r->uc, UC_ARM64_REG_X1, &n);
	uc_reg_write(r->uc, UC_ARM64_REG_X3, &x3);
	uc_reg_write(r->uc, UC_ARM64_REG_X9, &x9);
	uc_reg_write(r->uc, UC_ARM64_REG_X0, &zero);
	t = now_s();
	if (uc_emu_start(r->uc, RAM_IPA + off, 0, 0, 0) != UC_ERR_OK) {
		fprintf(stderr, "raw run failed\n");
		exit(1);
	}
	return now_s() - t;
}

/* ---- rk_cpu ------------------------------------------------------------- */

struct rk_cpu_smc_ctx {
	uint64_t calls;
};

static bool smc_fast(struct rk_cpu *cpu, uint16_t imm, struct rk_cpu_smc_ctx *ctx)
{
	ctx->calls++;
	return rk_cpu_set_reg(cpu, RK_CPU_REG_X0, 0) == 0;
}

/* As the RMM's RSI fast path: no immediate, registers in batched windows. */
static bool smc_fast_noimm(struct rk_cpu *cpu, uint16_t imm, struct rk_cpu_smc_ctx *ctx)
{
	uint64_t x[2];

	(void)imm;
	ctx->calls++;
	if (rk_cpu_get_xregs(cpu, 0, 2, x))
		return false;
	x[0] = 0;
	return rk_cpu_set_xregs(cpu, 0, 2, x) == 0;
}

struct rk {
	struct rk_cpu *cpu;
	uint8_t *ram;
};

static void rk_open(struct rk *r, enum rk_cpu_mode mode)
{
	rk_cpu_set_default_mode(mode);
	r->ram = new_ram();
	if (rk_cpu_create(&r->cpu) || rk_cpu_map(r->cpu, RAM_IPA, RAM_SIZE, r->ram, RK_CPU_PROT_ALL)) {
		fprintf(stderr, "rk_cpu setup failed\n");
		exit(1);
	}
}

static void rk_mmu_on(struct rk *r)
{
	struct rk_cpu_exit e;
	uint64_t sctlr = 0;

	rk_cpu_set_reg(r->cpu, RK_CPU_REG_X(10), RAM_IPA + PT_OFF);
	rk_cpu_set_reg(r->cpu, RK_CPU_REG_X(11), MMU_TCR);
	rk_cpu_set_reg(r->cpu, RK_CPU_REG_X(12), 0xff);
	rk_cpu_set_reg(r->cpu, RK_CPU_REG_PC, RAM_IPA + P_MMU_ON);
	if (rk_cpu_run(r->cpu, 0, &e) || e.reason != RK_CPU_EXIT_SMC ||
	    rk_cpu_get_reg(r->cpu, RK_CPU_REG_SCTLR_EL1, &sctlr) || !(sctlr & 1)) {
		fprintf(stderr, "rk_cpu: the guest MMU did not turn on\n");
		exit(1);
	}
}

static void rk_close(struct rk *r)
{
	rk_cpu_destroy(r->cpu);
	free(r->ram);
}

static double rk_loop(struct rk *r, uint64_t off, uint64_t n, enum rk_cpu_exit_reason want)
{
	struct rk_cpu_exit e;
	double t;

	rk_cpu_set_reg(r->cpu, RK_CPU_REG_X(1), n);
	rk_cpu_set_reg(r->cpu, RK_CPU_REG_X(3), off == P_TLB ? 0 : DATA_IPA);
	rk_cpu_set_reg(r->cpu, RK_CPU_REG_X(9), TLB_BASE);
	rk_cpu_set_reg(r->cpu, RK_CPU_REG_X(0), 0);
	rk_cpu_set_reg(r->cpu, RK_CPU_REG_PC, RAM_IPA + off);
	t = now_s();
	if (rk_cpu_run(r->cpu, 0, &e) || e.reason != want) {
		fprintf(stderr, "rk_cpu run: %s\n", rk_cpu_exit_reason_name(e.reason));
		exit(1);
	}
	return now_s() - t;
}

/* n SMCs, each a full exit: rk_cpu_run returns, the "RMM" writes x0, runs. */
static double rk_smc_exits(struct rk *r, uint64_t n, uint64_t slice_us)
{
	struct rk_cpu_exit e;
	double t;

	rk_cpu_set_reg(r->cpu, RK_CPU_REG_X(1), n);
	rk_cpu_set_reg(r->cpu, RK_CPU_REG_PC, RAM_IPA + P_SMC);
	t = now_s();
	for (;;) {
		if (rk_cpu_run(r->cpu, slice_us, &e))
			exit(1);
		if (e.reason == RK_CPU_EXIT_HVC)
			break;
		if (e.reason == RK_CPU_EXIT_TIMEOUT)
			continue; /* the slice ran out (a preempted thread): go on */
		if (e.reason != RK_CPU_EXIT_SMC) {
			fprintf(stderr, "unexpected %s\n", rk_cpu_exit_reason_name(e.reason));
			exit(1);
		}
		rk_cpu_set_reg(r->cpu, RK_CPU_REG_X0, 0);
	}
	return now_s() - t;
}

/* n SMCs, each stopping raw Unicorn: uc_emu_stop in the hook, uc_emu_start. */
static double raw_smc_exits(struct raw *r, uint64_t n)
{
	uint64_t pc = RAM_IPA + P_SMC, x0 = 0;
	uint32_t insn;
	double t;

	r->handle_smc = false;
	uc_reg_write(r->uc, UC_ARM64_REG_X1, &n);
	t = now_s();
	for (;;) {
		if (uc_emu_start(r->uc, pc, 0, 0, 0) != UC_ERR_OK)
			exit(1);
		uc_reg_read(r->uc, UC_ARM64_REG_PC, &pc);
		insn = 0;
		uc_mem_read(r->uc, pc - 4, &insn, 4);
		if (insn != 0xd4000003)
			break; /* the HVC (UNDEF on this raw engine: PC on it) */
		uc_reg_write(r->uc, UC_ARM64_REG_X0, &x0);
	}
	return now_s() - t;
}

/* ---- report ------------------------------------------------------------- */

static double best(double a, double b)
{
	return a < b ? a : b;
}

int main(int argc, char **argv)
{
	double scale = argc > 1 ? atof(argv[1]) : 1.0;
	uint64_t n_int = (uint64_t)(100e6 * scale), n_mem = (uint64_t)(4e6 * scale);
	uint64_t n_ld = (uint64_t)(20e6 * scale), n_smc = (uint64_t)(2e6 * scale);
	uint64_t n_exit = (uint64_t)(300e3 * scale), n_tlb = (uint64_t)(2e6 * scale);
	double ri = 1e9, rs = 1e9, rl = 1e9, ki = 1e9, ks = 1e9, kl = 1e9, hs = 1e9;
	double rsmc = 1e9, ksmc = 1e9, knsmc = 1e9, kexit = 1e9, kexit_slice = 1e9, rexit = 1e9;
	double ss = 1e9; /* the store loop on Unicorn as shipped */
	/* stage-2 mode, [MMU off, on][integer, store, load, TLB miss]: raw engine, rk_cpu */
	double s2raw[2][4], s2rk[2][4];
	uint64_t s2n[4];
	static const uint64_t s2off[4] = { P_INT, P_STORE, P_LOAD, P_TLB };
	static const char *const s2name[4] = { "integer loop", "store loop", "load loop",
					       "TLB-miss loop (1 LDR/iter, 1024 pages)" };
	struct rk_cpu_smc_ctx ctx = { 0 };
	struct raw raw, hooked, shipped, raws2[2];
	struct rk rk, rks2[2];
	int t;

	if (scale <= 0 || n_exit == 0) {
		fprintf(stderr, "usage: %s [scale > 0]\n", argv[0]);
		return 2;
	}
	s2n[0] = n_int;
	s2n[1] = n_mem;
	s2n[2] = n_ld;
	s2n[3] = n_tlb;
	for (int m = 0; m < 2; m++)
		for (int w = 0; w < 4; w++)
			s2raw[m][w] = s2rk[m][w] = 1e9;
	/* Unicorn's store path as Debian ships it: before realmkit's first engine
	 * switches it (cpu_ucfix.c), which then applies to every engine here. */
	raw_open(&shipped, false);
	raw_loop(&shipped, P_STORE, 1000);
	for (t = 0; t < TRIALS; t++)
		ss = best(ss, raw_loop(&shipped, P_STORE, n_mem));
	raw_close(&shipped);
	raw_open(&raw, false);
	raw_open(&hooked, true);
	rk_open(&rk, RK_CPU_MODE_HOOKS);
	for (int m = 0; m < 2; m++) {
		raw_open_s2(&raws2[m]);
		rk_open(&rks2[m], RK_CPU_MODE_STAGE2);
		if (m) {
			raw_mmu_on(&raws2[m]);
			rk_mmu_on(&rks2[m]);
		}
	}
	/* Warm up translation caches. */
	raw_loop(&raw, P_INT, 1000);
	rk_loop(&rk, P_INT, 1000, RK_CPU_EXIT_SMC);
	for (int m = 0; m < 2; m++)
		for (int w = 0; w < 4; w++) {
			raw_loop(&raws2[m], s2off[w], 1000);
			rk_loop(&rks2[m], s2off[w], 1000, RK_CPU_EXIT_SMC);
		}

	for (t = 0; t < TRIALS; t++) {
		ri = best(ri, raw_loop(&raw, P_INT, n_int));
		ki = best(ki, rk_loop(&rk, P_INT, n_int, RK_CPU_EXIT_SMC));
		rs = best(rs, raw_loop(&raw, P_STORE, n_mem));
		ks = best(ks, rk_loop(&rk, P_STORE, n_mem, RK_CPU_EXIT_SMC));
		hs = best(hs, raw_loop(&hooked, P_STORE, n_mem));
		rl = best(rl, raw_loop(&raw, P_LOAD, n_ld));
		kl = best(kl, rk_loop(&rk, P_LOAD, n_ld, RK_CPU_EXIT_SMC));
		for (int m = 0; m < 2; m++)
			for (int w = 0; w < 4; w++) {
				s2raw[m][w] = best(s2raw[m][w], raw_loop(&raws2[m], s2off[w], s2n[w]));
				s2rk[m][w] = best(s2rk[m][w],
						  rk_loop(&rks2[m], s2off[w], s2n[w], RK_CPU_EXIT_SMC));
			}

		raw.handle_smc = true;
		rsmc = best(rsmc, raw_loop(&raw, P_SMC, n_smc));
		raw.handle_smc = false;
		rk_cpu_set_smc_handler(rk.cpu, smc_fast, &ctx);
		ksmc = best(ksmc, rk_loop(&rk, P_SMC, n_smc, RK_CPU_EXIT_HVC));
		rk_cpu_set_smc_handler_noimm(rk.cpu, smc_fast_noimm, &ctx);
		knsmc = best(knsmc, rk_loop(&rk, P_SMC, n_smc, RK_CPU_EXIT_HVC));
		rk_cpu_set_smc_handler(rk.cpu, NULL, NULL);
		kexit = best(kexit, rk_smc_exits(&rk, n_exit, 0));
		kexit_slice = best(kexit_slice, rk_smc_exits(&rk, n_exit, 10000));
		rexit = best(rexit, raw_smc_exits(&raw, n_exit));
	}

	printf("# bench_cpu (rk_cpu on Unicorn 2.0.1 vs raw Unicorn, best of %d)\n", TRIALS);
	printf("# stores: %s (the raw engines below share it)\n", rk_ucfix_reason());
	printf("| workload | raw Unicorn | rk_cpu | rk_cpu / raw speed |\n");
	printf("|---|---|---|---|\n");
	printf("| store loop (2 x STR/iter): Unicorn as shipped vs with realmkit's fast stores, raw | %.2f ns/iter "
	       "(as shipped) | %.2f ns/iter | %.0f%% |\n",
	       ss * 1e9 / (double)n_mem, rs * 1e9 / (double)n_mem, 100.0 * ss / rs);
	printf("| integer loop (4 insns/iter) | %.2f ns/iter | %.2f ns/iter | %.0f%% |\n",
	       ri * 1e9 / (double)n_int, ki * 1e9 / (double)n_int, 100.0 * ri / ki);
	printf("| store loop (2 x STR/iter) | %.2f ns/iter | %.2f ns/iter | %.0f%% |\n",
	       rs * 1e9 / (double)n_mem, ks * 1e9 / (double)n_mem, 100.0 * rs / ks);
	printf("| store loop, raw + empty write hook | %.2f ns/iter | %.2f ns/iter (hooked raw) | %.0f%% |\n",
	       rs * 1e9 / (double)n_mem, hs * 1e9 / (double)n_mem, 100.0 * rs / hs);
	printf("| load loop (2 x LDR/iter) | %.2f ns/iter | %.2f ns/iter | %.0f%% |\n",
	       rl * 1e9 / (double)n_ld, kl * 1e9 / (double)n_ld, 100.0 * rl / kl);
	for (int m = 0; m < 2; m++)
		for (int w = 0; w < 4; w++)
			printf("| stage-2 mode, guest MMU %s: %s | %.2f ns/iter (raw, same regime) | %.2f ns/iter | %.0f%% |\n",
			       m ? "on" : "off", s2name[w], s2raw[m][w] * 1e9 / (double)s2n[w],
			       s2rk[m][w] * 1e9 / (double)s2n[w], 100.0 * s2raw[m][w] / s2rk[m][w]);
	printf("| SMC completed in the hook | %.1f ns/SMC | %.1f ns/SMC | %.0f%% |\n",
	       rsmc * 1e9 / (double)n_smc, ksmc * 1e9 / (double)n_smc, 100.0 * rsmc / ksmc);
	printf("| SMC completed in a no-imm handler (2 regs in, 2 out, batched) | %.1f ns/SMC | %.1f ns/SMC | %.0f%% |\n",
	       rsmc * 1e9 / (double)n_smc, knsmc * 1e9 / (double)n_smc, 100.0 * rsmc / knsmc);
	printf("| SMC as an exit, no time slice | %.1f ns/SMC (stop+start) | %.1f ns/SMC | %.0f%% |\n",
	       rexit * 1e9 / (double)n_exit, kexit * 1e9 / (double)n_exit, 100.0 * rexit / kexit);
	printf("| SMC as an exit, 10 ms slice | | %.1f ns/SMC | %.0f%% |\n",
	       kexit_slice * 1e9 / (double)n_exit, 100.0 * rexit / kexit_slice);
	printf("| SMC exit vs raw in-hook SMC | %.1f ns/SMC | %.1f ns/SMC | %.0f%% |\n",
	       rsmc * 1e9 / (double)n_smc, kexit * 1e9 / (double)n_exit,
	       100.0 * (rsmc / (double)n_smc) / (kexit / (double)n_exit));
	rk_close(&rk);
	for (int m = 0; m < 2; m++) {
		rk_close(&rks2[m]);
		raw_close(&raws2[m]);
	}
	raw_close(&hooked);
	raw_close(&raw);
	return ctx.calls == 0;
}
