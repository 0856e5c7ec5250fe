/* SPDX-License-Identifier: MIT */
/*
 * The host's vCPU run loop (rk_vcpu_run, rk_vm_run): example realms end to
 * end through the library (console, host calls, PSCI across vCPUs, RIPAS
 * changes accepted and rejected, shared memory), the RIM predicted from the
 * plan (rk_plan_rim, no RMI call) against the host's prediction and the RMM's
 * own record for every example and hash, hand-assembled realms for the exits
 * (emulated MMIO load and store, SEA for an MMIO access nothing serves, a
 * stage-2 fault outside every memory slot, the last vCPU switching off),
 * stop/timeout/resume, -EBUSY while running, RMI failures at REC_ENTER,
 * PSCI_COMPLETE, SET_RIPAS and DATA_MAP, normal VMs through the same loop,
 * and after every run: nothing leaked, every granule back to NS.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "realmkit/guest_abi.h"
#include "a64.h"
#include "payload_util.h"
#include "machine.h"
#include "realmkit/cpu.h"
#include "realmkit/arch/gic.h"
#include "realmkit/arch/psci.h"
#include "realmkit/platform.h"
#include "realmkit/host.h"
#include "realmkit/measure.h"
#include "rk_test.h"
#include "rmm/realm.h"
#include "host/host_internal.h"

#define MIB (1ULL << 20)
#define DRAM_MIB 256ULL
#define RAM RK_GUEST_RAM_BASE
#define SHARED_IPA (RK_GUEST_UNPROT_BASE + 0x10000000ULL)
#define SHARED_SIZE 0x10000ULL
#define DEV_IPA (RK_GUEST_UNPROT_BASE + 0x01000000ULL)
#define NODEV_IPA (RK_GUEST_UNPROT_BASE + 0x02000000ULL)

static struct rk_machine *m;
static struct rk_host *h;

static int setup(void **state)
{
	struct rk_machine_config cfg;

	(void)state;
	rk_machine_config_default(&cfg);
	cfg.dram_size = DRAM_MIB * MIB;
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

/* Nothing leaked, no ledger error, every granule of DRAM NS again. */
static void check_clean(void)
{
	struct rk_host_stats st;

	rk_host_get_stats(h, &st);
	assert_int_equal(st.granules_leaked, 0);
	assert_int_equal(st.ledger_errors, 0);
	assert_int_equal(st.shadow_mismatches, 0);
	t_assert_all_undelegated(m);
}

/* ---- a guest: console capture and the host calls of guest/README.md ---- */

struct guest {
	struct rk_vm *vm;
	uint8_t *image;
	size_t len;
	char out[16384];
	size_t out_len;
	uint32_t ncpus;
	bool result_seen, result_pass;
	uint64_t result_value;
	uint64_t token_len;
	uint64_t iterations; /* RK_HC_ITERATIONS (0: the example's default) */
};

static void console(void *arg, const char *buf, size_t len)
{
	struct guest *g = arg;

	if (len > sizeof(g->out) - 1 - g->out_len)
		len = sizeof(g->out) - 1 - g->out_len;
	memcpy(g->out + g->out_len, buf, len);
	g->out_len += len;
	g->out[g->out_len] = '\0';
}

static int host_call(void *arg, struct rk_vm *vm, uint32_t vcpu, uint32_t imm, uint64_t gp[31])
{
	struct guest *g = arg;
	uint64_t in[3] = { gp[0], gp[1], gp[2] };

	(void)vm;
	(void)vcpu;
	memset(gp, 0, 31 * sizeof(uint64_t));
	switch (imm) {
	case RK_HC_CPU_COUNT:
		gp[0] = g->ncpus;
		break;
	case RK_HC_STRESS_CONFIG:
		gp[0] = 200000; /* iterations */
		gp[1] = 50000;
		break;
	case RK_HC_CHALLENGE:
		for (unsigned int i = 0; i < 8; i++)
			gp[i] = 0x0101010101010101ULL * (i + 1);
		break;
	case RK_HC_SHARED_BUF:
		gp[0] = SHARED_IPA;
		gp[1] = SHARED_SIZE;
		break;
	case RK_HC_TOKEN_READY:
		g->token_len = in[2] ? 0 : in[0];
		break;
	case RK_HC_ITERATIONS:
		gp[0] = g->iterations;
		break;
	case RK_HC_RESULT:
		g->result_seen = true;
		g->result_pass = in[1] == 0;
		g->result_value = in[2];
		break;
	default:
		break;
	}
	return 0;
}

/* The plan `realmkit run` makes (tools/cmd_run.c): RAM at RK_GUEST_RAM_BASE, the image measured, a shared slot. */
static void make_plan(struct rk_vm_plan *p, struct rk_plan_memslot slots[2], struct rk_plan_load *load,
		      struct rk_vcpu_config *vcpus, enum rk_vm_kind kind, uint32_t algo, const void *img,
		      size_t len, uint32_t ncpus, uint64_t mem)
{
	memset(p, 0, sizeof(*p));
	rk_vm_config_default(&p->config, kind);
	p->config.hash_algo = kind == RK_VM_REALM ? algo : 0;
	slots[0] = (struct rk_plan_memslot){ RAM, mem, 0, 0 };
	slots[1] = (struct rk_plan_memslot){ SHARED_IPA, SHARED_SIZE, RK_MEMSLOT_SHARED, 0 };
	p->memslots = slots;
	p->nmemslots = kind == RK_VM_REALM ? 2 : 1;
	*load = (struct rk_plan_load){ RAM, img, len, RK_POPULATE_MEASURE, 0 };
	p->loads = load;
	p->nloads = 1;
	memset(vcpus, 0, ncpus * sizeof(*vcpus));
	vcpus[0].pc = RAM;
	vcpus[0].flags = RK_VCPU_RUNNABLE;
	p->vcpus = vcpus;
	p->nvcpus = ncpus;
}

/* Build a VM for payload name (NULL: code[] of n words) with the UART and the host calls. */
static struct guest *guest_new(const char *name, const uint32_t *code, size_t n, enum rk_vm_kind kind,
			       uint32_t algo, uint32_t ncpus)
{
	struct guest *g = calloc(1, sizeof(*g));
	struct rk_plan_memslot slots[2];
	struct rk_vcpu_config vcpus[8];
	struct rk_plan_load load;
	struct rk_vm_plan p;

	assert_non_null(g);
	if (name) {
		g->image = t_load_payload(name, &g->len);
		if (!g->image) {
			free(g);
			return NULL;
		}
	} else {
		g->len = n * 4;
		g->image = malloc(g->len);
		memcpy(g->image, code, g->len);
	}
	g->ncpus = ncpus;
	make_plan(&p, slots, &load, vcpus, kind, algo, g->image, g->len, ncpus, 16 * MIB);
	assert_int_equal(rk_vm_create_from_plan(h, &p, &g->vm), 0);
	assert_int_equal(rk_vm_add_uart(g->vm, RK_GUEST_UART_IPA, console, g), 0);
	rk_vm_set_host_call_handler(g->vm, host_call, g);
	return g;
}

static void guest_free(struct guest *g)
{
	if (!g)
		return;
	if (rk_vm_get_state(g->vm) != RK_VM_DEAD)
		assert_int_equal(rk_vm_destroy(g->vm), 0);
	rk_vm_free(g->vm);
	free(g->image);
	free(g);
	check_clean();
}

static void expect_out(const struct guest *g, const char *s)
{
	if (!strstr(g->out, s))
		fail_msg("console lacks '%s'; it says:\n%s", s, g->out);
}

