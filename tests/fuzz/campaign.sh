#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A long fuzzing campaign: every target (or the ones named) for MINUTES each,
# at nice 19, through tests/fuzz/run.sh (same build directory, corpora,
# artifacts and logs). Writes OUT_DIR/campaign.md: when, which commit, the
# machine, the command, and one table row per target (execs, execs/s, cov,
# ft, corpus, crashes) for docs/fuzzing.md. Exits non-zero on any crash.
#
#   tests/fuzz/campaign.sh OUT_DIR MINUTES [TARGET...]
#
# RK_FUZZ_PARALLEL=N runs N targets at once (default 1: one after the other).
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: campaign.sh OUT_DIR MINUTES [TARGET...]}
min=${2:?usage: campaign.sh OUT_DIR MINUTES [TARGET...]}
shift 2
par=${RK_FUZZ_PARALLEL:-1}
"$here/tests/fuzz/run.sh" "$out" --build-only || exit 2
out=$(cd "$out" && pwd)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in "$here"/tests/fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi

start=$(date -u '+%Y-%m-%d %H:%M UTC')
pids=()
for t in "${targets[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$par" ]; do sleep 5; done
	RK_FUZZ_NICE=19 RK_FUZZ_SUMMARY="$out/summary-$t.md" \
		"$here/tests/fuzz/run.sh" "$out" $((min * 60)) "$t" >"$out/campaign-$t.out" 2>&1 &
	pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done

{
	echo "Campaign of $start: $min min per target, nice 19, $par at a time"
	echo "(commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs $(uname -m)," \
		"$(clang --version | head -1 | sed 's/ (.*//'), ASan+UBSan)."
	echo "Command: tests/fuzz/campaign.sh OUT_DIR $min ${*}"
	echo
	echo '| target | seconds | execs | execs/s | cov | ft | corpus | crashes |'
	echo '|---|---|---|---|---|---|---|---|'
	for t in "${targets[@]}"; do tail -n +3 "$out/summary-$t.md" 2>/dev/null || echo "| $t | failed to run |"; done
} >"$out/campaign.md"
cat "$out/campaign.md"
for t in "${targets[@]}"; do grep -v '^[a-z_]*: [0-9]* execs' "$out/campaign-$t.out" || true; done
[ "$failed" -eq 0 ]
