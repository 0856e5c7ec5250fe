/* SPDX-License-Identifier: MIT */
/*
 * smp: vCPU 0 starts every other vCPU with PSCI CPU_ON (the count comes from
 * the RK_HC_CPU_COUNT host call, or by probing CPU_ON until
 * INVALID_PARAMETERS), each prints "cpu N up" and does CPU_OFF; vCPU 0 waits
 * with AFFINITY_INFO until all are off, then SYSTEM_OFF.
 */
#include "sdk.h"

extern char _start[];
static volatile uint32_t up_mask;

void rk_secondary_main(unsigned cpu, uint64_t context_id)
{
	rk_printf("cpu %u up (context %lu, MPIDR 0x%lx)\n", cpu, context_id, rk_read_sysreg(mpidr_el1));
	__atomic_or_fetch(&up_mask, 1u << cpu, __ATOMIC_SEQ_CST);
	psci_cpu_off();
	rk_printf("cpu %u: CPU_OFF returned!\n", cpu);
}

int main(void)
{
	uint64_t g[31] = { 0 };
	unsigned n, started = 0, i;
	bool probe, ok = true;

	rk_host_call(RK_HC_CPU_COUNT, g);
	n = (unsigned)g[0];
	probe = n == 0;
	if (probe || n > RK_GUEST_MAX_CPUS)
		n = RK_GUEST_MAX_CPUS;
	rk_printf("smp: cpu %u of %u%s, PSCI %u.%u\n", rk_cpu_index(), n, probe ? " (probing)" : "",
		  psci_version() >> 16, psci_version() & 0xffff);
	__atomic_or_fetch(&up_mask, 1u << rk_cpu_index(), __ATOMIC_SEQ_CST);

	for (i = 0; i < n; i++) {
		int32_t r;

		if (i == rk_cpu_index())
			continue;
		r = psci_cpu_on(rk_cpu_mpidr(i), (uint64_t)(uintptr_t)_start, i);
		if (r == PSCI_RET_INVALID_PARAMETERS && probe) {
			n = i; /* no such vCPU: the count is i */
			break;
		}
		if (r != PSCI_RET_SUCCESS) {
			rk_printf("smp: CPU_ON(%u) = %d\n", i, r);
			ok = false;
			continue;
		}
		started++;
	}

	for (i = 0; i < n; i++) {
		unsigned spins = 0;

		if (i == rk_cpu_index())
			continue;
		while (psci_affinity_info(rk_cpu_mpidr(i), 0) != PSCI_AFF_OFF) {
			if (++spins % 100000 == 0)
				rk_printf("smp: still waiting for cpu %u\n", i);
		}
	}
	for (i = 0; i < n; i++)
		ok = ok && (up_mask & (1u << i));
	rk_printf("smp: %u cpus, %u started, all %s\n", n, started, ok ? "up and off" : "NOT seen");
	rk_report(RK_GUEST_EX_SMP, ok, n);
	return 0;
}
