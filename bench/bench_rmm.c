/* SPDX-License-Identifier: MIT */
/*
 * RMM benchmarks, each reported as a ratio to a baseline measured in the
 * same run:
 *   RTT_READ_ENTRY over the SMC conduit   vs  a plain (non-inlined) function call
 *   GRANULE_RANGE_DELEGATE of 1 GiB       ns per granule (and the undelegate back)
 *   RTT_DATA_MAP of 2 MiB blocks / 4 KiB pages, ns per granule
 *   RTT_DATA_MAP_INIT (SHA-256)           vs  OpenSSL SHA-256 of the same 4 KiB
 * Usage: bench_rmm [--quick]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "realmkit/abi_gen.h"
#include "realmkit/platform.h"

#define G 4096ULL
#define MIB (1ULL << 20)
#define BASE 0x80000000ULL

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t rmi(struct rk_machine *m, uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		    uint64_t a5, uint64_t *x1)
{
	struct rk_smc_regs r = { { fid, a1, a2, a3, a4, a5 } };

	rk_smc(m, &r);
	if (x1)
		*x1 = r.x[1];
	return r.x[0];
}

static void die(const char *what, uint64_t st)
{
	fprintf(stderr, "bench_rmm: %s failed: status %llu\n", what, (unsigned long long)st);
	exit(1);
}

static void delegate(struct rk_machine *m, uint64_t pa, uint64_t top)
{
	uint64_t st, next;

	while (pa < top) {
		st = rmi(m, RMI_FID_GRANULE_RANGE_DELEGATE, pa, top, 0, 0, 0, &next);
		if (st)
			die("delegate", st);
		pa = next;
	}
}

static void undelegate(struct rk_machine *m, uint64_t pa, uint64_t top)
{
	uint64_t st, next;

	while (pa < top) {
		st = rmi(m, RMI_FID_GRANULE_RANGE_UNDELEGATE, pa, top, 0, 0, 0, &next);
		if (st)
			die("undelegate", st);
		pa = next;
	}
}

__attribute__((noinline)) static uint64_t plain_call(uint64_t a, uint64_t b, uint64_t c)
{
	__asm__ volatile("" ::: "memory");
	return a + b * c;
}

struct realm {
	uint64_t rd, rtt, params;
};

/* s2sz 40, start level 1, two roots; tables for IPA [0, 1 GiB) down to L2, L3 for [0, 2 MiB). */
static void realm_build(struct rk_machine *m, struct realm *r, uint64_t meta)
{
	struct rmi_realm_params *p = calloc(1, sizeof(*p));
	uint64_t st;

	r->rd = meta;
	r->rtt = meta + 2 * G;
	r->params = meta + 8 * G;
	p->s2sz = 40;
	p->num_bps = 1;
	p->num_wps = 1;
	p->rtt_base = r->rtt;
	p->rtt_level_start = 1;
	p->rtt_num_start = 2;
	rk_ns_write(m, r->params, p, sizeof(*p));
	free(p);
	delegate(m, r->rd, r->rd + 6 * G);
	if ((st = rmi(m, RMI_FID_REALM_CREATE, r->rd, r->params, 0, 0, 0, NULL)))
		die("realm create", st);
	if ((st = rmi(m, RMI_FID_RTT_CREATE, r->rd, r->rtt + 2 * G, 0, 2, 0, NULL)))
		die("rtt create l2", st);
	if ((st = rmi(m, RMI_FID_RTT_CREATE, r->rd, r->rtt + 3 * G, 0, 3, 0, NULL)))
		die("rtt create l3", st);
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && !strcmp(argv[1], "--quick");
	struct rk_machine_config cfg;
	struct rk_machine *m;
	struct realm r;
	uint64_t cfgpage[2] = { 0, 0 }, st, sink = 0, x1;
	unsigned int iters = quick ? 100000 : 2000000;
	double t0, t_call, t_read, t_del, t_undel;

	rk_machine_config_default(&cfg);
	cfg.dram_size = 4ULL << 30;
	if (rk_machine_create(&cfg, &m))
		return 1;
	rk_ns_write(m, BASE, cfgpage, sizeof(cfgpage));
	rmi(m, RMI_FID_RMM_CONFIG_SET, BASE, 0, 0, 0, 0, NULL);
	rmi(m, RMI_FID_RMM_ACTIVATE, 0, 0, 0, 0, 0, NULL);

	printf("# bench_rmm%s (RMM %s)\n", quick ? " --quick" : "", RMM_ABI_REVISION_STR);

	/* 1. RTT_READ_ENTRY vs a plain function call */
	realm_build(m, &r, BASE + 3 * (1ULL << 30));
	t0 = now();
	for (unsigned int i = 0; i < iters; i++)
		sink += plain_call(i, sink, 3);
	t_call = (now() - t0) / iters;
	t0 = now();
	for (unsigned int i = 0; i < iters; i++) {
		st = rmi(m, RMI_FID_RTT_READ_ENTRY, r.rd, (uint64_t)(i & 511) * G, 3, 0, 0, &x1);
		sink += st + x1;
	}
	t_read = (now() - t0) / iters;
	printf("RTT_READ_ENTRY (L3)           %8.1f ns/call   plain call %6.1f ns   ratio %6.1fx   (target <= 100 ns)\n",
	       t_read, t_call, t_read / t_call);

	/* 2. range delegate / undelegate of 1 GiB */
	uint64_t gib = 1ULL << 30, lo = BASE + gib, ngran = gib / G;
	t0 = now();
	delegate(m, lo, lo + gib);
	t_del = (now() - t0) / (double)ngran;
	t0 = now();
	undelegate(m, lo, lo + gib);
	t_undel = (now() - t0) / (double)ngran;
	printf("GRANULE_RANGE_DELEGATE 1 GiB  %8.2f ns/granule (target <= 15)   undelegate %.2f ns/granule\n",
	       t_del, t_undel);
	/* the same after the host has written every page (resident memory) */
	for (uint64_t pa = lo; pa < lo + gib; pa += G)
		rk_ns_write(m, pa, &pa, sizeof(pa));
	t0 = now();
	delegate(m, lo, lo + gib);
	t_del = (now() - t0) / (double)ngran;
	printf("  ... of 1 GiB host-written    %8.2f ns/granule (scrub included)\n", t_del);

	/* 3. RTT_DATA_MAP: 2 MiB blocks over [2 MiB, 1 GiB), then 4 KiB pages in [0, 2 MiB) */
	uint64_t ipa = 2 * MIB, pa = lo + 2 * MIB, top = gib, next;
	t0 = now();
	while (ipa < top) {
		uint64_t cnt = (top - ipa) / (2 * MIB);
		if (cnt > 1023)
			cnt = 1023;
		st = rmi(m, RMI_FID_RTT_DATA_MAP, r.rd, ipa, top, RMI_ADDR_TYPE_SINGLE, pa | (cnt << 2) | 1,
			 &next);
		if (st)
			die("data map 2M", st);
		pa += next - ipa;
		ipa = next;
	}
	double t_map2m = (now() - t0) / (double)((gib - 2 * MIB) / G);
	ipa = 0;
	pa = lo;
	t0 = now();
	st = rmi(m, RMI_FID_RTT_DATA_MAP, r.rd, 0, 2 * MIB, RMI_ADDR_TYPE_SINGLE, pa | (512ULL << 2), &next);
	if (st || next != 2 * MIB)
		die("data map 4K", st);
	double t_map4k = (now() - t0) / 512.0;
	printf("RTT_DATA_MAP 2 MiB blocks     %8.2f ns/granule (target <= 15)   4 KiB pages %.2f ns/granule\n",
	       t_map2m, t_map4k);

	/* 4. RTT_DATA_MAP_INIT vs OpenSSL SHA-256 of the same bytes */
	struct realm r2;
	realm_build(m, &r2, BASE + 3 * (1ULL << 30) + 16 * G);
	uint64_t src = BASE + 2 * G, data = BASE + 3 * (1ULL << 30) + 64 * G;
	unsigned int npages = 512;
	uint8_t page[4096], md[64];
	unsigned int mdlen;
	for (unsigned int i = 0; i < sizeof(page); i++)
		page[i] = (uint8_t)i;
	rk_ns_write(m, src, page, sizeof(page));
	/* as Linux does: delegate each destination page just before populating it
	 * (the page is resident, so the timing excludes first-touch page faults of
	 * the lazily backed DRAM; see the cold run below) */
	for (unsigned int i = 0; i < npages; i++)
		delegate(m, data + i * G, data + (i + 1) * G);
	t0 = now();
	for (unsigned int i = 0; i < npages; i++) {
		st = rmi(m, RMI_FID_RTT_DATA_MAP_INIT, r2.rd, data + i * G, (uint64_t)i * G, src,
			 RMI_MEASURE_CONTENT, NULL);
		if (st)
			die("data map init", st);
	}
	double t_init = (now() - t0) / npages;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	t0 = now();
	for (unsigned int i = 0; i < npages; i++) {
		EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
		EVP_DigestUpdate(ctx, page, sizeof(page));
		EVP_DigestFinal_ex(ctx, md, &mdlen);
		sink += md[0];
	}
	double t_sha = (now() - t0) / npages;
	EVP_MD_CTX_free(ctx);
	printf("RTT_DATA_MAP_INIT (SHA-256)   %8.1f ns/page   OpenSSL SHA-256 4 KiB %7.1f ns   ratio %.2fx (target <= 1.25x)\n",
	       t_init, t_sha, t_init / t_sha);
	/* cold: destination pages never touched (the first write faults them in) */
	uint64_t cold = data + npages * G;
	if ((st = rmi(m, RMI_FID_RTT_CREATE, r2.rd, r2.rd + G, 2 * MIB, 3, 0, NULL)))
		die("rtt create (cold)", st); /* r2.rd + G: delegated, unused by realm_build */
	delegate(m, cold, cold + npages * G);
	t0 = now();
	for (unsigned int i = 0; i < npages; i++) {
		st = rmi(m, RMI_FID_RTT_DATA_MAP_INIT, r2.rd, cold + i * G, (uint64_t)(npages + i) * G, src,
			 RMI_MEASURE_CONTENT, NULL);
		if (st)
			die("data map init (cold)", st);
	}
	printf("  ... into never-touched pages %7.1f ns/page   ratio %.2fx (includes the host page fault)\n",
	       (now() - t0) / npages, (now() - t0) / npages / t_sha);
	printf("# sink %llu\n", (unsigned long long)(sink & 1));
	rk_machine_destroy(m);
	return 0;
}
