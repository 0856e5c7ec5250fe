/* SPDX-License-Identifier: MIT */
/*
 * The VM lifecycle as data. The host enforces these tables (an operation not
 * legal in the VM's state fails with -EPERM; a state change not listed is a
 * host bug and is refused), and docs/lifecycle.md is checked against them by
 * tests/host/test_host_lifecycle.c, so the documentation cannot drift.
 *
 * "What is the ABI status of this state?" None: the host's VM state is
 * host-internal. rmm_states says which RMM realm states (RMM spec 2.0 realm
 * state machine) each corresponds to, and rk_vm_rmm_realm_states() asks the
 * RMM rather than assuming.
 */
#include <stddef.h>

#include "host_internal.h"

#define S(x) (1u << RK_VM_##x)
#define R(x) (1u << RMI_REALM_STATE_##x)

static const struct rk_vm_state_info states[RK_VM_NSTATES] = {
	[RK_VM_NONE] = { "NONE", "none (no RD)",
			 "realm VM known to the host only: no RMM object yet (normal VMs skip NONE)", 0, 0 },
	[RK_VM_NEW] = { "NEW", "NEW", "being built: memory slots, populate, map, vCPUs; no REC yet", R(NEW),
			0 },
	[RK_VM_ACTIVE] = { "ACTIVE", "ACTIVE or SYSTEM_OFF",
			   "activated: RECs exist, vCPUs may run; the realm may have switched itself off",
			   R(ACTIVE) | R(SYSTEM_OFF), 0 },
	[RK_VM_DYING] = { "DYING", "ZOMBIE (still NEW, ACTIVE or SYSTEM_OFF if RMI_REALM_TERMINATE failed)",
			  "inside rk_vm_destroy(): teardown stages in progress",
			  R(NEW) | R(ACTIVE) | R(SYSTEM_OFF) | R(ZOMBIE), 0 },
	[RK_VM_DEAD] = { "DEAD", "none (RD destroyed); any, if the RD was leaked",
			 "torn down: host memory freed, leaks in the leak report",
			 R(NEW) | R(ACTIVE) | R(SYSTEM_OFF) | R(ZOMBIE), 0 },
};

static const struct rk_vm_transition transitions[] = {
	{ RK_VM_NONE, RK_VM_NEW,
	  "rk_vm_realm_create(), or the first rk_vm_populate(), rk_vm_map(), rk_vm_activate(), rk_vcpu_run()",
	  "RMI_GRANULE_RANGE_DELEGATE (RD, root RTTs), RMI_REALM_CREATE" },
	{ RK_VM_NEW, RK_VM_ACTIVE, "rk_vm_activate(), or the first rk_vcpu_run()",
	  "RMI_REC_CREATE + SRO per vCPU, RMI_RTT_INIT_RIPAS per protected memory slot, RMI_REALM_ACTIVATE" },
	{ RK_VM_NONE, RK_VM_DYING, "rk_vm_destroy()", "none" },
	{ RK_VM_NEW, RK_VM_DYING, "rk_vm_destroy()", "RMI_REALM_TERMINATE" },
	{ RK_VM_ACTIVE, RK_VM_DYING, "rk_vm_destroy()", "RMI_REALM_TERMINATE" },
	{ RK_VM_DYING, RK_VM_DEAD, "end of rk_vm_destroy()", "teardown stages 2-7" },
};

static const struct rk_vm_op_info ops[RK_OP_COUNT] = {
	[RK_OP_REALM_CREATE] = { "rk_vm_realm_create", S(NONE), 0,
				 "realm VMs only; implicit in the first populate, map, activate or run" },
	[RK_OP_ADD_MEMSLOT] = { "rk_vm_add_memslot", S(NONE) | S(NEW) | S(ACTIVE), 0,
				"a realm slot added when ACTIVE keeps RIPAS EMPTY (no RMI_RTT_INIT_RIPAS)" },
	[RK_OP_POPULATE] = { "rk_vm_populate", S(NONE) | S(NEW), 0,
			     "RMI_RTT_DATA_MAP_INIT needs a NEW realm: populate after activate is refused" },
	[RK_OP_MAP] = { "rk_vm_map", S(NONE) | S(NEW) | S(ACTIVE), 0,
			"RMI_RTT_DATA_MAP / RMI_RTT_UNPROT_MAP accept NEW and ACTIVE realms" },
	[RK_OP_UNMAP] = { "rk_vm_unmap, rk_vm_fold, rk_vm_s2_dump", S(NONE) | S(NEW) | S(ACTIVE), 0,
			  "the tables are gone once DYING starts" },
	[RK_OP_VCPU_CREATE] = { "rk_vcpu_create", S(NONE) | S(NEW), 0,
				"RECs are created at activation: RMI_REC_CREATE needs a NEW realm" },
	[RK_OP_ACTIVATE] = { "rk_vm_activate", S(NONE) | S(NEW), 0,
			     "once; implicit in the first rk_vcpu_run()" },
	[RK_OP_RUN] = { "rk_vcpu_run", S(NONE) | S(NEW) | S(ACTIVE), 0,
			"the vCPU must exist (run before create: -ENOENT); activates first" },
	[RK_OP_DESTROY] = { "rk_vm_destroy", S(NONE) | S(NEW) | S(ACTIVE), 0,
			    "once: destroy twice is refused" },
};

