/* SPDX-License-Identifier: MIT */
/*
 * void rk_smc(struct rk_smc_regs *r): load x0-x17 from r, SMC #0, store
 * x0-x17 back (SMCCC 1.2 passes arguments and results in x0-x17).
 */
	.text
	.global	rk_smc
	.type	rk_smc, %function
rk_smc:
	stp	x29, x30, [sp, #-32]!
	mov	x29, sp
	str	x19, [sp, #16]
	mov	x19, x0
	ldp	x0, x1, [x19, #0]
	ldp	x2, x3, [x19, #16]
	ldp	x4, x5, [x19, #32]
	ldp	x6, x7, [x19, #48]
	ldp	x8, x9, [x19, #64]
	ldp	x10, x11, [x19, #80]
	ldp	x12, x13, [x19, #96]
	ldp	x14, x15, [x19, #112]
	ldp	x16, x17, [x19, #128]
	smc	#0
	stp	x0, x1, [x19, #0]
	stp	x2, x3, [x19, #16]
	stp	x4, x5, [x19, #32]
	stp	x6, x7, [x19, #48]
	stp	x8, x9, [x19, #64]
	stp	x10, x11, [x19, #80]
	stp	x12, x13, [x19, #96]
	stp	x14, x15, [x19, #112]
	stp	x16, x17, [x19, #128]
	ldr	x19, [sp, #16]
	ldp	x29, x30, [sp], #32
	ret
	.size	rk_smc, . - rk_smc
