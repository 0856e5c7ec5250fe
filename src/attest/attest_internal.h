/* SPDX-License-Identifier: MIT */
/* Internal interfaces of the attestation module (src/attest). */
#ifndef RK_ATTEST_INTERNAL_H
#define RK_ATTEST_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cbor.h>
#include <openssl/evp.h>

#include "realmkit/attest.h"

/* COSE algorithm and key identifiers (RFC 8152 / RFC 9053). */
#define RK_COSE_ALG_ES256 (-7)
#define RK_COSE_ALG_ES384 (-35)
#define RK_COSE_ALG_ES512 (-36)
#define RK_COSE_KTY_EC2 2
#define RK_COSE_CRV_P256 1
#define RK_COSE_CRV_P384 2
#define RK_COSE_CRV_P521 3
#define RK_COSE_TAG_SIGN1 18u

/* CMW content format of the 2.0 collection entries. */
#define RK_CMW_TYPE_COSE_SIGN1 263u

/* Claim keys (rmm-abi-2.0.md §17). */
#define RK_CLAIM_CHALLENGE 10
#define RK_CLAIM_INSTANCE_ID 256
#define RK_CLAIM_PROFILE 265
#define RK_CLAIM_CCA_PLATFORM_TOKEN 44234
#define RK_CLAIM_CCA_REALM_TOKEN 44241
#define RK_CLAIM_REALM_RPV 44235
#define RK_CLAIM_REALM_HASH_ALGO 44236
#define RK_CLAIM_REALM_PUB_KEY 44237
#define RK_CLAIM_REALM_RIM 44238
#define RK_CLAIM_REALM_REMS 44239
#define RK_CLAIM_REALM_PUB_KEY_HASH_ALGO 44240
#define RK_CLAIM_REALM_MEC_POLICY 44243
#define RK_CLAIM_PLAT_LIFECYCLE 2395
#define RK_CLAIM_PLAT_IMPL_ID 2396
#define RK_CLAIM_PLAT_SW_COMPONENTS 2399
#define RK_CLAIM_PLAT_VERIFICATION_SERVICE 2400
#define RK_CLAIM_PLAT_CONFIG 2401
#define RK_CLAIM_PLAT_HASH_ALGO 2402
#define RK_SWC_MEASUREMENT_TYPE 1
#define RK_SWC_MEASUREMENT_VALUE 2
#define RK_SWC_VERSION 4
#define RK_SWC_SIGNER_ID 5
#define RK_SWC_HASH_ALGO 6

/* Deepest CBOR nesting (tags, arrays, maps) accepted when decoding. */
#define RK_CBOR_MAX_DEPTH 16u

/* ---- keys (key.c) ---- */

struct rk_attest_key {
	EVP_PKEY *pkey;
	bool has_private;
	size_t coord;   /* coordinate size: 32, 48, 66 */
	int cose_crv;   /* RK_COSE_CRV_* */
	int cose_alg;   /* RK_COSE_ALG_* matching the curve */
	const char *md; /* digest name for that algorithm */
};

/* Wrap a public SEC1 uncompressed point of the given COSE curve. */
int rk_attest_key_from_point(int cose_crv, const uint8_t *point, size_t len, struct rk_attest_key **out);
/* ECDSA over msg with the key's COSE algorithm; sig = r || s (2 * coord). */
int rk_attest_sign(const struct rk_attest_key *key, const uint8_t *msg, size_t len, uint8_t *sig,
		   size_t sig_cap, size_t *sig_len);
/* 0 if valid, -EBADMSG if the signature does not verify, -EIO on library failure. */
int rk_attest_verify_sig(const struct rk_attest_key *key, const uint8_t *msg, size_t len, const uint8_t *sig,
			 size_t sig_len);
/* out must hold rk_attest_hash_size(alg) bytes. */
int rk_attest_digest(enum rk_attest_hash alg, const uint8_t *data, size_t len, uint8_t *out);
/* Map "sha-256"/"sha-384"/"sha-512" (len bytes, not NUL-terminated). */
bool rk_attest_hash_from_name(const char *name, size_t len, enum rk_attest_hash *alg);
/* COSE_Key encoding of a public key, allocated (free()). */
int rk_attest_key_cose_alloc(const struct rk_attest_key *key, uint8_t **out, size_t *len);
int rk_attest_read_file(const char *path, size_t max, uint8_t **out, size_t *len);

/* ---- CBOR helpers (cbor_util.c) ---- */

