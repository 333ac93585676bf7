#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Tests for kube-sim's scheduler (kubesim/scheduler.py, binding.py),
driven only through the HTTP API: each test starts its own kube-sim (the
CRDs of deploy/crds loaded, the kubelet off when kube-sim has one, so
that pods stay as the scheduler leaves them), creates Nodes (or loads
tests/fixtures/nodes/reference.yaml), PodGangs and pods by hand, and
polls, bounded, for what a cluster would show.

Usage: python3 tests/kube-sim/test_scheduler.py <repo-root> [test names...]
The last line printed is "N passed, N failed"; the exit status is
non-zero when anything failed.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

import yaml

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), "..", ".."))
SIM = os.path.join(ROOT, "tests", "kube-sim", "kube-sim")
CRDS = os.path.join(ROOT, "deploy", "crds")
NODES = os.path.join(ROOT, "tests", "fixtures", "nodes", "reference.yaml")
CLAIM_TEMPLATES = os.path.join(ROOT, "examples", "claim-templates.yaml")
NS = "default"
PODS = "/api/v1/namespaces/%s/pods" % NS
GANGS = "/apis/scheduler.grove.io/v1alpha1/namespaces/%s/podgangs" % NS
EVENTS = "/api/v1/namespaces/%s/events" % NS


def sim_help():
    out = subprocess.run([sys.executable, SIM, "--help"], capture_output=True, text=True,
                         timeout=30)
    return out.stdout


HELP = sim_help()


class Sim:
    def __init__(self, extra=()):
        self.tmp = tempfile.mkdtemp(prefix="kube-sim-sched-")
        crds = sorted(os.path.join(CRDS, f) for f in os.listdir(CRDS)
                      if f.endswith(".yaml") and f != "kustomization.yaml")
        cmd = [sys.executable, SIM, "--addr", "127.0.0.1:0", "--load"] + crds + list(extra)
        if "--no-kubelet" in HELP:
            cmd.append("--no-kubelet")
        self.log = open(os.path.join(self.tmp, "stderr"), "w+")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening "), "kube-sim did not start: %r" % line
        self.url = line.split()[1]

    def stop(self):
        self.proc.terminate()
        rc = self.proc.wait(10)
        self.log.seek(0)
        err = self.log.read()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return rc, err

    def req(self, method, path, body=None, ctype="application/json"):
        data = None if body is None else json.dumps(body).encode()
        r = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            r.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(r, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def ok(self, method, path, body=None, ctype="application/json", want=(200, 201)):
        code, obj = self.req(method, path, body, ctype)
        assert code in want, "%s %s -> %d %s" % (method, path, code, obj)
        return obj

    def get_pod(self, name):
        return self.ok("GET", "%s/%s" % (PODS, name))

    def sched(self):
        return self.ok("GET", "/__sim/scheduler")


def wait_for(fn, timeout=10.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))


# -- objects

def node(s, name, labels=None, taints=None, cpu="8", memory="32Gi", pods="110",
         ready="True", unschedulable=False):
    """A Node as a node agent would register it (the object, then its
    status through /status)."""
    body = {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": dict({"kubernetes.io/hostname": name},
                                                      **(labels or {}))},
            "spec": {}}
    if taints:
        body["spec"]["taints"] = taints
    if unschedulable:
        body["spec"]["unschedulable"] = True
    n = s.ok("POST", "/api/v1/nodes", body)
    alloc = {"cpu": cpu, "memory": memory, "pods": pods}
    n["status"] = {"capacity": alloc, "allocatable": alloc,
                   "conditions": [{"type": "Ready", "status": ready, "reason": "KubeletReady"}]}
    return s.ok("PUT", "/api/v1/nodes/%s/status" % name, n)


def pod(name, cpu="1", labels=None, gated=False, scheduler="kai-scheduler", **spec):
    p = {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": name, "namespace": NS, "labels": labels or {}},
         "spec": dict({"schedulerName": scheduler,
                       "containers": [{"name": "c", "image": "busybox",
                                       "resources": {"requests": {"cpu": cpu}}}]}, **spec)}
    if gated:
        p["spec"]["schedulingGates"] = [{"name": "grove.io/podgang-pending-creation"}]
    return p


