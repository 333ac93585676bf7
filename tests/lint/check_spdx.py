#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""check_spdx.py SOURCE_DIR: every source file of groved names its licence.

A source file is C (*.c, *.h), Python (*.py and scripts whose first line
names python), shell (*.sh), Go, Lua, CMake (CMakeLists.txt, *.cmake) or
the Dockerfile, as git tracks them (every file below SOURCE_DIR when it is
not a git checkout). Each must carry `SPDX-License-Identifier: Apache-2.0`
in its first three lines. Test data (tests/golden, tests/fixtures) is not
source, but the scripts among it are. A self-test first checks that a file without the line is caught.
"""

import os
import subprocess
import sys
import tempfile

TAG = "SPDX-License-Identifier: Apache-2.0"
EXTS = (".c", ".h", ".py", ".sh", ".go", ".lua", ".cmake")
NAMES = ("CMakeLists.txt", "Dockerfile")
DATA = ("tests/golden/", "tests/fixtures/", "build")


def tracked(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files"], check=True,
                             capture_output=True, text=True).stdout
        return out.split("\n")
    except (OSError, subprocess.CalledProcessError):
        files = []
        for d, _, names in os.walk(root):
            for n in names:
                files.append(os.path.relpath(os.path.join(d, n), root))
        return files


def is_source(root, rel):
    if not rel or "__pycache__" in rel:
        return False
    if rel.startswith(DATA) and not rel.endswith((".sh", ".py")):
        return False
    base = os.path.basename(rel)
    if rel.endswith(EXTS) or base in NAMES:
        return True
    path = os.path.join(root, rel)
    if "." not in base and os.path.isfile(path) and os.access(path, os.X_OK):
        with open(path, "rb") as f:
            return f.readline().startswith(b"#!")
    return False


def missing(root, files):
    bad = []
    for rel in files:
        if not is_source(root, rel):
            continue
        try:
            with open(os.path.join(root, rel), encoding="utf-8",
                      errors="replace") as f:
                head = [f.readline() for _ in range(3)]
        except OSError as e:
            bad.append(f"{rel}: cannot read: {e}")
            continue
        if not any(TAG in line for line in head):
            bad.append(f"{rel}: no '{TAG}' in its first three lines")
    return bad


def self_test():
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "good.c"), "w") as f:
            f.write("/* %s */\nint x;\n" % TAG)
        with open(os.path.join(d, "bad.py"), "w") as f:
            f.write("#!/usr/bin/env python3\nprint(1)\n")
        found = missing(d, ["good.c", "bad.py", "tests/golden/x.c"])
        return len(found) == 1 and found[0].startswith("bad.py")


def main():
    if len(sys.argv) != 2:
        print("usage: check_spdx.py SOURCE_DIR", file=sys.stderr)
        return 2
    if not self_test():
        print("self-test failed: a file without the SPDX line went unseen")
        return 1
    root = sys.argv[1]
    files = tracked(root)
    n = sum(1 for rel in files if is_source(root, rel))
    bad = missing(root, files)
    for b in bad:
        print(b)
    if bad:
        print(f"{len(bad)} of {n} source files name no licence")
        return 1
    print(f"{n} source files, each with its SPDX line")
    return 0


if __name__ == "__main__":
    sys.exit(main())
