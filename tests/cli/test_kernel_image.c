/* SPDX-License-Identifier: MIT */
/*
 * The CLI's Linux arm64 kernel loader (tools/kernel.c), on crafted Images in
 * memfds: the header (booting.rst) parsed field by field and every refusal
 * (short, bad magic, big-endian, 16 KiB pages, image_size 0 or smaller than
 * the Image, text_offset not 4 KiB aligned); placement (RAM base +
 * text_offset, image_size reserved, entry there); gzip (one and two members,
 * zero padding) and zstd (one and two frames) give the raw Image's bytes; a
 * decompression larger than RAM, a kernel larger than RAM, a truncated
 * stream are refused with nothing held; the initrd goes after the kernel's
 * image_size region, 4 KiB aligned, after the device tree's block when it
 * would overlap it, and is refused when it does not fit. The loaders' buffers
 * (image_buf_alloc) are zeroed, 2 MiB aligned, trimmed and freed to the page.
 */
// test-sources: tools/image.c tools/kernel.c
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "kernel.h"
#include "rk_test.h"

#define MIB (1ULL << 20)
#define BASE 0x80000000ULL
#define LEN 0x3000u /* the crafted Image's length */

static void put(uint8_t *b, size_t off, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

/* A LEN-byte Image: header fields as given, then a recognisable pattern. */
static uint8_t *mk_image(uint64_t text_offset, uint64_t image_size, uint64_t flags)
{
	uint8_t *b = calloc(1, LEN);

	assert_non_null(b);
	put(b, 0, 0x14000010, 4); /* b 0x40 */
	put(b, 8, text_offset, 8);
	put(b, 16, image_size, 8);
	put(b, 24, flags, 8);
	put(b, 56, KERNEL_MAGIC, 4);
	for (size_t i = 64; i < LEN; i++)
		b[i] = (uint8_t)(i * 7 + 3);
	return b;
}

static int memfd_with(const void *data, size_t len)
{
	int fd = memfd_create("kernel", 0);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, data, len, 0), (ssize_t)len);
	return fd;
}

static int load(const void *data, size_t len, uint64_t ram, struct image *img, char *err)
{
	int fd = memfd_with(data, len), ret;

	ret = kernel_load_fd(fd, BASE, ram, img, err, IMAGE_ERR_LEN);
	close(fd);
	if (ret) {
		assert_int_equal(img->nloads, 0); /* a refusal holds nothing */
		assert_true(err[0]);
	}
	return ret;
}

