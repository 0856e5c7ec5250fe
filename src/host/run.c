/* SPDX-License-Identifier: MIT */
/*
 * The vCPU run loop: rk_vcpu_run() (KVM_RUN), rk_vm_run() (a thread per
 * vCPU), stop and resume, and the realm side of it (RMI_REC_ENTER and its
 * exits). The normal-VM side is run_normal.c; devices and host calls are
 * devices.c. docs/lifecycle.md, "Running", describes what happens at each
 * exit.
 *
 * Threads. Each vCPU is run by the thread that called rk_vcpu_run() for it.
 * RMI_REC_ENTER is issued without the host lock (the RMM serialises the RECs
 * of one realm itself); everything an exit asks of the host that touches
 * host state (mapping, RIPAS changes) is done under the host lock. Power
 * states, the stop request and the stop reason are under vm->run.mtx; a vCPU
 * that is off sleeps on vm->run.cv until a CPU_ON targets it or the VM stops.
 *
 * The CPU_OFF / CPU_ON race (a CPU_ON completed while its target is on its way
 * out with CPU_OFF) is resolved as Linux v14 does: the host's power state is a
 * hint, RMI_REC_ENTER is the truth. Each completed CPU_ON bumps the target's
 * wake_gen; a vCPU that exits with CPU_OFF (or whose REC_ENTER says ERROR_REC,
 * not runnable) sleeps only if no CPU_ON targeted it since it entered.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rmi_cmds.h"
#include "s2.h"
#include "vgic.h"
#include "realmkit/arch/esr.h"
#include "realmkit/arch/gic.h"
#include "realmkit/arch/psci.h"

#define RIPAS_RETRIES 4
#define BLOCK_SIZE (2ULL << 20)
#define STOP_WAIT_MS 1000 /* how long an ERROR_REALM entry waits for the vCPU that switched the realm off */

#define STAT(vm, field) __atomic_fetch_add(&(vm)->run.info.field, 1, __ATOMIC_RELAXED)
#define LOAD(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

static const char *const exit_names[] = {
	"SYNC", "IRQ", "FIQ", "PSCI", "RIPAS_CHANGE", "HOST_CALL", "SERROR", "S2AP_CHANGE",
};

const char *rk_vm_stop_reason_name(unsigned int reason)
{
	static const char *const names[] = { "running", "SYSTEM_OFF", "SYSTEM_RESET",
					     "stopped", "timeout",    "error" };

	return reason < sizeof(names) / sizeof(names[0]) ? names[reason] : "?";
}

static bool final_reason(unsigned int r)
{
	return r == RK_STOP_SYSTEM_OFF || r == RK_STOP_SYSTEM_RESET || r == RK_STOP_ERROR;
}

/* ---- run state ---- */

int host_run_init(struct rk_vm *vm)
{
	struct host_run *r = &vm->run;
	pthread_condattr_t ca;

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mtx, NULL);
	pthread_mutex_init(&r->dev_mtx, NULL);
	pthread_mutex_init(&r->exec_mtx, NULL);
	rk_cpu_tlb_domain_init(&r->tlb);
	pthread_mutex_init(&r->log_mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

void host_run_vcpu_fini(struct rk_vm *vm, struct rk_vcpu *v)
{
	struct rk_host *h = vm->host;

	if (v->run_pa) {
		/* the RMM wrote the realm's registers there (exits): zero before reuse */
		host_led_dirty(h, v->run_pa, 1, true);
		host_pfree(h, v->run_pa, 1);
		v->run_pa = 0;
		v->run = NULL;
	}
	host_normal_vcpu_free(vm, v);
}

void host_run_fini(struct rk_vm *vm)
{
	host_run_log_flush(vm);
	for (uint32_t i = 0; i < vm->nvcpus; i++)
		host_run_vcpu_fini(vm, vm->vcpus[i]);
}

/*
 * Per-event messages (one per guest action: a guest can make millions) are
 * rate-limited by kind, the format string: the first HOST_RUN_LOG_LIMIT of a
 * kind are printed, the rest counted (host_run_log_flush). Kinds past the
 * table share its last slot.
 */
void host_run_log(struct rk_vm *vm, const char *fmt, ...)
{
	struct host_run *r = &vm->run;
	const size_t nk = sizeof(r->log_kinds) / sizeof(r->log_kinds[0]);
	struct host_log_kind *k = &r->log_kinds[nk - 1];
	FILE *f = r->log;
	va_list ap;

	if (!f)
		return;
	pthread_mutex_lock(&r->log_mtx);
	for (size_t i = 0; i < nk; i++) {
		if (!r->log_kinds[i].fmt || r->log_kinds[i].fmt == fmt) {
			k = &r->log_kinds[i];
			break;
		}
	}
	if (!k->fmt) {
		k->fmt = fmt;
		va_start(ap, fmt);
		vsnprintf(k->first, sizeof(k->first), fmt, ap);
		va_end(ap);
	}
	if (k->n++ < HOST_RUN_LOG_LIMIT) {
		flockfile(f);
		fprintf(f, "vm %u: ", vm->id);
		va_start(ap, fmt);
		vfprintf(f, fmt, ap);
		va_end(ap);
		fputc('\n', f);
		funlockfile(f);
	}
	pthread_mutex_unlock(&r->log_mtx);
}

void host_run_log_flush(struct rk_vm *vm)
{
	struct host_run *r = &vm->run;

	pthread_mutex_lock(&r->log_mtx);
	for (size_t i = 0; i < sizeof(r->log_kinds) / sizeof(r->log_kinds[0]); i++) {
		struct host_log_kind *k = &r->log_kinds[i];

		if (r->log && k->n > HOST_RUN_LOG_LIMIT)
			fprintf(r->log, "vm %u: ... %" PRIu64 " more messages like '%s' suppressed\n", vm->id,
				k->n - HOST_RUN_LOG_LIMIT, k->first);
		memset(k, 0, sizeof(*k));
	}
	pthread_mutex_unlock(&r->log_mtx);
}

/* What a vCPU thread does now: 1 go on, else the value rk_vcpu_run() returns. run.mtx held. */
static int stop_code(struct rk_vm *vm)
{
	const struct rk_vm_run_info *i = &vm->run.info;

	if (i->reason == RK_STOP_ERROR)
		return i->err;
	if (i->reason == RK_STOP_SYSTEM_OFF || i->reason == RK_STOP_SYSTEM_RESET)
		return 0;
	if (vm->run.stop_requested)
		return -EINTR;
	return 1;
}

bool host_run_stopping_locked(struct rk_vm *vm)
{
	return stop_code(vm) != 1;
}

bool host_run_stopping(struct rk_vm *vm)
{
	bool s;

	pthread_mutex_lock(&vm->run.mtx);
	s = stop_code(vm) != 1;
	pthread_mutex_unlock(&vm->run.mtx);
	return s;
}

static void host_realm_kick(struct rk_vm *vm);

void host_run_stop(struct rk_vm *vm, uint32_t vcpu, unsigned int reason, int err, uint64_t fid, uint64_t x0,
		   const char *fmt, ...)
{
	struct rk_vm_run_info *i = &vm->run.info;
	bool set = false;
	va_list ap;

	pthread_mutex_lock(&vm->run.mtx);
	if (final_reason(reason) ? !final_reason(i->reason) : i->reason == RK_STOP_NONE) {
		i->reason = reason;
		i->vcpu = vcpu;
		i->err = err;
		i->fid = fid;
		i->x0 = x0;
		va_start(ap, fmt);
		vsnprintf(i->msg, sizeof(i->msg), fmt, ap);
		va_end(ap);
		set = true;
	}
	if (!final_reason(reason))
		vm->run.stop_requested = 1;
	pthread_cond_broadcast(&vm->run.cv);
	pthread_mutex_unlock(&vm->run.mtx);
	if (vm->kind == RK_VM_NORMAL)
		host_normal_kick(vm);
	else if (!final_reason(reason))
		host_realm_kick(vm);
	if (set && reason == RK_STOP_ERROR)
		host_run_log(vm, "stopped: %s", i->msg);
}

/* IPI every CPU running one of the realm's RECs: their REC_ENTERs return with IRQ exits. */
static void host_realm_kick(struct rk_vm *vm)
{
	pthread_mutex_lock(&vm->run.mtx);
	for (uint32_t i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i]->rec.pa)
			rk_smc_kick_rec(vm->host->m, vm->vcpus[i]->rec.pa);
	pthread_mutex_unlock(&vm->run.mtx);
}

