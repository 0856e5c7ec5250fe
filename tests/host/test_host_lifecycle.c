/* SPDX-License-Identifier: MIT */
/*
 * Host VM lifecycle: every transition (explicit and implicit), every illegal
 * operation in every state (including DYING, reached from inside a teardown
 * through the SMC filter), the host state <-> RMM realm state correspondence
 * (asked of the RMM by probes, and checked against the RMM's own record), the
 * teardown order, the RIM prediction, and docs/lifecycle.md against the
 * tables in the code.
 *
 *   test_host_lifecycle --update-doc docs/lifecycle.md   regenerates the doc tables
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"
#include "realmkit/host.h"
#include "rk_test.h"
#include "rmm/realm.h"

#define MIB (1ULL << 20)
#define ALL_RMM_STATES 0xfu

static struct rk_machine *m;
static struct rk_host *h;

static int setup(void **state)
{
	struct rk_machine_config cfg;

	(void)state;
	rk_machine_config_default(&cfg);
	cfg.dram_size = 128 * MIB;
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

/* Every granule is UNDELEGATED, or LEAKED in the host's ledger; the leak report adds up. */
static void check_accounted(void)
{
	struct rk_host_stats st;
	uint64_t leaked = 0, reported = 0;
	struct rk_leak leaks[256];
	size_t n;

	for (uint64_t pa = T_DRAM_BASE; pa < T_DRAM_BASE + 128 * MIB; pa += G) {
		struct rk_granule_info gi;
		assert_int_equal(rk_host_granule_info(h, pa, &gi), 0);
		if (gi.state == RK_GRANULE_LEAKED)
			leaked++;
		else if (gi.state == RK_GRANULE_FREE || gi.state == RK_GRANULE_HOST)
			assert_int_equal(t_gstate(m, pa), GRANULE_STATE_NS);
	}
	rk_host_get_stats(h, &st);
	assert_int_equal(st.ledger_errors, 0);
	assert_int_equal(st.granules_leaked, leaked);
	n = rk_host_leak_report(h, leaks, 256);
	for (size_t i = 0; i < n && i < 256; i++)
		reported += leaks[i].ngranules;
	assert_int_equal(reported, leaked);
}

static void expect_err(int ret, int err, const char *needle)
{
	const struct rk_host_error *e = rk_host_last_error(h);

	if (ret != err || (needle && !strstr(e->msg, needle)))
		fail_msg("expected %d containing '%s', got %d: %s", err, needle ? needle : "", ret, e->msg);
}

static struct rk_vm *new_vm(enum rk_vm_kind kind)
{
	struct rk_vm_config cfg;
	struct rk_vm *vm;

	rk_vm_config_default(&cfg, kind);
	assert_int_equal(rk_vm_create(h, &cfg, &vm), 0);
	assert_int_equal(rk_vm_add_memslot(vm, 0, 4 * MIB, 0), 0);
	return vm;
}

/* The RMM's own record of the realm state (tests look inside). */
static int rmm_state(struct rk_vm *vm)
{
	rk_rd_t rd;
	struct rmm *rmm = machine_rmm(m);

	if (rk_vm_rd(vm, &rd))
		return -1;
	if (t_gstate(m, rd.pa) != GRANULE_STATE_RD)
		return -1;
	return rd_of(rmm, granule_from_pa(rmm, rd.pa))->state;
}

/* The probes agree with the RMM, and the host state's documented RMM states admit it. */
static void check_correspondence(struct rk_vm *vm)
{
	uint32_t mask = rk_vm_rmm_realm_states(vm);
	int actual = rmm_state(vm);
	const struct rk_vm_state_info *si = rk_vm_state_info(rk_vm_get_state(vm));

	if (actual < 0) {
		assert_int_equal(mask, 0);
		assert_int_equal(si->rmm_mask & 0, 0);
	} else {
		assert_true(mask & (1u << actual));
		assert_true(si->rmm_mask & (1u << actual));
	}
}

static uint8_t image[256 * 1024];

static void fill_image(void)
{
	for (size_t i = 0; i < sizeof(image); i++)
		image[i] = (uint8_t)(i * 13 + (i >> 12));
}

