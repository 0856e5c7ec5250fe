/* SPDX-License-Identifier: MIT */
/*
 * bench_run: realm execution through the host's run loop, against the same
 * guest code on the raw CPU backends, all measured in the same run:
 *
 *   integer, store, load loop  realm (REC_ENTER, 2 ms time slices) and normal VM
 *                              (host-owned engine) vs rk_cpu and raw Unicorn 2.0.1
 *   RSI round trip             RSI_VERSION answered by the RMM inside the realm vs an
 *                              SMC completed in a raw Unicorn hook / rk_cpu SMC handler
 *   MMIO exit round trip       a store to an emulated device: realm (exit to the host,
 *                              EMULATED_MMIO, enter) and normal VM vs rk_cpu exit +
 *                              rk_cpu_complete_mmio_write + rk_cpu_run
 *   IPI ping-pong              2 vCPUs (vCPU 1 by PSCI CPU_ON) bounce SGI 1 through the
 *                              vGIC, WFI + ICC_IAR1/EOIR1: realm vs normal VM
 *   UART IRQ echo              the host feeds the PL011 (rk_vm_uart_input), the guest takes
 *                              SPI 33 and writes the byte back, the console callback sees it
 *                              and the next byte is fed: realm vs normal VM
 *   hello realm lifecycle      build (create, populate, RECs, activate), run to
 *                              SYSTEM_OFF, tear down; and the same with machine + host
 *
 * Guest loops are timed between two host calls the guest makes around them,
 * so building and tearing down are not counted; every backend starts the same
 * program at the same entry (the loops right after the start mark's SMC), so
 * the engine translates the same blocks in the same order.
 *
 * Same conditions for every column: each trial runs on a fresh engine on a
 * fresh thread (raw Unicorn and rk_cpu on a thread of their own, the realm
 * and normal VM on the vCPU thread rk_vm_run creates), and the trials of the
 * four columns are interleaved, so drift of the machine hits all of them
 * alike. This matters for stores: Unicorn 2.0.1 allocates and frees memory on
 * every guest store, and glibc's allocator is a few percent slower on a
 * thread's arena than on the main thread's. Each figure is the best of
 * TRIALS: on the 2-core EPYC VM this was measured on, a tight loop runs at one
 * of two speeds (~1.5 or ~5.2 ns per iteration for the integer loop) from one
 * engine to the next, raw Unicorn included; the best trial is the engine's
 * real cost.
 *
 *   bench_run [scale [workload... | mode...]]   (scale 1 = default sizes; 0.1 for a
 *                            quick run; workloads: int store load rsi mmio ipi irq hello;
 *                            modes: hooks stage2, the vCPU backend's mode of every
 *                            column, both by default. In stage-2 mode the raw column
 *                            is a raw engine with the same regime: HCR_EL2.VM,
 *                            2 MiB stage-2 blocks, guest MMU off)
 */
#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unicorn/unicorn.h>

#include "realmkit/guest_abi.h"
#include "realmkit/cpu.h"
#include "platform/cpu/cpu_unicorn.h"
#include "realmkit/arch/psci.h"
#include "realmkit/host.h"
#include "realmkit/arch/gic.h"
#include "../tests/support/a64.h"

#define MIB ((uint64_t)1 << 20)
#define RAM RK_GUEST_RAM_BASE
#define RAM_SIZE (4 * MIB)
#define HC_IPA (RAM + 0x1000)
#define DATA_IPA (RAM + 2 * MIB) /* a 2 MiB block of its own: mapped as one by the host */
#define MMIO_IPA (RK_GUEST_UNPROT_BASE + 0x01000000ULL)
#define TRIALS 11

/* ---- the guest program: x2 = loop, x3 = data or MMIO address, x4 = iterations ---- */

enum { L_INT, L_STORE, L_LOAD, L_RSI, L_MMIO, L_COUNT };
static const char *const loop_keys[L_COUNT] = { "int", "store", "load", "rsi", "mmio" };
static const char *const loop_names[L_COUNT] = { "integer loop", "store loop", "load loop", "RSI_VERSION",
						 "MMIO store" };

/* The vCPU backend's mode of every column (stage-2 mode: raw Unicorn with the same regime). */
static enum rk_cpu_mode mode;

static uint32_t prog[1024];     /* realm / normal VM: host call, loop, host call, SYSTEM_OFF */
static uint32_t raw_prog[1024]; /* raw backends: the loops end in HVC */
static uint32_t loop_off[L_COUNT];

static uint32_t movz(unsigned rd, uint16_t imm, unsigned hw)
{
	return 0xD2800000u | (hw << 21) | ((uint32_t)imm << 5) | rd;
}
static uint32_t movk(unsigned rd, uint16_t imm, unsigned hw)
{
	return 0xF2800000u | (hw << 21) | ((uint32_t)imm << 5) | rd;
}
static uint32_t mov(unsigned rd, unsigned rm)
{
	return 0xAA0003E0u | (rm << 16) | rd;
}
static uint32_t b(int32_t words)
{
	return 0x14000000u | ((uint32_t)words & 0x3ffffffu);
}
static uint32_t bne(int32_t words)
{
	return 0x54000001u | (((uint32_t)words & 0x7ffffu) << 5);
}
#define SMC 0xD4000003u
#define HVC 0xD4000002u

static size_t mov64(uint32_t *p, unsigned rd, uint64_t v)
{
	p[0] = movz(rd, (uint16_t)v, 0);
	p[1] = movk(rd, (uint16_t)(v >> 16), 1);
	p[2] = movk(rd, (uint16_t)(v >> 32), 2);
	p[3] = movk(rd, (uint16_t)(v >> 48), 3);
	return 4;
}

static uint32_t entry_off[L_COUNT]; /* realm / normal VM: the host call that starts loop l */

/*
 * Per loop: x11 = x3, x9 = x4, host call (the start mark), the loop, b done.
 * The loop starts right after the SMC, so the realm resumes into it exactly as
 * the raw backends start it (PC = the loop): the same translated block.
 */
