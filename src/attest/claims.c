/* SPDX-License-Identifier: MIT */
/* Claims memory, error reporting and the default platform claims. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest_internal.h"

/* One allocation owned by a struct rk_token_claims (a singly linked list). */
struct rk_claims_arena {
	struct rk_claims_arena *next;
	max_align_t data[];
};

void *rk_claims_alloc(struct rk_token_claims *claims, size_t size)
{
	struct rk_claims_arena *blk;

	if (size > RK_ATTEST_TOKEN_MAX_SIZE * 4u)
		return NULL;
	blk = calloc(1, sizeof(*blk) + size + 1);
	if (!blk)
		return NULL;
	blk->next = claims->arena;
	claims->arena = blk;
	return blk->data;
}

char *rk_claims_strdup(struct rk_token_claims *claims, const uint8_t *s, size_t len)
{
	char *p = rk_claims_alloc(claims, len + 1);

	if (p && len)
		memcpy(p, s, len);
	return p; /* zeroed: NUL-terminated */
}

uint8_t *rk_claims_memdup(struct rk_token_claims *claims, const uint8_t *p, size_t len)
{
	uint8_t *d = rk_claims_alloc(claims, len);

	if (d && len)
		memcpy(d, p, len);
	return d;
}

void rk_token_claims_release(struct rk_token_claims *claims)
{
	struct rk_claims_arena *blk, *next;

	if (!claims)
		return;
	for (blk = claims->arena; blk; blk = next) {
		next = blk->next;
		free(blk);
	}
	memset(claims, 0, sizeof(*claims));
}

static const char *const rk_verify_code_names[RK_VERIFY_CODE_COUNT] = {
	[RK_VERIFY_OK] = "ok",
	[RK_VERIFY_ERR_ARGS] = "bad-arguments",
	[RK_VERIFY_ERR_NOMEM] = "out-of-memory",
	[RK_VERIFY_ERR_SIZE] = "token-size",
	[RK_VERIFY_ERR_CBOR] = "cbor-malformed",
	[RK_VERIFY_ERR_CBOR_TRAILING] = "cbor-trailing-data",
	[RK_VERIFY_ERR_CBOR_UNSUPPORTED] = "cbor-unsupported",
	[RK_VERIFY_ERR_TOP_TAG] = "top-level-tag",
	[RK_VERIFY_ERR_TOP_STRUCTURE] = "top-level-structure",
	[RK_VERIFY_ERR_COSE_STRUCTURE] = "cose-structure",
	[RK_VERIFY_ERR_COSE_HEADER] = "cose-header",
	[RK_VERIFY_ERR_COSE_ALG] = "cose-algorithm",
	[RK_VERIFY_ERR_CLAIMS_STRUCTURE] = "claims-structure",
	[RK_VERIFY_ERR_CLAIM_MISSING] = "claim-missing",
	[RK_VERIFY_ERR_CLAIM_DUPLICATE] = "claim-duplicate",
	[RK_VERIFY_ERR_CLAIM_TYPE] = "claim-type",
	[RK_VERIFY_ERR_CLAIM_SIZE] = "claim-size",
	[RK_VERIFY_ERR_CLAIM_VALUE] = "claim-value",
	[RK_VERIFY_ERR_REALM_PROFILE] = "realm-profile",
	[RK_VERIFY_ERR_PLATFORM_PROFILE] = "platform-profile",
	[RK_VERIFY_ERR_RAK] = "rak-invalid",
	[RK_VERIFY_ERR_REALM_SIGNATURE] = "realm-signature",
	[RK_VERIFY_ERR_PLATFORM_SIGNATURE] = "platform-signature",
	[RK_VERIFY_ERR_BINDING] = "binding",
	[RK_VERIFY_ERR_CHALLENGE_MISMATCH] = "challenge-mismatch",
	[RK_VERIFY_ERR_RIM_MISMATCH] = "rim-mismatch",
	[RK_VERIFY_ERR_INTERNAL] = "internal-error",
};

