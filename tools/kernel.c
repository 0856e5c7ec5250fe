/* SPDX-License-Identifier: MIT */
/* The Linux arm64 boot protocol's loader: see kernel.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "image.h"
#include "kernel.h"

#define GRANULE 4096u
#define IN_CHUNK ((size_t)1 << 20) /* compressed input read this much at a time */
#define ZBOOT_HEADER 56u           /* EFI zboot: "MZ", "zimg", payload offset/size, comp_type[32] */

static uint64_t le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

const char *kernel_compression_name(uint32_t c)
{
	return c == KERNEL_GZIP ? "gzip" : c == KERNEL_ZSTD ? "zstd" : "raw";
}

int kernel_parse_header(const uint8_t *b, size_t len, uint64_t image_len, struct kernel_header *h, char *err,
			size_t err_len)
{
	uint32_t magic;
	unsigned int page;
	char nb[32];

	memset(h, 0, sizeof(*h));
	if (len < KERNEL_HEADER_SIZE)
		return image_fail(err, err_len, -EINVAL,
				  "truncated Linux arm64 Image (%zu bytes; its header alone is %u)", len,
				  KERNEL_HEADER_SIZE);
	magic = (uint32_t)le(b + 56, 4);
	if (magic != KERNEL_MAGIC)
		return image_fail(
			err, err_len, -EINVAL,
			"not a Linux arm64 Image: no magic 0x%08x (\"ARM\\x64\") at offset 56 (0x%08x)",
			KERNEL_MAGIC, magic);
	h->text_offset = le(b + 8, 8);
	h->image_size = le(b + 16, 8);
	h->flags = le(b + 24, 8);
	h->pe = b[0] == 'M' && b[1] == 'Z';
	if (h->flags & KERNEL_FLAG_BE)
		return image_fail(err, err_len, -EINVAL,
				  "a big-endian kernel (Image flags bit 0): realms run little-endian");
	page = (unsigned int)((h->flags & KERNEL_FLAG_PAGE_MASK) >> KERNEL_FLAG_PAGE_SHIFT);
	if (page == 2)
		return image_fail(
			err, err_len, -EINVAL,
			"a kernel built for 16 KiB pages (Image flags bits 1-2 = 2): the vCPU (Cortex-A72) "
			"has no 16 KiB translation granule; use a 4 KiB or 64 KiB page kernel");
	if (!h->image_size)
		return image_fail(
			err, err_len, -EINVAL,
			"image_size is 0 in the Image header: a kernel older than Linux 3.17, whose "
			"memory needs the header does not give");
	if (h->text_offset & (GRANULE - 1))
		return image_fail(err, err_len, -EINVAL, "text_offset 0x%" PRIx64 " is not 4 KiB aligned",
				  h->text_offset);
	if (h->image_size < image_len)
		return image_fail(err, err_len, -EINVAL,
				  "image_size 0x%" PRIx64
				  " in the Image header is smaller than the Image (%s)",
				  h->image_size, image_size_str(image_len, nb));
	return 0;
}

/* ---- decompression ---- */

struct inbuf {
	int fd;
	uint64_t off, end; /* the compressed bytes still to read: [off, end) of the file */
	uint8_t *buf;
};

/* The next chunk of input: its length (0 at the end), or -errno. */
static ssize_t in_next(struct inbuf *in)
{
	size_t n = in->end - in->off < IN_CHUNK ? (size_t)(in->end - in->off) : IN_CHUNK;
	int ret;

	if (!n)
		return 0;
	ret = image_pread_full(in->fd, in->buf, n, in->off);
	if (ret)
		return ret;
	in->off += n;
	return (ssize_t)n;
}

