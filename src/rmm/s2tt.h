/* SPDX-License-Identifier: MIT */
/*
 * Realm stage-2 translation tables (RTTs) in the VMSAv8-64 descriptor format,
 * 4 KiB granules, levels 0-3, blocks at levels 1 and 2, up to 16 concatenated
 * root tables. Valid descriptors are real stage-2 descriptors; invalid ones
 * (bit 0 clear) carry the RMM's HIPAS/RIPAS bookkeeping:
 *
 *   invalid: [5:3] HIPAS (0 UNASSIGNED, 1 ASSIGNED), [2:1] RIPAS,
 *            [47:12] OA of an ASSIGNED entry, [55] NS (for *_NS types)
 *   valid:   [1:0] 0b01 block / 0b11 page or table, [4:2] MemAttr (FWB),
 *            [7:6] S2AP (R, W), [9:8] SH, [10] AF, [47:12] OA, [55] NS
 *
 * Every RTT command reaches entries through s2tt_walk_lock(): there is no
 * other descent into the tables.
 */
#ifndef RK_RMM_S2TT_H
#define RK_RMM_S2TT_H

#include <stdbool.h>
#include <stdint.h>

#include "realmkit/abi_gen.h"
#include "realmkit/arch/stage2.h"

struct rmm;
struct granule;

/*
 * The RMM's software encoding of an invalid entry (S2_DESC_VALID clear); the
 * valid formats, geometry and attribute bits are realmkit/arch/stage2.h.
 */
#define S2TTE_RIPAS_SHIFT 1
#define S2TTE_RIPAS_MASK (3ULL << S2TTE_RIPAS_SHIFT)
#define S2TTE_HIPAS_SHIFT 3
#define S2TTE_HIPAS_MASK (7ULL << S2TTE_HIPAS_SHIFT)
#define S2TTE_HIPAS_UNASSIGNED 0ULL
#define S2TTE_HIPAS_ASSIGNED 1ULL
/* Bits of an NS descriptor the host controls (RTT_UNPROT_MAP): OA, MemAttr, S2AP. */
#define S2TTE_NS_HOST_MASK (S2_DESC_OA_MASK | S2_DESC_MEMATTR_MASK | S2_DESC_S2AP_MASK)

/* What an entry is (the spec's RTTE states, split by protected/NS half). */
enum s2tte_kind {
	S2TTE_UNASSIGNED,    /* protected IPA, no output address; RIPAS in the entry */
	S2TTE_ASSIGNED,      /* protected IPA with a DATA output address; any RIPAS */
	S2TTE_UNASSIGNED_NS, /* unprotected IPA, not mapped */
	S2TTE_ASSIGNED_NS,   /* unprotected IPA mapped to host (NS) memory */
	S2TTE_TABLE,         /* points to the next-level RTT */
};

static inline bool s2tt_aligned(uint64_t addr, int level)
{
	return (addr & (s2_level_size(level) - 1)) == 0;
}

enum s2tte_kind s2tte_kind(uint64_t e, int level);
enum rmi_ripas s2tte_ripas(uint64_t e, int level); /* S2TTE_(UN)ASSIGNED only */
bool s2tte_is_live(uint64_t e, int level);
/* ASSIGNED_NS entries of the RTT t at level. */
unsigned int s2tt_count_assigned_ns(const uint64_t *t, int level);
/*
 * Whether the RTT t at level (refcount: its live entries, NS ones included)
 * holds entries that keep it from being destroyed by RTT_DESTROY, or, for a
 * root RTT, the realm by REALM_DESTROY: TABLE or ASSIGNED entries. ASSIGNED_NS
 * entries do not: the RTT's destruction drops those mappings (TF-RMM counts no
 * NS mapping in an RTT's refcount; docs/abi-coverage.md, RTT_DESTROY).
 */
bool s2tt_blocks_destroy(const uint64_t *t, uint16_t refcount, int level);

static inline uint64_t s2tte_oa(uint64_t e)
{
	return e & S2_DESC_OA_MASK;
}

uint64_t s2tte_unassigned(enum rmi_ripas ripas);
uint64_t s2tte_unassigned_ns(void);
uint64_t s2tte_assigned(uint64_t pa, int level, enum rmi_ripas ripas);
uint64_t s2tte_assigned_ns(uint64_t host_desc, int level);
uint64_t s2tte_table(uint64_t pa);

/* Stage-2 geometry of a realm (from its RD). */
struct s2tt_ctx {
	uint64_t rtt_base;  /* PA of the first root RTT */
	uint8_t s2sz;       /* IPA width */
	int8_t start_level; /* level of the root tables */
	uint8_t num_root;   /* concatenated root tables */
	uint8_t reserved;
	uint32_t reserved2; /* no tail padding (pahole) */
};

static inline uint64_t s2tt_ipa_limit(const struct s2tt_ctx *c)
{
	return 1ULL << c->s2sz;
}

/* Protected (PAR) half: IPA bit s2sz-1 clear. */
static inline bool s2tt_ipa_protected(const struct s2tt_ctx *c, uint64_t ipa)
{
	return ipa < (1ULL << (c->s2sz - 1));
}

/* Result of a walk: the locked table holding the entry at `level` for the IPA. */
struct rtt_walk {
	struct granule *g; /* locked RTT granule */
	uint64_t *table;   /* its entries */
	unsigned int idx;  /* index of the entry within table */
	int level;         /* level of that entry (the level the walk reached) */
};

/*
 * The one walker. Locks the root RTT covering ipa and descends hand over hand
 * (locking rule L3) towards target_level, stopping early at the first entry
 * that is not a table. On return exactly one RTT (w->g) is locked.
 * ipa must be < 2^s2sz and target_level in [start_level, 3].
 */
void s2tt_walk_lock(struct rmm *rmm, const struct s2tt_ctx *c, uint64_t ipa, int target_level,
		    struct rtt_walk *w);

/* Index within the table at `level` of the entry covering ipa (root: per-granule). */
unsigned int s2tt_index(const struct s2tt_ctx *c, uint64_t ipa, int level);

/* IPA of entry idx of the table that covers ipa at `level`. */
static inline uint64_t s2tt_entry_ipa(uint64_t ipa, int level, unsigned int idx)
{
	uint64_t table_span = s2_level_size(level) * S2_ENTRIES;

	return (ipa & ~(table_span - 1)) + (uint64_t)idx * s2_level_size(level);
}

/* Number of root RTTs and validity of a start level for an IPA width. */
bool s2tt_geometry_valid(unsigned int s2sz, int start_level, unsigned int num_root, unsigned int pa_bits);

#endif
