/* SPDX-License-Identifier: MIT */
/*
 * Interrupts through the run loops (src/host/vtimer.c, devices.c, the vGIC
 * of vgic.c; run.c for realms, run_normal.c for normal VMs): realms and
 * normal VMs whose vCPUs sleep in WFI with the host's WFI timeout made very
 * long (run.wfi_max_ms), so that only a wake-up the host delivers ends a
 * sleep — a lost kick hangs the guest and the run times out. The ipi, timer
 * and echo cases run as a realm and as a normal VM.
 *  - the ipi example with 1, 2, 4 and 8 vCPUs: SGIs to one vCPU, to all but
 *    the sender (IRM = 1) and to a list, a token around every vCPU, vCPU 0
 *    woken from WFI by the others' SGIs; 12 interrupts pending at once on
 *    vCPU 0 (more than the host CPU's 4 list registers) taken in priority
 *    order; an SGI sent to a vCPU that is off kept and taken after its
 *    second CPU_ON;
 *  - the timer example (stage-2 mode): the virtual timer's PPI 27 through
 *    the vGIC, 5 ticks;
 *  - the echo example fed from another thread (rk_vm_uart_input): the
 *    PL011's SPI 33 wakes the reader from WFI;
 *  - the UART's carriage returns: "\r\n" is a line end, a lone '\r' is kept.
 * Named *_mt: it also runs under ThreadSanitizer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "realmkit/guest_abi.h"
#include "a64.h"
#include "payload_util.h"
#include "realmkit/arch/psci.h"
#include "realmkit/cpu.h"
#include "realmkit/host.h"
#include "realmkit/platform.h"
#include "rk_payload.h"
#include "rk_test.h"
#include "host/host_internal.h"

#define MIB (1ULL << 20)
#define RAM RK_GUEST_RAM_BASE
#define LONG_WFI_MS 600000u /* no WFI ends by itself within a test */

static struct rk_machine *m;
static struct rk_host *h;

