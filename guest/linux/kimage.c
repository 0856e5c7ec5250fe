/* SPDX-License-Identifier: MIT */
/*
 * kimage: a realm payload that is a Linux arm64 Image (head.S puts the header
 * in front of it), for `realmkit run --kernel` (tests/cli/test_cli_kernel.sh).
 * It prints what the boot protocol gave it: the PC it was entered at, x0..x3,
 * the device tree at x0 (magic, size, /chosen bootargs and
 * linux,initrd-start/end), the initrd's length and FNV-1a hash, the debug
 * breakpoints and watchpoints it is told of (each one's last register written,
 * as Linux does at boot), and the RIM (RSI_MEASUREMENT_READ). Then it plays the
 * kit's /init (scripts/linux-guest-init.sh) for `realmkit run --kernel ... --
 * COMMAND` (tests/cli/test_cli_kernel.sh): with rk.challenge=HEX before " -- "
 * on the command line, an attestation token for it (RSI) as "RK-GUEST: token"
 * lines; then, with a " -- ", "RK-GUEST: ready" and for the command after it:
 *   exit N        "RK-GUEST: exit N"
 *   panic         no status line (as a kernel panic)
 *   hang          spins (until the host's timeout)
 *   badtoken      (with a challenge) the token's length line is wrong
 *   notoken       (with a challenge) no token
 *   spoof         prints "RK-GUEST: exit 7" itself, then the real "exit 0"
 *   anything else "RK-GUEST: exit 0"
 * then SYSTEM_OFF.
 */
#include "sdk.h"

extern uint64_t kimage_boot[5];

#define FDT_MAGIC 0xd00dfeedu
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE 2u
#define FDT_PROP 3u
#define FDT_NOP 4u
#define FDT_END 9u

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* Walk the tree's structure block: print /chosen's properties, return its initrd range. */
static const char *bootargs;

static bool walk_chosen(const uint8_t *fdt, uint64_t *start, uint64_t *end)
{
	uint32_t size = be32(fdt + 4), off = be32(fdt + 8), strings = be32(fdt + 12), depth = 0;
	bool chosen = false, s = false, e = false;

	while (off + 4 <= size) {
		uint32_t tok = be32(fdt + off);

		off += 4;
		if (tok == FDT_BEGIN_NODE) {
			const char *name = (const char *)fdt + off;

			depth++;
			if (depth == 2)
				chosen = str_eq(name, "chosen");
			off += ((uint32_t)strlen(name) + 1 + 3) & ~3u;
		} else if (tok == FDT_END_NODE) {
			if (depth == 2)
				chosen = false;
			depth--;
		} else if (tok == FDT_PROP) {
			uint32_t len = be32(fdt + off);
			const char *name = (const char *)fdt + strings + be32(fdt + off + 4);
			const uint8_t *val = fdt + off + 8;

			if (chosen && depth == 2 && str_eq(name, "bootargs")) {
				bootargs = (const char *)val;
				rk_printf("kimage: bootargs \"%s\"\n", (const char *)val);
			} else if (chosen && depth == 2 && len == 8 && str_eq(name, "linux,initrd-start")) {
				*start = be64(val);
				s = true;
				rk_printf("kimage: initrd-start 0x%lx\n", *start);
			} else if (chosen && depth == 2 && len == 8 && str_eq(name, "linux,initrd-end")) {
				*end = be64(val);
				e = true;
				rk_printf("kimage: initrd-end 0x%lx\n", *end);
			}
			off += 8 + ((len + 3) & ~3u);
		} else if (tok != FDT_NOP) {
			break; /* FDT_END, or not a tree */
		}
	}
	return s && e;
}

