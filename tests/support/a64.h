/* SPDX-License-Identifier: MIT */
/* A few AArch64 instruction encodings, for tests that hand-assemble realm code. */
#ifndef RK_TEST_A64_H
#define RK_TEST_A64_H

#include <stdint.h>

#include "realmkit/arch/insn.h" /* A64_SMC, A64_HVC, A64_WFI, A64_WFE, barriers, cache maintenance */

static inline uint32_t a64_movz(unsigned int rd, uint16_t imm, unsigned int hw)
{
	return 0xD2800000u | (hw << 21) | ((uint32_t)imm << 5) | rd;
}

static inline uint32_t a64_movk(unsigned int rd, uint16_t imm, unsigned int hw)
{
	return 0xF2800000u | (hw << 21) | ((uint32_t)imm << 5) | rd;
}

/* Emit a 64-bit immediate load into rd: returns the number of words written (4). */
static inline unsigned int a64_mov64(uint32_t *p, unsigned int rd, uint64_t v)
{
	p[0] = a64_movz(rd, (uint16_t)v, 0);
	p[1] = a64_movk(rd, (uint16_t)(v >> 16), 1);
	p[2] = a64_movk(rd, (uint16_t)(v >> 32), 2);
	p[3] = a64_movk(rd, (uint16_t)(v >> 48), 3);
	return 4;
}

#define A64_UDF 0x00000000u
#define A64_B_SELF 0x14000000u

static inline uint32_t a64_str(unsigned int rt, unsigned int rn)
{
	return 0xF9000000u | (rn << 5) | rt;
}
static inline uint32_t a64_ldr(unsigned int rt, unsigned int rn)
{
	return 0xF9400000u | (rn << 5) | rt;
}
static inline uint32_t a64_strb(unsigned int rt, unsigned int rn)
{
	return 0x39000000u | (rn << 5) | rt;
}
static inline uint32_t a64_add_imm(unsigned int rd, unsigned int rn, uint32_t imm12)
{
	return 0x91000000u | (imm12 << 10) | (rn << 5) | rd;
}

/* ---- more encodings (loads/stores of every width, pairs, branches, system) ---- */

/*
 * Load/store with an unsigned scaled 12-bit offset: op is the opcode with
 * Rt = Rn = 0 and offset 0, size_log2 the access size (0 B, 1 H, 2 W, 3 X),
 * off in bytes (a multiple of the access size).
 */
static inline uint32_t a64_ldst(uint32_t op, unsigned int size_log2, unsigned int rt, unsigned int rn,
				uint32_t off)
{
	return op | ((off >> size_log2) << 10) | (rn << 5) | rt;
}
#define A64_OP_LDRB 0x39400000u   /* LDRB  Wt */
#define A64_OP_LDRH 0x79400000u   /* LDRH  Wt */
#define A64_OP_LDRW 0xB9400000u   /* LDR   Wt */
#define A64_OP_LDRX 0xF9400000u   /* LDR   Xt */
#define A64_OP_LDRSBX 0x39800000u /* LDRSB Xt */
#define A64_OP_LDRSBW 0x39C00000u /* LDRSB Wt */
#define A64_OP_LDRSHX 0x79800000u /* LDRSH Xt */
#define A64_OP_LDRSHW 0x79C00000u /* LDRSH Wt */
#define A64_OP_LDRSW 0xB9800000u  /* LDRSW Xt */
#define A64_OP_STRB 0x39000000u   /* STRB  Wt */
#define A64_OP_STRH 0x79000000u   /* STRH  Wt */
#define A64_OP_STRW 0xB9000000u   /* STR   Wt */
#define A64_OP_STRX 0xF9000000u   /* STR   Xt */
static inline uint32_t a64_ldr_off(unsigned int rt, unsigned int rn, uint32_t off)
{
	return a64_ldst(A64_OP_LDRX, 3, rt, rn, off);
}
static inline uint32_t a64_str_off(unsigned int rt, unsigned int rn, uint32_t off)
{
	return a64_ldst(A64_OP_STRX, 3, rt, rn, off);
}

