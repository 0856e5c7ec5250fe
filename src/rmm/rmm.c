/* SPDX-License-Identifier: MIT */
/*
 * The RMM instance and its entry points (rmm/firmware.h): boot and teardown,
 * the SMC entry with the RMI dispatch (through the generated table,
 * rmi_dispatch_gen.c), kicks and the RSI log. The top of the RMM's file graph:
 * nothing of the RMM calls into this file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "rmi/rmi.h"
#include "attest_keys.h"
#include "realmkit/cpu.h"
#include "engines.h"
#include "rec.h"
#include "rec_engine.h"
#include "rmm.h"
#include "sro.h"
#include "vgic.h"

static uint64_t field(uint64_t v, unsigned int shift)
{
	return v << shift;
}

static void rmm_init_features(struct rmm *rmm, const struct platform *plat)
{
	uint64_t *fr = rmm->feat.reg;

	memset(fr, 0, sizeof(rmm->feat.reg));
	/* FR0: IPA width = PA width, at most 48 (no LPA2) and what the realm's
	 * vCPUs can address (RK_CPU_PA_BITS: advertise only what runs); no SVE or
	 * PMU; the CPU's breakpoints and watchpoints (TF-RMM: ID_AA64DFR0_EL1
	 * BRPs/WRPs; RK_MACHINE_CPU_BRPS/WRPS) */
	unsigned int s2sz = plat->pa_bits > 48 ? 48 : plat->pa_bits;

	if (s2sz > RK_CPU_PA_BITS)
		s2sz = RK_CPU_PA_BITS;
	fr[0] = field(s2sz, RMI_FR0_S2SZ_SHIFT) | field(RK_MACHINE_CPU_BRPS, RMI_FR0_NUM_BPS_SHIFT) |
		field(RK_MACHINE_CPU_WRPS, RMI_FR0_NUM_WPS_SHIFT);
	/* FR1: 4 KiB granules; SHA-256, SHA-384 and SHA-512; 2^10 - 1 RECs; L0GPT 1 GiB; PPS 48 */
	fr[1] = field(1, RMI_FR1_GRAN_SZ_4KB_SHIFT) | field(1, RMI_FR1_HASH_SHA_256_SHIFT) |
		field(1, RMI_FR1_HASH_SHA_384_SHIFT) | field(1, RMI_FR1_HASH_SHA_512_SHIFT) |
		field(RMM_MAX_RECS_ORDER, RMI_FR1_MAX_RECS_ORDER_SHIFT) | field(0, RMI_FR1_L0GPTSZ_SHIFT) |
		field(5, RMI_FR1_PPS_SHIFT);
	/* FR2 (device assignment), FR3 (planes), FR4 (MEC count): none */
}

