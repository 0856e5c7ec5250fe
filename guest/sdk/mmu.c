/* SPDX-License-Identifier: MIT */
/* MMU-on mode: stage-1 tables, enable/disable, translation-fault hook (mmu.h). */
#include "sdk.h"

#define ENTRIES 512u
#define VA_MASK ((1ull << 48) - 1)
#define LEVEL_SHIFT(l) (12u + 9u * (3u - (unsigned)(l)))
#define LEVEL_SIZE(l) (1ull << LEVEL_SHIFT(l))
#define ATTR_MASK (~RK_PTE_ADDR_MASK & ~3ull) /* lower and upper attributes of a leaf */

/* SCTLR_EL1 bits the SDK sets: M (MMU), C (data cacheable), I (instructions cacheable); and clears. */
#define SCTLR_M (1ull << 0)
#define SCTLR_C (1ull << 2)
#define SCTLR_I (1ull << 12)
#define SCTLR_A (1ull << 1)    /* alignment check: off, Normal memory takes unaligned accesses */
#define SCTLR_WXN (1ull << 19) /* write implies XN: off */

/* TCR_EL1: 48-bit VAs in both halves (T0SZ = T1SZ = 16), 4 KiB granules, table walks
 * inner shareable write-back; IPS from ID_AA64MMFR0_EL1.PARange (at most 48 bits). */
#define TCR_T0SZ(n) ((uint64_t)(n) << 0)
#define TCR_IRGN0_WBWA (1ull << 8)
#define TCR_ORGN0_WBWA (1ull << 10)
#define TCR_SH0_INNER (3ull << 12)
#define TCR_TG0_4K (0ull << 14)
#define TCR_T1SZ(n) ((uint64_t)(n) << 16)
#define TCR_IRGN1_WBWA (1ull << 24)
#define TCR_ORGN1_WBWA (1ull << 26)
#define TCR_SH1_INNER (3ull << 28)
#define TCR_TG1_4K (2ull << 30)
#define TCR_IPS_SHIFT 32
#define TCR_EPD0 (1ull << 7) /* no walks for the half without tables */
#define TCR_EPD1 (1ull << 23)

extern char __end[];

static uint64_t pool[RK_MMU_POOL_PAGES][ENTRIES] __attribute__((aligned(4096), section(".bss.rk_pgtables")));
static unsigned pool_used;
static uint64_t *roots[2]; /* TTBR0, TTBR1 */
static rk_spinlock_t mmu_lock;
static rk_mmu_fault_handler_t fault_handler;

bool rk_mmu_enabled(void)
{
	return rk_read_sysreg(sctlr_el1) & SCTLR_M;
}

unsigned rk_mmu_pool_used(void)
{
	return pool_used;
}

static void tlbi_all(void)
{
	__asm__ volatile("dsb ishst\n\ttlbi vmalle1is\n\tdsb ish\n\tisb" ::: "memory");
}

/*
 * Write one descriptor. With this vCPU's MMU off, data accesses do not go
 * through the caches while table walks do (TCR: write-back walks): clean and
 * invalidate the line so that the walker reads what was written.
 */
static void set_entry(uint64_t *e, uint64_t v)
{
	*(volatile uint64_t *)e = v;
	if (!rk_mmu_enabled())
		__asm__ volatile("dc civac, %0" ::"r"(e) : "memory");
	__asm__ volatile("dsb ishst" ::: "memory");
}

static uint64_t *alloc_table(void)
{
	uint64_t *t;

	if (pool_used >= RK_MMU_POOL_PAGES)
		return NULL;
	t = pool[pool_used++];
	for (unsigned i = 0; i < ENTRIES; i++) /* .pgtables is not cleared at start-up */
		set_entry(&t[i], 0);
	return t;
}

static uint64_t *table_of(uint64_t desc)
{
	return (uint64_t *)(uintptr_t)(desc & RK_PTE_ADDR_MASK);
}

static uint64_t leaf_attrs(unsigned flags)
{
	uint64_t a = RK_PTE_AF;

	if (flags & RK_MAP_DEVICE)
		a |= RK_PTE_ATTRIDX(RK_MAIR_DEVICE);
	else if (flags & RK_MAP_NC)
		a |= RK_PTE_ATTRIDX(RK_MAIR_NORMAL_NC) | RK_PTE_SH_INNER;
	else
		a |= RK_PTE_ATTRIDX(RK_MAIR_NORMAL_WB) | RK_PTE_SH_INNER;
	if (flags & RK_MAP_RO)
		a |= RK_PTE_AP_RO;
	if (flags & RK_MAP_USER)
		a |= RK_PTE_AP_EL0;
	if (!(flags & RK_MAP_EXEC) || (flags & RK_MAP_DEVICE))
		a |= RK_PTE_PXN;
	if (!(flags & RK_MAP_UEXEC) || !(flags & RK_MAP_USER) || (flags & RK_MAP_DEVICE))
		a |= RK_PTE_UXN;
	return a;
}

