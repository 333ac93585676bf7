#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The reconcile worker end to end: `groved serve --kubeconfig` (the
worker leads: no --leader-elect) against kube-sim's cluster (nodes, DRA
claims, the gang scheduler and a kubelet that runs the real `groved
initc`), every write through groved's own webhooks (deploy/'s
configurations pointed at groved's loopback port), the scenarios of
issue 17's "End to end":

 1. the reference workload: one gang bound together, the startup order,
    the router Service, every claim allocated, Running 4/4;
 2. kubectl scale pcs 2, 4, 1: units, one gang each, scale-in from the top;
 3. a killed decode pod replaced on its index; an H200 node deleted with no
    spare: the rest keep serving, recovery when a node returns;
 4. a bad spec refused with nothing created; a gang that can never fit:
    nothing half-started;
 5. kill -9 of the leader during creation and during scaling, two
    replicas: no duplicate, lost or reset object;
 6. every upstream sample reaches Ready pods;
 7. deleting the set removes everything it owned;
 8. an unreachable node under decode pods: the deleted pods stay
    Terminating, replacements run under suffixed names elsewhere; the
    node's deletion removes them and changes nothing else;
 9. a template-form set scaled to 0 and back: every child goes and comes
    back under the same names;
10. a Dynamo-shaped set: queue label, the workload's service account,
    grove-initc with the set's token (kube-sim enforces RBAC), the gang's
    topology annotation, observedGeneration and updatedReplicas.

