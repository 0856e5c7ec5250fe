/* SPDX-License-Identifier: MIT */
/*
 * A PL011 UART register model (ARM DDI 0183G), pure: no locks, no threads,
 * no I/O. devices.c wraps it as an MMIO device (rk_vm_add_pl011()); the unit
 * test is tests/host/test_pl011.c.
 *
 * Transmit: a byte written to UARTDR leaves at once through tx() (the TX FIFO
 * is always empty: UARTFR.TXFE = 1, TXFF = BUSY = 0), whatever UARTCR says
 * (as QEMU: a bare-metal guest need not enable the UART to print).
 * Receive: pl011_rx_push() puts bytes in the RX FIFO (32 entries with
 * UARTLCR_H.FEN, else a 1-byte holding register) as long as there is room; it
 * returns how many it took, so input is held back by the caller, never lost
 * (no overrun). Toggling FEN keeps what the FIFO holds.
 *
 * Interrupts (UARTRIS, UARTIMSC, UARTMIS, UARTICR): RXIS when the RX FIFO
 * reaches the trigger level of UARTIFLS (1 byte without FEN), cleared when a
 * read of UARTDR takes it below; RTIS (receive timeout) when a push ends with
 * the FIFO not empty (the line is idle from then on: the model has no bit
 * time), cleared when the FIFO is emptied; TXIS whenever a write of UARTDR
 * has been sent (the TX FIFO drained below its trigger level). UARTICR clears
 * any of them. The interrupt line UARTINTR = (RIS & IMSC) != 0; irq() is
 * called whenever it changes. Modem and error interrupts never occur.
 *
 * Accesses: 1, 2 or 4 bytes, naturally aligned. A read returns the 32-bit
 * register shifted by the byte lane (side effects, a UARTDR read popping the
 * FIFO, only when the access includes lane 0); a write at lane 0 writes the
 * register (the bytes not written as 0); a write at another lane is ignored.
 * Reserved and write-only offsets read as 0, writes to reserved and read-only
 * offsets are ignored. Sizes other than 1, 2, 4 and misaligned or
 * out-of-range offsets fail (-EINVAL; the guest gets an external abort).
 */
#ifndef RK_HOST_PL011_H
#define RK_HOST_PL011_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PL011_DR 0x000u
#define PL011_RSR 0x004u /* UARTRSR (read) / UARTECR (write) */
#define PL011_FR 0x018u
#define PL011_ILPR 0x020u
#define PL011_IBRD 0x024u
#define PL011_FBRD 0x028u
#define PL011_LCR_H 0x02cu
#define PL011_CR 0x030u
#define PL011_IFLS 0x034u
#define PL011_IMSC 0x038u
#define PL011_RIS 0x03cu
#define PL011_MIS 0x040u
#define PL011_ICR 0x044u
#define PL011_DMACR 0x048u
#define PL011_PERIPHID0 0xfe0u /* PeriphID0..3 at 0xfe0..0xfec, PCellID0..3 at 0xff0..0xffc */
#define PL011_SIZE 0x1000u

#define PL011_FR_BUSY (1u << 3)
#define PL011_FR_RXFE (1u << 4)
#define PL011_FR_TXFF (1u << 5)
#define PL011_FR_RXFF (1u << 6)
#define PL011_FR_TXFE (1u << 7)

#define PL011_LCR_H_FEN (1u << 4)

#define PL011_INT_RX (1u << 4)
#define PL011_INT_TX (1u << 5)
#define PL011_INT_RT (1u << 6)
#define PL011_INT_ALL 0x7ffu

#define PL011_CR_RESET 0x300u  /* TXE | RXE */
#define PL011_IFLS_RESET 0x12u /* 1/2 full, both directions */
#define PL011_FIFO_DEPTH 32u

#define PL011_PERIPHID 0x00141011u /* ARM, PL011 r1p4: what Linux's AMBA bus matches */
#define PL011_CELLID 0xb105f00du

struct pl011_cb {
	void (*tx)(void *arg, uint8_t c);   /* a byte written to UARTDR */
	void (*irq)(void *arg, bool level); /* UARTINTR changed */
	void (*rx_space)(void *arg);        /* the RX FIFO has room again after being full */
	void *arg;
};

struct pl011 {
	struct pl011_cb cb;
	uint32_t rsr, ilpr, ibrd, fbrd, lcr_h, cr, ifls, imsc, ris, dmacr;
	uint8_t rx[PL011_FIFO_DEPTH];
	uint32_t rx_head, rx_count;
	bool irq_level;
};

void pl011_init(struct pl011 *u, const struct pl011_cb *cb);
void pl011_reset(struct pl011 *u);
int pl011_read(struct pl011 *u, uint64_t offset, uint32_t size, uint64_t *value);
int pl011_write(struct pl011 *u, uint64_t offset, uint32_t size, uint64_t value);
/* Bytes of buf the RX FIFO took (0 when it is full). */
size_t pl011_rx_push(struct pl011 *u, const uint8_t *buf, size_t len);
/* Bytes in the RX FIFO / room left in it (by FEN). */
uint32_t pl011_rx_count(const struct pl011 *u);
uint32_t pl011_rx_room(const struct pl011 *u);
/* The interrupt line UARTINTR (the OR of UARTMIS), and UARTMIS itself. */
bool pl011_irq_level(const struct pl011 *u);
uint32_t pl011_mis(const struct pl011 *u);

#endif
