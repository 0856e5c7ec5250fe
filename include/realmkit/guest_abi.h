/* SPDX-License-Identifier: MIT */
/*
 * The realmkit guest ABI: constants shared by realm payloads (guest/) and the
 * host side that loads and serves them. Plain constants only, so this header
 * is usable from host C, guest C, guest assembly and the guest linker script.
 * See guest/README.md for the memory map and the host-call protocols.
 */
#ifndef RK_REALMKIT_GUEST_ABI_H
#define RK_REALMKIT_GUEST_ABI_H

#if defined(__ASSEMBLER__) || defined(RK_LINKER_SCRIPT)
#define RK_GUEST_U64(x) x
#else
#define RK_GUEST_U64(x) x##ULL
#endif

/* ---- Memory map (IPA; the guest runs with its MMU off, VA == IPA) ------- */

/* Stage-2 input size the defaults assume; the protected half is below
 * 1 << (RK_GUEST_S2SZ - 1), the unprotected half above. Override both the
 * realm and the payload build together (-DRK_GUEST_S2SZ=...). */
#ifndef RK_GUEST_S2SZ
#define RK_GUEST_S2SZ 40
#endif
#define RK_GUEST_UNPROT_BASE (RK_GUEST_U64(1) << (RK_GUEST_S2SZ - 1))

/* Where payloads are linked and where the host loads the flat .bin (in the
 * protected half), and how much RAM (RIPAS RAM, mapped) they need there. */
#define RK_GUEST_RAM_BASE RK_GUEST_U64(0x80000000)
#define RK_GUEST_RAM_SIZE RK_GUEST_U64(0x200000)

/* PL011 UART (4 KiB, the host's src/host/pl011.h): the guest writes
 * characters to its 32-bit data register (offset 0) with a single STR Wt (an
 * emulatable MMIO store in the unprotected half; the host prints the low 8
 * bits); the SDK's input polls UARTFR (0x18), or waits for the UART's
 * interrupt (SPI RK_GUEST_UART_SPI), and reads UARTDR. */
#ifndef RK_GUEST_UART_IPA
#define RK_GUEST_UART_IPA (RK_GUEST_UNPROT_BASE + RK_GUEST_U64(0x09000000))
#endif

/*
 * GICv3 (QEMU virt's offsets, in the unprotected half like the UART): the
 * distributor (64 KiB) and one redistributor frame per vCPU (RD_base +
 * SGI_base, 128 KiB each, vCPU i's at RK_GUEST_GICR_IPA + i *
 * RK_GUEST_GICR_STRIDE), up to the UART: room for RK_GUEST_GICR_MAX_CPUS.
 * The device tree (rk_fdt_build(), realmkit/host.h) describes them; a realm's
 * host serves them with its vGIC (src/host/vgic.c; docs/architecture.md,
 * "Interrupts"), the guest SDK drives them (guest/sdk/gic.h).
 */
#define RK_GUEST_GICD_IPA (RK_GUEST_UNPROT_BASE + RK_GUEST_U64(0x08000000))
#define RK_GUEST_GICD_SIZE RK_GUEST_U64(0x10000)
#define RK_GUEST_GICR_IPA (RK_GUEST_UNPROT_BASE + RK_GUEST_U64(0x080A0000))
#define RK_GUEST_GICR_STRIDE RK_GUEST_U64(0x20000)
#define RK_GUEST_GICR_MAX_CPUS 123
/* Interrupts: the UART's SPI (INTID 32 + 1, as QEMU virt's UART0) and the
 * generic timer's PPIs (INTID 16 + n): secure and non-secure EL1 physical,
 * EL1 virtual, EL2 physical, in the order of the arm,armv8-timer binding. */
#define RK_GUEST_UART_SPI 1
#define RK_GUEST_TIMER_PPI_SEC_PHYS 13
#define RK_GUEST_TIMER_PPI_PHYS 14
#define RK_GUEST_TIMER_PPI_VIRT 11
#define RK_GUEST_TIMER_PPI_HYP 10

