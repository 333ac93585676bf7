# SPDX-License-Identifier: Apache-2.0
"""Shared equipment of the end-to-end tests that run groved against
kube-sim: results (check), bounded polls (wait_for), a kube-sim process
(Sim: TLS, a kubeconfig, kubectl, the /__sim/ endpoints, its request log),
a `groved serve` process (Groved: its JSON log, ports, /readyz, /metrics)
and groved's webhook configurations from deploy/ pointed at a local
groved (register_webhooks); for the reconcile worker's scenario tests
(test_worker.py, test_rollout.py), their world (Cluster: kube-sim with
the grove CRDs and RBAC, groved's processes) and their main()
(run_scenarios), watches (Watch, RolloutWatcher) and groved plan's
templates.

Standard library and PyYAML only. Nothing here sleeps to let something
happen: wait_for polls a predicate until a deadline.
"""
import base64
import collections
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
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


GROVED_TOKEN = "groved-token"
GROVED_USER = "system:serviceaccount:groved-system:groved"


def grove_crds(root):
    """groved's CRDs, and KAI Scheduler's Topology kind as KAI's chart
    serves it (groved keeps a Topology per ClusterTopologyBinding)."""
    d = os.path.join(root, "deploy", "crds")
    return [os.path.join(d, f) for f in sorted(os.listdir(d))
            if f.endswith(".yaml") and f != "kustomization.yaml"] + [
        os.path.join(root, "tests", "fixtures", "crds", "kai-topology.yaml")]


def base_docs(root, ns):
    """What the reference workload needs before it is applied: the
    namespace ns (a dict), then examples/'s claim templates and router
    Service (paths)."""
    return ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
            os.path.join(root, "examples", "claim-templates.yaml"),
            os.path.join(root, "examples", "router-service.yaml"))


class Cluster:
    """The world of a reconcile worker's scenarios, in tmp/name: kube-sim
    with the nodes of the file nodes (default the reference nodes: one
    B200 and two H200 nodes) and grove_crds, RBAC enforced, its
    kubelet running the binary groved for grove-initc, its clock at
    time_scale, its request log on, a token for groved and a kubeconfig
    with it (gkc); the `groved serve` processes of start_groved, each with
    groved_args too, all in groveds; start() for the usual ones. A
    context manager: close() (the subclass's) on leaving."""

    def __init__(self, groved, root, tmp, name, time_scale, groved_args=(), nodes=None):
        self.groved, self.root = groved, root
        nodes = nodes or os.path.join(root, "tests", "fixtures", "nodes", "reference.yaml")
        self.groved_args = list(groved_args)
        self.tmp = os.path.join(tmp, name)
        os.makedirs(self.tmp)
        self.sim = Sim(root, self.tmp, ["--nodes", nodes, "--load"] + grove_crds(root) + [
            "--groved-binary", groved, "--time-scale", str(time_scale), "--authorize",
            "--token", "%s=%s:system:masters" % (GROVED_TOKEN, GROVED_USER)],
            env={"KUBE_SIM_VERBOSE": "1"})
        kc = yaml.safe_load(open(self.sim.kc))
        kc["users"][0]["user"] = {"token": GROVED_TOKEN}
        self.gkc = os.path.join(self.tmp, "groved.kubeconfig")
        with open(self.gkc, "w") as f:
            yaml.safe_dump(kc, f)
        self.groveds = []
        self.hooks = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self, workers=1, leader_elect=False, start_worker=None):
        """One groved "a" that serves the webhooks and leads (no
        --leader-elect); or, leader_elect, the webhooks from a replica
        that never dies ("hooks", --no-reconcile: a Service would send
        them to any live replica) and workers elected workers, each
        start_worker(i). The webhooks registered; groved ready, bounded."""
        if leader_elect:
            self.hooks = self.start_groved("hooks", ["--no-reconcile"])
            for i in range(workers):
                start_worker(i)
        else:
            self.hooks = self.start_groved("a", [])
        register_webhooks(self.sim, self.root, self.hooks.ports["webhooks"],
                          os.path.join(self.tmp, "tls-%s" % self.hooks.name, "ca.crt"))
        wait_for(self.hooks.ready, 20)

    def start_groved(self, name, args):
        g = Groved(self.groved, self.tmp, name,
                   args + ["--kubeconfig", self.gkc] + self.groved_args + [
                       "--self-signed", os.path.join(self.tmp, "tls-%s" % name)],
                   env={"POD_NAMESPACE": "groved-system", "POD_SERVICE_ACCOUNT": "groved"})
        self.groveds.append(g)
        return g

    def apply_base(self, results, ns, what):
        """base_docs(ns) applied, each checked (what: the checks' prefix);
        whether every one was."""
        for doc in base_docs(self.root, ns):
            rc, out, err = self.sim.apply(doc)
            if not results.check("%s: apply %s" % (
                    what, doc if isinstance(doc, str) else "namespace"), rc == 0, err):
                return False
        return True

    def leader(self):
        """The live groved that holds the worker's Lease, or None."""
        code, lease = self.sim.request(
            "GET", "/apis/coordination.k8s.io/v1/namespaces/groved-system/leases/groved-leader")
        h = (lease.get("spec") or {}).get("holderIdentity") if code == 200 else None
        return next((g for g in self.groveds if g.name == h and g.alive()), None)

    def k(self, *args, **kw):
        return self.sim.kubectl(*args, **kw)

    def set_pods(self, ns, pcs):
        return self.sim.list("pods", ns, "grove.io/podcliquesets=%s" % pcs)

    def print_logs(self, groved_lines, sim_scanned, sim_lines):
        """What a failure prints last: the tail of every groved's log
        (groved_lines), and the last sim_lines lines of kube-sim's log that
        are not requests among its last sim_scanned."""
        for g in self.groveds:
            print("  --- tail of groved %s's log\n%s" % (g.name, tail(g.log_path, groved_lines)))
        lines = [line for line in tail(self.sim.log_path, sim_scanned).splitlines()
                 if not Sim.REQUEST.match(line)]
        print("  --- tail of kube-sim's log (requests left out)\n%s"
              % "\n".join(lines[-sim_lines:]))
        sys.stdout.flush()


