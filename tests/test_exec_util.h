/* SPDX-License-Identifier: MIT */
/*
 * Shared harness of the realm-execution conformance tests (tests/test_exec_*.c):
 * realms with hand-assembled code (tests/support/a64.h), RECs created through
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
#ifndef RK_TEST_EXEC_UTIL_H
#define RK_TEST_EXEC_UTIL_H

#include <pthread.h>
#include <sched.h>
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

static inline void xenv_init(struct xenv *e)
{
	e->m = t_machine(XR_MIB);
	t_pool_init(&e->pool, XR_POOL_BASE, XR_POOL_GRANULES);
}

struct xr_blocked;
static struct xr_blocked *xr_active_block; /* a REC held running (see xr_block_start) */
static inline void xr_block_release(struct xr_blocked *b);

static inline void xenv_fini(struct xenv *e)
{
	if (xr_active_block) /* a test failed while it held a REC running */
		xr_block_release(xr_active_block);
	rk_machine_destroy(e->m);
	e->m = NULL;
}

/* Each test program's environment, and the cmocka fixture that gives every test a fresh one. */
static struct xenv env;

static inline int xenv_setup(void **state)
{
	(void)state;
	xenv_init(&env);
	return 0;
}

static inline int xenv_teardown(void **state)
{
	(void)state;
	xenv_fini(&env);
	return 0;
}

static inline uint64_t xr_ns_page(struct xr *x)
{
	return t_pool_get(&x->e->pool, 1, 0);
}

static inline uint64_t xr_delegated(struct xr *x, uint64_t n)
{
	return t_pool_delegated(x->m, &x->e->pool, n, 0);
}

/* RTT_INIT_RIPAS [base, top) to RAM (realm NEW), creating L3 tables as needed. */
static inline void xr_init_ripas(struct xr *x, uint64_t base, uint64_t top)
{
	struct rmi_out o;

	while (base < top) {
		t_rtt_to(x->m, x->rd, base, 3, &x->e->pool);
		assert_int_equal(RMI(x->m, RMI_FID_RTT_INIT_RIPAS, &o, x->rd, base, top), RMI_SUCCESS);
		assert_true(o.x[1] > base);
		base = o.x[1];
	}
}

/* A realm (NEW) with the standard layout; rpv may be NULL (then a pattern is used). */
static inline void xr_create(struct xenv *e, struct xr *x, unsigned int hash, const uint8_t *rpv)
{
	static struct rmi_realm_params p;

	memset(x, 0, sizeof(*x));
	x->e = e;
	x->m = e->m;
	x->hash = hash;
	x->params = xr_ns_page(x);
	x->ns = xr_ns_page(x);
	x->list = xr_ns_page(x);
	x->rd = t_pool_delegated(x->m, &e->pool, 1, 0);
	x->root = t_pool_delegated(x->m, &e->pool, 2, 2 * G);
	for (int i = 0; i < 64; i++)
		x->rpv[i] = rpv ? rpv[i] : (uint8_t)(0xa0 + i + (x->rd >> 12));
	t_realm_params(&p, XR_S2SZ, x->root, hash);
	p.rtt_level_start = 1;
	p.rtt_num_start = 2;
	memcpy(p.rpv, x->rpv, sizeof(p.rpv));
	t_write(x->m, x->params, &p, sizeof(p));
	assert_int_equal(RMI(x->m, RMI_FID_REALM_CREATE, NULL, x->rd, x->params), RMI_SUCCESS);
	xr_init_ripas(x, 0, XR_RAM_TOP);
}

/* RTT_DATA_MAP_INIT of one page (content: 4096 bytes, or NULL for zeros). Returns its PA. */
static inline uint64_t xr_page(struct xr *x, uint64_t ipa, const void *content, uint64_t measure)
{
	static uint8_t zero[4096];
	uint64_t pa = xr_delegated(x, 1);

	t_rtt_to(x->m, x->rd, ipa, 3, &x->e->pool);
	t_write(x->m, x->ns, content ? content : zero, 4096);
	assert_int_equal(RMI(x->m, RMI_FID_RTT_DATA_MAP_INIT, NULL, x->rd, pa, ipa, x->ns, measure),
			 RMI_SUCCESS);
	return pa;
}

