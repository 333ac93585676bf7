#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the Dockerfile without a Docker engine.

Usage: python3 tests/deploy/check_dockerfile.py <repo-root> [--binary PATH]
                                                [--keep-build DIR]

Needs python3, cmake, a C compiler, readelf (binutils), ldd, dpkg-query and
pkg-config: the machine the project builds on (Debian 12, like the image).

What it checks:
  * the build stage: FROM debian:bookworm; its apt-get install list holds a
    compiler, make, cmake, pkg-config and the Debian package of every
    pkg-config module and library CMakeLists.txt finds (the package that
    owns the module's .pc file, or the library's .so, by dpkg -S), and no
    test-only package; its cmake command configures with
    CMAKE_BUILD_TYPE=Release and BUILD_TESTING=OFF and builds the target
    groved;
  * that build works from the context the image build sees: the repository
    filtered by .dockerignore (Docker's rules: patterns relative to the
    root, a matching folder excludes what is below it, `!` re-includes,
    the last match wins) is copied aside and groved is built there with the
    Dockerfile's own cmake flags (or --binary PATH is checked instead);
  * the runtime stage: FROM debian:bookworm-slim; its apt-get install list
    is exactly the Debian packages of the shared libraries groved needs
    (readelf -d NEEDED, resolved by ldd, mapped by dpkg -S), except that
    packages of the bookworm-slim base image (BASE_IMAGE below) may be
    left out; every library ldd loads (transitively) comes from those
    packages, their Depends, or the base image; mimalloc's runtime package
    is listed exactly when groved links mimalloc;
  * the runtime stage installs no build tool and no -dev package, uses
    --no-install-recommends and removes the apt lists, copies the binary to
    /usr/local/bin/groved, runs as a numeric non-root USER, EXPOSEs 9443
    9444 9445, has ENTRYPOINT ["groved"] and the OCI labels.

Exit status 0 when all hold, 1 with every failure listed.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

# Library packages of debian:bookworm-slim (its package manifest, Debian
# 12): a runtime dependency on one of them needs no apt-get install. Only
# libraries are listed; anything else the Dockerfile installs must be a
# package groved's libraries need.
BASE_IMAGE = {
    "libc6", "libgcc-s1", "libstdc++6", "gcc-12-base", "libcrypt1",
    "libgnutls30", "libnettle8", "libhogweed6", "libgmp10", "libidn2-0",
    "libunistring2", "libp11-kit0", "libtasn1-6", "libffi8", "zlib1g",
    "libzstd1", "liblzma5", "liblz4-1", "libbz2-1.0", "libselinux1",
    "libpcre2-8-0", "libsystemd0", "libgcrypt20", "libgpg-error0",
    "libcap2", "libcap-ng0", "libaudit1", "libaudit-common", "libudev1",
    "libseccomp2", "libacl1", "libattr1", "libblkid1", "libmount1",
    "libuuid1", "libsmartcols1", "libtinfo6", "libmd0", "libxxhash0",
    "libdb5.3", "libsemanage2", "libsepol2", "libsemanage-common",
    "libpam0g", "libpam-modules", "libpam-modules-bin", "libpam-runtime",
    "libapt-pkg6.0", "libdebconfclient0", "libext2fs2", "libcom-err2",
    "libss2", "libtirpc3", "libtirpc-common", "libnsl2",
}

# Never in the runtime stage.
BUILD_TOOLS = {"gcc", "g++", "cc", "clang", "make", "cmake", "ninja-build",
               "pkg-config", "pkgconf", "build-essential", "git", "binutils",
               "libc6-dev", "dpkg-dev", "python3", "curl", "wget"}

# Never needed by the image build (BUILD_TESTING=OFF, no fuzzing).
TEST_ONLY = {"libcmocka-dev", "clang", "libclang-rt-dev", "clang-format",
             "python3", "python3-yaml", "openssl", "curl", "git"}

OCI_LABELS = ("org.opencontainers.image.title",
              "org.opencontainers.image.source",
              "org.opencontainers.image.version")

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def ok(msg):
    print("ok   " + msg)


def run(cmd, **kw):
    return subprocess.run(cmd, check=False, capture_output=True, text=True,
                          **kw)


