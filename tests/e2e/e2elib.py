# SPDX-License-Identifier: Apache-2.0
"""Shared equipment of the end-to-end tests that run groved against
kube-sim: results (check), bounded polls (wait_for), a kube-sim process
(Sim: TLS, a kubeconfig, kubectl, the /__sim/ endpoints, its request log),
a `groved serve` process (Groved: its JSON log, ports, /readyz, /metrics)
and groved's webhook configurations from deploy/ pointed at a local
groved (register_webhooks).

Standard library and PyYAML only. Nothing here sleeps to let something
happen: wait_for polls a predicate until a deadline.
"""
import base64
import collections
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml


class Results:
    """ok/not ok lines, counted."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.xfailed = 0
        self.on_failure = None  # called with the check's name on a failure

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print("ok - %s" % name)
        else:
            self.failed += 1
            print("not ok - %s%s" % (name, ("\n  " + str(detail).replace("\n", "\n  "))
                                     if detail else ""))
            if self.on_failure:
                self.on_failure(name)
        sys.stdout.flush()
        return ok

    def xfail(self, name, reason):
        """A known failure, printed with its reason; not counted as failed."""
        self.xfailed += 1
        print("not ok - %s # TODO expected failure: %s" % (name, reason))
        sys.stdout.flush()


def wait_for(pred, timeout, step=0.05):
    """pred() until it is true or timeout seconds have passed; its last
    value."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def tail(path, n=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(collections.deque(f, n))
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e)


