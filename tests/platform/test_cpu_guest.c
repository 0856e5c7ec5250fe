/* SPDX-License-Identifier: MIT */
/*
 * The guest SDK's example realms (<build>/guest/NAME.bin) run on rk_cpu vCPUs
 * against a small fake RMM + host written here: UART output, RSI (version,
 * measurement, realm config, RIPAS, host calls, attestation), PSCI (CPU_ON,
 * CPU_OFF, AFFINITY_INFO, SYSTEM_OFF), SEA injection for RIPAS EMPTY, shared
 * pages mapped on fault. This proves the SDK's start-up, vectors, printf and
 * call wrappers; the real RMM is tested elsewhere.
 *
 * Skipped if the payloads were not built (no aarch64 cross compiler).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "payload_util.h"

#include "realmkit/cpu.h"
#include "rk_payload.h"
#include "realmkit/guest_abi.h"
#include "../../guest/sdk/psci.h"
#include "../../guest/sdk/rsi.h"

#define MAXV 8
#define PAGE 4096ull
#define RAM_PAGES (RK_GUEST_RAM_SIZE / PAGE)
#define SHARED_IPA (RK_GUEST_UNPROT_BASE + 0x10000000ull)
#define SHARED_SIZE 0x4000ull
#define TOKEN_LEN 5000u
#ifndef SLICE_US
#define SLICE_US 2000
#endif
#define ALIAS_MAX 16

struct vm {
	uint8_t *ram;
	struct rk_cpu *cpu[MAXV];
	bool on[MAXV];
	unsigned ncpu;
	unsigned report_cpus; /* what RK_HC_CPU_COUNT answers */
	uint8_t ripas[RAM_PAGES];
	char out[16384];
	size_t outlen;
	bool off;
	/* RK_HC_RESULT */
	bool have_result;
	uint64_t result[3];
	/* stress */
	uint64_t stress_iters, stress_interval;
	unsigned progress;
	/* attest */
	uint8_t challenge[64];
	uint8_t token[TOKEN_LEN];
	size_t token_pos;
	bool token_init;
	uint8_t *shared;
	bool token_ready;
	uint64_t token_msg[3];
	/* shared aliases mapped on fault (ripas) */
	uint8_t *alias[ALIAS_MAX];
	uint64_t alias_ipa[ALIAS_MAX];
	unsigned nalias;
	uint64_t sea_esr;
	unsigned seas;
};

static const uint64_t sea_esr = ESR_MAKE(ESR_EC_DABT_CUR, 1, ESR_FSC_SEA);

static void map_all(struct vm *vm, uint64_t ipa, uint64_t size, uint8_t *host, unsigned prot)
{
	for (unsigned i = 0; i < vm->ncpu; i++)
		assert_int_equal(rk_cpu_map(vm->cpu[i], ipa, size, host, prot), 0);
}

static void unmap_all(struct vm *vm, uint64_t ipa, uint64_t size)
{
	for (unsigned i = 0; i < vm->ncpu; i++)
		assert_int_equal(rk_cpu_unmap(vm->cpu[i], ipa, size), 0);
}

/* NULL (skip) if the payload is not built. */
static struct vm *vm_new(const char *name, unsigned ncpu)
{
	struct vm *vm;
	uint8_t *img;
	size_t len = 0;

