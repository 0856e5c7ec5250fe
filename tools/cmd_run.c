/* SPDX-License-Identifier: MIT */
/*
 * realmkit run IMAGE [options]: run a realm (or a normal VM) from an AArch64
 * ELF or flat image, in the manner of kvmtool's `lkvm run`.
 *
 * The image is loaded at RK_GUEST_RAM_BASE (include/realmkit/guest_abi.h; an ELF
 * at its own load addresses, which must be inside guest RAM) and measured;
 * the realm gets -m MiB of private RAM there (RIPAS RAM, mapped on demand),
 * a PL011 console at RK_GUEST_UART_IPA, a 64 KiB shared buffer in the
 * unprotected half, -c vCPUs (vCPU 0 runnable at the entry point, the others
 * started with PSCI CPU_ON), and the host calls of guest/README.md. Its
 * console is streamed to stdout; realmkit's own messages go to stderr.
 *
 * --dtb adds a device tree (rk_fdt_build(), realmkit/host.h) as the Linux
 * arm64 boot protocol wants it: in guest RAM where kvmtool puts it (the last
 * 2 MiB below min(RAM, 256 MiB)), populated and measured like the image, its
 * IPA in vCPU 0's x0 (x1..x3 = 0). Without --dtb nothing of it is built, so
 * the realm and its RIM are what they were.
 *
 * --kernel IMAGE [--initrd FILE] [--append ARGS] boots a Linux arm64 Image by
 * the boot protocol (tools/kernel.c): at the RAM base + text_offset with
 * image_size bytes for it, the initrd after that, the device tree (implied)
 * with /chosen bootargs and initrd range; all three measured.
 *
 * The construction plan (what is measured) is built by plan_from_options(),
 * which `realmkit measure` (cmd_measure.c) shares: it predicts the RIM from
 * the same plan with rk_plan_rim(), without a host.
 *
 * The image is loaded by tools/image.c. Every argument is checked before
 * anything is built: option values (args.h), the image, --cpak (read and
 * parsed) and --token-out (opened).
 *
 * Console input: tools/console_in.c (stdin, raw terminal, Ctrl-A escapes).
 *
 * Exit status: 0 the realm reported PASS (RK_HC_RESULT), or switched off
 * without reporting if its image does not use the report call; 1 anything
 * else (reported FAIL, stopped on an error, timeout, a teardown leak, an
 * image that cannot be loaded), with one line saying why; 2 usage error (a
 * bad option value, an unusable --cpak or --token-out file); 130 interrupted
 * (SIGINT, SIGTERM, SIGHUP, or Ctrl-A x on a terminal console).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <getopt.h>
#include <inttypes.h>
#include <libelf.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "realmkit/guest_abi.h"
#include "cli.h"
#include "realmkit/attest.h"
#include "realmkit/cpu_model.h"
#include "realmkit/host.h"
#include "args.h"
#include "console_in.h"
#include "image.h"
#include "kconsole.h"
#include "kernel.h"
#include "realmkit/attest.h"
#include "realmkit/measure.h"
#include "run_plan.h"

#define MIB ((uint64_t)1 << 20)
#define DEFAULT_MEM_MIB 16u
#define MAX_MEM_MIB 16384u
#define MAX_CPUS 64u
#define SHARED_IPA RUN_SHARED_IPA /* 64 KiB of shared memory for RK_HC_SHARED_BUF */
#define SHARED_SIZE RUN_SHARED_SIZE
/*
 * Breakpoints and watchpoints (RmiRealmParams num_bps/num_wps: the count - 1, measured): what
 * the vCPU implements, Unicorn 2.0.1's Cortex-A72 (6 and 4), so that the realm's
 * ID_AA64DFR0_EL1 BRPs/WRPs name no register the engine lacks (Linux writes every DBGBCR/DBGWCR
 * it is told of at boot; DBGBCR6_EL1 is an UNDEF): the RMM's RMI_FEATURES maximum
 * (RK_MACHINE_CPU_BRPS/WRPS). Given explicitly so that `realmkit measure` needs no RMM to know them.
 */
#define PLAN_NUM_BPS RK_MACHINE_CPU_BRPS
#define PLAN_NUM_WPS RK_MACHINE_CPU_WRPS
#define CHALLENGE_SIZE 64u

struct run_opts {
	const char *image;
	const char *token_out;
	const char *cpak;
	const char *cpak_out;
	const char *dtb_out;
	const char *bootargs; /* --bootargs or --append */
	const char *kernel;   /* --kernel: the image, booted as a Linux arm64 Image (kernel.h) */
	const char *initrd;
	char **command; /* -- COMMAND...: ncommand words, run by the guest's /init (with --kernel) */
	int ncommand;
	uint64_t mem_mib;
	double timeout_s;
	uint32_t cpus;
	uint32_t hash_algo;
	bool trace, normal, quiet, attest, state, dtb, no_stdin;
	uint8_t challenge[CHALLENGE_SIZE];
	char cmdline[RK_FDT_BOOTARGS_MAX]; /* --kernel: --append, rk.challenge=, -- COMMAND */
};

struct run_plan {
	struct rk_vm_plan plan;
	struct rk_plan_memslot slots[2];
	struct rk_plan_load loads[IMAGE_MAX_LOADS + 2]; /* the image's, the initrd, the device tree */
	struct rk_vcpu_config *vcpus;
	uint8_t *dtb; /* --dtb: the device tree, dtb_len bytes at dtb_ipa */
	size_t dtb_len;
	uint64_t dtb_ipa;
	uint64_t kernel_end; /* --kernel: the end of its image_size region */
	uint8_t *initrd;     /* --initrd: initrd_len bytes at initrd_ipa */
	uint64_t initrd_len, initrd_ipa;
};

/* --dtb: where the device tree goes (kvmtool's place): 2 MiB aligned, the last 2 MiB of RAM below 256 MiB. */
#define DTB_ALIGN (2 * MIB)
#define DTB_LOWMEM (256 * MIB)

/* ---- options ---- */

