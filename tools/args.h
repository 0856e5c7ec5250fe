/* SPDX-License-Identifier: MIT */
/*
 * Strict parsers for the CLI's option values, shared by the subcommands: a
 * value is taken whole or refused (no trailing junk, no sign, no wrap-around,
 * no NaN or infinity), and a refusal names the option.
 */
#ifndef RK_TOOLS_ARGS_H
#define RK_TOOLS_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A whole number, decimal or 0x-prefixed hex, that fits 64 bits: true and *v, else false. */
bool arg_u64(const char *s, uint64_t *v);

/*
 * arg_u64 within [min, max]; else prints "PROG: OPT takes a number MIN..MAX
 * (WHAT), not 'S'" on stderr and returns false. what may be NULL.
 */
bool arg_number(const char *prog, const char *opt, const char *s, uint64_t min, uint64_t max,
		const char *what, uint64_t *v);

/* --timeout: seconds, a finite number from 0.001 (1 ms) to 31536000 (a year); else a message naming opt. */
#define ARG_SECONDS_MIN 0.001
#define ARG_SECONDS_MAX 31536000.0
bool arg_seconds(const char *prog, const char *opt, const char *s, double *v);

/* -m of `info` and `demo`: the machine's DRAM in MiB. */
#define ARG_DRAM_MIB_MIN 64u
#define ARG_DRAM_MIB_MAX 65536u

/* The value of one hex digit (either case), or -1. */
int arg_hexdigit(int c);
/* Hex (optional 0x prefix) into out: the byte count, or -1 (empty, odd length, not hex, more than cap). */
long arg_hex(const char *s, uint8_t *out, size_t cap);

#endif
