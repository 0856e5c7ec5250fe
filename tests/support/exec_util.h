/* SPDX-License-Identifier: MIT */
/*
 * Shared harness of the realm-execution tests (tests/rmm/test_exec_*.c and
 * test_rec_*.c; code in exec_util.c, part of rk_test_support): realms with
 * hand-assembled code (tests/support/a64.h), RECs created through
 * the REC_CREATE SRO, REC_ENTER with exit-record checks, and an "RPC" realm
 * that issues any SMC the host asks for through RSI_HOST_CALL.
 *
 * Realm layout (s2sz 40, start level 1, two root RTTs, SHA as asked):
 *   IPA 0x0000  code (one or two pages)
 *   IPA 0x2000  exception vectors (VBAR_EL1); the current-EL sync handler at
 *               +0x200 stores ESR_EL1, FAR_EL1 and ELR_EL1 to MMIO (three
 *               exits) and returns to ELR + 4
 *   IPA 0x3000  RsiHostCall structures, 0x100 per REC
 *   [0, 0x10000) RIPAS RAM (RTT_INIT_RIPAS); the rest EMPTY
 *   IPA 2^39    MMIO (unprotected, unmapped): x28 holds it in every program
 */
#ifndef RK_EXEC_UTIL_H
#define RK_EXEC_UTIL_H

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "a64.h"
#include "machine.h"
#include "realmkit/cpu.h"
#include "realmkit/arch/psci.h"
#include "realmkit/arch/smccc.h"
#include "rk_test.h"
#include "rmm/realm.h"
#include "rmm/rec.h"
#include "rmm/rec_engine.h"

#define XR_MIB 64ULL
#define XR_POOL_BASE (T_DRAM_BASE + 0x100000ULL)
#define XR_POOL_GRANULES ((XR_MIB - 2) * 256)
#define XR_S2SZ 40u
#define XR_MAX_REC 20u

#define XR_CODE_IPA 0x0ULL
#define XR_VEC_IPA 0x2000ULL
#define XR_HC_IPA 0x3000ULL
#define XR_RAM_TOP 0x10000ULL
#define XR_PAR_TOP (1ULL << (XR_S2SZ - 1))
#define XR_IPA_TOP (1ULL << XR_S2SZ)
#define XR_MMIO_IPA XR_PAR_TOP
#define XR_MMIO_REG 28u /* x28 = MMIO base in every program */
#define XR_HC_REG 19u   /* x19 = RsiHostCall structure in the RPC program */

#define XR_ENTER_MMIO RMI_REC_ENTER_FLAGS_EMULATED_MMIO_MASK
#define XR_ENTER_SEA RMI_REC_ENTER_FLAGS_INJECT_SEA_MASK
#define XR_ENTER_WFI RMI_REC_ENTER_FLAGS_TRAP_WFI_MASK
#define XR_ENTER_WFE RMI_REC_ENTER_FLAGS_TRAP_WFE_MASK
#define XR_ENTER_REJECT RMI_REC_ENTER_FLAGS_RIPAS_RESPONSE_MASK
/* the flags a host keeps on every entry (see xr_enter) */
#define XR_ENTER_STANDING (XR_ENTER_WFI | XR_ENTER_WFE)

#define XR_INCOMPLETE_DONATE ((uint64_t)RMI_INCOMPLETE | (1u << 8))
#define XR_INCOMPLETE_RECLAIM ((uint64_t)RMI_INCOMPLETE | (2u << 8))

/* ---- machine and realms ---------------------------------------------------- */

struct xenv {
	struct rk_machine *m;
	struct t_pool pool;
};

struct xr {
	struct xenv *e;
	struct rk_machine *m;
	uint64_t rd, root, params;
	unsigned int hash;
	unsigned int nrec;
	uint64_t rec[XR_MAX_REC];
	uint64_t run[XR_MAX_REC];
	uint64_t ns;   /* scratch NS granule: params, lists, copy source */
	uint64_t list; /* NS granule for SRO lists */
	uint8_t rpv[64];
};

/*
 * Each test program's environment, and the cmocka fixture that gives every
 * test a fresh one (a machine of XR_MIB MiB, the pool above XR_POOL_BASE;
 * the teardown releases a REC a failed test left held by xr_block_start).
 */
extern struct xenv env;
int xenv_setup(void **state);
int xenv_teardown(void **state);
uint64_t xr_ns_page(struct xr *x);
uint64_t xr_delegated(struct xr *x, uint64_t n);

/* RTT_INIT_RIPAS [base, top) to RAM (realm NEW), creating L3 tables as needed. */
void xr_init_ripas(struct xr *x, uint64_t base, uint64_t top);

/* A realm (NEW) with the standard layout; rpv may be NULL (then a pattern is used). */
void xr_create(struct xenv *e, struct xr *x, unsigned int hash, const uint8_t *rpv);

/* RTT_DATA_MAP_INIT of one page (content: 4096 bytes, or NULL for zeros). Returns its PA. */
uint64_t xr_page(struct xr *x, uint64_t ipa, const void *content, uint64_t measure);

