/* SPDX-License-Identifier: MIT */
/*
 * A realm that makes thousands of SMCs with random function identifiers and
 * arguments (RSI, PSCI, SMCCC, the host's RMI FIDs, garbage; random SVE hint
 * bits and upper halves of X0; IPAs in a scratch area of its own RAM, in
 * the unprotected half, past the IPA space, unaligned; sizes, indices and
 * flags at and past their limits), run by the host library, which completes
 * every exit (host calls, RIPAS changes, PSCI). Bad input from a realm must
 * get an error code, never a crash or a stuck vCPU:
 *  - the realm gets through all the calls and switches itself off;
 *  - every X0 it got back is a status its function can return (an RSI
 *    status for RSI, a PSCI return for PSCI, SMC_UNKNOWN otherwise);
 *  - the same seed gives the same results twice (determinism);
 *  - teardown reclaims every granule.
 * The realm keeps its table of calls in its measured image and writes the
 * results to a shared (unprotected) buffer, which the test reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "realmkit/guest_abi.h"
#include "a64.h"
#include "rk_smc_table.h"
#include "realmkit/host.h"
#include "rk_test.h"

#define MIB (1ULL << 20)
#define RAM RK_GUEST_RAM_BASE
#define RAM_SIZE (16 * MIB)
#define TABLE_OFF (1 * MIB) /* in the image: NCALLS x (x0..x7) */
#define SCRATCH (RAM + 4 * MIB)
#define SCRATCH_SIZE (4 * MIB)
#define SHARED_IPA (RK_GUEST_UNPROT_BASE + 0x10000000ULL)
#define SHARED_SIZE 0x10000ULL /* NCALLS x (x0, x1): 64 KiB */
#define NCALLS 4096u
#define IPA_TOP (1ULL << RK_GUEST_S2SZ)

static uint64_t rng;

