#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# realmkit run/measure --dtb, --bootargs, --dtb-out: the device tree the guest
# gets, decompiled with dtc (device-tree-compiler) and checked node by node
# (cpus follow -c, memory follows -m, one GIC redistributor frame per vCPU,
# PSCI by SMC for a realm and HVC for a normal VM, /chosen bootargs), with no
# dtc warning; the tree is measured: the RIM the realm reads changes with it,
# and `measure` with the same options predicts it and writes the same bytes;
# without --dtb the RIM is the one of a realm without a tree; usage errors.
# Needs RK_CLI and RK_BINARY_DIR (set by ctest) and the guest payloads; the
# dtc checks are skipped, with a message, only if dtc is not installed
# (scripts/setup.sh installs it).
set -uo pipefail

. "$(dirname "$0")/../support/cli_common.sh"
need_payload hello.elf

have_dtc=1
if ! command -v dtc >/dev/null; then
	have_dtc=0
	echo "SKIP (dtc checks only): dtc not installed (Debian device-tree-compiler, deps/debian-packages.txt)"
fi

# dts NAME FILE: decompile FILE into $tmp/NAME.out (stderr, dtc's warnings, in $tmp/NAME.err)
dts() {
	if ! dtc -I dtb -O dts -o "$tmp/$1.out" "$2" 2>"$tmp/$1.err"; then
		fail "$1: dtc cannot read $2"
		sed 's/^/    dtc: /' "$tmp/$1.err"
	elif [ -s "$tmp/$1.err" ]; then
		fail "$1: dtc warns about $2"
		sed 's/^/    dtc: /' "$tmp/$1.err"
	fi
}

# count NAME REGEX: how many lines of $tmp/NAME.out match
count() { grep -cE -- "$2" "$tmp/$1.out"; }

args="console=ttyAMA0 earlycon rdinit=/init"

# ---- the tree follows -c and -m ----

for cm in "1 16" "3 32" "8 64"; do
	set -- $cm
	c=$1 mib=$2 n=run_c$1
	run_cli $n 0 run "$g/hello.elf" -c $c -m $mib --dtb-out "$tmp/c$c.dtb" --bootargs "$args" --timeout 60
	out_has $n out "Hello from a realm!"
	out_has $n err "hello: PASS"
	dtb_ipa=$(printf '0x%x' $((0x80000000 + mib * 1048576 - 2097152)))
	size=$(stat -c %s "$tmp/c$c.dtb")
	out_has $n err "device tree ($size bytes) written to $tmp/c$c.dtb"
	out_has $n err "device tree: $size bytes at $dtb_ipa, measured, x0 of vCPU 0"
	out_has $n err "torn down, nothing leaked"
	[ $have_dtc = 1 ] || continue
	dts dts_c$c "$tmp/c$c.dtb"
	d=dts_c$c
	out_has $d out 'compatible = "linux,dummy-virt";'
	[ "$(count $d '^		cpu@[0-9a-f]+ \{')" = "$c" ] || fail "$d: not $c cpu nodes"
	[ "$(count $d 'enable-method = "psci";')" = "$c" ] || fail "$d: not $c cpus with enable-method psci"
	for ((i = 0; i < c; i++)); do
		out_has $d out "cpu@$i {"
	done
	out_has $d out "memory@80000000 {"
	out_has $d out "reg = <0x00 0x80000000 0x00 $(printf '0x%x' $((mib * 1048576)))>;"
	out_has $d out 'method = "smc";'
	out_has $d out 'compatible = "arm,psci-1.0\0arm,psci-0.2";'
	out_has $d out 'compatible = "arm,armv8-timer\0arm,armv7-timer";'
	out_has $d out "interrupts = <0x01 0x0d 0x04 0x01 0x0e 0x04 0x01 0x0b 0x04 0x01 0x0a 0x04>;"
	out_has $d out "intc@8000000 {"
	out_has $d out 'compatible = "arm,gic-v3";'
	out_has $d out "reg = <0x00 0x8000000 0x00 0x10000 0x00 0x80a0000 0x00 $(printf '0x%x' $((c * 0x20000)))>;"
	out_has $d out "pl011@9000000 {"
	out_has $d out "reg = <0x00 0x9000000 0x00 0x1000>;"
	out_has $d out 'compatible = "arm,pl011\0arm,primecell";'
	out_has $d out "bootargs = \"$args\";"
	out_has $d out 'stdout-path = "/pl011@9000000";'
	out_has $d out 'serial0 = "/pl011@9000000";'
	out_hasnt $d out "linux,initrd-start"
