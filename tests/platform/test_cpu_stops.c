/* SPDX-License-Identifier: MIT */
/*
 * Exact stops: time slices and kicks from another thread stop a vCPU only at
 * instruction boundaries, with the architectural state of that boundary.
 *
 * The guest loop keeps a counter and a running sum twice, in registers and in
 * memory, with loads and stores between them, so that re-executing part of
 * an iteration (what a stop taken in the middle of a translated block does on
 * Unicorn 2.0.1: PC back at the block start, registers and memory already
 * changed) breaks a relation that holds at every boundary. It runs in short
 * slices while another thread kicks it; at every exit the state must be the
 * one of the boundary at its PC, and at the end both copies must agree with
 * the closed form. Run in stage-2 mode with the guest's MMU off and on, and in
 * hooks mode with it off. Also: a kick that arrives before a run or while it
 * starts, and a kick during an SMC completed in the SMC handler.
 *
 * Every assertion is an eventual outcome (the machine may be loaded): rounds
 * are repeated until enough kick and slice exits were seen.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cpu_util.h"
#include "realmkit/cpu.h"
#include "platform/cpu/cpu_unicorn.h"

#define RAM_IPA 0x80000000ull
#define RAM_SIZE 0x10000ull
#define MMU_OFF 0x0000u  /* enables the guest's MMU, then smc */
#define LOOP_OFF 0x1000u /* the self-checking loop */
#define SMC_OFF 0x2000u  /* smc; add x0, x0, #1; b . */
#define SPIN_OFF 0x2100u /* b . */
#define DATA_OFF 0x3000u /* the loop's memory copy: counter, sum */
#define PT_L1 0x8000u
#define PT_L2 0x9000u
#define PT_L3 0xa000u

/* The loop; X2 = data, X5 = iterations left, X0 = counter, X1 = sum. */
static const uint32_t loop[] = {
	0xf9400043, /* 0x00 L: ldr x3, [x2]      M */
	0x91000463, /* 0x04 add x3, x3, #1 */
	0xf9000043, /* 0x08 str x3, [x2]         M++ */
	0x91000400, /* 0x0c add x0, x0, #1       i++ */
	0xf9400444, /* 0x10 ldr x4, [x2, #8]     S */
	0x8b000084, /* 0x14 add x4, x4, x0 */
	0xf9000444, /* 0x18 str x4, [x2, #8]     S += i */
	0x8b000021, /* 0x1c add x1, x1, x0       s += i */
	0xf10004a5, /* 0x20 subs x5, x5, #1 */
	0x54fffee1, /* 0x24 b.ne L */
	0xd4000003, /* 0x28 smc #0 */
};
#define LOOP_LAST 0x28u /* the smc after the loop: a boundary too */

struct kicker {
	struct rk_cpu *cpu;
	atomic_bool stop;
	atomic_ulong kicks;
	unsigned seed;
};

struct fx {
	struct rk_cpu *cpu;
	uint8_t *ram;
	enum rk_cpu_mode mode;
	bool mmu;
	/* hammer's kicker thread: stopped by the teardown too, should an assertion end the test */
	struct kicker k;
	pthread_t kicker;
	bool kicking;
};

static uint64_t ram64(const struct fx *f, uint64_t off)
{
	uint64_t v;

	memcpy(&v, f->ram + off, 8);
	return v;
}

static void set64(struct fx *f, uint64_t off, uint64_t v)
{
	memcpy(f->ram + off, &v, 8);
}

