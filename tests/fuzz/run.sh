#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build the libFuzzer targets (tests/fuzz/fuzz_*.c, through CMake with
# -DRK_BUILD_FUZZ=ON: clang, ASan+UBSan) once, then run each for a bounded
# time on its seed corpus and report what libFuzzer measured.
#
#   tests/fuzz/run.sh OUT_DIR SECONDS [TARGET...]   (default: every target)
#   tests/fuzz/run.sh OUT_DIR --build-only
#
# OUT_DIR is the CMake build directory; the corpus of target T lives in
# OUT_DIR/corpus/T (kept between runs), crashes in OUT_DIR/artifacts/T/,
# libFuzzer's log in OUT_DIR/logs/T.log. Seeds: tests/fuzz/corpus/T/ if it
# exists; the files the target writes itself when run with RK_FUZZ_SEED_DIR
# set (a target that knows its input format does); for fuzz_token the public
# sample tokens. Per target one line:
#   fuzz_rmi: 123456 execs, 411 execs/s, cov 2345 ft 9876, corpus 321, 0 crashes
# and OUT_DIR/summary.md (or $RK_FUZZ_SUMMARY) gets the same as a Markdown
# table row. Exits non-zero
# if a target crashed (or leaked, hung, or broke an invariant).
#
# Environment: RK_FUZZ_NICE (nice level for the runs, default 0),
# RK_FUZZ_JOBS (build jobs, default nproc), RK_BUILD_LOCK (a file: configure
# and build under flock on it), RK_FUZZ_ARGS (more libFuzzer options).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: run.sh OUT_DIR SECONDS [TARGET...] | run.sh OUT_DIR --build-only}
secs=${2:?usage: run.sh OUT_DIR SECONDS [TARGET...]}
shift 2
mkdir -p "$out"
out=$(cd "$out" && pwd)
lock=()
if [ -n "${RK_BUILD_LOCK:-}" ]; then lock=(flock "$RK_BUILD_LOCK"); fi

# ---- build (once; ninja makes it a no-op when nothing changed) ----
if [ ! -f "$out/build.ninja" ]; then
	if ! CC=clang "${lock[@]}" cmake -S "$here" -B "$out" -G Ninja -DRK_BUILD_FUZZ=ON -DRK_BUILD_TESTS=OFF \
		-DRK_BUILD_BENCH=OFF -DRK_BUILD_GUEST=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$out/configure.log" 2>&1; then
		cat "$out/configure.log"
		exit 2
	fi
fi
if ! "${lock[@]}" cmake --build "$out" --target fuzz -j"${RK_FUZZ_JOBS:-$(nproc)}" >"$out/build.log" 2>&1; then
	tail -40 "$out/build.log"
	exit 2
fi
[ "$secs" = "--build-only" ] && exit 0

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in "$here"/tests/fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi

# seed_corpus T DIR: fill an empty corpus with the target's seeds
seed_corpus() {
	local t=$1 dir=$2
	if [ -d "$here/tests/fuzz/corpus/$t" ]; then cp -r "$here/tests/fuzz/corpus/$t/." "$dir/"; fi
	if [ "$t" = fuzz_token ]; then
		local samples="$here/../shared/testdata/attestation"
		if [ -d "$samples" ]; then cp "$samples"/*.cbor "$dir/"; fi
	fi
	# a target that knows no RK_FUZZ_SEED_DIR runs the empty input once (-runs=0) and exits
	mkdir -p "$out/empty"
	RK_FUZZ_SEED_DIR="$dir" timeout 60 "$out/$t" -runs=0 "$out/empty" >/dev/null 2>&1 || true
}

summary=${RK_FUZZ_SUMMARY:-$out/summary.md}
printf '| target | seconds | execs | execs/s | cov | ft | corpus | crashes |\n|---|---|---|---|---|---|---|---|\n' \
	>"$summary"
crashed=0
for t in "${targets[@]}"; do
	bin="$out/$t"
	if [ ! -x "$bin" ]; then
		echo "$t: no such target (tests/fuzz/$t.c)"
		crashed=$((crashed + 1))
		continue
	fi
	corpus="$out/corpus/$t"
	mkdir -p "$corpus" "$out/artifacts/$t" "$out/logs"
	[ -n "$(ls -A "$corpus")" ] || seed_corpus "$t" "$corpus"
	# options the target declares: // fuzz-options: -max_len=8192
	opts=$(sed -n 's|^// fuzz-options:||p' "$here/tests/fuzz/$t.c" | tr '\n' ' ')
	if [ "$t" = fuzz_token ] && [ -f "$here/../shared/testdata/attestation/cpak-sample.pub.pem" ]; then
		export RK_FUZZ_CPAK="$here/../shared/testdata/attestation/cpak-sample.pub.pem"
	fi
	log="$out/logs/$t.log"
	touch "$out/artifacts/$t/.start"
	rc=0
	# from the repository root: options may name files in it (-dict=tests/fuzz/x.dict)
	cd "$here"
	# shellcheck disable=SC2086 # opts and RK_FUZZ_ARGS are lists of options
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		nice -n "${RK_FUZZ_NICE:-0}" "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=30 \
		-artifact_prefix="$out/artifacts/$t/" $opts ${RK_FUZZ_ARGS:-} "$corpus" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	ncorp=$(find "$corpus" -type f | wc -l)
	# this run's crashes, leaks, timeouts, OOMs (not the slow-unit-* libFuzzer also writes)
	ncrash=$(find "$out/artifacts/$t" -type f -newer "$out/artifacts/$t/.start" \
		\( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
	if [ "$rc" -ne 0 ] || [ "$ncrash" -ne 0 ]; then
		crashed=$((crashed + 1))
		[ "$ncrash" -ne 0 ] || ncrash=1
		grep -E -m3 'ERROR|SUMMARY|Test failed|abort|assert' "$log" || tail -20 "$log"
		echo "$t: see $log and $out/artifacts/$t/"
	fi
	printf '%s: %s execs, %s execs/s, cov %s ft %s, corpus %s, %s crashes\n' "$t" "${execs:-0}" "${eps:-0}" \
		"${cov:-?}" "${ft:-?}" "$ncorp" "$ncrash"
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$secs" "${execs:-0}" "${eps:-0}" "${cov:-?}" \
		"${ft:-?}" "$ncorp" "$ncrash" >>"$summary"
done
[ "$crashed" -eq 0 ]
