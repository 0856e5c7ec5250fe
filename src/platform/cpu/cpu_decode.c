/* SPDX-License-Identifier: MIT */
/*
 * AArch64 load/store decoding for data-abort syndromes.
 *
 * Encodings from the Arm ARM (C4.1.4 "Loads and Stores"). Only the forms for
 * which a stage-2 data abort reports ISV = 1 are accepted (Arm ARM D17.2.37,
 * ESR_EL2.ISV): a single general-purpose register, no writeback, not
 * exclusive, not an atomic, not SIMD/FP.
 */
#include "cpu/cpu_decode.h"

#include <string.h>

static bool decode_sized(uint32_t insn, struct rk_cpu_ldst *out)
{
	unsigned size = (insn >> 30) & 3u;
	unsigned opc = (insn >> 22) & 3u;

	out->size = (uint8_t)(1u << size);
	out->rt = (uint8_t)(insn & 31u);
	switch (opc) {
	case 0: /* STRB/STRH/STR */
		out->is_load = false;
		out->sse = false;
		out->sf = size == 3;
		return true;
	case 1: /* LDRB/LDRH/LDR */
		out->is_load = true;
		out->sse = false;
		out->sf = size == 3;
		return true;
	case 2: /* LDRSB/LDRSH/LDRSW to X; size 3 is PRFM */
		if (size == 3)
			return false;
		out->is_load = true;
		out->sse = true;
		out->sf = true;
		return true;
	default: /* LDRSB/LDRSH to W; sizes 2 and 3 unallocated */
		if (size >= 2)
			return false;
		out->is_load = true;
		out->sse = true;
		out->sf = false;
		return true;
	}
}

bool rk_cpu_decode_ldst(uint32_t insn, struct rk_cpu_ldst *out)
{
	struct rk_cpu_ldst d;

	memset(&d, 0, sizeof(d));

	/* Load/store register (unsigned immediate): size 111 0 01 opc imm12 Rn Rt */
	if ((insn & 0x3f000000u) == 0x39000000u) {
		if (!decode_sized(insn, &d))
			return false;
		goto ok;
	}
	/* size 111 0 00 opc x imm9/Rm .. Rn Rt: bit 21 and bits [11:10] select */
	if ((insn & 0x3f000000u) == 0x38000000u) {
		unsigned b21 = (insn >> 21) & 1u;
		unsigned op2 = (insn >> 10) & 3u;

		/* 0/00 unscaled (LDUR), 0/10 unprivileged (LDTR), 1/10 register.
		 * 0/01 post-index and 0/11 pre-index write back; 1/00 are atomics;
		 * 1/x1 are LDRAA/LDRAB. */
		if (!((b21 == 0 && (op2 == 0 || op2 == 2)) || (b21 == 1 && op2 == 2)))
			return false;
		if (!decode_sized(insn, &d))
			return false;
		goto ok;
	}
	/* Load register (literal): opc 011 0 00 imm19 Rt */
	if ((insn & 0x3f000000u) == 0x18000000u) {
		unsigned opc = (insn >> 30) & 3u;

		d.rt = (uint8_t)(insn & 31u);
		d.is_load = true;
		switch (opc) {
		case 0:
			d.size = 4;
			d.sf = false;
			break; /* LDR Wt */
		case 1:
			d.size = 8;
			d.sf = true;
			break; /* LDR Xt */
		case 2:
			d.size = 4;
			d.sf = true;
			d.sse = true;
			break; /* LDRSW */
		default:
			return false; /* PRFM */
		}
		goto ok;
	}
	/* Load/store ordered: size 001000 1 L 0 Rs o0 Rt2 Rn Rt (o2 = 1, o1 = 0) */
	if ((insn & 0x3fa00000u) == 0x08800000u) {
		unsigned size = (insn >> 30) & 3u;

		d.size = (uint8_t)(1u << size);
		d.rt = (uint8_t)(insn & 31u);
		d.is_load = ((insn >> 22) & 1u) != 0;
		d.sf = size == 3;
		d.ar = true;
		goto ok;
	}
	return false;
ok:
	if (out)
		*out = d;
	return true;
}

uint64_t rk_cpu_ldst_extend(uint64_t value, unsigned size, bool sse, bool sf)
{
	unsigned bits = size * 8u;

	if (bits == 0 || bits > 64)
		return 0;
	if (bits < 64) {
		uint64_t mask = (1ull << bits) - 1u;

		value &= mask;
		if (sse && (value >> (bits - 1)) & 1u)
			value |= ~mask;
	}
	if (!sf)
		value &= 0xffffffffull;
	return value;
}

