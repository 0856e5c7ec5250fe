#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Linux guest kit (scripts/linux-guest.sh, issue 13 first part).
# Always (no network): its helpers on crafted inputs (kernel formats, module
# dependencies, the initramfs writer, /init's command line protocol) and the
# unreachable-registry error. With the kit cached ($RK_LINUX_GUEST_DIR, else
# the default cache; scripts/setup.sh fetches it when RK_LINUX_GUEST=1): the
# manifest, the Image header, the initramfs contents, a cached run that does no
# network access. Without a cached kit those checks are skipped (SKIP line).
# RK_LINUX_GUEST=1 also checks, online, that a Release signed by keys outside
# the keyring is refused.
set -uo pipefail
src=${RK_SOURCE_DIR:?RK_SOURCE_DIR not set}
kit=$src/scripts/linux-guest.sh
tool=$src/scripts/linux-guest-tool.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}
# expect NAME STATUS CMD...: CMD exits with STATUS; stdout/stderr in $tmp/NAME.out/.err
expect() {
	local name=$1 want=$2 st
	shift 2
	"$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	st=$?
	if [ "$st" != "$want" ]; then
		fail "$name: exit status $st, expected $want ($*)"
		sed 's/^/    out: /' "$tmp/$name.out" | tail -5
		sed 's/^/    err: /' "$tmp/$name.err" | tail -5
	fi
}
has() { # has NAME out|err TEXT
	grep -qF -- "$3" "$tmp/$1.$2" || { fail "$1: std$2 lacks '$3'"; sed "s/^/    $2: /" "$tmp/$1.$2" | tail -5; }
}

# --- kernel formats: a crafted Image header, plain and compressed -------------------
python3 - "$tmp" <<'EOF'
import gzip, random, struct, sys
d = sys.argv[1]
img = bytearray(random.Random(1).randbytes(65536))   # incompressible: truncation shows
img[0:128] = bytes(128)
img[0:2] = b"MZ"                                       # EFI stub, as Debian's
struct.pack_into("<QQQ", img, 8, 0, 0x28d0000, 0xa)   # text_offset, image_size, flags
struct.pack_into("<II", img, 56, 0x644D5241, 64)      # magic, PE header offset
img[64:68] = b"PE\0\0"
img = bytes(img)
open(f"{d}/raw", "wb").write(img)
open(f"{d}/gz", "wb").write(gzip.compress(img))
payload = gzip.compress(img)
zb = bytearray(512)
zb[0:2] = b"MZ"; zb[4:8] = b"zimg"
struct.pack_into("<II", zb, 8, 512, len(payload))
zb[24:28] = b"gzip"
open(f"{d}/zboot", "wb").write(bytes(zb) + payload)
bad = bytearray(img); struct.pack_into("<I", bad, 56, 0x53726448)  # "HdrS": an x86 bzImage
open(f"{d}/x86", "wb").write(bytes(bad))
open(f"{d}/trunc", "wb").write(gzip.compress(img)[:30000])
open(f"{d}/short", "wb").write(img[:40])
EOF
expect kraw 0 python3 "$tool" kernel-info "$tmp/raw"
has kraw out KERNEL_FORMAT=raw
has kraw out KERNEL_PE=1
has kraw out IMAGE_SIZE=0x28d0000
has kraw out IMAGE_FLAGS=0xa
expect kgz 0 python3 "$tool" kernel-info "$tmp/gz"
has kgz out KERNEL_FORMAT=gzip
expect kzb 0 python3 "$tool" kernel-info "$tmp/zboot"
has kzb out KERNEL_FORMAT=efi-zboot-gzip
expect kzbx 0 python3 "$tool" extract-image "$tmp/zboot" "$tmp/zboot.img"
cmp -s "$tmp/zboot.img" "$tmp/raw" || fail "extract-image of an EFI zboot file is not the Image inside"
if command -v zstd >/dev/null; then
	zstd -q "$tmp/raw" -o "$tmp/zst"
	expect kzst 0 python3 "$tool" kernel-info "$tmp/zst"
	has kzst out KERNEL_FORMAT=zstd
