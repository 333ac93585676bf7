#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The install, end to end, against kube-sim.

`kubectl apply --server-side -k deploy/` installs into kube-sim (CRDs,
namespace, RBAC, Deployment, Service, webhook configurations). groved runs here as the
Deployment would run it: the container's own args, plus a kubeconfig and
loopback addresses. kube-sim calls groved's webhooks over HTTPS as
kube-apiserver does, at the Service's DNS name (mapped to groved's local
port) and with the caBundle groved injected itself. kubectl, as a user
would type it, then checks what the issue asks:

- a valid PodCliqueSet is stored with its defaults;
- a bad one is refused with the exact message;
- a create and a `kubectl scale` outside [minReplicas, maxReplicas] are
  refused by groved (V12, the scale webhook) with both bounds as numbers
  and no `"object"` (the PodCliqueSet CRD has no CEL rule that would
  answer first on a real API server: tests/crds/check_crds.py; kube-sim
  runs no CRD schema or CEL at all);
- a pod labelled for Grove comes back shaped; an unlabelled one untouched;
- with groved stopped, an unlabelled pod is still admitted (and a Grove
  one, and a PodCliqueSet, are not: failurePolicy Fail);
- certificates rotate (serving certificate and CA) under a bounded load
  with zero failed requests, and every replica picks the new pair up.

Usage: test_install.py GROVED REPO_ROOT
"""
import base64
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import yaml

GROVED, ROOT = sys.argv[1], os.path.abspath(sys.argv[2])
SIM = os.path.join(ROOT, "tests", "kube-sim", "kube-sim")
NS = "groved-system"
SA_USER = "system:serviceaccount:groved-system:groved"
SA_TOKEN = "groved-sa-token"
SA_MASTER_TOKEN = "groved-name-masters-token"

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok - %s" % name)
    else:
        failed += 1
        print("not ok - %s%s" % (name, ("\n  " + detail.replace("\n", "\n  ")) if detail else ""))
    sys.stdout.flush()
    return ok


def wait_for(pred, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


class Env:
    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []

    def start_sim(self):
        log = open(os.path.join(self.tmp, "kube-sim.log"), "w")
        self.kc = os.path.join(self.tmp, "kubeconfig")
        p = subprocess.Popen(
            # HTTPS: kubectl sends bearer tokens (so users differ) only
            # over TLS
            [sys.executable, SIM, "--addr", "127.0.0.1:0", "--kubeconfig-out", self.kc,
             "--tls-dir", os.path.join(self.tmp, "sim-tls"),
             # RBAC enforced for groved's service account: the install's
             # roles must be enough for what groved does
             "--authorize",
             "--token", "%s=%s:system:serviceaccounts,system:authenticated" % (SA_TOKEN, SA_USER),
             # groved's name with RBAC's bypass: the authorizer webhook's
             # decision alone (groved's own roles cannot write PodCliques
             # until the worker lands)
             "--token", "%s=%s:system:masters,system:authenticated" % (SA_MASTER_TOKEN, SA_USER),
             "--load", os.path.join(ROOT, "examples", "claim-templates.yaml")],
            stdout=subprocess.PIPE, stderr=log, text=True)
        self.procs.append(p)
        line = p.stdout.readline()
        m = re.search(r"listening (https?://\S+)", line)
        if not m:
            raise SystemExit("kube-sim did not start: %r" % line)
        self.sim_url = m.group(1)
        self.sim = p
        self.tls = ssl.create_default_context(cafile=os.path.join(self.tmp, "sim-tls", "ca.crt"))
        # groved's own kubeconfig: the service account's token
        kc = yaml.safe_load(open(self.kc))
        kc["users"][0]["user"] = {"token": SA_TOKEN}
        self.groved_kc = os.path.join(self.tmp, "groved-kubeconfig")
        with open(self.groved_kc, "w") as f:
            yaml.safe_dump(kc, f)

    def open(self, req, timeout):
        return urllib.request.urlopen(req, timeout=timeout, context=self.tls)

    def admin(self, path):
        with self.open(urllib.request.Request(self.sim_url + path, data=b""), 5) as r:
            return json.loads(r.read() or b"{}")

    def kubectl(self, *args, stdin=None):
        r = subprocess.run(["kubectl", "--kubeconfig", self.kc] + list(args), input=stdin,
                           capture_output=True, text=True, timeout=30)
        return r.returncode, r.stdout, r.stderr

    def kget(self, *args):
        rc, out, err = self.kubectl("get", "-o", "json", *args)
        return json.loads(out) if rc == 0 else None


class Groved:
    """One replica, run with the Deployment's args."""

    def __init__(self, env, name, args):
        self.log_path = os.path.join(env.tmp, "groved-%s.log" % name)
        self.log = open(self.log_path, "w")
        # the downward API of the Deployment
        e = dict(os.environ, POD_NAME=name, POD_NAMESPACE=NS, POD_SERVICE_ACCOUNT="groved")
        self.p = subprocess.Popen(
            [GROVED, "serve"] + args + ["--kubeconfig", env.groved_kc,
                                        "--webhook-addr", "127.0.0.1:0",
                                        "--health-addr", "127.0.0.1:0",
                                        "--metrics-addr", "127.0.0.1:0"],
            stdout=subprocess.DEVNULL, stderr=self.log, env=e)
        env.procs.append(self.p)
        self.ports = wait_for(self._ports, 10)
        if not self.ports:
            raise SystemExit("groved %s did not start:\n%s" % (name, open(self.log_path).read()))

    def lines(self):
        out = []
        for line in open(self.log_path):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def _ports(self):
        ports = {}
        for l in self.lines():
            if l.get("msg") == "listening":
                ports[l["server"]] = l["port"]
        return ports if len(ports) == 3 else None

    def ready(self):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % self.ports["health"],
                                        timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def metrics(self):
        """/metrics as {series: value}."""
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.ports["metrics"],
                                    timeout=5) as r:
            text = r.read().decode()
        return {l.rsplit(" ", 1)[0]: float(l.rsplit(" ", 1)[1])
                for l in text.splitlines() if l and not l.startswith("#")}

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return -9


