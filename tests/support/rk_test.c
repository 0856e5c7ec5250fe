/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "machine.h"
#include "payload_util.h"
#include "platform/platform.h"
#include "rk_test.h"
#include "rmm/realm.h"
#include "rmm/rec.h"
#include "rmm/rmm.h"
#include "rmm/s2tt.h"
#include "rmm/sro.h"

uint64_t rmi(struct rk_machine *m, uint64_t fid, struct rmi_out *out, int nargs, ...)
{
	struct rk_smc_regs r;
	va_list ap;

	memset(&r, 0, sizeof(r));
	r.x[0] = fid;
	va_start(ap, nargs);
	for (int i = 0; i < nargs; i++)
		r.x[1 + i] = va_arg(ap, uint64_t);
	va_end(ap);
	rk_smc(m, &r);
	if (out)
		memcpy(out->x, r.x, sizeof(out->x));
	return r.x[0];
}

uint64_t rmi_args(struct rk_machine *m, uint64_t fid, struct rmi_out *out, const uint64_t *args, int nargs)
{
	struct rk_smc_regs r;

	memset(&r, 0, sizeof(r));
	r.x[0] = fid;
	for (int i = 0; i < nargs; i++)
		r.x[1 + i] = args[i];
	rk_smc(m, &r);
	if (out)
		memcpy(out->x, r.x, sizeof(out->x));
	return r.x[0];
}

struct rk_machine *t_machine_inactive(uint64_t mib)
{
	struct rk_machine_config cfg;
	struct rk_machine *m = NULL;

	rk_machine_config_default(&cfg);
	cfg.dram_size = mib << 20;
	assert_int_equal(rk_machine_create(&cfg, &m), 0);
	return m;
}

struct rk_machine *t_machine(uint64_t mib)
{
	struct rk_machine *m = t_machine_inactive(mib);
	uint64_t cfg[2] = { 0, 0 };

	/* the config page: last granule of DRAM, NS */
	uint64_t pa = T_DRAM_BASE + (mib << 20) - G;
	t_write(m, pa, cfg, sizeof(cfg));
	assert_int_equal(RMI(m, RMI_FID_RMM_CONFIG_SET, NULL, pa), RMI_SUCCESS);
	assert_int_equal(RMI0(m, RMI_FID_RMM_ACTIVATE, NULL), RMI_SUCCESS);
	return m;
}

void t_write(struct rk_machine *m, uint64_t pa, const void *buf, size_t len)
{
	assert_int_equal(rk_ns_write(m, pa, buf, len), 0);
}

void t_read(struct rk_machine *m, uint64_t pa, void *buf, size_t len)
{
	assert_int_equal(rk_ns_read(m, pa, buf, len), 0);
}

enum granule_state t_gstate(struct rk_machine *m, uint64_t pa)
{
	struct granule *g = granule_from_pa(machine_rmm(m), pa);

	assert_non_null(g);
	return granule_state(g);
}

void t_check_gpt_consistent(struct rk_machine *m, uint64_t counts[GRANULE_STATE_COUNT])
{
	struct rmm *rmm = machine_rmm(m);
	struct platform *p = machine_platform(m);

	if (counts)
		memset(counts, 0, sizeof(uint64_t) * GRANULE_STATE_COUNT);
	for (uint64_t i = 0; i < p->ngranules; i++) {
		enum granule_state s = granule_state(&rmm->granules[i]);
		enum rk_pas pas = plat_gpt_get(p, i);

		assert_true(s < GRANULE_STATE_COUNT);
		if (s == GRANULE_STATE_NS)
			assert_true(pas != RK_PAS_REALM);
		else
			assert_int_equal(pas, RK_PAS_REALM);
		assert_int_equal(atomic_load(&rmm->granules[i].lock), 0);
		if (counts)
			counts[s]++;
	}
}

void t_assert_all_undelegated(struct rk_machine *m)
{
	uint64_t counts[GRANULE_STATE_COUNT];

	t_check_gpt_consistent(m, counts);
	assert_int_equal(counts[GRANULE_STATE_NS], rk_machine_dram_granules(m));
}

void t_delegate(struct rk_machine *m, uint64_t pa, uint64_t n)
{
	struct rmi_out o;
	uint64_t top = pa + n * G;

	while (pa < top) {
		assert_int_equal(RMI(m, RMI_FID_GRANULE_RANGE_DELEGATE, &o, pa, top), RMI_SUCCESS);
		assert_true(o.x[1] > pa);
		pa = o.x[1];
	}
}

