/* SPDX-License-Identifier: MIT */
/* Interrupt-driven console input (console.h, rk_console_irq_input()). */
#include "sdk.h"

#define UART_REG(off) (*(volatile uint32_t *)(uintptr_t)(RK_GUEST_UART_IPA + (off)))
#define UART_FR 0x018
#define UART_IMSC 0x038
#define UART_FR_RXFE (1u << 4)
#define UART_INT_RX (1u << 4)
#define UART_INT_RT (1u << 6)

void rk_console_wait_input(void);

static volatile bool irq_mode;

void rk_console_irq_input(void)
{
	rk_gic_route(RK_GIC_SPI_UART, rk_cpu_index());
	rk_gic_enable(RK_GIC_SPI_UART, RK_GIC_PRIO_DEFAULT);
	irq_mode = true;
}

void rk_console_irq(void)
{
	/* masked until the reader waits again: the line is level-sensitive and
	 * stays high while the FIFO holds something */
	UART_REG(UART_IMSC) = 0;
}

/*
 * console.c's reader found the RX FIFO empty: wait in WFI with the RX and
 * receive-timeout interrupts unmasked, IRQs masked between the check and the
 * WFI (a WFI ends on a pending interrupt even then), then let it be taken
 * (rk_console_irq() masks them again). Without rk_console_irq_input(): return
 * at once (the reader polls).
 */
void rk_console_wait_input(void)
{
	if (!irq_mode)
		return;
	rk_irq_disable();
	UART_REG(UART_IMSC) = UART_INT_RX | UART_INT_RT;
	if (UART_REG(UART_FR) & UART_FR_RXFE)
		__asm__ volatile("wfi");
	rk_irq_enable();
}
