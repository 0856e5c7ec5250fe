/* SPDX-License-Identifier: MIT */
/*
 * stress: a long integer loop (xorshift64* into a checksum) with an
 * RSI_HOST_CALL (RK_HC_PROGRESS) every interval iterations; prints and
 * reports the checksum. The host may set the sizes (RK_HC_STRESS_CONFIG).
 */
#include "sdk.h"

int main(void)
{
	uint64_t g[31] = { 0 };
	uint64_t iters = 20000000, interval = 1000000, x = 0x2545f4914f6cdd1dull, sum = 0, calls = 0;

	rk_host_call(RK_HC_STRESS_CONFIG, g);
	if (g[0])
		iters = g[0];
	if (g[1])
		interval = g[1];
	rk_printf("stress: %lu iterations, host call every %lu\n", iters, interval);

	for (uint64_t i = 1; i <= iters; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		sum = (sum << 7 | sum >> 57) ^ (x * 0x2545f4914f6cdd1dull);
		if (i % interval == 0) {
			uint64_t p[31] = { 0 };

			p[0] = i;
			p[1] = sum;
			rk_host_call(RK_HC_PROGRESS, p);
			calls++;
		}
	}
	rk_printf("stress: checksum 0x%016lx after %lu iterations, %lu host calls\n", sum, iters, calls);
	rk_report(RK_GUEST_EX_STRESS, true, sum);
	return 0;
}
