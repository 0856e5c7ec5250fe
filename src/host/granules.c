/* SPDX-License-Identifier: MIT */
/*
 * The host's granules: the host owns all NS DRAM of the machine. A page
 * allocator (a bitmap, next fit, contiguous aligned runs within a bank) hands
 * out granules; a ledger (one byte per granule: state, dirty bit, role) says
 * what the host believes of each granule, delegation (the range commands)
 * moves granules between HOST and DELEGATED in it, and leak handling records
 * what the host gave up on, so that
 *  - nothing is freed twice, and nothing delegated is freed (ledger errors),
 *  - a granule the host gave up on is LEAKED: it stays allocated forever and
 *    is listed in the leak report,
 *  - memory is zeroed before it is handed out again only if it may hold data
 *    (the RMM scrubs granules on undelegate; fresh DRAM counts as dirty).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "host_internal.h"

static inline void bm_set(uint64_t *bm, uint64_t i)
{
	bm[i >> 6] |= 1ULL << (i & 63);
}

static inline void bm_clear(uint64_t *bm, uint64_t i)
{
	bm[i >> 6] &= ~(1ULL << (i & 63));
}

/* First index in [i, end) whose bit is set (want_set) or clear; end if none. */
static uint64_t bm_find(const uint64_t *bm, uint64_t i, uint64_t end, bool want_set)
{
	while (i < end) {
		uint64_t w = want_set ? bm[i >> 6] : ~bm[i >> 6];

		w >>= (i & 63);
		if (w) {
			uint64_t r = i + (uint64_t)__builtin_ctzll(w);
			return r < end ? r : end;
		}
		i = (i | 63) + 1;
	}
	return end;
}

static inline unsigned int led_state(uint8_t b)
{
	return b & LED_STATE_MASK;
}

static inline uint8_t led_make(unsigned int state, unsigned int role, bool dirty)
{
	return (uint8_t)(state | (role << LED_ROLE_SHIFT) | (dirty ? LED_DIRTY : 0));
}

bool host_pa_index(const struct rk_host *h, uint64_t pa, uint64_t *idx)
{
	if (pa & (G4K - 1))
		return false;
	for (uint32_t i = 0; i < h->nbanks; i++) {
		const struct host_bank *b = &h->banks[i];
		if (pa - b->base < b->ngranules * G4K) { /* unsigned: also false below the bank */
			*idx = b->first + (pa - b->base) / G4K;
			return true;
		}
	}
	return false;
}

/* Index of pa if [pa, pa + n granules) lies in one bank. */
static bool run_index(const struct rk_host *h, uint64_t pa, uint64_t n, uint64_t *idx)
{
	for (uint32_t i = 0; i < h->nbanks; i++) {
		const struct host_bank *b = &h->banks[i];
		if (pa - b->base < b->ngranules * G4K) {
			if (pa & (G4K - 1) || (pa - b->base) / G4K + n > b->ngranules)
				return false;
			*idx = b->first + (pa - b->base) / G4K;
			return true;
		}
	}
	return false;
}

uint64_t host_index_pa(const struct rk_host *h, uint64_t idx)
{
	for (uint32_t i = 0; i < h->nbanks; i++) {
		const struct host_bank *b = &h->banks[i];
		if (idx >= b->first && idx < b->first + b->ngranules)
			return b->base + (idx - b->first) * G4K;
	}
	return 0;
}

int host_palloc_init(struct rk_host *h)
{
	uint64_t n = 0;

	h->nbanks = rk_machine_nbanks(h->m);
	for (uint32_t i = 0; i < h->nbanks; i++) {
		struct rk_dram_bank b = rk_machine_bank(h->m, i);
		h->banks[i].base = b.base;
		h->banks[i].ngranules = b.size / G4K;
		h->banks[i].first = n;
		n += b.size / G4K;
	}
	h->ngranules = n;
	h->ledger = calloc(n ? n : 1, 1);
	h->owner = calloc(n ? n : 1, sizeof(uint32_t));
	h->used = calloc((n + 63) / 64 + 1, sizeof(uint64_t));
	if (!h->ledger || !h->owner || !h->used)
		return -ENOMEM;
	h->stats.granules_total = n;
	h->stats.granules_free = 0;
	for (uint64_t i = 0; i < n; i++) {
		enum rk_pas pas = RK_PAS_ROOT;

		/* whatever DRAM held before the host took over may be data: dirty */
		if (rk_gpt_get(h->m, host_index_pa(h, i), &pas) || pas != RK_PAS_NS) {
			h->ledger[i] = led_make(RK_GRANULE_RESERVED, RK_ROLE_NONE, true);
			bm_set(h->used, i);
		} else {
			h->ledger[i] = led_make(RK_GRANULE_FREE, RK_ROLE_NONE, true);
			h->stats.granules_free++;
		}
	}
	return 0;
}

