/* SPDX-License-Identifier: MIT */
/*
 * mmu: the guest's own MMU on top of the realm's stage 2 (needs realmkit's
 * stage-2 vCPU mode, RK_CPU_MODE=stage2).
 *  1. rk_mmu_setup(): RAM identity-mapped (Normal write-back), the
 *     unprotected half identity-mapped (Device-nGnRE: the UART), RAM again at
 *     the high VA 0xffff_0000_0000_0000 (TTBR1); MMU on.
 *  2. Through both mappings: a string printed from its high VA, a word
 *     written through the high VA and read through the identity, a function
 *     called at its high VA. An unaligned load (Normal memory).
 *  3. A load from a VA no table maps: a stage-1 translation fault taken by
 *     the guest at EL1; the SDK's fault hook maps the page on demand and the
 *     load runs again. Then a store to the next page (a level-3 fault), and
 *     the first page unmapped again: the next access faults again.
 *  4. MMU off again: what was written with it on is there.
 */
#include "sdk.h"

#define DEMAND_VA ((uint64_t)0x0000500000000000ull) /* in no table of the default layout */
#define DEMAND_PAGES 2

static uint8_t backing[DEMAND_PAGES][RK_PAGE_SIZE] __attribute__((aligned(4096)));
static volatile uint64_t word = 0x1111111111111111ull;
static const char greeting[] = "mmu: this string was read through its high VA";
static const uint8_t unaligned[16]
	__attribute__((aligned(16))) = { 0, 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01 };
static unsigned faults;

static bool on_fault(struct rk_exc_frame *frame, uint64_t esr, uint64_t far)
{
	uint64_t page = far & ~(uint64_t)(RK_PAGE_SIZE - 1);
	unsigned i = (unsigned)((page - DEMAND_VA) / RK_PAGE_SIZE);

	if (page < DEMAND_VA || i >= DEMAND_PAGES || faults >= 8)
		return false; /* not ours: the default report */
	faults++;
	rk_printf("mmu: stage-1 fault %u: ESR_EL1 0x%lx (EC 0x%x FSC 0x%x%s) FAR_EL1 0x%lx: "
		  "mapping it to 0x%lx\n",
		  faults, esr, esr_ec(esr), esr_fsc(esr), esr & ESR_WNR ? ", write" : "", far,
		  (uint64_t)(uintptr_t)backing[i]);
	return rk_mmu_map(page, (uint64_t)(uintptr_t)backing[i], RK_PAGE_SIZE, RK_MAP_NORMAL) == 0;
}

__attribute__((noinline)) static uint64_t where_am_i(void)
{
	uint64_t pc;

	__asm__ volatile("adr %0, ." : "=r"(pc));
	return pc;
}

int main(void)
{
	uint64_t (*high_fn)(void);
	uint64_t v, pc;
	bool ok = true;
	int ret = rk_mmu_setup();

	if (ret) {
		rk_printf("mmu: rk_mmu_setup failed: %d\n", ret);
		rk_report(RK_GUEST_EX_MMU, false, 0);
		return 0;
	}
	rk_printf("mmu: MMU on (SCTLR_EL1.M %lu), TTBR0_EL1 0x%lx, TTBR1_EL1 0x%lx, %u table pages\n",
		  rk_read_sysreg(sctlr_el1) & 1, rk_read_sysreg(ttbr0_el1), rk_read_sysreg(ttbr1_el1),
		  rk_mmu_pool_used());

	/* the same memory at two VAs */
	rk_printf("%s (0x%lx)\n", (const char *)(uintptr_t)RK_HIGH_VA(greeting),
		  (uint64_t)RK_HIGH_VA(greeting));
	*(volatile uint64_t *)(uintptr_t)RK_HIGH_VA(&word) = 0x2222222222222222ull;
	v = word;
	rk_printf("mmu: wrote 0x2222222222222222 at 0x%lx, read 0x%lx at 0x%lx\n",
		  (uint64_t)RK_HIGH_VA(&word), v, (uint64_t)(uintptr_t)&word);
	ok = ok && v == 0x2222222222222222ull;
	high_fn = (uint64_t(*)(void))(uintptr_t)RK_HIGH_VA(where_am_i);
	pc = high_fn();
	rk_printf("mmu: code called at its high VA ran at PC 0x%lx\n", pc);
	ok = ok && pc >> 48 == 0xffff;

	/* Normal memory: an unaligned 64-bit load is fine (SCTLR_EL1.A = 0) */
	__asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(&unaligned[1]));
	rk_printf("mmu: unaligned load at 0x%lx: 0x%lx\n", (uint64_t)(uintptr_t)&unaligned[1], v);
	ok = ok && v == 0x0123456789abcdefull;

	/* stage-1 faults, handled by the guest */
	*(volatile uint64_t *)backing[0] = 0x5afe5afe5afe5afeull;
	rk_mmu_set_fault_handler(on_fault);
	v = *(volatile uint64_t *)DEMAND_VA;
	rk_printf("mmu: read 0x%lx at 0x%lx after the fault\n", v, DEMAND_VA);
	ok = ok && v == 0x5afe5afe5afe5afeull;
	*(volatile uint64_t *)(DEMAND_VA + RK_PAGE_SIZE + 8) = 0x77;
	v = *(volatile uint64_t *)&backing[1][8];
	rk_printf("mmu: stored 0x77 at 0x%lx: the backing page has 0x%lx\n", DEMAND_VA + RK_PAGE_SIZE + 8, v);
	ok = ok && v == 0x77;
	ret = rk_mmu_unmap(DEMAND_VA, RK_PAGE_SIZE);
	v = *(volatile uint64_t *)DEMAND_VA;
	rk_printf("mmu: unmapped 0x%lx (%d), read it again: 0x%lx\n", DEMAND_VA, ret, v);
	ok = ok && !ret && v == 0x5afe5afe5afe5afeull && faults == 3;

	rk_mmu_disable();
	v = word;
	rk_printf("mmu: MMU off (SCTLR_EL1.M %lu): word 0x%lx, backing 0x%lx\n",
		  rk_read_sysreg(sctlr_el1) & 1, v, *(volatile uint64_t *)&backing[1][8]);
	ok = ok && v == 0x2222222222222222ull && *(volatile uint64_t *)&backing[1][8] == 0x77;

	rk_printf("mmu: %u stage-1 faults handled: %s\n", faults, ok ? "PASS" : "FAIL");
	rk_report(RK_GUEST_EX_MMU, ok, faults);
	return 0;
}
