/* SPDX-License-Identifier: MIT */
/* Helpers of the vCPU backend tests: see cpu_util.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cpu_util.h"

uint64_t t_cpu_reg(struct rk_cpu *cpu, enum rk_cpu_reg r)
{
	uint64_t v = 0xdeadbeef;

	assert_int_equal(rk_cpu_get_reg(cpu, r, &v), 0);
	return v;
}

void t_cpu_set(struct rk_cpu *cpu, enum rk_cpu_reg r, uint64_t v)
{
	assert_int_equal(rk_cpu_set_reg(cpu, r, v), 0);
}

struct rk_cpu_exit t_cpu_run(struct rk_cpu *cpu, enum rk_cpu_exit_reason want)
{
	struct rk_cpu_exit e;

	assert_int_equal(rk_cpu_run(cpu, 5000000, &e), 0);
	if (e.reason != want)
		fail_msg("exit %s (error %d) at pc 0x%llx, wanted %s", rk_cpu_exit_reason_name(e.reason),
			 e.error, (unsigned long long)e.pc, rk_cpu_exit_reason_name(want));
	return e;
}

struct rk_cpu_stats t_cpu_stats(struct rk_cpu *cpu)
{
	struct rk_cpu_stats s;

	rk_cpu_get_stats(cpu, &s);
	return s;
}
