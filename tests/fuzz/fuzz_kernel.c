/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the CLI's Linux kernel loader (tools/kernel.c): each
 * input is a kernel file (a raw arm64 Image, gzip, zstd, an EFI zboot image,
 * or anything else), put in a memfd and loaded with kernel_load_fd() for
 * 16 MiB of guest RAM at 0x80000000, as `realmkit run --kernel` loads it. A
 * load must succeed with its one load inside RAM, entered at its start, with
 * image_size covering it (checked here), or fail with a message holding
 * nothing; never crash, leak or read out of bounds. RK_FUZZ_SEED_DIR=dir
 * writes the seeds (a raw Image, the same gzip- and zstd-compressed) and exits.
 */
// fuzz-sources: tools/image.c tools/kernel.c
// fuzz-options: -max_len=65536
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "../../tools/kernel.h"

#define RAM_BASE 0x80000000ULL
#define RAM_SIZE (16ULL << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static int fd = -1;

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
	static uint8_t b[4096], z[8192];
	uLongf zn = sizeof(z);
	size_t n;

	(void)argc;
	(void)argv;
	if (!dir || !*dir)
		return 0;
	/* b 0x40; text_offset 0x80000, image_size 0x10000, flags 0xa; the magic; code */
	memcpy(b, "\x10\x00\x00\x14", 4);
	b[10] = 0x08;
	b[18] = 0x01;
	b[24] = 0x0a;
	memcpy(b + 56, "ARMd", 4);
	memcpy(b + 64, "\x03\x00\x00\xd4", 4); /* smc #0 */
	write_seed(dir, "raw", b, sizeof(b));
	n = ZSTD_compress(z, sizeof(z), b, sizeof(b), 3);
	if (ZSTD_isError(n))
		abort();
	write_seed(dir, "zstd", z, n);
	{
		z_stream zs;

		memset(&zs, 0, sizeof(zs));
		if (deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			abort();
		zs.next_in = b;
		zs.avail_in = sizeof(b);
		zs.next_out = z;
		zs.avail_out = (uInt)zn;
		if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
			abort();
		write_seed(dir, "gzip", z, zs.total_out);
		deflateEnd(&zs);
	}
	exit(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[IMAGE_ERR_LEN];
	struct image img;
	const struct image_load *l;
	volatile uint8_t sum = 0;
	int ret;

	if (fd < 0 && (fd = memfd_create("fuzz_kernel", 0)) < 0)
		abort();
	if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	ret = kernel_load_fd(fd, RAM_BASE, RAM_SIZE, &img, err, sizeof(err));
	if (ret) {
		if (!err[0] || img.nloads) /* a refusal always says why, and holds nothing */
			abort();
		return 0;
	}
	l = &img.loads[0];
	if (img.nloads != 1 || img.format != IMAGE_LINUX || img.entry != l->addr || !l->len ||
	    img.reserve < l->len || l->addr < RAM_BASE || (l->addr & 4095) || img.reserve > RAM_SIZE ||
	    l->addr - RAM_BASE > RAM_SIZE - img.reserve)
		abort();
	for (uint64_t j = 0; j < l->len; j += 4096)
		sum ^= l->data[j]; /* the bytes are there (ASan checks) */
	sum ^= l->data[l->len - 1];
	(void)sum;
	image_free(&img);
	return 0;
}
