/* SPDX-License-Identifier: MIT */
/* RTT structure commands: RTT_CREATE, RTT_DESTROY, RTT_FOLD, RTT_READ_ENTRY, RTT_INIT_RIPAS. */
#include <string.h>

#include "granule.h"
#include "realm.h"
#include "run_lock.h"
#include "rmi/rmi_handlers_gen.h"

/* Fill a new table at `level` from the parent entry it replaces (copy or unfold). */
static void rtt_init_from_parent(uint64_t *t, uint64_t parent, int plevel, int level)
{
	enum s2tte_kind k = s2tte_kind(parent, plevel);
	uint64_t sz = s2_level_size(level);

	for (unsigned int i = 0; i < S2_ENTRIES; i++) {
		switch (k) {
		case S2TTE_ASSIGNED:
			t[i] = s2tte_assigned(s2tte_oa(parent) + i * sz, level, s2tte_ripas(parent, plevel));
			break;
		case S2TTE_ASSIGNED_NS:
			t[i] = s2tte_assigned_ns((parent & (S2TTE_NS_HOST_MASK & ~S2_DESC_OA_MASK)) |
							 (s2tte_oa(parent) + i * sz),
						 level);
			break;
		default: /* UNASSIGNED (any RIPAS) or UNASSIGNED_NS: copies */
			t[i] = parent;
			break;
		}
	}
}

uint64_t rmi_rtt_create(struct rmm *rmm, const struct rmi_rtt_create_args *args,
			struct rmi_rtt_create_res *res)
{
	struct granule_req reqs[2] = {
		{ args->rd, GRANULE_STATE_RD, NULL },
		{ args->rtt, GRANULE_STATE_DELEGATED, NULL },
	};
	struct rtt_walk w;
	struct s2tt_ctx c;
	uint64_t ret;

	(void)res;
	if (!find_lock_granules(rmm, reqs, 2))
		return rmi_result(RMI_ERROR_INPUT, 0);
	c = rd_of(rmm, reqs[0].g)->s2;
	if (!rtt_structure_args_valid(&c, args->ipa, args->level) || args->rtt >= (1ULL << 48)) {
		ret = rmi_result(RMI_ERROR_INPUT, 0);
		goto out_unlock;
	}
	int level = (int)args->level;
	s2tt_walk_lock(rmm, &c, args->ipa, level - 1, &w);
	if (w.level < level - 1) {
		ret = rmi_error_rtt(w.level);
		goto out_walk;
	}
	uint64_t parent = w.table[w.idx];
	enum s2tte_kind k = s2tte_kind(parent, level - 1);
	if (k == S2TTE_TABLE) {
		ret = rmi_error_rtt(level - 1);
		goto out_walk;
	}
	rtt_init_from_parent((uint64_t *)granule_ptr(rmm, reqs[1].g), parent, level - 1, level);
	granule_set_state(reqs[1].g, GRANULE_STATE_RTT);
	granule_set_refcount(reqs[1].g, (k == S2TTE_ASSIGNED || k == S2TTE_ASSIGNED_NS) ? S2_ENTRIES : 0);
	if (k == S2TTE_UNASSIGNED || k == S2TTE_UNASSIGNED_NS)
		granule_refcount_inc(w.g); /* the parent entry becomes live */
	w.table[w.idx] = s2tte_table(args->rtt);
	ret = rmi_result(RMI_SUCCESS, 0);
out_walk:
	granule_unlock(w.g);
out_unlock:
	granule_unlock(reqs[1].g);
	granule_unlock(reqs[0].g);
	return ret;
}

/*
 * An unprotected RTT whose only live entries are ASSIGNED_NS is destroyed with
 * its NS mappings (as TF-RMM does; docs/abi-coverage.md, RTT_DESTROY): the run
 * lock keeps every REC of the realm out of its engine meanwhile, and the
 * stage-2 generation makes each engine drop the mappings before it runs again.
 */
uint64_t rmi_rtt_destroy(struct rmm *rmm, const struct rmi_rtt_destroy_args *args,
			 struct rmi_rtt_destroy_res *res)
{
	uint64_t ipa = args->ipa, ret;
	struct granule *g_rd, *child = NULL;
	struct rtt_walk w;
	struct s2tt_ctx c;
	struct rd *rd = NULL;
	unsigned int ns = 0;

