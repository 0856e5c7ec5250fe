/* SPDX-License-Identifier: MIT */
/*
 * bench_host: one VM lifecycle through the host library, for a realm and for
 * a normal VM on the same machine and host: create, a 64 MiB memory slot,
 * populate 1 MiB (measured, for the realm), map the other 63 MiB, destroy.
 * Reports ms per cycle and the realm / normal ratio.
 *
 *   bench_host [-n CYCLES] [--update-doc docs/performance.md]
 *
 * --update-doc writes the results and the command line into the "## Host"
 * section of the file (created if absent; other sections untouched).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "realmkit/host.h"

#define MIB ((uint64_t)1 << 20)
#define VM_SIZE (64 * MIB)
#define IMAGE (1 * MIB)

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct result {
	double mean, min;
	uint64_t rmi_calls, table_writes; /* per cycle */
};

static int cycle(struct rk_host *h, enum rk_vm_kind kind, uint32_t flags, const uint8_t *img)
{
	struct rk_vm_config cfg;
	struct rk_vm *vm;
	int ret;

	rk_vm_config_default(&cfg, kind);
	cfg.flags = flags;
	ret = rk_vm_create(h, &cfg, &vm);
	if (ret)
		return ret;
	if ((ret = rk_vm_add_memslot(vm, 0, VM_SIZE, 0)) ||
	    (ret = rk_vm_populate(vm, 0, img, IMAGE, kind == RK_VM_REALM ? RK_POPULATE_MEASURE : 0)) ||
	    (ret = rk_vm_map(vm, IMAGE, VM_SIZE - IMAGE)) || (ret = rk_vm_destroy(vm))) {
		fprintf(stderr, "bench_host: %s\n", rk_host_last_error(h)->msg);
		rk_vm_free(vm);
		return ret;
	}
	rk_vm_free(vm);
	return 0;
}

static int measure(struct rk_host *h, enum rk_vm_kind kind, uint32_t flags, const uint8_t *img, int n,
		   struct result *r)
{
	struct rk_host_stats a, b;
	double total = 0;

	for (int i = 0; i < 2; i++) /* warm up: first touch of the DRAM, allocator steady state */
		if (cycle(h, kind, flags, img))
			return 1;
	rk_host_get_stats(h, &a);
	r->min = 1e30;
	for (int i = 0; i < n; i++) {
		double t = now_ms();
		if (cycle(h, kind, flags, img))
			return 1;
		t = now_ms() - t;
		total += t;
		if (t < r->min)
			r->min = t;
	}
	rk_host_get_stats(h, &b);
	r->mean = total / n;
	r->rmi_calls = (b.rmi_calls - a.rmi_calls) / (uint64_t)n;
	r->table_writes = (b.s2_table_writes - a.s2_table_writes) / (uint64_t)n;
	return b.granules_leaked ? 1 : 0;
}

static void line(FILE *f, const char *name, const struct result *r)
{
	fprintf(f,
		"%-26s %7.3f ms/cycle (min %.3f)  %5" PRIu64 " RMI calls/cycle, %4" PRIu64
		" page-table writes\n",
		name, r->mean, r->min, r->rmi_calls, r->table_writes);
}

static void report(FILE *f, const struct result *res, int n)
{
	fprintf(f,
		"# bench_host: create + 64 MiB memory slot + populate 1 MiB + map 63 MiB + destroy, %d cycles\n",
		n);
	line(f, "realm", &res[0]);
	line(f, "realm, no RIM prediction", &res[1]);
	line(f, "normal VM", &res[2]);
	fprintf(f, "ratio realm / normal VM: %.2fx (without the host's RIM prediction: %.2fx)\n",
		res[0].mean / res[2].mean, res[1].mean / res[2].mean);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;

	if (!f)
		return calloc(1, 1);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)len + 1);
	if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len)
		buf[0] = 0;
	fclose(f);
	return buf;
}