void rk_vm_stop(struct rk_vm *vm)
{
	if (vm)
		host_run_stop(vm, 0, RK_STOP_REQUESTED, -EINTR, 0, 0, "rk_vm_stop()");
}

void rk_vm_resume(struct rk_vm *vm)
{
	if (!vm)
		return;
	pthread_mutex_lock(&vm->run.mtx);
	vm->run.stop_requested = 0;
	if (!final_reason(vm->run.info.reason)) {
		vm->run.info.reason = RK_STOP_NONE;
		vm->run.info.msg[0] = '\0';
	}
	pthread_mutex_unlock(&vm->run.mtx);
}

int rk_vm_get_run_info(struct rk_vm *vm, struct rk_vm_run_info *out)
{
	struct rk_vm_run_info *i;

	if (!vm || !out)
		return -EINVAL;
	i = &vm->run.info;
	pthread_mutex_lock(&vm->run.mtx);
	out->reason = i->reason;
	out->vcpu = i->vcpu;
	out->err = i->err;
	out->reserved = 0;
	out->fid = i->fid;
	out->x0 = i->x0;
	memcpy(out->msg, i->msg, sizeof(out->msg));
	pthread_mutex_unlock(&vm->run.mtx);
	/* counted with atomics by the vCPU threads */
	out->entries = LOAD(i->entries);
	for (unsigned int k = 0; k < 8; k++)
		out->exits[k] = LOAD(i->exits[k]);
	out->mmio = LOAD(i->mmio);
	out->mmio_unhandled = LOAD(i->mmio_unhandled);
	out->s2_faults = LOAD(i->s2_faults);
	out->shared_faults = LOAD(i->shared_faults);
	out->host_calls = LOAD(i->host_calls);
	out->psci = LOAD(i->psci);
	out->ripas_changes = LOAD(i->ripas_changes);
	out->ripas_rejected = LOAD(i->ripas_rejected);
	return 0;
}

/* ---- power states ---- */

bool host_mpidr_vcpu(const struct rk_vm *vm, uint64_t mpidr, uint32_t *id)
{
	uint64_t aff0 = mpidr & 0xff, aff1 = (mpidr >> 8) & 0xff, aff2 = (mpidr >> 16) & 0xff,
		 aff3 = (mpidr >> 32) & 0xff;
	uint32_t idx;

	if (aff0 > 0xf || (mpidr & ~(0xffffffULL | (0xffULL << 32) | (3ULL << 30))))
		return false;
	idx = (uint32_t)(aff0 | aff1 << 4 | aff2 << 12 | aff3 << 20);
	if (idx >= vm->nvcpus)
		return false;
	*id = idx;
	return true;
}

void host_run_wake(struct rk_vm *vm, uint32_t t)
{
	struct rk_vcpu *v = vm->vcpus[t];

	pthread_mutex_lock(&vm->run.mtx);
	v->on = 1;
	v->wake_gen++;
	pthread_cond_broadcast(&vm->run.cv);
	pthread_mutex_unlock(&vm->run.mtx);
}