/* vCPUs the SDK has stacks for; the vCPU index is taken from MPIDR_EL1 like
 * TF-RMM does (Aff0[3:0] | Aff1 << 4). */
#define RK_GUEST_MAX_CPUS 8
#define RK_GUEST_STACK_SIZE 0x4000

/* ---- Host calls (RSI_HOST_CALL immediates) ------------------------------ */
/*
 * The guest zeroes gprs[] before each call and reads the values the host
 * wrote back; a host that does not know a call leaves them zero, which every
 * call below treats as "not provided".
 */

/* out: gprs[0] = number of vCPUs (RECs) of the realm */
#define RK_HC_CPU_COUNT 0x0001
/* in: gprs[0] = iterations done, gprs[1] = running checksum (stress) */
#define RK_HC_PROGRESS 0x0002
/* out: gprs[0] = iterations (0: 20000000), gprs[1] = progress interval
 * (0: 1000000) (stress) */
#define RK_HC_STRESS_CONFIG 0x0003
/* out: gprs[0..7] = the 64-byte attestation challenge, little-endian words */
#define RK_HC_CHALLENGE 0x0004
/* out: gprs[0] = IPA of a shared buffer in the unprotected half, page
 * aligned and mapped by the host; gprs[1] = its size in bytes (0: none) */
#define RK_HC_SHARED_BUF 0x0005
/* in: gprs[0] = token length in bytes, gprs[1] = IPA it was copied to (the
 * shared buffer), gprs[2] = status (0 OK, else the failing RSI status, or
 * RK_GUEST_ERR_TOO_BIG if the shared buffer was too small) */
#define RK_HC_TOKEN_READY 0x0006
/* in: gprs[0] = example id (RK_GUEST_EX_*), gprs[1] = 0 pass / 1 fail,
 * gprs[2] = a value (checksum, count...) */
#define RK_HC_RESULT 0x0007
/* out: gprs[0] = iterations (0: the example's default) (ripas_toggle) */
#define RK_HC_ITERATIONS 0x0008

/*
 * in: gprs[0] = IPA of a page (4 KiB aligned), gprs[1] = for an unprotected
 * IPA, a 64-bit word the host writes at that IPA once it is unmapped.
 * The host unmaps the page at once, while the realm runs: a protected IPA
 * with RMI_RTT_DATA_UNMAP (RIPAS RAM -> DESTROYED; the granule goes back to
 * the host), an unprotected one with RMI_RTT_UNPROT_UNMAP.
 * out: gprs[0] = 1 done, 2 refused (not guest memory, or the unmap failed)
 * (unmap)
 */
#define RK_HC_UNMAP 0x0009
/* out: gprs[0] = stage-2 faults on protected memory the host has resolved so
 * far (by mapping memory), gprs[1] = those on unprotected memory (by
 * RMI_RTT_UNPROT_MAP) (unmap) */
#define RK_HC_FAULTS 0x000a

#define RK_GUEST_ERR_TOO_BIG 0x100

/* Example ids for RK_HC_RESULT. */
#define RK_GUEST_EX_HELLO 1
#define RK_GUEST_EX_SMP 2
#define RK_GUEST_EX_RIPAS 3
#define RK_GUEST_EX_ABORT 4
#define RK_GUEST_EX_STRESS 5
#define RK_GUEST_EX_ATTEST 6
#define RK_GUEST_EX_RIPAS_TOGGLE 7
#define RK_GUEST_EX_MMU 8
#define RK_GUEST_EX_USER 9
#define RK_GUEST_EX_UNMAP 10
#define RK_GUEST_EX_ECHO 11
#define RK_GUEST_EX_TIMER 12
#define RK_GUEST_EX_IPI 13

#endif /* RK_REALMKIT_GUEST_ABI_H */
