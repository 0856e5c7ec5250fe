/* SPDX-License-Identifier: MIT */
/*
 * The GICv3 CPU interface's system registers: the hypervisor's view (ICH_*_EL2,
 * the virtual CPU interface a host programs) and the guest's (ICC_*_EL1,
 * presented as ICV_*_EL1 when HCR_EL2.IMO/FMO = 1), their encodings and the
 * fields realmkit uses. Transcribed from the Arm Generic Interrupt Controller
 * Architecture Specification, GIC architecture version 3 and version 4 (Arm
 * IHI 0069), chapter 12 ("ICH_LR<n>_EL2", "ICH_HCR_EL2", "ICH_VTR_EL2",
 * "ICH_VMCR_EL2", "ICH_MISR_EL2", "ICH_EISR_EL2", "ICH_ELRSR_EL2",
 * "ICH_AP0R<n>_EL2", "ICH_AP1R<n>_EL2", "ICC_CTLR_EL1", "ICC_SRE_EL1",
 * "ICC_SGI1R_EL1") and the special INTIDs of 2.2.1.
 *
 * A register is named by its encoding as a 32-bit number, SYSREG_ENC(op0,
 * op1, CRn, CRm, op2): the ISS of a trapped MSR/MRS (realmkit/arch/esr.h,
 * EC 0x18) with Rt and Direction zero, so a trap's syndrome masked with
 * SYSREG_ENC_MASK is the register it names.
 */
#ifndef REALMKIT_ARCH_GIC_H
#define REALMKIT_ARCH_GIC_H

#include "realmkit/arch/const.h"
#include "realmkit/arch/esr.h"

#define SYSREG_ENC(op0, op1, crn, crm, op2) ESR_SYS64_ISS(op0, op1, crn, crm, op2)
#define SYSREG_ENC_MASK ESR_SYS64_ISS(3, 7, 15, 15, 7)

/* ---- ICH_*_EL2: the virtual CPU interface, as the hypervisor programs it ---- */

#define ICH_AP0R_EL2(n) SYSREG_ENC(3, 4, 12, 8, (n)) /* n = 0..3 */
#define ICH_AP1R_EL2(n) SYSREG_ENC(3, 4, 12, 9, (n)) /* n = 0..3 */
#define ICH_HCR_EL2 SYSREG_ENC(3, 4, 12, 11, 0)
#define ICH_VTR_EL2 SYSREG_ENC(3, 4, 12, 11, 1)   /* read-only */
#define ICH_MISR_EL2 SYSREG_ENC(3, 4, 12, 11, 2)  /* read-only */
#define ICH_EISR_EL2 SYSREG_ENC(3, 4, 12, 11, 3)  /* read-only */
#define ICH_ELRSR_EL2 SYSREG_ENC(3, 4, 12, 11, 5) /* read-only */
#define ICH_VMCR_EL2 SYSREG_ENC(3, 4, 12, 11, 7)
#define ICH_LR_EL2(n) SYSREG_ENC(3, 4, 12, 12 + ((n) >> 3), (n)&7) /* n = 0..15 */

#define ICH_MAX_LRS 16u
#define ICH_MAX_APRS 4u

