/* SPDX-License-Identifier: MIT */
/* Console on the PL011-compatible UART at RK_GUEST_UART_IPA. */
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

#endif
