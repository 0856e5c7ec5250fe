/* SPDX-License-Identifier: MIT */
/*
 * The host's one SMC wrapper, and what is built directly on it: range
 * delegation with the ledger, and the generic Stateful RMI Operation (SRO)
 * driver.
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
uint64_t host_rmi(struct rk_host *h, uint64_t fid, uint64_t out[5], uint64_t a1, uint64_t a2,
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
		else if (!filter || !filter(filter_arg, &r))
			rk_smc(h->m, &r);
		if (trace)
			fprintf(trace, "rmi: %s(0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64
				", 0x%" PRIx64 ") -> %s idx %u [0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 "]%s\n",
				rk_rmi_command_name(fid), a1, a2, a3, a4, a5, rk_rmi_status_name(r.x[0]),
				RMI_IDX(r.x[0]), r.x[1], r.x[2], r.x[3], injected ? " (injected)" : "");
		if ((RMI_ST(r.x[0]) == RMI_BUSY || RMI_ST(r.x[0]) == RMI_BLOCKED) &&
		    r.x[0] != SMC_UNKNOWN && tries < HOST_RETRY_MAX)
			continue;
		break;
	}
	if (out)
		memcpy(out, r.x, 5 * sizeof(uint64_t));
	return r.x[0];
}

/* ---- delegation ---- */

int host_delegate(struct rk_host *h, uint64_t pa, uint64_t n)
{
	uint64_t top = pa + n * G4K, x[5];

	while (pa < top) {
		uint64_t x0;

		host_rmi(h, RMI_FID_GRANULE_RANGE_DELEGATE, x, pa, top, 0, 0, 0);
		x0 = host_sro_finish(h, RMI_FID_GRANULE_RANGE_DELEGATE, x, 0);
		if (RMI_ST(x0) != RMI_SUCCESS || x[1] <= pa || x[1] > top || (x[1] & (G4K - 1)))
			return host_fail(h, RMI_ST(x0) == RMI_SUCCESS ? -EIO : host_rmi_errno(x0),
					 RMI_FID_GRANULE_RANGE_DELEGATE, x0,
					 "cannot delegate 0x%" PRIx64 "..0x%" PRIx64 ": %s", pa, top,
					 rk_rmi_status_name(x0));
		host_led_move(h, pa, (x[1] - pa) / G4K, RK_GRANULE_HOST, RK_GRANULE_DELEGATED);
		pa = x[1];
	}
	return 0;
}

int host_undelegate(struct rk_host *h, uint64_t pa, uint64_t n)
{
	uint64_t top = pa + n * G4K, x[5];

	while (pa < top) {
		uint64_t x0;

		host_rmi(h, RMI_FID_GRANULE_RANGE_UNDELEGATE, x, pa, top, 0, 0, 0);
		x0 = host_sro_finish(h, RMI_FID_GRANULE_RANGE_UNDELEGATE, x, 0);
		if (RMI_ST(x0) != RMI_SUCCESS || x[1] <= pa || x[1] > top || (x[1] & (G4K - 1))) {
			/* Linux free_delegated_page(): a granule that cannot be undelegated is leaked */
			host_leak(h, pa, (top - pa) / G4K, RMI_FID_GRANULE_RANGE_UNDELEGATE, x0);
			return host_fail(h, -EIO, RMI_FID_GRANULE_RANGE_UNDELEGATE, x0,
					 "cannot undelegate 0x%" PRIx64 "..0x%" PRIx64 ": %s; leaked", pa, top,
					 rk_rmi_status_name(x0));
		}
		host_led_move(h, pa, (x[1] - pa) / G4K, RK_GRANULE_DELEGATED, RK_GRANULE_HOST);
		/* the RMM scrubs on undelegate: the granules read as zeros again */
		host_led_dirty(h, pa, (x[1] - pa) / G4K, false);
		pa = x[1];
	}
	return 0;
}

int host_free_delegated(struct rk_host *h, uint64_t pa, uint64_t n)
{
	int ret = host_undelegate(h, pa, n);
	/* free what came back: the HOST granules at the start of the range; the rest is leaked */
	uint64_t back = host_led_prefix(h, pa, n, RK_GRANULE_HOST, true);

	if (back)
		host_pfree(h, pa, back);
	return ret;
}