/* ICH_LR<n>_EL2 */
#define ICH_LR_VINTID_MASK RK_ULL(0xffffffff) /* [31:0] */
#define ICH_LR_PINTID_SHIFT 32                /* [44:32] */
#define ICH_LR_PINTID_MASK (RK_ULL(0x1fff) << ICH_LR_PINTID_SHIFT)
#define ICH_LR_EOI RK_BIT(41) /* HW = 0: maintenance interrupt on deactivation */
#define ICH_LR_PRIORITY_SHIFT 48
#define ICH_LR_PRIORITY_MASK (RK_ULL(0xff) << ICH_LR_PRIORITY_SHIFT)
#define ICH_LR_GROUP RK_BIT(60) /* 1: Group 1 */
#define ICH_LR_HW RK_BIT(61)    /* 1: backed by a physical interrupt (pINTID) */
#define ICH_LR_STATE_SHIFT 62
#define ICH_LR_STATE_MASK (RK_ULL(3) << ICH_LR_STATE_SHIFT)
#define ICH_LR_STATE_INVALID 0u
#define ICH_LR_STATE_PENDING 1u
#define ICH_LR_STATE_ACTIVE 2u
#define ICH_LR_STATE_PENDING_ACTIVE 3u
#define ICH_LR_PENDING_BIT RK_BIT(62)
#define ICH_LR_ACTIVE_BIT RK_BIT(63)
/* An LR from its fields (state: ICH_LR_STATE_*; group 0 or 1) */
#define ICH_LR(state, group, prio, vintid)                                            \
	((RK_ULL(0) + (state)) << ICH_LR_STATE_SHIFT | ((group) ? ICH_LR_GROUP : 0) | \
	 ((RK_ULL(0) + (prio)) & 0xff) << ICH_LR_PRIORITY_SHIFT |                     \
	 ((RK_ULL(0) + (vintid)) & ICH_LR_VINTID_MASK))

/* ICH_HCR_EL2 */
#define ICH_HCR_EN RK_BIT(0)       /* the virtual CPU interface is enabled */
#define ICH_HCR_UIE RK_BIT(1)      /* underflow maintenance interrupt */
#define ICH_HCR_LRENPIE RK_BIT(2)  /* LR entry not present maintenance interrupt */
#define ICH_HCR_NPIE RK_BIT(3)     /* no pending maintenance interrupt */
#define ICH_HCR_VGRP0EIE RK_BIT(4) /* maintenance interrupt while VENG0 = 1 */
#define ICH_HCR_VGRP0DIE RK_BIT(5) /* ... while VENG0 = 0 */
#define ICH_HCR_VGRP1EIE RK_BIT(6)
#define ICH_HCR_VGRP1DIE RK_BIT(7)
#define ICH_HCR_VSGIEOICOUNT RK_BIT(8) /* GICv4.1 */
#define ICH_HCR_TC RK_BIT(10)          /* trap the common registers (CTLR, DIR, PMR, RPR) */
#define ICH_HCR_TALL0 RK_BIT(11)       /* trap the Group 0 registers */
#define ICH_HCR_TALL1 RK_BIT(12)       /* trap the Group 1 registers */
#define ICH_HCR_TSEI RK_BIT(13)
#define ICH_HCR_TDIR RK_BIT(14) /* trap ICC_DIR_EL1 */
#define ICH_HCR_DVIM RK_BIT(15) /* FEAT_GICv3_NMI */
#define ICH_HCR_EOICOUNT_SHIFT 27
#define ICH_HCR_EOICOUNT_MASK (RK_ULL(0x1f) << ICH_HCR_EOICOUNT_SHIFT)

/* ICH_VTR_EL2 */
#define ICH_VTR_LISTREGS_MASK 0x1fu /* [4:0]: LRs - 1 */
#define ICH_VTR_TDS RK_BIT(19)
#define ICH_VTR_NV4 RK_BIT(20) /* no GICv4 direct injection */
#define ICH_VTR_A3V RK_BIT(21) /* non-zero Aff3 supported */
#define ICH_VTR_SEIS RK_BIT(22)
#define ICH_VTR_IDBITS_SHIFT 23  /* [25:23]: 0 16 bits, 1 24 bits */
#define ICH_VTR_PREBITS_SHIFT 26 /* [28:26]: preemption bits - 1 */
#define ICH_VTR_PRIBITS_SHIFT 29 /* [31:29]: priority bits - 1 */

