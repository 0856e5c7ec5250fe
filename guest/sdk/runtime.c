/* SPDX-License-Identifier: MIT */
/* Start-up in C, exceptions, host calls, vCPU numbering. */
#include "sdk.h"

void rk_boot_main(unsigned cpu, uint64_t arg);
void rk_exception_dispatch(uint64_t kind, struct rk_exc_frame *frame);
bool rk_sync_handler_takes(struct rk_exc_frame *frame, uint64_t esr, uint64_t far);
/*
 * The MMU-on mode (mmu.c) and EL0 tasks (el0.c) are archive members, linked
 * only into payloads that use them: weak references here.
 */
__attribute__((weak)) bool rk_mmu_fault(struct rk_exc_frame *frame, uint64_t esr, uint64_t far);
__attribute__((weak)) void rk_el0_sync(struct rk_exc_frame *frame, uint64_t esr, uint64_t far);

static rk_sync_handler_t sync_handler;
static rk_irq_handler_t irq_handler;
static struct rsi_host_call host_calls[RK_GUEST_MAX_CPUS] __attribute__((aligned(RSI_HOST_CALL_ALIGN)));

unsigned rk_cpu_index(void)
{
	uint64_t mpidr = rk_read_sysreg(mpidr_el1);

	return (unsigned)((mpidr & 0xf) | ((mpidr >> 8) & 0xff) << 4);
}

uint64_t rk_cpu_mpidr(unsigned index)
{
	return (uint64_t)(index & 0xf) | (uint64_t)(index >> 4) << 8;
}

void rk_halt(void)
{
	psci_system_off();
	for (;;)
		__asm__ volatile("wfi");
}

__attribute__((weak)) void rk_secondary_main(unsigned cpu, uint64_t context_id)
{
	psci_cpu_off();
}

void rk_boot_main(unsigned cpu, uint64_t arg)
{
	main();
	rk_halt();
}

uint64_t rk_host_call(uint16_t imm, uint64_t gprs[31])
{
	struct rsi_host_call *hc = &host_calls[rk_cpu_index() % RK_GUEST_MAX_CPUS];
	uint64_t ret;

	memset(hc, 0, sizeof(*hc));
	hc->imm = imm;
	memcpy(hc->gprs, gprs, sizeof(hc->gprs));
	ret = rsi_host_call(hc);
	memcpy(gprs, hc->gprs, sizeof(hc->gprs));
	return ret;
}

void rk_report(unsigned example, bool pass, uint64_t value)
{
	uint64_t g[31] = { 0 };

	g[0] = example;
	g[1] = pass ? 0 : 1;
	g[2] = value;
	rk_host_call(RK_HC_RESULT, g);
}

void rk_set_sync_handler(rk_sync_handler_t handler)
{
	sync_handler = handler;
}

void rk_set_irq_handler(rk_irq_handler_t handler)
{
	irq_handler = handler;
}

/* For el0.c: the payload's synchronous handler, if it takes the exception. */
bool rk_sync_handler_takes(struct rk_exc_frame *frame, uint64_t esr, uint64_t far)
{
	return sync_handler && sync_handler(frame, esr, far);
}

static const char *const vector_names[16] = {
	"EL1t sync",   "EL1t IRQ",    "EL1t FIQ",   "EL1t SError",   "EL1h sync", "EL1h IRQ",
	"EL1h FIQ",    "EL1h SError", "EL0 sync",   "EL0 IRQ",       "EL0 FIQ",   "EL0 SError",
	"EL0/32 sync", "EL0/32 IRQ",  "EL0/32 FIQ", "EL0/32 SError",
};

void rk_exception_dispatch(uint64_t kind, struct rk_exc_frame *frame)
{
	uint64_t esr = rk_read_sysreg(esr_el1), far = rk_read_sysreg(far_el1);

	switch (kind & 3) {
	case 0: /* synchronous */
		if (rk_mmu_fault && rk_mmu_fault(frame, esr, far))
			return;
		if (kind == 8 && rk_el0_sync) {
			rk_el0_sync(frame, esr, far); /* an EL0 task's syscall or fault */
			return;
		}
		if (sync_handler && sync_handler(frame, esr, far))
			return;
		rk_printf("\n[cpu %u] unhandled exception (%s): ESR_EL1 0x%lx (EC 0x%x ISS 0x%x) "
			  "FAR_EL1 0x%lx ELR_EL1 0x%lx\n",
			  rk_cpu_index(), vector_names[kind & 15], esr, esr_ec(esr), esr_iss(esr), far,
			  frame->elr);
		rk_halt();
	case 1: /* IRQ */
	case 2: /* FIQ */
		if ((kind & 3) == 1 && irq_handler) {
			irq_handler(frame);
			return;
		}
		rk_printf("[cpu %u] %s with no handler: masked\n", rk_cpu_index(), vector_names[kind & 15]);
		frame->spsr |= (kind & 3) == 1 ? (1u << 7) : (1u << 6);
		return;
	default: /* SError */
		rk_printf("\n[cpu %u] SError: ESR_EL1 0x%lx ELR_EL1 0x%lx\n", rk_cpu_index(), esr,
			  frame->elr);
		rk_halt();
	}
}
