/* SPDX-License-Identifier: MIT */
/*
 * ripas: a 4-page buffer goes private -> shared -> private.
 *  1. RIPAS RAM: write/read a pattern through its protected IPA;
 *  2. RSI_IPA_STATE_SET to EMPTY; write/read through the unprotected alias
 *     (IPA | 1 << (ipa_width - 1)), which the host maps to shared memory;
 *  3. back to RAM (new, zeroed private memory), write/read again.
 * RSI_IPA_STATE_GET checks the RIPAS at every step.
 */
#include "sdk.h"

#define PAGES 4
#define SIZE (PAGES * RK_PAGE_SIZE)

static uint8_t buf[SIZE] __attribute__((aligned(4096)));
static struct rsi_realm_config cfg __attribute__((aligned(RSI_REALM_CONFIG_ALIGN)));

static bool fill_check(volatile uint64_t *p, uint64_t seed, const char *what)
{
	for (unsigned i = 0; i < SIZE / 8; i++)
		p[i] = seed ^ (i * 0x9e3779b97f4a7c15ull);
	for (unsigned i = 0; i < SIZE / 8; i++) {
		if (p[i] != (seed ^ (i * 0x9e3779b97f4a7c15ull))) {
			rk_printf("ripas: %s: mismatch at word %u\n", what, i);
			return false;
		}
	}
	rk_printf("ripas: %s write/read OK (%u bytes at 0x%lx)\n", what, SIZE, (uint64_t)(uintptr_t)p);
	return true;
}

static bool expect_ripas(uint64_t base, enum rsi_ripas want, const char *when)
{
	enum rsi_ripas r = RSI_RIPAS_EMPTY;
	uint64_t top = 0, ret = rsi_ipa_state_get(base, base + SIZE, &top, &r);

	rk_printf("ripas: %s: IPA_STATE_GET = %lu, ripas %s up to 0x%lx\n", when, ret,
		  r == RSI_RIPAS_RAM     ? "RAM"
		  : r == RSI_RIPAS_EMPTY ? "EMPTY"
					 : "?",
		  top);
	return ret == RSI_SUCCESS && r == want && top >= base + SIZE;
}

static bool set_ripas(uint64_t base, enum rsi_ripas to)
{
	uint64_t resp = RSI_REJECT, ret = rsi_ipa_state_set_range(base, base + SIZE, to, 0, &resp);

	rk_printf("ripas: IPA_STATE_SET(%s) = %lu, %s\n", to == RSI_RIPAS_RAM ? "RAM" : "EMPTY", ret,
		  resp == RSI_ACCEPT ? "accepted" : "rejected");
	return ret == RSI_SUCCESS && resp == RSI_ACCEPT;
}

int main(void)
{
	uint64_t base = (uint64_t)(uintptr_t)buf, width = RK_GUEST_S2SZ, shared;
	bool ok = true;

	if (rsi_realm_config(&cfg) == RSI_SUCCESS && cfg.ipa_width >= 32 && cfg.ipa_width <= 52)
		width = cfg.ipa_width;
	shared = base | (1ull << (width - 1));
	rk_printf("ripas: buffer 0x%lx, IPA width %lu, shared alias 0x%lx\n", base, width, shared);

	ok = expect_ripas(base, RSI_RIPAS_RAM, "private") && ok;
	ok = fill_check((volatile uint64_t *)buf, 0x1111, "private") && ok;

	ok = set_ripas(base, RSI_RIPAS_EMPTY) && ok;
	ok = expect_ripas(base, RSI_RIPAS_EMPTY, "shared") && ok;
	ok = fill_check((volatile uint64_t *)(uintptr_t)shared, 0x2222, "shared") && ok;

	ok = set_ripas(base, RSI_RIPAS_RAM) && ok;
	ok = expect_ripas(base, RSI_RIPAS_RAM, "private again") && ok;
	ok = fill_check((volatile uint64_t *)buf, 0x3333, "private again") && ok;

	rk_printf("ripas: %s\n", ok ? "PASS" : "FAIL");
	rk_report(RK_GUEST_EX_RIPAS, ok, 0);
	return 0;
}
