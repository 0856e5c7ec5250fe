/* SPDX-License-Identifier: MIT */
/* Tests that run realm payloads (guest/): what to do when one is missing. */
#ifndef RK_TEST_PAYLOAD_H
#define RK_TEST_PAYLOAD_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

/*
 * A failure when the build made the payloads (RK_GUEST_BUILT=1, set by ctest),
 * a skip otherwise (no cross compiler, or a test run by hand outside ctest).
 */
#define T_NO_PAYLOAD(what)                                                                          \
	do {                                                                                        \
		const char *built_ = getenv("RK_GUEST_BUILT");                                      \
		if (built_ && built_[0] == '1')                                                     \
			fail_msg("guest payload missing although the build made them: %s", (what)); \
		print_message("no guest payloads (%s): skipped\n", (what));                         \
		skip();                                                                             \
	} while (0)

#endif
