#!/usr/bin/env python3
"""Tests for tests/kube-sim.  Usage: python3 tests/kube-sim/test_kube_sim.py <repo-root>

Starts kube-sim on 127.0.0.1 with an ephemeral port (plain HTTP, then once
with --tls-dir) and drives it with urllib (and kubectl when it is on PATH).
The last line printed is "N passed, N failed"; the exit status is non-zero
when anything failed.
"""

import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
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

    def req(self, method, path, body=None, ctype="application/json", headers=None):
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        r = urllib.request.Request(self.url + path, data=data, method=method)
        r.add_header("Authorization", "Bearer test-token")
        if data is not None:
            r.add_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            r.add_header(k, v)
        try:
            with urllib.request.urlopen(r, context=self.ctx, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null"), resp.headers
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null"), e.headers

    def ok(self, method, path, body=None, ctype="application/json", want=(200, 201)):
        code, obj, _ = self.req(method, path, body, ctype)
        assert code in want, "%s %s -> %d %s" % (method, path, code, obj)
        return obj

    def watch(self, path, n, timeout=10):
        """Read up to n events (or until the stream ends)."""
        r = urllib.request.Request(self.url + path)
        events = []
        with urllib.request.urlopen(r, context=self.ctx, timeout=timeout) as resp:
            assert resp.headers.get("Transfer-Encoding") == "chunked"
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

    # live events with a label selector, and bookmarks
    rv2 = s.ok("GET", base)["metadata"]["resourceVersion"]
    out = []
    th = threading.Thread(target=lambda: out.extend(s.watch(
        base + "?watch=true&labelSelector=k%3Dv&allowWatchBookmarks=true&timeoutSeconds=3"
        "&resourceVersion=" + rv2, 50)))
    th.start()
    time.sleep(0.3)
    s.ok("POST", base, pod("nolabel"))
    s.ok("POST", base, pod("lab", {"k": "v"}))
    th.join()
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
    done = []
    th = threading.Thread(target=lambda: done.append(s.watch(PODS + "?watch=true", 1000, 30)))
    th.start()
    time.sleep(0.5)
    s.ok("POST", "/__sim/drop-watches")
    th.join(5)
    assert done, "watch was not closed"


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
    code, _, _ = s.req("PATCH", PODS + "/pt", {}, "application/apply-patch+yaml")
    assert code == 415


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
    time.sleep(0.2)
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


TESTS = [t_pod_crud, t_already_exists_and_conflict, t_generate_name, t_label_selectors,
         t_paging, t_watch_resume, t_watch_gone_after_compact, t_drop_watches, t_patches,
         t_finalizers, t_gc, t_pcs, t_crd_lifecycle_and_versions, t_faults_and_token,
         t_keepalive, t_kubectl, t_tls]


def main():
    passed = failed = 0
    s = Sim(extra=[])
    try:
        for t in TESTS:
            try:
                t(s)
                passed += 1
                print("PASS %s" % t.__name__)
            except Exception:
                failed += 1
                print("FAIL %s" % t.__name__)
                traceback.print_exc(file=sys.stdout)
    finally:
        rc = s.stop()
        if rc != 0:
            failed += 1
            print("FAIL kube-sim exit status %d on SIGTERM" % rc)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
