#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The layering is enforced by the build: see tests/support/check_layers.py.
set -euo pipefail
: "${RK_SOURCE_DIR:?}" "${RK_BINARY_DIR:?}"
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$RK_BINARY_DIR/CMakeCache.txt")
python3 "$RK_SOURCE_DIR/tests/support/check_layers.py" "$RK_SOURCE_DIR" "$RK_BINARY_DIR" "${cc:-cc}"
