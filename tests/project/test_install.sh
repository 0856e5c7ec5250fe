#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `cmake --install` into a scratch prefix, then use the installed tree as
# another project would: every installed header compiles on its own (C11 and
# C++); examples/embed/hello_realm.c is built with
# `pkg-config --cflags --libs realmkit` (shared) and `pkg-config --static`
# (librealmkit.a), and with find_package(realmkit) (realmkit::realmkit and
# realmkit::realmkit_static), and each build runs the hello realm to the end;
# the library's SONAME; the man page names every command and option the CLI's
# help lists; bash completion offers the commands and options.
# Needs RK_SOURCE_DIR, RK_BINARY_DIR, RK_CLI (set by ctest); RK_CC and
# RK_EXAMPLE_CFLAGS (the build's compiler and sanitizer flags) are optional.
set -uo pipefail

. "$(dirname "$0")/../support/cli_common.sh"
run_examples=1
if [ ! -f "$g/hello.bin" ]; then
	if [ "${RK_GUEST_BUILT:-0}" = 1 ]; then
		echo "FAIL: guest payload hello.bin missing in $g although the build made them"
		exit 1
	fi
	echo "note: no guest payloads (aarch64 cross compiler missing): the examples are built, not run"
	run_examples=0
fi
src=${RK_SOURCE_DIR:?RK_SOURCE_DIR not set}
cc=${RK_CC:-cc}
read -ra xflags <<<"${RK_EXAMPLE_CFLAGS:-}"
prefix=$tmp/prefix

if ! cmake --install "$RK_BINARY_DIR" --prefix "$prefix" >"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log"
	echo "FAIL: cmake --install"
	exit 1
fi
# lib/, or lib/<multiarch>/ if the build was configured for /usr
a=$(find "$prefix" -name librealmkit.a | head -1)
libdir=${a%/*}
[ -n "$a" ] || libdir=$prefix/lib

# ---- the installed files ----
for f in bin/realmkit include/realmkit/abi_gen.h share/man/man1/realmkit.1 \
	share/bash-completion/completions/realmkit; do
	[ -f "$prefix/$f" ] || fail "not installed: $f"
done
for f in librealmkit.a librealmkit.so librealmkit.so.0 pkgconfig/realmkit.pc \
	cmake/realmkit/realmkit-config.cmake cmake/realmkit/realmkit-config-version.cmake; do
	[ -e "$libdir/$f" ] || fail "not installed: ${libdir#"$prefix"/}/$f"
done
soname=$(objdump -p "$libdir/librealmkit.so" 2>/dev/null | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = librealmkit.so.0 ] || fail "librealmkit.so: SONAME '$soname', expected librealmkit.so.0"
"$prefix/bin/realmkit" version >"$tmp/version.out" 2>&1 || fail "installed realmkit version failed"

# ---- the headers: exactly include/realmkit/*.h and the generated abi_gen.h, each self-contained ----
want=$( (cd "$src/include/realmkit" && ls ./*.h; echo ./abi_gen.h) | sed 's|^\./||' | sort -u)
have=$( (cd "$prefix/include/realmkit" && ls ./*.h) | sed 's|^\./||' | sort)
[ "$want" = "$have" ] || fail "installed headers: $(echo $have), expected: $(echo $want)"
cxx=$(command -v c++ || true)
for h in "$prefix"/include/realmkit/*.h; do
	n=realmkit/${h##*/}
	printf '#include <%s>\n#include <%s>\ntypedef int rk_header_check;\n' "$n" "$n" >"$tmp/hdr.c"
	"$cc" -std=c11 -pedantic-errors -Wall -Wextra -Werror -fsyntax-only -I"$prefix/include" "$tmp/hdr.c" \
		>"$tmp/hdr.err" 2>&1 || { fail "$n does not compile on its own (C11)"; sed 's/^/    /' "$tmp/hdr.err"; }
	if [ -n "$cxx" ]; then
		"$cxx" -Wall -Wextra -Werror -fsyntax-only -I"$prefix/include" -x c++ "$tmp/hdr.c" \
			>"$tmp/hdr.err" 2>&1 || { fail "$n does not compile on its own (C++)"; sed 's/^/    /' "$tmp/hdr.err"; }
	fi
done

# ---- hello_realm, built against the installed tree four ways, each run ----
# run_hello NAME: runs $tmp/NAME on the hello payload, asserts the realm's console and a clean end
run_hello() {
	local name=$1 st
	[ "$run_examples" = 1 ] || return 0
	LD_LIBRARY_PATH=$libdir "$tmp/$name" "$g/hello.bin" >"$tmp/$name.out" 2>"$tmp/$name.err"
	st=$?
	[ "$st" = 0 ] || { fail "$name: exit status $st"; sed 's/^/    err: /' "$tmp/$name.err" | tail -5; }
	out_has "$name" out "Hello from a realm! (realmkit guest SDK, cpu 0)"
	out_has "$name" out "RSI_VERSION: status 0, lower 1.0, higher 1.1"
	out_has "$name" out "RIM: "
	out_has "$name" out "Bye."
	out_has "$name" out "hello_realm: the realm ran and switched off, nothing leaked"
}
# linked NAME shared|static: whether $tmp/NAME needs librealmkit.so.0
linked() {
	local needs
	needs=$(objdump -p "$tmp/$1" | awk '$1 == "NEEDED" && $2 ~ /^librealmkit\./ { print $2 }')
	if [ "$2" = shared ] && [ "$needs" != librealmkit.so.0 ]; then
		fail "$1: NEEDED '$needs', expected librealmkit.so.0"
	elif [ "$2" = static ] && [ -n "$needs" ]; then
		fail "$1: linked with $needs, expected librealmkit.a"
	fi
}
ex=$src/examples/embed

