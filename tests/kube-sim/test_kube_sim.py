#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Tests for tests/kube-sim.

Usage: python3 tests/kube-sim/test_kube_sim.py <repo-root> [test names...]

Starts kube-sim on 127.0.0.1 with an ephemeral port (plain HTTP, then once
with --tls-dir) and drives it with urllib (and kubectl when it is on PATH).
The admission tests (t_adm_*) run against a second kube-sim and a scripted
HTTPS webhook (webhook_server.py next to this file).
The last line printed is "N passed, N failed"; the exit status is non-zero
when anything failed.
"""

import contextlib
import json
import os
import shutil
import socket
import ssl
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
EXAMPLE = os.path.join(ROOT, "examples", "vllm-disaggregated.yaml")
CAPTURED = os.path.join(ROOT, "tests", "fixtures", "captured")

sys.path.insert(0, os.path.join(ROOT, "tests", "kube-sim"))
from webhook_server import ScriptedWebhook  # noqa: E402


class Sim:
    def __init__(self, tls=False, extra=()):
        self.tmp = tempfile.mkdtemp(prefix="kube-sim-test-")
        self.kubeconfig = os.path.join(self.tmp, "kubeconfig")
        crds = sorted(os.path.join(CRDS, f) for f in os.listdir(CRDS)
                      if f.endswith(".yaml") and f != "kustomization.yaml")
        cmd = [sys.executable, SIM, "--addr", "127.0.0.1:0", "--kubeconfig-out",
               self.kubeconfig, "--bookmark-interval", "0.5", "--load"] + crds + list(extra)
        if tls:
            cmd += ["--tls-dir", os.path.join(self.tmp, "tls")]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening "), "kube-sim did not start: %r" % line
        self.url = line.split()[1]
        self.ctx = None
        if tls:
            self.ctx = ssl.create_default_context(cafile=os.path.join(self.tmp, "tls", "ca.crt"))

    def stop(self):
        self.proc.terminate()
        rc = self.proc.wait(10)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return rc

    def req(self, method, path, body=None, ctype="application/json", headers=None,
            token="test-token"):
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        r = urllib.request.Request(self.url + path, data=data, method=method)
        r.add_header("Authorization", "Bearer " + token)
        if data is not None:
            r.add_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            r.add_header(k, v)
        try:
            with urllib.request.urlopen(r, context=self.ctx, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null"), resp.headers
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null"), e.headers

    def ok(self, method, path, body=None, ctype="application/json", want=(200, 201),
           token="test-token"):
        code, obj, _ = self.req(method, path, body, ctype, token=token)
        assert code in want, "%s %s -> %d %s" % (method, path, code, obj)
        return obj

    def watch(self, path, n, timeout=10):
        """Read up to n events (or until the stream ends)."""
        return self.watch_read(self.watch_open(path, timeout), n)

    def watch_open(self, path, timeout=10):
        """Start a watch; once this returns (the headers are in), kube-sim
        has registered it: later writes and drops reach it."""
        r = urllib.request.Request(self.url + path)
        resp = urllib.request.urlopen(r, context=self.ctx, timeout=timeout)
        assert resp.headers.get("Transfer-Encoding") == "chunked"
        return resp

    def watch_read(self, resp, n):
        """Read up to n events of an open watch (or until it ends)."""
        events = []
        with resp:
            while len(events) < n:
                line = resp.readline()
                if not line:
                    break
                events.append(json.loads(line))
        return events


def pod(name, labels=None, **meta):
    m = {"name": name, "labels": labels or {}}
    m.update(meta)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": m,
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


PODS = "/api/v1/namespaces/default/pods"
PCS = "/apis/grove.io/v1alpha1/namespaces/inference/podcliquesets"


def wait_for(fn, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if fn():
            return True
        time.sleep(0.05)
    return False


def load_example():
    with open(EXAMPLE) as f:
        return [d for d in yaml.safe_load_all(f) if d and d.get("kind") == "PodCliqueSet"][0]


# --------------------------------------------------------------------------


def t_pod_crud(s):
    p = s.ok("POST", PODS, pod("crud", {"app": "a"}))
    assert p["metadata"]["uid"] and p["metadata"]["resourceVersion"]
    assert p["metadata"]["namespace"] == "default" and p["metadata"]["generation"] == 1
    assert p["metadata"]["creationTimestamp"].endswith("Z")
    g = s.ok("GET", PODS + "/crud")
    assert g == p, (g, p)
    g["metadata"]["labels"]["x"] = "y"
    u = s.ok("PUT", PODS + "/crud", g)
    assert int(u["metadata"]["resourceVersion"]) > int(p["metadata"]["resourceVersion"])
    assert u["metadata"]["generation"] == 1          # metadata only: no bump
    u["spec"]["containers"][0]["image"] = "nginx"
    u2 = s.ok("PUT", PODS + "/crud", u)
    assert u2["metadata"]["generation"] == 2
    lst = s.ok("GET", PODS)
    assert lst["kind"] == "PodList" and any(i["metadata"]["name"] == "crud" for i in lst["items"])
    assert lst["metadata"]["resourceVersion"]
    s.ok("DELETE", PODS + "/crud")
    code, st, _ = s.req("GET", PODS + "/crud")
    assert code == 404 and st["kind"] == "Status" and st["reason"] == "NotFound", st
    assert st["details"]["name"] == "crud" and st["details"]["kind"] == "pods"


def t_already_exists_and_conflict(s):
    p = s.ok("POST", PODS, pod("dup"))
    code, st, _ = s.req("POST", PODS, pod("dup"))
    assert code == 409 and st["reason"] == "AlreadyExists", st
    p["metadata"]["labels"] = {"v": "1"}
    s.ok("PUT", PODS + "/dup", p)                  # p's rv is now stale
    p["metadata"]["labels"] = {"v": "2"}
    code, st, _ = s.req("PUT", PODS + "/dup", p)
    assert code == 409 and st["reason"] == "Conflict", st
    p["metadata"]["resourceVersion"] = ""          # unconditional
    assert s.ok("PUT", PODS + "/dup", p)["metadata"]["labels"] == {"v": "2"}
    code, st, _ = s.req("POST", PODS, pod("Bad_Name"))
    assert code == 422 and st["reason"] == "Invalid", st
    code, st, _ = s.req("PATCH", PODS + "/missing", {"a": 1}, "application/merge-patch+json")
    assert code == 404


def t_generate_name(s):
    body = pod("")
    del body["metadata"]["name"]
    body["metadata"]["generateName"] = "gen-"
    a = s.ok("POST", PODS, body)
    b = s.ok("POST", PODS, body)
    for o in (a, b):
        n = o["metadata"]["name"]
        assert n.startswith("gen-") and len(n) == 9 and n[4:].isalnum() and n == n.lower(), n
    assert a["metadata"]["name"] != b["metadata"]["name"]


def t_label_selectors(s):
    s.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "sel"}})
    base = "/api/v1/namespaces/sel/pods"
    s.ok("POST", base, pod("p1", {"app": "web", "tier": "fe"}))
    s.ok("POST", base, pod("p2", {"app": "web", "tier": "be"}))
    s.ok("POST", base, pod("p3", {"app": "db"}))
    s.ok("POST", base, pod("p4", {}))

    def names(sel):
        q = urllib.request.quote(sel)
        return sorted(i["metadata"]["name"] for i in s.ok("GET", base + "?labelSelector=" + q)[
            "items"])
    assert names("app=web") == ["p1", "p2"]
    assert names("app==web") == ["p1", "p2"]
    assert names("app!=web") == ["p3", "p4"]
    assert names("tier in (fe,xx)") == ["p1"]
    assert names("app notin (web)") == ["p3", "p4"]
    assert names("tier") == ["p1", "p2"]
    assert names("!tier") == ["p3", "p4"]
    assert names("app=web,tier notin (fe)") == ["p2"]
    fs = s.ok("GET", base + "?fieldSelector=metadata.name%3Dp3")["items"]
    assert [i["metadata"]["name"] for i in fs] == ["p3"]
    fs = s.ok("GET", "/api/v1/pods?fieldSelector=metadata.namespace%3Dsel")["items"]
    assert len(fs) == 4
    fs = s.ok("GET", base + "?fieldSelector=metadata.name!%3Dp3")["items"]
    assert len(fs) == 3


def t_paging(s):
    s.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "page"}})
    base = "/api/v1/namespaces/page/pods"
    for i in range(25):
        s.ok("POST", base, pod("p%02d" % i))
    seen, cont, pages = [], "", 0
    while True:
        lst = s.ok("GET", base + "?limit=10" + ("&continue=" + cont if cont else ""))
        pages += 1
        seen += [i["metadata"]["name"] for i in lst["items"]]
        cont = lst["metadata"].get("continue")
        if not cont:
            break
        assert len(lst["items"]) == 10
    assert pages == 3 and seen == ["p%02d" % i for i in range(25)], (pages, seen)


def t_watch_resume(s):
    s.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "w"}})
    base = "/api/v1/namespaces/w/pods"
    s.ok("POST", base, pod("before"))
    rv = s.ok("GET", base)["metadata"]["resourceVersion"]
    a = s.ok("POST", base, pod("a"))
    a["metadata"]["labels"] = {"m": "1"}
    s.ok("PUT", base + "/a", a)
    s.ok("POST", base, pod("b"))
    s.ok("DELETE", base + "/a")
    s.ok("POST", "/api/v1/namespaces/default/pods", pod("other-ns"))   # must not appear
    ev = s.watch(base + "?watch=true&resourceVersion=" + rv + "&timeoutSeconds=2", 10)
    got = [(e["type"], e["object"]["metadata"]["name"]) for e in ev]
    assert got == [("ADDED", "a"), ("MODIFIED", "a"), ("ADDED", "b"), ("DELETED", "a")], got
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in ev]
    assert rvs == sorted(rvs) and rvs[0] > int(rv)
    assert ev[0]["object"]["apiVersion"] == "v1" and ev[0]["object"]["kind"] == "Pod"

    # live events with a label selector, and bookmarks: the writes come
    # once the watch is registered
    rv2 = s.ok("GET", base)["metadata"]["resourceVersion"]
    resp = s.watch_open(base + "?watch=true&labelSelector=k%3Dv&allowWatchBookmarks=true"
                        "&timeoutSeconds=3&resourceVersion=" + rv2)
    s.ok("POST", base, pod("nolabel"))
    s.ok("POST", base, pod("lab", {"k": "v"}))
    out = s.watch_read(resp, 50)
    types = [(e["type"], e["object"]["metadata"].get("name")) for e in out]
    assert ("ADDED", "lab") in types and ("ADDED", "nolabel") not in types, types
    assert any(t == "BOOKMARK" for t, _ in types), types

    # rv=0: initial ADDED for current objects
    init = s.watch(base + "?watch=true&resourceVersion=0&timeoutSeconds=1", 100)
    assert sorted(e["object"]["metadata"]["name"] for e in init) == ["b", "before", "lab",
                                                                     "nolabel"]


def t_watch_gone_after_compact(s):
    rv = s.ok("GET", PODS)["metadata"]["resourceVersion"]
    s.ok("POST", PODS, pod("compact-me"))
    s.ok("POST", "/__sim/compact")
    ev = s.watch(PODS + "?watch=true&resourceVersion=" + rv, 5)
    assert len(ev) == 1 and ev[0]["type"] == "ERROR", ev
    st = ev[0]["object"]
    assert st["kind"] == "Status" and st["code"] == 410 and "too old" in st["message"], st
    # resuming from the current rv still works
    cur = s.ok("GET", PODS)["metadata"]["resourceVersion"]
    s.ok("DELETE", PODS + "/compact-me")
    ev = s.watch(PODS + "?watch=true&timeoutSeconds=1&resourceVersion=" + cur, 5)
    assert [e["type"] for e in ev] == ["DELETED"], ev


def t_drop_watches(s):
    resp = s.watch_open(PODS + "?watch=true", 10)    # registered once open
    s.ok("POST", "/__sim/drop-watches")
    try:
        s.watch_read(resp, 1000)          # returns when the server ends it
    except (TimeoutError, OSError) as e:
        raise AssertionError("watch was not closed: %r" % e)


def t_patches(s):
    s.ok("POST", PODS, pod("pt", {"a": "1", "b": "2"}))
    p = s.ok("PATCH", PODS + "/pt", {"metadata": {"labels": {"a": None, "c": "3"}}},
             "application/merge-patch+json")
    assert p["metadata"]["labels"] == {"b": "2", "c": "3"}, p["metadata"]
    ops = [{"op": "add", "path": "/metadata/annotations", "value": {"x/y": "1"}},
           {"op": "replace", "path": "/metadata/labels/b", "value": "20"},
           {"op": "remove", "path": "/metadata/labels/c"},
           {"op": "test", "path": "/metadata/labels/b", "value": "20"},
           {"op": "copy", "from": "/metadata/labels/b", "path": "/metadata/labels/d"},
           {"op": "move", "from": "/metadata/labels/d", "path": "/metadata/labels/e"},
           {"op": "add", "path": "/spec/containers/-", "value": {"name": "d", "image": "x"}}]
    p = s.ok("PATCH", PODS + "/pt", ops, "application/json-patch+json")
    assert p["metadata"]["labels"] == {"b": "20", "e": "20"}, p["metadata"]
    assert p["metadata"]["annotations"] == {"x/y": "1"}
    assert [c["name"] for c in p["spec"]["containers"]] == ["c", "d"]
    assert p["metadata"]["generation"] == 2
    code, st, _ = s.req("PATCH", PODS + "/pt", [{"op": "test", "path": "/metadata/name",
                                                 "value": "nope"}], "application/json-patch+json")
    assert code == 422, (code, st)
    code, st, _ = s.req("PATCH", PODS + "/pt", {"metadata": {"resourceVersion": "1"}},
                        "application/merge-patch+json")
    assert code == 409 and st["reason"] == "Conflict"
    code, _, _ = s.req("PATCH", PODS + "/pt", {}, "application/x-unknown-patch")
    assert code == 415
    # server-side apply, the shortcut: merge into an existing object ...
    code, p, _ = s.req("PATCH", PODS + "/pt?fieldManager=t",
                       {"metadata": {"labels": {"ssa": "1"}}}, "application/apply-patch+yaml")
    assert code == 200 and p["metadata"]["labels"]["ssa"] == "1", (code, p)
    assert p["metadata"]["labels"]["b"] == "20"  # fields not applied stay
    # ... and create a missing one
    code, p, _ = s.req("PATCH", PODS + "/ssa-new?fieldManager=t", pod("ssa-new"),
                       "application/apply-patch+yaml")
    assert code == 201 and p["metadata"]["uid"], (code, p)
    s.ok("GET", PODS + "/ssa-new")


def t_finalizers(s):
    s.ok("POST", PODS, pod("fin", finalizers=["example.com/hold"]))
    d = s.ok("DELETE", PODS + "/fin")
    assert d["metadata"].get("deletionTimestamp"), d
    g = s.ok("GET", PODS + "/fin")
    assert g["metadata"]["deletionTimestamp"] and g["metadata"]["finalizers"]
    g["metadata"]["finalizers"] = []
    s.ok("PUT", PODS + "/fin", g)
    code, _, _ = s.req("GET", PODS + "/fin")
    assert code == 404


def t_gc(s):
    owner = s.ok("POST", "/api/v1/namespaces/default/configmaps",
                 {"metadata": {"name": "owner"}, "data": {}})
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
           "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}
    s.ok("POST", PODS, pod("owned", ownerReferences=[ref]))
    s.ok("POST", PODS, pod("owned-fg", ownerReferences=[ref]))
    # Orphan keeps dependents and strips the reference
    o2 = s.ok("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "owner2"}})
    ref2 = dict(ref, name="owner2", uid=o2["metadata"]["uid"])
    s.ok("POST", PODS, pod("orphan", ownerReferences=[ref2]))
    s.ok("DELETE", "/api/v1/namespaces/default/configmaps/owner2",
         {"propagationPolicy": "Orphan"})
    g = s.ok("GET", PODS + "/orphan")
    assert not g["metadata"].get("ownerReferences"), g["metadata"]
    # Background
    s.ok("DELETE", "/api/v1/namespaces/default/configmaps/owner")
    assert wait_for(lambda: s.req("GET", PODS + "/owned")[0] == 404), "owned pod not collected"
    assert wait_for(lambda: s.req("GET", PODS + "/owned-fg")[0] == 404)
    # Foreground: the owner waits for a dependent that has a finalizer
    o3 = s.ok("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "owner3"}})
    ref3 = dict(ref, name="owner3", uid=o3["metadata"]["uid"])
    s.ok("POST", PODS, pod("fgdep", ownerReferences=[ref3], finalizers=["x.io/hold"]))
    d = s.ok("DELETE", "/api/v1/namespaces/default/configmaps/owner3",
             {"propagationPolicy": "Foreground"})
    assert "foregroundDeletion" in d["metadata"]["finalizers"]
    assert wait_for(lambda: s.req("GET", PODS + "/fgdep")[1]["metadata"].get(
        "deletionTimestamp"))
    # the collector works through one queue in order: once a later
    # deletion is done, it has settled the owner, which must still be here
    o4 = s.ok("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "owner4"}})
    s.ok("POST", PODS, pod("barrier", ownerReferences=[dict(ref, name="owner4",
                                                            uid=o4["metadata"]["uid"])]))
    s.ok("DELETE", "/api/v1/namespaces/default/configmaps/owner4")
    assert wait_for(lambda: s.req("GET", PODS + "/barrier")[0] == 404), "barrier not collected"
    assert s.req("GET", "/api/v1/namespaces/default/configmaps/owner3")[0] == 200
    s.ok("PATCH", PODS + "/fgdep", {"metadata": {"finalizers": None}},
         "application/merge-patch+json")
    assert wait_for(lambda: s.req("GET", "/api/v1/namespaces/default/configmaps/owner3")[0]
                    == 404), "foreground owner not deleted"


def t_pcs(s):
    pcs = load_example()
    created = s.ok("POST", PCS, pcs)
    assert created["kind"] == "PodCliqueSet" and created["apiVersion"] == "grove.io/v1alpha1"
    assert created["spec"] == pcs["spec"]
    name = PCS + "/" + pcs["metadata"]["name"]
    # status subresource: main PUT ignores status, status PUT ignores the rest
    obj = s.ok("GET", name)
    obj["status"] = {"phase": "Running"}
    obj["spec"]["replicas"] = 2
    u = s.ok("PUT", name, obj)
    assert "status" not in u and u["spec"]["replicas"] == 2 and u["metadata"]["generation"] == 2
    u["status"] = {"phase": "Running", "replicas": 2, "hpaPodSelector": "app=x"}
    u["spec"]["replicas"] = 7
    st = s.ok("PUT", name + "/status", u)
    assert st["status"]["phase"] == "Running" and st["spec"]["replicas"] == 2
    assert st["metadata"]["generation"] == 2
    st = s.ok("PATCH", name + "/status", {"status": {"ready": "0/4"}},
              "application/merge-patch+json")
    assert st["status"]["ready"] == "0/4" and st["status"]["phase"] == "Running"
    # scale subresource
    sc = s.ok("GET", name + "/scale")
    assert sc["kind"] == "Scale" and sc["apiVersion"] == "autoscaling/v1"
    assert sc["spec"]["replicas"] == 2 and sc["status"] == {"replicas": 2, "selector": "app=x"}
    sc["spec"]["replicas"] = 3
    sc2 = s.ok("PUT", name + "/scale", sc)
    assert sc2["spec"]["replicas"] == 3
    code, err, _ = s.req("PUT", name + "/scale", sc)     # stale rv
    assert code == 409 and err["reason"] == "Conflict"
    s.ok("PATCH", name + "/scale", {"spec": {"replicas": 4}}, "application/merge-patch+json")
    assert s.ok("GET", name)["spec"]["replicas"] == 4
    # discovery shows the CRD's names
    rl = s.ok("GET", "/apis/grove.io/v1alpha1")
    r = [x for x in rl["resources"] if x["name"] == "podcliquesets"][0]
    assert r["shortNames"] == ["pcs"] and r["kind"] == "PodCliqueSet" and r["namespaced"]
    assert "grove" in r["categories"]
    assert any(x["name"] == "podcliquesets/scale" for x in rl["resources"])
    groups = [g["name"] for g in s.ok("GET", "/apis")["groups"]]
    assert "grove.io" in groups and "scheduler.grove.io" in groups and "resource.k8s.io" in groups
    s.ok("DELETE", name)
    assert s.req("GET", name)[0] == 404


def t_crd_lifecycle_and_versions(s):
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.com"},
           "spec": {"group": "example.com", "scope": "Cluster",
                    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                    "versions": [{"name": "v1", "served": True, "storage": True}]}}
    s.ok("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    s.ok("POST", "/apis/example.com/v1/widgets", {"metadata": {"name": "w1"}, "spec": {}})
    s.ok("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com")
    assert s.req("GET", "/apis/example.com/v1/widgets")[0] == 404
    # resource.k8s.io serves one storage through three versions
    rct = {"metadata": {"name": "gpu"}, "spec": {"spec": {}}}
    s.ok("POST", "/apis/resource.k8s.io/v1beta2/namespaces/default/resourceclaimtemplates", rct)
    for v in ("v1", "v1beta1", "v1beta2"):
        o = s.ok("GET", "/apis/resource.k8s.io/%s/namespaces/default/resourceclaimtemplates/gpu"
                 % v)
        assert o["apiVersion"] == "resource.k8s.io/" + v
    lease = {"metadata": {"name": "groved"}, "spec": {"holderIdentity": "a"}}
    s.ok("POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases", lease)
    for path in ("/version", "/api", "/api/v1", "/apis/admissionregistration.k8s.io/v1"):
        s.ok("GET", path)


def t_faults_and_token(s):
    s.ok("POST", "/__sim/fail?count=2&code=500")
    assert s.req("GET", PODS)[0] == 500
    code, st, _ = s.req("GET", PODS)
    assert code == 500 and st["kind"] == "Status"
    assert s.req("GET", PODS)[0] == 200
    s.ok("POST", "/__sim/fail?count=1&code=429")
    code, st, h = s.req("GET", PODS)
    assert code == 429 and h.get("Retry-After") == "1" and st["reason"] == "TooManyRequests"
    assert s.req("GET", PODS)[0] == 200
    s.ok("POST", "/__sim/latency?ms=300")
    t = time.time()
    s.ok("GET", PODS)
    assert time.time() - t >= 0.3
    s.ok("POST", "/__sim/latency?ms=0")
    assert s.ok("GET", "/__sim/last-token")["token"] == "test-token"


def t_keepalive(s):
    """An early error must not leave the request body on a kept-alive connection."""
    import http.client
    host, port = s.url.split("//")[1].split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    body = json.dumps(pod("ka")).encode()
    c.request("POST", "/api/v1/namespaces/default/nosuchresource", body,
              {"Content-Type": "application/json"})
    r = c.getresponse()
    assert r.status == 404 and json.loads(r.read())["kind"] == "Status"
    c.request("POST", PODS, body, {"Content-Type": "application/json"})
    r = c.getresponse()
    assert r.status == 201, r.status
    r.read()
    c.request("POST", PODS, iter([body[:10], body[10:]]),
              {"Content-Type": "application/json"}, encode_chunked=True)
    r = c.getresponse()
    assert r.status == 409 and json.loads(r.read())["reason"] == "AlreadyExists"
    c.request("GET", PODS + "/ka")
    r = c.getresponse()
    assert r.status == 200 and json.loads(r.read())["metadata"]["name"] == "ka"
    c.close()


def t_kubectl(s):
    if not shutil.which("kubectl"):
        print("  note: kubectl not on PATH, kubectl checks skipped")
        return
    env = dict(os.environ, HOME=s.tmp)

    def kc(*args, ok=True):
        r = subprocess.run(["kubectl", "--kubeconfig", s.kubeconfig,
                            "--cache-dir", os.path.join(s.tmp, "cache")] + list(args),
                           capture_output=True, text=True, env=env, timeout=60)
        assert (r.returncode == 0) == ok, "kubectl %s: rc=%d %s %s" % (
            " ".join(args), r.returncode, r.stdout, r.stderr)
        return r.stdout
    manifest = os.path.join(s.tmp, "pod.yaml")
    with open(manifest, "w") as f:
        yaml.safe_dump(pod("kubectl-pod", {"via": "kubectl"}), f)
    assert "created" in kc("create", "--validate=false", "-f", manifest)
    assert "kubectl-pod" in kc("get", "pods", "-n", "default")
    assert "deleted" in kc("delete", "-f", manifest)
    assert "kubectl-pod" not in kc("get", "pods", "-n", "default")
    kc("create", "--validate=false", "-f", EXAMPLE)
    out = kc("get", "pcs", "-n", "inference")
    assert "vllm-disaggregated" in out and "REPLICAS" in out, out
    kc("scale", "pcs", "-n", "inference", "vllm-disaggregated", "--replicas=3")
    assert kc("get", "pcs", "-n", "inference", "vllm-disaggregated", "-o",
              "jsonpath={.spec.replicas}") == "3"
    kc("delete", "pcs", "-n", "inference", "vllm-disaggregated")


def t_tls(_):
    s = Sim(tls=True)
    try:
        assert s.url.startswith("https://127.0.0.1:")
        s.ok("POST", PODS, pod("tls"))
        assert s.ok("GET", PODS + "/tls")["metadata"]["name"] == "tls"
        ev = s.watch(PODS + "?watch=true&resourceVersion=0&timeoutSeconds=1", 5)
        assert [e["object"]["metadata"]["name"] for e in ev] == ["tls"]
        with open(s.kubeconfig) as f:
            kcfg = yaml.safe_load(f)
        assert kcfg["current-context"] == "kube-sim"
        assert kcfg["clusters"][0]["cluster"]["server"] == s.url
        assert kcfg["clusters"][0]["cluster"]["certificate-authority-data"]
        if shutil.which("kubectl"):
            r = subprocess.run(["kubectl", "--kubeconfig", s.kubeconfig, "--cache-dir",
                                os.path.join(s.tmp, "cache"), "get", "pods", "-n", "default"],
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0 and "tls" in r.stdout, r.stderr
    finally:
        assert s.stop() == 0, "kube-sim did not exit cleanly on SIGTERM"


def t_install_kinds(s):
    """What a rendered install holds can be created (kubectl apply), and a
    Deployment has a scale subresource."""
    docs = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "inst"}},
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": "groved", "namespace": "inst"}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": "inst-groved"},
         "rules": [{"apiGroups": ["grove.io"], "resources": ["*"], "verbs": ["*"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "inst-groved"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": "inst-groved"},
         "subjects": [{"kind": "ServiceAccount", "name": "groved", "namespace": "inst"}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": "groved", "namespace": "inst"},
         "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "groved", "namespace": "inst"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "groved"},
         "subjects": [{"kind": "ServiceAccount", "name": "groved", "namespace": "inst"}]},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "groved", "namespace": "inst"},
         "spec": {"replicas": 2, "selector": {"matchLabels": {"app.kubernetes.io/name": "groved"}},
                  "template": {"metadata": {"labels": {"app.kubernetes.io/name": "groved"}},
                               "spec": {"containers": [{"name": "groved", "image": "g"}]}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "groved", "namespace": "inst"},
         "spec": {"selector": {"app.kubernetes.io/name": "groved"},
                  "ports": [{"port": 443, "targetPort": 9443}]}},
        {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
         "metadata": {"name": "groved", "namespace": "inst"},
         "spec": {"minAvailable": 1,
                  "selector": {"matchLabels": {"app.kubernetes.io/name": "groved"}}}},
        {"apiVersion": "v1", "kind": "ResourceQuota",
         "metadata": {"name": "critical-pods", "namespace": "inst"},
         "spec": {"hard": {"pods": "4"}, "scopeSelector": {"matchExpressions": [
             {"operator": "In", "scopeName": "PriorityClass",
              "values": ["system-cluster-critical"]}]}}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "groved-tls",
                                                            "namespace": "inst"},
         "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}},
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
         "metadata": {"name": "inst-groved"}, "webhooks": []},
        {"apiVersion": "admissionregistration.k8s.io/v1",
         "kind": "ValidatingWebhookConfiguration", "metadata": {"name": "inst-groved"},
         "webhooks": [wh("inst.example.invalid", "/never", [rule(["example.invalid"], ["*"])],
                         failurePolicy="Ignore")]},
    ]
    path = os.path.join(s.tmp, "install.yaml")
    with open(path, "w") as f:
        yaml.safe_dump_all(docs, f)
    if shutil.which("kubectl"):
        r = kubectl(s, "apply", "--validate=false", "-f", path)
        assert r.returncode == 0 and r.stdout.count(" created") == len(docs), r
        # again: nothing to create (kubectl always sends a PDB's selector,
        # so that one says "configured", against a real server too)
        r = kubectl(s, "apply", "--validate=false", "-f", path)
        assert r.returncode == 0 and r.stdout.count(" unchanged") == len(docs) - 1, r
        r = kubectl(s, "scale", "deployment", "groved", "-n", "inst", "--replicas=3")
        assert r.returncode == 0, r
    else:
        for d in docs:
            gv = d["apiVersion"]
            plural = {"PodDisruptionBudget": "poddisruptionbudgets",
                      "ResourceQuota": "resourcequotas"}.get(d["kind"], d["kind"].lower() + "s")
            base = ("/api/" if "/" not in gv else "/apis/") + gv
            if d["metadata"].get("namespace"):
                base += "/namespaces/" + d["metadata"]["namespace"]
            s.ok("POST", base + "/" + plural, d)
        s.ok("PATCH", "/apis/apps/v1/namespaces/inst/deployments/groved/scale",
             {"spec": {"replicas": 3}}, "application/merge-patch+json")
    sc = s.ok("GET", "/apis/apps/v1/namespaces/inst/deployments/groved/scale")
    assert sc["spec"]["replicas"] == 3, sc
    assert sc["status"] == {"replicas": 0, "selector": "app.kubernetes.io/name=groved"}, sc
    d = s.ok("GET", "/apis/apps/v1/namespaces/inst/deployments/groved")
    assert d["metadata"]["generation"] == 2
    ns = s.ok("GET", "/api/v1/namespaces/inst")
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "inst"}, ns
    assert s.ok("GET", "/apis/policy/v1/namespaces/inst/poddisruptionbudgets/groved")[
        "spec"]["minAvailable"] == 1


# --------------------------------------------------------------------------
# Admission webhooks: a second kube-sim and a scripted HTTPS webhook


SA_USER = "system:serviceaccount:groved-system:groved"


class Adm:
    """The admission tests' kube-sim, with users and the webhook's service."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="kube-sim-adm-")
        self.hook = ScriptedWebhook(os.path.join(self.tmp, "hook"))
        self.sim = Sim(extra=["--resolve-service", "test-ns/hook:443=127.0.0.1:%d"
                              % self.hook.port,
                              "--token", "sa-token=" + SA_USER,
                              "--token", "alice-token=alice:devs,qa"])

    def stop(self):
        self.hook.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return self.sim.stop()


