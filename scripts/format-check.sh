#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Check that the C files git tracks follow .clang-format (clang-format, Debian
# package clang-format): prints each file that would change and how many
# lines, then "N files, N lines would change"; exits 1 if any would.
#   scripts/format-check.sh [--fix] [PATH...]   (default: the whole tree)
#     --fix   reformat the files in place instead
set -uo pipefail
fix=0
if [ "${1:-}" = --fix ]; then
	fix=1
	shift
fi
cd "$(dirname "$0")/.." || exit 2
command -v clang-format >/dev/null || { echo "format-check: clang-format not found (apt-get install clang-format)" >&2; exit 2; }
mapfile -t files < <(git ls-files -- "${@:-.}" | grep -E '\.(c|h)$')
if [ "$fix" -eq 1 ]; then
	clang-format -i --style=file "${files[@]}"
	exit $?
fi
nfiles=0
nlines=0
for f in "${files[@]}"; do
	clang-format --dry-run --Werror --style=file "$f" >/dev/null 2>&1 && continue
	n=$(clang-format --style=file "$f" | diff "$f" - | grep -c '^<')
	echo "$f: $n lines"
	nfiles=$((nfiles + 1))
	nlines=$((nlines + n))
done
echo "$nfiles files, $nlines lines would change"
[ "$nfiles" -eq 0 ]
