/* SPDX-License-Identifier: MIT */
/*
 * bad_rsi: a realm that makes malformed RSI calls: a host call whose
 * RsiHostCall is not 256-byte aligned, MEASUREMENT_READ of a slot that does
 * not exist, IPA_STATE_SET with top below base, an RSI function that does not
 * exist, and a RIPAS change to RAM of memory the host never gave it (which the
 * host's policy rejects). It prints what each returned and reports FAIL.
 */
#include "sdk.h"

static struct rsi_host_call hc[2] __attribute__((aligned(RSI_HOST_CALL_ALIGN)));

int main(void)
{
	uint8_t m[RSI_MEASUREMENT_MAX];
	struct rk_smc_regs r = { { 0 } };
	uint64_t ret, next = 0, resp = RSI_ACCEPT, refused = 0;
	uint64_t outside = RK_GUEST_RAM_BASE + 0x10000000ull; /* in the protected half, in no memory slot */

	ret = rsi_host_call((struct rsi_host_call *)((uintptr_t)&hc[0] + 8));
	rk_printf("bad_rsi: RSI_HOST_CALL(misaligned RsiHostCall) = %lu\n", ret);
	refused += ret != RSI_SUCCESS;

	ret = rsi_measurement_read(7, m);
	rk_printf("bad_rsi: RSI_MEASUREMENT_READ(slot 7) = %lu\n", ret);
	refused += ret != RSI_SUCCESS;

	ret = rsi_ipa_state_set(RK_GUEST_RAM_BASE + 0x2000, RK_GUEST_RAM_BASE + 0x1000, RSI_RIPAS_EMPTY, 0,
				&next, &resp);
	rk_printf("bad_rsi: RSI_IPA_STATE_SET(top < base) = %lu\n", ret);
	refused += ret != RSI_SUCCESS;

	r.x[0] = 0xc40001ffu; /* in the RSI range, no such function */
	rk_smc(&r);
	rk_printf("bad_rsi: SMC 0xc40001ff (no such RSI function) = 0x%lx\n", r.x[0]);
	refused += r.x[0] != RSI_SUCCESS;

	ret = rsi_ipa_state_set(outside, outside + 0x1000, RSI_RIPAS_RAM, 0, &next, &resp);
	rk_printf("bad_rsi: RSI_IPA_STATE_SET(RAM, 0x%lx, outside guest RAM) = %lu, %s\n", outside, ret,
		  resp == RSI_ACCEPT ? "accepted" : "rejected");
	refused += ret != RSI_SUCCESS || resp != RSI_ACCEPT;

	rk_printf("bad_rsi: %lu of 5 calls refused\n", refused);
	rk_report(0x100, false, refused);
	return 0;
}
