# SPDX-License-Identifier: MIT
# Shared start of the CLI test scripts (tests/cli/test_cli_*.sh), sourced, not run:
# sets cli, g (guest payload dir), tmp (removed on exit), failures and fail();
# `need_payload NAME` fails the script when the build made the payloads but
# NAME is missing, and skips it (exit 0) when there are none to expect;
# `run_cli NAME STATUS ARGS...` runs the CLI with stdout and stderr kept in
# $tmp/NAME.out and $tmp/NAME.err, `out_has NAME out|err TEXT` and
# `out_hasnt` check what one of them says.
cli=${RK_CLI:?RK_CLI not set}
g=${RK_BINARY_DIR:?RK_BINARY_DIR not set}/guest
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

need_payload() {
	[ -f "$g/$1" ] && return 0
	if [ "${RK_GUEST_BUILT:-0}" = 1 ]; then
		echo "FAIL: guest payload $1 missing in $g although the build made them"
		exit 1
	fi
	echo "SKIP: no guest payloads in $g (aarch64 cross compiler missing)"
	exit 0
}

# run_cli NAME EXPECTED_STATUS ARGS...: runs the CLI, stdout in $tmp/NAME.out, stderr in $tmp/NAME.err
run_cli() {
	local name=$1 want=$2 st
	shift 2
	"$cli" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	st=$?
	if [ "$st" != "$want" ]; then
		fail "$name: exit status $st, expected $want ($*)"
		sed 's/^/    out: /' "$tmp/$name.out" | tail -20
		sed 's/^/    err: /' "$tmp/$name.err" | tail -20
	fi
}

# out_has NAME out|err TEXT: a line of NAME's stdout/stderr contains TEXT (fixed string)
out_has() {
	if ! grep -qF -- "$3" "$tmp/$1.$2"; then
		fail "$1: std$2 lacks '$3'"
		sed "s/^/    $2: /" "$tmp/$1.$2" | tail -20
	fi
}

out_hasnt() {
	if grep -qF -- "$3" "$tmp/$1.$2"; then
		fail "$1: std$2 has '$3'"
	fi
}
