/* SPDX-License-Identifier: MIT */
/*
 * RSI_ATTEST_TOKEN_INIT / RSI_ATTEST_TOKEN_CONTINUE from a running realm
 * (reference sections 14.1, 17): CONTINUE without INIT, the input errors
 * before the state error, size 0, chunked retrieval at any offset, a new
 * INIT restarting the operation, a stage-2 abort emulated for an unmapped
 * target page, and the token verified like a relying party would
 * (rk_token_verify against the machine's CPAK, with the realm's RIM and the
 * challenge) for SHA-256, SHA-512 and SHA-384 realms.
 */
#include "realmkit/attest.h"
#include "exec_util.h"

#define TOK_IPA 0x6000ULL  /* the realm's buffer page */
#define LATE_IPA 0x4000ULL /* RIPAS RAM, unmapped */
#define EMPTY_IPA 0x100000ULL
#define TOKEN_MAX (REC_NUM_AUX * 4096u)

static void challenge_of(uint8_t ch[64], unsigned int seed)
{
	for (int i = 0; i < 64; i++)
		ch[i] = (uint8_t)(seed * 17 + i * 3 + 1);
}

/* TOKEN_INIT(challenge): x0, x1 (the upper bound of the token size) */
static void token_init(struct xr *x, const uint8_t ch[64], uint64_t out[18])
{
	uint64_t args[9] = { RSI_FID_ATTEST_TOKEN_INIT };

	memcpy(&args[1], ch, 64);
	xr_call(x, 0, args, 9, out);
}

static void cont(struct xr *x, uint64_t ipa, uint64_t off, uint64_t size, uint64_t out[18])
{
	XR_CALL(x, 0, out, RSI_FID_ATTEST_TOKEN_CONTINUE, ipa, off, size);
}

/*
 * Retrieve the whole token in chunks of varying sizes at varying offsets of
 * the page; returns its length. Every call copies min(size, left) bytes to
 * [off, off + n) of the page: INCOMPLETE until the last, SUCCESS then.
 */
static size_t retrieve(struct xr *x, uint64_t page_pa, uint8_t *tok, unsigned int seed)
{
	size_t len = 0;
	uint64_t out[18];

	for (unsigned int k = 0;; k++) {
		uint64_t size = 1 + ((k * 733 + seed * 101) % 1500),
			 off = (k * 977 + seed) % (4096 - size + 1);
		memset(t_gptr(x->m, page_pa), 0xcc, 4096);
		cont(x, TOK_IPA, off, size, out);
		assert_true(out[0] == RSI_INCOMPLETE || out[0] == RSI_SUCCESS);
		assert_true(out[1] <= size);
		const uint8_t *p = t_gptr(x->m, page_pa);
		memcpy(tok + len, p + off, out[1]);
		/* nothing outside [off, off + n) was written */
		for (uint64_t b = 0; b < 4096; b++)
			if (b < off || b >= off + out[1])
				assert_int_equal(p[b], 0xcc);
		len += out[1];
		assert_true(len <= TOKEN_MAX);
		if (out[0] == RSI_SUCCESS)
			break;
		assert_int_equal(out[1], size); /* a short chunk only at the end */
	}
	return len;
}

static void verify(struct xr *x, const uint8_t *tok, size_t len, const uint8_t ch[64],
		   const uint8_t rem[4][64])
{
	size_t hl = x->hash == RMI_HASH_SHA_256 ? 32 : x->hash == RMI_HASH_SHA_512 ? 64 : 48;
	struct rk_verify_opts opts = {
		.cpak = rk_machine_cpak(x->m),
		.expected_challenge = ch,
		.expected_challenge_len = 64,
		.expected_rim = t_rim(x->m, x->rd),
		.expected_rim_len = hl,
	};
	struct rk_token_claims claims;
	struct rk_verify_error err;

	assert_non_null(opts.cpak);
	memset(&claims, 0, sizeof(claims));
	if (rk_token_verify(tok, len, &opts, &claims, &err)) {
		print_error("token refused: %s\n", err.reason);
		fail();
	}
	assert_int_equal(claims.format, RK_TOKEN_FORMAT_2_0);
	assert_int_equal(claims.platform_signature, RK_SIG_VALID);
	assert_int_equal(claims.realm_signature, RK_SIG_VALID);
	assert_int_equal(claims.realm.hash_algo, x->hash);
	assert_int_equal(claims.realm.measurement_len, hl);
	assert_memory_equal(claims.realm.challenge, ch, 64);
	assert_memory_equal(claims.realm.rpv, x->rpv, 64);
	assert_true(claims.realm.has_instance_id);
	assert_memory_equal(claims.realm.instance_id, t_rd(x->m, x->rd)->realm_id, RMM_REALM_ID_SIZE);
	for (int i = 0; i < 4; i++)
		assert_memory_equal(claims.realm.rem[i], rem[i], hl);
	rk_token_claims_release(&claims);
}

