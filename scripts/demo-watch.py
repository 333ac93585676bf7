#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The demo's view of pods starting (scripts/demo.sh).

Usage: scripts/demo-watch.py [--kubeconfig FILE] -n NAMESPACE -l SELECTOR
           --ready N [--order CLIQUE,CLIQUE,...] [--timeout SECONDS]
           -- COMMAND...

Lists the pods of SELECTOR in NAMESPACE, watches them from there (the API
server's watch, with the kubeconfig's server, CA and token; default
$KUBECONFIG, which COMMAND gets too), runs COMMAND
(a `kubectl apply` or `kubectl scale`), and prints each step of every pod
created after the list as the watch reports it, in seconds since COMMAND
started:

    +0.85s  vllm-disaggregated-0-router-clique-0   created, gated (grove.io/podgang-pending-creation)
    +1.12s  vllm-disaggregated-0-router-clique-0   gate lifted
    +1.29s  vllm-disaggregated-0-router-clique-0   bound to b200-0
    ...

It stops once N pods of SELECTOR are Ready (none terminating), prints when
each clique of the new pods was first started and all Ready, and with
--order checks that each clique was all Ready before any pod of the next
one started its main container (exit 1 if not). After --timeout seconds
(default 60) without N Ready pods it says so, lists each pod that is not
Ready and why, and exits 1.

Standard library and PyYAML only.
"""
import argparse
import base64
import json
import os
import queue
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

GATE = "grove.io/podgang-pending-creation"
CLIQUE = "grove.io/podcliquesets-clique"


class Api:
    """The kubeconfig's current cluster and user (token only)."""

    def __init__(self, path):
        with open(path) as f:
            kc = yaml.safe_load(f)
        ctx = next(c["context"] for c in kc["contexts"]
                   if c["name"] == kc["current-context"])
        cluster = next(c["cluster"] for c in kc["clusters"]
                       if c["name"] == ctx["cluster"])
        user = next(u["user"] for u in kc["users"] if u["name"] == ctx["user"])
        self.server = cluster["server"].rstrip("/")
        self.token = user.get("token")
        self.tls = None
        if self.server.startswith("https:"):
            self.tls = ssl.create_default_context()
            ca = cluster.get("certificate-authority-data")
            if ca:
                with tempfile.NamedTemporaryFile("wb", delete=False) as f:
                    f.write(base64.b64decode(ca))
                self.tls.load_verify_locations(f.name)
                os.unlink(f.name)
            elif cluster.get("certificate-authority"):
                self.tls.load_verify_locations(cluster["certificate-authority"])

    def open(self, path, timeout):
        req = urllib.request.Request(self.server + path)
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        return urllib.request.urlopen(req, timeout=timeout, context=self.tls)


def steps(pod):
    """The steps a pod has reached, as (key, text), in their order."""
    spec, st = pod.get("spec", {}), pod.get("status", {})
    out = []
    gates = [g.get("name") for g in spec.get("schedulingGates") or []]
    out.append(("created", "created, gated (%s)" % GATE if GATE in gates
                else "created"))
    if GATE not in gates:
        out.append(("ungated", "gate lifted"))
    if spec.get("nodeName"):
        out.append(("bound", "bound to %s" % spec["nodeName"]))
    for c in st.get("initContainerStatuses") or []:
        if c.get("name") == "grove-initc" and (c.get("state") or {}).get("running"):
            out.append(("initc", "grove-initc waiting for its parent cliques"))
    mains = st.get("containerStatuses") or []
    if mains and all((c.get("state") or {}).get("running") for c in mains):
        out.append(("started", "started"))
    if ready(pod):
        out.append(("ready", "Ready"))
    return out


def ready(pod):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in pod.get("status", {}).get("conditions") or [])


def why_not(pod):
    """One line on a pod that is not Ready."""
    spec, st = pod.get("spec", {}), pod.get("status", {})
    conds = ["%s=%s%s" % (c.get("type"), c.get("status"),
                          "(%s)" % c["reason"] if c.get("reason") else "")
             for c in st.get("conditions") or []]
    return "phase %s, node %s, gates %s, conditions %s%s" % (
        st.get("phase"), spec.get("nodeName") or "none",
        [g.get("name") for g in spec.get("schedulingGates") or []] or "none",
        " ".join(conds) or "none",
        ", terminating" if pod["metadata"].get("deletionTimestamp") else "")


