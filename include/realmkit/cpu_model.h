/* SPDX-License-Identifier: MIT */
/* The CPU model of a realmkit machine: what its vCPUs can address. */
#ifndef REALMKIT_CPU_MODEL_H
#define REALMKIT_CPU_MODEL_H

/*
 * The physical address range of the machine's CPUs, in bits: what their CPU
 * model (Unicorn 2.0.1's, ID_AA64MMFR0_EL1.PARange) can address. Every guest
 * address space is limited to it: the RMM advertises at most this IPA width
 * (RMI_FEATURES FR0.S2SZ, checked by REALM_CREATE) and the host's normal VMs
 * get no more. PAs the RMM manages (rk_machine_config.pa_bits) may be wider.
 */
#define RK_MACHINE_CPU_PA_BITS 44u

/*
 * The debug registers of the CPU model (Cortex-A72, ID_AA64DFR0_EL1): BRPs
 * and WRPs, the number of breakpoints and watchpoints minus one (6 and 4).
 * The RMM advertises these (RMI_FEATURES FR0.NUM_BPS/NUM_WPS, as TF-RMM takes
 * them from ID_AA64DFR0_EL1), so a realm is never told of a DBGBCR<n>_EL1 the
 * vCPU lacks (Linux writes every one it is told of at boot).
 * tests/platform/test_cpu_model.c checks these against the engine.
 */
#define RK_MACHINE_CPU_BRPS 5u
#define RK_MACHINE_CPU_WRPS 3u

/*
 * The CPU model's cache maintenance (Cortex-A72, CTR_EL0): the smallest
 * instruction cache line, 4 << IminLine bytes (IminLine 4: 64 bytes), the
 * unit of IC IVAU; DIC and IDC are 0, so software must clean the data cache
 * and invalidate the instruction cache to the point of unification before it
 * runs code it wrote (realmkit's vCPUs rely on that: include/realmkit/cpu.h).
 */
#define RK_MACHINE_CPU_IMINLINE_BYTES 64u

#endif /* REALMKIT_CPU_MODEL_H */