static int fx_setup_mode(void **state, enum rk_cpu_mode mode, bool mmu)
{
	static const uint32_t mmu_on[] = {
		0xd518200a, /* msr ttbr0_el1, x10 */
		0xd518204b, /* msr tcr_el1, x11 */
		0xd518a20c, /* msr mair_el1, x12 */
		0xd5033fdf, /* isb */
		0xd5381000, /* mrs x0, sctlr_el1 */
		0xb2400000, /* orr x0, x0, #1 */
		0xd5181000, /* msr sctlr_el1, x0 */
		0xd5033fdf, /* isb */
		0xd4000003, /* smc #0 */
	};
	static const uint32_t smc_then_spin[] = {
		0xd4000003, /* smc #0 */
		0x91000400, /* add x0, x0, #1 */
		0x14000000, /* b . */
	};
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->mode = mode;
	f->mmu = mmu;
	rk_cpu_set_default_mode(mode);
	f->ram = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(f->ram);
	memset(f->ram, 0, RAM_SIZE);
	memcpy(f->ram + MMU_OFF, mmu_on, sizeof(mmu_on));
	memcpy(f->ram + LOOP_OFF, loop, sizeof(loop));
	memcpy(f->ram + SMC_OFF, smc_then_spin, sizeof(smc_then_spin));
	memcpy(f->ram + SPIN_OFF, (const uint32_t[]){ 0x14000000 }, 4);
	assert_int_equal(rk_cpu_create(&f->cpu), 0);
	assert_int_equal(rk_cpu_mode(f->cpu), mode);
	assert_int_equal(rk_cpu_map(f->cpu, RAM_IPA, RAM_SIZE, f->ram, RK_CPU_PROT_ALL), 0);
	if (mmu) {
		/* VA [0x80000000, +64 KiB) -> the same IPA, 4 KiB pages, 39-bit VA */
		set64(f, PT_L1 + 8 * 2, (RAM_IPA + PT_L2) | 3);
		set64(f, PT_L2, (RAM_IPA + PT_L3) | 3);
		for (unsigned i = 0; i < RAM_SIZE / 4096; i++)
			set64(f, PT_L3 + 8 * i, (RAM_IPA + 0x1000ull * i) | 0x703);
		t_cpu_set(f->cpu, RK_CPU_REG_X(10), RAM_IPA + PT_L1);
		t_cpu_set(f->cpu, RK_CPU_REG_X(11),
			  25 | 1ull << 8 | 1ull << 10 | 3ull << 12 | 1ull << 23 | 4ull << 32);
		t_cpu_set(f->cpu, RK_CPU_REG_X(12), 0xff);
		t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + MMU_OFF);
		t_cpu_run(f->cpu, RK_CPU_EXIT_SMC);
		assert_true(t_cpu_reg(f->cpu, RK_CPU_REG_SCTLR_EL1) & 1);
	}
	*state = f;
	return 0;
}

static int fx_s2_off(void **state)
{
	return fx_setup_mode(state, RK_CPU_MODE_STAGE2, false);
}

static int fx_s2_on(void **state)
{
	return fx_setup_mode(state, RK_CPU_MODE_STAGE2, true);
}

static int fx_hooks_off(void **state)
{
	return fx_setup_mode(state, RK_CPU_MODE_HOOKS, false);
}

static void kicker_stop(struct fx *f)
{
	if (!f->kicking)
		return;
	atomic_store(&f->k.stop, true);
	pthread_join(f->kicker, NULL);
	f->kicking = false;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	kicker_stop(f);
	rk_cpu_destroy(f->cpu);
	free(f->ram);
	free(f);
	return 0;
}

/* ------------------------------------------------------------------------ */

static uint64_t tri(uint64_t i)
{
	return i * (i + 1) / 2;
}

/*
 * The state at the boundary before the instruction at loop offset pc, n
 * iterations in all: what must hold between the registers and memory. Returns
 * false (and says why) if it does not.
 */
static bool consistent(const struct fx *f, uint64_t n, uint64_t pc, const uint64_t *x)
{
	uint64_t i = x[0], s = x[1], m = ram64(f, DATA_OFF), sm = ram64(f, DATA_OFF + 8);
	uint64_t left = x[5];
	bool ok;

	switch (pc) {
	case 0x00: /* an iteration boundary */
		ok = m == i && sm == s && s == tri(i) && left == n - i;
		break;
	case 0x04:
		ok = x[3] == m && m == i && sm == s && s == tri(i) && left == n - i;
		break;
	case 0x08:
		ok = x[3] == m + 1 && m == i && sm == s && s == tri(i) && left == n - i;
		/* hooks mode stops in a store's write hook, the store then done:
		 * resuming runs it again with the same value (cpu_unicorn.c) */
		ok = ok || (f->mode == RK_CPU_MODE_HOOKS && x[3] == m && m == i + 1 && sm == s &&
			    s == tri(i) && left == n - i);
		break;
	case 0x0c:
		ok = x[3] == m && m == i + 1 && sm == s && s == tri(i) && left == n - i;
		break;
	case 0x10:
		ok = m == i && sm == s && s == tri(i - 1) && left == n - i + 1;
		break;
	case 0x14:
		ok = m == i && x[4] == sm && sm == s && s == tri(i - 1) && left == n - i + 1;
		break;
	case 0x18:
		ok = m == i && x[4] == sm + i && sm == s && s == tri(i - 1) && left == n - i + 1;
		ok = ok || (f->mode == RK_CPU_MODE_HOOKS && m == i && x[4] == sm && sm == s + i &&
			    s == tri(i - 1) && left == n - i + 1);
		break;
	case 0x1c:
		ok = m == i && x[4] == sm && sm == s + i && s == tri(i - 1) && left == n - i + 1;
		break;
	case 0x20:
		ok = m == i && sm == s && s == tri(i) && left == n - i + 1;
		break;
	case 0x24:
		ok = m == i && sm == s && s == tri(i) && left == n - i;
		break;
	case 0x28: /* the loop is done, the SMC after it not yet */
		ok = m == i && sm == s && s == tri(i) && left == 0 && i == n;
		break;
	default:
		ok = false;
	}
	if (!ok)
		print_error(
			"inconsistent state at loop+0x%llx: i %llu s %llu M %llu S %llu left %llu x3 %llu x4 %llu\n",
			(unsigned long long)pc, (unsigned long long)i, (unsigned long long)s,
			(unsigned long long)m, (unsigned long long)sm, (unsigned long long)left,
			(unsigned long long)x[3], (unsigned long long)x[4]);
	return ok;
}

