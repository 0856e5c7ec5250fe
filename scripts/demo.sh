#!/usr/bin/env bash
# The realmkit demo on a fresh Debian 12 machine: install the packages
# (scripts/setup.sh), build realmkit (Release) into build/, and run
# `build/realmkit demo`: a realm built, measured and torn down through the
# host library. Extra arguments go to `realmkit demo` (see --help);
# RK_BUILD_DIR overrides the build directory.
# Exits non-zero if any step fails, or if the teardown leaks a granule.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

build=${RK_BUILD_DIR:-$here/build}

"$here/scripts/setup.sh"
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >"$build.configure.log" 2>&1 ||
	{ cat "$build.configure.log"; exit 1; }
cmake --build "$build" --target realmkit_cli -j"${RK_JOBS:-$(nproc)}"
exec "$build/realmkit" demo "$@"
