/* SPDX-License-Identifier: MIT */
/*
 * A REC outside its run loop (rec_engine.c): what RMI commands and RSI calls
 * do to a REC and its realm's memory. Its engine (created by REC_ENTER,
 * rec_run.c) and registers, whether or not the engine exists; the RMM's
 * copies to and from realm memory through the RTTs; the code log that makes
 * the engines drop what they translated from pages the RMM wrote; and
 * locking a REC together with its RD (L2 in granule.h).
 */
#ifndef RK_RMM_REC_ENGINE_H
#define RK_RMM_REC_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "realmkit/abi_gen.h"
#include "realm.h"
#include "rec.h"

/* Release the execution engine of a REC that is being destroyed. */
void rec_free_engine(struct rec *rec);

/* Lock a REC (in `state`) and its RD in PA order (L2). NULL if rec_pa is not one. */
struct granule *lock_rec_and_rd(struct rmm *rmm, uint64_t rec_pa, enum granule_state state,
				struct granule **g_rd);

/* REC register access that works whether or not the engine exists. */
void rec_set_gpr(struct rec *rec, unsigned int n, uint64_t v);
uint64_t rec_get_gpr(struct rec *rec, unsigned int n);
void rec_set_pc(struct rec *rec, uint64_t pc);
/* Reset a REC for PSCI CPU_ON: EL1h, DAIF masked, MMU off, pc and x0 given. */
void rec_reset(struct rec *rec, uint64_t pc, uint64_t x0);

/* Where an IPA of the realm leads, as the RSI commands that take an IPA need it. */
enum ipa_resolve {
	IPA_MAPPED,   /* RIPAS RAM with a valid mapping: copied */
	IPA_EMPTY,    /* RIPAS EMPTY (or outside the PAR): an input error for RSI */
	IPA_UNMAPPED, /* RIPAS RAM without mapping, or DESTROYED: the host must act */
};

/*
 * Copy len bytes (within one granule) to or from realm memory at ipa, as the
 * RMM does for RSI commands that take an IPA. IPA_UNMAPPED: nothing copied,
 * *level is where the walk stopped (for a stage-2 exit to the host).
 */
enum ipa_resolve realm_ipa_copy(struct rmm *rmm, const struct s2tt_ctx *s2, uint64_t ipa, void *buf,
				size_t len, bool to_realm, int *level);

/*
 * The RMM wrote realm memory at ipa (run lock held): every engine of the
 * realm drops the code it translated from that page before it runs again
 * (the engines only see their own stores).
 */
void realm_code_written(struct rd *rd, uint64_t ipa);

/* Fill exit as a stage-2 data abort at ipa that the host must resolve. */
void rec_exit_s2_abort(struct rmi_rec_exit *exit, uint64_t ipa, int level);

#endif