# ---------------------------------------------------------------------------
# Dockerfile parsing (enough of it: FROM, RUN, COPY, USER, EXPOSE, LABEL,
# ENTRYPOINT, ARG; line continuations; comments).

def parse_dockerfile(path):
    """Returns [stage], stage = {"from": str, "as": str, "instr": [(op, arg)]}."""
    lines = open(path, encoding="utf-8").read().splitlines()
    logical, cur = [], ""
    for line in lines:
        s = line.strip()
        if not cur and (not s or s.startswith("#")):
            continue
        if cur and s.startswith("#"):
            continue  # a comment inside a continued instruction
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        cur += s
        logical.append(cur)
        cur = ""
    if cur:
        logical.append(cur)
    stages = []
    for ins in logical:
        op, _, arg = ins.partition(" ")
        op = op.upper()
        arg = arg.strip()
        if op == "FROM":
            parts = arg.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" \
                else ""
            stages.append({"from": parts[0], "as": name, "instr": []})
        elif stages:
            stages[-1]["instr"].append((op, arg))
    return stages


def apt_installs(stage):
    """Packages of every `apt-get install` in the stage's RUNs, and the
    whole RUN texts."""
    pkgs, runs = [], []
    for op, arg in stage["instr"]:
        if op != "RUN":
            continue
        runs.append(arg)
        for cmd in re.split(r"&&|;|\|\|", arg):
            words = shlex.split(cmd)
            if len(words) >= 2 and words[0] in ("apt-get", "apt") and \
                    "install" in words:
                rest = words[words.index("install") + 1:]
                pkgs += [w for w in rest if not w.startswith("-")]
    return pkgs, runs


# ---------------------------------------------------------------------------
# .dockerignore: Docker's matching (moby/patternmatcher), the part we use.

def dockerignore_patterns(root):
    path = os.path.join(root, ".dockerignore")
    pats = []
    if not os.path.exists(path):
        return pats
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        neg = line.startswith("!")
        if neg:
            line = line[1:].strip()
        line = os.path.normpath(line).lstrip("/")
        pats.append((neg, line))
    return pats


def _pattern_regex(pat):
    rx, i = "", 0
    while i < len(pat):
        c = pat[i]
        if pat.startswith("**", i):
            rx += ".*"
            i += 2
            if i < len(pat) and pat[i] == "/":
                i += 1
            continue
        if c == "*":
            rx += "[^/]*"
        elif c == "?":
            rx += "[^/]"
        else:
            rx += re.escape(c)
        i += 1
    return re.compile("^" + rx + "$")


def ignored(rel, pats):
    """True when the path rel (relative, '/'-separated) is left out."""
    out = False
    parts = rel.split("/")
    for neg, pat in pats:
        rx = _pattern_regex(pat)
        # a pattern that matches a parent folder matches everything below
        hit = any(rx.match("/".join(parts[:n])) for n in
                  range(1, len(parts) + 1))
        if hit:
            out = not neg
    return out


def copy_context(root, dest, pats):
    n = 0
    for dirpath, dirnames, filenames in os.walk(root):
        reldir = os.path.relpath(dirpath, root)
        reldir = "" if reldir == "." else reldir.replace(os.sep, "/")
        # prune whole folders that are ignored and have no `!` exception
        keep = []
        for d in dirnames:
            rel = f"{reldir}/{d}" if reldir else d
            if ignored(rel, pats) and not any(
                    neg and p.startswith(rel + "/") for neg, p in pats):
                continue
            keep.append(d)
        dirnames[:] = keep
        for f in filenames:
            rel = f"{reldir}/{f}" if reldir else f
            if ignored(rel, pats):
                continue
            src = os.path.join(root, rel)
            dst = os.path.join(dest, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(src, dst, follow_symlinks=False)
            n += 1
    return n


# ---------------------------------------------------------------------------
# Debian packages of files and libraries.

def deb_of(path):
    """The package owning path, trying the merged-/usr spellings dpkg may
    have recorded."""
    cands = [path, os.path.realpath(path)]
    for p in list(cands):
        if p.startswith("/usr/"):
            cands.append(p[4:])
        else:
            cands.append("/usr" + p)
    for p in cands:
        r = run(["dpkg-query", "-S", p])
        if r.returncode == 0:
            line = r.stdout.splitlines()[0]
            pkgs = line.split(": ", 1)[0]
            return pkgs.split(",")[0].strip().split(":")[0]
    return None


def deb_depends(pkg, memo):
    """Installed packages pkg depends on (Depends and Pre-Depends; every
    alternative that is installed), recursively."""
    if pkg in memo:
        return memo[pkg]
    memo[pkg] = set()
    r = run(["dpkg-query", "-W", "-f=${Depends}, ${Pre-Depends}", pkg])
    out = set()
    if r.returncode == 0:
        for alt in r.stdout.split(","):
            for d in alt.split("|"):
                name = d.strip().split(" ")[0].split(":")[0]
                if not name:
                    continue
                if run(["dpkg-query", "-W", name]).returncode == 0:
                    out.add(name)
    closure = set(out)
    for d in out:
        closure |= deb_depends(d, memo)
    memo[pkg] = closure
    return closure


def needed_libs(binary):
    r = run(["readelf", "-d", binary])
    if r.returncode != 0:
        raise SystemExit(f"readelf -d {binary}: {r.stderr.strip()}")
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
                      r.stdout)