fi
for bad in x86 trunc short; do
	expect "k$bad" 1 python3 "$tool" kernel-info "$tmp/$bad"
	[ "$(wc -l <"$tmp/k$bad.err")" -eq 1 ] || fail "kernel-info $bad: not one line of error"
	grep -q Traceback "$tmp/k$bad.err" && fail "kernel-info $bad: a Python traceback"
done
has kx86 err "no arm64 Image"

# --- module dependencies: crafted modules with .modinfo ----------------------------
python3 - "$tmp/mods" <<'EOF'
import gzip, lzma, os, struct, sys
root = sys.argv[1]
def elf(modinfo):
    mi = b"\0".join(x.encode() for x in modinfo) + b"\0"
    shstr = b"\0.modinfo\0.shstrtab\0"
    off_mi, off_ss = 64, 64 + len(mi)
    shoff = (off_ss + len(shstr) + 7) & ~7
    eh = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8) + struct.pack(
        "<HHIQQQIHHHHHH", 1, 183, 1, 0, 0, shoff, 0, 64, 0, 0, 64, 3, 2)
    body = eh + mi + shstr
    body += bytes(shoff - len(body))
    sh = bytes(64) + struct.pack("<IIQQQQIIQQ", 1, 1, 2, 0, off_mi, len(mi), 0, 0, 1, 0) \
        + struct.pack("<IIQQQQIIQQ", 10, 3, 0, 0, off_ss, len(shstr), 0, 0, 1, 0)
    return body + sh
mods = {  # path: (depends, compression)
    "kernel/x/top-mod.ko": ("mid_mod,leaf,built_in", "xz"),
    "kernel/y/mid-mod.ko": ("leaf", "gzip"),
    "kernel/z/leaf.ko": ("", "none"),
    "kernel/c/cyc1.ko": ("cyc2", "none"),
    "kernel/c/cyc2.ko": ("cyc1", "none"),
    "kernel/m/lonely.ko": ("absent", "none"),
}
os.makedirs(root)
with open(f"{root}/modules.order", "w") as order:
    for p, (deps, comp) in mods.items():
        order.write(p + "\n")
        data = elf(["license=GPL", f"depends={deps}", "name=" + os.path.basename(p)[:-3].replace("-", "_")])
        os.makedirs(os.path.dirname(f"{root}/{p}"), exist_ok=True)
        if comp == "xz": open(f"{root}/{p}.xz", "wb").write(lzma.compress(data))
        elif comp == "gzip": open(f"{root}/{p}.gz", "wb").write(gzip.compress(data))
        else: open(f"{root}/{p}", "wb").write(data)
