/* SPDX-License-Identifier: MIT */
/*
 * realmkit demo: a realm built, measured and torn down through the host
 * library, as a VMM would drive KVM: create a machine, take it over with the
 * host (which boots the RMM), create a realm VM with a 64 MiB memory slot,
 * populate a 1 MiB image (generated deterministically) measured, map the rest,
 * create two vCPUs, activate (RECs through the SRO protocol, RIPAS, activate),
 * print the RIM the host predicts (the host cannot read the RD: it predicts
 * the RIM from what it asked the RMM to do, and the demo recomputes it from
 * its own plan with realmkit/measure.h), tear the realm down, and print the
 * leak report, which must be empty. The demo realm runs no code: `realmkit
 * run` (cmd_run.c) runs payloads.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "cli.h"
#include "run_plan.h"
#include "realmkit/host.h"
#include "realmkit/measure.h"

#define MIB ((uint64_t)1 << 20)
#define IMAGE_SIZE MIB
#define IMAGE_IPA ((uint64_t)0)
#define ENTRY_PC ((uint64_t)0x1000)

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void hex(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
}

/* The image: a deterministic byte stream (xorshift64*), so the RIM is reproducible. */
static void make_image(uint8_t *img, size_t len)
{
	uint64_t s = 0x7265616c6d6b6974ULL; /* "realmkit" */

	for (size_t i = 0; i < len; i++) {
		s ^= s >> 12;
		s ^= s << 25;
		s ^= s >> 27;
		img[i] = (uint8_t)((s * 0x2545F4914F6CDD1DULL) >> 56);
	}
}

struct s2_count {
	unsigned int tables, blocks, pages;
};

static int count_entry(void *arg, const struct rk_s2_entry *e)
{
	struct s2_count *c = arg;

	if (e->mismatch)
		return -1;
	if (e->kind == RK_S2_TABLE)
		c->tables++;
	else if (e->kind == RK_S2_BLOCK)
		c->blocks++;
	else if (e->kind == RK_S2_PAGE)
		c->pages++;
	return 0;
}

static int fail(struct rk_host *h, const char *what, int ret)
{
	fprintf(stderr, "realmkit demo: %s failed: %s%s%s\n", what, strerror(-ret), h ? ": " : "",
		h ? rk_host_last_error(h)->msg : "");
	return 1;
}

/* The RIM recomputed from the demo's own construction plan, independently of the host. */
static void plan_rim(const struct rk_host_caps *caps, unsigned int algo, unsigned int ipa_bits,
		     const uint8_t *img, uint8_t rim[RK_MEASUREMENT_MAX])
{
	static struct rmi_realm_params p;
	static struct rmi_rec_params rp;

	memset(&p, 0, sizeof(p));
	p.s2sz = ipa_bits;
	p.hash_algo = algo;
	p.num_bps = (caps->rmi_features[0] & RMI_FR0_NUM_BPS_MASK) >> RMI_FR0_NUM_BPS_SHIFT;
	p.num_wps = (caps->rmi_features[0] & RMI_FR0_NUM_WPS_MASK) >> RMI_FR0_NUM_WPS_SHIFT;
	rk_rim_init(&p, rim);
	for (uint64_t off = 0; off < IMAGE_SIZE; off += RK_GRANULE_SIZE)
		rk_rim_extend_data(algo, rim, IMAGE_IPA + off, RMI_MEASURE_CONTENT, img + off);
	memset(&rp, 0, sizeof(rp));
	rp.flags = RMI_REC_PARAMS_FLAGS_RUNNABLE_MASK; /* vCPU 0 only */
	rp.pc = ENTRY_PC;
	rp.gprs[0] = IMAGE_IPA + IMAGE_SIZE;
	rk_rim_extend_rec(algo, rim, &rp);
}

struct demo_opts {
	uint64_t dram_size, size;
	uint32_t algo;
	bool trace;
};

