/* SPDX-License-Identifier: MIT */
/*
 * One stage-2 test suite, run twice: for normal VMs (page tables in host
 * memory) and for realms (RTTs owned by the RMM), through the same walker and
 * the same public calls. Map, unmap, split, fold, dump, destroy, and a
 * randomised sequence checked against a reference model. For realms the dump
 * comes from RMI_RTT_READ_ENTRY, so it is the RMM's tree that is checked.
 *
 * Then the separation of the two backends: the normal backend never issues
 * an RMI command; the realm backend never writes a page table and issues
 * only RTT commands and (un)delegation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "realmkit/arch/stage2.h"
#include "realmkit/host.h"
#include "rk_test.h"

#define MIB (1ULL << 20)
#define SLOT (8 * MIB)
#define NPAGES (SLOT / G)
#define DRAM_MIB 64

struct fixture {
	enum rk_vm_kind kind;
	struct rk_machine *m;
	struct rk_host *h;
	struct rk_vm *vm;
	uint64_t free0;           /* free granules before the VM */
	uint64_t backing[NPAGES]; /* PA of each page of the slot */
};

static struct fixture normal_fx = { .kind = RK_VM_NORMAL };
static struct fixture realm_fx = { .kind = RK_VM_REALM };

/* ---- dump into a page map ---- */

struct dump {
	uint64_t pa[NPAGES]; /* 0: unmapped */
	int level[NPAGES];
	unsigned int tables, leaves, blocks, mismatches;
	int ripas_seen;
};

static int dump_cb(void *arg, const struct rk_s2_entry *e)
{
	struct dump *d = arg;

	if (e->mismatch)
		d->mismatches++;
	if (e->ripas >= 0)
		d->ripas_seen = 1;
	if (e->kind == RK_S2_TABLE) {
		d->tables++;
		return 0;
	}
	assert_true(e->kind == RK_S2_PAGE || e->kind == RK_S2_BLOCK);
	d->leaves++;
	if (e->kind == RK_S2_BLOCK)
		d->blocks++;
	uint64_t sz = s2_level_size(e->level);
	for (uint64_t off = 0; off < sz; off += G) {
		if (e->ipa + off >= SLOT)
			break;
		d->pa[(e->ipa + off) / G] = e->pa + off;
		d->level[(e->ipa + off) / G] = e->level;
	}
	return 0;
}

static void take_dump(struct fixture *fx, struct dump *d)
{
	memset(d, 0, sizeof(*d));
	assert_int_equal(rk_vm_s2_dump(fx->vm, 0, SLOT, dump_cb, d), 0);
	assert_int_equal(d->mismatches, 0);
	if (fx->kind == RK_VM_REALM)
		assert_true(d->ripas_seen || d->leaves == 0);
}

/* [ipa, ipa + size) mapped to its backing, with leaves of `level` (0: any). */
static void expect_mapped(struct fixture *fx, const struct dump *d, uint64_t ipa, uint64_t size, int level)
{
	for (uint64_t a = ipa; a < ipa + size; a += G) {
		assert_int_equal(d->pa[a / G], fx->backing[a / G]);
		if (level)
			assert_int_equal(d->level[a / G], level);
	}
}

static void expect_unmapped(const struct dump *d, uint64_t ipa, uint64_t size)
{
	for (uint64_t a = ipa; a < ipa + size; a += G)
		assert_int_equal(d->pa[a / G], 0);
}

/* ---- fixture ---- */

