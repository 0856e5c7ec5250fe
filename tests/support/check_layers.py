#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check the layering the build enforces (CMakeLists.txt, "The library, one
CMake target per layer"), and that docs/architecture.md tells it as it is.

usage: check_layers.py SOURCE_DIR BINARY_DIR CC

1. Every header of src/ is reachable, by any name it could be included with,
   only from the layers allowed to see it: its own layer, and the layers that
   use it if the header is exported (src/<layer>/include/). Checked from each
   layer's real include directories (BINARY_DIR/layers/rk_<layer>.inc).
2. The compiler agrees: a file of the host layer including an RMM header does
   not compile; a file of the RMM including an exported platform header does.
3. No relative ("../") or absolute include in src/, tools/, include/; public
   headers include only system headers and other public headers.
4. docs/architecture.md's layer table lists exactly the layers of the build.
Standard library only. Exit 1 with one line per problem.
"""
import os
import re
import subprocess
import sys
import tempfile

src_dir, bin_dir, cc = sys.argv[1:4]
problems = []


def fail(msg):
    problems.append(msg)


layers = {}  # name -> (dir, [uses])
for line in open(os.path.join(bin_dir, "layers", "layers.txt")):
    m = re.match(r"(\S+) (\S+) uses:(.*)$", line.strip())
    if m:
        layers[m.group(1)] = (m.group(2), m.group(3).split())
if "rmm" not in layers or "host" not in layers:
    sys.exit("check_layers: layers.txt lists no rmm/host layer")


def incdirs(name):
    with open(os.path.join(bin_dir, "layers", f"rk_{name}.inc")) as f:
        return [d for d in f.read().split("\n") if d]


# 1. reachability of every header of src/ from every layer
headers = []  # (owner, exported, path, [names])
for root, _, files in os.walk(os.path.join(src_dir, "src")):
    for fn in files:
        if not fn.endswith(".h"):
            continue
        path = os.path.join(root, fn)
        rel = os.path.relpath(path, os.path.join(src_dir, "src"))
        owner = next((n for n, (d, _) in layers.items()
                      if os.path.relpath(path, src_dir).startswith(d + "/")), None)
        if owner is None:
            fail(f"{os.path.relpath(path, src_dir)}: belongs to no layer")
            continue
        ldir = os.path.join(src_dir, layers[owner][0])
        exported = os.path.relpath(path, ldir).startswith("include/")
        names = {rel, os.path.relpath(path, ldir)}
        if exported:
            names.add(os.path.relpath(path, os.path.join(ldir, "include")))
        headers.append((owner, exported, path, sorted(names)))

for name, (_, uses) in layers.items():
    dirs = incdirs(name)
    for owner, exported, path, names in headers:
        allowed = owner == name or (exported and owner in uses)
        for n in names:
            for d in dirs:
                cand = os.path.join(d, n)
                if os.path.isfile(cand) and os.path.samefile(cand, path) and not allowed:
                    fail(f"layer {name} can include {os.path.relpath(path, src_dir)} as \"{n}\" "
                         f"(via {os.path.relpath(d, src_dir)}), but may not")

# 2. the compiler agrees
def compiles(layer, include):
    with tempfile.TemporaryDirectory() as t:
        c = os.path.join(t, "probe.c")
        with open(c, "w") as f:
            f.write(f'#include "{include}"\nint probe(void);\nint probe(void) {{ return 0; }}\n')
        flags = [f"-I{d}" for d in incdirs(layer)]
        r = subprocess.run([cc, "-std=gnu11", "-fsyntax-only", *flags, c],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return r.returncode == 0

for layer, inc, want in [("host", "rmm/rmm.h", False), ("host", "rmm/firmware.h", False),
                         ("host", "platform/platform.h", False), ("tools", "host_internal.h", False),
                         ("rmm", "host_internal.h", False), ("rmm", "cpu/cpu_unicorn.h", False),
                         ("platform", "rmm/firmware.h", False),
                         ("rmm", "platform/platform.h", True), ("machine", "rmm/firmware.h", True),
                         ("host", "realmkit/host.h", True), ("tools", "realmkit/host.h", True)]:
    if compiles(layer, inc) != want:
        fail(f"a file of layer {layer} including \"{inc}\" "
             f"{'does not compile' if want else 'compiles'}; expected the opposite")

# 3. include hygiene
inc_re = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
for top in ("src", "tools", "include"):
    for root, _, files in os.walk(os.path.join(src_dir, top)):
        for fn in files:
            if not fn.endswith((".c", ".h")):
                continue
            path = os.path.join(root, fn)
            rel = os.path.relpath(path, src_dir)
            for i, line in enumerate(open(path, errors="replace"), 1):
                m = inc_re.match(line)
                if not m:
                    continue
                kind, target = m.groups()
                if kind == '"' and (target.startswith("../") or "/../" in target or target.startswith("/")):
                    fail(f"{rel}:{i}: relative or absolute include \"{target}\"")
                if top == "include" and kind == '"' and not target.startswith("realmkit/"):
                    fail(f"{rel}:{i}: public header includes \"{target}\" (only <system> and realmkit/)")

# 4. the docs' layer table
doc = open(os.path.join(src_dir, "docs", "architecture.md")).read()
rows = {}
for m in re.finditer(r"^\| `([a-z_]+)` \| `([^`]+)/` \| ([^|]*)\|", doc, re.M):
    rows[m.group(1)] = (m.group(2), sorted(re.findall(r"`([a-z_]+)`", m.group(3))))
want = {n: (d, sorted(u)) for n, (d, u) in layers.items()}
if rows != want:
    fail("docs/architecture.md's layer table does not match the build:\n"
         f"  docs : {rows}\n  build: {want}")

for p in problems:
    print(p)
print(f"check_layers: {len(layers)} layers, {len(headers)} headers, "
      f"{'FAILED' if problems else 'ok'} ({len(problems)} problems)")
sys.exit(1 if problems else 0)
