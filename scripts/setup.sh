#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install every Debian package realmkit needs (listed once, in deps/debian-packages.txt).
# Idempotent: does nothing when all are present.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mapfile -t pkgs < <(grep -v '^\s*#' "$here/deps/debian-packages.txt" | sed '/^\s*$/d')
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	sudo_cmd=""
	[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
	$sudo_cmd apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Linux guest kit (issue 13: Debian's arm64 kernel, attestation modules and busybox in an
# initramfs, cached under ~/.cache/realmkit/linux): opt-in with RK_LINUX_GUEST=1 while
# nothing in realmkit boots it yet; tests/project/test_linux_kit.sh checks it when it is cached.
if [ "${RK_LINUX_GUEST:-0}" = 1 ]; then
	"$here/scripts/linux-guest.sh"
fi
