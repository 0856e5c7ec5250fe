/* SPDX-License-Identifier: MIT */
/*
 * The realm's view of the AArch64 feature ID registers (ID_AA64*_EL1).
 *
 * TF-RMM traps them (HCR_EL2.TID3) and answers from the CPU's values with
 * what realms do not get masked (runtime/core/sysregs.c,
 * handle_id_sysreg_trap): SVE unless the realm enabled it (and
 * ID_AA64ZFR0_EL1 then reads 0), MPAM and AMU (ID_AA64PFR0_EL1), MPAM_frac
 * and SME (ID_AA64PFR1_EL1; ID_AA64SMFR0_EL1 reads 0), BRBE and PMUVer
 * (ID_AA64DFR0_EL1: no PMU for realms in RMM 2.0, FR0.PMU_EN = 0), S2PIE
 * and S2POE (ID_AA64MMFR3_EL1), ID_AA64ISAR3_EL1 reads 0, and every other
 * register of the space reads the CPU's value (0 if unallocated). realmkit
 * does the same and also masks what it does not emulate for a realm: RAS
 * and RAS_frac (no error records), the trace and statistical profiling
 * fields of ID_AA64DFR0_EL1; BRPs and WRPs are the realm's num_bps and
 * num_wps (RmiRealmParams, validated against FR0 at REALM_CREATE), and
 * CTX_CMPs is kept within BRPs.
 *
 * The engine (rk_cpu, stage-2 mode) offers every access to a trapped
 * register to realm_sysreg_handler() inside the run, with the engine's value;
 * it dispatches: ID registers here (writes and EL0 reads are declined: the
 * engine's own rules, UNDEF, apply), the generic timers and counters to
 * the platform's emulation (realmkit/gtimer.h, rk_gtimer_sysreg), the GICv3
 * CPU interface's ICC_* registers to vgic.c (vgic_icc_sysreg).
 */
#include "idregs.h"

#include <errno.h>

#include "realmkit/arch/sysreg.h"
#include "realmkit/gtimer.h"
#include "vgic.h"

#define FIELD(shift) (0xfull << (shift))

/* Encodings: op0 3, op1 0, CRn 0, CRm, op2 */
#define ID(crm, op2) RK_CPU_SYSREG(3, 0, 0, (crm), (op2))
#define ID_AA64PFR0 ID(4, 0)
#define ID_AA64PFR1 ID(4, 1)
#define ID_AA64ZFR0 ID(4, 4)
#define ID_AA64SMFR0 ID(4, 5)
#define ID_AA64DFR0 ID(5, 0)
#define ID_AA64ISAR3 ID(6, 3)
#define ID_AA64MMFR3 ID(7, 3)

/* ID_AA64PFR0_EL1 */
#define PFR0_RAS 28
#define PFR0_SVE 32
#define PFR0_MPAM 40
#define PFR0_AMU 44
/* ID_AA64PFR1_EL1 */
#define PFR1_RAS_FRAC 12
#define PFR1_MPAM_FRAC 16
#define PFR1_SME 24
/* ID_AA64DFR0_EL1 */
#define DFR0_TRACEVER 4
#define DFR0_PMUVER 8
#define DFR0_BRPS 12
#define DFR0_WRPS 20
#define DFR0_CTX_CMPS 28
#define DFR0_PMSVER 32
#define DFR0_TRACEFILT 40
#define DFR0_TRACEBUFFER 44
#define DFR0_BRBE 52
#define DFR0_EXTTRCBUFF 56
/* ID_AA64MMFR3_EL1 */
#define MMFR3_S2PIE 12
#define MMFR3_S2POE 20

bool realm_idreg_space(uint32_t enc)
{
	return (enc & ~(uint32_t)0x1f) == (RK_CPU_SYSREG(3, 0, 0, 4, 0) & ~(uint32_t)0x1f);
}

