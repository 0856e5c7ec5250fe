/* SPDX-License-Identifier: MIT */
/* Realm lifecycle: REALM_CREATE, REALM_ACTIVATE, REALM_TERMINATE, REALM_DESTROY. */
#include <string.h>

#include <openssl/rand.h>

#include "granule.h"
#include "ns.h"
#include "realm.h"
#include "run_lock.h"
#include "vmid.h"
#include "rmi/rmi_handlers_gen.h"

static uint64_t fr(const struct rmm *rmm, unsigned int reg, uint64_t mask, unsigned int shift)
{
	return (rmm->feat.reg[reg] & mask) >> shift;
}

#define FR0(f) fr(rmm, 0, RMI_FR0_##f##_MASK, RMI_FR0_##f##_SHIFT)
#define FR2(f) fr(rmm, 2, RMI_FR2_##f##_MASK, RMI_FR2_##f##_SHIFT)
#define FR3(f) fr(rmm, 3, RMI_FR3_##f##_MASK, RMI_FR3_##f##_SHIFT)
#define FLAG0(p, f) (((p)->flags0 & RMI_REALM_FLAGS0_##f##_MASK) >> RMI_REALM_FLAGS0_##f##_SHIFT)

/* RmiRealmParams validation, in the reference's check order. */
static bool realm_params_valid(const struct rmm *rmm, const struct rmi_realm_params *p)
{
	if (FLAG0(p, LPA2) && !FR0(LPA2))
		return false;
	if (p->s2sz < 32 || p->s2sz > FR0(S2SZ))
		return false;
	if (p->num_bps == 0 || p->num_bps > FR0(NUM_BPS))
		return false;
	if (p->num_wps == 0 || p->num_wps > FR0(NUM_WPS))
		return false;
	if (FLAG0(p, SVE) && (!FR0(SVE_EN) || p->sve_vl > FR0(SVE_VL)))
		return false;
	if (FLAG0(p, PMU) && (!FR0(PMU_EN) || p->pmu_num_ctrs > FR0(PMU_NUM_CTRS)))
		return false;
	if (FLAG0(p, DA) && !FR2(DA))
		return false;
	if (FLAG0(p, MEC_POLICY) > 1)
		return false;
	if (p->rtt_level_start < -1 || p->rtt_level_start > 3 || p->rtt_num_start > S2_MAX_ROOT_TABLES)
		return false;
	if (!s2tt_geometry_valid((unsigned int)p->s2sz, (int)p->rtt_level_start,
				 (unsigned int)p->rtt_num_start, rmm->plat->pa_bits))
		return false;
	if (p->num_aux_planes > FR3(MAX_NUM_AUX_PLANES) || p->ats_plane > p->num_aux_planes)
		return false;
	/* no planes: a per-plane tree or indirect S2AP cannot be asked for */
	if (p->flags1 & (RMI_REALM_FLAGS1_RTT_TREE_PP_MASK | RMI_REALM_FLAGS1_S2AP_ENC_MASK))
		return false;
	if (p->rtt_base & (p->rtt_num_start * RK_GRANULE_SIZE - 1))
		return false;
	return rk_hash_len((unsigned int)p->hash_algo) != 0;
}

static void unlock_all(struct granule_req *reqs, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		granule_unlock(reqs[i].g);
}

/*
 * Failure order (digest §5.1, T2): the params granule (1), its fields (2), the
 * realm ID (3), the VMID (4), the MECID (5), the root RTTs (6), the RD (7).
 * The MEC check is made with the parameters, before anything is allocated: 4
 * and 5 both fail with ERROR_GLOBAL, so the order between them shows only in
 * that a command refused for its MEC policy never holds a VMID, which another
 * REALM_CREATE could have found taken.
 */
uint64_t rmi_realm_create(struct rmm *rmm, const struct rmi_realm_create_args *args,
			  struct rmi_realm_create_res *res)
{
	static _Thread_local struct rmi_realm_params p;
	struct granule_req reqs[FIND_LOCK_MAX];
	uint8_t realm_id[RMM_REALM_ID_SIZE];
	unsigned int n, i;
	uint16_t vmid;
	uint64_t ret;