static void build_programs(void)
{
	size_t n = 0, done, fix[L_COUNT];

	/* done: host call (end mark), SYSTEM_OFF */
	done = n;
	n += mov64(prog + n, 0, RSI_FID_HOST_CALL);
	n += mov64(prog + n, 1, HC_IPA);
	prog[n++] = SMC;
	n += mov64(prog + n, 0, PSCI_SYSTEM_OFF);
	prog[n++] = SMC;
	prog[n++] = b(0);

	for (int l = 0; l < L_COUNT; l++) {
		entry_off[l] = (uint32_t)n * 4;
		prog[n++] = mov(11, 3);
		prog[n++] = mov(9, 4);
		n += mov64(prog + n, 0, RSI_FID_HOST_CALL);
		n += mov64(prog + n, 1, HC_IPA);
		prog[n++] = SMC;
		loop_off[l] = (uint32_t)n * 4;
		switch (l) {
		case L_INT:
			prog[n++] = 0x9100054Au; /* add x10, x10, #1 */
			prog[n++] = 0x8B0A018Cu; /* add x12, x12, x10 */
			prog[n++] = 0xF1000529u; /* subs x9, x9, #1 */
			prog[n++] = bne(-3);
			break;
		case L_STORE:
			prog[n++] = 0xF900016Au; /* str x10, [x11] */
			prog[n++] = 0xF900056Cu; /* str x12, [x11, #8] */
			prog[n++] = 0xF1000529u;
			prog[n++] = bne(-3);
			break;
		case L_LOAD:
			prog[n++] = 0xF940016Du; /* ldr x13, [x11] */
			prog[n++] = 0xF940056Eu; /* ldr x14, [x11, #8] */
			prog[n++] = 0xF1000529u;
			prog[n++] = bne(-3);
			break;
		case L_RSI:
			prog[n++] = movz(0, (uint16_t)RSI_FID_VERSION, 0);
			prog[n++] = movk(0, (uint16_t)(RSI_FID_VERSION >> 16), 1);
			prog[n++] = movz(1, 1, 1); /* x1 = 0x10000: RSI 1.0 */
			prog[n++] = SMC;
			prog[n++] = 0xF1000529u;
			prog[n++] = bne(-5);
			break;
		default:                         /* L_MMIO */
			prog[n++] = 0xB900016Au; /* str w10, [x11] */
			prog[n++] = 0xF1000529u;
			prog[n++] = bne(-2);
			break;
		}
		fix[l] = n++;
	}
	memcpy(raw_prog, prog, sizeof(prog));
	for (int l = 0; l < L_COUNT; l++) {
		prog[fix[l]] = b((int32_t)done - (int32_t)fix[l]);
		raw_prog[fix[l]] = HVC;
	}
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_run: %s\n", what);
	exit(1);
}

static int cmp_double(const void *a, const void *b);

/* ---- raw Unicorn ---- */

struct raw {
	uc_engine *uc;
	uint8_t *ram;
};

static void raw_intr(uc_engine *uc, uint32_t intno, void *user)
{
	(void)user;
	if (intno == RK_UC_EXCP_SMC) { /* complete it in the hook: x0 = 0 */
		uint64_t x0 = 0;
		uc_reg_write(uc, UC_ARM64_REG_X0, &x0);
		return;
	}
	uc_emu_stop(uc);
}

static uint64_t raw_mmio_read(uc_engine *uc, uint64_t off, unsigned size, void *user)
{
	(void)uc, (void)off, (void)size, (void)user;
	die("raw stage-2 engine: shadow read");
	return 0;
}

static void raw_mmio_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t v, void *user)
{
	(void)uc, (void)off, (void)size, (void)v, (void)user;
	die("raw stage-2 engine: shadow write");
}

static void raw_cp_write(uc_engine *uc, int op0, int op1, int crn, int crm, int op2, uint64_t v)
{
	uc_arm64_cp_reg r = { .crn = (uint32_t)crn,
			      .crm = (uint32_t)crm,
			      .op0 = (uint32_t)op0,
			      .op1 = (uint32_t)op1,
			      .op2 = (uint32_t)op2,
			      .val = v };

	if (uc_reg_write(uc, UC_ARM64_REG_CP_REG, &r) != UC_ERR_OK)
		die("raw stage-2 engine: sysreg write failed");
}

/*
 * The regime of rk_cpu's stage-2 mode on a raw engine (as bench_cpu's): RAM at
 * PA 0x40000000, a stage 2 (44-bit IPA, start level 0) mapping it at RAM with
 * 2 MiB blocks, shadow MMIO regions over every other address; the run enters
 * NS EL1 by an eret at *start. Returns the trampoline's address.
 */