void host_palloc_fini(struct rk_host *h)
{
	free(h->ledger);
	free(h->owner);
	free(h->used);
	free(h->leaks);
	h->ledger = NULL;
	h->owner = NULL;
	h->used = NULL;
	h->leaks = NULL;
}

/* Zero the dirty granules of [idx, idx + n) (one bank), through the host's NS mapping. */
static int zero_dirty(struct rk_host *h, uint64_t idx, uint64_t n)
{
	uint64_t i = 0;

	while (i < n) {
		uint64_t j;

		if (!(h->ledger[idx + i] & LED_DIRTY)) {
			i++;
			continue;
		}
		for (j = i; j < n && (h->ledger[idx + j] & LED_DIRTY); j++)
			;
		int ret = host_ns_zero(h, host_index_pa(h, idx + i), j - i);
		if (ret)
			return ret;
		i = j;
	}
	return 0;
}

/* Search [from, bank end) of one bank for n free granules aligned to align (PA). */
static bool bank_search(const struct rk_host *h, const struct host_bank *b, uint64_t from, uint64_t n,
			uint64_t align, uint64_t *out)
{
	uint64_t end = b->first + b->ngranules;
	uint64_t apa = align * G4K;

	if (from < b->first)
		from = b->first;
	while (from < end) {
		uint64_t pa = b->base + (from - b->first) * G4K;
		uint64_t cand = b->first + (host_align_up(pa, apa) - b->base) / G4K;
		uint64_t used;

		if (cand + n > end || cand < from)
			return false;
		used = bm_find(h->used, cand, cand + n, true);
		if (used == cand + n) {
			*out = cand;
			return true;
		}
		/* skip past the used granule, to the next free one */
		from = bm_find(h->used, used + 1, end, false);
	}
	return false;
}

int host_palloc(struct rk_host *h, uint64_t n, uint64_t align, unsigned int role, uint32_t vm_id,
		unsigned int flags, uint64_t *pa)
{
	uint64_t idx = 0;
	bool found = false;

	if (!n || !align || (align & (align - 1)))
		return -EINVAL;
	if (n > h->stats.granules_free)
		return -ENOMEM;
	/* next fit from the hint, then from the start */
	for (int pass = 0; pass < 2 && !found; pass++) {
		for (uint32_t i = 0; i < h->nbanks && !found; i++) {
			const struct host_bank *b = &h->banks[i];
			uint64_t from = pass ? b->first : h->hint;
			if (!pass && h->hint >= b->first + b->ngranules)
				continue;
			found = bank_search(h, b, from, n, align, &idx);
		}
	}
	if (!found)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++) {
		bm_set(h->used, idx + i);
		h->ledger[idx + i] = led_make(RK_GRANULE_HOST, role, h->ledger[idx + i] & LED_DIRTY);
		h->owner[idx + i] = vm_id;
	}
	h->stats.granules_free -= n;
	h->hint = idx + n;
	*pa = host_index_pa(h, idx);
	if (flags & PALLOC_ZERO) {
		int ret = zero_dirty(h, idx, n);
		if (ret) {
			host_pfree(h, *pa, n);
			return ret;
		}
	}
	return 0;
}

void host_pfree(struct rk_host *h, uint64_t pa, uint64_t n)
{
	uint64_t idx = 0;

	if (n == 0)
		return;
	if (n > 1 && !run_index(h, pa, n, &idx)) {
		for (uint64_t i = 0; i < n; i++)
			host_pfree(h, pa + i * G4K, 1);
		return;
	}
	if (n == 1 && !host_pa_index(h, pa, &idx)) {
		h->stats.ledger_errors++;
		return;
	}
	for (uint64_t i = idx; i < idx + n; i++) {
		if (led_state(h->ledger[i]) != RK_GRANULE_HOST) {
			/* double free, or freeing memory the RMM may hold: never */
			h->stats.ledger_errors++;
			continue;
		}
		h->ledger[i] = led_make(RK_GRANULE_FREE, RK_ROLE_NONE, h->ledger[i] & LED_DIRTY);
		h->owner[i] = 0;
		bm_clear(h->used, i);
		h->stats.granules_free++;
	}
}

