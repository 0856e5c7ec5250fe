/* SPDX-License-Identifier: MIT */
/*
 * SMC Calling Convention: function ID layout and the Arm Architecture Service
 * calls realmkit answers. Transcribed from the SMC Calling Convention
 * (Arm DEN 0028, v1.5): "Function Identifiers" (the bit fields of W0 and the
 * owning-entity numbers) and the Arm Architecture Calls' "SMCCC_VERSION".
 *
 * The RMM's own FID base, the SVE hint bit and SMC_UNKNOWN come from the ABI
 * description (abi/rmm-2.0.json "smccc", generated into realmkit/abi_gen.h as
 * SMC_FID_BASE, SMC_FID_SVE_HINT, SMC_UNKNOWN); they are not repeated here.
 */
#ifndef REALMKIT_ARCH_SMCCC_H
#define REALMKIT_ARCH_SMCCC_H

#include "realmkit/arch/const.h"

/* Function ID fields (W0) */
#define SMCCC_FAST_CALL RK_BIT(31) /* 1: fast call */
#define SMCCC_SMC64 RK_BIT(30)     /* 1: SMC64/HVC64 calling convention */
#define SMCCC_OWNER_SHIFT 24
#define SMCCC_OWNER_MASK (RK_ULL(0x3f) << SMCCC_OWNER_SHIFT)
#define SMCCC_OWNER_ARCH 0             /* Arm Architecture Calls */
#define SMCCC_OWNER_STANDARD 4         /* Standard Secure Service Calls (PSCI, RMI, RSI) */
#define SMCCC_FNUM_MASK RK_ULL(0xffff) /* function number, bits [15:0] */

/* Arm Architecture Service calls (SMC32) */
#define SMCCC_VERSION 0x80000000  /* function ID of SMCCC_VERSION */
#define SMCCC_VERSION_1_2 0x10002 /* what SMCCC_VERSION returns: v1.2 (major << 16 | minor) */

#endif /* REALMKIT_ARCH_SMCCC_H */
