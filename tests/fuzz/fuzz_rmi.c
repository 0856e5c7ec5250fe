/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: RMI command sequences from the host, through the SMC
 * conduit (rk_smc), against a fresh machine per input (8 MiB of DRAM, RMM
 * activated; creating one costs well under a millisecond).
 *
 * The input is a small bytecode: one byte selects a command (or a host-side
 * step: write a realm-parameter, REC-parameter or list page; or a shortcut
 * that builds a realm, a table walk or a REC the way a host does), the
 * following bytes choose its arguments from pools of "interesting" values:
 * granules of a 4 MiB pool (delegated or not), the objects earlier commands
 * created (RDs, RTTs, DATA, RECs), NS pages, 2 MiB-aligned blocks, addresses
 * outside DRAM, unaligned ones, raw values; IPAs at table and half
 * boundaries; levels -1..4; range descriptors; operation handles.
 *
 * After every command the whole machine is checked from the inside
 * (t_check_machine: GPT consistent with each granule's state, each granule
 * in exactly one role, DATA mapped at most once, RTT and RD refcounts, RECs
 * and pending operations own their aux granules) and a host access to the
 * command's object granules must succeed exactly when they are NS. At the
 * end of an input everything is torn down as a host would (operations
 * finished, RECs destroyed, realms torn down, granules undelegated) and all
 * DRAM must be back NS and UNDELEGATED. A broken invariant aborts (cmocka
 * assertions with CMOCKA_TEST_ABORT=1), which libFuzzer reports as a crash.
 *
 * RK_FUZZ_SEED_DIR=dir: write the seed inputs to dir and exit (run.sh).
 * RK_FUZZ_TRACE=1: print every RMI call of the input and its status.
 * RK_FUZZ_STATS=1: at exit, print how often each command succeeded (to see
 * that the fuzzer gets past the input checks), e.g. with -runs=0 on a corpus.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"
#include "fuzz_input.h"
#include "rk_test.h"
#include "rmm/realm.h"
#include "rmm/rec.h"
#include "rmm/rmi/rmi.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)
#define L2SZ (2 * MIB)
#define DRAM_MIB 8ULL
#define DRAM_END (T_DRAM_BASE + DRAM_MIB * MIB)
#define POOL (T_DRAM_BASE + 2 * MIB) /* 1024 granules, 2 MiB aligned */
#define POOL_N 1024u
#define NS_PAGE(i) (T_DRAM_BASE + (uint64_t)(i)*G) /* 0 params, 1 list, 2 data source, 3 REC params */
#define PARAMS NS_PAGE(0)
#define LIST NS_PAGE(1)
#define SRC NS_PAGE(2)
#define RECP NS_PAGE(3)
#define MAX_CMDS 96u
#define NOBJ 16u

/* Every RMI call of this file is counted when it succeeds (or starts an operation): RK_FUZZ_STATS. */
static uint64_t nok[RMI_FNUM_MAX - RMI_FNUM_MIN + 1];

static bool trace;

static uint64_t rmi_counted(struct rk_machine *m, uint64_t fid, struct rmi_out *out, const uint64_t *args,
			    int n)
{
	struct rmi_out o;
	uint64_t x0 = rmi_args(m, fid, &o, args, n);

	if (trace) {
		const struct rmi_cmd_desc *c = rmi_cmd_lookup(fid);
		fprintf(stderr, "%s", c ? c->name : "?");
		for (int i = 0; i < n; i++)
			fprintf(stderr, " 0x%llx", (unsigned long long)args[i]);
		fprintf(stderr, " -> status %u index %u\n", ST(x0), IDX(x0));
	}

	if ((x0 == RMI_SUCCESS || ST(x0) == RMI_INCOMPLETE) && (fid & 0xffff) >= RMI_FNUM_MIN &&
	    (fid & 0xffff) <= RMI_FNUM_MAX)
		nok[(fid & 0xffff) - RMI_FNUM_MIN]++;
	if (out)
		*out = o;
	return x0;
}
#undef RMI
#define RMI(m, fid, out, ...) \
	rmi_counted((m), (fid), (out), (const uint64_t[]){ __VA_ARGS__ }, RK_NARGS(__VA_ARGS__))

