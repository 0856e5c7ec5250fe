/* SPDX-License-Identifier: MIT */
/*
 * Attestation keys (RAK, CPAK): ECDSA on the NIST curves through OpenSSL 3
 * EVP. COSE signatures are the raw r || s form (RFC 8152 §8.1); OpenSSL's
 * DER form is converted with ECDSA_SIG.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/buffer.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "attest_internal.h"

/* Largest PEM file we read for a key. */
#define RK_PEM_MAX_SIZE (64u * 1024u)

struct rk_curve_info {
	const char *group; /* OpenSSL group name */
	int cose_crv;
	int cose_alg;
	size_t coord;
	const char *md;
};

static const struct rk_curve_info rk_curves[] = {
	{ "prime256v1", RK_COSE_CRV_P256, RK_COSE_ALG_ES256, 32, "SHA256" },
	{ "secp384r1", RK_COSE_CRV_P384, RK_COSE_ALG_ES384, 48, "SHA384" },
	{ "secp521r1", RK_COSE_CRV_P521, RK_COSE_ALG_ES512, 66, "SHA512" },
};

static const struct rk_curve_info *curve_by_group(const char *group)
{
	for (size_t i = 0; i < sizeof(rk_curves) / sizeof(rk_curves[0]); i++)
		if (!strcmp(rk_curves[i].group, group))
			return &rk_curves[i];
	return NULL;
}

static const struct rk_curve_info *curve_by_cose(int crv)
{
	for (size_t i = 0; i < sizeof(rk_curves) / sizeof(rk_curves[0]); i++)
		if (rk_curves[i].cose_crv == crv)
			return &rk_curves[i];
	return NULL;
}

size_t rk_attest_hash_size(enum rk_attest_hash alg)
{
	switch (alg) {
	case RK_ATTEST_HASH_SHA256:
		return 32;
	case RK_ATTEST_HASH_SHA384:
		return 48;
	case RK_ATTEST_HASH_SHA512:
		return 64;
	}
	return 0;
}

const char *rk_attest_hash_name(enum rk_attest_hash alg)
{
	switch (alg) {
	case RK_ATTEST_HASH_SHA256:
		return "sha-256";
	case RK_ATTEST_HASH_SHA384:
		return "sha-384";
	case RK_ATTEST_HASH_SHA512:
		return "sha-512";
	}
	return NULL;
}

bool rk_attest_hash_from_name(const char *name, size_t len, enum rk_attest_hash *alg)
{
	static const enum rk_attest_hash all[] = { RK_ATTEST_HASH_SHA256, RK_ATTEST_HASH_SHA384,
						   RK_ATTEST_HASH_SHA512 };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const char *n = rk_attest_hash_name(all[i]);

		if (strlen(n) == len && !memcmp(n, name, len)) {
			*alg = all[i];
			return true;
		}
	}
	return false;
}

int rk_attest_digest(enum rk_attest_hash alg, const uint8_t *data, size_t len, uint8_t *out)
{
	const EVP_MD *md;
	unsigned int n = 0;

	switch (alg) {
	case RK_ATTEST_HASH_SHA256:
		md = EVP_sha256();
		break;
	case RK_ATTEST_HASH_SHA384:
		md = EVP_sha384();
		break;
	case RK_ATTEST_HASH_SHA512:
		md = EVP_sha512();
		break;
	default:
		return -EINVAL;
	}
	if (EVP_Digest(data, len, out, &n, md, NULL) != 1 || n != rk_attest_hash_size(alg)) {
		ERR_clear_error();
		return -EIO;
	}
	return 0;
}

/* Take ownership of pkey (freed on failure). */
static int key_wrap(EVP_PKEY *pkey, struct rk_attest_key **out)
{
	char group[64];
	const struct rk_curve_info *ci;
	struct rk_attest_key *key;
	BIGNUM *priv = NULL;

	if (!EVP_PKEY_is_a(pkey, "EC")) {
		EVP_PKEY_free(pkey);
		return -ENOTSUP;
	}
	if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) !=
	    1) {
		ERR_clear_error();
		EVP_PKEY_free(pkey);
		return -ENOTSUP;
	}
	ci = curve_by_group(group);
	if (!ci) {
		EVP_PKEY_free(pkey);
		return -ENOTSUP;
	}
	key = calloc(1, sizeof(*key));
	if (!key) {
		EVP_PKEY_free(pkey);
		return -ENOMEM;
	}
	key->pkey = pkey;
	key->coord = ci->coord;
	key->cose_crv = ci->cose_crv;
	key->cose_alg = ci->cose_alg;
	key->md = ci->md;
	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &priv) == 1 && priv) {
		key->has_private = true;
		BN_clear_free(priv);
	}
	ERR_clear_error();
	*out = key;
	return 0;
}

int rk_attest_key_generate(struct rk_attest_key **out)
{
	EVP_PKEY *pkey;

	if (!out)
		return -EINVAL;
	*out = NULL;
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	if (!pkey) {
		ERR_clear_error();
		return -EIO;
	}
	return key_wrap(pkey, out);
}

static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1; /* never prompt: encrypted keys are not supported */
}

