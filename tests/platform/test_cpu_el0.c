/* SPDX-License-Identifier: MIT */
/*
 * rk_cpu in stage-2 mode with the guest's MMU on: EL0 execution and the
 * synchronous exceptions its EL0 and EL1 take to EL1 (SVC, BRK, UNDEF, SMC
 * and HVC at EL0, stage-1 translation/permission/access-flag faults,
 * alignment), with ESR/FAR/ELR/SPSR asserted exactly; stage-2 faults, time
 * slices, kicks and injection at EL0; and the system register interface
 * (refused accesses, trapped registers, the sysreg handler).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "a64.h"
#include "cpu_util.h"
#include "realmkit/cpu.h"

#define RAM_IPA 0x80000000ull
#define RAM_SIZE 0x20000ull
#define VA(off) (RAM_IPA + (off))
#define VBAR VA(0x800)
#define S2_HOLE_IPA 0x90000000ull /* not in stage 2 until a test maps it */

/* Guest pages (VA == IPA, offsets from RAM_IPA) */
#define P_CODE1 0x0000 /* EL1 code and vectors: EL1 only */
#define P_CODE0 0x1000 /* EL0 code: read-only, EL0-executable */
#define P_DATA0 0x2000 /* EL0 and EL1 read/write */
#define P_DATA1 0x3000 /* EL1 only */
#define P_NOAF 0x4000  /* EL0 read/write, access flag clear */
#define P_NONE 0x5000  /* not mapped by stage 1 */
#define P_S2 0x6000    /* stage 1 -> S2_HOLE_IPA */
#define P_L1 0x8000
#define P_L2 0x9000
#define P_L3 0xa000

/* Stage-1 page descriptor bits */
#define D_PAGE 0x3ull
#define D_SH 0x300ull
#define D_AF 0x400ull
#define D_AP_EL0 0x40ull /* AP[1]: EL0 access */
#define D_AP_RO 0x80ull  /* AP[2]: read-only */
#define D_PXN (1ull << 53)
#define D_UXN (1ull << 54)

/* EL1 code (P_CODE1) */
#define E1_BOOT 0x00   /* set up the MMU, smc #0 */
#define E1_TO_EL0 0x28 /* SPSR_EL1 = x13, ELR_EL1 = x14, eret */
#define E1_ERET 0x34   /* eret (return from the exception taken) */
#define E1_BRK 0x38
#define E1_UDF 0x3c
#define E1_LDXR 0x40
#define E1_LDR 0x44
/* EL0 code (P_CODE0) */
#define E0_SVC 0x00 /* svc #0x1234, then brk #0x42 */
#define E0_BRK 0x04
#define E0_UDF 0x08
#define E0_SMC 0x0c
#define E0_HVC 0x10
#define E0_LDR 0x14  /* ldr x1, [x2] */
#define E0_STR 0x18  /* str x1, [x2] */
#define E0_LDXR 0x1c /* ldxr x1, [x2] */
#define E0_BR 0x20   /* br x3 */
#define E0_LOOP 0x24 /* add x0, x0, #1; b .-4 */
#define E0_S2 0x2c   /* ldr x1, [x2]; svc #1 */
#define E0_MRS 0x34  /* mrs x4, <reg>; svc #2 */
#define E0_ID 0x3c   /* mrs x4, id_aa64pfr0_el1; svc #3 */

#define SPSR_EL0T 0x0u
#define PSTATE_EL1H_MASKED 0x3c5u

#define EC_ISS(ec, iss) (((uint64_t)(ec) << ESR_EC_SHIFT) | ESR_IL | (iss))

/* An unknown system register (IMPLEMENTATION DEFINED space S3_0_C15_C0_0) */
#define A64_IMPDEF A64_SYSREG(3, 0, 15, 0, 0)
#define A64_ID_AA64PFR0 A64_SYSREG(3, 0, 0, 4, 0)
#define A64_DAIF A64_SYSREG(3, 3, 4, 2, 1)
#define A64_CURRENTEL A64_SYSREG(3, 0, 4, 2, 2)

struct fx {
	struct rk_cpu *cpu;
	uint8_t *ram;
	unsigned smc_el0; /* SMC handler calls with the vCPU at EL0 (must stay 0) */
	unsigned smc_calls;
};

static struct fx *g_fx;

static bool smc_count(struct rk_cpu *cpu, uint16_t imm, struct rk_cpu_smc_ctx *ctx)
{
	uint64_t ps = 0;

	(void)imm;
	(void)ctx;
	g_fx->smc_calls++;
	if (rk_cpu_get_reg(cpu, RK_CPU_REG_PSTATE, &ps) || (ps & 0xc) == 0)
		g_fx->smc_el0++;
	return false;
}

static void put32(struct fx *f, uint64_t off, uint32_t w)
{
	memcpy(f->ram + off, &w, 4);
}

static void put64(struct fx *f, uint64_t off, uint64_t v)
{
	memcpy(f->ram + off, &v, 8);
}

static void set_pte(struct fx *f, unsigned page, uint64_t desc)
{
	put64(f, P_L3 + 8ull * page, desc);
}

