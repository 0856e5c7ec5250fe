/* SPDX-License-Identifier: MIT */
/*
 * The run loop of a normal VM. There is no RMM: the host itself is the
 * hypervisor, and runs each vCPU on a CPU backend engine it owns
 * (src/platform/cpu, the backend the RMM runs realm RECs on), doing what the
 * RMM does for a realm and what the host does after an exit, with the same
 * devices, host calls and PSCI semantics:
 *
 *   data/instruction abort in a memory slot: map it in stage 2 (the host's
 *       page tables) and in the engine (2 MiB at a time where the backing is
 *       contiguous), then retry the access;
 *   data abort on a device: emulate (ISV = 1) or inject an SEA; no device: SEA;
 *   SMC or HVC: PSCI 1.1 (VERSION, FEATURES, CPU_SUSPEND, CPU_OFF, CPU_ON,
 *       AFFINITY_INFO, SYSTEM_OFF, SYSTEM_RESET), SMCCC_VERSION, and the
 *       RSI_HOST_CALL function ID as a host call (the realm payloads report
 *       through it); anything else returns SMC_UNKNOWN;
 *   WFI: completed, and the vCPU blocks until its vGIC has an interrupt for
 *       it, its timer deadline, a kick or the stop (vtimer.c, as for a realm);
 *       WFE: not trapped; undefined instruction: UNDEF injected; time slice
 *       (2 ms) or kick: check for a stop request.
 *
 * Interrupts and timers, as KVM gives a normal VM the CPU's own: the VM has
 * a vGIC as a realm has (vgic.c, its frames at RK_GUEST_GICD_IPA/GICR_IPA),
 * vCPU i runs on host CPU i % ncpus with the vGIC's state for it flushed
 * into that CPU's list registers before the run and synced after it
 * (host_gic_load/save, vtimer.c: the same code as a realm vCPU's
 * REC_ENTER), and its ICC_*_EL1 accesses are the CPU interface's
 * (rk_hcpu_icc_access(): the platform's emulation the RMM uses for realms),
 * taken by the engine's sysreg handler (stage-2 mode; hooks mode: from the
 * UNDEF exit), which ends the run when the vIRQ line or the maintenance
 * interrupt changes (the line is set before each run). Its EL1 timers are the
 * platform's emulation (realmkit/gtimer.h) in v->nvm.timer: a slice ends at
 * the next deadline, and the timer outputs drive the vGIC's PPIs 27 and 30
 * (host_vcpu_timer_lines), as the realm loop does from RecExit. An SGI the
 * guest sends (an ICC access that traps to EL2) goes to the vGIC and kicks
 * its targets (host_vcpu_sgi, as a realm's EC 0x18 exit); the PL011's line
 * is the vGIC's SPI; a CPU_ON resets the started vCPU's CPU interface.
 *
 * One engine of a VM runs at a time (run.exec_mtx), as the RMM runs one REC of
 * a realm at a time: exclusives and atomics are not atomic between Unicorn
 * engines. The VM's engines share one TLB domain (run.tlb), as a realm's RECs
 * do: a broadcast TLBI on one vCPU is seen by the others before they run.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "s2.h"
#include "vgic.h"
#include "realmkit/cpu.h"
#include "realmkit/gtimer.h"
#include "realmkit/platform.h"
#include "realmkit/arch/gic.h"
#include "realmkit/arch/psci.h"
#include "realmkit/arch/smccc.h"
#include "realmkit/arch/sysreg.h"

#define SLICE_US 2000u
#define CHUNK (2ULL << 20)

#define STAT(vm, field) __atomic_fetch_add(&(vm)->run.info.field, 1, __ATOMIC_RELAXED)
#define EXIT(vm, r) __atomic_fetch_add(&(vm)->run.info.exits[r], 1, __ATOMIC_RELAXED)

void host_normal_vcpu_free(struct rk_vm *vm, struct rk_vcpu *v)
{
	struct rk_cpu *cpu;

	pthread_mutex_lock(&vm->run.mtx); /* rk_vm_stop() may be kicking it */
	cpu = v->cpu;
	v->cpu = NULL;
	pthread_mutex_unlock(&vm->run.mtx);
	rk_cpu_destroy(cpu);
}

