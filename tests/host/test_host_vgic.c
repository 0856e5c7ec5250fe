/* SPDX-License-Identifier: MIT */
/*
 * The host's virtual GICv3 (src/host/vgic.h):
 *  - distributor and redistributor registers: reset values, read-back, W1S/W1C,
 *    byte and 64-bit accesses where the architecture allows them, RAZ/WI for
 *    everything else (bad offsets, sizes, alignment, absent INTIDs/vCPUs);
 *  - SPI routing by IROUTER, SGIs to one, several and all-but-self vCPUs;
 *  - the list-register flush (priority order, active first, no duplicate
 *    vINTID, HW = 0, UIE/NPIE on overflow) and the fold after the run (EOI,
 *    level re-sampling, edge latch, active+pending), also through a machine's
 *    ICH_*_EL2 registers (rk_hcpu_ich_*);
 *  - whether a vCPU has something to wake for.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "host/vgic.h"
#include "realmkit/arch/gic.h"
#include "realmkit/platform.h"

static struct host_vgic *mk(uint32_t nvcpus, uint32_t nr_spis)
{
	struct host_vgic *g = NULL;

	assert_int_equal(host_vgic_create(nvcpus, nr_spis, &g), 0);
	assert_non_null(g);
	return g;
}

static uint64_t gd_r(struct host_vgic *g, uint64_t off, uint32_t size)
{
	uint64_t v = 0xdeadbeefdeadbeefULL;

	assert_int_equal(host_vgic_gicd_read(g, off, size, &v), 0);
	return v;
}

static void gd_w(struct host_vgic *g, uint64_t off, uint32_t size, uint64_t v)
{
	assert_int_equal(host_vgic_gicd_write(g, off, size, v), 0);
}

static uint64_t gr_r(struct host_vgic *g, uint32_t vcpu, uint64_t off, uint32_t size)
{
	uint64_t v = 0xdeadbeefdeadbeefULL;

	assert_int_equal(host_vgic_gicr_read(g, vcpu * GICR_STRIDE + off, size, &v), 0);
	return v;
}

static void gr_w(struct host_vgic *g, uint32_t vcpu, uint64_t off, uint32_t size, uint64_t v)
{
	assert_int_equal(host_vgic_gicr_write(g, vcpu * GICR_STRIDE + off, size, v), 0);
}

#define SGI(off) (GICR_SGI_BASE + (off))

/* Enable both groups at the distributor */
static void dist_on(struct host_vgic *g)
{
	gd_w(g, GICD_CTLR, 4, GICD_CTLR_ENABLEGRP0 | GICD_CTLR_ENABLEGRP1);
}

/* Enable SPI intid, route it to vCPU aff (an MPIDR affinity), priority prio */
static void spi_setup(struct host_vgic *g, uint32_t intid, uint64_t aff, uint8_t prio)
{
	gd_w(g, GICD_ISENABLER + 4 * (intid / 32), 4, 1u << (intid % 32));
	gd_w(g, GICD_IROUTER + 8 * intid, 8, aff);
	gd_w(g, GICD_IPRIORITYR + intid, 1, prio);
}

static void cpuif_init(struct host_vgic_cpuif *c, uint32_t nr_lrs)
{
	memset(c, 0, sizeof(*c));
	c->nr_lrs = nr_lrs;
	c->nr_aprs = 1;
}

static uint32_t lr_intid(uint64_t lr)
{
	return (uint32_t)(lr & ICH_LR_VINTID_MASK);
}

static unsigned int lr_state(uint64_t lr)
{
	return (unsigned int)(lr >> ICH_LR_STATE_SHIFT & 3);
}

/* The guest acknowledges LR n (pending -> active), or deactivates it */
static void guest_ack(struct host_vgic_cpuif *c, unsigned int n)
{
	assert_true(c->lr[n] & ICH_LR_PENDING_BIT);
	c->lr[n] = (c->lr[n] & ~ICH_LR_STATE_MASK) | ICH_LR_ACTIVE_BIT;
}

static void guest_eoi(struct host_vgic_cpuif *c, unsigned int n)
{
	c->lr[n] &= ~ICH_LR_STATE_MASK;
}

/* Flush vcpu, sanity-check the image as the RMM would (no HW, no duplicate vINTID) */
static int flush(struct host_vgic *g, uint32_t vcpu, struct host_vgic_cpuif *c)
{
	int used = host_vgic_flush(g, vcpu, c);

	assert_true(used >= 0);
	assert_true(c->hcr & ICH_HCR_EN);
	for (unsigned int n = 0; n < c->nr_lrs; n++) {
		assert_false(c->lr[n] & ICH_LR_HW);
		if (n >= (unsigned int)used) {
			assert_int_equal(c->lr[n], 0);
			continue;
		}
		assert_int_not_equal(lr_state(c->lr[n]), ICH_LR_STATE_INVALID);
		for (unsigned int k = 0; k < n; k++)
			assert_int_not_equal(lr_intid(c->lr[k]), lr_intid(c->lr[n]));
	}
	return used;
}

/* Run vcpu with nothing happening in the guest, return what it was offered */
static int offered(struct host_vgic *g, uint32_t vcpu, struct host_vgic_cpuif *c)
{
	int used = flush(g, vcpu, c);

	assert_int_equal(host_vgic_sync(g, vcpu, c), 0);
	return used;
}

/* ---- registers ---- */