static void vector(struct fx *f, uint64_t off, unsigned imm)
{
	const uint32_t v[] = {
		a64_mrs(5, A64_ESR_EL1),       a64_mrs(6, A64_FAR_EL1),
		a64_mrs(7, A64_ELR_EL1),       a64_mrs(8, A64_SPSR_EL1),
		a64_mrs(9, A64_CURRENTEL),     a64_mrs(10, A64_DAIF),
		0x910003ebu /* mov x11, sp */, 0xd4000003u | (imm << 5) /* smc #imm */,
	};

	for (unsigned i = 0; i < sizeof(v) / 4; i++)
		put32(f, off + 4 * i, v[i]);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const uint32_t boot[] = {
		0xd518200a, /* msr ttbr0_el1, x10 */
		0xd518204b, /* msr tcr_el1, x11 */
		0xd518a20c, /* msr mair_el1, x12 */
		0xd5033fdf, /* isb */
		0xd5381000, /* mrs x0, sctlr_el1 */
		0xb2400000, /* orr x0, x0, #1 */
		0xd5181000, /* msr sctlr_el1, x0 */
		0xd5033fdf, /* isb */
		0xd4000003, /* smc #0 */
		0xd503201f, /* nop */
		a64_msr(A64_SPSR_EL1, 13),
		a64_msr(A64_ELR_EL1, 14),
		A64_ERET,
		A64_ERET,   /* E1_ERET */
		0xd42000a0, /* E1_BRK: brk #5 */
		A64_UDF,    /* E1_UDF */
		0xc85f7c41, /* E1_LDXR: ldxr x1, [x2] */
		a64_ldr(1, 2),
	};
	const uint32_t el0[] = {
		0xd4024681, /* svc #0x1234 */
		0xd4200840, /* brk #0x42 */
		A64_UDF,
		0xd4000003, /* smc #0 */
		0xd4000002, /* hvc #0 */
		a64_ldr(1, 2),
		a64_str(1, 2),
		0xc85f7c41, /* ldxr x1, [x2] */
		a64_br(3),
		a64_add_imm(0, 0, 1), /* E0_LOOP */
		a64_b(-1),
		a64_ldr(1, 2), /* E0_S2 */
		0xd4000021,    /* svc #1 */
		a64_mrs(4, A64_IMPDEF),
		0xd4000041, /* svc #2 */
		a64_mrs(4, A64_ID_AA64PFR0),
		0xd4000061, /* svc #3 */
	};
	const uint64_t tcr = 25 | 1ull << 8 | 1ull << 10 | 3ull << 12 | 1ull << 23 | 4ull << 32;
	struct rk_cpu_exit e;

	assert_non_null(f);
	g_fx = f;
	rk_cpu_set_default_mode(RK_CPU_MODE_STAGE2);
	f->ram = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(f->ram);
	memset(f->ram, 0, RAM_SIZE);
	assert_int_equal(rk_cpu_create(&f->cpu), 0);
	assert_int_equal(rk_cpu_map(f->cpu, RAM_IPA, RAM_SIZE, f->ram, RK_CPU_PROT_ALL), 0);
	assert_int_equal(rk_cpu_set_smc_handler_noimm(f->cpu, smc_count, NULL), 0);
	for (unsigned i = 0; i < sizeof(boot) / 4; i++)
		put32(f, P_CODE1 + 4 * i, boot[i]);
	for (unsigned i = 0; i < sizeof(el0) / 4; i++)
		put32(f, P_CODE0 + 4 * i, el0[i]);
	vector(f, 0x800 + 0x200, 2); /* current EL, SP_EL1 */
	vector(f, 0x800 + 0x400, 1); /* lower EL, AArch64 */
	vector(f, 0x800 + 0x480, 3); /* lower EL IRQ */
	vector(f, 0x800 + 0x500, 4); /* lower EL FIQ: must never be seen */
	/* VA [RAM_IPA, +2 MiB) identity, page by page */
	put64(f, P_L1 + 8 * 2, VA(P_L2) | 3);
	put64(f, P_L2, VA(P_L3) | 3);
	for (unsigned i = 0; i < RAM_SIZE / 4096; i++)
		set_pte(f, i, VA(0x1000ull * i) | D_PAGE | D_SH | D_AF | D_UXN); /* EL1 RW */
	set_pte(f, P_CODE0 / 4096, VA(P_CODE0) | D_PAGE | D_SH | D_AF | D_AP_EL0 | D_AP_RO | D_PXN);
	set_pte(f, P_DATA0 / 4096, VA(P_DATA0) | D_PAGE | D_SH | D_AF | D_AP_EL0 | D_UXN | D_PXN);
	set_pte(f, P_NOAF / 4096, VA(P_NOAF) | D_PAGE | D_SH | D_AP_EL0 | D_UXN | D_PXN);
	set_pte(f, P_NONE / 4096, 0);
	set_pte(f, P_S2 / 4096, S2_HOLE_IPA | D_PAGE | D_SH | D_AF | D_AP_EL0 | D_UXN | D_PXN);
	memset(f->ram + P_DATA1, 0x11, 8);
	memset(f->ram + P_NOAF, 0x44, 16);

	t_cpu_set(f->cpu, RK_CPU_REG_VBAR_EL1, VBAR);
	t_cpu_set(f->cpu, RK_CPU_REG_SP_EL1, VA(0x7ff0));
	t_cpu_set(f->cpu, RK_CPU_REG_X(10), VA(P_L1));
	t_cpu_set(f->cpu, RK_CPU_REG_X(11), tcr);
	t_cpu_set(f->cpu, RK_CPU_REG_X(12), 0xff);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, VA(P_CODE1 + E1_BOOT));
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(e.imm, 0);
	assert_true(t_cpu_reg(f->cpu, RK_CPU_REG_SCTLR_EL1) & SCTLR_EL1_M);
	f->smc_calls = 0;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	rk_cpu_destroy(f->cpu);
	free(f->ram);
	free(f);
	g_fx = NULL;
	return 0;
}

