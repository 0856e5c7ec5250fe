/* SPDX-License-Identifier: MIT */
/*
 * Granule metadata: 8 bytes for every 4 KiB granule of DRAM.
 *
 * LOCKING PROTOCOL (read this before touching any RMM object)
 *
 *  L1. Every granule has a spinlock (struct granule.lock). A granule's state,
 *      refcount and contents (RD, REC, RTT, DATA) may only be read or changed
 *      by the holder of its lock. The GPT entry of a granule is changed only
 *      by the holder of its lock.
 *  L2. A command that needs several non-RTT granules locks them in ascending
 *      PA order (find_lock_granules()), all before it takes any RTT lock.
 *  L3. RTTs are locked hand over hand from the root towards the leaves: lock
 *      the child, then release the parent (s2tt_walk_lock(), s2tt.h, the one
 *      walker). A thread never holds two RTTs except a parent and its child,
 *      never locks towards the root, and never waits for a non-RTT granule
 *      lock while it holds an RTT lock, with two exceptions. A DELEGATED
 *      granule found by address inside a walk (RTT_DATA_MAP's targets) is
 *      taken with granule_trylock(): if it is contended, the command drops
 *      the RTT and RD locks it holds and starts again (rmi/map.c; safe
 *      because mapping the same PA again is idempotent); if it is in another
 *      state, RMI_ERROR_INPUT. And DATA granules referenced from an RTT are
 *      locked plainly: nobody holding one waits for an RTT.
 *  L4. The RD is locked (L2) to read the realm's parameters and state; a walk
 *      may keep it locked for the whole command (commands that change realm
 *      state, measurement or refcounts do) or drop it after taking the root.
 *  L5. The refcount of an RTT granule counts its live entries (TABLE and
 *      ASSIGNED*), of an RD the RECs of the realm, of a REC 1 while it runs
 *      (REC_ENTER); it is changed under the granule's own lock, through
 *      granule_refcount_inc/dec() and granule_set_refcount(), which assert
 *      it (RK_ASSERT) and that it never goes below zero.
 *  L6. Invariant: a DELEGATED granule that is not locked reads as zeros.
 *
 * Deadlock freedom: L2 orders non-RTT locks by address; L3 orders RTT locks by
 * tree depth, and an RTT holder waits for no non-RTT lock but a DATA
 * granule's (whose holders wait for nothing) and takes DELEGATED ones with a
 * trylock, so no cycle can form between two threads.
 */
#ifndef RK_RMM_GRANULE_H
#define RK_RMM_GRANULE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/assert.h"

/* The RMM's view of a granule (spec granule states). */
enum granule_state {
	GRANULE_STATE_NS = 0,        /* UNDELEGATED: PAS NS, owned by the host */
	GRANULE_STATE_DELEGATED = 1, /* PAS realm, free for RMM use, all zeros */
	GRANULE_STATE_RD = 2,        /* holds a Realm Descriptor */
	GRANULE_STATE_REC = 3,       /* holds a Realm Execution Context */
	GRANULE_STATE_REC_AUX = 4,   /* auxiliary storage donated to a REC */
	GRANULE_STATE_DATA = 5,      /* realm data page mapped in an RTT */
	GRANULE_STATE_RTT = 6,       /* a stage-2 translation table */
	GRANULE_STATE_PARTIAL = 7,   /* object being built or torn down by an SRO */
	GRANULE_STATE_COUNT
};

struct granule {
	_Atomic uint8_t lock; /* 0 free, 1 held */
	uint8_t state;        /* enum granule_state */
	uint16_t refcount;    /* L5 */
	uint32_t reserved;    /* keeps the struct at 8 bytes, naturally aligned */
};

_Static_assert(sizeof(struct granule) == 8, "granule metadata must stay 8 bytes");

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

static inline void granule_lock(struct granule *g)
{
	for (;;) {
		if (!atomic_exchange_explicit(&g->lock, 1, memory_order_acquire))
			return;
		while (atomic_load_explicit(&g->lock, memory_order_relaxed))
			cpu_relax();
	}
}

static inline bool granule_trylock(struct granule *g)
{
	return !atomic_exchange_explicit(&g->lock, 1, memory_order_acquire);
}

static inline void granule_unlock(struct granule *g)
{
	RK_ASSERT(atomic_load_explicit(&g->lock, memory_order_relaxed));
	atomic_store_explicit(&g->lock, 0, memory_order_release);
}

/*
 * Whether g's lock is held. The lock records no owner: this tells that some
 * thread holds it, which is what RK_ASSERT can check (L1: the caller must be
 * that thread).
 */
static inline bool granule_locked(const struct granule *g)
{
	return atomic_load_explicit(&((struct granule *)g)->lock, memory_order_relaxed) != 0;
}

static inline enum granule_state granule_state(const struct granule *g)
{
	return (enum granule_state)g->state;
}

/* L1: the caller holds g's lock. */
static inline void granule_set_state(struct granule *g, enum granule_state s)
{
	RK_ASSERT(granule_locked(g));
	RK_ASSERT((unsigned int)s < GRANULE_STATE_COUNT);
	g->state = (uint8_t)s;
}

/* Refcount changes (L5): the caller holds g's lock; the count never goes below 0 or wraps. */
static inline void granule_refcount_inc(struct granule *g)
{
	RK_ASSERT(granule_locked(g));
	RK_ASSERT(g->refcount < UINT16_MAX);
	g->refcount++;
}

static inline void granule_refcount_dec(struct granule *g)
{
	RK_ASSERT(granule_locked(g));
	RK_ASSERT(g->refcount > 0);
	g->refcount--;
}

static inline void granule_set_refcount(struct granule *g, uint16_t n)
{
	RK_ASSERT(granule_locked(g));
	g->refcount = n;
}

const char *granule_state_name(enum granule_state s);

/* ---- lookup and locking (granule.c) ---- */

struct rmm;

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

#endif
