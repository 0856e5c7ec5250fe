/* SPDX-License-Identifier: MIT */
/*
 * The device tree the host builds (rk_fdt_build, realmkit/host.h), read back
 * with libfdt: the header, every node and property of a realm's and of a
 * normal VM's tree (cpus follow nvcpus with the MPIDRs the host gives,
 * memory follows the config, a realm's devices at their protected alias,
 * PSCI by SMC for a realm and HVC for a normal VM, one redistributor frame per
 * vCPU, /chosen); the same config gives the same bytes; every refusal
 * (-EINVAL with a message, buf untouched) and a too-small buffer (-ENOSPC with
 * the size needed). End to end: a realm and a normal VM start with x0 = the
 * tree's IPA and x1..x3 = 0 and read the whole tree there (the realm finds
 * the UART's protected alias RIPAS EMPTY, as Linux's ioremap asks); the RIM
 * covers the tree (it changes with the bootargs) and rk_plan_rim() predicts it.
 */
#include <errno.h>
#include <inttypes.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "realmkit/guest_abi.h"
#include "a64.h"
#include "machine.h"
#include "realmkit/arch/psci.h"
#include "realmkit/cpu_model.h"
#include "realmkit/host.h"
#include "realmkit/measure.h"
#include "rk_test.h"
#include "rmm/realm.h"

#define MIB (1ULL << 20)
#define RAM RK_GUEST_RAM_BASE
#define UNP RK_GUEST_UNPROT_BASE

static uint8_t tree[RK_FDT_MAX_SIZE];

/* ---- reading a tree back ---- */

static int node(const void *fdt, const char *path)
{
	int off = fdt_path_offset(fdt, path);

	if (off < 0)
		fail_msg("no node %s: %s", path, fdt_strerror(off));
	return off;
}

static const void *prop(const void *fdt, const char *path, const char *name, int *len)
{
	int l = 0;
	const void *p = fdt_getprop(fdt, node(fdt, path), name, &l);

	if (!p)
		fail_msg("%s has no property %s", path, name);
	if (len)
		*len = l;
	return p;
}

static void expect_str(const void *fdt, const char *path, const char *name, const char *want)
{
	int len;
	const char *s = prop(fdt, path, name, &len);

	assert_int_equal(len, strlen(want) + 1);
	assert_string_equal(s, want);
}

/* A string list property, given as "a\0b" with its size. */
static void expect_strs(const void *fdt, const char *path, const char *name, const char *want, size_t wlen)
{
	int len;
	const char *s = prop(fdt, path, name, &len);

	assert_int_equal(len, wlen);
	assert_memory_equal(s, want, wlen);
}

static uint32_t get_u32(const void *fdt, const char *path, const char *name)
{
	int len;
	const fdt32_t *v = prop(fdt, path, name, &len);

	assert_int_equal(len, 4);
	return fdt32_to_cpu(*v);
}

/* The cells of a property, as uint32_t; returns the count. */
static int get_cells(const void *fdt, const char *path, const char *name, uint32_t *out, int max)
{
	int len;
	const fdt32_t *v = prop(fdt, path, name, &len);

	assert_int_equal(len % 4, 0);
	assert_true(len / 4 <= max);
	for (int i = 0; i < len / 4; i++)
		out[i] = fdt32_to_cpu(v[i]);
	return len / 4;
}

/* reg of n (address, size) entries of two cells each: want = address, size, address, size... */
static void expect_reg2(const void *fdt, const char *path, const uint64_t *want, int n)
{
	uint32_t c[16];

	assert_int_equal(get_cells(fdt, path, "reg", c, 16), 4 * n);
	for (int i = 0; i < 2 * n; i++)
		assert_int_equal(((uint64_t)c[2 * i] << 32) | c[2 * i + 1], want[i]);
}

static size_t build(const struct rk_fdt_config *c)
{
	char err[256];
	size_t len = 0;
	int ret = rk_fdt_build(c, tree, sizeof(tree), &len, err, sizeof(err));

	if (ret)
		fail_msg("rk_fdt_build: %d: %s", ret, err);
	assert_int_equal(fdt_check_header(tree), 0);
	assert_int_equal(fdt_totalsize(tree), len);
	return len;
}