/* Run EL1 code that erets to EL0 at the EL0 offset with PSTATE spsr. */
static struct rk_cpu_exit to_el0(struct fx *f, uint64_t el0_off, uint64_t spsr, enum rk_cpu_exit_reason want)
{
	t_cpu_set(f->cpu, RK_CPU_REG_X(13), spsr);
	t_cpu_set(f->cpu, RK_CPU_REG_X(14), VA(P_CODE0 + el0_off));
	t_cpu_set(f->cpu, RK_CPU_REG_PC, VA(P_CODE1 + E1_TO_EL0));
	return t_cpu_run(f->cpu, want);
}

/*
 * The guest's vector reported (smc #imm) what the exception left: ESR, FAR,
 * ELR, SPSR, CurrentEL (EL1), DAIF (all masked) and SP (SP_EL1).
 */
static void expect_vector(struct fx *f, const struct rk_cpu_exit *e, unsigned imm, uint64_t esr, uint64_t far,
			  uint64_t elr, uint64_t spsr)
{
	assert_int_equal(e->reason, RK_CPU_EXIT_SMC);
	assert_int_equal(e->imm, imm);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(5)), esr);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(6)), far);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(7)), elr);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(8)), spsr);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(9)), 1u << 2);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(10)), PSTATE_DAIF);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(11)), VA(0x7ff0));
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_PSTATE), PSTATE_EL1H_MASKED);
	/* the backend put its registers back */
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_VBAR_EL1), VBAR);
}

/* ------------------------------------------------------------------------ */

/* SVC from EL0: the immediate, ELR the next instruction; ERET goes back to EL0; BRK next. */
static void test_el0_svc_brk(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_stats st;
	struct rk_cpu_exit e;

	t_cpu_set(f->cpu, RK_CPU_REG_SP_EL0, VA(P_DATA0 + 0x800));
	/* NZCV set at EL0 to see them in SPSR_EL1 */
	e = to_el0(f, E0_SVC, SPSR_EL0T | 0xf0000000u, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 1, EC_ISS(ESR_EC_SVC64, 0x1234), 0, VA(P_CODE0 + E0_BRK),
		      SPSR_EL0T | 0xf0000000u);
	/* the EL0 stack pointer is untouched */
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_SP_EL0), VA(P_DATA0 + 0x800));

	/* the guest returns to EL0: the BRK after the SVC, ELR the BRK itself */
	t_cpu_set(f->cpu, RK_CPU_REG_PC, VA(P_CODE1 + E1_ERET));
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 1, EC_ISS(ESR_EC_BRK64, 0x42), 0, VA(P_CODE0 + E0_BRK), SPSR_EL0T | 0xf0000000u);
	rk_cpu_get_stats(f->cpu, &st);
	assert_int_equal(st.el0_exceptions, 2);
	assert_int_equal(f->smc_el0, 0);
}

/* UNDEF, and SMC and HVC (UNDEFINED at EL0): EC 0 at the instruction, never the SMC handler. */
static void test_el0_undef_smc_hvc(void **state)
{
	struct fx *f = *state;
	const uint64_t offs[] = { E0_UDF, E0_SMC, E0_HVC };
	struct rk_cpu_exit e;

	for (unsigned i = 0; i < 3; i++) {
		t_cpu_set(f->cpu, RK_CPU_REG_X(0), 0xc4000190); /* RSI_VERSION */
		e = to_el0(f, offs[i], SPSR_EL0T, RK_CPU_EXIT_SMC);
		expect_vector(f, &e, 1, EC_ISS(ESR_EC_UNKNOWN, 0), 0, VA(P_CODE0 + offs[i]), SPSR_EL0T);
		assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(0)), 0xc4000190);
	}
	/* the handler saw only the vector's own SMCs, at EL1 */
	assert_int_equal(f->smc_el0, 0);
	assert_int_equal(f->smc_calls, 3);
}

