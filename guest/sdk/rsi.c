/* SPDX-License-Identifier: MIT */
#include "sdk.h"

static uint64_t rsi(struct rk_smc_regs *r, uint32_t fid)
{
	r->x[0] = fid;
	rk_smc(r);
	return r->x[0];
}

uint64_t rsi_version(uint64_t requested, uint64_t *lower, uint64_t *higher)
{
	struct rk_smc_regs r = { { 0 } };
	uint64_t ret;

	r.x[1] = requested;
	ret = rsi(&r, RSI_FID_VERSION);
	if (lower)
		*lower = r.x[1];
	if (higher)
		*higher = r.x[2];
	return ret;
}

uint64_t rsi_features(uint64_t index, uint64_t *value)
{
	struct rk_smc_regs r = { { 0 } };
	uint64_t ret;

	r.x[1] = index;
	ret = rsi(&r, RSI_FID_FEATURES);
	if (value)
		*value = r.x[1];
	return ret;
}

uint64_t rsi_measurement_read(unsigned index, uint8_t out[RSI_MEASUREMENT_MAX])
{
	struct rk_smc_regs r = { { 0 } };
	uint64_t ret;

	r.x[1] = index;
	ret = rsi(&r, RSI_FID_MEASUREMENT_READ);
	for (unsigned w = 0; w < 8; w++)
		for (unsigned b = 0; b < 8; b++)
			out[w * 8 + b] = ret == RSI_SUCCESS ? (uint8_t)(r.x[1 + w] >> (8 * b)) : 0;
	return ret;
}

uint64_t rsi_measurement_extend(unsigned index, const void *data, size_t size)
{
	struct rk_smc_regs r = { { 0 } };
	const uint8_t *p = data;

	if (size > RSI_MEASUREMENT_MAX)
		return RSI_ERROR_INPUT;
	r.x[1] = index;
	r.x[2] = size;
	for (size_t i = 0; i < size; i++)
		r.x[3 + i / 8] |= (uint64_t)p[i] << (8 * (i % 8));
	return rsi(&r, RSI_FID_MEASUREMENT_EXTEND);
}

uint64_t rsi_attest_token_init(const uint8_t challenge[RSI_CHALLENGE_SIZE], uint64_t *max_size)
{
	struct rk_smc_regs r = { { 0 } };
	uint64_t ret;

	for (unsigned i = 0; i < RSI_CHALLENGE_SIZE; i++)
		r.x[1 + i / 8] |= (uint64_t)challenge[i] << (8 * (i % 8));
	ret = rsi(&r, RSI_FID_ATTEST_TOKEN_INIT);
	if (max_size)
		*max_size = r.x[1];
	return ret;
}

uint64_t rsi_attest_token_continue(uint64_t granule_ipa, uint64_t offset, uint64_t size, uint64_t *written)
{
	struct rk_smc_regs r = { { 0 } };
	uint64_t ret;

	r.x[1] = granule_ipa;
	r.x[2] = offset;
	r.x[3] = size;
	ret = rsi(&r, RSI_FID_ATTEST_TOKEN_CONTINUE);
	if (written)
		*written = r.x[1];
	return ret;
}

uint64_t rsi_realm_config(struct rsi_realm_config *config)
{
	struct rk_smc_regs r = { { 0 } };

	r.x[1] = (uint64_t)(uintptr_t)config;
	return rsi(&r, RSI_FID_REALM_CONFIG);
}

uint64_t rsi_ipa_state_set(uint64_t base, uint64_t top, enum rsi_ripas ripas, uint64_t flags, uint64_t *next,
			   uint64_t *response)
{
	struct rk_smc_regs r = { { 0 } };
	uint64_t ret;

	r.x[1] = base;
	r.x[2] = top;
	r.x[3] = (uint64_t)ripas;
	r.x[4] = flags;
	ret = rsi(&r, RSI_FID_IPA_STATE_SET);
	if (next)
		*next = r.x[1];
	if (response)
		*response = r.x[2];
	return ret;
}

uint64_t rsi_ipa_state_set_range(uint64_t base, uint64_t top, enum rsi_ripas ripas, uint64_t flags,
				 uint64_t *response)
{
	uint64_t resp = RSI_ACCEPT, ret = RSI_SUCCESS;

	while (base < top) {
		uint64_t next = base;

		ret = rsi_ipa_state_set(base, top, ripas, flags, &next, &resp);
		if (ret != RSI_SUCCESS || resp != RSI_ACCEPT)
			break;
		if (next <= base || next > top) { /* no progress, or nonsense */
			ret = RSI_ERROR_UNKNOWN;
			break;
		}
		base = next;
	}
	if (response)
		*response = resp;
	return ret;
}

uint64_t rsi_ipa_state_get(uint64_t base, uint64_t end, uint64_t *top, enum rsi_ripas *ripas)
{
	struct rk_smc_regs r = { { 0 } };
	uint64_t ret;

	r.x[1] = base;
	r.x[2] = end;
	ret = rsi(&r, RSI_FID_IPA_STATE_GET);
	if (top)
		*top = r.x[1];
	if (ripas)
		*ripas = (enum rsi_ripas)r.x[2];
	return ret;
}

uint64_t rsi_host_call(struct rsi_host_call *call)
{
	struct rk_smc_regs r = { { 0 } };

	r.x[1] = (uint64_t)(uintptr_t)call;
	return rsi(&r, RSI_FID_HOST_CALL);
}

uint64_t rsi_attest_token(const uint8_t challenge[RSI_CHALLENGE_SIZE], void *buf, size_t cap, size_t *len)
{
	uint64_t ret, max = 0, done = 0;
	uint8_t *p = buf;

	*len = 0;
	if (((uintptr_t)buf & (RSI_GRANULE_SIZE - 1)) != 0)
		return RSI_ERROR_INPUT;
	ret = rsi_attest_token_init(challenge, &max);
	if (ret != RSI_SUCCESS)
		return ret;
	for (;;) {
		uint64_t off = done & (RSI_GRANULE_SIZE - 1), n = 0;

		if (done >= cap)
			return RSI_ERROR_INPUT; /* token larger than the buffer */
		ret = rsi_attest_token_continue((uint64_t)(uintptr_t)(p + done - off), off,
						RSI_GRANULE_SIZE - off, &n);
		if (ret != RSI_SUCCESS && ret != RSI_INCOMPLETE)
			return ret;
		if (n > RSI_GRANULE_SIZE - off)
			return RSI_ERROR_UNKNOWN;
		done += n;
		if (ret == RSI_SUCCESS)
			break;
	}
	*len = done;
	return RSI_SUCCESS;
}
