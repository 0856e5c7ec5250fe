/* SPDX-License-Identifier: MIT */
/*
 * The host's generic SRO driver (reference 9.4) against a fake RMM that
 * exercises what the real one does not (yet): donation in several rounds
 * with partial consumption, contiguous and 2 MiB requests, UNDELEGATED
 * memory, reclaim in several rounds, failure after donation, a reclaim list
 * naming memory the host never gave, IRQ yields (INCOMPLETE with no memory
 * request) on the mapping commands, and a failure at every step.
 *
 * The fake sits in the host's SMC filter: it answers REC_CREATE, REC_DESTROY
 * and the OP_* commands itself, checks that the host follows the protocol
 * (expected next call, handle, descriptor format, memory state per the GPT),
 * and passes everything else to the real RMM.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "realmkit/host.h"
#include "rk_test.h"

#define MIB (1ULL << 20)
#define DRAM_MIB 64
#define MAX_AUX 1024
#define H_REC 7
#define H_YIELD 99

enum fake_next { F_IDLE, F_DONATE, F_CONTINUE, F_RECLAIM, F_FINAL };

struct fake_rec {
	uint64_t rec;
	uint64_t aux[MAX_AUX]; /* first granule of each donated block */
	uint32_t naux;
};

struct fake {
	struct rk_machine *m;
	/* what REC_CREATE asks for */
	unsigned int sz, cnt, contig, undelegated;
	unsigned int per_call; /* blocks consumed per OP_MEM_DONATE / returned per OP_MEM_RECLAIM */
	bool fail_after_donation;
	bool bogus_reclaim; /* add a descriptor for memory the host never gave */
	bool yield_maps;    /* IRQ yield on DATA_MAP / DATA_UNMAP / UNPROT_UNMAP / RANGE_(UN)DELEGATE */
	uint64_t bogus_pa;
	/* the operation in flight */
	enum fake_next next;
	bool destroying, failing;
	struct fake_rec cur;
	uint32_t reclaimed;
	struct fake_rec recs[8];
	uint32_t nrecs;
	uint64_t saved[5];
	/* what the host did */
	unsigned int violations, donate_calls, reclaim_calls, yields;
};

static struct rk_machine *m;
static struct rk_host *h;
static struct fake fk;

static uint64_t incomplete(unsigned int req)
{
	return RMI_INCOMPLETE | ((uint64_t)req << RMI_RESULT_MEMREQ_SHIFT);
}

