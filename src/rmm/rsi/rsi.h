/* SPDX-License-Identifier: MIT */
/*
 * One RSI or PSCI call being handled, as the RSI command handlers (rsi.c,
 * attest.c; prototypes in the generated rmi_handlers_gen.h), the SMC entry
 * (smc.c) and the engine's fast path (rec_run.c) pass it around.
 */
#ifndef RK_RMM_RSI_RSI_H
#define RK_RMM_RSI_RSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "realmkit/abi_gen.h"
#include "realm.h"
#include "rec.h"
#include "rec_engine.h"

struct rsi_call {
	struct rmm *rmm;
	struct rec *rec;
	uint64_t rd_pa;
	struct s2tt_ctx s2;
	uint64_t x[REC_NUM_GPRS];  /* the realm's x0..x30; results go back here */
	struct rmi_rec_exit *exit; /* exit record, if the call needs the host */
	bool to_host;              /* set: fill *exit and leave REC_ENTER */
	bool retry;                /* set: re-execute the SMC after the exit */
};

/* The RD of the calling realm (its REC is running: the RD cannot go away). */
static inline struct rd *call_rd(struct rsi_call *c)
{
	return rd_of(c->rmm, granule_from_pa(c->rmm, c->rd_pa));
}

/* realm_ipa_copy() for an RSI call: IPA_UNMAPPED sets up the host exit and a retry of the call. */
enum ipa_resolve rsi_realm_copy(struct rsi_call *c, uint64_t ipa, void *buf, size_t len, bool to_realm);

#endif