static void usage(FILE *f, bool measure)
{
	if (measure) {
		fprintf(f,
			"usage: realmkit measure IMAGE [-m MEM_MIB] [-c CPUS] [--hash sha256|sha384|sha512]\n"
			"                        [--dtb] [--bootargs STR] [--dtb-out FILE]\n"
			"       realmkit measure --kernel IMAGE [--initrd FILE] [--append ARGS] [options]\n"
			"\n"
			"Print the RIM (hex) the realm `realmkit run IMAGE` with the same options builds\n"
			"will have, computed from the host's construction plan through the measurement\n"
			"path only: no RMM, no realm. --dtb, --bootargs, --dtb-out FILE (which writes\n"
			"the device tree), --kernel, --initrd and --append are those of run; its other\n"
			"options are accepted and ignored.\n"
			"  -v, --verbose   also print the plan on stderr\n");
		return;
	}
	fprintf(f,
		"usage: realmkit run IMAGE [options]\n"
		"       realmkit run --kernel IMAGE [--initrd FILE] [--append ARGS] [options]\n"
		"                    [-- COMMAND...]\n"
		"\n"
		"Build a realm from IMAGE (AArch64 ELF, or a flat image loaded at 0x%llx),\n"
		"run it with its console on stdout, tear it down. See guest/README.md.\n"
		"\n"
		"      --kernel IMAGE     boot IMAGE as Linux does on arm64 (booting.rst): a raw,\n"
		"                         gzip or zstd Image (an EFI-stub/signed PE Image, an EFI\n"
		"                         zboot image), placed at RAM base + text_offset with\n"
		"                         image_size bytes for it, entered with x0 = the device\n"
		"                         tree (implies --dtb); kernel, initrd and tree are measured\n"
		"      --initrd FILE      the initrd, after the kernel's image_size (page aligned),\n"
		"                         in the tree's /chosen linux,initrd-start/end\n"
		"      --append ARGS      the kernel command line (the tree's /chosen/bootargs)\n"
		"      -- COMMAND...      (--kernel) run COMMAND in the guest and exit with its\n"
		"                         status: its words, joined by spaces, go after ' -- ' on\n"
		"                         the kernel command line, where the kit's /init runs them\n"
		"                         with sh -c and prints 'RK-GUEST: exit N' (quote for the\n"
		"                         guest's shell, as with ssh); refused: control characters\n"
		"                         (newline, tab), empty words, more than 32 words, ' -- '\n"
		"                         in --append, a command line over 2047 bytes\n"
		"  -m, --mem MIB          guest RAM at 0x%llx (default %u, multiple of 2)\n"
		"  -c, --cpus N           vCPUs (default 1; the guest starts them with PSCI CPU_ON)\n"
		"  -H, --hash ALGO        sha256 (default), sha384 or sha512: the realm's measurement\n"
		"                         algorithm\n"
		"  -t, --timeout S        stop the realm after S seconds, 0.001..31536000 (default:\n"
		"                         none)\n"
		"      --trace            print every RMI call (and each exit) and every RSI call\n"
		"                         the realm makes, with arguments and results, on stderr\n"
		"      --attest HEX       the 64-byte challenge the attest example gets (RK_HC_CHALLENGE);\n"
		"                         with --kernel: rk.challenge=HEX on the (measured) command\n"
		"                         line, for the kit's /init to get a token through configfs-tsm\n"
		"      --token-out FILE   write the attestation token the realm hands over there\n"
		"                         (a --kernel guest: as 'RK-GUEST: token' console lines,\n"
		"                         taken out of the output)\n"
		"                         (opened before the realm is built; left as it was if\n"
		"                         no token comes)\n"
		"      --cpak KEY.pem     the machine's CCA platform attestation key (PEM, private;\n"
		"                         read before the realm is built)\n"
		"      --cpak-out FILE    write the public key of the CPAK the machine signs with\n"
		"                         (--cpak's, or the one it generates) there as PEM, for\n"
		"                         `realmkit verify TOKEN --cpak FILE`\n"
		"      --normal           run IMAGE as a normal VM (no RMM: no RSI, no attestation)\n"
		"      --dtb              give the guest a device tree (Linux arm64 boot protocol):\n"
		"                         in its RAM, measured with the image, its address in x0 of\n"
		"                         vCPU 0; describes memory, vCPUs, PSCI, timer, GICv3, UART\n"
		"      --bootargs STR     the device tree's /chosen/bootargs (with --dtb)\n"
		"      --dtb-out FILE     write the device tree there (implies --dtb; written before\n"
		"                         the realm is built)\n"
		"      --no-stdin         do not read stdin: the guest's console gets no input\n"
		"      --state            when the realm has stopped, before teardown, print its state\n"
		"                         on stderr: stage 2 as the RMM reports it, and every granule\n"
		"                         of the machine by owner and role\n"
		"  -q, --quiet            no realmkit messages on success\n"
		"  -h, --help             this help\n"
		"\n"
		"Exit status: with --kernel, the status of 'RK-GUEST: exit N' on the console (the\n"
		"command's); with -- COMMAND and no such line (a panic, a timeout) 1. Otherwise\n"
		"0 the realm reported PASS (or switched off, if it does not report),\n"
		"1 it reported FAIL, stopped on an error or timed out, or IMAGE cannot be loaded\n"
		"(the reason on stderr), 2 usage error (a bad option value, an unusable --cpak,\n"
		"--token-out or --dtb-out file: nothing is built), 130 interrupted (SIGINT,\n"
		"SIGTERM, SIGHUP, or Ctrl-A x on the console).\n"
		"\n"
		"Console input: once the guest reads its UART, stdin is its input: a terminal\n"
		"in raw mode (restored on exit; Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A,\n"
		"Ctrl-A h helps), a pipe or file as it is (after EOF the guest gets nothing).\n",
		(unsigned long long)RK_GUEST_RAM_BASE, (unsigned long long)RK_GUEST_RAM_BASE,
		DEFAULT_MEM_MIB);
}

bool run_opt_hash(const char *prog, const char *arg, uint32_t *algo)
{
	if (!strcmp(arg, "sha256") || !strcmp(arg, "sha-256"))
		*algo = RMI_HASH_SHA_256;
	else if (!strcmp(arg, "sha384") || !strcmp(arg, "sha-384"))
		*algo = RMI_HASH_SHA_384;
	else if (!strcmp(arg, "sha512") || !strcmp(arg, "sha-512"))
		*algo = RMI_HASH_SHA_512;
	else {
		fprintf(stderr, "%s: --hash sha256|sha384|sha512\n", prog);
		return false;
	}
	return true;
}

bool run_opt_mem(const char *prog, const char *arg, uint64_t *mib)
{
	uint64_t v;

	if (!arg_u64(arg, &v) || !v || v % 2 || v > MAX_MEM_MIB) {
		fprintf(stderr, "%s: -m takes a number of MiB, a multiple of 2, 2..%u, not '%s'\n", prog,
			MAX_MEM_MIB, arg);
		return false;
	}
	*mib = v;
	return true;
}

bool run_opt_cpus(const char *prog, const char *arg, uint32_t *cpus)
{
	uint64_t v;

	if (!arg_number(prog, "-c", arg, 1, MAX_CPUS, "vCPUs", &v))
		return false;
	*cpus = (uint32_t)v;
	return true;
}

/* Whether two paths name the same file (or the same string). */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (!strcmp(a, b))
		return true;
	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The kernel's words in s (lib/cmdline.c next_arg: split at whitespace outside double quotes). */
static unsigned int kernel_words(const char *s)
{
	unsigned int n = 0;
	bool quote = false, in_word = false;

	for (; *s; s++) {
		if (!quote && (*s == ' ' || (*s >= '\t' && *s <= '\r'))) {
			in_word = false;
			continue;
		}
		if (!in_word)
			n++;
		in_word = true;
		if (*s == '"')
			quote = !quote;
	}
	return n;
}

/*
 * --kernel with -- COMMAND and/or --attest: the command line is --append's text, then
 * rk.challenge=HEX (--attest), then " -- " and COMMAND's words joined by single spaces
 * (scripts/linux-guest-init.sh runs the text after the first " -- " of /proc/cmdline with
 * sh -c, so the guest's shell interprets it, as ssh's remote shell does). Refused, because
 * they would not arrive as given: control characters (the init reads one line; the kernel
 * splits at any whitespace), empty words (lost in the join), " -- " in --append (the init
 * would run what follows it, rk.challenge= included), an unbalanced double quote in --append
 * (Linux would not see the "--" and would parse COMMAND as its parameters), more than 32 words after "--" (Linux hands them to init as
 * arguments, at most MAX_INIT_ARGS = CONFIG_INIT_ENV_ARG_LIMIT = 32: more panic the kernel),
 * more than RK_FDT_BOOTARGS_MAX - 1 bytes. False with the reason on stderr.
 */