static void test_realm_explicit_transitions(void **state)
{
	struct rk_vm *vm = new_vm(RK_VM_REALM);

	(void)state;
	fill_image();
	assert_int_equal(rk_vm_get_state(vm), RK_VM_NONE);
	check_correspondence(vm);
	assert_int_equal(rk_vm_realm_create(vm), 0);
	assert_int_equal(rk_vm_get_state(vm), RK_VM_NEW);
	assert_int_equal(rk_vm_rmm_realm_states(vm), 1u << RMI_REALM_STATE_NEW);
	check_correspondence(vm);
	assert_int_equal(rk_vm_populate(vm, 0, image, sizeof(image), RK_POPULATE_MEASURE), 0);
	assert_int_equal(rk_vm_map(vm, 2 * MIB, 2 * MIB), 0);
	assert_int_equal(rk_vcpu_create(vm, 0, NULL), 0);
	assert_int_equal(rk_vcpu_create(vm, 1, NULL), 0);
	assert_int_equal(rk_vm_activate(vm), 0);
	assert_int_equal(rk_vm_get_state(vm), RK_VM_ACTIVE);
	assert_int_equal(rk_vm_rmm_realm_states(vm), 1u << RMI_REALM_STATE_ACTIVE);
	check_correspondence(vm);
	assert_int_equal(rk_vm_destroy(vm), 0);
	assert_int_equal(rk_vm_get_state(vm), RK_VM_DEAD);
	check_correspondence(vm);
	assert_int_equal(rk_host_leaked_granules(h), 0);
	rk_vm_free(vm);
	t_assert_all_undelegated(m);
	check_accounted();
}

static void test_realm_implicit_create_on_populate(void **state)
{
	struct rk_vm *vm = new_vm(RK_VM_REALM);

	(void)state;
	assert_int_equal(rk_vm_populate(vm, 0, image, 4096, 0), 0);
	assert_int_equal(rk_vm_get_state(vm), RK_VM_NEW);
	check_correspondence(vm);
	rk_vm_free(vm); /* destroys it */
	t_assert_all_undelegated(m);
}

static void test_realm_implicit_create_on_map_and_activate(void **state)
{
	struct rk_vm *vm = new_vm(RK_VM_REALM), *vm2 = new_vm(RK_VM_REALM);

	(void)state;
	assert_int_equal(rk_vm_map(vm, 0, 4 * MIB), 0);
	assert_int_equal(rk_vm_get_state(vm), RK_VM_NEW);
	assert_int_equal(rk_vm_activate(vm2), 0); /* NONE -> NEW -> ACTIVE */
	assert_int_equal(rk_vm_get_state(vm2), RK_VM_ACTIVE);
	check_correspondence(vm2);
	assert_int_equal(rk_vm_destroy(vm), 0);
	assert_int_equal(rk_vm_destroy(vm2), 0);
	rk_vm_free(vm);
	rk_vm_free(vm2);
	t_assert_all_undelegated(m);
}

static void test_realm_implicit_activate_on_run(void **state)
{
	struct rk_vm *vm = new_vm(RK_VM_REALM);

	(void)state;
	assert_int_equal(rk_vcpu_create(vm, 0, NULL), 0);
	/* NONE: the first run creates and activates the realm, as Linux v14's first KVM_RUN;
	 * a stop requested before it makes it return at once (KVM's immediate_exit) */
	rk_vm_stop(vm);
	assert_int_equal(rk_vcpu_run(vm, 0), -EINTR);
	assert_int_equal(rk_vm_get_state(vm), RK_VM_ACTIVE);
	check_correspondence(vm);
	/* the second run does not activate again */
	assert_int_equal(rk_vcpu_run(vm, 0), -EINTR);
	assert_int_equal(rk_vm_destroy(vm), 0);
	rk_vm_free(vm);
	t_assert_all_undelegated(m);
}

static void test_normal_transitions(void **state)
{
	struct rk_vm *vm = new_vm(RK_VM_NORMAL);

	(void)state;
	assert_int_equal(rk_vm_get_state(vm), RK_VM_NEW); /* normal VMs skip NONE */
	assert_int_equal(rk_vm_rmm_realm_states(vm), 0);
	expect_err(rk_vm_realm_create(vm), -EINVAL, "not a realm");
	assert_int_equal(rk_vm_populate(vm, 0, image, sizeof(image), 0), 0);
	assert_int_equal(rk_vcpu_create(vm, 0, NULL), 0);
	rk_vm_stop(vm);
	assert_int_equal(rk_vcpu_run(vm, 0), -EINTR);
	assert_int_equal(rk_vm_get_state(vm), RK_VM_ACTIVE);
	assert_int_equal(rk_vm_destroy(vm), 0);
	assert_int_equal(rk_vm_get_state(vm), RK_VM_DEAD);
	rk_vm_free(vm);
	check_accounted();
}

