/* SPDX-License-Identifier: MIT */
/*
 * The device tree a VMM hands its guest (realmkit/host.h, "Device tree"),
 * built with libfdt's sequential-write API as kvmtool's arm/fdt.c builds it.
 * The layout follows docs/research/gic-timer-rmm2.md section 4 (kvmtool's and
 * QEMU virt's nodes); docs/architecture.md, "Device tree", says what each
 * node is for and what the host emulates of it today.
 *
 * Every check is made before a byte is written, so a refused config leaves
 * buf untouched; a tree that does not fit is built once more in a scratch
 * buffer to tell the caller the size it needs.
 */
#include <errno.h>
#include <inttypes.h>
#include <libfdt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_internal.h"
#include "realmkit/guest_abi.h"

#define FDT_PH_GIC 1u
#define FDT_PH_CLK 2u
#define GIC_DIST_SIZE ((uint64_t)0x10000)
#define GIC_REDIST_STRIDE ((uint64_t)0x20000)
#define GIC_SPI 0u /* interrupt cells: type, number, flags (arm,gic-v3 binding) */
#define GIC_PPI 1u
#define IRQ_LEVEL_HIGH 4u
#define PL011_PERIPHID 0x00141011u /* PL011: part 0x011, designer 0x41 (Arm), revision 1: QEMU's */

void rk_fdt_config_default(struct rk_fdt_config *cfg, enum rk_vm_kind kind, uint32_t nvcpus,
			   uint64_t ram_size)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->kind = kind;
	cfg->ipa_bits = RK_GUEST_S2SZ;
	cfg->nvcpus = nvcpus;
	cfg->nmem = 1;
	cfg->mem[0].base = RK_GUEST_RAM_BASE;
	cfg->mem[0].size = ram_size;
	cfg->uart_ipa = RK_GUEST_UART_IPA;
	cfg->gicd_ipa = RK_GUEST_GICD_IPA;
	cfg->gicr_ipa = RK_GUEST_GICR_IPA;
	cfg->uart_spi = RK_GUEST_UART_SPI;
}

/* ---- checking the config ---- */

struct fdt_err {
	char *buf;
	size_t len;
};

