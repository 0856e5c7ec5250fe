/* SPDX-License-Identifier: MIT */
/*
 * A running realm with its own MMU on, through the real RMM (RMI commands
 * through the SMC conduit, as the host issues them), in the vCPU backend's
 * stage-2 mode (include/realmkit/cpu.h): every test runs with the guest's
 * MMU off and on (those of the realm's own tables: on). With the MMU on the
 * realm runs at a high VA (TTBR1 maps HI + IPA to IPA), so that a VA never
 * equals its IPA: FAR and ELR values tell VA from IPA.
 *
 * - RTT changes seen on the realm's next access, no stale translation
 *   (reference 8.5, 8.7, 7.2, 7.3, 8.2, 5.3): DATA_UNMAP (data and code),
 *   UNPROT_UNMAP, RTT_DESTROY of an unprotected RTT with NS mappings,
 *   RTT_FOLD then DATA_UNMAP of the block and RTT_DESTROY, SET_RIPAS to EMPTY,
 *   REALM_TERMINATE;
 * - NS memory shared through the unprotected half (host writes, realm reads;
 *   realm writes, host reads);
 * - the realm's stage-1 tables (TTBR0) at an unassigned protected IPA, at
 *   RIPAS EMPTY memory, at mapped and at unmapped unprotected memory
 *   (10.4: aborts the RMM handles itself, the sanitised ESR);
 * - every exit kind: protected unassigned, emulatable MMIO of each size
 *   and sign (ISV, SAS, SF, WnR; the RMM completes Rt), non-emulatable
 *   (LDP, pre-index) answered by INJECT_SEA, instruction aborts, host call,
 *   PSCI, WFI (WFE never traps: cpu.h), RSI calls and HVC from a high VA.
 *
 * The realm is driven by the host: at each HOST_CALL exit the host's
 * answer (enter.gprs, written to the RsiHostCall structure) names the next
 * action: {ipa, op, a2, a3, a4, a5} (see prog_build()).
 */
#include "exec_util.h"

#define HI 0xffff000000000000ULL /* TTBR1 VA base: the high alias of every IPA */

/* the realm's protected IPAs (RIPAS RAM below XR_RAM_TOP) */
#define D_IPA 0x4000ULL   /* a data page (pattern) */
#define C2_IPA 0x5000ULL  /* a code page: RET */
#define UA_IPA 0x6000ULL  /* RIPAS RAM, never assigned */
#define UA2_IPA 0x7000ULL /* RIPAS RAM, never assigned */
#define PT_L0 0x8000ULL   /* the realm's stage-1 tables */
#define PT_L1 0x9000ULL
#define PT_L2 0xa000ULL
#define PT_L3 0xb000ULL
#define PT_L1U 0xc000ULL
#define CFG_IPA 0xd000ULL     /* RSI_REALM_CONFIG's page */
#define EMPTY_IPA 0x100000ULL /* RIPAS EMPTY */
#define BIG_IPA 0x200000ULL   /* a 2 MiB RIPAS RAM block (ASSIGNED at level 2) */
/* unprotected IPAs */
#define NS_IPA (XR_PAR_TOP + 0x100000ULL)  /* an NS page (UNPROT_MAP) */
#define NS2_IPA (XR_PAR_TOP + 0x200000ULL) /* an NS page holding stage-1 tables */
#define NS3_IPA (XR_PAR_TOP + 0x300000ULL) /* unmapped, its L3 table exists */

#define D_VAL 0xd0d1d2d3d4d5d6d7ULL
#define NS_VAL 0x5151525253535454ULL

/* TCR_EL1: 48-bit VAs in both halves, 4 KiB granules, WB IS walks, 44-bit IPS */
#define TCR                                                                                                 \
	(16ULL | 1ULL << 8 | 1ULL << 10 | 3ULL << 12 | 16ULL << 16 | 1ULL << 24 | 1ULL << 26 | 3ULL << 28 | \
	 2ULL << 30 | 4ULL << 32)
#define MAIR 0x00ffULL /* attr 0 Normal WB, attr 1 Device-nGnRnE */
#define S1_TABLE 3ULL
#define S1_PAGE 0x703ULL   /* AF, inner shareable, attr 0, EL1 RW, executable */
#define S1_BLOCK 0x701ULL  /* the same as a block */
#define S1_DEVBLK 0x405ULL /* AF, attr 1, block */

#define SYS_TTBR0 A64_SYSREG(3, 0, 2, 0, 0)
#define SYS_TTBR1 A64_SYSREG(3, 0, 2, 0, 1)
#define SYS_TCR A64_SYSREG(3, 0, 2, 0, 2)
#define SYS_MAIR A64_SYSREG(3, 0, 10, 2, 0)
#define SYS_SCTLR A64_SYSREG(3, 0, 1, 0, 0)
#define A64_ISB 0xd5033fdfu
#define A64_DSB_ISH 0xd5033b9fu
#define A64_TLBI_VMALLE1 0xd508871fu
#define A64_RET 0xd65f03c0u

/* ops the host asks for (the realm's x26) */
enum op {
	OP_LOAD,  /* x3 = [va]; report x3 */
	OP_EXEC,  /* BLR va; report 0x600d, or 0xbad if the fetch was aborted into the vector */
	OP_STORE, /* [va] = a2 */
	OP_SMC,   /* x0 = a2, x1 = ipa (raw), x2 = a3, x3 = a4, x4 = a5; SMC; report x0, x1 */
	OP_TTBR0, /* TTBR0_EL1 = ipa (raw), TLBI VMALLE1 */
	OP_MMIO,  /* the MMIO suite (see prog_build) */
	OP_HCW,   /* write RsiHostCall.imm = 0x1234 and gprs[5] = 0x5555 through the VA */
	OP_WFX,   /* WFI; WFE; report 0x600d */
	OP_NOPS
};
#define OP_RAW 0x100ULL /* the address is used as given (not made a high VA) */

#define MMIO_R 0xfedcba98f6e5d4c3ULL /* what the host answers to MMIO loads */
#define MMIO_W 0x8877665544332211ULL /* what the realm stores to MMIO */

struct mr {
	struct xr x;
	bool mmu;
	unsigned int ld, blr, ldp, preidx, hvc; /* instruction indices */
	uint64_t nsp, ns2p;                     /* the NS pages' PAs */
	uint64_t code0;                         /* the first 8 bytes of the code */
};

static uint64_t va(const struct mr *r, uint64_t ipa)
{
	return r->mmu ? HI | ipa : ipa;
}

/* The VA of instruction k of the code. */
static uint64_t insn_va(const struct mr *r, unsigned int k)
{
	return va(r, p_ipa(k));
}

static uint32_t a64_adr(unsigned int rd, int32_t words)
{
	uint32_t imm = (uint32_t)words * 4u;

	return 0x10000000u | ((imm & 3u) << 29) | (((imm >> 2) & 0x7ffffu) << 5) | rd;
}

static uint32_t a64_blr(unsigned int rn)
{
	return 0xd63f0000u | (rn << 5);
}

/* Emit a placeholder, patched by patch_b*() once the target is known. */
static unsigned int hole(struct prog *p)
{
	p_put(p, A64_UDF);
	return p->n - 1;
}

static void patch_beq(struct prog *p, unsigned int at, unsigned int target)
{
	p->w[at] = a64_bcond(A64_COND_EQ, (int32_t)target - (int32_t)at);
}

