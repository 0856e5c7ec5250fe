/* SPDX-License-Identifier: MIT */
/*
 * Mapping commands: RTT_DATA_MAP_INIT (measured populate), RTT_DATA_MAP,
 * RTT_UNPROT_MAP, RTT_DATA_UNMAP, RTT_UNPROT_UNMAP.
 *
 * Range commands work within one leaf RTT per call and report partial
 * progress: SUCCESS with x1 = out_top if anything was done, the error
 * otherwise. A DELEGATED granule named by address is locked with a trylock
 * (rule L3); on contention the whole command restarts, which is safe because
 * mapping the same PA again is idempotent.
 */
#include <string.h>

#include "granule.h"
#include "ns.h"
#include "realm.h"
#include "run_lock.h"
#include "rmi/rmi_handlers_gen.h"

#define MAP_FLAG(f, name) (((f)&RMI_MAP_FLAGS_##name##_MASK) >> RMI_MAP_FLAGS_##name##_SHIFT)
#define DESC(d, name) (((d)&RMI_ADDR_RANGE_##name##_MASK) >> RMI_ADDR_RANGE_##name##_SHIFT)
#define DESC_ST_UNDELEGATED 1ULL
#define DESC_CNT_MAX ((1u << RMI_ADDR_RANGE_CNT_WIDTH) - 1)
#define MAX_LIST (RK_GRANULE_SIZE / sizeof(uint64_t))
#define PA_LIMIT_NO_LPA2 (1ULL << 48)

enum restart { DONE, RESTART };

/* RmiRttUnprotMapFlags.S2AP (direct: bit 0 W, bit 1 R) -> descriptor S2AP (bit 6 R, bit 7 W). */
static uint64_t s2ap_desc(uint64_t s2ap)
{
	return (s2ap & 2 ? 1ULL << S2_DESC_S2AP_SHIFT : 0) | (s2ap & 1 ? 2ULL << S2_DESC_S2AP_SHIFT : 0);
}

static int desc_level(uint64_t d)
{
	return 3 - (int)DESC(d, SZ);
}

static uint64_t desc_pa(uint64_t d)
{
	return d & RMI_ADDR_RANGE_ADDR_MASK;
}

static uint64_t make_desc(uint64_t pa, int level, uint64_t cnt, uint64_t st)
{
	return (uint64_t)(3 - level) | (cnt << RMI_ADDR_RANGE_CNT_SHIFT) | (pa & RMI_ADDR_RANGE_ADDR_MASK) |
	       (st << RMI_ADDR_RANGE_ST_SHIFT);
}

/* Read the output-address descriptors of a map command; 0 = none usable. */
static unsigned int read_descs(struct rmm *rmm, uint64_t flags, uint64_t oaddr, uint64_t *descs)
{
	unsigned int n, i, j;

	switch (MAP_FLAG(flags, OADDR_TYPE)) {
	case RMI_ADDR_TYPE_SINGLE:
		descs[0] = oaddr;
		n = 1;
		break;
	case RMI_ADDR_TYPE_LIST:
		if (oaddr & 7)
			return 0;
		n = (unsigned int)MAP_FLAG(flags, LIST_COUNT);
		if (n > (RK_GRANULE_SIZE - (oaddr & (RK_GRANULE_SIZE - 1))) / 8)
			n = (unsigned int)((RK_GRANULE_SIZE - (oaddr & (RK_GRANULE_SIZE - 1))) / 8);
		if (!n || !rmm_ns_read(rmm, oaddr, descs, n * sizeof(uint64_t)))
			return 0;
		break;
	default:
		return 0;
	}
	/* drop empty descriptors */
	for (i = j = 0; i < n; i++)
		if (DESC(descs[i], CNT))
			descs[j++] = descs[i];
	return j;
}

/*
 * Trylock every granule of a block in `expected` state. -EBUSY: contended;
 * -EINVAL: wrong state. The granules the caller holds (the leaf RTT and the
 * RD) are in the wrong state by definition: a trylock on them would fail
 * forever, so they are refused up front.
 */
static int lock_block(struct rmm *rmm, uint64_t pa, uint64_t n, enum granule_state expected,
		      const struct granule *leaf, const struct granule *rd)
{
	for (uint64_t i = 0; i < n; i++) {
		struct granule *g = granule_from_pa(rmm, pa + i * RK_GRANULE_SIZE);
		int err = 0;

		if (!g || g == leaf || g == rd)
			err = -EINVAL;
		else if (!granule_trylock(g))
			err = -EBUSY;
		else if (granule_state(g) != expected) {
			granule_unlock(g);
			err = -EINVAL;
		}
		if (err) {
			while (i--)
				granule_unlock(granule_from_pa(rmm, pa + i * RK_GRANULE_SIZE));
			return err;
		}
	}
	return 0;
}