/* The decompressors write into out, cap bytes (reserved, touched as written): -EFBIG when it is full. */
static int gunzip(struct inbuf *in, uint8_t *out, uint64_t cap, uint64_t *olen, char *err, size_t err_len)
{
	z_stream zs;
	int zret = Z_OK, ret = 0;
	bool ended = false;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return image_fail(err, err_len, -ENOMEM, "zlib: cannot start inflating");
	for (;;) {
		if (!zs.avail_in) {
			ssize_t n = in_next(in);

			if (n < 0) {
				ret = image_fail(err, err_len, (int)n, "cannot read: %s", strerror((int)-n));
				break;
			}
			if (!n)
				break;
			zs.next_in = in->buf;
			zs.avail_in = (uInt)n;
		}
		if (ended) {
			/* after a member: another one ("MEMBER MEMBER"), or zero padding */
			if (zs.next_in[0] == 0x1f) {
				inflateReset(&zs);
				ended = false;
				continue;
			}
			for (uInt i = 0; i < zs.avail_in; i++)
				if (zs.next_in[i]) {
					ret = image_fail(
						err, err_len, -EINVAL,
						"data after the end of the gzip stream (at compressed byte %" PRIu64
						")",
						in->off - zs.avail_in + i);
					goto out;
				}
			zs.avail_in = 0;
			continue;
		}
		if (*olen == cap) {
			ret = -EFBIG;
			break;
		}
		zs.next_out = out + *olen;
		zs.avail_out = (uInt)(cap - *olen < UINT32_MAX ? cap - *olen : UINT32_MAX);
		{
			uInt before = zs.avail_out;

			zret = inflate(&zs, Z_NO_FLUSH);
			*olen += before - zs.avail_out;
		}
		if (zret == Z_STREAM_END) {
			ended = true;
		} else if (zret == Z_BUF_ERROR) {
			continue; /* needs more input or more output: both are given above */
		} else if (zret != Z_OK) {
			ret = image_fail(err, err_len, -EINVAL, "corrupt gzip data (zlib: %s)",
					 zs.msg ? zs.msg : "error");
			break;
		}
	}
	if (!ret && !ended)
		ret = image_fail(err, err_len, -EINVAL,
				 "truncated gzip stream (the file ends after %" PRIu64 " bytes of output)",
				 *olen);
out:
	inflateEnd(&zs);
	return ret;
}

static int unzstd(struct inbuf *in, uint8_t *out, uint64_t cap, uint64_t *olen, char *err, size_t err_len)
{
	ZSTD_DCtx *z = ZSTD_createDCtx();
	ZSTD_inBuffer ib = { NULL, 0, 0 };
	size_t zr = 1; /* 0: at the end of a frame */
	int ret = 0;

	if (!z)
		return image_fail(err, err_len, -ENOMEM, "zstd: cannot make a decompression context");
	for (;;) {
		if (ib.pos == ib.size) {
			ssize_t n = in_next(in);

			if (n < 0) {
				ret = image_fail(err, err_len, (int)n, "cannot read: %s", strerror((int)-n));
				break;
			}
			if (!n)
				break;
			ib = (ZSTD_inBuffer){ in->buf, (size_t)n, 0 };
		}
		if (*olen == cap) {
			ret = -EFBIG;
			break;
		}
		{
			ZSTD_outBuffer ob = { out, (size_t)cap, (size_t)*olen };

			zr = ZSTD_decompressStream(z, &ob, &ib);
			*olen = ob.pos;
		}
		if (ZSTD_isError(zr)) {
			ret = image_fail(err, err_len, -EINVAL, "corrupt zstd data (libzstd: %s)",
					 ZSTD_getErrorName(zr));
			break;
		}
	}
	/* the end of the input: the last frame must be complete, and flushed */
	while (!ret && zr) {
		ZSTD_outBuffer ob;

		if (*olen == cap) {
			ret = -EFBIG;
			break;
		}
		ob = (ZSTD_outBuffer){ out, (size_t)cap, (size_t)*olen };
		zr = ZSTD_decompressStream(z, &ob, &ib);
		if (ZSTD_isError(zr)) {
			ret = image_fail(err, err_len, -EINVAL, "corrupt zstd data (libzstd: %s)",
					 ZSTD_getErrorName(zr));
		} else if (ob.pos == *olen && zr) {
			ret = image_fail(err, err_len, -EINVAL,
					 "truncated zstd stream (the file ends after %" PRIu64
					 " bytes of output)",
					 *olen);
		}
		*olen = ob.pos;
	}
	ZSTD_freeDCtx(z);
	return ret;
}

