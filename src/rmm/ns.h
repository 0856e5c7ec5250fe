/* SPDX-License-Identifier: MIT */
/* Non-secure memory access by the RMM, checked against the GPT (ns.c). */
#ifndef RK_RMM_NS_H
#define RK_RMM_NS_H

#include <stdbool.h>
#include <stdint.h>

struct rmm;

/* Copy from / to NS memory. False if len is 0 or pa..pa+len is not all NS DRAM. */
bool rmm_ns_read(struct rmm *rmm, uint64_t pa, void *buf, uint64_t len);
bool rmm_ns_write(struct rmm *rmm, uint64_t pa, const void *buf, uint64_t len);

#endif
