/* SPDX-License-Identifier: MIT */
/*
 * Realm vCPUs and their interrupts: the host's vGIC (vgic.c) around
 * REC_ENTER, the timer PPIs, SGIs, kicks and WFI blocking (the place of KVM's
 * vgic_flush_hwstate / vgic_sync_hwstate, kvm_realm_timers_update and
 * kvm_vcpu_block).
 *
 * - vCPU i enters on host CPU i % nhcpus: host_vgic_flush_hcpu() writes the
 *   interrupts it should see into that CPU's list registers (with HCR, VMCR
 *   and the APRs) before the SMC, host_vgic_sync_hcpu() folds them back after
 *   it, under the host's lock of that CPU, so vCPUs sharing a CPU (more vCPUs
 *   than host CPUs, or several VMs) each see their own state.
 * - After every exit the timer lines are RecExit's: ENABLE && ISTATUS &&
 *   !IMASK of cntv_ctl (PPI 27) and cntp_ctl (PPI 30), driven into the vGIC
 *   with host_vgic_set_level() (level-sensitive: pending while high, and
 *   re-sampled when the realm deactivates it).
 * - An SGI the realm writes (ICC_SGI1R/SGI0R/ASGI1R, an EC 0x18 exit) goes
 *   to host_vgic_sgi(); every other vCPU that has something pending then is
 *   kicked (host_vgic_kick_pending), as after a device raised a line.
 * - A kick bumps the vCPU's kick generation (waking it from WFI) and IPIs the
 *   CPU running its REC (rk_smc_kick_rec: REC_ENTER returns with an IRQ exit,
 *   and the next flush carries the interrupt). A kick that lands between a
 *   vCPU's flush and the start of its run is late, not lost: the run ends at
 *   the RMM's time slice at the latest and the next flush carries it.
 * - WFI is trapped (RecEnter TRAP_WFI): the vCPU blocks until its vGIC has an
 *   interrupt for it (host_vgic_vcpu_pending), the earliest deadline of an
 *   enabled, unmasked timer (RecExit's cvals against rk_counter_read()), a
 *   kick or the VM's stop; at most HOST_WFI_MAX_MS at a time (run.wfi_max_ms:
 *   tests make it long, so that only a wake-up ends the sleep). The kick
 *   generation is read before the vGIC is asked, so an interrupt made pending
 *   between the question and the sleep still ends the sleep.
 * - Normal VMs (run_normal.c) share the host CPU, the blocking
 *   (host_vcpu_hcpu, host_vcpu_block) and, until they use the vGIC too, keep
 *   their own minimal path: their ICH state (HCR, VMCR, APRs, LRs) loaded onto
 *   and saved from the host CPU around each run (host_gic_load/save), a high
 *   timer line of the platform's timer emulation put into a free list
 *   register as pending, Group 1, priority 0xa0 (host_inject_ppi), and WFI
 *   waking on a pending interrupt in those list registers.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "realmkit/arch/gic.h"
#include "realmkit/arch/sysreg.h"
#include "host_internal.h"
#include "vgic.h"

#define HOST_WFI_MAX_MS 10u
#define PPI_PRIORITY 0xa0u

int host_vcpu_hcpu(const struct rk_vm *vm, const struct rk_vcpu *v)
{
	const struct rk_host *h = vm->host;

	return h->nhcpus ? (int)(v->id % h->nhcpus) : -1;
}

/* The vCPU's state onto its host CPU (hcpu_mtx held). */
void host_gic_load(struct rk_vm *vm, struct rk_vcpu *v, unsigned int cpu)
{
	struct rk_machine *m = vm->host->m;
	struct host_vgic_cpu *g = &v->gic;

	if (!g->nr_lrs) {
		uint64_t vtr = 0;
		(void)rk_hcpu_ich_read(m, cpu, ICH_VTR_EL2, &vtr);
		g->nr_lrs = (uint32_t)(vtr & ICH_VTR_LISTREGS_MASK) + 1;
		if (g->nr_lrs > 16)
			g->nr_lrs = 16;
		g->hcr = ICH_HCR_EN;
	}
	(void)rk_hcpu_ich_write(m, cpu, ICH_VMCR_EL2, g->vmcr);
	(void)rk_hcpu_ich_write(m, cpu, ICH_AP0R_EL2(0), g->ap0r);
	(void)rk_hcpu_ich_write(m, cpu, ICH_AP1R_EL2(0), g->ap1r);
	for (unsigned int n = 0; n < g->nr_lrs; n++)
		(void)rk_hcpu_ich_write(m, cpu, ICH_LR_EL2(n), g->lr[n]);
	(void)rk_hcpu_ich_write(m, cpu, ICH_HCR_EL2, g->hcr | ICH_HCR_EN);
}

