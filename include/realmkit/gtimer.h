/* SPDX-License-Identifier: MIT */
/*
 * The EL1 generic timers of a CPU as a guest sees them: the virtual and the
 * physical timer (CNTV_CTL/CVAL/TVAL_EL0, CNTP_*) and the counters
 * (CNTVCT_EL0, CNTPCT_EL0), emulated (src/platform/gtimer.c).
 *
 * The engine (realmkit/cpu.h) counts CNTVCT_EL0 but has no timer interrupts
 * (Unicorn 2.0.1 compiles them out), so whoever runs a vCPU (the RMM for a
 * REC, the host for a normal VM) traps the guest's EL1 accesses to these
 * registers (rk_gtimer_trap) and answers them from its sysreg handler with
 * rk_gtimer_sysreg(), against a struct rk_gtimer it keeps for the vCPU, as a
 * hypervisor saves and restores the timer registers of the CPU. There is no
 * counter offset (CNTVOFF = CNTPOFF = 0: RMM 2.0 realms have none, and
 * realmkit's host gives normal VMs none), so CNTVCT = CNTPCT =
 * rk_counter_read() (realmkit/platform.h), 62.5 MHz (CNTFRQ_HZ).
 *
 * ISTATUS is computed whenever it is read: ENABLE && counter >= CVAL. A
 * timer's output (the PPI's level: 27 virtual, 30 physical) is ENABLE &&
 * ISTATUS && !IMASK; the owner of the vCPU polls it (rk_gtimer_outputs) and
 * ends the vCPU's time slice at the next deadline (rk_gtimer_next), as the
 * physical interrupt would stop it on hardware. EL0 accesses follow the
 * engine's own rules (CNTKCTL_EL1) and registers.
 */
#ifndef RK_REALMKIT_GTIMER_H
#define RK_REALMKIT_GTIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "realmkit/cpu.h"
#include "realmkit/export.h"

/*
 * A vCPU's EL1 timers as the guest programmed them: ctl holds ENABLE and
 * IMASK only (ISTATUS is computed against the counter when read);
 * cval in the counter's time base. All zero: both disabled.
 */
struct rk_gtimer {
	uint64_t cntv_ctl, cntv_cval, cntp_ctl, cntp_cval;
};

/* Outputs (rk_gtimer_outputs): ENABLE && ISTATUS && !IMASK (TF-RMM's TIMER_ASSERTED). */
#define RK_GTIMER_OUT_V 1u /* the virtual timer: PPI 27 */
#define RK_GTIMER_OUT_P 2u /* the EL1 physical timer: PPI 30 */

/* ctl with ISTATUS as it is at counter value now (CNTx_CTL as read; RmiRecExit's cntx_ctl). */
RK_API uint64_t rk_gtimer_ctl(uint64_t ctl, uint64_t cval, uint64_t now);

/* Which outputs (RK_GTIMER_OUT_*) are asserted at counter value now. */
RK_API unsigned int rk_gtimer_outputs(const struct rk_gtimer *t, uint64_t now);

/*
 * The earliest counter value at which an output that is not asserted at now
 * becomes asserted (an enabled, unmasked timer's CVAL); UINT64_MAX if none.
 */
RK_API uint64_t rk_gtimer_next(const struct rk_gtimer *t, uint64_t now);

/* True if enc (RK_CPU_SYSREG) is one rk_gtimer_sysreg() emulates. */
RK_API bool rk_gtimer_reg(uint32_t enc);

/*
 * The guest's MRS/MSR of a timer or counter register at EL1 (for a sysreg
 * handler): true if emulated against t (acc->value holds a read's result).
 * EL0 accesses, writes to a counter and other registers: false.
 */
RK_API bool rk_gtimer_sysreg(struct rk_gtimer *t, struct rk_cpu_sysreg *acc);

/* Make cpu offer every register rk_gtimer_reg() names to its sysreg handler
 * (rk_cpu_trap_sysreg): 0 or its -errno (-ENOTSUP in hooks mode). */
RK_API int rk_gtimer_trap(struct rk_cpu *cpu);

#endif