def run_scenarios(results, prefix, scenarios, keep=None, notes=None):
    """main() of a scenario test: skipped (exit 77) without kubectl, the
    client of every scenario; scenarios(tmp) in a new temporary folder.
    The folder is kept when a check failed; otherwise keep(tmp), when
    given, may keep it (it returns True and removes what it does not
    keep), else it is removed. Then notes() (lines to print, when given),
    the total time and the counts; exits 1 when a check failed."""
    if not shutil.which("kubectl"):
        print("# SKIP: kubectl is not installed (it is the client of every scenario)")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix=prefix)
    start = time.monotonic()
    try:
        scenarios(tmp)
    finally:
        if results.failed:
            print("# logs kept in %s" % tmp)
        elif not (keep and keep(tmp)):
            shutil.rmtree(tmp, ignore_errors=True)
    for line in notes() if notes else ():
        print(line)
    print("# total %.1f s" % (time.monotonic() - start))
    print("%d passed, %d failed, %d expected failures"
          % (results.passed, results.failed, results.xfailed))
    sys.exit(1 if results.failed else 0)


def watch_stream(w, query, timeout, pause, on_event, on_expired):
    """Watch requests on kube-sim one after another, each from w.rv, while
    w is not stopped and kube-sim runs. w has sim, rv, lock and stopped;
    query is the request's path and parameters (resourceVersion is
    added). Each event but a bookmark is on_event(type, object,
    monotonic time seen), then w.rv is its resourceVersion, both under
    w.lock; a bookmark only moves w.rv; an ERROR event (the
    resourceVersion too old) ends the request after on_expired(), which
    sets w.rv to resume from. A request that fails is tried again after
    pause seconds; timeout bounds each one's reads."""
    while not w.stopped and w.sim.alive():
        req = urllib.request.Request("%s%s&resourceVersion=%s" % (w.sim.url, query, w.rv),
                                     headers={"Authorization": "Bearer kube-sim-token"})
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=w.sim.tls) as r:
                for line in r:
                    if w.stopped:
                        return
                    ev = json.loads(line)
                    obj = ev.get("object") or {}
                    if ev.get("type") == "ERROR":
                        on_expired()
                        break
                    rv = obj.get("metadata", {}).get("resourceVersion", w.rv)
                    with w.lock:
                        if ev.get("type") != "BOOKMARK":
                            on_event(ev["type"], obj, time.monotonic())
                        w.rv = rv
        except (urllib.error.URLError, OSError, ValueError):
            time.sleep(pause)


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
        watch_stream(self, self.path + "?watch=true&timeoutSeconds=60", 90, 0.1,
                     lambda typ, obj, t: self.events.append((t, typ, obj)),
                     self._expired)

    def _expired(self):
        self.rv = "0"   # too old: start over (duplicates ADDED)

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


