/* SPDX-License-Identifier: MIT */
/* A few AArch64 instruction encodings, for tests that hand-assemble realm code. */
#ifndef RK_TEST_A64_H
#define RK_TEST_A64_H

#include <stdint.h>

static inline uint32_t a64_movz(unsigned int rd, uint16_t imm, unsigned int hw)
{
	return 0xD2800000u | (hw << 21) | ((uint32_t)imm << 5) | rd;
}

static inline uint32_t a64_movk(unsigned int rd, uint16_t imm, unsigned int hw)
{
	return 0xF2800000u | (hw << 21) | ((uint32_t)imm << 5) | rd;
}

/* Emit a 64-bit immediate load into rd: returns the number of words written (4). */
static inline unsigned int a64_mov64(uint32_t *p, unsigned int rd, uint64_t v)
{
	p[0] = a64_movz(rd, (uint16_t)v, 0);
	p[1] = a64_movk(rd, (uint16_t)(v >> 16), 1);
	p[2] = a64_movk(rd, (uint16_t)(v >> 32), 2);
	p[3] = a64_movk(rd, (uint16_t)(v >> 48), 3);
	return 4;
}

#define A64_SMC 0xD4000003u
#define A64_HVC 0xD4000002u
#define A64_WFI 0xD503207Fu
#define A64_UDF 0x00000000u
#define A64_B_SELF 0x14000000u

static inline uint32_t a64_str(unsigned int rt, unsigned int rn) { return 0xF9000000u | (rn << 5) | rt; }
static inline uint32_t a64_ldr(unsigned int rt, unsigned int rn) { return 0xF9400000u | (rn << 5) | rt; }
static inline uint32_t a64_strb(unsigned int rt, unsigned int rn) { return 0x39000000u | (rn << 5) | rt; }
static inline uint32_t a64_add_imm(unsigned int rd, unsigned int rn, uint32_t imm12)
{
	return 0x91000000u | (imm12 << 10) | (rn << 5) | rd;
}

#endif