/* Stage-1 data aborts from EL0: permission, translation, access flag, alignment. */
static void test_el0_data_aborts(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_exit e;

	/* EL0 load from an EL1-only page: permission fault, level 3 */
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), VA(P_DATA1 + 8));
	e = to_el0(f, E0_LDR, SPSR_EL0T, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 1, EC_ISS(ESR_EC_DABT_LOW, ESR_FSC_PERM(3)), VA(P_DATA1 + 8),
		      VA(P_CODE0 + E0_LDR), SPSR_EL0T);
	memset(f->ram + P_DATA0, 0x22, 8);
	/* store to a page stage 1 does not map: translation fault, level 3, WnR */
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), VA(P_NONE + 0x18));
	e = to_el0(f, E0_STR, SPSR_EL0T, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 1, EC_ISS(ESR_EC_DABT_LOW, ESR_WNR | ESR_FSC_TRANS(3)), VA(P_NONE + 0x18),
		      VA(P_CODE0 + E0_STR), SPSR_EL0T);
	/* the guest's descriptor has AF clear: access flag fault, level 3 */
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), VA(P_NOAF + 0x10));
	e = to_el0(f, E0_LDR, SPSR_EL0T, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 1, EC_ISS(ESR_EC_DABT_LOW, ESR_FSC_AF(3)), VA(P_NOAF + 0x10),
		      VA(P_CODE0 + E0_LDR), SPSR_EL0T);
	/* an exclusive load from a misaligned address: alignment fault */
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), VA(P_DATA0 + 4));
	e = to_el0(f, E0_LDXR, SPSR_EL0T, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 1, EC_ISS(ESR_EC_DABT_LOW, ESR_FSC_ALIGN), VA(P_DATA0 + 4),
		      VA(P_CODE0 + E0_LDXR), SPSR_EL0T);
	/* and a good load: no exception, the value */
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), VA(P_DATA0));
	e = to_el0(f, E0_S2, SPSR_EL0T, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 1, EC_ISS(ESR_EC_SVC64, 1), 0, VA(P_CODE0 + E0_S2 + 8), SPSR_EL0T);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(1)), 0x2222222222222222ull);
}

/* Instruction aborts from EL0: an EL1-only page (permission), an unmapped page (translation). */
static void test_el0_insn_aborts(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_exit e;

	t_cpu_set(f->cpu, RK_CPU_REG_X(3), VA(P_DATA1));
	e = to_el0(f, E0_BR, SPSR_EL0T, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 1, EC_ISS(ESR_EC_IABT_LOW, ESR_FSC_PERM(3)), VA(P_DATA1), VA(P_DATA1),
		      SPSR_EL0T);
	t_cpu_set(f->cpu, RK_CPU_REG_X(3), VA(P_NONE + 0x40));
	e = to_el0(f, E0_BR, SPSR_EL0T, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 1, EC_ISS(ESR_EC_IABT_LOW, ESR_FSC_TRANS(3)), VA(P_NONE + 0x40),
		      VA(P_NONE + 0x40), SPSR_EL0T);
}

/* PSTATE.F (and I) masked at EL0: the exception still arrives; SPSR_EL1 keeps the masks. */
static void test_el0_masked(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_exit e;

	e = to_el0(f, E0_SVC, SPSR_EL0T | PSTATE_F | PSTATE_I, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 1, EC_ISS(ESR_EC_SVC64, 0x1234), 0, VA(P_CODE0 + E0_BRK),
		      SPSR_EL0T | PSTATE_F | PSTATE_I);
	/* a virtual IRQ pending while EL0 has IRQs masked: the SVC comes first; the IRQ stays pending */
	assert_int_equal(rk_cpu_set_virq(f->cpu, true), 0);
	e = to_el0(f, E0_SVC, SPSR_EL0T | PSTATE_I, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 1, EC_ISS(ESR_EC_SVC64, 0x1234), 0, VA(P_CODE0 + E0_BRK), SPSR_EL0T | PSTATE_I);
	/* back at EL0 with IRQs unmasked: the IRQ is taken there (lower EL IRQ vector) */
	e = to_el0(f, E0_LOOP, SPSR_EL0T, RK_CPU_EXIT_SMC);
	assert_int_equal(e.imm, 3);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(8)), SPSR_EL0T);
	assert_int_equal(rk_cpu_set_virq(f->cpu, false), 0);
}

