/* SPDX-License-Identifier: MIT */
/*
 * The generic Stateful RMI Operation (SRO) driver (reference 9.4): answers the
 * RMM's donate and reclaim requests of an operation until its final result,
 * with memory from the allocator (granules.c), tracking what the RMM holds.
 * Delegation calls back here (host_sro_finish()) when a range command
 * yields with an SRO: the driver and delegation recurse by design.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "host_internal.h"

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
			return host_fail(h, -ENOMEM, 0, 0, "SRO donation: no %" PRIu64 " contiguous granules",
					 n);
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
			host_led_move(h, offer[i].pa, take,
				      undelegated ? RK_GRANULE_HOST : RK_GRANULE_DELEGATED, RK_GRANULE_RMM);
			if (host_blocks_add(held, offer[i].pa, take))
				host_leak(h, offer[i].pa, take, RMI_FID_OP_MEM_DONATE,
					  x0); /* cannot track it */
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
