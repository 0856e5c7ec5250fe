/* SPDX-License-Identifier: MIT */
/*
 * The GICv3 virtual CPU interface as a guest sees it (src/platform/vcpuif.c)
 * on its own, and the computed ICH registers it drives (src/platform/gic.c):
 *  - acknowledge (ICC_IAR1): highest priority first, ties to the lowest LR,
 *    above ICC_PMR and the running priority only, group enable, En; special
 *    vINTIDs; HPPIR;
 *  - EOI and deactivation: priority drop, EOImode 0 and 1 (ICC_DIR), EOIcount
 *    for an interrupt no LR holds, nothing when nothing is active;
 *  - binary points (preemption by group priority, minimums, CBPR), PMR's
 *    implemented bits, ICC_CTLR, ICC_SRE, ICC_AP1R, ICC_RPR;
 *  - traps to EL2 (SGIs always; TC, TALL0/1, TDIR) and UNDEFINED accesses;
 *  - maintenance: MISR EOI/U/LRENP/NP/VGrp*, EISR, ELRSR, list-register
 *    overflow (the host refills when underflow says so);
 *  - the virtual IRQ line; which encodings are the interface's.
 * The RMM's part (REC_ENTER's check, take and give back): tests/rmm/test_vgic.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "platform/vcpuif.h"

#include "ich_util.h"

/* ---- acknowledge ---------------------------------------------------------------- */

static void test_iar_priority_order(void **state)
{
	struct plat_ich s = t_ich_on(4);

	(void)state;
	s.lr[0] = G1P(0xa0, 40);
	s.lr[1] = G1P(0x80, 41);
	s.lr[2] = G1P(0x80, 42); /* same priority, higher index */
	s.lr[3] = G1P(0xc0, 43);
	assert_true(plat_icv_virq(&s));
	assert_int_equal(t_icv_rd(&s, ICC_HPPIR1_EL1), 41);
	assert_int_equal(t_icv_rd(&s, ICC_RPR_EL1), 0xff);
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), 41);
	assert_int_equal(ich_lr_state(s.lr[1]), ICH_LR_STATE_ACTIVE);
	assert_int_equal(s.ap1r[0], 1u << (0x80 >> 3));
	assert_int_equal(t_icv_rd(&s, ICC_RPR_EL1), 0x80);
	/* nothing of lower or equal priority preempts the running one */
	assert_false(plat_icv_virq(&s));
	assert_int_equal(t_icv_rd(&s, ICC_HPPIR1_EL1), 42); /* HPPIR ignores the running priority */
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), GIC_INTID_SPURIOUS);
	assert_int_equal(ich_lr_state(s.lr[2]), ICH_LR_STATE_PENDING);
	/* EOI (EOImode 0): drop and deactivate; then 42, 40, 43 in priority order */
	t_icv_wr(&s, ICC_EOIR1_EL1, 41);
	assert_int_equal(ich_lr_state(s.lr[1]), ICH_LR_STATE_INVALID);
	assert_int_equal(s.ap1r[0], 0);
	assert_int_equal(t_icv_rd(&s, ICC_RPR_EL1), 0xff);
	unsigned int want[] = { 42, 40, 43 };
	for (unsigned int k = 0; k < 3; k++) {
		assert_true(plat_icv_virq(&s));
		uint64_t id = t_icv_rd(&s, ICC_IAR1_EL1);
		assert_int_equal(id, want[k]);
		t_icv_wr(&s, ICC_EOIR1_EL1, id);
	}
	assert_false(plat_icv_virq(&s));
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), GIC_INTID_SPURIOUS);
	assert_int_equal(plat_ich_elrsr(&s), 0xf); /* every LR free */
}

