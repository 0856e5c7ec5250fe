/* SPDX-License-Identifier: MIT */
/*
 * The host's virtual GICv3 (vgic.h): distributor and redistributor MMIO,
 * interrupt state, and the list-register flush/fold of Linux KVM's vgic
 * (vgic-mmio-v3.c, vgic-v3.c vgic_v3_populate_lr()/vgic_v3_fold_lr_state(),
 * vgic.c vgic_flush_lr_state()/vgic_irq_cmp()).
 *
 * Choices (docs/architecture.md, "Interrupts"):
 *  - a single security state: GICD_CTLR.DS and ARE are RAO/WI, EnableGrp0 and
 *    EnableGrp1 gate the forwarding of their group (SGIs and PPIs included);
 *  - no LPIs, no ITS: GICD_TYPER.IDbits = 9 (INTIDs below 1024), GICR_CTLR,
 *    PROPBASER, PENDBASER RAZ/WI;
 *  - SGIs are edge-triggered, PPIs level-sensitive; their ICFGR are read-only
 *    (as KVM's); SPIs are configurable (reset: level);
 *  - IROUTER.IRM (1 of N) is RAZ/WI (GICD_TYPER.No1N = 1); the vCPUs' Aff3 is
 *    0 (at most 4096 vCPUs), so IROUTER's Aff3 is RAZ/WI (A3V = 0);
 *  - GICR_WAKER: ChildrenAsleep follows ProcessorSleep at once (reset: both
 *    1), the handshake Linux's gic_enable_redist() waits for; a sleeping
 *    redistributor still forwards interrupts (KVM makes WAKER RAZ/WI);
 *  - priorities are kept with their 8 bits (as KVM); the CPU interface keeps
 *    its implemented bits.
 *
 * Where an interrupt's state is: while it is in a vCPU's list registers
 * (between a flush and the sync), in them — an edge interrupt's latch is
 * moved into the LR — and it is lr_vcpu's; no other vCPU's flush takes it.
 * An active interrupt stays with the vCPU it is active on (active_vcpu) until
 * deactivated, whatever its routing says meanwhile.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "host_internal.h"
#include "vgic.h"

#define NO_VCPU UINT32_MAX

struct vgic_irq {
	uint64_t route;       /* SPI: GICD_IROUTER (affinity only) */
	uint32_t intid;       /* INTID */
	uint32_t target;      /* SPI: the vCPU route names, or NO_VCPU; private: its vCPU */
	uint32_t lr_vcpu;     /* in this vCPU's LRs (flushed, not yet synced), or NO_VCPU */
	uint32_t active_vcpu; /* active on this vCPU (valid while active) */
	uint8_t priority;
	uint8_t group; /* 1: Group 1 */
	uint8_t enabled;
	uint8_t edge;   /* 1: edge-triggered */
	uint8_t latch;  /* edge: pending latch; level: software pending (ISPENDR) */
	uint8_t level;  /* the device's line */
	uint8_t active; /* active in the distributor's view (not in an LR) */
	uint8_t pad;
};

struct vgic_vcpu {
	struct vgic_irq priv[GIC_NR_PRIVATE];
	struct host_vgic_cpuif saved; /* the last image flushed, VMCR and APRs the last sync saw */
	uint32_t lr_intid[ICH_MAX_LRS];
	uint32_t nr_used; /* LRs the last flush filled */
	uint32_t live;    /* flushed, not yet synced */
	uint32_t sleep;   /* GICR_WAKER.ProcessorSleep */
	uint32_t pad;
};

struct host_vgic {
	pthread_mutex_t mtx;
	struct vgic_vcpu *cpu;
	struct vgic_irq *spi;
	struct vgic_irq **cand; /* flush's scratch: 32 + nr_spis */
	uint32_t nvcpus, nr_spis;
	uint32_t ctlr; /* EnableGrp0, EnableGrp1 */
	uint32_t pad;
};

/* ---- affinity ---- */

/* vCPU idx's affinity as MPIDR_EL1 lays it out (host_rec_mpidr()'s fields) */
static uint64_t vcpu_aff(uint32_t idx)
{
	uint64_t r = host_rec_mpidr(idx);

	return (r & 0xffffffULL) | (r >> 24 & 0xff) << 32;
}

