/* SPDX-License-Identifier: MIT */
/*
 * The Realm Services Interface and PSCI, as seen from a running REC.
 * rsi_handle() gets the realm's registers at an SMC; it either answers in
 * place (the realm continues) or fills the exit record for the host.
 * Called with the realm's run lock held (rec_run.c), never with a granule lock.
 */
#include <stdio.h>
#include <string.h>

#include "rec_run.h"
#include "rmi/rmi_handlers_gen.h"
#include "realmkit/arch/psci.h"
#include "realmkit/arch/smccc.h"
#include "realmkit/arch/sysreg.h"

#define RSI_HOST_CALL_ALIGN 256u

static inline struct rd *call_rd(struct rsi_call *c)
{
	return rd_of(c->rmm, granule_from_pa(c->rmm, c->rd_pa));
}

enum ipa_resolve rsi_realm_copy(struct rsi_call *c, uint64_t ipa, void *buf, size_t len, bool to_realm)
{
	int level = 3;
	enum ipa_resolve res = realm_ipa_copy(c->rmm, &c->s2, ipa, buf, len, to_realm, &level);

	if (res == IPA_UNMAPPED) {
		rec_exit_s2_abort(c->exit, ipa, level);
		c->to_host = true;
		c->retry = true;
	} else if (res == IPA_MAPPED && to_realm) {
		realm_code_written(call_rd(c), ipa);
	}
	return res;
}

void rsi_version(struct rmm *rmm, struct rsi_call *c)
{
	(void)rmm;
	bool ok = c->x[1] == 0x10000 || c->x[1] == RSI_ABI_VERSION;
	c->x[0] = ok ? RSI_SUCCESS : RSI_ERROR_INPUT;
	c->x[1] = ok ? c->x[1] : RSI_ABI_VERSION;
	c->x[2] = RSI_ABI_VERSION;
}

void rsi_features(struct rmm *rmm, struct rsi_call *c)
{
	(void)rmm;
	c->x[0] = RSI_SUCCESS;
	c->x[1] = 0; /* FR0: no device assignment, no MRO, no ATS */
}

void rsi_measurement_read(struct rmm *rmm, struct rsi_call *c)
{
	(void)rmm;
	uint64_t idx = c->x[1];
	struct rd *rd = call_rd(c);

	if (idx > RMM_NUM_REMS) {
		c->x[0] = RSI_ERROR_INPUT;
		return;
	}
	const uint8_t *m = idx == 0 ? rd->rim : rd->rem[idx - 1];
	memcpy(&c->x[1], m, RK_MEASUREMENT_MAX);
	c->x[0] = RSI_SUCCESS;
}

void rsi_measurement_extend(struct rmm *rmm, struct rsi_call *c)
{
	(void)rmm;
	uint64_t idx = c->x[1], size = c->x[2];
	struct rd *rd = call_rd(c);
	uint8_t value[RK_MEASUREMENT_MAX];

	if (idx == 0 || idx > RMM_NUM_REMS || size > RK_MEASUREMENT_MAX) {
		c->x[0] = RSI_ERROR_INPUT;
		return;
	}
	memcpy(value, &c->x[3], sizeof(value));
	c->x[0] = rk_rem_extend(rd->hash_algo, rd->rem[idx - 1], value, size) ? RSI_ERROR_UNKNOWN
									       : RSI_SUCCESS;
}

