/* SPDX-License-Identifier: MIT */
/*
 * Attestation tokens: the public sample tokens verify, tokens built with the
 * sample keys verify and round-trip every claim, single-byte changes to
 * either signed part are refused, expected RIM/challenge are enforced.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>

#include "test_attest_util.h"

struct sample {
	const char *file;
	uint64_t tag;
	enum rk_token_format format;
	const char *realm_profile;
	const char *platform_profile;
};

static const struct sample samples[] = {
	{ "token-realm2.0.cbor", 907, RK_TOKEN_FORMAT_2_0, RK_REALM_PROFILE_2_0, RK_PLATFORM_PROFILE },
	{ "token-realm1.0.cbor", 399, RK_TOKEN_FORMAT_1_0, RK_REALM_PROFILE_1_0, RK_PLATFORM_PROFILE },
	{ "token-cca-ssd-legacy.cbor", 399, RK_TOKEN_FORMAT_CCA_SSD, NULL, RK_PLATFORM_PROFILE_LEGACY },
};

/* The sample tokens' realm claims (2.0 and 1.0 share them). */
static const uint8_t sample_rim[32] = {
	0x31, 0x13, 0x14, 0xab, 0x73, 0x62, 0x03, 0x50, 0xcf, 0x75, 0x88, 0x34, 0xae, 0x5c, 0x65, 0xd9,
	0xe8, 0xc2, 0xdc, 0x7f, 0xeb, 0xe6, 0xe7, 0xd9, 0x65, 0x4b, 0xbe, 0x86, 0x4e, 0x30, 0x0d, 0x49,
};
static const uint8_t sample_challenge_prefix[8] = { 0x6e, 0x86, 0xd6, 0xd9, 0x7c, 0xc7, 0x13, 0xbc };
static const char sample_rpv[] = "The quick brown fox jumps over 13 lazy dogs.The quick brown fox ";

static void test_samples_verify(void **state)
{
	struct rk_attest_key *cpak = ta_key("cpak-sample.pub.pem");
	struct rk_attest_key *rak = ta_key("rak-sample.pem");
	uint8_t rak_raw[97];
	size_t rak_len;

	(void)state;
	assert_false(rk_attest_key_has_private(cpak));
	assert_true(rk_attest_key_has_private(rak));
	assert_int_equal(rk_attest_key_public_raw(rak, rak_raw, sizeof(rak_raw), &rak_len), 0);
	assert_int_equal(rak_len, 97);

	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const struct sample *s = &samples[i];
		struct rk_verify_opts opts = { .cpak = cpak };
		struct rk_token_claims c;
		struct rk_verify_error err;
		size_t len;
		uint8_t *buf = ta_read(s->file, &len);
		int ret;

		/* With the sample CPAK: both signatures checked. */
		ret = rk_token_verify(buf, len, &opts, &c, &err);
		if (ret)
			fail_msg("%s: %s (%s)", s->file, err.reason, rk_verify_code_name(err.code));
		assert_int_equal(err.code, RK_VERIFY_OK);
		assert_int_equal(c.top_tag, s->tag);
		assert_int_equal(c.format, s->format);
		if (s->realm_profile)
			assert_string_equal(c.realm.profile, s->realm_profile);
		else
			assert_null(c.realm.profile);
		assert_string_equal(c.platform.profile, s->platform_profile);
		assert_int_equal(c.realm_signature, RK_SIG_VALID);
		assert_int_equal(c.platform_signature, RK_SIG_VALID);
		assert_int_equal(c.realm_cose_alg, -35);
		assert_int_equal(c.platform_cose_alg, -35);
		assert_int_equal(c.realm.hash_algo, RK_ATTEST_HASH_SHA256);
		assert_int_equal(c.realm.rak_hash_algo, RK_ATTEST_HASH_SHA256);
		assert_int_equal(c.realm.measurement_len, 32);
		assert_memory_equal(c.realm.rpv, sample_rpv, 64);
		/* Every sample is signed by the sample RAK. */
		assert_memory_equal(c.realm.rak_pub, rak_raw, 97);
		assert_int_equal(c.platform.challenge_len, 32);
		assert_int_equal(c.platform.implementation_id_len, 32);
		assert_int_equal(c.platform.instance_id_len, 33);
		assert_true(c.platform.num_sw_components > 0);
		assert_non_null(c.platform.sw_components[0].measurement);
		assert_int_equal(c.platform.lifecycle, 0x3003);
		assert_string_equal(c.platform.hash_algo, "sha-256");
		if (s->format == RK_TOKEN_FORMAT_CCA_SSD) {
			assert_false(c.realm.rak_is_cose_key);
			assert_int_equal(c.realm.rak_claim_len, 97);
			assert_int_equal(c.platform.num_sw_components, 4);
			assert_string_equal(c.platform.sw_components[0].version, "3.4.2");
			assert_string_equal(c.platform.verification_service, "whatever.com");
		} else {
			assert_true(c.realm.rak_is_cose_key);
			assert_int_equal(c.realm.rak_claim_len, 107);
			assert_memory_equal(c.realm.rim, sample_rim, 32);
			assert_memory_equal(c.realm.challenge, sample_challenge_prefix, 8);
			assert_int_equal(c.platform.num_sw_components, 13);
			assert_string_equal(c.platform.sw_components[0].measurement_type, "RSE_BL1_2");
			assert_null(c.platform.sw_components[0].version);
			assert_string_equal(c.platform.sw_components[12].measurement_type, "SOC_FW_CONFIG");
		}
		if (s->format == RK_TOKEN_FORMAT_2_0) {
			assert_true(c.realm.has_instance_id);
			assert_true(c.realm.has_mec_policy);
			assert_int_equal(c.realm.mec_policy, 1);
			assert_int_equal(c.realm.instance_id[0], 0x01);
			assert_int_equal(c.realm.instance_id[32], 0x21);
		} else {
			assert_false(c.realm.has_instance_id);
			assert_false(c.realm.has_mec_policy);
		}
		rk_token_claims_release(&c);
		assert_null(c.arena);

		/* Without a CPAK: valid, platform signature not checked. */
		ret = rk_token_verify(buf, len, NULL, &c, &err);
		assert_int_equal(ret, 0);
		assert_int_equal(c.platform_signature, RK_SIG_NOT_CHECKED);
		assert_int_equal(c.realm_signature, RK_SIG_VALID);
		rk_token_claims_release(&c);

		/* No claims output wanted. */
		assert_int_equal(rk_token_verify(buf, len, &opts, NULL, NULL), 0);
		free(buf);
	}
	rk_attest_key_free(cpak);
	rk_attest_key_free(rak);
}