export PKG_CONFIG_PATH=$libdir/pkgconfig
if ! pc_cflags=$(pkg-config --cflags realmkit) || ! pc_libs=$(pkg-config --libs realmkit) ||
	! pc_static=$(pkg-config --static --libs realmkit); then
	fail "pkg-config does not find realmkit in $PKG_CONFIG_PATH"
else
	[ "$(pkg-config --modversion realmkit)" = 0.1.0 ] || fail "pkg-config --modversion: $(pkg-config --modversion realmkit)"
	read -ra pc_cflags <<<"$pc_cflags"
	read -ra pc_libs <<<"$pc_libs"
	read -ra pc_static <<<"${pc_static//-lrealmkit/-l:librealmkit.a}"
	if "$cc" "${xflags[@]}" -Wall -Wextra -Werror -o "$tmp/pc_shared" "$ex/hello_realm.c" "${pc_cflags[@]}" \
		"${pc_libs[@]}" >"$tmp/pc_shared.log" 2>&1; then
		linked pc_shared shared
		run_hello pc_shared
	else
		fail "cc \$(pkg-config --cflags --libs realmkit) failed"; sed 's/^/    /' "$tmp/pc_shared.log" | tail -20
	fi
	if "$cc" "${xflags[@]}" -Wall -Wextra -Werror -o "$tmp/pc_static" "$ex/hello_realm.c" "${pc_cflags[@]}" \
		"${pc_static[@]}" >"$tmp/pc_static.log" 2>&1; then
		linked pc_static static
		run_hello pc_static
	else
		fail "cc \$(pkg-config --static --libs realmkit) with librealmkit.a failed"
		sed 's/^/    /' "$tmp/pc_static.log" | tail -20
	fi
fi
unset PKG_CONFIG_PATH

if cmake -S "$ex" -B "$tmp/cm" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
	-DCMAKE_C_FLAGS="${RK_EXAMPLE_CFLAGS:-} -Wall -Wextra -Werror" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
	>"$tmp/cm.log" 2>&1 && cmake --build "$tmp/cm" >>"$tmp/cm.log" 2>&1; then
	dir=$(sed -n 's/^realmkit_DIR:PATH=//p' "$tmp/cm/CMakeCache.txt")
	[ "$dir" -ef "$libdir/cmake/realmkit" ] || fail "find_package(realmkit) found $dir, not the scratch prefix"
	cp "$tmp/cm/hello_realm" "$tmp/cm_shared" && cp "$tmp/cm/hello_realm_static" "$tmp/cm_static"
	linked cm_shared shared
	linked cm_static static
	run_hello cm_shared
	run_hello cm_static
else
	fail "find_package(realmkit) build of examples/embed failed"; sed 's/^/    /' "$tmp/cm.log" | tail -30
fi

# ---- man page: every command of `realmkit --help` in SYNOPSIS, every option of its --help ----
man=$prefix/share/man/man1/realmkit.1
if [ -f "$man" ]; then
	sed 's/\\-/-/g; s/\\f[BIRP]//g' "$man" >"$tmp/man.txt"
	synopsis=$(awk '/^\.SH SYNOPSIS/ { on = 1; next } /^\.SH/ { on = 0 } on' "$tmp/man.txt")
	cmds=$("$prefix/bin/realmkit" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
	[ -n "$cmds" ] || fail "realmkit --help lists no commands"
	for c in $cmds; do
		grep -qx "\.B realmkit $c" <<<"$synopsis" || fail "man page SYNOPSIS lacks 'realmkit $c'"
		for o in $("$prefix/bin/realmkit" "$c" --help | grep -oE -- '(^|[[ ,])--[a-z][a-z0-9-]*' | grep -oE -- '--[a-z0-9-]+' | sort -u); do
			grep -qF -- "$o" "$tmp/man.txt" || fail "man page lacks option $o of 'realmkit $c'"
		done
	done
fi

# ---- bash completion ----
comp=$prefix/share/bash-completion/completions/realmkit
if [ -f "$comp" ]; then
	# complete WORDS...: what _realmkit offers for the last word
	complete_words() {
		PATH=$prefix/bin:$PATH bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
			_realmkit; printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@"
	}
	[ "$(complete_words realmkit r)" = run ] || fail "completing 'realmkit r': '$(complete_words realmkit r)', expected run"
	all=$(complete_words realmkit '' | sort | tr '\n' ' ')
	[ "$all" = "$(sort <<<"$cmds" | tr '\n' ' ')" ] || fail "completing 'realmkit ': '$all', expected every command"
	[ "$(complete_words realmkit run --t | sort | tr '\n' ' ')" = "--timeout --token-out --trace " ] ||
		fail "completing 'realmkit run --t': $(complete_words realmkit run --t | tr '\n' ' ')"
	[ "$(complete_words realmkit run x --hash sha5)" = sha512 ] || fail "completing 'realmkit run x --hash sha5'"
	[ "$(complete_words realmkit verify --j)" = --json ] || fail "completing 'realmkit verify --j'"
	: >"$tmp/afile.elf"
	[ "$(cd "$tmp" && complete_words realmkit run afi)" = afile.elf ] || fail "completing 'realmkit run afi' (a file)"
fi

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "install: OK (prefix, headers, pkg-config shared+static, find_package shared+static, man page, completion)"
