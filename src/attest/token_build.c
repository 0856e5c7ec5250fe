/* SPDX-License-Identifier: MIT */
/*
 * Building CCA attestation tokens (rmm-abi-2.0.md §17, rmm-abi-1.0.md §11).
 * Claim order follows TF-RMM (realm) and the TF-M/Veraison samples
 * (platform); map order does not matter to verifiers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attest_internal.h"

static cbor_item_t *bstr(const uint8_t *p, size_t len)
{
	static const uint8_t empty[1];

	return cbor_build_bytestring(len ? p : empty, len);
}

static bool put_bstr(cbor_item_t *map, int64_t key, const uint8_t *p, size_t len)
{
	return rk_cbor_map_put(map, rk_cbor_int(key), bstr(p, len));
}

static bool put_tstr(cbor_item_t *map, int64_t key, const char *s)
{
	return rk_cbor_map_put(map, rk_cbor_int(key), cbor_build_string(s));
}

static bool put_int(cbor_item_t *map, int64_t key, int64_t v)
{
	return rk_cbor_map_put(map, rk_cbor_int(key), rk_cbor_int(v));
}

static bool platform_claims_valid(const struct rk_platform_claims *c)
{
	if ((!c->implementation_id && c->implementation_id_len) || (!c->instance_id && c->instance_id_len) ||
	    (!c->config && c->config_len) || !c->hash_algo || (!c->sw_components && c->num_sw_components))
		return false;
	if (c->num_sw_components > 1024)
		return false;
	for (size_t i = 0; i < c->num_sw_components; i++) {
		const struct rk_sw_component *sw = &c->sw_components[i];

		if ((!sw->measurement && sw->measurement_len) || (!sw->signer_id && sw->signer_id_len))
			return false;
	}
	return true;
}

static cbor_item_t *sw_component_item(const struct rk_sw_component *sw)
{
	size_t n = 2 + !!sw->measurement_type + !!sw->version + !!sw->hash_algo;
	cbor_item_t *m = cbor_new_definite_map(n);

	if (!m)
		return NULL;
	if ((sw->measurement_type && !put_tstr(m, RK_SWC_MEASUREMENT_TYPE, sw->measurement_type)) ||
	    !put_bstr(m, RK_SWC_SIGNER_ID, sw->signer_id, sw->signer_id_len) ||
	    (sw->version && !put_tstr(m, RK_SWC_VERSION, sw->version)) ||
	    !put_bstr(m, RK_SWC_MEASUREMENT_VALUE, sw->measurement, sw->measurement_len) ||
	    (sw->hash_algo && !put_tstr(m, RK_SWC_HASH_ALGO, sw->hash_algo))) {
		cbor_decref(&m);
		return NULL;
	}
	return m;
}

static int platform_payload(const struct rk_platform_claims *c, const uint8_t *challenge,
			    size_t challenge_len, uint8_t **out, size_t *len)
{
	cbor_item_t *map = cbor_new_definite_map(8 + !!c->verification_service);
	cbor_item_t *sw = cbor_new_definite_array(c->num_sw_components);
	int ret = -ENOMEM;

	if (!map || !sw)
		goto out;
	for (size_t i = 0; i < c->num_sw_components; i++)
		if (!rk_cbor_array_push(sw, sw_component_item(&c->sw_components[i])))
			goto out;
	if (!put_tstr(map, RK_CLAIM_PROFILE, RK_PLATFORM_PROFILE) ||
	    !put_bstr(map, RK_CLAIM_CHALLENGE, challenge, challenge_len) ||
	    !put_bstr(map, RK_CLAIM_PLAT_IMPL_ID, c->implementation_id, c->implementation_id_len) ||
	    !put_bstr(map, RK_CLAIM_INSTANCE_ID, c->instance_id, c->instance_id_len) ||
	    !put_bstr(map, RK_CLAIM_PLAT_CONFIG, c->config, c->config_len) ||
	    !put_int(map, RK_CLAIM_PLAT_LIFECYCLE, c->lifecycle) ||
	    !put_tstr(map, RK_CLAIM_PLAT_HASH_ALGO, c->hash_algo) ||
	    (c->verification_service &&
	     !put_tstr(map, RK_CLAIM_PLAT_VERIFICATION_SERVICE, c->verification_service)))
		goto out;
	ret = rk_cbor_map_put(map, rk_cbor_int(RK_CLAIM_PLAT_SW_COMPONENTS), sw) ? 0 : -ENOMEM;
	sw = NULL;
	if (!ret)
		ret = rk_cbor_serialize(map, out, len);
out:
	if (sw)
		cbor_decref(&sw);
	if (map)
		cbor_decref(&map);
	return ret;
}

int rk_platform_token_build(const struct rk_attest_key *cpak, const struct rk_platform_claims *claims,
			    const uint8_t *challenge, size_t challenge_len, uint8_t **out, size_t *len)
{
	struct rk_platform_claims def;
	uint8_t *payload = NULL;
	size_t payload_len = 0;
	int ret;

	if (!out || !len)
		return -EINVAL;
	*out = NULL;
	*len = 0;
	if (!cpak || !cpak->has_private || !challenge || challenge_len == 0 ||
	    challenge_len > RK_ATTEST_MAX_HASH_SIZE)
		return -EINVAL;
	if (!claims) {
		rk_platform_claims_default(&def);
		claims = &def;
	}
	if (!platform_claims_valid(claims))
		return -EINVAL;
	ret = platform_payload(claims, challenge, challenge_len, &payload, &payload_len);
	if (!ret)
		ret = rk_cose_sign1_create(cpak, payload, payload_len, out, len);
	free(payload);
	return ret;
}

static int realm_payload(const struct rk_token_params *p, const uint8_t *rak, size_t rak_len, uint8_t **out,
			 size_t *len)
{
	bool v2 = p->format == RK_TOKEN_FORMAT_2_0;
	size_t hlen = rk_attest_hash_size(p->hash_algo);
	cbor_item_t *map = cbor_new_definite_map(v2 ? 10 : 8);
	cbor_item_t *rems = cbor_new_definite_array(RK_ATTEST_NUM_REMS);
	int ret = -ENOMEM;

	if (!map || !rems)
		goto out;
	for (unsigned int i = 0; i < RK_ATTEST_NUM_REMS; i++)
		if (!rk_cbor_array_push(rems, bstr(p->rem[i], hlen)))
			goto out;
	if (!put_bstr(map, RK_CLAIM_CHALLENGE, p->challenge, RK_ATTEST_CHALLENGE_SIZE) ||
	    (v2 && !put_bstr(map, RK_CLAIM_INSTANCE_ID, p->instance_id, RK_ATTEST_REALM_ID_SIZE)) ||
	    !put_bstr(map, RK_CLAIM_REALM_RPV, p->rpv, RK_ATTEST_RPV_SIZE) ||
	    !put_bstr(map, RK_CLAIM_REALM_PUB_KEY, rak, rak_len) ||
	    !put_tstr(map, RK_CLAIM_REALM_HASH_ALGO, rk_attest_hash_name(p->hash_algo)) ||
	    !put_tstr(map, RK_CLAIM_REALM_PUB_KEY_HASH_ALGO, "sha-256") ||
	    (v2 && !put_int(map, RK_CLAIM_REALM_MEC_POLICY, p->mec_policy)) ||
	    !put_tstr(map, RK_CLAIM_PROFILE, v2 ? RK_REALM_PROFILE_2_0 : RK_REALM_PROFILE_1_0) ||
	    !put_bstr(map, RK_CLAIM_REALM_RIM, p->rim, hlen))
		goto out;
	ret = rk_cbor_map_put(map, rk_cbor_int(RK_CLAIM_REALM_REMS), rems) ? 0 : -ENOMEM;
	rems = NULL;
	if (!ret)
		ret = rk_cbor_serialize(map, out, len);
out:
	if (rems)
		cbor_decref(&rems);
	if (map)
		cbor_decref(&map);
	return ret;
}

/* 2.0: [263, bstr]; 1.0: bstr. */
static cbor_item_t *collection_entry(bool v2, const uint8_t *p, size_t len)
{
	cbor_item_t *arr;

	if (!v2)
		return bstr(p, len);
	arr = cbor_new_definite_array(2);
	if (!arr)
		return NULL;
	if (!rk_cbor_array_push(arr, rk_cbor_int(RK_CMW_TYPE_COSE_SIGN1)) ||
	    !rk_cbor_array_push(arr, bstr(p, len))) {
		cbor_decref(&arr);
		return NULL;
	}
	return arr;
}

