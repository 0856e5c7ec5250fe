#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# realmkit bench: the table and the JSON (parsed with Python's json module)
# for a realm and its normal-VM baseline, plausible numbers (every phase
# timed, median >= min, RMI calls and vCPU entries counted), a realm that
# fails, and usage errors. --kernel ... -- COMMAND (kimage playing the kit's /init): the
# boot-to-exit rows (console, init, exit) in order, in the table and the JSON; a command that
# fails or gives no status fails the benchmark.
# Needs RK_CLI and RK_BINARY_DIR (set by ctest) and the guest payloads.
set -uo pipefail

. "$(dirname "$0")/../support/cli_common.sh"
need_payload hello.elf

# ---- the table ----
run_cli table 0 bench "$g/hello.elf" -n 3
out_has table out "realmkit bench $g/hello.elf: 3 cycles of each, 1 vCPU, 16 MiB, sha-256"
for phase in build run teardown cycle; do
	if ! grep -qE "^$phase +[0-9.]+ / *[0-9.]+ +[0-9.]+ / *[0-9.]+ +[0-9.]+x$" "$tmp/table.out"; then
		fail "table: no '$phase' row of numbers"
		cat "$tmp/table.out"
	fi
done
out_has table out "per cycle: realm "
out_has table out "machine + host created in"

# ---- JSON: several vCPUs and SHA-512 ----
run_cli json 0 bench "$g/smp.elf" -c 2 -n 2 --hash sha512 --json
if ! python3 - "$tmp/json.out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["cycles"] == 2 and d["cpus"] == 2 and d["hash"] == "sha-512", d
assert d["machine_and_host_ms"] > 0
for kind in ("realm", "normal_vm"):
    k = d["kinds"][kind]
    for phase in ("build", "run", "teardown", "cycle"):
        p = k[phase]
        assert 0 < p["min_ms"] <= p["median_ms"], (kind, phase, p)
    assert k["cycle"]["median_ms"] >= k["run"]["median_ms"], k
    assert k["vcpu_entries_per_cycle"] > 0, k
assert d["kinds"]["realm"]["rmi_calls_per_cycle"] > 0
assert d["kinds"]["normal_vm"]["rmi_calls_per_cycle"] == 0
r = d["realm_over_normal_vm"]
assert abs(r - d["kinds"]["realm"]["cycle"]["median_ms"] / d["kinds"]["normal_vm"]["cycle"]["median_ms"]) < 1e-9
PY
then
	fail "json: unexpected content"
	cat "$tmp/json.out"
fi

# ---- a realm that does not pass fails the benchmark ----
need_payload bad_undef.elf
run_cli bad 1 bench "$g/bad_undef.elf" -n 2
out_has bad err "realmkit bench: the realm"

# ---- usage ----
run_cli noimage 2 bench
run_cli zero 2 bench "$g/hello.elf" -n 0
run_cli wrap 2 bench "$g/hello.elf" -n 4294967297
run_cli hash 2 bench "$g/hello.elf" --hash md5
run_cli mem 2 bench "$g/hello.elf" -m 3
run_cli missing 1 bench "$tmp/does-not-exist.elf"
out_has missing err "does-not-exist.elf"
run_cli help 0 bench --help
out_has help out "usage: realmkit bench IMAGE"
run_cli list 0 --help
out_has list out "bench"

# ---- --kernel -- COMMAND: boot to the command's exit, realm and normal VM, with where time goes ----
need_payload kimage.bin
run_cli ktable 0 bench --kernel "$g/kimage.bin" --append console=ttyAMA0 -- true
out_has ktable out "realmkit bench $g/kimage.bin: 1 cycle of each, 1 vCPU, 16 MiB, sha-256 (Linux kernel, no warm-up)"
out_has ktable out "# command: true"
for phase in build run teardown cycle console init exit; do
	grep -qE "^$phase +[0-9.]+ / *[0-9.]+ +[0-9.]+ / *[0-9.]+ +[0-9.]+x$" "$tmp/ktable.out" ||
		fail "ktable: no '$phase' row of numbers"
done
run_cli kjson 0 bench --kernel "$g/kimage.bin" -c 2 -n 2 --json -- exit 0
if ! python3 - "$tmp/kjson.out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["kernel"] is True and d["command"] == ["exit", "0"] and d["cycles"] == 2 and d["cpus"] == 2, d
for kind in ("realm", "normal_vm"):
    k = d["kinds"][kind]
    # the order of events: first console byte, then /init, then the exit, within the cycle
    assert 0 < k["console"]["median_ms"] <= k["init"]["median_ms"] <= k["exit"]["median_ms"], k
    assert k["exit"]["median_ms"] <= k["cycle"]["median_ms"], k
r = d["boot_to_exit_realm_over_normal_vm"]
assert abs(r - d["kinds"]["realm"]["exit"]["median_ms"] / d["kinds"]["normal_vm"]["exit"]["median_ms"]) < 1e-9
PY
then
	fail "kjson: unexpected content"
	cat "$tmp/kjson.out"
fi
# the command fails, or gives no status: the benchmark fails; usage
run_cli kfail 1 bench --kernel "$g/kimage.bin" -- exit 3
out_has kfail err "realmkit bench: the command exited with status 3 in the realm"
run_cli kpanic 1 bench --kernel "$g/kimage.bin" -- panic
out_has kpanic err "realmkit bench: the realm gave no 'RK-GUEST: exit N' line"
run_cli knocmd 2 bench --kernel "$g/kimage.bin"
out_has knocmd err "give -- COMMAND"
run_cli kboth 2 bench "$g/kimage.bin" --kernel "$g/kimage.bin" -- true
run_cli kinitrd 2 bench "$g/hello.elf" --initrd "$g/hello.elf"
out_has kinitrd err "need --kernel"
run_cli kbadcmd 2 bench --kernel "$g/kimage.bin" -- "$(printf 'a\nb')"
out_has kbadcmd err "has a control character"

if [ "$failures" -ne 0 ]; then
	echo "test_cli_bench: $failures failure(s)"
	exit 1
fi
echo "test_cli_bench: all passed"
