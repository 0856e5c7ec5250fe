/* SPDX-License-Identifier: MIT */
/*
 * RMI_REC_ENTER conformance (reference section 6.3, 10.3-10.4): the failure
 * conditions in priority order and pairwise where they can co-occur, entry
 * processing (MMIO completion with sign/zero extension, INJECT_SEA over
 * EMULATED_MMIO), exit records field by field (ESR sanitisation, FAR, HPFAR,
 * gprs), WFI/IRQ exits, the aborts the RMM handles itself (SEA, UNDEF), stage-2
 * faults the host resolves, and NS memory mapped with UNPROT_MAP. At the end,
 * the first end-to-end tests, on a realm at fixed addresses: RSI answered in
 * the RMM, MMIO, a host call, SEA on EMPTY, SYSTEM_OFF, an attestation token
 * verified like a relying party, an NS page delegated under the realm, a host
 * kick ending an entry before its time slice.
 *
 * Conditions of 6.3 not exercised: #4 (RecEnter unreadable: the run granule
 * was just checked to be NS, so the read cannot fail without a concurrent
 * delegation) and #8 (vGIC list registers: not part of RecEnter in 2.0).
 */
#include <pthread.h>
#include <time.h>

#include "exec_util.h"
#include "realmkit/attest.h"

#define LATE_IPA 0x4000ULL                /* RIPAS RAM, not mapped until the host does */
#define LATE_CODE_IPA 0x5000ULL           /* RIPAS RAM, not mapped: instruction fetch */
#define EMPTY_IPA 0x100000ULL             /* UNASSIGNED, RIPAS EMPTY */
#define AEMPTY_IPA 0x101000ULL            /* ASSIGNED, RIPAS EMPTY (DATA_MAP on EMPTY) */
#define EMPTY_CODE_IPA 0x102000ULL        /* UNASSIGNED EMPTY: instruction fetch */
#define NS_IPA (XR_PAR_TOP + 0x200000ULL) /* UNPROT_MAP'd pages */

/* A realm with program p, n RECs (REC 0 runnable unless runnable0 is false). */
static void realm_with(struct xr *x, const struct prog *p, unsigned int n, bool activate)
{
	xr_create(&env, x, RMI_HASH_SHA_256, NULL);
	xr_program(x, p);
	for (unsigned int i = 0; i < n; i++)
		xr_rec(x, i == 0, XR_CODE_IPA);
	if (activate)
		xr_activate(x);
}

/*
 * REC_ENTER(rec, run) that must fail with `expect` and change nothing: the
 * RMM's state (snapshot) and, when run is a writable NS page, its exit area.
 */
#define ENTER_FAIL(x, rec, run, flags, expect) \
	enter_fail(__FILE__, __LINE__, (x), (rec), (run), (flags), (expect))
static void enter_fail(const char *file, int line, struct xr *x, uint64_t rec, uint64_t run, uint64_t flags,
		       uint64_t expect)
{
	static struct rmi_rec_run r;
	uint64_t page = run & ~(G - 1);
	enum rk_pas pas;
	bool ns = rk_gpt_get(x->m, page, &pas) == 0 && pas == RK_PAS_NS;

	if (ns) {
		memset(&r, 0, sizeof(r));
		r.enter.flags = flags;
		memset(&r.exit, XR_EXIT_FILL, sizeof(r.exit));
		t_write(x->m, page, &r, sizeof(r));
	}
	t_fail(file, line, x->m, expect, NULL, RMI_FID_REC_ENTER, T_ARGS(rec, run));
	if (ns) {
		t_read(x->m, page, &r, sizeof(r));
		const uint8_t *b = (const uint8_t *)&r.exit;
		for (size_t k = 0; k < sizeof(r.exit); k++)
			if (b[k] != XR_EXIT_FILL) {
				print_error("%s:%d: failed REC_ENTER wrote the exit record\n", file, line);
				fail();
			}
	}
}

/* ---- conditions 1 and 2: the run page and the REC -------------------------------- */

static void test_run_and_rec_inputs(void **state)
{
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex;
	struct xr x;

	(void)state;
	p_put(&p, A64_B_SELF);
	realm_with(&x, &p, 1, true);
	uint64_t run = x.run[0], rec = x.rec[0];
	uint64_t deleg = xr_delegated(&x, 1), ns = xr_ns_page(&x);
	uint64_t data = t_raw_entry(x.m, x.rd, XR_CODE_IPA, 3, NULL) & S2_DESC_OA_MASK;
	uint64_t aux = xr_recp(&x, 0)->aux[0];
	uint64_t end = T_DRAM_BASE + (XR_MIB << 20);

	/* 1: the run granule must be an aligned NS granule of DRAM */
	ENTER_FAIL(&x, rec, run + 8, 0, RMI_ERROR_INPUT);
	ENTER_FAIL(&x, rec, run + G - 1, 0, RMI_ERROR_INPUT);
	ENTER_FAIL(&x, rec, deleg, 0, RMI_ERROR_INPUT);
	ENTER_FAIL(&x, rec, rec, 0, RMI_ERROR_INPUT);
	ENTER_FAIL(&x, rec, x.rd, 0, RMI_ERROR_INPUT);
	ENTER_FAIL(&x, rec, data, 0, RMI_ERROR_INPUT);
	ENTER_FAIL(&x, rec, aux, 0, RMI_ERROR_INPUT);
	ENTER_FAIL(&x, rec, 0x1000, 0, RMI_ERROR_INPUT);
	ENTER_FAIL(&x, rec, end, 0, RMI_ERROR_INPUT);
	ENTER_FAIL(&x, rec, ~0ULL & ~(G - 1), 0, RMI_ERROR_INPUT);
	/* 2: the REC must be a REC granule */
	ENTER_FAIL(&x, rec + 8, run, 0, RMI_ERROR_INPUT);
	ENTER_FAIL(&x, x.rd, run, 0, RMI_ERROR_INPUT);
	ENTER_FAIL(&x, data, run, 0, RMI_ERROR_INPUT);
	ENTER_FAIL(&x, deleg, run, 0, RMI_ERROR_INPUT);
	ENTER_FAIL(&x, ns, run, 0, RMI_ERROR_INPUT);
	ENTER_FAIL(&x, aux, run, 0, RMI_ERROR_INPUT);
	ENTER_FAIL(&x, x.root, run, 0, RMI_ERROR_INPUT);
	ENTER_FAIL(&x, run, run, 0, RMI_ERROR_INPUT);
	ENTER_FAIL(&x, 0x1000, run, 0, RMI_ERROR_INPUT);
	ENTER_FAIL(&x, end, run, 0, RMI_ERROR_INPUT);
	/* both wrong, and either wrong together with flags that would be refused later */
	ENTER_FAIL(&x, x.rd, deleg, 0, RMI_ERROR_INPUT);
	ENTER_FAIL(&x, rec, deleg, XR_ENTER_SEA | XR_ENTER_MMIO, RMI_ERROR_INPUT);
	ENTER_FAIL(&x, x.rd, run, XR_ENTER_SEA | XR_ENTER_MMIO, RMI_ERROR_INPUT);

	/* nothing happened: the REC's first entry runs it (an endless loop: IRQ at the time slice) */
	assert_int_equal(xr_enter1(&x, 0, 0, NULL, &ex), RMI_SUCCESS);
	struct rmi_rec_exit e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_IRQ);
	EX_DONE(e);
	assert_int_equal(xr_recp(&x, 0)->exits, 1);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* ---- condition 5: the realm's state, and its priority ---------------------------- */