static struct rk_vm_run_info info_of(struct rk_vm *vm)
{
	struct rk_vm_run_info i;

	assert_int_equal(rk_vm_get_run_info(vm, &i), 0);
	return i;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

#define SKIP_IF_NO_PAYLOAD(g)             \
	do {                              \
		if (!(g))                 \
			T_NO_PAYLOAD(#g); \
	} while (0)

struct blk_count {
	unsigned int blocks, pages;
};

static int count_blocks(void *arg, const struct rk_s2_entry *e)
{
	struct blk_count *c = arg;

	assert_false(e->mismatch);
	c->blocks += e->kind == RK_S2_BLOCK && e->level == 2;
	c->pages += e->kind == RK_S2_PAGE;
	return 0;
}

/* ---- example realms ---- */

static void test_hello_rim(void **state)
{
	(void)state;
	for (uint32_t algo = RMI_HASH_SHA_256; algo <= RMI_HASH_SHA_512; algo++) {
		struct guest *g = guest_new("hello", NULL, 0, RK_VM_REALM, algo, 1);
		uint8_t pred[64], plan[64];
		char line[200];
		size_t len;
		rk_rd_t rd;

		SKIP_IF_NO_PAYLOAD(g);
		assert_int_equal(rk_vm_activate(g->vm), 0);
		assert_int_equal(rk_vm_rim(g->vm, pred, &len), 0);
		assert_int_equal(len, rk_hash_len(algo));
		assert_int_equal(rk_vm_rd(g->vm, &rd), 0);
		struct rmm *rmm = machine_rmm(m);
		assert_memory_equal(rd_of(rmm, granule_from_pa(rmm, rd.pa))->rim, pred, 64);
		assert_int_equal(rk_vm_run(g->vm, 60000), 0);
		struct rk_vm_run_info i = info_of(g->vm);
		assert_int_equal(i.reason, RK_STOP_SYSTEM_OFF);
		assert_true(i.exits[RMI_EXIT_SYNC] > 100 && i.mmio == i.exits[RMI_EXIT_SYNC] - i.s2_faults);
		assert_int_equal(i.host_calls, 1);
		expect_out(g, "Hello from a realm!");
		/* what the realm read with RSI_MEASUREMENT_READ is what the plan predicts */
		strcpy(line, "RIM: ");
		hex(pred, len, line + 5);
		expect_out(g, line);
		assert_true(g->result_seen && g->result_pass);
		/* the plan, measured with no host (rk_plan_rim), from the builder's plan */
		struct rk_plan_memslot slots[2];
		struct rk_vcpu_config vcpus[1];
		struct rk_plan_load load;
		struct rk_vm_plan p;
		make_plan(&p, slots, &load, vcpus, RK_VM_REALM, algo, g->image, g->len, 1, 16 * MIB);
		uint64_t calls = rk_host_rmi_count(h, RMI_FID_VERSION);
		assert_int_equal(rk_plan_rim(&p, 0, plan, &len), -EINVAL); /* num_bps = 0: needs FR0 */
		struct rk_host_caps caps;
		rk_host_caps(h, &caps);
		assert_int_equal(rk_plan_rim(&p, caps.rmi_features[0], plan, &len), 0);
		assert_memory_equal(plan, pred, 64);
		assert_int_equal(rk_host_rmi_count(h, RMI_FID_VERSION), calls);
		/* a run after SYSTEM_OFF returns the same at once */
		assert_int_equal(rk_vcpu_run(g->vm, 0), 0);
		/* the populated block was completed and folded before the first entry: the RIM did not move */
		struct blk_count bc = { 0, 0 };
		assert_int_equal(rk_vm_s2_dump(g->vm, RAM, 2 * MIB, count_blocks, &bc), 0);
		assert_int_equal(bc.blocks, 1);
		assert_int_equal(bc.pages, 0);
		assert_memory_equal(rd_of(rmm, granule_from_pa(rmm, rd.pa))->rim, pred, 64);
		guest_free(g);
	}
}

/* For every example and hash: rk_plan_rim() == the host's prediction == the RMM's RIM. */
static void test_every_example_rim(void **state)
{
	static const char *const names[] = {
		"hello", "smp", "ripas", "abort", "stress", "attest", "bad_undef"
	};
	struct rk_host_caps caps;

	(void)state;
	rk_host_caps(h, &caps);
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		for (uint32_t algo = RMI_HASH_SHA_256; algo <= RMI_HASH_SHA_384; algo++) {
			struct guest *g = guest_new(names[k], NULL, 0, RK_VM_REALM, algo, 2);
			struct rk_plan_memslot slots[2];
			struct rk_vcpu_config vcpus[2];
			struct rk_plan_load load;
			struct rk_vm_plan p;
			uint8_t pred[64], plan[64];
			rk_rd_t rd;

			SKIP_IF_NO_PAYLOAD(g);
			assert_int_equal(rk_vm_activate(g->vm), 0);
			assert_int_equal(rk_vm_rim(g->vm, pred, NULL), 0);
			make_plan(&p, slots, &load, vcpus, RK_VM_REALM, algo, g->image, g->len, 2, 16 * MIB);
			assert_int_equal(rk_plan_rim(&p, caps.rmi_features[0], plan, NULL), 0);
			assert_memory_equal(plan, pred, 64);
			assert_int_equal(rk_vm_rd(g->vm, &rd), 0);
			struct rmm *rmm = machine_rmm(m);
			assert_memory_equal(rd_of(rmm, granule_from_pa(rmm, rd.pa))->rim, plan, 64);
			guest_free(g);
		}
	}
}

static void test_smp(void **state)
{
	(void)state;
	for (uint32_t n = 2; n <= 8; n += 3) {
		struct guest *g = guest_new("smp", NULL, 0, RK_VM_REALM, RMI_HASH_SHA_256, n);
		char line[80];

		SKIP_IF_NO_PAYLOAD(g);
		uint64_t before = rk_host_rmi_count(h, RMI_FID_PSCI_COMPLETE);
		assert_int_equal(rk_vm_run(g->vm, 120000), 0);
		for (uint32_t i = 1; i < n; i++) {
			snprintf(line, sizeof(line), "cpu %u up (context %u", i, i);
			expect_out(g, line);
		}
		snprintf(line, sizeof(line), "smp: %u cpus, %u started, all up and off", n, n - 1);
		expect_out(g, line);
		assert_true(g->result_pass);
		struct rk_vm_run_info i = info_of(g->vm);
		/* CPU_ON and AFFINITY_INFO, each completed with RMI_PSCI_COMPLETE; CPU_OFF and SYSTEM_OFF not */
		assert_true(i.psci > 2 * (n - 1));
		assert_int_equal(rk_host_rmi_count(h, RMI_FID_PSCI_COMPLETE) - before, i.psci - (n - 1) - 1);
		guest_free(g);
	}
}

static bool reject_all(void *arg, struct rk_vm *vm, uint32_t vcpu, uint64_t base, uint64_t top,
		       unsigned int ripas)
{
	unsigned int *n = arg;

	(void)vm;
	(void)vcpu;
	(void)base;
	(void)top;
	(void)ripas;
	(*n)++;
	return false;
}

static void test_ripas(void **state)
{
	struct guest *g = guest_new("ripas", NULL, 0, RK_VM_REALM, RMI_HASH_SHA_256, 1);
	uint64_t set = rk_host_rmi_count(h, RMI_FID_RTT_SET_RIPAS),
		 unmap = rk_host_rmi_count(h, RMI_FID_RTT_DATA_UNMAP);
	uint64_t uprot = rk_host_rmi_count(h, RMI_FID_RTT_UNPROT_MAP),
		 uunmap = rk_host_rmi_count(h, RMI_FID_RTT_UNPROT_UNMAP);
	unsigned int asked = 0;
	uint8_t b[16];

	(void)state;
	SKIP_IF_NO_PAYLOAD(g);
	assert_int_equal(rk_vm_run(g->vm, 60000), 0);
	expect_out(g, "ripas: shared write/read OK");
	expect_out(g, "ripas: PASS");
	assert_true(g->result_pass);
	struct rk_vm_run_info i = info_of(g->vm);
	assert_int_equal(i.ripas_changes, 2);
	assert_int_equal(i.ripas_rejected, 0);
	assert_int_equal(i.shared_faults, 4); /* the 4 pages of the alias, mapped on demand */
	assert_true(rk_host_rmi_count(h, RMI_FID_RTT_SET_RIPAS) - set >= 2);
	assert_true(rk_host_rmi_count(h, RMI_FID_RTT_DATA_UNMAP) > unmap); /* EMPTY: private pages out */
	assert_int_equal(rk_host_rmi_count(h, RMI_FID_RTT_UNPROT_MAP) - uprot, 4);
	assert_true(rk_host_rmi_count(h, RMI_FID_RTT_UNPROT_UNMAP) > uunmap); /* RAM: the alias unmapped */
	/* the host cannot read private memory; the shared slot it can */
	assert_int_equal(rk_vm_read_mem(g->vm, RAM, b, sizeof(b)), -EACCES);
	assert_int_equal(rk_vm_read_mem(g->vm, SHARED_IPA, b, sizeof(b)), 0);
	assert_int_equal(rk_vm_read_mem(g->vm, SHARED_IPA + SHARED_SIZE, b, sizeof(b)), -EFAULT);
	guest_free(g);

	/*
	 * The same realm with a policy that refuses. A refused change to EMPTY reaches the
	 * realm as "ACCEPT, no progress" (only changes to RAM can be answered REJECT,
	 * reference 6.3), which the SDK reports as RSI_ERROR_UNKNOWN (4); its alias is
	 * then no shared memory: the access gets an SEA and the realm stops itself.
	 */
	g = guest_new("ripas", NULL, 0, RK_VM_REALM, RMI_HASH_SHA_256, 1);
	rk_vm_set_ripas_policy(g->vm, reject_all, &asked);
	assert_int_equal(rk_vm_run(g->vm, 60000), 0);
	expect_out(g, "IPA_STATE_SET(EMPTY) = 4");
	expect_out(g, "ripas: shared: IPA_STATE_GET = 0, ripas RAM");
	expect_out(g, "unhandled exception (EL1h sync): ESR_EL1 0x96000010");
	assert_false(g->result_seen);
	i = info_of(g->vm);
	assert_int_equal(i.ripas_changes, 1);
	assert_int_equal(i.ripas_rejected, 1);
	assert_int_equal(asked, 1);
	assert_int_equal(i.shared_faults, 0);
	assert_int_equal(i.mmio_unhandled, 1);
	guest_free(g);

	/* refusing a change to RAM is a REJECT the realm sees (bad_rsi asks for RAM outside its slots) */
	g = guest_new("bad_rsi", NULL, 0, RK_VM_REALM, RMI_HASH_SHA_256, 1);
	assert_int_equal(rk_vm_run(g->vm, 60000), 0);
	expect_out(g, "outside guest RAM) = 0, rejected");
	assert_int_equal(info_of(g->vm).ripas_rejected, 1);
	guest_free(g);

	/* abort: a page made EMPTY, then read: the RMM injects the SEA */
	g = guest_new("abort", NULL, 0, RK_VM_REALM, RMI_HASH_SHA_256, 1);
	assert_int_equal(rk_vm_run(g->vm, 60000), 0);
	expect_out(g, "SEA handled: ESR_EL1 0x96000010");
	assert_true(g->result_pass);
	guest_free(g);
}

static void test_attest_and_shared(void **state)
{
	struct guest *g = guest_new("attest", NULL, 0, RK_VM_REALM, RMI_HASH_SHA_512, 1);
	uint8_t tok[4];

	(void)state;
	SKIP_IF_NO_PAYLOAD(g);
	assert_int_equal(rk_vm_run(g->vm, 60000), 0);
	expect_out(g, "attest: challenge 01010101010101010202020202020202...");
	assert_true(g->result_pass);
	assert_true(g->token_len > 1000);
	/* the token in the shared slot: CBOR tag 907 (0xd9 0x03 0x8b) */
	assert_int_equal(rk_vm_read_mem(g->vm, SHARED_IPA, tok, sizeof(tok)), 0);
	assert_int_equal(tok[0], 0xd9);
	assert_int_equal(tok[1], 0x03);
	assert_int_equal(tok[2], 0x8b);
	guest_free(g);
}

static void test_stress(void **state)
{
	struct guest *g = guest_new("stress", NULL, 0, RK_VM_REALM, RMI_HASH_SHA_256, 1);

	(void)state;
	SKIP_IF_NO_PAYLOAD(g);
	assert_int_equal(rk_vm_run(g->vm, 120000), 0);
	expect_out(g, "stress: 200000 iterations, host call every 50000");
	expect_out(g, "after 200000 iterations, 4 host calls");
	assert_int_equal(info_of(g->vm).host_calls, 4 + 2);
	guest_free(g);
}

/* ---- hand-assembled realms: the exits one by one ---- */

/* A device; the callbacks run on vCPU threads: they record, the test checks afterwards. */
struct dev {
	uint64_t reads, writes, val4, esr[2];
	uint32_t sizes[8], nsizes, nesr;
};

static int dev_read(void *arg, uint32_t vcpu, uint64_t off, uint32_t size, uint64_t *v)
{
	struct dev *d = arg;

	(void)vcpu;
	d->reads++;
	d->sizes[d->nsizes++ % 8] = size;
	*v = off == 0 ? 0xfffffff1u /* sign bit of the word set */ : 7;
	return 0;
}

static int dev_write(void *arg, uint32_t vcpu, uint64_t off, uint32_t size, uint64_t v)
{
	struct dev *d = arg;

	(void)vcpu;
	d->writes++;
	d->sizes[d->nsizes++ % 8] = size;
	if (off == 4)
		d->val4 = v;
	if (off == 8 && d->nesr < 2)
		d->esr[d->nesr++] = v;
	return off == 0x10 ? -1 : 0; /* 0x10 refuses: the guest gets an SEA */
}

static const struct rk_mmio_ops dev_ops = { dev_read, dev_write };

/*
 * x1 = the device; LDR w2, [x1] (0xfffffff1, zero-extended); ADD x2, x2, #1;
 * STR w2, [x1, #4]; VBAR_EL1 = RAM + 0x800; LDR x4, [NODEV] (no device: SEA);
 * STR w2, [x1, #0x10] (the device refuses: SEA); SYSTEM_OFF. The synchronous
 * handler at VBAR + 0x200 stores ESR_EL1 to [x1, #8] and returns past the
 * faulting instruction.
 */
static size_t mmio_program(uint32_t *c)
{
	size_t n = 0;

	n += a64_mov64(c + n, 1, DEV_IPA);
	c[n++] = a64_ldst(A64_OP_LDRW, 2, 2, 1, 0);
	c[n++] = a64_add_imm(2, 2, 1);
	c[n++] = a64_ldst(A64_OP_STRW, 2, 2, 1, 4);
	n += a64_mov64(c + n, 6, RAM + 0x800);
	c[n++] = a64_msr(A64_VBAR_EL1, 6);
	n += a64_mov64(c + n, 3, NODEV_IPA);
	c[n++] = a64_ldr(4, 3);
	c[n++] = a64_ldst(A64_OP_STRW, 2, 2, 1, 0x10);
	n += a64_mov64(c + n, 0, PSCI_SYSTEM_OFF);
	c[n++] = A64_SMC;
	c[n++] = A64_B_SELF;
	/* vectors at +0x800; current EL with SP_ELx, synchronous: +0x200 */
	n = (0x800 + 0x200) / 4;
	c[n++] = a64_mrs(5, A64_ESR_EL1);
	c[n++] = a64_str_off(5, 1, 8);
	c[n++] = a64_mrs(6, A64_ELR_EL1);
	c[n++] = a64_add_imm(6, 6, 4);
	c[n++] = a64_msr(A64_ELR_EL1, 6);
	c[n++] = A64_ERET;
	return n;
}

static void test_mmio(void **state)
{
	uint32_t code[1024] = { 0 };
	size_t n = mmio_program(code);
	struct dev d;

	(void)state;
	for (int kind = RK_VM_NORMAL; kind <= RK_VM_REALM; kind++) {
		struct guest *g = guest_new(NULL, code, n, (enum rk_vm_kind)kind, RMI_HASH_SHA_256, 1);

		memset(&d, 0, sizeof(d));
		assert_int_equal(rk_vm_add_mmio(g->vm, DEV_IPA, 0x1000, &dev_ops, &d), 0);
		/* overlapping regions, and realm MMIO in the protected half, are refused */
		assert_int_equal(rk_vm_add_mmio(g->vm, DEV_IPA + 0x800, 0x1000, &dev_ops, &d), -EINVAL);
		assert_int_equal(rk_vm_add_mmio(g->vm, DEV_IPA, 0x1000, &dev_ops, &d), -EEXIST);
		assert_int_equal(rk_vm_add_mmio(g->vm, RAM, 0x1000, &dev_ops, &d),
				 kind == RK_VM_REALM ? -EINVAL : -EEXIST);
		assert_int_equal(rk_vm_run(g->vm, 60000), 0);
		assert_int_equal(d.reads, 1);
		assert_int_equal(d.writes, 4); /* +4, ESR, +0x10 (refused), ESR */
		assert_int_equal(d.val4, 0xfffffff2u);
		assert_int_equal(d.sizes[0], 4);
		assert_int_equal(d.sizes[1], 4);
		assert_int_equal(d.sizes[2], 8);
		struct rk_vm_run_info i = info_of(g->vm);
		assert_int_equal(i.mmio, 4);
		assert_int_equal(i.mmio_unhandled, 2);
		/* both: a synchronous external abort, data abort taken from EL1 */
		assert_int_equal(d.nesr, 2);
		for (int k = 0; k < 2; k++) {
			assert_int_equal(esr_ec(d.esr[k]), ESR_EC_DABT_CUR);
			assert_int_equal(esr_fsc(d.esr[k]), ESR_FSC_SEA);
		}
		guest_free(g);
	}
}

/* ---- timers (stage-2 mode): WFI blocks the vCPU, it does not spin ---- */

struct tdev {
	uint64_t v[2];
	unsigned int n;
};

static int tdev_write(void *arg, uint32_t vcpu, uint64_t off, uint32_t size, uint64_t v)
{
	struct tdev *d = arg;

	(void)vcpu;
	(void)size;
	if (off < 16)
		d->v[off / 8] = v;
	d->n++;
	return 0;
}

static const struct rk_mmio_ops tdev_ops = { dev_read, tdev_write };

#define TA64_CNTVCT A64_SYSREG(3, 3, 14, 0, 2)
#define TA64_CNTV_CTL A64_SYSREG(3, 3, 14, 3, 1)
#define TA64_CNTV_CVAL A64_SYSREG(3, 3, 14, 3, 2)
#define TA64_CMP_X7_X4 0xEB0400FFu /* subs xzr, x7, x4 */
#define WAIT_TICKS 12500000ULL     /* 200 ms at 62.5 MHz */

/*
 * The guest (a normal VM, then a realm) arms its virtual timer 200 ms ahead
 * (enabled, unmasked; IRQs masked, no GIC set up) and WFIs until CNTVCT
 * reaches it, then stores the
 * counter and CNTV_CTL to the device and powers off. The host blocks the
 * vCPU in each trapped WFI until the timer's deadline: the run uses a small
 * fraction of a core (CPU time only is asserted; a host that re-entered at
 * once used all of it), and the wait was no shorter than 200 ms.
 */
static void test_wfi_sleeps(void **state)
{
	enum rk_cpu_mode mode = rk_cpu_default_mode();

	(void)state;
	rk_cpu_set_default_mode(RK_CPU_MODE_STAGE2);
	for (int kind = RK_VM_NORMAL; kind <= RK_VM_REALM; kind++) {
		uint32_t code[256] = { 0 };
		struct tdev d = { .n = 0 };
		struct timespec c0, c1;
		size_t n = 0;

		n += a64_mov64(code + n, 1, DEV_IPA);
		code[n++] = a64_mrs(3, TA64_CNTVCT);
		n += a64_mov64(code + n, 5, WAIT_TICKS);
		code[n++] = 0x8B050064u; /* add x4, x3, x5 */
		code[n++] = a64_msr(TA64_CNTV_CVAL, 4);
		n += a64_mov64(code + n, 6, 1);
		code[n++] = a64_msr(TA64_CNTV_CTL, 6);
		code[n++] = A64_WFI;
		code[n++] = a64_mrs(7, TA64_CNTVCT);
		code[n++] = TA64_CMP_X7_X4;
		code[n++] = a64_bcond(3 /* LO */, -3);
		code[n++] = a64_str_off(7, 1, 0);
		code[n++] = a64_mrs(8, TA64_CNTV_CTL);
		code[n++] = a64_str_off(8, 1, 8);
		n += a64_mov64(code + n, 0, PSCI_SYSTEM_OFF);
		code[n++] = A64_SMC;
		code[n++] = A64_B_SELF;
		struct guest *g = guest_new(NULL, code, n, (enum rk_vm_kind)kind, RMI_HASH_SHA_256, 1);
		assert_int_equal(rk_vm_add_mmio(g->vm, DEV_IPA, 0x1000, &tdev_ops, &d), 0);
		uint64_t t0 = rk_counter_read();
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
		int ret = rk_vm_run(g->vm, 60000);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
		double cpu_ms =
			(double)(c1.tv_sec - c0.tv_sec) * 1e3 + (double)(c1.tv_nsec - c0.tv_nsec) / 1e6;
		print_message("%s: WFI for 200 ms: %.1f ms of CPU\n",
			      kind == RK_VM_REALM ? "realm" : "normal VM", cpu_ms);
		if (ret || d.n != 2 || cpu_ms >= 100.0)
			rk_cpu_set_default_mode(mode); /* the next tests run in their mode */
		assert_int_equal(ret, 0);
		assert_int_equal(d.n, 2);
		assert_true(d.v[0] >= t0 + WAIT_TICKS); /* never early */
		assert_int_equal(d.v[1], 5);            /* ENABLE | ISTATUS */
		assert_true(cpu_ms < 100.0); /* the bound is 10%: 20 ms; generous for loaded machines */
		guest_free(g);
	}
	rk_cpu_set_default_mode(mode);
}

#define TA64_ICC(enc) A64_SYSREG(3, 0, ((enc) >> 10) & 15, ((enc) >> 1) & 15, ((enc) >> 17) & 7)
#define TA64_DAIFCLR_I 0xd50342ffu /* msr daifclr, #2: unmask IRQs */
#define IRQ_TICKS 625000ULL        /* 10 ms at 62.5 MHz */

/*
 * A timer interrupt, for a realm and for a normal VM alike: the guest unmasks
 * its GIC CPU interface (ICC_PMR_EL1, ICC_IGRPEN1_EL1), arms its virtual
 * timer 10 ms ahead, unmasks IRQs and WFIs until its IRQ handler has run. The
 * handler acknowledges (ICC_IAR1_EL1, stored: 27, the virtual timer's PPI),
 * stores the counter, masks the timer (its level drops), EOIs and returns;
 * the guest powers off. The interrupt came, once, and not before the
 * deadline (only the lower bound is asserted: a loaded machine is late).
 */
static void test_timer_irq(void **state)
{
	enum rk_cpu_mode mode = rk_cpu_default_mode();

	(void)state;
	rk_cpu_set_default_mode(RK_CPU_MODE_STAGE2);
	for (int kind = RK_VM_NORMAL; kind <= RK_VM_REALM; kind++) {
		uint32_t code[1024] = { 0 };
		struct tdev d = { .n = 0 };
		size_t n = 0, k = (0x800 + 0x280) / 4; /* VBAR_EL1 = RAM + 0x800; IRQ from EL1h */

		n += a64_mov64(code + n, 1, DEV_IPA);
		n += a64_mov64(code + n, 9, RAM + 0x800);
		code[n++] = a64_msr(A64_VBAR_EL1, 9);
		n += a64_mov64(code + n, 6, 0xff);
		code[n++] = a64_msr(TA64_ICC(ICC_PMR_EL1), 6);
		n += a64_mov64(code + n, 6, 1);
		code[n++] = a64_msr(TA64_ICC(ICC_IGRPEN1_EL1), 6);
		/* the vGIC (both kinds): Group 1 on in the distributor, PPI 27 enabled in vCPU 0's redistributor */
		n += a64_mov64(code + n, 7, RK_GUEST_GICD_IPA);
		n += a64_mov64(code + n, 8, GICD_CTLR_ARE | GICD_CTLR_ENABLEGRP1);
		code[n++] = a64_ldst(A64_OP_STRW, 2, 8, 7, GICD_CTLR);
		n += a64_mov64(code + n, 7, RK_GUEST_GICR_IPA + GICR_SGI_BASE);
		n += a64_mov64(code + n, 8, 1u << PPI_VTIMER);
		code[n++] = a64_ldst(A64_OP_STRW, 2, 8, 7, GICR_ISENABLER0);
		code[n++] = a64_mrs(3, TA64_CNTVCT);
		n += a64_mov64(code + n, 5, IRQ_TICKS);
		code[n++] = 0x8B050064u; /* add x4, x3, x5 */
		code[n++] = a64_msr(TA64_CNTV_CVAL, 4);
		code[n++] = a64_msr(TA64_CNTV_CTL, 6); /* ENABLE */
		n += a64_mov64(code + n, 10, 0);
		code[n++] = TA64_DAIFCLR_I;
		code[n++] = A64_WFI;
		code[n++] = a64_cbz(10, -1); /* until the handler ran */
		n += a64_mov64(code + n, 0, PSCI_SYSTEM_OFF);
		code[n++] = A64_SMC;
		code[n++] = A64_B_SELF;
		assert_true(n < 0x800 / 4);
		code[k++] = a64_mrs(11, TA64_ICC(ICC_IAR1_EL1));
		code[k++] = a64_str_off(11, 1, 0);
		code[k++] = a64_mrs(12, TA64_CNTVCT);
		code[k++] = a64_str_off(12, 1, 8);
		code[k++] = a64_movz(6, 3, 0); /* ENABLE | IMASK */
		code[k++] = a64_msr(TA64_CNTV_CTL, 6);
		code[k++] = a64_msr(TA64_ICC(ICC_EOIR1_EL1), 11);
		code[k++] = a64_movz(10, 1, 0);
		code[k++] = A64_ERET;
		struct guest *g = guest_new(NULL, code, k, (enum rk_vm_kind)kind, RMI_HASH_SHA_256, 1);
		assert_int_equal(rk_vm_add_mmio(g->vm, DEV_IPA, 0x1000, &tdev_ops, &d), 0);
		uint64_t t0 = rk_counter_read();
		int ret = rk_vm_run(g->vm, 60000);
		if (ret)
			rk_cpu_set_default_mode(mode);
		if (ret)
			fail_msg("%s: %s", kind == RK_VM_REALM ? "realm" : "normal VM", info_of(g->vm).msg);
		assert_int_equal(d.n, 2);
		assert_int_equal(d.v[0], PPI_VTIMER);
		assert_true(d.v[1] >= t0 + IRQ_TICKS); /* never early */
		guest_free(g);
	}
	rk_cpu_set_default_mode(mode);
}

/*
 * The widest IPA space the machine offers, both kinds, used to its top: b =
 * FR0.S2SZ for a realm, host_ipa_limit for a normal VM (both
 * RK_MACHINE_CPU_PA_BITS: only what the vCPUs can address is advertised). RAM
 * in the last 2 MiB of the protected half and memory in the last 2 MiB below
 * the top page of the unprotected half (shared NS memory for a realm) are
 * stored to and read back, a device in that top page gets the value; one bit
 * wider is refused when the VM is created, with the limit named.
 */
static size_t wide_ipa_program(uint32_t *c, uint64_t ram, uint64_t hi, uint64_t dev)
{
	size_t n = 0;

	n += a64_mov64(c + n, 1, dev);
	n += a64_mov64(c + n, 3, ram + 2 * MIB - 8);
	n += a64_mov64(c + n, 7, hi + 2 * MIB - 8);
	n += a64_mov64(c + n, 2, 0x1122334455667788ULL);
	c[n++] = a64_ldst(A64_OP_STRX, 3, 2, 3, 0); /* [ram top] = x2 */
	c[n++] = a64_ldst(A64_OP_LDRX, 3, 4, 3, 0); /* x4 = [ram top] */
	c[n++] = a64_ldst(A64_OP_STRX, 3, 4, 7, 0); /* [unprotected top] = x4 */
	c[n++] = a64_ldst(A64_OP_LDRX, 3, 6, 7, 0); /* x6 = [unprotected top] */
	c[n++] = a64_ldst(A64_OP_STRW, 2, 6, 1, 4); /* device +4 = w6 */
	c[n++] = a64_ldst(A64_OP_LDRW, 2, 5, 1, 0); /* w5 = device +0 */
	n += a64_mov64(c + n, 0, PSCI_SYSTEM_OFF);
	c[n++] = A64_SMC;
	c[n++] = A64_B_SELF;
	return n;
}

static void test_wide_ipa(void **state)
{
	struct rk_host_caps caps;

	(void)state;
	assert_int_equal(rk_host_caps(h, &caps), 0);
	assert_int_equal(caps.rmi_ipa_limit, RK_MACHINE_CPU_PA_BITS);
	assert_int_equal(caps.host_ipa_limit, RK_MACHINE_CPU_PA_BITS);
	for (int kind = RK_VM_NORMAL; kind <= RK_VM_REALM; kind++) {
		const unsigned int b = kind == RK_VM_REALM ? caps.rmi_ipa_limit : caps.host_ipa_limit;
		const uint64_t ram = (1ULL << (b - 1)) - 2 * MIB, hi = (1ULL << b) - 4 * MIB;
		const uint64_t dev = (1ULL << b) - 0x1000;
		uint32_t code[64] = { 0 };
		size_t n = wide_ipa_program(code, ram, hi, dev);
		struct rk_plan_memslot slots[3];
		struct rk_vcpu_config vcpus[1];
		struct rk_plan_load load;
		struct rk_vm_plan p;
		struct rk_vm *vm;
		struct dev d;

		make_plan(&p, slots, &load, vcpus, (enum rk_vm_kind)kind, RMI_HASH_SHA_256, code, n * 4, 1,
			  2 * MIB);
		p.config.ipa_bits = b;
		slots[1] = (struct rk_plan_memslot){ ram, 2 * MIB, 0, 0 };
		slots[2] = (struct rk_plan_memslot){ hi, 2 * MIB, kind == RK_VM_REALM ? RK_MEMSLOT_SHARED : 0,
						     0 };
		p.nmemslots = 3;
		assert_int_equal(rk_vm_create_from_plan(h, &p, &vm), 0);
		memset(&d, 0, sizeof(d));
		assert_int_equal(rk_vm_add_mmio(vm, dev, 0x1000, &dev_ops, &d), 0);
		if (rk_vm_run(vm, 60000))
			fail_msg("%s: %s", kind == RK_VM_REALM ? "realm" : "normal VM", info_of(vm).msg);
		assert_int_equal(info_of(vm).reason, RK_STOP_SYSTEM_OFF);
		assert_int_equal(d.writes, 1);
		assert_int_equal(d.val4, 0x55667788u); /* through both halves and back */
		assert_int_equal(d.reads, 1);
		assert_int_equal(rk_vm_destroy(vm), 0);
		rk_vm_free(vm);
		check_clean();

		/* one bit wider: refused up front, the limit named */
		p.config.ipa_bits = b + 1;
		assert_int_equal(rk_vm_create_from_plan(h, &p, &vm), -EINVAL);
		assert_non_null(strstr(rk_host_last_error(h)->msg,
				       kind == RK_VM_REALM ? "rmi_ipa_limit" : "host_ipa_limit"));
		check_clean();
	}
}

/* A realm that makes RAM outside its memory slots (with a policy that allows it) and touches it. */
static bool accept_all(void *arg, struct rk_vm *vm, uint32_t vcpu, uint64_t base, uint64_t top,
		       unsigned int ripas)
{
	(void)arg;
	(void)vm;
	(void)vcpu;
	(void)base;
	(void)top;
	(void)ripas;
	return true;
}

static void test_fault_outside_slots(void **state)
{
	uint32_t c[64];
	size_t n = 0;
	uint64_t out = RAM + 64 * MIB;

	(void)state;
	n += a64_mov64(c + n, 0, RSI_FID_IPA_STATE_SET);
	n += a64_mov64(c + n, 1, out);
	n += a64_mov64(c + n, 2, out + 0x1000);
	c[n++] = a64_movz(3, 1, 0); /* RAM */
	c[n++] = a64_movz(4, 0, 0);
	c[n++] = A64_SMC;
	n += a64_mov64(c + n, 9, out);
	c[n++] = a64_ldr(4, 9);
	c[n++] = A64_B_SELF;
	struct guest *g = guest_new(NULL, c, n, RK_VM_REALM, RMI_HASH_SHA_256, 1);
	rk_vm_set_ripas_policy(g->vm, accept_all, NULL);
	assert_int_equal(rk_vm_run(g->vm, 60000), -EFAULT);
	struct rk_vm_run_info i = info_of(g->vm);
	assert_int_equal(i.reason, RK_STOP_ERROR);
	assert_int_equal(i.err, -EFAULT);
	assert_non_null(strstr(i.msg, "outside every memory slot"));
	assert_non_null(strstr(i.msg, "protected IPA 0x84000000"));
	/* it stays stopped */
	assert_int_equal(rk_vcpu_run(g->vm, 0), -EFAULT);
	guest_free(g);
}

static void test_last_vcpu_off(void **state)
{
	uint32_t c[8];
	size_t n = 0;

	(void)state;
	n += a64_mov64(c + n, 0, PSCI_CPU_OFF);
	c[n++] = A64_SMC;
	for (int kind = RK_VM_NORMAL; kind <= RK_VM_REALM; kind++) {
		struct guest *g = guest_new(NULL, c, n, (enum rk_vm_kind)kind, RMI_HASH_SHA_256, 2);
		assert_int_equal(rk_vm_run(g->vm, 60000), -EDEADLK);
		assert_non_null(strstr(info_of(g->vm).msg, "every other vCPU"));
		guest_free(g);
	}
}

/* ---- stop, timeout, resume, busy ---- */

struct runner {
	struct rk_vm *vm;
	pthread_t t;
	int ret;
};

static void *runner_main(void *arg)
{
	struct runner *r = arg;

	r->ret = rk_vm_run(r->vm, 0);
	return NULL;
}

static void test_stop_timeout_busy(void **state)
{
	struct guest *g = guest_new("bad_loop", NULL, 0, RK_VM_REALM, RMI_HASH_SHA_256, 1);
	struct runner r;

	(void)state;
	SKIP_IF_NO_PAYLOAD(g);
	assert_int_equal(rk_vm_run(g->vm, 100), -ETIMEDOUT);
	assert_int_equal(info_of(g->vm).reason, RK_STOP_TIMEOUT);
	expect_out(g, "bad_loop: spinning forever");
	/* stopped until resumed */
	assert_int_equal(rk_vcpu_run(g->vm, 0), -EINTR);
	rk_vm_resume(g->vm);
	assert_int_equal(info_of(g->vm).reason, RK_STOP_NONE);

	r.vm = g->vm;
	uint64_t entries = info_of(g->vm).entries;
	assert_int_equal(pthread_create(&r.t, NULL, runner_main, &r), 0);
	while (info_of(g->vm).entries < entries + 3)
		usleep(1000);
	/* while it runs: no destroy, no second runner of the vCPU, no new device */
	assert_int_equal(rk_vm_destroy(g->vm), -EBUSY);
	assert_non_null(strstr(rk_host_last_error(h)->msg, "vCPUs running"));
	assert_int_equal(rk_vcpu_run(g->vm, 0), -EBUSY);
	assert_int_equal(rk_vm_add_uart(g->vm, DEV_IPA, console, g), -EBUSY);
	/* the rest of the host goes on meanwhile */
	struct rk_vm *other;
	assert_int_equal(rk_vm_create(h, NULL, &other), 0);
	assert_int_equal(rk_vm_add_memslot(other, 0, 2 * MIB, 0), 0);
	rk_vm_free(other);
	rk_vm_stop(g->vm);
	pthread_join(r.t, NULL);
	assert_int_equal(r.ret, -EINTR);
	assert_int_equal(info_of(g->vm).reason, RK_STOP_REQUESTED);
	guest_free(g);
}

/* ---- RMI failures in the run loop: a clear error, the VM stops, nothing leaks ---- */

static void test_rmi_failures(void **state)
{
	struct guest *g;
	struct rk_vm_run_info i;

	(void)state;
	g = guest_new("hello", NULL, 0, RK_VM_REALM, RMI_HASH_SHA_256, 1);
	SKIP_IF_NO_PAYLOAD(g);
	assert_int_equal(rk_host_inject_fault(h, RMI_FID_REC_ENTER, 5, RMI_ERROR_INPUT), 0);
	assert_int_equal(rk_vm_run(g->vm, 60000), -EIO);
	i = info_of(g->vm);
	assert_int_equal(i.reason, RK_STOP_ERROR);
	assert_int_equal(i.fid, RMI_FID_REC_ENTER);
	assert_non_null(strstr(i.msg, "RMI_REC_ENTER -> ERROR_INPUT"));
	assert_non_null(strstr(rk_host_last_error(h)->msg, "RMI_REC_ENTER"));
	guest_free(g);

	g = guest_new("smp", NULL, 0, RK_VM_REALM, RMI_HASH_SHA_256, 2);
	assert_int_equal(rk_host_inject_fault(h, RMI_FID_PSCI_COMPLETE, 1, RMI_ERROR_INPUT), 0);
	assert_int_equal(rk_vm_run(g->vm, 60000), -EIO);
	assert_non_null(strstr(info_of(g->vm).msg, "RMI_PSCI_COMPLETE(vCPU 0 -> vCPU 1"));
	guest_free(g);

	/* the populated block cannot be completed before the first entry: it stays in pages, only slower */
	g = guest_new("hello", NULL, 0, RK_VM_REALM, RMI_HASH_SHA_256, 1);
	assert_int_equal(rk_host_inject_fault(h, RMI_FID_RTT_DATA_MAP, 1, RMI_ERROR_INPUT), 0);
	assert_int_equal(rk_vm_run(g->vm, 60000), 0);
	assert_true(g->result_pass);
	assert_true(info_of(g->vm).s2_faults > 0); /* the rest faulted in */
	guest_free(g);

	/* a stage-2 fault that cannot be mapped stops the VM */
	uint32_t c[16];
	size_t n = 0;
	n += a64_mov64(c + n, 1, RAM + 4 * MIB);
	c[n++] = a64_ldr(2, 1);
	c[n++] = A64_B_SELF;
	g = guest_new(NULL, c, n, RK_VM_REALM, RMI_HASH_SHA_256, 1);
	rk_vm_stop(g->vm);
	assert_int_equal(rk_vcpu_run(g->vm, 0), -EINTR); /* activation and the populated block */
	rk_vm_resume(g->vm);
	assert_int_equal(rk_host_inject_fault(h, RMI_FID_RTT_DATA_MAP, 1, RMI_ERROR_INPUT), 0);
	assert_int_equal(rk_vm_run(g->vm, 60000), -EIO);
	assert_non_null(strstr(info_of(g->vm).msg, "cannot map IPA 0x80400000"));
	guest_free(g);

	/* RTT_SET_RIPAS fails: the realm is told no progress (the SDK says ERROR_UNKNOWN), its
	 * alias is not shared memory (SEA), it stops on its own; the host goes on */
	g = guest_new("ripas", NULL, 0, RK_VM_REALM, RMI_HASH_SHA_256, 1);
	assert_int_equal(rk_host_inject_fault(h, RMI_FID_RTT_SET_RIPAS, 1, RMI_ERROR_INPUT), 0);
	assert_int_equal(rk_vm_run(g->vm, 60000), 0);
	expect_out(g, "IPA_STATE_SET(EMPTY) = 4");
	expect_out(g, "unhandled exception");
	assert_false(g->result_seen);
	assert_int_equal(info_of(g->vm).mmio_unhandled, 1);
	guest_free(g);
	rk_host_clear_faults(h);
}

/* ---- normal VMs: the same loop on a host-owned CPU engine, no RMI call ---- */

static void test_normal_vm(void **state)
{
	struct guest *g = guest_new("smp", NULL, 0, RK_VM_NORMAL, 0, 4);
	struct rk_host_stats a, b;

	(void)state;
	SKIP_IF_NO_PAYLOAD(g);
	assert_int_equal(rk_vm_activate(g->vm), 0);
	rk_host_get_stats(h, &a);
	assert_int_equal(rk_vm_run(g->vm, 60000), 0);
	rk_host_get_stats(h, &b);
	assert_int_equal(b.rmi_calls, a.rmi_calls);
	expect_out(g, "smp: 4 cpus, 3 started, all up and off");
	assert_true(g->result_pass);
	guest_free(g);

	/* hello: no RMM, so no RSI; it says so and reports FAIL */
	g = guest_new("hello", NULL, 0, RK_VM_NORMAL, 0, 1);
	assert_int_equal(rk_vm_run(g->vm, 60000), 0);
	expect_out(g, "RSI_MEASUREMENT_READ(RIM) failed: 18446744073709551615");
	assert_true(g->result_seen && !g->result_pass);
	/* the host reads a normal VM's memory: the image is there */
	uint32_t w;
	assert_int_equal(rk_vm_read_mem(g->vm, RAM, &w, 4), 0);
	assert_memory_equal(&w, g->image, 4);
	guest_free(g);
}

/*
 * A normal VM's memory slots are its engine's physical memory
 * (rk_cpu_add_ram, as DRAM for a REC's engine): in stage-2 mode the guest's
 * first touches of its memory are stage-2 fills, never a fresh engine (a RAM
 * window added after the engine's first run needs one).
 */
static void test_normal_vm_ram(void **state)
{
	enum rk_cpu_mode was = rk_cpu_default_mode();
	struct rk_cpu_stats st;
	struct guest *g;

	(void)state;
	g = guest_new("hello", NULL, 0, RK_VM_NORMAL, 0, 1);
	SKIP_IF_NO_PAYLOAD(g);
	rk_cpu_set_default_mode(RK_CPU_MODE_STAGE2); /* for the engine the first run creates */
	assert_int_equal(rk_vm_run(g->vm, 60000), 0);
	rk_cpu_set_default_mode(was);
	assert_true(g->result_seen);
	assert_non_null(g->vm->vcpus[0]->cpu);
	assert_int_equal(rk_cpu_mode(g->vm->vcpus[0]->cpu), RK_CPU_MODE_STAGE2);
	rk_cpu_get_stats(g->vm->vcpus[0]->cpu, &st);
	assert_true(st.engine_regions >= 1);
	assert_int_equal(st.wakes, 0);
	assert_int_equal(st.code_flushes, 0);
	guest_free(g);
}

/* ---- the engine's memory: bounded whatever the guest does ---- */

/*
 * Peak RSS says something only without a sanitizer: ASan keeps freed memory in
 * quarantine (every engine a vCPU gives up, all its allocations) and both keep
 * shadow memory. Under one the tests check behaviour only.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RSS_CHECKS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RSS_CHECKS 0
#endif
#endif
#ifndef RSS_CHECKS
#define RSS_CHECKS 1
#endif

/* The process's peak resident memory (VmHWM), in bytes; reset_peak first restarts it from now. */
static uint64_t peak_rss(bool reset_peak)
{
	char line[256];
	uint64_t kb = 0;
	FILE *f;

	if (reset_peak) {
		f = fopen("/proc/self/clear_refs", "w");
		assert_non_null(f);
		fputs("5", f); /* 5: reset the peak RSS to the current RSS */
		fclose(f);
	}
	f = fopen("/proc/self/status", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %" SCNu64 " kB", &kb) == 1)
			break;
	fclose(f);
	assert_true(kb > 0);
	return kb * 1024;
}

/*
 * A realm that changes its stage 2 in a loop (ripas_toggle: one page EMPTY <-> RAM)
 * makes the engine translate its code again after every change. The engine's
 * translated code stays within its budget (here 2 MiB, so that a few thousand
 * changes cross it several times): before the budget the code buffer grew by
 * ~19 KiB per change (1 GiB, then Unicorn's flush crashed the host: ~55000).
 */
static void test_stage2_churn_memory_bounded(void **state)
{
	struct guest *g;
	uint64_t before;

	(void)state;
	rk_cpu_set_code_budget(2 * MIB);
	g = guest_new("ripas_toggle", NULL, 0, RK_VM_REALM, RMI_HASH_SHA_256, 1);
	if (!g)
		rk_cpu_set_code_budget(0);
	SKIP_IF_NO_PAYLOAD(g);
	g->iterations = 3000;
	before = peak_rss(true);
	assert_int_equal(rk_vm_run(g->vm, 600000), 0);
	uint64_t grown = peak_rss(false) - before;
	rk_cpu_set_code_budget(0);
	expect_out(g, "ripas_toggle: 3000 toggles, 0 stale reads");
	assert_true(g->result_seen && g->result_pass);
	assert_int_equal(info_of(g->vm).ripas_changes, 6000);
	guest_free(g);
	if (RSS_CHECKS && grown >= 24 * MIB)
		fail_msg("peak RSS grew by %" PRIu64 " MiB over 3000 stage-2 round trips",
			 (uint64_t)(grown / MIB));
}

/*
 * Four vCPUs whose exception vector is RIPAS EMPTY memory (bad_vector): each
 * takes the same instruction abort at VBAR_EL1 + 0x200 over and over. The RMM
 * stops the first that has taken it RK_EXC_LOOP_LIMIT times in a row and the
 * host reports it (before: the realm ran until the timeout, and each turn cost
 * the engine a translation, ~0.5 KiB: `-c 4` reached 4 GB); the engines' memory
 * stays within their budget meanwhile.
 */
static void test_exception_loop_stopped(void **state)
{
	struct guest *g;
	uint64_t before;

	(void)state;
	rk_cpu_set_code_budget(2 * MIB);
	g = guest_new("bad_vector", NULL, 0, RK_VM_REALM, RMI_HASH_SHA_256, 4);
	if (!g)
		rk_cpu_set_code_budget(0);
	SKIP_IF_NO_PAYLOAD(g);
	before = peak_rss(true);
	int ret = rk_vm_run(g->vm, 120000);
	uint64_t grown = peak_rss(false) - before;
	rk_cpu_set_code_budget(0);
	struct rk_vm_run_info i = info_of(g->vm);
	assert_int_equal(ret, -ELOOP);
	assert_int_equal(i.reason, RK_STOP_ERROR);
	assert_non_null(strstr(i.msg, "stuck in an exception loop: instruction abort (SEA) at PC 0x"));
	assert_non_null(strstr(i.msg, "(address 0x"));
	assert_non_null(strstr(i.msg, "ESR_EL1 0x86000010) taken 20000 times in a row"));
	expect_out(g, "bad_vector: 4 cpus: VBAR_EL1 = 0x");
	expect_out(g, "(RIPAS EMPTY: accepted), then UDF");
	guest_free(g);
	if (RSS_CHECKS && grown >= 32 * MIB)
		fail_msg("peak RSS grew by %" PRIu64 " MiB while four vCPUs looped on aborts",
			 (uint64_t)(grown / MIB));
}

/* ---- code the RMM writes into realm memory ---- */

#define HC_CODE (RAM + 0x100) /* a host-call structure whose gprs hold code */
#define HC_REPORT (RAM + 0x200)

static int code_host_call(void *arg, struct rk_vm *vm, uint32_t vcpu, uint32_t imm, uint64_t gp[31])
{
	uint64_t *seen = arg;

	(void)vm, (void)vcpu, (void)imm;
	if (seen[2]++ == 0) {
		/* the answer overwrites the stub at HC_CODE + 8: MOVZ X0, #2; BR X23 */
		memset(gp, 0, 31 * sizeof(uint64_t));
		gp[0] = (uint64_t)a64_br(23) << 32 | a64_movz(0, 2, 0);
	} else {
		seen[0] = gp[0];
		seen[1] = gp[1];
	}
	return 0;
}

/* The realm's program for test_rmm_writes_code; r1, r2: the word indices it returns to. */
static size_t code_program(uint32_t *c, size_t r1, size_t r2)
{
	size_t k = 0;

	k += a64_mov64(c + k, 19, HC_CODE);
	k += a64_mov64(c + k, 24, HC_CODE + 8);
	k += a64_mov64(c + k, 23, RAM + 4 * r1);
	c[k++] = a64_br(24); /* the stub as loaded: X0 = 1 (and the engine translates it) */
	/* r1: */
	c[k++] = a64_mov(20, 0);
	k += a64_mov64(c + k, 23, RAM + 4 * r2);
	k += a64_mov64(c + k, 0, RSI_FID_HOST_CALL);
	c[k++] = a64_mov(1, 19);
	c[k++] = A64_SMC; /* the host's answer, written by the RMM, is the new stub */
	c[k++] = a64_br(24);
	/* r2: */
	c[k++] = a64_mov(21, 0);
	k += a64_mov64(c + k, 25, HC_REPORT);
	c[k++] = a64_stp(20, 21, 25, 8);
	k += a64_mov64(c + k, 0, RSI_FID_HOST_CALL);
	c[k++] = a64_mov(1, 25);
	c[k++] = A64_SMC;
	k += a64_mov64(c + k, 0, PSCI_SYSTEM_OFF);
	c[k++] = A64_SMC;
	c[k++] = A64_B_SELF;
	return k;
}

/*
 * Memory the RMM writes for the realm (here the results of a host call) may
 * hold code: the realm then runs what is in memory, not what the engine
 * translated from the old contents (it did until the engine happened to
 * translate that block afresh: fuzz_rsi's realm wedged after a retried
 * RSI_ATTEST_TOKEN_CONTINUE, long after an RSI_REALM_CONFIG had been written
 * over its program).
 */
static void test_rmm_writes_code(void **state)
{
	uint32_t c[0x300 / 4];
	uint64_t seen[3] = { 0 };
	size_t k, r1 = 0, r2 = 0;

	(void)state;
	memset(c, 0, sizeof(c));
	for (int pass = 0; pass < 2; pass++) {
		k = code_program(c, r1, r2);
		/* the word after each BR X24 is where the stub returns */
		for (size_t i = 0, nbr = 0; i < k; i++)
			if (c[i] == a64_br(24))
				*(nbr++ ? &r2 : &r1) = i + 1;
	}
	assert_true(4 * k <= HC_CODE - RAM);
	c[(HC_CODE - RAM) / 4 + 2] = a64_movz(0, 1, 0);
	c[(HC_CODE - RAM) / 4 + 3] = a64_br(23);
	struct guest *g = guest_new(NULL, c, sizeof(c) / 4, RK_VM_REALM, RMI_HASH_SHA_256, 1);
	rk_vm_set_host_call_handler(g->vm, code_host_call, seen);
	assert_int_equal(rk_vm_run(g->vm, 60000), 0);
	assert_int_equal(seen[2], 2);
	assert_int_equal(seen[0], 1); /* the stub as loaded */
	assert_int_equal(seen[1], 2); /* the stub the RMM wrote */
	guest_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_rim),
		cmocka_unit_test(test_every_example_rim),
		cmocka_unit_test(test_smp),
		cmocka_unit_test(test_ripas),
		cmocka_unit_test(test_attest_and_shared),
		cmocka_unit_test(test_stress),
		cmocka_unit_test(test_mmio),
		cmocka_unit_test(test_wfi_sleeps),
		cmocka_unit_test(test_timer_irq),
		cmocka_unit_test(test_wide_ipa),
		cmocka_unit_test(test_fault_outside_slots),
		cmocka_unit_test(test_last_vcpu_off),
		cmocka_unit_test(test_stop_timeout_busy),
		cmocka_unit_test(test_rmi_failures),
		cmocka_unit_test(test_normal_vm),
		cmocka_unit_test(test_normal_vm_ram),
		cmocka_unit_test(test_stage2_churn_memory_bounded),
		cmocka_unit_test(test_exception_loop_stopped),
		cmocka_unit_test(test_rmm_writes_code),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