static void test_illegal_operations(void **state)
{
	struct rk_vm_config cfg;
	struct rk_host_caps caps;
	struct rk_vm *vm = new_vm(RK_VM_REALM), *bad;

	(void)state;
	assert_int_equal(rk_host_caps(h, &caps), 0);
	/* run before create */
	expect_err(rk_vcpu_run(vm, 0), -ENOENT, "has not been created");
	expect_err(rk_vcpu_create(vm, 1, NULL), -EINVAL, "dense");
	assert_int_equal(rk_vcpu_create(vm, 0, NULL), 0);
	expect_err(rk_vcpu_create(vm, 0, NULL), -EEXIST, "dense");
	/* bad ranges */
	expect_err(rk_vm_populate(vm, 8 * MIB, image, 4096, 0), -EFAULT, "memory slot");
	expect_err(rk_vm_populate(vm, 3 * MIB + 4096, image, MIB, 0), -EFAULT, "memory slot");
	expect_err(rk_vm_populate(vm, 100, image, 4096, 0), -EINVAL, NULL);
	expect_err(rk_vm_add_memslot(vm, 2 * MIB, 4 * MIB, 0), -EEXIST, "overlaps");
	expect_err(rk_vm_add_memslot(vm, 1ULL << 39, MIB, 0), -EINVAL, "protected half");
	expect_err(rk_vm_add_memslot(vm, 0x10000000, MIB, RK_MEMSLOT_SHARED), -EINVAL, "unprotected half");
	/* populate twice at the same place */
	assert_int_equal(rk_vm_populate(vm, 0, image, 8192, 0), 0);
	expect_err(rk_vm_populate(vm, 4096, image, 4096, 0), -EEXIST, "already mapped");
	assert_int_equal(rk_vm_activate(vm), 0);
	/* populate after activate, activate twice, vCPU after activate, realm create twice */
	expect_err(rk_vm_populate(vm, 2 * MIB, image, 4096, 0), -EPERM, "populate after activate");
	expect_err(rk_vm_activate(vm), -EPERM, "ACTIVE");
	expect_err(rk_vcpu_create(vm, 1, NULL), -EPERM, "ACTIVE");
	expect_err(rk_vm_realm_create(vm), -EPERM, "ACTIVE");
	/* destroy twice */
	assert_int_equal(rk_vm_destroy(vm), 0);
	expect_err(rk_vm_destroy(vm), -EPERM, "already destroyed");
	expect_err(rk_vm_map(vm, 0, 4096), -EPERM, "DEAD");
	expect_err(rk_vcpu_run(vm, 0), -EPERM, "DEAD");
	rk_vm_free(vm);

	/* creation: IPA size against rmi_ipa_limit, hash algorithm against FR1 */
	rk_vm_config_default(&cfg, RK_VM_REALM);
	cfg.ipa_bits = caps.rmi_ipa_limit + 1;
	expect_err(rk_vm_create(h, &cfg, &bad), -EINVAL, "rmi_ipa_limit");
	cfg.ipa_bits = 31;
	expect_err(rk_vm_create(h, &cfg, &bad), -EINVAL, "rmi_ipa_limit");
	rk_vm_config_default(&cfg, RK_VM_REALM);
	cfg.hash_algo = 3;
	expect_err(rk_vm_create(h, &cfg, &bad), -EINVAL, "hash algorithm");
	rk_vm_config_default(&cfg, RK_VM_NORMAL);
	cfg.ipa_bits = caps.host_ipa_limit + 1;
	expect_err(rk_vm_create(h, &cfg, &bad), -EINVAL, "host_ipa_limit");
	t_assert_all_undelegated(m);
	check_accounted();
}

/* ---- the legality matrix, checked by calling every operation in every state ---- */

static int invoke(struct rk_vm *vm, enum rk_vm_op op)
{
	switch (op) {
	case RK_OP_REALM_CREATE:
		return rk_vm_realm_create(vm);
	case RK_OP_ADD_MEMSLOT:
		return rk_vm_add_memslot(vm, 16 * MIB, MIB, 0);
	case RK_OP_POPULATE:
		return rk_vm_populate(vm, MIB, image, 4096, 0);
	case RK_OP_MAP:
		return rk_vm_map(vm, 2 * MIB, 2 * MIB);
	case RK_OP_UNMAP:
		return rk_vm_unmap(vm, 2 * MIB, 2 * MIB);
	case RK_OP_VCPU_CREATE:
		return rk_vcpu_create(vm, 0, NULL);
	case RK_OP_ACTIVATE:
		return rk_vm_activate(vm);
	case RK_OP_RUN:
		rk_vm_stop(vm); /* return at once (after activating) */
		return rk_vcpu_run(vm, 0);
	case RK_OP_DESTROY:
		return rk_vm_destroy(vm);
	default:
		return -EINVAL;
	}
}

