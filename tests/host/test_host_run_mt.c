/* SPDX-License-Identifier: MIT */
/*
 * Eight realms at once in one process: one machine, one host, eight threads,
 * each building its own realm (hello with SHA-256 or SHA-512, smp with two
 * vCPUs, ripas), running it with rk_vm_run() (a thread per vCPU more) and
 * tearing it down, twice over. Each realm's console must be its own and
 * correct (hello prints the RIM its host predicted), and at the end nothing
 * is leaked and every granule is NS again. Named *_mt: it also runs under
 * ThreadSanitizer.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "realmkit/guest_abi.h"
#include "realmkit/host.h"
#include "realmkit/measure.h"
#include "rk_test.h"

#define MIB (1ULL << 20)
#define NREALMS 8
#define ROUNDS 2
#define SHARED_IPA (RK_GUEST_UNPROT_BASE + 0x10000000ULL)

static struct rk_machine *m;
static struct rk_host *h;

struct payload {
	const char *name;
	uint8_t *image;
	size_t len;
};

static struct payload payloads[] = { { "hello", NULL, 0 }, { "smp", NULL, 0 }, { "ripas", NULL, 0 } };

/* One realm's thread: everything it saw, checked by the main thread afterwards. */
struct realm_job {
	pthread_t t;
	uint32_t idx, round;
	uint32_t ncpus;
	uint32_t algo;
	const struct payload *p;
	char out[8192];
	size_t out_len;
	uint8_t rim[64];
	size_t rim_len;
	int err; /* first failing call, or 0 */
	char what[400];
	bool pass, reported;
	struct rk_vm_run_info info;
};

static void console(void *arg, const char *buf, size_t len)
{
	struct realm_job *j = arg;

	if (len > sizeof(j->out) - 1 - j->out_len)
		len = sizeof(j->out) - 1 - j->out_len;
	memcpy(j->out + j->out_len, buf, len);
	j->out_len += len;
	j->out[j->out_len] = '\0';
}

static int host_call(void *arg, struct rk_vm *vm, uint32_t vcpu, uint32_t imm, uint64_t g[31])
{
	struct realm_job *j = arg;
	uint64_t pass = g[1];

	(void)vm;
	(void)vcpu;
	memset(g, 0, 31 * sizeof(uint64_t));
	if (imm == RK_HC_CPU_COUNT) {
		g[0] = j->ncpus;
	} else if (imm == RK_HC_RESULT) {
		j->reported = true;
		j->pass = pass == 0;
	}
	return 0;
}

