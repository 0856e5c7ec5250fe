/* SPDX-License-Identifier: MIT */
/*
 * REC_CREATE / REC_DESTROY as stateful RMI operations (2.0-bet1): donation,
 * reclaim, OP_CONTINUE, the expected-next-call rule, failure after donation,
 * pool exhaustion, the lock order against a concurrent REC_DESTROY, and the
 * RIM extension of a runnable REC (worked example of the ABI digest, section
 * 16.5).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "machine.h"
#include "rk_test.h"
#include "rmm/realm.h"

#define RD_PA (T_DRAM_BASE + 0x100000)
#define ROOT_PA (RD_PA + 2 * G)
#define L2_PA (RD_PA + 4 * G)
#define L3_PA (RD_PA + 5 * G)
#define REC_PA (RD_PA + 8 * G)
#define AUX_PA (RD_PA + 32 * G)    /* 64 granules for donation */
#define DATA_PA (RD_PA + 128 * G)
#define PARAMS_PA (T_DRAM_BASE + 0x200000)
#define RECP_PA (PARAMS_PA + G)
#define LIST_PA (PARAMS_PA + 2 * G)
#define SRC_PA (PARAMS_PA + 3 * G)

#define INCOMPLETE_DONATE (RMI_INCOMPLETE | (1u << 8))
#define INCOMPLETE_RECLAIM (RMI_INCOMPLETE | (2u << 8))
#define INCOMPLETE_NONE RMI_INCOMPLETE

static struct rk_machine *m;

static int setup(void **state)
{
	(void)state;
	m = t_machine(64);
	assert_int_equal(t_realm_create(m, RD_PA, ROOT_PA, 40, 1, 2, PARAMS_PA, RMI_HASH_SHA_256), RMI_SUCCESS);
	t_delegate(m, AUX_PA, 64);
	t_delegate(m, REC_PA, 4);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rk_machine_destroy(m);
	return 0;
}

static void write_rec_params(uint64_t flags, uint64_t mpidr, uint64_t pc, uint64_t x0)
{
	static struct rmi_rec_params p;

	memset(&p, 0, sizeof(p));
	p.flags = flags;
	p.mpidr = mpidr;
	p.pc = pc;
	p.gprs[0] = x0;
	t_write(m, RECP_PA, &p, sizeof(p));
}

/* n descriptors of one 4 KiB DELEGATED granule each, from pa */
static void write_list(uint64_t pa, unsigned int n)
{
	uint64_t list[64];

	for (unsigned int i = 0; i < n; i++)
		list[i] = (pa + i * G) | (1ULL << 2);
	t_write(m, LIST_PA, list, n * sizeof(uint64_t));
}

static uint64_t donate_all(uint64_t handle, uint64_t aux)
{
	struct rmi_out o;

	write_list(aux, 16);
	assert_int_equal(RMI(m, RMI_FID_OP_MEM_DONATE, &o, handle, LIST_PA, 16ULL), INCOMPLETE_NONE);
	assert_int_equal(o.x[1], 16);
	return RMI(m, RMI_FID_OP_CONTINUE, &o, handle, 0ULL);
}

static uint64_t rec_create(uint64_t rec, uint64_t aux, struct rmi_out *o)
{
	uint64_t x0 = RMI(m, RMI_FID_REC_CREATE, o, RD_PA, rec, RECP_PA);

	if (x0 != INCOMPLETE_DONATE)
		return x0;
	assert_int_equal(o->x[2], 16ULL << 2); /* 16 x 4 KiB, non-contiguous, DELEGATED */
	return donate_all(o->x[1], aux);
}