uint64_t host_led_prefix(const struct rk_host *h, uint64_t pa, uint64_t n, unsigned int state, bool in)
{
	uint64_t idx, i;

	if (!run_index(h, pa, n, &idx)) {
		for (i = 0; i < n && (host_led_state(h, pa + i * G4K) == state) == in; i++)
			;
		return i;
	}
	for (i = 0; i < n && (led_state(h->ledger[idx + i]) == state) == in; i++)
		;
	return i;
}

unsigned int host_led_state(const struct rk_host *h, uint64_t pa)
{
	uint64_t idx;

	if (!host_pa_index(h, pa, &idx))
		return RK_GRANULE_RESERVED;
	return led_state(h->ledger[idx]);
}

void host_led_move(struct rk_host *h, uint64_t pa, uint64_t n, unsigned int from, unsigned int to)
{
	uint64_t idx;

	if (!run_index(h, pa, n, &idx)) {
		if (n > 1) {
			for (uint64_t i = 0; i < n; i++)
				host_led_move(h, pa + i * G4K, 1, from, to);
		} else if (n) {
			h->stats.ledger_errors++;
		}
		return;
	}
	for (uint64_t i = idx; i < idx + n; i++) {
		if (led_state(h->ledger[i]) != from) {
			h->stats.ledger_errors++;
			continue;
		}
		h->ledger[i] = (uint8_t)((h->ledger[i] & ~LED_STATE_MASK) | to);
	}
}

void host_led_dirty(struct rk_host *h, uint64_t pa, uint64_t n, bool dirty)
{
	uint64_t idx;

	if (!run_index(h, pa, n, &idx)) {
		for (uint64_t i = 0; n > 1 && i < n; i++)
			host_led_dirty(h, pa + i * G4K, 1, dirty);
		return;
	}
	for (uint64_t i = idx; i < idx + n; i++) {
		if (dirty)
			h->ledger[i] |= LED_DIRTY;
		else
			h->ledger[i] &= (uint8_t)~LED_DIRTY;
	}
}

static void leak_record(struct rk_host *h, uint64_t pa, uint64_t n, uint64_t fid, uint64_t x0,
			unsigned int role, uint32_t vm_id)
{
	struct rk_leak *last = h->nleaks ? &h->leaks[h->nleaks - 1] : NULL;

	if (last && last->pa + last->ngranules * G4K == pa && last->fid == fid && last->x0 == x0 &&
	    last->role == role && last->vm_id == vm_id) {
		last->ngranules += n;
		return;
	}
	if (h->nleaks == h->leaks_cap) {
		uint64_t cap = h->leaks_cap ? h->leaks_cap * 2 : 16;
		struct rk_leak *v = realloc(h->leaks, cap * sizeof(*v));
		if (!v) {
			/* the granules stay LEAKED (never reused) even if they cannot be listed */
			return;
		}
		h->leaks = v;
		h->leaks_cap = cap;
	}
	h->leaks[h->nleaks++] = (struct rk_leak){ pa, n, fid, x0, role, vm_id };
}

void host_leak(struct rk_host *h, uint64_t pa, uint64_t n, uint64_t fid, uint64_t x0)
{
	for (uint64_t i = 0; i < n; i++) {
		uint64_t idx;
		unsigned int st;

		if (!host_pa_index(h, pa + i * G4K, &idx)) {
			h->stats.ledger_errors++;
			continue;
		}
		st = led_state(h->ledger[idx]);
		if (st != RK_GRANULE_HOST && st != RK_GRANULE_DELEGATED && st != RK_GRANULE_RMM) {
			h->stats.ledger_errors++;
			continue;
		}
		h->ledger[idx] =
			(uint8_t)((h->ledger[idx] & ~LED_STATE_MASK) | RK_GRANULE_LEAKED | LED_DIRTY);
		h->stats.granules_leaked++;
		leak_record(h, pa + i * G4K, 1, fid, x0, h->ledger[idx] >> LED_ROLE_SHIFT, h->owner[idx]);
	}
}

