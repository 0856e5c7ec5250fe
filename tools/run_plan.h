/* SPDX-License-Identifier: MIT */
/*
 * What `realmkit run` builds (tools/cmd_run.c), shared with the subcommands
 * that build the same realm without running it the run's way: `measure`
 * (its RIM, no RMM) and `bench` (build, run and tear it down many times).
 */
#ifndef RK_TOOLS_RUN_PLAN_H
#define RK_TOOLS_RUN_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "realmkit/guest_abi.h"
#include "realmkit/host.h"

/* The 64 KiB shared buffer run's realms get for RK_HC_SHARED_BUF (unprotected IPA). */
#define RUN_SHARED_IPA (RK_GUEST_UNPROT_BASE + 0x10000000ULL)
#define RUN_SHARED_SIZE 0x10000ULL

/*
 * `realmkit measure`: parse run's options, build the same plan, and predict its
 * RIM with rk_plan_rim() (no host, no RMI call). 0, 1 (help printed), 2 (usage
 * error) or -errno (reported).
 */
int run_plan_rim(int argc, char **argv, const char *prog, uint8_t rim[64], size_t *len, char *desc,
		 size_t desc_len);

/*
 * The options `run`, `measure` and `bench` share. Each returns true for a good
 * value, else prints why (prefixed by prog) and returns false.
 */
bool run_opt_mem(const char *prog, const char *arg, uint64_t *mib);   /* -m: MiB, even, 2..16384 */
bool run_opt_cpus(const char *prog, const char *arg, uint32_t *cpus); /* -c: 1..64 */
bool run_opt_hash(const char *prog, const char *arg, uint32_t *algo); /* --hash: sha256|sha384|sha512 */

/* An image loaded and the plan `realmkit run` makes with the same options. */
struct run_setup;
/*
 * Open one from run's own options (argv[0] is not an option; IMAGE or --kernel, --initrd,
 * --append, -- COMMAND, -m, -c, --hash, --normal, ...): 0, or 1 (help), 2 (usage), -errno,
 * each with a message on stderr.
 */
int run_setup_open_argv(const char *prog, int argc, char **argv, struct run_setup **out);
/* A Linux kernel (--kernel): its console carries the kit's marker lines (kconsole.h). */
bool run_setup_is_kernel(const struct run_setup *s);
const struct rk_vm_plan *run_setup_plan(const struct run_setup *s);
/* The image is an ELF that defines rk_report: it tells its result with RK_HC_RESULT. */
bool run_setup_reports(const struct run_setup *s);
void run_setup_close(struct run_setup *s);

#endif