#define RAW_S2_RAM_PA 0x40000000ull
#define RAW_S2_TT_PA 0x50000000ull
static uint64_t raw_setup_s2(struct raw *r, uint64_t entry)
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

	if (uc_mem_map_ptr(r->uc, RAW_S2_RAM_PA, RAM_SIZE, UC_PROT_ALL, r->ram) != UC_ERR_OK ||
	    uc_mem_map(r->uc, RAW_S2_TT_PA, 0x10000, UC_PROT_ALL) != UC_ERR_OK ||
	    uc_mem_write(r->uc, RAW_S2_TT_PA, &l0, 8) != UC_ERR_OK ||
	    uc_mem_write(r->uc, RAW_S2_TT_PA + 0x1000 + 8 * (RAM >> 30), &l1, 8) != UC_ERR_OK ||
	    uc_mem_write(r->uc, RAW_S2_TT_PA + 0x3000, &eret, 4) != UC_ERR_OK)
		die("unicorn setup failed");
	for (uint64_t i = 0; i < RAM_SIZE >> 21; i++) {
		/* 2 MiB block: valid, MemAttr WB, S2AP RW, SH IS, AF */
		uint64_t l2 =
			(RAW_S2_RAM_PA + (i << 21)) | 1 | 0xfull << 2 | 3ull << 6 | 3ull << 8 | 1ull << 10;

		if (uc_mem_write(r->uc, RAW_S2_TT_PA + 0x2000 + 8 * (((RAM >> 21) & 511) + i), &l2, 8) !=
		    UC_ERR_OK)
			die("unicorn setup failed");
	}
	for (unsigned i = 0; i < sizeof(shadows) / sizeof(shadows[0]); i++)
		if (uc_mmio_map(r->uc, shadows[i][0], shadows[i][1], raw_mmio_read, NULL, raw_mmio_write,
				NULL) != UC_ERR_OK ||
		    uc_mem_protect(r->uc, shadows[i][0], shadows[i][1], UC_PROT_ALL) != UC_ERR_OK)
			die("unicorn shadow setup failed");
	raw_cp_write(r->uc, SYSREG_SCR_EL3, SCR_EL3_NS | SCR_EL3_RW | SCR_EL3_HCE);
	raw_cp_write(r->uc, SYSREG_VTCR_EL2,
		     20ull | 2ull << 6 | 1ull << 8 | 1ull << 10 | 3ull << 12 | 4ull << 16);
	raw_cp_write(r->uc, SYSREG_VTTBR_EL2, RAW_S2_TT_PA | 1ull << 48);
	raw_cp_write(r->uc, SYSREG_HCR_EL2, HCR_EL2_RW | HCR_EL2_VM);
	raw_cp_write(r->uc, SYSREG_SPSR_EL1, 0x3c5);
	uc_reg_write(r->uc, UC_ARM64_REG_ELR_EL1, &entry);
	return RAW_S2_TT_PA + 0x3000;
}

static double raw_run(int loop, uint64_t n)
{
	struct raw r;
	uc_hook hk;
	uint64_t x9 = n, x11 = DATA_IPA, start = RAM + entry_off[loop];
	double t;

	r.ram = aligned_alloc(2 * MIB, RAM_SIZE);
	if (!r.ram)
		die("out of memory");
	memset(r.ram, 0, RAM_SIZE);
	memcpy(r.ram, raw_prog, sizeof(raw_prog));
	if (uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &r.uc) != UC_ERR_OK ||
	    uc_hook_add(r.uc, &hk, UC_HOOK_INTR, (void *)raw_intr, &r, 1, 0) != UC_ERR_OK)
		die("unicorn setup failed");
	if (mode == RK_CPU_MODE_STAGE2)
		start = raw_setup_s2(&r, start);
	else if (uc_mem_map_ptr(r.uc, RAM, RAM_SIZE, UC_PROT_ALL, r.ram) != UC_ERR_OK)
		die("unicorn setup failed");
	/* from the entry, as the realm runs it (its SMC completed in the hook): the same blocks translated
	 * in the same order, so the host code of the loop sits where it does in the realm's engine */
	uc_reg_write(r.uc, UC_ARM64_REG_X4, &x9);
	uc_reg_write(r.uc, UC_ARM64_REG_X3, &x11);
	t = now_s();
	if (uc_emu_start(r.uc, start, 0, 0, 0) != UC_ERR_OK)
		die("raw run failed");
	t = now_s() - t;
	uc_close(r.uc);
	free(r.ram);
	return t;
}

/* ---- rk_cpu ---- */

struct rk_cpu_smc_ctx {
	uint64_t calls;
};

static bool smc_fast(struct rk_cpu *cpu, uint16_t imm, struct rk_cpu_smc_ctx *ctx)
{
	(void)imm;
	ctx->calls++;
	return rk_cpu_set_reg(cpu, RK_CPU_REG_X0, 0) == 0;
}

static double rk_run(int loop, uint64_t n)
{
	struct rk_cpu_smc_ctx ctx = { 0 };
	struct rk_cpu *cpu = NULL;
	struct rk_cpu_exit e;
	uint8_t *ram = aligned_alloc(2 * MIB, RAM_SIZE); /* stage-2 mode: 2 MiB blocks, as the raw engine's */
	double t = 0;

	if (!ram || rk_cpu_create(&cpu))
		die("rk_cpu setup failed");
	memset(ram, 0, RAM_SIZE);
	memcpy(ram, raw_prog, sizeof(raw_prog));
	if (rk_cpu_map(cpu, RAM, RAM_SIZE, ram, RK_CPU_PROT_ALL))
		die("rk_cpu map failed");
	rk_cpu_set_smc_handler(cpu, smc_fast, &ctx);
	{ /* from the entry, as the realm (see raw_run) */
		rk_cpu_set_reg(cpu, RK_CPU_REG_X(4), n);
		rk_cpu_set_reg(cpu, RK_CPU_REG_X(3), loop == L_MMIO ? MMIO_IPA : DATA_IPA);
		rk_cpu_set_reg(cpu, RK_CPU_REG_PC, RAM + entry_off[loop]);
		t = now_s();
		for (;;) {
			if (rk_cpu_run(cpu, 0, &e))
				die("rk_cpu_run failed");
			if (e.reason == RK_CPU_EXIT_HVC)
				break;
			if (e.reason != RK_CPU_EXIT_DABT || rk_cpu_complete_mmio_write(cpu))
				die("rk_cpu: unexpected exit");
		}
		t = now_s() - t;
	}
	rk_cpu_destroy(cpu);
	free(ram);
	return t;
}

/* ---- realm and normal VM through the host ---- */

struct marks {
	double t[2];
	int n;
};

static int mark(void *arg, struct rk_vm *vm, uint32_t vcpu, uint32_t imm, uint64_t g[31])
{
	struct marks *mk = arg;

	(void)vm;
	(void)vcpu;
	(void)imm;
	memset(g, 0, 31 * sizeof(uint64_t));
	if (mk->n < 2)
		mk->t[mk->n++] = now_s();
	return 0;
}

