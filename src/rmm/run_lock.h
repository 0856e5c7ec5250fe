/* SPDX-License-Identifier: MIT */
/*
 * The realm's run lock: one REC of a realm executes at a time, because
 * exclusives and atomics are not atomic between two engines; different
 * realms run in parallel. RMI commands that must not run while a REC of the
 * realm executes (they take a valid mapping away) take it with
 * realm_run_lock/unlock; REC_ENTER uses the _rec forms, which keep a REC's
 * time slice across a short exit to the host. Lock order: RD -> realm run
 * lock -> RTTs. The lock lives in the RD (struct rd.run_lock, realm.h).
 */
#ifndef RK_RMM_RUN_LOCK_H
#define RK_RMM_RUN_LOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct rd;

/* Wake-up slots of a realm's run lock. */
#define RUN_LOCK_SLOTS 16u
/* Time slice while other RECs of the realm wait for the run lock. */
#define REC_CONTENDED_SLICE_US 500u
/* How long a released run lock waits for the REC that left it after a short exit. */
#define REC_RESERVE_US 100u

struct realm_run_lock {
	pthread_mutex_t mtx;
	/* waiter with ticket t sleeps on cv[t % RUN_LOCK_SLOTS] (CLOCK_MONOTONIC):
	 * a release wakes the next in line, not every waiter */
	pthread_cond_t cv[RUN_LOCK_SLOTS];
	uint64_t next;            /* next ticket to hand out */
	uint64_t serving;         /* the next ticket that may take the lock */
	uint64_t reserved_rec;    /* PA of the REC the free lock is kept for (if is_reserved) */
	double reserved_until_us; /* ... until then (monotonic us) */
	double reserved_start_us; /* start of that REC's time slice */
	double reserve_us;        /* how long a reservation lasts (REC_RESERVE_US) */
	uint8_t held;             /* bool: a REC or an RMI command holds it */
	uint8_t is_reserved;      /* bool: kept for reserved_rec until reserved_until_us */
	uint8_t reserved[6];
};

void realm_run_lock_init(struct rd *rd);
void realm_run_lock_fini(struct rd *rd);
/* Tickets handed out but not yet served: RECs or RMI commands wait for the lock. */
bool realm_run_contended(struct rd *rd);
void realm_run_lock(struct rd *rd);
void realm_run_unlock(struct rd *rd);
/* Take the lock for the REC at rec_pa; returns the start of its time slice (run_lock_now_us()). */
double realm_run_lock_rec(struct rd *rd, uint64_t rec_pa);
/*
 * Release it after the REC's exit; keep = the exit is one the host completes
 * at once (emulated MMIO, host call, PSCI) and the REC's contended slice,
 * which began at slice_start_us, is not over: then the lock waits for that
 * REC for up to REC_RESERVE_US before it goes to the next in line.
 */
void realm_run_unlock_rec(struct rd *rd, uint64_t rec_pa, bool keep, double slice_start_us);
/* The clock of time slices and reservations: monotonic microseconds. */
double run_lock_now_us(void);

#endif
