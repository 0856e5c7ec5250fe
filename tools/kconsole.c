/* SPDX-License-Identifier: MIT */
/* The marker lines of a Linux guest's console: kconsole.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "kconsole.h"

#define PREFIX_LEN (sizeof(KCON_PREFIX) - 1)

void kcon_init(struct kcon *k, void (*out)(void *arg, const char *buf, size_t len), void *arg)
{
	memset(k, 0, sizeof(*k));
	k->out = out;
	k->arg = arg;
	k->bol = true;
	k->status = -1;
}

void kcon_free(struct kcon *k)
{
	free(k->token);
	k->token = NULL;
	k->token_len = 0;
}

static void token_bad(struct kcon *k, const char *why)
{
	k->token_state = KCON_TOKEN_BAD;
	snprintf(k->token_err, sizeof(k->token_err), "%s", why);
}

/* A decimal number 0..max, the whole of s. */
static bool parse_dec(const char *s, unsigned long max, unsigned long *v)
{
	unsigned long n = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		n = n * 10 + (unsigned long)(*s - '0');
		if (n > max)
			return false;
	}
	*v = n;
	return true;
}

static void token_data(struct kcon *k, const char *hex)
{
	size_t n = strlen(hex);

	if (k->token_state != KCON_TOKEN_OPEN) {
		if (k->token_state != KCON_TOKEN_BAD)
			token_bad(k, "token data without 'token-begin'");
		return;
	}
	if (!n || n % 2) {
		token_bad(k, "a token line with an odd number of hex digits");
		return;
	}
	if (k->token_len + n / 2 > KCON_TOKEN_MAX) {
		token_bad(k, "the token is larger than 64 KiB");
		return;
	}
	for (size_t i = 0; i < n; i += 2) {
		int hi = arg_hexdigit((unsigned char)hex[i]), lo = arg_hexdigit((unsigned char)hex[i + 1]);

		if (hi < 0 || lo < 0) {
			token_bad(k, "a token line that is not hex");
			return;
		}
		k->token[k->token_len++] = (uint8_t)(hi << 4 | lo);
	}
}

/* A whole marker line (without its line end): true if it is taken out of the stream. */
static bool marker(struct kcon *k, const char *m, double now)
{
	unsigned long v;

	if (!strcmp(m, "ready")) {
		k->ready = true;
		if (!k->t_ready)
			k->t_ready = now;
		return false;
	}
	if (!strncmp(m, "exit ", 5) && parse_dec(m + 5, 255, &v)) {
		k->status = (int)v;
		k->t_exit = now;
		return false;
	}
	if (!strcmp(m, "token-begin")) {
		if (!k->token && !(k->token = malloc(KCON_TOKEN_MAX))) {
			token_bad(k, "out of memory");
			return true;
		}
		k->token_state = KCON_TOKEN_OPEN;
		k->token_len = 0;
		k->token_err[0] = 0;
		return true;
	}
	if (!strncmp(m, "token ", 6)) {
		token_data(k, m + 6);
		return true;
	}
	if (!strncmp(m, "token-end ", 10)) {
		if (k->token_state == KCON_TOKEN_OPEN) {
			if (!parse_dec(m + 10, KCON_TOKEN_MAX, &v) || v != k->token_len || !v)
				token_bad(k, "the token's length is not what 'token-end' says (lines lost?)");
			else
				k->token_state = KCON_TOKEN_DONE;
		} else if (k->token_state != KCON_TOKEN_BAD) {
			token_bad(k, "'token-end' without 'token-begin'");
		}
		return true;
	}
	if (!strncmp(m, "token-error ", 12)) {
		static const char lead[] = "the guest could not get a token: ";

		k->token_state = KCON_TOKEN_BAD;
		memcpy(k->token_err, lead, sizeof(lead) - 1);
		snprintf(k->token_err + sizeof(lead) - 1, sizeof(k->token_err) - (sizeof(lead) - 1), "%.*s",
			 (int)(sizeof(k->token_err) - sizeof(lead)), m + 12);
		return false; /* the guest's own words: shown */
	}
	return false;
}

/* The held line is complete (line[] ends with '\n'). */
static void held_line(struct kcon *k, double now)
{
	size_t n = k->len - 1;
	char m[KCON_LINE_MAX];

	while (n > PREFIX_LEN && k->line[n - 1] == '\r')
		n--;
	memcpy(m, k->line + PREFIX_LEN, n - PREFIX_LEN);
	m[n - PREFIX_LEN] = 0;
	if (strlen(m) != n - PREFIX_LEN || !marker(k, m, now))
		k->out(k->arg, k->line, k->len);
	k->len = 0;
	k->holding = false;
}

void kcon_feed(struct kcon *k, const char *buf, size_t len, double now)
{
	size_t i = 0, start = 0;

	if (len && !k->t_first)
		k->t_first = now;
	while (i < len) {
		char c = buf[i];

		if (k->holding) {
			k->line[k->len++] = c;
			i++;
			start = i;
			if (c == '\n' && k->len > PREFIX_LEN) {
				held_line(k, now);
				k->bol = true;
			} else if ((k->len <= PREFIX_LEN && memcmp(k->line, KCON_PREFIX, k->len)) ||
				   c == '\n' || k->len == KCON_LINE_MAX) {
				/* not a marker line after all: pass it on, the rest of it goes straight through */
				k->out(k->arg, k->line, k->len);
				k->bol = c == '\n';
				k->len = 0;
				k->holding = false;
			}
			continue;
		}
		if (k->bol && c == KCON_PREFIX[0]) {
			if (i > start)
				k->out(k->arg, buf + start, i - start);
			k->holding = true;
			k->bol = false;
			continue; /* the byte is taken above */
		}
		k->bol = c == '\n';
		i++;
	}
	if (!k->holding && i > start)
		k->out(k->arg, buf + start, i - start);
}

void kcon_finish(struct kcon *k)
{
	if (k->holding && k->len)
		k->out(k->arg, k->line, k->len);
	k->len = 0;
	k->holding = false;
	if (k->token_state == KCON_TOKEN_OPEN)
		token_bad(k, "the console ended inside the token (no 'token-end')");
}
