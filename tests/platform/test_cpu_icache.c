/* SPDX-License-Identifier: MIT */
/*
 * Instruction-cache maintenance across vCPUs (stage-2 mode, guest MMU on):
 * code one vCPU writes and makes visible with IC IVAU or IC IALLUIS runs on
 * the other vCPUs of its domain at their next run (rk_cpu_set_tlb_domain).
 * Each engine keeps its own translated code: vCPU A calls a function that
 * returns 1 (A's engine translates it), vCPU B rewrites it to return 2 with
 * DC CVAU; DSB ISH; IC <op>; DSB ISH; ISB, then A calls it again. IC IVAU
 * drops that page's code on A (the domain's code log), keeping A's engine and
 * its other translations; IC IALLUIS, an IC IVAU the log cannot name, or a
 * log A fell too far behind drops all of A's code (a fresh engine). With
 * fast stores (src/platform/cpu/cpu_ucfix.c) the issuer applies its own IC
 * ops to its own engine too; test_cpu_icache_slowstores runs it all again on
 * Unicorn's own store path.
 * The fixture (two vCPUs, shared RAM and page tables): tests/support/cpu_smp.h.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "a64.h"
#include "cpu_smp.h"
#include "cpu_util.h"
#include "platform/cpu/cpu_ucfix.h"
#include "realmkit/cpu.h"

#define BIG_RAM_SIZE (256ull << 20)
#define FN 0x2000ull                             /* a function: movz x0, #n; ret */
#define FN2 0x3000ull                            /* another, on another page */
#define UNMAPPED_VA (T_SMP_RAM_IPA + 0x20000ull) /* no stage-1 entry */

/* Entry points (offsets into RAM); every one ends in SMC. */
#define E_CALL T_SMP_E_FREE      /* blr x6 (x6 = FN) */
#define E_CALL2 (E_CALL + 0x10)  /* blr x7 (x7 = FN2) */
#define E_IVAU (E_CALL2 + 0x10)  /* [x4] = x3; dc cvau, x4; dsb ish; ic ivau, x4; dsb ish; isb */
#define E_ALLIS (E_IVAU + 0x20)  /* the same with ic ialluis */
#define E_LOCAL (E_ALLIS + 0x20) /* the same with ic iallu (local) */
#define E_SELF (E_LOCAL + 0x20)  /* [x4] = x3; blr x6: the engine's own store to code it ran */
#define E_LINES (E_SELF + 0x10)  /* [x4] = x3; dc cvau; dsb; ic ivau, x4; ic ivau, x5 (same page); dsb; isb */
#define E_BOTH (E_LINES + 0x30)  /* [x4] = x3; [x9] = x8; dsb; ic ivau, x4 (FN only); dsb; isb */
#define E_IVAU_AT (E_BOTH + 0x20)       /* ic ivau, x13; dsb; isb */
#define E_IALLU_LOOP (E_IVAU_AT + 0x10) /* L: ic iallu; dsb; isb; b L */

#define A64_BLR(rn) (0xD63F0000u | ((rn) << 5))
#define A64_RET 0xD65F03C0u

/* The function's two instructions as one doubleword: movz x0, #n; ret. */
static uint64_t fn_code(uint16_t n)
{
	return (uint64_t)A64_RET << 32 | a64_movz(0, n, 0);
}

