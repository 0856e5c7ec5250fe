/* SPDX-License-Identifier: MIT */
/*
 * PSCI from realms (reference section 15) and RMI_PSCI_COMPLETE (6.4):
 * VERSION, FEATURES of every listed function and of others, CPU_ON,
 * CPU_OFF, CPU_SUSPEND, AFFINITY_INFO, SYSTEM_OFF, SYSTEM_RESET in their
 * SMC32 and SMC64 forms, the PSCI exit records, and every failure condition
 * of PSCI_COMPLETE in order with its effects on both RECs.
 */
#include "exec_util.h"

#define MARK(i) (0x9a9a000000000000ULL | (uint64_t)(i))

static unsigned int entry_idx; /* the secondary entry point of the program below */

/*
 * The RPC program, then a secondary entry point for CPU_ON: it reports x0
 * (the context id), x1, x30 and MPIDR_EL1 by MMIO, then becomes the RPC
 * program with x0 (= its RsiHostCall structure) as structure.
 */
static void psci_realm(struct xr *x, unsigned int nrec)
{
	struct prog p = { .n = 0 };

	xr_create(&env, x, RMI_HASH_SHA_256, NULL);
	p_rpc(&p);
	entry_idx = p.n;
	p_mov(&p, XR_MMIO_REG, XR_MMIO_IPA);
	p_report(&p, 0);
	p_report(&p, 1);
	p_report(&p, 30);
	p_put(&p, a64_mrs(9, A64_MPIDR_EL1));
	p_report(&p, 9);
	p_b_to(&p, 0);
	xr_program(x, &p);
	for (unsigned int i = 0; i < nrec; i++)
		xr_rec(x, i == 0, XR_CODE_IPA);
	xr_activate(x);
	xr_rpc_start(x, 0);
}

/* x0..x3 as given, x4..x17 markers; out = x0..x17 after the call; x4..x17 must be kept */
static uint64_t rpc_keep(struct xr *x, unsigned int i, struct rmi_rec_exit *ex, uint64_t fid, uint64_t a1,
			 uint64_t a2, uint64_t a3)
{
	uint64_t args[18] = { fid, a1, a2, a3 };

	for (unsigned int k = 4; k < 18; k++)
		args[k] = MARK(k);
	return xr_rpc(x, i, args, 18, ex);
}

/* An SMC answered without an exit: x0 */
static uint64_t psci(struct xr *x, unsigned int i, uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct rmi_rec_exit ex;

	assert_int_equal(rpc_keep(x, i, &ex, fid, a1, a2, a3), RMI_SUCCESS);
	if (ex.exit_reason != RMI_EXIT_HOST_CALL) {
		print_error("PSCI 0x%llx: exit reason %llu, expected none\n", (unsigned long long)fid,
			    (unsigned long long)ex.exit_reason);
		fail();
	}
	for (unsigned int k = 4; k < 18; k++)
		assert_int_equal(ex.gprs[k], MARK(k));
	return ex.gprs[0];
}

/* An SMC that exits with PSCI: check the record (gprs[0] = fid, gprs[1] = target, the rest zero) */
static void psci_exit(struct xr *x, unsigned int i, uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3,
		      uint64_t target)
{
	struct rmi_rec_exit ex, e;

	assert_int_equal(rpc_keep(x, i, &ex, fid, a1, a2, a3), RMI_SUCCESS);
	e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_PSCI);
	EX_EQ(e, gprs[0], fid);
	EX_EQ(e, gprs[1], target);
	EX_DONE(e);
}

