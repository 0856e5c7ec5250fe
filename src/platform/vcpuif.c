/* SPDX-License-Identifier: MIT */
/*
 * The GICv3 virtual CPU interface as a guest at EL1 sees it (platform/vcpuif.h):
 * the ICV_*_EL1 registers, reached through the ICC_*_EL1 encodings, driven by
 * a CPU's ICH_*_EL2 state.
 */
#include <string.h>

#include "platform/vcpuif.h"

enum { GRP0 = 0, GRP1 = 1 };

/* ---- priorities ---------------------------------------------------------------- */

static unsigned int prebits(const struct plat_ich *s)
{
	return (unsigned int)(s->vtr >> ICH_VTR_PREBITS_SHIFT & 7u) + 1u;
}

static unsigned int vbpr(const struct plat_ich *s, int grp)
{
	return grp == GRP0 ? (unsigned int)((s->vmcr & ICH_VMCR_VBPR0_MASK) >> ICH_VMCR_VBPR0_SHIFT)
			   : (unsigned int)((s->vmcr & ICH_VMCR_VBPR1_MASK) >> ICH_VMCR_VBPR1_SHIFT);
}

static unsigned int vpmr(const struct plat_ich *s)
{
	return (unsigned int)(s->vmcr >> ICH_VMCR_VPMR_SHIFT) & 0xffu;
}

/* The group-priority part of a priority: bits [7:BPR+1] (Group 0, or Group 1 with
 * VCBPR = 1, which uses BPR0), bits [7:BPR1] (Group 1). */
static unsigned int gprio_mask(const struct plat_ich *s, int grp)
{
	unsigned int bpr;

	if (grp == GRP1 && (s->vmcr & ICH_VMCR_VCBPR))
		grp = GRP0;
	bpr = vbpr(s, grp);
	if (grp == GRP1)
		bpr--;
	return (0xffu << (bpr + 1)) & 0xffu;
}

unsigned int plat_icv_running_prio(const struct plat_ich *s)
{
	for (unsigned int i = 0; i < plat_ich_nr_aprs(s); i++) {
		uint32_t set = s->ap0r[i] | s->ap1r[i];
		if (set)
			return ((i * 32u + (unsigned int)__builtin_ctz(set)) << (8u - prebits(s))) & 0xffu;
	}
	return 0xff;
}

static int lr_group(uint64_t lr)
{
	return (lr & ICH_LR_GROUP) ? GRP1 : GRP0;
}

static bool group_enabled(const struct plat_ich *s, int grp)
{
	return (s->vmcr & (grp == GRP1 ? ICH_VMCR_VENG1 : ICH_VMCR_VENG0)) != 0;
}

/* The highest-priority pending LR whose group is enabled (lowest index on a tie), or -1. */
static int hppvi(const struct plat_ich *s)
{
	unsigned int best = 0x100;
	int idx = -1;

	for (unsigned int i = 0; i < plat_ich_nr_lrs(s); i++) {
		uint64_t lr = s->lr[i];
		if (ich_lr_state(lr) != ICH_LR_STATE_PENDING || !group_enabled(s, lr_group(lr)))
			continue;
		if (ich_lr_prio(lr) < best) {
			best = ich_lr_prio(lr);
			idx = (int)i;
		}
	}
	return idx;
}

/* Can the pending interrupt in lr be taken now: interface on, above the priority
 * mask, and its group priority above the running priority. */
static bool can_preempt(const struct plat_ich *s, uint64_t lr)
{
	unsigned int prio = ich_lr_prio(lr), rprio, mask;

	if (!(s->hcr & ICH_HCR_EN) || prio >= vpmr(s))
		return false;
	rprio = plat_icv_running_prio(s);
	if (rprio == 0xff)
		return true;
	mask = gprio_mask(s, lr_group(lr));
	return (prio & mask) < (rprio & mask);
}

bool plat_icv_virq(const struct plat_ich *s)
{
	int idx = hppvi(s);

	return idx >= 0 && lr_group(s->lr[idx]) == GRP1 && can_preempt(s, s->lr[idx]);
}

static uint32_t *apr(struct plat_ich *s, int grp)
{
	return grp == GRP0 ? s->ap0r : s->ap1r;
}

/* Pending -> active, and its group priority becomes active (APR bit). */
static void activate(struct plat_ich *s, unsigned int idx, int grp)
{
	unsigned int prio = ich_lr_prio(s->lr[idx]) & gprio_mask(s, grp);
	unsigned int bit = prio >> (8u - prebits(s));

	s->lr[idx] = (s->lr[idx] & ~ICH_LR_PENDING_BIT) | ICH_LR_ACTIVE_BIT;
	apr(s, grp)[bit / 32u] |= 1u << (bit % 32u);
}