static void *kicker_main(void *arg)
{
	struct kicker *k = arg;

	while (!atomic_load(&k->stop)) {
		struct timespec d = { 0, (long)(rand_r(&k->seed) % 200000u) };

		rk_cpu_kick(k->cpu);
		atomic_fetch_add(&k->kicks, 1);
		nanosleep(&d, NULL);
	}
	return NULL;
}

#define MIN_KICK_EXITS 100u
#define MIN_SLICE_EXITS 100u
#define MAX_ROUNDS 500u

/* The loop in short slices, kicked from another thread, until enough stops of both kinds. */
static void hammer(struct fx *f)
{
	/* a few ms a round: stage-2 mode's stores are inline (cpu_ucfix.c), hooks mode calls hooks */
	const uint64_t n = f->mode == RK_CPU_MODE_HOOKS ? 200000 : 2000000;
	unsigned kick_exits = 0, slice_exits = 0, rounds = 0, seed = 12345;

	f->k.cpu = f->cpu;
	f->k.seed = 777;
	atomic_init(&f->k.stop, false);
	atomic_init(&f->k.kicks, 0);
	assert_int_equal(pthread_create(&f->kicker, NULL, kicker_main, &f->k), 0);
	f->kicking = true;
	while (kick_exits < MIN_KICK_EXITS || slice_exits < MIN_SLICE_EXITS) {
		uint64_t x[RK_CPU_NUM_GPRS];

		if (rounds++ >= MAX_ROUNDS)
			fail_msg("%u rounds: %u kick exits, %u slice exits", MAX_ROUNDS, kick_exits,
				 slice_exits);
		memset(f->ram + DATA_OFF, 0, 16);
		memset(x, 0, sizeof(x));
		x[2] = RAM_IPA + DATA_OFF;
		x[5] = n;
		assert_int_equal(rk_cpu_set_gprs(f->cpu, x), 0);
		t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + LOOP_OFF);
		for (;;) {
			struct rk_cpu_exit e;
			uint64_t pc;

			/* 10 us .. 1 ms */
			assert_int_equal(rk_cpu_run(f->cpu, 10 + rand_r(&seed) % 1000u, &e), 0);
			pc = t_cpu_reg(f->cpu, RK_CPU_REG_PC);
			if (e.reason == RK_CPU_EXIT_SMC && pc == RAM_IPA + LOOP_OFF + 0x2c) {
				break;
			}
			if (e.reason != RK_CPU_EXIT_KICK && e.reason != RK_CPU_EXIT_TIMEOUT)
				fail_msg("unexpected exit %s", rk_cpu_exit_reason_name(e.reason));
			kick_exits += e.reason == RK_CPU_EXIT_KICK;
			slice_exits += e.reason == RK_CPU_EXIT_TIMEOUT;
			assert_int_equal(e.pc, pc);
			if (pc < RAM_IPA + LOOP_OFF || pc > RAM_IPA + LOOP_OFF + LOOP_LAST)
				fail_msg("%s exit at 0x%llx, outside the loop",
					 rk_cpu_exit_reason_name(e.reason), (unsigned long long)pc);
			assert_true(pc % 4 == 0);
			assert_int_equal(rk_cpu_get_gprs(f->cpu, x), 0);
			assert_true(consistent(f, n, pc - RAM_IPA - LOOP_OFF, x));
		}
		assert_int_equal(rk_cpu_get_gprs(f->cpu, x), 0);
		assert_int_equal(x[0], n);
		assert_int_equal(ram64(f, DATA_OFF), n);
		assert_int_equal(x[1], tri(n));
		assert_int_equal(ram64(f, DATA_OFF + 8), tri(n));
		assert_int_equal(x[5], 0);
	}
	kicker_stop(f);
	assert_true(atomic_load(&f->k.kicks) > 0);
}

