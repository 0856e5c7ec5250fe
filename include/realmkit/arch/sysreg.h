/* SPDX-License-Identifier: MIT */
/*
 * AArch64 system registers and PSTATE: the fields realmkit sets or reads,
 * the reset values it uses and the system register encodings it writes
 * through the CPU backend. Transcribed from the Arm Architecture Reference
 * Manual for A-profile (Arm DDI 0487): the register descriptions "SPSR_EL1"
 * (M[3:0], DAIF), "HCR_EL2", "SCR_EL3", "SCTLR_EL1" (its RES1 bits) and
 * "MPIDR_EL1", with their encodings (op0, op1, CRn, CRm, op2); "Exception
 * vectors" (the offsets from VBAR_ELx).
 */
#ifndef REALMKIT_ARCH_SYSREG_H
#define REALMKIT_ARCH_SYSREG_H

#include "realmkit/arch/const.h"

/* PSTATE / SPSR_ELx */
#define PSTATE_M_MASK 0xf
#define PSTATE_M_EL1T 0x4 /* EL1 with SP_EL0 */
#define PSTATE_M_EL1H 0x5 /* EL1 with SP_EL1 */
#define PSTATE_M_EL0T 0x0 /* EL0 */
#define PSTATE_EL(pstate) (((pstate) >> 2) & 3u)
#define PSTATE_F (1 << 6)
#define PSTATE_I (1 << 7)
#define PSTATE_A (1 << 8)
#define PSTATE_D (1 << 9)
#define PSTATE_DAIF (0xf << 6)
/* How a vCPU starts (reset, PSCI CPU_ON) and takes an exception: EL1h, DAIF masked */
#define PSTATE_EL1H_DAIF (PSTATE_DAIF | PSTATE_M_EL1H)

/* SCTLR_EL1 */
#define SCTLR_EL1_M RK_BIT(0) /* stage-1 MMU enabled */
/* at reset as realmkit sets it: the RES1 bits only (MMU and caches off) */
#define SCTLR_EL1_RESET RK_ULL(0x30d00800)

/* HCR_EL2 bits */
#define HCR_EL2_VM RK_BIT(0)   /* stage 2 enabled */
#define HCR_EL2_FMO RK_BIT(3)  /* physical FIQs to EL2, virtual FIQs enabled */
#define HCR_EL2_IMO RK_BIT(4)  /* physical IRQs to EL2, virtual IRQs enabled */
#define HCR_EL2_VF RK_BIT(6)   /* virtual FIQ pending */
#define HCR_EL2_VI RK_BIT(7)   /* virtual IRQ pending */
#define HCR_EL2_TWI RK_BIT(13) /* trap WFI */
#define HCR_EL2_TDZ RK_BIT(28) /* trap DC ZVA */
#define HCR_EL2_RW RK_BIT(31)  /* EL1 is AArch64 */

/* VTCR_EL2 (4 KiB granule) */
#define VTCR_EL2_T0SZ(bits) (64 - (bits)) /* IPA size */
#define VTCR_EL2_SL0_SHIFT 6              /* 4 KiB: start level 2 - SL0 */
#define VTCR_EL2_IRGN0_WB RK_ULL(1 << 8)
#define VTCR_EL2_ORGN0_WB RK_ULL(1 << 10)
#define VTCR_EL2_SH0_IS RK_ULL(3 << 12)
#define VTCR_EL2_PS_SHIFT 16 /* output size: 0 32, 1 36, 2 40, 3 42, 4 44, 5 48 bits */
#define VTCR_EL2_PS_44 4
/* VTTBR_EL2, HPFAR_EL2 */
#define VTTBR_EL2_VMID_SHIFT 48
#define HPFAR_EL2_FIPA_SHIFT 4 /* FIPA = IPA[47:12] at bit 4 */

/* SCR_EL3 bits */
#define SCR_EL3_NS RK_BIT(0)
#define SCR_EL3_HCE RK_BIT(8) /* HVC enabled */
#define SCR_EL3_RW RK_BIT(10) /* EL2 is AArch64 */

/* MPIDR_EL1 */
#define MPIDR_EL1_RES1 RK_BIT(31)
#define MPIDR_EL1_U RK_BIT(30) /* uniprocessor */

/* Exception vector offsets from VBAR_ELx: the source, then the kind */
#define VECTOR_CUR_SP0 0x000 /* current EL with SP_EL0 */
#define VECTOR_CUR_SPX 0x200 /* current EL with SP_ELx */
#define VECTOR_LOWER_A64 0x400
#define VECTOR_LOWER_A32 0x600
#define VECTOR_SYNC 0x000
#define VECTOR_IRQ 0x080
#define VECTOR_FIQ 0x100
#define VECTOR_SERROR 0x180

/* System register encodings: op0, op1, CRn, CRm, op2 */
#define SYSREG_SCR_EL3 3, 6, 1, 1, 0
#define SYSREG_HCR_EL2 3, 4, 1, 1, 0
#define SYSREG_VMPIDR_EL2 3, 4, 0, 0, 5
#define SYSREG_SPSR_EL1 3, 0, 4, 0, 0
#define SYSREG_SCTLR_EL1 3, 0, 1, 0, 0
#define SYSREG_TTBR0_EL1 3, 0, 2, 0, 0
#define SYSREG_TTBR1_EL1 3, 0, 2, 0, 1
#define SYSREG_TCR_EL1 3, 0, 2, 0, 2
#define SYSREG_VTCR_EL2 3, 4, 2, 1, 2
#define SYSREG_VTTBR_EL2 3, 4, 2, 1, 0
#define SYSREG_HPFAR_EL2 3, 4, 6, 0, 4
#define SYSREG_ESR_EL1 3, 0, 5, 2, 0
#define SYSREG_FAR_EL1 3, 0, 6, 0, 0

/*
 * The generic timer (Arm ARM D11): CNTx_CTL_EL0 fields, and the EL1 timer
 * registers' encodings (op0 3, op1 3, CRn 14). The system counter runs at
 * CNTFRQ_HZ, the frequency the engine's CNTFRQ_EL0 shows.
 */
#define CNT_CTL_ENABLE RK_BIT(0)
#define CNT_CTL_IMASK RK_BIT(1)
#define CNT_CTL_ISTATUS RK_BIT(2)
#define CNTFRQ_HZ 62500000ULL
#define SYSREG_CNTFRQ_EL0 3, 3, 14, 0, 0
#define SYSREG_CNTPCT_EL0 3, 3, 14, 0, 1
#define SYSREG_CNTVCT_EL0 3, 3, 14, 0, 2
#define SYSREG_CNTPCTSS_EL0 3, 3, 14, 0, 5
#define SYSREG_CNTVCTSS_EL0 3, 3, 14, 0, 6
#define SYSREG_CNTP_TVAL_EL0 3, 3, 14, 2, 0
#define SYSREG_CNTP_CTL_EL0 3, 3, 14, 2, 1
#define SYSREG_CNTP_CVAL_EL0 3, 3, 14, 2, 2
#define SYSREG_CNTV_TVAL_EL0 3, 3, 14, 3, 0
#define SYSREG_CNTV_CTL_EL0 3, 3, 14, 3, 1
#define SYSREG_CNTV_CVAL_EL0 3, 3, 14, 3, 2
/* The timers' PPIs (INTIDs) as the Arm Base System Architecture assigns them */
#define PPI_VTIMER 27u
#define PPI_PTIMER 30u

#endif /* REALMKIT_ARCH_SYSREG_H */
