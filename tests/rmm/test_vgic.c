/* SPDX-License-Identifier: MIT */
/*
 * The RMM's part of the realm's GICv3 virtual CPU interface (src/rmm/vgic.c):
 *  - REC_ENTER's list-register check: HW = 1 or a duplicate vINTID among the
 *    valid LRs is refused, nothing else; LRs beyond ListRegs are not looked at;
 *  - the state taken at entry and given back with En clear.
 * The interface itself (the platform's): tests/platform/test_vcpuif.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "platform/vcpuif.h"
#include "rmm/vgic.h"

#include "ich_util.h"

/* ---- REC_ENTER's check ----------------------------------------------------------- */

static void test_lrs_valid(void **state)
{
	struct plat_ich s = t_ich_on(4);

	(void)state;
	assert_true(vgic_lrs_valid(&s)); /* nothing in use */
	s.lr[0] = G1P(0x80, 27);
	s.lr[1] = G1P(0x80, 28);
	assert_true(vgic_lrs_valid(&s));
	/* HW = 1 in a valid LR, whatever its state */
	for (unsigned int st = ICH_LR_STATE_PENDING; st <= ICH_LR_STATE_PENDING_ACTIVE; st++) {
		s.lr[2] = ICH_LR(st, 1, 0x80, 29) | ICH_LR_HW;
		assert_false(vgic_lrs_valid(&s));
	}
	s.lr[2] = ICH_LR(ICH_LR_STATE_INVALID, 1, 0x80, 29) | ICH_LR_HW; /* invalid: not looked at */
	assert_true(vgic_lrs_valid(&s));
	/* the same vINTID twice among the valid LRs, in any states and groups */
	s.lr[3] = ICH_LR(ICH_LR_STATE_ACTIVE, 0, 0x10, 27);
	assert_false(vgic_lrs_valid(&s));
	s.lr[3] = ICH_LR(ICH_LR_STATE_INVALID, 1, 0x80, 27); /* one of them invalid */
	assert_true(vgic_lrs_valid(&s));
	/* nothing else is refused: EOI, pINTID bits, special and LPI vINTIDs, priority 0xff */
	s.lr[3] = G1P(0xff, 1023) | ICH_LR_EOI | ICH_LR_PINTID_MASK;
	s.lr[2] = ICH_LR(ICH_LR_STATE_ACTIVE, 1, 0, 8192);
	assert_true(vgic_lrs_valid(&s));
	/* LRs beyond ICH_VTR_EL2.ListRegs do not exist */
	s.lr[4] = G1P(0x80, 27) | ICH_LR_HW;
	s.lr[5] = G1P(0x80, 27);
	assert_true(vgic_lrs_valid(&s));
}

static void test_take_give_back(void **state)
{
	struct plat_ich cpu = t_ich_on(4), rec, back;

	(void)state;
	cpu.hcr |= ICH_HCR_UIE | ICH_HCR_TALL1 | (3ULL << ICH_HCR_EOICOUNT_SHIFT);
	cpu.lr[0] = G1P(0x80, 27);
	cpu.ap1r[0] = 0x10;
	vgic_take(&rec, &cpu, 0);
	assert_memory_equal(&rec, &cpu, sizeof(rec));
	vgic_give_back(&back, &rec);
	assert_int_equal(back.hcr, cpu.hcr & ~ICH_HCR_EN); /* only En changes */
	back.hcr = cpu.hcr;
	assert_memory_equal(&back, &cpu, sizeof(back));
	/* no CPU (rk_smc): the reset state, disabled */
	vgic_take(&rec, NULL, plat_ich_vtr(4));
	assert_int_equal(rec.hcr, 0);
	assert_int_equal(rec.vtr, plat_ich_vtr(4));
	assert_false(plat_icv_virq(&rec));
	assert_false(plat_ich_maint(&rec));
	assert_int_equal(t_icv_rd(&rec, ICC_IAR1_EL1), GIC_INTID_SPURIOUS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lrs_valid),
		cmocka_unit_test(test_take_give_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
