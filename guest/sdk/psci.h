/* SPDX-License-Identifier: MIT */
/* PSCI 1.1 through SMC (SMC64 function IDs where PSCI defines them). */
#ifndef RK_GUEST_PSCI_H
#define RK_GUEST_PSCI_H

#include <stdint.h>

#include "realmkit/arch/psci.h" /* function IDs, return codes, AFFINITY_INFO states */

uint32_t psci_version(void); /* major << 16 | minor */
int32_t psci_features(uint32_t fid);
int32_t psci_cpu_on(uint64_t target_mpidr, uint64_t entry, uint64_t context_id);
int32_t psci_cpu_off(void); /* returns only on failure */
int32_t psci_affinity_info(uint64_t target_mpidr, uint32_t lowest_level);
void psci_system_off(void); /* returns only if the host resumes us */
void psci_system_reset(void);

#endif
