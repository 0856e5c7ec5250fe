#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# realmkit run/measure --kernel IMAGE [--initrd FILE] [--append ARGS]: the Linux arm64 boot
# protocol with a payload that is a kernel Image (guest/linux: kimage.bin, the SDK behind an
# Image header). It prints what it was given: the entry PC (RAM base + text_offset), x0 (the
# device tree, in the last 2 MiB below min(RAM, 256 MiB)) and x1..x3 (0), the tree's /chosen
# bootargs and initrd range (after the kernel's image_size region, 4 KiB aligned), the
# initrd's FNV-1a hash (the bytes arrived), and the RIM the RMM computed; `measure` with the
# same options predicts that RIM (kernel, initrd and tree measured), and the kernel gzip-,
# zstd- and EFI-zboot-compressed gives the same RIM as the raw one. Then every refusal:
# broken Images (tests/support/mkkernel.py), an initrd that is missing or does not fit, and
# usage errors. `run --kernel ... -- COMMAND`: the command line the words make, the exit status
# from the guest's "RK-GUEST: exit N" line (kimage plays the kit's /init), 1 without one (a
# panic, a timeout), the refusals; --attest/--token-out: rk.challenge= on the command line, a
# real token (RSI) out through the console's token lines, `verify` accepting it against
# `measure --kernel ... --attest`. Needs RK_CLI and RK_BINARY_DIR (set by ctest) and the guest payloads.
set -uo pipefail

