/* SPDX-License-Identifier: MIT */
/*
 * COSE_Sign1 (RFC 8152 §4.2, §4.4): tag 18 [protected bstr, unprotected
 * map, payload bstr, signature bstr], signed over the Sig_structure
 * ["Signature1", protected, h'' (no external AAD), payload].
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attest_internal.h"

/* Serialise the Sig_structure for the given exact protected/payload bytes. */
static int sig_structure(const uint8_t *prot, size_t prot_len, const uint8_t *payload, size_t payload_len,
			 uint8_t **out, size_t *out_len)
{
	static const uint8_t empty[1];
	cbor_item_t *arr = cbor_new_definite_array(4);
	int ret = -ENOMEM;

	if (!arr)
		return -ENOMEM;
	/* libcbor copies the data; it never reads a zero-length handle. */
	if (rk_cbor_array_push(arr, cbor_build_string("Signature1")) &&
	    rk_cbor_array_push(arr, cbor_build_bytestring(prot_len ? prot : empty, prot_len)) &&
	    rk_cbor_array_push(arr, cbor_build_bytestring(empty, 0)) &&
	    rk_cbor_array_push(arr, cbor_build_bytestring(payload_len ? payload : empty, payload_len)))
		ret = rk_cbor_serialize(arr, out, out_len);
	cbor_decref(&arr);
	return ret;
}

int rk_cose_sign1_create(const struct rk_attest_key *key, const uint8_t *payload, size_t payload_len,
			 uint8_t **out, size_t *out_len)
{
	uint8_t *prot = NULL, *tbs = NULL;
	size_t prot_len = 0, tbs_len = 0, sig_len = 0;
	uint8_t sig[2 * 66];
	cbor_item_t *hdr = NULL, *arr = NULL, *tagged;
	int ret;

	*out = NULL;
	*out_len = 0;
	hdr = cbor_new_definite_map(1);
	if (!hdr)
		return -ENOMEM;
	if (!rk_cbor_map_put(hdr, rk_cbor_int(1), rk_cbor_int(key->cose_alg))) {
		ret = -ENOMEM;
		goto out;
	}
	ret = rk_cbor_serialize(hdr, &prot, &prot_len);
	if (ret)
		goto out;
	ret = sig_structure(prot, prot_len, payload, payload_len, &tbs, &tbs_len);
	if (ret)
		goto out;
	ret = rk_attest_sign(key, tbs, tbs_len, sig, sizeof(sig), &sig_len);
	if (ret)
		goto out;
	arr = cbor_new_definite_array(4);
	if (!arr || !rk_cbor_array_push(arr, cbor_build_bytestring(prot, prot_len)) ||
	    !rk_cbor_array_push(arr, cbor_new_definite_map(0)) ||
	    !rk_cbor_array_push(arr, cbor_build_bytestring(payload, payload_len)) ||
	    !rk_cbor_array_push(arr, cbor_build_bytestring(sig, sig_len))) {
		ret = -ENOMEM;
		goto out;
	}
	tagged = rk_cbor_tag(RK_COSE_TAG_SIGN1, arr);
	arr = NULL;
	if (!tagged) {
		ret = -ENOMEM;
		goto out;
	}
	ret = rk_cbor_serialize(tagged, out, out_len);
	cbor_decref(&tagged);
out:
	if (arr)
		cbor_decref(&arr);
	if (hdr)
		cbor_decref(&hdr);
	free(prot);
	free(tbs);
	return ret;
}

static int decode_protected(struct rk_cose_sign1 *s, const char *what, struct rk_verify_error *err)
{
	cbor_item_t *hdr = NULL, *alg, *crit;
	enum rk_verify_code code = RK_VERIFY_OK;
	char why[128];
	int64_t v;
	int ret;

	if (s->protected_len == 0)
		return rk_verify_fail(err, RK_VERIFY_ERR_COSE_HEADER,
				      "%s: empty protected header (no algorithm)", what);
	ret = rk_cbor_decode(s->protected_hdr, s->protected_len, &hdr, &code, why, sizeof(why));
	if (ret == -ENOMEM)
		return rk_verify_fail(err, RK_VERIFY_ERR_NOMEM, "out of memory");
	if (ret)
		return rk_verify_fail(err, RK_VERIFY_ERR_COSE_HEADER, "%s: protected header: %s", what, why);
	if (!cbor_isa_map(hdr)) {
		ret = rk_verify_fail(err, RK_VERIFY_ERR_COSE_HEADER,
				     "%s: protected header is a %s, expected a map", what,
				     rk_cbor_type_name(hdr));
		goto out;
	}
	ret = rk_cbor_map_find(hdr, 1, &alg);
	if (ret == -EEXIST) {
		ret = rk_verify_fail(err, RK_VERIFY_ERR_COSE_HEADER,
				     "%s: protected header has the algorithm twice", what);
		goto out;
	}
	if (ret) {
		ret = rk_verify_fail(err, RK_VERIFY_ERR_COSE_HEADER,
				     "%s: protected header has no algorithm (label 1)", what);
		goto out;
	}
	if (!rk_cbor_get_int(alg, &v) || v < -65536 || v > 65535) {
		ret = rk_verify_fail(err, RK_VERIFY_ERR_COSE_ALG, "%s: algorithm is not a small integer",
				     what);
		goto out;
	}
	if (rk_cbor_map_find(hdr, 2, &crit) != -ENOENT) {
		ret = rk_verify_fail(err, RK_VERIFY_ERR_COSE_HEADER,
				     "%s: critical header parameters (label 2) not supported", what);
		goto out;
	}
	s->alg = (int)v;
	ret = 0;
out:
	cbor_decref(&hdr);
	return ret;
}