static void test_gicd_id_regs(void **state)
{
	struct host_vgic *g = mk(3, 64);
	uint64_t t;

	(void)state;
	assert_int_equal(host_vgic_nr_irqs(g), 96);
	/* CTLR: ARE and DS RAO/WI, the group enables read back, nothing else sticks */
	assert_int_equal(gd_r(g, GICD_CTLR, 4), GICD_CTLR_ARE | GICD_CTLR_DS);
	gd_w(g, GICD_CTLR, 4, 0xffffffff);
	assert_int_equal(gd_r(g, GICD_CTLR, 4),
			 GICD_CTLR_ARE | GICD_CTLR_DS | GICD_CTLR_ENABLEGRP0 | GICD_CTLR_ENABLEGRP1);
	gd_w(g, GICD_CTLR, 4, GICD_CTLR_ENABLEGRP1);
	assert_int_equal(gd_r(g, GICD_CTLR, 4), GICD_CTLR_ARE | GICD_CTLR_DS | GICD_CTLR_ENABLEGRP1);
	/* TYPER: 96 INTIDs = 32 * (2 + 1), 3 CPUs, 10 ID bits, no LPIs, no 1-of-N */
	t = gd_r(g, GICD_TYPER, 4);
	assert_int_equal(t & GICD_TYPER_ITLINES_MASK, 2);
	assert_int_equal(t >> GICD_TYPER_CPUNUMBER_SHIFT & 7, 2);
	assert_int_equal(t >> GICD_TYPER_IDBITS_SHIFT & 0x1f, 9);
	assert_false(t & (GICD_TYPER_LPIS | GICD_TYPER_MBIS | GICD_TYPER_SECURITYEXTN | GICD_TYPER_A3V));
	assert_true(t & GICD_TYPER_NO1N);
	gd_w(g, GICD_TYPER, 4, 0);
	assert_int_equal(gd_r(g, GICD_TYPER, 4), t);
	assert_int_equal(gd_r(g, GICD_IIDR, 4), HOST_VGIC_IIDR);
	assert_int_equal(gd_r(g, GICD_IIDR, 4) & 0xfff, GIC_IIDR_IMPLEMENTER_ARM);
	assert_int_equal(gd_r(g, GICD_TYPER2, 4), 0);
	assert_int_equal(gd_r(g, GICD_STATUSR, 4), 0);
	assert_int_equal(gd_r(g, GICD_PIDR2, 4) & GIC_PIDR2_ARCHREV_MASK, GIC_PIDR2_ARCH_GICV3);
	host_vgic_destroy(g);

	/* more than 8 vCPUs: CPUNumber saturates; the default SPI count */
	g = mk(20, 0);
	t = gd_r(g, GICD_TYPER, 4);
	assert_int_equal(t >> GICD_TYPER_CPUNUMBER_SHIFT & 7, 7);
	assert_int_equal(t & GICD_TYPER_ITLINES_MASK, 1);
	host_vgic_destroy(g);
}

static void test_gicd_tables(void **state)
{
	struct host_vgic *g = mk(2, 64);

	(void)state;
	/* IGROUPR: reset Group 1 for every implemented INTID, read-write */
	assert_int_equal(gd_r(g, GICD_IGROUPR + 4, 4), 0xffffffff);
	gd_w(g, GICD_IGROUPR + 4, 4, 0x0000ff00);
	assert_int_equal(gd_r(g, GICD_IGROUPR + 4, 4), 0x0000ff00);
	/* ISENABLER/ICENABLER: write 1 to set / to clear, 0 leaves */
	assert_int_equal(gd_r(g, GICD_ISENABLER + 4, 4), 0);
	gd_w(g, GICD_ISENABLER + 4, 4, 0x5);
	gd_w(g, GICD_ISENABLER + 4, 4, 0x100);
	assert_int_equal(gd_r(g, GICD_ISENABLER + 4, 4), 0x105);
	assert_int_equal(gd_r(g, GICD_ICENABLER + 4, 4), 0x105);
	gd_w(g, GICD_ICENABLER + 4, 4, 0x4);
	assert_int_equal(gd_r(g, GICD_ISENABLER + 4, 4), 0x101);
	/* ISPENDR/ICPENDR */
	gd_w(g, GICD_ISPENDR + 8, 4, 0x80000001);
	assert_int_equal(gd_r(g, GICD_ISPENDR + 8, 4), 0x80000001);
	assert_int_equal(gd_r(g, GICD_ICPENDR + 8, 4), 0x80000001);
	gd_w(g, GICD_ICPENDR + 8, 4, 0x1);
	assert_int_equal(gd_r(g, GICD_ISPENDR + 8, 4), 0x80000000);
	/* ISACTIVER/ICACTIVER */
	gd_w(g, GICD_ISACTIVER + 4, 4, 0x30);
	assert_int_equal(gd_r(g, GICD_ISACTIVER + 4, 4), 0x30);
	gd_w(g, GICD_ICACTIVER + 4, 4, 0x10);
	assert_int_equal(gd_r(g, GICD_ICACTIVER + 4, 4), 0x20);
	/* IPRIORITYR: bytes and words, 8 bits kept */
	gd_w(g, GICD_IPRIORITYR + 33, 1, 0xa5);
	assert_int_equal(gd_r(g, GICD_IPRIORITYR + 32, 4), 0x0000a500);
	gd_w(g, GICD_IPRIORITYR + 36, 4, 0x11223344);
	assert_int_equal(gd_r(g, GICD_IPRIORITYR + 37, 1), 0x33);
	assert_int_equal(gd_r(g, GICD_IPRIORITYR + 36, 4), 0x11223344);
	/* ICFGR: SPIs configurable, reset level; INTIDs 0-31 RAZ/WI here */
	assert_int_equal(gd_r(g, GICD_ICFGR + 8, 4), 0);
	gd_w(g, GICD_ICFGR + 8, 4, 0xffffffff);
	assert_int_equal(gd_r(g, GICD_ICFGR + 8, 4), 0xaaaaaaaa); /* [0] of each field RES0 */
	gd_w(g, GICD_ICFGR + 8, 4, 0x2);
	assert_int_equal(gd_r(g, GICD_ICFGR + 8, 4), 0x2);
	/* with affinity routing, the distributor's copies of INTIDs 0-31 are RAZ/WI */
	gd_w(g, GICD_ISENABLER, 4, 0xffffffff);
	gd_w(g, GICD_IPRIORITYR, 4, 0xffffffff);
	gd_w(g, GICD_ICFGR, 4, 0);
	assert_int_equal(gd_r(g, GICD_ISENABLER, 4), 0);
	assert_int_equal(gd_r(g, GICD_IGROUPR, 4), 0);
	assert_int_equal(gd_r(g, GICD_IPRIORITYR, 4), 0);
	assert_int_equal(gd_r(g, GICD_ICFGR, 4), 0);
	assert_int_equal(gr_r(g, 0, SGI(GICR_ISENABLER0), 4), 0);
	assert_int_equal(gr_r(g, 0, SGI(GICR_IPRIORITYR0), 4), 0);
	/* INTIDs past the 96 implemented: RAZ/WI */
	gd_w(g, GICD_ISENABLER + 12, 4, 0xffffffff);
	assert_int_equal(gd_r(g, GICD_ISENABLER + 12, 4), 0);
	assert_int_equal(gd_r(g, GICD_IGROUPR + 12, 4), 0);
	gd_w(g, GICD_IPRIORITYR + 96, 4, 0xffffffff);
	assert_int_equal(gd_r(g, GICD_IPRIORITYR + 96, 4), 0);
	gd_w(g, GICD_IROUTER + 8 * 96, 8, 1);
	assert_int_equal(gd_r(g, GICD_IROUTER + 8 * 96, 8), 0);
	host_vgic_destroy(g);
}

