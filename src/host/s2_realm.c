/* SPDX-License-Identifier: MIT */
/*
 * Stage-2 backend of realms. The RTTs are realm memory, owned by the RMM: the
 * host cannot read or write them (an rk_ns_*() access would fault on the
 * GPT). Every change is an RMI command; the walker reads the host's shadow of
 * the RTT tree (one struct host_shadow per RTT, found by the RTT's PA), which
 * this backend updates after each command succeeds, and which dump checks
 * against RMI_RTT_READ_ENTRY. This backend never writes a page table.
 *
 * ERROR_RTT(level) from a map command means a level is missing: the backend
 * creates the levels (host_s2_ensure_level(), Linux's
 * realm_create_rtt_levels()) and retries, a bounded number of times.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "rmi_cmds.h"
#include "s2.h"

#define RTT_RETRIES 2

/* ---- the shadow: RTT PA -> host copy of its entries ---- */

static uint32_t shadow_hash(uint64_t pa, uint32_t cap)
{
	return (uint32_t)(((pa >> 12) * 0x9E3779B97F4A7C15ULL) >> 32) & (cap - 1);
}

static struct host_shadow *shadow_get(const struct host_s2 *s2, uint64_t pa)
{
	const struct host_shadow_map *m = &s2->shadow;

	if (!m->cap)
		return NULL;
	for (uint32_t i = shadow_hash(pa, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (!m->slot[i])
			return NULL;
		if (m->slot[i]->rtt.pa == pa)
			return m->slot[i];
	}
}

static int shadow_put(struct host_s2 *s2, struct host_shadow *node)
{
	struct host_shadow_map *m = &s2->shadow;

	if ((m->n + 1) * 2 > m->cap) {
		uint32_t cap = m->cap ? m->cap * 2 : 64;
		struct host_shadow **slot = calloc(cap, sizeof(*slot));
		if (!slot)
			return -ENOMEM;
		for (uint32_t i = 0; i < m->cap; i++) {
			if (!m->slot[i])
				continue;
			uint32_t j = shadow_hash(m->slot[i]->rtt.pa, cap);
			while (slot[j])
				j = (j + 1) & (cap - 1);
			slot[j] = m->slot[i];
		}
		free(m->slot);
		m->slot = slot;
		m->cap = cap;
	}
	uint32_t i = shadow_hash(node->rtt.pa, m->cap);
	while (m->slot[i])
		i = (i + 1) & (m->cap - 1);
	m->slot[i] = node;
	m->n++;
	return 0;
}

static void shadow_del(struct host_s2 *s2, uint64_t pa)
{
	struct host_shadow_map *m = &s2->shadow;
	uint32_t i, j;

	if (!m->cap)
		return;
	for (i = shadow_hash(pa, m->cap); m->slot[i]; i = (i + 1) & (m->cap - 1))
		if (m->slot[i]->rtt.pa == pa)
			break;
	if (!m->slot[i])
		return;
	free(m->slot[i]);
	m->slot[i] = NULL;
	m->n--;
	/* backward-shift the cluster after it */
	for (j = (i + 1) & (m->cap - 1); m->slot[j]; j = (j + 1) & (m->cap - 1)) {
		uint32_t home = shadow_hash(m->slot[j]->rtt.pa, m->cap);
		bool movable = (j > i) ? (home <= i || home > j) : (home <= i && home > j);
		if (movable) {
			m->slot[i] = m->slot[j];
			m->slot[j] = NULL;
			i = j;
		}
	}
}

int host_s2_realm_attach(struct host_s2 *s2, rk_rtt_t rtt_base)
{
	for (uint32_t i = 0; i < s2->nroot; i++) {
		struct host_shadow *node = calloc(1, sizeof(*node));
		if (node)
			node->rtt.pa = rtt_base.pa + i * G4K;
		if (!node || shadow_put(s2, node)) {
			free(node);
			host_s2_realm_detach(s2);
			return host_fail(s2->h, -ENOMEM, 0, 0, "no memory for the RTT shadow");
		}
	}
	s2->root_pa = rtt_base.pa;
	return 0;
}

void host_s2_realm_detach(struct host_s2 *s2)
{
	struct host_shadow_map *m = &s2->shadow;

	for (uint32_t i = 0; i < m->cap; i++)
		free(m->slot[i]);
	free(m->slot);
	memset(m, 0, sizeof(*m));
	s2->root_pa = 0;
}

/* ---- helpers ---- */

static rk_rd_t rd_of(const struct host_s2 *s2)
{
	return s2->vm->realm.rd;
}

static bool ipa_protected(const struct host_s2 *s2, uint64_t ipa)
{
	return ipa < (1ULL << (s2->ia_bits - 1));
}

static uint64_t range_desc(uint64_t pa, int level, uint64_t cnt, unsigned int st)
{
	return (pa & RMI_ADDR_RANGE_ADDR_MASK) | ((uint64_t)(3 - level) << RMI_ADDR_RANGE_SZ_SHIFT) |
	       (cnt << RMI_ADDR_RANGE_CNT_SHIFT) | ((uint64_t)st << RMI_ADDR_RANGE_ST_SHIFT);
}

static struct host_shadow *node_of(struct s2_ctx *ctx)
{
	return shadow_get(ctx->s2, ctx->table_pa);
}

static int rmi_failed(struct host_s2 *s2, uint64_t fid, uint64_t x0, uint64_t ipa)
{
	return host_fail(s2->h, host_rmi_errno(x0), fid, x0, "%s at IPA 0x%" PRIx64 ": %s index %u",
			 rk_rmi_command_name(fid), ipa, rk_rmi_status_name(x0), RMI_IDX(x0));
}

static uint64_t sro_finish(struct host_s2 *s2, uint64_t fid, uint64_t x[5])
{
	return host_sro_finish(s2->h, fid, x, s2->vm->id);
}

/* ---- ops ---- */

static int r_entries(struct host_s2 *s2, uint64_t table_pa, const uint64_t **out)
{
	struct host_shadow *node = shadow_get(s2, table_pa);

	if (!node)
		return host_fail(s2->h, -EIO, 0, 0, "no shadow of RTT 0x%" PRIx64, table_pa);
	*out = node->e;
	return 0;
}

static int r_table_create(struct s2_ctx *ctx)
{
	struct host_s2 *s2 = ctx->s2;
	struct host_shadow *parent = node_of(ctx), *node;
	rk_rtt_t rtt;
	uint64_t x0;
	int ret;

	if (!parent)
		return host_fail(s2->h, -EIO, 0, 0, "no shadow of RTT 0x%" PRIx64, ctx->table_pa);
	node = malloc(sizeof(*node));
	if (!node)
		return host_fail(s2->h, -ENOMEM, 0, 0, "no memory for the RTT shadow");
	ret = host_palloc(s2->h, 1, 1, RK_ROLE_RTT, s2->vm->id, 0, &rtt.pa);
	if (ret) {
		free(node);
		return host_fail(s2->h, ret, 0, 0, "no memory for an RTT");
	}
	ret = host_delegate(s2->h, rtt.pa, 1);
	if (ret) {
		host_pfree(s2->h, rtt.pa, 1);
		free(node);
		return ret;
	}
	x0 = host_rmi_rtt_create(s2->h, rd_of(s2), rtt, ctx->addr, ctx->level + 1);
	if (RMI_ST(x0) != RMI_SUCCESS) {
		/* ERROR_RTT(level) here would mean the RTT exists and the shadow missed it */
		if (RMI_ST(x0) == RMI_ERROR_RTT && (int)RMI_IDX(x0) == ctx->level)
			s2->h->stats.shadow_mismatches++;
		ret = rmi_failed(s2, RMI_FID_RTT_CREATE, x0, ctx->addr);
		host_free_delegated(s2->h, rtt.pa, 1);
		free(node);
		return ret;
	}
	host_led_move(s2->h, rtt.pa, 1, RK_GRANULE_DELEGATED, RK_GRANULE_RMM);
	node->rtt = rtt;
	/* the RMM copies or unfolds the parent entry (reference 7.1): so does the shadow */
	host_s2_unfold(ctx->old, ctx->level, node->e);
	if (shadow_put(s2, node)) {
		/* cannot track the new RTT: the host must not reuse it */
		free(node);
		host_leak(s2->h, rtt.pa, 1, RMI_FID_RTT_CREATE, x0);
		return host_fail(s2->h, -ENOMEM, 0, 0, "no memory for the RTT shadow");
	}
	parent->e[ctx->idx] = s2e_table(rtt.pa);
	s2->h->stats.s2_tables++;
	return 0;
}

/* Give back an RTT the RMM returned (DELEGATED again) and drop its shadow. -EIO if it leaked. */
static int rtt_returned(struct host_s2 *s2, uint64_t shadow_pa, uint64_t returned_pa)
{
	int ret = 0;

	if (returned_pa != shadow_pa) {
		s2->h->stats.shadow_mismatches++;
		if (host_led_state(s2->h, shadow_pa) == RK_GRANULE_RMM)
			host_leak(s2->h, shadow_pa, 1, RMI_FID_RTT_DESTROY, 0);
	}
	shadow_del(s2, shadow_pa);
	if (host_led_state(s2->h, returned_pa) == RK_GRANULE_RMM) {
		host_led_move(s2->h, returned_pa, 1, RK_GRANULE_RMM, RK_GRANULE_DELEGATED);
		ret = host_free_delegated(s2->h, returned_pa, 1);
	}
	s2->h->stats.s2_tables--;
	return ret;
}

static int r_table_destroy(struct s2_ctx *ctx)
{
	struct host_s2 *s2 = ctx->s2;
	struct host_shadow *parent = node_of(ctx);
	uint64_t x[5], x0, next = ctx->addr + s2_level_size(ctx->level);

	if (!parent)
		return host_fail(s2->h, -EIO, 0, 0, "no shadow of RTT 0x%" PRIx64, ctx->table_pa);
	x0 = host_rmi_rtt_destroy(s2->h, rd_of(s2), ctx->addr, ctx->level + 1, x);
	if (RMI_ST(x0) != RMI_SUCCESS)
		return rmi_failed(s2, RMI_FID_RTT_DESTROY, x0, ctx->addr);
	int ret = rtt_returned(s2, s2e_pa(ctx->old), x[1]);
	parent->e[ctx->idx] = 0;
	/* x2: top of the non-live range from this entry; the shadow must agree to use it */
	if (x[2] > next) {
		uint64_t sz = s2_level_size(ctx->level), top = x[2];
		uint32_t last = ctx->idx + (uint32_t)((top - ctx->addr + sz - 1) / sz);
		bool ok = true;
		if (last > S2_ENTRIES)
			last = S2_ENTRIES;
		for (uint32_t i = ctx->idx + 1; i < last; i++)
			ok = ok && !parent->e[i];
		if (ok) {
			ctx->skip_to = top;
			s2->h->stats.s2_rtt_hint_skips += last - ctx->idx - 1;
		} else {
			s2->h->stats.shadow_mismatches++;
		}
	}
	return ret;
}

static int r_table_fold(struct s2_ctx *ctx, uint64_t e)
{
	struct host_s2 *s2 = ctx->s2;
	struct host_shadow *parent = node_of(ctx);
	uint64_t x[5], x0;

	if (!parent)
		return host_fail(s2->h, -EIO, 0, 0, "no shadow of RTT 0x%" PRIx64, ctx->table_pa);
	x0 = host_rmi_rtt_fold(s2->h, rd_of(s2), ctx->addr, ctx->level + 1, x);
	if (RMI_ST(x0) == RMI_ERROR_RTT)
		return 1; /* not homogeneous for the RMM (e.g. RIPAS differs): leave it */
	if (RMI_ST(x0) != RMI_SUCCESS)
		return rmi_failed(s2, RMI_FID_RTT_FOLD, x0, ctx->addr);
	parent->e[ctx->idx] = e;
	return rtt_returned(s2, s2e_pa(ctx->old), x[1]);
}

/* RMI_RTT_DATA_MAP_INIT, page by page: populate. */
static int r_map_init(struct s2_ctx *ctx, struct host_shadow *node, uint64_t pa, uint32_t n,
		      const struct s2_src *src)
{
	static _Thread_local uint8_t page[G4K];
	struct host_s2 *s2 = ctx->s2;
	struct rk_realm *realm = &s2->vm->realm;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t ipa = ctx->addr + i * G4K, x0 = 0;
		rk_data_t data = { pa + i * G4K };
		const uint8_t *content;
		int ret;

		if (host_led_state(s2->h, data.pa) == RK_GRANULE_HOST) {
			ret = host_delegate(s2->h, data.pa, 1);
			if (ret)
				return ret;
		}
		content = host_populate_page(page, src->buf, src->ipa, src->len,
					     ipa); /* as rk_plan_rim() (plan.c) */
		if (host_ns_write(s2->h, s2->h->bounce_pa, content, G4K))
			return host_fail(s2->h, -EIO, 0, 0, "cannot write the bounce page");
		for (int tries = 0; tries <= RTT_RETRIES; tries++) {
			x0 = host_rmi_data_map_init(s2->h, rd_of(s2), data, ipa, s2->h->bounce_pa,
						    src->measure ? RMI_MEASURE_CONTENT
								 : RMI_NO_MEASURE_CONTENT);
			if (RMI_ST(x0) != RMI_ERROR_RTT || host_s2_ensure_level(s2, ipa, S2_MAX_LEVEL))
				break;
		}
		if (RMI_ST(x0) != RMI_SUCCESS)
			return rmi_failed(s2, RMI_FID_RTT_DATA_MAP_INIT, x0, ipa);
		host_led_move(s2->h, data.pa, 1, RK_GRANULE_DELEGATED, RK_GRANULE_RMM);
		node->e[ctx->idx + i] = s2e_leaf(data.pa, S2_MAX_LEVEL, S2_LEAF_ATTRS);
		if (!(s2->vm->flags & VM_NO_RIM))
			rk_rim_extend_data(realm->hash_algo, realm->rim, ipa,
					   src->measure ? RMI_MEASURE_CONTENT : RMI_NO_MEASURE_CONTENT,
					   content);
	}
	return 0;
}