def pack(required=None, preferred=None):
    pc = {}
    if required:
        pc["required"] = required
    if preferred:
        pc["preferred"] = preferred
    return {"packConstraint": pc}


def gang(name, groups, topology=None, configs=None):
    """groups: [(podgroup name, [pod names], minReplicas[, topologyConstraint])]."""
    pgs = []
    for g in groups:
        pg = {"name": g[0], "podReferences": [{"namespace": NS, "name": p} for p in g[1]],
              "minReplicas": g[2]}
        if len(g) > 3 and g[3]:
            pg["topologyConstraint"] = g[3]
        pgs.append(pg)
    spec = {"podgroups": pgs}
    if topology:
        spec["topologyConstraint"] = topology
    if configs:
        spec["topologyConstraintGroupConfigs"] = configs
    return {"apiVersion": "scheduler.grove.io/v1alpha1", "kind": "PodGang",
            "metadata": {"name": name, "namespace": NS}, "spec": spec}


def node_of(s, name):
    return (s.get_pod(name).get("spec") or {}).get("nodeName")


def cond(p, ctype="PodScheduled"):
    for c in (p.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def unschedulable(s, name):
    """The Unschedulable message of a pod, or None."""
    p = s.get_pod(name)
    c = cond(p)
    if c and c.get("status") == "False" and c.get("reason") == "Unschedulable":
        assert not p["spec"].get("nodeName"), p
        return c.get("message")
    return None


def all_bound(s, names):
    nodes = {n: node_of(s, n) for n in names}
    return nodes if all(nodes.values()) else None


def events_of(s, name):
    items = s.ok("GET", EVENTS)["items"]
    return [e for e in items if e["involvedObject"].get("name") == name]


def settle(s, loops=2, held=False):
    """Wait until the scheduler has gone round at least `loops` more times
    (cycles, or wake-ups spent held), so that what it does with the
    current state is done: the bounded way to check that something did
    NOT happen."""
    key = "heldLoops" if held else "cycles"
    start = s.sched()["schedulers"][0][key]
    wait_for(lambda: s.sched()["schedulers"][0][key] >= start + loops, 10,
             "%d scheduler %s" % (loops, key))


# -- tests

def t_binding_subresource(s):
    node(s, "n1")
    s.ok("POST", PODS, pod("plain", scheduler="other-scheduler"))
    b = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "plain"},
         "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"}}
    code, st = s.req("POST", PODS + "/plain/binding",
                     dict(b, metadata={"name": "other"}))
    assert code == 400 and "does not match" in st["message"], st
    code, st = s.req("POST", PODS + "/plain/binding", dict(b, target={"kind": "Pod",
                                                                      "name": "n1"}))
    assert code == 422 and st["reason"] == "Invalid" and "target.kind" in st["message"], st
    code, st = s.req("POST", PODS + "/plain/binding",
                     dict(b, metadata={"name": "plain", "uid": "not-the-uid"}))
    assert code == 409, st
    st = s.ok("POST", PODS + "/plain/binding", b, want=(201,))
    assert st["kind"] == "Status" and st["status"] == "Success", st
    p = s.get_pod("plain")
    assert p["spec"]["nodeName"] == "n1", p
    c = cond(p)
    assert c["status"] == "True" and c.get("lastTransitionTime"), p
    code, st = s.req("POST", PODS + "/plain/binding", dict(b, target={"name": "n2"}))
    assert code == 409 and st["reason"] == "Conflict" and \
        'pod plain is already assigned to node "n1"' in st["message"] and \
        st["message"].startswith('Operation cannot be fulfilled on pods/binding "plain"'), st
    s.ok("POST", PODS, pod("gated", scheduler="other-scheduler", gated=True))
    code, st = s.req("POST", PODS + "/gated/binding", dict(b, metadata={"name": "gated"}))
    assert code == 409 and "has non-empty .spec.schedulingGates" in st["message"], st
    code, st = s.req("POST", PODS + "/missing/binding", dict(b, metadata={"name": "missing"}))
    assert code == 404, st
    code, st = s.req("GET", PODS + "/plain/binding")
    assert code == 405, st
    res = s.ok("GET", "/api/v1")["resources"]
    assert any(r["name"] == "pods/binding" and r["verbs"] == ["create"] for r in res), res


