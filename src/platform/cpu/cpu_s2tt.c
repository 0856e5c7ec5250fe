/* SPDX-License-Identifier: MIT */
/* The CPU backend's shadow stage 2: see cpu_s2tt.h. */
#include "cpu/cpu_s2tt.h"

#include <errno.h>
#include <string.h>

#define ENTRIES 512u
#define LEVEL_SHIFT(l) (12u + 9u * (3u - (unsigned)(l)))
#define LEVEL_SIZE(l) (1ull << LEVEL_SHIFT(l))
#define IPA_LIMIT (1ull << RK_S2TT_IPA_BITS)

static uint64_t *table_at(const struct rk_s2tt *t, size_t page)
{
	return (uint64_t *)(void *)(t->pool + page * RK_S2TT_PAGE);
}

static size_t page_of(const struct rk_s2tt *t, uint64_t desc)
{
	return (size_t)(((desc & RK_S2TT_OA_MASK) - t->pool_pa) / RK_S2TT_PAGE);
}

void rk_s2tt_init(struct rk_s2tt *t, uint8_t *pool, uint64_t pool_pa, size_t pool_pages, size_t reserved)
{
	memset(t, 0, sizeof(*t));
	t->pool = pool;
	t->pool_pa = pool_pa;
	t->pool_pages = pool_pages;
	t->first = reserved ? reserved : 1;
	t->next = t->first;
	memset(table_at(t, 0), 0, RK_S2TT_PAGE);
}

static size_t alloc_table(struct rk_s2tt *t)
{
	size_t p;

	if (t->free_head) {
		p = t->free_head;
		t->free_head = (size_t)table_at(t, p)[0];
	} else if (t->next < t->pool_pages) {
		p = t->next++;
	} else {
		return 0;
	}
	memset(table_at(t, p), 0, RK_S2TT_PAGE);
	t->tables++;
	return p;
}

static void free_table(struct rk_s2tt *t, size_t p)
{
	table_at(t, p)[0] = (uint64_t)t->free_head;
	t->free_head = p;
	t->tables--;
}

static uint64_t leaf_attrs(unsigned prot, int level)
{
	uint64_t d = RK_S2TT_VALID | RK_S2TT_MEMATTR_WB | RK_S2TT_SH_IS | RK_S2TT_AF;

	if (level == 3)
		d |= RK_S2TT_TABLE; /* the page descriptor's bit 1 */
	if (prot & RK_S2TT_PROT_R)
		d |= RK_S2TT_S2AP_R;
	if (prot & RK_S2TT_PROT_W)
		d |= RK_S2TT_S2AP_W;
	if (!(prot & RK_S2TT_PROT_X))
		d |= RK_S2TT_XN;
	return d;
}

static bool is_table(uint64_t d, int level)
{
	return level < 3 && (d & 3) == 3;
}

/* Free the subtree under a table descriptor at level. */
static void free_subtree(struct rk_s2tt *t, uint64_t d, int level)
{
	size_t p = page_of(t, d);
	uint64_t *tab = table_at(t, p);

	for (unsigned i = 0; i < ENTRIES; i++)
		if (is_table(tab[i], level + 1))
			free_subtree(t, tab[i], level + 1);
	free_table(t, p);
}

/* Replace the block descriptor *slot (at level) by a table of the next level with the same mapping. */
static int split_block(struct rk_s2tt *t, uint64_t *slot, int level)
{
	uint64_t d = *slot, oa = d & RK_S2TT_OA_MASK & ~(LEVEL_SIZE(level) - 1);
	uint64_t attrs = d & ~RK_S2TT_OA_MASK & ~(uint64_t)3;
	size_t p = alloc_table(t);
	uint64_t *tab;

	if (!p)
		return -ENOSPC;
	tab = table_at(t, p);
	for (unsigned i = 0; i < ENTRIES; i++)
		tab[i] = (oa + i * LEVEL_SIZE(level + 1)) | attrs | RK_S2TT_VALID |
			 (level + 1 == 3 ? RK_S2TT_TABLE : 0);
	*slot = (t->pool_pa + p * RK_S2TT_PAGE) | 3;
	return 0;
}

