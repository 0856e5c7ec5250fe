/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the CLI's image loader (tools/image.c): each input is
 * an image file (ELF or flat), put in a memfd and loaded with image_load_fd()
 * for 16 MiB of guest RAM at 0x80000000, as `realmkit run IMAGE` loads it. A
 * load must succeed with loads inside RAM (checked here) or fail with a
 * message; never crash, leak or read out of bounds. Built and run by
 * tests/fuzz/run.sh (CMake, RK_BUILD_FUZZ); RK_FUZZ_SEED_DIR=dir writes the
 * seeds (ELF images with one and two segments, a flat image) and exits.
 */
// fuzz-sources: tools/image.c
// fuzz-options: -max_len=65536
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../tools/image.h"

#define RAM_BASE 0x80000000ULL
#define RAM_SIZE (16ULL << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static int fd = -1;

static void put(uint8_t *b, size_t off, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

/* A little-endian ELF64 AArch64 executable: nph PT_LOADs of 64 bytes each, 0x1000 apart. */
static size_t make_elf(uint8_t *b, unsigned nph)
{
	const size_t ph = 64, data = ph + 56 * nph;

	memset(b, 0, data + 64 * nph);
	memcpy(b,
	       "\x7f"
	       "ELF",
	       4);
	b[4] = 2;           /* ELFCLASS64 */
	b[5] = 1;           /* little endian */
	b[6] = 1;           /* EV_CURRENT */
	put(b, 16, 2, 2);   /* ET_EXEC */
	put(b, 18, 183, 2); /* EM_AARCH64 */
	put(b, 20, 1, 4);
	put(b, 24, RAM_BASE, 8);
	put(b, 32, ph, 8);
	put(b, 52, 64, 2);
	put(b, 54, 56, 2);
	put(b, 56, nph, 2);
	for (unsigned i = 0; i < nph; i++) {
		size_t p = ph + 56 * i;
		put(b, p, 1, 4);     /* PT_LOAD */
		put(b, p + 4, 5, 4); /* R X */
		put(b, p + 8, data + 64 * i, 8);
		put(b, p + 16, RAM_BASE + 0x1000 * i, 8);
		put(b, p + 24, RAM_BASE + 0x1000 * i, 8);
		put(b, p + 32, 64, 8);
		put(b, p + 40, 64 + 0x100 * i, 8); /* memsz > filesz: zero fill */
		put(b, p + 48, 0x1000, 8);
		memset(b + data + 64 * i, 0x14 + (int)i, 64);
	}
	return data + 64 * nph;
}

static void write_seed(const char *dir, const char *name, const uint8_t *b, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(b, 1, n, f) != n)
		abort();
	fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("RK_FUZZ_SEED_DIR");
	static uint8_t b[1024];

	(void)argc;
	(void)argv;
	if (!dir || !*dir)
		return 0;
	write_seed(dir, "elf1", b, make_elf(b, 1));
	write_seed(dir, "elf2", b, make_elf(b, 2));
	memset(b, 0, 256);
	put(b, 0, 0xd4000003, 4); /* smc #0 */
	write_seed(dir, "flat", b, 256);
	exit(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[IMAGE_ERR_LEN];
	struct image img;
	int ret;

	if (fd < 0 && (fd = memfd_create("fuzz_image", 0)) < 0)
		abort();
	if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	ret = image_load_fd(fd, RAM_BASE, RAM_SIZE, &img, err, sizeof(err));
	if (ret) {
		if (!err[0] || img.nloads) /* a refusal always says why, and holds nothing */
			abort();
		return 0;
	}
	if (!img.nloads || img.entry < RAM_BASE || img.entry >= RAM_BASE + RAM_SIZE)
		abort();
	for (uint32_t i = 0; i < img.nloads; i++) {
		const struct image_load *l = &img.loads[i];
		volatile uint8_t sum = 0;

		if (!l->len || l->addr < RAM_BASE || l->len > RAM_SIZE ||
		    l->addr - RAM_BASE > RAM_SIZE - l->len)
			abort();
		for (uint64_t j = 0; j < l->len; j += 4096)
			sum ^= l->data[j]; /* the loads' bytes are there (ASan checks) */
		sum ^= l->data[l->len - 1];
		(void)sum;
	}
	image_free(&img);
	return 0;
}