ADM = None


def rule(groups, resources, ops=("*",), versions=("*",), scope=None):
    r = {"apiGroups": list(groups), "apiVersions": list(versions), "operations": list(ops),
         "resources": list(resources)}
    if scope:
        r["scope"] = scope
    return r


def wh(name, path, rules, service="hook", ca=None, **extra):
    """A webhook served by the scripted webhook through service test-ns/<service>."""
    h = {"name": name,
         "clientConfig": {"service": {"namespace": "test-ns", "name": service, "path": path},
                          "caBundle": ADM.hook.ca_bundle if ca is None and ADM else ca},
         "rules": rules, "sideEffects": "None", "admissionReviewVersions": ["v1"]}
    if h["clientConfig"]["caBundle"] is None:
        del h["clientConfig"]["caBundle"]
    h.update(extra)
    return h


def whc(kind, name, hooks):
    return {"apiVersion": "admissionregistration.k8s.io/v1",
            "kind": kind + "WebhookConfiguration", "metadata": {"name": name},
            "webhooks": hooks}


def cfg_path(c):
    return "/apis/admissionregistration.k8s.io/v1/%swebhookconfigurations" % (
        c["kind"][:-len("WebhookConfiguration")].lower())


@contextlib.contextmanager
def configs(s, *cfgs):
    """Webhook configurations that exist for the duration of a with block."""
    made = []
    try:
        for c in cfgs:
            s.ok("POST", cfg_path(c), c)
            made.append(c)
        yield
    finally:
        for c in made:
            s.ok("DELETE", cfg_path(c) + "/" + c["metadata"]["name"])