/* ---- delegation ---- */

int host_delegate(struct rk_host *h, uint64_t pa, uint64_t n)
{
	uint64_t top = pa + n * G4K, x[5];

	while (pa < top) {
		uint64_t x0;

		host_rmi(h, RMI_FID_GRANULE_RANGE_DELEGATE, x, pa, top, 0, 0, 0);
		x0 = host_sro_finish(h, RMI_FID_GRANULE_RANGE_DELEGATE, x, 0);
		if (RMI_ST(x0) != RMI_SUCCESS || x[1] <= pa || x[1] > top || (x[1] & (G4K - 1)))
			return host_fail(h, RMI_ST(x0) == RMI_SUCCESS ? -EIO : host_rmi_errno(x0),
					 RMI_FID_GRANULE_RANGE_DELEGATE, x0,
					 "cannot delegate 0x%" PRIx64 "..0x%" PRIx64 ": %s", pa, top,
					 rk_rmi_status_name(x0));
		host_led_move(h, pa, (x[1] - pa) / G4K, RK_GRANULE_HOST, RK_GRANULE_DELEGATED);
		pa = x[1];
	}
	return 0;
}

int host_undelegate(struct rk_host *h, uint64_t pa, uint64_t n)
{
	uint64_t top = pa + n * G4K, x[5];

	while (pa < top) {
		uint64_t x0;

		host_rmi(h, RMI_FID_GRANULE_RANGE_UNDELEGATE, x, pa, top, 0, 0, 0);
		x0 = host_sro_finish(h, RMI_FID_GRANULE_RANGE_UNDELEGATE, x, 0);
		if (RMI_ST(x0) != RMI_SUCCESS || x[1] <= pa || x[1] > top || (x[1] & (G4K - 1))) {
			/* Linux free_delegated_page(): a granule that cannot be undelegated is leaked */
			host_leak(h, pa, (top - pa) / G4K, RMI_FID_GRANULE_RANGE_UNDELEGATE, x0);
			return host_fail(h, -EIO, RMI_FID_GRANULE_RANGE_UNDELEGATE, x0,
					 "cannot undelegate 0x%" PRIx64 "..0x%" PRIx64 ": %s; leaked", pa,
					 top, rk_rmi_status_name(x0));
		}
		host_led_move(h, pa, (x[1] - pa) / G4K, RK_GRANULE_DELEGATED, RK_GRANULE_HOST);
		/* the RMM scrubs on undelegate: the granules read as zeros again */
		host_led_dirty(h, pa, (x[1] - pa) / G4K, false);
		pa = x[1];
	}
	return 0;
}

int host_free_delegated(struct rk_host *h, uint64_t pa, uint64_t n)
{
	int ret = host_undelegate(h, pa, n);
	/* free what came back: the HOST granules at the start of the range; the rest is leaked */
	uint64_t back = host_led_prefix(h, pa, n, RK_GRANULE_HOST, true);

	if (back)
		host_pfree(h, pa, back);
	return ret;
}

/* Apply fn to each maximal run of granules of [pa, pa + n) in ledger state `state`. */
static int for_runs(struct rk_host *h, uint64_t pa, uint64_t n, unsigned int state,
		    int (*fn)(struct rk_host *, uint64_t, uint64_t))
{
	int ret = 0;

	for (uint64_t i = 0; i < n;) {
		uint64_t run = host_led_prefix(h, pa + i * G4K, n - i, state, true);
		if (run) {
			int r = fn(h, pa + i * G4K, run);
			if (r && !ret)
				ret = r;
			if (r && state == RK_GRANULE_HOST)
				return ret; /* delegation failed: stop there */
			i += run;
		} else {
			i += host_led_prefix(h, pa + i * G4K, n - i, state, false);
		}
	}
	return ret;
}

int host_delegate_runs(struct rk_host *h, uint64_t pa, uint64_t n)
{
	return for_runs(h, pa, n, RK_GRANULE_HOST, host_delegate);
}

int host_undelegate_runs(struct rk_host *h, uint64_t pa, uint64_t n)
{
	return for_runs(h, pa, n, RK_GRANULE_DELEGATED, host_undelegate);
}