/*
 * v is off (CPU_OFF, or not runnable) unless a CPU_ON targeted it since it
 * entered (gen). Stops the VM if no vCPU is on any more: nothing could start
 * one again.
 */
void host_run_vcpu_off(struct rk_vm *vm, struct rk_vcpu *v, uint64_t gen, const char *why)
{
	uint32_t on = 0;

	pthread_mutex_lock(&vm->run.mtx);
	if (v->wake_gen == gen)
		v->on = 0;
	for (uint32_t i = 0; i < vm->nvcpus; i++)
		on += vm->vcpus[i]->on;
	pthread_mutex_unlock(&vm->run.mtx);
	if (!on)
		host_run_stop(vm, v->id, RK_STOP_ERROR, -EDEADLK, 0, 0,
			      "vCPU %u is off (%s) and so is every other vCPU: nothing can run again", v->id,
			      why);
}

/* Sleep until v is on or the VM stops. 1: go on (gen = the wake generation at entry); else the stop code. */
int host_run_wait(struct rk_vm *vm, struct rk_vcpu *v, uint64_t *gen)
{
	int ret;

	pthread_mutex_lock(&vm->run.mtx);
	while ((ret = stop_code(vm)) == 1 && !v->on)
		pthread_cond_wait(&vm->run.cv, &vm->run.mtx);
	*gen = v->wake_gen;
	pthread_mutex_unlock(&vm->run.mtx);
	return ret;
}

/* ---- realm: RIPAS changes ---- */

static void ripas_mark(struct rk_vm *vm, uint64_t base, uint64_t top, bool shared)
{
	for (uint32_t i = 0; i < vm->nslots; i++) {
		struct host_memslot *s = &vm->slots[i];
		uint64_t lo = base > s->ipa ? base : s->ipa,
			 hi = top < s->ipa + s->size ? top : s->ipa + s->size;

		if ((s->flags & RK_MEMSLOT_SHARED) || lo >= hi)
			continue;
		if (!s->shared) {
			if (!shared)
				continue;
			s->shared = calloc((s->size / G4K + 63) / 64, sizeof(uint64_t));
			if (!s->shared)
				continue; /* then the alias is not mapped on faults: the realm gets SEAs */
		}
		for (uint64_t a = lo; a < hi; a += G4K) {
			uint64_t k = (a - s->ipa) / G4K;
			if (shared)
				s->shared[k / 64] |= 1ULL << (k % 64);
			else
				s->shared[k / 64] &= ~(1ULL << (k % 64));
		}
	}
}

static bool page_shared(const struct host_memslot *s, uint64_t ipa)
{
	uint64_t k = (ipa - s->ipa) / G4K;

	return s->shared && (s->shared[k / 64] >> (k % 64)) & 1;
}

static bool range_shared(const struct host_memslot *s, uint64_t ipa, uint64_t size)
{
	for (uint64_t a = ipa; s->shared && a < ipa + size; a += G4K)
		if (page_shared(s, a))
			return true;
	return false;
}

static bool in_private_slots(struct rk_vm *vm, uint64_t base, uint64_t top)
{
	while (base < top) {
		struct host_memslot *s = host_memslot_find(vm, base, G4K);
		if (!s || (s->flags & RK_MEMSLOT_SHARED))
			return false;
		base = s->ipa + s->size;
	}
	return true;
}

/* Before the next entry: carry out (or refuse) the RIPAS change the vCPU asked for. */
static void ripas_complete(struct rk_vm *vm, struct rk_vcpu *v, uint64_t *flags)
{
	struct rk_host *h = vm->host;
	struct host_pending *p = &v->pend;
	uint64_t base = p->ripas_base, top = p->ripas_top, addr = base, bit = 1ULL << (vm->ipa_bits - 1);
	unsigned int ripas = p->ripas - 1;
	int tries = 0;

	p->ripas = 0;
	if (!p->ripas_accept) {
		*flags |= RMI_REC_ENTER_FLAGS_RIPAS_RESPONSE_MASK; /* REJECT */
		return;
	}
	host_lock(h);
	/* back to RAM: the shared mappings of the alias go first (the pages become private again) */
	if (ripas == RMI_RIPAS_RAM && host_s2_unmap(&vm->s2, base | bit, top - base)) {
		host_run_log(vm,
			     "vCPU %u: RIPAS RAM 0x%" PRIx64 "..0x%" PRIx64
			     ": cannot unmap the shared alias: %s",
			     v->id, base, top, h->err.msg);
		*flags |= RMI_REC_ENTER_FLAGS_RIPAS_RESPONSE_MASK;
		host_unlock(h);
		return;
	}
	while (addr < top) {
		uint64_t x[5], x0 = host_rmi_rtt_set_ripas(h, vm->realm.rd, v->rec, addr, top, x);

		if (RMI_ST(x0) == RMI_ERROR_RTT && RMI_IDX(x0) < S2_MAX_LEVEL && tries++ < RIPAS_RETRIES) {
			/* the entry at addr is larger than what is left: split it */
			if (host_s2_ensure_level(&vm->s2, addr, (int)RMI_IDX(x0) + 1))
				break;
			continue;
		}
		if (RMI_ST(x0) != RMI_SUCCESS || x[1] <= addr || x[1] > top) {
			host_run_log(
				vm, "vCPU %u: RMI_RTT_SET_RIPAS(0x%" PRIx64 ", 0x%" PRIx64 ") -> %s index %u",
				v->id, addr, top, rk_rmi_status_name(x0), RMI_IDX(x0));
			break;
		}
		addr = x[1];
		tries = 0;
	}
	if (addr > base) {
		ripas_mark(vm, base, addr, ripas == RMI_RIPAS_EMPTY);
		/* to EMPTY: the private pages leave the realm: unmap and undelegate them, as KVM does */
		if (ripas == RMI_RIPAS_EMPTY && host_s2_unmap(&vm->s2, base, addr - base))
			host_run_log(vm,
				     "vCPU %u: RIPAS EMPTY 0x%" PRIx64 "..0x%" PRIx64 ": unmap failed: %s",
				     v->id, base, addr, h->err.msg);
	}
	host_unlock(h);
}