/* Move a locked block (contiguous granules of one bank) to `to` and unlock it. */
static void set_block(struct rmm *rmm, uint64_t pa, uint64_t n, enum granule_state to, bool scrub)
{
	struct granule *g0 = granule_from_pa(rmm, pa);

	if (scrub)
		plat_scrub(rmm->plat, (uint64_t)(g0 - rmm->granules), n);
	for (uint64_t i = 0; i < n; i++) {
		granule_set_state(&g0[i], to);
		granule_set_refcount(&g0[i], 0);
		granule_unlock(&g0[i]);
	}
}

uint64_t rmi_rtt_data_map_init(struct rmm *rmm, const struct rmi_rtt_data_map_init_args *args,
			       struct rmi_rtt_data_map_init_res *res)
{
	uint64_t data_pa = args->data, ipa = args->ipa, ret;
	struct granule *g_rd, *g_data;
	struct rtt_walk w;
	struct s2tt_ctx c;

	(void)res;
	if (args->flags > RMI_MEASURE_CONTENT || data_pa == args->rd)
		return rmi_result(RMI_ERROR_INPUT, 0);
	if (args->src & (RK_GRANULE_SIZE - 1) || !plat_pa_is_ns(rmm->plat, args->src))
		return rmi_result(RMI_ERROR_INPUT, 0);
retry:
	g_rd = rd_lock(rmm, args->rd, &c);
	if (!g_rd)
		return rmi_result(RMI_ERROR_INPUT, 0);
	struct rd *rd = rd_of(rmm, g_rd);
	if (rd->state != RMI_REALM_STATE_NEW) {
		ret = rmi_result(RMI_ERROR_REALM, 0);
		goto out_rd;
	}
	if (ipa & (RK_GRANULE_SIZE - 1) || !s2tt_ipa_protected(&c, ipa) || data_pa >= PA_LIMIT_NO_LPA2) {
		ret = rmi_result(RMI_ERROR_INPUT, 0);
		goto out_rd;
	}
	s2tt_walk_lock(rmm, &c, ipa, S2_MAX_LEVEL, &w);
	if (w.level < S2_MAX_LEVEL) {
		ret = rmi_error_rtt(w.level);
		goto out_walk;
	}
	if (s2tte_kind(w.table[w.idx], w.level) != S2TTE_UNASSIGNED) {
		ret = rmi_error_rtt(S2_MAX_LEVEL);
		goto out_walk;
	}
	int err = lock_block(rmm, data_pa, 1, GRANULE_STATE_DELEGATED, w.g, g_rd);
	if (err == -EBUSY) {
		/* contended: start again with nothing held (L3) */
		granule_unlock(w.g);
		granule_unlock(g_rd);
		cpu_relax();
		goto retry;
	}
	if (err) {
		ret = rmi_result(RMI_ERROR_INPUT, 0);
		goto out_walk;
	}
	g_data = granule_from_pa(rmm, data_pa);
	uint8_t *dst = granule_ptr(rmm, g_data);
	if (!rmm_ns_read(rmm, args->src, dst, RK_GRANULE_SIZE)) {
		ret = rmi_result(RMI_ERROR_INPUT, 0);
		goto out_data;
	}
	if (rk_rim_extend_data(rd->hash_algo, rd->rim, ipa, args->flags, dst)) {
		ret = rmi_result(RMI_ERROR_GLOBAL, 0);
		goto out_data;
	}
	w.table[w.idx] = s2tte_assigned(data_pa, S2_MAX_LEVEL, RMI_RIPAS_RAM);
	granule_refcount_inc(w.g);
	granule_set_state(g_data, GRANULE_STATE_DATA);
	ret = rmi_result(RMI_SUCCESS, 0);
out_data:
	if (ret != rmi_result(RMI_SUCCESS, 0))
		memset(dst, 0, RK_GRANULE_SIZE); /* stays DELEGATED: zero (L6) */
	granule_unlock(g_data);
out_walk:
	granule_unlock(w.g);
out_rd:
	granule_unlock(g_rd);
	return ret;
}

/* ---- RTT_DATA_MAP and RTT_UNPROT_MAP ---- */

struct map_kind {
	bool protected_range; /* DATA_MAP: protected; UNPROT_MAP: unprotected */
};

/* The arguments of the four range commands (RTT_DATA_MAP, _UNMAP, RTT_UNPROT_MAP, _UNMAP). */
struct range_args {
	uint64_t rd, base, top, flags, oaddr;
};