/* The vCPU whose MPIDR affinity is aff (Aff3 [39:32], Aff2..Aff0 [23:0]), or NO_VCPU */
static uint32_t aff_vcpu(const struct host_vgic *g, uint64_t aff)
{
	uint64_t aff0 = aff & 0xff, aff1 = aff >> 8 & 0xff, aff2 = aff >> 16 & 0xff, aff3 = aff >> 32 & 0xff;
	uint64_t idx;

	if (aff0 > 0xf)
		return NO_VCPU;
	idx = aff0 | aff1 << 4 | aff2 << 12 | aff3 << 20;
	return idx < g->nvcpus ? (uint32_t)idx : NO_VCPU;
}

/* ---- interrupt state ---- */

static struct vgic_irq *irq_get(struct host_vgic *g, uint32_t vcpu, uint32_t intid)
{
	if (intid < GIC_NR_PRIVATE)
		return vcpu < g->nvcpus ? &g->cpu[vcpu].priv[intid] : NULL;
	if (intid - GIC_NR_PRIVATE < g->nr_spis)
		return &g->spi[intid - GIC_NR_PRIVATE];
	return NULL;
}

static bool irq_pending(const struct vgic_irq *i)
{
	return i->latch || (!i->edge && i->level);
}

static bool group_enabled(const struct host_vgic *g, const struct vgic_irq *i)
{
	return (g->ctlr & (i->group ? GICD_CTLR_ENABLEGRP1 : GICD_CTLR_ENABLEGRP0)) != 0;
}

/* The vCPU that should see i (KVM's vgic_target_oracle), or NO_VCPU */
static uint32_t irq_oracle(const struct host_vgic *g, const struct vgic_irq *i)
{
	if (i->active)
		return i->active_vcpu;
	if (i->enabled && irq_pending(i) && group_enabled(g, i))
		return i->target;
	return NO_VCPU;
}

static void irq_reset(struct vgic_irq *i, uint32_t intid, uint32_t vcpu)
{
	memset(i, 0, sizeof(*i));
	i->intid = intid;
	i->group = 1; /* as KVM for GICv3 */
	i->edge = intid < GIC_NR_SGIS;
	i->target = vcpu;
	i->lr_vcpu = NO_VCPU;
	i->active_vcpu = NO_VCPU;
}

int host_vgic_create(uint32_t nvcpus, uint32_t nr_spis, struct host_vgic **out)
{
	struct host_vgic *g;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!nr_spis)
		nr_spis = HOST_VGIC_DEFAULT_SPIS;
	if (!nvcpus || nvcpus > HOST_MAX_VCPUS || nr_spis % 32 || nr_spis > GIC_MAX_SPIS / 32 * 32)
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->cpu = calloc(nvcpus, sizeof(*g->cpu));
	g->spi = calloc(nr_spis, sizeof(*g->spi));
	g->cand = calloc(GIC_NR_PRIVATE + nr_spis, sizeof(*g->cand));
	if (!g->cpu || !g->spi || !g->cand || pthread_mutex_init(&g->mtx, NULL)) {
		free(g->cpu);
		free(g->spi);
		free(g->cand);
		free(g);
		return -ENOMEM;
	}
	g->nvcpus = nvcpus;
	g->nr_spis = nr_spis;
	for (uint32_t c = 0; c < nvcpus; c++) {
		for (uint32_t i = 0; i < GIC_NR_PRIVATE; i++)
			irq_reset(&g->cpu[c].priv[i], i, c);
		g->cpu[c].sleep = 1;
	}
	/* SPIs reset routed to vCPU 0 (IROUTER 0) */
	for (uint32_t i = 0; i < nr_spis; i++)
		irq_reset(&g->spi[i], GIC_NR_PRIVATE + i, 0);
	*out = g;
	return 0;
}

void host_vgic_destroy(struct host_vgic *g)
{
	if (!g)
		return;
	pthread_mutex_destroy(&g->mtx);
	free(g->cpu);
	free(g->spi);
	free(g->cand);
	free(g);
}

uint32_t host_vgic_nr_irqs(const struct host_vgic *g)
{
	return GIC_NR_PRIVATE + g->nr_spis;
}

int host_vgic_set_level(struct host_vgic *g, uint32_t intid, uint32_t vcpu, bool level)
{
	struct vgic_irq *i;

	if (!g || intid < GIC_NR_SGIS)
		return -EINVAL;
	pthread_mutex_lock(&g->mtx);
	i = irq_get(g, vcpu, intid);
	if (i) {
		if (i->edge && level && !i->level)
			i->latch = 1;
		i->level = level;
	}
	pthread_mutex_unlock(&g->mtx);
	return i ? 0 : -EINVAL;
}

