/* SPDX-License-Identifier: MIT */
/*
 * The realm's EL1 generic timers (CNTV_* and CNTP_*_EL0), emulated by the
 * RMM per REC against the system counter (timer.c).
 */
#ifndef RK_RMM_TIMER_H
#define RK_RMM_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "realmkit/cpu.h"

/*
 * A REC's EL1 timers as the realm programmed them: ctl holds ENABLE and
 * IMASK only (ISTATUS is computed against the counter when read or
 * reported); cval in the counter's time base (CNTVOFF = CNTPOFF = 0).
 */
struct rec_timer {
	uint64_t cntv_ctl, cntv_cval, cntp_ctl, cntp_cval;
};

/* Outputs (REC_TIMER_OUT_*): ENABLE && ISTATUS && !IMASK, as TF-RMM's TIMER_ASSERTED. */
#define REC_TIMER_OUT_V 1u
#define REC_TIMER_OUT_P 2u

/* ctl with ISTATUS as it is at counter value now. */
uint64_t rec_timer_ctl(uint64_t ctl, uint64_t cval, uint64_t now);

/* Which outputs are asserted at now. */
unsigned int rec_timer_outputs(const struct rec_timer *t, uint64_t now);

/*
 * The earliest counter value at which an output that is not asserted at now
 * becomes asserted (an enabled, unmasked timer's CVAL); UINT64_MAX if none.
 */
uint64_t rec_timer_next(const struct rec_timer *t, uint64_t now);

/*
 * The realm's MRS/MSR of a timer or counter register at EL1 (the engine's
 * sysreg handler): true if emulated against t (acc->value holds a read's
 * result). EL0 accesses and other registers: false.
 */
bool rec_timer_sysreg(struct rec_timer *t, struct rk_cpu_sysreg *acc);

/* True if enc (RK_CPU_SYSREG) is one rec_timer_sysreg() emulates. */
bool rec_timer_reg(uint32_t enc);

#endif