/* ---- one input's world (the input is read with fuzz_input.h) ---- */

struct world {
	struct rk_machine *m;
	struct in in;
	uint64_t obj[NOBJ]; /* objects that commands created, most recent at obj[nobj % NOBJ] */
	unsigned int nobj;
	uint64_t handle[4]; /* handles of operations (SRO) */
	unsigned int nhandle;
	uint64_t s2sz;          /* of the last realm created: where the unprotected half starts */
	unsigned int next_free; /* shortcut allocator in the pool */
};

/* Whether pa is a granule in state st (any pa). */
static bool is_state(struct world *w, uint64_t pa, enum granule_state st)
{
	struct granule *g = granule_from_pa(machine_rmm(w->m), pa);

	return g && granule_state(g) == st;
}

static void remember(struct world *w, uint64_t pa)
{
	w->obj[w->nobj++ % NOBJ] = pa;
}

static uint64_t pick_pa(struct world *w)
{
	static const uint64_t outside[] = { 0,
					    T_DRAM_BASE - G,
					    DRAM_END,
					    DRAM_END - G,
					    1ULL << 48,
					    ~0xfffULL,
					    T_DRAM_BASE + DRAM_MIB * MIB * 2 };
	uint8_t b = u8(&w->in);

	switch (b & 7) {
	case 0:
	case 1:
		return POOL + (u16(&w->in) % POOL_N) * G;
	case 2:
		return w->nobj ? w->obj[(b >> 3) % (w->nobj < NOBJ ? w->nobj : NOBJ)] : POOL;
	case 3:
		return NS_PAGE((b >> 3) % 8);
	case 4:
		return T_DRAM_BASE + L2SZ * ((b >> 3) % 8);
	case 5:
		return outside[(b >> 3) % (sizeof(outside) / sizeof(outside[0]))];
	case 6:
		return POOL + (u16(&w->in) % POOL_N) * G + 1 + u8(&w->in);
	default:
		return u64(&w->in);
	}
}

static uint64_t pick_ipa(struct world *w)
{
	uint64_t u = 1ULL << (w->s2sz - 1);
	const uint64_t edges[] = { 0,        G, L2SZ - G, L2SZ,     GIB - G,   GIB,   2 * GIB,    u - G,
				   u - L2SZ, u, u + G,    u + L2SZ, 2 * u - G, 2 * u, 1ULL << 48, ~0ULL };
	uint8_t b = u8(&w->in);

	switch (b & 7) {
	case 0:
		return edges[(b >> 3) % (sizeof(edges) / sizeof(edges[0]))];
	case 1:
	case 2:
		return (u16(&w->in) % 2048) * G;
	case 3:
		return L2SZ * ((b >> 3) % 32);
	case 4:
		return u + (u16(&w->in) % 1024) * G;
	case 5:
		return GIB * ((b >> 3) % 32);
	case 6:
		return (u16(&w->in) % 2048) * G + 1 + u8(&w->in);
	default:
		return u64(&w->in);
	}
}

static uint64_t pick_top(struct world *w, uint64_t base)
{
	uint8_t b = u8(&w->in);

	if (b & 1)
		return pick_ipa(w);
	return base + ((b & 2) ? L2SZ : G) * (1 + (b >> 2) % 16);
}

static uint64_t pick_level(struct world *w)
{
	return (uint64_t)((int64_t)(u8(&w->in) % 6) - 1);
}

static uint64_t pick_desc(struct world *w)
{
	uint8_t b = u8(&w->in);
	int level = 1 + (b & 3) % 3;
	uint64_t pa = pick_pa(w) & RMI_ADDR_RANGE_ADDR_MASK;

	if (level < 3 && (b & 4))
		pa &= ~(L2SZ - 1);
	return t_desc(pa, level, (b >> 3) & 7) | ((b & 0x80) ? T_DESC_UNDELEGATED : 0);
}

