/* SPDX-License-Identifier: MIT */
/*
 * Parsing and verification of CCA attestation tokens:
 *   tag 907 {44234: [263, bstr], 44241: [263, bstr]}   (RMM 2.0)
 *   tag 399 {44234: bstr, 44241: bstr}                  (RMM 1.0, legacy CCA-SSD)
 * Every input byte is untrusted: each step checks types and sizes and
 * reports a precise reason (docs/attestation.md lists them).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest_internal.h"

/* A claims map being read, for error messages. */
struct cmap {
	const cbor_item_t *map;
	char tok[64]; /* "realm", "platform", "platform software component 3" */
	bool swc;     /* a software component map */
	struct rk_verify_error *err;
};

static const char *claim_name(const struct cmap *m, int64_t key)
{
	if (m->swc) {
		switch (key) {
		case RK_SWC_MEASUREMENT_TYPE:
			return "measurement type";
		case RK_SWC_MEASUREMENT_VALUE:
			return "measurement value";
		case RK_SWC_VERSION:
			return "version";
		case RK_SWC_SIGNER_ID:
			return "signer id";
		case RK_SWC_HASH_ALGO:
			return "hash algorithm";
		}
		return "?";
	}
	switch (key) {
	case RK_CLAIM_CHALLENGE:
		return "challenge";
	case RK_CLAIM_INSTANCE_ID:
		return "instance id";
	case RK_CLAIM_PROFILE:
		return "profile";
	case RK_CLAIM_REALM_RPV:
		return "personalization value";
	case RK_CLAIM_REALM_HASH_ALGO:
		return "measurement hash algorithm";
	case RK_CLAIM_REALM_PUB_KEY:
		return "RAK public key";
	case RK_CLAIM_REALM_RIM:
		return "RIM";
	case RK_CLAIM_REALM_REMS:
		return "REMs";
	case RK_CLAIM_REALM_PUB_KEY_HASH_ALGO:
		return "RAK hash algorithm";
	case RK_CLAIM_REALM_MEC_POLICY:
		return "MEC policy";
	case RK_CLAIM_PLAT_LIFECYCLE:
		return "security lifecycle";
	case RK_CLAIM_PLAT_IMPL_ID:
		return "implementation id";
	case RK_CLAIM_PLAT_SW_COMPONENTS:
		return "software components";
	case RK_CLAIM_PLAT_VERIFICATION_SERVICE:
		return "verification service";
	case RK_CLAIM_PLAT_CONFIG:
		return "config";
	case RK_CLAIM_PLAT_HASH_ALGO:
		return "hash algorithm";
	}
	return "?";
}

/* "realm claim 44238 (RIM)" / "platform software component 2 claim 5 (signer id)" */
#define CLAIM_FMT "%s claim %" PRId64 " (%s)"
#define CLAIM_ARGS(m, key) (m)->tok, (key), claim_name((m), (key))

static int find(const struct cmap *m, int64_t key, bool mandatory, cbor_item_t **v)
{
	int r = rk_cbor_map_find(m->map, key, v);

	if (r == -EEXIST)
		return rk_verify_fail(m->err, RK_VERIFY_ERR_CLAIM_DUPLICATE,
				      CLAIM_FMT " appears more than once", CLAIM_ARGS(m, key));
	if (r == -ENOENT && mandatory)
		return rk_verify_fail(m->err, RK_VERIFY_ERR_CLAIM_MISSING, CLAIM_FMT " is missing",
				      CLAIM_ARGS(m, key));
	return 0;
}

static int wrong_type(const struct cmap *m, int64_t key, const cbor_item_t *v, const char *want)
{
	return rk_verify_fail(m->err, RK_VERIFY_ERR_CLAIM_TYPE, CLAIM_FMT " is a %s, expected %s",
			      CLAIM_ARGS(m, key), rk_cbor_type_name(v), want);
}

/* *p = NULL when absent (and not mandatory). */
static int get_bstr(const struct cmap *m, int64_t key, bool mandatory, const uint8_t **p, size_t *len)
{
	cbor_item_t *v;
	int ret = find(m, key, mandatory, &v);

	*p = NULL;
	*len = 0;
	if (ret || !v)
		return ret;
	if (!cbor_isa_bytestring(v) || !cbor_bytestring_is_definite(v))
		return wrong_type(m, key, v, "a byte string");
	*len = cbor_bytestring_length(v);
	*p = *len ? cbor_bytestring_handle(v) : (const uint8_t *)"";
	return 0;
}

static int check_size(const struct cmap *m, int64_t key, size_t len, size_t want)
{
	if (len != want)
		return rk_verify_fail(m->err, RK_VERIFY_ERR_CLAIM_SIZE,
				      CLAIM_FMT " is %zu bytes, expected %zu", CLAIM_ARGS(m, key), len, want);
	return 0;
}

