#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# realmkit run / realmkit measure: every example realm from the CLI with its
# output asserted; the RIM `measure` predicts equals the RIM the realm reads
# (hello prints it) and the host's own prediction, for every example, SHA-256
# and SHA-512, ELF and flat image; the bad realms (undefined instruction,
# endless loop, an exception loop at an EMPTY vector or in a text file run as
# code, IPA outside the IPA space, malformed RSI calls, CPU_ON of a vCPU that
# does not exist) each end with a clear diagnosis, exit status 1 and
# nothing leaked; --trace; normal VMs; usage errors.
# Needs RK_CLI and RK_BINARY_DIR (set by ctest) and the guest payloads.
set -uo pipefail

. "$(dirname "$0")/../support/cli_common.sh"
need_payload hello.elf

clean_teardown() {
	out_has "$1" err "torn down, nothing leaked"
	out_hasnt "$1" err "leak report"
}

# ---- every example realm, output asserted ----

run_cli hello 0 run "$g/hello.elf" --timeout 60
out_has hello out "Hello from a realm! (realmkit guest SDK, cpu 0)"
out_has hello out "RSI_VERSION: status 0, lower 1.0, higher 1.1"
out_has hello out "Bye."
out_has hello err "hello: PASS"
out_hasnt hello out $'\r'
clean_teardown hello

for n in 1 2 4 8; do
	run_cli smp$n 0 run "$g/smp.elf" -c $n --timeout 120
	out_has smp$n out "smp: cpu 0 of $n, PSCI 1.1"
	for ((i = 1; i < n; i++)); do
		out_has smp$n out "cpu $i up (context $i, MPIDR 0x8000000$i)"
	done
	out_has smp$n out "smp: $n cpus, $((n - 1)) started, all up and off"
	out_has smp$n err "smp: PASS (value 0x$n)"
	clean_teardown smp$n
done

run_cli ripas 0 run "$g/ripas.elf" --timeout 60
out_has ripas out "ripas: private write/read OK (16384 bytes"
out_has ripas out "ripas: IPA_STATE_SET(EMPTY) = 0, accepted"
out_has ripas out "ripas: shared: IPA_STATE_GET = 0, ripas EMPTY"
out_has ripas out "ripas: shared write/read OK (16384 bytes at 0x80800"
out_has ripas out "ripas: IPA_STATE_SET(RAM) = 0, accepted"
out_has ripas out "ripas: private again write/read OK"
out_has ripas out "ripas: PASS"
clean_teardown ripas

run_cli abort 0 run "$g/abort.elf" --timeout 60
out_has abort out "-> EMPTY: status 0, accepted, RIPAS now EMPTY"
out_has abort out "SEA handled: ESR_EL1 0x96000010 (EC 0x25 FSC 0x10)"
out_has abort err "abort: PASS (value 0x96000010)"
clean_teardown abort

run_cli stress 0 run "$g/stress.elf" --timeout 300
out_has stress out "stress: 20000000 iterations, host call every 1000000"
out_has stress out "stress: checksum 0x6848f316be2eabb9 after 20000000 iterations, 20 host calls"
out_has stress err "stress: PASS (value 0x6848f316be2eabb9)"
clean_teardown stress

run_cli attest 0 run "$g/attest.elf" --timeout 60
out_has attest out "attest: token status 0, "
out_has attest out "attest: token copied to shared 0x8010000000"
out_has attest err "attest: PASS"
clean_teardown attest

# the flat image runs the same
run_cli hello_bin 0 run "$g/hello.bin" --timeout 60
out_has hello_bin out "Hello from a realm!"

# ---- RIM: measure == what the realm reads == the host's prediction ----