static int fx_setup_size(void **state, uint64_t ram_size)
{
	const uint32_t call[] = { A64_BLR(6), A64_SMC };
	const uint32_t call2[] = { A64_BLR(7), A64_SMC };
	const uint32_t ivau[] = { a64_str(3, 4), A64_DC_CVAU(4), A64_DSB_ISH, A64_IC_IVAU(4),
				  A64_DSB_ISH,   A64_ISB,        A64_SMC };
	const uint32_t allis[] = { a64_str(3, 4), A64_DC_CVAU(4), A64_DSB_ISH, A64_IC_IALLUIS,
				   A64_DSB_ISH,   A64_ISB,        A64_SMC };
	const uint32_t local[] = { a64_str(3, 4), A64_DC_CVAU(4), A64_DSB_ISH, A64_IC_IALLU,
				   A64_DSB_ISH,   A64_ISB,        A64_SMC };
	const uint32_t self[] = { a64_str(3, 4), A64_BLR(6), A64_SMC };
	const uint32_t lines[] = { a64_str(3, 4),  A64_DC_CVAU(4), A64_DSB_ISH, A64_IC_IVAU(4),
				   A64_IC_IVAU(5), A64_DSB_ISH,    A64_ISB,     A64_SMC };
	const uint32_t both[] = { a64_str(3, 4), a64_str(8, 9), A64_DSB_ISH, A64_IC_IVAU(4),
				  A64_DSB_ISH,   A64_ISB,       A64_SMC };
	const uint32_t at[] = { A64_IC_IVAU(13), A64_DSB_ISH, A64_ISB, A64_SMC };
	const uint32_t iallu_loop[] = { A64_IC_IALLU, A64_DSB_ISH, A64_ISB, 0x17fffffdu /* b -12 */ };
	struct t_smp *f = t_smp_new(ram_size);
	uint64_t d;

	t_smp_put(f, E_CALL, call, 2);
	t_smp_put(f, E_CALL2, call2, 2);
	t_smp_put(f, E_IVAU, ivau, 7);
	t_smp_put(f, E_ALLIS, allis, 7);
	t_smp_put(f, E_LOCAL, local, 7);
	t_smp_put(f, E_SELF, self, 3);
	t_smp_put(f, E_LINES, lines, 8);
	t_smp_put(f, E_BOTH, both, 7);
	t_smp_put(f, E_IVAU_AT, at, 4);
	t_smp_put(f, E_IALLU_LOOP, iallu_loop, 4);
	d = fn_code(1);
	memcpy(f->ram + FN, &d, 8);
	memcpy(f->ram + FN2, &d, 8);
	for (unsigned i = 0; i < 2; i++) {
		struct rk_cpu *c = f->cpu[i];

		t_cpu_set(c, RK_CPU_REG_X(4), T_SMP_RAM_IPA + FN);
		t_cpu_set(c, RK_CPU_REG_X(5), T_SMP_RAM_IPA + FN + 0x40); /* FN's next line */
		t_cpu_set(c, RK_CPU_REG_X(6), T_SMP_RAM_IPA + FN);
		t_cpu_set(c, RK_CPU_REG_X(7), T_SMP_RAM_IPA + FN2);
		t_cpu_set(c, RK_CPU_REG_X(9), T_SMP_RAM_IPA + FN2);
		t_smp_run(c, T_SMP_E_MMU);
	}
	*state = f;
	return 0;
}

static int fx_setup(void **state)
{
	return fx_setup_size(state, T_SMP_RAM_SIZE);
}

static int fx_setup_big(void **state)
{
	return fx_setup_size(state, BIG_RAM_SIZE);
}

/* Fast stores (cpu_ucfix.c): the engine does not see its own stores to code. */
static bool fast(void)
{
	return rk_ucfix_state() == RK_UCFIX_FAST;
}

static int fx_teardown(void **state)
{
	t_smp_free(*state);
	return 0;
}

static uint64_t call_at(struct rk_cpu *c, uint64_t entry)
{
	t_smp_run(c, entry);
	return t_cpu_reg(c, RK_CPU_REG_X(0));
}

static uint64_t call(struct rk_cpu *c)
{
	return call_at(c, E_CALL);
}

/* vCPU c stores fn_code(n) over FN with the sequence at entry. */
static void patch(struct rk_cpu *c, uint64_t entry, uint16_t n)
{
	t_cpu_set(c, RK_CPU_REG_X(3), fn_code(n));
	t_smp_run(c, entry);
}

/* Engines opened for c so far (creation, wakes): a whole code drop opens one. */
static uint64_t engines(struct rk_cpu *c)
{
	return 1 + t_cpu_stats(c).wakes;
}

/*
 * IC IVAU (by VA to the PoU: broadcast) on B: A's next call runs the new code;
 * only that page's code went (A keeps its engine), and back from A to B.
 */