static void attest(unsigned int algo)
{
	static uint8_t tok[TOKEN_MAX], tok2[TOKEN_MAX];
	uint8_t ch[64], ch2[64], rem[4][64], rem_at_init[4][64];
	struct prog p = { .n = 0 };
	struct rmi_rec_exit ex;
	uint64_t out[18];
	struct xr x;

	xr_create(&env, &x, algo, NULL);
	p_rpc(&p);
	xr_program(&x, &p);
	uint64_t page = xr_page(&x, TOK_IPA, NULL, RMI_NO_MEASURE_CONTENT);
	xr_rec(&x, true, XR_CODE_IPA);
	xr_activate(&x);
	xr_rpc_start(&x, 0);
	challenge_of(ch, algo);
	challenge_of(ch2, algo + 10);

	/* CONTINUE before INIT: ERROR_STATE, but input errors come first */
	cont(&x, TOK_IPA, 0, 4096, out);
	assert_int_equal(out[0], RSI_ERROR_STATE);
	cont(&x, TOK_IPA + 8, 0, 16, out);
	assert_int_equal(out[0], RSI_ERROR_INPUT);
	cont(&x, TOK_IPA, 4096, 0, out);
	assert_int_equal(out[0], RSI_ERROR_INPUT);

	/* extend a REM so the token carries something the test knows */
	memset(rem, 0, sizeof(rem));
	uint64_t ext[11] = { RSI_FID_MEASUREMENT_EXTEND, 3, 64 };
	memset(&ext[3], 0x33, 64);
	xr_call(&x, 0, ext, 11, out);
	assert_int_equal(out[0], RSI_SUCCESS);
	memcpy(rem[2], t_rd(x.m, x.rd)->rem[2], 64);

	token_init(&x, ch, out);
	assert_int_equal(out[0], RSI_SUCCESS);
	uint64_t bound = out[1];
	assert_true(bound > 0 && bound <= TOKEN_MAX);
	memcpy(rem_at_init, rem, sizeof(rem));
	/* measurements are taken at INIT: extending now does not change this token */
	xr_call(&x, 0, ext, 11, out);
	assert_int_equal(out[0], RSI_SUCCESS);
	memcpy(rem[2], t_rd(x.m, x.rd)->rem[2], 64);

	/* input errors, none of which consumes anything */
	static const uint64_t bad[][3] = {
		{ TOK_IPA + 8, 0, 16 }, { TOK_IPA + 0x800, 0, 16 }, { TOK_IPA, 4096, 1 },
		{ TOK_IPA, 4096, 0 },   { TOK_IPA, 4095, 2 },       { TOK_IPA, 0, 4097 },
		{ TOK_IPA, 8, ~0ULL },  { TOK_IPA, ~0ULL, 8 },      { TOK_IPA, 1, 4096 },
		{ XR_PAR_TOP, 0, 16 },  { XR_IPA_TOP, 0, 16 },      { ~0ULL & ~0xfffULL, 0, 16 },
		{ EMPTY_IPA, 0, 16 },
	};
	for (unsigned int k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		cont(&x, bad[k][0], bad[k][1], bad[k][2], out);
		if (out[0] != RSI_ERROR_INPUT) {
			print_error("CONTINUE(0x%llx, 0x%llx, 0x%llx): x0 %llu, expected ERROR_INPUT\n",
				    (unsigned long long)bad[k][0], (unsigned long long)bad[k][1],
				    (unsigned long long)bad[k][2], (unsigned long long)out[0]);
			fail();
		}
	}
	/* size 0: INCOMPLETE, nothing copied */
	cont(&x, TOK_IPA, 100, 0, out);
	assert_int_equal(out[0], RSI_INCOMPLETE);
	assert_int_equal(out[1], 0);
	/* the target page unmapped: a stage-2 abort for the host, then the same call goes on */
	assert_int_equal(xr_rpc(&x, 0, XR_ARGS(RSI_FID_ATTEST_TOKEN_CONTINUE, LATE_IPA, 0x10, 0x20), &ex),
			 RMI_SUCCESS);
	struct rmi_rec_exit e = ex;
	EX_EQ(e, exit_reason, RMI_EXIT_SYNC);
	EX_EQ(e, esr, ESR_EC(ESR_EC_DABT_LOW) | ESR_FSC_TRANS(3));
	EX_EQ(e, hpfar, (LATE_IPA >> 12) << 4);
	EX_DONE(e);
	uint64_t late = xr_map(&x, LATE_IPA);
	assert_int_equal(xr_enter(&x, 0, 0, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_HOST_CALL);
	assert_int_equal(ex.gprs[0], RSI_INCOMPLETE);
	assert_int_equal(ex.gprs[1], 0x20);
	memcpy(tok, t_gptr(x.m, late) + 0x10, 0x20);

	/* the rest in chunks */
	size_t len = 0x20 + retrieve(&x, page, tok + 0x20, algo);
	assert_true(len <= bound);
	verify(&x, tok, len, ch, rem_at_init);
	/* all handed out: CONTINUE has nothing to continue */
	cont(&x, TOK_IPA, 0, 4096, out);
	assert_int_equal(out[0], RSI_ERROR_STATE);

	/* a new INIT restarts: half of a token, then INIT again, then the new one from its start */
	token_init(&x, ch, out);
	assert_int_equal(out[0], RSI_SUCCESS);
	cont(&x, TOK_IPA, 0, 500, out);
	assert_int_equal(out[0], RSI_INCOMPLETE);
	token_init(&x, ch2, out);
	assert_int_equal(out[0], RSI_SUCCESS);
	size_t len2 = retrieve(&x, page, tok2, algo + 3);
	verify(&x, tok2, len2, ch2, rem);
	/* a wrong challenge does not verify */
	struct rk_verify_opts opts = { .cpak = rk_machine_cpak(x.m),
				       .expected_challenge = ch,
				       .expected_challenge_len = 64 };
	struct rk_token_claims claims;
	struct rk_verify_error err;
	memset(&claims, 0, sizeof(claims));
	assert_int_not_equal(rk_token_verify(tok2, len2, &opts, &claims, &err), 0);
	rk_token_claims_release(&claims);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

static void test_attest_sha256(void **state)
{
	(void)state;
	attest(RMI_HASH_SHA_256);
}

static void test_attest_sha512(void **state)
{
	(void)state;
	attest(RMI_HASH_SHA_512);
}

static void test_attest_sha384(void **state)
{
	(void)state;
	attest(RMI_HASH_SHA_384);
}

/* Two RECs of one realm each have their own token in flight. */
static void test_attest_per_rec(void **state)
{
	static uint8_t tok[TOKEN_MAX];
	uint8_t ch0[64], ch1[64], rem[4][64];
	struct prog p = { .n = 0 };
	uint64_t out[18];
	struct xr x;

	(void)state;
	xr_create(&env, &x, RMI_HASH_SHA_256, NULL);
	p_rpc(&p);
	xr_program(&x, &p);
	uint64_t page = xr_page(&x, TOK_IPA, NULL, RMI_NO_MEASURE_CONTENT);
	xr_rec(&x, true, XR_CODE_IPA);
	xr_rec(&x, true, XR_CODE_IPA);
	xr_activate(&x);
	xr_rpc_start(&x, 0);
	xr_rpc_start(&x, 1);
	challenge_of(ch0, 40);
	challenge_of(ch1, 41);
	memset(rem, 0, sizeof(rem));
	token_init(&x, ch0, out);
	assert_int_equal(out[0], RSI_SUCCESS);
	uint64_t args[9] = { RSI_FID_ATTEST_TOKEN_INIT };
	memcpy(&args[1], ch1, 64);
	xr_call(&x, 1, args, 9, out);
	assert_int_equal(out[0], RSI_SUCCESS);
	/* REC 1 has not retrieved anything; REC 0's token is REC 0's */
	size_t len = retrieve(&x, page, tok, 7);
	verify(&x, tok, len, ch0, rem);
	XR_CALL(&x, 1, out, RSI_FID_ATTEST_TOKEN_CONTINUE, TOK_IPA, 0, 8);
	assert_int_equal(out[0], RSI_INCOMPLETE);
	assert_int_equal(out[1], 8);
	struct xr *xs[] = { &x };
	xr_teardown(xs, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_attest_sha256, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_attest_sha512, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_attest_sha384, xenv_setup, xenv_teardown),
		cmocka_unit_test_setup_teardown(test_attest_per_rec, xenv_setup, xenv_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