static void test_gicd_irouter(void **state)
{
	struct host_vgic *g = mk(20, 32);

	(void)state;
	/* reset: vCPU 0 */
	assert_int_equal(gd_r(g, GICD_IROUTER + 8 * 40, 8), 0);
	/* 64-bit: Aff2.Aff1.Aff0 kept, IRM and Aff3 RAZ/WI */
	gd_w(g, GICD_IROUTER + 8 * 40, 8, 0xff80030201ULL | GICD_IROUTER_IRM);
	assert_int_equal(gd_r(g, GICD_IROUTER + 8 * 40, 8), 0x030201);
	/* 32-bit halves */
	gd_w(g, GICD_IROUTER + 8 * 41, 4, 0x0103);
	gd_w(g, GICD_IROUTER + 8 * 41 + 4, 4, 0xff);
	assert_int_equal(gd_r(g, GICD_IROUTER + 8 * 41, 4), 0x0103);
	assert_int_equal(gd_r(g, GICD_IROUTER + 8 * 41 + 4, 4), 0);
	assert_int_equal(gd_r(g, GICD_IROUTER + 8 * 41, 8), 0x0103);
	/* IROUTER of SGIs/PPIs does not exist */
	gd_w(g, GICD_IROUTER + 8 * 20, 8, 1);
	assert_int_equal(gd_r(g, GICD_IROUTER + 8 * 20, 8), 0);
	/* misaligned, 1/2-byte: RAZ/WI */
	gd_w(g, GICD_IROUTER + 8 * 42 + 4, 8, 1);
	gd_w(g, GICD_IROUTER + 8 * 42, 2, 1);
	gd_w(g, GICD_IROUTER + 8 * 42, 1, 1);
	assert_int_equal(gd_r(g, GICD_IROUTER + 8 * 42, 8), 0);
	assert_int_equal(gd_r(g, GICD_IROUTER + 8 * 41 + 4, 8), 0);
	host_vgic_destroy(g);
}

static void test_gicr_regs(void **state)
{
	struct host_vgic *g = mk(20, 32);
	uint64_t t;

	(void)state;
	for (uint32_t c = 0; c < 20; c++) {
		/* TYPER: affinity as host_rec_mpidr(c), processor number, Last on the last one */
		uint64_t aff = (c & 0xf) | (uint64_t)(c >> 4) << 8;
		t = gr_r(g, c, GICR_TYPER, 8);
		assert_int_equal(t >> GICR_TYPER_AFF_SHIFT, aff);
		assert_int_equal(t >> GICR_TYPER_PROCNUM_SHIFT & 0xffff, c);
		assert_int_equal((t & GICR_TYPER_LAST) != 0, c == 19);
		assert_false(t & (GICR_TYPER_PLPIS | GICR_TYPER_VLPIS | GICR_TYPER_DIRECTLPI));
		assert_int_equal(gr_r(g, c, GICR_TYPER, 4), t & 0xffffffff);
		assert_int_equal(gr_r(g, c, GICR_TYPER + 4, 4), t >> 32);
		assert_int_equal(gr_r(g, c, GICR_IIDR, 4), HOST_VGIC_IIDR);
		assert_int_equal(gr_r(g, c, GICR_PIDR2, 4) & GIC_PIDR2_ARCHREV_MASK, GIC_PIDR2_ARCH_GICV3);
	}
	/* TYPER is read-only */
	gr_w(g, 3, GICR_TYPER, 8, ~0ULL);
	assert_int_equal(gr_r(g, 3, GICR_TYPER, 8), 3ULL << 32 | 3 << GICR_TYPER_PROCNUM_SHIFT);
	/* no LPIs: CTLR, PROPBASER, PENDBASER RAZ/WI */
	gr_w(g, 1, GICR_CTLR, 4, 1);
	gr_w(g, 1, GICR_PROPBASER, 8, 0x12345000);
	gr_w(g, 1, GICR_PENDBASER, 8, 0x12345000);
	assert_int_equal(gr_r(g, 1, GICR_CTLR, 4), 0);
	assert_int_equal(gr_r(g, 1, GICR_PROPBASER, 8), 0);
	assert_int_equal(gr_r(g, 1, GICR_PENDBASER, 8), 0);
	/* beyond the last redistributor: RAZ/WI */
	assert_int_equal(gr_r(g, 20, GICR_TYPER, 8), 0);
	assert_int_equal(gr_r(g, 1000, GICR_IIDR, 4), 0);
	gr_w(g, 20, SGI(GICR_ISENABLER0), 4, 1);
	host_vgic_destroy(g);
}

/* Linux's gic_enable_redist(): clear ProcessorSleep, wait for ChildrenAsleep == 0 */
static void test_gicr_waker(void **state)
{
	struct host_vgic *g = mk(2, 32);

	(void)state;
	for (uint32_t c = 0; c < 2; c++)
		assert_int_equal(gr_r(g, c, GICR_WAKER, 4),
				 GICR_WAKER_PROCESSORSLEEP | GICR_WAKER_CHILDRENASLEEP);
	gr_w(g, 1, GICR_WAKER, 4, 0);
	assert_int_equal(gr_r(g, 1, GICR_WAKER, 4), 0);
	assert_int_equal(gr_r(g, 0, GICR_WAKER, 4), GICR_WAKER_PROCESSORSLEEP | GICR_WAKER_CHILDRENASLEEP);
	/* ChildrenAsleep is read-only: writing it alone does not put it to sleep */
	gr_w(g, 1, GICR_WAKER, 4, GICR_WAKER_CHILDRENASLEEP);
	assert_int_equal(gr_r(g, 1, GICR_WAKER, 4), 0);
	gr_w(g, 1, GICR_WAKER, 4, GICR_WAKER_PROCESSORSLEEP);
	assert_int_equal(gr_r(g, 1, GICR_WAKER, 4), GICR_WAKER_PROCESSORSLEEP | GICR_WAKER_CHILDRENASLEEP);
	host_vgic_destroy(g);
}

