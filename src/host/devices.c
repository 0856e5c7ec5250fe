/* SPDX-License-Identifier: MIT */
/*
 * What the run loop serves a guest with, besides memory: MMIO devices (a
 * table of regions; a PL011 UART, pl011.c, is built in), host calls,
 * the RIPAS policy hook, and host access to guest memory it may see.
 *
 * Device and host-call callbacks run on vCPU threads with the VM's device
 * lock (run.dev_mtx) held, one at a time per VM. The region table is only
 * changed while no vCPU of the VM runs, so lookups need no lock.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pl011.h"
#include "realmkit/guest_abi.h"
#include "s2.h"
#include "vgic.h"

#define UART_LINE 256u

/* A PL011 (pl011.c) and what the host does with its output: lines to out. */
struct uart {
	struct pl011 regs;
	struct rk_uart_config cfg;
	struct rk_vm *vm;
	uint32_t intid; /* the SPI its line drives in the VM's vGIC */
	bool rx_seen;
	bool cr;
	/* a '\r' not yet passed on: dropped if a '\n' follows */ /* the guest has looked at the receive side (cfg.rx_ready called) */
	uint32_t len;
	char buf[UART_LINE];
};

static void uart_flush(struct uart *u)
{
	if (u->cr && u->len < UART_LINE) {
		u->buf[u->len++] = '\r'; /* a lone '\r' (the guest waits, or stops) */
		u->cr = false;
	}
	if (u->len && u->cfg.out)
		u->cfg.out(u->cfg.arg, u->buf, u->len);
	u->len = 0;
}

static void uart_tx(void *arg, uint8_t c)
{
	struct uart *u = arg;

	/* "\r\n" is a line end, passed on as '\n' (a terminal in raw mode keeps
	 * output processing: '\n' -> "\r\n"); a lone '\r' is passed on */
	if (u->cr) {
		u->cr = false;
		if (c != '\n') {
			u->buf[u->len++] = '\r';
			if (u->len == UART_LINE)
				uart_flush(u);
		}
	}
	if (c == '\r') {
		u->cr = true;
		return;
	}
	u->buf[u->len++] = (char)c;
	if (c == '\n' || u->len == UART_LINE)
		uart_flush(u);
}

/* The line, with the device lock held: the SPI in the VM's vGIC (level-sensitive), then the hook. */
static void uart_irq(void *arg, bool level)
{
	struct uart *u = arg;
	struct host_vgic *g = u->vm->run.vgic;

	if (g && !host_vgic_set_level(g, u->intid, 0, level) && level)
		host_vgic_kick_pending(u->vm, UINT32_MAX);
	if (u->cfg.irq)
		u->cfg.irq(u->cfg.arg, level);
}

static void uart_rx_space(void *arg)
{
	struct uart *u = arg;

	if (u->cfg.rx_ready)
		u->cfg.rx_ready(u->cfg.arg);
}

static int uart_read(void *arg, uint32_t vcpu, uint64_t offset, uint32_t size, uint64_t *value)
{
	struct uart *u = arg;
	uint64_t reg = offset & ~3ull;

	(void)vcpu;
	if (reg == PL011_DR || reg == PL011_FR || reg == PL011_RIS || reg == PL011_MIS) {
		/* rx_ready first: a terminal is raw before the guest's prompt shows */
		if (!u->rx_seen) {
			u->rx_seen = true;
			uart_rx_space(u);
		}
		/* a guest looking for input sees what it has printed so far */
		if (reg == PL011_DR || !pl011_rx_count(&u->regs))
			uart_flush(u);
	}
	return pl011_read(&u->regs, offset, size, value);
}

static int uart_write(void *arg, uint32_t vcpu, uint64_t offset, uint32_t size, uint64_t value)
{
	struct uart *u = arg;

	(void)vcpu;
	return pl011_write(&u->regs, offset, size, value);
}

static const struct rk_mmio_ops uart_ops = { uart_read, uart_write };