/* Load n instruction words at ipa (consecutive pages, measured). Returns the first PA. */
static inline uint64_t xr_load(struct xr *x, uint64_t ipa, const uint32_t *w, unsigned int n)
{
	static uint32_t page[1024];
	unsigned int pages = n ? (n + 1023) / 1024 : 1;
	uint64_t first = 0;

	for (unsigned int k = 0; k < pages; k++) {
		unsigned int cnt = n - k * 1024 < 1024 ? n - k * 1024 : 1024;
		memset(page, 0, sizeof(page));
		memcpy(page, w + k * 1024, cnt * 4);
		uint64_t pa = xr_page(x, ipa + k * G, page, RMI_MEASURE_CONTENT);
		if (k == 0)
			first = pa;
	}
	return first;
}

/* RTT_DATA_MAP (SINGLE, 4 KiB) of a fresh zeroed page at ipa; its RIPAS is kept. Returns the PA. */
static inline uint64_t xr_map(struct xr *x, uint64_t ipa)
{
	struct rmi_out o;
	uint64_t pa = xr_delegated(x, 1);

	t_rtt_to(x->m, x->rd, ipa, 3, &x->e->pool);
	assert_int_equal(RMI(x->m, RMI_FID_RTT_DATA_MAP, &o, x->rd, ipa, ipa + G,
			     (uint64_t)RMI_ADDR_TYPE_SINGLE, t_desc(pa, 3, 1)),
			 RMI_SUCCESS);
	assert_int_equal(o.x[1], ipa + G);
	return pa;
}

/* RTT_DATA_UNMAP of one page (its granule goes back to DELEGATED). */
static inline void xr_unmap(struct xr *x, uint64_t ipa)
{
	struct rmi_out o;

	assert_int_equal(RMI(x->m, RMI_FID_RTT_DATA_UNMAP, &o, x->rd, ipa, ipa + G, 0ULL, 0ULL), RMI_SUCCESS);
	assert_int_equal(o.x[1], ipa + G);
}

static inline void xr_activate(struct xr *x)
{
	assert_int_equal(RMI(x->m, RMI_FID_REALM_ACTIVATE, NULL, x->rd), RMI_SUCCESS);
}

/* Write RmiRecParams to the scratch page. */
static inline void xr_rec_params(struct xr *x, uint64_t flags, uint64_t mpidr, uint64_t pc, const uint64_t *g8)
{
	static struct rmi_rec_params p;

	memset(&p, 0, sizeof(p));
	p.flags = flags;
	p.mpidr = mpidr;
	p.pc = pc;
	if (g8)
		memcpy(p.gprs, g8, sizeof(p.gprs));
	t_write(x->m, x->ns, &p, sizeof(p));
}

/*
 * REC_CREATE(rec_pa, params in the scratch page) driven through its SRO: 16
 * delegated aux granules are donated; a failure after donation is followed
 * through its reclaim, and the granules are checked to be back DELEGATED.
 * Returns the final status.
 */
