#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# librealmkit.so exports exactly the public API: every function declared in
# include/realmkit/*.h (as gcc's -aux-info lists them) is a defined dynamic
# symbol, and every defined dynamic symbol is one of them (the library is
# built with -fvisibility=hidden; RK_API in realmkit/export.h marks the API).
# Needs RK_SOURCE_DIR and RK_BINARY_DIR.
set -uo pipefail
src=${RK_SOURCE_DIR:?RK_SOURCE_DIR not set}
bin=${RK_BINARY_DIR:?RK_BINARY_DIR not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

so=$bin/librealmkit.so
[ -e "$so" ] || { echo "FAIL: $so not built"; exit 1; }

# The public functions: gcc -aux-info lists every declaration with its file.
for h in "$src"/include/realmkit/*.h; do echo "#include \"realmkit/${h##*/}\""; done >"$tmp/all.c"
if ! gcc -std=gnu11 -fsyntax-only -I"$src/include" -I"$bin/gen/include" -aux-info "$tmp/aux.txt" "$tmp/all.c" 2>"$tmp/gcc.err"; then
	cat "$tmp/gcc.err"
	echo "FAIL: the public headers do not compile"
	exit 1
fi
grep -E '^/\* [^:]*include/realmkit/[^:]+:[0-9]+:' "$tmp/aux.txt" | grep -v '^/\* [^*]*\*/ static ' |
	sed -E 's/ \(.*//; s/.*[ *]([A-Za-z_][A-Za-z0-9_]*)$/\1/' | sort -u >"$tmp/public"
[ -s "$tmp/public" ] || { echo "FAIL: no public function found in include/realmkit/"; exit 1; }

# The exported symbols (sanitizer builds add their own instrumentation symbols).
nm -D --defined-only "$so" | awk '{ print $NF }' |
	grep -vE '^(_init|_fini|_edata|_end|__bss_start|__(asan|ubsan|tsan|sancov|odr_asan|sanitizer)[_.].*)$' |
	sort -u >"$tmp/exported"

while read -r s; do
	fail "exported, but declared in no public header: $s"
done < <(comm -13 "$tmp/public" "$tmp/exported")
while read -r s; do
	fail "declared in include/realmkit/ but not exported (RK_API missing, or not defined): $s"
done < <(comm -23 "$tmp/public" "$tmp/exported")

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "exports: OK ($(wc -l <"$tmp/public") public functions, all exported, nothing else)"