/* Load n instruction words at ipa (consecutive pages, measured). Returns the first PA. */
uint64_t xr_load(struct xr *x, uint64_t ipa, const uint32_t *w, unsigned int n);

/* RTT_DATA_MAP (SINGLE, 4 KiB) of a fresh zeroed page at ipa; its RIPAS is kept. Returns the PA. */
uint64_t xr_map(struct xr *x, uint64_t ipa);

/* RTT_DATA_UNMAP of one page (its granule goes back to DELEGATED). */
void xr_unmap(struct xr *x, uint64_t ipa);
void xr_activate(struct xr *x);

/* Write RmiRecParams to the scratch page. */
void xr_rec_params(struct xr *x, uint64_t flags, uint64_t mpidr, uint64_t pc, const uint64_t *g8);

/*
 * REC_CREATE(rec_pa, params in the scratch page) driven through its SRO: 16
 * delegated aux granules are donated; a failure after donation is followed
 * through its reclaim, and the granules are checked to be back DELEGATED.
 * Returns the final status.
 */
uint64_t xr_rec_create_sro(struct xr *x, uint64_t rec_pa);

/* A REC with the next MPIDR index; x0..x7 = g8 (may be NULL). Returns its index. */
unsigned int xr_rec_g(struct xr *x, bool runnable, uint64_t pc, const uint64_t *g8);

/* A REC whose x0 is its RsiHostCall structure (for the RPC program). */
unsigned int xr_rec(struct xr *x, bool runnable, uint64_t pc);

/* REC_DESTROY through its SRO (reclaimed granules stay DELEGATED). */
void xr_rec_destroy(struct xr *x, uint64_t rec_pa);

/* Destroy every REC of the realms given, tear every realm down, undelegate everything. */
void xr_teardown(struct xr **xs, unsigned int n);

/* ---- looking inside ---------------------------------------------------------- */

struct rec *xr_recp(struct xr *x, unsigned int i);
uint64_t xr_pc(struct xr *x, unsigned int i);

/* ---- REC_ENTER --------------------------------------------------------------- */

#define XR_EXIT_FILL 0x5a

/*
 * One REC_ENTER of REC i with these entry flags and gprs (31 values, or NULL
 * for zeros). The exit area is filled with a pattern first: on success the
 * whole RmiRecExit must have been written, on failure it must be untouched.
 */
uint64_t xr_enter1_run(struct xr *x, unsigned int i, uint64_t run, uint64_t flags, const uint64_t *gprs,
		       struct rmi_rec_exit *ex);
uint64_t xr_enter1(struct xr *x, unsigned int i, uint64_t flags, const uint64_t *gprs,
		   struct rmi_rec_exit *ex);

/* How long a test waits for a REC to leave an IRQ-only loop, or for a thread, before it fails. */
#define XR_PATIENCE_S 60.0

/*
 * REC_ENTER until an exit other than IRQ (time slice), as a host run loop
 * does; a REC that keeps exiting with IRQ for XR_PATIENCE_S fails the test
 * (a realm stuck in a loop must fail, not hang). The trap flags (TRAP_WFI,
 * TRAP_WFE) are the host's standing configuration and stay set on every
 * re-entry; the one-shot flags (EMULATED_MMIO, INJECT_SEA, RIPAS_RESPONSE)
 * answer the previous exit and go with the first entry only. (Dropping the
 * trap flags made a slice that ended before a WFI let it run untrapped: a
 * failure seen only on a loaded machine.)
 */
uint64_t xr_enter(struct xr *x, unsigned int i, uint64_t flags, const uint64_t *gprs,
		  struct rmi_rec_exit *ex);

/* Enter with enter.gprs[0] = v (an MMIO read's value, say). */
uint64_t xr_enter_v(struct xr *x, unsigned int i, uint64_t flags, uint64_t v, struct rmi_rec_exit *ex);

/* Assert that n bytes are zero (names the first offset that is not). */
void xr_assert_zero(const void *p, size_t n, const char *what);

/* Check one field of an exit copy, then clear it (the rest is checked to be zero at the end). */
#define EX_EQ(e, f, v)                                            \
	do {                                                      \
		assert_int_equal((uint64_t)(e).f, (uint64_t)(v)); \
		(e).f = 0;                                        \
	} while (0)
#define EX_DONE(e) xr_assert_zero(&(e), sizeof(e), "rec exit")

/* An MMIO store exit (emulatable, 64-bit STR of x<rt> to MMIO + off) carrying v. */
void xr_expect_mmio_store(const struct rmi_rec_exit *ex, uint64_t off, uint64_t v);

/* Enter (completing the previous MMIO exit if mmio) and expect an MMIO store of v at MMIO + 0. */
void xr_next_store(struct xr *x, unsigned int i, uint64_t flags, uint64_t v);

/* ---- programs ---------------------------------------------------------------- */

struct prog {
	uint32_t w[2048];
	unsigned int n;
};
void p_put(struct prog *p, uint32_t insn);
void p_mov(struct prog *p, unsigned int rd, uint64_t v);

/* B to the instruction at index target. */
void p_b_to(struct prog *p, unsigned int target);

/* STR x<rt>, [x28]: an MMIO store the host sees. */
void p_report(struct prog *p, unsigned int rt);