static void p_prologue_mmu(struct prog *p, bool mmu)
{
	if (mmu) {
		p_mov(p, 9, PT_L0);
		p_put(p, a64_msr(SYS_TTBR0, 9));
		p_put(p, a64_msr(SYS_TTBR1, 9));
		p_mov(p, 9, TCR);
		p_put(p, a64_msr(SYS_TCR, 9));
		p_mov(p, 9, MAIR);
		p_put(p, a64_msr(SYS_MAIR, 9));
		p_put(p, A64_ISB);
		p_put(p, a64_mrs(9, SYS_SCTLR));
		p_put(p, 0xb2400129u); /* orr x9, x9, #1 (M) */
		p_put(p, a64_msr(SYS_SCTLR, 9));
		p_put(p, A64_ISB);
		/* on to the high alias of the next instruction */
		unsigned int at = p->n;
		p_mov(p, 9, 0);
		p_put(p, a64_br(9));
		a64_mov64(&p->w[at], 9, HI | p_ipa(p->n));
	}
	p_mov(p, XR_MMIO_REG, (mmu ? HI : 0) | XR_MMIO_IPA);
	p_mov(p, 9, (mmu ? HI : 0) | XR_VEC_IPA);
	p_put(p, a64_msr(A64_VBAR_EL1, 9));
	p_mov(p, XR_HC_REG, (mmu ? HI : 0) | XR_HC_IPA);
	p_mov(p, 18, mmu ? HI : 0);
}

static void prog_build(struct mr *r, struct prog *p)
{
	unsigned int beq[OP_NOPS], loop;

	memset(p, 0, sizeof(*p));
	p_prologue_mmu(p, r->mmu);
	loop = p->n;
	p_mov(p, 1, XR_HC_IPA);
	p_smc(p, RSI_FID_HOST_CALL);
	p_put(p, a64_ldp(25, 26, XR_HC_REG, 8));  /* ipa, op */
	p_put(p, a64_ldp(24, 23, XR_HC_REG, 24)); /* a2, a3 */
	p_put(p, a64_ldp(22, 21, XR_HC_REG, 40)); /* a4, a5 */
	p_put(p, a64_mov(1, 25));
	p_put(p, 0x37000000u | (8u << 19) | (2u << 5) | 26u);   /* tbnz x26, #8, +2 */
	p_put(p, 0xaa000000u | (18u << 16) | (25u << 5) | 25u); /* orr x25, x25, x18 */
	p_put(p, 0x92401c00u | (26u << 5) | 26u);               /* and x26, x26, #0xff */
	for (unsigned int o = 0; o < OP_NOPS; o++) {
		p_put(p, a64_subs_imm(31, 26, o));
		beq[o] = hole(p);
	}
	p_b_to(p, loop);

	patch_beq(p, beq[OP_LOAD], p->n);
	r->ld = p->n;
	p_put(p, a64_ldr(3, 25));
	p_report(p, 3);
	p_b_to(p, loop);

	patch_beq(p, beq[OP_EXEC], p->n);
	unsigned int adr = p->n;
	p_put(p, A64_UDF);
	r->blr = p->n;
	p_put(p, a64_blr(25));
	p_put(p, a64_movz(XR_RESUME_REG, 0, 0));
	p_put(p, a64_movz(3, 0x600d, 0));
	p_report(p, 3);
	p_b_to(p, loop);
	p->w[adr] = a64_adr(XR_RESUME_REG, (int32_t)(p->n - adr));
	p_put(p, a64_movz(3, 0xbad, 0));
	p_report(p, 3);
	p_b_to(p, loop);

	patch_beq(p, beq[OP_STORE], p->n);
	p_put(p, a64_str(24, 25));
	p_b_to(p, loop);

	patch_beq(p, beq[OP_SMC], p->n);
	p_put(p, a64_mov(0, 24));
	p_put(p, a64_mov(2, 23));
	p_put(p, a64_mov(3, 22));
	p_put(p, a64_mov(4, 21));
	p_put(p, A64_SMC);
	p_report(p, 0);
	p_report(p, 1);
	p_b_to(p, loop);

	patch_beq(p, beq[OP_TTBR0], p->n);
	p_put(p, a64_msr(SYS_TTBR0, 1));
	p_put(p, A64_TLBI_VMALLE1);
	p_put(p, A64_DSB_ISH);
	p_put(p, A64_ISB);
	p_b_to(p, loop);

	patch_beq(p, beq[OP_MMIO], p->n);
	p_put(p, a64_ldst(A64_OP_LDRB, 0, 5, XR_MMIO_REG, 1));
	p_put(p, a64_ldst(A64_OP_LDRSHX, 1, 6, XR_MMIO_REG, 2));
	p_put(p, a64_ldst(A64_OP_LDRSW, 2, 7, XR_MMIO_REG, 4));
	p_put(p, a64_ldst(A64_OP_LDRW, 2, 8, XR_MMIO_REG, 8));
	p_put(p, a64_ldst(A64_OP_LDRSBW, 0, 9, XR_MMIO_REG, 3));
	p_put(p, a64_ldst(A64_OP_LDRX, 3, 10, XR_MMIO_REG, 16));
	for (unsigned int k = 5; k <= 10; k++)
		p_report(p, k);
	p_mov(p, 11, MMIO_W);
	p_put(p, a64_ldst(A64_OP_STRB, 0, 11, XR_MMIO_REG, 1));
	p_put(p, a64_ldst(A64_OP_STRH, 1, 11, XR_MMIO_REG, 2));
	p_put(p, a64_ldst(A64_OP_STRW, 2, 11, XR_MMIO_REG, 4));
	p_put(p, a64_ldst(A64_OP_STRX, 3, 11, XR_MMIO_REG, 8));
	p_put(p, a64_ldst(A64_OP_STRX, 3, 31, XR_MMIO_REG, 16));
	p_put(p, a64_mov(12, XR_MMIO_REG));
	r->ldp = p->n;
	p_put(p, a64_ldp(1, 2, XR_MMIO_REG, 0));
	r->preidx = p->n;
	p_put(p, 0xf8400c00u | (16u << 12) | (12u << 5) | 1u); /* ldr x1, [x12, #16]! */
	r->hvc = p->n;
	p_put(p, A64_HVC);
	p_b_to(p, loop);

	patch_beq(p, beq[OP_HCW], p->n);
	p_put(p, a64_movz(9, 0x1234, 0));
	p_put(p, a64_ldst(A64_OP_STRH, 1, 9, XR_HC_REG, 0));
	p_put(p, a64_movz(9, 0x5555, 0));
	p_put(p, a64_str_off(9, XR_HC_REG, 8 + 5 * 8));
	p_b_to(p, loop);

	patch_beq(p, beq[OP_WFX], p->n);
	p_put(p, A64_WFI);
	p_put(p, A64_WFE);
	p_put(p, a64_movz(3, 0x600d, 0));
	p_report(p, 3);
	p_b_to(p, loop);
}

/* The realm's stage-1 tables: identity for [0, 64 KiB), EMPTY_IPA, the 2 MiB block at BIG_IPA,
 * and the first GiB of the unprotected half as device memory; TTBR1 uses the same tables. */