void t_undelegate(struct rk_machine *m, uint64_t pa, uint64_t n)
{
	struct rmi_out o;
	uint64_t top = pa + n * G;

	while (pa < top) {
		assert_int_equal(RMI(m, RMI_FID_GRANULE_RANGE_UNDELEGATE, &o, pa, top), RMI_SUCCESS);
		assert_true(o.x[1] > pa);
		pa = o.x[1];
	}
}

void t_realm_params(struct rmi_realm_params *p, unsigned int s2sz, uint64_t rtt_base, unsigned int hash_algo)
{
	memset(p, 0, sizeof(*p));
	p->s2sz = s2sz;
	p->num_bps = 5;
	p->num_wps = 3;
	p->hash_algo = hash_algo;
	p->rtt_base = rtt_base;
}

uint64_t t_realm_create(struct rk_machine *m, uint64_t rd, uint64_t rtt_base, unsigned int s2sz,
			unsigned int start_level, unsigned int nroot, uint64_t params_pa,
			unsigned int hash_algo)
{
	static struct rmi_realm_params p;

	t_realm_params(&p, s2sz, rtt_base, hash_algo);
	p.rtt_level_start = start_level;
	p.rtt_num_start = nroot;
	t_write(m, params_pa, &p, sizeof(p));
	t_delegate(m, rd, 1);
	t_delegate(m, rtt_base, nroot);
	return RMI(m, RMI_FID_REALM_CREATE, NULL, rd, params_pa);
}

uint64_t t_read_entry(struct rk_machine *m, uint64_t rd, uint64_t ipa, int level, struct rmi_out *out)
{
	return RMI(m, RMI_FID_RTT_READ_ENTRY, out, rd, ipa, (uint64_t)level);
}

/* ---- more machines ---------------------------------------------------------------- */

struct rk_machine *t_machine_cfg(const struct rk_machine_config *cfg, bool activate)
{
	struct rk_machine *m = NULL;
	uint64_t conf[2] = { 0, 0 };

	assert_int_equal(rk_machine_create(cfg, &m), 0);
	if (activate) {
		struct rk_dram_bank b = rk_machine_bank(m, rk_machine_nbanks(m) - 1);
		uint64_t pa = b.base + b.size - G;

		t_write(m, pa, conf, sizeof(conf));
		assert_int_equal(RMI(m, RMI_FID_RMM_CONFIG_SET, NULL, pa), RMI_SUCCESS);
		assert_int_equal(RMI0(m, RMI_FID_RMM_ACTIVATE, NULL), RMI_SUCCESS);
	}
	return m;
}

/* ---- snapshots -------------------------------------------------------------------- */

struct t_snap {
	uint64_t n;
	uint8_t *state, *gpt;
	uint16_t *ref;
	uint8_t **content;
	int rmm_state;
	uint32_t cfg_gran, cfg_track;
	uint64_t vmid[RMM_MAX_VMIDS / 64];
};

struct t_snap *t_snap_take(struct rk_machine *m)
{
	struct rmm *rmm = machine_rmm(m);
	struct platform *p = machine_platform(m);
	struct t_snap *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->n = p->ngranules;
	s->state = malloc(s->n);
	s->gpt = malloc(s->n);
	s->ref = malloc(s->n * sizeof(uint16_t));
	s->content = calloc(s->n, sizeof(uint8_t *));
	assert_true(s->state && s->gpt && s->ref && s->content);
	for (uint64_t i = 0; i < s->n; i++) {
		struct granule *g = &rmm->granules[i];

		s->state[i] = g->state;
		s->ref[i] = g->refcount;
		s->gpt[i] = (uint8_t)plat_gpt_get(p, i);
		if (g->state != GRANULE_STATE_NS) {
			s->content[i] = malloc(G);
			assert_non_null(s->content[i]);
			memcpy(s->content[i], plat_gidx_ptr(p, i), G);
		}
	}
	s->rmm_state = atomic_load(&rmm->state);
	s->cfg_gran = rmm->config_granule_size;
	s->cfg_track = rmm->config_tracking_size;
	pthread_mutex_lock(&rmm->vmid_lock);
	memcpy(s->vmid, rmm->vmid_bitmap, sizeof(s->vmid));
	pthread_mutex_unlock(&rmm->vmid_lock);
	return s;
}

/*
 * The RD's architectural contents: geometry, state, algorithm, VMID, RECs,
 * flags, measurements, RPV and realm ID. Internal bookkeeping (run lock,
 * stage-2 generation counters for the CPU backend) is not compared.
 */
