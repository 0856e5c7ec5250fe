/* SPDX-License-Identifier: MIT */
/* Granule lookup and the multi-granule locking rule (L2 in granule.h). */
#include <stdlib.h>

#include "rmm.h"

const char *granule_state_name(enum granule_state s)
{
	static const char *const names[GRANULE_STATE_COUNT] = {
		[GRANULE_STATE_NS] = "UNDELEGATED",  [GRANULE_STATE_DELEGATED] = "DELEGATED",
		[GRANULE_STATE_RD] = "RD",           [GRANULE_STATE_REC] = "REC",
		[GRANULE_STATE_REC_AUX] = "REC_AUX", [GRANULE_STATE_DATA] = "DATA",
		[GRANULE_STATE_RTT] = "RTT",         [GRANULE_STATE_PARTIAL] = "PARTIAL",
	};
	return (unsigned int)s < GRANULE_STATE_COUNT ? names[s] : "?";
}

struct granule *granule_from_pa(const struct rmm *rmm, uint64_t pa)
{
	uint64_t gidx = 0;

	if (pa & (RK_GRANULE_SIZE - 1) || !plat_pa_to_gidx(rmm->plat, pa, &gidx))
		return NULL;
	return &rmm->granules[gidx];
}

uint64_t granule_to_pa(const struct rmm *rmm, const struct granule *g)
{
	return plat_gidx_to_pa(rmm->plat, (uint64_t)(g - rmm->granules));
}

uint8_t *granule_ptr(const struct rmm *rmm, const struct granule *g)
{
	return plat_gidx_ptr(rmm->plat, (uint64_t)(g - rmm->granules));
}

struct granule *find_lock_granule(struct rmm *rmm, uint64_t pa, enum granule_state expected)
{
	struct granule *g = granule_from_pa(rmm, pa);

	if (!g)
		return NULL;
	granule_lock(g);
	if (granule_state(g) != expected) {
		granule_unlock(g);
		return NULL;
	}
	return g;
}

bool find_lock_granules(struct rmm *rmm, struct granule_req *reqs, unsigned int n)
{
	struct granule_req *order[FIND_LOCK_MAX];
	unsigned int i, j;

	if (n > FIND_LOCK_MAX)
		return false;
	for (i = 0; i < n; i++) {
		reqs[i].g = granule_from_pa(rmm, reqs[i].pa);
		if (!reqs[i].g)
			return false;
		order[i] = &reqs[i];
	}
	/* insertion sort by address; equal addresses are aliasing: refuse */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && order[j - 1]->pa >= order[j]->pa; j--) {
			if (order[j - 1]->pa == order[j]->pa)
				return false;
			struct granule_req *t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (i = 0; i < n; i++) {
		granule_lock(order[i]->g);
		if (granule_state(order[i]->g) != order[i]->expected) {
			for (j = 0; j <= i; j++)
				granule_unlock(order[j]->g);
			return false;
		}
	}
	return true;
}