static void stage1_tables(struct xr *x)
{
	static uint64_t t[512];

	memset(t, 0, sizeof(t));
	t[0] = PT_L1 | S1_TABLE;
	t[1] = PT_L1U | S1_TABLE;
	xr_page(x, PT_L0, t, RMI_NO_MEASURE_CONTENT);
	memset(t, 0, sizeof(t));
	t[0] = PT_L2 | S1_TABLE;
	xr_page(x, PT_L1, t, RMI_NO_MEASURE_CONTENT);
	memset(t, 0, sizeof(t));
	t[0] = PT_L3 | S1_TABLE;
	t[1] = BIG_IPA | S1_BLOCK;
	xr_page(x, PT_L2, t, RMI_NO_MEASURE_CONTENT);
	memset(t, 0, sizeof(t));
	for (unsigned int i = 0; i < XR_RAM_TOP / G; i++)
		t[i] = i * G | S1_PAGE;
	t[EMPTY_IPA / G] = EMPTY_IPA | S1_PAGE;
	xr_page(x, PT_L3, t, RMI_NO_MEASURE_CONTENT);
	memset(t, 0, sizeof(t));
	t[0] = XR_PAR_TOP | S1_DEVBLK;
	xr_page(x, PT_L1U, t, RMI_NO_MEASURE_CONTENT);
}

/* RmiRttUnprotMapFlags.S2AP, direct encoding: bit 0 W, bit 1 R */
#define S2AP_RW 3u

static void unprot_map(struct xr *x, uint64_t ipa, uint64_t pa)
{
	t_rtt_to(x->m, x->rd, ipa, 3, &env.pool);
	assert_int_equal(RMI(x->m, RMI_FID_RTT_UNPROT_MAP, NULL, x->rd, ipa, ipa + G,
			     t_unprot_flags(RMI_ADDR_TYPE_SINGLE, 6, S2AP_RW), t_desc(pa, 3, 1)),
			 RMI_SUCCESS);
}

/* [BIG_IPA, +2 MiB): RIPAS RAM, one ASSIGNED block at level 2 (contiguous, aligned granules). */
static void big_block(struct xr *x)
{
	struct rmi_out o;
	uint64_t pa = t_pool_delegated(x->m, &env.pool, 512, 2ULL << 20);

	t_rtt_to(x->m, x->rd, BIG_IPA, 2, &env.pool);
	assert_int_equal(RMI(x->m, RMI_FID_RTT_INIT_RIPAS, &o, x->rd, BIG_IPA, BIG_IPA + (2ULL << 20)),
			 RMI_SUCCESS);
	assert_int_equal(o.x[1], BIG_IPA + (2ULL << 20));
	assert_int_equal(RMI(x->m, RMI_FID_RTT_DATA_MAP, &o, x->rd, BIG_IPA, BIG_IPA + (2ULL << 20),
			     (uint64_t)RMI_ADDR_TYPE_SINGLE, t_desc(pa, 2, 1)),
			 RMI_SUCCESS);
	assert_int_equal(o.x[1], BIG_IPA + (2ULL << 20));
}

/* A realm running the host-driven program, stopped at its first HOST_CALL exit. */
static void mr_start(struct mr *r, bool mmu)
{
	static uint64_t page[512];
	struct prog p;
	struct xr *x = &r->x;

	memset(r, 0, sizeof(*r));
	r->mmu = mmu;
	prog_build(r, &p);
	r->code0 = p.w[0] | (uint64_t)p.w[1] << 32;
	xr_create(&env, x, RMI_HASH_SHA_256, NULL);
	xr_program(x, &p);
	for (unsigned int i = 0; i < 512; i++)
		page[i] = D_VAL + i;
	xr_page(x, D_IPA, page, RMI_NO_MEASURE_CONTENT);
	memset(page, 0, sizeof(page));
	memcpy(page, &(uint32_t){ A64_RET }, 4);
	xr_page(x, C2_IPA, page, RMI_NO_MEASURE_CONTENT);
	xr_page(x, CFG_IPA, NULL, RMI_NO_MEASURE_CONTENT);
	stage1_tables(x);
	big_block(x);
	r->nsp = xr_ns_page(x);
	t_write(x->m, r->nsp + 0x18, &(uint64_t){ NS_VAL }, 8);
	unprot_map(x, NS_IPA, r->nsp);
	r->ns2p = xr_ns_page(x);
	unprot_map(x, NS2_IPA, r->ns2p);
	t_rtt_to(x->m, x->rd, NS3_IPA, 3, &env.pool);
	xr_rec(x, true, XR_CODE_IPA);
	xr_rec(x, false, XR_CODE_IPA);
	xr_activate(x);
	xr_rpc_start(x, 0);
}

static void mr_end(struct mr *r)
{
	struct xr *xs[] = { &r->x };

	xr_teardown(xs, 1);
}

/* Complete the pending host call: the realm's next action. */
static uint64_t act(struct mr *r, uint64_t ipa, uint64_t op, uint64_t a2, uint64_t a3,
		    struct rmi_rec_exit *ex)
{
	uint64_t g[31] = { ipa, op, a2, a3 };

	return xr_enter(&r->x, 0, XR_ENTER_STANDING, g, ex);
}

static void act6(struct mr *r, const uint64_t a[6], struct rmi_rec_exit *ex)
{
	uint64_t g[31] = { a[0], a[1], a[2], a[3], a[4], a[5] };

	assert_int_equal(xr_enter(&r->x, 0, XR_ENTER_STANDING, g, ex), RMI_SUCCESS);
}

/* Enter again with these one-shot flags (nothing pending but what they answer). */
static void next(struct mr *r, uint64_t flags, struct rmi_rec_exit *ex)
{
	assert_int_equal(xr_enter(&r->x, 0, flags | XR_ENTER_STANDING, NULL, ex), RMI_SUCCESS);
}

static void expect_hc(const struct rmi_rec_exit *ex)
{
	if (ex->exit_reason != RMI_EXIT_HOST_CALL) {
		print_error("exit reason %llu (esr 0x%llx hpfar 0x%llx), expected HOST_CALL\n",
			    (unsigned long long)ex->exit_reason, (unsigned long long)ex->esr,
			    (unsigned long long)ex->hpfar);
		fail();
	}
}

/* The exit is the report of v (an MMIO store); complete it and expect the next host call. */
static void reported(struct mr *r, const struct rmi_rec_exit *ex, uint64_t v)
{
	struct rmi_rec_exit e;

	xr_expect_mmio_store(ex, 0, v);
	next(r, XR_ENTER_MMIO, &e);
	expect_hc(&e);
}

static void load_op(struct mr *r, uint64_t ipa, uint64_t op, uint64_t v)
{
	struct rmi_rec_exit ex;

	assert_int_equal(act(r, ipa, op, 0, 0, &ex), RMI_SUCCESS);
	reported(r, &ex, v);
}

static void load_ok(struct mr *r, uint64_t ipa, uint64_t v)
{
	load_op(r, ipa, OP_LOAD, v);
}

static void exec_ok(struct mr *r, uint64_t ipa)
{
	struct rmi_rec_exit ex;

	assert_int_equal(act(r, ipa, OP_EXEC, 0, 0, &ex), RMI_SUCCESS);
	reported(r, &ex, 0x600d);
}

static void store_op(struct mr *r, uint64_t ipa, uint64_t op, uint64_t v)
{
	struct rmi_rec_exit ex;

	assert_int_equal(act(r, ipa, op, v, 0, &ex), RMI_SUCCESS);
	expect_hc(&ex);
}

static void store_ok(struct mr *r, uint64_t ipa, uint64_t v)
{
	store_op(r, ipa, OP_STORE, v);
}