static bool compose_cmdline(const char *prog, struct run_opts *o)
{
	size_t cap = sizeof(o->cmdline), n = 0;
	char *b = o->cmdline;
	bool over = false;

	if (o->bootargs) {
		size_t l = strlen(o->bootargs);
		const char *a = o->bootargs;

		if (!strcmp(a, "--") || !strncmp(a, "-- ", 3) || strstr(a, " -- ") ||
		    (l >= 3 && !strcmp(a + l - 3, " --"))) {
			fprintf(stderr,
				"%s: --append has ' -- ': with -- COMMAND or --attest realmkit writes it (the "
				"guest's /init runs what follows the first one); give the command after --\n",
				prog);
			return false;
		}
		for (l = 0; *a; a++)
			l += *a == '"';
		if (l % 2) {
			fprintf(stderr,
				"%s: --append has an unbalanced double quote: Linux would not see the '--' "
				"before COMMAND, and would take its words as kernel parameters\n",
				prog);
			return false;
		}
	}
	for (int i = 0; i < o->ncommand; i++) {
		const unsigned char *w = (const unsigned char *)o->command[i];

		if (!*w) {
			fprintf(stderr,
				"%s: COMMAND word %d is empty: words are joined with spaces, so it would be "
				"lost (quote it for the guest's shell: '')\n",
				prog, i + 1);
			return false;
		}
		for (; *w; w++)
			if (*w < 0x20 || *w == 0x7f) {
				fprintf(stderr,
					"%s: COMMAND word %d has a control character (0x%02x): the kernel command "
					"line cannot carry it (one line, split at whitespace)\n",
					prog, i + 1, *w);
				return false;
			}
	}
#define CAT(str)                                                                              \
	do {                                                                                  \
		int k_ = snprintf(b + n, n < cap ? cap - n : 0, "%s%s", n ? " " : "", (str)); \
		if (k_ < 0 || (size_t)k_ >= cap - n)                                          \
			over = true;                                                          \
		else                                                                          \
			n += (size_t)k_;                                                      \
	} while (0)
	b[0] = 0;
	if (o->bootargs && *o->bootargs)
		CAT(o->bootargs);
	if (o->attest) {
		char p[sizeof("rk.challenge=") + 2 * CHALLENGE_SIZE];

		memcpy(p, "rk.challenge=", 13);
		for (unsigned int i = 0; i < CHALLENGE_SIZE; i++)
			snprintf(p + 13 + 2 * i, 3, "%02x", o->challenge[i]);
		CAT(p);
	}
	if (o->ncommand) {
		size_t start;

		CAT("--");
		start = n;
		for (int i = 0; i < o->ncommand && !over; i++)
			CAT(o->command[i]);
		if (!over && kernel_words(b + start) > 32) {
			fprintf(stderr,
				"%s: COMMAND is %u words on the kernel command line (split at whitespace "
				"outside double quotes): Linux hands at most 32 to init, more panic it\n",
				prog, kernel_words(b + start));
			return false;
		}
	}
#undef CAT
	if (over) {
		fprintf(stderr,
			"%s: the kernel command line (--append, rk.challenge=, -- COMMAND) would be longer "
			"than %u bytes\n",
			prog, RK_FDT_BOOTARGS_MAX - 1);
		return false;
	}
	o->bootargs = o->cmdline;
	return true;
}

/* 0 parsed, 1 help printed, 2 usage error. */
static int run_parse(int argc, char **argv, const char *prog, struct run_opts *o, bool measure)
{
	enum {
		OPT_TRACE = 256,
		OPT_ATTEST,
		OPT_TOKEN,
		OPT_CPAK,
		OPT_NORMAL,
		OPT_STATE,
		OPT_NO_STDIN,
		OPT_CPAK_OUT,
		OPT_DTB,
		OPT_DTB_OUT,
		OPT_BOOTARGS,
		OPT_KERNEL,
		OPT_INITRD,
		OPT_APPEND
	};
	static const struct option opts[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "hash", required_argument, NULL, 'H' },
		{ "timeout", required_argument, NULL, 't' },
		{ "trace", no_argument, NULL, OPT_TRACE },
		{ "attest", required_argument, NULL, OPT_ATTEST },
		{ "token-out", required_argument, NULL, OPT_TOKEN },
		{ "cpak", required_argument, NULL, OPT_CPAK },
		{ "normal", no_argument, NULL, OPT_NORMAL },
		{ "quiet", no_argument, NULL, 'q' },
		{ "state", no_argument, NULL, OPT_STATE },
		{ "no-stdin", no_argument, NULL, OPT_NO_STDIN },
		{ "cpak-out", required_argument, NULL, OPT_CPAK_OUT },
		{ "dtb", no_argument, NULL, OPT_DTB },
		{ "dtb-out", required_argument, NULL, OPT_DTB_OUT },
		{ "bootargs", required_argument, NULL, OPT_BOOTARGS },
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "append", required_argument, NULL, OPT_APPEND },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *append = NULL, *positional = NULL, *last_optarg = NULL;
	bool dashdash;
	int c;

	memset(o, 0, sizeof(*o));
	o->mem_mib = DEFAULT_MEM_MIB;
	o->cpus = 1;
	o->hash_algo = RMI_HASH_SHA_256;
	optind = 0; /* a full reset of getopt's state: parsers may run more than once (tests/fuzz) */
	/* "-": operands in order (case 1), none permuted; optind ends just after a "--" */
	while ((c = getopt_long(argc, argv, "-m:c:H:t:qvh", opts, NULL)) != -1) {
		if (c != 1 && optarg)
			last_optarg = optarg;
		switch (c) {
		case 1:
			if (positional) {
				usage(stderr, measure);
				return 2;
			}
			positional = optarg;
			break;
		case 'm':
			if (!run_opt_mem(prog, optarg, &o->mem_mib))
				return 2;
			break;
		case 'c':
			if (!run_opt_cpus(prog, optarg, &o->cpus))
				return 2;
			break;
		case 'H':
			if (!run_opt_hash(prog, optarg, &o->hash_algo))
				return 2;
			break;
		case 't':
			if (!arg_seconds(prog, "--timeout", optarg, &o->timeout_s))
				return 2;
			break;
		case OPT_TRACE:
			o->trace = true;
			break;
		case OPT_ATTEST:
			if (arg_hex(optarg, o->challenge, CHALLENGE_SIZE) != CHALLENGE_SIZE) {
				fprintf(stderr,
					"%s: --attest takes the 64-byte challenge in hex (128 digits)\n",
					prog);
				return 2;
			}
			o->attest = true;
			break;
		case OPT_TOKEN:
			o->token_out = optarg;
			break;
		case OPT_CPAK:
			o->cpak = optarg;
			break;
		case OPT_CPAK_OUT:
			o->cpak_out = optarg;
			break;
		case OPT_NORMAL:
			o->normal = true;
			break;
		case OPT_STATE:
			o->state = true;
			break;
		case OPT_NO_STDIN:
			o->no_stdin = true;
			break;
		case OPT_DTB:
			o->dtb = true;
			break;
		case OPT_DTB_OUT:
			o->dtb_out = optarg;
			o->dtb = true;
			break;
		case OPT_BOOTARGS:
		case OPT_APPEND:
			if (strlen(optarg) >= RK_FDT_BOOTARGS_MAX) {
				fprintf(stderr, "%s: --%s takes at most %u bytes, not %zu\n", prog,
					c == OPT_APPEND ? "append" : "bootargs", RK_FDT_BOOTARGS_MAX - 1,
					strlen(optarg));
				return 2;
			}
			if (c == OPT_APPEND)
				append = optarg;
			else
				o->bootargs = optarg;
			break;
		case OPT_KERNEL:
			o->kernel = optarg;
			break;
		case OPT_INITRD:
			o->initrd = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'v':
			o->quiet = false;
			break;
		case 'h':
			usage(stdout, measure);
			return 1;
		default:
			usage(stderr, measure);
			return 2;
		}
	}
	/* a "--" that ended the options (not the value of one, as in --append --) */
	dashdash = optind > 0 && optind <= argc && !strcmp(argv[optind - 1], "--") &&
		   argv[optind - 1] != last_optarg;
	if (dashdash) {
		o->command = argv + optind;
		o->ncommand = argc - optind;
	}
	if (o->kernel && positional) {
		fprintf(stderr, "%s: --kernel %s is the image: give no IMAGE argument ('%s') with it\n", prog,
			o->kernel, positional);
		return 2;
	}
	if (!o->kernel && !positional) {
		usage(stderr, measure);
		return 2;
	}
	if (dashdash && !o->kernel) {
		fprintf(stderr, "%s: -- COMMAND is run by a Linux guest's /init: it needs --kernel\n", prog);
		return 2;
	}
	if (dashdash && !o->ncommand) {
		fprintf(stderr, "%s: -- needs a COMMAND after it\n", prog);
		return 2;
	}
	if (!o->kernel && (o->initrd || append)) {
		fprintf(stderr, "%s: %s is for a Linux kernel: it needs --kernel\n", prog,
			o->initrd ? "--initrd" : "--append");
		return 2;
	}
	if (append && o->bootargs) {
		fprintf(stderr, "%s: --append and --bootargs both give the kernel command line: give one\n",
			prog);
		return 2;
	}
	if (append)
		o->bootargs = append;
	o->image = o->kernel ? o->kernel : positional;
	if (o->kernel && (o->ncommand || o->attest) && !compose_cmdline(prog, o))
		return 2;
	if (o->kernel)
		o->dtb = true; /* the boot protocol: the DTB's address in x0 */
	if (o->bootargs && !o->dtb) {
		fprintf(stderr, "%s: --bootargs goes in the device tree: it needs --dtb (or --dtb-out)\n",
			prog);
		return 2;
	}
	if (o->token_out && !o->attest && !measure) {
		fprintf(stderr, "%s: --token-out needs --attest CHALLENGE\n", prog);
		return 2;
	}
	if (o->normal && (o->attest || o->cpak) && !measure) {
		fprintf(stderr, "%s: a normal VM has no attestation (--attest, --cpak)\n", prog);
		return 2;
	}
	if (o->cpak_out && !measure && (o->normal || (o->cpak && same_file(o->cpak, o->cpak_out)))) {
		fprintf(stderr, "%s: --cpak-out %s\n", prog,
			o->normal ? "with --normal: a normal VM has no attestation"
				  : "would overwrite --cpak's key");
		return 2;
	}
	return 0;
}

