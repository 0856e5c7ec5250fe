/* SPDX-License-Identifier: MIT */
/*
 * The Linux arm64 boot protocol for the CLI (`run --kernel`, `measure --kernel`),
 * Documentation/arch/arm64/booting.rst: a kernel Image (raw, gzip, zstd, the
 * signed PE/EFI-stub Image Debian ships, or an EFI zboot image wrapping a gzip
 * or zstd Image) becomes one load of a struct image (image.h, format
 * IMAGE_LINUX) at a 2 MiB aligned base + text_offset, entered at its first byte,
 * with image_size bytes reserved for it (img->reserve); an initrd is read and
 * placed after that region. Decompression: zlib and libzstd (Debian's).
 *
 * Refusals are one sentence in the caller's error buffer, as image.h's.
 */
#ifndef RK_TOOLS_KERNEL_H
#define RK_TOOLS_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image.h"

#define KERNEL_HEADER_SIZE 64u
#define KERNEL_MAGIC 0x644d5241u /* "ARM\x64" at offset 56 */
#define KERNEL_ALIGN (2u << 20)  /* the Image goes text_offset bytes above a 2 MiB aligned base */

/* The Image header's flags (booting.rst) */
#define KERNEL_FLAG_BE (1u << 0)        /* big-endian kernel */
#define KERNEL_FLAG_PAGE_SHIFT 1        /* bits 1-2: page size */
#define KERNEL_FLAG_PAGE_MASK (3u << 1) /* 0 unspecified, 1 4 KiB, 2 16 KiB, 3 64 KiB */
#define KERNEL_FLAG_PHYS_ANY (1u << 3)  /* may be placed anywhere in RAM (else near its base) */

enum kernel_compression {
	KERNEL_RAW,
	KERNEL_GZIP,
	KERNEL_ZSTD,
};

/* What the 64-byte header says. */
struct kernel_header {
	uint64_t text_offset, image_size, flags;
	bool pe; /* "MZ" at offset 0: an EFI stub (PE/COFF) Image, bootable as a raw one */
};

/*
 * Parse an Image header (len bytes of it; at least KERNEL_HEADER_SIZE): 0, or
 * -EINVAL with why (short, bad magic, big-endian, a page size the vCPU does
 * not have, image_size 0 or smaller than the Image, text_offset not 4 KiB
 * aligned). image_len is the Image's length (the decompressed one).
 */
int kernel_parse_header(const uint8_t *buf, size_t len, uint64_t image_len, struct kernel_header *h,
			char *err, size_t err_len);

/*
 * Load the kernel in path (or fd) for guest RAM [ram_base, ram_base + ram_size)
 * (ram_base 2 MiB aligned): img->format IMAGE_LINUX, one load at ram_base +
 * text_offset with the Image's bytes (decompressed), entry there, img->reserve
 * = image_size, img->compression. 0, or -errno with why (-EINVAL: unusable).
 */
int kernel_load_file(const char *path, uint64_t ram_base, uint64_t ram_size, struct image *img, char *err,
		     size_t err_len);
int kernel_load_fd(int fd, uint64_t ram_base, uint64_t ram_size, struct image *img, char *err,
		   size_t err_len);

/* "raw", "gzip", "zstd" */
const char *kernel_compression_name(uint32_t c);

/*
 * Read an initrd of at most max bytes whole: 0 (*data from image_buf_alloc(), free it
 * with image_buf_free(*data, *len); *len > 0), or -errno with why.
 */
int kernel_read_initrd(const char *path, uint64_t max, uint8_t **data, uint64_t *len, char *err,
		       size_t err_len);

/*
 * Where an initrd of len bytes goes in RAM [ram_base, ram_base + ram_size):
 * the first 4 KiB aligned address at or after kernel_end (the end of the
 * kernel's image_size region) where it does not overlap [dtb_ipa, dtb_ipa +
 * dtb_size) (else just after that), inside RAM. 0 and *ipa, or -ENOSPC with
 * why in err.
 */
int kernel_place_initrd(uint64_t ram_base, uint64_t ram_size, uint64_t kernel_end, uint64_t dtb_ipa,
			uint64_t dtb_size, uint64_t len, uint64_t *ipa, char *err, size_t err_len);

#endif