static void test_gicr_sgi_base(void **state)
{
	struct host_vgic *g = mk(2, 32);

	(void)state;
	/* per-vCPU copies */
	assert_int_equal(gr_r(g, 0, SGI(GICR_IGROUPR0), 4), 0xffffffff);
	gr_w(g, 0, SGI(GICR_IGROUPR0), 4, 0xfffffffe);
	assert_int_equal(gr_r(g, 0, SGI(GICR_IGROUPR0), 4), 0xfffffffe);
	assert_int_equal(gr_r(g, 1, SGI(GICR_IGROUPR0), 4), 0xffffffff);
	gr_w(g, 0, SGI(GICR_ISENABLER0), 4, 0x08000003);
	gr_w(g, 0, SGI(GICR_ICENABLER0), 4, 0x00000001);
	assert_int_equal(gr_r(g, 0, SGI(GICR_ISENABLER0), 4), 0x08000002);
	assert_int_equal(gr_r(g, 0, SGI(GICR_ICENABLER0), 4), 0x08000002);
	assert_int_equal(gr_r(g, 1, SGI(GICR_ISENABLER0), 4), 0);
	gr_w(g, 1, SGI(GICR_ISPENDR0), 4, 0x10001);
	gr_w(g, 1, SGI(GICR_ICPENDR0), 4, 0x1);
	assert_int_equal(gr_r(g, 1, SGI(GICR_ISPENDR0), 4), 0x10000);
	assert_int_equal(gr_r(g, 0, SGI(GICR_ISPENDR0), 4), 0);
	gr_w(g, 1, SGI(GICR_ISACTIVER0), 4, 0x6);
	gr_w(g, 1, SGI(GICR_ICACTIVER0), 4, 0x2);
	assert_int_equal(gr_r(g, 1, SGI(GICR_ISACTIVER0), 4), 0x4);
	assert_int_equal(gr_r(g, 1, SGI(GICR_ICACTIVER0), 4), 0x4);
	/* priorities: bytes and words, per vCPU */
	gr_w(g, 1, SGI(GICR_IPRIORITYR0 + 27), 1, 0xa0);
	gr_w(g, 1, SGI(GICR_IPRIORITYR0), 4, 0x80706050);
	assert_int_equal(gr_r(g, 1, SGI(GICR_IPRIORITYR0 + 24), 4), 0xa0000000);
	assert_int_equal(gr_r(g, 1, SGI(GICR_IPRIORITYR0 + 2), 1), 0x70);
	assert_int_equal(gr_r(g, 0, SGI(GICR_IPRIORITYR0 + 24), 4), 0);
	/* only the first 32 priority bytes exist here */
	gr_w(g, 1, SGI(GICR_IPRIORITYR0 + 32), 4, 0xffffffff);
	assert_int_equal(gr_r(g, 1, SGI(GICR_IPRIORITYR0 + 32), 4), 0);
	/* ICFGR0: SGIs edge, ICFGR1: PPIs level, both read-only */
	assert_int_equal(gr_r(g, 0, SGI(GICR_ICFGR0), 4), 0xaaaaaaaa);
	assert_int_equal(gr_r(g, 0, SGI(GICR_ICFGR1), 4), 0);
	gr_w(g, 0, SGI(GICR_ICFGR0), 4, 0);
	gr_w(g, 0, SGI(GICR_ICFGR1), 4, 0xffffffff);
	assert_int_equal(gr_r(g, 0, SGI(GICR_ICFGR0), 4), 0xaaaaaaaa);
	assert_int_equal(gr_r(g, 0, SGI(GICR_ICFGR1), 4), 0);
	/* the SPI words of the tables do not exist in a redistributor */
	gr_w(g, 0, SGI(GICR_ISENABLER0 + 4), 4, 0xffffffff);
	assert_int_equal(gr_r(g, 0, SGI(GICR_ISENABLER0 + 4), 4), 0);
	assert_int_equal(gd_r(g, GICD_ISENABLER + 4, 4), 0);
	/* IGRPMODR0, NSACR: RAZ/WI */
	gr_w(g, 0, SGI(GICR_IGRPMODR0), 4, 0xffffffff);
	assert_int_equal(gr_r(g, 0, SGI(GICR_IGRPMODR0), 4), 0);
	host_vgic_destroy(g);
}

/* Bad sizes, alignment and offsets: RAZ/WI, and nothing changes */
static void test_malformed(void **state)
{
	struct host_vgic *g = mk(2, 32);
	uint64_t v = 7;
	static const struct {
		uint64_t off;
		uint32_t size;
	} bad[] = {
		{ GICD_CTLR, 1 },
		{ GICD_CTLR, 2 },
		{ GICD_CTLR, 8 },
		{ GICD_CTLR + 1, 4 },
		{ GICD_ISENABLER + 4, 1 },
		{ GICD_ISENABLER + 4, 2 },
		{ GICD_ISENABLER + 4, 8 },
		{ GICD_ISENABLER + 6, 4 },
		{ GICD_IPRIORITYR + 33, 2 },
		{ GICD_IPRIORITYR + 34, 4 },
		{ GICD_IPRIORITYR + 32, 8 },
		{ GICD_ICFGR + 8, 1 },
		{ GICD_ICFGR + 9, 4 },
		{ GICD_TYPER, 3 },
		{ GICD_CTLR, 0 },
		{ GICD_FRAME_SIZE, 4 },
		{ ~0ULL - 3, 4 },
		{ 0x5000, 4 },
	};

	(void)state;
	for (size_t n = 0; n < sizeof(bad) / sizeof(bad[0]); n++) {
		gd_w(g, bad[n].off, bad[n].size, 0xffffffffffffffffULL);
		assert_int_equal(gd_r(g, bad[n].off, bad[n].size), 0);
	}
	assert_int_equal(gd_r(g, GICD_CTLR, 4), GICD_CTLR_ARE | GICD_CTLR_DS);
	assert_int_equal(gd_r(g, GICD_ISENABLER + 4, 4), 0);
	assert_int_equal(gd_r(g, GICD_IPRIORITYR + 32, 4), 0);
	assert_int_equal(gd_r(g, GICD_ICFGR + 8, 4), 0);
	/* redistributor: same */
	gr_w(g, 0, GICR_WAKER, 1, 0);
	gr_w(g, 0, GICR_WAKER, 8, 0);
	gr_w(g, 0, GICR_WAKER + 2, 4, 0);
	assert_int_equal(gr_r(g, 0, GICR_WAKER, 4), GICR_WAKER_PROCESSORSLEEP | GICR_WAKER_CHILDRENASLEEP);
	assert_int_equal(gr_r(g, 0, GICR_TYPER + 2, 4), 0);
	assert_int_equal(gr_r(g, 0, GICR_TYPER, 2), 0);
	gr_w(g, 0, SGI(GICR_ISENABLER0), 1, 0xff);
	gr_w(g, 0, SGI(GICR_ISENABLER0), 8, 0xff);
	assert_int_equal(gr_r(g, 0, SGI(GICR_ISENABLER0), 4), 0);
	assert_int_equal(host_vgic_gicr_read(g, ~0ULL, 4, &v), 0);
	assert_int_equal(v, 0);
	/* through the MMIO ops, as rk_vm_add_mmio() calls them */
	assert_int_equal(host_vgic_gicd_ops.write(g, 0, GICD_CTLR, 4, GICD_CTLR_ENABLEGRP1), 0);
	assert_int_equal(host_vgic_gicd_ops.read(g, 1, GICD_CTLR, 4, &v), 0);
	assert_int_equal(v, GICD_CTLR_ARE | GICD_CTLR_DS | GICD_CTLR_ENABLEGRP1);
	assert_int_equal(host_vgic_gicr_ops.write(g, 0, GICR_STRIDE + GICR_WAKER, 4, 0), 0);
	assert_int_equal(host_vgic_gicr_ops.read(g, 0, GICR_STRIDE + GICR_WAKER, 4, &v), 0);
	assert_int_equal(v, 0);
	/* NULL vGIC */
	assert_int_equal(host_vgic_gicd_read(NULL, 0, 4, &v), -EINVAL);
	assert_int_equal(host_vgic_gicr_write(NULL, 0, 4, 0), -EINVAL);
	host_vgic_destroy(g);
}

