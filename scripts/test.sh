#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run every test realmkit has, on a fresh Debian 12 machine:
#   1. install the Debian packages (scripts/setup.sh)
#   2. gcc build + ctest          (build-gcc)
#   3. clang build + ctest        (build-clang)
#   4. ASan+UBSan build + ctest   (build-asan)
#   5. TSan build + the tests labelled 'tsan' (build-tsan)
#   6. the gcc tests again with a CPU hog on every core (tests assert order
#      and eventual outcomes, never wall-clock coincidences: this proves it)
#   7. checks: generated docs up to date, no holes in hot structs (pahole),
#      the tree follows .clang-format, the README's demo (scripts/demo.sh, a Release build),
#      every libFuzzer target (tests/fuzz/fuzz_*.c) for RK_FUZZ_SECONDS
#      (default 20) each, one check per target (build-fuzz)
# Ends with one line: "N passed, N failed".
#
#   scripts/test.sh [--under-load]
#     --under-load  run every stage's tests with a CPU hog on every core
set -uo pipefail
under_load=0
for a in "$@"; do
	case $a in
	--under-load) under_load=1 ;;
	*) echo "usage: scripts/test.sh [--under-load]" >&2; exit 2 ;;
	esac
done
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
"$here/scripts/setup.sh" || exit 1

jobs=${RK_JOBS:-$(nproc)}
passed=0
failed=0

note() { printf '\n==== %s ====\n' "$*"; }

# CPU hogs: one busy loop per core (a loaded CI machine, on purpose)
hogs=()
start_hogs() {
	local i
	for ((i = 0; i < $(nproc); i++)); do
		(while :; do :; done) &
		hogs+=($!)
	done
	echo "test.sh: ${#hogs[@]} CPU hogs running"
}
stop_hogs() {
	[ ${#hogs[@]} -eq 0 ] && return 0
	kill "${hogs[@]}" 2>/dev/null
	wait "${hogs[@]}" 2>/dev/null
	hogs=()
}
trap stop_hogs EXIT
[ "$under_load" -eq 1 ] && start_hogs

# run_ctest DIR [ctest args...]: adds the counts of one ctest run to the totals
run_ctest() {
	local dir=$1; shift
	local log; log=$(mktemp)
	(cd "$dir" && ctest --output-on-failure -j"$jobs" "$@") 2>&1 | tee "$log"
	local line; line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -1)
	if [ -z "$line" ]; then
		echo "test.sh: no ctest summary from $dir"
		failed=$((failed + 1))
	else
		local nfail total
		nfail=$(sed -E 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
		total=$(sed -E 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
		passed=$((passed + total - nfail))
		failed=$((failed + nfail))
	fi
	rm -f "$log"
}

# build DIR CC [cmake args...]
build() {
	local dir=$1 cc=$2; shift 2
	if ! CC=$cc cmake -S "$here" -B "$here/$dir" -G Ninja "$@" >"$here/$dir.configure.log" 2>&1; then
		cat "$here/$dir.configure.log"; return 1
	fi
	cmake --build "$here/$dir" -j"$jobs"
}

check() { # check NAME CMD...: a static check counted as one test
	if "${@:2}"; then passed=$((passed + 1)); echo "check $1: ok"
	else failed=$((failed + 1)); echo "check $1: FAILED"; fi
}

note "gcc"
gcc_built=0
if build build-gcc gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo; then gcc_built=1; run_ctest build-gcc; else failed=$((failed + 1)); fi

note "clang"
if build build-clang clang -DCMAKE_BUILD_TYPE=RelWithDebInfo; then run_ctest build-clang; else failed=$((failed + 1)); fi

note "ASan + UBSan"
if build build-asan gcc -DRK_SANITIZE=asan -DCMAKE_BUILD_TYPE=Debug -DRK_BUILD_BENCH=OFF; then
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 run_ctest build-asan
else failed=$((failed + 1)); fi

note "TSan (concurrency tests)"
if build build-tsan clang -DRK_SANITIZE=tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRK_BUILD_BENCH=OFF; then
	TSAN_OPTIONS=halt_on_error=1 run_ctest build-tsan -L tsan
else failed=$((failed + 1)); fi

note "gcc, under load (a CPU hog on every core)"
if [ "$gcc_built" -eq 1 ] && [ "$under_load" -eq 0 ]; then
	start_hogs
	run_ctest build-gcc
	stop_hogs
fi

note "static checks"
check abi-coverage-doc python3 abi/gen.py --check-docs docs/abi-coverage.md abi/rmm-2.0.json abi/realmkit-impl.json
if [ -x scripts/check-holes.sh ]; then check struct-holes scripts/check-holes.sh build-gcc; fi
check clang-format scripts/format-check.sh
# the README's first command, as a new user runs it: a Release (-O3) build of the CLI and the
# example realms, the demo and the hello realm (gcc warns at -O3 where -O2 does not)
check demo env RK_BUILD_DIR="$here/build-release" RK_JOBS="$jobs" scripts/demo.sh
if tests/fuzz/run.sh build-fuzz --build-only; then
	for f in tests/fuzz/fuzz_*.c; do
		t=$(basename "$f" .c)
		check "$t" tests/fuzz/run.sh build-fuzz "${RK_FUZZ_SECONDS:-20}" "$t"
	done
else
	failed=$((failed + 1)); echo "check fuzz-build: FAILED"
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
