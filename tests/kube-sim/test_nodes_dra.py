#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Tests of kube-sim's nodes, devices, DRA and service-account tokens.

Usage: python3 tests/kube-sim/test_nodes_dra.py <repo-root> [groved] [test names...]

- t_cmd_*: the kube-sim command with --nodes tests/fixtures/nodes/reference.yaml,
  --tls-dir and --authorize, driven over HTTPS: Nodes, ResourceSlices and the
  DeviceClass; kubectl get (when kubectl is on PATH); claims made from
  templates; token Secrets filled and their tokens authenticated under RBAC,
  and used by a real `groved initc` (when groved is given).
- t_cel_*: kubesim.cel on every selector expression of
  examples/claim-templates.yaml (and those the upstream Grove samples
  carry: they write none) and on the forms users write, each with a
  matching and a non-matching device; unsupported parts reported by name.
- t_dra_*: kubesim.dra allocation on a store served over HTTP in this
  process (objects written through the API, allocation called as the
  scheduler calls it): exclusive devices, count, All, shared claims,
  constraints, no fit with the reason; the claim lifecycle with the pod.

The last line is "N passed, N failed"; the exit status is non-zero on failure.
"""

import base64
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
GROVED = sys.argv[2] if len(sys.argv) > 2 and os.path.exists(sys.argv[2]) else None
ONLY = sys.argv[3:] if GROVED else sys.argv[2:]
SIM = os.path.join(ROOT, "tests", "kube-sim", "kube-sim")
NODES = os.path.join(ROOT, "tests", "fixtures", "nodes", "reference.yaml")
LARGE = os.path.join(ROOT, "tests", "fixtures", "nodes", "large.yaml")
TEMPLATES = os.path.join(ROOT, "examples", "claim-templates.yaml")

sys.path.insert(0, os.path.join(ROOT, "tests", "kube-sim"))
from kubesim import cel, claims, dra, nodes, state, tokens  # noqa: E402
from kubesim.http_api import Handler  # noqa: E402
from kubesim.server import Server  # noqa: E402
from kubesim.store import Store  # noqa: E402

DRIVER = "gpu.nvidia.com"

# The selector expressions of examples/claim-templates.yaml (copied; the
# test checks the copy), the DeviceClass's, and the upstream Grove samples'
# (operator/samples/ at fcc3b3bb: none of them carries a claim selector).
B200_SEL = ('device.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA B200") '
            '&& device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("170Gi")) >= 0')
H200_SEL = ('device.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA H200") '
            '&& device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("132Gi")) >= 0')
# what the example asked before: no real B200 (183359Mi, 179.06Gi) has 180Gi
B200_SEL_180 = B200_SEL.replace("170Gi", "180Gi")
CLASS_SEL = nodes.DEVICE_CLASS_SELECTOR


def gpu(product, memory, **attrs):
    a = {"type": {"string": "gpu"}, "productName": {"string": product},
         "architecture": {"string": "Hopper"}, "index": {"int": 0},
         "driverVersion": {"version": "570.133.20"},
         "resource.kubernetes.io/pcieRoot": {"string": "pci0000:15"}}
    a.update(attrs)
    return {"name": "gpu-0", "attributes": a, "capacity": {"memory": {"value": memory}}}


REAL_B200 = None      # the device reference.yaml gives b200-0 (set in main)
REAL_H200 = None

# (expression, a matching device, a non-matching device); the reference
# ones first
CASES = [
    (B200_SEL, lambda: REAL_B200, lambda: gpu("NVIDIA B200", "160Gi")),
    (B200_SEL, lambda: REAL_B200, lambda: REAL_H200),
    (B200_SEL_180, lambda: gpu("NVIDIA B200", "196608Mi"), lambda: REAL_B200),
    (H200_SEL, lambda: REAL_H200, lambda: gpu("NVIDIA H200", "131072Mi")),
    (H200_SEL, lambda: REAL_H200, lambda: REAL_B200),
    (CLASS_SEL, lambda: REAL_H200, lambda: gpu("NVIDIA H200", "1", type={"string": "mig"})),
    ('device.driver == "gpu.nvidia.com"', lambda: REAL_H200, None),
    ('device.attributes["gpu.nvidia.com"]["productName"] == "NVIDIA H200"',
     lambda: REAL_H200, lambda: REAL_B200),
    ("device.attributes['gpu.nvidia.com'].productName != 'NVIDIA H200'",
     lambda: REAL_B200, lambda: REAL_H200),
    ('device.attributes["gpu.nvidia.com"].productName.endsWith("B200")',
     lambda: REAL_B200, lambda: REAL_H200),
    ('device.attributes["gpu.nvidia.com"].productName.matches("^NVIDIA [BH]200$")',
     lambda: REAL_B200, lambda: gpu("NVIDIA H100 80GB HBM3", "80Gi")),
    ('device.attributes["gpu.nvidia.com"].productName.contains("H200")',
     lambda: REAL_H200, lambda: REAL_B200),
    ('device.attributes["gpu.nvidia.com"].architecture in ["Hopper", "Blackwell"]',
     lambda: REAL_B200, lambda: gpu("NVIDIA A100", "80Gi", architecture={"string": "Ampere"})),
    ('device.attributes["gpu.nvidia.com"].index >= 4 && device.attributes["gpu.nvidia.com"]'
     '.index < 8', lambda: gpu("NVIDIA H200", "1", index={"int": 5}), lambda: REAL_H200),
    ('device.capacity["gpu.nvidia.com"].memory.isGreaterThan(quantity("140Gi"))',
     lambda: REAL_H200, lambda: gpu("NVIDIA H100", "80Gi")),
    ('device.capacity["gpu.nvidia.com"].memory.isLessThan(quantity("151G"))',
     lambda: REAL_H200, lambda: REAL_B200),
    ('device.attributes["gpu.nvidia.com"].driverVersion.isGreaterThan(semver("550.0.0"))',
     lambda: REAL_H200, lambda: gpu("x", "1", driverVersion={"version": "535.104.5"})),
    ('device.attributes["resource.kubernetes.io"].pcieRoot == "pci0000:15"',
     lambda: REAL_H200, lambda: gpu("x", "1", **{
         "resource.kubernetes.io/pcieRoot": {"string": "pci0000:3d"}})),
    ('!(device.attributes["gpu.nvidia.com"].productName == "NVIDIA B200") || '
     '(device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("200Gi")) > 0)',
     lambda: REAL_H200, lambda: REAL_B200),
    ('has(device.attributes["gpu.nvidia.com"].uuid)', lambda: REAL_H200,
     lambda: gpu("x", "1")),
    ('cel.bind(g, device.attributes["gpu.nvidia.com"], g.productName == "NVIDIA H200" && '
     'g.architecture == "Hopper")', lambda: REAL_H200, lambda: REAL_B200),
]

UNSUPPORTED = [
    ('device.attributes["gpu.nvidia.com"].productName.exists(c, c == "B")', "macro 'exists'"),
    ('["a"].all(x, x == "a")', "macro 'all'"),
    ('device.capacity["gpu.nvidia.com"].memory.asApproximateFloat() > 1.0',
     "method 'asApproximateFloat'"),
    ('device.attributes["gpu.nvidia.com"].index * 2 > 3', "operator '*'"),
    ('timestamp("2024-01-01T00:00:00Z") != null', "function 'timestamp'"),
    ('{"a": 1}["a"] == 1', "map literals"),
    ('device.attributes["gpu.nvidia.com"].productName.lowerAscii().trim() == "x"',
     "method 'trim'"),
]


# -- plumbing

class Sim:
    """The kube-sim command over HTTPS."""

    def __init__(self, extra=()):
        self.tmp = tempfile.mkdtemp(prefix="kube-sim-dra-")
        self.kubeconfig = os.path.join(self.tmp, "kubeconfig")
        self.ca_file = os.path.join(self.tmp, "tls", "ca.crt")
        cmd = [sys.executable, SIM, "--addr", "127.0.0.1:0", "--kubeconfig-out",
               self.kubeconfig, "--tls-dir", os.path.join(self.tmp, "tls")] + list(extra)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening "), "kube-sim did not start: %r" % line
        self.url = line.split()[1]
        self.ctx = ssl.create_default_context(cafile=self.ca_file)
        with open(self.kubeconfig) as f:
            self.admin = yaml.safe_load(f)["users"][0]["user"]["token"]

    def stop(self):
        self.proc.terminate()
        rc = self.proc.wait(10)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return rc

    def req(self, method, path, body=None, token=None):
        data = json.dumps(body).encode() if body is not None else None
        r = urllib.request.Request(self.url + path, data=data, method=method)
        r.add_header("Authorization", "Bearer " + (token or self.admin))
        if data is not None:
            r.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(r, context=self.ctx, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def ok(self, method, path, body=None, want=(200, 201)):
        code, obj = self.req(method, path, body)
        assert code in want, "%s %s -> %d %s" % (method, path, code, obj)
        return obj


class Local:
    """A store of this process served over HTTP, with the claim and token
    controllers on it: objects go in through the API, allocation is called
    on the store as the scheduler calls it."""

    def __init__(self):
        self.store = state.STORE = Store()
        self.httpd = Server(("127.0.0.1", 0), Handler)
        state.SIM.address = "%s:%d" % self.httpd.server_address[:2]
        self.url = "http://" + state.SIM.address
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True).start()
        self.claims = claims.ClaimController(self.store).start()
        self.tokens = tokens.TokenController(self.store).start()

    def stop(self):
        self.claims.stop()
        self.tokens.stop()
        self.httpd.shutdown()
        self.httpd.server_close()

    def req(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        r = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            r.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(r, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def ok(self, method, path, body=None, want=(200, 201)):
        code, obj = self.req(method, path, body)
        assert code in want, "%s %s -> %d %s" % (method, path, code, obj)
        return obj


def wait_for(fn, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.02)
    return fn()


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


RC = "/apis/resource.k8s.io/v1beta2"


def claim_obj(name, expr=None, count=None, mode=None, cls=DRIVER, requests=None,
              constraints=None):
    if requests is None:
        ex = {"deviceClassName": cls}
        if expr:
            ex["selectors"] = [{"cel": {"expression": expr}}]
        if count:
            ex["count"] = count
        if mode:
            ex["allocationMode"] = mode
        requests = [{"name": "gpu", "exactly": ex}]
    spec = {"devices": {"requests": requests}}
    if constraints:
        spec["devices"]["constraints"] = constraints
    return {"apiVersion": "resource.k8s.io/v1beta2", "kind": "ResourceClaim",
            "metadata": {"name": name}, "spec": spec}


def pod_obj(name, claim_refs):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"resourceClaims": claim_refs,
                     "containers": [{"name": "c", "image": "busybox",
                                     "resources": {"claims": [{"name": r["name"]}
                                                              for r in claim_refs]}}]}}


def load_templates():
    with open(TEMPLATES) as f:
        return [d for d in yaml.safe_load_all(f) if d]


# -- the kube-sim command

def t_cmd_nodes_and_slices(s):
    nl = s.ok("GET", "/api/v1/nodes")["items"]
    check(sorted(n["metadata"]["name"] for n in nl) == ["b200-0", "h200-0", "h200-1"],
          "nodes: %s" % [n["metadata"]["name"] for n in nl])
    b = [n for n in nl if n["metadata"]["name"] == "b200-0"][0]
    labels = b["metadata"]["labels"]
    check(labels["nvidia.com/gpu.product"] == "NVIDIA-B200" and
          labels["kubernetes.io/hostname"] == "b200-0" and
          labels["topology.kubernetes.io/zone"] == "zone-0" and
          labels["example.com/rack"] == "rack-0", "labels: %s" % labels)
    st = b["status"]
    check(st["allocatable"]["cpu"] == "220" and st["allocatable"]["pods"] == "110" and
          st["capacity"]["cpu"] == "224", "allocatable/capacity: %s" % st)
    ready = [c for c in st["conditions"] if c["type"] == "Ready"]
    check(ready and ready[0]["status"] == "True", "Ready: %s" % st["conditions"])
    check(any(a["type"] == "InternalIP" for a in st["addresses"]), "addresses")
    sl = s.ok("GET", RC + "/resourceslices")["items"]
    check(len(sl) == 3, "3 slices, got %d" % len(sl))
    by = {x["spec"]["nodeName"]: x for x in sl}
    bs = by["b200-0"]
    check(bs["metadata"]["name"].startswith("b200-0-gpu.nvidia.com-") and
          bs["spec"]["driver"] == DRIVER and
          bs["spec"]["pool"] == {"name": "b200-0", "generation": 1, "resourceSliceCount": 1},
          "slice: %s" % bs["metadata"]["name"])
    check(bs["metadata"]["ownerReferences"][0]["uid"] == b["metadata"]["uid"],
          "a slice is owned by its Node")
    devs = bs["spec"]["devices"]
    check([d["name"] for d in devs] == ["gpu-%d" % i for i in range(8)], "device names")
    d0 = devs[0]
    check(d0["attributes"]["productName"] == {"string": "NVIDIA B200"} and
          d0["attributes"]["type"] == {"string": "gpu"} and
          d0["attributes"]["driverVersion"] == {"version": "570.133.20"} and
          d0["attributes"]["uuid"]["string"].startswith("GPU-") and
          d0["capacity"]["memory"] == {"value": "183359Mi"}, "device: %s" % d0)
    check(len({d["attributes"]["uuid"]["string"] for d in devs}) == 8, "uuids are unique")
    check(by["h200-0"]["spec"]["devices"][0]["capacity"]["memory"] == {"value": "143771Mi"},
          "H200 memory")
    dc = s.ok("GET", RC + "/deviceclasses/gpu.nvidia.com")
    check(dc["spec"]["selectors"][0]["cel"]["expression"] == CLASS_SEL, "device class: %s" % dc)
    for v in ("v1", "v1beta1"):
        s.ok("GET", "/apis/resource.k8s.io/%s/resourceslices" % v)


def t_cmd_kubectl(s):
    if not shutil.which("kubectl"):
        print("  (kubectl not on PATH: skipped)")
        return
    out = subprocess.run(["kubectl", "--kubeconfig", s.kubeconfig, "get",
                          "nodes,resourceslices,resourceclaims,deviceclasses", "-A"],
                         capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, "kubectl: %s" % out.stderr)
    for want in ("node/b200-0", "node/h200-1",
                 "resourceslice.resource.k8s.io/h200-0-gpu.nvidia.com-",
                 "deviceclass.resource.k8s.io/gpu.nvidia.com"):
        check(want in out.stdout, "kubectl get lacks %r:\n%s" % (want, out.stdout))


def t_cmd_claims_from_templates(s):
    s.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "inference"}})
    for t in load_templates():
        s.ok("POST", RC + "/namespaces/inference/resourceclaimtemplates", t)
    p = pod_obj("vllm-0-decode-abcde", [{"name": "gpu",
                                         "resourceClaimTemplateName": "h200-decode-claim"}])
    s.ok("POST", "/api/v1/namespaces/inference/pods", p)

    def recorded():
        got = s.ok("GET", "/api/v1/namespaces/inference/pods/vllm-0-decode-abcde")
        return (got.get("status") or {}).get("resourceClaimStatuses")
    rcs = wait_for(recorded)
    check(rcs and len(rcs) == 1 and rcs[0]["name"] == "gpu", "resourceClaimStatuses: %s" % rcs)
    name = rcs[0]["resourceClaimName"]
    check(name.startswith("vllm-0-decode-abcde-gpu-") and len(name) == len(
        "vllm-0-decode-abcde-gpu-") + 5, "claim name %r" % name)
    c = s.ok("GET", RC + "/namespaces/inference/resourceclaims/" + name)
    check(c["spec"]["devices"]["requests"][0]["exactly"]["deviceClassName"] == DRIVER,
          "claim spec from the template: %s" % c["spec"])


def _secret(name, sa):
    return {"apiVersion": "v1", "kind": "Secret", "type": tokens.SECRET_TYPE,
            "metadata": {"name": name, "annotations": {tokens.SA_NAME_KEY: sa}}}


def t_cmd_tokens(s):
    ns = "/api/v1/namespaces/tok"
    s.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "tok"}})
    sa = s.ok("POST", ns + "/serviceaccounts", {"metadata": {"name": "reader"}})
    s.ok("POST", ns + "/secrets", _secret("reader-sat", "reader"))

    def filled():
        sec = s.ok("GET", ns + "/secrets/reader-sat")
        return sec if (sec.get("data") or {}).get("token") else None
    sec = wait_for(filled)
    check(sec, "the token Secret was not filled")
    data = {k: base64.b64decode(v).decode() for k, v in sec["data"].items()}
    with open(s.ca_file) as f:
        check(data.get("ca.crt") == f.read(), "ca.crt is kube-sim's CA")
    check(data["namespace"] == "tok", "namespace: %r" % data["namespace"])
    check(sec["metadata"]["annotations"][tokens.SA_UID_KEY] == sa["metadata"]["uid"],
          "the uid annotation")
    tok = data["token"]
    # the token over HTTPS, verified against the Secret's ca.crt
    code, body = s.req("GET", ns + "/pods", token=tok)
    check(code == 403 and body["reason"] == "Forbidden" and
          'User "system:serviceaccount:tok:reader" cannot list resource "pods"' in
          body["message"], "without a grant: %d %s" % (code, body))
    s.ok("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/tok/roles", {
        "metadata": {"name": "pod-reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]})
    s.ok("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/tok/rolebindings", {
        "metadata": {"name": "pod-reader"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                    "name": "pod-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": "tok"}]})
    code, body = s.req("GET", ns + "/pods", token=tok)
    check(code == 200 and body["kind"] == "PodList", "with the grant: %d %s" % (code, body))
    code, body = s.req("GET", ns + "/secrets", token=tok)
    check(code == 403, "secrets are not granted: %d" % code)
    # ... by group too: system:serviceaccounts:tok
    s.ok("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/tok/roles", {
        "metadata": {"name": "cm"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}]})
    s.ok("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/tok/rolebindings", {
        "metadata": {"name": "cm"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm"},
        "subjects": [{"kind": "Group", "name": "system:serviceaccounts:tok",
                      "apiGroup": "rbac.authorization.k8s.io"}]})
    code, _ = s.req("GET", ns + "/configmaps", token=tok)
    check(code == 200, "the namespace's service-account group: %d" % code)
    # a forged token of our shape
    head, body_, sig = tok.split(".")
    code, body = s.req("GET", ns + "/pods", token="%s.%s.%s" % (head, body_, sig[::-1]))
    check(code == 401 and body["reason"] == "Unauthorized", "forged: %d %s" % (code, body))
    # a Secret for a ServiceAccount that does not exist is deleted
    s.ok("POST", ns + "/secrets", _secret("orphan-sat", "nobody"))
    check(wait_for(lambda: s.req("GET", ns + "/secrets/orphan-sat")[0] == 404),
          "a token Secret without its ServiceAccount is deleted")
    # deleting the ServiceAccount deletes its token Secret; the token stops working
    s.ok("DELETE", ns + "/serviceaccounts/reader")
    check(wait_for(lambda: s.req("GET", ns + "/secrets/reader-sat")[0] == 404),
          "the token Secret goes with its ServiceAccount")
    code, body = s.req("GET", ns + "/pods", token=tok)
    check(code == 401, "a revoked token: %d %s" % (code, body))


def t_cmd_groved_initc(s):
    """groved initc, given the files of a filled token Secret, reaches
    kube-sim over HTTPS as its ServiceAccount."""
    if not GROVED:
        print("  (no groved given: skipped)")
        return
    ns = "/api/v1/namespaces/gi"
    s.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "gi"}})
    s.ok("POST", ns + "/serviceaccounts", {"metadata": {"name": "set"}})
    s.ok("POST", ns + "/secrets", _secret("set-ic-sat", "set"))
    sec = wait_for(lambda: (s.ok("GET", ns + "/secrets/set-ic-sat").get("data") or {})
                   .get("token") and s.ok("GET", ns + "/secrets/set-ic-sat"))
    check(sec, "the token Secret was not filled")
    root = tempfile.mkdtemp(prefix="sa-root-")
    d = os.path.join(root, "var/run/secrets/kubernetes.io/serviceaccount")
    os.makedirs(d)
    for k in ("token", "ca.crt", "namespace"):
        with open(os.path.join(d, k), "wb") as f:
            f.write(base64.b64decode(sec["data"][k]))
    host, port = s.url.split("//")[1].rsplit(":", 1)
    env = dict(os.environ, GROVED_SERVICEACCOUNT_ROOT=root, KUBERNETES_SERVICE_HOST=host,
               KUBERNETES_SERVICE_PORT=port)
    cmd = [GROVED, "initc", "--podcliques=parent:1", "--log-every=200ms"]
    try:
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)
        check(r.returncode == 1 and "forbidden" in r.stderr and
              "system:serviceaccount:gi:set" in r.stderr,
              "without a grant: exit %d\n%s" % (r.returncode, r.stderr))
        s.ok("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/gi/roles", {
            "metadata": {"name": "r"}, "rules": [{"apiGroups": [""], "resources": ["pods"],
                                                  "verbs": ["get", "list", "watch"]}]})
        s.ok("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/gi/rolebindings", {
            "metadata": {"name": "r"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
            "subjects": [{"kind": "ServiceAccount", "name": "set", "namespace": "gi"}]})
        p = s.ok("POST", ns + "/pods", {"metadata": {"name": "parent-0",
                                                    "labels": {"grove.io/podclique": "parent"}},
                                       "spec": {"containers": [{"name": "c", "image": "x"}]}})
        p["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        s.ok("PUT", ns + "/pods/parent-0/status", p)
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)
        check(r.returncode == 0 and "done" in r.stderr,
              "with the grant and a Ready parent: exit %d\n%s" % (r.returncode, r.stderr))
    finally:
        shutil.rmtree(root, ignore_errors=True)


# -- CEL

def t_cel_examples_copied(_):
    got = []
    for t in load_templates():
        for r in t["spec"]["spec"]["devices"]["requests"]:
            got += [s["cel"]["expression"] for s in r["exactly"].get("selectors") or []]
    check(got == [B200_SEL, H200_SEL],
          "examples/claim-templates.yaml's selectors changed; update the copies:\n%s" % got)


def t_cel_cases(_):
    for expr, yes, no in CASES:
        if yes is not None:
            check(cel.evaluate(expr, yes(), DRIVER) is True, "should match: %s" % expr)
        if no is not None:
            check(cel.evaluate(expr, no(), DRIVER) is False, "should not match: %s" % expr)
    # 180Gi, as the example once asked, refuses every real B200 (183359Mi)
    check(not cel.evaluate(B200_SEL_180, REAL_B200, DRIVER), "real B200 vs 180Gi")
    # v1beta1's device shape (attributes under basic) reads the same
    check(cel.evaluate(H200_SEL, {"name": "gpu-0", "basic": {
        "attributes": REAL_H200["attributes"], "capacity": REAL_H200["capacity"]}}, DRIVER),
        "v1beta1 device shape")
    # a driver's domain is the unqualified names' domain; another driver's is not
    check(not cel.evaluate('has(device.attributes["gpu.nvidia.com"].productName)', REAL_H200,
                           "other.example.com"), "domain of unqualified names")


def t_cel_unsupported(_):
    for expr, part in UNSUPPORTED:
        try:
            cel.evaluate(expr, REAL_H200, DRIVER)
        except cel.Unsupported as e:
            check(part in str(e), "%s: %r does not name %r" % (expr, str(e), part))
            continue
        raise AssertionError("not reported as unsupported: %s" % expr)
    for expr, part in (('device.attributes["gpu.nvidia.com"].model == "x"', "no such key: model"),
                       ('device.attributes["gpu.nvidia.com"].productName > 3', "no such overload"),
                       ('device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("1Q")) > 0',
                        "quantities must match"),
                       ('device.attributes["gpu.nvidia.com"].productName',
                        "must evaluate to bool")):
        try:
            cel.evaluate(expr, REAL_H200, DRIVER)
        except cel.CelError as e:
            check(part in str(e), "%s: %r does not say %r" % (expr, str(e), part))
            continue
        raise AssertionError("no runtime error: %s" % expr)
    # an error on one side of || or && is absorbed when the other decides, as in CEL
    check(cel.evaluate('device.attributes["gpu.nvidia.com"].model == "x" || true', REAL_H200,
                       DRIVER), "error || true")
    check(not cel.evaluate('false && device.attributes["gpu.nvidia.com"].model == "x"', REAL_H200,
                           DRIVER), "false && error")


# -- DRA allocation (in this process)

def _alloc(L, pod, node):
    return dra.allocate(L.store, pod, node, dra.taken_devices(L.store))


def _claim_pod(L, ns, pname, claim):
    """A pod using a claim: a new one (a dict, created here) or by name."""
    name = claim
    if isinstance(claim, dict):
        L.ok("POST", RC + "/namespaces/%s/resourceclaims" % ns, claim)
        name = claim["metadata"]["name"]
    return L.ok("POST", "/api/v1/namespaces/%s/pods" % ns,
                pod_obj(pname, [{"name": "gpu", "resourceClaimName": name}]))


def t_dra_exclusive_and_no_fit(L):
    ns = "ex"
    for i in range(9):
        pod = _claim_pod(L, ns, "d-%d" % i, claim_obj("d-%d" % i, H200_SEL))
        res, why = _alloc(L, pod, "h200-0")
        if i < 8:
            check(res is not None, "pod %d: %s" % (i, why))
            check(dra.commit(L.store, pod, "h200-0", res) is None, "commit %d" % i)
        else:
            check(res is None and "claim ex/d-8, request gpu" in why and
                  "8 of the 8 matching devices of class gpu.nvidia.com on node h200-0 are taken"
                  in why, "the ninth: %s" % why)
    used = sorted(r["device"] for c in L.ok("GET", RC + "/namespaces/ex/resourceclaims")["items"]
                  for r in (c.get("status") or {}).get("allocation", {}).get("devices", {})
                  .get("results", []))
    check(used == ["gpu-%d" % i for i in range(8)], "each GPU once: %s" % used)
    c = L.ok("GET", RC + "/namespaces/ex/resourceclaims/d-0")
    check(c["status"]["allocation"]["nodeSelector"] == {"nodeSelectorTerms": [{"matchFields": [
        {"key": "metadata.name", "operator": "In", "values": ["h200-0"]}]}]} and
        c["status"]["reservedFor"] == [{"resource": "pods", "name": "d-0",
                                        "uid": c["status"]["reservedFor"][0]["uid"]}] and
        dra.FINALIZER in c["metadata"]["finalizers"], "claim status: %s" % c)
    # the ninth fits on the other H200
    pod = L.ok("GET", "/api/v1/namespaces/ex/pods/d-8")
    res, why = _alloc(L, pod, "h200-1")
    check(res is not None, "on h200-1: %s" % why)
    # 180Gi on the B200: no fit, the reason names it all
    pod = _claim_pod(L, ns, "prefill", claim_obj("prefill", B200_SEL_180))
    res, why = _alloc(L, pod, "b200-0")
    check(res is None and why.startswith("cannot allocate all claims: claim ex/prefill, "
                                          "request gpu: no device of class gpu.nvidia.com on "
                                          "node b200-0 matches `") and "180Gi" in why,
          "B200 template: %s" % why)
    # no such class
    pod = _claim_pod(L, ns, "nocls", claim_obj("nocls", None, cls="fpga.example.com"))
    res, why = _alloc(L, pod, "h200-1")
    check(res is None and 'could not retrieve device class fpga.example.com' in why, why)
    # the reference prefill claim fits the B200
    pod = _claim_pod(L, ns, "prefill-ok", claim_obj("prefill-ok", B200_SEL))
    res, why = _alloc(L, pod, "b200-0")
    check(res is not None, "b200-prefill-claim on b200-0: %s" % why)
    # not yet made by the claim controller
    pod = L.ok("POST", "/api/v1/namespaces/ex/pods", pod_obj(
        "tmpl", [{"name": "gpu", "resourceClaimTemplateName": "missing"}]))
    res, why = _alloc(L, pod, "h200-1")
    check(res is None and "waiting for resource claim controller" in why, why)
    # a claim that changed between allocate and commit: CommitError
    pod = _claim_pod(L, ns, "gone", claim_obj("gone", H200_SEL))
    res, why = _alloc(L, pod, "h200-1")
    L.ok("DELETE", RC + "/namespaces/ex/resourceclaims/gone")
    try:
        dra.commit(L.store, pod, "h200-1", res)
        raise AssertionError("commit of a deleted claim")
    except dra.CommitError as e:
        check('resourceclaim "gone" not found' in str(e), str(e))
    # the pods go: reservations released, claims deallocated, devices free
    L.ok("DELETE", "/api/v1/namespaces/ex/pods")
    check(wait_for(lambda: not any(t[1] == "h200-0" for t in dra.taken_devices(L.store))),
          "h200-0 freed: %s" % sorted(dra.taken_devices(L.store)))
    check(all(not (c.get("status") or {}).get("allocation") and
              dra.FINALIZER not in (c["metadata"].get("finalizers") or [])
              for c in L.ok("GET", RC + "/namespaces/ex/resourceclaims")["items"]),
          "deallocated, finalizers removed")


def t_dra_count_all_constraints(L):
    ns = "cnt"
    pod = _claim_pod(L, ns, "two", claim_obj("two", H200_SEL, count=2))
    res, why = _alloc(L, pod, "h200-1")
    devs = [r["device"] for r in res[0]["allocation"]["devices"]["results"]] if res else why
    check(res is not None and len(devs) == 2 and len(set(devs)) == 2, "count 2: %s" % devs)
    pod = _claim_pod(L, ns, "all", claim_obj("all", None, mode="All"))
    res, why = _alloc(L, pod, "b200-0")
    check(res is not None and len(res[0]["allocation"]["devices"]["results"]) == 8,
          "All: %s" % (why or res))
    check(dra.commit(L.store, pod, "b200-0", res) is None, "commit All")
    pod = _claim_pod(L, ns, "one", claim_obj("one", None))
    res, why = _alloc(L, pod, "b200-0")
    check(res is None and "8 of the 8 matching devices" in why, "after All: %s" % why)
    pod = _claim_pod(L, ns, "all2", claim_obj("all2", None, mode="All"))
    res, why = _alloc(L, pod, "b200-0")
    check(res is None and "asks for all 8 matching devices" in why, "All again: %s" % why)
    # matchAttribute: two GPUs on one PCIe root do not exist; two of one product do
    reqs = [{"name": "a", "exactly": {"deviceClassName": DRIVER}},
            {"name": "b", "exactly": {"deviceClassName": DRIVER}}]
    pod = _claim_pod(L, ns, "root", claim_obj("root", requests=reqs, constraints=[
        {"matchAttribute": "resource.kubernetes.io/pcieRoot"}]))
    res, why = _alloc(L, pod, "h200-0")
    check(res is None and "cannot all be satisfied together" in why, "pcieRoot: %s" % why)
    pod = _claim_pod(L, ns, "prod", claim_obj("prod", requests=reqs, constraints=[
        {"requests": ["a", "b"], "matchAttribute": "gpu.nvidia.com/productName"}]))
    res, why = _alloc(L, pod, "h200-0")
    check(res is not None and len(res[0]["allocation"]["devices"]["results"]) == 2,
          "productName: %s" % why)
    # unsupported and runtime errors: the claim is unallocatable, the part named
    pod = _claim_pod(L, ns, "uns", claim_obj("uns", UNSUPPORTED[0][0]))
    res, why = _alloc(L, pod, "h200-0")
    check(res is None and "claim cnt/uns: selector #0: unsupported expression" in why and
          "macro 'exists'" in why, "unsupported: %s" % why)
    pod = _claim_pod(L, ns, "rt", claim_obj("rt", 'device.attributes["gpu.nvidia.com"].x == 1'))
    res, why = _alloc(L, pod, "h200-0")
    check(res is None and "CEL runtime error: no such key: x" in why, "runtime: %s" % why)


def t_dra_shared_claim(L):
    ns = "sh"
    a = _claim_pod(L, ns, "a", claim_obj("shared", H200_SEL))
    res, why = _alloc(L, a, "h200-1")
    check(res is not None and dra.commit(L.store, a, "h200-1", res) is None, "a: %s" % why)
    b = _claim_pod(L, ns, "b", "shared")
    res, why = _alloc(L, b, "h200-0")
    check(res is None and "already allocated to a node other than h200-0" in why,
          "b elsewhere: %s" % why)
    res, why = _alloc(L, b, "h200-1")
    check(res is not None and res[0]["allocation"] is None, "b reuses: %s" % why)
    check(dra.commit(L.store, b, "h200-1", res) is None, "commit b")
    c = L.ok("GET", RC + "/namespaces/sh/resourceclaims/shared")
    check([r["name"] for r in c["status"]["reservedFor"]] == ["a", "b"], "reservedFor: %s" % c)
    # a goes: its reservation is dropped, the allocation stays for b
    L.ok("DELETE", "/api/v1/namespaces/sh/pods/a")
    check(wait_for(lambda: [r["name"] for r in L.ok("GET", RC + "/namespaces/sh/resourceclaims/"
                                                       "shared")["status"]["reservedFor"]] ==
                   ["b"]), "a's reservation released")
    # b goes: deallocated, the finalizer removed, the claim (not a pod's) kept
    L.ok("DELETE", "/api/v1/namespaces/sh/pods/b")

    def freed():
        c = L.ok("GET", RC + "/namespaces/sh/resourceclaims/shared")
        return not (c.get("status") or {}).get("allocation") and \
            dra.FINALIZER not in (c["metadata"].get("finalizers") or [])
    check(wait_for(freed), "deallocated: %s" % L.ok("GET", RC + "/namespaces/sh/resourceclaims/"
                                                    "shared"))


def t_dra_api_slice(L):
    """A Node and a ResourceSlice written through the API, as a node agent
    and a driver would, are used as well as --nodes' ones."""
    L.ok("POST", "/api/v1/nodes", {"metadata": {"name": "api-node"}})
    L.ok("POST", RC + "/resourceslices", {
        "metadata": {"name": "api-node-gpu.nvidia.com-x1"},
        "spec": {"driver": DRIVER, "nodeName": "api-node",
                 "pool": {"name": "api-node", "generation": 1, "resourceSliceCount": 1},
                 "devices": [gpu("NVIDIA H200", "143771Mi") | {"name": "gpu-%d" % i}
                             for i in range(2)]}})
    pod = _claim_pod(L, "api", "p", claim_obj("p", H200_SEL, count=2))
    res, why = _alloc(L, pod, "api-node")
    check(res is not None and [r["pool"] for r in res[0]["allocation"]["devices"]["results"]] ==
          ["api-node", "api-node"], "api slice: %s" % why)
    # a newer generation of the pool replaces the old slice's devices
    L.ok("POST", RC + "/resourceslices", {
        "metadata": {"name": "api-node-gpu.nvidia.com-x2"},
        "spec": {"driver": DRIVER, "nodeName": "api-node",
                 "pool": {"name": "api-node", "generation": 2, "resourceSliceCount": 1},
                 "devices": [gpu("NVIDIA H200", "143771Mi") | {"name": "gpu-9"}]}})
    res, why = _alloc(L, pod, "api-node")
    check(res is None and "0 of the 1 matching devices" in why and "2 wanted" in why,
          "generation 2 has one device: %s" % why)
    pod1 = _claim_pod(L, "api", "q", claim_obj("q", H200_SEL))
    res, why = _alloc(L, pod1, "api-node")
    check(res is not None and res[0]["allocation"]["devices"]["results"][0]["device"] == "gpu-9",
          "gen 2 device: %s" % why)