void host_normal_kick(struct rk_vm *vm)
{
	pthread_mutex_lock(&vm->run.mtx);
	for (uint32_t i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i]->cpu)
			rk_cpu_kick(vm->vcpus[i]->cpu);
	pthread_mutex_unlock(&vm->run.mtx);
}

/* Reset as a PSCI CPU_ON does (EL1h, DAIF masked, MMU off), then pc and x0. */
static void cpu_reset(struct rk_cpu *cpu, uint64_t pc, uint64_t x0)
{
	uint64_t x[RK_CPU_NUM_GPRS] = { 0 };

	x[0] = x0;
	(void)rk_cpu_set_gprs(cpu, x);
	(void)rk_cpu_set_reg(cpu, RK_CPU_REG_PSTATE, PSTATE_EL1H_DAIF);
	(void)rk_cpu_set_reg(cpu, RK_CPU_REG_SCTLR_EL1, SCTLR_EL1_RESET);
	(void)rk_cpu_set_reg(cpu, RK_CPU_REG_PC, pc);
}

/*
 * The memory slots' backing is the engine's physical memory, as DRAM is for a
 * REC's engine (rk_cpu_add_ram): one RAM window per run of contiguous PAs, so
 * that mapping any of it later costs no engine region and, in stage-2 mode,
 * no fresh engine (a window added after the first run needs one). More runs
 * than the engine takes, or memory the host cannot map, are left to be added
 * when mapped (correct, only slower). 0, or -errno of a failed engine call.
 */
static int engine_add_ram(struct rk_vm *vm, struct rk_cpu *cpu)
{
	struct rk_host *h = vm->host;
	int ret = 0;

	if (rk_cpu_mode(cpu) != RK_CPU_MODE_STAGE2)
		return 0; /* a no-op in hooks mode */
	host_lock(h);
	for (uint32_t i = 0; !ret && i < vm->nslots; i++) {
		const struct host_memslot *s = &vm->slots[i];
		uint64_t n = s->size / G4K;

		for (uint64_t a = 0, b; !ret && a < n; a = b) {
			uint8_t *p;

			for (b = a + 1; b < n && s->pa[b] == s->pa[a] + (b - a) * G4K; b++)
				;
			if (rk_ns_map(h->m, s->pa[a], (b - a) * G4K, &p))
				continue;
			ret = rk_cpu_add_ram(cpu, p, (b - a) * G4K);
		}
	}
	host_unlock(h);
	return ret == -ENOSPC || ret == -ERANGE ? 0 : ret;
}

/*
 * The guest's ICC_* access acc on host CPU c->hcpu: true if complete (a read's
 * value in acc->value). acc->stop when the vIRQ line or the maintenance
 * interrupt changed, or it trapped to EL2 (c->trap; a read leaves Xt as it is).
 */
static bool icc_access(struct rk_cpu *cpu, struct rk_cpu_sysreg *acc, struct rk_cpu_sysreg_ctx *c)
{
	struct rk_machine *m = c->vm->host->m;
	unsigned int hc = (unsigned int)c->hcpu;

	if (c->hcpu < 0)
		return false;
	switch (rk_hcpu_icc_access(m, hc, acc)) {
	case RK_ICC_DONE:
		if (rk_hcpu_maint(m, hc) || rk_hcpu_virq(m, hc) != (c->virq != 0))
			acc->stop = true;
		return true;
	case RK_ICC_TRAP:
		if (acc->is_read && acc->rt != 31 && rk_cpu_get_reg(cpu, RK_CPU_REG_X(acc->rt), &acc->value))
			return false;
		c->trap = 1;
		acc->stop = true;
		return true;
	default:
		return false; /* UNDEFINED */
	}
}

/* The engine's sysreg handler (stage-2 mode): the EL1 timers and the GIC CPU interface. */
static bool normal_sysreg(struct rk_cpu *cpu, struct rk_cpu_sysreg *acc, struct rk_cpu_sysreg_ctx *c)
{
	if (acc->op0 == 3 && acc->op1 == 3 && acc->crn == 14)
		return rk_gtimer_sysreg(&c->timer, acc);
	return icc_access(cpu, acc, c);
}