/* LDP/STP Xt1, Xt2, [Xn, #off] (signed offset, off a multiple of 8 in [-512, 504]). */
static inline uint32_t a64_ldp(unsigned int rt, unsigned int rt2, unsigned int rn, int32_t off)
{
	return 0xA9400000u | (((uint32_t)(off / 8) & 0x7fu) << 15) | (rt2 << 10) | (rn << 5) | rt;
}
static inline uint32_t a64_stp(unsigned int rt, unsigned int rt2, unsigned int rn, int32_t off)
{
	return 0xA9000000u | (((uint32_t)(off / 8) & 0x7fu) << 15) | (rt2 << 10) | (rn << 5) | rt;
}

static inline uint32_t a64_sub_imm(unsigned int rd, unsigned int rn, uint32_t imm12)
{
	return 0xD1000000u | (imm12 << 10) | (rn << 5) | rd;
}
static inline uint32_t a64_subs_imm(unsigned int rd, unsigned int rn, uint32_t imm12)
{
	return 0xF1000000u | (imm12 << 10) | (rn << 5) | rd;
}
/* MOV Xd, Xm (ORR Xd, XZR, Xm). */
static inline uint32_t a64_mov(unsigned int rd, unsigned int rm)
{
	return 0xAA0003E0u | (rm << 16) | rd;
}

/* Branches; offsets in instructions (words) relative to the branch itself. */
static inline uint32_t a64_b(int32_t words)
{
	return 0x14000000u | ((uint32_t)words & 0x3ffffffu);
}
#define A64_COND_EQ 0x0u
#define A64_COND_NE 0x1u
static inline uint32_t a64_bcond(unsigned int cond, int32_t words)
{
	return 0x54000000u | (((uint32_t)words & 0x7ffffu) << 5) | cond;
}
static inline uint32_t a64_cbnz(unsigned int rt, int32_t words)
{
	return 0xB5000000u | (((uint32_t)words & 0x7ffffu) << 5) | rt;
}
static inline uint32_t a64_cbz(unsigned int rt, int32_t words)
{
	return 0xB4000000u | (((uint32_t)words & 0x7ffffu) << 5) | rt;
}
static inline uint32_t a64_br(unsigned int rn)
{
	return 0xD61F0000u | (rn << 5);
}

#define A64_ERET 0xD69F03E0u
#define A64_NOP 0xD503201Fu

/* System registers as (op0, op1, CRn, CRm, op2), packed for a64_mrs/a64_msr. */
#define A64_SYSREG(op0, op1, crn, crm, op2)                                            \
	(((uint32_t)(op0) << 19) | ((uint32_t)(op1) << 16) | ((uint32_t)(crn) << 12) | \
	 ((uint32_t)(crm) << 8) | ((uint32_t)(op2) << 5))
#define A64_MPIDR_EL1 A64_SYSREG(3, 0, 0, 0, 5)
#define A64_SPSR_EL1 A64_SYSREG(3, 0, 4, 0, 0)
#define A64_ELR_EL1 A64_SYSREG(3, 0, 4, 0, 1)
#define A64_ESR_EL1 A64_SYSREG(3, 0, 5, 2, 0)
#define A64_FAR_EL1 A64_SYSREG(3, 0, 6, 0, 0)
#define A64_VBAR_EL1 A64_SYSREG(3, 0, 12, 0, 0)
static inline uint32_t a64_mrs(unsigned int rt, uint32_t sysreg)
{
	return 0xD5200000u | sysreg | rt;
}
static inline uint32_t a64_msr(uint32_t sysreg, unsigned int rt)
{
	return 0xD5000000u | sysreg | rt;
}

/* TLB maintenance (SYS, op0 1); the barriers are in realmkit/arch/insn.h. */
/* TLBI <op>, Xt at EL1: op1 0, CRn 8 (CRm 3: inner shareable, 7: local; op2 0 VMALLE1, 1 VAE1...) */
static inline uint32_t a64_tlbi(unsigned int crm, unsigned int op2, unsigned int rt)
{
	return 0xD5080000u | (8u << 12) | (crm << 8) | (op2 << 5) | rt;
}
#define A64_TLBI_VAE1IS(rt) a64_tlbi(3, 1, rt)
#define A64_TLBI_VAE1(rt) a64_tlbi(7, 1, rt)
#define A64_TLBI_VMALLE1IS a64_tlbi(3, 0, 31)
/* Cache maintenance (IC IVAU, DC CVAU, IC IALLU(IS)): realmkit/arch/insn.h. */

#endif
