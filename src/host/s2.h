/* SPDX-License-Identifier: MIT */
/*
 * One stage-2 abstraction for normal VMs and realms, in the style of Linux's
 * kvm_pgtable: one walker (host_s2_walk()) calling visitor callbacks for
 * leaf entries, and for table entries before (TABLE_PRE) and after
 * (TABLE_POST) their subtree; generic visitors for map, unmap, fold, destroy
 * and dump; and two backends that own the tables:
 *
 *   normal  page tables in host memory, VMSAv8-64 stage-2 format, written by
 *           the host through rk_ns_write() (host_ns_write()).
 *   realm   RTTs in realm memory, owned by the RMM and changed only over RMI
 *           (RTT_CREATE, RTT_DATA_MAP_INIT, RTT_DATA_MAP, RTT_UNPROT_MAP,
 *           RTT_DATA_UNMAP, RTT_UNPROT_UNMAP, RTT_DESTROY, RTT_FOLD,
 *           RTT_READ_ENTRY); the walker reads the host's shadow of them,
 *           which the backend updates after each successful command.
 *
 * The walker only reads entries; every change goes through a backend op.
 * Descriptors (page tables and shadow alike): 0 = invalid; table = PA | 3;
 * page (L3) = PA | attrs | 3; block (L1/L2) = PA | attrs | 1.
 */
#ifndef RK_HOST_S2_H
#define RK_HOST_S2_H

#include "host_internal.h"
#include "realmkit/arch/stage2.h"

#define S2_LEAF_ATTRS (S2_DESC_AF | S2_DESC_SH_IS | S2_DESC_S2AP_RW | S2_DESC_MEMATTR_NORMAL_WB)

static inline bool s2e_valid(uint64_t e)
{
	return e & S2_DESC_VALID;
}

static inline bool s2e_is_table(uint64_t e, int level)
{
	return level < S2_MAX_LEVEL && (e & S2_DESC_TYPE_MASK) == S2_DESC_TYPE_TABLE;
}

static inline bool s2e_is_leaf(uint64_t e, int level)
{
	return s2e_valid(e) && !s2e_is_table(e, level);
}

static inline uint64_t s2e_pa(uint64_t e)
{
	return e & S2_DESC_OA_MASK;
}

static inline uint64_t s2e_leaf(uint64_t pa, int level, uint64_t attrs)
{
	return (pa & S2_DESC_OA_MASK) | attrs |
	       (level == S2_MAX_LEVEL ? S2_DESC_TYPE_PAGE : S2_DESC_TYPE_BLOCK);
}

static inline uint64_t s2e_table(uint64_t pa)
{
	return (pa & S2_DESC_OA_MASK) | S2_DESC_TYPE_TABLE;
}

/* Attributes of a leaf: everything but the output address and the type. */
static inline uint64_t s2e_attrs(uint64_t e)
{
	return e & ~(S2_DESC_OA_MASK | S2_DESC_TYPE_MASK);
}

enum s2_visit {
	S2_VISIT_LEAF = 1,       /* a non-table entry (valid or not) */
	S2_VISIT_TABLE_PRE = 2,  /* a table entry, before its subtree */
	S2_VISIT_TABLE_POST = 4, /* a table entry, after its subtree */
};

struct s2_walker;

/* What a visitor sees: one entry, and where it is. */
struct s2_ctx {
	struct host_s2 *s2;
	const struct s2_walker *w;
	const uint64_t *table; /* entries of the table holding it (read-only) */
	uint64_t table_pa;
	uint64_t addr;       /* IPA the entry starts at */
	uint64_t start, end; /* the walked range */
	uint64_t old;        /* the entry when visited */
	uint64_t skip_to;    /* a visitor may move the walk on to this IPA */
	uint32_t idx;
	int32_t level;
};

struct s2_walker {
	int (*cb)(struct s2_ctx *ctx, unsigned int visit);
	void *arg;
	unsigned int flags; /* enum s2_visit */
	unsigned int reserved;
};

