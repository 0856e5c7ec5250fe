/* SPDX-License-Identifier: MIT */
/*
 * ipi: SGIs between vCPUs through the host's vGIC. vCPU 0 sets up the
 * distributor, every vCPU its redistributor and CPU interface; vCPU 0
 * starts the others with PSCI CPU_ON. Every wait is a WFI the awaited SGI
 * ends (the others acknowledge to vCPU 0 with SGI 7), so this also shows WFI
 * woken by SGIs. Phases, each counted exactly:
 *  - ring: a token (SGI 0) passed from each vCPU to the next, ROUNDS times
 *    around (to itself when alone);
 *  - one: SGI 1 to each other vCPU in turn (to itself when alone);
 *  - all-but-self: each vCPU in turn, asked by vCPU 0 (SGI 2), sends SGI 3
 *    with IRM = 1: every other vCPU gets it once from each sender;
 *  - list: SGI 4 to a list (TargetList: vCPU 0 and the odd ones);
 *  - priorities: 12 interrupts (7 SGIs and 5 SPIs, more than the host CPU's 4
 *    list registers) made pending on vCPU 0 with IRQs masked, then taken in
 *    priority order once unmasked;
 *  - CPU_OFF: the others leave their WFI loop (SGI 5) and do CPU_OFF; SGI 6
 *    is sent to vCPU 1 while it is off: it stays pending in its
 *    redistributor and is taken after the second CPU_ON, once vCPU 1 enables
 *    SGIs again; then a ring once more and CPU_OFF again.
 * PASS if every count is exact; the result value is the number of SGIs taken.
 */
#include "sdk.h"

extern char _start[];

#define ROUNDS 3
#define NSGI 16
#define SGI_RING 0
#define SGI_ONE 1
#define SGI_BCAST_REQ 2
#define SGI_BCAST 3
#define SGI_LIST 4
#define SGI_WAKE 5
#define SGI_WHILE_OFF 6
#define SGI_ACK 7
#define NPRIO 12

static unsigned ncpus;
static volatile uint32_t recv[RK_GUEST_MAX_CPUS][NSGI];
static volatile uint32_t ring_hops, ring_total;
static volatile uint32_t up_mask, leave, taken, spurious;
static volatile unsigned prio_order[NPRIO], nprio;
static bool ok = true;

/* The priority phase: INTID and priority (5 bits kept: multiples of 8), none equal. */
static const struct {
	unsigned intid;
	uint8_t prio;
} prio_set[NPRIO] = {
	{ 8, 0x90 },  { 9, 0x50 },  { 10, 0xd0 }, { 11, 0x30 }, { 12, 0x70 }, { 13, 0xb0 },
	{ 14, 0x18 }, { 40, 0x60 }, { 41, 0xc0 }, { 42, 0x20 }, { 43, 0x80 }, { 44, 0x40 },
};

static void irq(struct rk_exc_frame *frame)
{
	unsigned cpu = rk_cpu_index(), id = rk_gic_ack();

	(void)frame;
	if (id >= RK_GIC_SPURIOUS - 3) {
		__atomic_add_fetch(&spurious, 1, __ATOMIC_SEQ_CST);
		return;
	}
	__atomic_add_fetch(&taken, 1, __ATOMIC_SEQ_CST);
	if (id < NSGI)
		__atomic_add_fetch(&recv[cpu][id], 1, __ATOMIC_SEQ_CST);
	switch (id) {
	case SGI_RING:
		/* hop k lands on vCPU k % n: the last one (ROUNDS * n) on vCPU 0 */
		if (__atomic_add_fetch(&ring_hops, 1, __ATOMIC_SEQ_CST) < ring_total)
			rk_gic_sgi(SGI_RING, (cpu + 1) % ncpus);
		break;
	case SGI_BCAST_REQ:
		rk_gic_sgi_others(SGI_BCAST);
		break;
	case SGI_ONE:
	case SGI_BCAST:
	case SGI_LIST:
	case SGI_WHILE_OFF:
		if (cpu != 0)
			rk_gic_sgi(SGI_ACK, 0);
		break;
	default: /* the priority phase's SGIs 8-14 and SPIs */
		if (id > SGI_ACK && nprio < NPRIO)
			prio_order[nprio++] = id;
		break;
	}
	rk_gic_eoi(id);
}