It measures and prints the time from `kubectl apply` to every pod bound
and Ready, the gate-removal latency (from the moment the gang's condition
holds, as seen in watches, to the gate's removal) and the API writes by
verb (kube-sim's request log). Statuses are checked only once the worker
writes them (reconcile/ calls rec_status_build); until then those checks
print as expected failures with the reason.

Usage: test_worker.py GROVED REPO_ROOT [SCENARIO...]   (e.g. s1 s2)
"""
import json
import os
import subprocess
import sys
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import (Watch, percentile, pod_gated, pod_ready, pod_started,  # noqa: E402
                    rv_of, wait_for, writes_by_verb)

GROVED, ROOT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
ONLY = set(sys.argv[3:])
GATE = "grove.io/podgang-pending-creation"
PCS = "vllm-disaggregated"
NS = "inference"
# kube-sim's clock: grace periods and readiness 20 times faster
TIME_SCALE = "0.05"
R = e2elib.Results()


def status_wired():
    """Whether the worker writes statuses yet (rec_status.c wired in)."""
    for f in ("rec_sync.c", "rec_worker.c"):
        try:
            with open(os.path.join(ROOT, "reconcile", f)) as fh:
                if "rec_status_build" in fh.read():
                    return True
        except OSError:
            pass
    return False


STATUS = status_wired()
STATUS_TODO = "the worker does not write statuses yet (rec_status_build not called in reconcile/)"


class World(e2elib.Cluster):
    """kube-sim with nodes, groved's webhooks registered, groved(s), and
    watches on pods and PodGangs from the start."""

    def __init__(self, tmp, name, workers=1, leader_elect=False):
        super().__init__(GROVED, ROOT, tmp, name, TIME_SCALE)
        self.pods = Watch(self.sim, "/api/v1/pods")
        self.gangs = Watch(self.sim, "/apis/scheduler.grove.io/v1alpha1/podgangs")
        self.start(workers, leader_elect,
                   lambda i: self.start_groved("w%d" % i, ["--leader-elect"]))

    def close(self):
        self.pods.stop()
        self.gangs.stop()
        for g in self.groveds:
            g.stop()
        self.sim.stop()

    def dump(self, ns):
        """What a failure prints: the objects, and the logs' tails."""
        rc, out, err = self.k("get", "pcs,pclq,pcsg,pg,pods,resourceclaims", "-n", ns,
                              "-o", "wide")
        print("  --- kubectl get pcs,pclq,pcsg,pg,pods,resourceclaims -n %s\n%s%s"
              % (ns, out, err))
        for p in self.sim.items("pods", "-n", ns):
            st = p.get("status", {})
            print("  pod %s node=%s phase=%s gates=%s deleting=%s conds=%s" % (
                p["metadata"]["name"], p["spec"].get("nodeName"), st.get("phase"),
                [g["name"] for g in p["spec"].get("schedulingGates") or []],
                bool(p["metadata"].get("deletionTimestamp")),
                [(c["type"], c["status"], c.get("reason")) + ((c.get("message"),) if c.get("status")
                                                              == "False" else ())
                 for c in st.get("conditions") or []]))
        for s in self.sim.items("pcs", "-n", ns):
            print("  pcs %s status: %s" % (s["metadata"]["name"],
                                          json.dumps(s.get("status"))[:1500]))
        self.print_logs(25, 400, 25)


# ---- measures ----------------------------------------------------------


def gate_latencies(w, ns, since, names=None):
    """For every pod of ns first seen after since (monotonic), whose
    gate was lifted: the seconds from the moment its gang's condition held
    (the pod exists and its PodGang lists it; for a scaled gang also every
    pod of the base gang bound), as the watches saw it, to the first event
    without the gate. Also the pods whose gate was lifted before the
    condition held, by resourceVersion (must be none)."""
    pods = {}
    for t, typ, p in w.pods.history(ns):
        m = p["metadata"]
        key = (m["name"], m["uid"])
        if names is not None and m["name"] not in names:
            continue
        pods.setdefault(key, []).append((t, typ, p))
    gangs = {}
    for t, typ, g in w.gangs.history(ns):
        if typ != "DELETED":
            gangs.setdefault(g["metadata"]["name"], []).append((t, g))
    bound = {}   # pod name -> (t, rv) first seen bound
    for (name, uid), evs in pods.items():
        for t, typ, p in evs:
            if p["spec"].get("nodeName"):
                bound.setdefault(name, (t, rv_of(p)))
                break
    lat, early = {}, []
    for (name, uid), evs in pods.items():
        t_created, first = evs[0][0], evs[0][2]
        if t_created < since or not pod_gated(first, GATE):
            continue
        lifted = next(((t, p) for t, typ, p in evs if not pod_gated(p, GATE)), None)
        if lifted is None:
            continue
        labels = first["metadata"].get("labels", {})
        gang = labels.get("grove.io/podgang")
        listed = next(((t, g) for t, g in gangs.get(gang, [])
                       if any(r.get("name") == name for pg in g["spec"].get("podgroups", [])
                              for r in pg.get("podReferences", []))), None)
        if listed is None:
            early.append("%s: gate lifted, never listed in %s" % (name, gang))
            continue
        t_cond, rv_cond = max(t_created, listed[0]), rv_of(listed[1])
        base = "%s-%s" % (labels.get("grove.io/podcliquesets"),
                          labels.get("grove.io/podcliqueset-replica-index"))
        if gang != base and gangs.get(base):
            refs = [r["name"] for pg in gangs[base][-1][1]["spec"].get("podgroups", [])
                    for r in pg.get("podReferences", [])]
            if not all(r in bound for r in refs):
                early.append("%s: gate lifted before base gang %s bound" % (name, base))
                continue
            t_cond = max([t_cond] + [bound[r][0] for r in refs])
            rv_cond = max([rv_cond] + [bound[r][1] for r in refs])
        if rv_of(lifted[1]) < rv_cond:
            early.append("%s: gate lifted at rv %d, condition at rv %d"
                         % (name, rv_of(lifted[1]), rv_cond))
        lat[name] = lifted[0] - t_cond
    return lat, early


def print_latency(what, lat):
    v = list(lat.values())
    if v:
        print("# gate-removal latency, %s: %d pods, p50 %.1f ms, p99 %.1f ms, max %.1f ms"
              % (what, len(v), percentile(v, 50) * 1000, percentile(v, 99) * 1000,
                 max(v) * 1000))


def print_writes(what, reqs):
    ok, failed = writes_by_verb(reqs)
    print("# API writes, %s: %d: %s" % (what, sum(ok.values()), json.dumps(ok)))
    if failed:
        print("# refused writes, %s: %d: %s" % (what, sum(failed.values()), json.dumps(failed)))
    return ok, failed


# ---- helpers -----------------------------------------------------------


def names(items):
    return sorted(o["metadata"]["name"] for o in items)


def uids(items):
    return {o["metadata"]["name"]: o["metadata"]["uid"] for o in items}


def all_ready(pods, n):
    return len(pods) == n and all(pod_ready(p) and not p["metadata"].get("deletionTimestamp")
                                  for p in pods)


def by_clique(pods):
    out = {}
    for p in pods:
        out.setdefault(p["metadata"]["labels"].get("grove.io/podcliquesets-clique"),
                       []).append(p)
    return out


def pcs_line(w, ns, name):
    rc, out, err = w.k("get", "pcs", "-n", ns, name)
    return out


def check_status_running(w, ns, name, ready):
    """kubectl get pcs shows READY ready and STATUS Running."""
    what = "kubectl get pcs %s shows %s Running" % (name, ready)
    if not STATUS:
        R.xfail(what, STATUS_TODO)
        return

    def ok():
        line = pcs_line(w, ns, name)
        return ready in line and "Running" in line
    R.check(what, wait_for(ok, 15, 0.1), pcs_line(w, ns, name))


def wait_pods(w, ns, pcs, n, timeout=30, extra=None):
    def ok():
        pods = w.set_pods(ns, pcs)
        return pods if all_ready(pods, n) and (extra is None or extra(pods)) else None
    return wait_for(ok, timeout, 0.1)


# ---- scenarios ---------------------------------------------------------


def s1_reference(w):
    """1. The reference workload on one B200 and two H200 nodes."""
    if not w.apply_base(R, NS, "s1"):
        return
    off = w.sim.log_offset()
    t0 = time.monotonic()
    rc, out, err = w.sim.apply(os.path.join(ROOT, "examples", "vllm-disaggregated.yaml"))
    R.check("s1: kubectl apply of the reference workload (through groved's webhooks)",
            rc == 0, err)
    pods = wait_pods(w, NS, PCS, 4)
    if not R.check("s1: 4 pods bound and Ready (router, prefill, 2 decode)", pods):
        return
    # when the last pod turned Ready, as the watch saw it
    t_ready = max(next(t for t, typ, p in w.pods.history(NS, n) if pod_ready(p))
                  for n in names(pods))
    print("# s1: kubectl apply to all 4 pods bound and Ready: %.0f ms (kube-sim --time-scale %s,"
          " containers Ready %.0f ms after start)"
          % ((t_ready - t0) * 1000, TIME_SCALE, float(TIME_SCALE) * 1000))
    cl = by_clique(pods)
    R.check("s1: one router, one prefill, two decode pods",
            [len(cl.get(c, [])) for c in ("router-clique", "prefill-clique", "decode-clique")]
            == [1, 1, 2], names(pods))
    R.check("s1: prefill on the B200 node, decode on H200 nodes",
            all(p["spec"]["nodeName"].startswith("b200") for p in cl.get("prefill-clique", []))
            and all(p["spec"]["nodeName"].startswith("h200")
                    for p in cl.get("decode-clique", [])),
            [(p["metadata"]["name"], p["spec"]["nodeName"]) for p in pods])
    gangs = w.sim.items("pg", "-n", NS)
    refs = sorted(r["name"] for g in gangs for pg in g["spec"]["podgroups"]
                  for r in pg["podReferences"])
    R.check("s1: one PodGang (%s-0) listing every pod" % PCS,
            names(gangs) == [PCS + "-0"] and refs == names(pods),
            json.dumps([g["spec"] for g in gangs])[:800])
    R.check("s1: every pod names its gang (grove.io/podgang)",
            all(p["metadata"]["labels"].get("grove.io/podgang") == PCS + "-0" for p in pods))
    # bound together: no pod bound while one of the gang was still gated
    hist = {n: w.pods.history(NS, n) for n in names(pods)}
    last_lift = max(next(rv_of(p) for t, typ, p in h if not pod_gated(p, GATE))
                    for h in hist.values())
    first_bind = min(next(rv_of(p) for t, typ, p in h if p["spec"].get("nodeName"))
                     for h in hist.values())
    R.check("s1: the gang is bound together (no pod bound before every gate was lifted)",
            first_bind > last_lift, "first bind rv %d, last gate lifted rv %d"
            % (first_bind, last_lift))

    # startup order, by resourceVersion (exact order of the writes)
    def first_rv(clique, pred, agg):
        vals = [next(rv_of(p) for t, typ, p in hist[q["metadata"]["name"]] if pred(p))
                for q in cl.get(clique, [])]
        return agg(vals) if vals else 0
    router_ready = first_rv("router-clique", pod_ready, max)
    prefill_start = first_rv("prefill-clique", pod_started, min)
    prefill_ready = first_rv("prefill-clique", pod_ready, max)
    decode_start = first_rv("decode-clique", pod_started, min)
    R.check("s1: router Ready (rv %d) before any prefill container starts (rv %d)"
            % (router_ready, prefill_start), 0 < router_ready < prefill_start)
    R.check("s1: prefill Ready (rv %d) before any decode container starts (rv %d)"
            % (prefill_ready, decode_start), 0 < prefill_ready < decode_start)
    sel = "grove.io/podcliquesets=%s,grove.io/podcliquesets-clique=router-clique" % PCS
    svc = w.sim.kget("service", "-n", NS, PCS) or {}
    R.check("s1: the guide's router Service selects the router pod, and only it",
            svc.get("spec", {}).get("selector") and
            names(w.sim.items("pods", "-n", NS, "-l", ",".join(
                "%s=%s" % kv for kv in svc["spec"]["selector"].items())))
            == names(cl.get("router-clique", [])) and
            names(w.sim.items("pods", "-n", NS, "-l", sel)) == names(cl.get("router-clique", [])))
    claims = w.sim.items("resourceclaims", "-n", NS)
    R.check("s1: kubectl get resourceclaims: 3 claims, every one allocated and reserved",
            len(claims) == 3 and all(c.get("status", {}).get("allocation")
                                     and c["status"].get("reservedFor") for c in claims),
            json.dumps([(c["metadata"]["name"], c.get("status")) for c in claims])[:800])
    lat, early = gate_latencies(w, NS, t0)
    R.check("s1: no gate lifted before its gang listed the pod", not early, "\n".join(early))
    print_latency("s1 (one gang)", lat)
    R.check("s1: every gate lifted within 1 s of its condition (%d pods)" % len(lat),
            len(lat) == 4 and max(lat.values()) < 1.0, json.dumps(lat))
    check_status_running(w, NS, PCS, "4/4")
    ok, failed = print_writes("s1 (apply to Ready)", w.sim.requests(off))
    minimum = 14 + 4   # 4 credentials, Service, gang, group, 3 cliques, 4 pods; 4 gates
    status = sum(v for k, v in ok.items() if k.endswith("/status"))
    events = ok.get("POST events", 0)
    # less kubectl's create of the set
    other = sum(ok.values()) - status - events - 1
    print("# s1: groved's writes: %d creates and gate removals for a minimum of %d (%.2fx),"
          " %d status writes, %d Events" % (other, minimum, other / minimum, status, events))
    R.check("s1: each object created once (one successful POST per kind and name)",
            all(ok.get("POST " + r, 0) == n for r, n in (
                ("pods", 4), ("podcliques", 3), ("podcliquescalinggroups", 1),
                ("podgangs", 1), ("serviceaccounts", 1), ("secrets", 1), ("roles", 1),
                ("rolebindings", 1))), json.dumps(ok))
    if STATUS:
        s1_claim_template_gone(w)


def s1_claim_template_gone(w):
    """A claim template the set names deleted (as another operator may do
    it, or before it creates it): the set says which and why, with an
    Event; back, the condition turns True."""
    def claims_cond():
        st = (w.sim.items("pcs", "-n", NS) or [{}])[0].get("status") or {}
        return next((c for c in st.get("conditions") or []
                     if c.get("type") == "ResourceClaimTemplatesFound"), None)
    rc, out, err = w.sim.kubectl("delete", "resourceclaimtemplate", "-n", NS,
                                 "h200-decode-claim")
    R.check("s1: kubectl delete resourceclaimtemplate h200-decode-claim", rc == 0, err)
    c = wait_for(lambda: (claims_cond() or {}).get("status") == "False" and claims_cond(),
                 15, 0.2)
    R.check("s1: the set says ResourceClaimTemplatesFound False, naming it",
            c and c.get("reason") == "ResourceClaimTemplateNotFound" and
            "h200-decode-claim" in c.get("message", ""), json.dumps(c))
    evs = w.sim.items("events", "-n", NS)
    R.check("s1: and a Warning Event ResourceClaimTemplateNotFound",
            any(e.get("reason") == "ResourceClaimTemplateNotFound" for e in evs),
            json.dumps([e.get("reason") for e in evs]))
    rc, out, err = w.sim.apply(os.path.join(ROOT, "examples", "claim-templates.yaml"))
    c = wait_for(lambda: (claims_cond() or {}).get("status") == "True" and claims_cond(),
                 15, 0.2)
    R.check("s1: back, ResourceClaimTemplatesFound True", c, json.dumps(claims_cond()))


def s2_scale(w):
    """2. kubectl scale pcs 2, 4, 1."""
    before = uids(w.set_pods(NS, PCS))
    pcsg = "%s-0-prefill-decode-ratio" % PCS
    for n in (2, 4, 1):
        t0 = time.monotonic()
        off = w.sim.log_offset()
        rc, out, err = w.k("scale", "pcs", "-n", NS, PCS, "--replicas=%d" % n)
        R.check("s2: kubectl scale pcs --replicas=%d" % n, rc == 0, err)
        pods = wait_pods(w, NS, PCS, 1 + 3 * n, 45)
        if not R.check("s2: at %d: %d pods bound and Ready, no other" % (n, 1 + 3 * n), pods,
                       names(w.set_pods(NS, PCS))):
            return
        cl = by_clique(pods)
        R.check("s2: at %d: prefill/decode %d/%d, router 1" % (n, n, 2 * n),
                [len(cl.get(c, [])) for c in ("prefill-clique", "decode-clique",
                                               "router-clique")] == [n, 2 * n, 1])
        group = w.sim.kget("pcsg", "-n", NS, pcsg) or {}
        R.check("s2: at %d: the group has spec.replicas %d" % (n, n),
                group.get("spec", {}).get("replicas") == n, json.dumps(group.get("spec")))
        units = sorted({int(p["metadata"]["labels"]["grove.io/podcliquescalinggroup-replica-index"])
                        for p in pods if "grove.io/podcliquescalinggroup" in
                        p["metadata"]["labels"]})
        R.check("s2: at %d: units 0..%d" % (n, n - 1), units == list(range(n)), units)
        want_gangs = [PCS + "-0"] + ["%s-%d" % (pcsg, u - 1) for u in range(1, n)]
        gangs = w.sim.items("pg", "-n", NS)
        wrong = [p["metadata"]["name"] for p in pods
                 if p["metadata"]["labels"].get("grove.io/podgang") != (
                     want_gangs[int(p["metadata"]["labels"].get(
                         "grove.io/podcliquescalinggroup-replica-index", 0))])]
        R.check("s2: at %d: each added unit its own gang (%s)" % (n, ", ".join(want_gangs)),
                sorted(names(gangs)) == sorted(want_gangs) and not wrong,
                "gangs %s; pods in the wrong gang %s" % (names(gangs), wrong))
        lat, early = gate_latencies(w, NS, t0)
        R.check("s2: at %d: no gate lifted before its gang and the base gang allowed it" % n,
                not early, "\n".join(early))
        if lat:
            print_latency("s2, scaled to %d (scaled gangs)" % n, lat)
            R.check("s2: at %d: every gate lifted within 1 s of its condition" % n,
                    max(lat.values()) < 1.0, json.dumps(lat))
        print_writes("s2, scale to %d" % n, w.sim.requests(off))
    after = uids(w.set_pods(NS, PCS))
    R.check("s2: scale-in removed the highest units: unit 0 and the router are the pods"
            " of before, untouched", after == before,
            "before %s\nafter %s" % (before, after))


def s4_refused(w):
    """4. A bad spec refused, nothing created; a gang that can never fit."""
    bad = os.path.join(ROOT, "examples", "invalid", "startup-cycle.yaml")
    rc, out, err = w.k("create", "--validate=false", "-f", bad)
    R.check("s4: a startsAfter cycle is refused by groved's webhook",
            rc != 0 and "startsAfter cycle" in err, err)
    big = yaml.safe_load(open(os.path.join(ROOT, "examples", "vllm-disaggregated.yaml")))
    big["metadata"]["name"] = "too-big"
    for c in big["spec"]["podCliques"]:
        if c["name"] == "decode-clique":
            c["replicas"] = 20   # 20 H200 GPUs; the cluster has 16
    big["spec"]["scalingGroups"][0]["replicas"] = [1, 20]
    rc, out, err = w.sim.apply(big)
    R.check("s4: a set whose gang can never fit (20 decode pods, 16 H200 GPUs) is accepted",
            rc == 0, err)

    def unschedulable():
        pods = w.set_pods(NS, "too-big")
        return pods if len(pods) == 22 and any(
            c.get("type") == "PodScheduled" and c.get("reason") == "Unschedulable"
            for p in pods for c in p.get("status", {}).get("conditions") or []) else None
    pods = wait_for(unschedulable, 30, 0.1)
    R.check("s4: its 22 pods exist and the scheduler says Unschedulable", pods,
            "%d pods" % len(w.set_pods(NS, "too-big")))
    pods = w.set_pods(NS, "too-big")
    R.check("s4: nothing half-started: no pod of it bound",
            pods and not any(p["spec"].get("nodeName") for p in pods))
    claims = [c for c in w.sim.items("resourceclaims", "-n", NS)
              if c["metadata"]["name"].startswith("too-big-")]
    R.check("s4: no claim of it allocated", not any(c.get("status", {}).get("allocation")
                                                    for c in claims))
    if STATUS:
        def cond():
            s = w.sim.kget("pcs", "-n", NS, "too-big") or {}
            text = json.dumps(s.get("status", {}).get("conditions", []))
            return "schedul" in text.lower() and "Running" not in pcs_line(w, NS, "too-big")
        R.check("s4: the set is not Running and its conditions give the reason",
                wait_for(cond, 15, 0.2),
                json.dumps((w.sim.kget("pcs", "-n", NS, "too-big") or {}).get("status")))
    else:
        R.xfail("s4: the set stays Pending with the reason in its conditions", STATUS_TODO)
    rc, out, err = w.k("delete", "pcs", "-n", NS, "too-big", "--wait=false")
    R.check("s4: the set that cannot fit is deleted, its pods go",
            rc == 0 and wait_for(lambda: not w.set_pods(NS, "too-big"), 30, 0.1), err)


def decode_pods(w):
    return sorted(by_clique(w.set_pods(NS, PCS)).get("decode-clique", []),
                  key=lambda p: p["metadata"]["name"])


def s3_kill_pod(w):
    """3a. A killed decode pod is replaced on its index."""
    victim = decode_pods(w)[-1]
    name, uid = victim["metadata"]["name"], victim["metadata"]["uid"]
    index = victim["metadata"]["labels"]["grove.io/podclique-pod-index"]
    rc, out, err = w.k("delete", "pod", "-n", NS, name, "--wait=false")
    R.check("s3: kubectl delete pod %s" % name, rc == 0, err)

    def replaced():
        p = w.sim.kget("pod", "-n", NS, name)
        return p if p and p["metadata"]["uid"] != uid and pod_ready(p) else None
    p = wait_for(replaced, 30, 0.1)
    R.check("s3: the decode pod is replaced on the same index (same name, pod-index %s),"
            " bound and Ready" % index,
            p and p["metadata"]["labels"]["grove.io/podclique-pod-index"] == index)
    R.check("s3: the set is back to 4 Ready pods", wait_pods(w, NS, PCS, 4, 20))


def s8_unreachable(w):
    """8. A node becomes unreachable under decode pods."""
    before = uids(w.set_pods(NS, PCS))
    node = decode_pods(w)[0]["spec"]["nodeName"]
    on_node = [p["metadata"]["name"] for p in w.set_pods(NS, PCS)
               if p["spec"].get("nodeName") == node]
    w.sim.admin("/__sim/node-unreachable?name=%s" % node)
    # the taint manager's eviction of the node's pods
    rc, out, err = w.k("delete", "pod", "-n", NS, "--wait=false", *on_node)
    R.check("s8: %s unreachable, its pods %s deleted (as the taint manager evicts them)"
            % (node, ", ".join(on_node)), rc == 0, err)

    def replaced():
        pods = w.set_pods(NS, PCS)
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        stuck = [p for p in pods if p["metadata"]["name"] in on_node]
        repl = [p for p in live if p["metadata"]["name"] not in before]
        if len(live) == 4 and all(pod_ready(p) for p in live) and len(repl) == len(on_node) \
                and len(stuck) == len(on_node):
            return stuck, repl
        return None
    got = wait_for(replaced, 40, 0.1)
    if not R.check("s8: the deleted pods stay Terminating; their replacements run, Ready",
                   got, names(w.set_pods(NS, PCS))):
        return
    stuck, repl = got
    R.check("s8: the stuck pods are still there, Terminating",
            all(p["metadata"].get("deletionTimestamp") for p in stuck))
    want = sorted("%s-1" % n for n in on_node)
    R.check("s8: replacements under the suffixed names %s, same hostname and index" % want,
            names(repl) == want and all(
                p["spec"].get("hostname") == p["metadata"]["name"][:-2]
                and p["metadata"]["labels"]["grove.io/podclique-pod-index"]
                == p["metadata"]["name"][:-2].rsplit("-", 1)[1] for p in repl),
            json.dumps([(p["metadata"]["name"], p["spec"].get("hostname")) for p in repl]))
    R.check("s8: the replacements run on another node",
            all(p["spec"]["nodeName"] != node for p in repl))
    check_status_running(w, NS, PCS, "4/4")
    keep = uids([p for p in w.set_pods(NS, PCS) if not p["metadata"].get("deletionTimestamp")])
    w.sim.admin("/__sim/node-delete?name=%s" % node)
    gone = wait_for(lambda: not any(p["metadata"]["name"] in on_node
                                    for p in w.set_pods(NS, PCS)), 30, 0.1)
    R.check("s8: the node deleted, the stuck pods go", gone)
    R.check("s8: and nothing else changes (the same pods, Ready)",
            wait_pods(w, NS, PCS, 4, 5) and uids(w.set_pods(NS, PCS)) == keep)
    return node


def node_objects(w, name):
    node = w.sim.kget("node", name)
    slices = [s for s in w.sim.items("resourceslices")
              if s["spec"].get("nodeName") == name]
    return node, slices


def s3_node_loss(w):
    """3b. Delete an H200 node with no spare: the rest keep serving;
    recovery when a node returns."""
    h200 = [n for n in names(w.sim.items("nodes")) if n.startswith("h200")]
    if not R.check("s3: one H200 node left after s8 (%s): no spare" % h200, len(h200) == 1):
        return
    node = h200[0]
    saved_node, saved_slices = node_objects(w, node)
    others = uids([p for p in w.set_pods(NS, PCS)
                   if p["spec"].get("nodeName") != node])
    w.sim.admin("/__sim/node-delete?name=%s" % node)

    def degraded():
        pods = w.set_pods(NS, PCS)
        dec = by_clique(pods).get("decode-clique", [])
        return pods if len(dec) == 2 and all(not p["spec"].get("nodeName") and
                                             not p["metadata"].get("deletionTimestamp")
                                             for p in dec) else None
    pods = wait_for(degraded, 30, 0.1)
    R.check("s3: %s deleted: the decode pods are replaced and wait unscheduled" % node, pods,
            names(w.set_pods(NS, PCS)))
    R.check("s3: the rest keep serving: router and prefill pods untouched and Ready",
            pods and all(pod_ready(p) and uids([p]) == {p["metadata"]["name"]:
                                                          others.get(p["metadata"]["name"])}
                         for p in pods if p["metadata"]["name"] in others)
            and len([p for p in pods if p["metadata"]["name"] in others]) == 2)
    if STATUS:
        R.check("s3: the set says Degraded", wait_for(
            lambda: "Degraded" in json.dumps((w.sim.kget("pcs", "-n", NS, PCS) or {})
                                             .get("status")), 15, 0.2))
    else:
        R.xfail("s3: the set says Degraded", STATUS_TODO)
    # the node comes back: its kubelet registers it, the driver publishes
    # its GPUs again
    for k in ("resourceVersion", "uid", "creationTimestamp"):
        saved_node["metadata"].pop(k, None)
    status = saved_node.pop("status", {})
    rc, out, err = w.sim.apply(saved_node)
    created = w.sim.kget("node", node) or {"metadata": {}}
    # what its kubelet posts: capacity, allocatable, addresses, nodeInfo
    code, got = w.sim.request("PATCH", "/api/v1/nodes/%s/status" % node, {"status": {
        k: status[k] for k in ("capacity", "allocatable", "addresses", "nodeInfo")
        if k in status}}, ctype="application/merge-patch+json")
    ok = rc == 0 and code == 200
    err += "" if code == 200 else json.dumps(got)
    for s in saved_slices:
        s["metadata"] = {"name": s["metadata"]["name"],
                         "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node,
                                              "uid": created["metadata"].get("uid")}]}
        r2 = w.sim.apply(s)
        ok = ok and r2[0] == 0
        err += r2[2]
    R.check("s3: %s returns (Node and its ResourceSlice through the API)" % node, ok, err)
    R.check("s3: recovered: 4 pods bound and Ready", wait_pods(w, NS, PCS, 4, 40))
    check_status_running(w, NS, PCS, "4/4")


