/* SPDX-License-Identifier: MIT */
/* GICv3 distributor, redistributor and CPU interface (gic.h). */
#include "sdk.h"
#include "realmkit/arch/gic.h"

#define GICD ((uintptr_t)RK_GUEST_GICD_IPA)
#define GICR_SGI(cpu) ((uintptr_t)RK_GUEST_GICR_IPA + (uintptr_t)(cpu)*RK_GUEST_GICR_STRIDE + GICR_SGI_BASE)
#define GICR_RD(cpu) ((uintptr_t)RK_GUEST_GICR_IPA + (uintptr_t)(cpu)*RK_GUEST_GICR_STRIDE)

#define msr(name, v) __asm__ volatile("msr " name ", %0" ::"r"((uint64_t)(v)) : "memory")
#define ICC_SRE "S3_0_C12_C12_5"
#define ICC_PMR "S3_0_C4_C6_0"
#define ICC_CTLR "S3_0_C12_C12_4"
#define ICC_IGRPEN1 "S3_0_C12_C12_7"
#define ICC_IAR1 "S3_0_C12_C12_0"
#define ICC_EOIR1 "S3_0_C12_C12_1"
#define ICC_SGI1R "S3_0_C12_C11_5"

/* One 32-bit load or store (no writeback): an access the host can emulate. */
static inline uint32_t rd32(uintptr_t a)
{
	uint32_t v;

	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static inline void wr32(uintptr_t a, uint32_t v)
{
	__asm__ volatile("str %w0, [%1]" ::"r"(v), "r"(a) : "memory");
}

static inline void wr64(uintptr_t a, uint64_t v)
{
	__asm__ volatile("str %0, [%1]" ::"r"(v), "r"(a) : "memory");
}

static inline void wr8(uintptr_t a, uint8_t v)
{
	__asm__ volatile("strb %w0, [%1]" ::"r"((uint32_t)v), "r"(a) : "memory");
}

/* The frame holding intid's registers: this vCPU's SGI_base, or the distributor. */
static uintptr_t frame(unsigned intid)
{
	return intid < 32 ? GICR_SGI(rk_cpu_index()) : GICD;
}

void rk_gic_init(void)
{
	uint32_t lines = (rd32(GICD + GICD_TYPER) & GICD_TYPER_ITLINES_MASK) + 1; /* 32 INTIDs each */

	wr32(GICD + GICD_CTLR, 0);
	for (uint32_t w = 1; w < lines; w++) {
		wr32(GICD + GICD_ICENABLER + 4 * w, 0xffffffffu);
		wr32(GICD + GICD_ICPENDR + 4 * w, 0xffffffffu);
		wr32(GICD + GICD_ICACTIVER + 4 * w, 0xffffffffu);
		wr32(GICD + GICD_IGROUPR + 4 * w, 0xffffffffu);
	}
	for (uint32_t i = 32; i < lines * 32; i++) {
		wr8(GICD + GICD_IPRIORITYR + i, RK_GIC_PRIO_DEFAULT);
		wr64(GICD + GICD_IROUTER + 8 * i, rk_cpu_mpidr(0));
	}
	wr32(GICD + GICD_CTLR, GICD_CTLR_ARE | GICD_CTLR_ENABLEGRP1);
}

void rk_gic_cpu_init(void)
{
	unsigned cpu = rk_cpu_index();
	uintptr_t sgi = GICR_SGI(cpu);

	/* wake the redistributor: ProcessorSleep off, wait for ChildrenAsleep */
	wr32(GICR_RD(cpu) + GICR_WAKER,
	     rd32(GICR_RD(cpu) + GICR_WAKER) & ~(uint32_t)GICR_WAKER_PROCESSORSLEEP);
	while (rd32(GICR_RD(cpu) + GICR_WAKER) & GICR_WAKER_CHILDRENASLEEP)
		;
	wr32(sgi + GICR_ICENABLER0, 0xffffffffu);
	wr32(sgi + GICR_ICACTIVER0, 0xffffffffu);
	wr32(sgi + GICR_IGROUPR0, 0xffffffffu);
	for (unsigned i = 0; i < 32; i += 4)
		wr32(sgi + GICR_IPRIORITYR0 + i, 0x01010101u * RK_GIC_PRIO_DEFAULT);
	rk_gic_cpuif_init();
}

void rk_gic_cpuif_init(void)
{
	msr(ICC_SRE, ICC_SRE_SRE | ICC_SRE_DFB | ICC_SRE_DIB);
	__asm__ volatile("isb");
	msr(ICC_PMR, 0xf0);
	msr(ICC_CTLR, 0); /* EOImode 0: EOIR drops the priority and deactivates */
	msr(ICC_IGRPEN1, 1);
	__asm__ volatile("isb");
}

void rk_gic_enable(unsigned intid, uint8_t prio)
{
	uintptr_t f = frame(intid);

	wr8(f + GICD_IPRIORITYR + intid, prio);
	wr32(f + GICD_ISENABLER + 4 * (intid / 32), 1u << (intid % 32));
}

void rk_gic_disable(unsigned intid)
{
	wr32(frame(intid) + GICD_ICENABLER + 4 * (intid / 32), 1u << (intid % 32));
}

void rk_gic_route(unsigned intid, unsigned cpu)
{
	if (intid >= 32)
		wr64(GICD + GICD_IROUTER + 8 * intid, rk_cpu_mpidr(cpu));
}

void rk_gic_set_pending(unsigned intid)
{
	wr32(frame(intid) + GICD_ISPENDR + 4 * (intid / 32), 1u << (intid % 32));
}

bool rk_gic_is_pending(unsigned intid)
{
	return (rd32(frame(intid) + GICD_ISPENDR + 4 * (intid / 32)) >> (intid % 32)) & 1;
}

unsigned rk_gic_ack(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, " ICC_IAR1 : "=r"(v)::"memory");
	return (unsigned)(v & 0xffffff);
}

void rk_gic_eoi(unsigned intid)
{
	msr(ICC_EOIR1, intid);
	__asm__ volatile("isb");
}

static void sgi1r(uint64_t v)
{
	__asm__ volatile("dsb ishst");
	msr(ICC_SGI1R, v);
	__asm__ volatile("isb");
}

void rk_gic_sgi(unsigned sgi, unsigned cpu)
{
	rk_gic_sgi_mask(sgi, 1ull << (cpu % 64));
}

void rk_gic_sgi_others(unsigned sgi)
{
	sgi1r((uint64_t)(sgi & 0xf) << ICC_SGIR_INTID_SHIFT | ICC_SGIR_IRM);
}

void rk_gic_sgi_mask(unsigned sgi, uint64_t mask)
{
	/* vCPU index i: Aff0 = i % 16, Aff1 = i / 16 (rk_cpu_mpidr) */
	for (unsigned aff1 = 0; aff1 < 4; aff1++) {
		uint64_t list = (mask >> (16 * aff1)) & 0xffff;
		if (list)
			sgi1r((uint64_t)(sgi & 0xf) << ICC_SGIR_INTID_SHIFT |
			      (uint64_t)aff1 << ICC_SGIR_AFF1_SHIFT | list);
	}
}
