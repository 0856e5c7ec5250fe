/* SPDX-License-Identifier: MIT */
/*
 * echo: reads the console line by line (polling the UART, no interrupts) and
 * prints each line back as "echo: <line>" (control characters as ^X), until a line "quit": PASS with
 * the number of lines echoed. Input ends only with "quit": without it the
 * realm keeps waiting (`realmkit run --timeout` ends it).
 */
#include "sdk.h"

int main(void)
{
	char line[128];
	uint64_t lines = 0;

	rk_puts("echo: type lines, \"quit\" to stop\n");
	for (;;) {
		rk_puts("> ");
		rk_readline(line, sizeof(line));
		if (!memcmp(line, "quit", 5)) /* with its terminating zero */
			break;
		rk_puts("echo: ");
		for (const char *p = line; *p; p++)
			if ((unsigned char)*p < 0x20)
				rk_printf("^%c", *p + '@'); /* a control character, as ^X */
			else
				rk_putc(*p);
		rk_putc('\n');
		lines++;
	}
	rk_printf("echo: %lu lines: PASS\n", lines);
	rk_report(RK_GUEST_EX_ECHO, true, lines);
	return 0; /* -> PSCI SYSTEM_OFF */
}