open(f"{root}/modules.builtin", "w").write("kernel/b/built-in.ko\n")
EOF
expect mods 0 python3 "$tool" modules "$tmp/mods" "$tmp/modout" top-mod
printf '%s\n' "kernel/z/leaf.ko none" "kernel/y/mid-mod.ko gzip" "kernel/x/top-mod.ko xz" >"$tmp/mods.want"
cmp -s "$tmp/mods.out" "$tmp/mods.want" || { fail "module load order"; diff "$tmp/mods.want" "$tmp/mods.out"; }
for m in kernel/z/leaf.ko kernel/y/mid-mod.ko kernel/x/top-mod.ko; do
	[ "$(head -c4 "$tmp/modout/$m" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ] || fail "$m not written decompressed"
done
expect modcyc 1 python3 "$tool" modules "$tmp/mods" "$tmp/modout2" cyc1
has modcyc err "dependency cycle"
expect modmiss 1 python3 "$tool" modules "$tmp/mods" "$tmp/modout3" lonely
has modmiss err "module absent not found"

# --- the initramfs writer: newc that cpio reads, /dev/console, same bytes each time ---
mkdir -p "$tmp/tree/bin" "$tmp/tree/etc"
printf '#!/bin/sh\necho hi\n' >"$tmp/tree/init"
chmod 755 "$tmp/tree/init"
printf 'x' >"$tmp/tree/etc/odd"
ln -s busybox "$tmp/tree/bin/sh"
expect cpio1 0 python3 "$tool" mkinitramfs "$tmp/i1.img" "$tmp/tree"
touch -d '2001-01-01' "$tmp/tree/init"
expect cpio2 0 python3 "$tool" mkinitramfs "$tmp/i2.img" "$tmp/tree"
cmp -s "$tmp/i1.img" "$tmp/i2.img" || fail "mkinitramfs: the same tree gave different bytes"
if command -v cpio >/dev/null; then
	gzip -dc "$tmp/i1.img" | cpio -itv --quiet >"$tmp/cpio.list" 2>"$tmp/cpio.err" || fail "cpio cannot read the initramfs: $(cat "$tmp/cpio.err")"
	grep -qE '^-rwxr-xr-x .* init$' "$tmp/cpio.list" || fail "initramfs: no executable init"
	grep -qE '^crw------- .* 5, +1 .* dev/console$' "$tmp/cpio.list" || fail "initramfs: no dev/console (char 5:1)"
	grep -qE '^lrwxrwxrwx .* bin/sh -> busybox$' "$tmp/cpio.list" || fail "initramfs: no bin/sh symlink"
	mkdir "$tmp/x" && (cd "$tmp/x" && gzip -dc "$tmp/i1.img" | cpio -id --quiet 2>/dev/null)
	cmp -s "$tmp/x/init" "$tmp/tree/init" || fail "initramfs: init content differs"
else
	echo "SKIP: cpio listing (no cpio program; Debian package cpio)"
fi

# --- /init: valid sh, and the command is the text after the first " -- " -------------
sh -n "$src/scripts/linux-guest-init.sh" || fail "linux-guest-init.sh: sh syntax"
sed -n '/^rk_cmd()/,/^}/p' "$src/scripts/linux-guest-init.sh" >"$tmp/rk_cmd.sh"
rk_cmd_of() { sh -c '. "$1"; rk_cmd "$2"' x "$tmp/rk_cmd.sh" "$1"; }
check_cmd() { # CMDLINE EXPECTED
	local got; got=$(rk_cmd_of "$1")
	[ "$got" = "$2" ] || fail "rk_cmd '$1': got '$got', expected '$2'"
}
check_cmd 'console=ttyAMA0 rdinit=/init -- uname -a; cat /proc/cpuinfo' 'uname -a; cat /proc/cpuinfo'
check_cmd 'a=b-- c -- sh -c "x  y" -- z' 'sh -c "x  y" -- z'
check_cmd '-- true' 'true'
check_cmd 'console=ttyAMA0 --' ''
check_cmd 'console=ttyAMA0' ''
# rk.challenge= before the " -- " only; the token through a stand-in configfs-tsm report
sed -n '/^rk_challenge()/,/^}/p; /^rk_attest()/,/^}/p' "$src/scripts/linux-guest-init.sh" >"$tmp/rk_att.sh"
chal=$(printf '0123456789abcdef%.0s' 1 2 3 4 5 6 7 8)
for c in "a rk.challenge=$chal b -- x" "rk.challenge=$chal -- rk.challenge=no" "rk.challenge=$chal"; do
	got=$(sh -c '. "$1"; rk_challenge "$2"' x "$tmp/rk_att.sh" "$c")
	[ "$got" = "$chal" ] || fail "rk_challenge '$c': got '$got'"
done
got=$(sh -c '. "$1"; rk_challenge "$2"' x "$tmp/rk_att.sh" "a -- rk.challenge=$chal")
[ -z "$got" ] || fail "rk_challenge: took the command's rk.challenge= ('$got')"
if command -v xxd >/dev/null; then
	mkdir -p "$tmp/tsm"
	head -c 37 /dev/urandom >"$tmp/tok.bin"
	# mkdir stands in for configfs: the report's outblob is the token, inblob what was written
	TOK=$tmp/tok.bin INB=$tmp/inblob sh -c '. "$1"; mkdir() { command mkdir "$@" && cp "$TOK" "$1/outblob"; }
	       rmdir() { cp "$1/inblob" "$INB"; rm -rf "$1"; }
	       RK_TSM=$2 rk_attest "$3"' x "$tmp/rk_att.sh" "$tmp/tsm" "$chal" >"$tmp/att.out" 2>&1
	[ "$(head -1 "$tmp/att.out")" = "RK-GUEST: token-begin" ] || fail "rk_attest: no token-begin ($(head -3 "$tmp/att.out"))"
	[ "$(tail -1 "$tmp/att.out")" = "RK-GUEST: token-end 37" ] || fail "rk_attest: no token-end 37"
	[ "$(sed -n 's/^RK-GUEST: token \([0-9a-f]*\)$/\1/p' "$tmp/att.out" | tr -d '\n')" = "$(xxd -p "$tmp/tok.bin" | tr -d '\n')" ] ||
		fail "rk_attest: the token lines are not the outblob"
	[ "$(xxd -p "$tmp/inblob" | tr -d '\n')" = "$chal" ] || fail "rk_attest: inblob is not the challenge"
	got=$(sh -c '. "$1"; rk_attest 12' x "$tmp/rk_att.sh")
	[ "$got" = "RK-GUEST: token-error rk.challenge is not 64 bytes (128 hex digits)" ] || fail "rk_attest 12: '$got'"
	got=$(sh -c '. "$1"; RK_TSM=/nonexistent rk_attest "$2" 2>/dev/null' x "$tmp/rk_att.sh" "$chal")
	case "$got" in "RK-GUEST: token-error cannot create /nonexistent/rk-token"*) ;; *) fail "rk_attest without configfs: '$got'" ;; esac
