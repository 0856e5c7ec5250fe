/* SPDX-License-Identifier: MIT */
/*
 * abort: sets one of its pages to RIPAS EMPTY and reads it. The RMM must
 * inject a synchronous external abort; the handler prints "SEA handled" with
 * the ESR and switches the realm off.
 */
#include "sdk.h"

static uint8_t page[RK_PAGE_SIZE] __attribute__((aligned(4096)));

static bool on_sync(struct rk_exc_frame *frame, uint64_t esr, uint64_t far)
{
	bool sea = esr_ec(esr) == ESR_EC_DABT_CUR && esr_fsc(esr) == ESR_FSC_SEA;

	rk_printf("%s: ESR_EL1 0x%lx (EC 0x%x FSC 0x%x) FAR_EL1 0x%lx ELR_EL1 0x%lx\n",
		  sea ? "SEA handled" : "unexpected exception", esr, esr_ec(esr), esr_fsc(esr), far,
		  frame->elr);
	rk_report(RK_GUEST_EX_ABORT, sea, esr);
	rk_halt();
}

int main(void)
{
	uint64_t base = (uint64_t)(uintptr_t)page, resp = RSI_REJECT, ret;
	enum rsi_ripas r = RSI_RIPAS_RAM;

	rk_set_sync_handler(on_sync);
	ret = rsi_ipa_state_set_range(base, base + RK_PAGE_SIZE, RSI_RIPAS_EMPTY, 0, &resp);
	rsi_ipa_state_get(base, base + RK_PAGE_SIZE, NULL, &r);
	rk_printf("abort: page 0x%lx -> EMPTY: status %lu, %s, RIPAS now %s\n", base, ret,
		  resp == RSI_ACCEPT ? "accepted" : "rejected", r == RSI_RIPAS_EMPTY ? "EMPTY" : "RAM");
	rk_printf("abort: reading it...\n");
	(void)*(volatile uint64_t *)page;
	rk_printf("abort: the read returned: no abort!\n");
	rk_report(RK_GUEST_EX_ABORT, false, 0);
	return 0;
}
