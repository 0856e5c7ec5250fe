/* SPDX-License-Identifier: MIT */
/* `realmkit run`'s console input: see console_in.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "console_in.h"

#define CTRL_A 0x01
#define IN_BUF 256

struct console_in {
	const char *prog;
	int fd;
	int wake[2]; /* rx_ready and stop write here, the reader polls it */
	struct rk_vm *vm;
	uint64_t ipa;
	pthread_t thread;
	bool started;
	bool wanted;  /* rx_ready has come (vCPU threads only, under the device lock) */
	bool no_read; /* a terminal we may not read (background) */
	bool raw;     /* the terminal is in raw mode: escapes are read */
	atomic_bool quit;
	uint8_t buf[IN_BUF]; /* read, not yet taken by the UART */
	size_t off, len;
};

/* The terminal's settings while it is in raw mode (restore_fd >= 0); async-signal-safe restore. */
static struct termios saved_tio;
static volatile sig_atomic_t restore_fd = -1;

static void restore_tty(void)
{
	int fd = restore_fd;

	if (fd >= 0) {
		tcsetattr(fd, TCSANOW, &saved_tio);
		restore_fd = -1;
	}
}

static void fatal_signal(int sig)
{
	restore_tty();
	raise(sig); /* SA_RESETHAND: the default action now */
}

static void raw_mode(struct console_in *ci)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	static bool hooked;
	struct termios t;

	if (!isatty(ci->fd))
		return;
	if (tcgetpgrp(ci->fd) != getpgrp()) {
		ci->no_read = true; /* reading would stop us with SIGTTIN */
		fprintf(stderr, "%s: stdin is a terminal in the background: no console input\n", ci->prog);
		return;
	}
	if (tcgetattr(ci->fd, &saved_tio))
		return;
	if (!hooked) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = fatal_signal;
		sa.sa_flags = (int)SA_RESETHAND;
		sigemptyset(&sa.sa_mask);
		for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
			sigaction(fatal[i], &sa, NULL);
		atexit(restore_tty);
		hooked = true;
	}
	t = saved_tio;
	/* as QEMU's stdio chardev: raw input, output processing kept ('\n' -> "\r\n") */
	t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_oflag |= OPOST;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | IEXTEN | ISIG);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	restore_fd = ci->fd;
	ci->raw = true;
	if (tcsetattr(ci->fd, TCSANOW, &t)) {
		restore_fd = -1;
		ci->raw = false;
		fprintf(stderr, "%s: cannot put the terminal in raw mode: %s\n", ci->prog, strerror(errno));
	}
}

int console_in_create(const char *prog, int fd, struct console_in **out)
{
	struct console_in *ci = calloc(1, sizeof(*ci));

	*out = NULL;
	if (!ci)
		return -ENOMEM;
	if (pipe(ci->wake)) {
		int e = errno;
		free(ci);
		return -e;
	}
	fcntl(ci->wake[0], F_SETFL, O_NONBLOCK);
	fcntl(ci->wake[1], F_SETFL, O_NONBLOCK);
	fcntl(ci->wake[0], F_SETFD, FD_CLOEXEC);
	fcntl(ci->wake[1], F_SETFD, FD_CLOEXEC);
	ci->prog = prog;
	ci->fd = fd;
	atomic_init(&ci->quit, false);
	*out = ci;
	return 0;
}

static void wake(struct console_in *ci, char what)
{
	ssize_t n = write(ci->wake[1], &what, 1); /* full: a wake-up is pending anyway */
	(void)n;
}

/* vCPU thread, device lock held: the guest wants input. The terminal goes raw here, before the
 * guest's pending output (its prompt) is flushed, so what is typed after the prompt is raw. */
void console_in_rx_ready(void *arg)
{
	struct console_in *ci = arg;

	if (!ci->wanted) {
		ci->wanted = true;
		raw_mode(ci);
	}
	wake(ci, 'r');
}

static void help(const struct console_in *ci)
{
	fprintf(stderr,
		"\n%s: console escapes (Ctrl-A then):\n"
		"  C-a h    print this help\n"
		"  C-a x    quit: stop the guest and tear it down (exit status 130)\n"
		"  C-a C-a  send C-a\n",
		ci->prog);
}

/* Terminal input: QEMU's escapes. Returns the bytes kept in out. */
static size_t escapes(struct console_in *ci, bool *esc, const uint8_t *in, size_t n, uint8_t *out)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = in[i];
		if (!*esc) {
			if (c == CTRL_A)
				*esc = true;
			else
				out[m++] = c;
			continue;
		}
		*esc = false;
		if (c == CTRL_A) {
			out[m++] = c;
		} else if (c == 'x') {
			atomic_store(&ci->quit, true);
			fprintf(stderr, "\n%s: quit (Ctrl-A x)\n", ci->prog);
			rk_vm_stop(ci->vm);
			return m;
		} else if (c == 'h' || c == '?') {
			help(ci);
		} /* anything else: dropped */
	}
	return m;
}

static void *reader(void *arg)
{
	struct console_in *ci = arg;
	bool active = false, eof = false, esc = false;
	uint8_t in[IN_BUF];

	for (;;) {
		struct pollfd p[2] = { { ci->wake[0], POLLIN, 0 }, { ci->fd, POLLIN, 0 } };
		bool want = active && !eof && ci->off == ci->len && !atomic_load(&ci->quit);
		char w[64];
		ssize_t n;

		if (poll(p, want ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		while ((n = read(ci->wake[0], w, sizeof(w))) > 0)
			for (ssize_t i = 0; i < n; i++) {
				if (w[i] == 'q')
					return NULL;
				active = !ci->no_read;
			}
		if (want && p[1].revents) {
			n = read(ci->fd, in, sizeof(in));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				eof = true; /* nothing more: the RX FIFO stays empty */
			} else if (ci->raw) {
				ci->off = 0;
				ci->len = escapes(ci, &esc, in, (size_t)n, ci->buf);
			} else {
				memcpy(ci->buf, in, (size_t)n);
				ci->off = 0;
				ci->len = (size_t)n;
			}
		}
		if (ci->off < ci->len && !atomic_load(&ci->quit)) {
			size_t taken = 0;
			if (rk_vm_uart_input(ci->vm, ci->ipa, ci->buf + ci->off, ci->len - ci->off, &taken))
				return NULL;
			ci->off += taken; /* the rest when the guest makes room (rx_ready) */
		}
	}
}

int console_in_start(struct console_in *ci, struct rk_vm *vm, uint64_t ipa)
{
	int ret;

	ci->vm = vm;
	ci->ipa = ipa;
	ret = pthread_create(&ci->thread, NULL, reader, ci);
	if (ret)
		return -ret;
	ci->started = true;
	return 0;
}

void console_in_stop(struct console_in *ci)
{
	if (!ci)
		return;
	if (ci->started) {
		wake(ci, 'q');
		pthread_join(ci->thread, NULL);
		ci->started = false;
	}
	restore_tty();
}

bool console_in_quit(const struct console_in *ci)
{
	return ci && atomic_load(&((struct console_in *)ci)->quit);
}

void console_in_free(struct console_in *ci)
{
	if (!ci)
		return;
	console_in_stop(ci);
	close(ci->wake[0]);
	close(ci->wake[1]);
	free(ci);
}
