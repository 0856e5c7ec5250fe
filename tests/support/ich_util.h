/* SPDX-License-Identifier: MIT */
/*
 * Tests of the GICv3 virtual CPU interface (platform/vcpuif.h) and of the RMM's
 * part of it: a CPU's ICH state made ready, and ICC accesses that must complete.
 * Include after <cmocka.h> and "platform/vcpuif.h".
 */
#ifndef RK_TEST_ICH_UTIL_H
#define RK_TEST_ICH_UTIL_H

#include <stdint.h>

#define VPMR(p) ((uint64_t)(p) << ICH_VMCR_VPMR_SHIFT)
#define VBPR1(b) ((uint64_t)(b) << ICH_VMCR_VBPR1_SHIFT)
#define VBPR0(b) ((uint64_t)(b) << ICH_VMCR_VBPR0_SHIFT)
#define G1P(prio, id) ICH_LR(ICH_LR_STATE_PENDING, 1, prio, id)
#define G0P(prio, id) ICH_LR(ICH_LR_STATE_PENDING, 0, prio, id)

/* An enabled interface with nr LRs: En, Group 1 on, PMR 0xf8 (everything but the lowest). */
static inline struct plat_ich t_ich_on(unsigned int nr)
{
	struct plat_ich s;

	plat_ich_reset(&s, plat_ich_vtr(nr));
	s.hcr = ICH_HCR_EN;
	s.vmcr = plat_ich_vmcr_sanitise(ICH_VMCR_VENG1 | VPMR(0xf8));
	return s;
}

/* An ICC_* read the interface completes. */
static inline uint64_t t_icv_rd(struct plat_ich *s, uint32_t enc)
{
	uint64_t v = 0xdead;

	assert_int_equal(plat_icv_access(s, enc, true, &v), PLAT_ICV_DONE);
	return v;
}

/* An ICC_* write the interface completes. */
static inline void t_icv_wr(struct plat_ich *s, uint32_t enc, uint64_t v)
{
	assert_int_equal(plat_icv_access(s, enc, false, &v), PLAT_ICV_DONE);
}

/* An ICH_*_EL2 register of the state. */
static inline uint64_t t_ich_reg(const struct plat_ich *s, uint32_t enc)
{
	uint64_t v = 0;

	assert_int_equal(plat_ich_read(s, enc, &v), 0);
	return v;
}

#endif
