/* SPDX-License-Identifier: MIT */
/*
 * The RMM as the board sees it: the firmware's entry points, and nothing of
 * its insides. The only RMM header outside src/rmm/ may include (the machine,
 * src/machine/, loads the RMM onto a platform and wires the SMC conduit to
 * it); everything else of the RMM is private to the rk_rmm library.
 *
 * Threads: rmm_handle_smc(), rmm_kick_rec() and rmm_set_rsi_log() may be
 * called from any thread at any time between create and destroy (as SMCs
 * from several host CPUs); create and destroy must not race with anything.
 */
#ifndef RK_RMM_FIRMWARE_H
#define RK_RMM_FIRMWARE_H

#include <stdint.h>
#include <stdio.h>

#include "realmkit/attest.h"
#include "realmkit/platform.h"

struct platform;
struct rmm;

/* Boot the RMM on plat: 0, -ENOMEM, or the attestation keys' error. */
int rmm_create(struct platform *plat, const struct rk_machine_config *cfg, struct rmm **out);
/* Tear it down (NULL is allowed). */
void rmm_destroy(struct rmm *rmm);

struct plat_ich;

/*
 * Host SMC entry: x[0] = FID in, x[0..17] out (SMCCC: the others preserved).
 * ich: the GIC virtual CPU interface of the CPU the SMC is issued on
 * (platform/gic.h), held by the caller for the whole call; NULL for a CPU
 * whose interface is in its reset state and is not read back.
 */
void rmm_handle_smc(struct rmm *rmm, struct plat_ich *ich, uint64_t x[18]);

/* The platform attestation key, or NULL if the keys are not ready. */
const struct rk_attest_key *rmm_cpak(struct rmm *rmm);
/* Ask the REC at rec_pa, if it is running, to return to the host (an IRQ). */
void rmm_kick_rec(struct rmm *rmm, uint64_t rec_pa);
/* Firmware log (one line per RSI call, and per RMI command refused), or NULL for none. */
void rmm_set_rsi_log(struct rmm *rmm, FILE *f);

#endif