struct dying_probe {
	struct rk_vm *vm;
	int results[RK_OP_COUNT];
	bool done;
};

/* Called for every RMI call; during the teardown the VM is DYING: try every operation. */
static bool dying_filter(void *arg, struct rk_smc_regs *regs)
{
	struct dying_probe *p = arg;

	if (!p->done && regs->x[0] == RMI_FID_REALM_TERMINATE) {
		p->done = true;
		assert_int_equal(rk_vm_get_state(p->vm), RK_VM_DYING);
		for (int op = 0; op < RK_OP_COUNT; op++)
			p->results[op] = invoke(p->vm, (enum rk_vm_op)op);
	}
	return false;
}

static struct rk_vm *vm_in_state(enum rk_vm_kind kind, enum rk_vm_state s)
{
	struct rk_vm *vm = new_vm(kind);

	if (s >= RK_VM_NEW && kind == RK_VM_REALM)
		assert_int_equal(rk_vm_realm_create(vm), 0);
	if (s == RK_VM_ACTIVE || s == RK_VM_DEAD) {
		assert_int_equal(rk_vcpu_create(vm, 0, NULL), 0);
		assert_int_equal(rk_vm_activate(vm), 0);
	}
	if (s == RK_VM_DEAD)
		assert_int_equal(rk_vm_destroy(vm), 0);
	assert_int_equal(rk_vm_get_state(vm), s);
	return vm;
}

static void test_legality_matrix(void **state)
{
	size_t nops;
	const struct rk_vm_op_info *ops = rk_vm_ops(&nops);

	(void)state;
	assert_int_equal(nops, RK_OP_COUNT);
	for (int kind = RK_VM_NORMAL; kind <= RK_VM_REALM; kind++) {
		for (int s = RK_VM_NONE; s < RK_VM_NSTATES; s++) {
			if (s == RK_VM_DYING || (kind == RK_VM_NORMAL && s == RK_VM_NONE))
				continue;
			for (int op = 0; op < RK_OP_COUNT; op++) {
				struct rk_vm *vm = vm_in_state((enum rk_vm_kind)kind, (enum rk_vm_state)s);
				int ret = invoke(vm, (enum rk_vm_op)op);
				bool legal = ops[op].legal & (1u << s);
				if (op == RK_OP_REALM_CREATE && kind == RK_VM_NORMAL)
					assert_int_equal(ret, -EINVAL);
				else if (legal)
					assert_int_not_equal(ret, -EPERM);
				else
					expect_err(ret, -EPERM, rk_vm_state_name((enum rk_vm_state)s));
				rk_vm_free(vm);
			}
		}
		/* DYING: from inside the teardown */
		struct dying_probe p;
		memset(&p, 0, sizeof(p));
		p.vm = vm_in_state((enum rk_vm_kind)kind, RK_VM_ACTIVE);
		rk_host_set_smc_filter(h, dying_filter, &p);
		if (kind == RK_VM_REALM) {
			assert_int_equal(rk_vm_destroy(p.vm), 0);
			assert_true(p.done);
			for (int op = 0; op < RK_OP_COUNT; op++) {
				assert_false(ops[op].legal & (1u << RK_VM_DYING));
				assert_int_equal(p.results[op], -EPERM);
			}
		}
		rk_host_set_smc_filter(h, NULL, NULL);
		rk_vm_free(p.vm);
	}
	t_assert_all_undelegated(m);
	check_accounted();
}

/* ---- REC creation failing: a clean error, the VM stays NEW, activation can be retried ---- */