def t_single_pods_and_resources(s):
    node(s, "small", cpu="2", pods="3")
    node(s, "big", cpu="4")
    s.ok("POST", PODS, pod("a", cpu="3"))
    got = wait_for(lambda: all_bound(s, ["a"]), what="a bound")
    s.ok("POST", PODS, pod("b", cpu="2"))
    s.ok("POST", PODS, pod("c", cpu="1500m"))
    s.ok("POST", PODS, pod("other", scheduler="default-scheduler"))
    got = wait_for(lambda: all_bound(s, ["a", "b"]), what="a and b bound")
    # first fit in node name order ("big" before "small")
    assert got == {"a": "big", "b": "small"}, got
    msg = wait_for(lambda: unschedulable(s, "c"), what="c unschedulable")
    assert msg.startswith("0/2 nodes are available: ") and "Insufficient cpu" in msg, msg
    evs = events_of(s, "c")
    assert any(e["reason"] == "FailedScheduling" and e["type"] == "Warning" and
               e["source"]["component"] == "kai-scheduler" and e["message"] == msg
               for e in evs), evs
    assert any(e["reason"] == "Scheduled" and "Successfully assigned default/a to" in
               e["message"] for e in events_of(s, "a"))
    # a pod of another scheduler is not ours
    settle(s)
    p = s.get_pod("other")
    assert not p["spec"].get("nodeName") and not cond(p), p
    # room made: the pending pod goes
    s.ok("DELETE", PODS + "/a")
    wait_for(lambda: node_of(s, "c"), what="c bound once a is gone")
    assert cond(s.get_pod("c"))["status"] == "True"


def t_node_selector_and_affinity(s):
    node(s, "n-a", labels={"pool": "a", "gen": "3"})
    node(s, "n-b", labels={"pool": "b", "gen": "5"})
    s.ok("POST", PODS, pod("sel", nodeSelector={"pool": "b"}))
    aff = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "gen", "operator": "Gt",
                                                     "values": ["4"]}]}]}}}
    s.ok("POST", PODS, pod("gt", affinity=aff))
    notin = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "pool", "operator": "NotIn",
                                                     "values": ["a"]}]}]}}}
    s.ok("POST", PODS, pod("notin", affinity=notin))
    fields = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In",
                                                "values": ["n-b"]}]}]}}}
    s.ok("POST", PODS, pod("field", affinity=fields))
    s.ok("POST", PODS, pod("nowhere", nodeSelector={"pool": "c"}))
    got = wait_for(lambda: all_bound(s, ["sel", "gt", "notin", "field"]), what="bound")
    assert set(got.values()) == {"n-b"}, got
    msg = wait_for(lambda: unschedulable(s, "nowhere"), what="nowhere unschedulable")
    assert msg == "0/2 nodes are available: 2 node(s) didn't match Pod's node " \
        "affinity/selector.", msg
    # a node that matches appears: the pending pod goes there
    node(s, "n-c", labels={"pool": "c"})
    assert wait_for(lambda: node_of(s, "nowhere"), what="nowhere bound") == "n-c"