def ldd_map(binary):
    r = run(["ldd", binary])
    if r.returncode != 0:
        raise SystemExit(f"ldd {binary}: {r.stderr.strip()}")
    libs = {}
    for line in r.stdout.splitlines():
        m = re.match(r"\s*(\S+) => (/\S+)", line)
        if m:
            libs[m.group(1)] = m.group(2)
        elif "not found" in line:
            fail(f"ldd: {line.strip()}")
    return libs


# ---------------------------------------------------------------------------
# CMake: what the build finds.

def cmake_requirements(root):
    """pkg-config modules and find_library names of the CMakeLists.txt files
    a BUILD_TESTING=OFF build reads (all but tests/)."""
    mods, libs = [], []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel.split(os.sep)[0] in ("tests", ".git") or \
                rel.split(os.sep)[0].startswith("build"):
            dirnames[:] = []
            continue
        if "CMakeLists.txt" not in filenames:
            continue
        text = open(os.path.join(dirpath, "CMakeLists.txt"),
                    encoding="utf-8").read()
        text = re.sub(r"#[^\n]*", "", text)
        for m in re.finditer(r"pkg_check_modules\s*\(([^)]*)\)", text):
            words = m.group(1).split()[1:]
            mods += [w for w in words if w not in
                     ("REQUIRED", "QUIET", "IMPORTED_TARGET", "GLOBAL",
                      "NO_CMAKE_PATH", "NO_CMAKE_ENVIRONMENT_PATH")]
        for m in re.finditer(r"find_library\s*\(([^)]*)\)", text):
            words = m.group(1).split()
            if "NAMES" in words:
                names = words[words.index("NAMES") + 1:]
                libs.append(names[0])
            elif len(words) >= 2:
                libs.append(words[1])
    return mods, libs


def dev_package_of_module(mod):
    r = run(["pkg-config", "--path", mod])
    if r.returncode != 0 or not r.stdout.strip():
        return None
    return deb_of(r.stdout.strip())


def dev_package_of_library(name):
    for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
              "/usr/lib", "/lib/x86_64-linux-gnu"):
        p = os.path.join(d, f"lib{name}.so")
        if os.path.exists(p):
            return deb_of(p)
    return None


# ---------------------------------------------------------------------------

