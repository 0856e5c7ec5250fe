#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Helpers of scripts/linux-guest.sh (the Linux guest kit); Python standard library only.

  linux-guest-tool.py kernel-info FILE
      What FILE is (an arm64 Image, plain or compressed as Debian may ship it),
      as KEY=VALUE lines: KERNEL_FORMAT (raw, gzip, zstd, efi-zboot-gzip,
      efi-zboot-zstd), KERNEL_PE (1 when the file is also a PE/COFF EFI
      application), and for the Image inside: IMAGE_TEXT_OFFSET,
      IMAGE_SIZE, IMAGE_FLAGS (arm64 boot protocol header, hex).
      Exit 1 with one line on stderr when FILE is no arm64 Image.
  linux-guest-tool.py extract-image IN OUT
      Write the raw Image inside IN to OUT (decompressing it when needed).
  linux-guest-tool.py modules MODDIR DEST NAME...
      The modules NAME (module names, '-' or '_') and everything they need
      (the depends= field of each module's .modinfo: modpost's symbol
      dependencies, the same relation depmod writes to modules.dep), loaded
      dependencies first. Each is written decompressed to DEST/MODDIR-relative
      path without the compression suffix; prints one line per module:
      "RELPATH COMPRESSION" in load order (RELPATH as in modules.order).
      Built-in modules (modules.builtin) are skipped.
  linux-guest-tool.py mkinitramfs OUT DIR
      A gzip-compressed newc cpio of the tree DIR (uid/gid 0, mtime 0,
      sorted: the same input gives the same bytes) plus /dev/console (char
      5:1; the kernel opens it for init's stdin/stdout before anything
      mounts devtmpfs).
"""
import gzip
import lzma
import os
import stat
import struct
import subprocess
import sys
import zlib

ARM64_MAGIC = 0x644D5241  # "ARM\x64" at offset 56 of an arm64 Image header


def die(msg):
    print(f"linux-guest-tool: {msg}", file=sys.stderr)
    sys.exit(1)


def zstd_decompress(data):
    try:
        r = subprocess.run(["zstd", "-dc"], input=data, capture_output=True, check=False)
    except FileNotFoundError:
        die("zstd-compressed data but no zstd program (Debian package zstd)")
    if r.returncode != 0:
        die("zstd: " + r.stderr.decode(errors="replace").strip())
    return r.stdout


def gzip_decompress(data):
    # wbits 16+MAX_WBITS: a gzip stream; trailing bytes (a signature, padding) are ignored
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(data)
    except zlib.error as e:
        die(f"gzip: {e}")
    if not d.eof:
        die("gzip: truncated stream")
    return out


def image_inside(data):
    """(format, raw Image bytes) of a kernel file."""
    if data[:2] == b"MZ" and data[4:8] == b"zimg":
        # EFI zboot (drivers/firmware/efi/libstub/zboot-header.S): payload offset and
        # size at 8 and 12, the compression name (NUL-terminated) at 24
        if len(data) < 64:
            die("truncated EFI zboot header")
        off, size = struct.unpack_from("<II", data, 8)
        comp = data[24:56].split(b"\0")[0].decode(errors="replace")
        if off + size > len(data):
            die("EFI zboot payload runs past the end of the file")
        payload = data[off:off + size]
        if comp == "gzip":
            return "efi-zboot-gzip", gzip_decompress(payload)
        if comp == "zstd":
            return "efi-zboot-zstd", zstd_decompress(payload)
        die(f"EFI zboot with unsupported compression '{comp}'")
    if data[:2] == b"\x1f\x8b":
        return "gzip", gzip_decompress(data)
    if data[:4] == b"\x28\xb5\x2f\xfd":
        return "zstd", zstd_decompress(data)
    return "raw", data


def kernel_info(path):
    with open(path, "rb") as f:
        data = f.read()
    fmt, img = image_inside(data)
    if len(img) < 64 or struct.unpack_from("<I", img, 56)[0] != ARM64_MAGIC:
        die(f"{path}: no arm64 Image (magic 0x{ARM64_MAGIC:08x} at offset 56 missing)")
    text_offset, image_size, flags = struct.unpack_from("<QQQ", img, 8)
    pe = 1 if img[:2] == b"MZ" and struct.unpack_from("<I", img, 60)[0] + 4 <= len(img) and \
        img[struct.unpack_from("<I", img, 60)[0]:][:4] == b"PE\0\0" else 0
    return fmt, img, {"KERNEL_FORMAT": fmt, "KERNEL_PE": pe,
                      "IMAGE_TEXT_OFFSET": f"0x{text_offset:x}",
                      "IMAGE_SIZE": f"0x{image_size:x}", "IMAGE_FLAGS": f"0x{flags:x}"}


def modinfo(data, what):
    """The .modinfo strings of an ELF64 little-endian module."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        die(f"{what}: not an ELF64 little-endian module")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    secs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = secs[shstrndx][4]
    for s in secs:
        name = data[strtab + s[0]:data.index(b"\0", strtab + s[0])]
        if name == b".modinfo":
            return [x.decode(errors="replace") for x in data[s[4]:s[4] + s[5]].split(b"\0") if x]
    die(f"{what}: no .modinfo section")


