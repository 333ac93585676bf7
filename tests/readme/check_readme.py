#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks what README.md promises: its two commands, and what it says
works and does not work yet.

Usage: python3 tests/readme/check_readme.py <repo-root>

scripts/test.sh runs it right after its gcc build, so build/release/groved
is up to date.

The README itself:
  * it starts with the two commands, ./scripts/demo.sh and
    ./scripts/test.sh;
  * it speaks to users, not to the tracker: no "issue 3", "issues 2 to 5";
  * its "What does not work yet" section is true of the program built: each
    `groved CMD` it says does not exist is refused by build/release/groved
    as an unknown command, and the message it quotes from `groved serve`
    ("the reconcile worker is not in this build") is in the program.

The first command, scripts/demo.sh, run and its output checked:
  * the demo exits 0;
  * it shares the test script's build: both scripts build through
    scripts/build-release.sh (the one place of the options, so the demo
    run first on a fresh clone configures build/release as the tests will)
    and neither runs cmake on build/release itself; build/release/groved
    is the same file after the demo (not rebuilt), and no other folder
    appeared under build/;
  * `groved validate`: the reference workload valid (exit 0), the startup
    cycle invalid (exit 1);
  * with kubectl: `--validate=false` is explained before its first use;
    the cycle is denied by groved's webhook and the reference workload
    created; /scale to 5 denied, to 2 allowed; the hand-made pod shaped
    (kai-scheduler, its gate); no PodCliques or PodGangs (no worker yet);
    lifting the gate by hand refused by groved's authorizer;
    groved stopped cleanly; every log line printed is whole JSON (none cut
    off).
Without kubectl the demo stops after `groved validate`: the rest is
reported as skipped.
"""

import json
import os
import re
import shutil
import subprocess
import sys

COMMANDS = "```sh\n./scripts/demo.sh "
TEST_COMMAND = "\n./scripts/test.sh "
ISSUE_RX = re.compile(r"\bissues?\s+#?\d", re.I)
MISSING_RX = re.compile(r"`groved ([a-z]+)` does not exist|"
                        r"`groved ([a-z]+)`\*\*, which [^.]*, does not exist")
QUOTED_RX = re.compile(r'`groved serve` says so when it\s+starts \("([^"]+)"\)')


def stat_of(path):
    st = os.stat(path)
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def check_scripts(root):
    """The demo and the test script share scripts/build-release.sh."""
    fails = []
    for name in ("demo.sh", "test.sh"):
        with open(os.path.join(root, "scripts", name)) as f:
            text = f.read()
        if "scripts/build-release.sh" not in text:
            fails.append(f"scripts/{name} does not build with "
                         "scripts/build-release.sh")
        if re.search(r"cmake\b[^\n]*build/release", text):
            fails.append(f"scripts/{name} runs cmake on build/release "
                         "itself, with options of its own")
    return fails


def not_yet(readme):
    """The README's "What does not work yet" section, or ""."""
    m = re.search(r"^## What does not work yet\n(.*?)(?=^## )", readme,
                  re.S | re.M)
    return m.group(1) if m else ""


