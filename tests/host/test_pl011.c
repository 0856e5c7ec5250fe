/* SPDX-License-Identifier: MIT */
/*
 * The PL011 register model (src/host/pl011.h), on its own: reset values of
 * every register, the read/write masks, UARTFR (RXFE, RXFF, TXFE, never TXFF
 * or BUSY), the RX FIFO (1-byte holding register without FEN, 32 bytes with
 * it, FIFO order, full refuses more, toggling FEN keeps the data, rx_space
 * when a full FIFO gets room), the interrupts (RX at the trigger levels of
 * UARTIFLS, RT after a push, TX after a write, UARTIMSC/UARTMIS/UARTICR, the
 * line and its callback only on changes), the PrimeCell ID registers as
 * Linux's AMBA bus reads them, sub-word accesses, and bad sizes/offsets
 * (-EINVAL, no state change). End to end through a VM: rk_vm_uart_input()
 * and rk_vm_uart_irq_level() find the UART, refuse other addresses.
 */
#include <errno.h>
#include <string.h>

#include "host/pl011.h"
#include "realmkit/host.h"
#include "rk_test.h"

struct sink {
	char tx[64];
	size_t ntx;
	int irq_calls, space_calls;
	bool level;
};

static void s_tx(void *arg, uint8_t c)
{
	struct sink *s = arg;

	if (s->ntx < sizeof(s->tx))
		s->tx[s->ntx++] = (char)c;
}

static void s_irq(void *arg, bool level)
{
	struct sink *s = arg;

	s->irq_calls++;
	s->level = level;
}

static void s_space(void *arg)
{
	((struct sink *)arg)->space_calls++;
}

static void setup(struct pl011 *u, struct sink *s)
{
	memset(s, 0, sizeof(*s));
	pl011_init(u, &(struct pl011_cb){ s_tx, s_irq, s_space, s });
}

static uint32_t rd(struct pl011 *u, uint32_t off)
{
	uint64_t v = 0xdead;

	assert_int_equal(pl011_read(u, off, 4, &v), 0);
	return (uint32_t)v;
}

static void wr(struct pl011 *u, uint32_t off, uint32_t v)
{
	assert_int_equal(pl011_write(u, off, 4, v), 0);
}

static size_t push(struct pl011 *u, const char *s)
{
	return pl011_rx_push(u, (const uint8_t *)s, strlen(s));
}

static void test_reset_values(void **state)
{
	struct pl011 u;
	struct sink s;

	(void)state;
	setup(&u, &s);
	assert_int_equal(rd(&u, PL011_DR), 0);
	assert_int_equal(rd(&u, PL011_RSR), 0);
	assert_int_equal(rd(&u, PL011_FR), PL011_FR_RXFE | PL011_FR_TXFE);
	assert_int_equal(rd(&u, PL011_ILPR), 0);
	assert_int_equal(rd(&u, PL011_IBRD), 0);
	assert_int_equal(rd(&u, PL011_FBRD), 0);
	assert_int_equal(rd(&u, PL011_LCR_H), 0);
	assert_int_equal(rd(&u, PL011_CR), 0x300);
	assert_int_equal(rd(&u, PL011_IFLS), 0x12);
	assert_int_equal(rd(&u, PL011_IMSC), 0);
	assert_int_equal(rd(&u, PL011_RIS), 0);
	assert_int_equal(rd(&u, PL011_MIS), 0);
	assert_int_equal(rd(&u, PL011_ICR), 0);
	assert_int_equal(rd(&u, PL011_DMACR), 0);
	assert_false(pl011_irq_level(&u));
	assert_int_equal(s.irq_calls, 0);
	assert_int_equal(s.ntx, 0);
}