done

# ---- a normal VM: PSCI by HVC, devices where the host serves them ----

run_cli normal 0 run "$g/smp.elf" --normal -c 2 --dtb-out "$tmp/normal.dtb" --timeout 60
out_has normal out "smp: 2 cpus, 1 started, all up and off"
out_has normal err "device tree: "
out_hasnt normal err "measured"
if [ $have_dtc = 1 ]; then
	dts dts_normal "$tmp/normal.dtb"
	out_has dts_normal out 'method = "hvc";'
	out_has dts_normal out "pl011@8009000000 {"
	out_has dts_normal out "intc@8008000000 {"
	out_hasnt dts_normal out "bootargs"
fi

# ---- measured: the realm's RIM covers the tree; measure predicts it and writes the same tree ----

rim_of() { sed -n 's/^RIM: //p' "$tmp/$1.out"; }
m_dtb=$("$cli" measure "$g/hello.elf" -c 3 -m 32 --bootargs "$args" --dtb-out "$tmp/m.dtb") || fail "measure --dtb-out"
[ -n "$m_dtb" ] && [ "$m_dtb" = "$(rim_of run_c3)" ] ||
	fail "measure --dtb ($m_dtb) is not the RIM the realm read ($(rim_of run_c3))"
cmp -s "$tmp/m.dtb" "$tmp/c3.dtb" || fail "measure --dtb-out wrote another tree than run --dtb-out"
m_plain=$("$cli" measure "$g/hello.elf" -c 3 -m 32) || fail "measure"
m_dtb2=$("$cli" measure "$g/hello.elf" -c 3 -m 32 --dtb --bootargs "$args") || fail "measure --dtb"
m_other=$("$cli" measure "$g/hello.elf" -c 3 -m 32 --dtb --bootargs "${args/init/sbin}") || fail "measure --bootargs"
m_noargs=$("$cli" measure "$g/hello.elf" -c 3 -m 32 --dtb) || fail "measure --dtb without bootargs"
[ "$m_dtb2" = "$m_dtb" ] || fail "measure --dtb and --dtb-out differ"
[ "$m_plain" != "$m_dtb" ] || fail "the tree does not change the RIM"
[ "$m_other" != "$m_dtb" ] || fail "other bootargs do not change the RIM"
[ "$m_noargs" != "$m_dtb" ] || fail "bootargs do not change the RIM"
# without --dtb, a realm is what it was: its RIM is measure's without the tree
run_cli plain 0 run "$g/hello.elf" -c 3 -m 32 --timeout 60
[ "$(rim_of plain)" = "$m_plain" ] || fail "without --dtb the RIM is not measure's ($(rim_of plain) vs $m_plain)"
out_hasnt plain err "device tree"
run_cli measure_v 0 measure "$g/hello.elf" -v -m 32 --dtb
out_has measure_v err "device tree 0x81e00000+0x"
out_has measure_v err "measured, x0 = 0x81e00000"

# ---- refusals ----

run_cli no_dtb 2 run "$g/hello.elf" --bootargs quiet
out_has no_dtb err "--bootargs goes in the device tree: it needs --dtb (or --dtb-out)"
run_cli no_dtb_m 2 measure "$g/hello.elf" --bootargs quiet
run_cli no_room 1 run "$g/hello.elf" -m 2 --dtb
out_has no_room err "no room for the device tree in 2 MiB of RAM"
out_has no_room err "give -m 4 or more"
run_cli no_room_m 1 measure "$g/hello.elf" -m 2 --dtb
out_has no_room_m err "give -m 4 or more"
run_cli bad_out 2 run "$g/hello.elf" --dtb-out "$tmp/no/such/dir.dtb"
out_has bad_out err "--dtb-out $tmp/no/such/dir.dtb: No such file or directory"
out_hasnt bad_out err "realmkit: realm"
run_cli bad_out_m 2 measure "$g/hello.elf" --dtb-out "$tmp/no/such/dir.dtb"
long=$(printf 'x%.0s' {1..2048})
run_cli long_args 2 run "$g/hello.elf" --dtb --bootargs "$long"
out_has long_args err "--bootargs takes at most 2047 bytes, not 2048"
run_cli ok_args 0 measure "$g/hello.elf" --dtb --bootargs "${long:1}"

if [ $failures -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "PASS"
