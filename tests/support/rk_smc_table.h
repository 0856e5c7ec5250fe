/* SPDX-License-Identifier: MIT */
/*
 * A realm that makes a table of SMCs, and what it may get back: shared by
 * tests/host/test_host_rsi_fuzz.c and tests/fuzz/fuzz_rsi.c.
 */
#ifndef RK_SMC_TABLE_H
#define RK_SMC_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "a64.h"

#define T_PSCI_CPU_OFF 0x84000002u
#define T_PSCI_SYSTEM_OFF 0x84000008u
#define T_PSCI_SYSTEM_RESET 0x84000009u

/*
 * The realm's program (at most 32 words at c): for each of the n entries of
 * the table at IPA table (x0..x7, 64 bytes each): load X0..X7, SMC, store X0
 * and X1 to results (16 bytes per entry); then PSCI_SYSTEM_OFF.
 */
static inline size_t t_smc_table_program(uint32_t *c, uint64_t table, uint64_t n, uint64_t results)
{
	size_t k = 0, loop;

	k += a64_mov64(c + k, 20, table);
	k += a64_mov64(c + k, 21, n);
	k += a64_mov64(c + k, 22, results);
	loop = k;
	c[k++] = a64_ldp(0, 1, 20, 0);
	c[k++] = a64_ldp(2, 3, 20, 16);
	c[k++] = a64_ldp(4, 5, 20, 32);
	c[k++] = a64_ldp(6, 7, 20, 48);
	c[k++] = A64_SMC;
	c[k++] = a64_stp(0, 1, 22, 0);
	c[k++] = a64_add_imm(20, 20, 64);
	c[k++] = a64_add_imm(22, 22, 16);
	c[k++] = a64_subs_imm(21, 21, 1);
	c[k] = a64_bcond(1 /* NE */, (int32_t)loop - (int32_t)k);
	k++;
	k += a64_mov64(c + k, 0, T_PSCI_SYSTEM_OFF);
	c[k++] = A64_SMC;
	c[k++] = A64_B_SELF;
	return k;
}

/* Whether the function would end the realm's run (CPU_OFF, SYSTEM_OFF, SYSTEM_RESET; W0 without the SVE hint). */
static inline bool t_smc_ends_run(uint64_t fid)
{
	uint64_t w = fid & 0xfffeffffULL;

	return w == T_PSCI_CPU_OFF || w == T_PSCI_SYSTEM_OFF || w == T_PSCI_SYSTEM_RESET;
}

/* Is x0 a status the function fid can return to a realm? */
static inline bool t_smc_status_valid(uint64_t fid, uint64_t x0)
{
	uint32_t w = (uint32_t)fid & ~(1u << 16);
	int64_t s = (int32_t)(uint32_t)x0;

	if (w >= 0xC4000190u && w <= 0xC4000199u)
		return x0 <= 5; /* RSI_SUCCESS .. RSI_ERROR_DEVICE */
	if ((w & ~0x1fu) == 0x84000000u || (w & ~0x1fu) == 0xC4000000u) {
		if (w == 0x84000000u) /* PSCI_VERSION (SMC32 only) */
			return x0 == 0x10001;
		if ((x0 >> 32) && (x0 >> 32) != 0xffffffffu)
			return false;     /* a PSCI status, sign-extended or not */
		return s >= -9 && s <= 2; /* NOT_SUPPORTED .. INVALID_ADDRESS, AFFINITY_INFO 0..2 */
	}
	if (w == 0x80000000u)
		return x0 == 0x10002;              /* SMCCC_VERSION 1.2 */
	return x0 == ~0ULL || x0 == 0xffffffffULL; /* SMC_UNKNOWN */
}

#endif
