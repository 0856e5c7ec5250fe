/* SPDX-License-Identifier: MIT */
/*
 * Stage-2 backend of normal VMs: page tables in host memory, VMSAv8-64
 * stage-2 format, written by the host through host_ns_write() (rk_ns_write(),
 * GPT-checked). This backend never issues an RMI command.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "s2.h"

static int n_entries(struct host_s2 *s2, uint64_t table_pa, const uint64_t **out)
{
	uint8_t *p;
	int ret = rk_ns_map(s2->h->m, table_pa, G4K, &p);

	if (ret)
		return host_fail(s2->h, ret, 0, 0, "page table 0x%" PRIx64 " is not host memory", table_pa);
	*out = (const uint64_t *)(const void *)p;
	return 0;
}

static int write_entries(struct host_s2 *s2, uint64_t table_pa, uint32_t idx, const uint64_t *e, uint32_t n)
{
	int ret = host_ns_write(s2->h, table_pa + idx * sizeof(uint64_t), e, n * sizeof(uint64_t));

	return ret ? host_fail(s2->h, ret, 0, 0, "cannot write page table 0x%" PRIx64, table_pa) : 0;
}

static int n_table_create(struct s2_ctx *ctx)
{
	struct host_s2 *s2 = ctx->s2;
	uint64_t child[S2_ENTRIES], pa, e;
	int ret = host_palloc(s2->h, 1, 1, RK_ROLE_S2_TABLE, s2->vm->id, PALLOC_ZERO, &pa);

	if (ret)
		return host_fail(s2->h, ret, 0, 0, "no memory for a page table");
	if (s2e_valid(ctx->old)) {
		host_s2_unfold(ctx->old, ctx->level, child);
		ret = write_entries(s2, pa, 0, child, S2_ENTRIES);
		if (ret) {
			host_pfree(s2->h, pa, 1);
			return ret;
		}
	}
	e = s2e_table(pa);
	ret = write_entries(s2, ctx->table_pa, ctx->idx, &e, 1);
	if (ret) {
		host_pfree(s2->h, pa, 1);
		return ret;
	}
	s2->h->stats.s2_tables++;
	return 0;
}

static int n_table_remove(struct s2_ctx *ctx, uint64_t e)
{
	struct host_s2 *s2 = ctx->s2;
	int ret = write_entries(s2, ctx->table_pa, ctx->idx, &e, 1);

	if (ret)
		return ret;
	/* its entries may have been written: zero it before reuse */
	host_led_dirty(s2->h, s2e_pa(ctx->old), 1, true);
	host_pfree(s2->h, s2e_pa(ctx->old), 1);
	s2->h->stats.s2_tables--;
	return 0;
}

static int n_table_destroy(struct s2_ctx *ctx)
{
	return n_table_remove(ctx, 0);
}

static int n_table_fold(struct s2_ctx *ctx, uint64_t e)
{
	return n_table_remove(ctx, e);
}

/* Copy the contents of the page at ipa from src (zero-filled past its end) to pa. */
static int copy_page(struct host_s2 *s2, const struct s2_src *src, uint64_t ipa, uint64_t pa)
{
	static _Thread_local uint8_t page[G4K];
	uint64_t off = ipa - src->ipa, n = src->len - off < G4K ? src->len - off : G4K;

	memcpy(page, src->buf + off, n);
	memset(page + n, 0, G4K - n);
	return host_ns_write(s2->h, pa, page, G4K);
}

static int n_leaf_map(struct s2_ctx *ctx, uint64_t pa, uint32_t n, const struct s2_src *src)
{
	struct host_s2 *s2 = ctx->s2;
	uint64_t sz = s2_level_size(ctx->level), e[S2_ENTRIES];

	for (uint32_t i = 0; i < n; i++) {
		if (src) {
			for (uint64_t g = 0; g < sz / G4K; g++)
				if (copy_page(s2, src, ctx->addr + i * sz + g * G4K, pa + i * sz + g * G4K))
					return host_fail(s2->h, -EIO, 0, 0, "cannot copy into 0x%" PRIx64,
							 pa);
		}
		e[i] = s2e_leaf(pa + i * sz, ctx->level, S2_LEAF_ATTRS);
	}
	return write_entries(s2, ctx->table_pa, ctx->idx, e, n);
}

static int n_leaf_unmap(struct s2_ctx *ctx, uint32_t n)
{
	uint64_t zero[S2_ENTRIES];

	memset(zero, 0, n * sizeof(uint64_t));
	return write_entries(ctx->s2, ctx->table_pa, ctx->idx, zero, n);
}

static int n_read(struct s2_ctx *ctx, struct rk_s2_entry *out)
{
	memset(out, 0, sizeof(*out));
	out->ipa = ctx->addr;
	out->level = ctx->level;
	out->ripas = -1;
	out->pa = s2e_pa(ctx->old);
	if (!s2e_valid(ctx->old))
		out->kind = RK_S2_INVALID;
	else if (s2e_is_table(ctx->old, ctx->level))
		out->kind = RK_S2_TABLE;
	else
		out->kind = ctx->level == S2_MAX_LEVEL ? RK_S2_PAGE : RK_S2_BLOCK;
	return 0;
}

static void n_root_free(struct host_s2 *s2)
{
	if (!s2->root_pa)
		return;
	host_led_dirty(s2->h, s2->root_pa, s2->nroot, true);
	host_pfree(s2->h, s2->root_pa, s2->nroot);
	s2->root_pa = 0;
}

int host_s2_normal_attach(struct host_s2 *s2)
{
	uint64_t pa;
	int ret = host_palloc(s2->h, s2->nroot, s2->nroot, RK_ROLE_S2_TABLE, s2->vm->id, PALLOC_ZERO, &pa);

	if (ret)
		return host_fail(s2->h, ret, 0, 0, "no memory for %u root page table(s)", s2->nroot);
	s2->root_pa = pa;
	return 0;
}

const struct host_s2_ops host_s2_normal_ops = {
	.name = "normal",
	.entries = n_entries,
	.table_create = n_table_create,
	.table_destroy = n_table_destroy,
	.table_fold = n_table_fold,
	.leaf_map = n_leaf_map,
	.leaf_unmap = n_leaf_unmap,
	.read = n_read,
	.root_free = n_root_free,
};
