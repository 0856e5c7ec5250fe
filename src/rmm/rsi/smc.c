/* SPDX-License-Identifier: MIT */
/*
 * An SMC from a running REC (smc.h): RSI commands dispatched through the
 * generated table (rsi_dispatch_gen.c), PSCI and SMCCC. rsi_handle() gets the
 * realm's registers; it either answers in place (the realm continues) or
 * fills the exit record for the host. Called with the realm's run lock held
 * (rec_run.c), never with a granule lock.
 */
#include <stdio.h>
#include <string.h>

#include "realmkit/arch/psci.h"
#include "realmkit/arch/smccc.h"
#include "realmkit/arch/sysreg.h"
#include "rec_engine.h"
#include "rmi/rmi.h"
#include "rsi/smc.h"

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
		[PSCI_FN(PSCI_VERSION)] = "PSCI_VERSION",
		[PSCI_FN(PSCI_CPU_SUSPEND_64)] = "PSCI_CPU_SUSPEND",
		[PSCI_FN(PSCI_CPU_OFF)] = "PSCI_CPU_OFF",
		[PSCI_FN(PSCI_CPU_ON_64)] = "PSCI_CPU_ON",
		[PSCI_FN(PSCI_AFFINITY_INFO_64)] = "PSCI_AFFINITY_INFO",
		[PSCI_FN(PSCI_SYSTEM_OFF)] = "PSCI_SYSTEM_OFF",
		[PSCI_FN(PSCI_SYSTEM_RESET)] = "PSCI_SYSTEM_RESET",
		[PSCI_FN(PSCI_FEATURES)] = "PSCI_FEATURES",
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