static void rec_destroy_ok(uint64_t rec)
{
	struct rmi_out o;
	uint64_t list[16], h;

	assert_int_equal(RMI(m, RMI_FID_REC_DESTROY, &o, rec), INCOMPLETE_RECLAIM);
	h = o.x[1];
	assert_int_equal(RMI(m, RMI_FID_OP_MEM_RECLAIM, &o, h, LIST_PA, 16ULL), INCOMPLETE_NONE);
	assert_int_equal(o.x[1], 16);
	t_read(m, LIST_PA, list, sizeof(list));
	for (int i = 0; i < 16; i++) {
		assert_int_equal(list[i] >> 63, 0);            /* DELEGATED */
		assert_int_equal((list[i] >> 2) & 0x3ff, 1);   /* one granule */
		assert_int_equal(t_gstate(m, list[i] & ~0xfffULL), GRANULE_STATE_DELEGATED);
	}
	assert_int_equal(RMI(m, RMI_FID_OP_CONTINUE, &o, h, 0ULL), RMI_SUCCESS);
	assert_int_equal(t_gstate(m, rec), GRANULE_STATE_DELEGATED);
}

static void test_create_destroy(void **state)
{
	struct rmi_out o;

	(void)state;
	write_rec_params(1, 0, 0x1000, 0);
	assert_int_equal(rec_create(REC_PA, AUX_PA, &o), RMI_SUCCESS);
	assert_int_equal(t_gstate(m, REC_PA), GRANULE_STATE_REC);
	for (int i = 0; i < 16; i++)
		assert_int_equal(t_gstate(m, AUX_PA + i * G), GRANULE_STATE_REC_AUX);
	/* a live REC keeps the realm from being destroyed */
	assert_int_equal(RMI(m, RMI_FID_REALM_TERMINATE, NULL, RD_PA), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_REALM_DESTROY, NULL, RD_PA), RMI_ERROR_REALM);
	rec_destroy_ok(REC_PA);
	assert_int_equal(RMI(m, RMI_FID_REALM_DESTROY, NULL, RD_PA), RMI_SUCCESS);
	t_check_gpt_consistent(m, NULL);
}

static void test_rim_after_rec(void **state)
{
	static const uint8_t rim2[32] = {
		0xd7, 0x1c, 0x60, 0x3b, 0x0f, 0x2c, 0x88, 0xad, 0x1b, 0xc7, 0xe3, 0xe7, 0x6f, 0x6f, 0xd2, 0xda,
		0x72, 0x5b, 0xef, 0xf4, 0xd4, 0x3e, 0x87, 0x61, 0x7e, 0x9c, 0xfe, 0x51, 0x7e, 0x28, 0x25, 0xfd,
	};
	uint8_t page[4096];
	struct rmi_out o;

	(void)state;
	for (int i = 0; i < 4096; i++)
		page[i] = (uint8_t)i;
	t_write(m, SRC_PA, page, sizeof(page));
	t_delegate(m, L2_PA, 2);
	t_delegate(m, DATA_PA, 1);
	assert_int_equal(RMI(m, RMI_FID_RTT_CREATE, NULL, RD_PA, L2_PA, 0x80000000ULL, 2ULL), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_RTT_CREATE, NULL, RD_PA, L3_PA, 0x80000000ULL, 3ULL), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_MAP_INIT, NULL, RD_PA, DATA_PA, 0x80000000ULL, SRC_PA,
			     (uint64_t)RMI_MEASURE_CONTENT), RMI_SUCCESS);
	write_rec_params(1, 0, 0x80000000, 0x80200000);
	assert_int_equal(rec_create(REC_PA, AUX_PA, &o), RMI_SUCCESS);
	struct rmm *rmm = machine_rmm(m);
	assert_memory_equal(rd_of(rmm, granule_from_pa(rmm, RD_PA))->rim, rim2, 32);
	/* a second, non-runnable REC does not extend the RIM */
	write_rec_params(0, 1, 0x80000000, 0);
	assert_int_equal(rec_create(REC_PA + G, AUX_PA + 16 * G, &o), RMI_SUCCESS);
	assert_memory_equal(rd_of(rmm, granule_from_pa(rmm, RD_PA))->rim, rim2, 32);
}