static int top_level(bool v2, const uint8_t *plat, size_t plat_len, const uint8_t *realm, size_t realm_len,
		     uint8_t **out, size_t *len)
{
	cbor_item_t *map = cbor_new_definite_map(2), *tagged;
	int ret;

	if (!map)
		return -ENOMEM;
	if (!rk_cbor_map_put(map, rk_cbor_int(RK_CLAIM_CCA_PLATFORM_TOKEN),
			     collection_entry(v2, plat, plat_len)) ||
	    !rk_cbor_map_put(map, rk_cbor_int(RK_CLAIM_CCA_REALM_TOKEN),
			     collection_entry(v2, realm, realm_len))) {
		cbor_decref(&map);
		return -ENOMEM;
	}
	tagged = rk_cbor_tag(v2 ? RK_TOKEN_TAG_CCA_2_0 : RK_TOKEN_TAG_CCA_1_0, map);
	if (!tagged)
		return -ENOMEM;
	ret = rk_cbor_serialize(tagged, out, len);
	cbor_decref(&tagged);
	return ret;
}

static bool params_valid(const struct rk_token_params *p)
{
	bool have_token = p->platform_token != NULL;
	bool have_cpak = p->cpak != NULL;

	if (p->format != RK_TOKEN_FORMAT_2_0 && p->format != RK_TOKEN_FORMAT_1_0)
		return false;
	if (rk_attest_hash_size(p->hash_algo) == 0)
		return false;
	if (!p->rak || !p->rak->has_private || p->rak->cose_crv != RK_COSE_CRV_P384)
		return false;
	if (p->format == RK_TOKEN_FORMAT_2_0 && p->mec_policy > 1)
		return false;
	if (have_token == have_cpak)
		return false; /* exactly one kind of platform material */
	if (have_token && (p->platform_token_len == 0 || p->platform_token_len > RK_ATTEST_TOKEN_MAX_SIZE))
		return false;
	if (have_cpak && !p->cpak->has_private)
		return false;
	return true;
}