static bool rd_same(const uint8_t *a, const uint8_t *b)
{
	const struct rd *x = (const struct rd *)a, *y = (const struct rd *)b;

	return !memcmp(&x->s2, &y->s2, sizeof(x->s2)) && x->state == y->state &&
	       x->hash_algo == y->hash_algo && x->vmid == y->vmid && x->rec_count == y->rec_count &&
	       x->running_recs == y->running_recs && x->flags0 == y->flags0 &&
	       !memcmp(x->rim, y->rim, sizeof(x->rim)) && !memcmp(x->rem, y->rem, sizeof(x->rem)) &&
	       !memcmp(x->rpv, y->rpv, sizeof(x->rpv)) &&
	       !memcmp(x->realm_id, y->realm_id, sizeof(x->realm_id));
}

static bool contents_same(const struct t_snap *s, uint64_t i, const uint8_t *now)
{
	if (!s->content[i])
		return true;
	if (s->state[i] == GRANULE_STATE_RD)
		return rd_same(s->content[i], now);
	return !memcmp(s->content[i], now, G);
}

static void snap_check_at(struct rk_machine *m, const struct t_snap *s, const char *file, int line)
{
	struct rmm *rmm = machine_rmm(m);
	struct platform *p = machine_platform(m);

	assert_int_equal(s->n, p->ngranules);
	for (uint64_t i = 0; i < s->n; i++) {
		struct granule *g = &rmm->granules[i];
		bool same = g->state == s->state[i] && g->refcount == s->ref[i] &&
			    (uint8_t)plat_gpt_get(p, i) == s->gpt[i] && atomic_load(&g->lock) == 0 &&
			    contents_same(s, i, plat_gidx_ptr(p, i));
		if (!same) {
			if (file)
				print_error("%s:%d: state changed\n", file, line);
			print_error("granule at PA 0x%llx changed: state %u -> %u, refcount %u -> %u, "
				    "gpt %u -> %u, lock %u, contents %s\n",
				    (unsigned long long)plat_gidx_to_pa(p, i), s->state[i], g->state,
				    s->ref[i], g->refcount, s->gpt[i], (unsigned int)plat_gpt_get(p, i),
				    (unsigned int)atomic_load(&g->lock),
				    contents_same(s, i, plat_gidx_ptr(p, i)) ? "same" : "changed");
			fail();
		}
	}
	assert_int_equal(atomic_load(&rmm->state), s->rmm_state);
	assert_int_equal(rmm->config_granule_size, s->cfg_gran);
	assert_int_equal(rmm->config_tracking_size, s->cfg_track);
	pthread_mutex_lock(&rmm->vmid_lock);
	bool vmids_same = !memcmp(s->vmid, rmm->vmid_bitmap, sizeof(s->vmid));
	pthread_mutex_unlock(&rmm->vmid_lock);
	assert_true(vmids_same);
}

void t_snap_check(struct rk_machine *m, const struct t_snap *s)
{
	snap_check_at(m, s, NULL, 0);
}

void t_snap_free(struct t_snap *s)
{
	if (!s)
		return;
	for (uint64_t i = 0; i < s->n; i++)
		free(s->content[i]);
	free(s->content);
	free(s->state);
	free(s->gpt);
	free(s->ref);
	free(s);
}

uint64_t t_fail(const char *file, int line, struct rk_machine *m, uint64_t expect, struct rmi_out *out,
		uint64_t fid, const uint64_t *args, int nargs)
{
	struct t_snap *s = t_snap_take(m);
	struct rmi_out o;
	uint64_t x0 = rmi_args(m, fid, &o, args, nargs);

	if (x0 != expect) {
		print_error(
			"%s:%d: FID 0x%llx: x0 = 0x%llx (status %u index %u), expected 0x%llx (status %u index %u)\n",
			file, line, (unsigned long long)fid, (unsigned long long)x0, ST(x0), IDX(x0),
			(unsigned long long)expect, ST(expect), IDX(expect));
		fail();
	}
	snap_check_at(m, s, file, line);
	t_snap_free(s);
	if (out)
		*out = o;
	return x0;
}

/* ---- pool ------------------------------------------------------------------------ */

void t_pool_init(struct t_pool *p, uint64_t base, uint64_t n)
{
	p->next = base;
	p->end = base + n * G;
}

uint64_t t_pool_get(struct t_pool *p, uint64_t n, uint64_t align)
{
	uint64_t pa;

	if (align < G)
		align = G;
	pa = (p->next + align - 1) & ~(align - 1);
	assert_true(pa + n * G <= p->end);
	p->next = pa + n * G;
	return pa;
}