	(void)res;
	if (args->params & (RK_GRANULE_SIZE - 1) || !rmm_ns_read(rmm, args->params, &p, sizeof(p)))
		return rmi_result(RMI_ERROR_INPUT, 0);
	if (!realm_params_valid(rmm, &p))
		return rmi_result(RMI_ERROR_INPUT, 0);
	/* MEC: this platform has no private MECIDs (FR4.MEC_COUNT == 0) */
	if (FLAG0(&p, MEC_POLICY) == 1)
		return rmi_result(RMI_ERROR_GLOBAL, 0);
	realm_id[0] = 0x01;
	if (RAND_bytes(realm_id + 1, RMM_REALM_ID_SIZE - 1) != 1)
		return rmi_result(RMI_ERROR_GLOBAL, 0);
	if (rmm_vmid_alloc(rmm, &vmid))
		return rmi_result(RMI_ERROR_GLOBAL, 0);
	/* root RTTs (checked first: this also catches an RD aliasing one), then the RD */
	n = (unsigned int)p.rtt_num_start;
	for (i = 0; i < n; i++)
		reqs[i] = (struct granule_req){ p.rtt_base + i * RK_GRANULE_SIZE, GRANULE_STATE_DELEGATED,
						NULL };
	if (args->rd >= p.rtt_base && args->rd - p.rtt_base < n * RK_GRANULE_SIZE) {
		ret = rmi_result(RMI_ERROR_INPUT, 0);
		goto out_vmid;
	}
	reqs[n] = (struct granule_req){ args->rd, GRANULE_STATE_DELEGATED, NULL };
	if (!find_lock_granules(rmm, reqs, n + 1)) {
		ret = rmi_result(RMI_ERROR_INPUT, 0);
		goto out_vmid;
	}

	struct rd *rd = rd_of(rmm, reqs[n].g);
	memset(rd, 0, sizeof(*rd));
	rd->s2.rtt_base = p.rtt_base;
	rd->s2.s2sz = (uint8_t)p.s2sz;
	rd->s2.start_level = (int8_t)p.rtt_level_start;
	rd->s2.num_root = (uint8_t)n;
	rd->state = RMI_REALM_STATE_NEW;
	rd->hash_algo = (uint8_t)p.hash_algo;
	rd->vmid = vmid;
	rd->flags0 = p.flags0;
	rd->num_bps = (uint8_t)p.num_bps;
	rd->num_wps = (uint8_t)p.num_wps;
	memcpy(rd->rpv, p.rpv, sizeof(rd->rpv));
	memcpy(rd->realm_id, realm_id, sizeof(realm_id));
	realm_run_lock_init(rd);
	rk_cpu_tlb_domain_init(&rd->tlb);
	if (rk_rim_init(&p, rd->rim)) {
		realm_run_lock_fini(rd);
		memset(rd, 0, sizeof(*rd));
		ret = rmi_result(RMI_ERROR_GLOBAL, 0);
		goto out_unlock;
	}
	/* root tables: protected half UNASSIGNED EMPTY, unprotected half UNASSIGNED_NS */
	uint64_t half = 1ULL << (p.s2sz - 1), esz = s2_level_size((int)p.rtt_level_start);
	for (i = 0; i < n; i++) {
		uint64_t *t = (uint64_t *)granule_ptr(rmm, reqs[i].g);
		for (unsigned int e = 0; e < S2_ENTRIES; e++) {
			uint64_t ipa = ((uint64_t)i * S2_ENTRIES + e) * esz;
			t[e] = ipa < half ? s2tte_unassigned(RMI_RIPAS_EMPTY) : s2tte_unassigned_ns();
		}
		granule_set_state(reqs[i].g, GRANULE_STATE_RTT);
		granule_set_refcount(reqs[i].g, 0);
	}
	granule_set_state(reqs[n].g, GRANULE_STATE_RD);
	granule_set_refcount(reqs[n].g, 0);
	ret = rmi_result(RMI_SUCCESS, 0);
out_unlock:
	unlock_all(reqs, n + 1);
out_vmid:
	if (ret != rmi_result(RMI_SUCCESS, 0))
		rmm_vmid_free(rmm, vmid);
	return ret;
}