/* ---- the construction plan: what `run` builds and `measure` measures ---- */

/* Load o->image (or --kernel) for o->mem_mib of guest RAM: 0, or -errno with "PROG: IMAGE: why" on stderr. */
static int run_load_image(const char *prog, const struct run_opts *o, struct image *img)
{
	char err[IMAGE_ERR_LEN];
	int ret = o->kernel ? kernel_load_file(o->image, RK_GUEST_RAM_BASE, o->mem_mib * MIB, img, err,
					       sizeof(err))
			    : image_load_file(o->image, RK_GUEST_RAM_BASE, o->mem_mib * MIB, img, err,
					      sizeof(err));

	if (ret)
		fprintf(stderr, "%s: %s: %s%s\n", prog, o->image, err,
			ret == -EINVAL && strstr(err, "guest RAM") ? " (see -m)" : "");
	return ret;
}

/*
 * --dtb: the device tree for this run's VM, placed after the image's loads and
 * given to vCPU 0 in x0. 0, or -errno with "PROG: why" on stderr.
 */
static int run_add_dtb(const char *prog, const struct run_opts *o, struct run_plan *p)
{
	uint64_t ram = o->mem_mib * MIB, end = RK_GUEST_RAM_BASE + RK_GUEST_RAM_SIZE;
	struct rk_fdt_config fc;
	char err[256];
	int ret;

	/* the image (and the SDK's .bss and stacks, a kernel's image_size) end below the 2 MiB block the tree goes in */
	for (uint32_t i = 0; i < p->plan.nloads; i++)
		if (p->loads[i].ipa + p->loads[i].len > end)
			end = p->loads[i].ipa + p->loads[i].len;
	if (p->kernel_end > end)
		end = p->kernel_end;
	end = (end + DTB_ALIGN - 1) & ~(DTB_ALIGN - 1);
	p->dtb_ipa = RK_GUEST_RAM_BASE + (ram < DTB_LOWMEM ? ram : DTB_LOWMEM) - DTB_ALIGN;
	if (p->dtb_ipa < end) {
		uint64_t need = end - RK_GUEST_RAM_BASE + DTB_ALIGN;

		if (need > DTB_LOWMEM)
			fprintf(stderr,
				"%s: --dtb: no room for the device tree: the image fills guest RAM up to 0x%" PRIx64
				", and the tree must go below 0x%" PRIx64 " (256 MiB)\n",
				prog, end, (uint64_t)(RK_GUEST_RAM_BASE + DTB_LOWMEM));
		else
			fprintf(stderr,
				"%s: --dtb: no room for the device tree in %" PRIu64
				" MiB of RAM: it goes in the last 2 MiB (0x%" PRIx64
				"), and the image needs RAM up to "
				"0x%" PRIx64 ": give -m %" PRIu64 " or more\n",
				prog, o->mem_mib, p->dtb_ipa, end, need / MIB);
		return -ENOSPC;
	}
	if (o->initrd) {
		/* after the kernel's image_size region, not in the tree's 2 MiB block */
		ret = kernel_read_initrd(o->initrd, ram, &p->initrd, &p->initrd_len, err, sizeof(err));
		if (!ret)
			ret = kernel_place_initrd(RK_GUEST_RAM_BASE, ram, p->kernel_end, p->dtb_ipa,
						  DTB_ALIGN, p->initrd_len, &p->initrd_ipa, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "%s: --initrd %s: %s%s\n", prog, o->initrd, err,
				ret == -ENOSPC || strstr(err, "guest RAM") ? " (see -m)" : "");
			return ret;
		}
	}
	rk_fdt_config_default(&fc, o->normal ? RK_VM_NORMAL : RK_VM_REALM, o->cpus, ram);
	fc.ipa_bits = p->plan.config.ipa_bits;
	fc.bootargs = o->bootargs;
	if (p->initrd) {
		fc.initrd_start = p->initrd_ipa;
		fc.initrd_end = p->initrd_ipa + p->initrd_len;
	}
	ret = rk_fdt_build(&fc, NULL, 0, &p->dtb_len, err, sizeof(err)); /* its size */
	if (ret == -ENOSPC) {
		p->dtb = malloc(p->dtb_len);
		ret = p->dtb ? rk_fdt_build(&fc, p->dtb, p->dtb_len, &p->dtb_len, err, sizeof(err)) : -ENOMEM;
	}
	if (ret) {
		fprintf(stderr, "%s: cannot build the device tree: %s\n", prog,
			ret == -EINVAL ? err : strerror(-ret));
		return ret;
	}
	if (p->initrd) /* measured, like the kernel and the tree: the RIM covers all three */
		p->loads[p->plan.nloads++] = (struct rk_plan_load){ p->initrd_ipa, p->initrd, p->initrd_len,
								    RK_POPULATE_MEASURE, 0 };
	p->loads[p->plan.nloads++] =
		(struct rk_plan_load){ p->dtb_ipa, p->dtb, p->dtb_len, RK_POPULATE_MEASURE, 0 };
	/* booting.rst: x0 = the DTB's address, x1..x3 = 0 (measured: RmiRecParams.gprs) */
	p->vcpus[0].gprs[0] = p->dtb_ipa;
	return 0;
}