static int get_bstr_fixed(const struct cmap *m, int64_t key, size_t want, uint8_t *dst)
{
	const uint8_t *p;
	size_t len;
	int ret = get_bstr(m, key, true, &p, &len);

	if (!ret)
		ret = check_size(m, key, len, want);
	if (!ret)
		memcpy(dst, p, want);
	return ret;
}

static int get_tstr(const struct cmap *m, int64_t key, bool mandatory, const uint8_t **p, size_t *len)
{
	cbor_item_t *v;
	int ret = find(m, key, mandatory, &v);

	*p = NULL;
	*len = 0;
	if (ret || !v)
		return ret;
	if (!cbor_isa_string(v) || !cbor_string_is_definite(v))
		return wrong_type(m, key, v, "a text string");
	*len = cbor_string_length(v);
	*p = *len ? cbor_string_handle(v) : (const uint8_t *)"";
	if (*len && memchr(*p, 0, *len))
		return rk_verify_fail(m->err, RK_VERIFY_ERR_CLAIM_VALUE,
				      CLAIM_FMT " contains a NUL character", CLAIM_ARGS(m, key));
	return 0;
}

/* A text claim copied into the claims memory (NULL when absent). */
static int get_tstr_dup(const struct cmap *m, struct rk_token_claims *c, int64_t key, bool mandatory,
			const char **out)
{
	const uint8_t *p;
	size_t len;
	int ret = get_tstr(m, key, mandatory, &p, &len);

	*out = NULL;
	if (ret || !p)
		return ret;
	*out = rk_claims_strdup(c, p, len);
	if (!*out)
		return rk_verify_fail(m->err, RK_VERIFY_ERR_NOMEM, "out of memory");
	return 0;
}

static int get_bstr_dup(const struct cmap *m, struct rk_token_claims *c, int64_t key, bool mandatory,
			const uint8_t **out, size_t *out_len)
{
	const uint8_t *p;
	size_t len;
	int ret = get_bstr(m, key, mandatory, &p, &len);

	*out = NULL;
	*out_len = 0;
	if (ret || !p)
		return ret;
	*out = rk_claims_memdup(c, p, len);
	if (!*out)
		return rk_verify_fail(m->err, RK_VERIFY_ERR_NOMEM, "out of memory");
	*out_len = len;
	return 0;
}

static int get_uint(const struct cmap *m, int64_t key, uint64_t max, uint64_t *out)
{
	cbor_item_t *v;
	int ret = find(m, key, true, &v);

	if (ret)
		return ret;
	if (!cbor_isa_uint(v))
		return wrong_type(m, key, v, "an unsigned integer");
	*out = cbor_get_int(v);
	if (*out > max)
		return rk_verify_fail(m->err, RK_VERIFY_ERR_CLAIM_VALUE,
				      CLAIM_FMT " is %" PRIu64 ", above the maximum %" PRIu64,
				      CLAIM_ARGS(m, key), *out, max);
	return 0;
}

static int get_hash(const struct cmap *m, int64_t key, enum rk_attest_hash *alg)
{
	const uint8_t *p;
	size_t len;
	char shown[64];
	int ret = get_tstr(m, key, true, &p, &len);

	if (ret)
		return ret;
	if (!rk_attest_hash_from_name((const char *)p, len, alg)) {
		rk_attest_printable(shown, sizeof(shown), p, len);
		return rk_verify_fail(m->err, RK_VERIFY_ERR_CLAIM_VALUE,
				      CLAIM_FMT " \"%s\" is not supported (sha-256, sha-384, sha-512)",
				      CLAIM_ARGS(m, key), shown);
	}
	return 0;
}

static bool text_is(const uint8_t *p, size_t len, const char *s)
{
	return p && strlen(s) == len && !memcmp(p, s, len);
}

/* ---- top level ---- */

static int entry_bytes(const cbor_item_t *v, uint64_t tag, const char *what, const uint8_t **p, size_t *len,
		       struct rk_verify_error *err)
{
	if (tag == RK_TOKEN_TAG_CCA_2_0) {
		cbor_item_t **items;
		int64_t type;

		if (!cbor_isa_array(v) || cbor_array_size(v) != 2)
			return rk_verify_fail(err, RK_VERIFY_ERR_TOP_STRUCTURE,
					      "%s entry is a %s, expected [263, bstr] (tag 907)", what,
					      rk_cbor_type_name(v));
		items = cbor_array_handle(v);
		if (!rk_cbor_get_int(items[0], &type) || type != RK_CMW_TYPE_COSE_SIGN1)
			return rk_verify_fail(err, RK_VERIFY_ERR_TOP_STRUCTURE,
					      "%s entry has CMW type other than 263 (COSE_Sign1)", what);
		v = items[1];
	}
	if (!cbor_isa_bytestring(v) || !cbor_bytestring_is_definite(v))
		return rk_verify_fail(err, RK_VERIFY_ERR_TOP_STRUCTURE, "%s is a %s, expected a byte string",
				      what, rk_cbor_type_name(v));
	*len = cbor_bytestring_length(v);
	*p = cbor_bytestring_handle(v);
	if (*len == 0 || !*p)
		return rk_verify_fail(err, RK_VERIFY_ERR_TOP_STRUCTURE, "%s is empty", what);
	return 0;
}

