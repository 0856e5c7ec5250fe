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
# initramfs, cached under ~/.cache/realmkit/linux; ~30 s cold, under 1 s warm), which
# tests/cli/test_cli_linux.sh boots as a realm. RK_LINUX_GUEST=0 skips it. A kit that cannot be
# fetched (registry unreachable: exit 2) does not stop the set-up: the tests that need it say
# they are skipped and why.
if [ "${RK_LINUX_GUEST:-1}" != 0 ]; then
	rc=0
	"$here/scripts/linux-guest.sh" || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "setup: WARNING: the Linux guest kit failed (scripts/linux-guest.sh exit $rc);" \
			"the Linux realm tests will be skipped" >&2
	fi
fi
