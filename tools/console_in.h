/* SPDX-License-Identifier: MIT */
/*
 * `realmkit run`'s console input: stdin fed to the guest's PL011
 * (rk_vm_uart_input()) by a reader thread that sleeps in poll() until stdin
 * has bytes and the UART has room, so waiting for input costs no CPU.
 *
 * Nothing is read before the guest first looks at the UART's receive side
 * (rx_ready): a guest that only prints leaves stdin (and the terminal) alone.
 * Then, when stdin is a terminal in the foreground, it is put in raw mode
 * (no echo, no line editing, no signals from keys; output processing kept so
 * '\n' still starts a new line) and escapes are read as QEMU's: Ctrl-A x
 * quits (the VM is stopped; console_in_quit() says so), Ctrl-A Ctrl-A sends
 * a Ctrl-A, Ctrl-A h prints the help, any other Ctrl-A sequence is dropped.
 * The terminal's settings are restored by console_in_stop(), at exit()
 * (atexit) and by a fatal signal (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT,
 * then re-raised). When stdin is a pipe or a file its bytes are passed as
 * they are; at EOF nothing more comes (the RX FIFO stays empty).
 */
#ifndef RK_TOOLS_CONSOLE_IN_H
#define RK_TOOLS_CONSOLE_IN_H

#include <stdbool.h>
#include <stdint.h>

#include "realmkit/host.h"

struct console_in;

/* The feeder (no thread yet) and its callback for rk_uart_config.rx_ready. -errno on failure. */
int console_in_create(const char *prog, int fd, struct console_in **out);
void console_in_rx_ready(void *ci);
/* Start the reader thread for the UART at ipa of vm. */
int console_in_start(struct console_in *ci, struct rk_vm *vm, uint64_t ipa);
/* Stop the thread, restore the terminal. Idempotent. */
void console_in_stop(struct console_in *ci);
/* Ctrl-A x was typed. */
bool console_in_quit(const struct console_in *ci);
void console_in_free(struct console_in *ci);

#endif
