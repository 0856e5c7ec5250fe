/* SPDX-License-Identifier: MIT */
/*
 * A REC outside its run loop (rec_engine.h): its engine and registers, the
 * realm memory the RMM reads and writes for it, and locking it with its RD.
 */
#include <string.h>

#include "realmkit/cpu.h"
#include "realmkit/arch/esr.h"
#include "realmkit/arch/sysreg.h"
#include "realmkit/platform.h"
#include "granule.h"
#include "rec_engine.h"

void rec_free_engine(struct rec *rec)
{
	rk_cpu_destroy(rec->cpu);
	rec->cpu = NULL;
}

struct granule *lock_rec_and_rd(struct rmm *rmm, uint64_t rec_pa, enum granule_state state,
				struct granule **g_rd)
{
	struct granule_req reqs[2];
	struct granule *g = find_lock_granule(rmm, rec_pa, state);
	uint64_t rd;

	if (!g)
		return NULL;
	rd = rec_of(rmm, g)->rd;
	granule_unlock(g);
	reqs[0] = (struct granule_req){ rec_pa, state, NULL };
	reqs[1] = (struct granule_req){ rd, GRANULE_STATE_RD, NULL };
	if (!find_lock_granules(rmm, reqs, 2))
		return NULL;
	if (rec_of(rmm, reqs[0].g)->rd != rd) { /* cannot change while PARTIAL/REC, but be sure */
		granule_unlock(reqs[0].g);
		granule_unlock(reqs[1].g);
		return NULL;
	}
	*g_rd = reqs[1].g;
	return reqs[0].g;
}

/* ---- register access, engine or not ---- */

void rec_set_gpr(struct rec *rec, unsigned int n, uint64_t v)
{
	if (rec->cpu)
		(void)rk_cpu_set_reg(rec->cpu, RK_CPU_REG_X(n), v);
	else
		rec->gprs[n] = v;
}

uint64_t rec_get_gpr(struct rec *rec, unsigned int n)
{
	uint64_t v = 0;

	if (rec->cpu)
		(void)rk_cpu_get_reg(rec->cpu, RK_CPU_REG_X(n), &v);
	else
		v = rec->gprs[n];
	return v;
}

void rec_set_pc(struct rec *rec, uint64_t pc)
{
	if (rec->cpu)
		(void)rk_cpu_set_reg(rec->cpu, RK_CPU_REG_PC, pc);
	else
		rec->pc = pc;
}

void rec_reset(struct rec *rec, uint64_t pc, uint64_t x0)
{
	if (rec->cpu) {
		uint64_t zero[RK_CPU_NUM_GPRS] = { 0 };
		zero[0] = x0;
		(void)rk_cpu_set_gprs(rec->cpu, zero);
		(void)rk_cpu_set_reg(rec->cpu, RK_CPU_REG_PSTATE, PSTATE_EL1H_DAIF);
		(void)rk_cpu_set_reg(rec->cpu, RK_CPU_REG_SCTLR_EL1, SCTLR_EL1_RESET);
		(void)rk_cpu_set_reg(rec->cpu, RK_CPU_REG_PC, pc);
	} else {
		memset(rec->gprs, 0, sizeof(rec->gprs));
		rec->gprs[0] = x0;
		rec->pc = pc;
		rec->pstate = PSTATE_EL1H_DAIF;
	}
}

/* ---- stage 2 as the realm sees it ---- */

enum ipa_resolve realm_ipa_copy(struct rmm *rmm, const struct s2tt_ctx *s2, uint64_t ipa, void *buf,
				size_t len, bool to_realm, int *level)
{
	struct rtt_walk w;
	enum ipa_resolve res;

	if (!s2tt_ipa_protected(s2, ipa))
		return IPA_EMPTY;
	s2tt_walk_lock(rmm, s2, ipa, S2_MAX_LEVEL, &w);
	uint64_t e = w.table[w.idx];
	enum s2tte_kind k = s2tte_kind(e, w.level);
	enum rmi_ripas ripas = s2tte_ripas(e, w.level);
	if (k == S2TTE_ASSIGNED && ripas == RMI_RIPAS_RAM) {
		uint64_t pa = s2tte_oa(e) + (ipa & (s2_level_size(w.level) - 1)), gidx = 0;

		/* under the leaf RTT's lock: the page cannot leave the realm meanwhile */
		plat_pa_to_gidx(rmm->plat, pa, &gidx);
		uint8_t *p = plat_gidx_ptr(rmm->plat, gidx) + (pa & (RK_GRANULE_SIZE - 1));
		if (to_realm)
			memcpy(p, buf, len);
		else
			memcpy(buf, p, len);
		res = IPA_MAPPED;
	} else if (ripas == RMI_RIPAS_EMPTY) {
		res = IPA_EMPTY;
	} else {
		res = IPA_UNMAPPED;
	}
	*level = w.level;
	granule_unlock(w.g);
	return res;
}

void realm_code_written(struct rd *rd, uint64_t ipa)
{
	rd->code_log[rd->code_gen % REALM_CODE_LOG] = ipa & ~(uint64_t)(RK_GRANULE_SIZE - 1);
	rd->code_gen++;
}

void rec_exit_s2_abort(struct rmi_rec_exit *exit, uint64_t ipa, int level)
{
	exit->exit_reason = RMI_EXIT_SYNC;
	exit->esr = ESR_EC(ESR_EC_DABT_LOW) | ESR_FSC_TRANS(level);
	exit->far = 0;
	exit->hpfar = (ipa >> 12) << 4;
}