const char *rk_verify_code_name(enum rk_verify_code code)
{
	if ((unsigned int)code >= RK_VERIFY_CODE_COUNT)
		return "unknown";
	return rk_verify_code_names[code];
}

int rk_verify_fail(struct rk_verify_error *err, enum rk_verify_code code, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
		va_end(ap);
	}
	switch (code) {
	case RK_VERIFY_ERR_NOMEM:
		return -ENOMEM;
	case RK_VERIFY_ERR_ARGS:
		return -EINVAL;
	case RK_VERIFY_ERR_INTERNAL:
		return -EIO;
	default:
		return -EBADMSG;
	}
}

void rk_attest_printable(char *dst, size_t dst_len, const uint8_t *src, size_t src_len)
{
	size_t o = 0, i;

	if (dst_len < 8) {
		if (dst_len)
			dst[0] = '\0';
		return;
	}
	for (i = 0; i < src_len; i++) {
		uint8_t c = src[i];
		bool plain = c >= 0x20 && c < 0x7f && c != '\\' && c != '"';
		size_t need = plain ? 1 : 4;

		if (o + need + 4 > dst_len) /* keep room for "..." and the NUL */
			break;
		if (plain)
			dst[o++] = (char)c;
		else
			o += (size_t)snprintf(dst + o, dst_len - o, "\\x%02x", c);
	}
	if (i < src_len) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

/* ---- default platform claims (deterministic, public test values) ---- */

static const uint8_t rk_default_impl_id[32] = {
	'r', 'e', 'a', 'l', 'm', 'k', 'i', 't', '-', 'p', 'l', 'a', 't', 'f', 'o', 'r',
	'm', '-', 'i', 'm', 'p', 'l', '-', 'i', 'd', '-', 'v', '0', '0', '0', '0', '1',
};

static const uint8_t rk_default_instance_id[33] = {
	0x01, /* UEID type RAND */
	0x52, 0x4b, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
	0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
};

static const uint8_t rk_default_config[4] = { 0xcf, 0xcf, 0xcf, 0xcf };

static const uint8_t rk_default_signer[32] = {
	0x52, 0x4b, 0x53, 0x49, 0x47, 0x4e, 0x45, 0x52, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
};

static const uint8_t rk_default_meas[4][32] = {
	{ 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	  0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11 },
	{ 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	  0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22 },
	{ 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33,
	  0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33 },
	{ 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44,
	  0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44 },
};

static const struct rk_sw_component rk_default_sw[4] = {
	{ "BL1", rk_default_meas[0], 32, "1.0.0", rk_default_signer, 32, "sha-256" },
	{ "BL2", rk_default_meas[1], 32, "1.0.0", rk_default_signer, 32, "sha-256" },
	{ "BL31", rk_default_meas[2], 32, "1.0.0", rk_default_signer, 32, "sha-256" },
	{ "RMM", rk_default_meas[3], 32, "0.1.0", rk_default_signer, 32, "sha-256" },
};

void rk_platform_claims_default(struct rk_platform_claims *p)
{
	if (!p)
		return;
	memset(p, 0, sizeof(*p));
	p->profile = RK_PLATFORM_PROFILE;
	p->implementation_id = rk_default_impl_id;
	p->implementation_id_len = sizeof(rk_default_impl_id);
	p->instance_id = rk_default_instance_id;
	p->instance_id_len = sizeof(rk_default_instance_id);
	p->config = rk_default_config;
	p->config_len = sizeof(rk_default_config);
	p->lifecycle = RK_PLATFORM_LIFECYCLE_SECURED;
	p->hash_algo = "sha-256";
	p->verification_service = NULL;
	p->sw_components = rk_default_sw;
	p->num_sw_components = sizeof(rk_default_sw) / sizeof(rk_default_sw[0]);
}