/* SMC with x0 = fid. */
void p_smc(struct prog *p, uint64_t fid);

/* The IPA of instruction index k of the code. */
uint64_t p_ipa(unsigned int k);

/* x28 = MMIO, VBAR_EL1 = the vector page. */
void p_prologue(struct prog *p);

/*
 * Programs with their MMU on over one set of shared stage-1 tables at
 * XR_S1_L1..L3 (4 KiB pages, 39-bit VA): the realm's first 64 KiB identity-
 * mapped (Normal WB, inner shareable) and XR_S1_MMIO_VA an L1 device block at
 * XR_MMIO_IPA. p_s1_mmu_on(): VBAR_EL1 = the vector page, TTBR0/TCR/MAIR set,
 * SCTLR_EL1.M on, x28 = XR_S1_MMIO_VA (x9 scratch). xr_s1_tables(): create
 * the tables, with VA page va -> ipa (va == ipa: no exception to identity).
 */
#define XR_S1_L1 0x8000ULL
#define XR_S1_L2 0x9000ULL
#define XR_S1_L3 0xa000ULL
#define XR_S1_MMIO_VA 0x40000000ULL
#define XR_S1_PAGE 0x703ULL /* page descriptor: AF, inner shareable, attr 0 */
void p_s1_mmu_on(struct prog *p);
void xr_s1_tables(struct xr *x, uint64_t va, uint64_t ipa);

/*
 * The RPC program: x19 = x0 (its RsiHostCall structure); then forever:
 * RSI_HOST_CALL; x0..x17 = the structure's gprs[0..17] (what the host put in
 * enter.gprs); SMC; the structure's gprs[0..17] = x0..x17. So the host reads
 * the results of the SMC it asked for in the next HOST_CALL exit.
 */
void p_rpc(struct prog *p);

/*
 * The vector page: the current-EL/SPx sync entry reports ESR, FAR, ELR by
 * MMIO and resumes at ELR + 4, or at x27 if x27 is not zero (then clears
 * x27: for instruction aborts, where ELR is the address that failed).
 */
#define XR_RESUME_REG 27u
void xr_vector_words(uint32_t v[1024]);

/* Load a program at XR_CODE_IPA, the vectors and the host-call page. */
void xr_program(struct xr *x, const struct prog *p);

/*
 * After an exception the RMM injected: expect the vector's three MMIO
 * stores (ESR, FAR, ELR), completing each with EMULATED_MMIO. The first
 * entry uses `flags`. Returns ESR; far/elr are optional outputs.
 */
uint64_t xr_expect_exception(struct xr *x, unsigned int i, uint64_t flags, uint64_t *far, uint64_t *elr);

/* ---- the RPC realm ------------------------------------------------------------ */

/* A standard realm running the RPC program, with `nrec` RECs (REC 0 runnable), activated. */
void xr_rpc_realm(struct xenv *e, struct xr *x, unsigned int hash, unsigned int nrec);

/* Run REC i to its first HOST_CALL exit. */
void xr_rpc_start(struct xr *x, unsigned int i);

/*
 * Complete REC i's pending host call with x0..x17 = args (FID first) and run
 * until the next exit: a HOST_CALL exit carries the SMC's results in
 * ex->gprs[0..17]; any other exit is the SMC's own (the caller handles it and
 * continues with xr_enter).
 */
uint64_t xr_rpc(struct xr *x, unsigned int i, const uint64_t *args, unsigned int n, struct rmi_rec_exit *ex);

/* An SMC the RMM answers without exiting: results in out[0..17]. */
void xr_call(struct xr *x, unsigned int i, const uint64_t *args, unsigned int n, uint64_t out[18]);

#define XR_ARGS(...) \
	(const uint64_t[]){ __VA_ARGS__ }, (unsigned int)(sizeof((uint64_t[]){ __VA_ARGS__ }) / 8)
/* XR_CALL(x, rec, out, fid, args...): out[0..17] = x0..x17 after the SMC. */
#define XR_CALL(x, i, out, ...) xr_call((x), (i), XR_ARGS(__VA_ARGS__), (out))

/* ---- a REC kept "running": REC_ENTER blocked on the realm's run lock ------------ */

struct xr_blocked {
	struct xr *x;
	unsigned int i;
	pthread_t t;
	atomic_bool done;
	uint64_t x0;
	struct rmi_rec_exit ex;
};

/*
 * The test takes the realm's run lock, then another thread enters REC i: the
 * RMM marks the REC running (refcount 1) and waits for the lock. While it
 * waits, the REC is deterministically "running" for every other command.
 * The caller must not issue a command that takes the run lock meanwhile.
 * (RMI_FAIL snapshots taken meanwhile copy the RD granule while the waiting
 * thread spins on its run-lock byte: ThreadSanitizer reports that read,
 * which is benign - the snapshot does not compare the lock.)
 */
void xr_block_start(struct xr_blocked *b, struct xr *x, unsigned int i);
/* Release the run lock, join the thread; its REC_ENTER must have succeeded and left the REC idle. */
void xr_block_end(struct xr_blocked *b);

#endif