def s7_delete(w, ns, pcs):
    """7. Deleting the set removes everything it owned."""
    s = w.sim.kget("pcs", "-n", ns, pcs)
    uid = s["metadata"]["uid"] if s else None
    owned = {}
    kinds = ("pclq", "pcsg", "pg", "pods", "services", "serviceaccounts", "secrets", "roles",
             "rolebindings", "resourceclaims")
    for k in kinds:
        owned[k] = [o["metadata"]["name"] for o in w.sim.items(k, "-n", ns)
                    if o["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") == pcs
                    or (k in ("pods", "resourceclaims")
                        and o["metadata"]["name"].startswith(pcs + "-"))
                    or any(r.get("uid") == uid for r in o["metadata"].get("ownerReferences", []))]
    rc, out, err = w.k("delete", "pcs", "-n", ns, pcs, "--wait=false")
    R.check("s7: kubectl delete pcs %s" % pcs, rc == 0, err)

    def left():
        out = {}
        for k in kinds:
            have = set(names(w.sim.items(k, "-n", ns)))
            rest = sorted(have & set(owned[k]))
            if rest:
                out[k] = rest
        return out
    gone = wait_for(lambda: not left(), 30, 0.1)
    detail = ""
    if not gone:
        # who owns what is left, and since when (the set was uid %s)
        detail = json.dumps({k: [(o["metadata"]["name"], o["metadata"].get("resourceVersion"),
                                  o["metadata"].get("ownerReferences"))
                                 for o in w.sim.items(k, "-n", ns) if o["metadata"]["name"] in v]
                             for k, v in left().items()})
    R.check("s7: everything it owned is gone (%d objects; set uid %s)"
            % (sum(map(len, owned.values())), uid), gone, detail)