/* A SYNC exit for the host, sanitised (10.4): exactly this ESR and HPFAR, FAR 0. */
static void expect_sync(const struct rmi_rec_exit *ex, uint64_t esr, uint64_t ipa)
{
	struct rmi_rec_exit e = *ex;

	if (e.exit_reason != RMI_EXIT_SYNC || e.esr != esr || e.hpfar != (ipa >> 12) << 4) {
		print_error("exit %llu esr 0x%llx hpfar 0x%llx, expected SYNC esr 0x%llx hpfar 0x%llx\n",
			    (unsigned long long)e.exit_reason, (unsigned long long)e.esr,
			    (unsigned long long)e.hpfar, (unsigned long long)esr,
			    (unsigned long long)((ipa >> 12) << 4));
		fail();
	}
	e.exit_reason = 0;
	e.esr = 0;
	e.hpfar = 0;
	EX_DONE(e);
}

/* The level at which the RTT walk for ipa stops (a stage-2 translation fault's level). */
static int rtt_level(struct mr *r, uint64_t ipa)
{
	struct rmi_out o;

	assert_int_equal(t_read_entry(r->x.m, r->x.rd, ipa, 3, &o), RMI_SUCCESS);
	return (int)o.x[1];
}

#define ANY (~0ULL) /* FAR UNKNOWN (an UNDEF) */

/*
 * An exception the RMM (or the engine) delivered to the realm: its vector reports ESR, FAR, ELR
 * (three MMIO stores; ex is the first).
 */
static void expect_exc(struct mr *r, struct rmi_rec_exit *ex, uint64_t esr, uint64_t far, uint64_t elr)
{
	uint64_t v[3];

	for (int k = 0; k < 3; k++) {
		if (k)
			next(r, XR_ENTER_MMIO, ex);
		if (ex->exit_reason != RMI_EXIT_SYNC || !(ex->esr & ESR_ISV)) {
			print_error("exit %llu esr 0x%llx hpfar 0x%llx: expected the vector's report %d\n",
				    (unsigned long long)ex->exit_reason, (unsigned long long)ex->esr,
				    (unsigned long long)ex->hpfar, k);
			fail();
		}
		v[k] = ex->gprs[0];
	}
	if (v[0] != esr || (far != ANY && v[1] != far) || v[2] != elr) {
		print_error("exception esr 0x%llx far 0x%llx elr 0x%llx, expected 0x%llx 0x%llx 0x%llx\n",
			    (unsigned long long)v[0], (unsigned long long)v[1], (unsigned long long)v[2],
			    (unsigned long long)esr, (unsigned long long)far, (unsigned long long)elr);
		fail();
	}
}

/* After a delivered exception of a load: the vector resumed at the report (stale x3), then the loop. */
static void after_load_exc(struct mr *r)
{
	struct rmi_rec_exit ex, e;

	next(r, XR_ENTER_MMIO, &ex);
	e = ex;
	e.gprs[0] = 0;
	xr_expect_mmio_store(&e, 0, 0);
	next(r, XR_ENTER_MMIO, &ex);
	expect_hc(&ex);
}

/* After an aborted fetch delivered to the vector: the realm went on at its 0xbad report. */
static void after_exec_exc(struct mr *r)
{
	struct rmi_rec_exit ex;

	next(r, XR_ENTER_MMIO, &ex);
	reported(r, &ex, 0xbad);
}

#define SEA_D (ESR_EC(ESR_EC_DABT_CUR) | ESR_IL | ESR_FSC_SEA)
#define SEA_I (ESR_EC(ESR_EC_IABT_CUR) | ESR_IL | ESR_FSC_SEA)
#define S2_DABT(level) (ESR_EC(ESR_EC_DABT_LOW) | ESR_FSC_TRANS(level))
#define S2_IABT(level) (ESR_EC(ESR_EC_IABT_LOW) | ESR_FSC_TRANS(level))

static const bool mmu_off = false, mmu_on = true;
#define MMU(state) (*(const bool *)*(state))

/* ---- RTT changes seen by the running realm at its next access ------------------------------- */

/* DATA_UNMAP of a RAM page the realm has just read: its next read is a SYNC exit (RIPAS DESTROYED). */
static void test_data_unmap(void **state)
{
	struct rmi_rec_exit ex;
	struct mr r;

	mr_start(&r, MMU(state));
	load_ok(&r, D_IPA, D_VAL);
	load_ok(&r, D_IPA + 8, D_VAL + 1);
	xr_unmap(&r.x, D_IPA);
	assert_int_equal(act(&r, D_IPA, OP_LOAD, 0, 0, &ex), RMI_SUCCESS);
	expect_sync(&ex, S2_DABT(3), D_IPA);
	/* nothing the host can map: the same exit again, never the old page */
	next(&r, 0, &ex);
	expect_sync(&ex, S2_DABT(3), D_IPA);
	struct rmi_out o;
	assert_int_equal(t_read_entry(r.x.m, r.x.rd, D_IPA, 3, &o), RMI_SUCCESS);
	assert_int_equal(o.x[2], RMI_RTTE_UNASSIGNED);
	assert_int_equal(o.x[4], RMI_RIPAS_DESTROYED);
	mr_end(&r);
}

/* DATA_UNMAP of a code page the realm has just run: its next call there is an instruction abort exit. */
static void test_data_unmap_code(void **state)
{
	struct rmi_rec_exit ex;
	struct mr r;

	mr_start(&r, MMU(state));
	exec_ok(&r, C2_IPA);
	exec_ok(&r, C2_IPA);
	xr_unmap(&r.x, C2_IPA);
	assert_int_equal(act(&r, C2_IPA, OP_EXEC, 0, 0, &ex), RMI_SUCCESS);
	expect_sync(&ex, S2_IABT(3), C2_IPA);
	next(&r, 0, &ex);
	expect_sync(&ex, S2_IABT(3), C2_IPA);
	mr_end(&r);
}

/*
 * NS memory through the unprotected half: the host writes, the realm reads; the realm writes, the
 * host reads. After UNPROT_UNMAP the next access is an emulatable MMIO exit (ISV, SAS, SF, WnR; FAR
 * the page offset) that the host completes.
 */
static void test_unprot_unmap(void **state)
{
	struct rmi_rec_exit ex;
	uint64_t v = 0;
	struct mr r;

	mr_start(&r, MMU(state));
	load_ok(&r, NS_IPA + 0x18, NS_VAL);
	store_ok(&r, NS_IPA + 0x20, 0x1122334455667788ULL);
	t_read(r.x.m, r.nsp + 0x20, &v, 8);
	assert_int_equal(v, 0x1122334455667788ULL);
	v = 0xabcdULL;
	t_write(r.x.m, r.nsp + 0x18, &v, 8);
	load_ok(&r, NS_IPA + 0x18, 0xabcd);
	load_ok(&r, NS_IPA + 0x20, 0x1122334455667788ULL);

	assert_int_equal(RMI(r.x.m, RMI_FID_RTT_UNPROT_UNMAP, NULL, r.x.rd, NS_IPA, NS_IPA + G, 0ULL, 0ULL),
			 RMI_SUCCESS);
	assert_int_equal(act(&r, NS_IPA + 0x18, OP_LOAD, 0, 0, &ex), RMI_SUCCESS);
	struct rmi_rec_exit e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_SYNC);
	EX_EQ(e, esr, ESR_EC(ESR_EC_DABT_LOW) | ESR_IL | ESR_ISV | ESR_SAS(3) | ESR_SF | ESR_FSC_TRANS(3));
	EX_EQ(e, far, 0x18);
	EX_EQ(e, hpfar, (NS_IPA >> 12) << 4);
	EX_DONE(e);
	assert_int_equal(xr_enter_v(&r.x, 0, XR_ENTER_MMIO | XR_ENTER_STANDING, 0x4242, &ex), RMI_SUCCESS);
	reported(&r, &ex, 0x4242);
	/* a store: the value for the host, the NS page untouched */
	assert_int_equal(act(&r, NS_IPA + 0x20, OP_STORE, 0x99, 0, &ex), RMI_SUCCESS);
	e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_SYNC);
	EX_EQ(e, esr,
	      ESR_EC(ESR_EC_DABT_LOW) | ESR_IL | ESR_ISV | ESR_SAS(3) | ESR_SF | ESR_WNR | ESR_FSC_TRANS(3));
	EX_EQ(e, far, 0x20);
	EX_EQ(e, hpfar, (NS_IPA >> 12) << 4);
	EX_EQ(e, gprs[0], 0x99);
	EX_DONE(e);
	next(&r, XR_ENTER_MMIO, &ex);
	expect_hc(&ex);
	t_read(r.x.m, r.nsp + 0x20, &v, 8);
	assert_int_equal(v, 0x1122334455667788ULL);
	/* mapped again: the realm reads the host's memory again */
	unprot_map(&r.x, NS_IPA, r.nsp);
	load_ok(&r, NS_IPA + 0x18, 0xabcd);
	mr_end(&r);
}