/* An ICC access that trapped to EL2: an SGI to the vGIC (targets kicked); anything else stops the VM. */
static int icc_trap(struct rk_vm *vm, struct rk_vcpu *v, const struct rk_cpu_sysreg *acc)
{
	uint32_t reg = (uint32_t)SYSREG_ENC(acc->op0, acc->op1, acc->crn, acc->crm, acc->op2);
	char msg[160];

	v->nvm.trap = 0;
	if (!acc->is_read && (reg == ICC_SGI1R_EL1 || reg == ICC_SGI0R_EL1 || reg == ICC_ASGI1R_EL1)) {
		host_vcpu_sgi(vm, v, reg, acc->value);
		return 1;
	}
	snprintf(msg, sizeof(msg),
		 "ICC access S3_%u_C%u_C%u_%u (%s 0x%" PRIx64 ") traps to the host, which traps none",
		 acc->op1, acc->crn, acc->crm, acc->op2, acc->is_read ? "read" : "write", acc->value);
	return host_run_error(vm, v, -ENOTSUP, 0, 0, msg);
}

static int engine_create(struct rk_vm *vm, struct rk_vcpu *v)
{
	uint64_t mpidr = host_rec_mpidr(v->id), x[RK_CPU_NUM_GPRS] = { 0 };
	struct rk_cpu *cpu;
	int ret = rk_cpu_create(&cpu);

	if (ret)
		return ret;
	ret = engine_add_ram(vm, cpu);
	if (ret) {
		rk_cpu_destroy(cpu);
		return ret;
	}
	/* MPIDR_EL1 as the guest reads it: RES1 bit 31, Aff3 at [39:32] (as the RMM sets it) */
	ret = rk_cpu_set_reg(cpu, RK_CPU_REG_MPIDR_EL1,
			     MPIDR_EL1_RES1 | (mpidr & 0xffffffULL) | ((mpidr >> 24 & 0xff) << 32));
	memcpy(x, v->gprs, sizeof(v->gprs));
	if (!ret)
		ret = rk_cpu_set_gprs(cpu, x);
	if (!ret)
		ret = rk_cpu_set_reg(cpu, RK_CPU_REG_PC, v->pc);
	if (!ret)
		ret = rk_cpu_set_tlb_domain(cpu, &vm->run.tlb); /* a broadcast TLBI reaches every vCPU */
	v->nvm.vm = vm;
	v->nvm.hcpu = -1;
	v->nvm.virq = 0; /* a new engine's line is low */
	v->nvm.trap = 0;
	if (!ret && rk_cpu_mode(cpu) == RK_CPU_MODE_STAGE2) {
		ret = rk_cpu_set_sysreg_handler(cpu, normal_sysreg, &v->nvm);
		if (!ret)
			ret = rk_gtimer_trap(cpu);
	}
	if (ret) {
		rk_cpu_destroy(cpu);
		return ret;
	}
	pthread_mutex_lock(&vm->run.mtx);
	v->cpu = cpu;
	pthread_mutex_unlock(&vm->run.mtx);
	return 0;
}

/* Map the memory-slot memory around ipa into stage 2 and the engine. 0, or -EFAULT (no slot). */
static int map_memory(struct rk_vm *vm, struct rk_vcpu *v, uint64_t ipa)
{
	struct rk_host *h = vm->host;
	uint64_t page = ipa & ~(G4K - 1), base = ipa & ~(CHUNK - 1), top = base + CHUNK, pa;
	struct host_memslot *s;
	uint8_t *p;
	int ret;

	host_lock(h);
	s = host_memslot_find(vm, page, G4K);
	if (!s) {
		host_unlock(h);
		return -EFAULT;
	}
	/* the 2 MiB around it, within the slot, if its backing is contiguous; else the page */
	if (base < s->ipa)
		base = s->ipa;
	if (top > s->ipa + s->size)
		top = s->ipa + s->size;
	if (host_memslot_pa(vm, base, top - base, &pa) || rk_cpu_is_mapped(v->cpu, base, G4K) ||
	    rk_cpu_is_mapped(v->cpu, top - G4K, G4K) || top > 1ULL << RK_CPU_PA_BITS) {
		base = page;
		top = page + G4K;
		ret = host_memslot_pa(vm, base, G4K, &pa);
		if (ret) {
			host_unlock(h);
			return ret;
		}
	}
	ret = host_vm_map(vm, base, top - base, S2_MAX_LEVEL, false);
	if (ret == -EEXIST)
		ret = 0;
	if (!ret)
		ret = rk_ns_map(h->m, pa, top - base, &p);
	host_unlock(h);
	if (!ret) {
		ret = rk_cpu_map(v->cpu, base, top - base, p, RK_CPU_PROT_ALL);
		if (ret == -EEXIST)
			ret = 0; /* mapped already (another chunk size) */
	}
	return ret;
}