static void test_realm_state(void **state)
{
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex;
	uint64_t out[18];
	struct xr x;

	(void)state;
	/* NEW: ERROR_REALM with index 0, before "not runnable" and the flags, after the inputs */
	p_rpc(&p);
	xr_create(&env, &x, RMI_HASH_SHA_256, NULL);
	xr_program(&x, &p);
	xr_rec(&x, true, XR_CODE_IPA);  /* 0: the caller of CPU_ON */
	xr_rec(&x, false, XR_CODE_IPA); /* 1: its target, off */
	xr_rec(&x, true, XR_CODE_IPA);  /* 2: turns the system off */
	ENTER_FAIL(&x, x.rec[0], x.run[0], 0, RMI_ERROR_REALM);
	ENTER_FAIL(&x, x.rec[1], x.run[1], 0, RMI_ERROR_REALM);
	ENTER_FAIL(&x, x.rec[0], x.run[0], XR_ENTER_SEA, RMI_ERROR_REALM);
	ENTER_FAIL(&x, x.rec[0], x.run[0], XR_ENTER_MMIO, RMI_ERROR_REALM);
	ENTER_FAIL(&x, x.rec[0], x.rd, 0, RMI_ERROR_INPUT);
	ENTER_FAIL(&x, x.rd, x.run[0], 0, RMI_ERROR_INPUT);
	xr_activate(&x);

	/* SYSTEM_OFF: REC 0 waits for PSCI_COMPLETE, REC 1 is off, REC 2 turned the system off */
	xr_rpc_start(&x, 0);
	assert_int_equal(xr_rpc(&x, 0, XR_ARGS(PSCI_CPU_ON_64, 1, XR_CODE_IPA, XR_HC_IPA + 0x100), &ex),
			 RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_PSCI);
	ENTER_FAIL(&x, x.rec[0], x.run[0], 0, RMI_ERROR_REC); /* PSCI pending (7) */
	xr_rpc_start(&x, 2);
	XR_CALL(&x, 2, out, RSI_FID_VERSION, 0x10000);
	assert_int_equal(out[0], RSI_SUCCESS);
	assert_int_equal(xr_rpc(&x, 2, XR_ARGS(PSCI_SYSTEM_OFF), &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_PSCI);
	assert_int_equal(t_realm_state(x.m, x.rd), RMI_REALM_STATE_SYSTEM_OFF);
	ENTER_FAIL(&x, x.rec[2], x.run[2], 0, RMI_ERROR_REALM);
	ENTER_FAIL(&x, x.rec[0], x.run[0], 0, RMI_ERROR_REALM); /* 5 before 7 */
	ENTER_FAIL(&x, x.rec[1], x.run[1], 0, RMI_ERROR_REALM); /* 5 before 6 */
	ENTER_FAIL(&x, x.rec[2], x.run[2], XR_ENTER_SEA, RMI_ERROR_REALM);
	ENTER_FAIL(&x, x.rec[2], x.rec[0], 0, RMI_ERROR_INPUT);

	/* ZOMBIE */
	assert_int_equal(RMI(x.m, RMI_FID_REALM_TERMINATE, NULL, x.rd), RMI_SUCCESS);
	ENTER_FAIL(&x, x.rec[2], x.run[2], 0, RMI_ERROR_REALM);
	ENTER_FAIL(&x, x.rec[0], x.run[0], XR_ENTER_MMIO, RMI_ERROR_REALM);
	ENTER_FAIL(&x, x.rec[1], x.run[1], 0, RMI_ERROR_REALM);
	ENTER_FAIL(&x, x.rec[1], x.rec[1], 0, RMI_ERROR_INPUT);
	/* PSCI_COMPLETE still works on a ZOMBIE realm; entering stays refused */
	assert_int_equal(RMI(x.m, RMI_FID_PSCI_COMPLETE, NULL, x.rec[0], x.rec[1], PSCI_RET_SUCCESS),
			 RMI_SUCCESS);
	ENTER_FAIL(&x, x.rec[0], x.run[0], 0, RMI_ERROR_REALM);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* ---- conditions 6 and 7: not runnable, PSCI pending -------------------------------- */

static void test_not_runnable_psci_pending(void **state)
{
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex;
	struct xr x;

	(void)state;
	p_rpc(&p);
	realm_with(&x, &p, 2, true);
	ENTER_FAIL(&x, x.rec[1], x.run[1], 0, RMI_ERROR_REC);
	ENTER_FAIL(&x, x.rec[1], x.run[1], XR_ENTER_SEA, RMI_ERROR_REC);
	ENTER_FAIL(&x, x.rec[1], xr_delegated(&x, 1), 0, RMI_ERROR_INPUT); /* 1 before 6 */
	xr_rpc_start(&x, 0);
	assert_int_equal(xr_rpc(&x, 0, XR_ARGS(PSCI_CPU_ON_64, 1, XR_CODE_IPA, XR_HC_IPA + 0x100), &ex),
			 RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_PSCI);
	ENTER_FAIL(&x, x.rec[0], x.run[0], 0, RMI_ERROR_REC);
	ENTER_FAIL(&x, x.rec[0], x.run[0], XR_ENTER_MMIO, RMI_ERROR_REC);
	ENTER_FAIL(&x, x.rec[0], x.rd, 0, RMI_ERROR_INPUT); /* 1 before 7 */
	/* once completed, both run */
	assert_int_equal(RMI(x.m, RMI_FID_PSCI_COMPLETE, NULL, x.rec[0], x.rec[1], PSCI_RET_SUCCESS),
			 RMI_SUCCESS);
	assert_int_equal(xr_enter(&x, 0, 0, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_HOST_CALL);
	assert_int_equal(ex.gprs[0], PSCI_RET_SUCCESS);
	xr_rpc_start(&x, 1);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* ---- conditions 9 and 10: INJECT_SEA / EMULATED_MMIO without the matching exit ---------- */

static void test_flags_need_matching_exit(void **state)
{
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex;
	uint64_t far, elr;
	struct xr x;

	(void)state;
	p_prologue(&p);
	p_put(&p, a64_ldr_off(1, XR_MMIO_REG, 8)); /* emulatable read */
	p_report(&p, 1);
	p_mov(&p, 2, LATE_IPA);
	p_put(&p, a64_ldr(3, 2)); /* protected, RIPAS RAM, unmapped */
	unsigned int stp = p.n;
	p_put(&p, a64_stp(1, 1, XR_MMIO_REG, 0x20)); /* unprotected, no syndrome */
	p_mov(&p, 1, XR_HC_IPA);
	p_smc(&p, RSI_FID_HOST_CALL);
	p_put(&p, A64_B_SELF);
	realm_with(&x, &p, 1, true);
	uint64_t rec = x.rec[0], run = x.run[0];

	/* no exit at all yet */
	ENTER_FAIL(&x, rec, run, XR_ENTER_SEA, RMI_ERROR_REC);
	ENTER_FAIL(&x, rec, run, XR_ENTER_MMIO, RMI_ERROR_REC);
	/* an emulatable read: both allowed; EMULATED_MMIO completes it */
	assert_int_equal(xr_enter(&x, 0, 0, NULL, &ex), RMI_SUCCESS);
	assert_true(ex.esr & ESR_ISV);
	assert_int_equal(xr_enter_v(&x, 0, XR_ENTER_MMIO, 7, &ex), RMI_SUCCESS);
	xr_expect_mmio_store(&ex, 0, 7);
	/* a protected-IPA abort: neither flag */
	assert_int_equal(xr_enter(&x, 0, XR_ENTER_MMIO, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.hpfar, (LATE_IPA >> 12) << 4);
	ENTER_FAIL(&x, rec, run, XR_ENTER_SEA, RMI_ERROR_REC);
	ENTER_FAIL(&x, rec, run, XR_ENTER_MMIO, RMI_ERROR_REC);
	ENTER_FAIL(&x, rec, run, XR_ENTER_MMIO | XR_ENTER_SEA, RMI_ERROR_REC);
	xr_map(&x, LATE_IPA);
	/* an unprotected abort without syndrome: INJECT_SEA only */
	assert_int_equal(xr_enter(&x, 0, 0, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
	assert_false(ex.esr & ESR_ISV);
	ENTER_FAIL(&x, rec, run, XR_ENTER_MMIO, RMI_ERROR_REC);
	assert_int_equal(esr_ec(xr_expect_exception(&x, 0, XR_ENTER_SEA, &far, &elr)), ESR_EC_DABT_CUR);
	assert_int_equal(far, XR_MMIO_IPA + 0x20);
	assert_int_equal(elr, p_ipa(stp));
	/* a host call exit: neither flag */
	assert_int_equal(xr_enter(&x, 0, XR_ENTER_MMIO, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_HOST_CALL);
	ENTER_FAIL(&x, rec, run, XR_ENTER_SEA, RMI_ERROR_REC);
	ENTER_FAIL(&x, rec, run, XR_ENTER_MMIO, RMI_ERROR_REC);
	/* an IRQ exit: neither flag */
	assert_int_equal(xr_enter1(&x, 0, 0, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_IRQ);
	ENTER_FAIL(&x, rec, run, XR_ENTER_SEA, RMI_ERROR_REC);
	ENTER_FAIL(&x, rec, run, XR_ENTER_MMIO, RMI_ERROR_REC);
	assert_int_equal(xr_enter1(&x, 0, 0, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_IRQ);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* ---- condition 3: REC running -------------------------------------------------------- */

struct loop_arg {
	struct xr *x;
	atomic_int stop;
	unsigned int n;
};

/* Enter REC 0 until told to stop (a B . loop: every entry ends at the time slice). */
static void *running_loop(void *arg)
{
	struct loop_arg *la = arg;
	struct rmi_rec_exit ex;

	while (!atomic_load(&la->stop))
		if (xr_enter1(la->x, 0, 0, NULL, &ex) == RMI_SUCCESS)
			la->n++;
	return NULL;
}

static void test_rec_running(void **state)
{
	struct prog p = { .n = 0 };
	struct xr_blocked b;
	struct xr x;

	(void)state;
	p_put(&p, A64_B_SELF);
	realm_with(&x, &p, 2, true);
	uint64_t run2 = xr_ns_page(&x);

	/* deterministic: REC 0 is inside REC_ENTER, waiting for the realm's run lock */
	xr_block_start(&b, &x, 0);
	ENTER_FAIL(&x, x.rec[0], run2, 0, RMI_ERROR_REC);
	ENTER_FAIL(&x, x.rec[0], x.run[0], 0, RMI_ERROR_REC);
	ENTER_FAIL(&x, x.rec[0], run2, XR_ENTER_SEA, RMI_ERROR_REC);
	ENTER_FAIL(&x, x.rec[0], xr_delegated(&x, 1), 0, RMI_ERROR_INPUT); /* 1 before 3 */
	ENTER_FAIL(&x, x.rec[0], run2 + 8, 0, RMI_ERROR_INPUT);
	/* the same REC cannot be destroyed, nor its realm terminated */
	RMI_FAIL(x.m, RMI_ERROR_REC, RMI_FID_REC_DESTROY, x.rec[0]);
	RMI_FAIL(x.m, RMI_ERROR_REALM, RMI_FID_REALM_TERMINATE, x.rd);
	xr_block_end(&b);
	assert_int_equal(b.ex.exit_reason, RMI_EXIT_IRQ);

	/* and for real: one thread keeps entering REC 0, the other tries too */
	struct loop_arg la = { .x = &x };
	struct rmi_rec_exit ex;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, running_loop, &la), 0);
	unsigned int refused = 0;
	struct timespec t0, now, pause = { 0, 200000 };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		uint64_t x0 = xr_enter1_run(&x, 0, run2, 0, NULL, &ex);
		assert_true(x0 == RMI_SUCCESS || x0 == RMI_ERROR_REC);
		if (x0 == RMI_ERROR_REC)
			refused++;
		else
			nanosleep(&pause, NULL); /* we ran it: let the other thread in */
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (refused < 3 && now.tv_sec - t0.tv_sec < XR_PATIENCE_S);
	atomic_store(&la.stop, 1);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(refused >= 3);
	assert_true(la.n > 0);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* ---- entry processing: MMIO completion ---------------------------------------------- */

struct ld {
	uint32_t op;
	unsigned int size_log2;
	bool sf;      /* X destination */
	uint32_t off; /* MMIO offset */
};

static const struct ld loads[] = {
	{ A64_OP_LDRB, 0, false, 0x11 },  { A64_OP_LDRH, 1, false, 0x22 },
	{ A64_OP_LDRW, 2, false, 0x44 },  { A64_OP_LDRX, 3, true, 0x88 },
	{ A64_OP_LDRSBX, 0, true, 0x13 }, { A64_OP_LDRSBW, 0, false, 0x15 },
	{ A64_OP_LDRSHX, 1, true, 0x26 }, { A64_OP_LDRSHW, 1, false, 0x2a },
	{ A64_OP_LDRSW, 2, true, 0x4c },
};

/* What Xt holds after the load completes with value v. */
static uint64_t extend(const struct ld *l, uint64_t v)
{
	unsigned int bits = 8u << l->size_log2;
	bool sse = l->op == A64_OP_LDRSBX || l->op == A64_OP_LDRSBW || l->op == A64_OP_LDRSHX ||
		   l->op == A64_OP_LDRSHW || l->op == A64_OP_LDRSW;

	if (bits < 64) {
		v &= (1ULL << bits) - 1;
		if (sse && (v >> (bits - 1)) & 1)
			v |= ~((1ULL << bits) - 1);
	}
	if (!l->sf)
		v &= 0xffffffffULL;
	return v;
}

static void test_mmio_completion(void **state)
{
	static const uint64_t values[] = { 0xF1F2F3F4F5F6F7F8ULL, 0x7172737475767778ULL };
	const unsigned int nl = sizeof(loads) / sizeof(loads[0]);
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex;
	struct xr x;

	(void)state;
	p_prologue(&p);
	for (unsigned int pass = 0; pass < 2; pass++)
		for (unsigned int k = 0; k < nl; k++) {
			p_mov(&p, 1, 0xdeadbeefdeadbeefULL); /* the upper half must not survive a W load */
			p_put(&p, a64_ldst(loads[k].op, loads[k].size_log2, 1, XR_MMIO_REG, loads[k].off));
			p_report(&p, 1);
		}
	/* a load into XZR completes without writing anything; x1 is left as it was */
	p_mov(&p, 1, 0x1234);
	p_put(&p, a64_ldr_off(31, XR_MMIO_REG, 0x10));
	p_report(&p, 1);
	/* stores of every width carry the value masked to the access size */
	p_mov(&p, 1, 0x1122334455667788ULL);
	p_put(&p, a64_ldst(A64_OP_STRB, 0, 1, XR_MMIO_REG, 0x31));
	p_put(&p, a64_ldst(A64_OP_STRH, 1, 1, XR_MMIO_REG, 0x32));
	p_put(&p, a64_ldst(A64_OP_STRW, 2, 1, XR_MMIO_REG, 0x34));
	p_put(&p, a64_ldst(A64_OP_STRX, 3, 1, XR_MMIO_REG, 0x38));
	p_put(&p, A64_B_SELF);
	realm_with(&x, &p, 1, true);

	uint64_t flags = 0;
	for (unsigned int pass = 0; pass < 2; pass++)
		for (unsigned int k = 0; k < nl; k++) {
			const struct ld *l = &loads[k];
			assert_int_equal(xr_enter(&x, 0, flags, NULL, &ex), RMI_SUCCESS);
			struct rmi_rec_exit e = ex;
			EX_EQ(e, exit_reason, RMI_EXIT_SYNC);
			/* exactly: no SRT, SSE or AR (see test_esr_emulatable_hides_rt) */
			assert_int_equal(e.esr, ESR_EC(ESR_EC_DABT_LOW) | ESR_IL | ESR_ISV |
							ESR_SAS(l->size_log2) | (l->sf ? ESR_SF : 0) |
							ESR_FSC_TRANS(1));
			e.esr = 0;
			EX_EQ(e, far, l->off);
			EX_EQ(e, hpfar, (XR_MMIO_IPA >> 12) << 4);
			EX_DONE(e); /* a read: gprs[0] = 0 */
			/* the host answers with all 64 bits; the realm gets them extended per the load */
			assert_int_equal(xr_enter_v(&x, 0, XR_ENTER_MMIO, values[pass], &ex), RMI_SUCCESS);
			xr_expect_mmio_store(&ex, 0, extend(l, values[pass]));
			flags = XR_ENTER_MMIO;
		}
	assert_int_equal(xr_enter(&x, 0, flags, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.far, 0x10);
	assert_int_equal(ex.esr & (ESR_ISV | ESR_SAS(3) | ESR_SF | ESR_WNR), ESR_ISV | ESR_SAS(3) | ESR_SF);
	assert_int_equal(xr_enter_v(&x, 0, XR_ENTER_MMIO, 0x5555, &ex), RMI_SUCCESS);
	xr_expect_mmio_store(&ex, 0, 0x1234);
	static const struct {
		unsigned int sas;
		uint64_t off, v;
	} st[] = { { 0, 0x31, 0x88 },
		   { 1, 0x32, 0x7788 },
		   { 2, 0x34, 0x55667788 },
		   { 3, 0x38, 0x1122334455667788ULL } };
	for (unsigned int k = 0; k < 4; k++) {
		assert_int_equal(xr_enter(&x, 0, XR_ENTER_MMIO, NULL, &ex), RMI_SUCCESS);
		xr_expect_mmio_store(&ex, st[k].off, st[k].v);
		assert_int_equal(ex.esr, ESR_EC(ESR_EC_DABT_LOW) | ESR_IL | ESR_ISV | ESR_SAS(st[k].sas) |
						 (st[k].sas == 3 ? ESR_SF : 0) | ESR_WNR | ESR_FSC_TRANS(1));
	}
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* INJECT_SEA takes precedence over EMULATED_MMIO: the load is not completed. */
static void test_inject_sea_over_mmio(void **state)
{
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex;
	uint64_t far, elr, esr;
	struct xr x;

	(void)state;
	p_prologue(&p);
	p_mov(&p, 5, 0x5555);
	unsigned int ld = p.n;
	p_put(&p, a64_ldr_off(5, XR_MMIO_REG, 0x18));
	p_report(&p, 5);
	p_put(&p, A64_B_SELF);
	realm_with(&x, &p, 1, true);
	assert_int_equal(xr_enter(&x, 0, 0, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.far, 0x18);
	esr = xr_expect_exception(&x, 0, XR_ENTER_SEA | XR_ENTER_MMIO, &far, &elr);
	assert_int_equal(esr_ec(esr), ESR_EC_DABT_CUR);
	assert_int_equal(esr & 0x3f, ESR_FSC_SEA);
	assert_int_equal(far, XR_MMIO_IPA + 0x18);
	assert_int_equal(elr, p_ipa(ld));
	/* the handler resumed after the load: x5 was never written */
	assert_int_equal(xr_enter(&x, 0, XR_ENTER_MMIO, NULL, &ex), RMI_SUCCESS);
	xr_expect_mmio_store(&ex, 0, 0x5555);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/*
 * An emulatable abort exposes EC, SET, FnV, EA, FSC, ISV, SAS, SF, WnR (and
 * IL): not SRT, SSE or AR - the RMM completes the access itself, the host
 * needs no register number (reference 10.4; TF-RMM ESR_EMULATED_ABORT_MASK).
 */
static void test_esr_emulatable_hides_rt(void **state)
{
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex;
	struct xr x;

	(void)state;
	p_prologue(&p);
	p_put(&p, a64_ldst(A64_OP_LDRSHW, 1, 7, XR_MMIO_REG, 0x42));
	p_put(&p, A64_B_SELF);
	realm_with(&x, &p, 1, true);
	assert_int_equal(xr_enter(&x, 0, 0, NULL, &ex), RMI_SUCCESS);
	assert_true(ex.esr & ESR_ISV);
	struct xr *xs[] = { &x };
	assert_int_equal(ex.esr, ESR_EC(ESR_EC_DABT_LOW) | ESR_IL | ESR_ISV | ESR_SAS(1) | ESR_FSC_TRANS(1));
	xr_teardown(xs, 1);
}

/* ---- exit records: ESR sanitisation, stage-2 faults the host resolves -------------------- */

static void test_esr_sanitised(void **state)
{
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex, e;
	uint64_t far, elr, esr;
	struct xr x;

	(void)state;
	p_prologue(&p);
	p_mov(&p, 2, LATE_IPA);
	p_put(&p, a64_ldr(3, 2)); /* A: RAM, unmapped */
	p_report(&p, 3);
	p_mov(&p, 4, 0xabcd);
	p_put(&p, a64_str(4, 2));
	p_put(&p, a64_ldr(3, 2));
	p_report(&p, 3);
	unsigned int stp = p.n;
	p_put(&p, a64_stp(4, 4, XR_MMIO_REG, 0x20)); /* B: unprotected, no syndrome */
	unsigned int resume = p.n + 12;
	p_mov(&p, XR_RESUME_REG, p_ipa(resume));
	p_mov(&p, 5, LATE_CODE_IPA);
	p_put(&p, a64_br(5)); /* C: fetch from RAM, unmapped */
	p_put(&p, A64_NOP);
	p_put(&p, A64_NOP);
	p_put(&p, A64_NOP);
	assert_int_equal(p.n, resume);
	p_mov(&p, 6, 0x600d);
	p_report(&p, 6);
	p_put(&p, a64_ldr(3, 2)); /* D: the page was unmapped meanwhile: RIPAS DESTROYED */
	p_report(&p, 3);
	p_put(&p, A64_B_SELF);
	realm_with(&x, &p, 1, true);

	/* A: non-emulatable: EC and FSC only, no FAR, the page in HPFAR */
	assert_int_equal(xr_enter(&x, 0, 0, NULL, &ex), RMI_SUCCESS);
	e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_SYNC);
	EX_EQ(e, esr, ESR_EC(ESR_EC_DABT_LOW) | ESR_FSC_TRANS(3));
	EX_EQ(e, hpfar, (LATE_IPA >> 12) << 4);
	EX_DONE(e);
	/* entering again without mapping: the same exit */
	assert_int_equal(xr_enter(&x, 0, 0, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.hpfar, (LATE_IPA >> 12) << 4);
	/* the host maps a page (zeroed): the load completes */
	xr_map(&x, LATE_IPA);
	xr_next_store(&x, 0, 0, 0);
	xr_next_store(&x, 0, XR_ENTER_MMIO, 0xabcd);

	/* B: unprotected without ISV: EC, IL and FSC; no FAR, no value */
	assert_int_equal(xr_enter(&x, 0, XR_ENTER_MMIO, NULL, &ex), RMI_SUCCESS);
	e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_SYNC);
	EX_EQ(e, esr, ESR_EC(ESR_EC_DABT_LOW) | ESR_IL | ESR_FSC_TRANS(1));
	EX_EQ(e, hpfar, ((XR_MMIO_IPA + 0x20) >> 12) << 4);
	EX_DONE(e);
	esr = xr_expect_exception(&x, 0, XR_ENTER_SEA, &far, &elr);
	assert_int_equal(esr_ec(esr), ESR_EC_DABT_CUR);
	assert_int_equal(elr, p_ipa(stp));

	/* C: an instruction abort on RAM without mapping: EC and FSC, HPFAR */
	assert_int_equal(xr_enter(&x, 0, XR_ENTER_MMIO, NULL, &ex), RMI_SUCCESS);
	e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_SYNC);
	EX_EQ(e, esr, ESR_EC(ESR_EC_IABT_LOW) | ESR_FSC_TRANS(3));
	EX_EQ(e, hpfar, (LATE_CODE_IPA >> 12) << 4);
	EX_DONE(e);
	ENTER_FAIL(&x, x.rec[0], x.run[0], XR_ENTER_SEA, RMI_ERROR_REC); /* not a data abort */
	/* mapped (zeros = UDF): the realm now executes it and takes an UNDEF */
	xr_map(&x, LATE_CODE_IPA);
	esr = xr_expect_exception(&x, 0, 0, &far, &elr);
	assert_int_equal(esr, ESR_EC(ESR_EC_UNKNOWN) | ESR_IL);
	assert_int_equal(elr, LATE_CODE_IPA);
	xr_next_store(&x, 0, XR_ENTER_MMIO, 0x600d);

	/* D: the host unmaps the page the realm used (RIPAS DESTROYED): the access exits, not a stale mapping */
	xr_unmap(&x, LATE_IPA);
	assert_int_equal(xr_enter(&x, 0, XR_ENTER_MMIO, NULL, &ex), RMI_SUCCESS);
	e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_SYNC);
	EX_EQ(e, esr, ESR_EC(ESR_EC_DABT_LOW) | ESR_FSC_TRANS(3));
	EX_EQ(e, hpfar, (LATE_IPA >> 12) << 4);
	EX_DONE(e);
	/* mapping it again keeps RIPAS DESTROYED: still not accessible */
	xr_map(&x, LATE_IPA);
	assert_int_equal(xr_enter(&x, 0, 0, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
	assert_int_equal(ex.esr, ESR_EC(ESR_EC_DABT_LOW) | ESR_FSC_TRANS(3));
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/*
 * Enter REC 0 (completing its MMIO store) and expect its 64-bit store at
 * NS_IPA + 0x40 to exit as an emulatable data abort: the page is no longer
 * mapped, a translation fault at level (the deepest table left).
 */
static void expect_ns_store_unmapped(struct xr *x, int level)
{
	struct rmi_rec_exit ex;

	assert_int_equal(xr_enter(x, 0, XR_ENTER_MMIO, NULL, &ex), RMI_SUCCESS);
	struct rmi_rec_exit e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_SYNC);
	assert_int_equal(e.esr, ESR_EC(ESR_EC_DABT_LOW) | ESR_IL | ESR_ISV | ESR_SAS(3) | ESR_SF |
					ESR_FSC_TRANS(level));
	e.esr = 0;
	EX_EQ(e, far, 0x40);
	EX_EQ(e, hpfar, (NS_IPA >> 12) << 4);
	EX_DONE(e);
}

/* ---- IRQ, WFI ------------------------------------------------------------------------ */

static void test_irq_and_wfi(void **state)
{
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex, e;
	struct xr x;

	(void)state;
	p_prologue(&p);
	p_put(&p, A64_WFI);
	p_mov(&p, 1, 1);
	p_report(&p, 1);
	unsigned int wfi = p.n;
	p_put(&p, A64_WFI);
	p_mov(&p, 1, 2);
	p_report(&p, 1);
	p_put(&p, A64_B_SELF);
	realm_with(&x, &p, 1, true);

	/* trapped: SYNC with EC WFx and TI (WFI = 0); the RMM steps over it */
	assert_int_equal(xr_enter(&x, 0, XR_ENTER_WFI | XR_ENTER_WFE, NULL, &ex), RMI_SUCCESS);
	e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_SYNC);
	EX_EQ(e, esr, ESR_EC(ESR_EC_WFX));
	EX_DONE(e);
	xr_next_store(&x, 0, 0, 1);
	/* not trapped (decision: the WFI completes, the REC exits with IRQ) */
	for (double t0 = t_now();;) {
		assert_true(t_now() - t0 < XR_PATIENCE_S);
		assert_int_equal(xr_enter1(&x, 0, XR_ENTER_MMIO, NULL, &ex), RMI_SUCCESS);
		e = ex;
		EX_EQ(e, exit_reason, RMI_EXIT_IRQ);
		EX_DONE(e);
		if (xr_pc(&x, 0) == p_ipa(wfi + 1))
			break;
		assert_true(xr_pc(&x, 0) <= p_ipa(wfi));
	}
	xr_next_store(&x, 0, 0, 2);
	/* an endless loop: IRQ at the end of the time slice, an otherwise empty record */
	assert_int_equal(xr_enter1(&x, 0, XR_ENTER_MMIO, NULL, &ex), RMI_SUCCESS);
	for (int k = 0; k < 3; k++) {
		e = ex;
		EX_EQ(e, exit_reason, RMI_EXIT_IRQ);
		EX_DONE(e);
		assert_int_equal(xr_pc(&x, 0), p_ipa(p.n - 1));
		assert_int_equal(xr_enter1(&x, 0, 0, NULL, &ex), RMI_SUCCESS);
	}
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* ---- aborts the RMM handles itself ----------------------------------------------------- */

static void test_rmm_handled_aborts(void **state)
{
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex;
	uint64_t far, elr, esr;
	struct xr x;

	(void)state;
	p_prologue(&p);
	unsigned int a1 = p.n + 4;
	p_mov(&p, 2, EMPTY_IPA);
	p_put(&p, a64_ldr(3, 2));
	unsigned int a2 = p.n + 4;
	p_mov(&p, 2, AEMPTY_IPA);
	p_put(&p, a64_str(3, 2));
	unsigned int a3 = p.n + 4;
	p_mov(&p, 2, XR_IPA_TOP);
	p_put(&p, a64_ldr(3, 2));
	unsigned int a4 = p.n + 4;
	p_mov(&p, 2, XR_IPA_TOP - 8);
	p_put(&p, a64_ldr(3, 2));
	/* instruction fetches: from EMPTY, from unmapped unprotected IPA, from NS memory */
	static const uint64_t targets[] = { EMPTY_CODE_IPA, XR_MMIO_IPA + 0x5000, NS_IPA };
	unsigned int rets[3];
	for (int k = 0; k < 3; k++) {
		rets[k] = p.n + 9;
		p_mov(&p, XR_RESUME_REG, p_ipa(rets[k]));
		p_mov(&p, 5, targets[k]);
		p_put(&p, a64_br(5));
		assert_int_equal(p.n, rets[k]);
	}
	unsigned int hvc = p.n;
	p_put(&p, A64_HVC);
	unsigned int udf = p.n;
	p_put(&p, A64_UDF);
	p_mov(&p, 6, 0x600d);
	p_report(&p, 6);
	p_put(&p, A64_B_SELF);
	xr_create(&env, &x, RMI_HASH_SHA_256, NULL);
	xr_program(&x, &p);
	xr_map(&x, AEMPTY_IPA); /* NEW realm, RIPAS EMPTY: ASSIGNED EMPTY */
	uint64_t nsp = xr_ns_page(&x);
	t_rtt_to(x.m, x.rd, NS_IPA, 3, &env.pool);
	assert_int_equal(RMI(x.m, RMI_FID_RTT_UNPROT_MAP, NULL, x.rd, NS_IPA, NS_IPA + G,
			     t_unprot_flags(RMI_ADDR_TYPE_SINGLE, 6, 3), t_desc(nsp, 3, 1)),
			 RMI_SUCCESS);
	xr_rec(&x, true, XR_CODE_IPA);
	xr_activate(&x);

	/* data aborts: RIPAS EMPTY (unassigned and assigned), IPA at and above 2^s2sz: SEA */
	static const uint64_t dfar[] = { EMPTY_IPA, AEMPTY_IPA, XR_IPA_TOP };
	const unsigned int dat[] = { a1, a2, a3 };
	for (int k = 0; k < 3; k++) {
		esr = xr_expect_exception(&x, 0, k ? XR_ENTER_MMIO : 0, &far, &elr);
		assert_int_equal(esr_ec(esr), ESR_EC_DABT_CUR);
		assert_int_equal(esr & 0x3f, ESR_FSC_SEA);
		assert_true(esr & ESR_IL);
		assert_int_equal(far, dfar[k]);
		assert_int_equal(elr, p_ipa(dat[k]));
	}
	/* the last 8 bytes below 2^s2sz are an unprotected IPA: an MMIO exit, not an SEA */
	assert_int_equal(xr_enter(&x, 0, XR_ENTER_MMIO, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
	assert_true(ex.esr & ESR_ISV);
	assert_int_equal(ex.hpfar, ((XR_IPA_TOP - 8) >> 12) << 4);
	assert_int_equal(ex.far, (XR_IPA_TOP - 8) & 0xfff);
	(void)a4;
	/* instruction aborts: SEA with EC "instruction abort, current EL", FAR = ELR = the target */
	for (int k = 0; k < 3; k++) {
		esr = xr_expect_exception(&x, 0, XR_ENTER_MMIO, &far, &elr);
		assert_int_equal(esr_ec(esr), ESR_EC_IABT_CUR);
		assert_int_equal(esr & 0x3f, ESR_FSC_SEA);
		assert_int_equal(far, targets[k]);
		assert_int_equal(elr, targets[k]);
	}
	/* HVC and an undefined instruction: UNDEF (EC 0, IL), ELR = the instruction */
	esr = xr_expect_exception(&x, 0, XR_ENTER_MMIO, &far, &elr);
	assert_int_equal(esr, ESR_EC(ESR_EC_UNKNOWN) | ESR_IL);
	assert_int_equal(elr, p_ipa(hvc));
	esr = xr_expect_exception(&x, 0, XR_ENTER_MMIO, &far, &elr);
	assert_int_equal(esr, ESR_EC(ESR_EC_UNKNOWN) | ESR_IL);
	assert_int_equal(elr, p_ipa(udf));
	xr_next_store(&x, 0, XR_ENTER_MMIO, 0x600d);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* ---- NS memory mapped with UNPROT_MAP ------------------------------------------------- */

/* RmiRttUnprotMapFlags.S2AP, direct encoding (bet1 rmi_smc.h): bit 0 W, bit 1 R */
#define S2AP_FLAG_W 1u
#define S2AP_FLAG_R 2u

static void unprot_map(struct xr *x, uint64_t ipa, uint64_t pa, unsigned int s2ap)
{
	t_rtt_to(x->m, x->rd, ipa, 3, &env.pool);
	assert_int_equal(RMI(x->m, RMI_FID_RTT_UNPROT_MAP, NULL, x->rd, ipa, ipa + G,
			     t_unprot_flags(RMI_ADDR_TYPE_SINGLE, 6, s2ap), t_desc(pa, 3, 1)),
			 RMI_SUCCESS);
}

/* A read-write NS page: the realm reads and writes the host's memory; unmapped, it is MMIO again. */
static void test_unprot_map_access(void **state)
{
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex;
	uint64_t v;
	struct xr x;

	(void)state;
	p_prologue(&p);
	p_mov(&p, 2, NS_IPA);
	p_put(&p, a64_ldr_off(3, 2, 0x40));
	p_report(&p, 3);
	p_mov(&p, 4, 0x7777);
	p_put(&p, a64_str_off(4, 2, 0x48));
	p_put(&p, a64_ldr_off(3, 2, 0x48));
	p_report(&p, 3);
	p_put(&p, a64_ldr_off(3, 2, 0x40)); /* after UNPROT_UNMAP: MMIO again */
	p_report(&p, 3);
	p_put(&p, A64_B_SELF);
	xr_create(&env, &x, RMI_HASH_SHA_256, NULL);
	xr_program(&x, &p);
	xr_rec(&x, true, XR_CODE_IPA);
	xr_activate(&x);
	uint64_t rw = xr_ns_page(&x);
	v = 0x1111222233334444ULL;
	t_write(x.m, rw + 0x40, &v, 8);
	unprot_map(&x, NS_IPA, rw, S2AP_FLAG_R | S2AP_FLAG_W);

	xr_next_store(&x, 0, 0, 0x1111222233334444ULL);
	xr_next_store(&x, 0, XR_ENTER_MMIO, 0x7777);
	t_read(x.m, rw + 0x48, &v, 8);
	assert_int_equal(v, 0x7777); /* the realm wrote the host's page */
	assert_int_equal(RMI(x.m, RMI_FID_RTT_UNPROT_UNMAP, NULL, x.rd, NS_IPA, NS_IPA + G, 0ULL, 0ULL),
			 RMI_SUCCESS);
	expect_ns_store_unmapped(&x, 3);
	assert_int_equal(xr_enter_v(&x, 0, XR_ENTER_MMIO, 0xfeed, &ex), RMI_SUCCESS);
	xr_expect_mmio_store(&ex, 0, 0xfeed);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/*
 * RTT_FOLD while a REC runs: a page of the 2 MiB range is in the REC's engine
 * (mapped as a page), the host folds the range into a block between two
 * entries, the realm touches another page of it: the block replaces the
 * engine's page mapping and the realm reads the right data (it used to be an
 * SError exit).
 */
static void test_fold_while_running(void **state)
{
	const uint64_t blk = 2 * (1ULL << 20); /* [2 MiB, 4 MiB): one level-2 entry */
	struct prog p = { .n = 0 };
	struct rmi_out o;
	struct xr x;
	uint64_t pa0;

	(void)state;
	p_prologue(&p);
	p_mov(&p, 2, blk);
	p_put(&p, a64_ldr_off(3, 2, 0)); /* page 0 of the range: mapped as a page */
	p_report(&p, 3);
	p_mov(&p, 2, blk + 7 * G);
	p_put(&p, a64_ldr_off(3, 2, 8)); /* page 7, after the fold: the block */
	p_report(&p, 3);
	p_put(&p, A64_B_SELF);
	xr_create(&env, &x, RMI_HASH_SHA_256, NULL);
	xr_program(&x, &p);
	xr_rec(&x, true, XR_CODE_IPA);
	/* 512 contiguous granules, 2 MiB aligned, each page k holding k at 0 and 0x100 + k at 8 */
	pa0 = t_pool_delegated(x.m, &env.pool, 512, 2 * (1ULL << 20));
	t_rtt_to(x.m, x.rd, blk, 3, &env.pool);
	for (uint64_t k = 0; k < 512; k++) {
		uint64_t page[2] = { k, 0x100 + k };
		t_write(x.m, x.ns, page, sizeof(page));
		assert_int_equal(
			RMI(x.m, RMI_FID_RTT_DATA_MAP_INIT, NULL, x.rd, pa0 + k * G, blk + k * G, x.ns, 0ULL),
			RMI_SUCCESS);
	}
	xr_activate(&x);

	xr_next_store(&x, 0, 0, 0); /* page 0 read: 0 */
	assert_int_equal(RMI(x.m, RMI_FID_RTT_FOLD, &o, x.rd, blk, 3), RMI_SUCCESS);
	assert_int_equal(t_gstate(x.m, o.x[1]), GRANULE_STATE_DELEGATED); /* the level-3 table */
	assert_int_equal(t_entry_kind(x.m, x.rd, blk, 2), S2TTE_ASSIGNED);
	xr_next_store(&x, 0, XR_ENTER_MMIO, 0x107); /* page 7 through the block */
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/*
 * RTT_DESTROY of the level-3 RTT that holds a REC's NS page mapping, between
 * two entries (docs/abi-coverage.md, RTT_DESTROY): the RTT goes with its
 * mapping, and the REC's engine must not keep reaching the host page through
 * it: the next access exits to the host as an emulatable data abort.
 */
static void test_destroy_ns_rtt_while_running(void **state)
{
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex;
	struct rmi_out o;
	uint64_t v;
	struct xr x;

	(void)state;
	p_prologue(&p);
	p_mov(&p, 2, NS_IPA);
	p_put(&p, a64_ldr_off(3, 2, 0x40));
	p_report(&p, 3);
	p_put(&p, a64_ldr_off(3, 2, 0x40)); /* after RTT_DESTROY: MMIO */
	p_report(&p, 3);
	p_put(&p, A64_B_SELF);
	xr_create(&env, &x, RMI_HASH_SHA_256, NULL);
	xr_program(&x, &p);
	xr_rec(&x, true, XR_CODE_IPA);
	xr_activate(&x);
	uint64_t rw = xr_ns_page(&x);
	v = 0x1111222233334444ULL;
	t_write(x.m, rw + 0x40, &v, 8);
	unprot_map(&x, NS_IPA, rw, S2AP_FLAG_R | S2AP_FLAG_W);

	xr_next_store(&x, 0, 0, 0x1111222233334444ULL); /* the engine maps the page */
	uint64_t l3 = t_raw_entry(x.m, x.rd, NS_IPA, 2, NULL) & S2_DESC_OA_MASK;
	assert_int_equal(RMI(x.m, RMI_FID_RTT_DESTROY, &o, x.rd, NS_IPA, 3), RMI_SUCCESS);
	assert_int_equal(o.x[1], l3);
	assert_int_equal(t_gstate(x.m, l3), GRANULE_STATE_DELEGATED);
	expect_ns_store_unmapped(&x, 2);
	assert_int_equal(xr_enter_v(&x, 0, XR_ENTER_MMIO, 0xfeed, &ex), RMI_SUCCESS);
	xr_expect_mmio_store(&ex, 0, 0xfeed);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* A read-only NS page (S2AP = DIRECT_READ): loads see the host's data, a store exits as a permission fault. */
static void test_unprot_map_read_only(void **state)
{
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex, e;
	struct rmi_out o;
	uint64_t v;
	struct xr x;

	(void)state;
	p_prologue(&p);
	p_mov(&p, 2, NS_IPA);
	p_mov(&p, 4, 0x7777);
	p_put(&p, a64_ldr_off(3, 2, 0x40));
	p_report(&p, 3);
	p_put(&p, a64_str_off(4, 2, 0x48));
	p_put(&p, a64_ldr_off(3, 2, 0x48));
	p_report(&p, 3);
	p_put(&p, A64_B_SELF);
	xr_create(&env, &x, RMI_HASH_SHA_256, NULL);
	xr_program(&x, &p);
	xr_rec(&x, true, XR_CODE_IPA);
	xr_activate(&x);
	uint64_t ro = xr_ns_page(&x);
	v = 0x5555666677778888ULL;
	t_write(x.m, ro + 0x40, &v, 8);
	v = 0x99;
	t_write(x.m, ro + 0x48, &v, 8);
	unprot_map(&x, NS_IPA, ro, S2AP_FLAG_R);
	/* the flags' direct S2AP (bit 0 W, bit 1 R) becomes descriptor S2AP R (bit 6; W is bit 7) */
	assert_int_equal(t_read_entry(x.m, x.rd, NS_IPA, 3, &o), RMI_SUCCESS);
	assert_int_equal(o.x[3] & S2_DESC_S2AP_MASK, 1ULL << S2_DESC_S2AP_SHIFT);
	xr_next_store(&x, 0, 0, 0x5555666677778888ULL);
	assert_int_equal(xr_enter(&x, 0, XR_ENTER_MMIO, NULL, &ex), RMI_SUCCESS);
	e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_SYNC);
	assert_int_equal(e.esr, ESR_EC(ESR_EC_DABT_LOW) | ESR_IL | ESR_ISV | ESR_SAS(3) | ESR_SF | ESR_WNR |
					ESR_FSC_PERM(3));
	e.esr = 0;
	EX_EQ(e, far, 0x48);
	EX_EQ(e, hpfar, (NS_IPA >> 12) << 4);
	EX_EQ(e, gprs[0], 0x7777);
	EX_DONE(e);
	/* the host emulates it (drops it): the page is unchanged */
	xr_next_store(&x, 0, XR_ENTER_MMIO, 0x99);
	t_read(x.m, ro + 0x48, &v, 8);
	assert_int_equal(v, 0x99);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/*
 * NS mappings give the realm NS memory only: a PA that is not NS in the GPT
 * (another realm's DATA granule, an RD) or not DRAM must never become
 * accessible through an UNPROT_MAP'd IPA. (On hardware the access would be
 * made to the NS PAS and fault at the GPC.)
 */
static void test_unprot_map_not_ns(void **state)
{
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex;
	uint8_t secret[4096];
	struct xr a, b;

	(void)state;
	memset(secret, 0x5e, sizeof(secret));
	xr_create(&env, &a, RMI_HASH_SHA_256, NULL);
	uint64_t data = xr_page(&a, 0x8000, secret, RMI_NO_MEASURE_CONTENT);
	p_prologue(&p);
	for (int k = 0; k < 3; k++) {
		p_mov(&p, 2, NS_IPA + k * G);
		p_put(&p, a64_ldr(3, 2));
		p_report(&p, 3);
	}
	p_put(&p, A64_B_SELF);
	xr_create(&env, &b, RMI_HASH_SHA_256, NULL);
	xr_program(&b, &p);
	xr_rec(&b, true, XR_CODE_IPA);
	xr_activate(&b);
	t_rtt_to(b.m, b.rd, NS_IPA, 3, &env.pool);
	const uint64_t pas[] = { data, a.rd, 0x40000000ULL };
	for (int k = 0; k < 3; k++)
		unprot_map(&b, NS_IPA + k * G, pas[k], S2AP_FLAG_R | S2AP_FLAG_W);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(xr_enter(&b, 0, k ? XR_ENTER_MMIO : 0, NULL, &ex), RMI_SUCCESS);
		assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
		/* not a value read from that granule: the host gets the access, as a granule protection fault */
		assert_false(ex.esr & ESR_WNR);
		assert_true(ex.esr & ESR_ISV);
		assert_int_equal(ex.esr & 0x3f, ESR_FSC_GPF);
		assert_int_equal(ex.hpfar, ((NS_IPA + k * G) >> 12) << 4);
		assert_int_equal(xr_enter_v(&b, 0, XR_ENTER_MMIO, 0x1000 + k, &ex), RMI_SUCCESS);
		xr_expect_mmio_store(&ex, 0, 0x1000 + k);
	}
	struct xr *xs[] = { &a, &b };
	xr_teardown(xs, 2);
}

/* ---- end to end, on a realm at fixed addresses (FX_*) without the harness ----------------- */

/*
 * REC_ENTER end to end with a hand-assembled realm laid out by hand: RSI calls
 * answered in the RMM, MMIO exits (store and load, EMULATED_MMIO completion), a
 * host call, a stage-2 fault on unmapped RAM resolved by the host, SEA on EMPTY
 * memory, PSCI SYSTEM_OFF, an NS page delegated under the realm, a host kick.
 */

#define FX_RD_PA (T_DRAM_BASE + 0x100000)
#define FX_ROOT_PA (FX_RD_PA + 2 * G)
#define FX_L2_PA (FX_RD_PA + 4 * G)
#define FX_L3_PA (FX_RD_PA + 5 * G)
#define FX_REC_PA (FX_RD_PA + 8 * G)
#define FX_AUX_PA (FX_RD_PA + 32 * G)
#define FX_CODE_PA (FX_RD_PA + 64 * G)
#define FX_HC_PA (FX_RD_PA + 65 * G)
#define FX_LATE_PA (FX_RD_PA + 66 * G)
#define FX_PARAMS_PA (T_DRAM_BASE + 0x200000)
#define FX_RECP_PA (FX_PARAMS_PA + G)
#define FX_LIST_PA (FX_PARAMS_PA + 2 * G)
#define FX_SRC_PA (FX_PARAMS_PA + 3 * G)
#define FX_RUN_PA (FX_PARAMS_PA + 4 * G)

#define FX_CODE_IPA 0x0ULL
#define FX_HC_IPA 0x1000ULL
#define FX_LATE_IPA 0x2000ULL    /* RIPAS RAM, mapped only when the realm touches it */
#define FX_EMPTY_IPA 0x100000ULL /* RIPAS EMPTY */
#define FX_MMIO_IPA (1ULL << 39) /* unprotected, unmapped: emulatable MMIO */

static struct rk_machine *fx_m;

/* One REC_ENTER. */
static uint64_t fx_enter_once(struct rmi_rec_exit *ex, uint64_t flags, uint64_t gpr0)
{
	static struct rmi_rec_enter en;
	uint64_t x0;

	memset(&en, 0, sizeof(en));
	en.flags = flags;
	en.gprs[0] = gpr0;
	t_write(fx_m, FX_RUN_PA, &en, sizeof(en));
	x0 = RMI(fx_m, RMI_FID_REC_ENTER, NULL, FX_REC_PA, FX_RUN_PA);
	t_read(fx_m, FX_RUN_PA + 0x800, ex, sizeof(*ex));
	return x0;
}

/* REC_ENTER until an exit other than IRQ (time slice), as a host run loop does. */
static uint64_t fx_enter(struct rmi_rec_exit *ex, uint64_t flags, uint64_t gpr0)
{
	uint64_t x0 = fx_enter_once(ex, flags, gpr0);

	while (x0 == RMI_SUCCESS && ex->exit_reason == RMI_EXIT_IRQ)
		x0 = fx_enter_once(ex, 0, 0);
	return x0;
}

static unsigned int fx_slice_us; /* 0: the machine's default */

static void fx_build_realm(const uint32_t *code, size_t n)
{
	static struct rmi_rec_params rp;
	uint8_t page[4096] = { 0 };
	struct rk_machine_config cfg;
	struct rmi_out o;

	rk_machine_config_default(&cfg);
	cfg.dram_size = 64ULL << 20;
	cfg.rec_time_slice_us = fx_slice_us;
	fx_m = t_machine_cfg(&cfg, true);
	assert_int_equal(t_realm_create(fx_m, FX_RD_PA, FX_ROOT_PA, 40, 1, 2, FX_PARAMS_PA, RMI_HASH_SHA_256),
			 RMI_SUCCESS);
	t_delegate(fx_m, FX_L2_PA, 2);
	assert_int_equal(RMI(fx_m, RMI_FID_RTT_CREATE, NULL, FX_RD_PA, FX_L2_PA, 0ULL, 2ULL), RMI_SUCCESS);
	assert_int_equal(RMI(fx_m, RMI_FID_RTT_CREATE, NULL, FX_RD_PA, FX_L3_PA, 0ULL, 3ULL), RMI_SUCCESS);
	assert_int_equal(RMI(fx_m, RMI_FID_RTT_INIT_RIPAS, &o, FX_RD_PA, 0ULL, 0x10000ULL), RMI_SUCCESS);
	memcpy(page, code, n * 4);
	t_write(fx_m, FX_SRC_PA, page, sizeof(page));
	t_delegate(fx_m, FX_CODE_PA, 3);
	assert_int_equal(RMI(fx_m, RMI_FID_RTT_DATA_MAP_INIT, NULL, FX_RD_PA, FX_CODE_PA, FX_CODE_IPA,
			     FX_SRC_PA, 1ULL),
			 RMI_SUCCESS);
	memset(page, 0, sizeof(page));
	t_write(fx_m, FX_SRC_PA, page, sizeof(page));
	assert_int_equal(
		RMI(fx_m, RMI_FID_RTT_DATA_MAP_INIT, NULL, FX_RD_PA, FX_HC_PA, FX_HC_IPA, FX_SRC_PA, 0ULL),
		RMI_SUCCESS);
	memset(&rp, 0, sizeof(rp));
	rp.flags = 1;
	rp.pc = FX_CODE_IPA;
	t_write(fx_m, FX_RECP_PA, &rp, sizeof(rp));
	t_delegate(fx_m, FX_REC_PA, 1);
	t_delegate(fx_m, FX_AUX_PA, 16);
	assert_int_equal(RMI(fx_m, RMI_FID_REC_CREATE, &o, FX_RD_PA, FX_REC_PA, FX_RECP_PA),
			 RMI_INCOMPLETE | (1u << 8));
	uint64_t h = o.x[1], list[16];
	for (int i = 0; i < 16; i++)
		list[i] = (FX_AUX_PA + i * G) | (1ULL << 2);
	t_write(fx_m, FX_LIST_PA, list, sizeof(list));
	assert_int_equal(RMI(fx_m, RMI_FID_OP_MEM_DONATE, &o, h, FX_LIST_PA, 16ULL), RMI_INCOMPLETE);
	assert_int_equal(RMI(fx_m, RMI_FID_OP_CONTINUE, &o, h, 0ULL), RMI_SUCCESS);
}

static void test_not_active(void **state)
{
	uint32_t code[] = { A64_B_SELF };
	struct rmi_rec_exit ex;

	(void)state;
	fx_build_realm(code, 1);
	assert_int_equal(fx_enter(&ex, 0, 0), RMI_ERROR_REALM); /* NEW */
	assert_int_equal(RMI(fx_m, RMI_FID_REALM_ACTIVATE, NULL, FX_RD_PA), RMI_SUCCESS);
	/* run page not NS, REC not a REC, flags without the matching exit */
	assert_int_equal(RMI(fx_m, RMI_FID_REC_ENTER, NULL, FX_REC_PA, FX_CODE_PA), RMI_ERROR_INPUT);
	assert_int_equal(RMI(fx_m, RMI_FID_REC_ENTER, NULL, FX_RD_PA, FX_RUN_PA), RMI_ERROR_INPUT);
	assert_int_equal(fx_enter(&ex, 1 /* EMULATED_MMIO */, 0), RMI_ERROR_REC);
	assert_int_equal(fx_enter(&ex, 2 /* INJECT_SEA */, 0), RMI_ERROR_REC);
	/* an endless loop ends with an IRQ exit at the time slice */
	assert_int_equal(fx_enter_once(&ex, 0, 0), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_IRQ);
	rk_machine_destroy(fx_m);
}

static void test_rsi_mmio_hostcall_off(void **state)
{
	uint32_t c[128];
	unsigned int n = 0;
	struct rmi_rec_exit ex;

	(void)state;
	n += a64_mov64(&c[n], 20, FX_MMIO_IPA);
	/* RSI_VERSION(1.1) -> store x0, x2 */
	n += a64_mov64(&c[n], 0, RSI_FID_VERSION);
	n += a64_mov64(&c[n], 1, 0x10001);
	c[n++] = A64_SMC;
	c[n++] = a64_str(0, 20);
	c[n++] = a64_str(2, 20);
	/* RSI_MEASUREMENT_READ(0) -> store x1 (first 8 bytes of the RIM) */
	n += a64_mov64(&c[n], 0, RSI_FID_MEASUREMENT_READ);
	n += a64_mov64(&c[n], 1, 0);
	c[n++] = A64_SMC;
	c[n++] = a64_str(1, 20);
	/* load from MMIO, add 1, store it back */
	c[n++] = a64_ldr(5, 20);
	c[n++] = a64_add_imm(5, 5, 1);
	c[n++] = a64_str(5, 20);
	/* host call: imm 0x77 at FX_HC_IPA with gprs[0] = 0x1234 */
	n += a64_mov64(&c[n], 1, FX_HC_IPA);
	n += a64_mov64(&c[n], 2, 0x77);
	c[n++] = a64_str(2, 1);
	n += a64_mov64(&c[n], 3, 0x1234);
	c[n++] = a64_add_imm(4, 1, 8);
	c[n++] = a64_str(3, 4);
	n += a64_mov64(&c[n], 0, RSI_FID_HOST_CALL);
	c[n++] = A64_SMC;
	c[n++] = a64_str(0, 20); /* RSI status */
	c[n++] = a64_ldr(6, 4);  /* gprs[0] as the host left it */
	c[n++] = a64_str(6, 20);
	/* touch FX_LATE_IPA (RAM, not mapped): the host maps it, the load completes */
	n += a64_mov64(&c[n], 7, FX_LATE_IPA);
	c[n++] = a64_ldr(8, 7);
	c[n++] = a64_str(8, 20);
	/* PSCI SYSTEM_OFF */
	n += a64_mov64(&c[n], 0, 0x84000008);
	c[n++] = A64_SMC;
	c[n++] = A64_B_SELF;

	fx_build_realm(c, n);
	assert_int_equal(RMI(fx_m, RMI_FID_REALM_ACTIVATE, NULL, FX_RD_PA), RMI_SUCCESS);

	/* RSI_VERSION results, stored to MMIO */
	assert_int_equal(fx_enter(&ex, 0, 0), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
	assert_int_equal(ex.esr >> 26, 0x24);    /* data abort from a lower EL */
	assert_true(ex.esr & (1u << 24));        /* ISV */
	assert_true(ex.esr & (1u << 6));         /* WnR */
	assert_int_equal((ex.esr >> 22) & 3, 3); /* 64-bit access */
	assert_int_equal(ex.hpfar, (FX_MMIO_IPA >> 12) << 4);
	assert_int_equal(ex.far, 0);
	assert_int_equal(ex.gprs[0], RSI_SUCCESS);
	assert_int_equal(fx_enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], 0x10001); /* higher revision */

	/* RIM first word */
	struct rmm *rmm = machine_rmm(fx_m);
	uint64_t rim0;
	memcpy(&rim0, rd_of(rmm, granule_from_pa(rmm, FX_RD_PA))->rim, 8);
	assert_int_equal(fx_enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], rim0);

	/* MMIO load: the host answers 41, the realm stores 42 */
	assert_int_equal(fx_enter(&ex, 1, 0), RMI_SUCCESS);
	assert_false(ex.esr & (1u << 6));         /* a read */
	assert_int_equal((ex.esr >> 16) & 31, 0); /* SRT hidden: the RMM writes x5 */
	assert_int_equal(fx_enter(&ex, 1, 41), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], 42);

	/* host call */
	assert_int_equal(fx_enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_HOST_CALL);
	assert_int_equal(ex.imm, 0x77);
	assert_int_equal(ex.gprs[0], 0x1234);
	assert_int_equal(fx_enter(&ex, 0, 0xabcd), RMI_SUCCESS); /* enter.gprs[0] goes to the struct */
	assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
	assert_int_equal(ex.gprs[0], RSI_SUCCESS);
	assert_int_equal(fx_enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], 0xabcd);

	/* stage-2 fault at FX_LATE_IPA: not emulatable, goes to the host */
	assert_int_equal(fx_enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
	assert_int_equal(ex.esr >> 26, 0x24);
	assert_false(ex.esr & (1u << 24)); /* no ISV */
	assert_int_equal(ex.hpfar, (FX_LATE_IPA >> 12) << 4);
	uint64_t magic = 0x5eed5eed5eed5eedULL;
	t_write(fx_m, FX_SRC_PA, &magic, sizeof(magic));
	assert_int_equal(RMI(fx_m, RMI_FID_RTT_DATA_MAP, NULL, FX_RD_PA, FX_LATE_IPA, FX_LATE_IPA + G,
			     (uint64_t)RMI_ADDR_TYPE_SINGLE, FX_LATE_PA | (1ULL << 2)),
			 RMI_SUCCESS);
	assert_int_equal(
		fx_enter(&ex, 2 /* INJECT_SEA: refused, last exit was not at an unprotected IPA */, 0),
		RMI_ERROR_REC);
	assert_int_equal(fx_enter(&ex, 0, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], 0); /* DATA_MAP memory reads as zero */

	/* SYSTEM_OFF */
	assert_int_equal(fx_enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_PSCI);
	assert_int_equal(ex.gprs[0], 0x84000008);
	assert_int_equal(fx_enter(&ex, 0, 0), RMI_ERROR_REALM);

	t_check_gpt_consistent(fx_m, NULL);
	rk_machine_destroy(fx_m);
}

static void test_sea_on_empty(void **state)
{
	uint32_t c[64];
	unsigned int n = 0;
	struct rmi_rec_exit ex;

	(void)state;
	n += a64_mov64(&c[n], 20, FX_MMIO_IPA);
	/* vector table at 0x800: its current-EL sync entry (0x800 + 0x200) stores ESR to MMIO */
	n += a64_mov64(&c[n], 1, 0x800);
	c[n++] = 0xD518C001u; /* msr vbar_el1, x1 */
	n += a64_mov64(&c[n], 2, FX_EMPTY_IPA);
	c[n++] = a64_ldr(3, 2); /* RIPAS EMPTY: SEA */
	c[n++] = A64_B_SELF;
	fx_build_realm(c, n);
	/* the vector: mrs x9, esr_el1; str x9, [x20]; b . */
	uint32_t vec[3] = { 0xD5385209u, a64_str(9, 20), A64_B_SELF };
	(void)vec;
	rk_machine_destroy(fx_m);

	uint32_t all[1024] = { 0 };
	memcpy(all, c, n * 4);
	memcpy(&all[(0x800 + 0x200) / 4], vec, sizeof(vec));
	fx_build_realm(all, 1024);
	assert_int_equal(RMI(fx_m, RMI_FID_REALM_ACTIVATE, NULL, FX_RD_PA), RMI_SUCCESS);
	assert_int_equal(fx_enter(&ex, 0, 0), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
	assert_int_equal((ex.gprs[0] >> 26) & 0x3f, 0x25); /* data abort, current EL */
	assert_int_equal(ex.gprs[0] & 0x3f, 0x10);         /* synchronous external abort */
	rk_machine_destroy(fx_m);
}

static void test_attest_token(void **state)
{
	uint32_t c[256];
	unsigned int n = 0;
	struct rmi_rec_exit ex;
	uint8_t challenge[64];

	(void)state;
	for (int i = 0; i < 64; i++)
		challenge[i] = (uint8_t)(0xc0 + i);
	n += a64_mov64(&c[n], 20, FX_MMIO_IPA);
	n += a64_mov64(&c[n], 0, RSI_FID_ATTEST_TOKEN_CONTINUE); /* before INIT: ERROR_STATE */
	n += a64_mov64(&c[n], 1, FX_HC_IPA);
	n += a64_mov64(&c[n], 2, 0);
	n += a64_mov64(&c[n], 3, 4096);
	c[n++] = A64_SMC;
	c[n++] = a64_str(0, 20);
	n += a64_mov64(&c[n], 0, RSI_FID_ATTEST_TOKEN_INIT);
	for (unsigned int r = 0; r < 8; r++) {
		uint64_t w;
		memcpy(&w, &challenge[8 * r], 8);
		n += a64_mov64(&c[n], 1 + r, w);
	}
	c[n++] = A64_SMC;
	c[n++] = a64_str(0, 20);
	c[n++] = a64_str(1, 20);
	/* CONTINUE into FX_HC_IPA: 100 bytes, then the rest */
	n += a64_mov64(&c[n], 0, RSI_FID_ATTEST_TOKEN_CONTINUE);
	n += a64_mov64(&c[n], 1, FX_HC_IPA);
	n += a64_mov64(&c[n], 2, 0);
	n += a64_mov64(&c[n], 3, 100);
	c[n++] = A64_SMC;
	c[n++] = a64_str(0, 20);
	c[n++] = a64_str(1, 20);
	n += a64_mov64(&c[n], 0, RSI_FID_ATTEST_TOKEN_CONTINUE);
	n += a64_mov64(&c[n], 1, FX_HC_IPA);
	n += a64_mov64(&c[n], 2, 100);
	n += a64_mov64(&c[n], 3, 4096 - 100);
	c[n++] = A64_SMC;
	c[n++] = a64_str(0, 20);
	c[n++] = a64_str(1, 20);
	c[n++] = A64_B_SELF;
	fx_build_realm(c, n);
	assert_int_equal(RMI(fx_m, RMI_FID_REALM_ACTIVATE, NULL, FX_RD_PA), RMI_SUCCESS);

	assert_int_equal(fx_enter(&ex, 0, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], RSI_ERROR_STATE);
	assert_int_equal(fx_enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], RSI_SUCCESS);
	assert_int_equal(fx_enter(&ex, 1, 0), RMI_SUCCESS);
	uint64_t size = ex.gprs[0];
	assert_true(size > 100 && size < 4096);
	assert_int_equal(fx_enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], RSI_INCOMPLETE);
	assert_int_equal(fx_enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], 100);
	assert_int_equal(fx_enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], RSI_SUCCESS);
	assert_int_equal(fx_enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], size - 100);

	/* the test looks inside the realm page, then verifies like a relying party */
	struct rmm *rmm = machine_rmm(fx_m);
	const uint8_t *tok = granule_ptr(rmm, granule_from_pa(rmm, FX_HC_PA));
	struct rk_verify_opts opts = { .cpak = rk_machine_cpak(fx_m),
				       .expected_challenge = challenge,
				       .expected_challenge_len = 64,
				       .expected_rim = rd_of(rmm, granule_from_pa(rmm, FX_RD_PA))->rim,
				       .expected_rim_len = 32 };
	struct rk_token_claims claims;
	struct rk_verify_error err;
	assert_non_null(opts.cpak);
	assert_int_equal(rk_token_verify(tok, size, &opts, &claims, &err), 0);
	assert_int_equal(claims.format, RK_TOKEN_FORMAT_2_0);
	assert_int_equal(claims.platform_signature, RK_SIG_VALID);
	rk_token_claims_release(&claims);
	rk_machine_destroy(fx_m);
}

/* An NS page the realm has used stops being reachable once the host delegates it. */
static void test_ns_page_delegated_under_realm(void **state)
{
	const uint64_t ns_ipa = FX_MMIO_IPA + 0x200000, ns_pa = FX_PARAMS_PA + 8 * G;
	const uint64_t ns_l2 = FX_RD_PA + 80 * G, ns_l3 = FX_RD_PA + 81 * G;
	uint32_t c[64];
	unsigned int n = 0, loop;
	struct rmi_rec_exit ex;
	uint64_t v = 0x1111222233334444ULL;

	(void)state;
	n += a64_mov64(&c[n], 20, FX_MMIO_IPA);
	n += a64_mov64(&c[n], 21, ns_ipa);
	loop = n;
	c[n++] = a64_ldr(5, 21);
	c[n++] = a64_str(5, 20);
	c[n] = 0x14000000u | ((uint32_t)(loop - n) & 0x3ffffff); /* b loop */
	n++;
	fx_build_realm(c, n);
	t_write(fx_m, ns_pa, &v, sizeof(v));
	t_delegate(fx_m, ns_l2, 2);
	assert_int_equal(RMI(fx_m, RMI_FID_RTT_CREATE, NULL, FX_RD_PA, ns_l2, FX_MMIO_IPA, 2ULL),
			 RMI_SUCCESS);
	assert_int_equal(RMI(fx_m, RMI_FID_RTT_CREATE, NULL, FX_RD_PA, ns_l3, ns_ipa, 3ULL), RMI_SUCCESS);
	uint64_t flags = (uint64_t)RMI_ADDR_TYPE_SINGLE | (6ULL << 16) | (3ULL << 19); /* Normal WB, RW */
	assert_int_equal(RMI(fx_m, RMI_FID_RTT_UNPROT_MAP, NULL, FX_RD_PA, ns_ipa, ns_ipa + G, flags,
			     ns_pa | (1ULL << 2) | (1ULL << 63)),
			 RMI_SUCCESS);
	assert_int_equal(RMI(fx_m, RMI_FID_REALM_ACTIVATE, NULL, FX_RD_PA), RMI_SUCCESS);

	/* the realm reads the NS page and stores what it saw */
	assert_int_equal(fx_enter(&ex, 0, 0), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
	assert_int_equal(ex.gprs[0], v);
	assert_int_equal(fx_enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.gprs[0], v);
	/* the host delegates it: the realm now faults instead of reading it */
	t_delegate(fx_m, ns_pa, 1);
	assert_int_equal(fx_enter(&ex, 1, 0), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
	assert_int_equal(ex.esr & 0x3f, 0x28); /* granule protection fault */
	assert_int_equal(ex.hpfar, (ns_ipa >> 12) << 4);
	assert_false(ex.esr & (1u << 6)); /* a load, not the realm's MMIO store */
	rk_machine_destroy(fx_m);
}

/* A host IPI (rk_smc_kick_rec) ends a REC_ENTER long before its time slice. */
struct kick_run {
	struct rmi_rec_exit ex;
	uint64_t x0;
	double secs;
	int done;
};

static void *kick_runner(void *arg)
{
	struct kick_run *k = arg;
	double t0 = t_now();

	k->x0 = fx_enter_once(&k->ex, 0, 0);
	k->secs = t_now() - t0;
	__atomic_store_n(&k->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_host_kick(void **state)
{
	uint32_t code[] = { A64_B_SELF };
	struct kick_run k = { .done = 0 };
	pthread_t t;

	(void)state;
	fx_slice_us = 120000000; /* 120 s: only a kick can end the entry before that */
	fx_build_realm(code, 1);
	fx_slice_us = 0;
	assert_int_equal(RMI(fx_m, RMI_FID_REALM_ACTIVATE, NULL, FX_RD_PA), RMI_SUCCESS);
	rk_smc_kick_rec(fx_m, FX_REC_PA); /* not running: nothing happens, nothing breaks */
	assert_int_equal(pthread_create(&t, NULL, kick_runner, &k), 0);
	/* kick until the entry is over (the first kicks may come before it starts) */
	for (int i = 0; i < 200; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		rk_smc_kick_rec(fx_m, FX_REC_PA);
		if (__atomic_load_n(&k.done, __ATOMIC_ACQUIRE))
			break;
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(k.x0, RMI_SUCCESS);
	assert_int_equal(k.ex.exit_reason, RMI_EXIT_IRQ);
	assert_true(k.secs < 60.0); /* the kick ended it, not the slice (however loaded the machine) */
	rk_machine_destroy(fx_m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_run_and_rec_inputs, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_realm_state, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_not_runnable_psci_pending, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_flags_need_matching_exit, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_rec_running, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_mmio_completion, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_inject_sea_over_mmio, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_esr_sanitised, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_esr_emulatable_hides_rt, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_irq_and_wfi, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_rmm_handled_aborts, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_unprot_map_access, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_unprot_map_read_only, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_unprot_map_not_ns, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_fold_while_running, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_destroy_ns_rtt_while_running, xenv_setup, xenv_teardown),
		cmocka_unit_test(test_rsi_mmio_hostcall_off),
		cmocka_unit_test(test_sea_on_empty),
		cmocka_unit_test(test_not_active),
		cmocka_unit_test(test_attest_token),
		cmocka_unit_test(test_ns_page_delegated_under_realm),
		cmocka_unit_test(test_host_kick),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
