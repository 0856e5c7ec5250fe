/* SPDX-License-Identifier: MIT */
/* The Realm Descriptor, as the RMM keeps it inside the RD granule. */
#ifndef RK_RMM_REALM_H
#define RK_RMM_REALM_H

#include <pthread.h>
#include <stdint.h>

#include "realmkit/abi_gen.h"
#include "realmkit/cpu.h"
#include "realmkit/measure.h"
#include "granule.h"
#include "rmm.h"
#include "run_lock.h"
#include "s2tt.h"

#define RMM_REALM_ID_SIZE 33
#define RMM_NUM_REMS 4

/* RMM writes into realm memory remembered for the RECs' engines (rec_engine.c). */
#define REALM_CODE_LOG 8u

/* Lives in the RD granule (4 KiB); accessed only under the RD's lock. */
struct rd {
	struct s2tt_ctx s2;    /* stage-2 geometry */
	uint8_t state;         /* enum rmi_realm_state */
	uint8_t hash_algo;     /* enum rmi_hash_algo */
	uint8_t num_bps;       /* RmiRealmParams.num_bps (breakpoints - 1) */
	uint8_t num_wps;       /* RmiRealmParams.num_wps (watchpoints - 1) */
	uint16_t vmid;         /* allocated by the RMM */
	uint16_t reserved;     /* no hole (pahole) */
	uint32_t rec_count;    /* RECs created so far (next MPIDR index) */
	uint32_t running_recs; /* RECs inside REC_ENTER now */
	uint64_t flags0;       /* RmiRealmParams.flags0 as given */
	uint64_t s2_gen;       /* stage-2 generation: bumped when a mapping goes away */
	/* RMM writes into realm memory (run lock): write n went to page code_log[n % REALM_CODE_LOG] */
	uint64_t code_gen;
	uint64_t code_log[REALM_CODE_LOG];
	/* the RECs' engines: a broadcast TLBI on one reaches the others (rk_cpu_set_tlb_domain) */
	struct rk_cpu_tlb_domain tlb;
	struct realm_run_lock run_lock; /* one REC of the realm executes at a time (run_lock.h) */
	uint8_t rim[RK_MEASUREMENT_MAX];
	uint8_t rem[RMM_NUM_REMS][RK_MEASUREMENT_MAX];
	uint8_t rpv[64];
	uint8_t realm_id[RMM_REALM_ID_SIZE];
};

_Static_assert(sizeof(struct rd) <= 4096, "RD must fit its granule");

static inline struct rd *rd_of(struct rmm *rmm, struct granule *g_rd)
{
	return (struct rd *)granule_ptr(rmm, g_rd);
}

/* Bumped whenever a mapping is removed or changed: engines flush and refault. */
static inline void realm_s2_changed(struct rd *rd)
{
	__atomic_add_fetch(&rd->s2_gen, 1, __ATOMIC_RELEASE);
}

/* Lock the RD at pa and copy out its stage-2 geometry; NULL if pa is not an RD. */
static inline struct granule *rd_lock(struct rmm *rmm, uint64_t pa, struct s2tt_ctx *ctx)
{
	struct granule *g = find_lock_granule(rmm, pa, GRANULE_STATE_RD);

	if (g && ctx)
		*ctx = rd_of(rmm, g)->s2;
	return g;
}

/* Structure commands (RTT_CREATE/DESTROY/FOLD): level in [start+1, 3], ipa aligned to level-1. */
static inline bool rtt_structure_args_valid(const struct s2tt_ctx *c, uint64_t ipa, uint64_t level)
{
	int64_t l = (int64_t)level;

	return l >= c->start_level + 1 && l <= S2_MAX_LEVEL && ipa < s2tt_ipa_limit(c) &&
	       s2tt_aligned(ipa, (int)l - 1);
}

/* Entry commands (RTT_READ_ENTRY): level in [start, 3], ipa aligned to level. */
static inline bool rtt_entry_args_valid(const struct s2tt_ctx *c, uint64_t ipa, uint64_t level)
{
	int64_t l = (int64_t)level;

	return l >= c->start_level && l <= S2_MAX_LEVEL && ipa < s2tt_ipa_limit(c) &&
	       s2tt_aligned(ipa, (int)l);
}

/* IPA just past the run of non-live entries starting at w->idx (ipa itself if that entry is live). */
static inline uint64_t rtt_skip_non_live(const struct rtt_walk *w, uint64_t ipa)
{
	unsigned int i = w->idx;

	while (i < S2_ENTRIES && !s2tte_is_live(w->table[i], w->level))
		i++;
	if (i == w->idx)
		return ipa;
	return s2tt_entry_ipa(ipa, w->level, i);
}

/* Return an RTT or DATA granule to DELEGATED (zeroed, L6). Caller holds its lock. */
static inline void granule_release_to_delegated(struct rmm *rmm, struct granule *g)
{
	plat_scrub(rmm->plat, (uint64_t)(g - rmm->granules), 1);
	granule_set_refcount(g, 0);
	granule_set_state(g, GRANULE_STATE_DELEGATED);
}

#endif