static int null_read(void *arg, uint32_t vcpu, uint64_t off, uint32_t size, uint64_t *v)
{
	(void)arg, (void)vcpu, (void)off, (void)size;
	*v = 0;
	return 0;
}

static int null_write(void *arg, uint32_t vcpu, uint64_t off, uint32_t size, uint64_t v)
{
	(void)arg, (void)vcpu, (void)off, (void)size, (void)v;
	return 0;
}

static const struct rk_mmio_ops null_dev = { null_read, null_write };

static struct rk_host *host;

static double vm_run(enum rk_vm_kind kind, int loop, uint64_t n, uint64_t *entries)
{
	struct rk_plan_memslot slot = { RAM, RAM_SIZE, 0, 0 };
	struct rk_plan_load load = { RAM, prog, sizeof(prog), RK_POPULATE_MEASURE, 0 };
	struct rk_vcpu_config vc;
	struct rk_vm_plan plan;
	struct rk_vm_run_info info;
	struct marks mk = { { 0, 0 }, 0 };
	struct rk_vm *vm;

	memset(&vc, 0, sizeof(vc));
	vc.pc = RAM + entry_off[loop];
	vc.flags = RK_VCPU_RUNNABLE;
	vc.gprs[3] = loop == L_MMIO ? MMIO_IPA : DATA_IPA;
	vc.gprs[4] = n;
	memset(&plan, 0, sizeof(plan));
	rk_vm_config_default(&plan.config, kind);
	plan.memslots = &slot;
	plan.nmemslots = 1;
	plan.loads = &load;
	plan.nloads = 1;
	plan.vcpus = &vc;
	plan.nvcpus = 1;
	if (rk_vm_create_from_plan(host, &plan, &vm) ||
	    rk_vm_add_mmio(vm, MMIO_IPA, 0x1000, &null_dev, NULL) || rk_vm_activate(vm))
		die(rk_host_last_error(host)->msg);
	rk_vm_set_host_call_handler(vm, mark, &mk);
	if (rk_vm_run(vm, 0) || mk.n != 2)
		die(rk_host_last_error(host)->msg);
	rk_vm_get_run_info(vm, &info);
	if (entries)
		*entries = info.entries;
	if (rk_vm_destroy(vm))
		die(rk_host_last_error(host)->msg);
	rk_vm_free(vm);
	return mk.t[1] - mk.t[0];
}

/* ---- interrupts: IPI ping-pong and UART echo, realm vs normal VM ---- */

/*
 * Both guests keep PSTATE.I masked (as they start) and have no vectors: a
 * vCPU waits for an interrupt with WFI (which wakes on a pending interrupt
 * whether or not it is masked), then takes it with ICC_IAR1_EL1 and drops it
 * with ICC_EOIR1_EL1. So each round trip goes through the whole delivery
 * path (the vGIC makes it pending, the sleeping vCPU is woken and enters with
 * it in a list register, the acknowledge) except the vector entry.
 *
 *   ipi: vCPU 0 sends SGI 1 to vCPU 1 (ICC_SGI1R_EL1), which takes it and
 *        answers with SGI 1 to vCPU 0; x4 round trips between the marks.
 *        Every acknowledged INTID is checked (a wrong one: SYSTEM_OFF
 *        without the end mark, and bench_run fails).
 *   irq: the host feeds '\n' to the PL011 (rk_vm_uart_input, from a feeder
 *        thread: the console callback may not feed); the guest (UARTIMSC
 *        RXIM, SPI 33) takes the interrupt, reads UARTDR, writes the byte
 *        back; the host's console callback sees the line and wakes the
 *        feeder for the next byte; x4 round trips between the marks.
 */
enum { X_IPI, X_IRQ, X_COUNT };
static const char *const irq_keys[X_COUNT] = { "ipi", "irq" };
static uint32_t irq_prog[X_COUNT][512];

#define A64_COND_HS 0x2u
#define ICC_SRE_EL1_R A64_SYSREG(3, 0, 12, 12, 5)
#define ICC_PMR_EL1_R A64_SYSREG(3, 0, 4, 6, 0)
#define ICC_IGRPEN1_EL1_R A64_SYSREG(3, 0, 12, 12, 7)
#define ICC_IAR1_EL1_R A64_SYSREG(3, 0, 12, 12, 0)
#define ICC_EOIR1_EL1_R A64_SYSREG(3, 0, 12, 12, 1)
#define ICC_SGI1R_EL1_R A64_SYSREG(3, 0, 12, 11, 5)
#define IPI_SGI 1u

static size_t emit_host_call(uint32_t *p)
{
	size_t n = 0;

	n += mov64(p + n, 0, RSI_FID_HOST_CALL);
	n += mov64(p + n, 1, HC_IPA);
	p[n++] = SMC;
	return n;
}

/* The distributor on (ARE, EnableGrp1), SPIs 32-63 group 1, SPI 33 enabled and routed to vCPU 0. */
static size_t emit_gicd_init(uint32_t *p, bool uart_spi)
{
	size_t n = 0;

	n += mov64(p + n, 20, RK_GUEST_GICD_IPA);
	p[n++] = movz(1, GICD_CTLR_ARE | GICD_CTLR_ENABLEGRP1, 0);
	p[n++] = a64_ldst(A64_OP_STRW, 2, 1, 20, GICD_CTLR);
	if (uart_spi) {
		n += mov64(p + n, 1, 0xffffffffu);
		p[n++] = a64_ldst(A64_OP_STRW, 2, 1, 20, GICD_IGROUPR + 4);
		p[n++] = a64_ldst(A64_OP_STRX, 3, 31, 20, GICD_IROUTER + 8 * (32 + RK_GUEST_UART_SPI));
		p[n++] = movz(1, 1u << RK_GUEST_UART_SPI, 0);
		p[n++] = a64_ldst(A64_OP_STRW, 2, 1, 20, GICD_ISENABLER + 4);
	}
	return n;
}