static void inject_sea(struct rk_cpu *cpu, bool instruction, uint64_t addr)
{
	uint64_t ec = instruction ? ESR_EC_IABT_CUR : ESR_EC_DABT_CUR;

	(void)rk_cpu_inject_sync(cpu, ESR_MAKE(ec, 1, ESR_FSC_SEA), addr);
}

/* RSI_HOST_CALL, as the RMM implements it for realms: the RsiHostCall at x1. */
static int host_call(struct rk_vm *vm, struct rk_vcpu *v, uint64_t x[RK_CPU_NUM_GPRS])
{
	uint64_t ipa = x[1], hc[32];
	int ret;

	if (ipa & 0xff || rk_vm_read_mem(vm, ipa, hc, sizeof(hc))) {
		x[0] = RSI_ERROR_INPUT;
		return 1;
	}
	STAT(vm, host_calls);
	EXIT(vm, RMI_EXIT_HOST_CALL);
	ret = host_run_host_call(vm, v->id, (uint32_t)(hc[0] & 0xffff), &hc[1]);
	if (ret < 0) {
		char msg[96];
		snprintf(msg, sizeof(msg), "the host-call handler failed (%d) on host call 0x%" PRIx64, ret,
			 hc[0] & 0xffff);
		return host_run_error(vm, v, ret, 0, 0, msg);
	}
	if (rk_vm_write_mem(vm, ipa + 8, &hc[1], 31 * sizeof(uint64_t)))
		return host_run_error(vm, v, -EFAULT, 0, 0, "cannot write the host-call answer back");
	x[0] = RSI_SUCCESS;
	return 1;
}

