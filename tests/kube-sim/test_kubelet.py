#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""kube-sim's kubelet, driven only through the API (and /__sim/ faults).

kube-sim runs over HTTPS with RBAC (--authorize), --time-scale 0.2 (grace
periods, back-offs and --ready-after five times shorter) and the groved
under test as --groved-binary.  Nodes are created through the API, as a
real node's kubelet registers them; pods are bound through pods/binding
(nodeName at create where kube-sim has no binding yet).  It checks:

- a bound pod goes Pending -> init containers -> Running -> Ready, its
  conditions turning True in a kubelet's order, with container statuses,
  pod and host IPs, startTime and qosClass as a kubelet reports them;
  per-pod ready-after and never-ready annotations;
- an init container of groved's image runs the real `groved initc` with
  the set's token (ServiceAccount, Role, RoleBinding and token Secret
  from `groved plan`, the Secret mounted at the service-account path as
  the planner's pods mount it): it holds its pod while the parent
  PodClique's pods are not Ready and releases it within a second of the
  last one turning Ready (made Ready by the kubelet itself); its output is
  served by pods/log;
- given only the pod's own default token it fails with 'forbidden' in its
  log and restarts with the kubelet's back-off (CrashLoopBackOff,
  restartCount growing);
- graceful deletion: deletionTimestamp and grace, removal after the
  (scaled) grace period, shortening, finalizers, unbound and terminal pods
  deleted at once;
- each fault: pod-fail, pod-crash, node-notready, node-unreachable (a
  deleted pod stays Terminating until the Node is deleted), node-cordon,
  node-delete (its pods fail and go), node-restore.

Usage: test_kubelet.py GROVED REPO_ROOT [TEST...]
The initc tests are skipped (the reason printed, exit 77 when all else
passed) only when GROVED does not exist.
"""
import json
import os
import re
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import yaml

GROVED, ROOT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
ONLY = sys.argv[3:]
SIM = os.path.join(ROOT, "tests", "kube-sim", "kube-sim")
SCALE = 0.2               # --time-scale
NS = "ns1"
GROVED_IMAGE = "ghcr.io/groved/groved:0.1.0"
RELEASE_BOUND_S = 1.0     # last parent Ready -> child's init container done

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok - %s" % name)
    else:
        failed += 1
        print("not ok - %s%s" % (name, ("\n  " + str(detail).replace("\n", "\n  "))
                                 if detail else ""))
    sys.stdout.flush()
    return ok


def wait_for(pred, timeout, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def cond(pod, ctype):
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c.get("status")
    return None


class Sim:
    """kube-sim over HTTPS with RBAC and the kubelet, and an admin client."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.kc = os.path.join(tmp, "kubeconfig")
        tls = os.path.join(tmp, "sim-tls")
        args = [sys.executable, SIM, "--addr", "127.0.0.1:0", "--kubeconfig-out", self.kc,
                "--tls-dir", tls, "--authorize", "--time-scale", str(SCALE),
                "--groved-binary", GROVED, "--groved-image", GROVED_IMAGE]
        self.log = open(os.path.join(tmp, "kube-sim.log"), "w")
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.p.stdout.readline()
        m = re.search(r"listening (https://127\.0\.0\.1:\d+)", line)
        if not m:
            self.stop()
            raise SystemExit("kube-sim did not start: %r\n%s" % (
                line, open(os.path.join(tmp, "kube-sim.log")).read()))
        self.url = m.group(1)
        self.tls = ssl.create_default_context(cafile=os.path.join(tls, "ca.crt"))
        self.token = yaml.safe_load(open(self.kc))["users"][0]["user"]["token"]

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()

    def req(self, method, path, body=None, ctype="application/json", raw=False):
        data = json.dumps(body).encode() if body is not None else None
        r = urllib.request.Request(self.url + path, data=data, method=method)
        r.add_header("Authorization", "Bearer " + self.token)
        if data is not None:
            r.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(r, timeout=15, context=self.tls) as resp:
                text = resp.read()
                return resp.status, (text.decode() if raw else json.loads(text or b"{}"))
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                return e.code, json.loads(text or b"{}")
            except ValueError:
                return e.code, {"raw": text.decode(errors="replace")}

    def must(self, method, path, body=None, ctype="application/json"):
        code, obj = self.req(method, path, body, ctype)
        if code >= 300:
            raise AssertionError("%s %s: %d %s" % (method, path, code, obj))
        return obj

    def fault(self, what, **q):
        qs = "&".join("%s=%s" % kv for kv in q.items())
        return self.req("POST", "/__sim/%s?%s" % (what, qs))

    def pod(self, name, ns=NS):
        code, obj = self.req("GET", "/api/v1/namespaces/%s/pods/%s" % (ns, name))
        return obj if code == 200 else None

    def node(self, name):
        code, obj = self.req("GET", "/api/v1/nodes/" + name)
        return obj if code == 200 else None

    def make_node(self, name):
        self.must("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node",
                                            "metadata": {"name": name}})
        return wait_for(lambda: cond(self.node(name) or {}, "Ready") == "True", 5)

    def run_pod(self, pod, node, ns=NS):
        """Create pod and bind it to node: through pods/binding as a
        scheduler does, or with spec.nodeName at create where kube-sim
        serves no binding."""
        pod = json.loads(json.dumps(pod))
        pod.setdefault("apiVersion", "v1")
        pod.setdefault("kind", "Pod")
        pod["metadata"]["namespace"] = ns
        pod["spec"].pop("schedulingGates", None)
        pod["spec"]["schedulerName"] = "none"   # no scheduler of kube-sim's
        self.must("POST", "/api/v1/namespaces/%s/pods" % ns, pod)
        name = pod["metadata"]["name"]
        code, obj = self.req("POST", "/api/v1/namespaces/%s/pods/%s/binding" % (ns, name), {
            "apiVersion": "v1", "kind": "Binding", "metadata": {"name": name, "namespace": ns},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node}})
        if code == 404 and (self.pod(name, ns) or {}).get("metadata"):
            # no pods/binding: delete and create bound, as Kubernetes allows
            self.req("DELETE", "/api/v1/namespaces/%s/pods/%s" % (ns, name))
            wait_for(lambda: self.pod(name, ns) is None, 5)
            pod["spec"]["nodeName"] = node
            self.must("POST", "/api/v1/namespaces/%s/pods" % ns, pod)
        elif code >= 300:
            raise AssertionError("binding %s: %d %s" % (name, code, obj))


