#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A rollout's speed and writes against kube-sim (bench/README.md,
"rollout/"). One world per call, as bench/common.py builds it:
kube-sim with a node file made for the units (tests/fixtures/nodes/gen.py's
racks: one B200 and two H200 nodes of 8 GPUs each, a fifth more GPUs than
the units need), the worker alone in a `groved serve --kubeconfig` (its CPU
and RSS are the worker's), groved's webhooks in a second `groved serve
--no-reconcile` only with --webhooks.

The set is bench/plan/gen.py's reference workload at --units units (a
standalone router, one scaling group of UNITS units of 1 prefill + 2
decode pods, compact form as examples/vllm-disaggregated.yaml), every
clique annotated `sim.grove.io/ready-after: "READY_AFTER"` and given
`terminationGracePeriodSeconds: GRACE` (simulated seconds; kube-sim's
--time-scale F makes one simulated second F real seconds), the group's
`rollingUpdate: {maxUnavailable: MU}`. Steps:

  1. kubectl apply of the set; every pod bound and Ready; the worker quiet
  2. kubectl apply of the set with the prefill and decode image changed
     (the router's is not: 300 pods roll, one stays); waits until every
     pod of the set runs the new template (the pod-template-hash of
     `groved plan` of the changed set), is Ready and is not terminating

Measured from watches on pods, PodGangs, PodCliques, groups and sets
opened before the first write (every time is when a watch saw it):

- rollout time: the set's changed generation seen -> the last pod Ready
  on the new template;
- per unit: its first pod marked for deletion -> its last new pod Ready
  (and the parts: deletion -> old pods gone -> new pods created -> gates
  lifted -> bound -> Ready); the worker's reaction: for the k-th unit
  deleted (k >= MU), its deletion minus the moment the (k-MU+1)-th unit
  finished (a slot of the budget became free);
- the floor the budget sets: ceil(units / MU) x the median unit's
  delete-to-Ready time (also x the first unit's, which the first round's
  other writes lengthen, and x the physical unit: (GRACE + READY_AFTER) x
  F + the median create-to-bound time); the rate limit's floor: (the
  rollout's writes - burst) / qps;
- the invariant at every pod event: units unavailable at once (a unit is
  available when its three pods are Ready and not terminating) never above
  MU, never two templates Ready in one unit;
- API writes by verb and kind (kube-sim's request log) against the
  minimum from the plans before and after: each rolled pod deleted once,
  created once, its gate removed once; each other object that differs
  patched once; status writes against the status changes the watches saw;
  Events by reason; refused writes; objects written more than once.

Prints one JSON object per step on stdout, progress on stderr. Loopback
only; every wait is bounded (--timeout).

Usage: bench.py --groved G --root R [--units 100] [--max-unavailable 1]
                [--time-scale 0.25] [--ready-after 1] [--grace 1]
                [--qps 50 --burst 100] [--webhooks] [--debug]
                [--timeout S] [--label L]
"""
import argparse
import collections
import json
import math
import os
import statistics
import subprocess
import sys
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures", "nodes"))
import common  # noqa: E402
from common import GATE, GROVE_KINDS, NS, log, plan_objects  # noqa: E402
from e2elib import pod_gated, pod_ready, tail, wait_for  # noqa: E402
import gen as nodegen  # noqa: E402

HASH = "grove.io/pod-template-hash"
UNIT_IDX = "grove.io/podcliquescalinggroup-replica-index"
OLD_IMAGE = "nvcr.io/nvidia/vllm:latest"
NEW_IMAGE = "nvcr.io/nvidia/vllm:rollout-1"


def make_set(units, mu, ready_after, grace):
    """The reference workload at units units (bench/plan/gen.py) with the
    bench's annotation, grace and rollingUpdate."""
    out = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "plan", "gen.py"),
                          "--units", str(units)], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    doc = next(d for d in yaml.safe_load_all(out) if d)
    doc["metadata"]["namespace"] = NS
    for c in doc["spec"]["podCliques"]:
        c.setdefault("annotations", {})["sim.grove.io/ready-after"] = str(ready_after)
        c["terminationGracePeriodSeconds"] = grace
    groups = doc["spec"]["scalingGroups"]
    if len(groups) != 1:
        raise SystemExit("bench: expected one scaling group in gen.py's set")
    groups[0]["rollingUpdate"] = {"maxUnavailable": mu}
    return doc