static void test_activate_rec_failure(void **state)
{
	struct rk_vm *vm = new_vm(RK_VM_REALM);
	const struct rk_host_error *e;

	(void)state;
	assert_int_equal(rk_vcpu_create(vm, 0, NULL), 0);
	assert_int_equal(rk_vcpu_create(vm, 1, NULL), 0);
	assert_int_equal(rk_host_inject_fault(h, RMI_FID_REC_CREATE, 2, RMI_ERROR_NOT_SUPPORTED), 0);
	assert_int_equal(rk_vm_activate(vm), -EOPNOTSUPP);
	e = rk_host_last_error(h);
	assert_int_equal(e->fid, RMI_FID_REC_CREATE);
	assert_int_equal(e->x0, RMI_ERROR_NOT_SUPPORTED);
	assert_non_null(strstr(e->msg, "ERROR_NOT_SUPPORTED"));
	assert_int_equal(rk_vm_get_state(vm), RK_VM_NEW);
	check_correspondence(vm);
	/* the retry creates the missing REC only */
	uint64_t before = rk_host_rmi_count(h, RMI_FID_REC_CREATE);
	assert_int_equal(rk_vm_activate(vm), 0);
	assert_int_equal(rk_host_rmi_count(h, RMI_FID_REC_CREATE) - before, 1);
	assert_int_equal(rk_vm_destroy(vm), 0);
	rk_vm_free(vm);
	t_assert_all_undelegated(m);
	check_accounted();
}

/* ---- teardown order: terminate, unmap, RTTs, RECs, RD, undelegate ---- */

struct order_log {
	uint64_t fid[4096];
	unsigned int n;
};

static bool order_filter(void *arg, struct rk_smc_regs *regs)
{
	struct order_log *l = arg;

	if (l->n < 4096)
		l->fid[l->n++] = regs->x[0];
	return false;
}

static unsigned int first(const struct order_log *l, uint64_t fid)
{
	for (unsigned int i = 0; i < l->n; i++)
		if (l->fid[i] == fid)
			return i;
	return ~0u;
}

static unsigned int last(const struct order_log *l, uint64_t fid)
{
	unsigned int r = ~0u;

	for (unsigned int i = 0; i < l->n; i++)
		if (l->fid[i] == fid)
			r = i;
	return r;
}

static void test_teardown_order(void **state)
{
	static struct order_log log;
	struct rk_vm *vm = new_vm(RK_VM_REALM);

	(void)state;
	assert_int_equal(rk_vm_add_memslot(vm, (1ULL << 39) + 0x100000, MIB, RK_MEMSLOT_SHARED), 0);
	assert_int_equal(rk_vm_populate(vm, 0, image, 64 * 1024, RK_POPULATE_MEASURE), 0);
	assert_int_equal(rk_vm_map(vm, 2 * MIB, 2 * MIB), 0);
	assert_int_equal(rk_vm_map(vm, (1ULL << 39) + 0x100000, MIB), 0);
	assert_int_equal(rk_vcpu_create(vm, 0, NULL), 0);
	assert_int_equal(rk_vm_activate(vm), 0);
	log.n = 0;
	rk_host_set_smc_filter(h, order_filter, &log);
	assert_int_equal(rk_vm_destroy(vm), 0);
	rk_host_set_smc_filter(h, NULL, NULL);
	static const uint64_t seen[] = {
		RMI_FID_REALM_TERMINATE, RMI_FID_RTT_DATA_UNMAP, RMI_FID_RTT_UNPROT_UNMAP,
		RMI_FID_RTT_DESTROY,     RMI_FID_REC_DESTROY,    RMI_FID_OP_MEM_RECLAIM,
		RMI_FID_OP_CONTINUE,     RMI_FID_REALM_DESTROY,
	};
	for (size_t i = 0; i < sizeof(seen) / sizeof(seen[0]); i++)
		assert_int_not_equal(first(&log, seen[i]), ~0u);
	assert_int_equal(log.fid[0], RMI_FID_REALM_TERMINATE);
	assert_true(first(&log, RMI_FID_RTT_DATA_UNMAP) < first(&log, RMI_FID_RTT_DESTROY));
	assert_true(first(&log, RMI_FID_RTT_UNPROT_UNMAP) < last(&log, RMI_FID_RTT_DESTROY));
	assert_true(last(&log, RMI_FID_RTT_DESTROY) < first(&log, RMI_FID_REC_DESTROY));
	assert_true(first(&log, RMI_FID_OP_MEM_RECLAIM) < first(&log, RMI_FID_REALM_DESTROY));
	assert_true(last(&log, RMI_FID_REC_DESTROY) < first(&log, RMI_FID_REALM_DESTROY));
	assert_int_equal(log.fid[log.n - 1], RMI_FID_GRANULE_RANGE_UNDELEGATE);
	assert_true(first(&log, RMI_FID_REALM_DESTROY) < log.n - 2);
	rk_vm_free(vm);
	t_assert_all_undelegated(m);
	check_accounted();
}

/* ---- a failing step: the kernel policy ---- */