static uint64_t rnd(void)
{
	/* splitmix64: the same sequence everywhere */
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t pick(const uint64_t *v, size_t n)
{
	return v[rnd() % n];
}

/* A function identifier: mostly RSI and PSCI, some SMCCC, RMI and garbage. */
static uint64_t random_fid(void)
{
	uint64_t r = rnd() % 100, fid;

	if (r < 55)
		fid = 0xC4000190ULL + rnd() % 0x20; /* RSI, defined or not */
	else if (r < 80)
		fid = (rnd() & 1 ? 0xC4000000ULL : 0x84000000ULL) + rnd() % 0x20; /* PSCI */
	else if (r < 88)
		fid = 0x80000000ULL + rnd() % 3; /* SMCCC */
	else if (r < 94)
		fid = 0xC4000150ULL + rnd() % 0xC0; /* the host's RMI FIDs */
	else
		fid = rnd(); /* anything */
	if (rnd() % 10 == 0)
		fid ^= 1ULL << 16; /* the SVE hint */
	if (rnd() % 10 == 0)
		fid |= rnd() << 32; /* the upper half of X0 is not part of the FID */
	if (t_smc_ends_run(fid))
		fid = 0x84000000ULL; /* those end the run: PSCI_VERSION instead */
	return fid;
}

/* An argument: IPAs of all kinds, small numbers, limits, garbage. */
static uint64_t random_arg(void)
{
	static const uint64_t limits[] = {
		0,
		1,
		2,
		3,
		4,
		7,
		8,
		0x10000,
		0x10001,
		0x20000,
		0xffff,
		0xffffffffULL,
		~0ULL,
		IPA_TOP,
		IPA_TOP - 0x1000,
		RK_GUEST_UNPROT_BASE,
		SHARED_IPA,
		RK_GUEST_UNPROT_BASE - 0x1000,
		1ULL << 63,
		0x8000000000000000ULL - 1,
	};
	uint64_t r = rnd() % 100;

	if (r < 40) { /* in the realm's own scratch RAM: 4 KiB aligned mostly */
		uint64_t a = SCRATCH + rnd() % SCRATCH_SIZE;
		return rnd() % 4 ? a & ~0xfffULL : a;
	}
	if (r < 60)
		return rnd() % 17;
	if (r < 85)
		return pick(limits, sizeof(limits) / sizeof(limits[0]));
	return rnd();
}

/* IPA_STATE_SET/GET with a plausible range (so that some succeed): pages of scratch. */
static void plausible_ripas(uint64_t *x)
{
	uint64_t base = SCRATCH + (rnd() % (SCRATCH_SIZE / 0x1000)) * 0x1000;
	uint64_t pages = 1 + rnd() % 64;

	x[1] = base;
	x[2] = base + pages * 0x1000 > SCRATCH + SCRATCH_SIZE ? SCRATCH + SCRATCH_SIZE
							      : base + pages * 0x1000;
	x[3] = rnd() % 2; /* EMPTY or RAM */
	x[4] = rnd() % 2; /* CHANGE_DESTROYED */
}

static void make_table(uint64_t *t)
{
	for (unsigned int i = 0; i < NCALLS; i++) {
		uint64_t *x = t + 8 * i;

		x[0] = random_fid();
		for (int k = 1; k < 8; k++)
			x[k] = random_arg();
		uint64_t w = x[0] & 0xfffeffffULL; /* W0 without the SVE hint */
		if ((w == 0xC4000197ULL || w == 0xC4000198ULL) && rnd() % 2)
			plausible_ripas(x);
	}
}

static int zero_host_call(void *arg, struct rk_vm *vm, uint32_t vcpu, uint32_t imm, uint64_t gp[31])
{
	uint64_t *count = arg;

	(void)vm, (void)vcpu, (void)imm;
	(*count)++;
	memset(gp, 0, 31 * sizeof(uint64_t));
	return 0;
}

/* Accept every other RIPAS change (deterministic: by the base address). */
static bool ripas_policy(void *arg, struct rk_vm *vm, uint32_t vcpu, uint64_t base, uint64_t top,
			 unsigned int ripas)
{
	(void)arg, (void)vm, (void)vcpu, (void)top, (void)ripas;
	return ((base >> 12) & 1) == 0;
}

/* Build and run the fuzz realm for seed; its NCALLS results (x0, x1) in out. */
static void run_once(struct rk_host *h, uint64_t seed, uint64_t *out, uint64_t *host_calls)
{
	const size_t image_len = TABLE_OFF + NCALLS * 64;
	uint8_t *image = calloc(1, image_len);
	struct rk_plan_memslot slots[2] = {
		{ RAM, RAM_SIZE, 0, 0 },
		{ SHARED_IPA, SHARED_SIZE, RK_MEMSLOT_SHARED, 0 },
	};
	struct rk_plan_load load = { RAM, NULL, image_len, RK_POPULATE_MEASURE, 0 };
	struct rk_vcpu_config vc;
	struct rk_vm_plan p;
	struct rk_vm_run_info info;
	struct rk_vm *vm;
	int ret;

	assert_non_null(image);
	rng = seed;
	t_smc_table_program((uint32_t *)image, RAM + TABLE_OFF, NCALLS, SHARED_IPA);
	make_table((uint64_t *)(image + TABLE_OFF));
	load.data = image;
	memset(&vc, 0, sizeof(vc));
	vc.pc = RAM;
	vc.flags = RK_VCPU_RUNNABLE;
	memset(&p, 0, sizeof(p));
	rk_vm_config_default(&p.config, RK_VM_REALM);
	p.config.ipa_bits = RK_GUEST_S2SZ;
	p.memslots = slots;
	p.nmemslots = 2;
	p.loads = &load;
	p.nloads = 1;
	p.vcpus = &vc;
	p.nvcpus = 1;
	assert_int_equal(rk_vm_create_from_plan(h, &p, &vm), 0);
	rk_vm_set_host_call_handler(vm, zero_host_call, host_calls);
	rk_vm_set_ripas_policy(vm, ripas_policy, NULL);
	ret = rk_vm_run(vm, 120000);
	rk_vm_get_run_info(vm, &info);
	if (ret || info.reason != RK_STOP_SYSTEM_OFF)
		fail_msg("seed %llu: the realm did not get through its calls: %s", (unsigned long long)seed,
			 info.msg);
	assert_int_equal(rk_vm_read_mem(vm, SHARED_IPA, out, NCALLS * 16), 0);
	assert_int_equal(rk_vm_destroy(vm), 0);
	rk_vm_free(vm);

	/* every status is one its function can return */
	rng = seed;
	make_table((uint64_t *)(image + TABLE_OFF));
	const uint64_t *t = (const uint64_t *)(image + TABLE_OFF);
	for (unsigned int i = 0; i < NCALLS; i++)
		if (!t_smc_status_valid(t[8 * i], out[2 * i]))
			fail_msg("seed %llu, call %u: FID 0x%llx (x1 0x%llx x2 0x%llx) returned x0 = 0x%llx",
				 (unsigned long long)seed, i, (unsigned long long)t[8 * i],
				 (unsigned long long)t[8 * i + 1], (unsigned long long)t[8 * i + 2],
				 (unsigned long long)out[2 * i]);
	free(image);
}

static void test_rsi_fuzz(void **state)
{
	static const uint64_t seeds[] = { 1, 0x5eed, 0xdeadbeef };
	struct rk_machine *m = t_machine(128);
	struct rk_host_stats st;
	struct rk_host *h;

	(void)state;
	assert_int_equal(rk_host_create(m, NULL, &h), 0);
	for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		uint64_t *a = calloc(NCALLS, 16), *b = calloc(NCALLS, 16), calls_a = 0, calls_b = 0;
		unsigned int ok = 0;

		assert_non_null(a);
		assert_non_null(b);
		run_once(h, seeds[s], a, &calls_a);
		run_once(h, seeds[s], b, &calls_b);
		assert_memory_equal(a, b, NCALLS * 16); /* the same calls, the same answers */
		assert_int_equal(calls_a, calls_b);
		for (unsigned int i = 0; i < NCALLS; i++)
			ok += a[2 * i] == 0;
		/* not only errors: some calls succeeded (the plausible ones, the versions) */
		assert_true(ok > NCALLS / 50);
		assert_true(calls_a > 0); /* host calls reached the host */
		print_message("seed 0x%llx: %u calls, %u returned 0, %llu host calls\n",
			      (unsigned long long)seeds[s], NCALLS, ok, (unsigned long long)calls_a);
		free(a);
		free(b);
	}
	rk_host_get_stats(h, &st);
	assert_int_equal(st.granules_leaked, 0);
	assert_int_equal(st.ledger_errors, 0);
	assert_int_equal(st.shadow_mismatches, 0);
	rk_host_destroy(h);
	t_assert_all_undelegated(m);
	rk_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsi_fuzz),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