/* Clear the highest active priority (either group; Group 0 first on a tie): the
 * priority dropped, or 0xff if nothing was active. */
static unsigned int drop_prio(struct plat_ich *s)
{
	for (unsigned int i = 0; i < plat_ich_nr_aprs(s); i++) {
		uint32_t *a0 = &s->ap0r[i], *a1 = &s->ap1r[i];
		unsigned int c0, c1;

		if (!*a0 && !*a1)
			continue;
		c0 = *a0 ? (unsigned int)__builtin_ctz(*a0) : 32u;
		c1 = *a1 ? (unsigned int)__builtin_ctz(*a1) : 32u;
		if (c0 <= c1) {
			*a0 &= *a0 - 1;
			return ((c0 + i * 32u) << (8u - prebits(s))) & 0xffu;
		}
		*a1 &= *a1 - 1;
		return ((c1 + i * 32u) << (8u - prebits(s))) & 0xffu;
	}
	return 0xff;
}

static int find_active(const struct plat_ich *s, uint32_t intid)
{
	for (unsigned int i = 0; i < plat_ich_nr_lrs(s); i++)
		if ((s->lr[i] & ICH_LR_ACTIVE_BIT) && ich_lr_vintid(s->lr[i]) == intid)
			return (int)i;
	return -1;
}

/* An EOI or DIR for an interrupt no LR holds: the host learns it from EOIcount. */
static void eoicount_inc(struct plat_ich *s)
{
	uint64_t n = (s->hcr & ICH_HCR_EOICOUNT_MASK) >> ICH_HCR_EOICOUNT_SHIFT;

	s->hcr = (s->hcr & ~ICH_HCR_EOICOUNT_MASK) |
		 (((n + 1) << ICH_HCR_EOICOUNT_SHIFT) & ICH_HCR_EOICOUNT_MASK);
}

/* Active -> invalid (or pending+active -> pending). An LR with EOI = 1 left
 * invalid shows in ICH_EISR_EL2: the EOI maintenance interrupt. */
static void deactivate(struct plat_ich *s, unsigned int idx)
{
	s->lr[idx] &= ~ICH_LR_ACTIVE_BIT;
}

static bool special(uint32_t intid)
{
	return intid >= GIC_INTID_SPECIAL_MIN && intid <= GIC_INTID_SPURIOUS;
}

/* ---- the registers ---------------------------------------------------------------- */

static uint64_t read_iar(struct plat_ich *s, int grp)
{
	int idx = hppvi(s);
	uint32_t intid;

	if (idx < 0 || lr_group(s->lr[idx]) != grp || !can_preempt(s, s->lr[idx]))
		return GIC_INTID_SPURIOUS;
	intid = ich_lr_vintid(s->lr[idx]);
	if (special(intid))
		s->lr[idx] &= ~ICH_LR_PENDING_BIT; /* pending -> invalid, nothing active */
	else
		activate(s, (unsigned int)idx, grp);
	return intid;
}

static uint64_t read_hppir(const struct plat_ich *s, int grp)
{
	int idx = hppvi(s);

	return idx >= 0 && lr_group(s->lr[idx]) == grp ? ich_lr_vintid(s->lr[idx]) : GIC_INTID_SPURIOUS;
}

static void write_eoir(struct plat_ich *s, int grp, uint64_t val)
{
	uint32_t intid = (uint32_t)(val & 0xffffffu);
	unsigned int dropped;
	int idx;

	if (special(intid))
		return;
	dropped = drop_prio(s);
	if (dropped == 0xff)
		return; /* nothing active: CONSTRAINED UNPREDICTABLE, no effect */
	idx = find_active(s, intid);
	if (idx < 0) {
		eoicount_inc(s);
		return;
	}
	if (lr_group(s->lr[idx]) == grp && (ich_lr_prio(s->lr[idx]) & gprio_mask(s, grp)) == dropped &&
	    !(s->vmcr & ICH_VMCR_VEOIM))
		deactivate(s, (unsigned int)idx);
}

static void write_dir(struct plat_ich *s, uint64_t val)
{
	uint32_t intid = (uint32_t)(val & 0xffffffu);
	int idx;

	if (special(intid) || !(s->vmcr & ICH_VMCR_VEOIM))
		return; /* EOImode 0: the EOI deactivated already */
	idx = find_active(s, intid);
	if (idx < 0)
		eoicount_inc(s);
	else
		deactivate(s, (unsigned int)idx);
}