/* one case of a switch over the register number: write the control register (0: disabled) */
#define BCR(n)                                                              \
	case n:                                                             \
		__asm__ volatile("msr dbgbcr" #n "_el1, xzr" ::: "memory"); \
		break
#define WCR(n)                                                              \
	case n:                                                             \
		__asm__ volatile("msr dbgwcr" #n "_el1, xzr" ::: "memory"); \
		break

/*
 * The breakpoints and watchpoints ID_AA64DFR0_EL1 advertises (BRPs, WRPs: count - 1), as
 * Linux's hw_breakpoint_reset() uses them: the last control register of each is written
 * (disabled). One the vCPU does not have is an UNDEF (the SDK reports it and switches off).
 */
static void debug_regs(void)
{
	uint64_t dfr0;
	unsigned int brps, wrps;

	__asm__ volatile("mrs %0, id_aa64dfr0_el1" : "=r"(dfr0));
	brps = (dfr0 >> 12) & 0xf;
	wrps = (dfr0 >> 20) & 0xf;
	switch (brps) {
		BCR(0);
		BCR(1);
		BCR(2);
		BCR(3);
		BCR(4);
		BCR(5);
		BCR(6);
		BCR(7);
		BCR(8);
		BCR(9);
		BCR(10);
		BCR(11);
		BCR(12);
		BCR(13);
		BCR(14);
		BCR(15);
	}
	switch (wrps) {
		WCR(0);
		WCR(1);
		WCR(2);
		WCR(3);
		WCR(4);
		WCR(5);
		WCR(6);
		WCR(7);
		WCR(8);
		WCR(9);
		WCR(10);
		WCR(11);
		WCR(12);
		WCR(13);
		WCR(14);
		WCR(15);
	}
	rk_printf("kimage: %u breakpoints, %u watchpoints: the last of each written\n", brps + 1, wrps + 1);
}

/* The first occurrence of n in h, or NULL. */
static const char *find(const char *h, const char *n)
{
	size_t ln = strlen(n);

	for (; *h; h++)
		if (!memcmp(h, n, ln))
			return h;
	return NULL;
}

static bool starts(const char *s, const char *p)
{
	return !memcmp(s, p, strlen(p));
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

#define TOKEN_CAP (4 * RSI_GRANULE_SIZE)
static uint8_t token[TOKEN_CAP] __attribute__((aligned(4096)));

/* rk.challenge=HEX (before cmd, if any): the token as the kit's /init prints it. */
static void attest(const char *cmd, bool bad_len)
{
	const char *p = find(bootargs, "rk.challenge=");
	uint8_t challenge[RSI_CHALLENGE_SIZE];
	size_t len = 0;
	uint64_t ret;

	if (!p || (cmd && p > cmd))
		return;
	p += 13;
	for (unsigned int i = 0; i < RSI_CHALLENGE_SIZE; i++) {
		int hi = hexval(p[2 * i]), lo = hi < 0 ? -1 : hexval(p[2 * i + 1]);

		if (lo < 0) {
			rk_puts("RK-GUEST: token-error rk.challenge is not 128 hex digits\n");
			return;
		}
		challenge[i] = (uint8_t)(hi << 4 | lo);
	}
	ret = rsi_attest_token(challenge, token, TOKEN_CAP, &len);
	if (ret != RSI_SUCCESS) {
		rk_printf("RK-GUEST: token-error RSI status %lu\n", ret);
		return;
	}
	rk_puts("RK-GUEST: token-begin\n");
	for (size_t i = 0; i < len; i += 16) {
		rk_puts("RK-GUEST: token ");
		rk_print_hex(token + i, len - i < 16 ? len - i : 16);
		rk_puts("\n");
	}
	rk_printf("RK-GUEST: token-end %lu\n", (uint64_t)(bad_len ? len + 1 : len));
}

/* The kit's /init, for the command after " -- " (see the top). */
static void init(void)
{
	const char *cmd = bootargs ? find(bootargs, " -- ") : NULL;
	unsigned int n = 0;

	if (!bootargs)
		return;
	if (!cmd && starts(bootargs, "-- "))
		cmd = bootargs - 1;
	if (cmd)
		cmd += 4;
	if (!cmd || !starts(cmd, "notoken"))
		attest(cmd, cmd && starts(cmd, "badtoken"));
	if (!cmd)
		return;
	rk_puts("RK-GUEST: ready\n");
	if (starts(cmd, "panic"))
		return;
	if (starts(cmd, "hang"))
		for (;;)
			__asm__ volatile("wfe");
	if (starts(cmd, "spoof"))
		rk_puts("RK-GUEST: exit 7\n");
	if (starts(cmd, "exit "))
		for (const char *d = cmd + 5; *d >= '0' && *d <= '9'; d++)
			n = n * 10 + (unsigned int)(*d - '0');
	rk_printf("RK-GUEST: exit %u\n", n);
}

int main(void)
{
	const uint8_t *fdt = (const uint8_t *)kimage_boot[0];
	uint8_t rim[RSI_MEASUREMENT_MAX];
	uint64_t start = 0, end = 0, ret;
	size_t len = RSI_MEASUREMENT_MAX;

	rk_printf("kimage: entered at 0x%lx, x0 0x%lx x1 0x%lx x2 0x%lx x3 0x%lx\n", kimage_boot[4],
		  kimage_boot[0], kimage_boot[1], kimage_boot[2], kimage_boot[3]);
	if (!fdt || be32(fdt) != FDT_MAGIC) {
		rk_printf("kimage: no device tree at x0\n");
	} else {
		rk_printf("kimage: device tree magic ok, %u bytes\n", be32(fdt + 4));
		if (walk_chosen(fdt, &start, &end) && end > start) {
			const uint8_t *p = (const uint8_t *)start;
			uint32_t h = 2166136261u; /* FNV-1a, 32-bit */

			for (uint64_t i = 0; i < end - start; i++)
				h = (h ^ p[i]) * 16777619u;
			rk_printf("kimage: initrd %lu bytes, fnv1a 0x%08x\n", end - start, h);
		}
	}
	debug_regs();
	ret = rsi_measurement_read(0, rim);
	if (ret != RSI_SUCCESS) {
		rk_printf("kimage: RSI_MEASUREMENT_READ failed: %lu\n", ret);
	} else {
		bool upper_zero = true;

		for (size_t i = 32; i < RSI_MEASUREMENT_MAX; i++)
			upper_zero = upper_zero && rim[i] == 0;
		if (upper_zero)
			len = 32;
		rk_puts("RIM: ");
		rk_print_hex(rim, len);
		rk_puts("\n");
	}
	init();
	return 0; /* -> PSCI SYSTEM_OFF */
}
