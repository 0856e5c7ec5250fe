/* SPDX-License-Identifier: MIT */
/*
 * A64 instruction encodings realmkit recognises or emits: WFI, WFE, and SMC
 * and HVC with #imm16 = 0 (imm16 is bits [20:5]). Transcribed from the Arm
 * Architecture Reference Manual for A-profile (Arm DDI 0487), the A64 base
 * instruction descriptions "WFI", "WFE" (HINT space, CRm:op2 0000:011 and
 * 0000:010), "SMC" and "HVC" (exception generation, LL 11 and 10), "MRS" and
 * "MSR (register)" (1101 0101 00 L 1 o0 op1 CRn CRm op2 Rt: op0 = 2 + o0, L = 1
 * for MRS), "SVC", "MOVZ", "STR (immediate)" (unsigned offset, size 10: 32-bit), the
 * barriers "DSB" (ISH: CRm 1011) and "ISB", and the cache maintenance
 * instructions "IC" (IVAU: op1 3, CRm 5, op2 1; IALLUIS: op1 0, CRm 1, op2 0;
 * IALLU: op1 0, CRm 5, op2 0) and "DC" (CVAU: op1 3, CRm 11, op2 1), all SYS
 * with CRn 7.
 */
#ifndef REALMKIT_ARCH_INSN_H
#define REALMKIT_ARCH_INSN_H

#define A64_WFI 0xD503207F
#define A64_WFE 0xD503205F
#define A64_SMC 0xD4000003            /* SMC #0 */
#define A64_HVC 0xD4000002            /* HVC #0 */
#define A64_SVC 0xD4000001            /* SVC #0 */
#define A64_EXC_IMM16_MASK 0x001FFFE0 /* the #imm16 field of SMC/HVC/SVC/BRK */
#define A64_MRS_MSR_MASK 0xFFD00000   /* insn & mask == A64_MRS_MSR: MRS or MSR (register) */
#define A64_MRS_MSR 0xD5100000
#define A64_MRS_L 0x00200000 /* L: MRS (a read) */

#define A64_MOVZ_X(rd, imm16) (0xD2800000u | ((uint32_t)(imm16) << 5) | (rd)) /* MOVZ Xd, #imm16 */
#define A64_STR_W(rt, rn) (0xB9000000u | ((rn) << 5) | (rt))                  /* STR Wt, [Xn] */
#define A64_DSB_ISH 0xd5033b9fu
#define A64_ISB 0xd5033fdfu
#define A64_IC_IVAU(rt) (0xD50B7520u | (rt))
#define A64_DC_CVAU(rt) (0xD50B7B20u | (rt))
#define A64_IC_IALLUIS 0xD508711Fu
#define A64_IC_IALLU 0xD508751Fu

#endif /* REALMKIT_ARCH_INSN_H */
