/* SPDX-License-Identifier: MIT */
/* Measurement descriptors and hashing (OpenSSL EVP). */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "realmkit/measure.h"

size_t rk_hash_len(unsigned int algo)
{
	switch (algo) {
	case RMI_HASH_SHA_256:
		return 32;
	case RMI_HASH_SHA_384:
		return 48;
	case RMI_HASH_SHA_512:
		return 64;
	default:
		return 0;
	}
}

const char *rk_hash_name(unsigned int algo)
{
	switch (algo) {
	case RMI_HASH_SHA_256:
		return "sha-256";
	case RMI_HASH_SHA_384:
		return "sha-384";
	case RMI_HASH_SHA_512:
		return "sha-512";
	default:
		return NULL;
	}
}

/*
 * The digests, fetched from the default provider once (OpenSSL 3). EVP_sha256()
 * and its kind are legacy handles: each EVP_DigestInit_ex() with one fetches
 * the provider's implementation again (a lock and a property query per call,
 * ~10% of the time a realm's populate spent hashing 4 KiB granules).
 */
static const char *const md_names[] = { "SHA2-256", "SHA2-384", "SHA2-512" };
static const EVP_MD *mds[3];
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void md_fetch(void)
{
	const EVP_MD *legacy[3] = { EVP_sha256(), EVP_sha384(), EVP_sha512() };

	for (unsigned int i = 0; i < 3; i++) {
		EVP_MD *md = EVP_MD_fetch(NULL, md_names[i], NULL); /* kept for the process's life */

		mds[i] = md ? md : legacy[i]; /* not fetchable: the legacy handle still works */
	}
}

static const EVP_MD *hash_md(unsigned int algo)
{
	unsigned int i;

	switch (algo) {
	case RMI_HASH_SHA_256:
		i = 0;
		break;
	case RMI_HASH_SHA_384:
		i = 1;
		break;
	case RMI_HASH_SHA_512:
		i = 2;
		break;
	default:
		return NULL;
	}
	pthread_once(&md_once, md_fetch);
	return mds[i];
}

/* One digest context per thread, so command paths do not allocate. */
static pthread_key_t ctx_key;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

static void ctx_free(void *p)
{
	EVP_MD_CTX_free(p);
}

static void ctx_key_init(void)
{
	(void)pthread_key_create(&ctx_key, ctx_free);
}

static EVP_MD_CTX *thread_ctx(void)
{
	EVP_MD_CTX *ctx;

	pthread_once(&ctx_once, ctx_key_init);
	ctx = pthread_getspecific(ctx_key);
	if (!ctx) {
		ctx = EVP_MD_CTX_new();
		if (ctx && pthread_setspecific(ctx_key, ctx)) {
			EVP_MD_CTX_free(ctx);
			ctx = NULL;
		}
	}
	return ctx;
}

int rk_hash(unsigned int algo, const void *data, size_t len, uint8_t out[RK_MEASUREMENT_MAX])
{
	const EVP_MD *md = hash_md(algo);
	EVP_MD_CTX *ctx = thread_ctx();
	unsigned int n = 0;

	if (!md)
		return -EINVAL;
	if (!ctx)
		return -ENOMEM;
	memset(out, 0, RK_MEASUREMENT_MAX);
	if (!EVP_DigestInit_ex(ctx, md, NULL) || !EVP_DigestUpdate(ctx, data, len) ||
	    !EVP_DigestFinal_ex(ctx, out, &n))
		return -EIO;
	return 0;
}

int rk_rim_init(const struct rmi_realm_params *params, uint8_t rim[RK_MEASUREMENT_MAX])
{
	static _Thread_local struct rmi_realm_params img;

	memset(&img, 0, sizeof(img));
	img.flags0 = params->flags0;
	img.s2sz = params->s2sz;
	img.sve_vl = params->sve_vl;
	img.num_bps = params->num_bps;
	img.num_wps = params->num_wps;
	img.pmu_num_ctrs = params->pmu_num_ctrs;
	img.hash_algo = params->hash_algo & 0xff;
	return rk_hash((unsigned int)params->hash_algo, &img, sizeof(img), rim);
}

int rk_rim_extend_data(unsigned int algo, uint8_t rim[RK_MEASUREMENT_MAX], uint64_t ipa, uint64_t flags,
		       const uint8_t *data)
{
	struct rim_desc_data d;
	int ret;

	memset(&d, 0, sizeof(d));
	d.desc_type = 0;
	d.len = sizeof(d);
	memcpy(d.rim, rim, RK_MEASUREMENT_MAX);
	d.ipa = ipa;
	d.flags = flags;
	if (flags == RMI_MEASURE_CONTENT) {
		ret = rk_hash(algo, data, 4096, d.content);
		if (ret)
			return ret;
	}
	return rk_hash(algo, &d, sizeof(d), rim);
}

int rk_rim_extend_rec(unsigned int algo, uint8_t rim[RK_MEASUREMENT_MAX], const struct rmi_rec_params *params)
{
	static _Thread_local struct rmi_rec_params img;
	struct rim_desc_rec d;
	int ret;

	memset(&img, 0, sizeof(img));
	img.flags = params->flags;
	img.pc = params->pc;
	memcpy(img.gprs, params->gprs, sizeof(img.gprs));
	memset(&d, 0, sizeof(d));
	d.desc_type = 1;
	d.len = sizeof(d);
	memcpy(d.rim, rim, RK_MEASUREMENT_MAX);
	ret = rk_hash(algo, &img, sizeof(img), d.content);
	if (ret)
		return ret;
	return rk_hash(algo, &d, sizeof(d), rim);
}

int rk_rem_extend(unsigned int algo, uint8_t rem[RK_MEASUREMENT_MAX], const uint8_t *value, size_t size)
{
	uint8_t buf[2 * RK_MEASUREMENT_MAX];
	size_t hl = rk_hash_len(algo);

	if (!hl || size > RK_MEASUREMENT_MAX)
		return -EINVAL;
	memcpy(buf, rem, hl);
	memcpy(buf + hl, value, size);
	return rk_hash(algo, buf, hl + size, rem);
}
