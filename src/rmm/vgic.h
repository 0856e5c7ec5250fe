/* SPDX-License-Identifier: MIT */
/*
 * The realm's GICv3 virtual CPU interface (vgic.c): the ICH_*_EL2 state the
 * host left on its CPU at RMI_REC_ENTER (platform/gic.h), checked, taken into
 * the REC for the run and handed back at the exit; and the CPU interface the
 * realm sees through it (the ICC_*_EL1 registers as ICV_*_EL1 present them
 * when HCR_EL2.IMO = FMO = 1, which is always so for a realm). Pure functions
 * of a struct plat_ich: unit-tested alone (tests/rmm/test_vgic.c).
 *
 * Behaviour follows the GICv3 architecture (Arm IHI 0069, the ICV_*
 * pseudocode: VirtualReadIAR, VirtualWriteEOIR, VirtualWriteDIR, the
 * maintenance interrupt conditions), with QEMU's hw/intc/arm_gicv3_cpuif.c
 * (icv_* functions) as the reference for the choices the architecture leaves
 * open: an EOI drops the running priority before any check (IMPLEMENTATION
 * DEFINED), an EOI with nothing active changes nothing (CONSTRAINED
 * UNPREDICTABLE), an acknowledged special vINTID (1020-1023) leaves its LR
 * invalid without activation (as the pseudocode). Group 0 works as Group 1
 * does in the registers, but only the virtual IRQ (Group 1) is signalled to
 * the vCPU: the virtual FIQ is not (vgic_virq()).
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

enum vgic_result {
	VGIC_DONE = 0, /* emulated: a read's value in *val */
	VGIC_TRAP,     /* an exit to the host (SGIs; the registers ICH_HCR_EL2 TC/TALLn/TDIR trap) */
	VGIC_UNDEF,    /* UNDEFINED: a write to a read-only register, a read of a write-only one,
			  a register this interface does not implement */
};

/*
 * An MRS (is_read) or MSR of ICC_*_EL1 register enc (realmkit/arch/gic.h) at
 * EL1 of the realm, against the REC's state s. The caller makes EL0 accesses
 * UNDEFINED, completes VGIC_TRAP with an exit to the host (EC 0x18), and after
 * VGIC_DONE re-evaluates vgic_virq() and vgic_maint().
 */
enum vgic_result vgic_icc_access(struct plat_ich *s, uint32_t enc, bool is_read, uint64_t *val);

/* The virtual IRQ line (HCR_EL2.VI): En, and the highest-priority pending Group 1 LR can
 * be acknowledged now (group enabled, priority above ICC_PMR and the running priority). */
bool vgic_virq(const struct plat_ich *s);

/* The running priority (ICC_RPR_EL1): the highest active group priority, 0xff if none. */
unsigned int vgic_running_prio(const struct plat_ich *s);

/* The maintenance interrupt (a physical PPI of the host's) is asserted: En and MISR != 0. */
static inline bool vgic_maint(const struct plat_ich *s)
{
	return plat_ich_maint(s);
}

#endif