/* ---- realm: exits ---- */

int host_run_error(struct rk_vm *vm, struct rk_vcpu *v, int err, uint64_t fid, uint64_t x0, const char *msg)
{
	host_run_stop(vm, v->id, RK_STOP_ERROR, err, fid, x0, "vCPU %u: %s", v->id, msg);
	return err;
}

/* Data abort at an unprotected IPA: a device, shared memory, or an SEA. */
static int unprotected_abort(struct rk_vm *vm, struct rk_vcpu *v, uint64_t esr, uint64_t ipa,
			     const struct rmi_rec_exit *ex)
{
	struct rk_host *h = vm->host;
	struct host_pending *p = &v->pend;
	uint64_t page = ipa & ~(G4K - 1), bit = 1ULL << (vm->ipa_bits - 1);
	struct host_memslot *s;
	const char *why;
	int ret = -ENODEV;

	if (host_mmio_find(vm, ipa)) {
		if ((esr & ESR_ISV) && esr_fsc(esr) != ESR_FSC_GPF) {
			bool write = (esr & ESR_WNR) != 0;
			uint64_t value = write ? ex->gprs[0] : 0;
			if (!host_mmio_access(vm, v->id, ipa, 1u << esr_sas(esr), write, &value)) {
				if (!write) {
					p->gprs[0] = value;
					p->gprs_valid = 1;
				}
				p->enter_flags |= RMI_REC_ENTER_FLAGS_EMULATED_MMIO_MASK;
				STAT(vm, mmio);
				return 1;
			}
			why = "the device refused the access";
		} else {
			why = "no syndrome to emulate it (ISV = 0: pair, atomic or writeback access)";
		}
	} else {
		/* shared memory: a shared slot, or the alias of a private page the realm shared */
		host_lock(h);
		s = host_memslot_find(vm, page, G4K);
		if (s && (s->flags & RK_MEMSLOT_SHARED)) {
			ret = host_vm_map(vm, page, G4K, S2_MAX_LEVEL, false);
		} else {
			s = host_memslot_find(vm, page & ~bit, G4K);
			if (s && !(s->flags & RK_MEMSLOT_SHARED) && page_shared(s, page & ~bit))
				ret = host_vm_map(vm, page, G4K, S2_MAX_LEVEL, true);
		}
		host_unlock(h);
		if (!ret && p->last_fault != page + 1) {
			p->last_fault = page + 1;
			STAT(vm, shared_faults);
			return 1;
		}
		why = ret == -ENODEV ? "no device and no shared memory there"
		      : !ret         ? "the fault persists after mapping"
				     : "shared memory there cannot be mapped";
	}
	/* as KVM: an access nothing can serve gets an external abort */
	STAT(vm, mmio_unhandled);
	p->enter_flags |= RMI_REC_ENTER_FLAGS_INJECT_SEA_MASK;
	host_run_log(vm, "vCPU %u: %s at unprotected IPA 0x%" PRIx64 " (ESR 0x%" PRIx64 "): %s: SEA injected",
		     v->id, (esr & ESR_WNR) ? "write" : "read", ipa, esr, why);
	return 1;
}

static int realm_sync(struct rk_vm *vm, struct rk_vcpu *v, const struct rmi_rec_exit *ex)
{
	struct rk_host *h = vm->host;
	uint64_t esr = ex->esr, ipa = ((ex->hpfar >> 4) << 12) | (ex->far & (G4K - 1)),
		 page = ipa & ~(G4K - 1);
	unsigned int ec = esr_ec(esr);
	char msg[240];
	int ret;

	if (ec == ESR_EC_WFX) {
		/* a trapped WFI (WFE is not trapped): block until an interrupt, timer or kick */
		if (!(esr & ESR_WFX_TI_WFE))
			host_vcpu_wfi(vm, v);
		return 1;
	}
	if (ec == ESR_EC_SYS64) {
		/* the RMM hands over ICC_SGI1R/SGI0R/ASGI1R writes (and registers the
		 * host traps, none here): the value is in gprs[0] */
		uint32_t reg = (uint32_t)(esr & SYSREG_ENC_MASK);

		if (!(esr & ESR_SYS64_DIR_READ) &&
		    (reg == ICC_SGI1R_EL1 || reg == ICC_SGI0R_EL1 || reg == ICC_ASGI1R_EL1)) {
			host_vcpu_sgi(vm, v, reg, ex->gprs[0]);
			return 1;
		}
		snprintf(msg, sizeof(msg), "unexpected system register trap (ESR 0x%" PRIx64 ")", esr);
		return host_run_error(vm, v, -EPROTO, 0, 0, msg);
	}
	if (ec != ESR_EC_DABT_LOW && ec != ESR_EC_IABT_LOW) {
		snprintf(msg, sizeof(msg), "unexpected SYNC exit (ESR 0x%" PRIx64 ", EC 0x%x)", esr, ec);
		return host_run_error(vm, v, -EPROTO, 0, 0, msg);
	}
	if (ipa >> (vm->ipa_bits - 1)) {
		if (ec == ESR_EC_IABT_LOW) {
			snprintf(msg, sizeof(msg),
				 "instruction abort at unprotected IPA 0x%" PRIx64 " reached the host", ipa);
			return host_run_error(vm, v, -EPROTO, 0, 0, msg);
		}
		return unprotected_abort(vm, v, esr, ipa, ex);
	}
	/* protected IPA, RIPAS RAM, not mapped: map the page of its memory slot (KVM: delegate + DATA_MAP) */
	host_lock(h);
	struct host_memslot *s = host_memslot_find(vm, page, G4K);
	if (!s || (s->flags & RK_MEMSLOT_SHARED)) {
		ret = -EFAULT;
		snprintf(msg, sizeof(msg),
			 "stage-2 fault at protected IPA 0x%" PRIx64 " (%s), outside every memory slot", ipa,
			 ec == ESR_EC_IABT_LOW ? "instruction fetch" : "data access");
	} else if (v->pend.last_fault == page + 1) {
		ret = -EFAULT;
		snprintf(msg, sizeof(msg),
			 "stage-2 fault at protected IPA 0x%" PRIx64 " persists after mapping", ipa);
	} else {
		/*
		 * As KVM with a huge page behind the fault: the whole 2 MiB block when it is in
		 * the slot, its backing is one aligned run and none of it is shared (a block
		 * entry if its RTT entry is free, else every page of it not mapped yet); else
		 * the page. The RMM then runs the realm on 2 MiB of memory at a time.
		 */
		uint64_t blk = page & ~(BLOCK_SIZE - 1), pa;
		bool block = blk >= s->ipa && blk + BLOCK_SIZE <= s->ipa + s->size &&
			     !range_shared(s, blk, BLOCK_SIZE) &&
			     !host_memslot_pa(vm, blk, BLOCK_SIZE, &pa) && !(pa & (BLOCK_SIZE - 1));
		ret = block ? host_vm_map(vm, blk, BLOCK_SIZE, S2_MAX_LEVEL - 1, false)
			    : host_vm_map(vm, page, G4K, S2_MAX_LEVEL, false);
		if (ret == -EEXIST)
			ret = 0; /* mapped meanwhile */
		if (ret)
			snprintf(msg, sizeof(msg), "cannot map IPA 0x%" PRIx64 ": %.150s", page, h->err.msg);
	}
	uint64_t fid = h->err.fid, x0 = h->err.x0;
	host_unlock(h);
	if (ret)
		return host_run_error(vm, v, ret, fid, x0, msg);
	v->pend.last_fault = page + 1;
	STAT(vm, s2_faults);
	return 1;
}

