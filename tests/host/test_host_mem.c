/* SPDX-License-Identifier: MIT */
/*
 * Host memory: the page allocator and the granule ledger on machines with
 * several DRAM banks and firmware carve-outs; memory is zeroed before another
 * VM sees it; running out of memory is clean; every IPA size (start levels 0
 * to 2, concatenated roots) through the same walker; a host taking over an
 * RMM someone else activated.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "realmkit/host.h"
#include "rk_test.h"

#define MIB (1ULL << 20)

static struct rk_machine *machine(uint64_t mib)
{
	struct rk_machine_config cfg;
	struct rk_machine *m;

	rk_machine_config_default(&cfg);
	cfg.dram_size = mib * MIB;
	assert_int_equal(rk_machine_create(&cfg, &m), 0);
	return m;
}

struct pages {
	uint64_t pa[4096];
	unsigned int n, mismatches;
};

static int pages_cb(void *arg, const struct rk_s2_entry *e)
{
	struct pages *p = arg;

	p->mismatches += e->mismatch;
	if (e->kind == RK_S2_TABLE)
		return 0;
	for (uint64_t off = 0; off < (1ULL << (12 + 9 * (3 - e->level))) && p->n < 4096; off += G)
		p->pa[p->n++] = e->pa + off;
	return 0;
}

static void assert_no_leak(struct rk_host *h)
{
	struct rk_host_stats st;

	rk_host_get_stats(h, &st);
	assert_int_equal(st.granules_leaked, 0);
	assert_int_equal(st.ledger_errors, 0);
}

/* Two banks with a hole, a ROOT carve-out: never handed out; realms and normal VMs work. */
static void test_banks_and_carveouts(void **state)
{
	struct rk_machine_config cfg;
	struct rk_machine *m;
	struct rk_host *h;
	struct rk_vm *vms[64];
	struct rk_vm_config vc;
	unsigned int n = 0;
	const uint64_t cbase = 0x80000000ULL + 8 * MIB, csize = MIB;

	(void)state;
	rk_machine_config_default(&cfg);
	cfg.nbanks = 2;
	cfg.banks[0] = (struct rk_dram_bank){ 0x80000000ULL, 32 * MIB };
	cfg.banks[1] = (struct rk_dram_bank){ 0x880000000ULL, 32 * MIB };
	cfg.ncarveouts = 1;
	cfg.carveouts[0].base = cbase;
	cfg.carveouts[0].size = csize;
	cfg.carveouts[0].pas = RK_PAS_ROOT;
	assert_int_equal(rk_machine_create(&cfg, &m), 0);
	assert_int_equal(rk_host_create(m, NULL, &h), 0);
	struct rk_host_caps caps;
	assert_int_equal(rk_host_caps(h, &caps), 0);
	assert_true(caps.rmm_usable);
	for (uint64_t pa = cbase; pa < cbase + csize; pa += G) {
		struct rk_granule_info gi;
		assert_int_equal(rk_host_granule_info(h, pa, &gi), 0);
		assert_int_equal(gi.state, RK_GRANULE_RESERVED);
	}
	/* fill the machine with realms of 4 MiB until memory runs out */
	for (;;) {
		struct rk_vm *vm;
		rk_vm_config_default(&vc, n % 2 ? RK_VM_NORMAL : RK_VM_REALM);
		assert_int_equal(rk_vm_create(h, &vc, &vm), 0);
		int ret = rk_vm_add_memslot(vm, 0, 4 * MIB, 0);
		if (!ret)
			ret = rk_vm_map(vm, 0, 4 * MIB);
		if (!ret && vc.kind == RK_VM_REALM)
			ret = rk_vm_activate(vm);
		if (ret) {
			assert_int_equal(ret, -ENOMEM);
			assert_int_equal(rk_vm_destroy(vm), 0);
			rk_vm_free(vm);
			break;
		}
		vms[n++] = vm;
		assert_true(n < 64);
	}
	assert_true(n >= 10);
	for (uint64_t pa = cbase; pa < cbase + csize; pa += G) {
		struct rk_granule_info gi;
		assert_int_equal(rk_host_granule_info(h, pa, &gi), 0);
		assert_int_equal(gi.state, RK_GRANULE_RESERVED);
	}
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(rk_vm_destroy(vms[i]), 0);
		rk_vm_free(vms[i]);
	}
	assert_no_leak(h);
	t_check_gpt_consistent(m, NULL);
	rk_host_destroy(h);
	rk_machine_destroy(m);
}

