/* SPDX-License-Identifier: MIT */
/*
 * Unicorn 2.0.1 AArch64 facts the backend, its tests and its benchmark share.
 * Nothing outside src/platform/cpu, tests/platform/test_cpu*.c and
 * bench/bench_cpu.c should include this: the RMM uses cpu.h only.
 */
#ifndef RK_PLATFORM_CPU_UNICORN_H
#define RK_PLATFORM_CPU_UNICORN_H

#include <stdint.h>

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
	RK_UC_EXCP_BKPT = 7, /* BRK; PC on the BRK */
	RK_UC_EXCP_HVC = 11, /* needs SCR_EL3.HCE; PC past the HVC */
	RK_UC_EXCP_HYP_TRAP = 12,
	RK_UC_EXCP_SMC = 13, /* PC past the SMC */
};

/*
 * The vCPU's engine, for tests that must act inside it (e.g. add a hook
 * before the first run). Not for the RMM.
 */
struct rk_cpu;
struct uc_struct *rk_cpu_engine(struct rk_cpu *cpu);

/*
 * Engine calibration (stage-2 mode). The syndrome, fault address and target
 * EL of the exception being taken are QEMU's env->exception, which Unicorn
 * 2.0.1 does not expose; uc_context_save() copies it with the rest of the
 * CPU state. The first stage-2 engine of the process finds its offset in the
 * context blob from a known fault (a run), and the offsets of two registers
 * it can write relative to it; every later engine restores that engine's
 * reset state and verifies the layout without a run (the two registers'
 * fresh values at their offsets, the known fault at the offset). For tests:
 * bias is added to the offset before verifying (non-zero pretends that the
 * blob's layout changed), and the found offset is forgotten, so the next
 * engine calibrates with the fault again.
 */
void rk_cpu_unicorn_calibration_test(int bias);
/* For tests: only set the bias (the offset kept: the next engine verifies without a run). */
void rk_cpu_unicorn_calibration_bias_test(int bias);
/* How many engines calibrated with the known fault, and how many verified without a run. */
void rk_cpu_unicorn_calibration_counts(uint64_t *runs, uint64_t *checks);
/* The offset found (-1: not calibrated yet). */
int rk_cpu_unicorn_exception_offset(void);
/*
 * Exact stops (stage-2 mode): the offset of Unicorn's switch for the exit
 * checks after loads and stores in its engine structure, found and probed by
 * the first stage-2 engine, verified and set by every engine (-1: not found
 * yet). For tests, as rk_cpu_unicorn_calibration_test: bias moves the offset
 * where it is verified, and the found offset is forgotten.
 */
void rk_cpu_unicorn_stop_calibration_test(int bias);
int rk_cpu_unicorn_stop_offset(void);
/*
 * For tests: every run pauses ns before each uc_emu_start() (0: no pause),
 * so that a stop can be made to arrive before the engine runs.
 */
void rk_cpu_unicorn_start_delay_test(uint64_t ns);

#endif /* RK_PLATFORM_CPU_UNICORN_H */
