/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the attestation tests (tests/attest/test_attest*.c): locating
 * the public sample material, reading files, building tokens with arbitrary
 * (also invalid) claims so that each verifier check can be reached.
 */
#ifndef RK_TEST_ATTEST_UTIL_H
#define RK_TEST_ATTEST_UTIL_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <cbor.h>

#include "attest/attest_internal.h"
#include "realmkit/attest.h"

/* $RK_SOURCE_DIR/../shared/testdata/attestation/<name>, or relative to this file. */
static inline const char *ta_path(const char *name)
{
	static char buf[4096];
	const char *src = getenv("RK_SOURCE_DIR");

	if (src && *src) {
		snprintf(buf, sizeof(buf), "%s/../shared/testdata/attestation/%s", src, name);
	} else {
		char dir[2048];
		const char *slash;

		snprintf(dir, sizeof(dir), "%s", __FILE__);
		slash = strrchr(dir, '/');
		if (slash)
			dir[slash - dir] = '\0';
		else
			snprintf(dir, sizeof(dir), ".");
		snprintf(buf, sizeof(buf), "%s/../../../shared/testdata/attestation/%s", dir, name);
	}
	return buf;
}

/*
 * The public samples are not in the tree (../shared/testdata/attestation next to
 * the checkout): without them a test that needs one is skipped, and says so.
 */
static inline bool ta_have(const char *name)
{
	return !(access(ta_path(name), F_OK) && errno == ENOENT);
}

static inline void ta_need(const char *name)
{
	if (!ta_have(name)) {
		print_message("SKIP: the public attestation sample %s is not there (it comes with the "
			      "project's shared test data, ../shared/testdata/attestation)\n",
			      ta_path(name));
		skip();
	}
}

static inline uint8_t *ta_read(const char *name, size_t *len)
{
	uint8_t *buf = NULL;
	int ret;

	ta_need(name);
	ret = rk_attest_read_file(ta_path(name), 1u << 20, &buf, len);

	if (ret)
		fail_msg("cannot read %s: %s", ta_path(name), strerror(-ret));
	return buf;
}

static inline struct rk_attest_key *ta_key(const char *name)
{
	struct rk_attest_key *k = NULL;
	int ret;

	ta_need(name);
	ret = rk_attest_key_load_pem(ta_path(name), &k);

	if (ret)
		fail_msg("cannot load key %s: %s", ta_path(name), strerror(-ret));
	return k;
}

/* Deterministic PRNG (xorshift64*) so failures reproduce. */
static inline uint64_t ta_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/* ---- claim sets: an editable list of (key, item) turned into a map ---- */

#define TA_MAX_CLAIMS 24

struct ta_claims {
	int64_t key[TA_MAX_CLAIMS];
	cbor_item_t *val[TA_MAX_CLAIMS];
	size_t n;
};

static inline void ta_set(struct ta_claims *cs, int64_t key, cbor_item_t *val)
{
	assert_non_null(val);
	for (size_t i = 0; i < cs->n; i++) {
		if (cs->key[i] == key) {
			cbor_decref(&cs->val[i]);
			cs->val[i] = val;
			return;
		}
	}
	assert_true(cs->n < TA_MAX_CLAIMS);
	cs->key[cs->n] = key;
	cs->val[cs->n++] = val;
}

/* Append even if the key exists (a duplicate). */
static inline void ta_add(struct ta_claims *cs, int64_t key, cbor_item_t *val)
{
	assert_true(cs->n < TA_MAX_CLAIMS);
	cs->key[cs->n] = key;
	cs->val[cs->n++] = val;
}

static inline void ta_del(struct ta_claims *cs, int64_t key)
{
	for (size_t i = 0; i < cs->n; i++) {
		if (cs->key[i] == key) {
			cbor_decref(&cs->val[i]);
			memmove(&cs->key[i], &cs->key[i + 1], (cs->n - i - 1) * sizeof(cs->key[0]));
			memmove(&cs->val[i], &cs->val[i + 1], (cs->n - i - 1) * sizeof(cs->val[0]));
			cs->n--;
			return;
		}
	}
}

static inline void ta_claims_free(struct ta_claims *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		cbor_decref(&cs->val[i]);
	cs->n = 0;
}

