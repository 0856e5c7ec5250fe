/* SPDX-License-Identifier: MIT */
/* Guest image loading: see image.h. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"

#define GRANULE 4096u
#define HUGE_PAGE ((uint64_t)2 << 20)  /* a transparent huge page (x86-64, arm64 with 4 KiB pages) */
#define READ_CHUNK ((uint64_t)1 << 30) /* below Linux's 0x7ffff000 per read */

int image_fail(char *err, size_t err_len, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* "3 GiB", "16 MiB", "12 KiB", "4097 bytes" */
const char *image_size_str(uint64_t n, char buf[32])
{
	if (n && !(n & ((1ULL << 30) - 1)))
		snprintf(buf, 32, "%" PRIu64 " GiB", n >> 30);
	else if (n && !(n & ((1ULL << 20) - 1)))
		snprintf(buf, 32, "%" PRIu64 " MiB", n >> 20);
	else if (n && !(n & ((1ULL << 10) - 1)))
		snprintf(buf, 32, "%" PRIu64 " KiB", n >> 10);
	else
		snprintf(buf, 32, "%" PRIu64 " bytes", n);
	return buf;
}

const char *image_format_name(enum image_format f)
{
	return f == IMAGE_ELF ? "ELF" : f == IMAGE_LINUX ? "Linux arm64 Image" : "flat image";
}

int image_pread_full(int fd, void *buf, uint64_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		size_t chunk = (size_t)(len < READ_CHUNK ? len : READ_CHUNK);
		ssize_t n = pread(fd, p, chunk, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* the file is shorter than it was */
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

static uint64_t page_span(uint64_t len)
{
	return (len + GRANULE - 1) & ~(uint64_t)(GRANULE - 1);
}

uint8_t *image_buf_alloc(uint64_t len)
{
	uint64_t span = page_span(len), total = span + HUGE_PAGE;
	uint8_t *q, *p;

	if (!len || span < len || total < span || total > SIZE_MAX)
		return NULL;
	q = mmap(NULL, (size_t)total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
		 0);
	if (q == MAP_FAILED)
		return NULL;
	/* keep the 2 MiB aligned [p, p + span) of it */
	p = (uint8_t *)(((uintptr_t)q + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	if (p > q)
		munmap(q, (size_t)(p - q));
	if (q + total > p + span)
		munmap(p + span, (size_t)(q + total - (p + span)));
	if (span >= HUGE_PAGE)
		(void)madvise(p, (size_t)span, MADV_HUGEPAGE); /* refused (no THP): 4 KiB pages */
	return p;
}

void image_buf_trim(uint8_t *p, uint64_t len, uint64_t keep)
{
	if (p && page_span(keep) < page_span(len))
		munmap(p + page_span(keep), (size_t)(page_span(len) - page_span(keep)));
}

void image_buf_free(uint8_t *p, uint64_t len)
{
	if (p && len)
		munmap(p, (size_t)page_span(len));
}

void image_free(struct image *img)
{
	if (!img)
		return;
	for (uint32_t i = 0; i < img->nloads; i++)
		image_buf_free(img->loads[i].data, img->loads[i].len);
	memset(img, 0, sizeof(*img));
}

static const char *machine_name(unsigned int m, char buf[32])
{
	switch (m) {
	case EM_X86_64:
		return "x86-64";
	case EM_386:
		return "i386";
	case EM_ARM:
		return "32-bit Arm";
	case EM_RISCV:
		return "RISC-V";
	case EM_PPC64:
		return "PowerPC64";
	case EM_S390:
		return "s390";
	case EM_NONE:
		return "no machine (EM_NONE)";
	}
	snprintf(buf, 32, "e_machine %u", m);
	return buf;
}

/* Does the ELF define symbol `name`? (No symbol table, or an unreadable one: no.) */
static bool elf_has_symbol(Elf *e, const char *name)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d)
			continue;
		for (size_t i = 0; i < d->d_size / sh.sh_entsize && i <= INT32_MAX; i++) {
			GElf_Sym sym;
			const char *n;

			if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
				continue;
			n = elf_strptr(e, sh.sh_link, sym.st_name);
			if (n && !strcmp(n, name))
				return true;
		}
	}
	return false;
}

struct seg {
	size_t index; /* program header number */
	uint64_t addr, end, offset, filesz;
};

static int load_elf(int fd, uint64_t fsize, uint64_t ram_base, uint64_t ram_top, struct image *img, char *err,
		    size_t err_len)
{
	unsigned char ident[EI_NIDENT];
	char nb[32];
	struct seg *segs = NULL;
	size_t nph = 0, nsegs = 0;
	uint64_t lo = UINT64_MAX, hi = 0, phend;
	GElf_Ehdr eh;
	Elf *e = NULL;
	int ret;

	if (fsize < sizeof(Elf64_Ehdr))
		return image_fail(err, err_len, -EINVAL,
				  "truncated ELF (the file is %" PRIu64 " bytes, an ELF64 header %zu)", fsize,
				  sizeof(Elf64_Ehdr));
	ret = image_pread_full(fd, ident, sizeof(ident), 0);
	if (ret)
		return image_fail(err, err_len, ret, "cannot read: %s", strerror(-ret));
	if (ident[EI_CLASS] == ELFCLASS32)
		return image_fail(err, err_len, -EINVAL, "not a 64-bit ELF (ELFCLASS32)");
	if (ident[EI_CLASS] != ELFCLASS64)
		return image_fail(err, err_len, -EINVAL, "not a 64-bit ELF (EI_CLASS %u)", ident[EI_CLASS]);
	if (ident[EI_DATA] == ELFDATA2MSB)
		return image_fail(err, err_len, -EINVAL,
				  "not a little-endian ELF (ELFDATA2MSB): AArch64 realms are little-endian");
	if (ident[EI_DATA] != ELFDATA2LSB)
		return image_fail(err, err_len, -EINVAL, "not a little-endian ELF (EI_DATA %u)",
				  ident[EI_DATA]);
	if (elf_version(EV_CURRENT) == EV_NONE)
		return image_fail(err, err_len, -EINVAL, "libelf: %s", elf_errmsg(-1));
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh)) {
		ret = image_fail(err, err_len, -EINVAL, "unreadable ELF header (%s)", elf_errmsg(-1));
		goto out;
	}
	if (eh.e_machine != EM_AARCH64) {
		ret = image_fail(err, err_len, -EINVAL, "ELF is for %s, not AArch64",
				 machine_name(eh.e_machine, nb));
		goto out;
	}
	/* the count as the file says it (elf_getphdrnum clamps it to what fits the file) */
	nph = eh.e_phnum;
	if (nph == PN_XNUM) {
		GElf_Shdr sh0;
		Elf_Scn *s0 = eh.e_shoff ? elf_getscn(e, 0) : NULL;

		if (!s0 || !gelf_getshdr(s0, &sh0)) {
			ret = image_fail(
				err, err_len, -EINVAL,
				"e_phnum is PN_XNUM (65535) but there is no section 0 holding the program header count");
			goto out;
		}
		nph = sh0.sh_info;
	}
	if (nph > IMAGE_MAX_PHDRS) {
		ret = image_fail(err, err_len, -EINVAL, "too many program headers (%zu; at most %u)", nph,
				 IMAGE_MAX_PHDRS);
		goto out;
	}
	if (!nph) {
		ret = image_fail(err, err_len, -EINVAL, "no program headers: not a loadable ELF");
		goto out;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr)) {
		ret = image_fail(err, err_len, -EINVAL, "program header size %u, not %zu", eh.e_phentsize,
				 sizeof(Elf64_Phdr));
		goto out;
	}
	if (__builtin_add_overflow(eh.e_phoff, (uint64_t)nph * sizeof(Elf64_Phdr), &phend) || phend > fsize) {
		ret = image_fail(err, err_len, -EINVAL,
				 "truncated ELF (program headers at 0x%" PRIx64
				 " end past the file end 0x%" PRIx64 ")",
				 (uint64_t)eh.e_phoff, fsize);
		goto out;
	}
	{
		size_t n = 0;

		if (elf_getphdrnum(e, &n) || n != nph) {
			ret = image_fail(err, err_len, -EINVAL, "unreadable program headers (%s)",
					 elf_errmsg(-1));
			goto out;
		}
	}
	segs = calloc(nph, sizeof(*segs));
	if (!segs) {
		ret = image_fail(err, err_len, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		struct seg s;
		uint64_t fend;

		if (!gelf_getphdr(e, (int)i, &ph)) {
			ret = image_fail(err, err_len, -EINVAL, "unreadable program header %zu (%s)", i,
					 elf_errmsg(-1));
			goto out;
		}
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		if (ph.p_filesz > ph.p_memsz) {
			ret = image_fail(err, err_len, -EINVAL,
					 "segment %zu: file size 0x%" PRIx64
					 " is larger than its memory size 0x%" PRIx64,
					 i, (uint64_t)ph.p_filesz, (uint64_t)ph.p_memsz);
			goto out;
		}
		s = (struct seg){ i, ph.p_paddr, 0, ph.p_offset, ph.p_filesz };
		if (__builtin_add_overflow(ph.p_paddr, ph.p_memsz, &s.end)) {
			ret = image_fail(err, err_len, -EINVAL,
					 "segment %zu at 0x%" PRIx64 " of 0x%" PRIx64
					 " bytes wraps around the address space",
					 i, s.addr, (uint64_t)ph.p_memsz);
			goto out;
		}
		if (s.addr < ram_base || s.end > ram_top) {
			ret = image_fail(err, err_len, -EINVAL,
					 "segment %zu [0x%" PRIx64 ",0x%" PRIx64
					 ") is outside guest RAM [0x%" PRIx64 ",0x%" PRIx64 ")",
					 i, s.addr, s.end, ram_base, ram_top);
			goto out;
		}
		if (__builtin_add_overflow(ph.p_offset, ph.p_filesz, &fend) || fend > fsize) {
			ret = image_fail(err, err_len, -EINVAL,
					 "truncated ELF (segment %zu ends at 0x%" PRIx64
					 "%s past the file end 0x%" PRIx64 ")",
					 i, fend, fend < ph.p_offset ? " (wrapped)" : "", fsize);
			goto out;
		}
		for (size_t j = 0; j < nsegs; j++) {
			if (s.addr < segs[j].end && segs[j].addr < s.end) {
				ret = image_fail(err, err_len, -EINVAL,
						 "segment %zu [0x%" PRIx64 ",0x%" PRIx64
						 ") overlaps segment %zu [0x%" PRIx64 ",0x%" PRIx64 ")",
						 i, s.addr, s.end, segs[j].index, segs[j].addr, segs[j].end);
				goto out;
			}
		}
		segs[nsegs++] = s;
		if (s.filesz) {
			lo = s.addr < lo ? s.addr : lo;
			hi = s.addr + s.filesz > hi ? s.addr + s.filesz : hi;
		}
	}
	if (lo >= hi) {
		ret = image_fail(err, err_len, -EINVAL, "no PT_LOAD segment with contents");
		goto out;
	}
	if (lo & (GRANULE - 1)) {
		ret = image_fail(err, err_len, -EINVAL,
				 "the lowest segment, at 0x%" PRIx64 ", is not 4 KiB aligned", lo);
		goto out;
	}
	if (eh.e_entry < ram_base || eh.e_entry >= ram_top) {
		ret = image_fail(err, err_len, -EINVAL,
				 "entry point 0x%" PRIx64 " is outside guest RAM [0x%" PRIx64 ",0x%" PRIx64
				 ")",
				 (uint64_t)eh.e_entry, ram_base, ram_top);
		goto out;
	}
	img->loads[0].data = image_buf_alloc(hi - lo); /* hi - lo <= the RAM size; zeroed */
	if (!img->loads[0].data) {
		ret = image_fail(err, err_len, -ENOMEM, "out of memory for %s of contents",
				 image_size_str(hi - lo, nb));
		goto out;
	}
	img->nloads = 1;
	img->loads[0].addr = lo;
	img->loads[0].len = hi - lo;
	for (size_t j = 0; j < nsegs; j++) {
		if (!segs[j].filesz)
			continue;
		ret = image_pread_full(fd, img->loads[0].data + (segs[j].addr - lo), segs[j].filesz,
				       segs[j].offset);
		if (ret) {
			image_fail(err, err_len, ret, "cannot read segment %zu: %s", segs[j].index,
				   strerror(-ret));
			goto out;
		}
	}
	img->format = IMAGE_ELF;
	img->entry = eh.e_entry;
	img->reports = elf_has_symbol(e, "rk_report");
	ret = 0;
out:
	free(segs);
	if (e)
		elf_end(e);
	return ret;
}