static void test_register_masks(void **state)
{
	struct pl011 u;
	struct sink s;

	(void)state;
	setup(&u, &s);
	wr(&u, PL011_ILPR, 0xffffffff);
	wr(&u, PL011_IBRD, 0xffffffff);
	wr(&u, PL011_FBRD, 0xffffffff);
	wr(&u, PL011_LCR_H, 0xffffffff);
	wr(&u, PL011_CR, 0xffffffff);
	wr(&u, PL011_IFLS, 0xffffffff);
	wr(&u, PL011_DMACR, 0xffffffff);
	assert_int_equal(rd(&u, PL011_ILPR), 0xff);
	assert_int_equal(rd(&u, PL011_IBRD), 0xffff);
	assert_int_equal(rd(&u, PL011_FBRD), 0x3f);
	assert_int_equal(rd(&u, PL011_LCR_H), 0xff);
	assert_int_equal(rd(&u, PL011_CR), 0xffff);
	assert_int_equal(rd(&u, PL011_IFLS), 0x3f);
	assert_int_equal(rd(&u, PL011_DMACR), 0x7);
	wr(&u, PL011_IMSC, 0xffffffff);
	assert_int_equal(rd(&u, PL011_IMSC), 0x7ff);
	/* read-only registers ignore writes */
	wr(&u, PL011_FR, 0);
	wr(&u, PL011_RIS, 0xffffffff);
	wr(&u, PL011_MIS, 0xffffffff);
	wr(&u, PL011_PERIPHID0, 0);
	assert_int_equal(rd(&u, PL011_FR), PL011_FR_RXFE | PL011_FR_TXFE);
	assert_int_equal(rd(&u, PL011_RIS), 0);
	assert_int_equal(rd(&u, PL011_PERIPHID0), 0x11);
	/* UARTECR clears UARTRSR; reserved and test registers: RAZ/WI */
	wr(&u, PL011_RSR, 0xff);
	assert_int_equal(rd(&u, PL011_RSR), 0);
	for (uint32_t off = 0x04c; off < 0xfe0; off += 4) {
		wr(&u, off, 0xffffffff);
		assert_int_equal(rd(&u, off), 0);
	}
	assert_int_equal(s.ntx, 0);
	pl011_reset(&u);
	assert_int_equal(rd(&u, PL011_CR), 0x300);
	assert_int_equal(rd(&u, PL011_IMSC), 0);
	assert_false(pl011_irq_level(&u));
}

static void test_id_registers(void **state)
{
	static const uint32_t want[8] = { 0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };
	struct pl011 u;
	struct sink s;
	uint32_t periph = 0, cell = 0;

	(void)state;
	setup(&u, &s);
	for (uint32_t i = 0; i < 8; i++)
		assert_int_equal(rd(&u, 0xfe0 + 4 * i), want[i]);
	/* as drivers/amba/bus.c assembles them: byte i of the ID from register i */
	for (uint32_t i = 0; i < 4; i++) {
		periph |= (rd(&u, 0xfe0 + 4 * i) & 0xff) << (8 * i);
		cell |= (rd(&u, 0xff0 + 4 * i) & 0xff) << (8 * i);
	}
	assert_int_equal(periph, 0x00141011);
	assert_int_equal(cell, 0xb105f00d);
}

static void test_transmit(void **state)
{
	struct pl011 u;
	struct sink s;

	(void)state;
	setup(&u, &s);
	wr(&u, PL011_DR, 'h');
	assert_int_equal(pl011_write(&u, PL011_DR, 1, 'i'), 0);
	assert_int_equal(pl011_write(&u, PL011_DR, 2, 0x1234 | '!'), 0); /* low byte only */
	assert_int_equal(s.ntx, 3);
	assert_memory_equal(s.tx, "hi5", 3);
	/* never full, never busy: sent at once */
	assert_int_equal(rd(&u, PL011_FR) & (PL011_FR_TXFF | PL011_FR_BUSY | PL011_FR_TXFE), PL011_FR_TXFE);
	/* the TX interrupt: raw set, masked until UARTIMSC.TXIM */
	assert_int_equal(rd(&u, PL011_RIS), PL011_INT_TX);
	assert_int_equal(rd(&u, PL011_MIS), 0);
	assert_false(pl011_irq_level(&u));
	wr(&u, PL011_IMSC, PL011_INT_TX);
	assert_int_equal(rd(&u, PL011_MIS), PL011_INT_TX);
	assert_true(pl011_irq_level(&u));
	assert_int_equal(s.irq_calls, 1);
	assert_true(s.level);
	wr(&u, PL011_ICR, PL011_INT_TX);
	assert_int_equal(rd(&u, PL011_RIS), 0);
	assert_false(pl011_irq_level(&u));
	assert_int_equal(s.irq_calls, 2);
	assert_false(s.level);
	wr(&u, PL011_DR, 'x');
	assert_true(pl011_irq_level(&u));
	assert_int_equal(s.irq_calls, 3);
	wr(&u, PL011_DR, 'y'); /* already high: no call */
	assert_int_equal(s.irq_calls, 3);
}

