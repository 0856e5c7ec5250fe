/* SPDX-License-Identifier: MIT */
/* RMM-level commands: VERSION, FEATURES, RMM_CONFIG_*, RMM_ACTIVATE, tracking, GPT. */
#include <string.h>

#include "rmi/rmi_handlers_gen.h"
#include "rmm.h"

void rmi_version(struct rmm *rmm, const uint64_t *a, uint64_t *r)
{
	(void)rmm;
	/* This RMM implements exactly one revision: lower == higher. */
	r[1] = RMI_ABI_VERSION;
	r[2] = RMI_ABI_VERSION;
	r[0] = rmi_result(a[0] == RMI_ABI_VERSION ? RMI_SUCCESS : RMI_ERROR_INPUT, 0);
}

void rmi_features(struct rmm *rmm, const uint64_t *a, uint64_t *r)
{
	r[1] = a[0] < 5 ? rmm->feat.reg[a[0]] : 0;
	r[0] = rmi_result(RMI_SUCCESS, 0);
}

/* Common checks of the config pointer: aligned, DRAM, NS. */
static bool config_ptr_ok(struct rmm *rmm, uint64_t pa)
{
	return pa && !(pa & (RK_GRANULE_SIZE - 1)) && plat_pa_is_ns(rmm->plat, pa);
}

void rmi_rmm_config_set(struct rmm *rmm, const uint64_t *a, uint64_t *r)
{
	struct rmi_rmm_config cfg;

	if (!config_ptr_ok(rmm, a[0]) || !rmm_ns_read(rmm, a[0], &cfg, sizeof(cfg)) ||
	    cfg.rmi_granule_size != RMI_GRANULE_SIZE_4KB || cfg.tracking_region_size != 0) {
		r[0] = rmi_result(RMI_ERROR_INPUT, 0);
		return;
	}
	rmm->config_granule_size = (uint32_t)cfg.rmi_granule_size;
	rmm->config_tracking_size = (uint32_t)cfg.tracking_region_size;
	r[0] = rmi_result(RMI_SUCCESS, 0);
}

void rmi_rmm_config_get(struct rmm *rmm, const uint64_t *a, uint64_t *r)
{
	static _Thread_local struct rmi_rmm_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.rmi_granule_size = rmm->config_granule_size;
	cfg.tracking_region_size = rmm->config_tracking_size;
	if (!config_ptr_ok(rmm, a[0]) || !rmm_ns_write(rmm, a[0], &cfg, sizeof(cfg))) {
		r[0] = rmi_result(RMI_ERROR_INPUT, 0);
		return;
	}
	r[0] = rmi_result(RMI_SUCCESS, 0);
}

void rmi_rmm_activate(struct rmm *rmm, const uint64_t *a, uint64_t *r)
{
	int expected = RMM_STATE_INIT;

	(void)a;
	/* the gate admits only INIT; the CAS settles two racing activations */
	if (!atomic_compare_exchange_strong(&rmm->state, &expected, RMM_STATE_ACTIVE)) {
		r[0] = rmi_result(RMI_ERROR_GLOBAL, 0);
		return;
	}
	r[0] = rmi_result(RMI_SUCCESS, 0);
}

void rmi_granule_tracking_get(struct rmm *rmm, const uint64_t *a, uint64_t *r)
{
	const struct platform *p = rmm->plat;
	uint64_t base = a[0], top = a[1], max_pa = 1ULL << p->pa_bits, end = top;
	uint64_t gidx = 0;

	if (base > max_pa || top > max_pa || base > top || top - base < RK_GRANULE_SIZE ||
	    (base | top) & (RK_GRANULE_SIZE - 1)) {
		r[0] = rmi_result(RMI_ERROR_INPUT, 0);
		return;
	}
	if (plat_pa_to_gidx(p, base, &gidx)) {
		const struct plat_bank *b = plat_gidx_bank(p, gidx);
		if (b->base + b->size < end)
			end = b->base + b->size;
		r[1] = RMI_MEM_CATEGORY_CONVENTIONAL;
		r[2] = RMI_TRACKING_FINE;
	} else {
		/* a hole: the answer holds up to the next bank */
		for (unsigned int i = 0; i < p->nbanks; i++)
			if (p->banks[i].base > base && p->banks[i].base < end)
				end = p->banks[i].base;
		r[1] = RMI_MEM_CATEGORY_CONVENTIONAL;
		r[2] = RMI_TRACKING_NONE;
	}
	r[3] = end;
	r[0] = rmi_result(RMI_SUCCESS, 0);
}

void rmi_gpt_l1_create(struct rmm *rmm, const uint64_t *a, uint64_t *r)
{
	uint64_t l0gpt = 1ULL << (30 + ((rmm->feat.reg[1] & RMI_FR1_L0GPTSZ_MASK) >> RMI_FR1_L0GPTSZ_SHIFT));

	/* The GPT of this platform is fully populated at boot: L1 tables always exist. */
	r[0] = rmi_result(a[0] & (l0gpt - 1) ? RMI_ERROR_INPUT : RMI_ERROR_GPT, 0);
}