# ---- rollouts: a set's pods followed through a template change ----------

GATE = "grove.io/podgang-pending-creation"
L_HASH = "grove.io/pod-template-hash"
L_CLIQUE = "grove.io/podcliquesets-clique"
L_PCLQ = "grove.io/podclique"
L_PCSG = "grove.io/podcliquescalinggroup"
L_UNIT = "grove.io/podcliquescalinggroup-replica-index"


def plan_templates(groved, pcs):
    """({clique name as written: grove.io/pod-template-hash}, {clique:
    [container images]}) of the pods `groved plan` makes for the set pcs
    (a dict): what the worker will give that template's pods."""
    r = subprocess.run([groved, "plan", "-f", "-", "-o", "json"], input=json.dumps(pcs),
                       capture_output=True, text=True, timeout=30)
    try:
        out = json.loads(r.stdout)
    except ValueError:
        raise RuntimeError("groved plan: %s" % r.stderr)
    items = out.get("items", []) if isinstance(out, dict) else out
    hashes, images = {}, {}
    for o in items:
        labels = o.get("metadata", {}).get("labels") or {}
        if o.get("kind") == "Pod" and L_CLIQUE in labels:
            hashes[labels[L_CLIQUE]] = labels.get(L_HASH)
            images[labels[L_CLIQUE]] = [c.get("image") for c in
                                        o.get("spec", {}).get("containers") or []]
    return hashes, images


def plan_hashes(groved, pcs):
    """{clique: grove.io/pod-template-hash} (plan_templates)."""
    return plan_templates(groved, pcs)[0]