static void test_iar_preemption_nested(void **state)
{
	struct plat_ich s = t_ich_on(4);

	(void)state;
	s.lr[0] = G1P(0xa0, 50);
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), 50);
	/* a higher-priority interrupt arrives: it preempts the running one */
	s.lr[1] = G1P(0x80, 51);
	assert_true(plat_icv_virq(&s));
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), 51);
	assert_int_equal(t_icv_rd(&s, ICC_RPR_EL1), 0x80);
	assert_int_equal(s.ap1r[0], (1u << (0xa0 >> 3)) | (1u << (0x80 >> 3)));
	/* its EOI drops to the outer one's priority */
	t_icv_wr(&s, ICC_EOIR1_EL1, 51);
	assert_int_equal(t_icv_rd(&s, ICC_RPR_EL1), 0xa0);
	assert_int_equal(ich_lr_state(s.lr[0]), ICH_LR_STATE_ACTIVE);
	t_icv_wr(&s, ICC_EOIR1_EL1, 50);
	assert_int_equal(t_icv_rd(&s, ICC_RPR_EL1), 0xff);
	assert_int_equal(plat_ich_elrsr(&s), 0xf);
}

static void test_iar_masks(void **state)
{
	struct plat_ich s = t_ich_on(4);

	(void)state;
	s.lr[0] = G1P(0x80, 60);
	/* PMR: only a priority strictly above it (numerically lower) is signalled */
	t_icv_wr(&s, ICC_PMR_EL1, 0x80);
	assert_false(plat_icv_virq(&s));
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), GIC_INTID_SPURIOUS);
	assert_int_equal(t_icv_rd(&s, ICC_HPPIR1_EL1), 60); /* still the highest pending */
	t_icv_wr(&s, ICC_PMR_EL1, 0x8f);                    /* 5 bits: reads 0x88 */
	assert_int_equal(t_icv_rd(&s, ICC_PMR_EL1), 0x88);
	assert_int_equal((s.vmcr & ICH_VMCR_VPMR_MASK) >> ICH_VMCR_VPMR_SHIFT, 0x88);
	assert_true(plat_icv_virq(&s));
	/* Group 1 disabled */
	t_icv_wr(&s, ICC_IGRPEN1_EL1, 0);
	assert_int_equal(t_icv_rd(&s, ICC_IGRPEN1_EL1), 0);
	assert_int_equal(s.vmcr & ICH_VMCR_VENG1, 0);
	assert_false(plat_icv_virq(&s));
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), GIC_INTID_SPURIOUS);
	assert_int_equal(t_icv_rd(&s, ICC_HPPIR1_EL1), GIC_INTID_SPURIOUS);
	t_icv_wr(&s, ICC_IGRPEN1_EL1, 1);
	/* the interface off (ICH_HCR_EL2.En = 0) */
	s.hcr &= ~ICH_HCR_EN;
	assert_false(plat_icv_virq(&s));
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), GIC_INTID_SPURIOUS);
	s.hcr |= ICH_HCR_EN;
	/* a pending+active LR is not acknowledged again (it is active) */
	s.lr[0] = ICH_LR(ICH_LR_STATE_PENDING_ACTIVE, 1, 0x80, 60);
	assert_false(plat_icv_virq(&s));
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), GIC_INTID_SPURIOUS);
	/* priority 0xff is never above any mask */
	s.lr[0] = G1P(0xff, 60);
	t_icv_wr(&s, ICC_PMR_EL1, 0xff);
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), GIC_INTID_SPURIOUS);
}

static void test_groups(void **state)
{
	struct plat_ich s = t_ich_on(4);

	(void)state;
	s.vmcr |= ICH_VMCR_VENG0;
	s.lr[0] = G0P(0x40, 70);
	s.lr[1] = G1P(0x80, 71);
	/* the highest pending is Group 0: IAR1 and HPPIR1 see nothing, no vIRQ (vFIQ not signalled) */
	assert_false(plat_icv_virq(&s));
	assert_int_equal(t_icv_rd(&s, ICC_HPPIR1_EL1), GIC_INTID_SPURIOUS);
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), GIC_INTID_SPURIOUS);
	assert_int_equal(t_icv_rd(&s, ICC_HPPIR0_EL1), 70);
	assert_int_equal(t_icv_rd(&s, ICC_IAR0_EL1), 70);
	assert_int_equal(s.ap0r[0], 1u << (0x40 >> 3));
	assert_int_equal(s.ap1r[0], 0);
	/* Group 1 at 0x80 cannot preempt Group 0 running at 0x40 */
	assert_false(plat_icv_virq(&s));
	t_icv_wr(&s, ICC_EOIR0_EL1, 70);
	assert_int_equal(ich_lr_state(s.lr[0]), ICH_LR_STATE_INVALID);
	assert_true(plat_icv_virq(&s));
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), 71);
	/* EOIR1 of a Group 0 interrupt: the priority drops, the LR stays active */
	s.lr[0] = G0P(0x20, 72);
	assert_int_equal(t_icv_rd(&s, ICC_IAR0_EL1), 72);
	t_icv_wr(&s, ICC_EOIR1_EL1, 72); /* drops 0x20 (the highest active) */
	assert_int_equal(s.ap0r[0], 0);
	assert_int_equal(ich_lr_state(s.lr[0]), ICH_LR_STATE_ACTIVE);
	assert_int_equal(t_icv_rd(&s, ICC_RPR_EL1), 0x80);
}

