/* SPDX-License-Identifier: MIT */
/*
 * bad_vector: every vCPU points VBAR_EL1 at a page of RIPAS EMPTY and
 * executes UDF. The UNDEF goes to VBAR_EL1 + 0x200, whose fetch is an
 * instruction abort; its SEA goes to VBAR_EL1 + 0x200 again, and so on: no
 * instruction ever retires again. The RMM must diagnose the loop and stop the
 * vCPU instead of the host waiting for --timeout (before, each turn also cost
 * the engine a translation: gigabytes of host memory with a few vCPUs).
 */
#include "sdk.h"

extern char _start[];
static uint8_t vectors[RK_PAGE_SIZE] __attribute__((aligned(4096)));

static void into_the_loop(void)
{
	__asm__ volatile("msr vbar_el1, %0\n\tisb\n\tudf #0" : : "r"(vectors) : "memory");
}

void rk_secondary_main(unsigned cpu, uint64_t context_id)
{
	(void)cpu;
	(void)context_id;
	into_the_loop();
}

int main(void)
{
	uint64_t g[31] = { 0 }, base = (uint64_t)(uintptr_t)vectors, resp = RSI_REJECT;
	unsigned n, i;

	rsi_ipa_state_set_range(base, base + RK_PAGE_SIZE, RSI_RIPAS_EMPTY, 0, &resp);
	rk_host_call(RK_HC_CPU_COUNT, g);
	n = g[0] && g[0] <= RK_GUEST_MAX_CPUS ? (unsigned)g[0] : 1;
	rk_printf("bad_vector: %u cpus: VBAR_EL1 = 0x%lx (RIPAS EMPTY: %s), then UDF\n", n, base,
		  resp == RSI_ACCEPT ? "accepted" : "rejected");
	for (i = 1; i < n; i++)
		psci_cpu_on(rk_cpu_mpidr(i), (uint64_t)(uintptr_t)_start, i);
	into_the_loop();
	rk_printf("bad_vector: UDF returned!\n");
	return 0;
}
