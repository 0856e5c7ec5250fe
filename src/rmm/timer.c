/* SPDX-License-Identifier: MIT */
/*
 * The realm's EL1 generic timers, emulated by the RMM (stage-2 mode).
 *
 * The engine counts CNTVCT_EL0 but has no timer interrupts (Unicorn 2.0.1
 * compiles them out), so the RMM traps the realm's EL1 accesses to the
 * virtual and physical timers (CNTV_CTL/CVAL/TVAL_EL0, CNTP_*) and to the
 * counters (CNTVCT and CNTPCT; the self-synchronised forms, FEAT_ECV, are the engine's) through the
 * engine's sysreg handler (idregs.c dispatches) and keeps the timers in the
 * REC (struct rec_timer). Realms have no counter offset (RMM 2.0: the host
 * cannot set one; Linux's CCA host uses cntvoff = 0 for realms), so
 * CNTVCT = CNTPCT = the system counter (plat_counter_read) and RmiRecExit's
 * cval fields are the CVALs as written.
 *
 * ISTATUS is computed whenever it is read: ENABLE && counter >= CVAL. The
 * realm sees its own IMASK: TF-RMM masks an asserted timer for the host with
 * CNTHCTL_EL2.CNTVMASK/CNTPMASK, which the realm's CNTx_CTL does not show.
 * The run loop (rec_run.c) follows TF-RMM's check_pending_timers: before
 * every run of the engine, a REC whose outputs differ from the ones reported
 * at its last exit exits with RMI_EXIT_IRQ; the run's slice ends at the
 * nearest CVAL of an enabled, unmasked timer not yet asserted (the hardware
 * would take the physical PPI then), so that exit happens on time.
 */
#include "timer.h"

#include "realmkit/arch/sysreg.h"
#include "platform/platform.h"

#define ENC(r) RK_CPU_SYSREG(r)
#define CTL_RW (CNT_CTL_ENABLE | CNT_CTL_IMASK)

uint64_t rec_timer_ctl(uint64_t ctl, uint64_t cval, uint64_t now)
{
	ctl &= CTL_RW;
	if ((ctl & CNT_CTL_ENABLE) && now >= cval)
		ctl |= CNT_CTL_ISTATUS;
	return ctl;
}

static bool asserted(uint64_t ctl, uint64_t cval, uint64_t now)
{
	return (rec_timer_ctl(ctl, cval, now) & (CTL_RW | CNT_CTL_ISTATUS)) ==
	       (CNT_CTL_ENABLE | CNT_CTL_ISTATUS);
}

unsigned int rec_timer_outputs(const struct rec_timer *t, uint64_t now)
{
	return (asserted(t->cntv_ctl, t->cntv_cval, now) ? REC_TIMER_OUT_V : 0) |
	       (asserted(t->cntp_ctl, t->cntp_cval, now) ? REC_TIMER_OUT_P : 0);
}

uint64_t rec_timer_next(const struct rec_timer *t, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	if ((t->cntv_ctl & CTL_RW) == CNT_CTL_ENABLE && t->cntv_cval > now)
		next = t->cntv_cval;
	if ((t->cntp_ctl & CTL_RW) == CNT_CTL_ENABLE && t->cntp_cval > now && t->cntp_cval < next)
		next = t->cntp_cval;
	return next;
}

bool rec_timer_reg(uint32_t enc)
{
	switch (enc) {
	case ENC(SYSREG_CNTPCT_EL0):
	case ENC(SYSREG_CNTVCT_EL0):
	case ENC(SYSREG_CNTP_TVAL_EL0):
	case ENC(SYSREG_CNTP_CTL_EL0):
	case ENC(SYSREG_CNTP_CVAL_EL0):
	case ENC(SYSREG_CNTV_TVAL_EL0):
	case ENC(SYSREG_CNTV_CTL_EL0):
	case ENC(SYSREG_CNTV_CVAL_EL0):
		return true;
	default:
		return false;
	}
}

/* One timer's CTL, CVAL or TVAL (which: 0 TVAL, 1 CTL, 2 CVAL, as op2). */
static void timer_access(uint64_t *ctl, uint64_t *cval, unsigned int which, struct rk_cpu_sysreg *acc,
			 uint64_t now)
{
	switch (which) {
	case 0: /* TVAL: the signed 32-bit distance to CVAL */
		if (acc->is_read)
			acc->value = (uint32_t)(*cval - now);
		else
			*cval = now + (uint64_t)(int64_t)(int32_t)(uint32_t)acc->value;
		break;
	case 1:
		if (acc->is_read)
			acc->value = rec_timer_ctl(*ctl, *cval, now);
		else
			*ctl = acc->value & CTL_RW; /* ISTATUS is read-only */
		break;
	default:
		if (acc->is_read)
			acc->value = *cval;
		else
			*cval = acc->value;
		break;
	}
}

bool rec_timer_sysreg(struct rec_timer *t, struct rk_cpu_sysreg *acc)
{
	uint32_t enc = RK_CPU_SYSREG_OF(acc);
	uint64_t now;

	/* EL0: the engine's own rules (CNTKCTL_EL1) and registers apply */
	if (acc->el != 1 || !rec_timer_reg(enc))
		return false;
	now = plat_counter_read();
	if (acc->crm == 0) { /* a counter: read-only (an MSR is the engine's UNDEF) */
		if (!acc->is_read)
			return false;
		acc->value = now;
		return true;
	}
	if (acc->crm == 3)
		timer_access(&t->cntv_ctl, &t->cntv_cval, acc->op2, acc, now);
	else
		timer_access(&t->cntp_ctl, &t->cntp_cval, acc->op2, acc, now);
	return true;
}
