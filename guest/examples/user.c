/* SPDX-License-Identifier: MIT */
/*
 * user: EL0 tasks making syscalls (needs the guest MMU, so realmkit's
 * stage-2 vCPU mode, and EL0 -> EL1 exception delivery).
 *  1. MMU on (rk_mmu_setup); the .user pages mapped for EL0 (read-only,
 *     EL0-executable, never EL1-executable) and a user stack (EL0 read/write,
 *     AP = 01, never executable).
 *  2. task: SVC #1 (write a string from its own pages), SVC #2 (add), an
 *     unknown SVC (-ENOSYS), and a load from a VA no table maps: a stage-1
 *     translation fault from EL0 that the EL1 fault hook fixes by mapping a
 *     user page on demand; then SVC #0 (exit) with a result.
 *  3. Two tasks that break the rules end with the exception they took: a load
 *     from an EL1-only page (data abort from EL0, permission fault) and a jump
 *     into EL1 code (instruction abort from EL0, permission fault).
 */
#include "sdk.h"

#define SYS_WRITE 1 /* x0 = string, x1 = length: printed; returns the length */
#define SYS_ADD 2   /* returns x0 + x1 */
#define SYS_UNKNOWN 99

#define DEMAND_VA ((uint64_t)0x0000600000000000ull) /* mapped for EL0 on the first touch */

static uint8_t user_stack[2 * RK_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t user_page[RK_PAGE_SIZE] __attribute__((aligned(4096)));
static volatile uint64_t kernel_word = 0x6b65726e656cull;
static unsigned syscalls, el0_faults;

RK_USER_RODATA static const char msg[] = "hello from EL0";

RK_USER_TEXT static void task(uint64_t arg)
{
	uint64_t n = rk_syscall(SYS_WRITE, msg, sizeof(msg) - 1, 0);
	uint64_t sum = rk_syscall(SYS_ADD, arg, n, 0);
	uint64_t enosys = rk_syscall(SYS_UNKNOWN, 0, 0, 0);
	uint64_t demand = *(volatile uint64_t *)DEMAND_VA;

	rk_syscall(RK_SYS_EXIT, sum + (enosys == RK_SYS_ENOSYS ? 0x1000 : 0) + demand, 0, 0);
}

RK_USER_TEXT static void read_kernel(uint64_t addr)
{
	rk_syscall(RK_SYS_EXIT, *(volatile uint64_t *)addr, 0, 0);
}

RK_USER_TEXT static void jump_to_kernel(uint64_t addr)
{
	((void (*)(void))addr)();
	rk_syscall(RK_SYS_EXIT, 0, 0, 0);
}

static uint64_t on_syscall(struct rk_exc_frame *frame, unsigned imm)
{
	syscalls++;
	rk_printf("user: syscall %u from EL0 (SPSR_EL1 0x%lx, ELR_EL1 0x%lx)\n", imm, frame->spsr,
		  frame->elr);
	switch (imm) {
	case SYS_WRITE: {
		const char *s = (const char *)(uintptr_t)frame->x[0];
		uint64_t n = frame->x[1] < 128 ? frame->x[1] : 128;

		rk_puts("user: EL0 says: ");
		for (uint64_t i = 0; i < n; i++)
			rk_putc(s[i]);
		rk_putc('\n');
		return n;
	}
	case SYS_ADD:
		return frame->x[0] + frame->x[1];
	default:
		return RK_SYS_ENOSYS;
	}
}

static bool on_fault(struct rk_exc_frame *frame, uint64_t esr, uint64_t far)
{
	if ((far & ~(uint64_t)(RK_PAGE_SIZE - 1)) != DEMAND_VA || el0_faults++)
		return false;
	rk_printf("user: stage-1 fault from EL0: ESR_EL1 0x%lx (EC 0x%x FSC 0x%x) FAR_EL1 0x%lx: mapping a "
		  "user page\n",
		  esr, esr_ec(esr), esr_fsc(esr), far);
	return !rk_mmu_map(DEMAND_VA, (uint64_t)(uintptr_t)user_page, RK_PAGE_SIZE, RK_MAP_USER);
}

static void show(const char *what, const struct rk_el0_result *r)
{
	if (r->faulted)
		rk_printf("user: %s: ended by an exception: ESR_EL1 0x%lx (EC 0x%x FSC 0x%x) FAR_EL1 0x%lx "
			  "ELR_EL1 0x%lx\n",
			  what, r->esr, esr_ec(r->esr), esr_fsc(r->esr), r->far, r->elr);
	else
		rk_printf("user: %s: exited with 0x%lx\n", what, r->value);
}

int main(void)
{
	uint64_t user = (uint64_t)(uintptr_t)__user_start,
		 sp = (uint64_t)(uintptr_t)(user_stack + sizeof(user_stack));
	struct rk_el0_result r;
	int ret = rk_mmu_setup();
	bool ok;

	if (!ret)
		ret = rk_mmu_map(user, user, (uint64_t)(__user_end - __user_start),
				 RK_MAP_USER | RK_MAP_UEXEC | RK_MAP_RO);
	if (!ret)
		ret = rk_mmu_map((uint64_t)(uintptr_t)user_stack, (uint64_t)(uintptr_t)user_stack,
				 sizeof(user_stack), RK_MAP_USER);
	rk_printf("user: MMU on, user pages 0x%lx..0x%lx, stack 0x%lx: %d\n", user,
		  (uint64_t)(uintptr_t)__user_end, sp, ret);
	if (ret) {
		rk_report(RK_GUEST_EX_USER, false, 0);
		return 0;
	}
	rk_set_syscall_handler(on_syscall);
	rk_mmu_set_fault_handler(on_fault);
	*(volatile uint64_t *)user_page = 0x20000;

	rk_el0_run(task, 40, sp, &r);
	show("task", &r);
	ok = !r.faulted && r.value == 40 + sizeof(msg) - 1 + 0x1000 + 0x20000 && syscalls == 3 &&
	     el0_faults == 1;

	rk_el0_run(read_kernel, (uint64_t)(uintptr_t)&kernel_word, sp, &r);
	show("read_kernel", &r);
	ok = ok && r.faulted && esr_ec(r.esr) == ESR_EC_DABT_LOW && esr_fsc(r.esr) == ESR_FSC_PERM(3) &&
	     r.far == (uint64_t)(uintptr_t)&kernel_word;

	rk_el0_run(jump_to_kernel, (uint64_t)(uintptr_t)main, sp, &r);
	show("jump_to_kernel", &r);
	ok = ok && r.faulted && esr_ec(r.esr) == ESR_EC_IABT_LOW && esr_fsc(r.esr) == ESR_FSC_PERM(3) &&
	     r.elr == (uint64_t)(uintptr_t)main;

	rk_printf("user: %u syscalls, %u EL0 faults mapped: %s\n", syscalls, el0_faults,
		  ok ? "PASS" : "FAIL");
	rk_report(RK_GUEST_EX_USER, ok, syscalls);
	return 0;
}