static uint64_t mpidr_of(uint32_t i)
{
	return (i & 0xf) | ((uint64_t)(i >> 4) << 8);
}

/* Every node of the tree for c, as the binding and realmkit's machine want them. */
static void check_tree(const struct rk_fdt_config *c)
{
	const bool realm = c->kind == RK_VM_REALM;
	const uint64_t strip = realm ? 1ULL << (c->ipa_bits - 1) : 0;
	const uint64_t uart = c->uart_ipa - strip, gicd = c->gicd_ipa - strip, gicr = c->gicr_ipa - strip;
	char path[64], uart_path[64];
	uint32_t cells[16];
	int off, ncpu = 0;

	build(c);
	/* / */
	expect_str(tree, "/", "compatible", "linux,dummy-virt");
	assert_int_equal(get_u32(tree, "/", "#address-cells"), 2);
	assert_int_equal(get_u32(tree, "/", "#size-cells"), 2);
	/* memory */
	for (uint32_t i = 0; i < c->nmem; i++) {
		snprintf(path, sizeof(path), "/memory@%" PRIx64, c->mem[i].base);
		expect_str(tree, path, "device_type", "memory");
		expect_reg2(tree, path, (const uint64_t[]){ c->mem[i].base, c->mem[i].size }, 1);
	}
	/* cpus: one per vCPU, reg = MPIDR, PSCI */
	assert_int_equal(get_u32(tree, "/cpus", "#address-cells"), 1);
	assert_int_equal(get_u32(tree, "/cpus", "#size-cells"), 0);
	fdt_for_each_subnode(off, tree, node(tree, "/cpus"))
	{
		const char *name = fdt_get_name(tree, off, NULL);
		const fdt32_t *reg = fdt_getprop(tree, off, "reg", NULL);

		snprintf(path, sizeof(path), "cpu@%" PRIx64, mpidr_of((uint32_t)ncpu));
		assert_string_equal(name, path);
		assert_non_null(reg);
		assert_int_equal(fdt32_to_cpu(*reg), mpidr_of((uint32_t)ncpu));
		assert_string_equal(fdt_getprop(tree, off, "device_type", NULL), "cpu");
		assert_string_equal(fdt_getprop(tree, off, "enable-method", NULL), "psci");
		ncpu++;
	}
	assert_int_equal(ncpu, c->nvcpus);
	/* psci: SMC for a realm (the RMM's conduit), HVC for a normal VM */
	expect_strs(tree, "/psci", "compatible", "arm,psci-1.0\0arm,psci-0.2",
		    sizeof("arm,psci-1.0\0arm,psci-0.2"));
	expect_str(tree, "/psci", "method", realm ? "smc" : "hvc");
	/* timer: the four PPIs, level high */
	expect_strs(tree, "/timer", "compatible", "arm,armv8-timer\0arm,armv7-timer",
		    sizeof("arm,armv8-timer\0arm,armv7-timer"));
	assert_int_equal(get_cells(tree, "/timer", "interrupts", cells, 16), 12);
	static const uint32_t ppis[] = { 13, 14, 11, 10 };
	for (int i = 0; i < 4; i++) {
		assert_int_equal(cells[3 * i], 1);
		assert_int_equal(cells[3 * i + 1], ppis[i]);
		assert_int_equal(cells[3 * i + 2], 4);
	}
	assert_null(fdt_getprop(tree, node(tree, "/timer"), "always-on", NULL));
	/* GICv3: distributor, then one 128 KiB redistributor frame per vCPU */
	snprintf(path, sizeof(path), "/intc@%" PRIx64, gicd);
	expect_str(tree, path, "compatible", "arm,gic-v3");
	assert_int_equal(get_u32(tree, path, "#interrupt-cells"), 3);
	assert_non_null(prop(tree, path, "interrupt-controller", NULL));
	expect_reg2(tree, path, (const uint64_t[]){ gicd, 0x10000, gicr, c->nvcpus * 0x20000ULL }, 2);
	assert_int_equal(get_u32(tree, path, "phandle"), get_u32(tree, "/", "interrupt-parent"));
	/* the PL011 and its clock */
	snprintf(uart_path, sizeof(uart_path), "/pl011@%" PRIx64, uart);
	expect_strs(tree, uart_path, "compatible", "arm,pl011\0arm,primecell",
		    sizeof("arm,pl011\0arm,primecell"));
	expect_reg2(tree, uart_path, (const uint64_t[]){ uart, 0x1000 }, 1);
	assert_int_equal(get_cells(tree, uart_path, "interrupts", cells, 16), 3);
	assert_int_equal(cells[0], 0);
	assert_int_equal(cells[1], c->uart_spi);
	assert_int_equal(cells[2], 4);
	assert_int_equal(get_cells(tree, uart_path, "clocks", cells, 16), 2);
	assert_int_equal(cells[0], get_u32(tree, "/apb-pclk", "phandle"));
	assert_int_equal(cells[1], cells[0]);
	expect_strs(tree, uart_path, "clock-names", "uartclk\0apb_pclk", sizeof("uartclk\0apb_pclk"));
	expect_str(tree, "/apb-pclk", "compatible", "fixed-clock");
	assert_int_equal(get_u32(tree, "/apb-pclk", "clock-frequency"), 24000000);
	assert_int_equal(get_u32(tree, "/apb-pclk", "#clock-cells"), 0);
	/* chosen and aliases */
	expect_str(tree, "/chosen", "stdout-path", uart_path);
	expect_str(tree, "/aliases", "serial0", uart_path);
	assert_int_equal(fdt_path_offset(tree, "serial0"), node(tree, uart_path)); /* the alias resolves */
	if (c->bootargs)
		expect_str(tree, "/chosen", "bootargs", c->bootargs);
	else
		assert_null(fdt_getprop(tree, node(tree, "/chosen"), "bootargs", NULL));
	if (c->initrd_end) {
		assert_int_equal(get_cells(tree, "/chosen", "linux,initrd-start", cells, 2), 2);
		assert_int_equal(((uint64_t)cells[0] << 32) | cells[1], c->initrd_start);
		assert_int_equal(get_cells(tree, "/chosen", "linux,initrd-end", cells, 2), 2);
		assert_int_equal(((uint64_t)cells[0] << 32) | cells[1], c->initrd_end);
	} else {
		assert_null(fdt_getprop(tree, node(tree, "/chosen"), "linux,initrd-start", NULL));
	}
}