/* The plan for o and img: 0, or -errno with "PROG: why" on stderr. */
static int run_make_plan(const char *prog, const struct run_opts *o, const struct image *img,
			 struct run_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->vcpus = calloc(o->cpus, sizeof(*p->vcpus));
	if (!p->vcpus) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return -ENOMEM;
	}
	rk_vm_config_default(&p->plan.config, o->normal ? RK_VM_NORMAL : RK_VM_REALM);
	p->plan.config.ipa_bits = RK_GUEST_S2SZ;
	if (!o->normal) {
		p->plan.config.hash_algo = o->hash_algo;
		p->plan.config.num_bps = PLAN_NUM_BPS;
		p->plan.config.num_wps = PLAN_NUM_WPS;
	}
	p->slots[0] = (struct rk_plan_memslot){ RK_GUEST_RAM_BASE, o->mem_mib * MIB, 0, 0 };
	p->slots[1] = (struct rk_plan_memslot){ SHARED_IPA, SHARED_SIZE, RK_MEMSLOT_SHARED, 0 };
	p->plan.memslots = p->slots;
	p->plan.nmemslots = o->normal ? 1 : 2;
	for (uint32_t i = 0; i < img->nloads; i++)
		p->loads[i] = (struct rk_plan_load){ img->loads[i].addr, img->loads[i].data,
						     img->loads[i].len, RK_POPULATE_MEASURE, 0 };
	p->plan.loads = p->loads;
	p->plan.nloads = img->nloads;
	if (img->format == IMAGE_LINUX) /* booting.rst: image_size bytes from the Image are the kernel's */
		p->kernel_end = img->loads[0].addr + img->reserve;
	/* vCPU 0 runnable at the entry point; the guest starts the others (PSCI CPU_ON) */
	p->vcpus[0].pc = img->entry;
	p->vcpus[0].flags = RK_VCPU_RUNNABLE;
	p->plan.vcpus = p->vcpus;
	p->plan.nvcpus = o->cpus;
	return o->dtb ? run_add_dtb(prog, o, p) : 0;
}

/* --dtb-out FILE: the device tree as the guest gets it. 0, or 2 (the reason on stderr). */
static int run_write_dtb(const char *prog, const struct run_opts *o, const struct run_plan *p)
{
	FILE *f = fopen(o->dtb_out, "wb");
	int ret = !f || fwrite(p->dtb, 1, p->dtb_len, f) != p->dtb_len ? -errno : 0;

	if (f && fclose(f) && !ret)
		ret = -errno;
	if (ret) {
		fprintf(stderr, "%s: --dtb-out %s: %s\n", prog, o->dtb_out, strerror(ret ? -ret : EIO));
		return 2;
	}
	if (!o->quiet)
		fprintf(stderr, "%s: device tree (%zu bytes) written to %s\n", prog, p->dtb_len, o->dtb_out);
	return 0;
}

static void run_free(struct image *img, struct run_plan *p)
{
	image_free(img);
	if (p) {
		free(p->vcpus);
		free(p->dtb);
		image_buf_free(p->initrd, p->initrd_len);
	}
}

/* run_plan.h */
struct run_setup {
	struct run_opts o;
	struct image img;
	struct run_plan p;
};

int run_setup_open_argv(const char *prog, int argc, char **argv, struct run_setup **out)
{
	struct run_setup *s = calloc(1, sizeof(*s));
	int ret;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	ret = run_parse(argc, argv, prog, &s->o, false);
	if (!ret)
		ret = run_load_image(prog, &s->o, &s->img);
	if (ret) {
		free(s);
		return ret;
	}
	ret = run_make_plan(prog, &s->o, &s->img, &s->p);
	if (ret) {
		run_free(&s->img, &s->p);
		free(s);
		return ret;
	}
	*out = s;
	return 0;
}

bool run_setup_is_kernel(const struct run_setup *s)
{
	return s->img.format == IMAGE_LINUX;
}

const struct rk_vm_plan *run_setup_plan(const struct run_setup *s)
{
	return &s->p.plan;
}

bool run_setup_reports(const struct run_setup *s)
{
	return s->img.reports;
}

void run_setup_close(struct run_setup *s)
{
	if (!s)
		return;
	run_free(&s->img, &s->p);
	free(s);
}

/* cli.h */
int parse_run(int argc, char **argv)
{
	struct run_opts o;
	int ret = run_parse(argc, argv, "realmkit run", &o, false);

	return ret == 1 ? 0 : ret;
}

int parse_measure(int argc, char **argv)
{
	struct run_opts o;
	int ret = run_parse(argc, argv, "realmkit measure", &o, true);

	return ret == 1 ? 0 : ret;
}

/* run_plan.h */
int run_plan_rim(int argc, char **argv, const char *prog, uint8_t rim[64], size_t *len, char *desc,
		 size_t desc_len)
{
	struct run_opts o;
	struct image img;
	struct run_plan p;
	uint64_t pages = 0;
	int ret = run_parse(argc, argv, prog, &o, true);

	if (ret)
		return ret;
	if (o.normal) {
		fprintf(stderr, "%s: a normal VM has no RIM (--normal)\n", prog);
		return 2;
	}
	ret = run_load_image(prog, &o, &img);
	if (ret)
		return ret;
	ret = run_make_plan(prog, &o, &img, &p);
	if (ret) {
		run_free(&img, &p);
		return ret;
	}
	o.quiet = true; /* measure prints the RIM; -v the plan, which names the file */
	if (o.dtb_out && (ret = run_write_dtb(prog, &o, &p))) {
		run_free(&img, &p);
		return ret;
	}
	ret = rk_plan_rim(&p.plan, 0, rim, len);
	for (uint32_t i = 0; i < img.nloads; i++)
		pages += (img.loads[i].len + RK_GRANULE_SIZE - 1) / RK_GRANULE_SIZE;
	if (ret) {
		fprintf(stderr, "%s: cannot measure %s: %s\n", prog, o.image, strerror(-ret));
	} else {
		int n = snprintf(
			desc, desc_len,
			"%s: %s %s, %u-bit IPA, %u/%u breakpoints/watchpoints (RmiRealmParams), image 0x%" PRIx64
			"+0x%" PRIx64 " measured (%" PRIu64 " pages), vCPU 0 runnable at 0x%" PRIx64
			" (%u vCPU%s)",
			o.image, image_format_name(img.format), rk_hash_name(o.hash_algo),
			p.plan.config.ipa_bits, p.plan.config.num_bps, p.plan.config.num_wps,
			img.loads[0].addr, img.loads[0].len, pages, img.entry, o.cpus, o.cpus > 1 ? "s" : "");
		if (img.format == IMAGE_LINUX && n > 0 && (size_t)n < desc_len)
			n += snprintf(desc + n, desc_len - (size_t)n,
				      ", %s kernel, image_size 0x%" PRIx64 " reserved",
				      kernel_compression_name(img.compression), img.reserve);
		if (p.initrd && n > 0 && (size_t)n < desc_len)
			n += snprintf(desc + n, desc_len - (size_t)n,
				      ", initrd 0x%" PRIx64 "+0x%" PRIx64 " measured", p.initrd_ipa,
				      p.initrd_len);
		if (p.dtb && n > 0 && (size_t)n < desc_len)
			snprintf(desc + n, desc_len - (size_t)n,
				 ", device tree 0x%" PRIx64 "+0x%zx measured, x0 = 0x%" PRIx64 "%s%s",
				 p.dtb_ipa, p.dtb_len, p.dtb_ipa, o.dtb_out ? ", written to " : "",
				 o.dtb_out ? o.dtb_out : "");
	}
	run_free(&img, &p);
	return ret;
}

/* ---- the run ---- */

struct run_ctx {
	const struct run_opts *o;
	struct rk_host *h;
	uint8_t *token;
	uint64_t token_len;
	uint64_t progress, checksum;
	uint64_t result_id, result_value;
	uint32_t token_status;
	bool result_seen, result_pass, token_seen;
	bool console_nl;        /* the console's last byte was a newline */
	uint64_t unknown_hc;    /* unknown host calls (the first RUN_MSG_LIMIT are reported) */
	uint64_t unmap_refused; /* RK_HC_UNMAP refused (the first RUN_MSG_LIMIT are reported) */
	struct console_in *cin; /* stdin for the console; NULL with --no-stdin */
	bool kernel;            /* --kernel: the console goes through kc (kconsole.h) */
	struct kcon kc;
};

static double now_ms(void);

/* Per-event messages (one per guest action) are printed this many times, then counted. */
#define RUN_MSG_LIMIT 10u

static void console_write(void *arg, const char *buf, size_t len)
{
	struct run_ctx *c = arg;

	fwrite(buf, 1, len, stdout);
	fflush(stdout);
	if (len)
		c->console_nl = buf[len - 1] == '\n';
}

