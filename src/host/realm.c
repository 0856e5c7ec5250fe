/* SPDX-License-Identifier: MIT */
/*
 * Realm-specific steps of the lifecycle: REALM_CREATE, REC creation and
 * destruction through the SRO protocol, RTT_INIT_RIPAS, REALM_ACTIVATE, the
 * teardown in the seed's order (docs/lifecycle.md, "Teardown"), and the
 * probes that ask the RMM which state a realm is in.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "rmi_cmds.h"
#include "s2.h"

#define RIPAS_RETRIES 4

static int rmi_failed(struct rk_host *h, uint64_t fid, uint64_t x0, const char *what)
{
	return host_fail(h, host_rmi_errno(x0), fid, x0, "%s: %s -> %s", what, rk_rmi_command_name(fid),
			 rk_rmi_status_name(x0));
}

int host_realm_create(struct rk_vm *vm)
{
	static _Thread_local struct rmi_realm_params p;
	struct rk_host *h = vm->host;
	struct host_s2 *s2 = &vm->s2;
	rk_rd_t rd;
	rk_rtt_t root;
	uint64_t x0;
	int ret;

	if (!h->caps.rmm_usable)
		return host_fail(h, -ENODEV, h->boot_err.fid, h->boot_err.x0, "%s", h->boot_err.msg);
	ret = host_palloc(h, 1, 1, RK_ROLE_RD, vm->id, 0, &rd.pa);
	if (ret)
		return host_fail(h, ret, 0, 0, "no memory for the RD");
	ret = host_palloc(h, s2->nroot, s2->nroot, RK_ROLE_RTT, vm->id, 0, &root.pa);
	if (ret) {
		host_pfree(h, rd.pa, 1);
		return host_fail(h, ret, 0, 0, "no memory for %u root RTT(s)", s2->nroot);
	}
	ret = host_delegate(h, rd.pa, 1);
	if (!ret)
		ret = host_delegate(h, root.pa, s2->nroot);
	if (ret)
		goto undo;
	/* the same parameters rk_plan_rim() measures (plan.c), plus where the RTTs are */
	host_realm_params(&p, vm->ipa_bits, vm->realm.hash_algo, vm->realm.num_bps, vm->realm.num_wps,
			  vm->realm.rpv);
	p.rtt_base = root.pa;
	p.rtt_level_start = s2->start_level;
	p.rtt_num_start = s2->nroot;
	if (host_ns_write(h, h->params_pa, &p, sizeof(p))) {
		ret = host_fail(h, -EIO, 0, 0, "cannot write the realm parameters");
		goto undo;
	}
	ret = host_s2_realm_attach(s2, root);
	if (ret)
		goto undo;
	x0 = host_rmi_realm_create(h, rd, h->params_pa);
	if (RMI_ST(x0) != RMI_SUCCESS) {
		ret = rmi_failed(h, RMI_FID_REALM_CREATE, x0, "cannot create the realm");
		host_s2_realm_detach(s2);
		goto undo;
	}
	host_led_move(h, rd.pa, 1, RK_GRANULE_DELEGATED, RK_GRANULE_RMM);
	host_led_move(h, root.pa, s2->nroot, RK_GRANULE_DELEGATED, RK_GRANULE_RMM);
	vm->realm.rd = rd;
	vm->realm.rtt_base = root;
	rk_rim_init(&p, vm->realm.rim);
	host_vm_set_state(vm, RK_VM_NEW);
	return 0;
undo:
	/* nothing of the realm exists: give the granules back (leaking what cannot be undelegated) */
	host_undelegate_runs(h, rd.pa, 1);
	host_undelegate_runs(h, root.pa, s2->nroot);
	for (uint64_t i = 0; i < 1 + s2->nroot; i++) {
		uint64_t a = i ? root.pa + (i - 1) * G4K : rd.pa;
		if (host_led_state(h, a) == RK_GRANULE_HOST)
			host_pfree(h, a, 1);
	}
	return ret;
}