static void test_api_errors(void **state)
{
	struct host_vgic *g = NULL;
	struct host_vgic_cpuif c;

	(void)state;
	assert_int_equal(host_vgic_create(0, 32, &g), -EINVAL);
	assert_int_equal(host_vgic_create(1, 33, &g), -EINVAL);
	assert_int_equal(host_vgic_create(1, 992, &g), -EINVAL);
	assert_int_equal(host_vgic_create(4097, 32, &g), -EINVAL);
	assert_int_equal(host_vgic_create(1, 32, NULL), -EINVAL);
	assert_null(g);
	g = mk(2, 960);
	assert_int_equal(host_vgic_nr_irqs(g), 992);
	assert_int_equal(host_vgic_set_level(g, 3, 0, true), -EINVAL);   /* SGI */
	assert_int_equal(host_vgic_set_level(g, 992, 0, true), -EINVAL); /* no such SPI */
	assert_int_equal(host_vgic_set_level(g, 27, 2, true), -EINVAL);  /* no such vCPU */
	assert_int_equal(host_vgic_set_level(g, 991, 7, true), 0);       /* SPI: vCPU ignored */
	assert_int_equal(host_vgic_sgi(g, 2, ICC_SGI1R_EL1, 0), -EINVAL);
	assert_int_equal(host_vgic_sgi(g, 0, ICC_PMR_EL1, 0), -EINVAL);
	cpuif_init(&c, 0);
	assert_int_equal(host_vgic_flush(g, 0, &c), -EINVAL);
	cpuif_init(&c, 17);
	assert_int_equal(host_vgic_flush(g, 0, &c), -EINVAL);
	cpuif_init(&c, 4);
	c.nr_aprs = 3;
	assert_int_equal(host_vgic_flush(g, 0, &c), -EINVAL);
	c.nr_aprs = 1;
	assert_int_equal(host_vgic_flush(g, 2, &c), -EINVAL);
	assert_int_equal(host_vgic_sync(g, 2, &c), -EINVAL);
	assert_int_equal(host_vgic_sync(g, 0, &c), 0); /* nothing flushed */
	assert_false(host_vgic_vcpu_pending(g, 2));
	host_vgic_destroy(g);
	host_vgic_destroy(NULL);
}

/* ---- routing ---- */

static void test_spi_routing(void **state)
{
	struct host_vgic *g = mk(20, 32);
	struct host_vgic_cpuif c;

	(void)state;
	cpuif_init(&c, 4);
	dist_on(g);
	spi_setup(g, 40, 0x0101, 0x80); /* vCPU 17 = Aff1 1, Aff0 1 */
	assert_int_equal(host_vgic_set_level(g, 40, 0, true), 0);
	for (uint32_t v = 0; v < 20; v++) {
		bool mine = v == 17;
		assert_int_equal(host_vgic_vcpu_pending(g, v), mine);
		if (!mine)
			assert_int_equal(offered(g, v, &c), 0);
	}
	assert_int_equal(flush(g, 17, &c), 1);
	assert_int_equal(c.lr[0], ICH_LR(ICH_LR_STATE_PENDING, 1, 0x80, 40) | ICH_LR_EOI);
	/* while it is in vCPU 17's LRs, a re-route does not deliver it twice */
	gd_w(g, GICD_IROUTER + 8 * 40, 8, 2);
	assert_int_equal(offered(g, 2, &c), 0);
	assert_int_equal(host_vgic_sync(g, 17, &c), 0); /* not acknowledged: still pending */
	assert_int_equal(flush(g, 2, &c), 1);
	assert_int_equal(lr_intid(c.lr[0]), 40);
	assert_int_equal(host_vgic_sync(g, 2, &c), 0);
	/* routed to no vCPU (Aff0 > 15, or past the last): nobody gets it; re-routed: delivered */
	gd_w(g, GICD_IROUTER + 8 * 40, 8, 0x10);
	for (uint32_t v = 0; v < 20; v++)
		assert_int_equal(offered(g, v, &c), 0);
	gd_w(g, GICD_IROUTER + 8 * 40, 8, 0x0104);
	for (uint32_t v = 0; v < 20; v++)
		assert_int_equal(offered(g, v, &c), 0);
	gd_w(g, GICD_IROUTER + 8 * 40, 8, 0x0003);
	assert_int_equal(offered(g, 3, &c), 1);
	/* disabled interrupt, or its group disabled at the distributor: not forwarded */
	gd_w(g, GICD_ICENABLER + 4, 4, 1u << 8);
	assert_int_equal(offered(g, 3, &c), 0);
	assert_false(host_vgic_vcpu_pending(g, 3));
	gd_w(g, GICD_ISENABLER + 4, 4, 1u << 8);
	gd_w(g, GICD_CTLR, 4, GICD_CTLR_ENABLEGRP0);
	assert_int_equal(offered(g, 3, &c), 0);
	gd_w(g, GICD_IGROUPR + 4, 4, 0); /* now Group 0, which is enabled */
	assert_int_equal(offered(g, 3, &c), 1);
	assert_false(c.lr[0] & ICH_LR_GROUP);
	/* line down: gone */
	assert_int_equal(host_vgic_set_level(g, 40, 0, false), 0);
	assert_int_equal(offered(g, 3, &c), 0);
	host_vgic_destroy(g);
}

