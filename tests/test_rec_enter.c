/* SPDX-License-Identifier: MIT */
/*
 * REC_ENTER end to end with a hand-assembled realm: RSI calls answered in the
 * RMM, MMIO exits (store and load, EMULATED_MMIO completion), a host call,
 * a stage-2 fault on unmapped RAM resolved by the host, SEA on EMPTY memory,
 * PSCI SYSTEM_OFF, and the entry conditions of the reference (section 6.3).
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "a64.h"
#include "realmkit/attest.h"
#include "machine.h"
#include "rk_test.h"
#include "rmm/realm.h"

#define RD_PA (T_DRAM_BASE + 0x100000)
#define ROOT_PA (RD_PA + 2 * G)
#define L2_PA (RD_PA + 4 * G)
#define L3_PA (RD_PA + 5 * G)
#define REC_PA (RD_PA + 8 * G)
#define AUX_PA (RD_PA + 32 * G)
#define CODE_PA (RD_PA + 64 * G)
#define HC_PA (RD_PA + 65 * G)
#define LATE_PA (RD_PA + 66 * G)
#define PARAMS_PA (T_DRAM_BASE + 0x200000)
#define RECP_PA (PARAMS_PA + G)
#define LIST_PA (PARAMS_PA + 2 * G)
#define SRC_PA (PARAMS_PA + 3 * G)
#define RUN_PA (PARAMS_PA + 4 * G)

#define CODE_IPA 0x0ULL
#define HC_IPA 0x1000ULL
#define LATE_IPA 0x2000ULL           /* RIPAS RAM, mapped only when the realm touches it */
#define EMPTY_IPA 0x100000ULL        /* RIPAS EMPTY */
#define MMIO_IPA (1ULL << 39)        /* unprotected, unmapped: emulatable MMIO */

static struct rk_machine *m;

/* One REC_ENTER. */
static uint64_t enter_once(struct rmi_rec_exit *ex, uint64_t flags, uint64_t gpr0)
{
	static struct rmi_rec_enter en;
	uint64_t x0;

	memset(&en, 0, sizeof(en));
	en.flags = flags;
	en.gprs[0] = gpr0;
	t_write(m, RUN_PA, &en, sizeof(en));
	x0 = RMI(m, RMI_FID_REC_ENTER, NULL, REC_PA, RUN_PA);
	t_read(m, RUN_PA + 0x800, ex, sizeof(*ex));
	return x0;
}

/* REC_ENTER until an exit other than IRQ (time slice), as a host run loop does. */
static uint64_t enter(struct rmi_rec_exit *ex, uint64_t flags, uint64_t gpr0)
{
	uint64_t x0 = enter_once(ex, flags, gpr0);

	while (x0 == RMI_SUCCESS && ex->exit_reason == RMI_EXIT_IRQ)
		x0 = enter_once(ex, 0, 0);
	return x0;
}

static unsigned int slice_us; /* 0: the machine's default */

static void build_realm(const uint32_t *code, size_t n)
{
	static struct rmi_rec_params rp;
	uint8_t page[4096] = { 0 };
	struct rk_machine_config cfg;
	struct rmi_out o;

	rk_machine_config_default(&cfg);
	cfg.dram_size = 64ULL << 20;
	cfg.rec_time_slice_us = slice_us;
	m = t_machine_cfg(&cfg, true);
	assert_int_equal(t_realm_create(m, RD_PA, ROOT_PA, 40, 1, 2, PARAMS_PA, RMI_HASH_SHA_256), RMI_SUCCESS);
	t_delegate(m, L2_PA, 2);
	assert_int_equal(RMI(m, RMI_FID_RTT_CREATE, NULL, RD_PA, L2_PA, 0ULL, 2ULL), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_RTT_CREATE, NULL, RD_PA, L3_PA, 0ULL, 3ULL), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_RTT_INIT_RIPAS, &o, RD_PA, 0ULL, 0x10000ULL), RMI_SUCCESS);
	memcpy(page, code, n * 4);
	t_write(m, SRC_PA, page, sizeof(page));
	t_delegate(m, CODE_PA, 3);
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_MAP_INIT, NULL, RD_PA, CODE_PA, CODE_IPA, SRC_PA, 1ULL), RMI_SUCCESS);
	memset(page, 0, sizeof(page));
	t_write(m, SRC_PA, page, sizeof(page));
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_MAP_INIT, NULL, RD_PA, HC_PA, HC_IPA, SRC_PA, 0ULL), RMI_SUCCESS);
	memset(&rp, 0, sizeof(rp));
	rp.flags = 1;
	rp.pc = CODE_IPA;
	t_write(m, RECP_PA, &rp, sizeof(rp));
	t_delegate(m, REC_PA, 1);
	t_delegate(m, AUX_PA, 16);
	assert_int_equal(RMI(m, RMI_FID_REC_CREATE, &o, RD_PA, REC_PA, RECP_PA), RMI_INCOMPLETE | (1u << 8));
	uint64_t h = o.x[1], list[16];
	for (int i = 0; i < 16; i++)
		list[i] = (AUX_PA + i * G) | (1ULL << 2);
	t_write(m, LIST_PA, list, sizeof(list));
	assert_int_equal(RMI(m, RMI_FID_OP_MEM_DONATE, &o, h, LIST_PA, 16ULL), RMI_INCOMPLETE);
	assert_int_equal(RMI(m, RMI_FID_OP_CONTINUE, &o, h, 0ULL), RMI_SUCCESS);
}

