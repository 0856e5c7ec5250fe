/* SPDX-License-Identifier: MIT */
/* RTT structure commands: RTT_CREATE, RTT_DESTROY, RTT_FOLD, RTT_READ_ENTRY, RTT_INIT_RIPAS. */
#include <string.h>

#include "realm.h"
#include "rec_run.h"
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
						 (s2tte_oa(parent) + i * sz), level);
			break;
		default: /* UNASSIGNED (any RIPAS) or UNASSIGNED_NS: copies */
			t[i] = parent;
			break;
		}
	}
}

void rmi_rtt_create(struct rmm *rmm, const uint64_t *a, uint64_t *r)
{
	struct granule_req reqs[2] = {
		{ a[0], GRANULE_STATE_RD, NULL }, { a[1], GRANULE_STATE_DELEGATED, NULL },
	};
	uint64_t ipa = a[2];
	struct rtt_walk w;
	struct s2tt_ctx c;

	if (!find_lock_granules(rmm, reqs, 2)) {
		r[0] = rmi_result(RMI_ERROR_INPUT, 0);
		return;
	}
	c = rd_of(rmm, reqs[0].g)->s2;
	if (!rtt_structure_args_valid(&c, ipa, a[3]) || a[1] >= (1ULL << 48)) {
		r[0] = rmi_result(RMI_ERROR_INPUT, 0);
		goto out_unlock;
	}
	int level = (int)a[3];
	s2tt_walk_lock(rmm, &c, ipa, level - 1, &w);
	if (w.level < level - 1) {
		r[0] = rmi_error_rtt(w.level);
		goto out_walk;
	}
	uint64_t parent = w.table[w.idx];
	enum s2tte_kind k = s2tte_kind(parent, level - 1);
	if (k == S2TTE_TABLE) {
		r[0] = rmi_error_rtt(level - 1);
		goto out_walk;
	}
	rtt_init_from_parent((uint64_t *)granule_ptr(rmm, reqs[1].g), parent, level - 1, level);
	granule_set_state(reqs[1].g, GRANULE_STATE_RTT);
	reqs[1].g->refcount = (k == S2TTE_ASSIGNED || k == S2TTE_ASSIGNED_NS) ? S2_ENTRIES : 0;
	if (k == S2TTE_UNASSIGNED || k == S2TTE_UNASSIGNED_NS)
		w.g->refcount++; /* the parent entry becomes live */
	w.table[w.idx] = s2tte_table(a[1]);
	r[0] = rmi_result(RMI_SUCCESS, 0);
out_walk:
	granule_unlock(w.g);
out_unlock:
	granule_unlock(reqs[1].g);
	granule_unlock(reqs[0].g);
}

/*
 * An unprotected RTT whose only live entries are ASSIGNED_NS is destroyed with
 * its NS mappings (as TF-RMM does; docs/abi-coverage.md, RTT_DESTROY): the run
 * lock keeps every REC of the realm out of its engine meanwhile, and the
 * stage-2 generation makes each engine drop the mappings before it runs again.
 */