int host_vgic_sgi(struct host_vgic *g, uint32_t src, uint32_t reg, uint64_t value)
{
	uint32_t sgi = (uint32_t)(value >> ICC_SGIR_INTID_SHIFT & 0xf);
	uint64_t aff = (value >> ICC_SGIR_AFF1_SHIFT & 0xff) << 8 |
		       (value >> ICC_SGIR_AFF2_SHIFT & 0xff) << 16 |
		       (value >> ICC_SGIR_AFF3_SHIFT & 0xff) << 32;
	uint32_t rs = (uint32_t)(value >> ICC_SGIR_RS_SHIFT & 0xf);
	bool allow_g1 = reg == ICC_SGI1R_EL1;
	int n = 0;

	if (!g || src >= g->nvcpus || (reg != ICC_SGI1R_EL1 && reg != ICC_SGI0R_EL1 && reg != ICC_ASGI1R_EL1))
		return -EINVAL;
	pthread_mutex_lock(&g->mtx);
	for (uint32_t c = 0; c < g->nvcpus; c++) {
		struct vgic_irq *i = &g->cpu[c].priv[sgi];
		uint64_t a = vcpu_aff(c);

		if (value & ICC_SGIR_IRM) {
			if (c == src)
				continue;
		} else {
			uint64_t aff0 = a & 0xff;
			if ((a & ~0xffULL) != aff || aff0 >> 4 != rs ||
			    !(value & ICC_SGIR_TARGETLIST_MASK & (1ULL << (aff0 & 0xf))))
				continue;
		}
		/* SGI0R makes Group 0 SGIs only; SGI1R either group (KVM's vgic_v3_queue_sgi) */
		if (i->group && !allow_g1)
			continue;
		i->latch = 1;
		n++;
	}
	pthread_mutex_unlock(&g->mtx);
	return n;
}

/* ---- list registers ---- */

/* KVM's vgic_irq_cmp: active first, then by priority, then INTID */
static int irq_cmp(const void *a, const void *b)
{
	const struct vgic_irq *x = *(const struct vgic_irq *const *)a,
			      *y = *(const struct vgic_irq *const *)b;

	if (x->active != y->active)
		return (int)y->active - (int)x->active;
	if (x->priority != y->priority)
		return (int)x->priority - (int)y->priority;
	return x->intid < y->intid ? -1 : x->intid > y->intid;
}

/* KVM's vgic_v3_populate_lr */
static uint64_t populate_lr(struct vgic_irq *i)
{
	uint64_t lr = ICH_LR(0, i->group, i->priority, i->intid);
	/* a level interrupt is not made pending+active: it is re-sampled once deactivated */
	bool allow_pending = i->edge || !i->active;

	if (allow_pending && irq_pending(i)) {
		lr |= ICH_LR_PENDING_BIT;
		if (i->edge)
			i->latch = 0; /* the LR holds it now */
	}
	if (i->active)
		lr |= ICH_LR_ACTIVE_BIT;
	if (!i->edge)
		lr |= ICH_LR_EOI; /* a maintenance interrupt at deactivation: re-sample the line */
	return lr;
}

/* KVM's vgic_v3_fold_lr_state, for one LR the last flush filled (written: as it
 * wrote it, lr: as the run left it) */
static void fold_lr(struct vgic_irq *i, uint32_t vcpu, uint64_t written, uint64_t lr)
{
	i->active = (lr & ICH_LR_ACTIVE_BIT) != 0;
	i->active_vcpu = i->active ? vcpu : NO_VCPU;
	if (i->edge && (lr & ICH_LR_PENDING_BIT))
		i->latch = 1;
	/* level: acknowledged (offered pending, no longer pending) consumes a
	 * software pend; the line itself is sampled again at the next flush */
	if (!i->edge && (written & ICH_LR_PENDING_BIT) && !(lr & ICH_LR_PENDING_BIT))
		i->latch = 0;
	i->lr_vcpu = NO_VCPU;
}

static void sync_locked(struct host_vgic *g, uint32_t vcpu, const uint64_t *lrs)
{
	struct vgic_vcpu *c = &g->cpu[vcpu];

	for (uint32_t n = 0; n < c->nr_used; n++) {
		struct vgic_irq *i = irq_get(g, vcpu, c->lr_intid[n]);
		if (i)
			fold_lr(i, vcpu, c->saved.lr[n], lrs[n]);
	}
	c->nr_used = 0;
	c->live = 0;
}

