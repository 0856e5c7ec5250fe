/* SPDX-License-Identifier: MIT */
/*
 * Unicorn 2.0.1's store fast path (src/platform/cpu/cpu_ucfix.c), decided
 * once per process: so every case runs in a child process of its own (this
 * process never opens an engine), with its stderr captured.
 *
 * In each child one vCPU (MMU off) runs a function that returns 1, stores
 * "return 7" over it with no maintenance, runs it again, then IC IVAU of
 * its line and runs it again; then stores "return 9" and issues IC IALLU.
 * With fast stores (Debian 12's 2.0.1, the default) the store alone leaves
 * the old code (the engine no longer detects it: allowed, CTR_EL0.DIC = 0),
 * the IC IVAU brings the new one on the same engine, IC IALLU on a fresh one
 * within the same run. With Unicorn's own path (opted out, or a set-up that
 * failed) the store alone is enough. A set-up that fails says why on stderr
 * (unless opted out) and, if it failed after patching, puts the byte back
 * (stores are detected again).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <unicorn/unicorn.h>

#include "realmkit/arch/insn.h"
#include "realmkit/cpu.h"
#include "platform/cpu/cpu_ucfix.h"

#define RAM_IPA 0x80000000ull
#define RAM_SIZE 0x10000ull
#define E_FN 0x1000u   /* movz x0, #n; smc: the "function" */
#define E_WR 0x2000u   /* str w3, [x4]; smc: rewrite it, no maintenance */
#define E_IVAU 0x2100u /* ic ivau, x4; dsb ish; isb; smc */
#define E_ALL 0x2200u  /* str w3, [x4]; dsb ish; ic iallu; dsb ish; isb; smc */

enum scenario {
	SC_DEFAULT,  /* stage-2 mode, nothing asked */
	SC_HOOKS,    /* hooks mode, nothing asked */
	SC_OPT_OUT,  /* RK_UNICORN_FAST_STORES=0 */
	SC_NO_PATCH, /* the byte left alone: the proof's store check fails */
	SC_NO_IC,    /* the proof's IC does nothing: it fails after patching */
	SC_MPROTECT, /* /proc/self/mem refused: the byte written through mprotect */
	SC_BAD_ENV,  /* RK_UNICORN_FAST_STORES=off: neither 0 nor 1 */
};

struct result {
	int err; /* 0, or the step that went wrong (> 0) */
	int state;
	char reason[200];
	uint64_t first, after_store, after_ivau, after_iallu;
	struct rk_cpu_stats st;
};

static int call(struct rk_cpu *cpu, uint64_t entry, uint64_t *x0)
{
	struct rk_cpu_exit e;

	if (rk_cpu_set_reg(cpu, RK_CPU_REG_PC, RAM_IPA + entry) || rk_cpu_run(cpu, 5000000, &e) ||
	    e.reason != RK_CPU_EXIT_SMC)
		return -1;
	return x0 ? rk_cpu_get_reg(cpu, RK_CPU_REG_X(0), x0) : 0;
}

static void put(uint8_t *ram, uint64_t off, const uint32_t *w, size_t n)
{
	memcpy(ram + off, w, n * 4);
}

