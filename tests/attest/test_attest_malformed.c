/* SPDX-License-Identifier: MIT */
/*
 * Attestation tokens that must be refused, each with its own error code and
 * reason: wrong top-level structure, COSE structure, claim types and sizes,
 * profiles, RAK, binding. Also a few unusual but valid forms.
 */
#include <errno.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "test_attest_util.h"

struct fixture {
	struct rk_attest_key *rak;  /* sample RAK */
	struct rk_attest_key *cpak; /* sample CPAK (private) */
	struct ta_claims realm, plat;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->rak = ta_key("rak-sample.pem");
	f->cpak = ta_key("cpak-sample.pem");
	ta_realm_claims(&f->realm, f->rak);
	ta_platform_claims(&f->plat, f->rak);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ta_claims_free(&f->realm);
	ta_claims_free(&f->plat);
	rk_attest_key_free(f->rak);
	rk_attest_key_free(f->cpak);
	free(f);
	return 0;
}

/* Verify (with the CPAK) and check the code and a reason fragment. */
static void expect(const uint8_t *buf, size_t len, const struct rk_attest_key *cpak, enum rk_verify_code want,
		   const char *fragment)
{
	struct rk_verify_opts opts = { .cpak = cpak };
	struct rk_verify_error err;
	enum rk_verify_code got = ta_verify_code(buf, len, &opts, &err);

	if (got != want)
		fail_msg("expected %s, got %s: %s", rk_verify_code_name(want), rk_verify_code_name(got),
			 err.reason);
	if (fragment && !strstr(err.reason, fragment))
		fail_msg("reason \"%s\" lacks \"%s\"", err.reason, fragment);
}

/* Wrap map in tag, serialize, expect; frees both. */
static void expect_tagged(struct fixture *f, uint64_t tag, cbor_item_t *map, enum rk_verify_code want,
			  const char *fragment)
{
	cbor_item_t *t = rk_cbor_tag(tag, map);
	size_t len;
	uint8_t *tok = ta_serialize(t, &len);

	expect(tok, len, f->cpak, want, fragment);
	cbor_decref(&t);
	free(tok);
}

static void expect_token(struct fixture *f, uint64_t tag, enum rk_verify_code want, const char *fragment)
{
	size_t len;
	uint8_t *tok = ta_token(tag, &f->realm, f->rak, &f->plat, f->cpak, &len);

	expect(tok, len, f->cpak, want, fragment);
	free(tok);
}

static void test_baseline_valid(void **state)
{
	struct fixture *f = *state;

	expect_token(f, 907, RK_VERIFY_OK, NULL);
	expect_token(f, 399, RK_VERIFY_OK, NULL);
}

static void test_top_level(void **state)
{
	struct fixture *f = *state;
	static const uint8_t not_tag[] = { 0xa0 };
	static const uint8_t tag906[] = { 0xd9, 0x03, 0x8a, 0xa0 };
	static const uint8_t tag_array[] = { 0xd9, 0x03, 0x8b, 0x80 };
	static const uint8_t trailing[] = { 0xd9, 0x03, 0x8b, 0xa0, 0x00 };
	static const uint8_t missing_both[] = { 0xd9, 0x03, 0x8b, 0xa0 };
	size_t pl, rl, len;
	uint8_t *pp = ta_claims_bytes(&f->plat, &pl), *rp = ta_claims_bytes(&f->realm, &rl);
	size_t psl, rsl;
	uint8_t *ps = ta_sign1(f->cpak, pp, pl, &psl), *rs = ta_sign1(f->rak, rp, rl, &rsl);
	uint8_t *tok, *big;
	cbor_item_t *map;

	(void)state;
	expect(not_tag, 0, NULL, RK_VERIFY_ERR_SIZE, "0 bytes");
	big = calloc(1, RK_ATTEST_TOKEN_MAX_SIZE + 1);
	expect(big, RK_ATTEST_TOKEN_MAX_SIZE + 1, NULL, RK_VERIFY_ERR_SIZE, NULL);
	free(big);
	expect(not_tag, sizeof(not_tag), NULL, RK_VERIFY_ERR_TOP_TAG, "expected tag 907");
	expect(tag906, sizeof(tag906), NULL, RK_VERIFY_ERR_TOP_TAG, "tag 906");
	expect(tag_array, sizeof(tag_array), NULL, RK_VERIFY_ERR_TOP_STRUCTURE, "expected a map");
	expect(trailing, sizeof(trailing), NULL, RK_VERIFY_ERR_CBOR_TRAILING, "after");
	expect(missing_both, sizeof(missing_both), NULL, RK_VERIFY_ERR_TOP_STRUCTURE, "platform token");

	/* 907 with bare bstrs (the 1.0 layout) and 399 with CMW arrays. */
	map = cbor_new_definite_map(2);
	assert_true(rk_cbor_map_put(map, rk_cbor_int(44234), ta_entry(399, ps, psl)));
	assert_true(rk_cbor_map_put(map, rk_cbor_int(44241), ta_entry(399, rs, rsl)));
	expect_tagged(f, 907, map, RK_VERIFY_ERR_TOP_STRUCTURE, "expected [263, bstr]");
	map = cbor_new_definite_map(2);
	assert_true(rk_cbor_map_put(map, rk_cbor_int(44234), ta_entry(907, ps, psl)));
	assert_true(rk_cbor_map_put(map, rk_cbor_int(44241), ta_entry(907, rs, rsl)));
	expect_tagged(f, 399, map, RK_VERIFY_ERR_TOP_STRUCTURE, "expected a byte string");

	/* CMW type other than 263. */
	{
		cbor_item_t *arr = cbor_new_definite_array(2);

		assert_true(rk_cbor_array_push(arr, rk_cbor_int(264)));
		assert_true(rk_cbor_array_push(arr, ta_bstr(ps, psl)));
		map = cbor_new_definite_map(2);
		assert_true(rk_cbor_map_put(map, rk_cbor_int(44234), arr));
		assert_true(rk_cbor_map_put(map, rk_cbor_int(44241), ta_entry(907, rs, rsl)));
		expect_tagged(f, 907, map, RK_VERIFY_ERR_TOP_STRUCTURE, "CMW type");
	}
	/* Realm token missing; platform token given twice. */
	map = cbor_new_definite_map(2);
	assert_true(rk_cbor_map_put(map, rk_cbor_int(44234), ta_entry(907, ps, psl)));
	assert_true(rk_cbor_map_put(map, rk_cbor_int(1), ta_entry(907, rs, rsl)));
	expect_tagged(f, 907, map, RK_VERIFY_ERR_TOP_STRUCTURE, "realm token (key 44241)");
	map = cbor_new_definite_map(3);
	assert_true(rk_cbor_map_put(map, rk_cbor_int(44234), ta_entry(907, ps, psl)));
	assert_true(rk_cbor_map_put(map, rk_cbor_int(44234), ta_entry(907, ps, psl)));
	assert_true(rk_cbor_map_put(map, rk_cbor_int(44241), ta_entry(907, rs, rsl)));
	expect_tagged(f, 907, map, RK_VERIFY_ERR_CLAIM_DUPLICATE, "more than once");
	/* Empty platform entry. */
	tok = ta_wrap(907, ps, 0, rs, rsl, &len);
	expect(tok, len, f->cpak, RK_VERIFY_ERR_TOP_STRUCTURE, "empty");
	free(tok);

	free(pp);
	free(rp);
	free(ps);
	free(rs);
}