class Watch:
    """Every event of the pods of a namespace, with the time it arrived."""

    def __init__(self, sim, ns=NS):
        self.events = []
        self.lock = threading.Lock()
        r = urllib.request.Request(sim.url + "/api/v1/namespaces/%s/pods?watch=true&"
                                   "resourceVersion=0&timeoutSeconds=300" % ns)
        r.add_header("Authorization", "Bearer " + sim.token)
        self.resp = urllib.request.urlopen(r, timeout=300, context=sim.tls)
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        try:
            for line in self.resp:
                if line.strip():
                    ev = json.loads(line)
                    with self.lock:
                        self.events.append((time.monotonic(), ev["type"], ev["object"]))
        except (OSError, ValueError):
            pass

    def of(self, name):
        with self.lock:
            return [(t, ty, o) for t, ty, o in self.events
                    if o.get("metadata", {}).get("name") == name]

    def close(self):
        # closing the response while its thread reads blocks; the stream
        # ends with kube-sim (or its timeout), the daemon thread with it
        pass


def plain_pod(name, **kw):
    ann = kw.pop("annotations", None)
    pod = {"metadata": {"name": name}, "spec": {
        "containers": [{"name": "main", "image": "busybox:1.36",
                        "resources": kw.pop("resources", {})}]}}
    if ann:
        pod["metadata"]["annotations"] = ann
    pod["spec"].update(kw)
    return pod


# -- tests