int rk_attest_key_load_pem_mem(const char *pem, size_t len, struct rk_attest_key **out)
{
	EVP_PKEY *pkey;
	BIO *bio;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!pem || len == 0 || len > RK_PEM_MAX_SIZE)
		return -EINVAL;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return -ENOMEM;
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
	if (!pkey) {
		ERR_clear_error();
		BIO_free(bio);
		bio = BIO_new_mem_buf(pem, (int)len);
		if (!bio)
			return -ENOMEM;
		pkey = PEM_read_bio_PUBKEY(bio, NULL, no_password, NULL);
	}
	BIO_free(bio);
	if (!pkey) {
		ERR_clear_error();
		return -EINVAL;
	}
	return key_wrap(pkey, out);
}

int rk_attest_read_file(const char *path, size_t max, uint8_t **out, size_t *len)
{
	struct stat st;
	FILE *f;
	uint8_t *buf;
	size_t n;
	int c;

	*out = NULL;
	*len = 0;
	f = fopen(path, "rb");
	if (!f)
		return -errno;
	if (!fstat(fileno(f), &st) && S_ISDIR(st.st_mode)) {
		fclose(f); /* fopen opens a directory; reading it fails with EISDIR */
		return -EISDIR;
	}
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, max + 1, f);
	c = ferror(f);
	fclose(f);
	if (c) {
		free(buf);
		return -EIO;
	}
	if (n > max) {
		free(buf);
		return -EFBIG;
	}
	*out = buf;
	*len = n;
	return 0;
}

int rk_attest_key_load_pem(const char *path, struct rk_attest_key **out)
{
	uint8_t *buf;
	size_t len;
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!path)
		return -EINVAL;
	ret = rk_attest_read_file(path, RK_PEM_MAX_SIZE, &buf, &len);
	if (ret)
		return ret;
	ret = rk_attest_key_load_pem_mem((const char *)buf, len, out);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return ret;
}

void rk_attest_key_free(struct rk_attest_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}

bool rk_attest_key_has_private(const struct rk_attest_key *key)
{
	return key && key->has_private;
}

size_t rk_attest_key_coord_size(const struct rk_attest_key *key)
{
	return key ? key->coord : 0;
}

int rk_attest_key_from_point(int cose_crv, const uint8_t *point, size_t len, struct rk_attest_key **out)
{
	const struct rk_curve_info *ci = curve_by_cose(cose_crv);
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL, *check = NULL;
	EVP_PKEY *pkey = NULL;
	int ret = -EINVAL;

	*out = NULL;
	if (!ci || len != 1 + 2 * ci->coord || point[0] != 0x04)
		return -EINVAL;
	bld = OSSL_PARAM_BLD_new();
	if (!bld)
		return -ENOMEM;
	if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, ci->group, 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, len) != 1) {
		ret = -ENOMEM;
		goto out;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!params || !ctx) {
		ret = -ENOMEM;
		goto out;
	}
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1 || !pkey)
		goto out; /* not a point on the curve */
	check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!check) {
		ret = -ENOMEM;
		goto out;
	}
	/*
	 * On the curve and not the point at infinity. The NIST prime curves
	 * have cofactor 1, so the full check's n*Q == O multiplication (as
	 * costly as half a verification) adds nothing.
	 */
	if (EVP_PKEY_public_check_quick(check) != 1)
		goto out;
	ret = key_wrap(pkey, out);
	pkey = NULL;
out:
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return ret;
}

/* x and y, each coord bytes big-endian. */
static int key_xy(const struct rk_attest_key *key, uint8_t *x, uint8_t *y)
{
	BIGNUM *bx = NULL, *by = NULL;
	int ret = -EIO;

	if (EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &bx) == 1 &&
	    EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &by) == 1 &&
	    BN_bn2binpad(bx, x, (int)key->coord) == (int)key->coord &&
	    BN_bn2binpad(by, y, (int)key->coord) == (int)key->coord)
		ret = 0;
	ERR_clear_error();
	BN_free(bx);
	BN_free(by);
	return ret;
}

int rk_attest_key_public_raw(const struct rk_attest_key *key, uint8_t *out, size_t cap, size_t *len)
{
	size_t need;

	if (!key || !len)
		return -EINVAL;
	need = 1 + 2 * key->coord;
	*len = need;
	if (!out || cap < need)
		return -ENOSPC;
	out[0] = 0x04;
	return key_xy(key, out + 1, out + 1 + key->coord);
}

int rk_attest_key_cose_alloc(const struct rk_attest_key *key, uint8_t **out, size_t *len)
{
	uint8_t x[66], y[66];
	cbor_item_t *map;
	int ret;

	*out = NULL;
	*len = 0;
	ret = key_xy(key, x, y);
	if (ret)
		return ret;
	map = cbor_new_definite_map(4);
	if (!map)
		return -ENOMEM;
	/* RFC 8152 §13.1.1: kty EC2, crv, x, y (in this order, like TF-RMM). */
	if (!rk_cbor_map_put(map, rk_cbor_int(1), rk_cbor_int(RK_COSE_KTY_EC2)) ||
	    !rk_cbor_map_put(map, rk_cbor_int(-1), rk_cbor_int(key->cose_crv)) ||
	    !rk_cbor_map_put(map, rk_cbor_int(-2), cbor_build_bytestring(x, key->coord)) ||
	    !rk_cbor_map_put(map, rk_cbor_int(-3), cbor_build_bytestring(y, key->coord)))
		ret = -ENOMEM;
	else
		ret = rk_cbor_serialize(map, out, len);
	cbor_decref(&map);
	return ret;
}