class Sim:
    """One kube-sim over HTTPS, with a kubeconfig for kubectl.
    args: extra command-line arguments (--nodes, --load, ...).
    env: extra environment (KUBE_SIM_VERBOSE=1 logs every request)."""

    def __init__(self, root, tmp, args=(), env=None, name="kube-sim"):
        self.root = root
        self.tmp = tmp
        self.log_path = os.path.join(tmp, "%s.log" % name)
        self.kc = os.path.join(tmp, "%s.kubeconfig" % name)
        tls = os.path.join(tmp, "%s-tls" % name)
        self.log = open(self.log_path, "w")
        self.p = subprocess.Popen(
            [sys.executable, os.path.join(root, "tests", "kube-sim", "kube-sim"),
             "--addr", "127.0.0.1:0", "--kubeconfig-out", self.kc, "--tls-dir", tls]
            + list(args),
            stdout=subprocess.PIPE, stderr=self.log, text=True,
            env=dict(os.environ, **(env or {})))
        line = self.p.stdout.readline()
        m = re.search(r"listening (https?://\S+)", line)
        if not m:
            self.p.kill()
            raise SystemExit("kube-sim did not start: %r\n%s" % (line, tail(self.log_path)))
        self.url = m.group(1)
        self.ca = os.path.join(tls, "ca.crt")
        self.tls = ssl.create_default_context(cafile=self.ca)

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()

    # -- the API, directly

    def request(self, method, path, body=None, ctype="application/json", timeout=10):
        """(status, parsed body or text)."""
        data = None if body is None else (body if isinstance(body, bytes)
                                          else json.dumps(body).encode())
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": ctype,
                                              "Authorization": "Bearer kube-sim-token"})
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.tls) as r:
                raw, code = r.read(), r.status
        except urllib.error.HTTPError as e:
            raw, code = e.read(), e.code
        try:
            return code, json.loads(raw or b"{}")
        except ValueError:
            return code, raw.decode(errors="replace")

    PATHS = {"pods": "/api/v1/%spods", "pclq": "/apis/grove.io/v1alpha1/%spodcliques",
             "pcsg": "/apis/grove.io/v1alpha1/%spodcliquescalinggroups",
             "pcs": "/apis/grove.io/v1alpha1/%spodcliquesets",
             "pg": "/apis/scheduler.grove.io/v1alpha1/%spodgangs",
             "resourceclaims": "/apis/resource.k8s.io/v1/%sresourceclaims"}

    def list(self, what, ns=None, selector=None):
        """The items of a LIST straight from the API (faster than kubectl
        in a poll); what is a key of PATHS."""
        path = self.PATHS[what] % ("namespaces/%s/" % ns if ns else "")
        if selector:
            path += "?labelSelector=" + urllib.parse.quote(selector)
        code, out = self.request("GET", path)
        if code != 200:
            raise RuntimeError("kube-sim GET %s: %s %s" % (path, code, out))
        return out.get("items") or []

    def admin(self, path, method="POST"):
        """A /__sim/ endpoint; its answer (JSON or text)."""
        code, out = self.request(method, path, b"" if method == "POST" else None)
        if code >= 300:
            raise RuntimeError("kube-sim %s %s: %s %s" % (method, path, code, out))
        return out

    # -- kubectl

    def kubectl(self, *args, stdin=None, timeout=30):
        r = subprocess.run(["kubectl", "--kubeconfig", self.kc] + list(args), input=stdin,
                           capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout, r.stderr

    def kget(self, *args):
        """kubectl get -o json ...: the object or List, or None."""
        rc, out, err = self.kubectl("get", "-o", "json", *args)
        return json.loads(out) if rc == 0 else None

    def items(self, *args):
        got = self.kget(*args)
        return got.get("items", []) if got else []

    def apply(self, path_or_obj):
        """kubectl apply --validate=false of a file or an object:
        (rc, out, err)."""
        if isinstance(path_or_obj, str):
            return self.kubectl("apply", "--validate=false", "-f", path_or_obj)
        return self.kubectl("apply", "--validate=false", "-f", "-",
                            stdin=json.dumps(path_or_obj))

    # -- the request log (KUBE_SIM_VERBOSE=1)

    REQUEST = re.compile(r'^kube-sim: "(GET|POST|PUT|PATCH|DELETE) (\S+) HTTP/1\.[01]" (\d+)')

    def log_offset(self):
        self.log.flush()
        return os.path.getsize(self.log_path)

    def requests(self, since=0):
        """[(verb, path, code)] of the request log after byte offset
        since."""
        out = []
        with open(self.log_path, errors="replace") as f:
            f.seek(since)
            for line in f:
                m = self.REQUEST.match(line)
                if m:
                    out.append((m.group(1), m.group(2), int(m.group(3))))
        return out


def api_resource(path):
    """The resource (with /subresource) of an API path:
    /api/v1/namespaces/ns/pods/x/status -> pods/status."""
    parts = path.split("?")[0].strip("/").split("/")
    parts = parts[2:] if parts[0] == "api" else parts[3:]
    if len(parts) >= 2 and parts[0] == "namespaces":
        parts = parts[2:] if len(parts) > 2 else ["namespaces"]
    if not parts:
        return ""
    return parts[0] + ("/" + parts[2] if len(parts) > 2 else "")


def writes_by_verb(requests):
    """{"VERB resource": n} of the writes (POST, PUT, PATCH, DELETE) that
    succeeded (2xx), and {"VERB resource code": n} of those that did not."""
    ok, failed = collections.Counter(), collections.Counter()
    for verb, path, code in requests:
        if verb == "GET":
            continue
        key = "%s %s" % (verb, api_resource(path))
        if 200 <= code < 300:
            ok[key] += 1
        else:
            failed["%s %d" % (key, code)] += 1
    return dict(sorted(ok.items())), dict(sorted(failed.items()))


class Groved:
    """One `groved serve` with loopback addresses; its log is JSON lines."""

    def __init__(self, groved, tmp, name, args, env=None):
        self.name = name
        self.log_path = os.path.join(tmp, "groved-%s.log" % name)
        self.log = open(self.log_path, "w")
        e = dict(os.environ, POD_NAME=name, **(env or {}))
        self.p = subprocess.Popen(
            [groved, "serve"] + list(args) + ["--webhook-addr", "127.0.0.1:0",
                                              "--health-addr", "127.0.0.1:0",
                                              "--metrics-addr", "127.0.0.1:0"],
            stdout=subprocess.DEVNULL, stderr=self.log, env=e)
        self.ports = wait_for(self._ports, 15)
        if not self.ports:
            self.kill()
            raise SystemExit("groved %s did not start:\n%s" % (name, tail(self.log_path)))

    def lines(self):
        out = []
        with open(self.log_path, errors="replace") as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def _ports(self):
        ports = {}
        for line in self.lines():
            if line.get("msg") == "listening":
                ports[line["server"]] = line["port"]
        return ports if len(ports) == 3 else None

    def alive(self):
        return self.p.poll() is None

    def ready(self):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % self.ports["health"],
                                        timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def metrics(self):
        """/metrics as {series: value}; {} when it does not answer."""
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.ports["metrics"],
                                        timeout=5) as r:
                text = r.read().decode()
        except (urllib.error.URLError, OSError):
            return {}
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                k, _, v = line.rpartition(" ")
                try:
                    out[k] = float(v)
                except ValueError:
                    pass
        return out

    def stop(self):
        if self.p.poll() is not None:
            return self.p.returncode
        self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return -9

    def kill(self):
        """kill -9."""
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def register_webhooks(sim, root, port, ca_file):
    """Stores deploy/base/webhooks.yaml's configurations in sim, every
    webhook pointed at https://127.0.0.1:port<path> with ca_file as its
    caBundle (groved --self-signed makes a pair for 127.0.0.1). kube-sim
    then calls groved for sets, their scale, pods and the authorizer as
    kube-apiserver would. Returns the names of the webhooks."""
    with open(ca_file, "rb") as f:
        bundle = base64.b64encode(f.read()).decode()
    names = []
    with open(os.path.join(root, "deploy", "base", "webhooks.yaml")) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    for d in docs:
        for w in d.get("webhooks", []):
            svc = w["clientConfig"].get("service", {})
            w["clientConfig"] = {"url": "https://127.0.0.1:%d%s" % (port, svc.get("path", "/")),
                                 "caBundle": bundle}
            names.append(w["name"])
        rc, out, err = sim.apply(d)
        if rc != 0:
            raise RuntimeError("cannot store %s: %s" % (d["metadata"]["name"], err))
    return names


