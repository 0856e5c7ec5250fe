/* SPDX-License-Identifier: MIT */
/* RMM-level commands: VERSION, FEATURES, RMM_CONFIG_*, RMM_ACTIVATE, tracking, GPT. */
#include <string.h>

#include "ns.h"
#include "rmi/rmi_handlers_gen.h"
#include "rmm.h"

uint64_t rmi_version(struct rmm *rmm, const struct rmi_version_args *args, struct rmi_version_res *res)
{
	(void)rmm;
	/* This RMM implements exactly one revision: lower == higher. */
	res->lower = RMI_ABI_VERSION;
	res->higher = RMI_ABI_VERSION;
	return rmi_result(args->req == RMI_ABI_VERSION ? RMI_SUCCESS : RMI_ERROR_INPUT, 0);
}

uint64_t rmi_features(struct rmm *rmm, const struct rmi_features_args *args, struct rmi_features_res *res)
{
	res->value = args->index < 5 ? rmm->feat.reg[args->index] : 0;
	return rmi_result(RMI_SUCCESS, 0);
}

/* Common checks of the config pointer: aligned, DRAM, NS. */
static bool config_ptr_ok(struct rmm *rmm, uint64_t pa)
{
	return pa && !(pa & (RK_GRANULE_SIZE - 1)) && plat_pa_is_ns(rmm->plat, pa);
}

uint64_t rmi_rmm_config_set(struct rmm *rmm, const struct rmi_rmm_config_set_args *args,
			    struct rmi_rmm_config_set_res *res)
{
	struct rmi_rmm_config cfg;

	(void)res;
	if (!config_ptr_ok(rmm, args->config) || !rmm_ns_read(rmm, args->config, &cfg, sizeof(cfg)) ||
	    cfg.rmi_granule_size != RMI_GRANULE_SIZE_4KB || cfg.tracking_region_size != 0)
		return rmi_result(RMI_ERROR_INPUT, 0);
	rmm->config_granule_size = (uint32_t)cfg.rmi_granule_size;
	rmm->config_tracking_size = (uint32_t)cfg.tracking_region_size;
	return rmi_result(RMI_SUCCESS, 0);
}

uint64_t rmi_rmm_config_get(struct rmm *rmm, const struct rmi_rmm_config_get_args *args,
			    struct rmi_rmm_config_get_res *res)
{
	static _Thread_local struct rmi_rmm_config cfg;

	(void)res;
	memset(&cfg, 0, sizeof(cfg));
	cfg.rmi_granule_size = rmm->config_granule_size;
	cfg.tracking_region_size = rmm->config_tracking_size;
	if (!config_ptr_ok(rmm, args->config) || !rmm_ns_write(rmm, args->config, &cfg, sizeof(cfg)))
		return rmi_result(RMI_ERROR_INPUT, 0);
	return rmi_result(RMI_SUCCESS, 0);
}

uint64_t rmi_rmm_activate(struct rmm *rmm, const struct rmi_rmm_activate_args *args,
			  struct rmi_rmm_activate_res *res)
{
	int expected = RMM_STATE_INIT;

	(void)args;
	(void)res;
	/* the gate admits only INIT; the CAS settles two racing activations */
	if (!atomic_compare_exchange_strong(&rmm->state, &expected, RMM_STATE_ACTIVE))
		return rmi_result(RMI_ERROR_GLOBAL, 0);
	return rmi_result(RMI_SUCCESS, 0);
}

uint64_t rmi_granule_tracking_get(struct rmm *rmm, const struct rmi_granule_tracking_get_args *args,
				  struct rmi_granule_tracking_get_res *res)
{
	const struct platform *p = rmm->plat;
	uint64_t base = args->base, top = args->top, max_pa = 1ULL << p->pa_bits, end = top;
	uint64_t gidx = 0;

	if (base > max_pa || top > max_pa || base > top || top - base < RK_GRANULE_SIZE ||
	    (base | top) & (RK_GRANULE_SIZE - 1))
		return rmi_result(RMI_ERROR_INPUT, 0);
	if (plat_pa_to_gidx(p, base, &gidx)) {
		const struct plat_bank *b = plat_gidx_bank(p, gidx);
		if (b->base + b->size < end)
			end = b->base + b->size;
		res->category = RMI_MEM_CATEGORY_CONVENTIONAL;
		res->state = RMI_TRACKING_FINE;
	} else {
		/* a hole: the answer holds up to the next bank */
		for (unsigned int i = 0; i < p->nbanks; i++)
			if (p->banks[i].base > base && p->banks[i].base < end)
				end = p->banks[i].base;
		res->category = RMI_MEM_CATEGORY_CONVENTIONAL;
		res->state = RMI_TRACKING_NONE;
	}
	res->out_top = end;
	return rmi_result(RMI_SUCCESS, 0);
}

uint64_t rmi_gpt_l1_create(struct rmm *rmm, const struct rmi_gpt_l1_create_args *args,
			   struct rmi_gpt_l1_create_res *res)
{
	uint64_t l0gpt = 1ULL << (30 + ((rmm->feat.reg[1] & RMI_FR1_L0GPTSZ_MASK) >> RMI_FR1_L0GPTSZ_SHIFT));

	(void)res;
	/* The GPT of this platform is fully populated at boot: L1 tables always exist. */
	return rmi_result(args->addr & (l0gpt - 1) ? RMI_ERROR_INPUT : RMI_ERROR_GPT, 0);
}