def namespace(s, name, labels=None):
    s.ok("POST", "/api/v1/namespaces", {"metadata": {"name": name, "labels": labels or {}}},
         want=(201, 409))


def captured_answer(name):
    """A denial or warning answer exactly as the capture webhook sent it."""
    with open(os.path.join(CAPTURED, "responses", name + ".json")) as f:
        r = json.load(f)["response"]
    return {k: r[k] for k in ("allowed", "status", "warnings") if k in r}


def kubectl(s, *args, cwd=None):
    return subprocess.run(["kubectl", "--kubeconfig", s.kubeconfig,
                           "--cache-dir", os.path.join(s.tmp, "cache")] + list(args),
                          capture_output=True, text=True, timeout=60, cwd=cwd,
                          env=dict(os.environ, HOME=s.tmp))


def rendering(name):
    with open(os.path.join(CAPTURED, "renderings", name)) as f:
        return f.read()


def t_adm_rules(s):
    """Rules: operations, groups, resources, subresources, scope; the review
    as the real server builds it."""
    hook = ADM.hook
    namespace(s, "rules")
    cfg = whc("Validating", "rules", [
        wh("pcs.rules.test", "/r-pcs", [rule(["grove.io"], ["podcliquesets"],
                                             ["CREATE", "UPDATE"], ["v1alpha1"])]),
        wh("scale.rules.test", "/r-scale", [rule(["grove.io"], ["podcliquesets/scale"],
                                                 ["UPDATE"])]),
        wh("anyscale.rules.test", "/r-anyscale", [rule(["*"], ["*/scale"])]),
        wh("apps.rules.test", "/r-apps", [rule(["apps"], ["deployments"])]),
        wh("pods.rules.test", "/r-pods", [rule([""], ["pods"], ["CREATE"], ["v1"])]),
        wh("cluster.rules.test", "/r-cluster", [rule(["*"], ["*"], ["CREATE"], scope="Cluster")]),
        wh("nsd.rules.test", "/r-nsd", [rule([""], ["*"], ["CREATE"], scope="Namespaced")]),
        wh("status.rules.test", "/r-status", [rule(["grove.io"], ["podcliquesets/status"])]),
        # resource.k8s.io is served as v1, v1beta2 and v1beta1: matchPolicy
        # Equivalent (the default) matches a rule on another version
        wh("equiv.rules.test", "/r-equiv", [rule(["resource.k8s.io"], ["resourceclaimtemplates"],
                                                 ["CREATE"], ["v1beta1"])]),
        wh("exact.rules.test", "/r-exact", [rule(["resource.k8s.io"], ["resourceclaimtemplates"],
                                                 ["CREATE"], ["v1beta1"])], matchPolicy="Exact"),
    ])
    pcs = load_example()
    pcs["metadata"]["namespace"] = "rules"
    pcs["spec"].pop("replicas", None)
    base = "/apis/grove.io/v1alpha1/namespaces/rules/podcliquesets"
    hook.clear()
    with configs(s, cfg):
        created = s.ok("POST", base + "?fieldManager=kubectl-create&fieldValidation=Strict", pcs)
        s.ok("PATCH", base + "/vllm-disaggregated/scale", {"spec": {"replicas": 3}},
             "application/merge-patch+json")
        s.ok("POST", "/api/v1/namespaces/rules/pods", pod("rp"))
        s.ok("DELETE", "/api/v1/namespaces/rules/pods/rp")
        s.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "rules-2"}})
        s.ok("PATCH", base + "/vllm-disaggregated/status", {"status": {"replicas": 1}},
             "application/merge-patch+json")
        s.ok("POST", "/apis/resource.k8s.io/v1/namespaces/rules/resourceclaimtemplates",
             {"metadata": {"name": "gpu"}, "spec": {"spec": {}}})

    def ops(path):
        return [(r["operation"], r.get("subResource", ""), r.get("name")) for r in hook.calls(
            path)]
    assert ops("/r-pcs") == [("CREATE", "", "vllm-disaggregated")], ops("/r-pcs")
    assert ops("/r-scale") == [("UPDATE", "scale", "vllm-disaggregated")], ops("/r-scale")
    assert ops("/r-anyscale") == ops("/r-scale")
    assert ops("/r-apps") == []
    assert ops("/r-pods") == [("CREATE", "", "rp")], ops("/r-pods")
    assert ops("/r-cluster") == [("CREATE", "", "rules-2")], ops("/r-cluster")
    assert ops("/r-nsd") == [("CREATE", "", "rp")], ops("/r-nsd")
    assert ops("/r-status") == [("UPDATE", "status", "vllm-disaggregated")], ops("/r-status")
    st = hook.calls("/r-status")[0]
    assert st["kind"]["kind"] == "PodCliqueSet" and st["object"]["status"] == {"replicas": 1}
    assert ops("/r-exact") == []
    eq = hook.calls("/r-equiv")
    assert [(r["kind"]["version"], r["requestKind"]["version"], r["object"]["apiVersion"])
            for r in eq] == [("v1beta1", "v1", "resource.k8s.io/v1beta1")], eq

    r = hook.calls("/r-pcs")[0]
    gvk = {"group": "grove.io", "version": "v1alpha1", "kind": "PodCliqueSet"}
    gvr = {"group": "grove.io", "version": "v1alpha1", "resource": "podcliquesets"}
    assert list(r) == ["uid", "kind", "resource", "requestKind", "requestResource", "name",
                       "namespace", "operation", "userInfo", "object", "oldObject", "dryRun",
                       "options"], list(r)
    assert (r["kind"], r["resource"], r["requestKind"], r["requestResource"]) == (
        gvk, gvr, gvk, gvr), r
    assert r["namespace"] == "rules" and r["oldObject"] is None and r["dryRun"] is False
    assert r["options"] == {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1",
                            "fieldManager": "kubectl-create", "fieldValidation": "Strict"}, r
    assert r["userInfo"] == {"username": "admin",
                             "groups": ["system:masters", "system:authenticated"]}
    # a validating webhook sees the object as it will be stored
    m = r["object"]["metadata"]
    assert m["uid"] == created["metadata"]["uid"] and m["generation"] == 1, m
    assert m["creationTimestamp"] and "resourceVersion" not in m, m
    assert r["object"]["apiVersion"] == "grove.io/v1alpha1"

    sc = hook.calls("/r-scale")[0]
    assert sc["kind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert sc["requestKind"] == sc["kind"] and sc["resource"] == gvr, sc
    assert sc["requestResource"] == gvr and sc["requestSubResource"] == "scale"
    assert sc["options"] == {"kind": "UpdateOptions", "apiVersion": "meta.k8s.io/v1"}
    assert sc["object"]["spec"] == {"replicas": 3} and sc["oldObject"]["spec"] == {}, sc
    assert sc["object"]["kind"] == "Scale" and sc["oldObject"]["status"] == {"replicas": 0}
    assert sc["object"]["metadata"]["resourceVersion"] == \
        sc["oldObject"]["metadata"]["resourceVersion"]

    query, headers, _ = hook.raw_calls("/r-pcs")[0]
    assert query == "timeout=10s", query
    assert headers["User-Agent"] == "kube-apiserver-admission"
    assert headers["Content-Type"] == "application/json"
    assert headers["Accept"] == "application/json, */*"
    log = s.ok("GET", "/__sim/admission-log?n=50")["items"]
    assert any(e["webhook"] == "scale.rules.test" and e["resource"] == "podcliquesets/scale"
               and e["outcome"] == "allowed" for e in log), log
    s.ok("DELETE", base + "/vllm-disaggregated")


def t_adm_mutating(s):
    """JSON patches applied in order and stored; mutating webhooks see a
    CREATE before uid/creationTimestamp/generation; IfNeeded reinvocation."""
    hook = ADM.hook
    namespace(s, "mut")

    def a(req):            # IfNeeded: labels the pod once
        if "a" in req["object"]["metadata"].get("labels", {}):
            return {}
        return {"patch": [{"op": "add", "path": "/metadata/labels/a", "value": "1"}]}

    def b(req):            # Never: annotates it, which makes a run again
        if req["object"]["metadata"].get("annotations"):
            return {}
        return {"patch": [{"op": "add", "path": "/metadata/annotations", "value": {"b": "1"}},
                          {"op": "replace", "path": "/spec/containers/0/image", "value": "b:1"}]}
    hook.script("/m-a", a)
    hook.script("/m-b", b)
    hook.script("/m-bad", {"patch": [{"op": "remove", "path": "/metadata/nope"}]})
    pods = [rule([""], ["pods"], ["CREATE"])]
    # created in reverse order: configurations run sorted by name
    second = whc("Mutating", "b-second", [wh("b.mut.test", "/m-b", pods)])
    first = whc("Mutating", "a-first", [
        wh("a.mut.test", "/m-a", pods, reinvocationPolicy="IfNeeded"),
        wh("c.mut.test", "/m-c", pods, reinvocationPolicy="Never")])
    bad = whc("Mutating", "z-bad", [wh("bad.mut.test", "/m-bad", pods,
                                       objectSelector={"matchLabels": {"bad": "1"}})])
    check = whc("Validating", "mut-check", [wh("v.mut.test", "/m-v", pods)])
    hook.clear()
    with configs(s, second, first, bad, check):
        stored = s.ok("POST", "/api/v1/namespaces/mut/pods", pod("mp"))
        code, st, _ = s.req("POST", "/api/v1/namespaces/mut/pods", pod("mbad", {"bad": "1"}))
    order = [(p, r["object"]["metadata"].get("labels"), bool(r["object"]["metadata"].get(
        "annotations"))) for p, _, _, rv in hook.received for r in [rv["request"]]]
    assert order[:5] == [("/m-a", {}, False), ("/m-c", {"a": "1"}, False),
                         ("/m-b", {"a": "1"}, False), ("/m-a", {"a": "1"}, True),
                         ("/m-v", {"a": "1"}, True)], order
    first_a = hook.calls("/m-a")[0]["object"]["metadata"]
    assert not {"uid", "creationTimestamp", "generation"} & set(first_a), first_a
    v = hook.calls("/m-v")[0]["object"]
    assert v["metadata"]["uid"] and v["spec"]["containers"][0]["image"] == "b:1", v
    assert stored["metadata"]["labels"] == {"a": "1"} and stored["metadata"]["annotations"] == \
        {"b": "1"} and stored["spec"]["containers"][0]["image"] == "b:1", stored
    assert stored["metadata"]["uid"] == v["metadata"]["uid"]
    log = [(e["webhook"], e["round"], e["outcome"])
           for e in s.ok("GET", "/__sim/admission-log?n=20")["items"]
           if e["name"] == "mp"]
    assert log == [("a.mut.test", 0, "patched"), ("c.mut.test", 0, "allowed"),
                   ("b.mut.test", 0, "patched"), ("a.mut.test", 1, "allowed"),
                   ("v.mut.test", 0, "allowed")], log
    # a patch that does not apply is an internal error, whatever the policy
    assert code == 500 and st["reason"] == "InternalError", (code, st)
    assert s.req("GET", "/api/v1/namespaces/mut/pods/mbad")[0] == 404


def t_adm_selectors(s):
    """namespaceSelector (the namespace's labels, including the automatic
    kubernetes.io/metadata.name) and objectSelector (object or oldObject)."""
    hook = ADM.hook
    namespace(s, "sel-in", {"team": "a"})
    namespace(s, "sel-out", {"team": "b"})
    assert s.ok("GET", "/api/v1/namespaces/sel-out")["metadata"]["labels"] == {
        "team": "b", "kubernetes.io/metadata.name": "sel-out"}
    pods = [rule([""], ["pods"], ["CREATE", "UPDATE"])]
    cfg = whc("Validating", "sel", [
        wh("name.sel.test", "/s-name", pods, namespaceSelector={"matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "NotIn",
             "values": ["sel-out", "kube-system"]}]}),
        wh("team.sel.test", "/s-team", pods, namespaceSelector={
            "matchLabels": {"team": "a"},
            "matchExpressions": [{"key": "absent", "operator": "DoesNotExist"}]}),
        wh("obj.sel.test", "/s-obj", pods, objectSelector={"matchExpressions": [
            {"key": "grove.io/podcliquesets", "operator": "Exists"}]}),
        wh("in.sel.test", "/s-in", pods, objectSelector={"matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["fe", "be"]}]}),
        wh("cluster.sel.test", "/s-cluster", [rule(["rbac.authorization.k8s.io"],
                                                   ["clusterroles"], ["CREATE"])],
           namespaceSelector={"matchLabels": {"team": "nobody"}}),
    ])
    hook.clear()
    lab = {"grove.io/podcliquesets": "x"}
    with configs(s, cfg):
        s.ok("POST", "/api/v1/namespaces/sel-in/pods", pod("plain", {"tier": "fe"}))
        s.ok("POST", "/api/v1/namespaces/sel-in/pods", pod("lab", lab))
        s.ok("POST", "/api/v1/namespaces/sel-out/pods", pod("lab", lab))
        s.ok("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
             {"metadata": {"name": "sel-cr"}, "rules": []})
        hook.script("/s-obj", {})
        s.ok("PATCH", "/api/v1/namespaces/sel-in/pods/lab",
             {"metadata": {"labels": {"grove.io/podcliquesets": None}}},
             "application/merge-patch+json")

    def seen(path):
        return [(r["operation"], r.get("namespace"), r["name"]) for r in hook.calls(path)]
    both_in = [("CREATE", "sel-in", "plain"), ("CREATE", "sel-in", "lab"),
               ("UPDATE", "sel-in", "lab")]
    assert seen("/s-name") == both_in, seen("/s-name")
    assert seen("/s-team") == both_in, seen("/s-team")
    assert seen("/s-obj") == [("CREATE", "sel-in", "lab"), ("CREATE", "sel-out", "lab"),
                              ("UPDATE", "sel-in", "lab")], seen("/s-obj")
    upd = hook.calls("/s-obj")[-1]
    assert "grove.io/podcliquesets" not in upd["object"]["metadata"]["labels"]
    assert upd["oldObject"]["metadata"]["labels"] == lab
    assert seen("/s-in") == [("CREATE", "sel-in", "plain")], seen("/s-in")
    assert seen("/s-cluster") == [("CREATE", None, "sel-cr")], seen("/s-cluster")


def fails_with(s, hook_spec, path="/api/v1/namespaces/fail/pods", name="fp"):
    """Creates a pod under one validating webhook; returns (code, Status)."""
    namespace(s, "fail")
    with configs(s, whc("Validating", "fail", [hook_spec])):
        code, st, _ = s.req("POST", path, pod(name))
    if code == 201:
        s.ok("DELETE", path + "/" + name)
    return code, st


def t_adm_call_failures(s):
    """failurePolicy with connection, TLS and answer errors; the messages
    are kube-apiserver's; a caBundle written into a configuration is used by
    the next request; configurations themselves never go through webhooks."""
    hook = ADM.hook
    pods = [rule([""], ["pods"], ["CREATE"])]
    url = "https://hook.test-ns.svc:443/f?timeout=10s"
    code, st = fails_with(s, wh("ca.fail.test", "/f", pods, ca=hook.other_ca_bundle))
    text = ('failed calling webhook "ca.fail.test": failed to call webhook: Post "%s": tls: '
            'failed to verify certificate: x509: certificate signed by unknown authority' % url)
    assert code == 500 and st == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "Internal error occurred: " + text, "reason": "InternalError",
        "details": {"causes": [{"message": text}]}, "code": 500}, st
    code, _ = fails_with(s, wh("ca.fail.test", "/f", pods, ca=hook.other_ca_bundle,
                               failurePolicy="Ignore"))
    assert code == 201, code
    code, st = fails_with(s, wh("noca.fail.test", "/f", pods, ca=""))
    assert code == 500 and "x509: certificate signed by unknown authority" in st["message"], st
    # the certificate is for hook.test-ns.svc, not other.test-ns.svc
    s.ok("POST", "/__sim/resolve-service?service=test-ns/other:443&addr=127.0.0.1:%d"
         % hook.port)
    code, st = fails_with(s, wh("name.fail.test", "/f", pods, service="other"))
    assert code == 500 and 'Post "https://other.test-ns.svc:443/f?timeout=10s": tls: ' \
        'failed to verify certificate: x509: ' in st["message"], st
    code, st = fails_with(s, wh("svc.fail.test", "/f", pods, service="nohook"))
    assert code == 500 and st["message"].endswith(
        'Post "https://nohook.test-ns.svc:443/f?timeout=10s": service "nohook" not found'), st
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    dead = wh("dead.fail.test", "/f", pods)
    dead["clientConfig"] = {"url": "https://127.0.0.1:%d/dead" % port,
                            "caBundle": hook.ca_bundle}
    code, st = fails_with(s, dead)
    assert code == 500 and st["message"].endswith(
        'failed calling webhook "dead.fail.test": failed to call webhook: Post '
        '"https://127.0.0.1:%d/dead?timeout=10s": dial tcp 127.0.0.1:%d: connect: '
        'connection refused' % (port, port)), st
    hook.script("/f-uid", {"uid": "not-the-uid"})
    code, st = fails_with(s, wh("uid.fail.test", "/f-uid", pods))
    assert code == 500 and 'failed calling webhook "uid.fail.test": received invalid webhook ' \
        'response: expected response.uid="' in st["message"], st
    hook.script("/f-500", {"http_status": 500})
    code, st = fails_with(s, wh("http.fail.test", "/f-500", pods))
    assert code == 500 and 'failed calling webhook "http.fail.test": failed to call webhook: ' \
        'an error on the server' in st["message"], st
    code, _ = fails_with(s, wh("http.fail.test", "/f-500", pods, failurePolicy="Ignore"))
    assert code == 201
    # clientConfig.url: verified against the URL's host (here an IP SAN)
    direct = wh("url.fail.test", "/f", pods)
    direct["clientConfig"] = {"url": hook.url("/f"), "caBundle": hook.ca_bundle}
    hook.clear()
    assert fails_with(s, direct)[0] == 201
    assert [q for q, _, _ in hook.raw_calls("/f")] == ["timeout=10s"]

    # a caBundle patched into the stored configuration counts at once
    namespace(s, "fail")
    broken = whc("Validating", "ca-later", [wh("later.fail.test", "/f", pods, ca="")])
    base = "/api/v1/namespaces/fail/pods"
    with configs(s, broken):
        assert s.req("POST", base, pod("later"))[0] == 500
        s.ok("PATCH", cfg_path(broken) + "/ca-later",
             [{"op": "replace", "path": "/webhooks/0/clientConfig/caBundle",
               "value": hook.ca_bundle}], "application/json-patch+json")
        assert s.req("POST", base, pod("later"))[0] == 201
        # a webhook on everything that cannot be called does not block
        # writes of the webhook configurations (the cleanup deletes it)
        everything = whc("Mutating", "fail-all", [wh("all.fail.test", "/f", [
            rule(["*"], ["*/*"])], service="nohook")])
        s.ok("POST", cfg_path(everything), everything)
        assert s.req("DELETE", base + "/later")[0] == 500
        s.ok("DELETE", cfg_path(everything) + "/fail-all")
    s.ok("DELETE", base + "/later")


