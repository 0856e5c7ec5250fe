/* SPDX-License-Identifier: MIT */
/*
 * Test support: issue RMI commands over the SMC conduit and look inside the
 * RMM (tests only) to check granule states against the GPT.
 */
#ifndef RK_TEST_H
#define RK_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "realmkit/abi_gen.h"
#include "realmkit/platform.h"
#include "rmm/granule.h"

#define T_DRAM_BASE 0x80000000ULL
#define G 4096ULL

/* Result registers of one RMI call. */
struct rmi_out {
	uint64_t x[5];
};

uint64_t rmi(struct rk_machine *m, uint64_t fid, struct rmi_out *out, int nargs, ...);
#define RMI(m, fid, out, ...) rmi((m), (fid), (out), RK_NARGS(__VA_ARGS__), __VA_ARGS__)
#define RMI0(m, fid, out) rmi((m), (fid), (out), 0)
#define RK_NARGS(...) RK_NARGS_(__VA_ARGS__, 6, 5, 4, 3, 2, 1, 0)
#define RK_NARGS_(a, b, c, d, e, f, n, ...) n

/* Status and index of a packed RmiResult. */
#define ST(x0) ((unsigned int)((x0) & 0xff))
#define IDX(x0) ((unsigned int)(((x0) >> 8) & 0xff))

/* A machine with `mib` MiB of DRAM at T_DRAM_BASE, RMM configured and activated. */
struct rk_machine *t_machine(uint64_t mib);
/* Same, not activated. */
struct rk_machine *t_machine_inactive(uint64_t mib);

/* Granule state in the RMM (tests look inside). */
enum granule_state t_gstate(struct rk_machine *m, uint64_t pa);
/* Check every DRAM granule: GPT == NS exactly when state == UNDELEGATED; counts by state. */
void t_check_gpt_consistent(struct rk_machine *m, uint64_t counts[GRANULE_STATE_COUNT]);
/* All granules UNDELEGATED and NS. */
void t_assert_all_undelegated(struct rk_machine *m);

/* Delegate [pa, pa+n*G), asserting success. */
void t_delegate(struct rk_machine *m, uint64_t pa, uint64_t n);
void t_undelegate(struct rk_machine *m, uint64_t pa, uint64_t n);

/* Standard realm parameters (written to an NS granule at params_pa). */
struct rmi_realm_params;
void t_realm_params(struct rmi_realm_params *p, unsigned int s2sz, uint64_t rtt_base,
		    unsigned int hash_algo);
void t_write(struct rk_machine *m, uint64_t pa, const void *buf, size_t len);
void t_read(struct rk_machine *m, uint64_t pa, void *buf, size_t len);

/* Create a realm: delegates rd and root rtts, writes params at params_pa. Returns RMI status. */
uint64_t t_realm_create(struct rk_machine *m, uint64_t rd, uint64_t rtt_base, unsigned int s2sz,
			unsigned int start_level, unsigned int nroot, uint64_t params_pa,
			unsigned int hash_algo);

/* Read an entry: returns x0, fills level/state/desc/ripas. */
uint64_t t_read_entry(struct rk_machine *m, uint64_t rd, uint64_t ipa, int level,
		      struct rmi_out *out);

#endif