uint64_t t_pool_delegated(struct rk_machine *m, struct t_pool *p, uint64_t n, uint64_t align)
{
	uint64_t pa = t_pool_get(p, n, align);

	t_delegate(m, pa, n);
	return pa;
}

/* ---- realms ---------------------------------------------------------------------- */

uint64_t t_realm_new(struct rk_machine *m, struct t_pool *p, unsigned int s2sz, int start_level,
		     unsigned int nroot, unsigned int hash_algo)
{
	uint64_t params = t_pool_get(p, 1, 0);
	uint64_t rd = t_pool_get(p, 1, 0);
	uint64_t root = t_pool_get(p, nroot, nroot * G);

	assert_int_equal(
		t_realm_create(m, rd, root, s2sz, (unsigned int)start_level, nroot, params, hash_algo),
		RMI_SUCCESS);
	return rd;
}

void t_rtt_create(struct rk_machine *m, uint64_t rd, uint64_t rtt, uint64_t ipa, int level)
{
	uint64_t x0 = RMI(m, RMI_FID_RTT_CREATE, NULL, rd, rtt, ipa, (uint64_t)level);

	if (x0 != RMI_SUCCESS) {
		print_error("RTT_CREATE(ipa 0x%llx, level %d): status %u index %u\n", (unsigned long long)ipa,
			    level, ST(x0), IDX(x0));
		fail();
	}
}

void t_rtt_to(struct rk_machine *m, uint64_t rd, uint64_t ipa, int level, struct t_pool *p)
{
	for (;;) {
		struct rmi_out o;
		uint64_t a = ipa & ~(s2_level_size(level) - 1);

		assert_int_equal(RMI(m, RMI_FID_RTT_READ_ENTRY, &o, rd, a, (uint64_t)level), RMI_SUCCESS);
		if ((int)o.x[1] >= level)
			return;
		t_rtt_create(m, rd, t_pool_delegated(m, p, 1, 0), ipa & ~(s2_level_size((int)o.x[1]) - 1),
			     (int)o.x[1] + 1);
	}
}

/* ---- looking inside ----------------------------------------------------------------- */

static struct granule *t_granule(struct rk_machine *m, uint64_t pa)
{
	struct granule *g = granule_from_pa(machine_rmm(m), pa);

	assert_non_null(g);
	return g;
}

struct rd *t_rd(struct rk_machine *m, uint64_t rd)
{
	struct granule *g = t_granule(m, rd);

	assert_int_equal(granule_state(g), GRANULE_STATE_RD);
	return rd_of(machine_rmm(m), g);
}

unsigned int t_realm_state(struct rk_machine *m, uint64_t rd)
{
	return t_rd(m, rd)->state;
}

const uint8_t *t_rim(struct rk_machine *m, uint64_t rd)
{
	return t_rd(m, rd)->rim;
}

uint16_t t_refcount(struct rk_machine *m, uint64_t pa)
{
	return t_granule(m, pa)->refcount;
}

uint8_t *t_gptr(struct rk_machine *m, uint64_t pa)
{
	return granule_ptr(machine_rmm(m), t_granule(m, pa));
}

bool t_gzero(struct rk_machine *m, uint64_t pa)
{
	const uint8_t *p = t_gptr(m, pa);

	for (size_t i = 0; i < G; i++)
		if (p[i])
			return false;
	return true;
}

uint64_t t_raw_entry(struct rk_machine *m, uint64_t rd, uint64_t ipa, int level, int *reached)
{
	struct rmm *rmm = machine_rmm(m);
	struct s2tt_ctx c = t_rd(m, rd)->s2;
	int l = c.start_level;
	uint64_t ri = ipa >> s2_level_shift(l);
	const uint64_t *t = (const uint64_t *)t_gptr(m, c.rtt_base + (ri / S2_ENTRIES) * G);
	uint64_t e = t[ri % S2_ENTRIES];

	while (l < level && s2tte_kind(e, l) == S2TTE_TABLE) {
		t = (const uint64_t *)t_gptr(m, s2tte_oa(e));
		l++;
		e = t[s2tt_index(&c, ipa, l)];
	}
	(void)rmm;
	if (reached)
		*reached = l;
	return e;
}

int t_entry_kind(struct rk_machine *m, uint64_t rd, uint64_t ipa, int level)
{
	int reached = 0;
	uint64_t e = t_raw_entry(m, rd, ipa, level, &reached);

	assert_int_equal(reached, level);
	return (int)s2tte_kind(e, level);
}

