#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""check_floors.py: the modules of groved and the floors they stand on.

Every module lives on a floor (docs/architecture.md):

    floor 0  base                  result codes, errors, buffers, JSON, files
    floor 1  policy, kube          the rules; the API client
    floor 2  certs, reconcile      TLS material (uses kube for its Secret);
                                   the planner (server runs it)
    floor 3  server                the program

A source file may include the headers of its own module and of modules on
lower floors, never of a module on its own floor or above. The same holds
for the libraries: gv_<module> may link only gv_<lower module>. This script
reads the `#include "..."` lines of every module and the CMake targets and
fails (exit 1) on an edge that points up or sideways, on an allow-list
entry that no longer occurs (so the list can only shrink), and on a header
it cannot place.

    check_floors.py ROOT              check the tree at ROOT
    check_floors.py ROOT --graph      also print the module include graph
    check_floors.py ROOT --self-test  first inject faults into a copy of
                                      the tree; each must be caught

Standard library only.
"""
import os
import re
import shutil
import sys
import tempfile

FLOORS = {
    "base": 0,
    "policy": 1,
    "kube": 1,
    "certs": 2,
    "server": 3,
    "reconcile": 2,
}

# Public headers in include/groved/, by the module that implements them.
PUBLIC = {
    "gv.h": "base",
    "compat.h": "base",
    "banned.h": "base",
    "policy.h": "policy",
    "kube.h": "kube",
    "certs.h": "certs",
    "server.h": "server",
    "reconcile.h": "reconcile",
}

# Edges that still point the wrong way, as (including file, included
# header), both relative to the root. None left: phase 2 moved the YAML
# reader to base and the V14/V20 lookups next to server/srv_kcache.c.
ALLOWED_INCLUDES = set()
# The same for library links, as (target, linked target).
ALLOWED_LINKS = set()

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def public_module(name):
    """The module of include/groved/<name>, or None."""
    if name in PUBLIC:
        return PUBLIC[name]
    if name.startswith("gv_") and name.endswith(".h"):
        return "base"  # gv.h's friends: gv_buf.h, gv_json.h, ...
    return None


def module_files(root):
    """{relative path: module} of every .c and .h of the modules."""
    files = {}
    for mod in FLOORS:
        top = os.path.join(root, mod)
        if not os.path.isdir(top):
            continue
        for dirpath, _dirs, names in os.walk(top):
            for n in sorted(names):
                if n.endswith((".c", ".h")):
                    rel = os.path.relpath(os.path.join(dirpath, n), root)
                    files[rel] = mod
    inc = os.path.join(root, "include", "groved")
    if os.path.isdir(inc):
        for n in sorted(os.listdir(inc)):
            if n.endswith(".h"):
                files["include/groved/" + n] = public_module(n)
    return files


def resolve(root, files, src, name):
    """The relative path that `#include "name"` in src reads, or None."""
    if name.startswith("groved/"):
        rel = "include/" + name
        return rel if rel in files else None
    here = os.path.normpath(os.path.join(os.path.dirname(src), name))
    if here in files:
        return here
    # the module directories that CMake puts on the include path
    hits = [f for f in files
            if not f.startswith("include/") and
            os.path.basename(f) == os.path.basename(name) and
            f.endswith("/" + name)]
    return hits[0] if len(hits) == 1 else None


def include_edges(root, files):
    """[(src, header, src module, header module)], and problems."""
    edges = []
    problems = []
    for src in sorted(files):
        mod = files[src]
        if mod is None:
            problems.append("%s: a public header of no module: add it to "
                            "PUBLIC in %s" % (src, os.path.basename(__file__)))
            continue
        with open(os.path.join(root, src), encoding="utf-8",
                  errors="replace") as f:
            text = f.read()
        for name in INCLUDE_RE.findall(text):
            hdr = resolve(root, files, src, name)
            if hdr is None:
                problems.append('%s: cannot place #include "%s"'
                                % (src, name))
                continue
            edges.append((src, hdr, mod, files[hdr]))
    return edges, problems


def check_includes(edges):
    problems = []
    seen = set()
    for src, hdr, mod, hmod in edges:
        if hmod is None or hmod == mod or FLOORS[hmod] < FLOORS[mod]:
            continue
        seen.add((src, hdr))
        if (src, hdr) in ALLOWED_INCLUDES:
            continue
        problems.append("%s includes %s: %s (floor %d) may not use %s "
                        "(floor %d)" % (src, hdr, mod, FLOORS[mod], hmod,
                                        FLOORS[hmod]))
    for src, hdr in sorted(ALLOWED_INCLUDES - seen):
        problems.append("allow-list: %s no longer includes %s: remove the "
                        "entry" % (src, hdr))
    return problems


def cmake_commands(text, command):
    """The argument lists of every `command(...)` in a CMake file."""
    text = re.sub(r"#[^\n]*", "", text)
    out = []
    for m in re.finditer(r"\b%s\s*\(([^)]*)\)" % command, text):
        out.append(m.group(1).split())
    return out


def check_cmake(root):
    """Sources of gv_<module> live in <module>/; links point down."""
    problems = []
    path = os.path.join(root, "CMakeLists.txt")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    libs = {}
    for args in cmake_commands(text, "add_library"):
        if not args or not args[0].startswith("gv_"):
            continue
        mod = args[0][3:]
        if mod not in FLOORS:
            problems.append("CMakeLists.txt: library %s is no module of "
                            "this script's floors" % args[0])
            continue
        libs[args[0]] = mod
        for s in args[1:]:
            if s in ("STATIC", "SHARED", "OBJECT"):
                continue
            if not s.startswith(mod + "/"):
                problems.append("CMakeLists.txt: %s builds %s, which is "
                                "not in %s/" % (args[0], s, mod))
    seen = set()
    for args in cmake_commands(text, "target_link_libraries"):
        if not args or args[0] not in libs:
            continue
        mod = libs[args[0]]
        for dep in args[1:]:
            if dep not in libs:
                continue
            dmod = libs[dep]
            if dmod != mod and FLOORS[dmod] < FLOORS[mod]:
                continue
            seen.add((args[0], dep))
            if (args[0], dep) in ALLOWED_LINKS:
                continue
            problems.append("CMakeLists.txt: %s links %s: %s (floor %d) "
                            "may not use %s (floor %d)"
                            % (args[0], dep, mod, FLOORS[mod], dmod,
                               FLOORS[dmod]))
    for lib, dep in sorted(ALLOWED_LINKS - seen):
        problems.append("allow-list: %s no longer links %s: remove the "
                        "entry" % (lib, dep))
    if "gv_base" not in libs:
        problems.append("CMakeLists.txt: no gv_base library")
    return problems


def check(root):
    files = module_files(root)
    edges, problems = include_edges(root, files)
    problems += check_includes(edges)
    problems += check_cmake(root)
    return edges, problems


def graph(edges):
    """Lines describing the module include graph."""
    count = {}
    for _src, _hdr, mod, hmod in edges:
        if hmod is not None and hmod != mod:
            count[(mod, hmod)] = count.get((mod, hmod), 0) + 1
    lines = ["%-10s -> %-10s %3d" % (a, b, n)
             for (a, b), n in sorted(count.items(),
                                     key=lambda kv: (FLOORS[kv[0][0]],
                                                     kv[0]))]
    lines.append("%d module pairs, %d cross-module #include lines"
                 % (len(count), sum(count.values())))
    return lines


def self_test(src_root):
    """Each injected fault must be reported; the untouched copy passes."""
    failures = 0

    def copy():
        tmp = tempfile.mkdtemp(prefix="floors-")
        for d in list(FLOORS) + ["include"]:
            if os.path.isdir(os.path.join(src_root, d)):
                shutil.copytree(os.path.join(src_root, d),
                                os.path.join(tmp, d))
        shutil.copy(os.path.join(src_root, "CMakeLists.txt"), tmp)
        return tmp

    def append(root, rel, text):
        with open(os.path.join(root, rel), "a", encoding="utf-8") as f:
            f.write(text)

    def first(root, mod, ext):
        d = os.path.join(root, mod)
        return mod + "/" + sorted(n for n in os.listdir(d)
                                  if n.endswith(ext))[0]

    def faults(root):
        """(name, function that injects it, text the report must hold)"""
        return [
            ("base includes policy",
             lambda: append(root, first(root, "base", ".c"),
                            '\n#include "groved/policy.h"\n'),
             "may not use policy"),
            ("kube includes a server header",
             lambda: append(root, "kube/kube_queue.c",
                            '\n#include "srv_log.h"\n'),
             "may not use server"),
            ("policy includes kube (a sibling)",
             lambda: append(root, first(root, "policy", ".c"),
                            '\n#include "groved/kube.h"\n'),
             "may not use kube"),
            ("certs includes server.h",
             lambda: append(root, first(root, "certs", ".c"),
                            '\n#include "groved/server.h"\n'),
             "may not use server"),
            ("an unknown header",
             lambda: append(root, "kube/kube_queue.c",
                            '\n#include "no_such_header.h"\n'),
             "cannot place"),
            ("a public header of no module",
             lambda: append(root, "include/groved/stray.h", "\n"),
             "public header of no module"),
            ("gv_base links gv_policy",
             lambda: append(root, "CMakeLists.txt",
                            "\ntarget_link_libraries(gv_base PUBLIC "
                            "gv_policy)\n"),
             "gv_base links gv_policy"),
            ("a kube source built into gv_certs",
             lambda: append(root, "CMakeLists.txt",
                            "\nadd_library(gv_certs STATIC "
                            "kube/kube_queue.c)\n"),
             "not in certs/"),
            ("a stale allow-list entry",
             lambda: ALLOWED_INCLUDES.add(("kube/kube_queue.c",
                                           "include/groved/server.h")),
             "no longer includes"),
        ]

    root = copy()
    try:
        _edges, problems = check(root)
        if problems:
            print("self-test: the untouched copy fails:")
            for p in problems:
                print("  " + p)
            failures += 1
    finally:
        shutil.rmtree(root)
    n = len(faults("."))
    for i in range(n):
        root = copy()
        saved = set(ALLOWED_INCLUDES)
        name, inject, want = faults(root)[i]
        try:
            inject()
            _edges, problems = check(root)
            if not any(want in p for p in problems):
                print("self-test: '%s' not caught (want '%s'; got %s)"
                      % (name, want, problems))
                failures += 1
        finally:
            ALLOWED_INCLUDES.clear()
            ALLOWED_INCLUDES.update(saved)
            shutil.rmtree(root)
    print("self-test: %d faults injected, %d missed" % (n, failures))
    return failures == 0


def main(argv):
    if len(argv) < 2 or argv[1].startswith("-") or \
            any(a not in ("--graph", "--self-test") for a in argv[2:]):
        print(__doc__.strip().splitlines()[0])
        print("usage: check_floors.py ROOT [--graph] [--self-test]")
        return 2
    root = argv[1]
    if "--self-test" in argv[2:] and not self_test(root):
        return 1
    edges, problems = check(root)
    if "--graph" in argv[2:]:
        for line in graph(edges):
            print(line)
    for p in problems:
        print("floors: " + p)
    if problems:
        return 1
    print("floors: %d #include lines checked, none points up"
          % len(edges))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