#define RANGE_ARGS(a) ((struct range_args){ (a)->rd, (a)->base, (a)->top, (a)->flags, (a)->oaddr })

/* *st = the packed RmiResult, *out_top its x1; RESTART: run again (nothing held, nothing done). */
static enum restart map_range(struct rmm *rmm, const struct range_args *a, uint64_t *st, uint64_t *out_top,
			      const struct map_kind *mk)
{
	static _Thread_local uint64_t descs[MAX_LIST];
	uint64_t base = a->base, top = a->top, flags = a->flags, addr;
	unsigned int nd;
	struct granule *g_rd;
	struct rtt_walk w;
	struct s2tt_ctx c;
	enum restart again = DONE;
	uint64_t err = 0, ret;

	g_rd = rd_lock(rmm, a->rd, &c);
	if (!g_rd) {
		*st = rmi_result(RMI_ERROR_INPUT, 0);
		return DONE;
	}
	struct rd *rd = rd_of(rmm, g_rd);
	if (rd->state != RMI_REALM_STATE_NEW && rd->state != RMI_REALM_STATE_ACTIVE) {
		ret = rmi_result(RMI_ERROR_REALM, 0);
		goto out_rd;
	}
	ret = rmi_result(RMI_ERROR_INPUT, 0);
	if (top <= base)
		goto out_rd;
	nd = read_descs(rmm, flags, a->oaddr, descs);
	if (!nd)
		goto out_rd;
	if (mk->protected_range) {
		if ((descs[0] >> RMI_ADDR_RANGE_ST_SHIFT) & 1)
			goto out_rd; /* must describe DELEGATED memory */
	} else {
		uint64_t s2ap = MAP_FLAG(flags, S2AP), memattr = MAP_FLAG(flags, MEMATTR);
		if (s2ap & ~3ULL || memattr == S2_MEMATTR_FWB_RESERVED)
			goto out_rd;
	}
	int level = desc_level(descs[0]);
	if (level < S2_MIN_BLOCK_LEVEL || level < c.start_level || !s2tt_aligned(base, level) ||
	    top - RK_GRANULE_SIZE >= s2tt_ipa_limit(&c) || top & (RK_GRANULE_SIZE - 1))
		goto out_rd;
	if (mk->protected_range ? !s2tt_ipa_protected(&c, top - RK_GRANULE_SIZE)
				: s2tt_ipa_protected(&c, base))
		goto out_rd;
	uint64_t bsz = s2_level_size(level);
	if (top - base < bsz) {
		ret = rmi_error_rtt(level);
		goto out_rd;
	}
	s2tt_walk_lock(rmm, &c, base, level, &w);
	if (w.level != level) {
		ret = rmi_error_rtt(w.level);
		goto out_walk;
	}

	addr = base;
	unsigned int idx = w.idx;
	for (unsigned int d = 0; d < nd && !err; d++) {
		uint64_t cnt = DESC(descs[d], CNT);
		if (desc_level(descs[d]) != level) {
			err = rmi_error_rtt(level);
			break;
		}
		for (uint64_t j = 0; j < cnt; j++) {
			uint64_t pa = desc_pa(descs[d]) + j * bsz, e;
			if (idx >= S2_ENTRIES)
				goto done; /* end of this leaf table: the host continues */
			if (addr + bsz > top) {
				err = rmi_error_rtt(level);
				break;
			}
			if (pa & (bsz - 1) || pa + bsz > PA_LIMIT_NO_LPA2) {
				err = rmi_result(RMI_ERROR_INPUT, 0);
				break;
			}
			e = w.table[idx];
			enum s2tte_kind k = s2tte_kind(e, level);
			if (mk->protected_range) {
				if (k == S2TTE_ASSIGNED && s2tte_oa(e) == pa)
					goto next; /* idempotent */
				if (k != S2TTE_UNASSIGNED) {
					err = rmi_error_rtt(level);
					break;
				}
				int lerr = lock_block(rmm, pa, bsz / RK_GRANULE_SIZE, GRANULE_STATE_DELEGATED,
						      w.g, g_rd);
				if (lerr == -EBUSY) {
					again = RESTART;
					goto out_walk;
				}
				if (lerr) {
					err = rmi_result(RMI_ERROR_INPUT, 0);
					break;
				}
				/* DELEGATED granules are already zero (L6) */
				set_block(rmm, pa, bsz / RK_GRANULE_SIZE, GRANULE_STATE_DATA, false);
				w.table[idx] = s2tte_assigned(pa, level, s2tte_ripas(e, level));
			} else {
				uint64_t ns = s2tte_assigned_ns(
					pa | (MAP_FLAG(flags, MEMATTR) << S2_DESC_MEMATTR_SHIFT) |
						s2ap_desc(MAP_FLAG(flags, S2AP)),
					level);
				if (k == S2TTE_ASSIGNED_NS && e == ns)
					goto next; /* idempotent */
				if (k != S2TTE_UNASSIGNED_NS) {
					err = rmi_error_rtt(level);
					break;
				}
				w.table[idx] = ns;
			}
			granule_refcount_inc(w.g);
next:
			addr += bsz;
			idx++;
		}
	}
done:
	if (addr > base) {
		*out_top = addr;
		ret = rmi_result(RMI_SUCCESS, 0);
	} else {
		ret = err ? err : rmi_error_rtt(level);
	}
out_walk:
	granule_unlock(w.g);
out_rd:
	granule_unlock(g_rd);
	*st = ret;
	return again;
}