struct check_ctx {
	struct rk_machine *m;
	struct s2tt_ctx c;
	uint8_t *seen;
	uint64_t nrtt, ndata;
};

static void check_table(struct check_ctx *x, uint64_t pa, int level, uint64_t ipa0)
{
	struct rmm *rmm = machine_rmm(x->m);
	struct granule *g = t_granule(x->m, pa);
	const uint64_t *t = (const uint64_t *)granule_ptr(rmm, g);
	uint64_t esz = s2_level_size(level), lim = s2tt_ipa_limit(&x->c);
	unsigned int live = 0;

	assert_int_equal(granule_state(g), GRANULE_STATE_RTT);
	assert_int_equal(x->seen[g - rmm->granules], 0);
	x->seen[g - rmm->granules] = 1;
	x->nrtt++;
	for (unsigned int i = 0; i < S2_ENTRIES; i++) {
		uint64_t e = t[i], ipa = ipa0 + i * esz;
		enum s2tte_kind k = s2tte_kind(e, level);

		if (ipa >= lim) {
			assert_false(s2tte_is_live(e, level));
			continue;
		}
		switch (k) {
		case S2TTE_TABLE:
			assert_true(level < S2_MAX_LEVEL);
			live++;
			check_table(x, s2tte_oa(e), level + 1, ipa);
			break;
		case S2TTE_ASSIGNED:
			assert_true(s2tt_ipa_protected(&x->c, ipa));
			assert_true(level >= S2_MIN_BLOCK_LEVEL);
			assert_true(s2tt_aligned(s2tte_oa(e), level));
			assert_true(s2tte_ripas(e, level) <= RMI_RIPAS_DESTROYED);
			live++;
			for (uint64_t a = s2tte_oa(e); a < s2tte_oa(e) + esz; a += G) {
				struct granule *d = t_granule(x->m, a);

				assert_int_equal(granule_state(d), GRANULE_STATE_DATA);
				assert_int_equal(x->seen[d - rmm->granules], 0);
				x->seen[d - rmm->granules] = 1;
				x->ndata++;
			}
			break;
		case S2TTE_ASSIGNED_NS:
			assert_false(s2tt_ipa_protected(&x->c, ipa));
			assert_true(level >= S2_MIN_BLOCK_LEVEL);
			live++;
			break;
		case S2TTE_UNASSIGNED:
			assert_true(s2tt_ipa_protected(&x->c, ipa));
			assert_true(s2tte_ripas(e, level) <= RMI_RIPAS_DESTROYED);
			break;
		case S2TTE_UNASSIGNED_NS:
			assert_false(s2tt_ipa_protected(&x->c, ipa));
			break;
		}
	}
	if (g->refcount != live) {
		print_error("RTT at 0x%llx (level %d, ipa 0x%llx): refcount %u, live entries %u\n",
			    (unsigned long long)pa, level, (unsigned long long)ipa0, g->refcount, live);
		fail();
	}
}

/* The RECs (state REC) owned by the realm at rd. */
static unsigned int recs_of(struct rk_machine *m, uint64_t rd)
{
	struct rmm *rmm = machine_rmm(m);
	struct platform *p = machine_platform(m);
	unsigned int n = 0;

	for (uint64_t i = 0; i < p->ngranules; i++)
		if (granule_state(&rmm->granules[i]) == GRANULE_STATE_REC &&
		    rec_of(rmm, &rmm->granules[i])->rd == rd)
			n++;
	return n;
}

/* Check a realm's tables; `seen` marks granules already found (shared between realms). */
static void check_realm_seen(struct rk_machine *m, uint64_t rd, uint8_t *seen, uint64_t *nrtt,
			     uint64_t *ndata)
{
	struct check_ctx x = { .m = m, .c = t_rd(m, rd)->s2, .seen = seen };
	uint64_t span = s2_level_size(x.c.start_level) * S2_ENTRIES;

	/* the RD counts its RECs (none running: no REC_ENTER in progress) */
	assert_int_equal(t_granule(m, rd)->refcount, recs_of(m, rd));
	for (unsigned int i = 0; i < x.c.num_root; i++)
		check_table(&x, x.c.rtt_base + i * G, x.c.start_level, i * span);
	if (nrtt)
		*nrtt += x.nrtt;
	if (ndata)
		*ndata += x.ndata;
}

void t_check_realm(struct rk_machine *m, uint64_t rd, uint64_t *nrtt, uint64_t *ndata)
{
	uint8_t *seen = calloc(machine_platform(m)->ngranules, 1);

	assert_non_null(seen);
	check_realm_seen(m, rd, seen, nrtt, ndata);
	free(seen);
}

