/* SPDX-License-Identifier: MIT */
/*
 * Guest image loading for the CLI (`run`, `measure`, `bench`): an image file
 * becomes a list of loads (guest address + bytes) validated against the guest
 * RAM window [ram_base, ram_base + ram_size), and an entry point.
 *
 * Formats: an AArch64 ELF64 (its PT_LOAD segments, read with libelf) and a
 * flat image (loaded at ram_base, entered at its first byte). A format is
 * recognised by its first bytes. A Linux arm64 Image is loaded by
 * tools/kernel.c (`--kernel`: the boot protocol places it) into the same
 * struct image, format IMAGE_LINUX.
 *
 * Every refusal is one precise sentence in the caller's error buffer (no
 * prefix, no path): "truncated ELF (segment 2 ends at 0x2000 past the file end
 * 0x1800)", "segment 0 [0x0,0x1000) is outside guest RAM [0x80000000,0x81000000)",
 * "flat image is 3 GiB, guest RAM is 16 MiB". Sizes are checked before
 * anything is read (fstat), files are read in bounded chunks (pread moves at
 * most 0x7ffff000 bytes a call on Linux), bounds checks never overflow.
 */
#ifndef RK_TOOLS_IMAGE_H
#define RK_TOOLS_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum image_format {
	IMAGE_FLAT,
	IMAGE_ELF,
	IMAGE_LINUX, /* a Linux arm64 Image (tools/kernel.c, `--kernel`) */
};

#define IMAGE_MAX_PHDRS 256u /* program headers an ELF may have */
#define IMAGE_MAX_LOADS 4u   /* loads an image may make (ELF and flat: 1) */
#define IMAGE_ERR_LEN 256u

/* A run of guest memory the image fills: [addr, addr + len) gets data. */
struct image_load {
	uint64_t addr;
	uint8_t *data;
	uint64_t len;
};

struct image {
	enum image_format format;
	uint64_t entry;
	/* The ELF defines rk_report: it tells its result with RK_HC_RESULT (guest/README.md). */
	bool reports;
	uint32_t compression; /* Linux: enum kernel_compression (kernel.h) of the file */
	/* Linux: the Image header's image_size, the RAM from loads[0].addr the kernel owns (.bss too) */
	uint64_t reserve;
	uint32_t nloads;
	/*
	 * ELF: one load from the lowest segment to the end of the highest, zero-filled
	 * between segments (what objcopy -O binary gives, so IMAGE.elf and IMAGE.bin
	 * build the same realm). Flat: the file at ram_base.
	 */
	struct image_load loads[IMAGE_MAX_LOADS];
};

/*
 * Load the image in file `path` for a guest with RAM [ram_base, ram_base + ram_size).
 * 0, or -errno with the reason in err (-EINVAL: the image is unusable; else the
 * file could not be read, err names the system error). img is freed on failure.
 */
int image_load_file(const char *path, uint64_t ram_base, uint64_t ram_size, struct image *img, char *err,
		    size_t err_len);
/* The same from an open file descriptor (read with pread: its offset is not used). */
int image_load_fd(int fd, uint64_t ram_base, uint64_t ram_size, struct image *img, char *err, size_t err_len);
void image_free(struct image *img);

/* "ELF" / "flat image" / "Linux arm64 Image" */
const char *image_format_name(enum image_format f);

/* Write the message into err (when err_len > 0) and return ret: the loaders' error exit. */
int image_fail(char *err, size_t err_len, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* n for a message: "3 GiB", "16 MiB", "12 KiB", "4097 bytes" (buf returned). */
const char *image_size_str(uint64_t n, char buf[32]);

/*
 * Memory for an image's bytes (a kernel is tens of MiB, read or decompressed
 * once, then hashed and copied granule by granule): anonymous memory, zeroed,
 * 2 MiB aligned and advised to the kernel's transparent huge pages (a 40 MiB
 * buffer in 2 MiB pages takes ~20 page faults, not ~10,000; without THP, 4 KiB
 * pages as before). Reserved with MAP_NORESERVE: untouched pages cost nothing.
 * NULL when len is 0 or there is no memory. Freed with image_buf_free() and
 * the same len; image_buf_trim() gives back all but the first keep bytes
 * (then free with keep).
 */
uint8_t *image_buf_alloc(uint64_t len);
void image_buf_trim(uint8_t *p, uint64_t len, uint64_t keep);
void image_buf_free(uint8_t *p, uint64_t len);

/* Read exactly len bytes at off (in chunks, retrying EINTR): 0, -EIO at a short file, or -errno. */
int image_pread_full(int fd, void *buf, uint64_t len, uint64_t off);

#endif