def check_readme(readme, groved):
    """Failures of README.md's text against the program groved."""
    fails = []
    if not readme.startswith("# groved\n\n" + COMMANDS) or \
            TEST_COMMAND not in readme.split("```", 2)[1]:
        fails.append("README.md does not start with its two commands, "
                     "./scripts/demo.sh and ./scripts/test.sh")
    for n, line in enumerate(readme.splitlines(), 1):
        if ISSUE_RX.search(line):
            fails.append(f"README.md:{n}: names an issue number: "
                         f"{line.strip()}")
    section = not_yet(readme)
    if "reconcile worker" not in section:
        fails.append("README.md: no \"What does not work yet\" section "
                     "naming the reconcile worker")
        return fails
    flat = " ".join(section.split())
    missing = {a or b for a, b in MISSING_RX.findall(flat)}
    for cmd in sorted(missing):
        r = subprocess.run([groved, cmd, "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=30)
        if f"'{cmd}' is not a groved command" not in r.stdout:
            fails.append(f"README.md says `groved {cmd}` does not exist, but "
                         f"groved has it (exit {r.returncode}): update "
                         "\"What does not work yet\"")
    quoted = QUOTED_RX.findall(flat)
    with open(groved, "rb") as f:
        binary = f.read()
    for q in quoted:
        if q.encode() not in binary:
            fails.append(f"README.md quotes groved serve saying \"{q}\", "
                         "which groved no longer says")
    if not quoted:
        fails.append("README.md's \"What does not work yet\" quotes no "
                     "message of groved serve")
    return fails


def check_output(out, with_kubectl):
    """Failures in the demo's output (a list of strings)."""
    fails = []
    lines = out.splitlines()

    def need(text, why):
        if text not in out:
            fails.append(f"{why}: no {text!r} in the output")

    need("(exit 0)", "the reference workload is valid")
    need("(exit 1)", "the startup cycle is invalid")
    if not with_kubectl:
        return fails
    first_use = next((i for i, ln in enumerate(lines)
                      if "--validate=false" in ln and ln.startswith("$ ")),
                     None)
    explained = next((i for i, ln in enumerate(lines)
                      if "--validate=false" in ln and "OpenAPI" in ln), None)
    if first_use is None:
        fails.append("no kubectl command with --validate=false")
    elif explained is None or explained > first_use:
        fails.append("--validate=false is used before it is explained")
    need('admission webhook "pcs.validating.webhooks.grove.io" denied the '
         'request: spec.podCliques[2].startsAfter',
         "the startup cycle is denied by groved")
    need("podcliqueset.grove.io/vllm-disaggregated created",
         "the reference workload is created")
    need('admission webhook "scale.validating.webhooks.grove.io" denied',
         "/scale beyond maxReplicas is denied")
    need("podcliqueset.grove.io/vllm-disaggregated scaled",
         "/scale within the bounds is allowed")
    need("kai-scheduler  gates=grove.io/podgang-pending-creation",
         "the pod is shaped")
    need("$ kubectl get pclq,pg -n inference\n"
         "No resources found in inference namespace.",
         "no PodCliques or PodGangs without the worker")
    need('admission webhook "authorizer.core.webhooks.grove.io" denied the '
         'request: pods "inference/router-demo" is managed by groved',
         "lifting the gate by hand is refused")
    need("(groved serve stopped cleanly on SIGTERM", "groved stops cleanly")
    logs = [ln for ln in lines if ln.startswith('{"time":')]
    if len(logs) < 4:
        fails.append(f"{len(logs)} log lines of groved printed, expected "
                     "leading, certificate, CA bundle, loaded, stopped")
    for ln in logs:
        try:
            json.loads(ln)
        except ValueError:
            fails.append(f"a log line is not whole JSON (cut off?): {ln}")
    return fails


def self_test(out, readme, groved, with_kubectl):
    """Faults put into a good output and README must be reported."""
    fails = []
    faults = [
        ("README names an issue", check_readme, readme.replace(
            "## What works today\n", "## What works today (issues 2 to 5)\n"),
         groved),
        ("README loses its commands", check_readme, readme.replace(
            "./scripts/demo.sh ", "./demo "), groved),
        ("README says an existing command is missing", check_readme,
         readme.replace("## What does not work yet\n",
                        "## What does not work yet\n\n"
                        "- **`groved validate` does not exist.**\n"), groved),
        ("README quotes a message groved does not print", check_readme,
         readme.replace("the reconcile worker is not in this build",
                        "the worker is coming soon"), groved),
    ]
    if with_kubectl:
        cut = [ln[:120] if ln.startswith('{"time":') else ln
               for ln in out.splitlines()]
        unexplained = [ln for ln in out.splitlines()
                       if not ("--validate=false" in ln and "OpenAPI" in ln)]
        faults += [
            ("a log line cut off", check_output, "\n".join(cut), True),
            ("--validate=false unexplained", check_output,
             "\n".join(unexplained), True),
            ("a PodClique appears", check_output, out.replace(
                "No resources found in inference namespace.",
                "NAME AGE\npodclique.grove.io/x 1s"), True),
        ]
    for name, check, bad, arg in faults:
        if check(bad, arg):
            print(f"ok   self-test: {name}: reported")
        else:
            fails.append(f"self-test: {name}: not reported")
    return fails


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    root = os.path.abspath(argv[1])
    groved = os.path.join(root, "build", "release", "groved")
    if not os.path.exists(groved):
        print(f"FAIL: {groved} is missing: run scripts/build-release.sh "
              "first")
        return 1
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    fails = check_readme(readme, groved)
    if not fails:
        print("ok   README.md: its two commands, no issue numbers, what does "
              "not work yet is true of groved")

    before = stat_of(groved)
    dirs = sorted(os.listdir(os.path.join(root, "build")))
    with_kubectl = bool(shutil.which("kubectl"))
    r = subprocess.run([os.path.join(root, "scripts", "demo.sh")], cwd=root,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=300)
    demo_fails = check_scripts(root)
    if r.returncode != 0:
        demo_fails.append(f"scripts/demo.sh exited {r.returncode}")
    if stat_of(groved) != before:
        demo_fails.append("the demo rebuilt build/release/groved: its build "
                          "options differ from scripts/test.sh's")
    new = sorted(set(os.listdir(os.path.join(root, "build"))) - set(dirs))
    if new:
        demo_fails.append(f"the demo made build folders of its own: {new}")
    demo_fails += check_output(r.stdout, with_kubectl)
    if demo_fails:
        print(r.stdout)
    else:
        print("ok   scripts/demo.sh: shared build, expected outcomes, whole "
              "log lines")
    fails += demo_fails
    if not fails:
        fails += self_test(r.stdout, readme, groved, with_kubectl)
    for f in fails:
        print(f"FAIL: {f}")
    if fails:
        return 1
    if not with_kubectl:
        print("SKIP: kubectl is not installed: the install part of the demo "
              "did not run")
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