/* A Linux guest's marker lines (its command's status, a token) are read on the way. */
static void console_out(void *arg, const char *buf, size_t len)
{
	struct run_ctx *c = arg;

	if (c->kernel)
		kcon_feed(&c->kc, buf, len, now_ms());
	else
		console_write(arg, buf, len);
}

static void console_rx_ready(void *arg)
{
	struct run_ctx *c = arg;

	console_in_rx_ready(c->cin);
}

/* "hello", ... (guest/README.md) or "result 0x..." */
static const char *example_name(uint64_t id, char buf[32])
{
	static const char *const names[] = { NULL,     "hello",  "smp",          "ripas", "abort",
					     "stress", "attest", "ripas_toggle", "mmu",   "user",
					     "unmap",  "echo",   "timer",        "ipi" };

	if (id < sizeof(names) / sizeof(names[0]) && names[id])
		return names[id];
	snprintf(buf, 32, "result id 0x%" PRIx64, id);
	return buf;
}

/*
 * RK_HC_UNMAP: take a page away from the running realm through the host
 * library (rk_vm_unmap: RMI_RTT_DATA_UNMAP or RMI_RTT_UNPROT_UNMAP); for an
 * unprotected page, then write value into the host memory behind it. 1 done,
 * 2 refused.
 */
static uint64_t unmap_page(struct run_ctx *c, struct rk_vm *vm, uint64_t ipa, uint64_t value)
{
	bool unprot = ipa >> (RK_GUEST_S2SZ - 1);
	const char *why = NULL;

	/* a page of guest RAM or of the shared buffer */
	if (ipa & (RK_GRANULE_SIZE - 1) ||
	    (unprot ? ipa < SHARED_IPA || ipa - SHARED_IPA >= SHARED_SIZE
		    : ipa < RK_GUEST_RAM_BASE || ipa - RK_GUEST_RAM_BASE >= c->o->mem_mib * MIB))
		why = "not a page of guest RAM or of the shared buffer";
	else if (rk_vm_unmap(vm, ipa, RK_GRANULE_SIZE) ||
		 (unprot && rk_vm_write_mem(vm, ipa, &value, sizeof(value))))
		why = rk_host_last_error(c->h)->msg;
	if (why) {
		if (!c->o->quiet && c->unmap_refused++ < RUN_MSG_LIMIT)
			fprintf(stderr, "realmkit run: RK_HC_UNMAP of IPA 0x%" PRIx64 " refused: %s\n", ipa,
				why);
		return 2;
	}
	return 1;
}

/* The host calls of guest/README.md. */
static int host_call(void *arg, struct rk_vm *vm, uint32_t vcpu, uint32_t imm, uint64_t g[31])
{
	struct run_ctx *c = arg;
	uint64_t in[3] = { g[0], g[1], g[2] };

	(void)vcpu;
	memset(g, 0, 31 * sizeof(uint64_t));
	switch (imm) {
	case RK_HC_CPU_COUNT:
		g[0] = c->o->cpus;
		break;
	case RK_HC_PROGRESS:
		c->progress = in[0];
		c->checksum = in[1];
		break;
	case RK_HC_STRESS_CONFIG:
		break; /* the example's defaults */
	case RK_HC_CHALLENGE:
		for (unsigned int i = 0; i < CHALLENGE_SIZE; i++)
			g[i / 8] |= (uint64_t)c->o->challenge[i] << (8 * (i % 8));
		break;
	case RK_HC_SHARED_BUF:
		g[0] = SHARED_IPA;
		g[1] = SHARED_SIZE;
		break;
	case RK_HC_TOKEN_READY:
		c->token_seen = true;
		c->token_status = (uint32_t)in[2];
		if (in[2] || !in[0])
			break;
		if (in[0] > SHARED_SIZE || in[1] < SHARED_IPA || in[1] - SHARED_IPA > SHARED_SIZE - in[0]) {
			c->token_status = RK_GUEST_ERR_TOO_BIG;
			break;
		}
		free(c->token);
		c->token = malloc(in[0]);
		if (!c->token || rk_vm_read_mem(vm, in[1], c->token, in[0])) {
			c->token_status = (uint32_t)-1;
			break;
		}
		c->token_len = in[0];
		break;
	case RK_HC_RESULT:
		c->result_seen = true;
		c->result_id = in[0];
		c->result_pass = in[1] == 0;
		c->result_value = in[2];
		break;
	case RK_HC_ITERATIONS:
		break; /* zero: the example's default */
	case RK_HC_UNMAP:
		g[0] = unmap_page(c, vm, in[0], in[1]);
		break;
	case RK_HC_FAULTS: {
		struct rk_vm_run_info info;

		rk_vm_get_run_info(vm, &info);
		g[0] = info.s2_faults;
		g[1] = info.shared_faults;
		break;
	}
	default:
		if (!c->o->quiet && c->unknown_hc++ < RUN_MSG_LIMIT)
			fprintf(stderr, "realmkit run: unknown host call 0x%x: answered with zeros\n", imm);
		break;
	}
	return 0;
}

static volatile sig_atomic_t interrupted;

struct sig_waiter {
	struct rk_vm *vm;
	sigset_t set;
	bool done;
};

/* SIGINT/SIGTERM stop the realm cleanly (it is then torn down); SIGUSR1 ends this thread. */
static void *sig_main(void *arg)
{
	struct sig_waiter *w = arg;

	for (;;) {
		int sig = 0;
		if (sigwait(&w->set, &sig))
			continue;
		if (sig == SIGUSR1)
			return NULL;
		interrupted = 1;
		rk_vm_stop(w->vm);
	}
}

static void print_hex(FILE *f, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", b[i]);
}

/*
 * --token-out FILE: opened before the realm is built, so that a path that cannot
 * be written is named before anything runs. An existing file is truncated only
 * when a token is written to it; a file realmkit created is removed again if no
 * token is written.
 */
struct token_out {
	const char *path;
	int fd;
	bool created;
};

static int token_out_open(const char *prog, const char *path, struct token_out *t)
{
	t->path = path;
	t->created = false;
	t->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (t->fd >= 0)
		t->created = true;
	else if (errno == EEXIST)
		t->fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		fprintf(stderr, "%s: --token-out %s: %s\n", prog, path, strerror(errno));
		return 2;
	}
	return 0;
}

/* --cpak-out: the public key of the CPAK the machine signs its platform tokens with. */
static int write_cpak(const char *prog, struct rk_machine *m, const char *path, bool quiet)
{
	const struct rk_attest_key *cpak = rk_machine_cpak(m);
	char *pem = NULL;
	size_t len = 0;
	FILE *f;
	int ret;

	if (!cpak) {
		fprintf(stderr,
			"%s: --cpak-out: the machine has no CPAK (the key could not be loaded or made)\n",
			prog);
		return 1;
	}
	ret = rk_attest_key_public_pem(cpak, &pem, &len);
	if (ret) {
		fprintf(stderr, "%s: --cpak-out: cannot encode the CPAK: %s\n", prog, strerror(-ret));
		return 1;
	}
	f = fopen(path, "w");
	ret = !f || fwrite(pem, 1, len, f) != len ? -errno : 0;
	if (f && fclose(f) && !ret)
		ret = -errno;
	free(pem);
	if (ret) {
		fprintf(stderr, "%s: cannot write the CPAK to %s: %s\n", prog, path, strerror(-ret));
		return 1;
	}
	if (!quiet)
		fprintf(stderr, "%s: CPAK public key written to %s\n", prog, path);
	return 0;
}

/* 0 written, 1 not (the reason on stderr). */
static int token_out_write(const char *prog, struct token_out *t, const uint8_t *buf, uint64_t len)
{
	struct stat st;
	int fd = t->fd;

	t->fd = -1;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && ftruncate(fd, 0))
		goto fail;
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!n)
				errno = EIO;
			goto fail;
		}
		buf += n;
		len -= (uint64_t)n;
	}
	if (close(fd)) {
		fd = -1;
		goto fail;
	}
	t->created = false; /* keep it */
	return 0;
