#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# No file cycle inside the RMM: no two files of src/rmm/ (or the generated
# dispatch tables) call each other, directly or round a loop. The graph comes
# from the rk_rmm object files (tests/support/rmm_file_graph.py; docs/
# architecture.md, "The RMM's files"). And each header of the RMM declares
# what its own .c defines, nothing of another file.
set -euo pipefail
: "${RK_SOURCE_DIR:?}" "${RK_BINARY_DIR:?}"
objs="$RK_BINARY_DIR/CMakeFiles/rk_rmm.dir"
[ -d "$objs" ] || { echo "no rk_rmm objects in $objs"; exit 1; }
if ! python3 "$RK_SOURCE_DIR/tests/support/rmm_file_graph.py" "$RK_SOURCE_DIR" "$objs"; then
    echo "FAIL: files of the RMM call each other in a loop, or a header declares another file's functions (above); see docs/architecture.md"
    exit 1
fi
echo "ok: the RMM's file graph is acyclic"