static int psci(struct rk_vm *vm, struct rk_vcpu *v, uint64_t x[RK_CPU_NUM_GPRS], uint64_t gen)
{
	uint32_t fid = (uint32_t)x[0], t;
	bool smc64 = psci_fid_is_64(fid);

	STAT(vm, psci);
	switch (PSCI_FN(fid)) {
	case PSCI_FN(PSCI_VERSION):
		x[0] = PSCI_VERSION_1_1;
		return 1;
	case PSCI_FN(PSCI_FEATURES): {
		uint32_t f = (uint32_t)x[1], ffn = PSCI_FN(f);
		bool in = psci_fid_in_range(f) &&
			  (ffn <= PSCI_FN(PSCI_AFFINITY_INFO_64) || ffn == PSCI_FN(PSCI_SYSTEM_OFF) ||
			   ffn == PSCI_FN(PSCI_SYSTEM_RESET) || ffn == PSCI_FN(PSCI_FEATURES));
		x[0] = in || f == SMCCC_VERSION ? (uint64_t)PSCI_RET_SUCCESS
						: (uint64_t)PSCI_RET_NOT_SUPPORTED;
		return 1;
	}
	case PSCI_FN(PSCI_CPU_SUSPEND_64):
		x[0] = (uint64_t)PSCI_RET_SUCCESS;
		return 1;
	case PSCI_FN(PSCI_CPU_OFF):
		EXIT(vm, RMI_EXIT_PSCI);
		x[0] = (uint64_t)PSCI_RET_SUCCESS;
		host_run_vcpu_off(vm, v, gen, "PSCI CPU_OFF");
		return 1;
	case PSCI_FN(PSCI_CPU_ON_64): {
		uint64_t target = smc64 ? x[1] : x[1] & 0xffffffffu,
			 entry = smc64 ? x[2] : x[2] & 0xffffffffu, ctx = smc64 ? x[3] : x[3] & 0xffffffffu;
		EXIT(vm, RMI_EXIT_PSCI);
		if (!host_mpidr_vcpu(vm, target, &t)) {
			x[0] = (uint64_t)PSCI_RET_INVALID_PARAMETERS;
			return 1;
		}
		pthread_mutex_lock(&vm->run.mtx);
		if (vm->vcpus[t]->on) {
			x[0] = (uint64_t)PSCI_RET_ALREADY_ON;
		} else {
			struct rk_vcpu *tv = vm->vcpus[t];
			tv->pend.start_pc = entry;
			tv->pend.start_ctx = ctx;
			tv->pend.start = 1;
			tv->on = 1;
			tv->wake_gen++;
			pthread_cond_broadcast(&vm->run.cv);
			x[0] = (uint64_t)PSCI_RET_SUCCESS;
		}
		pthread_mutex_unlock(&vm->run.mtx);
		return 1;
	}
	case PSCI_FN(PSCI_AFFINITY_INFO_64):
		if (x[2] || !host_mpidr_vcpu(vm, smc64 ? x[1] : x[1] & 0xffffffffu, &t)) {
			x[0] = (uint64_t)PSCI_RET_INVALID_PARAMETERS;
			return 1;
		}
		pthread_mutex_lock(&vm->run.mtx);
		x[0] = vm->vcpus[t]->on ? PSCI_AFF_ON : PSCI_AFF_OFF;
		pthread_mutex_unlock(&vm->run.mtx);
		return 1;
	case PSCI_FN(PSCI_SYSTEM_OFF):
		EXIT(vm, RMI_EXIT_PSCI);
		host_run_stop(vm, v->id, RK_STOP_SYSTEM_OFF, 0, 0, 0, "vCPU %u: PSCI SYSTEM_OFF", v->id);
		return 0;
	case PSCI_FN(PSCI_SYSTEM_RESET):
		EXIT(vm, RMI_EXIT_PSCI);
		host_run_stop(vm, v->id, RK_STOP_SYSTEM_RESET, 0, 0, 0,
			      "vCPU %u: PSCI SYSTEM_RESET (not restarted)", v->id);
		return 0;
	default:
		x[0] = (uint64_t)PSCI_RET_NOT_SUPPORTED;
		return 1;
	}
}

static int smc(struct rk_vm *vm, struct rk_vcpu *v, uint64_t gen)
{
	uint64_t x[RK_CPU_NUM_GPRS];
	uint32_t fid;
	int ret = 1;

	(void)rk_cpu_get_gprs(v->cpu, x);
	fid = (uint32_t)x[0];
	if (x[0] >> 32)
		x[0] = (uint64_t)-1; /* not an SMCCC function ID */
	else if (psci_fid_in_range(fid))
		ret = psci(vm, v, x, gen);
	else if (fid == RSI_FID_HOST_CALL)
		ret = host_call(vm, v, x);
	else if (fid == SMCCC_VERSION)
		x[0] = SMCCC_VERSION_1_2;
	else
		x[0] = (uint64_t)-1; /* SMC_UNKNOWN: a normal VM has no RMM (RSI) */
	(void)rk_cpu_set_gprs(v->cpu, x);
	return ret;
}

/* Guest RAM the CPU engine cannot map (RK_CPU_PA_BITS): the run stops with a diagnosis. */
static int beyond_pa_range(struct rk_vm *vm, struct rk_vcpu *v, uint64_t ipa)
{
	char msg[160];

	snprintf(msg, sizeof(msg),
		 "guest RAM at IPA 0x%" PRIx64 " is beyond the CPU model's %u-bit physical address range",
		 ipa, RK_CPU_PA_BITS);
	return host_run_error(vm, v, -ERANGE, 0, 0, msg);
}

