/* SPDX-License-Identifier: MIT */
/* PSCI 1.1 through SMC (SMC64 function IDs where PSCI defines them). */
#ifndef RK_GUEST_PSCI_H
#define RK_GUEST_PSCI_H

#include <stdint.h>

#define PSCI_VERSION 0x84000000u
#define PSCI_CPU_SUSPEND_64 0xc4000001u
#define PSCI_CPU_OFF 0x84000002u
#define PSCI_CPU_ON_64 0xc4000003u
#define PSCI_AFFINITY_INFO_64 0xc4000004u
#define PSCI_SYSTEM_OFF 0x84000008u
#define PSCI_SYSTEM_RESET 0x84000009u
#define PSCI_FEATURES 0x8400000au

#define PSCI_RET_SUCCESS 0
#define PSCI_RET_NOT_SUPPORTED (-1)
#define PSCI_RET_INVALID_PARAMETERS (-2)
#define PSCI_RET_DENIED (-3)
#define PSCI_RET_ALREADY_ON (-4)
#define PSCI_RET_ON_PENDING (-5)
#define PSCI_RET_INTERNAL_FAILURE (-6)
#define PSCI_RET_NOT_PRESENT (-7)
#define PSCI_RET_DISABLED (-8)
#define PSCI_RET_INVALID_ADDRESS (-9)

/* AFFINITY_INFO results */
#define PSCI_AFF_ON 0
#define PSCI_AFF_OFF 1
#define PSCI_AFF_ON_PENDING 2

uint32_t psci_version(void);            /* major << 16 | minor */
int32_t psci_features(uint32_t fid);
int32_t psci_cpu_on(uint64_t target_mpidr, uint64_t entry, uint64_t context_id);
int32_t psci_cpu_off(void);             /* returns only on failure */
int32_t psci_affinity_info(uint64_t target_mpidr, uint32_t lowest_level);
void psci_system_off(void);             /* returns only if the host resumes us */
void psci_system_reset(void);

#endif