static uint64_t pow2_up(uint64_t n)
{
	uint64_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static uint64_t blk_granules(unsigned int sz)
{
	return 1ULL << (9 * sz);
}

static uint64_t donate_req(struct fake *f, unsigned int blocks)
{
	return (uint64_t)f->sz | ((uint64_t)blocks << RMI_DONATE_REQ_CNT_SHIFT) |
	       ((uint64_t)f->contig << RMI_DONATE_REQ_CONTIG_SHIFT) |
	       ((uint64_t)f->undelegated << RMI_DONATE_REQ_STATE_SHIFT);
}

static bool pas_is(uint64_t pa, uint64_t n, enum rk_pas want)
{
	for (uint64_t i = 0; i < n; i++) {
		enum rk_pas p;
		if (rk_gpt_get(m, pa + i * G, &p) || p != want)
			return false;
	}
	return true;
}

static void violation(struct fake *f, const char *what)
{
	f->violations++;
	print_message("SRO protocol violation: %s\n", what);
}

static void op_donate(struct fake *f, struct rk_smc_regs *r)
{
	uint64_t list[512], n = r->x[3], got = 0;
	unsigned int nonempty = 0;

	f->donate_calls++;
	if (f->next != F_DONATE || r->x[1] != H_REC || n == 0 || n > 512 ||
	    rk_ns_read(m, r->x[2], list, n * 8)) {
		violation(f, "unexpected OP_MEM_DONATE");
		r->x[0] = RMI_ERROR_INPUT;
		return;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t d = list[i], cnt = (d & RMI_ADDR_RANGE_CNT_MASK) >> RMI_ADDR_RANGE_CNT_SHIFT;
		uint64_t pa = d & RMI_ADDR_RANGE_ADDR_MASK, bg = blk_granules(f->sz);
		if (!cnt)
			continue;
		nonempty++;
		if ((d & RMI_ADDR_RANGE_SZ_MASK) != f->sz ||
		    ((d >> RMI_ADDR_RANGE_ST_SHIFT) & 1) != f->undelegated || (pa & (bg * G - 1)))
			violation(f, "donated descriptor of the wrong kind");
		if (f->contig && (cnt != f->cnt || (pa & (pow2_up(cnt * bg) * G - 1))))
			violation(f, "contiguous donation not one aligned block");
		if (!pas_is(pa, cnt * bg, f->undelegated ? RK_PAS_NS : RK_PAS_REALM))
			violation(f, "donated memory in the wrong state");
		for (uint64_t b = 0; b < cnt; b++) {
			if (f->cur.naux == f->cnt)
				break;
			if (!f->contig && got == f->per_call)
				break;
			f->cur.aux[f->cur.naux++] = pa + b * bg * G;
			got += bg;
		}
	}
	if (f->contig && nonempty != 1)
		violation(f, "contiguous donation in several descriptors");
	r->x[1] = got;
	if (f->cur.naux < f->cnt) {
		r->x[0] = incomplete(RMI_OP_MEM_REQ_DONATE);
		r->x[2] = donate_req(f, f->cnt - f->cur.naux);
	} else {
		r->x[0] = incomplete(RMI_OP_MEM_REQ_NONE);
		f->next = F_CONTINUE;
	}
}

static void op_reclaim(struct fake *f, struct rk_smc_regs *r)
{
	uint64_t list[512], cap = r->x[3], n = 0;

	f->reclaim_calls++;
	if (f->next != F_RECLAIM || r->x[1] != H_REC || cap == 0) {
		violation(f, "unexpected OP_MEM_RECLAIM");
		r->x[0] = RMI_ERROR_INPUT;
		return;
	}
	while (n < cap && n < f->per_call && f->reclaimed < f->cur.naux)
		list[n++] = f->cur.aux[f->reclaimed++] | ((uint64_t)f->sz << RMI_ADDR_RANGE_SZ_SHIFT) |
			    (1ULL << RMI_ADDR_RANGE_CNT_SHIFT) |
			    ((uint64_t)f->undelegated << RMI_ADDR_RANGE_ST_SHIFT);
	if (f->bogus_reclaim && n < cap && f->reclaimed == f->cur.naux) {
		list[n++] = f->bogus_pa | (1ULL << RMI_ADDR_RANGE_CNT_SHIFT);
		f->bogus_reclaim = false;
	}
	assert_int_equal(rk_ns_write(m, r->x[2], list, n * 8), 0);
	r->x[1] = n;
	if (f->reclaimed < f->cur.naux) {
		r->x[0] = incomplete(RMI_OP_MEM_REQ_RECLAIM);
	} else {
		r->x[0] = incomplete(RMI_OP_MEM_REQ_NONE);
		f->next = F_FINAL;
	}
}

static bool fake_filter(void *arg, struct rk_smc_regs *r)
{
	struct fake *f = arg;
	uint64_t fid = r->x[0];

	if (f->yield_maps && (fid == RMI_FID_RTT_DATA_MAP || fid == RMI_FID_RTT_DATA_UNMAP ||
			      fid == RMI_FID_RTT_UNPROT_UNMAP || fid == RMI_FID_GRANULE_RANGE_DELEGATE ||
			      fid == RMI_FID_GRANULE_RANGE_UNDELEGATE)) {
		/* the real command runs; its result arrives with OP_CONTINUE */
		rk_smc(m, r);
		if ((r->x[0] & 0xff) != RMI_SUCCESS)
			return true;
		memcpy(f->saved, r->x, sizeof(f->saved));
		memset(r->x, 0, sizeof(r->x));
		r->x[0] = incomplete(RMI_OP_MEM_REQ_NONE);
		r->x[1] = H_YIELD;
		f->yields++;
		return true;
	}
	if (fid == RMI_FID_OP_CONTINUE && r->x[1] == H_YIELD) {
		memcpy(r->x, f->saved, sizeof(f->saved));
		return true;
	}
	switch (fid) {
	case RMI_FID_REC_CREATE:
		if (!pas_is(r->x[2], 1, RK_PAS_REALM))
			violation(f, "REC granule not delegated");
		memset(&f->cur, 0, sizeof(f->cur));
		f->cur.rec = r->x[2];
		f->destroying = false;
		f->failing = false;
		f->next = F_DONATE;
		r->x[0] = incomplete(RMI_OP_MEM_REQ_DONATE);
		r->x[1] = H_REC;
		r->x[2] = donate_req(f, f->cnt);
		return true;
	case RMI_FID_REC_DESTROY:
		f->next = F_IDLE;
		for (uint32_t i = 0; i < f->nrecs; i++) {
			if (f->recs[i].rec != r->x[1])
				continue;
			f->cur = f->recs[i];
			f->recs[i] = f->recs[--f->nrecs];
			f->destroying = true;
			f->reclaimed = 0;
			f->next = F_RECLAIM;
		}
		if (f->next != F_RECLAIM) {
			violation(f, "REC_DESTROY of an unknown REC");
			r->x[0] = RMI_ERROR_INPUT;
			return true;
		}
		r->x[0] = incomplete(RMI_OP_MEM_REQ_RECLAIM);
		r->x[1] = H_REC;
		return true;
	case RMI_FID_OP_MEM_DONATE:
		op_donate(f, r);
		return true;
	case RMI_FID_OP_MEM_RECLAIM:
		op_reclaim(f, r);
		return true;
	case RMI_FID_OP_CONTINUE:
		if (r->x[1] != H_REC || (f->next != F_CONTINUE && f->next != F_FINAL)) {
			violation(f, "unexpected OP_CONTINUE");
			r->x[0] = RMI_ERROR_INPUT;
			return true;
		}
		if (f->next == F_CONTINUE && f->fail_after_donation) {
			/* the REC cannot be created: give the memory back, then report */
			f->failing = true;
			f->reclaimed = 0;
			f->next = F_RECLAIM;
			r->x[0] = incomplete(RMI_OP_MEM_REQ_RECLAIM);
			return true;
		}
		f->next = F_IDLE;
		if (f->failing) {
			r->x[0] = RMI_ERROR_REALM;
		} else {
			if (!f->destroying)
				f->recs[f->nrecs++] = f->cur;
			r->x[0] = RMI_SUCCESS;
		}
		return true;
	case RMI_FID_OP_CANCEL:
		r->x[0] = RMI_ERROR_INPUT;
		return true;
	default:
		return false;
	}
}

static int setup(void **state)
{
	struct rk_machine_config cfg;

	(void)state;
	rk_machine_config_default(&cfg);
	cfg.dram_size = DRAM_MIB * MIB;
	assert_int_equal(rk_machine_create(&cfg, &m), 0);
	assert_int_equal(rk_host_create(m, NULL, &h), 0);
	memset(&fk, 0, sizeof(fk));
	fk.m = m;
	fk.sz = 0;
	fk.cnt = 16;
	fk.per_call = 1000;
	rk_host_set_smc_filter(h, fake_filter, &fk);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rk_host_destroy(h);
	rk_machine_destroy(m);
	return 0;
}

/* Every granule UNDELEGATED or LEAKED; returns the number leaked. */
static uint64_t accounted(void)
{
	struct rk_host_stats st;
	uint64_t leaked = 0;

	for (uint64_t pa = T_DRAM_BASE; pa < T_DRAM_BASE + DRAM_MIB * MIB; pa += G) {
		struct rk_granule_info gi;
		assert_int_equal(rk_host_granule_info(h, pa, &gi), 0);
		if (gi.state == RK_GRANULE_LEAKED)
			leaked++;
		else
			assert_int_equal(t_gstate(m, pa), GRANULE_STATE_NS);
	}
	rk_host_get_stats(h, &st);
	assert_int_equal(st.ledger_errors, 0);
	assert_int_equal(st.granules_leaked, leaked);
	return leaked;
}

static struct rk_vm *realm(unsigned int nvcpus)
{
	struct rk_vm_config cfg;
	struct rk_vm *vm;

	rk_vm_config_default(&cfg, RK_VM_REALM);
	assert_int_equal(rk_vm_create(h, &cfg, &vm), 0);
	assert_int_equal(rk_vm_add_memslot(vm, 0, 4 * MIB, 0), 0);
	for (unsigned int i = 0; i < nvcpus; i++)
		assert_int_equal(rk_vcpu_create(vm, i, NULL), 0);
	return vm;
}

/* Granules of the host in state RMM with role REC_AUX. */
static uint64_t aux_granules(void)
{
	uint64_t n = 0;

	for (uint64_t pa = T_DRAM_BASE; pa < T_DRAM_BASE + DRAM_MIB * MIB; pa += G) {
		struct rk_granule_info gi;
		assert_int_equal(rk_host_granule_info(h, pa, &gi), 0);
		n += gi.state == RK_GRANULE_RMM && gi.role == RK_ROLE_REC_AUX;
	}
	return n;
}

static void build_and_destroy(unsigned int nvcpus, uint64_t expect_aux)
{
	struct rk_host_stats a, b;
	struct rk_vm *vm;

	rk_host_get_stats(h, &a);
	vm = realm(nvcpus);
	assert_int_equal(rk_vm_activate(vm), 0);
	assert_int_equal(aux_granules(), expect_aux);
	assert_int_equal(rk_vm_destroy(vm), 0);
	rk_vm_free(vm);
	rk_host_get_stats(h, &b);
	assert_int_equal(b.granules_free, a.granules_free); /* nothing kept */
	assert_int_equal(accounted(), 0);
	assert_int_equal(fk.violations, 0);
	assert_int_equal(fk.nrecs, 0);
}

static void test_multi_round_donation_and_reclaim(void **state)
{
	(void)state;
	fk.per_call = 5; /* 16 granules take 4 rounds; the host offers the rest again each time */
	build_and_destroy(2, 32);
	assert_true(fk.donate_calls >= 8);
	assert_true(fk.reclaim_calls >= 8);
}

static void test_contiguous_donation(void **state)
{
	(void)state;
	fk.cnt = 8;
	fk.contig = 1;
	build_and_destroy(1, 8);
	assert_int_equal(fk.donate_calls, 1);
}

static void test_block_donation(void **state)
{
	(void)state;
	fk.sz = 1; /* one 2 MiB block */
	fk.cnt = 1;
	build_and_destroy(1, 512);
}

static void test_undelegated_donation(void **state)
{
	(void)state;
	fk.undelegated = 1; /* the RMM takes NS memory as it is */
	fk.cnt = 4;
	build_and_destroy(2, 8);
}

static void test_failure_after_donation(void **state)
{
	struct rk_vm *vm = realm(1);
	const struct rk_host_error *e;

	(void)state;
	fk.fail_after_donation = true;
	assert_int_equal(rk_vm_activate(vm), -EIO);
	e = rk_host_last_error(h);
	assert_int_equal(e->fid, RMI_FID_REC_CREATE);
	assert_int_equal(e->x0, RMI_ERROR_REALM);
	assert_non_null(strstr(e->msg, "ERROR_REALM"));
	assert_int_equal(rk_vm_get_state(vm), RK_VM_NEW);
	assert_int_equal(aux_granules(), 0); /* all reclaimed, undelegated, freed */
	fk.fail_after_donation = false;
	assert_int_equal(rk_vm_activate(vm), 0);
	assert_int_equal(rk_vm_destroy(vm), 0);
	rk_vm_free(vm);
	assert_int_equal(accounted(), 0);
	assert_int_equal(fk.violations, 0);
}

static void test_bogus_reclaim_is_ignored(void **state)
{
	struct rk_host_stats st;
	struct rk_granule_info before, after;
	struct rk_vm *vm = realm(1);

	(void)state;
	assert_int_equal(rk_vm_activate(vm), 0);
	fk.bogus_pa = T_DRAM_BASE + (DRAM_MIB - 1) * MIB; /* free host memory, never donated */
	fk.bogus_reclaim = true;
	assert_int_equal(rk_host_granule_info(h, fk.bogus_pa, &before), 0);
	assert_int_equal(rk_vm_destroy(vm), 0);
	rk_vm_free(vm);
	assert_int_equal(rk_host_granule_info(h, fk.bogus_pa, &after), 0);
	assert_int_equal(after.state, before.state);
	rk_host_get_stats(h, &st);
	assert_int_equal(st.shadow_mismatches, 1);
	assert_int_equal(accounted(), 0);
}

static int count_cb(void *arg, const struct rk_s2_entry *e)
{
	unsigned int *n = arg;

	assert_int_equal(e->mismatch, 0);
	(*n)++;
	return 0;
}

static void test_irq_yield_on_mapping_commands(void **state)
{
	static uint8_t img[8192];
	struct rk_vm *vm = realm(1);
	unsigned int n = 0;

	(void)state;
	fk.yield_maps = true;
	assert_int_equal(rk_vm_add_memslot(vm, 1ULL << 39, MIB, RK_MEMSLOT_SHARED), 0);
	assert_int_equal(rk_vm_populate(vm, 0, img, sizeof(img), RK_POPULATE_MEASURE), 0);
	assert_int_equal(rk_vm_map(vm, MIB, 3 * MIB), 0);
	assert_int_equal(rk_vm_map(vm, 1ULL << 39, MIB), 0);
	assert_int_equal(rk_vm_unmap(vm, MIB, 8 * G), 0);
	assert_int_equal(rk_vm_s2_dump(vm, 0, 4 * MIB, count_cb, &n), 0);
	assert_int_equal(n, 2 + 2 + 248 + 1); /* L2, L3 tables; 2 populated pages; 248 pages; one block */
	assert_true(fk.yields > 0);
	assert_int_equal(rk_host_rmi_count(h, RMI_FID_OP_CONTINUE), fk.yields);
	assert_true(fk.yields > rk_host_rmi_count(h, RMI_FID_RTT_DATA_MAP));
	assert_int_equal(rk_vm_activate(vm), 0);
	assert_int_equal(rk_vm_destroy(vm), 0);
	rk_vm_free(vm);
	assert_int_equal(accounted(), 0);
	assert_int_equal(fk.violations, 0);
}

/* Every SRO step failing once: everything accounted, nothing reused. */
static void test_fault_every_sro_step(void **state)
{
	static const uint64_t fids[] = {
		RMI_FID_REC_CREATE,  RMI_FID_OP_MEM_DONATE,  RMI_FID_OP_CONTINUE,
		RMI_FID_REC_DESTROY, RMI_FID_OP_MEM_RECLAIM,
	};
	unsigned int runs = 0;

	(void)state;
	teardown(NULL);
	for (size_t f = 0; f < sizeof(fids) / sizeof(fids[0]); f++) {
		for (uint32_t nth = 1;; nth++) {
			struct rk_vm *vm;

			setup(NULL);
			fk.per_call = 5;
			assert_int_equal(rk_host_inject_fault(h, fids[f], nth, RMI_ERROR_INPUT), 0);
			vm = realm(2);
			(void)rk_vm_activate(vm);
			(void)rk_vm_destroy(vm);
			rk_vm_free(vm);
			bool fired = rk_host_faults_fired(h) == 1;
			(void)accounted();
			/* the host goes on: another realm, clean */
			rk_host_clear_faults(h);
			uint64_t leaked = rk_host_leaked_granules(h);
			vm = realm(2);
			assert_int_equal(rk_vm_activate(vm), 0);
			assert_int_equal(rk_vm_destroy(vm), 0);
			rk_vm_free(vm);
			assert_int_equal(rk_host_leaked_granules(h), leaked);
			(void)accounted();
			teardown(NULL);
			if (!fired)
				break;
			runs++;
		}
	}
	print_message("SRO fault sweep: %u runs\n", runs);
	setup(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_multi_round_donation_and_reclaim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contiguous_donation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_donation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_undelegated_donation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_after_donation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bogus_reclaim_is_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irq_yield_on_mapping_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_every_sro_step, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
