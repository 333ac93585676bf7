#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The reconcile worker's speed against kube-sim (bench/README.md,
"reconcile/"). One world per call: kube-sim with a node file, groved's
webhooks served by a `groved serve --no-reconcile` of their own, and the
worker alone in a second `groved serve --kubeconfig` (so its CPU time and
RSS are the worker's). Watches on pods, PodGangs, PodCliques, groups and
sets timestamp every change. Steps (--steps, in order):

  apply   kubectl apply of the set: apply -> all pods bound -> all Ready
  scale2  kubectl scale pcs --replicas=2 (a unit and its gang added)
  kill    a decode pod deleted: replaced on its index
  idle    the worker's CPU over IDLE seconds with everything cached

For each step: API writes (kube-sim's request log) by verb and kind against
the minimum from `groved plan` (creates, patches and deletes of objects
that differ between the plans before and after, one gate removal per new
pod), status writes against the status changes the watches saw (a write
that changes nothing makes no watch event), gate-removal latency p50/p99
(from the moment the pod is listed in its PodGang and, in a scaled gang,
the base gang's pods are bound, to the gate's removal, both seen by
watches), the worker's CPU seconds and RSS (/proc), kube-sim's CPU
seconds, and the floor the worker's rate limit sets (writes beyond the
burst / qps). Prints one JSON object per step on stdout, progress on
stderr. Loopback only; every wait is bounded.

Usage: bench.py --groved G --root R --nodes FILE --set FILE
                [--qps N --burst N] [--steps apply,scale2,kill,idle]
                [--no-scheduler] [--no-webhooks] [--timeout S]
"""
import argparse
import collections
import json
import os
import sys
import time

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402
from common import (GATE, NS, log, minimum, plan_objects, proc_cpu,  # noqa: E402
                    proc_mem, writes_since)
from e2elib import percentile, pod_gated, pod_ready, rv_of, tail, wait_for  # noqa: E402


class World(common.World):
    def __init__(self, a, tmp):
        extra = ["--no-scheduler"] if a.no_scheduler else []
        if a.no_scheduler or a.no_kubelet:
            extra.append("--no-kubelet")
        super().__init__(a, tmp, a.root, a.nodes, ["--time-scale", "0.05"] + extra,
                         not a.no_webhooks)

    def pods_state(self):
        """{name: (uid, obj, deleted)} of the latest event per pod of NS."""
        out = {}
        for t, typ, p in self.watches["pods"].snapshot():
            m = p["metadata"]
            if m.get("namespace") == NS:
                out[m["name"]] = (m["uid"], p, typ == "DELETED")
        return out


def pod_times(w, since):
    """{name: {created, bound, ready}} of live pods of NS, monotonic times
    seen by the watch (the first event with that property), for pods whose
    uid was created after since."""
    out = {}
    for t, typ, p in w.watches["pods"].snapshot():
        m = p["metadata"]
        if m.get("namespace") != NS:
            continue
        key = (m["name"], m["uid"])
        d = out.setdefault(key, {"created": t})
        if typ == "DELETED":
            d["deleted"] = t
        if p["spec"].get("nodeName"):
            d.setdefault("bound", t)
        if pod_ready(p):
            d.setdefault("ready", t)
    return {k: v for k, v in out.items() if v["created"] >= since and "deleted" not in v}


def gate_latencies(w, since):
    """{pod: seconds} from its gang's condition holding to the gate's
    removal, both as the watches saw them, for pods created after since;
    and the pods lifted before the condition (must be none)."""
    pods = collections.OrderedDict()
    for t, typ, p in w.watches["pods"].snapshot():
        m = p["metadata"]
        if m.get("namespace") == NS:
            pods.setdefault((m["name"], m["uid"]), []).append((t, typ, p))
    gangs = {}
    for t, typ, g in w.watches["pg"].snapshot():
        if typ != "DELETED" and g["metadata"].get("namespace") == NS:
            gangs.setdefault(g["metadata"]["name"], []).append((t, g))
    listed_at = {}   # (gang, pod) -> (t, rv) first listed
    for gname, evs in gangs.items():
        for t, g in evs:
            for pg in g["spec"].get("podgroups", []):
                for r in pg.get("podReferences", []):
                    listed_at.setdefault((gname, r["name"]), (t, rv_of(g)))
    bound = {}
    for (name, uid), evs in pods.items():
        for t, typ, p in evs:
            if p["spec"].get("nodeName") and typ != "DELETED":
                bound.setdefault(name, (t, rv_of(p)))
                break
    lat, early = {}, []
    for (name, uid), evs in pods.items():
        t0, first = evs[0][0], evs[0][2]
        if t0 < since or not pod_gated(first, GATE):
            continue
        lifted = next(((t, p) for t, typ, p in evs if not pod_gated(p, GATE)), None)
        if lifted is None:
            continue
        labels = first["metadata"].get("labels", {})
        gang = labels.get("grove.io/podgang")
        li = listed_at.get((gang, name))
        if li is None:
            early.append("%s: lifted, never listed in %s" % (name, gang))
            continue
        t_cond, rv_cond = max(t0, li[0]), max(rv_of(first), li[1])
        base = labels.get("grove.io/base-podgang")
        if base and base in gangs:
            refs = [r["name"] for pg in gangs[base][-1][1]["spec"].get("podgroups", [])
                    for r in pg.get("podReferences", [])]
            if not all(r in bound for r in refs):
                early.append("%s: lifted before base gang %s bound" % (name, base))
                continue
            t_cond = max([t_cond] + [bound[r][0] for r in refs])
            rv_cond = max([rv_cond] + [bound[r][1] for r in refs])
        if rv_of(lifted[1]) < rv_cond:
            early.append("%s: lifted at rv %d, condition at rv %d"
                         % (name, rv_of(lifted[1]), rv_cond))
        lat[name] = max(0.0, lifted[0] - t_cond)
    return lat, early


def measure(w, name, t0, off, cpu0, want_pods, minimum_writes, timeout,
            skip_delete=None):
    """Waits for want_pods live pods all bound and Ready, then for the
    worker to go quiet; the step's numbers."""
    a = w.a
    need_ready = not (a.no_scheduler or a.no_kubelet)

    def done():
        pt = pod_times(w, 0)
        live = {n for (n, u) in pt}
        if not want_pods <= live:
            return None
        if a.no_scheduler:
            return True   # nothing binds: a scaled gang's gates stay
        return all("bound" in v and ("ready" in v or not need_ready)
                   for (n, u), v in pt.items() if n in want_pods)
    peak_rss = [0.0]

    def done_rss():
        r = proc_mem(w.worker.p.pid)[0]
        peak_rss[0] = max(peak_rss[0], r or 0)
        return done()
    ok = wait_for(done_rss, timeout, 0.2)
    t_done = time.monotonic()
    quiet = w.quiet(2.0, 60)
    res = {"step": name, "done": bool(ok), "quiet": bool(quiet)}
    pt = {n: v for (n, u), v in pod_times(w, t0).items() if n in want_pods}
    if pt and ok:
        if not a.no_scheduler:
            res["to_all_bound_s"] = round(max(v["bound"] for v in pt.values()) - t0, 3)
        if need_ready:
            res["to_all_ready_s"] = round(max(v["ready"] for v in pt.values()) - t0, 3)
        res["new_pods"] = len(pt)
    res["to_done_s"] = round(t_done - t0, 3)
    writes, wr = common.worker_writes(w, off, minimum_writes, t0, skip_delete)
    res.update(writes)
    res["events"] = res.pop("event_writes")
    lat, early = gate_latencies(w, t0)
    if lat:
        v = list(lat.values())
        res["gate_latency_ms"] = {"pods": len(v),
                                  "p50": round(percentile(v, 50) * 1000, 1),
                                  "p99": round(percentile(v, 99) * 1000, 1),
                                  "max": round(max(v) * 1000, 1)}
    if early:
        res["gate_early"] = early[:10]
    res["worker_requests_floor_s"] = round(max(0, wr - a.burst) / a.qps, 2)
    # the floor of the minimum writes alone (creates, patches, deletes,
    # gates: what must happen before every pod is bound)
    res["minimum_floor_s"] = round(max(0, res["object_minimum"] - a.burst) / a.qps, 2)
    res.update(w.footprint(cpu0, peak_rss[0]))
    m = w.worker.metrics()
    res["worker_metrics"] = {k: v for k, v in m.items()
                             if k.startswith(("groved_reconcile_total",
                                              "groved_reconcile_duration",
                                              "groved_reconcile_gates")) and v}
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groved", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--nodes", required=True)
    ap.add_argument("--set", required=True)
    ap.add_argument("--qps", type=int, default=50)
    ap.add_argument("--burst", type=int, default=100)
    ap.add_argument("--steps", default="apply")
    ap.add_argument("--no-scheduler", action="store_true")
    ap.add_argument("--no-kubelet", action="store_true")
    ap.add_argument("--no-webhooks", action="store_true",
                    help="no admission webhooks: kube-sim calls none (a new TLS "
                    "connection per call there)")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--idle", type=float, default=10)
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    a.groved, a.root = os.path.abspath(a.groved), os.path.abspath(a.root)
    with open(a.set) as f:
        set_doc = next(d for d in yaml.safe_load_all(f) if d)
    set_doc["metadata"]["namespace"] = NS
    pcs = set_doc["metadata"]["name"]

    def steps(w, tmp):
        planned = {}   # replicas -> plan
        current = {}
        for step in a.steps.split(","):
            cpu0 = w.cpu()
            off = w.sim.log_offset()
            if step == "apply":
                r = set_doc["spec"].get("replicas", 1)
                planned[r] = plan_objects(a.groved, a.root, set_doc, tmp)
                mn = minimum(current, planned[r])
                idle = {"worker_rss_mib": round(proc_mem(w.worker.p.pid)[0], 1)}
                path = os.path.join(tmp, "set.yaml")
                with open(path, "w") as f:
                    yaml.safe_dump(set_doc, f)
                log("%s: kubectl apply (%d objects planned)" % (a.label, len(planned[r])))
                t0 = time.monotonic()
                rc, out, err = w.sim.apply(path)
                if rc != 0:
                    raise SystemExit("kubectl apply: %s" % err)
                current = planned[r]
                want = {n for (k, n) in current if k == "Pod"}
                res = measure(w, step, t0, off, cpu0, want, mn, a.timeout)
                res["before_apply"] = idle
            elif step == "scale2":
                doc = json.loads(json.dumps(set_doc))
                doc["spec"]["replicas"] = 2
                doc["spec"]["scaling"]["maxReplicas"] = max(
                    2, doc["spec"]["scaling"].get("maxReplicas", 2))
                after = plan_objects(a.groved, a.root, doc, tmp)
                mn = minimum(current, after)
                log("%s: kubectl scale pcs --replicas=2" % a.label)
                t0 = time.monotonic()
                rc, out, err = w.sim.kubectl("scale", "pcs", "-n", NS, pcs, "--replicas=2")
                if rc != 0:
                    raise SystemExit("kubectl scale: %s" % err)
                current = after
                want = {n for (k, n) in current if k == "Pod"}
                res = measure(w, step, t0, off, cpu0, want, mn, a.timeout)
            elif step == "kill":
                st = w.pods_state()
                victim = sorted(n for n, (u, p, d) in st.items() if not d and
                                "decode-clique" in n)[0]
                log("%s: delete pod %s" % (a.label, victim))
                t0 = time.monotonic()
                code, out = w.sim.request("DELETE", "/api/v1/namespaces/%s/pods/%s"
                                          % (NS, victim),
                                          {"gracePeriodSeconds": 0})
                if code >= 300:
                    raise SystemExit("delete pod: %s %s" % (code, out))
                mn = {"create": {"Pod": 1}, "patch": {}, "delete": {}, "gates": 1}
                res = measure(w, step, t0, off, cpu0, {victim}, mn, a.timeout,
                              skip_delete=victim)
                res["victim"] = victim
            elif step == "idle":
                rss0 = proc_mem(w.worker.p.pid)[0]
                t0 = time.monotonic()
                end = t0 + a.idle
                while time.monotonic() < end:
                    time.sleep(0.5)
                res = {"step": "idle", "seconds": a.idle,
                       "worker_cpu_s": round(proc_cpu(w.worker.p.pid) - cpu0[0], 3),
                       "worker_rss_mib": round(proc_mem(w.worker.p.pid)[0], 1),
                       "worker_rss_before_mib": round(rss0, 1),
                       "worker_peak_rss_mib": round(proc_mem(w.worker.p.pid)[1], 1),
                       "kube_sim_cpu_s": round(proc_cpu(w.sim.p.pid) - cpu0[1], 2),
                       "pods_cached": len([1 for u, p, d in w.pods_state().values()
                                           if not d]),
                       "writes": len(writes_since(w.sim, off))}
            else:
                raise SystemExit("unknown step %r" % step)
            res["label"] = a.label
            print(json.dumps(res, sort_keys=True))
            sys.stdout.flush()
            if not res.get("done", True):
                log("%s: %s did not finish; worker log:\n%s"
                    % (a.label, step, tail(w.worker.log_path, 15)))
                return False
        return True
    common.run("gv-bench-rec-", lambda tmp: World(a, tmp), steps)


if __name__ == "__main__":
    main()