static uint64_t pick_handle(struct world *w)
{
	uint8_t b = u8(&w->in);

	if (b & 0x80)
		return b & 0x7f; /* any handle, in range or not */
	return w->nhandle ? w->handle[b % (w->nhandle < 4 ? w->nhandle : 4)] : 0;
}

static uint64_t pick_any(struct world *w)
{
	uint8_t b = u8(&w->in);

	switch (b % 6) {
	case 0:
		return pick_pa(w);
	case 1:
		return pick_ipa(w);
	case 2:
		return pick_desc(w);
	case 3:
		return b >> 3;
	case 4:
		return pick_handle(w);
	default:
		return u64(&w->in);
	}
}

/* ---- host-side steps ---- */

/* The host writes one of its pages; if the input delegated it, the write fails and the page keeps what it had. */
static void ns_write(struct world *w, uint64_t pa, const void *buf, size_t len)
{
	(void)rk_ns_write(w->m, pa, buf, len);
}

static void write_params(struct world *w)
{
	static struct rmi_realm_params p;
	uint8_t b = u8(&w->in);

	t_realm_params(&p, 32 + u8(&w->in) % 18, pick_pa(w), b & 3);
	p.rtt_level_start = (int64_t)((b >> 2) & 7) - 1;
	p.rtt_num_start = 1ULL << ((b >> 5) & 7) % 5;
	if (b & 0x80)
		((uint64_t *)&p)[u16(&w->in) % 512] = pick_any(w);
	ns_write(w, PARAMS, &p, sizeof(p));
}

static void write_rec_params(struct world *w)
{
	static struct rmi_rec_params p;
	uint8_t b = u8(&w->in);

	memset(&p, 0, sizeof(p));
	p.flags = b & 1;
	p.mpidr = (b & 2) ? u64(&w->in) : rec_index_mpidr((b >> 2) & 3);
	p.pc = pick_ipa(w);
	ns_write(w, RECP, &p, sizeof(p));
}

static void write_list(struct world *w)
{
	uint64_t list[32];
	unsigned int n = 1 + u8(&w->in) % 32;

	for (unsigned int i = 0; i < n; i++)
		list[i] = pick_desc(w);
	ns_write(w, LIST, list, n * sizeof(uint64_t));
}

/* A DELEGATED pool granule for the shortcuts: the next one the host has not used, or 0. */
static uint64_t take_delegated(struct world *w, uint64_t n, uint64_t align)
{
	for (; w->next_free < POOL_N; w->next_free++) {
		uint64_t pa = POOL + w->next_free * G;
		struct rmi_out o;

		if (align && (pa & (align - 1)))
			continue;
		if (pa + n * G > POOL + POOL_N * G)
			return 0;
		if (RMI(w->m, RMI_FID_GRANULE_RANGE_DELEGATE, &o, pa, pa + n * G) == RMI_SUCCESS &&
		    o.x[1] == pa + n * G) {
			w->next_free += (unsigned int)n;
			return pa;
		}
	}
	return 0;
}

/* ---- commands ---- */

enum op {
	OP_DELEGATE,
	OP_UNDELEGATE,
	OP_REALM_CREATE,
	OP_REALM_ACTIVATE,
	OP_REALM_TERMINATE,
	OP_REALM_DESTROY,
	OP_RTT_CREATE,
	OP_RTT_DESTROY,
	OP_RTT_FOLD,
	OP_RTT_READ_ENTRY,
	OP_RTT_INIT_RIPAS,
	OP_RTT_SET_RIPAS,
	OP_DATA_MAP_INIT,
	OP_DATA_MAP,
	OP_DATA_UNMAP,
	OP_UNPROT_MAP,
	OP_UNPROT_UNMAP,
	OP_REC_CREATE,
	OP_REC_DESTROY,
	OP_DONATE,
	OP_RECLAIM,
	OP_CONTINUE,
	OP_CANCEL,
	OP_WRITE_PARAMS,
	OP_WRITE_REC_PARAMS,
	OP_WRITE_LIST,
	OP_RAW,
	OP_NEW_REALM,
	OP_RTT_WALK,
	OP_NEW_REC,
	OP_COUNT
};