static void test_hammer(void **state)
{
	hammer(*state);
}

/*
 * A kick before the run: the run returns at once, nothing executed. A kick
 * while a run starts (another thread, after a varying delay): the run
 * returns KICK, never runs on until its slice ends (stage-2 mode: a stop that
 * lands before uc_emu_start() is lost unless it is issued again).
 */
struct late_kick {
	struct rk_cpu *cpu;
	atomic_int go; /* 1: kick after delay_ns; 2: quit */
	atomic_long delay_ns;
};

static void *late_kick_main(void *arg)
{
	struct late_kick *k = arg;

	for (;;) {
		int go = atomic_load(&k->go);
		struct timespec t0, t;

		if (go == 2)
			return NULL;
		if (go != 1) {
			sched_yield();
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do
			clock_gettime(CLOCK_MONOTONIC, &t);
		while ((t.tv_sec - t0.tv_sec) * 1000000000l + (t.tv_nsec - t0.tv_nsec) <
		       atomic_load(&k->delay_ns));
		rk_cpu_kick(k->cpu);
		atomic_store(&k->go, 0);
	}
}

static void test_kick_before_run(void **state)
{
	struct fx *f = *state;
	struct late_kick k = { .cpu = f->cpu };
	struct rk_cpu_exit e;
	pthread_t th;

	/* before: nothing runs */
	t_cpu_set(f->cpu, RK_CPU_REG_X0, 5);
	t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + SMC_OFF + 4);
	rk_cpu_kick(f->cpu);
	assert_int_equal(rk_cpu_run(f->cpu, 0, &e), 0);
	assert_int_equal(e.reason, RK_CPU_EXIT_KICK);
	assert_int_equal(e.pc, RAM_IPA + SMC_OFF + 4);
	assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X0), 5);

	/* while it starts: the spin never ends by itself, the slice is only a hang guard */
	atomic_init(&k.go, 0);
	atomic_init(&k.delay_ns, 0);
	assert_int_equal(pthread_create(&th, NULL, late_kick_main, &k), 0);
	for (unsigned i = 0; i < 400; i++) {
		t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + SPIN_OFF);
		atomic_store(&k.delay_ns, (long)(i % 40) * 500);
		atomic_store(&k.go, 1);
		assert_int_equal(rk_cpu_run(f->cpu, 20000000, &e), 0);
		if (e.reason != RK_CPU_EXIT_KICK)
			fail_msg("run %u: %s instead of kick", i, rk_cpu_exit_reason_name(e.reason));
		assert_int_equal(e.pc, RAM_IPA + SPIN_OFF);
		while (atomic_load(&k.go) != 0)
			sched_yield();
		/* a kick that landed after the run's stop: the next run returns at once */
		rk_cpu_kick(f->cpu);
		assert_int_equal(rk_cpu_run(f->cpu, 0, &e), 0);
		assert_int_equal(e.reason, RK_CPU_EXIT_KICK);
	}

	/* a kick that lands while the run is about to start the engine (a
	 * paused start): the stop the kick issues finds no engine running and
	 * must be issued again */
	rk_cpu_unicorn_start_delay_test(2000000);
	for (unsigned i = 0; i < 5; i++) {
		t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + SPIN_OFF);
		atomic_store(&k.delay_ns, 500000);
		atomic_store(&k.go, 1);
		assert_int_equal(rk_cpu_run(f->cpu, 3000000, &e), 0);
		if (e.reason != RK_CPU_EXIT_KICK)
			fail_msg("paused start %u: %s instead of kick", i, rk_cpu_exit_reason_name(e.reason));
		while (atomic_load(&k.go) != 0)
			sched_yield();
		/* the kick was taken by this run, or is still pending for the next */
		assert_int_equal(rk_cpu_run(f->cpu, 1000, &e), 0);
		assert_true(e.reason == RK_CPU_EXIT_KICK || e.reason == RK_CPU_EXIT_TIMEOUT);
	}
	rk_cpu_unicorn_start_delay_test(0);
	atomic_store(&k.go, 2);
	pthread_join(th, NULL);
}

