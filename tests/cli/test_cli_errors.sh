#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The CLI refuses bad input with a message that names it (issue 10, defects
# 4-9): crafted ELF files (tests/support/mkimage.py) each refused with its own
# reason; a flat image larger than 2 GiB read whole, one larger than RAM
# refused before it is read; --timeout only finite values in range; every
# numeric option without trailing junk or wrap-around; --cpak and --token-out
# checked before the realm is built (nothing runs: no console output);
# `verify DIR`; a token written to a full device is one clean error; per-event
# messages (unknown host calls, SEAs injected) rate-limited with a count.
# Needs RK_CLI, RK_BINARY_DIR and RK_SOURCE_DIR (set by ctest), python3.
set -uo pipefail

. "$(dirname "$0")/../support/cli_common.sh"
need_payload hello.elf
src=${RK_SOURCE_DIR:?RK_SOURCE_DIR not set}
cpak=$src/../shared/testdata/attestation/cpak-sample.pem
cpak_pub=$src/../shared/testdata/attestation/cpak-sample.pub.pem
chal=$(for i in $(seq 0 63); do printf '%02x' $(((i * 37 + 11) & 255)); done)


# no_run NAME: nothing was built or run (no console output, no realm messages)
no_run() {
	[ -s "$tmp/$1.out" ] && fail "$1: the realm ran (stdout not empty)"
	out_hasnt "$1" err "RIM"
}

# ---- ELF and flat image loading (defects 5, 6) ----

python3 -S "$src/tests/support/mkimage.py" "$tmp" || fail "mkimage.py"
# a crafted ELF and the same bytes flat measure the same (the loader's positive control)
run_cli elf_ok 0 measure "$tmp/hcloop.elf"
run_cli flat_ok 0 measure "$tmp/hcloop.bin"
cmp -s "$tmp/elf_ok.out" "$tmp/flat_ok.out" || fail "the crafted ELF and its flat image measure differently"

elf_refused() { # NAME MESSAGE: measure and run both refuse it, naming why
	run_cli "m_$1" 1 measure "$tmp/$1.elf"
	out_has "m_$1" err "realmkit measure: $tmp/$1.elf: $2"
	run_cli "r_$1" 1 run "$tmp/$1.elf" --timeout 10
	out_has "r_$1" err "realmkit run: $tmp/$1.elf: $2"
	no_run "r_$1"
}
elf_refused above_ram "segment 0 [0x82000000,0x82001000) is outside guest RAM [0x80000000,0x81000000) (see -m)"
elf_refused below_ram "segment 0 [0x1000,0x2000) is outside guest RAM [0x80000000,0x81000000)"
elf_refused wrap "segment 0 at 0xfffffffffffff000 of 0x2000 bytes wraps around the address space"
elf_refused overlap "segment 1 [0x80001000,0x80002000) overlaps segment 0 [0x80000000,0x80002000)"
elf_refused truncated "truncated ELF (segment 2 ends at 0x2000 past the file end 0x1800)"
elf_refused short "truncated ELF (the file is 30 bytes, an ELF64 header 64)"
elf_refused short_ph "truncated ELF (program headers at 0x40 end past the file end 0x64)"
elf_refused class32 "not a 64-bit ELF (ELFCLASS32)"
elf_refused bigendian "not a little-endian ELF (ELFDATA2MSB)"
elf_refused x86 "ELF is for x86-64, not AArch64"
elf_refused phnum "too many program headers (65535; at most 256)"
elf_refused xnum "e_phnum is PN_XNUM (65535) but there is no section 0 holding the program header count"
elf_refused filesz "segment 0: file size 0x2000 is larger than its memory size 0x1000"
elf_refused entry "entry point 0x1000 is outside guest RAM [0x80000000,0x81000000)"
# with -m 64 the segment above 16 MiB fits
run_cli above_ram_64 0 measure "$tmp/above_ram.elf" -m 64