uint64_t realm_idreg(const struct rk_cpu_sysreg_ctx *c, uint32_t enc, uint64_t raw)
{
	uint64_t v = raw;

	switch (enc) {
	case ID_AA64PFR0:
		v &= ~(FIELD(PFR0_RAS) | FIELD(PFR0_MPAM) | FIELD(PFR0_AMU));
		if (!c->sve)
			v &= ~FIELD(PFR0_SVE);
		return v;
	case ID_AA64PFR1:
		return v & ~(FIELD(PFR1_RAS_FRAC) | FIELD(PFR1_MPAM_FRAC) | FIELD(PFR1_SME));
	case ID_AA64ZFR0:
		return c->sve ? v : 0;
	case ID_AA64SMFR0:
	case ID_AA64ISAR3:
		return 0;
	case ID_AA64DFR0: {
		uint64_t ctx = (v >> DFR0_CTX_CMPS) & 0xf;

		v &= ~(FIELD(DFR0_TRACEVER) | FIELD(DFR0_BRPS) | FIELD(DFR0_WRPS) | FIELD(DFR0_CTX_CMPS) |
		       FIELD(DFR0_PMSVER) | FIELD(DFR0_TRACEFILT) | FIELD(DFR0_TRACEBUFFER) |
		       FIELD(DFR0_BRBE) | FIELD(DFR0_EXTTRCBUFF));
		if (!c->pmu)
			v &= ~FIELD(DFR0_PMUVER);
		if (ctx > c->num_bps)
			ctx = c->num_bps;
		return v | (uint64_t)(c->num_bps & 0xf) << DFR0_BRPS |
		       (uint64_t)(c->num_wps & 0xf) << DFR0_WRPS | ctx << DFR0_CTX_CMPS;
	}
	case ID_AA64MMFR3:
		return v & ~(FIELD(MMFR3_S2PIE) | FIELD(MMFR3_S2POE));
	default:
		return v;
	}
}

static bool realm_idreg_handler(struct rk_cpu_sysreg *acc, struct rk_cpu_sysreg_ctx *c)
{
	uint32_t enc = RK_CPU_SYSREG_OF(acc);

	if (!acc->is_read || acc->el != 1 || !realm_idreg_space(enc))
		return false;
	acc->value = realm_idreg(c, enc, acc->known ? acc->value : 0);
	return true;
}

/* The GICv3 CPU interface (vgic.c): a trapped read leaves X[Rt] as it is (the
 * host's value goes there at the next entry: rec_run.c). */
static bool realm_icc_handler(struct rk_cpu *cpu, struct rk_cpu_sysreg *acc, struct rk_cpu_sysreg_ctx *c)
{
	switch (vgic_icc_sysreg(c->ich, *c->virq != 0, acc)) {
	case VGIC_ICC_DONE:
		return true;
	case VGIC_ICC_RECHECK:
		acc->stop = true;
		return true;
	case VGIC_ICC_TRAP:
		if (acc->is_read && acc->rt != 31 && rk_cpu_get_reg(cpu, RK_CPU_REG_X(acc->rt), &acc->value))
			return false;
		c->icc_trap = 1;
		acc->stop = true;
		return true;
	case VGIC_ICC_NOT:
	default:
		return false;
	}
}

/* The engine's sysreg handler: every register the RMM emulates for the realm. */
static bool realm_sysreg_handler(struct rk_cpu *cpu, struct rk_cpu_sysreg *acc, struct rk_cpu_sysreg_ctx *c)
{
	if (acc->op0 == 3 && acc->op1 == 3 && acc->crn == 14)
		return c->timer && rk_gtimer_sysreg(c->timer, acc);
	if (acc->op0 == 3 && acc->op1 == 0 && (acc->crn == 12 || acc->crn == 4))
		return c->ich && c->virq && realm_icc_handler(cpu, acc, c);
	return realm_idreg_handler(acc, c);
}

int realm_idregs_attach(struct rk_cpu *cpu, struct rk_cpu_sysreg_ctx *c)
{
	int ret;

	if (rk_cpu_mode(cpu) != RK_CPU_MODE_STAGE2)
		return 0;
	ret = rk_cpu_set_sysreg_handler(cpu, realm_sysreg_handler, c);
	for (unsigned int crm = 4; !ret && crm <= 7; crm++)
		for (unsigned int op2 = 0; !ret && op2 <= 7; op2++)
			ret = rk_cpu_trap_sysreg(cpu, ID(crm, op2), true);
	if (!ret && c->timer)
		ret = rk_gtimer_trap(cpu);
	return ret;
}
