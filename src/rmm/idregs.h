/* SPDX-License-Identifier: MIT */
/*
 * The ID registers a realm reads (idregs.c): the CPU's own values with the
 * features the RMM does not give realms masked, and the debug resources the
 * realm's parameters chose.
 */
#ifndef RK_RMM_IDREGS_H
#define RK_RMM_IDREGS_H

#include <stdbool.h>
#include <stdint.h>

#include "realmkit/cpu.h"

struct rk_gtimer;
struct plat_ich;

/* What the engine's sysreg hook needs (set at REC_CREATE from the realm's parameters). */
struct rk_cpu_sysreg_ctx {
	uint8_t num_bps; /* RmiRealmParams.num_bps: breakpoints - 1 */
	uint8_t num_wps; /* watchpoints - 1 */
	uint8_t sve;     /* bool: SVE enabled for the realm */
	uint8_t pmu;     /* bool: PMU enabled for the realm */
	/* bool: the handler completed an ICC access that traps to EL2 and ended
	 * the run (RK_CPU_EXIT_SYSREG): the run loop reports it to the host */
	uint8_t icc_trap;
	uint8_t reserved[3];
	struct rk_gtimer *timer; /* the REC's EL1 timers (realmkit/gtimer.h) */
	struct plat_ich *ich;    /* the REC's GIC virtual CPU interface state (vgic.h) */
	const uint8_t *virq;     /* bool: the engine's virtual IRQ line as last set */
};

/* True if enc (RK_CPU_SYSREG) is in the AArch64 feature ID space: op0 3, op1 0, CRn 0, CRm 4..7. */
bool realm_idreg_space(uint32_t enc);

/* The value the realm reads from the ID register enc, given the CPU's own value raw. */
uint64_t realm_idreg(const struct rk_cpu_sysreg_ctx *c, uint32_t enc, uint64_t raw);

/*
 * Make cpu answer the realm's system register accesses the RMM emulates
 * (stage-2 mode; hooks mode: nothing, 0): ID register reads at EL1 with
 * realm_idreg(), the EL1 timers and counters with rk_gtimer_sysreg() against
 * c->timer, the GICv3 CPU interface (ICC_*) with vgic_icc_sysreg() against
 * c->ich: an access that changes the vIRQ line or the maintenance interrupt
 * ends the run (RK_CPU_EXIT_SYSREG), one that traps to EL2 too, with
 * c->icc_trap set. Negative errno on failure.
 */
int realm_idregs_attach(struct rk_cpu *cpu, struct rk_cpu_sysreg_ctx *c);

#endif
