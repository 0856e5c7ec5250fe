/* SPDX-License-Identifier: MIT */
/*
 * The EL1 generic timers, emulated (realmkit/gtimer.h). The RMM keeps one
 * struct rk_gtimer per REC (src/rmm: the TF-RMM policy around it, RecExit and
 * check_pending_timers), the host one per normal-VM vCPU (src/host).
 */
#include "realmkit/gtimer.h"

#include "realmkit/arch/sysreg.h"
#include "platform/platform.h"

#define ENC(r) RK_CPU_SYSREG(r)
#define CTL_RW (CNT_CTL_ENABLE | CNT_CTL_IMASK)

static const uint32_t timer_regs[] = {
	ENC(SYSREG_CNTPCT_EL0),   ENC(SYSREG_CNTVCT_EL0),    ENC(SYSREG_CNTP_TVAL_EL0),
	ENC(SYSREG_CNTP_CTL_EL0), ENC(SYSREG_CNTP_CVAL_EL0), ENC(SYSREG_CNTV_TVAL_EL0),
	ENC(SYSREG_CNTV_CTL_EL0), ENC(SYSREG_CNTV_CVAL_EL0),
};

uint64_t rk_gtimer_ctl(uint64_t ctl, uint64_t cval, uint64_t now)
{
	ctl &= CTL_RW;
	if ((ctl & CNT_CTL_ENABLE) && now >= cval)
		ctl |= CNT_CTL_ISTATUS;
	return ctl;
}

static bool asserted(uint64_t ctl, uint64_t cval, uint64_t now)
{
	return (rk_gtimer_ctl(ctl, cval, now) & (CTL_RW | CNT_CTL_ISTATUS)) ==
	       (CNT_CTL_ENABLE | CNT_CTL_ISTATUS);
}

unsigned int rk_gtimer_outputs(const struct rk_gtimer *t, uint64_t now)
{
	return (asserted(t->cntv_ctl, t->cntv_cval, now) ? RK_GTIMER_OUT_V : 0) |
	       (asserted(t->cntp_ctl, t->cntp_cval, now) ? RK_GTIMER_OUT_P : 0);
}

uint64_t rk_gtimer_next(const struct rk_gtimer *t, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	if ((t->cntv_ctl & CTL_RW) == CNT_CTL_ENABLE && t->cntv_cval > now)
		next = t->cntv_cval;
	if ((t->cntp_ctl & CTL_RW) == CNT_CTL_ENABLE && t->cntp_cval > now && t->cntp_cval < next)
		next = t->cntp_cval;
	return next;
}

bool rk_gtimer_reg(uint32_t enc)
{
	for (unsigned int k = 0; k < sizeof(timer_regs) / sizeof(timer_regs[0]); k++)
		if (timer_regs[k] == enc)
			return true;
	return false;
}

int rk_gtimer_trap(struct rk_cpu *cpu)
{
	int ret = 0;

	for (unsigned int k = 0; !ret && k < sizeof(timer_regs) / sizeof(timer_regs[0]); k++)
		ret = rk_cpu_trap_sysreg(cpu, timer_regs[k], true);
	return ret;
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
			acc->value = rk_gtimer_ctl(*ctl, *cval, now);
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

bool rk_gtimer_sysreg(struct rk_gtimer *t, struct rk_cpu_sysreg *acc)
{
	uint32_t enc = RK_CPU_SYSREG_OF(acc);
	uint64_t now;

	/* EL0: the engine's own rules (CNTKCTL_EL1) and registers apply */
	if (!t || acc->el != 1 || !rk_gtimer_reg(enc))
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
