/* SPDX-License-Identifier: MIT */
/*
 * realmkit attestation: Arm CCA attestation tokens.
 *
 * - Keys: the Realm Attestation Key (RAK) and the CCA Platform Attestation
 *   Key (CPAK) are ECDSA keys behind the opaque handle struct rk_attest_key.
 * - Building: rk_token_build() produces a complete CCA token (realm token
 *   signed by the RAK + a platform token, either given as opaque bytes or
 *   generated and signed with a CPAK and bound to the RAK).
 * - Verification: rk_token_verify() decodes and checks a CCA token (tag 907,
 *   tag 399 and the legacy CCA-SSD form) and returns its claims.
 *
 * Conventions: functions returning int give 0 on success or a negative errno.
 * Format details, claim keys and error reasons are in docs/attestation.md.
 */
#ifndef REALMKIT_ATTEST_H
#define REALMKIT_ATTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "realmkit/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RK_ATTEST_CHALLENGE_SIZE 64u            /* realm challenge (claim 10) */
#define RK_ATTEST_RPV_SIZE 64u                  /* realm personalization value (44235) */
#define RK_ATTEST_REALM_ID_SIZE 33u             /* realm instance id (256), 2.0 only */
#define RK_ATTEST_MAX_HASH_SIZE 64u             /* largest measurement (SHA-512) */
#define RK_ATTEST_NUM_REMS 4u                   /* REM[0..3] (44239) */
#define RK_ATTEST_P384_POINT_SIZE 97u           /* SEC1 uncompressed P-384 point */
#define RK_ATTEST_TOKEN_MAX_SIZE (256u * 1024u) /* largest token accepted */

/* Measurement hash algorithms; the values are the RMI/RSI encodings. */
enum rk_attest_hash {
	RK_ATTEST_HASH_SHA256 = 0,
	RK_ATTEST_HASH_SHA512 = 1,
	RK_ATTEST_HASH_SHA384 = 2,
};

/* Digest size in bytes, or 0 for an unknown algorithm. */
RK_API size_t rk_attest_hash_size(enum rk_attest_hash alg);
/* Claim spelling ("sha-256", "sha-384", "sha-512"), or NULL if unknown. */
RK_API const char *rk_attest_hash_name(enum rk_attest_hash alg);

/* ------------------------------------------------------------------------ */
/* Keys                                                                      */
/* ------------------------------------------------------------------------ */

struct rk_attest_key;

/* Generate a fresh ECDSA P-384 key pair (a RAK or a CPAK). */
RK_API int rk_attest_key_generate(struct rk_attest_key **out);
/*
 * Load a key from a PEM file: a private key ("EC PRIVATE KEY" / "PRIVATE
 * KEY") or a public key ("PUBLIC KEY", enough for verification). Curves
 * P-256, P-384 and P-521 are accepted (the RAK must be P-384).
 * -ENOENT/-EACCES etc. if the file cannot be read, -EINVAL if it holds no
 * usable EC key, -ENOTSUP for another curve or key type.
 */
RK_API int rk_attest_key_load_pem(const char *path, struct rk_attest_key **out);
/* The same from PEM text in memory. */
RK_API int rk_attest_key_load_pem_mem(const char *pem, size_t len, struct rk_attest_key **out);
RK_API void rk_attest_key_free(struct rk_attest_key *key);

RK_API bool rk_attest_key_has_private(const struct rk_attest_key *key);
/* Coordinate size in bytes: 32 (P-256), 48 (P-384) or 66 (P-521). */
RK_API size_t rk_attest_key_coord_size(const struct rk_attest_key *key);
/*
 * The public key as a SEC1 uncompressed point (0x04 || x || y).
 * *len receives the size; -ENOSPC if cap is too small.
 */
RK_API int rk_attest_key_public_raw(const struct rk_attest_key *key, uint8_t *out, size_t cap, size_t *len);
/*
 * The public key as the COSE_Key bytes that go into realm claim 44237
 * ({1: 2, -1: crv, -2: x, -3: y}, RFC 8152 §13.1.1). The platform challenge
 * that binds a platform token to this RAK is the SHA-256 of exactly these
 * bytes. -ENOSPC (and *len = needed) if cap is too small.
 */
RK_API int rk_attest_key_public_cose(const struct rk_attest_key *key, uint8_t *out, size_t cap, size_t *len);