/* The realm most recently remembered, or a pool granule. */
static uint64_t pick_rd(struct world *w)
{
	uint8_t b = u8(&w->in);

	if (b & 1)
		return pick_pa(w);
	for (unsigned int i = 0; i < NOBJ && i < w->nobj; i++) {
		uint64_t pa = w->obj[(w->nobj - 1 - i) % NOBJ];
		if (is_state(w, pa, GRANULE_STATE_RD))
			return pa;
	}
	return POOL;
}

static void new_realm(struct world *w)
{
	static struct rmi_realm_params p;
	uint8_t b = u8(&w->in);
	/* start level 1: one root up to 39 bits, then concatenated */
	unsigned int s2sz = 36 + (b & 7), nroot = s2sz > 39 ? 1u << (s2sz - 39) : 1, start = 1;
	uint64_t rd = take_delegated(w, 1, 0), root = take_delegated(w, nroot, nroot * G);

	if (!rd || !root)
		return;
	t_realm_params(&p, s2sz, root, (b >> 3) & 1);
	p.rtt_level_start = start;
	p.rtt_num_start = nroot;
	ns_write(w, PARAMS, &p, sizeof(p));
	if (RMI(w->m, RMI_FID_REALM_CREATE, NULL, rd, PARAMS) == RMI_SUCCESS) {
		remember(w, rd);
		w->s2sz = s2sz;
	}
}

static void rtt_walk(struct world *w)
{
	uint64_t rd = pick_rd(w), ipa = pick_ipa(w) & ~(G - 1);
	int level = 1 + u8(&w->in) % 3;

	if (!is_state(w, rd, GRANULE_STATE_RD))
		return;
	for (int step = 0; step < 4; step++) {
		struct rmi_out o;

		if (RMI(w->m, RMI_FID_RTT_READ_ENTRY, &o, rd, ipa & ~(s2_level_size(level) - 1),
			(uint64_t)level) != RMI_SUCCESS ||
		    (int)o.x[1] >= level)
			return;
		uint64_t rtt = take_delegated(w, 1, 0);
		if (!rtt)
			return;
		if (RMI(w->m, RMI_FID_RTT_CREATE, NULL, rd, rtt, ipa & ~(s2_level_size((int)o.x[1]) - 1),
			o.x[1] + 1) != RMI_SUCCESS)
			return;
		remember(w, rtt);
	}
}

static void new_rec(struct world *w)
{
	static struct rmi_rec_params p;
	uint64_t rd = pick_rd(w), rec = take_delegated(w, 1, 0), aux = take_delegated(w, REC_NUM_AUX, 0);
	uint64_t list[REC_NUM_AUX], x0, h;
	struct rmi_out o;

	if (!rec || !aux || !is_state(w, rd, GRANULE_STATE_RD))
		return;
	memset(&p, 0, sizeof(p));
	p.flags = RMI_REC_PARAMS_FLAGS_RUNNABLE_MASK;
	p.mpidr = rec_index_mpidr(t_rd(w->m, rd)->rec_count);
	ns_write(w, RECP, &p, sizeof(p));
	if (RMI(w->m, RMI_FID_REC_CREATE, &o, rd, rec, RECP) != ((uint64_t)RMI_INCOMPLETE | (1u << 8)))
		return;
	h = o.x[1];
	for (unsigned int i = 0; i < REC_NUM_AUX; i++)
		list[i] = t_desc(aux + i * G, 3, 1);
	ns_write(w, LIST, list, sizeof(list));
	if (RMI(w->m, RMI_FID_OP_MEM_DONATE, &o, h, LIST, (uint64_t)REC_NUM_AUX) != RMI_INCOMPLETE)
		return;
	x0 = RMI(w->m, RMI_FID_OP_CONTINUE, &o, h, 0ULL);
	if (x0 == RMI_SUCCESS)
		remember(w, rec);
	else if (ST(x0) == RMI_INCOMPLETE && w->nhandle < 4)
		w->handle[w->nhandle++] = h;
}

