/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "realmkit/cpu.h"
#include "engines.h"

int engines_init(struct engine_registry *r, unsigned int max_open)
{
	memset(r->slot, 0, sizeof(r->slot));
	r->ns_gen = 0;
	r->max_open = max_open ? max_open : RMM_DEFAULT_OPEN_ENGINES;
	r->nopen = 0;
	r->seq = 0;
	/* one more than the cap: the REC just noted may push it over by one */
	r->open = calloc((size_t)r->max_open + 1, sizeof(*r->open));
	if (!r->open)
		return -ENOMEM;
	if (pthread_mutex_init(&r->lock, NULL)) {
		free(r->open);
		return -ENOMEM;
	}
	return 0;
}

void engines_fini(struct engine_registry *r)
{
	pthread_mutex_destroy(&r->lock);
	free(r->open);
	r->open = NULL;
}

bool engines_used(struct engine_registry *r, uint64_t rec, uint64_t *victim)
{
	unsigned int i, lru = 0;
	bool found = false;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->nopen; i++)
		if (r->open[i].rec == rec)
			break;
	if (i == r->nopen)
		r->open[r->nopen++].rec = rec; /* room: nopen <= max_open before */
	r->open[i].seq = ++r->seq;
	if (r->nopen > r->max_open) {
		for (i = 0; i < r->nopen; i++)
			if (r->open[i].rec != rec && (!found || r->open[i].seq < r->open[lru].seq)) {
				lru = i;
				found = true;
			}
		*victim = r->open[lru].rec;
		r->open[lru] = r->open[--r->nopen];
	}
	pthread_mutex_unlock(&r->lock);
	return found;
}

void engines_forget(struct engine_registry *r, uint64_t rec)
{
	pthread_mutex_lock(&r->lock);
	for (unsigned int i = 0; i < r->nopen; i++)
		if (r->open[i].rec == rec) {
			r->open[i] = r->open[--r->nopen];
			break;
		}
	pthread_mutex_unlock(&r->lock);
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