static void test_realm_tree(void **state)
{
	struct rk_fdt_config c;

	(void)state;
	for (uint32_t n = 1; n <= 64; n = n * 2 + 1) { /* 1, 3, 7, 15, 31, 63: MPIDR Aff1 from 16 */
		rk_fdt_config_default(&c, RK_VM_REALM, n, 16 * MIB * n);
		check_tree(&c);
		/* a realm's devices at their protected alias: the guest maps them shared itself */
		assert_true(node(tree, "/pl011@9000000") > 0);
		assert_true(node(tree, "/intc@8000000") > 0);
	}
	rk_fdt_config_default(&c, RK_VM_REALM, RK_GUEST_GICR_MAX_CPUS, 64 * MIB);
	check_tree(&c);
	/* chosen: bootargs and an initrd */
	rk_fdt_config_default(&c, RK_VM_REALM, 2, 64 * MIB);
	c.bootargs = "console=ttyAMA0 earlycon rdinit=/init";
	c.initrd_start = RAM + 32 * MIB;
	c.initrd_end = RAM + 40 * MIB + 123;
	check_tree(&c);
	c.bootargs = "";
	check_tree(&c);
	/* two memory ranges */
	c.nmem = 2;
	c.mem[1] = (struct rk_fdt_mem){ 0x100000000ULL, 32 * MIB };
	check_tree(&c);
	assert_true(node(tree, "/memory@100000000") > 0);
}

static void test_normal_vm_tree(void **state)
{
	struct rk_fdt_config c;

	(void)state;
	rk_fdt_config_default(&c, RK_VM_NORMAL, 4, 16 * MIB);
	check_tree(&c);
	/* a normal VM's devices where the host serves them */
	assert_true(node(tree, "/pl011@8009000000") > 0);
	assert_true(node(tree, "/intc@8008000000") > 0);
	assert_int_equal(RK_GUEST_UART_IPA, 0x8009000000ULL);
}