/* What one VM wrote is zero when another VM gets the memory. */
static void check_zeroed_between_vms(enum rk_vm_kind kind)
{
	struct rk_machine *m = machine(16);
	struct rk_host *h;
	struct rk_vm_config vc;
	struct rk_vm *vm;
	struct pages *p = calloc(1, sizeof(*p));
	uint64_t ipa = kind == RK_VM_REALM ? 1ULL << 39 : 0;
	uint32_t flags = kind == RK_VM_REALM ? RK_MEMSLOT_SHARED : 0;
	uint8_t page[4096];

	assert_int_equal(rk_host_create(m, NULL, &h), 0);
	for (int round = 0; round < 3; round++) {
		rk_vm_config_default(&vc, kind);
		assert_int_equal(rk_vm_create(h, &vc, &vm), 0);
		assert_int_equal(rk_vm_add_memslot(vm, ipa, 8 * MIB, flags), 0);
		assert_int_equal(rk_vm_map(vm, ipa, 8 * MIB), 0);
		memset(p, 0, sizeof(*p));
		assert_int_equal(rk_vm_s2_dump(vm, ipa, 8 * MIB, pages_cb, p), 0);
		assert_int_equal(p->mismatches, 0);
		assert_true(p->n > 0);
		for (unsigned int i = 0; i < p->n; i++) {
			assert_int_equal(rk_ns_read(m, p->pa[i], page, sizeof(page)), 0);
			for (size_t b = 0; b < sizeof(page); b++)
				if (page[b])
					fail_msg("round %d: page 0x%llx holds the previous VM's data", round,
						 (unsigned long long)p->pa[i]);
			/* the guest (here: the test, through the host's NS view) writes everything */
			memset(page, 0xA5 + round, sizeof(page));
			assert_int_equal(rk_ns_write(m, p->pa[i], page, sizeof(page)), 0);
		}
		assert_int_equal(rk_vm_activate(vm), 0);
		assert_int_equal(rk_vm_destroy(vm), 0);
		rk_vm_free(vm);
	}
	assert_no_leak(h);
	free(p);
	rk_host_destroy(h);
	rk_machine_destroy(m);
}

static void test_zeroed_between_normal_vms(void **state)
{
	(void)state;
	check_zeroed_between_vms(RK_VM_NORMAL);
}

static void test_zeroed_between_realm_shared_slots(void **state)
{
	(void)state;
	check_zeroed_between_vms(RK_VM_REALM);
}

/* A realm's private memory comes back scrubbed by the RMM, and the host reads zeros. */
static void test_realm_private_memory_scrubbed(void **state)
{
	struct rk_machine *m = machine(16);
	struct rk_host *h;
	struct rk_vm_config vc;
	struct rk_vm *vm;
	struct pages *p = calloc(1, sizeof(*p));
	static uint8_t img[64 * 1024];
	uint8_t page[4096];

	(void)state;
	memset(img, 0x5A, sizeof(img));
	assert_int_equal(rk_host_create(m, NULL, &h), 0);
	rk_vm_config_default(&vc, RK_VM_REALM);
	assert_int_equal(rk_vm_create(h, &vc, &vm), 0);
	assert_int_equal(rk_vm_add_memslot(vm, 0, 2 * MIB, 0), 0);
	assert_int_equal(rk_vm_populate(vm, 0, img, sizeof(img), RK_POPULATE_MEASURE), 0);
	assert_int_equal(rk_vm_s2_dump(vm, 0, 2 * MIB, pages_cb, p), 0);
	assert_int_equal(p->n, 16);
	/* the host cannot read realm memory: the GPT says so */
	assert_int_equal(rk_ns_read(m, p->pa[0], page, sizeof(page)), -RK_EGPF);
	assert_int_equal(rk_vm_destroy(vm), 0);
	rk_vm_free(vm);
	for (unsigned int i = 0; i < p->n; i++) {
		struct rk_granule_info gi;
		assert_int_equal(rk_ns_read(m, p->pa[i], page, sizeof(page)), 0);
		for (size_t b = 0; b < sizeof(page); b++)
			assert_int_equal(page[b], 0);
		assert_int_equal(rk_host_granule_info(h, p->pa[i], &gi), 0);
		assert_int_equal(gi.state, RK_GRANULE_FREE);
		assert_int_equal(gi.dirty, 0); /* scrubbed by the RMM: no need to zero again */
	}
	assert_no_leak(h);
	free(p);
	rk_host_destroy(h);
	rk_machine_destroy(m);
}

