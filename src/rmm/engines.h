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
 *
 * It also keeps idle RECs cheap: at most max_open RECs keep an open engine
 * (~3.5 MiB and a watchdog thread each); after every REC_ENTER the REC that
 * ran is noted as most recently used, and when more than max_open are open
 * the least recently used other one is parked (rk_cpu_park: its state kept,
 * its engine closed; it opens again at its next entry). So a host holding a
 * thousand idle realms pays for max_open engines, not a thousand.
 */
#ifndef RK_RMM_ENGINES_H
#define RK_RMM_ENGINES_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct rk_cpu;
struct rmm;

#define RMM_MAX_RUNNING 128u
/* Open engines kept by default (rk_machine_config.max_open_engines = 0). */
#define RMM_DEFAULT_OPEN_ENGINES 64u

/* A REC with an open engine, and when it last ran (a sequence number). */
struct engine_open {
	uint64_t rec;
	uint64_t seq;
};

struct engine_slot {
	struct rk_cpu *cpu; /* NULL: free */
	uint64_t gen;       /* NS generation the engine entered with */
	uint64_t rec;       /* PA of the REC it runs (for host IPIs) */
};

struct engine_registry {
	pthread_mutex_t lock;
	uint64_t ns_gen; /* bumped when granules leave the NS PAS */
	struct engine_slot slot[RMM_MAX_RUNNING];
	/* lock: RECs with an open engine, in no order (LRU by seq) */
	struct engine_open *open;
	unsigned int nopen, max_open;
	uint64_t seq;
};

/* max_open: engines kept open (0: RMM_DEFAULT_OPEN_ENGINES). */
int engines_init(struct engine_registry *r, unsigned int max_open);
void engines_fini(struct engine_registry *r);
/* Register a running engine; returns its slot and the NS generation it runs with. */
unsigned int engines_enter(struct engine_registry *r, struct rk_cpu *cpu, uint64_t rec, uint64_t *gen);
/* A host IPI to the CPU running REC rec, if any. */
void engines_kick_rec(struct engine_registry *r, uint64_t rec);
void engines_leave(struct engine_registry *r, unsigned int slot);
/* After granules left the NS PAS: no engine runs with a stale view when this returns. */
void engines_ns_sync(struct engine_registry *r);
/*
 * REC rec has just run on its engine: note it as the most recently used. If
 * more than max_open engines are open, returns true with *victim the least
 * recently used other REC, forgotten here: the caller parks its engine (if
 * that REC is running, it is noted again when its entry ends).
 */
bool engines_used(struct engine_registry *r, uint64_t rec, uint64_t *victim);
/* REC rec's engine is closed (REC destroyed). */
void engines_forget(struct engine_registry *r, uint64_t rec);

#endif