def s9_zero(w):
    """9. A template-form set to 0 and back to 1."""
    ns = "zero"
    rc, out, err = w.sim.apply({"apiVersion": "v1", "kind": "Namespace",
                                "metadata": {"name": ns}})
    sample = yaml.safe_load(open(os.path.join(
        ROOT, "tests", "fixtures", "upstream-samples", "simple", "simple1.yaml")))
    sample["metadata"]["namespace"] = ns
    name = sample["metadata"]["name"]
    rc, out, err = w.sim.apply(sample)
    R.check("s9: a template-form set (upstream simple1) applied", rc == 0, err)
    n_pods = sum(c["spec"]["replicas"] for c in sample["spec"]["template"]["cliques"]) * \
        sample["spec"].get("replicas", 1)
    R.check("s9: its %d pods Ready" % n_pods, wait_pods(w, ns, name, n_pods, 30))
    per_replica = ("pclq", "pcsg", "pg", "pods")
    children = {k: names(w.sim.items(k, "-n", ns)) for k in per_replica}
    creds = {k: names(w.sim.items(k, "-n", ns)) for k in ("serviceaccounts", "secrets",
                                                          "roles", "rolebindings")}
    rc, out, err = w.k("scale", "pcs", "-n", ns, name, "--replicas=0")
    R.check("s9: kubectl scale pcs --replicas=0", rc == 0, err)

    def empty():
        return all(not w.sim.items(k, "-n", ns) for k in per_replica)
    R.check("s9: at 0 every per-replica child goes (%s)" % ", ".join(
        "%d %s" % (len(v), k) for k, v in children.items()), wait_for(empty, 30, 0.1),
        json.dumps({k: names(w.sim.items(k, "-n", ns)) for k in per_replica}))
    R.check("s9: the set's credentials stay",
            {k: names(w.sim.items(k, "-n", ns)) for k in creds} == creds)
    rc, out, err = w.k("scale", "pcs", "-n", ns, name, "--replicas=1")
    R.check("s9: kubectl scale pcs --replicas=1", rc == 0, err)
    R.check("s9: back at 1: pods Ready", wait_pods(w, ns, name, n_pods, 30))
    R.check("s9: every child back under the same name",
            {k: names(w.sim.items(k, "-n", ns)) for k in per_replica} == children,
            json.dumps({k: names(w.sim.items(k, "-n", ns)) for k in per_replica}))
    s7_delete(w, ns, name)