static void test_cbor_limits(void **state)
{
	/* Lengths far beyond the data: refused before anything is allocated. */
	static const uint8_t huge_array[] = { 0xd9, 0x03, 0x8b, 0x9b, 0, 0, 0, 0x10, 0, 0, 0, 0, 1 };
	static const uint8_t huge_map[] = { 0xd9, 0x03, 0x8b, 0xbb, 0, 0, 0, 0x10, 0, 0, 0, 0, 1 };
	static const uint8_t huge_bstr[] = { 0xd9, 0x03, 0x8b, 0x5b, 0xff, 0xff, 0xff,
					     0xff, 0xff, 0xff, 0xff, 0xff, 1 };
	static const uint8_t huge_tstr[] = { 0xd9, 0x03, 0x8b, 0x7a, 0xff, 0xff, 0xff, 0xff, 1 };
	static const uint8_t arr_3_in_2[] = { 0xd9, 0x03, 0x8b, 0x83, 0x01, 0x02 };
	static const uint8_t indefinite[] = { 0xd9, 0x03, 0x8b, 0xbf, 0xff };
	static const uint8_t indef_bstr[] = { 0xd9, 0x03, 0x8b, 0x5f, 0x41, 0x00, 0xff };
	static const uint8_t bad_ai[] = { 0xd9, 0x03, 0x8b, 0x1c };
	static const uint8_t lone_break[] = { 0xff };
	uint8_t deep[200];
	cbor_item_t *item = NULL;
	enum rk_verify_code code;
	char why[128];

	(void)state;
	expect(huge_array, sizeof(huge_array), NULL, RK_VERIFY_ERR_CBOR, "array longer");
	expect(huge_map, sizeof(huge_map), NULL, RK_VERIFY_ERR_CBOR, "map longer");
	expect(huge_bstr, sizeof(huge_bstr), NULL, RK_VERIFY_ERR_CBOR, "truncated");
	expect(huge_tstr, sizeof(huge_tstr), NULL, RK_VERIFY_ERR_CBOR, "truncated");
	expect(arr_3_in_2, sizeof(arr_3_in_2), NULL, RK_VERIFY_ERR_CBOR, NULL);
	expect(indefinite, sizeof(indefinite), NULL, RK_VERIFY_ERR_CBOR_UNSUPPORTED, "indefinite");
	expect(indef_bstr, sizeof(indef_bstr), NULL, RK_VERIFY_ERR_CBOR_UNSUPPORTED, "indefinite");
	expect(bad_ai, sizeof(bad_ai), NULL, RK_VERIFY_ERR_CBOR, "malformed");
	expect(lone_break, sizeof(lone_break), NULL, RK_VERIFY_ERR_CBOR_UNSUPPORTED, NULL);

	/* Nesting: RK_CBOR_MAX_DEPTH levels decode, one more is refused. */
	memset(deep, 0x81, sizeof(deep));
	deep[RK_CBOR_MAX_DEPTH] = 0x00;
	assert_int_equal(rk_cbor_decode(deep, RK_CBOR_MAX_DEPTH + 1, &item, &code, why, sizeof(why)), 0);
	cbor_decref(&item);
	deep[RK_CBOR_MAX_DEPTH] = 0x81;
	deep[RK_CBOR_MAX_DEPTH + 1] = 0x00;
	assert_int_equal(rk_cbor_decode(deep, RK_CBOR_MAX_DEPTH + 2, &item, &code, why, sizeof(why)),
			 -EBADMSG);
	assert_int_equal(code, RK_VERIFY_ERR_CBOR_UNSUPPORTED);
	assert_null(item);
	deep[0] = 0xd9;
	deep[1] = 0x03;
	deep[2] = 0x8b;
	memset(deep + 3, 0x81, sizeof(deep) - 4);
	deep[sizeof(deep) - 1] = 0;
	expect(deep, sizeof(deep), NULL, RK_VERIFY_ERR_CBOR_UNSUPPORTED, "deeply");
}

/* Decode buf; on success the item, else NULL with *code set. */
static cbor_item_t *decode(const uint8_t *buf, size_t len, enum rk_verify_code *code, char *why,
			   size_t why_len)
{
	cbor_item_t *item = NULL;

	*code = RK_VERIFY_OK;
	if (rk_cbor_decode(buf, len, &item, code, why, why_len))
		assert_null(item);
	return item;
}

/*
 * One-byte heads of tags 6..20 (0xc6..0xd4) are well-formed CBOR that
 * libcbor 0.8 refuses; the decoder takes them as tags. Byte strings that
 * contain such bytes stay as they are; malformed input is still refused.
 */