def t_dra_claim_lifecycle(L):
    """Template -> claim owned by the pod -> allocated -> pod deleted ->
    released, deallocated, finalizer removed, claim deleted."""
    ns = "inference"
    for t in load_templates():
        L.ok("POST", RC + "/namespaces/%s/resourceclaimtemplates" % ns, t)
    long_name = "vllm-disaggregated-0-prefill-decode-ratio-0-decode-clique-x7k2q"
    L.ok("POST", "/api/v1/namespaces/inference/pods", pod_obj(
        long_name, [{"name": "gpu", "resourceClaimTemplateName": "h200-decode-claim"}]))
    L.ok("POST", "/api/v1/namespaces/inference/pods", pod_obj(
        "late", [{"name": "gpu", "resourceClaimTemplateName": "made-later"}]))

    def pod_rcs(name):
        p = L.ok("GET", "/api/v1/namespaces/inference/pods/" + name)
        return p if (p.get("status") or {}).get("resourceClaimStatuses") else None
    pod = wait_for(lambda: pod_rcs(long_name))
    check(pod, "resourceClaimStatuses not written")
    cname = pod["status"]["resourceClaimStatuses"][0]["resourceClaimName"]
    base = claims.generate_name(long_name, "gpu")
    check(len(base) <= 57 and cname.startswith(base) and len(cname) == len(base) + 5,
          "the 1.33 name rule: %r from %r" % (cname, base))
    c = L.ok("GET", RC + "/namespaces/inference/resourceclaims/" + cname)
    ref = c["metadata"]["ownerReferences"][0]
    check(ref == {"apiVersion": "v1", "kind": "Pod", "name": long_name,
                  "uid": pod["metadata"]["uid"], "controller": True,
                  "blockOwnerDeletion": True}, "owner: %s" % ref)
    check(c["metadata"]["annotations"] == {"resource.kubernetes.io/pod-claim-name": "gpu"},
          "annotations: %s" % c["metadata"]["annotations"])
    t = [x for x in load_templates() if x["metadata"]["name"] == "h200-decode-claim"][0]
    check(c["spec"] == t["spec"]["spec"], "spec is the template's")
    # the template of "late" appears later: its claim is made then
    check(not pod_rcs("late"), "no claim without its template")
    t2 = dict(t, metadata={"name": "made-later"})
    L.ok("POST", RC + "/namespaces/inference/resourceclaimtemplates", t2)
    check(wait_for(lambda: pod_rcs("late")), "claim made once the template exists")
    res, why = _alloc(L, pod, "h200-0")
    check(res is not None and dra.commit(L.store, pod, "h200-0", res) is None, why)
    L.ok("DELETE", "/api/v1/namespaces/inference/pods/" + long_name)
    check(wait_for(lambda: L.req("GET", RC + "/namespaces/inference/resourceclaims/" +
                                 cname)[0] == 404),
          "claim deleted with its pod: %s" % (L.req("GET", RC + "/namespaces/inference/"
                                                    "resourceclaims/" + cname),))
    check((DRIVER, "h200-0", res[0]["allocation"]["devices"]["results"][0]["device"]) not in
          dra.taken_devices(L.store), "its device is free again")