static void test_terminate_failure_leaks_rd_only(void **state)
{
	struct rk_vm *vm = new_vm(RK_VM_REALM), *vm2;
	struct rk_leak leaks[8];
	rk_rd_t rd;
	size_t n;

	(void)state;
	assert_int_equal(rk_vm_populate(vm, 0, image, 16384, RK_POPULATE_MEASURE), 0);
	assert_int_equal(rk_vm_map(vm, 2 * MIB, 2 * MIB), 0);
	assert_int_equal(rk_vm_rd(vm, &rd), 0);
	uint64_t before = rk_host_leaked_granules(h);
	assert_int_equal(rk_host_inject_fault(h, RMI_FID_REALM_TERMINATE, 1, RMI_ERROR_REALM), 0);
	expect_err(rk_vm_destroy(vm), -EIO, "leaked");
	assert_int_equal(rk_vm_get_state(vm), RK_VM_DEAD);
	/* the probe says the realm is still NEW: RMI_REALM_DESTROY was not attempted */
	assert_int_equal(rk_vm_rmm_realm_states(vm), 1u << RMI_REALM_STATE_NEW);
	check_correspondence(vm);
	/* RD + 2 root RTTs leaked; data and RTTs below the roots reclaimed */
	assert_int_equal(rk_host_leaked_granules(h) - before, 3);
	n = rk_host_leak_report(h, leaks, 8);
	assert_true(n >= 1);
	assert_int_equal(leaks[n - 1].fid, RMI_FID_REALM_TERMINATE);
	assert_int_equal(t_gstate(m, rd.pa), GRANULE_STATE_RD);
	check_accounted();
	/* the leaked granules are never reused */
	vm2 = new_vm(RK_VM_REALM);
	assert_int_equal(rk_vm_populate(vm2, 0, image, 16384, RK_POPULATE_MEASURE), 0);
	assert_int_equal(rk_vm_destroy(vm2), 0);
	assert_int_equal(t_gstate(m, rd.pa), GRANULE_STATE_RD);
	assert_int_equal(rk_host_leaked_granules(h) - before, 3);
	rk_vm_free(vm2);
	rk_vm_free(vm);
	rk_host_print_leaks(h, stdout);
	check_accounted();
}

/* ---- RIM: the host's prediction, the RMM's value, and an independent computation ---- */

static void test_rim_prediction(void **state)
{
	struct rk_vcpu_config vc;
	struct rk_vm_config cfg;
	struct rmi_realm_params p;
	struct rmi_rec_params rp;
	struct rk_host_caps caps;
	uint8_t rim[64], expect[64];
	struct rk_vm *vm;
	size_t len;
	rk_rd_t rd;

	(void)state;
	assert_int_equal(rk_host_caps(h, &caps), 0);
	for (unsigned int algo = 0; algo < 3; algo++) {
		rk_vm_config_default(&cfg, RK_VM_REALM);
		cfg.hash_algo = algo;
		cfg.rpv[0] = 0x42;
		assert_int_equal(rk_vm_create(h, &cfg, &vm), 0);
		assert_int_equal(rk_vm_add_memslot(vm, 0, 4 * MIB, 0), 0);
		memset(&vc, 0, sizeof(vc));
		vc.pc = 0x1000;
		vc.gprs[0] = 0x2000;
		vc.flags = RK_VCPU_RUNNABLE;
		assert_int_equal(rk_vcpu_create(vm, 0, &vc), 0);
		assert_int_equal(rk_vcpu_create(vm, 1, NULL), 0);
		assert_int_equal(rk_vm_populate(vm, 0, image, 10000, RK_POPULATE_MEASURE), 0);
		assert_int_equal(rk_vm_populate(vm, MIB, image, 4096, 0), 0);
		assert_int_equal(rk_vm_activate(vm), 0);
		assert_int_equal(rk_vm_rim(vm, rim, &len), 0);
		assert_int_equal(len, rk_hash_len(algo));
		/* the RMM's RIM (tests look inside) */
		assert_int_equal(rk_vm_rd(vm, &rd), 0);
		struct rmm *rmm = machine_rmm(m);
		assert_memory_equal(rd_of(rmm, granule_from_pa(rmm, rd.pa))->rim, rim, 64);
		/* independently, from the construction plan */
		memset(&p, 0, sizeof(p));
		p.s2sz = 40;
		p.hash_algo = algo;
		p.num_bps = (caps.rmi_features[0] & RMI_FR0_NUM_BPS_MASK) >> RMI_FR0_NUM_BPS_SHIFT;
		p.num_wps = (caps.rmi_features[0] & RMI_FR0_NUM_WPS_MASK) >> RMI_FR0_NUM_WPS_SHIFT;
		assert_int_equal(rk_rim_init(&p, expect), 0);
		for (uint64_t ipa = 0; ipa < 12288; ipa += 4096) {
			uint8_t page[4096] = { 0 };
			memcpy(page, image + ipa, ipa + 4096 <= 10000 ? 4096 : 10000 - ipa);
			assert_int_equal(rk_rim_extend_data(algo, expect, ipa, 1, page), 0);
		}
		assert_int_equal(rk_rim_extend_data(algo, expect, MIB, 0, NULL), 0);
		memset(&rp, 0, sizeof(rp));
		rp.flags = 1;
		rp.pc = 0x1000;
		rp.gprs[0] = 0x2000;
		assert_int_equal(rk_rim_extend_rec(algo, expect, &rp), 0);
		assert_memory_equal(rim, expect, 64);
		assert_int_equal(rk_vm_destroy(vm), 0);
		rk_vm_free(vm);
	}
	t_assert_all_undelegated(m);
}