static void leak_blocks(struct rk_host *h, struct host_blocks *b, uint64_t fid, uint64_t x0)
{
	for (uint32_t i = 0; i < b->n; i++)
		host_leak(h, b->v[i].pa, b->v[i].n, fid, x0);
	host_blocks_free(b);
}

static int rec_create(struct rk_vm *vm, struct rk_vcpu *vcpu)
{
	static _Thread_local struct rmi_rec_params p;
	struct rk_host *h = vm->host;
	uint64_t x[5];
	rk_rec_t rec;
	int ret;

	host_rec_params(&p, vcpu->id, vcpu->flags, vcpu->pc, vcpu->gprs); /* as rk_plan_rim() (plan.c) */
	ret = host_palloc(h, 1, 1, RK_ROLE_REC, vm->id, 0, &rec.pa);
	if (ret)
		return host_fail(h, ret, 0, 0, "no memory for a REC");
	ret = host_delegate(h, rec.pa, 1);
	if (ret) {
		host_undelegate_runs(h, rec.pa, 1);
		if (host_led_state(h, rec.pa) == RK_GRANULE_HOST)
			host_pfree(h, rec.pa, 1);
		return ret;
	}
	if (host_ns_write(h, h->params_pa, &p, sizeof(p))) {
		host_free_delegated(h, rec.pa, 1);
		return host_fail(h, -EIO, 0, 0, "cannot write the REC parameters");
	}
	host_rmi_rec_create(h, vm->realm.rd, rec, h->params_pa, x);
	ret = host_sro_drive(h, x, &vcpu->aux, RK_ROLE_REC_AUX, vm->id);
	if (ret) {
		/* abandoned in the middle: the REC granule and what was donated stay with the RMM */
		host_leak(h, rec.pa, 1, h->err.fid, h->err.x0);
		leak_blocks(h, &vcpu->aux, h->err.fid, h->err.x0);
		vcpu->flags |= VCPU_REC_LOST;
		return ret;
	}
	if (RMI_ST(x[0]) != RMI_SUCCESS) {
		ret = rmi_failed(h, RMI_FID_REC_CREATE, x[0], "cannot create a REC");
		/* the REC granule is DELEGATED again; the RMM gave back what it took (if not: leaked) */
		host_free_delegated(h, rec.pa, 1);
		leak_blocks(h, &vcpu->aux, RMI_FID_REC_CREATE, x[0]);
		return ret;
	}
	host_led_move(h, rec.pa, 1, RK_GRANULE_DELEGATED, RK_GRANULE_RMM);
	vcpu->rec = rec;
	if ((p.flags & RMI_REC_PARAMS_FLAGS_RUNNABLE_MASK) && !(vm->flags & VM_NO_RIM))
		rk_rim_extend_rec(vm->realm.hash_algo, vm->realm.rim, &p);
	return 0;
}

static int rec_destroy(struct rk_vm *vm, struct rk_vcpu *vcpu)
{
	struct rk_host *h = vm->host;
	uint64_t x[5];
	int ret;

	host_rmi_rec_destroy(h, vcpu->rec, x);
	ret = host_sro_drive(h, x, &vcpu->aux, RK_ROLE_REC_AUX, vm->id);
	if (!ret && RMI_ST(x[0]) != RMI_SUCCESS)
		ret = rmi_failed(h, RMI_FID_REC_DESTROY, x[0], "cannot destroy a REC");
	if (ret) {
		host_leak(h, vcpu->rec.pa, 1, h->err.fid, h->err.x0);
		leak_blocks(h, &vcpu->aux, h->err.fid, h->err.x0);
		vcpu->rec.pa = 0;
		return ret;
	}
	host_led_move(h, vcpu->rec.pa, 1, RK_GRANULE_RMM, RK_GRANULE_DELEGATED);
	ret = host_free_delegated(h, vcpu->rec.pa, 1);
	vcpu->rec.pa = 0;
	if (vcpu->aux.n) {
		/* aux granules the RMM did not give back */
		leak_blocks(h, &vcpu->aux, RMI_FID_REC_DESTROY, x[0]);
		ret = -EIO;
	}
	return ret;
}

