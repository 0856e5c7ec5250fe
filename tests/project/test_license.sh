#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# realmkit is MIT-licensed: LICENSE holds the MIT text, and every source file
# (C, assembly, headers, Python, shell, CMake, templates, the man page, and
# every script with a #! line) says "SPDX-License-Identifier: MIT" in its
# first five lines; no file names another SPDX license. Files are the ones git
# tracks (every file outside build*/ when the tree is not a git checkout).
# Needs RK_SOURCE_DIR.
set -uo pipefail
src=${RK_SOURCE_DIR:?RK_SOURCE_DIR not set}
cd "$src" || exit 1
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

grep -qx 'MIT License' LICENSE 2>/dev/null || fail "LICENSE is missing or not the MIT License"
grep -q 'Permission is hereby granted, free of charge' LICENSE 2>/dev/null || fail "LICENSE lacks the MIT permission text"

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t files < <(git ls-files)
else
	mapfile -t files < <(find . -path './build*' -prune -o -path './.git' -prune -o -type f -print | sed 's|^\./||')
fi
n=0
for f in "${files[@]}"; do
	[ -f "$f" ] || continue
	case $f in
	*.c | *.h | *.S | *.py | *.sh | *.bash | *.cmake | *.in | *.1 | CMakeLists.txt | */CMakeLists.txt) ;;
	*) head -c 2 "$f" | grep -q '^#!' || continue ;;
	esac
	n=$((n + 1))
	head -n 5 "$f" | grep -q 'SPDX-License-Identifier: MIT\b' || fail "$f: no 'SPDX-License-Identifier: MIT' in its first 5 lines"
done
while IFS= read -r line; do
	fail "another license: $line"
done < <(grep -HnoE 'SPDX-License-Identifier: [A-Za-z0-9.+-]+' "${files[@]}" 2>/dev/null |
	grep -v 'SPDX-License-Identifier: MIT$' | grep -v '^tests/project/test_license.sh:')

[ "$n" -gt 0 ] || fail "no source file found in $src"
[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "license: OK (MIT, $n source files carry the SPDX line)"
