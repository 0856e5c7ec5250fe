/* SPDX-License-Identifier: MIT */
/*
 * The host: takes over a machine's NS memory, boots the RMM as Linux v14 does
 * (reference 18.1), answers capability queries, keeps the last error, and
 * holds the fault-injection switches.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "host_internal.h"

/* The host's vCPUs run on the machine's CPU model: its PA range bounds a
 * normal VM's IPA space (no LPA2). */
#define HOST_CPU_IPA_LIMIT RK_MACHINE_CPU_PA_BITS

#define FR(v, reg, f) (((v)&reg##_##f##_MASK) >> reg##_##f##_SHIFT)

/* ---- the host lock ---- */

void host_lock(struct rk_host *h)
{
	pthread_mutex_lock(&h->lock);
}

void host_unlock(struct rk_host *h)
{
	pthread_mutex_unlock(&h->lock);
}

/* ---- errors: the host's last error (under the lock), and each thread's own copy ---- */

static _Thread_local struct {
	const struct rk_host *h;
	struct rk_host_error err;
} tls_err;

int host_fail(struct rk_host *h, int err, uint64_t fid, uint64_t x0, const char *fmt, ...)
{
	va_list ap;

	h->err.err = err;
	h->err.fid = fid;
	h->err.x0 = x0;
	va_start(ap, fmt);
	vsnprintf(h->err.msg, sizeof(h->err.msg), fmt, ap);
	va_end(ap);
	tls_err.h = h;
	tls_err.err = h->err;
	if (h->trace)
		fprintf(h->trace, "host: error %d: %s\n", err, h->err.msg);
	return err;
}

void host_ok(struct rk_host *h)
{
	memset(&h->err, 0, sizeof(h->err));
	if (tls_err.h == h)
		memset(&tls_err.err, 0, sizeof(tls_err.err));
}

int host_rmi_errno(uint64_t x0)
{
	if (x0 == SMC_UNKNOWN || RMI_ST(x0) == RMI_ERROR_NOT_SUPPORTED)
		return -EOPNOTSUPP;
	return -EIO;
}

const struct rk_host_error *rk_host_last_error(const struct rk_host *h)
{
	return tls_err.h == h ? &tls_err.err : &h->err;
}

/* Record why the RMM cannot be used for realms; the host itself carries on. */
static void boot_fail(struct rk_host *h, uint64_t fid, uint64_t x0, const char *what)
{
	h->caps.rmm_usable = false;
	h->boot_err.err = -ENODEV;
	h->boot_err.fid = fid;
	h->boot_err.x0 = x0;
	snprintf(h->boot_err.msg, sizeof(h->boot_err.msg), "RMM not usable: %s (%s -> %s)", what,
		 fid ? rk_rmi_command_name(fid) : "-", fid ? rk_rmi_status_name(x0) : "-");
	if (h->trace)
		fprintf(h->trace, "host: %s\n", h->boot_err.msg);
}

static bool boot_tracking_ok(struct rk_host *h)
{
	for (uint32_t i = 0; i < h->nbanks; i++) {
		uint64_t base = h->banks[i].base, top = base + h->banks[i].ngranules * G4K, x[5], x0;

		while (base < top) {
			x0 = host_rmi(h, RMI_FID_GRANULE_TRACKING_GET, x, base, top, 0, 0, 0);
			if (RMI_ST(x0) != RMI_SUCCESS) {
				boot_fail(h, RMI_FID_GRANULE_TRACKING_GET, x0, "memory tracking unknown");
				return false;
			}
			if (x[1] != RMI_MEM_CATEGORY_CONVENTIONAL || x[2] != RMI_TRACKING_FINE ||
			    x[3] <= base) {
				boot_fail(h, RMI_FID_GRANULE_TRACKING_GET, x0,
					  "DRAM is not tracked FINE/CONVENTIONAL");
				return false;
			}
			base = x[3];
		}
	}
	return true;
}

static bool boot_gpt_ok(struct rk_host *h)
{
	uint64_t l0 = 1ULL << (30 + FR(h->caps.rmi_features[1], RMI_FR1, L0GPTSZ));

	for (uint32_t i = 0; i < h->nbanks; i++) {
		uint64_t base = h->banks[i].base & ~(l0 - 1),
			 top = h->banks[i].base + h->banks[i].ngranules * G4K;

		for (uint64_t a = base; a < top; a += l0) {
			uint64_t x0 = host_rmi(h, RMI_FID_GPT_L1_CREATE, NULL, a, 0, 0, 0, 0);
			/* ERROR_GPT: the L1 table exists already (Linux rmi_create_gpts()) */
			if (RMI_ST(x0) != RMI_SUCCESS && RMI_ST(x0) != RMI_ERROR_GPT) {
				boot_fail(h, RMI_FID_GPT_L1_CREATE, x0, "cannot create the GPT L1 tables");
				return false;
			}
		}
	}
	return true;
}

