/* SPDX-License-Identifier: MIT */
/*
 * GICv3 for realm payloads: the host's vGIC (distributor at
 * RK_GUEST_GICD_IPA, this vCPU's redistributor at RK_GUEST_GICR_IPA +
 * index * RK_GUEST_GICR_STRIDE; realmkit/guest_abi.h) and the CPU interface
 * (ICC_*_EL1 system registers). Group 1 only, one security state, affinity
 * routing. The MMU may be off (device accesses are single 32/64-bit loads
 * and stores the host can emulate) or on with these pages mapped as device
 * memory at their IPA.
 *
 * Use: vCPU 0 calls rk_gic_init() once; every vCPU (0 included) calls
 * rk_gic_cpu_init() before it takes interrupts, then rk_gic_enable() for each
 * INTID it wants, and unmasks IRQs (rk_irq_enable()). The IRQ handler
 * (rk_set_irq_handler()) acknowledges with rk_gic_ack() and ends with
 * rk_gic_eoi().
 */
#ifndef RK_GUEST_GIC_H
#define RK_GUEST_GIC_H

#include <stdbool.h>
#include <stdint.h>

#define RK_GIC_PPI_VTIMER 27u /* EL1 virtual timer */
#define RK_GIC_PPI_PTIMER 30u /* EL1 physical timer */
#define RK_GIC_SPI_UART (32u + RK_GUEST_UART_SPI)
#define RK_GIC_SPURIOUS 1023u
#define RK_GIC_PRIO_DEFAULT 0xa0u

/* The distributor: Group 1 forwarding on (GICD_CTLR.EnableGrp1), every SPI
 * disabled, Group 1, priority RK_GIC_PRIO_DEFAULT, routed to vCPU 0. */
void rk_gic_init(void);
/*
 * This vCPU: its redistributor awake (GICR_WAKER), its SGIs and PPIs
 * disabled, Group 1, priority RK_GIC_PRIO_DEFAULT; the CPU interface: system
 * registers (ICC_SRE_EL1), priority mask 0xf0 (every priority but the
 * lowest), EOImode 0, Group 1 on (ICC_IGRPEN1_EL1).
 */
void rk_gic_cpu_init(void);
/* The CPU-interface part of rk_gic_cpu_init() alone (no redistributor access). */
void rk_gic_cpuif_init(void);
/* Enable intid with priority prio (lower is more urgent): an SGI or PPI in
 * this vCPU's redistributor, an SPI in the distributor (routing kept). */
void rk_gic_enable(unsigned intid, uint8_t prio);
void rk_gic_disable(unsigned intid);
/* Route SPI intid to vCPU cpu (GICD_IROUTER). */
void rk_gic_route(unsigned intid, unsigned cpu);
/* Make intid pending (an SGI/PPI of this vCPU, or an SPI) as a device would. */
void rk_gic_set_pending(unsigned intid);
/* Whether intid is pending (this vCPU's SGI/PPI, or an SPI). */
bool rk_gic_is_pending(unsigned intid);

/* ICC_IAR1_EL1: the highest-priority pending interrupt, now active
 * (RK_GIC_SPURIOUS: none). */
unsigned rk_gic_ack(void);
/* ICC_EOIR1_EL1: priority drop and deactivation (EOImode 0). */
void rk_gic_eoi(unsigned intid);

/* SGI sgi (0-15) to vCPU cpu; to every vCPU but this one (IRM = 1); to the
 * vCPUs whose bit is set in mask (bit i: vCPU index i; one write per Aff1
 * group of 16). */
void rk_gic_sgi(unsigned sgi, unsigned cpu);
void rk_gic_sgi_others(unsigned sgi);
void rk_gic_sgi_mask(unsigned sgi, uint64_t mask);

/* PSTATE.I: IRQs unmasked / masked on this vCPU. */
static inline void rk_irq_enable(void)
{
	__asm__ volatile("msr daifclr, #2" ::: "memory");
}

static inline void rk_irq_disable(void)
{
	__asm__ volatile("msr daifset, #2" ::: "memory");
}

#endif