/*
 * NS memory the host maps read-only (S2AP R): the realm reads it; a store is a permission fault
 * for the host, emulatable (ISV, WnR, the value), and the NS page stays as it was.
 */
static void test_unprot_readonly(void **state)
{
	const uint64_t ro = NS_IPA + G;
	struct rmi_rec_exit ex;
	uint64_t v = 0x0123456789abcdefULL;
	struct mr r;

	mr_start(&r, MMU(state));
	uint64_t pa = xr_ns_page(&r.x);
	t_write(r.x.m, pa + 0x40, &v, 8);
	assert_int_equal(RMI(r.x.m, RMI_FID_RTT_UNPROT_MAP, NULL, r.x.rd, ro, ro + G,
			     t_unprot_flags(RMI_ADDR_TYPE_SINGLE, 6, 2 /* R */), t_desc(pa, 3, 1)),
			 RMI_SUCCESS);
	load_ok(&r, ro + 0x40, v);
	assert_int_equal(act(&r, ro + 0x40, OP_STORE, 0x55, 0, &ex), RMI_SUCCESS);
	struct rmi_rec_exit e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_SYNC);
	EX_EQ(e, esr,
	      ESR_EC(ESR_EC_DABT_LOW) | ESR_IL | ESR_ISV | ESR_SAS(3) | ESR_SF | ESR_WNR | ESR_FSC_PERM(3));
	EX_EQ(e, far, 0x40);
	EX_EQ(e, hpfar, (ro >> 12) << 4);
	EX_EQ(e, gprs[0], 0x55);
	EX_DONE(e);
	next(&r, XR_ENTER_MMIO, &ex);
	expect_hc(&ex);
	load_ok(&r, ro + 0x40, v);
	mr_end(&r);
}

/* RTT_DESTROY of an unprotected RTT that still holds an NS mapping: the next access is MMIO (level 2). */
static void test_rtt_destroy_unprot(void **state)
{
	struct rmi_rec_exit ex;
	struct rmi_out o;
	struct mr r;

	mr_start(&r, MMU(state));
	load_ok(&r, NS2_IPA, 0);
	load_ok(&r, NS_IPA + 0x18, NS_VAL);
	/* [2^39 + 2 MiB, + 4 MiB) has the L3 table of NS2_IPA, with one NS mapping */
	assert_int_equal(RMI(r.x.m, RMI_FID_RTT_DESTROY, &o, r.x.rd, NS2_IPA, 3ULL), RMI_SUCCESS);
	assert_int_equal(act(&r, NS2_IPA + 8, OP_LOAD, 0, 0, &ex), RMI_SUCCESS);
	struct rmi_rec_exit e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_SYNC);
	EX_EQ(e, esr, ESR_EC(ESR_EC_DABT_LOW) | ESR_IL | ESR_ISV | ESR_SAS(3) | ESR_SF | ESR_FSC_TRANS(2));
	EX_EQ(e, far, 8);
	EX_EQ(e, hpfar, (NS2_IPA >> 12) << 4);
	EX_DONE(e);
	assert_int_equal(xr_enter_v(&r.x, 0, XR_ENTER_MMIO | XR_ENTER_STANDING, 7, &ex), RMI_SUCCESS);
	reported(&r, &ex, 7);
	/* the other NS page (another RTT) is still there */
	load_ok(&r, NS_IPA + 0x18, NS_VAL);
	mr_end(&r);
}

/*
 * A 2 MiB block: unfolded by RTT_CREATE, written and read page by page, folded again by RTT_FOLD
 * (the realm sees the same memory, also pages it never touched); DATA_UNMAP of the block: the next
 * access exits (level 2); RTT_CREATE below the DESTROYED block (level 3) and RTT_DESTROY (level 2).
 */
static void test_fold_unmap_destroy(void **state)
{
	const uint64_t a = BIG_IPA + 0x1000, b = BIG_IPA + 0x1ff000, c = BIG_IPA + 0x100008;
	struct rmi_rec_exit ex;
	struct rmi_out o;
	struct mr r;

	mr_start(&r, MMU(state));
	load_ok(&r, a, 0);
	t_rtt_create(r.x.m, r.x.rd, xr_delegated(&r.x, 1), BIG_IPA, 3);
	store_ok(&r, a, 0xa1);
	load_ok(&r, a, 0xa1);
	store_ok(&r, c, 0xc1);
	assert_int_equal(RMI(r.x.m, RMI_FID_RTT_FOLD, &o, r.x.rd, BIG_IPA, 3ULL), RMI_SUCCESS);
	assert_int_equal(rtt_level(&r, a), 2);
	load_ok(&r, a, 0xa1);
	load_ok(&r, c, 0xc1);
	load_ok(&r, b, 0);
	store_ok(&r, b, 0xb1);
	load_ok(&r, b, 0xb1);

	assert_int_equal(
		RMI(r.x.m, RMI_FID_RTT_DATA_UNMAP, &o, r.x.rd, BIG_IPA, BIG_IPA + (2ULL << 20), 0ULL, 0ULL),
		RMI_SUCCESS);
	assert_int_equal(o.x[1], BIG_IPA + (2ULL << 20));
	assert_int_equal(act(&r, b, OP_LOAD, 0, 0, &ex), RMI_SUCCESS);
	expect_sync(&ex, S2_DABT(2), b);
	/* an RTT below the DESTROYED block: 512 DESTROYED pages, a level-3 fault */
	t_rtt_create(r.x.m, r.x.rd, xr_delegated(&r.x, 1), BIG_IPA, 3);
	next(&r, 0, &ex);
	expect_sync(&ex, S2_DABT(3), b);
	assert_int_equal(RMI(r.x.m, RMI_FID_RTT_DESTROY, &o, r.x.rd, BIG_IPA, 3ULL), RMI_SUCCESS);
	next(&r, 0, &ex);
	expect_sync(&ex, S2_DABT(2), b);
	mr_end(&r);
}

/*
 * SET_RIPAS RAM -> EMPTY of a page the realm has just read: its next read takes an SEA at the VA;
 * of a code page it has just run: its next call there takes an SEA (instruction abort) at the VA.
 */
