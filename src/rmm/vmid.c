/* SPDX-License-Identifier: MIT */
/* VMIDs of realms (vmid.h). */
#include <errno.h>

#include "rmm.h"
#include "vmid.h"

int rmm_vmid_alloc(struct rmm *rmm, uint16_t *out)
{
	int ret = -ENOSPC;

	pthread_mutex_lock(&rmm->vmid_lock);
	for (unsigned int w = 0; w < RMM_MAX_VMIDS / 64; w++) {
		if (rmm->vmid_bitmap[w] == ~0ULL)
			continue;
		unsigned int b = (unsigned int)__builtin_ctzll(~rmm->vmid_bitmap[w]);
		rmm->vmid_bitmap[w] |= 1ULL << b;
		*out = (uint16_t)(w * 64 + b);
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&rmm->vmid_lock);
	return ret;
}

void rmm_vmid_free(struct rmm *rmm, uint16_t vmid)
{
	pthread_mutex_lock(&rmm->vmid_lock);
	rmm->vmid_bitmap[vmid / 64] &= ~(1ULL << (vmid % 64));
	pthread_mutex_unlock(&rmm->vmid_lock);
}