static void test_holding_register(void **state)
{
	struct pl011 u;
	struct sink s;

	(void)state;
	setup(&u, &s); /* FEN = 0 after reset: a 1-byte holding register */
	assert_int_equal(pl011_rx_room(&u), 1);
	assert_int_equal(push(&u, "ab"), 1);
	assert_int_equal(rd(&u, PL011_FR) & (PL011_FR_RXFE | PL011_FR_RXFF), PL011_FR_RXFF);
	assert_int_equal(push(&u, "b"), 0); /* full: refused, nothing lost */
	assert_int_equal(rd(&u, PL011_RIS), PL011_INT_RX | PL011_INT_RT);
	assert_int_equal(s.space_calls, 0);
	assert_int_equal(rd(&u, PL011_DR), 'a');
	assert_int_equal(s.space_calls, 1); /* room again */
	assert_int_equal(rd(&u, PL011_FR) & (PL011_FR_RXFE | PL011_FR_RXFF), PL011_FR_RXFE);
	assert_int_equal(rd(&u, PL011_RIS), 0);
	assert_int_equal(rd(&u, PL011_DR), 0); /* empty: 0, no callback */
	assert_int_equal(s.space_calls, 1);
}

static void test_fifo(void **state)
{
	struct pl011 u;
	struct sink s;
	char in[40];

	(void)state;
	setup(&u, &s);
	wr(&u, PL011_LCR_H, PL011_LCR_H_FEN | 0x60);
	for (int i = 0; i < 40; i++)
		in[i] = (char)('A' + i);
	assert_int_equal(pl011_rx_push(&u, (const uint8_t *)in, 40), 32);
	assert_int_equal(pl011_rx_count(&u), 32);
	assert_int_equal(rd(&u, PL011_FR) & PL011_FR_RXFF, PL011_FR_RXFF);
	assert_int_equal(pl011_rx_push(&u, (const uint8_t *)in + 32, 8), 0);
	assert_int_equal(rd(&u, PL011_DR), 'A');
	assert_int_equal(s.space_calls, 1);
	assert_int_equal(pl011_rx_push(&u, (const uint8_t *)in + 32, 8), 1); /* wraps around */
	for (int i = 1; i < 33; i++)
		assert_int_equal(rd(&u, PL011_DR), 'A' + i);
	assert_int_equal(s.space_calls, 2);
	assert_int_equal(rd(&u, PL011_FR) & (PL011_FR_RXFE | PL011_FR_RXFF), PL011_FR_RXFE);
	assert_int_equal(rd(&u, PL011_DR), 0);

	/* FEN off with data in the FIFO: kept, read in order; no more taken until it is drained */
	assert_int_equal(push(&u, "xyz"), 3);
	wr(&u, PL011_LCR_H, 0x60);
	assert_int_equal(pl011_rx_room(&u), 0);
	assert_int_equal(push(&u, "w"), 0);
	assert_int_equal(rd(&u, PL011_DR), 'x');
	assert_int_equal(rd(&u, PL011_DR), 'y');
	assert_int_equal(pl011_rx_room(&u), 0);
	assert_int_equal(rd(&u, PL011_DR), 'z');
	assert_int_equal(pl011_rx_room(&u), 1);
	/* a full holding register made roomy by FEN on: rx_space */
	assert_int_equal(push(&u, "q"), 1);
	s.space_calls = 0;
	wr(&u, PL011_LCR_H, PL011_LCR_H_FEN);
	assert_int_equal(s.space_calls, 1);
	assert_int_equal(pl011_rx_room(&u), 31);
}