def watcher(api, path, rv, events, stop):
    """Puts (monotonic time, type, pod) for each watch event on events
    until stop is set; resumes from the last resourceVersion when the
    stream ends. An error goes on events as ("ERROR", text)."""
    while not stop.is_set():
        try:
            with api.open("%s&watch=1&resourceVersion=%s&timeoutSeconds=30"
                          % (path, rv), 40) as r:
                for line in r:
                    if stop.is_set():
                        return
                    if not line.strip():
                        continue
                    ev = json.loads(line)
                    obj = ev.get("object") or {}
                    if ev.get("type") == "ERROR":
                        events.put((time.monotonic(), "ERROR", obj.get("message")))
                        return
                    rv = obj.get("metadata", {}).get("resourceVersion", rv)
                    if ev.get("type") in ("ADDED", "MODIFIED", "DELETED"):
                        events.put((time.monotonic(), ev["type"], obj))
        except (OSError, ValueError, urllib.error.URLError) as e:
            if not stop.is_set():
                events.put((time.monotonic(), "ERROR", str(e)))
            return


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG"))
    ap.add_argument("-n", "--namespace", required=True)
    ap.add_argument("-l", "--selector", required=True)
    ap.add_argument("--ready", type=int, required=True,
                    help="stop once this many pods of the selector are Ready")
    ap.add_argument("--order", default="",
                    help="cliques in their startup order, comma-separated")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not cmd:
        ap.error("no COMMAND after --")
    if not a.kubeconfig:
        ap.error("no --kubeconfig, and KUBECONFIG is not set")
    api = Api(a.kubeconfig)
    path = "/api/v1/namespaces/%s/pods?labelSelector=%s" % (
        urllib.parse.quote(a.namespace), urllib.parse.quote(a.selector))
    with api.open(path, 10) as r:
        listed = json.load(r)
    pods = {p["metadata"]["uid"]: p for p in listed.get("items") or []}
    old = set(pods)
    events = queue.Queue()
    stop = threading.Event()
    t = threading.Thread(target=watcher, daemon=True, args=(
        api, path, listed["metadata"]["resourceVersion"], events, stop))
    t.start()

    t0 = time.monotonic()
    print("$ " + " ".join(cmd))
    sys.stdout.flush()
    rc = subprocess.run(cmd).returncode
    if rc != 0:
        print("(%s exited %d)" % (cmd[0], rc))
        return 1
    print()
    seen = {}      # uid -> set of step keys printed
    at = {}        # (clique, step key) -> [times]
    width = 60
    deadline = t0 + a.timeout
    fail = None

    def count_ready():
        return sum(1 for p in pods.values()
                   if ready(p) and not p["metadata"].get("deletionTimestamp"))

    while count_ready() < a.ready or len(pods) > a.ready:
        left = deadline - time.monotonic()
        if left <= 0:
            fail = "timed out after %.0f s: %d of %d pods Ready" % (
                a.timeout, count_ready(), a.ready)
            break
        try:
            when, typ, obj = events.get(timeout=min(left, 0.5))
        except queue.Empty:
            continue
        if typ == "ERROR":
            fail = "the watch of %s failed: %s" % (path, obj)
            break
        uid = obj["metadata"]["uid"]
        if typ == "DELETED":
            pods.pop(uid, None)
            continue
        pods[uid] = obj
        if uid in old:
            continue
        name = obj["metadata"]["name"]
        clique = obj["metadata"].get("labels", {}).get(CLIQUE, "?")
        width = max(width, len(name))
        done = seen.setdefault(uid, set())
        for key, text in steps(obj):
            if key in done:
                continue
            done.add(key)
            at.setdefault((clique, key), []).append(when - t0)
            print("%7s  %-*s  %s" % ("+%.2fs" % (when - t0), width, name, text))
            sys.stdout.flush()
    stop.set()
    if fail:
        print("\n%s; not Ready:" % fail)
        for p in sorted(pods.values(), key=lambda p: p["metadata"]["name"]):
            if not ready(p):
                print("  %s: %s" % (p["metadata"]["name"], why_not(p)))
        return 1
    cliques = sorted({c for c, _ in at},
                     key=lambda c: min(at.get((c, "ready"), [1e9])))
    print("\n%d pods Ready. By clique, of the new pods (seconds since the command):"
          % count_ready())
    for c in cliques:
        started, rdy = at.get((c, "started"), []), at.get((c, "ready"), [])
        print("  %-16s %d pod(s): first started +%.2fs, all Ready +%.2fs"
              % (c, len(rdy), min(started, default=0), max(rdy, default=0)))
    order = [c for c in a.order.split(",") if c]
    bad = []
    for before, after in zip(order, order[1:]):
        r = at.get((before, "ready"))
        s = at.get((after, "started"))
        if r and s and not max(r) < min(s):
            bad.append("%s started (+%.2fs) before %s was all Ready (+%.2fs)"
                       % (after, min(s), before, max(r)))
        elif not s:
            bad.append("no new pod of %s started" % after)
    if order and not bad:
        print("startup order kept: %s (each all Ready before the next started)"
              % " -> ".join(order))
    for b in bad:
        print("startup order broken: %s" % b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