/*
 * Decompress [off, off + len) of fd (comp) into a buffer of at most max bytes:
 * 0 with *out (image_buf_alloc()'ed, *olen bytes) and *olen, or -errno with why.
 * The output goes straight into one buffer of max bytes reserved up front (no
 * copies as it grows); what it does not use is given back at the end.
 */
static int decompress(int fd, uint64_t off, uint64_t len, uint32_t comp, uint64_t max, uint8_t **out,
		      uint64_t *olen, char *err, size_t err_len)
{
	struct inbuf in = { fd, off, off + len, malloc(IN_CHUNK) };
	char nb[32];
	int ret;

	*olen = 0;
	*out = image_buf_alloc(max);
	if (!in.buf || !*out) {
		free(in.buf);
		image_buf_free(*out, max);
		*out = NULL;
		return image_fail(err, err_len, -ENOMEM, "out of memory for a %s buffer for the %s kernel",
				  image_size_str(max, nb), kernel_compression_name(comp));
	}
	ret = comp == KERNEL_GZIP ? gunzip(&in, *out, max, olen, err, err_len)
				  : unzstd(&in, *out, max, olen, err, err_len);
	free(in.buf);
	if (ret == -EFBIG)
		image_fail(err, err_len, -EINVAL, "the %s kernel decompresses to more than guest RAM (%s)",
			   kernel_compression_name(comp), image_size_str(max, nb));
	else if (ret == -ENOMEM)
		image_fail(err, err_len, ret, "out of memory decompressing the %s kernel",
			   kernel_compression_name(comp));
	if (ret == -EFBIG)
		ret = -EINVAL;
	if (!ret && !*olen)
		ret = image_fail(err, err_len, -EINVAL, "the %s kernel decompresses to nothing",
				 kernel_compression_name(comp));
	if (ret) {
		image_buf_free(*out, max);
		*out = NULL;
		*olen = 0;
	} else {
		image_buf_trim(*out, max, *olen);
	}
	return ret;
}

/* ---- the loader ---- */

/* What the first bytes of a file say it is, for formats that are not a (compressed) Image. */
static const char *other_format(const uint8_t *b, size_t n)
{
	if (n >= 4 && !memcmp(b,
			      "\x7f"
			      "ELF",
			      4))
		return "an ELF file (a vmlinux?), not a Linux arm64 Image (arch/arm64/boot/Image)";
	if (n >= 0x206 && b[0] == 'M' && b[1] == 'Z' && !memcmp(b + 0x202, "HdrS", 4))
		return "an x86 Linux kernel (bzImage), not an arm64 one";
	if (n >= 3 && !memcmp(b, "BZh", 3))
		return "a bzip2-compressed file: realmkit decompresses gzip and zstd kernels";
	if (n >= 6 && !memcmp(b,
			      "\xfd"
			      "7zXZ\x00",
			      6))
		return "an xz-compressed file: realmkit decompresses gzip and zstd kernels";
	if (n >= 4 && !memcmp(b, "\x02\x21\x4c\x18", 4))
		return "an lz4-compressed file: realmkit decompresses gzip and zstd kernels";
	if (n >= 3 && !memcmp(b, "\x5d\x00\x00", 3))
		return "an lzma-compressed file: realmkit decompresses gzip and zstd kernels";
	return NULL;
}

