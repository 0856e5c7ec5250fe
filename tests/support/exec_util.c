/* SPDX-License-Identifier: MIT */
/* The realm-execution test harness: see exec_util.h. */
#include <sched.h>

#include "exec_util.h"

struct xenv env;
static struct xr_blocked *xr_active_block; /* a REC held running (see xr_block_start) */

static void xr_block_release(struct xr_blocked *b);

static void xenv_init(struct xenv *e)
{
	e->m = t_machine(XR_MIB);
	t_pool_init(&e->pool, XR_POOL_BASE, XR_POOL_GRANULES);
}

static void xenv_fini(struct xenv *e)
{
	if (xr_active_block) /* a test failed while it held a REC running */
		xr_block_release(xr_active_block);
	rk_machine_destroy(e->m);
	e->m = NULL;
}

int xenv_setup(void **state)
{
	(void)state;
	xenv_init(&env);
	return 0;
}

int xenv_teardown(void **state)
{
	(void)state;
	xenv_fini(&env);
	return 0;
}

uint64_t xr_ns_page(struct xr *x)
{
	return t_pool_get(&x->e->pool, 1, 0);
}

uint64_t xr_delegated(struct xr *x, uint64_t n)
{
	return t_pool_delegated(x->m, &x->e->pool, n, 0);
}

void xr_init_ripas(struct xr *x, uint64_t base, uint64_t top)
{
	struct rmi_out o;

	while (base < top) {
		t_rtt_to(x->m, x->rd, base, 3, &x->e->pool);
		assert_int_equal(RMI(x->m, RMI_FID_RTT_INIT_RIPAS, &o, x->rd, base, top), RMI_SUCCESS);
		assert_true(o.x[1] > base);
		base = o.x[1];
	}
}

void xr_create(struct xenv *e, struct xr *x, unsigned int hash, const uint8_t *rpv)
{
	static struct rmi_realm_params p;

	memset(x, 0, sizeof(*x));
	x->e = e;
	x->m = e->m;
	x->hash = hash;
	x->params = xr_ns_page(x);
	x->ns = xr_ns_page(x);
	x->list = xr_ns_page(x);
	x->rd = t_pool_delegated(x->m, &e->pool, 1, 0);
	x->root = t_pool_delegated(x->m, &e->pool, 2, 2 * G);
	for (int i = 0; i < 64; i++)
		x->rpv[i] = rpv ? rpv[i] : (uint8_t)(0xa0 + i + (x->rd >> 12));
	t_realm_params(&p, XR_S2SZ, x->root, hash);
	p.rtt_level_start = 1;
	p.rtt_num_start = 2;
	memcpy(p.rpv, x->rpv, sizeof(p.rpv));
	t_write(x->m, x->params, &p, sizeof(p));
	assert_int_equal(RMI(x->m, RMI_FID_REALM_CREATE, NULL, x->rd, x->params), RMI_SUCCESS);
	xr_init_ripas(x, 0, XR_RAM_TOP);
}

uint64_t xr_page(struct xr *x, uint64_t ipa, const void *content, uint64_t measure)
{
	static uint8_t zero[4096];
	uint64_t pa = xr_delegated(x, 1);

	t_rtt_to(x->m, x->rd, ipa, 3, &x->e->pool);
	t_write(x->m, x->ns, content ? content : zero, 4096);
	assert_int_equal(RMI(x->m, RMI_FID_RTT_DATA_MAP_INIT, NULL, x->rd, pa, ipa, x->ns, measure),
			 RMI_SUCCESS);
	return pa;
}

uint64_t xr_load(struct xr *x, uint64_t ipa, const uint32_t *w, unsigned int n)
{
	static uint32_t page[1024];
	unsigned int pages = n ? (n + 1023) / 1024 : 1;
	uint64_t first = 0;

	for (unsigned int k = 0; k < pages; k++) {
		unsigned int cnt = n - k * 1024 < 1024 ? n - k * 1024 : 1024;
		memset(page, 0, sizeof(page));
		memcpy(page, w + k * 1024, cnt * 4);
		uint64_t pa = xr_page(x, ipa + k * G, page, RMI_MEASURE_CONTENT);
		if (k == 0)
			first = pa;
	}
	return first;
}