static int realm_psci(struct rk_vm *vm, struct rk_vcpu *v, const struct rmi_rec_exit *ex, uint64_t gen)
{
	uint64_t fid = ex->gprs[0];
	uint32_t t;
	char msg[160];

	STAT(vm, psci);
	switch (PSCI_FN(fid)) {
	case PSCI_FN(PSCI_CPU_OFF):
		host_run_vcpu_off(vm, v, gen, "PSCI CPU_OFF");
		return 1;
	case PSCI_FN(PSCI_CPU_ON_64):
	case PSCI_FN(PSCI_AFFINITY_INFO_64):
		if (!host_mpidr_vcpu(vm, ex->gprs[1], &t)) {
			/* the RMM checked the target: it is a REC of this realm */
			snprintf(msg, sizeof(msg),
				 "PSCI 0x%" PRIx64 " names MPIDR 0x%" PRIx64 ", which is no vCPU", fid,
				 ex->gprs[1]);
			return host_run_error(vm, v, -EPROTO, 0, 0, msg);
		}
		/* Linux v14: CPU_ON status SUCCESS when the host's own answer is SUCCESS or ALREADY_ON */
		v->pend.psci_fid = fid;
		v->pend.psci_target = t;
		v->pend.psci_status = (uint64_t)PSCI_RET_SUCCESS;
		return 1;
	case PSCI_FN(PSCI_SYSTEM_OFF):
		host_run_stop(vm, v->id, RK_STOP_SYSTEM_OFF, 0, 0, 0, "vCPU %u: PSCI SYSTEM_OFF", v->id);
		return 0;
	case PSCI_FN(PSCI_SYSTEM_RESET):
		host_run_stop(vm, v->id, RK_STOP_SYSTEM_RESET, 0, 0, 0,
			      "vCPU %u: PSCI SYSTEM_RESET (realms are not restarted)", v->id);
		return 0;
	default: /* CPU_SUSPEND: the realm already has its answer */
		return 1;
	}
}

static bool default_ripas_policy(struct rk_vm *vm, uint64_t base, uint64_t top)
{
	bool ok;

	host_lock(vm->host);
	ok = in_private_slots(vm, base, top);
	host_unlock(vm->host);
	return ok;
}

static void trace_exit(struct rk_vm *vm, struct rk_vcpu *v, const struct rmi_rec_exit *ex)
{
	FILE *f = vm->host->trace;
	uint64_t r = ex->exit_reason;

	if (!f)
		return;
	fprintf(f, "run: vm %u vcpu %u exit %s", vm->id, v->id, r < 8 ? exit_names[r] : "?");
	if (r == RMI_EXIT_SYNC)
		fprintf(f, " esr 0x%" PRIx64 " far 0x%" PRIx64 " hpfar 0x%" PRIx64 " gprs[0] 0x%" PRIx64,
			ex->esr, ex->far, ex->hpfar, ex->gprs[0]);
	else if (r == RMI_EXIT_PSCI)
		fprintf(f, " fid 0x%" PRIx64 " target 0x%" PRIx64, ex->gprs[0], ex->gprs[1]);
	else if (r == RMI_EXIT_RIPAS_CHANGE)
		fprintf(f, " 0x%" PRIx64 "..0x%" PRIx64 " -> %s", ex->ripas_base, ex->ripas_top,
			ex->ripas_value == RMI_RIPAS_RAM ? "RAM" : "EMPTY");
	else if (r == RMI_EXIT_HOST_CALL)
		fprintf(f, " imm 0x%" PRIx64 " gprs[0..2] 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64, ex->imm,
			ex->gprs[0], ex->gprs[1], ex->gprs[2]);
	fputc('\n', f);
}

