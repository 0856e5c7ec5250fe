/* SPDX-License-Identifier: MIT */
/*
 * The console of a Linux guest booted with `realmkit run --kernel` and the kit's
 * initramfs (scripts/linux-guest-init.sh): its marker lines, which all start
 * with "RK-GUEST: " at the start of a line (docs/architecture.md, "Linux guests"):
 *
 *   RK-GUEST: ready              /init is about to run the command
 *   RK-GUEST: exit N             the command (or shell) exited with status N (0..255)
 *   RK-GUEST: token-begin        an attestation token follows ...
 *   RK-GUEST: token HEX          ... in lines of hex (an even number of digits each)
 *   RK-GUEST: token-end LEN      ... LEN bytes in all
 *   RK-GUEST: token-error TEXT   the guest could not get a token
 *
 * kcon_feed() passes the console through to out() as it comes, except the token
 * lines, which it takes out of the stream and decodes. Only the start of a line
 * that could still become a marker ("RK-GUEST: " so far) is held back until its
 * newline (or until it stops matching), so prompts and partial lines are not
 * delayed. A later "exit" line replaces an earlier one (the init's is the last).
 */
#ifndef RK_TOOLS_KCONSOLE_H
#define RK_TOOLS_KCONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KCON_PREFIX "RK-GUEST: "
#define KCON_LINE_MAX 512u
#define KCON_TOKEN_MAX (64u * 1024u)

enum kcon_token { KCON_TOKEN_NONE, KCON_TOKEN_OPEN, KCON_TOKEN_DONE, KCON_TOKEN_BAD };

struct kcon {
	void (*out)(void *arg, const char *buf, size_t len);
	void *arg;
	char line[KCON_LINE_MAX];
	size_t len;
	bool bol;     /* the next byte starts a line */
	bool holding; /* line[] is the start of the current line, held back */
	bool ready;   /* "RK-GUEST: ready" seen */
	int status;   /* the last "RK-GUEST: exit N", or -1 */
	/* times (the caller's clock, ms) of the first byte, "ready" and "exit"; 0: not yet */
	double t_first, t_ready, t_exit;
	enum kcon_token token_state;
	uint8_t *token;
	size_t token_len;
	char token_err[128]; /* KCON_TOKEN_BAD: why */
};

void kcon_init(struct kcon *k, void (*out)(void *arg, const char *buf, size_t len), void *arg);
/* Feed len bytes of console output that arrived at time now_ms. */
void kcon_feed(struct kcon *k, const char *buf, size_t len, double now_ms);
/* The console has ended: pass a held partial line on; an open token becomes KCON_TOKEN_BAD. */
void kcon_finish(struct kcon *k);
void kcon_free(struct kcon *k);

#endif