/* A defined, implemented RMI FID other than REC_ENTER (which would run realm code). */
static uint64_t pick_fid(struct world *w)
{
	unsigned int n = RMI_FNUM_MAX - RMI_FNUM_MIN + 1, f = u16(&w->in) % n;

	for (unsigned int k = 0; k < n; k++, f = (f + 1) % n) {
		const struct rmi_cmd_desc *c = &rmi_cmd_table[f];
		uint64_t fid = SMC_FID_BASE | (RMI_FNUM_MIN + f);
		if (c->defined && fid != RMI_FID_REC_ENTER)
			return fid;
	}
	return RMI_FID_VERSION;
}

static void print_stats(void)
{
	fprintf(stderr, "fuzz_rmi: successful commands:");
	for (unsigned int f = 0; f <= RMI_FNUM_MAX - RMI_FNUM_MIN; f++)
		if (nok[f])
			fprintf(stderr, " %s %llu", rmi_cmd_table[f].name, (unsigned long long)nok[f]);
	fprintf(stderr, "\n");
}

static void check_pa(struct world *w, uint64_t pa)
{
	if (pa < T_DRAM_BASE || pa >= DRAM_END || (pa & (G - 1)))
		return;
	if (!t_check_host_access(w->m, pa)) {
		print_error("host access to 0x%llx (state %d) is not what the GPT says\n",
			    (unsigned long long)pa, (int)t_gstate(w->m, pa));
		abort();
	}
}

