/* SPDX-License-Identifier: MIT */
/*
 * The Linux arm64 Image header (Documentation/arch/arm64/booting.rst) in
 * front of the SDK's _start, so that kimage.bin is a kernel Image as far as a
 * boot loader can tell: `realmkit run --kernel kimage.bin` boots it with the
 * Linux boot protocol. Linked first (.text.boot), at RK_GUEST_RAM_BASE: the
 * header says text_offset 0, image_size = the whole payload with its .bss and
 * stacks (__image_size, link.ld.S), flags 0xa (little-endian, 4 KiB pages,
 * anywhere in RAM). The entry saves x0..x3 and its own address (the PC the
 * loader entered at) in kimage_boot[] for kimage.c, then goes to _start.
 */
	.section .text.boot, "ax"
	.global	kimage_head
	.type	kimage_head, %function
kimage_head:
	b	1f			/* code0 (a PE/EFI-stub Image has "MZ" here) */
	.long	0			/* code1 */
	.quad	0			/* text_offset */
	.quad	__image_size		/* image_size */
	.quad	0xa			/* flags */
	.quad	0, 0, 0			/* res2, res3, res4 */
	.long	0x644d5241		/* magic: "ARM\x64" */
	.long	0			/* res5: the PE header's offset, none */
1:	adr	x9, kimage_boot
	stp	x0, x1, [x9]
	stp	x2, x3, [x9, #16]
	adr	x10, kimage_head
	str	x10, [x9, #32]
	b	_start

	.data
	.balign	16
	.global	kimage_boot
kimage_boot:				/* x0, x1, x2, x3, entry PC */
	.quad	0, 0, 0, 0, 0
