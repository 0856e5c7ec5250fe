/* SPDX-License-Identifier: MIT */
/*
 * timer: periodic ticks from the EL1 virtual timer (needs RK_CPU_MODE=stage2:
 * the RMM emulates the realm's generic timers there). The GIC is set up
 * with the SDK (distributor, this vCPU's redistributor and CPU interface),
 * the virtual timer's PPI 27 enabled in the redistributor, IRQs unmasked;
 * every tick the IRQ handler acknowledges it (ICC_IAR1_EL1), rearms the
 * timer (CNTV_TVAL_EL0) and EOIs it (ICC_EOIR1_EL1); the main loop sleeps in
 * WFI between ticks. Prints each interval measured from
 * CNTVCT_EL0; PASS if every tick came, none early.
 */
#include "sdk.h"

#define TICKS 5
#define PERIOD_MS 20
#define PPI_VTIMER RK_GIC_PPI_VTIMER

#define msr(name, v) __asm__ volatile("msr " #name ", %0" ::"r"((uint64_t)(v)))

static volatile unsigned ticks;
static volatile uint64_t stamps[TICKS + 1];
static volatile uint64_t spurious;
static uint64_t period;

static void irq(struct rk_exc_frame *frame)
{
	unsigned intid = rk_gic_ack(); /* ICC_IAR1_EL1 */

	(void)frame;
	if (intid != PPI_VTIMER) {
		if (intid < 1020)
			rk_gic_eoi(intid);
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
	rk_gic_eoi(intid); /* ICC_EOIR1_EL1 */
}

int main(void)
{
	uint64_t frq = rk_read_sysreg(cntfrq_el0);
	bool ok = frq != 0;

	period = frq / 1000 * PERIOD_MS;
	rk_printf("timer: CNTFRQ_EL0 %lu Hz, %u ticks of %u ms from the virtual timer (PPI %u)\n", frq, TICKS,
		  PERIOD_MS, PPI_VTIMER);
	rk_set_irq_handler(irq);
	rk_gic_init();     /* the distributor: Group 1 on */
	rk_gic_cpu_init(); /* the redistributor awake; ICC_SRE, PMR, IGRPEN1 */
	rk_gic_enable(PPI_VTIMER, RK_GIC_PRIO_DEFAULT);
	stamps[0] = rk_read_sysreg(cntvct_el0);
	msr(cntv_tval_el0, period);
	msr(cntv_ctl_el0, 1); /* enabled, unmasked */
	__asm__ volatile("isb");
	rk_irq_enable();
	uint64_t limit = stamps[0] + frq * 30; /* give up after 30 s */
	while (ticks < TICKS && rk_read_sysreg(cntvct_el0) < limit)
		__asm__ volatile("wfi");
	rk_irq_disable();
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
