/* SPDX-License-Identifier: MIT */
/* The realm's run lock (run_lock.h). */
#include <time.h>

#include "realm.h"
#include "run_lock.h"

/*
 * A fair (FIFO ticket) blocking lock. Blocking, because the vCPU threads of one
 * realm usually outnumber the host's cores and a spinning waiter takes the core
 * the holder needs; fair, because a vCPU that polls (PSCI AFFINITY_INFO, host
 * calls) would otherwise take the lock back at once and starve the others.
 *
 * A time slice spans short exits. When a REC exits for something the host
 * completes at once (an emulated MMIO access, a host call, PSCI) while others
 * wait, the lock stays reserved for it for REC_RESERVE_US, and the REC takes it
 * back on its next REC_ENTER with the rest of its slice, instead of queueing
 * behind every other REC. Without this a vCPU printing a line under the
 * guest's console lock (one MMIO exit per character) waited a whole round of
 * the other vCPUs, each spinning on that lock for its slice, per character:
 * `realmkit run smp.elf -c 8` took ~0.8 s on 2 cores. If the REC does not come
 * back in time, the reservation lapses and the next ticket runs.
 */

double run_lock_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static struct timespec us_to_ts(double us)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(us / 1e6);
	ts.tv_nsec = (long)((us - (double)ts.tv_sec * 1e6) * 1e3);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	} else if (ts.tv_nsec < 0) {
		ts.tv_nsec = 0;
	}
	return ts;
}

void realm_run_lock_init(struct rd *rd)
{
	struct realm_run_lock *l = &rd->run_lock;
	pthread_condattr_t ca;

	pthread_mutex_init(&l->mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	for (unsigned int i = 0; i < RUN_LOCK_SLOTS; i++)
		pthread_cond_init(&l->cv[i], &ca);
	pthread_condattr_destroy(&ca);
	l->next = 0;
	l->serving = 0;
	l->reserved_rec = 0;
	l->is_reserved = 0;
	l->reserved_until_us = 0;
	l->reserved_start_us = 0;
	l->reserve_us = REC_RESERVE_US;
	l->held = 0;
}

void realm_run_lock_fini(struct rd *rd)
{
	for (unsigned int i = 0; i < RUN_LOCK_SLOTS; i++)
		pthread_cond_destroy(&rd->run_lock.cv[i]);
	pthread_mutex_destroy(&rd->run_lock.mtx);
}

/* Wake the next in line (mutex held). */
static void run_lock_wake_next(struct realm_run_lock *l)
{
	uint64_t head = __atomic_load_n(&l->serving, __ATOMIC_RELAXED);

	if (__atomic_load_n(&l->next, __ATOMIC_RELAXED) != head)
		pthread_cond_broadcast(&l->cv[head % RUN_LOCK_SLOTS]);
}

/* Take a ticket and wait for it (mutex held). */
static void run_lock_queue(struct realm_run_lock *l)
{
	uint64_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	pthread_cond_t *cv = &l->cv[ticket % RUN_LOCK_SLOTS];

	for (;;) {
		if (!l->held && __atomic_load_n(&l->serving, __ATOMIC_RELAXED) == ticket) {
			if (!l->is_reserved)
				break;
			double now = run_lock_now_us();
			if (now >= l->reserved_until_us) {
				l->is_reserved = 0; /* lapsed: the REC did not come back in time */
				break;
			}
			struct timespec until = us_to_ts(l->reserved_until_us);
			pthread_cond_timedwait(cv, &l->mtx, &until);
		} else {
			pthread_cond_wait(cv, &l->mtx);
		}
	}
	__atomic_fetch_add(&l->serving, 1, __ATOMIC_RELAXED);
	l->held = 1;
}

void realm_run_lock(struct rd *rd)
{
	struct realm_run_lock *l = &rd->run_lock;

	pthread_mutex_lock(&l->mtx);
	run_lock_queue(l);
	pthread_mutex_unlock(&l->mtx);
}

double realm_run_lock_rec(struct rd *rd, uint64_t rec_pa)
{
	struct realm_run_lock *l = &rd->run_lock;
	double start;

	pthread_mutex_lock(&l->mtx);
	if (!l->held && l->is_reserved && l->reserved_rec == rec_pa &&
	    run_lock_now_us() < l->reserved_until_us) {
		/* back within the reservation: go on with the same slice */
		l->is_reserved = 0;
		l->held = 1;
		start = l->reserved_start_us;
	} else {
		run_lock_queue(l);
		start = run_lock_now_us();
	}
	pthread_mutex_unlock(&l->mtx);
	return start;
}

bool realm_run_contended(struct rd *rd)
{
	struct realm_run_lock *l = &rd->run_lock;

	/* tickets handed out but not yet served: RECs or RMI commands waiting */
	return __atomic_load_n(&l->next, __ATOMIC_RELAXED) != __atomic_load_n(&l->serving, __ATOMIC_RELAXED);
}

void realm_run_unlock(struct rd *rd)
{
	struct realm_run_lock *l = &rd->run_lock;

	pthread_mutex_lock(&l->mtx);
	l->held = 0;
	run_lock_wake_next(l);
	pthread_mutex_unlock(&l->mtx);
}

void realm_run_unlock_rec(struct rd *rd, uint64_t rec_pa, bool keep, double slice_start_us)
{
	struct realm_run_lock *l = &rd->run_lock;
	double now;

	pthread_mutex_lock(&l->mtx);
	l->held = 0;
	if (keep && realm_run_contended(rd) &&
	    (now = run_lock_now_us()) < slice_start_us + REC_CONTENDED_SLICE_US) {
		l->is_reserved = 1;
		l->reserved_rec = rec_pa;
		l->reserved_until_us = now + l->reserve_us;
		l->reserved_start_us = slice_start_us;
	}
	run_lock_wake_next(l); /* it takes the lock, or waits out the reservation */
	pthread_mutex_unlock(&l->mtx);
}