. "$(dirname "$0")/../support/cli_common.sh"
need_payload kimage.bin
src=${RK_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

k="$g/kimage.bin"
python3 -S "$src/tests/support/mkkernel.py" "$k" "$tmp" || fail "mkkernel.py"
isize=$(cat "$tmp/image_size")
args="console=ttyAMA0 rdinit=/init -- uname -a"
head -c 100000 /dev/urandom >"$tmp/initrd"
fnv=$(python3 -S -c '
import sys
h = 2166136261
for b in open(sys.argv[1], "rb").read():
    h = ((h ^ b) * 16777619) & 0xffffffff
print("0x%08x" % h)' "$tmp/initrd")
rim_of() { sed -n 's/^RIM: //p' "$tmp/$1.out"; }
hex() { printf '0x%x' "$1"; }

# ---- the boot protocol: entry, registers, tree, initrd, RIM ----

run_cli raw 0 run --kernel "$k" --initrd "$tmp/initrd" --append "$args" -m 32 --timeout 60 --no-stdin
initrd_ipa=$(((0x80000000 + isize + 4095) / 4096 * 4096))
out_has raw out "kimage: entered at 0x80000000, x0 0x81e00000 x1 0x0 x2 0x0 x3 0x0"
out_has raw out "kimage: device tree magic ok"
out_has raw out "kimage: bootargs \"$args\""
out_has raw out "kimage: initrd-start $(hex $initrd_ipa)"
out_has raw out "kimage: initrd-end $(hex $((initrd_ipa + 100000)))"
out_has raw out "kimage: initrd 100000 bytes, fnv1a $fnv"
# the debug registers the realm is told of exist (Linux writes them all at boot)
out_has raw out "kimage: 6 breakpoints, 4 watchpoints: the last of each written"
out_has raw err "kernel: raw Image, $(hex $(stat -c %s "$k")) bytes at 0x80000000, image_size $(hex $isize); initrd: 0x186a0 bytes at $(hex $initrd_ipa)"
out_has raw err "device tree: "
out_has raw err "bytes at 0x81e00000, measured, x0 of vCPU 0"
out_has raw err "torn down, nothing leaked"
rim=$(rim_of raw)
[ -n "$rim" ] || fail "raw: the kernel printed no RIM"
m=$("$cli" measure --kernel "$k" --initrd "$tmp/initrd" --append "$args" -m 32) || fail "measure --kernel"
[ "$m" = "$rim" ] || fail "measure --kernel ($m) is not the RIM the realm read ($rim)"
# everything is measured: another initrd, other arguments, no initrd each change the RIM
head -c 100000 /dev/zero >"$tmp/initrd0"
m_i=$("$cli" measure --kernel "$k" --initrd "$tmp/initrd0" --append "$args" -m 32) || fail "measure initrd0"
m_a=$("$cli" measure --kernel "$k" --initrd "$tmp/initrd" --append "$args x" -m 32) || fail "measure append"
m_n=$("$cli" measure --kernel "$k" --append "$args" -m 32) || fail "measure no initrd"
[ "$m_i" != "$m" ] && [ "$m_a" != "$m" ] && [ "$m_n" != "$m" ] && [ "$m_n" != "$m_i" ] ||
	fail "the initrd's bytes, the command line or the initrd's presence do not change the RIM"
# the tree measure writes is the one run gives (/chosen with the initrd and the arguments)
run_cli dtb_out 0 measure --kernel "$k" --initrd "$tmp/initrd" --append "$args" -m 32 --dtb-out "$tmp/k.dtb" -v
out_has dtb_out err "Linux arm64 Image sha-256"
out_has dtb_out err "raw kernel, image_size $(hex $isize) reserved, initrd $(hex $initrd_ipa)+0x186a0 measured, device tree 0x81e00000+0x"
if command -v dtc >/dev/null; then
	dtc -I dtb -O dts -o "$tmp/k.dts" "$tmp/k.dtb" 2>/dev/null || fail "dtc cannot read the kernel's tree"
	grep -qF "linux,initrd-start = <0x00 $(hex $initrd_ipa)>;" "$tmp/k.dts" || fail "tree: initrd-start"
	grep -qF "bootargs = \"$args\";" "$tmp/k.dts" || fail "tree: bootargs"
fi

# no initrd, no arguments: a tree without them; -c 2: vCPU 1 waits for PSCI CPU_ON
run_cli bare 0 run --kernel "$k" -m 16 -c 2 --timeout 60 --no-stdin
out_has bare out "kimage: entered at 0x80000000, x0 0x80e00000 x1 0x0 x2 0x0 x3 0x0"
out_hasnt bare out "initrd"
out_hasnt bare out "bootargs"
[ "$(rim_of bare)" = "$("$cli" measure --kernel "$k" -m 16 -c 2)" ] || fail "bare: measure is not the RIM"

# ---- compressed and wrapped kernels: the same Image, the same realm ----

gzip -9nc "$k" >"$tmp/k.gz" || fail "gzip"
zstd -q -19 -c "$k" >"$tmp/k.zst" || fail "zstd"
python3 -S "$src/tests/support/mkkernel.py" zboot "$tmp/k.zst" "$tmp/zboot_zstd.bin" zstd || fail "zboot zstd"
for v in k.gz k.zst zboot_gzip.bin zboot_zstd.bin gzip_padded.bin; do
	n=comp_${v%%.*}_${v##*.}
	run_cli $n 0 run --kernel "$tmp/$v" --initrd "$tmp/initrd" --append "$args" -m 32 --timeout 60 --no-stdin
	out_has $n out "kimage: initrd 100000 bytes, fnv1a $fnv"
	[ "$(rim_of $n)" = "$rim" ] || fail "$v: RIM $(rim_of $n), not the raw kernel's $rim"
	mv=$("$cli" measure --kernel "$tmp/$v" --initrd "$tmp/initrd" --append "$args" -m 32) || fail "measure $v"
	[ "$mv" = "$rim" ] || fail "measure $v: $mv, not the raw kernel's $rim"
done
out_has comp_k_gz err "kernel: gzip Image"
out_has comp_k_zst err "kernel: zstd Image"
# a PE/EFI-stub Image (what Debian ships, signed): booted as the raw Image it is
run_cli pe 0 run --kernel "$tmp/pe.bin" -m 16 --timeout 60 --no-stdin
out_has pe out "kimage: entered at 0x80000000, x0 0x80e00000"
[ "$(rim_of pe)" = "$("$cli" measure --kernel "$tmp/pe.bin" -m 16)" ] || fail "pe: measure is not the RIM"
# text_offset: the Image goes that far above the RAM base, and is entered there
run_cli offset 0 measure --kernel "$tmp/offset.bin" -m 16 -v
out_has offset err "image 0x80080000+$(hex $(stat -c %s "$k")) measured"
out_has offset err "vCPU 0 runnable at 0x80080000"
run_cli page64k 0 measure --kernel "$tmp/page64k.bin" -m 16

# ---- refusals: exit 1 and one line for a kernel or initrd that cannot be used ----

refuse() { # refuse NAME FILE TEXT [ARGS...]
	local n=$1 f=$2 t=$3
	shift 3
	run_cli $n 1 run --kernel "$f" "$@" --timeout 60 --no-stdin
	out_has $n err "realmkit run: $f: $t"
	out_hasnt $n err "realmkit: realm"
	run_cli ${n}_m 1 measure --kernel "$f" "$@"
	out_has ${n}_m err "realmkit measure: $f: $t"
}
refuse short "$tmp/short.bin" "truncated Linux arm64 Image (40 bytes; its header alone is 64)"
refuse empty "$tmp/empty.bin" "the kernel file is empty"
refuse badmagic "$tmp/badmagic.bin" 'not a Linux arm64 Image: no magic 0x644d5241 ("ARM\x64") at offset 56 (0x12345678)'
refuse bigendian "$tmp/bigendian.bin" "a big-endian kernel (Image flags bit 0)"
refuse page16k "$tmp/page16k.bin" "a kernel built for 16 KiB pages"
refuse size0 "$tmp/size0.bin" "image_size is 0 in the Image header"
refuse sizesmall "$tmp/sizesmall.bin" "image_size $(hex $(($(stat -c %s "$k") - 1))) in the Image header is smaller than the Image ($(stat -c %s "$k") bytes)"
refuse unaligned "$tmp/unaligned.bin" "text_offset 0x80010 is not 4 KiB aligned"
refuse huge "$tmp/huge.bin" "the kernel needs 64 MiB of RAM (text_offset 0x0 + image_size 0x4000000), guest RAM is 16 MiB (see -m)" -m 16
refuse bzimage "$tmp/bzimage.bin" "an x86 Linux kernel (bzImage), not an arm64 one"
refuse vmlinux "$tmp/vmlinux.bin" "an ELF file (a vmlinux?)"
refuse xz "$tmp/xz.bin" "an xz-compressed file: realmkit decompresses gzip and zstd kernels"
refuse gz_trunc "$tmp/gzip_truncated.bin" "truncated gzip stream"
refuse gz_corrupt "$tmp/gzip_corrupt.bin" "corrupt gzip data"
refuse gz_trailing "$tmp/gzip_trailing.bin" "data after the end of the gzip stream"
refuse gz_raw "$tmp/gzip_raw.bin" "the gzip kernel decompresses to 200 bytes: not a Linux arm64 Image"
head -c 3000 "$tmp/k.zst" >"$tmp/zst_trunc.bin"
refuse zst_trunc "$tmp/zst_trunc.bin" "truncated zstd stream"
python3 -S -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[12:212] = b"\xff" * 200
open(sys.argv[2], "wb").write(b)' "$tmp/k.zst" "$tmp/zst_corrupt.bin"
refuse zst_corrupt "$tmp/zst_corrupt.bin" "corrupt zstd data"
refuse zboot_lzma "$tmp/zboot_lzma.bin" "EFI zboot image compressed with 'lzma'"
refuse zboot_bad "$tmp/zboot_bad.bin" "EFI zboot image: its payload [0x40, +0x"
# a zstd bomb: more than guest RAM once decompressed
head -c $((20 << 20)) /dev/zero | zstd -q -c >"$tmp/bomb.zst"
refuse bomb "$tmp/bomb.zst" "the zstd kernel decompresses to more than guest RAM (16 MiB)" -m 16
refuse missing "$tmp/nope" "No such file or directory"
refuse dir "$tmp" "is a directory"
# the kernel fits, its device tree does not
run_cli no_dtb_room 1 run --kernel "$tmp/huge.bin" -m 64 --no-stdin
out_has no_dtb_room err "no room for the device tree in 64 MiB of RAM"
# the initrd: missing, empty, larger than RAM, not fitting after the kernel
run_cli initrd_missing 1 run --kernel "$k" --initrd "$tmp/nope" --no-stdin
out_has initrd_missing err "realmkit run: --initrd $tmp/nope: No such file or directory"
: >"$tmp/initrd_empty"
run_cli initrd_empty 1 measure --kernel "$k" --initrd "$tmp/initrd_empty"
out_has initrd_empty err "realmkit measure: --initrd $tmp/initrd_empty: the initrd is empty"
head -c $((20 << 20)) /dev/zero >"$tmp/initrd_big"
run_cli initrd_big 1 run --kernel "$k" --initrd "$tmp/initrd_big" -m 16 --no-stdin
out_has initrd_big err "--initrd $tmp/initrd_big: the initrd is 20 MiB, guest RAM is 16 MiB (see -m)"
out_hasnt initrd_big err "realmkit: realm"
head -c $((14 << 20)) /dev/zero >"$tmp/initrd_14"
run_cli initrd_nofit 1 measure --kernel "$k" --initrd "$tmp/initrd_14" -m 16
out_has initrd_nofit err "the initrd (14 MiB) does not fit in guest RAM [0x80000000,0x81000000) after the kernel"
out_has initrd_nofit err "(see -m)"
run_cli initrd_fits 0 measure --kernel "$k" --initrd "$tmp/initrd_14" -m 18

# ---- usage errors: exit 2, nothing built ----

run_cli u_initrd 2 run "$k" --initrd "$tmp/initrd"
out_has u_initrd err "realmkit run: --initrd is for a Linux kernel: it needs --kernel"
run_cli u_append 2 measure "$k" --append quiet
out_has u_append err "realmkit measure: --append is for a Linux kernel: it needs --kernel"
run_cli u_both 2 run --kernel "$k" "$k"
out_has u_both err "--kernel $k is the image: give no IMAGE argument ('$k') with it"
run_cli u_args 2 run --kernel "$k" --append quiet --bootargs quiet
out_has u_args err "--append and --bootargs both give the kernel command line: give one"
long=$(printf 'x%.0s' {1..2048})
run_cli u_long 2 measure --kernel "$k" --append "$long"
out_has u_long err "--append takes at most 2047 bytes, not 2048"
run_cli u_none 2 run --kernel
# --bootargs works with --kernel too (it is the same /chosen/bootargs)
[ "$("$cli" measure --kernel "$k" --bootargs "$args" -m 32)" = "$("$cli" measure --kernel "$k" --append "$args" -m 32)" ] ||
	fail "--bootargs and --append give different realms"

# ---- -- COMMAND: the command line, the status from 'RK-GUEST: exit N', a token out ----

run_cli cmd_exit 3 run --kernel "$k" -m 16 --append "console=ttyAMA0" --timeout 60 --no-stdin -- exit 3
out_has cmd_exit out 'kimage: bootargs "console=ttyAMA0 -- exit 3"'
out_has cmd_exit out "RK-GUEST: exit 3"
out_has cmd_exit err "the guest's command exited with status 3"
out_has cmd_exit err "torn down, nothing leaked"
# the words joined by single spaces; the RIM covers the command (measure takes it too)
run_cli cmd_words 0 run --kernel "$k" -m 16 --timeout 60 --no-stdin -- echo 'a  b' '"q"' "\$HOME;x"
out_has cmd_words out "kimage: bootargs \"-- echo a  b \"q\" \$HOME;x\""
[ "$(rim_of cmd_words)" = "$("$cli" measure --kernel "$k" -m 16 -- echo 'a  b' '"q"' "\$HOME;x")" ] ||
	fail "cmd_words: measure -- COMMAND is not the RIM"
[ "$("$cli" measure --kernel "$k" -m 16 -- exit 1)" != "$("$cli" measure --kernel "$k" -m 16 -- exit 2)" ] ||
	fail "the command is not measured"
# an option after the image's options, a "--" that is --append's value is not the separator
run_cli cmd_optval 0 measure --kernel "$k" -m 16 --append --
run_cli cmd_later 3 run --kernel "$k" --no-stdin -- exit 3 -m 99
out_has cmd_later out 'kimage: bootargs "-- exit 3 -m 99"'
# no status line: a panic (the realm switches off), a hang (timeout): 1 and why
run_cli cmd_panic 1 run --kernel "$k" -m 16 --timeout 60 --no-stdin -- panic
out_has cmd_panic err "without reporting COMMAND's exit status (no 'RK-GUEST: exit N' line"
run_cli cmd_hang 1 run --kernel "$k" -m 16 --timeout 1 --no-stdin -- hang
out_has cmd_hang err "timed out after 1 s"
out_has cmd_hang err "COMMAND's exit status is unknown"
out_has cmd_hang err "torn down, nothing leaked"
# the last status line counts (the init's comes after the command's output)
run_cli cmd_spoof 0 run --kernel "$k" -m 16 --timeout 60 --no-stdin -- spoof
# without -- COMMAND a status line still decides; none: SYSTEM_OFF is 0, as before
run_cli cmd_append 4 run --kernel "$k" --append "-- exit 4" --timeout 60 --no-stdin
# refused: nothing built, exit 2
cmd_refuse() { # cmd_refuse NAME TEXT ARGS...
	local n=$1 t=$2
	shift 2
	run_cli $n 2 run --kernel "$k" --no-stdin "$@"
	out_has $n err "$t"
	out_hasnt $n err "realmkit: realm"
}
cmd_refuse r_nocmd "-- needs a COMMAND after it" --
cmd_refuse r_nl "COMMAND word 2 has a control character (0x0a)" -- echo "$(printf 'a\nb')"
cmd_refuse r_tab "COMMAND word 1 has a control character (0x09)" -- "$(printf 'a\tb')"
cmd_refuse r_empty "COMMAND word 2 is empty" -- echo ''
cmd_refuse r_dash "--append has ' -- ': with -- COMMAND or --attest realmkit writes it" --append "quiet -- x" -- true
cmd_refuse r_quote "--append has an unbalanced double quote" --append 'a="b' -- true
cmd_refuse r_many "COMMAND is 33 words on the kernel command line" -- $(seq 33)
run_cli ok_32 0 measure --kernel "$k" -- $(seq 32)
cmd_refuse r_long "would be longer than 2047 bytes" --append "$(printf 'x%.0s' {1..2040})" -- true
run_cli r_image 2 run "$k" --no-stdin -- true
out_has r_image err "-- COMMAND is run by a Linux guest's /init: it needs --kernel"

# ---- --attest with --kernel: rk.challenge= on the command line, the token from the console ----

chal=$(for i in $(seq 0 63); do printf '%02x' $(((i * 37 + 11) & 255)); done)
run_cli tok 5 run --kernel "$k" -m 16 --attest "$chal" --token-out "$tmp/k.cbor" --timeout 60 --no-stdin -- exit 5
out_has tok out "kimage: bootargs \"rk.challenge=$chal -- exit 5\""
out_hasnt tok out "RK-GUEST: token"
out_has tok err "attestation token: "
out_has tok err "bytes written to $tmp/k.cbor"
rim_t=$("$cli" measure --kernel "$k" -m 16 --attest "$chal" -- exit 5) || fail "measure --attest"
[ "$rim_t" = "$(rim_of tok)" ] || fail "tok: measure --kernel --attest is not the RIM"
run_cli tok_verify 0 verify "$tmp/k.cbor" --rim "$rim_t" --challenge "$chal"
out_has tok_verify out "result: VALID"
other=$(for i in $(seq 0 63); do printf '%02x' $(((i * 37 + 12) & 255)); done)
run_cli tok_other 1 verify "$tmp/k.cbor" --rim "$rim_t" --challenge "$other"
# a token whose length line is wrong, and none at all: 1, the file not created
run_cli tok_bad 1 run --kernel "$k" -m 16 --attest "$chal" --token-out "$tmp/bad.cbor" --timeout 60 --no-stdin -- badtoken
out_has tok_bad err "the token's length is not what 'token-end' says"
[ ! -e "$tmp/bad.cbor" ] || fail "tok_bad: --token-out file left behind"
run_cli tok_none 1 run --kernel "$k" -m 16 --attest "$chal" --token-out "$tmp/none.cbor" --timeout 60 --no-stdin -- notoken
out_has tok_none err "--token-out: the guest printed no token"
[ ! -e "$tmp/none.cbor" ] || fail "tok_none: --token-out file left behind"
cmd_refuse r_dash_att "--append has ' -- '" --append "x -- true" --attest "$chal"

if [ $failures -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "PASS"
