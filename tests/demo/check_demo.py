#!/usr/bin/env python3
"""Runs the README's first command, scripts/demo.sh, and checks its output.

Usage: python3 tests/demo/check_demo.py <repo-root>

scripts/test.sh runs it right after its gcc build, so build/release/groved
is up to date. Checks:
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


def self_test(out):
    """Faults in a good output must be reported."""
    fails = []
    cut = [ln[:120] if ln.startswith('{"time":') else ln
           for ln in out.splitlines()]
    unexplained = [ln for ln in out.splitlines()
                   if not ("--validate=false" in ln and "OpenAPI" in ln)]
    faults = [
        ("a log line cut off", "\n".join(cut)),
        ("--validate=false unexplained", "\n".join(unexplained)),
        ("a PodClique appears", out.replace(
            "No resources found in inference namespace.",
            "NAME AGE\npodclique.grove.io/x 1s")),
    ]
    for name, bad in faults:
        if check_output(bad, True):
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
    before = stat_of(groved)
    dirs = sorted(os.listdir(os.path.join(root, "build")))
    with_kubectl = bool(shutil.which("kubectl"))
    r = subprocess.run([os.path.join(root, "scripts", "demo.sh")], cwd=root,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=300)
    fails = check_scripts(root)
    if r.returncode != 0:
        fails.append(f"scripts/demo.sh exited {r.returncode}")
    if stat_of(groved) != before:
        fails.append("the demo rebuilt build/release/groved: its build "
                     "options differ from scripts/test.sh's")
    new = sorted(set(os.listdir(os.path.join(root, "build"))) - set(dirs))
    if new:
        fails.append(f"the demo made build folders of its own: {new}")
    fails += check_output(r.stdout, with_kubectl)
    if not fails and with_kubectl:
        fails += self_test(r.stdout)
    if fails:
        print(r.stdout)
        for f in fails:
            print(f"FAIL: {f}")
        return 1
    print("ok   scripts/demo.sh: shared build, expected outcomes, whole log "
          "lines")
    if not with_kubectl:
        print("SKIP: kubectl is not installed: the install part of the demo "
              "did not run")
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
