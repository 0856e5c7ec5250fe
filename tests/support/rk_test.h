/* SPDX-License-Identifier: MIT */
/*
 * Test support: issue RMI commands over the SMC conduit and look inside the
 * RMM (tests only) to check granule states against the GPT.
 */
#ifndef RK_TEST_H
#define RK_TEST_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
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
/* Same, arguments from an array (every argument is converted to uint64_t). */
uint64_t rmi_args(struct rk_machine *m, uint64_t fid, struct rmi_out *out, const uint64_t *args, int nargs);
#define RMI(m, fid, out, ...) \
	rmi_args((m), (fid), (out), (const uint64_t[]){ __VA_ARGS__ }, RK_NARGS(__VA_ARGS__))
#define RMI0(m, fid, out) rmi((m), (fid), (out), 0)
#define RK_NARGS(...) RK_NARGS_(__VA_ARGS__, 6, 5, 4, 3, 2, 1, 0)
#define RK_NARGS_(a, b, c, d, e, f, n, ...) n

/* Status and index of a packed RmiResult. */
#define ST(x0) ((unsigned int)((x0)&0xff))
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
void t_realm_params(struct rmi_realm_params *p, unsigned int s2sz, uint64_t rtt_base, unsigned int hash_algo);
void t_write(struct rk_machine *m, uint64_t pa, const void *buf, size_t len);
void t_read(struct rk_machine *m, uint64_t pa, void *buf, size_t len);

/* Create a realm: delegates rd and root rtts, writes params at params_pa. Returns RMI status. */
uint64_t t_realm_create(struct rk_machine *m, uint64_t rd, uint64_t rtt_base, unsigned int s2sz,
			unsigned int start_level, unsigned int nroot, uint64_t params_pa,
			unsigned int hash_algo);

/* Read an entry: returns x0, fills level/state/desc/ripas. */
uint64_t t_read_entry(struct rk_machine *m, uint64_t rd, uint64_t ipa, int level, struct rmi_out *out);

#include "rk_payload.h"

/* ---- more machines ---------------------------------------------------------- */

/*
 * A machine from a full configuration. If `activate`, RMM_CONFIG_SET (config
 * page: the last granule of the last bank) and RMM_ACTIVATE are run.
 */
struct rk_machine *t_machine_cfg(const struct rk_machine_config *cfg, bool activate);

/* ---- results ---------------------------------------------------------------- */

/* A packed RmiResult: status and index. */
#define T_RES(st, idx) ((uint64_t)(st) | ((uint64_t)(idx) << 8))
/* RMI_ERROR_RTT with the level in the index. */
#define T_RTT(level) T_RES(RMI_ERROR_RTT, (unsigned int)(level))

/* ---- snapshots: a command that fails must change nothing ------------------------ */

/*
 * A snapshot of everything the RMM keeps: every granule's state, refcount
 * and GPT entry, the contents of every granule that is not UNDELEGATED (RDs,
 * RTTs, DATA, DELEGATED), the RMM global state and the VMID allocator.
 */
struct t_snap;
struct t_snap *t_snap_take(struct rk_machine *m);
/* Assert that the machine still matches the snapshot (and no granule lock is held). */
void t_snap_check(struct rk_machine *m, const struct t_snap *s);
void t_snap_free(struct t_snap *s);

/* Issue a command; assert x0 == expect and that the RMM state did not change. Returns x0. */
uint64_t t_fail(const char *file, int line, struct rk_machine *m, uint64_t expect, struct rmi_out *out,
		uint64_t fid, const uint64_t *args, int nargs);
#define T_ARGS(...) (const uint64_t[]){ __VA_ARGS__ }, RK_NARGS(__VA_ARGS__)
#define RMI_FAIL(m, expect, fid, ...) \
	t_fail(__FILE__, __LINE__, (m), (expect), NULL, (fid), T_ARGS(__VA_ARGS__))
#define RMI_FAIL_OUT(m, expect, out, fid, ...) \
	t_fail(__FILE__, __LINE__, (m), (expect), (out), (fid), T_ARGS(__VA_ARGS__))
/* Issue a command that must succeed and leave the state as it was (idempotent). */
#define RMI_NOCHANGE(m, out, fid, ...) \
	t_fail(__FILE__, __LINE__, (m), RMI_SUCCESS, (out), (fid), T_ARGS(__VA_ARGS__))

/* ---- a bump allocator of granules ------------------------------------------------ */

struct t_pool {
	uint64_t next, end;
};

void t_pool_init(struct t_pool *p, uint64_t base, uint64_t n);
/* n granules aligned to `align` bytes (0: one granule). Not delegated. */
uint64_t t_pool_get(struct t_pool *p, uint64_t n, uint64_t align);
/* n granules aligned to `align`, delegated. */
uint64_t t_pool_delegated(struct rk_machine *m, struct t_pool *p, uint64_t n, uint64_t align);

/* ---- realms -------------------------------------------------------------------- */

/* A realm whose RD, root RTTs and params page come from the pool; asserts success. Returns the RD. */
uint64_t t_realm_new(struct rk_machine *m, struct t_pool *p, unsigned int s2sz, int start_level,
		     unsigned int nroot, unsigned int hash_algo);
