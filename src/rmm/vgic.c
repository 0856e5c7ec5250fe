/* SPDX-License-Identifier: MIT */
/* The RMM's part of the realm's GICv3 virtual CPU interface (vgic.h). */
#include <string.h>

#include "vgic.h"

#include "platform/vcpuif.h"

static _Thread_local struct plat_ich *cur_cpu;

void vgic_set_cpu(struct plat_ich *ich)
{
	cur_cpu = ich;
}

struct plat_ich *vgic_cpu(void)
{
	return cur_cpu;
}

bool vgic_lrs_valid(const struct plat_ich *s)
{
	unsigned int n = plat_ich_nr_lrs(s);

	for (unsigned int i = 0; i < n; i++) {
		uint64_t lr = s->lr[i];

		if (ich_lr_state(lr) == ICH_LR_STATE_INVALID)
			continue;
		if (lr & ICH_LR_HW)
			return false;
		for (unsigned int j = i + 1; j < n; j++)
			if (ich_lr_state(s->lr[j]) != ICH_LR_STATE_INVALID &&
			    ich_lr_vintid(s->lr[j]) == ich_lr_vintid(lr))
				return false;
	}
	return true;
}

void vgic_take(struct plat_ich *rec_state, const struct plat_ich *cpu, uint64_t vtr)
{
	if (cpu)
		*rec_state = *cpu;
	else
		plat_ich_reset(rec_state, vtr);
}

void vgic_give_back(struct plat_ich *cpu, const struct plat_ich *rec_state)
{
	*cpu = *rec_state;
	cpu->hcr &= ~ICH_HCR_EN;
}

enum vgic_icc vgic_icc_sysreg(struct plat_ich *s, bool virq, struct rk_cpu_sysreg *acc)
{
	uint32_t enc = (uint32_t)SYSREG_ENC(acc->op0, acc->op1, acc->crn, acc->crm, acc->op2);

	if (acc->el != 1 || !plat_icv_space(enc))
		return VGIC_ICC_NOT;
	switch (plat_icv_access(s, enc, acc->is_read, &acc->value)) {
	case PLAT_ICV_DONE:
		return plat_ich_maint(s) || plat_icv_virq(s) != virq ? VGIC_ICC_RECHECK : VGIC_ICC_DONE;
	case PLAT_ICV_TRAP:
		return VGIC_ICC_TRAP;
	case PLAT_ICV_UNDEF:
	default:
		return VGIC_ICC_NOT;
	}
}
