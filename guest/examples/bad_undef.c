/* SPDX-License-Identifier: MIT */
/*
 * bad_undef: a realm that executes an undefined instruction (UDF #0). The RMM
 * injects an UNDEF into the realm; the SDK's default handler prints the
 * exception and switches the realm off without reporting a result. The host
 * must say so, survive, and reclaim everything.
 */
#include "sdk.h"

int main(void)
{
	rk_printf("bad_undef: executing UDF #0 at cpu %u\n", rk_cpu_index());
	__asm__ volatile(".inst 0x00000000" ::: "memory");
	rk_printf("bad_undef: the undefined instruction did not trap!\n");
	return 0;
}