/* Handle the exit in the RecRun page. 1: enter again; else stop (the value to return). */
static int realm_exit(struct rk_vm *vm, struct rk_vcpu *v, uint64_t gen)
{
	const struct rmi_rec_exit *ex = &v->run->exit;
	struct host_pending *p = &v->pend;
	uint64_t reason = ex->exit_reason;
	char msg[240];
	int ret;

	if (reason < 8)
		__atomic_fetch_add(&vm->run.info.exits[reason], 1, __ATOMIC_RELAXED);
	trace_exit(vm, v, ex);
	if (reason != RMI_EXIT_SYNC)
		p->last_fault = 0;
	switch (reason) {
	case RMI_EXIT_IRQ:
	case RMI_EXIT_FIQ:
		return 1;
	case RMI_EXIT_SYNC:
		return realm_sync(vm, v, ex);
	case RMI_EXIT_PSCI:
		return realm_psci(vm, v, ex, gen);
	case RMI_EXIT_RIPAS_CHANGE: {
		uint64_t base = ex->ripas_base, top = ex->ripas_top;
		unsigned int ripas = (unsigned int)ex->ripas_value;
		bool accept;

		STAT(vm, ripas_changes);
		if (vm->run.ripas_fn)
			accept = vm->run.ripas_fn(vm->run.ripas_arg, vm, v->id, base, top, ripas);
		else
			accept = default_ripas_policy(vm, base, top);
		if (!accept) {
			STAT(vm, ripas_rejected);
			host_run_log(vm,
				     "vCPU %u: RIPAS change of 0x%" PRIx64 "..0x%" PRIx64 " to %s rejected%s",
				     v->id, base, top, ripas == RMI_RIPAS_RAM ? "RAM" : "EMPTY",
				     vm->run.ripas_fn ? " by the policy"
						      : ": not inside the private memory slots");
		}
		p->ripas = ripas + 1;
		p->ripas_base = base;
		p->ripas_top = top;
		p->ripas_accept = accept;
		return 1;
	}
	case RMI_EXIT_HOST_CALL:
		STAT(vm, host_calls);
		memcpy(p->gprs, ex->gprs, sizeof(p->gprs));
		ret = host_run_host_call(vm, v->id, (uint32_t)ex->imm, p->gprs);
		if (ret < 0) {
			snprintf(msg, sizeof(msg),
				 "the host-call handler failed (%d) on host call 0x%" PRIx64, ret, ex->imm);
			return host_run_error(vm, v, ret, 0, 0, msg);
		}
		p->gprs_valid = 1;
		return 1;
	case RMI_EXIT_SERROR:
		if (ex->esr == RK_EXC_LOOP_ESR) {
			unsigned int ec = esr_ec(ex->gprs[1]);
			snprintf(msg, sizeof(msg),
				 "stuck in an exception loop: %s at PC 0x%" PRIx64 " (address 0x%" PRIx64
				 ", ESR_EL1 0x%" PRIx64 ") taken %" PRIu64
				 " times in a row with no progress; the REC was stopped",
				 ec == ESR_EC_IABT_CUR   ? "instruction abort (SEA)"
				 : ec == ESR_EC_DABT_CUR ? "data abort (SEA)"
							 : "undefined instruction",
				 ex->gprs[0], ex->far, ex->gprs[1], ex->gprs[2]);
			return host_run_error(vm, v, -ELOOP, 0, 0, msg);
		}
		return host_run_error(
			vm, v, -EIO, 0, 0,
			"SError exit: the RMM's CPU engine failed on this vCPU (the REC is no longer runnable)");
	default:
		snprintf(msg, sizeof(msg), "unexpected exit reason %" PRIu64, reason);
		return host_run_error(vm, v, -EPROTO, 0, 0, msg);
	}
}

/* What the vCPU owes the RMM before it enters again; writes RecEnter. 1: go on, else stop. */
static int realm_prepare(struct rk_vm *vm, struct rk_vcpu *v)
{
	struct rk_host *h = vm->host;
	struct host_pending *p = &v->pend;
	uint64_t flags = p->enter_flags;

	if (p->psci_fid) {
		struct rk_vcpu *t = vm->vcpus[p->psci_target];
		uint64_t fid = p->psci_fid, x0 = host_rmi_psci_complete(h, v->rec, t->rec, p->psci_status);
		char msg[160];

		p->psci_fid = 0;
		if (RMI_ST(x0) != RMI_SUCCESS) {
			snprintf(msg, sizeof(msg),
				 "RMI_PSCI_COMPLETE(vCPU %u -> vCPU %u, PSCI 0x%" PRIx64 ") -> %s", v->id,
				 t->id, fid, rk_rmi_status_name(x0));
			return host_run_error(vm, v, host_rmi_errno(x0), RMI_FID_PSCI_COMPLETE, x0, msg);
		}
		if (PSCI_FN(fid) == PSCI_FN(PSCI_CPU_ON_64) && p->psci_status == (uint64_t)PSCI_RET_SUCCESS)
			host_run_wake(vm, t->id);
	}
	if (p->ripas)
		ripas_complete(vm, v, &flags);
	/* KVM clears the flags after each exit; WFI is trapped, as KVM's TWI (vtimer.c) */
	v->run->enter.flags = flags | RMI_REC_ENTER_FLAGS_TRAP_WFI_MASK;
	if (p->gprs_valid) {
		memcpy(v->run->enter.gprs, p->gprs, sizeof(p->gprs));
		p->gprs_valid = 0;
	}
	p->enter_flags = 0;
	return 1;
}

