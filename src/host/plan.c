/* SPDX-License-Identifier: MIT */
/*
 * Construction plans. What the host gives the RMM while it builds a realm
 * (the RmiRealmParams of RMI_REALM_CREATE, the page images of
 * RMI_RTT_DATA_MAP_INIT, the RmiRecParams of RMI_REC_CREATE) is made here,
 * by the same functions for both uses:
 *
 *   building   realm.c and s2_realm.c hand these to the RMM and extend the
 *              host's RIM prediction with them (rk_vm_rim());
 *   measuring  rk_plan_rim() hashes them in the order a build issues them,
 *              with no host and no RMI call (`realmkit measure`).
 *
 * So the RIM `realmkit measure` predicts is the RIM of the realm
 * rk_vm_create_from_plan() builds, by construction; the tests check it
 * against the RIM the realm reads with RSI_MEASUREMENT_READ.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host_internal.h"

#define FR(v, reg, f) (((v)&reg##_##f##_MASK) >> reg##_##f##_SHIFT)

void host_realm_params(struct rmi_realm_params *p, uint32_t ipa_bits, uint32_t hash_algo, uint32_t num_bps,
		       uint32_t num_wps, const uint8_t rpv[64])
{
	memset(p, 0, sizeof(*p));
	p->s2sz = ipa_bits;
	p->hash_algo = hash_algo;
	p->num_bps = num_bps;
	p->num_wps = num_wps;
	memcpy(p->rpv, rpv, sizeof(p->rpv));
}

/* RmiRecMpidr of a vCPU index (Aff0[3:0], Aff1, Aff2, Aff3). */
uint64_t host_rec_mpidr(uint32_t idx)
{
	return (idx & 0xf) | ((uint64_t)((idx >> 4) & 0xff) << 8) | ((uint64_t)((idx >> 12) & 0xff) << 16) |
	       ((uint64_t)((idx >> 20) & 0xff) << 24);
}

void host_rec_params(struct rmi_rec_params *p, uint32_t id, uint32_t flags, uint64_t pc,
		     const uint64_t gprs[8])
{
	memset(p, 0, sizeof(*p));
	p->flags = (flags & RK_VCPU_RUNNABLE) ? RMI_REC_PARAMS_FLAGS_RUNNABLE_MASK : 0;
	p->mpidr = host_rec_mpidr(id);
	p->pc = pc;
	memcpy(p->gprs, gprs, 8 * sizeof(uint64_t));
}

const uint8_t *host_populate_page(uint8_t page[4096], const uint8_t *buf, uint64_t src_ipa, uint64_t len,
				  uint64_t ipa)
{
	uint64_t off = ipa - src_ipa, n = off >= len ? 0 : len - off < G4K ? len - off : G4K;

	if (n == G4K)
		return buf + off; /* no copy: a 40 MiB kernel is ~10k pages, hashed (and written) once each */
	if (n)
		memcpy(page, buf + off, n);
	memset(page + n, 0, G4K - n);
	return page;
}

int rk_plan_rim(const struct rk_vm_plan *plan, uint64_t rmi_fr0, uint8_t rim[64], size_t *len)
{
	static _Thread_local struct rmi_realm_params p;
	static _Thread_local struct rmi_rec_params rp;
	static _Thread_local uint8_t page[G4K];
	const struct rk_vm_config *c;
	uint32_t bps, wps, algo;
	int ret;

	if (!plan || !rim || plan->config.kind != RK_VM_REALM)
		return -EINVAL;
	c = &plan->config;
	algo = c->hash_algo;
	if (!rk_hash_len(algo))
		return -EINVAL;
	/* as rk_vm_create(): 0 is the RMM's maximum */
	bps = c->num_bps ? c->num_bps : (uint32_t)FR(rmi_fr0, RMI_FR0, NUM_BPS);
	wps = c->num_wps ? c->num_wps : (uint32_t)FR(rmi_fr0, RMI_FR0, NUM_WPS);
	if (!bps || !wps)
		return -EINVAL; /* neither given nor known */
	host_realm_params(&p, c->ipa_bits ? c->ipa_bits : HOST_DEFAULT_IPA_BITS, algo, bps, wps, c->rpv);
	ret = rk_rim_init(&p, rim);
	/* populates, in order, page by page in ascending IPA order (as the stage-2 walker issues them) */
	for (uint32_t i = 0; !ret && i < plan->nloads; i++) {
		const struct rk_plan_load *l = &plan->loads[i];
		uint64_t flags =
			(l->flags & RK_POPULATE_MEASURE) ? RMI_MEASURE_CONTENT : RMI_NO_MEASURE_CONTENT;

		if (!l->data || !l->len || (l->ipa & (G4K - 1)))
			return -EINVAL;
		for (uint64_t ipa = l->ipa; !ret && ipa < l->ipa + l->len; ipa += G4K) {
			ret = rk_rim_extend_data(algo, rim, ipa, flags,
						 host_populate_page(page, l->data, l->ipa, l->len, ipa));
		}
	}
	/* RECs at activation, in id (MPIDR) order; only runnable ones are measured */
	for (uint32_t i = 0; !ret && i < plan->nvcpus; i++) {
		static const uint64_t zero[8];
		const struct rk_vcpu_config *v = plan->vcpus ? &plan->vcpus[i] : NULL;
		uint32_t flags = v ? v->flags : (i == 0 ? RK_VCPU_RUNNABLE : 0);

		if (!(flags & RK_VCPU_RUNNABLE))
			continue;
		host_rec_params(&rp, i, flags, v ? v->pc : 0, v ? v->gprs : zero);
		ret = rk_rim_extend_rec(algo, rim, &rp);
	}
	if (!ret && len)
		*len = rk_hash_len(algo);
	return ret;
}

int rk_vm_create_from_plan(struct rk_host *h, const struct rk_vm_plan *plan, struct rk_vm **out)
{
	struct rk_vm *vm = NULL;
	int ret;

	if (!h || !plan || !out)
		return -EINVAL;
	ret = rk_vm_create(h, &plan->config, &vm);
	for (uint32_t i = 0; !ret && i < plan->nmemslots; i++)
		ret = rk_vm_add_memslot(vm, plan->memslots[i].ipa, plan->memslots[i].size,
					plan->memslots[i].flags);
	for (uint32_t i = 0; !ret && i < plan->nloads; i++)
		ret = rk_vm_populate(vm, plan->loads[i].ipa, plan->loads[i].data, plan->loads[i].len,
				     plan->loads[i].flags);
	for (uint32_t i = 0; !ret && i < plan->nvcpus; i++)
		ret = rk_vcpu_create(vm, i, plan->vcpus ? &plan->vcpus[i] : NULL);
	if (ret) {
		if (vm) {
			/* keep the failure's message: the teardown of the half-built VM clears it */
			struct rk_host_error e = *rk_host_last_error(h);
			host_lock(h);
			rk_vm_free(vm);
			host_fail(h, e.err, e.fid, e.x0, "%s", e.msg);
			host_unlock(h);
		}
		return ret;
	}
	*out = vm;
	return 0;
}
