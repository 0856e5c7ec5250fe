/* SPDX-License-Identifier: MIT */
/* An SMC from a running REC: RSI, PSCI or SMCCC (smc.c). */
#ifndef RK_RMM_RSI_SMC_H
#define RK_RMM_RSI_SMC_H

#include <stdint.h>

#include "realmkit/abi_gen.h"
#include "rsi/rsi.h"

/*
 * The SMCCC function identifier in a realm's X0: W0 without the SVE hint bit.
 * The upper half of X0 is ignored, as TF-RMM does (compilers have been seen
 * to sign-extend constant FIDs).
 */
static inline uint64_t rsi_fid(uint64_t x0)
{
	return (x0 & 0xffffffffULL) & ~SMC_FID_SVE_HINT;
}
/* Handle an SMC from the realm (RSI, PSCI, SMCCC). */
void rsi_handle(struct rsi_call *c);
/* "RSI_HOST_CALL", "PSCI_CPU_ON", "SMCCC_VERSION", "SMC 0x..." */
const char *rsi_call_name(uint64_t fid);

#endif
