/* SPDX-License-Identifier: MIT */
/*
 * Unicorn 2.0.1's store fast path.
 *
 * The problem. In 2.0.1 cpu_physical_memory_is_clean() is constant true
 * (include/exec/ram_addr.h), so tlb_set_page_with_attrs() marks every
 * writable RAM TLB entry TLB_NOTDIRTY, and every guest store to RAM takes the
 * slow path: store_helper -> notdirty_write -> page_collection_lock (a g_tree
 * and mallocs) -> tb_invalidate_phys_page_fast -> unlock. That is QEMU's
 * self-modifying-code detection, run for every store to every page, code or
 * not: the dirty bitmap that would limit it to pages holding translations is
 * stubbed out (cpu_physical_memory_test_and_clear_dirty() returns false). It
 * was 52% of a Linux realm boot (docs/performance.md). Upstream fixed it in
 * 2.1 (commits d0103576 and ab23d4ce); Debian 12 ships 2.0.1.
 *
 * The fix. The one place that ORs TLB_NOTDIRTY (0x100) into an entry's write
 * address, `or $0x100, %r64` (REX.W 81 /1 imm32: 48|49 81 c8..cf 00 01 00 00)
 * in tlb_set_page_with_attrs_aarch64, becomes `or $0`, so stores take TCG's
 * inline fast path. Conditions: Unicorn 2.0 (uc_version); the function found
 * by dlsym and its size by dladdr1; exactly one such instruction in it; the
 * two functions the issuer's IC IVAU needs (qemu_ram_addr_from_host_aarch64,
 * tb_invalidate_phys_range_aarch64) exported; the byte written through
 * /proc/self/mem, else by mprotect on its page (either way the kernel gives
 * the process a private copy of that one page of libunicorn). Done once per
 * process, before realmkit's first engine opens (the engine-open lock is
 * held: no engine of realmkit runs), and then proven on a scratch engine:
 *   1. a function returning 1 runs (translated);
 *   2. code on another page stores "return 2" over it; the function still
 *      returns 1: the engine no longer detects the store (the patch works);
 *   3. an IC IVAU of that line, handled as the vCPU handles it
 *      (rk_ucfix_code_written), then the function returns 2.
 * A failed proof puts the byte back. Any failure leaves stores on Unicorn's
 * own path (correct, ~3x slower for a Linux boot) and prints one line on
 * stderr with the reason; RK_UNICORN_FAST_STORES=0 asks for that path
 * without a message.
 *
 * What changes for guests. The engine no longer notices its own stores to
 * code it has translated. The architecture does not ask it to: the CPU model
 * (Cortex-A72) has CTR_EL0.DIC = 0 and IDC = 0, so software cleans the data
 * cache and invalidates the instruction cache to the point of unification
 * (DC CVAU, DSB, IC IVAU or IC IALLU, DSB, ISB) before it runs code it wrote,
 * and Linux, the guest SDK and every correct guest do. So the vCPU performs
 * IC on its own engine too (cpu_unicorn.c, ic_op): IC IVAU drops the
 * translations that overlap the line, IC IALLU(IS) all of its code. A guest
 * that rewrites code without that maintenance may run the old code, as it may
 * on hardware. Other writers are unaffected: memory the host or the RMM
 * writes was never seen by the engine's store path (rk_cpu_invalidate_code).
 *
 * Process-wide: an application that runs its own Unicorn engines in the same
 * process gets the fast path too, and must do the same IC maintenance (or set
 * RK_UNICORN_FAST_STORES=0 before realmkit's first engine).
 */
#define _GNU_SOURCE 1 /* dladdr1, RTLD_DEFAULT */
#include "cpu/cpu_ucfix.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <unicorn/unicorn.h>

#include "realmkit/arch/insn.h"
#include "realmkit/cpu_model.h"

#define RK_UCFIX_ENV "RK_UNICORN_FAST_STORES"
#define RK_UCFIX_SITE_FN "tlb_set_page_with_attrs_aarch64"
#define RK_UCFIX_RAM_FN "qemu_ram_addr_from_host_aarch64"
#define RK_UCFIX_INVAL_FN "tb_invalidate_phys_range_aarch64"
#define RK_UCFIX_IMM_BYTE 4u            /* the 0x01 of imm32 0x100 in 48|49 81 cX 00 01 00 00 */
#define RK_UCFIX_RAM_INVALID UINT64_MAX /* QEMU's RAM_ADDR_INVALID */