/* 0 parsed, 1 help printed, 2 usage error. */
static int demo_parse(int argc, char **argv, struct demo_opts *o)
{
	static const struct option opts[] = {
		{ "mem", required_argument, NULL, 'm' },  { "size", required_argument, NULL, 's' },
		{ "hash", required_argument, NULL, 'H' }, { "trace", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },       { 0 },
	};
	uint64_t v;
	int c;

	o->dram_size = 1024 * MIB;
	o->size = 64 * MIB;
	o->algo = RMI_HASH_SHA_256;
	o->trace = false;
	optind = 0; /* a full reset of getopt's state */
	while ((c = getopt_long(argc, argv, "m:s:H:th", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!arg_number("realmkit demo", "-m", optarg, ARG_DRAM_MIB_MIN, ARG_DRAM_MIB_MAX,
					"MiB of DRAM", &v))
				return 2;
			o->dram_size = v * MIB;
			break;
		case 's':
			if (!arg_number("realmkit demo", "-s", optarg, 4, ARG_DRAM_MIB_MAX / 2,
					"MiB, a multiple of 2", &v))
				return 2;
			o->size = v * MIB;
			break;
		case 'H':
			if (!run_opt_hash("realmkit demo", optarg, &o->algo))
				return 2;
			break;
		case 't':
			o->trace = true;
			break;
		case 'h':
			printf("usage: realmkit demo [-m MEM_MIB] [-s REALM_MIB] [--hash sha256|sha384|sha512] [--trace]\n"
			       "Build a realm (REALM_MIB of memory, default 64, a 1 MiB measured image), activate it,\n"
			       "print the RIM the host predicts, tear it down and print the leak report.\n"
			       "MEM_MIB: the machine's DRAM (default 1024, %u..%u).\n",
			       ARG_DRAM_MIB_MIN, ARG_DRAM_MIB_MAX);
			return 1;
		default:
			fprintf(stderr,
				"usage: realmkit demo [-m MEM_MIB] [-s REALM_MIB] [--hash ALGO] [--trace]\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "realmkit demo: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (o->size % (2 * MIB) || o->size > o->dram_size / 2) {
		fprintf(stderr,
			"realmkit demo: -s: the realm size must be a multiple of 2 MiB, >= 4 MiB, <= half the "
			"DRAM (-m)\n");
		return 2;
	}
	return 0;
}

/* cli.h */
int parse_demo(int argc, char **argv)
{
	struct demo_opts o;
	int ret = demo_parse(argc, argv, &o);

	return ret == 1 ? 0 : ret;
}

int cmd_demo(int argc, char **argv)
{
	struct demo_opts o;
	struct rk_machine_config mcfg;
	struct rk_machine *m = NULL;
	struct rk_host *h = NULL;
	struct rk_host_caps caps;
	struct rk_host_stats st;
	struct rk_vm_config vcfg;
	struct rk_vcpu_config vc;
	struct rk_vm *vm = NULL;
	struct s2_count cnt = { 0, 0, 0 };
	uint8_t rim[RK_MEASUREMENT_MAX], expect[RK_MEASUREMENT_MAX];
	uint64_t size;
	unsigned int algo;
	bool trace;
	uint8_t *img;
	size_t rim_len;
	double t0, t_create, t_populate, t_map, t_activate, t_teardown, t_destroy;
	int ret, status = 1;

	ret = demo_parse(argc, argv, &o);
	if (ret)
		return ret == 1 ? 0 : 2;
	rk_machine_config_default(&mcfg);
	mcfg.dram_size = o.dram_size;
	size = o.size;
	algo = o.algo;
	trace = o.trace;
	img = malloc(IMAGE_SIZE);
	if (!img) {
		fprintf(stderr, "realmkit demo: out of memory\n");
		return 1;
	}
	make_image(img, IMAGE_SIZE);

	if ((ret = rk_machine_create(&mcfg, &m))) {
		fprintf(stderr, "realmkit demo: cannot create a machine with %" PRIu64 " MiB of DRAM: %s\n",
			mcfg.dram_size / MIB, strerror(-ret));
		goto out;
	}
	t0 = now_ms();
	if ((ret = rk_host_create(m, NULL, &h))) {
		fprintf(stderr, "realmkit demo: cannot create the host: %s\n", strerror(-ret));
		goto out;
	}
	if (trace)
		rk_host_set_trace(h, stdout);
	rk_host_caps(h, &caps);
	printf("machine: %" PRIu64 " MiB DRAM; RMM %s, RMI %u.%u, rmi_ipa_limit %u bits, rmi_max_recs %u\n",
	       mcfg.dram_size / MIB, caps.rmm_usable ? "booted" : "NOT usable", caps.rmi_version >> 16,
	       caps.rmi_version & 0xffff, caps.rmi_ipa_limit, caps.rmi_max_recs);

	rk_vm_config_default(&vcfg, RK_VM_REALM);
	vcfg.hash_algo = algo;
	memcpy(vcfg.rpv, "realmkit demo", 13);
	if ((ret = rk_vm_create(h, &vcfg, &vm)) || (ret = rk_vm_add_memslot(vm, 0, size, 0))) {
		fail(h, "realm VM creation", ret);
		goto out;
	}
	if ((ret = rk_vm_realm_create(vm))) {
		fail(h, "RMI_REALM_CREATE", ret);
		goto out;
	}
	t_create = now_ms();
	printf("realm: vm %u, %u-bit IPA, %s, %" PRIu64 " MiB memory slot at IPA 0\n", rk_vm_id(vm),
	       rk_vm_ipa_bits(vm), rk_hash_name(algo), size / MIB);
	if ((ret = rk_vm_populate(vm, IMAGE_IPA, img, IMAGE_SIZE, RK_POPULATE_MEASURE))) {
		fail(h, "populate", ret);
		goto out;
	}
	t_populate = now_ms();
	if ((ret = rk_vm_map(vm, IMAGE_IPA + IMAGE_SIZE, size - IMAGE_SIZE))) {
		fail(h, "map", ret);
		goto out;
	}
	t_map = now_ms();
	memset(&vc, 0, sizeof(vc));
	vc.pc = ENTRY_PC;
	vc.gprs[0] = IMAGE_IPA + IMAGE_SIZE;
	vc.flags = RK_VCPU_RUNNABLE;
	if ((ret = rk_vcpu_create(vm, 0, &vc)) || (ret = rk_vcpu_create(vm, 1, NULL))) {
		fail(h, "vCPU creation", ret);
		goto out;
	}
	if ((ret = rk_vm_activate(vm))) {
		fail(h, "activation", ret);
		goto out;
	}
	t_activate = now_ms();
	printf("populated: %" PRIu64 " KiB image measured (RMI_RTT_DATA_MAP_INIT), %" PRIu64
	       " KiB mapped unmeasured (RMI_RTT_DATA_MAP)\n",
	       IMAGE_SIZE >> 10, (size - IMAGE_SIZE) >> 10);
	if ((ret = rk_vm_s2_dump(vm, 0, size, count_entry, &cnt))) {
		fail(h, "RTT dump (RMI_RTT_READ_ENTRY)", ret);
		goto out;
	}
	printf("RTTs (as the RMM reports them): %u tables, %u 2 MiB blocks, %u 4 KiB pages\n", cnt.tables,
	       cnt.blocks, cnt.pages);
	printf("activated: 2 RECs (vCPU 0 runnable), RMM realm state %s\n",
	       rk_vm_rmm_realm_states(vm) == (1u << RMI_REALM_STATE_ACTIVE) ? "ACTIVE" : "unexpected");

	rk_vm_rim(vm, rim, &rim_len);
	plan_rim(&caps, algo, rk_vm_ipa_bits(vm), img, expect);
	printf("RIM (%s), the host's prediction (the host cannot read the RD):\n  ", rk_hash_name(algo));
	hex(rim, rim_len);
	printf("\n");
	if (memcmp(rim, expect, RK_MEASUREMENT_MAX)) {
		fprintf(stderr, "realmkit demo: the host's RIM differs from the plan's\n");
		goto out;
	}
	printf("  (recomputed from the construction plan with realmkit/measure.h: identical)\n");

	t_teardown = now_ms();
	if ((ret = rk_vm_destroy(vm))) {
		fail(h, "teardown", ret);
		rk_host_print_leaks(h, stdout);
		goto out;
	}
	t_destroy = now_ms();
	rk_host_get_stats(h, &st);
	printf("torn down: terminate, unmap, RTTs, RECs, RD, undelegate\n");
	rk_host_print_leaks(h, stdout);
	printf("RMI calls: %" PRIu64 " (%" PRIu64 " RTT_DATA_MAP_INIT, %" PRIu64 " RTT_DATA_UNMAP, %" PRIu64
	       " GRANULE_RANGE_UNDELEGATE)\n",
	       st.rmi_calls, rk_host_rmi_count(h, RMI_FID_RTT_DATA_MAP_INIT),
	       rk_host_rmi_count(h, RMI_FID_RTT_DATA_UNMAP),
	       rk_host_rmi_count(h, RMI_FID_GRANULE_RANGE_UNDELEGATE));
	printf("time: boot + create %.2f ms, populate %.2f ms, map %.2f ms, activate %.2f ms, destroy %.2f ms\n",
	       t_create - t0, t_populate - t_create, t_map - t_populate, t_activate - t_map,
	       t_destroy - t_teardown);
	status = st.granules_leaked || st.ledger_errors ? 1 : 0;
out:
	rk_vm_free(vm);
	rk_host_destroy(h);
	rk_machine_destroy(m);
	free(img);
	return status;
}