static int dabt(struct rk_vm *vm, struct rk_vcpu *v, const struct rk_cpu_exit *ex)
{
	uint64_t ipa = ex->mem.addr, value = ex->mem.value;
	const char *why;

	int mret = ex->mem.is_perm ? -EFAULT : map_memory(vm, v, ipa);

	if (!mret) {
		STAT(vm, s2_faults);
		return 1;
	}
	if (mret == -ERANGE)
		return beyond_pa_range(vm, v, ipa);
	if (host_mmio_find(vm, ipa)) {
		if (ex->mem.isv) {
			if (!host_mmio_access(vm, v->id, ipa, ex->mem.size, ex->mem.is_write, &value)) {
				STAT(vm, mmio);
				(void)(ex->mem.is_write ? rk_cpu_complete_mmio_write(v->cpu)
							: rk_cpu_complete_mmio_read(v->cpu, value));
				return 1;
			}
			why = "the device refused the access";
		} else {
			why = "no syndrome to emulate it (ISV = 0)";
		}
	} else {
		why = "no device and no memory there";
	}
	STAT(vm, mmio_unhandled);
	inject_sea(v->cpu, false, ex->mem.va); /* FAR: the VA the guest used */
	host_run_log(vm, "vCPU %u: %s at IPA 0x%" PRIx64 ": %s: SEA injected", v->id,
		     ex->mem.is_write ? "write" : "read", ipa, why);
	return 1;
}

/*
 * Before a run: the timer lines into the vGIC, the vGIC's state for the vCPU
 * onto its host CPU (hcpu_mtx[hc] taken, released by after_run) and the
 * engine's vIRQ line from it. The slice: at most to the next timer deadline. False:
 * the maintenance interrupt is asserted, a physical IRQ for the host (no run).
 */
static bool before_run(struct rk_vm *vm, struct rk_vcpu *v, int hc, uint64_t *slice_us)
{
	struct rk_host *h = vm->host;
	uint64_t now = rk_counter_read(), due = rk_gtimer_next(&v->nvm.timer, now);
	bool virq;

	*slice_us = SLICE_US;
	if (due != UINT64_MAX && (due - now) / (CNTFRQ_HZ / 1000000u) + 1 < *slice_us)
		*slice_us = (due - now) / (CNTFRQ_HZ / 1000000u) + 1;
	host_vcpu_timer_lines(vm, v, rk_gtimer_outputs(&v->nvm.timer, now));
	if (hc < 0)
		return true;
	v->nvm.loaded = host_gic_load(vm, v, (unsigned int)hc) >= 0;
	v->nvm.hcpu = hc;
	v->nvm.trap = 0;
	if (rk_hcpu_maint(h->m, (unsigned int)hc))
		return false;
	virq = rk_hcpu_virq(h->m, (unsigned int)hc);
	if (virq != (v->nvm.virq != 0) && !rk_cpu_set_virq(v->cpu, virq))
		v->nvm.virq = virq;
	return true;
}

static void after_run(struct rk_vm *vm, struct rk_vcpu *v, int hc)
{
	if (hc < 0)
		return;
	v->nvm.hcpu = -1;
	host_gic_save(vm, v, (unsigned int)hc, v->nvm.loaded ? 0 : -1);
	host_vcpu_timer_lines(vm, v, rk_gtimer_outputs(&v->nvm.timer, rk_counter_read()));
}

/* A trapped WFI: block until the vGIC has an interrupt for it, the next timer deadline, a kick or the stop. */
static void wfi(struct rk_vm *vm, struct rk_vcpu *v)
{
	host_vcpu_block(vm, v, rk_gtimer_next(&v->nvm.timer, rk_counter_read()));
}

/* Hooks mode (no sysreg handler): an ICC access comes as an UNDEF exit. 1 done, 0 not one, <0 stop. */
static int undef_icc(struct rk_vm *vm, struct rk_vcpu *v, int hc, struct rk_cpu_exit *ex)
{
	struct rk_cpu_sysreg *acc = &ex->sysreg;
	int ret, loaded;

	if (!acc->valid || hc < 0)
		return 0;
	v->nvm.hcpu = hc; /* rk_hcpu_icc_access on the CPU it ran on (its state synced) */
	loaded = host_gic_load(vm, v, (unsigned int)hc);
	ret = loaded >= 0 && icc_access(v->cpu, acc, &v->nvm) ? 1 : 0;
	host_gic_save(vm, v, (unsigned int)hc, loaded);
	v->nvm.hcpu = -1;
	if (ret && v->nvm.trap) {
		(void)rk_cpu_skip_insn(v->cpu);
		return icc_trap(vm, v, acc);
	}
	if (ret)
		(void)(acc->is_read ? rk_cpu_complete_sysreg_read(v->cpu, acc->value)
				    : rk_cpu_skip_insn(v->cpu));
	return ret;
}

