#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The attestation round trip from the CLI (issue 5): `realmkit run attest.elf
# --attest CHALLENGE --token-out FILE` runs the attest example's protocol
# (RK_HC_CHALLENGE, RK_HC_SHARED_BUF, RK_HC_TOKEN_READY) and writes the token;
# `realmkit verify FILE --challenge CHALLENGE --rim $(realmkit measure ...)`
# must accept it, for SHA-256 and SHA-512 realms, with the platform signature
# checked when the machine's CPAK is given as a PEM file (--cpak). Tokens are
# refused with another challenge, another RIM, another CPAK. With --cpak-out the
# run writes the public key of its CPAK (generated or given) for verify --cpak.
# Needs RK_CLI, RK_BINARY_DIR and RK_SOURCE_DIR (set by ctest).
set -uo pipefail

. "$(dirname "$0")/../support/cli_common.sh"
cpak=${RK_SOURCE_DIR:?RK_SOURCE_DIR not set}/../shared/testdata/attestation/cpak-sample.pem
if [ ! -f "$cpak" ]; then
	# the public samples are not in the tree: ../shared/testdata/attestation next to the checkout
	echo "SKIP: the public attestation sample $cpak is not there"
	exit 0
fi
need_payload attest.elf

# check NAME WANT_STATUS CMD...: runs CMD, output in $tmp/NAME.log
check() {
	local name=$1 want=$2 st
	shift 2
	"$@" >"$tmp/$name.log" 2>&1
	st=$?
	if [ "$st" != "$want" ]; then
		fail "$name: exit status $st, expected $want ($*)"
		sed 's/^/    /' "$tmp/$name.log" | tail -25
	fi
}

has() {
	grep -qF -- "$2" "$tmp/$1.log" || { fail "$1: no '$2'"; sed 's/^/    /' "$tmp/$1.log" | tail -25; }
}

chal=$(for i in $(seq 0 63); do printf '%02x' $(((i * 37 + 11) & 255)); done)
other=$(for i in $(seq 0 63); do printf '%02x' $(((i * 37 + 12) & 255)); done)

for h in sha256 sha512; do
	rim=$("$cli" measure "$g/attest.elf" --hash $h) || fail "measure $h"

	# without --cpak: the machine's own CPAK; the platform signature is not checked by verify
	check run_$h 0 "$cli" run "$g/attest.elf" --hash $h --attest "$chal" --token-out "$tmp/$h.cbor" --timeout 60
	has run_$h "attest: challenge ${chal:0:32}..."
	has run_$h "attest: token copied to shared"
	has run_$h "attestation token: "
	check verify_$h 0 "$cli" verify "$tmp/$h.cbor" --challenge "$chal" --rim "$rim"
	has verify_$h "result: VALID"
	has verify_$h "RIM                    matches --rim"
	has verify_$h "challenge              matches --challenge"

	# with the sample CPAK as a PEM file: the platform signature checks out against it
	check runk_$h 0 "$cli" run "$g/attest.elf" --hash $h --attest "$chal" --token-out "$tmp/$h-k.cbor" --cpak "$cpak" \
		--timeout 60
	check verifyk_$h 0 "$cli" verify "$tmp/$h-k.cbor" --challenge "$chal" --rim "$rim" --cpak "$cpak"
	has verifyk_$h "platform signature     valid"
	has verifyk_$h "result: VALID"

	# refusals: another challenge, another RIM (another hash's, another image's), another CPAK
	check badchal_$h 1 "$cli" verify "$tmp/$h-k.cbor" --challenge "$other" --rim "$rim" --cpak "$cpak"
	check badrim_$h 1 "$cli" verify "$tmp/$h-k.cbor" --challenge "$chal" --rim "$("$cli" measure "$g/hello.elf" --hash $h)"
	check badcpak_$h 1 "$cli" verify "$tmp/$h.cbor" --challenge "$chal" --rim "$rim" --cpak "$cpak"
done
# the two hashes measure differently
[ "$("$cli" measure "$g/attest.elf" --hash sha256)" != "$("$cli" measure "$g/attest.elf" --hash sha512)" ] ||
	fail "SHA-256 and SHA-512 RIMs are equal"

# --cpak-out (issue 10): a token from a run with the default (generated) keys can be checked
# against the CPAK the run wrote; not against another run's or the sample's
check cpakout 0 "$cli" run "$g/attest.elf" --attest "$chal" --token-out "$tmp/d.cbor" --cpak-out "$tmp/d.pem" \
	--timeout 60
has cpakout "CPAK public key written to $tmp/d.pem"
grep -q -- "-----BEGIN PUBLIC KEY-----" "$tmp/d.pem" || fail "cpakout: $tmp/d.pem is no PUBLIC KEY PEM"
grep -q "PRIVATE" "$tmp/d.pem" && fail "cpakout: $tmp/d.pem holds a private key"
check cpakout_verify 0 "$cli" verify "$tmp/d.cbor" --challenge "$chal" --cpak "$tmp/d.pem"
has cpakout_verify "platform signature     valid"
has cpakout_verify "result: VALID"
check cpakout_run2 0 "$cli" run "$g/hello.elf" --cpak-out "$tmp/d2.pem" -q --timeout 60
cmp -s "$tmp/d.pem" "$tmp/d2.pem" && fail "cpakout_run2: two machines generated the same CPAK"
check cpakout_other 1 "$cli" verify "$tmp/d.cbor" --challenge "$chal" --cpak "$tmp/d2.pem"
has cpakout_other "platform-signature"
check cpakout_sample 1 "$cli" verify "$tmp/d.cbor" --challenge "$chal" --cpak "${cpak%.pem}.pub.pem"
has cpakout_sample "platform-signature"
# with --cpak: the public part of that key, exactly the sample's public PEM
check cpakout_given 0 "$cli" run "$g/hello.elf" --cpak "$cpak" --cpak-out "$tmp/s.pem" -q --timeout 60
cmp -s "$tmp/s.pem" "${cpak%.pem}.pub.pem" || fail "cpakout_given: not the sample CPAK's public key"
# usage errors: a normal VM has no CPAK; --cpak-out must not overwrite --cpak's private key
cp "$cpak" "$tmp/k.pem"
check cpakout_normal 2 "$cli" run "$g/hello.elf" --normal --cpak-out "$tmp/n.pem"
[ -e "$tmp/n.pem" ] && fail "cpakout_normal: wrote $tmp/n.pem"
check cpakout_same 2 "$cli" run "$g/hello.elf" --cpak "$tmp/k.pem" --cpak-out "$tmp/../$(basename "$tmp")/k.pem"
has cpakout_same "would overwrite"
cmp -s "$tmp/k.pem" "$cpak" || fail "cpakout_same: the private key was overwritten"
check cpakout_unwritable 1 "$cli" run "$g/hello.elf" --cpak-out "$tmp/no/such/dir/c.pem" --timeout 60
has cpakout_unwritable "cannot write the CPAK"

# --token-out needs a token: hello hands none over; a bad challenge is a usage error
check notoken 1 "$cli" run "$g/hello.elf" --attest "$chal" --token-out "$tmp/none.cbor" --timeout 60
has notoken "handed over no attestation token"
check badhex 2 "$cli" run "$g/attest.elf" --attest "xyz"

if [ "$failures" -ne 0 ]; then
	echo "test_cli_attest: $failures failure(s)"
	exit 1
fi
echo "test_cli_attest: all passed"