static void test_ivau_reaches_other_vcpu(void **state)
{
	struct t_smp *f = *state;
	struct rk_cpu *a = f->cpu[0], *b = f->cpu[1];
	uint64_t a_eng = engines(a), b_eng = engines(b);

	assert_int_equal(call(a), 1);
	assert_int_equal(call(a), 1); /* translated in A's engine */
	assert_int_equal(call(b), 1);
	patch(b, E_IVAU, 2);
	assert_int_equal(t_cpu_stats(b).ic_broadcast, 1);
	assert_int_equal(t_smp_code_gen(f), 1);
	assert_int_equal(call(a), 2); /* no stale code for the page */
	assert_int_equal(t_cpu_stats(a).code_page_drops, 1);
	assert_int_equal(t_cpu_stats(a).code_domain_flushes, 0);
	assert_int_equal(engines(a), a_eng); /* the same engine: only the page's code went */
	assert_int_equal(call(b), 2);        /* B's engine saw its own store */
	assert_int_equal(t_cpu_stats(b).code_page_drops, 0);
	/* and back, from A */
	patch(a, E_IVAU, 3);
	assert_int_equal(call(b), 3);
	assert_int_equal(call(a), 3);
	assert_int_equal(t_cpu_stats(b).code_page_drops, 1);
	assert_int_equal(t_cpu_stats(a).code_page_drops, 1);
	assert_int_equal(engines(a), a_eng);
	assert_int_equal(engines(b), b_eng);
	assert_int_equal(t_cpu_stats(a).code_domain_flushes + t_cpu_stats(b).code_domain_flushes, 0);
}

/* IC IALLUIS on B: A's next call runs the new code, all of A's code dropped (a fresh engine). */
static void test_ialluis_reaches_other_vcpu(void **state)
{
	struct t_smp *f = *state;
	struct rk_cpu *a = f->cpu[0], *b = f->cpu[1];
	uint64_t a_eng = engines(a), b_eng = engines(b);

	assert_int_equal(call(a), 1);
	assert_int_equal(call(b), 1);
	patch(b, E_ALLIS, 2);
	assert_int_equal(t_smp_code_gen(f), 1);
	assert_int_equal(call(a), 2);
	assert_int_equal(t_cpu_stats(a).code_domain_flushes, 1);
	assert_int_equal(t_cpu_stats(a).code_page_drops, 0);
	assert_int_equal(engines(a), a_eng + 1);
	assert_int_equal(call(b), 2);
	/* the issuer drops its own code too, with fast stores (cpu_ucfix.c) */
	assert_int_equal(engines(b), b_eng + (fast() ? 1 : 0));
	assert_int_equal(t_cpu_stats(b).ic_local_flushes, fast() ? 1 : 0);
	patch(a, E_ALLIS, 3);
	assert_int_equal(call(b), 3);
	assert_int_equal(t_cpu_stats(b).code_domain_flushes, 1);
}

/*
 * B rewrites two functions on two pages but IC IVAUs only FN's: A runs FN's
 * new code and still its own translation of FN2 (without the maintenance
 * that is what the architecture allows; here it shows that the other
 * translations survived), until B IC IVAUs FN2 too.
 */
static void test_ivau_only_that_page(void **state)
{
	struct t_smp *f = *state;
	struct rk_cpu *a = f->cpu[0], *b = f->cpu[1];

	assert_int_equal(call(a), 1);
	assert_int_equal(call_at(a, E_CALL2), 1);
	t_cpu_set(b, RK_CPU_REG_X(3), fn_code(2));
	t_cpu_set(b, RK_CPU_REG_X(8), fn_code(5));
	t_smp_run(b, E_BOTH);
	assert_int_equal(call(a), 2);
	assert_int_equal(call_at(a, E_CALL2), 1); /* FN2's old translation: not dropped */
	t_cpu_set(b, RK_CPU_REG_X(13), T_SMP_RAM_IPA + FN2 + 0x10);
	t_smp_run(b, E_IVAU_AT);
	assert_int_equal(call_at(a, E_CALL2), 5);
	assert_int_equal(call(a), 2);
	assert_int_equal(t_cpu_stats(a).code_page_drops, 2);
	assert_int_equal(t_cpu_stats(a).code_domain_flushes, 0);
}

/* IC IVAU of two lines of one page in one run: one log entry (Linux cleans a line at a time). */
static void test_ivau_lines_one_entry(void **state)
{
	struct t_smp *f = *state;
	struct rk_cpu *a = f->cpu[0], *b = f->cpu[1];

	assert_int_equal(call(a), 1);
	patch(b, E_LINES, 2);
	assert_int_equal(t_cpu_stats(b).ic_broadcast, 2);
	assert_int_equal(t_smp_code_gen(f), 1);
	assert_int_equal(call(a), 2);
	assert_int_equal(t_cpu_stats(a).code_page_drops, 1);
	patch(b, E_LINES, 3); /* the next run: a new entry */
	assert_int_equal(t_smp_code_gen(f), 2);
	assert_int_equal(call(a), 3);
}