int host_normal_vcpu_loop(struct rk_vm *vm, struct rk_vcpu *v)
{
	struct rk_cpu_exit ex;
	char msg[160];
	int ret, hc = host_vcpu_hcpu(vm, v);

	if (!v->cpu && (ret = engine_create(vm, v)))
		return host_run_error(vm, v, ret, 0, 0, "cannot create a CPU engine");
	for (;;) {
		uint64_t gen, slice;

		ret = host_run_wait(vm, v, &gen);
		if (ret != 1)
			return ret;
		pthread_mutex_lock(&vm->run.mtx);
		if (v->pend.start) {
			v->pend.start = 0;
			cpu_reset(v->cpu, v->pend.start_pc, v->pend.start_ctx);
			/* its GIC CPU interface from reset, as a realm's (pending kept) */
			host_vgic_vcpu_reset(vm->run.vgic, v->id);
		}
		pthread_mutex_unlock(&vm->run.mtx);
		if (before_run(vm, v, hc, &slice)) {
			pthread_mutex_lock(&vm->run.exec_mtx);
			ret = rk_cpu_run(v->cpu, slice, &ex);
			pthread_mutex_unlock(&vm->run.exec_mtx);
		} else {
			ret = 0; /* the maintenance interrupt: the host's IRQ, as a REC's IRQ exit */
			memset(&ex, 0, sizeof(ex));
			ex.reason = RK_CPU_EXIT_KICK;
		}
		after_run(vm, v, hc);
		__atomic_fetch_add(&vm->run.info.entries, 1, __ATOMIC_RELAXED);
		if (ret)
			return host_run_error(vm, v, ret, 0, 0, "rk_cpu_run failed");
		ret = 1;
		switch (ex.reason) {
		case RK_CPU_EXIT_SMC:
		case RK_CPU_EXIT_HVC:
			ret = smc(vm, v, gen);
			break;
		case RK_CPU_EXIT_WFI:
			EXIT(vm, RMI_EXIT_SYNC);
			(void)rk_cpu_skip_insn(v->cpu);
			wfi(vm, v);
			break;
		case RK_CPU_EXIT_SYSREG:
			/* the sysreg handler ended the run after an ICC access */
			if (v->nvm.trap)
				ret = icc_trap(vm, v, &ex.sysreg);
			break;
		case RK_CPU_EXIT_DABT:
			EXIT(vm, RMI_EXIT_SYNC);
			ret = dabt(vm, v, &ex);
			break;
		case RK_CPU_EXIT_IABT: {
			EXIT(vm, RMI_EXIT_SYNC);
			int mret = ex.mem.is_perm ? -EFAULT : map_memory(vm, v, ex.mem.addr);
			if (!mret) {
				STAT(vm, s2_faults);
			} else if (mret == -ERANGE) {
				return beyond_pa_range(vm, v, ex.mem.addr);
			} else {
				inject_sea(v->cpu, true, ex.mem.va);
				host_run_log(vm,
					     "vCPU %u: instruction fetch at IPA 0x%" PRIx64
					     " outside memory: SEA injected",
					     v->id, ex.mem.addr);
			}
			break;
		}
		case RK_CPU_EXIT_UNDEF:
			EXIT(vm, RMI_EXIT_SYNC);
			ret = undef_icc(vm, v, hc, &ex);
			if (ret == 0) {
				(void)rk_cpu_inject_undef(v->cpu);
				ret = 1;
			}
			break;
		case RK_CPU_EXIT_TIMEOUT:
		case RK_CPU_EXIT_KICK:
			EXIT(vm, RMI_EXIT_IRQ);
			break;
		default:
			snprintf(msg, sizeof(msg),
				 "the CPU engine cannot go on (%s, error %d) at PC 0x%" PRIx64,
				 rk_cpu_exit_reason_name(ex.reason), ex.error, ex.pc);
			return host_run_error(vm, v, -EIO, 0, 0, msg);
		}
		if (ret != 1)
			return ret;
	}
}