def changed_image(doc):
    new = json.loads(json.dumps(doc))
    n = 0
    for c in new["spec"]["podCliques"]:
        for ct in c["containers"]:
            if ct["image"] == OLD_IMAGE:
                ct["image"] = NEW_IMAGE
                n += 1
    if n != 2:
        raise SystemExit("bench: expected the prefill and decode images to be %s" % OLD_IMAGE)
    return new


def node_file(units, path):
    """Racks of one B200 and two H200 nodes, enough for units x (1 B200 +
    2 H200 GPUs) and a fifth more (old claims freed while new ones are
    made)."""
    racks = int(math.ceil(units * 1.2 / 8)) + 1
    nodes = []
    for r in range(racks):
        nodes += nodegen.rack_nodes(r, 3)
    with open(path, "w") as f:
        yaml.safe_dump(nodes, f, sort_keys=False, width=100)
    return racks


class World(common.World):
    def __init__(self, a, tmp):
        self.nodes_path = os.path.join(tmp, "nodes.yaml")
        self.racks = node_file(a.units, self.nodes_path)
        super().__init__(a, tmp, ROOT, self.nodes_path, [
            "--time-scale", str(a.time_scale), "--ready-after", str(a.ready_after)],
            a.webhooks, ["--log-level", "debug"] if a.debug else [])

    def live_pods(self):
        """{name: pod} of the pods of NS as the watch has them now."""
        out = {}
        for t, typ, p in self.watches["pods"].snapshot():
            m = p["metadata"]
            if m.get("namespace") != NS:
                continue
            if typ == "DELETED":
                out.pop(m["name"], None)
            else:
                out[m["name"]] = p
        return out

    def events_by_reason(self):
        """{reason: count} of the Events of NS now (count field summed)."""
        code, out = self.sim.request("GET", "/api/v1/namespaces/%s/events" % NS)
        c = collections.Counter()
        if code == 200:
            for e in out.get("items") or []:
                c["%s %s" % (e.get("type", "?"), e.get("reason", "?"))] += e.get("count") or 1
        return c


def all_on(w, hashes, want):
    """Whether every pod of want is live, on hashes[name], Ready and not
    terminating."""
    live = w.live_pods()
    for n in want:
        p = live.get(n)
        if (p is None or p["metadata"].get("deletionTimestamp")
                or p["metadata"].get("labels", {}).get(HASH) != hashes[n]
                or not pod_ready(p)):
            return False
    return True


def timelines(w):
    """{(name, uid): {created, marked, deleted, ungated, bound, ready, hash}}
    from the pods watch (monotonic times, first seen)."""
    out = collections.OrderedDict()
    for t, typ, p in w.watches["pods"].snapshot():
        m = p["metadata"]
        if m.get("namespace") != NS:
            continue
        d = out.get((m["name"], m["uid"]))
        if d is None:
            d = out[(m["name"], m["uid"])] = {
                "created": t, "hash": m.get("labels", {}).get(HASH),
                "gated": pod_gated(p, GATE)}
        if typ == "DELETED":
            d.setdefault("deleted", t)
            d.setdefault("marked", t)
            continue
        if m.get("deletionTimestamp"):
            d.setdefault("marked", t)
        if not pod_gated(p, GATE):
            d.setdefault("ungated", t)
        if p["spec"].get("nodeName"):
            d.setdefault("bound", t)
        if pod_ready(p):
            d.setdefault("ready", t)
    return out


def invariant(w, t0, units, hashes):
    """Replays the pod events after t0: the most units unavailable at
    once, the pod events after which a unit had pods of both templates
    Ready, the fewest units available."""
    state = {}   # name -> (ready and not terminating, on the new template)
    unit_pods = {n: j for j, names in units.items() for n in names}
    max_unavail, min_avail, mixed = 0, len(units), 0
    for t, typ, p in w.watches["pods"].snapshot():
        m = p["metadata"]
        if m.get("namespace") != NS:
            continue
        n = m["name"]
        if typ == "DELETED":
            state.pop(n, None)
        else:
            state[n] = (pod_ready(p) and not m.get("deletionTimestamp"),
                        m.get("labels", {}).get(HASH) == hashes.get(n))
        if t < t0 or n not in unit_pods:
            continue
        unavail = 0
        for j, names in units.items():
            st = [state.get(x) for x in names]
            if not all(s and s[0] for s in st):
                unavail += 1
            if len({s[1] for s in st if s and s[0]}) > 1:
                mixed += 1
        max_unavail = max(max_unavail, unavail)
        min_avail = min(min_avail, len(units) - unavail)
    return {"max_units_unavailable": max_unavail, "min_units_available": min_avail,
            "events_two_templates_ready_in_a_unit": mixed}