static void test_cbor_small_tags(void **state)
{
	static const uint8_t tag6[] = { 0xc6, 0x01 };
	static const uint8_t nested[] = { 0xd4, 0xd2, 0x80 };                   /* 20(18([])) */
	static const uint8_t in_map[] = { 0xa2, 0x01, 0xcc, 0x42, 0xc6, 0xd2,   /* {1: 12(h'c6d2'), */
					  0x02, 0x82, 0xc6, 0x00, 0xd5, 0x01 }; /* 2: [6(0), 21(1)]} */
	static const uint8_t bstr_only[] = { 0x43, 0xd2, 0xc6, 0xd4 };
	static const uint8_t lone[] = { 0xc6 };
	static const uint8_t bad_inner[] = { 0xd2, 0x1c };
	static const uint8_t reserved[] = { 0xdc, 0x00 };
	static const uint8_t trailing[] = { 0xc6, 0x01, 0x00 };
	static const uint8_t map_short[] = { 0xa1, 0x01, 0xc6 };
	static const uint8_t simple[] = { 0x81, 0xe0 };
	enum rk_verify_code code;
	uint8_t deep[RK_CBOR_MAX_DEPTH + 2];
	cbor_item_t *item, *v;
	char why[128];

	(void)state;
	item = decode(tag6, sizeof(tag6), &code, why, sizeof(why));
	if (!item)
		fail_msg("0xc6 0x01: %s", why);
	assert_true(cbor_isa_tag(item));
	assert_int_equal(cbor_tag_value(item), 6);
	assert_int_equal(cbor_get_int(rk_cbor_tag_item(item)), 1);
	cbor_decref(&item);

	item = decode(nested, sizeof(nested), &code, why, sizeof(why));
	assert_non_null(item);
	assert_int_equal(cbor_tag_value(item), 20);
	v = rk_cbor_tag_item(item);
	assert_true(cbor_isa_tag(v));
	assert_int_equal(cbor_tag_value(v), 18);
	assert_true(cbor_isa_array(rk_cbor_tag_item(v)));
	cbor_decref(&item);

	item = decode(in_map, sizeof(in_map), &code, why, sizeof(why));
	assert_non_null(item);
	assert_int_equal(rk_cbor_map_find(item, 1, &v), 0);
	assert_int_equal(cbor_tag_value(v), 12);
	v = rk_cbor_tag_item(v);
	assert_int_equal(cbor_bytestring_length(v), 2);
	assert_memory_equal(cbor_bytestring_handle(v), "\xc6\xd2", 2); /* contents untouched */
	assert_int_equal(rk_cbor_map_find(item, 2, &v), 0);
	assert_int_equal(cbor_array_size(v), 2);
	assert_int_equal(cbor_tag_value(cbor_array_handle(v)[0]), 6);
	assert_int_equal(cbor_tag_value(cbor_array_handle(v)[1]), 21);
	cbor_decref(&item);

	item = decode(bstr_only, sizeof(bstr_only), &code, why, sizeof(why));
	assert_non_null(item);
	assert_memory_equal(cbor_bytestring_handle(item), "\xd2\xc6\xd4", 3);
	cbor_decref(&item);

	/* still refused */
	assert_null(decode(lone, sizeof(lone), &code, why, sizeof(why)));
	assert_int_equal(code, RK_VERIFY_ERR_CBOR);
	assert_non_null(strstr(why, "truncated"));
	assert_null(decode(bad_inner, sizeof(bad_inner), &code, why, sizeof(why)));
	assert_int_equal(code, RK_VERIFY_ERR_CBOR);
	assert_non_null(strstr(why, "malformed CBOR at byte 1"));
	assert_null(decode(reserved, sizeof(reserved), &code, why, sizeof(why)));
	assert_int_equal(code, RK_VERIFY_ERR_CBOR);
	assert_null(decode(trailing, sizeof(trailing), &code, why, sizeof(why)));
	assert_int_equal(code, RK_VERIFY_ERR_CBOR_TRAILING);
	assert_null(decode(map_short, sizeof(map_short), &code, why, sizeof(why)));
	assert_int_equal(code, RK_VERIFY_ERR_CBOR);
	assert_null(decode(simple, sizeof(simple), &code, why, sizeof(why)));
	assert_int_equal(code, RK_VERIFY_ERR_CBOR_UNSUPPORTED);
	assert_non_null(strstr(why, "simple value"));
	/* one-byte tags count toward the nesting limit like any other */
	memset(deep, 0xc6, sizeof(deep));
	deep[RK_CBOR_MAX_DEPTH] = 0x00;
	item = decode(deep, RK_CBOR_MAX_DEPTH + 1, &code, why, sizeof(why));
	assert_non_null(item);
	cbor_decref(&item);
	deep[RK_CBOR_MAX_DEPTH] = 0xc6;
	deep[RK_CBOR_MAX_DEPTH + 1] = 0x00;
	assert_null(decode(deep, RK_CBOR_MAX_DEPTH + 2, &code, why, sizeof(why)));
	assert_int_equal(code, RK_VERIFY_ERR_CBOR_UNSUPPORTED);
}

/* An unknown claim holding [6(h'00'), {1: 20(18("x"))}]: one-byte tag heads, nested. */
static cbor_item_t *small_tags_claim(void)
{
	cbor_item_t *arr = cbor_new_definite_array(2), *map = cbor_new_definite_map(1);

	assert_true(rk_cbor_map_put(map, rk_cbor_int(1),
				    rk_cbor_tag(20, rk_cbor_tag(18, cbor_build_string("x")))));
	assert_true(rk_cbor_array_push(arr, rk_cbor_tag(6, ta_bstr("\0", 1))));
	assert_true(rk_cbor_array_push(arr, map));
	return arr;
}

/* A COSE_Sign1 array from parts (signature not checked before structure). */
static uint8_t *cose_from(cbor_item_t *prot, cbor_item_t *unprot, cbor_item_t *payload, cbor_item_t *sig,
			  uint64_t tag, size_t *len)
{
	cbor_item_t *arr = cbor_new_definite_array(4), *t;
	uint8_t *out;

	assert_true(rk_cbor_array_push(arr, prot));
	if (unprot)
		assert_true(rk_cbor_array_push(arr, unprot));
	assert_true(rk_cbor_array_push(arr, payload));
	if (sig)
		assert_true(rk_cbor_array_push(arr, sig));
	t = tag ? rk_cbor_tag(tag, arr) : arr;
	out = ta_serialize(t, len);
	cbor_decref(&t);
	return out;
}

static cbor_item_t *prot_alg(int alg)
{
	cbor_item_t *m = cbor_new_definite_map(1);
	uint8_t *b;
	size_t n;
	cbor_item_t *out;

	assert_true(rk_cbor_map_put(m, rk_cbor_int(1), rk_cbor_int(alg)));
	b = ta_serialize(m, &n);
	out = ta_bstr(b, n);
	free(b);
	cbor_decref(&m);
	return out;
}