void rmi_rtt_destroy(struct rmm *rmm, const uint64_t *a, uint64_t *r)
{
	uint64_t ipa = a[1];
	struct granule *g_rd, *child;
	struct rtt_walk w;
	struct s2tt_ctx c;
	struct rd *rd = NULL;
	unsigned int ns = 0;

	g_rd = rd_lock(rmm, a[0], &c);
	if (!g_rd) {
		r[0] = rmi_result(RMI_ERROR_INPUT, 0);
		return;
	}
	if (!rtt_structure_args_valid(&c, ipa, a[2])) {
		granule_unlock(g_rd);
		r[0] = rmi_result(RMI_ERROR_INPUT, 0);
		return;
	}
	int level = (int)a[2];
	if (!s2tt_ipa_protected(&c, ipa)) {
		/* RD -> run lock -> RTTs (rec_run.c); the RD stays locked while the run lock is held */
		rd = rd_of(rmm, g_rd);
		realm_run_lock(rd);
	}
	s2tt_walk_lock(rmm, &c, ipa, level - 1, &w);
	if (!rd)
		granule_unlock(g_rd); /* L4: the root is held */
	if (w.level < level - 1 || s2tte_kind(w.table[w.idx], w.level) != S2TTE_TABLE) {
		r[0] = rmi_error_rtt(w.level);
		r[2] = rtt_skip_non_live(&w, ipa);
		granule_unlock(w.g);
		goto out;
	}
	child = granule_from_pa(rmm, s2tte_oa(w.table[w.idx]));
	granule_lock(child);
	const uint64_t *t = (const uint64_t *)granule_ptr(rmm, child);
	if (s2tt_blocks_destroy(t, child->refcount, level)) {
		r[0] = rmi_error_rtt(level);
		r[2] = ipa;
		granule_unlock(child);
		granule_unlock(w.g);
		goto out;
	}
	if (child->refcount)
		ns = s2tt_count_assigned_ns(t, level);
	w.table[w.idx] = rd ? s2tte_unassigned_ns() : s2tte_unassigned(RMI_RIPAS_DESTROYED);
	w.g->refcount--;
	r[1] = granule_to_pa(rmm, child);
	granule_release_to_delegated(rmm, child);
	granule_unlock(child);
	r[2] = rtt_skip_non_live(&w, ipa);
	granule_unlock(w.g);
	if (ns)
		realm_s2_changed(rd);
	r[0] = rmi_result(RMI_SUCCESS, 0);
out:
	if (rd) {
		realm_run_unlock(rd);
		granule_unlock(g_rd);
	}
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

void rmi_rtt_fold(struct rmm *rmm, const uint64_t *a, uint64_t *r)
{
	uint64_t ipa = a[1], parent;
	struct granule *g_rd, *child;
	struct rtt_walk w;
	struct s2tt_ctx c;
	bool min_err;

	g_rd = rd_lock(rmm, a[0], &c);
	if (!g_rd || !rtt_structure_args_valid(&c, ipa, a[2])) {
		if (g_rd)
			granule_unlock(g_rd);
		r[0] = rmi_result(RMI_ERROR_INPUT, 0);
		return;
	}
	int level = (int)a[2];
	s2tt_walk_lock(rmm, &c, ipa, level - 1, &w);
	granule_unlock(g_rd);
	if (w.level < level - 1) {
		r[0] = rmi_error_rtt(w.level);
		granule_unlock(w.g);
		return;
	}
	if (s2tte_kind(w.table[w.idx], w.level) != S2TTE_TABLE) {
		r[0] = rmi_error_rtt(level - 1);
		granule_unlock(w.g);
		return;
	}
	child = granule_from_pa(rmm, s2tte_oa(w.table[w.idx]));
	granule_lock(child);
	if (!rtt_fold_entry((uint64_t *)granule_ptr(rmm, child), child->refcount, level, &parent,
			    &min_err)) {
		r[0] = rmi_error_rtt(min_err ? level - 1 : level);
		goto out;
	}
	w.table[w.idx] = parent;
	if (!s2tte_is_live(parent, level - 1))
		w.g->refcount--;
	r[1] = granule_to_pa(rmm, child);
	granule_release_to_delegated(rmm, child);
	r[0] = rmi_result(RMI_SUCCESS, 0);
out:
	granule_unlock(child);
	granule_unlock(w.g);
}

void rmi_rtt_read_entry(struct rmm *rmm, const uint64_t *a, uint64_t *r)
{
	uint64_t ipa = a[1];
	struct granule *g_rd;
	struct rtt_walk w;
	struct s2tt_ctx c;

	g_rd = rd_lock(rmm, a[0], &c);
	if (!g_rd || !rtt_entry_args_valid(&c, ipa, a[2])) {
		if (g_rd)
			granule_unlock(g_rd);
		r[0] = rmi_result(RMI_ERROR_INPUT, 0);
		return;
	}
	s2tt_walk_lock(rmm, &c, ipa, (int)a[2], &w);
	granule_unlock(g_rd);

	uint64_t e = w.table[w.idx];
	r[1] = (uint64_t)w.level;
	switch (s2tte_kind(e, w.level)) {
	case S2TTE_UNASSIGNED:
		r[2] = RMI_RTTE_UNASSIGNED;
		r[4] = s2tte_ripas(e, w.level);
		break;
	case S2TTE_ASSIGNED:
		r[2] = RMI_RTTE_ASSIGNED;
		r[3] = s2tte_oa(e);
		r[4] = s2tte_ripas(e, w.level);
		break;
	case S2TTE_UNASSIGNED_NS:
		r[2] = RMI_RTTE_UNASSIGNED;
		r[4] = RMI_RIPAS_EMPTY;
		break;
	case S2TTE_ASSIGNED_NS:
		r[2] = RMI_RTTE_ASSIGNED;
		r[3] = e & S2TTE_NS_HOST_MASK;
		r[4] = RMI_RIPAS_EMPTY;
		break;
	case S2TTE_TABLE:
		r[2] = RMI_RTTE_TABLE;
		r[3] = s2tte_oa(e);
		break;
	}
	granule_unlock(w.g);
	r[0] = rmi_result(RMI_SUCCESS, 0);
}

void rmi_rtt_init_ripas(struct rmm *rmm, const uint64_t *a, uint64_t *r)
{
	uint64_t base = a[1], top = a[2], addr;
	struct granule *g_rd;
	struct rtt_walk w;
	struct s2tt_ctx c;

	if (top <= base) {
		r[0] = rmi_result(RMI_ERROR_INPUT, 0);
		return;
	}
	g_rd = rd_lock(rmm, a[0], &c);
	if (!g_rd) {
		r[0] = rmi_result(RMI_ERROR_INPUT, 0);
		return;
	}
	if ((base | top) & (RK_GRANULE_SIZE - 1) || top > s2tt_ipa_limit(&c) ||
	    !s2tt_ipa_protected(&c, top - RK_GRANULE_SIZE)) {
		r[0] = rmi_result(RMI_ERROR_INPUT, 0);
		granule_unlock(g_rd);
		return;
	}
	if (rd_of(rmm, g_rd)->state != RMI_REALM_STATE_NEW) {
		r[0] = rmi_result(RMI_ERROR_REALM, 0);
		granule_unlock(g_rd);
		return;
	}
	/* The RD stays locked: the realm must stay NEW for the whole command (L4). */
	s2tt_walk_lock(rmm, &c, base, S2_MAX_LEVEL, &w);
	if (!s2tt_aligned(base, w.level)) {
		r[0] = rmi_error_rtt(w.level);
		goto out;
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
		r[0] = rmi_error_rtt(w.level);
		goto out;
	}
	r[1] = addr;
	r[0] = rmi_result(RMI_SUCCESS, 0);
out:
	granule_unlock(w.g);
	granule_unlock(g_rd);
}