void t_check_machine(struct rk_machine *m)
{
	struct rmm *rmm = machine_rmm(m);
	struct platform *p = machine_platform(m);
	struct sro_pool *pool = rmm->sro;
	uint64_t counts[GRANULE_STATE_COUNT], nrtt = 0, ndata = 0, nrd = 0, nrec = 0, naux = 0, npartial = 0;
	uint8_t *seen = calloc(p->ngranules, 1), *aux = calloc(p->ngranules, 1);

	assert_non_null(seen);
	assert_non_null(aux);
	t_check_gpt_consistent(m, counts);
	for (uint64_t i = 0; i < p->ngranules; i++) {
		struct granule *g = &rmm->granules[i];

		if (granule_state(g) == GRANULE_STATE_RD) {
			check_realm_seen(m, plat_gidx_to_pa(p, i), seen, &nrtt, &ndata);
			nrd++;
		} else if (granule_state(g) == GRANULE_STATE_REC) {
			const struct rec *r = rec_of(rmm, g);
			struct granule *o = granule_from_pa(rmm, r->rd);

			/* its RD exists; its aux granules are its own */
			assert_non_null(o);
			assert_int_equal(granule_state(o), GRANULE_STATE_RD);
			assert_int_equal(g->refcount, 0);
			for (unsigned int k = 0; k < REC_NUM_AUX; k++) {
				struct granule *a = granule_from_pa(rmm, r->aux[k]);

				assert_non_null(a);
				assert_int_equal(granule_state(a), GRANULE_STATE_REC_AUX);
				assert_int_equal(aux[a - rmm->granules], 0);
				aux[a - rmm->granules] = 1;
				naux++;
			}
			nrec++;
		}
	}
	/* every RTT and DATA granule is in exactly one realm's tables (DATA mapped once) */
	assert_int_equal(counts[GRANULE_STATE_RD], nrd);
	assert_int_equal(counts[GRANULE_STATE_RTT], nrtt);
	assert_int_equal(counts[GRANULE_STATE_DATA], ndata);
	assert_int_equal(counts[GRANULE_STATE_REC], nrec);
	/* PARTIAL objects and the REC_AUX granules not held by a REC belong to a pending operation */
	pthread_mutex_lock(&pool->lock);
	for (unsigned int h = 0; h < RMM_SRO_CONTEXTS; h++) {
		const struct sro_ctx *c = &pool->ctx[h];
		unsigned int held;

		if (c->state != SRO_SEALED)
			continue;
		npartial++;
		assert_int_equal(t_gstate(m, c->rec), GRANULE_STATE_PARTIAL);
		held = c->next == SRO_NEXT_RECLAIM ? c->nreclaim : c->naux;
		assert_true(held <= REC_NUM_AUX);
		for (unsigned int k = 0; k < held; k++) {
			struct granule *a = granule_from_pa(rmm, c->aux[k]);

			assert_non_null(a);
			assert_int_equal(granule_state(a), GRANULE_STATE_REC_AUX);
			assert_int_equal(aux[a - rmm->granules], 0);
			aux[a - rmm->granules] = 1;
			naux++;
		}
	}
	pthread_mutex_unlock(&pool->lock);
	assert_int_equal(counts[GRANULE_STATE_PARTIAL], npartial);
	assert_int_equal(counts[GRANULE_STATE_REC_AUX], naux);
	free(seen);
	free(aux);
}

bool t_check_host_access(struct rk_machine *m, uint64_t pa)
{
	struct platform *p = machine_platform(m);
	uint8_t b[8] = { 0 };
	bool ns = plat_pa_is_ns(p, pa);

	if (ns && t_gstate(m, pa) != GRANULE_STATE_NS)
		return false; /* a granule the RMM holds is in the NS PAS */
	if ((rk_ns_read(m, pa, b, sizeof(b)) == 0) != ns)
		return false;
	return ns || rk_ns_write(m, pa, b, sizeof(b)) != 0;
}

static void unmap_all(struct rk_machine *m, uint64_t rd, uint64_t fid, uint64_t base, uint64_t top)
{
	struct rmi_out o;

	for (uint64_t ipa = base; ipa < top; ipa = o.x[1]) {
		uint64_t x0 = RMI(m, fid, &o, rd, ipa, top, 0, 0);

		if (x0 != RMI_SUCCESS) {
			print_error("unmap at 0x%llx: status %u index %u\n", (unsigned long long)ipa, ST(x0),
				    IDX(x0));
			fail();
		}
		assert_true(o.x[1] > ipa);
	}
}

