/* SPDX-License-Identifier: MIT */
/*
 * Fault injection on every RMI command the host issues, at every position in
 * a realm's build and teardown (and at boot): run the scenario once to count
 * the calls of each command, then once per (command, position) with that call
 * failing. After each run:
 *   - the VM is DEAD (teardown never stops halfway),
 *   - every granule of DRAM is UNDELEGATED in the RMM, or LEAKED in the host's
 *     ledger and listed in the leak report (and the report adds up),
 *   - the ledger saw no double free or free of delegated memory,
 *   - a second, clean build and teardown on the same host succeeds, leaks
 *     nothing more and leaves every leaked granule as it was (never reused).
 * ASan/UBSan (CI) catch crashes and double frees of host memory.
 *
 * Three sweeps: ERROR_INPUT everywhere; BUSY everywhere (must be invisible:
 * the wrapper retries); ERROR_RTT(2) on the RTT and mapping commands (the
 * create-levels-and-retry paths).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "realmkit/host.h"
#include "rk_test.h"

#define MIB (1ULL << 20)
#define DRAM_MIB 32
#define NGRANULES (DRAM_MIB * MIB / G)
#define SHARED_IPA (1ULL << 39)

static const uint64_t build_fids[] = {
	RMI_FID_GRANULE_RANGE_DELEGATE,
	RMI_FID_GRANULE_RANGE_UNDELEGATE,
	RMI_FID_REALM_CREATE,
	RMI_FID_RTT_CREATE,
	RMI_FID_RTT_DATA_MAP_INIT,
	RMI_FID_RTT_DATA_MAP,
	RMI_FID_RTT_UNPROT_MAP,
	RMI_FID_RTT_DATA_UNMAP,
	RMI_FID_RTT_UNPROT_UNMAP,
	RMI_FID_RTT_FOLD,
	RMI_FID_RTT_READ_ENTRY,
	RMI_FID_RTT_INIT_RIPAS,
	RMI_FID_REC_CREATE,
	RMI_FID_OP_MEM_DONATE,
	RMI_FID_OP_CONTINUE,
	RMI_FID_REALM_ACTIVATE,
	RMI_FID_REALM_TERMINATE,
	RMI_FID_RTT_DESTROY,
	RMI_FID_REC_DESTROY,
	RMI_FID_OP_MEM_RECLAIM,
	RMI_FID_REALM_DESTROY,
};

static const uint64_t boot_fids[] = {
	RMI_FID_VERSION,
	RMI_FID_FEATURES,
	RMI_FID_RMM_CONFIG_SET,
	RMI_FID_RMM_ACTIVATE,
	RMI_FID_GRANULE_TRACKING_GET,
	RMI_FID_GPT_L1_CREATE,
};

static uint8_t image[64 * 1024];
static char current[128]; /* the run being checked, for failure messages */

struct run {
	struct rk_machine *m;
	struct rk_host *h;
};

static void run_start(struct run *r, const struct rk_host_config *hc)
{
	struct rk_machine_config cfg;

	rk_machine_config_default(&cfg);
	cfg.dram_size = DRAM_MIB * MIB;
	assert_int_equal(rk_machine_create(&cfg, &r->m), 0);
	assert_int_equal(rk_host_create(r->m, hc, &r->h), 0);
}

static void run_end(struct run *r)
{
	rk_host_destroy(r->h);
	rk_machine_destroy(r->m);
}

static int count_entry(void *arg, const struct rk_s2_entry *e)
{
	(void)arg;
	return e->mismatch ? -EIO : 0;
}

/*
 * Build a realm (private and shared memory, measured and unmeasured
 * populate, a split and a fold, two vCPUs), activate it, dump a little, and
 * destroy it. Returns the number of steps that failed; the VM is DEAD after.
 */
static int scenario(struct rk_host *h)
{
	struct rk_vm_config cfg;
	struct rk_vm *vm;
	int failed = 0;

	rk_vm_config_default(&cfg, RK_VM_REALM);
	assert_int_equal(rk_vm_create(h, &cfg, &vm), 0);
	failed += rk_vm_add_memslot(vm, 0, 4 * MIB, 0) != 0;
	failed += rk_vm_add_memslot(vm, SHARED_IPA, MIB, RK_MEMSLOT_SHARED) != 0;
	failed += rk_vm_populate(vm, 0, image, 32 * 1024, RK_POPULATE_MEASURE) != 0;
	failed += rk_vm_populate(vm, 32 * 1024, image, 8 * 1024, 0) != 0;
	failed += rk_vm_map(vm, MIB, 3 * MIB) != 0;
	failed += rk_vm_map(vm, SHARED_IPA, 64 * 1024) != 0;
	failed += rk_vm_unmap(vm, 2 * MIB + 4 * G, G) != 0; /* splits the block */
	failed += rk_vm_map(vm, 2 * MIB + 4 * G, G) != 0;
	failed += rk_vm_fold(vm, 2 * MIB, 2 * MIB) != 0; /* and folds it back */
	failed += rk_vcpu_create(vm, 0, NULL) != 0;
	failed += rk_vcpu_create(vm, 1, NULL) != 0;
	failed += rk_vm_activate(vm) != 0;
	failed += rk_vm_unmap(vm, SHARED_IPA, 4 * G) != 0;
	failed += rk_vm_s2_dump(vm, 0, 8 * G, count_entry, NULL) != 0;
	failed += rk_vm_destroy(vm) != 0;
	assert_int_equal(rk_vm_get_state(vm), RK_VM_DEAD);
	rk_vm_free(vm);
	return failed;
}

