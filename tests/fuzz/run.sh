#!/usr/bin/env bash
# Build the token-verifier libFuzzer target with clang and run it for a bounded
# time on the public sample tokens (run by scripts/test.sh as one check).
#   tests/fuzz/run.sh OUT_DIR [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: run.sh OUT_DIR [SECONDS]}
secs=${2:-30}
samples="$here/../shared/testdata/attestation"
mkdir -p "$out/corpus"
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I"$here/include" -I"$here/src" "$here/tests/fuzz/fuzz_token.c" "$here"/src/attest/*.c \
	$(pkg-config --cflags --libs libcbor) -lcrypto -o "$out/fuzz_token"
if [ -d "$samples" ]; then
	cp "$samples"/*.cbor "$out/corpus/"
	export RK_FUZZ_CPAK="$samples/cpak-sample.pub.pem"
fi
"$out/fuzz_token" -max_total_time="$secs" -max_len=8192 -print_final_stats=1 "$out/corpus" 2>&1 | tail -5