/* A stage-2 fault at EL0 exits to the caller, which maps the page; the run resumes at EL0. */
static void test_el0_stage2_exit(void **state)
{
	struct fx *f = *state;
	uint8_t *page = aligned_alloc(4096, 4096);
	struct rk_cpu_exit e;

	assert_non_null(page);
	memset(page, 0x5a, 4096);
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), VA(P_S2 + 0x10));
	e = to_el0(f, E0_S2, SPSR_EL0T, RK_CPU_EXIT_DABT);
	assert_int_equal(e.pc, VA(P_CODE0 + E0_S2));
	assert_int_equal(e.mem.addr, S2_HOLE_IPA + 0x10);
	assert_false(e.mem.is_write);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_PSTATE) & 0xf, 0); /* still EL0 */
	assert_int_equal(rk_cpu_map(f->cpu, S2_HOLE_IPA, 4096, page, RK_CPU_PROT_READ | RK_CPU_PROT_WRITE),
			 0);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 1, EC_ISS(ESR_EC_SVC64, 1), 0, VA(P_CODE0 + E0_S2 + 8), SPSR_EL0T);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(1)), 0x5a5a5a5a5a5a5a5aull);
	/* an emulated MMIO load at EL0 completes there */
	assert_int_equal(rk_cpu_unmap(f->cpu, S2_HOLE_IPA, 4096), 0);
	e = to_el0(f, E0_S2, SPSR_EL0T, RK_CPU_EXIT_DABT);
	assert_true(e.mem.isv);
	assert_int_equal(e.mem.srt, 1);
	assert_int_equal(rk_cpu_complete_mmio_read(f->cpu, 0x77), 0);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 1, EC_ISS(ESR_EC_SVC64, 1), 0, VA(P_CODE0 + E0_S2 + 8), SPSR_EL0T);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(1)), 0x77);
	free(page);
}

static void *kicker(void *cpu)
{
	rk_cpu_kick(cpu);
	return NULL;
}

/*
 * Run 2 ms time slices of the EL0 counting loop until x0 reaches at least
 * min (on a loaded machine a slice may end before the loop runs at all); every
 * slice must end with TIMEOUT, at an instruction boundary of the loop or of
 * the EL1 code that enters it.
 */
static void slices_until(struct fx *f, uint64_t min)
{
	struct rk_cpu_exit e;

	for (unsigned i = 0; i < 2500; i++) {
		assert_int_equal(rk_cpu_run(f->cpu, 2000, &e), 0);
		assert_int_equal(e.reason, RK_CPU_EXIT_TIMEOUT);
		if ((t_cpu_reg(f->cpu, RK_CPU_REG_PSTATE) & 0xf) == 0 &&
		    t_cpu_reg(f->cpu, RK_CPU_REG_X(0)) >= min)
			return;
	}
	fail_msg("the EL0 loop made no progress in 2500 time slices");
}

/*
 * Time slices and kicks stop EL0 code at an instruction boundary and the next
 * run resumes at EL0; parking keeps EL0; an exception injected at EL0 (the
 * RMM's SEA) enters the guest's EL1 with ELR = the EL0 PC.
 */
static void test_el0_stops_inject(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_exit e;
	uint64_t x0, pc;

	t_cpu_set(f->cpu, RK_CPU_REG_X(0), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_X(13), SPSR_EL0T | 0x20000000u);
	t_cpu_set(f->cpu, RK_CPU_REG_X(14), VA(P_CODE0 + E0_LOOP));
	t_cpu_set(f->cpu, RK_CPU_REG_PC, VA(P_CODE1 + E1_TO_EL0));
	slices_until(f, 1);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_PSTATE), 0x20000000u); /* EL0t, C set */
	x0 = t_cpu_reg(f->cpu, RK_CPU_REG_X(0));
	pc = t_cpu_reg(f->cpu, RK_CPU_REG_PC);
	assert_true(pc == VA(P_CODE0 + E0_LOOP) || pc == VA(P_CODE0 + E0_LOOP + 4));
	/* a kick from another thread while EL0 runs (or before the run starts: the same exit) */
	{
		pthread_t t;

		assert_int_equal(pthread_create(&t, NULL, kicker, f->cpu), 0);
		assert_int_equal(rk_cpu_run(f->cpu, 0, &e), 0);
		assert_int_equal(pthread_join(t, NULL), 0);
		assert_int_equal(e.reason, RK_CPU_EXIT_KICK);
	}
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_PSTATE), 0x20000000u);
	pc = t_cpu_reg(f->cpu, RK_CPU_REG_PC);
	assert_true(pc == VA(P_CODE0 + E0_LOOP) || pc == VA(P_CODE0 + E0_LOOP + 4));
	x0 = t_cpu_reg(f->cpu, RK_CPU_REG_X(0));
	/* parked and woken at EL0: it goes on counting there */
	assert_int_equal(rk_cpu_park(f->cpu), 0);
	slices_until(f, x0 + 1);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_PSTATE), 0x20000000u);

	/* inject an SEA at EL0: ELR = where EL0 stopped, nothing executed */
	pc = t_cpu_reg(f->cpu, RK_CPU_REG_PC);
	x0 = t_cpu_reg(f->cpu, RK_CPU_REG_X(0));
	assert_int_equal(rk_cpu_inject_sync(f->cpu, EC_ISS(ESR_EC_DABT_LOW, ESR_FSC_SEA), 0x1234), 0);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_PC), VBAR + 0x400);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_ELR_EL1), pc);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(0)), x0);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 1, EC_ISS(ESR_EC_DABT_LOW, ESR_FSC_SEA), 0x1234, pc, 0x20000000u);
	/* an injected UNDEF at EL0 with F masked (after a stage-2 exit there) */
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), VA(P_S2));
	e = to_el0(f, E0_S2, SPSR_EL0T | PSTATE_F, RK_CPU_EXIT_DABT);
	assert_int_equal(rk_cpu_inject_undef(f->cpu), 0);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 1, EC_ISS(ESR_EC_UNKNOWN, 0), 0, VA(P_CODE0 + E0_S2), SPSR_EL0T | PSTATE_F);
}