def t_adm_timeout(s):
    """timeoutSeconds is honoured: a webhook that answers too late fails the call."""
    hook = ADM.hook
    hook.script("/slow", {"sleep": 3})
    hook.clear()
    t = time.monotonic()
    code, st = fails_with(s, wh("slow.fail.test", "/slow", [rule([""], ["pods"], ["CREATE"])],
                                timeoutSeconds=1))
    took = time.monotonic() - t
    assert code == 500 and st["message"].endswith(
        'failed calling webhook "slow.fail.test": failed to call webhook: Post '
        '"https://hook.test-ns.svc:443/slow?timeout=1s": context deadline exceeded'), st
    assert 0.9 < took < 2.6, took       # the call gave up; it did not wait 3 s
    assert hook.raw_calls("/slow")[0][0] == "timeout=1s"


def t_adm_kubectl(s):
    """kubectl renders denials and warnings exactly as it did against a real
    kube-apiserver (tests/fixtures/captured/renderings)."""
    hook = ADM.hook
    namespace(s, "inference")
    cfg = whc("Validating", "render", [
        wh("pcs.validating.webhooks.grove.io", "/render-pcs",
           [rule(["grove.io"], ["podcliquesets"], ["CREATE", "UPDATE"], ["v1alpha1"],
                 "Namespaced")], timeoutSeconds=10, failurePolicy="Fail"),
        wh("scale.validating.webhooks.grove.io", "/render-scale",
           [rule(["grove.io"], ["podcliquesets/scale"], ["UPDATE"], ["v1alpha1"],
                 "Namespaced")])])
    work = os.path.join(ADM.tmp, "inputs")
    os.makedirs(work, exist_ok=True)
    for f in ("bad.yaml", "vllm-disaggregated.yaml"):
        shutil.copy(os.path.join(CAPTURED, "inputs", f), work)
    pcs = "/apis/grove.io/v1alpha1/namespaces/inference/podcliquesets"
    with configs(s, cfg):
        # the Status body, byte for byte as the real server sent it
        hook.script("/render-pcs", captured_answer("deny-one"))
        with open(os.path.join(work, "bad.yaml")) as f:
            bad = yaml.safe_load(f)
        code, st, _ = s.req("POST", pcs, bad)
        assert code == 403, code
        want = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
                '"admission webhook \\"pcs.validating.webhooks.grove.io\\" denied the request: '
                'spec.podCliques[2].startsAfter: Invalid value: \\"prefill-clique\\": '
                'startsAfter cycle: decode-clique -> prefill-clique -> router-clique -> '
                'decode-clique","reason":"Forbidden","details":{"causes":[{"reason":'
                '"FieldValueInvalid","message":"Invalid value: \\"prefill-clique\\": startsAfter '
                'cycle: decode-clique -> prefill-clique -> router-clique -> decode-clique",'
                '"field":"spec.podCliques[2].startsAfter"}]},"code":403}')
        assert json.dumps(st, separators=(",", ":")) == want, st
        # no code in the answer: 400, as ToStatusErr makes it
        hook.script("/render-pcs", {"allowed": False, "status": {"message": "no"}})
        code, st, _ = s.req("POST", pcs, bad)
        assert code == 400 and st["message"] == 'admission webhook ' \
            '"pcs.validating.webhooks.grove.io" denied the request: no' and "reason" not in st

        if not shutil.which("kubectl"):
            print("  note: kubectl not on PATH, renderings not checked")
            return
        cases = [("deny-one", ["apply", "--validate=false", "-f", "bad.yaml"],
                  "deny-one-apply"),
                 ("deny-one", ["create", "--validate=false", "-f", "bad.yaml"],
                  "deny-one-create"),
                 ("deny-many", ["create", "--validate=false", "-f", "bad.yaml"],
                  "deny-many-create"),
                 ("deny-422", ["apply", "--validate=false", "-f", "bad.yaml"],
                  "deny-422-apply")]
        for answer, args, want in cases:
            hook.script("/render-pcs", captured_answer(answer))
            r = kubectl(s, *args, cwd=work)
            assert (r.returncode, r.stdout, r.stderr) == (1, "", rendering(want + ".stderr")), \
                (want, r)
        hook.script("/render-pcs", captured_answer("warn"))
        r = kubectl(s, "create", "--validate=false", "-f", "vllm-disaggregated.yaml", cwd=work)
        assert (r.returncode, r.stdout, r.stderr) == (
            0, rendering("warn-create.stdout"), rendering("warn-create.stderr")), r
        s.ok("PATCH", pcs + "/vllm-disaggregated/scale", {"spec": {"replicas": 2}},
             "application/merge-patch+json")
        hook.script("/render-scale", captured_answer("deny-scale"))
        r = kubectl(s, "scale", "pcs", "vllm-disaggregated", "-n", "inference", "--replicas=5")
        assert (r.returncode, r.stdout, r.stderr) == (1, "", rendering("deny-scale.stderr")), r
        assert s.ok("GET", pcs + "/vllm-disaggregated")["spec"]["replicas"] == 2
        s.ok("DELETE", pcs + "/vllm-disaggregated")


