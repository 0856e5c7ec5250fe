#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# realmkit bench: the table and the JSON (parsed with Python's json module)
# for a realm and its normal-VM baseline, plausible numbers (every phase
# timed, median >= min, RMI calls and vCPU entries counted), a realm that
# fails, and usage errors.
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

if [ "$failures" -ne 0 ]; then
	echo "test_cli_bench: $failures failure(s)"
	exit 1
fi
echo "test_cli_bench: all passed"