/* ICH_VMCR_EL2 */
#define ICH_VMCR_VENG0 RK_BIT(0)
#define ICH_VMCR_VENG1 RK_BIT(1)
#define ICH_VMCR_VACKCTL RK_BIT(2)
#define ICH_VMCR_VFIQEN RK_BIT(3) /* RES1 when system registers are used */
#define ICH_VMCR_VCBPR RK_BIT(4)
#define ICH_VMCR_VEOIM RK_BIT(9)
#define ICH_VMCR_VBPR1_SHIFT 18 /* [20:18] */
#define ICH_VMCR_VBPR0_SHIFT 21 /* [23:21] */
#define ICH_VMCR_VPMR_SHIFT 24  /* [31:24] */
#define ICH_VMCR_VBPR1_MASK (RK_ULL(7) << ICH_VMCR_VBPR1_SHIFT)
#define ICH_VMCR_VBPR0_MASK (RK_ULL(7) << ICH_VMCR_VBPR0_SHIFT)
#define ICH_VMCR_VPMR_MASK (RK_ULL(0xff) << ICH_VMCR_VPMR_SHIFT)

/* ICH_MISR_EL2: why the maintenance interrupt is asserted */
#define ICH_MISR_EOI RK_BIT(0)    /* an LR with EOI = 1 was deactivated (EISR != 0) */
#define ICH_MISR_U RK_BIT(1)      /* underflow: UIE and at most one valid LR */
#define ICH_MISR_LRENP RK_BIT(2)  /* LRENPIE and EOIcount != 0 */
#define ICH_MISR_NP RK_BIT(3)     /* NPIE and no LR pending */
#define ICH_MISR_VGRP0E RK_BIT(4) /* VGrp0EIE and VENG0 */
#define ICH_MISR_VGRP0D RK_BIT(5) /* VGrp0DIE and !VENG0 */
#define ICH_MISR_VGRP1E RK_BIT(6)
#define ICH_MISR_VGRP1D RK_BIT(7)

/* ---- ICC_*_EL1: the CPU interface as EL1 uses it ---------------------------- */

#define ICC_PMR_EL1 SYSREG_ENC(3, 0, 4, 6, 0)
#define ICC_IAR0_EL1 SYSREG_ENC(3, 0, 12, 8, 0)
#define ICC_EOIR0_EL1 SYSREG_ENC(3, 0, 12, 8, 1)
#define ICC_HPPIR0_EL1 SYSREG_ENC(3, 0, 12, 8, 2)
#define ICC_BPR0_EL1 SYSREG_ENC(3, 0, 12, 8, 3)
#define ICC_AP0R_EL1(n) SYSREG_ENC(3, 0, 12, 8, 4 + (n)) /* n = 0..3 */
#define ICC_AP1R_EL1(n) SYSREG_ENC(3, 0, 12, 9, (n))     /* n = 0..3 */
#define ICC_DIR_EL1 SYSREG_ENC(3, 0, 12, 11, 1)
#define ICC_RPR_EL1 SYSREG_ENC(3, 0, 12, 11, 3)
#define ICC_SGI1R_EL1 SYSREG_ENC(3, 0, 12, 11, 5)
#define ICC_ASGI1R_EL1 SYSREG_ENC(3, 0, 12, 11, 6)
#define ICC_SGI0R_EL1 SYSREG_ENC(3, 0, 12, 11, 7)
#define ICC_IAR1_EL1 SYSREG_ENC(3, 0, 12, 12, 0)
#define ICC_EOIR1_EL1 SYSREG_ENC(3, 0, 12, 12, 1)
#define ICC_HPPIR1_EL1 SYSREG_ENC(3, 0, 12, 12, 2)
#define ICC_BPR1_EL1 SYSREG_ENC(3, 0, 12, 12, 3)
#define ICC_CTLR_EL1 SYSREG_ENC(3, 0, 12, 12, 4)
#define ICC_SRE_EL1 SYSREG_ENC(3, 0, 12, 12, 5)
#define ICC_IGRPEN0_EL1 SYSREG_ENC(3, 0, 12, 12, 6)
#define ICC_IGRPEN1_EL1 SYSREG_ENC(3, 0, 12, 12, 7)

/* ICC_CTLR_EL1 */
#define ICC_CTLR_CBPR RK_BIT(0)
#define ICC_CTLR_EOIMODE RK_BIT(1)
#define ICC_CTLR_PRIBITS_SHIFT 8 /* [10:8] */
#define ICC_CTLR_IDBITS_SHIFT 11 /* [13:11] */
#define ICC_CTLR_SEIS RK_BIT(14)
#define ICC_CTLR_A3V RK_BIT(15)

