/* SPDX-License-Identifier: MIT */
/*
 * unmap: the host takes pages away while the realm runs (RK_HC_UNMAP), and
 * the realm's next access, through its own MMU, goes to the host: no stale
 * translation survives (needs realmkit's stage-2 vCPU mode for the MMU).
 *  - A shared page (unprotected IPA, the host's RK_HC_SHARED_BUF): the host
 *    unmaps it with RMI_RTT_UNPROT_UNMAP and writes a new word in its memory
 *    behind it. The realm's next read exits to the host (a stage-2 fault on
 *    unprotected memory, counted by RK_HC_FAULTS), which maps the page again
 *    (RMI_RTT_UNPROT_MAP): the realm reads the host's word.
 *  - A private page (protected IPA, RIPAS RAM): the host unmaps it with
 *    RMI_RTT_DATA_UNMAP, which makes its RIPAS DESTROYED (RMM spec: ASSIGNED
 *    RAM -> UNASSIGNED DESTROYED) and gives the granule back to the host. An
 *    access now would exit to the host (RIPAS DESTROYED: a SYNC exit, not an
 *    SEA), and the host cannot make the page usable again: only the realm can,
 *    with RSI_IPA_STATE_SET(RAM, CHANGE_DESTROYED). The realm does that, then
 *    its next read exits to the host (a stage-2 fault on protected memory),
 *    which maps a new zeroed granule: the old contents are gone.
 */
#include "sdk.h"

static uint8_t priv[RK_PAGE_SIZE] __attribute__((aligned(4096)));

#define HOST_WORD ((uint64_t)0x4057da7a4057da7aull) /* what the host writes into the shared page */

static const char *ripas_name(enum rsi_ripas r)
{
	return r == RSI_RIPAS_EMPTY       ? "EMPTY"
	       : r == RSI_RIPAS_RAM       ? "RAM"
	       : r == RSI_RIPAS_DESTROYED ? "DESTROYED"
					  : "?";
}

/* Stage-2 faults the host resolved so far: [0] protected, [1] unprotected. */
static void host_faults(uint64_t f[2])
{
	uint64_t g[31] = { 0 };

	rk_host_call(RK_HC_FAULTS, g);
	f[0] = g[0];
	f[1] = g[1];
}

static uint64_t host_unmap(uint64_t ipa, uint64_t value)
{
	uint64_t g[31] = { 0 };

	g[0] = ipa;
	g[1] = value;
	rk_host_call(RK_HC_UNMAP, g);
	return g[0];
}

static bool shared_page(void)
{
	uint64_t g[31] = { 0 }, f0[2], f1[2], f2[2], ipa, v, done;
	volatile uint64_t *p;
	int ret;

	rk_host_call(RK_HC_SHARED_BUF, g);
	ipa = g[0];
	if (!g[1] || ipa < RK_GUEST_UNPROT_BASE) {
		rk_printf("unmap: the host has no shared buffer\n");
		return false;
	}
	/* shared memory is Normal memory, not the Device default of the unprotected half */
	ret = rk_mmu_map(ipa, ipa, RK_PAGE_SIZE, RK_MAP_NORMAL);
	p = (volatile uint64_t *)(uintptr_t)ipa;
	host_faults(f0);
	*p = 0x1111111111111111ull;
	v = *p;
	host_faults(f1);
	rk_printf(
		"unmap: shared page 0x%lx (mapped Normal: %d): wrote and read 0x%lx; shared faults %lu -> %lu\n",
		ipa, ret, v, f0[1], f1[1]);
	done = host_unmap(ipa, HOST_WORD);
	rk_printf("unmap: the host unmapped it (RMI_RTT_UNPROT_UNMAP) and wrote 0x%lx behind it: %s\n",
		  HOST_WORD, done == 1 ? "done" : "refused");
	v = *p;
	host_faults(f2);
	rk_printf("unmap: the next read exited to the host (shared faults %lu -> %lu), which mapped it "
		  "again: 0x%lx%s\n",
		  f1[1], f2[1], v, v == HOST_WORD ? " (the host's data)" : "");
	return !ret && f1[1] == f0[1] + 1 && done == 1 && f2[1] == f1[1] + 1 && v == HOST_WORD;
}

static bool private_page(void)
{
	uint64_t base = (uint64_t)(uintptr_t)priv, f0[2], f1[2], done, ret, resp = RSI_REJECT, v;
	enum rsi_ripas r = RSI_RIPAS_RAM;

	*(volatile uint64_t *)priv = 0x5ec2e75ec2e75ec2ull;
	done = host_unmap(base, 0);
	ret = rsi_ipa_state_get(base, base + RK_PAGE_SIZE, NULL, &r);
	rk_printf("unmap: private page 0x%lx: the host unmapped it (RMI_RTT_DATA_UNMAP): %s; "
		  "IPA_STATE_GET = %lu, RIPAS %s\n",
		  base, done == 1 ? "done" : "refused", ret, ripas_name(r));
	if (done != 1 || ret != RSI_SUCCESS || r != RSI_RIPAS_DESTROYED)
		return false;
	/* touching it now would exit to a host that cannot serve it: make it RAM again first */
	ret = rsi_ipa_state_set_range(base, base + RK_PAGE_SIZE, RSI_RIPAS_RAM, RSI_CHANGE_DESTROYED, &resp);
	rsi_ipa_state_get(base, base + RK_PAGE_SIZE, NULL, &r);
	rk_printf("unmap: IPA_STATE_SET(RAM, CHANGE_DESTROYED) = %lu, %s, RIPAS %s\n", ret,
		  resp == RSI_ACCEPT ? "accepted" : "rejected", ripas_name(r));
	if (ret != RSI_SUCCESS || resp != RSI_ACCEPT || r != RSI_RIPAS_RAM)
		return false;
	host_faults(f0);
	v = *(volatile uint64_t *)priv;
	host_faults(f1);
	rk_printf("unmap: the next read exited to the host (stage-2 faults %lu -> %lu), which mapped a new "
		  "granule: 0x%lx%s\n",
		  f0[0], f1[0], v, v ? "" : " (the old contents are gone)");
	return f1[0] == f0[0] + 1 && v == 0;
}

int main(void)
{
	int ret = rk_mmu_setup();
	bool ok = !ret;
	uint64_t done;

	rk_printf("unmap: MMU on: %d\n", ret);
	/* the host only takes pages of guest memory */
	done = host_unmap(0x1000, 0);
	rk_printf("unmap: RK_HC_UNMAP of IPA 0x1000 (no guest memory): %s\n",
		  done == 2 ? "refused" : "not refused!");
	ok = ok && done == 2;
	ok = ok && shared_page();
	ok = ok && private_page();
	rk_printf("unmap: %s\n", ok ? "PASS" : "FAIL");
	rk_report(RK_GUEST_EX_UNMAP, ok, 0);
	return 0;
}
