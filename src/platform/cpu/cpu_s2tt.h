/* SPDX-License-Identifier: MIT */
/*
 * The CPU backend's shadow stage 2: VMSAv8-64 stage-2 translation tables
 * (4 KiB granule, 44-bit IPA, start level 0) that the engine walks itself
 * (VTTBR_EL2), in a pool of pages the backend owns and maps into the engine's
 * physical address space. Filled from rk_cpu_map() (the RMM's answer to a
 * stage-2 fault, after its RTT and GPT checks), emptied by rk_cpu_unmap().
 * Pure table code: no engine calls; the caller flushes the engine's TLB after
 * a change that removes or narrows a mapping.
 */
#ifndef RK_PLATFORM_CPU_S2TT_H
#define RK_PLATFORM_CPU_S2TT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "realmkit/arch/stage2.h"

#define RK_S2TT_IPA_BITS 44u
#define RK_S2TT_PAGE 4096ull

/* Stage-2 descriptor bits: include/realmkit/arch/stage2.h */
#define RK_S2TT_VALID S2_DESC_VALID
#define RK_S2TT_TABLE RK_BIT(1) /* levels 0-2: table; level 3: page */
#define RK_S2TT_MEMATTR_WB S2_DESC_MEMATTR_NOFWB_NORMAL_WB
#define RK_S2TT_S2AP_R S2_DESC_S2AP_R
#define RK_S2TT_S2AP_W S2_DESC_S2AP_W
#define RK_S2TT_SH_IS S2_DESC_SH_IS
#define RK_S2TT_AF S2_DESC_AF
#define RK_S2TT_XN S2_DESC_XN
#define RK_S2TT_OA_MASK S2_DESC_OA_MASK

/* Protection for rk_s2tt_map (the values of RK_CPU_PROT_*). */
#define RK_S2TT_PROT_R 1u
#define RK_S2TT_PROT_W 2u
#define RK_S2TT_PROT_X 4u

struct rk_s2tt {
	uint8_t *pool;    /* pool_pages pages; page 0 is the root table */
	uint64_t pool_pa; /* the pool's address in the engine's PA space */
	size_t pool_pages;
	size_t first;     /* first page handed out as a table */
	size_t next;      /* bump allocator */
	size_t free_head; /* freed tables (index, 0 = none), linked through word 0 */
	size_t tables;    /* tables in use (excluding the root) */
};

/*
 * Set up an empty stage 2 over pool (pool_pages pages of zeroed memory, page
 * aligned), which the engine sees at pool_pa. Pages [0, reserved) are not
 * used (page 0 must be among them: it is the root). reserved >= 1.
 */
void rk_s2tt_init(struct rk_s2tt *t, uint8_t *pool, uint64_t pool_pa, size_t pool_pages, size_t reserved);

/* VTTBR_EL2.BADDR (the root's PA). */
static inline uint64_t rk_s2tt_root_pa(const struct rk_s2tt *t)
{
	return t->pool_pa;
}

/*
 * Map IPA [ipa, ipa + size) to PA [pa, pa + size) with prot (RK_S2TT_PROT_*,
 * at least R or W or X). Page aligned; uses 1 GiB and 2 MiB blocks where IPA
 * and PA are both aligned. Entries already valid in the range are replaced.
 * Returns 0, -EINVAL (alignment, range beyond the IPA or PA space) or -ENOSPC
 * (the pool is full; what was mapped before the failure stays mapped).
 */
int rk_s2tt_map(struct rk_s2tt *t, uint64_t ipa, uint64_t size, uint64_t pa, unsigned prot);

/*
 * Invalidate every entry in [ipa, ipa + size) (a block partly inside is split).
 * Returns 0, -EINVAL, or -ENOSPC (a split needed a table the pool does not
 * have: the range is then only partly unmapped; the caller must rebuild the
 * tables from its own record of the mappings). *removed is set if a valid
 * entry was removed or narrowed (the engine's TLB must then be flushed).
 */
int rk_s2tt_unmap(struct rk_s2tt *t, uint64_t ipa, uint64_t size, bool *removed);

/* Remove every mapping and give all tables back. */
void rk_s2tt_reset(struct rk_s2tt *t);

/*
 * Look up ipa: true and *pa, *prot, *level if mapped (for tests and the
 * backend's instruction fetch).
 */
bool rk_s2tt_lookup(const struct rk_s2tt *t, uint64_t ipa, uint64_t *pa, unsigned *prot, int *level);

#endif /* RK_PLATFORM_CPU_S2TT_H */
