/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the CLI's image loader (tools/image.c): each input is
 * an image file (ELF or flat), put in a memfd and loaded with image_load_fd()
 * for 16 MiB of guest RAM at 0x80000000, as `realmkit run IMAGE` loads it. A
 * load must succeed with loads inside RAM (checked here) or fail with a
 * message; never crash, leak or read out of bounds. Not part of the CMake
 * build. Build from the repository root:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *         tests/fuzz/fuzz_image.c tools/image.c $(pkg-config --cflags --libs libelf) -o fuzz_image
 *   mkdir -p corpus-image && cp build/guest/hello.elf build/guest/hello.bin corpus-image/
 *   ./fuzz_image -max_total_time=300 -max_len=65536 corpus-image
 */
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

static int fd = -1;

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

		if (!l->len || l->addr < RAM_BASE || l->len > RAM_SIZE || l->addr - RAM_BASE > RAM_SIZE - l->len)
			abort();
		for (uint64_t j = 0; j < l->len; j += 4096)
			sum ^= l->data[j]; /* the loads' bytes are there (ASan checks) */
		sum ^= l->data[l->len - 1];
	}
	image_free(&img);
	return 0;
}
