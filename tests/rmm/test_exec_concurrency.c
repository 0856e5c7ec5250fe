/* SPDX-License-Identifier: MIT */
/*
 * REC_ENTER from many threads at once (also run under ThreadSanitizer):
 *  - eight realms in one machine, each entered by its own thread, each
 *    running a small payload that makes RSI calls and stores a per-realm
 *    pattern by MMIO: every thread must see its own realm's values only;
 *  - two RECs of one realm entered from two threads at once, both
 *    incrementing a shared counter with plain LDR/ADD/STR: the RMM runs one
 *    REC of a realm at a time (its run lock), so no increment is lost.
 * The threads only record what they saw; the main thread asserts.
 */
#include <stdatomic.h>

#include "exec_util.h"

#define NREALMS 8
#define ROUNDS 60 /* MMIO round trips per realm thread */
#define COUNTER_IPA 0x6000ULL
#define INC_PER_ROUND 500
#define COUNTER_ROUNDS 120 /* rounds per REC */

/* ---- a REC_ENTER loop that does not assert (for threads) ------------------------------ */

struct runner {
	struct xr *x;
	unsigned int rec;
	struct rmi_rec_run run;
	unsigned int errors;
	char what[160];
};

static void runner_error(struct runner *r, const char *what, uint64_t a, uint64_t b)
{
	if (!r->errors++)
		snprintf(r->what, sizeof(r->what), "%s: 0x%llx vs 0x%llx", what, (unsigned long long)a,
			 (unsigned long long)b);
}

/* REC_ENTER until a non-IRQ exit; the exit is in r->run.exit. Returns false on an RMI error. */
static bool runner_enter(struct runner *r, uint64_t flags, unsigned int *irqs)
{
	struct rk_smc_regs regs;
	double t0 = t_now();

	memset(&r->run, 0, sizeof(r->run));
	r->run.enter.flags = flags;
	for (;;) {
		if (rk_ns_write(r->x->m, r->x->run[r->rec], &r->run.enter, sizeof(r->run.enter))) {
			runner_error(r, "run page write", 0, 0);
			return false;
		}
		memset(&regs, 0, sizeof(regs));
		regs.x[0] = RMI_FID_REC_ENTER;
		regs.x[1] = r->x->rec[r->rec];
		regs.x[2] = r->x->run[r->rec];
		rk_smc(r->x->m, &regs);
		if (regs.x[0] != RMI_SUCCESS) {
			runner_error(r, "REC_ENTER", regs.x[0], RMI_SUCCESS);
			return false;
		}
		if (rk_ns_read(r->x->m, r->x->run[r->rec] + RMI_REC_RUN_OFF_EXIT, &r->run.exit,
			       sizeof(r->run.exit))) {
			runner_error(r, "run page read", 0, 0);
			return false;
		}
		if (r->run.exit.exit_reason != RMI_EXIT_IRQ)
			return true;
		if (irqs)
			(*irqs)++;
		if (t_now() - t0 > XR_PATIENCE_S) {
			runner_error(r, "IRQ exits only", 0, 0);
			return false;
		}
		r->run.enter.flags = 0;
	}
}

/* Expect an emulatable MMIO store of v at MMIO + off. */
static void runner_expect_store(struct runner *r, uint64_t off, uint64_t v)
{
	const struct rmi_rec_exit *ex = &r->run.exit;

	if (ex->exit_reason != RMI_EXIT_SYNC || !(ex->esr & ESR_ISV) || !(ex->esr & ESR_WNR))
		runner_error(r, "not an MMIO store", ex->exit_reason, ex->esr);
	else if (ex->far != off)
		runner_error(r, "MMIO offset", ex->far, off);
	else if (ex->gprs[0] != v)
		runner_error(r, "MMIO value", ex->gprs[0], v);
}

/* ---- eight realms, eight threads ---------------------------------------------------------- */

static pthread_barrier_t start;

struct realm_job {
	struct runner r;
	uint64_t pattern, rim0;
};

static uint64_t pattern_of(unsigned int k)
{
	return 0x1000000000ULL * (k + 1) + 0x10101ULL * k;
}

static void *realm_main(void *arg)
{
	struct realm_job *j = arg;
	uint64_t flags = 0;

	pthread_barrier_wait(&start);
	for (unsigned int k = 0; k < ROUNDS && !j->r.errors; k++) {
		/* RSI_VERSION's x2 | MEASUREMENT_READ's first RIM word, then the pattern */
		if (!runner_enter(&j->r, flags, NULL))
			break;
		runner_expect_store(&j->r, 0x10, 0x10001);
		if (!runner_enter(&j->r, XR_ENTER_MMIO, NULL))
			break;
		runner_expect_store(&j->r, 8, j->rim0);
		if (!runner_enter(&j->r, XR_ENTER_MMIO, NULL))
			break;
		runner_expect_store(&j->r, 0, j->pattern + k);
		flags = XR_ENTER_MMIO;
	}
	return NULL;
}