static inline cbor_item_t *ta_bstr(const void *p, size_t len)
{
	static const uint8_t z[1];

	return cbor_build_bytestring(len ? p : z, len);
}

static inline cbor_item_t *ta_bstr_fill(uint8_t byte, size_t len)
{
	uint8_t buf[256];

	assert_true(len <= sizeof(buf));
	memset(buf, byte, len);
	return ta_bstr(buf, len);
}

static inline uint8_t *ta_serialize(const cbor_item_t *item, size_t *len)
{
	uint8_t *out = NULL;

	assert_int_equal(rk_cbor_serialize(item, &out, len), 0);
	return out;
}

static inline uint8_t *ta_claims_bytes(const struct ta_claims *cs, size_t *len)
{
	cbor_item_t *map = cbor_new_definite_map(cs->n);
	uint8_t *out;

	for (size_t i = 0; i < cs->n; i++) {
		cbor_incref(cs->val[i]);
		assert_true(rk_cbor_map_put(map, rk_cbor_int(cs->key[i]), cs->val[i]));
	}
	out = ta_serialize(map, len);
	cbor_decref(&map);
	return out;
}

/* The RAK claim bytes (COSE_Key) of a key. */
static inline uint8_t *ta_rak_cose(const struct rk_attest_key *rak, size_t *len)
{
	uint8_t *out = NULL;

	assert_int_equal(rk_attest_key_cose_alloc(rak, &out, len), 0);
	return out;
}

/* A valid 2.0 realm claim set for rak (SHA-256 measurements). */
static inline void ta_realm_claims(struct ta_claims *cs, const struct rk_attest_key *rak)
{
	size_t n;
	uint8_t *cose = ta_rak_cose(rak, &n);
	cbor_item_t *rems = cbor_new_definite_array(4);

	memset(cs, 0, sizeof(*cs));
	ta_set(cs, RK_CLAIM_CHALLENGE, ta_bstr_fill(0xc1, 64));
	ta_set(cs, RK_CLAIM_INSTANCE_ID, ta_bstr_fill(0x01, 33));
	ta_set(cs, RK_CLAIM_REALM_RPV, ta_bstr_fill(0x70, 64));
	ta_set(cs, RK_CLAIM_REALM_PUB_KEY, ta_bstr(cose, n));
	ta_set(cs, RK_CLAIM_REALM_HASH_ALGO, cbor_build_string("sha-256"));
	ta_set(cs, RK_CLAIM_REALM_PUB_KEY_HASH_ALGO, cbor_build_string("sha-256"));
	ta_set(cs, RK_CLAIM_REALM_MEC_POLICY, rk_cbor_int(1));
	ta_set(cs, RK_CLAIM_PROFILE, cbor_build_string(RK_REALM_PROFILE_2_0));
	ta_set(cs, RK_CLAIM_REALM_RIM, ta_bstr_fill(0xa0, 32));
	for (int i = 0; i < 4; i++)
		assert_true(rk_cbor_array_push(rems, ta_bstr_fill((uint8_t)(0xb0 + i), 32)));
	ta_set(cs, RK_CLAIM_REALM_REMS, rems);
	free(cose);
}

static inline cbor_item_t *ta_sw_component(const char *type)
{
	cbor_item_t *m = cbor_new_definite_map(4);

	assert_true(rk_cbor_map_put(m, rk_cbor_int(1), cbor_build_string(type)));
	assert_true(rk_cbor_map_put(m, rk_cbor_int(5), ta_bstr_fill(0x55, 32)));
	assert_true(rk_cbor_map_put(m, rk_cbor_int(2), ta_bstr_fill(0x22, 32)));
	assert_true(rk_cbor_map_put(m, rk_cbor_int(6), cbor_build_string("sha-256")));
	return m;
}

