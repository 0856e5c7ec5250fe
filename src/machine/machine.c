/* SPDX-License-Identifier: MIT */
/*
 * The board: a platform with its firmware (the RMM) loaded, and the two doors
 * host code uses (SMC conduit, GPT-checked NS memory access).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "platform/gic.h"
#include "platform/platform.h"
#include "platform/vcpuif.h"
#include "realmkit/cpu.h"
#include "realmkit/platform.h"
#include "machine.h"
#include "rmm/firmware.h"

/* The default board: 1 GiB of DRAM (at 0x80000000 when no banks are given: platform.c), 48-bit PAs, 8 CPUs. */
void rk_machine_config_default(struct rk_machine_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->dram_size = 1ULL << 30;
	cfg->pa_bits = 48;
	cfg->ncpus = 8;
	cfg->revision = RK_RMM_REV_2_0_BET1;
}

struct rk_machine {
	struct platform plat;
	struct rmm *rmm;
};

int rk_machine_create(const struct rk_machine_config *cfg, struct rk_machine **out)
{
	struct rk_machine_config def;
	struct rk_machine *m;
	int ret;

	if (!out)
		return -EINVAL;
	if (!cfg) {
		rk_machine_config_default(&def);
		cfg = &def;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	ret = platform_init(&m->plat, cfg);
	if (ret) {
		free(m);
		return ret;
	}
	ret = rmm_create(&m->plat, cfg, &m->rmm);
	if (ret) {
		platform_fini(&m->plat);
		free(m);
		return ret;
	}
	*out = m;
	return 0;
}

void rk_machine_destroy(struct rk_machine *m)
{
	if (!m)
		return;
	rmm_destroy(m->rmm);
	platform_fini(&m->plat);
	free(m);
}

void rk_smc(struct rk_machine *m, struct rk_smc_regs *regs)
{
	rmm_handle_smc(m->rmm, NULL, regs->x);
}

uint64_t rk_counter_read(void)
{
	return plat_counter_read();
}

unsigned int rk_machine_ncpus(const struct rk_machine *m)
{
	return m->plat.ncpus;
}

/* Host CPU cpu, locked (the calling thread is on it), or NULL. */
static struct plat_hcpu *hcpu_get(struct rk_machine *m, unsigned int cpu)
{
	struct plat_hcpu *c;

	if (!m || cpu >= m->plat.ncpus)
		return NULL;
	c = &m->plat.hcpus[cpu];
	pthread_mutex_lock(&c->lock);
	return c;
}

int rk_hcpu_smc(struct rk_machine *m, unsigned int cpu, struct rk_smc_regs *regs)
{
	struct plat_hcpu *c = hcpu_get(m, cpu);

	if (!c || !regs) {
		if (c)
			pthread_mutex_unlock(&c->lock);
		return -EINVAL;
	}
	rmm_handle_smc(m->rmm, &c->ich, regs->x);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

int rk_hcpu_ich_read(struct rk_machine *m, unsigned int cpu, uint32_t reg, uint64_t *val)
{
	struct plat_hcpu *c = hcpu_get(m, cpu);
	uint64_t v = 0;
	int ret;

	if (!c)
		return -EINVAL;
	ret = plat_ich_read(&c->ich, reg, &v);
	pthread_mutex_unlock(&c->lock);
	if (!ret && val)
		*val = v;
	return val ? ret : -EINVAL;
}

int rk_hcpu_ich_write(struct rk_machine *m, unsigned int cpu, uint32_t reg, uint64_t val)
{
	struct plat_hcpu *c = hcpu_get(m, cpu);
	int ret;

	if (!c)
		return -EINVAL;
	ret = plat_ich_write(&c->ich, reg, val);
	pthread_mutex_unlock(&c->lock);
	return ret;
}

int rk_hcpu_icc_access(struct rk_machine *m, unsigned int cpu, struct rk_cpu_sysreg *acc)
{
	struct plat_hcpu *c;
	uint32_t enc;
	int ret;

	if (!acc)
		return -EINVAL;
	c = hcpu_get(m, cpu);
	if (!c)
		return -EINVAL;
	enc = (uint32_t)SYSREG_ENC(acc->op0, acc->op1, acc->crn, acc->crm, acc->op2);
	if (acc->el != 1 || !plat_icv_space(enc)) {
		ret = RK_ICC_UNDEF;
	} else {
		switch (plat_icv_access(&c->ich, enc, acc->is_read, &acc->value)) {
		case PLAT_ICV_DONE:
			ret = RK_ICC_DONE;
			break;
		case PLAT_ICV_TRAP:
			ret = RK_ICC_TRAP;
			break;
		default:
			ret = RK_ICC_UNDEF;
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

bool rk_hcpu_virq(struct rk_machine *m, unsigned int cpu)
{
	struct plat_hcpu *c = hcpu_get(m, cpu);
	bool on;

	if (!c)
		return false;
	on = plat_icv_virq(&c->ich);
	pthread_mutex_unlock(&c->lock);
	return on;
}

bool rk_hcpu_maint(struct rk_machine *m, unsigned int cpu)
{
	struct plat_hcpu *c = hcpu_get(m, cpu);
	bool on;

	if (!c)
		return false;
	on = plat_ich_maint(&c->ich);
	pthread_mutex_unlock(&c->lock);
	return on;
}

int rk_ns_read(struct rk_machine *m, uint64_t pa, void *buf, size_t len)
{
	return plat_ns_copy(&m->plat, pa, buf, len, false);
}

int rk_ns_write(struct rk_machine *m, uint64_t pa, const void *buf, size_t len)
{
	return plat_ns_copy(&m->plat, pa, (void *)buf, len, true);
}

/* [pa, pa + len) is DRAM and NS in the GPT: 0 and its first granule, -EFAULT or -RK_EGPF. */
static int ns_range(struct rk_machine *m, uint64_t pa, size_t len, uint64_t *gidx)
{
	int ret;

	if (!len || !plat_range_in_dram(&m->plat, pa, len))
		return -EFAULT;
	ret = plat_ns_check(&m->plat, pa, len);
	if (ret)
		return ret;
	plat_pa_to_gidx(&m->plat, pa, gidx);
	return 0;
}

int rk_ns_map(struct rk_machine *m, uint64_t pa, size_t len, uint8_t **out)
{
	uint64_t gidx = 0;
	int ret = ns_range(m, pa, len, &gidx);

	if (ret)
		return ret;
	*out = plat_gidx_ptr(&m->plat, gidx) + (pa & (RK_GRANULE_SIZE - 1));
	return 0;
}

int rk_ns_zero(struct rk_machine *m, uint64_t pa, size_t len)
{
	uint64_t gidx = 0;
	int ret;

	if ((pa | len) & (RK_GRANULE_SIZE - 1))
		return -EINVAL;
	ret = ns_range(m, pa, len, &gidx);
	if (ret)
		return ret;
	plat_scrub(&m->plat, gidx, len >> RK_GRANULE_SHIFT);
	return 0;
}

int rk_gpt_get(const struct rk_machine *m, uint64_t pa, enum rk_pas *out)
{
	uint64_t gidx = 0;

	if (!plat_pa_to_gidx(&m->plat, pa, &gidx))
		return -EFAULT;
	*out = plat_gpt_get(&m->plat, gidx);
	return 0;
}

unsigned int rk_machine_nbanks(const struct rk_machine *m)
{
	return m->plat.nbanks;
}

struct rk_dram_bank rk_machine_bank(const struct rk_machine *m, unsigned int i)
{
	struct rk_dram_bank b = { 0, 0 };

	if (i < m->plat.nbanks) {
		b.base = m->plat.banks[i].base;
		b.size = m->plat.banks[i].size;
	}
	return b;
}

uint64_t rk_machine_dram_granules(const struct rk_machine *m)
{
	return m->plat.ngranules;
}

bool rk_pa_is_dram(const struct rk_machine *m, uint64_t pa)
{
	uint64_t gidx = 0;

	return plat_pa_to_gidx(&m->plat, pa, &gidx);
}

const struct rk_attest_key *rk_machine_cpak(struct rk_machine *m)
{
	return rmm_cpak(m->rmm);
}

void rk_smc_kick_rec(struct rk_machine *m, uint64_t rec_pa)
{
	rmm_kick_rec(m->rmm, rec_pa);
}

void rk_machine_set_rsi_log(struct rk_machine *m, FILE *f)
{
	rmm_set_rsi_log(m->rmm, f);
}

struct rmm *machine_rmm(struct rk_machine *m)
{
	return m->rmm;
}

struct platform *machine_platform(struct rk_machine *m)
{
	return &m->plat;
}