int rmm_create(struct platform *plat, const struct rk_machine_config *cfg, struct rmm **out)
{
	struct rmm *rmm = calloc(1, sizeof(*rmm));
	size_t meta = plat->ngranules * sizeof(struct granule);

	if (!rmm)
		return -ENOMEM;
	rmm->plat = plat;
	rmm->slice_us = cfg->rec_time_slice_us ? cfg->rec_time_slice_us : REC_TIME_SLICE_US;
	/* granule metadata is populated lazily too: untouched DRAM costs nothing */
	rmm->granules =
		mmap(NULL, meta, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (rmm->granules == MAP_FAILED) {
		free(rmm);
		return -ENOMEM;
	}
	pthread_mutex_init(&rmm->vmid_lock, NULL);
	rmm->sro = calloc(1, sizeof(*rmm->sro));
	rmm->attest = calloc(1, sizeof(*rmm->attest));
	rmm->engines = calloc(1, sizeof(*rmm->engines));
	if (!rmm->sro || !rmm->attest || !rmm->engines || sro_pool_init(rmm->sro) ||
	    rmm_attest_init(rmm->attest, cfg) || engines_init(rmm->engines, cfg->max_open_engines)) {
		free(rmm->engines);
		free(rmm->attest);
		free(rmm->sro);
		munmap(rmm->granules, meta);
		free(rmm);
		return -ENOMEM;
	}
	rmm_init_features(rmm, plat);
	/* VMID 0 is the host's */
	rmm->vmid_bitmap[0] = 1;
	atomic_store(&rmm->state, RMM_STATE_INIT);
	*out = rmm;
	return 0;
}

void rmm_destroy(struct rmm *rmm)
{
	if (!rmm)
		return;
	/* RECs the host never destroyed still own execution engines */
	for (uint64_t i = 0; i < rmm->plat->ngranules; i++) {
		struct granule *g = &rmm->granules[i];
		if (granule_state(g) == GRANULE_STATE_REC ||
		    (granule_state(g) == GRANULE_STATE_PARTIAL && rec_of(rmm, g)->cpu))
			rec_free_engine(rec_of(rmm, g));
	}
	sro_pool_fini(rmm->sro);
	free(rmm->sro);
	rmm_attest_fini(rmm->attest);
	free(rmm->attest);
	engines_fini(rmm->engines);
	free(rmm->engines);
	munmap(rmm->granules, rmm->plat->ngranules * sizeof(struct granule));
	pthread_mutex_destroy(&rmm->vmid_lock);
	free(rmm);
}

/*
 * Firmware log line for an RMI command the RMM refused (as TF-RMM's
 * rmi_log_on_exit): every status but SUCCESS and INCOMPLETE (a stateful
 * operation under way, not a refusal).
 */
static void rmi_log_refusal(struct rmm *rmm, const struct rmi_cmd_desc *cmd, const uint64_t *args,
			    uint64_t x0)
{
	FILE *f = atomic_load_explicit(&rmm->rsi_log, memory_order_relaxed);
	enum rmi_status st = rmi_result_status(x0);
	char line[512];
	int n;

	if (!f || st == RMI_SUCCESS || st == RMI_INCOMPLETE)
		return;
	n = snprintf(line, sizeof(line), "rmm: RMI_%s(", cmd->name);
	for (unsigned int i = 0; i < cmd->nargs && n > 0 && (size_t)n < sizeof(line); i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%s=0x%llx", i ? ", " : "", cmd->args[i],
			      (unsigned long long)args[i]);
	if (n > 0 && (size_t)n < sizeof(line))
		snprintf(line + n, sizeof(line) - (size_t)n, ") -> status %u index %u\n", (unsigned int)st,
			 (unsigned int)((x0 >> 8) & 0xff));
	fputs(line, f); /* one call: lines of concurrent commands do not mix */
}

void rmm_handle_smc(struct rmm *rmm, struct plat_ich *ich, uint64_t x[18])
{
	const struct rmi_cmd_desc *cmd = rmi_cmd_lookup(x[0]);
	uint64_t res[RMI_MAX_RES] = { 0 };
	uint64_t args[RMI_MAX_ARGS];

	if (!cmd || !cmd->defined) {
		/* outside the RMI range, or a hole in it */
		x[0] = SMC_UNKNOWN;
		return;
	}
	memcpy(args, &x[1], sizeof(args));
	if (!cmd->handler) {
		res[0] = rmi_result(RMI_ERROR_NOT_SUPPORTED, 0);
	} else {
		int st = atomic_load_explicit(&rmm->state, memory_order_acquire);
		bool ok = cmd->gate == RMI_GATE_ANY || (cmd->gate == RMI_GATE_INIT && st == RMM_STATE_INIT) ||
			  (cmd->gate == RMI_GATE_ACTIVE && st == RMM_STATE_ACTIVE);
		if (ok) {
			vgic_set_cpu(ich); /* the CPU this SMC runs on (REC_ENTER: rec_run.c) */
			cmd->handler(rmm, args, res);
			vgic_set_cpu(NULL);
		} else
			res[0] = rmi_result(RMI_ERROR_GLOBAL, 0);
	}
	rmi_log_refusal(rmm, cmd, args, res[0]);
	/* x0..x4 carry results; SMCCC: the other registers are preserved */
	memcpy(x, res, sizeof(res));
}

const struct rk_attest_key *rmm_cpak(struct rmm *rmm)
{
	if (rmm_attest_ready(rmm->attest))
		return NULL;
	return rmm->attest->cpak;
}

void rmm_kick_rec(struct rmm *rmm, uint64_t rec_pa)
{
	engines_kick_rec(rmm->engines, rec_pa);
}

void rmm_set_rsi_log(struct rmm *rmm, FILE *f)
{
	atomic_store(&rmm->rsi_log, f);
}
