/* SPDX-License-Identifier: MIT */
/*
 * Unicorn 2.0.1's store fast path (cpu_ucfix.c has the whole story).
 *
 * Model: Debian 12's Unicorn 2.0.1 sends every guest store to RAM through
 * QEMU's slow path, where it checks for translated code on the page (its
 * self-modifying-code detection, run for every page because the dirty
 * tracking that would limit it to pages with code is stubbed out). realmkit
 * switches that mark off once per process, before its first engine opens, and
 * then the engine no longer notices its own stores to code; the vCPU instead
 * does what the architecture asks of software (the Cortex-A72 model has
 * CTR_EL0.DIC = 0): IC IVAU invalidates the line's translations on the issuing
 * engine (rk_ucfix_code_written), IC IALLU/IALLUIS all of them.
 *
 * Threads: rk_ucfix_init() is called under the engine-open lock before any
 * engine of realmkit exists; it is idempotent and thread-safe (pthread_once).
 * The predicates may be read from any thread after it.
 *
 * Errors: nothing here fails an engine. If the fast path cannot be set up
 * and proven, stores stay on Unicorn's own path (correct, slower) and one
 * line on stderr says why, unless RK_UNICORN_FAST_STORES=0 asked for that.
 */
#ifndef RK_PLATFORM_CPU_UCFIX_H
#define RK_PLATFORM_CPU_UCFIX_H

#include <stdbool.h>
#include <stddef.h>

struct uc_struct;

/* The state of the store path, decided once per process. */
enum rk_ucfix_state {
	RK_UCFIX_UNDECIDED, /* rk_ucfix_init() not called yet */
	RK_UCFIX_FAST,      /* patched and proven: stores are inline; IC ops invalidate on the issuer */
	RK_UCFIX_SLOW,      /* Unicorn as it is (opted out, another version, or the fix failed) */
};

/* Decide the store path (once; later calls return at once). */
void rk_ucfix_init(void);
/* The decided state (RK_UCFIX_UNDECIDED before rk_ucfix_init()). */
enum rk_ucfix_state rk_ucfix_state(void);
/* Why the state is what it is, one line, e.g. "patched and proven" or the failure. */
const char *rk_ucfix_reason(void);
/*
 * Drop the translations of the len bytes at host (inside memory the engine
 * maps with uc_mem_map_ptr) from uc, e.g. from inside a hook on an IC IVAU.
 * False if host is not the engine's RAM or the fast path is not on.
 */
bool rk_ucfix_code_written(struct uc_struct *uc, const void *host, size_t len);

/* For tests, before the first engine: make the set-up fail in one of its steps. */
enum rk_ucfix_sabotage {
	RK_UCFIX_SABOTAGE_NONE,       /* the real thing */
	RK_UCFIX_SABOTAGE_NO_PATCH,   /* leave the byte as it is: the proof's store check fails */
	RK_UCFIX_SABOTAGE_NO_IC,      /* the proof's IC IVAU invalidates nothing: its last check
				       fails, and the byte must be put back */
	RK_UCFIX_SABOTAGE_NO_PROCMEM, /* /proc/self/mem refused: the mprotect path writes it */
};
void rk_ucfix_sabotage_test(enum rk_ucfix_sabotage how);

#endif /* RK_PLATFORM_CPU_UCFIX_H */