static void test_not_active(void **state)
{
	uint32_t code[] = { A64_B_SELF };
	struct rmi_rec_exit ex;

	(void)state;
	build_realm(code, 1);
	assert_int_equal(enter(&ex, 0, 0), RMI_ERROR_REALM); /* NEW */
	assert_int_equal(RMI(m, RMI_FID_REALM_ACTIVATE, NULL, RD_PA), RMI_SUCCESS);
	/* run page not NS, REC not a REC, flags without the matching exit */
	assert_int_equal(RMI(m, RMI_FID_REC_ENTER, NULL, REC_PA, CODE_PA), RMI_ERROR_INPUT);
	assert_int_equal(RMI(m, RMI_FID_REC_ENTER, NULL, RD_PA, RUN_PA), RMI_ERROR_INPUT);
	assert_int_equal(enter(&ex, 1 /* EMULATED_MMIO */, 0), RMI_ERROR_REC);
	assert_int_equal(enter(&ex, 2 /* INJECT_SEA */, 0), RMI_ERROR_REC);
	/* an endless loop ends with an IRQ exit at the time slice */
	assert_int_equal(enter_once(&ex, 0, 0), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_IRQ);
	rk_machine_destroy(m);
}

static void test_rsi_mmio_hostcall_off(void **state)
{
	uint32_t c[128];
	unsigned int n = 0;
	struct rmi_rec_exit ex;

	(void)state;
	n += a64_mov64(&c[n], 20, MMIO_IPA);
	/* RSI_VERSION(1.1) -> store x0, x2 */
	n += a64_mov64(&c[n], 0, RSI_FID_VERSION);
	n += a64_mov64(&c[n], 1, 0x10001);
	c[n++] = A64_SMC;
	c[n++] = a64_str(0, 20);
	c[n++] = a64_str(2, 20);
	/* RSI_MEASUREMENT_READ(0) -> store x1 (first 8 bytes of the RIM) */
	n += a64_mov64(&c[n], 0, RSI_FID_MEASUREMENT_READ);
	n += a64_mov64(&c[n], 1, 0);
	c[n++] = A64_SMC;
	c[n++] = a64_str(1, 20);
	/* load from MMIO, add 1, store it back */
	c[n++] = a64_ldr(5, 20);
	c[n++] = a64_add_imm(5, 5, 1);
	c[n++] = a64_str(5, 20);
	/* host call: imm 0x77 at HC_IPA with gprs[0] = 0x1234 */
	n += a64_mov64(&c[n], 1, HC_IPA);
	n += a64_mov64(&c[n], 2, 0x77);
	c[n++] = a64_str(2, 1);
	n += a64_mov64(&c[n], 3, 0x1234);
	c[n++] = a64_add_imm(4, 1, 8);
	c[n++] = a64_str(3, 4);
	n += a64_mov64(&c[n], 0, RSI_FID_HOST_CALL);
	c[n++] = A64_SMC;
	c[n++] = a64_str(0, 20);        /* RSI status */
	c[n++] = a64_ldr(6, 4);         /* gprs[0] as the host left it */
	c[n++] = a64_str(6, 20);
	/* touch LATE_IPA (RAM, not mapped): the host maps it, the load completes */
	n += a64_mov64(&c[n], 7, LATE_IPA);
	c[n++] = a64_ldr(8, 7);
	c[n++] = a64_str(8, 20);
	/* PSCI SYSTEM_OFF */
	n += a64_mov64(&c[n], 0, 0x84000008);
	c[n++] = A64_SMC;
	c[n++] = A64_B_SELF;

	build_realm(c, n);
	assert_int_equal(RMI(m, RMI_FID_REALM_ACTIVATE, NULL, RD_PA), RMI_SUCCESS);

	/* RSI_VERSION results, stored to MMIO */
	assert_int_equal(enter(&ex, 0, 0), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
	assert_int_equal(ex.esr >> 26, 0x24);              /* data abort from a lower EL */
	assert_true(ex.esr & (1u << 24));                  /* ISV */
	assert_true(ex.esr & (1u << 6));                   /* WnR */
	assert_int_equal((ex.esr >> 22) & 3, 3);           /* 64-bit access */
	assert_int_equal(ex.hpfar, (MMIO_IPA >> 12) << 4);
	assert_int_equal(ex.far, 0);
	assert_int_equal(ex.gprs[0], RSI_SUCCESS);
	assert_int_equal(enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], 0x10001);              /* higher revision */

	/* RIM first word */
	struct rmm *rmm = machine_rmm(m);
	uint64_t rim0;
	memcpy(&rim0, rd_of(rmm, granule_from_pa(rmm, RD_PA))->rim, 8);
	assert_int_equal(enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], rim0);

	/* MMIO load: the host answers 41, the realm stores 42 */
	assert_int_equal(enter(&ex, 1, 0), RMI_SUCCESS);
	assert_false(ex.esr & (1u << 6));                  /* a read */
	assert_int_equal((ex.esr >> 16) & 31, 0);          /* SRT hidden: the RMM writes x5 */
	assert_int_equal(enter(&ex, 1, 41), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], 42);

	/* host call */
	assert_int_equal(enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_HOST_CALL);
	assert_int_equal(ex.imm, 0x77);
	assert_int_equal(ex.gprs[0], 0x1234);
	assert_int_equal(enter(&ex, 0, 0xabcd), RMI_SUCCESS); /* enter.gprs[0] goes to the struct */
	assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
	assert_int_equal(ex.gprs[0], RSI_SUCCESS);
	assert_int_equal(enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], 0xabcd);

	/* stage-2 fault at LATE_IPA: not emulatable, goes to the host */
	assert_int_equal(enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
	assert_int_equal(ex.esr >> 26, 0x24);
	assert_false(ex.esr & (1u << 24));                 /* no ISV */
	assert_int_equal(ex.hpfar, (LATE_IPA >> 12) << 4);
	uint64_t magic = 0x5eed5eed5eed5eedULL;
	t_write(m, SRC_PA, &magic, sizeof(magic));
	assert_int_equal(RMI(m, RMI_FID_RTT_DATA_MAP, NULL, RD_PA, LATE_IPA, LATE_IPA + G,
			     (uint64_t)RMI_ADDR_TYPE_SINGLE, LATE_PA | (1ULL << 2)), RMI_SUCCESS);
	assert_int_equal(enter(&ex, 2 /* INJECT_SEA: refused, last exit was not at an unprotected IPA */, 0),
			 RMI_ERROR_REC);
	assert_int_equal(enter(&ex, 0, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], 0);                   /* DATA_MAP memory reads as zero */

	/* SYSTEM_OFF */
	assert_int_equal(enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_PSCI);
	assert_int_equal(ex.gprs[0], 0x84000008);
	assert_int_equal(enter(&ex, 0, 0), RMI_ERROR_REALM);

	t_check_gpt_consistent(m, NULL);
	rk_machine_destroy(m);
}