def t_adm_delete_and_dry_run(s):
    """DELETE reaches webhooks with the stored object as oldObject (one per
    object for a deletecollection); dry runs only reach webhooks without side
    effects."""
    hook = ADM.hook
    namespace(s, "del")
    base = "/api/v1/namespaces/del/pods"
    pods = [rule([""], ["pods"], ["CREATE", "DELETE"])]
    cfgs = [whc("Validating", "del", [
        wh("v.del.test", "/d-v", pods),
        wh("some.del.test", "/d-some", [rule([""], ["pods"], ["CREATE"])], sideEffects="Some"),
        wh("ondry.del.test", "/d-ondry", [rule([""], ["pods"], ["CREATE"])],
           sideEffects="NoneOnDryRun")]),
        whc("Mutating", "del", [wh("m.del.test", "/d-m", [rule([""], ["pods"], ["DELETE"])])])]
    for n in ("d1", "d2", "d3", "d4", "d5"):
        s.ok("POST", base, pod(n, {"grp": "x"} if n in ("d2", "d3") else {}))
    hook.clear()
    with configs(s, *cfgs):
        stored = s.ok("GET", base + "/d1")
        s.ok("DELETE", base + "/d1", {"propagationPolicy": "Background"})
        v, m = hook.calls("/d-v")[0], hook.calls("/d-m")[0]
        for r in (v, m):
            assert r["operation"] == "DELETE" and r["object"] is None and r["name"] == "d1", r
            assert r["oldObject"]["metadata"]["uid"] == stored["metadata"]["uid"]
            assert r["options"] == {"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/v1",
                                    "propagationPolicy": "Background"}, r["options"]
        hook.clear()
        s.ok("DELETE", base + "?labelSelector=grp%3Dx")
        coll = hook.calls("/d-v")
        assert sorted(r["oldObject"]["metadata"]["name"] for r in coll) == ["d2", "d3"], coll
        assert all("name" not in r and r["namespace"] == "del" for r in coll), coll
        hook.script("/d-v", lambda req: captured_answer("deny-one")
                    if req.get("name") == "d4" else {})
        code, st, _ = s.req("DELETE", base + "/d4")
        assert code == 403 and st["message"].startswith(
            'admission webhook "v.del.test" denied the request: '), st
        assert s.req("GET", base + "/d4")[0] == 200
        hook.script("/d-m", {"patch": [{"op": "add", "path": "/metadata/labels",
                                        "value": {"x": "y"}}]})
        code, st, _ = s.req("DELETE", base + "/d5")
        assert code == 500 and st["message"] == 'Internal error occurred: admission webhook ' \
            '"m.del.test" attempted to modify the object, which is not supported for this ' \
            'operation', st
        hook.script("/d-v", {})
        hook.clear()
        code, st, _ = s.req("POST", base + "?dryRun=All", pod("dry"))
        assert code == 400 and st["reason"] == "BadRequest" and st["message"] == \
            'admission webhook "some.del.test" does not support dry run', st
        assert hook.calls("/d-some") == []
    with configs(s, whc("Validating", "dry", [
            wh("ondry.dry.test", "/d-ondry", [rule([""], ["pods"], ["CREATE"])],
               sideEffects="NoneOnDryRun")])):
        hook.clear()
        dry = s.ok("POST", base + "?dryRun=All&fieldManager=t", pod("dry"))
        r = hook.calls("/d-ondry")[0]
        assert r["dryRun"] is True and r["options"] == {
            "kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1", "dryRun": ["All"],
            "fieldManager": "t"}, r
        assert r["object"]["metadata"]["uid"] == dry["metadata"]["uid"]
        assert s.req("GET", base + "/dry")[0] == 404
    for n in ("d4", "d5"):
        s.ok("DELETE", base + "/" + n)


