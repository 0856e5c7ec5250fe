/* SPDX-License-Identifier: MIT */
/* RTT descriptors and the one stage-2 walker. */
#include "common/assert.h"
#include "granule.h"
#include "rmm.h"
#include "s2tt.h"

enum s2tte_kind s2tte_kind(uint64_t e, int level)
{
	if (e & S2_DESC_VALID) {
		if (e & S2_DESC_NS)
			return S2TTE_ASSIGNED_NS;
		if (level < 3 && (e & S2_DESC_TYPE_MASK) == S2_DESC_TYPE_TABLE)
			return S2TTE_TABLE;
		return S2TTE_ASSIGNED; /* valid protected mapping: RIPAS RAM */
	}
	if (e & S2_DESC_NS)
		return S2TTE_UNASSIGNED_NS;
	if (((e & S2TTE_HIPAS_MASK) >> S2TTE_HIPAS_SHIFT) == S2TTE_HIPAS_ASSIGNED)
		return S2TTE_ASSIGNED;
	return S2TTE_UNASSIGNED;
}

enum rmi_ripas s2tte_ripas(uint64_t e, int level)
{
	(void)level;
	if (e & S2_DESC_VALID)
		return RMI_RIPAS_RAM;
	return (enum rmi_ripas)((e & S2TTE_RIPAS_MASK) >> S2TTE_RIPAS_SHIFT);
}

bool s2tte_is_live(uint64_t e, int level)
{
	enum s2tte_kind k = s2tte_kind(e, level);

	return k == S2TTE_ASSIGNED || k == S2TTE_ASSIGNED_NS || k == S2TTE_TABLE;
}

unsigned int s2tt_count_assigned_ns(const uint64_t *t, int level)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < S2_ENTRIES; i++)
		n += s2tte_kind(t[i], level) == S2TTE_ASSIGNED_NS;
	return n;
}

bool s2tt_blocks_destroy(const uint64_t *t, uint16_t refcount, int level)
{
	return refcount != 0 && refcount != s2tt_count_assigned_ns(t, level);
}

uint64_t s2tte_unassigned(enum rmi_ripas ripas)
{
	return (S2TTE_HIPAS_UNASSIGNED << S2TTE_HIPAS_SHIFT) | ((uint64_t)ripas << S2TTE_RIPAS_SHIFT);
}

uint64_t s2tte_unassigned_ns(void)
{
	return S2_DESC_NS;
}

uint64_t s2tte_assigned(uint64_t pa, int level, enum rmi_ripas ripas)
{
	if (ripas == RMI_RIPAS_RAM)
		return (pa & S2_DESC_OA_MASK) | S2_DESC_AF | S2_DESC_SH_IS | S2_DESC_S2AP_RW |
		       (S2_MEMATTR_FWB_NORMAL_WB << S2_DESC_MEMATTR_SHIFT) |
		       (level == 3 ? S2_DESC_TYPE_PAGE : S2_DESC_TYPE_BLOCK);
	return (pa & S2_DESC_OA_MASK) | (S2TTE_HIPAS_ASSIGNED << S2TTE_HIPAS_SHIFT) |
	       ((uint64_t)ripas << S2TTE_RIPAS_SHIFT);
}

uint64_t s2tte_assigned_ns(uint64_t host_desc, int level)
{
	return (host_desc & S2TTE_NS_HOST_MASK) | S2_DESC_NS | S2_DESC_AF |
	       (level == 3 ? S2_DESC_TYPE_PAGE : S2_DESC_TYPE_BLOCK);
}

uint64_t s2tte_table(uint64_t pa)
{
	return (pa & S2_DESC_OA_MASK) | S2_DESC_TYPE_TABLE;
}

unsigned int s2tt_index(const struct s2tt_ctx *c, uint64_t ipa, int level)
{
	uint64_t i = ipa >> s2_level_shift(level);

	if (level == c->start_level)
		return (unsigned int)(i % S2_ENTRIES); /* within its root granule */
	return (unsigned int)(i & (S2_ENTRIES - 1));
}

void s2tt_walk_lock(struct rmm *rmm, const struct s2tt_ctx *c, uint64_t ipa, int target_level,
		    struct rtt_walk *w)
{
	int level = c->start_level;
	uint64_t root_idx = ipa >> s2_level_shift(level);
	struct granule *g = granule_from_pa(rmm, c->rtt_base + (root_idx / S2_ENTRIES) * RK_GRANULE_SIZE);
	uint64_t *table;
	unsigned int idx;

	/* the caller checked ipa and target_level against the realm's geometry (its own input) */
	RK_ASSERT(level >= S2_MIN_LEVEL && level <= S2_MAX_LEVEL);
	RK_ASSERT(target_level >= level && target_level <= S2_MAX_LEVEL);
	RK_ASSERT(ipa < s2tt_ipa_limit(c) && root_idx / S2_ENTRIES < c->num_root);
	RK_ASSERT(g != NULL);
	granule_lock(g);
	RK_ASSERT(granule_state(g) == GRANULE_STATE_RTT);
	table = (uint64_t *)granule_ptr(rmm, g);
	idx = (unsigned int)(root_idx % S2_ENTRIES);
	while (level < target_level) {
		uint64_t e = table[idx];
		struct granule *child;

		if (s2tte_kind(e, level) != S2TTE_TABLE)
			break;
		/* a TABLE entry is written by the RMM only, below level 3, to an RTT */
		RK_ASSERT(level < S2_MAX_LEVEL);
		child = granule_from_pa(rmm, s2tte_oa(e));
		RK_ASSERT(child != NULL);
		granule_lock(child);
		RK_ASSERT(granule_state(child) == GRANULE_STATE_RTT);
		granule_unlock(g);
		g = child;
		level++;
		table = (uint64_t *)granule_ptr(rmm, g);
		idx = s2tt_index(c, ipa, level);
	}
	w->g = g;
	w->table = table;
	w->idx = idx;
	w->level = level;
}

bool s2tt_geometry_valid(unsigned int s2sz, int start_level, unsigned int num_root, unsigned int pa_bits)
{
	unsigned int levels, min_sz, max_sz, need;

	if (start_level < 0 || start_level > 3)
		return false; /* level -1 needs LPA2, which this RMM does not offer */
	if (start_level == 0 && pa_bits < 44)
		return false;
	levels = 3u - (unsigned int)start_level;
	min_sz = 9u * levels + 13u;
	max_sz = 9u * levels + 21u;
	if (start_level > 0)
		max_sz += 4; /* up to 16 concatenated tables */
	if (s2sz < min_sz || s2sz > max_sz)
		return false;
	need = s2sz <= 9u * levels + 21u ? 1u : 1u << (s2sz - (9u * levels + 21u));
	return num_root == need;
}