static void test_sgi_targets(void **state)
{
	struct host_vgic *g = mk(20, 32);
	struct host_vgic_cpuif c;
	uint64_t sgi5 = 5ULL << ICC_SGIR_INTID_SHIFT;

	(void)state;
	cpuif_init(&c, 4);
	dist_on(g);
	for (uint32_t v = 0; v < 20; v++)
		gr_w(g, v, SGI(GICR_ISENABLER0), 4, 0xffff);
	/* one: vCPU 2 (Aff1 0, TargetList bit 2) */
	assert_int_equal(host_vgic_sgi(g, 0, ICC_SGI1R_EL1, sgi5 | 1u << 2), 1);
	for (uint32_t v = 0; v < 20; v++)
		assert_int_equal(host_vgic_vcpu_pending(g, v), v == 2);
	assert_int_equal(gr_r(g, 2, SGI(GICR_ISPENDR0), 4), 1u << 5);
	assert_int_equal(flush(g, 2, &c), 1);
	assert_int_equal(c.lr[0], ICH_LR(ICH_LR_STATE_PENDING, 1, 0, 5)); /* edge: no EOI */
	assert_int_equal(host_vgic_sync(g, 2, &c), 0);
	gr_w(g, 2, SGI(GICR_ICPENDR0), 4, 1u << 5);
	/* several, in cluster Aff1 = 1: vCPUs 16, 18, 19 (TargetList bits 0, 2, 3), bit 5 names nobody */
	assert_int_equal(host_vgic_sgi(g, 0, ICC_SGI1R_EL1, sgi5 | 1ULL << ICC_SGIR_AFF1_SHIFT | 0x2d), 3);
	for (uint32_t v = 0; v < 20; v++) {
		bool t = v == 16 || v == 18 || v == 19;
		assert_int_equal(host_vgic_vcpu_pending(g, v), t);
		assert_int_equal(offered(g, v, &c), t ? 1 : 0);
		gr_w(g, v, SGI(GICR_ICPENDR0), 4, 0xffff);
	}
	/* RS = 1 selects Aff0 16-31, which no vCPU has; Aff2 = 1 names nobody */
	assert_int_equal(host_vgic_sgi(g, 0, ICC_SGI1R_EL1, sgi5 | 1ULL << ICC_SGIR_RS_SHIFT | 0xffff), 0);
	assert_int_equal(host_vgic_sgi(g, 0, ICC_SGI1R_EL1, sgi5 | 1ULL << ICC_SGIR_AFF2_SHIFT | 0xffff), 0);
	assert_int_equal(host_vgic_sgi(g, 0, ICC_SGI1R_EL1, sgi5 | 1ULL << ICC_SGIR_AFF3_SHIFT | 0xffff), 0);
	for (uint32_t v = 0; v < 20; v++)
		assert_false(host_vgic_vcpu_pending(g, v));
	/* all but self */
	assert_int_equal(host_vgic_sgi(g, 7, ICC_SGI1R_EL1, sgi5 | ICC_SGIR_IRM | 0x1), 19);
	for (uint32_t v = 0; v < 20; v++) {
		assert_int_equal(offered(g, v, &c), v == 7 ? 0 : 1);
		gr_w(g, v, SGI(GICR_ICPENDR0), 4, 0xffff);
	}
	/* SGI0R (and ASGI1R) make Group 0 SGIs only; SGI1R either group */
	assert_int_equal(host_vgic_sgi(g, 0, ICC_SGI0R_EL1, sgi5 | 0x2), 0);
	assert_int_equal(host_vgic_sgi(g, 0, ICC_ASGI1R_EL1, sgi5 | 0x2), 0);
	gr_w(g, 1, SGI(GICR_IGROUPR0), 4, ~(1u << 5));
	assert_int_equal(host_vgic_sgi(g, 0, ICC_SGI0R_EL1, sgi5 | 0x2), 1);
	assert_int_equal(flush(g, 1, &c), 1);
	assert_false(c.lr[0] & ICH_LR_GROUP);
	assert_int_equal(host_vgic_sync(g, 1, &c), 0);
	assert_int_equal(host_vgic_sgi(g, 0, ICC_SGI1R_EL1, sgi5 | 0x2), 1);
	host_vgic_destroy(g);
}

/* ---- list registers ---- */

static void test_priority_order_and_overflow(void **state)
{
	struct host_vgic *g = mk(1, 32);
	struct host_vgic_cpuif c;
	static const struct {
		uint32_t intid;
		uint8_t prio;
	} in[] = { { 33, 0xc0 }, { 34, 0x40 }, { 35, 0x80 }, { 36, 0x40 }, { 37, 0x20 }, { 38, 0xf0 } };

	(void)state;
	cpuif_init(&c, 4);
	dist_on(g);
	for (size_t n = 0; n < 6; n++) {
		spi_setup(g, in[n].intid, 0, in[n].prio);
		gd_w(g, GICD_ISPENDR + 4, 4, 1u << (in[n].intid - 32));
	}
	gd_w(g, GICD_ICFGR + 8, 4, 0xaaaaaaaa); /* edge */
	/* 6 pending, 4 LRs: the 4 most urgent (ties by INTID), UIE for the rest */
	assert_int_equal(flush(g, 0, &c), 4);
	assert_int_equal(lr_intid(c.lr[0]), 37);
	assert_int_equal(lr_intid(c.lr[1]), 34);
	assert_int_equal(lr_intid(c.lr[2]), 36);
	assert_int_equal(lr_intid(c.lr[3]), 35);
	assert_int_equal(c.lr[3] >> ICH_LR_PRIORITY_SHIFT & 0xff, 0x80);
	assert_int_equal(c.hcr, ICH_HCR_EN | ICH_HCR_UIE);
	/* the guest takes and completes 37 and 34, acknowledges 36: the next entry
	 * has 36 (active) first, then 35, 33, 38 */
	guest_ack(&c, 0);
	guest_eoi(&c, 0);
	guest_ack(&c, 1);
	guest_eoi(&c, 1);
	guest_ack(&c, 2);
	assert_int_equal(host_vgic_sync(g, 0, &c), 0);
	assert_int_equal(gd_r(g, GICD_ISACTIVER + 4, 4), 1u << 4);
	assert_int_equal(flush(g, 0, &c), 4);
	assert_int_equal(c.lr[0], ICH_LR(ICH_LR_STATE_ACTIVE, 1, 0x40, 36));
	assert_int_equal(lr_intid(c.lr[1]), 35);
	assert_int_equal(lr_intid(c.lr[2]), 33);
	assert_int_equal(lr_intid(c.lr[3]), 38);
	assert_int_equal(c.hcr, ICH_HCR_EN);
	/* everything completed */
	for (unsigned int n = 1; n < 4; n++)
		guest_ack(&c, n);
	for (unsigned int n = 0; n < 4; n++)
		guest_eoi(&c, n);
	assert_int_equal(host_vgic_sync(g, 0, &c), 0);
	assert_int_equal(offered(g, 0, &c), 0);
	assert_int_equal(gd_r(g, GICD_ISACTIVER + 4, 4), 0);
	assert_int_equal(gd_r(g, GICD_ISPENDR + 4, 4), 0);
	host_vgic_destroy(g);
}

/* Overflow with an LR held active-only: NPIE too (exit once nothing is pending) */
static void test_overflow_npie(void **state)
{
	struct host_vgic *g = mk(1, 32);
	struct host_vgic_cpuif c;

	(void)state;
	cpuif_init(&c, 2);
	dist_on(g);
	gr_w(g, 0, SGI(GICR_ISENABLER0), 4, 0x7);
	gr_w(g, 0, SGI(GICR_ISPENDR0), 4, 0x1);
	assert_int_equal(flush(g, 0, &c), 1);
	guest_ack(&c, 0);
	assert_int_equal(host_vgic_sync(g, 0, &c), 0);
	gr_w(g, 0, SGI(GICR_ISPENDR0), 4, 0x6);
	assert_int_equal(flush(g, 0, &c), 2);
	assert_int_equal(c.lr[0], ICH_LR(ICH_LR_STATE_ACTIVE, 1, 0, 0));
	assert_int_equal(lr_intid(c.lr[1]), 1);
	assert_int_equal(c.hcr, ICH_HCR_EN | ICH_HCR_UIE | ICH_HCR_NPIE);
	host_vgic_destroy(g);
}

