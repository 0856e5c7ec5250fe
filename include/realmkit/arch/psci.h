/* SPDX-License-Identifier: MIT */
/*
 * Power State Coordination Interface: function IDs, return codes, AFFINITY_INFO
 * states. Transcribed from the Arm Power State Coordination Interface
 * (Arm DEN 0022, PSCI 1.1): the function ID of each function in "Function
 * prototypes" ("API specification"), "Return error codes", and the return
 * values of "AFFINITY_INFO".
 *
 * A PSCI_<FUNCTION> name is always the full SMCCC function ID (SMC32, or the
 * _32/_64 variant where PSCI defines both); never the bare function number.
 * The function number, the same in both conventions, is PSCI_FN(fid):
 * dispatch on it with `case PSCI_FN(PSCI_CPU_ON_64):`.
 */
#ifndef REALMKIT_ARCH_PSCI_H
#define REALMKIT_ARCH_PSCI_H

#include "realmkit/arch/const.h"

/* The PSCI ranges of the Standard Service function IDs */
#define PSCI_FID_BASE_32 0x84000000 /* SMC32: 0x84000000-0x8400001F */
#define PSCI_FID_BASE_64 0xC4000000 /* SMC64: 0xC4000000-0xC400001F */
#define PSCI_FID_FN_MASK 0x1f
#define PSCI_FN(fid) ((fid)&PSCI_FID_FN_MASK)

/* Function IDs (PSCI 1.1, table 5-1) */
#define PSCI_VERSION 0x84000000
#define PSCI_CPU_SUSPEND_32 0x84000001
#define PSCI_CPU_SUSPEND_64 0xC4000001
#define PSCI_CPU_OFF 0x84000002
#define PSCI_CPU_ON_32 0x84000003
#define PSCI_CPU_ON_64 0xC4000003
#define PSCI_AFFINITY_INFO_32 0x84000004
#define PSCI_AFFINITY_INFO_64 0xC4000004
#define PSCI_SYSTEM_OFF 0x84000008
#define PSCI_SYSTEM_RESET 0x84000009
#define PSCI_FEATURES 0x8400000A

/* What PSCI_VERSION returns: major << 16 | minor */
#define PSCI_VERSION_1_1 0x10001

/* Return codes (signed 32-bit; a 64-bit register holds them sign-extended) */
#define PSCI_RET_SUCCESS 0
#define PSCI_RET_NOT_SUPPORTED (-1)
#define PSCI_RET_INVALID_PARAMETERS (-2)
#define PSCI_RET_DENIED (-3)
#define PSCI_RET_ALREADY_ON (-4)
#define PSCI_RET_ON_PENDING (-5)
#define PSCI_RET_INTERNAL_FAILURE (-6)
#define PSCI_RET_NOT_PRESENT (-7)
#define PSCI_RET_DISABLED (-8)
#define PSCI_RET_INVALID_ADDRESS (-9)

/* AFFINITY_INFO results */
#define PSCI_AFF_ON 0
#define PSCI_AFF_OFF 1
#define PSCI_AFF_ON_PENDING 2

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stdint.h>

/* Whether fid lies in the SMC32 or SMC64 PSCI range (all 64 bits compared). */
static inline bool psci_fid_in_range(uint64_t fid)
{
	return (fid & ~(uint64_t)PSCI_FID_FN_MASK) == PSCI_FID_BASE_32 ||
	       (fid & ~(uint64_t)PSCI_FID_FN_MASK) == PSCI_FID_BASE_64;
}

/* Whether fid is in the SMC64 PSCI range. */
static inline bool psci_fid_is_64(uint64_t fid)
{
	return (fid & ~(uint64_t)PSCI_FID_FN_MASK) == PSCI_FID_BASE_64;
}
#endif

#endif /* REALMKIT_ARCH_PSCI_H */