struct snapshot {
	uint8_t rmm_state[NGRANULES];
	uint8_t leaked[NGRANULES];
	uint64_t nleaked;
};

/* Every granule UNDELEGATED or LEAKED; ledger and report consistent. Fills s. */
static void check_accounted(const struct run *r, struct snapshot *s)
{
	struct rk_host_stats st;
	struct rk_leak *leaks;
	uint64_t reported = 0;
	size_t n;

	s->nleaked = 0;
	for (uint64_t i = 0; i < NGRANULES; i++) {
		uint64_t pa = T_DRAM_BASE + i * G;
		struct rk_granule_info gi;
		enum granule_state gs = t_gstate(r->m, pa);

		assert_int_equal(rk_host_granule_info(r->h, pa, &gi), 0);
		s->rmm_state[i] = (uint8_t)gs;
		s->leaked[i] = gi.state == RK_GRANULE_LEAKED;
		if (s->leaked[i]) {
			s->nleaked++;
			continue;
		}
		if (gs != GRANULE_STATE_NS)
			fail_msg("%s: granule 0x%" PRIx64 " is in RMM state %d but not leaked (host: %s %s)",
				 current, pa, gs, rk_granule_state_name(gi.state),
				 rk_granule_role_name(gi.role));
		assert_true(gi.state == RK_GRANULE_FREE || gi.state == RK_GRANULE_HOST);
	}
	t_check_gpt_consistent(r->m, NULL);
	rk_host_get_stats(r->h, &st);
	if (st.ledger_errors)
		fail_msg("%s: %" PRIu64 " ledger error(s)", current, st.ledger_errors);
	assert_int_equal(st.granules_leaked, s->nleaked);
	n = rk_host_leak_report(r->h, NULL, 0);
	leaks = calloc(n + 1, sizeof(*leaks));
	assert_int_equal(rk_host_leak_report(r->h, leaks, n), n);
	for (size_t i = 0; i < n; i++) {
		reported += leaks[i].ngranules;
		for (uint64_t g = 0; g < leaks[i].ngranules; g++)
			assert_true(s->leaked[(leaks[i].pa - T_DRAM_BASE) / G + g]);
	}
	free(leaks);
	assert_int_equal(reported, s->nleaked);
}

static uint64_t count_calls(uint64_t fid)
{
	struct run r;
	uint64_t n;

	run_start(&r, NULL);
	uint64_t before = rk_host_rmi_count(r.h, fid);
	assert_int_equal(scenario(r.h), 0);
	n = rk_host_rmi_count(r.h, fid) - before;
	run_end(&r);
	return n;
}

struct sweep_stats {
	unsigned int runs, runs_with_leaks, runs_failed_steps;
	uint64_t leaked;
};

static void one_faulty_run(uint64_t fid, uint32_t nth, uint64_t status, bool must_be_clean,
			   struct sweep_stats *ss)
{
	static struct snapshot before, after;
	struct run r;
	int failed;

	snprintf(current, sizeof(current), "%s #%u -> %s", rk_rmi_command_name(fid), nth,
		 rk_rmi_status_name(status));
	run_start(&r, NULL);
	assert_int_equal(rk_host_inject_fault(r.h, fid, nth, status), 0);
	failed = scenario(r.h);
	if (rk_host_faults_fired(r.h) != 1)
		fail_msg("%s #%u did not happen", rk_rmi_command_name(fid), nth);
	check_accounted(&r, &before);
	if (must_be_clean && (failed || before.nleaked))
		fail_msg("%s #%u -> %s: %d step(s) failed, %" PRIu64 " leaked: %s", rk_rmi_command_name(fid),
			 nth, rk_rmi_status_name(status), failed, before.nleaked,
			 rk_host_last_error(r.h)->msg);
	if (getenv("RK_VERBOSE"))
		print_message("%-48s %d failed step(s), %" PRIu64 " leaked%s%s\n", current, failed,
			      before.nleaked, failed ? ": " : "", failed ? rk_host_last_error(r.h)->msg : "");
	ss->runs++;
	ss->runs_failed_steps += failed != 0;
	ss->runs_with_leaks += before.nleaked != 0;
	ss->leaked += before.nleaked;
	/* the same host builds and destroys a realm again: no new leak, leaked granules untouched */
	if (scenario(r.h))
		fail_msg("after %s #%u -> %s: the clean run failed: %s", rk_rmi_command_name(fid), nth,
			 rk_rmi_status_name(status), rk_host_last_error(r.h)->msg);
	check_accounted(&r, &after);
	assert_int_equal(after.nleaked, before.nleaked);
	for (uint64_t i = 0; i < NGRANULES; i++) {
		assert_int_equal(after.leaked[i], before.leaked[i]);
		if (before.leaked[i])
			assert_int_equal(after.rmm_state[i], before.rmm_state[i]);
	}
	run_end(&r);
}