static void step(struct world *w)
{
	uint8_t op = u8(&w->in) % OP_COUNT;
	uint64_t a[6] = { 0 }, fid = 0;
	struct rmi_out o;

	switch (op) {
	case OP_DELEGATE:
	case OP_UNDELEGATE:
		fid = op == OP_DELEGATE ? RMI_FID_GRANULE_RANGE_DELEGATE : RMI_FID_GRANULE_RANGE_UNDELEGATE;
		a[0] = pick_pa(w);
		a[1] = pick_top(w, a[0]);
		break;
	case OP_REALM_CREATE:
		fid = RMI_FID_REALM_CREATE;
		a[0] = pick_pa(w);
		a[1] = u8(&w->in) & 1 ? pick_pa(w) : PARAMS;
		break;
	case OP_REALM_ACTIVATE:
	case OP_REALM_TERMINATE:
	case OP_REALM_DESTROY:
		fid = op == OP_REALM_ACTIVATE    ? RMI_FID_REALM_ACTIVATE
		      : op == OP_REALM_TERMINATE ? RMI_FID_REALM_TERMINATE
						 : RMI_FID_REALM_DESTROY;
		a[0] = pick_rd(w);
		break;
	case OP_RTT_CREATE:
		fid = RMI_FID_RTT_CREATE;
		a[0] = pick_rd(w);
		a[1] = pick_pa(w);
		a[2] = pick_ipa(w);
		a[3] = pick_level(w);
		break;
	case OP_RTT_DESTROY:
	case OP_RTT_FOLD:
	case OP_RTT_READ_ENTRY:
		fid = op == OP_RTT_DESTROY ? RMI_FID_RTT_DESTROY
		      : op == OP_RTT_FOLD  ? RMI_FID_RTT_FOLD
					   : RMI_FID_RTT_READ_ENTRY;
		a[0] = pick_rd(w);
		a[1] = pick_ipa(w);
		a[2] = pick_level(w);
		break;
	case OP_RTT_INIT_RIPAS:
		fid = RMI_FID_RTT_INIT_RIPAS;
		a[0] = pick_rd(w);
		a[1] = pick_ipa(w);
		a[2] = pick_top(w, a[1]);
		break;
	case OP_RTT_SET_RIPAS:
		fid = RMI_FID_RTT_SET_RIPAS;
		a[0] = pick_rd(w);
		a[1] = pick_pa(w);
		a[2] = pick_ipa(w);
		a[3] = pick_top(w, a[2]);
		break;
	case OP_DATA_MAP_INIT:
		fid = RMI_FID_RTT_DATA_MAP_INIT;
		a[0] = pick_rd(w);
		a[1] = pick_pa(w);
		a[2] = pick_ipa(w);
		a[3] = u8(&w->in) & 1 ? pick_pa(w) : SRC;
		a[4] = u8(&w->in) % 3;
		break;
	case OP_DATA_MAP:
	case OP_DATA_UNMAP:
	case OP_UNPROT_MAP:
	case OP_UNPROT_UNMAP: {
		static const uint64_t fids[] = { RMI_FID_RTT_DATA_MAP, RMI_FID_RTT_DATA_UNMAP,
						 RMI_FID_RTT_UNPROT_MAP, RMI_FID_RTT_UNPROT_UNMAP };
		uint8_t b = u8(&w->in);

		fid = fids[op - OP_DATA_MAP];
		a[0] = pick_rd(w);
		a[1] = pick_ipa(w);
		a[2] = pick_top(w, a[1]);
		/* flags: address type SINGLE/LIST (+ list length), MemAttr, S2AP */
		a[3] = (b & 3) | ((uint64_t)(b >> 2 & 1 ? u8(&w->in) % 40 : 0) << 2) |
		       ((uint64_t)(b >> 3 & 7) << 16) | ((uint64_t)(b >> 6) << 19);
		a[4] = (b & 3) == RMI_ADDR_TYPE_LIST   ? LIST + 8 * (u8(&w->in) % 8)
		       : (b & 3) == RMI_ADDR_TYPE_NONE ? 0
						       : pick_desc(w);
		break;
	}
	case OP_REC_CREATE:
		fid = RMI_FID_REC_CREATE;
		a[0] = pick_rd(w);
		a[1] = pick_pa(w);
		a[2] = u8(&w->in) & 1 ? pick_pa(w) : RECP;
		break;
	case OP_REC_DESTROY:
		fid = RMI_FID_REC_DESTROY;
		a[0] = pick_pa(w);
		break;
	case OP_DONATE:
	case OP_RECLAIM:
		fid = op == OP_DONATE ? RMI_FID_OP_MEM_DONATE : RMI_FID_OP_MEM_RECLAIM;
		a[0] = pick_handle(w);
		a[1] = u8(&w->in) & 1 ? pick_pa(w) : LIST;
		a[2] = u8(&w->in) % 40;
		break;
	case OP_CONTINUE:
	case OP_CANCEL:
		fid = op == OP_CONTINUE ? RMI_FID_OP_CONTINUE : RMI_FID_OP_CANCEL;
		a[0] = pick_handle(w);
		a[1] = u8(&w->in);
		break;
	case OP_WRITE_PARAMS:
		write_params(w);
		return;
	case OP_WRITE_REC_PARAMS:
		write_rec_params(w);
		return;
	case OP_WRITE_LIST:
		write_list(w);
		return;
	case OP_RAW:
		fid = pick_fid(w);
		for (int k = 0; k < 6; k++)
			a[k] = pick_any(w);
		break;
	case OP_NEW_REALM:
		new_realm(w);
		t_check_machine(w->m);
		return;
	case OP_RTT_WALK:
		rtt_walk(w);
		t_check_machine(w->m);
		return;
	default:
		new_rec(w);
		t_check_machine(w->m);
		return;
	}
	if (u8(&w->in) == 0xff)
		fid |= SMC_FID_SVE_HINT;
	uint64_t x0 = rmi_counted(w->m, fid, &o, a, 6);
	if (x0 == RMI_SUCCESS) {
		switch (op) {
		case OP_REALM_CREATE:
			remember(w, a[0]);
			if (is_state(w, a[0], GRANULE_STATE_RD))
				w->s2sz = t_rd(w->m, a[0])->s2.s2sz;
			break;
		case OP_RTT_CREATE:
		case OP_DATA_MAP_INIT:
			remember(w, a[1]);
			break;
		default:
			break;
		}
	} else if (ST(x0) == RMI_INCOMPLETE && (fid & ~SMC_FID_SVE_HINT) != RMI_FID_OP_MEM_DONATE &&
		   (fid & ~SMC_FID_SVE_HINT) != RMI_FID_OP_MEM_RECLAIM) {
		w->handle[w->nhandle++ % 4] = o.x[1];
		if (w->nhandle > 4)
			w->nhandle = 4;
	}
	t_check_machine(w->m);
	check_pa(w, a[0]);
	check_pa(w, a[1]);
}

