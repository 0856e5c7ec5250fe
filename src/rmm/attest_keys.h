/* SPDX-License-Identifier: MIT */
/* The RMM's attestation material: RAK, CPAK or a platform token, made or loaded on first use. */
#ifndef RK_RMM_ATTEST_KEYS_H
#define RK_RMM_ATTEST_KEYS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "realmkit/attest.h"
#include "realmkit/platform.h"

struct rmm_attest {
	pthread_mutex_t lock;
	struct rk_attest_key *rak;
	struct rk_attest_key *cpak;
	uint8_t *platform_token; /* loaded from a file, or signed once with the CPAK */
	size_t platform_token_len;
	char *rak_pem, *cpak_pem, *platform_token_path; /* configuration */
	int state; /* 0 not yet set up, 1 ready, negative errno: failed */
	int reserved;
};

int rmm_attest_init(struct rmm_attest *a, const struct rk_machine_config *cfg);
void rmm_attest_fini(struct rmm_attest *a);
/* Make or load the keys once; 0 or -errno. */
int rmm_attest_ready(struct rmm_attest *a);

#endif
