/* SPDX-License-Identifier: MIT */
/* Platform: DRAM banks backed lazily, the GPT, and the host CPUs' GIC virtual interfaces. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "platform/platform.h"

#define DEFAULT_DRAM_BASE 0x80000000ULL
/* Runs at least this long are scrubbed by giving the pages back to the kernel. */
#define SCRUB_MADVISE_MIN (16 * RK_GRANULE_SIZE)
#define DEFAULT_NCPUS 8u
#define MAX_NCPUS 4096u

static int hcpus_init(struct platform *p, const struct rk_machine_config *cfg)
{
	unsigned int nr_lrs = cfg->gic_nr_lrs ? cfg->gic_nr_lrs : PLAT_GIC_DEFAULT_LRS;

	p->ncpus = cfg->ncpus ? cfg->ncpus : DEFAULT_NCPUS;
	if (p->ncpus > MAX_NCPUS || nr_lrs > ICH_MAX_LRS)
		return -EINVAL;
	p->ich_vtr = plat_ich_vtr(nr_lrs);
	p->hcpus = calloc(p->ncpus, sizeof(*p->hcpus));
	if (!p->hcpus)
		return -ENOMEM;
	for (unsigned int i = 0; i < p->ncpus; i++) {
		pthread_mutex_init(&p->hcpus[i].lock, NULL);
		plat_ich_reset(&p->hcpus[i].ich, p->ich_vtr);
	}
	return 0;
}

static void *lazy_alloc(uint64_t size)
{
	void *p =
		mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static int validate_banks(const struct rk_dram_bank *banks, unsigned int n, unsigned int pa_bits)
{
	uint64_t pa_limit = 1ULL << pa_bits;

	if (n == 0 || n > RK_MAX_DRAM_BANKS)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		const struct rk_dram_bank *b = &banks[i];
		if (!b->size || (b->base | b->size) & (RK_GRANULE_SIZE - 1))
			return -EINVAL;
		if (b->base + b->size < b->base || b->base + b->size > pa_limit)
			return -EINVAL;
		/* ascending and non-overlapping: holes are allowed, overlap is not */
		if (i && b->base < banks[i - 1].base + banks[i - 1].size)
			return -EINVAL;
	}
	return 0;
}

int platform_init(struct platform *p, const struct rk_machine_config *cfg)
{
	struct rk_dram_bank one = { DEFAULT_DRAM_BASE, cfg->dram_size };
	const struct rk_dram_bank *banks = cfg->nbanks ? cfg->banks : &one;
	unsigned int n = cfg->nbanks ? cfg->nbanks : 1;
	int ret;

	memset(p, 0, sizeof(*p));
	if (sysconf(_SC_PAGESIZE) != (long)RK_GRANULE_SIZE)
		return -ENOTSUP; /* the lazy backing assumes 4 KiB host pages */
	p->pa_bits = cfg->pa_bits ? cfg->pa_bits : 48;
	if (p->pa_bits < 32 || p->pa_bits > 52)
		return -EINVAL;
	ret = validate_banks(banks, n, p->pa_bits);
	if (ret)
		return ret;

	p->nbanks = n;
	for (unsigned int i = 0; i < n; i++) {
		p->banks[i].base = banks[i].base;
		p->banks[i].size = banks[i].size;
		p->banks[i].gidx0 = p->ngranules;
		p->ngranules += banks[i].size >> RK_GRANULE_SHIFT;
		p->banks[i].mem = lazy_alloc(banks[i].size);
		if (!p->banks[i].mem) {
			platform_fini(p);
			return -ENOMEM;
		}
	}
	/* every granule starts NS (0): anonymous memory reads as zero */
	p->gpt = lazy_alloc(p->ngranules);
	if (!p->gpt) {
		platform_fini(p);
		return -ENOMEM;
	}
	if (cfg->ncarveouts > 4) {
		platform_fini(p);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < cfg->ncarveouts; i++) {
		const struct rk_pas_region *r = &cfg->carveouts[i];
		uint64_t gidx = 0;

		if ((r->base | r->size) & (RK_GRANULE_SIZE - 1) || r->pas > RK_PAS_SECURE ||
		    !plat_range_in_dram(p, r->base, r->size)) {
			platform_fini(p);
			return -EINVAL;
		}
		plat_pa_to_gidx(p, r->base, &gidx);
		for (uint64_t k = 0; k < r->size >> RK_GRANULE_SHIFT; k++)
			atomic_store(&p->gpt[gidx + k], (uint8_t)r->pas);
	}
	ret = hcpus_init(p, cfg);
	if (ret)
		platform_fini(p);
	return ret;
}

