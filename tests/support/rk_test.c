/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "machine.h"
#include "platform/platform.h"
#include "rk_test.h"
#include "rmm/rmm.h"

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

void t_realm_params(struct rmi_realm_params *p, unsigned int s2sz, uint64_t rtt_base,
		    unsigned int hash_algo)
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
