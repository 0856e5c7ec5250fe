/* SPDX-License-Identifier: MIT */
/*
 * The host's one SMC wrapper. Range delegation with the ledger is in
 * granules.c, the generic Stateful RMI Operation (SRO) driver in sro.c; both
 * call host_rmi().
 *
 * host_rmi() is where every RMI call of the host goes through: it counts calls
 * per command, answers armed faults without reaching the RMM, passes the call
 * to a test filter, retries BUSY and BLOCKED (as Linux v14's
 * rmi_smccc_invoke() does), and traces.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "host_internal.h"

/* rk_rmi_command_name() and rk_rmi_status_name() are generated from the ABI (abi/gen.py: rmi_names_gen.c). */

static int fnum_index(uint64_t fid)
{
	uint64_t fnum = fid & 0xFFFF;

	if ((fid & ~0xFFFFULL) != SMC_FID_BASE || fnum < RMI_FNUM_MIN || fnum > RMI_FNUM_MAX)
		return -1;
	return (int)(fnum - RMI_FNUM_MIN);
}

/* An armed fault for this call, if one fires now. */
static struct host_fault *fault_fires(struct rk_host *h, uint64_t fid)
{
	struct host_fault *hit = NULL;

	for (uint32_t i = 0; i < h->nfaults; i++) {
		struct host_fault *f = &h->faults[i];
		if (f->fired || f->f.fid != fid)
			continue;
		if (++f->seen == f->f.nth && !hit)
			hit = f;
	}
	return hit;
}

#define COUNT(field) __atomic_fetch_add(&(field), 1, __ATOMIC_RELAXED)

/*
 * host_rmi() runs without the host lock for RMI_REC_ENTER (vCPUs of several
 * threads): its counters are atomic, and the armed faults, the filter and the
 * trace stream are read under fault_lock.
 */
uint64_t host_rmi(struct rk_host *h, uint64_t fid, uint64_t out[5], uint64_t a1, uint64_t a2, uint64_t a3,
		  uint64_t a4, uint64_t a5)
{
	return host_rmi_on(h, -1, fid, out, a1, a2, a3, a4, a5);
}

uint64_t host_rmi_on(struct rk_host *h, int cpu, uint64_t fid, uint64_t out[5], uint64_t a1, uint64_t a2,
		     uint64_t a3, uint64_t a4, uint64_t a5)
{
	struct rk_smc_regs r;
	int idx = fnum_index(fid);

	for (uint32_t tries = 0;; tries++) {
		struct host_fault *f;
		rk_host_smc_filter filter;
		void *filter_arg;
		FILE *trace;
		bool injected = false;

		memset(&r, 0, sizeof(r));
		r.x[0] = fid;
		r.x[1] = a1;
		r.x[2] = a2;
		r.x[3] = a3;
		r.x[4] = a4;
		r.x[5] = a5;
		COUNT(h->stats.rmi_calls);
		if (idx >= 0)
			COUNT(h->rmi_count[idx]);
		if (tries)
			COUNT(h->stats.rmi_retries);
		pthread_mutex_lock(&h->fault_lock);
		f = h->nfaults ? fault_fires(h, fid) : NULL;
		if (f) {
			f->fired = 1;
			h->faults_fired++;
			memcpy(r.x, f->f.x, sizeof(f->f.x));
			injected = true;
		}
		filter = h->filter;
		filter_arg = h->filter_arg;
		trace = h->trace;
		pthread_mutex_unlock(&h->fault_lock);
		if (injected)
			COUNT(h->stats.rmi_faults);
		else if ((!filter || !filter(filter_arg, &r)) &&
			 (cpu < 0 || rk_hcpu_smc(h->m, (unsigned int)cpu, &r)))
			rk_smc(h->m, &r);
		if (trace)
			fprintf(trace,
				"rmi: %s(0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64
				", 0x%" PRIx64 ") -> %s idx %u [0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64
				"]%s\n",
				rk_rmi_command_name(fid), a1, a2, a3, a4, a5, rk_rmi_status_name(r.x[0]),
				RMI_IDX(r.x[0]), r.x[1], r.x[2], r.x[3], injected ? " (injected)" : "");
		if ((RMI_ST(r.x[0]) == RMI_BUSY || RMI_ST(r.x[0]) == RMI_BLOCKED) && r.x[0] != SMC_UNKNOWN &&
		    tries < HOST_RETRY_MAX)
			continue;
		break;
	}
	if (out)
		memcpy(out, r.x, 5 * sizeof(uint64_t));
	return r.x[0];
}
