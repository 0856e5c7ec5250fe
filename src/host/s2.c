/* SPDX-License-Identifier: MIT */
/*
 * The stage-2 walker and the generic visitors: map, unmap, fold, destroy,
 * dump, ensure-level, leak sweep. Nothing here knows whether the tables are
 * host page tables or realm RTTs; the backend ops (s2_normal.c, s2_realm.c)
 * do the changes. There is no other descent into stage-2 tables in the host.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "common/assert.h"
#include "s2.h"

void host_s2_geometry(unsigned int ia_bits, int *start_level, unsigned int *nroot)
{
	/* KVM: levels = ARM64_HW_PGTABLE_LEVELS(ia_bits - 4) = (ia_bits - 8) / 9 with 4 KiB pages */
	unsigned int levels = (ia_bits - 8) / 9;
	unsigned int covered;

	if (levels > 4)
		levels = 4;
	*start_level = 4 - (int)levels;
	covered = s2_level_shift(*start_level) + 9; /* IPA bits one root table covers */
	*nroot = ia_bits > covered ? 1u << (ia_bits - covered) : 1u;
}

void host_s2_init(struct host_s2 *s2, struct rk_vm *vm, const struct host_s2_ops *ops, unsigned int ia_bits)
{
	memset(s2, 0, sizeof(*s2));
	s2->ops = ops;
	s2->vm = vm;
	s2->h = vm->host;
	s2->ia_bits = ia_bits;
	host_s2_geometry(ia_bits, &s2->start_level, &s2->nroot);
}

void host_s2_unfold(uint64_t parent, int plevel, uint64_t child[S2_ENTRIES])
{
	int level = plevel + 1;

	for (unsigned int i = 0; i < S2_ENTRIES; i++)
		child[i] = s2e_is_leaf(parent, plevel) ? s2e_leaf(s2e_pa(parent) + i * s2_level_size(level),
								  level, s2e_attrs(parent))
						       : 0;
}

/* ---- the walker ---- */

static int walk_table(struct host_s2 *s2, const struct s2_walker *w, uint64_t table_pa, int level,
		      uint64_t base, uint64_t start, uint64_t end)
{
	uint64_t sz = s2_level_size(level), tend = base + S2_ENTRIES * sz;
	uint64_t addr = (start > base ? start : base) & ~(sz - 1);
	const uint64_t *t;
	int ret;

	/* levels from the root's down to 3: s2e_is_table() is false at level 3 */
	RK_ASSERT(level >= s2->start_level && level <= S2_MAX_LEVEL);
	ret = s2->ops->entries(s2, table_pa, &t);
	if (ret)
		return ret;
	while (addr < end && addr < tend) {
		struct s2_ctx ctx;
		uint64_t next;

		memset(&ctx, 0, sizeof(ctx));
		ctx.s2 = s2;
		ctx.w = w;
		ctx.table = t;
		ctx.table_pa = table_pa;
		ctx.addr = addr;
		ctx.start = start;
		ctx.end = end;
		ctx.idx = (uint32_t)((addr - base) >> s2_level_shift(level));
		ctx.level = level;
		ctx.old = t[ctx.idx];
		if (s2e_is_table(ctx.old, level)) {
			if (w->flags & S2_VISIT_TABLE_PRE) {
				ret = w->cb(&ctx, S2_VISIT_TABLE_PRE);
				if (ret)
					return ret;
				ctx.old = t[ctx.idx];
			}
		} else if (w->flags & S2_VISIT_LEAF) {
			ret = w->cb(&ctx, S2_VISIT_LEAF);
			if (ret)
				return ret;
			ctx.old = t[ctx.idx]; /* the visitor may have made it a table: descend */
		}
		if (s2e_is_table(ctx.old, level)) {
			ret = walk_table(s2, w, s2e_pa(ctx.old), level + 1, addr, start, end);
			if (ret)
				return ret;
			if (w->flags & S2_VISIT_TABLE_POST) {
				ctx.old = t[ctx.idx];
				ret = w->cb(&ctx, S2_VISIT_TABLE_POST);
				if (ret)
					return ret;
			}
		}
		next = addr + sz;
		if (ctx.skip_to > next)
			next = ctx.skip_to & ~(sz - 1);
		addr = next;
	}
	return 0;
}