def t_lifecycle(sim, tmp):
    """A bound pod's way to Ready, as a kubelet reports it."""
    w = Watch(sim)
    try:
        pod = plain_pod("life", annotations={"sim.grove.io/ready-after": "2"},
                        resources={"requests": {"cpu": "1", "memory": "1Gi"},
                                   "limits": {"cpu": "1", "memory": "1Gi"}})
        pod["spec"]["initContainers"] = [{"name": "setup", "image": "busybox:1.36",
                                          "resources": {"limits": {"cpu": "1",
                                                                   "memory": "1Gi"}}}]
        sim.run_pod(pod, "node-a")
        ready = wait_for(lambda: cond(sim.pod("life") or {}, "Ready") == "True", 10)
        check("lifecycle: the pod becomes Ready", ready, sim.pod("life"))
        p = sim.pod("life")
        st = p["status"]
        # the order in which the conditions turned True, from the watch
        first, seen_running_unready = {}, False
        for i, (_, _, o) in enumerate(w.of("life")):
            for c in (o.get("status") or {}).get("conditions") or []:
                if c["status"] == "True":
                    first.setdefault(c["type"], i)
            cs = (o.get("status") or {}).get("containerStatuses") or []
            if cs and "running" in cs[0]["state"] and not cs[0]["ready"]:
                seen_running_unready = o["status"]["phase"] == "Running"
        want = ["PodScheduled", "PodReadyToStartContainers", "Initialized", "ContainersReady",
                "Ready"]
        idx = [first.get(t) for t in want]
        check("lifecycle: conditions turned True in a kubelet's order (Ready with "
              "ContainersReady, after Initialized)",
              None not in idx and idx == sorted(idx) and idx[2] < idx[3] == idx[4], first)
        check("lifecycle: Running and started before Ready (ready-after)",
              seen_running_unready, [o.get("status") for _, _, o in w.of("life")])
        check("lifecycle: condition types as 1.33 writes them",
              [c["type"] for c in st["conditions"]] ==
              ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
               "PodScheduled"] and all(c.get("lastTransitionTime") for c in st["conditions"]),
              st["conditions"])
        ic, cs = st["initContainerStatuses"][0], st["containerStatuses"][0]
        check("lifecycle: init container Completed", ic["state"]["terminated"]["reason"] ==
              "Completed" and ic["state"]["terminated"]["exitCode"] == 0 and ic["ready"], ic)
        check("lifecycle: container running, started, ready, with ids",
              "running" in cs["state"] and cs["started"] and cs["ready"] and
              cs["restartCount"] == 0 and cs["imageID"].startswith("busybox@sha256:") and
              cs["containerID"].startswith("containerd://") and cs["image"] == "busybox:1.36",
              cs)
        check("lifecycle: phase, IPs, startTime, qosClass",
              st["phase"] == "Running" and re.match(r"^10\.\d+\.\d+\.\d+$", st["podIP"]) and
              st["podIPs"] == [{"ip": st["podIP"]}] and st.get("hostIP") and
              st.get("startTime") and st["qosClass"] == "Guaranteed", st)
        # ready-after 2 s at scale 0.2: Ready about 0.4 s after Running
        t_run = next((t for t, _, o in w.of("life")
                      if (o.get("status") or {}).get("phase") == "Running"), None)
        t_ready = next((t for t, _, o in w.of("life") if cond(o, "Ready") == "True"), None)
        check("lifecycle: Ready after the annotation's ready-after, scaled",
              t_run and t_ready and 0.3 <= t_ready - t_run <= 1.5, (t_run, t_ready))
        # never-ready
        sim.run_pod(plain_pod("never", annotations={"sim.grove.io/never-ready": "true"}),
                    "node-a")
        running = wait_for(lambda: ((sim.pod("never") or {}).get("status") or {}).get(
            "phase") == "Running", 5)
        end = time.monotonic() + 1.0
        stays = True
        while time.monotonic() < end:
            stays = stays and cond(sim.pod("never"), "Ready") == "False"
            time.sleep(0.05)
        check("lifecycle: never-ready stays Running and not Ready",
              running and stays and cond(sim.pod("never"), "ContainersReady") == "False",
              sim.pod("never"))
        # a pod on a node that does not exist is left alone
        sim.must("POST", "/api/v1/namespaces/%s/pods" % NS, {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nowhere"},
            "spec": {"nodeName": "no-such-node", "containers": [{"name": "c", "image": "x"}]}})
        # once the kubelet has handled the create (a barrier, not a sleep)
        code, _ = sim.fault("kubelet-sync")
        check("lifecycle: a pod on a node that does not exist gets no status",
              code == 200 and
              not ((sim.pod("nowhere") or {}).get("status") or {}).get(
                  "containerStatuses"), sim.pod("nowhere"))
        code, obj = sim.req("DELETE", "/api/v1/namespaces/%s/pods/nowhere" % NS)
        check("lifecycle: deleted, it is graceful, and goes at once (orphaned)",
              code == 200 and obj["metadata"].get("deletionGracePeriodSeconds") == 30 and
              wait_for(lambda: sim.pod("nowhere") is None, 2), obj)
    finally:
        w.close()