fi

# --- the kit script itself, offline ------------------------------------------------
expect help 0 "$kit" --help
has help out "--offline"
expect badarg 1 "$kit" --no-such-option
expect offline 3 "$kit" --out "$tmp/empty" --offline
has offline err "no complete kit"
expect unreach 2 "$kit" --out "$tmp/unreach" --mirror http://127.0.0.1:9/debian
has unreach err "the Debian registry at http://127.0.0.1:9/debian is unreachable"
[ "$(wc -l <"$tmp/unreach.err")" -eq 1 ] || fail "unreachable registry: not one line of error"
[ ! -e "$tmp/unreach/manifest" ] || fail "unreachable registry: a manifest was written"

if [ "${RK_LINUX_GUEST:-0}" = 1 ]; then # online: a wrong keyring fails the signature check
	expect badsig 1 "$kit" --out "$tmp/badsig" --keyring /usr/share/keyrings/debian-archive-bullseye-stable.gpg
	has badsig err "signature does not verify"
fi

# --- the cached kit -----------------------------------------------------------------
"$kit" --offline >"$tmp/paths" 2>"$tmp/paths.err"
st=$?
if [ "$st" = 3 ]; then
	echo "SKIP: no cached Linux guest kit: $(cat "$tmp/paths.err") (RK_LINUX_GUEST=1 scripts/setup.sh, or scripts/linux-guest.sh, fetches it); offline checks only"
	[ "$failures" -eq 0 ] && echo "test_linux_kit: offline checks passed"
	exit $((failures > 0))