static void test_protocol_errors(void **state)
{
	struct rmi_out o;
	uint64_t h;

	(void)state;
	write_rec_params(0, 0, 0, 0);
	/* REC granule not DELEGATED */
	assert_int_equal(RMI(m, RMI_FID_REC_CREATE, &o, RD_PA, REC_PA + 8 * G, RECP_PA), RMI_ERROR_INPUT);
	assert_int_equal(RMI(m, RMI_FID_REC_CREATE, &o, RD_PA, REC_PA, RECP_PA), INCOMPLETE_DONATE);
	h = o.x[1];
	assert_int_equal(t_gstate(m, REC_PA), GRANULE_STATE_PARTIAL);
	/* wrong next call, unknown handle, unaligned list */
	assert_int_equal(RMI(m, RMI_FID_OP_CONTINUE, &o, h, 0ULL), RMI_ERROR_INPUT);
	assert_int_equal(RMI(m, RMI_FID_OP_MEM_RECLAIM, &o, h, LIST_PA, 16ULL), RMI_ERROR_INPUT);
	assert_int_equal(RMI(m, RMI_FID_OP_MEM_DONATE, &o, h + 1, LIST_PA, 16ULL), RMI_ERROR_INPUT);
	assert_int_equal(RMI(m, RMI_FID_OP_MEM_DONATE, &o, 1000ULL, LIST_PA, 16ULL), RMI_ERROR_INPUT);
	assert_int_equal(RMI(m, RMI_FID_OP_MEM_DONATE, &o, h, LIST_PA + 4, 16ULL), RMI_ERROR_INPUT);
	/* too much, wrong state marker, not delegated: nothing is taken */
	write_list(AUX_PA, 17);
	assert_int_equal(RMI(m, RMI_FID_OP_MEM_DONATE, &o, h, LIST_PA, 17ULL), RMI_ERROR_INPUT);
	uint64_t bad[2] = { AUX_PA | (1ULL << 2) | (1ULL << 63), 0 };
	t_write(m, LIST_PA, bad, sizeof(bad));
	assert_int_equal(RMI(m, RMI_FID_OP_MEM_DONATE, &o, h, LIST_PA, 1ULL), RMI_ERROR_INPUT);
	uint64_t mixed[2] = { AUX_PA | (1ULL << 2), PARAMS_PA | (1ULL << 2) };
	t_write(m, LIST_PA, mixed, sizeof(mixed));
	assert_int_equal(RMI(m, RMI_FID_OP_MEM_DONATE, &o, h, LIST_PA, 2ULL), RMI_ERROR_INPUT);
	assert_int_equal(t_gstate(m, AUX_PA), GRANULE_STATE_DELEGATED);
	/* donation in two parts */
	write_list(AUX_PA, 10);
	assert_int_equal(RMI(m, RMI_FID_OP_MEM_DONATE, &o, h, LIST_PA, 10ULL), INCOMPLETE_DONATE);
	assert_int_equal(o.x[1], 10);
	assert_int_equal(o.x[2], 6ULL << 2);
	write_list(AUX_PA + 10 * G, 6);
	assert_int_equal(RMI(m, RMI_FID_OP_MEM_DONATE, &o, h, LIST_PA, 6ULL), INCOMPLETE_NONE);
	assert_int_equal(RMI(m, RMI_FID_OP_MEM_DONATE, &o, h, LIST_PA, 6ULL), RMI_ERROR_INPUT);
	assert_int_equal(RMI(m, RMI_FID_OP_CANCEL, &o, h), RMI_ERROR_INPUT);
	assert_int_equal(RMI(m, RMI_FID_OP_CONTINUE, &o, h, 0ULL), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_OP_CONTINUE, &o, h, 0ULL), RMI_ERROR_INPUT); /* handle is gone */
	/* REC_DESTROY of something that is not a REC */
	assert_int_equal(RMI(m, RMI_FID_REC_DESTROY, &o, RD_PA), RMI_ERROR_INPUT);
	rec_destroy_ok(REC_PA);
	t_check_gpt_consistent(m, NULL);
}