static void expect_realm_cose(struct fixture *f, uint8_t *realm, size_t rl, enum rk_verify_code want,
			      const char *fragment)
{
	size_t pl, psl, len;
	uint8_t *pp = ta_claims_bytes(&f->plat, &pl);
	uint8_t *ps = ta_sign1(f->cpak, pp, pl, &psl);
	uint8_t *tok = ta_wrap(907, ps, psl, realm, rl, &len);

	expect(tok, len, f->cpak, want, fragment);
	free(tok);
	free(ps);
	free(pp);
	free(realm);
}

static void test_cose_structure(void **state)
{
	struct fixture *f = *state;
	size_t rl, n;
	uint8_t *rp = ta_claims_bytes(&f->realm, &rl);
	uint8_t *c, *hb;
	cbor_item_t *h;

	c = cose_from(prot_alg(-35), cbor_new_definite_map(0), ta_bstr(rp, rl), ta_bstr_fill(0, 96), 17, &n);
	expect_realm_cose(f, c, n, RK_VERIFY_ERR_COSE_STRUCTURE, "tag 17");
	c = cose_from(prot_alg(-35), cbor_new_definite_map(0), ta_bstr(rp, rl), ta_bstr_fill(0, 96), 61, &n);
	expect_realm_cose(f, c, n, RK_VERIFY_ERR_COSE_STRUCTURE, "tag 61");
	c = cose_from(prot_alg(-35), cbor_new_definite_map(0), ta_bstr(rp, rl), NULL, 18, &n);
	expect_realm_cose(f, c, n, RK_VERIFY_ERR_COSE_STRUCTURE, "array of 4");
	c = cose_from(rk_cbor_int(3), cbor_new_definite_map(0), ta_bstr(rp, rl), ta_bstr_fill(0, 96), 18, &n);
	expect_realm_cose(f, c, n, RK_VERIFY_ERR_COSE_STRUCTURE, "protected header is a");
	c = cose_from(prot_alg(-35), cbor_new_definite_array(0), ta_bstr(rp, rl), ta_bstr_fill(0, 96), 18,
		      &n);
	expect_realm_cose(f, c, n, RK_VERIFY_ERR_COSE_STRUCTURE, "unprotected header");
	c = cose_from(prot_alg(-35), cbor_new_definite_map(0), cbor_new_null(), ta_bstr_fill(0, 96), 18, &n);
	expect_realm_cose(f, c, n, RK_VERIFY_ERR_COSE_STRUCTURE, "detached");
	c = cose_from(prot_alg(-35), cbor_new_definite_map(0), ta_bstr(rp, rl), cbor_build_string("sig"), 18,
		      &n);
	expect_realm_cose(f, c, n, RK_VERIFY_ERR_COSE_STRUCTURE, "signature is a");
	c = cose_from(ta_bstr(NULL, 0), cbor_new_definite_map(0), ta_bstr(rp, rl), ta_bstr_fill(0, 96), 18,
		      &n);
	expect_realm_cose(f, c, n, RK_VERIFY_ERR_COSE_HEADER, "empty protected header");
	c = cose_from(ta_bstr("\x01", 1), cbor_new_definite_map(0), ta_bstr(rp, rl), ta_bstr_fill(0, 96), 18,
		      &n);
	expect_realm_cose(f, c, n, RK_VERIFY_ERR_COSE_HEADER, "expected a map");
	c = cose_from(ta_bstr("\xa1\x04\x41\x00", 4), cbor_new_definite_map(0), ta_bstr(rp, rl),
		      ta_bstr_fill(0, 96), 18, &n);
	expect_realm_cose(f, c, n, RK_VERIFY_ERR_COSE_HEADER, "no algorithm");
	c = cose_from(ta_bstr("\xa1\x01\x63\x45\x53\x33", 6), cbor_new_definite_map(0), ta_bstr(rp, rl),
		      ta_bstr_fill(0, 96), 18, &n);
	expect_realm_cose(f, c, n, RK_VERIFY_ERR_COSE_ALG, "not a small integer");
	/* crit (label 2) */
	h = cbor_new_definite_map(2);
	assert_true(rk_cbor_map_put(h, rk_cbor_int(1), rk_cbor_int(-35)));
	assert_true(rk_cbor_map_put(h, rk_cbor_int(2), cbor_new_definite_array(0)));
	hb = ta_serialize(h, &n);
	c = cose_from(ta_bstr(hb, n), cbor_new_definite_map(0), ta_bstr(rp, rl), ta_bstr_fill(0, 96), 18, &n);
	expect_realm_cose(f, c, n, RK_VERIFY_ERR_COSE_HEADER, "critical");
	cbor_decref(&h);
	free(hb);
	/* alg duplicated */
	c = cose_from(ta_bstr("\xa2\x01\x38\x22\x01\x38\x22", 7), cbor_new_definite_map(0), ta_bstr(rp, rl),
		      ta_bstr_fill(0, 96), 18, &n);
	expect_realm_cose(f, c, n, RK_VERIFY_ERR_COSE_HEADER, "twice");
	/* realm alg ES256 */
	c = cose_from(prot_alg(-7), cbor_new_definite_map(0), ta_bstr(rp, rl), ta_bstr_fill(0, 64), 18, &n);
	expect_realm_cose(f, c, n, RK_VERIFY_ERR_COSE_ALG, "ES384");
	/* Untagged COSE_Sign1 is accepted (checked further: the signature is zero). */
	c = cose_from(prot_alg(-35), cbor_new_definite_map(0), ta_bstr(rp, rl), ta_bstr_fill(0, 96), 0, &n);
	expect_realm_cose(f, c, n, RK_VERIFY_ERR_REALM_SIGNATURE, "does not verify");
	/* Signature of the wrong size. */
	c = cose_from(prot_alg(-35), cbor_new_definite_map(0), ta_bstr(rp, rl), ta_bstr_fill(1, 95), 18, &n);
	expect_realm_cose(f, c, n, RK_VERIFY_ERR_REALM_SIGNATURE, NULL);
	/* Payload not a map, payload not CBOR. */
	c = cose_from(prot_alg(-35), cbor_new_definite_map(0), ta_bstr("\x80", 1), ta_bstr_fill(0, 96), 18,
		      &n);
	expect_realm_cose(f, c, n, RK_VERIFY_ERR_CLAIMS_STRUCTURE, "expected a claims map");
	c = cose_from(prot_alg(-35), cbor_new_definite_map(0), ta_bstr("\xa1\x01", 2), ta_bstr_fill(0, 96),
		      18, &n);
	expect_realm_cose(f, c, n, RK_VERIFY_ERR_CLAIMS_STRUCTURE, "longer than the data left");
	c = cose_from(prot_alg(-35), cbor_new_definite_map(0), ta_bstr("\xa1\x01\x58", 3),
		      ta_bstr_fill(0, 96), 18, &n);
	expect_realm_cose(f, c, n, RK_VERIFY_ERR_CLAIMS_STRUCTURE, "truncated");
	free(rp);
}