static bool cpuif_ok(const struct host_vgic_cpuif *c)
{
	return c && c->nr_lrs >= 1 && c->nr_lrs <= ICH_MAX_LRS &&
	       (c->nr_aprs == 1 || c->nr_aprs == 2 || c->nr_aprs == 4);
}

int host_vgic_flush(struct host_vgic *g, uint32_t vcpu, struct host_vgic_cpuif *c)
{
	struct vgic_vcpu *vc;
	uint32_t count = 0, used;
	bool active_only = false;

	if (!g || vcpu >= g->nvcpus || !cpuif_ok(c))
		return -EINVAL;
	pthread_mutex_lock(&g->mtx);
	vc = &g->cpu[vcpu];
	if (vc->live) /* flushed and not run: fold back what was written */
		sync_locked(g, vcpu, vc->saved.lr);
	for (uint32_t n = 0; n < GIC_NR_PRIVATE + g->nr_spis; n++) {
		struct vgic_irq *i = n < GIC_NR_PRIVATE ? &vc->priv[n] : &g->spi[n - GIC_NR_PRIVATE];
		if (i->lr_vcpu == NO_VCPU && irq_oracle(g, i) == vcpu)
			g->cand[count++] = i;
	}
	qsort(g->cand, count, sizeof(*g->cand), irq_cmp);
	used = count < c->nr_lrs ? count : c->nr_lrs;
	memset(c->lr, 0, sizeof(c->lr));
	for (uint32_t n = 0; n < used; n++) {
		struct vgic_irq *i = g->cand[n];
		c->lr[n] = populate_lr(i);
		i->lr_vcpu = vcpu;
		vc->lr_intid[n] = i->intid;
		if ((c->lr[n] & ICH_LR_STATE_MASK) == ICH_LR_ACTIVE_BIT)
			active_only = true;
	}
	c->hcr = ICH_HCR_EN;
	if (count > used) {
		/* the rest waits for LRs to empty (underflow); an interrupt held active
		 * (EOImode 1, nesting) could delay that: also exit once none is pending */
		c->hcr |= ICH_HCR_UIE;
		if (active_only)
			c->hcr |= ICH_HCR_NPIE;
	}
	c->vmcr = vc->saved.vmcr;
	memcpy(c->ap0r, vc->saved.ap0r, sizeof(c->ap0r));
	memcpy(c->ap1r, vc->saved.ap1r, sizeof(c->ap1r));
	memcpy(vc->saved.lr, c->lr, sizeof(c->lr));
	vc->saved.hcr = c->hcr;
	vc->nr_used = used;
	vc->live = 1;
	pthread_mutex_unlock(&g->mtx);
	return (int)used;
}

int host_vgic_sync(struct host_vgic *g, uint32_t vcpu, const struct host_vgic_cpuif *c)
{
	struct vgic_vcpu *vc;

	if (!g || vcpu >= g->nvcpus || !cpuif_ok(c))
		return -EINVAL;
	pthread_mutex_lock(&g->mtx);
	vc = &g->cpu[vcpu];
	if (vc->live) {
		sync_locked(g, vcpu, c->lr);
		vc->saved.vmcr = c->vmcr;
		memcpy(vc->saved.ap0r, c->ap0r, sizeof(c->ap0r));
		memcpy(vc->saved.ap1r, c->ap1r, sizeof(c->ap1r));
	}
	pthread_mutex_unlock(&g->mtx);
	return 0;
}

static int hcpu_geometry(struct rk_machine *m, unsigned int cpu, struct host_vgic_cpuif *c)
{
	uint64_t vtr = 0;
	int ret = rk_hcpu_ich_read(m, cpu, ICH_VTR_EL2, &vtr);

	if (ret)
		return ret;
	memset(c, 0, sizeof(*c));
	c->nr_lrs = (uint32_t)(vtr & ICH_VTR_LISTREGS_MASK) + 1;
	if (c->nr_lrs > ICH_MAX_LRS)
		c->nr_lrs = ICH_MAX_LRS;
	/* 5 preemption bits: 1 APR per group, 6: 2, 7: 4 */
	c->nr_aprs =
		1u << ((vtr >> ICH_VTR_PREBITS_SHIFT & 7) > 4 ? (vtr >> ICH_VTR_PREBITS_SHIFT & 7) - 4 : 0);
	if (c->nr_aprs > ICH_MAX_APRS)
		c->nr_aprs = ICH_MAX_APRS;
	return 0;
}