static void test_out_of_memory_is_clean(void **state)
{
	struct rk_machine *m = machine(16);
	struct rk_host *h;
	struct rk_host_stats a, b;
	struct rk_vm_config vc;
	struct rk_vm *vm;

	(void)state;
	assert_int_equal(rk_host_create(m, NULL, &h), 0);
	rk_host_get_stats(h, &a);
	rk_vm_config_default(&vc, RK_VM_REALM);
	assert_int_equal(rk_vm_create(h, &vc, &vm), 0);
	assert_int_equal(rk_vm_add_memslot(vm, 0, 32 * MIB, 0), -ENOMEM);
	assert_non_null(strstr(rk_host_last_error(h)->msg, "no host memory"));
	rk_host_get_stats(h, &b);
	assert_int_equal(b.granules_free, a.granules_free);
	assert_int_equal(rk_vm_add_memslot(vm, 0, 8 * MIB, 0), 0);
	assert_int_equal(rk_vm_map(vm, 0, 8 * MIB), 0);
	assert_int_equal(rk_vm_destroy(vm), 0);
	rk_vm_free(vm);
	rk_host_get_stats(h, &b);
	assert_int_equal(b.granules_free, a.granules_free);
	assert_no_leak(h);
	rk_host_destroy(h);
	rk_machine_destroy(m);
}

/* Every IPA size: start levels 0, 1 and 2, 1 to 16 concatenated roots. */
static void test_ipa_sizes(void **state)
{
	static const unsigned int sizes[] = { 32, 33, 34, 35, 36, 39, 40, 42, 43, 44 }; /* to the limit */
	struct rk_machine *m = machine(64);
	struct rk_host *h;

	(void)state;
	assert_int_equal(rk_host_create(m, NULL, &h), 0);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (int kind = RK_VM_NORMAL; kind <= RK_VM_REALM; kind++) {
			struct rk_vm_config vc;
			struct rk_vm *vm;
			struct pages *p = calloc(1, sizeof(*p));
			uint64_t top = 1ULL << (sizes[i] - 1); /* last 4 MiB of the protected half */

			rk_vm_config_default(&vc, (enum rk_vm_kind)kind);
			vc.ipa_bits = sizes[i];
			assert_int_equal(rk_vm_create(h, &vc, &vm), 0);
			assert_int_equal(rk_vm_add_memslot(vm, 0, 2 * MIB, 0), 0);
			assert_int_equal(rk_vm_add_memslot(vm, top - 4 * MIB, 4 * MIB, 0), 0);
			assert_int_equal(rk_vm_map(vm, 0, 2 * MIB), 0);
			assert_int_equal(rk_vm_map(vm, top - 4 * MIB + G, 4 * MIB - G), 0);
			assert_int_equal(rk_vm_activate(vm), 0);
			assert_int_equal(rk_vm_s2_dump(vm, 0, 1ULL << sizes[i], pages_cb, p), 0);
			assert_int_equal(p->mismatches, 0);
			assert_int_equal(p->n, (6 * MIB - G) / G);
			assert_int_equal(rk_vm_destroy(vm), 0);
			rk_vm_free(vm);
			free(p);
		}
	}
	assert_no_leak(h);
	t_assert_all_undelegated(m);
	rk_host_destroy(h);
	rk_machine_destroy(m);
}