/* The proof's memory: two pages, the function on the first, the writer on the second. */
#define PROOF_BASE 0x10000ull
#define PROOF_SIZE 0x2000ull
#define PROOF_FN 0x0ull       /* movz x0, #1; svc #0 */
#define PROOF_WRITE 0x1000ull /* str w2, [x1]; svc #0 */
#define PROOF_IC 0x1100ull    /* ic ivau, x1; dsb ish; isb; svc #0 */
#define PROOF_LINE RK_MACHINE_CPU_IMINLINE_BYTES

/* QEMU internals with these signatures in 2.0.1 (ram_addr_t is uint64_t). */
typedef uint64_t (*ram_from_host_fn)(struct uc_struct *uc, void *ptr);
typedef void (*inval_range_fn)(struct uc_struct *uc, uint64_t start, uint64_t end);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static _Atomic int state = RK_UCFIX_UNDECIDED;
static char reason[200] = "not decided yet";
static ram_from_host_fn ram_from_host;
static inval_range_fn inval_range;
static _Atomic bool proving; /* the proof runs: rk_ucfix_code_written works for it */
static _Atomic int sabotage; /* enum rk_ucfix_sabotage (tests) */
static const char *poked_by; /* how poke() last wrote: "/proc/self/mem" or "mprotect" */

void rk_ucfix_sabotage_test(enum rk_ucfix_sabotage how)
{
	atomic_store(&sabotage, (int)how);
}

/* The reason of the decision (rk_ucfix_reason), printf-style. */
__attribute__((format(printf, 1, 2))) static void set_reason(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
}

/* The one `or $0x100, %r64` in tlb_set_page_with_attrs_aarch64, or NULL (reason set). */
static uint8_t *find_site(void)
{
	void *f = dlsym(RTLD_DEFAULT, RK_UCFIX_SITE_FN);
	const ElfW(Sym) *sym = NULL;
	uint8_t *b = f, *at = NULL;
	unsigned hits = 0;
	Dl_info info;

	if (!f) {
		set_reason("%s is not exported by libunicorn", RK_UCFIX_SITE_FN);
		return NULL;
	}
	if (!dladdr1(f, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym || sym->st_size < 7) {
		set_reason("the size of %s is unknown", RK_UCFIX_SITE_FN);
		return NULL;
	}
	for (size_t i = 0; i + 7 <= sym->st_size; i++)
		if ((b[i] == 0x48 || b[i] == 0x49) && b[i + 1] == 0x81 && (b[i + 2] & 0xf8) == 0xc8 &&
		    b[i + 3] == 0 && b[i + 4] == 1 && b[i + 5] == 0 && b[i + 6] == 0) {
			hits++;
			at = b + i + RK_UCFIX_IMM_BYTE;
		}
	if (hits != 1) {
		set_reason("%u places in %s set TLB_NOTDIRTY, not exactly one", hits, RK_UCFIX_SITE_FN);
		return NULL;
	}
	return at;
}

/*
 * The store for poke()'s mprotect path, outside the sanitizers' view: their
 * shadow memory for a library's text is not writable (TSan faults).
 */
__attribute__((no_sanitize("thread", "address", "undefined"))) static void store_text(uint8_t *at, uint8_t v)
{
	*(volatile uint8_t *)at = v;
}

/*
 * Write one byte of libunicorn's text: through /proc/self/mem (as a debugger
 * does: the kernel copies the page, whose protection never changes), else by
 * making its page writable for the store.
 */
static int poke(uint8_t *at, uint8_t v)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *page = (void *)((uintptr_t)at & ~(uintptr_t)(pg > 0 ? pg - 1 : 4095));
	size_t len = pg > 0 ? (size_t)pg : 4096u;
	int fd = atomic_load(&sabotage) == RK_UCFIX_SABOTAGE_NO_PROCMEM
			 ? -1
			 : open("/proc/self/mem", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		ssize_t n = pwrite(fd, &v, 1, (off_t)(uintptr_t)at);

		close(fd);
		if (n == 1 && *(volatile uint8_t *)at == v) {
			poked_by = "/proc/self/mem";
			return 0;
		}
	}
	poked_by = "mprotect";
	if (mprotect(page, len, PROT_READ | PROT_WRITE | PROT_EXEC))
		return -errno;
	store_text(at, v);
	if (mprotect(page, len, PROT_READ | PROT_EXEC))
		return -errno;
	return *(volatile uint8_t *)at == v ? 0 : -EIO;
}