/* vCPU cpu's redistributor awake, SGIs/PPIs group 1 and enabled; the CPU interface on. */
static size_t emit_cpu_init(uint32_t *p, unsigned cpu)
{
	uint64_t rd = RK_GUEST_GICR_IPA + cpu * RK_GUEST_GICR_STRIDE;
	size_t n = 0;

	n += mov64(p + n, 20, rd);
	p[n++] = a64_ldst(A64_OP_STRW, 2, 31, 20, GICR_WAKER); /* ProcessorSleep off */
	p[n++] = a64_ldst(A64_OP_LDRW, 2, 1, 20, GICR_WAKER);  /* wait for ChildrenAsleep clear */
	p[n++] = 0x121E0021u;                                  /* and w1, w1, #4 */
	p[n++] = a64_cbnz(1, -2);
	n += mov64(p + n, 20, rd + GICR_SGI_BASE);
	n += mov64(p + n, 1, 0xffffffffu);
	p[n++] = a64_ldst(A64_OP_STRW, 2, 1, 20, GICR_IGROUPR0);
	p[n++] = a64_ldst(A64_OP_STRW, 2, 1, 20, GICR_ISENABLER0);
	p[n++] = movz(1, 7, 0); /* SRE, DFB, DIB */
	p[n++] = a64_msr(ICC_SRE_EL1_R, 1);
	p[n++] = A64_ISB;
	p[n++] = movz(1, 0xf0, 0);
	p[n++] = a64_msr(ICC_PMR_EL1_R, 1);
	p[n++] = movz(1, 1, 0);
	p[n++] = a64_msr(ICC_IGRPEN1_EL1_R, 1);
	p[n++] = A64_ISB;
	return n;
}

/* WFI until an interrupt is acknowledged: its INTID in x1 (not yet EOId). */
static size_t emit_wait(uint32_t *p)
{
	size_t n = 0;

	p[n++] = A64_WFI;
	p[n++] = a64_mrs(1, ICC_IAR1_EL1_R);
	p[n++] = a64_subs_imm(31, 1, 1020); /* cmp x1, #1020: a special INTID (spurious) */
	p[n++] = a64_bcond(A64_COND_HS, -3);
	return n;
}

/* x1 must be intid; else SYSTEM_OFF without the end mark, which the host reports as a failure. */
static size_t emit_expect(uint32_t *p, unsigned intid)
{
	size_t n = 0;

	p[n++] = a64_subs_imm(31, 1, intid);
	p[n++] = a64_bcond(A64_COND_EQ, 7);
	n += mov64(p + n, 0, PSCI_SYSTEM_OFF);
	p[n++] = SMC;
	p[n++] = b(0);
	return n;
}

static size_t emit_sgi(uint32_t *p, unsigned target)
{
	size_t n = 0;

	n += mov64(p + n, 2, (uint64_t)IPI_SGI << 24 | 1u << target);
	p[n++] = a64_msr(ICC_SGI1R_EL1_R, 2);
	return n;
}

static size_t emit_end(uint32_t *p)
{
	size_t n = emit_host_call(p);

	n += mov64(p + n, 0, PSCI_SYSTEM_OFF);
	p[n++] = SMC;
	p[n++] = b(0);
	return n;
}

static uint32_t ipi_secondary_off;

static void build_irq_programs(void)
{
	uint32_t *p = irq_prog[X_IPI];
	size_t n = 0, loop;

	/* vCPU 0 */
	p[n++] = mov(9, 4);
	n += emit_gicd_init(p + n, false);
	n += emit_cpu_init(p + n, 0);
	n += mov64(p + n, 0, PSCI_CPU_ON_64);
	n += mov64(p + n, 1, 1); /* MPIDR of vCPU 1 */
	n += mov64(p + n, 2, 0); /* patched below: vCPU 1's entry */
	n += mov64(p + n, 3, 0);
	p[n++] = SMC;
	n += emit_wait(p + n); /* vCPU 1 is up */
	p[n++] = a64_msr(ICC_EOIR1_EL1_R, 1);
	n += emit_host_call(p + n); /* start mark */
	loop = n;
	n += emit_sgi(p + n, 1);
	n += emit_wait(p + n);
	n += emit_expect(p + n, IPI_SGI);
	p[n++] = a64_msr(ICC_EOIR1_EL1_R, 1);
	p[n++] = a64_subs_imm(9, 9, 1);
	p[n] = bne((int32_t)loop - (int32_t)n);
	n++;
	n += emit_end(p + n); /* end mark, SYSTEM_OFF */
	/* vCPU 1 */
	ipi_secondary_off = (uint32_t)n * 4;
	n += emit_cpu_init(p + n, 1);
	n += emit_sgi(p + n, 0); /* up */
	loop = n;
	n += emit_wait(p + n);
	n += emit_expect(p + n, IPI_SGI);
	p[n++] = a64_msr(ICC_EOIR1_EL1_R, 1);
	n += emit_sgi(p + n, 0);
	p[n] = b((int32_t)loop - (int32_t)n);
	n++;
	if (n > sizeof(irq_prog[0]) / 4)
		die("ipi program too long");
	{ /* x2 = RAM + ipi_secondary_off: its mov64 follows x0's and x1's */
		size_t at = 1;

		while (p[at] != movz(2, 0, 0))
			at++;
		mov64(p + at, 2, RAM + ipi_secondary_off);
	}

	/* UART echo on vCPU 0 */
	p = irq_prog[X_IRQ];
	n = 0;
	p[n++] = mov(9, 4);
	n += emit_gicd_init(p + n, true);
	n += emit_cpu_init(p + n, 0);
	n += mov64(p + n, 22, RK_GUEST_UART_IPA);
	p[n++] = movz(1, 1u << 4, 0);                    /* UARTIMSC.RXIM */
	p[n++] = a64_ldst(A64_OP_STRW, 2, 1, 22, 0x038); /* UARTIMSC */
	n += emit_host_call(p + n);                      /* start mark: the host feeds the first byte */
	loop = n;
	n += emit_wait(p + n);
	n += emit_expect(p + n, 32 + RK_GUEST_UART_SPI);
	p[n++] = a64_ldst(A64_OP_LDRW, 2, 2, 22, 0); /* UARTDR: the RX interrupt drops */
	p[n++] = a64_ldst(A64_OP_STRW, 2, 2, 22, 0); /* and back */
	p[n++] = a64_msr(ICC_EOIR1_EL1_R, 1);
	p[n++] = a64_subs_imm(9, 9, 1);
	p[n] = bne((int32_t)loop - (int32_t)n);
	n++;
	n += emit_end(p + n);
}

