/* SPDX-License-Identifier: MIT */
/*
 * EL0 tasks (sdk.h, rk_el0_run):
 *
 * uint64_t rk_el0_enter(uint64_t arg, uint64_t entry, uint64_t sp_el0, uint64_t ctx[13])
 *   saves the callee-saved registers and SP_EL1 in ctx, then ERETs to entry
 *   at EL0t (SPSR_EL1 = EL0t, DAIF masked) with x0 = arg, SP_EL0 = sp_el0
 *   and every other general register zero (no EL1 value leaks to EL0).
 * void rk_el0_leave(uint64_t ctx[13], uint64_t value)
 *   called from the EL1 exception handler that ends the task: restores ctx
 *   and returns value from rk_el0_enter (the exception frame below SP is
 *   dropped).
 */
	.text
	.global	rk_el0_enter
	.type	rk_el0_enter, %function
rk_el0_enter:
	stp	x19, x20, [x3, #0]
	stp	x21, x22, [x3, #16]
	stp	x23, x24, [x3, #32]
	stp	x25, x26, [x3, #48]
	stp	x27, x28, [x3, #64]
	stp	x29, x30, [x3, #80]
	mov	x9, sp
	str	x9, [x3, #96]
	msr	sp_el0, x2
	msr	elr_el1, x1
	mov	x9, #0x3c0		/* SPSR: D, A, I, F masked; M = EL0t */
	msr	spsr_el1, x9
	mov	x1, xzr
	mov	x2, xzr
	mov	x3, xzr
	mov	x4, xzr
	mov	x5, xzr
	mov	x6, xzr
	mov	x7, xzr
	mov	x8, xzr
	mov	x9, xzr
	mov	x10, xzr
	mov	x11, xzr
	mov	x12, xzr
	mov	x13, xzr
	mov	x14, xzr
	mov	x15, xzr
	mov	x16, xzr
	mov	x17, xzr
	mov	x18, xzr
	mov	x19, xzr
	mov	x20, xzr
	mov	x21, xzr
	mov	x22, xzr
	mov	x23, xzr
	mov	x24, xzr
	mov	x25, xzr
	mov	x26, xzr
	mov	x27, xzr
	mov	x28, xzr
	mov	x29, xzr
	mov	x30, xzr
	eret
	.size	rk_el0_enter, . - rk_el0_enter

	.global	rk_el0_leave
	.type	rk_el0_leave, %function
rk_el0_leave:
	ldp	x19, x20, [x0, #0]
	ldp	x21, x22, [x0, #16]
	ldp	x23, x24, [x0, #32]
	ldp	x25, x26, [x0, #48]
	ldp	x27, x28, [x0, #64]
	ldp	x29, x30, [x0, #80]
	ldr	x9, [x0, #96]
	mov	sp, x9
	mov	x0, x1
	ret
	.size	rk_el0_leave, . - rk_el0_leave