static void test_rx_interrupts(void **state)
{
	struct pl011 u;
	struct sink s;
	char buf[32];

	(void)state;
	setup(&u, &s);
	wr(&u, PL011_LCR_H, PL011_LCR_H_FEN);
	wr(&u, PL011_IMSC, PL011_INT_RX); /* RT masked */
	memset(buf, 'k', sizeof(buf));
	/* default trigger 1/2: 16 bytes */
	assert_int_equal(pl011_rx_push(&u, (const uint8_t *)buf, 15), 15);
	assert_int_equal(rd(&u, PL011_RIS), PL011_INT_RT);
	assert_false(pl011_irq_level(&u));
	assert_int_equal(pl011_rx_push(&u, (const uint8_t *)buf, 1), 1);
	assert_int_equal(rd(&u, PL011_RIS), PL011_INT_RT | PL011_INT_RX);
	assert_int_equal(rd(&u, PL011_MIS), PL011_INT_RX);
	assert_true(pl011_irq_level(&u));
	assert_true(s.level);
	rd(&u, PL011_DR); /* 15 left: below the trigger level, RX drops */
	assert_int_equal(rd(&u, PL011_RIS), PL011_INT_RT);
	assert_false(pl011_irq_level(&u));
	assert_false(s.level);
	/* RT: unmasked, high until the FIFO is empty */
	wr(&u, PL011_IMSC, PL011_INT_RX | PL011_INT_RT);
	assert_true(pl011_irq_level(&u));
	for (int i = 0; i < 14; i++)
		rd(&u, PL011_DR);
	assert_true(pl011_irq_level(&u));
	rd(&u, PL011_DR);
	assert_int_equal(rd(&u, PL011_RIS), 0);
	assert_false(pl011_irq_level(&u));
	/* UARTICR clears RT with data still there; the next push sets it again */
	assert_int_equal(push(&u, "ab"), 2);
	assert_true(pl011_irq_level(&u));
	wr(&u, PL011_ICR, PL011_INT_RT);
	assert_false(pl011_irq_level(&u));
	assert_int_equal(push(&u, "c"), 1);
	assert_true(pl011_irq_level(&u));
	wr(&u, PL011_ICR, 0x7ff);
	for (int i = 0; i < 3; i++)
		rd(&u, PL011_DR);
	/* every trigger level: 1/8 4, 1/4 8, 1/2 16, 3/4 24, 7/8 28 (and the reserved values as 7/8) */
	static const uint32_t level[8] = { 4, 8, 16, 24, 28, 28, 28, 28 };
	for (uint32_t sel = 0; sel < 8; sel++) {
		wr(&u, PL011_IFLS, sel << 3);
		assert_int_equal(pl011_rx_push(&u, (const uint8_t *)buf, level[sel] - 1), level[sel] - 1);
		assert_int_equal(rd(&u, PL011_RIS) & PL011_INT_RX, 0);
		assert_int_equal(pl011_rx_push(&u, (const uint8_t *)buf, 1), 1);
		assert_int_equal(rd(&u, PL011_RIS) & PL011_INT_RX, PL011_INT_RX);
		while (pl011_rx_count(&u))
			rd(&u, PL011_DR);
		assert_int_equal(rd(&u, PL011_RIS), 0);
	}
	/* without FEN the trigger is one byte */
	wr(&u, PL011_LCR_H, 0);
	assert_int_equal(push(&u, "z"), 1);
	assert_int_equal(rd(&u, PL011_RIS) & PL011_INT_RX, PL011_INT_RX);
	/* a reset drops the line */
	assert_true(pl011_irq_level(&u));
	pl011_reset(&u);
	assert_false(pl011_irq_level(&u));
	assert_false(s.level);
	assert_int_equal(pl011_rx_count(&u), 0);
}