/* REC_ENTER refused. 1: go on (the vCPU sleeps if it is off), else stop. */
static int realm_enter_failed(struct rk_vm *vm, struct rk_vcpu *v, uint64_t x0, uint64_t gen)
{
	char msg[160];

	if (RMI_ST(x0) == RMI_ERROR_REC && x0 != SMC_UNKNOWN) {
		/* not runnable: the REC did CPU_OFF or was never started (a CPU_ON race, as KVM's -EAGAIN) */
		host_run_vcpu_off(vm, v, gen, "its REC is not runnable");
		return 1;
	}
	if (RMI_ST(x0) == RMI_ERROR_REALM && x0 != SMC_UNKNOWN) {
		/* the realm is not ACTIVE: another vCPU switched it off; let it tell why */
		struct timespec ts;
		int code;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += STOP_WAIT_MS / 1000;
		pthread_mutex_lock(&vm->run.mtx);
		while (!final_reason(vm->run.info.reason) &&
		       pthread_cond_timedwait(&vm->run.cv, &vm->run.mtx, &ts) != ETIMEDOUT)
			;
		code = final_reason(vm->run.info.reason) ? stop_code(vm) : 1;
		pthread_mutex_unlock(&vm->run.mtx);
		if (code != 1)
			return code;
	}
	snprintf(msg, sizeof(msg), "RMI_REC_ENTER -> %s", rk_rmi_status_name(x0));
	return host_run_error(vm, v, host_rmi_errno(x0), RMI_FID_REC_ENTER, x0, msg);
}

static int realm_loop(struct rk_vm *vm, struct rk_vcpu *v)
{
	for (;;) {
		uint64_t gen, x0;
		bool was_off;
		int ret;

		pthread_mutex_lock(&vm->run.mtx);
		was_off = !v->on;
		pthread_mutex_unlock(&vm->run.mtx);
		ret = host_run_wait(vm, v, &gen);

		if (ret != 1)
			return ret;
		/* started by a CPU_ON: its GIC CPU interface from reset (pending kept) */
		if (was_off)
			host_vgic_vcpu_reset(vm->run.vgic, v->id);
		ret = realm_prepare(vm, v);
		if (ret != 1)
			return ret;
		x0 = host_vcpu_enter(vm, v); /* REC_ENTER on the vCPU's host CPU (vtimer.c) */
		STAT(vm, entries);
		ret = x0 == RMI_SUCCESS ? realm_exit(vm, v, gen) : realm_enter_failed(vm, v, x0, gen);
		if (ret != 1) {
			pthread_mutex_lock(&vm->run.mtx);
			ret = stop_code(vm) == 1 ? ret : stop_code(vm);
			pthread_mutex_unlock(&vm->run.mtx);
			return ret;
		}
	}
}

/* ---- rk_vcpu_run, rk_vm_run ---- */

static int vcpu_prepare(struct rk_vm *vm, struct rk_vcpu *v)
{
	struct rk_host *h = vm->host;
	uint8_t *p;
	int ret;

	if (vm->kind != RK_VM_REALM || v->run_pa)
		return 0;
	if (!v->rec.pa)
		return host_fail(h, -EIO, 0, 0, "rk_vcpu_run: vCPU %u has no REC", v->id);
	ret = host_palloc(h, 1, 1, RK_ROLE_HOST, vm->id, PALLOC_ZERO, &v->run_pa);
	if (ret)
		return host_fail(h, ret, 0, 0, "rk_vcpu_run: no memory for the RecRun page of vCPU %u",
				 v->id);
	ret = rk_ns_map(h->m, v->run_pa, G4K, &p);
	if (ret) {
		host_pfree(h, v->run_pa, 1);
		v->run_pa = 0;
		return host_fail(h, ret, 0, 0, "rk_vcpu_run: cannot map the RecRun page");
	}
	v->run = (struct rmi_rec_run *)(void *)p;
	return 0;
}

/*
 * Before a realm's first entry: every 2 MiB block of a private slot that the
 * build populated in part is mapped whole (the rest with RMI_RTT_DATA_MAP,
 * unmeasured: the RIM does not change) and folded into a block entry
 * (RMI_RTT_FOLD), as KVM backs guest memory with huge pages. The RMM then runs
 * the realm's code from a 2 MiB region of its CPU engine, where stores are
 * ~1.7x faster than with the code in a 4 KiB region (docs/performance.md).
 * Only before any REC ran: the RMM's engines must not hold pages of a block
 * that becomes one. A failure costs speed only.
 */
static void complete_populated_blocks(struct rk_vm *vm)
{
	for (uint32_t i = 0; i < vm->nslots; i++) {
		const struct host_memslot *s = &vm->slots[i];

		if (s->flags & RK_MEMSLOT_SHARED)
			continue;
		for (uint64_t blk = host_align_up(s->ipa, BLOCK_SIZE); blk + BLOCK_SIZE <= s->ipa + s->size;
		     blk += BLOCK_SIZE) {
			uint64_t pa;

			if (!host_s2_any_leaf(&vm->s2, blk, BLOCK_SIZE) ||
			    host_memslot_pa(vm, blk, BLOCK_SIZE, &pa) || (pa & (BLOCK_SIZE - 1)))
				continue;
			if (host_vm_map(vm, blk, BLOCK_SIZE, S2_MAX_LEVEL, false) ||
			    host_s2_fold(&vm->s2, blk, BLOCK_SIZE))
				host_run_log(vm, "the populated block at 0x%" PRIx64 " stays in pages: %s",
					     blk, vm->host->err.msg);
		}
	}
	vm->flags |= VM_BLOCKS_DONE;
}