/* ---- libFuzzer ---- */

static void write_seeds(const char *dir);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *seeds = getenv("RK_FUZZ_SEED_DIR");

	(void)argc;
	(void)argv;
	setenv("CMOCKA_TEST_ABORT", "1", 1); /* a failed assertion aborts: libFuzzer reports it */
	if (seeds && *seeds) {
		write_seeds(seeds);
		exit(0);
	}
	trace = getenv("RK_FUZZ_TRACE") != NULL;
	if (getenv("RK_FUZZ_STATS"))
		atexit(print_stats);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct world w;
	uint8_t page[4096];

	memset(&w, 0, sizeof(w));
	w.in = (struct in){ data, size };
	w.s2sz = 40;
	w.m = t_machine(DRAM_MIB);
	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = (uint8_t)(i * 7);
	t_write(w.m, SRC, page, sizeof(page));
	for (unsigned int i = 0; i < MAX_CMDS && w.in.n; i++)
		step(&w);
	t_teardown_all(w.m);
	rk_machine_destroy(w.m);
	return 0;
}

/* ---- seeds: programs that build a realm and use it ---- */

struct seed {
	uint8_t b[512];
	size_t n;
};

static void put_bytes(struct seed *s, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n && s->n < sizeof(s->b); i++)
		s->b[s->n++] = b[i];
}
/* P(seed, bytes...): one command or step of a seed */
#define P(s, ...) put_bytes((s), (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

static void save(const char *dir, const char *name, const struct seed *s)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->b, 1, s->n, f) != s->n) {
		perror(path);
		exit(1);
	}
	fclose(f);
}

/* Argument bytes (see pick_*); a command (not a host step or shortcut) ends with the SVE-hint byte, END. */
#define RD_LATEST 0                     /* pick_rd: the latest realm */
#define PA_POOL(i) 0, (i), 0            /* pick_pa: pool granule i (< 256) */
#define PA_NS(i) (3 | (i) << 3)         /* pick_pa: NS page i (< 8) */
#define IPA_PAGE(i) 1, (i), 0           /* pick_ipa: page i (< 256) */
#define IPA_UNPROT 4, 0, 0              /* pick_ipa: the first page of the unprotected half */
#define TOP_PAGES(n) (((n)-1) << 2)     /* pick_top: base + n pages */
#define TOP_2M 0x02                     /* pick_top: base + 2 MiB */
#define LEVEL(l) ((l) + 1)              /* pick_level */
#define DESC_L3(n) (0x02 | (n) << 3)    /* pick_desc: n 4 KiB granules (DELEGATED), then a pick_pa */
#define DESC_L3_NS(n) (0x82 | (n) << 3) /* the same, UNDELEGATED */
#define MAP_SINGLE 0x01                 /* DATA_MAP & co: the flags byte, SINGLE */
#define UNMAP 0x00                      /* DATA_UNMAP & co: no list */
#define UNPROT_FLAGS 0xf1               /* SINGLE, MemAttr 6, S2AP 3 */
#define END 0