def planned(tmp):
    """groved plan's objects for a small InOrder set: 2 router pods, then
    a worker whose grove-initc waits for them."""
    path = os.path.join(tmp, "set.yaml")
    with open(path, "w") as f:
        f.write("""apiVersion: grove.io/v1alpha1
kind: PodCliqueSet
metadata: {name: myset, namespace: %s}
spec:
  replicas: 1
  template:
    cliqueStartupType: CliqueStartupTypeInOrder
    cliques:
    - name: router
      spec:
        replicas: 2
        minAvailable: 2
        podSpec:
          containers: [{name: main, image: busybox}]
    - name: worker
      spec:
        replicas: 1
        podSpec:
          containers: [{name: main, image: busybox}]
""" % NS)
    out = subprocess.run([GROVED, "plan", "-f", path, "-o", "json"], capture_output=True,
                         text=True, timeout=30)
    if out.returncode != 0:
        raise AssertionError("groved plan: %s" % out.stderr)
    return {(o["kind"], o["metadata"]["name"]): o for o in json.loads(out.stdout)["items"]}


def set_up_credentials(sim, objs):
    """The set's ServiceAccount, token Secret, Role and RoleBinding, as the
    worker creates them; the token controller fills the Secret."""
    for kind, path in (("ServiceAccount", "/api/v1/namespaces/%s/serviceaccounts"),
                       ("Secret", "/api/v1/namespaces/%s/secrets"),
                       ("Role", "/apis/rbac.authorization.k8s.io/v1/namespaces/%s/roles"),
                       ("RoleBinding",
                        "/apis/rbac.authorization.k8s.io/v1/namespaces/%s/rolebindings")):
        for (k, _), o in objs.items():
            if k == kind:
                sim.must("POST", path % NS, o)
    filled = wait_for(lambda: (sim.must("GET", "/api/v1/namespaces/%s/secrets/myset-ic-sat"
                                        % NS).get("data") or {}).get("token"), 5)
    if not filled:
        raise AssertionError("the token controller did not fill Secret myset-ic-sat")