static void test_sea_on_empty(void **state)
{
	uint32_t c[64];
	unsigned int n = 0;
	struct rmi_rec_exit ex;

	(void)state;
	n += a64_mov64(&c[n], 20, MMIO_IPA);
	/* vector table at 0x800: its current-EL sync entry (0x800 + 0x200) stores ESR to MMIO */
	n += a64_mov64(&c[n], 1, 0x800);
	c[n++] = 0xD518C001u; /* msr vbar_el1, x1 */
	n += a64_mov64(&c[n], 2, EMPTY_IPA);
	c[n++] = a64_ldr(3, 2); /* RIPAS EMPTY: SEA */
	c[n++] = A64_B_SELF;
	build_realm(c, n);
	/* the vector: mrs x9, esr_el1; str x9, [x20]; b . */
	uint32_t vec[3] = { 0xD5385209u, a64_str(9, 20), A64_B_SELF };
	(void)vec;
	rk_machine_destroy(m);

	uint32_t all[1024] = { 0 };
	memcpy(all, c, n * 4);
	memcpy(&all[(0x800 + 0x200) / 4], vec, sizeof(vec));
	build_realm(all, 1024);
	assert_int_equal(RMI(m, RMI_FID_REALM_ACTIVATE, NULL, RD_PA), RMI_SUCCESS);
	assert_int_equal(enter(&ex, 0, 0), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
	assert_int_equal((ex.gprs[0] >> 26) & 0x3f, 0x25);  /* data abort, current EL */
	assert_int_equal(ex.gprs[0] & 0x3f, 0x10);           /* synchronous external abort */
	rk_machine_destroy(m);
}

static void test_attest_token(void **state)
{
	uint32_t c[256];
	unsigned int n = 0;
	struct rmi_rec_exit ex;
	uint8_t challenge[64];

	(void)state;
	for (int i = 0; i < 64; i++)
		challenge[i] = (uint8_t)(0xc0 + i);
	n += a64_mov64(&c[n], 20, MMIO_IPA);
	n += a64_mov64(&c[n], 0, RSI_FID_ATTEST_TOKEN_CONTINUE); /* before INIT: ERROR_STATE */
	n += a64_mov64(&c[n], 1, HC_IPA);
	n += a64_mov64(&c[n], 2, 0);
	n += a64_mov64(&c[n], 3, 4096);
	c[n++] = A64_SMC;
	c[n++] = a64_str(0, 20);
	n += a64_mov64(&c[n], 0, RSI_FID_ATTEST_TOKEN_INIT);
	for (unsigned int r = 0; r < 8; r++) {
		uint64_t w;
		memcpy(&w, &challenge[8 * r], 8);
		n += a64_mov64(&c[n], 1 + r, w);
	}
	c[n++] = A64_SMC;
	c[n++] = a64_str(0, 20);
	c[n++] = a64_str(1, 20);
	/* CONTINUE into HC_IPA: 100 bytes, then the rest */
	n += a64_mov64(&c[n], 0, RSI_FID_ATTEST_TOKEN_CONTINUE);
	n += a64_mov64(&c[n], 1, HC_IPA);
	n += a64_mov64(&c[n], 2, 0);
	n += a64_mov64(&c[n], 3, 100);
	c[n++] = A64_SMC;
	c[n++] = a64_str(0, 20);
	c[n++] = a64_str(1, 20);
	n += a64_mov64(&c[n], 0, RSI_FID_ATTEST_TOKEN_CONTINUE);
	n += a64_mov64(&c[n], 1, HC_IPA);
	n += a64_mov64(&c[n], 2, 100);
	n += a64_mov64(&c[n], 3, 4096 - 100);
	c[n++] = A64_SMC;
	c[n++] = a64_str(0, 20);
	c[n++] = a64_str(1, 20);
	c[n++] = A64_B_SELF;
	build_realm(c, n);
	assert_int_equal(RMI(m, RMI_FID_REALM_ACTIVATE, NULL, RD_PA), RMI_SUCCESS);

	assert_int_equal(enter(&ex, 0, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], RSI_ERROR_STATE);
	assert_int_equal(enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], RSI_SUCCESS);
	assert_int_equal(enter(&ex, 1, 0), RMI_SUCCESS);
	uint64_t size = ex.gprs[0];
	assert_true(size > 100 && size < 4096);
	assert_int_equal(enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], RSI_INCOMPLETE);
	assert_int_equal(enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], 100);
	assert_int_equal(enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], RSI_SUCCESS);
	assert_int_equal(enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], size - 100);

	/* the test looks inside the realm page, then verifies like a relying party */
	struct rmm *rmm = machine_rmm(m);
	const uint8_t *tok = granule_ptr(rmm, granule_from_pa(rmm, HC_PA));
	struct rk_verify_opts opts = { .cpak = rk_machine_cpak(m), .expected_challenge = challenge,
				       .expected_challenge_len = 64,
				       .expected_rim = rd_of(rmm, granule_from_pa(rmm, RD_PA))->rim,
				       .expected_rim_len = 32 };
	struct rk_token_claims claims;
	struct rk_verify_error err;
	assert_non_null(opts.cpak);
	assert_int_equal(rk_token_verify(tok, size, &opts, &claims, &err), 0);
	assert_int_equal(claims.format, RK_TOKEN_FORMAT_2_0);
	assert_int_equal(claims.platform_signature, RK_SIG_VALID);
	rk_token_claims_release(&claims);
	rk_machine_destroy(m);
}

