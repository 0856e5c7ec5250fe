/* SPDX-License-Identifier: MIT */
/*
 * The realm's run lock (src/rmm/run_lock.c), alone and with threads (also run
 * under ThreadSanitizer):
 *  - tickets are served in order;
 *  - after a short exit inside its contended slice a REC gets the lock back
 *    with the same slice, ahead of the queue;
 *  - a reservation lapses after REC_RESERVE_US and the next in line runs;
 *  - no reservation without waiters, for exits that are not kept, or once
 *    the REC's contended slice is over;
 *  - an RMI command (realm_run_lock) waits out a reservation, never forever.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rk_test.h"
#include "rmm/realm.h"
#include "rmm/run_lock.h"

#define REC_A 0x80001000ULL
#define REC_B 0x80002000ULL

static double mono_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static struct rd *new_rd(void)
{
	struct rd *rd = calloc(1, sizeof(*rd));

	assert_non_null(rd);
	realm_run_lock_init(rd);
	return rd;
}

static void free_rd(struct rd *rd)
{
	realm_run_lock_fini(rd);
	free(rd);
}

/* A thread that takes the lock for a REC (or as an RMI command) and records when. */
struct taker {
	struct rd *rd;
	uint64_t rec;       /* 0: realm_run_lock(), as an RMI command */
	atomic_int *order;  /* shared sequence counter */
	int seq;            /* its value when this thread got the lock */
	double got_us;      /* when */
	double slice_start; /* realm_run_lock_rec's answer */
};

static void *taker_main(void *arg)
{
	struct taker *t = arg;

	if (t->rec)
		t->slice_start = realm_run_lock_rec(t->rd, t->rec);
	else
		realm_run_lock(t->rd);
	t->got_us = mono_us();
	t->seq = atomic_fetch_add(t->order, 1);
	if (t->rec)
		realm_run_unlock_rec(t->rd, t->rec, false, t->slice_start);
	else
		realm_run_unlock(t->rd);
	return NULL;
}

/* Wait until n tickets are queued behind the holder. */
static void wait_queued(struct rd *rd, uint64_t n)
{
	for (int i = 0; i < 20000; i++) {
		uint64_t q = __atomic_load_n(&rd->run_lock.next, __ATOMIC_RELAXED) -
			     __atomic_load_n(&rd->run_lock.serving, __ATOMIC_RELAXED);
		if (q >= n)
			return;
		usleep(50);
	}
	fail_msg("waiters did not queue");
}

static void test_fifo(void **state)
{
	struct rd *rd = new_rd();
	struct taker t[4];
	pthread_t th[4];
	atomic_int order = 0;

	(void)state;
	realm_run_lock(rd);
	assert_false(realm_run_contended(rd));
	for (int i = 0; i < 4; i++) {
		t[i] = (struct taker){ .rd = rd,
				       .rec = i % 2 ? 0 : REC_A + 0x1000u * (uint64_t)i,
				       .order = &order };
		assert_int_equal(pthread_create(&th[i], NULL, taker_main, &t[i]), 0);
		wait_queued(rd, (uint64_t)i + 1); /* queue them in a known order */
	}
	assert_true(realm_run_contended(rd));
	realm_run_unlock(rd);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 4; i++)
		assert_int_equal(t[i].seq, i);
	assert_false(realm_run_contended(rd));
	free_rd(rd);
}

/* REC A holds the lock, one waiter (REC waiter_rec, or an RMI command if 0) queues behind it. */
struct scene {
	struct rd *rd;
	struct taker w;
	atomic_int order;
	pthread_t th;
	double start; /* when A took the lock */
};

static void scene_begin(struct scene *sc, uint64_t waiter_rec, double reserve_us)
{
	sc->rd = new_rd();
	if (reserve_us > 0)
		sc->rd->run_lock.reserve_us = reserve_us;
	atomic_init(&sc->order, 0);
	sc->w = (struct taker){ .rd = sc->rd, .rec = waiter_rec, .order = &sc->order };
	sc->start = realm_run_lock_rec(sc->rd, REC_A);
	assert_int_equal(pthread_create(&sc->th, NULL, taker_main, &sc->w), 0);
	wait_queued(sc->rd, 1);
}

/* Wait for the waiter to have had the lock; check it was first; free. */
static void scene_end(struct scene *sc)
{
	pthread_join(sc->th, NULL);
	assert_int_equal(sc->w.seq, 0);
	assert_false(sc->rd->run_lock.is_reserved);
	free_rd(sc->rd);
}

