/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "platform/cpu/cpu.h"
#include "rmm/engines.h"

int engines_init(struct engine_registry *r)
{
	memset(r->slot, 0, sizeof(r->slot));
	r->ns_gen = 0;
	return pthread_mutex_init(&r->lock, NULL) ? -ENOMEM : 0;
}

void engines_fini(struct engine_registry *r)
{
	pthread_mutex_destroy(&r->lock);
}

unsigned int engines_enter(struct engine_registry *r, struct rk_cpu *cpu, uint64_t rec, uint64_t *gen)
{
	for (;;) {
		pthread_mutex_lock(&r->lock);
		for (unsigned int i = 0; i < RMM_MAX_RUNNING; i++) {
			if (!r->slot[i].cpu) {
				r->slot[i].cpu = cpu;
				r->slot[i].gen = r->ns_gen;
				r->slot[i].rec = rec;
				*gen = r->ns_gen;
				pthread_mutex_unlock(&r->lock);
				return i;
			}
		}
		pthread_mutex_unlock(&r->lock);
		sched_yield(); /* more engines running than slots: wait for one to leave */
	}
}

void engines_leave(struct engine_registry *r, unsigned int slot)
{
	pthread_mutex_lock(&r->lock);
	r->slot[slot].cpu = NULL;
	pthread_mutex_unlock(&r->lock);
}

void engines_kick_rec(struct engine_registry *r, uint64_t rec)
{
	pthread_mutex_lock(&r->lock);
	for (unsigned int i = 0; i < RMM_MAX_RUNNING; i++)
		if (r->slot[i].cpu && r->slot[i].rec == rec)
			rk_cpu_kick(r->slot[i].cpu); /* under the lock: the engine cannot go away */
	pthread_mutex_unlock(&r->lock);
}

void engines_ns_sync(struct engine_registry *r)
{
	uint64_t gen;
	bool stale;

	pthread_mutex_lock(&r->lock);
	gen = ++r->ns_gen;
	for (unsigned int i = 0; i < RMM_MAX_RUNNING; i++)
		if (r->slot[i].cpu && r->slot[i].gen < gen)
			rk_cpu_kick(r->slot[i].cpu); /* under the lock: the engine cannot go away */
	pthread_mutex_unlock(&r->lock);
	do {
		stale = false;
		pthread_mutex_lock(&r->lock);
		for (unsigned int i = 0; i < RMM_MAX_RUNNING && !stale; i++)
			stale = r->slot[i].cpu && r->slot[i].gen < gen;
		pthread_mutex_unlock(&r->lock);
		if (stale)
			sched_yield();
	} while (stale);
}
