/* SPDX-License-Identifier: MIT */
/* VMIDs of realms: one per realm, VMID 0 is the host's (vmid.c; rmm->vmid_lock). */
#ifndef RK_RMM_VMID_H
#define RK_RMM_VMID_H

#include <stdint.h>

struct rmm;

/* 0, or -ENOSPC when every VMID is taken. */
int rmm_vmid_alloc(struct rmm *rmm, uint16_t *out);
void rmm_vmid_free(struct rmm *rmm, uint16_t vmid);

#endif