/* Changes to what the run loop reads without the host lock need the VM's vCPUs stopped. */
static int not_running(struct rk_vm *vm, const char *fn)
{
	int busy;

	pthread_mutex_lock(&vm->run.mtx);
	busy = vm->run.running != 0;
	pthread_mutex_unlock(&vm->run.mtx);
	return busy ? host_fail(vm->host, -EBUSY, 0, 0, "%s: vm %u has vCPUs running", fn, vm->id) : 0;
}

static int add_mmio(struct rk_vm *vm, uint64_t ipa, uint64_t size, const struct rk_mmio_ops *ops, void *arg,
		    void *owned)
{
	struct rk_host *h = vm->host;
	int ret = host_vm_check(vm, RK_OP_ADD_MEMSLOT, "rk_vm_add_mmio");

	if (ret)
		return ret;
	ret = not_running(vm, "rk_vm_add_mmio");
	if (ret)
		return ret;
	if (!ops || !size || (ipa | size) & (G4K - 1) || ipa + size < ipa ||
	    ipa + size > (1ULL << vm->ipa_bits))
		return host_fail(h, -EINVAL, 0, 0,
				 "MMIO region 0x%" PRIx64 "+0x%" PRIx64 " is not a valid range", ipa, size);
	if (vm->kind == RK_VM_REALM && !(ipa >> (vm->ipa_bits - 1)))
		return host_fail(h, -EINVAL, 0, 0, "a realm's MMIO region must be in the unprotected half");
	for (uint32_t i = 0; i < vm->nslots; i++)
		if (ipa < vm->slots[i].ipa + vm->slots[i].size && vm->slots[i].ipa < ipa + size)
			return host_fail(h, -EEXIST, 0, 0,
					 "MMIO region 0x%" PRIx64 " overlaps memory slot %u", ipa,
					 vm->slots[i].id);
	for (uint32_t i = 0; i < vm->run.nmmio; i++)
		if (ipa < vm->run.mmio[i].ipa + vm->run.mmio[i].size && vm->run.mmio[i].ipa < ipa + size)
			return host_fail(h, -EEXIST, 0, 0, "MMIO region 0x%" PRIx64 " overlaps another", ipa);
	if (vm->run.nmmio == vm->run.mmio_cap) {
		uint32_t cap = vm->run.mmio_cap ? vm->run.mmio_cap * 2 : 4;
		struct host_mmio *v = realloc(vm->run.mmio, cap * sizeof(*v));
		if (!v)
			return host_fail(h, -ENOMEM, 0, 0, "no memory for an MMIO region");
		vm->run.mmio = v;
		vm->run.mmio_cap = cap;
	}
	vm->run.mmio[vm->run.nmmio++] = (struct host_mmio){ ipa, size, ops, arg, owned };
	host_ok(h);
	return 0;
}

int rk_vm_add_mmio(struct rk_vm *vm, uint64_t ipa, uint64_t size, const struct rk_mmio_ops *ops, void *arg)
{
	int ret;

	if (!vm)
		return -EINVAL;
	host_lock(vm->host);
	ret = add_mmio(vm, ipa, size, ops, arg, NULL);
	host_unlock(vm->host);
	return ret;
}

