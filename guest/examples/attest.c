/* SPDX-License-Identifier: MIT */
/*
 * attest: gets a 64-byte challenge from the host (RK_HC_CHALLENGE), gets the
 * CCA attestation token with RSI_ATTEST_TOKEN_INIT/CONTINUE into protected
 * memory, copies it to the shared buffer the host names (RK_HC_SHARED_BUF)
 * and tells the host (RK_HC_TOKEN_READY). Protocol: guest/README.md.
 */
#include "sdk.h"

#define TOKEN_CAP (4 * RSI_GRANULE_SIZE)

static uint8_t token[TOKEN_CAP] __attribute__((aligned(4096)));

int main(void)
{
	uint8_t challenge[RSI_CHALLENGE_SIZE];
	uint64_t g[31] = { 0 }, ret, shared, shared_size, status;
	size_t len = 0;

	rk_host_call(RK_HC_CHALLENGE, g);
	for (unsigned i = 0; i < RSI_CHALLENGE_SIZE; i++)
		challenge[i] = (uint8_t)(g[i / 8] >> (8 * (i % 8)));
	rk_puts("attest: challenge ");
	rk_print_hex(challenge, 16);
	rk_puts("...\n");

	ret = rsi_attest_token(challenge, token, TOKEN_CAP, &len);
	rk_printf("attest: token status %lu, %lu bytes\n", ret, (uint64_t)len);
	status = ret;

	memset(g, 0, sizeof(g));
	rk_host_call(RK_HC_SHARED_BUF, g);
	shared = g[0];
	shared_size = g[1];
	if (status == RSI_SUCCESS) {
		if (shared == 0 || shared_size < len) {
			rk_printf("attest: shared buffer 0x%lx (%lu bytes) too small\n", shared, shared_size);
			status = RK_GUEST_ERR_TOO_BIG;
		} else {
			memcpy((void *)(uintptr_t)shared, token, len);
			rk_printf("attest: token copied to shared 0x%lx\n", shared);
		}
	}
	memset(g, 0, sizeof(g));
	g[0] = status == RSI_SUCCESS ? len : 0;
	g[1] = shared;
	g[2] = status;
	rk_host_call(RK_HC_TOKEN_READY, g);
	rk_report(RK_GUEST_EX_ATTEST, status == RSI_SUCCESS, len);
	return 0;
}