int host_vgic_flush_hcpu(struct host_vgic *g, uint32_t vcpu, struct rk_machine *m, unsigned int cpu)
{
	struct host_vgic_cpuif c;
	int ret = hcpu_geometry(m, cpu, &c), used;

	if (ret)
		return ret;
	used = host_vgic_flush(g, vcpu, &c);
	if (used < 0)
		return used;
	for (uint32_t n = 0; n < c.nr_lrs && !ret; n++)
		ret = rk_hcpu_ich_write(m, cpu, ICH_LR_EL2(n), c.lr[n]);
	for (uint32_t n = 0; n < c.nr_aprs && !ret; n++) {
		ret = rk_hcpu_ich_write(m, cpu, ICH_AP0R_EL2(n), c.ap0r[n]);
		if (!ret)
			ret = rk_hcpu_ich_write(m, cpu, ICH_AP1R_EL2(n), c.ap1r[n]);
	}
	if (!ret)
		ret = rk_hcpu_ich_write(m, cpu, ICH_VMCR_EL2, c.vmcr);
	if (!ret)
		ret = rk_hcpu_ich_write(m, cpu, ICH_HCR_EL2, c.hcr);
	return ret ? ret : used;
}

int host_vgic_sync_hcpu(struct host_vgic *g, uint32_t vcpu, struct rk_machine *m, unsigned int cpu)
{
	struct host_vgic_cpuif c;
	int ret = hcpu_geometry(m, cpu, &c);

	if (ret)
		return ret;
	for (uint32_t n = 0; n < c.nr_lrs && !ret; n++)
		ret = rk_hcpu_ich_read(m, cpu, ICH_LR_EL2(n), &c.lr[n]);
	for (uint32_t n = 0; n < c.nr_aprs && !ret; n++) {
		ret = rk_hcpu_ich_read(m, cpu, ICH_AP0R_EL2(n), &c.ap0r[n]);
		if (!ret)
			ret = rk_hcpu_ich_read(m, cpu, ICH_AP1R_EL2(n), &c.ap1r[n]);
	}
	if (!ret)
		ret = rk_hcpu_ich_read(m, cpu, ICH_VMCR_EL2, &c.vmcr);
	if (!ret)
		ret = rk_hcpu_ich_read(m, cpu, ICH_HCR_EL2, &c.hcr);
	return ret ? ret : host_vgic_sync(g, vcpu, &c);
}

bool host_vgic_vcpu_pending(struct host_vgic *g, uint32_t vcpu)
{
	bool r = false;

	if (!g || vcpu >= g->nvcpus)
		return false;
	pthread_mutex_lock(&g->mtx);
	for (uint32_t n = 0; n < g->cpu[vcpu].nr_used && g->cpu[vcpu].live && !r; n++)
		r = (g->cpu[vcpu].saved.lr[n] & ICH_LR_PENDING_BIT) != 0;
	for (uint32_t n = 0; n < GIC_NR_PRIVATE + g->nr_spis && !r; n++) {
		struct vgic_irq *i = n < GIC_NR_PRIVATE ? &g->cpu[vcpu].priv[n] : &g->spi[n - GIC_NR_PRIVATE];
		r = i->lr_vcpu == NO_VCPU && !i->active && irq_oracle(g, i) == vcpu;
	}
	pthread_mutex_unlock(&g->mtx);
	return r;
}

void host_vgic_vcpu_reset(struct host_vgic *g, uint32_t vcpu)
{
	struct vgic_vcpu *c;

	if (!g || vcpu >= g->nvcpus)
		return;
	pthread_mutex_lock(&g->mtx);
	c = &g->cpu[vcpu];
	if (c->live) /* flushed and not run: fold back what was written */
		sync_locked(g, vcpu, c->saved.lr);
	c->saved.vmcr = 0;
	memset(c->saved.ap0r, 0, sizeof(c->saved.ap0r));
	memset(c->saved.ap1r, 0, sizeof(c->saved.ap1r));
	/* what was active on the PE is gone with its context: inactive, pending kept */
	for (uint32_t n = 0; n < GIC_NR_PRIVATE + g->nr_spis; n++) {
		struct vgic_irq *i = n < GIC_NR_PRIVATE ? &c->priv[n] : &g->spi[n - GIC_NR_PRIVATE];
		if (i->active && i->active_vcpu == vcpu) {
			i->active = 0;
			i->active_vcpu = NO_VCPU;
		}
	}
	pthread_mutex_unlock(&g->mtx);
}

/* ---- MMIO: the per-INTID tables shared by the distributor and redistributors ---- */

