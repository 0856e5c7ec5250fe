/* SPDX-License-Identifier: MIT */
/*
 * realmkit bench IMAGE [-n CYCLES] [-m MIB] [-c CPUS] [--hash ALGO] [--json]:
 * how long the realm `realmkit run IMAGE` builds takes to build, run to
 * SYSTEM_OFF and tear down, against the same image as a normal VM (no RMM)
 * in the same run, on one machine and host.
 *
 * After one warm-up cycle of each, CYCLES cycles (default 20) alternate realm
 * and normal VM, so that drift of the machine hits both alike. For each phase
 * the median and the minimum are printed, and the ratio of the medians. Per realm cycle: RMI calls, vCPU entries. Creating the machine
 * and the host is timed once. The console is discarded; a realm that does not
 * switch itself off, or reports FAIL (RK_HC_RESULT), fails the benchmark (the
 * normal VM only has to switch itself off: as a normal VM the examples' RSI
 * checks fail by design).
 *
 * realmkit bench --kernel K [--initrd I] [--append ARGS] [...] -- COMMAND: a Linux
 * guest booted to COMMAND's exit (the kit's /init, kconsole.h), as a realm and as a
 * normal VM: besides the phases, the time from the cycle's start to the console's
 * first byte, to "RK-GUEST: ready" (/init runs the command) and to "RK-GUEST: exit N"
 * (boot to command exit). A kernel boots for seconds: no warm-up, 1 cycle by default.
 * The command must exit with status 0 in both.
 *
 * Exit status: 0 measured, 1 a cycle failed (the reason on stderr), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "cli.h"
#include "kconsole.h"
#include "realmkit/host.h"
#include "realmkit/measure.h"
#include "run_plan.h"

#define MIB ((uint64_t)1 << 20)
#define DEFAULT_CYCLES 20u
#define MAX_CYCLES 100000u
#define DEFAULT_MEM_MIB 16u
#define RUN_TIMEOUT_MS 60000u

/* the last three: --kernel only, from the cycle's start */
enum phase { PH_BUILD, PH_RUN, PH_TEARDOWN, PH_TOTAL, PH_CONSOLE, PH_INIT, PH_EXIT, PH_COUNT };
#define PH_BASIC PH_CONSOLE
static const char *const phase_names[PH_COUNT] = { "build",   "run",  "teardown", "cycle",
						   "console", "init", "exit" };
#define MAX_RUN_ARGS 64

struct bench_opts {
	const char *image;
	const char *kernel, *initrd, *append;
	char **command;
	int ncommand;
	uint64_t mem_mib;
	uint32_t cpus, cycles, hash_algo;
	bool json, cycles_given;
};

/* One kind (realm or normal VM): its plan and the samples of every cycle. */
struct bench_kind {
	const char *name;
	struct run_setup *setup;
	double *ms[PH_COUNT];
	uint64_t rmi_calls, entries; /* of the last cycle */
	uint32_t cpus;
	bool check_result; /* it must report PASS if it reports (the realm; as a normal VM the
			      examples' realm-only checks fail, which is no failure of the run) */
	bool result_seen, result_pass;
	bool kernel;    /* a Linux guest: its console through kc */
	struct kcon kc; /* this cycle's */
	int status;     /* the command's, of the last cycle */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: realmkit bench IMAGE [-n CYCLES] [-m MEM_MIB] [-c CPUS] [--hash ALGO] [--json]\n"
		"       realmkit bench --kernel IMAGE [--initrd FILE] [--append ARGS] [options]\n"
		"                      -- COMMAND...\n"
		"\n"
		"Time building, running (to SYSTEM_OFF) and tearing down the realm `realmkit run\n"
		"IMAGE` builds, CYCLES times (default %u, after one warm-up), alternating with the\n"
		"same image as a normal VM (no RMM) as the baseline, on one machine and host.\n"
		"Prints the median and minimum of each phase and the realm / normal VM ratio.\n"
		"With --kernel: a Linux guest booted to COMMAND's exit (the kit's /init, as\n"
		"`realmkit run --kernel ... -- COMMAND`), timed also to its first console output,\n"
		"to /init ('RK-GUEST: ready') and to the exit ('RK-GUEST: exit 0'), from the\n"
		"cycle's start; no warm-up, 1 cycle by default.\n"
		"\n"
		"      --kernel IMAGE     a Linux kernel, booted to -- COMMAND's exit (as for run)\n"
		"      --initrd FILE      its initrd, as for run\n"
		"      --append ARGS      its command line, as for run\n"
		"  -n, --cycles N     measured cycles of each kind (default %u)\n"
		"  -m, --mem MIB      guest RAM (default %u), as for run\n"
		"  -c, --cpus N       vCPUs (default 1), as for run\n"
		"  -H, --hash ALGO    sha256 (default), sha384 or sha512\n"
		"  -j, --json         print the result as JSON\n"
		"  -h, --help         this help\n",
		DEFAULT_CYCLES, DEFAULT_CYCLES, DEFAULT_MEM_MIB);
}

