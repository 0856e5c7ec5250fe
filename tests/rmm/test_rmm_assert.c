/* SPDX-License-Identifier: MIT */
/*
 * RK_ASSERT (src/common/include/common/assert.h) guards the RMM's internal
 * invariants in builds with RK_ASSERTS on (Debug, sanitizers, -DRK_ASSERTS=ON):
 * each death test breaks one invariant in a child process and expects it to
 * die of SIGABRT with "file:line: function: assertion `expression' failed" on
 * stderr; each control does the same thing the right way and expects a clean
 * exit. Skipped (with a message) where asserts are compiled out.
 *
 * Invariants: a granule's state and refcount change only under its lock (L1,
 * L5 in src/rmm/granule.h); a refcount never goes below zero; the RTT walker
 * stays within levels [start, 3] and descends only into RTTs.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/assert.h"
#include "machine.h"
#include "rk_test.h"
#include "rmm/realm.h"
#include "rmm/s2tt.h"

#define MIB (1ULL << 20)

static void need_asserts(void)
{
	if (!RK_ASSERTS_ON) {
		print_message("RK_ASSERTS is off in this build (configure with -DRK_ASSERTS=ON): skipped\n");
		skip();
	}
}

/*
 * Run fn(arg) in a child. Returns its wait status; its stderr goes to err
 * (at most len - 1 bytes, NUL-terminated).
 */
static int in_child(void (*fn)(void *), void *arg, char *err, size_t len)
{
	int fds[2], status = 0;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		close(fds[1]);
		fn(arg);
		_exit(0);
	}
	close(fds[1]);
	while (got + 1 < len && (n = read(fds[0], err + got, len - 1 - got)) > 0)
		got += (size_t)n;
	err[got] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/* "realmkit: <path>.c:<line>: " or .h */
static bool names_file_line(const char *err)
{
	const char *p = strstr(err, "realmkit: ");

	if (!p)
		return false;
	for (p += strlen("realmkit: "); *p && *p != ' '; p++)
		if ((p[0] == '.' && (p[1] == 'c' || p[1] == 'h') && p[2] == ':') && p[3] >= '0' &&
		    p[3] <= '9')
			return true;
	return false;
}

static void expect_abort(void (*fn)(void *), void *arg, const char *func, const char *expr)
{
	char err[4096];
	int status = in_child(fn, arg, err, sizeof(err));

	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
		fail_msg("expected SIGABRT, got status 0x%x; stderr: %s", status, err);
	char want[256];
	snprintf(want, sizeof(want), "%s: assertion `%s' failed", func, expr);
	if (!strstr(err, want) || !names_file_line(err))
		fail_msg("stderr does not name file:line, %s and `%s': %s", func, expr, err);
}

static void expect_clean(void (*fn)(void *), void *arg)
{
	char err[4096];
	int status = in_child(fn, arg, err, sizeof(err));

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("expected a clean exit, got status 0x%x; stderr: %s", status, err);
}

/* ---- granule state and refcount: under the granule's lock ---- */

static void set_state_unlocked(void *arg)
{
	struct granule *g = arg;

	granule_set_state(g, GRANULE_STATE_DELEGATED);
}

static void set_state_locked(void *arg)
{
	struct granule *g = arg;

	granule_lock(g);
	granule_set_state(g, GRANULE_STATE_DELEGATED);
	granule_unlock(g);
}

static void refcount_inc_unlocked(void *arg)
{
	granule_refcount_inc(arg);
}

static void refcount_set_unlocked(void *arg)
{
	granule_set_refcount(arg, 3);
}

static void refcount_underflow(void *arg)
{
	struct granule *g = arg;

	granule_lock(g);
	granule_refcount_inc(g);
	granule_refcount_dec(g);
	granule_refcount_dec(g); /* below zero */
	granule_unlock(g);
}

static void refcount_balanced(void *arg)
{
	struct granule *g = arg;

	granule_lock(g);
	granule_refcount_inc(g);
	granule_set_refcount(g, 2);
	granule_refcount_dec(g);
	granule_refcount_dec(g);
	granule_unlock(g);
}