/* Untagged COSE_Sign1 signed properly verifies. */
static void test_untagged_cose_valid(void **state)
{
	struct fixture *f = *state;
	size_t rl, sl, n;
	uint8_t *rp = ta_claims_bytes(&f->realm, &rl);
	uint8_t *s = ta_sign1(f->rak, rp, rl, &sl);

	/* Drop the leading 0xd2 (tag 18). */
	assert_int_equal(s[0], 0xd2);
	n = sl - 1;
	{
		uint8_t *c = malloc(n);

		memcpy(c, s + 1, n);
		expect_realm_cose(f, c, n, RK_VERIFY_OK, NULL);
	}
	free(s);
	free(rp);
}

#define REALM_CASE(mod, code, frag)                 \
	do {                                        \
		ta_claims_free(&f->realm);          \
		ta_realm_claims(&f->realm, f->rak); \
		mod;                                \
		expect_token(f, 907, code, frag);   \
	} while (0)

static void test_realm_claims(void **state)
{
	struct fixture *f = *state;
	struct ta_claims *r = &f->realm;
	cbor_item_t *rems;

	REALM_CASE(ta_set(r, 10, ta_bstr_fill(1, 63)), RK_VERIFY_ERR_CLAIM_SIZE,
		   "realm claim 10 (challenge) is 63 bytes, expected 64");
	REALM_CASE(ta_del(r, 10), RK_VERIFY_ERR_CLAIM_MISSING, "realm claim 10 (challenge) is missing");
	REALM_CASE(ta_set(r, 10, cbor_build_string("x")), RK_VERIFY_ERR_CLAIM_TYPE,
		   "is a text string, expected a byte string");
	REALM_CASE(ta_add(r, 10, ta_bstr_fill(1, 64)), RK_VERIFY_ERR_CLAIM_DUPLICATE, "more than once");
	REALM_CASE(ta_set(r, 44235, ta_bstr_fill(1, 65)), RK_VERIFY_ERR_CLAIM_SIZE,
		   "44235 (personalization value) is 65 bytes");
	REALM_CASE(ta_del(r, 256), RK_VERIFY_ERR_CLAIM_MISSING, "256 (instance id)");
	REALM_CASE(ta_set(r, 256, ta_bstr_fill(1, 32)), RK_VERIFY_ERR_CLAIM_SIZE, "expected 33");
	REALM_CASE(ta_set(r, 44243, rk_cbor_int(2)), RK_VERIFY_ERR_CLAIM_VALUE, "MEC policy");
	REALM_CASE(ta_set(r, 44243, rk_cbor_int(-1)), RK_VERIFY_ERR_CLAIM_TYPE,
		   "expected an unsigned integer");
	REALM_CASE(ta_del(r, 44243), RK_VERIFY_ERR_CLAIM_MISSING, "MEC policy");
	REALM_CASE(ta_set(r, 44236, cbor_build_string("sha-1")), RK_VERIFY_ERR_CLAIM_VALUE,
		   "\"sha-1\" is not supported");
	REALM_CASE(ta_set(r, 44236,
			  cbor_build_stringn("sha\0"
					     "-256",
					     8)),
		   RK_VERIFY_ERR_CLAIM_VALUE, "NUL");
	REALM_CASE(ta_set(r, 44240, rk_cbor_int(1)), RK_VERIFY_ERR_CLAIM_TYPE, "44240");
	REALM_CASE(ta_set(r, 44238, ta_bstr_fill(1, 48)), RK_VERIFY_ERR_CLAIM_SIZE,
		   "44238 (RIM) is 48 bytes, but sha-256 needs 32");
	REALM_CASE(ta_set(r, 44236, cbor_build_string("sha-384")), RK_VERIFY_ERR_CLAIM_SIZE,
		   "sha-384 needs 48");
	REALM_CASE(ta_set(r, 44239, ta_bstr_fill(1, 32)), RK_VERIFY_ERR_CLAIM_TYPE, "expected an array");
	rems = cbor_new_definite_array(3);
	for (int i = 0; i < 3; i++)
		assert_true(rk_cbor_array_push(rems, ta_bstr_fill(1, 32)));
	REALM_CASE(ta_set(r, 44239, cbor_incref(rems)), RK_VERIFY_ERR_CLAIM_SIZE,
		   "has 3 entries, expected 4");
	cbor_decref(&rems);
	rems = cbor_new_definite_array(4);
	for (int i = 0; i < 4; i++)
		assert_true(rk_cbor_array_push(rems, ta_bstr_fill(1, i == 2 ? 31 : 32)));
	REALM_CASE(ta_set(r, 44239, cbor_incref(rems)), RK_VERIFY_ERR_CLAIM_SIZE, "31 bytes");
	cbor_decref(&rems);
	REALM_CASE(ta_set(r, 265, cbor_build_string("tag:arm.com,2025:realm#3.0.0")),
		   RK_VERIFY_ERR_REALM_PROFILE, "unsupported realm profile \"tag:arm.com,2025:realm#3.0.0\"");
	REALM_CASE(ta_set(r, 265, rk_cbor_int(5)), RK_VERIFY_ERR_CLAIM_TYPE, "265 (profile)");
	REALM_CASE(ta_del(r, 265), RK_VERIFY_ERR_REALM_PROFILE, "no profile");
	/* 1.0 profile: no 256/44243 needed (extra ones ignored). */
	REALM_CASE(
		(ta_set(r, 265, cbor_build_string(RK_REALM_PROFILE_1_0)), ta_del(r, 256), ta_del(r, 44243)),
		RK_VERIFY_OK, NULL);
	REALM_CASE(ta_set(r, 265, cbor_build_string(RK_REALM_PROFILE_1_0)), RK_VERIFY_OK, NULL);
	/* SHA-512 measurements. */
	rems = cbor_new_definite_array(4);
	for (int i = 0; i < 4; i++)
		assert_true(rk_cbor_array_push(rems, ta_bstr_fill(1, 64)));
	REALM_CASE((ta_set(r, 44236, cbor_build_string("sha-512")), ta_set(r, 44238, ta_bstr_fill(2, 64)),
		    ta_set(r, 44239, cbor_incref(rems))),
		   RK_VERIFY_OK, NULL);
	cbor_decref(&rems);
	/* Unknown extra claims are ignored, ... */
	REALM_CASE(ta_set(r, 99999, cbor_build_string("extension")), RK_VERIFY_OK, NULL);
	/* ... also with one-byte tag heads nested in them (libcbor 0.8 refused those) */
	REALM_CASE(ta_set(r, 99999, small_tags_claim()), RK_VERIFY_OK, NULL);
	/* Sample RAK but the realm token signed by another key. */
	{
		struct rk_attest_key *other = NULL;
		size_t len;
		uint8_t *tok;

		ta_claims_free(&f->realm);
		ta_realm_claims(&f->realm, f->rak);
		assert_int_equal(rk_attest_key_generate(&other), 0);
		tok = ta_token(907, &f->realm, other, &f->plat, f->cpak, &len);
		expect(tok, len, f->cpak, RK_VERIFY_ERR_REALM_SIGNATURE,
		       "does not verify with the RAK in claim 44237");
		free(tok);
		rk_attest_key_free(other);
	}
	ta_claims_free(&f->realm);
	ta_realm_claims(&f->realm, f->rak);
}

