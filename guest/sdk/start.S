/* SPDX-License-Identifier: MIT */
/*
 * Realm payload entry, at RK_GUEST_RAM_BASE. Every vCPU enters here: the
 * first one at realm start (the RMM sets its PC from REC_CREATE), the others
 * through PSCI CPU_ON with entry = _start and context_id = their index.
 *
 * - masks interrupts, picks this vCPU's stack from MPIDR_EL1
 *   (index = Aff0[3:0] | Aff1 << 4, as TF-RMM numbers RECs),
 * - installs the SDK's vector table (VBAR_EL1),
 * - the first vCPU in zeroes .bss and calls rk_boot_main(cpu, x0) -> main(),
 *   every later one calls rk_secondary_main(cpu, x0).
 */
#include "realmkit/guest_abi.h"

	.section .text.boot, "ax"
	.global	_start
	.type	_start, %function
_start:
	mov	x19, x0				/* boot argument / context_id */
	msr	daifset, #0xf
	mrs	x1, mpidr_el1
	and	x2, x1, #0xf
	ubfx	x3, x1, #8, #8
	orr	x20, x2, x3, lsl #4		/* vCPU index */
	cmp	x20, #RK_GUEST_MAX_CPUS
	b.hs	.Lpark

	/* sp = __stacks_start + (index + 1) * RK_GUEST_STACK_SIZE */
	adrp	x4, __stacks_start
	add	x4, x4, :lo12:__stacks_start
	add	x5, x20, #1
	mov	x6, #RK_GUEST_STACK_SIZE
	madd	x4, x5, x6, x4
	mov	sp, x4

	adrp	x4, rk_vectors
	add	x4, x4, :lo12:rk_vectors
	msr	vbar_el1, x4
	isb

	adrp	x4, rk_booted
	add	x4, x4, :lo12:rk_booted
	ldr	w5, [x4]
	cbnz	w5, .Lsecondary
	mov	w5, #1
	str	w5, [x4]

	adrp	x0, __bss_start
	add	x0, x0, :lo12:__bss_start
	adrp	x1, __bss_end
	add	x1, x1, :lo12:__bss_end
1:	cmp	x0, x1
	b.hs	2f
	str	xzr, [x0], #8
	b	1b
2:	mov	x0, x20
	mov	x1, x19
	bl	rk_boot_main
	b	.Lpark

.Lsecondary:
	mov	x0, x20
	mov	x1, x19
	bl	rk_secondary_main
.Lpark:
	wfi
	b	.Lpark
	.size	_start, . - _start

	/* In .data, not .bss: it must survive the .bss clearing it guards. */
	.data
	.balign	4
	.global	rk_booted
rk_booted:
	.word	0
