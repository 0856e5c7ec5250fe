/* SPDX-License-Identifier: MIT */
/*
 * The RMM instance: firmware at R-EL2. Entered only through rmm_handle_smc()
 * (host SMCs, via the platform's SMC conduit; rmm/firmware.h declares rmm.c)
 * and, for realms, through the REC run loop. See granule.h for the locking
 * protocol, docs/architecture.md ("The RMM's files") for which file owns what.
 */
#ifndef RK_RMM_RMM_H
#define RK_RMM_RMM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "platform/platform.h"
#include "rmm/firmware.h"
#include "realmkit/abi_gen.h"
#include "granule.h"

/* RMM global state (spec 2.0 RMM state machine). */
enum rmm_state {
	RMM_STATE_INIT = 0,   /* after boot: only config and query commands */
	RMM_STATE_ACTIVE = 1, /* after RMI_RMM_ACTIVATE: everything allowed */
};

#define RMM_MAX_VMIDS (1u << 16)
#define RMM_MAX_RECS_ORDER 10
/* Default longest uninterrupted run of one REC_ENTER before an IRQ exit (time
 * slice; rk_machine_config.rec_time_slice_us). */
#define REC_TIME_SLICE_US 2000u

/* Properties of the machine the RMM reports through RMI_FEATURES. */
struct rmm_features {
	uint64_t reg[5];
};

struct sro_pool;
struct rmm_attest;
struct engine_registry;

struct rmm {
	struct platform *plat;
	struct granule *granules; /* one per DRAM granule, indexed by gidx */
	struct rmm_features feat;
	_Atomic int state;             /* enum rmm_state */
	uint32_t config_granule_size;  /* RmiRmmConfig.rmi_granule_size */
	uint32_t config_tracking_size; /* RmiRmmConfig.tracking_region_size */
	uint32_t slice_us;             /* REC_ENTER time slice */
	pthread_mutex_t vmid_lock;     /* protects vmid_bitmap (not a granule lock) */
	uint64_t vmid_bitmap[RMM_MAX_VMIDS / 64];
	struct sro_pool *sro;            /* stateful RMI operations (sro.h) */
	struct rmm_attest *attest;       /* attestation keys (attest_keys.h) */
	FILE *_Atomic rsi_log;           /* firmware log of realm calls, or NULL */
	struct engine_registry *engines; /* engines executing realm code (engines.h) */
};

#endif