static inline uint64_t xr_rec_create_sro(struct xr *x, uint64_t rec_pa)
{
	struct rmi_out o;
	uint64_t list[REC_NUM_AUX], aux, h, x0;

	x0 = RMI(x->m, RMI_FID_REC_CREATE, &o, x->rd, rec_pa, x->ns);
	if (x0 != XR_INCOMPLETE_DONATE)
		return x0;
	h = o.x[1];
	aux = xr_delegated(x, REC_NUM_AUX);
	for (unsigned int i = 0; i < REC_NUM_AUX; i++)
		list[i] = t_desc(aux + i * G, 3, 1);
	t_write(x->m, x->list, list, sizeof(list));
	assert_int_equal(RMI(x->m, RMI_FID_OP_MEM_DONATE, &o, h, x->list, (uint64_t)REC_NUM_AUX), RMI_INCOMPLETE);
	assert_int_equal(o.x[1], REC_NUM_AUX);
	x0 = RMI(x->m, RMI_FID_OP_CONTINUE, &o, h, 0ULL);
	if (x0 != XR_INCOMPLETE_RECLAIM)
		return x0;
	assert_int_equal(RMI(x->m, RMI_FID_OP_MEM_RECLAIM, &o, h, x->list, (uint64_t)REC_NUM_AUX), RMI_INCOMPLETE);
	assert_int_equal(o.x[1], REC_NUM_AUX);
	for (unsigned int i = 0; i < REC_NUM_AUX; i++)
		assert_int_equal(t_gstate(x->m, aux + i * G), GRANULE_STATE_DELEGATED);
	x0 = RMI(x->m, RMI_FID_OP_CONTINUE, &o, h, 0ULL);
	assert_int_equal(t_gstate(x->m, rec_pa), GRANULE_STATE_DELEGATED);
	return x0;
}

/* A REC with the next MPIDR index; x0..x7 = g8 (may be NULL). Returns its index. */
static inline unsigned int xr_rec_g(struct xr *x, bool runnable, uint64_t pc, const uint64_t *g8)
{
	unsigned int i = x->nrec;

	assert_true(i < XR_MAX_REC);
	x->rec[i] = xr_delegated(x, 1);
	x->run[i] = xr_ns_page(x);
	xr_rec_params(x, runnable ? 1 : 0, rec_index_mpidr(i), pc, g8);
	assert_int_equal(xr_rec_create_sro(x, x->rec[i]), RMI_SUCCESS);
	assert_int_equal(t_gstate(x->m, x->rec[i]), GRANULE_STATE_REC);
	x->nrec++;
	return i;
}

/* A REC whose x0 is its RsiHostCall structure (for the RPC program). */
static inline unsigned int xr_rec(struct xr *x, bool runnable, uint64_t pc)
{
	uint64_t g8[8] = { XR_HC_IPA + 0x100ULL * x->nrec };

	return xr_rec_g(x, runnable, pc, g8);
}

/* REC_DESTROY through its SRO (reclaimed granules stay DELEGATED). */
static inline void xr_rec_destroy(struct xr *x, uint64_t rec_pa)
{
	struct rmi_out o;
	uint64_t h;

	assert_int_equal(RMI(x->m, RMI_FID_REC_DESTROY, &o, rec_pa), XR_INCOMPLETE_RECLAIM);
	h = o.x[1];
	assert_int_equal(RMI(x->m, RMI_FID_OP_MEM_RECLAIM, &o, h, x->list, (uint64_t)REC_NUM_AUX), RMI_INCOMPLETE);
	assert_int_equal(o.x[1], REC_NUM_AUX);
	assert_int_equal(RMI(x->m, RMI_FID_OP_CONTINUE, &o, h, 0ULL), RMI_SUCCESS);
	assert_int_equal(t_gstate(x->m, rec_pa), GRANULE_STATE_DELEGATED);
}

/* Destroy every REC of the realms given, tear every realm down, undelegate everything. */
static inline void xr_teardown(struct xr **xs, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++)
		for (unsigned int i = 0; i < xs[k]->nrec; i++)
			if (t_gstate(xs[k]->m, xs[k]->rec[i]) == GRANULE_STATE_REC)
				xr_rec_destroy(xs[k], xs[k]->rec[i]);
	t_teardown_all(xs[0]->m);
}

/* ---- looking inside ---------------------------------------------------------- */

static inline struct rec *xr_recp(struct xr *x, unsigned int i)
{
	struct rmm *rmm = machine_rmm(x->m);

	return rec_of(rmm, granule_from_pa(rmm, x->rec[i]));
}

