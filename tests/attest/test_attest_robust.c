/* SPDX-License-Identifier: MIT */
/*
 * Garbage in, error out: every truncation of every token, every single-byte
 * change anywhere in a token, random garbage and random mutations must give
 * an error (never a crash or a leak; run under ASan+UBSan too).
 */
#include <errno.h>

#include "test_attest_util.h"

static const char *const files[] = {
	"token-realm2.0.cbor",
	"token-realm1.0.cbor",
	"token-cca-ssd-legacy.cbor",
};

static unsigned long histogram[RK_VERIFY_CODE_COUNT];

static void print_histogram(const char *what)
{
	print_message("%s:", what);
	for (int i = 0; i < RK_VERIFY_CODE_COUNT; i++)
		if (histogram[i])
			print_message(" %s=%lu", rk_verify_code_name((enum rk_verify_code)i), histogram[i]);
	print_message("\n");
	memset(histogram, 0, sizeof(histogram));
}

/* Every prefix of every token is refused. */
static void test_truncation(void **state)
{
	struct rk_attest_key *cpak = ta_key("cpak-sample.pub.pem");
	struct rk_verify_opts opts = { .cpak = cpak };

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len;
		uint8_t *tok = ta_read(files[i], &len);

		for (size_t n = 0; n < len; n++) {
			/* A copy of exactly n bytes, so ASan sees any over-read. */
			uint8_t *cut = malloc(n ? n : 1);
			enum rk_verify_code code;

			memcpy(cut, tok, n);
			code = ta_verify_code(cut, n, &opts, NULL);
			if (code == RK_VERIFY_OK)
				fail_msg("%s cut to %zu bytes accepted", files[i], n);
			histogram[code]++;
			free(cut);
		}
		assert_int_equal(ta_verify_code(tok, len, &opts, NULL), RK_VERIFY_OK);
		free(tok);
	}
	print_histogram("truncations");
	rk_attest_key_free(cpak);
}

/* Any single-byte change anywhere in a token (not just the signed parts). */
static void test_every_byte_anywhere(void **state)
{
	struct rk_attest_key *cpak = ta_key("cpak-sample.pub.pem");
	struct rk_verify_opts opts = { .cpak = cpak };

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len;
		uint8_t *tok = ta_read(files[i], &len);
		uint8_t *copy = malloc(len);

		for (size_t b = 0; b < len; b++) {
			enum rk_verify_code code;

			memcpy(copy, tok, len);
			copy[b] ^= 0x20;
			code = ta_verify_code(copy, len, &opts, NULL);
			if (code == RK_VERIFY_OK)
				fail_msg("%s byte %zu ^ 0x20 accepted", files[i], b);
			histogram[code]++;
		}
		free(copy);
		free(tok);
	}
	print_histogram("single-byte changes");
	rk_attest_key_free(cpak);
}

/* Random buffers, with and without a plausible tag prefix. */
static void test_random_garbage(void **state)
{
	uint64_t seed = 0x5eed0001;
	uint8_t buf[512];

	(void)state;
	for (int i = 0; i < 20000; i++) {
		size_t len = (size_t)(ta_rand(&seed) % sizeof(buf));

		for (size_t b = 0; b < len; b++)
			buf[b] = (uint8_t)ta_rand(&seed);
		if (len >= 3 && (i & 1)) {
			buf[0] = 0xd9;
			buf[1] = 0x03;
			buf[2] = (i & 2) ? 0x8b : 0x8f;
		}
		histogram[ta_verify_code(buf, len, NULL, NULL)]++;
	}
	assert_int_equal(histogram[RK_VERIFY_OK], 0);
	print_histogram("random garbage");
}

/* Random multi-byte mutations, insertions and deletions of valid tokens. */
static void test_random_mutations(void **state)
{
	struct rk_attest_key *cpak = ta_key("cpak-sample.pub.pem");
	struct rk_verify_opts opts = { .cpak = cpak };
	uint64_t seed = 0x5eed0002;

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len;
		uint8_t *tok = ta_read(files[i], &len);
		uint8_t *m = malloc(len + 64);

		for (int it = 0; it < 3000; it++) {
			size_t n = len;
			int edits = 1 + (int)(ta_rand(&seed) % 8);

			memcpy(m, tok, len);
			for (int e = 0; e < edits; e++) {
				size_t at = (size_t)(ta_rand(&seed) % n);

				switch (ta_rand(&seed) % 4) {
				case 0: /* random byte */
					m[at] = (uint8_t)ta_rand(&seed);
					break;
				case 1: /* interesting length byte */
					m[at] = (uint8_t[]){
						0x00, 0x17, 0x18, 0x19, 0x1a, 0x1b,
						0x1f, 0x5b, 0x7b, 0x9b, 0xbb, 0xff
					}[ta_rand(&seed) % 12];
					break;
				case 2: /* delete */
					if (n > 1) {
						memmove(m + at, m + at + 1, n - at - 1);
						n--;
					}
					break;
				case 3: /* insert */
					if (n < len + 64) {
						memmove(m + at + 1, m + at, n - at);
						m[at] = (uint8_t)ta_rand(&seed);
						n++;
					}
					break;
				}
			}
			if (n == len && !memcmp(m, tok, len))
				continue; /* the edits cancelled out */
			histogram[ta_verify_code(m, n, &opts, NULL)]++;
		}
		free(m);
		free(tok);
	}
	/* Mutations of signed bytes can never pass; structural ones are refused. */
	assert_int_equal(histogram[RK_VERIFY_OK], 0);
	print_histogram("random mutations");
	rk_attest_key_free(cpak);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_every_byte_anywhere),
		cmocka_unit_test(test_random_garbage),
		cmocka_unit_test(test_random_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