static void test_special_vintid(void **state)
{
	struct plat_ich s = t_ich_on(4);

	(void)state;
	s.lr[0] = G1P(0x80, 1020);
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), 1020);
	assert_int_equal(ich_lr_state(s.lr[0]), ICH_LR_STATE_INVALID); /* not activated */
	assert_int_equal(s.ap1r[0], 0);
	/* an EOI of a special INTID does nothing (no drop) */
	s.lr[1] = G1P(0x80, 80);
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), 80);
	t_icv_wr(&s, ICC_EOIR1_EL1, GIC_INTID_SPURIOUS);
	assert_int_equal(s.ap1r[0], 1u << (0x80 >> 3));
	assert_int_equal(ich_lr_state(s.lr[1]), ICH_LR_STATE_ACTIVE);
}

/* ---- EOI, deactivation, EOIcount ---------------------------------------------------- */

static void test_eoimode1_dir(void **state)
{
	struct plat_ich s = t_ich_on(4);

	(void)state;
	t_icv_wr(&s, ICC_CTLR_EL1, ICC_CTLR_EOIMODE);
	assert_true(s.vmcr & ICH_VMCR_VEOIM);
	s.lr[0] = G1P(0x80, 90);
	s.lr[1] = G1P(0x90, 91);
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), 90);
	/* EOImode 1: EOIR only drops the priority */
	t_icv_wr(&s, ICC_EOIR1_EL1, 90);
	assert_int_equal(t_icv_rd(&s, ICC_RPR_EL1), 0xff);
	assert_int_equal(ich_lr_state(s.lr[0]), ICH_LR_STATE_ACTIVE);
	/* the next one can be taken while 90 is still active */
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), 91);
	t_icv_wr(&s, ICC_EOIR1_EL1, 91);
	/* DIR deactivates */
	t_icv_wr(&s, ICC_DIR_EL1, 90);
	assert_int_equal(ich_lr_state(s.lr[0]), ICH_LR_STATE_INVALID);
	assert_int_equal(ich_lr_state(s.lr[1]), ICH_LR_STATE_ACTIVE);
	t_icv_wr(&s, ICC_DIR_EL1, 91);
	assert_int_equal(ich_lr_state(s.lr[1]), ICH_LR_STATE_INVALID);
	assert_int_equal(s.hcr & ICH_HCR_EOICOUNT_MASK, 0);
	/* DIR of an interrupt no LR holds: EOIcount */
	t_icv_wr(&s, ICC_DIR_EL1, 99);
	assert_int_equal((s.hcr & ICH_HCR_EOICOUNT_MASK) >> ICH_HCR_EOICOUNT_SHIFT, 1);
	/* EOImode 0: DIR is ignored */
	t_icv_wr(&s, ICC_CTLR_EL1, 0);
	s.lr[0] = G1P(0x80, 92);
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), 92);
	t_icv_wr(&s, ICC_DIR_EL1, 92);
	assert_int_equal(ich_lr_state(s.lr[0]), ICH_LR_STATE_ACTIVE);
	t_icv_wr(&s, ICC_DIR_EL1, 99);
	assert_int_equal((s.hcr & ICH_HCR_EOICOUNT_MASK) >> ICH_HCR_EOICOUNT_SHIFT, 1);
}