/*
 * Injection at EL0 after new RAM appeared (a window the engine cannot add
 * once its address space is laid out): the vCPU moves to a fresh engine
 * first, as a run would, and the exception is taken.
 */
static void test_el0_inject_new_window(void **state)
{
	struct fx *f = *state;
	const size_t size = 1u << 20;
	struct rk_cpu_stats st0, st1;
	struct rk_cpu_exit e;
	uint8_t *far = MAP_FAILED;

	/* host memory in another 1 GiB block than the fixture's RAM */
	for (uint64_t k = 8; k < 64 && far == MAP_FAILED; k++)
		far = mmap((void *)((((uintptr_t)f->ram >> 30) + k) << 30), size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	assert_true(far != MAP_FAILED);
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), VA(P_S2));
	e = to_el0(f, E0_S2, SPSR_EL0T, RK_CPU_EXIT_DABT);
	rk_cpu_get_stats(f->cpu, &st0);
	assert_int_equal(rk_cpu_add_ram(f->cpu, far, size), 0);
	assert_int_equal(rk_cpu_inject_sync(f->cpu, EC_ISS(ESR_EC_DABT_LOW, ESR_FSC_SEA), S2_HOLE_IPA), 0);
	rk_cpu_get_stats(f->cpu, &st1);
	assert_int_equal(st1.wakes, st0.wakes + 1);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 1, EC_ISS(ESR_EC_DABT_LOW, ESR_FSC_SEA), S2_HOLE_IPA, VA(P_CODE0 + E0_S2),
		      SPSR_EL0T);
	rk_cpu_destroy(f->cpu);
	f->cpu = NULL;
	munmap(far, size);
}

/* EL1 -> EL1: BRK (delivered), UNDEF (an exit, then injected), alignment and access-flag faults. */
static void test_el1_exceptions(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_exit e;
	const uint64_t spsr = PSTATE_EL1H_MASKED;

	t_cpu_set(f->cpu, RK_CPU_REG_PC, VA(P_CODE1 + E1_BRK));
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 2, EC_ISS(ESR_EC_BRK64, 5), 0, VA(P_CODE1 + E1_BRK), spsr);

	t_cpu_set(f->cpu, RK_CPU_REG_PC, VA(P_CODE1 + E1_UDF));
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_UNDEF);
	assert_int_equal(e.pc, VA(P_CODE1 + E1_UDF));
	assert_false(e.sysreg.valid);
	assert_int_equal(rk_cpu_inject_undef(f->cpu), 0);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 2, EC_ISS(ESR_EC_UNKNOWN, 0), 0, VA(P_CODE1 + E1_UDF), spsr);

	t_cpu_set(f->cpu, RK_CPU_REG_X(2), VA(P_DATA1 + 2));
	t_cpu_set(f->cpu, RK_CPU_REG_PC, VA(P_CODE1 + E1_LDXR));
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 2, EC_ISS(ESR_EC_DABT_CUR, ESR_FSC_ALIGN), VA(P_DATA1 + 2),
		      VA(P_CODE1 + E1_LDXR), spsr);

	t_cpu_set(f->cpu, RK_CPU_REG_X(2), VA(P_NOAF + 8));
	t_cpu_set(f->cpu, RK_CPU_REG_PC, VA(P_CODE1 + E1_LDR));
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 2, EC_ISS(ESR_EC_DABT_CUR, ESR_FSC_AF(3)), VA(P_NOAF + 8), VA(P_CODE1 + E1_LDR),
		      spsr);
	/* the guest sets AF: the load works */
	set_pte(f, P_NOAF / 4096, VA(P_NOAF) | D_PAGE | D_SH | D_AF | D_AP_EL0 | D_UXN | D_PXN);
	t_cpu_set(f->cpu, RK_CPU_REG_X(2), VA(P_NOAF + 8));
	t_cpu_set(f->cpu, RK_CPU_REG_PC, VA(P_CODE1 + E1_LDR));
	put32(f, P_CODE1 + E1_LDR + 4, 0xd4000103); /* smc #8 */
	assert_int_equal(rk_cpu_invalidate_code(f->cpu, RAM_IPA, 4096), 0);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(e.imm, 8);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(1)), 0x4444444444444444ull);
}

/* ------------------------------------------------------------------------ */
/* System registers                                                         */
/* ------------------------------------------------------------------------ */

struct sr_log {
	unsigned calls;
	struct rk_cpu_sysreg last;
	bool answer;
	uint64_t value;
};
static struct sr_log g_sr;

static bool sr_handler(struct rk_cpu *cpu, struct rk_cpu_sysreg *acc, struct rk_cpu_sysreg_ctx *ctx)
{
	(void)cpu;
	(void)ctx;
	g_sr.calls++;
	g_sr.last = *acc;
	if (!g_sr.answer)
		return false;
	if (acc->is_read)
		acc->value = g_sr.value ? g_sr.value : acc->value & ~0xfull; /* mask a field */
	return true;
}

