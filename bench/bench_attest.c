/* SPDX-License-Identifier: MIT */
/*
 * Attestation benchmarks, each reported with a baseline measured in the same
 * run (raw OpenSSL ECDSA P-384 / SHA-384 over a message of the same size):
 *   token build (sign + encode), platform token cached    vs  1 raw sign
 *   token build, platform token generated (CPAK)          vs  2 raw signs
 *   token verify without a CPAK (realm signature)         vs  1 raw verify
 *   token verify with a CPAK (both signatures)            vs  2 raw verifies
 * Usage: bench_attest [--quick] [--seconds S]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "realmkit/attest.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, int ret)
{
	fprintf(stderr, "bench_attest: %s failed (%d)\n", what, ret);
	exit(1);
}

static struct rk_token_params params;
static uint8_t *token;
static size_t token_len;
static struct rk_attest_key *cpak;
static EVP_PKEY *raw_key;
static uint8_t raw_msg[700];
static uint8_t raw_sig[160];
static size_t raw_sig_len;
static volatile size_t sink;

static void op_build(void)
{
	uint8_t buf[4096];
	size_t len;
	int ret = rk_token_build(&params, buf, sizeof(buf), &len);

	if (ret)
		die("rk_token_build", ret);
	sink += len;
}

static void op_verify(const struct rk_verify_opts *opts)
{
	struct rk_token_claims c;
	struct rk_verify_error err;
	int ret = rk_token_verify(token, token_len, opts, &c, &err);

	if (ret) {
		fprintf(stderr, "bench_attest: verify: %s\n", err.reason);
		exit(1);
	}
	sink += c.realm.measurement_len;
	rk_token_claims_release(&c);
}

static void op_verify_nocpak(void)
{
	op_verify(NULL);
}

static void op_verify_cpak(void)
{
	struct rk_verify_opts opts = { .cpak = cpak };

	op_verify(&opts);
}

static void op_raw_sign(void)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t sig[160];
	size_t len = sizeof(sig);

	if (!ctx || EVP_DigestSignInit_ex(ctx, NULL, "SHA384", NULL, NULL, raw_key, NULL) != 1 ||
	    EVP_DigestSign(ctx, sig, &len, raw_msg, sizeof(raw_msg)) != 1)
		die("EVP_DigestSign", 0);
	EVP_MD_CTX_free(ctx);
	sink += len;
}

static void op_raw_verify(void)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || EVP_DigestVerifyInit_ex(ctx, NULL, "SHA384", NULL, NULL, raw_key, NULL) != 1 ||
	    EVP_DigestVerify(ctx, raw_sig, raw_sig_len, raw_msg, sizeof(raw_msg)) != 1)
		die("EVP_DigestVerify", 0);
	EVP_MD_CTX_free(ctx);
	sink++;
}

/* Operations per second of op, run for about `seconds`. */
static double rate(void (*op)(void), double seconds)
{
	unsigned long n = 0;
	double t0, t;

	op(); /* warm-up */
	t0 = now();
	do {
		for (int i = 0; i < 8; i++)
			op();
		n += 8;
		t = now() - t0;
	} while (t < seconds);
	return (double)n / t;
}

int main(int argc, char **argv)
{
	struct rk_attest_key *rak = NULL;
	uint8_t cose[200], nonce[32], *plat = NULL;
	size_t cose_len, plat_len;
	unsigned int dlen;
	double seconds = 2.0;
	double build, build_cpak, sign, ver, ver_cpak, rverify;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			seconds = 0.3;
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else {
			fprintf(stderr, "usage: bench_attest [--quick] [--seconds S]\n");
			return 2;
		}
	}
	if (seconds <= 0)
		seconds = 0.1;

	if ((ret = rk_attest_key_generate(&rak)) || (ret = rk_attest_key_generate(&cpak)))
		die("key generation", ret);
	/* The platform token the RMM would cache: bound to this RAK. */
	ret = rk_attest_key_public_cose(rak, cose, sizeof(cose), &cose_len);
	if (ret)
		die("rk_attest_key_public_cose", ret);
	if (EVP_Digest(cose, cose_len, nonce, &dlen, EVP_sha256(), NULL) != 1)
		die("EVP_Digest", 0);
	ret = rk_platform_token_build(cpak, NULL, nonce, sizeof(nonce), &plat, &plat_len);
	if (ret)
		die("rk_platform_token_build", ret);

	params.format = RK_TOKEN_FORMAT_2_0;
	params.hash_algo = RK_ATTEST_HASH_SHA256;
	memset(params.challenge, 0xc4, sizeof(params.challenge));
	memset(params.rpv, 0x52, sizeof(params.rpv));
	memset(params.instance_id, 0x01, sizeof(params.instance_id));
	memset(params.rim, 0xa5, sizeof(params.rim));
	params.mec_policy = 1;
	params.rak = rak;
	params.platform_token = plat;
	params.platform_token_len = plat_len;
	ret = rk_token_build_alloc(&params, &token, &token_len);
	if (ret)
		die("rk_token_build_alloc", ret);

	/* Baseline key and message (about the size of a realm Sig_structure). */
	raw_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	if (!raw_key)
		die("EVP_PKEY_Q_keygen", 0);
	memset(raw_msg, 0x5a, sizeof(raw_msg));
	{
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();

		raw_sig_len = sizeof(raw_sig);
		if (!ctx || EVP_DigestSignInit_ex(ctx, NULL, "SHA384", NULL, NULL, raw_key, NULL) != 1 ||
		    EVP_DigestSign(ctx, raw_sig, &raw_sig_len, raw_msg, sizeof(raw_msg)) != 1)
			die("EVP_DigestSign", 0);
		EVP_MD_CTX_free(ctx);
	}

	printf("# bench_attest (CCA token 2.0, ES384, P-384; %zu-byte token)\n", token_len);
	printf("command:");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");

	sign = rate(op_raw_sign, seconds);
	build = rate(op_build, seconds);
	params.platform_token = NULL;
	params.platform_token_len = 0;
	params.cpak = cpak;
	build_cpak = rate(op_build, seconds);
	rverify = rate(op_raw_verify, seconds);
	ver = rate(op_verify_nocpak, seconds);
	ver_cpak = rate(op_verify_cpak, seconds);

	printf("raw ECDSA P-384 sign (OpenSSL)      %8.0f /s\n", sign);
	printf("token build, platform token cached  %8.0f /s   ratio %.2f of 1 raw sign\n", build,
	       build / sign);
	printf("token build, platform token signed  %8.0f /s   ratio %.2f of 2 raw signs\n", build_cpak,
	       build_cpak / (sign / 2));
	printf("raw ECDSA P-384 verify (OpenSSL)    %8.0f /s\n", rverify);
	printf("token verify, no CPAK (1 signature) %8.0f /s   ratio %.2f of 1 raw verify\n", ver,
	       ver / rverify);
	printf("token verify, CPAK (2 signatures)   %8.0f /s   ratio %.2f of 2 raw verifies\n", ver_cpak,
	       ver_cpak / (rverify / 2));
	printf("# sink %zu\n", sink % 10);

	free(token);
	free(plat);
	EVP_PKEY_free(raw_key);
	rk_attest_key_free(rak);
	rk_attest_key_free(cpak);
	return 0;
}