static void test_set_ripas_empty(void **state)
{
	struct rmi_rec_exit ex;
	struct rmi_out o;
	struct mr r;

	mr_start(&r, MMU(state));
	load_ok(&r, D_IPA, D_VAL);
	const uint64_t a[6] = {
		D_IPA, OP_SMC | OP_RAW, RSI_FID_IPA_STATE_SET, D_IPA + G, RMI_RIPAS_EMPTY, 0
	};
	act6(&r, a, &ex);
	assert_int_equal(ex.exit_reason, RMI_EXIT_RIPAS_CHANGE);
	assert_int_equal(RMI(r.x.m, RMI_FID_RTT_SET_RIPAS, &o, r.x.rd, r.x.rec[0], D_IPA, D_IPA + G),
			 RMI_SUCCESS);
	next(&r, 0, &ex);
	xr_expect_mmio_store(&ex, 0, RSI_SUCCESS);
	next(&r, XR_ENTER_MMIO, &ex);
	xr_expect_mmio_store(&ex, 0, D_IPA + G);
	next(&r, XR_ENTER_MMIO, &ex);
	expect_hc(&ex);
	assert_int_equal(act(&r, D_IPA + 0x10, OP_LOAD, 0, 0, &ex), RMI_SUCCESS);
	expect_exc(&r, &ex, SEA_D, va(&r, D_IPA + 0x10), insn_va(&r, r.ld));
	after_load_exc(&r);
	/* and again: EMPTY stays EMPTY */
	assert_int_equal(act(&r, D_IPA, OP_LOAD, 0, 0, &ex), RMI_SUCCESS);
	expect_exc(&r, &ex, SEA_D, va(&r, D_IPA), insn_va(&r, r.ld));
	after_load_exc(&r);

	/* a code page the realm has just run, made EMPTY: its translated code does not run again */
	exec_ok(&r, C2_IPA);
	const uint64_t c[6] = {
		C2_IPA, OP_SMC | OP_RAW, RSI_FID_IPA_STATE_SET, C2_IPA + G, RMI_RIPAS_EMPTY, 0
	};
	act6(&r, c, &ex);
	assert_int_equal(ex.exit_reason, RMI_EXIT_RIPAS_CHANGE);
	assert_int_equal(RMI(r.x.m, RMI_FID_RTT_SET_RIPAS, &o, r.x.rd, r.x.rec[0], C2_IPA, C2_IPA + G),
			 RMI_SUCCESS);
	next(&r, 0, &ex);
	xr_expect_mmio_store(&ex, 0, RSI_SUCCESS);
	next(&r, XR_ENTER_MMIO, &ex);
	reported(&r, &ex, C2_IPA + G);
	assert_int_equal(act(&r, C2_IPA, OP_EXEC, 0, 0, &ex), RMI_SUCCESS);
	expect_exc(&r, &ex, SEA_I, va(&r, C2_IPA), va(&r, C2_IPA));
	after_exec_exc(&r);
	mr_end(&r);
}

/* REALM_TERMINATE: refused while a REC runs; afterwards no REC enters (ERROR_REALM, no exit record). */
static void test_terminate(void **state)
{
	struct rmi_rec_exit ex;
	struct xr_blocked b;
	struct mr r;

	mr_start(&r, MMU(state));
	load_ok(&r, D_IPA, D_VAL);
	xr_block_start(&b, &r.x, 0);
	RMI_FAIL(r.x.m, RMI_ERROR_REALM, RMI_FID_REALM_TERMINATE, r.x.rd);
	xr_block_end(&b);
	/* that entry answered the host call with zeros: a load of IPA 0, reported */
	if (b.ex.exit_reason == RMI_EXIT_IRQ)
		next(&r, 0, &ex);
	else
		ex = b.ex;
	reported(&r, &ex, r.code0);
	assert_int_equal(RMI(r.x.m, RMI_FID_REALM_TERMINATE, NULL, r.x.rd), RMI_SUCCESS);
	uint64_t g[31] = { D_IPA, OP_LOAD };
	assert_int_equal(xr_enter1(&r.x, 0, XR_ENTER_STANDING, g, &ex), RMI_ERROR_REALM);
	assert_int_equal(xr_enter1(&r.x, 1, 0, NULL, &ex), RMI_ERROR_REALM);
	mr_end(&r);
}

/* ---- the realm's stage-1 tables in unusual memory (guest MMU on) ------------------------------- */

/* Point TTBR0 at ipa (the realm's next action; TLBI VMALLE1 follows). */
static void set_ttbr0(struct mr *r, uint64_t ipa)
{
	struct rmi_rec_exit ex;

	assert_int_equal(act(r, ipa, OP_TTBR0 | OP_RAW, 0, 0, &ex), RMI_SUCCESS);
	expect_hc(&ex);
}

/*
 * TTBR0 at a protected IPA with RIPAS RAM and nothing assigned: the walk's stage-2 fault is a SYNC
 * exit at the table's IPA (sanitised: EC, FSC only - no S1PTW, no FAR); once the host maps a (zeroed)
 * page there, the walk finds no descriptor: a stage-1 fault at level 0 for the realm, at the VA.
 */
static void test_pt_unassigned(void **state)
{
	struct rmi_rec_exit ex;
	struct mr r;

	mr_start(&r, MMU(state));
	assert_true(r.mmu); /* the realm's own tables: MMU on only */
	set_ttbr0(&r, UA_IPA);
	assert_int_equal(act(&r, 0x4000, OP_LOAD | OP_RAW, 0, 0, &ex), RMI_SUCCESS);
	expect_sync(&ex, S2_DABT(3), UA_IPA);
	next(&r, 0, &ex);
	expect_sync(&ex, S2_DABT(3), UA_IPA); /* again: nothing changed */
	xr_map(&r.x, UA_IPA);
	next(&r, 0, &ex);
	expect_exc(&r, &ex, ESR_EC(ESR_EC_DABT_CUR) | ESR_IL | ESR_FSC_TRANS(0), 0x4000, insn_va(&r, r.ld));
	after_load_exc(&r);
	/* an instruction fetch through tables at an unassigned IPA: an instruction abort exit */
	set_ttbr0(&r, UA2_IPA);
	assert_int_equal(act(&r, 0x5000, OP_EXEC | OP_RAW, 0, 0, &ex), RMI_SUCCESS);
	expect_sync(&ex, S2_IABT(3), UA2_IPA);
	xr_map(&r.x, UA2_IPA);
	next(&r, 0, &ex);
	expect_exc(&r, &ex, ESR_EC(ESR_EC_IABT_CUR) | ESR_IL | ESR_FSC_TRANS(0), 0x5000, 0x5000);
	after_exec_exc(&r);
	/* back to the realm's own tables: everything as before */
	set_ttbr0(&r, PT_L0);
	load_ok(&r, D_IPA, D_VAL);
	mr_end(&r);
}

/* TTBR0 at RIPAS EMPTY memory: the RMM injects an SEA at the VA (data and instruction). */
static void test_pt_empty(void **state)
{
	struct rmi_rec_exit ex;
	struct mr r;

	mr_start(&r, MMU(state));
	assert_true(r.mmu); /* the realm's own tables: MMU on only */
	set_ttbr0(&r, EMPTY_IPA);
	assert_int_equal(act(&r, 0x4008, OP_LOAD | OP_RAW, 0, 0, &ex), RMI_SUCCESS);
	expect_exc(&r, &ex, SEA_D, 0x4008, insn_va(&r, r.ld));
	after_load_exc(&r);
	assert_int_equal(act(&r, 0x5000, OP_EXEC | OP_RAW, 0, 0, &ex), RMI_SUCCESS);
	expect_exc(&r, &ex, SEA_I, 0x5000, 0x5000);
	after_exec_exc(&r);
	mr_end(&r);
}