static void destroy_below(struct rk_machine *m, uint64_t rd, const struct s2tt_ctx *c, uint64_t base,
			  int level, uint64_t span)
{
	uint64_t esz = s2_level_size(level);

	if (level >= S2_MAX_LEVEL)
		return;
	for (uint64_t ipa = base; ipa - base < span && ipa < s2tt_ipa_limit(c); ipa += esz) {
		struct rmi_out o, d;

		assert_int_equal(RMI(m, RMI_FID_RTT_READ_ENTRY, &o, rd, ipa, (uint64_t)level), RMI_SUCCESS);
		if ((int)o.x[1] != level || o.x[2] != RMI_RTTE_TABLE)
			continue;
		destroy_below(m, rd, c, ipa, level + 1, esz);
		assert_int_equal(RMI(m, RMI_FID_RTT_DESTROY, &d, rd, ipa, (uint64_t)level + 1), RMI_SUCCESS);
		assert_int_equal(d.x[1], o.x[3]);
	}
}

void t_realm_teardown(struct rk_machine *m, uint64_t rd)
{
	struct s2tt_ctx c = t_rd(m, rd)->s2;
	uint64_t half = 1ULL << (c.s2sz - 1), lim = 1ULL << c.s2sz;

	assert_int_equal(RMI(m, RMI_FID_REALM_TERMINATE, NULL, rd), RMI_SUCCESS);
	unmap_all(m, rd, RMI_FID_RTT_DATA_UNMAP, 0, half);
	unmap_all(m, rd, RMI_FID_RTT_UNPROT_UNMAP, half, lim);
	destroy_below(m, rd, &c, 0, c.start_level, lim);
	assert_int_equal(RMI(m, RMI_FID_REALM_DESTROY, NULL, rd), RMI_SUCCESS);
}

void t_undelegate_all(struct rk_machine *m)
{
	struct rmm *rmm = machine_rmm(m);
	struct platform *p = machine_platform(m);

	for (uint64_t i = 0; i < p->ngranules;) {
		uint64_t j = i;

		while (j < p->ngranules && granule_state(&rmm->granules[j]) == GRANULE_STATE_DELEGATED &&
		       plat_gidx_bank(p, j) == plat_gidx_bank(p, i))
			j++;
		if (j > i)
			t_undelegate(m, plat_gidx_to_pa(p, i), j - i);
		i = j > i ? j : i + 1;
	}
}

/* Drive the pending operation `h` to its end as a host would: donate or reclaim what it asks for, continue. */
static void finish_sro(struct rk_machine *m, uint64_t h, uint64_t list)
{
	struct rmm *rmm = machine_rmm(m);
	struct platform *p = machine_platform(m);

	for (unsigned int step = 0; step < 4 * REC_NUM_AUX; step++) {
		const struct sro_ctx *c = &rmm->sro->ctx[h];
		struct rmi_out o;
		uint64_t x0;

		if (c->state != SRO_SEALED)
			return;
		if (c->next == SRO_NEXT_DONATE) {
			uint64_t descs[REC_NUM_AUX], n = 0;

			for (uint64_t i = 0; i < p->ngranules && n < REC_NUM_AUX - c->naux; i++)
				if (granule_state(&rmm->granules[i]) == GRANULE_STATE_DELEGATED)
					descs[n++] = t_desc(plat_gidx_to_pa(p, i), 3, 1);
			for (uint64_t i = 0; i < p->ngranules && n < REC_NUM_AUX - c->naux; i++)
				if (granule_state(&rmm->granules[i]) == GRANULE_STATE_NS &&
				    plat_gidx_to_pa(p, i) != list && plat_gpt_get(p, i) == RK_PAS_NS) {
					t_delegate(m, plat_gidx_to_pa(p, i), 1);
					descs[n++] = t_desc(plat_gidx_to_pa(p, i), 3, 1);
				}
			t_write(m, list, descs, n * sizeof(uint64_t));
			x0 = RMI(m, RMI_FID_OP_MEM_DONATE, &o, h, list, n);
		} else if (c->next == SRO_NEXT_RECLAIM) {
			x0 = RMI(m, RMI_FID_OP_MEM_RECLAIM, &o, h, list, (uint64_t)REC_NUM_AUX);
		} else {
			x0 = RMI(m, RMI_FID_OP_CONTINUE, &o, h, 0ULL);
		}
		if (ST(x0) != RMI_SUCCESS && ST(x0) != RMI_INCOMPLETE && c->state == SRO_SEALED) {
			print_error("operation %llu (op %u, next %u): status %u index %u\n",
				    (unsigned long long)h, c->op, c->next, ST(x0), IDX(x0));
			fail();
		}
	}
	print_error("operation %llu did not end\n", (unsigned long long)h);
	fail();
}