/*
 * Decode exactly one CBOR item filling buf[0..len). Before libcbor builds the
 * tree, a streaming pass bounds every declared length by the bytes left and
 * the nesting by RK_CBOR_MAX_DEPTH, and refuses indefinite lengths, so that
 * garbage can neither exhaust memory nor the stack.
 * Returns 0, -ENOMEM, or -EBADMSG with *code/reason set.
 */
int rk_cbor_decode(const uint8_t *buf, size_t len, cbor_item_t **out, enum rk_verify_code *code, char *reason,
		   size_t reason_len);
/* Smallest-width integer item; NULL on allocation failure. */
cbor_item_t *rk_cbor_int(int64_t v);
/* Add key/value (both consumed, even on failure; NULL allowed = failure). */
bool rk_cbor_map_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value);
/* Append value (consumed, even on failure). */
bool rk_cbor_array_push(cbor_item_t *array, cbor_item_t *value);
/* Tag value (consumed, even on failure); NULL on failure. */
cbor_item_t *rk_cbor_tag(uint64_t tag, cbor_item_t *value);
/* Serialise into a malloc()ed buffer. 0 or -ENOMEM. */
int rk_cbor_serialize(const cbor_item_t *item, uint8_t **out, size_t *len);
/* Integer item (uint or negint) that fits an int64_t. */
bool rk_cbor_get_int(const cbor_item_t *item, int64_t *v);
/*
 * Look up an integer key in a map: 0 and *value (borrowed) if found once,
 * -ENOENT if absent, -EEXIST if present more than once.
 */
int rk_cbor_map_find(const cbor_item_t *map, int64_t key, cbor_item_t **value);
/* A map label: an integer or a text string (borrowed from the map). */
struct rk_cbor_label {
	bool text;
	int64_t i;
	const uint8_t *s;
	size_t len;
};
/*
 * Whether a map has a label twice among its integer and text-string keys:
 * 0 none, 1 with *dup (one of them), -ENOMEM. O(n log n).
 */
int rk_cbor_map_dup_label(const cbor_item_t *map, struct rk_cbor_label *dup);
/* Borrowed tagged item (libcbor's accessor increfs). */
cbor_item_t *rk_cbor_tag_item(const cbor_item_t *tag);
const char *rk_cbor_type_name(const cbor_item_t *item);

/* ---- COSE_Sign1 (cose.c) ---- */

/* Sign payload with key; *out = tagged COSE_Sign1 bytes (malloc). */
int rk_cose_sign1_create(const struct rk_attest_key *key, const uint8_t *payload, size_t payload_len,
			 uint8_t **out, size_t *out_len);

struct rk_cose_sign1 {
	cbor_item_t *root;            /* owns everything below */
	const uint8_t *protected_hdr; /* exact protected bytes */
	size_t protected_len;
	const uint8_t *payload; /* exact payload bytes */
	size_t payload_len;
	const uint8_t *sig;
	size_t sig_len;
	int alg;
};

/* Decode a COSE_Sign1 (tag 18 or untagged); what names it in reasons. */
int rk_cose_sign1_decode(const uint8_t *buf, size_t len, const char *what, struct rk_cose_sign1 *out,
			 struct rk_verify_error *err);
/* 0 valid, -EBADMSG bad signature, -EIO library failure. */
int rk_cose_sign1_verify(const struct rk_cose_sign1 *s, const struct rk_attest_key *key);
void rk_cose_sign1_fini(struct rk_cose_sign1 *s);

/* ---- errors (claims.c) ---- */

/*
 * Record a verification failure: sets err (if not NULL) and returns the
 * matching negative errno (-ENOMEM, -EINVAL, -EIO or -EBADMSG).
 */
int rk_verify_fail(struct rk_verify_error *err, enum rk_verify_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Copy a possibly hostile string for a reason: printable ASCII, bounded. */
void rk_attest_printable(char *dst, size_t dst_len, const uint8_t *src, size_t src_len);

/* ---- claims arena (claims.c) ---- */

void *rk_claims_alloc(struct rk_token_claims *claims, size_t size);
/* NUL-terminated copy of a text string. */
char *rk_claims_strdup(struct rk_token_claims *claims, const uint8_t *s, size_t len);
uint8_t *rk_claims_memdup(struct rk_token_claims *claims, const uint8_t *p, size_t len);

#endif /* RK_ATTEST_INTERNAL_H */