/* The sample CPAK's private and public PEM hold the same key. */
static void test_sample_keys(void **state)
{
	struct rk_attest_key *priv = ta_key("cpak-sample.pem");
	struct rk_attest_key *pub = ta_key("cpak-sample.pub.pem");
	struct rk_attest_key *k = NULL;
	uint8_t a[97], b[97];
	size_t al, bl;

	(void)state;
	assert_true(rk_attest_key_has_private(priv));
	assert_int_equal(rk_attest_key_coord_size(priv), 48);
	assert_int_equal(rk_attest_key_public_raw(priv, a, sizeof(a), &al), 0);
	assert_int_equal(rk_attest_key_public_raw(pub, b, sizeof(b), &bl), 0);
	assert_int_equal(al, 97);
	assert_memory_equal(a, b, 97);
	assert_int_equal(rk_attest_key_public_raw(pub, b, 96, &bl), -ENOSPC);
	assert_int_equal(bl, 97);

	assert_int_equal(rk_attest_key_load_pem("/nonexistent/key.pem", &k), -ENOENT);
	assert_null(k);
	assert_int_equal(rk_attest_key_load_pem_mem("garbage", 7, &k), -EINVAL);
	assert_null(k);
	assert_int_equal(rk_attest_key_load_pem(ta_path("token-realm2.0.cbor"), &k), -EINVAL);
	assert_int_equal(rk_attest_key_load_pem(NULL, &k), -EINVAL);
	assert_int_equal(rk_attest_key_generate(&k), 0);
	assert_true(rk_attest_key_has_private(k));
	assert_int_equal(rk_attest_key_coord_size(k), 48);

	/* public PEM: the sample's public file exactly; a generated key's reads back without its private part */
	{
		size_t plen, flen;
		char *pem = NULL;
		uint8_t *file = ta_read("cpak-sample.pub.pem", &flen);
		struct rk_attest_key *back = NULL;

		assert_int_equal(rk_attest_key_public_pem(priv, &pem, &plen), 0);
		assert_int_equal(plen, flen);
		assert_memory_equal(pem, file, flen);
		assert_int_equal(pem[plen], '\0');
		free(pem);
		free(file);
		assert_int_equal(rk_attest_key_public_pem(k, &pem, &plen), 0);
		assert_null(strstr(pem, "PRIVATE"));
		assert_int_equal(rk_attest_key_load_pem_mem(pem, plen, &back), 0);
		assert_false(rk_attest_key_has_private(back));
		assert_int_equal(rk_attest_key_public_raw(k, a, sizeof(a), &al), 0);
		assert_int_equal(rk_attest_key_public_raw(back, b, sizeof(b), &bl), 0);
		assert_memory_equal(a, b, 97);
		free(pem);
		rk_attest_key_free(back);
		assert_int_equal(rk_attest_key_public_pem(NULL, &pem, &plen), -EINVAL);
	}
	rk_attest_key_free(k);
	rk_attest_key_free(NULL);
	rk_attest_key_free(priv);
	rk_attest_key_free(pub);
}