struct echo {
	struct rk_vm *vm;
	sem_t feed;
	volatile bool stop;
	double t[2];
	int marks;
	uint64_t lines;
};

static void echo_out(void *arg, const char *buf, size_t len)
{
	struct echo *e = arg;

	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n') {
			e->lines++;
			sem_post(&e->feed);
		}
}

static int echo_mark(void *arg, struct rk_vm *vm, uint32_t vcpu, uint32_t imm, uint64_t g[31])
{
	struct echo *e = arg;

	(void)vm, (void)vcpu, (void)imm;
	memset(g, 0, 31 * sizeof(uint64_t));
	if (e->marks < 2)
		e->t[e->marks++] = now_s();
	if (e->marks == 2)
		e->stop = true;
	sem_post(&e->feed); /* the first byte; at the end, the feeder's exit */
	return 0;
}

static void *feeder(void *arg)
{
	struct echo *e = arg;

	for (;;) {
		size_t taken;

		while (sem_wait(&e->feed))
			;
		if (e->stop)
			return NULL;
		if (rk_vm_uart_input(e->vm, RK_GUEST_UART_IPA, "\n", 1, &taken))
			die("rk_vm_uart_input failed");
	}
}

static double irq_run(enum rk_vm_kind kind, int x, uint64_t n)
{
	struct rk_plan_memslot slot = { RAM, RAM_SIZE, 0, 0 };
	struct rk_plan_load load = { RAM, irq_prog[x], sizeof(irq_prog[x]), RK_POPULATE_MEASURE, 0 };
	struct rk_vcpu_config vc[2];
	struct rk_vm_plan plan;
	struct marks mk = { { 0, 0 }, 0 };
	struct echo e;
	pthread_t th;
	struct rk_vm *vm;
	double t;

	memset(vc, 0, sizeof(vc));
	memset(&e, 0, sizeof(e));
	vc[0].pc = RAM;
	vc[0].flags = RK_VCPU_RUNNABLE;
	vc[0].gprs[4] = n;
	memset(&plan, 0, sizeof(plan));
	rk_vm_config_default(&plan.config, kind);
	plan.memslots = &slot;
	plan.nmemslots = 1;
	plan.loads = &load;
	plan.nloads = 1;
	plan.vcpus = vc;
	plan.nvcpus = x == X_IPI ? 2 : 1;
	if (rk_vm_create_from_plan(host, &plan, &vm))
		die(rk_host_last_error(host)->msg);
	if (x == X_IRQ) {
		e.vm = vm;
		if (sem_init(&e.feed, 0, 0) || rk_vm_add_uart(vm, RK_GUEST_UART_IPA, echo_out, &e))
			die("uart setup failed");
	}
	if (rk_vm_activate(vm))
		die(rk_host_last_error(host)->msg);
	if (x == X_IPI) {
		rk_vm_set_host_call_handler(vm, mark, &mk);
		if (rk_vm_run(vm, 0))
			die(rk_host_last_error(host)->msg);
		if (mk.n != 2)
			die("ipi: the guest acknowledged an unexpected INTID");
		t = mk.t[1] - mk.t[0];
	} else {
		rk_vm_set_host_call_handler(vm, echo_mark, &e);
		if (pthread_create(&th, NULL, feeder, &e))
			die("cannot create a thread");
		if (rk_vm_run(vm, 0))
			die(rk_host_last_error(host)->msg);
		e.stop = true; /* the feeder's exit, whatever the guest did */
		sem_post(&e.feed);
		pthread_join(th, NULL);
		sem_destroy(&e.feed);
		if (e.marks != 2)
			die("irq: the guest acknowledged an unexpected INTID");
		if (e.lines < n)
			die("echo: fewer lines than round trips");
		t = e.t[1] - e.t[0];
	}
	if (rk_vm_destroy(vm))
		die(rk_host_last_error(host)->msg);
	rk_vm_free(vm);
	return t;
}

/* TRIALS rounds of normal VM then realm: best ns per round trip of each, median of the paired ratios. */
static void irq_measure(int x, uint64_t n, double ns[2], double *ratio)
{
	double t[2][TRIALS], q[TRIALS];

	ns[0] = ns[1] = 1e30;
	for (int i = 0; i < TRIALS; i++) {
		for (int k = 0; k < 2; k++) {
			t[k][i] = irq_run(k ? RK_VM_REALM : RK_VM_NORMAL, x, n) / (double)n * 1e9;
			if (t[k][i] < ns[k])
				ns[k] = t[k][i];
		}
		q[i] = t[1][i] / t[0][i];
	}
	qsort(q, TRIALS, sizeof(q[0]), cmp_double);
	*ratio = q[TRIALS / 2];
}

/* ---- hello lifecycle ---- */

static uint8_t *hello;
static size_t hello_len;

static void discard(void *arg, const char *buf, size_t len)
{
	(void)arg, (void)buf, (void)len;
}

static int hello_calls(void *arg, struct rk_vm *vm, uint32_t vcpu, uint32_t imm, uint64_t g[31])
{
	int *pass = arg;

	(void)vm, (void)vcpu;
	if (imm == RK_HC_RESULT)
		*pass = g[1] == 0;
	memset(g, 0, 31 * sizeof(uint64_t));
	return 0;
}