static void test_short_exit_keeps_the_slice(void **state)
{
	struct scene sc;
	double again, slice;

	(void)state;
	scene_begin(&sc, REC_B, 10e6); /* no lapse, however slow this machine is */
	/* A leaves for an MMIO exit inside its slice, B waits: kept for A (the slice
	 * "begins" in the future so that no preemption of this thread can end it) */
	slice = mono_us() + 10e6;
	realm_run_unlock_rec(sc.rd, REC_A, true, slice);
	assert_true(sc.rd->run_lock.is_reserved);
	assert_int_equal(sc.rd->run_lock.reserved_rec, REC_A);
	usleep(2000);
	assert_int_equal(atomic_load(&sc.order), 0); /* B did not take it */
	again = realm_run_lock_rec(sc.rd, REC_A);
	assert_true(again == slice); /* the same slice goes on */
	assert_false(sc.rd->run_lock.is_reserved);
	/* an exit that is not kept (IRQ): B is next, with a slice of its own */
	realm_run_unlock_rec(sc.rd, REC_A, false, sc.start);
	pthread_join(sc.th, NULL);
	assert_true(sc.w.slice_start > sc.start && sc.w.slice_start <= sc.w.got_us);
	free_rd(sc.rd);
}

static void test_reservation_lapses(void **state)
{
	struct scene sc;
	double left;

	(void)state;
	scene_begin(&sc, REC_B, 0);
	left = mono_us();
	realm_run_unlock_rec(sc.rd, REC_A, true, left + 600e6);
	pthread_join(sc.th, NULL); /* A never comes back: B runs once the reservation lapses */
	assert_true(sc.w.got_us - left >= REC_RESERVE_US * 0.9);
	assert_true(sc.w.got_us - left < 300e6); /* the lapse, not A's 600 s slice, let B in */
	assert_false(sc.rd->run_lock.is_reserved);
	/* A comes back late: it queues like anyone (the lock is free now), with a new slice */
	assert_true(realm_run_lock_rec(sc.rd, REC_A) > sc.start);
	realm_run_unlock_rec(sc.rd, REC_A, false, 0);
	free_rd(sc.rd);
}

static void test_no_reservation(void **state)
{
	struct rd *rd = new_rd();
	struct scene sc;
	double start;

	(void)state;
	/* a REC at PA 0 is a REC like any other: no reservation to take back */
	start = realm_run_lock_rec(rd, 0);
	assert_true(start > 0);
	realm_run_unlock_rec(rd, 0, false, start);
	/* nobody waits: nothing to keep */
	start = realm_run_lock_rec(rd, REC_A);
	realm_run_unlock_rec(rd, REC_A, true, start + 10e6);
	assert_false(rd->run_lock.is_reserved);
	free_rd(rd);
	/* the contended slice is over: the waiter goes first, at once (not after 10 s) */
	scene_begin(&sc, REC_B, 10e6);
	double left = mono_us();
	realm_run_unlock_rec(sc.rd, REC_A, true, left - REC_CONTENDED_SLICE_US - 1);
	assert_false(sc.rd->run_lock.is_reserved);
	scene_end(&sc);
	assert_true(sc.w.got_us - left < 5e6);
}

static void test_rmi_command_waits_out_a_reservation(void **state)
{
	struct scene sc;
	double left;

	(void)state;
	scene_begin(&sc, 0, 0);
	left = mono_us();
	realm_run_unlock_rec(sc.rd, REC_A, true, left + 10e6);
	pthread_join(sc.th, NULL);
	assert_int_equal(sc.w.seq, 0);
	assert_true(sc.w.got_us - left >= REC_RESERVE_US * 0.9);
	free_rd(sc.rd);
}

/* Many RECs and commands hammering one lock: mutual exclusion holds. */
struct hammer {
	struct rd *rd;
	uint64_t rec;
	atomic_int *inside;
	atomic_int *violations;
};

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	double start = 0;

	for (int i = 0; i < 400; i++) {
		if (h->rec)
			start = realm_run_lock_rec(h->rd, h->rec);
		else
			realm_run_lock(h->rd);
		if (atomic_fetch_add(h->inside, 1) != 0)
			atomic_fetch_add(h->violations, 1);
		atomic_fetch_sub(h->inside, 1);
		if (h->rec)
			realm_run_unlock_rec(h->rd, h->rec, i % 3 != 0, start);
		else
			realm_run_unlock(h->rd);
	}
	return NULL;
}

static void test_exclusion(void **state)
{
	struct rd *rd = new_rd();
	atomic_int inside = 0, violations = 0;
	struct hammer h[6];
	pthread_t th[6];

	(void)state;
	for (int i = 0; i < 6; i++) {
		h[i] = (struct hammer){ rd, i < 5 ? REC_A + 0x1000u * (uint64_t)i : 0, &inside, &violations };
		assert_int_equal(pthread_create(&th[i], NULL, hammer_main, &h[i]), 0);
	}
	for (int i = 0; i < 6; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(atomic_load(&violations), 0);
	assert_false(rd->run_lock.held);
	free_rd(rd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_short_exit_keeps_the_slice),
		cmocka_unit_test(test_reservation_lapses),
		cmocka_unit_test(test_no_reservation),
		cmocka_unit_test(test_rmi_command_waits_out_a_reservation),
		cmocka_unit_test(test_exclusion),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