def t_initc_set_token(sim, tmp):
    """grove-initc with the set's token holds its pod until both router
    pods are Ready, and releases it within a second of the last one."""
    objs = planned(tmp)
    set_up_credentials(sim, objs)
    w = Watch(sim)
    try:
        worker = objs[("Pod", "myset-0-worker-0")]
        ic = worker["spec"]["initContainers"][-1]
        check("initc: the planned worker has grove-initc with the set's Secret mounted",
              ic["name"] == "grove-initc" and ic["args"][0] == "initc" and
              any(m["mountPath"] == "/var/run/secrets/kubernetes.io/serviceaccount"
                  for m in ic.get("volumeMounts") or []), ic)
        # the worker first, so that it waits for the routers
        sim.run_pod(worker, "node-b")
        running = wait_for(lambda: "running" in (((sim.pod("myset-0-worker-0") or {}).get(
            "status") or {}).get("initContainerStatuses") or [{}])[0].get("state", {}), 5)
        check("initc: grove-initc runs", running, sim.pod("myset-0-worker-0"))
        # the routers turn Ready 1.5 s and 3 s (scaled) after they start
        for i, after in ((0, "7.5"), (1, "15")):
            r = objs[("Pod", "myset-0-router-%d" % i)]
            r["metadata"].setdefault("annotations", {})["sim.grove.io/ready-after"] = after
            sim.run_pod(r, "node-b")
        first = wait_for(lambda: cond(sim.pod("myset-0-router-0") or {}, "Ready") == "True",
                         10)
        p = sim.pod("myset-0-worker-0")
        check("initc: the worker is held while a router is not Ready",
              first and cond(p, "Initialized") == "False" and
              p["status"]["phase"] == "Pending" and
              "running" in p["status"]["initContainerStatuses"][0]["state"] and
              p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] ==
              "PodInitializing", p.get("status"))
        done = wait_for(lambda: cond(sim.pod("myset-0-worker-0") or {}, "Ready") == "True",
                        15)
        check("initc: the worker runs and becomes Ready after its parents",
              done, sim.pod("myset-0-worker-0"))
        t_parent = next((t for t, _, o in w.of("myset-0-router-1")
                         if cond(o, "Ready") == "True"), None)
        t_child = next((t for t, _, o in w.of("myset-0-worker-0")
                        if cond(o, "Initialized") == "True"), None)
        check("initc: released within %gs of the last parent turning Ready (%s)" % (
            RELEASE_BOUND_S, "%.3f s" % (t_child - t_parent) if t_parent and t_child
            else "?"), t_parent and t_child and 0 <= t_child - t_parent < RELEASE_BOUND_S,
            (t_parent, t_child))
        st = sim.pod("myset-0-worker-0")["status"]["initContainerStatuses"][0]
        check("initc: grove-initc Completed, no restart",
              st["state"]["terminated"]["reason"] == "Completed" and st["restartCount"] == 0,
              st)
        code, log = sim.req("GET", "/api/v1/namespaces/%s/pods/myset-0-worker-0/log?"
                            "container=grove-initc" % NS, raw=True)
        check("initc: pods/log serves groved initc's output",
              code == 200 and "groved initc: waiting for" in log and
              "groved initc: done:" in log, (code, log))
    finally:
        w.close()


def t_initc_own_token(sim, tmp):
    """grove-initc given only the pod's own default token: forbidden,
    exit 1, restarted with back-off."""
    objs = planned(tmp)
    pod = objs[("Pod", "myset-0-worker-0")]
    pod["metadata"]["name"] = "own-token"
    pod["spec"].pop("volumes", None)
    for c in pod["spec"]["initContainers"]:
        c.pop("volumeMounts", None)
    sim.run_pod(pod, "node-b")

    def ic():
        return ((((sim.pod("own-token") or {}).get("status") or {}).get(
            "initContainerStatuses") or [{}])[0])

    seen = {"backoff": None}

    def restarted_twice():
        s = ic()
        w = (s.get("state") or {}).get("waiting") or {}
        if w.get("reason") == "CrashLoopBackOff" and seen["backoff"] is None:
            seen["backoff"] = dict(s)
        return s.get("restartCount", 0) >= 3 and seen["backoff"]

    ok = wait_for(restarted_twice, 20)
    s = ic()
    check("own token: grove-initc restarts with back-off (restartCount %s)"
          % s.get("restartCount"), ok, s)
    b = seen["backoff"] or {}
    check("own token: CrashLoopBackOff with the kubelet's message, last exit 1 Error",
          re.match(r"^back-off (10s|20s) restarting failed container=grove-initc "
                   r"pod=own-token_%s\(" % NS,
                   b.get("state", {}).get("waiting", {}).get("message", "")) and
          b.get("lastState", {}).get("terminated", {}).get("exitCode") == 1 and
          b["lastState"]["terminated"]["reason"] == "Error", b)
    p = sim.pod("own-token")
    check("own token: the pod stays Pending, not Initialized",
          p["status"]["phase"] == "Pending" and cond(p, "Initialized") == "False", p["status"])
    code, log = sim.req("GET", "/api/v1/namespaces/%s/pods/own-token/log?container="
                        "grove-initc&previous=true" % NS, raw=True)
    check("own token: its log says forbidden, for the pod's own account",
          code == 200 and "forbidden" in log and
          'system:serviceaccount:%s:default' % NS in log, (code, log))