static void test_level_and_edge(void **state)
{
	struct host_vgic *g = mk(2, 32);
	struct host_vgic_cpuif c;

	(void)state;
	cpuif_init(&c, 4);
	dist_on(g);
	/* level PPI 27 (the virtual timer) on vCPU 1 */
	gr_w(g, 1, SGI(GICR_ISENABLER0), 4, 1u << 27);
	gr_w(g, 1, SGI(GICR_IPRIORITYR0 + 27), 1, 0xa0);
	assert_int_equal(host_vgic_set_level(g, 27, 1, true), 0);
	assert_int_equal(gr_r(g, 1, SGI(GICR_ISPENDR0), 4), 1u << 27);
	assert_int_equal(offered(g, 0, &c), 0);
	assert_int_equal(flush(g, 1, &c), 1);
	assert_int_equal(c.lr[0], ICH_LR(ICH_LR_STATE_PENDING, 1, 0xa0, 27) | ICH_LR_EOI);
	guest_ack(&c, 0);
	assert_int_equal(host_vgic_sync(g, 1, &c), 0);
	/* active, line still high: active only (re-sampled at deactivation) */
	assert_int_equal(flush(g, 1, &c), 1);
	assert_int_equal(c.lr[0], ICH_LR(ICH_LR_STATE_ACTIVE, 1, 0xa0, 27) | ICH_LR_EOI);
	guest_eoi(&c, 0);
	assert_int_equal(host_vgic_sync(g, 1, &c), 0);
	/* EOIed with the line still high: pending again */
	assert_int_equal(flush(g, 1, &c), 1);
	assert_int_equal(c.lr[0], ICH_LR(ICH_LR_STATE_PENDING, 1, 0xa0, 27) | ICH_LR_EOI);
	guest_ack(&c, 0);
	guest_eoi(&c, 0);
	assert_int_equal(host_vgic_set_level(g, 27, 1, false), 0);
	assert_int_equal(host_vgic_sync(g, 1, &c), 0);
	assert_int_equal(offered(g, 1, &c), 0);
	/* a level interrupt made pending by software: consumed once acknowledged */
	gr_w(g, 1, SGI(GICR_ISPENDR0), 4, 1u << 27);
	assert_int_equal(flush(g, 1, &c), 1);
	guest_ack(&c, 0);
	guest_eoi(&c, 0);
	assert_int_equal(host_vgic_sync(g, 1, &c), 0);
	assert_int_equal(offered(g, 1, &c), 0);
	/* ICPENDR cannot clear a level interrupt whose line is high */
	assert_int_equal(host_vgic_set_level(g, 27, 1, true), 0);
	gr_w(g, 1, SGI(GICR_ICPENDR0), 4, 1u << 27);
	assert_int_equal(gr_r(g, 1, SGI(GICR_ISPENDR0), 4), 1u << 27);
	assert_int_equal(host_vgic_set_level(g, 27, 1, false), 0);

	/* edge SPI 33: a rising edge latches, the line staying high does not repeat it */
	gd_w(g, GICD_ICFGR + 8, 4, GIC_ICFG_EDGE << 2);
	spi_setup(g, 33, 0, 0x10);
	assert_int_equal(host_vgic_set_level(g, 33, 0, true), 0);
	assert_int_equal(host_vgic_set_level(g, 33, 0, true), 0);
	assert_int_equal(flush(g, 0, &c), 1);
	assert_int_equal(c.lr[0], ICH_LR(ICH_LR_STATE_PENDING, 1, 0x10, 33));
	guest_ack(&c, 0);
	guest_eoi(&c, 0);
	assert_int_equal(host_vgic_sync(g, 0, &c), 0);
	assert_int_equal(offered(g, 0, &c), 0); /* line still high: no new edge */
	assert_int_equal(host_vgic_set_level(g, 33, 0, false), 0);
	assert_int_equal(offered(g, 0, &c), 0);
	assert_int_equal(host_vgic_set_level(g, 33, 0, true), 0);
	assert_int_equal(offered(g, 0, &c), 1);
	/* not acknowledged during the run: still pending after the sync */
	assert_int_equal(offered(g, 0, &c), 1);
	host_vgic_destroy(g);
}

static void test_active_pending(void **state)
{
	struct host_vgic *g = mk(2, 32);
	struct host_vgic_cpuif c;
	uint64_t sgi3 = 3ULL << ICC_SGIR_INTID_SHIFT | 0x1; /* to vCPU 0 */

	(void)state;
	cpuif_init(&c, 4);
	dist_on(g);
	gr_w(g, 0, SGI(GICR_ISENABLER0), 4, 1u << 3);
	assert_int_equal(host_vgic_sgi(g, 1, ICC_SGI1R_EL1, sgi3), 1);
	assert_int_equal(flush(g, 0, &c), 1);
	guest_ack(&c, 0);
	/* a second SGI while the first is active, during the run */
	assert_int_equal(host_vgic_sgi(g, 1, ICC_SGI1R_EL1, sgi3), 1);
	assert_true(host_vgic_vcpu_pending(g, 0));
	assert_int_equal(host_vgic_sync(g, 0, &c), 0);
	assert_int_equal(gr_r(g, 0, SGI(GICR_ISACTIVER0), 4), 1u << 3);
	assert_int_equal(gr_r(g, 0, SGI(GICR_ISPENDR0), 4), 1u << 3);
	/* one LR, pending and active */
	assert_int_equal(flush(g, 0, &c), 1);
	assert_int_equal(c.lr[0], ICH_LR(ICH_LR_STATE_PENDING_ACTIVE, 1, 0, 3));
	/* the guest completes the first; the second stays pending */
	c.lr[0] = (c.lr[0] & ~ICH_LR_STATE_MASK) | ICH_LR_PENDING_BIT;
	assert_int_equal(host_vgic_sync(g, 0, &c), 0);
	assert_int_equal(gr_r(g, 0, SGI(GICR_ISACTIVER0), 4), 0);
	assert_int_equal(flush(g, 0, &c), 1);
	assert_int_equal(c.lr[0], ICH_LR(ICH_LR_STATE_PENDING, 1, 0, 3));
	guest_ack(&c, 0);
	guest_eoi(&c, 0);
	assert_int_equal(host_vgic_sync(g, 0, &c), 0);
	assert_int_equal(offered(g, 0, &c), 0);
	/* an SPI active on vCPU 0 stays there when re-routed, until deactivated */
	spi_setup(g, 32, 0, 0);
	gd_w(g, GICD_ISPENDR + 4, 4, 1);
	assert_int_equal(flush(g, 0, &c), 1);
	guest_ack(&c, 0);
	assert_int_equal(host_vgic_sync(g, 0, &c), 0);
	gd_w(g, GICD_IROUTER + 8 * 32, 8, 1);
	gd_w(g, GICD_ISPENDR + 4, 4, 1);
	assert_int_equal(offered(g, 1, &c), 0);
	assert_int_equal(flush(g, 0, &c), 1);
	assert_int_equal(c.lr[0], ICH_LR(ICH_LR_STATE_ACTIVE, 1, 0, 32) | ICH_LR_EOI); /* level: A only */
	guest_eoi(&c, 0);
	assert_int_equal(host_vgic_sync(g, 0, &c), 0);
	assert_int_equal(offered(g, 0, &c), 0);
	assert_int_equal(offered(g, 1, &c), 1);
	host_vgic_destroy(g);
}

