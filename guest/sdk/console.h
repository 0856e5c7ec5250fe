/* SPDX-License-Identifier: MIT */
/* Console on the PL011 UART at RK_GUEST_UART_IPA: output, and input by polling or by its interrupt. */
#ifndef RK_GUEST_CONSOLE_H
#define RK_GUEST_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>

void rk_putc(char c);
void rk_puts(const char *s); /* no newline added */
/*
 * A small printf: %s %c %d %i %u %x %X %p %%, the l/ll/z length modifiers,
 * a field width and the '0' and '-' flags. One call is printed as a unit
 * (console lock), so lines from different vCPUs do not mix.
 */
int rk_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int rk_vprintf(const char *fmt, va_list ap);
/* Print len bytes as lowercase hex. */
void rk_print_hex(const void *buf, size_t len);

/*
 * Input, by polling UARTFR.RXFE (or see rk_console_irq_input()): the first call turns the
 * UART's 32-byte FIFO on (UARTLCR_H.FEN). rk_getc() waits for a byte and
 * returns it; rk_trygetc() returns -1 at once when there is none.
 * rk_readline() reads a line into buf (at most size - 1 characters, then a
 * '\0'; the rest of a longer line is dropped), echoing what it keeps as a
 * terminal in raw mode needs: it ends at '\r', '\n' or "\r\n" (echoed as a
 * newline, not stored), DEL and backspace erase (the last byte kept),
 * other control characters are kept and echoed as ^X. Returns the line's
 * length. Waits forever if no line comes.
 */
int rk_getc(void);
int rk_trygetc(void);
size_t rk_readline(char *buf, size_t size);

/*
 * Interrupt-driven input instead of polling: the UART's SPI
 * (RK_GIC_SPI_UART) routed to this vCPU and enabled (rk_gic_init() and
 * rk_gic_cpu_init() first). A reader with nothing to read then unmasks the
 * RX and receive-timeout interrupts (UARTIMSC RXIM, RTIM) and waits in WFI;
 * IRQs are unmasked when it returns. The payload's IRQ handler calls
 * rk_console_irq() when it acknowledges RK_GIC_SPI_UART (it masks them again).
 */
void rk_console_irq_input(void);
void rk_console_irq(void);

#endif