/* The same config gives the same bytes (`measure` and `run` must agree); another differs. */
static void test_deterministic(void **state)
{
	static uint8_t a[RK_FDT_MAX_SIZE];
	struct rk_fdt_config c;
	size_t la, lb;

	(void)state;
	rk_fdt_config_default(&c, RK_VM_REALM, 8, 64 * MIB);
	c.bootargs = "quiet";
	la = build(&c);
	memcpy(a, tree, la);
	lb = build(&c);
	assert_int_equal(la, lb);
	assert_memory_equal(a, tree, la);
	c.bootargs = "quieT";
	build(&c);
	assert_memory_not_equal(a, tree, la);
}

/* A refusal: -EINVAL, a message containing want, the buffer untouched. */
static void expect_bad(const struct rk_fdt_config *c, const char *want)
{
	static uint8_t buf[65536];
	char err[256];
	size_t len = 1;

	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(rk_fdt_build(c, buf, sizeof(buf), &len, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want))
		fail_msg("message '%s' lacks '%s'", err, want);
	assert_int_equal(len, 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		if (buf[i] != 0xa5)
			fail_msg("byte %zu written by a refused build", i);
	/* no message buffer: the same answer */
	assert_int_equal(rk_fdt_build(c, buf, sizeof(buf), &len, NULL, 0), -EINVAL);
}

static void test_refusals(void **state)
{
	struct rk_fdt_config c, d;
	char longargs[RK_FDT_BOOTARGS_MAX + 1];

	(void)state;
	rk_fdt_config_default(&d, RK_VM_REALM, 4, 16 * MIB);
	c = d, c.nvcpus = 0;
	expect_bad(&c, "0 vCPUs");
	c = d, c.nvcpus = RK_FDT_MAX_CPUS + 1;
	expect_bad(&c, "vCPUs (1..4096)");
	/* more vCPUs than redistributor frames fit below the UART */
	c = d, c.nvcpus = RK_GUEST_GICR_MAX_CPUS + 1;
	expect_bad(&c, "redistributors of 124 vCPUs");
	expect_bad(&c, "room for 123 vCPUs");
	c = d, c.mem[0].size = 0;
	expect_bad(&c, "memory range 0 is empty");
	c = d, c.mem[0].size = 16 * MIB + 512;
	expect_bad(&c, "not 4 KiB aligned");
	c = d, c.mem[0].base = RAM + 1;
	expect_bad(&c, "not 4 KiB aligned");
	c = d, c.mem[0].size = 1ULL << 40;
	expect_bad(&c, "outside the 40-bit IPA space");
	c = d, c.mem[0].size = UNP; /* up into the unprotected half */
	expect_bad(&c, "not in the realm's protected half");
	c = d, c.mem[0].base = UNP + 0x40000000ULL;
	expect_bad(&c, "not in the realm's protected half");
	c = d, c.nmem = 0;
	expect_bad(&c, "0 memory ranges");
	c = d, c.nmem = RK_FDT_MAX_MEM + 1;
	expect_bad(&c, "9 memory ranges");
	c = d, c.nmem = 2, c.mem[1] = (struct rk_fdt_mem){ RAM + 8 * MIB, 16 * MIB };
	expect_bad(&c, "memory range 1 [0x80800000, +0x1000000) overlaps memory range 0");
	/* memory where a realm device's protected alias is */
	c = d, c.mem[0] = (struct rk_fdt_mem){ 0x08000000, 0x2000000 };
	expect_bad(&c, "overlaps memory range 0");
	/* a realm device at a protected IPA */
	c = d, c.uart_ipa = 0x09000000;
	expect_bad(&c, "the UART at 0x9000000 is in the realm's protected half");
	c = d, c.gicd_ipa = c.uart_ipa;
	expect_bad(&c, "overlaps the UART");
	c = d, c.uart_ipa = UNP + 0x09000800;
	expect_bad(&c, "the UART [0x8009000800, +0x1000) is not 4 KiB aligned");
	c = d, c.uart_ipa = 1ULL << 40;
	expect_bad(&c, "outside the 40-bit IPA space");
	c = d, c.uart_spi = 988;
	expect_bad(&c, "UART SPI 988");
	c = d, c.ipa_bits = 31;
	expect_bad(&c, "IPA size of 31 bits");
	c = d, c.kind = (enum rk_vm_kind)7;
	expect_bad(&c, "unknown VM kind 7");
	memset(longargs, 'x', RK_FDT_BOOTARGS_MAX);
	longargs[RK_FDT_BOOTARGS_MAX] = '\0';
	c = d, c.bootargs = longargs;
	expect_bad(&c, "bootargs of 2048 bytes (at most 2047)");
	c = d, c.initrd_start = RAM + MIB, c.initrd_end = RAM + MIB;
	expect_bad(&c, "initrd [0x80100000, 0x80100000) is empty");
	c = d, c.initrd_start = RAM + 15 * MIB, c.initrd_end = RAM + 17 * MIB;
	expect_bad(&c, "is not inside one memory range");
	/* no config, no len */
	size_t len;
	assert_int_equal(rk_fdt_build(NULL, tree, sizeof(tree), &len, NULL, 0), -EINVAL);
	assert_int_equal(rk_fdt_build(&d, tree, sizeof(tree), NULL, NULL, 0), -EINVAL);
	/* the edge that is still good: 2047 bytes of bootargs */
	longargs[RK_FDT_BOOTARGS_MAX - 1] = '\0';
	c = d, c.bootargs = longargs;
	check_tree(&c);
	/* a normal VM may have devices anywhere in its IPA space */
	c = d, c.kind = RK_VM_NORMAL, c.uart_ipa = 0x09000000;
	check_tree(&c);
}

/* Too small: -ENOSPC and the size it needs; that size is enough. */
static void test_buffer_too_small(void **state)
{
	static uint8_t buf[RK_FDT_MAX_SIZE];
	struct rk_fdt_config c;
	char err[256];
	size_t need = 0, len = 0;

	(void)state;
	rk_fdt_config_default(&c, RK_VM_REALM, 8, 64 * MIB);
	c.bootargs = "console=ttyAMA0";
	assert_int_equal(rk_fdt_build(&c, NULL, 0, &need, err, sizeof(err)), -ENOSPC);
	assert_true(need > 256 && need < 8192);
	assert_non_null(strstr(err, "needs"));
	assert_int_equal(rk_fdt_build(&c, buf, need - 1, &len, err, sizeof(err)), -ENOSPC);
	assert_int_equal(len, need);
	assert_int_equal(rk_fdt_build(&c, buf, 64, &len, NULL, 0), -ENOSPC);
	assert_int_equal(len, need);
	assert_int_equal(rk_fdt_build(&c, buf, need, &len, err, sizeof(err)), 0);
	assert_int_equal(len, need);
	assert_int_equal(fdt_check_header(buf), 0);
	assert_int_equal(fdt_totalsize(buf), need);
	/* the tree fills its buffer exactly: nothing past it */
	assert_int_equal(build(&c), need);
	assert_memory_equal(buf, tree, need);
}

/* ---- end to end: the guest gets the tree in x0 ---- */

#define DTB_IPA (RAM + 14 * MIB) /* the last 2 MiB of 16 MiB, as `realmkit run --dtb` */
#define HC_IPA (RAM + 0x800)

struct seen {
	bool called;
	uint64_t g[9];
};

static int hc(void *arg, struct rk_vm *vm, uint32_t vcpu, uint32_t imm, uint64_t gp[31])
{
	struct seen *s = arg;

	(void)vm, (void)vcpu, (void)imm;
	s->called = true;
	memcpy(s->g, gp, sizeof(s->g));
	return 0;
}

static inline uint32_t a64_add_reg(unsigned int rd, unsigned int rn, unsigned int rm)
{
	return 0x8B000000u | (rm << 16) | (rn << 5) | rd;
}

/*
 * The guest: keeps x0..x3 as it found them, sums the 64-bit words of the
 * nwords at x0, reads the first word (magic, totalsize) and reports them all
 * with a host call: gprs[0..3] = x0..x3, gprs[4] = the sum, gprs[5] = the word.
 * A realm also asks RSI_IPA_STATE_GET about the UART's page as the tree gives
 * it (what Linux's ioremap does): gprs[6..8] = the status, top and RIPAS.
 */
static size_t guest_program(uint32_t *c, uint64_t nwords, bool realm)
{
	size_t k = 0;

	c[k++] = a64_mov(19, 0);
	c[k++] = a64_mov(20, 1);
	c[k++] = a64_mov(21, 2);
	c[k++] = a64_mov(22, 3);
	c[k++] = a64_mov(9, 0);
	k += a64_mov64(c + k, 12, nwords);
	c[k++] = a64_movz(10, 0, 0);
	/* loop: */
	c[k++] = a64_ldr(11, 9);
	c[k++] = a64_add_reg(10, 10, 11);
	c[k++] = a64_add_imm(9, 9, 8);
	c[k++] = a64_subs_imm(12, 12, 1);
	c[k++] = a64_bcond(A64_COND_NE, -4);
	c[k++] = a64_ldr(13, 19);
	k += a64_mov64(c + k, 25, HC_IPA);
	c[k++] = a64_stp(19, 20, 25, 8);
	c[k++] = a64_stp(21, 22, 25, 24);
	c[k++] = a64_stp(10, 13, 25, 40);
	if (realm) {
		k += a64_mov64(c + k, 0, RSI_FID_IPA_STATE_GET);
		k += a64_mov64(c + k, 1, RK_GUEST_UART_IPA - UNP);
		k += a64_mov64(c + k, 2, RK_GUEST_UART_IPA - UNP + RK_UART_SIZE);
		c[k++] = A64_SMC;
		c[k++] = a64_stp(0, 1, 25, 56);
		c[k++] = a64_str_off(2, 25, 72);
	}
	k += a64_mov64(c + k, 0, RSI_FID_HOST_CALL);
	c[k++] = a64_mov(1, 25);
	c[k++] = A64_SMC;
	k += a64_mov64(c + k, 0, PSCI_SYSTEM_OFF);
	c[k++] = A64_SMC;
	c[k++] = A64_B_SELF;
	return k;
}

struct e2e_plan {
	struct rk_vm_plan p;
	struct rk_plan_memslot slot;
	struct rk_plan_load loads[2];
	struct rk_vcpu_config vcpus[2];
	uint32_t code[64];
};

/* The plan `realmkit run --dtb` makes: the program, the tree at DTB_IPA (measured), x0 = DTB_IPA. */
static void make_plan(struct e2e_plan *e, enum rk_vm_kind kind, const uint8_t *dtb, size_t len, bool with_dtb)
{
	size_t k;

	memset(e, 0, sizeof(*e));
	k = guest_program(e->code, (len + 7) / 8, kind == RK_VM_REALM);
	assert_true(k <= 64);
	rk_vm_config_default(&e->p.config, kind);
	e->p.config.num_bps = kind == RK_VM_REALM ? RK_MACHINE_CPU_BRPS : 0;
	e->p.config.num_wps = kind == RK_VM_REALM ? RK_MACHINE_CPU_WRPS : 0;
	e->slot = (struct rk_plan_memslot){ RAM, 16 * MIB, 0, 0 };
	e->p.memslots = &e->slot;
	e->p.nmemslots = 1;
	e->loads[0] = (struct rk_plan_load){ RAM, e->code, sizeof(e->code), RK_POPULATE_MEASURE, 0 };
	e->loads[1] = (struct rk_plan_load){ DTB_IPA, dtb, len, RK_POPULATE_MEASURE, 0 };
	e->p.loads = e->loads;
	e->p.nloads = with_dtb ? 2 : 1;
	e->vcpus[0] = (struct rk_vcpu_config){ .pc = RAM, .flags = RK_VCPU_RUNNABLE };
	e->vcpus[0].gprs[0] = with_dtb ? DTB_IPA : 0;
	e->p.vcpus = e->vcpus;
	e->p.nvcpus = 2;
}

static void run_guest(enum rk_vm_kind kind)
{
	static uint8_t dtb[RK_FDT_MAX_SIZE], dtb2[RK_FDT_MAX_SIZE];
	struct rk_machine_config mc;
	struct rk_machine *m;
	struct rk_host *h;
	struct rk_vm *vm;
	struct rk_fdt_config fc;
	struct e2e_plan e, e2;
	struct seen s = { 0 };
	uint64_t sum = 0, first;
	size_t len, len2;

	rk_fdt_config_default(&fc, kind, 2, 16 * MIB);
	fc.bootargs = "console=ttyAMA0";
	assert_int_equal(rk_fdt_build(&fc, dtb, sizeof(dtb), &len, NULL, 0), 0);
	make_plan(&e, kind, dtb, len, true);

	rk_machine_config_default(&mc);
	mc.dram_size = 128 * MIB;
	assert_int_equal(rk_machine_create(&mc, &m), 0);
	assert_int_equal(rk_host_create(m, NULL, &h), 0);
	assert_int_equal(rk_vm_create_from_plan(h, &e.p, &vm), 0);
	rk_vm_set_host_call_handler(vm, hc, &s);
	assert_int_equal(rk_vm_activate(vm), 0);
	if (kind == RK_VM_REALM) {
		uint8_t pred[64] = { 0 }, plan[64] = { 0 }, none[64] = { 0 }, other[64] = { 0 };
		struct rmm *rmm = machine_rmm(m);
		rk_rd_t rd;

		/* the RMM's RIM == the host's prediction == the plan's, and it covers the tree */
		assert_int_equal(rk_vm_rim(vm, pred, &len2), 0);
		assert_int_equal(rk_vm_rd(vm, &rd), 0);
		assert_memory_equal(rd_of(rmm, granule_from_pa(rmm, rd.pa))->rim, pred, 64);
		assert_int_equal(rk_plan_rim(&e.p, 0, plan, NULL), 0);
		assert_memory_equal(plan, pred, 64);
		make_plan(&e2, kind, dtb, len, false);
		assert_int_equal(rk_plan_rim(&e2.p, 0, none, NULL), 0);
		assert_memory_not_equal(none, pred, 32);
		fc.bootargs = "console=ttyAMA1";
		assert_int_equal(rk_fdt_build(&fc, dtb2, sizeof(dtb2), &len2, NULL, 0), 0);
		assert_int_equal(len2, len);
		make_plan(&e2, kind, dtb2, len2, true);
		assert_int_equal(rk_plan_rim(&e2.p, 0, other, NULL), 0);
		assert_memory_not_equal(other, pred, 32);
	}
	assert_int_equal(rk_vm_run(vm, 60000), 0);
	assert_true(s.called);
	/* booting.rst: x0 = the tree's address, x1 = x2 = x3 = 0 */
	assert_int_equal(s.g[0], DTB_IPA);
	assert_int_equal(s.g[1], 0);
	assert_int_equal(s.g[2], 0);
	assert_int_equal(s.g[3], 0);
	/* the guest read the whole tree there (zero-padded to 8 bytes, as populated) */
	for (size_t i = 0; i < (len + 7) / 8; i++) {
		uint64_t w = 0;
		memcpy(&w, dtb + 8 * i, len - 8 * i < 8 ? len - 8 * i : 8);
		sum += w;
	}
	assert_int_equal(s.g[4], sum);
	memcpy(&first, dtb, 8);
	assert_int_equal(s.g[5], first);
	assert_int_equal(fdt_magic(&s.g[5]), FDT_MAGIC);
	assert_int_equal(fdt_totalsize(&s.g[5]), len);
	if (kind == RK_VM_REALM) {
		/* the UART's protected alias: RIPAS EMPTY, not an error, so Linux maps it shared */
		assert_int_equal(s.g[6], RSI_SUCCESS);
		assert_int_equal(s.g[7], RK_GUEST_UART_IPA - UNP + RK_UART_SIZE);
		assert_int_equal(s.g[8], RSI_RIPAS_EMPTY);
	}
	assert_int_equal(rk_vm_destroy(vm), 0);
	rk_vm_free(vm);
	t_assert_all_undelegated(m);
	rk_host_destroy(h);
	rk_machine_destroy(m);
}

static void test_realm_gets_dtb(void **state)
{
	(void)state;
	run_guest(RK_VM_REALM);
}

static void test_normal_vm_gets_dtb(void **state)
{
	(void)state;
	run_guest(RK_VM_NORMAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_realm_tree),         cmocka_unit_test(test_normal_vm_tree),
		cmocka_unit_test(test_deterministic),      cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_buffer_too_small),   cmocka_unit_test(test_realm_gets_dtb),
		cmocka_unit_test(test_normal_vm_gets_dtb),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