bool rk_ucfix_code_written(struct uc_struct *uc, const void *host, size_t len)
{
	uint64_t ram;

	if ((atomic_load_explicit(&state, memory_order_acquire) != RK_UCFIX_FAST && !atomic_load(&proving)) ||
	    !uc || !host || !len)
		return false;
	ram = ram_from_host(uc, (void *)(uintptr_t)host);
	if (ram == RK_UCFIX_RAM_INVALID)
		return false;
	inval_range(uc, ram, ram + len);
	return true;
}

/* The proof (see the top): a scratch engine, its own two pages. */
struct proof {
	uint8_t *mem;
	unsigned ic_seen;
	bool ic_done;
};

static void proof_intr(uc_engine *uc, uint32_t intno, void *user)
{
	(void)intno;
	(void)user;
	uc_emu_stop(uc); /* the svc #0 that ends each piece */
}

static uint32_t proof_sys(uc_engine *uc, uc_arm64_reg reg, const uc_arm64_cp_reg *cp, void *user)
{
	struct proof *p = user;
	uint64_t va = cp->val & ~(uint64_t)(PROOF_LINE - 1);

	(void)reg;
	if (cp->crn == 7 && cp->op1 == 3 && cp->crm == 5 && cp->op2 == 1 && va >= PROOF_BASE &&
	    va - PROOF_BASE < PROOF_SIZE) {
		p->ic_seen++;
		p->ic_done = atomic_load(&sabotage) == RK_UCFIX_SABOTAGE_NO_IC ||
			     rk_ucfix_code_written(uc, p->mem + (va - PROOF_BASE), PROOF_LINE);
	}
	return 0;
}

/* Run the piece at off (it ends in svc #0); x0 afterwards in *x0. */
static bool proof_run(uc_engine *uc, uint64_t off, uint64_t *x0)
{
	return uc_emu_start(uc, PROOF_BASE + off, 0, 0, 0) == UC_ERR_OK &&
	       uc_reg_read(uc, UC_ARM64_REG_X0, x0) == UC_ERR_OK;
}

static void put32(uint8_t *mem, uint64_t off, const uint32_t *insn, size_t n)
{
	memcpy(mem + off, insn, n * sizeof(*insn));
}

/* 0 if the store fast path behaves as described (reason set otherwise). */
static int prove(void)
{
	const uint32_t fn[] = { A64_MOVZ_X(0, 1), A64_SVC };
	const uint32_t wr[] = { A64_STR_W(2, 1), A64_SVC };
	const uint32_t ic[] = { A64_IC_IVAU(1), A64_DSB_ISH, A64_ISB, A64_SVC };
	struct proof p = { 0 };
	uint64_t x0 = 0, x1 = PROOF_BASE + PROOF_FN, x2 = A64_MOVZ_X(0, 2);
	uc_engine *uc = NULL;
	uc_hook h;
	int rc = -ENOTSUP;

	p.mem = mmap(NULL, PROOF_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p.mem == MAP_FAILED) {
		set_reason("no memory for the proof");
		return -ENOMEM;
	}
	put32(p.mem, PROOF_FN, fn, 2);
	put32(p.mem, PROOF_WRITE, wr, 2);
	put32(p.mem, PROOF_IC, ic, 4);
	if (uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &uc) != UC_ERR_OK) {
		uc = NULL;
		set_reason("the proof's engine did not open");
		goto out;
	}
	if (uc_ctl_exits_enable(uc) != UC_ERR_OK ||
	    uc_mem_map_ptr(uc, PROOF_BASE, PROOF_SIZE, UC_PROT_ALL, p.mem) != UC_ERR_OK ||
	    uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)proof_intr, &p, 1, 0) != UC_ERR_OK ||
	    uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)proof_sys, &p, 1, 0, UC_ARM64_INS_SYS) != UC_ERR_OK ||
	    uc_reg_write(uc, UC_ARM64_REG_X1, &x1) != UC_ERR_OK ||
	    uc_reg_write(uc, UC_ARM64_REG_X2, &x2) != UC_ERR_OK) {
		set_reason("the proof's engine could not be set up");
		goto out;
	}
	if (!proof_run(uc, PROOF_FN, &x0) || x0 != 1) {
		set_reason("proof: the test function did not run");
		goto out;
	}
	if (!proof_run(uc, PROOF_WRITE, &x0) || !proof_run(uc, PROOF_FN, &x0) || x0 != 1) {
		set_reason(
			"proof: a store still invalidates the code it overwrites (the patch had no effect)");
		goto out;
	}
	if (!proof_run(uc, PROOF_IC, &x0) || p.ic_seen != 1 || !p.ic_done || !proof_run(uc, PROOF_FN, &x0) ||
	    x0 != 2) {
		set_reason("proof: IC IVAU did not invalidate the rewritten code");
		goto out;
	}
	rc = 0;