def t_taints_and_tolerations(s):
    node(s, "t-gpu", taints=[{"key": "nvidia.com/gpu", "value": "present",
                              "effect": "NoSchedule"}])
    node(s, "t-evict", taints=[{"key": "maint", "effect": "NoExecute"}])
    node(s, "t-soft", taints=[{"key": "soft", "effect": "PreferNoSchedule"}], cpu="1")
    node(s, "t-cordoned", unschedulable=True)
    node(s, "t-notready", ready="False")
    s.ok("POST", PODS, pod("tol", tolerations=[{"key": "nvidia.com/gpu",
                                                "operator": "Exists",
                                                "effect": "NoSchedule"}]))
    s.ok("POST", PODS, pod("tol-exec", tolerations=[{"key": "maint", "operator": "Equal",
                                                     "value": "", "effect": "NoExecute"}]))
    s.ok("POST", PODS, pod("soft"))
    s.ok("POST", PODS, pod("none"))
    got = wait_for(lambda: all_bound(s, ["tol", "tol-exec", "soft"]), what="bound")
    assert got == {"tol": "t-evict", "tol-exec": "t-evict", "soft": "t-soft"} or (
        got["tol"] in ("t-gpu", "t-evict") and got["tol-exec"] == "t-evict" and
        got["soft"] == "t-soft"), got
    msg = wait_for(lambda: unschedulable(s, "none"), what="none unschedulable")
    for part in ("0/5 nodes are available: ", "1 Insufficient cpu",
                 "1 node(s) had untolerated taint {maint: }",
                 "1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }",
                 "1 node(s) had untolerated taint {nvidia.com/gpu: present}",
                 "1 node(s) were unschedulable"):
        assert part in msg, (part, msg)
    # uncordon: the pod goes there
    n = s.ok("GET", "/api/v1/nodes/t-cordoned")
    n["spec"]["unschedulable"] = False
    s.ok("PUT", "/api/v1/nodes/t-cordoned", n)
    assert wait_for(lambda: node_of(s, "none"), what="none bound") == "t-cordoned"


def t_gated_pods_untouched(s):
    node(s, "n1")
    g = s.ok("POST", PODS, pod("gated", gated=True))
    s.ok("POST", PODS, pod("sentinel"))
    wait_for(lambda: node_of(s, "sentinel"), what="sentinel bound")
    settle(s, 3)
    p = s.get_pod("gated")
    assert p["metadata"]["resourceVersion"] == g["metadata"]["resourceVersion"], p
    assert not p["spec"].get("nodeName") and not events_of(s, "gated"), p
    # the gate removed (as groved does, by a patch): scheduled
    s.ok("PATCH", PODS + "/gated", [{"op": "remove", "path": "/spec/schedulingGates"}],
         "application/json-patch+json")
    assert wait_for(lambda: node_of(s, "gated"), what="gated bound once ungated") == "n1"


def t_hold_scheduling(s):
    node(s, "n1")
    st = s.ok("POST", "/__sim/scheduler/hold")
    assert st["held"] is True, st
    s.ok("POST", PODS, pod("held"))
    wait_for(lambda: s.sched()["schedulers"][0]["pending"] == 1, what="the pod seen")
    settle(s, 2, held=True)
    assert not node_of(s, "held")
    st = s.ok("POST", "/__sim/scheduler/release")
    assert st["held"] is False, st
    assert wait_for(lambda: node_of(s, "held"), what="bound after release") == "n1"


def t_gang_all_or_nothing(s):
    # room for 3 pods of 1 cpu; the gang needs 2 + 2
    node(s, "n1", cpu="2")
    node(s, "n2", cpu="1")
    names = ["g-a-0", "g-a-1", "g-b-0", "g-b-1"]
    s.ok("POST", GANGS, gang("g", [("g-a", names[:2], 2), ("g-b", names[2:], 2)]))
    for n in names:
        s.ok("POST", PODS, pod(n, labels={"grove.io/podgang": "g"}))
    msgs = {n: wait_for(lambda: unschedulable(s, n), what="%s unschedulable" % n)
            for n in names}
    for n, m in msgs.items():
        assert m.startswith("PodGang default/g cannot be placed, none of its pods is bound: "
                            "podgroup g-b: 1 of minReplicas 2 placed; pod g-b-1: "), m
        assert "Insufficient cpu" in m, m
    assert not any(node_of(s, n) for n in names)
    settle(s)
    assert not any(node_of(s, n) for n in names)
    # one more node: the whole gang goes at once
    node(s, "n3", cpu="1")
    got = wait_for(lambda: all_bound(s, names), what="the gang bound")
    assert sorted(got.values()) == ["n1", "n1", "n2", "n3"], got