static void write_seeds(const char *dir)
{
	struct seed s = { .n = 0 };
	size_t realm_len;

	/* a realm (s2sz 40: two roots; pool 0, 2..3), tables to level 3 at IPA 0 (pool 4, 5), RIPAS RAM, a measured page, activate */
	P(&s, OP_NEW_REALM, 4);
	P(&s, OP_RTT_WALK, RD_LATEST, IPA_PAGE(0), 2);
	P(&s, OP_RTT_INIT_RIPAS, RD_LATEST, IPA_PAGE(0), TOP_2M, END);
	P(&s, OP_DELEGATE, PA_POOL(100), TOP_PAGES(8), END);
	P(&s, OP_DATA_MAP_INIT, RD_LATEST, PA_POOL(100), IPA_PAGE(0), 0, 1, END);
	realm_len = s.n;
	P(&s, OP_REALM_ACTIVATE, RD_LATEST, END);
	save(dir, "seed-realm", &s);

	/* the same with a REC (pool 6, aux 7..22), destroyed through its operation, the realm torn down by hand */
	s.n = realm_len;
	P(&s, OP_NEW_REC, RD_LATEST);
	P(&s, OP_REALM_ACTIVATE, RD_LATEST, END);
	P(&s, OP_REC_DESTROY, PA_POOL(6), END);
	P(&s, OP_RECLAIM, 0, 0, 16, END);
	P(&s, OP_CONTINUE, 0, 0, END);
	P(&s, OP_REALM_TERMINATE, RD_LATEST, END);
	P(&s, OP_DATA_UNMAP, UNMAP, RD_LATEST, IPA_PAGE(0), TOP_PAGES(1), END);
	P(&s, OP_RTT_DESTROY, RD_LATEST, IPA_PAGE(0), LEVEL(3), END);
	P(&s, OP_RTT_DESTROY, RD_LATEST, IPA_PAGE(0), LEVEL(2), END);
	P(&s, OP_REALM_DESTROY, RD_LATEST, END);
	P(&s, OP_UNDELEGATE, PA_POOL(100), TOP_PAGES(8), END);
	save(dir, "seed-rec", &s);

	/* DATA_MAP of delegated pages at L3 (SINGLE), unmap some, fold attempts, destroy attempts */
	s.n = 0;
	P(&s, OP_NEW_REALM, 4);
	P(&s, OP_RTT_WALK, RD_LATEST, IPA_PAGE(0), 2);
	P(&s, OP_DELEGATE, PA_POOL(100), TOP_PAGES(8), END);
	P(&s, OP_DATA_MAP, MAP_SINGLE, RD_LATEST, IPA_PAGE(8), TOP_PAGES(4), DESC_L3(4), PA_POOL(100), END);
	P(&s, OP_DATA_UNMAP, UNMAP, RD_LATEST, IPA_PAGE(8), TOP_PAGES(2), END);
	P(&s, OP_RTT_FOLD, RD_LATEST, IPA_PAGE(0), LEVEL(3), END);
	P(&s, OP_RTT_DESTROY, RD_LATEST, IPA_PAGE(0), LEVEL(3), END);
	P(&s, OP_REALM_TERMINATE, RD_LATEST, END);
	P(&s, OP_REALM_DESTROY, RD_LATEST, END);
	save(dir, "seed-map", &s);

	/* unprotected mappings: a table at the unprotected half, NS page 4 mapped there, unmapped, the table destroyed */
	s.n = 0;
	P(&s, OP_NEW_REALM, 4);
	P(&s, OP_RTT_WALK, RD_LATEST, IPA_UNPROT, 2);
	P(&s, OP_UNPROT_MAP, UNPROT_FLAGS, RD_LATEST, IPA_UNPROT, TOP_PAGES(1), DESC_L3_NS(1), PA_NS(4), END);
	P(&s, OP_UNPROT_UNMAP, UNMAP, RD_LATEST, IPA_UNPROT, TOP_PAGES(1), END);
	P(&s, OP_RTT_DESTROY, RD_LATEST, IPA_UNPROT, LEVEL(3), END);
	save(dir, "seed-unprot", &s);

	/* every command once with pool arguments */
	s.n = 0;
	P(&s, OP_NEW_REALM, 2);
	for (int op = 0; op < OP_COUNT; op++)
		P(&s, (uint8_t)op, 0, 0, 0, 0, 0, 0, 0);
	save(dir, "seed-all", &s);
}