# flat images: larger than RAM refused by size (a 3 GiB sparse file), empty, a directory
truncate -s 3G "$tmp/big3g.bin"
run_cli flat_3g 1 run "$tmp/big3g.bin"
out_has flat_3g err "big3g.bin: flat image is 3 GiB, guest RAM is 16 MiB"
: >"$tmp/empty.bin"
run_cli flat_empty 1 measure "$tmp/empty.bin"
out_has flat_empty err "flat image is empty"
run_cli image_dir 1 measure "$tmp"
out_has image_dir err "$tmp: is a directory"
# a flat image above 2 GiB is read whole (one pread moves at most 0x7ffff000 bytes; ~15 s)
truncate -s $((2048 * 1048576 + 8192)) "$tmp/big2g.bin"
run_cli flat_2g 0 measure "$tmp/big2g.bin" -m 2054
grep -qE '^[0-9a-f]{64}$' "$tmp/flat_2g.out" || fail "flat_2g: no RIM"
rm -f "$tmp/big2g.bin" "$tmp/big3g.bin"

# ---- --timeout (defect 7) ----

for t in nan inf -inf 1e300 1e-9 0 -1 "" 5x 0x; do
	run_cli "timeout_$t" 2 run "$g/hello.elf" --timeout "$t"
	out_has "timeout_$t" err "realmkit run: --timeout takes seconds, a number from 0.001 (1 ms) to 31536000 (a year), not '$t'"
	no_run "timeout_$t"
done
run_cli timeout_ok 0 run "$g/hello.elf" --timeout 31536000

# ---- numbers: no trailing junk, no wrap-around (defect 8) ----

run_cli run_m_junk 2 run "$g/hello.elf" -m 16abc
out_has run_m_junk err "realmkit run: -m takes a number of MiB, a multiple of 2, 2..16384, not '16abc'"
run_cli run_m_neg 2 measure "$g/hello.elf" -m -16
out_has run_m_neg err "-m takes a number of MiB"
run_cli run_m_wrap 2 run "$g/hello.elf" -m 18446744073709551632
run_cli run_c_junk 2 run "$g/hello.elf" -c 2x
out_has run_c_junk err "realmkit run: -c takes a number 1..64 (vCPUs), not '2x'"
run_cli run_c_wrap 2 run "$g/hello.elf" -c 4294967297
run_cli bench_n_neg 2 bench "$g/hello.elf" -n -1
out_has bench_n_neg err "realmkit bench: -n takes a number 1..100000 (cycles), not '-1'"
run_cli info_junk 2 info -m 16abc
out_has info_junk err "realmkit info: -m takes a number 64..65536 (MiB of DRAM), not '16abc'"
run_cli info_wrap 2 info -m 17592186044417
out_has info_wrap err "realmkit info: -m takes a number 64..65536 (MiB of DRAM), not '17592186044417'"
run_cli info_extra 2 info extra
out_has info_extra err "unexpected argument 'extra'"
run_cli demo_huge 2 demo -m 100000000
out_has demo_huge err "realmkit demo: -m takes a number 64..65536 (MiB of DRAM), not '100000000'"
out_hasnt demo_huge err "-22"
run_cli demo_s 2 demo -s 7
out_has demo_s err "realmkit demo: -s: the realm size must be a multiple of 2 MiB"
run_cli version_extra 2 version extra
out_has version_extra err "realmkit version: unexpected argument 'extra'"
run_cli hex_m 0 measure "$g/hello.elf" -m 0x10

# ---- files named before anything runs (defect 8) ----