def t_gang_waits_for_its_pods(s):
    node(s, "n1")
    names = ["w-0", "w-1", "w-2"]
    s.ok("POST", GANGS, gang("w", [("w-x", names, 3)]))
    s.ok("POST", PODS, pod("w-0"))
    s.ok("POST", PODS, pod("w-1", gated=True))
    msg = wait_for(lambda: unschedulable(s, "w-0"), what="w-0 told why it waits")
    assert msg == ("PodGang default/w: waiting for the gang's pods: podgroup w-x has 1 of "
                   "minReplicas 3 pods ready to schedule (1 not created, 1 gated or waiting "
                   "for their claims)"), msg
    waiting = s.sched()["schedulers"][0]["waiting"]
    assert "default/w" in waiting, waiting
    p = s.get_pod("w-1")
    assert not cond(p) and not p["spec"].get("nodeName"), p
    s.ok("POST", PODS, pod("w-2"))
    s.ok("PATCH", PODS + "/w-1", [{"op": "remove", "path": "/spec/schedulingGates"}],
         "application/json-patch+json")
    wait_for(lambda: all_bound(s, names), what="the gang bound")


def t_scaled_gang_waits_for_base(s):
    node(s, "n1", labels={"role": "worker"})
    # the base gang's pod asks for a node that does not exist yet
    s.ok("POST", GANGS, gang("set-0", [("set-0-leader", ["set-0-leader-0"], 1)]))
    s.ok("POST", GANGS, gang("set-0-grp-0", [("set-0-grp-1-w", ["set-0-grp-1-w-0"], 1)]))
    s.ok("POST", PODS, pod("set-0-leader-0", nodeSelector={"role": "leader"},
                           labels={"grove.io/podgang": "set-0"}))
    s.ok("POST", PODS, pod("set-0-grp-1-w-0", labels={
        "grove.io/podgang": "set-0-grp-0", "grove.io/base-podgang": "set-0"}))
    msg = wait_for(lambda: unschedulable(s, "set-0-grp-1-w-0"), what="scaled pod waits")
    assert msg == "PodGang default/set-0-grp-0: waiting for base PodGang default/set-0 to " \
        "be scheduled", msg
    assert "didn't match Pod's node affinity/selector" in \
        wait_for(lambda: unschedulable(s, "set-0-leader-0"), what="base unschedulable")
    # the base fits once its node exists; then the scaled gang follows
    node(s, "n0", labels={"role": "leader"})
    got = wait_for(lambda: all_bound(s, ["set-0-leader-0", "set-0-grp-1-w-0"]), what="bound")
    assert got == {"set-0-leader-0": "n0", "set-0-grp-1-w-0": "n0"} or \
        got["set-0-leader-0"] == "n0", got
    p = s.get_pod("set-0-leader-0")
    b = s.get_pod("set-0-grp-1-w-0")
    assert cond(p)["lastTransitionTime"] <= cond(b)["lastTransitionTime"], (p, b)


