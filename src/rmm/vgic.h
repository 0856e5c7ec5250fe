/* SPDX-License-Identifier: MIT */
/*
 * The RMM's part of the realm's GICv3 virtual CPU interface (vgic.c): the
 * ICH_*_EL2 state the host left on its CPU at RMI_REC_ENTER (platform/gic.h),
 * checked, taken into the REC for the run and handed back at the exit (TF-RMM
 * gic_validate_lrs, gic_restore_state/gic_save_state). The interface the realm
 * drives with it (the ICC_*_EL1 registers as ICV_*_EL1 present them, the vIRQ
 * line) is the CPU's: the platform's emulation (platform/vcpuif.h); the run
 * loop (rec_run.c) applies it to the REC's copy and reports what traps to EL2.
 * Unit-tested in tests/rmm/test_vgic.c.
 */
#ifndef RK_RMM_VGIC_H
#define RK_RMM_VGIC_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/gic.h"
#include "realmkit/cpu.h"

/* The CPU the current SMC was issued on: set by rmm_handle_smc() for the call (NULL: none). */
void vgic_set_cpu(struct plat_ich *ich);
struct plat_ich *vgic_cpu(void);

/*
 * REC_ENTER's check of the host's list registers (TF-RMM gic_validate_lrs):
 * among the LRs ICH_VTR_EL2 implements, those with State != invalid must have
 * HW = 0 (the RMM specification's constraint) and distinct vINTIDs (two LRs
 * with one vINTID are UNPREDICTABLE). Nothing else is refused or masked.
 */
bool vgic_lrs_valid(const struct plat_ich *s);

/* The REC's copy of the CPU's state at entry (cpu NULL: the reset state of an interface with vtr). */
void vgic_take(struct plat_ich *rec_state, const struct plat_ich *cpu, uint64_t vtr);
/* Back onto the CPU at the exit: as the realm left it, ICH_HCR_EL2.En cleared (TF-RMM
 * gic_disable_virtual_cpuif). */
void vgic_give_back(struct plat_ich *cpu, const struct plat_ich *rec_state);

enum vgic_icc {
	VGIC_ICC_NOT = 0, /* not an ICC access the realm may make: UNDEFINED */
	VGIC_ICC_DONE,    /* emulated (a read's value in acc->value); nothing else changed */
	VGIC_ICC_RECHECK, /* emulated; the vIRQ line or the maintenance interrupt changed:
			     evaluate them before the realm goes on */
	VGIC_ICC_TRAP,    /* traps to EL2: an exit to the host (EC 0x18) */
};

/*
 * A realm's MRS/MSR acc (the engine's, realmkit/cpu.h) that may be of an
 * ICC_*_EL1 register, against the REC's state s (the CPU interface's
 * emulation, platform/vcpuif.h), with the engine's vIRQ line at virq. At EL0
 * an ICC access is UNDEFINED (ICC_SRE_EL1.SRE_EL0 does not exist for the
 * virtual interface: NOT).
 */
enum vgic_icc vgic_icc_sysreg(struct plat_ich *s, bool virq, struct rk_cpu_sysreg *acc);

#endif