/* Our COSE_Key encoding of the sample RAK equals the bytes in the samples. */
static void test_rak_cose_matches_sample(void **state)
{
	struct rk_attest_key *rak = ta_key("rak-sample.pem");
	struct rk_token_claims c;
	uint8_t cose[200];
	size_t n, len;
	uint8_t *buf = ta_read("token-realm2.0.cbor", &len);

	(void)state;
	assert_int_equal(rk_attest_key_public_cose(rak, cose, sizeof(cose), &n), 0);
	assert_int_equal(n, 107);
	assert_int_equal(rk_attest_key_public_cose(rak, cose, 10, &n), -ENOSPC);
	assert_int_equal(n, 107);
	assert_int_equal(rk_token_verify(buf, len, NULL, &c, NULL), 0);
	assert_int_equal(c.realm.rak_claim_len, 107);
	assert_memory_equal(c.realm.rak_claim, cose, 107);
	rk_token_claims_release(&c);
	free(buf);
	rk_attest_key_free(rak);
}

static void fill_params(struct rk_token_params *p, enum rk_token_format fmt, enum rk_attest_hash h,
			const struct rk_attest_key *rak)
{
	memset(p, 0, sizeof(*p));
	p->format = fmt;
	for (unsigned int i = 0; i < 64; i++) {
		p->challenge[i] = (uint8_t)(0x10 + i);
		p->rpv[i] = (uint8_t)(0xf0 - i);
		p->rim[i] = (uint8_t)(0x80 ^ i);
		for (unsigned int r = 0; r < 4; r++)
			p->rem[r][i] = (uint8_t)(r * 64 + i);
	}
	for (unsigned int i = 0; i < 33; i++)
		p->instance_id[i] = (uint8_t)(i ? 0xa0 + i : 0x01);
	p->hash_algo = h;
	p->mec_policy = fmt == RK_TOKEN_FORMAT_2_0 ? 1 : 0;
	p->rak = rak;
}

static void check_round_trip(const struct rk_token_params *p, const struct rk_token_claims *c)
{
	size_t hl = rk_attest_hash_size(p->hash_algo);

	assert_int_equal(c->format, p->format);
	assert_int_equal(c->top_tag, p->format == RK_TOKEN_FORMAT_2_0 ? 907 : 399);
	assert_string_equal(c->realm.profile,
			    p->format == RK_TOKEN_FORMAT_2_0 ? RK_REALM_PROFILE_2_0 : RK_REALM_PROFILE_1_0);
	assert_memory_equal(c->realm.challenge, p->challenge, 64);
	assert_memory_equal(c->realm.rpv, p->rpv, 64);
	assert_int_equal(c->realm.hash_algo, p->hash_algo);
	assert_int_equal(c->realm.measurement_len, hl);
	assert_memory_equal(c->realm.rim, p->rim, hl);
	for (unsigned int r = 0; r < 4; r++)
		assert_memory_equal(c->realm.rem[r], p->rem[r], hl);
	assert_int_equal(c->realm.rak_hash_algo, RK_ATTEST_HASH_SHA256);
	assert_true(c->realm.rak_is_cose_key);
	if (p->format == RK_TOKEN_FORMAT_2_0) {
		assert_true(c->realm.has_instance_id);
		assert_memory_equal(c->realm.instance_id, p->instance_id, 33);
		assert_true(c->realm.has_mec_policy);
		assert_int_equal(c->realm.mec_policy, p->mec_policy);
	} else {
		assert_false(c->realm.has_instance_id);
		assert_false(c->realm.has_mec_policy);
	}
	assert_int_equal(c->realm_signature, RK_SIG_VALID);
}

