/* SPDX-License-Identifier: MIT */
/*
 * realmkit CLI: one file per subcommand (tools/cmd_<name>.c), in the manner of
 * kvmtool's lkvm. Each subcommand exports `int cmd_<name>(int argc, char **argv)`
 * (argv[0] is the subcommand name) and is listed once in tools/main.c.
 * Exit status: 0 success, 1 failure of the thing asked for (the reason on
 * stderr), 2 usage error: every argument is checked, and a refusal names it,
 * before anything is built or run.
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

/*
 * Each subcommand's argument parsing alone: every option value checked, no
 * file opened, nothing built or run (tests/fuzz/fuzz_cli.c). 0 the arguments
 * are good (or --help was printed), 2 usage error (the message on stderr).
 */
int parse_info(int argc, char **argv);
int parse_demo(int argc, char **argv);
int parse_run(int argc, char **argv);
int parse_measure(int argc, char **argv);
int parse_verify(int argc, char **argv);
int parse_bench(int argc, char **argv);

#endif