fail:
	fprintf(stderr, "%s: cannot write the token to %s: %s\n", prog, t->path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return 1;
}

/* Close it if still open; remove it if realmkit created it and wrote no token. */
static void token_out_close(struct token_out *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->created)
		unlink(t->path);
	t->created = false;
}

/* --cpak KEY.pem: read and parsed before the machine is built (which reads it again). 0 or 2. */
static int check_cpak(const char *prog, const char *path)
{
	struct rk_attest_key *k = NULL;
	int ret = rk_attest_key_load_pem(path, &k);

	if (ret) {
		fprintf(stderr, "%s: --cpak %s: %s\n", prog, path,
			ret == -EINVAL    ? "no EC key in PEM form"
			: ret == -ENOTSUP ? "not a P-256, P-384 or P-521 EC key"
			: ret == -EFBIG   ? "too large for a PEM key"
					  : strerror(-ret));
		return 2;
	}
	ret = rk_attest_key_has_private(k) ? 0 : 2;
	if (ret)
		fprintf(stderr,
			"%s: --cpak %s: a public key: the machine needs the private CPAK to sign its platform "
			"token\n",
			prog, path);
	rk_attest_key_free(k);
	return ret;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* --state: the VM's stage 2 and the machine's granules by state and role, before teardown. */
static void print_state(struct rk_machine *m, struct rk_host *h, struct rk_vm *vm)
{
	uint64_t count[RK_GRANULE_RESERVED + 1][RK_ROLE_COUNT], total = 0;

	memset(count, 0, sizeof(count));
	fprintf(stderr, "realmkit run: state before teardown: %s %u is %s\n",
		rk_vm_get_kind(vm) == RK_VM_REALM ? "realm" : "normal VM", rk_vm_id(vm),
		rk_vm_state_name(rk_vm_get_state(vm)));
	(void)rk_vm_s2_print(vm, stderr);
	for (unsigned int b = 0; b < rk_machine_nbanks(m); b++) {
		struct rk_dram_bank bank = rk_machine_bank(m, b);

		for (uint64_t pa = bank.base; pa < bank.base + bank.size; pa += RK_GRANULE_SIZE) {
			struct rk_granule_info gi;

			if (rk_host_granule_info(h, pa, &gi) || gi.state > RK_GRANULE_RESERVED ||
			    gi.role >= RK_ROLE_COUNT)
				continue;
			count[gi.state][gi.role]++;
			total++;
		}
	}
	fprintf(stderr, "granules of the machine (%" PRIu64 "), by the host's ledger:\n", total);
	for (unsigned int st = 0; st <= RK_GRANULE_RESERVED; st++)
		for (unsigned int r = 0; r < RK_ROLE_COUNT; r++)
			if (count[st][r])
				fprintf(stderr, "  %-10s %-10s %8" PRIu64 "\n", rk_granule_state_name(st),
					r ? rk_granule_role_name(r) : "-", count[st][r]);
}

int cmd_run(int argc, char **argv)
{
	static const char *const prog = "realmkit run";
	struct run_opts o;
	struct image img;
	struct run_plan plan;
	struct run_ctx ctx;
	struct token_out tok = { NULL, -1, false };
	struct rk_machine_config mcfg;
	struct rk_machine *m = NULL;
	struct rk_host *h = NULL;
	struct rk_vm *vm = NULL;
	struct rk_vm_run_info info;
	struct sig_waiter sw;
	struct console_in *cin = NULL;
	pthread_t sig_thread;
	bool sig_started = false;
	uint8_t rim[RK_MEASUREMENT_MAX];
	size_t rim_len = 0;
	double t0;
	int ret, status = 1;

	ret = run_parse(argc, argv, prog, &o, false);
	if (ret)
		return ret == 1 ? 0 : 2;
	/* every argument is checked before anything is built */
	if (o.cpak && (ret = check_cpak(prog, o.cpak)))
		return ret;
	if (run_load_image(prog, &o, &img))
		return 1;
	if (run_make_plan(prog, &o, &img, &plan)) {
		run_free(&img, &plan);
		return 1;
	}
	if (o.dtb_out && (ret = run_write_dtb(prog, &o, &plan))) {
		run_free(&img, &plan);
		return ret;
	}
	if (o.token_out && (ret = token_out_open(prog, o.token_out, &tok))) {
		run_free(&img, &plan);
		return ret;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.o = &o;
	ctx.console_nl = true;
	ctx.kernel = img.format == IMAGE_LINUX;
	kcon_init(&ctx.kc, console_write, &ctx);
	t0 = now_ms();

	rk_machine_config_default(&mcfg);
	mcfg.dram_size = o.mem_mib * MIB + 64 * MIB; /* guest RAM, then RTTs, RECs, host pages */
	mcfg.cpak_pem = o.cpak;
	if ((ret = rk_machine_create(&mcfg, &m))) {
		fprintf(stderr, "%s: cannot create the machine: %s\n", prog, strerror(-ret));
		goto out;
	}
	if (o.trace)
		rk_machine_set_rsi_log(m, stderr);
	if (o.cpak_out && write_cpak(prog, m, o.cpak_out, o.quiet))
		goto out;
	if ((ret = rk_host_create(m, NULL, &h))) {
		fprintf(stderr, "%s: cannot create the host: %s\n", prog, strerror(-ret));
		goto out;
	}
	if (o.trace)
		rk_host_set_trace(h, stderr);
	ctx.h = h;
	ret = rk_vm_create_from_plan(h, &plan.plan, &vm);
	if (!ret && !o.no_stdin && (ret = console_in_create(prog, STDIN_FILENO, &cin))) {
		fprintf(stderr, "%s: cannot set up the console input: %s\n", prog, strerror(-ret));
		goto out;
	}
	if (!ret) {
		/* the UART's interrupt line is not wired yet: the guest polls */
		const struct rk_uart_config ucfg = { .out = console_out,
						     .rx_ready = cin ? console_rx_ready : NULL,
						     .arg = &ctx };
		ctx.cin = cin;
		ret = rk_vm_add_pl011(vm, RK_GUEST_UART_IPA, &ucfg);
	}
	if (ret) {
		fprintf(stderr, "%s: cannot build the %s: %s\n", prog, o.normal ? "VM" : "realm",
			rk_host_last_error(h)->msg);
		goto out;
	}
	rk_vm_set_host_call_handler(vm, host_call, &ctx);
	rk_vm_set_run_log(vm, stderr);
	if ((ret = rk_vm_activate(vm))) {
		fprintf(stderr, "%s: cannot activate the %s: %s\n", prog, o.normal ? "VM" : "realm",
			rk_host_last_error(h)->msg);
		goto out;
	}
	if (!o.normal) {
		/* the host's prediction (from what it asked the RMM to do) must be what `measure` says */
		uint8_t plan_rim[RK_MEASUREMENT_MAX] = { 0 };
		if (rk_vm_rim(vm, rim, &rim_len) || rk_plan_rim(&plan.plan, 0, plan_rim, NULL) ||
		    memcmp(rim, plan_rim, rim_len)) {
			fprintf(stderr,
				"%s: the host's RIM prediction differs from the plan's (a host bug)\n", prog);
			goto out;
		}
		if (!o.quiet) {
			fprintf(stderr, "realmkit: realm %s, %u vCPU%s, %" PRIu64 " MiB, %s RIM ", o.image,
				o.cpus, o.cpus > 1 ? "s" : "", o.mem_mib, rk_hash_name(o.hash_algo));
			print_hex(stderr, rim, rim_len);
			fprintf(stderr, "\n");
		}
	}
	if (img.format == IMAGE_LINUX && !o.quiet) {
		fprintf(stderr,
			"%s: kernel: %s Image, 0x%" PRIx64 " bytes at 0x%" PRIx64 ", image_size 0x%" PRIx64,
			prog, kernel_compression_name(img.compression), img.loads[0].len, img.loads[0].addr,
			img.reserve);
		if (plan.initrd)
			fprintf(stderr, "; initrd: 0x%" PRIx64 " bytes at 0x%" PRIx64, plan.initrd_len,
				plan.initrd_ipa);
		fprintf(stderr, "\n");
	}
	if (plan.dtb && !o.quiet)
		fprintf(stderr, "%s: device tree: %zu bytes at 0x%" PRIx64 "%s, x0 of vCPU 0\n", prog,
			plan.dtb_len, plan.dtb_ipa, o.normal ? "" : ", measured");

	/* signals: stop the realm and tear it down rather than die with it */
	memset(&sw, 0, sizeof(sw));
	sw.vm = vm;
	sigemptyset(&sw.set);
	sigaddset(&sw.set, SIGINT);
	sigaddset(&sw.set, SIGTERM);
	sigaddset(&sw.set, SIGHUP);
	sigaddset(&sw.set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sw.set, NULL);
	sig_started = !pthread_create(&sig_thread, NULL, sig_main, &sw);

	if (cin && (ret = console_in_start(cin, vm, RK_GUEST_UART_IPA))) {
		fprintf(stderr, "%s: cannot start the console input: %s\n", prog, strerror(-ret));
		goto out;
	}
	ret = rk_vm_run(vm, (uint64_t)(o.timeout_s * 1000));
	console_in_stop(cin); /* the terminal is itself again before anything more is printed */
	rk_vm_get_run_info(vm, &info);
	kcon_finish(&ctx.kc);
	if (!ctx.console_nl)
		fputc('\n', stdout); /* the console's last line had no end */
	fflush(stdout);
	if (!o.quiet && ctx.unknown_hc > RUN_MSG_LIMIT)
		fprintf(stderr, "%s: ... %" PRIu64 " more 'unknown host call' messages suppressed\n", prog,
			ctx.unknown_hc - RUN_MSG_LIMIT);

	/* the verdict */
	if (console_in_quit(cin)) {
		fprintf(stderr, "%s: quit (Ctrl-A x): the %s was stopped\n", prog, o.normal ? "VM" : "realm");
		status = 130;
	} else if (interrupted) {
		fprintf(stderr, "%s: interrupted: the realm was stopped\n", prog);
		status = 130;
	} else if (info.reason == RK_STOP_TIMEOUT) {
		fprintf(stderr,
			"%s: timed out after %g s: the guest was still running (%" PRIu64
			" vCPU entries, no SYSTEM_OFF); stopped\n",
			prog, o.timeout_s, info.entries);
	} else if (info.reason == RK_STOP_ERROR || (ret && ret != -EINTR)) {
		fprintf(stderr, "%s: the %s stopped on an error: %s\n", prog, o.normal ? "VM" : "realm",
			info.reason == RK_STOP_ERROR ? info.msg : rk_host_last_error(h)->msg);
	} else if (ctx.result_seen) {
		char nb[32];
		if (ctx.result_pass) {
			status = 0;
			if (!o.quiet)
				fprintf(stderr, "%s: %s: PASS (value 0x%" PRIx64 "), then %s\n", prog,
					example_name(ctx.result_id, nb), ctx.result_value, info.msg);
		} else {
			fprintf(stderr, "%s: the guest reported FAIL (%s, value 0x%" PRIx64 ")\n", prog,
				example_name(ctx.result_id, nb), ctx.result_value);
		}
	} else if (ctx.kernel && ctx.kc.status >= 0) {
		/* the kit's /init: the command's (or shell's) status */
		status = ctx.kc.status;
		if (!o.quiet)
			fprintf(stderr, "%s: the guest's command exited with status %d, then %s\n", prog,
				status, info.msg);
	} else if (ctx.kernel && o.ncommand) {
		fprintf(stderr,
			"%s: the guest ended (%s) without reporting COMMAND's exit status (no 'RK-GUEST: exit N' "
			"line on its console: a kernel panic, or an init that is not the kit's)\n",
			prog, info.msg);
	} else if (img.reports) {
		fprintf(stderr,
			"%s: the guest switched itself off (%s) without reporting a result: "
			"it stopped on an error (see its console output above)\n",
			prog, info.msg);
	} else {
		status = 0;
		if (!o.quiet)
			fprintf(stderr, "%s: %s\n", prog, info.msg);
	}
	if (ctx.kernel && o.ncommand && ctx.kc.status < 0 && status == 1 &&
	    info.reason != RK_STOP_SYSTEM_OFF && info.reason != RK_STOP_SYSTEM_RESET)
		fprintf(stderr, "%s: no 'RK-GUEST: exit N' line came: COMMAND's exit status is unknown\n",
			prog);
	if (ctx.kernel && o.token_out && status != 130 && info.reason == RK_STOP_SYSTEM_OFF) {
		/* a Linux guest's token: its console's token lines, whatever the command's status */
		int st = 1;

		if (ctx.kc.token_state == KCON_TOKEN_DONE) {
			st = token_out_write(prog, &tok, ctx.kc.token, ctx.kc.token_len);
			if (!st && !o.quiet)
				fprintf(stderr, "%s: attestation token: %zu bytes written to %s\n", prog,
					ctx.kc.token_len, o.token_out);
		} else if (ctx.kc.token_state == KCON_TOKEN_NONE) {
			fprintf(stderr,
				"%s: --token-out: the guest printed no token ('RK-GUEST: token' lines: the kit's "
				"/init with rk.challenge= on the command line)\n",
				prog);
		} else {
			fprintf(stderr, "%s: --token-out: %s\n", prog, ctx.kc.token_err);
		}
		if (st && !status)
			status = 1;
	} else if (ctx.kernel && o.token_out) {
		if (!status)
			status = 1;
	} else if (ctx.token_seen && !status) {
		if (ctx.token_status || !ctx.token) {
			fprintf(stderr,
				"%s: the realm could not hand over its attestation token (status 0x%x)\n",
				prog, ctx.token_status);
			status = 1;
		} else if (o.token_out) {
			status = token_out_write(prog, &tok, ctx.token, ctx.token_len);
			if (!status && !o.quiet)
				fprintf(stderr, "%s: attestation token: %" PRIu64 " bytes written to %s\n",
					prog, ctx.token_len, o.token_out);
		}
	} else if (o.token_out && !status) {
		fprintf(stderr, "%s: --token-out: the guest handed over no attestation token\n", prog);
		status = 1;
	}

	if (o.state)
		print_state(m, h, vm);
	/* teardown: every granule must come back */
	ret = rk_vm_destroy(vm);
	if (ret) {
		fprintf(stderr, "%s: teardown failed: %s\n", prog, rk_host_last_error(h)->msg);
		rk_host_print_leaks(h, stderr);
		status = 1;
	} else if (!o.quiet) {
		fprintf(stderr,
			"%s: %" PRIu64 " entries, %" PRIu64 " MMIO, %" PRIu64 " host calls, %" PRIu64
			" PSCI, %" PRIu64 " stage-2 faults; torn down, nothing leaked; %.1f ms\n",
			prog, info.entries, info.mmio, info.host_calls, info.psci,
			info.s2_faults + info.shared_faults, now_ms() - t0);
	}
out:
	if (sig_started) {
		pthread_kill(sig_thread, SIGUSR1);
		pthread_join(sig_thread, NULL);
	}
	console_in_free(cin);
	rk_vm_free(vm);
	rk_host_destroy(h);
	rk_machine_destroy(m);
	free(ctx.token);
	kcon_free(&ctx.kc);
	token_out_close(&tok);
	run_free(&img, &plan);
	return status;
}