static void check_platform_round_trip(const struct rk_platform_claims *want,
				      const struct rk_platform_claims *got)
{
	assert_string_equal(got->profile, RK_PLATFORM_PROFILE);
	assert_int_equal(got->implementation_id_len, want->implementation_id_len);
	assert_memory_equal(got->implementation_id, want->implementation_id, want->implementation_id_len);
	assert_int_equal(got->instance_id_len, want->instance_id_len);
	assert_memory_equal(got->instance_id, want->instance_id, want->instance_id_len);
	assert_int_equal(got->config_len, want->config_len);
	assert_memory_equal(got->config, want->config, want->config_len);
	assert_int_equal(got->lifecycle, want->lifecycle);
	assert_string_equal(got->hash_algo, want->hash_algo);
	if (want->verification_service)
		assert_string_equal(got->verification_service, want->verification_service);
	else
		assert_null(got->verification_service);
	assert_int_equal(got->num_sw_components, want->num_sw_components);
	for (size_t i = 0; i < want->num_sw_components; i++) {
		const struct rk_sw_component *a = &want->sw_components[i], *b = &got->sw_components[i];

		assert_string_equal(a->measurement_type, b->measurement_type);
		assert_string_equal(a->version, b->version);
		assert_string_equal(a->hash_algo, b->hash_algo);
		assert_int_equal(a->measurement_len, b->measurement_len);
		assert_memory_equal(a->measurement, b->measurement, a->measurement_len);
		assert_int_equal(a->signer_id_len, b->signer_id_len);
		assert_memory_equal(a->signer_id, b->signer_id, a->signer_id_len);
	}
}

/* Built with the sample RAK + CPAK, every format and hash, checked with the public CPAK. */
static void test_build_with_sample_keys(void **state)
{
	static const enum rk_token_format fmts[] = { RK_TOKEN_FORMAT_2_0, RK_TOKEN_FORMAT_1_0 };
	static const enum rk_attest_hash hashes[] = { RK_ATTEST_HASH_SHA256, RK_ATTEST_HASH_SHA384,
						      RK_ATTEST_HASH_SHA512 };
	struct rk_attest_key *rak = ta_key("rak-sample.pem");
	struct rk_attest_key *cpak = ta_key("cpak-sample.pem");
	struct rk_attest_key *cpak_pub = ta_key("cpak-sample.pub.pem");
	struct rk_platform_claims def;

	(void)state;
	rk_platform_claims_default(&def);
	for (size_t f = 0; f < 2; f++) {
		for (size_t h = 0; h < 3; h++) {
			struct rk_token_params p;
			struct rk_verify_opts opts = { .cpak = cpak_pub };
			struct rk_token_claims c;
			struct rk_verify_error err;
			uint8_t buf[4096];
			size_t len = 0, need = 0;
			int ret;

			fill_params(&p, fmts[f], hashes[h], rak);
			p.cpak = cpak;
			/* Size query, then a buffer just too small, then the real thing. */
			assert_int_equal(rk_token_build(&p, NULL, 0, &need), -ENOSPC);
			assert_true(need > 1000 && need <= sizeof(buf));
			assert_int_equal(rk_token_build(&p, buf, need - 1, &len), -ENOSPC);
			assert_int_equal(len, need);
			assert_int_equal(rk_token_build(&p, buf, sizeof(buf), &len), 0);
			assert_int_equal(len, need);

			opts.expected_challenge = p.challenge;
			opts.expected_challenge_len = 64;
			opts.expected_rim = p.rim;
			opts.expected_rim_len = rk_attest_hash_size(p.hash_algo);
			ret = rk_token_verify(buf, len, &opts, &c, &err);
			if (ret)
				fail_msg("fmt %zu hash %zu: %s", f, h, err.reason);
			check_round_trip(&p, &c);
			check_platform_round_trip(&def, &c.platform);
			assert_int_equal(c.platform_signature, RK_SIG_VALID);
			rk_token_claims_release(&c);
		}
	}
	rk_attest_key_free(rak);
	rk_attest_key_free(cpak);
	rk_attest_key_free(cpak_pub);
}