def container_args(objs):
    dep = next(o for o in objs if o["kind"] == "Deployment" and o["metadata"]["name"] == "groved")
    c = next(c for c in dep["spec"]["template"]["spec"]["containers"] if c["name"] == "groved")
    args = list(c.get("args", []))
    if args and args[0] == "serve":
        args = args[1:]
    return args


def main():
    if not shutil.which("kubectl"):
        print("# SKIP: kubectl is not installed (it renders deploy/ and is the client)")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="gv-e2e-")
    env = Env(tmp)
    try:
        run(env)
    finally:
        for p in env.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if failed:
            print("# logs kept in %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


def run(env):
    r = subprocess.run(["kubectl", "kustomize", os.path.join(ROOT, "deploy")],
                       capture_output=True, text=True, timeout=60)
    if not check("kubectl kustomize deploy/ renders", r.returncode == 0, r.stderr):
        return
    objs = [o for o in yaml.safe_load_all(r.stdout) if o]
    env.start_sim()
    # the install command of README and docs/install.md, as the user types
    # it (--validate=false: kube-sim serves no OpenAPI)
    rc, out, err = env.kubectl("apply", "--server-side", "--validate=false", "-k",
                               os.path.join(ROOT, "deploy"))
    check("kubectl apply --server-side -k deploy/ installs every object (%d)" % len(objs),
          rc == 0 and out.count("serverside-applied") == len(objs), err or out)
    args = container_args(objs)
    check("the Deployment runs groved with self-managed certificates",
          any(a.startswith("--cert-secret") for a in args), " ".join(args))

    a = Groved(env, "groved-a", args)
    env.admin("/__sim/resolve-service?service=%s/groved-webhook:443&addr=127.0.0.1:%d"
              % (NS, a.ports["webhooks"]))
    check("groved is ready once it has made its certificate", wait_for(a.ready, 20), open(a.log_path).read()[-3000:])
    sec = env.kget("secret", "-n", NS, "groved-webhook-cert")
    check("the certificate Secret exists with ca.crt, ca.key, tls.crt, tls.key",
          sec is not None and sorted(sec.get("data", {})) == ["ca.crt", "ca.key", "tls.crt", "tls.key"]
          and sec.get("type") == "kubernetes.io/tls")
    ca = base64.b64decode(sec["data"]["ca.crt"]).decode() if sec else ""
    for kind, name in (("mutatingwebhookconfiguration", "groved-mutating"),
                       ("validatingwebhookconfiguration", "groved-validating")):
        cfg = env.kget(kind, name) or {}
        bundles = {base64.b64decode(w["clientConfig"].get("caBundle", "")).decode()
                   for w in cfg.get("webhooks", [])}
        check("every webhook of %s carries the CA" % name, bundles == {ca}, repr(bundles)[:200])

    # README's verification: a dry run of the workload and of a broken one
    example = os.path.join(ROOT, "examples", "vllm-disaggregated.yaml")
    bad = os.path.join(ROOT, "examples", "invalid", "startup-cycle.yaml")
    rc, out, err = env.kubectl("apply", "--dry-run=server", "--validate=false", "-f", example)
    check("README's check: a server dry run of the workload is accepted",
          rc == 0 and "(server dry run)" in out, err or out)
    rc, out, err = env.kubectl("apply", "--dry-run=server", "--validate=false", "-f", bad)
    check("README's check: a server dry run of the startup cycle is refused",
          rc != 0 and "startsAfter cycle" in err, err)
    listed = env.kget("pcs", "-n", "inference")
    check("a dry run stores nothing", listed is not None and not listed.get("items"))

    # a valid PodCliqueSet is stored with its defaults; groved's cache is
    # made to lag (watch events held back) so the scale below finds the
    # parent only by its live GET
    env.admin("/__sim/hold-watches?ms=20000")
    rc, out, err = env.kubectl("apply", "--validate=false", "-f", example)
    check("kubectl apply of the reference workload succeeds", rc == 0, err)
    pcs = env.kget("pcs", "-n", "inference", "vllm-disaggregated") or {}
    spec = pcs.get("spec", {})
    cliques = {c["name"]: c for c in spec.get("podCliques", [])}
    check("it is stored with its defaults (spec.replicas, minAvailable)",
          spec.get("replicas") == 1 and cliques.get("decode-clique", {}).get("minAvailable") == 2
          and cliques.get("router-clique", {}).get("minAvailable") == 1, json.dumps(spec)[:400])

    # a bad one is refused with the exact message
    rc, out, err = env.kubectl("create", "--validate=false", "-f", bad)
    want = ('Error from server (Forbidden): error when creating "%s": admission webhook '
            '"pcs.validating.webhooks.grove.io" denied the request: spec.podCliques[2].startsAfter: '
            'Invalid value: "prefill-clique": startsAfter cycle: decode-clique -> prefill-clique -> '
            'router-clique -> decode-clique\n' % bad)
    check("a startsAfter cycle is refused with the exact message", rc != 0 and err == want,
          "got: %r\nwant: %r" % (err, want))

    # spec.replicas outside [minReplicas, maxReplicas] = [1, 4]: groved
    # refuses it, on create (V12) and on /scale, naming the value and both
    # bounds as numbers, and no CEL rule's `Invalid value: "object"`
    bounds = "must be within [1, 4] (spec.scaling.minReplicas, spec.scaling.maxReplicas)"

    def numbers_not_object(err, n):
        return ("spec.replicas: Invalid value: %d: %s" % (n, bounds) in err
                and '"object"' not in err and "must lie within" not in err)

    too_many = yaml.safe_load(open(example))
    too_many["metadata"]["name"] = "too-many"
    too_many["spec"]["replicas"] = 5
    rc, out, err = env.kubectl("create", "--validate=false", "-f", "-", stdin=json.dumps(too_many))
    want = ('Error from server (Forbidden): error when creating "STDIN": admission webhook '
            '"pcs.validating.webhooks.grove.io" denied the request: spec.replicas: '
            'Invalid value: 5: %s\n' % bounds)
    check("a create with spec.replicas 5 (maxReplicas 4) is refused by V12 with the bounds"
          " as numbers", rc != 0 and err == want and numbers_not_object(err, 5),
          "got: %r\nwant: %r" % (err, want))
    check("nothing stored by the refused create",
          env.kget("pcs", "-n", "inference", "too-many") is None)

    # kubectl scale beyond maxReplicas (and below minReplicas) is refused
    for n in (5, 0):
        rc, out, err = env.kubectl("scale", "pcs", "-n", "inference", "vllm-disaggregated",
                                   "--replicas=%d" % n)
        want = ('Error from server (Forbidden): admission webhook '
                '"scale.validating.webhooks.grove.io" denied the request: spec.replicas: '
                'Invalid value: %d: %s\n' % (n, bounds))
        check("kubectl scale to %d ([1, 4]) is refused with the bounds as numbers, the cache"
              " still lagging" % n, rc != 0 and err == want and numbers_not_object(err, n),
              "got: %r\nwant: %r" % (err, want))
    pcs = env.kget("pcs", "-n", "inference", "vllm-disaggregated") or {}
    check("the refused scales left spec.replicas at 1",
          pcs.get("spec", {}).get("replicas") == 1, json.dumps(pcs.get("spec"))[:200])
    env.admin("/__sim/hold-watches?ms=0")
    rc, out, err = env.kubectl("scale", "pcs", "-n", "inference", "vllm-disaggregated", "--replicas=3")
    check("kubectl scale to 3 is allowed", rc == 0, err)

    # pods: labelled for Grove are shaped, others untouched
    grove_pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "router", "namespace": "inference",
                     "labels": {"grove.io/podcliquesets": "vllm-disaggregated",
                                "grove.io/podcliquesets-clique": "router-clique"}},
        "spec": {"containers": [{"name": "r", "image": "busybox"}],
                 "schedulerName": "default-scheduler"}}
    plain_pod = {"apiVersion": "v1", "kind": "Pod",
                 "metadata": {"name": "plain", "namespace": "inference", "labels": {"app": "x"}},
                 "spec": {"containers": [{"name": "c", "image": "busybox"}],
                          "schedulerName": "default-scheduler"}}
    rc, out, err = env.kubectl("create", "--validate=false", "-o", "json", "-f", "-",
                               stdin=json.dumps(grove_pod))
    pod = json.loads(out) if rc == 0 else {}
    gates = [g["name"] for g in pod.get("spec", {}).get("schedulingGates", [])]
    check("a Grove pod comes back shaped (gate, scheduler)",
          gates == ["grove.io/podgang-pending-creation"]
          and pod["spec"].get("schedulerName") == "kai-scheduler", err or json.dumps(pod)[:400])
    rc, out, err = env.kubectl("create", "--validate=false", "-o", "json", "-f", "-",
                               stdin=json.dumps(plain_pod))
    pod = json.loads(out) if rc == 0 else {}
    check("an unlabelled pod is untouched",
          rc == 0 and pod["metadata"].get("labels") == {"app": "x"}
          and "schedulingGates" not in pod["spec"]
          and pod["spec"].get("schedulerName") == "default-scheduler", err)

    # the authorizer: a managed PodClique is groved's to write, not a user's
    pclq = {"apiVersion": "grove.io/v1alpha1", "kind": "PodClique",
            "metadata": {"name": "vllm-disaggregated-0-router-clique", "namespace": "inference",
                         "labels": {"app.kubernetes.io/managed-by": "grove-operator"}},
            "spec": {"roleName": "router-clique", "replicas": 1,
                     "podSpec": {"containers": [{"name": "r", "image": "busybox"}]}}}
    rc, out, err = env.kubectl("create", "--validate=false", "-f", "-", stdin=json.dumps(pclq))
    check("a user cannot create a managed PodClique (authorizer webhook)",
          rc != 0 and 'admission webhook "authorizer.grove.webhooks.grove.io" denied' in err, err)
    # (another name than the worker's own PodClique of the reference set)
    mine = dict(pclq, metadata=dict(pclq["metadata"], name="made-by-groved"))
    rc, out, err = env.kubectl("--token", SA_MASTER_TOKEN, "create", "--validate=false", "-f",
                               "-", stdin=json.dumps(mine))
    check("groved's own user can (authorizer)", rc == 0, err)
    # the worker's RBAC: it writes what a set owns, never the set itself
    rc, out, err = env.kubectl("--token", SA_TOKEN, "create", "--validate=false", "-f", "-",
                               stdin=json.dumps(dict(pclq, metadata=dict(pclq["metadata"],
                                                                          name="x"))))
    check("RBAC: groved's service account may create PodCliques (the worker)", rc == 0, err)
    rc, out, err = env.kubectl("--token", SA_TOKEN, "label", "-n", "inference", "pcs",
                               "vllm-disaggregated", "touched=yes")
    check("RBAC: but not change a PodCliqueSet (the user's spec)",
          rc != 0 and 'cannot patch resource "podcliquesets"' in err, err)
    rc, out, err = env.kubectl("--token", SA_TOKEN, "get", "secrets", "-n", "kube-system")
    check("RBAC: nor read Secrets outside its own", rc != 0 and "forbidden" in err, err)

    # applying the install again may empty the caBundles (a client-side
    # apply, or kube-sim's shortcut of server-side apply): groved puts the
    # CA back within a period (10 s at most)
    rc, out, err = env.kubectl("apply", "--server-side", "--validate=false", "-k",
                               os.path.join(ROOT, "deploy"))
    cfg = env.kget("validatingwebhookconfiguration", "groved-validating") or {}
    emptied = not cfg.get("webhooks", [{}])[0].get("clientConfig", {}).get("caBundle")

    def restored():
        c = env.kget("validatingwebhookconfiguration", "groved-validating") or {}
        return all(base64.b64decode(w["clientConfig"].get("caBundle", "")).decode() == ca
                   for w in c.get("webhooks", []))
    check("a re-applied install that emptied the caBundle is repaired by groved",
          rc == 0 and emptied and wait_for(restored, 15, 0.2), err)

    # groved stopped: other pods are still admitted, Grove objects are not
    check("groved stops on SIGTERM with status 0", a.stop() == 0)
    lease = env.kget("lease", "-n", NS, "groved-leader") or {}
    check("the Lease is released on stop", not lease.get("spec", {}).get("holderIdentity"),
          json.dumps(lease.get("spec")))
    plain_pod["metadata"]["name"] = "plain-2"
    rc, out, err = env.kubectl("create", "--validate=false", "-f", "-", stdin=json.dumps(plain_pod))
    check("with groved stopped, an unlabelled pod is still admitted", rc == 0, err)
    grove_pod["metadata"]["name"] = "router-2"
    rc, out, err = env.kubectl("create", "--validate=false", "-f", "-", stdin=json.dumps(grove_pod))
    check("with groved stopped, a Grove pod is refused (failurePolicy Fail)",
          rc != 0 and 'failed calling webhook "pod.mutating.webhooks.grove.io"' in err, err)
    rc, out, err = env.kubectl("create", "--validate=false", "-f", "-",
                               stdin=json.dumps(dict(yaml.safe_load(open(example)),
                                                     metadata={"name": "second",
                                                               "namespace": "inference"})))
    check("with groved stopped, a PodCliqueSet is refused (failurePolicy Fail)",
          rc != 0 and 'failed calling webhook "pcs.defaulting.webhooks.grove.io"' in err, err)

    rotation_under_load(env, args)
    byo_certs(env)