enum reg_kind { R_GROUP, R_SENABLE, R_CENABLE, R_SPEND, R_CPEND, R_SACTIVE, R_CACTIVE };

/* Bit b of a 1-bit-per-INTID register */
static bool bit_read(const struct vgic_irq *i, enum reg_kind k)
{
	switch (k) {
	case R_GROUP:
		return i->group;
	case R_SENABLE:
	case R_CENABLE:
		return i->enabled;
	case R_SPEND:
	case R_CPEND:
		return irq_pending(i);
	default:
		return i->active;
	}
}

static void bit_write(struct vgic_irq *i, enum reg_kind k, bool one)
{
	switch (k) {
	case R_GROUP:
		i->group = one;
		break;
	case R_SENABLE:
		i->enabled |= one;
		break;
	case R_CENABLE:
		if (one)
			i->enabled = 0;
		break;
	case R_SPEND:
		i->latch |= one;
		break;
	case R_CPEND:
		if (one)
			i->latch = 0;
		break;
	case R_SACTIVE:
		if (one && !i->active) {
			i->active = 1;
			i->active_vcpu = i->target;
		}
		break;
	case R_CACTIVE:
		if (one)
			i->active = 0;
		break;
	}
}

/* INTIDs base..base+31 of table k (for private ones, vcpu's) */
static uint32_t bits_read(struct host_vgic *g, uint32_t vcpu, uint32_t base, enum reg_kind k)
{
	uint32_t v = 0;

	for (uint32_t b = 0; b < 32; b++) {
		struct vgic_irq *i = irq_get(g, vcpu, base + b);
		if (i && bit_read(i, k))
			v |= 1u << b;
	}
	return v;
}

static void bits_write(struct host_vgic *g, uint32_t vcpu, uint32_t base, enum reg_kind k, uint32_t v)
{
	for (uint32_t b = 0; b < 32; b++) {
		struct vgic_irq *i = irq_get(g, vcpu, base + b);
		if (i && (k == R_GROUP || (v >> b & 1)))
			bit_write(i, k, v >> b & 1);
	}
}

/* The 1-bit tables (IGROUPR .. ICACTIVER) at offsets 0x80-0x3ff: 32-bit accesses */
static bool bitmap_reg(uint64_t off, uint32_t *word, enum reg_kind *k)
{
	static const enum reg_kind kinds[] = { R_GROUP, R_SENABLE, R_CENABLE, R_SPEND,
					       R_CPEND, R_SACTIVE, R_CACTIVE };

	if (off < GICD_IGROUPR || off >= GICD_IPRIORITYR)
		return false;
	*k = kinds[(off - GICD_IGROUPR) / GICD_IRQ_BITMAP_END];
	*word = (uint32_t)((off - GICD_IGROUPR) % GICD_IRQ_BITMAP_END / 4);
	return true;
}

static uint32_t cfg_read(struct host_vgic *g, uint32_t vcpu, uint32_t base)
{
	uint32_t v = 0;

	for (uint32_t n = 0; n < 16; n++) {
		struct vgic_irq *i = irq_get(g, vcpu, base + n);
		if (i && i->edge)
			v |= GIC_ICFG_EDGE << (2 * n);
	}
	return v;
}

static void cfg_write(struct host_vgic *g, uint32_t base, uint32_t v)
{
	for (uint32_t n = 0; n < 16; n++) {
		struct vgic_irq *i = base + n >= GIC_NR_PRIVATE ? irq_get(g, 0, base + n) : NULL;
		if (i)
			i->edge = (v >> (2 * n) & GIC_ICFG_EDGE) != 0;
	}
}

/*
 * The register tables common to GICD (vcpu = NO_VCPU: SPIs only, INTIDs 0-31
 * RAZ/WI under affinity routing) and GICR's SGI_base (vcpu's INTIDs 0-31).
 * Returns false when off is no such register (the caller goes on).
 */