/* Custom platform claims round-trip; fresh keys work the same way. */
static void test_build_custom_platform(void **state)
{
	static const uint8_t impl[32] = { 1, 2, 3 };
	static const uint8_t inst[33] = { 0x01, 9, 9, 9 };
	static const uint8_t cfg[7] = { 'c', 'o', 'n', 'f', 'i', 'g', 0 };
	static const uint8_t m1[48] = { 0xaa }, s1[32] = { 0xbb };
	const struct rk_sw_component sw[1] = {
		{ "RMM", m1, sizeof(m1), "9.9.9", s1, sizeof(s1), "sha-384" },
	};
	struct rk_platform_claims pc = {
		.implementation_id = impl,
		.implementation_id_len = sizeof(impl),
		.instance_id = inst,
		.instance_id_len = sizeof(inst),
		.config = cfg,
		.config_len = sizeof(cfg),
		.lifecycle = 0x3000,
		.hash_algo = "sha-384",
		.verification_service = "https://verifier.example",
		.sw_components = sw,
		.num_sw_components = 1,
	};
	struct rk_attest_key *rak = NULL, *cpak = NULL;
	struct rk_token_params p;
	struct rk_verify_opts opts = { 0 };
	struct rk_token_claims c;
	struct rk_verify_error err;
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(rk_attest_key_generate(&rak), 0);
	assert_int_equal(rk_attest_key_generate(&cpak), 0);
	fill_params(&p, RK_TOKEN_FORMAT_2_0, RK_ATTEST_HASH_SHA384, rak);
	p.mec_policy = 0;
	p.cpak = cpak;
	p.platform = &pc;
	assert_int_equal(rk_token_build_alloc(&p, &buf, &len), 0);
	opts.cpak = cpak; /* a private key also verifies */
	assert_int_equal(rk_token_verify(buf, len, &opts, &c, &err), 0);
	check_round_trip(&p, &c);
	check_platform_round_trip(&pc, &c.platform);
	rk_token_claims_release(&c);

	/* Another CPAK: the platform signature is refused. */
	{
		struct rk_attest_key *other = ta_key("cpak-sample.pub.pem");

		opts.cpak = other;
		assert_int_equal(rk_token_verify(buf, len, &opts, &c, &err), -EBADMSG);
		assert_int_equal(err.code, RK_VERIFY_ERR_PLATFORM_SIGNATURE);
		assert_non_null(strstr(err.reason, "platform token signature"));
		rk_token_claims_release(&c);
		rk_attest_key_free(other);
	}
	free(buf);
	rk_attest_key_free(rak);
	rk_attest_key_free(cpak);
}

/* Extract the platform COSE_Sign1 bytes of a 2.0 token (test-side decoding). */
static uint8_t *platform_of(const uint8_t *tok, size_t len, size_t *out_len)
{
	struct cbor_load_result r;
	cbor_item_t *top = cbor_load(tok, len, &r), *map, *entry, *b;
	uint8_t *out;

	assert_non_null(top);
	map = cbor_tag_item(top);
	entry = NULL;
	for (size_t i = 0; i < cbor_map_size(map); i++)
		if (cbor_get_int(cbor_map_handle(map)[i].key) == 44234)
			entry = cbor_map_handle(map)[i].value;
	assert_non_null(entry);
	b = cbor_array_handle(entry)[1];
	*out_len = cbor_bytestring_length(b);
	out = malloc(*out_len);
	memcpy(out, cbor_bytestring_handle(b), *out_len);
	cbor_decref(&map);
	cbor_decref(&top);
	return out;
}