/* ICC_SRE_EL1: SRE, DFB, DIB (system registers in use, FIQ/IRQ bypass disabled) */
#define ICC_SRE_SRE RK_BIT(0)
#define ICC_SRE_DFB RK_BIT(1)
#define ICC_SRE_DIB RK_BIT(2)

/* ICC_SGI1R_EL1 */
#define ICC_SGIR_TARGETLIST_MASK 0xffffu /* [15:0] */
#define ICC_SGIR_AFF1_SHIFT 16
#define ICC_SGIR_INTID_SHIFT 24 /* [27:24] */
#define ICC_SGIR_AFF2_SHIFT 32
#define ICC_SGIR_IRM RK_BIT(40) /* 1: every PE but the sender */
#define ICC_SGIR_RS_SHIFT 44    /* [47:44] */
#define ICC_SGIR_AFF3_SHIFT 48

/* ---- The distributor and redistributors (memory-mapped), chapter 12.9-12.11 ---- */

/* GICD_*: offsets in the distributor's 64 KiB frame */
#define GICD_FRAME_SIZE 0x10000u
#define GICD_CTLR 0x0000u
#define GICD_TYPER 0x0004u
#define GICD_IIDR 0x0008u
#define GICD_TYPER2 0x000cu
#define GICD_STATUSR 0x0010u
#define GICD_IGROUPR 0x0080u    /* + 4 * (INTID / 32) */
#define GICD_ISENABLER 0x0100u  /* + 4 * (INTID / 32) */
#define GICD_ICENABLER 0x0180u  /* + 4 * (INTID / 32) */
#define GICD_ISPENDR 0x0200u    /* + 4 * (INTID / 32) */
#define GICD_ICPENDR 0x0280u    /* + 4 * (INTID / 32) */
#define GICD_ISACTIVER 0x0300u  /* + 4 * (INTID / 32) */
#define GICD_ICACTIVER 0x0380u  /* + 4 * (INTID / 32) */
#define GICD_IPRIORITYR 0x0400u /* + INTID (one byte each) */
#define GICD_ITARGETSR 0x0800u  /* RAZ/WI with affinity routing */
#define GICD_ICFGR 0x0c00u      /* + 4 * (INTID / 16) */
#define GICD_IGRPMODR 0x0d00u
#define GICD_NSACR 0x0e00u
#define GICD_SGIR 0x0f00u
#define GICD_IROUTER 0x6000u /* + 8 * INTID, INTID >= 32 (64-bit) */
#define GICD_PIDR2 0xffe8u
/* the end of each table (exclusive), for the 988 SPIs of the architecture */
#define GICD_IRQ_BITMAP_END 0x0080u /* a 1-bit-per-INTID table: 32 words */
#define GICD_IPRIORITYR_END 0x07fcu
#define GICD_ICFGR_END 0x0d00u
#define GICD_IROUTER_END 0x7fe0u

/* GICD_CTLR (single security state, DS = 1) */
#define GICD_CTLR_ENABLEGRP0 RK_BIT(0)
#define GICD_CTLR_ENABLEGRP1 RK_BIT(1)
#define GICD_CTLR_ARE RK_BIT(4)
#define GICD_CTLR_DS RK_BIT(6)
#define GICD_CTLR_E1NWF RK_BIT(7)
#define GICD_CTLR_RWP RK_BIT(31)

/* GICD_TYPER */
#define GICD_TYPER_ITLINES_MASK 0x1fu /* [4:0]: 32 * (N + 1) INTIDs */
#define GICD_TYPER_CPUNUMBER_SHIFT 5  /* [7:5] */
#define GICD_TYPER_SECURITYEXTN RK_BIT(10)
#define GICD_TYPER_MBIS RK_BIT(16)
#define GICD_TYPER_LPIS RK_BIT(17)
#define GICD_TYPER_IDBITS_SHIFT 19 /* [23:19]: INTID bits - 1 */
#define GICD_TYPER_A3V RK_BIT(24)
#define GICD_TYPER_NO1N RK_BIT(25)
#define GICD_TYPER_RSS RK_BIT(26)