__attribute__((format(printf, 2, 3))) static int bad(const struct fdt_err *e, const char *fmt, ...)
{
	va_list ap;

	if (e->buf && e->len) {
		va_start(ap, fmt);
		vsnprintf(e->buf, e->len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* A region of the guest's address space, for the overlap checks. */
struct fdt_region {
	const char *what;
	uint64_t base, size;
};

/* The address the tree gives for IPA ipa (a realm's devices: the protected alias). */
static uint64_t dt_addr(const struct rk_fdt_config *c, uint64_t ipa)
{
	return c->kind == RK_VM_REALM ? ipa & ~(1ULL << (c->ipa_bits - 1)) : ipa;
}

static int check_region(const struct rk_fdt_config *c, const struct fdt_err *e, const struct fdt_region *r,
			bool device)
{
	uint64_t limit = 1ULL << c->ipa_bits, half = limit >> 1;

	if (!r->size)
		return bad(e, "%s is empty", r->what);
	if ((r->base | r->size) & (G4K - 1))
		return bad(e, "%s [0x%" PRIx64 ", +0x%" PRIx64 ") is not 4 KiB aligned", r->what, r->base,
			   r->size);
	if (r->base >= limit || r->size > limit - r->base)
		return bad(e, "%s [0x%" PRIx64 ", +0x%" PRIx64 ") is outside the %u-bit IPA space", r->what,
			   r->base, r->size, c->ipa_bits);
	if (c->kind != RK_VM_REALM)
		return 0;
	if (device && r->base < half)
		return bad(e,
			   "%s at 0x%" PRIx64 " is in the realm's protected half: a realm reaches emulated "
			   "devices in the unprotected half, from 0x%" PRIx64,
			   r->what, r->base, half);
	if (!device && (r->base >= half || r->size > half - r->base))
		return bad(e,
			   "%s [0x%" PRIx64 ", +0x%" PRIx64
			   ") is not in the realm's protected half (below 0x%" PRIx64 ")",
			   r->what, r->base, r->size, half);
	return 0;
}

static int check_config(const struct rk_fdt_config *c, const struct fdt_err *e)
{
	struct fdt_region rg[RK_FDT_MAX_MEM + 3];
	char names[RK_FDT_MAX_MEM][24];
	unsigned int n = 0;
	int ret;

	if (c->kind != RK_VM_REALM && c->kind != RK_VM_NORMAL)
		return bad(e, "unknown VM kind %u", (unsigned int)c->kind);
	if (c->ipa_bits < 32 || c->ipa_bits > 52)
		return bad(e, "an IPA size of %u bits (32..52)", c->ipa_bits);
	if (!c->nvcpus || c->nvcpus > RK_FDT_MAX_CPUS)
		return bad(e, "%u vCPUs (1..%u)", c->nvcpus, RK_FDT_MAX_CPUS);
	if (!c->nmem || c->nmem > RK_FDT_MAX_MEM)
		return bad(e, "%u memory ranges (1..%u)", c->nmem, RK_FDT_MAX_MEM);
	if (c->uart_spi > 987)
		return bad(e, "UART SPI %u (0..987: INTID 32..1019)", c->uart_spi);
	if (c->bootargs && strlen(c->bootargs) >= RK_FDT_BOOTARGS_MAX)
		return bad(e, "bootargs of %zu bytes (at most %u)", strlen(c->bootargs),
			   RK_FDT_BOOTARGS_MAX - 1);
	for (uint32_t i = 0; i < c->nmem; i++) {
		snprintf(names[i], sizeof(names[i]), "memory range %u", i);
		rg[n++] = (struct fdt_region){ names[i], c->mem[i].base, c->mem[i].size };
		if ((ret = check_region(c, e, &rg[n - 1], false)))
			return ret;
	}
	rg[n++] = (struct fdt_region){ "the UART", c->uart_ipa, RK_UART_SIZE };
	rg[n++] = (struct fdt_region){ "the GIC distributor", c->gicd_ipa, GIC_DIST_SIZE };
	rg[n++] = (struct fdt_region){ "the GIC redistributors", c->gicr_ipa, c->nvcpus * GIC_REDIST_STRIDE };
	for (unsigned int i = c->nmem; i < n; i++) {
		if ((ret = check_region(c, e, &rg[i], true)))
			return ret;
		rg[i].base = dt_addr(c, rg[i].base); /* overlaps: as the tree gives them */
	}
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int j = i + 1; j < n; j++)
			if (rg[i].base < rg[j].base + rg[j].size && rg[j].base < rg[i].base + rg[i].size) {
				if (j == n - 1 && i >= c->nmem) /* the redistributors grow with the vCPUs */
					return bad(e,
						   "the GIC redistributors of %u vCPUs [0x%" PRIx64
						   ", +0x%" PRIx64 ") overlap %s at 0x%" PRIx64
						   " (room for %" PRIu64 " vCPUs)",
						   c->nvcpus, rg[j].base, rg[j].size, rg[i].what, rg[i].base,
						   rg[i].base > rg[j].base
							   ? (rg[i].base - rg[j].base) / GIC_REDIST_STRIDE
							   : 0);
				return bad(e,
					   "%s [0x%" PRIx64 ", +0x%" PRIx64 ") overlaps %s [0x%" PRIx64
					   ", +0x%" PRIx64 ") (addresses as the tree gives them)",
					   rg[j].what, rg[j].base, rg[j].size, rg[i].what, rg[i].base,
					   rg[i].size);
			}
	if (c->initrd_start || c->initrd_end) {
		bool inside = false;

		if (c->initrd_start >= c->initrd_end)
			return bad(e, "initrd [0x%" PRIx64 ", 0x%" PRIx64 ") is empty", c->initrd_start,
				   c->initrd_end);
		for (uint32_t i = 0; i < c->nmem; i++)
			inside = inside || (c->initrd_start >= c->mem[i].base &&
					    c->initrd_end <= c->mem[i].base + c->mem[i].size);
		if (!inside)
			return bad(e, "initrd [0x%" PRIx64 ", 0x%" PRIx64 ") is not inside one memory range",
				   c->initrd_start, c->initrd_end);
	}
	return 0;
}

/* ---- writing the tree ---- */

/* Big-endian cells of a (#address-cells = 2, #size-cells = 2) reg entry. */
static void reg_cells(fdt64_t *cells, uint64_t base, uint64_t size)
{
	cells[0] = cpu_to_fdt64(base);
	cells[1] = cpu_to_fdt64(size);
}

static int begin_node_at(void *fdt, const char *name, uint64_t addr)
{
	char node[64];

	snprintf(node, sizeof(node), "%s@%" PRIx64, name, addr);
	return fdt_begin_node(fdt, node);
}

/* The whole tree into fdt (size bytes): 0 or a libfdt error (-FDT_ERR_NOSPACE: too small). */
static int write_tree(const struct rk_fdt_config *c, void *fdt, int size)
{
	static const char psci_compat[] = "arm,psci-1.0\0arm,psci-0.2";
	static const char timer_compat[] = "arm,armv8-timer\0arm,armv7-timer";
	static const char uart_compat[] = "arm,pl011\0arm,primecell";
	static const char clock_names[] = "uartclk\0apb_pclk";
	const uint64_t uart = dt_addr(c, c->uart_ipa);
	const uint64_t gicd = dt_addr(c, c->gicd_ipa), gicr = dt_addr(c, c->gicr_ipa);
	char uart_path[64];
	fdt32_t cells[12];
	fdt64_t regs[4];
	int r = 0;

	snprintf(uart_path, sizeof(uart_path), "/pl011@%" PRIx64, uart);
#define T(call)                       \
	do {                          \
		if ((r = (call)) < 0) \
			return r;     \
	} while (0)
	T(fdt_create(fdt, size));
	T(fdt_finish_reservemap(fdt));
	T(fdt_begin_node(fdt, ""));
	T(fdt_property_string(fdt, "compatible", "linux,dummy-virt"));
	T(fdt_property_string(fdt, "model", c->kind == RK_VM_REALM ? "realmkit realm" : "realmkit VM"));
	T(fdt_property_u32(fdt, "#address-cells", 2));
	T(fdt_property_u32(fdt, "#size-cells", 2));
	T(fdt_property_u32(fdt, "interrupt-parent", FDT_PH_GIC));

	T(fdt_begin_node(fdt, "chosen"));
	if (c->bootargs)
		T(fdt_property_string(fdt, "bootargs", c->bootargs));
	if (c->initrd_start || c->initrd_end) {
		T(fdt_property_u64(fdt, "linux,initrd-start", c->initrd_start));
		T(fdt_property_u64(fdt, "linux,initrd-end", c->initrd_end));
	}
	T(fdt_property_string(fdt, "stdout-path", uart_path));
	T(fdt_end_node(fdt));

	T(fdt_begin_node(fdt, "aliases"));
	T(fdt_property_string(fdt, "serial0", uart_path));
	T(fdt_end_node(fdt));

	for (uint32_t i = 0; i < c->nmem; i++) {
		reg_cells(regs, c->mem[i].base, c->mem[i].size);
		T(begin_node_at(fdt, "memory", c->mem[i].base));
		T(fdt_property_string(fdt, "device_type", "memory"));
		T(fdt_property(fdt, "reg", regs, 2 * sizeof(regs[0])));
		T(fdt_end_node(fdt));
	}

	/* MPIDR as the host gives it (Aff3 stays 0 below 2^20 vCPUs: one address cell) */
	T(fdt_begin_node(fdt, "cpus"));
	T(fdt_property_u32(fdt, "#address-cells", 1));
	T(fdt_property_u32(fdt, "#size-cells", 0));
	for (uint32_t i = 0; i < c->nvcpus; i++) {
		uint64_t mpidr = host_rec_mpidr(i);

		T(begin_node_at(fdt, "cpu", mpidr));
		T(fdt_property_string(fdt, "device_type", "cpu"));
		T(fdt_property_string(fdt, "compatible", "arm,arm-v8"));
		T(fdt_property_u32(fdt, "reg", (uint32_t)mpidr));
		T(fdt_property_string(fdt, "enable-method", "psci"));
		T(fdt_end_node(fdt));
	}
	T(fdt_end_node(fdt));

	T(fdt_begin_node(fdt, "psci"));
	T(fdt_property(fdt, "compatible", psci_compat, sizeof(psci_compat)));
	T(fdt_property_string(fdt, "method", c->kind == RK_VM_REALM ? "smc" : "hvc"));
	T(fdt_end_node(fdt));

	T(fdt_begin_node(fdt, "timer"));
	T(fdt_property(fdt, "compatible", timer_compat, sizeof(timer_compat)));
	{
		static const uint32_t ppis[4] = { RK_GUEST_TIMER_PPI_SEC_PHYS, RK_GUEST_TIMER_PPI_PHYS,
						  RK_GUEST_TIMER_PPI_VIRT, RK_GUEST_TIMER_PPI_HYP };
		for (unsigned int i = 0; i < 4; i++) {
			cells[3 * i] = cpu_to_fdt32(GIC_PPI);
			cells[3 * i + 1] = cpu_to_fdt32(ppis[i]);
			cells[3 * i + 2] = cpu_to_fdt32(IRQ_LEVEL_HIGH);
		}
	}
	T(fdt_property(fdt, "interrupts", cells, 12 * sizeof(cells[0])));
	T(fdt_end_node(fdt));

	T(begin_node_at(fdt, "intc", gicd));
	T(fdt_property_string(fdt, "compatible", "arm,gic-v3"));
	T(fdt_property_u32(fdt, "#interrupt-cells", 3));
	T(fdt_property(fdt, "interrupt-controller", NULL, 0));
	T(fdt_property_u32(fdt, "#address-cells", 2)); /* as QEMU virt: room for an ITS child */
	T(fdt_property_u32(fdt, "#size-cells", 2));
	T(fdt_property(fdt, "ranges", NULL, 0));
	reg_cells(regs, gicd, GIC_DIST_SIZE);
	reg_cells(regs + 2, gicr, c->nvcpus * GIC_REDIST_STRIDE);
	T(fdt_property(fdt, "reg", regs, 4 * sizeof(regs[0])));
	T(fdt_property_u32(fdt, "phandle", FDT_PH_GIC));
	T(fdt_end_node(fdt));

	T(fdt_begin_node(fdt, "apb-pclk"));
	T(fdt_property_string(fdt, "compatible", "fixed-clock"));
	T(fdt_property_u32(fdt, "#clock-cells", 0));
	T(fdt_property_u32(fdt, "clock-frequency", RK_FDT_UART_CLOCK_HZ));
	T(fdt_property_string(fdt, "clock-output-names", "clk24mhz"));
	T(fdt_property_u32(fdt, "phandle", FDT_PH_CLK));
	T(fdt_end_node(fdt));

	T(begin_node_at(fdt, "pl011", uart));
	T(fdt_property(fdt, "compatible", uart_compat, sizeof(uart_compat)));
	reg_cells(regs, uart, RK_UART_SIZE);
	T(fdt_property(fdt, "reg", regs, 2 * sizeof(regs[0])));
	cells[0] = cpu_to_fdt32(GIC_SPI);
	cells[1] = cpu_to_fdt32(c->uart_spi);
	cells[2] = cpu_to_fdt32(IRQ_LEVEL_HIGH);
	T(fdt_property(fdt, "interrupts", cells, 3 * sizeof(cells[0])));
	cells[0] = cells[1] = cpu_to_fdt32(FDT_PH_CLK);
	T(fdt_property(fdt, "clocks", cells, 2 * sizeof(cells[0])));
	T(fdt_property(fdt, "clock-names", clock_names, sizeof(clock_names)));
	/* the ID the UART's PrimeCell ID registers also hold (src/host/pl011.h) */
	T(fdt_property_u32(fdt, "arm,primecell-periphid", PL011_PERIPHID));
	T(fdt_end_node(fdt));

	T(fdt_end_node(fdt)); /* / */
	T(fdt_finish(fdt));
#undef T
	return 0;
}

int rk_fdt_build(const struct rk_fdt_config *cfg, void *buf, size_t size, size_t *len, char *err,
		 size_t err_len)
{
	const struct fdt_err e = { err, err_len };
	void *scratch;
	int ret;

	if (err && err_len)
		err[0] = '\0';
	if (!len)
		return -EINVAL;
	*len = 0;
	if (!cfg)
		return bad(&e, "no config");
	if ((ret = check_config(cfg, &e)))
		return ret;
	if (buf && size) {
		ret = write_tree(cfg, buf, size > RK_FDT_MAX_SIZE ? (int)RK_FDT_MAX_SIZE : (int)size);
		if (!ret) {
			*len = fdt_totalsize(buf);
			return 0;
		}
		if (ret != -FDT_ERR_NOSPACE)
			return bad(&e, "libfdt: %s", fdt_strerror(ret)); /* not reached: checked above */
	}
	/* too small: build it aside to tell the size it needs */
	scratch = malloc(RK_FDT_MAX_SIZE);
	if (!scratch)
		return -ENOMEM;
	ret = write_tree(cfg, scratch, (int)RK_FDT_MAX_SIZE);
	if (!ret)
		*len = fdt_totalsize(scratch);
	free(scratch);
	if (ret)
		return bad(&e, "libfdt: %s", fdt_strerror(ret));
	if (err && err_len)
		snprintf(err, err_len, "the device tree needs %zu bytes, the buffer has %zu", *len,
			 buf ? size : 0);
	return -ENOSPC;
}