def t_graceful_deletion(sim, tmp):
    path = "/api/v1/namespaces/%s/pods/" % NS
    sim.run_pod(plain_pod("grace", terminationGracePeriodSeconds=5), "node-a")
    wait_for(lambda: cond(sim.pod("grace") or {}, "Ready") == "True", 5)
    t0 = time.monotonic()
    code, obj = sim.req("DELETE", path + "grace")
    md = obj.get("metadata", {})
    check("graceful: DELETE answers the pod with deletionTimestamp and its grace",
          code == 200 and md.get("deletionTimestamp") and
          md.get("deletionGracePeriodSeconds") == 5, obj)
    check("graceful: the pod is still there, Terminating", (sim.pod("grace") or {}).get(
        "metadata", {}).get("deletionTimestamp"))
    gone = wait_for(lambda: sim.pod("grace") is None, 5)
    took = time.monotonic() - t0
    check("graceful: removed after its grace period, scaled (5 s x %g: %.2f s)"
          % (SCALE, took), gone and 5 * SCALE - 0.1 <= took <= 5 * SCALE + 1.0, took)

    # a second DELETE may only shorten the grace
    sim.run_pod(plain_pod("shorten", terminationGracePeriodSeconds=30), "node-a")
    wait_for(lambda: cond(sim.pod("shorten") or {}, "Ready") == "True", 5)
    t0 = time.monotonic()
    sim.req("DELETE", path + "shorten")
    _, obj = sim.req("DELETE", path + "shorten", {"gracePeriodSeconds": 60})
    longer = obj.get("metadata", {}).get("deletionGracePeriodSeconds")
    _, obj = sim.req("DELETE", path + "shorten", {"gracePeriodSeconds": 2})
    shorter = obj.get("metadata", {}).get("deletionGracePeriodSeconds")
    gone = wait_for(lambda: sim.pod("shorten") is None, 5)
    took = time.monotonic() - t0
    check("graceful: a longer grace is ignored, a shorter one counts (%.2f s)" % took,
          longer == 30 and shorter == 2 and gone and took <= 2 * SCALE + 1.0,
          (longer, shorter, took))

    # finalizers: deleted with grace 0 after the grace period, then kept
    pod = plain_pod("fin", terminationGracePeriodSeconds=1)
    pod["metadata"]["finalizers"] = ["test.grove.io/keep"]
    sim.run_pod(pod, "node-a")
    wait_for(lambda: cond(sim.pod("fin") or {}, "Ready") == "True", 5)
    sim.req("DELETE", path + "fin")
    zero = wait_for(lambda: (sim.pod("fin") or {}).get("metadata", {}).get(
        "deletionGracePeriodSeconds") == 0, 5)
    p = sim.pod("fin")
    check("graceful: with a finalizer, the kubelet's grace-0 delete leaves it there",
          zero and p and p["metadata"]["finalizers"] == ["test.grove.io/keep"], p)
    check("graceful: its containers were killed (exit 137, phase Failed)",
          p and p["status"]["phase"] == "Failed" and
          p["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 137,
          p and p["status"])
    sim.must("PATCH", path + "fin", {"metadata": {"finalizers": None}},
             "application/merge-patch+json")
    check("graceful: removing the finalizer removes it",
          wait_for(lambda: sim.pod("fin") is None, 5))

    # unbound and terminal pods go at once
    sim.must("POST", "/api/v1/namespaces/%s/pods" % NS, {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "unbound"},
        "spec": {"containers": [{"name": "c", "image": "x"}]}})
    code, obj = sim.req("DELETE", path + "unbound")
    check("graceful: an unbound pod is deleted at once",
          code == 200 and sim.pod("unbound") is None, obj)
    sim.run_pod(plain_pod("terminal"), "node-a")
    wait_for(lambda: cond(sim.pod("terminal") or {}, "Ready") == "True", 5)
    sim.fault("pod-fail", namespace=NS, name="terminal")
    sim.req("DELETE", path + "terminal")
    check("graceful: a Failed pod is deleted at once", sim.pod("terminal") is None)