/* An opaque platform token (from the sample) with the sample RAK: bound, verifies. */
static void test_build_with_platform_token(void **state)
{
	struct rk_attest_key *rak = ta_key("rak-sample.pem");
	struct rk_attest_key *cpak = ta_key("cpak-sample.pub.pem");
	struct rk_attest_key *other = NULL;
	struct rk_verify_opts opts = { .cpak = cpak };
	struct rk_verify_error err;
	struct rk_token_params p;
	struct rk_token_claims c;
	size_t slen, plen, len;
	uint8_t *sample = ta_read("token-realm2.0.cbor", &slen);
	uint8_t *plat = platform_of(sample, slen, &plen);
	uint8_t *buf = NULL;

	(void)state;
	for (int f = 0; f < 2; f++) {
		fill_params(&p, f ? RK_TOKEN_FORMAT_1_0 : RK_TOKEN_FORMAT_2_0, RK_ATTEST_HASH_SHA256, rak);
		p.platform_token = plat;
		p.platform_token_len = plen;
		assert_int_equal(rk_token_build_alloc(&p, &buf, &len), 0);
		/* The platform token is copied byte for byte. */
		assert_non_null(memmem(buf, len, plat, plen));
		assert_int_equal(rk_token_verify(buf, len, &opts, &c, &err), 0);
		check_round_trip(&p, &c);
		assert_int_equal(c.platform.num_sw_components, 13);
		rk_token_claims_release(&c);
		free(buf);
	}

	/* The same platform token with another RAK: not bound. */
	assert_int_equal(rk_attest_key_generate(&other), 0);
	fill_params(&p, RK_TOKEN_FORMAT_2_0, RK_ATTEST_HASH_SHA256, other);
	p.platform_token = plat;
	p.platform_token_len = plen;
	assert_int_equal(rk_token_build_alloc(&p, &buf, &len), 0);
	assert_int_equal(rk_token_verify(buf, len, &opts, &c, &err), -EBADMSG);
	assert_int_equal(err.code, RK_VERIFY_ERR_BINDING);
	assert_non_null(strstr(err.reason, "not bound"));
	rk_token_claims_release(&c);
	free(buf);

	free(plat);
	free(sample);
	rk_attest_key_free(rak);
	rk_attest_key_free(cpak);
	rk_attest_key_free(other);
}

static void test_build_invalid_params(void **state)
{
	struct rk_attest_key *rak = ta_key("rak-sample.pem");
	struct rk_attest_key *cpak = ta_key("cpak-sample.pem");
	struct rk_attest_key *cpak_pub = ta_key("cpak-sample.pub.pem");
	struct rk_token_params p;
	uint8_t tok[8] = { 0xd2 }, *buf = NULL;
	size_t len = 0;

	(void)state;
	fill_params(&p, RK_TOKEN_FORMAT_2_0, RK_ATTEST_HASH_SHA256, rak);
	assert_int_equal(rk_token_build_alloc(&p, &buf, &len), -EINVAL); /* no platform */
	p.cpak = cpak;
	p.platform_token = tok;
	p.platform_token_len = sizeof(tok);
	assert_int_equal(rk_token_build_alloc(&p, &buf, &len), -EINVAL); /* both */
	p.platform_token = NULL;
	p.cpak = cpak_pub;
	assert_int_equal(rk_token_build_alloc(&p, &buf, &len), -EINVAL); /* public CPAK */
	p.cpak = cpak;
	p.rak = cpak_pub;
	assert_int_equal(rk_token_build_alloc(&p, &buf, &len), -EINVAL); /* public RAK */
	p.rak = NULL;
	assert_int_equal(rk_token_build_alloc(&p, &buf, &len), -EINVAL);
	p.rak = rak;
	p.hash_algo = (enum rk_attest_hash)7;
	assert_int_equal(rk_token_build_alloc(&p, &buf, &len), -EINVAL);
	p.hash_algo = RK_ATTEST_HASH_SHA256;
	p.mec_policy = 2;
	assert_int_equal(rk_token_build_alloc(&p, &buf, &len), -EINVAL);
	p.mec_policy = 0;
	p.format = RK_TOKEN_FORMAT_CCA_SSD;
	assert_int_equal(rk_token_build_alloc(&p, &buf, &len), -EINVAL);
	p.format = RK_TOKEN_FORMAT_2_0;
	assert_int_equal(rk_token_build_alloc(NULL, &buf, &len), -EINVAL);
	assert_int_equal(rk_token_build(&p, NULL, 0, NULL), -EINVAL);
	assert_null(buf);
	assert_int_equal(rk_token_build_alloc(&p, &buf, &len), 0);
	free(buf);
	rk_attest_key_free(rak);
	rk_attest_key_free(cpak);
	rk_attest_key_free(cpak_pub);
}

/* Offsets of the protected header, payload and signature of a COSE_Sign1 inside tok. */
struct part {
	size_t off, len;
	const char *what;
};

static void find_parts(const uint8_t *tok, size_t len, const uint8_t *cose, size_t cose_len, const char *who,
		       struct part parts[3])
{
	struct rk_cose_sign1 s;
	struct rk_verify_error e;
	const uint8_t *base = memmem(tok, len, cose, cose_len);
	const uint8_t *p;