/* ---- no RMM to boot: normal VMs work, realms are refused with the reason ---- */

static void test_rmm_boot_failure(void **state)
{
	struct rk_host_fault f = { RMI_FID_RMM_ACTIVATE, { RMI_ERROR_GLOBAL, 0, 0, 0, 0 }, 1, 0 };
	struct rk_host_config hc = { NULL, &f, 1, 0 };
	struct rk_machine_config mc;
	struct rk_machine *m2;
	struct rk_host *h2;
	struct rk_host_caps caps;
	struct rk_vm_config cfg;
	struct rk_vm *vm;

	(void)state;
	rk_machine_config_default(&mc);
	mc.dram_size = 64 * MIB;
	assert_int_equal(rk_machine_create(&mc, &m2), 0);
	assert_int_equal(rk_host_create(m2, &hc, &h2), 0);
	assert_int_equal(rk_host_caps(h2, &caps), 0);
	assert_true(caps.rmm_present);
	assert_false(caps.rmm_usable);
	rk_vm_config_default(&cfg, RK_VM_REALM);
	assert_int_equal(rk_vm_create(h2, &cfg, &vm), -ENODEV);
	assert_non_null(strstr(rk_host_last_error(h2)->msg, "RMI_RMM_ACTIVATE"));
	rk_vm_config_default(&cfg, RK_VM_NORMAL);
	assert_int_equal(rk_vm_create(h2, &cfg, &vm), 0);
	assert_int_equal(rk_vm_add_memslot(vm, 0, MIB, 0), 0);
	assert_int_equal(rk_vm_map(vm, 0, MIB), 0);
	assert_int_equal(rk_vm_destroy(vm), 0);
	rk_host_destroy(h2);
	rk_machine_destroy(m2);
}

/* ---- docs/lifecycle.md against the code ---- */

static void cell(char *out, size_t cap, const char *s)
{
	strncat(out, " ", cap - strlen(out) - 1);
	strncat(out, s, cap - strlen(out) - 1);
	strncat(out, " |", cap - strlen(out) - 1);
}

