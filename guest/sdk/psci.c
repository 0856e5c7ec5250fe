/* SPDX-License-Identifier: MIT */
#include "sdk.h"

static uint64_t psci_call(uint32_t fid, uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct rk_smc_regs r = { { 0 } };

	r.x[0] = fid;
	r.x[1] = a1;
	r.x[2] = a2;
	r.x[3] = a3;
	rk_smc(&r);
	return r.x[0];
}

uint32_t psci_version(void)
{
	return (uint32_t)psci_call(PSCI_VERSION, 0, 0, 0);
}

int32_t psci_features(uint32_t fid)
{
	return (int32_t)psci_call(PSCI_FEATURES, fid, 0, 0);
}

int32_t psci_cpu_on(uint64_t target_mpidr, uint64_t entry, uint64_t context_id)
{
	return (int32_t)psci_call(PSCI_CPU_ON_64, target_mpidr, entry, context_id);
}

int32_t psci_cpu_off(void)
{
	return (int32_t)psci_call(PSCI_CPU_OFF, 0, 0, 0);
}

int32_t psci_affinity_info(uint64_t target_mpidr, uint32_t lowest_level)
{
	return (int32_t)psci_call(PSCI_AFFINITY_INFO_64, target_mpidr, lowest_level, 0);
}

void psci_system_off(void)
{
	psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
}

void psci_system_reset(void)
{
	psci_call(PSCI_SYSTEM_RESET, 0, 0, 0);
}