void t_teardown_all(struct rk_machine *m)
{
	struct rmm *rmm = machine_rmm(m);
	struct platform *p = machine_platform(m);
	uint64_t list = ~0ULL;

	/* an NS granule for the operations' lists (if every one is delegated, undelegate one) */
	for (uint64_t i = 0; i < p->ngranules && list == ~0ULL; i++)
		if (granule_state(&rmm->granules[i]) == GRANULE_STATE_NS && plat_gpt_get(p, i) == RK_PAS_NS)
			list = plat_gidx_to_pa(p, i);
	for (uint64_t i = 0; i < p->ngranules && list == ~0ULL; i++)
		if (granule_state(&rmm->granules[i]) == GRANULE_STATE_DELEGATED) {
			list = plat_gidx_to_pa(p, i);
			t_undelegate(m, list, 1);
		}
	for (uint64_t h = 0; h < RMM_SRO_CONTEXTS; h++)
		if (rmm->sro->ctx[h].state == SRO_SEALED) {
			assert_true(list != ~0ULL);
			finish_sro(m, h, list);
		}
	for (uint64_t i = 0; i < p->ngranules; i++)
		if (granule_state(&rmm->granules[i]) == GRANULE_STATE_REC) {
			struct rmi_out o;

			assert_int_equal(RMI(m, RMI_FID_REC_DESTROY, &o, plat_gidx_to_pa(p, i)),
					 (uint64_t)RMI_INCOMPLETE | (2u << 8));
			finish_sro(m, o.x[1], list);
			assert_int_equal(granule_state(&rmm->granules[i]), GRANULE_STATE_DELEGATED);
		}
	for (uint64_t i = 0; i < p->ngranules; i++)
		if (granule_state(&rmm->granules[i]) == GRANULE_STATE_RD)
			t_realm_teardown(m, plat_gidx_to_pa(p, i));
	t_undelegate_all(m);
	t_assert_all_undelegated(m);
}

/* ---- measurement model ------------------------------------------------------------ */

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

size_t t_ref_hash(unsigned int algo, const void *data, size_t len, uint8_t out[64])
{
	const EVP_MD *md = algo == 0 ? EVP_sha256() : algo == 1 ? EVP_sha512() : EVP_sha384();
	unsigned int n = 0;

	assert_true(algo <= 2);
	memset(out, 0, 64);
	assert_int_equal(EVP_Digest(data, len, out, &n, md, NULL), 1);
	assert_int_equal(n, algo == 0 ? 32 : algo == 1 ? 64 : 48);
	return n;
}

void t_ref_rim_init(unsigned int algo, uint64_t flags0, uint64_t s2sz, uint64_t sve_vl, uint64_t num_bps,
		    uint64_t num_wps, uint64_t pmu_num_ctrs, uint8_t rim[64])
{
	static uint8_t img[4096];

	memset(img, 0, sizeof(img));
	put64(&img[0x00], flags0);
	put64(&img[0x08], s2sz);
	put64(&img[0x10], sve_vl);
	put64(&img[0x18], num_bps);
	put64(&img[0x20], num_wps);
	put64(&img[0x28], pmu_num_ctrs);
	img[0x30] = (uint8_t)algo;
	t_ref_hash(algo, img, sizeof(img), rim);
}

void t_ref_rim_extend_data(unsigned int algo, uint8_t rim[64], uint64_t ipa, uint64_t flags,
			   const uint8_t page[4096])
{
	uint8_t d[256];

	memset(d, 0, sizeof(d));
	d[0x00] = 0; /* DATA */
	put64(&d[0x08], sizeof(d));
	memcpy(&d[0x10], rim, 64);
	put64(&d[0x50], ipa);
	put64(&d[0x58], flags);
	if (flags == 1)
		t_ref_hash(algo, page, 4096, &d[0x60]);
	t_ref_hash(algo, d, sizeof(d), rim);
}

/* ---- time ------------------------------------------------------------------------- */

double t_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint8_t *t_load_payload(const char *name, size_t *len)
{
	const char *dir = getenv("RK_BINARY_DIR");
	char path[4096];
	uint8_t *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/guest/%s.bin", dir ? dir : ".", name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}