/*
 * TTBR0 at NS memory the host mapped (UNPROT_MAP): the walks read the host's descriptors, for
 * instruction fetches (first: the table page is not in the engine yet) and data. One page is all
 * levels: entry 0 points to the page itself (a table at levels 0-2, a page at level 3: VA 0 is the
 * table page); entry 1 maps VA 0x1000 to the RET page, entry 2 VA 0x2000 to the data page.
 */
static void test_pt_ns_mapped(void **state)
{
	uint64_t t[4] = { NS2_IPA | 0x403, C2_IPA | S1_PAGE, D_IPA | S1_PAGE, 0x5eed };
	struct rmi_rec_exit ex;
	uint64_t v = 0;
	struct mr r;

	mr_start(&r, MMU(state));
	assert_true(r.mmu); /* the realm's own tables: MMU on only */
	t_write(r.x.m, r.ns2p, t, sizeof(t));
	set_ttbr0(&r, NS2_IPA);
	assert_int_equal(act(&r, 0x1000, OP_EXEC | OP_RAW, 0, 0, &ex), RMI_SUCCESS);
	reported(&r, &ex, 0x600d);
	load_op(&r, 0x2000, OP_LOAD | OP_RAW, D_VAL);
	load_op(&r, 0x2008, OP_LOAD | OP_RAW, D_VAL + 1);
	load_op(&r, 0x18, OP_LOAD | OP_RAW, 0x5eed); /* VA 0: the table page itself */
	store_op(&r, 0x30, OP_STORE | OP_RAW, 0x77);
	t_read(r.x.m, r.ns2p + 0x30, &v, 8);
	assert_int_equal(v, 0x77);
	exec_ok(&r, C2_IPA); /* the realm's own tables (TTBR1) are unaffected */
	mr_end(&r);
}

/*
 * TTBR0 at an unprotected IPA nothing maps: a data access is a SYNC exit at the table's IPA,
 * not emulatable (ISV 0: a walk; EC, IL, FSC only); the host answers with INJECT_SEA: an SEA at
 * the VA. An instruction fetch through it takes an SEA from the RMM (an instruction abort at an
 * unprotected IPA never goes to the host). Mapped by the host, the walk goes through.
 */
static void test_pt_ns_unmapped(void **state)
{
	uint64_t t[4] = { NS3_IPA | 0x403, C2_IPA | S1_PAGE, D_IPA | S1_PAGE, 0x5eed };
	struct rmi_rec_exit ex;
	struct mr r;

	mr_start(&r, MMU(state));
	assert_true(r.mmu); /* the realm's own tables: MMU on only */
	set_ttbr0(&r, NS3_IPA);
	assert_int_equal(act(&r, 0x2000, OP_LOAD | OP_RAW, 0, 0, &ex), RMI_SUCCESS);
	expect_sync(&ex, ESR_EC(ESR_EC_DABT_LOW) | ESR_IL | ESR_FSC_TRANS(3), NS3_IPA);
	/* not emulatable: EMULATED_MMIO is refused */
	assert_int_equal(xr_enter1(&r.x, 0, XR_ENTER_MMIO, NULL, &ex), RMI_ERROR_REC);
	next(&r, XR_ENTER_SEA, &ex);
	expect_exc(&r, &ex, SEA_D, 0x2000, insn_va(&r, r.ld));
	after_load_exc(&r);
	assert_int_equal(act(&r, 0x1000, OP_EXEC | OP_RAW, 0, 0, &ex), RMI_SUCCESS);
	expect_exc(&r, &ex, SEA_I, 0x1000, 0x1000);
	after_exec_exc(&r);
	/* the host maps NS memory holding tables there: the walks go through */
	uint64_t pa = xr_ns_page(&r.x);
	t_write(r.x.m, pa, t, sizeof(t));
	unprot_map(&r.x, NS3_IPA, pa);
	load_op(&r, 0x2000, OP_LOAD | OP_RAW, D_VAL);
	exec_ok(&r, C2_IPA); /* through TTBR1 */
	assert_int_equal(act(&r, 0x1000, OP_EXEC | OP_RAW, 0, 0, &ex), RMI_SUCCESS);
	reported(&r, &ex, 0x600d);
	mr_end(&r);
}

/* ---- every exit kind ------------------------------------------------------------------------ */

/* An emulatable MMIO exit at MMIO + off: exactly this ESR (ISV, SAS, SF, WnR, FSC), FAR, HPFAR. */
static void expect_mmio(struct mr *r, const struct rmi_rec_exit *ex, uint64_t off, unsigned int sas, bool sf,
			bool wnr, uint64_t value)
{
	struct rmi_rec_exit e = *ex;
	uint64_t esr = ESR_EC(ESR_EC_DABT_LOW) | ESR_IL | ESR_ISV | ESR_SAS(sas) | (sf ? ESR_SF : 0) |
		       (wnr ? ESR_WNR : 0) | ESR_FSC_TRANS(rtt_level(r, XR_MMIO_IPA));

	if (e.exit_reason != RMI_EXIT_SYNC || e.esr != esr) {
		print_error("MMIO +0x%llx: exit %llu esr 0x%llx, expected 0x%llx\n", (unsigned long long)off,
			    (unsigned long long)e.exit_reason, (unsigned long long)e.esr,
			    (unsigned long long)esr);
		fail();
	}
	e.exit_reason = 0;
	e.esr = 0;
	EX_EQ(e, far, off);
	EX_EQ(e, hpfar, (XR_MMIO_IPA >> 12) << 4);
	EX_EQ(e, gprs[0], value);
	EX_DONE(e);
}

