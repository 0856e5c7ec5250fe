/* SPDX-License-Identifier: MIT */
/*
 * RSI conformance (reference section 14, 16.4) from a running realm: the
 * "RPC" realm of tests/support/exec_util.h issues each SMC the test asks for
 * and the results come back in the next HOST_CALL exit. VERSION, FEATURES,
 * MEASUREMENT_READ (RIM recomputed here with OpenSSL) and MEASUREMENT_EXTEND
 * (REMs recomputed per 16.4, SHA-256/512/384), REALM_CONFIG, IPA_STATE_GET,
 * HOST_CALL (round trip of all 31 registers, input errors, stage-2 aborts
 * emulated to the host), unknown FIDs and SMCCC_VERSION.
 * IPA_STATE_SET is in test_exec_ripas.c, the attestation token in
 * test_exec_attest.c.
 */
#include <openssl/evp.h>

#include "exec_util.h"
#include "realmkit/arch/gic.h"

#define LATE_IPA 0x4000ULL    /* RIPAS RAM, unmapped */
#define HCP_IPA 0x6000ULL     /* a page of RsiHostCall structures with a pattern */
#define CFG_IPA 0x7000ULL     /* RsiRealmConfig target */
#define DESTR_IPA 0x8000ULL   /* RIPAS DESTROYED (mapped, then unmapped) */
#define EMPTY_IPA 0x100000ULL /* RIPAS EMPTY */
#define AEMPTY_IPA 0x101000ULL

#define MARK(i) (0x4d41524b00000000ULL | (uint64_t)(i)) /* x4..x17 markers */

/* Issue fid(a1, a2, a3) with x4..x17 = markers; out = x0..x17; check x4..x17 are kept. */
static void call_keep(struct xr *x, uint64_t out[18], uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3)
{
	uint64_t args[18] = { fid, a1, a2, a3 };

	for (unsigned int i = 4; i < 18; i++)
		args[i] = MARK(i);
	xr_call(x, 0, args, 18, out);
	for (unsigned int i = 4; i < 18; i++)
		assert_int_equal(out[i], MARK(i));
}

/* ---- VERSION, FEATURES ------------------------------------------------------------ */