/* A create that fails after donation gives the memory back, then reports the error. */
static void check_failed_create(uint64_t want)
{
	struct rmi_out o;
	uint64_t h, list[16];

	assert_int_equal(RMI(m, RMI_FID_REC_CREATE, &o, RD_PA, REC_PA, RECP_PA), INCOMPLETE_DONATE);
	h = o.x[1];
	assert_int_equal(donate_all(h, AUX_PA), INCOMPLETE_RECLAIM);
	assert_int_equal(RMI(m, RMI_FID_OP_CONTINUE, &o, h, 0ULL), RMI_ERROR_INPUT); /* must reclaim first */
	assert_int_equal(RMI(m, RMI_FID_OP_MEM_RECLAIM, &o, h, LIST_PA, 0ULL), INCOMPLETE_RECLAIM);
	assert_int_equal(o.x[1], 0);
	assert_int_equal(RMI(m, RMI_FID_OP_MEM_RECLAIM, &o, h, LIST_PA, 5ULL), INCOMPLETE_RECLAIM);
	assert_int_equal(o.x[1], 5);
	assert_int_equal(RMI(m, RMI_FID_OP_MEM_RECLAIM, &o, h, LIST_PA, 16ULL), INCOMPLETE_NONE);
	assert_int_equal(o.x[1], 11);
	t_read(m, LIST_PA, list, 11 * sizeof(uint64_t));
	assert_int_equal(RMI(m, RMI_FID_OP_CONTINUE, &o, h, 0ULL), want);
	assert_int_equal(t_gstate(m, REC_PA), GRANULE_STATE_DELEGATED);
	for (int i = 0; i < 16; i++)
		assert_int_equal(t_gstate(m, AUX_PA + i * G), GRANULE_STATE_DELEGATED);
	t_check_gpt_consistent(m, NULL);
}

static void test_failure_after_donation(void **state)
{
	(void)state;
	write_rec_params(0, 1, 0, 0);          /* MPIDR index 1, but no REC 0 yet */
	check_failed_create(RMI_ERROR_INPUT);
	write_rec_params(0, 1ULL << 40, 0, 0); /* MPIDR bits outside the affinity fields */
	check_failed_create(RMI_ERROR_INPUT);
	write_rec_params(0, 0, 0, 0);
	assert_int_equal(RMI(m, RMI_FID_REALM_ACTIVATE, NULL, RD_PA), RMI_SUCCESS);
	check_failed_create(RMI_ERROR_REALM);   /* realm not NEW */
}

static void test_pool_exhaustion(void **state)
{
	struct rmi_out o;
	uint64_t handles[64];
	int n = 0;

	(void)state;
	t_delegate(m, RD_PA + 512 * G, 65);
	write_rec_params(0, 0, 0, 0);
	for (n = 0; n < 64; n++) {
		assert_int_equal(RMI(m, RMI_FID_REC_CREATE, &o, RD_PA, RD_PA + (512 + n) * G, RECP_PA), INCOMPLETE_DONATE);
		handles[n] = o.x[1];
	}
	assert_int_equal(RMI(m, RMI_FID_REC_CREATE, &o, RD_PA, RD_PA + (512 + 64) * G, RECP_PA), RMI_BLOCKED);
	assert_int_equal(t_gstate(m, RD_PA + (512 + 64) * G), GRANULE_STATE_DELEGATED);
	assert_int_equal(RMI(m, RMI_FID_REC_DESTROY, &o, REC_PA), RMI_BLOCKED);
	/* each finishes (MPIDR 0 is taken by the first only) */
	for (int i = 0; i < n; i++) {
		uint64_t x0 = donate_all(handles[i], i == 0 ? AUX_PA : AUX_PA + 16 * G);
		if (i == 0) {
			assert_int_equal(x0, RMI_SUCCESS);
			write_rec_params(0, 5, 0, 0); /* the rest fail: index 5 != 1 */
			continue;
		}
		assert_int_equal(x0, INCOMPLETE_RECLAIM);
		assert_int_equal(RMI(m, RMI_FID_OP_MEM_RECLAIM, &o, handles[i], LIST_PA, 16ULL), INCOMPLETE_NONE);
		assert_int_equal(RMI(m, RMI_FID_OP_CONTINUE, &o, handles[i], 0ULL), RMI_ERROR_INPUT);
	}
}