def byo_certs(main_env):
    """docs/install.md's bring-your-own-certificates steps, as written, in
    a fresh kube-sim: groved certs generate, ca.crt into the overlay, the
    Secret, the install; groved serves the files the Secret would mount."""
    tmp = os.path.join(main_env.tmp, "byo")
    os.makedirs(tmp)
    env = Env(tmp)
    main_env.procs.extend(env.procs)
    deploy = os.path.join(tmp, "deploy")
    shutil.copytree(os.path.join(ROOT, "deploy"), deploy)
    certs = os.path.join(tmp, "certs")
    r = subprocess.run([GROVED, "certs", "generate", "--service", "groved-webhook",
                        "--namespace", NS, "--out", certs],
                       capture_output=True, text=True, timeout=30)
    if not check("byo: groved certs generate", r.returncode == 0, r.stderr):
        return
    shutil.copy(os.path.join(certs, "ca.crt"), os.path.join(deploy, "overlays", "byo-certs"))
    env.start_sim()
    main_env.procs.append(env.sim)
    # the docs' step 2; kubectl's typed `create` sends protobuf, which
    # kube-sim does not read, so the same objects go through --dry-run=client
    # -o json and kubectl create -f
    for cmd in (["create", "namespace", NS],
                ["-n", NS, "create", "secret", "generic", "groved-webhook-cert",
                 "--type=kubernetes.io/tls", "--from-file=%s/ca.crt" % certs,
                 "--from-file=%s/tls.crt" % certs, "--from-file=%s/tls.key" % certs]):
        rc, out, err = env.kubectl(*(cmd + ["--dry-run=client", "-o", "json"]))
        if rc == 0:
            rc, out, err = env.kubectl("create", "--validate=false", "-f", "-", stdin=out)
        check("byo: kubectl %s" % " ".join(cmd[:5]), rc == 0, err)
    overlay = os.path.join(deploy, "overlays", "byo-certs")
    rc, out, err = env.kubectl("apply", "--server-side", "--validate=false", "-k", overlay)
    check("byo: kubectl apply --server-side -k deploy/overlays/byo-certs", rc == 0, err)
    ca = open(os.path.join(certs, "ca.crt")).read()
    for kind, name in (("mutatingwebhookconfiguration", "groved-mutating"),
                       ("validatingwebhookconfiguration", "groved-validating")):
        cfg = env.kget(kind, name) or {}
        bundles = {base64.b64decode(w["clientConfig"].get("caBundle", "")).decode()
                   for w in cfg.get("webhooks", [])}
        check("byo: kustomize put the user's CA into every webhook of %s" % name,
              bundles == {ca})
    r = subprocess.run(["kubectl", "kustomize", overlay], capture_output=True, text=True,
                       timeout=60)
    args = [a.replace("/etc/groved/tls", certs)
            for a in container_args([o for o in yaml.safe_load_all(r.stdout) if o])]
    check("byo: the Deployment serves the mounted files, no Secret rights",
          "--tls-cert-file=%s/tls.crt" % certs in args
          and not any(a.startswith("--cert-secret") for a in args), " ".join(args))
    g = Groved(env, "byo", args)
    env.admin("/__sim/resolve-service?service=%s/groved-webhook:443&addr=127.0.0.1:%d"
              % (NS, g.ports["webhooks"]))
    check("byo: groved is ready", wait_for(g.ready, 20))
    rc, out, err = env.kubectl("apply", "--validate=false", "-f",
                               os.path.join(ROOT, "examples", "vllm-disaggregated.yaml"))
    check("byo: the reference workload is admitted through the user's certificate",
          rc == 0, err)
    rc, out, err = env.kubectl("create", "--validate=false", "-f",
                               os.path.join(ROOT, "examples", "invalid", "startup-cycle.yaml"))
    check("byo: the broken one is refused", rc != 0 and "startsAfter cycle" in err, err)
    check("byo: groved stops with status 0", g.stop() == 0)