/* One hello realm: build, run, tear down; phase times in ms. */
static void hello_cycle(struct rk_host *h, double ms[3])
{
	struct rk_plan_memslot slot = { RAM, 16 * MIB, 0, 0 };
	struct rk_plan_load load = { RAM, NULL, 0, RK_POPULATE_MEASURE, 0 };
	struct rk_vcpu_config vc;
	struct rk_vm_plan plan;
	struct rk_vm *vm;
	int pass = 0;
	double t0 = now_s(), t1, t2;

	load.data = hello;
	load.len = hello_len;
	memset(&vc, 0, sizeof(vc));
	vc.pc = RAM;
	vc.flags = RK_VCPU_RUNNABLE;
	memset(&plan, 0, sizeof(plan));
	rk_vm_config_default(&plan.config, RK_VM_REALM);
	plan.memslots = &slot;
	plan.nmemslots = 1;
	plan.loads = &load;
	plan.nloads = 1;
	plan.vcpus = &vc;
	plan.nvcpus = 1;
	if (rk_vm_create_from_plan(h, &plan, &vm) || rk_vm_add_uart(vm, RK_GUEST_UART_IPA, discard, NULL) ||
	    rk_vm_activate(vm))
		die(rk_host_last_error(h)->msg);
	rk_vm_set_host_call_handler(vm, hello_calls, &pass);
	t1 = now_s();
	if (rk_vm_run(vm, 10000) || !pass)
		die("hello did not pass");
	t2 = now_s();
	if (rk_vm_destroy(vm))
		die(rk_host_last_error(h)->msg);
	rk_vm_free(vm);
	ms[0] = (t1 - t0) * 1e3;
	ms[1] = (t2 - t1) * 1e3;
	ms[2] = (now_s() - t2) * 1e3;
}

static bool load_hello(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return false;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	hello = malloc((size_t)n);
	if (!hello || fread(hello, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		return false;
	}
	hello_len = (size_t)n;
	fclose(f);
	return true;
}

/* ---- main ---- */

enum col { C_RAW, C_RK, C_NORMAL, C_REALM, C_COUNT };

struct trial {
	enum col col;
	int loop;
	uint64_t n;
	double t;
	uint64_t entries;
};

static void *trial_main(void *arg)
{
	struct trial *tr = arg;

	switch (tr->col) {
	case C_RAW:
		tr->t = raw_run(tr->loop, tr->n);
		break;
	case C_RK:
		tr->t = rk_run(tr->loop, tr->n);
		break;
	default: /* the vCPU runs on the thread rk_vm_run creates */
		tr->t = vm_run(tr->col == C_REALM ? RK_VM_REALM : RK_VM_NORMAL, tr->loop, tr->n,
			       &tr->entries);
		break;
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct result {
	double ns[C_COUNT];    /* best time per iteration of each column */
	double ratio[C_COUNT]; /* median over rounds of realm time / column time */
	uint64_t entries;      /* REC entries of the realm's best trial */
};

/*
 * TRIALS rounds; a round runs the four columns back to back, each on a fresh
 * engine on a fresh thread. Times are best of the rounds; ratios are taken
 * within a round (paired) and the median over rounds is reported, so a
 * machine state that lasts a few trials (see the two speeds above) cannot
 * favour one column.
 */
static void measure(int loop, uint64_t n, struct result *r)
{
	double t[C_COUNT][TRIALS];

	for (int c = 0; c < C_COUNT; c++)
		r->ns[c] = 1e30;
	for (int i = 0; i < TRIALS; i++) {
		for (int c = 0; c < C_COUNT; c++) {
			struct trial tr = { (enum col)c, loop, n, 0, 0 };
			pthread_t th;

			t[c][i] = 0;
			if (c == C_RAW && loop == L_MMIO) /* raw Unicorn has no MMIO exit to compare */
				continue;
			if (c == C_RAW || c == C_RK) {
				if (pthread_create(&th, NULL, trial_main, &tr))
					die("cannot create a thread");
				pthread_join(th, NULL);
			} else {
				trial_main(&tr);
			}
			t[c][i] = tr.t / (double)n * 1e9;
			if (t[c][i] < r->ns[c]) {
				r->ns[c] = t[c][i];
				if (c == C_REALM)
					r->entries = tr.entries;
			}
		}
	}
	for (int c = 0; c < C_COUNT; c++) {
		double q[TRIALS];

		for (int i = 0; i < TRIALS; i++)
			q[i] = t[C_REALM][i] > 0 ? t[c][i] / t[C_REALM][i] : 0;
		qsort(q, TRIALS, sizeof(q[0]), cmp_double);
		r->ratio[c] = q[TRIALS / 2];
	}
}

static bool named(int argc, char **argv, const char *key)
{
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], key))
			return true;
	return false;
}

/* Is the workload named key selected on the command line (no workload named: all)? */
static bool selected(int argc, char **argv, const char *key)
{
	bool any = false;

	for (int l = 0; l < L_COUNT; l++)
		any = any || named(argc, argv, loop_keys[l]);
	for (int x = 0; x < X_COUNT; x++)
		any = any || named(argc, argv, irq_keys[x]);
	return !(any || named(argc, argv, "hello")) || named(argc, argv, key);
}

/* Is the backend mode named key ("hooks", "stage2") selected (neither named: both)? */
static bool mode_selected(int argc, char **argv, const char *key)
{
	return !(named(argc, argv, "hooks") || named(argc, argv, "stage2")) || named(argc, argv, key);
}