void platform_fini(struct platform *p)
{
	for (unsigned int i = 0; i < p->nbanks; i++)
		if (p->banks[i].mem)
			munmap(p->banks[i].mem, p->banks[i].size);
	if (p->gpt)
		munmap((void *)p->gpt, p->ngranules);
	for (unsigned int i = 0; p->hcpus && i < p->ncpus; i++)
		pthread_mutex_destroy(&p->hcpus[i].lock);
	free(p->hcpus);
	memset(p, 0, sizeof(*p));
}

int plat_gpt_transition(struct platform *p, uint64_t gidx, enum rk_pas from, enum rk_pas to)
{
	uint8_t expected = (uint8_t)from;

	if (!atomic_compare_exchange_strong_explicit(&p->gpt[gidx], &expected, (uint8_t)to,
						     memory_order_acq_rel, memory_order_acquire))
		return -EPERM;
	return 0;
}

/*
 * Zero [mem, mem + len): a large range by giving its pages back to the OS
 * (they read as zero), only whole host pages of it (madvise would round the
 * length up, past the range, on a host with pages larger than a granule);
 * the rest by writing zeros.
 */
static void scrub_range(uint8_t *mem, uint64_t len)
{
	long pg = sysconf(_SC_PAGESIZE);
	uintptr_t host_page = pg > 0 ? (uintptr_t)pg : (uintptr_t)RK_GRANULE_SIZE, lo, hi;

	lo = ((uintptr_t)mem + host_page - 1) & ~(host_page - 1);
	hi = ((uintptr_t)mem + len) & ~(host_page - 1);
	if (len < SCRUB_MADVISE_MIN || hi <= lo || madvise((void *)lo, hi - lo, MADV_DONTNEED) != 0) {
		memset(mem, 0, len);
		return;
	}
	memset(mem, 0, lo - (uintptr_t)mem);
	memset((void *)hi, 0, (uintptr_t)mem + len - hi);
}

void plat_scrub(struct platform *p, uint64_t gidx, uint64_t count)
{
	while (count) {
		const struct plat_bank *b = plat_gidx_bank(p, gidx);
		uint64_t in_bank = b->gidx0 + (b->size >> RK_GRANULE_SHIFT) - gidx;
		uint64_t n = count < in_bank ? count : in_bank;
		uint8_t *mem = plat_gidx_ptr(p, gidx);
		uint64_t len = n << RK_GRANULE_SHIFT;

		scrub_range(mem, len);
		gidx += n;
		count -= n;
	}
}

bool plat_range_in_dram(const struct platform *p, uint64_t pa, uint64_t len)
{
	uint64_t gidx = 0;

	if (!len || pa + len < pa || !plat_pa_to_gidx(p, pa, &gidx))
		return false;
	const struct plat_bank *b = plat_gidx_bank(p, gidx);
	return pa + len - b->base <= b->size;
}

int plat_ns_check(const struct platform *p, uint64_t pa, uint64_t len)
{
	uint64_t gidx = 0;
	int ret = 0;

	if (!len)
		return 0;
	if (pa + len < pa)
		return -EFAULT;
	for (uint64_t a = pa & ~(RK_GRANULE_SIZE - 1); a < pa + len; a += RK_GRANULE_SIZE) {
		if (!plat_pa_to_gidx(p, a, &gidx))
			return -EFAULT;
		if (plat_gpt_get(p, gidx) != RK_PAS_NS)
			ret = -RK_EGPF;
	}
	return ret;
}

int plat_ns_copy(struct platform *p, uint64_t pa, void *buf, uint64_t len, bool to_mem)
{
	uint8_t *b = buf;
	int ret = plat_ns_check(p, pa, len);

	if (ret)
		return ret;
	while (len) {
		uint64_t gidx = 0, off = pa & (RK_GRANULE_SIZE - 1), n = RK_GRANULE_SIZE - off;

		if (n > len)
			n = len;
		plat_pa_to_gidx(p, pa, &gidx);
		uint8_t *m = plat_gidx_ptr(p, gidx) + off;
		if (to_mem)
			memcpy(m, b, n);
		else
			memcpy(b, m, n);
		pa += n;
		b += n;
		len -= n;
	}
	return 0;
}