/*
 * The public key as PEM text (SubjectPublicKeyInfo, "-----BEGIN PUBLIC
 * KEY-----"), NUL-terminated, allocated (free()); *len excludes the NUL. Never
 * the private part. rk_attest_key_load_pem() reads it back (a verifier's
 * CPAK: `realmkit verify --cpak`).
 */
RK_API int rk_attest_key_public_pem(const struct rk_attest_key *key, char **out, size_t *len);

/* ------------------------------------------------------------------------ */
/* Claims                                                                    */
/* ------------------------------------------------------------------------ */

/* Which realm token format a token carries (taken from the realm profile). */
enum rk_token_format {
	RK_TOKEN_FORMAT_NONE = 0,
	RK_TOKEN_FORMAT_2_0 = 1,     /* "tag:arm.com,2024:realm#2.0.0" */
	RK_TOKEN_FORMAT_1_0 = 2,     /* "tag:arm.com,2023:realm#1.0.0" */
	RK_TOKEN_FORMAT_CCA_SSD = 3, /* no realm profile, platform CCA-SSD (verify only) */
};

#define RK_TOKEN_TAG_CCA_2_0 907u /* top-level collection, 2.0 (CMW [263, bstr]) */
#define RK_TOKEN_TAG_CCA_1_0 399u /* top-level map, 1.0 and legacy (bare bstr) */

#define RK_REALM_PROFILE_2_0 "tag:arm.com,2024:realm#2.0.0"
#define RK_REALM_PROFILE_1_0 "tag:arm.com,2023:realm#1.0.0"
#define RK_PLATFORM_PROFILE "tag:arm.com,2023:cca_platform#1.0.0"
#define RK_PLATFORM_PROFILE_LEGACY "http://arm.com/CCA-SSD/1.0.0"

/* Platform security lifecycle "secured" (claim 2395). */
#define RK_PLATFORM_LIFECYCLE_SECURED 0x3000u

/* One entry of platform claim 2399 (software components). */
struct rk_sw_component {
	const char *measurement_type; /* 1, tstr, optional (NULL = absent) */
	const uint8_t *measurement;   /* 2, bstr, mandatory */
	size_t measurement_len;
	const char *version;      /* 4, tstr, optional */
	const uint8_t *signer_id; /* 5, bstr, mandatory */
	size_t signer_id_len;
	const char *hash_algo; /* 6, tstr, optional ("sha-256") */
};

/*
 * Platform token claims. Used both as the output of rk_token_verify() (all
 * pointers then point into memory owned by the enclosing rk_token_claims)
 * and as the input for generating a platform token (rk_token_params; the
 * profile and challenge fields are then ignored: the builder writes
 * RK_PLATFORM_PROFILE and the RAK binding hash).
 */
struct rk_platform_claims {
	const char *profile;      /* 265 */
	const uint8_t *challenge; /* 10 */
	size_t challenge_len;
	const uint8_t *implementation_id; /* 2396 */
	size_t implementation_id_len;
	const uint8_t *instance_id; /* 256 */
	size_t instance_id_len;
	const uint8_t *config; /* 2401 */
	size_t config_len;
	uint16_t lifecycle;                          /* 2395 */
	const char *hash_algo;                       /* 2402 */
	const char *verification_service;            /* 2400, optional (NULL = absent) */
	const struct rk_sw_component *sw_components; /* 2399 */
	size_t num_sw_components;
};

/*
 * Deterministic default platform claims for generating a platform token:
 * fixed implementation id, instance id (0x01 + 32 bytes), config,
 * lifecycle 0x3000 (secured), hash algorithm "sha-256" and a fixed list of
 * software components. Everything points to static data; override fields
 * as needed.
 */
RK_API void rk_platform_claims_default(struct rk_platform_claims *p);