	img = t_load_payload(name, &len);
	if (!img)
		return NULL;
	vm = calloc(1, sizeof(*vm));
	assert_non_null(vm);
	vm->ram = aligned_alloc(PAGE, RK_GUEST_RAM_SIZE);
	vm->shared = aligned_alloc(PAGE, SHARED_SIZE);
	assert_non_null(vm->ram);
	assert_non_null(vm->shared);
	memset(vm->ram, 0, RK_GUEST_RAM_SIZE);
	memset(vm->shared, 0, SHARED_SIZE);
	assert_true(len <= RK_GUEST_RAM_SIZE);
	memcpy(vm->ram, img, len);
	free(img);
	vm->ncpu = ncpu;
	vm->report_cpus = ncpu;
	memset(vm->ripas, 1, sizeof(vm->ripas));
	for (unsigned i = 0; i < ncpu; i++) {
		assert_int_equal(rk_cpu_create(&vm->cpu[i]), 0);
		assert_int_equal(rk_cpu_set_reg(vm->cpu[i], RK_CPU_REG_MPIDR_EL1, 0x80000000ull | i), 0);
	}
	map_all(vm, RK_GUEST_RAM_BASE, RK_GUEST_RAM_SIZE, vm->ram, RK_CPU_PROT_ALL);
	map_all(vm, SHARED_IPA, SHARED_SIZE, vm->shared, RK_CPU_PROT_READ | RK_CPU_PROT_WRITE);
	assert_int_equal(rk_cpu_set_reg(vm->cpu[0], RK_CPU_REG_PC, RK_GUEST_RAM_BASE), 0);
	vm->on[0] = true;
	for (unsigned i = 0; i < 64; i++)
		vm->challenge[i] = (uint8_t)(0xc0 + i * 3);
	for (unsigned i = 0; i < TOKEN_LEN; i++)
		vm->token[i] = (uint8_t)(vm->challenge[i % 64] ^ i);
	return vm;
}

static void vm_free(struct vm *vm)
{
	if (!vm)
		return;
	if (getenv("RK_TEST_VERBOSE")) /* show the realm's console */
		fprintf(stderr, "%.*s", (int)vm->outlen, vm->out);
	for (unsigned i = 0; i < vm->ncpu; i++)
		rk_cpu_destroy(vm->cpu[i]);
	for (unsigned i = 0; i < vm->nalias; i++)
		free(vm->alias[i]);
	free(vm->ram);
	free(vm->shared);
	free(vm);
}

static bool in_ram(uint64_t ipa, uint64_t len)
{
	return ipa >= RK_GUEST_RAM_BASE && len <= RK_GUEST_RAM_SIZE &&
	       ipa - RK_GUEST_RAM_BASE <= RK_GUEST_RAM_SIZE - len;
}