uint64_t rmi_realm_activate(struct rmm *rmm, const struct rmi_realm_activate_args *args,
			    struct rmi_realm_activate_res *res)
{
	struct granule *g = find_lock_granule(rmm, args->rd, GRANULE_STATE_RD);
	uint64_t ret;

	(void)res;
	if (!g)
		return rmi_result(RMI_ERROR_INPUT, 0);
	struct rd *rd = rd_of(rmm, g);
	if (rd->state != RMI_REALM_STATE_NEW) {
		ret = rmi_result(RMI_ERROR_REALM, 0);
		goto out;
	}
	rd->state = RMI_REALM_STATE_ACTIVE;
	ret = rmi_result(RMI_SUCCESS, 0);
out:
	granule_unlock(g);
	return ret;
}

uint64_t rmi_realm_terminate(struct rmm *rmm, const struct rmi_realm_terminate_args *args,
			     struct rmi_realm_terminate_res *res)
{
	struct granule *g = find_lock_granule(rmm, args->rd, GRANULE_STATE_RD);
	uint64_t ret;

	(void)res;
	if (!g)
		return rmi_result(RMI_ERROR_INPUT, 0);
	struct rd *rd = rd_of(rmm, g);
	if (rd->running_recs) {
		ret = rmi_result(RMI_ERROR_REALM, 0);
		goto out;
	}
	rd->state = RMI_REALM_STATE_ZOMBIE;
	ret = rmi_result(RMI_SUCCESS, 0);
out:
	granule_unlock(g);
	return ret;
}

uint64_t rmi_realm_destroy(struct rmm *rmm, const struct rmi_realm_destroy_args *args,
			   struct rmi_realm_destroy_res *res)
{
	struct granule *g = find_lock_granule(rmm, args->rd, GRANULE_STATE_RD);
	struct granule *roots[S2_MAX_ROOT_TABLES];
	unsigned int i, n = 0;
	uint64_t ret;

	(void)res;
	if (!g)
		return rmi_result(RMI_ERROR_INPUT, 0);
	struct rd *rd = rd_of(rmm, g);
	if (g->refcount != 0 || rd->state != RMI_REALM_STATE_ZOMBIE) {
		ret = rmi_result(RMI_ERROR_REALM, 0);
		goto out;
	}
	/* root RTTs after the RD (L3: tree top first) */
	n = rd->s2.num_root;
	for (i = 0; i < n; i++) {
		roots[i] = granule_from_pa(rmm, rd->s2.rtt_base + i * RK_GRANULE_SIZE);
		granule_lock(roots[i]);
	}
	for (i = 0; i < n; i++) {
		if (s2tt_blocks_destroy((const uint64_t *)granule_ptr(rmm, roots[i]), roots[i]->refcount,
					rd->s2.start_level)) {
			ret = rmi_result(RMI_ERROR_REALM, 0);
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		plat_scrub(rmm->plat, (uint64_t)(roots[i] - rmm->granules), 1);
		granule_set_refcount(roots[i],
				     0); /* ASSIGNED_NS entries may remain: dropped with the realm */
		granule_set_state(roots[i], GRANULE_STATE_DELEGATED);
	}
	rmm_vmid_free(rmm, rd->vmid);
	realm_run_lock_fini(rd);
	plat_scrub(rmm->plat, (uint64_t)(g - rmm->granules), 1);
	granule_set_state(g, GRANULE_STATE_DELEGATED);
	ret = rmi_result(RMI_SUCCESS, 0);
out:
	for (i = 0; i < n; i++)
		granule_unlock(roots[i]);
	granule_unlock(g);
	return ret;
}