uint64_t rmi_rtt_data_map(struct rmm *rmm, const struct rmi_rtt_data_map_args *args,
			  struct rmi_rtt_data_map_res *res)
{
	static const struct map_kind mk = { .protected_range = true };
	const struct range_args a = RANGE_ARGS(args);
	uint64_t ret;

	while (map_range(rmm, &a, &ret, &res->out_top, &mk) == RESTART)
		cpu_relax();
	return ret;
}

uint64_t rmi_rtt_unprot_map(struct rmm *rmm, const struct rmi_rtt_unprot_map_args *args,
			    struct rmi_rtt_unprot_map_res *res)
{
	static const struct map_kind mk = { .protected_range = false };
	const struct range_args a = RANGE_ARGS(args);
	uint64_t ret;

	(void)map_range(rmm, &a, &ret, &res->out_top, &mk); /* UNPROT_MAP never locks a granule: no restart */
	return ret;
}

/* ---- RTT_DATA_UNMAP and RTT_UNPROT_UNMAP ---- */

struct unmap_out {
	unsigned int type, cap, n; /* address type, list capacity, descriptors used */
	uint64_t single;           /* SINGLE: the range so far (0: none) */
	uint64_t *list;
};

/* Record an unmapped block; false if the output cannot take it (stop the sweep). */
static bool unmap_out_add(struct unmap_out *o, uint64_t pa, int level, uint64_t st)
{
	uint64_t *last = o->type == RMI_ADDR_TYPE_SINGLE ? &o->single : (o->n ? &o->list[o->n - 1] : NULL);

	if (o->type == RMI_ADDR_TYPE_NONE)
		return true;
	if (last && *last) {
		uint64_t cnt = DESC(*last, CNT);
		if (desc_level(*last) == level && desc_pa(*last) + cnt * s2_level_size(level) == pa &&
		    cnt < DESC_CNT_MAX) {
			*last += 1ULL << RMI_ADDR_RANGE_CNT_SHIFT;
			return true;
		}
		if (o->type == RMI_ADDR_TYPE_SINGLE)
			return false; /* PA discontinuity ends a SINGLE sweep */
	}
	if (o->type == RMI_ADDR_TYPE_SINGLE) {
		o->single = make_desc(pa, level, 1, st);
		return true;
	}
	if (o->n == o->cap)
		return false;
	o->list[o->n++] = make_desc(pa, level, 1, st);
	return true;
}

/* Results of RTT_DATA_UNMAP and RTT_UNPROT_UNMAP. */
struct unmap_res {
	uint64_t *out_top, *range_desc, *count;
};