int rk_vm_add_pl011(struct rk_vm *vm, uint64_t ipa, const struct rk_uart_config *cfg)
{
	struct uart *u;
	int ret;

	if (!vm)
		return -EINVAL;
	if (cfg && cfg->intid &&
	    (cfg->intid < GIC_NR_PRIVATE || cfg->intid >= GIC_NR_PRIVATE + HOST_VGIC_DEFAULT_SPIS)) {
		host_lock(vm->host);
		host_fail(vm->host, -EINVAL, 0, 0, "rk_vm_add_pl011: INTID %u is no SPI of the vGIC (32..%u)",
			  cfg->intid, GIC_NR_PRIVATE + HOST_VGIC_DEFAULT_SPIS - 1);
		host_unlock(vm->host);
		return -EINVAL;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	if (cfg)
		u->cfg = *cfg;
	u->vm = vm;
	u->intid = u->cfg.intid ? u->cfg.intid : GIC_NR_PRIVATE + RK_GUEST_UART_SPI;
	pl011_init(&u->regs, &(struct pl011_cb){ uart_tx, uart_irq, uart_rx_space, u });
	host_lock(vm->host);
	ret = add_mmio(vm, ipa, RK_UART_SIZE, &uart_ops, u, u);
	host_unlock(vm->host);
	if (ret)
		free(u);
	return ret;
}

int rk_vm_add_uart(struct rk_vm *vm, uint64_t ipa, rk_console_fn out, void *arg)
{
	const struct rk_uart_config cfg = { .out = out, .arg = arg };

	return rk_vm_add_pl011(vm, ipa, &cfg);
}

static struct uart *uart_at(struct rk_vm *vm, uint64_t ipa)
{
	struct host_mmio *d = vm ? host_mmio_find(vm, ipa) : NULL;

	return d && d->ops == &uart_ops && d->ipa == ipa ? d->arg : NULL;
}

int rk_vm_uart_input(struct rk_vm *vm, uint64_t ipa, const void *buf, size_t len, size_t *taken)
{
	struct uart *u;

	if (taken)
		*taken = 0;
	if (!vm)
		return -ENODEV;
	pthread_mutex_lock(&vm->run.dev_mtx); /* the table may grow at the first run (host_gic_init) */
	u = uart_at(vm, ipa);
	if (!u || (!buf && len)) {
		pthread_mutex_unlock(&vm->run.dev_mtx);
		return u ? -EINVAL : -ENODEV;
	}
	len = pl011_rx_push(&u->regs, buf, len);
	pthread_mutex_unlock(&vm->run.dev_mtx);
	if (taken)
		*taken = len;
	return 0;
}

int rk_vm_uart_irq_level(struct rk_vm *vm, uint64_t ipa)
{
	struct uart *u;
	int level;

	if (!vm)
		return -ENODEV;
	pthread_mutex_lock(&vm->run.dev_mtx);
	u = uart_at(vm, ipa);
	if (!u) {
		pthread_mutex_unlock(&vm->run.dev_mtx);
		return -ENODEV;
	}
	level = pl011_irq_level(&u->regs);
	pthread_mutex_unlock(&vm->run.dev_mtx);
	return level;
}

struct host_mmio *host_mmio_find(struct rk_vm *vm, uint64_t ipa)
{
	for (uint32_t i = 0; i < vm->run.nmmio; i++)
		if (ipa - vm->run.mmio[i].ipa < vm->run.mmio[i].size)
			return &vm->run.mmio[i];
	return NULL;
}

int host_mmio_access(struct rk_vm *vm, uint32_t vcpu, uint64_t ipa, uint32_t size, bool write,
		     uint64_t *value)
{
	struct host_mmio *d = host_mmio_find(vm, ipa);
	int ret;

	if (!d)
		return -ENODEV;
	pthread_mutex_lock(&vm->run.dev_mtx);
	if (write)
		ret = d->ops->write ? d->ops->write(d->arg, vcpu, ipa - d->ipa, size, *value) : 0;
	else if (d->ops->read)
		ret = d->ops->read(d->arg, vcpu, ipa - d->ipa, size, value);
	else
		*value = 0, ret = 0;
	pthread_mutex_unlock(&vm->run.dev_mtx);
	return ret ? -EIO : 0;
}

void host_devices_flush(struct rk_vm *vm)
{
	pthread_mutex_lock(&vm->run.dev_mtx);
	for (uint32_t i = 0; i < vm->run.nmmio; i++)
		if (vm->run.mmio[i].ops == &uart_ops)
			uart_flush(vm->run.mmio[i].arg);
	pthread_mutex_unlock(&vm->run.dev_mtx);
}

/*
 * A VM's vGIC (vgic.c), one redistributor per vCPU, with its frames where
 * realmkit's machine has them (realmkit/guest_abi.h: the distributor at
 * RK_GUEST_GICD_IPA, the redistributors from RK_GUEST_GICR_IPA). A realm's
 * are in the unprotected half of its IPA space, whatever its size; a normal
 * VM's at those IPAs (where the device tree puts them, as its UART), or, in
 * an IPA space too small to hold them, at the same offsets from its middle.
 * The UARTs' lines as they are now. Before the first run: the vCPUs are
 * known and none runs. Host lock held.
 */
int host_gic_init(struct rk_vm *vm)
{
	struct rk_host *h = vm->host;
	uint64_t unprot = vm->kind == RK_VM_REALM || vm->ipa_bits < RK_GUEST_S2SZ ? 1ULL << (vm->ipa_bits - 1)
										  : RK_GUEST_UNPROT_BASE,
		 gicd = unprot + (RK_GUEST_GICD_IPA - RK_GUEST_UNPROT_BASE),
		 gicr = unprot + (RK_GUEST_GICR_IPA - RK_GUEST_UNPROT_BASE);
	uint32_t nframes = vm->nvcpus < RK_GUEST_GICR_MAX_CPUS ? vm->nvcpus : RK_GUEST_GICR_MAX_CPUS;
	struct host_vgic *g;
	int ret;

	ret = host_vgic_create(vm->nvcpus, 0, &g);
	if (ret)
		return host_fail(h, ret, 0, 0, "vm %u: cannot create its vGIC for %u vCPUs", vm->id,
				 vm->nvcpus);
	/* the device lock: a thread feeding a UART (rk_vm_uart_input) may look
	 * the MMIO table up while it grows (it may move) */
	pthread_mutex_lock(&vm->run.dev_mtx);
	ret = add_mmio(vm, gicd, GICD_FRAME_SIZE, &host_vgic_gicd_ops, g, NULL);
	if (!ret) {
		ret = add_mmio(vm, gicr, (uint64_t)nframes * GICR_STRIDE, &host_vgic_gicr_ops, g, NULL);
		if (ret)
			vm->run.nmmio--; /* the distributor's, added last */
	}
	if (ret) {
		pthread_mutex_unlock(&vm->run.dev_mtx);
		host_vgic_destroy(g);
		return host_fail(h, ret, 0, 0,
				 "vm %u: the GIC's frames (distributor at 0x%" PRIx64
				 ", redistributors at 0x%" PRIx64 ") cannot be placed: %.120s",
				 vm->id, gicd, gicr, h->err.msg);
	}
	vm->run.vgic = g;
	for (uint32_t i = 0; i < vm->run.nmmio; i++)
		if (vm->run.mmio[i].ops == &uart_ops) {
			struct uart *u = vm->run.mmio[i].arg;
			(void)host_vgic_set_level(g, u->intid, 0, pl011_irq_level(&u->regs));
		}
	pthread_mutex_unlock(&vm->run.dev_mtx);
	if (nframes < vm->nvcpus)
		host_run_log(vm, "the redistributors of vCPUs %u.. have no frame (room for %u)", nframes,
			     nframes);
	host_ok(h);
	return 0;
}

void host_devices_free(struct rk_vm *vm)
{
	host_vgic_destroy(vm->run.vgic);
	vm->run.vgic = NULL;
	for (uint32_t i = 0; i < vm->run.nmmio; i++)
		free(vm->run.mmio[i].owned);
	free(vm->run.mmio);
	vm->run.mmio = NULL;
	vm->run.nmmio = vm->run.mmio_cap = 0;
}

/* ---- host calls, RIPAS policy, log ---- */

int host_run_host_call(struct rk_vm *vm, uint32_t vcpu, uint32_t imm, uint64_t gprs[31])
{
	int ret = 0;

	pthread_mutex_lock(&vm->run.dev_mtx);
	if (vm->run.hc_fn)
		ret = vm->run.hc_fn(vm->run.hc_arg, vm, vcpu, imm, gprs);
	else
		memset(gprs, 0, 31 * sizeof(uint64_t)); /* "not provided" */
	pthread_mutex_unlock(&vm->run.dev_mtx);
	return ret;
}

void rk_vm_set_host_call_handler(struct rk_vm *vm, rk_host_call_fn fn, void *arg)
{
	if (!vm)
		return;
	host_lock(vm->host);
	if (!not_running(vm, "rk_vm_set_host_call_handler")) {
		vm->run.hc_fn = fn;
		vm->run.hc_arg = arg;
	}
	host_unlock(vm->host);
}

void rk_vm_set_ripas_policy(struct rk_vm *vm, rk_ripas_policy_fn fn, void *arg)
{
	if (!vm)
		return;
	host_lock(vm->host);
	if (!not_running(vm, "rk_vm_set_ripas_policy")) {
		vm->run.ripas_fn = fn;
		vm->run.ripas_arg = arg;
	}
	host_unlock(vm->host);
}

void rk_vm_set_run_log(struct rk_vm *vm, FILE *f)
{
	if (!vm)
		return;
	host_lock(vm->host);
	if (!not_running(vm, "rk_vm_set_run_log"))
		vm->run.log = f;
	host_unlock(vm->host);
}

/* ---- guest memory the host may touch ---- */

/* Backing PA of the granule at ipa, if the host may access it. */
static int host_visible_pa(struct rk_vm *vm, uint64_t ipa, uint64_t *pa)
{
	uint64_t page = ipa & ~(G4K - 1), bit = 1ULL << (vm->ipa_bits - 1);
	struct host_memslot *s;

	if (ipa >> vm->ipa_bits)
		return -EFAULT;
	s = host_memslot_find(vm, page, G4K);
	if (vm->kind == RK_VM_NORMAL || (s && (s->flags & RK_MEMSLOT_SHARED))) {
		if (!s)
			return -EFAULT;
		*pa = s->pa[(page - s->ipa) / G4K] + (ipa & (G4K - 1));
		return 0;
	}
	if (!(ipa & bit))
		return s ? -EACCES : -EFAULT; /* private memory of a realm */
	s = host_memslot_find(vm, page & ~bit, G4K);
	if (!s || (s->flags & RK_MEMSLOT_SHARED))
		return -EFAULT;
	*pa = s->pa[((page & ~bit) - s->ipa) / G4K];
	if (host_led_state(vm->host, *pa) != RK_GRANULE_HOST)
		return -EACCES; /* the page is private (delegated) now */
	*pa += ipa & (G4K - 1);
	return 0;
}

static int mem_access(struct rk_vm *vm, uint64_t ipa, void *buf, size_t len, bool write)
{
	struct rk_host *h = vm->host;
	int ret = 0;

	host_lock(h);
	while (len && !ret) {
		size_t n = G4K - (ipa & (G4K - 1));
		uint64_t pa;

		if (n > len)
			n = len;
		ret = host_visible_pa(vm, ipa, &pa);
		if (!ret)
			ret = write ? host_ns_write(h, pa, buf, n) : host_ns_read(h, pa, buf, n);
		if (ret) {
			host_fail(h, ret, 0, 0, "%s IPA 0x%" PRIx64 ": %s",
				  write ? "rk_vm_write_mem" : "rk_vm_read_mem", ipa,
				  ret == -EACCES ? "private memory of the realm"
						 : "not in a memory slot the host can reach");
			break;
		}
		ipa += n;
		buf = (uint8_t *)buf + n;
		len -= n;
	}
	host_unlock(h);
	return ret;
}

int rk_vm_read_mem(struct rk_vm *vm, uint64_t ipa, void *buf, size_t len)
{
	if (!vm || (!buf && len))
		return -EINVAL;
	return mem_access(vm, ipa, buf, len, false);
}

int rk_vm_write_mem(struct rk_vm *vm, uint64_t ipa, const void *buf, size_t len)
{
	if (!vm || (!buf && len))
		return -EINVAL;
	return mem_access(vm, ipa, (void *)buf, len, true);
}