class Watch:
    """A watch on one resource path (/api/v1/pods, all namespaces) in a
    thread, from the beginning (every object ADDED first), resumed from
    its last resourceVersion when the stream ends. events: [(monotonic
    time seen, type, object)], in resourceVersion order."""

    def __init__(self, sim, path):
        import threading
        self.sim = sim
        self.path = path
        self.events = []
        self.lock = threading.Lock()
        self.stopped = False
        self.rv = "0"
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stopped and self.sim.alive():
            req = urllib.request.Request(
                "%s%s?watch=true&resourceVersion=%s&timeoutSeconds=60"
                % (self.sim.url, self.path, self.rv),
                headers={"Authorization": "Bearer kube-sim-token"})
            try:
                with urllib.request.urlopen(req, timeout=90, context=self.sim.tls) as r:
                    for line in r:
                        if self.stopped:
                            return
                        ev = json.loads(line)
                        obj = ev.get("object") or {}
                        if ev.get("type") == "ERROR":
                            self.rv = "0"   # too old: start over (duplicates ADDED)
                            break
                        self.rv = obj.get("metadata", {}).get("resourceVersion", self.rv)
                        if ev.get("type") == "BOOKMARK":
                            continue
                        with self.lock:
                            self.events.append((time.monotonic(), ev["type"], obj))
            except (urllib.error.URLError, OSError, ValueError):
                time.sleep(0.1)

    def stop(self):
        self.stopped = True

    def snapshot(self):
        with self.lock:
            return list(self.events)

    def history(self, ns=None, name=None):
        """[(t, type, obj)] of one object (or every object of ns)."""
        out = []
        for t, typ, obj in self.snapshot():
            m = obj.get("metadata", {})
            if (ns is None or m.get("namespace") == ns) and (name is None
                                                             or m.get("name") == name):
                out.append((t, typ, obj))
        return out


def rv_of(obj):
    return int(obj.get("metadata", {}).get("resourceVersion") or 0)


def pod_ready(pod):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in pod.get("status", {}).get("conditions") or [])


def pod_started(pod):
    """Whether one of the pod's (main) containers has started running."""
    return any("running" in (s.get("state") or {}) or "terminated" in (s.get("state") or {})
               for s in pod.get("status", {}).get("containerStatuses") or [])


def pod_gated(pod, gate):
    return any(g.get("name") == gate for g in pod.get("spec", {}).get("schedulingGates") or [])


def percentile(values, p):
    """The p-th percentile (nearest rank) of values; None when empty."""
    if not values:
        return None
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(-(-p * len(v) // 100)) - 1))
    return v[k]