/* Realm token claims as returned by rk_token_verify(). */
struct rk_realm_claims {
	const char *profile;                         /* 265; NULL for the legacy CCA-SSD form */
	uint8_t challenge[RK_ATTEST_CHALLENGE_SIZE]; /* 10 */
	bool has_instance_id;
	uint8_t instance_id[RK_ATTEST_REALM_ID_SIZE];             /* 256 (2.0) */
	uint8_t rpv[RK_ATTEST_RPV_SIZE];                          /* 44235 */
	enum rk_attest_hash hash_algo;                            /* 44236 */
	size_t measurement_len;                                   /* rk_attest_hash_size(hash_algo) */
	uint8_t rim[RK_ATTEST_MAX_HASH_SIZE];                     /* 44238 */
	uint8_t rem[RK_ATTEST_NUM_REMS][RK_ATTEST_MAX_HASH_SIZE]; /* 44239 */
	bool has_mec_policy;
	uint8_t mec_policy;                /* 44243 (2.0): 1 private MECID, 0 shared */
	enum rk_attest_hash rak_hash_algo; /* 44240 */
	bool rak_is_cose_key;              /* 44237 was a COSE_Key (else a raw point) */
	const uint8_t *rak_claim;          /* 44237 exactly as encoded (binding input) */
	size_t rak_claim_len;
	uint8_t rak_pub[RK_ATTEST_P384_POINT_SIZE]; /* RAK as a SEC1 point */
};

enum rk_sig_status {
	RK_SIG_NOT_CHECKED = 0, /* no key was given */
	RK_SIG_VALID = 1,
};

struct rk_claims_arena;

struct rk_token_claims {
	uint64_t top_tag; /* 907 or 399 */
	enum rk_token_format format;
	struct rk_realm_claims realm;
	struct rk_platform_claims platform;
	int realm_cose_alg;                    /* COSE alg of the realm token (-35) */
	int platform_cose_alg;                 /* COSE alg of the platform token */
	enum rk_sig_status realm_signature;    /* VALID when verification passed */
	enum rk_sig_status platform_signature; /* NOT_CHECKED without a CPAK */
	struct rk_claims_arena *arena;         /* owns the memory behind the pointers */
};

/*
 * Release the memory owned by claims (not the struct itself) and zero it.
 * Safe on a zeroed struct and on any struct rk_token_verify() filled in,
 * whatever it returned.
 */
RK_API void rk_token_claims_release(struct rk_token_claims *claims);

/* ------------------------------------------------------------------------ */
/* Building                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * Everything needed to build a CCA token; plain data, so the RMM can fill it
 * in from RSI_ATTEST_TOKEN_INIT and its realm descriptor.
 * Platform material: exactly one of
 *   - platform_token/platform_token_len: an opaque platform COSE_Sign1
 *     (e.g. read from a file, or cached from an earlier build), copied as is;
 *   - cpak (+ optional platform claims, NULL = rk_platform_claims_default()):
 *     a platform token is generated and signed with the CPAK, its challenge
 *     being SHA-256 of the RAK COSE_Key bytes placed in realm claim 44237.
 */
struct rk_token_params {
	enum rk_token_format format; /* RK_TOKEN_FORMAT_2_0 (tag 907) or _1_0 (tag 399) */
	uint8_t challenge[RK_ATTEST_CHALLENGE_SIZE];
	uint8_t instance_id[RK_ATTEST_REALM_ID_SIZE]; /* 2.0 only */
	uint8_t rpv[RK_ATTEST_RPV_SIZE];
	enum rk_attest_hash hash_algo;
	uint8_t rim[RK_ATTEST_MAX_HASH_SIZE]; /* first hash-size bytes used */
	uint8_t rem[RK_ATTEST_NUM_REMS][RK_ATTEST_MAX_HASH_SIZE];
	uint8_t mec_policy;              /* 2.0 only: 0 or 1 */
	const struct rk_attest_key *rak; /* P-384 private key */
	const uint8_t *platform_token;
	size_t platform_token_len;
	const struct rk_attest_key *cpak; /* private key */
	const struct rk_platform_claims *platform;
};

/*
 * Build a complete CCA token into the caller's buffer. *len receives the
 * token size. If buf is NULL or cap is too small, returns -ENOSPC with *len
 * set to the size needed (signatures have a fixed size, so a second call
 * with the same params and a buffer of that size succeeds).
 * -EINVAL for invalid params (unknown format or hash, RAK not P-384,
 * missing private key, no or both kinds of platform material, mec_policy
 * > 1), -ENOMEM on allocation failure, -EIO if signing fails.
 */
RK_API int rk_token_build(const struct rk_token_params *params, uint8_t *buf, size_t cap, size_t *len);
/* The same, but allocates the output; release it with free(). */
RK_API int rk_token_build_alloc(const struct rk_token_params *params, uint8_t **out, size_t *len);

/*
 * Build only a platform token (COSE_Sign1, ES256/384/512 per the CPAK curve)
 * with the given challenge; claims NULL = rk_platform_claims_default().
 * The output is allocated; release it with free().
 */
