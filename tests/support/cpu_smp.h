/* SPDX-License-Identifier: MIT */
/*
 * The fixture of the vCPU backend's cross-vCPU maintenance tests
 * (tests/platform/test_cpu_tlbi.c, test_cpu_icache.c; code in cpu_smp.c,
 * part of rk_test_support): two stage-2 vCPUs in one TLB domain sharing one
 * RAM at T_SMP_RAM_IPA whose first T_SMP_TABLES_TOP bytes are identity-mapped
 * by one set of stage-1 tables (4 KiB pages, 39-bit VA, start at level 1),
 * and code at T_SMP_E_MMU that turns the MMU on with them and ends in SMC.
 * Each vCPU has x10-x12 set for that code and PC on it, and has not run yet.
 */
#ifndef RK_CPU_SMP_H
#define RK_CPU_SMP_H

#include <stddef.h>
#include <stdint.h>

#include "realmkit/cpu.h"

#define T_SMP_RAM_IPA 0x80000000ull
#define T_SMP_RAM_SIZE 0x10000ull /* what the tables map: 16 pages */
#define T_SMP_L1 0x8000ull        /* the tables (RAM offsets) */
#define T_SMP_L2 0x9000ull
#define T_SMP_L3 0xa000ull
#define T_SMP_E_MMU 0x00ull  /* turn the MMU on; smc */
#define T_SMP_E_FREE 0x40ull /* the first offset free for a test's code */

struct t_smp {
	uint8_t *ram;
	uint64_t ram_size;
	struct rk_cpu *cpu[2];
	struct rk_cpu_tlb_domain dom;
};

/* A new fixture with ram_size (>= T_SMP_RAM_SIZE) bytes of RAM; fails the test on an error. */
struct t_smp *t_smp_new(uint64_t ram_size);
void t_smp_free(struct t_smp *f);
/* Copy n instruction words to RAM offset off (within T_SMP_RAM_SIZE). */
void t_smp_put(struct t_smp *f, uint64_t off, const uint32_t *w, size_t n);
/* The stage-1 page descriptor of RAM offset page_off (AF, inner shareable, attr 0). */
uint64_t t_smp_pte(uint64_t page_off);
/* Point VA page i (T_SMP_RAM_IPA + i * 4 KiB) at RAM offset page_off. */
void t_smp_map(struct t_smp *f, unsigned i, uint64_t page_off);
/* Run cpu from RAM offset entry to an SMC exit. */
void t_smp_run(struct rk_cpu *cpu, uint64_t entry);
/* The domain's generations. */
uint64_t t_smp_tlb_gen(struct t_smp *f);
uint64_t t_smp_code_gen(struct t_smp *f);

#endif