uint64_t xr_map(struct xr *x, uint64_t ipa)
{
	struct rmi_out o;
	uint64_t pa = xr_delegated(x, 1);

	t_rtt_to(x->m, x->rd, ipa, 3, &x->e->pool);
	assert_int_equal(RMI(x->m, RMI_FID_RTT_DATA_MAP, &o, x->rd, ipa, ipa + G,
			     (uint64_t)RMI_ADDR_TYPE_SINGLE, t_desc(pa, 3, 1)),
			 RMI_SUCCESS);
	assert_int_equal(o.x[1], ipa + G);
	return pa;
}

void xr_unmap(struct xr *x, uint64_t ipa)
{
	struct rmi_out o;

	assert_int_equal(RMI(x->m, RMI_FID_RTT_DATA_UNMAP, &o, x->rd, ipa, ipa + G, 0ULL, 0ULL), RMI_SUCCESS);
	assert_int_equal(o.x[1], ipa + G);
}

void xr_activate(struct xr *x)
{
	assert_int_equal(RMI(x->m, RMI_FID_REALM_ACTIVATE, NULL, x->rd), RMI_SUCCESS);
}

void xr_rec_params(struct xr *x, uint64_t flags, uint64_t mpidr, uint64_t pc, const uint64_t *g8)
{
	static struct rmi_rec_params p;

	memset(&p, 0, sizeof(p));
	p.flags = flags;
	p.mpidr = mpidr;
	p.pc = pc;
	if (g8)
		memcpy(p.gprs, g8, sizeof(p.gprs));
	t_write(x->m, x->ns, &p, sizeof(p));
}

uint64_t xr_rec_create_sro(struct xr *x, uint64_t rec_pa)
{
	struct rmi_out o;
	uint64_t list[REC_NUM_AUX], aux, h, x0;

	x0 = RMI(x->m, RMI_FID_REC_CREATE, &o, x->rd, rec_pa, x->ns);
	if (x0 != XR_INCOMPLETE_DONATE)
		return x0;
	h = o.x[1];
	aux = xr_delegated(x, REC_NUM_AUX);
	for (unsigned int i = 0; i < REC_NUM_AUX; i++)
		list[i] = t_desc(aux + i * G, 3, 1);
	t_write(x->m, x->list, list, sizeof(list));
	assert_int_equal(RMI(x->m, RMI_FID_OP_MEM_DONATE, &o, h, x->list, (uint64_t)REC_NUM_AUX),
			 RMI_INCOMPLETE);
	assert_int_equal(o.x[1], REC_NUM_AUX);
	x0 = RMI(x->m, RMI_FID_OP_CONTINUE, &o, h, 0ULL);
	if (x0 != XR_INCOMPLETE_RECLAIM)
		return x0;
	assert_int_equal(RMI(x->m, RMI_FID_OP_MEM_RECLAIM, &o, h, x->list, (uint64_t)REC_NUM_AUX),
			 RMI_INCOMPLETE);
	assert_int_equal(o.x[1], REC_NUM_AUX);
	for (unsigned int i = 0; i < REC_NUM_AUX; i++)
		assert_int_equal(t_gstate(x->m, aux + i * G), GRANULE_STATE_DELEGATED);
	x0 = RMI(x->m, RMI_FID_OP_CONTINUE, &o, h, 0ULL);
	assert_int_equal(t_gstate(x->m, rec_pa), GRANULE_STATE_DELEGATED);
	return x0;
}

unsigned int xr_rec_g(struct xr *x, bool runnable, uint64_t pc, const uint64_t *g8)
{
	unsigned int i = x->nrec;

	assert_true(i < XR_MAX_REC);
	x->rec[i] = xr_delegated(x, 1);
	x->run[i] = xr_ns_page(x);
	xr_rec_params(x, runnable ? 1 : 0, rec_index_mpidr(i), pc, g8);
	assert_int_equal(xr_rec_create_sro(x, x->rec[i]), RMI_SUCCESS);
	assert_int_equal(t_gstate(x->m, x->rec[i]), GRANULE_STATE_REC);
	x->nrec++;
	return i;
}