int kernel_load_fd(int fd, uint64_t ram_base, uint64_t ram_size, struct image *img, char *err, size_t err_len)
{
	uint8_t head[0x206];
	uint8_t *data = NULL;
	uint64_t fsize, len = 0, load, ram_top, off = 0, clen;
	uint32_t comp = KERNEL_RAW;
	struct kernel_header h;
	const char *other;
	struct stat st;
	size_t hn;
	char a[32], b[32];
	int ret;

	memset(img, 0, sizeof(*img));
	if (err && err_len)
		err[0] = '\0';
	if (__builtin_add_overflow(ram_base, ram_size, &ram_top) || !ram_size ||
	    (ram_base & (KERNEL_ALIGN - 1)))
		return image_fail(err, err_len, -EINVAL, "bad guest RAM window");
	if (fstat(fd, &st))
		return image_fail(err, err_len, -errno, "cannot stat: %s", strerror(errno));
	if (S_ISDIR(st.st_mode))
		return image_fail(err, err_len, -EISDIR, "is a directory");
	if (!S_ISREG(st.st_mode))
		return image_fail(err, err_len, -EINVAL, "not a regular file");
	fsize = (uint64_t)st.st_size;
	if (!fsize)
		return image_fail(err, err_len, -EINVAL, "the kernel file is empty");
	hn = fsize < sizeof(head) ? (size_t)fsize : sizeof(head);
	ret = image_pread_full(fd, head, hn, 0);
	if (ret)
		return image_fail(err, err_len, ret, "cannot read: %s", strerror(-ret));
	clen = fsize;
	if (hn >= 2 && head[0] == 0x1f && head[1] == 0x8b) {
		comp = KERNEL_GZIP;
	} else if (hn >= 4 && le(head, 4) == 0xfd2fb528u) {
		comp = KERNEL_ZSTD;
	} else if (hn >= 8 && head[0] == 'M' && head[1] == 'Z' && !memcmp(head + 4, "zimg", 4)) {
		/* EFI zboot (drivers/firmware/efi/libstub/zboot-header.S): a compressed Image inside */
		char type[33];

		if (hn < ZBOOT_HEADER)
			return image_fail(err, err_len, -EINVAL,
					  "truncated EFI zboot image (%" PRIu64 " bytes)", fsize);
		off = le(head + 8, 4);
		clen = le(head + 12, 4);
		memcpy(type, head + 24, 32);
		type[32] = '\0';
		if (!clen || off > fsize || clen > fsize - off)
			return image_fail(err, err_len, -EINVAL,
					  "EFI zboot image: its payload [0x%" PRIx64 ", +0x%" PRIx64
					  ") is not inside the file (%" PRIu64 " bytes)",
					  off, clen, fsize);
		if (!strcmp(type, "gzip"))
			comp = KERNEL_GZIP;
		else if (!strcmp(type, "zstd") || !strcmp(type, "zstd22"))
			comp = KERNEL_ZSTD;
		else
			return image_fail(
				err, err_len, -EINVAL,
				"EFI zboot image compressed with '%.32s': realmkit decompresses gzip and zstd",
				type);
	} else if (fsize >= KERNEL_HEADER_SIZE && le(head + 56, 4) == KERNEL_MAGIC) {
		comp = KERNEL_RAW;
	} else if ((other = other_format(head, hn))) {
		return image_fail(err, err_len, -EINVAL, "%s", other);
	}
	if (comp == KERNEL_RAW) {
		/* check the header before reading the whole file */
		ret = kernel_parse_header(head, hn, fsize, &h, err, err_len);
		if (ret)
			return ret;
		if (fsize > ram_size)
			return image_fail(err, err_len, -EINVAL, "the kernel is %s, guest RAM is %s",
					  image_size_str(fsize, a), image_size_str(ram_size, b));
		data = image_buf_alloc(fsize);
		if (!data)
			return image_fail(err, err_len, -ENOMEM, "out of memory for a kernel of %s",
					  image_size_str(fsize, a));
		len = fsize;
		ret = image_pread_full(fd, data, len, 0);
		if (ret) {
			image_buf_free(data, len);
			return image_fail(err, err_len, ret, "cannot read: %s", strerror(-ret));
		}
	} else {
		ret = decompress(fd, off, clen, comp, ram_size, &data, &len, err, err_len);
		if (ret)
			return ret;
		ret = kernel_parse_header(data, len, len, &h, err, err_len);
		if (ret) {
			char why[IMAGE_ERR_LEN];

			snprintf(why, sizeof(why), "%s", err ? err : "");
			image_fail(err, err_len, ret, "the %s kernel decompresses to %s: %s",
				   kernel_compression_name(comp), image_size_str(len, a), why);
			image_buf_free(data, len);
			return ret;
		}
	}
	/* booting.rst: text_offset above a 2 MiB aligned base; image_size bytes from there are the kernel's */
	if (h.text_offset >= ram_size || h.image_size > ram_size - h.text_offset) {
		image_buf_free(data, len);
		return image_fail(
			err, err_len, -EINVAL,
			"the kernel needs %s of RAM (text_offset 0x%" PRIx64 " + image_size 0x%" PRIx64
			"), guest RAM is %s",
			image_size_str(((h.text_offset + h.image_size) + (1 << 20) - 1) & ~((1ULL << 20) - 1),
				       a),
			h.text_offset, h.image_size, image_size_str(ram_size, b));
	}
	load = ram_base + h.text_offset;
	img->format = IMAGE_LINUX;
	img->compression = comp;
	img->reserve = h.image_size;
	img->entry = load;
	img->nloads = 1;
	img->loads[0] = (struct image_load){ load, data, len };
	return 0;
}

