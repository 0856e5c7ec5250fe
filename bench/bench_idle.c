/* SPDX-License-Identifier: MIT */
/*
 * bench_idle: what idle realms cost a host. N one-vCPU realms are built, run
 * to SYSTEM_OFF and kept (not destroyed), as a host keeps VMs that are not
 * running; then the process's resident memory and threads are read. Two
 * machines in the same run, each in a child process of its own: one that
 * parks idle RECs beyond the default cap (max_open_engines = 0: 64), one that
 * keeps every engine open (max_open_engines = N), the baseline.
 *
 *   bench_idle [N]      (default 1000)
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "realmkit/host.h"
#include "realmkit/platform.h"

#define MIB ((uint64_t)1 << 20)
#define CODE_IPA 0x80000000ull

struct result {
	double rss_mib, build_run_ms;
	int threads;
	int ok;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double rss_mib(void)
{
	char line[256];
	long kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	fclose(f);
	return kb / 1024.0;
}

static int threads(void)
{
	DIR *d = opendir("/proc/self/task");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 2; /* . and .. */
}

/* The realm: SYSTEM_OFF. */
static const uint32_t code[] = {
	0xd2800100, /* mov x0, #0x8 */
	0xf2b08000, /* movk x0, #0x8400, lsl #16: PSCI SYSTEM_OFF */
	0xd4000003, /* smc #0 */
	0x14000000, /* b . */
};

static int one_realm(struct rk_host *h, struct rk_vm **out)
{
	struct rk_vcpu_config vc = { .pc = CODE_IPA, .flags = RK_VCPU_RUNNABLE };
	struct rk_vm_config cfg;
	struct rk_vm *vm;

	rk_vm_config_default(&cfg, RK_VM_REALM);
	if (rk_vm_create(h, &cfg, &vm))
		return -1;
	if (rk_vm_add_memslot(vm, CODE_IPA, 2 * MIB, 0) ||
	    rk_vm_populate(vm, CODE_IPA, code, sizeof(code), RK_POPULATE_MEASURE) ||
	    rk_vcpu_create(vm, 0, &vc) || rk_vm_run(vm, 60000)) {
		fprintf(stderr, "bench_idle: %s\n", rk_host_last_error(h)->msg);
		return -1;
	}
	*out = vm;
	return 0;
}

static void measure(unsigned n, unsigned max_open, struct result *r)
{
	struct rk_machine_config mc;
	struct rk_machine *m;
	struct rk_host *h;
	struct rk_vm **vms = calloc(n, sizeof(*vms));
	double base, t;

	memset(r, 0, sizeof(*r));
	rk_machine_config_default(&mc);
	mc.dram_size = (uint64_t)n * 4 * MIB + 256 * MIB;
	mc.max_open_engines = max_open;
	if (!vms || rk_machine_create(&mc, &m) || rk_host_create(m, NULL, &h))
		return;
	base = rss_mib();
	t = now_ms();
	for (unsigned i = 0; i < n; i++)
		if (one_realm(h, &vms[i]))
			return;
	r->build_run_ms = (now_ms() - t) / n;
	r->rss_mib = rss_mib() - base;
	r->threads = threads();
	r->ok = 1;
	/* no teardown: the child exits */
}

static int in_child(unsigned n, unsigned max_open, struct result *r)
{
	int fd[2];
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe(fd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct result c;
		close(fd[0]);
		measure(n, max_open, &c);
		if (write(fd[1], &c, sizeof(c)) != (ssize_t)sizeof(c))
			_exit(1);
		_exit(0);
	}
	close(fd[1]);
	ssize_t got = read(fd[0], r, sizeof(*r));
	close(fd[0]);
	waitpid(pid, NULL, 0);
	return got == (ssize_t)sizeof(*r) && r->ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1000;
	struct result parked, open;

	if (n < 1 || n > 4096) {
		fprintf(stderr, "usage: bench_idle [N]   (1..4096 realms)\n");
		return 2;
	}
	if (in_child(n, 0, &parked) || in_child(n, n, &open)) {
		fprintf(stderr, "bench_idle: a measurement failed\n");
		return 1;
	}
	printf("%u idle one-vCPU realms held   parked (cap 64)   all open (baseline)   ratio\n", n);
	printf("resident memory, MiB           %15.0f   %19.0f   %5.2f\n", parked.rss_mib, open.rss_mib,
	       parked.rss_mib / open.rss_mib);
	printf("threads                        %15d   %19d   %5.2f\n", parked.threads, open.threads,
	       (double)parked.threads / open.threads);
	printf("build + run, ms per realm      %15.2f   %19.2f   %5.2f\n", parked.build_run_ms,
	       open.build_run_ms, parked.build_run_ms / open.build_run_ms);
	return 0;
}