/* The generated block named `name`, from the tables in the code. */
static void gen_block(const char *name, char *out, size_t cap)
{
	size_t n;

	out[0] = 0;
	if (!strcmp(name, "states")) {
		strncat(out, "| Host state | RMM realm state(s) | Meaning |\n|---|---|---|\n", cap - 1);
		for (int s = 0; s < RK_VM_NSTATES; s++) {
			const struct rk_vm_state_info *si = rk_vm_state_info((enum rk_vm_state)s);
			strncat(out, "|", cap - strlen(out) - 1);
			cell(out, cap, si->name);
			cell(out, cap, si->rmm_states);
			cell(out, cap, si->meaning);
			strncat(out, "\n", cap - strlen(out) - 1);
		}
	} else if (!strcmp(name, "transitions")) {
		const struct rk_vm_transition *t = rk_vm_transitions(&n);
		strncat(out, "| From | To | Trigger | RMI commands (realm) |\n|---|---|---|---|\n", cap - 1);
		for (size_t i = 0; i < n; i++) {
			strncat(out, "|", cap - strlen(out) - 1);
			cell(out, cap, rk_vm_state_name(t[i].from));
			cell(out, cap, rk_vm_state_name(t[i].to));
			cell(out, cap, t[i].trigger);
			cell(out, cap, t[i].rmi);
			strncat(out, "\n", cap - strlen(out) - 1);
		}
	} else if (!strcmp(name, "operations")) {
		const struct rk_vm_op_info *o = rk_vm_ops(&n);
		strncat(out,
			"| Operation | NONE | NEW | ACTIVE | DYING | DEAD | Note |\n|---|---|---|---|---|---|---|\n",
			cap - 1);
		for (size_t i = 0; i < n; i++) {
			strncat(out, "|", cap - strlen(out) - 1);
			cell(out, cap, o[i].name);
			for (int s = 0; s < RK_VM_NSTATES; s++)
				cell(out, cap, (o[i].legal & (1u << s)) ? "yes" : "-");
			cell(out, cap, o[i].note);
			strncat(out, "\n", cap - strlen(out) - 1);
		}
	} else if (!strcmp(name, "teardown")) {
		const struct rk_teardown_stage *st = rk_host_teardown_stages(&n);
		strncat(out,
			"| Stage | RMI calls | Granules returned | If a call fails |\n|---|---|---|---|\n",
			cap - 1);
		for (size_t i = 0; i < n; i++) {
			strncat(out, "|", cap - strlen(out) - 1);
			cell(out, cap, st[i].name);
			cell(out, cap, st[i].rmi);
			cell(out, cap, st[i].returned);
			cell(out, cap, st[i].on_failure);
			strncat(out, "\n", cap - strlen(out) - 1);
		}
	}
}

static const char *const blocks[] = { "states", "transitions", "operations", "teardown" };

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)len + 1);
	if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Pointers to the text between the markers of block `name` in doc. */
static bool find_block(char *doc, const char *name, char **begin, char **end)
{
	char bm[128], em[128];

	snprintf(bm, sizeof(bm), "<!-- BEGIN GENERATED %s -->\n", name);
	snprintf(em, sizeof(em), "<!-- END GENERATED %s -->", name);
	*begin = strstr(doc, bm);
	if (!*begin)
		return false;
	*begin += strlen(bm);
	*end = strstr(*begin, em);
	return *end != NULL;
}

static void test_doc_matches_code(void **state)
{
	const char *src = getenv("RK_SOURCE_DIR");
	char path[1024], gen[16384];
	char *doc, *b, *e;

	(void)state;
	snprintf(path, sizeof(path), "%s/docs/lifecycle.md", src ? src : ".");
	doc = read_file(path);
	if (!doc)
		fail_msg("cannot read %s", path);
	for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
		if (!find_block(doc, blocks[i], &b, &e))
			fail_msg("docs/lifecycle.md: no GENERATED %s block", blocks[i]);
		gen_block(blocks[i], gen, sizeof(gen));
		if ((size_t)(e - b) != strlen(gen) || memcmp(b, gen, strlen(gen)))
			fail_msg("docs/lifecycle.md: table '%s' differs from the code; regenerate with\n"
				 "  test_host_lifecycle --update-doc docs/lifecycle.md\nexpected:\n%s",
				 blocks[i], gen);
	}
	free(doc);
}

static int update_doc(const char *path)
{
	char *doc = read_file(path), gen[16384], *b, *e;
	FILE *f;

	if (!doc)
		return 1;
	for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
		if (!find_block(doc, blocks[i], &b, &e)) {
			fprintf(stderr, "%s: no GENERATED %s block\n", path, blocks[i]);
			return 1;
		}
		gen_block(blocks[i], gen, sizeof(gen));
		size_t head = (size_t)(b - doc), tail = strlen(e);
		char *nd = malloc(head + strlen(gen) + tail + 1);
		memcpy(nd, doc, head);
		memcpy(nd + head, gen, strlen(gen));
		memcpy(nd + head + strlen(gen), e, tail + 1);
		free(doc);
		doc = nd;
	}
	f = fopen(path, "wb");
	if (!f || fputs(doc, f) < 0)
		return 1;
	fclose(f);
	free(doc);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doc_matches_code),
		cmocka_unit_test_setup_teardown(test_realm_explicit_transitions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_realm_implicit_create_on_populate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_realm_implicit_create_on_map_and_activate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_realm_implicit_activate_on_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_normal_transitions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_illegal_operations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_legality_matrix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_activate_rec_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_teardown_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_terminate_failure_leaks_rd_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rim_prediction, setup, teardown),
		cmocka_unit_test(test_rmm_boot_failure),
	};

	if (argc == 3 && !strcmp(argv[1], "--update-doc"))
		return update_doc(argv[2]);
	fill_image();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