/*
 * Lock order: the SRO pool before granules. REC_DESTROY (like OP_CONTINUE and
 * OP_MEM_DONATE) locks granules with the pool held; REC_CREATE locked its REC
 * granule and then waited for the pool, so a REC_CREATE and a REC_DESTROY of
 * the same address on two CPUs could each hold what the other waits for, and
 * both CPUs hung in the RMM. Here one CPU creates a REC at X and fails it
 * after donation, over and over (X goes back to DELEGATED each time), while
 * another keeps destroying X. A hang is reported after 20 s without progress.
 */
static atomic_bool order_stop;
static atomic_uint order_cycles, order_bad;

static void *destroy_x(void *arg)
{
	(void)arg;
	while (!atomic_load(&order_stop))
		if (RMI(m, RMI_FID_REC_DESTROY, NULL, REC_PA) != RMI_ERROR_INPUT)
			atomic_fetch_add(&order_bad, 1);
	return NULL;
}

/* One failed REC_CREATE at REC_PA (MPIDR index 1 with no REC 0): true if each step answered as expected. */
static bool create_fail_cycle(void)
{
	struct rmi_out o;
	uint64_t h;

	if (RMI(m, RMI_FID_REC_CREATE, &o, RD_PA, REC_PA, RECP_PA) != INCOMPLETE_DONATE)
		return false;
	h = o.x[1];
	return RMI(m, RMI_FID_OP_MEM_DONATE, &o, h, LIST_PA, 16ULL) == INCOMPLETE_NONE &&
	       RMI(m, RMI_FID_OP_CONTINUE, &o, h, 0ULL) == INCOMPLETE_RECLAIM &&
	       RMI(m, RMI_FID_OP_MEM_RECLAIM, &o, h, LIST_PA + 1024, 16ULL) == INCOMPLETE_NONE &&
	       RMI(m, RMI_FID_OP_CONTINUE, &o, h, 0ULL) == RMI_ERROR_INPUT;
}

static void *create_x(void *arg)
{
	(void)arg;
	for (unsigned int i = 0; i < 3000; i++) {
		if (!create_fail_cycle())
			atomic_fetch_add(&order_bad, 1);
		atomic_fetch_add(&order_cycles, 1);
	}
	atomic_store(&order_stop, true);
	return NULL;
}

static void test_create_destroy_lock_order(void **state)
{
	pthread_t th[2];
	unsigned int last = ~0u;
	time_t since = time(NULL);

	(void)state;
	write_rec_params(0, 1, 0, 0);
	write_list(AUX_PA, 16);
	atomic_store(&order_stop, false);
	atomic_store(&order_cycles, 0);
	atomic_store(&order_bad, 0);
	assert_int_equal(pthread_create(&th[0], NULL, destroy_x, NULL), 0);
	assert_int_equal(pthread_create(&th[1], NULL, create_x, NULL), 0);
	while (!atomic_load(&order_stop)) {
		unsigned int c = atomic_load(&order_cycles);
		if (c != last) {
			last = c;
			since = time(NULL);
		} else if (time(NULL) - since > 20) {
			/* two CPUs deadlocked in the RMM: nothing can be torn down */
			fprintf(stderr, "REC_CREATE / REC_DESTROY deadlock after %u cycles\n", c);
			fflush(NULL);
			_exit(1);
		}
		usleep(10000);
	}
	assert_int_equal(pthread_join(th[0], NULL), 0);
	assert_int_equal(pthread_join(th[1], NULL), 0);
	assert_int_equal(atomic_load(&order_bad), 0);
	assert_int_equal(t_gstate(m, REC_PA), GRANULE_STATE_DELEGATED);
	for (int i = 0; i < 16; i++)
		assert_int_equal(t_gstate(m, AUX_PA + i * G), GRANULE_STATE_DELEGATED);
	t_check_gpt_consistent(m, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rim_after_rec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protocol_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_after_donation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_exhaustion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_destroy_lock_order, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