/* An NS page the realm has used stops being reachable once the host delegates it. */
static void test_ns_page_delegated_under_realm(void **state)
{
	const uint64_t ns_ipa = MMIO_IPA + 0x200000, ns_pa = PARAMS_PA + 8 * G;
	const uint64_t ns_l2 = RD_PA + 80 * G, ns_l3 = RD_PA + 81 * G;
	uint32_t c[64];
	unsigned int n = 0, loop;
	struct rmi_rec_exit ex;
	uint64_t v = 0x1111222233334444ULL;

	(void)state;
	n += a64_mov64(&c[n], 20, MMIO_IPA);
	n += a64_mov64(&c[n], 21, ns_ipa);
	loop = n;
	c[n++] = a64_ldr(5, 21);
	c[n++] = a64_str(5, 20);
	c[n] = 0x14000000u | ((uint32_t)(loop - n) & 0x3ffffff); /* b loop */
	n++;
	build_realm(c, n);
	t_write(m, ns_pa, &v, sizeof(v));
	t_delegate(m, ns_l2, 2);
	assert_int_equal(RMI(m, RMI_FID_RTT_CREATE, NULL, RD_PA, ns_l2, MMIO_IPA, 2ULL), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_RTT_CREATE, NULL, RD_PA, ns_l3, ns_ipa, 3ULL), RMI_SUCCESS);
	uint64_t flags = (uint64_t)RMI_ADDR_TYPE_SINGLE | (6ULL << 16) | (3ULL << 19); /* Normal WB, RW */
	assert_int_equal(RMI(m, RMI_FID_RTT_UNPROT_MAP, NULL, RD_PA, ns_ipa, ns_ipa + G, flags,
			     ns_pa | (1ULL << 2) | (1ULL << 63)), RMI_SUCCESS);
	assert_int_equal(RMI(m, RMI_FID_REALM_ACTIVATE, NULL, RD_PA), RMI_SUCCESS);

	/* the realm reads the NS page and stores what it saw */
	assert_int_equal(enter(&ex, 0, 0), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
	assert_int_equal(ex.gprs[0], v);
	assert_int_equal(enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], v);
	/* the host delegates it: the realm now faults instead of reading it */
	t_delegate(m, ns_pa, 1);
	assert_int_equal(enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
	assert_int_equal(ex.esr & 0x3f, 0x28);      /* granule protection fault */
	assert_int_equal(ex.hpfar, (ns_ipa >> 12) << 4);
	assert_false(ex.esr & (1u << 6));           /* a load, not the realm's MMIO store */
	rk_machine_destroy(m);
}

