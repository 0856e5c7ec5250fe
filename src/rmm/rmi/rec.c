/* SPDX-License-Identifier: MIT */
/*
 * REC_CREATE and REC_DESTROY (2.0-bet1: stateful operations), and the SRO
 * follow-up commands OP_CONTINUE, OP_MEM_DONATE, OP_MEM_RECLAIM, OP_CANCEL.
 *
 * REC_CREATE: REC granule DELEGATED -> PARTIAL; INCOMPLETE|DONATE asking for
 * REC_NUM_AUX 4 KiB DELEGATED granules; the host donates them (-> REC_AUX);
 * INCOMPLETE|NONE; OP_CONTINUE validates the realm and the parameters and
 * creates the REC (PARTIAL -> REC), or turns into a reclaim of the donated
 * granules whose final OP_CONTINUE reports the error (PARTIAL -> DELEGATED).
 * REC_DESTROY: REC -> PARTIAL; INCOMPLETE|RECLAIM; the host reclaims the aux
 * granules (-> DELEGATED); OP_CONTINUE: PARTIAL -> DELEGATED.
 */
#include <string.h>

#include "realmkit/arch/sysreg.h"
#include "engines.h"
#include "granule.h"
#include "ns.h"
#include "realm.h"
#include "rec.h"
#include "rec_engine.h"
#include "rmi/rmi_handlers_gen.h"
#include "sro.h"

#define MAX_RECS ((1u << RMM_MAX_RECS_ORDER) - 1)
#define DESC_CNT_SHIFT RMI_ADDR_RANGE_CNT_SHIFT
#define MAX_LIST (RK_GRANULE_SIZE / sizeof(uint64_t))

static uint64_t incomplete(enum rmi_mem_req req)
{
	return (uint64_t)RMI_INCOMPLETE | ((uint64_t)req << RMI_RESULT_MEMREQ_SHIFT);
}

/* RmiOpMemDonateReq for n 4 KiB non-contiguous DELEGATED granules. */
static uint64_t donate_req(unsigned int n)
{
	return ((uint64_t)n << RMI_DONATE_REQ_CNT_SHIFT); /* SZ 0 (4 KiB), CONTIG 0, STATE 0 */
}

/*
 * The SRO pool's lock is taken before any granule lock, by every SRO command:
 * REC_DESTROY, OP_CONTINUE and OP_MEM_DONATE lock granules with the pool held.
 */
uint64_t rmi_rec_create(struct rmm *rmm, const struct rmi_rec_create_args *args,
			struct rmi_rec_create_res *res)
{
	struct sro_pool *pool = rmm->sro;
	struct granule *g_rec;
	struct sro_ctx *ctx;
	unsigned int handle;
	uint64_t ret;

	pthread_mutex_lock(&pool->lock);
	g_rec = find_lock_granule(rmm, args->rec, GRANULE_STATE_DELEGATED);
	if (!g_rec) {
		ret = rmi_result(RMI_ERROR_INPUT, 0);
		goto out_pool;
	}
	ctx = sro_alloc(pool, &handle);
	if (!ctx) {
		ret = rmi_result(RMI_BLOCKED, 0);
		goto out_rec;
	}
	ctx->op = SRO_OP_REC_CREATE;
	ctx->next = SRO_NEXT_DONATE;
	ctx->rd = args->rd;
	ctx->rec = args->rec;
	ctx->params = args->params;
	granule_set_state(g_rec, GRANULE_STATE_PARTIAL);
	res->handle = handle;
	res->donate_req = donate_req(REC_NUM_AUX);
	ret = incomplete(RMI_OP_MEM_REQ_DONATE);
out_rec:
	granule_unlock(g_rec);
out_pool:
	pthread_mutex_unlock(&pool->lock);
	return ret;
}

uint64_t rmi_rec_destroy(struct rmm *rmm, const struct rmi_rec_destroy_args *args,
			 struct rmi_rec_destroy_res *res)
{
	struct sro_pool *pool = rmm->sro;
	struct granule *g_rec, *g_rd;
	struct sro_ctx *ctx;
	unsigned int handle;
	uint64_t ret;

