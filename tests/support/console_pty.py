# SPDX-License-Identifier: MIT
"""Drive `realmkit run echo.elf` through a pseudo-terminal (tests/cli/test_cli_console.sh).

console_pty.py MODE CLI ELF; MODE is
  lines: type lines after each prompt and check the echoes (the terminal is in raw mode: the
         guest's echo is the only one, Enter is '\\r'), DEL erases, Ctrl-A Ctrl-A sends a Ctrl-A,
         Ctrl-A h prints the help, "quit" ends it with exit status 0;
  quit:  type half a line, then Ctrl-A x: exit status 130, "quit (Ctrl-A x)".
In both the terminal's settings (`stty -g` in the pty) are the same after the run as before.
Exit status 0 when every check holds, 1 otherwise (what failed, and the output, on stdout).
Standard library only; waits are long (60 s) so a loaded machine does not fail it."""
import os
import pty
import select
import sys
import time

mode, cli, elf = sys.argv[1:4]
script = 'echo "STTY=$(stty -g)"; "$0" run -q "$1"; echo "STATUS=$?"; echo "STTY=$(stty -g)"; echo END'
pid, fd = pty.fork()
if pid == 0:
    os.execvp("sh", ["sh", "-c", script, cli, elf])

out = b""
pos = 0
failed = []


def expect(text, timeout=60.0):
    """Wait until text appears after the last match; return what came before it."""
    global out, pos
    want = text.encode()
    end = time.monotonic() + timeout
    while True:
        i = out.find(want, pos)
        if i >= 0:
            seen = out[pos:i]
            pos = i + len(want)
            return seen.decode(errors="replace")
        left = end - time.monotonic()
        if left <= 0:
            raise SystemExit("FAIL: %s: no %r in the output:\n%s" % (mode, text, out.decode(errors="replace")))
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not data:
                raise SystemExit("FAIL: %s: output ended before %r:\n%s" % (mode, text, out.decode(errors="replace")))
            out += data


def line_of(prefix):
    expect(prefix)
    return expect("\r\n").strip()


def check(cond, what):
    if not cond:
        failed.append(what)


before = line_of("STTY=")
if mode == "lines":
    expect("> ")
    os.write(fd, b"hello\r")
    expect("echo: hello\r\n")  # "\r\n" from the guest reaches the terminal as "\r\n", once
    expect("> ")
    os.write(fd, b"worx\x7fld\r")
    expect("echo: world")
    expect("> ")
    os.write(fd, b"a\x01\x01b\r")
    expect("echo: a^Ab")
    expect("> ")
    os.write(fd, b"\x01h")
    expect("C-a x")
    os.write(fd, b"quit\r")
    expect("echo: 3 lines, ")
    expect(" UART interrupts: PASS")
    status = line_of("STATUS=")
    check(status == "0", "exit status %s, expected 0" % status)
    # raw mode: "hello" is echoed once by the guest and once in "echo: hello", not by the terminal
    n = out.count(b"hello")
    check(n == 2, '"hello" appears %d times, expected 2 (the terminal echoed it: not raw)' % n)
elif mode == "quit":
    expect("> ")
    os.write(fd, b"abc")
    expect("abc")
    os.write(fd, b"\x01x")
    expect("quit (Ctrl-A x)")
    status = line_of("STATUS=")
    check(status == "130", "exit status %s, expected 130" % status)
else:
    raise SystemExit("usage: console_pty.py lines|quit CLI ELF")
after = line_of("STTY=")
check(before == after, "terminal settings changed: %s -> %s" % (before, after))
expect("END")
os.waitpid(pid, 0)
if failed:
    print("FAIL: %s: %s\noutput:\n%s" % (mode, "; ".join(failed), out.decode(errors="replace")))
    sys.exit(1)
print("ok: %s" % mode)
