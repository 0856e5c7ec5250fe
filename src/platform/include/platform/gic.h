/* SPDX-License-Identifier: MIT */
/*
 * The GICv3 virtual CPU interface of a physical CPU: the ICH_*_EL2 registers
 * as the hardware keeps them (realmkit/arch/gic.h). Every host CPU of the
 * machine has one (struct plat_hcpu); NS-EL2 software (the host) writes it
 * before RMI_REC_ENTER and reads it after the exit through the public
 * rk_hcpu_ich_read()/rk_hcpu_ich_write() (realmkit/platform.h), as MSR/MRS.
 * The RMM, on that CPU at R-EL2, takes it at REC_ENTER and hands it back at
 * the exit; the state machine the realm drives (ICC_* accesses) is the RMM's
 * (src/rmm/vgic.c), on a struct plat_ich of its own.
 *
 * The implementation this models (fixed ICH_VTR_EL2, plat_ich_vtr()):
 * nr_lrs list registers (rk_machine_config.gic_nr_lrs, 1..16, default 4 as
 * Arm's Cortex-A cores), 5 priority bits and 5 preemption bits (so one
 * active-priorities register per group, AP0R0 and AP1R0), 16-bit vINTIDs,
 * A3V = 1, no GICv4 (nV4 = 1), SEIS = 0, TDS = 0. Bits the architecture
 * makes RES0 for this implementation read as zero whatever was written
 * (RAZ/WI, as QEMU's ich_lr_write does for the priority): the low 3 priority
 * bits of an LR, vINTID bits [31:16], LR bits [59:56] and [47:45], the
 * ICH_HCR_EL2 bits of features it lacks (vSGIEOICount, TSEI, DVIM);
 * ICH_VMCR_EL2.VFIQEn is RES1 (system registers always in use), VAckCtl
 * RES0, a binary point written below its minimum reads as the minimum.
 */
#ifndef RK_PLATFORM_GIC_H
#define RK_PLATFORM_GIC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "realmkit/arch/gic.h"

#define PLAT_GIC_DEFAULT_LRS 4u
#define PLAT_GIC_PRIBITS 5u /* priority bits implemented */
#define PLAT_GIC_PREBITS 5u /* preemption bits implemented */
/* the implemented priority bits of an 8-bit priority */
#define PLAT_GIC_PRIO_MASK ((0xffu << (8 - PLAT_GIC_PRIBITS)) & 0xffu)
/* smallest binary points: Group 0 = 7 - preemption bits, Group 1 one more */
#define PLAT_GIC_MIN_BPR0 (7u - PLAT_GIC_PREBITS)
#define PLAT_GIC_MIN_BPR1 (PLAT_GIC_MIN_BPR0 + 1u)

struct plat_ich {
	uint64_t vtr; /* ICH_VTR_EL2 (read-only) */
	uint64_t hcr;
	uint64_t vmcr;
	uint64_t lr[ICH_MAX_LRS];
	uint32_t ap0r[ICH_MAX_APRS];
	uint32_t ap1r[ICH_MAX_APRS];
};

/* A host CPU: its virtual CPU interface, and the lock of whoever is on it. */
struct plat_hcpu {
	pthread_mutex_t lock;
	struct plat_ich ich;
};

/* ICH_VTR_EL2 of an implementation with nr_lrs (1..16) list registers. */
uint64_t plat_ich_vtr(unsigned int nr_lrs);

/* Reset state (everything 0 but VTR, and VMCR's RES1 bit and minimum binary points). */
void plat_ich_reset(struct plat_ich *s, uint64_t vtr);

static inline unsigned int plat_ich_nr_lrs(const struct plat_ich *s)
{
	return (unsigned int)(s->vtr & ICH_VTR_LISTREGS_MASK) + 1u;
}

static inline unsigned int plat_ich_nr_aprs(const struct plat_ich *s)
{
	unsigned int pre = (unsigned int)(s->vtr >> ICH_VTR_PREBITS_SHIFT & 7u) + 1u;

	return 1u << (pre - 5u);
}

static inline unsigned int ich_lr_state(uint64_t lr)
{
	return (unsigned int)(lr >> ICH_LR_STATE_SHIFT) & 3u;
}

static inline uint32_t ich_lr_vintid(uint64_t lr)
{
	return (uint32_t)(lr & ICH_LR_VINTID_MASK);
}

static inline unsigned int ich_lr_prio(uint64_t lr)
{
	return (unsigned int)(lr >> ICH_LR_PRIORITY_SHIFT) & 0xffu;
}

/*
 * MRS/MSR of an ICH_* register (enc: realmkit/arch/gic.h). -EINVAL: not an
 * ICH register this CPU implements (LR n >= nr_lrs, APR n >= nr_aprs, any
 * other encoding); -EPERM: a write to a read-only one (VTR, MISR, EISR,
 * ELRSR). MISR, EISR and ELRSR are computed from the LRs, HCR and VMCR.
 */
int plat_ich_read(const struct plat_ich *s, uint32_t enc, uint64_t *val);
int plat_ich_write(struct plat_ich *s, uint32_t enc, uint64_t val);

/* Store an LR / VMCR as the hardware would (RES0 bits dropped, RES1 set, BPR minimums). */
uint64_t plat_ich_lr_sanitise(const struct plat_ich *s, uint64_t lr);
uint64_t plat_ich_vmcr_sanitise(uint64_t vmcr);

/* ICH_EISR_EL2: bit n = LR n invalid, HW = 0, EOI = 1 (an EOI maintenance interrupt is due). */
uint64_t plat_ich_eisr(const struct plat_ich *s);
/* ICH_ELRSR_EL2: bit n = LR n holds no interrupt and wants no EOI maintenance (free). */
uint64_t plat_ich_elrsr(const struct plat_ich *s);
/* ICH_MISR_EL2, computed whatever ICH_HCR_EL2.En says. */
uint64_t plat_ich_misr(const struct plat_ich *s);
/* The maintenance interrupt is asserted: En = 1 and MISR != 0. */
static inline bool plat_ich_maint(const struct plat_ich *s)
{
	return (s->hcr & ICH_HCR_EN) && plat_ich_misr(s) != 0;
}

#endif