static void test_eoicount(void **state)
{
	struct plat_ich s = t_ich_on(4);

	(void)state;
	/* nothing active: an EOI changes nothing */
	t_icv_wr(&s, ICC_EOIR1_EL1, 100);
	assert_int_equal(s.hcr, ICH_HCR_EN);
	/* active priority, but the interrupt left the LRs (the host took it out): EOIcount */
	s.ap1r[0] = 1u << (0x80 >> 3);
	s.hcr |= ICH_HCR_LRENPIE;
	assert_false(plat_ich_misr(&s) & ICH_MISR_LRENP);
	t_icv_wr(&s, ICC_EOIR1_EL1, 100);
	assert_int_equal(s.ap1r[0], 0);
	assert_int_equal((s.hcr & ICH_HCR_EOICOUNT_MASK) >> ICH_HCR_EOICOUNT_SHIFT, 1);
	assert_true(plat_ich_misr(&s) & ICH_MISR_LRENP);
	assert_true(plat_ich_maint(&s));
	/* 5 bits: wraps */
	s.hcr |= ICH_HCR_EOICOUNT_MASK;
	s.ap1r[0] = 1;
	t_icv_wr(&s, ICC_EOIR1_EL1, 100);
	assert_int_equal(s.hcr & ICH_HCR_EOICOUNT_MASK, 0);
	/* an EOI whose priority is not the one dropped does not deactivate */
	s.lr[0] = ICH_LR(ICH_LR_STATE_ACTIVE, 1, 0x80, 101);
	s.ap1r[0] = 1u << (0x40 >> 3);
	t_icv_wr(&s, ICC_EOIR1_EL1, 101);
	assert_int_equal(ich_lr_state(s.lr[0]), ICH_LR_STATE_ACTIVE);
	assert_int_equal(s.ap1r[0], 0);
}

static void test_eoi_maintenance(void **state)
{
	struct plat_ich s = t_ich_on(4);

	(void)state;
	s.lr[0] = G1P(0x80, 27) | ICH_LR_EOI; /* a level interrupt the host wants to resample */
	s.lr[1] = G1P(0x80, 28);
	assert_int_equal(plat_ich_eisr(&s), 0);
	assert_int_equal(plat_ich_elrsr(&s), 0xc);
	assert_false(plat_ich_maint(&s));
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), 27);
	t_icv_wr(&s, ICC_EOIR1_EL1, 27);
	assert_int_equal(ich_lr_state(s.lr[0]), ICH_LR_STATE_INVALID);
	assert_int_equal(plat_ich_eisr(&s), 0x1);
	assert_int_equal(plat_ich_elrsr(&s), 0xc); /* not free: its EOI is still to be seen */
	assert_int_equal(plat_ich_misr(&s), ICH_MISR_EOI);
	assert_true(plat_ich_maint(&s));
	/* the same through the registers the host reads */
	assert_int_equal(t_ich_reg(&s, ICH_EISR_EL2), 0x1);
	assert_int_equal(t_ich_reg(&s, ICH_MISR_EL2), ICH_MISR_EOI);
	/* an LR without EOI deactivated: free, no maintenance */
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), 28);
	t_icv_wr(&s, ICC_EOIR1_EL1, 28);
	assert_int_equal(plat_ich_elrsr(&s), 0xe);
	/* En = 0: computed, not signalled */
	s.hcr &= ~ICH_HCR_EN;
	assert_int_equal(plat_ich_misr(&s), ICH_MISR_EOI);
	assert_false(plat_ich_maint(&s));
}

/* More interrupts pending than LRs: the host fills all 4 and asks for underflow. */
static void test_lr_overflow(void **state)
{
	struct plat_ich s = t_ich_on(4);
	unsigned int taken = 0;

	(void)state;
	for (unsigned int i = 0; i < 4; i++)
		s.lr[i] = G1P(0x80 + 8 * i, 200 + i);
	s.hcr |= ICH_HCR_UIE;
	assert_int_equal(plat_ich_elrsr(&s), 0);
	assert_false(plat_ich_misr(&s) & ICH_MISR_U);
	/* the realm handles them one by one; underflow when at most one LR is left */
	while (!plat_ich_maint(&s)) {
		uint64_t id = t_icv_rd(&s, ICC_IAR1_EL1);
		assert_int_equal(id, 200 + taken);
		t_icv_wr(&s, ICC_EOIR1_EL1, id);
		taken++;
		assert_true(taken <= 3);
	}
	assert_int_equal(taken, 3);
	assert_int_equal(plat_ich_misr(&s), ICH_MISR_U);
	assert_int_equal(plat_ich_elrsr(&s), 0x7); /* three LRs for the host to refill */
	/* an active LR counts as valid: no underflow while two are in use */
	s.lr[0] = ICH_LR(ICH_LR_STATE_ACTIVE, 1, 0x80, 210);
	assert_false(plat_ich_misr(&s) & ICH_MISR_U);
	/* no LR at all: underflow */
	memset(s.lr, 0, sizeof(s.lr));
	assert_true(plat_ich_misr(&s) & ICH_MISR_U);
}

