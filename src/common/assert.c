/* SPDX-License-Identifier: MIT */
/* The failure path of RK_ASSERT (common/assert.h). */
#include <stdio.h>
#include <stdlib.h>

#include "common/assert.h"

void rk_assert_fail(const char *expr, const char *file, int line, const char *func)
{
	fprintf(stderr, "realmkit: %s:%d: %s: assertion `%s' failed\n", file, line, func, expr);
	fflush(stderr);
	abort();
}
