#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks that groved names one container image, the same everywhere.

Usage: python3 tests/deploy/check_image.py <repo-root>

The image ghcr.io/groved/groved:<tag> is written in C exactly once, as
POL_DEFAULT_INITC_IMAGE in include/groved/policy.h (the grove-initc image
and the default of `groved serve --initc-image`), and:
  * no other C source or header under include/, policy/, server/, kube/ or
    certs/ spells the image; srv_config.c's initc-image row is
    POL_DEFAULT_INITC_IMAGE;
  * its tag is the project's version (project(... VERSION) in
    CMakeLists.txt, what `groved version` prints);
  * the Deployment of deploy/base/deployment.yaml runs that image;
  * the README's install section builds that image (`docker build -t IMAGE
    .`) and every ghcr.io/groved/groved:<tag> in README.md, docs/,
    Dockerfile, deploy/ and tests/deploy/expected/ is that image;
  * every `?ref=v<version>` of an install URL names the project's version.
Then a self-test: each check is run on copies of the files with one fault
put in, and must report it.
"""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from k8s_yaml import load_all_text  # noqa: E402

REPO = "ghcr.io/groved/groved"
POLICY_H = "include/groved/policy.h"
SRV_CONFIG = "server/srv_config.c"
DEPLOYMENT = "deploy/base/deployment.yaml"
C_DIRS = ["include", "policy", "server", "kube", "certs"]
DOC_PATHS = ["README.md", "Dockerfile", "docs", "deploy",
             "tests/deploy/expected"]

DEFINE_RX = re.compile(r'#define\s+POL_DEFAULT_INITC_IMAGE\s+"([^"]*)"')
VERSION_RX = re.compile(r"project\(\s*groved\s+VERSION\s+([0-9][^\s)]*)")
ROW_RX = re.compile(r'\{\s*"initc-image"\s*,\s*T_STR\s*,\s*OFF\(initc_image\)'
                    r'\s*,\s*([^,]+),')
MENTION_RX = re.compile(re.escape(REPO) + r":([A-Za-z0-9_.-]+)")
BUILD_RX = re.compile(r"docker build -t (\S+) \.")
REF_RX = re.compile(r"[?&]ref=(v[^\s'\"&)]*)")


def read_tree(root):
    """{relative path: text} of every file the checks look at."""
    files = {}
    paths = [POLICY_H, "CMakeLists.txt"]
    for top in C_DIRS + DOC_PATHS:
        full = os.path.join(root, top)
        if os.path.isfile(full):
            paths.append(top)
            continue
        for d, dirs, names in os.walk(full):
            dirs.sort()
            for n in sorted(names):
                rel = os.path.relpath(os.path.join(d, n), root)
                if top in C_DIRS and not n.endswith((".c", ".h")):
                    continue
                paths.append(rel)
    for rel in paths:
        try:
            with open(os.path.join(root, rel), encoding="utf-8") as f:
                files[rel] = f.read()
        except (UnicodeDecodeError, FileNotFoundError):
            pass
    return files


def default_image(files):
    """POL_DEFAULT_INITC_IMAGE, or None."""
    m = DEFINE_RX.search(files.get(POLICY_H, ""))
    return m.group(1) if m else None


def version(files):
    m = VERSION_RX.search(files.get("CMakeLists.txt", ""))
    return m.group(1) if m else None


def check_code(files):
    """The image is written in C once, in policy.h; the serve default uses
    it; its tag is the project's version."""
    errs = []
    image = default_image(files)
    if image is None:
        return [f"{POLICY_H}: no #define POL_DEFAULT_INITC_IMAGE \"...\""]
    if not image.startswith(REPO + ":"):
        errs.append(f"POL_DEFAULT_INITC_IMAGE is \"{image}\", not "
                    f"{REPO}:<tag>")
    ver = version(files)
    if ver is None:
        errs.append("CMakeLists.txt: no project(groved VERSION ...)")
    elif image != f"{REPO}:{ver}":
        errs.append(f"POL_DEFAULT_INITC_IMAGE \"{image}\" is not tagged with "
                    f"the project's version {ver}")
    spelled = sorted(p for p, t in files.items()
                     if p.split("/")[0] in C_DIRS and REPO in t)
    if spelled != [POLICY_H] or files[POLICY_H].count(REPO) != 1:
        where = ", ".join(f"{p} ({files[p].count(REPO)}x)" for p in spelled)
        errs.append(f"the image must be written once, in {POLICY_H}; "
                    f"found in: {where or 'nowhere'}")
    m = ROW_RX.search(files.get(SRV_CONFIG, ""))
    if not m:
        errs.append(f"{SRV_CONFIG}: no initc-image row")
    elif m.group(1).strip() != "POL_DEFAULT_INITC_IMAGE":
        errs.append(f"{SRV_CONFIG}: the initc-image row's default is "
                    f"{m.group(1).strip()}, not POL_DEFAULT_INITC_IMAGE")
    return errs


def check_deployment(files):
    """The Deployment runs the default image."""
    image = default_image(files)
    docs = load_all_text(files.get(DEPLOYMENT, ""))
    deps = [d for d in docs if d.get("kind") == "Deployment"]
    if len(deps) != 1:
        return [f"{DEPLOYMENT}: {len(deps)} Deployments, expected 1"]
    ctrs = deps[0]["spec"]["template"]["spec"]["containers"]
    images = [c.get("image") for c in ctrs]
    if images != [image]:
        return [f"{DEPLOYMENT}: containers run {images}, expected "
                f"[{image!r}] (POL_DEFAULT_INITC_IMAGE)"]
    return []


def check_docs(files):
    """README builds the default image; every mention of the image and of
    an install ref names the default and the version."""
    errs = []
    image = default_image(files)
    ver = version(files)
    built = BUILD_RX.findall(files.get("README.md", ""))
    if image not in built:
        errs.append(f"README.md: no `docker build -t {image} .` (found "
                    f"{built or 'no docker build'})")
    for p, t in sorted(files.items()):
        if p.split("/")[0] in C_DIRS:
            continue
        for n, line in enumerate(t.splitlines(), 1):
            for m in MENTION_RX.finditer(line):
                if m.group(0) != image:
                    errs.append(f"{p}:{n}: {m.group(0)}, expected {image}")
            for m in REF_RX.finditer(line):
                if ver and m.group(1) != "v" + ver:
                    errs.append(f"{p}:{n}: ref={m.group(1)}, expected "
                                f"ref=v{ver}")
    return errs


CHECKS = [
    ("the image is written once in C, tagged with the version", check_code),
    ("the Deployment runs it", check_deployment),
    ("README and docs name it", check_docs),
]


def _sub(path, old, new):
    def fault(files):
        if old not in files.get(path, ""):
            raise AssertionError(f"self-test: {old!r} not in {path}")
        files[path] = files[path].replace(old, new, 1)
    return fault


def self_test(files):
    """Each fault must make its check fail; returns the failures."""
    image = default_image(files)
    tag = image.split(":", 1)[1] if image else ""
    ver = version(files) or ""
    faults = [
        ("policy.h names :latest", check_code,
         _sub(POLICY_H, f'"{image}"', f'"{REPO}:latest"')),
        ("project version bumped alone", check_code,
         _sub("CMakeLists.txt", f"VERSION {ver}", "VERSION 9.9.9")),
        ("srv_config.c writes the image again", check_code,
         _sub(SRV_CONFIG, "POL_DEFAULT_INITC_IMAGE", f'"{image}"')),
        ("srv_config.c's row has another default", check_code,
         _sub(SRV_CONFIG, "POL_DEFAULT_INITC_IMAGE", '"registry/x:1"')),
        ("a second define in a header", check_code,
         lambda f: f.__setitem__("include/groved/extra.h",
                                 f'#define X "{REPO}:{tag}"\n')),
        ("the Deployment runs another tag", check_deployment,
         _sub(DEPLOYMENT, f"image: {image}", f"image: {REPO}:0.0.9")),
        ("the README builds another tag", check_docs,
         _sub("README.md", f"docker build -t {image} .",
              f"docker build -t {REPO}:latest .")),
        ("docs name another tag", check_docs,
         lambda f: f.__setitem__("docs/x.md", f"see {REPO}:0.0.9\n")),
        ("an install URL names another ref", check_docs,
         lambda f: f.__setitem__("docs/x.md", "-k 'x//deploy?ref=v0.0.9'\n")),
    ]
    failures = []
    for name, check, fault in faults:
        copy = dict(files)
        try:
            fault(copy)
        except AssertionError as e:
            failures.append(str(e))
            continue
        if check(copy):
            print(f"ok   self-test: {name}: reported")
        else:
            failures.append(f"self-test: {name}: not reported")
    return failures


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    files = read_tree(argv[1])
    failures = []
    for name, check in CHECKS:
        errs = check(files)
        if errs:
            failures += errs
        else:
            print(f"ok   {name}: {default_image(files)}")
    if not failures:
        failures += self_test(files)
    for f in failures:
        print(f"FAIL: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