def t_adm_users(s):
    """--token users (and /__sim/token) reach webhooks as userInfo."""
    hook = ADM.hook
    namespace(s, "users")
    s.ok("POST", "/__sim/token?token=bob-token&user=bob&groups=g1")
    base = "/api/v1/namespaces/users/configmaps"
    with configs(s, whc("Validating", "users", [
            wh("u.users.test", "/u", [rule([""], ["configmaps"], ["CREATE"])])])):
        hook.clear()
        for i, tok in enumerate(("sa-token", "alice-token", "kube-sim-token", "bob-token",
                                 "unknown")):
            s.ok("POST", base, {"metadata": {"name": "cm%d" % i}}, token=tok)
    users = [r["userInfo"] for r in hook.calls("/u")]
    assert users == [
        {"username": SA_USER, "groups": ["system:serviceaccounts",
                                         "system:serviceaccounts:groved-system",
                                         "system:authenticated"]},
        {"username": "alice", "groups": ["devs", "qa", "system:authenticated"]},
        {"username": "admin", "groups": ["system:masters", "system:authenticated"]},
        {"username": "bob", "groups": ["g1", "system:authenticated"]},
        {"username": "admin", "groups": ["system:masters", "system:authenticated"]}], users


def t_rbac_names_and_hpa(s):
    """RBAC names are path segments, as kube-apiserver validates them
    (groved's initc Role is grove.io:pcs:<pcs>); autoscaling/v2 HPAs are
    served."""
    rbac = "/apis/rbac.authorization.k8s.io/v1/namespaces/default"
    s.ok("POST", rbac + "/roles", {"metadata": {"name": "grove.io:pcs:x"}, "rules": []})
    got = s.ok("GET", rbac + "/roles/grove.io:pcs:x")
    assert got["metadata"]["name"] == "grove.io:pcs:x", got
    s.ok("POST", rbac + "/rolebindings", {
        "metadata": {"name": "grove.io:pcs:x"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                    "name": "grove.io:pcs:x"}, "subjects": []})
    code, st, _ = s.req("POST", rbac + "/roles", {"metadata": {"name": "a%b"}, "rules": []})
    assert code == 422 and "may not contain '%'" in st["message"], (code, st)
    # other kinds keep the RFC 1123 rule
    code, st, _ = s.req("POST", "/api/v1/namespaces/default/configmaps",
                        {"metadata": {"name": "a:b"}})
    assert code == 422 and "RFC 1123" in st["message"], (code, st)
    hpa = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers"
    s.ok("POST", hpa, {"metadata": {"name": "h"}, "spec": {
        "scaleTargetRef": {"apiVersion": "grove.io/v1alpha1", "kind": "PodClique",
                           "name": "p"}, "minReplicas": 1, "maxReplicas": 3}})
    assert s.ok("GET", hpa + "/h")["kind"] == "HorizontalPodAutoscaler"


