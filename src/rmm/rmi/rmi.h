/* SPDX-License-Identifier: MIT */
/*
 * RMI command handlers: one per command, dispatched by the generated table
 * (rmi_dispatch_gen.c, from the JSON in abi/) after the FID range and the RMM
 * global-state gate are checked. RSI command handlers likewise, from
 * rsi_dispatch_gen.c. This header declares the two tables.
 *
 * A handler has one shape (prototypes and structs in rmi_handlers_gen.h):
 *
 *   uint64_t rmi_<cmd>(struct rmm *rmm, const struct rmi_<cmd>_args *args,
 *                      struct rmi_<cmd>_res *res);
 *
 * args holds x1.. by their ABI names, res the result registers after x0
 * (zeroed before the call), and the return value is the packed RmiResult (x0).
 * Its body validates the inputs in the specification's failure order, acts,
 * and leaves through one exit path that releases what it locked.
 *
 * rmi_handler_fn is the register-level entry the table holds: the generated
 * trampoline rmi_<cmd>_regs() gets regs[0..5] = x1..x6 and fills out[0] = x0
 * and out[1..4] = x1..x4 (out[] is zeroed before the call).
 */
#ifndef RK_RMM_RMI_H
#define RK_RMM_RMI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "realmkit/abi_gen.h"

struct rmm;
struct rsi_call;

#define RMI_MAX_ARGS 6
#define RMI_MAX_RES 5

typedef void rmi_handler_fn(struct rmm *rmm, const uint64_t *regs, uint64_t *out);
typedef void rsi_handler_fn(struct rmm *rmm, struct rsi_call *call);

/* Which RMM global states accept a command (spec 2.0 §1.5 of the digest). */
enum rmi_gate {
	RMI_GATE_ACTIVE = 0, /* only after RMM_ACTIVATE (default) */
	RMI_GATE_ANY = 1,    /* in any RMM state */
	RMI_GATE_INIT = 2,   /* only before RMM_ACTIVATE */
};

struct rmi_cmd_desc {
	const char *name;
	rmi_handler_fn *handler; /* NULL: defined by the ABI, not implemented */
	uint8_t nargs;
	uint8_t nres;
	uint8_t gate; /* enum rmi_gate */
	bool defined;
	const char *args[RMI_MAX_ARGS];
	const char *results[RMI_MAX_RES - 1];
};

struct rsi_cmd_desc {
	const char *name;
	rsi_handler_fn *handler;
	uint8_t nargs;
	uint8_t nres;
	bool defined;
};

extern const struct rmi_cmd_desc rmi_cmd_table[RMI_FNUM_MAX - RMI_FNUM_MIN + 1];
extern const struct rsi_cmd_desc rsi_cmd_table[RSI_FNUM_MAX - RSI_FNUM_MIN + 1];

/* Pack an RmiResult: status in [7:0], index in [15:8]. */
static inline uint64_t rmi_result(enum rmi_status status, unsigned int index)
{
	return (uint64_t)status | ((uint64_t)(index & 0xff) << 8);
}

static inline uint64_t rmi_error_rtt(int level)
{
	return rmi_result(RMI_ERROR_RTT, (unsigned int)level);
}

static inline enum rmi_status rmi_result_status(uint64_t x0)
{
	return (enum rmi_status)(x0 & 0xff);
}

/*
 * Descriptor of a command by FID, or NULL if the FID is outside the RMI range.
 * The FID is W0 (SMCCC; TF-A and TF-RMM pass it on as 32 bits): X0's upper
 * half is ignored.
 */
static inline const struct rmi_cmd_desc *rmi_cmd_lookup(uint64_t fid)
{
	uint64_t fnum;

	fid &= 0xFFFFFFFFULL & ~SMC_FID_SVE_HINT;
	if ((fid & ~0xFFFFULL) != SMC_FID_BASE)
		return NULL;
	fnum = fid & 0xFFFF;
	if (fnum < RMI_FNUM_MIN || fnum > RMI_FNUM_MAX)
		return NULL;
	return &rmi_cmd_table[fnum - RMI_FNUM_MIN];
}

#endif
