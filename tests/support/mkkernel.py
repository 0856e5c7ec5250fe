#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Crafted Linux arm64 kernel Images for tests/cli/test_cli_kernel.sh, stdlib only:
#   mkkernel.py KIMAGE OUT_DIR       variants of KIMAGE (guest/linux: a payload with an Image
#                                    header) and broken Images, one file per name of VARIANTS
#   mkkernel.py zboot IN OUT TYPE    wrap the compressed Image IN as an EFI zboot image
#                                    (drivers/firmware/efi/libstub/zboot-header.S) of TYPE
import gzip
import os
import struct
import sys

MIB = 1 << 20


def header(b, text_offset=None, image_size=None, flags=None, magic=None):
    """b with the given Image header fields replaced (booting.rst: offsets 8, 16, 24, 56)."""
    b = bytearray(b)
    for off, val in ((8, text_offset), (16, image_size), (24, flags)):
        if val is not None:
            b[off:off + 8] = struct.pack("<Q", val)
    if magic is not None:
        b[56:60] = struct.pack("<I", magic)
    return bytes(b)


def pe(b):
    # an EFI-stub Image: code0 = "MZ" (add x13, x18, #0x16: harmless), code1 = b 0x40
    return b"MZ\x00\x91" + struct.pack("<I", 0x14000000 | (0x3c >> 2)) + b[8:]


def zboot(payload, ctype):
    hdr = b"MZ\x00\x00zimg" + struct.pack("<II", 64, len(payload)) + bytes(8)
    hdr += ctype.encode().ljust(32, b"\x00")[:32]
    return hdr.ljust(64, b"\x00") + payload


def variants(k):
    size = struct.unpack_from("<Q", k, 16)[0]
    return {
        "pe.bin": pe(k),
        "zboot_gzip.bin": zboot(gzip.compress(k, mtime=0), "gzip"),
        "zboot_lzma.bin": zboot(b"\x5d\x00\x00" + bytes(61), "lzma"),
        "zboot_bad.bin": zboot(gzip.compress(k, mtime=0), "gzip")[:100],
        "gzip_trailing.bin": gzip.compress(k, mtime=0) + b"junk",
        "gzip_padded.bin": gzip.compress(k, mtime=0) + bytes(512),
        "gzip_truncated.bin": gzip.compress(k, mtime=0)[:-100],
        "gzip_corrupt.bin": gzip.compress(k, mtime=0)[:20] + bytes(range(256)) * 4,
        "gzip_raw.bin": gzip.compress(b"plain data, no Image" * 10, mtime=0),
        "offset.bin": header(k, text_offset=0x80000),
        "page64k.bin": header(k, flags=0xe),
        "short.bin": k[:40],
        "empty.bin": b"",
        "badmagic.bin": header(k, magic=0x12345678),
        "bigendian.bin": header(k, flags=0xb),
        "page16k.bin": header(k, flags=0xc),
        "size0.bin": header(k, image_size=0),
        "sizesmall.bin": header(k, image_size=len(k) - 1),
        "huge.bin": header(k, image_size=64 * MIB),
        "unaligned.bin": header(k, text_offset=0x80010),
        "bzimage.bin": (b"MZ" + bytes(0x200) + b"HdrS").ljust(0x400, b"\x00"),
        "vmlinux.bin": b"\x7fELF\x02\x01\x01" + bytes(57),
        "xz.bin": b"\xfd7zXZ\x00" + bytes(58),
        "image_size": str(size).encode(),
    }


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "zboot":
        with open(sys.argv[2], "rb") as f:
            data = zboot(f.read(), sys.argv[4])
        with open(sys.argv[3], "wb") as f:
            f.write(data)
        sys.exit(0)
    if len(sys.argv) != 3:
        sys.exit("usage: mkkernel.py KIMAGE OUT_DIR | mkkernel.py zboot IN OUT TYPE")
    with open(sys.argv[1], "rb") as f:
        k = f.read()
    for name, data in variants(k).items():
        with open(os.path.join(sys.argv[2], name), "wb") as f:
            f.write(data)