int rk_token_build_alloc(const struct rk_token_params *p, uint8_t **out, size_t *len)
{
	uint8_t *rak = NULL, *plat = NULL, *payload = NULL, *realm = NULL;
	size_t rak_len = 0, plat_len = 0, payload_len = 0, realm_len = 0;
	const uint8_t *plat_bytes;
	uint8_t nonce[32];
	int ret;

	if (!out || !len)
		return -EINVAL;
	*out = NULL;
	*len = 0;
	if (!p || !params_valid(p))
		return -EINVAL;
	ret = rk_attest_key_cose_alloc(p->rak, &rak, &rak_len);
	if (ret)
		goto out;
	if (p->platform_token) {
		plat_bytes = p->platform_token;
		plat_len = p->platform_token_len;
	} else {
		/* Binding: platform challenge = SHA-256(RAK claim bytes). */
		ret = rk_attest_digest(RK_ATTEST_HASH_SHA256, rak, rak_len, nonce);
		if (!ret)
			ret = rk_platform_token_build(p->cpak, p->platform, nonce, sizeof(nonce), &plat,
						      &plat_len);
		if (ret)
			goto out;
		plat_bytes = plat;
	}
	ret = realm_payload(p, rak, rak_len, &payload, &payload_len);
	if (!ret)
		ret = rk_cose_sign1_create(p->rak, payload, payload_len, &realm, &realm_len);
	if (!ret)
		ret = top_level(p->format == RK_TOKEN_FORMAT_2_0, plat_bytes, plat_len, realm, realm_len, out,
				len);
out:
	free(rak);
	free(plat);
	free(payload);
	free(realm);
	return ret;
}

int rk_token_build(const struct rk_token_params *params, uint8_t *buf, size_t cap, size_t *len)
{
	uint8_t *tok = NULL;
	size_t n = 0;
	int ret;

	if (!len)
		return -EINVAL;
	*len = 0;
	ret = rk_token_build_alloc(params, &tok, &n);
	if (ret)
		return ret;
	*len = n;
	if (!buf || cap < n)
		ret = -ENOSPC;
	else
		memcpy(buf, tok, n);
	free(tok);
	return ret;
}