static void boot_rmm(struct rk_host *h)
{
	struct rmi_rmm_config cfg;
	uint64_t x[5], x0;
	bool already_active = false;

	x0 = host_rmi(h, RMI_FID_VERSION, x, RMI_ABI_VERSION, 0, 0, 0, 0);
	if (x0 == SMC_UNKNOWN) {
		h->caps.rmm_present = false;
		boot_fail(h, RMI_FID_VERSION, x0, "no RMM answers RMI_VERSION");
		return;
	}
	h->caps.rmm_present = true;
	h->caps.rmi_version = (uint32_t)x[1];
	h->caps.rmi_version_high = (uint32_t)x[2];
	if (RMI_ST(x0) != RMI_SUCCESS) {
		boot_fail(h, RMI_FID_VERSION, x0, "the RMM does not implement RMI 2.0");
		return;
	}
	for (unsigned int i = 0; i < 5; i++) {
		x0 = host_rmi(h, RMI_FID_FEATURES, x, i, 0, 0, 0, 0);
		if (RMI_ST(x0) != RMI_SUCCESS) {
			boot_fail(h, RMI_FID_FEATURES, x0, "cannot read the feature registers");
			return;
		}
		h->caps.rmi_features[i] = x[1];
	}
	h->caps.rmi_ipa_limit = (uint32_t)FR(h->caps.rmi_features[0], RMI_FR0, S2SZ);
	h->caps.rmi_max_recs = (uint32_t)((1u << FR(h->caps.rmi_features[1], RMI_FR1, MAX_RECS_ORDER)) - 1);
	h->caps.rmi_hash_algos =
		(FR(h->caps.rmi_features[1], RMI_FR1, HASH_SHA_256) ? 1u << RMI_HASH_SHA_256 : 0) |
		(FR(h->caps.rmi_features[1], RMI_FR1, HASH_SHA_384) ? 1u << RMI_HASH_SHA_384 : 0) |
		(FR(h->caps.rmi_features[1], RMI_FR1, HASH_SHA_512) ? 1u << RMI_HASH_SHA_512 : 0);
	if (!FR(h->caps.rmi_features[1], RMI_FR1, GRAN_SZ_4KB)) {
		boot_fail(h, 0, 0, "the RMM does not support 4 KiB granules");
		return;
	}

	memset(&cfg, 0, sizeof(cfg));
	cfg.rmi_granule_size = RMI_GRANULE_SIZE_4KB;
	cfg.tracking_region_size = 0;
	if (host_ns_write(h, h->params_pa, &cfg, sizeof(cfg))) {
		boot_fail(h, 0, 0, "cannot write the RMM configuration");
		return;
	}
	x0 = host_rmi(h, RMI_FID_RMM_CONFIG_SET, x, h->params_pa, 0, 0, 0, 0);
	if (RMI_ST(x0) == RMI_ERROR_GLOBAL) {
		/* activated before the host took over: accept it if it is configured as we would */
		x0 = host_rmi(h, RMI_FID_RMM_CONFIG_GET, x, h->params_pa, 0, 0, 0, 0);
		if (RMI_ST(x0) != RMI_SUCCESS || host_ns_read(h, h->params_pa, &cfg, sizeof(cfg)) ||
		    cfg.rmi_granule_size != RMI_GRANULE_SIZE_4KB) {
			boot_fail(h, RMI_FID_RMM_CONFIG_GET, x0,
				  "the RMM is active with another configuration");
			return;
		}
		already_active = true;
	} else if (RMI_ST(x0) != RMI_SUCCESS) {
		boot_fail(h, RMI_FID_RMM_CONFIG_SET, x0, "the RMM refuses 4 KiB granules");
		return;
	}
	x0 = host_rmi(h, RMI_FID_RMM_ACTIVATE, x, 0, 0, 0, 0, 0);
	if (RMI_ST(x0) != RMI_SUCCESS && !(already_active && RMI_ST(x0) == RMI_ERROR_GLOBAL)) {
		boot_fail(h, RMI_FID_RMM_ACTIVATE, x0, "the RMM does not activate");
		return;
	}
	if (!boot_tracking_ok(h) || !boot_gpt_ok(h))
		return;
	h->caps.rmm_usable = true;
}

int rk_host_create(struct rk_machine *m, const struct rk_host_config *cfg, struct rk_host **out)
{
	struct rk_host *h;
	uint64_t pa;
	int ret;

	if (!m || !out)
		return -EINVAL;
	if (cfg && cfg->nfaults > HOST_MAX_FAULTS)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	{
		pthread_mutexattr_t a;
		pthread_mutexattr_init(&a);
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&h->lock, &a);
		pthread_mutexattr_destroy(&a);
		pthread_mutex_init(&h->fault_lock, NULL);
	}
	h->m = m;
	h->nhcpus = rk_machine_ncpus(m) < HOST_MAX_HCPUS ? rk_machine_ncpus(m) : HOST_MAX_HCPUS;
	for (unsigned int i = 0; i < h->nhcpus; i++)
		pthread_mutex_init(&h->hcpu_mtx[i], NULL);
	h->next_vm_id = 1;
	if (cfg) {
		h->trace = cfg->trace;
		for (uint32_t i = 0; i < cfg->nfaults; i++) {
			if (!cfg->faults[i].nth) {
				ret = -EINVAL;
				goto fail;
			}
			h->faults[h->nfaults++].f = cfg->faults[i];
		}
	}
	ret = host_palloc_init(h);
	if (ret)
		goto fail;
	/* four host pages: parameters, populate bounce, SRO lists, probes */
	ret = host_palloc(h, 4, 1, RK_ROLE_HOST, 0, PALLOC_ZERO, &pa);
	if (ret)
		goto fail;
	h->params_pa = pa;
	h->bounce_pa = pa + G4K;
	h->list_pa = pa + 2 * G4K;
	h->probe_pa = pa + 3 * G4K;
	h->caps.host_ipa_limit = HOST_CPU_IPA_LIMIT;
	boot_rmm(h);
	host_ok(h);
	*out = h;
	return 0;