def t_rbac(_):
    """--authorize: RBAC from stored roles and bindings, for users outside
    system:masters; resourceNames, a name field selector, cluster bindings,
    the real 403 text."""
    r = Sim(extra=["--authorize", "--token", "sa=system:serviceaccount:ns1:app",
                   "--token", "dev=dev:devs"])
    try:
        rbac = "/apis/rbac.authorization.k8s.io/v1"
        r.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "ns1"}}, token="kube-sim-token")
        secrets = "/api/v1/namespaces/ns1/secrets"
        r.ok("POST", secrets, {"metadata": {"name": "mine"}})   # test-token: admin
        r.ok("POST", secrets, {"metadata": {"name": "other"}})
        # nothing bound yet: denied, in kube-apiserver's words
        code, st, _ = r.req("GET", secrets + "/mine", token="sa")
        assert code == 403 and st["reason"] == "Forbidden", (code, st)
        assert st["message"] == ('secrets "mine" is forbidden: User '
                                 '"system:serviceaccount:ns1:app" cannot get resource '
                                 '"secrets" in API group "" in the namespace "ns1"'), st
        # a grouped resource is qualified before the name; no namespace is the cluster scope
        code, st, _ = r.req("GET", rbac + "/namespaces/ns1/roles/x", token="sa")
        assert code == 403 and st["message"] == (
            'roles.rbac.authorization.k8s.io "x" is forbidden: User '
            '"system:serviceaccount:ns1:app" cannot get resource "roles" in API group '
            '"rbac.authorization.k8s.io" in the namespace "ns1"'), st
        code, st, _ = r.req("GET", rbac + "/clusterroles", token="sa")
        assert code == 403 and st["message"] == (
            'clusterroles.rbac.authorization.k8s.io is forbidden: User '
            '"system:serviceaccount:ns1:app" cannot list resource "clusterroles" in API group '
            '"rbac.authorization.k8s.io" at the cluster scope'), st
        r.ok("POST", rbac + "/namespaces/ns1/roles", {
            "metadata": {"name": "r"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
                      {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"],
                       "resourceNames": ["mine"]}]})
        r.ok("POST", rbac + "/namespaces/ns1/rolebindings", {
            "metadata": {"name": "rb"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
            "subjects": [{"kind": "ServiceAccount", "name": "app", "namespace": "ns1"}]})
        r.ok("GET", secrets + "/mine", token="sa")
        assert r.req("GET", secrets + "/other", token="sa")[0] == 403
        assert r.req("GET", secrets, token="sa")[0] == 403       # a list is not by name
        r.ok("GET", secrets + "?fieldSelector=metadata.name%3Dmine", token="sa")
        r.ok("POST", secrets, {"metadata": {"name": "new"}}, token="sa")
        assert r.req("DELETE", secrets + "/mine", token="sa")[0] == 403
        # another namespace is not covered by a RoleBinding
        assert r.req("GET", "/api/v1/namespaces/default/secrets/x", token="sa")[0] == 403
        # a group through a ClusterRoleBinding, a subresource by its own name
        assert r.req("GET", "/api/v1/namespaces/ns1/pods", token="dev")[0] == 403
        r.ok("POST", rbac + "/clusterroles", {
            "metadata": {"name": "pods-reader"},
            "rules": [{"apiGroups": [""], "resources": ["pods", "pods/status"],
                       "verbs": ["get", "list", "watch"]}]})
        r.ok("POST", rbac + "/clusterrolebindings", {
            "metadata": {"name": "devs"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "pods-reader"},
            "subjects": [{"kind": "Group", "name": "devs"}]})
        r.ok("GET", "/api/v1/namespaces/ns1/pods", token="dev")
        code, st, _ = r.req("POST", "/api/v1/namespaces/ns1/pods",
                            {"metadata": {"name": "p"}}, token="dev")
        assert code == 403 and 'cannot create resource "pods"' in st["message"], st
        # discovery is open to everyone
        r.ok("GET", "/apis", token="dev")
    finally:
        assert r.stop() == 0


def t_store_subscribe(_):
    """In process, no HTTP: Store.subscribe() queues every event of its
    resource (replayed ones first), writes by Store.create/update/delete and
    by the garbage collector alike, and nothing after unsubscribe()."""
    import queue
    from kubesim.errors import ApiError
    from kubesim.store import Store
    st = Store()
    pods, cms = st.types[("", "pods")], st.types[("", "configmaps")]
    st.create(pods, "default", {"metadata": {"name": "before"}, "spec": {}})
    q = st.subscribe("", "pods", replay=True)
    ev = q.get(timeout=5)
    assert (ev.type, ev.resource, ev.obj["metadata"]["name"], ev.old) == \
        ("ADDED", ("", "pods"), "before", None), ev
    cm = st.create(cms, "default", {"metadata": {"name": "owner"}})
    st.create(pods, "default", {"metadata": {"name": "p", "ownerReferences": [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
         "uid": cm["metadata"]["uid"]}]}, "spec": {}})
    ev = q.get(timeout=5)
    assert ev.type == "ADDED" and ev.obj["metadata"]["name"] == "p", ev
    rv = ev.obj["metadata"]["resourceVersion"]
    up = st.update(pods, "default", "p", dict(ev.obj, spec={"nodeName": "n1"}))
    ev = q.get(timeout=5)
    assert ev.type == "MODIFIED" and ev.obj["spec"] == {"nodeName": "n1"}, ev
    assert ev.old["metadata"]["resourceVersion"] == rv, ev
    assert ev.obj["metadata"]["resourceVersion"] == up["metadata"]["resourceVersion"] != rv
    ev.obj["spec"]["nodeName"] = "changed"         # a copy: the store keeps its own
    assert st.get(pods, "default", "p")["spec"]["nodeName"] == "n1"
    try:
        st.update(pods, "default", "p", dict(up, metadata=dict(up["metadata"],
                                                                resourceVersion=rv)))
        raise AssertionError("a stale resourceVersion was accepted")
    except ApiError as e:
        assert e.code == 409, e.code
    # the owner's deletion reaches the pod through the garbage collector
    st.delete(cms, "default", "owner", {})
    ev = q.get(timeout=5)
    assert ev.type == "DELETED" and ev.obj["metadata"]["name"] == "p", ev
    st.unsubscribe(q)
    st.delete(pods, "default", "before", {})
    try:
        ev = q.get(timeout=0.2)
        raise AssertionError("an event after unsubscribe: %r" % (ev,))
    except queue.Empty:
        pass


