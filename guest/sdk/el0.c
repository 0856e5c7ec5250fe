/* SPDX-License-Identifier: MIT */
/* EL0 tasks (sdk.h): rk_el0_run, the syscall handler, exceptions from EL0. */
#include "sdk.h"

uint64_t rk_el0_enter(uint64_t arg, uint64_t entry, uint64_t sp_el0, uint64_t ctx[13]);
__attribute__((noreturn)) void rk_el0_leave(uint64_t ctx[13], uint64_t value);
bool rk_sync_handler_takes(struct rk_exc_frame *frame, uint64_t esr, uint64_t far);
void rk_el0_sync(struct rk_exc_frame *frame, uint64_t esr, uint64_t far);

static rk_syscall_handler_t syscall_handler;
static struct {
	uint64_t ctx[13]; /* rk_el0_enter's saved registers */
	struct rk_el0_result *res;
} el0[RK_GUEST_MAX_CPUS];

void rk_set_syscall_handler(rk_syscall_handler_t handler)
{
	syscall_handler = handler;
}

void rk_el0_run(void (*entry)(uint64_t), uint64_t arg, uint64_t sp, struct rk_el0_result *res)
{
	unsigned cpu = rk_cpu_index() % RK_GUEST_MAX_CPUS;

	memset(res, 0, sizeof(*res));
	el0[cpu].res = res;
	res->value = rk_el0_enter(arg, (uint64_t)(uintptr_t)entry, sp, el0[cpu].ctx);
	el0[cpu].res = NULL;
}

/* A synchronous exception from EL0 (vector +0x400). Returns to EL0, or ends the task. */
void rk_el0_sync(struct rk_exc_frame *frame, uint64_t esr, uint64_t far)
{
	unsigned cpu = rk_cpu_index() % RK_GUEST_MAX_CPUS;
	struct rk_el0_result *res = el0[cpu].res;

	if (esr_ec(esr) == ESR_EC_SVC64 && (esr & 0xffff) != RK_SYS_EXIT) {
		frame->x[0] = syscall_handler ? syscall_handler(frame, esr & 0xffff) : RK_SYS_ENOSYS;
		return; /* ELR_EL1 is the instruction after the SVC */
	}
	if (esr_ec(esr) != ESR_EC_SVC64 && rk_sync_handler_takes(frame, esr, far))
		return;
	if (!res) {
		rk_printf("\n[cpu %u] exception from EL0 with no EL0 task: ESR_EL1 0x%lx ELR_EL1 0x%lx\n",
			  cpu, esr, frame->elr);
		rk_halt();
	}
	if (esr_ec(esr) != ESR_EC_SVC64) {
		res->faulted = true;
		res->esr = esr;
		res->far = far;
		res->elr = frame->elr;
	}
	rk_el0_leave(el0[cpu].ctx, res->faulted ? 0 : frame->x[0]);
}