static int setup(void **state)
{
	struct fixture *fx = *state;
	struct rk_machine_config cfg;
	struct rk_host_stats st;
	struct rk_vm_config vc;
	struct dump *d = calloc(1, sizeof(*d));

	rk_machine_config_default(&cfg);
	cfg.dram_size = DRAM_MIB * MIB;
	assert_int_equal(rk_machine_create(&cfg, &fx->m), 0);
	assert_int_equal(rk_host_create(fx->m, NULL, &fx->h), 0);
	rk_host_get_stats(fx->h, &st);
	fx->free0 = st.granules_free;
	rk_vm_config_default(&vc, fx->kind);
	assert_int_equal(rk_vm_create(fx->h, &vc, &fx->vm), 0);
	assert_int_equal(rk_vm_add_memslot(fx->vm, 0, SLOT, 0), 0);
	/* learn the backing: map everything, dump, unmap */
	assert_int_equal(rk_vm_map(fx->vm, 0, SLOT), 0);
	assert_int_equal(rk_vm_s2_dump(fx->vm, 0, SLOT, dump_cb, d), 0);
	for (uint64_t i = 0; i < NPAGES; i++) {
		assert_int_not_equal(d->pa[i], 0);
		fx->backing[i] = d->pa[i];
	}
	assert_int_equal(d->blocks, SLOT / (2 * MIB)); /* the host backs slots with 2 MiB chunks */
	assert_int_equal(rk_vm_unmap(fx->vm, 0, SLOT), 0);
	assert_int_equal(rk_vm_fold(fx->vm, 0, 1ULL << 39), 0);
	free(d);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	struct rk_host_stats st;

	if (fx->vm) {
		assert_int_equal(rk_vm_destroy(fx->vm), 0);
		rk_vm_free(fx->vm);
		fx->vm = NULL;
	}
	rk_host_get_stats(fx->h, &st);
	assert_int_equal(st.granules_free, fx->free0);
	assert_int_equal(st.granules_leaked, 0);
	assert_int_equal(st.ledger_errors, 0);
	assert_int_equal(st.s2_tables, 0);
	assert_int_equal(st.shadow_mismatches, 0);
	t_assert_all_undelegated(fx->m);
	rk_host_destroy(fx->h);
	rk_machine_destroy(fx->m);
	return 0;
}

/* ---- the suite ---- */

static void test_map_pages(void **state)
{
	struct fixture *fx = *state;
	struct dump d;

	assert_int_equal(rk_vm_map(fx->vm, 0x3000, 5 * G), 0);
	take_dump(fx, &d);
	expect_mapped(fx, &d, 0x3000, 5 * G, 3);
	expect_unmapped(&d, 0, 0x3000);
	expect_unmapped(&d, 0x8000, SLOT - 0x8000);
	assert_int_equal(d.leaves, 5);
	assert_int_equal(d.tables, 2); /* L1 -> L2 table, L2 -> L3 table (root not reported) */
}

static void test_map_blocks(void **state)
{
	struct fixture *fx = *state;
	struct dump d;

	assert_int_equal(rk_vm_map(fx->vm, 2 * MIB, 4 * MIB), 0);
	take_dump(fx, &d);
	expect_mapped(fx, &d, 2 * MIB, 4 * MIB, 2);
	assert_int_equal(d.blocks, 2);
	assert_int_equal(d.leaves, 2);
	expect_unmapped(&d, 0, 2 * MIB);
	expect_unmapped(&d, 6 * MIB, 2 * MIB);
}

static void test_map_mixed_and_idempotent(void **state)
{
	struct fixture *fx = *state;
	struct dump d;

	assert_int_equal(rk_vm_map(fx->vm, MIB, 4 * MIB + 8 * G), 0);
	take_dump(fx, &d);
	expect_mapped(fx, &d, MIB, MIB, 3);
	expect_mapped(fx, &d, 2 * MIB, 2 * MIB, 2);
	expect_mapped(fx, &d, 4 * MIB, MIB + 8 * G, 3);
	/* mapping what is mapped again is fine */
	assert_int_equal(rk_vm_map(fx->vm, 0, 6 * MIB), 0);
	take_dump(fx, &d);
	expect_mapped(fx, &d, 0, 6 * MIB, 0);
	expect_unmapped(&d, 6 * MIB, 2 * MIB);
}

static void test_unmap_splits_block(void **state)
{
	struct fixture *fx = *state;
	struct dump d;

	assert_int_equal(rk_vm_map(fx->vm, 2 * MIB, 2 * MIB), 0);
	assert_int_equal(rk_vm_unmap(fx->vm, 3 * MIB, G), 0);
	take_dump(fx, &d);
	expect_mapped(fx, &d, 2 * MIB, MIB, 3);
	expect_unmapped(&d, 3 * MIB, G);
	expect_mapped(fx, &d, 3 * MIB + G, MIB - G, 3);
	assert_int_equal(d.leaves, 511);
	assert_int_equal(d.blocks, 0);
	/* map the hole again, then fold back into one block */
	assert_int_equal(rk_vm_map(fx->vm, 3 * MIB, G), 0);
	assert_int_equal(rk_vm_fold(fx->vm, 0, SLOT), 0);
	take_dump(fx, &d);
	expect_mapped(fx, &d, 2 * MIB, 2 * MIB, 2);
	assert_int_equal(d.blocks, 1);
	assert_int_equal(d.leaves, 1);
}