	pthread_mutex_lock(&pool->lock);
	ctx = sro_alloc(pool, &handle);
	if (!ctx) {
		ret = rmi_result(RMI_BLOCKED, 0);
		goto out_pool;
	}
	g_rec = lock_rec_and_rd(rmm, args->rec, GRANULE_STATE_REC, &g_rd);
	if (!g_rec) {
		ret = rmi_result(RMI_ERROR_INPUT, 0);
		goto out_ctx;
	}
	if (g_rec->refcount) { /* running */
		ret = rmi_result(RMI_ERROR_REC, 0);
		goto out_rec;
	}
	struct rec *rec = rec_of(rmm, g_rec);
	ctx->op = SRO_OP_REC_DESTROY;
	ctx->next = SRO_NEXT_RECLAIM;
	ctx->rd = rec->rd;
	ctx->rec = args->rec;
	ctx->naux = REC_NUM_AUX;
	ctx->nreclaim = REC_NUM_AUX;
	memcpy(ctx->aux, rec->aux, sizeof(ctx->aux));
	rec_free_engine(rec);
	engines_forget(rmm->engines, args->rec);
	granule_set_state(g_rec, GRANULE_STATE_PARTIAL);
	granule_refcount_dec(g_rd);
	res->handle = handle;
	ret = incomplete(RMI_OP_MEM_REQ_RECLAIM);
out_rec:
	granule_unlock(g_rec);
	granule_unlock(g_rd);
out_ctx:
	if (rmi_result_status(ret) != RMI_INCOMPLETE)
		sro_free(ctx);
out_pool:
	pthread_mutex_unlock(&pool->lock);
	return ret;
}

/* The checks REC_CREATE makes once its memory has arrived; 0 or a packed error. */
static uint64_t rec_create_finish(struct rmm *rmm, struct sro_ctx *ctx)
{
	static _Thread_local struct rmi_rec_params p;
	struct granule *g_rec, *g_rd;
	struct granule_req reqs[2] = {
		{ ctx->rec, GRANULE_STATE_PARTIAL, NULL },
		{ ctx->rd, GRANULE_STATE_RD, NULL },
	};
	uint32_t idx;
	uint64_t err = 0;

	if (ctx->params & (RK_GRANULE_SIZE - 1) || !rmm_ns_read(rmm, ctx->params, &p, sizeof(p)))
		return rmi_result(RMI_ERROR_INPUT, 0);
	if (!find_lock_granules(rmm, reqs, 2))
		return rmi_result(RMI_ERROR_INPUT, 0);
	g_rec = reqs[0].g;
	g_rd = reqs[1].g;
	struct rd *rd = rd_of(rmm, g_rd);
	if (g_rd->refcount >= MAX_RECS || rd->state != RMI_REALM_STATE_NEW)
		err = rmi_result(RMI_ERROR_REALM, 0);
	else if (!rec_mpidr_index(p.mpidr, &idx) || idx != rd->rec_count)
		err = rmi_result(RMI_ERROR_INPUT, 0);
	else if (ctx->naux != REC_NUM_AUX)
		err = rmi_result(RMI_ERROR_INPUT, 0);
	else if ((p.flags & RMI_REC_PARAMS_FLAGS_RUNNABLE_MASK) &&
		 rk_rim_extend_rec(rd->hash_algo, rd->rim, &p))
		err = rmi_result(RMI_ERROR_GLOBAL, 0);
	if (!err) {
		struct rec *rec = rec_of(rmm, g_rec);
		memset(rec, 0, sizeof(*rec));
		rec->rd = ctx->rd;
		rec->mpidr = p.mpidr;
		rec->index = idx;
		rec->runnable = (p.flags & RMI_REC_PARAMS_FLAGS_RUNNABLE_MASK) != 0;
		memcpy(rec->gprs, p.gprs, sizeof(p.gprs));
		rec->pc = p.pc;
		rec->pstate = PSTATE_EL1H_DAIF;
		rec->idregs = (struct rk_cpu_sysreg_ctx){
			.num_bps = rd->num_bps,
			.num_wps = rd->num_wps,
			.sve = (rd->flags0 & RMI_REALM_FLAGS0_SVE_MASK) != 0,
			.pmu = (rd->flags0 & RMI_REALM_FLAGS0_PMU_MASK) != 0,
		};
		memcpy(rec->aux, ctx->aux, sizeof(rec->aux));
		granule_set_state(g_rec, GRANULE_STATE_REC);
		granule_set_refcount(g_rec, 0);
		granule_refcount_inc(g_rd);
		rd->rec_count++;
	}
	granule_unlock(g_rec);
	granule_unlock(g_rd);
	return err;
}