/* More IC IVAUs than the code log keeps since A last ran: A drops all its code. */
static void test_code_log_overflow(void **state)
{
	struct t_smp *f = *state;
	struct rk_cpu *a = f->cpu[0], *b = f->cpu[1];
	uint64_t a_eng = engines(a);

	assert_int_equal(call(a), 1);
	for (unsigned i = 0; i <= RK_CPU_CODE_LOG; i++)
		patch(b, E_IVAU, (uint16_t)(10 + i));
	assert_int_equal(t_smp_code_gen(f), RK_CPU_CODE_LOG + 1);
	assert_int_equal(call(a), 10 + RK_CPU_CODE_LOG);
	assert_int_equal(t_cpu_stats(a).code_domain_flushes, 1);
	assert_int_equal(t_cpu_stats(a).code_page_drops, 0);
	assert_int_equal(engines(a), a_eng + 1);
	/* exactly the log's size behind: by page */
	for (unsigned i = 0; i < RK_CPU_CODE_LOG; i++)
		patch(b, E_IVAU, (uint16_t)(40 + i));
	assert_int_equal(call(a), 40 + RK_CPU_CODE_LOG - 1);
	assert_int_equal(t_cpu_stats(a).code_page_drops, RK_CPU_CODE_LOG);
	assert_int_equal(engines(a), a_eng + 1);
}

/* An IC IVAU whose VA the issuer's stage 1 does not map: no page to name, so all code goes. */
static void test_ivau_untranslatable(void **state)
{
	struct t_smp *f = *state;
	struct rk_cpu *a = f->cpu[0], *b = f->cpu[1];
	uint64_t a_eng = engines(a);

	assert_int_equal(call(a), 1);
	memcpy(f->ram + FN, &(uint64_t){ fn_code(6) }, 8); /* written from outside, say */
	t_cpu_set(b, RK_CPU_REG_X(13), UNMAPPED_VA);
	t_smp_run(b, E_IVAU_AT);
	assert_int_equal(t_smp_code_gen(f), 1);
	assert_int_equal(call(a), 6);
	assert_int_equal(t_cpu_stats(a).code_domain_flushes, 1);
	assert_int_equal(engines(a), a_eng + 1);
}

/*
 * B issues IC IVAU for a page its stage 1 maps but its memory map does not
 * hold (written through another vCPU, say): B's engine has no code from it,
 * so B keeps everything; the log names the page by IPA, and A drops just
 * that page's code.
 */
static void test_ivau_page_not_in_issuers_map(void **state)
{
	struct t_smp *f = *state;
	struct rk_cpu *a = f->cpu[0], *b = f->cpu[1];
	uint64_t a_eng = engines(a), b_eng = engines(b);

	assert_int_equal(call(a), 1);
	assert_int_equal(call_at(a, E_CALL2), 1);
	assert_int_equal(rk_cpu_unmap(b, T_SMP_RAM_IPA + FN2, 4096), 0);
	memcpy(f->ram + FN2, &(uint64_t){ fn_code(5) }, 8); /* written from outside B */
	t_cpu_set(b, RK_CPU_REG_X(13), T_SMP_RAM_IPA + FN2);
	t_smp_run(b, E_IVAU_AT);
	assert_int_equal(t_smp_code_gen(f), 1);
	assert_int_equal(t_cpu_stats(b).ic_local_flushes, 0);
	assert_int_equal(engines(b), b_eng);
	assert_int_equal(call_at(a, E_CALL2), 5);
	assert_int_equal(call(a), 1); /* FN's translation survived */
	assert_int_equal(t_cpu_stats(a).code_page_drops, 1);
	assert_int_equal(t_cpu_stats(a).code_domain_flushes, 0);
	assert_int_equal(engines(a), a_eng);
}

