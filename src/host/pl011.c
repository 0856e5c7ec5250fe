/* SPDX-License-Identifier: MIT */
/* The PL011 register model: see pl011.h. */
#include <errno.h>
#include <string.h>

#include "pl011.h"

static uint32_t depth(const struct pl011 *u)
{
	return u->lcr_h & PL011_LCR_H_FEN ? PL011_FIFO_DEPTH : 1u;
}

/* The RX trigger level (UARTIFLS.RXIFLSEL: 1/8, 1/4, 1/2, 3/4, 7/8; the reserved values as 7/8). */
static uint32_t rx_trigger(const struct pl011 *u)
{
	static const uint32_t eighths[8] = { 1, 2, 4, 6, 7, 7, 7, 7 };

	if (!(u->lcr_h & PL011_LCR_H_FEN))
		return 1;
	return PL011_FIFO_DEPTH * eighths[(u->ifls >> 3) & 7] / 8;
}

static void update_irq(struct pl011 *u)
{
	bool level = (u->ris & u->imsc) != 0;

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	if (u->cb.irq)
		u->cb.irq(u->cb.arg, level);
}

void pl011_reset(struct pl011 *u)
{
	bool level = u->irq_level;

	u->rsr = u->ilpr = u->ibrd = u->fbrd = u->lcr_h = u->imsc = u->ris = u->dmacr = 0;
	u->cr = PL011_CR_RESET;
	u->ifls = PL011_IFLS_RESET;
	u->rx_head = u->rx_count = 0;
	memset(u->rx, 0, sizeof(u->rx));
	u->irq_level = level;
	update_irq(u); /* the line goes low if it was high */
}

void pl011_init(struct pl011 *u, const struct pl011_cb *cb)
{
	memset(u, 0, sizeof(*u));
	if (cb)
		u->cb = *cb;
	pl011_reset(u);
}

uint32_t pl011_rx_count(const struct pl011 *u)
{
	return u->rx_count;
}

uint32_t pl011_rx_room(const struct pl011 *u)
{
	return u->rx_count >= depth(u) ? 0 : depth(u) - u->rx_count;
}

uint32_t pl011_mis(const struct pl011 *u)
{
	return u->ris & u->imsc;
}

bool pl011_irq_level(const struct pl011 *u)
{
	return u->irq_level;
}

size_t pl011_rx_push(struct pl011 *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	while (n < len && pl011_rx_room(u)) {
		u->rx[(u->rx_head + u->rx_count) % PL011_FIFO_DEPTH] = buf[n++];
		u->rx_count++;
	}
	if (n) {
		if (u->rx_count >= rx_trigger(u))
			u->ris |= PL011_INT_RX;
		u->ris |= PL011_INT_RT; /* the line is idle after the push */
		update_irq(u);
	}
	return n;
}

static uint32_t rx_pop(struct pl011 *u)
{
	bool was_full = !pl011_rx_room(u);
	uint32_t c;

	if (!u->rx_count)
		return 0; /* nothing to read: 0, no side effect */
	c = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % PL011_FIFO_DEPTH;
	u->rx_count--;
	if (u->rx_count < rx_trigger(u))
		u->ris &= ~PL011_INT_RX;
	if (!u->rx_count)
		u->ris &= ~PL011_INT_RT;
	update_irq(u);
	if (was_full && pl011_rx_room(u) && u->cb.rx_space)
		u->cb.rx_space(u->cb.arg);
	return c; /* error bits [11:8] are never set */
}

