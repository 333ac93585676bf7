# SPDX-License-Identifier: Apache-2.0
"""What bench/reconcile/bench.py and bench/rollout/bench.py share: the
world (kube-sim, watches, the worker and groved's webhooks), `groved plan`
and the minimum writes between two plans, kube-sim's request log, the
statuses the watches saw change, the /proc readers and the run's
temporary folder. Imported by both (bench/README.md, "reconcile/" and
"rollout/"); it also puts tests/e2e on sys.path for e2elib.
"""
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from e2elib import (Groved, Sim, Watch, base_docs, register_webhooks, tail,  # noqa: E402
                    wait_for)

GATE = "grove.io/podgang-pending-creation"
NS = "inference"
TOKEN = "groved-token"
USER = "system:serviceaccount:groved-system:groved"
CLK = os.sysconf("SC_CLK_TCK")
GROVE_KINDS = {"pcs": "/apis/grove.io/v1alpha1/podcliquesets",
               "pclq": "/apis/grove.io/v1alpha1/podcliques",
               "pcsg": "/apis/grove.io/v1alpha1/podcliquescalinggroups",
               "pg": "/apis/scheduler.grove.io/v1alpha1/podgangs"}


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def proc_cpu(pid):
    """user + system seconds of pid."""
    with open("/proc/%d/stat" % pid) as f:
        st = f.read().rsplit(")", 1)[1].split()
    return (int(st[11]) + int(st[12])) / CLK