static size_t gz(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	z_stream zs;

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (uint8_t *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	deflateEnd(&zs);
	return zs.total_out;
}

static void test_header(void **state)
{
	struct kernel_header h;
	char err[IMAGE_ERR_LEN];
	uint8_t *b = mk_image(0x80000, 0x10000, 0xa);

	(void)state;
	assert_int_equal(kernel_parse_header(b, LEN, LEN, &h, err, sizeof(err)), 0);
	assert_int_equal(h.text_offset, 0x80000);
	assert_int_equal(h.image_size, 0x10000);
	assert_int_equal(h.flags, 0xa);
	assert_false(h.pe);
	b[0] = 'M';
	b[1] = 'Z';
	assert_int_equal(kernel_parse_header(b, LEN, LEN, &h, err, sizeof(err)), 0);
	assert_true(h.pe);
	put(b, 24, 0, 8); /* page size unspecified */
	assert_int_equal(kernel_parse_header(b, LEN, LEN, &h, err, sizeof(err)), 0);
	put(b, 24, 0xe, 8); /* 64 KiB pages */
	assert_int_equal(kernel_parse_header(b, LEN, LEN, &h, err, sizeof(err)), 0);

	assert_int_equal(kernel_parse_header(b, 63, 63, &h, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "truncated Linux arm64 Image (63 bytes"));
	put(b, 24, 0xb, 8);
	assert_int_equal(kernel_parse_header(b, LEN, LEN, &h, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "big-endian"));
	put(b, 24, 0xc, 8);
	assert_int_equal(kernel_parse_header(b, LEN, LEN, &h, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "16 KiB pages"));
	put(b, 24, 0xa, 8);
	put(b, 16, 0, 8);
	assert_int_equal(kernel_parse_header(b, LEN, LEN, &h, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "image_size is 0"));
	put(b, 16, LEN - 1, 8);
	assert_int_equal(kernel_parse_header(b, LEN, LEN, &h, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "smaller than the Image"));
	put(b, 16, LEN, 8);
	assert_int_equal(kernel_parse_header(b, LEN, LEN, &h, err, sizeof(err)), 0);
	put(b, 8, 0x80800, 8);
	assert_int_equal(kernel_parse_header(b, LEN, LEN, &h, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not 4 KiB aligned"));
	put(b, 8, 0, 8);
	put(b, 56, 0x644d5240, 4);
	assert_int_equal(kernel_parse_header(b, LEN, LEN, &h, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no magic 0x644d5241"));
	free(b);
}

static void test_placement(void **state)
{
	struct image img;
	char err[IMAGE_ERR_LEN];
	uint8_t *b = mk_image(0x80000, 0x100000, 0xa);

	(void)state;
	assert_int_equal(load(b, LEN, 16 * MIB, &img, err), 0);
	assert_int_equal(img.format, IMAGE_LINUX);
	assert_int_equal(img.compression, KERNEL_RAW);
	assert_int_equal(img.nloads, 1);
	assert_int_equal(img.loads[0].addr, BASE + 0x80000);
	assert_int_equal(img.loads[0].len, LEN);
	assert_memory_equal(img.loads[0].data, b, LEN);
	assert_int_equal(img.entry, BASE + 0x80000);
	assert_int_equal(img.reserve, 0x100000);
	image_free(&img);

	/* text_offset + image_size must fit in RAM: exactly, then one page more */
	put(b, 8, 0, 8);
	put(b, 16, 2 * MIB, 8);
	assert_int_equal(load(b, LEN, 2 * MIB, &img, err), 0);
	image_free(&img);
	put(b, 16, 2 * MIB + 4096, 8);
	assert_int_equal(load(b, LEN, 2 * MIB, &img, err), -EINVAL);
	assert_non_null(strstr(err, "guest RAM is 2 MiB"));
	put(b, 8, 0x7ffffffffffff000ULL, 8);
	assert_int_equal(load(b, LEN, 2 * MIB, &img, err), -EINVAL);
	/* a kernel file larger than RAM is refused before it is read */
	put(b, 8, 0, 8);
	put(b, 16, LEN, 8);
	assert_int_equal(load(b, LEN, 4096, &img, err), -EINVAL);
	/* the RAM base must be 2 MiB aligned */
	{
		int fd = memfd_with(b, LEN);

		assert_int_equal(kernel_load_fd(fd, BASE + 4096, 16 * MIB, &img, err, sizeof(err)), -EINVAL);
		close(fd);
	}
	free(b);
}

static void test_gzip(void **state)
{
	static uint8_t z[2 * LEN + 1024];
	struct image img;
	char err[IMAGE_ERR_LEN];
	uint8_t *b = mk_image(0, 0x10000, 0xa);
	size_t n = gz(b, LEN, z, sizeof(z)), n2;

	(void)state;
	assert_int_equal(load(z, n, 16 * MIB, &img, err), 0);
	assert_int_equal(img.compression, KERNEL_GZIP);
	assert_int_equal(img.loads[0].len, LEN);
	assert_memory_equal(img.loads[0].data, b, LEN);
	image_free(&img);
	/* zero padding after the stream */
	memset(z + n, 0, 300);
	assert_int_equal(load(z, n + 300, 16 * MIB, &img, err), 0);
	image_free(&img);
	/* two members: the halves concatenated */
	n = gz(b, LEN / 2, z, sizeof(z));
	n2 = gz(b + LEN / 2, LEN - LEN / 2, z + n, sizeof(z) - n);
	assert_int_equal(load(z, n + n2, 16 * MIB, &img, err), 0);
	assert_int_equal(img.loads[0].len, LEN);
	assert_memory_equal(img.loads[0].data, b, LEN);
	image_free(&img);
	/* truncated, then more than RAM once inflated */
	n = gz(b, LEN, z, sizeof(z));
	assert_int_equal(load(z, n - 10, 16 * MIB, &img, err), -EINVAL);
	assert_non_null(strstr(err, "truncated gzip stream"));
	assert_int_equal(load(z, n, 8192, &img, err), -EINVAL);
	assert_non_null(strstr(err, "decompresses to more than guest RAM (8 KiB)"));
	free(b);
}

static void test_zstd(void **state)
{
	static uint8_t z[2 * LEN + 1024];
	struct image img;
	char err[IMAGE_ERR_LEN];
	uint8_t *b = mk_image(0, 0x10000, 0xa);
	size_t n = ZSTD_compress(z, sizeof(z), b, LEN, 19), n2;

	(void)state;
	assert_false(ZSTD_isError(n));
	assert_int_equal(load(z, n, 16 * MIB, &img, err), 0);
	assert_int_equal(img.compression, KERNEL_ZSTD);
	assert_int_equal(img.loads[0].len, LEN);
	assert_memory_equal(img.loads[0].data, b, LEN);
	image_free(&img);
	/* two frames */
	n = ZSTD_compress(z, sizeof(z), b, LEN / 2, 3);
	n2 = ZSTD_compress(z + n, sizeof(z) - n, b + LEN / 2, LEN - LEN / 2, 3);
	assert_false(ZSTD_isError(n) || ZSTD_isError(n2));
	assert_int_equal(load(z, n + n2, 16 * MIB, &img, err), 0);
	assert_memory_equal(img.loads[0].data, b, LEN);
	image_free(&img);
	n = ZSTD_compress(z, sizeof(z), b, LEN, 19);
	assert_int_equal(load(z, n - 3, 16 * MIB, &img, err), -EINVAL);
	assert_non_null(strstr(err, "truncated zstd stream"));
	assert_int_equal(load(z, n, 8192, &img, err), -EINVAL);
	assert_non_null(strstr(err, "more than guest RAM"));
	free(b);
}

static void test_initrd_place(void **state)
{
	const uint64_t ram = 64 * MIB, dtb = BASE + 62 * MIB, blk = 2 * MIB;
	char err[IMAGE_ERR_LEN];
	uint64_t ipa = 0;

	(void)state;
	/* after the kernel's image_size region, 4 KiB aligned */
	assert_int_equal(
		kernel_place_initrd(BASE, ram, BASE + 0x28d0010, dtb, blk, MIB, &ipa, err, sizeof(err)), 0);
	assert_int_equal(ipa, BASE + 0x28d1000);
	assert_int_equal(
		kernel_place_initrd(BASE, ram, BASE + 0x28d0000, dtb, blk, MIB, &ipa, err, sizeof(err)), 0);
	assert_int_equal(ipa, BASE + 0x28d0000);
	/* ending exactly at the tree: before it; one byte more: after its block */
	assert_int_equal(
		kernel_place_initrd(BASE, ram, BASE + MIB, dtb, blk, 61 * MIB, &ipa, err, sizeof(err)), 0);
	assert_int_equal(ipa, BASE + MIB);
	assert_int_equal(kernel_place_initrd(BASE, 128 * MIB, BASE + MIB, dtb, blk, 61 * MIB + 1, &ipa, err,
					     sizeof(err)),
			 0);
	assert_int_equal(ipa, dtb + blk);
	/* no room: neither before the tree nor after it */
	assert_int_equal(
		kernel_place_initrd(BASE, ram, BASE + MIB, dtb, blk, 61 * MIB + 1, &ipa, err, sizeof(err)),
		-ENOSPC);
	assert_non_null(strstr(err, "does not fit in guest RAM"));
	assert_int_equal(kernel_place_initrd(BASE, ram, BASE + ram, dtb, blk, 1, &ipa, err, sizeof(err)),
			 -ENOSPC);
}

static void test_read_initrd(void **state)
{
	char path[] = "/tmp/rk-initrd-XXXXXX", err[IMAGE_ERR_LEN];
	uint8_t *data = NULL, buf[5000];
	uint64_t len = 0;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(fd);
	assert_int_equal(kernel_read_initrd(path, 8192, &data, &len, err, sizeof(err)), 0);
	assert_int_equal(len, sizeof(buf));
	assert_memory_equal(data, buf, sizeof(buf));
	image_buf_free(data, len);
	assert_int_equal(kernel_read_initrd(path, 4096, &data, &len, err, sizeof(err)), -EINVAL);
	assert_null(data);
	assert_non_null(strstr(err, "guest RAM is 4 KiB"));
	unlink(path);
	assert_int_equal(kernel_read_initrd(path, 8192, &data, &len, err, sizeof(err)), -ENOENT);
	assert_int_equal(kernel_read_initrd("/tmp", 8192, &data, &len, err, sizeof(err)), -EISDIR);
}

/* a page's mapping, seen through msync: 0 mapped, -1 (ENOMEM) not */
static int mapped(const uint8_t *p)
{
	return msync((void *)p, 4096, MS_ASYNC) ? -errno : 0;
}

static void test_image_buf(void **state)
{
	uint64_t len = 5 * MIB + 1;
	uint8_t *p = image_buf_alloc(len);

	(void)state;
	assert_null(image_buf_alloc(0));
	assert_non_null(p);
	assert_int_equal((uintptr_t)p & (2 * MIB - 1), 0); /* 2 MiB aligned: huge pages can back it */
	assert_int_equal(p[0] | p[MIB] | p[len - 1], 0);   /* zeroed */
	p[0] = p[len - 1] = 0xa5;
	assert_int_equal(mapped(p + len - 1 - ((len - 1) & 4095)), 0);
	assert_int_equal(mapped(p + ((len + 4095) & ~4095ULL)), -ENOMEM); /* nothing past its last page */
	image_buf_trim(p, len, 4097);                                     /* keeps two pages */
	assert_int_equal(mapped(p), 0);
	assert_int_equal(mapped(p + 4096), 0);
	assert_int_equal(mapped(p + 8192), -ENOMEM);
	assert_int_equal(p[0], 0xa5);
	image_buf_free(p, 4097);
	assert_int_equal(mapped(p), -ENOMEM);
	assert_int_equal(mapped(p + 4096), -ENOMEM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),       cmocka_unit_test(test_placement),
		cmocka_unit_test(test_gzip),         cmocka_unit_test(test_zstd),
		cmocka_unit_test(test_initrd_place), cmocka_unit_test(test_read_initrd),
		cmocka_unit_test(test_image_buf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
