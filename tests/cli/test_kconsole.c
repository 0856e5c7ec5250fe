/* SPDX-License-Identifier: MIT */
/*
 * The marker lines of a Linux guest's console (tools/kconsole.c), fed in
 * every split (byte by byte, whole): ordinary output passes through unchanged
 * and undelayed (a prompt with no newline, a line that starts like a marker and
 * then differs), "RK-GUEST: exit N" (CR LF endings, the last one counts, bad
 * numbers are no status), token lines taken out of the output and decoded, a
 * token refused when lines are lost, not hex, unfinished, or the guest reports
 * an error; a partial line held at the end is passed on by kcon_finish().
 */
// test-sources: tools/args.c tools/kconsole.c
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kconsole.h"
#include "rk_test.h"

struct sink {
	char buf[8192];
	size_t len;
};

static void out(void *arg, const char *b, size_t n)
{
	struct sink *s = arg;

	assert_true(s->len + n < sizeof(s->buf));
	memcpy(s->buf + s->len, b, n);
	s->len += n;
	s->buf[s->len] = 0;
}

/* Feed text in chunks of step bytes (0: whole). */
static void feed(struct kcon *k, const char *text, size_t step)
{
	size_t n = strlen(text);

	for (size_t i = 0; i < n; i += step ? step : n)
		kcon_feed(k, text + i, step && n - i > step ? step : n - i, 1.0 + (double)i);
}

static void test_passthrough_and_status(void **state)
{
	static const char in[] = "[    0.1] Booting Linux\r\nRK-GUEST: ready\r\nRK-GUEST is not me\n"
				 "RK-GUEST: exit 7\nhello\r\nRK-GUEST: exit 256\nRK-GUEST: exit 0\r\n"
				 "R\nprompt# ";
	static const char want[] = "[    0.1] Booting Linux\r\nRK-GUEST: ready\r\nRK-GUEST is not me\n"
				   "RK-GUEST: exit 7\nhello\r\nRK-GUEST: exit 256\nRK-GUEST: exit 0\r\n"
				   "R\nprompt# ";

	(void)state;
	for (size_t step = 0; step < 4; step++) {
		struct sink s = { .len = 0 };
		struct kcon k;

		kcon_init(&k, out, &s);
		feed(&k, in, step);
		/* nothing held back but a line that could still be a marker: the prompt is out */
		assert_string_equal(s.buf, want);
		assert_true(k.ready);
		assert_int_equal(k.status, 0); /* the last; "exit 256" is no status */
		assert_true(k.t_first > 0 && k.t_ready > 0 && k.t_exit >= k.t_ready);
		assert_int_equal(k.token_state, KCON_TOKEN_NONE);
		kcon_finish(&k);
		kcon_free(&k);
	}
}

static void test_token(void **state)
{
	static const char in[] = "a\nRK-GUEST: token-begin\r\nRK-GUEST: token d28443a1\r\n"
				 "RK-GUEST: token 00FF\r\nRK-GUEST: token-end 6\r\nRK-GUEST: exit 0\n";

	(void)state;
	for (size_t step = 0; step < 3; step++) {
		struct sink s = { .len = 0 };
		struct kcon k;

		kcon_init(&k, out, &s);
		feed(&k, in, step);
		kcon_finish(&k);
		assert_string_equal(s.buf, "a\nRK-GUEST: exit 0\n"); /* the token lines are taken out */
		assert_int_equal(k.token_state, KCON_TOKEN_DONE);
		assert_int_equal(k.token_len, 6);
		assert_memory_equal(k.token, "\xd2\x84\x43\xa1\x00\xff", 6);
		kcon_free(&k);
	}
}

static void bad_token(const char *in, const char *why)
{
	struct sink s = { .len = 0 };
	struct kcon k;

	kcon_init(&k, out, &s);
	feed(&k, in, 1);
	kcon_finish(&k);
	assert_int_equal(k.token_state, KCON_TOKEN_BAD);
	if (!strstr(k.token_err, why))
		fail_msg("'%s' lacks '%s'", k.token_err, why);
	kcon_free(&k);
}

static void test_bad_tokens(void **state)
{
	(void)state;
	bad_token("RK-GUEST: token-begin\nRK-GUEST: token 0102\nRK-GUEST: token-end 3\n", "length");
	bad_token("RK-GUEST: token-begin\nRK-GUEST: token 010\nRK-GUEST: token-end 1\n", "odd");
	bad_token("RK-GUEST: token-begin\nRK-GUEST: token zz\nRK-GUEST: token-end 1\n", "not hex");
	bad_token("RK-GUEST: token 0102\n", "without 'token-begin'");
	bad_token("RK-GUEST: token-end 2\n", "without 'token-begin'");
	bad_token("RK-GUEST: token-begin\nRK-GUEST: token 0102\n", "no 'token-end'");
	bad_token("RK-GUEST: token-begin\nRK-GUEST: token-end 0\n", "length");
	bad_token("RK-GUEST: token-error no configfs\n", "could not get a token: no configfs");
}

static void test_held_at_end(void **state)
{
	struct sink s = { .len = 0 };
	struct kcon k;
	char longline[KCON_LINE_MAX + 20];

	(void)state;
	kcon_init(&k, out, &s);
	feed(&k, "x\nRK-GUEST: exi", 1);
	assert_string_equal(s.buf, "x\n"); /* held: it may be a marker */
	kcon_finish(&k);
	assert_string_equal(s.buf, "x\nRK-GUEST: exi");
	assert_int_equal(k.status, -1);
	kcon_free(&k);

	/* a marker-like line longer than the buffer is passed on, whole */
	s.len = 0;
	s.buf[0] = 0;
	kcon_init(&k, out, &s);
	memset(longline, 'a', sizeof(longline));
	memcpy(longline, KCON_PREFIX, strlen(KCON_PREFIX));
	longline[sizeof(longline) - 2] = '\n';
	longline[sizeof(longline) - 1] = 0;
	feed(&k, longline, 7);
	kcon_finish(&k);
	assert_string_equal(s.buf, longline);
	kcon_free(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passthrough_and_status),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_bad_tokens),
		cmocka_unit_test(test_held_at_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
