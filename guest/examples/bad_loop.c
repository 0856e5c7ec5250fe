/* SPDX-License-Identifier: MIT */
/*
 * bad_loop: a realm that never ends (a tight loop with no exit to the host).
 * Only the host's timeout (realmkit run --timeout) stops it.
 */
#include "sdk.h"

int main(void)
{
	uint64_t n = 0;

	rk_printf("bad_loop: spinning forever\n");
	for (;;)
		__asm__ volatile("add %0, %0, #1" : "+r"(n));
	return 0;
}