/* GICD_IROUTER<n> */
#define GICD_IROUTER_IRM RK_BIT(31)
#define GICD_IROUTER_AFF_MASK (RK_ULL(0xff) << 32 | RK_ULL(0xffffff))

/* GICD_IIDR / GICR_IIDR */
#define GIC_IIDR_IMPLEMENTER_ARM 0x43bu /* JEP106 code of Arm */
#define GIC_IIDR_REVISION_SHIFT 12
#define GIC_IIDR_VARIANT_SHIFT 16
#define GIC_IIDR_PRODUCTID_SHIFT 24

/* GICD_PIDR2 / GICR_PIDR2: ArchRev [7:4] */
#define GIC_PIDR2_ARCHREV_MASK 0xf0u
#define GIC_PIDR2_ARCH_GICV3 0x30u

/* GICR_*: a redistributor is two 64 KiB frames, RD_base then SGI_base */
#define GICR_FRAME_SIZE 0x10000u
#define GICR_STRIDE 0x20000u /* GICv3 without VLPIs */
#define GICR_SGI_BASE GICR_FRAME_SIZE
/* RD_base */
#define GICR_CTLR 0x0000u
#define GICR_IIDR 0x0004u
#define GICR_TYPER 0x0008u /* 64-bit */
#define GICR_STATUSR 0x0010u
#define GICR_WAKER 0x0014u
#define GICR_PROPBASER 0x0070u
#define GICR_PENDBASER 0x0078u
#define GICR_PIDR2 0xffe8u
/* SGI_base (offsets in the second frame): the INTID 0-31 copies of the GICD tables */
#define GICR_IGROUPR0 0x0080u
#define GICR_ISENABLER0 0x0100u
#define GICR_ICENABLER0 0x0180u
#define GICR_ISPENDR0 0x0200u
#define GICR_ICPENDR0 0x0280u
#define GICR_ISACTIVER0 0x0300u
#define GICR_ICACTIVER0 0x0380u
#define GICR_IPRIORITYR0 0x0400u /* 32 bytes */
#define GICR_ICFGR0 0x0c00u      /* SGIs */
#define GICR_ICFGR1 0x0c04u      /* PPIs */
#define GICR_IGRPMODR0 0x0d00u
#define GICR_NSACR 0x0e00u

/* GICR_TYPER */
#define GICR_TYPER_PLPIS RK_BIT(0)
#define GICR_TYPER_VLPIS RK_BIT(1)
#define GICR_TYPER_DIRTY RK_BIT(2)
#define GICR_TYPER_DIRECTLPI RK_BIT(3)
#define GICR_TYPER_LAST RK_BIT(4)
#define GICR_TYPER_PROCNUM_SHIFT 8 /* [23:8] */
#define GICR_TYPER_AFF_SHIFT 32    /* [63:32]: Aff3.Aff2.Aff1.Aff0 */

/* GICR_WAKER */
#define GICR_WAKER_PROCESSORSLEEP RK_BIT(1)
#define GICR_WAKER_CHILDRENASLEEP RK_BIT(2)

/* INTID ranges */
#define GIC_NR_SGIS 16u
#define GIC_NR_PRIVATE 32u /* SGIs and PPIs */
#define GIC_MAX_SPIS 988u  /* SPIs 32-1019 */

/* ICFGR: 2 bits an interrupt, [1] = 1 edge-triggered, 0 level-sensitive */
#define GIC_ICFG_EDGE 2u

/* Special INTIDs (1020-1023); 1023: no pending interrupt ("spurious") */
#define GIC_INTID_SPECIAL_MIN 1020u
#define GIC_INTID_SPURIOUS 1023u

#endif /* REALMKIT_ARCH_GIC_H */
