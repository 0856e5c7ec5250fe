#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Crafted guest images for the CLI tests (tests/cli/test_cli_errors.sh), stdlib only:
#   mkimage.py OUT_DIR [NAME...]
# writes OUT_DIR/NAME for each NAME of IMAGES below (all of them without NAME). The programs are AArch64 machine
# code for a flat image at 0x80000000 (RK_GUEST_RAM_BASE); the ELFs are
# ELF64 files with hand-made program headers, good and broken.
import os
import struct
import sys

BASE = 0x80000000
MIB = 1 << 20


def words(ws):
    return b"".join(struct.pack("<I", w) for w in ws)


def pad(b, n):
    return (b + bytes(max(0, n - len(b))))[:n]


# N RSI_HOST_CALLs with the unknown immediate 0x77 (the call buffer at 0x80001000), then PSCI SYSTEM_OFF:
#   mov x19, #1000
# 1: mov x0, #0x199; movk x0, #0xc400, lsl #16     // RSI_HOST_CALL
#   mov x1, #0x1000; movk x1, #0x8000, lsl #16      // its 256-byte buffer, imm 0x77
#   smc #0; subs x19, x19, #1; b.ne 1b
#   mov x0, #8; movk x0, #0x8400, lsl #16; smc #0  // PSCI SYSTEM_OFF
#   b .
HCLOOP = pad(words([0xd2807d13, 0xd2803320, 0xf2b88000, 0xd2820001, 0xf2b00001, 0xd4000003, 0xf1000673,
                    0x54ffff41, 0xd2800100, 0xf2b08000, 0xd4000003, 0x14000000]), 0x1000) + pad(
    struct.pack("<H", 0x77), 256)

# N loads from unprotected IPA 0x8020000000 (no memory slot, no device there): each is answered with an
# SEA, which the handler at VBAR_EL1 = 0x80000800 skips (ELR_EL1 += 4; eret); then PSCI SYSTEM_OFF:
#   mov x9, #0x800; movk x9, #0x8000, lsl #16; msr vbar_el1, x9; isb
#   mov x19, #1000; mov x1, #0x8000000000; movk x1, #0x2000, lsl #16
# 1: ldr x2, [x1]; subs x19, x19, #1; b.ne 1b
#   mov x0, #8; movk x0, #0x8400, lsl #16; smc #0; b .
# vectors (16 x 128 bytes): mrs x9, elr_el1; add x9, x9, #4; msr elr_el1, x9; eret
SEALOOP = pad(words([0xd2810009, 0xf2b00009, 0xd518c009, 0xd5033fdf, 0xd2807d13, 0xd2c01001, 0xf2a40001,
                     0xf9400022, 0xf1000673, 0x54ffffc1, 0xd2800100, 0xf2b08000, 0xd4000003, 0x14000000]),
              0x800) + b"".join(pad(words([0xd5384029, 0x91001129, 0xd5184029, 0xd69f03e0]), 128)
                                for _ in range(16))


def elf(segs, cls=2, data=1, machine=183, entry=BASE, phnum=None, extra=b"", size=None, shoff=0, shnum=0):
    """segs: (paddr, offset, filesz, memsz); the program headers follow the 64-byte header."""
    phoff = 64
    n = len(segs) if phnum is None else phnum
    eh = struct.pack("<4sBBBBB7sHHIQQQIHHHHHH", b"\x7fELF", cls, data, 1, 0, 0, bytes(7), 2, machine, 1,
                     entry, phoff, shoff, 0, 64, 56, n, 64, shnum, 0)
    ph = b"".join(struct.pack("<IIQQQQQQ", 1, 5, off, pa, pa, fs, ms, 0x1000) for pa, off, fs, ms in segs)
    body = eh + ph + extra
    if size is not None:
        body = pad(body, size)
    return body


def code_elf(code):
    # one PT_LOAD at BASE with code at file offset 0x1000
    return pad(elf([(BASE, 0x1000, len(code), len(code))]), 0x1000) + code


IMAGES = {
    "hcloop.bin": lambda: HCLOOP,
    "sealoop.bin": lambda: SEALOOP,
    "hcloop.elf": lambda: code_elf(HCLOOP),
    # a PT_LOAD above the top of 16 MiB of RAM (its end minus RAM top underflowed)
    "above_ram.elf": lambda: elf([(BASE + 32 * MIB, 0x1000, 0x1000, 0x1000)], size=0x2000),
    # a PT_LOAD below RAM
    "below_ram.elf": lambda: elf([(0x1000, 0x1000, 0x1000, 0x1000)], size=0x2000),
    # a PT_LOAD whose end wraps around 2^64
    "wrap.elf": lambda: elf([(0xfffffffffffff000, 0x1000, 0x1000, 0x2000)], size=0x2000),
    # two PT_LOADs over the same memory
    "overlap.elf": lambda: elf([(BASE, 0x1000, 0x2000, 0x2000), (BASE + 0x1000, 0x1000, 0x1000, 0x1000)],
                               size=0x3000),
    # segment 2's contents end past the end of the file
    "truncated.elf": lambda: elf([(BASE, 0x1000, 0x800, 0x1000), (BASE + 0x1000, 0x1000, 0x800, 0x1000),
                                  (BASE + 0x2000, 0x1800, 0x800, 0x1000)], size=0x1800),
    # the ELF header cut short
    "short.elf": lambda: elf([], size=30),
    # the program header table past the end of the file
    "short_ph.elf": lambda: elf([(BASE, 0x1000, 0x10, 0x10)] * 3, size=100),
    "class32.elf": lambda: elf([(BASE, 0x1000, 0x1000, 0x1000)], cls=1, size=0x2000),
    "bigendian.elf": lambda: elf([(BASE, 0x1000, 0x1000, 0x1000)], data=2, size=0x2000),
    "x86.elf": lambda: elf([(BASE, 0x1000, 0x1000, 0x1000)], machine=62, size=0x2000),
    # e_phnum 65535 (PN_XNUM): the count is section 0's sh_info, 65535 too
    "phnum.elf": lambda: pad(elf([], phnum=65535, shoff=0x1000, shnum=1), 0x1000) + struct.pack(
        "<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, 65535, 0, 0) + bytes(0x1000),
    # e_phnum 65535 (PN_XNUM) and no section header to hold the count
    "xnum.elf": lambda: elf([], phnum=65535, size=0x2000),
    "filesz.elf": lambda: elf([(BASE, 0x1000, 0x2000, 0x1000)], size=0x4000),
    "entry.elf": lambda: elf([(BASE, 0x1000, 0x1000, 0x1000)], entry=0x1000, size=0x2000),
}

if __name__ == "__main__":
    names = sys.argv[2:] or list(IMAGES)
    if len(sys.argv) < 2 or any(n not in IMAGES for n in names):
        sys.exit("usage: mkimage.py OUT_DIR [%s]..." % "|".join(IMAGES))
    for n in names:
        with open(os.path.join(sys.argv[1], n), "wb") as f:
            f.write(IMAGES[n]())