/* Replace (or append) the "## Host" section of path. */
static int update_doc(const char *path, const char *cmdline, const struct result *res, int n)
{
	char *doc = slurp(path), *sec, *end;
	char body[4096];
	FILE *mem, *f;
	size_t len = 0;
	char *text = NULL;

	if (!doc)
		return 1;
	mem = open_memstream(&text, &len);
	if (!mem)
		return 1;
	fprintf(mem, "## Host\n\n");
	fprintf(mem,
		"Command: `%s`\n(2-core x86-64 Debian 12 machine, gcc 12, OpenSSL 3.0, RelWithDebInfo; "
		"numbers vary ~10-20%% between runs).\n\n",
		cmdline);
	fprintf(mem, "```\n");
	report(mem, res, n);
	fprintf(mem, "```\n\n");
	fprintf(mem,
		"- One cycle: `rk_vm_create`, `rk_vm_add_memslot` (64 MiB, 2 MiB chunks), `rk_vm_populate`\n"
		"  (1 MiB; measured for the realm), `rk_vm_map` (63 MiB), `rk_vm_destroy`, on one machine and\n"
		"  host (boot excluded), after two warm-up cycles.\n"
		"- Realm: range delegation, 256 `RMI_RTT_DATA_MAP_INIT` (SHA-256 of each page by the RMM,\n"
		"  and again by the host for its RIM prediction unless `RK_VM_NO_RIM_PREDICTION`),\n"
		"  `RMI_RTT_DATA_MAP` in 2 MiB blocks, then terminate, unmap, `RMI_RTT_DESTROY`,\n"
		"  `RMI_REALM_DESTROY` and undelegation (the RMM scrubs what it gives back).\n"
		"- Normal VM: the 1 MiB copy and the stage-2 descriptors written by the host; memory the\n"
		"  guest could have written is zeroed when it is allocated again (here: the 1 MiB image).\n"
		"- The ratio is the price of confidentiality in this model: mostly the measurement (two\n"
		"  SHA-256 per measured page) and the RMM's scrub on undelegate.\n");
	fclose(mem);
	snprintf(body, sizeof(body), "%s", text);
	free(text);

	sec = strstr(doc, "## Host\n");
	f = fopen(path, "wb");
	if (!f)
		return 1;
	if (sec) {
		end = strstr(sec + 8, "\n## ");
		fwrite(doc, 1, (size_t)(sec - doc), f);
		fputs(body, f);
		if (end)
			fputs(end, f);
	} else {
		fputs(doc, f);
		if (doc[0] && doc[strlen(doc) - 1] != '\n')
			fputs("\n", f);
		fputs(doc[0] ? "\n" : "# Performance\n\n", f);
		fputs(body, f);
	}
	fclose(f);
	free(doc);
	return 0;
}

int main(int argc, char **argv)
{
	struct rk_machine_config mc;
	struct rk_machine *m;
	struct rk_host *h;
	struct result res[3];
	const char *doc = NULL;
	char cmdline[512] = "";
	uint8_t *img;
	int n = 20;

	for (int i = 0; i < argc; i++)
		snprintf(cmdline + strlen(cmdline), sizeof(cmdline) - strlen(cmdline), "%s%s", i ? " " : "",
			 argv[i]);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			n = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--update-doc") && i + 1 < argc) {
			doc = argv[++i];
		} else {
			fprintf(stderr, "usage: bench_host [-n CYCLES] [--update-doc docs/performance.md]\n");
			return 2;
		}
	}
	if (n < 1)
		return 2;
	img = malloc(IMAGE);
	if (!img)
		return 1;
	for (uint64_t i = 0; i < IMAGE; i++)
		img[i] = (uint8_t)(i * 7 + (i >> 12));
	rk_machine_config_default(&mc);
	mc.dram_size = 512 * MIB;
	if (rk_machine_create(&mc, &m) || rk_host_create(m, NULL, &h))
		return 1;
	if (measure(h, RK_VM_REALM, 0, img, n, &res[0]) ||
	    measure(h, RK_VM_REALM, RK_VM_NO_RIM_PREDICTION, img, n, &res[1]) ||
	    measure(h, RK_VM_NORMAL, 0, img, n, &res[2])) {
		fprintf(stderr, "bench_host: a cycle failed or leaked\n");
		return 1;
	}
	report(stdout, res, n);
	rk_host_destroy(h);
	rk_machine_destroy(m);
	free(img);
	if (doc && update_doc(doc, cmdline, res, n)) {
		fprintf(stderr, "bench_host: cannot update %s\n", doc);
		return 1;
	}
	return 0;
}