def s10_dynamo(w):
    """10. A Dynamo-shaped set."""
    ns = "dynamo"
    docs = [d for d in yaml.safe_load_all(open(os.path.join(
        ROOT, "tests", "golden", "plan-dynamo", "input.yaml"))) if d]
    rc, out, err = w.sim.apply({"apiVersion": "v1", "kind": "Namespace",
                                "metadata": {"name": ns}})
    rc2, out, err2 = w.sim.apply({"apiVersion": "v1", "kind": "ServiceAccount",
                                  "metadata": {"name": "llm-workload", "namespace": ns}})
    R.check("s10: namespace and the workload's ServiceAccount", rc == 0 and rc2 == 0, err + err2)
    for d in docs:
        rc, out, err = w.sim.apply(d)
        R.check("s10: apply %s %s" % (d["kind"], d["metadata"]["name"]), rc == 0, err)
    pcs = next(d for d in docs if d["kind"] == "PodCliqueSet")
    name = pcs["metadata"]["name"]
    n_pods = 1 + pcs["spec"]["template"]["podCliqueScalingGroups"][0]["replicas"] * 4
    pods = wait_pods(w, ns, name, n_pods, 45)
    if not R.check("s10: its %d pods bound and Ready (the workers after their leader:"
                   " grove-initc ran)" % n_pods, pods, names(w.set_pods(ns, name))):
        return
    R.check("s10: every pod carries the queue label kai.scheduler/queue=dynamo",
            all(p["metadata"]["labels"].get("kai.scheduler/queue") == "dynamo" for p in pods))
    R.check("s10: every pod runs as the workload's service account",
            all(p["spec"].get("serviceAccountName") == "llm-workload" for p in pods))
    initc = [p for p in pods if any(c["name"] == "grove-initc"
                                    for c in p["spec"].get("initContainers") or [])]
    token = "%s-ic-sat" % name
    R.check("s10: grove-initc mounts the set's token Secret %s and exited 0 under RBAC"
            % token, initc and all(
                any((v.get("secret") or {}).get("secretName") == token
                    for v in p["spec"].get("volumes") or [])
                and any(s["name"] == "grove-initc" and
                        (s.get("state") or {}).get("terminated", {}).get("exitCode") == 0
                        for s in p["status"].get("initContainerStatuses") or [])
                for p in initc), "%d pods with grove-initc" % len(initc))
    try:
        log = w.sim.admin("/__sim/pod-log?namespace=%s&name=%s&container=grove-initc"
                          % (ns, initc[0]["metadata"]["name"]), "GET") if initc else ""
    except RuntimeError as e:
        log = str(e)
    R.check("s10: grove-initc's log shows no authentication or RBAC refusal",
            initc and "forbidden" not in str(log) and "Unauthorized" not in str(log), log)
    gangs = w.sim.items("pg", "-n", ns)
    R.check("s10: every gang (%d) carries grove.io/topology-name: dc-topology" % len(gangs),
            gangs and all(g["metadata"].get("annotations", {}).get("grove.io/topology-name")
                          == "dc-topology" for g in gangs),
            json.dumps([(g["metadata"]["name"], g["metadata"].get("annotations"))
                        for g in gangs]))
    binding = next(d for d in docs if d["kind"] == "ClusterTopologyBinding")
    want_levels = [{"nodeLabel": lv["key"]} for lv in binding["spec"]["levels"]]

    def kai_topology():
        code, t = w.sim.request("GET", "/apis/kai.scheduler/v1alpha1/topologies/%s"
                                % binding["metadata"]["name"])
        if code != 200 or not isinstance(t, dict):
            return None
        return t if (t.get("spec") or {}).get("levels") == want_levels else None
    topo = wait_for(kai_topology, 15, 0.2)
    R.check("s10: a KAI Topology %s with the binding's node label keys, broadest first"
            % binding["metadata"]["name"], topo, json.dumps(want_levels))
    R.check("s10: owned by its ClusterTopologyBinding (deleted with it)",
            topo and [(r.get("kind"), r.get("name")) for r in
                      topo["metadata"].get("ownerReferences") or []] ==
            [("ClusterTopologyBinding", binding["metadata"]["name"])],
            json.dumps(topo and topo["metadata"].get("ownerReferences")))
    if STATUS:
        def levels_available():
            st = (w.sim.items("pcs", "-n", ns) or [{}])[0].get("status") or {}
            return any(c.get("type") == "TopologyLevelsUnavailable" and
                       c.get("status") == "False" for c in st.get("conditions") or [])
        R.check("s10: the set's TopologyLevelsUnavailable is False (KAI serves Topology)",
                wait_for(levels_available, 15, 0.2))
    what = "s10: status.observedGeneration and updatedReplicas on every PodClique and group"
    if STATUS:
        def set_everywhere():
            objs = w.sim.items("pclq", "-n", ns) + w.sim.items("pcsg", "-n", ns)
            return objs and all("observedGeneration" in o.get("status", {}) and
                                "updatedReplicas" in o.get("status", {}) for o in objs)
        R.check(what, wait_for(set_everywhere, 15, 0.2))
    else:
        R.xfail(what, STATUS_TODO)
    s7_delete(w, ns, name)