/* Give the object granule of a finished or failed operation back as DELEGATED. */
static void release_object(struct rmm *rmm, uint64_t pa)
{
	struct granule *g = find_lock_granule(rmm, pa, GRANULE_STATE_PARTIAL);

	if (g) {
		granule_release_to_delegated(rmm, g);
		granule_unlock(g);
	}
}

uint64_t rmi_op_continue(struct rmm *rmm, const struct rmi_op_continue_args *args,
			 struct rmi_op_continue_res *res)
{
	struct sro_pool *pool = rmm->sro;
	struct sro_ctx *ctx;
	uint64_t err, ret;

	pthread_mutex_lock(&pool->lock);
	ctx = sro_get(pool, args->handle);
	if (!ctx || ctx->next != SRO_NEXT_CONTINUE) {
		ret = rmi_result(RMI_ERROR_INPUT, 0);
		goto out;
	}
	if (ctx->op == SRO_OP_REC_CREATE && !ctx->final) {
		err = rec_create_finish(rmm, ctx);
		if (err) {
			/* give the donated memory back, then report err */
			ctx->final = err;
			ctx->next = SRO_NEXT_RECLAIM;
			ctx->nreclaim = ctx->naux;
			res->out = args->handle;
			ret = incomplete(RMI_OP_MEM_REQ_RECLAIM);
			goto out;
		}
		ret = rmi_result(RMI_SUCCESS, 0);
	} else {
		/* REC_DESTROY, or a failed REC_CREATE, after its reclaim */
		release_object(rmm, ctx->rec);
		ret = ctx->final ? ctx->final : rmi_result(RMI_SUCCESS, 0);
	}
	sro_free(ctx);
out:
	pthread_mutex_unlock(&pool->lock);
	return ret;
}

uint64_t rmi_op_mem_donate(struct rmm *rmm, const struct rmi_op_mem_donate_args *args,
			   struct rmi_op_mem_donate_res *res)
{
	static _Thread_local uint64_t list[MAX_LIST];
	struct sro_pool *pool = rmm->sro;
	uint64_t lpa = args->list, n = args->count, taken = 0, ret;
	struct sro_ctx *ctx;
	unsigned int i, want;