	g_rd = rd_lock(rmm, args->rd, &c);
	if (!g_rd)
		return rmi_result(RMI_ERROR_INPUT, 0);
	if (!rtt_structure_args_valid(&c, ipa, args->level)) {
		ret = rmi_result(RMI_ERROR_INPUT, 0);
		goto out_rd;
	}
	int level = (int)args->level;
	if (!s2tt_ipa_protected(&c, ipa)) {
		/* RD -> run lock -> RTTs (run_lock.h); the RD stays locked while the run lock is held */
		rd = rd_of(rmm, g_rd);
		realm_run_lock(rd);
	}
	s2tt_walk_lock(rmm, &c, ipa, level - 1, &w);
	if (!rd) {
		granule_unlock(g_rd); /* L4: the root is held */
		g_rd = NULL;
	}
	if (w.level < level - 1 || s2tte_kind(w.table[w.idx], w.level) != S2TTE_TABLE) {
		ret = rmi_error_rtt(w.level);
		res->top = rtt_skip_non_live(&w, ipa);
		goto out_walk;
	}
	child = granule_from_pa(rmm, s2tte_oa(w.table[w.idx]));
	granule_lock(child);
	const uint64_t *t = (const uint64_t *)granule_ptr(rmm, child);
	if (s2tt_blocks_destroy(t, child->refcount, level)) {
		ret = rmi_error_rtt(level);
		res->top = ipa;
		goto out_child;
	}
	if (child->refcount)
		ns = s2tt_count_assigned_ns(t, level);
	w.table[w.idx] = rd ? s2tte_unassigned_ns() : s2tte_unassigned(RMI_RIPAS_DESTROYED);
	granule_refcount_dec(w.g);
	res->rtt = granule_to_pa(rmm, child);
	granule_release_to_delegated(rmm, child);
	res->top = rtt_skip_non_live(&w, ipa);
	if (ns)
		realm_s2_changed(rd);
	ret = rmi_result(RMI_SUCCESS, 0);
out_child:
	granule_unlock(child);
out_walk:
	granule_unlock(w.g);
out_rd:
	if (rd)
		realm_run_unlock(rd);
	if (g_rd)
		granule_unlock(g_rd);
	return ret;
}

/*
 * If the table at `level` can be folded into one entry at level-1, return
 * true and the new parent entry. Sets *min_level_err when the table is
 * homogeneous but would need a block below S2_MIN_BLOCK_LEVEL.
 */
static bool rtt_fold_entry(const uint64_t *t, uint16_t refcount, int level, uint64_t *out,
			   bool *min_level_err)
{
	uint64_t e0 = t[0], sz = s2_level_size(level);
	enum s2tte_kind k = s2tte_kind(e0, level);
	unsigned int i;

	*min_level_err = false;
	if (refcount == 0) {
		if (k != S2TTE_UNASSIGNED && k != S2TTE_UNASSIGNED_NS)
			return false;
		for (i = 1; i < S2_ENTRIES; i++)
			if (t[i] != e0)
				return false;
		*out = e0;
		return true;
	}
	if (refcount != S2_ENTRIES || (k != S2TTE_ASSIGNED && k != S2TTE_ASSIGNED_NS))
		return false;
	if (!s2tt_aligned(s2tte_oa(e0), level - 1))
		return false;
	for (i = 1; i < S2_ENTRIES; i++) {
		uint64_t want = (e0 & ~S2_DESC_OA_MASK) | (s2tte_oa(e0) + i * sz);
		if (t[i] != want)
			return false;
	}
	if (level - 1 < S2_MIN_BLOCK_LEVEL) {
		*min_level_err = true;
		return false;
	}
	if (k == S2TTE_ASSIGNED)
		*out = s2tte_assigned(s2tte_oa(e0), level - 1, s2tte_ripas(e0, level));
	else
		*out = s2tte_assigned_ns(e0, level - 1);
	return true;
}

uint64_t rmi_rtt_fold(struct rmm *rmm, const struct rmi_rtt_fold_args *args, struct rmi_rtt_fold_res *res)
{
	uint64_t ipa = args->ipa, parent, ret;
	struct granule *g_rd, *child;
	struct rtt_walk w;
	struct s2tt_ctx c;
	bool min_err;

	g_rd = rd_lock(rmm, args->rd, &c);
	if (!g_rd)
		return rmi_result(RMI_ERROR_INPUT, 0);
	if (!rtt_structure_args_valid(&c, ipa, args->level)) {
		ret = rmi_result(RMI_ERROR_INPUT, 0);
		goto out_rd;
	}
	int level = (int)args->level;
	s2tt_walk_lock(rmm, &c, ipa, level - 1, &w);
	granule_unlock(g_rd); /* L4: the root is held */
	g_rd = NULL;
	if (w.level < level - 1) {
		ret = rmi_error_rtt(w.level);
		goto out_walk;
	}
	if (s2tte_kind(w.table[w.idx], w.level) != S2TTE_TABLE) {
		ret = rmi_error_rtt(level - 1);
		goto out_walk;
	}
	child = granule_from_pa(rmm, s2tte_oa(w.table[w.idx]));
	granule_lock(child);
	if (!rtt_fold_entry((uint64_t *)granule_ptr(rmm, child), child->refcount, level, &parent, &min_err)) {
		ret = rmi_error_rtt(min_err ? level - 1 : level);
		goto out_child;
	}
	w.table[w.idx] = parent;
	if (!s2tte_is_live(parent, level - 1))
		granule_refcount_dec(w.g);
	res->rtt = granule_to_pa(rmm, child);
	granule_release_to_delegated(rmm, child);
	ret = rmi_result(RMI_SUCCESS, 0);
out_child:
	granule_unlock(child);
out_walk:
	granule_unlock(w.g);
out_rd:
	if (g_rd)
		granule_unlock(g_rd);
	return ret;
}

