#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Check that the host's structs have no holes (nor padding): pahole (Debian
# package dwarves) on the library built in BUILD_DIR, which needs debug info
# (CMAKE_BUILD_TYPE RelWithDebInfo or Debug).
#   scripts/check-holes.sh BUILD_DIR
# Exit status: 0 no hole; 1 a hole, a struct not found, or no pahole.
set -euo pipefail

build=${1:?usage: check-holes.sh BUILD_DIR}
lib="$build/librealmkit.a"

# The VM, realm and vCPU structs the review asked about, then the rest of the host's.
structs=(
	rk_vm rk_realm rk_vcpu
	rk_host host_s2 host_memslot host_shadow host_shadow_map host_blocks host_block host_fault host_bank
	s2_ctx s2_walker s2_src
	rk_host_caps rk_host_error rk_host_fault rk_host_config rk_host_stats rk_granule_info rk_leak
	rk_vm_config rk_vcpu_config rk_s2_entry rk_vm_state_info rk_vm_transition rk_vm_op_info rk_teardown_stage
	# the RMM's hot structs: granule metadata, RD, REC, walker, SRO contexts; the platform
	granule rd rec s2tt_ctx rtt_walk sro_ctx platform plat_bank
)

if ! command -v pahole >/dev/null; then
	echo "check-holes: pahole not found (Debian package dwarves)" >&2
	exit 1
fi
if [ ! -f "$lib" ]; then
	echo "check-holes: $lib not found: build first" >&2
	exit 1
fi

# one struct per run: pahole 1.24 misses some names of a long -C list in an archive
out=""
for s in "${structs[@]}"; do
	out+=$(pahole -C "$s" "$lib" 2>&1 || true)
	out+=$'\n'
done
status=0
for s in "${structs[@]}"; do
	if ! grep -q "^struct $s {" <<<"$out"; then
		echo "check-holes: struct $s not found in $lib (no debug info? build with RelWithDebInfo)" >&2
		status=1
	fi
done
# pahole marks holes, trailing padding and bit holes with "XXX"
bad=$(awk '/^struct [a-z_0-9]+ \{/ { name = $2 } /XXX/ { print name ": " $0 }' <<<"$out" | sort -u)
if [ -n "$bad" ]; then
	echo "check-holes: holes found:" >&2
	echo "$bad" >&2
	status=1
fi
if [ "$status" -eq 0 ]; then
	echo "check-holes: ${#structs[@]} structs, no holes (rk_vm $(grep -A100 '^struct rk_vm {' <<<"$out" | grep -m1 -o 'size: [0-9]*') bytes)"
fi
exit "$status"
