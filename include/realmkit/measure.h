/* SPDX-License-Identifier: MIT */
/*
 * Realm measurements (RMM spec 2.0 measurement model): the Realm Initial
 * Measurement (RIM) and the four Realm Extensible Measurements (REMs).
 * The same code computes the RIM inside the RMM and in `realmkit measure`.
 * All measurement buffers are RK_MEASUREMENT_MAX bytes: a hash shorter than
 * that sits at the start, followed by zeros.
 */
#ifndef REALMKIT_MEASURE_H
#define REALMKIT_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#include "realmkit/abi_gen.h"
#include "realmkit/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RK_MEASUREMENT_MAX 64

/* Digest length of an RmiHashAlgorithm value, or 0 if it is not one. */
RK_API size_t rk_hash_len(unsigned int algo);
RK_API const char *rk_hash_name(unsigned int algo); /* "sha-256", ... or NULL */

/* out = H(data); the rest of out[] is zeroed. -EINVAL for a bad algo. */
RK_API int rk_hash(unsigned int algo, const void *data, size_t len, uint8_t out[RK_MEASUREMENT_MAX]);

/* RIM at REALM_CREATE: H(RmiRealmParams image holding only the measured fields). */
RK_API int rk_rim_init(const struct rmi_realm_params *params, uint8_t rim[RK_MEASUREMENT_MAX]);

/* RIM extension by RMI_RTT_DATA_MAP_INIT (DATA descriptor). data may be NULL if flags == 0. */
RK_API int rk_rim_extend_data(unsigned int algo, uint8_t rim[RK_MEASUREMENT_MAX], uint64_t ipa,
			      uint64_t flags, const uint8_t *data);

/* RIM extension by RMI_REC_CREATE of a runnable REC (REC descriptor). */
RK_API int rk_rim_extend_rec(unsigned int algo, uint8_t rim[RK_MEASUREMENT_MAX],
			     const struct rmi_rec_params *params);

/* REM extension by RSI_MEASUREMENT_EXTEND: rem = H(rem[0:hash_len] || value[0:size]). */
RK_API int rk_rem_extend(unsigned int algo, uint8_t rem[RK_MEASUREMENT_MAX], const uint8_t *value,
			 size_t size);

#ifdef __cplusplus
}
#endif
#endif
