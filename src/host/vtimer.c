/* SPDX-License-Identifier: MIT */
/*
 * vCPUs and their interrupts, realms and normal VMs alike: the host's vGIC
 * (vgic.c) around each entry, the timer PPIs, SGIs, kicks and WFI blocking
 * (the place of KVM's vgic_flush_hwstate / vgic_sync_hwstate,
 * kvm_realm_timers_update / kvm_timer_update_irq and kvm_vcpu_block).
 *
 * - vCPU i enters on host CPU i % nhcpus: host_gic_load() takes the host's
 *   lock of that CPU and host_vgic_flush_hcpu() writes the interrupts it
 *   should see into the CPU's list registers (with HCR, VMCR and the APRs);
 *   after the REC_ENTER (realm) or the engine run (normal VM),
 *   host_gic_save() folds them back (host_vgic_sync_hcpu()) and releases the
 *   CPU, so vCPUs sharing a CPU (more vCPUs than host CPUs, or several VMs)
 *   each see their own state.
 * - The timer lines (host_vcpu_timer_lines) are driven into PPIs 27
 *   (virtual) and 30 (physical) with host_vgic_set_level() (level-sensitive:
 *   pending while high, and re-sampled when the guest deactivates it): a
 *   realm's from RecExit after every exit (ENABLE && ISTATUS && !IMASK of
 *   cntv_ctl and cntp_ctl), a normal VM's from the platform's timer
 *   emulation before and after every run.
 * - An SGI the guest writes (ICC_SGI1R/SGI0R/ASGI1R: a realm's EC 0x18 exit,
 *   a normal VM's trapped access) goes to host_vgic_sgi() (host_vcpu_sgi);
 *   every other vCPU that has something pending then is kicked
 *   (host_vgic_kick_pending), as after a device raised a line.
 * - A kick bumps the vCPU's kick generation (waking it from WFI) and makes
 *   the vCPU's run end: the CPU running its REC gets an IPI (rk_smc_kick_rec:
 *   REC_ENTER returns with an IRQ exit), a normal VM's engine is kicked
 *   (rk_cpu_kick: its current run ends, or its next one at once); the next
 *   flush carries the interrupt. A kick that lands between a realm vCPU's
 *   flush and the start of its run is late, not lost: the run ends at the
 *   RMM's time slice at the latest and the next flush carries it.
 * - WFI is trapped: the vCPU blocks (host_vcpu_block) until its vGIC has an
 *   interrupt for it (host_vgic_vcpu_pending), the earliest deadline of an
 *   enabled, unmasked timer (a realm's from RecExit's cvals, a normal VM's
 *   from its timer emulation, against rk_counter_read()), a kick or the VM's
 *   stop; at most HOST_WFI_MAX_MS at a time (run.wfi_max_ms: tests make it
 *   long, so that only a wake-up ends the sleep). The kick generation is read
 *   before the vGIC is asked, so an interrupt made pending between the
 *   question and the sleep still ends the sleep.
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

int host_vcpu_hcpu(const struct rk_vm *vm, const struct rk_vcpu *v)
{
	const struct rk_host *h = vm->host;

	return h->nhcpus && vm->run.vgic ? (int)(v->id % h->nhcpus) : -1;
}

int host_gic_load(struct rk_vm *vm, struct rk_vcpu *v, unsigned int cpu)
{
	struct rk_host *h = vm->host;

	pthread_mutex_lock(&h->hcpu_mtx[cpu]);
	return host_vgic_flush_hcpu(vm->run.vgic, v->id, h->m, cpu);
}

void host_gic_save(struct rk_vm *vm, struct rk_vcpu *v, unsigned int cpu, int loaded)
{
	struct rk_host *h = vm->host;
	int ret = loaded;

	if (ret >= 0)
		ret = host_vgic_sync_hcpu(vm->run.vgic, v->id, h->m, cpu);
	pthread_mutex_unlock(&h->hcpu_mtx[cpu]);
	if (ret < 0)
		host_run_log(vm, "vCPU %u: host CPU %u's GIC interface refused the vGIC's state (%d)", v->id,
			     cpu, ret);
}

void host_vcpu_timer_lines(struct rk_vm *vm, struct rk_vcpu *v, uint32_t lines)
{
	if (lines != v->gic.timer && vm->run.vgic) {
		(void)host_vgic_set_level(vm->run.vgic, PPI_VTIMER, v->id, (lines & 1) != 0);
		(void)host_vgic_set_level(vm->run.vgic, PPI_PTIMER, v->id, (lines & 2) != 0);
	}
	v->gic.timer = lines;
}

/* kvm_realm_timers_update: the lines from RecExit. */
static uint32_t rec_timer_lines(const struct rmi_rec_exit *ex)
{
	const uint64_t mask = CNT_CTL_ENABLE | CNT_CTL_IMASK | CNT_CTL_ISTATUS,
		       high = CNT_CTL_ENABLE | CNT_CTL_ISTATUS;

	return ((ex->cntv_ctl & mask) == high ? 1u : 0u) | ((ex->cntp_ctl & mask) == high ? 2u : 0u);
}

uint64_t host_vcpu_enter(struct rk_vm *vm, struct rk_vcpu *v)
{
	struct rk_host *h = vm->host;
	int cpu = host_vcpu_hcpu(vm, v), loaded;
	uint64_t x0;

	if (cpu < 0)
		return host_rmi_on(h, -1, RMI_FID_REC_ENTER, NULL, v->rec.pa, v->run_pa, 0, 0, 0);
	loaded = host_gic_load(vm, v, (unsigned int)cpu);
	x0 = host_rmi_on(h, cpu, RMI_FID_REC_ENTER, NULL, v->rec.pa, v->run_pa, 0, 0, 0);
	host_gic_save(vm, v, (unsigned int)cpu, loaded);
	if (x0 == RMI_SUCCESS)
		host_vcpu_timer_lines(vm, v, rec_timer_lines(&v->run->exit));
	return x0;
}

void host_vcpu_kick(struct rk_vm *vm, struct rk_vcpu *v)
{
	pthread_mutex_lock(&vm->run.mtx);
	v->gic.kick_gen++;
	pthread_cond_broadcast(&vm->run.cv);
	if (v->rec.pa)
		rk_smc_kick_rec(vm->host->m, v->rec.pa);
	else if (v->cpu)
		rk_cpu_kick(v->cpu); /* a normal VM's engine (v->cpu changes under run.mtx) */
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

	/* the generation first: a kick after this (an interrupt made pending after
	 * the vGIC was asked below) ends the wait */
	pthread_mutex_lock(&vm->run.mtx);
	gen = v->gic.kick_gen;
	pthread_mutex_unlock(&vm->run.mtx);
	if (host_vgic_vcpu_pending(vm->run.vgic, v->id) || (due != UINT64_MAX && due <= now))
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