static uint64_t read_bpr(const struct plat_ich *s, int grp)
{
	if (grp == GRP1 && (s->vmcr & ICH_VMCR_VCBPR)) {
		unsigned int b = vbpr(s, GRP0) + 1;
		return b > 7 ? 7 : b;
	}
	return vbpr(s, grp);
}

static void write_bpr(struct plat_ich *s, int grp, uint64_t val)
{
	uint64_t b = val & 7u;

	if (grp == GRP1 && (s->vmcr & ICH_VMCR_VCBPR))
		return; /* BPR1 is BPR0 + 1 then: writes ignored */
	if (grp == GRP0)
		s->vmcr = (s->vmcr & ~ICH_VMCR_VBPR0_MASK) | b << ICH_VMCR_VBPR0_SHIFT;
	else
		s->vmcr = (s->vmcr & ~ICH_VMCR_VBPR1_MASK) | b << ICH_VMCR_VBPR1_SHIFT;
	s->vmcr = plat_ich_vmcr_sanitise(s->vmcr); /* below the minimum: the minimum */
}

static uint64_t read_ctlr(const struct plat_ich *s)
{
	uint64_t v = 0;

	if (s->vmcr & ICH_VMCR_VCBPR)
		v |= ICC_CTLR_CBPR;
	if (s->vmcr & ICH_VMCR_VEOIM)
		v |= ICC_CTLR_EOIMODE;
	v |= (s->vtr >> ICH_VTR_PRIBITS_SHIFT & 7u) << ICC_CTLR_PRIBITS_SHIFT;
	v |= (s->vtr >> ICH_VTR_IDBITS_SHIFT & 7u) << ICC_CTLR_IDBITS_SHIFT;
	if (s->vtr & ICH_VTR_SEIS)
		v |= ICC_CTLR_SEIS;
	if (s->vtr & ICH_VTR_A3V)
		v |= ICC_CTLR_A3V;
	return v;
}

static void write_ctlr(struct plat_ich *s, uint64_t val)
{
	s->vmcr &= ~(ICH_VMCR_VCBPR | ICH_VMCR_VEOIM);
	if (val & ICC_CTLR_CBPR)
		s->vmcr |= ICH_VMCR_VCBPR;
	if (val & ICC_CTLR_EOIMODE)
		s->vmcr |= ICH_VMCR_VEOIM;
}

enum reg_kind { RW, RO, WO };

struct icc_reg {
	enum reg_kind kind;
	uint64_t trap; /* ICH_HCR_EL2 bits that trap it to the host; TRAP_ALWAYS */
};

#define TRAP_ALWAYS (~0ULL)

/* Which register, its direction and its traps; false: not an ICC register here. */
static bool icc_reg(const struct plat_ich *s, uint32_t enc, struct icc_reg *r)
{
	switch (enc) {
	case ICC_IAR0_EL1:
	case ICC_HPPIR0_EL1:
		*r = (struct icc_reg){ RO, ICH_HCR_TALL0 };
		return true;
	case ICC_EOIR0_EL1:
		*r = (struct icc_reg){ WO, ICH_HCR_TALL0 };
		return true;
	case ICC_BPR0_EL1:
	case ICC_IGRPEN0_EL1:
		*r = (struct icc_reg){ RW, ICH_HCR_TALL0 };
		return true;
	case ICC_IAR1_EL1:
	case ICC_HPPIR1_EL1:
		*r = (struct icc_reg){ RO, ICH_HCR_TALL1 };
		return true;
	case ICC_EOIR1_EL1:
		*r = (struct icc_reg){ WO, ICH_HCR_TALL1 };
		return true;
	case ICC_BPR1_EL1:
	case ICC_IGRPEN1_EL1:
		*r = (struct icc_reg){ RW, ICH_HCR_TALL1 };
		return true;
	case ICC_CTLR_EL1:
	case ICC_PMR_EL1:
		*r = (struct icc_reg){ RW, ICH_HCR_TC };
		return true;
	case ICC_RPR_EL1:
		*r = (struct icc_reg){ RO, ICH_HCR_TC };
		return true;
	case ICC_DIR_EL1:
		*r = (struct icc_reg){ WO, ICH_HCR_TC | ICH_HCR_TDIR };
		return true;
	case ICC_SGI0R_EL1:
	case ICC_SGI1R_EL1:
	case ICC_ASGI1R_EL1:
		/* HCR_EL2.IMO/FMO = 1: SGI generation always traps to EL2 */
		*r = (struct icc_reg){ WO, TRAP_ALWAYS };
		return true;
	case ICC_SRE_EL1:
		*r = (struct icc_reg){ RW, 0 };
		return true;
	default:
		break;
	}
	for (unsigned int n = 0; n < plat_ich_nr_aprs(s); n++) {
		if (enc == ICC_AP0R_EL1(n)) {
			*r = (struct icc_reg){ RW, ICH_HCR_TALL0 };
			return true;
		}
		if (enc == ICC_AP1R_EL1(n)) {
			*r = (struct icc_reg){ RW, ICH_HCR_TALL1 };
			return true;
		}
	}
	return false;
}