static void test_fold_empty_table(void **state)
{
	struct fixture *fx = *state;
	struct rk_host_stats a, b;
	struct dump d;

	assert_int_equal(rk_vm_map(fx->vm, 0, 16 * G), 0);
	rk_host_get_stats(fx->h, &a);
	assert_int_equal(rk_vm_unmap(fx->vm, 0, 16 * G), 0);
	assert_int_equal(rk_vm_fold(fx->vm, 0, SLOT), 0);
	rk_host_get_stats(fx->h, &b);
	assert_true(b.s2_tables < a.s2_tables);
	take_dump(fx, &d);
	assert_int_equal(d.leaves, 0);
}

static void test_unmap_partial_ranges(void **state)
{
	struct fixture *fx = *state;
	struct dump d;

	assert_int_equal(rk_vm_map(fx->vm, 0, SLOT), 0);
	assert_int_equal(rk_vm_unmap(fx->vm, MIB + 5 * G, 3 * MIB), 0);
	take_dump(fx, &d);
	expect_mapped(fx, &d, 0, MIB + 5 * G, 0);
	expect_unmapped(&d, MIB + 5 * G, 3 * MIB);
	expect_mapped(fx, &d, 4 * MIB + 5 * G, SLOT - 4 * MIB - 5 * G, 0);
	/* unmapping nothing is fine */
	assert_int_equal(rk_vm_unmap(fx->vm, 2 * MIB, MIB), 0);
}

static void test_out_of_slot(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(rk_vm_map(fx->vm, SLOT, G), -EFAULT);
	assert_int_equal(rk_vm_map(fx->vm, SLOT - G, 2 * G), -EFAULT);
	assert_int_equal(rk_vm_map(fx->vm, 1, G), -EINVAL);
}

/* Random map / unmap / fold against a model of which pages are mapped. */
static void test_random_against_model(void **state)
{
	struct fixture *fx = *state;
	static bool model[NPAGES];
	struct dump *d = malloc(sizeof(*d));
	unsigned int seed = 12345;

	memset(model, 0, sizeof(model));
	for (int step = 0; step < 150; step++) {
		uint64_t first = (uint64_t)rand_r(&seed) % NPAGES;
		uint64_t n = 1 + (uint64_t)rand_r(&seed) % (rand_r(&seed) % 4 ? 64 : 1500);
		int op = rand_r(&seed) % 5;

		if (first + n > NPAGES)
			n = NPAGES - first;
		if (op <= 1) {
			assert_int_equal(rk_vm_map(fx->vm, first * G, n * G), 0);
			for (uint64_t i = first; i < first + n; i++)
				model[i] = true;
		} else if (op <= 3) {
			assert_int_equal(rk_vm_unmap(fx->vm, first * G, n * G), 0);
			for (uint64_t i = first; i < first + n; i++)
				model[i] = false;
		} else {
			assert_int_equal(rk_vm_fold(fx->vm, 0, SLOT), 0);
		}
		take_dump(fx, d);
		for (uint64_t i = 0; i < NPAGES; i++)
			assert_int_equal(d->pa[i], model[i] ? fx->backing[i] : 0);
	}
	free(d);
}

static void test_destroy_reclaims_tables(void **state)
{
	struct fixture *fx = *state;
	struct rk_host_stats st;

	assert_int_equal(rk_vm_map(fx->vm, G, SLOT - 2 * G), 0);
	rk_host_get_stats(fx->h, &st);
	assert_true(st.s2_tables >= 3);
	/* teardown() destroys the VM and checks: all tables and memory back, nothing leaked */
}

/* ---- separation of the backends ---- */

