/* SPDX-License-Identifier: MIT */
/*
 * Exception Syndrome Register (ESR_EL1, ESR_EL2): the layout, the exception
 * classes realmkit raises or reports, the data-abort ISS and the fault status
 * codes. Transcribed from the Arm Architecture Reference Manual for A-profile
 * (Arm DDI 0487), the register descriptions "ESR_EL1" and "ESR_EL2": the EC
 * table, the ISS encoding for an exception from a Data Abort (ISV, SAS, SSE,
 * SRT, SF, AR, WnR, DFSC), from a WFI or WFE instruction (TI), from a trapped
 * MSR or MRS (EC 0x18: Op0, Op2, Op1, CRn, Rt, CRm, Direction), and for an
 * SError exception (IDS).
 *
 * Building and reading have different names: the upper-case ESR_* macros
 * (ESR_MAKE(), ESR_EC(ec), ESR_SAS(size), the ESR_<FIELD> bits) build a
 * syndrome; the lower-case esr_<field>(esr) functions read one.
 */
#ifndef REALMKIT_ARCH_ESR_H
#define REALMKIT_ARCH_ESR_H

#include "realmkit/arch/const.h"

#define ESR_EC_SHIFT 26
#define ESR_EC_WIDTH 6
#define ESR_IL RK_BIT(25) /* instruction length: 32-bit */
#define ESR_ISS_MASK RK_ULL(0x1ffffff)

/* Exception classes (ESR_ELx.EC) */
#define ESR_EC_UNKNOWN 0x00
#define ESR_EC_WFX 0x01
#define ESR_EC_SVC64 0x15
#define ESR_EC_HVC64 0x16
#define ESR_EC_SMC64 0x17
#define ESR_EC_SYS64 0x18    /* trapped MSR, MRS or system instruction */
#define ESR_EC_IABT_LOW 0x20 /* instruction abort from a lower EL */
#define ESR_EC_IABT_CUR 0x21 /* instruction abort, same EL */
#define ESR_EC_DABT_LOW 0x24 /* data abort from a lower EL */
#define ESR_EC_DABT_CUR 0x25 /* data abort, same EL */
#define ESR_EC_SERROR 0x2f
#define ESR_EC_BRK64 0x3c

/* ISS of a data abort */
#define ESR_ISV RK_BIT(24) /* instruction syndrome valid */
#define ESR_SAS_SHIFT 22   /* access size: 0 byte .. 3 doubleword */
#define ESR_SAS_MASK (RK_ULL(3) << ESR_SAS_SHIFT)
#define ESR_SSE RK_BIT(21) /* sign-extend */
#define ESR_SRT_SHIFT 16   /* register transferred */
#define ESR_SRT_MASK (RK_ULL(0x1f) << ESR_SRT_SHIFT)
#define ESR_SF RK_BIT(15)         /* 64-bit register */
#define ESR_AR RK_BIT(14)         /* acquire/release */
#define ESR_S1PTW RK_BIT(7)       /* stage-2 fault on a stage-1 translation table walk */
#define ESR_WNR RK_BIT(6)         /* write, not read */
#define ESR_FNV RK_BIT(10)        /* FAR not valid */
#define ESR_FSC_MASK RK_ULL(0x3f) /* DFSC / IFSC */

/* Fault status codes (DFSC/IFSC) */
#define ESR_FSC_TRANS(level) (0x04 + (level)) /* translation fault, level 0-3 */
#define ESR_FSC_AF(level) (0x08 + (level))    /* access flag fault, level 0-3 */
#define ESR_FSC_PERM(level) (0x0c + (level))  /* permission fault, level 1-3 */
#define ESR_FSC_ALIGN 0x21                    /* alignment fault */
#define ESR_FSC_SEA 0x10                      /* synchronous external abort */
#define ESR_FSC_GPF 0x28                      /* granule protection fault (FEAT_RME) */

/* ISS of a WFI/WFE trap */
#define ESR_WFX_TI_WFE 1 /* TI: 0 WFI, 1 WFE */

/* ISS of a trapped MSR/MRS (EC 0x18): Op0 [21:20], Op2 [19:17], Op1 [16:14],
 * CRn [13:10], Rt [9:5], CRm [4:1], Direction [0] (1: read, MRS) */
#define ESR_SYS64_DIR_READ RK_BIT(0)
#define ESR_SYS64_RT_SHIFT 5
#define ESR_SYS64_RT_MASK (RK_ULL(0x1f) << ESR_SYS64_RT_SHIFT)
#define ESR_SYS64_ISS(op0, op1, crn, crm, op2)                                               \
	((RK_ULL(0) + (op0)) << 20 | (RK_ULL(0) + (op2)) << 17 | (RK_ULL(0) + (op1)) << 14 | \
	 (RK_ULL(0) + (crn)) << 10 | (RK_ULL(0) + (crm)) << 1)

/* ISS of an SError */
#define ESR_SERROR_IDS RK_BIT(24) /* IMPLEMENTATION DEFINED syndrome */

/* Building (constant expressions): a field in place, or a whole ESR of class
 * ec, IL il (0 or 1) and syndrome iss. */
#define ESR_EC(ec) ((RK_ULL(0) + (ec)) << ESR_EC_SHIFT)
#define ESR_SAS(size_log2) ((RK_ULL(0) + (size_log2)) << ESR_SAS_SHIFT)
#define ESR_SRT(reg) ((RK_ULL(0) + (reg)) << ESR_SRT_SHIFT)
#define ESR_MAKE(ec, il, iss) (ESR_EC(ec) | ((il) ? ESR_IL : 0) | (iss))

#ifndef __ASSEMBLER__
#include <stdint.h>

/* Reading */
static inline unsigned int esr_ec(uint64_t esr)
{
	return (unsigned int)(esr >> ESR_EC_SHIFT) & 0x3fu;
}

static inline unsigned int esr_iss(uint64_t esr)
{
	return (unsigned int)(esr & ESR_ISS_MASK);
}

static inline unsigned int esr_fsc(uint64_t esr)
{
	return (unsigned int)(esr & ESR_FSC_MASK);
}

static inline unsigned int esr_sas(uint64_t esr)
{
	return (unsigned int)((esr & ESR_SAS_MASK) >> ESR_SAS_SHIFT);
}

static inline unsigned int esr_srt(uint64_t esr)
{
	return (unsigned int)((esr & ESR_SRT_MASK) >> ESR_SRT_SHIFT);
}
#endif

#endif /* REALMKIT_ARCH_ESR_H */