static int map_level(struct rk_s2tt *t, uint64_t *tab, int level, uint64_t ipa, uint64_t end, uint64_t pa,
		     unsigned prot)
{
	uint64_t sz = LEVEL_SIZE(level);

	while (ipa < end) {
		unsigned i = (unsigned)((ipa >> LEVEL_SHIFT(level)) & (ENTRIES - 1));
		uint64_t next = (ipa | (sz - 1)) + 1, stop = next < end ? next : end;
		uint64_t *slot = &tab[i];
		int rc;

		if ((level == 1 || level == 2 || level == 3) && !(ipa & (sz - 1)) && !(pa & (sz - 1)) &&
		    stop - ipa == sz) {
			if (is_table(*slot, level))
				free_subtree(t, *slot, level);
			*slot = pa | leaf_attrs(prot, level);
		} else {
			if (!is_table(*slot, level)) {
				if (*slot & RK_S2TT_VALID) {
					rc = split_block(t, slot, level);
					if (rc)
						return rc;
				} else {
					size_t p = alloc_table(t);

					if (!p)
						return -ENOSPC;
					*slot = (t->pool_pa + p * RK_S2TT_PAGE) | 3;
				}
			}
			rc = map_level(t, table_at(t, page_of(t, *slot)), level + 1, ipa, stop, pa, prot);
			if (rc)
				return rc;
		}
		pa += stop - ipa;
		ipa = stop;
	}
	return 0;
}

static bool bad_range(uint64_t ipa, uint64_t size)
{
	return size == 0 || (ipa | size) & (RK_S2TT_PAGE - 1) || ipa + size < ipa || ipa + size > IPA_LIMIT;
}

int rk_s2tt_map(struct rk_s2tt *t, uint64_t ipa, uint64_t size, uint64_t pa, unsigned prot)
{
	if (bad_range(ipa, size) || pa & (RK_S2TT_PAGE - 1) || pa + size < pa ||
	    ((pa + size - 1) & ~RK_S2TT_OA_MASK & ~(RK_S2TT_PAGE - 1)) ||
	    !(prot & (RK_S2TT_PROT_R | RK_S2TT_PROT_W | RK_S2TT_PROT_X)))
		return -EINVAL;
	return map_level(t, table_at(t, 0), 0, ipa, ipa + size, pa, prot);
}

static int unmap_level(struct rk_s2tt *t, uint64_t *tab, int level, uint64_t ipa, uint64_t end, bool *removed)
{
	uint64_t sz = LEVEL_SIZE(level);

	while (ipa < end) {
		unsigned i = (unsigned)((ipa >> LEVEL_SHIFT(level)) & (ENTRIES - 1));
		uint64_t next = (ipa | (sz - 1)) + 1, stop = next < end ? next : end;
		uint64_t *slot = &tab[i];

		if (!(*slot & RK_S2TT_VALID)) {
			/* nothing here */
		} else if (!(ipa & (sz - 1)) && stop - ipa == sz) {
			if (is_table(*slot, level))
				free_subtree(t, *slot, level);
			*slot = 0;
			*removed = true;
		} else {
			int rc;

			if (!is_table(*slot, level)) {
				rc = split_block(t, slot, level);
				if (rc)
					return rc;
			}
			rc = unmap_level(t, table_at(t, page_of(t, *slot)), level + 1, ipa, stop, removed);
			if (rc)
				return rc;
		}
		ipa = stop;
	}
	return 0;
}

int rk_s2tt_unmap(struct rk_s2tt *t, uint64_t ipa, uint64_t size, bool *removed)
{
	bool dummy = false;

	if (!removed)
		removed = &dummy;
	if (bad_range(ipa, size))
		return -EINVAL;
	return unmap_level(t, table_at(t, 0), 0, ipa, ipa + size, removed);
}

void rk_s2tt_reset(struct rk_s2tt *t)
{
	memset(table_at(t, 0), 0, RK_S2TT_PAGE);
	t->next = t->first;
	t->free_head = 0;
	t->tables = 0;
}

bool rk_s2tt_lookup(const struct rk_s2tt *t, uint64_t ipa, uint64_t *pa, unsigned *prot, int *level)
{
	const uint64_t *tab = table_at(t, 0);

	if (ipa >= IPA_LIMIT)
		return false;
	for (int l = 0; l <= 3; l++) {
		uint64_t d = tab[(ipa >> LEVEL_SHIFT(l)) & (ENTRIES - 1)];

		if (!(d & RK_S2TT_VALID))
			return false;
		if (is_table(d, l)) {
			tab = table_at(t, page_of(t, d));
			continue;
		}
		if (pa)
			*pa = (d & RK_S2TT_OA_MASK & ~(LEVEL_SIZE(l) - 1)) | (ipa & (LEVEL_SIZE(l) - 1));
		if (prot)
			*prot = ((d & RK_S2TT_S2AP_R) ? RK_S2TT_PROT_R : 0) |
				((d & RK_S2TT_S2AP_W) ? RK_S2TT_PROT_W : 0) |
				((d & RK_S2TT_XN) ? 0 : RK_S2TT_PROT_X);
		if (level)
			*level = l;
		return true;
	}
	return false;
}