static void enable_sgis(void)
{
	for (unsigned s = 0; s <= SGI_ACK; s++)
		rk_gic_enable(s, RK_GIC_PRIO_DEFAULT);
}

void rk_secondary_main(unsigned cpu, uint64_t context_id)
{
	(void)context_id;
	rk_gic_cpu_init();
	enable_sgis();
	__atomic_or_fetch(&up_mask, 1u << cpu, __ATOMIC_SEQ_CST);
	rk_irq_enable();
	rk_gic_sgi(SGI_ACK, 0); /* up */
	while (!leave)
		__asm__ volatile("wfi");
	rk_irq_disable();
	__atomic_and_fetch(&up_mask, ~(1u << cpu), __ATOMIC_SEQ_CST);
	psci_cpu_off();
	rk_printf("ipi: cpu %u: CPU_OFF returned!\n", cpu);
}

/* WFI until cond (an SGI to vCPU 0 ends each WFI). */
#define WAIT(cond)                               \
	do {                                     \
		while (!(cond))                  \
			__asm__ volatile("wfi"); \
	} while (0)

static void check(bool cond, const char *what)
{
	if (!cond)
		rk_printf("ipi: FAILED: %s\n", what);
	ok = ok && cond;
}

static uint32_t all_mask(void)
{
	return ncpus >= 32 ? 0xffffffffu : (1u << ncpus) - 1;
}

static void start_secondaries(void)
{
	for (unsigned i = 1; i < ncpus; i++) {
		int32_t r = psci_cpu_on(rk_cpu_mpidr(i), (uint64_t)(uintptr_t)_start, i);
		if (r != PSCI_RET_SUCCESS) {
			rk_printf("ipi: CPU_ON(%u) = %d\n", i, r);
			ok = false;
		}
	}
	WAIT(up_mask == all_mask() || !ok);
}

static void stop_secondaries(void)
{
	leave = 1;
	if (ncpus > 1)
		rk_gic_sgi_others(SGI_WAKE);
	for (unsigned i = 1; i < ncpus; i++)
		while (psci_affinity_info(rk_cpu_mpidr(i), 0) != PSCI_AFF_OFF)
			;
	leave = 0;
}

static void ring(void)
{
	uint32_t before[RK_GUEST_MAX_CPUS];

	for (unsigned i = 0; i < ncpus; i++)
		before[i] = recv[i][SGI_RING];
	ring_hops = 0;
	ring_total = ROUNDS * ncpus;
	rk_gic_sgi(SGI_RING, 1 % ncpus);
	WAIT(ring_hops >= ring_total);
	bool good = ring_hops == ring_total;
	for (unsigned i = 0; i < ncpus; i++)
		good = good && recv[i][SGI_RING] - before[i] == ROUNDS;
	rk_printf("ipi: ring: %u SGIs around %u vCPUs: %s\n", ring_total, ncpus, good ? "ok" : "WRONG");
	check(good, "ring");
}

