/* SPDX-License-Identifier: MIT */
/*
 * ripas_toggle: one page goes RIPAS EMPTY -> RAM and is read and written,
 * 40000 times (RK_HC_ITERATIONS may set another count). Every change takes
 * the page away from the realm's stage 2 and gives it back (new, zeroed
 * memory), and the engine translates the realm's code again after each. The
 * host must stay up with bounded memory: before the engine kept its
 * translated code within a budget, this filled Unicorn's 1 GiB code buffer
 * per vCPU and crashed the host in Unicorn's flush.
 */
#include "sdk.h"

#define TOGGLES 40000u

static uint8_t page[RK_PAGE_SIZE] __attribute__((aligned(4096)));

static bool set_ripas(uint64_t base, enum rsi_ripas to)
{
	uint64_t resp = RSI_REJECT;

	return rsi_ipa_state_set_range(base, base + RK_PAGE_SIZE, to, 0, &resp) == RSI_SUCCESS &&
	       resp == RSI_ACCEPT;
}

int main(void)
{
	uint64_t g[31] = { 0 }, base = (uint64_t)(uintptr_t)page, stale = 0, n, i;

	rk_host_call(RK_HC_ITERATIONS, g);
	n = g[0] ? g[0] : TOGGLES;
	rk_printf("ripas_toggle: page 0x%lx EMPTY <-> RAM %lu times\n", base, n);
	for (i = 0; i < n; i++) {
		if (!set_ripas(base, RSI_RIPAS_EMPTY) || !set_ripas(base, RSI_RIPAS_RAM))
			break;
		/* new private memory reads zero */
		stale += *(volatile uint64_t *)page != 0;
		*(volatile uint64_t *)page = i + 1;
	}
	rk_printf("ripas_toggle: %lu toggles, %lu stale reads\n", i, stale);
	rk_report(RK_GUEST_EX_RIPAS_TOGGLE, i == n && stale == 0, i);
	return 0;
}