/* ---- NS access: every host write to NS memory goes through here ---- */

int host_ns_write(struct rk_host *h, uint64_t pa, const void *buf, size_t len)
{
	uint64_t idx;
	int ret;

	if (host_pa_index(h, pa & ~(G4K - 1), &idx) && (h->ledger[idx] >> LED_ROLE_SHIFT) == RK_ROLE_S2_TABLE)
		h->stats.s2_table_writes += len / sizeof(uint64_t);
	else
		h->stats.ns_writes++;
	ret = rk_ns_write(h->m, pa, buf, len);
	if (!ret)
		host_led_dirty(h, pa & ~(G4K - 1), (((pa & (G4K - 1)) + len + G4K - 1) / G4K), true);
	return ret;
}

int host_ns_read(struct rk_host *h, uint64_t pa, void *buf, size_t len)
{
	return rk_ns_read(h->m, pa, buf, len);
}

int host_ns_zero(struct rk_host *h, uint64_t pa, uint64_t n)
{
	int ret = rk_ns_zero(h->m, pa, n * G4K);

	if (ret)
		return ret;
	h->stats.ns_writes++;
	host_led_dirty(h, pa, n, false);
	return 0;
}

/* ---- public: ledger and leak report ---- */

/* The public queries take the host lock (const: the lock is the only thing they change). */
#define LOCKED(h) host_lock((struct rk_host *)(h))
#define UNLOCKED(h) host_unlock((struct rk_host *)(h))

int rk_host_granule_info(const struct rk_host *h, uint64_t pa, struct rk_granule_info *out)
{
	uint64_t idx;

	if (!h || !out || !host_pa_index(h, pa & ~(G4K - 1), &idx))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	LOCKED(h);
	out->state = (uint8_t)led_state(h->ledger[idx]);
	out->role = (uint8_t)(h->ledger[idx] >> LED_ROLE_SHIFT);
	out->dirty = (h->ledger[idx] & LED_DIRTY) != 0;
	out->vm_id = h->owner[idx];
	UNLOCKED(h);
	return 0;
}

const char *rk_granule_state_name(unsigned int state)
{
	static const char *const names[] = { "FREE", "HOST", "DELEGATED", "RMM", "LEAKED", "RESERVED" };

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

const char *rk_granule_role_name(unsigned int role)
{
	static const char *const names[] = {
		"none", "host", "memslot", "s2-table", "RD", "RTT", "REC", "REC-aux",
	};

	return role < RK_ROLE_COUNT ? names[role] : "?";
}

size_t rk_host_leak_report(const struct rk_host *h, struct rk_leak *out, size_t cap)
{
	size_t n;

	if (!h)
		return 0;
	LOCKED(h);
	for (size_t i = 0; out && i < cap && i < h->nleaks; i++)
		out[i] = h->leaks[i];
	n = (size_t)h->nleaks;
	UNLOCKED(h);
	return n;
}

uint64_t rk_host_leaked_granules(const struct rk_host *h)
{
	uint64_t n;

	if (!h)
		return 0;
	LOCKED(h);
	n = h->stats.granules_leaked;
	UNLOCKED(h);
	return n;
}

static void print_leaks(const struct rk_host *h, FILE *f)
{
	fprintf(f, "leak report: %" PRIu64 " granule(s) leaked in %" PRIu64 " range(s)\n",
		h->stats.granules_leaked, h->nleaks);
	for (uint64_t i = 0; i < h->nleaks; i++) {
		const struct rk_leak *l = &h->leaks[i];
		fprintf(f, "  0x%012" PRIx64 " +%-6" PRIu64 " %-8s vm %-3u", l->pa, l->ngranules,
			rk_granule_role_name(l->role), l->vm_id);
		if (l->fid)
			fprintf(f, " after %s -> %s\n", rk_rmi_command_name(l->fid),
				rk_rmi_status_name(l->x0));
		else
			fprintf(f, " (no RMI failure: lost with an abandoned operation)\n");
	}
}

void rk_host_print_leaks(const struct rk_host *h, FILE *f)
{
	if (!h || !f)
		return;
	LOCKED(h);
	print_leaks(h, f);
	UNLOCKED(h);
}