enum rk_cpu_resume rk_cpu_resume_after_access(uint32_t insn, bool is_write)
{
	const enum rk_cpu_resume none = RK_CPU_RESUME_NONE, reexec = RK_CPU_RESUME_REEXEC;
	unsigned rt = insn & 31u, rn = (insn >> 5) & 31u, rt2 = (insn >> 10) & 31u;
	unsigned rm = (insn >> 16) & 31u;

	/* Load/store exclusive, ordered: size 001000 o2 L o1 Rs o0 Rt2 Rn Rt */
	if ((insn & 0x3f000000u) == 0x08000000u) {
		bool o2 = (insn >> 23) & 1u, l = (insn >> 22) & 1u, o1 = (insn >> 21) & 1u;

		if (!o2) /* LDXR/LDXP write Rt only after the access; STXR's
			  * status is written after its store: stop at its load */
			return is_write ? none : reexec;
		if (o1)
			return none; /* CAS (v8.1) */
		if (l)               /* LDAR/LDLAR write Rt directly */
			return is_write ? none : RK_CPU_RESUME_COMPLETE;
		return is_write ? reexec : none; /* STLR/STLLR */
	}
	/* Load register (literal): opc 011 V 00 imm19 Rt; the address is PC-relative */
	if ((insn & 0x3b000000u) == 0x18000000u)
		return is_write ? none : reexec;
	/* Load/store pair (all indexing forms): opc 101 V 0 idx L imm7 Rt2 Rn Rt */
	if ((insn & 0x3a000000u) == 0x28000000u) {
		bool l = (insn >> 22) & 1u, v = (insn >> 26) & 1u;
		unsigned idx = (insn >> 23) & 3u;
		bool wb = idx == 1 || idx == 3;

		if (!l)
			return is_write ? reexec : none;
		if (is_write)
			return none;
		if (v)
			return reexec;
		/* Rt goes through a temporary, Rt2 is written by the second access. */
		if (rn != 31 && wb && (rt2 == rn || rt == rn))
			return none; /* UNPREDICTABLE */
		if (rn != 31 && rt2 == rn)
			return RK_CPU_RESUME_REEXEC_FIRST;
		return reexec;
	}
	/* Load/store register: size 111 V 0 x opc ... Rn Rt */
	if ((insn & 0x3a000000u) == 0x38000000u) {
		bool v = (insn >> 26) & 1u, uimm = (insn >> 24) & 1u, b21 = (insn >> 21) & 1u;
		unsigned opc = (insn >> 22) & 3u, size = insn >> 30, op2 = (insn >> 10) & 3u;
		bool load, wb = false, regoff = false;

		if (!uimm) {
			if (!b21)
				wb = op2 == 1 || op2 == 3; /* post-, pre-index */
			else if (op2 == 2)
				regoff = true;
			else
				return none; /* atomics, LDRAA/LDRAB */
		}
		if (v) {
			load = opc & 1u;
		} else {
			if ((size == 3 && opc >= 2) || (size == 2 && opc == 3))
				return none; /* PRFM, unallocated */
			load = opc != 0;
		}
		if (!load)
			return is_write ? reexec : none;
		if (is_write)
			return none;
		if (v || rt == 31)
			return reexec;
		if (wb) /* writeback comes after the access; Rt == Rn is UNPREDICTABLE */
			return rn != 31 && rt == rn ? none : reexec;
		if ((rn != 31 && rt == rn) || (regoff && rt == rm))
			return RK_CPU_RESUME_COMPLETE;
		return reexec;
	}
	/* AdvSIMD load/store multiple/single structures: 0 Q 00110 ...: they
	 * write V registers; the base writeback comes after the accesses. */
	if ((insn & 0xbe000000u) == 0x0c000000u)
		return reexec;
	return none;
}

uint64_t rk_cpu_pair_first_addr(uint32_t insn, uint64_t base)
{
	unsigned opc = insn >> 30, idx = (insn >> 23) & 3u, v = (insn >> 26) & 1u;
	unsigned scale = v ? 2u + opc : (opc == 2 ? 3u : 2u);
	int64_t imm = (int64_t)((insn >> 15) & 0x7fu);

	if (imm & 0x40)
		imm -= 0x80; /* imm7 is signed */
	if (idx == 1)        /* post-index: the base itself */
		return base;
	return base + (uint64_t)(imm * (int64_t)(1u << scale));
}