void rsi_realm_config(struct rmm *rmm, struct rsi_call *c)
{
	static _Thread_local struct rsi_realm_config cfg;
	uint64_t ipa = c->x[1];
	struct rd *rd = call_rd(c);

	(void)rmm;
	if (ipa & (RK_GRANULE_SIZE - 1) || !s2tt_ipa_protected(&c->s2, ipa)) {
		c->x[0] = RSI_ERROR_INPUT;
		return;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.ipa_width = rd->s2.s2sz;
	cfg.hash_algo = rd->hash_algo;
	memcpy(cfg.rpv, rd->rpv, sizeof(cfg.rpv));
	switch (rsi_realm_copy(c, ipa, &cfg, sizeof(cfg), true)) {
	case IPA_MAPPED: c->x[0] = RSI_SUCCESS; break;
	case IPA_EMPTY: c->x[0] = RSI_ERROR_INPUT; break;
	case IPA_UNMAPPED: break; /* the host maps it; the realm re-issues the call */
	}
}

static bool range_in_par(const struct s2tt_ctx *s2, uint64_t base, uint64_t top)
{
	return !((base | top) & (RK_GRANULE_SIZE - 1)) && top > base &&
	       s2tt_ipa_protected(s2, top - RK_GRANULE_SIZE);
}

void rsi_ipa_state_set(struct rmm *rmm, struct rsi_call *c)
{
	uint64_t base = c->x[1], top = c->x[2], ripas = c->x[3], flags = c->x[4];

	(void)rmm;
	if (ripas > RMI_RIPAS_RAM || !range_in_par(&c->s2, base, top)) {
		c->x[0] = RSI_ERROR_INPUT;
		return;
	}
	c->rec->pending = REC_PENDING_RIPAS;
	c->rec->ripas_base = base;
	c->rec->ripas_top = top;
	c->rec->ripas_addr = base;
	c->rec->ripas_value = (uint8_t)ripas;
	c->rec->ripas_flags = flags & 1; /* CHANGE_DESTROYED */
	c->exit->exit_reason = RMI_EXIT_RIPAS_CHANGE;
	c->exit->ripas_base = base;
	c->exit->ripas_top = top;
	c->exit->ripas_value = ripas;
	c->to_host = true;
}

void rsi_ipa_state_get(struct rmm *rmm, struct rsi_call *c)
{
	uint64_t base = c->x[1], end = c->x[2], addr = base;
	enum rmi_ripas first = RMI_RIPAS_EMPTY;

	if (!range_in_par(&c->s2, base, end)) {
		c->x[0] = RSI_ERROR_INPUT;
		return;
	}
	while (addr < end) {
		struct rtt_walk w;
		s2tt_walk_lock(rmm, &c->s2, addr, S2_MAX_LEVEL, &w);
		unsigned int i;
		for (i = w.idx; i < S2_ENTRIES && addr < end; i++) {
			uint64_t e = w.table[i];
			enum rmi_ripas rp = s2tte_kind(e, w.level) == S2TTE_TABLE ? (enum rmi_ripas)~0u
										  : s2tte_ripas(e, w.level);
			if (addr == base)
				first = rp;
			if (rp != first)
				break;
			addr = (addr & ~(s2_level_size(w.level) - 1)) + s2_level_size(w.level);
		}
		granule_unlock(w.g);
		if (i < S2_ENTRIES && addr < end)
			break;
	}
	c->x[0] = RSI_SUCCESS;
	c->x[1] = addr < end ? addr : end;
	c->x[2] = first;
}

void rsi_host_call(struct rmm *rmm, struct rsi_call *c)
{
	static _Thread_local struct rsi_host_call hc;
	uint64_t ipa = c->x[1];

	(void)rmm;
	if (ipa & (RSI_HOST_CALL_ALIGN - 1) || !s2tt_ipa_protected(&c->s2, ipa)) {
		c->x[0] = RSI_ERROR_INPUT;
		return;
	}
	switch (rsi_realm_copy(c, ipa, &hc, sizeof(hc), false)) {
	case IPA_EMPTY:
		c->x[0] = RSI_ERROR_INPUT;
		return;
	case IPA_UNMAPPED:
		return;
	case IPA_MAPPED:
		break;
	}
	c->rec->pending = REC_PENDING_HOST_CALL;
	c->rec->host_call_ipa = ipa;
	c->exit->exit_reason = RMI_EXIT_HOST_CALL;
	c->exit->imm = hc.imm & 0xffff;
	memcpy(c->exit->gprs, hc.gprs, sizeof(hc.gprs));
	c->to_host = true;
}

/* ---- PSCI ---- */

/* MPIDR_EL1-format affinity -> REC index; false if not a REC of this realm. */
static bool psci_target_index(const struct rd *rd, uint64_t mpidr, uint32_t *idx)
{
	uint64_t rmi_mpidr;

	mpidr &= ~(MPIDR_EL1_RES1 | MPIDR_EL1_U);
	if (mpidr & ~(0xffffffULL | (0xffULL << 32)))
		return false;
	rmi_mpidr = (mpidr & 0xffffff) | ((mpidr >> 32) & 0xff) << 24;
	return rec_mpidr_index(rmi_mpidr, idx) && *idx < rd->rec_count;
}

static void psci_exit(struct rsi_call *c, uint64_t fid, uint64_t target)
{
	memset(c->exit->gprs, 0, sizeof(c->exit->gprs));
	c->exit->exit_reason = RMI_EXIT_PSCI;
	c->exit->gprs[0] = fid;
	c->exit->gprs[1] = target;
	c->to_host = true;
}

/*
 * Is fid one of the PSCI functions the RMM implements? Only CPU_SUSPEND,
 * CPU_ON and AFFINITY_INFO have an SMC64 form (PSCI 1.1, section 5.1); an
 * SMC64 FID of another function does not exist (reference section 15:
 * "anything else in range: NOT_SUPPORTED").
 */
static bool psci_implemented(uint64_t fid)
{
	return fid == PSCI_VERSION || fid == PSCI_CPU_SUSPEND_32 || fid == PSCI_CPU_SUSPEND_64 ||
	       fid == PSCI_CPU_OFF || fid == PSCI_CPU_ON_32 || fid == PSCI_CPU_ON_64 ||
	       fid == PSCI_AFFINITY_INFO_32 || fid == PSCI_AFFINITY_INFO_64 || fid == PSCI_SYSTEM_OFF ||
	       fid == PSCI_SYSTEM_RESET || fid == PSCI_FEATURES;
}

static void psci_handle(struct rsi_call *c, uint64_t fid)
{
	struct rd *rd = call_rd(c);
	bool smc64 = psci_fid_is_64(fid);
	uint32_t idx;

	if (!psci_implemented(fid)) {
		c->x[0] = (uint64_t)PSCI_RET_NOT_SUPPORTED;
		return;
	}
	switch (PSCI_FN(fid)) {
	case PSCI_FN(PSCI_VERSION):
		c->x[0] = PSCI_VERSION_1_1;
		return;
	case PSCI_FN(PSCI_FEATURES): {
		uint64_t f = c->x[1] & 0xffffffffu; /* an SMC32 call: 32-bit argument */
		c->x[0] = psci_implemented(f) || f == SMCCC_VERSION ? (uint64_t)PSCI_RET_SUCCESS
								   : (uint64_t)PSCI_RET_NOT_SUPPORTED;
		return;
	}
	case PSCI_FN(PSCI_CPU_SUSPEND_64):
		c->x[0] = (uint64_t)PSCI_RET_SUCCESS;
		psci_exit(c, fid, 0);
		return;
	case PSCI_FN(PSCI_CPU_OFF):
		rec_set_runnable(c->rec, false);
		psci_exit(c, fid, 0);
		return;
	case PSCI_FN(PSCI_CPU_ON_64): {
		uint64_t target = c->x[1], entry = c->x[2], ctx = c->x[3];
		if (!smc64) {
			target &= 0xffffffffu;
			entry &= 0xffffffffu;
			ctx &= 0xffffffffu;
		}
		if (!s2tt_ipa_protected(&c->s2, entry)) {
			c->x[0] = (uint64_t)PSCI_RET_INVALID_ADDRESS;
			return;
		}
		if (!psci_target_index(rd, target, &idx)) {
			c->x[0] = (uint64_t)PSCI_RET_INVALID_PARAMETERS;
			return;
		}
		if (idx == c->rec->index) {
			c->x[0] = (uint64_t)PSCI_RET_ALREADY_ON;
			return;
		}
		c->rec->pending = REC_PENDING_PSCI;
		c->rec->psci_fid = fid;
		c->rec->psci_target_mpidr = target;
		c->rec->psci_entry = entry;
		c->rec->psci_context = ctx;
		psci_exit(c, fid, target);
		return;
	}
	case PSCI_FN(PSCI_AFFINITY_INFO_64): {
		uint64_t target = smc64 ? c->x[1] : c->x[1] & 0xffffffffu;
		uint64_t lowest = smc64 ? c->x[2] : c->x[2] & 0xffffffffu;
		if (lowest != 0 || !psci_target_index(rd, target, &idx)) {
			c->x[0] = (uint64_t)PSCI_RET_INVALID_PARAMETERS;
			return;
		}
		if (idx == c->rec->index) {
			c->x[0] = PSCI_AFF_ON;
			return;
		}
		c->rec->pending = REC_PENDING_PSCI;
		c->rec->psci_fid = fid;
		c->rec->psci_target_mpidr = target;
		psci_exit(c, fid, target);
		return;
	}
	case PSCI_FN(PSCI_SYSTEM_OFF):
	case PSCI_FN(PSCI_SYSTEM_RESET):
		/* only a running REC changes an ACTIVE realm's state: no RD lock needed */
		__atomic_store_n(&rd->state, (uint8_t)RMI_REALM_STATE_SYSTEM_OFF, __ATOMIC_RELEASE);
		psci_exit(c, fid, 0);
		return;
	default:
		c->x[0] = (uint64_t)PSCI_RET_NOT_SUPPORTED;
		return;
	}
}

const char *rsi_call_name(uint64_t fid)
{
	static const char *const psci[] = {
		[PSCI_FN(PSCI_VERSION)] = "PSCI_VERSION", [PSCI_FN(PSCI_CPU_SUSPEND_64)] = "PSCI_CPU_SUSPEND",
		[PSCI_FN(PSCI_CPU_OFF)] = "PSCI_CPU_OFF", [PSCI_FN(PSCI_CPU_ON_64)] = "PSCI_CPU_ON",
		[PSCI_FN(PSCI_AFFINITY_INFO_64)] = "PSCI_AFFINITY_INFO", [PSCI_FN(PSCI_SYSTEM_OFF)] = "PSCI_SYSTEM_OFF",
		[PSCI_FN(PSCI_SYSTEM_RESET)] = "PSCI_SYSTEM_RESET", [PSCI_FN(PSCI_FEATURES)] = "PSCI_FEATURES",
	};
	static _Thread_local char buf[40];
	uint64_t fnum = fid & 0xffff;

	fid = rsi_fid(fid);
	if ((fid & ~0xffffULL) == SMC_FID_BASE && fnum >= RSI_FNUM_MIN && fnum <= RSI_FNUM_MAX &&
	    rsi_cmd_table[fnum - RSI_FNUM_MIN].name) {
		snprintf(buf, sizeof(buf), "RSI_%s", rsi_cmd_table[fnum - RSI_FNUM_MIN].name);
		return buf;
	}
	if (psci_fid_in_range(fid) && PSCI_FN(fid) < sizeof(psci) / sizeof(psci[0]) && psci[PSCI_FN(fid)])
		return psci[PSCI_FN(fid)];
	if (fid == SMCCC_VERSION)
		return "SMCCC_VERSION";
	snprintf(buf, sizeof(buf), "SMC 0x%llx", (unsigned long long)fid);
	return buf;
}

void rsi_handle(struct rsi_call *c)
{
	uint64_t fid = rsi_fid(c->x[0]);
	uint64_t fnum = fid & 0xffff;

	if ((fid & ~0xffffULL) == SMC_FID_BASE && fnum >= RSI_FNUM_MIN && fnum <= RSI_FNUM_MAX) {
		const struct rsi_cmd_desc *d = &rsi_cmd_table[fnum - RSI_FNUM_MIN];
		if (d->handler) {
			d->handler(c->rmm, c);
			return;
		}
	} else if (psci_fid_in_range(fid)) {
		psci_handle(c, fid);
		return;
	} else if (fid == SMCCC_VERSION) {
		c->x[0] = SMCCC_VERSION_1_2;
		return;
	}
	c->x[0] = SMC_UNKNOWN;
}
