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
  * it has a "What does not work yet" section, and what it says of the
    program is true of the program built: each `groved CMD` it says does
    not exist is refused by build/release/groved as an unknown command,
    and each message it quotes from groved, anywhere in the README, written
    as `groved CMD` says/logs/prints/warns ... ("message"), is in the
    program (a message quoted but no longer printed is caught; none need
    be quoted).

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
  * with kubectl (scenario 1 of the worker, then one scaling step):
    `--validate=false` is explained before its first use; the cycle is
    denied by groved's webhook and the reference workload created; its
    pods' steps printed as they happen, and the startup order kept (router,
    prefill, decode: each all Ready before the next started); the final
    `kubectl get pcs,pclq,pcsg,pg,pods` lists the set at READY 4/4 Running,
    its three PodCliques, its scaling group, its one PodGang and its four
    pods; `kubectl describe pcs` shows status.phase Running and the Events
    PodGangCreated, PodCliqueReady, PodGangScheduled and Ready; every
    resource claim allocated a device and reserved for its pod;
    deleting a PodClique by hand refused by groved's authorizer; /scale to
    5 denied, to 2 allowed, the new unit's pods started in order, the set
    at 7/7 Running with a second (scaled) PodGang; groved stopped cleanly;
    every log line printed is whole JSON (none cut off).
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
# a message of groved quoted: `groved serve` logs it ("the message")
QUOTED_RX = re.compile(r'`groved [a-z]+`[^`()]{0,80}?\b(?:says|logs|prints|'
                       r'warns|answers)\b[^`()]{0,80}?\("([^"]+)"\)')


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
    if not section.strip():
        fails.append("README.md: no \"What does not work yet\" section")
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
    with open(groved, "rb") as f:
        binary = f.read()
    for q in QUOTED_RX.findall(" ".join(readme.split())):
        if q.encode() not in binary:
            fails.append(f"README.md quotes groved saying \"{q}\", which "
                         "groved does not say (not in build/release/groved)")
    return fails


STEP_RX = re.compile(r"^\s*\+(\d+\.\d+)s\s+(\S+)\s+(.+)$")


def block(lines, command, prefix=False):
    """The output lines of command (a "$ ..." line of the demo), up to the
    next command or comment."""
    at = next((i for i, ln in enumerate(lines)
               if ln == command or (prefix and ln.startswith(command))), None)
    if at is None:
        return []
    out = []
    for ln in lines[at + 1:]:
        if ln.startswith(("$ ", "(", "== ")):
            break
        out.append(ln)
    return out


