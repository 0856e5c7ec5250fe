/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the CCA token verifier (rk_token_verify). Built with
 * -DRK_BUILD_FUZZ=ON and run by tests/fuzz/run.sh (tests/fuzz/README.md).
 * Each input is verified twice: without a CPAK and with a fixed CPAK, so the
 * platform-signature path is reached as well.
 */
// fuzz-options: -max_len=8192
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "realmkit/attest.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rk_attest_key *cpak;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *path = getenv("RK_FUZZ_CPAK");

	(void)argc;
	(void)argv;
	if (path && rk_attest_key_load_pem(path, &cpak) == 0)
		return 0;
	if (rk_attest_key_generate(&cpak))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rk_verify_opts opts = { .cpak = cpak };
	struct rk_token_claims claims;
	struct rk_verify_error err;
	int ret;

	ret = rk_token_verify(data, size, NULL, &claims, &err);
	/* A result and a code always agree. */
	if ((ret == 0) != (err.code == RK_VERIFY_OK))
		abort();
	rk_token_claims_release(&claims);
	rk_token_verify(data, size, &opts, &claims, &err);
	rk_token_claims_release(&claims);
	return 0;
}