int host_s2_walk(struct host_s2 *s2, uint64_t addr, uint64_t size, const struct s2_walker *w)
{
	uint64_t end = addr + size, span = S2_ENTRIES * s2_level_size(s2->start_level);

	if (!s2->root_pa || !size)
		return 0;
	if (end > (1ULL << s2->ia_bits) || end < addr)
		return -EINVAL;
	/* each concatenated root table is one table of the walk */
	for (uint64_t i = addr / span; i < s2->nroot && i * span < end; i++) {
		int ret = walk_table(s2, w, s2->root_pa + i * G4K, s2->start_level, i * span, addr, end);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- map ---- */

struct map_args {
	const struct s2_src *src;
	int min_level;
	int alias; /* backing: the private slot under the unprotected alias */
};

static int map_cb(struct s2_ctx *ctx, unsigned int visit)
{
	const struct map_args *a = ctx->w->arg;
	struct host_s2 *s2 = ctx->s2;
	uint64_t sz = s2_level_size(ctx->level), addr = ctx->addr, pa;
	bool covered = addr >= ctx->start && addr + sz <= ctx->end;
	int min_level = a->min_level > S2_MIN_BLOCK_LEVEL ? a->min_level : S2_MIN_BLOCK_LEVEL;

	(void)visit;
	if (s2e_valid(ctx->old)) {
		/* a leaf already there: fine if it maps what the memory slot holds (not for populate) */
		uint64_t lo = addr > ctx->start ? addr : ctx->start;
		uint64_t hi = addr + sz < ctx->end ? addr + sz : ctx->end;
		if (!a->src && !host_memslot_backing(s2->vm, lo, hi - lo, a->alias, &pa) &&
		    pa == s2e_pa(ctx->old) + (lo - addr))
			return 0;
		return host_fail(s2->h, -EEXIST, 0, 0, "IPA 0x%" PRIx64 " is already mapped", lo);
	}
	if (covered && ctx->level >= min_level && !host_memslot_backing(s2->vm, addr, sz, a->alias, &pa) &&
	    !(pa & (sz - 1))) {
		/* a run of invalid entries mapping contiguous memory: one backend call */
		uint32_t n = 1;
		uint64_t pn;
		while (ctx->idx + n < S2_ENTRIES && addr + (n + 1) * sz <= ctx->end &&
		       !ctx->table[ctx->idx + n] &&
		       !host_memslot_backing(s2->vm, addr + n * sz, sz, a->alias, &pn) && pn == pa + n * sz)
			n++;
		/* only memory the host owns (never a leaked granule) is mapped; shared: never delegated memory */
		for (uint64_t g = 0, total = n * sz / G4K; g < total;) {
			uint64_t run = host_led_prefix(s2->h, pa + g * G4K, total - g, RK_GRANULE_HOST, true);
			if (!a->alias)
				run += host_led_prefix(s2->h, pa + (g + run) * G4K, total - g - run,
						       RK_GRANULE_DELEGATED, true);
			if (!run) {
				unsigned int st = host_led_state(s2->h, pa + g * G4K);
				return host_fail(s2->h, -EIO, 0, 0, "granule 0x%" PRIx64 " is %s: not mapped",
						 (uint64_t)(pa + g * G4K), rk_granule_state_name(st));
			}
			g += run;
		}
		ctx->skip_to = addr + n * sz;
		return s2->ops->leaf_map(ctx, pa, n, a->src);
	}
	if (ctx->level == S2_MAX_LEVEL)
		return host_fail(s2->h, -EFAULT, 0, 0, "IPA 0x%" PRIx64 " is not in a memory slot", addr);
	return s2->ops->table_create(ctx); /* the walker descends into it */
}

int host_s2_map(struct host_s2 *s2, uint64_t ipa, uint64_t size, const struct s2_src *src, int min_level)
{
	struct map_args a = { src, min_level, 0 };
	struct s2_walker w = { map_cb, &a, S2_VISIT_LEAF, 0 };

	return host_s2_walk(s2, ipa, size, &w);
}

int host_s2_map_alias(struct host_s2 *s2, uint64_t ipa, uint64_t size, int min_level)
{
	struct map_args a = { NULL, min_level, 1 };
	struct s2_walker w = { map_cb, &a, S2_VISIT_LEAF, 0 };

	return host_s2_walk(s2, ipa, size, &w);
}

/* ---- unmap ---- */

/* Number of valid leaves from ctx->idx inside the range, with contiguous output and equal attributes. */
static uint32_t leaf_run(const struct s2_ctx *ctx)
{
	uint64_t sz = s2_level_size(ctx->level);
	uint32_t n = 1;

	while (ctx->idx + n < S2_ENTRIES && ctx->addr + (n + 1) * sz <= ctx->end) {
		uint64_t e = ctx->table[ctx->idx + n];
		if (!s2e_is_leaf(e, ctx->level) || s2e_pa(e) != s2e_pa(ctx->old) + n * sz ||
		    s2e_attrs(e) != s2e_attrs(ctx->old))
			break;
		n++;
	}
	return n;
}

struct unmap_args {
	bool keep_going; /* teardown: record failures and go on */
	bool destroy;    /* teardown: destroy tables on the way back up */
	uint16_t reserved;
	uint32_t failures;
};

static int unmap_cb(struct s2_ctx *ctx, unsigned int visit)
{
	struct unmap_args *a = ctx->w->arg;
	struct host_s2 *s2 = ctx->s2;
	uint64_t sz = s2_level_size(ctx->level);
	int ret;

	if (visit == S2_VISIT_TABLE_POST) {
		const uint64_t *child;
		unsigned int i = 0;

		if (!a->destroy)
			return 0;
		if (!s2->ops->entries(s2, s2e_pa(ctx->old), &child))
			for (i = 0; i < S2_ENTRIES && !child[i]; i++)
				;
		if (i < S2_ENTRIES) {
			a->failures++; /* something below could not be unmapped: the table stays */
			return 0;
		}
		ret = s2->ops->table_destroy(ctx);
		if (ret)
			a->failures++;
		return 0;
	}
	if (!s2e_valid(ctx->old))
		return 0;
	if (ctx->addr >= ctx->start && ctx->addr + sz <= ctx->end) {
		uint32_t n = leaf_run(ctx);
		ctx->skip_to = ctx->addr + n * sz;
		ret = s2->ops->leaf_unmap(ctx, n);
	} else {
		ret = s2->ops->table_create(ctx); /* split the block; the walker descends */
	}
	if (ret && a->keep_going) {
		a->failures++;
		return 0;
	}
	return ret;
}

int host_s2_unmap(struct host_s2 *s2, uint64_t ipa, uint64_t size)
{
	struct unmap_args a = { false, false, 0, 0 };
	struct s2_walker w = { unmap_cb, &a, S2_VISIT_LEAF, 0 };

	return host_s2_walk(s2, ipa, size, &w);
}

unsigned int host_s2_destroy(struct host_s2 *s2)
{
	struct unmap_args a = { true, true, 0, 0 };
	struct s2_walker w = { unmap_cb, &a, S2_VISIT_LEAF | S2_VISIT_TABLE_POST, 0 };

	if (host_s2_walk(s2, 0, 1ULL << s2->ia_bits, &w))
		a.failures++;
	return a.failures;
}

/* ---- fold ---- */

static int fold_cb(struct s2_ctx *ctx, unsigned int visit)
{
	struct host_s2 *s2 = ctx->s2;
	int clevel = ctx->level + 1;
	uint64_t csz = s2_level_size(clevel), e0, e;
	const uint64_t *c;
	unsigned int i;

	(void)visit;
	if (ctx->addr < ctx->start || ctx->addr + s2_level_size(ctx->level) > ctx->end)
		return 0; /* only tables wholly inside the range */
	if (s2->ops->entries(s2, s2e_pa(ctx->old), &c))
		return 0;
	e0 = c[0];
	if (!e0) {
		for (i = 1; i < S2_ENTRIES && !c[i]; i++)
			;
		e = 0;
	} else {
		if (!s2e_is_leaf(e0, clevel) || ctx->level < S2_MIN_BLOCK_LEVEL ||
		    (s2e_pa(e0) & (s2_level_size(ctx->level) - 1)))
			return 0;
		for (i = 1; i < S2_ENTRIES; i++)
			if (c[i] != s2e_leaf(s2e_pa(e0) + i * csz, clevel, s2e_attrs(e0)))
				break;
		e = s2e_leaf(s2e_pa(e0), ctx->level, s2e_attrs(e0));
	}
	if (i < S2_ENTRIES)
		return 0;
	int ret = s2->ops->table_fold(ctx, e);
	return ret > 0 ? 0 : ret; /* 1: the owner refused (e.g. RIPAS differs): leave it */
}

int host_s2_fold(struct host_s2 *s2, uint64_t ipa, uint64_t size)
{
	struct s2_walker w = { fold_cb, NULL, S2_VISIT_TABLE_POST, 0 };

	return host_s2_walk(s2, ipa, size, &w);
}

/* ---- dump ---- */

struct dump_args {
	rk_s2_dump_fn fn;
	void *arg;
};

static int dump_cb(struct s2_ctx *ctx, unsigned int visit)
{
	const struct dump_args *a = ctx->w->arg;
	struct rk_s2_entry e;
	int ret;

	if (visit == S2_VISIT_LEAF && !s2e_valid(ctx->old))
		return 0;
	ret = ctx->s2->ops->read(ctx, &e);
	if (ret)
		return ret;
	return a->fn(a->arg, &e);
}

int host_s2_dump(struct host_s2 *s2, uint64_t ipa, uint64_t size, rk_s2_dump_fn fn, void *arg)
{
	struct dump_args a = { fn, arg };
	struct s2_walker w = { dump_cb, &a, S2_VISIT_LEAF | S2_VISIT_TABLE_PRE, 0 };

	return host_s2_walk(s2, ipa, size, &w);
}

/* ---- is anything mapped? (the host's own view: tables or shadow, no RMI call) ---- */

static int any_leaf_cb(struct s2_ctx *ctx, unsigned int visit)
{
	(void)visit;
	return s2e_valid(ctx->old) ? 1 : 0;
}

bool host_s2_any_leaf(struct host_s2 *s2, uint64_t ipa, uint64_t size)
{
	struct s2_walker w = { any_leaf_cb, NULL, S2_VISIT_LEAF, 0 };

	return host_s2_walk(s2, ipa, size, &w) == 1;
}

/* ---- ensure-level: create the tables down to a level ---- */

static int ensure_cb(struct s2_ctx *ctx, unsigned int visit)
{
	const int *target = ctx->w->arg;

	(void)visit;
	if (ctx->level >= *target)
		return 0;
	return ctx->s2->ops->table_create(ctx);
}

int host_s2_ensure_level(struct host_s2 *s2, uint64_t ipa, int level)
{
	struct s2_walker w = { ensure_cb, &level, S2_VISIT_LEAF, 0 };

	return host_s2_walk(s2, ipa & ~(G4K - 1), G4K, &w);
}

/* ---- leak sweep ---- */

struct sweep_args {
	uint64_t fid, x0; /* the failure that left these behind */
};

static void sweep_range(struct host_s2 *s2, const struct sweep_args *a, uint64_t pa, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		unsigned int st = host_led_state(s2->h, pa + i * G4K);
		/* still the RMM's, or NS memory still mapped into the realm: never reused */
		if (st == RK_GRANULE_RMM || st == RK_GRANULE_HOST || st == RK_GRANULE_DELEGATED)
			host_leak(s2->h, pa + i * G4K, 1, a->fid, a->x0);
	}
}

static int sweep_cb(struct s2_ctx *ctx, unsigned int visit)
{
	const struct sweep_args *a = ctx->w->arg;

	if (visit == S2_VISIT_TABLE_POST)
		sweep_range(ctx->s2, a, s2e_pa(ctx->old), 1);
	else if (s2e_valid(ctx->old))
		sweep_range(ctx->s2, a, s2e_pa(ctx->old), s2_level_size(ctx->level) / G4K);
	return 0;
}

void host_s2_sweep_leaks(struct host_s2 *s2, uint64_t fid, uint64_t x0)
{
	struct sweep_args a = { fid, x0 };
	struct s2_walker w = { sweep_cb, &a, S2_VISIT_LEAF | S2_VISIT_TABLE_POST, 0 };

	(void)host_s2_walk(s2, 0, 1ULL << s2->ia_bits, &w);
}
