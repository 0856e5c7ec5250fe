/* SPDX-License-Identifier: MIT */
/* The pool of stateful RMI operation contexts (sro.h). */
#include <errno.h>
#include <string.h>

#include "sro.h"

int sro_pool_init(struct sro_pool *pool)
{
	memset(pool->ctx, 0, sizeof(pool->ctx));
	return pthread_mutex_init(&pool->lock, NULL) ? -ENOMEM : 0;
}

void sro_pool_fini(struct sro_pool *pool)
{
	pthread_mutex_destroy(&pool->lock);
}

/* Caller holds pool->lock. */
struct sro_ctx *sro_alloc(struct sro_pool *pool, unsigned int *handle)
{
	for (unsigned int i = 0; i < RMM_SRO_CONTEXTS; i++) {
		if (pool->ctx[i].state == SRO_FREE) {
			memset(&pool->ctx[i], 0, sizeof(pool->ctx[i]));
			pool->ctx[i].state = SRO_SEALED;
			*handle = i;
			return &pool->ctx[i];
		}
	}
	return NULL;
}

/* Caller holds pool->lock. NULL for an unknown or unsealed handle. */
struct sro_ctx *sro_get(struct sro_pool *pool, uint64_t handle)
{
	if (handle >= RMM_SRO_CONTEXTS || pool->ctx[handle].state != SRO_SEALED)
		return NULL;
	return &pool->ctx[handle];
}

void sro_free(struct sro_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
}
