#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `realmkit verify`: exit codes (0 valid, 1 refused, 2 usage), output and --json
# for the public sample tokens and tampered copies. Run by ctest with RK_CLI
# (the realmkit binary) and RK_SOURCE_DIR set.
set -u

CLI=${RK_CLI:?RK_CLI must point to the realmkit binary}
SRC=${RK_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DATA=$SRC/../shared/testdata/attestation
[ -d "$DATA" ] || DATA=$(cd "$(dirname "$0")/../../../shared/testdata/attestation" 2>/dev/null && pwd 2>/dev/null)
TOK2=$DATA/token-realm2.0.cbor
TOK1=$DATA/token-realm1.0.cbor
TOKL=$DATA/token-cca-ssd-legacy.cbor
CPAK=$DATA/cpak-sample.pub.pem
if [ ! -f "$CPAK" ]; then
	# the public samples are not in the tree: ../shared/testdata/attestation next to the checkout
	echo "SKIP: the public attestation sample $CPAK is not there"
	exit 0
fi
RIM=311314ab73620350cf758834ae5c65d9e8c2dc7febe6e7d9654bbe864e300d49
CHAL=6e86d6d97cc713bc6dd43dbce491a6b40311c027a8bf85a39da63e9ce44c132a8a119d296fae6a6999e9bf3e4471b0ce01245d889424c31e89793b3b1d6b1504

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
n=0

# run EXPECTED_EXIT ARGS... : runs the CLI, keeps stdout/stderr in $TMP/out, $TMP/err
run() {
	local want=$1
	shift
	n=$((n + 1))
	"$CLI" "$@" >"$TMP/out" 2>"$TMP/err"
	local got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL: realmkit $* -> exit $got, expected $want"
		sed 's/^/  stderr: /' "$TMP/err" | head -5
		fails=$((fails + 1))
		return 1
	fi
	return 0
}

# expect FILE(out|err) PATTERN : fixed-string match in the last run's output
expect() {
	if ! grep -qF -- "$2" "$TMP/$1"; then
		echo "FAIL: $1 of the last run lacks '$2'"
		sed 's/^/  /' "$TMP/$1" | head -8
		fails=$((fails + 1))
	fi
}

# flip OFFSET_EXPR SRC DST : copy SRC to DST with one byte xor 0x01 at a python offset expression
flip() {
	python3 - "$2" "$3" "$1" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
off = eval(sys.argv[3], {"b": b, "len": len})
b[off] ^= 0x01
open(sys.argv[2], 'wb').write(bytes(b))
EOF
}

# --- valid tokens ---
run 0 verify "$TOK2" --cpak "$CPAK" && {
	expect out "token: CCA 2.0 (CBOR tag 907)"
	expect out "tag:arm.com,2024:realm#2.0.0"
	expect out "tag:arm.com,2023:cca_platform#1.0.0"
	expect out "$RIM"
	expect out "RSE_BL1_2"
	expect out "0x3003 (secured)"
	expect out "valid (ES384, CPAK $CPAK)"
	expect out "result: VALID"
}
run 0 verify "$TOK2" && expect out "not checked (no --cpak)"
run 0 verify --cpak "$CPAK" "$TOK1" && {
	expect out "token: CCA 1.0 (CBOR tag 399)"
	expect out "tag:arm.com,2023:realm#1.0.0"
}
run 0 verify "$TOKL" --cpak "$DATA/cpak-sample.pem" && {
	expect out "token: CCA cca-ssd (CBOR tag 399)"
	expect out "http://arm.com/CCA-SSD/1.0.0"
	expect out "raw EC point, 97 bytes"
}
run 0 verify "$TOK2" --cpak "$CPAK" --rim "$RIM" --challenge "0x$CHAL" && {
	expect out "matches --rim"
	expect out "matches --challenge"
}

# --- JSON ---
run 0 verify "$TOK2" --cpak "$CPAK" --json && {
	if ! python3 -m json.tool "$TMP/out" >/dev/null; then
		echo "FAIL: --json output is not valid JSON"
		fails=$((fails + 1))
	fi
	python3 - "$TMP/out" "$RIM" <<'EOF' || fails=$((fails + 1))
import json, sys
j = json.load(open(sys.argv[1]))
assert j["valid"] is True, j
assert j["format"] == "2.0" and j["top_tag"] == 907
assert j["realm"]["rim"] == sys.argv[2]
assert len(j["realm"]["rems"]) == 4
assert j["realm"]["mec_policy"] == 1
assert j["realm"]["rak_encoding"] == "cose_key"
assert j["platform"]["profile"] == "tag:arm.com,2023:cca_platform#1.0.0"
assert len(j["platform"]["sw_components"]) == 13
assert j["checks"]["platform_signature"] == "valid"
assert j["checks"]["binding"] == "valid"
assert j["error"] is None
EOF
}
run 0 verify "$TOKL" --json && {
	python3 -m json.tool "$TMP/out" >/dev/null || { echo "FAIL: legacy --json"; fails=$((fails + 1)); }
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["realm"]["profile"] is None and j["checks"]["platform_signature"] == "not checked"' "$TMP/out" ||
		fails=$((fails + 1))
}

# --- refused: mismatches ---
WRONG_RIM=${RIM%??}00
run 1 verify "$TOK2" --rim "$WRONG_RIM" && {
	expect err "differs from the expected RIM"
	expect err "[rim-mismatch]"
}
run 1 verify "$TOK2" --rim "${RIM}${RIM:0:32}" && expect err "[rim-mismatch]"
run 1 verify "$TOK2" --challenge "${CHAL%??}ff" && expect err "[challenge-mismatch]"
run 1 verify "$TOK2" --cpak "$DATA/rak-sample.pem" && expect err "[platform-signature]"
run 1 verify "$TOK2" --json --rim "$WRONG_RIM" && {
	python3 - "$TMP/out" <<'EOF' || fails=$((fails + 1))
import json, sys
j = json.load(open(sys.argv[1]))
assert j["valid"] is False and j["error"]["code"] == "rim-mismatch", j
assert "expected RIM" in j["error"]["reason"]
EOF
}

# --- refused: tampered tokens ---
flip "len(b) - 1" "$TOK2" "$TMP/realm-sig.cbor"          # last byte: realm signature
run 1 verify "$TMP/realm-sig.cbor" && expect err "[realm-signature]"
flip "b.find(b'RSE_BL2')" "$TOK2" "$TMP/plat-payload.cbor"  # a platform claim
run 1 verify "$TMP/plat-payload.cbor" --cpak "$CPAK" && expect err "[platform-signature]"
run 0 verify "$TMP/plat-payload.cbor" && expect out "not checked"   # without a CPAK it cannot be seen
flip "b.find(bytes.fromhex('$RIM'))" "$TOK1" "$TMP/rim.cbor"
run 1 verify "$TMP/rim.cbor" && expect err "realm token signature does not verify"
head -c 1000 "$TOK2" >"$TMP/trunc.cbor"
run 1 verify "$TMP/trunc.cbor" && expect err "truncated"
printf 'not a token' >"$TMP/garbage.cbor"
run 1 verify "$TMP/garbage.cbor" && expect err "INVALID"
: >"$TMP/empty.cbor"
run 1 verify "$TMP/empty.cbor" && expect err "[token-size]"
run 1 verify "$TMP/does-not-exist.cbor" && expect err "cannot read"

# --- usage errors ---
run 2 verify
run 2 verify "$TOK2" "$TOK1"
run 2 verify "$TOK2" --bogus
run 2 verify "$TOK2" --rim
run 2 verify "$TOK2" --rim 1234
run 2 verify "$TOK2" --rim "zz${RIM:2}"
run 2 verify "$TOK2" --challenge "$RIM"
run 2 verify "$TOK2" --cpak "$TMP/does-not-exist.pem" && expect err "cannot use CPAK"
run 2 verify "$TOK2" --cpak "$TOK2"
run 0 verify --help && expect out "usage: realmkit verify"
run 0 --help && expect out "verify"

echo "$n runs, $fails failures"
[ "$fails" -eq 0 ]
