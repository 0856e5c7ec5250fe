/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the CLI's argument parsing: each input is one
 * command line, the first byte choosing the subcommand (info, demo, run,
 * measure, verify, bench), the rest split at NUL bytes into arguments, given
 * to parse_<command>() (tools/cli.h), which checks every option value and
 * builds or runs nothing. The result must be 0 or 2; nothing may crash, leak
 * or keep state (getopt's) from one command line to the next. Built and run
 * by tests/fuzz/run.sh (CMake, RK_BUILD_FUZZ); -close_fd_mask=3 hides the
 * parsers' usage messages (crash reports still appear).
 */
// fuzz-sources: tools/args.c tools/image.c tools/kernel.c tools/kconsole.c tools/console_in.c tools/cmd_*.c
// fuzz-options: -max_len=512 -close_fd_mask=3 -dict=tests/fuzz/fuzz_cli.dict
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/cli.h"

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	const char *name;
	int (*parse)(int argc, char **argv);
} cmds[] = {
	{ "info", parse_info },       { "demo", parse_demo },     { "run", parse_run },
	{ "measure", parse_measure }, { "verify", parse_verify }, { "bench", parse_bench },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_ARGS + 2], *buf, name[16];
	int argc = 0, ret;
	size_t n = sizeof(cmds) / sizeof(cmds[0]), c;

	if (!size)
		return 0;
	c = data[0] % n;
	buf = malloc(size); /* the arguments, each NUL-terminated (the last one too) */
	if (!buf)
		abort();
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	strcpy(name, cmds[c].name);
	argv[argc++] = name;
	for (size_t i = 0; i < size - 1 && argc <= MAX_ARGS;) {
		argv[argc++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	argv[argc] = NULL;
	ret = cmds[c].parse(argc, argv);
	if (ret != 0 && ret != 2)
		abort();
	free(buf);
	return 0;
}