def t_pod_faults(sim, tmp):
    sim.run_pod(plain_pod("victim"), "node-a")
    wait_for(lambda: cond(sim.pod("victim") or {}, "Ready") == "True", 5)
    code, _ = sim.fault("pod-crash", namespace=NS, name="victim", exitCode=2)
    p = sim.pod("victim")
    cs = p["status"]["containerStatuses"][0]
    check("pod-crash: restartCount 1, last state terminated (2, Error), running again",
          code == 200 and cs["restartCount"] == 1 and
          cs["lastState"]["terminated"]["exitCode"] == 2 and
          cs["lastState"]["terminated"]["reason"] == "Error" and "running" in cs["state"] and
          not cs["ready"] and cond(p, "Ready") == "False", cs)
    check("pod-crash: Ready again after ready-after",
          wait_for(lambda: cond(sim.pod("victim"), "Ready") == "True", 5))
    code, _ = sim.fault("pod-fail", namespace=NS, name="victim", reason="Evicted",
                        message="injected")
    p = sim.pod("victim")
    cs = p["status"]["containerStatuses"][0]
    check("pod-fail: phase Failed, reason, containers terminated, not Ready",
          code == 200 and p["status"]["phase"] == "Failed" and
          p["status"].get("reason") == "Evicted" and "terminated" in cs["state"] and
          cond(p, "Ready") == "False", p["status"])
    code, obj = sim.fault("pod-crash", namespace=NS, name="nope")
    check("pod-crash: an unknown pod is a 404", code == 404, obj)


