/* SPDX-License-Identifier: MIT */
/*
 * The RSI commands (but the attestation ones, attest.c), as rsi_handle()
 * (smc.c) or the engine's fast path (rec_run.c) calls them from the generated
 * table: with the realm's run lock held, never with a granule lock.
 */
#include <stdio.h>
#include <string.h>

#include "rec_engine.h"
#include "rmi/rmi_handlers_gen.h"
#include "rsi/rsi.h"

#define RSI_HOST_CALL_ALIGN 256u

enum ipa_resolve rsi_realm_copy(struct rsi_call *c, uint64_t ipa, void *buf, size_t len, bool to_realm)
{
	int level = 3;
	enum ipa_resolve res = realm_ipa_copy(c->rmm, &c->s2, ipa, buf, len, to_realm, &level);

	if (res == IPA_UNMAPPED) {
		rec_exit_s2_abort(c->exit, ipa, level);
		c->to_host = true;
		c->retry = true;
	} else if (res == IPA_MAPPED && to_realm) {
		realm_code_written(call_rd(c), ipa);
	}
	return res;
}

void rsi_version(struct rmm *rmm, struct rsi_call *c)
{
	(void)rmm;
	bool ok = c->x[1] == 0x10000 || c->x[1] == RSI_ABI_VERSION;
	c->x[0] = ok ? RSI_SUCCESS : RSI_ERROR_INPUT;
	c->x[1] = ok ? c->x[1] : RSI_ABI_VERSION;
	c->x[2] = RSI_ABI_VERSION;
}

void rsi_features(struct rmm *rmm, struct rsi_call *c)
{
	(void)rmm;
	c->x[0] = RSI_SUCCESS;
	c->x[1] = 0; /* FR0: no device assignment, no MRO, no ATS */
}

void rsi_measurement_read(struct rmm *rmm, struct rsi_call *c)
{
	(void)rmm;
	uint64_t idx = c->x[1];
	struct rd *rd = call_rd(c);

	if (idx > RMM_NUM_REMS) {
		c->x[0] = RSI_ERROR_INPUT;
		return;
	}
	const uint8_t *m = idx == 0 ? rd->rim : rd->rem[idx - 1];
	memcpy(&c->x[1], m, RK_MEASUREMENT_MAX);
	c->x[0] = RSI_SUCCESS;
}

void rsi_measurement_extend(struct rmm *rmm, struct rsi_call *c)
{
	(void)rmm;
	uint64_t idx = c->x[1], size = c->x[2];
	struct rd *rd = call_rd(c);
	uint8_t value[RK_MEASUREMENT_MAX];

	if (idx == 0 || idx > RMM_NUM_REMS || size > RK_MEASUREMENT_MAX) {
		c->x[0] = RSI_ERROR_INPUT;
		return;
	}
	memcpy(value, &c->x[3], sizeof(value));
	c->x[0] =
		rk_rem_extend(rd->hash_algo, rd->rem[idx - 1], value, size) ? RSI_ERROR_UNKNOWN : RSI_SUCCESS;
}