/* RIPAS RAM over [base, top) before activation, creating RTTs where the RMM asks. */
static int init_ripas(struct rk_vm *vm, uint64_t base, uint64_t top)
{
	struct rk_host *h = vm->host;
	int tries = 0;

	while (base < top) {
		uint64_t x[5], x0 = host_rmi_rtt_init_ripas(h, vm->realm.rd, base, top, x);

		if (RMI_ST(x0) == RMI_ERROR_RTT && RMI_IDX(x0) < S2_MAX_LEVEL && tries++ < RIPAS_RETRIES) {
			/* the walk stopped at a level whose entry is larger than the range: go down one */
			int ret = host_s2_ensure_level(&vm->s2, base, (int)RMI_IDX(x0) + 1);
			if (ret)
				return ret;
			continue;
		}
		if (RMI_ST(x0) != RMI_SUCCESS || x[1] <= base || x[1] > top)
			return host_fail(h, host_rmi_errno(x0), RMI_FID_RTT_INIT_RIPAS, x0,
					 "RIPAS RAM for 0x%" PRIx64 "..0x%" PRIx64 ": %s index %u", base, top,
					 rk_rmi_status_name(x0), RMI_IDX(x0));
		base = x[1];
		tries = 0;
	}
	return 0;
}

int host_realm_activate(struct rk_vm *vm)
{
	struct rk_host *h = vm->host;
	uint64_t x0;
	int ret;

	if (vm->state == RK_VM_NONE) {
		ret = host_realm_create(vm);
		if (ret)
			return ret;
	}
	/* RECs in MPIDR order, as the RMM requires; resumes where a failed activation stopped */
	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		if (vm->vcpus[i]->rec.pa)
			continue;
		ret = rec_create(vm, vm->vcpus[i]);
		if (ret)
			return ret;
		vm->realm.nrecs++;
	}
	for (uint32_t i = 0; i < vm->nslots; i++) {
		const struct host_memslot *s = &vm->slots[i];
		if (s->flags & RK_MEMSLOT_SHARED)
			continue;
		ret = init_ripas(vm, s->ipa, s->ipa + s->size);
		if (ret)
			return ret;
	}
	x0 = host_rmi_realm_activate(h, vm->realm.rd);
	if (RMI_ST(x0) != RMI_SUCCESS)
		return rmi_failed(h, RMI_FID_REALM_ACTIVATE, x0, "cannot activate the realm");
	host_vm_set_state(vm, RK_VM_ACTIVE);
	return 0;
}

uint32_t host_realm_probe(struct rk_vm *vm)
{
	struct rk_host *h = vm->host;
	uint32_t mask = (1u << RMI_REALM_STATE_NEW) | (1u << RMI_REALM_STATE_ACTIVE) |
			(1u << RMI_REALM_STATE_SYSTEM_OFF) | (1u << RMI_REALM_STATE_ZOMBIE);
	rk_rd_t rd = vm->realm.rd;
	uint64_t x[5], x0;

	if (!rd.pa)
		return 0;
	/* is there an RD? (any realm state) */
	x0 = host_rmi_rtt_read_entry(h, rd, 0, vm->s2.start_level, x);
	if (RMI_ST(x0) != RMI_SUCCESS)
		return 0;
	/* RTT_DATA_MAP checks "realm is NEW or ACTIVE" before "top > base" */
	x0 = host_rmi_data_map(h, rd, 0, 0, RMI_ADDR_TYPE_SINGLE, 0, x);
	if (RMI_ST(x0) == RMI_ERROR_REALM)
		mask &= (1u << RMI_REALM_STATE_SYSTEM_OFF) | (1u << RMI_REALM_STATE_ZOMBIE);
	else if (RMI_ST(x0) == RMI_ERROR_INPUT)
		mask &= (1u << RMI_REALM_STATE_NEW) | (1u << RMI_REALM_STATE_ACTIVE);
	/* RTT_DATA_MAP_INIT checks "realm is NEW" before the alignment of the IPA */
	x0 = host_rmi_data_map_init(h, rd, (rk_data_t){ h->probe_pa }, 1, h->probe_pa, 0);
	if (RMI_ST(x0) == RMI_ERROR_REALM)
		mask &= ~(1u << RMI_REALM_STATE_NEW);
	else if (RMI_ST(x0) == RMI_ERROR_INPUT)
		mask &= 1u << RMI_REALM_STATE_NEW;
	return mask;
}