def t_dra_default_token(L):
    tok = tokens.token_for(L.store, "ns1", "default")
    sa = L.ok("GET", "/api/v1/namespaces/ns1/serviceaccounts/default")
    user = tokens.authenticate(L.store, tok)
    check(user["username"] == "system:serviceaccount:ns1:default" and
          user["uid"] == sa["metadata"]["uid"] and
          "system:serviceaccounts:ns1" in user["groups"], "user: %s" % user)
    check(tokens.token_for(L.store, "ns1", "default") == tok, "the same token again")
    try:
        tokens.token_for(L.store, "ns1", "nobody")
        raise AssertionError("a token for a missing ServiceAccount")
    except tokens.TokenError as e:
        check('serviceaccounts "nobody" not found' in str(e), str(e))
    check(tokens.authenticate(L.store, "kube-sim-token") is None, "other tokens are not ours")
    L.ok("DELETE", "/api/v1/namespaces/ns1/serviceaccounts/default")
    try:
        tokens.authenticate(L.store, tok)
        raise AssertionError("a token of a deleted ServiceAccount")
    except Exception as e:
        check(getattr(e, "code", None) == 401, "401: %r" % e)


def t_dra_large_nodes(L):
    st = Store()
    t0 = time.time()
    nodes.load_nodes(st, LARGE)
    n = st.objs[("", "nodes")]
    check(len(n) == 375 and len(st.objs[("resource.k8s.io", "resourceslices")]) == 375,
          "large.yaml: %d nodes" % len(n))
    print("  (large.yaml: 375 nodes and slices in %.2f s)" % (time.time() - t0))
    gpus = {"b200": 0, "h200": 0}
    for s in st.objs[("resource.k8s.io", "resourceslices")].values():
        gpus[s["spec"]["nodeName"][:4]] += len(s["spec"]["devices"])
    check(gpus == {"b200": 1000, "h200": 2000}, "GPUs: %s" % gpus)


