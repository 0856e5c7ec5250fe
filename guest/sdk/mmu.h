/* SPDX-License-Identifier: MIT */
/*
 * MMU-on mode of the guest SDK (opt-in): VMSAv8-64 stage-1 tables with the
 * 4 KiB granule and 48-bit VAs (TTBR0 for the low half, TTBR1 for the high
 * half, start level 0), built from a static pool in .bss.
 *
 * rk_mmu_setup() maps the default layout and turns the MMU on:
 *  - identity (TTBR0) of the realm's RAM image, RK_GUEST_RAM_BASE +
 *    RK_GUEST_RAM_SIZE, Normal write-back, EL1 read/write/execute, 4 KiB
 *    pages (so that single pages can change later);
 *  - identity of the whole unprotected half (the UART, shared memory) as
 *    Device-nGnRE, EL1 read/write, never executable, 1 GiB blocks;
 *  - the same RAM again at RK_MMU_HIGH_VA (TTBR1), kernel style:
 *    RK_HIGH_VA(ipa) = 0xffff_0000_0000_0000 + (ipa - RK_GUEST_RAM_BASE).
 * The SDK keeps running at its identity addresses (the vectors, the stacks
 * and every IPA handed to the RMM stay valid), so a payload opts in with one
 * call at the start of main() and everything else works as before.
 *
 * Constants transcribed from the Arm ARM (DDI 0487), "VMSAv8-64 translation
 * table format descriptors", "TCR_EL1", "MAIR_EL1", "SCTLR_EL1".
 */
#ifndef RK_GUEST_MMU_H
#define RK_GUEST_MMU_H

#include <stdbool.h>
#include <stdint.h>

#include "realmkit/guest_abi.h"

struct rk_exc_frame;

/* The high (TTBR1) alias of the RAM image. */
#define RK_MMU_HIGH_VA ((uint64_t)0xffff000000000000ull)
#define RK_HIGH_VA(ipa) (RK_MMU_HIGH_VA - RK_GUEST_RAM_BASE + (uint64_t)(ipa))
#define RK_HIGH_TO_IPA(va) (RK_GUEST_RAM_BASE - RK_MMU_HIGH_VA + (uint64_t)(va))

/* Stage-1 descriptor fields */
#define RK_PTE_VALID (1ull << 0)
#define RK_PTE_TABLE (1ull << 1) /* level 0-2: table; level 3: page */
#define RK_PTE_ATTRIDX(i) ((uint64_t)(i) << 2)
#define RK_PTE_AP_EL0 (1ull << 6) /* AP[1]: EL0 access */
#define RK_PTE_AP_RO (1ull << 7)  /* AP[2]: read-only */
#define RK_PTE_SH_INNER (3ull << 8)
#define RK_PTE_AF (1ull << 10)
#define RK_PTE_PXN (1ull << 53)
#define RK_PTE_UXN (1ull << 54)
#define RK_PTE_ADDR_MASK 0x0000fffffffff000ull

/* MAIR_EL1 attribute indexes the SDK programs */
#define RK_MAIR_NORMAL_WB 0 /* 0xff: Normal, inner/outer write-back, RW-allocate */
#define RK_MAIR_DEVICE 1    /* 0x04: Device-nGnRE */
#define RK_MAIR_NORMAL_NC 2 /* 0x44: Normal, non-cacheable */
#define RK_MAIR_VALUE 0x00000000004404ffull

/* rk_mmu_map() flags: memory type (one of), then access */
#define RK_MAP_NORMAL 0u        /* Normal write-back (default) */
#define RK_MAP_DEVICE (1u << 0) /* Device-nGnRE */
#define RK_MAP_NC (1u << 1)     /* Normal non-cacheable */
#define RK_MAP_RO (1u << 2)     /* read-only (else read/write) */
#define RK_MAP_EXEC (1u << 3)   /* EL1 may execute (else PXN) */
#define RK_MAP_USER (1u << 4)   /* EL0 may access (AP = 01 or 11) */
#define RK_MAP_UEXEC (1u << 5)  /* EL0 may execute (else UXN); needs RK_MAP_USER */
#define RK_MAP_PAGES (1u << 6)  /* 4 KiB pages only, no blocks */

/* Page-table pages available (each 4 KiB, in .bss). */
#define RK_MMU_POOL_PAGES 24

/*
 * Map [va, va + size) to [pa, pa + size): 4 KiB aligned; 1 GiB and 2 MiB
 * blocks where both addresses and the size allow (unless RK_MAP_PAGES).
 * An existing mapping is replaced; a block that is only partly replaced is
 * split into a table (break-before-make). Works with the MMU on or off.
 * 0, -22 (EINVAL: alignment, a VA in neither half), -12 (ENOMEM: pool empty).
 */
int rk_mmu_map(uint64_t va, uint64_t pa, uint64_t size, unsigned flags);
/* Remove [va, va + size) (4 KiB aligned; blocks split as needed), then TLBI. */
int rk_mmu_unmap(uint64_t va, uint64_t size);
/* The level-3 (or block) descriptor that maps va, 0 if none. */
uint64_t rk_mmu_lookup(uint64_t va);

/* Build the default layout (above) and turn the MMU on; 0 or -errno. */
int rk_mmu_setup(void);
/* TTBR0/1, TCR (IPS from ID_AA64MMFR0_EL1.PARange), MAIR, then SCTLR.M|C|I. */
void rk_mmu_enable(void);
/* SCTLR.M|C|I off (the tables stay); VA == IPA again. */
void rk_mmu_disable(void);
bool rk_mmu_enabled(void);
/* Page-table pages used so far. */
unsigned rk_mmu_pool_used(void);

/*
 * Stage-1 translation faults (DFSC/IFSC 0b0001xx, from EL1 or EL0) go to this
 * handler before the payload's synchronous handler; it may map far (e.g. on
 * demand) and return true: the faulting instruction runs again.
 */
typedef bool (*rk_mmu_fault_handler_t)(struct rk_exc_frame *frame, uint64_t esr, uint64_t far);
void rk_mmu_set_fault_handler(rk_mmu_fault_handler_t handler);

#endif
