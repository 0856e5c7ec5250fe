/* SPDX-License-Identifier: MIT */
/* realmkit version: tool version and the RMI/RSI ABI revision it implements. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "realmkit/abi_gen.h"

int cmd_version(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: realmkit version\nPrint realmkit's version and the RMM ABI revision it implements.\n");
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "realmkit version: unexpected argument '%s'\nusage: realmkit version\n",
			argv[1]);
		return 2;
	}
	printf("realmkit 0.1.0\nRMM specification %s (RMI %d.%d, RSI %d.%d)\n", RMM_ABI_REVISION_STR,
	       RMI_ABI_VERSION_MAJOR, RMI_ABI_VERSION_MINOR, RSI_ABI_VERSION_MAJOR, RSI_ABI_VERSION_MINOR);
	return 0;
}