/* ... and back after the exit (En is clear now: keep the host's bits). */
void host_gic_save(struct rk_vm *vm, struct rk_vcpu *v, unsigned int cpu)
{
	struct rk_machine *m = vm->host->m;
	struct host_vgic_cpu *g = &v->gic;

	(void)rk_hcpu_ich_read(m, cpu, ICH_VMCR_EL2, &g->vmcr);
	(void)rk_hcpu_ich_read(m, cpu, ICH_AP0R_EL2(0), &g->ap0r);
	(void)rk_hcpu_ich_read(m, cpu, ICH_AP1R_EL2(0), &g->ap1r);
	for (unsigned int n = 0; n < g->nr_lrs; n++)
		(void)rk_hcpu_ich_read(m, cpu, ICH_LR_EL2(n), &g->lr[n]);
}

static bool lr_valid(uint64_t lr)
{
	return (lr & ICH_LR_STATE_MASK) != 0;
}

static int host_inject_ppi(struct rk_vm *vm, struct rk_vcpu *v, uint32_t intid)
{
	struct host_vgic_cpu *g = &v->gic;
	int free_lr = -1;

	(void)vm;
	for (unsigned int n = 0; n < g->nr_lrs; n++) {
		if (lr_valid(g->lr[n]) && (g->lr[n] & ICH_LR_VINTID_MASK) == intid)
			return 0; /* pending or active already: a level interrupt is not queued twice */
		if (!lr_valid(g->lr[n]) && free_lr < 0)
			free_lr = (int)n;
	}
	if (free_lr < 0)
		return -EBUSY;
	g->lr[free_lr] = ICH_LR(ICH_LR_STATE_PENDING, 1, PPI_PRIORITY, intid);
	return 0;
}

/* kvm_realm_timers_update: the lines from RecExit into the vGIC. */
static void timer_lines(struct rk_vm *vm, struct rk_vcpu *v, const struct rmi_rec_exit *ex)
{
	const uint64_t mask = CNT_CTL_ENABLE | CNT_CTL_IMASK | CNT_CTL_ISTATUS,
		       high = CNT_CTL_ENABLE | CNT_CTL_ISTATUS;
	uint32_t lines =
		((ex->cntv_ctl & mask) == high ? 1u : 0u) | ((ex->cntp_ctl & mask) == high ? 2u : 0u);

	if (lines != v->gic.timer && vm->run.vgic) {
		(void)host_vgic_set_level(vm->run.vgic, PPI_VTIMER, v->id, (lines & 1) != 0);
		(void)host_vgic_set_level(vm->run.vgic, PPI_PTIMER, v->id, (lines & 2) != 0);
	}
	v->gic.timer = lines;
}

void host_vcpu_inject_timers(struct rk_vm *vm, struct rk_vcpu *v)
{
	if (v->gic.timer & 1)
		(void)host_inject_ppi(vm, v, PPI_VTIMER);
	if (v->gic.timer & 2)
		(void)host_inject_ppi(vm, v, PPI_PTIMER);
}

uint64_t host_vcpu_enter(struct rk_vm *vm, struct rk_vcpu *v)
{
	struct rk_host *h = vm->host;
	struct host_vgic *g = vm->run.vgic;
	int cpu = host_vcpu_hcpu(vm, v), ret;
	uint64_t x0;

	if (cpu < 0 || !g)
		return host_rmi_on(h, -1, RMI_FID_REC_ENTER, NULL, v->rec.pa, v->run_pa, 0, 0, 0);
	pthread_mutex_lock(&h->hcpu_mtx[cpu]);
	ret = host_vgic_flush_hcpu(g, v->id, h->m, (unsigned int)cpu);
	x0 = host_rmi_on(h, cpu, RMI_FID_REC_ENTER, NULL, v->rec.pa, v->run_pa, 0, 0, 0);
	if (ret >= 0)
		ret = host_vgic_sync_hcpu(g, v->id, h->m, (unsigned int)cpu);
	pthread_mutex_unlock(&h->hcpu_mtx[cpu]);
	if (ret < 0)
		host_run_log(vm, "vCPU %u: host CPU %d's GIC interface refused the vGIC's state (%d)", v->id,
			     cpu, ret);
	if (x0 == RMI_SUCCESS)
		timer_lines(vm, v, &v->run->exit);
	return x0;
}