static cbor_item_t *cose_key(int kty, int crv, size_t xl, bool y_bool)
{
	cbor_item_t *m = cbor_new_definite_map(4);
	uint8_t *b;
	size_t n;
	cbor_item_t *out;

	assert_true(rk_cbor_map_put(m, rk_cbor_int(1), rk_cbor_int(kty)));
	assert_true(rk_cbor_map_put(m, rk_cbor_int(-1), rk_cbor_int(crv)));
	assert_true(rk_cbor_map_put(m, rk_cbor_int(-2), ta_bstr_fill(7, xl)));
	assert_true(
		rk_cbor_map_put(m, rk_cbor_int(-3), y_bool ? cbor_build_bool(true) : ta_bstr_fill(7, 48)));
	b = ta_serialize(m, &n);
	out = ta_bstr(b, n);
	free(b);
	cbor_decref(&m);
	return out;
}

/* A well-formed P-384 COSE_Key plus one more entry whose label is key (or text if not NULL). */
static cbor_item_t *cose_key_plus(int64_t key, const char *text)
{
	cbor_item_t *m = cbor_new_definite_map(5);
	uint8_t *b;
	size_t n;
	cbor_item_t *out;

	assert_true(rk_cbor_map_put(m, rk_cbor_int(1), rk_cbor_int(2)));
	assert_true(rk_cbor_map_put(m, rk_cbor_int(-1), rk_cbor_int(2)));
	assert_true(rk_cbor_map_put(m, rk_cbor_int(-2), ta_bstr_fill(7, 48)));
	assert_true(rk_cbor_map_put(m, rk_cbor_int(-3), ta_bstr_fill(7, 48)));
	assert_true(rk_cbor_map_put(m, text ? cbor_build_string(text) : rk_cbor_int(key),
				    key == -2 || key == -3 ? ta_bstr_fill(8, 48) : rk_cbor_int(2)));
	b = ta_serialize(m, &n);
	out = ta_bstr(b, n);
	free(b);
	cbor_decref(&m);
	return out;
}

/* The same with the text label twice. */
static cbor_item_t *cose_key_text_twice(const char *text)
{
	cbor_item_t *m = cbor_new_definite_map(6);
	uint8_t *b;
	size_t n;
	cbor_item_t *out;

	assert_true(rk_cbor_map_put(m, rk_cbor_int(1), rk_cbor_int(2)));
	assert_true(rk_cbor_map_put(m, cbor_build_string(text), rk_cbor_int(1)));
	assert_true(rk_cbor_map_put(m, rk_cbor_int(-1), rk_cbor_int(2)));
	assert_true(rk_cbor_map_put(m, rk_cbor_int(-2), ta_bstr_fill(7, 48)));
	assert_true(rk_cbor_map_put(m, rk_cbor_int(-3), ta_bstr_fill(7, 48)));
	assert_true(rk_cbor_map_put(m, cbor_build_string(text), rk_cbor_int(2)));
	b = ta_serialize(m, &n);
	out = ta_bstr(b, n);
	free(b);
	cbor_decref(&m);
	return out;
}