static int setup(void **state)
{
	struct rk_machine_config cfg;

	(void)state;
	rk_machine_config_default(&cfg);
	cfg.dram_size = 256 * MIB;
	assert_int_equal(rk_machine_create(&cfg, &m), 0);
	assert_int_equal(rk_host_create(m, NULL, &h), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rk_host_destroy(h);
	rk_machine_destroy(m);
	return 0;
}

struct guest {
	struct rk_vm *vm;
	uint8_t *image;
	size_t len;
	pthread_mutex_t mtx; /* out: the UART's callback runs on vCPU threads */
	char out[16384];
	size_t out_len;
	uint32_t ncpus;
	bool result_seen, result_pass;
	uint64_t result_value;
};

static void console(void *arg, const char *buf, size_t len)
{
	struct guest *g = arg;

	pthread_mutex_lock(&g->mtx);
	if (len > sizeof(g->out) - 1 - g->out_len)
		len = sizeof(g->out) - 1 - g->out_len;
	memcpy(g->out + g->out_len, buf, len);
	g->out_len += len;
	g->out[g->out_len] = '\0';
	pthread_mutex_unlock(&g->mtx);
}

static int host_call(void *arg, struct rk_vm *vm, uint32_t vcpu, uint32_t imm, uint64_t gp[31])
{
	struct guest *g = arg;
	uint64_t in[3] = { gp[0], gp[1], gp[2] };

	(void)vm;
	(void)vcpu;
	memset(gp, 0, 31 * sizeof(uint64_t));
	if (imm == RK_HC_CPU_COUNT) {
		gp[0] = g->ncpus;
	} else if (imm == RK_HC_RESULT) {
		g->result_seen = true;
		g->result_pass = in[1] == 0;
		g->result_value = in[2];
	}
	return 0;
}

/* A VM of kind running payload name (NULL: code[] of n words) with ncpus vCPUs, the UART and the host calls. */
static struct guest *guest_new(const char *name, const uint32_t *code, size_t n, uint32_t ncpus,
			       enum rk_vm_kind kind)
{
	struct guest *g = calloc(1, sizeof(*g));
	struct rk_plan_memslot slot = { RAM, 16 * MIB, 0, 0 };
	struct rk_vcpu_config vcpus[8];
	struct rk_plan_load load;
	struct rk_vm_plan p;

	assert_non_null(g);
	pthread_mutex_init(&g->mtx, NULL);
	if (name) {
		g->image = t_load_payload(name, &g->len);
		if (!g->image) {
			free(g);
			return NULL;
		}
	} else {
		g->len = n * 4;
		g->image = malloc(g->len);
		memcpy(g->image, code, g->len);
	}
	g->ncpus = ncpus;
	memset(&p, 0, sizeof(p));
	rk_vm_config_default(&p.config, kind);
	p.memslots = &slot;
	p.nmemslots = 1;
	load = (struct rk_plan_load){ RAM, g->image, g->len, RK_POPULATE_MEASURE, 0 };
	p.loads = &load;
	p.nloads = 1;
	memset(vcpus, 0, sizeof(vcpus));
	vcpus[0].pc = RAM;
	vcpus[0].flags = RK_VCPU_RUNNABLE;
	p.vcpus = vcpus;
	p.nvcpus = ncpus;
	assert_int_equal(rk_vm_create_from_plan(h, &p, &g->vm), 0);
	assert_int_equal(rk_vm_add_uart(g->vm, RK_GUEST_UART_IPA, console, g), 0);
	rk_vm_set_host_call_handler(g->vm, host_call, g);
	g->vm->run.wfi_max_ms = LONG_WFI_MS; /* only a wake-up ends a WFI */
	return g;
}

static void guest_free(struct guest *g)
{
	struct rk_host_stats st;

	if (!g)
		return;
	assert_int_equal(rk_vm_destroy(g->vm), 0);
	rk_vm_free(g->vm);
	pthread_mutex_destroy(&g->mtx);
	free(g->image);
	free(g);
	rk_host_get_stats(h, &st);
	assert_int_equal(st.granules_leaked, 0);
	assert_int_equal(st.ledger_errors, 0);
	t_assert_all_undelegated(m);
}

static void expect_out(struct guest *g, const char *s)
{
	pthread_mutex_lock(&g->mtx);
	bool has = strstr(g->out, s) != NULL;
	pthread_mutex_unlock(&g->mtx);
	if (!has)
		fail_msg("console lacks '%s'; it says:\n%s", s, g->out);
}

static void expect_pass(struct guest *g, int run_ret, uint32_t example)
{
	if (run_ret)
		fail_msg("rk_vm_run: %d (%s); console:\n%s", run_ret, rk_host_last_error(h)->msg, g->out);
	assert_true(g->result_seen);
	assert_true(g->result_pass);
	(void)example;
}

/* SGIs to one / all but self / a list, WFI woken by SGIs, LR overflow, an SGI to an off vCPU. */
static void test_ipi(void **state)
{
	static const uint32_t counts[] = { 1, 2, 4, 8 };
	char line[160];

	(void)state;
	for (size_t k = 0; k < 2 * sizeof(counts) / sizeof(counts[0]); k++) {
		uint32_t n = counts[k % 4];
		struct guest *g = guest_new("ipi", NULL, 0, n, k < 4 ? RK_VM_REALM : RK_VM_NORMAL);

		if (!g)
			T_NO_PAYLOAD("ipi");
		expect_pass(g, rk_vm_run(g->vm, 120000), RK_GUEST_EX_IPI);
		snprintf(line, sizeof(line), "ipi: ring: %u SGIs around %u vCPUs: ok", 3 * n, n);
		expect_out(g, line);
		expect_out(g, "ipi: one: ok");
		snprintf(line, sizeof(line), "ipi: all-but-self: %u senders, %u SGIs each: ok", n, n - 1);
		expect_out(g, line);
		expect_out(g, "ipi: list 0x");
		expect_out(g, "ipi: priorities: 12 interrupts pending at once, taken in priority order: ok");
		if (n > 1) {
			expect_out(g, "the SGI sent to vCPU 1 while it was off taken after it: ok");
			snprintf(line, sizeof(line), "ipi: %u vCPUs off again", n - 1);
			expect_out(g, line);
		}
		expect_out(g, " 0 spurious: PASS");
		guest_free(g);
	}
}

/* The virtual timer's PPI 27 through the vGIC (the RMM emulates the timers in stage-2 mode). */
static void test_timer_ppi(void **state)
{
	enum rk_cpu_mode mode = rk_cpu_default_mode();

	(void)state;
	for (int kind = RK_VM_NORMAL; kind <= RK_VM_REALM; kind++) {
		struct guest *g;
		int ret;

		rk_cpu_set_default_mode(RK_CPU_MODE_STAGE2);
		g = guest_new("timer", NULL, 0, 1, (enum rk_vm_kind)kind);
		if (!g) {
			rk_cpu_set_default_mode(mode);
			T_NO_PAYLOAD("timer");
		}
		ret = rk_vm_run(g->vm, 120000);
		rk_cpu_set_default_mode(mode);
		expect_pass(g, ret, RK_GUEST_EX_TIMER);
		assert_int_equal(g->result_value, 5);
		expect_out(g, "timer: 5 of 5 ticks, 0 spurious: PASS");
		guest_free(g);
	}
}

/* ---- the UART's SPI: echo fed from another thread ---- */

struct feeder {
	struct guest *g;
	const char *text;
	int err;
};

static void *feed_main(void *arg)
{
	struct feeder *f = arg;
	size_t left = strlen(f->text), taken;
	const char *p = f->text;

	while (left && !host_run_stopping(f->g->vm)) {
		/* a few bytes at a time: the reader sleeps between them */
		size_t chunk = left < 3 ? left : 3;
		f->err = rk_vm_uart_input(f->g->vm, RK_GUEST_UART_IPA, p, chunk, &taken);
		if (f->err)
			return NULL;
		p += taken;
		left -= taken;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return NULL;
}

static void test_uart_spi(void **state)
{
	(void)state;
	for (int kind = RK_VM_NORMAL; kind <= RK_VM_REALM; kind++) {
		struct guest *g = guest_new("echo", NULL, 0, 1, (enum rk_vm_kind)kind);
		struct feeder f = { g, "one\ntwo\r\nquit\n", 0 };
		pthread_t t;
		int ret;

		if (!g)
			T_NO_PAYLOAD("echo");
		assert_int_equal(pthread_create(&t, NULL, feed_main, &f), 0);
		ret = rk_vm_run(g->vm, 120000);
		pthread_join(t, NULL);
		assert_int_equal(f.err, 0);
		expect_pass(g, ret, RK_GUEST_EX_ECHO);
		assert_int_equal(g->result_value, 2);
		expect_out(g, "echo: one\n");
		expect_out(g, "echo: two\n");
		expect_out(g, " UART interrupts: PASS");
		guest_free(g);
	}
}

/* ---- carriage returns on the console ---- */

static void test_console_cr(void **state)
{
	static const char text[] = "a\rb\r\nc\rd\n\r";
	uint32_t code[256];
	size_t n = 0;

	(void)state;
	n += a64_mov64(code + n, 1, RK_GUEST_UART_IPA);
	for (const char *c = text; *c; c++) {
		n += a64_mov64(code + n, 2, (uint8_t)*c);
		code[n++] = a64_ldst(A64_OP_STRW, 2, 2, 1, 0);
	}
	n += a64_mov64(code + n, 0, PSCI_SYSTEM_OFF);
	code[n++] = A64_SMC;
	code[n++] = A64_B_SELF;
	struct guest *g = guest_new(NULL, code, n, 1, RK_VM_REALM);
	assert_int_equal(rk_vm_run(g->vm, 60000), 0);
	/* "\r\n" a line end; a lone '\r' kept, the last one when the realm stops */
	assert_string_equal(g->out, "a\rb\nc\rd\n\r");
	guest_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipi),
		cmocka_unit_test(test_timer_ppi),
		cmocka_unit_test(test_uart_spi),
		cmocka_unit_test(test_console_cr),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