void host_vcpu_kick(struct rk_vm *vm, struct rk_vcpu *v)
{
	pthread_mutex_lock(&vm->run.mtx);
	v->gic.kick_gen++;
	pthread_cond_broadcast(&vm->run.cv);
	if (v->rec.pa)
		rk_smc_kick_rec(vm->host->m, v->rec.pa);
	pthread_mutex_unlock(&vm->run.mtx);
}

void host_vgic_kick_pending(struct rk_vm *vm, uint32_t skip)
{
	struct host_vgic *g = vm->run.vgic;

	for (uint32_t t = 0; g && t < vm->nvcpus; t++)
		if (t != skip && host_vgic_vcpu_pending(g, t))
			host_vcpu_kick(vm, vm->vcpus[t]);
}

void host_vcpu_sgi(struct rk_vm *vm, struct rk_vcpu *v, uint32_t reg, uint64_t value)
{
	/* the sender's own SGI is in its next flush: only the others are kicked */
	if (vm->run.vgic && host_vgic_sgi(vm->run.vgic, v->id, reg, value) > 0)
		host_vgic_kick_pending(vm, v->id);
}

/*
 * A normal VM without a vGIC: an interrupt would wake the vCPU's WFI: a pending Group 1 interrupt (in an
 * LR, or a timer line about to be injected) the interface can signal
 * (Group 1 enabled, priority above the mask; PSTATE.I does not matter).
 */
static bool lr_irq_pending(const struct rk_vcpu *v)
{
	const struct host_vgic_cpu *g = &v->gic;
	uint64_t pmr = (g->vmcr & ICH_VMCR_VPMR_MASK) >> ICH_VMCR_VPMR_SHIFT;

	if (!(g->vmcr & ICH_VMCR_VENG1))
		return false;
	if (g->timer && PPI_PRIORITY < pmr)
		return true;
	for (unsigned int n = 0; n < g->nr_lrs; n++)
		if ((g->lr[n] & ICH_LR_PENDING_BIT) && (g->lr[n] & ICH_LR_GROUP) &&
		    ((g->lr[n] & ICH_LR_PRIORITY_MASK) >> ICH_LR_PRIORITY_SHIFT) < pmr)
			return true;
	return false;
}

/*
 * The earliest counter value at which an enabled, unmasked timer of the last
 * exit that had not fired yet fires (one that has is a line already).
 */
static uint64_t timer_deadline(const struct rmi_rec_exit *ex)
{
	const uint64_t mask = CNT_CTL_ENABLE | CNT_CTL_IMASK | CNT_CTL_ISTATUS;
	uint64_t d = UINT64_MAX;

	if ((ex->cntv_ctl & mask) == CNT_CTL_ENABLE)
		d = ex->cntv_cval;
	if ((ex->cntp_ctl & mask) == CNT_CTL_ENABLE && ex->cntp_cval < d)
		d = ex->cntp_cval;
	return d;
}

void host_vcpu_wfi(struct rk_vm *vm, struct rk_vcpu *v)
{
	host_vcpu_block(vm, v, timer_deadline(&v->run->exit));
}

void host_vcpu_block(struct rk_vm *vm, struct rk_vcpu *v, uint64_t due)
{
	uint64_t now = rk_counter_read(), ns, gen;
	struct timespec ts;
	bool pending;

	/* the generation first: a kick after this (an interrupt made pending after
	 * the vGIC was asked below) ends the wait */
	pthread_mutex_lock(&vm->run.mtx);
	gen = v->gic.kick_gen;
	pthread_mutex_unlock(&vm->run.mtx);
	pending = vm->run.vgic ? host_vgic_vcpu_pending(vm->run.vgic, v->id) : lr_irq_pending(v);
	if (pending || (due != UINT64_MAX && due <= now))
		return;
	ns = (uint64_t)(vm->run.wfi_max_ms ? vm->run.wfi_max_ms : HOST_WFI_MAX_MS) * 1000000u;
	if (due != UINT64_MAX && (due - now) < ns / 16u)
		ns = (due - now) * 16u; /* 62.5 MHz: 16 ns a tick */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ns / 1000000000u);
	ts.tv_nsec += (long)(ns % 1000000000u);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&vm->run.mtx);
	while (!host_run_stopping_locked(vm) && v->gic.kick_gen == gen &&
	       pthread_cond_timedwait(&vm->run.cv, &vm->run.mtx, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&vm->run.mtx);
}
