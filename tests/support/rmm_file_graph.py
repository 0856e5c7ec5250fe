#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The file graph of the RMM, from its object files, and its cycles.

usage: rmm_file_graph.py SOURCE_DIR OBJ_DIR [--print]

OBJ_DIR is the rk_rmm object library's folder (BINARY_DIR/CMakeFiles/
rk_rmm.dir). Each object file is one node, named by its source; an edge
A -> B means that A uses a symbol B defines (a call, or a table of handlers:
`nm` sees no difference, and a dispatch table calls what it lists). A cycle
is a set of files that call each other in a loop. Exit 1 and print every
cycle (one strongly connected component a line, with the symbols of its
edges) if there is one; --print lists every edge.

It also checks that each header declares what its own .c defines: every
function a file src/rmm/X.c defines is declared in src/rmm/X.h and in no
other header of the RMM (rmm.c: rmm/firmware.h; the command handlers: the
generated rmi_handlers_gen.h). Standard library only (and `nm`, from binutils).
"""
import glob
import re
import os
import subprocess
import sys

src_dir, obj_dir = sys.argv[1], sys.argv[2]
objs = sorted(glob.glob(os.path.join(obj_dir, "**", "*.o"), recursive=True))
if not objs:
    sys.exit(f"rmm_file_graph: no object files under {obj_dir}")


def node(path):
    rel = os.path.relpath(path, obj_dir)
    return rel[:-2] if rel.endswith(".o") else rel


bin_dir = os.path.normpath(os.path.join(obj_dir, "..", ".."))


def source_exists(n):
    # an object of a source that was since removed or renamed stays in the build tree
    return os.path.isfile(os.path.join(src_dir, n)) or os.path.isfile(os.path.join(bin_dir, n))


objs = [o for o in objs if source_exists(node(o))]
defs, uses, funcs = {}, {}, {}
for o in objs:
    out = subprocess.run(["nm", "-P", o], capture_output=True, text=True, check=True).stdout
    d, u, fn = set(), set(), set()
    for line in out.splitlines():
        f = line.split()
        if len(f) < 2:
            continue
        if f[1] == "U":
            u.add(f[0])
        elif f[1] in "TDRBGSVW":  # global definitions (text, data, rodata, bss, weak)
            d.add(f[0])
            if f[1] == "T":
                fn.add(f[0])
    defs[node(o)], uses[node(o)], funcs[node(o)] = d, u, fn

owner = {}
for n, d in defs.items():
    for s in d:
        owner[s] = n
edges = {n: {} for n in defs}
for n, u in uses.items():
    for s in u:
        t = owner.get(s)
        if t and t != n:
            edges[n].setdefault(t, set()).add(s)

if "--print" in sys.argv:
    for a in sorted(edges):
        for b in sorted(edges[a]):
            print(f"{a} -> {b}: {' '.join(sorted(edges[a][b]))}")

# strongly connected components (Tarjan, iterative)
index, low, onstack, stack, comps, counter = {}, {}, set(), [], [], [0]
for root in sorted(edges):
    if root in index:
        continue
    work = [(root, iter(sorted(edges[root])))]
    index[root] = low[root] = counter[0]
    counter[0] += 1
    stack.append(root)
    onstack.add(root)
    while work:
        v, it = work[-1]
        w = next(it, None)
        if w is not None:
            if w not in index:
                index[w] = low[w] = counter[0]
                counter[0] += 1
                stack.append(w)
                onstack.add(w)
                work.append((w, iter(sorted(edges[w]))))
            elif w in onstack:
                low[v] = min(low[v], index[w])
            continue
        work.pop()
        if work:
            low[work[-1][0]] = min(low[work[-1][0]], low[v])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                onstack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

# each header declares what its own .c defines
rmm_dir = os.path.join(src_dir, "src", "rmm")
headers = {}
for root, _, files in os.walk(rmm_dir):
    for fn in files:
        if fn.endswith(".h"):
            path = os.path.join(root, fn)
            with open(path) as f:
                headers[os.path.relpath(path, src_dir)] = f.read()
misplaced = []
for n, fns in sorted(funcs.items()):
    if not n.startswith("src/rmm/"):
        continue
    own = n[:-2] + ".h"
    if n == "src/rmm/rmm.c":
        own = "src/rmm/include/rmm/firmware.h"
    for sym in sorted(fns):
        # a declaration: a line at column 0, not a comment, naming sym before "(" or ";"
        decl = re.compile(r"^(?![/ *\t#])[^;{}()\n]*\b" + re.escape(sym) + r"\s*[(;]", re.M)
        where = sorted(h for h, text in headers.items() if decl.search(text))
        if not where and (sym.startswith("rmi_") or sym.startswith("rsi_")) and n.split("/")[2] in ("rmi", "rsi", "rec_run.c"):
            continue  # a command handler: declared by the generated rmi_handlers_gen.h
        if where != [own]:
            misplaced.append(f"{n} defines {sym}, declared in {', '.join(where) or 'no header'} (not only {own})")
for m in misplaced:
    print(m)

for comp in comps:
    print(f"cycle between {len(comp)} files: {' '.join(comp)}")
    for a in comp:
        for b in sorted(edges[a]):
            if b in comp:
                print(f"  {a} -> {b}: {' '.join(sorted(edges[a][b]))}")
sys.exit(1 if comps or misplaced else 0)