static void test_misr_np_vgrp(void **state)
{
	struct plat_ich s = t_ich_on(4);

	(void)state;
	s.hcr |= ICH_HCR_NPIE;
	assert_int_equal(plat_ich_misr(&s), ICH_MISR_NP); /* nothing pending */
	s.lr[0] = G1P(0x80, 27);
	assert_int_equal(plat_ich_misr(&s), 0);
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), 27); /* active now: none pending */
	assert_int_equal(plat_ich_misr(&s), ICH_MISR_NP);
	s.hcr = ICH_HCR_EN | ICH_HCR_VGRP1EIE | ICH_HCR_VGRP1DIE | ICH_HCR_VGRP0EIE | ICH_HCR_VGRP0DIE;
	assert_int_equal(plat_ich_misr(&s), ICH_MISR_VGRP1E | ICH_MISR_VGRP0D);
	t_icv_wr(&s, ICC_IGRPEN1_EL1, 0);
	t_icv_wr(&s, ICC_IGRPEN0_EL1, 1);
	assert_int_equal(t_icv_rd(&s, ICC_IGRPEN0_EL1), 1);
	assert_int_equal(plat_ich_misr(&s), ICH_MISR_VGRP1D | ICH_MISR_VGRP0E);
	assert_true(plat_ich_maint(&s));
}

/* ---- binary points, control, registers ----------------------------------------------- */

static void test_bpr(void **state)
{
	struct plat_ich s = t_ich_on(4);

	(void)state;
	/* minimums: BPR0 2, BPR1 3 (5 preemption bits); a lower write reads the minimum */
	assert_int_equal(t_icv_rd(&s, ICC_BPR0_EL1), PLAT_GIC_MIN_BPR0);
	assert_int_equal(t_icv_rd(&s, ICC_BPR1_EL1), PLAT_GIC_MIN_BPR1);
	t_icv_wr(&s, ICC_BPR1_EL1, 0);
	assert_int_equal(t_icv_rd(&s, ICC_BPR1_EL1), 3);
	t_icv_wr(&s, ICC_BPR0_EL1, 0);
	assert_int_equal(t_icv_rd(&s, ICC_BPR0_EL1), 2);
	/* BPR1 = 3: group priority bits [7:3], 0x80 preempts a running 0x88 */
	s.lr[0] = G1P(0x88, 110);
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), 110);
	s.lr[1] = G1P(0x80, 111);
	assert_true(plat_icv_virq(&s));
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), 111);
	t_icv_wr(&s, ICC_EOIR1_EL1, 111);
	t_icv_wr(&s, ICC_EOIR1_EL1, 110);
	/* BPR1 = 4: bits [7:4], 0x80 and 0x88 are one group priority: no preemption */
	t_icv_wr(&s, ICC_BPR1_EL1, 4);
	assert_int_equal(t_icv_rd(&s, ICC_BPR1_EL1), 4);
	s.lr[0] = G1P(0x88, 112);
	s.lr[1] = 0;
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), 112);
	assert_int_equal(t_icv_rd(&s, ICC_RPR_EL1), 0x80); /* the group priority */
	s.lr[1] = G1P(0x80, 113);
	assert_false(plat_icv_virq(&s));
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), GIC_INTID_SPURIOUS);
	t_icv_wr(&s, ICC_EOIR1_EL1, 112);
	assert_int_equal(ich_lr_state(s.lr[0]), ICH_LR_STATE_INVALID);
	/* CBPR: Group 1 uses BPR0; BPR1 reads BPR0 + 1, its writes are ignored */
	t_icv_wr(&s, ICC_CTLR_EL1, ICC_CTLR_CBPR);
	t_icv_wr(&s, ICC_BPR0_EL1, 5);
	assert_int_equal(t_icv_rd(&s, ICC_BPR1_EL1), 6);
	t_icv_wr(&s, ICC_BPR1_EL1, 3);
	assert_int_equal(t_icv_rd(&s, ICC_BPR1_EL1), 6);
	t_icv_wr(&s, ICC_BPR0_EL1, 7);
	assert_int_equal(t_icv_rd(&s, ICC_BPR1_EL1), 7); /* saturates */
}