int kernel_load_file(const char *path, uint64_t ram_base, uint64_t ram_size, struct image *img, char *err,
		     size_t err_len)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), ret;

	memset(img, 0, sizeof(*img));
	if (fd < 0)
		return image_fail(err, err_len, -errno, "%s", strerror(errno));
	ret = kernel_load_fd(fd, ram_base, ram_size, img, err, err_len);
	close(fd);
	return ret;
}

int kernel_read_initrd(const char *path, uint64_t max, uint8_t **data, uint64_t *len, char *err,
		       size_t err_len)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), ret;
	uint64_t size = 0;
	struct stat st;
	char a[32], b[32];

	*data = NULL;
	*len = 0;
	if (fd < 0)
		return image_fail(err, err_len, -errno, "%s", strerror(errno));
	if (fstat(fd, &st)) {
		ret = image_fail(err, err_len, -errno, "cannot stat: %s", strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		ret = image_fail(err, err_len, -EISDIR, "is a directory");
	} else if (!S_ISREG(st.st_mode)) {
		ret = image_fail(err, err_len, -EINVAL, "not a regular file");
	} else if (!st.st_size) {
		ret = image_fail(err, err_len, -EINVAL, "the initrd is empty");
	} else if ((uint64_t)st.st_size > max) {
		ret = image_fail(err, err_len, -EINVAL, "the initrd is %s, guest RAM is %s",
				 image_size_str((uint64_t)st.st_size, a), image_size_str(max, b));
	} else if (!(*data = image_buf_alloc(size = (uint64_t)st.st_size))) {
		ret = image_fail(err, err_len, -ENOMEM, "out of memory for an initrd of %s",
				 image_size_str((uint64_t)st.st_size, a));
	} else if ((ret = image_pread_full(fd, *data, (uint64_t)st.st_size, 0))) {
		image_fail(err, err_len, ret, "cannot read: %s", strerror(-ret));
	} else {
		*len = (uint64_t)st.st_size;
	}
	if (ret) {
		image_buf_free(*data, size);
		*data = NULL;
	}
	close(fd);
	return ret;
}

int kernel_place_initrd(uint64_t ram_base, uint64_t ram_size, uint64_t kernel_end, uint64_t dtb_ipa,
			uint64_t dtb_size, uint64_t len, uint64_t *ipa, char *err, size_t err_len)
{
	uint64_t start = (kernel_end + GRANULE - 1) & ~(uint64_t)(GRANULE - 1), ram_top = ram_base + ram_size;
	char a[32];

	if (start < dtb_ipa + dtb_size && dtb_ipa < start + len)
		start = dtb_ipa + dtb_size; /* after the device tree */
	if (start < ram_base || start > ram_top || len > ram_top - start)
		return image_fail(err, err_len, -ENOSPC,
				  "the initrd (%s) does not fit in guest RAM [0x%" PRIx64 ",0x%" PRIx64
				  ") after the kernel (up to 0x%" PRIx64 ") and the device tree (0x%" PRIx64
				  ")",
				  image_size_str(len, a), ram_base, ram_top, kernel_end, dtb_ipa);
	*ipa = start;
	return 0;
}