def proc_mem(pid):
    """(VmRSS, VmHWM) in MiB."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) / 1024.0
    return out.get("VmRSS"), out.get("VmHWM")


def plan_objects(groved, root, set_doc, tmp):
    """{(kind, name): object} of `groved plan` for the set document."""
    path = os.path.join(tmp, "plan-in.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(set_doc, f)
    out = subprocess.run([groved, "plan", "-f", path, "-f",
                          os.path.join(root, "examples", "claim-templates.yaml"),
                          "-o", "json"], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    return {(o["kind"], o["metadata"]["name"]): o for o in json.loads(out)["items"]}


def minimum(before, after, roll_label=None):
    """The writes a perfect worker makes to go from plan before to plan
    after: {create: {kind: n}, patch: {kind: n}, delete: {kind: n},
    gates: n}. A pod is never patched: without roll_label a pod in both
    plans is left alone; with it, a pod whose roll_label (its template
    hash) differs is deleted and created once, and the result has
    rolled: [its names]. Any other object that differs is patched once."""
    m = {"create": collections.Counter(), "patch": collections.Counter(),
         "delete": collections.Counter()}
    rolled = []
    for key, o in after.items():
        b = before.get(key)
        if b is None:
            m["create"][key[0]] += 1
        elif key[0] == "Pod":
            if roll_label and (b["metadata"]["labels"].get(roll_label)
                               != o["metadata"]["labels"].get(roll_label)):
                rolled.append(key[1])
                m["delete"]["Pod"] += 1
                m["create"]["Pod"] += 1
        elif b != o:
            m["patch"][key[0]] += 1
    for key in before:
        if key not in after:
            m["delete"][key[0]] += 1
    out = {k: dict(v) for k, v in m.items()}
    out["gates"] = m["create"].get("Pod", 0)
    if roll_label:
        out["rolled"] = sorted(rolled)
    return out


REQ = re.compile(r'^kube-sim: "(GET|POST|PUT|PATCH|DELETE) (\S+) HTTP/1\.[01]" (\d+)')


def split_path(path):
    """(resource, name or None, subresource or None) of an API path."""
    parts = path.split("?")[0].strip("/").split("/")
    parts = parts[2:] if parts[0] == "api" else parts[3:]
    if len(parts) >= 2 and parts[0] == "namespaces":
        parts = parts[2:] if len(parts) > 2 else ["namespaces"]
    return (parts[0] if parts else "", parts[1] if len(parts) > 1 else None,
            parts[2] if len(parts) > 2 else None)


def writes_since(sim, off):
    """[(verb, resource, name, sub, code)] of the writes after offset."""
    out = []
    with open(sim.log_path, errors="replace") as f:
        f.seek(off)
        for line in f:
            m = REQ.match(line)
            if m and m.group(1) != "GET":
                res, name, sub = split_path(m.group(2))
                out.append((m.group(1), res, name, sub, int(m.group(3))))
    return out


def status_changes(w, since):
    """{kind: (changes, distinct values, objects)} of the grove kinds'
    statuses: events after since whose status differs from the object's
    previous event (only groved writes these statuses)."""
    out = {}
    for k in GROVE_KINDS:
        prev, changes, distinct, objs = {}, 0, set(), set()
        for t, typ, o in w.watches[k].snapshot():
            m = o["metadata"]
            if m.get("namespace") != NS or typ == "DELETED":
                continue
            key = m["name"]
            st = json.dumps(o.get("status") or {}, sort_keys=True)
            if t >= since and key in prev and prev[key] != st:
                changes += 1
                distinct.add((key, st))
                objs.add(key)
            prev[key] = st
        out[k] = {"changes": changes, "distinct_values": len(distinct), "objects": len(objs)}
    return out


def worker_writes(w, off, mn, t0, skip_delete=None):
    """The worker's writes after log offset off against the minimum mn:
    writes by "VERB resource[/sub]", refused ones by code, object writes
    (neither statuses nor Events) against mn's total, status writes
    against the status changes the watches saw after t0, Event writes
    (count), objects written more than once by the same verb; and the
    count of all successful writes. kubectl's writes of the set are left
    out, and the DELETE of skip_delete (the driver's)."""
    ok_w, by_obj, failed = collections.Counter(), collections.Counter(), collections.Counter()
    for verb, resource, obj, sub, code in writes_since(w.sim, off):
        if (resource == "podcliquesets" and sub != "status") or (
                verb == "DELETE" and obj == skip_delete):
            continue   # kubectl's or this driver's, not the worker's
        key = "%s %s%s" % (verb, resource, "/" + sub if sub else "")
        if 200 <= code < 300:
            ok_w[key] += 1
            by_obj[(key, obj)] += 1
        else:
            failed["%s %d" % (key, code)] += 1
    res = {"writes": dict(sorted(ok_w.items()))}
    if failed:
        res["refused"] = dict(sorted(failed.items()))
    status = sum(v for k, v in ok_w.items() if k.endswith("/status"))
    objects = sum(v for k, v in ok_w.items()
                  if not k.endswith("/status") and not k.endswith(" events"))
    mn_total = (sum(mn["create"].values()) + sum(mn["patch"].values())
                + sum(mn["delete"].values()) + mn["gates"])
    res["minimum"] = {k: v for k, v in mn.items() if k != "rolled"}
    res["object_writes"] = objects
    res["object_minimum"] = mn_total
    res["object_ratio"] = round(objects / mn_total, 3) if mn_total else None
    sc = status_changes(w, t0)
    changes = sum(v["changes"] for v in sc.values())
    res["status_writes"] = status
    res["status_changes_seen"] = sc
    res["status_ratio"] = round(status / changes, 3) if changes else None
    res["event_writes"] = ok_w.get("POST events", 0) + ok_w.get("PATCH events", 0)
    res["repeated"] = sorted("%s %s x%d" % (k, o, n) for (k, o), n in by_obj.items()
                             if n > 1 and not k.endswith("/status") and o
                             and not k.endswith(" events"))[:20]
    return res, sum(ok_w.values())


class World:
    """kube-sim (its request log on) with the grove CRDs, the nodes of
    nodes and a token for groved; watches on pods and the grove kinds
    opened before any write; the worker alone in a `groved serve
    --kubeconfig` (its CPU and RSS are the worker's) and, with webhooks,
    groved's webhooks in a second `groved serve --no-reconcile`; NS, the
    claim templates and the router's Service applied."""

    def __init__(self, a, tmp, root, nodes, sim_args, webhooks, worker_args=()):
        self.a = a
        self.tmp = tmp
        crds = [os.path.join(root, "deploy", "crds", f)
                for f in sorted(os.listdir(os.path.join(root, "deploy", "crds")))
                if f.endswith(".yaml") and f != "kustomization.yaml"]
        self.sim = Sim(root, tmp, ["--nodes", nodes, "--load"] + crds + [
            "--groved-image", "example.invalid/not-groved:0"] + list(sim_args) + [
            "--token", "%s=%s:system:masters" % (TOKEN, USER)],
            env={"KUBE_SIM_VERBOSE": "1"})
        kc = yaml.safe_load(open(self.sim.kc))
        kc["users"][0]["user"] = {"token": TOKEN}
        self.gkc = os.path.join(tmp, "groved.kubeconfig")
        with open(self.gkc, "w") as f:
            yaml.safe_dump(kc, f)
        self.watches = {"pods": Watch(self.sim, "/api/v1/pods")}
        for k, p in GROVE_KINDS.items():
            self.watches[k] = Watch(self.sim, p)
        env = {"POD_NAMESPACE": "groved-system", "POD_SERVICE_ACCOUNT": "groved"}
        self.hooks = None
        if webhooks:
            self.hooks = Groved(a.groved, tmp, "hooks", [
                "--no-reconcile", "--kubeconfig", self.gkc, "--self-signed",
                os.path.join(tmp, "tls-hooks")], env=env)
        self.worker = Groved(a.groved, tmp, "worker", [
            "--kubeconfig", self.gkc, "--self-signed", os.path.join(tmp, "tls-worker"),
            "--kube-qps", str(a.qps), "--kube-burst", str(a.burst)] + list(worker_args),
            env=env)
        if self.hooks:
            register_webhooks(self.sim, root, self.hooks.ports["webhooks"],
                              os.path.join(tmp, "tls-hooks", "ca.crt"))
        if not ((not self.hooks or wait_for(self.hooks.ready, 30))
                and wait_for(self.worker.ready, 30)):
            raise SystemExit("groved not ready:\n%s" % tail(self.worker.log_path))
        for doc in base_docs(root, NS):
            rc, out, err = self.sim.apply(doc)
            if rc != 0:
                raise SystemExit("cannot apply %s: %s" % (doc, err))

    def close(self):
        for w in self.watches.values():
            w.stop()
        self.worker.stop()
        if self.hooks:
            self.hooks.stop()
        self.sim.stop()

    def worker_writes(self):
        m = self.worker.metrics()
        return sum(v for k, v in m.items()
                   if k.startswith("groved_reconcile_api_writes_total"))

    def quiet(self, seconds, timeout):
        """Waits until the worker's write counter has not moved for
        seconds (bounded by timeout); whether it did."""
        last = [self.worker_writes(), time.monotonic()]

        def still():
            n = self.worker_writes()
            if n != last[0]:
                last[0], last[1] = n, time.monotonic()
            return time.monotonic() - last[1] >= seconds
        return wait_for(still, timeout, 0.2)

    def cpu(self):
        """(the worker's, kube-sim's) CPU seconds so far."""
        return proc_cpu(self.worker.p.pid), proc_cpu(self.sim.p.pid)

    def footprint(self, cpu0, peak_rss=0.0):
        """The worker's CPU seconds since cpu0 (as cpu() gave it), its
        RSS and peak RSS (the larger of VmHWM and peak_rss), kube-sim's
        CPU seconds since cpu0."""
        worker, sim = self.cpu()
        rss, hwm = proc_mem(self.worker.p.pid)
        return {"worker_cpu_s": round(worker - cpu0[0], 2),
                "worker_rss_mib": round(rss, 1),
                "worker_peak_rss_mib": round(max(hwm, peak_rss), 1),
                "kube_sim_cpu_s": round(sim - cpu0[1], 2)}


def run(prefix, make_world, steps, keep=False):
    """Makes a temporary folder, the world make_world(tmp) in it, and
    calls steps(world, tmp), which returns whether every step finished.
    Closes the world; removes the folder unless a step did not finish (or
    keep); exits 1 when one did not, 0 otherwise."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    w = None
    failed = False
    try:
        w = make_world(tmp)
        failed = not steps(w, tmp)
    finally:
        if w is not None:
            w.close()
        if failed or keep:
            log("logs kept in %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failed else 0)
