/* SPDX-License-Identifier: MIT */
/*
 * The RMM: firmware at R-EL2. Entered only through rmm_handle_smc() (host
 * SMCs, via the platform's SMC conduit) and, for realms, through the REC
 * run loop. See granule.h for the locking protocol.
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

/* Properties of the machine the RMM reports through RMI_FEATURES. */
struct rmm_features {
	uint64_t reg[5];
};

struct sro_pool;
struct rmm_attest;
struct engine_registry;

struct rmm {
	struct platform *plat;
	struct granule *granules;    /* one per DRAM granule, indexed by gidx */
	struct rmm_features feat;
	_Atomic int state;           /* enum rmm_state */
	uint32_t config_granule_size;     /* RmiRmmConfig.rmi_granule_size */
	uint32_t config_tracking_size;    /* RmiRmmConfig.tracking_region_size */
	uint32_t slice_us;           /* REC_ENTER time slice */
	pthread_mutex_t vmid_lock;   /* protects vmid_bitmap (not a granule lock) */
	uint64_t vmid_bitmap[RMM_MAX_VMIDS / 64];
	struct sro_pool *sro;        /* stateful RMI operations (sro.h) */
	struct rmm_attest *attest;   /* attestation keys (attest_keys.h) */
	FILE *_Atomic rsi_log;       /* firmware log of realm calls, or NULL */
	struct engine_registry *engines; /* engines executing realm code (engines.h) */
};

/* ---- granule lookup and locking (granule.c) ---- */

/* The granule of a PA, or NULL if pa is unaligned or not DRAM. */
struct granule *granule_from_pa(const struct rmm *rmm, uint64_t pa);
uint64_t granule_to_pa(const struct rmm *rmm, const struct granule *g);
uint8_t *granule_ptr(const struct rmm *rmm, const struct granule *g);

/* Lock the granule at pa if it is in state `expected`; NULL (unlocked) otherwise. */
struct granule *find_lock_granule(struct rmm *rmm, uint64_t pa, enum granule_state expected);

/* At most an RD plus 16 root RTTs. */
#define FIND_LOCK_MAX 17

struct granule_req {
	uint64_t pa;
	enum granule_state expected;
	struct granule *g; /* out */
};

/*
 * Lock n granules in ascending PA order (L2), each checked against its
 * expected state. False (all unlocked) if any is invalid, in the wrong state,
 * or two requests name the same granule.
 */
bool find_lock_granules(struct rmm *rmm, struct granule_req *reqs, unsigned int n);

/* ---- VMIDs ---- */
int rmm_vmid_alloc(struct rmm *rmm, uint16_t *out);
void rmm_vmid_free(struct rmm *rmm, uint16_t vmid);

/* ---- non-secure memory access by the RMM (checked against the GPT) ---- */

/* Copy from / to an NS granule. False if pa is not an NS DRAM range. */
bool rmm_ns_read(struct rmm *rmm, uint64_t pa, void *buf, uint64_t len);
bool rmm_ns_write(struct rmm *rmm, uint64_t pa, const void *buf, uint64_t len);

#endif
