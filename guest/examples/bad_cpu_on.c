/* SPDX-License-Identifier: MIT */
/*
 * bad_cpu_on: a realm that starts a vCPU it does not have (PSCI CPU_ON of
 * vCPU index 127, MPIDR 0x70f). It prints the PSCI error and reports FAIL.
 */
#include "sdk.h"

extern char _start[];

int main(void)
{
	uint64_t mpidr = rk_cpu_mpidr(127);
	int32_t r = psci_cpu_on(mpidr, (uint64_t)(uintptr_t)_start, 127);

	rk_printf("bad_cpu_on: CPU_ON(MPIDR 0x%lx) = %d%s\n", mpidr, r,
		  r == PSCI_RET_INVALID_PARAMETERS ? " (INVALID_PARAMETERS: no such vCPU)" : "");
	rk_report(0x101, false, (uint64_t)(int64_t)r);
	return 0;
}