SUFFIXES = {".ko": "none", ".ko.xz": "xz", ".ko.gz": "gzip", ".ko.zst": "zstd"}


def read_module(path):
    for suf, comp in SUFFIXES.items():
        if path.endswith(suf):
            with open(path, "rb") as f:
                raw = f.read()
            if comp == "xz":
                return comp, lzma.decompress(raw)
            if comp == "gzip":
                return comp, gzip.decompress(raw)
            if comp == "zstd":
                return comp, zstd_decompress(raw)
            return comp, raw
    die(f"{path}: unknown module file suffix")


def modules(moddir, dest, names):
    def norm(n):
        return n.replace("-", "_")

    index = {}  # module name -> path relative to moddir as it is on disk
    with open(os.path.join(moddir, "modules.order")) as f:
        for line in f:
            rel = line.strip()
            if not rel:
                continue
            base = os.path.basename(rel)[:-len(".ko")]
            for suf in SUFFIXES:
                if os.path.exists(os.path.join(moddir, rel[:-len(".ko")] + suf)):
                    index[norm(base)] = rel[:-len(".ko")] + suf
                    break
    builtin = set()
    bpath = os.path.join(moddir, "modules.builtin")
    if os.path.exists(bpath):
        with open(bpath) as f:
            builtin = {norm(os.path.basename(x.strip())[:-len(".ko")]) for x in f if x.strip()}

    order, state = [], {}

    def visit(name, chain):
        name = norm(name)
        if state.get(name) == "done" or name in builtin:
            return
        if state.get(name) == "visiting":
            die("module dependency cycle: " + " -> ".join(chain + [name]))
        if name not in index:
            die(f"module {name} not found in {moddir} (modules.order)")
        state[name] = "visiting"
        comp, data = read_module(os.path.join(moddir, index[name]))
        deps = []
        for kv in modinfo(data, index[name]):
            if kv.startswith("depends="):
                deps = [d for d in kv[len("depends="):].split(",") if d]
        for d in deps:
            visit(d, chain + [name])
        state[name] = "done"
        rel = index[name][:index[name].rindex(".ko")] + ".ko"
        out = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "wb") as f:
            f.write(data)
        order.append((rel, comp))

    for n in names:
        visit(n, [])
    for rel, comp in order:
        print(rel, comp)


def newc(name, mode, data=b"", ino=0, rdev=(0, 0), nlink=1):
    nm = name.encode() + b"\0"
    hdr = "070701" + "".join(f"{v:08X}" for v in (
        ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(nm), 0))
    out = hdr.encode() + nm
    out += b"\0" * (-len(out) % 4)
    out += data
    out += b"\0" * (-len(out) % 4)
    return out


def mkinitramfs(out, root):
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for n in sorted(dirnames + filenames):
            p = os.path.join(dirpath, n)
            entries.append((os.path.relpath(p, root), p))
    entries.sort()
    blob, ino = bytearray(), 1
    names = {e[0] for e in entries}
    if "dev" not in names:
        blob += newc("dev", stat.S_IFDIR | 0o755, ino=ino, nlink=2)
        ino += 1
    for rel, p in entries:
        st = os.lstat(p)
        perm = stat.S_IMODE(st.st_mode)
        if stat.S_ISLNK(st.st_mode):
            blob += newc(rel, stat.S_IFLNK | 0o777, os.readlink(p).encode(), ino)
        elif stat.S_ISDIR(st.st_mode):
            blob += newc(rel, stat.S_IFDIR | perm, ino=ino, nlink=2)
        elif stat.S_ISREG(st.st_mode):
            with open(p, "rb") as f:
                blob += newc(rel, stat.S_IFREG | perm, f.read(), ino)
        else:
            die(f"{p}: only directories, regular files and symlinks go into the initramfs")
        ino += 1
    if "dev/console" not in names:
        blob += newc("dev/console", stat.S_IFCHR | 0o600, ino=ino, rdev=(5, 1))
    blob += newc("TRAILER!!!", 0, nlink=1)
    blob += b"\0" * (-len(blob) % 512)
    with open(out, "wb") as f:
        f.write(gzip.compress(bytes(blob), compresslevel=9, mtime=0))


def main(argv):
    if len(argv) >= 2 and argv[0] == "kernel-info" and len(argv) == 2:
        _, _, info = kernel_info(argv[1])
        for k, v in info.items():
            print(f"{k}={v}")
    elif len(argv) == 3 and argv[0] == "extract-image":
        _, img, _ = kernel_info(argv[1])
        with open(argv[2], "wb") as f:
            f.write(img)
    elif len(argv) >= 4 and argv[0] == "modules":
        modules(argv[1], argv[2], argv[3:])
    elif len(argv) == 3 and argv[0] == "mkinitramfs":
        mkinitramfs(argv[1], argv[2])
    else:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