/*
 * An unknown register at EL1: an UNDEF exit naming the access, completed by
 * the caller; at EL0 the guest's UNDEF. The handler completes one in the run.
 */
static void test_sysreg_unknown(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_exit e;
	struct rk_cpu_stats st;

	/* EL1: mrs x4, S3_0_C15_C0_0; smc #9 */
	put32(f, P_CODE1 + 0x100, a64_mrs(4, A64_IMPDEF));
	put32(f, P_CODE1 + 0x104, 0xd4000123);
	put32(f, P_CODE1 + 0x108, a64_msr(A64_IMPDEF, 7));
	put32(f, P_CODE1 + 0x10c, 0xd4000123);
	assert_int_equal(rk_cpu_invalidate_code(f->cpu, RAM_IPA, 4096), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, VA(P_CODE1 + 0x100));
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_UNDEF);
	assert_int_equal(e.pc, VA(P_CODE1 + 0x100));
	assert_true(e.sysreg.valid);
	assert_true(e.sysreg.is_read);
	assert_false(e.sysreg.known);
	assert_int_equal(e.sysreg.op0, 3);
	assert_int_equal(e.sysreg.op1, 0);
	assert_int_equal(e.sysreg.crn, 15);
	assert_int_equal(e.sysreg.crm, 0);
	assert_int_equal(e.sysreg.op2, 0);
	assert_int_equal(e.sysreg.rt, 4);
	assert_int_equal(e.sysreg.el, 1);
	assert_int_equal(e.insn, a64_mrs(4, A64_IMPDEF));
	assert_int_equal(rk_cpu_complete_sysreg_read(f->cpu, 0xabcd), 0);
	assert_int_equal(rk_cpu_complete_sysreg_read(f->cpu, 0xabcd), -EINVAL); /* once */
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(e.imm, 9);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(4)), 0xabcd);
	/* an MSR: the value written */
	t_cpu_set(f->cpu, RK_CPU_REG_X(7), 0x5555);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, VA(P_CODE1 + 0x108));
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_UNDEF);
	assert_true(e.sysreg.valid);
	assert_false(e.sysreg.is_read);
	assert_int_equal(e.sysreg.rt, 7);
	assert_int_equal(e.sysreg.value, 0x5555);
	assert_int_equal(rk_cpu_complete_sysreg_read(f->cpu, 1), -EINVAL); /* not a read */
	assert_int_equal(rk_cpu_skip_insn(f->cpu), 0);
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);

	/* EL0: the guest's UNDEF, without an exit */
	e = to_el0(f, E0_MRS, SPSR_EL0T, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 1, EC_ISS(ESR_EC_UNKNOWN, 0), 0, VA(P_CODE0 + E0_MRS), SPSR_EL0T);
	/* an EL1 register at EL0 (known to the engine, refused at EL0): the same */
	e = to_el0(f, E0_ID, SPSR_EL0T, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 1, EC_ISS(ESR_EC_UNKNOWN, 0), 0, VA(P_CODE0 + E0_ID), SPSR_EL0T);

	/* the handler completes the EL1 access inside the run */
	memset(&g_sr, 0, sizeof(g_sr));
	g_sr.answer = true;
	g_sr.value = 0x77;
	assert_int_equal(rk_cpu_set_sysreg_handler(f->cpu, sr_handler, NULL), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, VA(P_CODE1 + 0x100));
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(e.imm, 9);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(4)), 0x77);
	assert_int_equal(g_sr.calls, 1);
	assert_true(g_sr.last.valid);
	assert_int_equal(g_sr.last.el, 1);
	/* and at EL0 (a register EL0 may use, for the handler) */
	e = to_el0(f, E0_MRS, SPSR_EL0T, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 1, EC_ISS(ESR_EC_SVC64, 2), 0, VA(P_CODE0 + E0_MRS + 8), SPSR_EL0T);
	assert_int_equal(g_sr.last.el, 0);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(4)), 0x77);
	/* declined: UNDEF as before */
	g_sr.answer = false;
	t_cpu_set(f->cpu, RK_CPU_REG_PC, VA(P_CODE1 + 0x100));
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_UNDEF);
	assert_true(e.sysreg.valid);
	rk_cpu_get_stats(f->cpu, &st);
	assert_int_equal(st.sysreg_in_hook, 2);
	assert_int_equal(rk_cpu_set_sysreg_handler(f->cpu, NULL, NULL), 0);
}

/*
 * A handler that completes a refused access and sets stop: the run ends right
 * after it (RK_CPU_EXIT_SYSREG, PC past it, the read's value in Xt), and the
 * next run goes on at the next instruction, executed once.
 */
static bool sr_stop_handler(struct rk_cpu *cpu, struct rk_cpu_sysreg *acc, struct rk_cpu_sysreg_ctx *ctx)
{
	(void)cpu;
	(void)ctx;
	g_sr.calls++;
	acc->value = 0x1234;
	acc->stop = true;
	return true;
}