int rk_attest_key_public_pem(const struct rk_attest_key *key, char **out, size_t *len)
{
	BUF_MEM *mem = NULL;
	char *pem;
	BIO *bio;
	int ret = -EIO;

	if (!key || !out || !len)
		return -EINVAL;
	*out = NULL;
	*len = 0;
	bio = BIO_new(BIO_s_mem());
	if (!bio)
		return -ENOMEM;
	/* SubjectPublicKeyInfo ("PUBLIC KEY"): only the public part, whatever the key holds */
	if (PEM_write_bio_PUBKEY(bio, key->pkey) == 1 && BIO_get_mem_ptr(bio, &mem) == 1 && mem &&
	    mem->length) {
		pem = malloc(mem->length + 1);
		if (pem) {
			memcpy(pem, mem->data, mem->length);
			pem[mem->length] = '\0';
			*out = pem;
			*len = mem->length;
			ret = 0;
		} else {
			ret = -ENOMEM;
		}
	}
	ERR_clear_error();
	BIO_free(bio);
	return ret;
}

int rk_attest_key_public_cose(const struct rk_attest_key *key, uint8_t *out, size_t cap, size_t *len)
{
	uint8_t *buf;
	size_t n;
	int ret;

	if (!key || !len)
		return -EINVAL;
	ret = rk_attest_key_cose_alloc(key, &buf, &n);
	if (ret)
		return ret;
	*len = n;
	if (!out || cap < n)
		ret = -ENOSPC;
	else
		memcpy(out, buf, n);
	free(buf);
	return ret;
}

int rk_attest_sign(const struct rk_attest_key *key, const uint8_t *msg, size_t len, uint8_t *sig,
		   size_t sig_cap, size_t *sig_len)
{
	EVP_MD_CTX *ctx;
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t der_len = 0;
	ECDSA_SIG *esig = NULL;
	const BIGNUM *r, *s;
	int ret = -EIO;

	if (!key->has_private)
		return -EINVAL;
	if (sig_cap < 2 * key->coord)
		return -ENOSPC;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestSignInit_ex(ctx, NULL, key->md, NULL, NULL, key->pkey, NULL) != 1 ||
	    EVP_DigestSign(ctx, NULL, &der_len, msg, len) != 1)
		goto out;
	der = OPENSSL_malloc(der_len);
	if (!der) {
		ret = -ENOMEM;
		goto out;
	}
	if (EVP_DigestSign(ctx, der, &der_len, msg, len) != 1)
		goto out;
	p = der;
	esig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	if (!esig)
		goto out;
	ECDSA_SIG_get0(esig, &r, &s);
	if (BN_bn2binpad(r, sig, (int)key->coord) != (int)key->coord ||
	    BN_bn2binpad(s, sig + key->coord, (int)key->coord) != (int)key->coord)
		goto out;
	*sig_len = 2 * key->coord;
	ret = 0;
out:
	ERR_clear_error();
	ECDSA_SIG_free(esig);
	OPENSSL_free(der);
	EVP_MD_CTX_free(ctx);
	return ret;
}

int rk_attest_verify_sig(const struct rk_attest_key *key, const uint8_t *msg, size_t len, const uint8_t *sig,
			 size_t sig_len)
{
	EVP_MD_CTX *ctx = NULL;
	ECDSA_SIG *esig = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *der = NULL;
	int der_len, rc, ret = -EIO;

	if (sig_len != 2 * key->coord)
		return -EBADMSG;
	r = BN_bin2bn(sig, (int)key->coord, NULL);
	s = BN_bin2bn(sig + key->coord, (int)key->coord, NULL);
	esig = ECDSA_SIG_new();
	if (!r || !s || !esig) {
		ret = -ENOMEM;
		goto out;
	}
	if (ECDSA_SIG_set0(esig, r, s) != 1)
		goto out;
	r = s = NULL; /* owned by esig */
	der_len = i2d_ECDSA_SIG(esig, &der);
	if (der_len <= 0)
		goto out;
	ctx = EVP_MD_CTX_new();
	if (!ctx) {
		ret = -ENOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit_ex(ctx, NULL, key->md, NULL, NULL, key->pkey, NULL) != 1)
		goto out;
	rc = EVP_DigestVerify(ctx, der, (size_t)der_len, msg, len);
	/* 0: mismatch or r/s out of range; both mean "does not verify". */
	ret = rc == 1 ? 0 : rc == 0 ? -EBADMSG : -EIO;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	ECDSA_SIG_free(esig);
	BN_free(r);
	BN_free(s);
	return ret;
}