int main(void)
{
	uint64_t g[31] = { 0 };
	bool good;

	rk_host_call(RK_HC_CPU_COUNT, g);
	ncpus = g[0] && g[0] <= RK_GUEST_MAX_CPUS ? (unsigned)g[0] : 1;
	rk_printf("ipi: %u vCPUs\n", ncpus);
	rk_set_irq_handler(irq);
	rk_gic_init();
	rk_gic_cpu_init();
	enable_sgis();
	__atomic_or_fetch(&up_mask, 1u, __ATOMIC_SEQ_CST);
	rk_irq_enable();
	start_secondaries();
	rk_printf("ipi: %u vCPUs up\n", ncpus);

	ring();

	/* one: SGI 1 to each other vCPU (to itself when alone) */
	good = true;
	for (unsigned i = ncpus > 1 ? 1 : 0; i < ncpus; i++) {
		rk_gic_sgi(SGI_ONE, i);
		WAIT(recv[i][SGI_ONE] >= 1);
	}
	for (unsigned i = 0; i < ncpus; i++)
		good = good && recv[i][SGI_ONE] == (ncpus == 1 || i != 0 ? 1u : 0u);
	rk_printf("ipi: one: %s\n", good ? "ok" : "WRONG");
	check(good, "one");

	/* all-but-self: sender s asked with SGI 2 (vCPU 0 by itself), everybody else gets SGI 3 */
	for (unsigned s = 0; s < ncpus; s++) {
		uint32_t want = s + 1;
		rk_gic_sgi(SGI_BCAST_REQ, s);
		WAIT(recv[s][SGI_BCAST_REQ] >= 1);
		for (unsigned i = 0; i < ncpus; i++)
			WAIT(recv[i][SGI_BCAST] >= (i <= s ? s : want));
	}
	good = true;
	for (unsigned i = 0; i < ncpus; i++)
		good = good && recv[i][SGI_BCAST_REQ] == 1 && recv[i][SGI_BCAST] == ncpus - 1;
	rk_printf("ipi: all-but-self: %u senders, %u SGIs each: %s\n", ncpus, ncpus - 1,
		  good ? "ok" : "WRONG");
	check(good, "all-but-self");

	/* list: vCPU 0 and the odd ones */
	uint64_t list = 1;
	for (unsigned i = 1; i < ncpus; i += 2)
		list |= 1ull << i;
	rk_gic_sgi_mask(SGI_LIST, list);
	for (unsigned i = 0; i < ncpus; i++)
		if (list >> i & 1)
			WAIT(recv[i][SGI_LIST] >= 1);
	good = true;
	for (unsigned i = 0; i < ncpus; i++)
		good = good && recv[i][SGI_LIST] == (list >> i & 1);
	rk_printf("ipi: list 0x%lx: %s\n", list, good ? "ok" : "WRONG");
	check(good, "list");

	/* priorities: more pending than list registers, taken highest first */
	rk_irq_disable();
	for (unsigned k = 0; k < NPRIO; k++) {
		rk_gic_enable(prio_set[k].intid, prio_set[k].prio);
		rk_gic_set_pending(prio_set[k].intid);
	}
	rk_irq_enable();
	WAIT(nprio >= NPRIO);
	good = nprio == NPRIO;
	for (unsigned k = 1; k < nprio; k++) {
		uint8_t a = 0, b = 0;
		for (unsigned j = 0; j < NPRIO; j++) {
			if (prio_set[j].intid == prio_order[k - 1])
				a = prio_set[j].prio;
			if (prio_set[j].intid == prio_order[k])
				b = prio_set[j].prio;
		}
		good = good && a < b;
	}
	rk_printf("ipi: priorities: %u interrupts pending at once, taken in priority order: %s\n", nprio,
		  good ? "ok" : "WRONG");
	check(good, "priorities");
	for (unsigned k = 0; k < NPRIO; k++)
		rk_gic_disable(prio_set[k].intid);

	if (ncpus > 1) {
		stop_secondaries();
		rk_printf("ipi: %u vCPUs off\n", ncpus - 1);
		rk_gic_sgi(SGI_WHILE_OFF, 1); /* stays pending in vCPU 1's redistributor */
		check(recv[1][SGI_WHILE_OFF] == 0, "SGI taken by an off vCPU");
		start_secondaries();
		WAIT(recv[1][SGI_WHILE_OFF] >= 1);
		rk_printf(
			"ipi: CPU_ON again: %u vCPUs up, the SGI sent to vCPU 1 while it was off taken after it: %s\n",
			ncpus, recv[1][SGI_WHILE_OFF] == 1 ? "ok" : "WRONG");
		check(recv[1][SGI_WHILE_OFF] == 1, "SGI while off");
		ring();
		stop_secondaries();
		rk_printf("ipi: %u vCPUs off again\n", ncpus - 1);
	}
	rk_irq_disable();
	check(spurious == 0, "spurious interrupts");
	rk_printf("ipi: %u interrupts taken, %u spurious: %s\n", taken, spurious, ok ? "PASS" : "FAIL");
	rk_report(RK_GUEST_EX_IPI, ok, taken);
	return 0;
}
