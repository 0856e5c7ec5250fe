/* SPDX-License-Identifier: MIT */
/* Realm payload layout; preprocessed with realmkit/guest_abi.h (see CMakeLists). */
#define RK_LINKER_SCRIPT
#include "realmkit/guest_abi.h"

OUTPUT_FORMAT("elf64-littleaarch64")
OUTPUT_ARCH(aarch64)
ENTRY(_start)

SECTIONS
{
	. = RK_GUEST_RAM_BASE;
	__image_start = .;
	.text : {
		KEEP(*(.text.boot))        /* _start at RK_GUEST_RAM_BASE */
		. = ALIGN(0x800);
		KEEP(*(.text.vectors))     /* VBAR_EL1 needs 2 KiB alignment */
		*(.text .text.*)
	}
	.rodata : ALIGN(16) { *(.rodata .rodata.*) }
	.data : ALIGN(16) { *(.data .data.*) }
	/* EL0 code and constants (RK_USER_TEXT, RK_USER_RODATA): pages of their own, mapped for EL0 */
	.user : ALIGN(4096) {
		__user_start = .;
		*(.user.text .user.text.*)
		*(.user.rodata .user.rodata.*)
		. = ALIGN(4096);
		__user_end = .;
	}
	. = ALIGN(16);
	__image_end = .;               /* end of the flat .bin */
	/* MMU-on mode's page-table pool (mmu.c): not cleared at start-up (each table is
	 * zeroed when it is taken), so MMU-off payloads pay nothing for it */
	.pgtables (NOLOAD) : ALIGN(4096) { *(.bss.rk_pgtables) }
	.bss (NOLOAD) : ALIGN(16) {
		__bss_start = .;
		*(.bss .bss.* COMMON)
		. = ALIGN(16);
		__bss_end = .;
	}
	.stacks (NOLOAD) : ALIGN(16) {
		__stacks_start = .;
		. += RK_GUEST_MAX_CPUS * RK_GUEST_STACK_SIZE;
		__stacks_end = .;
	}
	__end = .;
	__image_size = __end - __image_start; /* a Linux Image header's image_size (guest/linux/head.S) */
	ASSERT(__end - RK_GUEST_RAM_BASE <= RK_GUEST_RAM_SIZE,
	       "payload (image + bss + stacks) exceeds RK_GUEST_RAM_SIZE")
	/DISCARD/ : { *(.comment) *(.note .note.*) *(.eh_frame .eh_frame_hdr) }
}