static void test_eight_realms(void **state)
{
	static struct xr xs[NREALMS];
	static struct realm_job jobs[NREALMS];
	pthread_t t[NREALMS];

	(void)state;
	for (unsigned int k = 0; k < NREALMS; k++) {
		struct prog p = { .n = 0 };
		p_prologue(&p);
		p_mov(&p, 20, pattern_of(k)); /* x1..x8 are MEASUREMENT_READ results */
		unsigned int loop = p.n;
		p_mov(&p, 1, 0x10001);
		p_smc(&p, RSI_FID_VERSION);
		p_put(&p, a64_str_off(2, XR_MMIO_REG, 0x10));
		p_mov(&p, 1, 0);
		p_smc(&p, RSI_FID_MEASUREMENT_READ);
		p_put(&p, a64_str_off(1, XR_MMIO_REG, 8));
		p_report(&p, 20);
		p_put(&p, a64_add_imm(20, 20, 1));
		p_b_to(&p, loop);
		xr_create(&env, &xs[k], k % 3, NULL);
		xr_program(&xs[k], &p);
		xr_rec(&xs[k], true, XR_CODE_IPA);
		xr_activate(&xs[k]);
		jobs[k].r.x = &xs[k];
		jobs[k].r.rec = 0;
		jobs[k].pattern = pattern_of(k);
		memcpy(&jobs[k].rim0, t_rim(env.m, xs[k].rd), 8);
	}
	/* the programs differ, so do their RIMs: a thread reading another realm's RIM would be caught */
	for (unsigned int k = 1; k < NREALMS; k++)
		assert_int_not_equal(jobs[k].rim0, jobs[0].rim0);
	assert_int_equal(pthread_barrier_init(&start, NULL, NREALMS), 0);
	for (unsigned int k = 0; k < NREALMS; k++)
		assert_int_equal(pthread_create(&t[k], NULL, realm_main, &jobs[k]), 0);
	for (unsigned int k = 0; k < NREALMS; k++)
		assert_int_equal(pthread_join(t[k], NULL), 0);
	pthread_barrier_destroy(&start);
	for (unsigned int k = 0; k < NREALMS; k++) {
		if (jobs[k].r.errors) {
			print_error("realm %u: %u errors, first: %s\n", k, jobs[k].r.errors, jobs[k].r.what);
			fail();
		}
		assert_int_equal(xr_recp(&xs[k], 0)->exits >= 3 * ROUNDS, true);
	}
	struct xr *all[NREALMS];
	for (unsigned int k = 0; k < NREALMS; k++)
		all[k] = &xs[k];
	xr_teardown(all, NREALMS);
}

/* ---- two RECs of one realm, one shared counter ----------------------------------------------- */

struct counter_job {
	struct runner r;
	unsigned int irqs;  /* time-slice exits */
	unsigned int split; /* ... of which stopped between the LDR and the STR */
	uint64_t ldr_pc;
};

/* runner_enter, but looking at the PC after every IRQ exit (the REC is this thread's alone) */
static void *counter_main(void *arg)
{
	struct counter_job *j = arg;
	struct xr *x = j->r.x;
	uint64_t flags = 0;

	pthread_barrier_wait(&start);
	for (unsigned int k = 0; k < COUNTER_ROUNDS && !j->r.errors; k++) {
		for (double t0 = t_now();;) {
			if (t_now() - t0 > XR_PATIENCE_S) {
				runner_error(&j->r, "IRQ exits only", 0, 0);
				return NULL;
			}
			/* one entry at a time: look at the PC after each IRQ exit */
			struct rk_smc_regs regs;
			memset(&j->r.run, 0, sizeof(j->r.run));
			j->r.run.enter.flags = flags;
			flags = 0;
			if (rk_ns_write(x->m, x->run[j->r.rec], &j->r.run.enter, sizeof(j->r.run.enter)))
				runner_error(&j->r, "run page write", 0, 0);
			memset(&regs, 0, sizeof(regs));
			regs.x[0] = RMI_FID_REC_ENTER;
			regs.x[1] = x->rec[j->r.rec];
			regs.x[2] = x->run[j->r.rec];
			rk_smc(x->m, &regs);
			if (regs.x[0] != RMI_SUCCESS ||
			    rk_ns_read(x->m, x->run[j->r.rec] + RMI_REC_RUN_OFF_EXIT, &j->r.run.exit,
				       sizeof(j->r.run.exit))) {
				runner_error(&j->r, "REC_ENTER", regs.x[0], 0);
				return NULL;
			}
			if (j->r.run.exit.exit_reason != RMI_EXIT_IRQ)
				break;
			j->irqs++;
			struct rmm *rmm = machine_rmm(x->m);
			struct rec *rec = rec_of(rmm, granule_from_pa(rmm, x->rec[j->r.rec]));
			uint64_t pc = 0;
			if (rk_cpu_get_reg(rec->cpu, RK_CPU_REG_PC, &pc))
				runner_error(&j->r, "PC", 0, 0);
			if (pc == j->ldr_pc + 4 || pc == j->ldr_pc + 8)
				j->split++;
		}
		if (j->r.run.exit.exit_reason != RMI_EXIT_SYNC || !(j->r.run.exit.esr & ESR_ISV))
			runner_error(&j->r, "not the round's MMIO store", j->r.run.exit.exit_reason,
				     j->r.run.exit.esr);
		flags = XR_ENTER_MMIO;
	}
	return NULL;
}