static bool apr_access(struct plat_ich *s, uint32_t enc, bool is_read, uint64_t *val)
{
	for (unsigned int n = 0; n < plat_ich_nr_aprs(s); n++) {
		uint32_t *a = enc == ICC_AP0R_EL1(n)   ? &s->ap0r[n]
			      : enc == ICC_AP1R_EL1(n) ? &s->ap1r[n]
						       : NULL;
		if (!a)
			continue;
		if (is_read)
			*val = *a;
		else
			*a = (uint32_t)*val;
		return true;
	}
	return false;
}

enum plat_icv_result plat_icv_access(struct plat_ich *s, uint32_t enc, bool is_read, uint64_t *val)
{
	struct icc_reg r;

	if (!icc_reg(s, enc, &r) || (is_read && r.kind == WO) || (!is_read && r.kind == RO))
		return PLAT_ICV_UNDEF;
	if (r.trap == TRAP_ALWAYS || (s->hcr & r.trap))
		return PLAT_ICV_TRAP;
	switch (enc) {
	case ICC_IAR0_EL1:
	case ICC_IAR1_EL1:
		*val = read_iar(s, enc == ICC_IAR1_EL1 ? GRP1 : GRP0);
		break;
	case ICC_HPPIR0_EL1:
	case ICC_HPPIR1_EL1:
		*val = read_hppir(s, enc == ICC_HPPIR1_EL1 ? GRP1 : GRP0);
		break;
	case ICC_EOIR0_EL1:
	case ICC_EOIR1_EL1:
		write_eoir(s, enc == ICC_EOIR1_EL1 ? GRP1 : GRP0, *val);
		break;
	case ICC_DIR_EL1:
		write_dir(s, *val);
		break;
	case ICC_BPR0_EL1:
	case ICC_BPR1_EL1:
		if (is_read)
			*val = read_bpr(s, enc == ICC_BPR1_EL1 ? GRP1 : GRP0);
		else
			write_bpr(s, enc == ICC_BPR1_EL1 ? GRP1 : GRP0, *val);
		break;
	case ICC_IGRPEN0_EL1:
	case ICC_IGRPEN1_EL1: {
		uint64_t bit = enc == ICC_IGRPEN1_EL1 ? ICH_VMCR_VENG1 : ICH_VMCR_VENG0;
		if (is_read)
			*val = (s->vmcr & bit) != 0;
		else
			s->vmcr = (*val & 1) ? s->vmcr | bit : s->vmcr & ~bit;
		break;
	}
	case ICC_PMR_EL1:
		if (is_read)
			*val = vpmr(s);
		else
			s->vmcr = (s->vmcr & ~ICH_VMCR_VPMR_MASK) | (*val & PLAT_GIC_PRIO_MASK)
									    << ICH_VMCR_VPMR_SHIFT;
		break;
	case ICC_RPR_EL1:
		*val = plat_icv_running_prio(s);
		break;
	case ICC_CTLR_EL1:
		if (is_read)
			*val = read_ctlr(s);
		else
			write_ctlr(s, *val);
		break;
	case ICC_SRE_EL1:
		if (is_read)
			*val = ICC_SRE_SRE | ICC_SRE_DFB | ICC_SRE_DIB; /* fixed: writes ignored */
		break;
	default:
		(void)apr_access(s, enc, is_read, val);
		break;
	}
	return PLAT_ICV_DONE;
}

bool plat_icv_space(uint32_t enc)
{
	unsigned int op0 = enc >> 20 & 3, op1 = enc >> 14 & 7, crn = enc >> 10 & 15, crm = enc >> 1 & 15;

	if ((enc & ~(uint32_t)SYSREG_ENC_MASK) != 0 || op0 != 3 || op1 != 0)
		return false;
	return (crn == 12 && crm >= 8) || enc == ICC_PMR_EL1;
}