static inline uint64_t xr_pc(struct xr *x, unsigned int i)
{
	uint64_t pc = 0;

	assert_non_null(xr_recp(x, i)->cpu);
	assert_int_equal(rk_cpu_get_reg(xr_recp(x, i)->cpu, RK_CPU_REG_PC, &pc), 0);
	return pc;
}

/* A granule's refcount read under its lock (a REC's is 1 while it runs). */
static inline uint16_t xr_refcount_locked(struct rk_machine *m, uint64_t pa)
{
	struct granule *g = granule_from_pa(machine_rmm(m), pa);
	uint16_t rc;

	granule_lock(g);
	rc = g->refcount;
	granule_unlock(g);
	return rc;
}

/* ---- REC_ENTER --------------------------------------------------------------- */

#define XR_EXIT_FILL 0x5a

/*
 * One REC_ENTER of REC i with these entry flags and gprs (31 values, or NULL
 * for zeros). The exit area is filled with a pattern first: on success the
 * whole RmiRecExit must have been written, on failure it must be untouched.
 */
static inline uint64_t xr_enter1_run(struct xr *x, unsigned int i, uint64_t run, uint64_t flags,
				     const uint64_t *gprs, struct rmi_rec_exit *ex)
{
	static _Thread_local struct rmi_rec_run r;
	uint64_t x0;

	memset(&r, 0, sizeof(r));
	r.enter.flags = flags;
	if (gprs)
		memcpy(r.enter.gprs, gprs, sizeof(r.enter.gprs));
	memset(&r.exit, XR_EXIT_FILL, sizeof(r.exit));
	t_write(x->m, run, &r, sizeof(r));
	x0 = RMI(x->m, RMI_FID_REC_ENTER, NULL, x->rec[i], run);
	t_read(x->m, run + RMI_REC_RUN_OFF_EXIT, ex, sizeof(*ex));
	if (x0 != RMI_SUCCESS) {
		const uint8_t *b = (const uint8_t *)ex;
		for (size_t k = 0; k < sizeof(*ex); k++)
			if (b[k] != XR_EXIT_FILL) {
				print_error("failed REC_ENTER wrote the exit record (byte 0x%zx)\n", k);
				fail();
			}
	}
	return x0;
}

static inline uint64_t xr_enter1(struct xr *x, unsigned int i, uint64_t flags, const uint64_t *gprs,
				 struct rmi_rec_exit *ex)
{
	return xr_enter1_run(x, i, x->run[i], flags, gprs, ex);
}

static inline double xr_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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
static inline uint64_t xr_enter(struct xr *x, unsigned int i, uint64_t flags, const uint64_t *gprs,
				struct rmi_rec_exit *ex)
{
	uint64_t x0 = xr_enter1(x, i, flags, gprs, ex);
	double t0 = xr_now();

	while (x0 == RMI_SUCCESS && ex->exit_reason == RMI_EXIT_IRQ) {
		if (xr_now() - t0 > XR_PATIENCE_S) {
			print_error("REC %u keeps exiting with IRQ (a loop?)\n", i);
			fail();
		}
		x0 = xr_enter1(x, i, flags & XR_ENTER_STANDING, NULL, ex);
	}
	return x0;
}

/* Enter with enter.gprs[0] = v (an MMIO read's value, say). */
static inline uint64_t xr_enter_v(struct xr *x, unsigned int i, uint64_t flags, uint64_t v, struct rmi_rec_exit *ex)
{
	uint64_t g[31] = { v };

	return xr_enter(x, i, flags, g, ex);
}

/* Assert that n bytes are zero (names the first offset that is not). */
static inline void xr_assert_zero(const void *p, size_t n, const char *what)
{
	const uint8_t *b = p;

	for (size_t k = 0; k < n; k++)
		if (b[k]) {
			print_error("%s: byte 0x%zx is 0x%02x, expected 0\n", what, k, b[k]);
			fail();
		}
}

/* Check one field of an exit copy, then clear it (the rest is checked to be zero at the end). */
#define EX_EQ(e, f, v)                                                  \
	do {                                                                \
		assert_int_equal((uint64_t)(e).f, (uint64_t)(v));           \
		(e).f = 0;                                                  \
	} while (0)