static const struct rk_teardown_stage stages[] = {
	{ "1. terminate", "RMI_REALM_TERMINATE", "none",
	  "ask the RMM (probes): unless the realm may be ZOMBIE, RMI_REALM_DESTROY is skipped and the RD and root RTTs are leaked; stages 2-4 still reclaim the rest" },
	{ "2. unmap",
	  "RMI_RTT_DATA_UNMAP, RMI_RTT_UNPROT_UNMAP, then RMI_GRANULE_RANGE_UNDELEGATE of each returned range (normal VM: descriptor writes)",
	  "data granules, to their memory slot",
	  "the range stays mapped: its granules, and the RTTs above it, are leaked" },
	{ "3. destroy RTTs",
	  "RMI_RTT_DESTROY bottom-up, skipping ahead on its x2 hint, then RMI_GRANULE_RANGE_UNDELEGATE (normal VM: descriptor writes)",
	  "non-root RTTs (normal VM: page tables)", "the RTT stays live, and so do its parents: leaked" },
	{ "4. destroy RECs",
	  "RMI_REC_DESTROY + SRO (RMI_OP_MEM_RECLAIM, RMI_OP_CONTINUE), then RMI_GRANULE_RANGE_UNDELEGATE",
	  "REC granules and their auxiliary granules",
	  "the REC and the aux granules not reclaimed are leaked; RMI_REALM_DESTROY then fails" },
	{ "5. destroy RD", "RMI_REALM_DESTROY", "none (the RD and root RTTs become DELEGATED)",
	  "RD and root RTTs leaked" },
	{ "6. undelegate RD and roots", "RMI_GRANULE_RANGE_UNDELEGATE (normal VM: none)",
	  "RD, root RTTs (normal VM: root page tables)",
	  "the granules that cannot be undelegated are leaked" },
	{ "7. sweep and free", "none",
	  "memory slots (zeroed before reuse if the guest could write them); shadow, vCPU and VM structs",
	  "whatever the RMM still holds (per the shadow) is leaked, never freed" },
};

const struct rk_vm_state_info *rk_vm_state_info(enum rk_vm_state s)
{
	return (unsigned int)s < RK_VM_NSTATES ? &states[s] : NULL;
}

const char *rk_vm_state_name(enum rk_vm_state s)
{
	return (unsigned int)s < RK_VM_NSTATES ? states[s].name : "?";
}

const struct rk_vm_transition *rk_vm_transitions(size_t *n)
{
	*n = sizeof(transitions) / sizeof(transitions[0]);
	return transitions;
}

const struct rk_vm_op_info *rk_vm_ops(size_t *n)
{
	*n = RK_OP_COUNT;
	return ops;
}

const struct rk_teardown_stage *rk_host_teardown_stages(size_t *n)
{
	*n = sizeof(stages) / sizeof(stages[0]);
	return stages;
}

void host_vm_set_state(struct rk_vm *vm, enum rk_vm_state to)
{
	for (size_t i = 0; i < sizeof(transitions) / sizeof(transitions[0]); i++) {
		if (transitions[i].from == (enum rk_vm_state)vm->state && transitions[i].to == to) {
			if (vm->host->trace)
				fprintf(vm->host->trace, "host: vm %u %s -> %s\n", vm->id,
					rk_vm_state_name((enum rk_vm_state)vm->state), rk_vm_state_name(to));
			vm->state = to;
			return;
		}
	}
	/* not in the table: a host bug, refused and counted */
	vm->host->stats.ledger_errors++;
}