static void test_version_features(void **state)
{
	static const uint64_t bad[] = { 0,       0x1,     0xffff,        0x10002,        0x1ffff,
					0x20000, 0x20001, 0xffffffffULL, 0x100010001ULL, ~0ULL };
	uint64_t out[18];
	struct xr x;

	(void)state;
	xr_rpc_realm(&env, &x, RMI_HASH_SHA_256, 1);
	xr_rpc_start(&x, 0);
	/* 1.0 and 1.1 are implemented: SUCCESS, x1 = the revision asked for, x2 = 1.1 */
	call_keep(&x, out, RSI_FID_VERSION, 0x10000, 0, 0);
	assert_int_equal(out[0], RSI_SUCCESS);
	assert_int_equal(out[1], 0x10000);
	assert_int_equal(out[2], 0x10001);
	call_keep(&x, out, RSI_FID_VERSION, 0x10001, 0, 0);
	assert_int_equal(out[0], RSI_SUCCESS);
	assert_int_equal(out[1], 0x10001);
	assert_int_equal(out[2], 0x10001);
	/* anything else: ERROR_INPUT, x1 = x2 = the highest revision */
	for (unsigned int k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		call_keep(&x, out, RSI_FID_VERSION, bad[k], 0, 0);
		assert_int_equal(out[0], RSI_ERROR_INPUT);
		assert_int_equal(out[1], 0x10001);
		assert_int_equal(out[2], 0x10001);
	}
	/* the SMCCC SVE hint bit is ignored */
	call_keep(&x, out, RSI_FID_VERSION | SMC_FID_SVE_HINT, 0x10001, 0, 0);
	assert_int_equal(out[0], RSI_SUCCESS);
	assert_int_equal(out[1], 0x10001);
	/* FEATURES: no DA, no MRO, no ATS; every other register index reads 0 */
	static const uint64_t idx[] = { 0, 1, 2, 0xffffffffULL, ~0ULL };
	for (unsigned int k = 0; k < sizeof(idx) / sizeof(idx[0]); k++) {
		call_keep(&x, out, RSI_FID_FEATURES, idx[k], 0x1234, 0x5678);
		assert_int_equal(out[0], RSI_SUCCESS);
		assert_int_equal(out[1], 0);
	}
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* ---- MEASUREMENT_READ / MEASUREMENT_EXTEND ---------------------------------------------- */

/* The tests' own REC descriptor (16.3) for a runnable REC with these params. */
static void ref_rim_extend_rec(unsigned int algo, uint8_t rim[64], uint64_t flags, uint64_t pc,
			       const uint64_t g8[8])
{
	static uint8_t img[4096];
	uint8_t d[256];

	memset(img, 0, sizeof(img));
	memcpy(&img[0x000], &flags, 8);
	memcpy(&img[0x200], &pc, 8);
	memcpy(&img[0x300], g8, 64);
	memset(d, 0, sizeof(d));
	d[0] = 1;
	d[8] = 0x00;
	d[9] = 0x01; /* len = 0x100, little endian */
	memcpy(&d[0x10], rim, 64);
	t_ref_hash(algo, img, sizeof(img), &d[0x50]);
	t_ref_hash(algo, d, sizeof(d), rim);
}

/* The RIM of an RPC realm built by xr_rpc_realm(): REALM_CREATE, three pages, REC 0. */
static void ref_rpc_rim(unsigned int algo, uint8_t rim[64])
{
	static uint32_t page[1024];
	struct prog p = { .n = 0 };
	uint64_t g8[8] = { XR_HC_IPA };

	t_ref_rim_init(algo, 0, XR_S2SZ, 0, 5, 3, 0, rim);
	p_rpc(&p);
	memset(page, 0, sizeof(page));
	memcpy(page, p.w, p.n * 4);
	t_ref_rim_extend_data(algo, rim, XR_CODE_IPA, 1, (const uint8_t *)page);
	xr_vector_words(page);
	t_ref_rim_extend_data(algo, rim, XR_VEC_IPA, 1, (const uint8_t *)page);
	memset(page, 0, sizeof(page));
	t_ref_rim_extend_data(algo, rim, XR_HC_IPA, 0, (const uint8_t *)page);
	ref_rim_extend_rec(algo, rim, 1, XR_CODE_IPA, g8);
}

static size_t hlen(unsigned int algo)
{
	return algo == RMI_HASH_SHA_256 ? 32 : algo == RMI_HASH_SHA_512 ? 64 : 48;
}

/* MEASUREMENT_READ(i): the 64 bytes of x1..x8 */
static void read_slot(struct xr *x, uint64_t i, uint8_t m[64])
{
	uint64_t out[18];

	XR_CALL(x, 0, out, RSI_FID_MEASUREMENT_READ, i);
	assert_int_equal(out[0], RSI_SUCCESS);
	memcpy(m, &out[1], 64);
}

static void check_slots(struct xr *x, const uint8_t rim[64], uint8_t rem[4][64])
{
	uint8_t m[64];

	read_slot(x, 0, m);
	assert_memory_equal(m, rim, 64);
	for (unsigned int i = 1; i <= 4; i++) {
		read_slot(x, i, m);
		assert_memory_equal(m, rem[i - 1], 64);
	}
}

/* The tests' own REM extension (16.4): REM = H(REM[0:hash_len] || value[0:size]). */
static void ref_rem_extend(unsigned int algo, uint8_t rem[64], const uint8_t *value, size_t size)
{
	uint8_t buf[128];
	size_t hl = hlen(algo);

	memcpy(buf, rem, hl);
	memcpy(buf + hl, value, size);
	t_ref_hash(algo, buf, hl + size, rem);
}

static void measurements(unsigned int algo)
{
	static const uint64_t sizes[] = { 32, 0, 64, 1, 17, 48, 63 };
	uint8_t rim[64], rem[4][64], value[64];
	uint64_t out[18], args[11];
	struct xr x;

	xr_rpc_realm(&env, &x, algo, 1);
	xr_rpc_start(&x, 0);
	/* the RIM the realm reads is the one the test computes; REMs start as zeros */
	ref_rpc_rim(algo, rim);
	for (size_t b = hlen(algo); b < 64; b++)
		assert_int_equal(rim[b], 0);
	memset(rem, 0, sizeof(rem));
	check_slots(&x, rim, rem);
	assert_memory_equal(t_rim(x.m, x.rd), rim, 64);

	/* extend every REM slot, several times, with sizes from 0 to 64; bytes past size are ignored */
	for (unsigned int round = 0; round < sizeof(sizes) / sizeof(sizes[0]); round++)
		for (unsigned int i = 1; i <= 4; i++) {
			for (unsigned int b = 0; b < 64; b++)
				value[b] = (uint8_t)(b * 7 + i * 31 + round);
			args[0] = RSI_FID_MEASUREMENT_EXTEND;
			args[1] = i;
			args[2] = sizes[round];
			memcpy(&args[3], value, 64);
			xr_call(&x, 0, args, 11, out);
			assert_int_equal(out[0], RSI_SUCCESS);
			ref_rem_extend(algo, rem[i - 1], value, sizes[round]);
		}
	check_slots(&x, rim, rem);

	/* refused: index 0 (the RIM) and 5, size 65 and huge; nothing changes */
	static const uint64_t badidx[][2] = { { 0, 32 },  { 5, 32 },    { ~0ULL, 32 },         { 1, 65 },
					      { 4, 128 }, { 2, ~0ULL }, { 1ULL << 32 | 1, 32 } };
	for (unsigned int k = 0; k < sizeof(badidx) / sizeof(badidx[0]); k++) {
		memset(args, 0x11, sizeof(args));
		args[0] = RSI_FID_MEASUREMENT_EXTEND;
		args[1] = badidx[k][0];
		args[2] = badidx[k][1];
		xr_call(&x, 0, args, 11, out);
		assert_int_equal(out[0], RSI_ERROR_INPUT);
	}
	/* MEASUREMENT_READ past the last slot */
	static const uint64_t badread[] = { 5, 6, 0x100000000ULL, ~0ULL };
	for (unsigned int k = 0; k < sizeof(badread) / sizeof(badread[0]); k++) {
		XR_CALL(&x, 0, out, RSI_FID_MEASUREMENT_READ, badread[k]);
		assert_int_equal(out[0], RSI_ERROR_INPUT);
	}
	check_slots(&x, rim, rem);
	/* the RMM's own copy agrees */
	for (unsigned int i = 0; i < 4; i++)
		assert_memory_equal(t_rd(x.m, x.rd)->rem[i], rem[i], 64);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

static void test_measurements_sha256(void **state)
{
	(void)state;
	measurements(RMI_HASH_SHA_256);
}

static void test_measurements_sha512(void **state)
{
	(void)state;
	measurements(RMI_HASH_SHA_512);
}

static void test_measurements_sha384(void **state)
{
	(void)state;
	measurements(RMI_HASH_SHA_384);
}

/* ---- REALM_CONFIG ------------------------------------------------------------------- */

static void realm_config(unsigned int algo)
{
	static uint8_t fill[4096];
	struct rmi_rec_exit ex, e;
	uint8_t rpv[64];
	uint64_t out[18];
	struct prog p = { .n = 0 };
	struct xr x;

	for (int i = 0; i < 64; i++)
		rpv[i] = (uint8_t)(0x3c ^ (i * 5) ^ algo);
	memset(fill, 0xaa, sizeof(fill));
	xr_create(&env, &x, algo, rpv);
	p_rpc(&p);
	xr_program(&x, &p);
	uint64_t cfg = xr_page(&x, CFG_IPA, fill, RMI_NO_MEASURE_CONTENT);
	xr_page(&x, DESTR_IPA, fill, RMI_NO_MEASURE_CONTENT);
	xr_map(&x, AEMPTY_IPA);
	xr_rec(&x, true, XR_CODE_IPA);
	xr_activate(&x);
	xr_unmap(&x, DESTR_IPA);
	xr_rpc_start(&x, 0);

	/* refused: misaligned, outside the PAR or the IPA space, RIPAS EMPTY; the page is untouched */
	static const uint64_t bad[] = {
		CFG_IPA + 8, CFG_IPA + 0x800,   CFG_IPA + 0xfff, XR_PAR_TOP, XR_PAR_TOP + CFG_IPA,
		XR_IPA_TOP,  ~0ULL & ~0xfffULL, EMPTY_IPA,       AEMPTY_IPA
	};
	for (unsigned int k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		XR_CALL(&x, 0, out, RSI_FID_REALM_CONFIG, bad[k]);
		assert_int_equal(out[0], RSI_ERROR_INPUT);
	}
	assert_memory_equal(t_gptr(x.m, cfg), fill, 4096);

	/* the structure, every reserved byte zero */
	XR_CALL(&x, 0, out, RSI_FID_REALM_CONFIG, CFG_IPA);
	assert_int_equal(out[0], RSI_SUCCESS);
	struct rsi_realm_config c;
	memcpy(&c, t_gptr(x.m, cfg), sizeof(c));
	assert_int_equal(c.ipa_width, XR_S2SZ);
	assert_int_equal(c.hash_algo, algo); /* SHA-384 is 2 (decision: reported correctly) */
	assert_memory_equal(c.rpv, rpv, 64);
	/* gicv3_vtr: the host CPUs' ICH_VTR_EL2 (4 list registers, 5 priority and preemption bits,
	 * 16-bit vINTIDs, A3V, nV4) */
	uint64_t vtr = 0;
	assert_int_equal(rk_hcpu_ich_read(x.m, 0, ICH_VTR_EL2, &vtr), 0);
	assert_int_equal(vtr, 0x90300003ULL);
	assert_int_equal(c.gicv3_vtr, vtr);
	c.ipa_width = 0;
	c.hash_algo = 0;
	c.gicv3_vtr = 0;
	memset(c.rpv, 0, sizeof(c.rpv));
	xr_assert_zero(&c, sizeof(c), "RsiRealmConfig"); /* no planes, no ATS plane */

	/* RIPAS RAM without a mapping: a stage-2 data abort emulated to the host; after DATA_MAP the call is retried */
	assert_int_equal(xr_rpc(&x, 0, XR_ARGS(RSI_FID_REALM_CONFIG, LATE_IPA), &ex), RMI_SUCCESS);
	e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_SYNC);
	EX_EQ(e, esr, ESR_EC(ESR_EC_DABT_LOW) | ESR_FSC_TRANS(3));
	EX_EQ(e, hpfar, (LATE_IPA >> 12) << 4);
	EX_DONE(e);
	ex.exit_reason = ~0ULL;
	assert_int_equal(xr_enter1(&x, 0, XR_ENTER_SEA, NULL, &ex),
			 RMI_ERROR_REC);                              /* not an unprotected abort */
	assert_int_equal(xr_enter(&x, 0, 0, NULL, &ex), RMI_SUCCESS); /* not mapped yet: again */
	assert_int_equal(ex.hpfar, (LATE_IPA >> 12) << 4);
	uint64_t late = xr_map(&x, LATE_IPA);
	assert_int_equal(xr_enter(&x, 0, 0, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_HOST_CALL);
	assert_int_equal(ex.gprs[0], RSI_SUCCESS);
	assert_memory_equal(t_gptr(x.m, late), t_gptr(x.m, cfg), 4096);
	/* RIPAS DESTROYED: the same exit; mapping it again does not make it RAM */
	assert_int_equal(xr_rpc(&x, 0, XR_ARGS(RSI_FID_REALM_CONFIG, DESTR_IPA), &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
	assert_int_equal(ex.esr, ESR_EC(ESR_EC_DABT_LOW) | ESR_FSC_TRANS(3));
	assert_int_equal(ex.hpfar, (DESTR_IPA >> 12) << 4);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

static void test_realm_config_sha256(void **state)
{
	(void)state;
	realm_config(RMI_HASH_SHA_256);
}

static void test_realm_config_sha512(void **state)
{
	(void)state;
	realm_config(RMI_HASH_SHA_512);
}

static void test_realm_config_sha384(void **state)
{
	(void)state;
	realm_config(RMI_HASH_SHA_384);
}

/* ---- IPA_STATE_GET ------------------------------------------------------------------- */

static void state_get(struct xr *x, uint64_t base, uint64_t end, uint64_t top, uint64_t ripas)
{
	uint64_t out[18];

	XR_CALL(x, 0, out, RSI_FID_IPA_STATE_GET, base, end);
	if (out[0] != RSI_SUCCESS || out[1] != top || out[2] != ripas) {
		print_error(
			"IPA_STATE_GET(0x%llx, 0x%llx): x0 %llu x1 0x%llx x2 %llu, expected top 0x%llx ripas %llu\n",
			(unsigned long long)base, (unsigned long long)end, (unsigned long long)out[0],
			(unsigned long long)out[1], (unsigned long long)out[2], (unsigned long long)top,
			(unsigned long long)ripas);
		fail();
	}
}

static void test_ipa_state_get(void **state)
{
	struct prog p = { .n = 0 };
	uint64_t out[18];
	struct xr x;

	(void)state;
	/*
	 * [0, 0x10000) RAM, [0x10000, 0x30000) EMPTY, [0x30000, 0x40000) RAM,
	 * 0x50000 DESTROYED, 0x101000 ASSIGNED EMPTY, [0x1f0000, 0x210000) RAM
	 * across two L3 tables, everything else EMPTY.
	 */
	xr_create(&env, &x, RMI_HASH_SHA_256, NULL);
	p_rpc(&p);
	xr_program(&x, &p);
	xr_init_ripas(&x, 0x30000, 0x40000);
	xr_page(&x, 0x50000, NULL, RMI_NO_MEASURE_CONTENT);
	xr_map(&x, AEMPTY_IPA);
	t_rtt_to(x.m, x.rd, 0x200000, 3, &env.pool);
	xr_init_ripas(&x, 0x1f0000, 0x210000);
	xr_rec(&x, true, XR_CODE_IPA);
	xr_activate(&x);
	xr_unmap(&x, 0x50000);
	xr_rpc_start(&x, 0);

	state_get(&x, 0, 0x10000, 0x10000, RMI_RIPAS_RAM);
	state_get(&x, 0, 0x20000, 0x10000, RMI_RIPAS_RAM);
	state_get(&x, 0x4000, 0x5000, 0x5000, RMI_RIPAS_RAM);
	state_get(&x, 0x10000, 0x30000, 0x30000, RMI_RIPAS_EMPTY);
	state_get(&x, 0x10000, 0x40000, 0x30000, RMI_RIPAS_EMPTY);
	state_get(&x, 0x30000, XR_PAR_TOP, 0x40000, RMI_RIPAS_RAM);
	state_get(&x, 0x40000, XR_PAR_TOP, 0x50000, RMI_RIPAS_EMPTY);
	state_get(&x, 0x50000, 0x60000, 0x51000, RMI_RIPAS_DESTROYED);
	state_get(&x, 0x51000, 0x1f0000, 0x1f0000, RMI_RIPAS_EMPTY); /* ASSIGNED EMPTY counts as EMPTY */
	state_get(&x, AEMPTY_IPA, AEMPTY_IPA + G, AEMPTY_IPA + G, RMI_RIPAS_EMPTY);
	state_get(&x, 0x1f0000, 0x400000, 0x210000, RMI_RIPAS_RAM);       /* across two leaf tables */
	state_get(&x, 0x210000, 1ULL << 30, 1ULL << 30, RMI_RIPAS_EMPTY); /* L3, L2 and L1 entries */
	state_get(&x, 0x210000, XR_PAR_TOP, XR_PAR_TOP, RMI_RIPAS_EMPTY);
	state_get(&x, XR_PAR_TOP - G, XR_PAR_TOP, XR_PAR_TOP, RMI_RIPAS_EMPTY);
	/* refused: misaligned, empty or inverted ranges, beyond the PAR */
	static const uint64_t bad[][2] = {
		{ 0x10, 0x10000 },  { 0, 0x10008 },           { 0x1000, 0x1000 },
		{ 0x2000, 0x1000 }, { 0, XR_PAR_TOP + G },    { XR_PAR_TOP, XR_PAR_TOP + G },
		{ 0, XR_IPA_TOP },  { 0, ~0ULL & ~0xfffULL }, { ~0ULL & ~0xfffULL, 0 },
	};
	for (unsigned int k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		XR_CALL(&x, 0, out, RSI_FID_IPA_STATE_GET, bad[k][0], bad[k][1]);
		assert_int_equal(out[0], RSI_ERROR_INPUT);
	}
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* ---- HOST_CALL -------------------------------------------------------------------------- */

/* A realm that loops: RSI_HOST_CALL(x20); report x0. */
static void test_host_call_round_trip(void **state)
{
	static uint64_t page[512];
	const uint64_t hcs[] = { HCP_IPA + 0x800, HCP_IPA + 0xf00 };
	struct rmi_rec_exit ex, e;
	struct prog p = { .n = 0 };
	uint64_t g[31];
	struct xr x;

	(void)state;
	p_prologue(&p);
	for (int k = 0; k < 2; k++) {
		p_mov(&p, 1, hcs[k]);
		p_smc(&p, RSI_FID_HOST_CALL);
		p_report(&p, 0);
		p_mov(&p, 1, hcs[k]);
		p_smc(&p, RSI_FID_HOST_CALL);
		p_report(&p, 0);
	}
	p_put(&p, A64_B_SELF);
	memset(page, 0xee, sizeof(page));
	for (int k = 0; k < 2; k++) {
		uint64_t *hc = &page[(hcs[k] - HCP_IPA) / 8];
		hc[0] = 0xfffffffffff1beefULL + (uint64_t)k; /* imm: only its low 16 bits are the immediate */
		for (int i = 0; i < 31; i++)
			hc[1 + i] = 0x1000ULL * (k + 1) + (uint64_t)i;
	}
	xr_create(&env, &x, RMI_HASH_SHA_256, NULL);
	xr_program(&x, &p);
	uint64_t pa = xr_page(&x, HCP_IPA, page, RMI_NO_MEASURE_CONTENT);
	xr_rec(&x, true, XR_CODE_IPA);
	xr_activate(&x);

	uint64_t flags = 0;
	for (int k = 0; k < 2; k++) {
		struct rsi_host_call hc;
		/* the exit carries imm and all 31 registers of the structure, nothing else */
		assert_int_equal(xr_enter(&x, 0, flags, NULL, &ex), RMI_SUCCESS);
		e = ex;
		EX_EQ(e, exit_reason, RMI_EXIT_HOST_CALL);
		EX_EQ(e, imm, 0xbeef + k);
		for (int i = 0; i < 31; i++)
			EX_EQ(e, gprs[i], 0x1000ULL * (k + 1) + (uint64_t)i);
		EX_DONE(e);
		/* entry: enter.gprs[0..30] go back into the structure, the realm gets SUCCESS */
		for (int i = 0; i < 31; i++)
			g[i] = 0xc0de000000000000ULL | ((uint64_t)k << 8) | (uint64_t)i;
		assert_int_equal(xr_enter(&x, 0, 0, g, &ex), RMI_SUCCESS);
		xr_expect_mmio_store(&ex, 0, RSI_SUCCESS);
		memcpy(&hc, t_gptr(x.m, pa) + (hcs[k] - HCP_IPA), sizeof(hc));
		assert_int_equal(hc.imm, 0xfffffffffff1beefULL + (uint64_t)k); /* imm is not written back */
		assert_memory_equal(hc.gprs, g, sizeof(g));
		/* the second call of the pair reports what the host wrote */
		assert_int_equal(xr_enter(&x, 0, XR_ENTER_MMIO, NULL, &ex), RMI_SUCCESS);
		assert_int_equal(ex.exit_reason, RMI_EXIT_HOST_CALL);
		assert_memory_equal(ex.gprs, g, sizeof(g));
		assert_int_equal(xr_enter(&x, 0, 0, NULL, &ex), RMI_SUCCESS); /* enter.gprs all zero now */
		xr_expect_mmio_store(&ex, 0, RSI_SUCCESS);
		memcpy(&hc, t_gptr(x.m, pa) + (hcs[k] - HCP_IPA), sizeof(hc));
		xr_assert_zero(hc.gprs, sizeof(hc.gprs), "host call gprs");
		flags = XR_ENTER_MMIO;
	}
	/* the rest of the page was never touched */
	assert_int_equal(((uint64_t *)t_gptr(x.m, pa))[0], 0xeeeeeeeeeeeeeeeeULL);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

static void test_host_call_inputs(void **state)
{
	struct rmi_rec_exit ex, e;
	struct prog p = { .n = 0 };
	uint64_t out[18], g[31];
	struct xr x;

	(void)state;
	xr_create(&env, &x, RMI_HASH_SHA_256, NULL);
	p_rpc(&p);
	xr_program(&x, &p);
	xr_page(&x, HCP_IPA, NULL, RMI_NO_MEASURE_CONTENT);
	xr_page(&x, DESTR_IPA, NULL, RMI_NO_MEASURE_CONTENT);
	xr_map(&x, AEMPTY_IPA);
	xr_rec(&x, true, XR_CODE_IPA);
	xr_activate(&x);
	xr_rpc_start(&x, 0);

	/* refused: not 256-byte aligned, outside the PAR or the IPA space, RIPAS EMPTY */
	static const uint64_t bad[] = { HCP_IPA + 8, HCP_IPA + 0x80,       HCP_IPA + 0xff, HCP_IPA + 0xf01,
					XR_PAR_TOP,  XR_PAR_TOP + HCP_IPA, XR_IPA_TOP,     ~0ULL & ~0xffULL,
					EMPTY_IPA,   AEMPTY_IPA + 0x100 };
	for (unsigned int k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		XR_CALL(&x, 0, out, RSI_FID_HOST_CALL, bad[k]);
		assert_int_equal(out[0], RSI_ERROR_INPUT);
	}
	/* the last structure of a page is fine (it does not cross the granule) */
	assert_int_equal(xr_rpc(&x, 0, XR_ARGS(RSI_FID_HOST_CALL, HCP_IPA + 0xf00), &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_HOST_CALL);
	assert_int_equal(xr_enter(&x, 0, 0, NULL, &ex), RMI_SUCCESS); /* results of the inner call */
	assert_int_equal(ex.exit_reason, RMI_EXIT_HOST_CALL);
	assert_int_equal(ex.gprs[0], RSI_SUCCESS);

	/* RIPAS RAM without a mapping: a stage-2 abort for the host first, the call once it is mapped */
	assert_int_equal(xr_rpc(&x, 0, XR_ARGS(RSI_FID_HOST_CALL, LATE_IPA + 0x100), &ex), RMI_SUCCESS);
	e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_SYNC);
	EX_EQ(e, esr, ESR_EC(ESR_EC_DABT_LOW) | ESR_FSC_TRANS(3));
	EX_EQ(e, hpfar, (LATE_IPA >> 12) << 4);
	EX_DONE(e);
	xr_map(&x, LATE_IPA);
	assert_int_equal(xr_enter(&x, 0, 0, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_HOST_CALL);
	xr_assert_zero(ex.gprs, sizeof(ex.gprs), "host call gprs of a zeroed page");

	/* the structure's page goes away before the host answers: the entry emulates a stage-2 abort first */
	xr_unmap(&x, LATE_IPA);
	for (int i = 0; i < 31; i++)
		g[i] = 0xabc0 + (uint64_t)i;
	assert_int_equal(xr_enter(&x, 0, 0, g, &ex), RMI_SUCCESS);
	e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_SYNC);
	EX_EQ(e, esr, ESR_EC(ESR_EC_DABT_LOW) | ESR_FSC_TRANS(3));
	EX_EQ(e, hpfar, (LATE_IPA >> 12) << 4);
	EX_DONE(e);
	/* still pending: the same again (RIPAS DESTROYED stays inaccessible) */
	assert_int_equal(xr_enter(&x, 0, 0, g, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
	assert_int_equal(ex.hpfar, (LATE_IPA >> 12) << 4);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

/* ---- unknown FIDs, SMCCC_VERSION --------------------------------------------------------- */

static void test_unknown_and_smccc(void **state)
{
	static const uint64_t unknown[] = {
		0xC400019AULL,
		0xC40001A3ULL,
		0xC40001AFULL,
		0xC40001B0ULL,
		0xC40001BFULL, /* RSI range, no handler */
		0xC400018FULL,
		0xC40001C0ULL, /* just outside */
		RMI_FID_VERSION,
		RMI_FID_REC_ENTER,
		RMI_FID_GRANULE_RANGE_DELEGATE, /* the host's interface */
		0x82000000ULL,
		0xC2000001ULL,
		0x86000000ULL, /* SiP, OEM */
		0x84000020ULL,
		0xC4000020ULL,
		0x8400001FULL + 0x100, /* past PSCI */
		0x80000001ULL,
		0x80008000ULL,
		0x8000FF00ULL,
		0xF0000000ULL,
		0ULL,
		~0ULL,
	};
	uint64_t out[18];
	struct xr x;

	(void)state;
	xr_rpc_realm(&env, &x, RMI_HASH_SHA_256, 1);
	xr_rpc_start(&x, 0);
	for (unsigned int k = 0; k < sizeof(unknown) / sizeof(unknown[0]); k++) {
		call_keep(&x, out, unknown[k], 1, 2, 3);
		if (out[0] != SMC_UNKNOWN) {
			print_error("FID 0x%llx: x0 = 0x%llx, expected SMC_UNKNOWN\n",
				    (unsigned long long)unknown[k], (unsigned long long)out[0]);
			fail();
		}
	}
	call_keep(&x, out, SMCCC_VERSION, 0, 0, 0);
	assert_int_equal(out[0], 0x10002);
	/* the FID is W0: the upper half of X0 is ignored (as TF-RMM does) */
	call_keep(&x, out, 0xFFFFFFFF00000000ULL | SMCCC_VERSION, 0, 0, 0);
	assert_int_equal(out[0], 0x10002);
	call_keep(&x, out, 0xFFFFFFFF84000000ULL, 0, 0, 0); /* PSCI_VERSION, sign-extended */
	assert_int_equal(out[0], 0x10001);
	call_keep(&x, out, 0x1234567800000000ULL | 0xC4000190ULL, 0x10000, 0, 0); /* RSI_VERSION */
	assert_int_equal(out[0], RSI_SUCCESS);
	assert_int_equal(out[1], 0x10000);
	call_keep(&x, out, 0x1234567800000000ULL | 0xC400019AULL, 1, 2, 3);
	assert_int_equal(out[0], SMC_UNKNOWN);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_version_features, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_measurements_sha256, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_measurements_sha512, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_measurements_sha384, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_realm_config_sha256, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_realm_config_sha512, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_realm_config_sha384, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_ipa_state_get, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_host_call_round_trip, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_host_call_inputs, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_and_smccc, xenv_setup, xenv_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