def q(values, p):
    v = sorted(values)
    if not v:
        return None
    return v[max(0, min(len(v) - 1, int(math.ceil(p / 100.0 * len(v))) - 1))]


def r3(x):
    return None if x is None else round(x, 3)


def analyse(w, a, t0, t_end, mn, units, old_uids):
    """The step's times from the watches."""
    tl = timelines(w)
    per = {}
    recreated = collections.Counter()
    rolled = set(mn["rolled"])
    for (name, uid), d in tl.items():
        if d["created"] >= t0 and name in rolled:
            recreated[name] += 1
    for j, names in units.items():
        olds = [tl.get((n, old_uids[n])) for n in names]
        news = [d for (n, u), d in tl.items() if n in names and d["created"] >= t0
                and "deleted" not in d]
        if not all(olds) or len(news) != len(names):
            continue
        try:
            per[j] = {
                "marked": min(o["marked"] for o in olds),
                "gone": max(o["deleted"] for o in olds),
                "created": max(d["created"] for d in news),
                "ungated": max(d.get("ungated", d["created"]) for d in news),
                "bound": max(d["bound"] for d in news),
                "ready": max(d["ready"] for d in news),
            }
        except KeyError:
            continue
    res = {"units_measured": len(per)}
    if not per:
        return res
    order = sorted(per, key=lambda j: per[j]["marked"])
    first = per[order[0]]
    unit_s = [per[j]["ready"] - per[j]["marked"] for j in order]
    res["first_unit"] = order[0]
    res["first_unit_s"] = r3(first["ready"] - first["marked"])
    res["unit_s"] = {"p50": r3(q(unit_s, 50)), "p90": r3(q(unit_s, 90)),
                     "max": r3(max(unit_s))}
    parts = collections.OrderedDict()
    for name, (x, y) in (("delete_to_gone", ("marked", "gone")),
                         ("gone_to_created", ("gone", "created")),
                         ("created_to_ungated", ("created", "ungated")),
                         ("ungated_to_bound", ("ungated", "bound")),
                         ("bound_to_ready", ("bound", "ready"))):
        v = [per[j][y] - per[j][x] for j in order]
        parts[name] = {"p50": r3(q(v, 50)), "p90": r3(q(v, 90))}
    res["unit_parts_s"] = parts
    # the worker's reaction: a budget slot free -> the next unit marked
    readies = sorted(per[j]["ready"] for j in order)
    gaps = [per[j]["marked"] - readies[k - a.max_unavailable]
            for k, j in enumerate(order) if k >= a.max_unavailable]
    if gaps:
        res["reaction_s"] = {"p50": r3(q(gaps, 50)), "p90": r3(q(gaps, 90)),
                             "max": r3(max(gaps)), "sum": r3(sum(gaps))}
    res["apply_to_first_delete_s"] = r3(first["marked"] - t0)
    batches = int(math.ceil(len(units) / float(a.max_unavailable)))
    res["batches"] = batches
    res["floor_first_s"] = r3(batches * (first["ready"] - first["marked"]))
    res["floor_s"] = r3(batches * statistics.median(unit_s))
    # what a unit cannot take less than: the old pods' grace, the new
    # ones' ready-after (simulated, times the scale), create to bound
    to_bound = statistics.median(per[j]["bound"] - per[j]["created"] for j in order)
    res["unit_physical_s"] = r3((a.grace + a.ready_after) * a.time_scale + to_bound)
    res["floor_physical_s"] = r3(batches * res["unit_physical_s"])
    res["recreated_more_than_once"] = sorted(n for n, c in recreated.items() if c > 1)[:10]
    return res


def status_fields(w, since):
    """{kind: {field: changes}}: which status fields the status changes
    seen after since changed (a condition by type, updateProgress by
    its fields; "time only" when nothing but a timestamp moved)."""
    out = {}
    for k in GROVE_KINDS:
        prev, c = {}, collections.Counter()
        for t, typ, o in w.watches[k].snapshot():
            m = o["metadata"]
            if m.get("namespace") != NS or typ == "DELETED":
                continue
            st = o.get("status") or {}
            old = prev.get(m["name"])
            prev[m["name"]] = st
            if t < since or old is None or old == st:
                continue
            items = collections.Counter()
            for f in sorted(set(old) | set(st)):
                if old.get(f) == st.get(f):
                    continue
                if f == "conditions":
                    oc = {x.get("type"): x for x in old.get(f) or []}
                    nc = {x.get("type"): x for x in st.get(f) or []}
                    for ty in sorted(set(oc) | set(nc)):
                        a, b = oc.get(ty) or {}, nc.get(ty) or {}
                        if (a.get("status"), a.get("reason")) != (b.get("status"), b.get("reason")):
                            items["condition %s -> %s" % (ty, b.get("status"))] += 1
                        elif a != b:
                            items["condition %s (message or time)" % ty] += 1
                elif isinstance(st.get(f), dict) and isinstance(old.get(f), dict):
                    for g in sorted(set(old[f]) | set(st[f])):
                        if old[f].get(g) != st[f].get(g):
                            items["%s.%s" % (f, g)] += 1
                else:
                    items[f] += 1
            c.update(items)
            if all(x.endswith("(message or time)") for x in items):
                c["= writes changing only a condition's message or time"] += 1
        out[k] = dict(c.most_common())
    return out