int host_realm_teardown(struct rk_vm *vm)
{
	struct rk_host *h = vm->host;
	struct host_s2 *s2 = &vm->s2;
	rk_rd_t rd = vm->realm.rd;
	uint64_t root = vm->realm.rtt_base.pa, x0;
	uint64_t ffid = 0, fx0 = 0; /* first failure */
	bool destroy_rd;
	int failures = 0;

#define FAILED()                           \
	do {                               \
		failures++;                \
		if (!ffid) {               \
			ffid = h->err.fid; \
			fx0 = h->err.x0;   \
		}                          \
	} while (0)

	if (!rd.pa)
		return 0; /* NONE: the RMM holds nothing of this VM */

	/* 1. terminate */
	x0 = host_rmi_realm_terminate(h, rd);
	destroy_rd = RMI_ST(x0) == RMI_SUCCESS;
	if (destroy_rd) {
		vm->realm.flags |= REALM_TERMINATED;
	} else {
		rmi_failed(h, RMI_FID_REALM_TERMINATE, x0, "teardown");
		FAILED();
		/* ask the RMM rather than assume: try RMI_REALM_DESTROY only if it may be ZOMBIE */
		destroy_rd = (host_realm_probe(vm) & (1u << RMI_REALM_STATE_ZOMBIE)) != 0;
	}

	/* 2-3. unmap everything, destroy the RTTs bottom-up (the one walker) */
	if (host_s2_destroy(s2))
		FAILED();

	/* 4. RECs (SRO reclaim of their aux granules) */
	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		if (!vm->vcpus[i]->rec.pa)
			continue;
		if (rec_destroy(vm, vm->vcpus[i]))
			FAILED();
	}

	/* 5. destroy the RD */
	if (destroy_rd) {
		x0 = host_rmi_realm_destroy(h, rd);
		if (RMI_ST(x0) != RMI_SUCCESS) {
			rmi_failed(h, RMI_FID_REALM_DESTROY, x0, "teardown");
			FAILED();
			destroy_rd = false;
		}
	}
	if (destroy_rd) {
		/* 6. undelegate the RD and the root RTTs */
		host_led_move(h, rd.pa, 1, RK_GRANULE_RMM, RK_GRANULE_DELEGATED);
		host_led_move(h, root, s2->nroot, RK_GRANULE_RMM, RK_GRANULE_DELEGATED);
		if (host_free_delegated(h, rd.pa, 1))
			FAILED();
		if (host_free_delegated(h, root, s2->nroot))
			FAILED();
		vm->realm.rd.pa = 0;
	} else {
		host_leak(h, rd.pa, 1, ffid, fx0);
		host_leak(h, root, s2->nroot, ffid, fx0);
		vm->realm.flags |= REALM_RD_LEAKED; /* the handle stays, for rk_vm_rmm_realm_states() */
	}

	/* 7. whatever the shadow still holds is the RMM's: leaked */
	host_s2_sweep_leaks(s2, ffid, fx0);
	host_s2_realm_detach(s2);
	return failures;
#undef FAILED
}