/* A valid platform claim set bound to rak. */
static inline void ta_platform_claims(struct ta_claims *cs, const struct rk_attest_key *rak)
{
	size_t n;
	uint8_t *cose = ta_rak_cose(rak, &n);
	uint8_t h[32];
	cbor_item_t *sw = cbor_new_definite_array(2);

	assert_int_equal(rk_attest_digest(RK_ATTEST_HASH_SHA256, cose, n, h), 0);
	memset(cs, 0, sizeof(*cs));
	ta_set(cs, RK_CLAIM_PROFILE, cbor_build_string(RK_PLATFORM_PROFILE));
	ta_set(cs, RK_CLAIM_CHALLENGE, ta_bstr(h, 32));
	ta_set(cs, RK_CLAIM_PLAT_IMPL_ID, ta_bstr_fill(0x1d, 32));
	ta_set(cs, RK_CLAIM_INSTANCE_ID, ta_bstr_fill(0x01, 33));
	ta_set(cs, RK_CLAIM_PLAT_CONFIG, ta_bstr_fill(0xcf, 4));
	ta_set(cs, RK_CLAIM_PLAT_LIFECYCLE, rk_cbor_int(0x3003));
	ta_set(cs, RK_CLAIM_PLAT_HASH_ALGO, cbor_build_string("sha-256"));
	assert_true(rk_cbor_array_push(sw, ta_sw_component("BL1")));
	assert_true(rk_cbor_array_push(sw, ta_sw_component("RMM")));
	ta_set(cs, RK_CLAIM_PLAT_SW_COMPONENTS, sw);
	free(cose);
}

/* COSE_Sign1 of payload with key; protected header bytes may be overridden. */
static inline uint8_t *ta_sign1(const struct rk_attest_key *key, const uint8_t *payload, size_t payload_len,
				size_t *len)
{
	uint8_t *out = NULL;

	assert_int_equal(rk_cose_sign1_create(key, payload, payload_len, &out, len), 0);
	return out;
}

static inline cbor_item_t *ta_entry(uint64_t tag, const uint8_t *p, size_t len)
{
	cbor_item_t *arr;

	if (tag != RK_TOKEN_TAG_CCA_2_0)
		return ta_bstr(p, len);
	arr = cbor_new_definite_array(2);
	assert_true(rk_cbor_array_push(arr, rk_cbor_int(263)));
	assert_true(rk_cbor_array_push(arr, ta_bstr(p, len)));
	return arr;
}

/* Wrap two COSE_Sign1s into a top-level token. */
static inline uint8_t *ta_wrap(uint64_t tag, const uint8_t *plat, size_t plat_len, const uint8_t *realm,
			       size_t realm_len, size_t *len)
{
	cbor_item_t *map = cbor_new_definite_map(2), *t;
	uint8_t *out;

	assert_true(rk_cbor_map_put(map, rk_cbor_int(44234), ta_entry(tag, plat, plat_len)));
	assert_true(rk_cbor_map_put(map, rk_cbor_int(44241), ta_entry(tag, realm, realm_len)));
	t = rk_cbor_tag(tag, map);
	out = ta_serialize(t, len);
	cbor_decref(&t);
	return out;
}

/* Build a token from claim sets: realm signed by rak, platform by cpak. */
static inline uint8_t *ta_token(uint64_t tag, const struct ta_claims *realm, const struct rk_attest_key *rak,
				const struct ta_claims *plat, const struct rk_attest_key *cpak, size_t *len)
{
	size_t rl, pl, rsl, psl;
	uint8_t *rp = ta_claims_bytes(realm, &rl);
	uint8_t *pp = ta_claims_bytes(plat, &pl);
	uint8_t *rs = ta_sign1(rak, rp, rl, &rsl);
	uint8_t *ps = ta_sign1(cpak, pp, pl, &psl);
	uint8_t *out = ta_wrap(tag, ps, psl, rs, rsl, len);

	free(rp);
	free(pp);
	free(rs);
	free(ps);
	return out;
}

/* Verify and return the error code (claims released). */
static inline enum rk_verify_code
ta_verify_code(const uint8_t *buf, size_t len, const struct rk_verify_opts *opts, struct rk_verify_error *err)
{
	struct rk_token_claims c;
	struct rk_verify_error e;
	int ret = rk_token_verify(buf, len, opts, &c, &e);

	rk_token_claims_release(&c);
	if (err)
		*err = e;
	if (ret == 0)
		assert_int_equal(e.code, RK_VERIFY_OK);
	else
		assert_int_not_equal(e.code, RK_VERIFY_OK);
	return e.code;
}

#endif /* RK_TEST_ATTEST_UTIL_H */
