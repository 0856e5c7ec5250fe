/* SPDX-License-Identifier: MIT */
/* hello: a greeting, the RSI version, the realm's RIM, SYSTEM_OFF. */
#include "sdk.h"

int main(void)
{
	uint8_t rim[RSI_MEASUREMENT_MAX];
	uint64_t lower = 0, higher = 0, ret;
	size_t len = RSI_MEASUREMENT_MAX;
	bool ok = true;

	rk_printf("Hello from a realm! (realmkit guest SDK, cpu %u)\n", rk_cpu_index());

	ret = rsi_version(RSI_REVISION(1, 0), &lower, &higher);
	rk_printf("RSI_VERSION: status %lu, lower %lu.%lu, higher %lu.%lu\n", ret, lower >> 16,
		  lower & 0xffff, higher >> 16, higher & 0xffff);

	ret = rsi_measurement_read(0, rim);
	if (ret != RSI_SUCCESS) {
		rk_printf("RSI_MEASUREMENT_READ(RIM) failed: %lu\n", ret);
		ok = false;
	} else {
		/* Print the hash size: 64 bytes unless the upper half is zero. */
		bool upper_zero = true;

		for (size_t i = 32; i < RSI_MEASUREMENT_MAX; i++)
			upper_zero = upper_zero && rim[i] == 0;
		if (upper_zero)
			len = 32;
		rk_puts("RIM: ");
		rk_print_hex(rim, len);
		rk_puts("\n");
	}
	rk_report(RK_GUEST_EX_HELLO, ok, ret);
	rk_puts("Bye.\n");
	return 0; /* -> PSCI SYSTEM_OFF */
}