static uint8_t *ram_at(struct vm *vm, uint64_t ipa)
{
	return vm->ram + (ipa - RK_GUEST_RAM_BASE);
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void wr64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static unsigned mpidr_index(uint64_t mpidr)
{
	return (unsigned)((mpidr & 0xf) | ((mpidr >> 8) & 0xff) << 4);
}

static void host_call(struct vm *vm, uint64_t *x)
{
	uint64_t ipa = x[1];
	uint8_t *p;
	uint16_t imm;
	uint64_t g[31];

	if (!in_ram(ipa, 256) || (ipa & 255)) {
		x[0] = RSI_ERROR_INPUT;
		return;
	}
	p = ram_at(vm, ipa);
	imm = (uint16_t)(p[0] | p[1] << 8);
	for (unsigned i = 0; i < 31; i++)
		g[i] = rd64(p + 8 + 8 * i);
	switch (imm) {
	case RK_HC_CPU_COUNT:
		g[0] = vm->report_cpus;
		break;
	case RK_HC_STRESS_CONFIG:
		g[0] = vm->stress_iters;
		g[1] = vm->stress_interval;
		break;
	case RK_HC_PROGRESS:
		vm->progress++;
		break;
	case RK_HC_CHALLENGE:
		for (unsigned i = 0; i < 8; i++)
			g[i] = rd64(vm->challenge + 8 * i);
		break;
	case RK_HC_SHARED_BUF:
		g[0] = SHARED_IPA;
		g[1] = SHARED_SIZE;
		break;
	case RK_HC_TOKEN_READY:
		vm->token_ready = true;
		memcpy(vm->token_msg, g, sizeof(vm->token_msg));
		break;
	case RK_HC_RESULT:
		vm->have_result = true;
		memcpy(vm->result, g, sizeof(vm->result));
		break;
	default:
		break;
	}
	for (unsigned i = 0; i < 31; i++)
		wr64(p + 8 + 8 * i, g[i]);
	x[0] = RSI_SUCCESS;
}

static void set_ripas(struct vm *vm, uint64_t base, uint64_t top, unsigned ripas)
{
	for (uint64_t a = base; a < top; a += PAGE) {
		unsigned pg = (unsigned)((a - RK_GUEST_RAM_BASE) / PAGE);

		if (vm->ripas[pg] == ripas)
			continue;
		vm->ripas[pg] = (uint8_t)ripas;
		if (ripas == RSI_RIPAS_EMPTY) {
			unmap_all(vm, a, PAGE);
		} else {
			/* Drop a shared alias; the new private page is zeroed. */
			for (unsigned i = 0; i < vm->nalias; i++)
				if (vm->alias_ipa[i] == (a | RK_GUEST_UNPROT_BASE) && vm->alias[i]) {
					unmap_all(vm, vm->alias_ipa[i], PAGE);
					free(vm->alias[i]);
					vm->alias[i] = NULL;
				}
			memset(ram_at(vm, a), 0, PAGE);
			map_all(vm, a, PAGE, ram_at(vm, a), RK_CPU_PROT_ALL);
		}
	}
}

/* Returns false when the vCPU stops running (CPU_OFF, SYSTEM_OFF). */
static bool smc(struct vm *vm, unsigned v)
{
	struct rk_cpu *cpu = vm->cpu[v];
	uint64_t x[31];
	unsigned t;

	assert_int_equal(rk_cpu_get_gprs(cpu, x), 0);
	switch ((uint32_t)x[0]) {
	case RSI_FID_VERSION:
		x[0] = RSI_SUCCESS;
		x[1] = RSI_REVISION(1, 0);
		x[2] = RSI_REVISION(1, 1);
		break;
	case RSI_FID_FEATURES:
		x[0] = RSI_SUCCESS;
		x[1] = 0;
		break;
	case RSI_FID_MEASUREMENT_READ:
		x[0] = x[1] == 0 ? RSI_SUCCESS : RSI_ERROR_INPUT;
		for (unsigned w = 0; w < 8; w++) {
			uint64_t word = 0;

			for (unsigned b = 0; b < 8 && w < 4; b++)
				word |= (uint64_t)(uint8_t)((w * 8 + b) * 7 + 1) << (8 * b);
			x[1 + w] = word;
		}
		break;
	case RSI_FID_REALM_CONFIG:
		if (!in_ram(x[1], PAGE) || (x[1] & (PAGE - 1))) {
			x[0] = RSI_ERROR_INPUT;
			break;
		}
		memset(ram_at(vm, x[1]), 0, PAGE);
		wr64(ram_at(vm, x[1]), RK_GUEST_S2SZ);
		x[0] = RSI_SUCCESS;
		break;
	case RSI_FID_IPA_STATE_SET:
		if (!in_ram(x[1], x[2] - x[1]) || x[2] <= x[1] || ((x[1] | x[2]) & (PAGE - 1)) || x[3] > 1) {
			x[0] = RSI_ERROR_INPUT;
			break;
		}
		set_ripas(vm, x[1], x[2], (unsigned)x[3]);
		x[0] = RSI_SUCCESS;
		x[1] = x[2];
		x[2] = RSI_ACCEPT;
		break;
	case RSI_FID_IPA_STATE_GET: {
		uint64_t a = x[1];
		unsigned r;

		if (!in_ram(a, PAGE) || x[2] <= a) {
			x[0] = RSI_ERROR_INPUT;
			break;
		}
		r = vm->ripas[(a - RK_GUEST_RAM_BASE) / PAGE];
		while (a < x[2] && in_ram(a, PAGE) && vm->ripas[(a - RK_GUEST_RAM_BASE) / PAGE] == r)
			a += PAGE;
		x[0] = RSI_SUCCESS;
		x[1] = a;
		x[2] = r;
		break;
	}
	case RSI_FID_HOST_CALL:
		host_call(vm, x);
		break;
	case RSI_FID_ATTEST_TOKEN_INIT:
		for (unsigned i = 0; i < 8; i++)
			assert_int_equal(x[1 + i], rd64(vm->challenge + 8 * i));
		vm->token_init = true;
		vm->token_pos = 0;
		x[0] = RSI_SUCCESS;
		x[1] = 2 * PAGE;
		break;
	case RSI_FID_ATTEST_TOKEN_CONTINUE: {
		uint64_t n;

		if (!vm->token_init) {
			x[0] = RSI_ERROR_STATE;
			break;
		}
		if (!in_ram(x[1], PAGE) || (x[1] & (PAGE - 1)) || x[2] >= PAGE || x[3] > PAGE - x[2]) {
			x[0] = RSI_ERROR_INPUT;
			break;
		}
		n = TOKEN_LEN - vm->token_pos;
		if (n > x[3])
			n = x[3];
		if (n > 1000) /* small chunks: exercise the loop */
			n = 1000;
		memcpy(ram_at(vm, x[1] + x[2]), vm->token + vm->token_pos, n);
		vm->token_pos += n;
		x[0] = vm->token_pos == TOKEN_LEN ? RSI_SUCCESS : RSI_INCOMPLETE;
		x[1] = n;
		break;
	}
	case PSCI_VERSION:
		x[0] = 0x10001;
		break;
	case PSCI_FEATURES:
		x[0] = PSCI_RET_SUCCESS;
		break;
	case PSCI_CPU_ON_64:
		t = mpidr_index(x[1]);
		if (t >= vm->ncpu) {
			x[0] = (uint64_t)(int64_t)PSCI_RET_INVALID_PARAMETERS;
		} else if (vm->on[t]) {
			x[0] = (uint64_t)(int64_t)PSCI_RET_ALREADY_ON;
		} else {
			assert_int_equal(rk_cpu_set_reg(vm->cpu[t], RK_CPU_REG_PC, x[2]), 0);
			assert_int_equal(rk_cpu_set_reg(vm->cpu[t], RK_CPU_REG_X(0), x[3]), 0);
			vm->on[t] = true;
			x[0] = PSCI_RET_SUCCESS;
		}
		break;
	case PSCI_AFFINITY_INFO_64:
		t = mpidr_index(x[1]);
		x[0] = t >= vm->ncpu ? (uint64_t)(int64_t)PSCI_RET_INVALID_PARAMETERS
		       : vm->on[t]   ? PSCI_AFF_ON
				     : PSCI_AFF_OFF;
		break;
	case PSCI_CPU_OFF:
		vm->on[v] = false;
		return false;
	case PSCI_SYSTEM_OFF:
		vm->off = true;
		return false;
	default:
		x[0] = (uint64_t)-1; /* SMC_UNKNOWN */
		break;
	}
	assert_int_equal(rk_cpu_set_gprs(cpu, x), 0);
	return true;
}

static void dabt(struct vm *vm, unsigned v, const struct rk_cpu_exit *e)
{
	struct rk_cpu *cpu = vm->cpu[v];
	uint64_t a = e->mem.addr;

	if (a == RK_GUEST_UART_IPA) {
		assert_true(e->mem.is_write);
		assert_true(e->mem.isv);
		assert_int_equal(e->mem.size, 4);
		if ((char)e->mem.value != '\r' && vm->outlen + 1 < sizeof(vm->out))
			vm->out[vm->outlen++] = (char)e->mem.value;
		assert_int_equal(rk_cpu_complete_mmio_write(cpu), 0);
		return;
	}
	if (a >= RK_GUEST_UNPROT_BASE && in_ram(a & ~RK_GUEST_UNPROT_BASE, 1) &&
	    vm->ripas[((a & ~RK_GUEST_UNPROT_BASE) - RK_GUEST_RAM_BASE) / PAGE] == RSI_RIPAS_EMPTY) {
		/* A shared page: map it and let the access retry. */
		uint8_t *p = aligned_alloc(PAGE, PAGE);

		assert_non_null(p);
		assert_true(vm->nalias < ALIAS_MAX);
		memset(p, 0, PAGE);
		vm->alias[vm->nalias] = p;
		vm->alias_ipa[vm->nalias++] = a & ~(PAGE - 1);
		map_all(vm, a & ~(PAGE - 1), PAGE, p, RK_CPU_PROT_READ | RK_CPU_PROT_WRITE);
		return;
	}
	if (in_ram(a, 1) && vm->ripas[(a - RK_GUEST_RAM_BASE) / PAGE] == RSI_RIPAS_EMPTY) {
		vm->seas++;
		assert_int_equal(rk_cpu_inject_sync(cpu, sea_esr, a), 0);
		return;
	}
	fail_msg("unexpected data abort at 0x%llx (pc 0x%llx)", (unsigned long long)a,
		 (unsigned long long)e->pc);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Round-robin the vCPUs, one at a time, SLICE_US each, until SYSTEM_OFF. */
static void vm_run(struct vm *vm, double limit_s)
{
	double t0 = now_s();
	unsigned v = 0;

	while (!vm->off) {
		double slice_end = now_s() + SLICE_US * 1e-6;
		bool any = false;

		for (unsigned i = 0; i < vm->ncpu; i++)
			any = any || vm->on[i];
		assert_true(any);
		if (now_s() - t0 > limit_s) {
			vm->out[vm->outlen] = 0;
			fail_msg("realm did not finish in %.0f s; output:\n%s", limit_s, vm->out);
		}
		if (!vm->on[v]) {
			v = (v + 1) % vm->ncpu;
			continue;
		}
		for (;;) {
			struct rk_cpu_exit e;
			double left = slice_end - now_s();

			if (left <= 0)
				break;
			assert_int_equal(rk_cpu_run(vm->cpu[v], (uint64_t)(left * 1e6) + 1, &e), 0);
			if (e.reason == RK_CPU_EXIT_TIMEOUT)
				break;
			if (e.reason == RK_CPU_EXIT_SMC) {
				if (!smc(vm, v))
					break;
			} else if (e.reason == RK_CPU_EXIT_DABT) {
				dabt(vm, v, &e);
			} else if (e.reason == RK_CPU_EXIT_WFI) {
				assert_int_equal(rk_cpu_skip_insn(vm->cpu[v]), 0);
				break;
			} else {
				vm->out[vm->outlen] = 0;
				fail_msg("vcpu %u: exit %s at pc 0x%llx; output:\n%s", v,
					 rk_cpu_exit_reason_name(e.reason), (unsigned long long)e.pc,
					 vm->out);
			}
		}
		v = (v + 1) % vm->ncpu;
	}
	vm->out[vm->outlen] = 0;
}

#define NEED(vm)                           \
	do {                               \
		if (!(vm))                 \
			T_NO_PAYLOAD(#vm); \
	} while (0)

static void expect_out(const struct vm *vm, const char *s)
{
	if (!strstr(vm->out, s))
		fail_msg("\"%s\" not in the output:\n%s", s, vm->out);
}

/* ------------------------------------------------------------------------ */

static void test_hello_first_store(void **state)
{
	struct vm *vm = vm_new("hello", 1);
	struct rk_cpu_exit e;

	(void)state;
	NEED(vm);
	/* Start-up code runs until the first UART store: 'H'. */
	assert_int_equal(rk_cpu_run(vm->cpu[0], 2000000, &e), 0);
	assert_int_equal(e.reason, RK_CPU_EXIT_DABT);
	assert_int_equal(e.mem.addr, RK_GUEST_UART_IPA);
	assert_int_equal(e.mem.addr, 0x8009000000ull);
	assert_true(e.mem.is_write);
	assert_true(e.mem.isv);
	assert_int_equal(e.mem.size, 4);
	assert_int_equal(e.mem.value, 'H');
	assert_true(e.pc >= RK_GUEST_RAM_BASE && e.pc < RK_GUEST_RAM_BASE + 0x10000);
	{
		uint64_t vbar = 0, sp = 0;

		assert_int_equal(rk_cpu_get_reg(vm->cpu[0], RK_CPU_REG_VBAR_EL1, &vbar), 0);
		assert_int_equal(rk_cpu_get_reg(vm->cpu[0], RK_CPU_REG_SP, &sp), 0);
		assert_int_equal(vbar, RK_GUEST_RAM_BASE + 0x800);
		assert_true(sp > RK_GUEST_RAM_BASE && sp <= RK_GUEST_RAM_BASE + RK_GUEST_RAM_SIZE);
		assert_int_equal(sp & 15, 0);
	}
	vm_free(vm);
}

static void test_hello(void **state)
{
	struct vm *vm = vm_new("hello", 1);
	char rim[200] = "RIM: ";

	(void)state;
	NEED(vm);
	vm_run(vm, 60);
	expect_out(vm, "Hello from a realm! (realmkit guest SDK, cpu 0)\n");
	expect_out(vm, "RSI_VERSION: status 0, lower 1.0, higher 1.1\n");
	for (unsigned i = 0; i < 32; i++)
		snprintf(rim + 5 + 2 * i, 3, "%02x", (uint8_t)(i * 7 + 1));
	strcat(rim, "\nBye.\n");
	expect_out(vm, rim);
	assert_true(vm->have_result);
	assert_int_equal(vm->result[0], RK_GUEST_EX_HELLO);
	assert_int_equal(vm->result[1], 0);
	vm_free(vm);
}

static void run_smp(unsigned ncpu, bool tell_count)
{
	struct vm *vm = vm_new("smp", ncpu);
	char line[64];

	NEED(vm);
	if (!tell_count)
		vm->report_cpus = 0;
	vm_run(vm, 120);
	for (unsigned i = 1; i < ncpu; i++) {
		snprintf(line, sizeof(line), "cpu %u up (context %u", i, i);
		expect_out(vm, line);
	}
	snprintf(line, sizeof(line), "smp: %u cpus, %u started, all up and off", ncpu, ncpu - 1);
	expect_out(vm, line);
	if (!tell_count)
		expect_out(vm, "(probing)");
	assert_true(vm->have_result);
	assert_int_equal(vm->result[0], RK_GUEST_EX_SMP);
	assert_int_equal(vm->result[1], 0);
	assert_int_equal(vm->result[2], ncpu);
	for (unsigned i = 1; i < ncpu; i++)
		assert_false(vm->on[i]);
	vm_free(vm);
}

static void test_smp(void **state)
{
	(void)state;
	run_smp(4, true);
}

static void test_smp_probe(void **state)
{
	(void)state;
	run_smp(3, false);
}

static void test_ripas(void **state)
{
	struct vm *vm = vm_new("ripas", 1);

	(void)state;
	NEED(vm);
	vm_run(vm, 60);
	expect_out(vm, "ripas: private write/read OK");
	expect_out(vm, "ripas: shared write/read OK");
	expect_out(vm, "ripas: private again write/read OK");
	expect_out(vm, "ripas: PASS");
	assert_int_equal(vm->nalias, 4); /* the 4 shared pages, mapped on fault */
	assert_true(vm->have_result);
	assert_int_equal(vm->result[0], RK_GUEST_EX_RIPAS);
	assert_int_equal(vm->result[1], 0);
	vm_free(vm);
}

static void test_abort(void **state)
{
	struct vm *vm = vm_new("abort", 1);
	char line[64];

	(void)state;
	NEED(vm);
	vm_run(vm, 60);
	snprintf(line, sizeof(line), "SEA handled: ESR_EL1 0x%llx", (unsigned long long)sea_esr);
	expect_out(vm, line);
	assert_int_equal(vm->seas, 1);
	assert_true(vm->have_result);
	assert_int_equal(vm->result[0], RK_GUEST_EX_ABORT);
	assert_int_equal(vm->result[1], 0);
	assert_int_equal(vm->result[2], sea_esr);
	vm_free(vm);
}

static void test_stress(void **state)
{
	struct vm *vm = vm_new("stress", 1);
	uint64_t x = 0x2545f4914f6cdd1dull, sum = 0;
	char line[128];

	(void)state;
	NEED(vm);
	vm->stress_iters = 200000;
	vm->stress_interval = 50000;
	vm_run(vm, 60);
	for (uint64_t i = 1; i <= vm->stress_iters; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		sum = (sum << 7 | sum >> 57) ^ (x * 0x2545f4914f6cdd1dull);
	}
	snprintf(line, sizeof(line), "stress: checksum 0x%016llx after 200000 iterations, 4 host calls",
		 (unsigned long long)sum);
	expect_out(vm, line);
	assert_int_equal(vm->progress, 4);
	assert_int_equal(vm->result[0], RK_GUEST_EX_STRESS);
	assert_int_equal(vm->result[2], sum);
	vm_free(vm);
}

static void test_attest(void **state)
{
	struct vm *vm = vm_new("attest", 1);

	(void)state;
	NEED(vm);
	vm_run(vm, 60);
	expect_out(vm, "attest: token status 0, 5000 bytes");
	assert_true(vm->token_ready);
	assert_int_equal(vm->token_msg[0], TOKEN_LEN);
	assert_int_equal(vm->token_msg[1], SHARED_IPA);
	assert_int_equal(vm->token_msg[2], 0);
	assert_memory_equal(vm->shared, vm->token, TOKEN_LEN);
	assert_int_equal(vm->result[0], RK_GUEST_EX_ATTEST);
	assert_int_equal(vm->result[1], 0);
	vm_free(vm);
}

/* The SDK's MMU-on mode (the guest's stage 1 over the vCPU's stage 2: stage-2 mode). */
static void test_mmu(void **state)
{
	enum rk_cpu_mode mode = rk_cpu_default_mode();
	struct vm *vm;

	(void)state;
	rk_cpu_set_default_mode(RK_CPU_MODE_STAGE2);
	vm = vm_new("mmu", 1);
	rk_cpu_set_default_mode(mode);
	NEED(vm);
	vm_run(vm, 60);
	expect_out(vm, "mmu: this string was read through its high VA (0xffff0000000");
	expect_out(vm, "mmu: code called at its high VA ran at PC 0xffff0000000");
	expect_out(vm, "mmu: unaligned load at 0x");
	expect_out(vm, "mmu: stage-1 fault 1: ESR_EL1 0x96000004 (EC 0x25 FSC 0x4) FAR_EL1 0x500000000000");
	expect_out(
		vm,
		"mmu: stage-1 fault 2: ESR_EL1 0x96000047 (EC 0x25 FSC 0x7, write) FAR_EL1 0x500000001008");
	expect_out(vm, "mmu: 3 stage-1 faults handled: PASS");
	assert_true(vm->have_result);
	assert_int_equal(vm->result[0], RK_GUEST_EX_MMU);
	assert_int_equal(vm->result[1], 0);
	assert_int_equal(vm->result[2], 3);
	vm_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_first_store),
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_smp),
		cmocka_unit_test(test_smp_probe),
		cmocka_unit_test(test_ripas),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_stress),
		cmocka_unit_test(test_attest),
		cmocka_unit_test(test_mmu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