int rk_vcpu_run(struct rk_vm *vm, uint32_t id)
{
	struct rk_host *h;
	struct rk_vcpu *v;
	int ret;

	if (!vm)
		return -EINVAL;
	h = vm->host;
	host_lock(h);
	ret = host_vm_check(vm, RK_OP_RUN, "rk_vcpu_run");
	if (!ret && id >= vm->nvcpus)
		ret = host_fail(h, -ENOENT, 0, 0,
				"rk_vcpu_run: vCPU %u has not been created (run before create)", id);
	if (!ret && vm->state != RK_VM_ACTIVE)
		ret = host_vm_activate(vm); /* Linux v14: the first KVM_RUN activates the realm */
	if (ret) {
		host_unlock(h);
		return ret;
	}
	v = vm->vcpus[id];
	if (vm->kind == RK_VM_REALM && !(vm->flags & VM_BLOCKS_DONE))
		complete_populated_blocks(vm);
	ret = !vm->run.vgic ? host_gic_init(vm) : 0;
	if (!ret)
		ret = vcpu_prepare(vm, v);
	if (!ret) {
		pthread_mutex_lock(&vm->run.mtx);
		if (v->in_run) {
			ret = -EBUSY;
		} else {
			v->in_run = 1;
			vm->run.running++;
		}
		pthread_mutex_unlock(&vm->run.mtx);
		if (ret)
			host_fail(h, ret, 0, 0, "rk_vcpu_run: vCPU %u is being run by another thread", id);
	}
	if (!ret)
		host_ok(h);
	host_unlock(h);
	if (ret)
		return ret;

	ret = vm->kind == RK_VM_REALM ? realm_loop(vm, v) : host_normal_vcpu_loop(vm, v);

	pthread_mutex_lock(&vm->run.mtx);
	v->in_run = 0;
	bool last = --vm->run.running == 0;
	pthread_mutex_unlock(&vm->run.mtx);
	if (last)
		host_devices_flush(vm);
	if (ret < 0 && ret != -EINTR) {
		/* the reason, for rk_host_last_error() of this thread */
		struct rk_vm_run_info info;
		rk_vm_get_run_info(vm, &info);
		host_lock(h);
		host_fail(h, ret, info.fid, info.x0, "%s",
			  info.reason == RK_STOP_ERROR ? info.msg : "rk_vcpu_run failed");
		host_unlock(h);
	}
	return ret;
}

struct vm_run_ctx {
	struct rk_vm *vm;
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	uint32_t done;
	uint32_t reserved;
};

struct vcpu_thread {
	struct vm_run_ctx *ctx;
	pthread_t tid;
	uint32_t id;
	int ret;
};

static void *vcpu_thread_main(void *arg)
{
	struct vcpu_thread *t = arg;
	struct vm_run_ctx *c = t->ctx;

	t->ret = rk_vcpu_run(c->vm, t->id);
	pthread_mutex_lock(&c->mtx);
	c->done++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mtx);
	return NULL;
}

int rk_vm_run(struct rk_vm *vm, uint64_t timeout_ms)
{
	struct vm_run_ctx c;
	struct vcpu_thread *t;
	pthread_condattr_t ca;
	struct timespec deadline;
	uint32_t n, started = 0;
	int ret = 0;

	if (!vm)
		return -EINVAL;
	host_lock(vm->host);
	n = vm->nvcpus;
	host_unlock(vm->host);
	if (!n)
		return rk_vcpu_run(vm, 0); /* -ENOENT with its message */
	t = calloc(n, sizeof(*t));
	if (!t)
		return -ENOMEM;
	memset(&c, 0, sizeof(c));
	c.vm = vm;
	pthread_mutex_init(&c.mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c.cv, &ca);
	pthread_condattr_destroy(&ca);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)(timeout_ms / 1000);
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	for (uint32_t i = 0; i < n; i++) {
		t[i].ctx = &c;
		t[i].id = i;
		if (pthread_create(&t[i].tid, NULL, vcpu_thread_main, &t[i])) {
			ret = -EAGAIN;
			break;
		}
		started++;
	}
	if (ret)
		host_run_stop(vm, 0, RK_STOP_ERROR, ret, 0, 0, "cannot create a vCPU thread");
	pthread_mutex_lock(&c.mtx);
	while (c.done < started) {
		if (!timeout_ms || ret) {
			pthread_cond_wait(&c.cv, &c.mtx);
		} else if (pthread_cond_timedwait(&c.cv, &c.mtx, &deadline) == ETIMEDOUT) {
			pthread_mutex_unlock(&c.mtx);
			host_run_stop(vm, 0, RK_STOP_TIMEOUT, -ETIMEDOUT, 0, 0,
				      "no SYSTEM_OFF within %" PRIu64 " ms", timeout_ms);
			pthread_mutex_lock(&c.mtx);
			timeout_ms = 0; /* now wait for the vCPUs to return */
		}
	}
	pthread_mutex_unlock(&c.mtx);
	for (uint32_t i = 0; i < started; i++)
		pthread_join(t[i].tid, NULL);
	pthread_mutex_lock(&vm->run.mtx);
	switch (vm->run.info.reason) {
	case RK_STOP_SYSTEM_OFF:
	case RK_STOP_SYSTEM_RESET:
		ret = 0;
		break;
	case RK_STOP_ERROR:
	case RK_STOP_TIMEOUT:
		ret = vm->run.info.err;
		break;
	case RK_STOP_REQUESTED:
		ret = -EINTR;
		break;
	default:
		/* no vCPU got to run: the first failure */
		for (uint32_t i = 0; i < started && !ret; i++)
			ret = t[i].ret;
		break;
	}
	pthread_mutex_unlock(&vm->run.mtx);
	if (ret < 0 && ret != -EINTR) {
		/* the vCPU threads' error, for rk_host_last_error() of this thread */
		struct rk_vm_run_info info;
		rk_vm_get_run_info(vm, &info);
		host_lock(vm->host);
		host_fail(vm->host, ret, info.fid, info.x0, "%s",
			  info.reason == RK_STOP_ERROR || info.reason == RK_STOP_TIMEOUT
				  ? info.msg
				  : "rk_vm_run failed");
		host_unlock(vm->host);
	}
	host_run_log_flush(vm);
	pthread_cond_destroy(&c.cv);
	pthread_mutex_destroy(&c.mtx);
	free(t);
	return ret;
}