static void sweep(uint64_t status, const uint64_t *fids, size_t nfids, bool must_be_clean, const char *name)
{
	struct sweep_stats ss;

	memset(&ss, 0, sizeof(ss));
	for (size_t f = 0; f < nfids; f++) {
		uint64_t n = count_calls(fids[f]);
		assert_true(n > 0); /* the scenario does exercise this command */
		for (uint32_t nth = 1; nth <= n; nth++)
			one_faulty_run(fids[f], nth, status, must_be_clean, &ss);
	}
	print_message("%s: %u runs, %u with failed steps, %u with leaks (%" PRIu64
		      " granules leaked in all)\n",
		      name, ss.runs, ss.runs_failed_steps, ss.runs_with_leaks, ss.leaked);
}

static void test_sweep_error_input(void **state)
{
	(void)state;
	sweep(RMI_ERROR_INPUT, build_fids, sizeof(build_fids) / sizeof(build_fids[0]), false, "ERROR_INPUT");
}

static void test_sweep_busy_is_invisible(void **state)
{
	(void)state;
	sweep(RMI_BUSY, build_fids, sizeof(build_fids) / sizeof(build_fids[0]), true, "BUSY");
}

static void test_sweep_error_rtt(void **state)
{
	static const uint64_t rtt_fids[] = {
		RMI_FID_RTT_CREATE,     RMI_FID_RTT_DATA_MAP_INIT, RMI_FID_RTT_DATA_MAP,
		RMI_FID_RTT_UNPROT_MAP, RMI_FID_RTT_DATA_UNMAP,    RMI_FID_RTT_UNPROT_UNMAP,
		RMI_FID_RTT_INIT_RIPAS, RMI_FID_RTT_DESTROY,       RMI_FID_RTT_FOLD,
	};

	(void)state;
	sweep(RMI_ERROR_RTT | (2u << 8), rtt_fids, sizeof(rtt_fids) / sizeof(rtt_fids[0]), false,
	      "ERROR_RTT(2)");
}

/* A failing boot command leaves an RMM unusable for realms, never a leak. */
static void test_boot_faults(void **state)
{
	unsigned int runs = 0;

	(void)state;
	for (size_t f = 0; f < sizeof(boot_fids) / sizeof(boot_fids[0]); f++) {
		struct run r;

		run_start(&r, NULL);
		uint64_t n = rk_host_rmi_count(r.h, boot_fids[f]);
		run_end(&r);
		assert_true(n > 0);
		for (uint32_t nth = 1; nth <= n; nth++) {
			struct rk_host_fault fault = {
				boot_fids[f], { RMI_ERROR_INPUT, 0, 0, 0, 0 }, nth, 0
			};
			struct rk_host_config hc = { NULL, &fault, 1, 0 };
			struct rk_host_caps caps;
			struct rk_vm_config cfg;
			struct rk_vm *vm;
			struct snapshot *s = malloc(sizeof(*s));

			run_start(&r, &hc);
			assert_int_equal(rk_host_caps(r.h, &caps), 0);
			assert_false(caps.rmm_usable);
			rk_vm_config_default(&cfg, RK_VM_REALM);
			assert_int_equal(rk_vm_create(r.h, &cfg, &vm), -ENODEV);
			assert_non_null(
				strstr(rk_host_last_error(r.h)->msg, rk_rmi_command_name(boot_fids[f])));
			rk_vm_config_default(&cfg, RK_VM_NORMAL);
			assert_int_equal(rk_vm_create(r.h, &cfg, &vm), 0);
			assert_int_equal(rk_vm_add_memslot(vm, 0, MIB, 0), 0);
			assert_int_equal(rk_vm_populate(vm, 0, image, sizeof(image), 0), 0);
			assert_int_equal(rk_vm_destroy(vm), 0);
			check_accounted(&r, s);
			assert_int_equal(s->nleaked, 0);
			free(s);
			run_end(&r);
			runs++;
		}
	}
	print_message("boot: %u runs\n", runs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_faults),
		cmocka_unit_test(test_sweep_busy_is_invisible),
		cmocka_unit_test(test_sweep_error_input),
		cmocka_unit_test(test_sweep_error_rtt),
	};

	for (size_t i = 0; i < sizeof(image); i++)
		image[i] = (uint8_t)(i * 31 + 7);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
