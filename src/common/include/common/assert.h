/* SPDX-License-Identifier: MIT */
/*
 * RK_ASSERT(cond): an internal invariant of the library (a lock its caller
 * must hold, a counter that cannot go below zero, a walk within its levels),
 * checked in builds with RK_ASSERTS on (CMake option RK_ASSERTS: on by
 * default in Debug and sanitizer builds). A failure prints the expression and
 * file:line and aborts. Off, the condition is compiled (type-checked) but
 * never evaluated.
 *
 * Only for invariants the code itself keeps, never for input: bad input from
 * the host, a realm or a user gets an error, never an assertion
 * (docs/architecture.md, "Assertions").
 */
#ifndef RK_COMMON_ASSERT_H
#define RK_COMMON_ASSERT_H

#if defined(RK_ASSERTS) && RK_ASSERTS
#define RK_ASSERTS_ON 1
#define RK_ASSERT(cond) ((cond) ? (void)0 : rk_assert_fail(#cond, __FILE__, __LINE__, __func__))
#else
#define RK_ASSERTS_ON 0
#define RK_ASSERT(cond) ((void)sizeof(!(cond)))
#endif

/* Print "realmkit: file:line: func: assertion `expr' failed" to stderr and abort(). */
__attribute__((noreturn, cold)) void rk_assert_fail(const char *expr, const char *file, int line,
						    const char *func);

#endif