#define EX_DONE(e) xr_assert_zero(&(e), sizeof(e), "rec exit")

/* An MMIO store exit (emulatable, 64-bit STR of x<rt> to MMIO + off) carrying v. */
static inline void xr_expect_mmio_store(const struct rmi_rec_exit *ex, uint64_t off, uint64_t v)
{
	struct rmi_rec_exit e = *ex;

	EX_EQ(e, exit_reason, RMI_EXIT_SYNC);
	assert_int_equal(esr_ec(e.esr), ESR_EC_DABT_LOW);
	assert_true(e.esr & ESR_ISV);
	assert_true(e.esr & ESR_WNR);
	e.esr = 0;
	EX_EQ(e, far, off & 0xfff);
	EX_EQ(e, hpfar, ((XR_MMIO_IPA + off) >> 12) << 4);
	EX_EQ(e, gprs[0], v);
	EX_DONE(e);
}

/* Enter (completing the previous MMIO exit if mmio) and expect an MMIO store of v at MMIO + 0. */
static inline void xr_next_store(struct xr *x, unsigned int i, uint64_t flags, uint64_t v)
{
	struct rmi_rec_exit ex;

	assert_int_equal(xr_enter(x, i, flags, NULL, &ex), RMI_SUCCESS);
	xr_expect_mmio_store(&ex, 0, v);
}

/* ---- programs ---------------------------------------------------------------- */

struct prog {
	uint32_t w[2048];
	unsigned int n;
};

static inline void p_put(struct prog *p, uint32_t insn)
{
	assert_true(p->n < 2048);
	p->w[p->n++] = insn;
}

static inline void p_mov(struct prog *p, unsigned int rd, uint64_t v)
{
	assert_true(p->n + 4 <= 2048);
	p->n += a64_mov64(&p->w[p->n], rd, v);
}

/* B to the instruction at index target. */
static inline void p_b_to(struct prog *p, unsigned int target)
{
	p_put(p, a64_b((int32_t)target - (int32_t)p->n));
}

/* STR x<rt>, [x28]: an MMIO store the host sees. */
static inline void p_report(struct prog *p, unsigned int rt)
{
	p_put(p, a64_str(rt, XR_MMIO_REG));
}

/* SMC with x0 = fid. */
static inline void p_smc(struct prog *p, uint64_t fid)
{
	p_mov(p, 0, fid);
	p_put(p, A64_SMC);
}

/* The IPA of instruction index k of the code. */
static inline uint64_t p_ipa(unsigned int k)
{
	return XR_CODE_IPA + 4ULL * k;
}

/* x28 = MMIO, VBAR_EL1 = the vector page. */
static inline void p_prologue(struct prog *p)
{
	p_mov(p, XR_MMIO_REG, XR_MMIO_IPA);
	p_mov(p, 9, XR_VEC_IPA);
	p_put(p, a64_msr(A64_VBAR_EL1, 9));
}

/*
 * The RPC program: x19 = x0 (its RsiHostCall structure); then forever:
 * RSI_HOST_CALL; x0..x17 = the structure's gprs[0..17] (what the host put in
 * enter.gprs); SMC; the structure's gprs[0..17] = x0..x17. So the host reads
 * the results of the SMC it asked for in the next HOST_CALL exit.
 */
static inline void p_rpc(struct prog *p)
{
	p_put(p, a64_mov(XR_HC_REG, 0));
	p_prologue(p);
	unsigned int loop = p->n;
	p_put(p, a64_mov(1, XR_HC_REG));
	p_smc(p, RSI_FID_HOST_CALL);
	for (unsigned int r = 0; r < 18; r += 2)
		p_put(p, a64_ldp(r, r + 1, XR_HC_REG, (int32_t)(8 + 8 * r)));
	p_put(p, A64_SMC);
	for (unsigned int r = 0; r < 18; r += 2)
		p_put(p, a64_stp(r, r + 1, XR_HC_REG, (int32_t)(8 + 8 * r)));
	p_b_to(p, loop);
}