static void test_access_sizes(void **state)
{
	struct pl011 u;
	struct sink s;
	uint64_t v;

	(void)state;
	setup(&u, &s);
	wr(&u, PL011_IBRD, 0xabcd);
	assert_int_equal(pl011_read(&u, PL011_IBRD, 2, &v), 0);
	assert_int_equal(v, 0xabcd);
	assert_int_equal(pl011_read(&u, PL011_IBRD, 1, &v), 0);
	assert_int_equal(v, 0xcd);
	assert_int_equal(pl011_read(&u, PL011_IBRD + 1, 1, &v), 0);
	assert_int_equal(v, 0xab);
	assert_int_equal(pl011_read(&u, PL011_IBRD + 2, 2, &v), 0);
	assert_int_equal(v, 0);
	/* 16-bit accesses (Linux's amba-pl011 without reg-io-width) */
	assert_int_equal(pl011_write(&u, PL011_CR, 2, 0x301), 0);
	assert_int_equal(rd(&u, PL011_CR), 0x301);
	/* a write at lane 1: ignored */
	assert_int_equal(pl011_write(&u, PL011_IBRD + 1, 1, 0x55), 0);
	assert_int_equal(rd(&u, PL011_IBRD), 0xabcd);
	assert_int_equal(pl011_write(&u, PL011_DR + 2, 2, 'q'), 0);
	assert_int_equal(s.ntx, 0);
	/* a read of UARTDR not at lane 0 peeks, it does not pop */
	assert_int_equal(push(&u, "p"), 1);
	assert_int_equal(pl011_read(&u, PL011_DR + 1, 1, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(pl011_rx_count(&u), 1);
	assert_int_equal(pl011_read(&u, PL011_DR, 1, &v), 0);
	assert_int_equal(v, 'p');
	assert_int_equal(pl011_rx_count(&u), 0);
	/* bad sizes, misaligned, out of range: -EINVAL, nothing changes */
	assert_int_equal(push(&u, "r"), 1);
	static const struct {
		uint64_t off;
		uint32_t size;
	} bad[] = { { PL011_DR, 8 },     { PL011_DR, 0 }, { PL011_DR, 3 },  { PL011_DR + 1, 2 },
		    { PL011_CR + 2, 4 }, { 0x1000, 4 },   { ~0ull - 3, 4 }, { PL011_FR + 3, 2 } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 0x1234;
		assert_int_equal(pl011_read(&u, bad[i].off, bad[i].size, &v), -EINVAL);
		assert_int_equal(v, 0);
		assert_int_equal(pl011_write(&u, bad[i].off, bad[i].size, 'z'), -EINVAL);
	}
	assert_int_equal(pl011_rx_count(&u), 1);
	assert_int_equal(s.ntx, 0);
	assert_int_equal(rd(&u, PL011_CR), 0x301);
	assert_int_equal(rd(&u, PL011_DR), 'r');
}

static void test_no_callbacks(void **state)
{
	struct pl011 u;

	(void)state;
	pl011_init(&u, NULL);
	wr(&u, PL011_IMSC, 0x7ff);
	wr(&u, PL011_DR, 'a');
	assert_int_equal(push(&u, "b"), 1);
	assert_true(pl011_irq_level(&u));
	assert_int_equal(rd(&u, PL011_DR), 'b');
}

static void discard(void *arg, const char *buf, size_t len)
{
	(void)arg;
	(void)buf;
	(void)len;
}

static void test_vm_api(void **state)
{
	struct rk_machine_config mc;
	struct rk_machine *m = NULL;
	struct rk_host *h = NULL;
	struct rk_vm *vm = NULL;
	struct rk_vm_config vc;
	const uint64_t ipa = 0x09000000;
	size_t taken = 99;

	(void)state;
	rk_machine_config_default(&mc);
	assert_int_equal(rk_machine_create(&mc, &m), 0);
	assert_int_equal(rk_host_create(m, NULL, &h), 0);
	rk_vm_config_default(&vc, RK_VM_NORMAL);
	assert_int_equal(rk_vm_create(h, &vc, &vm), 0);
	assert_int_equal(rk_vm_add_uart(vm, ipa, discard, NULL), 0);
	assert_int_equal(rk_vm_uart_irq_level(vm, ipa), 0);
	assert_int_equal(rk_vm_uart_input(vm, ipa, "ab", 2, &taken), 0);
	assert_int_equal(taken, 1); /* the holding register */
	assert_int_equal(rk_vm_uart_input(vm, ipa, "b", 1, &taken), 0);
	assert_int_equal(taken, 0);
	assert_int_equal(rk_vm_uart_input(vm, ipa + 4, "b", 1, &taken), -ENODEV);
	assert_int_equal(rk_vm_uart_input(vm, 0x1000, "b", 1, &taken), -ENODEV);
	assert_int_equal(rk_vm_uart_input(vm, ipa, NULL, 1, &taken), -EINVAL);
	assert_int_equal(rk_vm_uart_input(NULL, ipa, "b", 1, &taken), -ENODEV);
	assert_int_equal(rk_vm_uart_irq_level(vm, ipa + 0x1000), -ENODEV);
	assert_int_equal(rk_vm_uart_irq_level(NULL, ipa), -ENODEV);
	assert_int_equal(rk_vm_add_pl011(vm, ipa, NULL), -EEXIST);
	assert_int_equal(rk_vm_destroy(vm), 0);
	rk_vm_free(vm);
	rk_host_destroy(h);
	rk_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_values),     cmocka_unit_test(test_register_masks),
		cmocka_unit_test(test_id_registers),     cmocka_unit_test(test_transmit),
		cmocka_unit_test(test_holding_register), cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_rx_interrupts),    cmocka_unit_test(test_access_sizes),
		cmocka_unit_test(test_no_callbacks),     cmocka_unit_test(test_vm_api),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
