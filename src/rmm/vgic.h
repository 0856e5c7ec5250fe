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

#endif
