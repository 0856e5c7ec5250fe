/* SPDX-License-Identifier: MIT */
/* Non-secure memory access by the RMM (ns.h). */
#include "ns.h"
#include "rmm.h"

/* NS access by the RMM: every granule must be DRAM and NS in the GPT. */
bool rmm_ns_read(struct rmm *rmm, uint64_t pa, void *buf, uint64_t len)
{
	return len && plat_ns_copy(rmm->plat, pa, buf, len, false) == 0;
}

bool rmm_ns_write(struct rmm *rmm, uint64_t pa, const void *buf, uint64_t len)
{
	return len && plat_ns_copy(rmm->plat, pa, (void *)buf, len, true) == 0;
}