/* An RMM someone else configured and activated: accepted if configured as the host would. */
static void test_rmm_already_active(void **state)
{
	struct rk_machine *m = t_machine(32);
	struct rk_host *h;
	struct rk_host_caps caps;
	struct rk_vm_config vc;
	struct rk_vm *vm;

	(void)state;
	assert_int_equal(rk_host_create(m, NULL, &h), 0);
	assert_int_equal(rk_host_caps(h, &caps), 0);
	assert_true(caps.rmm_usable);
	assert_int_equal(rk_host_rmi_count(h, RMI_FID_RMM_CONFIG_GET), 1);
	rk_vm_config_default(&vc, RK_VM_REALM);
	assert_int_equal(rk_vm_create(h, &vc, &vm), 0);
	assert_int_equal(rk_vm_activate(vm), 0);
	assert_int_equal(rk_vm_destroy(vm), 0);
	rk_vm_free(vm);
	rk_host_destroy(h);
	rk_machine_destroy(m);

	/* ... and if RMI_RMM_CONFIG_GET fails, realms are refused */
	struct rk_host_fault f = { RMI_FID_RMM_CONFIG_GET, { RMI_ERROR_INPUT, 0, 0, 0, 0 }, 1, 0 };
	struct rk_host_config hc = { NULL, &f, 1, 0 };
	m = t_machine(32);
	assert_int_equal(rk_host_create(m, &hc, &h), 0);
	assert_int_equal(rk_host_caps(h, &caps), 0);
	assert_false(caps.rmm_usable);
	assert_int_equal(rk_vm_create(h, &vc, &vm), -ENODEV);
	rk_host_destroy(h);
	rk_machine_destroy(m);
}

static void test_capabilities(void **state)
{
	struct rk_machine *m = machine(16);
	struct rk_host *h;
	struct rk_host_caps caps;
	struct rk_granule_info gi;
	uint64_t fr0[1], x;

	(void)state;
	assert_int_equal(rk_host_create(m, NULL, &h), 0);
	assert_int_equal(rk_host_caps(h, &caps), 0);
	assert_true(caps.rmm_present);
	assert_true(caps.rmm_usable);
	assert_int_equal(caps.rmi_version, RMI_ABI_VERSION);
	fr0[0] = caps.rmi_features[0];
	assert_int_equal(caps.rmi_ipa_limit, fr0[0] & RMI_FR0_S2SZ_MASK);
	x = (caps.rmi_features[1] & RMI_FR1_MAX_RECS_ORDER_MASK) >> RMI_FR1_MAX_RECS_ORDER_SHIFT;
	assert_int_equal(caps.rmi_max_recs, (1u << x) - 1);
	assert_true(caps.rmi_hash_algos & (1u << RMI_HASH_SHA_256));
	assert_int_equal(caps.host_ipa_limit, RK_MACHINE_CPU_PA_BITS); /* the vCPUs' PA range */
	assert_int_equal(caps.rmi_ipa_limit, RK_MACHINE_CPU_PA_BITS);
	/* the host's own pages: NS, role host */
	assert_int_equal(rk_host_granule_info(h, T_DRAM_BASE, &gi), 0);
	assert_int_equal(gi.state, RK_GRANULE_HOST);
	assert_int_equal(gi.role, RK_ROLE_HOST);
	assert_int_equal(rk_host_granule_info(h, 0x1000, &gi), -EINVAL);
	assert_string_equal(rk_rmi_command_name(RMI_FID_RTT_DATA_MAP_INIT), "RMI_RTT_DATA_MAP_INIT");
	assert_string_equal(rk_rmi_status_name(RMI_ERROR_RTT | (2u << 8)), "ERROR_RTT");
	assert_string_equal(rk_granule_role_name(RK_ROLE_REC_AUX), "REC-aux");
	rk_host_destroy(h);
	rk_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capabilities),
		cmocka_unit_test(test_banks_and_carveouts),
		cmocka_unit_test(test_zeroed_between_normal_vms),
		cmocka_unit_test(test_zeroed_between_realm_shared_slots),
		cmocka_unit_test(test_realm_private_memory_scrubbed),
		cmocka_unit_test(test_out_of_memory_is_clean),
		cmocka_unit_test(test_ipa_sizes),
		cmocka_unit_test(test_rmm_already_active),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