static int decode_claims_map(const struct rk_cose_sign1 *s, const char *what, cbor_item_t **map,
			     struct rk_verify_error *err)
{
	enum rk_verify_code code = RK_VERIFY_OK;
	char why[128];
	int ret;

	ret = rk_cbor_decode(s->payload, s->payload_len, map, &code, why, sizeof(why));
	if (ret == -ENOMEM)
		return rk_verify_fail(err, RK_VERIFY_ERR_NOMEM, "out of memory");
	if (ret)
		return rk_verify_fail(err, RK_VERIFY_ERR_CLAIMS_STRUCTURE, "%s payload: %s", what, why);
	if (!cbor_isa_map(*map))
		return rk_verify_fail(err, RK_VERIFY_ERR_CLAIMS_STRUCTURE,
				      "%s payload is a %s, expected a claims map", what,
				      rk_cbor_type_name(*map));
	return 0;
}

/* ---- realm claims ---- */

static int parse_cose_key(const struct cmap *m, const uint8_t *p, size_t len, uint8_t *point)
{
	enum rk_verify_code code = RK_VERIFY_OK;
	struct rk_cbor_label dup;
	cbor_item_t *key = NULL, *v;
	const uint8_t *x, *y;
	size_t xl, yl;
	char why[128];
	int64_t kty, crv;
	int ret;

	ret = rk_cbor_decode(p, len, &key, &code, why, sizeof(why));
	if (ret == -ENOMEM)
		return rk_verify_fail(m->err, RK_VERIFY_ERR_NOMEM, "out of memory");
	if (ret)
		return rk_verify_fail(
			m->err, RK_VERIFY_ERR_RAK,
			"realm claim 44237 (RAK public key) is neither a 97-byte raw P-384 point nor a COSE_Key: %s",
			why);
	if (!cbor_isa_map(key)) {
		ret = rk_verify_fail(m->err, RK_VERIFY_ERR_RAK,
				     "realm claim 44237 (RAK public key) holds a %s, expected a COSE_Key map",
				     rk_cbor_type_name(key));
		goto out;
	}
	ret = rk_cbor_map_dup_label(key, &dup);
	if (ret == -ENOMEM) {
		ret = rk_verify_fail(m->err, RK_VERIFY_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (ret) {
		char text[40];

		if (dup.text) {
			rk_attest_printable(text, sizeof(text), dup.s, dup.len);
			ret = rk_verify_fail(m->err, RK_VERIFY_ERR_RAK,
					     "RAK COSE_Key: duplicate label \"%s\" in COSE_Key", text);
		} else {
			ret = rk_verify_fail(m->err, RK_VERIFY_ERR_RAK,
					     "RAK COSE_Key: duplicate label %lld in COSE_Key",
					     (long long)dup.i);
		}
		goto out;
	}
	if (rk_cbor_map_find(key, 1, &v) || !rk_cbor_get_int(v, &kty) || kty != RK_COSE_KTY_EC2) {
		ret = rk_verify_fail(m->err, RK_VERIFY_ERR_RAK,
				     "RAK COSE_Key: key type (1) missing or not EC2 (2)");
		goto out;
	}
	if (rk_cbor_map_find(key, -1, &v) || !rk_cbor_get_int(v, &crv) || crv != RK_COSE_CRV_P384) {
		ret = rk_verify_fail(m->err, RK_VERIFY_ERR_RAK,
				     "RAK COSE_Key: curve (-1) missing or not P-384 (2)");
		goto out;
	}
	if (rk_cbor_map_find(key, -2, &v) || !cbor_isa_bytestring(v) || rk_cbor_map_find(key, -3, &v) ||
	    !cbor_isa_bytestring(v)) {
		ret = rk_verify_fail(
			m->err, RK_VERIFY_ERR_RAK,
			"RAK COSE_Key: x (-2) and y (-3) must both be byte strings (compressed points are not supported)");
		goto out;
	}
	rk_cbor_map_find(key, -2, &v);
	x = cbor_bytestring_handle(v);
	xl = cbor_bytestring_length(v);
	rk_cbor_map_find(key, -3, &v);
	y = cbor_bytestring_handle(v);
	yl = cbor_bytestring_length(v);
	if (xl != 48 || yl != 48) {
		ret = rk_verify_fail(m->err, RK_VERIFY_ERR_RAK,
				     "RAK COSE_Key: x and y are %zu and %zu bytes, expected 48", xl, yl);
		goto out;
	}
	point[0] = 0x04;
	memcpy(point + 1, x, 48);
	memcpy(point + 49, y, 48);
	ret = 0;
out:
	cbor_decref(&key);
	return ret;
}

static int parse_rak(const struct cmap *m, struct rk_token_claims *c, struct rk_attest_key **rak)
{
	struct rk_realm_claims *r = &c->realm;
	const uint8_t *p;
	size_t len;
	int ret = get_bstr(m, RK_CLAIM_REALM_PUB_KEY, true, &p, &len);

	if (ret)
		return ret;
	if (len == RK_ATTEST_P384_POINT_SIZE && p[0] == 0x04) {
		memcpy(r->rak_pub, p, len);
		r->rak_is_cose_key = false;
	} else {
		ret = parse_cose_key(m, p, len, r->rak_pub);
		if (ret)
			return ret;
		r->rak_is_cose_key = true;
	}
	r->rak_claim = rk_claims_memdup(c, p, len);
	if (!r->rak_claim)
		return rk_verify_fail(m->err, RK_VERIFY_ERR_NOMEM, "out of memory");
	r->rak_claim_len = len;
	ret = rk_attest_key_from_point(RK_COSE_CRV_P384, r->rak_pub, sizeof(r->rak_pub), rak);
	if (ret == -ENOMEM)
		return rk_verify_fail(m->err, RK_VERIFY_ERR_NOMEM, "out of memory");
	if (ret)
		return rk_verify_fail(m->err, RK_VERIFY_ERR_RAK,
				      "realm claim 44237 (RAK public key) is not a valid P-384 public key");
	return 0;
}

static int get_measurement(const struct cmap *m, int64_t key, const cbor_item_t *v, size_t hlen,
			   const char *alg, uint8_t *dst)
{
	size_t len;

	if (!cbor_isa_bytestring(v) || !cbor_bytestring_is_definite(v))
		return wrong_type(m, key, v, "a byte string");
	len = cbor_bytestring_length(v);
	if (len != hlen)
		return rk_verify_fail(m->err, RK_VERIFY_ERR_CLAIM_SIZE,
				      CLAIM_FMT " is %zu bytes, but %s needs %zu", CLAIM_ARGS(m, key), len,
				      alg, hlen);
	memcpy(dst, cbor_bytestring_handle(v), hlen);
	return 0;
}

static int parse_realm_claims(const struct cmap *m, struct rk_token_claims *c)
{
	struct rk_realm_claims *r = &c->realm;
	cbor_item_t *v;
	uint64_t u;
	int ret;

	ret = get_bstr_fixed(m, RK_CLAIM_CHALLENGE, RK_ATTEST_CHALLENGE_SIZE, r->challenge);
	if (!ret)
		ret = get_bstr_fixed(m, RK_CLAIM_REALM_RPV, RK_ATTEST_RPV_SIZE, r->rpv);
	if (!ret && c->format == RK_TOKEN_FORMAT_2_0) {
		ret = get_bstr_fixed(m, RK_CLAIM_INSTANCE_ID, RK_ATTEST_REALM_ID_SIZE, r->instance_id);
		r->has_instance_id = !ret;
		if (!ret)
			ret = get_uint(m, RK_CLAIM_REALM_MEC_POLICY, 1, &u);
		if (!ret) {
			r->has_mec_policy = true;
			r->mec_policy = (uint8_t)u;
		}
	}
	if (!ret)
		ret = get_hash(m, RK_CLAIM_REALM_HASH_ALGO, &r->hash_algo);
	if (!ret)
		ret = get_hash(m, RK_CLAIM_REALM_PUB_KEY_HASH_ALGO, &r->rak_hash_algo);
	if (ret)
		return ret;
	r->measurement_len = rk_attest_hash_size(r->hash_algo);
	ret = find(m, RK_CLAIM_REALM_RIM, true, &v);
	if (!ret)
		ret = get_measurement(m, RK_CLAIM_REALM_RIM, v, r->measurement_len,
				      rk_attest_hash_name(r->hash_algo), r->rim);
	if (!ret)
		ret = find(m, RK_CLAIM_REALM_REMS, true, &v);
	if (ret)
		return ret;
	if (!cbor_isa_array(v))
		return wrong_type(m, RK_CLAIM_REALM_REMS, v, "an array");
	if (cbor_array_size(v) != RK_ATTEST_NUM_REMS)
		return rk_verify_fail(m->err, RK_VERIFY_ERR_CLAIM_SIZE,
				      "realm claim 44239 (REMs) has %zu entries, expected 4",
				      cbor_array_size(v));
	for (unsigned int i = 0; i < RK_ATTEST_NUM_REMS; i++) {
		ret = get_measurement(m, RK_CLAIM_REALM_REMS, cbor_array_handle(v)[i], r->measurement_len,
				      rk_attest_hash_name(r->hash_algo), r->rem[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- platform claims ---- */

static bool lifecycle_valid(uint64_t v)
{
	uint64_t type = v >> 8;

	/* PSA/CCA ranges: 0x0000-0x00ff, 0x1000-0x10ff, ..., 0x6000-0x60ff */
	return v <= 0x60ff && (type & 0x0f) == 0;
}

static int parse_sw_components(const struct cmap *m, struct rk_token_claims *c)
{
	struct rk_platform_claims *pc = &c->platform;
	struct rk_sw_component *sw;
	cbor_item_t *v, **items;
	size_t n;
	int ret = find(m, RK_CLAIM_PLAT_SW_COMPONENTS, true, &v);

	if (ret)
		return ret;
	if (!cbor_isa_array(v))
		return wrong_type(m, RK_CLAIM_PLAT_SW_COMPONENTS, v, "an array");
	n = cbor_array_size(v);
	items = cbor_array_handle(v);
	sw = rk_claims_alloc(c, n * sizeof(*sw));
	if (!sw)
		return rk_verify_fail(m->err, RK_VERIFY_ERR_NOMEM, "out of memory");
	pc->sw_components = sw;
	for (size_t i = 0; i < n; i++) {
		struct cmap sm = { .map = items[i], .swc = true, .err = m->err };

		snprintf(sm.tok, sizeof(sm.tok), "platform software component %zu", i);

		if (!cbor_isa_map(items[i]))
			return rk_verify_fail(m->err, RK_VERIFY_ERR_CLAIM_TYPE,
					      "platform software component %zu is a %s, expected a map", i,
					      rk_cbor_type_name(items[i]));
		ret = get_tstr_dup(&sm, c, RK_SWC_MEASUREMENT_TYPE, false, &sw[i].measurement_type);
		if (!ret)
			ret = get_bstr_dup(&sm, c, RK_SWC_MEASUREMENT_VALUE, true, &sw[i].measurement,
					   &sw[i].measurement_len);
		if (!ret)
			ret = get_tstr_dup(&sm, c, RK_SWC_VERSION, false, &sw[i].version);
		if (!ret)
			ret = get_bstr_dup(&sm, c, RK_SWC_SIGNER_ID, true, &sw[i].signer_id,
					   &sw[i].signer_id_len);
		if (!ret)
			ret = get_tstr_dup(&sm, c, RK_SWC_HASH_ALGO, false, &sw[i].hash_algo);
		if (ret)
			return ret;
		pc->num_sw_components = i + 1;
	}
	return 0;
}

static int parse_platform_claims(const struct cmap *m, struct rk_token_claims *c)
{
	struct rk_platform_claims *pc = &c->platform;
	uint64_t u;
	int ret;

	ret = get_bstr_dup(m, c, RK_CLAIM_CHALLENGE, true, &pc->challenge, &pc->challenge_len);
	if (!ret && pc->challenge_len != 32 && pc->challenge_len != 48 && pc->challenge_len != 64)
		return rk_verify_fail(m->err, RK_VERIFY_ERR_CLAIM_SIZE,
				      "platform claim 10 (challenge) is %zu bytes, expected 32, 48 or 64",
				      pc->challenge_len);
	if (!ret)
		ret = get_bstr_dup(m, c, RK_CLAIM_PLAT_IMPL_ID, true, &pc->implementation_id,
				   &pc->implementation_id_len);
	if (!ret)
		ret = check_size(m, RK_CLAIM_PLAT_IMPL_ID, pc->implementation_id_len, 32);
	if (!ret)
		ret = get_bstr_dup(m, c, RK_CLAIM_INSTANCE_ID, true, &pc->instance_id, &pc->instance_id_len);
	if (!ret)
		ret = check_size(m, RK_CLAIM_INSTANCE_ID, pc->instance_id_len, 33);
	if (!ret)
		ret = get_bstr_dup(m, c, RK_CLAIM_PLAT_CONFIG, true, &pc->config, &pc->config_len);
	if (!ret)
		ret = get_uint(m, RK_CLAIM_PLAT_LIFECYCLE, UINT16_MAX, &u);
	if (ret)
		return ret;
	if (!lifecycle_valid(u))
		return rk_verify_fail(m->err, RK_VERIFY_ERR_CLAIM_VALUE,
				      "platform claim 2395 (security lifecycle) 0x%04" PRIx64
				      " is outside the defined ranges",
				      u);
	pc->lifecycle = (uint16_t)u;
	ret = get_tstr_dup(m, c, RK_CLAIM_PLAT_HASH_ALGO, true, &pc->hash_algo);
	if (!ret)
		ret = get_tstr_dup(m, c, RK_CLAIM_PLAT_VERIFICATION_SERVICE, false,
				   &pc->verification_service);
	if (!ret)
		ret = parse_sw_components(m, c);
	return ret;
}

/* ---- profiles ---- */

static int check_profiles(const struct cmap *rm, const struct cmap *pm, struct rk_token_claims *c)
{
	const uint8_t *rp, *pp;
	size_t rl, pl;
	char shown[96];
	int ret;

	ret = get_tstr(pm, RK_CLAIM_PROFILE, true, &pp, &pl);
	if (ret)
		return ret;
	if (!text_is(pp, pl, RK_PLATFORM_PROFILE) && !text_is(pp, pl, RK_PLATFORM_PROFILE_LEGACY)) {
		rk_attest_printable(shown, sizeof(shown), pp, pl);
		return rk_verify_fail(pm->err, RK_VERIFY_ERR_PLATFORM_PROFILE,
				      "unsupported platform profile \"%s\" (supported: \"%s\", \"%s\")",
				      shown, RK_PLATFORM_PROFILE, RK_PLATFORM_PROFILE_LEGACY);
	}
	c->platform.profile = rk_claims_strdup(c, pp, pl);
	ret = get_tstr(rm, RK_CLAIM_PROFILE, false, &rp, &rl);
	if (ret)
		return ret;
	if (!rp) {
		if (!text_is(pp, pl, RK_PLATFORM_PROFILE_LEGACY))
			return rk_verify_fail(
				rm->err, RK_VERIFY_ERR_REALM_PROFILE,
				"realm token has no profile (claim 265); that is only accepted with the legacy platform profile \"%s\"",
				RK_PLATFORM_PROFILE_LEGACY);
		c->format = RK_TOKEN_FORMAT_CCA_SSD;
	} else if (text_is(rp, rl, RK_REALM_PROFILE_2_0)) {
		c->format = RK_TOKEN_FORMAT_2_0;
	} else if (text_is(rp, rl, RK_REALM_PROFILE_1_0)) {
		c->format = RK_TOKEN_FORMAT_1_0;
	} else {
		rk_attest_printable(shown, sizeof(shown), rp, rl);
		return rk_verify_fail(rm->err, RK_VERIFY_ERR_REALM_PROFILE,
				      "unsupported realm profile \"%s\" (supported: \"%s\", \"%s\")", shown,
				      RK_REALM_PROFILE_2_0, RK_REALM_PROFILE_1_0);
	}
	if (rp) {
		c->realm.profile = rk_claims_strdup(c, rp, rl);
		if (!c->realm.profile)
			return rk_verify_fail(rm->err, RK_VERIFY_ERR_NOMEM, "out of memory");
	}
	if (!c->platform.profile)
		return rk_verify_fail(rm->err, RK_VERIFY_ERR_NOMEM, "out of memory");
	return 0;
}

/* ---- the whole token ---- */

static void hex(char *dst, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = digits[p[i] >> 4];
		dst[2 * i + 1] = digits[p[i] & 15];
	}
	dst[2 * n] = '\0';
}

static int verify_token(const uint8_t *buf, size_t len, const struct rk_verify_opts *opts,
			struct rk_token_claims *c, struct rk_verify_error *err)
{
	struct rk_cose_sign1 realm = { 0 }, plat = { 0 };
	cbor_item_t *top = NULL, *inner, *pv, *rv, *rmap = NULL, *pmap = NULL;
	struct rk_attest_key *rak = NULL;
	struct cmap rm = { .tok = "realm", .err = err };
	struct cmap pm = { .tok = "platform", .err = err };
	enum rk_verify_code code = RK_VERIFY_OK;
	const uint8_t *pb, *rb;
	size_t pl, rl;
	uint64_t tag;
	char why[128];
	int ret;

	if (len == 0 || len > RK_ATTEST_TOKEN_MAX_SIZE)
		return rk_verify_fail(err, RK_VERIFY_ERR_SIZE,
				      "token is %zu bytes; accepted sizes are 1 to %u", len,
				      RK_ATTEST_TOKEN_MAX_SIZE);
	ret = rk_cbor_decode(buf, len, &top, &code, why, sizeof(why));
	if (ret == -ENOMEM)
		return rk_verify_fail(err, RK_VERIFY_ERR_NOMEM, "out of memory");
	if (ret)
		return rk_verify_fail(err, code, "token: %s", why);
	if (!cbor_isa_tag(top)) {
		ret = rk_verify_fail(err, RK_VERIFY_ERR_TOP_TAG,
				     "token is a CBOR %s, expected tag 907 (CCA 2.0) or 399 (CCA 1.0)",
				     rk_cbor_type_name(top));
		goto out;
	}
	tag = cbor_tag_value(top);
	if (tag != RK_TOKEN_TAG_CCA_2_0 && tag != RK_TOKEN_TAG_CCA_1_0) {
		ret = rk_verify_fail(
			err, RK_VERIFY_ERR_TOP_TAG,
			"token has CBOR tag %" PRIu64 ", expected 907 (CCA 2.0) or 399 (CCA 1.0)", tag);
		goto out;
	}
	c->top_tag = tag;
	inner = rk_cbor_tag_item(top);
	if (!inner || !cbor_isa_map(inner)) {
		ret = rk_verify_fail(err, RK_VERIFY_ERR_TOP_STRUCTURE,
				     "tag %" PRIu64 " content is a %s, expected a map", tag,
				     inner ? rk_cbor_type_name(inner) : "nothing");
		goto out;
	}
	ret = rk_cbor_map_find(inner, RK_CLAIM_CCA_PLATFORM_TOKEN, &pv);
	if (!ret)
		ret = rk_cbor_map_find(inner, RK_CLAIM_CCA_REALM_TOKEN, &rv);
	if (ret == -EEXIST) {
		ret = rk_verify_fail(err, RK_VERIFY_ERR_CLAIM_DUPLICATE,
				     "token map has key 44234 or 44241 more than once");
		goto out;
	}
	if (ret) {
		ret = rk_verify_fail(err, RK_VERIFY_ERR_TOP_STRUCTURE, "token map lacks the %s (key %d)",
				     pv ? "realm token" : "platform token",
				     pv ? RK_CLAIM_CCA_REALM_TOKEN : RK_CLAIM_CCA_PLATFORM_TOKEN);
		goto out;
	}
	ret = entry_bytes(pv, tag, "platform token", &pb, &pl, err);
	if (!ret)
		ret = entry_bytes(rv, tag, "realm token", &rb, &rl, err);
	if (!ret)
		ret = rk_cose_sign1_decode(pb, pl, "platform token", &plat, err);
	if (!ret)
		ret = rk_cose_sign1_decode(rb, rl, "realm token", &realm, err);
	if (ret)
		goto out;
	c->realm_cose_alg = realm.alg;
	c->platform_cose_alg = plat.alg;
	if (realm.alg != RK_COSE_ALG_ES384) {
		ret = rk_verify_fail(
			err, RK_VERIFY_ERR_COSE_ALG,
			"realm token: COSE algorithm %d is not supported (the RAK needs ES384, -35)",
			realm.alg);
		goto out;
	}
	if (plat.alg != RK_COSE_ALG_ES256 && plat.alg != RK_COSE_ALG_ES384 && plat.alg != RK_COSE_ALG_ES512) {
		ret = rk_verify_fail(
			err, RK_VERIFY_ERR_COSE_ALG,
			"platform token: COSE algorithm %d is not supported (ES256, ES384, ES512)", plat.alg);
		goto out;
	}

	/* Realm: the RAK comes from the claims, then the signature. */
	ret = decode_claims_map(&realm, "realm token", &rmap, err);
	if (ret)
		goto out;
	rm.map = rmap;
	ret = parse_rak(&rm, c, &rak);
	if (ret)
		goto out;
	ret = rk_cose_sign1_verify(&realm, rak);
	if (ret == -EBADMSG) {
		ret = rk_verify_fail(err, RK_VERIFY_ERR_REALM_SIGNATURE,
				     "realm token signature does not verify with the RAK in claim 44237");
		goto out;
	}
	if (ret) {
		ret = rk_verify_fail(err, ret == -ENOMEM ? RK_VERIFY_ERR_NOMEM : RK_VERIFY_ERR_INTERNAL,
				     "realm token: signature check failed in the crypto library");
		goto out;
	}
	c->realm_signature = RK_SIG_VALID;

	/* Platform signature (with a CPAK only). */
	if (opts && opts->cpak) {
		if (plat.alg != opts->cpak->cose_alg) {
			ret = rk_verify_fail(
				err, RK_VERIFY_ERR_COSE_ALG,
				"platform token: COSE algorithm %d does not match the CPAK (which needs %d)",
				plat.alg, opts->cpak->cose_alg);
			goto out;
		}
		ret = rk_cose_sign1_verify(&plat, opts->cpak);
		if (ret == -EBADMSG) {
			ret = rk_verify_fail(err, RK_VERIFY_ERR_PLATFORM_SIGNATURE,
					     "platform token signature does not verify with the given CPAK");
			goto out;
		}
		if (ret) {
			ret = rk_verify_fail(err,
					     ret == -ENOMEM ? RK_VERIFY_ERR_NOMEM : RK_VERIFY_ERR_INTERNAL,
					     "platform token: signature check failed in the crypto library");
			goto out;
		}
		c->platform_signature = RK_SIG_VALID;
	}

	ret = decode_claims_map(&plat, "platform token", &pmap, err);
	if (ret)
		goto out;
	pm.map = pmap;
	ret = check_profiles(&rm, &pm, c);
	if (!ret)
		ret = parse_realm_claims(&rm, c);
	if (!ret)
		ret = parse_platform_claims(&pm, c);
	if (ret)
		goto out;

	/* Binding: platform challenge == H_44240(RAK claim bytes). */
	{
		uint8_t h[RK_ATTEST_MAX_HASH_SIZE];
		size_t hl = rk_attest_hash_size(c->realm.rak_hash_algo);

		ret = rk_attest_digest(c->realm.rak_hash_algo, c->realm.rak_claim, c->realm.rak_claim_len, h);
		if (ret) {
			ret = rk_verify_fail(err, RK_VERIFY_ERR_INTERNAL, "hashing the RAK failed");
			goto out;
		}
		if (c->platform.challenge_len != hl || memcmp(c->platform.challenge, h, hl)) {
			char want[2 * RK_ATTEST_MAX_HASH_SIZE + 1];

			hex(want, h, hl);
			ret = rk_verify_fail(
				err, RK_VERIFY_ERR_BINDING,
				"platform challenge is not %s(RAK claim 44237) = %s: the platform token is not bound to this realm token",
				rk_attest_hash_name(c->realm.rak_hash_algo), want);
			goto out;
		}
	}

	if (opts && opts->expected_challenge &&
	    memcmp(opts->expected_challenge, c->realm.challenge, RK_ATTEST_CHALLENGE_SIZE)) {
		ret = rk_verify_fail(err, RK_VERIFY_ERR_CHALLENGE_MISMATCH,
				     "realm challenge (claim 10) differs from the expected challenge");
		goto out;
	}
	if (opts && opts->expected_rim) {
		if (opts->expected_rim_len != c->realm.measurement_len) {
			ret = rk_verify_fail(
				err, RK_VERIFY_ERR_RIM_MISMATCH,
				"expected RIM is %zu bytes but the token's RIM is %zu bytes (%s)",
				opts->expected_rim_len, c->realm.measurement_len,
				rk_attest_hash_name(c->realm.hash_algo));
			goto out;
		}
		if (memcmp(opts->expected_rim, c->realm.rim, c->realm.measurement_len)) {
			char got[2 * RK_ATTEST_MAX_HASH_SIZE + 1];

			hex(got, c->realm.rim, c->realm.measurement_len);
			ret = rk_verify_fail(err, RK_VERIFY_ERR_RIM_MISMATCH,
					     "RIM %s differs from the expected RIM", got);
			goto out;
		}
	}
	ret = 0;
out:
	rk_attest_key_free(rak);
	if (rmap)
		cbor_decref(&rmap);
	if (pmap)
		cbor_decref(&pmap);
	rk_cose_sign1_fini(&realm);
	rk_cose_sign1_fini(&plat);
	if (top)
		cbor_decref(&top);
	return ret;
}

int rk_token_verify(const uint8_t *buf, size_t len, const struct rk_verify_opts *opts,
		    struct rk_token_claims *out, struct rk_verify_error *err_out)
{
	struct rk_token_claims local;
	struct rk_token_claims *c = out ? out : &local;
	struct rk_verify_error err = { RK_VERIFY_OK, "" };
	int ret;

	memset(c, 0, sizeof(*c));
	if (!buf)
		ret = rk_verify_fail(&err, RK_VERIFY_ERR_ARGS, "no token buffer");
	else if (opts && opts->expected_challenge && opts->expected_challenge_len != RK_ATTEST_CHALLENGE_SIZE)
		ret = rk_verify_fail(&err, RK_VERIFY_ERR_ARGS,
				     "expected challenge is %zu bytes; it must be 64",
				     opts->expected_challenge_len);
	else if (opts && opts->expected_rim && opts->expected_rim_len != 32 && opts->expected_rim_len != 48 &&
		 opts->expected_rim_len != 64)
		ret = rk_verify_fail(&err, RK_VERIFY_ERR_ARGS,
				     "expected RIM is %zu bytes; it must be 32, 48 or 64",
				     opts->expected_rim_len);
	else
		ret = verify_token(buf, len, opts, c, &err);
	if (!ret) {
		err.code = RK_VERIFY_OK;
		strcpy(err.reason, "valid");
	}
	if (err_out)
		*err_out = err;
	if (!out)
		rk_token_claims_release(&local);
	return ret;
}
