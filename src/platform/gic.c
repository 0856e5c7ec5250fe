/* SPDX-License-Identifier: MIT */
/* The ICH_*_EL2 registers of a host CPU (platform/gic.h). */
#include <errno.h>
#include <string.h>

#include "platform/gic.h"

uint64_t plat_ich_vtr(unsigned int nr_lrs)
{
	return (RK_ULL(0) + PLAT_GIC_PRIBITS - 1) << ICH_VTR_PRIBITS_SHIFT |
	       (RK_ULL(0) + PLAT_GIC_PREBITS - 1) << ICH_VTR_PREBITS_SHIFT | 0ULL << ICH_VTR_IDBITS_SHIFT |
	       ICH_VTR_A3V | ICH_VTR_NV4 | ((nr_lrs - 1u) & ICH_VTR_LISTREGS_MASK);
}

/* LR bits this implementation keeps: State, HW, Group, the 5 priority bits,
 * pINTID [44:32], vINTID [15:0] (IDbits = 16). */
static uint64_t lr_keep(void)
{
	return ICH_LR_STATE_MASK | ICH_LR_HW | ICH_LR_GROUP |
	       ((uint64_t)PLAT_GIC_PRIO_MASK << ICH_LR_PRIORITY_SHIFT) | ICH_LR_PINTID_MASK | 0xffffULL;
}

#define HCR_KEEP                                                                                           \
	(ICH_HCR_EN | ICH_HCR_UIE | ICH_HCR_LRENPIE | ICH_HCR_NPIE | ICH_HCR_VGRP0EIE | ICH_HCR_VGRP0DIE | \
	 ICH_HCR_VGRP1EIE | ICH_HCR_VGRP1DIE | ICH_HCR_TC | ICH_HCR_TALL0 | ICH_HCR_TALL1 | ICH_HCR_TDIR | \
	 ICH_HCR_EOICOUNT_MASK)

uint64_t plat_ich_lr_sanitise(const struct plat_ich *s, uint64_t lr)
{
	(void)s;
	return lr & lr_keep();
}

uint64_t plat_ich_vmcr_sanitise(uint64_t vmcr)
{
	uint64_t bpr0 = (vmcr & ICH_VMCR_VBPR0_MASK) >> ICH_VMCR_VBPR0_SHIFT;
	uint64_t bpr1 = (vmcr & ICH_VMCR_VBPR1_MASK) >> ICH_VMCR_VBPR1_SHIFT;
	uint64_t pmr = (vmcr >> ICH_VMCR_VPMR_SHIFT) & PLAT_GIC_PRIO_MASK;

	if (bpr0 < PLAT_GIC_MIN_BPR0)
		bpr0 = PLAT_GIC_MIN_BPR0;
	if (bpr1 < PLAT_GIC_MIN_BPR1)
		bpr1 = PLAT_GIC_MIN_BPR1;
	return (vmcr & (ICH_VMCR_VENG0 | ICH_VMCR_VENG1 | ICH_VMCR_VCBPR | ICH_VMCR_VEOIM)) |
	       ICH_VMCR_VFIQEN | bpr0 << ICH_VMCR_VBPR0_SHIFT | bpr1 << ICH_VMCR_VBPR1_SHIFT |
	       pmr << ICH_VMCR_VPMR_SHIFT;
}

void plat_ich_reset(struct plat_ich *s, uint64_t vtr)
{
	memset(s, 0, sizeof(*s));
	s->vtr = vtr;
	s->vmcr = plat_ich_vmcr_sanitise(0);
}

uint64_t plat_ich_eisr(const struct plat_ich *s)
{
	uint64_t r = 0;

	for (unsigned int i = 0; i < plat_ich_nr_lrs(s); i++) {
		uint64_t lr = s->lr[i];
		if (ich_lr_state(lr) == ICH_LR_STATE_INVALID && !(lr & ICH_LR_HW) && (lr & ICH_LR_EOI))
			r |= 1ULL << i;
	}
	return r;
}

uint64_t plat_ich_elrsr(const struct plat_ich *s)
{
	uint64_t r = 0;

	for (unsigned int i = 0; i < plat_ich_nr_lrs(s); i++) {
		uint64_t lr = s->lr[i];
		if (ich_lr_state(lr) == ICH_LR_STATE_INVALID && ((lr & ICH_LR_HW) || !(lr & ICH_LR_EOI)))
			r |= 1ULL << i;
	}
	return r;
}