RK_API int rk_platform_token_build(const struct rk_attest_key *cpak, const struct rk_platform_claims *claims,
				   const uint8_t *challenge, size_t challenge_len, uint8_t **out,
				   size_t *len);

/* ------------------------------------------------------------------------ */
/* Verification                                                              */
/* ------------------------------------------------------------------------ */

struct rk_verify_opts {
	const struct rk_attest_key *cpak; /* NULL: platform signature not checked */
	const uint8_t *expected_rim;      /* NULL: not checked */
	size_t expected_rim_len;
	const uint8_t *expected_challenge; /* NULL: not checked */
	size_t expected_challenge_len;
};

/* Every reason a token can be refused; each has a distinct code. */
enum rk_verify_code {
	RK_VERIFY_OK = 0,
	RK_VERIFY_ERR_ARGS,               /* NULL buffer, bad options */
	RK_VERIFY_ERR_NOMEM,              /* out of memory */
	RK_VERIFY_ERR_SIZE,               /* empty or larger than RK_ATTEST_TOKEN_MAX_SIZE */
	RK_VERIFY_ERR_CBOR,               /* not well-formed CBOR / truncated */
	RK_VERIFY_ERR_CBOR_TRAILING,      /* bytes after the CBOR item */
	RK_VERIFY_ERR_CBOR_UNSUPPORTED,   /* indefinite length, nesting too deep, unassigned simple value */
	RK_VERIFY_ERR_TOP_TAG,            /* not tag 907 / 399 */
	RK_VERIFY_ERR_TOP_STRUCTURE,      /* collection map / CMW wrapping wrong */
	RK_VERIFY_ERR_COSE_STRUCTURE,     /* not a COSE_Sign1 */
	RK_VERIFY_ERR_COSE_HEADER,        /* protected header invalid or unsupported */
	RK_VERIFY_ERR_COSE_ALG,           /* algorithm unsupported or not matching key */
	RK_VERIFY_ERR_CLAIMS_STRUCTURE,   /* payload not a claims map */
	RK_VERIFY_ERR_CLAIM_MISSING,      /* a mandatory claim is absent */
	RK_VERIFY_ERR_CLAIM_DUPLICATE,    /* a key appears twice in a map */
	RK_VERIFY_ERR_CLAIM_TYPE,         /* a claim has the wrong CBOR type */
	RK_VERIFY_ERR_CLAIM_SIZE,         /* a claim has the wrong size */
	RK_VERIFY_ERR_CLAIM_VALUE,        /* a claim has an unsupported value */
	RK_VERIFY_ERR_REALM_PROFILE,      /* realm profile unsupported */
	RK_VERIFY_ERR_PLATFORM_PROFILE,   /* platform profile unsupported */
	RK_VERIFY_ERR_RAK,                /* RAK claim not a valid P-384 key */
	RK_VERIFY_ERR_REALM_SIGNATURE,    /* realm signature does not verify */
	RK_VERIFY_ERR_PLATFORM_SIGNATURE, /* platform signature does not verify with the CPAK */
	RK_VERIFY_ERR_BINDING,            /* platform challenge != H(RAK) */
	RK_VERIFY_ERR_CHALLENGE_MISMATCH, /* challenge != expected */
	RK_VERIFY_ERR_RIM_MISMATCH,       /* RIM != expected */
	RK_VERIFY_ERR_INTERNAL,           /* crypto library failure */
	RK_VERIFY_CODE_COUNT
};

struct rk_verify_error {
	enum rk_verify_code code;
	char reason[256]; /* human-readable, NUL-terminated */
};

/* Stable identifier for a code ("realm-signature", ...). */
RK_API const char *rk_verify_code_name(enum rk_verify_code code);

/*
 * Decode and verify a CCA token. On return, *out (if not NULL) holds the
 * claims decoded so far (complete and trustworthy only when 0 is returned);
 * release them with rk_token_claims_release() in every case. *err (if not
 * NULL) receives the code and reason.
 * Returns 0 when the token is valid; -EBADMSG when it is refused (the reason
 * is in *err), -EINVAL for bad arguments, -ENOMEM, -EIO on a crypto library
 * failure.
 */
RK_API int rk_token_verify(const uint8_t *buf, size_t len, const struct rk_verify_opts *opts,
			   struct rk_token_claims *out, struct rk_verify_error *err);

#ifdef __cplusplus
}
#endif

#endif /* REALMKIT_ATTEST_H */