/* A host IPI (rk_smc_kick_rec) ends a REC_ENTER long before its time slice. */
struct kick_run {
	struct rmi_rec_exit ex;
	uint64_t x0;
	double secs;
	int done;
};

static double secs_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *kick_runner(void *arg)
{
	struct kick_run *k = arg;
	double t0 = secs_now();

	k->x0 = enter_once(&k->ex, 0, 0);
	k->secs = secs_now() - t0;
	__atomic_store_n(&k->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_host_kick(void **state)
{
	uint32_t code[] = { A64_B_SELF };
	struct kick_run k = { .done = 0 };
	pthread_t t;

	(void)state;
	slice_us = 120000000; /* 120 s: only a kick can end the entry before that */
	build_realm(code, 1);
	slice_us = 0;
	assert_int_equal(RMI(m, RMI_FID_REALM_ACTIVATE, NULL, RD_PA), RMI_SUCCESS);
	rk_smc_kick_rec(m, REC_PA); /* not running: nothing happens, nothing breaks */
	assert_int_equal(pthread_create(&t, NULL, kick_runner, &k), 0);
	/* kick until the entry is over (the first kicks may come before it starts) */
	for (int i = 0; i < 200; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		rk_smc_kick_rec(m, REC_PA);
		if (__atomic_load_n(&k.done, __ATOMIC_ACQUIRE))
			break;
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(k.x0, RMI_SUCCESS);
	assert_int_equal(k.ex.exit_reason, RMI_EXIT_IRQ);
	assert_true(k.secs < 60.0); /* the kick ended it, not the slice (however loaded the machine) */
	rk_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsi_mmio_hostcall_off),
		cmocka_unit_test(test_sea_on_empty),
		cmocka_unit_test(test_not_active),
		cmocka_unit_test(test_attest_token),
		cmocka_unit_test(test_ns_page_delegated_under_realm),
		cmocka_unit_test(test_host_kick),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
