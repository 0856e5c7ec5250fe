/* SPDX-License-Identifier: MIT */
/*
 * The host CPUs' GIC virtual CPU interface through the public API
 * (realmkit/platform.h: rk_hcpu_ich_read/write, rk_hcpu_smc):
 *  - ICH_VTR_EL2 says what is implemented (gic_nr_lrs, 5 priority and
 *    preemption bits, 16-bit vINTIDs), and only that is accessible;
 *  - writes are stored as the implementation would (RES0 bits dropped, VMCR's
 *    RES1 bit and binary-point minimums), read-only registers refuse writes;
 *  - MISR, EISR and ELRSR are computed from the LRs, HCR and VMCR;
 *  - every CPU has its own state; bad CPU numbers and arguments are refused;
 *  - a machine with a bad gic_nr_lrs or ncpus is not created.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "realmkit/arch/gic.h"
#include "realmkit/abi_gen.h"
#include "realmkit/platform.h"

static struct rk_machine *machine(unsigned int nr_lrs, unsigned int ncpus)
{
	struct rk_machine_config cfg;
	struct rk_machine *m = NULL;

	rk_machine_config_default(&cfg);
	cfg.dram_size = 16ULL << 20;
	cfg.gic_nr_lrs = nr_lrs;
	cfg.ncpus = ncpus;
	assert_int_equal(rk_machine_create(&cfg, &m), 0);
	return m;
}

static uint64_t rd(struct rk_machine *m, unsigned int cpu, uint32_t reg)
{
	uint64_t v = 0xdeadbeef;

	assert_int_equal(rk_hcpu_ich_read(m, cpu, reg, &v), 0);
	return v;
}

static void wr(struct rk_machine *m, unsigned int cpu, uint32_t reg, uint64_t v)
{
	assert_int_equal(rk_hcpu_ich_write(m, cpu, reg, v), 0);
}

static void test_vtr_and_reset(void **state)
{
	struct rk_machine *m = machine(0, 0);
	uint64_t v = 0;

	(void)state;
	assert_int_equal(rk_machine_ncpus(m), 8);
	for (unsigned int cpu = 0; cpu < 8; cpu++) {
		uint64_t vtr = rd(m, cpu, ICH_VTR_EL2);
		assert_int_equal(vtr & ICH_VTR_LISTREGS_MASK, 3);      /* 4 LRs */
		assert_int_equal(vtr >> ICH_VTR_PRIBITS_SHIFT & 7, 4); /* 5 priority bits */
		assert_int_equal(vtr >> ICH_VTR_PREBITS_SHIFT & 7, 4); /* 5 preemption bits */
		assert_int_equal(vtr >> ICH_VTR_IDBITS_SHIFT & 7, 0);  /* 16-bit vINTIDs */
		assert_int_equal(vtr & (ICH_VTR_A3V | ICH_VTR_NV4 | ICH_VTR_SEIS | ICH_VTR_TDS),
				 ICH_VTR_A3V | ICH_VTR_NV4);
		/* reset: disabled, nothing in use */
		assert_int_equal(rd(m, cpu, ICH_HCR_EL2), 0);
		for (unsigned int n = 0; n < 4; n++)
			assert_int_equal(rd(m, cpu, ICH_LR_EL2(n)), 0);
		assert_int_equal(rd(m, cpu, ICH_AP0R_EL2(0)), 0);
		assert_int_equal(rd(m, cpu, ICH_AP1R_EL2(0)), 0);
		assert_int_equal(rd(m, cpu, ICH_MISR_EL2), 0);
		assert_int_equal(rd(m, cpu, ICH_EISR_EL2), 0);
		assert_int_equal(rd(m, cpu, ICH_ELRSR_EL2), 0xf);
		assert_int_equal(rd(m, cpu, ICH_VMCR_EL2), ICH_VMCR_VFIQEN | 2ULL << ICH_VMCR_VBPR0_SHIFT |
								   3ULL << ICH_VMCR_VBPR1_SHIFT);
	}
	/* what is not implemented does not exist */
	assert_int_equal(rk_hcpu_ich_read(m, 0, ICH_LR_EL2(4), &v), -EINVAL);
	assert_int_equal(rk_hcpu_ich_write(m, 0, ICH_LR_EL2(15), 0), -EINVAL);
	for (unsigned int n = 1; n < 4; n++) {
		assert_int_equal(rk_hcpu_ich_read(m, 0, ICH_AP0R_EL2(n), &v), -EINVAL);
		assert_int_equal(rk_hcpu_ich_write(m, 0, ICH_AP1R_EL2(n), 0), -EINVAL);
	}
	assert_int_equal(rk_hcpu_ich_read(m, 0, SYSREG_ENC(3, 4, 12, 11, 4), &v), -EINVAL);
	assert_int_equal(rk_hcpu_ich_read(m, 0, SYSREG_ENC(3, 0, 12, 12, 0), &v), -EINVAL); /* ICC_IAR1 */
	/* read-only registers */
	assert_int_equal(rk_hcpu_ich_write(m, 0, ICH_VTR_EL2, 0), -EPERM);
	assert_int_equal(rk_hcpu_ich_write(m, 0, ICH_MISR_EL2, 0), -EPERM);
	assert_int_equal(rk_hcpu_ich_write(m, 0, ICH_EISR_EL2, 0), -EPERM);
	assert_int_equal(rk_hcpu_ich_write(m, 0, ICH_ELRSR_EL2, 0), -EPERM);
	assert_int_equal(rd(m, 0, ICH_VTR_EL2) & ICH_VTR_LISTREGS_MASK, 3);
	/* no such CPU, no output */
	assert_int_equal(rk_hcpu_ich_read(m, 8, ICH_HCR_EL2, &v), -EINVAL);
	assert_int_equal(rk_hcpu_ich_write(m, 8, ICH_HCR_EL2, 0), -EINVAL);
	assert_int_equal(rk_hcpu_ich_read(m, 0, ICH_HCR_EL2, NULL), -EINVAL);
	assert_int_equal(rk_hcpu_ich_read(NULL, 0, ICH_HCR_EL2, &v), -EINVAL);
	rk_machine_destroy(m);
}

