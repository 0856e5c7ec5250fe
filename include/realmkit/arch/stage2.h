/* SPDX-License-Identifier: MIT */
/*
 * The VMSAv8-64 stage-2 translation table format for the 4 KiB granule
 * (no FEAT_LPA2): geometry, descriptor types and the block/page attributes.
 * Transcribed from the Arm Architecture Reference Manual for A-profile
 * (Arm DDI 0487), chapter "The AArch64 Virtual Memory System Architecture":
 * "Translation table descriptor formats" (table, block and page descriptors
 * for the 4KB granule), "Stage 2 memory type and Cacheability attributes when
 * FEAT_S2FWB is enabled" (MemAttr), "Stage 2 data access permissions" (S2AP)
 * and "Shareability" (SH); bit 55 is the NS field of a stage-2 block or page
 * descriptor in the Realm EL1&0 translation regime (FEAT_RME).
 *
 * Both stage-2 implementations build on this: the RMM's RTTs (src/rmm/s2tt.h,
 * which adds the RMM's software encodings of invalid entries) and the host's
 * tables and RTT shadow (src/host/s2.h).
 */
#ifndef REALMKIT_ARCH_STAGE2_H
#define REALMKIT_ARCH_STAGE2_H

#include "realmkit/arch/const.h"

/* Geometry (4 KiB granule) */
#define S2_GRANULE_SHIFT 12
#define S2_ENTRIES 512 /* descriptors per table */
#define S2_MIN_LEVEL 0
#define S2_MAX_LEVEL 3
#define S2_MIN_BLOCK_LEVEL 1  /* 1 GiB blocks at level 1, 2 MiB at level 2 */
#define S2_MAX_ROOT_TABLES 16 /* concatenated tables at the initial level */

/* Descriptor type, bits [1:0] */
#define S2_DESC_VALID RK_BIT(0)
#define S2_DESC_TYPE_MASK RK_ULL(3)
#define S2_DESC_TYPE_BLOCK RK_ULL(1) /* levels 1 and 2 */
#define S2_DESC_TYPE_TABLE RK_ULL(3) /* levels 0-2 */
#define S2_DESC_TYPE_PAGE RK_ULL(3)  /* level 3 */

/* Block and page attributes */
#define S2_DESC_MEMATTR_SHIFT 2 /* MemAttr[2:0] with FEAT_S2FWB */
#define S2_DESC_MEMATTR_MASK (RK_ULL(7) << S2_DESC_MEMATTR_SHIFT)
#define S2_MEMATTR_FWB_NORMAL_WB RK_ULL(6) /* Normal, Write-Back (the stage-1 attributes apply) */
#define S2_MEMATTR_FWB_RESERVED RK_ULL(4)  /* 0b100: reserved */
#define S2_DESC_MEMATTR_NORMAL_WB (S2_MEMATTR_FWB_NORMAL_WB << S2_DESC_MEMATTR_SHIFT)
#define S2_DESC_S2AP_SHIFT 6
#define S2_DESC_S2AP_MASK (RK_ULL(3) << S2_DESC_S2AP_SHIFT)
#define S2_DESC_S2AP_R (RK_ULL(1) << S2_DESC_S2AP_SHIFT)
#define S2_DESC_S2AP_W (RK_ULL(2) << S2_DESC_S2AP_SHIFT)
#define S2_DESC_S2AP_RW (S2_DESC_S2AP_R | S2_DESC_S2AP_W)
#define S2_DESC_SH_SHIFT 8
#define S2_DESC_SH_MASK (RK_ULL(3) << S2_DESC_SH_SHIFT)
#define S2_DESC_SH_IS (RK_ULL(3) << S2_DESC_SH_SHIFT) /* Inner Shareable */
#define S2_DESC_AF RK_BIT(10)                         /* access flag */
#define S2_DESC_XN RK_BIT(54)                         /* execute-never (XN[1] = 1: at EL1 and EL0) */
#define S2_DESC_NS RK_BIT(55)                         /* Realm stage 2: output address in the NS PAS */
/* without FEAT_S2FWB (the vCPU engine's Cortex-A72): MemAttr[3:0] = Normal, outer and inner Write-Back */
#define S2_DESC_MEMATTR_NOFWB_NORMAL_WB (RK_ULL(0xf) << S2_DESC_MEMATTR_SHIFT)
#define S2_DESC_OA_MASK RK_ULL(0x0000FFFFFFFFF000) /* output address [47:12] */

#ifndef __ASSEMBLER__
#include <stdint.h>

/* log2 of the size one descriptor at level maps (12, 21, 30, 39). */
static inline unsigned int s2_level_shift(int level)
{
	return S2_GRANULE_SHIFT + 9u * (unsigned int)(S2_MAX_LEVEL - level);
}

/* The size one descriptor at level maps. */
static inline uint64_t s2_level_size(int level)
{
	return 1ULL << s2_level_shift(level);
}
#endif

#endif /* REALMKIT_ARCH_STAGE2_H */
