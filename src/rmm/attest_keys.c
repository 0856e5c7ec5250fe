/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "attest_keys.h"

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int rmm_attest_init(struct rmm_attest *a, const struct rk_machine_config *cfg)
{
	memset(a, 0, sizeof(*a));
	if (pthread_mutex_init(&a->lock, NULL))
		return -ENOMEM;
	a->rak_pem = dup_or_null(cfg->rak_pem);
	a->cpak_pem = dup_or_null(cfg->cpak_pem);
	a->platform_token_path = dup_or_null(cfg->platform_token);
	if ((cfg->rak_pem && !a->rak_pem) || (cfg->cpak_pem && !a->cpak_pem) ||
	    (cfg->platform_token && !a->platform_token_path)) {
		rmm_attest_fini(a);
		return -ENOMEM;
	}
	return 0;
}

void rmm_attest_fini(struct rmm_attest *a)
{
	rk_attest_key_free(a->rak);
	rk_attest_key_free(a->cpak);
	free(a->platform_token);
	free(a->rak_pem);
	free(a->cpak_pem);
	free(a->platform_token_path);
	pthread_mutex_destroy(&a->lock);
	memset(a, 0, sizeof(*a));
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0;
	long sz;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (sz = ftell(f)) < 0 || sz > (long)RK_ATTEST_TOKEN_MAX_SIZE ||
	    fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -EINVAL;
	}
	buf = malloc(sz ? (size_t)sz : 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, (size_t)sz, f);
	fclose(f);
	if (n != (size_t)sz) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	*len = n;
	return 0;
}

/*
 * The platform token depends only on the RAK (its challenge binds it), so it is
 * signed once with the CPAK and reused by every RSI_ATTEST_TOKEN_INIT.
 */
static int sign_platform_token(struct rmm_attest *a)
{
	uint8_t cose[256], challenge[32];
	unsigned int n = 0;
	size_t len = 0;
	int ret;

	ret = rk_attest_key_public_cose(a->rak, cose, sizeof(cose), &len);
	if (ret)
		return ret;
	if (EVP_Digest(cose, len, challenge, &n, EVP_sha256(), NULL) != 1 || n != sizeof(challenge))
		return -EIO;
	return rk_platform_token_build(a->cpak, NULL, challenge, sizeof(challenge), &a->platform_token,
				       &a->platform_token_len);
}

static int setup(struct rmm_attest *a)
{
	int ret;

	ret = a->rak_pem ? rk_attest_key_load_pem(a->rak_pem, &a->rak) : rk_attest_key_generate(&a->rak);
	if (ret)
		return ret;
	if (a->platform_token_path)
		return read_file(a->platform_token_path, &a->platform_token, &a->platform_token_len);
	ret = a->cpak_pem ? rk_attest_key_load_pem(a->cpak_pem, &a->cpak) : rk_attest_key_generate(&a->cpak);
	return ret ? ret : sign_platform_token(a);
}

int rmm_attest_ready(struct rmm_attest *a)
{
	int ret;

	pthread_mutex_lock(&a->lock);
	if (a->state == 0) {
		ret = setup(a);
		a->state = ret ? ret : 1;
	}
	ret = a->state < 0 ? a->state : 0;
	pthread_mutex_unlock(&a->lock);
	return ret;
}
