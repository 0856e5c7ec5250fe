/* SPDX-License-Identifier: MIT */
/*
 * RSI_ATTEST_TOKEN_INIT / RSI_ATTEST_TOKEN_CONTINUE.
 * INIT snapshots the realm's claims, builds and signs the whole CCA token
 * (src/attest) and keeps it in the REC's auxiliary granules; CONTINUE hands
 * it to the realm in chunks. A new INIT abandons a token in flight.
 */
#include <string.h>

#include "realmkit/attest.h"
#include "attest_keys.h"
#include "rmi/rmi_handlers_gen.h"
#include "rsi/rsi.h"

#define TOKEN_CAP (REC_NUM_AUX * RK_GRANULE_SIZE)

/* Copy between a buffer and the token area formed by the REC's aux granules. */
static void aux_copy(struct rmm *rmm, const struct rec *rec, uint32_t off, uint8_t *buf, size_t len,
		     bool to_aux)
{
	while (len) {
		uint32_t i = off / RK_GRANULE_SIZE, o = off % RK_GRANULE_SIZE;
		size_t n = RK_GRANULE_SIZE - o < len ? RK_GRANULE_SIZE - o : len;
		uint64_t gidx = 0;

		plat_pa_to_gidx(rmm->plat, rec->aux[i], &gidx);
		uint8_t *p = plat_gidx_ptr(rmm->plat, gidx) + o;
		if (to_aux)
			memcpy(p, buf, n);
		else
			memcpy(buf, p, n);
		off += (uint32_t)n;
		buf += n;
		len -= n;
	}
}

void rsi_attest_token_init(struct rmm *rmm, struct rsi_call *c)
{
	static _Thread_local struct rk_token_params p;
	static _Thread_local uint8_t token[TOKEN_CAP];
	struct rd *rd = rd_of(rmm, granule_from_pa(rmm, c->rd_pa));
	struct rmm_attest *a = rmm->attest;
	size_t len = 0, hl = rk_hash_len(rd->hash_algo);

	c->rec->token_active = 0;
	if (rmm_attest_ready(a)) {
		c->x[0] = RSI_ERROR_UNKNOWN;
		return;
	}
	memset(&p, 0, sizeof(p));
	p.format = RK_TOKEN_FORMAT_2_0;
	memcpy(p.challenge, &c->x[1], sizeof(p.challenge));
	memcpy(p.instance_id, rd->realm_id, sizeof(p.instance_id));
	memcpy(p.rpv, rd->rpv, sizeof(p.rpv));
	p.hash_algo = (enum rk_attest_hash)rd->hash_algo;
	memcpy(p.rim, rd->rim, hl);
	for (unsigned int i = 0; i < RMM_NUM_REMS; i++)
		memcpy(p.rem[i], rd->rem[i], hl);
	p.mec_policy = (uint8_t)((rd->flags0 & RMI_REALM_FLAGS0_MEC_POLICY_MASK) >>
				 RMI_REALM_FLAGS0_MEC_POLICY_SHIFT);
	p.rak = a->rak;
	p.platform_token = a->platform_token; /* loaded, or signed once by the CPAK */
	p.platform_token_len = a->platform_token_len;
	if (rk_token_build(&p, token, sizeof(token), &len)) {
		c->x[0] = RSI_ERROR_UNKNOWN;
		return;
	}
	aux_copy(rmm, c->rec, 0, token, len, true);
	c->rec->token_len = (uint32_t)len;
	c->rec->token_off = 0;
	c->rec->token_active = 1;
	c->x[0] = RSI_SUCCESS;
	c->x[1] = len; /* an upper bound of the token size: here, its size */
}

void rsi_attest_token_continue(struct rmm *rmm, struct rsi_call *c)
{
	static _Thread_local uint8_t chunk[RK_GRANULE_SIZE];
	uint64_t ipa = c->x[1], off = c->x[2], size = c->x[3];
	struct rec *rec = c->rec;

	if (ipa & (RK_GRANULE_SIZE - 1) || off >= RK_GRANULE_SIZE || size > RK_GRANULE_SIZE ||
	    off + size > RK_GRANULE_SIZE || !s2tt_ipa_protected(&c->s2, ipa)) {
		c->x[0] = RSI_ERROR_INPUT;
		return;
	}
	if (!rec->token_active) {
		c->x[0] = RSI_ERROR_STATE;
		return;
	}
	uint64_t left = rec->token_len - rec->token_off;
	uint64_t n = size < left ? size : left;
	aux_copy(rmm, rec, rec->token_off, chunk, n, false);
	if (n) {
		switch (rsi_realm_copy(c, ipa + off, chunk, n, true)) {
		case IPA_EMPTY:
			c->x[0] = RSI_ERROR_INPUT;
			return;
		case IPA_UNMAPPED:
			return; /* the host maps the page; the realm re-issues the call */
		case IPA_MAPPED:
			break;
		}
	}
	rec->token_off += (uint32_t)n;
	c->x[1] = n;
	if (rec->token_off == rec->token_len) {
		rec->token_active = 0;
		c->x[0] = RSI_SUCCESS;
	} else {
		c->x[0] = RSI_INCOMPLETE;
	}
	(void)rmm;
}