static void test_sysreg_stop(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_exit e;

	/* EL1: mrs x4, S3_0_C15_C0_0; mrs x5, S3_0_C15_C0_0; smc #9 */
	put32(f, P_CODE1 + 0x100, a64_mrs(4, A64_IMPDEF));
	put32(f, P_CODE1 + 0x104, a64_mrs(5, A64_IMPDEF));
	put32(f, P_CODE1 + 0x108, 0xd4000123);
	assert_int_equal(rk_cpu_invalidate_code(f->cpu, RAM_IPA, 4096), 0);
	memset(&g_sr, 0, sizeof(g_sr));
	assert_int_equal(rk_cpu_set_sysreg_handler(f->cpu, sr_stop_handler, NULL), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, VA(P_CODE1 + 0x100));
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SYSREG);
	assert_int_equal(e.pc, VA(P_CODE1 + 0x104));
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_PC), VA(P_CODE1 + 0x104));
	assert_true(e.sysreg.is_read);
	assert_true(e.sysreg.stop);
	assert_int_equal(e.sysreg.rt, 4);
	assert_int_equal(e.sysreg.value, 0x1234);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(4)), 0x1234);
	assert_int_equal(g_sr.calls, 1);
	assert_string_equal(rk_cpu_exit_reason_name(RK_CPU_EXIT_SYSREG), "sysreg");
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SYSREG); /* the next one, once */
	assert_int_equal(e.pc, VA(P_CODE1 + 0x108));
	assert_int_equal(e.sysreg.rt, 5);
	assert_int_equal(g_sr.calls, 2);
	e = t_cpu_run(f->cpu, RK_CPU_EXIT_SMC); /* the SMC after them, not skipped */
	assert_int_equal(e.imm, 9);
	assert_int_equal(g_sr.calls, 2);
	assert_int_equal(rk_cpu_set_sysreg_handler(f->cpu, NULL, NULL), 0);
}

/* A trapped register the engine implements: the handler gets the engine's value and answers. */
static void test_sysreg_trap(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_exit e;
	uint64_t raw;

	put32(f, P_CODE1 + 0x100, a64_mrs(4, A64_ID_AA64PFR0));
	put32(f, P_CODE1 + 0x104, 0xd4000123);
	assert_int_equal(rk_cpu_invalidate_code(f->cpu, RAM_IPA, 4096), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, VA(P_CODE1 + 0x100));
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	raw = t_cpu_reg(f->cpu, RK_CPU_REG_X(4));
	assert_int_not_equal(raw & 0xf, 0); /* EL0 field: AArch64 */

	memset(&g_sr, 0, sizeof(g_sr));
	g_sr.answer = true;
	assert_int_equal(rk_cpu_set_sysreg_handler(f->cpu, sr_handler, NULL), 0);
	/* not trapped: the engine's */
	t_cpu_set(f->cpu, RK_CPU_REG_PC, VA(P_CODE1 + 0x100));
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(4)), raw);
	assert_int_equal(g_sr.calls, 0);
	/* trapped: the handler's (the engine's value with the low field masked) */
	assert_int_equal(rk_cpu_trap_sysreg(f->cpu, RK_CPU_SYSREG(3, 0, 0, 4, 0), true), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, VA(P_CODE1 + 0x100));
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(4)), raw & ~0xfull);
	assert_int_equal(g_sr.calls, 1);
	assert_true(g_sr.last.known);
	assert_int_equal(g_sr.last.value, raw);
	assert_int_equal(g_sr.last.el, 1);
	/* from EL0 the handler sees el 0 and declines: the engine refuses, the guest's UNDEF */
	g_sr.answer = false;
	e = to_el0(f, E0_ID, SPSR_EL0T, RK_CPU_EXIT_SMC);
	expect_vector(f, &e, 1, EC_ISS(ESR_EC_UNKNOWN, 0), 0, VA(P_CODE0 + E0_ID), SPSR_EL0T);
	assert_int_equal(g_sr.calls, 2); /* offered once, not again at the refusal */
	assert_int_equal(g_sr.last.el, 0);
	/* untrapped again */
	assert_int_equal(rk_cpu_trap_sysreg(f->cpu, RK_CPU_SYSREG(3, 0, 0, 4, 0), false), 0);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, VA(P_CODE1 + 0x100));
	t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X(4)), raw);
	/* bad input */
	assert_int_equal(rk_cpu_trap_sysreg(f->cpu, RK_CPU_SYSREG(1, 0, 7, 5, 1), true), -EINVAL);
	assert_int_equal(rk_cpu_trap_sysreg(f->cpu, 1u << 16, true), -EINVAL);
	assert_int_equal(rk_cpu_trap_sysreg(NULL, RK_CPU_SYSREG(3, 0, 0, 4, 0), true), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_el0_svc_brk, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_el0_undef_smc_hvc, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_el0_data_aborts, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_el0_insn_aborts, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_el0_masked, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_el0_stage2_exit, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_el0_stops_inject, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_el0_inject_new_window, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_el1_exceptions, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_sysreg_unknown, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_sysreg_stop, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_sysreg_trap, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
