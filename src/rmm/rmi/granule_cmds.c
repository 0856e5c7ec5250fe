/* SPDX-License-Identifier: MIT */
/*
 * RMI_GRANULE_RANGE_DELEGATE / _UNDELEGATE. Granules are processed in
 * batches of up to 512 (locked in ascending PA order, rule L2): the batch is
 * checked, moved in the GPT, scrubbed with one operation, then released.
 * Partial progress is SUCCESS with x1 = the first granule not processed; an
 * error is returned only if nothing was processed.
 */
#include "rmi/rmi_handlers_gen.h"
#include "engines.h"
#include "rmm.h"

#define BATCH 512u
/* Bound on the work of one call; the host re-issues from x1. */
#define MAX_GRANULES_PER_CALL (1u << 18)

struct range_op {
	enum granule_state from, to;
	enum rk_pas pas_from, pas_to;
	bool scrub_before; /* undelegate: scrub while still realm PAS */
};

/* Process up to n granules from gidx (one bank); returns how many were done. */
static uint64_t do_batch(struct rmm *rmm, uint64_t gidx, uint64_t n, const struct range_op *op)
{
	struct platform *p = rmm->plat;
	uint64_t done = 0, i;

	for (i = 0; i < n; i++) {
		struct granule *g = &rmm->granules[gidx + i];

		granule_lock(g);
		if (granule_state(g) != op->from || plat_gpt_get(p, gidx + i) != op->pas_from) {
			granule_unlock(g);
			break;
		}
	}
	done = i;
	if (!done)
		return 0;
	if (op->scrub_before)
		plat_scrub(p, gidx, done);
	for (i = 0; i < done; i++) {
		/* cannot fail: the PAS was checked under the granule lock (L1) */
		(void)plat_gpt_transition(p, gidx + i, op->pas_from, op->pas_to);
	}
	/* granules left the NS PAS: no realm engine may keep them mapped (engines.h) */
	if (op->pas_from == RK_PAS_NS)
		engines_ns_sync(rmm->engines);
	if (!op->scrub_before)
		plat_scrub(p, gidx, done);
	for (i = 0; i < done; i++) {
		granule_set_state(&rmm->granules[gidx + i], op->to);
		granule_unlock(&rmm->granules[gidx + i]);
	}
	return done;
}

/* Returns the packed RmiResult; *out_top = the first granule not processed. */
static uint64_t range_cmd(struct rmm *rmm, uint64_t base, uint64_t top, uint64_t *out_top,
			  const struct range_op *op)
{
	uint64_t pa = base, budget = MAX_GRANULES_PER_CALL;
	struct platform *p = rmm->plat;

	*out_top = base;
	if ((base | top) & (RK_GRANULE_SIZE - 1) || top <= base)
		return rmi_result(RMI_ERROR_INPUT, 0);
	while (pa < top && budget) {
		uint64_t gidx = 0, n, done;

		if (!plat_pa_to_gidx(p, pa, &gidx))
			break; /* not tracked */
		const struct plat_bank *b = plat_gidx_bank(p, gidx);
		n = (top < b->base + b->size ? top : b->base + b->size) - pa;
		n >>= RK_GRANULE_SHIFT;
		if (n > BATCH)
			n = BATCH;
		if (n > budget)
			n = budget;
		done = do_batch(rmm, gidx, n, op);
		pa += done << RK_GRANULE_SHIFT;
		budget -= done;
		if (done < n)
			break;
	}
	*out_top = pa;
	return rmi_result(pa == base ? RMI_ERROR_INPUT : RMI_SUCCESS, 0);
}

uint64_t rmi_granule_range_delegate(struct rmm *rmm, const struct rmi_granule_range_delegate_args *args,
				    struct rmi_granule_range_delegate_res *res)
{
	static const struct range_op op = {
		GRANULE_STATE_NS, GRANULE_STATE_DELEGATED, RK_PAS_NS, RK_PAS_REALM, false,
	};
	return range_cmd(rmm, args->base, args->top, &res->out_top, &op);
}

uint64_t rmi_granule_range_undelegate(struct rmm *rmm, const struct rmi_granule_range_undelegate_args *args,
				      struct rmi_granule_range_undelegate_res *res)
{
	static const struct range_op op = {
		GRANULE_STATE_DELEGATED, GRANULE_STATE_NS, RK_PAS_REALM, RK_PAS_NS, true,
	};
	return range_cmd(rmm, args->base, args->top, &res->out_top, &op);
}