	pthread_mutex_lock(&pool->lock);
	ret = rmi_result(RMI_ERROR_INPUT, 0);
	ctx = sro_get(pool, args->handle);
	if (!ctx || ctx->next != SRO_NEXT_DONATE || lpa & 7)
		goto out;
	if (n > (RK_GRANULE_SIZE - (lpa & (RK_GRANULE_SIZE - 1))) / 8)
		n = (RK_GRANULE_SIZE - (lpa & (RK_GRANULE_SIZE - 1))) / 8;
	if (!n || !rmm_ns_read(rmm, lpa, list, n * sizeof(uint64_t)))
		goto out;
	want = REC_NUM_AUX - ctx->naux;
	/* validate every descriptor before taking anything */
	for (i = 0; i < n; i++) {
		uint64_t d = list[i], cnt = (d & RMI_ADDR_RANGE_CNT_MASK) >> DESC_CNT_SHIFT;
		if (!cnt)
			continue;
		if ((d & RMI_ADDR_RANGE_SZ_MASK) != 0 || (d >> RMI_ADDR_RANGE_ST_SHIFT) & 1)
			goto out; /* 4 KiB blocks of DELEGATED memory were asked for */
		taken += cnt;
		if (taken > want)
			goto out;
	}
	/* take the granules: DELEGATED -> REC_AUX, all or nothing */
	unsigned int got = 0;
	for (i = 0; i < n; i++) {
		uint64_t d = list[i], cnt = (d & RMI_ADDR_RANGE_CNT_MASK) >> DESC_CNT_SHIFT;
		for (uint64_t j = 0; j < cnt; j++) {
			uint64_t pa = (d & RMI_ADDR_RANGE_ADDR_MASK) + j * RK_GRANULE_SIZE;
			struct granule *g = find_lock_granule(rmm, pa, GRANULE_STATE_DELEGATED);
			if (!g) {
				while (got--) {
					struct granule *b = granule_from_pa(rmm, ctx->aux[ctx->naux + got]);
					granule_lock(b);
					granule_set_state(b, GRANULE_STATE_DELEGATED);
					granule_unlock(b);
				}
				goto out;
			}
			granule_set_state(g, GRANULE_STATE_REC_AUX);
			granule_unlock(g);
			ctx->aux[ctx->naux + got++] = pa;
		}
	}
	ctx->naux = (uint8_t)(ctx->naux + got);
	res->consumed = got;
	if (ctx->naux < REC_NUM_AUX) {
		ret = incomplete(RMI_OP_MEM_REQ_DONATE);
		res->donate_req = donate_req(REC_NUM_AUX - ctx->naux);
	} else {
		ctx->next = SRO_NEXT_CONTINUE;
		ret = incomplete(RMI_OP_MEM_REQ_NONE);
	}
out:
	pthread_mutex_unlock(&pool->lock);
	return ret;
}

uint64_t rmi_op_mem_reclaim(struct rmm *rmm, const struct rmi_op_mem_reclaim_args *args,
			    struct rmi_op_mem_reclaim_res *res)
{
	static _Thread_local uint64_t list[MAX_LIST];
	struct sro_pool *pool = rmm->sro;
	uint64_t lpa = args->list, cap = args->capacity, ret;
	struct sro_ctx *ctx;
	unsigned int n = 0;

	pthread_mutex_lock(&pool->lock);
	ret = rmi_result(RMI_ERROR_INPUT, 0);
	ctx = sro_get(pool, args->handle);
	if (!ctx || lpa & 7 || ctx->next != SRO_NEXT_RECLAIM)
		goto out;
	if (cap > (RK_GRANULE_SIZE - (lpa & (RK_GRANULE_SIZE - 1))) / 8)
		cap = (RK_GRANULE_SIZE - (lpa & (RK_GRANULE_SIZE - 1))) / 8;
	if (cap && !rmm_ns_read(rmm, lpa, list, cap * sizeof(uint64_t)))
		goto out; /* the output list must be NS memory */
	while (n < cap && ctx->nreclaim) {
		uint64_t pa = ctx->aux[--ctx->nreclaim];
		struct granule *g = granule_from_pa(rmm, pa);

		granule_lock(g);
		granule_release_to_delegated(rmm, g); /* REC_AUX -> DELEGATED, zeroed */
		granule_unlock(g);
		list[n++] = pa | (1ULL << DESC_CNT_SHIFT); /* one 4 KiB DELEGATED granule */
	}
	if (n)
		(void)rmm_ns_write(rmm, lpa, list, n * sizeof(uint64_t));
	res->written = n;
	if (ctx->nreclaim) {
		ret = incomplete(RMI_OP_MEM_REQ_RECLAIM);
	} else {
		ctx->naux = 0;
		ctx->next = SRO_NEXT_CONTINUE;
		ret = incomplete(RMI_OP_MEM_REQ_NONE);
	}
out:
	pthread_mutex_unlock(&pool->lock);
	return ret;
}

uint64_t rmi_op_cancel(struct rmm *rmm, const struct rmi_op_cancel_args *args, struct rmi_op_cancel_res *res)
{
	struct sro_pool *pool = rmm->sro;

	(void)res;
	pthread_mutex_lock(&pool->lock);
	/* no operation of this RMM can be cancelled (x0[10] is always 0) */
	(void)sro_get(pool, args->handle);
	pthread_mutex_unlock(&pool->lock);
	return rmi_result(RMI_ERROR_INPUT, 0);
}