fi
[ "$st" = 0 ] || fail "linux-guest.sh --offline: exit status $st ($(cat "$tmp/paths.err"))"
man=$(sed -n 's/^manifest: //p' "$tmp/paths")
dir=$(dirname "$man")
m() { sed -n "s/^$1=//p" "$man" | head -1; }
for k in KERNEL_PACKAGE KERNEL_RELEASE BUSYBOX_PACKAGE SUITE KERNEL_FORMAT MODULES MODULE_COMPRESSION; do
	[ -n "$(m "$k")" ] || fail "manifest: no $k"
done
dpkg --compare-versions "$(m KERNEL_PACKAGE | cut -d' ' -f2)" ge 6.13 || fail "manifest: kernel $(m KERNEL_PACKAGE) older than 6.13"
for k in KERNEL IMAGE INITRD; do
	f=$dir/$(m "$k")
	[ "$(sha256sum "$f" | cut -d' ' -f1)" = "$(m "${k}_SHA256")" ] || fail "manifest: $k sha256 differs"
	[ "$(stat -c %s "$f")" = "$(m "${k}_BYTES")" ] || fail "manifest: $k size differs"
done
grep -q '^DEB\.busybox-static=.* sha256:[0-9a-f]\{64\} ' "$man" || fail "manifest: no busybox-static .deb sha256"
grep -q '^DEB\.linux-image-cloud-arm64=.* sha256:[0-9a-f]\{64\} ' "$man" || fail "manifest: no kernel .deb sha256"
# the Image (decompressed by the tool when the kernel is compressed): arm64 magic at 56
python3 "$tool" extract-image "$dir/$(m KERNEL)" "$tmp/Image" || fail "extract-image of the cached kernel"
[ "$(od -An -tx4 -j56 -N4 "$tmp/Image" | tr -d ' ')" = 644d5241 ] || fail "Image: no arm64 magic 0x644d5241 at offset 56"
cmp -s "$tmp/Image" "$dir/$(m IMAGE)" || fail "IMAGE is not the kernel's Image"
if command -v cpio >/dev/null; then
	gzip -dc "$dir/$(m INITRD)" | cpio -it --quiet >"$tmp/initrd.list" 2>/dev/null || fail "cpio cannot list the cached initramfs"
	rel=$(m KERNEL_RELEASE)
	for f in init bin/busybox bin/sh dev/console etc/rk-modules; do
		grep -qx "$f" "$tmp/initrd.list" || fail "initramfs: no $f"
	done
	for mod in $(m MODULES); do
		grep -qx "lib/modules/$rel/$mod" "$tmp/initrd.list" || fail "initramfs: no $mod"
	done
	for want in arm-cca-guest.ko tsm_report.ko configfs.ko; do
		grep -q "/$want\$" "$tmp/initrd.list" || fail "initramfs: no $want"
	done
	mkdir "$tmp/ird" && (cd "$tmp/ird" && gzip -dc "$dir/$(m INITRD)" | cpio -id --quiet 2>/dev/null)
	cmp -s "$tmp/ird/init" "$src/scripts/linux-guest-init.sh" || fail "initramfs: /init is not scripts/linux-guest-init.sh"
	[ "$(tr '\n' ' ' <"$tmp/ird/etc/rk-modules" | sed 's/ $//')" = "$(m MODULES)" ] || fail "initramfs: etc/rk-modules differs from MODULES"
	[ "$(tail -1 "$tmp/ird/etc/rk-modules")" = kernel/drivers/virt/coco/arm-cca-guest/arm-cca-guest.ko ] ||
		fail "initramfs: arm-cca-guest is not loaded last"
fi
# a cached run does no network access: an unreachable mirror does not matter
expect warm 0 "$kit" --out "$dir" --mirror http://127.0.0.1:9/debian
has warm out "kernel: $dir/$(m KERNEL)"
has warm out "initrd: $dir/$(m INITRD)"
has warm out "manifest: $man"

[ "$failures" -eq 0 ] && echo "test_linux_kit: all checks passed (kit in $dir)"
exit $((failures > 0))
