/* SPDX-License-Identifier: MIT */
/* realmkit CLI entry point: dispatches to tools/cmd_<name>.c. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/*
 * The subcommand table. A subcommand whose implementation has not landed is
 * simply not listed: the CLI never advertises what it cannot do.
 */
static const struct rk_subcommand subcommands[] = {
	{ "version", "print realmkit and RMM ABI versions", cmd_version },
	{ "info", "create a machine and print the RMM's features", cmd_info },
	{ "run", "run a realm (or a normal VM) from an ELF or flat image, console on stdout", cmd_run },
	{ "measure", "predict the RIM of the realm `run` would build, without building it", cmd_measure },
	{ "demo", "build, measure and tear down a demo realm through the host library", cmd_demo },
	{ "verify", "verify a CCA attestation token and print its claims", cmd_verify },
	{ "bench", "time building, running and tearing down a realm against a normal VM", cmd_bench },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: realmkit <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(f, "\n'realmkit <command> --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "realmkit: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
