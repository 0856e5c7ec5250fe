/* SPDX-License-Identifier: MIT */
#include "sdk.h"

static rk_spinlock_t console_lock;

#define UART_REG(off) (*(volatile uint32_t *)(uintptr_t)(RK_GUEST_UART_IPA + (off)))
#define UART_FR 0x018
#define UART_LCR_H 0x02c
#define UART_FR_RXFE (1u << 4)
#define UART_LCR_H_FEN_8N1 0x70u /* FIFOs on, 8 bits, no parity, 1 stop bit */

static void uart_put(char c)
{
	/* One 32-bit store to the PL011 data register: an emulatable MMIO
	 * write the host sees as a data abort with ISV = 1. */
	*(volatile uint32_t *)(uintptr_t)RK_GUEST_UART_IPA = (uint8_t)c;
}

static void put_raw(char c)
{
	if (c == '\n')
		uart_put('\r');
	uart_put(c);
}

void rk_putc(char c)
{
	rk_spin_lock(&console_lock);
	put_raw(c);
	rk_spin_unlock(&console_lock);
}

void rk_puts(const char *s)
{
	rk_spin_lock(&console_lock);
	while (*s)
		put_raw(*s++);
	rk_spin_unlock(&console_lock);
}

struct spec {
	bool left;
	bool zero;
	unsigned width;
};

static int pad(const struct spec *sp, unsigned len, char c)
{
	int n = 0;

	while (len + (unsigned)n < sp->width) {
		put_raw(c);
		n++;
	}
	return n;
}

static int put_str(const struct spec *sp, const char *s)
{
	unsigned len = 0;
	int n;

	if (!s)
		s = "(null)";
	while (s[len])
		len++;
	n = sp->left ? 0 : pad(sp, len, ' ');
	for (unsigned i = 0; i < len; i++)
		put_raw(s[i]);
	n += (int)len;
	if (sp->left)
		n += pad(sp, len, ' ');
	return n;
}

static int put_num(const struct spec *sp, uint64_t v, unsigned base, bool neg, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	unsigned len = 0, total;
	int n = 0;

	do {
		buf[len++] = digits[v % base];
		v /= base;
	} while (v);
	total = len + (neg ? 1u : 0u);
	if (!sp->left && !sp->zero)
		n += pad(sp, total, ' ');
	if (neg) {
		put_raw('-');
		n++;
	}
	if (!sp->left && sp->zero)
		n += pad(sp, total, '0');
	while (len) {
		put_raw(buf[--len]);
		n++;
	}
	if (sp->left)
		n += pad(sp, total, ' ');
	return n;
}

int rk_vprintf(const char *fmt, va_list ap)
{
	int n = 0;

	rk_spin_lock(&console_lock);
	while (*fmt) {
		struct spec sp = { false, false, 0 };
		unsigned lng = 0;
		uint64_t u;
		int64_t s;

		if (*fmt != '%') {
			put_raw(*fmt++);
			n++;
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				sp.left = true;
			else if (*fmt == '0')
				sp.zero = true;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			sp.width = sp.width * 10 + (unsigned)(*fmt++ - '0');
		for (;; fmt++) {
			if (*fmt == 'l')
				lng++;
			else if (*fmt == 'z')
				lng = 2;
			else
				break;
		}
		switch (*fmt) {
		case 'd':
		case 'i':
			s = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			u = s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
			n += put_num(&sp, u, 10, s < 0, false);
			break;
		case 'u':
		case 'x':
		case 'X':
			u = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			n += put_num(&sp, u, *fmt == 'u' ? 10 : 16, false, *fmt == 'X');
			break;
		case 'p':
			put_raw('0');
			put_raw('x');
			sp.zero = true;
			sp.width = 16;
			n += 2 + put_num(&sp, (uint64_t)(uintptr_t)va_arg(ap, void *), 16, false, false);
			break;
		case 's':
			n += put_str(&sp, va_arg(ap, const char *));
			break;
		case 'c':
			put_raw((char)va_arg(ap, int));
			n++;
			break;
		case '%':
			put_raw('%');
			n++;
			break;
		case '\0':
			fmt--;
			break;
		default: /* unknown: print it as is */
			put_raw('%');
			put_raw(*fmt);
			n += 2;
			break;
		}
		fmt++;
	}
	rk_spin_unlock(&console_lock);
	return n;
}

int rk_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = rk_vprintf(fmt, ap);
	va_end(ap);
	return n;
}

void rk_print_hex(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	static const char hex[] = "0123456789abcdef";

	rk_spin_lock(&console_lock);
	for (size_t i = 0; i < len; i++) {
		put_raw(hex[p[i] >> 4]);
		put_raw(hex[p[i] & 15]);
	}
	rk_spin_unlock(&console_lock);
}

/* ---- input: polling UARTFR.RXFE, or waiting for the RX interrupt ---- */

static rk_spinlock_t input_lock;
static bool fifo_on;
static bool after_cr; /* the last line ended in '\r': a '\n' right after it is part of it */

/* Interrupt-driven input (console_irq.c, an archive member: linked only into
 * payloads that call rk_console_irq_input()): a weak reference. */
__attribute__((weak)) void rk_console_wait_input(void);

static int getc_locked(bool wait)
{
	if (!fifo_on) {
		/* the 32-byte FIFO instead of a 1-byte holding register (the host keeps what it holds) */
		UART_REG(UART_LCR_H) = UART_LCR_H_FEN_8N1;
		fifo_on = true;
	}
	while (UART_REG(UART_FR) & UART_FR_RXFE) {
		if (!wait)
			return -1;
		if (rk_console_wait_input)
			rk_console_wait_input();
	}
	return (int)(UART_REG(0) & 0xff);
}

int rk_getc(void)
{
	int c;

	rk_spin_lock(&input_lock);
	c = getc_locked(true);
	rk_spin_unlock(&input_lock);
	return c;
}

int rk_trygetc(void)
{
	int c;

	rk_spin_lock(&input_lock);
	c = getc_locked(false);
	rk_spin_unlock(&input_lock);
	return c;
}

size_t rk_readline(char *buf, size_t size)
{
	size_t n = 0;

	rk_spin_lock(&input_lock);
	for (;;) {
		int c = getc_locked(true);

		if (c == '\n' && after_cr) {
			after_cr = false;
			continue;
		}
		after_cr = c == '\r';
		if (c == '\r' || c == '\n') {
			rk_putc('\n');
			break;
		}
		if (c == 0x7f || c == '\b') { /* erase the last character */
			if (n) {
				n--;
				rk_puts("\b \b");
			}
			continue;
		}
		if (n + 1 >= size)
			continue; /* no room: dropped */
		buf[n++] = (char)c;
		if (c < 0x20) { /* other control characters: kept, echoed as ^X */
			rk_putc('^');
			c += '@';
		}
		rk_putc((char)c);
	}
	if (size)
		buf[n] = '\0';
	rk_spin_unlock(&input_lock);
	return n;
}
