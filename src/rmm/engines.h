/* SPDX-License-Identifier: MIT */
/*
 * Engines currently executing realm code, so that a granule protection
 * change reaches them as a TLB invalidation would on hardware.
 *
 * Every REC_ENTER registers its engine here with the current NS generation.
 * RMI_GRANULE_RANGE_DELEGATE moves granules out of the NS PAS: it bumps the
 * NS generation, kicks every engine registered with an older one and waits
 * until they have left (engines_ns_sync()), before it scrubs. An engine
 * entered with an older generation drops its NS mappings at its next entry
 * and faults them back in through the GPT check. So no realm keeps access to
 * a granule that has left the NS world.
 */
#ifndef RK_RMM_ENGINES_H
#define RK_RMM_ENGINES_H

#include <pthread.h>
#include <stdint.h>

struct rk_cpu;
struct rmm;

#define RMM_MAX_RUNNING 128u

struct engine_slot {
	struct rk_cpu *cpu; /* NULL: free */
	uint64_t gen;       /* NS generation the engine entered with */
	uint64_t rec;       /* PA of the REC it runs (for host IPIs) */
};

struct engine_registry {
	pthread_mutex_t lock;
	uint64_t ns_gen;    /* bumped when granules leave the NS PAS */
	struct engine_slot slot[RMM_MAX_RUNNING];
};

int engines_init(struct engine_registry *r);
void engines_fini(struct engine_registry *r);
/* Register a running engine; returns its slot and the NS generation it runs with. */
unsigned int engines_enter(struct engine_registry *r, struct rk_cpu *cpu, uint64_t rec, uint64_t *gen);
/* A host IPI to the CPU running REC rec, if any. */
void engines_kick_rec(struct engine_registry *r, uint64_t rec);
void engines_leave(struct engine_registry *r, unsigned int slot);
/* After granules left the NS PAS: no engine runs with a stale view when this returns. */
void engines_ns_sync(struct engine_registry *r);

#endif