static void test_rak_claim(void **state)
{
	struct fixture *f = *state;
	struct ta_claims *r = &f->realm;
	uint8_t raw[97];
	size_t n;

	REALM_CASE(ta_del(r, 44237), RK_VERIFY_ERR_CLAIM_MISSING, "44237 (RAK public key)");
	REALM_CASE(ta_set(r, 44237, cbor_build_string("key")), RK_VERIFY_ERR_CLAIM_TYPE, "44237");
	REALM_CASE(ta_set(r, 44237, ta_bstr_fill(0x04, 10)), RK_VERIFY_ERR_RAK,
		   "neither a 97-byte raw P-384 point nor a COSE_Key");
	REALM_CASE(ta_set(r, 44237, ta_bstr("\x80", 1)), RK_VERIFY_ERR_RAK, "expected a COSE_Key");
	REALM_CASE(ta_set(r, 44237, cose_key(1, 2, 48, false)), RK_VERIFY_ERR_RAK, "not EC2");
	REALM_CASE(ta_set(r, 44237, cose_key(2, 1, 48, false)), RK_VERIFY_ERR_RAK, "not P-384");
	REALM_CASE(ta_set(r, 44237, cose_key(2, 2, 47, false)), RK_VERIFY_ERR_RAK, "47 and 48");
	REALM_CASE(ta_set(r, 44237, cose_key(2, 2, 48, true)), RK_VERIFY_ERR_RAK, "compressed");
	/* a label twice (RFC 9052 §7: labels are unique): said so, whichever label */
	REALM_CASE(ta_set(r, 44237, cose_key_plus(-2, NULL)), RK_VERIFY_ERR_RAK,
		   "RAK COSE_Key: duplicate label -2 in COSE_Key");
	REALM_CASE(ta_set(r, 44237, cose_key_plus(-3, NULL)), RK_VERIFY_ERR_RAK, "duplicate label -3 in");
	REALM_CASE(ta_set(r, 44237, cose_key_plus(1, NULL)), RK_VERIFY_ERR_RAK, "duplicate label 1 in");
	REALM_CASE(ta_set(r, 44237, cose_key_plus(-1, NULL)), RK_VERIFY_ERR_RAK, "duplicate label -1 in");
	REALM_CASE(ta_set(r, 44237, cose_key_text_twice("kid")), RK_VERIFY_ERR_RAK,
		   "duplicate label \"kid\" in COSE_Key");
	/* other labels once each: not a duplicate (the point is not on the curve) */
	REALM_CASE(ta_set(r, 44237, cose_key_plus(99, NULL)), RK_VERIFY_ERR_RAK, "not a valid P-384");
	REALM_CASE(ta_set(r, 44237, cose_key_plus(0, "kid")), RK_VERIFY_ERR_RAK, "not a valid P-384");
	/* Well-formed but not on the curve. */
	REALM_CASE(ta_set(r, 44237, cose_key(2, 2, 48, false)), RK_VERIFY_ERR_RAK,
		   "not a valid P-384 public key");
	memset(raw, 7, sizeof(raw));
	raw[0] = 0x04;
	REALM_CASE(ta_set(r, 44237, ta_bstr(raw, 97)), RK_VERIFY_ERR_RAK, "not a valid P-384");
	/* A raw RAK point is accepted in any profile; the binding hashes those bytes. */
	{
		size_t len;
		uint8_t *tok, h[32];

		assert_int_equal(rk_attest_key_public_raw(f->rak, raw, sizeof(raw), &n), 0);
		ta_claims_free(r);
		ta_realm_claims(r, f->rak);
		ta_set(r, 44237, ta_bstr(raw, 97));
		/* platform challenge still bound to the COSE_Key: refused */
		tok = ta_token(907, r, f->rak, &f->plat, f->cpak, &len);
		expect(tok, len, f->cpak, RK_VERIFY_ERR_BINDING, "not bound");
		free(tok);
		assert_int_equal(rk_attest_digest(RK_ATTEST_HASH_SHA256, raw, 97, h), 0);
		ta_set(&f->plat, 10, ta_bstr(h, 32));
		tok = ta_token(907, r, f->rak, &f->plat, f->cpak, &len);
		expect(tok, len, f->cpak, RK_VERIFY_OK, NULL);
		free(tok);
	}
	ta_claims_free(&f->plat);
	ta_platform_claims(&f->plat, f->rak);
	ta_claims_free(r);
	ta_realm_claims(r, f->rak);
}

#define PLAT_CASE(mod, code, frag)                    \
	do {                                          \
		ta_claims_free(&f->plat);             \
		ta_platform_claims(&f->plat, f->rak); \
		mod;                                  \
		expect_token(f, 907, code, frag);     \
	} while (0)

static void test_platform_claims(void **state)
{
	struct fixture *f = *state;
	struct ta_claims *p = &f->plat;
	cbor_item_t *sw;

	PLAT_CASE(ta_set(p, 99999, small_tags_claim()), RK_VERIFY_OK, NULL);
	PLAT_CASE(ta_set(p, 265, cbor_build_string("http://arm.com/psa/2.0.0")),
		  RK_VERIFY_ERR_PLATFORM_PROFILE,
		  "unsupported platform profile \"http://arm.com/psa/2.0.0\"");
	PLAT_CASE(ta_set(p, 265, cbor_build_string("evil\n\"profile\x01")), RK_VERIFY_ERR_PLATFORM_PROFILE,
		  "evil\\x0a\\x22profile\\x01");
	PLAT_CASE(ta_del(p, 265), RK_VERIFY_ERR_CLAIM_MISSING, "platform claim 265 (profile)");
	PLAT_CASE(ta_set(p, 10, ta_bstr_fill(1, 32)), RK_VERIFY_ERR_BINDING, "not bound");
	PLAT_CASE(ta_set(p, 10, ta_bstr_fill(1, 20)), RK_VERIFY_ERR_CLAIM_SIZE,
		  "platform claim 10 (challenge) is 20 bytes");
	PLAT_CASE(ta_set(p, 10, ta_bstr_fill(1, 64)), RK_VERIFY_ERR_BINDING, "sha-256");
	PLAT_CASE(ta_set(p, 2396, ta_bstr_fill(1, 31)), RK_VERIFY_ERR_CLAIM_SIZE,
		  "2396 (implementation id) is 31 bytes, expected 32");
	PLAT_CASE(ta_del(p, 2396), RK_VERIFY_ERR_CLAIM_MISSING, "2396");
	PLAT_CASE(ta_set(p, 256, ta_bstr_fill(1, 17)), RK_VERIFY_ERR_CLAIM_SIZE, "256 (instance id)");
	PLAT_CASE(ta_set(p, 2401, cbor_build_string("cfg")), RK_VERIFY_ERR_CLAIM_TYPE, "2401 (config)");
	PLAT_CASE(ta_set(p, 2395, rk_cbor_int(0x7000)), RK_VERIFY_ERR_CLAIM_VALUE,
		  "0x7000 is outside the defined ranges");
	PLAT_CASE(ta_set(p, 2395, rk_cbor_int(0x3100)), RK_VERIFY_ERR_CLAIM_VALUE, "0x3100");
	PLAT_CASE(ta_set(p, 2395, rk_cbor_int(0x10000)), RK_VERIFY_ERR_CLAIM_VALUE, "maximum");
	PLAT_CASE(ta_set(p, 2395, rk_cbor_int(0x0000)), RK_VERIFY_OK, NULL);
	PLAT_CASE(ta_set(p, 2395, rk_cbor_int(0x60ff)), RK_VERIFY_OK, NULL);
	PLAT_CASE(ta_del(p, 2402), RK_VERIFY_ERR_CLAIM_MISSING, "2402");
	PLAT_CASE(ta_set(p, 2400, rk_cbor_int(1)), RK_VERIFY_ERR_CLAIM_TYPE, "2400");
	PLAT_CASE(ta_set(p, 2399, cbor_new_definite_map(0)), RK_VERIFY_ERR_CLAIM_TYPE,
		  "2399 (software components) is a map, expected an array");
	sw = cbor_new_definite_array(2);
	assert_true(rk_cbor_array_push(sw, ta_sw_component("A")));
	assert_true(rk_cbor_array_push(sw, rk_cbor_int(3)));
	PLAT_CASE(ta_set(p, 2399, cbor_incref(sw)), RK_VERIFY_ERR_CLAIM_TYPE,
		  "platform software component 1 is a unsigned integer");
	cbor_decref(&sw);
	{
		cbor_item_t *m = cbor_new_definite_map(1);

		assert_true(rk_cbor_map_put(m, rk_cbor_int(5), ta_bstr_fill(1, 32)));
		sw = cbor_new_definite_array(1);
		assert_true(rk_cbor_array_push(sw, m));
		PLAT_CASE(ta_set(p, 2399, cbor_incref(sw)), RK_VERIFY_ERR_CLAIM_MISSING,
			  "platform software component 0 claim 2 (measurement value) is missing");
		cbor_decref(&sw);
	}
	PLAT_CASE(ta_set(p, 2399, cbor_new_definite_array(0)), RK_VERIFY_OK, NULL);
	PLAT_CASE(ta_add(p, 2401, ta_bstr_fill(1, 4)), RK_VERIFY_ERR_CLAIM_DUPLICATE, "2401");
	PLAT_CASE(ta_set(p, 2401, ta_bstr(NULL, 0)), RK_VERIFY_OK, NULL);
	ta_claims_free(p);
	ta_platform_claims(p, f->rak);
}