/*
 * The vector page: the current-EL/SPx sync entry reports ESR, FAR, ELR by
 * MMIO and resumes at ELR + 4, or at x27 if x27 is not zero (then clears
 * x27: for instruction aborts, where ELR is the address that failed).
 */
#define XR_RESUME_REG 27u
static inline void xr_vector_words(uint32_t v[1024])
{
	unsigned int k = 0x200 / 4;

	memset(v, 0, 4096);
	v[k++] = a64_mrs(9, A64_ESR_EL1);
	v[k++] = a64_str(9, XR_MMIO_REG);
	v[k++] = a64_mrs(9, A64_FAR_EL1);
	v[k++] = a64_str(9, XR_MMIO_REG);
	v[k++] = a64_mrs(9, A64_ELR_EL1);
	v[k++] = a64_str(9, XR_MMIO_REG);
	v[k++] = a64_add_imm(9, 9, 4);
	v[k++] = a64_cbz(XR_RESUME_REG, 3);
	v[k++] = a64_mov(9, XR_RESUME_REG);
	v[k++] = a64_movz(XR_RESUME_REG, 0, 0);
	v[k++] = a64_msr(A64_ELR_EL1, 9);
	v[k++] = A64_ERET;
}

static inline void xr_vectors(struct xr *x)
{
	static uint32_t v[1024];

	xr_vector_words(v);
	xr_load(x, XR_VEC_IPA, v, 1024);
}

/* Load a program at XR_CODE_IPA, the vectors and the host-call page. */
static inline void xr_program(struct xr *x, const struct prog *p)
{
	xr_load(x, XR_CODE_IPA, p->w, p->n);
	xr_vectors(x);
	xr_page(x, XR_HC_IPA, NULL, RMI_NO_MEASURE_CONTENT);
}

/*
 * After an exception the RMM injected: expect the vector's three MMIO
 * stores (ESR, FAR, ELR), completing each with EMULATED_MMIO. The first
 * entry uses `flags`. Returns ESR; far/elr are optional outputs.
 */
static inline uint64_t xr_expect_exception(struct xr *x, unsigned int i, uint64_t flags, uint64_t *far,
					   uint64_t *elr)
{
	struct rmi_rec_exit ex;
	uint64_t v[3];

	for (int k = 0; k < 3; k++) {
		assert_int_equal(xr_enter(x, i, k ? XR_ENTER_MMIO : flags, NULL, &ex), RMI_SUCCESS);
		assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
		assert_true(ex.esr & ESR_ISV);
		v[k] = ex.gprs[0];
	}
	if (far)
		*far = v[1];
	if (elr)
		*elr = v[2];
	return v[0];
}

/* ---- the RPC realm ------------------------------------------------------------ */

/* A standard realm running the RPC program, with `nrec` RECs (REC 0 runnable), activated. */
static inline void xr_rpc_realm(struct xenv *e, struct xr *x, unsigned int hash, unsigned int nrec)
{
	struct prog p = { .n = 0 };

	xr_create(e, x, hash, NULL);
	p_rpc(&p);
	xr_program(x, &p);
	for (unsigned int i = 0; i < nrec; i++)
		xr_rec(x, i == 0, XR_CODE_IPA);
	xr_activate(x);
}