static uint32_t reg_read(struct pl011 *u, uint32_t reg, bool effects)
{
	uint32_t v;

	switch (reg) {
	case PL011_DR:
		if (effects)
			return rx_pop(u);
		return u->rx_count ? u->rx[u->rx_head] : 0;
	case PL011_RSR:
		return u->rsr;
	case PL011_FR:
		v = PL011_FR_TXFE;
		if (!u->rx_count)
			v |= PL011_FR_RXFE;
		if (!pl011_rx_room(u))
			v |= PL011_FR_RXFF;
		return v;
	case PL011_ILPR:
		return u->ilpr;
	case PL011_IBRD:
		return u->ibrd;
	case PL011_FBRD:
		return u->fbrd;
	case PL011_LCR_H:
		return u->lcr_h;
	case PL011_CR:
		return u->cr;
	case PL011_IFLS:
		return u->ifls;
	case PL011_IMSC:
		return u->imsc;
	case PL011_RIS:
		return u->ris;
	case PL011_MIS:
		return pl011_mis(u);
	case PL011_DMACR:
		return u->dmacr;
	default:
		if (reg >= PL011_PERIPHID0 && reg < PL011_PERIPHID0 + 0x10)
			return (PL011_PERIPHID >> ((reg - PL011_PERIPHID0) * 2)) & 0xff;
		if (reg >= PL011_PERIPHID0 + 0x10 && reg < PL011_SIZE)
			return (PL011_CELLID >> ((reg - PL011_PERIPHID0 - 0x10) * 2)) & 0xff;
		return 0; /* reserved, test registers, UARTICR (write-only) */
	}
}

static void reg_write(struct pl011 *u, uint32_t reg, uint32_t v)
{
	switch (reg) {
	case PL011_DR:
		if (u->cb.tx)
			u->cb.tx(u->cb.arg, (uint8_t)v);
		u->ris |= PL011_INT_TX; /* sent at once: the TX FIFO is below its trigger level */
		break;
	case PL011_RSR: /* UARTECR: clears the error flags */
		u->rsr = 0;
		break;
	case PL011_ILPR:
		u->ilpr = v & 0xff;
		break;
	case PL011_IBRD:
		u->ibrd = v & 0xffff;
		break;
	case PL011_FBRD:
		u->fbrd = v & 0x3f;
		break;
	case PL011_LCR_H: {
		bool had_room = pl011_rx_room(u) != 0;
		u->lcr_h = v & 0xff;
		if (u->rx_count >= rx_trigger(u))
			u->ris |= PL011_INT_RX;
		else
			u->ris &= ~PL011_INT_RX;
		if (!had_room && pl011_rx_room(u) && u->cb.rx_space)
			u->cb.rx_space(u->cb.arg);
		break;
	}
	case PL011_CR:
		u->cr = v & 0xffff;
		break;
	case PL011_IFLS:
		u->ifls = v & 0x3f;
		break;
	case PL011_IMSC:
		u->imsc = v & PL011_INT_ALL;
		break;
	case PL011_ICR:
		u->ris &= ~(v & PL011_INT_ALL);
		break;
	case PL011_DMACR:
		u->dmacr = v & 0x7;
		break;
	default: /* read-only, reserved, test registers: ignored */
		return;
	}
	update_irq(u);
}

static bool valid(uint64_t offset, uint32_t size)
{
	return (size == 1 || size == 2 || size == 4) && offset < PL011_SIZE && !(offset & (size - 1));
}

int pl011_read(struct pl011 *u, uint64_t offset, uint32_t size, uint64_t *value)
{
	uint32_t lane, v;

	*value = 0;
	if (!valid(offset, size))
		return -EINVAL;
	lane = (uint32_t)offset & 3;
	v = reg_read(u, (uint32_t)offset & ~3u, lane == 0) >> (lane * 8);
	*value = size == 4 ? v : v & ((1u << (size * 8)) - 1);
	return 0;
}

int pl011_write(struct pl011 *u, uint64_t offset, uint32_t size, uint64_t value)
{
	if (!valid(offset, size))
		return -EINVAL;
	if (offset & 3)
		return 0; /* not lane 0: ignored */
	reg_write(u, (uint32_t)offset,
		  size == 4 ? (uint32_t)value : (uint32_t)value & ((1u << (size * 8)) - 1));
	return 0;
}