def s11_breach(w):
    """11. Template form: a clique below minAvailable longer than
    terminationDelay has its set replica recreated, once per breach."""
    ns = "breach"
    rc, out, err = w.sim.apply({"apiVersion": "v1", "kind": "Namespace",
                                "metadata": {"name": ns}})
    pcs = {"apiVersion": "grove.io/v1alpha1", "kind": "PodCliqueSet",
           "metadata": {"name": "brk", "namespace": ns},
           "spec": {"replicas": 1, "template": {
               "terminationDelay": "2s",
               "cliques": [{"name": "main",
                            # kube-sim's kubelet never makes these Ready
                            "annotations": {"sim.grove.io/never-ready": "true"},
                            "spec": {"replicas": 2, "minAvailable": 2,
                                     "podSpec": {"containers": [
                                         {"name": "m", "image": "busybox"}]}}}]}}}
    rc, out, err = w.sim.apply(pcs)
    if not R.check("s11: a set whose pods never turn Ready (terminationDelay 2s)",
                   rc == 0, err):
        return

    def pods_running():
        ps = w.set_pods(ns, "brk")
        return len(ps) == 2 and all((p.get("status") or {}).get("phase") == "Running"
                                    for p in ps) and ps
    first = wait_for(pods_running, 30, 0.2)
    R.check("s11: its 2 pods run, not Ready", first, names(w.set_pods(ns, "brk")))
    if not first:
        return
    uids = {p["metadata"]["uid"] for p in first}

    def recreated_event():
        return [e for e in w.sim.items("events", "-n", ns)
                if e.get("reason") == "ReplicaRecreated"]
    evs = wait_for(recreated_event, 30, 0.2)
    R.check("s11: after terminationDelay the set replica is recreated (Event ReplicaRecreated)",
            evs, json.dumps([e.get("reason") for e in w.sim.items("events", "-n", ns)]))
    again = wait_for(lambda: (lambda ps: len(ps) == 2 and not uids & {
        p["metadata"]["uid"] for p in ps} and ps)(
            [p for p in w.set_pods(ns, "brk") if not p["metadata"].get("deletionTimestamp")]),
        30, 0.2)
    R.check("s11: its pods are new ones (other uids), under the same names",
            again and sorted(names(again)) == sorted(names(first)), names(again or []))
    pclq = (w.sim.items("pclq", "-n", ns) or [{}])[0]
    R.check("s11: the PodClique is marked with the breach it was recreated for",
            (pclq.get("metadata", {}).get("annotations") or {}).get(
                "grove.io/breach-recreated"),
            json.dumps(pclq.get("metadata", {}).get("annotations")))
    R.check("s11: and it keeps its count", pclq.get("spec", {}).get("replicas") == 2)
    s7_delete(w, ns, "brk")