CMD_TESTS = [t_cmd_nodes_and_slices, t_cmd_kubectl, t_cmd_claims_from_templates, t_cmd_tokens,
             t_cmd_groved_initc]
CEL_TESTS = [t_cel_examples_copied, t_cel_cases, t_cel_unsupported]
DRA_TESTS = [t_dra_exclusive_and_no_fit, t_dra_count_all_constraints, t_dra_shared_claim,
             t_dra_api_slice, t_dra_claim_lifecycle, t_dra_default_token, t_dra_large_nodes]


def run(tests, arg):
    passed = failed = 0
    for t in tests:
        if ONLY and t.__name__ not in ONLY:
            continue
        t0 = time.time()
        try:
            t(arg)
            passed += 1
            print("PASS %s (%.1fs)" % (t.__name__, time.time() - t0))
        except Exception:
            failed += 1
            print("FAIL %s" % t.__name__)
            traceback.print_exc()
    return passed, failed


def main():
    global REAL_B200, REAL_H200
    spec = nodes.read_nodes_file(NODES)
    REAL_B200 = nodes.gpu_devices("b200-0", spec[0]["gpus"])[0]
    REAL_H200 = nodes.gpu_devices("h200-0", spec[1]["gpus"])[0]
    passed = failed = 0
    p, f = run(CEL_TESTS, None)
    passed, failed = passed + p, failed + f
    if any(not ONLY or t.__name__ in ONLY for t in CMD_TESTS):
        s = Sim(["--nodes", NODES, "--authorize"])
        try:
            p, f = run(CMD_TESTS, s)
            passed, failed = passed + p, failed + f
        finally:
            rc = s.stop()
            if rc != 0:
                failed += 1
                print("FAIL kube-sim exit status %d on SIGTERM" % rc)
    if any(not ONLY or t.__name__ in ONLY for t in DRA_TESTS):
        L = Local()
        try:
            nodes.load_nodes(L.store, NODES)
            p, f = run(DRA_TESTS, L)
            passed, failed = passed + p, failed + f
        finally:
            L.stop()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
