/* SPDX-License-Identifier: MIT */
/* Strict parsers for the CLI's option values: see args.h. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

int arg_hexdigit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool arg_u64(const char *s, uint64_t *v)
{
	unsigned int base = 10;
	uint64_t n = 0;

	if (!s)
		return false;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		int d = arg_hexdigit((unsigned char)*s);

		if (d < 0 || (unsigned int)d >= base || __builtin_mul_overflow(n, base, &n) ||
		    __builtin_add_overflow(n, (uint64_t)d, &n))
			return false;
	}
	*v = n;
	return true;
}

bool arg_number(const char *prog, const char *opt, const char *s, uint64_t min, uint64_t max,
		const char *what, uint64_t *v)
{
	uint64_t n;

	if (arg_u64(s, &n) && n >= min && n <= max) {
		*v = n;
		return true;
	}
	fprintf(stderr, "%s: %s takes a number %" PRIu64 "..%" PRIu64 "%s%s%s, not '%s'\n", prog, opt, min,
		max, what ? " (" : "", what ? what : "", what ? ")" : "", s);
	return false;
}

bool arg_seconds(const char *prog, const char *opt, const char *s, double *v)
{
	char *end = NULL;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(d) || d < ARG_SECONDS_MIN || d > ARG_SECONDS_MAX) {
		fprintf(stderr, "%s: %s takes seconds, a number from %g (1 ms) to %.0f (a year), not '%s'\n",
			prog, opt, ARG_SECONDS_MIN, ARG_SECONDS_MAX, s);
		return false;
	}
	*v = d;
	return true;
}

long arg_hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n, len;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	len = strlen(s);
	if (len == 0 || len % 2 || len / 2 > cap)
		return -1;
	for (n = 0; n < len / 2; n++) {
		int hi = arg_hexdigit((unsigned char)s[2 * n]),
		    lo = arg_hexdigit((unsigned char)s[2 * n + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[n] = (uint8_t)(hi << 4 | lo);
	}
	return (long)n;
}