static bool table_access(struct host_vgic *g, uint32_t vcpu, uint64_t off, uint32_t size, bool write,
			 uint64_t *val)
{
	bool private = vcpu != NO_VCPU;
	uint32_t word, intid;
	enum reg_kind k;

	if (bitmap_reg(off, &word, &k)) {
		if (size != 4 || off & 3 || (private ? word != 0 : word == 0))
			return false;
		if (write)
			bits_write(g, vcpu, word * 32, k, (uint32_t)*val);
		else
			*val = bits_read(g, vcpu, word * 32, k);
		return true;
	}
	if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR_END) {
		/* byte- or word-accessible */
		intid = (uint32_t)(off - GICD_IPRIORITYR);
		if ((size != 1 && size != 4) || off & (size - 1) || (private ? intid >= 32 : intid < 32))
			return false;
		if (!write)
			*val = 0;
		for (uint32_t n = 0; n < size; n++) {
			struct vgic_irq *i = irq_get(g, vcpu, intid + n);
			if (!i)
				continue;
			if (write)
				i->priority = (uint8_t)(*val >> (8 * n));
			else
				*val |= (uint64_t)i->priority << (8 * n);
		}
		return true;
	}
	if (off >= GICD_ICFGR && off < GICD_ICFGR_END) {
		intid = (uint32_t)(off - GICD_ICFGR) / 4 * 16;
		if (size != 4 || off & 3 || (private ? intid >= 32 : intid < 32))
			return false;
		if (write)
			cfg_write(g, intid, (uint32_t)*val);
		else
			*val = cfg_read(g, vcpu, intid);
		return true;
	}
	return false;
}

/* ---- the distributor ---- */

static uint32_t gicd_typer(const struct host_vgic *g)
{
	uint32_t cpus = g->nvcpus > 8 ? 8 : g->nvcpus;

	return ((GIC_NR_PRIVATE + g->nr_spis) / 32 - 1) | (cpus - 1) << GICD_TYPER_CPUNUMBER_SHIFT |
	       (10u - 1) << GICD_TYPER_IDBITS_SHIFT | (uint32_t)GICD_TYPER_NO1N;
}

static void gicd_access(struct host_vgic *g, uint64_t off, uint32_t size, bool write, uint64_t *val)
{
	uint64_t v = write ? *val : 0;

	if (off >= GICD_IROUTER && off < GICD_IROUTER_END) {
		/* 64-bit, or 32-bit halves */
		uint32_t intid = (uint32_t)((off - GICD_IROUTER) / 8);
		struct vgic_irq *i = intid >= GIC_NR_PRIVATE ? irq_get(g, 0, intid) : NULL;
		unsigned int sh = (off & 4) * 8;
		uint64_t mask;

		if (!i || (size != 8 && size != 4) || off & (size - 1))
			goto raz;
		mask = (size == 8 ? ~0ULL : 0xffffffffULL) << sh;
		if (write) {
			/* Aff2.Aff1.Aff0 only: IRM (No1N) and Aff3 (no A3V) RAZ/WI */
			i->route = ((i->route & ~mask) | (v << sh & mask)) & 0xffffffULL;
			i->target = aff_vcpu(g, i->route);
		} else {
			*val = (i->route & mask) >> sh;
		}
		return;
	}
	if (table_access(g, NO_VCPU, off, size, write, val))
		return;
	if (size != 4 || off & 3)
		goto raz;
	switch (off) {
	case GICD_CTLR:
		if (write)
			g->ctlr = (uint32_t)v & (uint32_t)(GICD_CTLR_ENABLEGRP0 | GICD_CTLR_ENABLEGRP1);
		else
			*val = g->ctlr | GICD_CTLR_ARE | GICD_CTLR_DS;
		return;
	case GICD_TYPER:
		v = gicd_typer(g);
		break;
	case GICD_IIDR:
		v = HOST_VGIC_IIDR;
		break;
	case GICD_PIDR2:
		v = GIC_PIDR2_ARCH_GICV3 | 0xb; /* JEP106 bits of Arm, as GIC-500 */
		break;
	default: /* TYPER2, STATUSR, ITARGETSR, IGRPMODR, NSACR, SGIR, ...: RAZ/WI */
		v = 0;
		break;
	}
	if (!write)
		*val = v;
	return;
raz:
	if (!write)
		*val = 0;
}

int host_vgic_gicd_read(struct host_vgic *g, uint64_t off, uint32_t size, uint64_t *val)
{
	if (!g || !val)
		return -EINVAL;
	*val = 0;
	if (off >= GICD_FRAME_SIZE)
		return 0;
	pthread_mutex_lock(&g->mtx);
	gicd_access(g, off, size, false, val);
	pthread_mutex_unlock(&g->mtx);
	return 0;
}

int host_vgic_gicd_write(struct host_vgic *g, uint64_t off, uint32_t size, uint64_t val)
{
	if (!g)
		return -EINVAL;
	if (off >= GICD_FRAME_SIZE)
		return 0;
	if (size < 8)
		val &= (1ULL << (8 * size)) - 1;
	pthread_mutex_lock(&g->mtx);
	gicd_access(g, off, size, true, &val);
	pthread_mutex_unlock(&g->mtx);
	return 0;
}