def rollout_step(w, a, set_doc, tmp):
    before = plan_objects(a.groved, ROOT, set_doc, tmp)
    new_doc = changed_image(set_doc)
    after = plan_objects(a.groved, ROOT, new_doc, tmp)
    mn = common.minimum(before, after, HASH)
    hashes = {n: o["metadata"]["labels"].get(HASH)
              for (k, n), o in after.items() if k == "Pod"}
    want = set(hashes)
    units = collections.defaultdict(list)
    for n in mn["rolled"]:
        j = after[("Pod", n)]["metadata"]["labels"].get(UNIT_IDX)
        if j is None:
            raise SystemExit("bench: rolled pod %s is not in a unit" % n)
        units[int(j)].append(n)
    live = w.live_pods()
    old_uids = {n: live[n]["metadata"]["uid"] for n in want if n in live}
    gen0 = max((o["metadata"].get("generation", 0) for t, typ, o in w.watches["pcs"].snapshot()
                if o["metadata"].get("namespace") == NS), default=0)
    events0 = w.events_by_reason()
    metrics0 = w.worker.metrics()
    cpu0 = w.cpu()
    off = w.sim.log_offset()
    path = os.path.join(tmp, "set-new.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(new_doc, f)
    log("%s: kubectl apply of the new image (%d pods in %d units to roll, maxUnavailable %d)"
        % (a.label, len(mn["rolled"]), len(units), a.max_unavailable))
    t_client = time.monotonic()
    rc, out, err = w.sim.apply(path)
    if rc != 0:
        raise SystemExit("kubectl apply: %s" % err)
    peak = [0.0]

    def done():
        peak[0] = max(peak[0], common.proc_mem(w.worker.p.pid)[0] or 0)
        return all_on(w, hashes, want)
    ok = wait_for(done, a.timeout, 0.1)
    t_seen = time.monotonic()
    quiet = w.quiet(2.0, 60)
    t0 = next((t for t, typ, o in w.watches["pcs"].snapshot()
               if o["metadata"].get("namespace") == NS
               and o["metadata"].get("generation", 0) > gen0), t_client)
    res = {"step": "rollout", "done": bool(ok), "quiet": bool(quiet),
           "units": len(units), "pods_rolled": len(mn["rolled"]),
           "max_unavailable": a.max_unavailable,
           "apply_client_to_seen_s": r3(t0 - t_client)}
    tl = timelines(w)
    finals = [d for (n, u), d in tl.items() if n in mn["rolled"] and "deleted" not in d
              and d["created"] >= t0]
    if ok and finals:
        t_end = max(d["ready"] for d in finals if "ready" in d)
        res["rollout_s"] = r3(t_end - t0)
    else:
        t_end = t_seen
        res["rollout_s"] = None
        live = w.live_pods()
        res["not_rolled"] = sorted(n for n in want if n not in live or
                                   live[n]["metadata"]["labels"].get(HASH) != hashes[n])[:10]
        res["not_ready"] = {
            n: "%s%s%s, %s" % ("terminating, " if live[n]["metadata"].get("deletionTimestamp")
                               else "", "gated" if pod_gated(live[n], GATE) else "ungated",
                               ", bound" if live[n]["spec"].get("nodeName") else "",
                               "new template" if live[n]["metadata"]["labels"].get(HASH)
                               == hashes[n] else "old template")
            for n in sorted(want) if n in live and not pod_ready(live[n])}
        res["missing"] = sorted(n for n in want if n not in live)[:10]
    unchanged = sorted(n for n in want if n not in mn["rolled"])
    res["unchanged_pods_kept"] = all(
        w.live_pods().get(n, {}).get("metadata", {}).get("uid") == old_uids.get(n)
        for n in unchanged)
    res.update(analyse(w, a, t0, t_end, mn, units, old_uids))
    if res.get("rollout_s") and res.get("floor_s"):
        res["rollout_over_floor"] = round(res["rollout_s"] / res["floor_s"], 3)
        res["rollout_over_floor_physical"] = round(res["rollout_s"] / res["floor_physical_s"], 3)
    res.update(invariant(w, t0, units, hashes))
    res.update(writes(w, a, off, mn, t0))
    res["status_fields_changed"] = status_fields(w, t0)
    ev = w.events_by_reason()
    res["events_by_reason"] = {k: v - events0.get(k, 0) for k, v in sorted(ev.items())
                               if v - events0.get(k, 0)}
    res.update(w.footprint(cpu0, peak[0]))
    m = w.worker.metrics()
    res["worker_metrics"] = {k: round(v - metrics0.get(k, 0), 3) for k, v in m.items()
                             if k.startswith(("groved_reconcile_total",
                                              "groved_reconcile_duration_seconds_total",
                                              "groved_reconcile_api_writes_total",
                                              "groved_reconcile_gates_removed_total"))
                             and v - metrics0.get(k, 0)}
    rounds = sum(v for k, v in res["worker_metrics"].items()
                 if k.startswith("groved_reconcile_total"))
    busy = sum(v for k, v in res["worker_metrics"].items()
               if k.startswith("groved_reconcile_duration_seconds_total"))
    res["rounds"] = int(rounds)
    res["round_busy_s"] = round(busy, 2)
    return res


def writes(w, a, off, mn, t0):
    """The rollout's writes by verb and resource against the minimum."""
    res, allw = common.worker_writes(w, off, mn, t0)
    res["rate_floor_s"] = round(max(0, allw - a.burst) / a.qps, 2)
    res["rate_floor_minimum_s"] = round(max(0, res["object_minimum"] - a.burst) / a.qps, 2)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groved", required=True)
    ap.add_argument("--root", default=ROOT)
    ap.add_argument("--units", type=int, default=100)
    ap.add_argument("--max-unavailable", type=int, default=1)
    ap.add_argument("--time-scale", type=float, default=0.25)
    ap.add_argument("--ready-after", type=float, default=1.0)
    ap.add_argument("--grace", type=int, default=1)
    ap.add_argument("--qps", type=int, default=50)
    ap.add_argument("--burst", type=int, default=100)
    ap.add_argument("--webhooks", action="store_true")
    ap.add_argument("--debug", action="store_true",
                    help="the worker at --log-level debug; its log kept")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    a.groved = os.path.abspath(a.groved)
    if not 1 <= a.units <= 1000 or not 1 <= a.max_unavailable <= a.units:
        ap.error("need 1 <= units <= 1000 and 1 <= max-unavailable <= units")
    set_doc = make_set(a.units, a.max_unavailable, a.ready_after, a.grace)

    def steps(w, tmp):
        plan = plan_objects(a.groved, ROOT, set_doc, tmp)
        want = {n for (k, n) in plan if k == "Pod"}
        hashes = {n: o["metadata"]["labels"].get(HASH) for (k, n), o in plan.items()
                  if k == "Pod"}
        path = os.path.join(tmp, "set.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(set_doc, f)
        log("%s: kubectl apply (%d pods, %d racks of nodes)" % (a.label, len(want), w.racks))
        t = time.monotonic()
        rc, out, err = w.sim.apply(path)
        if rc != 0:
            raise SystemExit("kubectl apply: %s" % err)
        ok = wait_for(lambda: all_on(w, hashes, want), a.timeout, 0.2)
        setup = {"step": "create", "done": bool(ok), "pods": len(want),
                 "to_all_ready_s": round(time.monotonic() - t, 2),
                 "quiet": bool(w.quiet(2.0, 60)), "label": a.label}
        print(json.dumps(setup, sort_keys=True))
        sys.stdout.flush()
        if not ok:
            return False
        res = rollout_step(w, a, set_doc, tmp)
        res.update({"label": a.label, "time_scale": a.time_scale,
                    "ready_after_sim_s": a.ready_after, "grace_sim_s": a.grace,
                    "qps": a.qps, "burst": a.burst, "webhooks": a.webhooks,
                    "racks": w.racks})
        print(json.dumps(res, sort_keys=True))
        sys.stdout.flush()
        if not res["done"]:
            log("%s: the rollout did not finish; worker log:\n%s"
                % (a.label, tail(w.worker.log_path, 15)))
        return res["done"]
    common.run("gv-bench-roll-", lambda tmp: World(a, tmp), steps, keep=a.debug)

if __name__ == "__main__":
    main()
