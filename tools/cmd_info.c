/* SPDX-License-Identifier: MIT */
/*
 * realmkit info [-m MEM]: boot a machine, query its RMM over the SMC conduit
 * (RMI_VERSION, RMI_FEATURES) and print what a host would learn.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "realmkit/abi_gen.h"
#include "realmkit/platform.h"

#define FIELD(v, reg, f) ((uint64_t)(((v)&reg##_##f##_MASK) >> reg##_##f##_SHIFT))

static uint64_t smc(struct rk_machine *m, uint64_t fid, uint64_t a1, uint64_t *x1)
{
	struct rk_smc_regs r = { { fid, a1 } };

	rk_smc(m, &r);
	if (x1)
		*x1 = r.x[1];
	return r.x[0];
}

/* 0 parsed, 1 help printed, 2 usage error. */
static int info_parse(int argc, char **argv, uint64_t *dram_size)
{
	static const struct option opts[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t mib;
	int c;

	optind = 0; /* a full reset of getopt's state */
	while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!arg_number("realmkit info", "-m", optarg, ARG_DRAM_MIB_MIN, ARG_DRAM_MIB_MAX,
					"MiB of DRAM", &mib))
				return 2;
			*dram_size = mib << 20;
			break;
		case 'h':
			printf("usage: realmkit info [-m MEM_MIB]\n"
			       "Boot a machine with MEM_MIB of DRAM (default 1024, %u..%u) and print what\n"
			       "its RMM reports (RMI_VERSION, RMI_FEATURES).\n",
			       ARG_DRAM_MIB_MIN, ARG_DRAM_MIB_MAX);
			return 1;
		default:
			fprintf(stderr, "usage: realmkit info [-m MEM_MIB]\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "realmkit info: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return 0;
}

/* cli.h */
int parse_info(int argc, char **argv)
{
	uint64_t size = 0;
	int ret = info_parse(argc, argv, &size);

	return ret == 1 ? 0 : ret;
}

int cmd_info(int argc, char **argv)
{
	struct rk_machine_config cfg;
	struct rk_machine *m;
	uint64_t v, fr[5];
	int ret;

	rk_machine_config_default(&cfg);
	ret = info_parse(argc, argv, &cfg.dram_size);
	if (ret)
		return ret == 1 ? 0 : 2;
	ret = rk_machine_create(&cfg, &m);
	if (ret) {
		fprintf(stderr, "realmkit info: cannot create machine: %s\n", strerror(-ret));
		return 1;
	}
	if (smc(m, RMI_FID_VERSION, RMI_ABI_VERSION, &v) != RMI_SUCCESS) {
		fprintf(stderr, "realmkit info: RMM does not implement RMI %d.%d\n", RMI_ABI_VERSION_MAJOR,
			RMI_ABI_VERSION_MINOR);
		rk_machine_destroy(m);
		return 1;
	}
	for (int i = 0; i < 5; i++)
		smc(m, RMI_FID_FEATURES, (uint64_t)i, &fr[i]);
	printf("RMM: RMI %" PRIu64 ".%" PRIu64 " (%s)\n", v >> 16, v & 0xffff, RMM_ABI_REVISION_STR);
	printf("DRAM: %" PRIu64 " MiB in %u bank(s)\n", rk_machine_dram_granules(m) >> 8,
	       rk_machine_nbanks(m));
	printf("rmi_ipa_limit: %" PRIu64 " bits\n", FIELD(fr[0], RMI_FR0, S2SZ));
	printf("max RECs: %" PRIu64 "\n", ((uint64_t)1 << FIELD(fr[1], RMI_FR1, MAX_RECS_ORDER)) - 1);
	printf("hash algorithms:%s%s%s\n", FIELD(fr[1], RMI_FR1, HASH_SHA_256) ? " sha-256" : "",
	       FIELD(fr[1], RMI_FR1, HASH_SHA_384) ? " sha-384" : "",
	       FIELD(fr[1], RMI_FR1, HASH_SHA_512) ? " sha-512" : "");
	for (int i = 0; i < 5; i++)
		printf("FR%d: 0x%016" PRIx64 "\n", i, fr[i]);
	rk_machine_destroy(m);
	return 0;
}