/*
 * A kick from another thread while an SMC is being completed in the SMC
 * handler: the vCPU stops right after the SMC (x0 as the handler set it,
 * nothing after the SMC executed).
 */
struct rk_cpu_smc_ctx {
	pthread_mutex_t m;
	pthread_cond_t c;
	int state; /* 1: kick wanted, 2: kicked, 3: quit */
	struct rk_cpu *cpu;
	unsigned calls;
};

static void *smc_kicker(void *arg)
{
	struct rk_cpu_smc_ctx *c = arg;

	pthread_mutex_lock(&c->m);
	for (;;) {
		while (c->state != 1 && c->state != 3)
			pthread_cond_wait(&c->c, &c->m);
		if (c->state == 3)
			break;
		rk_cpu_kick(c->cpu);
		c->state = 2;
		pthread_cond_broadcast(&c->c);
	}
	pthread_mutex_unlock(&c->m);
	return NULL;
}

static bool smc_kicked(struct rk_cpu *cpu, uint16_t imm, struct rk_cpu_smc_ctx *c)
{
	(void)imm;
	pthread_mutex_lock(&c->m);
	c->state = 1;
	pthread_cond_broadcast(&c->c);
	while (c->state != 2)
		pthread_cond_wait(&c->c, &c->m);
	pthread_mutex_unlock(&c->m);
	c->calls++;
	return rk_cpu_set_reg(cpu, RK_CPU_REG_X0, 0x1234) == 0;
}

static void test_kick_during_smc(void **state)
{
	struct fx *f = *state;
	struct rk_cpu_smc_ctx c = { .state = 0, .cpu = f->cpu };
	struct rk_cpu_exit e;
	pthread_t th;

	pthread_mutex_init(&c.m, NULL);
	pthread_cond_init(&c.c, NULL);
	assert_int_equal(pthread_create(&th, NULL, smc_kicker, &c), 0);
	assert_int_equal(rk_cpu_set_smc_handler(f->cpu, smc_kicked, &c), 0);
	for (unsigned i = 0; i < 50; i++) {
		t_cpu_set(f->cpu, RK_CPU_REG_X0, 0);
		t_cpu_set(f->cpu, RK_CPU_REG_PC, RAM_IPA + SMC_OFF);
		assert_int_equal(rk_cpu_run(f->cpu, 20000000, &e), 0);
		assert_int_equal(e.reason, RK_CPU_EXIT_KICK);
		assert_int_equal(e.pc, RAM_IPA + SMC_OFF + 4);
		assert_int_equal(t_cpu_reg(f->cpu, RK_CPU_REG_X0), 0x1234);
	}
	assert_int_equal(c.calls, 50);
	assert_int_equal(rk_cpu_set_smc_handler(f->cpu, NULL, NULL), 0);
	pthread_mutex_lock(&c.m);
	c.state = 3;
	pthread_cond_broadcast(&c.c);
	pthread_mutex_unlock(&c.m);
	pthread_join(th, NULL);
	pthread_cond_destroy(&c.c);
	pthread_mutex_destroy(&c.m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		{ "hammer, stage-2 mode, MMU off", test_hammer, fx_s2_off, fx_teardown, NULL },
		{ "hammer, stage-2 mode, MMU on", test_hammer, fx_s2_on, fx_teardown, NULL },
		{ "hammer, hooks mode, MMU off", test_hammer, fx_hooks_off, fx_teardown, NULL },
		{ "kick before a run, stage-2 mode, MMU off", test_kick_before_run, fx_s2_off, fx_teardown,
		  NULL },
		{ "kick before a run, stage-2 mode, MMU on", test_kick_before_run, fx_s2_on, fx_teardown,
		  NULL },
		{ "kick before a run, hooks mode", test_kick_before_run, fx_hooks_off, fx_teardown, NULL },
		{ "kick during an SMC, stage-2 mode, MMU off", test_kick_during_smc, fx_s2_off, fx_teardown,
		  NULL },
		{ "kick during an SMC, stage-2 mode, MMU on", test_kick_during_smc, fx_s2_on, fx_teardown,
		  NULL },
		{ "kick during an SMC, hooks mode", test_kick_during_smc, fx_hooks_off, fx_teardown, NULL },
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