uint64_t rmi_rtt_read_entry(struct rmm *rmm, const struct rmi_rtt_read_entry_args *args,
			    struct rmi_rtt_read_entry_res *res)
{
	struct granule *g_rd;
	struct rtt_walk w;
	struct s2tt_ctx c;
	uint64_t ret;

	g_rd = rd_lock(rmm, args->rd, &c);
	if (!g_rd)
		return rmi_result(RMI_ERROR_INPUT, 0);
	if (!rtt_entry_args_valid(&c, args->ipa, args->level)) {
		ret = rmi_result(RMI_ERROR_INPUT, 0);
		goto out_rd;
	}
	s2tt_walk_lock(rmm, &c, args->ipa, (int)args->level, &w);
	granule_unlock(g_rd); /* L4: the root is held */
	g_rd = NULL;

	uint64_t e = w.table[w.idx];
	res->walk_level = (uint64_t)w.level;
	switch (s2tte_kind(e, w.level)) {
	case S2TTE_UNASSIGNED:
		res->state = RMI_RTTE_UNASSIGNED;
		res->ripas = s2tte_ripas(e, w.level);
		break;
	case S2TTE_ASSIGNED:
		res->state = RMI_RTTE_ASSIGNED;
		res->desc = s2tte_oa(e);
		res->ripas = s2tte_ripas(e, w.level);
		break;
	case S2TTE_UNASSIGNED_NS:
		res->state = RMI_RTTE_UNASSIGNED;
		res->ripas = RMI_RIPAS_EMPTY;
		break;
	case S2TTE_ASSIGNED_NS:
		res->state = RMI_RTTE_ASSIGNED;
		res->desc = e & S2TTE_NS_HOST_MASK;
		res->ripas = RMI_RIPAS_EMPTY;
		break;
	case S2TTE_TABLE:
		res->state = RMI_RTTE_TABLE;
		res->desc = s2tte_oa(e);
		break;
	}
	granule_unlock(w.g);
	ret = rmi_result(RMI_SUCCESS, 0);
out_rd:
	if (g_rd)
		granule_unlock(g_rd);
	return ret;
}

uint64_t rmi_rtt_init_ripas(struct rmm *rmm, const struct rmi_rtt_init_ripas_args *args,
			    struct rmi_rtt_init_ripas_res *res)
{
	uint64_t base = args->base, top = args->top, addr, ret;
	struct granule *g_rd;
	struct rtt_walk w;
	struct s2tt_ctx c;

	if (top <= base)
		return rmi_result(RMI_ERROR_INPUT, 0);
	g_rd = rd_lock(rmm, args->rd, &c);
	if (!g_rd)
		return rmi_result(RMI_ERROR_INPUT, 0);
	if ((base | top) & (RK_GRANULE_SIZE - 1) || top > s2tt_ipa_limit(&c) ||
	    !s2tt_ipa_protected(&c, top - RK_GRANULE_SIZE)) {
		ret = rmi_result(RMI_ERROR_INPUT, 0);
		goto out_rd;
	}
	if (rd_of(rmm, g_rd)->state != RMI_REALM_STATE_NEW) {
		ret = rmi_result(RMI_ERROR_REALM, 0);
		goto out_rd;
	}
	/* The RD stays locked: the realm must stay NEW for the whole command (L4). */
	s2tt_walk_lock(rmm, &c, base, S2_MAX_LEVEL, &w);
	if (!s2tt_aligned(base, w.level)) {
		ret = rmi_error_rtt(w.level);
		goto out_walk;
	}
	addr = base;
	for (unsigned int i = w.idx; i < S2_ENTRIES && addr < top; i++) {
		uint64_t e = w.table[i], sz = s2_level_size(w.level);
		enum s2tte_kind k = s2tte_kind(e, w.level);

		if (addr + sz > top)
			break;
		if (k == S2TTE_UNASSIGNED && s2tte_ripas(e, w.level) != RMI_RIPAS_DESTROYED)
			w.table[i] = s2tte_unassigned(RMI_RIPAS_RAM);
		else if (k == S2TTE_ASSIGNED && s2tte_ripas(e, w.level) != RMI_RIPAS_DESTROYED)
			w.table[i] = s2tte_assigned(s2tte_oa(e), w.level, RMI_RIPAS_RAM);
		else
			break;
		addr += sz;
	}
	if (addr == base) {
		ret = rmi_error_rtt(w.level);
		goto out_walk;
	}
	res->out_top = addr;
	ret = rmi_result(RMI_SUCCESS, 0);
out_walk:
	granule_unlock(w.g);
out_rd:
	granule_unlock(g_rd);
	return ret;
}
