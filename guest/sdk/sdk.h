/* SPDX-License-Identifier: MIT */
/*
 * realmkit guest SDK: the one header a realm payload includes.
 *
 * A payload defines int main(void), run by the first vCPU after start-up
 * (stack, vectors, .bss cleared); when main returns the realm is switched off
 * with PSCI SYSTEM_OFF. Other vCPUs started with PSCI CPU_ON (entry _start)
 * run rk_secondary_main(), which a payload may define (the default does
 * CPU_OFF).
 */
#ifndef RK_GUEST_SDK_H
#define RK_GUEST_SDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "realmkit/guest_abi.h"
#include "realmkit/arch/esr.h" /* esr_ec(), ESR_EC_*, ESR_FSC_* */
#include "console.h"
#include "gic.h"
#include "mmu.h"
#include "psci.h"
#include "rsi.h"

#define RK_PAGE_SIZE 4096u

/* ---- vCPUs ---------------------------------------------------------------- */

#define rk_read_sysreg(name)                                      \
	({                                                        \
		uint64_t rk_v_;                                   \
		__asm__ volatile("mrs %0, " #name : "=r"(rk_v_)); \
		rk_v_;                                            \
	})

/* This vCPU's index (MPIDR_EL1 Aff0[3:0] | Aff1 << 4). */
unsigned rk_cpu_index(void);
/* The MPIDR of vCPU index i (what PSCI CPU_ON/AFFINITY_INFO take). */
uint64_t rk_cpu_mpidr(unsigned index);

int main(void);
void rk_secondary_main(unsigned cpu, uint64_t context_id);

/* PSCI SYSTEM_OFF; never returns. */
__attribute__((noreturn)) void rk_halt(void);

/* ---- Exceptions ---------------------------------------------------------- */

/* What the vectors save; ERET goes to elr with spsr, both changeable. */
struct rk_exc_frame {
	uint64_t x[31];
	uint64_t elr;
	uint64_t spsr;
	uint64_t pad;
};
_Static_assert(sizeof(struct rk_exc_frame) == 272, "vectors.S FRAME_SIZE");

/*
 * A synchronous exception handler: return true to resume at frame->elr
 * (adjust it to skip the faulting instruction), false for the default
 * (print ESR/FAR/ELR on the console and SYSTEM_OFF).
 */
typedef bool (*rk_sync_handler_t)(struct rk_exc_frame *frame, uint64_t esr, uint64_t far);
void rk_set_sync_handler(rk_sync_handler_t handler);
/* An IRQ handler (vector +0x280/+0x080); without one IRQs are reported and
 * masked in the interrupted context. */
typedef void (*rk_irq_handler_t)(struct rk_exc_frame *frame);
void rk_set_irq_handler(rk_irq_handler_t handler);

/* ---- EL0 tasks (MMU-on mode; see guest/README.md) ------------------------ */

/*
 * Code and constants an EL0 task uses must sit in the .user pages
 * (__user_start..__user_end), which the payload maps RK_MAP_USER |
 * RK_MAP_UEXEC | RK_MAP_RO: put RK_USER_TEXT on its functions and
 * RK_USER_RODATA on its strings. A task must not call EL1 code (the SDK's
 * functions, memcpy...): it asks for services with rk_syscall().
 */
#define RK_USER_TEXT __attribute__((section(".user.text"), noinline))
#define RK_USER_RODATA __attribute__((section(".user.rodata")))
extern char __user_start[], __user_end[];

/* Syscall numbers are SVC immediates; the SDK handles RK_SYS_EXIT itself. */
#define RK_SYS_EXIT 0 /* x0 = the task's result: rk_el0_run() returns */

/* SVC #imm with x0..x2 in, x0 out (a macro: the immediate is part of the instruction). */
#define rk_syscall(imm, a0, a1, a2)                                                                        \
	({                                                                                                 \
		register uint64_t rk_x0_ __asm__("x0") = (uint64_t)(a0);                                   \
		register uint64_t rk_x1_ __asm__("x1") = (uint64_t)(a1);                                   \
		register uint64_t rk_x2_ __asm__("x2") = (uint64_t)(a2);                                   \
		__asm__ volatile("svc %3" : "+r"(rk_x0_) : "r"(rk_x1_), "r"(rk_x2_), "i"(imm) : "memory"); \
		rk_x0_;                                                                                    \
	})

/* How an EL0 task ended. */
struct rk_el0_result {
	uint64_t value;         /* RK_SYS_EXIT's x0 (0 after a fault) */
	bool faulted;           /* ended by an exception no handler took */
	uint64_t esr, far, elr; /* that exception */
};

/*
 * Run entry(arg) at EL0 (EL0t, interrupts masked) with SP_EL0 = sp (16-byte
 * aligned, the top of a stack mapped RK_MAP_USER), until it makes the
 * RK_SYS_EXIT syscall or takes an exception that neither the MMU fault
 * handler nor the payload's synchronous handler takes (then *res says which).
 * Other SVCs from EL0 (vector VBAR_EL1 + 0x400) go to the syscall handler,
 * whose return value the task gets in x0.
 */
void rk_el0_run(void (*entry)(uint64_t), uint64_t arg, uint64_t sp, struct rk_el0_result *res);
/* A syscall handler: imm = the SVC immediate, frame->x[0..] = the arguments. */
typedef uint64_t (*rk_syscall_handler_t)(struct rk_exc_frame *frame, unsigned imm);
void rk_set_syscall_handler(rk_syscall_handler_t handler);
#define RK_SYS_ENOSYS ((uint64_t)-38) /* what an unknown syscall returns */

/* ---- Host calls ---------------------------------------------------------- */

/*
 * RSI_HOST_CALL with immediate imm: gprs[0..30] are sent, and replaced by
 * what the host wrote back. Returns the RSI status. Uses a per-vCPU buffer.
 */
uint64_t rk_host_call(uint16_t imm, uint64_t gprs[31]);
/* RK_HC_RESULT: tell the host how an example ended. */
void rk_report(unsigned example, bool pass, uint64_t value);

/* ---- Freestanding C library bits the compiler may call ------------------- */

void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* A test-and-set spinlock (only one vCPU of a realm runs at a time in
 * realmkit, but vCPUs are preempted anywhere). */
typedef struct {
	volatile uint32_t locked;
} rk_spinlock_t;

static inline void rk_spin_lock(rk_spinlock_t *l)
{
	while (__atomic_exchange_n(&l->locked, 1u, __ATOMIC_ACQUIRE))
		__asm__ volatile("yield");
}

static inline void rk_spin_unlock(rk_spinlock_t *l)
{
	__atomic_store_n(&l->locked, 0u, __ATOMIC_RELEASE);
}

#endif /* RK_GUEST_SDK_H */