/* 44240 = sha-512: the binding uses SHA-512 over the RAK claim. */
static void test_binding_hash_algo(void **state)
{
	struct fixture *f = *state;
	size_t n, len;
	uint8_t *cose = ta_rak_cose(f->rak, &n), h[64], *tok;

	assert_int_equal(rk_attest_digest(RK_ATTEST_HASH_SHA512, cose, n, h), 0);
	ta_set(&f->realm, 44240, cbor_build_string("sha-512"));
	expect_token(f, 907, RK_VERIFY_ERR_BINDING, "sha-512(RAK claim 44237)");
	ta_set(&f->plat, 10, ta_bstr(h, 64));
	tok = ta_token(399, &f->realm, f->rak, &f->plat, f->cpak, &len);
	expect(tok, len, f->cpak, RK_VERIFY_OK, NULL);
	free(tok);
	free(cose);
	ta_claims_free(&f->realm);
	ta_realm_claims(&f->realm, f->rak);
	ta_claims_free(&f->plat);
	ta_platform_claims(&f->plat, f->rak);
}

/* A P-256 CPAK signs with ES256; checked against the matching key only. */
static void test_platform_es256(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	BIO *bio = BIO_new(BIO_s_mem());
	struct rk_attest_key *p256 = NULL;
	char *pem;
	long pem_len;
	size_t len;
	uint8_t *tok;

	assert_non_null(pk);
	assert_int_equal(PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL), 1);
	pem_len = BIO_get_mem_data(bio, &pem);
	assert_int_equal(rk_attest_key_load_pem_mem(pem, (size_t)pem_len, &p256), 0);
	assert_int_equal(rk_attest_key_coord_size(p256), 32);
	tok = ta_token(907, &f->realm, f->rak, &f->plat, p256, &len);
	expect(tok, len, p256, RK_VERIFY_OK, NULL);
	expect(tok, len, NULL, RK_VERIFY_OK, NULL);
	expect(tok, len, f->cpak, RK_VERIFY_ERR_COSE_ALG, "does not match the CPAK");
	free(tok);
	/* The RAK must be P-384: a P-256 RAK cannot build a token. */
	{
		struct rk_token_params params = { .format = RK_TOKEN_FORMAT_2_0,
						  .rak = p256,
						  .cpak = f->cpak };
		uint8_t *out = NULL;

		assert_int_equal(rk_token_build_alloc(&params, &out, &len), -EINVAL);
	}
	rk_attest_key_free(p256);
	BIO_free(bio);
	EVP_PKEY_free(pk);
}

/* Legacy CCA-SSD platform profile with a profile-less realm token. */
static void test_legacy_combinations(void **state)
{
	struct fixture *f = *state;

	ta_set(&f->plat, 265, cbor_build_string(RK_PLATFORM_PROFILE_LEGACY));
	ta_del(&f->realm, 265);
	expect_token(f, 399, RK_VERIFY_OK, NULL);
	/* A 2.0 realm profile with the legacy platform profile is accepted too. */
	ta_set(&f->realm, 265, cbor_build_string(RK_REALM_PROFILE_2_0));
	expect_token(f, 907, RK_VERIFY_OK, NULL);
	ta_claims_free(&f->realm);
	ta_realm_claims(&f->realm, f->rak);
	ta_claims_free(&f->plat);
	ta_platform_claims(&f->plat, f->rak);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baseline_valid),  cmocka_unit_test(test_top_level),
		cmocka_unit_test(test_cbor_limits),     cmocka_unit_test(test_cbor_small_tags),
		cmocka_unit_test(test_cose_structure),  cmocka_unit_test(test_untagged_cose_valid),
		cmocka_unit_test(test_realm_claims),    cmocka_unit_test(test_rak_claim),
		cmocka_unit_test(test_platform_claims), cmocka_unit_test(test_binding_hash_algo),
		cmocka_unit_test(test_platform_es256),  cmocka_unit_test(test_legacy_combinations),
	};

	/* every test here starts from the samples' keys (the group setup) */
	if (!ta_have("rak-sample.pem") || !ta_have("cpak-sample.pem")) {
		printf("SKIP: the public attestation samples are not in %s\n", ta_path(""));
		return 0;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