if [ -f "$cpak" ]; then
	run_cli cpak_missing 2 run "$g/hello.elf" --attest "$chal" --cpak "$tmp/none.pem" --timeout 60
	out_has cpak_missing err "realmkit run: --cpak $tmp/none.pem: No such file or directory"
	no_run cpak_missing
	printf 'not a key\n' >"$tmp/garbage.pem"
	run_cli cpak_garbage 2 run "$g/hello.elf" --cpak "$tmp/garbage.pem" --timeout 60
	out_has cpak_garbage err "realmkit run: --cpak $tmp/garbage.pem: no EC key in PEM form"
	no_run cpak_garbage
	run_cli cpak_pub 2 run "$g/hello.elf" --cpak "$cpak_pub" --timeout 60
	out_has cpak_pub err "a public key: the machine needs the private CPAK"
	no_run cpak_pub
	run_cli cpak_dir 2 run "$g/hello.elf" --cpak "$tmp" --timeout 60
	out_has cpak_dir err "realmkit run: --cpak $tmp: Is a directory"
	run_cli verify_cpak_dir 2 verify "$tmp/x.cbor" --cpak "$tmp"
	out_has verify_cpak_dir err "cannot use CPAK '$tmp': Is a directory"
fi
run_cli tok_nodir 2 run "$g/hello.elf" --attest "$chal" --token-out "$tmp/nodir/t.cbor" --timeout 60
out_has tok_nodir err "realmkit run: --token-out $tmp/nodir/t.cbor: No such file or directory"
no_run tok_nodir
run_cli tok_dir 2 run "$g/hello.elf" --attest "$chal" --token-out "$tmp" --timeout 60
out_has tok_dir err "realmkit run: --token-out $tmp: Is a directory"
no_run tok_dir
# no token: an existing --token-out file is left as it was, a new one is not left behind
printf 'old' >"$tmp/old.cbor"
run_cli tok_keep 1 run "$g/hello.elf" --attest "$chal" --token-out "$tmp/old.cbor" --timeout 60
out_has tok_keep err "handed over no attestation token"
[ "$(cat "$tmp/old.cbor")" = old ] || fail "tok_keep: the existing --token-out file was changed"
run_cli tok_new 1 run "$g/hello.elf" --attest "$chal" --token-out "$tmp/new.cbor" --timeout 60
[ -e "$tmp/new.cbor" ] && fail "tok_new: an empty --token-out file was left behind"

run_cli verify_dir 1 verify "$tmp"
out_has verify_dir err "realmkit verify: cannot read '$tmp': is a directory"
out_hasnt verify_dir err "Input/output error"

# ---- a token written to a full device: one clean error (defect 4) ----

if [ -f "$g/attest.elf" ] && [ -w /dev/full ]; then
	run_cli tok_full 1 run "$g/attest.elf" --attest "$chal" --token-out /dev/full --timeout 60
	out_has tok_full err "realmkit run: cannot write the token to /dev/full: No space left on device"
	out_has tok_full err "torn down, nothing leaked"
fi

# ---- per-event messages rate-limited (defect 9) ----

run_cli hcloop 0 run "$tmp/hcloop.bin" --timeout 120
[ "$(grep -c "unknown host call 0x77: answered with zeros" "$tmp/hcloop.err")" = 10 ] ||
	fail "hcloop: not 10 'unknown host call' lines: $(grep -c 'unknown host call 0x77' "$tmp/hcloop.err")"
out_has hcloop err "realmkit run: ... 990 more 'unknown host call' messages suppressed"
out_has hcloop err "1000 host calls"
run_cli sealoop 0 run "$tmp/sealoop.bin" --timeout 120
[ "$(grep -c "^vm 1: vCPU 0: read at unprotected IPA" "$tmp/sealoop.err")" = 10 ] ||
	fail "sealoop: not 10 'SEA injected' lines: $(grep -c '^vm 1: vCPU 0: read at' "$tmp/sealoop.err")"
out_has sealoop err "vm 1: ... 990 more messages like 'vCPU 0: read at unprotected IPA 0x8020000000"
out_has sealoop err "torn down, nothing leaked"
# --quiet: none of them, and no count
run_cli hcloop_q 0 run "$tmp/hcloop.bin" --timeout 120 -q
out_hasnt hcloop_q err "unknown host call"

if [ "$failures" -ne 0 ]; then
	echo "test_cli_errors: $failures failure(s)"
	exit 1
fi
echo "test_cli_errors: all passed"
