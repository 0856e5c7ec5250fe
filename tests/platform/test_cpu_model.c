/* SPDX-License-Identifier: MIT */
/*
 * The CPU model constants (include/realmkit/cpu_model.h) against the engine
 * Debian ships: what the RMM advertises (FR0.S2SZ, NUM_BPS, NUM_WPS) must be
 * what a vCPU implements, or a realm is told of registers or addresses the
 * engine lacks; and the cache maintenance realmkit's vCPUs rely on (CTR_EL0). Read from a plain Unicorn engine, the model rk_cpu uses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <unicorn/unicorn.h>

#include "realmkit/cpu_model.h"

static uint64_t id_reg(uc_engine *uc, uint32_t crm, uint32_t op2)
{
	uc_arm64_cp_reg r = { .op0 = 3, .op1 = 0, .crn = 0, .crm = crm, .op2 = op2 };

	assert_int_equal(uc_reg_read(uc, UC_ARM64_REG_CP_REG, &r), UC_ERR_OK);
	return r.val;
}

static void test_model_matches_engine(void **state)
{
	static const unsigned int parange_bits[] = { 32, 36, 40, 42, 44, 48, 52 };
	uc_engine *uc;

	(void)state;
	assert_int_equal(uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &uc), UC_ERR_OK);
	uint64_t mmfr0 = id_reg(uc, 7, 0);                                              /* ID_AA64MMFR0_EL1 */
	uint64_t dfr0 = id_reg(uc, 5, 0);                                               /* ID_AA64DFR0_EL1 */
	uc_arm64_cp_reg ctr_reg = { .op0 = 3, .op1 = 3, .crn = 0, .crm = 0, .op2 = 1 }; /* CTR_EL0 */
	assert_int_equal(uc_reg_read(uc, UC_ARM64_REG_CP_REG, &ctr_reg), UC_ERR_OK);
	uint64_t ctr = ctr_reg.val;
	uc_close(uc);

	unsigned int parange = mmfr0 & 0xf;
	assert_true(parange < sizeof(parange_bits) / sizeof(parange_bits[0]));
	assert_int_equal(parange_bits[parange], RK_MACHINE_CPU_PA_BITS);
	assert_int_equal((dfr0 >> 12) & 0xf, RK_MACHINE_CPU_BRPS);          /* BRPs */
	assert_int_equal((dfr0 >> 20) & 0xf, RK_MACHINE_CPU_WRPS);          /* WRPs */
	assert_int_equal(4u << (ctr & 0xf), RK_MACHINE_CPU_IMINLINE_BYTES); /* IminLine */
	assert_int_equal((ctr >> 29) & 1, 0);                               /* DIC: IC maintenance needed */
	assert_int_equal((ctr >> 28) & 1, 0);                               /* IDC: DC CVAU needed */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_matches_engine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