/* IC IALLU is local: no bump; B's engine runs its own new code. */
static void test_iallu_local(void **state)
{
	struct t_smp *f = *state;
	struct rk_cpu *b = f->cpu[1];

	assert_int_equal(call(b), 1);
	patch(b, E_LOCAL, 2);
	assert_int_equal(call(b), 2);
	assert_int_equal(t_cpu_stats(b).ic_broadcast, 0);
	assert_int_equal(t_smp_code_gen(f), 0);
	assert_int_equal(t_cpu_stats(b).ic_local_flushes, fast() ? 1 : 0); /* within E_LOCAL's run */
}

/*
 * One engine writing code it has translated. With fast stores (cpu_ucfix.c,
 * the default on Unicorn 2.0.1) the engine does not see its own store: with no
 * maintenance the old code may run (as on the A72, CTR_EL0.DIC = 0), and IC
 * IVAU on the same vCPU drops just that line's code, keeping the engine.
 * With Unicorn's own path (RK_UNICORN_FAST_STORES=0: test_cpu_icache_slow)
 * the store alone is enough and IC IVAU drops nothing of its own.
 */
static void test_self_modifying_same_engine(void **state)
{
	struct t_smp *f = *state;
	struct rk_cpu *a = f->cpu[0];
	uint64_t a_eng = engines(a);

	assert_int_equal(call(a), 1);
	assert_int_equal(call(a), 1);
	t_cpu_set(a, RK_CPU_REG_X(3), fn_code(7));
	t_smp_run(a, E_SELF); /* [FN] = x3; blr FN: no maintenance */
	assert_int_equal(t_cpu_reg(a, RK_CPU_REG_X(0)), fast() ? 1 : 7);
	patch(a, E_IVAU, 8); /* the same with DC CVAU; DSB; IC IVAU; DSB; ISB */
	assert_int_equal(call(a), 8);
	assert_int_equal(t_cpu_stats(a).ic_local_lines, fast() ? 1 : 0);
	assert_int_equal(engines(a), a_eng); /* the line's code went, not the engine */
	assert_int_equal(t_cpu_stats(a).code_domain_flushes, 0);
}

/*
 * A guest that issues IC IALLU in a loop: each one drops all of the vCPU's
 * code (a fresh engine within the run), and the run still ends when its
 * time slice does (the slice is not restarted by each fresh engine).
 */
static void test_iallu_loop_times_out(void **state)
{
	struct t_smp *f = *state;
	struct rk_cpu *b = f->cpu[1];
	struct rk_cpu_exit e;

	if (!fast())
		skip(); /* Unicorn's own path: IC IALLU does nothing on the issuer */
	t_cpu_set(b, RK_CPU_REG_PC, T_SMP_RAM_IPA + E_IALLU_LOOP);
	assert_int_equal(rk_cpu_run(b, 20000, &e), 0);
	assert_int_equal(e.reason, RK_CPU_EXIT_TIMEOUT);
	assert_true(t_cpu_stats(b).ic_local_flushes >= 1);
	assert_int_equal(t_cpu_stats(b).ic_local_flushes, t_cpu_stats(b).wakes);
}

/* A parked vCPU wakes with no code (and drops nothing for what came before); outside a domain nothing is logged. */
static void test_park_and_no_domain(void **state)
{
	struct t_smp *f = *state;
	struct rk_cpu *a = f->cpu[0], *b = f->cpu[1];

	assert_int_equal(call(a), 1);
	assert_int_equal(rk_cpu_park(a), 0);
	patch(b, E_IVAU, 2);
	assert_int_equal(call(a), 2);
	assert_int_equal(t_cpu_stats(a).code_page_drops + t_cpu_stats(a).code_domain_flushes, 0);
	assert_int_equal(rk_cpu_set_tlb_domain(b, NULL), 0);
	patch(b, E_IVAU, 4);
	assert_int_equal(t_cpu_stats(b).ic_broadcast, 2);
	assert_int_equal(t_smp_code_gen(f), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ivau_reaches_other_vcpu, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ialluis_reaches_other_vcpu, fx_setup, fx_teardown),
		/* a realm-sized RAM window: the same */
		cmocka_unit_test_setup_teardown(test_ivau_reaches_other_vcpu, fx_setup_big, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ivau_only_that_page, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ivau_lines_one_entry, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_code_log_overflow, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ivau_untranslatable, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ivau_page_not_in_issuers_map, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_iallu_local, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_self_modifying_same_engine, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_iallu_loop_times_out, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_park_and_no_domain, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
