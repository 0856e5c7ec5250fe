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
