/* SPDX-License-Identifier: MIT */
/*
 * Platform internals: DRAM banks and the Granule Protection Table.
 *
 * Granules are numbered densely across banks ("granule index", gidx): bank 0's
 * granules first, then bank 1's, ... The GPT holds one PAS byte per granule.
 * The root view (plat_gidx_ptr) is firmware's: it ignores the GPT and is used
 * only by the RMM. Host code uses the checked accessors of realmkit/platform.h.
 * The host CPUs (struct plat_hcpu, platform/gic.h) carry the ICH_*_EL2 state.
 */
#ifndef RK_PLATFORM_PLATFORM_H
#define RK_PLATFORM_PLATFORM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "platform/gic.h"
#include "realmkit/platform.h"

/*
 * The system counter (CNTPCT/CNTVCT) at CNTFRQ_HZ (62.5 MHz: 16 ns a tick),
 * counted from the host's CLOCK_MONOTONIC, the clock the engine's own
 * CNTVCT_EL0 counts (Unicorn 2.0.1: QEMU's virtual clock is the monotonic
 * clock; the generic timer divides it by the 16 ns period). One time base
 * for the realm, the RMM and the host (rk_counter_read()).
 */
static inline uint64_t plat_counter_read(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) / 16u;
}

struct plat_bank {
	uint64_t base;  /* first PA */
	uint64_t size;  /* bytes */
	uint64_t gidx0; /* granule index of the first granule */
	uint8_t *mem;   /* backing store (lazily populated) */
};

struct platform {
	uint64_t ngranules;   /* granules of DRAM in all banks */
	_Atomic uint8_t *gpt; /* enum rk_pas per granule */
	unsigned int nbanks;
	unsigned int pa_bits;
	struct plat_bank banks[RK_MAX_DRAM_BANKS];
	unsigned int ncpus;      /* host CPUs (rk_machine_config.ncpus) */
	unsigned int reserved;   /* no hole (pahole) */
	struct plat_hcpu *hcpus; /* their GIC virtual CPU interfaces (platform/gic.h) */
	uint64_t ich_vtr;        /* ICH_VTR_EL2 of every CPU */
};

int platform_init(struct platform *p, const struct rk_machine_config *cfg);
void platform_fini(struct platform *p);

/* PA -> granule index. False if pa is not in DRAM. pa need not be aligned. */
static inline bool plat_pa_to_gidx(const struct platform *p, uint64_t pa, uint64_t *gidx)
{
	for (unsigned int i = 0; i < p->nbanks; i++) {
		const struct plat_bank *b = &p->banks[i];
		if (pa - b->base < b->size) {
			*gidx = b->gidx0 + ((pa - b->base) >> RK_GRANULE_SHIFT);
			return true;
		}
	}
	return false;
}

static inline const struct plat_bank *plat_gidx_bank(const struct platform *p, uint64_t gidx)
{
	unsigned int i = 0;
	while (i + 1 < p->nbanks && gidx >= p->banks[i + 1].gidx0)
		i++;
	return &p->banks[i];
}

static inline uint64_t plat_gidx_to_pa(const struct platform *p, uint64_t gidx)
{
	const struct plat_bank *b = plat_gidx_bank(p, gidx);
	return b->base + ((gidx - b->gidx0) << RK_GRANULE_SHIFT);
}

/* Root (firmware) view of a granule's contents. */
static inline uint8_t *plat_gidx_ptr(const struct platform *p, uint64_t gidx)
{
	const struct plat_bank *b = plat_gidx_bank(p, gidx);
	return b->mem + ((gidx - b->gidx0) << RK_GRANULE_SHIFT);
}

static inline enum rk_pas plat_gpt_get(const struct platform *p, uint64_t gidx)
{
	return (enum rk_pas)atomic_load_explicit(&p->gpt[gidx], memory_order_acquire);
}

/*
 * The EL3 granule transition service (GTSI): move a granule from PAS `from`
 * to `to`. Fails with -EPERM, changing nothing, if its PAS is not `from`.
 */
int plat_gpt_transition(struct platform *p, uint64_t gidx, enum rk_pas from, enum rk_pas to);

/* Zero `count` granules from gidx (dense granule numbering may cross banks). */
void plat_scrub(struct platform *p, uint64_t gidx, uint64_t count);

/* True if pa (any address in it) is a DRAM granule in the NS PAS. */
static inline bool plat_pa_is_ns(const struct platform *p, uint64_t pa)
{
	uint64_t gidx = 0;

	return plat_pa_to_gidx(p, pa, &gidx) && plat_gpt_get(p, gidx) == RK_PAS_NS;
}

/*
 * Non-secure memory access as the hardware checks it, for the host's door
 * (rk_ns_*) and for the RMM reading or writing host memory alike:
 * plat_ns_check() is 0 if every granule of [pa, pa+len) is DRAM and NS,
 * -EFAULT if one is not DRAM, -RK_EGPF if one is not NS (len 0: 0);
 * plat_ns_copy() checks, then copies (to_mem: buf -> memory), or copies nothing.
 */
int plat_ns_check(const struct platform *p, uint64_t pa, uint64_t len);
int plat_ns_copy(struct platform *p, uint64_t pa, void *buf, uint64_t len, bool to_mem);

/* True if [pa, pa+len) lies in one DRAM bank (len > 0, no overflow). */
bool plat_range_in_dram(const struct platform *p, uint64_t pa, uint64_t len);

#endif