/* Replace the live block *e (level l) by a table of the next level mapping the same. */
static int split_block(uint64_t *e, unsigned level)
{
	uint64_t old = *e, sub = LEVEL_SIZE(level + 1), *t = alloc_table();

	if (!t)
		return -12;
	for (unsigned i = 0; i < ENTRIES; i++)
		set_entry(&t[i], ((old & RK_PTE_ADDR_MASK) + i * sub) | (old & ATTR_MASK) | RK_PTE_VALID |
					 (level + 1 == 3 ? RK_PTE_TABLE : 0));
	set_entry(e, 0); /* break-before-make */
	tlbi_all();
	set_entry(e, (uint64_t)(uintptr_t)t | RK_PTE_VALID | RK_PTE_TABLE);
	return 0;
}

/* Map (attr != 0) or unmap (attr == 0) [va, va + size) of a 48-bit half at this table. */
static int walk(uint64_t *table, unsigned level, uint64_t va, uint64_t pa, uint64_t size, uint64_t attr,
		bool blocks, bool *flush)
{
	while (size) {
		uint64_t bsz = LEVEL_SIZE(level), n = bsz - (va & (bsz - 1));
		uint64_t *e = &table[(va >> LEVEL_SHIFT(level)) & (ENTRIES - 1)];
		int ret;

		if (n > size)
			n = size;
		if (level == 3 || (level >= 1 && n == bsz && (!attr || (blocks && !(pa & (bsz - 1)))))) {
			uint64_t d = attr ? pa | attr | RK_PTE_VALID | (level == 3 ? RK_PTE_TABLE : 0) : 0;

			if ((*e & RK_PTE_VALID) && *e != d) {
				set_entry(e, 0); /* break-before-make; a table replaced stays in the pool */
				*flush = true;
				if (d)
					tlbi_all();
			}
			if (d)
				set_entry(e, d);
		} else {
			if (!(*e & RK_PTE_VALID)) {
				uint64_t *t;

				if (!attr)
					goto next;
				t = alloc_table();
				if (!t)
					return -12;
				set_entry(e, (uint64_t)(uintptr_t)t | RK_PTE_VALID | RK_PTE_TABLE);
			} else if (!(*e & RK_PTE_TABLE)) {
				ret = split_block(e, level);
				if (ret)
					return ret;
			}
			ret = walk(table_of(*e), level + 1, va, pa, n, attr, blocks, flush);
			if (ret)
				return ret;
		}
next:
		va += n;
		pa += n;
		size -= n;
	}
	return 0;
}

/* The root for va (allocated on first use) and va's offset in its half; NULL: neither half. */
static uint64_t *root_for(uint64_t va, bool alloc)
{
	unsigned half;

	if (va <= VA_MASK)
		half = 0;
	else if (va >= RK_MMU_HIGH_VA)
		half = 1;
	else
		return NULL;
	if (!roots[half] && alloc)
		roots[half] = alloc_table();
	return roots[half];
}

static int map_or_unmap(uint64_t va, uint64_t pa, uint64_t size, uint64_t attr, bool blocks)
{
	uint64_t *root;
	bool flush = false;
	int ret;

	if ((va | pa | size) & (RK_PAGE_SIZE - 1) || !size || ((va + size - 1) & ~VA_MASK) != (va & ~VA_MASK))
		return -22;
	rk_spin_lock(&mmu_lock);
	root = root_for(va, attr != 0);
	if (!root)
		ret = attr && (va > VA_MASK && va < RK_MMU_HIGH_VA) ? -22 : attr ? -12 : 0;
	else
		ret = walk(root, 0, va & VA_MASK, pa, size, attr, blocks, &flush);
	if (flush || !attr)
		tlbi_all();
	__asm__ volatile("dsb ish\n\tisb" ::: "memory");
	rk_spin_unlock(&mmu_lock);
	return ret;
}

int rk_mmu_map(uint64_t va, uint64_t pa, uint64_t size, unsigned flags)
{
	return map_or_unmap(va, pa, size, leaf_attrs(flags), !(flags & RK_MAP_PAGES));
}

int rk_mmu_unmap(uint64_t va, uint64_t size)
{
	if (va > VA_MASK && va < RK_MMU_HIGH_VA)
		return -22;
	return map_or_unmap(va, 0, size, 0, false);
}