unsigned int xr_rec(struct xr *x, bool runnable, uint64_t pc)
{
	uint64_t g8[8] = { XR_HC_IPA + 0x100ULL * x->nrec };

	return xr_rec_g(x, runnable, pc, g8);
}

void xr_rec_destroy(struct xr *x, uint64_t rec_pa)
{
	struct rmi_out o;
	uint64_t h;

	assert_int_equal(RMI(x->m, RMI_FID_REC_DESTROY, &o, rec_pa), XR_INCOMPLETE_RECLAIM);
	h = o.x[1];
	assert_int_equal(RMI(x->m, RMI_FID_OP_MEM_RECLAIM, &o, h, x->list, (uint64_t)REC_NUM_AUX),
			 RMI_INCOMPLETE);
	assert_int_equal(o.x[1], REC_NUM_AUX);
	assert_int_equal(RMI(x->m, RMI_FID_OP_CONTINUE, &o, h, 0ULL), RMI_SUCCESS);
	assert_int_equal(t_gstate(x->m, rec_pa), GRANULE_STATE_DELEGATED);
}

void xr_teardown(struct xr **xs, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++)
		for (unsigned int i = 0; i < xs[k]->nrec; i++)
			if (t_gstate(xs[k]->m, xs[k]->rec[i]) == GRANULE_STATE_REC)
				xr_rec_destroy(xs[k], xs[k]->rec[i]);
	t_teardown_all(xs[0]->m);
}

struct rec *xr_recp(struct xr *x, unsigned int i)
{
	struct rmm *rmm = machine_rmm(x->m);

	return rec_of(rmm, granule_from_pa(rmm, x->rec[i]));
}

uint64_t xr_pc(struct xr *x, unsigned int i)
{
	uint64_t pc = 0;

	assert_non_null(xr_recp(x, i)->cpu);
	assert_int_equal(rk_cpu_get_reg(xr_recp(x, i)->cpu, RK_CPU_REG_PC, &pc), 0);
	return pc;
}

/* A granule's refcount read under its lock (a REC's is 1 while it runs). */
static uint16_t xr_refcount_locked(struct rk_machine *m, uint64_t pa)
{
	struct granule *g = granule_from_pa(machine_rmm(m), pa);
	uint16_t rc;

	granule_lock(g);
	rc = g->refcount;
	granule_unlock(g);
	return rc;
}

uint64_t xr_enter1_run(struct xr *x, unsigned int i, uint64_t run, uint64_t flags, const uint64_t *gprs,
		       struct rmi_rec_exit *ex)
{
	static _Thread_local struct rmi_rec_run r;
	uint64_t x0;

	memset(&r, 0, sizeof(r));
	r.enter.flags = flags;
	if (gprs)
		memcpy(r.enter.gprs, gprs, sizeof(r.enter.gprs));
	memset(&r.exit, XR_EXIT_FILL, sizeof(r.exit));
	t_write(x->m, run, &r, sizeof(r));
	x0 = RMI(x->m, RMI_FID_REC_ENTER, NULL, x->rec[i], run);
	t_read(x->m, run + RMI_REC_RUN_OFF_EXIT, ex, sizeof(*ex));
	if (x0 != RMI_SUCCESS) {
		const uint8_t *b = (const uint8_t *)ex;
		for (size_t k = 0; k < sizeof(*ex); k++)
			if (b[k] != XR_EXIT_FILL) {
				print_error("failed REC_ENTER wrote the exit record (byte 0x%zx)\n", k);
				fail();
			}
	}
	return x0;
}

uint64_t xr_enter1(struct xr *x, unsigned int i, uint64_t flags, const uint64_t *gprs,
		   struct rmi_rec_exit *ex)
{
	return xr_enter1_run(x, i, x->run[i], flags, gprs, ex);
}

