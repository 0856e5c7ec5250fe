/* SPDX-License-Identifier: MIT */
/*
 * The GICv3 virtual CPU interface as a guest sees it (vcpuif.c): the
 * ICC_*_EL1 registers as ICV_*_EL1 present them when HCR_EL2.IMO = FMO = 1
 * (always so for a realm, and for a normal VM under a KVM-like host), driven
 * by a CPU's ICH_*_EL2 state (platform/gic.h). On hardware this is the CPU
 * interface itself; Unicorn 2.0.1 has no GIC, so whoever runs a vCPU on a CPU
 * (the RMM for a REC, the host for a normal VM through rk_hcpu_icc_access())
 * emulates the guest's accesses with it. Pure functions of a struct plat_ich:
 * unit-tested alone (tests/platform/test_vcpuif.c).
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
 * the vCPU: the virtual FIQ is not (plat_icv_virq()).
 */
#ifndef RK_PLATFORM_VCPUIF_H
#define RK_PLATFORM_VCPUIF_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/gic.h"

enum plat_icv_result {
	PLAT_ICV_DONE = 0, /* emulated: a read's value in *val */
	PLAT_ICV_TRAP,     /* traps to EL2 (SGIs; the registers ICH_HCR_EL2 TC/TALLn/TDIR trap) */
	PLAT_ICV_UNDEF,    /* UNDEFINED: a write to a read-only register, a read of a write-only one,
			      a register this interface does not implement */
};

/*
 * An MRS (is_read) or MSR of ICC_*_EL1 register enc (realmkit/arch/gic.h) at
 * EL1 of the guest, against the CPU's state s. The caller makes EL0 accesses
 * UNDEFINED, completes PLAT_ICV_TRAP at EL2 (the RMM: an exit to the host, EC
 * 0x18), and after PLAT_ICV_DONE re-evaluates plat_icv_virq() and
 * plat_ich_maint().
 */
enum plat_icv_result plat_icv_access(struct plat_ich *s, uint32_t enc, bool is_read, uint64_t *val);

/* True if enc is in the ICC_*_EL1 encoding space the interface decodes (op0 3, op1 0,
 * CRn 12 CRm 8-15, or ICC_PMR_EL1): the accesses to hand to plat_icv_access(). */
bool plat_icv_space(uint32_t enc);

/* The virtual IRQ line (HCR_EL2.VI): En, and the highest-priority pending Group 1 LR can
 * be acknowledged now (group enabled, priority above ICC_PMR and the running priority). */
bool plat_icv_virq(const struct plat_ich *s);

/* The running priority (ICC_RPR_EL1): the highest active group priority, 0xff if none. */
unsigned int plat_icv_running_prio(const struct plat_ich *s);

#endif
