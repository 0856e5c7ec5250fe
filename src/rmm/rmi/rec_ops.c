/* SPDX-License-Identifier: MIT */
/* Host completions of realm requests: RMI_PSCI_COMPLETE and RMI_RTT_SET_RIPAS. */
#include <sched.h>
#include <string.h>

#include "granule.h"
#include "realm.h"
#include "rec_engine.h"
#include "run_lock.h"
#include "rmi/rmi_handlers_gen.h"
#include "realmkit/arch/psci.h"
#include "realmkit/arch/sysreg.h"

uint64_t rmi_psci_complete(struct rmm *rmm, const struct rmi_psci_complete_args *args,
			   struct rmi_psci_complete_res *res)
{
	struct granule_req reqs[2] = {
		{ args->calling_rec, GRANULE_STATE_REC, NULL },
		{ args->target_rec, GRANULE_STATE_REC, NULL },
	};
	uint64_t status = args->status, answer, ret;
	uint32_t want;

	(void)res;
	if ((args->calling_rec | args->target_rec) & (RK_GRANULE_SIZE - 1))
		return rmi_result(RMI_ERROR_INPUT, 0);
retry:
	if (!find_lock_granules(rmm, reqs, 2))
		return rmi_result(RMI_ERROR_INPUT, 0);
	ret = rmi_result(RMI_ERROR_INPUT, 0);
	struct rec *caller = rec_of(rmm, reqs[0].g), *target = rec_of(rmm, reqs[1].g);
	uint64_t t = caller->psci_target_mpidr & ~(MPIDR_EL1_RES1 | MPIDR_EL1_U);
	uint64_t fn = PSCI_FN(caller->psci_fid);

	if (reqs[0].g->refcount || caller->pending != REC_PENDING_PSCI || caller->rd != target->rd)
		goto out;
	if (!rec_mpidr_index((t & 0xffffff) | ((t >> 32) & 0xff) << 24, &want) || want != target->index)
		goto out;
	if (fn == PSCI_FN(PSCI_CPU_ON_64)) {
		if (status != (uint64_t)PSCI_RET_SUCCESS && status != (uint64_t)PSCI_RET_DENIED)
			goto out;
		if (status == (uint64_t)PSCI_RET_DENIED && rec_runnable(target))
			goto out;
		if (status == (uint64_t)PSCI_RET_SUCCESS && !rec_runnable(target) && reqs[1].g->refcount) {
			/* the target switched itself off and is still leaving REC_ENTER:
			 * its registers are not ours to reset until it is out */
			granule_unlock(reqs[0].g);
			granule_unlock(reqs[1].g);
			sched_yield();
			goto retry;
		}
		if (status == (uint64_t)PSCI_RET_DENIED) {
			answer = (uint64_t)PSCI_RET_DENIED;
		} else if (rec_runnable(target)) {
			answer = (uint64_t)PSCI_RET_ALREADY_ON;
		} else {
			rec_reset(target, caller->psci_entry, caller->psci_context);
			rec_set_runnable(target, true);
			answer = (uint64_t)PSCI_RET_SUCCESS;
		}
	} else if (fn == PSCI_FN(PSCI_AFFINITY_INFO_64)) {
		if (status != (uint64_t)PSCI_RET_SUCCESS)
			goto out;
		answer = rec_runnable(target) ? PSCI_AFF_ON : PSCI_AFF_OFF;
	} else {
		goto out;
	}
	rec_set_gpr(caller, 0, answer);
	for (unsigned int i = 1; i <= 3; i++)
		rec_set_gpr(caller, i, 0);
	caller->pending = REC_PENDING_NONE;
	ret = rmi_result(RMI_SUCCESS, 0);
out:
	granule_unlock(reqs[0].g);
	granule_unlock(reqs[1].g);
	return ret;
}

/* The RIPAS an entry gets for a request, or false to stop the sweep here. */
static bool ripas_update(uint64_t e, int level, enum rmi_ripas want, bool change_destroyed, uint64_t *out,
			 bool *unmapped)
{
	enum s2tte_kind k = s2tte_kind(e, level);
	enum rmi_ripas cur;

	*unmapped = false;
	if (k != S2TTE_UNASSIGNED && k != S2TTE_ASSIGNED)
		return false;
	cur = s2tte_ripas(e, level);
	if (cur == want) {
		*out = e;
		return true;
	}
	if (want == RMI_RIPAS_RAM && cur == RMI_RIPAS_DESTROYED && !change_destroyed)
		return false;
	if (k == S2TTE_UNASSIGNED) {
		*out = s2tte_unassigned(want);
	} else {
		*out = s2tte_assigned(s2tte_oa(e), level, want);
		*unmapped = cur == RMI_RIPAS_RAM; /* a valid mapping goes away */
	}
	return true;
}

uint64_t rmi_rtt_set_ripas(struct rmm *rmm, const struct rmi_rtt_set_ripas_args *args,
			   struct rmi_rtt_set_ripas_res *res)
{
	struct granule_req reqs[2] = {
		{ args->rd, GRANULE_STATE_RD, NULL },
		{ args->rec, GRANULE_STATE_REC, NULL },
	};
	uint64_t base = args->base, top = args->top, addr, ret;
	struct rtt_walk w;

	if (top <= base || top & (RK_GRANULE_SIZE - 1))
		return rmi_result(RMI_ERROR_INPUT, 0);
	if (args->rd == args->rec || !find_lock_granules(rmm, reqs, 2))
		return rmi_result(RMI_ERROR_INPUT, 0);
	struct rd *rd = rd_of(rmm, reqs[0].g);
	struct rec *rec = rec_of(rmm, reqs[1].g);
	struct s2tt_ctx s2 = rd->s2;
	if (reqs[1].g->refcount || rec->rd != args->rd) {
		ret = rmi_result(RMI_ERROR_REC, 0);
		goto out_unlock;
	}
	if (rec->pending != REC_PENDING_RIPAS || base != rec->ripas_addr || top > rec->ripas_top) {
		ret = rmi_result(RMI_ERROR_INPUT, 0);
		goto out_unlock;
	}
	/* RD -> run lock -> RTTs: no engine of the realm runs while mappings go away */
	realm_run_lock(rd);
	s2tt_walk_lock(rmm, &s2, base, S2_MAX_LEVEL, &w);
	if (!s2tt_aligned(base, w.level)) {
		ret = rmi_error_rtt(w.level);
		goto out_walk;
	}
	bool unmapped_any = false;
	addr = base;
	for (unsigned int i = w.idx; i < S2_ENTRIES && addr < top; i++) {
		uint64_t sz = s2_level_size(w.level), ne;
		bool unmapped;
		if (addr + sz > top || !ripas_update(w.table[i], w.level, (enum rmi_ripas)rec->ripas_value,
						     rec->ripas_flags & 1, &ne, &unmapped))
			break;
		w.table[i] = ne;
		unmapped_any |= unmapped;
		addr += sz;
	}
	if (addr == base) {
		ret = rmi_error_rtt(w.level);
		goto out_walk;
	}
	if (unmapped_any)
		realm_s2_changed(rd);
	rec->ripas_addr = addr;
	res->out_top = addr;
	ret = rmi_result(RMI_SUCCESS, 0);
out_walk:
	granule_unlock(w.g);
	realm_run_unlock(rd);
out_unlock:
	granule_unlock(reqs[0].g);
	granule_unlock(reqs[1].g);
	return ret;
}