uint64_t xr_enter(struct xr *x, unsigned int i, uint64_t flags, const uint64_t *gprs, struct rmi_rec_exit *ex)
{
	uint64_t x0 = xr_enter1(x, i, flags, gprs, ex);
	double t0 = t_now();

	while (x0 == RMI_SUCCESS && ex->exit_reason == RMI_EXIT_IRQ) {
		if (t_now() - t0 > XR_PATIENCE_S) {
			print_error("REC %u keeps exiting with IRQ (a loop?)\n", i);
			fail();
		}
		x0 = xr_enter1(x, i, flags & XR_ENTER_STANDING, NULL, ex);
	}
	return x0;
}

uint64_t xr_enter_v(struct xr *x, unsigned int i, uint64_t flags, uint64_t v, struct rmi_rec_exit *ex)
{
	uint64_t g[31] = { v };

	return xr_enter(x, i, flags, g, ex);
}

void xr_assert_zero(const void *p, size_t n, const char *what)
{
	const uint8_t *b = p;

	for (size_t k = 0; k < n; k++)
		if (b[k]) {
			print_error("%s: byte 0x%zx is 0x%02x, expected 0\n", what, k, b[k]);
			fail();
		}
}

void xr_expect_mmio_store(const struct rmi_rec_exit *ex, uint64_t off, uint64_t v)
{
	struct rmi_rec_exit e = *ex;

	EX_EQ(e, exit_reason, RMI_EXIT_SYNC);
	assert_int_equal(esr_ec(e.esr), ESR_EC_DABT_LOW);
	assert_true(e.esr & ESR_ISV);
	assert_true(e.esr & ESR_WNR);
	e.esr = 0;
	EX_EQ(e, far, off & 0xfff);
	EX_EQ(e, hpfar, ((XR_MMIO_IPA + off) >> 12) << 4);
	EX_EQ(e, gprs[0], v);
	EX_DONE(e);
}

void xr_next_store(struct xr *x, unsigned int i, uint64_t flags, uint64_t v)
{
	struct rmi_rec_exit ex;

	assert_int_equal(xr_enter(x, i, flags, NULL, &ex), RMI_SUCCESS);
	xr_expect_mmio_store(&ex, 0, v);
}

void p_put(struct prog *p, uint32_t insn)
{
	assert_true(p->n < 2048);
	p->w[p->n++] = insn;
}

void p_mov(struct prog *p, unsigned int rd, uint64_t v)
{
	assert_true(p->n + 4 <= 2048);
	p->n += a64_mov64(&p->w[p->n], rd, v);
}

void p_b_to(struct prog *p, unsigned int target)
{
	p_put(p, a64_b((int32_t)target - (int32_t)p->n));
}

void p_report(struct prog *p, unsigned int rt)
{
	p_put(p, a64_str(rt, XR_MMIO_REG));
}

void p_smc(struct prog *p, uint64_t fid)
{
	p_mov(p, 0, fid);
	p_put(p, A64_SMC);
}

uint64_t p_ipa(unsigned int k)
{
	return XR_CODE_IPA + 4ULL * k;
}

void p_prologue(struct prog *p)
{
	p_mov(p, XR_MMIO_REG, XR_MMIO_IPA);
	p_mov(p, 9, XR_VEC_IPA);
	p_put(p, a64_msr(A64_VBAR_EL1, 9));
}

void p_rpc(struct prog *p)
{
	p_put(p, a64_mov(XR_HC_REG, 0));
	p_prologue(p);
	unsigned int loop = p->n;
	p_put(p, a64_mov(1, XR_HC_REG));
	p_smc(p, RSI_FID_HOST_CALL);
	for (unsigned int r = 0; r < 18; r += 2)
		p_put(p, a64_ldp(r, r + 1, XR_HC_REG, (int32_t)(8 + 8 * r)));
	p_put(p, A64_SMC);
	for (unsigned int r = 0; r < 18; r += 2)
		p_put(p, a64_stp(r, r + 1, XR_HC_REG, (int32_t)(8 + 8 * r)));
	p_b_to(p, loop);
}