static int load_flat(int fd, uint64_t fsize, uint64_t ram_base, uint64_t ram_size, struct image *img,
		     char *err, size_t err_len)
{
	char a[32], b[32];
	int ret;

	if (!fsize)
		return image_fail(err, err_len, -EINVAL, "flat image is empty");
	if (fsize > ram_size)
		return image_fail(err, err_len, -EINVAL, "flat image is %s, guest RAM is %s",
				  image_size_str(fsize, a), image_size_str(ram_size, b));
	img->loads[0].data = image_buf_alloc(fsize);
	if (!img->loads[0].data)
		return image_fail(err, err_len, -ENOMEM, "out of memory for a flat image of %s",
				  image_size_str(fsize, a));
	img->loads[0].len = fsize; /* freed with it on failure */
	img->nloads = 1;
	ret = image_pread_full(fd, img->loads[0].data, fsize, 0);
	if (ret)
		return image_fail(err, err_len, ret, "cannot read: %s", strerror(-ret));
	img->format = IMAGE_FLAT;
	img->loads[0].addr = ram_base;
	img->loads[0].len = fsize;
	img->entry = ram_base;
	return 0;
}

int image_load_fd(int fd, uint64_t ram_base, uint64_t ram_size, struct image *img, char *err, size_t err_len)
{
	unsigned char magic[SELFMAG];
	uint64_t ram_top;
	struct stat st;
	int ret;

	memset(img, 0, sizeof(*img));
	if (err && err_len)
		err[0] = '\0';
	if (__builtin_add_overflow(ram_base, ram_size, &ram_top) || !ram_size)
		return image_fail(err, err_len, -EINVAL, "bad guest RAM window");
	if (fstat(fd, &st))
		return image_fail(err, err_len, -errno, "cannot stat: %s", strerror(errno));
	if (S_ISDIR(st.st_mode))
		return image_fail(err, err_len, -EISDIR, "is a directory");
	if (!S_ISREG(st.st_mode))
		return image_fail(err, err_len, -EINVAL, "not a regular file");
	if (st.st_size >= SELFMAG) {
		ret = image_pread_full(fd, magic, SELFMAG, 0);
		if (ret)
			return image_fail(err, err_len, ret, "cannot read: %s", strerror(-ret));
		if (!memcmp(magic, ELFMAG, SELFMAG))
			ret = load_elf(fd, (uint64_t)st.st_size, ram_base, ram_top, img, err, err_len);
		else
			ret = load_flat(fd, (uint64_t)st.st_size, ram_base, ram_size, img, err, err_len);
	} else {
		ret = load_flat(fd, (uint64_t)st.st_size, ram_base, ram_size, img, err, err_len);
	}
	if (ret)
		image_free(img);
	return ret;
}

int image_load_file(const char *path, uint64_t ram_base, uint64_t ram_size, struct image *img, char *err,
		    size_t err_len)
{
	/* O_NONBLOCK: a FIFO is refused by image_load_fd, not waited on */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), ret;

	memset(img, 0, sizeof(*img));
	if (fd < 0)
		return image_fail(err, err_len, -errno, "%s", strerror(errno));
	ret = image_load_fd(fd, ram_base, ram_size, img, err, err_len);
	close(fd);
	return ret;
}
