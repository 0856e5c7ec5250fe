/* SPDX-License-Identifier: MIT */
/*
 * The one helper the Arm constant headers (realmkit/arch/) share: 64-bit
 * constants that C and the assembler both read. No other definitions here.
 *
 * The rule for realmkit/arch/: every architectural constant (Arm ARM, SMCCC,
 * PSCI) is defined once, here, under one name with one meaning; code in src/,
 * tools/, tests/, bench/ and the guest SDK includes it and never writes the
 * value again. Realm-spec encodings stay with their layer (the abi/ JSON for
 * RMI/RSI, src/rmm for the RMM's software RTT entry states), built on these.
 * The headers need nothing but the compiler (C parts use <stdint.h> and
 * <stdbool.h>, both freestanding) and are guarded for __ASSEMBLER__.
 */
#ifndef REALMKIT_ARCH_CONST_H
#define REALMKIT_ARCH_CONST_H

#ifdef __ASSEMBLER__
#define RK_ULL(x) x
#else
#define RK_ULL(x) x##ULL
#endif
#define RK_BIT(n) (RK_ULL(1) << (n))

#endif /* REALMKIT_ARCH_CONST_H */
