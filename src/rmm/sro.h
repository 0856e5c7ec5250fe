/* SPDX-License-Identifier: MIT */
/*
 * Stateful RMI Operations (SRO). A command that needs memory from the host or
 * has memory to give back returns RMI_INCOMPLETE with a handle; the host then
 * drives the operation with OP_MEM_DONATE / OP_MEM_RECLAIM / OP_CONTINUE
 * until it reports its final status. The RMM enforces the expected next call.
 *
 * Contexts live in a fixed pool (rmm->sro, allocated at boot: no allocation
 * on command paths), protected by its lock; a context is FREE or SEALED
 * (waiting for the host). A command that finds no FREE context gets
 * RMI_BLOCKED. This file and sro.c are the pool; the operations themselves
 * (REC_CREATE, REC_DESTROY and the OP_* commands) are in rmi/rec.c.
 *
 * Lock order: the pool's lock before any granule lock (REC_CREATE, REC_DESTROY,
 * OP_CONTINUE, OP_MEM_DONATE all lock granules with it held).
 */
#ifndef RK_RMM_SRO_H
#define RK_RMM_SRO_H

#include <pthread.h>
#include <stdint.h>

#include "rec.h"

#define RMM_SRO_CONTEXTS 64u

enum sro_state {
	SRO_FREE = 0,   /* unused */
	SRO_SEALED = 1, /* an operation waits for the host's next call */
};

enum sro_op {
	SRO_OP_REC_CREATE = 1,  /* REC_CREATE: donate aux, then create */
	SRO_OP_REC_DESTROY = 2, /* REC_DESTROY: reclaim aux, then destroy */
};

enum sro_next {
	SRO_NEXT_DONATE = 1,   /* expects OP_MEM_DONATE */
	SRO_NEXT_RECLAIM = 2,  /* expects OP_MEM_RECLAIM */
	SRO_NEXT_CONTINUE = 3, /* expects OP_CONTINUE */
};

struct sro_ctx {
	uint8_t state;     /* enum sro_state */
	uint8_t op;        /* enum sro_op */
	uint8_t next;      /* enum sro_next */
	uint8_t naux;      /* aux granules held by the operation */
	uint32_t nreclaim; /* aux granules not yet given back */
	uint64_t final;    /* packed result to report at the end (failed create) */
	uint64_t rd, rec, params;
	uint64_t aux[REC_NUM_AUX];
};

struct sro_pool {
	pthread_mutex_t lock;
	struct sro_ctx ctx[RMM_SRO_CONTEXTS];
};

int sro_pool_init(struct sro_pool *pool);
void sro_pool_fini(struct sro_pool *pool);
/* A FREE context, now SEALED and zeroed, with its handle; NULL if none. Caller holds pool->lock. */
struct sro_ctx *sro_alloc(struct sro_pool *pool, unsigned int *handle);
/* The SEALED context of a handle; NULL for an unknown or unsealed handle. Caller holds pool->lock. */
struct sro_ctx *sro_get(struct sro_pool *pool, uint64_t handle);
/* Back to FREE. Caller holds pool->lock. */
void sro_free(struct sro_ctx *ctx);

#endif