static void unlock_unlocked(void *arg)
{
	granule_unlock(arg);
}

static void test_granule_lock_held(void **state)
{
	struct granule g = { 0 };

	(void)state;
	need_asserts();
	expect_abort(set_state_unlocked, &g, "granule_set_state", "granule_locked(g)");
	expect_abort(refcount_inc_unlocked, &g, "granule_refcount_inc", "granule_locked(g)");
	expect_abort(refcount_set_unlocked, &g, "granule_set_refcount", "granule_locked(g)");
	expect_abort(unlock_unlocked, &g, "granule_unlock",
		     "atomic_load_explicit(&g->lock, memory_order_relaxed)");
	expect_clean(set_state_locked, &g);
}

static void test_refcount_underflow(void **state)
{
	struct granule g = { 0 };

	(void)state;
	need_asserts();
	expect_abort(refcount_underflow, &g, "granule_refcount_dec", "g->refcount > 0");
	expect_clean(refcount_balanced, &g);
}

/* ---- the RTT walker ---- */

struct walk_case {
	struct rk_machine *m;
	uint64_t rd;
	uint64_t ipa;
	int target_level;
};

static void walk(void *arg)
{
	struct walk_case *c = arg;
	struct rmm *rmm = machine_rmm(c->m);
	struct s2tt_ctx s2;
	struct rtt_walk w;
	struct granule *g_rd = rd_lock(rmm, c->rd, &s2);

	granule_unlock(g_rd);
	s2tt_walk_lock(rmm, &s2, c->ipa, c->target_level, &w);
	granule_unlock(w.g);
}

static void test_walker_levels(void **state)
{
	struct rk_machine *m = t_machine(64);
	const uint64_t rd = T_DRAM_BASE + 16 * MIB, root = rd + 2 * G, l2 = rd + 4 * G;
	const uint64_t params = T_DRAM_BASE + 32 * MIB;
	struct walk_case c = { m, rd, 0, 3 };

	(void)state;
	if (!RK_ASSERTS_ON) {
		rk_machine_destroy(m);
		need_asserts();
	}
	/* a realm with a level-2 RTT under the first root entry */
	assert_int_equal(t_realm_create(m, rd, root, 40, 1, 2, params, RMI_HASH_SHA_256), RMI_SUCCESS);
	t_delegate(m, l2, 1);
	assert_int_equal(RMI(m, RMI_FID_RTT_CREATE, NULL, rd, l2, 0ULL, 2ULL), RMI_SUCCESS);
	expect_clean(walk, &c);

	/* a target level below the leaves */
	c.target_level = 4;
	expect_abort(walk, &c, "s2tt_walk_lock", "target_level >= level && target_level <= S2_MAX_LEVEL");
	/* above the root */
	c.target_level = 0;
	expect_abort(walk, &c, "s2tt_walk_lock", "target_level >= level && target_level <= S2_MAX_LEVEL");
	/* an IPA beyond the realm's */
	c.target_level = 3;
	c.ipa = 1ULL << 40;
	expect_abort(walk, &c, "s2tt_walk_lock",
		     "ipa < s2tt_ipa_limit(c) && root_idx / S2_ENTRIES < c->num_root");

	/* a TABLE entry that leads to a granule that is no RTT (only the RMM writes them) */
	c.ipa = 0;
	uint64_t *t = (uint64_t *)granule_ptr(machine_rmm(m), granule_from_pa(machine_rmm(m), root));
	uint64_t saved = t[0];
	t_delegate(m, l2 + G, 1);
	t[0] = s2tte_table(l2 + G);
	expect_abort(walk, &c, "s2tt_walk_lock", "granule_state(child) == GRANULE_STATE_RTT");
	t[0] = saved;
	expect_clean(walk, &c);
	rk_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_granule_lock_held),
		cmocka_unit_test(test_refcount_underflow),
		cmocka_unit_test(test_walker_levels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