def t_topology_pack_required(s):
    # rack-a: 1 free cpu; rack-b: 3 free cpus over two nodes
    node(s, "a1", labels={"rack": "rack-a"}, cpu="1")
    node(s, "b1", labels={"rack": "rack-b"}, cpu="2")
    node(s, "b2", labels={"rack": "rack-b"}, cpu="1")
    node(s, "x1", cpu="8")           # no rack label: never in a packed gang
    names = ["p-0", "p-1", "p-2"]
    s.ok("POST", GANGS, gang("p", [("p-w", names, 3)], topology=pack(required="rack")))
    for n in names:
        s.ok("POST", PODS, pod(n))
    got = wait_for(lambda: all_bound(s, names), what="the packed gang bound")
    assert sorted(got.values()) == ["b1", "b1", "b2"], got
    # a gang that fits in no single rack waits, with the reason
    names = ["q-0", "q-1"]
    s.ok("POST", GANGS, gang("q", [("q-w", names, 2)], topology=pack(required="rack")))
    for n in names:
        s.ok("POST", PODS, pod(n))
    msg = wait_for(lambda: unschedulable(s, "q-0"), what="q unschedulable")
    assert "podgroup q-w: 1 of minReplicas 2 placed (within rack=rack-a)" in msg, msg
    assert not any(node_of(s, n) for n in names)
    # a podgroup-level constraint and a group config, each within a rack
    node(s, "c1", labels={"rack": "rack-c", "zone": "z"}, cpu="2")
    node(s, "d1", labels={"rack": "rack-d", "zone": "z"}, cpu="2")
    s.ok("DELETE", GANGS + "/q")
    for n in names:
        s.ok("DELETE", PODS + "/" + n)
    names = ["r-x-0", "r-x-1", "r-y-0", "r-y-1"]
    s.ok("POST", GANGS, gang("r", [("r-x", names[:2], 2, pack(required="rack")),
                                   ("r-y", names[2:], 2)],
                             topology=pack(required="zone"),
                             configs=[{"name": "r-0", "podGroupNames": ["r-y"],
                                       "topologyConstraint": pack(required="rack")}]))
    for n in names:
        s.ok("POST", PODS, pod(n))
    got = wait_for(lambda: all_bound(s, names), what="r bound")
    assert got["r-x-0"] == got["r-x-1"] and got["r-y-0"] == got["r-y-1"], got
    assert {got["r-x-0"], got["r-y-0"]} == {"c1", "d1"}, got


def t_replacement_placed_alone(s):
    node(s, "n1", labels={"rack": "r1"}, cpu="2")
    node(s, "n2", labels={"rack": "r2"}, cpu="4")
    names = ["rp-a-0", "rp-b-0", "rp-b-1"]
    s.ok("POST", GANGS, gang("rp", [("rp-a", names[:1], 1), ("rp-b", names[1:], 2)],
                             topology=pack(required="rack")))
    for n in names:
        s.ok("POST", PODS, pod(n))
    got = wait_for(lambda: all_bound(s, names), what="rp bound")
    assert set(got.values()) == {"n2"}, got
    # both podgroups lose a pod; only rp-b-1 comes back (rp-a-0 is not
    # recreated yet): it is placed alone, in its gang's rack
    s.ok("DELETE", PODS + "/rp-b-1")
    s.ok("DELETE", PODS + "/rp-a-0")
    s.ok("POST", PODS, pod("rp-b-1"))
    assert wait_for(lambda: node_of(s, "rp-b-1"), what="the replacement bound") == "n2"