def s6_samples(w):
    """6. Every upstream sample reaches Ready pods."""
    d = os.path.join(ROOT, "tests", "fixtures", "upstream-samples")
    files = sorted(os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs
                   if f.endswith(".yaml"))
    for i, f in enumerate(files):
        rel = os.path.relpath(f, d)
        docs = [x for x in yaml.safe_load_all(open(f)) if x]
        sets = [x for x in docs if x.get("kind") == "PodCliqueSet"]
        ns = "sample-%d" % i
        w.sim.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        ok = True
        for x in docs:
            x.setdefault("metadata", {})["namespace"] = ns
            rc, out, err = w.sim.apply(x)
            ok = ok and rc == 0
        if not R.check("s6: %s applied" % rel, ok, err):
            continue
        for s in sets:
            name = s["metadata"]["name"]
            want = planned_pods(s)
            pods = wait_pods(w, ns, name, want, 30)
            R.check("s6: %s: %s's %d pods bound and Ready" % (rel, name, want), pods,
                    names(w.set_pods(ns, name)))
            if STATUS:
                check_status_running(w, ns, name, "")
        for s in sets:
            w.k("delete", "pcs", "-n", ns, s["metadata"]["name"], "--wait=false")
    if not STATUS:
        R.xfail("s6: every sample's set Running", STATUS_TODO)


def planned_pods(pcs):
    """How many pods the worker plans for a set (groved plan -o json)."""
    r = subprocess.run([GROVED, "plan", "-f", "-", "-o", "json"], input=json.dumps(pcs),
                       capture_output=True, text=True, timeout=30)
    try:
        objs = json.loads(r.stdout)
    except ValueError:
        return -1
    if isinstance(objs, dict):
        objs = objs.get("items", objs.get("objects", []))
    return sum(1 for o in objs if isinstance(o, dict) and o.get("kind") == "Pod")


