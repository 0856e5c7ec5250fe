#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# realmkit run's console input (the PL011's receive side) with the echo
# example, interrupt-driven (WFI until the UART's SPI 33 through the VM's
# vGIC) in a realm and in a normal VM: driven through a pipe (lines echoed, "\r\n" line ends, input far
# larger than the UART's FIFO held back and delivered whole, a normal VM);
# input that ends without "quit" leaves the realm waiting until --timeout
# ends it with a clear message and nothing leaked; --no-stdin and /dev/null
# give it nothing; a guest that never reads its console leaves stdin unread;
# through a pseudo-terminal (tests/support/console_pty.py, python3's pty):
# raw mode (only the guest echoes), DEL, Ctrl-A Ctrl-A, Ctrl-A h, and
# Ctrl-A x quitting with status 130, the terminal's settings (stty -g) the
# same after the run as before. Needs RK_CLI, RK_BINARY_DIR, RK_SOURCE_DIR
# (set by ctest), python3 and the guest payloads.
set -uo pipefail

. "$(dirname "$0")/../support/cli_common.sh"
need_payload echo.elf
src=${RK_SOURCE_DIR:?RK_SOURCE_DIR not set}

clean_teardown() {
	out_has "$1" err "torn down, nothing leaked"
	out_hasnt "$1" err "leak report"
}

# run_in NAME STATUS INPUT ARGS...: run_cli with INPUT (printf format) on stdin
run_in() {
	local name=$1 want=$2 input=$3
	shift 3
	# shellcheck disable=SC2059
	printf "$input" >"$tmp/$name.in"
	run_cli "$name" "$want" "$@" <"$tmp/$name.in"
}

# ---- through a pipe ----
printf 'hello\nworld\nquit\n' | "$cli" run "$g/echo.elf" --timeout 60 >"$tmp/pipe.out" 2>"$tmp/pipe.err"
st=$?
[ "$st" = 0 ] || fail "pipe: exit status $st, expected 0"
out_has pipe out 'echo: type lines, "quit" to stop'
out_has pipe out "echo: hello"
out_has pipe out "echo: world"
out_has pipe out "echo: 2 lines, "
out_has pipe out " UART interrupts: PASS" # the reader slept in WFI until the UART's SPI came
out_has pipe err "echo: PASS (value 0x2)"
clean_teardown pipe

run_in crlf 0 'one\r\ntwo\r\nquit\r\n' run "$g/echo.elf" --timeout 60
out_has crlf out "echo: one"
out_has crlf out "echo: two"
out_has crlf out "echo: 2 lines, " # no empty line between "\r" and "\n"

run_in normal 0 'from a normal VM\nquit\n' run --normal "$g/echo.elf" --timeout 60
out_has normal out "echo: from a normal VM"
out_has normal out "echo: 1 lines, " # interrupt-driven there too: the VM's vGIC
out_hasnt normal out " 0 UART interrupts"
out_has normal out "UART interrupts: PASS"

# 200 lines of 60 bytes: far more than the 32-byte FIFO holds; every line arrives, in order
: >"$tmp/big.in"
for i in $(seq 1 200); do
	printf 'line %03d %s\n' "$i" "$(printf '%050d' "$i")" >>"$tmp/big.in"
done
echo quit >>"$tmp/big.in"
run_cli big 0 run "$g/echo.elf" --timeout 120 <"$tmp/big.in"
out_has big out "echo: 200 lines, "
out_has big out " UART interrupts: PASS"
grep '^echo: line ' "$tmp/big.out" | sed 's/^echo: //' >"$tmp/big.echoed"
head -200 "$tmp/big.in" | cmp -s - "$tmp/big.echoed" || fail "big: the echoed lines differ from the input"

# ---- input that ends without "quit": the realm keeps waiting; --timeout ends it ----
run_in eof 1 'abc\n' run "$g/echo.elf" --timeout 1
out_has eof out "echo: abc"
out_hasnt eof out "PASS"
out_has eof err "timed out after 1 s: the guest was still running"
clean_teardown eof

run_cli devnull 1 run "$g/echo.elf" --timeout 0.5 </dev/null
out_has devnull err "timed out after 0.5 s"
clean_teardown devnull

run_in nostdin 1 'quit\n' run --no-stdin "$g/echo.elf" --timeout 0.5
out_hasnt nostdin out "PASS"
out_has nostdin err "timed out after 0.5 s"
clean_teardown nostdin

# a guest that never reads its console does not touch stdin: what follows it gets all of it
{
	"$cli" run -q "$g/hello.elf" --timeout 60 >/dev/null 2>&1 || echo "hello failed"
	cat
} <<<"still here" >"$tmp/unread.out"
out_has unread out "still here"
out_hasnt unread out "hello failed"

# ---- through a pseudo-terminal ----
for mode in lines quit; do
	python3 -S "$src/tests/support/console_pty.py" $mode "$cli" "$g/echo.elf" >"$tmp/pty_$mode.out" 2>&1 ||
		fail "pty $mode: $(head -c 3000 "$tmp/pty_$mode.out")"
done

[ "$failures" = 0 ] || exit 1
echo "ok: console input through a pipe and a pseudo-terminal"