/* One run of the experiment on a fresh realm: the counter and the number of split RMWs. */
static uint64_t counter_run(unsigned int *split)
{
	static struct counter_job jobs[2];
	struct prog p = { .n = 0 };
	pthread_t t[2];
	struct xr x;

	/*
	 *   x20 = counter
	 * outer: x22 = INC_PER_ROUND
	 * inner: ldr x1, [x20]; add x1, x1, #1; str x1, [x20]; subs x22, x22, #1; b.ne inner
	 *        str x1, [x28] (the round's MMIO exit); b outer
	 */
	p_prologue(&p);
	p_mov(&p, 20, COUNTER_IPA);
	unsigned int outer = p.n;
	p_mov(&p, 22, INC_PER_ROUND);
	unsigned int inner = p.n;
	p_put(&p, a64_ldr(1, 20));
	p_put(&p, a64_add_imm(1, 1, 1));
	p_put(&p, a64_str(1, 20));
	p_put(&p, a64_subs_imm(22, 22, 1));
	p_put(&p, a64_bcond(A64_COND_NE, (int32_t)inner - (int32_t)p.n));
	p_report(&p, 1);
	p_b_to(&p, outer);
	xr_create(&env, &x, RMI_HASH_SHA_256, NULL);
	xr_program(&x, &p);
	uint64_t counter = xr_page(&x, COUNTER_IPA, NULL, RMI_NO_MEASURE_CONTENT);
	xr_rec(&x, true, XR_CODE_IPA);
	xr_rec(&x, true, XR_CODE_IPA);
	xr_activate(&x);
	for (unsigned int i = 0; i < 2; i++) {
		memset(&jobs[i], 0, sizeof(jobs[i]));
		jobs[i].r.x = &x;
		jobs[i].r.rec = i;
		jobs[i].ldr_pc = p_ipa(inner);
	}
	assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
	assert_int_equal(pthread_create(&t[0], NULL, counter_main, &jobs[0]), 0);
	assert_int_equal(pthread_create(&t[1], NULL, counter_main, &jobs[1]), 0);
	for (unsigned int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	pthread_barrier_destroy(&start);
	for (unsigned int i = 0; i < 2; i++)
		if (jobs[i].r.errors) {
			print_error("REC %u: %s\n", i, jobs[i].r.what);
			fail();
		}
	uint64_t got;
	memcpy(&got, t_gptr(x.m, counter), 8);
	*split = jobs[0].split + jobs[1].split;
	print_message("counter %llu of %llu; time-slice exits %u + %u, %u between LDR and STR\n",
		      (unsigned long long)got, 2ULL * COUNTER_ROUNDS * INC_PER_ROUND, jobs[0].irqs,
		      jobs[1].irqs, *split);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
	return got;
}

/*
 * One REC of a realm runs at a time, so the count is exact - unless a time
 * slice ended between a REC's LDR and its STR and the other REC ran then (a
 * lost update any machine would show). Such a run proves nothing either
 * way: it is repeated, and at least one run without a split must be exact.
 * Without the run lock about half the increments are lost in every run.
 */
static void test_two_recs_one_counter(void **state)
{
	const uint64_t total = 2ULL * COUNTER_ROUNDS * INC_PER_ROUND;
	unsigned int split = 0;

	(void)state;
	for (int attempt = 0; attempt < 5; attempt++) {
		uint64_t got = counter_run(&split);
		assert_true(got <= total);
		if (split == 0) {
			assert_int_equal(got, total);
			return;
		}
	}
	print_message("every run had a time slice end inside an increment: exactness not shown\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_eight_realms, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_two_recs_one_counter, xenv_setup, xenv_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