/* Contents of a populate: buf holds [ipa, ipa + len). */
struct s2_src {
	const uint8_t *buf;
	uint64_t ipa, len;
	uint32_t measure;
	uint32_t reserved;
};

struct host_s2_ops {
	const char *name;
	/* Read-only view of the 512 entries of the table at table_pa. */
	int (*entries)(struct host_s2 *s2, uint64_t table_pa, const uint64_t **out);
	/* Make the non-table entry at ctx a table at ctx->level + 1 with the same translation. */
	int (*table_create)(struct s2_ctx *ctx);
	/* Remove the (empty) table under the entry at ctx; may set ctx->skip_to. */
	int (*table_destroy)(struct s2_ctx *ctx);
	/* Replace the table under ctx by entry e (a block, or 0). 1: the owner refused. */
	int (*table_fold)(struct s2_ctx *ctx, uint64_t e);
	/* Map n invalid entries from ctx->idx to pa, pa + size, ...; src: contents. */
	int (*leaf_map)(struct s2_ctx *ctx, uint64_t pa, uint32_t n, const struct s2_src *src);
	/* Unmap n valid leaves from ctx->idx (contiguous output addresses). */
	int (*leaf_unmap)(struct s2_ctx *ctx, uint32_t n);
	/* The entry at ctx as its owner reports it. */
	int (*read)(struct s2_ctx *ctx, struct rk_s2_entry *out);
	void (*root_free)(struct host_s2 *s2);
};

extern const struct host_s2_ops host_s2_normal_ops;
extern const struct host_s2_ops host_s2_realm_ops;

/* Start level and number of concatenated root tables for an IPA size (KVM's choice). */
void host_s2_geometry(unsigned int ia_bits, int *start_level, unsigned int *nroot);
void host_s2_init(struct host_s2 *s2, struct rk_vm *vm, const struct host_s2_ops *ops, unsigned int ia_bits);

/* The one walker. Stops at the first visitor error. */
int host_s2_walk(struct host_s2 *s2, uint64_t addr, uint64_t size, const struct s2_walker *w);

/* The operations, all through host_s2_walk(). */
int host_s2_map(struct host_s2 *s2, uint64_t ipa, uint64_t size, const struct s2_src *src, int min_level);
/* Realm: map the unprotected alias ipa with the backing of the private slot under it (shared). */
int host_s2_map_alias(struct host_s2 *s2, uint64_t ipa, uint64_t size, int min_level);
int host_s2_unmap(struct host_s2 *s2, uint64_t ipa, uint64_t size);
int host_s2_fold(struct host_s2 *s2, uint64_t ipa, uint64_t size);
int host_s2_dump(struct host_s2 *s2, uint64_t ipa, uint64_t size, rk_s2_dump_fn fn, void *arg);
/* Does a valid leaf cover any of [ipa, ipa + size)? (tables or shadow only) */
bool host_s2_any_leaf(struct host_s2 *s2, uint64_t ipa, uint64_t size);
/* Tables down to `level` for the entry covering ipa (realm_create_rtt_levels()). */
int host_s2_ensure_level(struct host_s2 *s2, uint64_t ipa, int level);
/* Unmap everything, then destroy every non-root table bottom-up. Goes on after
 * failures; returns the number of failed steps. */
unsigned int host_s2_destroy(struct host_s2 *s2);
/* Leak what the tables still hold (leaves' memory, non-root tables) after a failed teardown. */
void host_s2_sweep_leaks(struct host_s2 *s2, uint64_t fid, uint64_t x0);

/* The 512 entries a table at plevel + 1 needs to translate like `parent` at plevel. */
void host_s2_unfold(uint64_t parent, int plevel, uint64_t child[S2_ENTRIES]);

/* Realm backend: shadow nodes for the root RTTs / drop every shadow node. */
int host_s2_realm_attach(struct host_s2 *s2, rk_rtt_t rtt_base);
void host_s2_realm_detach(struct host_s2 *s2);
/* Normal backend: allocate the root page tables. */
int host_s2_normal_attach(struct host_s2 *s2);

#endif
