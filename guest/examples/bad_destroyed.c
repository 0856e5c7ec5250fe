/* SPDX-License-Identifier: MIT */
/*
 * bad_destroyed: the host unmaps one of the realm's private pages
 * (RK_HC_UNMAP: RMI_RTT_DATA_UNMAP, RIPAS RAM -> DESTROYED) and the realm
 * reads it anyway. The RMM spec sends that access to the host (a SYNC exit,
 * not an SEA for the realm), and the host cannot make a DESTROYED page
 * accessible (RMI_RTT_DATA_MAP keeps the RIPAS): only the realm can, with
 * RSI_IPA_STATE_SET(RAM, CHANGE_DESTROYED) (see unmap.c). realmkit's host stops
 * the realm with a diagnosis.
 */
#include "sdk.h"

static uint8_t page[RK_PAGE_SIZE] __attribute__((aligned(4096)));

int main(void)
{
	uint64_t g[31] = { 0 }, base = (uint64_t)(uintptr_t)page;
	enum rsi_ripas r = RSI_RIPAS_RAM;

	*(volatile uint64_t *)page = 1;
	g[0] = base;
	rk_host_call(RK_HC_UNMAP, g);
	rsi_ipa_state_get(base, base + RK_PAGE_SIZE, NULL, &r);
	rk_printf("bad_destroyed: page 0x%lx unmapped by the host (%lu), RIPAS %s; reading it...\n", base,
		  g[0], r == RSI_RIPAS_DESTROYED ? "DESTROYED" : "not DESTROYED");
	(void)*(volatile uint64_t *)page;
	rk_printf("bad_destroyed: the read returned!\n");
	return 0;
}