out:
	if (uc)
		uc_close(uc);
	munmap(p.mem, PROOF_SIZE);
	return rc;
}

static void decide(void)
{
	const char *env = getenv(RK_UCFIX_ENV);
	unsigned major = 0, minor = 0;
	uint8_t *at;
	int rc;

	if (env && !strcmp(env, "0")) {
		set_reason("%s=0: Unicorn's own store path", RK_UCFIX_ENV);
		atomic_store(&state, RK_UCFIX_SLOW);
		return;
	}
	if (env && *env && strcmp(env, "1"))
		fprintf(stderr, "realmkit: %s=%s is neither 0 nor 1: fast stores\n", RK_UCFIX_ENV, env);
	uc_version(&major, &minor);
	if (major != 2 || minor != 0) {
		/* 2.1 and later do not mark every page (and are not what this patch knows) */
		set_reason("Unicorn %u.%u: its own store path", major, minor);
		atomic_store(&state, RK_UCFIX_SLOW);
		return;
	}
	ram_from_host = (ram_from_host_fn)dlsym(RTLD_DEFAULT, RK_UCFIX_RAM_FN);
	inval_range = (inval_range_fn)dlsym(RTLD_DEFAULT, RK_UCFIX_INVAL_FN);
	at = find_site();
	if (!ram_from_host || !inval_range) {
		set_reason("%s is missing", !ram_from_host ? RK_UCFIX_RAM_FN : RK_UCFIX_INVAL_FN);
		at = NULL;
	}
	rc = !at ? -ENOENT : atomic_load(&sabotage) == RK_UCFIX_SABOTAGE_NO_PATCH ? 0 : poke(at, 0);
	if (at && rc) {
		set_reason("libunicorn's text cannot be written (%s)", strerror(-rc));
		at = NULL;
	}
	if (at) {
		atomic_store(&proving, true);
		rc = prove();
		atomic_store(&proving, false);
		if (!rc) {
			set_reason("Unicorn 2.0's TLB_NOTDIRTY patched out (through %s) and proven",
				   poked_by);
			atomic_store(&state, RK_UCFIX_FAST);
			return;
		}
		if (poke(at, 1))
			fprintf(stderr, "realmkit: could not restore libunicorn's byte at %p\n", (void *)at);
	}
	atomic_store(&state, RK_UCFIX_SLOW);
	fprintf(stderr,
		"realmkit: guest stores stay on Unicorn 2.0's slow path (%s); a Linux boot takes ~3x "
		"longer (%s=0 silences this)\n",
		reason, RK_UCFIX_ENV);
}

void rk_ucfix_init(void)
{
	pthread_once(&once, decide);
}

enum rk_ucfix_state rk_ucfix_state(void)
{
	return (enum rk_ucfix_state)atomic_load_explicit(&state, memory_order_acquire);
}

const char *rk_ucfix_reason(void)
{
	return rk_ucfix_state() == RK_UCFIX_UNDECIDED ? "not decided yet" : reason;
}