/* The child: one vCPU through the sequence above; the result to fd. */
static void child(enum scenario sc, struct result *r)
{
	const uint32_t fn[] = { A64_MOVZ_X(0, 1), A64_SMC };
	const uint32_t wr[] = { A64_STR_W(3, 4), A64_SMC };
	const uint32_t ivau[] = { A64_IC_IVAU(4), A64_DSB_ISH, A64_ISB, A64_SMC };
	const uint32_t all[] = { A64_STR_W(3, 4), A64_DSB_ISH, A64_IC_IALLU, A64_DSB_ISH, A64_ISB, A64_SMC };
	struct rk_cpu *cpu = NULL;
	uint8_t *ram = aligned_alloc(4096, RAM_SIZE);

	if (sc == SC_OPT_OUT)
		setenv("RK_UNICORN_FAST_STORES", "0", 1);
	if (sc == SC_BAD_ENV)
		setenv("RK_UNICORN_FAST_STORES", "off", 1);
	if (sc == SC_NO_PATCH)
		rk_ucfix_sabotage_test(RK_UCFIX_SABOTAGE_NO_PATCH);
	if (sc == SC_NO_IC)
		rk_ucfix_sabotage_test(RK_UCFIX_SABOTAGE_NO_IC);
	if (sc == SC_MPROTECT)
		rk_ucfix_sabotage_test(RK_UCFIX_SABOTAGE_NO_PROCMEM);
	rk_cpu_set_default_mode(sc == SC_HOOKS ? RK_CPU_MODE_HOOKS : RK_CPU_MODE_STAGE2);
	r->err = 1;
	if (!ram)
		return;
	memset(ram, 0, RAM_SIZE);
	put(ram, E_FN, fn, 2);
	put(ram, E_WR, wr, 2);
	put(ram, E_IVAU, ivau, 4);
	put(ram, E_ALL, all, 6);
	r->err = 2;
	if (rk_cpu_create(&cpu) || rk_cpu_map(cpu, RAM_IPA, RAM_SIZE, ram, RK_CPU_PROT_ALL) ||
	    rk_cpu_set_reg(cpu, RK_CPU_REG_X(4), RAM_IPA + E_FN))
		goto out;
	r->state = rk_ucfix_state();
	snprintf(r->reason, sizeof(r->reason), "%s", rk_ucfix_reason());
	r->err = 3;
	if (call(cpu, E_FN, &r->first) || call(cpu, E_FN, &r->first)) /* translated */
		goto out;
	r->err = 4;
	if (rk_cpu_set_reg(cpu, RK_CPU_REG_X(3), A64_MOVZ_X(0, 7)) || call(cpu, E_WR, NULL) ||
	    call(cpu, E_FN, &r->after_store))
		goto out;
	r->err = 5;
	if (call(cpu, E_IVAU, NULL) || call(cpu, E_FN, &r->after_ivau))
		goto out;
	r->err = 6;
	if (rk_cpu_set_reg(cpu, RK_CPU_REG_X(3), A64_MOVZ_X(0, 9)) || call(cpu, E_ALL, NULL) ||
	    call(cpu, E_FN, &r->after_iallu))
		goto out;
	rk_cpu_get_stats(cpu, &r->st);
	r->err = 0;
out:
	rk_cpu_destroy(cpu);
	free(ram);
}