static void test_ctlr_sre_apr(void **state)
{
	struct plat_ich s = t_ich_on(4);
	uint64_t ctlr;

	(void)state;
	ctlr = t_icv_rd(&s, ICC_CTLR_EL1);
	assert_int_equal(ctlr,
			 (4ULL << ICC_CTLR_PRIBITS_SHIFT) | (0ULL << ICC_CTLR_IDBITS_SHIFT) | ICC_CTLR_A3V);
	t_icv_wr(&s, ICC_CTLR_EL1, ~0ULL); /* only CBPR and EOImode are writable */
	assert_int_equal(t_icv_rd(&s, ICC_CTLR_EL1), ctlr | ICC_CTLR_CBPR | ICC_CTLR_EOIMODE);
	assert_true(s.vmcr & ICH_VMCR_VCBPR);
	assert_true(s.vmcr & ICH_VMCR_VEOIM);
	assert_int_equal(t_icv_rd(&s, ICC_SRE_EL1), 7);
	t_icv_wr(&s, ICC_SRE_EL1, 0);
	assert_int_equal(t_icv_rd(&s, ICC_SRE_EL1), 7);
	/* AP1R0 is the active-priorities register the host saw */
	t_icv_wr(&s, ICC_AP1R_EL1(0), 0x100);
	assert_int_equal(s.ap1r[0], 0x100);
	assert_int_equal(t_icv_rd(&s, ICC_AP1R_EL1(0)), 0x100);
	assert_int_equal(t_icv_rd(&s, ICC_RPR_EL1), 8 << 3);
	t_icv_wr(&s, ICC_AP0R_EL1(0), 0x80);
	assert_int_equal(t_icv_rd(&s, ICC_RPR_EL1), 7 << 3);
	/* 5 preemption bits: AP0R1..3 / AP1R1..3 are not implemented */
	uint64_t v = 0;
	for (unsigned int n = 1; n < 4; n++) {
		assert_int_equal(plat_icv_access(&s, ICC_AP1R_EL1(n), true, &v), PLAT_ICV_UNDEF);
		assert_int_equal(plat_icv_access(&s, ICC_AP0R_EL1(n), false, &v), PLAT_ICV_UNDEF);
	}
}

