/* SPDX-License-Identifier: MIT */
/* realmkit version: tool version and the RMI/RSI ABI revision it implements. */
#include <stdio.h>

#include "cli.h"
#include "realmkit/abi_gen.h"

int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("realmkit 0.1.0\nRMM specification %s (RMI %d.%d, RSI %d.%d)\n", RMM_ABI_REVISION_STR,
	       RMI_ABI_VERSION_MAJOR, RMI_ABI_VERSION_MINOR, RSI_ABI_VERSION_MAJOR,
	       RSI_ABI_VERSION_MINOR);
	return 0;
}