class RolloutWatcher:
    """Follows the pods of one PodCliqueSet (label grove.io/podcliquesets)
    during a scenario: a LIST, then one watch stream from its
    resourceVersion, so every transition is seen in the API's order. It
    keeps the state of every pod (Ready, template hash, gated,
    terminating) and, at every event, checks the rollout invariant
    (docs/reconcile.md, rollouts):

    - a standalone PodClique keeps at least its minAvailable pods Ready and
      not terminating; one fewer where minAvailable equals replicas and
      the clique has no maxSurge (the one-at-a-time allowance);
    - a scaling group keeps at least its minAvailable units available
      (every PodClique of the unit at its minAvailable), with the same
      allowance where its minAvailable equals its replicas;
    - no unit has Ready pods of two templates at once: the Ready pods of a
      unit all belong to one template version (add_version);
    - a pod runs what its grove.io/pod-template-hash says: its containers'
      images are those of the versions whose template has that hash
      (when add_version was given the images).

    Budgets (minAvailable, replicas) are the PodCliques' and groups' at
    start(); surge names the cliques (as written) that have a maxSurge.
    A violation is recorded once per breach, with the time and the state.
    samples: [(t, {hash: pods Ready and not terminating})] at every
    change of those counts. deleted/created: [(t, pod state)], the first
    moment a pod was seen terminating (or gone) or new.
    Times are time.monotonic()."""

    def __init__(self, sim, ns, pcs, surge=(), gate=GATE):
        import threading
        self.sim, self.ns, self.pcs, self.gate = sim, ns, pcs, gate
        self.surge = set(surge)
        self.lock = threading.Lock()
        self.threading = threading
        self.pods = {}        # name -> state
        self.gone_uids = set()
        self.versions = []    # {"name", "hashes", "applied", "seen"}
        self.violations = []  # (t, what, state)
        self.samples = []
        self.sample_rvs = []  # the resourceVersion of each sample's event
        self.rv_now = 0
        self.deleted = []
        self.created = []
        self.transitions = []  # (t, pod name, what)
        self.minimum = {}     # PodClique or group -> least available seen
        self.standalone = {}  # pclq -> (minAvailable, floor)
        self.groups = {}      # pcsg -> {"min", "floor", "cliques": {clique: minAvailable}}
        self.active = set()   # keys of breaches going on
        self.unknown = set()  # pod uids of a template of no version
        self.relists = 0
        self.events_seen = 0
        self.outdated_rv = 0  # the last event with a live pod off the newest version
        self.stopped = False
        self.rv = None
        self.t = None

    # -- template versions

    def add_version(self, name, hashes, images=None):
        """A template about to be applied: {clique: hash} and {clique:
        [images]} (plan_templates). Call it before the apply; the first
        one is what runs at start()."""
        with self.lock:
            now = time.monotonic()
            self.versions.append({"name": name, "hashes": dict(hashes),
                                  "images": dict(images or {}), "applied": now,
                                  "seen": now if not self.versions else None})
        return len(self.versions) - 1

    def planned(self, v):
        """Whether every PodClique of the set carries version v's hash
        (the worker has planned with it); marks the moment once true."""
        hashes = self.versions[v]["hashes"]
        pclqs = self.sim.list("pclq", self.ns, "app.kubernetes.io/part-of=%s" % self.pcs)
        for q in pclqs:
            clique = self._pclq_clique(q)
            if hashes.get(clique) != (q["metadata"].get("labels") or {}).get(L_HASH):
                return False
        with self.lock:
            if self.versions[v]["seen"] is None:
                self.versions[v]["seen"] = time.monotonic()
        return bool(pclqs)

    def wait_planned(self, v, timeout=15):
        return wait_for(lambda: self.planned(v), timeout, 0.02)

    def _pclq_clique(self, q):
        labels = q["metadata"].get("labels") or {}
        name = q["metadata"]["name"]
        g = labels.get(L_PCSG)
        if g:
            return name[len("%s-%s-" % (g, labels.get(L_UNIT))):]
        return name[len("%s-%s-" % (self.pcs, labels.get("grove.io/podcliqueset-replica-index",
                                                          "0"))):]

    def compatible(self, st):
        """The versions a pod's template belongs to."""
        return {i for i, v in enumerate(self.versions)
                if v["hashes"].get(st["clique"]) == st["hash"]}

    def current_at(self, t):
        """The versions that may be the worker's at t: the newest one it
        had planned by t, and any applied by t but not yet planned (an
        apply races the round that was going on)."""
        seen = [i for i, v in enumerate(self.versions) if v["seen"] is not None
                and v["seen"] <= t]
        cur = max(seen) if seen else 0
        return [cur] + [i for i, v in enumerate(self.versions)
                        if i > cur and v["applied"] <= t]

    def outdated_at(self, t, st):
        """Whether the pod was outdated at t for the worker (for one of
        the versions it may have had)."""
        return any(self.versions[i]["hashes"].get(st["clique"]) != st["hash"]
                   for i in self.current_at(t))

    def version_name(self, h):
        """The first version whose template has the hash h (for a
        picture); h itself if none."""
        return next((v["name"] for v in self.versions if h in v["hashes"].values()), h)

    # -- the stream

    def start(self):
        """Budgets from the PodCliques and groups, the pods from a LIST,
        then the watch in a thread."""
        sel = "app.kubernetes.io/part-of=%s" % self.pcs
        groups = {g["metadata"]["name"]: g for g in self.sim.list("pcsg", self.ns, sel)}
        for q in self.sim.list("pclq", self.ns, sel):
            labels = q["metadata"].get("labels") or {}
            spec = q.get("spec") or {}
            m = spec.get("minAvailable", spec.get("replicas", 1))
            g = labels.get(L_PCSG)
            if g:
                gs = groups.get(g, {}).get("spec") or {}
                gm = gs.get("minAvailable", 1)
                ent = self.groups.setdefault(g, {
                    "min": gm, "floor": gm - (1 if gm >= gs.get("replicas", 1) else 0),
                    "cliques": {}})
                ent["cliques"][self._pclq_clique(q)] = m
            else:
                allow = m >= spec.get("replicas", 1) and self._pclq_clique(q) not in self.surge
                self.standalone[q["metadata"]["name"]] = (m, m - (1 if allow else 0))
        self._relist()
        self.t = self.threading.Thread(target=self._run, daemon=True)
        self.t.start()
        return self

    def stop(self):
        self.stopped = True

    def _selector(self):
        return urllib.parse.quote("grove.io/podcliquesets=%s" % self.pcs)

    def _relist(self):
        path = "/api/v1/namespaces/%s/pods?labelSelector=%s" % (self.ns, self._selector())
        code, out = self.sim.request("GET", path)
        if code != 200:
            raise RuntimeError("kube-sim GET %s: %s %s" % (path, code, out))
        now = time.monotonic()
        with self.lock:
            if self.relists:
                self._violation(now, "watch", "the watch expired (410): pods relisted, "
                                "transitions may be missing")
            self.relists += 1
            self.pods = {}
            for p in out.get("items") or []:
                st = self._state(p)
                self.pods[st["name"]] = st
            self.rv = out["metadata"]["resourceVersion"]
            self._check(now)

    def _run(self):
        watch_stream(self, "/api/v1/namespaces/%s/pods?watch=true&labelSelector=%s"
                     "&timeoutSeconds=5" % (self.ns, self._selector()), 30, 0.05,
                     self._apply, self._expired)

    def _expired(self):
        """The watch expired (410): a LIST again, retried until it
        answers (or the watcher stops or kube-sim ends)."""
        self.rv = None
        while self.rv is None and not self.stopped and self.sim.alive():
            try:
                self._relist()
            except (RuntimeError, OSError, urllib.error.URLError):
                time.sleep(0.05)

    def _state(self, p):
        m = p["metadata"]
        labels = m.get("labels") or {}
        return {"name": m["name"], "uid": m["uid"], "rv": int(m.get("resourceVersion") or 0),
                "pclq": labels.get(L_PCLQ), "clique": labels.get(L_CLIQUE),
                "pcsg": labels.get(L_PCSG), "unit": labels.get(L_UNIT),
                "hash": labels.get(L_HASH), "ready": pod_ready(p),
                "gated": pod_gated(p, self.gate),
                "terminating": bool(m.get("deletionTimestamp")),
                "node": p.get("spec", {}).get("nodeName"),
                "images": [c.get("image") for c in p.get("spec", {}).get("containers") or []]}

    def _apply(self, typ, obj, t):
        self.events_seen += 1
        st = self._state(obj)
        self.rv_now = st["rv"]
        name = st["name"]
        old = self.pods.get(name)
        if typ == "DELETED":
            if old is not None and old["uid"] == st["uid"]:
                del self.pods[name]
            if not (old and old["uid"] == st["uid"] and old["terminating"]):
                self.deleted.append((t, st))
            self.gone_uids.add(st["uid"])
            self.transitions.append((t, name, "gone"))
        else:
            if old is None or old["uid"] != st["uid"]:
                self.created.append((t, st))
                self.transitions.append((t, name, "created %s%s" % (
                    st["hash"], " gated" if st["gated"] else "")))
            else:
                for k, on, off in (("gated", "gated", "gate lifted"), ("ready", "Ready",
                                                                      "not Ready"),
                                   ("terminating", "terminating", "not terminating")):
                    if st[k] != old[k]:
                        self.transitions.append((t, name, on if st[k] else off))
                if st["node"] and not old["node"]:
                    self.transitions.append((t, name, "bound"))
            if st["terminating"] and not (old and old["uid"] == st["uid"]
                                          and old["terminating"]):
                self.deleted.append((t, st))
            self.pods[name] = st
        if self.versions and any(len(self.versions) - 1 not in self.compatible(p)
                                 for p in self.pods.values() if not p["terminating"]):
            self.outdated_rv = st["rv"]
        self._check(t)

    # -- the invariant

    def _violation(self, t, key, what):
        self.violations.append((t, what, self.describe()))

    def _breach(self, t, key, bad, what):
        if bad and key not in self.active:
            self.active.add(key)
            self._violation(t, key, what)
        elif not bad:
            self.active.discard(key)

    def _check(self, t):
        avail = collections.Counter()
        counts = collections.Counter()
        for st in self.pods.values():
            if st["ready"] and not st["terminating"]:
                avail[st["pclq"]] += 1
                counts[st["hash"]] += 1
            if self.versions and st["uid"] not in self.unknown:
                vs = self.compatible(st)
                wrong = [self.versions[i]["images"][st["clique"]] for i in vs
                         if st["clique"] in self.versions[i]["images"] and
                         self.versions[i]["images"][st["clique"]] != st["images"]]
                if not vs or wrong:
                    self.unknown.add(st["uid"])
                    self._violation(t, "unknown", (
                        "pod %s is labelled template %s of clique %s, which no version has"
                        % (st["name"], st["hash"], st["clique"])) if not vs else (
                        "pod %s is labelled template %s (%s) but runs %s, not %s"
                        % (st["name"], st["hash"], ", ".join(
                            self.versions[i]["name"] for i in sorted(vs)),
                           st["images"], wrong[0])))
        for pclq, (m, floor) in self.standalone.items():
            n = avail[pclq]
            self.minimum[pclq] = min(self.minimum.get(pclq, n), n)
            self._breach(t, pclq, n < floor, "PodClique %s: %d pods Ready, minAvailable %d%s"
                         % (pclq, n, m, "" if floor == m else " (one below allowed)"))
        for g, ent in self.groups.items():
            units = {st["unit"] for st in self.pods.values() if st["pcsg"] == g}
            ok = [j for j in units if all(avail["%s-%s-%s" % (g, j, c)] >= cm
                                          for c, cm in ent["cliques"].items())]
            n = len(ok)
            self.minimum[g] = min(self.minimum.get(g, n), n)
            self._breach(t, g, n < ent["floor"], "group %s: %d units available (%s),"
                         " minAvailable %d" % (g, n, ",".join(sorted(ok)), ent["min"]))
            if not self.versions:
                continue
            for j in units:
                ready = [st for st in self.pods.values()
                         if st["pcsg"] == g and st["unit"] == j and st["ready"]]
                common = set(range(len(self.versions)))
                for st in ready:
                    common &= self.compatible(st)
                self._breach(t, "%s-%s two" % (g, j), ready and not common,
                             "unit %s-%s has Ready pods of two templates: %s" % (
                                 g, j, ", ".join("%s %s" % (st["name"], st["hash"])
                                                 for st in ready)))
        if not self.samples or self.samples[-1][1] != dict(counts):
            self.samples.append((t, dict(counts)))
            self.sample_rvs.append(self.rv_now)

    # -- reading it

    def describe(self):
        """The pods as one line each (call with the lock held or after
        stop)."""
        out = []
        for name in sorted(self.pods):
            st = self.pods[name]
            out.append("%s %s%s%s%s" % (name, st["hash"], " Ready" if st["ready"] else "",
                                        " gated" if st["gated"] else "",
                                        " terminating" if st["terminating"] else ""))
        return "\n".join(out)

    def snapshot(self):
        """A copy of the pods' states {name: state}."""
        with self.lock:
            return {k: dict(v) for k, v in self.pods.items()}

    def query(self, fn):
        """fn(watcher) under the lock."""
        with self.lock:
            return fn(self)

    def synced(self):
        """Whether the watcher has seen every pod a LIST shows now, at
        its resourceVersion (a barrier: its state is at least the API's
        at the moment of the call)."""
        listed = self.sim.list("pods", self.ns, "grove.io/podcliquesets=%s" % self.pcs)
        with self.lock:
            for p in listed:
                st = self.pods.get(p["metadata"]["name"])
                if p["metadata"]["uid"] in self.gone_uids:
                    continue
                if st is None or st["uid"] != p["metadata"]["uid"] or st["rv"] < rv_of(p):
                    return False
            return True

    def sync(self, timeout=10):
        return wait_for(self.synced, timeout, 0.02)

    def report(self, since=None, last=80):
        """The violations and the last transitions, for a failure."""
        with self.lock:
            lines = ["violations: %d" % len(self.violations)]
            for t, what, state in self.violations[:5]:
                lines.append("  at %.3f s: %s\n    %s" % (
                    t - (since or t), what, state.replace("\n", "\n    ")))
            lines.append("last transitions:")
            for t, name, what in self.transitions[-last:]:
                lines.append("  %.3f %s %s" % (t - (since or 0), name, what))
        return "\n".join(lines)

    def timeline(self, t0, t1=None):
        """[(t - t0, {version name: pods Ready})] from the samples between
        t0 and t1 (the state at t0 first)."""
        out = []
        with self.lock:
            samples = list(self.samples)
        before = [s for s in samples if s[0] <= t0]
        if before:
            out.append((0.0, before[-1][1]))
        for t, counts in samples:
            if t > t0 and (t1 is None or t <= t1):
                out.append((t - t0, counts))
        named = []
        for t, counts in out:
            by = collections.Counter()
            for h, n in counts.items():
                by[self.version_name(h)] += n
            named.append((t, dict(by)))
        return named
