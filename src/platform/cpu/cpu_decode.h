/* SPDX-License-Identifier: MIT */
/*
 * AArch64 load/store decoding for data-abort syndromes (backend-neutral).
 */
#ifndef RK_PLATFORM_CPU_DECODE_H
#define RK_PLATFORM_CPU_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "realmkit/arch/insn.h"

/* A load or store of a single general-purpose register, without writeback. */
struct rk_cpu_ldst {
	uint8_t size; /* bytes: 1, 2, 4 or 8 */
	bool is_load;
	uint8_t rt; /* 31 = XZR/WZR */
	bool sse;   /* load sign-extends */
	bool sf;    /* Rt is an X register */
	bool ar;    /* acquire/release */
};

/*
 * Decode insn. Returns true, and fills *out, if it is a form for which the
 * hardware reports ISV = 1 on a stage-2 abort: LDR/STR and their B/H/SB/SH/SW
 * forms with unsigned-offset, unscaled, unprivileged or register-offset
 * addressing, LDR (literal), LDAR/STLR (and LDLAR/STLLR). Returns false for
 * everything else, including writeback forms, pairs, SIMD/FP, exclusives,
 * atomics and prefetches.
 */
bool rk_cpu_decode_ldst(uint32_t insn, struct rk_cpu_ldst *out);

/*
 * Sign/zero-extend a loaded value as the instruction would write it to Rt:
 * mask to size bytes, sign-extend if sse, truncate to 32 bits unless sf.
 */
uint64_t rk_cpu_ldst_extend(uint64_t value, unsigned size, bool sse, bool sf);

/*
 * How a vCPU stopped right after one memory access of insn (a store if
 * is_write, else a load) can resume exactly:
 *  NONE      it cannot (do not stop here);
 *  REEXEC    run insn again from the start: nothing it wrote so far feeds
 *            its own inputs (stores, loads whose destination is not an
 *            address register, exclusives before their store, SIMD...);
 *  COMPLETE  the load already wrote Rt, which is also an address register:
 *            finish it instead (Rt = the loaded value extended as
 *            rk_cpu_decode_ldst says, PC + 4). Only for forms
 *            rk_cpu_decode_ldst accepts.
 * This is what makes asynchronous stops safe on Unicorn 2.0.1, which can
 * leave a translated block right after any memory access.
 */
enum rk_cpu_resume {
	RK_CPU_RESUME_NONE,
	RK_CPU_RESUME_REEXEC,
	RK_CPU_RESUME_COMPLETE,
	RK_CPU_RESUME_REEXEC_FIRST, /* REEXEC after the first access only (an LDP
	                             * whose second access overwrites its base);
	                             * see rk_cpu_pair_first_addr */
};
enum rk_cpu_resume rk_cpu_resume_after_access(uint32_t insn, bool is_write);
/* The address of the first access of a load/store pair, given its base
 * register's value. */
uint64_t rk_cpu_pair_first_addr(uint32_t insn, uint64_t base);

/* Instruction encodings the backend recognises. */
/* SMC/HVC/SVC/BRK #imm16: imm16 in bits [20:5]. */
#define RK_A64_IMM16(insn) ((uint16_t)(((insn) >> 5) & 0xffffu))
#define RK_A64_IS_SMC(insn) (((insn) & ~(uint32_t)A64_EXC_IMM16_MASK) == A64_SMC)
#define RK_A64_IS_HVC(insn) (((insn) & ~(uint32_t)A64_EXC_IMM16_MASK) == A64_HVC)

#endif /* RK_PLATFORM_CPU_DECODE_H */