	assert_non_null(base);
	assert_int_equal(rk_cose_sign1_decode(cose, cose_len, who, &s, &e), 0);
	/* First occurrence inside the COSE bytes; the order is protected, payload, sig. */
	p = memmem(base, cose_len, s.protected_hdr, s.protected_len);
	parts[0] = (struct part){ (size_t)(p - tok), s.protected_len, "protected header" };
	p = memmem(base, cose_len, s.payload, s.payload_len);
	parts[1] = (struct part){ (size_t)(p - tok), s.payload_len, "payload" };
	p = memmem(base + cose_len - s.sig_len, s.sig_len, s.sig, s.sig_len);
	assert_non_null(p);
	parts[2] = (struct part){ (size_t)(p - tok), s.sig_len, "signature" };
	rk_cose_sign1_fini(&s);
}

static uint8_t *realm_of(const uint8_t *tok, size_t len, size_t *out_len)
{
	struct cbor_load_result r;
	cbor_item_t *top = cbor_load(tok, len, &r), *map, *entry = NULL, *b;
	uint8_t *out;

	assert_non_null(top);
	map = cbor_tag_item(top);
	for (size_t i = 0; i < cbor_map_size(map); i++)
		if (cbor_get_int(cbor_map_handle(map)[i].key) == 44241)
			entry = cbor_map_handle(map)[i].value;
	assert_non_null(entry);
	b = cbor_isa_array(entry) ? cbor_array_handle(entry)[1] : entry;
	*out_len = cbor_bytestring_length(b);
	out = malloc(*out_len);
	memcpy(out, cbor_bytestring_handle(b), *out_len);
	cbor_decref(&map);
	cbor_decref(&top);
	return out;
}

/* Flip every byte of both tokens' signed parts: each change is refused. */
static void flip_all(const uint8_t *tok, size_t len, const struct rk_attest_key *cpak)
{
	struct rk_verify_opts opts = { .cpak = cpak };
	struct part parts[6];
	size_t pl, rl;
	uint8_t *plat = platform_of(tok, len, &pl);
	uint8_t *realm = realm_of(tok, len, &rl);
	uint8_t *copy = malloc(len);
	unsigned long tried = 0;

	assert_int_equal(ta_verify_code(tok, len, &opts, NULL), RK_VERIFY_OK);
	find_parts(tok, len, realm, rl, "realm", &parts[0]);
	find_parts(tok, len, plat, pl, "platform", &parts[3]);
	for (int i = 0; i < 6; i++) {
		for (size_t b = 0; b < parts[i].len; b++) {
			static const uint8_t masks[] = { 0x01, 0x80 };

			for (size_t k = 0; k < sizeof(masks); k++) {
				struct rk_verify_error err;

				memcpy(copy, tok, len);
				copy[parts[i].off + b] ^= masks[k];
				if (ta_verify_code(copy, len, &opts, &err) == RK_VERIFY_OK)
					fail_msg("%s %s byte %zu ^ 0x%02x accepted",
						 i < 3 ? "realm" : "platform", parts[i].what, b, masks[k]);
				tried++;
			}
		}
	}
	print_message("flipped %lu bytes/bits, all refused\n", tried);
	assert_true(tried > 2 * (96 * 2 + 400));
	free(copy);
	free(plat);
	free(realm);
}

static void test_flip_every_byte_sample(void **state)
{
	struct rk_attest_key *cpak = ta_key("cpak-sample.pub.pem");
	size_t len;
	uint8_t *tok = ta_read("token-realm2.0.cbor", &len);

	(void)state;
	flip_all(tok, len, cpak);
	free(tok);
	rk_attest_key_free(cpak);
}

static void test_flip_every_byte_built(void **state)
{
	struct rk_attest_key *rak = ta_key("rak-sample.pem");
	struct rk_attest_key *cpak = ta_key("cpak-sample.pem");
	struct rk_token_params p;
	uint8_t *tok = NULL;
	size_t len;

	(void)state;
	fill_params(&p, RK_TOKEN_FORMAT_2_0, RK_ATTEST_HASH_SHA256, rak);
	p.cpak = cpak;
	assert_int_equal(rk_token_build_alloc(&p, &tok, &len), 0);
	flip_all(tok, len, cpak);
	free(tok);
	rk_attest_key_free(rak);
	rk_attest_key_free(cpak);
}