/* Run the scenario in a child; its result and what it printed on stderr. */
static void run(enum scenario sc, struct result *r, char *err, size_t errsz)
{
	int res[2], msg[2], status = 0;
	pid_t pid;
	size_t got = 0;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	assert_int_equal(pipe(res), 0);
	assert_int_equal(pipe(msg), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct result out = { 0 };

		close(res[0]);
		close(msg[0]);
		dup2(msg[1], STDERR_FILENO);
		child(sc, &out);
		_exit(write(res[1], &out, sizeof(out)) == (ssize_t)sizeof(out) ? 0 : 1);
	}
	close(res[1]);
	close(msg[1]);
	while (got + 1 < errsz && (n = read(msg[0], err + got, errsz - 1 - got)) > 0)
		got += (size_t)n;
	err[got] = '\0';
	assert_int_equal(read(res[0], r, sizeof(*r)), (ssize_t)sizeof(*r));
	close(res[0]);
	close(msg[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (r->err)
		fail_msg("scenario %d: step %d failed (state %d: %s)\nstderr: %s", sc, r->err, r->state,
			 r->reason, err);
}

static bool unicorn_2_0(void)
{
	unsigned major = 0, minor = 0;

	uc_version(&major, &minor);
	return major == 2 && minor == 0;
}

/* Fast stores: the store alone is not seen; IC IVAU and IC IALLU are. */
static void check_fast(enum scenario sc)
{
	struct result r;
	char err[1024];

	if (!unicorn_2_0())
		skip();
	run(sc, &r, err, sizeof(err));
	assert_int_equal(r.state, RK_UCFIX_FAST);
	assert_non_null(strstr(r.reason, "proven"));
	/* the byte written through /proc/self/mem, or mprotect when that is refused */
	assert_non_null(
		strstr(r.reason, sc == SC_MPROTECT ? "(through mprotect)" : "(through /proc/self/mem)"));
	if (sc == SC_BAD_ENV)
		assert_string_equal(err,
				    "realmkit: RK_UNICORN_FAST_STORES=off is neither 0 nor 1: fast stores\n");
	else
		assert_string_equal(err, ""); /* nothing to say */
	assert_int_equal(r.first, 1);
	assert_int_equal(r.after_store, 1); /* old code: no maintenance yet */
	assert_int_equal(r.after_ivau, 7);  /* the line dropped, the engine kept */
	assert_int_equal(r.after_iallu, 9); /* all dropped, within the run */
	assert_int_equal(r.st.ic_local_lines, 1);
	assert_int_equal(r.st.ic_local_flushes, 1);
	assert_int_equal(r.st.wakes, 1); /* the one fresh engine is IC IALLU's */
}

static void test_fast_stage2(void **state)
{
	(void)state;
	check_fast(SC_DEFAULT);
}

static void test_fast_hooks(void **state)
{
	(void)state;
	check_fast(SC_HOOKS);
}

/* A value that is neither 0 nor 1: said on stderr, and the default (fast) taken. */
static void test_bad_env_value(void **state)
{
	(void)state;
	check_fast(SC_BAD_ENV);
}

static void test_fast_through_mprotect(void **state)
{
	(void)state;
	check_fast(SC_MPROTECT);
}

/* Unicorn's own path: every store to code is seen; IC ops cost nothing on the issuer. */
static void check_slow(enum scenario sc, const char *reason, bool message)
{
	struct result r;
	char err[1024];

	if (!unicorn_2_0())
		skip();
	run(sc, &r, err, sizeof(err));
	assert_int_equal(r.state, RK_UCFIX_SLOW);
	if (!strstr(r.reason, reason))
		fail_msg("reason \"%s\" does not say \"%s\"", r.reason, reason);
	if (message) {
		assert_non_null(strstr(err, "realmkit: guest stores stay on Unicorn 2.0's slow path ("));
		assert_non_null(strstr(err, reason));
	} else {
		assert_string_equal(err, "");
	}
	assert_int_equal(r.first, 1);
	assert_int_equal(r.after_store, 7); /* the engine saw its own store */
	assert_int_equal(r.after_ivau, 7);
	assert_int_equal(r.after_iallu, 9);
	assert_int_equal(r.st.ic_local_lines, 0);
	assert_int_equal(r.st.ic_local_flushes, 0);
	assert_int_equal(r.st.wakes, 0);
}

static void test_opt_out(void **state)
{
	(void)state;
	check_slow(SC_OPT_OUT, "RK_UNICORN_FAST_STORES=0", false);
}

static void test_patch_without_effect(void **state)
{
	(void)state;
	check_slow(SC_NO_PATCH, "a store still invalidates", true);
}

/* The proof fails after the byte was patched: it is put back (stores are seen again). */
static void test_proof_fails_after_patch(void **state)
{
	(void)state;
	check_slow(SC_NO_IC, "IC IVAU did not invalidate", true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fast_stage2),
		cmocka_unit_test(test_fast_hooks),
		cmocka_unit_test(test_fast_through_mprotect),
		cmocka_unit_test(test_bad_env_value),
		cmocka_unit_test(test_opt_out),
		cmocka_unit_test(test_patch_without_effect),
		cmocka_unit_test(test_proof_fails_after_patch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
