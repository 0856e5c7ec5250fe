/* SPDX-License-Identifier: MIT */
/*
 * echo: reads the console line by line and prints each line back as
 * "echo: <line>" (control characters as ^X), until a line "quit": PASS with
 * the number of lines echoed. Input is interrupt-driven: the PL011's RX and
 * receive-timeout interrupts (UARTIMSC RXIM, RTIM) on its SPI (INTID 33)
 * through the GIC (the host's vGIC, in a realm and in a normal VM alike);
 * the reader sleeps in WFI until input comes. Input ends only with "quit":
 * without it the guest keeps waiting (`realmkit run --timeout` ends it).
 */
#include "sdk.h"

static volatile uint64_t uart_irqs, other_irqs;

static void irq(struct rk_exc_frame *frame)
{
	unsigned intid = rk_gic_ack();

	(void)frame;
	if (intid >= RK_GIC_SPURIOUS - 3)
		return;
	if (intid == RK_GIC_SPI_UART) {
		rk_console_irq(); /* RX interrupts masked until the reader waits again */
		uart_irqs++;
	} else {
		other_irqs++;
	}
	rk_gic_eoi(intid);
}

int main(void)
{
	char line[128];
	uint64_t lines = 0;

	rk_set_irq_handler(irq);
	rk_gic_init();
	rk_gic_cpu_init();
	rk_console_irq_input(); /* SPI 33 to this vCPU, enabled */
	rk_irq_enable();
	rk_puts("echo: type lines, \"quit\" to stop\n");
	for (;;) {
		rk_puts("> ");
		rk_readline(line, sizeof(line));
		if (!memcmp(line, "quit", 5)) /* with its terminating zero */
			break;
		rk_puts("echo: ");
		for (const char *p = line; *p; p++)
			if ((unsigned char)*p < 0x20)
				rk_printf("^%c", *p + '@'); /* a control character, as ^X */
			else
				rk_putc(*p);
		rk_putc('\n');
		lines++;
	}
	rk_irq_disable();
	bool ok = uart_irqs && !other_irqs;
	rk_printf("echo: %lu lines, %lu UART interrupts: %s\n", lines, uart_irqs, ok ? "PASS" : "FAIL");
	rk_report(RK_GUEST_EX_ECHO, ok, lines);
	return 0; /* -> PSCI SYSTEM_OFF */
}
