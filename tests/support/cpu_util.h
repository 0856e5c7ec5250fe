/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the vCPU backend tests (tests/platform/test_cpu_*.c; code in
 * cpu_util.c, part of rk_test_support): register access and a run that must
 * end with a given exit, each failing the cmocka test on an error.
 */
#ifndef RK_CPU_UTIL_H
#define RK_CPU_UTIL_H

#include <stdint.h>

#include "realmkit/cpu.h"

/* The register's value; fails the test if it cannot be read. */
uint64_t t_cpu_reg(struct rk_cpu *cpu, enum rk_cpu_reg r);
/* Write a register; fails the test if it cannot be written. */
void t_cpu_set(struct rk_cpu *cpu, enum rk_cpu_reg r, uint64_t v);
/* Run (a 5 s slice, only to bound a hang) and return the exit; fails the test
 * unless the run succeeds with exit reason want. */
struct rk_cpu_exit t_cpu_run(struct rk_cpu *cpu, enum rk_cpu_exit_reason want);
/* The vCPU's counters (rk_cpu_get_stats). */
struct rk_cpu_stats t_cpu_stats(struct rk_cpu *cpu);

#endif