for h in sha256 sha512; do
	rim=$("$cli" measure "$g/hello.elf" --hash $h) || fail "measure hello $h"
	run_cli hello_$h 0 run "$g/hello.elf" --hash $h --timeout 60
	out_has hello_$h out "RIM: $rim"
	[ ${#rim} -eq $([ $h = sha256 ] && echo 64 || echo 128) ] || fail "measure $h: '$rim' has the wrong length"
	for e in hello smp ripas abort stress attest; do
		a=$("$cli" measure "$g/$e.elf" --hash $h)
		b=$("$cli" measure "$g/$e.bin" --hash $h -m 64 -c 4)
		[ -n "$a" ] && [ "$a" = "$b" ] || fail "measure $e $h: ELF '$a' != flat image '$b'"
		# the host's prediction while building (before the guest runs): --timeout tiny, the RIM line comes first
		"$cli" run "$g/$e.elf" --hash $h --timeout 0.01 >/dev/null 2>"$tmp/pred.err"
		grep -qF "$h RIM $a" <(sed 's/sha-/sha/' "$tmp/pred.err") || fail "run $e $h: the host predicted another RIM than measure's $a"
	done
done
[ "$("$cli" measure "$g/hello.elf")" != "$("$cli" measure "$g/smp.elf")" ] || fail "two images, one RIM"

# ---- bad realms: a clear diagnosis, status 1, the host survives, nothing leaks ----

run_cli bad_undef 1 run "$g/bad_undef.elf" --timeout 60
out_has bad_undef out "bad_undef: executing UDF #0"
out_has bad_undef out "unhandled exception (EL1h sync): ESR_EL1 0x2000000 (EC 0x0"
out_has bad_undef err "switched itself off (vCPU 0: PSCI SYSTEM_OFF) without reporting a result"
out_hasnt bad_undef out "did not trap"
clean_teardown bad_undef

run_cli bad_loop 1 run "$g/bad_loop.elf" --timeout 1
out_has bad_loop out "bad_loop: spinning forever"
out_has bad_loop err "timed out after 1 s: the guest was still running"
clean_teardown bad_loop

# every vCPU's exception vector is RIPAS EMPTY memory: the RMM stops the loop, no waiting for --timeout
for n in 1 4; do
	run_cli bad_vector$n 1 run "$g/bad_vector.elf" -c $n --timeout 120
	out_has bad_vector$n out "bad_vector: $n cpus: VBAR_EL1 = 0x"
	out_has bad_vector$n err "stuck in an exception loop: instruction abort (SEA) at PC 0x"
	out_has bad_vector$n err "ESR_EL1 0x86000010) taken 20000 times in a row with no progress; the REC was stopped"
	out_hasnt bad_vector$n err "timed out"
	clean_teardown bad_vector$n
done
# a text file is not code: its first word is UNDEFINED, VBAR_EL1 is 0, and IPA 0x200 is not realm memory
printf 'This is a text file, not code.\n' >"$tmp/text.bin"
run_cli text 1 run "$tmp/text.bin" --timeout 120
out_has text err "stuck in an exception loop: instruction abort (SEA) at PC 0x200 (address 0x200"
clean_teardown text

run_cli bad_ipa 1 run "$g/bad_ipa.elf" --timeout 60
out_has bad_ipa out "reading IPA 0x10000000000, outside the 40-bit IPA space"
out_has bad_ipa out "ESR_EL1 0x96000010 (EC 0x25 ISS 0x10) FAR_EL1 0x10000000000"
out_has bad_ipa err "without reporting a result"
clean_teardown bad_ipa

run_cli bad_rsi 1 run "$g/bad_rsi.elf" --timeout 60
out_has bad_rsi out "RSI_HOST_CALL(misaligned RsiHostCall) = 1"
out_has bad_rsi out "RSI_MEASUREMENT_READ(slot 7) = 1"
out_has bad_rsi out "RSI_IPA_STATE_SET(top < base) = 1"
out_has bad_rsi out "no such RSI function) = 0xffffffffffffffff"
out_has bad_rsi out "outside guest RAM) = 0, rejected"
out_has bad_rsi err "RIPAS change of 0x90000000..0x90001000 to RAM rejected: not inside the private memory slots"
out_has bad_rsi err "the guest reported FAIL (result id 0x100, value 0x5)"
clean_teardown bad_rsi

run_cli bad_cpu_on 1 run "$g/bad_cpu_on.elf" --timeout 60
out_has bad_cpu_on out "CPU_ON(MPIDR 0x70f) = -2 (INVALID_PARAMETERS: no such vCPU)"
out_has bad_cpu_on err "the guest reported FAIL (result id 0x101, value 0xfffffffffffffffe)"
clean_teardown bad_cpu_on

# a CPU_ON to the vCPU a 1-vCPU realm does not have: smp probing finds 1 CPU
run_cli smp_probe 0 run "$g/smp.elf" -c 1 --timeout 60
out_has smp_probe out "smp: 1 cpus, 0 started, all up and off"

# ---- --trace: every RMI call and exit, every RSI/PSCI call ----

run_cli trace 0 run "$g/hello.elf" --trace --timeout 60
out_has trace err "rmi: RMI_REALM_CREATE("
out_has trace err "rmi: RMI_RTT_DATA_MAP_INIT("
out_has trace err "rmi: RMI_REALM_ACTIVATE("
out_has trace err "rmi: RMI_REC_ENTER("
out_has trace err "run: vm 1 vcpu 0 exit SYNC esr 0x93"
out_has trace err "run: vm 1 vcpu 0 exit HOST_CALL imm 0x7"
out_has trace err "rmm: rec 0 RSI_VERSION(0x10000"
out_has trace err "rmm: rec 0 RSI_MEASUREMENT_READ(0x0"
out_has trace err "rmm: rec 0 PSCI_SYSTEM_OFF("
out_has trace err "rmi: RMI_REALM_DESTROY("
out_has trace out "Hello from a realm!"

# ---- --state: stage 2 and the machine's granules before teardown ----

run_cli state 0 run "$g/smp.elf" -c 2 --state --timeout 60
out_has state err "realmkit run: state before teardown: realm 1 is ACTIVE"
out_has state err "vm 1 (realm) stage 2: "
out_has state err " block   -> 0x"
out_has state err "granules of the machine ("
for role in "RD                1" "REC               2" "REC-aux          32" "RTT "; do
	out_has state err "RMM        $role"
done
clean_teardown state

# ---- normal VMs: the same loop, no RMM ----

run_cli normal_smp 0 run "$g/smp.elf" --normal -c 3 --timeout 60
out_has normal_smp out "smp: 3 cpus, 2 started, all up and off"
out_hasnt normal_smp err "RIM"
run_cli normal_hello 1 run "$g/hello.elf" --normal --timeout 60
out_has normal_hello out "Hello from a realm!"
out_has normal_hello out "RSI_MEASUREMENT_READ(RIM) failed: 18446744073709551615"
out_has normal_hello err "the guest reported FAIL (hello"

# ---- usage errors, unreadable images ----

run_cli u1 2 run
run_cli u2 2 run "$g/hello.elf" -c 0
run_cli u3 2 run "$g/hello.elf" --hash md5
run_cli u4 2 run "$g/hello.elf" --attest 1234
run_cli u5 2 run "$g/hello.elf" --token-out "$tmp/x"
run_cli u6 2 measure "$g/hello.elf" --normal
run_cli u7 1 run "$tmp/nonexistent.elf"
out_has u7 err "No such file or directory"
head -c 100 /dev/urandom >"$tmp/junk.elf"
printf '\177ELF\011' | cat - "$tmp/junk.elf" >"$tmp/bad.elf"
run_cli u8 1 run "$tmp/bad.elf"
out_has u8 err "$tmp/bad.elf: not a 64-bit ELF (EI_CLASS 9)"
run_cli u10 1 measure "$tmp/nonexistent.elf"
run_cli help 0 run --help
out_has help out "usage: realmkit run IMAGE"

if [ "$failures" -ne 0 ]; then
	echo "test_cli_run: $failures failure(s)"
	exit 1
fi
echo "test_cli_run: all passed"