def t_node_faults(sim, tmp):
    path = "/api/v1/namespaces/%s/pods/" % NS
    sim.make_node("node-f")
    sim.run_pod(plain_pod("on-f"), "node-f")
    wait_for(lambda: cond(sim.pod("on-f") or {}, "Ready") == "True", 5)

    code, _ = sim.fault("node-notready", name="node-f")
    n = sim.node("node-f")
    check("node-notready: Ready=False (KubeletNotReady), not-ready taints",
          code == 200 and cond(n, "Ready") == "False" and
          {("node.kubernetes.io/not-ready", "NoSchedule"),
           ("node.kubernetes.io/not-ready", "NoExecute")} <=
          {(t["key"], t["effect"]) for t in n["spec"].get("taints") or []}, n)
    check("node-notready: its pods turn not Ready (ContainersReady stays True)",
          wait_for(lambda: cond(sim.pod("on-f"), "Ready") == "False", 5) and
          cond(sim.pod("on-f"), "ContainersReady") == "True", sim.pod("on-f"))
    sim.run_pod(plain_pod("late"), "node-f")
    # once the kubelet has handled the create (on a Ready node it would
    # have started it then)
    code, _ = sim.fault("kubelet-sync")
    check("node-notready: a pod bound to it does not start",
          code == 200 and
          not ((sim.pod("late") or {}).get("status") or {}).get("containerStatuses"),
          sim.pod("late"))
    code, _ = sim.fault("node-restore", name="node-f")
    n = sim.node("node-f")
    check("node-restore: Ready=True, taints gone", code == 200 and
          cond(n, "Ready") == "True" and not n["spec"].get("taints"), n)
    check("node-restore: its pods Ready again, the waiting one starts",
          wait_for(lambda: cond(sim.pod("on-f"), "Ready") == "True" and
                   cond(sim.pod("late"), "Ready") == "True", 5))

    code, _ = sim.fault("node-cordon", name="node-f")
    n = sim.node("node-f")
    check("node-cordon: unschedulable and its taint", code == 200 and
          n["spec"].get("unschedulable") is True and
          ("node.kubernetes.io/unschedulable", "NoSchedule") in
          {(t["key"], t["effect"]) for t in n["spec"].get("taints") or []}, n)
    sim.fault("node-restore", name="node-f")
    n = sim.node("node-f")
    check("node-restore: uncordoned", not n["spec"].get("unschedulable") and
          not n["spec"].get("taints"), n)

    code, _ = sim.fault("node-unreachable", name="node-f")
    n = sim.node("node-f")
    check("node-unreachable: Ready=Unknown (NodeStatusUnknown), unreachable taints",
          code == 200 and cond(n, "Ready") == "Unknown" and
          ("node.kubernetes.io/unreachable", "NoExecute") in
          {(t["key"], t["effect"]) for t in n["spec"].get("taints") or []}, n)
    check("node-unreachable: its pods turn not Ready",
          wait_for(lambda: cond(sim.pod("on-f"), "Ready") == "False", 5), sim.pod("on-f"))
    sim.req("DELETE", path + "on-f", {"gracePeriodSeconds": 1})
    # on a reachable node it would go after 1 s x SCALE; watch it stay
    end, stays = time.monotonic() + 1 * SCALE + 1.5, True
    while time.monotonic() < end and stays:
        p = sim.pod("on-f")
        stays = bool(p and p["metadata"].get("deletionTimestamp"))
        time.sleep(0.05)
    check("node-unreachable: a deleted pod stays Terminating", stays, sim.pod("on-f"))
    code, _ = sim.fault("node-delete", name="node-f")
    check("node-delete (unreachable): its Terminating pods go",
          code == 200 and wait_for(lambda: sim.pod("on-f") is None and
                                   sim.pod("late") is None, 5),
          (sim.pod("on-f"), sim.pod("late")))

    # a deleted node's pods fail (DisruptionTarget) and are deleted
    sim.make_node("node-g")
    pod = plain_pod("on-g")
    pod["metadata"]["finalizers"] = ["test.grove.io/keep"]
    sim.run_pod(pod, "node-g")
    wait_for(lambda: cond(sim.pod("on-g") or {}, "Ready") == "True", 5)
    sim.fault("node-delete", name="node-g")
    gc = wait_for(lambda: (sim.pod("on-g") or {}).get("metadata", {}).get(
        "deletionTimestamp"), 5)
    p = sim.pod("on-g")
    dt = [c for c in p["status"].get("conditions") or [] if c["type"] == "DisruptionTarget"]
    check("node-delete: its pod Failed with DisruptionTarget (DeletionByPodGC), deleted",
          gc and p["status"]["phase"] == "Failed" and dt and
          dt[0]["reason"] == "DeletionByPodGC" and
          p["metadata"]["deletionGracePeriodSeconds"] == 0, p)
    sim.must("PATCH", path + "on-g", {"metadata": {"finalizers": None}},
             "application/merge-patch+json")
    check("node-delete: gone once its finalizer is", wait_for(lambda: sim.pod("on-g") is None,
                                                              5))
    code, obj = sim.fault("node-cordon", name="no-such-node")
    check("node faults: an unknown node is a 404", code == 404, obj)


def main():
    have_groved = os.access(GROVED, os.X_OK)
    tmp = tempfile.mkdtemp(prefix="test-kubelet-")
    sim = Sim(tmp)
    skipped = []
    try:
        sim.must("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                "metadata": {"name": NS}})
        sim.make_node("node-a")
        sim.make_node("node-b")
        tests = [t_lifecycle, t_initc_set_token, t_initc_own_token, t_graceful_deletion,
                 t_pod_faults, t_node_faults]
        for t in tests:
            if ONLY and t.__name__ not in ONLY:
                continue
            if t.__name__.startswith("t_initc") and not have_groved:
                skipped.append(t.__name__)
                print("skip - %s: no groved binary at %s" % (t.__name__, GROVED))
                continue
            try:
                t(sim, tmp)
            except Exception as e:  # a test that throws fails, the others run
                import traceback
                check("%s did not throw" % t.__name__, False,
                      "%r\n%s" % (e, traceback.format_exc()))
    finally:
        sim.stop()
    print("%d passed, %d failed" % (passed, failed))
    if failed:
        print("kube-sim's log: %s" % os.path.join(tmp, "kube-sim.log"))
        return 1
    import shutil
    shutil.rmtree(tmp, ignore_errors=True)
    return 77 if skipped else 0


if __name__ == "__main__":
    sys.exit(main())