static void test_traps_and_undef(void **state)
{
	struct plat_ich s = t_ich_on(4), before;
	uint64_t v = 0x1234;

	(void)state;
	/* SGIs are always the host's, the interface on or off; write-only */
	s.hcr = 0;
	assert_int_equal(plat_icv_access(&s, ICC_SGI1R_EL1, false, &v), PLAT_ICV_TRAP);
	s.hcr = ICH_HCR_EN;
	assert_int_equal(plat_icv_access(&s, ICC_SGI1R_EL1, false, &v), PLAT_ICV_TRAP);
	assert_int_equal(plat_icv_access(&s, ICC_ASGI1R_EL1, false, &v), PLAT_ICV_TRAP);
	assert_int_equal(plat_icv_access(&s, ICC_SGI0R_EL1, false, &v), PLAT_ICV_TRAP);
	assert_int_equal(plat_icv_access(&s, ICC_SGI1R_EL1, true, &v), PLAT_ICV_UNDEF);
	/* wrong direction, unknown encodings */
	assert_int_equal(plat_icv_access(&s, ICC_IAR1_EL1, false, &v), PLAT_ICV_UNDEF);
	assert_int_equal(plat_icv_access(&s, ICC_HPPIR1_EL1, false, &v), PLAT_ICV_UNDEF);
	assert_int_equal(plat_icv_access(&s, ICC_RPR_EL1, false, &v), PLAT_ICV_UNDEF);
	assert_int_equal(plat_icv_access(&s, ICC_EOIR1_EL1, true, &v), PLAT_ICV_UNDEF);
	assert_int_equal(plat_icv_access(&s, ICC_DIR_EL1, true, &v), PLAT_ICV_UNDEF);
	assert_int_equal(plat_icv_access(&s, SYSREG_ENC(3, 0, 12, 9, 7), true, &v), PLAT_ICV_UNDEF);
	assert_int_equal(plat_icv_access(&s, ICH_HCR_EL2, true, &v), PLAT_ICV_UNDEF);
	/* ICH_HCR_EL2 trap bits: the access goes to the host and changes nothing */
	struct {
		uint64_t hcr;
		uint32_t enc;
		bool is_read;
	} traps[] = {
		{ ICH_HCR_TC, ICC_CTLR_EL1, true },       { ICH_HCR_TC, ICC_PMR_EL1, false },
		{ ICH_HCR_TC, ICC_RPR_EL1, true },        { ICH_HCR_TC, ICC_DIR_EL1, false },
		{ ICH_HCR_TDIR, ICC_DIR_EL1, false },     { ICH_HCR_TALL1, ICC_IAR1_EL1, true },
		{ ICH_HCR_TALL1, ICC_EOIR1_EL1, false },  { ICH_HCR_TALL1, ICC_HPPIR1_EL1, true },
		{ ICH_HCR_TALL1, ICC_BPR1_EL1, true },    { ICH_HCR_TALL1, ICC_IGRPEN1_EL1, false },
		{ ICH_HCR_TALL1, ICC_AP1R_EL1(0), true }, { ICH_HCR_TALL0, ICC_IAR0_EL1, true },
		{ ICH_HCR_TALL0, ICC_EOIR0_EL1, false },  { ICH_HCR_TALL0, ICC_BPR0_EL1, false },
		{ ICH_HCR_TALL0, ICC_IGRPEN0_EL1, true }, { ICH_HCR_TALL0, ICC_AP0R_EL1(0), false },
	};
	s.lr[0] = G1P(0x80, 27);
	for (size_t k = 0; k < sizeof(traps) / sizeof(traps[0]); k++) {
		s.hcr = ICH_HCR_EN | traps[k].hcr;
		before = s;
		v = 0;
		assert_int_equal(plat_icv_access(&s, traps[k].enc, traps[k].is_read, &v), PLAT_ICV_TRAP);
		assert_memory_equal(&s, &before, sizeof(s));
	}
	/* the other group's registers and the common ones are not trapped by TALLn */
	s.hcr = ICH_HCR_EN | ICH_HCR_TALL0;
	assert_int_equal(t_icv_rd(&s, ICC_IAR1_EL1), 27);
	assert_int_equal(t_icv_rd(&s, ICC_PMR_EL1), 0xf8);
	s.hcr = ICH_HCR_EN | ICH_HCR_TDIR;
	assert_int_equal(t_icv_rd(&s, ICC_CTLR_EL1) & ICC_CTLR_EOIMODE, 0);
}

static void test_icv_space(void **state)
{
	(void)state;
	assert_true(plat_icv_space(ICC_IAR1_EL1));
	assert_true(plat_icv_space(ICC_PMR_EL1));
	assert_true(plat_icv_space(ICC_SGI1R_EL1));
	assert_true(plat_icv_space(ICC_AP0R_EL1(3)));
	assert_false(plat_icv_space(ICH_HCR_EL2));                       /* op1 4: EL2's */
	assert_false(plat_icv_space(SYSREG_ENC(3, 0, 4, 6, 1)));         /* next to ICC_PMR */
	assert_false(plat_icv_space(SYSREG_ENC(3, 0, 12, 7, 0)));        /* CRm 7 */
	assert_false(plat_icv_space(ICC_IAR1_EL1 | ESR_SYS64_DIR_READ)); /* not an encoding */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iar_priority_order),
		cmocka_unit_test(test_iar_preemption_nested),
		cmocka_unit_test(test_iar_masks),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_special_vintid),
		cmocka_unit_test(test_eoimode1_dir),
		cmocka_unit_test(test_eoicount),
		cmocka_unit_test(test_eoi_maintenance),
		cmocka_unit_test(test_lr_overflow),
		cmocka_unit_test(test_misr_np_vgrp),
		cmocka_unit_test(test_bpr),
		cmocka_unit_test(test_ctlr_sre_apr),
		cmocka_unit_test(test_traps_and_undef),
		cmocka_unit_test(test_icv_space),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