/* A flush not followed by a run: the next flush offers the same, nothing lost */
static void test_flush_twice(void **state)
{
	struct host_vgic *g = mk(1, 32);
	struct host_vgic_cpuif c;

	(void)state;
	cpuif_init(&c, 4);
	dist_on(g);
	gr_w(g, 0, SGI(GICR_ISENABLER0), 4, 0x3);
	gr_w(g, 0, SGI(GICR_ISPENDR0), 4, 0x3);
	assert_int_equal(flush(g, 0, &c), 2);
	assert_true(host_vgic_vcpu_pending(g, 0)); /* from the LRs */
	assert_int_equal(flush(g, 0, &c), 2);
	assert_int_equal(lr_intid(c.lr[0]), 0);
	assert_int_equal(lr_intid(c.lr[1]), 1);
	assert_int_equal(host_vgic_sync(g, 0, &c), 0);
	assert_int_equal(host_vgic_sync(g, 0, &c), 0); /* a second sync changes nothing */
	assert_int_equal(offered(g, 0, &c), 2);
	host_vgic_destroy(g);
}

/* Through a machine's host CPUs: LRs, HCR, VMCR, APRs written and read back */
static void test_hcpu(void **state)
{
	struct rk_machine_config cfg;
	struct rk_machine *m = NULL;
	struct host_vgic *g = mk(2, 32);
	uint64_t v = 0, vmcr;

	(void)state;
	rk_machine_config_default(&cfg);
	cfg.dram_size = 16ULL << 20;
	cfg.ncpus = 2;
	assert_int_equal(rk_machine_create(&cfg, &m), 0);
	dist_on(g);
	for (uint32_t n = 0; n < 6; n++)
		spi_setup(g, 32 + n, 0, (uint8_t)(0x80 - 8 * n));
	gd_w(g, GICD_ISPENDR + 4, 4, 0x3f);
	/* 4 LRs (the platform's default): SPIs 37..34 by priority, UIE */
	assert_int_equal(host_vgic_flush_hcpu(g, 0, m, 1), 4);
	for (uint32_t n = 0; n < 4; n++) {
		assert_int_equal(rk_hcpu_ich_read(m, 1, ICH_LR_EL2(n), &v), 0);
		assert_int_equal(v, ICH_LR(ICH_LR_STATE_PENDING, 1, 0x80 - 8 * (5 - n), 37 - n) | ICH_LR_EOI);
	}
	assert_int_equal(rk_hcpu_ich_read(m, 1, ICH_HCR_EL2, &v), 0);
	assert_int_equal(v, ICH_HCR_EN | ICH_HCR_UIE);
	/* the "guest": acknowledges and deactivates all four, sets its PMR and an
	 * active priority; the RMM clears En at the exit */
	for (uint32_t n = 0; n < 4; n++)
		assert_int_equal(rk_hcpu_ich_write(m, 1, ICH_LR_EL2(n), ICH_LR_EOI), 0);
	assert_int_equal(
		rk_hcpu_ich_write(m, 1, ICH_VMCR_EL2, 0xf0ULL << ICH_VMCR_VPMR_SHIFT | ICH_VMCR_VENG1), 0);
	assert_int_equal(rk_hcpu_ich_read(m, 1, ICH_VMCR_EL2, &vmcr), 0);
	assert_int_equal(rk_hcpu_ich_write(m, 1, ICH_AP1R_EL2(0), 0x4), 0);
	assert_int_equal(rk_hcpu_ich_write(m, 1, ICH_HCR_EL2, 0), 0);
	assert_int_equal(host_vgic_sync_hcpu(g, 0, m, 1), 0);
	assert_int_equal(gd_r(g, GICD_ISPENDR + 4, 4), 0x3);
	/* next entry on the other host CPU: the rest, and the vCPU's VMCR and APRs follow it */
	assert_int_equal(host_vgic_flush_hcpu(g, 0, m, 0), 2);
	assert_int_equal(rk_hcpu_ich_read(m, 0, ICH_LR_EL2(0), &v), 0);
	assert_int_equal(lr_intid(v), 33);
	assert_int_equal(rk_hcpu_ich_read(m, 0, ICH_LR_EL2(2), &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(rk_hcpu_ich_read(m, 0, ICH_HCR_EL2, &v), 0);
	assert_int_equal(v, ICH_HCR_EN);
	assert_int_equal(rk_hcpu_ich_read(m, 0, ICH_VMCR_EL2, &v), 0);
	assert_int_equal(v, vmcr);
	assert_int_equal(rk_hcpu_ich_read(m, 0, ICH_AP1R_EL2(0), &v), 0);
	assert_int_equal(v, 0x4);
	assert_int_equal(host_vgic_sync_hcpu(g, 0, m, 0), 0);
	assert_int_equal(gd_r(g, GICD_ISPENDR + 4, 4), 0x3); /* not taken: still pending */
	/* a CPU the machine does not have */
	assert_true(host_vgic_flush_hcpu(g, 0, m, 2) < 0);
	assert_true(host_vgic_sync_hcpu(g, 0, m, 2) < 0);
	rk_machine_destroy(m);
	host_vgic_destroy(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gicd_id_regs),
		cmocka_unit_test(test_gicd_tables),
		cmocka_unit_test(test_gicd_irouter),
		cmocka_unit_test(test_gicr_regs),
		cmocka_unit_test(test_gicr_waker),
		cmocka_unit_test(test_gicr_sgi_base),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_api_errors),
		cmocka_unit_test(test_spi_routing),
		cmocka_unit_test(test_sgi_targets),
		cmocka_unit_test(test_priority_order_and_overflow),
		cmocka_unit_test(test_overflow_npie),
		cmocka_unit_test(test_level_and_edge),
		cmocka_unit_test(test_active_pending),
		cmocka_unit_test(test_flush_twice),
		cmocka_unit_test(test_hcpu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
