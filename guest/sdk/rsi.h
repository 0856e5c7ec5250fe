/* SPDX-License-Identifier: MIT */
/*
 * RSI (Realm Services Interface) calls, RMM spec 2.0-bet1 (FIDs 0xC4000190 +
 * n; the RSI revision is 1.x). Every function returns the RSI status in x0.
 */
#ifndef RK_GUEST_RSI_H
#define RK_GUEST_RSI_H

#include <stddef.h>
#include <stdint.h>

/* FIDs (RSI_FID_*), status codes (RSI_SUCCESS...), RsiRealmConfig and
 * RsiHostCall come from the ABI description, as for the RMM and the host. */
#include "realmkit/abi_gen.h"

#define RSI_REVISION(major, minor) (((uint64_t)(major) << 16) | (minor))

#define RSI_CHANGE_DESTROYED 1u /* IPA_STATE_SET flags bit 0 */

#define RSI_MEASUREMENT_SLOTS 5 /* 0 = RIM, 1..4 = REMs */
#define RSI_MEASUREMENT_MAX 64
#define RSI_CHALLENGE_SIZE 64
#define RSI_GRANULE_SIZE 4096u

/* Buffers passed to RSI_REALM_CONFIG (struct rsi_realm_config) must be
 * 4 KiB aligned, RSI_HOST_CALL's (struct rsi_host_call) 256-byte aligned. */
#define RSI_REALM_CONFIG_ALIGN 4096
#define RSI_HOST_CALL_ALIGN 256

/* x0-x17 in and out of an SMC (SMCCC 1.2). */
struct rk_smc_regs {
	uint64_t x[18];
};
void rk_smc(struct rk_smc_regs *regs);

uint64_t rsi_version(uint64_t requested, uint64_t *lower, uint64_t *higher);
uint64_t rsi_features(uint64_t index, uint64_t *value);
/* out: 64 bytes (bytes past the hash size are zero) */
uint64_t rsi_measurement_read(unsigned index, uint8_t out[RSI_MEASUREMENT_MAX]);
uint64_t rsi_measurement_extend(unsigned index, const void *data, size_t size);
uint64_t rsi_attest_token_init(const uint8_t challenge[RSI_CHALLENGE_SIZE], uint64_t *max_size);
uint64_t rsi_attest_token_continue(uint64_t granule_ipa, uint64_t offset, uint64_t size, uint64_t *written);
uint64_t rsi_realm_config(struct rsi_realm_config *config);
/* One call: the host may stop early; *next is the first IPA not changed. */
uint64_t rsi_ipa_state_set(uint64_t base, uint64_t top, enum rsi_ripas ripas, uint64_t flags, uint64_t *next,
			   uint64_t *response);
/* Repeat IPA_STATE_SET until [base, top) is done or the host rejects. */
uint64_t rsi_ipa_state_set_range(uint64_t base, uint64_t top, enum rsi_ripas ripas, uint64_t flags,
				 uint64_t *response);
uint64_t rsi_ipa_state_get(uint64_t base, uint64_t end, uint64_t *top, enum rsi_ripas *ripas);
uint64_t rsi_host_call(struct rsi_host_call *call);

/*
 * The whole attestation token for challenge into buf (protected memory,
 * granule aligned, cap bytes). *len = token size. Returns RSI_SUCCESS, an RSI
 * error, or RSI_ERROR_INPUT if cap is too small.
 */
uint64_t rsi_attest_token(const uint8_t challenge[RSI_CHALLENGE_SIZE], void *buf, size_t cap, size_t *len);

#endif