/* 0 parsed, 1 help printed, 2 usage error. */
static int parse(int argc, char **argv, struct bench_opts *o)
{
	static const struct option opts[] = {
		{ "cycles", required_argument, NULL, 'n' }, { "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },   { "hash", required_argument, NULL, 'H' },
		{ "json", no_argument, NULL, 'j' },         { "kernel", required_argument, NULL, 'K' },
		{ "initrd", required_argument, NULL, 'I' }, { "append", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },         { 0 },
	};
	const char *positional = NULL, *last_optarg = NULL;
	int c;

	memset(o, 0, sizeof(*o));
	o->cycles = DEFAULT_CYCLES;
	o->mem_mib = DEFAULT_MEM_MIB;
	o->cpus = 1;
	o->hash_algo = RMI_HASH_SHA_256;
	optind = 0; /* a full reset of getopt's state */
	/* "-": operands in order, optind ends just after a "--" (as run's parser) */
	while ((c = getopt_long(argc, argv, "-n:m:c:H:jh", opts, NULL)) != -1) {
		if (c != 1 && optarg)
			last_optarg = optarg;
		switch (c) {
		case 1:
			if (positional) {
				usage(stderr);
				return 2;
			}
			positional = optarg;
			break;
		case 'K':
			o->kernel = optarg;
			break;
		case 'I':
			o->initrd = optarg;
			break;
		case 'A':
			o->append = optarg;
			break;
		case 'n': {
			uint64_t n;
			if (!arg_number("realmkit bench", "-n", optarg, 1, MAX_CYCLES, "cycles", &n))
				return 2;
			o->cycles = (uint32_t)n;
			o->cycles_given = true;
			break;
		}
		case 'm':
			if (!run_opt_mem("realmkit bench", optarg, &o->mem_mib))
				return 2;
			break;
		case 'c':
			if (!run_opt_cpus("realmkit bench", optarg, &o->cpus))
				return 2;
			break;
		case 'H':
			if (!run_opt_hash("realmkit bench", optarg, &o->hash_algo))
				return 2;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind > 0 && optind <= argc && !strcmp(argv[optind - 1], "--") &&
	    argv[optind - 1] != last_optarg) {
		o->command = argv + optind;
		o->ncommand = argc - optind;
	}
	if (!o->kernel != !!positional) {
		usage(stderr);
		return 2;
	}
	if (!o->kernel && (o->initrd || o->append || o->command)) {
		fprintf(stderr, "realmkit bench: --initrd, --append and -- COMMAND need --kernel\n");
		return 2;
	}
	if (o->kernel && !o->ncommand) {
		fprintf(stderr,
			"realmkit bench: --kernel times the boot to a command's exit: give -- COMMAND\n");
		return 2;
	}
	if (o->ncommand > MAX_RUN_ARGS - 20) {
		fprintf(stderr, "realmkit bench: COMMAND has more than %d words\n", MAX_RUN_ARGS - 20);
		return 2;
	}
	if (o->kernel && !o->cycles_given)
		o->cycles = 1;
	o->image = o->kernel ? o->kernel : positional;
	return 0;
}

/* cli.h */
int parse_bench(int argc, char **argv)
{
	struct bench_opts o;
	int ret = parse(argc, argv, &o);

	return ret == 1 ? 0 : ret;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void discard(void *arg, const char *buf, size_t len)
{
	(void)arg, (void)buf, (void)len;
}

/* A Linux guest's console: only its marker lines and their times are kept. */
static void kernel_console(void *arg, const char *buf, size_t len)
{
	struct bench_kind *k = arg;

	kcon_feed(&k->kc, buf, len, now_ms());
}

/*
 * The plan of kind j (0 realm, 1 normal VM): run's options in an argv, so that --kernel,
 * --initrd, --append and -- COMMAND are checked and placed as run does. 0, 1, or 2 (usage).
 */
static int open_setup(const struct bench_opts *o, int j, struct run_setup **out)
{
	char mem[24], cpus[16], *av[MAX_RUN_ARGS];
	int n = 0;

	snprintf(mem, sizeof(mem), "%" PRIu64, o->mem_mib);
	snprintf(cpus, sizeof(cpus), "%u", o->cpus);
	av[n++] = (char *)"bench";
	if (o->kernel) {
		av[n++] = (char *)"--kernel";
		av[n++] = (char *)o->kernel;
	} else {
		av[n++] = (char *)o->image;
	}
	if (o->initrd) {
		av[n++] = (char *)"--initrd";
		av[n++] = (char *)o->initrd;
	}
	if (o->append) {
		av[n++] = (char *)"--append";
		av[n++] = (char *)o->append;
	}
	av[n++] = (char *)"-m";
	av[n++] = mem;
	av[n++] = (char *)"-c";
	av[n++] = cpus;
	av[n++] = (char *)"--hash";
	av[n++] = (char *)(o->hash_algo == RMI_HASH_SHA_512   ? "sha512"
			   : o->hash_algo == RMI_HASH_SHA_384 ? "sha384"
							      : "sha256");
	if (j)
		av[n++] = (char *)"--normal";
	if (o->ncommand) {
		av[n++] = (char *)"--";
		for (int i = 0; i < o->ncommand; i++)
			av[n++] = o->command[i];
	}
	av[n] = NULL;
	n = run_setup_open_argv("realmkit bench", n, av, out);
	return !n ? 0 : n == 2 ? 2 : 1;
}

/* The host calls of guest/README.md that the examples need to get to SYSTEM_OFF. */
static int host_call(void *arg, struct rk_vm *vm, uint32_t vcpu, uint32_t imm, uint64_t g[31])
{
	struct bench_kind *k = arg;
	uint64_t in1 = g[1];

	(void)vm, (void)vcpu;
	memset(g, 0, 31 * sizeof(uint64_t));
	switch (imm) {
	case RK_HC_CPU_COUNT:
		g[0] = k->cpus;
		break;
	case RK_HC_SHARED_BUF:
		g[0] = RUN_SHARED_IPA;
		g[1] = RUN_SHARED_SIZE;
		break;
	case RK_HC_RESULT:
		k->result_seen = true;
		k->result_pass = in1 == 0;
		break;
	default:
		break; /* zeros: the examples' defaults (a zero challenge, no stress config) */
	}
	return 0;
}

/* One cycle of kind k; its phase times go to sample i. 0, or 1 with the reason on stderr. */
static int cycle(struct rk_host *h, struct bench_kind *k, uint32_t i)
{
	struct rk_host_stats s0, s1;
	struct rk_vm_run_info info;
	struct rk_vm *vm = NULL;
	double t0, t1, t2, t3;
	int ret;

	k->result_seen = k->result_pass = false;
	kcon_free(&k->kc);
	kcon_init(&k->kc, discard, NULL);
	rk_host_get_stats(h, &s0);
	t0 = now_ms();
	ret = rk_vm_create_from_plan(h, run_setup_plan(k->setup), &vm);
	if (!ret)
		ret = k->kernel ? rk_vm_add_uart(vm, RK_GUEST_UART_IPA, kernel_console, k)
				: rk_vm_add_uart(vm, RK_GUEST_UART_IPA, discard, NULL);
	if (!ret) {
		rk_vm_set_host_call_handler(vm, host_call, k);
		ret = rk_vm_activate(vm);
	}
	if (ret) {
		fprintf(stderr, "realmkit bench: cannot build the %s: %s\n", k->name,
			rk_host_last_error(h)->msg);
		goto fail;
	}
	t1 = now_ms();
	ret = rk_vm_run(vm, RUN_TIMEOUT_MS);
	t2 = now_ms();
	rk_vm_get_run_info(vm, &info);
	kcon_finish(&k->kc);
	if (k->kernel && k->kc.status < 0) {
		fprintf(stderr,
			"realmkit bench: the %s gave no 'RK-GUEST: exit N' line (%s): `realmkit run` with the "
			"same options shows its console\n",
			k->name, info.msg);
		goto fail;
	}
	if (k->kernel && k->kc.status) {
		fprintf(stderr, "realmkit bench: the command exited with status %d in the %s\n", k->kc.status,
			k->name);
		goto fail;
	}
	if (ret || info.reason != RK_STOP_SYSTEM_OFF) {
		fprintf(stderr, "realmkit bench: the %s did not switch itself off: %s\n", k->name, info.msg);
		goto fail;
	}
	if (k->check_result &&
	    ((k->result_seen && !k->result_pass) || (!k->result_seen && run_setup_reports(k->setup)))) {
		fprintf(stderr, "realmkit bench: the %s did not report PASS (realmkit run says why)\n",
			k->name);
		goto fail;
	}
	if (rk_vm_destroy(vm)) {
		fprintf(stderr, "realmkit bench: teardown of the %s failed: %s\n", k->name,
			rk_host_last_error(h)->msg);
		goto fail;
	}
	rk_vm_free(vm);
	t3 = now_ms();
	rk_host_get_stats(h, &s1);
	k->ms[PH_BUILD][i] = t1 - t0;
	k->ms[PH_RUN][i] = t2 - t1;
	k->ms[PH_TEARDOWN][i] = t3 - t2;
	k->ms[PH_TOTAL][i] = t3 - t0;
	if (k->kernel) {
		k->ms[PH_CONSOLE][i] = k->kc.t_first ? k->kc.t_first - t0 : 0;
		k->ms[PH_INIT][i] = k->kc.t_ready ? k->kc.t_ready - t0 : 0;
		k->ms[PH_EXIT][i] = k->kc.t_exit - t0;
	}
	k->rmi_calls = s1.rmi_calls - s0.rmi_calls;
	k->entries = info.entries;
	return 0;
fail:
	if (vm && rk_vm_get_state(vm) != RK_VM_DEAD)
		(void)rk_vm_destroy(vm);
	rk_vm_free(vm);
	return 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median and minimum of n samples (sorts them). */
static void summarize(double *v, uint32_t n, double *median, double *min)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	*min = v[0];
	*median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int print_json(const struct bench_opts *o, struct bench_kind k[2], double med[2][PH_COUNT],
		      double min[2][PH_COUNT], double boot_ms)
{
	json_t *root = json_object(), *kinds = json_object();
	int ret = 1;

	if (!root || !kinds)
		goto out;
	json_object_set_new(root, "image", json_string(o->image));
	json_object_set_new(root, "cycles", json_integer(o->cycles));
	json_object_set_new(root, "cpus", json_integer(o->cpus));
	json_object_set_new(root, "mem_mib", json_integer((json_int_t)o->mem_mib));
	json_object_set_new(root, "hash", json_string(rk_hash_name(o->hash_algo)));
	json_object_set_new(root, "machine_and_host_ms", json_real(boot_ms));
	json_object_set_new(root, "kernel", json_boolean(o->kernel != NULL));
	if (o->kernel) {
		json_t *cmd = json_array();

		for (int i = 0; i < o->ncommand; i++)
			json_array_append_new(cmd, json_string(o->command[i]));
		json_object_set_new(root, "command", cmd);
	}
	for (int j = 0; j < 2; j++) {
		json_t *kj = json_object();
		for (int p = 0; p < (o->kernel ? PH_COUNT : PH_BASIC); p++) {
			json_t *pj = json_object();
			json_object_set_new(pj, "median_ms", json_real(med[j][p]));
			json_object_set_new(pj, "min_ms", json_real(min[j][p]));
			json_object_set_new(kj, phase_names[p], pj);
		}
		json_object_set_new(kj, "rmi_calls_per_cycle", json_integer((json_int_t)k[j].rmi_calls));
		json_object_set_new(kj, "vcpu_entries_per_cycle", json_integer((json_int_t)k[j].entries));
		json_object_set_new(kinds, j ? "normal_vm" : "realm", kj);
	}
	json_object_set(root, "kinds", kinds);
	json_object_set_new(root, "realm_over_normal_vm",
			    med[1][PH_TOTAL] > 0 ? json_real(med[0][PH_TOTAL] / med[1][PH_TOTAL])
						 : json_null());
	if (o->kernel)
		json_object_set_new(root, "boot_to_exit_realm_over_normal_vm",
				    med[1][PH_EXIT] > 0 ? json_real(med[0][PH_EXIT] / med[1][PH_EXIT])
							: json_null());
	if (json_dumpf(root, stdout, JSON_INDENT(2)) == 0) {
		fputc('\n', stdout);
		ret = 0;
	}
out:
	json_decref(kinds);
	json_decref(root);
	return ret;
}

int cmd_bench(int argc, char **argv)
{
	struct bench_opts o;
	struct bench_kind k[2] = { { .name = "realm", .check_result = true }, { .name = "normal VM" } };
	struct rk_machine_config mcfg;
	struct rk_machine *m = NULL;
	struct rk_host *h = NULL;
	double med[2][PH_COUNT], min[2][PH_COUNT], t0, boot_ms;
	int ret = parse(argc, argv, &o), status = 1;

	if (ret)
		return ret == 1 ? 0 : 2;
	for (int j = 0; j < 2; j++) {
		k[j].cpus = o.cpus;
		kcon_init(&k[j].kc, discard, NULL);
		if ((ret = open_setup(&o, j, &k[j].setup))) {
			status = ret;
			goto out;
		}
		k[j].kernel = run_setup_is_kernel(k[j].setup);
		for (int p = 0; p < PH_COUNT; p++) {
			k[j].ms[p] = calloc(o.cycles, sizeof(double));
			if (!k[j].ms[p]) {
				fprintf(stderr, "realmkit bench: out of memory\n");
				goto out;
			}
		}
	}
	t0 = now_ms();
	rk_machine_config_default(&mcfg);
	mcfg.dram_size = o.mem_mib * MIB + 64 * MIB; /* as run: guest RAM, then RTTs, RECs, host pages */
	if ((ret = rk_machine_create(&mcfg, &m)) || (ret = rk_host_create(m, NULL, &h))) {
		fprintf(stderr, "realmkit bench: cannot create the machine and host: %s\n", strerror(-ret));
		goto out;
	}
	boot_ms = now_ms() - t0;
	/* warm-up (not for a kernel: seconds per boot), then the cycles, realm and normal VM alternating */
	for (int j = 0; j < 2 && !o.kernel; j++)
		if (cycle(h, &k[j], 0))
			goto out;
	for (uint32_t i = 0; i < o.cycles; i++)
		for (int j = 0; j < 2; j++)
			if (cycle(h, &k[j], i))
				goto out;
	for (int j = 0; j < 2; j++)
		for (int p = 0; p < PH_COUNT; p++)
			summarize(k[j].ms[p], o.cycles, &med[j][p], &min[j][p]);
	if (o.json) {
		status = print_json(&o, k, med, min, boot_ms);
		goto out;
	}
	printf("# realmkit bench %s: %u cycle%s of each, %u vCPU%s, %" PRIu64 " MiB, %s (%s)\n", o.image,
	       o.cycles, o.cycles > 1 ? "s" : "", o.cpus, o.cpus > 1 ? "s" : "", o.mem_mib,
	       rk_hash_name(o.hash_algo), o.kernel ? "Linux kernel, no warm-up" : "after one warm-up");
	if (o.kernel) {
		printf("# command:");
		for (int i = 0; i < o.ncommand; i++)
			printf(" %s", o.command[i]);
		printf("\n# console, init, exit: from the cycle's start to the first console byte, to "
		       "'RK-GUEST: ready', to 'RK-GUEST: exit 0'\n");
	}
	printf("%-10s %21s %21s %8s\n", "phase", "realm ms (median/min)", "normal VM ms", "ratio");
	for (int p = 0; p < (o.kernel ? PH_COUNT : PH_BASIC); p++)
		printf("%-10s %12.3f /%7.3f %12.3f /%7.3f %7.2fx\n", phase_names[p], med[0][p], min[0][p],
		       med[1][p], min[1][p], med[1][p] > 0 ? med[0][p] / med[1][p] : 0);
	printf("per cycle: realm %" PRIu64 " RMI calls, %" PRIu64 " vCPU entries; normal VM %" PRIu64
	       " vCPU entries\n",
	       k[0].rmi_calls, k[0].entries, k[1].entries);
	printf("machine + host created in %.3f ms (once)\n", boot_ms);
	status = 0;
out:
	rk_host_destroy(h);
	rk_machine_destroy(m);
	for (int j = 0; j < 2; j++) {
		run_setup_close(k[j].setup);
		kcon_free(&k[j].kc);
		for (int p = 0; p < PH_COUNT; p++)
			free(k[j].ms[p]);
	}
	return status;
}