void xr_vector_words(uint32_t v[1024])
{
	unsigned int k = 0x200 / 4;

	memset(v, 0, 4096);
	v[k++] = a64_mrs(9, A64_ESR_EL1);
	v[k++] = a64_str(9, XR_MMIO_REG);
	v[k++] = a64_mrs(9, A64_FAR_EL1);
	v[k++] = a64_str(9, XR_MMIO_REG);
	v[k++] = a64_mrs(9, A64_ELR_EL1);
	v[k++] = a64_str(9, XR_MMIO_REG);
	v[k++] = a64_add_imm(9, 9, 4);
	v[k++] = a64_cbz(XR_RESUME_REG, 3);
	v[k++] = a64_mov(9, XR_RESUME_REG);
	v[k++] = a64_movz(XR_RESUME_REG, 0, 0);
	v[k++] = a64_msr(A64_ELR_EL1, 9);
	v[k++] = A64_ERET;
}

static void xr_vectors(struct xr *x)
{
	static uint32_t v[1024];

	xr_vector_words(v);
	xr_load(x, XR_VEC_IPA, v, 1024);
}

void xr_program(struct xr *x, const struct prog *p)
{
	xr_load(x, XR_CODE_IPA, p->w, p->n);
	xr_vectors(x);
	xr_page(x, XR_HC_IPA, NULL, RMI_NO_MEASURE_CONTENT);
}

uint64_t xr_expect_exception(struct xr *x, unsigned int i, uint64_t flags, uint64_t *far, uint64_t *elr)
{
	struct rmi_rec_exit ex;
	uint64_t v[3];

	for (int k = 0; k < 3; k++) {
		assert_int_equal(xr_enter(x, i, k ? XR_ENTER_MMIO : flags, NULL, &ex), RMI_SUCCESS);
		assert_int_equal(ex.exit_reason, RMI_EXIT_SYNC);
		assert_true(ex.esr & ESR_ISV);
		v[k] = ex.gprs[0];
	}
	if (far)
		*far = v[1];
	if (elr)
		*elr = v[2];
	return v[0];
}

void xr_rpc_realm(struct xenv *e, struct xr *x, unsigned int hash, unsigned int nrec)
{
	struct prog p = { .n = 0 };

	xr_create(e, x, hash, NULL);
	p_rpc(&p);
	xr_program(x, &p);
	for (unsigned int i = 0; i < nrec; i++)
		xr_rec(x, i == 0, XR_CODE_IPA);
	xr_activate(x);
}

void xr_rpc_start(struct xr *x, unsigned int i)
{
	struct rmi_rec_exit ex;

	assert_int_equal(xr_enter(x, i, 0, NULL, &ex), RMI_SUCCESS);
	assert_int_equal(ex.exit_reason, RMI_EXIT_HOST_CALL);
}

uint64_t xr_rpc(struct xr *x, unsigned int i, const uint64_t *args, unsigned int n, struct rmi_rec_exit *ex)
{
	uint64_t g[31] = { 0 };

	assert_true(n <= 18);
	memcpy(g, args, n * sizeof(uint64_t));
	return xr_enter(x, i, 0, g, ex);
}

void xr_call(struct xr *x, unsigned int i, const uint64_t *args, unsigned int n, uint64_t out[18])
{
	struct rmi_rec_exit ex;

	assert_int_equal(xr_rpc(x, i, args, n, &ex), RMI_SUCCESS);
	if (ex.exit_reason != RMI_EXIT_HOST_CALL) {
		print_error("SMC 0x%llx: exit reason %llu, expected HOST_CALL\n", (unsigned long long)args[0],
			    (unsigned long long)ex.exit_reason);
		fail();
	}
	memcpy(out, ex.gprs, 18 * sizeof(uint64_t));
}

static void *xr_blocked_main(void *arg)
{
	struct xr_blocked *b = arg;
	struct rk_smc_regs r;

	/* plain calls: no cmocka assertion on this thread */
	memset(&r, 0, sizeof(r));
	r.x[0] = RMI_FID_REC_ENTER;
	r.x[1] = b->x->rec[b->i];
	r.x[2] = b->x->run[b->i];
	rk_smc(b->x->m, &r);
	b->x0 = r.x[0];
	if (rk_ns_read(b->x->m, b->x->run[b->i] + RMI_REC_RUN_OFF_EXIT, &b->ex, sizeof(b->ex)))
		b->x0 = ~0ULL;
	atomic_store(&b->done, true);
	return NULL;
}

