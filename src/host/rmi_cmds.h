/* SPDX-License-Identifier: MIT */
/*
 * Typed RMI commands (as Linux's asm/rmi_cmds.h): every command that names an
 * RMM object takes its typed handle, so an RTT cannot be passed where an RD
 * is expected. All of them go through host_rmi(), the one SMC wrapper.
 * They return x0 (the packed RmiResult); x, when given, receives x0..x4.
 */
#ifndef RK_HOST_RMI_CMDS_H
#define RK_HOST_RMI_CMDS_H

#include "host_internal.h"

static inline uint64_t host_rmi_realm_create(struct rk_host *h, rk_rd_t rd, uint64_t params)
{
	return host_rmi(h, RMI_FID_REALM_CREATE, NULL, rd.pa, params, 0, 0, 0);
}

static inline uint64_t host_rmi_realm_activate(struct rk_host *h, rk_rd_t rd)
{
	return host_rmi(h, RMI_FID_REALM_ACTIVATE, NULL, rd.pa, 0, 0, 0, 0);
}

static inline uint64_t host_rmi_realm_terminate(struct rk_host *h, rk_rd_t rd)
{
	return host_rmi(h, RMI_FID_REALM_TERMINATE, NULL, rd.pa, 0, 0, 0, 0);
}

static inline uint64_t host_rmi_realm_destroy(struct rk_host *h, rk_rd_t rd)
{
	return host_rmi(h, RMI_FID_REALM_DESTROY, NULL, rd.pa, 0, 0, 0, 0);
}

/* Starts an SRO: x[1] = handle, x[2] = donate request. */
static inline uint64_t host_rmi_rec_create(struct rk_host *h, rk_rd_t rd, rk_rec_t rec, uint64_t params,
					   uint64_t x[5])
{
	return host_rmi(h, RMI_FID_REC_CREATE, x, rd.pa, rec.pa, params, 0, 0);
}

static inline uint64_t host_rmi_rec_destroy(struct rk_host *h, rk_rec_t rec, uint64_t x[5])
{
	return host_rmi(h, RMI_FID_REC_DESTROY, x, rec.pa, 0, 0, 0, 0);
}

static inline uint64_t host_rmi_rtt_create(struct rk_host *h, rk_rd_t rd, rk_rtt_t rtt, uint64_t ipa,
					   int level)
{
	return host_rmi(h, RMI_FID_RTT_CREATE, NULL, rd.pa, rtt.pa, ipa, (uint64_t)level, 0);
}

/* x[1] = the destroyed RTT, x[2] = top of the non-live range that follows. */
static inline uint64_t host_rmi_rtt_destroy(struct rk_host *h, rk_rd_t rd, uint64_t ipa, int level,
					    uint64_t x[5])
{
	return host_rmi(h, RMI_FID_RTT_DESTROY, x, rd.pa, ipa, (uint64_t)level, 0, 0);
}

/* x[1] = the folded RTT. */
static inline uint64_t host_rmi_rtt_fold(struct rk_host *h, rk_rd_t rd, uint64_t ipa, int level,
					 uint64_t x[5])
{
	return host_rmi(h, RMI_FID_RTT_FOLD, x, rd.pa, ipa, (uint64_t)level, 0, 0);
}

/* x[1] = walk level, x[2] = state, x[3] = descriptor, x[4] = RIPAS. */
static inline uint64_t host_rmi_rtt_read_entry(struct rk_host *h, rk_rd_t rd, uint64_t ipa, int level,
					       uint64_t x[5])
{
	return host_rmi(h, RMI_FID_RTT_READ_ENTRY, x, rd.pa, ipa, (uint64_t)level, 0, 0);
}

/* x[1] = top of the range done. */
static inline uint64_t host_rmi_rtt_init_ripas(struct rk_host *h, rk_rd_t rd, uint64_t base, uint64_t top,
					       uint64_t x[5])
{
	return host_rmi(h, RMI_FID_RTT_INIT_RIPAS, x, rd.pa, base, top, 0, 0);
}

static inline uint64_t host_rmi_data_map_init(struct rk_host *h, rk_rd_t rd, rk_data_t data, uint64_t ipa,
					      uint64_t src, uint64_t flags)
{
	return host_rmi(h, RMI_FID_RTT_DATA_MAP_INIT, NULL, rd.pa, data.pa, ipa, src, flags);
}

/* The range commands: x[1] = out_top; unmap: x[2] = range descriptor (SINGLE). */
static inline uint64_t host_rmi_data_map(struct rk_host *h, rk_rd_t rd, uint64_t base, uint64_t top,
					 uint64_t flags, uint64_t oaddr, uint64_t x[5])
{
	return host_rmi(h, RMI_FID_RTT_DATA_MAP, x, rd.pa, base, top, flags, oaddr);
}

static inline uint64_t host_rmi_unprot_map(struct rk_host *h, rk_rd_t rd, uint64_t base, uint64_t top,
					   uint64_t flags, uint64_t oaddr, uint64_t x[5])
{
	return host_rmi(h, RMI_FID_RTT_UNPROT_MAP, x, rd.pa, base, top, flags, oaddr);
}

static inline uint64_t host_rmi_data_unmap(struct rk_host *h, rk_rd_t rd, uint64_t base, uint64_t top,
					   uint64_t flags, uint64_t oaddr, uint64_t x[5])
{
	return host_rmi(h, RMI_FID_RTT_DATA_UNMAP, x, rd.pa, base, top, flags, oaddr);
}

static inline uint64_t host_rmi_unprot_unmap(struct rk_host *h, rk_rd_t rd, uint64_t base, uint64_t top,
					     uint64_t flags, uint64_t oaddr, uint64_t x[5])
{
	return host_rmi(h, RMI_FID_RTT_UNPROT_UNMAP, x, rd.pa, base, top, flags, oaddr);
}

static inline uint64_t host_rmi_rec_enter(struct rk_host *h, rk_rec_t rec, uint64_t run_pa)
{
	return host_rmi(h, RMI_FID_REC_ENTER, NULL, rec.pa, run_pa, 0, 0, 0);
}

/* bet1: calling REC, target REC, PSCI status. */
static inline uint64_t host_rmi_psci_complete(struct rk_host *h, rk_rec_t caller, rk_rec_t target,
					      uint64_t status)
{
	return host_rmi(h, RMI_FID_PSCI_COMPLETE, NULL, caller.pa, target.pa, status, 0, 0);
}

/* x[1] = the address the RIPAS change reached. */
static inline uint64_t host_rmi_rtt_set_ripas(struct rk_host *h, rk_rd_t rd, rk_rec_t rec, uint64_t base,
					      uint64_t top, uint64_t x[5])
{
	return host_rmi(h, RMI_FID_RTT_SET_RIPAS, x, rd.pa, rec.pa, base, top, 0);
}

#endif