int rk_cose_sign1_decode(const uint8_t *buf, size_t len, const char *what, struct rk_cose_sign1 *out,
			 struct rk_verify_error *err)
{
	enum rk_verify_code code = RK_VERIFY_OK;
	cbor_item_t *root = NULL, *arr, **items;
	char why[128];
	int ret;

	memset(out, 0, sizeof(*out));
	ret = rk_cbor_decode(buf, len, &root, &code, why, sizeof(why));
	if (ret == -ENOMEM)
		return rk_verify_fail(err, RK_VERIFY_ERR_NOMEM, "out of memory");
	if (ret)
		return rk_verify_fail(err, code, "%s: %s", what, why);
	out->root = root;
	arr = root;
	if (cbor_isa_tag(root)) {
		if (cbor_tag_value(root) != RK_COSE_TAG_SIGN1)
			return rk_verify_fail(err, RK_VERIFY_ERR_COSE_STRUCTURE,
					      "%s: CBOR tag %llu, expected 18 (COSE_Sign1)", what,
					      (unsigned long long)cbor_tag_value(root));
		arr = rk_cbor_tag_item(root);
	}
	if (!arr || !cbor_isa_array(arr) || cbor_array_size(arr) != 4)
		return rk_verify_fail(err, RK_VERIFY_ERR_COSE_STRUCTURE,
				      "%s: not a COSE_Sign1 (expected an array of 4)", what);
	items = cbor_array_handle(arr);
	if (!cbor_isa_bytestring(items[0]))
		return rk_verify_fail(err, RK_VERIFY_ERR_COSE_STRUCTURE,
				      "%s: protected header is a %s, expected a byte string", what,
				      rk_cbor_type_name(items[0]));
	if (!cbor_isa_map(items[1]))
		return rk_verify_fail(err, RK_VERIFY_ERR_COSE_STRUCTURE,
				      "%s: unprotected header is a %s, expected a map", what,
				      rk_cbor_type_name(items[1]));
	if (!cbor_isa_bytestring(items[2]))
		return rk_verify_fail(
			err, RK_VERIFY_ERR_COSE_STRUCTURE,
			"%s: payload is a %s, expected a byte string (detached payloads are not supported)",
			what, rk_cbor_type_name(items[2]));
	if (!cbor_isa_bytestring(items[3]))
		return rk_verify_fail(err, RK_VERIFY_ERR_COSE_STRUCTURE,
				      "%s: signature is a %s, expected a byte string", what,
				      rk_cbor_type_name(items[3]));
	out->protected_hdr = cbor_bytestring_handle(items[0]);
	out->protected_len = cbor_bytestring_length(items[0]);
	out->payload = cbor_bytestring_handle(items[2]);
	out->payload_len = cbor_bytestring_length(items[2]);
	out->sig = cbor_bytestring_handle(items[3]);
	out->sig_len = cbor_bytestring_length(items[3]);
	return decode_protected(out, what, err);
}

int rk_cose_sign1_verify(const struct rk_cose_sign1 *s, const struct rk_attest_key *key)
{
	uint8_t *tbs = NULL;
	size_t tbs_len = 0;
	int ret;

	if (s->alg != key->cose_alg || s->sig_len != 2 * key->coord || !s->sig)
		return -EBADMSG;
	ret = sig_structure(s->protected_hdr, s->protected_len, s->payload, s->payload_len, &tbs, &tbs_len);
	if (ret)
		return ret;
	ret = rk_attest_verify_sig(key, tbs, tbs_len, s->sig, s->sig_len);
	free(tbs);
	return ret;
}

void rk_cose_sign1_fini(struct rk_cose_sign1 *s)
{
	if (s->root)
		cbor_decref(&s->root);
	memset(s, 0, sizeof(*s));
}