uint64_t rk_mmu_lookup(uint64_t va)
{
	uint64_t *t = root_for(va, false), e = 0;

	for (unsigned level = 0; t && level <= 3; level++) {
		e = t[((va & VA_MASK) >> LEVEL_SHIFT(level)) & (ENTRIES - 1)];
		if (!(e & RK_PTE_VALID))
			return 0;
		if (level == 3 || !(e & RK_PTE_TABLE))
			return e;
		t = table_of(e);
	}
	return 0;
}

void rk_mmu_enable(void)
{
	uint64_t ips = rk_read_sysreg(id_aa64mmfr0_el1) & 0xf, sctlr;
	uint64_t tcr = TCR_T0SZ(16) | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | TCR_SH0_INNER | TCR_TG0_4K |
		       TCR_T1SZ(16) | TCR_IRGN1_WBWA | TCR_ORGN1_WBWA | TCR_SH1_INNER | TCR_TG1_4K;

	if (ips > 5)
		ips = 5; /* 48 bits: no 52-bit output addresses with these descriptors */
	tcr |= ips << TCR_IPS_SHIFT | (roots[0] ? 0 : TCR_EPD0) | (roots[1] ? 0 : TCR_EPD1);
	__asm__ volatile("msr mair_el1, %0\n\t"
			 "msr ttbr0_el1, %1\n\t"
			 "msr ttbr1_el1, %2\n\t"
			 "msr tcr_el1, %3\n\t"
			 "isb\n\t"
			 "tlbi vmalle1\n\t"
			 "dsb nsh\n\t"
			 "isb" ::"r"(RK_MAIR_VALUE),
			 "r"((uint64_t)(uintptr_t)roots[0]), "r"((uint64_t)(uintptr_t)roots[1]), "r"(tcr)
			 : "memory");
	sctlr = (rk_read_sysreg(sctlr_el1) & ~(SCTLR_A | SCTLR_WXN)) | SCTLR_M | SCTLR_C | SCTLR_I;
	__asm__ volatile("msr sctlr_el1, %0\n\tisb" ::"r"(sctlr) : "memory");
}

void rk_mmu_disable(void)
{
	uint64_t line = 4ull << ((rk_read_sysreg(ctr_el0) >> 16) & 0xf), sctlr;

	/* dirty lines must reach memory before accesses stop using the caches */
	for (uint64_t a = RK_GUEST_RAM_BASE; a < (uint64_t)(uintptr_t)__end; a += line)
		__asm__ volatile("dc civac, %0" ::"r"(a) : "memory");
	__asm__ volatile("dsb sy" ::: "memory");
	sctlr = rk_read_sysreg(sctlr_el1) & ~(SCTLR_M | SCTLR_C | SCTLR_I);
	__asm__ volatile("msr sctlr_el1, %0\n\tisb\n\tic iallu\n\tdsb nsh\n\tisb" ::"r"(sctlr) : "memory");
}

int rk_mmu_setup(void)
{
	/* the unprotected half, at most its first 512 GiB (one level-1 table of 1 GiB blocks) */
	uint64_t unprot = RK_GUEST_UNPROT_BASE < (1ull << 39) ? RK_GUEST_UNPROT_BASE : 1ull << 39;
	int ret;

	if (!rk_mmu_enabled()) {
		ret = rk_mmu_map(RK_GUEST_RAM_BASE, RK_GUEST_RAM_BASE, RK_GUEST_RAM_SIZE,
				 RK_MAP_EXEC | RK_MAP_PAGES);
		if (!ret)
			ret = rk_mmu_map(RK_GUEST_UNPROT_BASE, RK_GUEST_UNPROT_BASE, unprot, RK_MAP_DEVICE);
		if (!ret)
			ret = rk_mmu_map(RK_MMU_HIGH_VA, RK_GUEST_RAM_BASE, RK_GUEST_RAM_SIZE,
					 RK_MAP_EXEC | RK_MAP_PAGES);
		if (ret)
			return ret;
	}
	rk_mmu_enable();
	return 0;
}

void rk_mmu_set_fault_handler(rk_mmu_fault_handler_t handler)
{
	fault_handler = handler;
}

/* From rk_exception_dispatch(): a stage-1 translation fault the payload's handler may fix. */
bool rk_mmu_fault(struct rk_exc_frame *frame, uint64_t esr, uint64_t far)
{
	unsigned ec = esr_ec(esr);

	if (!fault_handler || (esr_fsc(esr) & 0x3c) != ESR_FSC_TRANS(0))
		return false;
	if (ec != ESR_EC_DABT_CUR && ec != ESR_EC_IABT_CUR && ec != ESR_EC_DABT_LOW && ec != ESR_EC_IABT_LOW)
		return false;
	return fault_handler(frame, esr, far);
}
