/* SPDX-License-Identifier: MIT */
/*
 * bad_ipa: a realm that reads an IPA outside its IPA space (1 << s2sz). The
 * RMM injects a synchronous external abort; the SDK's default handler prints
 * it and switches the realm off without reporting a result.
 */
#include "sdk.h"

int main(void)
{
	uint64_t ipa = 1ULL << RK_GUEST_S2SZ;

	rk_printf("bad_ipa: reading IPA 0x%lx, outside the %u-bit IPA space\n", ipa, RK_GUEST_S2SZ);
	(void)*(volatile uint64_t *)(uintptr_t)ipa;
	rk_printf("bad_ipa: the read returned!\n");
	return 0;
}