def s5_leader(tmp):
    """5. kill -9 of the leader during creation and during scaling."""
    w = World(tmp, "leader", workers=2, leader_elect=True)
    R.on_failure = lambda name: w.dump(NS)
    try:
        for doc in ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
                    os.path.join(ROOT, "examples", "claim-templates.yaml")):
            w.sim.apply(doc)
        leader = w.leader
        first = wait_for(leader, 30, 0.1)
        if not R.check("s5: one of two replicas leads", first):
            return
        rc, out, err = w.sim.apply(os.path.join(ROOT, "examples", "vllm-disaggregated.yaml"))
        # the leader dies mid-creation: as soon as a PodClique exists
        wait_for(lambda: w.sim.list("pclq", NS), 10, 0.01)
        made = {k: uids(w.sim.list(k, NS)) for k in ("pclq", "pcsg", "pg", "pods")}
        first.kill()
        print("# s5: killed leader %s with %s made" % (
            first.name, ", ".join("%d %s" % (len(v), k) for k, v in made.items())))
        t0 = time.monotonic()
        second = wait_for(lambda: leader() if leader() is not first else None, 40, 0.2)
        R.check("s5: the other replica takes over (%.1f s)" % (time.monotonic() - t0),
                second and second is not first)
        pods = wait_pods(w, NS, PCS, 4, 40)
        R.check("s5: the new leader finishes the set: 4 pods Ready", pods)
        now = {k: uids(w.sim.list(k, NS)) for k in made}
        R.check("s5: nothing made before the kill was recreated or lost",
                all(now[k].get(n) == u for k in made for n, u in made[k].items()),
                json.dumps({"before": made, "after": now}))
        ok, failed = writes_by_verb(w.sim.requests())
        R.check("s5: no duplicate: one successful create per pod",
                ok.get("POST pods") == 4, json.dumps(ok))
        # the new leader dies mid-scaling; the first comes back as a replica
        w.groveds.remove(first)
        third = w.start_groved("w2", ["--leader-elect"])
        rc, out, err = w.k("scale", "pcs", "-n", NS, PCS, "--replicas=3")
        R.check("s5: kubectl scale pcs --replicas=3", rc == 0, err)
        wait_for(lambda: len(w.sim.list("pclq", NS)) > 3, 10, 0.01)
        made = {k: uids(w.sim.list(k, NS)) for k in ("pclq", "pcsg", "pg", "pods")}
        second.kill()
        print("# s5: killed leader %s mid-scaling with %s made" % (
            second.name, ", ".join("%d %s" % (len(v), k) for k, v in made.items())))
        t0 = time.monotonic()
        got = wait_for(lambda: leader() if leader() is third else None, 40, 0.2)
        R.check("s5: the third replica takes over (%.1f s)" % (time.monotonic() - t0), got)
        pods = wait_pods(w, NS, PCS, 10, 40)
        R.check("s5: scaled to 3 by the new leader: 10 pods Ready", pods,
                names(w.set_pods(NS, PCS)))
        now = {k: uids(w.sim.list(k, NS)) for k in made}
        R.check("s5: nothing made before the kill was recreated or lost",
                all(now[k].get(n) == u for k in made for n, u in made[k].items()))
        s = w.sim.kget("pcs", "-n", NS, PCS) or {}
        g = w.sim.kget("pcsg", "-n", NS, "%s-0-prefill-decode-ratio" % PCS) or {}
        R.check("s5: the scaled count is not reset (set 3, group 3)",
                s.get("spec", {}).get("replicas") == 3 and g.get("spec", {}).get("replicas") == 3)
        ok, failed = print_writes("s5 (two kills)", w.sim.requests())
        R.check("s5: no duplicate: one successful create per pod (10)",
                ok.get("POST pods") == 10, json.dumps(ok))
    finally:
        R.on_failure = None
        w.close()


SCENARIOS = ("s1", "s2", "s4", "s3", "s8", "s9", "s10", "s6", "s5")


def want(s):
    return not ONLY or s in ONLY


def main():
    def scenarios(tmp):
        print("# statuses: %s" % ("written by the worker" if STATUS else STATUS_TODO))
        with World(tmp, "main") as w:
            R.on_failure = lambda name: w.dump(NS)
            steps = [("s1", s1_reference), ("s2", s2_scale), ("s4", s4_refused),
                     ("s3", s3_kill_pod), ("s8", s8_unreachable), ("s3", s3_node_loss),
                     ("s7", lambda w: s7_delete(w, NS, PCS))]
            for key, fn in steps:
                if want(key) or (ONLY and key == "s1"):
                    t = time.monotonic()
                    fn(w)
                    print("# %s: %.1f s" % (fn.__doc__.split("\n")[0] if fn.__doc__ else key,
                                            time.monotonic() - t))
            for key, fn, ns in (("s9", s9_zero, "zero"), ("s10", s10_dynamo, "dynamo"),
                                ("s11", s11_breach, "breach"),
                                ("s6", s6_samples, "default")):
                if want(key):
                    R.on_failure = lambda name, ns=ns: w.dump(ns)
                    t = time.monotonic()
                    fn(w)
                    print("# %s: %.1f s" % (fn.__doc__.split("\n")[0], time.monotonic() - t))
            R.on_failure = None
            m = w.hooks.metrics()
            counted = {k: int(v) for k, v in m.items()
                       if k.startswith(("groved_reconcile_api_writes_total",
                                        "groved_reconcile_gates_removed_total")) and v}
            if counted:
                print("# groved's own /metrics after scenarios %s: %s"
                      % (" ".join(k for k, _ in steps if want(k)), json.dumps(counted)))
            lifted = m.get("groved_reconcile_gates_removed_total", 0)
            count = m.get("groved_reconcile_gate_latency_seconds_count", -1)
            within = m.get('groved_reconcile_gate_latency_seconds_bucket{le="1"}', -1)
            # the 1 s bound is checked from the outside (the watches of s1
            # and s2); groved's own measure, from the event that woke a round,
            # also counts what waited for a busy round of the same set
            R.check("/metrics: the gate-latency histogram counts every gate lifted (%d)"
                    % lifted, lifted > 0 and count == lifted,
                    json.dumps({k: v for k, v in m.items() if "gate" in k}))
            print("# groved's gate latency: %d of %d within 1 s, %d within 100 ms"
                  % (within, count,
                     m.get('groved_reconcile_gate_latency_seconds_bucket{le="0.1"}', -1)))
        if want("s5"):
            t = time.monotonic()
            s5_leader(tmp)
            print("# 5. kill -9 of the leader: %.1f s" % (time.monotonic() - t))
    e2elib.run_scenarios(R, "gv-e2e-worker-", scenarios)


if __name__ == "__main__":
    main()