def t_reference_workload(s):
    """The reference nodes accept the reference workload's pods; a decode pod
    created once every H200 GPU is taken stays Pending with the reason."""
    with open(CLAIM_TEMPLATES) as f:
        for d in yaml.safe_load_all(f):
            if d:
                d["metadata"]["namespace"] = NS
                s.ok("POST", "/apis/resource.k8s.io/v1beta2/namespaces/%s/"
                     "resourceclaimtemplates" % NS, d)
    nodes = {n["metadata"]["name"]: n for n in s.ok("GET", "/api/v1/nodes")["items"]}
    slices = s.ok("GET", "/apis/resource.k8s.io/v1beta2/resourceslices")["items"]
    product = {}
    for sl in slices:
        for d in sl["spec"]["devices"]:
            attrs = d.get("attributes") or d.get("basic", {}).get("attributes") or {}
            product[sl["spec"]["nodeName"]] = attrs["productName"]["string"]
    h200 = [n for n, p in product.items() if p.startswith("NVIDIA H200")]
    assert len(nodes) == 3 and len(h200) == 2, (sorted(nodes), product)

    def gpu_pod(name, tmpl, labels):
        p = pod(name, cpu="100m", labels=labels,
                resourceClaims=[{"name": "gpu", "resourceClaimTemplateName": tmpl}])
        p["spec"]["containers"][0]["resources"]["claims"] = [{"name": "gpu"}]
        return p

    names = ["ref-0-router-0", "ref-0-u-0-prefill-0", "ref-0-u-0-decode-0",
             "ref-0-u-0-decode-1"]
    s.ok("POST", GANGS, gang("ref-0", [("ref-0-router", names[:1], 1),
                                       ("ref-0-u-0-prefill", names[1:2], 1),
                                       ("ref-0-u-0-decode", names[2:], 2)]))
    lab = {"grove.io/podgang": "ref-0"}
    s.ok("POST", PODS, pod(names[0], cpu="100m", labels=lab))
    s.ok("POST", PODS, gpu_pod(names[1], "b200-prefill-claim", lab))
    for n in names[2:]:
        s.ok("POST", PODS, gpu_pod(n, "h200-decode-claim", lab))
    got = wait_for(lambda: all_bound(s, names), 20, "the reference gang bound")
    assert product[got[names[1]]].startswith("NVIDIA B200"), (got, product)
    assert all(product[got[n]].startswith("NVIDIA H200") for n in names[2:]), (got, product)
    claims = s.ok("GET", "/apis/resource.k8s.io/v1beta2/namespaces/%s/resourceclaims"
                  % NS)["items"]
    for c in claims:
        res = c["status"]["allocation"]["devices"]["results"]
        owner = c["metadata"]["ownerReferences"][0]["name"]
        assert len(res) == 1 and res[0]["pool"] == got[owner], (c, got)
        assert c["status"]["reservedFor"][0]["name"] == owner, c
    # fill every H200 GPU (16, two taken), then one more decode pod
    extra = ["fill-%d" % i for i in range(14)]
    for n in extra:
        s.ok("POST", PODS, gpu_pod(n, "h200-decode-claim", {}))
    wait_for(lambda: all_bound(s, extra), 30, "14 more decode pods bound")
    s.ok("POST", PODS, gpu_pod("decode-late", "h200-decode-claim", {}))
    msg = wait_for(lambda: unschedulable(s, "decode-late"), 20, "decode-late unschedulable")
    assert msg.startswith("0/3 nodes are available: "), msg
    assert "2 cannot allocate all claims: claim default/decode-late-gpu-" in msg, msg
    assert "request gpu: 8 of the 8 matching devices of class gpu.nvidia.com on the node " \
        "are taken, 1 wanted" in msg, msg
    assert "1 cannot allocate all claims" in msg and "no device of class gpu.nvidia.com on " \
        "the node matches" in msg, msg
    # a GPU freed (its pod deleted, its claim with it): the late pod goes
    s.ok("DELETE", PODS + "/fill-0")
    wait_for(lambda: node_of(s, "decode-late"), 20, "decode-late bound once a GPU is free")


TESTS = [
    (t_binding_subresource, ()),
    (t_single_pods_and_resources, ()),
    (t_node_selector_and_affinity, ()),
    (t_taints_and_tolerations, ()),
    (t_gated_pods_untouched, ()),
    (t_hold_scheduling, ()),
    (t_gang_all_or_nothing, ()),
    (t_gang_waits_for_its_pods, ()),
    (t_scaled_gang_waits_for_base, ()),
    (t_topology_pack_required, ()),
    (t_replacement_placed_alone, ()),
    (t_reference_workload, ("--nodes", NODES)),
]


def main():
    only = sys.argv[2:]
    passed = failed = 0
    for fn, extra in TESTS:
        if only and fn.__name__ not in only:
            continue
        if extra and extra[0] not in HELP:
            print("SKIP %s: kube-sim has no %s yet" % (fn.__name__, extra[0]))
            continue
        s = Sim(extra)
        t0 = time.monotonic()
        try:
            fn(s)
            ok = True
        except Exception:
            traceback.print_exc()
            ok = False
        rc, err = s.stop()
        if rc != 0 or "Traceback" in err:
            ok = False
            sys.stdout.write("kube-sim exit %d, stderr:\n%s\n" % (rc, err))
        print("%s %s (%.1f s)" % ("ok  " if ok else "FAIL", fn.__name__,
                                  time.monotonic() - t0))
        passed, failed = passed + ok, failed + (not ok)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
