/* SPDX-License-Identifier: MIT */
/*
 * realmkit CLI: one file per subcommand (tools/cmd_<name>.c), in the manner of
 * kvmtool's lkvm. Each subcommand exports `int cmd_<name>(int argc, char **argv)`
 * (argv[0] is the subcommand name) and is listed once in tools/main.c.
 * Exit status: 0 success, 1 failure of the thing asked for, 2 usage error.
 */
#ifndef RK_TOOLS_CLI_H
#define RK_TOOLS_CLI_H

struct rk_subcommand {
	const char *name;
	const char *summary;
	int (*fn)(int argc, char **argv);
};

int cmd_version(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_measure(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_bench(int argc, char **argv);

#endif