def check_startup(lines, command, pods, order):
    """The pod steps demo-watch.py printed after command: pods new pods,
    each created gated, its gate lifted, bound, started and Ready; and,
    from the printed times themselves, every pod of each clique of order
    Ready before any pod of the next one started."""
    fails = []
    at = next((i for i, ln in enumerate(lines) if ln == command), None)
    if at is None:
        return [f"no {command!r} in the output"]
    # pod -> {step: (time, line)}: the times are printed to the hundredth,
    # the lines in the watch's order (the API server's, exact)
    steps = {}
    for n, ln in enumerate(lines[at + 1:]):
        if "pods Ready" in ln:
            break
        m = STEP_RX.match(ln)
        if m:
            t, pod, what = float(m.group(1)), m.group(2), m.group(3)
            key = what.split(",")[0].split(" ")[0]   # created, gate, bound
            steps.setdefault(pod, {})[key] = (t, n)
    if len(steps) != pods:
        fails.append(f"after {command!r}: the steps of {len(steps)} new pods "
                     f"printed, expected {pods}")
    for pod, got in sorted(steps.items()):
        miss = [k for k in ("created", "gate", "bound", "started", "Ready")
                if k not in got]
        if miss:
            fails.append(f"after {command!r}: pod {pod}: no step {miss}")
    for before, after in zip(order, order[1:]):
        ready = [s["Ready"] for p, s in steps.items()
                 if f"-{before}-" in p and "Ready" in s]
        started = [s["started"] for p, s in steps.items()
                   if f"-{after}-" in p and "started" in s]
        if not ready or not started or not max(ready) < min(started):
            fails.append(f"after {command!r}: {after} started (+"
                         f"{min(started, default=(0, 0))[0]:.2f}s) before "
                         f"every {before} pod was Ready (+"
                         f"{max(ready, default=(0, 0))[0]:.2f}s), or never")
    kept = "startup order kept: " + " -> ".join(order)
    if not any(ln.startswith(kept) for ln in lines[at + 1:]):
        fails.append(f"after {command!r}: no {kept!r}")
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
    need('admission webhook "authorizer.grove.webhooks.grove.io" denied the '
         'request: podcliques "inference/vllm-disaggregated-0-router-clique" '
         'is managed by groved', "deleting a PodClique by hand is refused")
    if "FAILED:" in out:
        fails.append("the demo says FAILED")
    fails += check_startup(lines, "$ kubectl apply --validate=false -f "
                           "examples/vllm-disaggregated.yaml", 4,
                           ["router-clique", "prefill-clique",
                            "decode-clique"])
    fails += check_startup(lines, "$ kubectl scale pcs -n inference "
                           "vllm-disaggregated --replicas=2", 3,
                           ["prefill-clique", "decode-clique"])
    final = block(lines, "$ kubectl get pcs,pclq,pcsg,pg,pods -n inference")
    pcs = "podcliqueset.grove.io/vllm-disaggregated"
    clq = "podclique.grove.io/vllm-disaggregated-0-"
    grp = "podcliquescalinggroup.grove.io/vllm-disaggregated-0-"
    want = [(rf"{pcs}\s+1\s+4/4\s+Running\b", 1, "the set at READY 4/4, "
             "STATUS Running"),
            (rf"{clq}(router-clique|prefill-decode-ratio-0-(prefill|decode)"
             r"-clique)\s", 3, "its three PodCliques"),
            (rf"{grp}prefill-decode-ratio\s", 1, "its scaling group"),
            (r"podgang\.scheduler\.grove\.io/", 1, "one PodGang"),
            (r"pod/vllm-disaggregated-0-", 4, "four pods")]
    for rx, n, what in want:
        got = sum(1 for ln in final if re.match(rx, ln))
        if got != n:
            fails.append(f"the final kubectl get pcs,pclq,pcsg,pg,pods: "
                         f"{got} lines of {what}, expected {n}")
    described = block(lines, "$ kubectl describe pcs -n inference "
                      "vllm-disaggregated | sed -n '/^Status:/,$p'")
    reasons = {ln.split()[1] for ln in described
               if ln.startswith("  Normal ") or ln.startswith("  Warning ")}
    for r in ("PodGangCreated", "PodCliqueReady", "PodGangScheduled",
              "Ready"):
        if r not in reasons:
            fails.append(f"kubectl describe pcs: no {r} Event (Events: "
                         f"{sorted(reasons)})")
    if not any(re.match(r"\s+Phase:\s+Running$", ln) for ln in described):
        fails.append("kubectl describe pcs: no status.phase Running")
    claims = [ln.split() for ln in block(
        lines, "$ kubectl get resourceclaims -n inference -o custom-columns=",
        prefix=True)[1:] if ln.strip()]
    if len(claims) != 3 or any(len(c) != 3 or "<none>" in c for c in claims):
        fails.append(f"kubectl get resourceclaims: {len(claims)} claims, "
                     "expected 3, each allocated a device and reserved for "
                     f"its pod: {claims}")
    scaled = block(lines, "$ kubectl get pcs,pcsg,pg -n inference")
    if not any(re.match(rf"{pcs}\s+2\s+7/7\s+Running\b", ln)
               for ln in scaled):
        fails.append("after kubectl scale --replicas=2: the set not at "
                     "REPLICAS 2, READY 7/7, STATUS Running")
    gangs = sorted(ln.split()[0] for ln in scaled
                   if ln.startswith("podgang."))
    if gangs != ["podgang.scheduler.grove.io/vllm-disaggregated-0",
                 "podgang.scheduler.grove.io/vllm-disaggregated-0-"
                 "prefill-decode-ratio-0"]:
        fails.append(f"after kubectl scale --replicas=2: PodGangs {gangs}, "
                     "expected the base gang and one scaled gang")
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
    """Faults put into a good output and README must be reported, and a
    true quote of groved must not be."""
    fails = []
    not_yet_head = "## What does not work yet\n"

    def add_not_yet(text):
        return readme.replace(not_yet_head, not_yet_head + "\n" + text)

    faults = [
        ("README names an issue", check_readme, readme.replace(
            "## What works today\n", "## What works today (issues 2 to 5)\n"),
         groved),
        ("README loses its commands", check_readme, readme.replace(
            "./scripts/demo.sh ", "./demo "), groved),
        ("README loses \"What does not work yet\"", check_readme,
         readme.replace(not_yet_head, "## Later\n"), groved),
        ("README says an existing command is missing", check_readme,
         add_not_yet("- **`groved validate` does not exist.**\n"), groved),
        ("README quotes a message groved does not print", check_readme,
         add_not_yet("- `groved serve` logs it when it starts (\"the "
                     "worker is coming soon\").\n"), groved),
    ]
    if check_readme(add_not_yet(
            "- `groved serve` logs it when it starts (\"reconciling "
            "PodCliqueSets\").\n"), groved):
        fails.append("self-test: a true quote of groved serve is reported")
    else:
        print("ok   self-test: a true quote of groved serve: accepted")
    if with_kubectl:
        cut = [ln[:120] if ln.startswith('{"time":') else ln
               for ln in out.splitlines()]
        unexplained = [ln for ln in out.splitlines()
                       if not ("--validate=false" in ln and "OpenAPI" in ln)]

        def sub(rx, to):
            return re.sub(rx, to, out, count=1, flags=re.M)
        faults += [
            ("a log line cut off", check_output, "\n".join(cut), True),
            ("--validate=false unexplained", check_output,
             "\n".join(unexplained), True),
            ("the router Ready after prefill started", check_output,
             sub(r"^(\s*)\+[\d.]+s(\s+vllm-disaggregated-0-router-clique-0"
                 r"\s+Ready)$", r"\1+9.99s\2"), True),
            ("a decode pod never Ready", check_output,
             sub(r"^\s*\+[\d.]+s\s+\S+-decode-clique-1\s+Ready\n", ""),
             True),
            ("the set not Running", check_output,
             sub(r"4/4(\s+)Running", r"3/4\1Starting"), True),
            ("no PodGang", check_output,
             sub(r"^podgang\.scheduler\.grove\.io/.*\n", ""), True),
            ("no PodGangScheduled Event", check_output,
             sub(r"^  Normal\s+PodGangScheduled\s.*\n", ""), True),
            ("a claim not allocated", check_output,
             sub(r"^(vllm-disaggregated-\S+\s+)gpu-\d+", r"\1<none>"), True),
            ("no scaled gang", check_output, sub(
                r"^podgang\.scheduler\.grove\.io/vllm-disaggregated-0-"
                r"prefill-decode-ratio-0\s.*\n", ""), True),
            ("the demo failed a wait", check_output,
             out + "\nFAILED: kubectl get pcs did not show READY 7/7\n", True),
        ]
    for name, check, bad, arg in faults:
        if bad == (out if check is check_output else readme):
            fails.append(f"self-test: {name}: the fault changed nothing")
        elif check(bad, arg):
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