static void test_stored_as_implemented(void **state)
{
	struct rk_machine *m = machine(0, 0);

	(void)state;
	/* an LR: low 3 priority bits, vINTID [31:16], bits [59:56] and [47:45] read as zero */
	wr(m, 0, ICH_LR_EL2(0), ~0ULL);
	assert_int_equal(rd(m, 0, ICH_LR_EL2(0)), 0xf0f81fff0000ffffULL);
	wr(m, 0, ICH_LR_EL2(1), ICH_LR(ICH_LR_STATE_PENDING, 1, 0xa5, 0x12345) | ICH_LR_EOI);
	assert_int_equal(rd(m, 0, ICH_LR_EL2(1)), ICH_LR(ICH_LR_STATE_PENDING, 1, 0xa0, 0x2345) | ICH_LR_EOI);
	/* ICH_HCR_EL2: vSGIEOICount, TSEI, DVIM and RES0 bits dropped, the rest kept (also EOIcount) */
	wr(m, 0, ICH_HCR_EL2, ~0ULL);
	assert_int_equal(rd(m, 0, ICH_HCR_EL2),
			 0xf80000ffULL | ICH_HCR_TC | ICH_HCR_TALL0 | ICH_HCR_TALL1 | ICH_HCR_TDIR);
	/* ICH_VMCR_EL2: VFIQEn RES1, VAckCtl RES0, PMR's 5 bits, binary points at least 2/3 */
	wr(m, 0, ICH_VMCR_EL2, ICH_VMCR_VACKCTL | ICH_VMCR_VENG1 | 0x87ULL << ICH_VMCR_VPMR_SHIFT);
	assert_int_equal(rd(m, 0, ICH_VMCR_EL2),
			 ICH_VMCR_VFIQEN | ICH_VMCR_VENG1 | 0x80ULL << ICH_VMCR_VPMR_SHIFT |
				 2ULL << ICH_VMCR_VBPR0_SHIFT | 3ULL << ICH_VMCR_VBPR1_SHIFT);
	wr(m, 0, ICH_VMCR_EL2, ~0ULL);
	assert_int_equal(rd(m, 0, ICH_VMCR_EL2), 0xf8fc021bULL);
	/* the active-priorities registers: 32 bits each */
	wr(m, 0, ICH_AP0R_EL2(0), 0x1234567887654321ULL);
	wr(m, 0, ICH_AP1R_EL2(0), 0x80000001ULL);
	assert_int_equal(rd(m, 0, ICH_AP0R_EL2(0)), 0x87654321ULL);
	assert_int_equal(rd(m, 0, ICH_AP1R_EL2(0)), 0x80000001ULL);
	/* another CPU is untouched */
	assert_int_equal(rd(m, 1, ICH_LR_EL2(0)), 0);
	assert_int_equal(rd(m, 1, ICH_HCR_EL2), 0);
	assert_int_equal(rd(m, 1, ICH_AP0R_EL2(0)), 0);
	rk_machine_destroy(m);
}

