/* SPDX-License-Identifier: MIT */
/*
 * Running a REC: the loop inside RMI_REC_ENTER that drives the execution
 * engine (platform/cpu), resolves stage-2 faults against the RTTs, answers
 * RSI and PSCI calls, and fills RmiRecExit when the host has to act.
 */
#ifndef RK_RMM_REC_RUN_H
#define RK_RMM_REC_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "realmkit/abi_gen.h"
#include "realm.h"
#include "rec.h"

/* Default longest uninterrupted run of one REC_ENTER before an IRQ exit (time
 * slice; rk_machine_config.rec_time_slice_us). */
#define REC_TIME_SLICE_US 2000u

/* One RSI or PSCI call being handled. */
struct rsi_call {
	struct rmm *rmm;
	struct rec *rec;
	uint64_t rd_pa;
	struct s2tt_ctx s2;
	uint64_t x[REC_NUM_GPRS];      /* the realm's x0..x30; results go back here */
	struct rmi_rec_exit *exit;     /* exit record, if the call needs the host */
	bool to_host;                  /* set: fill *exit and leave REC_ENTER */
	bool retry;                    /* set: re-execute the SMC after the exit */
};

/*
 * The SMCCC function identifier in a realm's X0: W0 without the SVE hint bit.
 * The upper half of X0 is ignored, as TF-RMM does (compilers have been seen
 * to sign-extend constant FIDs).
 */
static inline uint64_t rsi_fid(uint64_t x0)
{
	return (x0 & 0xffffffffULL) & ~SMC_FID_SVE_HINT;
}
/* Handle an SMC from the realm (RSI, PSCI, SMCCC). */
void rsi_handle(struct rsi_call *c);
/* "RSI_HOST_CALL", "PSCI_CPU_ON", "SMCCC_VERSION", "SMC 0x..." */
const char *rsi_call_name(uint64_t fid);

/* Where an IPA of the realm leads, as the RSI commands that take an IPA need it. */
enum ipa_resolve {
	IPA_MAPPED,     /* RIPAS RAM with a valid mapping: copied */
	IPA_EMPTY,      /* RIPAS EMPTY (or outside the PAR): an input error for RSI */
	IPA_UNMAPPED,   /* RIPAS RAM without mapping, or DESTROYED: the host must act */
};

/*
 * Copy len bytes (within one granule) to or from realm memory at ipa, as the
 * RMM does for RSI commands that take an IPA. IPA_UNMAPPED: nothing copied,
 * *level is where the walk stopped (for a stage-2 exit to the host).
 */
enum ipa_resolve realm_ipa_copy(struct rmm *rmm, const struct s2tt_ctx *s2, uint64_t ipa, void *buf,
				size_t len, bool to_realm, int *level);

/* realm_ipa_copy() for an RSI call: IPA_UNMAPPED sets up the host exit and a retry of the call. */
enum ipa_resolve rsi_realm_copy(struct rsi_call *c, uint64_t ipa, void *buf, size_t len, bool to_realm);

/*
 * The RMM wrote realm memory at ipa (run lock held): every engine of the
 * realm drops the code it translated from that page before it runs again
 * (the engines only see their own stores).
 */
void realm_code_written(struct rd *rd, uint64_t ipa);

/* Fill exit as a stage-2 data abort at ipa that the host must resolve. */
void rec_exit_s2_abort(struct rmi_rec_exit *exit, uint64_t ipa, int level);

/* REC register access that works whether or not the engine exists. */
void rec_set_gpr(struct rec *rec, unsigned int n, uint64_t v);
uint64_t rec_get_gpr(struct rec *rec, unsigned int n);
void rec_set_pc(struct rec *rec, uint64_t pc);
/* Reset a REC for PSCI CPU_ON: EL1h, DAIF masked, MMU off, pc and x0 given. */
void rec_reset(struct rec *rec, uint64_t pc, uint64_t x0);

/* Time slice while other RECs of the realm wait for the run lock. */
#define REC_CONTENDED_SLICE_US 500u

/*
 * The realm's run lock (see rec_run.c). realm_run_lock/unlock serve RMI
 * commands that must not run while a REC of the realm executes; REC_ENTER
 * uses the _rec forms, which keep a REC's time slice across a short exit to
 * the host.
 */
bool realm_run_contended(struct rd *rd);
void realm_run_lock_init(struct rd *rd);
void realm_run_lock_fini(struct rd *rd);
void realm_run_lock(struct rd *rd);
void realm_run_unlock(struct rd *rd);
/* Take the lock for the REC at rec_pa; returns the start of its time slice (monotonic us). */
double realm_run_lock_rec(struct rd *rd, uint64_t rec_pa);
/*
 * Release it after the REC's exit; keep = the exit is one the host completes
 * at once (emulated MMIO, host call, PSCI) and the REC's contended slice,
 * which began at slice_start_us, is not over: then the lock waits for that
 * REC for up to REC_RESERVE_US before it goes to the next in line.
 */
void realm_run_unlock_rec(struct rd *rd, uint64_t rec_pa, bool keep, double slice_start_us);
/* How long a released run lock waits for the REC that left it after a short exit. */
#define REC_RESERVE_US 100u

/* Bumped whenever a mapping is removed or changed: engines flush and refault. */
static inline void realm_s2_changed(struct rd *rd)
{
	__atomic_add_fetch(&rd->s2_gen, 1, __ATOMIC_RELEASE);
}

#endif