/* Apply fn to each maximal run of granules of [pa, pa + n) in ledger state `state`. */
static int for_runs(struct rk_host *h, uint64_t pa, uint64_t n, unsigned int state,
		    int (*fn)(struct rk_host *, uint64_t, uint64_t))
{
	int ret = 0;

	for (uint64_t i = 0; i < n;) {
		uint64_t run = host_led_prefix(h, pa + i * G4K, n - i, state, true);
		if (run) {
			int r = fn(h, pa + i * G4K, run);
			if (r && !ret)
				ret = r;
			if (r && state == RK_GRANULE_HOST)
				return ret; /* delegation failed: stop there */
			i += run;
		} else {
			i += host_led_prefix(h, pa + i * G4K, n - i, state, false);
		}
	}
	return ret;
}

int host_delegate_runs(struct rk_host *h, uint64_t pa, uint64_t n)
{
	return for_runs(h, pa, n, RK_GRANULE_HOST, host_delegate);
}

int host_undelegate_runs(struct rk_host *h, uint64_t pa, uint64_t n)
{
	return for_runs(h, pa, n, RK_GRANULE_DELEGATED, host_undelegate);
}

/* ---- Stateful RMI Operations (reference 9.4) ---- */

int host_blocks_add(struct host_blocks *b, uint64_t pa, uint64_t n)
{
	if (b->n == b->cap) {
		uint32_t cap = b->cap ? b->cap * 2 : 16;
		struct host_block *v = realloc(b->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = (struct host_block){ pa, n };
	return 0;
}

void host_blocks_free(struct host_blocks *b)
{
	free(b->v);
	b->v = NULL;
	b->n = b->cap = 0;
}

/* Remove granules [pa, pa + n) from b; false if b does not hold all of them. */
static bool blocks_take(struct host_blocks *b, uint64_t pa, uint64_t n)
{
	for (uint64_t g = 0; g < n; g++) {
		uint64_t a = pa + g * G4K;
		uint32_t i;

		for (i = 0; i < b->n; i++)
			if (a >= b->v[i].pa && a < b->v[i].pa + b->v[i].n * G4K)
				break;
		if (i == b->n)
			return false;
		struct host_block blk = b->v[i];
		uint64_t before = (a - blk.pa) / G4K, after = blk.n - before - 1;
		/* split the block around a */
		b->v[i] = b->v[--b->n];
		if (before && host_blocks_add(b, blk.pa, before))
			return false;
		if (after && host_blocks_add(b, a + G4K, after))
			return false;
	}
	return true;
}

static uint64_t blk_granules(unsigned int sz)
{
	return 1ULL << (9 * sz);
}

static uint64_t range_desc(uint64_t pa, unsigned int sz, uint64_t cnt, unsigned int st)
{
	return (pa & RMI_ADDR_RANGE_ADDR_MASK) | ((uint64_t)sz << RMI_ADDR_RANGE_SZ_SHIFT) |
	       (cnt << RMI_ADDR_RANGE_CNT_SHIFT) | ((uint64_t)st << RMI_ADDR_RANGE_ST_SHIFT);
}

/*
 * Answer one donate request: allocate, delegate if asked, offer; record what
 * the RMM consumed in held, give the rest back. 0 with the next result in x,
 * or -EIO (abandon).
 */
static int sro_donate(struct rk_host *h, uint64_t handle, uint64_t x[5], struct host_blocks *held,
		      unsigned int role, uint32_t vm_id)
{
	uint64_t req = x[2];
	unsigned int sz = (unsigned int)((req & RMI_DONATE_REQ_SZ_MASK) >> RMI_DONATE_REQ_SZ_SHIFT);
	uint64_t cnt = (req & RMI_DONATE_REQ_CNT_MASK) >> RMI_DONATE_REQ_CNT_SHIFT;
	bool contig = (req & RMI_DONATE_REQ_CONTIG_MASK) != 0;
	bool undelegated = (req & RMI_DONATE_REQ_STATE_MASK) != 0;
	uint64_t bg = blk_granules(sz), list[HOST_LIST_MAX];
	struct host_block offer[HOST_LIST_MAX];
	uint32_t noffer = 0, nlist = 0;
	uint64_t consumed, x0;
	int ret = 0;

	if (!cnt || sz > 2 || (contig ? cnt * bg > (1ULL << 18) : cnt > HOST_LIST_MAX))
		return host_fail(h, -EIO, RMI_FID_OP_MEM_DONATE, x[0],
				 "SRO donate request 0x%" PRIx64 " cannot be met", req);
	if (contig) {
		uint64_t n = cnt * bg, align = 1;
		while (align < n)
			align <<= 1;
		if (host_palloc(h, n, align, role, vm_id, 0, &offer[0].pa))
			return host_fail(h, -ENOMEM, 0, 0, "SRO donation: no %" PRIu64 " contiguous granules", n);
		offer[0].n = n;
		noffer = 1;
	} else {
		for (; noffer < cnt; noffer++) {
			if (host_palloc(h, bg, bg, role, vm_id, 0, &offer[noffer].pa)) {
				ret = host_fail(h, -ENOMEM, 0, 0, "SRO donation: out of memory");
				goto give_back;
			}
			offer[noffer].n = bg;
		}
	}
	if (!undelegated) {
		for (uint32_t i = 0; i < noffer; i++) {
			if (host_delegate(h, offer[i].pa, offer[i].n)) {
				ret = -EIO;
				goto give_back;
			}
		}
	}
	for (uint32_t i = 0; i < noffer; i++) {
		uint64_t blocks = offer[i].n / bg;
		list[nlist++] = range_desc(offer[i].pa, sz, blocks, undelegated);
	}
	if (host_ns_write(h, h->list_pa, list, nlist * sizeof(uint64_t))) {
		ret = host_fail(h, -EIO, 0, 0, "SRO donation: cannot write the descriptor list");
		goto give_back;
	}
	x0 = host_rmi(h, RMI_FID_OP_MEM_DONATE, x, handle, h->list_pa, nlist, 0, 0);
	if (RMI_ST(x0) != RMI_SUCCESS && RMI_ST(x0) != RMI_INCOMPLETE) {
		/* the donation itself failed: nothing was taken */
		ret = host_fail(h, -EIO, RMI_FID_OP_MEM_DONATE, x0, "RMI_OP_MEM_DONATE: %s",
				rk_rmi_status_name(x0));
		goto give_back;
	}
	/* the first `consumed` granules, in list order, now belong to the RMM */
	consumed = x[1];
	for (uint32_t i = 0; i < noffer; i++) {
		uint64_t take = consumed < offer[i].n ? consumed : offer[i].n;
		if (take) {
			host_led_move(h, offer[i].pa, take, undelegated ? RK_GRANULE_HOST : RK_GRANULE_DELEGATED,
				      RK_GRANULE_RMM);
			if (host_blocks_add(held, offer[i].pa, take))
				host_leak(h, offer[i].pa, take, RMI_FID_OP_MEM_DONATE, x0); /* cannot track it */
			offer[i].pa += take * G4K;
			offer[i].n -= take;
			consumed -= take;
		}
	}
give_back:
	for (uint32_t i = 0; i < noffer; i++) {
		if (!offer[i].n)
			continue;
		for (uint64_t g = 0; g < offer[i].n; g++) {
			uint64_t a = offer[i].pa + g * G4K;
			if (host_led_state(h, a) == RK_GRANULE_DELEGATED)
				host_free_delegated(h, a, 1);
			else if (host_led_state(h, a) == RK_GRANULE_HOST)
				host_pfree(h, a, 1);
		}
	}
	return ret;
}

/* Answer one reclaim request: take the listed granules back, undelegate and free them. */
static int sro_reclaim(struct rk_host *h, uint64_t handle, uint64_t x[5], struct host_blocks *held)
{
	uint64_t list[HOST_LIST_MAX], x0, n;

	x0 = host_rmi(h, RMI_FID_OP_MEM_RECLAIM, x, handle, h->list_pa, HOST_LIST_MAX, 0, 0);
	if (RMI_ST(x0) != RMI_SUCCESS && RMI_ST(x0) != RMI_INCOMPLETE)
		return host_fail(h, -EIO, RMI_FID_OP_MEM_RECLAIM, x0, "RMI_OP_MEM_RECLAIM: %s",
				 rk_rmi_status_name(x0));
	n = x[1];
	if (n > HOST_LIST_MAX || host_ns_read(h, h->list_pa, list, n * sizeof(uint64_t)))
		return host_fail(h, -EIO, RMI_FID_OP_MEM_RECLAIM, x0, "RMI_OP_MEM_RECLAIM: bad list");
	for (uint64_t i = 0; i < n; i++) {
		uint64_t d = list[i];
		unsigned int sz = (unsigned int)((d & RMI_ADDR_RANGE_SZ_MASK) >> RMI_ADDR_RANGE_SZ_SHIFT);
		uint64_t cnt = (d & RMI_ADDR_RANGE_CNT_MASK) >> RMI_ADDR_RANGE_CNT_SHIFT;
		uint64_t pa = d & RMI_ADDR_RANGE_ADDR_MASK, ng = cnt * blk_granules(sz);
		bool undelegated = (d >> RMI_ADDR_RANGE_ST_SHIFT) & 1;

		if (!cnt)
			continue;
		if (!blocks_take(held, pa, ng)) {
			/* the RMM gives back something the host never gave it: touch nothing */
			h->stats.shadow_mismatches++;
			continue;
		}
		if (undelegated) {
			host_led_move(h, pa, ng, RK_GRANULE_RMM, RK_GRANULE_HOST);
			host_pfree(h, pa, ng);
		} else {
			host_led_move(h, pa, ng, RK_GRANULE_RMM, RK_GRANULE_DELEGATED);
			host_free_delegated(h, pa, ng);
		}
	}
	return 0;
}

int host_sro_drive(struct rk_host *h, uint64_t x[5], struct host_blocks *held, unsigned int role,
		   uint32_t vm_id)
{
	uint64_t handle = x[1];
	int ret = 0;

	for (uint32_t step = 0; RMI_ST(x[0]) == RMI_INCOMPLETE && x[0] != SMC_UNKNOWN; step++) {
		if (step == HOST_SRO_MAX_STEPS)
			return host_fail(h, -EIO, 0, x[0], "SRO %" PRIu64 " does not finish", handle);
		switch (RMI_MEMREQ(x[0])) {
		case RMI_OP_MEM_REQ_NONE: {
			uint64_t x0 = host_rmi(h, RMI_FID_OP_CONTINUE, x, handle, 0, 0, 0, 0);
			(void)x0;
			break;
		}
		case RMI_OP_MEM_REQ_DONATE:
			ret = sro_donate(h, handle, x, held, role, vm_id);
			break;
		case RMI_OP_MEM_REQ_RECLAIM:
			ret = sro_reclaim(h, handle, x, held);
			break;
		default:
			ret = host_fail(h, -EIO, 0, x[0], "SRO %" PRIu64 ": unknown memory request", handle);
			break;
		}
		if (ret)
			return ret;
	}
	return 0;
}

uint64_t host_sro_finish(struct rk_host *h, uint64_t fid, uint64_t x[5], uint32_t vm_id)
{
	struct host_blocks none = { NULL, 0, 0 };

	if (RMI_ST(x[0]) != RMI_INCOMPLETE || x[0] == SMC_UNKNOWN)
		return x[0];
	if (host_sro_drive(h, x, &none, RK_ROLE_NONE, vm_id))
		x[0] = RMI_ERROR_INPUT; /* abandoned: report a failure */
	if (none.n) {
		/* the command took memory: the host cannot tell what for; never reuse it */
		for (uint32_t i = 0; i < none.n; i++)
			host_leak(h, none.v[i].pa, none.v[i].n, fid, x[0]);
		host_blocks_free(&none);
	}
	return x[0];
}