/* ---- the redistributors ---- */

static void gicr_access(struct host_vgic *g, uint32_t vcpu, uint64_t off, uint32_t size, bool write,
			uint64_t *val)
{
	struct vgic_vcpu *c = &g->cpu[vcpu];
	uint64_t v = 0;

	if (off >= GICR_SGI_BASE) {
		if (!table_access(g, vcpu, off - GICR_SGI_BASE, size, write, val) && !write)
			*val = 0; /* IGRPMODR0, NSACR, ...: RAZ/WI */
		return;
	}
	if (off == GICR_TYPER || off == GICR_TYPER + 4) {
		/* 64-bit, or 32-bit halves */
		unsigned int sh = (off & 4) * 8;
		if ((size != 8 && size != 4) || off & (size - 1))
			goto raz;
		v = vcpu_aff(vcpu);
		v = (v & 0xffffff) | (v >> 32 & 0xff) << 24;
		v = v << GICR_TYPER_AFF_SHIFT | (uint64_t)vcpu << GICR_TYPER_PROCNUM_SHIFT |
		    (vcpu == g->nvcpus - 1 ? GICR_TYPER_LAST : 0);
		if (!write)
			*val = (size == 8 ? v : v >> sh & 0xffffffffULL);
		return;
	}
	if (off == GICR_PROPBASER || off == GICR_PENDBASER) /* 64-bit, no LPIs: RAZ/WI */
		goto raz;
	if (size != 4 || off & 3)
		goto raz;
	switch (off) {
	case GICR_IIDR:
		v = HOST_VGIC_IIDR;
		break;
	case GICR_WAKER:
		if (write) {
			c->sleep = (*val & GICR_WAKER_PROCESSORSLEEP) != 0;
			return;
		}
		v = c->sleep ? GICR_WAKER_PROCESSORSLEEP | GICR_WAKER_CHILDRENASLEEP : 0;
		break;
	case GICR_PIDR2:
		v = GIC_PIDR2_ARCH_GICV3 | 0xb;
		break;
	default: /* CTLR (no LPIs), STATUSR, ...: RAZ/WI */
		break;
	}
	if (!write)
		*val = v;
	return;
raz:
	if (!write)
		*val = 0;
}

static int gicr_do(struct host_vgic *g, uint64_t off, uint32_t size, bool write, uint64_t *val)
{
	uint64_t vcpu = off / GICR_STRIDE;

	if (vcpu >= g->nvcpus) {
		if (!write)
			*val = 0;
		return 0;
	}
	pthread_mutex_lock(&g->mtx);
	gicr_access(g, (uint32_t)vcpu, off % GICR_STRIDE, size, write, val);
	pthread_mutex_unlock(&g->mtx);
	return 0;
}

int host_vgic_gicr_read(struct host_vgic *g, uint64_t off, uint32_t size, uint64_t *val)
{
	if (!g || !val)
		return -EINVAL;
	*val = 0;
	return gicr_do(g, off, size, false, val);
}

int host_vgic_gicr_write(struct host_vgic *g, uint64_t off, uint32_t size, uint64_t val)
{
	if (!g)
		return -EINVAL;
	if (size < 8)
		val &= (1ULL << (8 * size)) - 1;
	return gicr_do(g, off, size, true, &val);
}

static int gicd_read_op(void *arg, uint32_t vcpu, uint64_t off, uint32_t size, uint64_t *val)
{
	(void)vcpu;
	return host_vgic_gicd_read(arg, off, size, val);
}

static int gicd_write_op(void *arg, uint32_t vcpu, uint64_t off, uint32_t size, uint64_t val)
{
	(void)vcpu;
	return host_vgic_gicd_write(arg, off, size, val);
}

static int gicr_read_op(void *arg, uint32_t vcpu, uint64_t off, uint32_t size, uint64_t *val)
{
	(void)vcpu;
	return host_vgic_gicr_read(arg, off, size, val);
}

static int gicr_write_op(void *arg, uint32_t vcpu, uint64_t off, uint32_t size, uint64_t val)
{
	(void)vcpu;
	return host_vgic_gicr_write(arg, off, size, val);
}

const struct rk_mmio_ops host_vgic_gicd_ops = { gicd_read_op, gicd_write_op };
const struct rk_mmio_ops host_vgic_gicr_ops = { gicr_read_op, gicr_write_op };