static int r_leaf_map(struct s2_ctx *ctx, uint64_t pa, uint32_t n, const struct s2_src *src)
{
	struct host_s2 *s2 = ctx->s2;
	struct host_shadow *node = node_of(ctx);
	uint64_t sz = s2_level_size(ctx->level), base = ctx->addr, top = base + n * sz, x[5], x0;
	bool prot = ipa_protected(s2, base);
	uint64_t fid = prot ? RMI_FID_RTT_DATA_MAP : RMI_FID_RTT_UNPROT_MAP;
	int tries = 0, ret;

	if (!node)
		return host_fail(s2->h, -EIO, 0, 0, "no shadow of RTT 0x%" PRIx64, ctx->table_pa);
	if (src) {
		if (!prot)
			return host_fail(s2->h, -EINVAL, 0, 0, "populate is for protected memory");
		return r_map_init(ctx, node, pa, n, src);
	}
	if (prot) {
		ret = host_delegate_runs(s2->h, pa, n * sz / G4K);
		if (ret)
			return ret;
	}
	while (base < top) {
		uint64_t off = base - ctx->addr, first = off / sz;
		uint64_t flags = RMI_ADDR_TYPE_SINGLE;
		uint64_t desc = range_desc(pa + off, ctx->level, (top - base) / sz, prot ? 0 : 1);

		if (!prot)
			flags |= (S2_DESC_MEMATTR_NORMAL_WB >> 2) << RMI_MAP_FLAGS_MEMATTR_SHIFT |
				 (S2_DESC_S2AP_RW >> 6) << RMI_MAP_FLAGS_S2AP_SHIFT;
		if (prot)
			host_rmi_data_map(s2->h, rd_of(s2), base, top, flags, desc, x);
		else
			host_rmi_unprot_map(s2->h, rd_of(s2), base, top, flags, desc, x);
		x0 = sro_finish(s2, fid, x);
		if (RMI_ST(x0) == RMI_ERROR_RTT && tries++ < RTT_RETRIES &&
		    !host_s2_ensure_level(s2, base, ctx->level))
			continue;
		if (RMI_ST(x0) != RMI_SUCCESS || x[1] <= base || x[1] > top || (x[1] - base) % sz)
			return rmi_failed(s2, fid, x0, base);
		for (uint64_t j = 0; j < (x[1] - base) / sz; j++)
			node->e[ctx->idx + first + j] = s2e_leaf(pa + off + j * sz, ctx->level,
								 S2_LEAF_ATTRS | (prot ? 0 : S2_DESC_NS));
		if (prot)
			host_led_move(s2->h, pa + off, (x[1] - base) / G4K, RK_GRANULE_DELEGATED,
				      RK_GRANULE_RMM);
		base = x[1];
	}
	return 0;
}