static void test_computed(void **state)
{
	struct rk_machine *m = machine(0, 0);

	(void)state;
	/* LR0 deactivated with EOI: EISR; LR1 pending; LR2 invalid, HW; LR3 invalid */
	wr(m, 2, ICH_LR_EL2(0), ICH_LR_EOI | 27);
	wr(m, 2, ICH_LR_EL2(1), ICH_LR(ICH_LR_STATE_PENDING, 1, 0x80, 30));
	wr(m, 2, ICH_LR_EL2(2), ICH_LR_HW | ICH_LR_EOI | 31);
	assert_int_equal(rd(m, 2, ICH_EISR_EL2), 0x1);
	assert_int_equal(rd(m, 2, ICH_ELRSR_EL2), 0xc);
	assert_int_equal(rd(m, 2, ICH_MISR_EL2), ICH_MISR_EOI);
	/* underflow: one valid LR; no pending: none here; LRENP with EOIcount */
	wr(m, 2, ICH_HCR_EL2, ICH_HCR_EN | ICH_HCR_UIE | ICH_HCR_NPIE | ICH_HCR_LRENPIE);
	assert_int_equal(rd(m, 2, ICH_MISR_EL2), ICH_MISR_EOI | ICH_MISR_U);
	wr(m, 2, ICH_HCR_EL2, ICH_HCR_EN | ICH_HCR_LRENPIE | 2ULL << ICH_HCR_EOICOUNT_SHIFT);
	assert_int_equal(rd(m, 2, ICH_MISR_EL2), ICH_MISR_EOI | ICH_MISR_LRENP);
	wr(m, 2, ICH_LR_EL2(1), 0);
	wr(m, 2, ICH_HCR_EL2, ICH_HCR_NPIE | ICH_HCR_VGRP0DIE | ICH_HCR_VGRP1EIE);
	wr(m, 2, ICH_VMCR_EL2, ICH_VMCR_VENG1);
	assert_int_equal(rd(m, 2, ICH_MISR_EL2),
			 ICH_MISR_EOI | ICH_MISR_NP | ICH_MISR_VGRP0D | ICH_MISR_VGRP1E);
	rk_machine_destroy(m);
}

static void test_config(void **state)
{
	struct rk_machine_config cfg;
	struct rk_machine *m = NULL;

	(void)state;
	/* 16 list registers, 2 CPUs */
	m = machine(16, 2);
	assert_int_equal(rk_machine_ncpus(m), 2);
	assert_int_equal(rd(m, 1, ICH_VTR_EL2) & ICH_VTR_LISTREGS_MASK, 15);
	wr(m, 1, ICH_LR_EL2(15), ICH_LR(ICH_LR_STATE_PENDING, 1, 0x80, 40));
	assert_int_equal(rd(m, 1, ICH_ELRSR_EL2), 0x7fff);
	uint64_t v;
	assert_int_equal(rk_hcpu_ich_read(m, 2, ICH_VTR_EL2, &v), -EINVAL);
	struct rk_smc_regs r = { .x = { RMI_FID_VERSION } };
	assert_int_equal(rk_hcpu_smc(m, 2, &r), -EINVAL);
	assert_int_equal(r.x[0], RMI_FID_VERSION); /* nothing issued */
	assert_int_equal(rk_hcpu_smc(m, 1, NULL), -EINVAL);
	/* an SMC on a CPU is an SMC: RMI_VERSION answers */
	r.x[1] = RMI_ABI_VERSION;
	assert_int_equal(rk_hcpu_smc(m, 1, &r), 0);
	assert_int_equal(r.x[0], RMI_SUCCESS);
	rk_machine_destroy(m);
	/* 1 list register */
	m = machine(1, 1);
	assert_int_equal(rd(m, 0, ICH_VTR_EL2) & ICH_VTR_LISTREGS_MASK, 0);
	assert_int_equal(rk_hcpu_ich_read(m, 0, ICH_LR_EL2(1), &v), -EINVAL);
	rk_machine_destroy(m);
	/* out of range */
	rk_machine_config_default(&cfg);
	cfg.dram_size = 16ULL << 20;
	cfg.gic_nr_lrs = 17;
	assert_int_equal(rk_machine_create(&cfg, &m), -EINVAL);
	cfg.gic_nr_lrs = 0;
	cfg.ncpus = 4097;
	assert_int_equal(rk_machine_create(&cfg, &m), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vtr_and_reset),
		cmocka_unit_test(test_stored_as_implemented),
		cmocka_unit_test(test_computed),
		cmocka_unit_test(test_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
