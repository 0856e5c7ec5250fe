# Shared start of the CLI test scripts (tests/test_cli_*.sh), sourced, not run:
# sets cli, g (guest payload dir), tmp (removed on exit), failures and fail();
# `need_payload NAME` fails the script when the build made the payloads but
# NAME is missing, and skips it (exit 0) when there are none to expect.
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