def dry_run_create(env, body):
    """One PodCliqueSet create with dryRun=All through kube-sim: both PCS
    webhooks are called, nothing is stored."""
    req = urllib.request.Request(
        env.sim_url + "/apis/grove.io/v1alpha1/namespaces/inference/podcliquesets?dryRun=All",
        data=body, method="POST",
        headers={"Content-Type": "application/json", "Authorization": "Bearer kube-sim-token"})
    with env.open(req, 15) as r:
        return r.status


def rotation_under_load(env, args):
    # short lifetimes: a serving certificate every ~4 s, a new CA after
    # ~10 s; later flags win over the Deployment's
    short = args + ["--cert-validity=6s", "--ca-validity=15s", "--cert-propagation=1s"]
    env.kubectl("delete", "secret", "-n", NS, "groved-webhook-cert")
    a = Groved(env, "rot-a", short)
    check("replica a is ready", wait_for(a.ready, 20))
    b = Groved(env, "rot-b", short)
    check("replica b is ready", wait_for(b.ready, 20))
    # the API server reaches the non-leader: it must follow the leader's
    # renewals on its own
    env.admin("/__sim/resolve-service?service=%s/groved-webhook:443&addr=127.0.0.1:%d"
              % (NS, b.ports["webhooks"]))
    with open(os.path.join(ROOT, "examples", "vllm-disaggregated.yaml")) as f:
        pcs = yaml.safe_load(f)
    pcs["metadata"]["name"] = "load"
    body = json.dumps(pcs).encode()
    stats = {"ok": 0, "fail": 0, "errors": []}
    stop = threading.Event()

    def load():
        # bounded: 18 s or 5000 requests, whichever first
        end = time.monotonic() + 18
        while not stop.is_set() and time.monotonic() < end and stats["ok"] + stats["fail"] < 5000:
            try:
                code = dry_run_create(env, body)
                ok = code == 201 or code == 200
            except (urllib.error.URLError, OSError) as e:
                ok = False
                msg = e.read().decode() if hasattr(e, "read") else str(e)
                if len(stats["errors"]) < 3:
                    stats["errors"].append(msg[:300])
            stats["ok" if ok else "fail"] += 1

    threads = [threading.Thread(target=load) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    stop.set()
    leader = a if any(l.get("msg") == "leading" for l in a.lines()) else b
    renewals = [l for l in leader.lines() if l.get("msg") == "certificate secret renewed"]
    new_ca = [l for l in renewals if l.get("new_ca")]
    moved = [l for l in renewals if "moves to the new CA" in l.get("why", "")]
    loaded_b = [l for l in b.lines() if l.get("msg") == "certificate loaded"]
    check("the leader renewed the serving certificate during the load (%d renewals)" % len(renewals),
          len(renewals) >= 3)
    check("the leader made a new CA and then moved the certificate to it",
          len(new_ca) >= 1 and len(moved) >= 1, json.dumps(renewals)[:600])
    check("replica b loaded every new pair without a restart (%d loads)" % len(loaded_b),
          len(loaded_b) >= 4)
    check("load ran (%d requests)" % stats["ok"], stats["ok"] >= 50)
    check("zero failed requests during rotation (%d failed of %d)"
          % (stats["fail"], stats["ok"] + stats["fail"]), stats["fail"] == 0,
          "\n".join(stats["errors"]))
    ma, mb = a.metrics(), b.metrics()
    lead, other = (ma, mb) if leader is a else (mb, ma)
    check("/metrics: groved_leader is 1 on the leader, 0 on the other",
          lead.get("groved_leader") == 1 and other.get("groved_leader") == 0)
    check("/metrics: the leader counts its renewals",
          lead.get('groved_certificate_renewals_total{what="certificate"}', 0) >= 3
          and lead.get('groved_certificate_renewals_total{what="ca"}', 0) >= 1
          and other.get('groved_certificate_renewals_total{what="certificate"}') == 0,
          json.dumps({k: v for k, v in lead.items() if "certificate" in k}))
    expiry = mb.get("groved_serving_certificate_expiration_timestamp_seconds", 0)
    check("/metrics: replica b serves a certificate that expires within 6 s",
          time.time() < expiry <= time.time() + 7
          and mb.get("groved_serving_certificate_loads_total", 0) >= 4, str(expiry))
    # RBAC is enforced on groved: without the Secret's role binding the
    # next round is refused (and said so once in the log)
    rc, out, err = env.kubectl("delete", "rolebinding", "-n", NS, "groved-webhook-cert")

    def refused():
        return any("forbidden" in l.get("error", "") for l in b.lines()
                   if l.get("msg") == "cannot load the certificate secret")
    check("RBAC enforced: without its role binding groved may not read the Secret",
          rc == 0 and wait_for(refused, 5, 0.1), err)
    check("replica a stops with status 0", a.stop() == 0)
    check("replica b stops with status 0", b.stop() == 0)


if __name__ == "__main__":
    main()