static void test_expected_values(void **state)
{
	struct rk_attest_key *rak = ta_key("rak-sample.pem");
	struct rk_attest_key *cpak = ta_key("cpak-sample.pem");
	struct rk_verify_opts opts = { 0 };
	struct rk_verify_error err;
	struct rk_token_params p;
	uint8_t *tok = NULL, other[64];
	size_t len;

	(void)state;
	fill_params(&p, RK_TOKEN_FORMAT_2_0, RK_ATTEST_HASH_SHA512, rak);
	p.cpak = cpak;
	assert_int_equal(rk_token_build_alloc(&p, &tok, &len), 0);

	opts.expected_rim = p.rim;
	opts.expected_rim_len = 64;
	assert_int_equal(ta_verify_code(tok, len, &opts, &err), RK_VERIFY_OK);
	memcpy(other, p.rim, 64);
	other[63] ^= 1;
	opts.expected_rim = other;
	assert_int_equal(ta_verify_code(tok, len, &opts, &err), RK_VERIFY_ERR_RIM_MISMATCH);
	assert_non_null(strstr(err.reason, "differs from the expected RIM"));
	opts.expected_rim_len = 32; /* right prefix, wrong size */
	opts.expected_rim = p.rim;
	assert_int_equal(ta_verify_code(tok, len, &opts, &err), RK_VERIFY_ERR_RIM_MISMATCH);
	assert_non_null(strstr(err.reason, "32 bytes"));
	opts.expected_rim_len = 31;
	assert_int_equal(ta_verify_code(tok, len, &opts, &err), RK_VERIFY_ERR_ARGS);
	opts.expected_rim = NULL;

	opts.expected_challenge = p.challenge;
	opts.expected_challenge_len = 64;
	assert_int_equal(ta_verify_code(tok, len, &opts, &err), RK_VERIFY_OK);
	memcpy(other, p.challenge, 64);
	other[0] ^= 0x80;
	opts.expected_challenge = other;
	assert_int_equal(ta_verify_code(tok, len, &opts, &err), RK_VERIFY_ERR_CHALLENGE_MISMATCH);
	assert_non_null(strstr(err.reason, "challenge"));
	opts.expected_challenge_len = 63;
	assert_int_equal(ta_verify_code(tok, len, &opts, &err), RK_VERIFY_ERR_ARGS);

	assert_int_equal(rk_token_verify(NULL, 10, NULL, NULL, &err), -EINVAL);
	assert_int_equal(err.code, RK_VERIFY_ERR_ARGS);
	free(tok);
	rk_attest_key_free(rak);
	rk_attest_key_free(cpak);
}

static void test_code_names(void **state)
{
	(void)state;
	for (int i = 0; i < RK_VERIFY_CODE_COUNT; i++) {
		const char *n = rk_verify_code_name((enum rk_verify_code)i);

		assert_non_null(n);
		assert_string_not_equal(n, "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(n, rk_verify_code_name((enum rk_verify_code)j));
	}
	assert_string_equal(rk_verify_code_name(RK_VERIFY_CODE_COUNT), "unknown");
	assert_int_equal(rk_attest_hash_size(RK_ATTEST_HASH_SHA256), 32);
	assert_int_equal(rk_attest_hash_size(RK_ATTEST_HASH_SHA384), 48);
	assert_int_equal(rk_attest_hash_size(RK_ATTEST_HASH_SHA512), 64);
	assert_int_equal(rk_attest_hash_size((enum rk_attest_hash)3), 0);
	assert_string_equal(rk_attest_hash_name(RK_ATTEST_HASH_SHA384), "sha-384");
	assert_null(rk_attest_hash_name((enum rk_attest_hash)9));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples_verify),
		cmocka_unit_test(test_sample_keys),
		cmocka_unit_test(test_rak_cose_matches_sample),
		cmocka_unit_test(test_build_with_sample_keys),
		cmocka_unit_test(test_build_custom_platform),
		cmocka_unit_test(test_build_with_platform_token),
		cmocka_unit_test(test_build_invalid_params),
		cmocka_unit_test(test_flip_every_byte_sample),
		cmocka_unit_test(test_flip_every_byte_built),
		cmocka_unit_test(test_expected_values),
		cmocka_unit_test(test_code_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