void xr_block_start(struct xr_blocked *b, struct xr *x, unsigned int i)
{
	static const struct rmi_rec_enter none;
	double t0 = t_now();

	memset(b, 0, sizeof(*b));
	b->x = x;
	b->i = i;
	atomic_init(&b->done, false);
	t_write(x->m, x->run[i], &none, sizeof(none));
	realm_run_lock(t_rd(x->m, x->rd));
	assert_int_equal(pthread_create(&b->t, NULL, xr_blocked_main, b), 0);
	while (xr_refcount_locked(x->m, x->rec[i]) == 0) {
		if (atomic_load(&b->done) || t_now() - t0 > XR_PATIENCE_S) {
			realm_run_unlock(t_rd(x->m, x->rd));
			pthread_join(b->t, NULL);
			print_error("REC %u never became running (REC_ENTER: 0x%llx)\n", i,
				    (unsigned long long)b->x0);
			fail();
		}
		sched_yield();
	}
	xr_active_block = b;
}

static void xr_block_release(struct xr_blocked *b)
{
	xr_active_block = NULL;
	realm_run_unlock(t_rd(b->x->m, b->x->rd));
	pthread_join(b->t, NULL);
}

void xr_block_end(struct xr_blocked *b)
{
	xr_block_release(b);
	assert_int_equal(b->x0, RMI_SUCCESS);
	assert_int_equal(xr_refcount_locked(b->x->m, b->x->rec[b->i]), 0);
}

/* TCR_EL1: T0SZ 25 (39-bit VA, start at level 1), WB IS walks, 4 KiB, 44-bit IPS */
#define XR_S1_TCR (25ULL | 1ULL << 8 | 1ULL << 10 | 3ULL << 12 | 1ULL << 23 | 4ULL << 32)
#define XR_S1_MAIR 0x00ffULL /* attr 0 Normal WB, attr 1 Device-nGnRnE */

void p_s1_mmu_on(struct prog *p)
{
	p_mov(p, 9, XR_VEC_IPA);
	p_put(p, a64_msr(A64_VBAR_EL1, 9));
	p_mov(p, 9, XR_S1_L1);
	p_put(p, a64_msr(A64_SYSREG(3, 0, 2, 0, 0), 9)); /* TTBR0_EL1 */
	p_mov(p, 9, XR_S1_TCR);
	p_put(p, a64_msr(A64_SYSREG(3, 0, 2, 0, 2), 9)); /* TCR_EL1 */
	p_mov(p, 9, XR_S1_MAIR);
	p_put(p, a64_msr(A64_SYSREG(3, 0, 10, 2, 0), 9)); /* MAIR_EL1 */
	p_put(p, A64_ISB);
	p_put(p, a64_mrs(9, A64_SYSREG(3, 0, 1, 0, 0)));
	p_put(p, 0xb2400129u); /* orr x9, x9, #1 (M) */
	p_put(p, a64_msr(A64_SYSREG(3, 0, 1, 0, 0), 9));
	p_put(p, A64_ISB);
	p_mov(p, XR_MMIO_REG, XR_S1_MMIO_VA);
}

void xr_s1_tables(struct xr *x, uint64_t va, uint64_t ipa)
{
	static uint64_t l1[512], l2[512], l3[512];

	memset(l1, 0, sizeof(l1));
	memset(l2, 0, sizeof(l2));
	memset(l3, 0, sizeof(l3));
	l1[0] = XR_S1_L2 | 3;
	l1[XR_S1_MMIO_VA >> 30] = XR_MMIO_IPA | 0x405; /* block, AF, attr 1 (device) */
	l2[0] = XR_S1_L3 | 3;
	for (unsigned int i = 0; i < 16; i++)
		l3[i] = (0x1000ULL * i) | XR_S1_PAGE;
	l3[(va >> 12) & 511] = (ipa & ~0xfffULL) | XR_S1_PAGE;
	xr_page(x, XR_S1_L1, l1, RMI_NO_MEASURE_CONTENT);
	xr_page(x, XR_S1_L2, l2, RMI_NO_MEASURE_CONTENT);
	xr_page(x, XR_S1_L3, l3, RMI_NO_MEASURE_CONTENT);
}