int main(int argc, char **argv)
{
	double scale = argc > 1 ? atof(argv[1]) : 1.0;
	static const uint64_t base_n[L_COUNT] = { 20000000, 2000000, 20000000, 1000000, 100000 };
	struct rk_machine_config cfg;
	struct rk_machine *m;
	const char *bindir = getenv("RK_BINARY_DIR");
	char path[4096];

	if (scale <= 0)
		scale = 1;
	build_programs();
	build_irq_programs();
	rk_machine_config_default(&cfg);
	cfg.dram_size = 256 * MIB;
	if (rk_machine_create(&cfg, &m) || rk_host_create(m, NULL, &host))
		die("cannot create the machine and host");

	printf("# bench_run (realm execution): ns per iteration, best of %d rounds; realm speed relative to\n"
	       "# raw Unicorn and to a normal VM: median over the rounds of the ratio within a round\n",
	       TRIALS);
	for (int md = 0; md < 2; md++) {
		mode = md ? RK_CPU_MODE_STAGE2 : RK_CPU_MODE_HOOKS;
		if (!mode_selected(argc, argv, md ? "stage2" : "hooks"))
			continue;
		rk_cpu_set_default_mode(mode);
		printf("## %s\n",
		       md ? "stage-2 mode (rk_cpu, normal VM and realm; raw Unicorn with the same regime: "
			    "HCR_EL2.VM, 2 MiB stage-2 blocks, guest MMU off)"
			  : "hooks mode (raw Unicorn: no stage 2)");
		printf("%-14s %12s %12s %12s %12s   %-12s %s\n", "workload", "raw Unicorn", "rk_cpu",
		       "normal VM", "realm", "realm/raw", "realm/normal VM");
		for (int l = 0; l < L_COUNT; l++) {
			uint64_t n = (uint64_t)((double)base_n[l] * scale);
			struct result r = { .entries = 0 };

			if (!selected(argc, argv, loop_keys[l]))
				continue;
			measure(l, n, &r);
			if (l == L_RSI) /* a round trip: how many times raw Unicorn's cost */
				printf("%-14s %12.2f %12.2f %12.2f %12.2f   %5.2fx time   %.2fx time   (%" PRIu64
				       " REC entries)\n",
				       loop_names[l], r.ns[C_RAW], r.ns[C_RK], r.ns[C_NORMAL], r.ns[C_REALM],
				       1 / r.ratio[C_RAW], 1 / r.ratio[C_NORMAL], r.entries);
			else if (l == L_MMIO)
				printf("%-14s %12s %12.1f %12.1f %12.1f   %-12s %.2fx   (vs rk_cpu exit: %.2fx)\n",
				       loop_names[l], "-", r.ns[C_RK], r.ns[C_NORMAL], r.ns[C_REALM], "-",
				       1 / r.ratio[C_NORMAL], 1 / r.ratio[C_RK]);
			else
				printf("%-14s %12.2f %12.2f %12.2f %12.2f   %5.0f%% speed  %.0f%% speed  (%" PRIu64
				       " REC entries)\n",
				       loop_names[l], r.ns[C_RAW], r.ns[C_RK], r.ns[C_NORMAL], r.ns[C_REALM],
				       100 * r.ratio[C_RAW], 100 * r.ratio[C_NORMAL], r.entries);
		}
		for (int x = 0; x < X_COUNT; x++) {
			static const uint64_t irq_n[X_COUNT] = { 5000, 5000 };
			uint64_t n = (uint64_t)((double)irq_n[x] * scale);
			double ns[2], ratio;

			if (!selected(argc, argv, irq_keys[x]))
				continue;
			if (n < 10)
				n = 10;
			irq_measure(x, n, ns, &ratio);
			printf("%-14s %12s %12s %12.0f %12.0f   %-12s %.2fx time   (ns per round trip, %" PRIu64
			       " per run)\n",
			       x == X_IPI ? "IPI ping-pong" : "UART IRQ echo", "-", "-", ns[0], ns[1], "-",
			       ratio, n);
		}

		snprintf(path, sizeof(path), "%s/guest/hello.bin", bindir ? bindir : ".");
		if (!selected(argc, argv, "hello")) {
			/* not asked for */
		} else if (!load_hello(path) && !load_hello("guest/hello.bin")) {
			printf("# hello.bin not found (RK_BINARY_DIR): lifecycle skipped\n");
		} else {
			double sum[3] = { 0, 0, 0 }, tot_min = 1e30, full_min = 1e30, full_sum = 0;
			int cycles = (int)(20 * scale) > 3 ? (int)(20 * scale) : 3;

			for (int i = 0; i < 2; i++) { /* warm-up */
				double ms[3];
				hello_cycle(host, ms);
			}
			for (int i = 0; i < cycles; i++) {
				double ms[3];
				hello_cycle(host, ms);
				for (int k = 0; k < 3; k++)
					sum[k] += ms[k];
				if (ms[0] + ms[1] + ms[2] < tot_min)
					tot_min = ms[0] + ms[1] + ms[2];
			}
			for (int i = 0; i < cycles;
			     i++) { /* what `realmkit run hello.elf` does: machine and host too */
				struct rk_machine *m2 = NULL;
				struct rk_host *h2 = NULL;
				double t = now_s(), ms[3];
				rk_machine_config_default(&cfg);
				cfg.dram_size = 96 * MIB;
				if (rk_machine_create(&cfg, &m2) || rk_host_create(m2, NULL, &h2))
					die("machine");
				hello_cycle(h2, ms);
				rk_host_destroy(h2);
				rk_machine_destroy(m2);
				t = (now_s() - t) * 1e3;
				full_sum += t;
				if (t < full_min)
					full_min = t;
			}
			printf("hello realm lifecycle  %.2f ms (min %.2f): build %.2f + run %.2f + teardown %.2f (target <= 20 ms)\n",
			       (sum[0] + sum[1] + sum[2]) / cycles, tot_min, sum[0] / cycles, sum[1] / cycles,
			       sum[2] / cycles);
			printf("  with machine + host  %.2f ms (min %.2f)\n", full_sum / cycles, full_min);
		}
	}
	rk_host_destroy(host);
	rk_machine_destroy(m);
	free(hello);
	return 0;
}
