#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The realmkit demo on a fresh Debian 12 machine: install the packages
# (scripts/setup.sh), build realmkit (Release) and the example realms into
# build/, run `build/realmkit demo` (a realm built, measured and torn down
# through the host library), then `build/realmkit run build/guest/hello.elf`:
# the hello realm end to end (built, run with its console on stdout, torn
# down). Extra arguments go to `realmkit demo` (see --help); RK_BUILD_DIR
# overrides the build directory.
# Exits non-zero if any step fails, or if a teardown leaks a granule.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

build=${RK_BUILD_DIR:-$here/build}

"$here/scripts/setup.sh"
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >"$build.configure.log" 2>&1 ||
	{ cat "$build.configure.log"; exit 1; }
cmake --build "$build" --target realmkit_cli guest_payloads -j"${RK_JOBS:-$(nproc)}"
"$build/realmkit" demo "$@"
echo
echo "\$ realmkit run $build/guest/hello.elf"
exec "$build/realmkit" run "$build/guest/hello.elf" --timeout 60