static uint64_t unmap_range(struct rmm *rmm, const struct range_args *a, const struct unmap_res *res,
			    bool prot)
{
	static _Thread_local uint64_t list[MAX_LIST];
	uint64_t base = a->base, top = a->top, flags = a->flags, oaddr = a->oaddr, addr;
	struct unmap_out o = { .list = list };
	struct granule *g_rd;
	struct rtt_walk w;
	struct s2tt_ctx c;
	uint64_t err = 0, ret;

	g_rd = rd_lock(rmm, a->rd, &c);
	if (!g_rd)
		return rmi_result(RMI_ERROR_INPUT, 0);
	ret = rmi_result(RMI_ERROR_INPUT, 0);
	if ((base | top) & (RK_GRANULE_SIZE - 1) || top <= base || top > s2tt_ipa_limit(&c))
		goto out_rd;
	if (prot ? !s2tt_ipa_protected(&c, top - RK_GRANULE_SIZE) : s2tt_ipa_protected(&c, base))
		goto out_rd;
	o.type = (unsigned int)MAP_FLAG(flags, OADDR_TYPE);
	if (o.type == RMI_ADDR_TYPE_LIST) {
		o.cap = (unsigned int)MAP_FLAG(flags, LIST_COUNT);
		if (oaddr & 7 || !o.cap)
			goto out_rd;
		if (o.cap > (RK_GRANULE_SIZE - (oaddr & (RK_GRANULE_SIZE - 1))) / 8)
			o.cap = (unsigned int)((RK_GRANULE_SIZE - (oaddr & (RK_GRANULE_SIZE - 1))) / 8);
		if (!rmm_ns_read(rmm, oaddr, list, o.cap * sizeof(uint64_t)))
			goto out_rd; /* the output list must be NS memory */
	} else if (o.type > RMI_ADDR_TYPE_LIST || oaddr || MAP_FLAG(flags, LIST_COUNT)) {
		goto out_rd;
	}
	/* RD -> run lock -> RTTs: no engine of the realm runs while mappings go away */
	struct rd *rd = rd_of(rmm, g_rd);
	realm_run_lock(rd);

	s2tt_walk_lock(rmm, &c, base, S2_MAX_LEVEL, &w);
	if (!s2tt_aligned(base, w.level)) {
		ret = rmi_error_rtt(w.level);
		goto out_walk;
	}
	addr = base;
	for (unsigned int i = w.idx; i < S2_ENTRIES && addr < top; i++) {
		uint64_t e = w.table[i], sz = s2_level_size(w.level);
		enum s2tte_kind k = s2tte_kind(e, w.level);

		if (k == S2TTE_TABLE || (prot ? k == S2TTE_ASSIGNED_NS : k == S2TTE_ASSIGNED)) {
			err = rmi_error_rtt(w.level);
			break;
		}
		if (!s2tte_is_live(e, w.level)) {
			/* nothing to unmap here; out_top never passes top */
			addr = addr + sz < top ? addr + sz : top;
			continue;
		}
		if (addr + sz > top) {
			err = rmi_error_rtt(w.level);
			break;
		}
		if (!unmap_out_add(&o, s2tte_oa(e), w.level, prot ? 0 : DESC_ST_UNDELEGATED))
			break;
		if (prot) {
			enum rmi_ripas ripas = s2tte_ripas(e, w.level);
			uint64_t pa = s2tte_oa(e), n = sz / RK_GRANULE_SIZE;
			w.table[i] = s2tte_unassigned(ripas == RMI_RIPAS_RAM ? RMI_RIPAS_DESTROYED : ripas);
			/* DATA granules: every holder of their lock releases it without waiting (L3) */
			for (uint64_t j = 0; j < n; j++)
				granule_lock(granule_from_pa(rmm, pa + j * RK_GRANULE_SIZE));
			set_block(rmm, pa, n, GRANULE_STATE_DELEGATED, true);
		} else {
			w.table[i] = s2tte_unassigned_ns();
		}
		granule_refcount_dec(w.g);
		addr += sz;
	}
	if (addr > base) {
		realm_s2_changed(rd);
		if (o.type == RMI_ADDR_TYPE_LIST && o.n)
			(void)rmm_ns_write(rmm, oaddr, list, o.n * sizeof(uint64_t));
		*res->out_top = addr;
		*res->range_desc = o.type == RMI_ADDR_TYPE_SINGLE ? o.single : 0;
		*res->count = o.type == RMI_ADDR_TYPE_LIST ? o.n : 0;
		ret = rmi_result(RMI_SUCCESS, 0);
	} else {
		ret = err ? err : rmi_error_rtt(w.level);
	}
out_walk:
	granule_unlock(w.g);
	realm_run_unlock(rd);
out_rd:
	granule_unlock(g_rd);
	return ret;
}

uint64_t rmi_rtt_data_unmap(struct rmm *rmm, const struct rmi_rtt_data_unmap_args *args,
			    struct rmi_rtt_data_unmap_res *res)
{
	const struct range_args a = RANGE_ARGS(args);
	const struct unmap_res r = { &res->out_top, &res->range_desc, &res->count };

	return unmap_range(rmm, &a, &r, true);
}

uint64_t rmi_rtt_unprot_unmap(struct rmm *rmm, const struct rmi_rtt_unprot_unmap_args *args,
			      struct rmi_rtt_unprot_unmap_res *res)
{
	const struct range_args a = RANGE_ARGS(args);
	const struct unmap_res r = { &res->out_top, &res->range_desc, &res->count };

	return unmap_range(rmm, &a, &r, false);
}