uint64_t plat_ich_misr(const struct plat_ich *s)
{
	unsigned int valid = 0, pending = 0;
	uint64_t hcr = s->hcr, vmcr = s->vmcr, m = 0;

	for (unsigned int i = 0; i < plat_ich_nr_lrs(s); i++) {
		unsigned int st = ich_lr_state(s->lr[i]);
		valid += st != ICH_LR_STATE_INVALID;
		pending += st == ICH_LR_STATE_PENDING;
	}
	if (plat_ich_eisr(s))
		m |= ICH_MISR_EOI;
	if ((hcr & ICH_HCR_UIE) && valid <= 1)
		m |= ICH_MISR_U;
	if ((hcr & ICH_HCR_LRENPIE) && (hcr & ICH_HCR_EOICOUNT_MASK))
		m |= ICH_MISR_LRENP;
	if ((hcr & ICH_HCR_NPIE) && !pending)
		m |= ICH_MISR_NP;
	if ((hcr & ICH_HCR_VGRP0EIE) && (vmcr & ICH_VMCR_VENG0))
		m |= ICH_MISR_VGRP0E;
	if ((hcr & ICH_HCR_VGRP0DIE) && !(vmcr & ICH_VMCR_VENG0))
		m |= ICH_MISR_VGRP0D;
	if ((hcr & ICH_HCR_VGRP1EIE) && (vmcr & ICH_VMCR_VENG1))
		m |= ICH_MISR_VGRP1E;
	if ((hcr & ICH_HCR_VGRP1DIE) && !(vmcr & ICH_VMCR_VENG1))
		m |= ICH_MISR_VGRP1D;
	return m;
}

/* The LR or APR an encoding names: its index, or -1. */
static int lr_index(const struct plat_ich *s, uint32_t enc)
{
	for (unsigned int n = 0; n < plat_ich_nr_lrs(s); n++)
		if (enc == ICH_LR_EL2(n))
			return (int)n;
	return -1;
}

static uint32_t *apr_reg(const struct plat_ich *s, uint32_t enc)
{
	for (unsigned int n = 0; n < plat_ich_nr_aprs(s); n++) {
		if (enc == ICH_AP0R_EL2(n))
			return (uint32_t *)&s->ap0r[n];
		if (enc == ICH_AP1R_EL2(n))
			return (uint32_t *)&s->ap1r[n];
	}
	return NULL;
}

int plat_ich_read(const struct plat_ich *s, uint32_t enc, uint64_t *val)
{
	const uint32_t *apr;
	int n;

	switch (enc) {
	case ICH_HCR_EL2:
		*val = s->hcr;
		return 0;
	case ICH_VTR_EL2:
		*val = s->vtr;
		return 0;
	case ICH_VMCR_EL2:
		*val = s->vmcr;
		return 0;
	case ICH_MISR_EL2:
		*val = plat_ich_misr(s);
		return 0;
	case ICH_EISR_EL2:
		*val = plat_ich_eisr(s);
		return 0;
	case ICH_ELRSR_EL2:
		*val = plat_ich_elrsr(s);
		return 0;
	default:
		break;
	}
	n = lr_index(s, enc);
	if (n >= 0) {
		*val = s->lr[n];
		return 0;
	}
	apr = apr_reg(s, enc);
	if (!apr)
		return -EINVAL;
	*val = *apr;
	return 0;
}

int plat_ich_write(struct plat_ich *s, uint32_t enc, uint64_t val)
{
	uint32_t *apr;
	int n;

	switch (enc) {
	case ICH_HCR_EL2:
		s->hcr = val & HCR_KEEP;
		return 0;
	case ICH_VMCR_EL2:
		s->vmcr = plat_ich_vmcr_sanitise(val);
		return 0;
	case ICH_VTR_EL2:
	case ICH_MISR_EL2:
	case ICH_EISR_EL2:
	case ICH_ELRSR_EL2:
		return -EPERM;
	default:
		break;
	}
	n = lr_index(s, enc);
	if (n >= 0) {
		s->lr[n] = plat_ich_lr_sanitise(s, val);
		return 0;
	}
	apr = apr_reg(s, enc);
	if (!apr)
		return -EINVAL;
	*apr = (uint32_t)val;
	return 0;
}
