/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: a realm vCPU making RSI, PSCI and SMCCC calls (and the
 * host's RMI FIDs, and garbage) whose registers come from the input, run by
 * the host library (as tests/host/test_host_rsi_fuzz.c, with the input in
 * place of the PRNG).
 *
 * One machine, one host and one realm per process: the realm runs an "RPC"
 * loop (RSI_HOST_CALL; X0..X7 = what the host put in the call's registers;
 * SMC; X0, X1 back into the host-call structure), and the host-call handler
 * feeds it the input's calls one by one and collects the results; after the
 * last one it stops the vCPU (rk_vm_stop) until the next input. Every
 * RK_FUZZ_RSI_RECYCLE inputs (default 64; 1 = a fresh realm per input, for
 * reproducing a crash that needs no history) and at exit the realm is
 * destroyed and a new one built. Checks, aborting so that libFuzzer reports
 * the input:
 *  - every X0 the realm got back is a status its function can return;
 *  - the vCPU gets through every call (it does not fail, switch off or
 *    stay away for 10 s: then the realm's stage 2 is printed);
 *  - at each teardown the host reports nothing leaked, no ledger error, no
 *    shadow mismatch, and every granule is NS and UNDELEGATED.
 *
 * Input: per call a byte choosing the kind of function (RSI, PSCI SMC32 or
 * SMC64, SMCCC, the host's RMI FIDs, raw; whether to set the SVE hint or the
 * upper half of X0) and one choosing the function, then for each of X1..X7
 * one byte choosing the kind of value (scratch IPA, aligned or not; small
 * number; a limit; raw 8 bytes from the input). At most 64 calls per input.
 * CPU_OFF, SYSTEM_OFF and SYSTEM_RESET would end the run: PSCI_VERSION
 * replaces them. An argument in the program's page is moved to the scratch
 * area (RSI_REALM_CONFIG, ATTEST_TOKEN_CONTINUE or a host call there would
 * write over the program). The host accepts a RIPAS change only inside the
 * scratch area (the program's own pages stay RAM).
 *
 * RK_FUZZ_SEED_DIR=dir: write the seed inputs to dir and exit (run.sh).
 * RK_FUZZ_TRACE=1: print every call (X0..X4) and what it returned (X0, X1),
 * the host's trace of the realm's exits and the RMM's log of realm calls.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "realmkit/guest_abi.h"
#include "realmkit/abi_gen.h"
#include "realmkit/arch/psci.h"
#include "realmkit/host.h"
#include "a64.h"
#include "rk_smc_table.h"
#include "fuzz_input.h"
#include "rk_test.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MIB (1ULL << 20)
#define RAM RK_GUEST_RAM_BASE
#define RAM_SIZE (2 * MIB)
#define HC_IPA (RAM + 0x1000ULL) /* the RsiHostCall structure: imm, then gprs[31] at +8 */
#define HC_IMM 0xfeedu           /* its imm: the program's own host call, not one the input makes */
#define SCRATCH (RAM + 1 * MIB)
#define PROGRAM_SIZE 0x1000ULL /* the page of rpc_program() */
#define SCRATCH_SIZE (1 * MIB)
#define IPA_TOP (1ULL << RK_GUEST_S2SZ)
#define MAX_CALLS 64u

static struct rk_machine *machine;
static struct rk_host *host;
static struct rk_vm *vm;
static unsigned int recycle = 64, inputs;
static bool trace; /* RK_FUZZ_TRACE: every call and its X0, X1 */

/* The calls of the current input and their results, exchanged with the host-call handler. */
static struct feed {
	uint64_t call[MAX_CALLS][8];
	uint64_t result[MAX_CALLS][2];
	unsigned int n, next;
	bool pending; /* the registers the realm reports hold the results of call[next - 1] */
} feed;

/* A function identifier: RSI, PSCI (SMC32 and SMC64), SMCCC, the host's RMI FIDs, anything. */
static uint64_t pick_fid(struct in *in)
{
	uint8_t b = u8(in), f = u8(in);
	uint64_t fid;

	switch (b & 7) {
	case 0:
	case 1:
	case 2:
		fid = 0xC4000190ULL + f % 0x20; /* RSI, defined or not */
		break;
	case 3:
		fid = 0x84000000ULL + f % 0x20;
		break;
	case 4:
		fid = 0xC4000000ULL + f % 0x20;
		break;
	case 5:
		fid = 0x80000000ULL + f % 4; /* SMCCC */
		break;
	case 6:
		fid = 0xC4000150ULL + f % 0xC0; /* RMI */
		break;
	default:
		fid = u64(in);
		break;
	}
	if (b & 0x08)
		fid ^= 1ULL << 16; /* the SVE hint */
	if (b & 0x10)
		fid |= (uint64_t)u8(in) << 40; /* not part of the FID */
	if (t_smc_ends_run(fid))
		fid = PSCI_VERSION;
	return fid;
}

static uint64_t pick_arg(struct in *in)
{
	static const uint64_t limits[] = {
		0,
		1,
		2,
		3,
		4,
		7,
		8,
		0x10000,
		0x10001,
		0x20000,
		0xffff,
		0xffffffffULL,
		~0ULL,
		IPA_TOP,
		IPA_TOP - 0x1000,
		RK_GUEST_UNPROT_BASE,
		RK_GUEST_UNPROT_BASE - 0x1000,
		1ULL << 63,
		0x8000000000000000ULL - 1,
		RAM,
		SCRATCH,
		SCRATCH + SCRATCH_SIZE,
		SCRATCH + SCRATCH_SIZE - 0x1000,
		RAM + RAM_SIZE,
	};
	uint8_t b = u8(in);
	uint64_t v;

	switch (b & 3) {
	case 0: /* scratch RAM: pages, or any byte in it */
		return (b & 4) ? SCRATCH + (uint64_t)u8(in) * 0x1000
			       : SCRATCH + ((uint64_t)u8(in) << 12 | u8(in));
	case 1:
		return b >> 2;
	case 2:
		v = limits[(b >> 2) % (sizeof(limits) / sizeof(limits[0]))];
		break;
	default:
		v = u64(in);
		break;
	}
	/* never the program's page: RSI_REALM_CONFIG, ATTEST_TOKEN_CONTINUE or a
	 * host call there would overwrite the program the realm runs */
	if (v >= RAM && v < RAM + PROGRAM_SIZE)
		v += SCRATCH - RAM;
	return v;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* The realm asks for its next call: take the results of the last one, hand over the next, or stop. */
static int feed_call(void *arg, struct rk_vm *v, uint32_t vcpu, uint32_t imm, uint64_t gp[31])
{
	(void)arg, (void)vcpu;
	if (imm != HC_IMM) { /* a host call of the input's: answered with zeros */
		memset(gp, 0, 31 * sizeof(uint64_t));
		return 0;
	}
	if (feed.pending) {
		const uint64_t *x = feed.call[feed.next - 1];

		feed.result[feed.next - 1][0] = gp[0];
		feed.result[feed.next - 1][1] = gp[1];
		feed.pending = false;
		if (trace)
			fprintf(stderr, "0x%llx 0x%llx 0x%llx 0x%llx 0x%llx -> 0x%llx 0x%llx\n",
				(unsigned long long)x[0], (unsigned long long)x[1], (unsigned long long)x[2],
				(unsigned long long)x[3], (unsigned long long)x[4], (unsigned long long)gp[0],
				(unsigned long long)gp[1]);
	}
	memset(gp, 0, 31 * sizeof(uint64_t));
	if (feed.next < feed.n) {
		memcpy(gp, feed.call[feed.next++], 8 * sizeof(uint64_t));
		feed.pending = true;
	} else {
		gp[0] = PSCI_VERSION; /* harmless, made when the next input resumes the realm */
		rk_vm_stop(v);
	}
	return 0;
}

/* The host accepts a RIPAS change only inside the scratch area. */
static bool ripas_policy(void *arg, struct rk_vm *v, uint32_t vcpu, uint64_t base, uint64_t top,
			 unsigned int ripas)
{
	(void)arg, (void)v, (void)vcpu, (void)ripas;
	return base >= SCRATCH && top <= SCRATCH + SCRATCH_SIZE;
}

/*
 * The realm's program: x19 = the host-call structure; forever: its imm =
 * HC_IMM, HOST_CALL, x0..x7 from it, SMC, x0, x1 to it.
 */
static size_t rpc_program(uint32_t *c)
{
	size_t k = 0, loop;

	k += a64_mov64(c + k, 19, HC_IPA);
	k += a64_mov64(c + k, 9, HC_IMM);
	loop = k;
	c[k++] = a64_str(9, 19);
	k += a64_mov64(c + k, 0, RSI_FID_HOST_CALL);
	c[k++] = a64_mov(1, 19);
	c[k++] = A64_SMC;
	for (unsigned int r = 0; r < 8; r += 2)
		c[k++] = a64_ldp(r, r + 1, 19, (int32_t)(8 + 8 * r));
	c[k++] = A64_SMC;
	c[k++] = a64_stp(0, 1, 19, 8);
	c[k] = a64_b((int32_t)loop - (int32_t)k);
	k++;
	return k;
}

static void realm_new(void)
{
	static uint32_t code[1024];
	struct rk_plan_memslot slot = { RAM, RAM_SIZE, 0, 0 };
	struct rk_plan_load load = { RAM, code, 0, RK_POPULATE_MEASURE, 0 };
	struct rk_vcpu_config vc = { .pc = RAM, .flags = RK_VCPU_RUNNABLE };
	struct rk_vm_plan p;
	int ret;

	load.len = rpc_program(code) * 4;
	memset(&p, 0, sizeof(p));
	rk_vm_config_default(&p.config, RK_VM_REALM);
	p.config.ipa_bits = RK_GUEST_S2SZ;
	p.memslots = &slot;
	p.nmemslots = 1;
	p.loads = &load;
	p.nloads = 1;
	p.vcpus = &vc;
	p.nvcpus = 1;
	if ((ret = rk_vm_create_from_plan(host, &p, &vm)))
		die("fuzz_rsi: rk_vm_create_from_plan: %d", ret);
	rk_vm_set_host_call_handler(vm, feed_call, NULL);
	rk_vm_set_ripas_policy(vm, ripas_policy, NULL);
	if (trace)
		rk_vm_set_run_log(vm, stderr);
	feed.pending = false;
}

/* Destroy the realm: nothing may leak. */
static void realm_end(void)
{
	struct rk_host_stats st;
	int ret;

	if (!vm)
		return;
	if ((ret = rk_vm_destroy(vm)))
		die("fuzz_rsi: rk_vm_destroy: %d", ret);
	rk_vm_free(vm);
	vm = NULL;
	rk_host_get_stats(host, &st);
	if (st.granules_leaked || st.ledger_errors || st.shadow_mismatches)
		die("fuzz_rsi: host: %llu granules leaked, %llu ledger errors, %llu shadow mismatches",
		    (unsigned long long)st.granules_leaked, (unsigned long long)st.ledger_errors,
		    (unsigned long long)st.shadow_mismatches);
	t_assert_all_undelegated(machine);
}

static void at_exit(void)
{
	realm_end();
	rk_host_destroy(host);
	rk_machine_destroy(machine);
}

static void write_seeds(const char *dir);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *seeds = getenv("RK_FUZZ_SEED_DIR"), *r = getenv("RK_FUZZ_RSI_RECYCLE");

	(void)argc;
	(void)argv;
	setenv("CMOCKA_TEST_ABORT", "1", 1);
	if (seeds && *seeds) {
		write_seeds(seeds);
		exit(0);
	}
	if (r && atoi(r) > 0)
		recycle = (unsigned int)atoi(r);
	trace = getenv("RK_FUZZ_TRACE") != NULL;
	machine = t_machine(32);
	if (rk_host_create(machine, NULL, &host))
		die("fuzz_rsi: no host");
	if (trace) {
		rk_host_set_trace(host, stderr);
		rk_machine_set_rsi_log(machine, stderr);
	}
	atexit(at_exit);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct rk_vm_run_info info;
	int ret;

	feed.n = feed.next = 0;
	while (in.n && feed.n < MAX_CALLS) {
		uint64_t *x = feed.call[feed.n++];

		x[0] = pick_fid(&in);
		for (int k = 1; k < 8; k++)
			x[k] = pick_arg(&in);
	}
	if (!vm)
		realm_new();
	rk_vm_resume(vm);
	ret = rk_vm_run(vm, 10000);
	rk_vm_get_run_info(vm, &info);
	if (ret == -ETIMEDOUT) {
		rk_vm_s2_print(vm, stderr);
		die("fuzz_rsi: the realm did not come back in 10 s after %u of %u calls (call 0x%llx x1 0x%llx x2 0x%llx "
		    "x3 0x%llx): %s",
		    feed.next, feed.n, (unsigned long long)feed.call[feed.next ? feed.next - 1 : 0][0],
		    (unsigned long long)feed.call[feed.next ? feed.next - 1 : 0][1],
		    (unsigned long long)feed.call[feed.next ? feed.next - 1 : 0][2],
		    (unsigned long long)feed.call[feed.next ? feed.next - 1 : 0][3], info.msg);
	}
	if (ret != -EINTR || feed.next != feed.n || feed.pending)
		die("fuzz_rsi: the realm stopped after %u of %u calls (run %d, stop %u): %s", feed.next,
		    feed.n, ret, info.reason, info.msg);
	for (unsigned int i = 0; i < feed.n; i++)
		if (!t_smc_status_valid(feed.call[i][0], feed.result[i][0]))
			die("fuzz_rsi: call %u: FID 0x%llx (x1 0x%llx x2 0x%llx x3 0x%llx) returned x0 = 0x%llx",
			    i, (unsigned long long)feed.call[i][0], (unsigned long long)feed.call[i][1],
			    (unsigned long long)feed.call[i][2], (unsigned long long)feed.call[i][3],
			    (unsigned long long)feed.result[i][0]);
	if (++inputs % recycle == 0)
		realm_end();
	return 0;
}

/* ---- seeds: one call of each RSI command, the PSCI and SMCCC basics ---- */

static void write_seed(const char *dir, const char *name, const uint8_t *b, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(b, 1, n, f) != n) {
		perror(path);
		exit(1);
	}
	fclose(f);
}

static void write_seeds(const char *dir)
{
	uint8_t b[MAX_CALLS * 9];
	size_t n = 0;
	char name[64];

	/* per RSI function: FID, then X1 = a scratch page, X2 = the page after it, X3 = 1, X4.. = 0 */
	for (unsigned int f = 0; f < 0x10; f++) {
		uint8_t one[] = { 0, (uint8_t)f, 4, 0x10, 4, 0x11, 1 << 2 | 1, 1, 1, 1, 1 };
		snprintf(name, sizeof(name), "seed-rsi-%02x", 0x190 + f);
		write_seed(dir, name, one, sizeof(one));
		memcpy(b + n, one, sizeof(one));
		n += sizeof(one);
	}
	write_seed(dir, "seed-rsi-all", b, n);
	/* PSCI: VERSION, FEATURES(CPU_ON), AFFINITY_INFO(0), CPU_ON(1, scratch); SMCCC_VERSION */
	static const uint8_t psci[] = {
		3, 0x00, 1, 1,    1, 1, 1,    1, 1, 3, 0x0a, 2 | 0 << 2, 1,    1,          1, 1,
		1, 1,    4, 0x04, 1, 1, 1,    1, 1, 1, 1,    4,          0x03, 1 | 1 << 2, 4, 0x00,
		1, 1,    1, 1,    1, 5, 0x00, 1, 1, 1, 1,    1,          1,    1,
	};
	write_seed(dir, "seed-psci", psci, sizeof(psci));
}