static void test_backend_separation(void **state)
{
	struct fixture *fx = *state;
	struct rk_host_stats a, b;
	struct dump *d = malloc(sizeof(*d));
	static const uint64_t realm_fids[] = {
		RMI_FID_RTT_CREATE,
		RMI_FID_RTT_DESTROY,
		RMI_FID_RTT_FOLD,
		RMI_FID_RTT_READ_ENTRY,
		RMI_FID_RTT_DATA_MAP,
		RMI_FID_RTT_DATA_UNMAP,
		RMI_FID_GRANULE_RANGE_DELEGATE,
		RMI_FID_GRANULE_RANGE_UNDELEGATE,
		RMI_FID_REALM_TERMINATE,
		RMI_FID_REALM_DESTROY,
	};
	static uint64_t before[RMI_FNUM_MAX - RMI_FNUM_MIN + 1];

	for (uint64_t f = RMI_FNUM_MIN; f <= RMI_FNUM_MAX; f++)
		before[f - RMI_FNUM_MIN] = rk_host_rmi_count(fx->h, SMC_FID_BASE | f);
	rk_host_get_stats(fx->h, &a);
	assert_int_equal(rk_vm_map(fx->vm, 0, SLOT), 0);
	assert_int_equal(rk_vm_unmap(fx->vm, MIB, 2 * MIB + 3 * G), 0);
	assert_int_equal(rk_vm_map(fx->vm, MIB, 2 * MIB + 3 * G), 0);
	assert_int_equal(rk_vm_fold(fx->vm, 0, SLOT), 0);
	assert_int_equal(rk_vm_s2_dump(fx->vm, 0, SLOT, dump_cb, memset(d, 0, sizeof(*d))), 0);
	assert_int_equal(rk_vm_destroy(fx->vm), 0);
	rk_host_get_stats(fx->h, &b);
	if (fx->kind == RK_VM_NORMAL) {
		/* only table writes, never an RMI command */
		assert_int_equal(b.rmi_calls, a.rmi_calls);
		assert_true(b.s2_table_writes > a.s2_table_writes);
	} else {
		/* only RMI commands, never a page-table write */
		assert_int_equal(b.s2_table_writes, a.s2_table_writes);
		assert_true(b.rmi_calls > a.rmi_calls);
		for (uint64_t f = RMI_FNUM_MIN; f <= RMI_FNUM_MAX; f++) {
			uint64_t fid = SMC_FID_BASE | f,
				 delta = rk_host_rmi_count(fx->h, fid) - before[f - RMI_FNUM_MIN];
			bool allowed = false;
			for (size_t i = 0; i < sizeof(realm_fids) / sizeof(realm_fids[0]); i++)
				allowed = allowed || realm_fids[i] == fid;
			if (delta && !allowed)
				fail_msg("the realm backend issued %s", rk_rmi_command_name(fid));
		}
		assert_true(rk_host_rmi_count(fx->h, RMI_FID_RTT_DATA_MAP) > before[0x1F5 - RMI_FNUM_MIN]);
		assert_true(rk_host_rmi_count(fx->h, RMI_FID_RTT_FOLD) > before[0x166 - RMI_FNUM_MIN]);
		assert_true(rk_host_rmi_count(fx->h, RMI_FID_RTT_READ_ENTRY) > before[0x161 - RMI_FNUM_MIN]);
		assert_true(rk_host_rmi_count(fx->h, RMI_FID_RTT_DESTROY) > before[0x15E - RMI_FNUM_MIN]);
		/* RTT_DESTROY's x2 hint let the teardown skip the rest of the root table */
		assert_true(b.s2_rtt_hint_skips > a.s2_rtt_hint_skips);
		/* and no granule of the realm ever was a host page table */
		for (uint64_t pa = T_DRAM_BASE; pa < T_DRAM_BASE + DRAM_MIB * MIB; pa += G) {
			struct rk_granule_info gi;
			assert_int_equal(rk_host_granule_info(fx->h, pa, &gi), 0);
			assert_int_not_equal(gi.role, RK_ROLE_S2_TABLE);
		}
	}
	rk_vm_free(fx->vm);
	fx->vm = NULL;
	free(d);
}

/* Realm only: shared memory at unprotected IPAs through RMI_RTT_UNPROT_MAP. */
struct leaves {
	uint64_t pa[1024];
	int level[1024];
	unsigned int n, mismatches;
};