ADM_TESTS = [t_adm_rules, t_adm_mutating, t_adm_selectors, t_adm_call_failures, t_adm_timeout,
             t_adm_kubectl, t_adm_delete_and_dry_run, t_adm_users]


TESTS = [t_pod_crud, t_already_exists_and_conflict, t_generate_name, t_label_selectors,
         t_paging, t_watch_resume, t_watch_gone_after_compact, t_drop_watches, t_patches,
         t_finalizers, t_gc, t_pcs, t_crd_lifecycle_and_versions, t_faults_and_token,
         t_keepalive, t_kubectl, t_install_kinds, t_tls, t_rbac, t_rbac_names_and_hpa,
         t_store_subscribe]


def run(tests, s):
    passed = failed = 0
    for t in tests:
        start = time.monotonic()
        try:
            t(s)
            passed += 1
            print("PASS %s (%.1fs)" % (t.__name__, time.monotonic() - start))
        except Exception:
            failed += 1
            print("FAIL %s" % t.__name__)
            traceback.print_exc(file=sys.stdout)
    return passed, failed


def main():
    global ADM
    passed = failed = 0
    only = sys.argv[2:]          # optional test names, for debugging
    s = Sim(extra=[])
    try:
        p, f = run([t for t in TESTS if not only or t.__name__ in only], s)
        passed, failed = passed + p, failed + f
    finally:
        rc = s.stop()
        if rc != 0:
            failed += 1
            print("FAIL kube-sim exit status %d on SIGTERM" % rc)
    adm_tests = [t for t in ADM_TESTS if not only or t.__name__ in only]
    if adm_tests:
        ADM = Adm()
        try:
            p, f = run(adm_tests, ADM.sim)
            passed, failed = passed + p, failed + f
        finally:
            rc = ADM.stop()
            if rc != 0:
                failed += 1
                print("FAIL admission kube-sim exit status %d on SIGTERM" % rc)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