/* RTT_CREATE tables (granules from the pool) until the walk for ipa reaches `level`. */
void t_rtt_to(struct rk_machine *m, uint64_t rd, uint64_t ipa, int level, struct t_pool *p);
/* RTT_CREATE, asserting success. */
void t_rtt_create(struct rk_machine *m, uint64_t rd, uint64_t rtt, uint64_t ipa, int level);

/* An RmiAddrRangeDesc: `cnt` blocks of the size mapped at `level`, from pa (ST = DELEGATED). */
static inline uint64_t t_desc(uint64_t pa, int level, uint64_t cnt)
{
	return (uint64_t)(3 - level) | (cnt << 2) | pa;
}
#define T_DESC_UNDELEGATED (1ULL << 63)
/* Flags of UNPROT_MAP: address type, MemAttr, S2AP. */
static inline uint64_t t_unprot_flags(uint64_t type, uint64_t memattr, uint64_t s2ap)
{
	return type | (memattr << 16) | (s2ap << 19);
}

/* ---- looking inside the RMM ------------------------------------------------------- */

struct rd;
struct rd *t_rd(struct rk_machine *m, uint64_t rd);
unsigned int t_realm_state(struct rk_machine *m, uint64_t rd);
const uint8_t *t_rim(struct rk_machine *m, uint64_t rd);
uint16_t t_refcount(struct rk_machine *m, uint64_t pa);
/* The RMM's (root) view of a granule's contents. */
uint8_t *t_gptr(struct rk_machine *m, uint64_t pa);
bool t_gzero(struct rk_machine *m, uint64_t pa);
/* The raw descriptor for ipa, walking towards `level` without locks; *reached = level of the entry. */
uint64_t t_raw_entry(struct rk_machine *m, uint64_t rd, uint64_t ipa, int level, int *reached);
/* The entry's kind (enum s2tte_kind) at exactly `level` (asserts the walk reaches it). */
int t_entry_kind(struct rk_machine *m, uint64_t rd, uint64_t ipa, int level);

/*
 * Check a realm's tables from the inside: every RTT granule is in state RTT
 * and its refcount equals its live entries; TABLE entries point at RTTs;
 * ASSIGNED entries at aligned blocks of DATA granules, no granule twice;
 * *_NS entries only in the unprotected half. Adds what it found to
 * *nrtt (RTT granules, roots included) and *ndata (DATA granules); either may be NULL.
 */
void t_check_realm(struct rk_machine *m, uint64_t rd, uint64_t *nrtt, uint64_t *ndata);

/*
 * Check the whole machine from the inside (no REC may be running): the GPT
 * agrees with every granule's state; every realm as t_check_realm, with each
 * RTT and DATA granule in exactly one realm's tables (a DATA granule mapped
 * once) and each RD's refcount equal to its RECs; every REC's RD exists and
 * its aux granules are REC_AUX and its own; PARTIAL objects and the remaining
 * REC_AUX granules belong to pending operations (SRO contexts), one each.
 */
void t_check_machine(struct rk_machine *m);
/* Whether the host's access to pa (rk_ns_read/write) succeeds exactly when pa is NS memory (never a granule the RMM holds). */
bool t_check_host_access(struct rk_machine *m, uint64_t pa);

/*
 * Tear a realm down over RMI as a KVM host would: REALM_TERMINATE, DATA_UNMAP and
 * UNPROT_UNMAP over the whole IPA space, RTT_DESTROY bottom-up (found with
 * RTT_READ_ENTRY), REALM_DESTROY; every step asserted. Leaves the granules DELEGATED.
 */
void t_realm_teardown(struct rk_machine *m, uint64_t rd);
/* Undelegate every DELEGATED granule (found by looking inside). */
void t_undelegate_all(struct rk_machine *m);
/*
 * Tear down everything on the machine as a host would: drive every pending
 * operation (SRO) to its end, destroy every REC (through its SRO), tear every
 * realm down, undelegate everything, assert all UNDELEGATED.
 */
void t_teardown_all(struct rk_machine *m);

/* ---- the tests' own measurement model (OpenSSL, not src/rmm/measure.c) --------------- */

/* out = H_algo(data), zero-padded to 64 bytes; returns the digest length. */
size_t t_ref_hash(unsigned int algo, const void *data, size_t len, uint8_t out[64]);
/* RIM after REALM_CREATE with these measured parameter values. */
void t_ref_rim_init(unsigned int algo, uint64_t flags0, uint64_t s2sz, uint64_t sve_vl, uint64_t num_bps,
		    uint64_t num_wps, uint64_t pmu_num_ctrs, uint8_t rim[64]);
/* RIM extension by RTT_DATA_MAP_INIT (DATA descriptor, digest 16.3). */
void t_ref_rim_extend_data(unsigned int algo, uint8_t rim[64], uint64_t ipa, uint64_t flags,
			   const uint8_t page[4096]);

/* ---- time ------------------------------------------------------------------------- */

/* Seconds on CLOCK_MONOTONIC: for a test's patience limits, never for its verdicts. */
double t_now(void);

/* ---- a deterministic PRNG (splitmix64) ---------------------------------------------- */

static inline uint64_t t_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

#endif