def main(argv):
    args = argv[1:]
    binary = keep = None
    if "--binary" in args:
        i = args.index("--binary")
        binary = os.path.abspath(args[i + 1])
        del args[i:i + 2]
    if "--keep-build" in args:
        i = args.index("--keep-build")
        keep = os.path.abspath(args[i + 1])
        del args[i:i + 2]
    if len(args) != 1:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    root = os.path.abspath(args[0])
    for tool in ("cmake", "readelf", "ldd", "dpkg-query", "pkg-config"):
        if not shutil.which(tool):
            print(f"SKIP: {tool} is not installed (Debian 12 tools needed)")
            return 77

    stages = parse_dockerfile(os.path.join(root, "Dockerfile"))
    if len(stages) < 2:
        fail(f"Dockerfile: {len(stages)} stage(s), want a build and a "
             "runtime stage")
        return 1
    builder, runtime = stages[0], stages[-1]

    # ---- build stage
    if builder["from"] == "debian:bookworm":
        ok("build stage FROM debian:bookworm")
    else:
        fail(f"build stage FROM {builder['from']}, want debian:bookworm")
    bpkgs, bruns = apt_installs(builder)
    bset = set(bpkgs)
    for need in (("gcc", "clang", "build-essential"), ("make", "ninja-build",
                 "build-essential"), ("cmake",), ("pkg-config", "pkgconf")):
        if not bset & set(need):
            fail(f"build stage installs none of {', '.join(need)}")
    mods, libs = cmake_requirements(root)
    if not mods:
        fail("no pkg_check_modules found in CMakeLists.txt")
    for mod in mods:
        pkg = dev_package_of_module(mod)
        if not pkg:
            fail(f"pkg-config module {mod}: not installed here, cannot map "
                 "it to a Debian package")
        elif pkg not in bset:
            fail(f"pkg-config module {mod} comes from {pkg}, which the build "
                 "stage does not install")
        else:
            ok(f"pkg-config module {mod}: {pkg} installed by the build stage")
    for lib in libs:
        pkg = dev_package_of_library(lib)
        if pkg and pkg not in bset:
            fail(f"find_library({lib}) comes from {pkg}, which the build "
                 "stage does not install")
        elif pkg:
            ok(f"find_library {lib}: {pkg} installed by the build stage")
    extra = bset & TEST_ONLY
    if extra:
        fail(f"build stage installs test-only packages: {sorted(extra)}")
    cmake_cfg = [r for r in bruns if re.search(r"\bcmake\s+(-S|\.)", r)]
    if not cmake_cfg:
        fail("build stage has no `cmake -S` configure step")
        return 1
    cfg = cmake_cfg[0]
    flags = re.findall(r"(-D[A-Za-z_0-9]+=[^\s&;]+)", cfg)
    for want in ("-DCMAKE_BUILD_TYPE=Release", "-DBUILD_TESTING=OFF"):
        if want not in flags:
            fail(f"build stage cmake lacks {want}")
    if not re.search(r"cmake\s+--build\s+\S+.*--target\s+groved", cfg):
        fail("build stage does not `cmake --build ... --target groved`")
    copies = [a for op, a in builder["instr"] if op == "COPY"]
    if not any(shlex.split(a)[0] == "." for a in copies):
        fail("build stage does not COPY the context (`COPY . .`)")

    # ---- build groved from the filtered context, with those flags
    tmp = None
    try:
        if not binary:
            tmp = keep or tempfile.mkdtemp(prefix="groved-image-")
            src = os.path.join(tmp, "src")
            bld = os.path.join(tmp, "build")
            if os.path.exists(src):
                shutil.rmtree(src)
            n = copy_context(root, src, dockerignore_patterns(root))
            ok(f"build context after .dockerignore: {n} files")
            jobs = str(os.cpu_count() or 2)
            # niced: ctest runs this beside timing-sensitive tests
            nice = ["nice", "-n", "10"] if shutil.which("nice") else []
            r = run(nice + ["cmake", "-S", src, "-B", bld] + flags)
            if r.returncode == 0:
                r = run(nice + ["cmake", "--build", bld, "-j", jobs,
                                "--target", "groved"])
            if r.returncode != 0:
                fail("building groved from the Docker build context failed "
                     "(is a needed file in .dockerignore?):\n" +
                     (r.stdout + r.stderr)[-3000:])
                return 1
            binary = os.path.join(bld, "groved")
            ok("groved builds from the Docker build context with "
               + " ".join(flags))
        r = run([binary, "--version"])
        if r.returncode != 0:
            fail(f"{binary} --version exited {r.returncode}")

        # ---- runtime stage
        if runtime["from"] == "debian:bookworm-slim":
            ok("runtime stage FROM debian:bookworm-slim")
        else:
            fail(f"runtime stage FROM {runtime['from']}, want "
                 "debian:bookworm-slim")
        rpkgs, rruns = apt_installs(runtime)
        rset = set(rpkgs)
        paths = ldd_map(binary)
        needed = needed_libs(binary)
        need_pkgs = {}
        for lib in needed:
            if lib not in paths:
                fail(f"NEEDED {lib} not resolved by ldd")
                continue
            pkg = deb_of(paths[lib])
            if not pkg:
                fail(f"{lib} ({paths[lib]}): no Debian package owns it")
                continue
            need_pkgs[lib] = pkg
        want = set(need_pkgs.values())
        for lib, pkg in sorted(need_pkgs.items()):
            if pkg in rset:
                ok(f"{lib}: {pkg} installed by the runtime stage")
            elif pkg in BASE_IMAGE:
                ok(f"{lib}: {pkg} is in the base image")
            else:
                fail(f"{lib} needs {pkg}, which the runtime stage does not "
                     "install")
        extra = rset - want
        if extra:
            fail("runtime stage installs packages groved does not link: "
                 f"{sorted(extra)}")
        mim = any(lib.startswith("libmimalloc") for lib in needed)
        mim_pkgs = {p for p in rset if p.startswith("libmimalloc")}
        if mim and not mim_pkgs:
            fail("groved links mimalloc, the runtime stage lacks its package")
        elif not mim and mim_pkgs:
            fail("groved does not link mimalloc, yet the runtime stage "
                 "installs it")
        else:
            ok(f"mimalloc linked: {mim}; runtime package listed: "
               f"{sorted(mim_pkgs) or 'none'}")
        memo = {}
        have = set(rset) | BASE_IMAGE
        for p in list(have):
            have |= deb_depends(p, memo)
        missing = []
        for soname, path in sorted(paths.items()):
            pkg = deb_of(path)
            if pkg and pkg not in have:
                missing.append(f"{soname} ({pkg})")
        if missing:
            fail("libraries ldd loads that neither the listed packages nor "
                 "the base image bring: " + ", ".join(missing))
        else:
            ok(f"all {len(paths)} libraries ldd loads come with the listed "
               "packages or the base image")

        bad = {p for p in rset if p in BUILD_TOOLS or p.endswith("-dev")}
        if bad:
            fail(f"runtime stage installs build tools: {sorted(bad)}")
        for r in rruns:
            if "apt-get install" in r:
                if "--no-install-recommends" not in r:
                    fail("runtime apt-get install without "
                         "--no-install-recommends")
                if "rm -rf /var/lib/apt/lists" not in r:
                    fail("runtime stage keeps the apt lists")
        rcopies = [shlex.split(a) for op, a in runtime["instr"]
                   if op == "COPY"]
        if not any(c[-1] == "/usr/local/bin/groved" and
                   any(x.startswith("--from=") for x in c) for c in rcopies):
            fail("runtime stage does not COPY --from the build stage to "
                 "/usr/local/bin/groved")
        users = [a for op, a in runtime["instr"] if op == "USER"]
        if not users:
            fail("runtime stage has no USER (it would run as root)")
        else:
            uid = users[-1].split(":")[0]
            if not uid.isdigit() or int(uid) == 0:
                fail(f"runtime USER {users[-1]}: want a numeric non-root uid "
                     "(Kubernetes checks runAsNonRoot on numbers)")
            else:
                ok(f"runtime USER {users[-1]}")
        exposed = set()
        for op, a in runtime["instr"]:
            if op == "EXPOSE":
                exposed |= {p.split("/")[0] for p in a.split()}
        if exposed != {"9443", "9444", "9445"}:
            fail(f"EXPOSE {sorted(exposed)}, want 9443 9444 9445")
        ents = [a for op, a in runtime["instr"] if op == "ENTRYPOINT"]
        if not ents or ents[-1].replace(" ", "") != '["groved"]':
            fail(f"ENTRYPOINT {ents[-1] if ents else None}, want [\"groved\"]")
        labels = " ".join(a for op, a in runtime["instr"] if op == "LABEL")
        for lab in OCI_LABELS:
            if lab + "=" not in labels:
                fail(f"runtime stage lacks the label {lab}")
    finally:
        if tmp and not keep:
            shutil.rmtree(tmp, ignore_errors=True)

    if failures:
        print(f"\n{len(failures)} check(s) failed")
        return 1
    print("\nDockerfile: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
