/* SPDX-License-Identifier: MIT */
/*
 * realmkit measure IMAGE [the options of run]: print the RIM the realm
 * `realmkit run IMAGE` (same options) builds will have, without building it:
 * run's construction plan (cmd_run.c) put through the host's measurement path
 * only, rk_plan_rim() (the RmiRealmParams, page images and RmiRecParams the
 * host would give the RMM, hashed with realmkit/measure.h). No machine, no
 * RMM, no RMI call.
 *
 *   realmkit verify TOKEN --rim $(realmkit measure IMAGE --hash sha512) ...
 *
 * Exit status: 0 printed, 1 the image cannot be measured, 2 usage error.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "run_plan.h"

int cmd_measure(int argc, char **argv)
{
	uint8_t rim[64];
	char desc[1024] = "";
	size_t len = 0;
	bool verbose = false;
	int ret;

	for (int i = 1; i < argc; i++)
		verbose = verbose || !strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose");
	ret = run_plan_rim(argc, argv, "realmkit measure", rim, &len, desc, sizeof(desc));
	if (ret)
		return ret == 1 ? 0 : ret == 2 ? 2 : 1;
	if (verbose)
		fprintf(stderr, "realmkit measure: %s\n", desc);
	for (size_t i = 0; i < len; i++)
		printf("%02x", rim[i]);
	printf("\n");
	return 0;
}
