/* SPDX-License-Identifier: MIT */
/*
 * timer: periodic ticks from the EL1 virtual timer (needs RK_CPU_MODE=stage2:
 * the RMM emulates the realm's generic timers there). The GIC CPU interface
 * is set up (ICC_SRE, PMR, IGRPEN1), IRQs unmasked; every tick the IRQ
 * handler acknowledges the virtual timer's PPI 27 (ICC_IAR1_EL1), rearms
 * the timer (CNTV_TVAL_EL0) and EOIs it (ICC_EOIR1_EL1); the main loop
 * sleeps in WFI between ticks. Prints each interval measured from
 * CNTVCT_EL0; PASS if every tick came, none early.
 */
#include "sdk.h"

#define TICKS 5
#define PERIOD_MS 20
#define PPI_VTIMER 27

#define msr(name, v) __asm__ volatile("msr " #name ", %0" ::"r"((uint64_t)(v)))

static volatile unsigned ticks;
static volatile uint64_t stamps[TICKS + 1];
static volatile uint64_t spurious;
static uint64_t period;

static void irq(struct rk_exc_frame *frame)
{
	uint64_t intid = rk_read_sysreg(S3_0_C12_C12_0) & 0xffffff; /* ICC_IAR1_EL1 */

	(void)frame;
	if (intid != PPI_VTIMER) {
		if (intid < 1020)
			msr(S3_0_C12_C12_1, intid); /* ICC_EOIR1_EL1 */
		spurious++;
		return;
	}
	if (ticks < TICKS) {
		stamps[++ticks] = rk_read_sysreg(cntvct_el0);
		msr(cntv_tval_el0, period); /* the next tick: the line drops */
	} else {
		msr(cntv_ctl_el0, 2); /* done: disabled, masked */
	}
	__asm__ volatile("isb");
	msr(S3_0_C12_C12_1, intid); /* ICC_EOIR1_EL1 */
}

int main(void)
{
	uint64_t frq = rk_read_sysreg(cntfrq_el0);
	bool ok = frq != 0;

	period = frq / 1000 * PERIOD_MS;
	rk_printf("timer: CNTFRQ_EL0 %lu Hz, %u ticks of %u ms from the virtual timer (PPI %u)\n", frq, TICKS,
		  PERIOD_MS, PPI_VTIMER);
	rk_set_irq_handler(irq);
	msr(S3_0_C12_C12_5, 7);  /* ICC_SRE_EL1: SRE */
	msr(S3_0_C4_C6_0, 0xf0); /* ICC_PMR_EL1: everything above the lowest priority */
	msr(S3_0_C12_C12_7, 1);  /* ICC_IGRPEN1_EL1: Group 1 on */
	__asm__ volatile("isb");
	stamps[0] = rk_read_sysreg(cntvct_el0);
	msr(cntv_tval_el0, period);
	msr(cntv_ctl_el0, 1); /* enabled, unmasked */
	__asm__ volatile("isb; msr daifclr, #2" ::: "memory");
	uint64_t limit = stamps[0] + frq * 30; /* give up after 30 s */
	while (ticks < TICKS && rk_read_sysreg(cntvct_el0) < limit)
		__asm__ volatile("wfi");
	__asm__ volatile("msr daifset, #2" ::: "memory");
	msr(cntv_ctl_el0, 0);
	for (unsigned i = 1; i <= ticks; i++) {
		uint64_t d = stamps[i] - stamps[i - 1];
		bool early = d < period;
		rk_printf("timer: tick %u after %lu us%s\n", i, d * 1000000 / frq, early ? " (EARLY)" : "");
		ok = ok && !early;
	}
	ok = ok && ticks == TICKS;
	rk_printf("timer: %u of %u ticks, %lu spurious: %s\n", ticks, TICKS, spurious, ok ? "PASS" : "FAIL");
	rk_report(RK_GUEST_EX_TIMER, ok, ticks);
	return 0;
}
