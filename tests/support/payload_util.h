/* SPDX-License-Identifier: MIT */
/* Guest payloads the tree builds, for tests that run them (implemented in rk_test.c). */
#ifndef RK_TEST_PAYLOAD_UTIL_H
#define RK_TEST_PAYLOAD_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* $RK_BINARY_DIR/guest/NAME.bin (else ./guest/), malloc'd, its size in *len; NULL when it is
 * not there. */
uint8_t *t_load_payload(const char *name, size_t *len);

#endif
