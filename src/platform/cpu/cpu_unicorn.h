/* SPDX-License-Identifier: MIT */
/*
 * Unicorn 2.0.1 AArch64 facts the backend, its tests and its benchmark share.
 * Nothing outside src/platform/cpu, tests/test_cpu*.c and bench/bench_cpu.c
 * should include this: the RMM uses cpu.h only.
 */
#ifndef RK_PLATFORM_CPU_UNICORN_H
#define RK_PLATFORM_CPU_UNICORN_H

#include "realmkit/arch/sysreg.h" /* SYSREG_* encodings for UC_ARM64_REG_CP_REG, HCR/SCR bits */

/*
 * The exception numbers UC_HOOK_INTR reports. They are QEMU internals
 * (target/arm/cpu.h EXCP_*), not in Unicorn's headers.
 */
enum rk_uc_excp {
	RK_UC_EXCP_UDEF = 1,           /* undefined; also trapped WFI (HCR_EL2.TWI) */
	RK_UC_EXCP_SVC = 2,            /* PC already past the SVC */
	RK_UC_EXCP_PREFETCH_ABORT = 3, /* only with the guest MMU on */
	RK_UC_EXCP_DATA_ABORT = 4,     /* only with the guest MMU on */
	RK_UC_EXCP_IRQ = 5,
	RK_UC_EXCP_FIQ = 6,
	RK_UC_EXCP_BKPT = 7,           /* BRK; PC on the BRK */
	RK_UC_EXCP_HVC = 11,           /* needs SCR_EL3.HCE; PC past the HVC */
	RK_UC_EXCP_HYP_TRAP = 12,
	RK_UC_EXCP_SMC = 13,           /* PC past the SMC */
};

/*
 * The vCPU's engine, for tests that must act inside it (e.g. add a hook
 * before the first run). Not for the RMM.
 */
struct rk_cpu;
struct uc_struct *rk_cpu_engine(struct rk_cpu *cpu);

#endif /* RK_PLATFORM_CPU_UNICORN_H */