static int leaves_cb(void *arg, const struct rk_s2_entry *e)
{
	struct leaves *l = arg;

	l->mismatches += e->mismatch;
	if (e->kind != RK_S2_TABLE && l->n < 1024) {
		l->pa[l->n] = e->pa;
		l->level[l->n++] = e->level;
	}
	return 0;
}

static void test_realm_shared_slot(void **state)
{
	struct fixture *fx = *state;
	uint64_t top = 1ULL << 39, base = top + 5 * MIB;
	struct leaves *l = calloc(1, sizeof(*l));
	uint8_t page[4096] = { 0 };

	if (fx->kind != RK_VM_REALM) {
		assert_int_equal(rk_vm_add_memslot(fx->vm, base, MIB, RK_MEMSLOT_SHARED), -EINVAL);
		free(l);
		return;
	}
	assert_int_equal(rk_vm_add_memslot(fx->vm, base, 3 * MIB, RK_MEMSLOT_SHARED), 0);
	uint64_t before = rk_host_rmi_count(fx->h, RMI_FID_RTT_UNPROT_MAP);
	assert_int_equal(rk_vm_map(fx->vm, base, 3 * MIB), 0);
	assert_true(rk_host_rmi_count(fx->h, RMI_FID_RTT_UNPROT_MAP) > before);
	assert_int_equal(rk_vm_populate(fx->vm, base, page, G, 0), -EINVAL);
	assert_int_equal(rk_vm_s2_dump(fx->vm, base, 3 * MIB, leaves_cb, l), 0);
	assert_int_equal(l->mismatches, 0);
	assert_int_equal(l->n, 256 + 1); /* 5..6 MiB: pages; 6..8 MiB: one block */
	/* shared memory stays host memory: NS in the GPT, never delegated */
	for (unsigned int i = 0; i < l->n; i++) {
		enum rk_pas pas;
		assert_int_equal(rk_gpt_get(fx->m, l->pa[i], &pas), 0);
		assert_int_equal(pas, RK_PAS_NS);
		assert_int_equal(t_gstate(fx->m, l->pa[i]), GRANULE_STATE_NS);
	}
	assert_int_equal(rk_vm_unmap(fx->vm, base + MIB, G), 0);
	free(l);
}

#define SUITE(fx)                                                                                          \
	cmocka_unit_test_prestate_setup_teardown(test_map_pages, setup, teardown, &fx),                    \
		cmocka_unit_test_prestate_setup_teardown(test_map_blocks, setup, teardown, &fx),           \
		cmocka_unit_test_prestate_setup_teardown(test_map_mixed_and_idempotent, setup, teardown,   \
							 &fx),                                             \
		cmocka_unit_test_prestate_setup_teardown(test_unmap_splits_block, setup, teardown, &fx),   \
		cmocka_unit_test_prestate_setup_teardown(test_fold_empty_table, setup, teardown, &fx),     \
		cmocka_unit_test_prestate_setup_teardown(test_unmap_partial_ranges, setup, teardown, &fx), \
		cmocka_unit_test_prestate_setup_teardown(test_out_of_slot, setup, teardown, &fx),          \
		cmocka_unit_test_prestate_setup_teardown(test_random_against_model, setup, teardown, &fx), \
		cmocka_unit_test_prestate_setup_teardown(test_destroy_reclaims_tables, setup, teardown,    \
							 &fx),                                             \
		cmocka_unit_test_prestate_setup_teardown(test_backend_separation, setup, teardown, &fx),   \
		cmocka_unit_test_prestate_setup_teardown(test_realm_shared_slot, setup, teardown, &fx)

int main(void)
{
	const struct CMUnitTest normal[] = { SUITE(normal_fx) };
	const struct CMUnitTest realm[] = { SUITE(realm_fx) };
	int failed = 0;

	failed += _cmocka_run_group_tests("stage-2 suite: normal VM", normal,
					  sizeof(normal) / sizeof(normal[0]), NULL, NULL);
	failed += _cmocka_run_group_tests("stage-2 suite: realm", realm, sizeof(realm) / sizeof(realm[0]),
					  NULL, NULL);
	return failed;
}