static void test_exits(void **state)
{
	static const struct {
		uint64_t off;
		unsigned int sas;
		bool sf;
		uint64_t got;
	} loads[] = {
		{ 1, 0, false, 0xc3 },                 /* ldrb w5 */
		{ 2, 1, true, 0xffffffffffffd4c3ULL }, /* ldrsh x6 */
		{ 4, 2, true, 0xfffffffff6e5d4c3ULL }, /* ldrsw x7 */
		{ 8, 2, false, 0xf6e5d4c3 },           /* ldr w8 */
		{ 3, 0, false, 0xffffffc3 },           /* ldrsb w9 */
		{ 16, 3, true, MMIO_R },               /* ldr x10 */
	};
	static const struct {
		uint64_t off;
		unsigned int sas;
		bool sf;
		uint64_t value;
	} stores[] = {
		{ 1, 0, false, 0x11 },  { 2, 1, false, 0x2211 }, { 4, 2, false, 0x44332211 },
		{ 8, 3, true, MMIO_W }, { 16, 3, true, 0 }, /* str xzr */
	};
	struct rmi_rec_exit ex;
	struct mr r;

	mr_start(&r, MMU(state));
	/* data abort, protected IPA, RIPAS RAM, unassigned: for the host; mapped, the load completes */
	assert_int_equal(act(&r, UA_IPA + 0x10, OP_LOAD, 0, 0, &ex), RMI_SUCCESS);
	expect_sync(&ex, S2_DABT(3), UA_IPA);
	xr_map(&r.x, UA_IPA);
	next(&r, 0, &ex);
	reported(&r, &ex, 0);

	/* emulatable MMIO: each size, sign and register; the RMM writes Rt */
	assert_int_equal(act(&r, 0, OP_MMIO, 0, 0, &ex), RMI_SUCCESS);
	for (unsigned int k = 0; k < 6; k++) {
		expect_mmio(&r, &ex, loads[k].off, loads[k].sas, loads[k].sf, false, 0);
		assert_int_equal(xr_enter_v(&r.x, 0, XR_ENTER_MMIO | XR_ENTER_STANDING, MMIO_R, &ex),
				 RMI_SUCCESS);
	}
	for (unsigned int k = 0; k < 6; k++) {
		xr_expect_mmio_store(&ex, 0, loads[k].got);
		next(&r, XR_ENTER_MMIO, &ex);
	}
	for (unsigned int k = 0; k < 5; k++) {
		expect_mmio(&r, &ex, stores[k].off, stores[k].sas, stores[k].sf, true, stores[k].value);
		next(&r, XR_ENTER_MMIO, &ex);
	}
	/* not emulatable (LDP, pre-index): EC, IL, FSC; INJECT_SEA: an SEA at the VA */
	const unsigned int ne[2] = { r.ldp, r.preidx };
	const uint64_t neoff[2] = { 0, 16 };
	for (unsigned int k = 0; k < 2; k++) {
		expect_sync(&ex, ESR_EC(ESR_EC_DABT_LOW) | ESR_IL | ESR_FSC_TRANS(rtt_level(&r, XR_MMIO_IPA)),
			    XR_MMIO_IPA);
		assert_int_equal(xr_enter1(&r.x, 0, XR_ENTER_MMIO, NULL, &ex), RMI_ERROR_REC);
		next(&r, XR_ENTER_SEA, &ex);
		expect_exc(&r, &ex, SEA_D, va(&r, XR_MMIO_IPA + neoff[k]), insn_va(&r, ne[k]));
		next(&r, XR_ENTER_MMIO, &ex);
	}
	/* HVC: UNDEF at the HVC; the realm goes on after it */
	expect_exc(&r, &ex, ESR_EC(ESR_EC_UNKNOWN) | ESR_IL, ANY, insn_va(&r, r.hvc));
	next(&r, XR_ENTER_MMIO, &ex);
	expect_hc(&ex);

	/* instruction abort, protected IPA unassigned: for the host; mapped (zeros): UNDEF there */
	assert_int_equal(act(&r, UA2_IPA, OP_EXEC, 0, 0, &ex), RMI_SUCCESS);
	expect_sync(&ex, S2_IABT(3), UA2_IPA);
	xr_map(&r.x, UA2_IPA);
	next(&r, 0, &ex);
	expect_exc(&r, &ex, ESR_EC(ESR_EC_UNKNOWN) | ESR_IL, ANY, va(&r, UA2_IPA));
	after_exec_exc(&r);
	/* instruction fetch from an unprotected IPA: the RMM's SEA, FAR = ELR = the VA */
	assert_int_equal(act(&r, XR_MMIO_IPA + 0x40, OP_EXEC, 0, 0, &ex), RMI_SUCCESS);
	expect_exc(&r, &ex, SEA_I, va(&r, XR_MMIO_IPA + 0x40), va(&r, XR_MMIO_IPA + 0x40));
	after_exec_exc(&r);

	/* host call: the structure the realm wrote through its VA, read by the RMM at its IPA */
	assert_int_equal(act(&r, 0, OP_HCW, 0, 0, &ex), RMI_SUCCESS);
	struct rmi_rec_exit e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_HOST_CALL);
	EX_EQ(e, imm, 0x1234);
	EX_EQ(e, gprs[1], OP_HCW);
	EX_EQ(e, gprs[5], 0x5555);
	EX_DONE(e);

	/* PSCI: AFFINITY_INFO of REC 1 (off): a PSCI exit, completed by the host */
	const uint64_t aff[6] = { 1, OP_SMC | OP_RAW, PSCI_AFFINITY_INFO_64, 0, 0, 0 };
	act6(&r, aff, &ex);
	e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_PSCI);
	EX_EQ(e, gprs[0], PSCI_AFFINITY_INFO_64);
	EX_EQ(e, gprs[1], 1);
	EX_DONE(e);
	assert_int_equal(
		RMI(r.x.m, RMI_FID_PSCI_COMPLETE, NULL, r.x.rec[0], r.x.rec[1], (uint64_t)PSCI_RET_SUCCESS),
		RMI_SUCCESS);
	next(&r, 0, &ex);
	xr_expect_mmio_store(&ex, 0, 1); /* OFF */
	next(&r, XR_ENTER_MMIO, &ex);
	reported(&r, &ex, 0);

	/*
	 * WFI (trapped): a SYNC exit with EC and TI only; the RMM steps over it. WFE never
	 * traps (TRAP_WFE has no effect: Unicorn 2.0.1 ignores HCR_EL2.TWE, see cpu_unicorn.c
	 * and include/realmkit/cpu.h): it completes as a no-op.
	 */
	assert_int_equal(act(&r, 0, OP_WFX, 0, 0, &ex), RMI_SUCCESS);
	e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_SYNC);
	EX_EQ(e, esr, ESR_EC(ESR_EC_WFX));
	EX_DONE(e);
	next(&r, 0, &ex);
	reported(&r, &ex, 0x600d);

	/* RSI from the realm's VA: REALM_CONFIG writes the page the realm then reads through its MMU */
	load_ok(&r, CFG_IPA, 0);
	const uint64_t cfg[6] = { CFG_IPA, OP_SMC | OP_RAW, RSI_FID_REALM_CONFIG, 0, 0, 0 };
	act6(&r, cfg, &ex);
	xr_expect_mmio_store(&ex, 0, RSI_SUCCESS);
	next(&r, XR_ENTER_MMIO, &ex);
	reported(&r, &ex, CFG_IPA);
	load_ok(&r, CFG_IPA, XR_S2SZ);
	/* a call the RMM answers inside the engine (IPA_STATE_GET) */
	const uint64_t get[6] = { D_IPA, OP_SMC | OP_RAW, RSI_FID_IPA_STATE_GET, D_IPA + G, 0, 0 };
	act6(&r, get, &ex);
	xr_expect_mmio_store(&ex, 0, RSI_SUCCESS);
	next(&r, XR_ENTER_MMIO, &ex);
	reported(&r, &ex, D_IPA + G);
	mr_end(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define BOTH(t)                                                                                   \
	cmocka_unit_test_prestate_setup_teardown(t, xenv_setup, xenv_teardown, (void *)&mmu_off), \
		cmocka_unit_test_prestate_setup_teardown(t, xenv_setup, xenv_teardown, (void *)&mmu_on)
#define ON(t) cmocka_unit_test_prestate_setup_teardown(t, xenv_setup, xenv_teardown, (void *)&mmu_on)
		BOTH(test_data_unmap),      BOTH(test_data_unmap_code),    BOTH(test_unprot_unmap),
		BOTH(test_unprot_readonly), BOTH(test_rtt_destroy_unprot), BOTH(test_fold_unmap_destroy),
		BOTH(test_set_ripas_empty), BOTH(test_terminate),          ON(test_pt_unassigned),
		ON(test_pt_empty),          ON(test_pt_ns_mapped),         ON(test_pt_ns_unmapped),
		BOTH(test_exits),
	};

	rk_cpu_set_default_mode(RK_CPU_MODE_STAGE2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