static int r_leaf_unmap(struct s2_ctx *ctx, uint32_t n)
{
	struct host_s2 *s2 = ctx->s2;
	struct host_shadow *node = node_of(ctx);
	uint64_t sz = s2_level_size(ctx->level), base = ctx->addr, top = base + n * sz, x[5], x0;
	bool prot = ipa_protected(s2, base);
	uint64_t fid = prot ? RMI_FID_RTT_DATA_UNMAP : RMI_FID_RTT_UNPROT_UNMAP;
	int tries = 0, ret = 0;

	if (!node)
		return host_fail(s2->h, -EIO, 0, 0, "no shadow of RTT 0x%" PRIx64, ctx->table_pa);
	while (base < top) {
		uint64_t first = (base - ctx->addr) / sz;
		uint64_t exp_pa = s2e_pa(node->e[ctx->idx + first]), k, rpa, rn;

		if (prot)
			host_rmi_data_unmap(s2->h, rd_of(s2), base, top, RMI_ADDR_TYPE_SINGLE, 0, x);
		else
			host_rmi_unprot_unmap(s2->h, rd_of(s2), base, top, RMI_ADDR_TYPE_NONE, 0, x);
		x0 = sro_finish(s2, fid, x);
		if (RMI_ST(x0) == RMI_ERROR_RTT && tries++ < RTT_RETRIES)
			continue;
		if (RMI_ST(x0) != RMI_SUCCESS || x[1] <= base || x[1] > top || (x[1] - base) % sz)
			return rmi_failed(s2, fid, x0, base);
		k = (x[1] - base) / sz;
		for (uint64_t j = 0; j < k; j++)
			node->e[ctx->idx + first + j] = 0;
		if (prot) {
			uint64_t d = x[2], cnt = (d & RMI_ADDR_RANGE_CNT_MASK) >> RMI_ADDR_RANGE_CNT_SHIFT;
			unsigned int szc =
				(unsigned int)((d & RMI_ADDR_RANGE_SZ_MASK) >> RMI_ADDR_RANGE_SZ_SHIFT);
			rpa = d & RMI_ADDR_RANGE_ADDR_MASK;
			rn = cnt << (9 * szc);
			if (!cnt || rpa != exp_pa || rn * G4K != k * sz ||
			    ((d >> RMI_ADDR_RANGE_ST_SHIFT) & 1)) {
				/* the RMM returned something else: keep only what it says is back */
				s2->h->stats.shadow_mismatches++;
				for (uint64_t g = 0; g < k * sz / G4K; g++) {
					uint64_t a = exp_pa + g * G4K;
					if ((a < rpa || a >= rpa + rn * G4K) &&
					    host_led_state(s2->h, a) == RK_GRANULE_RMM)
						host_leak(s2->h, a, 1, fid, x0);
				}
				if ((d >> RMI_ADDR_RANGE_ST_SHIFT) & 1)
					rn = 0;
			}
			for (uint64_t g = 0; g < rn; g++)
				if (host_led_state(s2->h, rpa + g * G4K) == RK_GRANULE_RMM)
					host_led_move(s2->h, rpa + g * G4K, 1, RK_GRANULE_RMM,
						      RK_GRANULE_DELEGATED);
			/* the data granules go back to their memory slot, undelegated */
			if (host_undelegate_runs(s2->h, rpa, rn))
				ret = -EIO;
		}
		base = x[1];
	}
	return ret;
}