#define STEP(call)                                                                                       \
	do {                                                                                             \
		int r_ = (call);                                                                         \
		if (r_ && !j->err) {                                                                     \
			j->err = r_;                                                                     \
			snprintf(j->what, sizeof(j->what), "%s: %s", #call, rk_host_last_error(h)->msg); \
		}                                                                                        \
	} while (0)

static void *realm_main(void *arg)
{
	struct realm_job *j = arg;
	struct rk_plan_memslot slots[2] = {
		{ RK_GUEST_RAM_BASE, 8 * MIB, 0, 0 },
		{ SHARED_IPA, 0x10000, RK_MEMSLOT_SHARED, 0 },
	};
	struct rk_plan_load load = { RK_GUEST_RAM_BASE, j->p->image, j->p->len, RK_POPULATE_MEASURE, 0 };
	struct rk_vcpu_config vcpus[2];
	struct rk_vm_plan plan;
	struct rk_vm *vm = NULL;

	memset(vcpus, 0, sizeof(vcpus));
	vcpus[0].pc = RK_GUEST_RAM_BASE;
	vcpus[0].flags = RK_VCPU_RUNNABLE;
	memset(&plan, 0, sizeof(plan));
	rk_vm_config_default(&plan.config, RK_VM_REALM);
	plan.config.hash_algo = j->algo;
	plan.config.rpv[0] = (uint8_t)j->idx;
	plan.memslots = slots;
	plan.nmemslots = 2;
	plan.loads = &load;
	plan.nloads = 1;
	plan.vcpus = vcpus;
	plan.nvcpus = j->ncpus;
	STEP(rk_vm_create_from_plan(h, &plan, &vm));
	if (!vm)
		return NULL;
	STEP(rk_vm_add_uart(vm, RK_GUEST_UART_IPA, console, j));
	rk_vm_set_host_call_handler(vm, host_call, j);
	STEP(rk_vm_activate(vm));
	STEP(rk_vm_rim(vm, j->rim, &j->rim_len));
	STEP(rk_vm_run(vm, 120000));
	rk_vm_get_run_info(vm, &j->info);
	STEP(rk_vm_destroy(vm));
	rk_vm_free(vm);
	return NULL;
}

static void check_job(const struct realm_job *j)
{
	char line[200];

	if (j->err)
		fail_msg("realm %u (round %u, %s): %s", j->idx, j->round, j->p->name, j->what);
	if (j->info.reason != RK_STOP_SYSTEM_OFF || !j->reported || !j->pass)
		fail_msg("realm %u (%s): stopped %s (%s), %s; console:\n%s", j->idx, j->p->name,
			 rk_vm_stop_reason_name(j->info.reason), j->info.msg,
			 j->reported ? (j->pass ? "PASS" : "FAIL") : "no result", j->out);
	if (!strcmp(j->p->name, "hello")) {
		strcpy(line, "RIM: ");
		for (size_t i = 0; i < j->rim_len; i++)
			sprintf(line + 5 + 2 * i, "%02x", j->rim[i]);
		if (!strstr(j->out, line) || !strstr(j->out, "Hello from a realm!"))
			fail_msg("realm %u: hello without its own RIM (%s):\n%s", j->idx, line, j->out);
		if (strstr(j->out, "smp:") || strstr(j->out, "ripas:"))
			fail_msg("realm %u: another realm's output:\n%s", j->idx, j->out);
	} else if (!strcmp(j->p->name, "smp")) {
		if (!strstr(j->out, "cpu 1 up (context 1") ||
		    !strstr(j->out, "smp: 2 cpus, 1 started, all up and off"))
			fail_msg("realm %u: smp output:\n%s", j->idx, j->out);
		if (strstr(j->out, "Hello") || strstr(j->out, "ripas:"))
			fail_msg("realm %u: another realm's output:\n%s", j->idx, j->out);
	} else {
		if (!strstr(j->out, "ripas: shared write/read OK") || !strstr(j->out, "ripas: PASS"))
			fail_msg("realm %u: ripas output:\n%s", j->idx, j->out);
		if (strstr(j->out, "Hello") || strstr(j->out, "smp:"))
			fail_msg("realm %u: another realm's output:\n%s", j->idx, j->out);
	}
}

static void test_eight_realms(void **state)
{
	static struct realm_job jobs[NREALMS];
	struct rk_host_stats st;
	uint8_t rims[2][64];

	(void)state;
	for (size_t k = 0; k < sizeof(payloads) / sizeof(payloads[0]); k++) {
		if (!payloads[k].image)
			T_NO_PAYLOAD(payloads[k].name);
	}
	for (uint32_t round = 0; round < ROUNDS; round++) {
		for (uint32_t i = 0; i < NREALMS; i++) {
			struct realm_job *j = &jobs[i];
			memset(j, 0, sizeof(*j));
			j->idx = i;
			j->round = round;
			/* 0 hello SHA-256, 1 smp x2, 2 ripas, 3 hello SHA-512, ... */
			static const uint32_t pick[4] = { 0, 1, 2, 0 };
			j->p = &payloads[pick[i % 4]];
			j->algo = (i % 4) == 3 ? RMI_HASH_SHA_512 : RMI_HASH_SHA_256;
			j->ncpus = !strcmp(j->p->name, "smp") ? 2 : 1;
			assert_int_equal(pthread_create(&j->t, NULL, realm_main, j), 0);
		}
		for (uint32_t i = 0; i < NREALMS; i++)
			pthread_join(jobs[i].t, NULL);
		for (uint32_t i = 0; i < NREALMS; i++)
			check_job(&jobs[i]);
		/* same image, same hash: same RIM; other hash: another */
		memcpy(rims[0], jobs[0].rim, 64);
		memcpy(rims[1], jobs[3].rim, 64);
		assert_memory_equal(jobs[4].rim, rims[0], 64);
		assert_memory_equal(jobs[7].rim, rims[1], 64);
		assert_memory_not_equal(rims[0], rims[1], 64);
	}
	rk_host_get_stats(h, &st);
	assert_int_equal(st.granules_leaked, 0);
	assert_int_equal(st.ledger_errors, 0);
	assert_int_equal(st.shadow_mismatches, 0);
	t_assert_all_undelegated(m);
}

static int setup(void **state)
{
	struct rk_machine_config cfg;
	const char *dir = getenv("RK_BINARY_DIR");

	(void)state;
	for (size_t k = 0; k < sizeof(payloads) / sizeof(payloads[0]); k++) {
		char path[4096];
		FILE *f;
		long n;

		snprintf(path, sizeof(path), "%s/guest/%s.bin", dir ? dir : ".", payloads[k].name);
		f = fopen(path, "rb");
		if (!f)
			continue;
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		fseek(f, 0, SEEK_SET);
		payloads[k].image = malloc((size_t)n);
		assert_non_null(payloads[k].image);
		assert_int_equal(fread(payloads[k].image, 1, (size_t)n, f), (size_t)n);
		payloads[k].len = (size_t)n;
		fclose(f);
	}
	rk_machine_config_default(&cfg);
	cfg.dram_size = 256 * MIB;
	/* fewer open engines than RECs (10): while some RECs run, idle ones are
	 * parked and woken again (src/rmm/engines.h), on every thread at once */
	cfg.max_open_engines = 3;
	assert_int_equal(rk_machine_create(&cfg, &m), 0);
	assert_int_equal(rk_host_create(m, NULL, &h), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rk_host_destroy(h);
	rk_machine_destroy(m);
	for (size_t k = 0; k < sizeof(payloads) / sizeof(payloads[0]); k++)
		free(payloads[k].image);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eight_realms),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