/* Run REC i to its first HOST_CALL exit. */
static inline void xr_rpc_start(struct xr *x, unsigned int i)
{
	struct rmi_rec_exit ex;

	assert_int_equal(xr_enter(x, i, 0, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_HOST_CALL);
}

/*
 * Complete REC i's pending host call with x0..x17 = args (FID first) and run
 * until the next exit: a HOST_CALL exit carries the SMC's results in
 * ex->gprs[0..17]; any other exit is the SMC's own (the caller handles it and
 * continues with xr_enter).
 */
static inline uint64_t xr_rpc(struct xr *x, unsigned int i, const uint64_t *args, unsigned int n,
			      struct rmi_rec_exit *ex)
{
	uint64_t g[31] = { 0 };

	assert_true(n <= 18);
	memcpy(g, args, n * sizeof(uint64_t));
	return xr_enter(x, i, 0, g, ex);
}

/* An SMC the RMM answers without exiting: results in out[0..17]. */
static inline void xr_call(struct xr *x, unsigned int i, const uint64_t *args, unsigned int n, uint64_t out[18])
{
	struct rmi_rec_exit ex;

	assert_int_equal(xr_rpc(x, i, args, n, &ex), RMI_SUCCESS);
	if (ex.exit_reason != RMI_EXIT_HOST_CALL) {
		print_error("SMC 0x%llx: exit reason %llu, expected HOST_CALL\n", (unsigned long long)args[0],
			    (unsigned long long)ex.exit_reason);
		fail();
	}
	memcpy(out, ex.gprs, 18 * sizeof(uint64_t));
}

#define XR_ARGS(...) (const uint64_t[]){ __VA_ARGS__ }, (unsigned int)(sizeof((uint64_t[]){ __VA_ARGS__ }) / 8)
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

static inline void *xr_blocked_main(void *arg)
{
	struct xr_blocked *b = arg;
	struct rk_smc_regs r;

	/* plain calls: no cmocka assertion on this thread */
	memset(&r, 0, sizeof(r));
	r.x[0] = RMI_FID_REC_ENTER;
	r.x[1] = b->x->rec[b->i];
	r.x[2] = b->x->run[b->i];
	rk_smc(b->x->m, &r);
	b->x0 = r.x[0];
	if (rk_ns_read(b->x->m, b->x->run[b->i] + RMI_REC_RUN_OFF_EXIT, &b->ex, sizeof(b->ex)))
		b->x0 = ~0ULL;
	atomic_store(&b->done, true);
	return NULL;
}

/*
 * The test takes the realm's run lock, then another thread enters REC i: the
 * RMM marks the REC running (refcount 1) and waits for the lock. While it
 * waits, the REC is deterministically "running" for every other command.
 * The caller must not issue a command that takes the run lock meanwhile.
 * (RMI_FAIL snapshots taken meanwhile copy the RD granule while the waiting
 * thread spins on its run-lock byte: ThreadSanitizer reports that read,
 * which is benign - the snapshot does not compare the lock.)
 */
static inline void xr_block_start(struct xr_blocked *b, struct xr *x, unsigned int i)
{
	static const struct rmi_rec_enter none;
	double t0 = xr_now();

	memset(b, 0, sizeof(*b));
	b->x = x;
	b->i = i;
	atomic_init(&b->done, false);
	t_write(x->m, x->run[i], &none, sizeof(none));
	realm_run_lock(t_rd(x->m, x->rd));
	assert_int_equal(pthread_create(&b->t, NULL, xr_blocked_main, b), 0);
	while (xr_refcount_locked(x->m, x->rec[i]) == 0) {
		if (atomic_load(&b->done) || xr_now() - t0 > XR_PATIENCE_S) {
			realm_run_unlock(t_rd(x->m, x->rd));
			pthread_join(b->t, NULL);
			print_error("REC %u never became running (REC_ENTER: 0x%llx)\n", i, (unsigned long long)b->x0);
			fail();
		}
		sched_yield();
	}
	xr_active_block = b;
}

static inline void xr_block_release(struct xr_blocked *b)
{
	xr_active_block = NULL;
	realm_run_unlock(t_rd(b->x->m, b->x->rd));
	pthread_join(b->t, NULL);
}

static inline void xr_block_end(struct xr_blocked *b)
{
	xr_block_release(b);
	assert_int_equal(b->x0, RMI_SUCCESS);
	assert_int_equal(xr_refcount_locked(b->x->m, b->x->rec[b->i]), 0);
}

#endif