static int r_read(struct s2_ctx *ctx, struct rk_s2_entry *out)
{
	struct host_s2 *s2 = ctx->s2;
	uint64_t x[5], x0, want_kind, desc;

	x0 = host_rmi_rtt_read_entry(s2->h, rd_of(s2), ctx->addr, ctx->level, x);
	if (RMI_ST(x0) != RMI_SUCCESS)
		return rmi_failed(s2, RMI_FID_RTT_READ_ENTRY, x0, ctx->addr);
	memset(out, 0, sizeof(*out));
	out->ipa = ctx->addr;
	out->level = (int32_t)x[1];
	out->ripas = (int32_t)x[4];
	desc = x[3];
	switch (x[2]) {
	case RMI_RTTE_TABLE:
		out->kind = RK_S2_TABLE;
		out->pa = desc & S2_DESC_OA_MASK;
		break;
	case RMI_RTTE_ASSIGNED:
		out->kind = (int)x[1] == S2_MAX_LEVEL ? RK_S2_PAGE : RK_S2_BLOCK;
		out->pa = desc & S2_DESC_OA_MASK;
		break;
	default:
		out->kind = RK_S2_INVALID;
		break;
	}
	if (!s2e_valid(ctx->old))
		want_kind = RK_S2_INVALID;
	else if (s2e_is_table(ctx->old, ctx->level))
		want_kind = RK_S2_TABLE;
	else
		want_kind = ctx->level == S2_MAX_LEVEL ? RK_S2_PAGE : RK_S2_BLOCK;
	if ((int)x[1] != ctx->level || out->kind != want_kind ||
	    (want_kind != RK_S2_INVALID && out->pa != s2e_pa(ctx->old))) {
		out->mismatch = 1;
		s2->h->stats.shadow_mismatches++;
	}
	return 0;
}

static void r_root_free(struct host_s2 *s2)
{
	host_s2_realm_detach(s2);
}

const struct host_s2_ops host_s2_realm_ops = {
	.name = "realm",
	.entries = r_entries,
	.table_create = r_table_create,
	.table_destroy = r_table_destroy,
	.table_fold = r_table_fold,
	.leaf_map = r_leaf_map,
	.leaf_unmap = r_leaf_unmap,
	.read = r_read,
	.root_free = r_root_free,
};