fail:
	host_palloc_fini(h);
	for (unsigned int i = 0; i < h->nhcpus; i++)
		pthread_mutex_destroy(&h->hcpu_mtx[i]);
	pthread_mutex_destroy(&h->fault_lock);
	pthread_mutex_destroy(&h->lock);
	free(h);
	return ret;
}

void rk_host_destroy(struct rk_host *h)
{
	if (!h)
		return;
	host_lock(h);
	while (h->vms)
		rk_vm_free(h->vms);
	if (h->params_pa)
		host_pfree(h, h->params_pa, 4);
	host_palloc_fini(h);
	host_unlock(h);
	for (unsigned int i = 0; i < h->nhcpus; i++)
		pthread_mutex_destroy(&h->hcpu_mtx[i]);
	pthread_mutex_destroy(&h->fault_lock);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

int rk_host_caps(const struct rk_host *h, struct rk_host_caps *out)
{
	if (!h || !out)
		return -EINVAL;
	*out = h->caps; /* written at creation only */
	return 0;
}

/* ---- fault injection and observation ---- */

int rk_host_inject_fault_regs(struct rk_host *h, const struct rk_host_fault *f)
{
	uint32_t i;
	int ret = 0;

	if (!h || !f || !f->nth)
		return -EINVAL;
	pthread_mutex_lock(&h->fault_lock);
	for (i = 0; i < h->nfaults; i++)
		if (h->faults[i].fired)
			break; /* reuse a spent slot */
	if (i == h->nfaults) {
		if (h->nfaults == HOST_MAX_FAULTS)
			ret = -ENOSPC;
		else
			h->nfaults++;
	}
	if (!ret) {
		memset(&h->faults[i], 0, sizeof(h->faults[i]));
		h->faults[i].f = *f;
	}
	pthread_mutex_unlock(&h->fault_lock);
	return ret;
}

int rk_host_inject_fault(struct rk_host *h, uint64_t fid, uint32_t nth, uint64_t status)
{
	struct rk_host_fault f;

	memset(&f, 0, sizeof(f));
	f.fid = fid;
	f.nth = nth;
	f.x[0] = status;
	return rk_host_inject_fault_regs(h, &f);
}

void rk_host_clear_faults(struct rk_host *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->fault_lock);
	h->nfaults = 0;
	pthread_mutex_unlock(&h->fault_lock);
}

uint64_t rk_host_faults_fired(const struct rk_host *h)
{
	uint64_t n;

	if (!h)
		return 0;
	pthread_mutex_lock((pthread_mutex_t *)&h->fault_lock);
	n = h->faults_fired;
	pthread_mutex_unlock((pthread_mutex_t *)&h->fault_lock);
	return n;
}

void rk_host_set_smc_filter(struct rk_host *h, rk_host_smc_filter fn, void *arg)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->fault_lock);
	h->filter = fn;
	h->filter_arg = arg;
	pthread_mutex_unlock(&h->fault_lock);
}

void rk_host_set_trace(struct rk_host *h, FILE *f)
{
	if (!h)
		return;
	host_lock(h);
	pthread_mutex_lock(&h->fault_lock);
	h->trace = f;
	pthread_mutex_unlock(&h->fault_lock);
	host_unlock(h);
}

#define LOAD(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

void rk_host_get_stats(const struct rk_host *h, struct rk_host_stats *out)
{
	struct rk_host *hh = (struct rk_host *)h;

	if (!h || !out)
		return;
	host_lock(hh);
	*out = h->stats;
	/* counted without the lock (RMI_REC_ENTER) */
	out->rmi_calls = LOAD(h->stats.rmi_calls);
	out->rmi_retries = LOAD(h->stats.rmi_retries);
	out->rmi_faults = LOAD(h->stats.rmi_faults);
	host_unlock(hh);
}

uint64_t rk_host_rmi_count(const struct rk_host *h, uint64_t fid)
{
	uint64_t fnum = fid & 0xFFFF;

	if (!h || (fid & ~0xFFFFULL) != SMC_FID_BASE || fnum < RMI_FNUM_MIN || fnum > RMI_FNUM_MAX)
		return 0;
	return LOAD(h->rmi_count[fnum - RMI_FNUM_MIN]);
}