void rsi_realm_config(struct rmm *rmm, struct rsi_call *c)
{
	static _Thread_local struct rsi_realm_config cfg;
	uint64_t ipa = c->x[1];
	struct rd *rd = call_rd(c);

	if (ipa & (RK_GRANULE_SIZE - 1) || !s2tt_ipa_protected(&c->s2, ipa)) {
		c->x[0] = RSI_ERROR_INPUT;
		return;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.ipa_width = rd->s2.s2sz;
	cfg.hash_algo = rd->hash_algo;
	cfg.gicv3_vtr = rmm->plat->ich_vtr; /* ICH_VTR_EL2 (TF-RMM: gic_get_ich_vtr()) */
	memcpy(cfg.rpv, rd->rpv, sizeof(cfg.rpv));
	switch (rsi_realm_copy(c, ipa, &cfg, sizeof(cfg), true)) {
	case IPA_MAPPED:
		c->x[0] = RSI_SUCCESS;
		break;
	case IPA_EMPTY:
		c->x[0] = RSI_ERROR_INPUT;
		break;
	case IPA_UNMAPPED:
		break; /* the host maps it; the realm re-issues the call */
	}
}

static bool range_in_par(const struct s2tt_ctx *s2, uint64_t base, uint64_t top)
{
	return !((base | top) & (RK_GRANULE_SIZE - 1)) && top > base &&
	       s2tt_ipa_protected(s2, top - RK_GRANULE_SIZE);
}

void rsi_ipa_state_set(struct rmm *rmm, struct rsi_call *c)
{
	uint64_t base = c->x[1], top = c->x[2], ripas = c->x[3], flags = c->x[4];

	(void)rmm;
	if (ripas > RMI_RIPAS_RAM || !range_in_par(&c->s2, base, top)) {
		c->x[0] = RSI_ERROR_INPUT;
		return;
	}
	c->rec->pending = REC_PENDING_RIPAS;
	c->rec->ripas_base = base;
	c->rec->ripas_top = top;
	c->rec->ripas_addr = base;
	c->rec->ripas_value = (uint8_t)ripas;
	c->rec->ripas_flags = flags & 1; /* CHANGE_DESTROYED */
	c->exit->exit_reason = RMI_EXIT_RIPAS_CHANGE;
	c->exit->ripas_base = base;
	c->exit->ripas_top = top;
	c->exit->ripas_value = ripas;
	c->to_host = true;
}

void rsi_ipa_state_get(struct rmm *rmm, struct rsi_call *c)
{
	uint64_t base = c->x[1], end = c->x[2], addr = base;
	enum rmi_ripas first = RMI_RIPAS_EMPTY;

	if (!range_in_par(&c->s2, base, end)) {
		c->x[0] = RSI_ERROR_INPUT;
		return;
	}
	while (addr < end) {
		struct rtt_walk w;
		s2tt_walk_lock(rmm, &c->s2, addr, S2_MAX_LEVEL, &w);
		unsigned int i;
		for (i = w.idx; i < S2_ENTRIES && addr < end; i++) {
			uint64_t e = w.table[i];
			enum rmi_ripas rp = s2tte_kind(e, w.level) == S2TTE_TABLE ? (enum rmi_ripas) ~0u
										  : s2tte_ripas(e, w.level);
			if (addr == base)
				first = rp;
			if (rp != first)
				break;
			addr = (addr & ~(s2_level_size(w.level) - 1)) + s2_level_size(w.level);
		}
		granule_unlock(w.g);
		if (i < S2_ENTRIES && addr < end)
			break;
	}
	c->x[0] = RSI_SUCCESS;
	c->x[1] = addr < end ? addr : end;
	c->x[2] = first;
}

void rsi_host_call(struct rmm *rmm, struct rsi_call *c)
{
	static _Thread_local struct rsi_host_call hc;
	uint64_t ipa = c->x[1];

	(void)rmm;
	if (ipa & (RSI_HOST_CALL_ALIGN - 1) || !s2tt_ipa_protected(&c->s2, ipa)) {
		c->x[0] = RSI_ERROR_INPUT;
		return;
	}
	switch (rsi_realm_copy(c, ipa, &hc, sizeof(hc), false)) {
	case IPA_EMPTY:
		c->x[0] = RSI_ERROR_INPUT;
		return;
	case IPA_UNMAPPED:
		return;
	case IPA_MAPPED:
		break;
	}
	c->rec->pending = REC_PENDING_HOST_CALL;
	c->rec->host_call_ipa = ipa;
	c->exit->exit_reason = RMI_EXIT_HOST_CALL;
	c->exit->imm = hc.imm & 0xffff;
	memcpy(c->exit->gprs, hc.gprs, sizeof(hc.gprs));
	c->to_host = true;
}