/* Enter REC i after a PSCI exit: the caller's registers as the realm has them (x0..x17). */
static void psci_result(struct xr *x, unsigned int i, uint64_t out[18])
{
	struct rmi_rec_exit ex;

	assert_int_equal(xr_enter(x, i, 0, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_HOST_CALL);
	memcpy(out, ex.gprs, 18 * sizeof(uint64_t));
	for (unsigned int k = 4; k < 18; k++)
		assert_int_equal(out[k], MARK(k));
}

static uint64_t complete(struct xr *x, uint64_t caller, uint64_t target, uint64_t status)
{
	return RMI(x->m, RMI_FID_PSCI_COMPLETE, NULL, caller, target, status);
}

/* REC i was turned on at the secondary entry with context ctx: check how it starts */
static void expect_started(struct xr *x, unsigned int i, uint64_t ctx)
{
	xr_next_store(x, i, 0, ctx);           /* x0 = context id */
	xr_next_store(x, i, XR_ENTER_MMIO, 0); /* x1 = 0 */
	xr_next_store(x, i, XR_ENTER_MMIO, 0); /* x30 = 0 */
	xr_next_store(x, i, XR_ENTER_MMIO, (1ULL << 31) | rec_index_mpidr(i));
	struct rmi_rec_exit ex;
	assert_int_equal(xr_enter(x, i, XR_ENTER_MMIO, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_HOST_CALL); /* now an RPC realm */
}

/* ---- VERSION, FEATURES, unsupported functions -------------------------------------------- */

static void test_version_features(void **state)
{
	static const uint64_t listed[] = { PSCI_CPU_SUSPEND_32,   PSCI_CPU_SUSPEND_64, PSCI_CPU_OFF,
					   PSCI_CPU_ON_32,        PSCI_CPU_ON_64,      PSCI_AFFINITY_INFO_32,
					   PSCI_AFFINITY_INFO_64, PSCI_SYSTEM_OFF,     PSCI_SYSTEM_RESET,
					   PSCI_FEATURES,         SMCCC_VERSION,       PSCI_VERSION };
	static const uint64_t
		unlisted[] = {
			0x84000005ULL, 0xC4000005ULL, 0x84000006ULL,   0x84000007ULL,
			0xC4000007ULL, 0x8400000BULL, 0x8400000CULL,   0xC400000CULL,
			0x8400000EULL, 0xC400000EULL, 0x84000012ULL,   0xC4000012ULL,
			0x8400001FULL, /* PSCI functions realms do not get */
			0xC4000000ULL, 0xC4000002ULL, 0xC4000008ULL,   0xC4000009ULL,
			0xC400000AULL, /* no SMC64 form */
			0x84000020ULL, 0x80000001ULL, RSI_FID_VERSION, RMI_FID_VERSION,
			0x12345678ULL, 0xffffffffULL,
		};
	struct xr x;

	(void)state;
	psci_realm(&x, 1);
	assert_int_equal(psci(&x, 0, PSCI_VERSION, 0, 0, 0), 0x10001);
	for (unsigned int k = 0; k < sizeof(listed) / sizeof(listed[0]); k++) {
		uint64_t r = psci(&x, 0, PSCI_FEATURES, listed[k], 0, 0);
		if (r != PSCI_RET_SUCCESS) {
			print_error("PSCI_FEATURES(0x%llx) = 0x%llx\n", (unsigned long long)listed[k],
				    (unsigned long long)r);
			fail();
		}
		/* an SMC32 call: the upper half of x1 is ignored */
		assert_int_equal(psci(&x, 0, PSCI_FEATURES, listed[k] | 0xabcd000000000000ULL, 0, 0), 0);
	}
	for (unsigned int k = 0; k < sizeof(unlisted) / sizeof(unlisted[0]); k++) {
		uint64_t r = psci(&x, 0, PSCI_FEATURES, unlisted[k], 0, 0);
		if (r != (uint64_t)PSCI_RET_NOT_SUPPORTED) {
			print_error("PSCI_FEATURES(0x%llx) = 0x%llx, expected NOT_SUPPORTED\n",
				    (unsigned long long)unlisted[k], (unsigned long long)r);
			fail();
		}
	}
	/* calling them: NOT_SUPPORTED, no exit, nothing changes */
	static const uint64_t calls[] = { 0x84000005ULL, 0xC4000007ULL, 0x8400000EULL, 0xC400000EULL,
					  0x84000012ULL, 0xC4000000ULL, 0xC4000002ULL, 0xC4000008ULL,
					  0xC4000009ULL, 0xC400000AULL, 0x8400001FULL, 0xC400001FULL };
	for (unsigned int k = 0; k < sizeof(calls) / sizeof(calls[0]); k++) {
		uint64_t r = psci(&x, 0, calls[k], 1, 0, 0);
		if (r != (uint64_t)PSCI_RET_NOT_SUPPORTED) {
			print_error("PSCI call 0x%llx = 0x%llx, expected NOT_SUPPORTED\n",
				    (unsigned long long)calls[k], (unsigned long long)r);
			fail();
		}
	}
	assert_int_equal(t_realm_state(x.m, x.rd), RMI_REALM_STATE_ACTIVE);
	assert_true(xr_recp(&x, 0)->runnable);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* ---- CPU_ON --------------------------------------------------------------------------------- */

static void test_cpu_on(void **state)
{
	uint64_t out[18];
	struct xr x;

	(void)state;
	psci_realm(&x, 4);
	const uint64_t entry = p_ipa(entry_idx);
	/* the entry point first, then the target, then "self" */
	static const uint64_t badentry[] = { XR_PAR_TOP, XR_PAR_TOP + 0x1000, XR_IPA_TOP, ~0ULL };
	for (unsigned int k = 0; k < 4; k++) {
		assert_int_equal(psci(&x, 0, PSCI_CPU_ON_64, 1, badentry[k], 0), PSCI_RET_INVALID_ADDRESS);
		assert_int_equal(psci(&x, 0, PSCI_CPU_ON_64, 99, badentry[k], 0), PSCI_RET_INVALID_ADDRESS);
		assert_int_equal(psci(&x, 0, PSCI_CPU_ON_64, 0, badentry[k], 0), PSCI_RET_INVALID_ADDRESS);
	}
	static const uint64_t badtarget[] = {
		4, 5, 0x10, 0x100, 0x10000, 1ULL << 32, 1ULL << 40, 0x8000000000000001ULL, 0xf, 0xffffffffULL
	};
	for (unsigned int k = 0; k < sizeof(badtarget) / sizeof(badtarget[0]); k++) {
		uint64_t r = psci(&x, 0, PSCI_CPU_ON_64, badtarget[k], entry, 0);
		if (r != (uint64_t)PSCI_RET_INVALID_PARAMETERS) {
			print_error("CPU_ON(0x%llx) = 0x%llx, expected INVALID_PARAMS\n",
				    (unsigned long long)badtarget[k], (unsigned long long)r);
			fail();
		}
	}
	assert_int_equal(psci(&x, 0, PSCI_CPU_ON_64, 0, entry, 0), PSCI_RET_ALREADY_ON);
	assert_int_equal(psci(&x, 0, PSCI_CPU_ON_64, 1ULL << 31, entry, 0),
			 PSCI_RET_ALREADY_ON); /* MPIDR_EL1 RES1 */
	assert_int_equal(psci(&x, 0, PSCI_CPU_ON_32, 0, entry, 0), PSCI_RET_ALREADY_ON);
	for (unsigned int i = 1; i < 4; i++)
		assert_false(xr_recp(&x, i)->runnable);

	/* another REC: a PSCI exit with the FID and the target; the entry point and context stay in the RMM */
	psci_exit(&x, 0, PSCI_CPU_ON_64, 1, entry, XR_HC_IPA + 0x100, 1);
	assert_int_equal(xr_enter1(&x, 0, 0, NULL, &(struct rmi_rec_exit){ 0 }), RMI_ERROR_REC); /* pending */
	assert_int_equal(xr_enter1(&x, 1, 0, NULL, &(struct rmi_rec_exit){ 0 }),
			 RMI_ERROR_REC); /* still off */
	assert_int_equal(complete(&x, x.rec[0], x.rec[1], PSCI_RET_SUCCESS), RMI_SUCCESS);
	psci_result(&x, 0, out);
	assert_int_equal(out[0], PSCI_RET_SUCCESS);
	assert_int_equal(out[1], 0); /* x1..x3 zeroed */
	assert_int_equal(out[2], 0);
	assert_int_equal(out[3], 0);
	expect_started(&x, 1, XR_HC_IPA + 0x100);

	/* the SMC32 form: target, entry point and context are 32-bit (upper halves ignored) */
	psci_exit(&x, 0, PSCI_CPU_ON_32, 0xffffffff00000002ULL, 0x5a5a5a5a00000000ULL | entry,
		  0x1234567800003200ULL, 2);
	assert_int_equal(complete(&x, x.rec[0], x.rec[2], PSCI_RET_SUCCESS), RMI_SUCCESS);
	psci_result(&x, 0, out);
	assert_int_equal(out[0], PSCI_RET_SUCCESS);
	expect_started(&x, 2, XR_HC_IPA + 0x200);

	/* an REC already on: the host says SUCCESS, the caller gets ALREADY_ON; DENIED is refused */
	psci_exit(&x, 0, PSCI_CPU_ON_64, 0x80000001ULL, entry, 0, 0x80000001ULL);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, x.rec[0], x.rec[1], PSCI_RET_DENIED);
	assert_int_equal(complete(&x, x.rec[0], x.rec[1], PSCI_RET_SUCCESS), RMI_SUCCESS);
	psci_result(&x, 0, out);
	assert_int_equal(out[0], PSCI_RET_ALREADY_ON);
	/* the target keeps running where it was (an RPC call works) */
	XR_CALL(&x, 1, out, RSI_FID_VERSION, 0x10000);
	assert_int_equal(out[0], RSI_SUCCESS);

	/* an REC that is off, host says DENIED: the caller gets DENIED and the target stays off */
	psci_exit(&x, 0, PSCI_CPU_ON_64, 3, entry, XR_HC_IPA + 0x300, 3);
	assert_int_equal(complete(&x, x.rec[0], x.rec[3], PSCI_RET_DENIED), RMI_SUCCESS);
	psci_result(&x, 0, out);
	assert_int_equal(out[0], PSCI_RET_DENIED);
	assert_int_equal(out[1], 0);
	assert_false(xr_recp(&x, 3)->runnable);
	assert_int_equal(xr_enter1(&x, 3, 0, NULL, &(struct rmi_rec_exit){ 0 }), RMI_ERROR_REC);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* ---- CPU_OFF, CPU_SUSPEND, AFFINITY_INFO ------------------------------------------------------ */

static void test_cpu_off_suspend_affinity(void **state)
{
	struct rmi_rec_exit ex;
	uint64_t out[18];
	struct xr x;

	(void)state;
	psci_realm(&x, 3);
	const uint64_t entry = p_ipa(entry_idx);

	/* AFFINITY_INFO: lowest level must be 0, target must exist, self is ON without an exit */
	assert_int_equal(psci(&x, 0, PSCI_AFFINITY_INFO_64, 1, 1, 0), PSCI_RET_INVALID_PARAMETERS);
	assert_int_equal(psci(&x, 0, PSCI_AFFINITY_INFO_64, 0, 3, 0), PSCI_RET_INVALID_PARAMETERS);
	assert_int_equal(psci(&x, 0, PSCI_AFFINITY_INFO_64, 3, 0, 0), PSCI_RET_INVALID_PARAMETERS);
	assert_int_equal(psci(&x, 0, PSCI_AFFINITY_INFO_64, 0x10, 0, 0), PSCI_RET_INVALID_PARAMETERS);
	assert_int_equal(psci(&x, 0, PSCI_AFFINITY_INFO_64, 0, 0, 0), 0 /* ON */);
	assert_int_equal(psci(&x, 0, PSCI_AFFINITY_INFO_32, 0x80000000ULL, 0, 0), 0);
	/* SMC32: the upper halves of the target and the level are ignored */
	assert_int_equal(psci(&x, 0, PSCI_AFFINITY_INFO_32, 0xffffffff00000000ULL, 0xffffffff00000000ULL, 0),
			 0);
	/* another REC: an exit; ON or OFF comes from PSCI_COMPLETE (OFF: never started) */
	psci_exit(&x, 0, PSCI_AFFINITY_INFO_64, 2, 0, 0, 2);
	assert_int_equal(complete(&x, x.rec[0], x.rec[2], PSCI_RET_SUCCESS), RMI_SUCCESS);
	psci_result(&x, 0, out);
	assert_int_equal(out[0], 1 /* OFF */);
	assert_int_equal(out[1], 0);
	assert_int_equal(out[2], 0);

	/* turn REC 1 on, ask again: ON */
	psci_exit(&x, 0, PSCI_CPU_ON_64, 1, entry, XR_HC_IPA + 0x100, 1);
	assert_int_equal(complete(&x, x.rec[0], x.rec[1], PSCI_RET_SUCCESS), RMI_SUCCESS);
	psci_result(&x, 0, out);
	expect_started(&x, 1, XR_HC_IPA + 0x100);
	psci_exit(&x, 0, PSCI_AFFINITY_INFO_32, 0xffffffff00000001ULL, 0, 0, 1);
	assert_int_equal(complete(&x, x.rec[0], x.rec[1], PSCI_RET_SUCCESS), RMI_SUCCESS);
	psci_result(&x, 0, out);
	assert_int_equal(out[0], 0 /* ON */);

	/* CPU_SUSPEND: an exit with only the FID; the realm gets SUCCESS and runs on */
	psci_exit(&x, 1, PSCI_CPU_SUSPEND_64, 0x10000, entry, 0x77, 0);
	psci_result(&x, 1, out);
	assert_int_equal(out[0], PSCI_RET_SUCCESS);
	psci_exit(&x, 1, PSCI_CPU_SUSPEND_32, 0, 0, 0, 0);
	psci_result(&x, 1, out);
	assert_int_equal(out[0], PSCI_RET_SUCCESS);

	/* CPU_OFF: an exit with only the FID; the REC cannot be entered any more */
	psci_exit(&x, 1, PSCI_CPU_OFF, 0, 0, 0, 0);
	assert_false(xr_recp(&x, 1)->runnable);
	assert_int_equal(xr_enter1(&x, 1, 0, NULL, &ex), RMI_ERROR_REC);
	psci_exit(&x, 0, PSCI_AFFINITY_INFO_64, 1, 0, 0, 1);
	assert_int_equal(complete(&x, x.rec[0], x.rec[1], PSCI_RET_SUCCESS), RMI_SUCCESS);
	psci_result(&x, 0, out);
	assert_int_equal(out[0], 1 /* OFF */);
	/* and on again, from the entry point with the new context */
	psci_exit(&x, 0, PSCI_CPU_ON_64, 1, entry, XR_HC_IPA + 0x100, 1);
	assert_int_equal(complete(&x, x.rec[0], x.rec[1], PSCI_RET_SUCCESS), RMI_SUCCESS);
	psci_result(&x, 0, out);
	assert_int_equal(out[0], PSCI_RET_SUCCESS);
	expect_started(&x, 1, XR_HC_IPA + 0x100);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* ---- SYSTEM_OFF, SYSTEM_RESET ----------------------------------------------------------------- */

static void system_off(uint64_t fid)
{
	struct rmi_rec_exit ex;
	struct xr x;

	psci_realm(&x, 2);
	psci_exit(&x, 0, PSCI_CPU_ON_64, 1, p_ipa(entry_idx), XR_HC_IPA + 0x100, 1);
	assert_int_equal(complete(&x, x.rec[0], x.rec[1], PSCI_RET_SUCCESS), RMI_SUCCESS);
	expect_started(&x, 1, XR_HC_IPA + 0x100);
	/* the SMC64 FID does not exist for these: nothing happens */
	assert_int_equal(psci(&x, 1, fid | 0x40000000ULL, 0, 0, 0), PSCI_RET_NOT_SUPPORTED);
	assert_int_equal(t_realm_state(x.m, x.rd), RMI_REALM_STATE_ACTIVE);
	/* REC 1 turns the system off: an exit with the FID; then no REC of the realm can run */
	psci_exit(&x, 1, fid, 0x1234, 0x5678, 0, 0);
	assert_int_equal(t_realm_state(x.m, x.rd), RMI_REALM_STATE_SYSTEM_OFF);
	for (unsigned int i = 0; i < 2; i++) {
		assert_int_equal(xr_enter1(&x, i, 0, NULL, &ex), RMI_ERROR_REALM);
		assert_int_equal(xr_enter1(&x, i, XR_ENTER_MMIO, NULL, &ex), RMI_ERROR_REALM);
	}
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

static void test_system_off(void **state)
{
	(void)state;
	system_off(PSCI_SYSTEM_OFF);
}

static void test_system_reset(void **state)
{
	(void)state;
	system_off(PSCI_SYSTEM_RESET);
}

/* ---- RMI_PSCI_COMPLETE: every condition, in order ------------------------------------------- */

static void test_psci_complete_conditions(void **state)
{
	struct xr_blocked b;
	uint64_t out[18];
	struct xr x, y;

	(void)state;
	psci_realm(&x, 3);
	psci_realm(&y, 2);
	const uint64_t entry = p_ipa(entry_idx);
	uint64_t r0 = x.rec[0], r1 = x.rec[1], r2 = x.rec[2];
	uint64_t data = t_raw_entry(x.m, x.rd, XR_CODE_IPA, 3, NULL) & S2_DESC_OA_MASK;
	psci_exit(&x, 0, PSCI_CPU_ON_64, 1, entry, XR_HC_IPA + 0x100, 1);

	/* 1: alignment of either REC */
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, r0 + 8, r1, PSCI_RET_SUCCESS);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, r0, r1 + 0x800, PSCI_RET_SUCCESS);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, r0 + 1, r1 + 1, 7ULL);
	/* 2: not RECs, or the same REC twice */
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, x.rd, r1, PSCI_RET_SUCCESS);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, r0, x.rd, PSCI_RET_SUCCESS);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, r0, data, PSCI_RET_SUCCESS);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, r0, x.run[1], PSCI_RET_SUCCESS);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, 0x1000ULL, r1, PSCI_RET_SUCCESS);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, r0, r0, PSCI_RET_SUCCESS);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, r1, r1, PSCI_RET_SUCCESS);
	/* 3: the calling REC is running (a running REC has no request pending: REC 0 of realm y) */
	xr_block_start(&b, &y, 0);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, y.rec[0], y.rec[1], PSCI_RET_SUCCESS);
	xr_block_end(&b);
	/* 4: no request pending */
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, r1, r0, PSCI_RET_SUCCESS);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, r2, r1, PSCI_RET_SUCCESS);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, y.rec[0], y.rec[1], PSCI_RET_SUCCESS);
	/* 5: different realms */
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, r0, y.rec[1], PSCI_RET_SUCCESS);
	/* 6: not the REC the request named */
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, r0, r2, PSCI_RET_SUCCESS);
	/* 7: CPU_ON status other than SUCCESS or DENIED */
	static const uint64_t badst[] = { PSCI_RET_ALREADY_ON,
					  PSCI_RET_NOT_SUPPORTED,
					  PSCI_RET_INVALID_PARAMETERS,
					  PSCI_RET_INVALID_ADDRESS,
					  1,
					  0xfffffffdULL,
					  0x100000000ULL };
	for (unsigned int k = 0; k < sizeof(badst) / sizeof(badst[0]); k++)
		RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, r0, r1, badst[k]);
	/* all refused: REC 0 still waits, REC 1 still off */
	assert_int_equal(xr_recp(&x, 0)->pending, REC_PENDING_PSCI);
	assert_false(xr_recp(&x, 1)->runnable);
	assert_int_equal(complete(&x, r0, r1, PSCI_RET_SUCCESS), RMI_SUCCESS);
	/* done: a second completion has nothing to complete */
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, r0, r1, PSCI_RET_SUCCESS);
	psci_result(&x, 0, out);
	assert_int_equal(out[0], PSCI_RET_SUCCESS);
	/* 8: DENIED for a target that is on */
	psci_exit(&x, 0, PSCI_CPU_ON_64, 1, entry, 0, 1);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, r0, r1, PSCI_RET_DENIED);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, r0, r2, PSCI_RET_DENIED); /* 6 first */
	assert_int_equal(complete(&x, r0, r1, PSCI_RET_SUCCESS), RMI_SUCCESS);
	psci_result(&x, 0, out);
	assert_int_equal(out[0], PSCI_RET_ALREADY_ON);
	/* 9: AFFINITY_INFO status other than SUCCESS */
	psci_exit(&x, 0, PSCI_AFFINITY_INFO_64, 2, 0, 0, 2);
	static const uint64_t affbad[] = { PSCI_RET_DENIED, PSCI_RET_NOT_SUPPORTED, 1, 0x100000000ULL };
	for (unsigned int k = 0; k < sizeof(affbad) / sizeof(affbad[0]); k++)
		RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, r0, r2, affbad[k]);
	RMI_FAIL(x.m, RMI_ERROR_INPUT, RMI_FID_PSCI_COMPLETE, r0, r1, PSCI_RET_SUCCESS); /* 6 */
	assert_int_equal(complete(&x, r0, r2, PSCI_RET_SUCCESS), RMI_SUCCESS);
	psci_result(&x, 0, out);
	assert_int_equal(out[0], 1 /* OFF */);
	struct xr *xs[] = { &x, &y };
	xr_teardown(xs, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_version_features, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_cpu_on, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_cpu_off_suspend_affinity, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_system_off, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_system_reset, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_psci_complete_conditions, xenv_setup, xenv_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
