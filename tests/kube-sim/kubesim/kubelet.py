# SPDX-License-Identifier: Apache-2.0
"""The kubelet: runs the pods bound to nodes (spec.nodeName) as a kubelet
reports them, with the parts of kube-controller-manager that act on pods
and nodes (the node lifecycle controller marking pods not Ready, the pod
garbage collector of a deleted node's pods), graceful pod deletion (the
API server's half is graceful_delete(), called by Store.delete), and the
pod and node faults of /__sim/ (faults.py).

One Kubelet serves every node of its store.  It is an in-process
controller (kubesim/__init__.py): it subscribes to pods and nodes and
writes pod status through the store's status path, from one thread.
A pod on a node that exists and is Ready goes: Pending, its init
containers in order, then its containers Running (started), then Ready
after --ready-after seconds.  An init container of groved's image runs
the real `groved initc` (procs.py) with the credentials a real kubelet
would mount; any other init container completes at once.  README.md,
"The kubelet", is the manual.
"""

import base64
import copy
import datetime
import hashlib
import heapq
import os
import queue
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
import uuid

from .errors import ApiError
from .procs import Procs
from .store import now_rfc3339


SA_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
SA_TOKEN_TYPE = "kubernetes.io/service-account-token"
SA_NAME_ANNOTATION = "kubernetes.io/service-account.name"
READY_AFTER_ANNOTATION = "sim.grove.io/ready-after"
NEVER_READY_ANNOTATION = "sim.grove.io/never-ready"
BACKOFF_INITIAL, BACKOFF_MAX = 10.0, 300.0   # the kubelet's crash-loop back-off
DEFAULT_GRACE = 30                           # spec.terminationGracePeriodSeconds
RETRY = 0.5            # a missing Secret volume, or too many processes: try again
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
NODE_TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable",
               "node.kubernetes.io/unschedulable")


def default_images(repo=REPO):
    """groved's images: the install's Deployment (deploy/), and the pod
    webhook's default grove-initc image (POL_DEFAULT_INITC_IMAGE), which
    `groved serve --initc-image` may change (pass that one with
    --groved-image)."""
    out = []
    try:
        import yaml
        with open(os.path.join(repo, "deploy", "base", "deployment.yaml")) as f:
            for doc in yaml.safe_load_all(f):
                if isinstance(doc, dict) and doc.get("kind") == "Deployment":
                    for c in doc["spec"]["template"]["spec"].get("containers") or []:
                        if c.get("image") and c["image"] not in out:
                            out.append(c["image"])
    except (OSError, KeyError, TypeError, ValueError):
        pass
    try:
        with open(os.path.join(repo, "include", "groved", "policy.h")) as f:
            m = re.search(r'#define POL_DEFAULT_INITC_IMAGE "([^"]+)"', f.read())
            if m and m.group(1) not in out:
                out.append(m.group(1))
    except OSError:
        pass
    return out


def default_binary(repo=REPO):
    return shutil.which("groved") or os.path.join(repo, "build", "release", "groved")


def _rfc3339(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def _parse_rfc3339(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def _cond(obj, ctype):
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def node_ready(node):
    """The node's Ready status: "True", "False", "Unknown" or None (no
    condition yet)."""
    c = _cond(node, "Ready")
    return c.get("status") if c else None


# -- graceful deletion (the API server's half; Store.delete calls it)

def graceful_delete(store, rt, key, old, opts):
    """What kube-apiserver does on DELETE of a pod (the pod strategy's
    CheckGracefulDelete and rest.BeforeDelete): a pod bound to a node, not
    terminal, gets deletionTimestamp = now + grace and
    deletionGracePeriodSeconds = grace (DeleteOptions.gracePeriodSeconds,
    else spec.terminationGracePeriodSeconds, else 30), and stays until its
    kubelet deletes it with grace 0; a later DELETE may only shorten the
    grace.  Returns the stored object, or None for the store's own
    (immediate) deletion: unbound or terminal pods, grace 0, and pods whose
    graceful deletion already reached 0 (finalizers are respected there).
    Called under the store's lock."""
    if (rt.group, rt.plural) != ("", "pods"):
        return None
    meta, spec = old["metadata"], old.get("spec") or {}
    want = opts.get("gracePeriodSeconds")
    if meta.get("deletionTimestamp"):
        cur = meta.get("deletionGracePeriodSeconds") or 0
        if cur == 0:
            return None
        if want is None or int(want) >= cur:
            return copy.deepcopy(old)              # graceful deletion pending
        period = max(int(want), 0)
        ts = _parse_rfc3339(meta["deletionTimestamp"]) - cur + period
    else:
        period = int(want) if want is not None else spec.get("terminationGracePeriodSeconds")
        if period is None:
            period = DEFAULT_GRACE
        if not spec.get("nodeName") or (old.get("status") or {}).get("phase") in (
                "Failed", "Succeeded"):
            period = 0
        if period < 0:
            period = 1
        if period == 0:
            return None
        ts = time.time() + period
    obj = copy.deepcopy(old)
    obj["metadata"]["deletionTimestamp"] = _rfc3339(ts)
    obj["metadata"]["deletionGracePeriodSeconds"] = period
    obj["metadata"]["resourceVersion"] = store._next_rv()
    if period == 0 and not obj["metadata"].get("finalizers"):
        store._remove(rt, key, obj)
        return copy.deepcopy(obj)
    store.objs[(rt.group, rt.plural)][key] = obj
    store._emit("MODIFIED", (rt.group, rt.plural), key[0], obj, old)
    return copy.deepcopy(obj)


# -- node faults (plain writes of the Node; the kubelet reacts to them)

def _node_write(store, name, fn_spec=None, fn_status=None):
    nodes = store.types[("", "nodes")]
    for _ in range(5):
        node = store.get(nodes, None, name)
        try:
            if fn_spec is not None:
                new = copy.deepcopy(node)
                fn_spec(new)
                node = store.update(nodes, None, name, new)
            if fn_status is not None:
                new = copy.deepcopy(node)
                new.setdefault("status", {})
                fn_status(new["status"])
                node = store.update(nodes, None, name, new, sub="status")
            return node
        except ApiError as e:
            if e.code != 409:
                raise
    raise ApiError(409, "Conflict", 'nodes "%s": too many conflicting writes' % name)


def _set_conditions(status, ready, reason, message, others=None):
    now = now_rfc3339()
    conds = [c for c in status.get("conditions") or [] if c.get("type")]
    want = {"Ready": (ready, reason, message)}
    for t, r, m in (("MemoryPressure", "KubeletHasSufficientMemory",
                     "kubelet has sufficient memory available"),
                    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    ("PIDPressure", "KubeletHasSufficientPID",
                     "kubelet has sufficient PID available")):
        if others == "healthy":
            want[t] = ("False", r, m)
        elif others is not None:
            want[t] = others
    for t, (st, r, m) in want.items():
        c = next((c for c in conds if c["type"] == t), None)
        if c is None:
            c = {"type": t}
            conds.append(c)
        if c.get("status") != st:
            c["lastTransitionTime"] = now
        c.update(status=st, reason=r, message=m, lastHeartbeatTime=now)
    status["conditions"] = conds


def _taints(spec, add=(), remove=()):
    now = now_rfc3339()
    taints = [t for t in spec.get("taints") or []
              if t.get("key") not in remove and (t.get("key"), t.get("effect")) not in
              [(k, e) for k, e in add]]
    for k, e in add:
        t = {"key": k, "effect": e}
        if e == "NoExecute":
            t["timeAdded"] = now
        taints.append(t)
    if taints:
        spec["taints"] = taints
    else:
        spec.pop("taints", None)


def node_not_ready(store, name):
    """The node's kubelet reports NotReady: Ready=False (KubeletNotReady)
    and the node lifecycle controller's not-ready taints; the kubelet
    marks its pods not Ready and starts no new ones."""
    key = "node.kubernetes.io/not-ready"
    return _node_write(
        store, name,
        lambda n: _taints(n.setdefault("spec", {}), [(key, "NoSchedule"), (key, "NoExecute")],
                          [k for k in NODE_TAINTS if k != "node.kubernetes.io/unschedulable"]),
        lambda s: _set_conditions(s, "False", "KubeletNotReady",
                                  "container runtime is down (injected by kube-sim)"))


def node_unreachable(store, name):
    """The node stops talking: the node lifecycle controller sets its
    conditions Unknown (NodeStatusUnknown) and the unreachable taints;
    its pods are marked not Ready, and nothing of theirs is reported any
    more: a deleted pod stays Terminating until the Node is deleted."""
    key = "node.kubernetes.io/unreachable"
    msg = "Kubelet stopped posting node status."
    return _node_write(
        store, name,
        lambda n: _taints(n.setdefault("spec", {}), [(key, "NoSchedule"), (key, "NoExecute")],
                          [k for k in NODE_TAINTS if k != "node.kubernetes.io/unschedulable"]),
        lambda s: _set_conditions(s, "Unknown", "NodeStatusUnknown", msg,
                                  ("Unknown", "NodeStatusUnknown", msg)))


def node_cordon(store, name):
    """kubectl cordon: spec.unschedulable and the unschedulable taint."""
    def spec(n):
        n.setdefault("spec", {})["unschedulable"] = True
        _taints(n["spec"], [("node.kubernetes.io/unschedulable", "NoSchedule")])
    return _node_write(store, name, spec)


def node_restore(store, name):
    """Back to a Ready, schedulable node: Ready=True, the taints above and
    spec.unschedulable gone."""
    def spec(n):
        n.setdefault("spec", {}).pop("unschedulable", None)
        _taints(n["spec"], remove=NODE_TAINTS)
    return _node_write(store, name, spec,
                       lambda s: _set_conditions(s, "True", "KubeletReady",
                                                 "kubelet is posting ready status",
                                                 "healthy"))


def node_register(store, name):
    """What a node's kubelet posts when it registers: Ready=True and no
    pressure (a Node created through the API without conditions)."""
    return _node_write(store, name, None,
                       lambda s: _set_conditions(s, "True", "KubeletReady",
                                                 "kubelet is posting ready status",
                                                 "healthy"))


def node_delete(store, name):
    """Delete the Node object: the pod garbage collector fails its pods
    and deletes them (the kubelet does it when it sees the Node go)."""
    return store.delete(store.types[("", "nodes")], None, name, {})


# -- container and pod records

def _image_id(image):
    repo = image.split("@")[0]
    if ":" in repo.rsplit("/", 1)[-1]:
        repo = repo.rsplit(":", 1)[0]
    return "%s@sha256:%s" % (repo, hashlib.sha256(image.encode()).hexdigest())


class Container:
    def __init__(self, spec, waiting):
        self.name, self.image = spec.get("name", ""), spec.get("image", "")
        self.spec = spec
        self.restart_count = 0
        self.state = {"waiting": {"reason": waiting}}
        self.last_state = {}
        self.ready = False
        self.cid = None
        self.backoff = None        # the crash-loop back-off, None before a failure
        self.backoff_until = 0.0

    def start(self):
        self.cid = "containerd://" + uuid.uuid4().hex + uuid.uuid4().hex
        self.state = {"running": {"startedAt": now_rfc3339()}}

    def running(self):
        return "running" in self.state

    def terminate(self, code, reason, message=None):
        t = {"exitCode": code, "reason": reason,
             "startedAt": (self.state.get("running") or {}).get("startedAt", now_rfc3339()),
             "finishedAt": now_rfc3339()}
        if message:
            t["message"] = message
        if self.cid:
            t["containerID"] = self.cid
        self.state = {"terminated": t}
        self.ready = False

    def status(self, init):
        s = {"name": self.name, "image": self.image,
             "imageID": _image_id(self.image) if self.cid else "",
             "ready": self.ready, "restartCount": self.restart_count,
             "started": self.running(), "state": copy.deepcopy(self.state),
             "lastState": copy.deepcopy(self.last_state)}
        if self.cid:
            s["containerID"] = self.cid
        return s


class Run:
    """What the kubelet knows of one pod it runs."""

    def __init__(self, pod, ip, host_ip):
        spec = pod["spec"]
        self.uid = pod["metadata"]["uid"]
        self.start_time = now_rfc3339()
        self.ip, self.host_ip = ip, host_ip
        self.inits = [Container(c, "PodInitializing") for c in spec.get("initContainers") or []]
        self.mains = [Container(c, "PodInitializing" if self.inits else "ContainerCreating")
                      for c in spec.get("containers") or []]
        self.init_idx = 0           # the init container being run (len: all done)
        self.phase = "Pending"
        self.reason = self.message = None
        self.ready_at = None        # monotonic time the containers turn Ready
        self.proc = None            # key of the running init process
        self.deleting_at = None     # monotonic time the kubelet deletes it
        self.deleted = False        # grace 0 sent


def qos_class(spec):
    """Guaranteed, Burstable or BestEffort, as the API server computes it."""
    cs = (spec.get("containers") or []) + (spec.get("initContainers") or [])
    any_set, guaranteed = False, True
    for c in cs:
        res = c.get("resources") or {}
        req, lim = dict(res.get("requests") or {}), res.get("limits") or {}
        for k, v in lim.items():
            req.setdefault(k, v)
        if req or lim:
            any_set = True
        for r in ("cpu", "memory"):
            if r not in lim or str(req.get(r)) != str(lim[r]):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


_VAR = re.compile(r"\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)")


def expand(s, env):
    """The kubelet's $(VAR) expansion ($$ is a literal $)."""
    return _VAR.sub(lambda m: "$" if m.group(0) == "$$" else
                    env.get(m.group(1), m.group(0)), s)


class Kubelet:
    """Every node's kubelet (and the pod-related controllers) for a store.
    api: "HOST:PORT" of the API server the processes reach (HTTPS),
    ca_file: its CA certificate."""

    def __init__(self, store, api="", ca_file=None, images=None, binary=None,
                 ready_after=1.0, time_scale=1.0, max_procs=64, proc_timeout=300.0,
                 workdir=None):
        self.store = store
        self.api, self.ca_file = api, ca_file
        self.images = set(images if images is not None else default_images())
        self.binary = binary or default_binary()
        self.ready_after, self.time_scale = float(ready_after), float(time_scale)
        self.procs = Procs(max_procs, proc_timeout)
        self.workdir = workdir or tempfile.mkdtemp(prefix="kube-sim-kubelet-")
        self.q = queue.Queue()
        self.timers = []            # heap of (monotonic, seq, key)
        self.seq = 0
        self.pods = {}              # (ns, name) -> latest bound pod seen
        self.runs = {}              # (ns, name) -> Run
        self.nodes = {}             # name -> Node
        self.by_node = {}           # node -> {(ns, name)}
        self.node_index = {}        # node -> n (its pod CIDR 10.244.n.0/24)
        self.ips = {}               # node -> {host part in use}
        self.stopped = False
        self.thread = None
        self.rt_pods = store.types[("", "pods")]
        self.rt_nodes = store.types[("", "nodes")]
        self.rt_secrets = store.types[("", "secrets")]

    # -- life

    def start(self):
        self.store.kubelet = self
        self.store.pod_deletion = graceful_delete
        self.store.subscribe("", "nodes", self.q, replay=True)
        self.store.subscribe("", "pods", self.q, replay=True)
        self.thread = threading.Thread(target=self._loop, name="kubelet", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.stopped = True
        self.store.unsubscribe(self.q)
        if getattr(self.store, "kubelet", None) is self:
            self.store.kubelet = None
            self.store.pod_deletion = None
        self.q.put(None)
        if self.thread is not None:
            self.thread.join(timeout=5)
        self.procs.kill_all()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def call(self, fn, *args, timeout=10.0):
        """Run fn(*args) in the kubelet's thread and return its result (or
        raise its ApiError)."""
        reply = queue.Queue()
        self.q.put(("call", fn, args, reply))
        try:
            ok, v = reply.get(timeout=timeout)
        except queue.Empty:
            raise ApiError(500, "InternalError", "the kubelet did not answer in %gs" % timeout)
        if not ok:
            raise v
        return v

    def _after(self, delay, key):
        self.seq += 1
        heapq.heappush(self.timers, (time.monotonic() + delay, self.seq, key))

    def _loop(self):
        while not self.stopped:
            now = time.monotonic()
            due = set()
            while self.timers and self.timers[0][0] <= now:
                due.add(heapq.heappop(self.timers)[2])
            for key in due:
                self._guard(self.sync, key)
            wait = min(1.0, self.timers[0][0] - now) if self.timers else 1.0
            try:
                item = self.q.get(timeout=max(0.0, wait))
            except queue.Empty:
                continue
            if item is None:
                continue
            self._guard(self._handle, item)

    @staticmethod
    def _guard(fn, *args):
        try:
            fn(*args)
        except Exception:  # keep the kubelet alive
            print("kube-sim: kubelet error:\n" + traceback.format_exc(), file=sys.stderr)

    def _handle(self, item):
        if isinstance(item, tuple) and item[0] == "call":
            _, fn, args, reply = item
            try:
                reply.put((True, fn(*args)))
            except ApiError as e:
                reply.put((False, e))
            except Exception as e:
                traceback.print_exc()
                reply.put((False, ApiError(500, "InternalError", "kubelet: %r" % e)))
            return
        if isinstance(item, tuple) and item[0] == "exit":
            return self._exited(*item[1:])
        if item.resource == ("", "nodes"):
            return self._node_event(item)
        return self._pod_event(item)

    # -- events

    def _node_event(self, ev):
        name = ev.obj["metadata"]["name"]
        if ev.type == "DELETED":
            self.nodes.pop(name, None)
            return self._node_gone(name)
        old = self.nodes.get(name)
        self.nodes[name] = ev.obj
        if name not in self.node_index:
            self.node_index[name] = len(self.node_index)
        if node_ready(ev.obj) is None:
            # the node's own kubelet registers it Ready
            self._guard(node_register, self.store, name)
            return
        if old is None or node_ready(old) != node_ready(ev.obj):
            for key in sorted(self.by_node.get(name, ())):
                self.sync(key)

    def _pod_event(self, ev):
        meta = ev.obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        if ev.type == "DELETED":
            cur = self.pods.get(key)
            if cur is not None and cur["metadata"]["uid"] == meta["uid"]:
                self._forget(key)
            return
        node = (ev.obj.get("spec") or {}).get("nodeName")
        if not node:
            return
        cur = self.pods.get(key)
        if cur is not None and cur["metadata"]["uid"] == meta["uid"] and \
                int(cur["metadata"]["resourceVersion"]) > int(meta["resourceVersion"]):
            return                  # older than what the kubelet wrote
        if cur is not None and cur["metadata"]["uid"] != meta["uid"]:
            self._forget(key)
        self.pods[key] = ev.obj
        self.by_node.setdefault(node, set()).add(key)
        self.sync(key)

    def _forget(self, key):
        pod = self.pods.pop(key, None)
        run = self.runs.pop(key, None)
        if pod is not None:
            node = pod["spec"].get("nodeName")
            self.by_node.get(node, set()).discard(key)
        if run is not None:
            if run.proc is not None:
                self.procs.kill(run.proc)
            if run.ip:
                host = int(run.ip.rsplit(".", 1)[1])
                self.ips.get(pod["spec"].get("nodeName") if pod else None, set()).discard(host)
            shutil.rmtree(os.path.join(self.workdir, "pods", run.uid), ignore_errors=True)

    def _node_gone(self, name):
        """The pod garbage collector: pods of a node that no longer exists
        fail (DisruptionTarget, DeletionByPodGC) and are deleted at once."""
        for key in sorted(self.by_node.pop(name, set())):
            pod = self.pods.get(key)
            run = self.runs.get(key)
            if run is not None and run.proc is not None:
                self.procs.kill(run.proc)
                run.proc = None
            if pod is None:
                continue
            try:
                cur = self.store.get(self.rt_pods, key[0], key[1])
                if cur["metadata"]["uid"] != pod["metadata"]["uid"]:
                    continue
                st = copy.deepcopy(cur.get("status") or {})
                if st.get("phase") not in ("Failed", "Succeeded"):
                    st["phase"] = "Failed"
                    conds = [c for c in st.get("conditions") or []
                             if c.get("type") != "DisruptionTarget"]
                    conds.append({"type": "DisruptionTarget", "status": "True",
                                  "reason": "DeletionByPodGC",
                                  "message": "PodGC: node no longer exists",
                                  "lastProbeTime": None, "lastTransitionTime": now_rfc3339()})
                    st["conditions"] = conds
                    self.store.update(self.rt_pods, key[0], key[1],
                                      {"metadata": {}, "status": st}, sub="status")
                self.store.delete(self.rt_pods, key[0], key[1], {
                    "gracePeriodSeconds": 0,
                    "preconditions": {"uid": cur["metadata"]["uid"]}})
            except ApiError:
                pass
            self._forget(key)
        self.ips.pop(name, None)

    def _exited(self, pkey, code, timed_out):
        key, uid, cname, restarts = pkey[:2], pkey[2], pkey[3], pkey[4]
        run = self.runs.get(key)
        if run is None or run.uid != uid or run.proc != pkey:
            return
        run.proc = None
        c = next((c for c in run.inits if c.name == cname), None)
        if c is None or c.restart_count != restarts:
            return
        if code == 0:
            c.terminate(0, "Completed")
            c.ready = True
            run.init_idx += 1
        else:
            c.terminate(code, "Error", "killed after %gs (kube-sim's bound on an init "
                        "process)" % self.procs.timeout if timed_out else None)
            self._failed(run, c, key)
        self.sync(key)

    def _failed(self, run, c, key):
        """A container exited non-zero: restart it as a kubelet does (at
        once the first time, then after a back-off of 10 s doubling to
        5 min), or fail the pod when its restartPolicy says Never."""
        pod = self.pods[key]
        policy = pod["spec"].get("restartPolicy") or "Always"
        if policy == "Never":
            run.phase = "Failed"
            return
        c.last_state = c.state
        c.restart_count += 1
        now = time.monotonic()
        if c.backoff is None:
            c.backoff = BACKOFF_INITIAL
            c.backoff_until = now
            c.state = {"waiting": {"reason": "PodInitializing" if c in run.inits else
                                   "ContainerCreating"}}
        else:
            c.backoff_until = now + c.backoff * self.time_scale
            c.state = {"waiting": {
                "reason": "CrashLoopBackOff",
                "message": "back-off %s restarting failed container=%s pod=%s_%s(%s)" % (
                    _duration(c.backoff), c.name, key[1], key[0], run.uid)}}
            c.backoff = min(c.backoff * 2, BACKOFF_MAX)
            self._after(c.backoff_until - now, key)

    # -- the pod's life

    def sync(self, key):
        pod = self.pods.get(key)
        if pod is None:
            return
        node_name = pod["spec"]["nodeName"]
        node = self.nodes.get(node_name)
        if node is None:
            # a node never seen: the pod waits; deleted, it goes at once,
            # as the pod garbage collector deletes orphaned pods
            if pod["metadata"].get("deletionTimestamp") and \
                    pod["metadata"].get("deletionGracePeriodSeconds"):
                try:
                    self.store.delete(self.rt_pods, key[0], key[1], {
                        "gracePeriodSeconds": 0,
                        "preconditions": {"uid": pod["metadata"]["uid"]}})
                except ApiError:
                    pass
            return
        nready = node_ready(node)
        run = self.runs.get(key)
        if nready == "Unknown":
            # unreachable: the kubelet reports nothing (a deleted pod stays
            # Terminating); the node lifecycle controller marks it not Ready
            if run is not None and run.phase != "Unstarted":
                self._write(key, run, nready)
            return
        meta = pod["metadata"]
        if meta.get("deletionTimestamp"):
            return self._terminating(key, pod, run)
        if run is None:
            if nready != "True" or (pod.get("status") or {}).get("phase") in (
                    "Failed", "Succeeded"):
                return
            run = self.runs[key] = Run(pod, self._pod_ip(node_name, pod),
                                       self._host_ip(node_name))
        if run.phase in ("Failed", "Succeeded"):
            return self._write(key, run, nready)
        if nready == "True":
            self._advance(key, pod, run)
        self._write(key, run, nready)

    def _advance(self, key, pod, run):
        now = time.monotonic()
        while run.init_idx < len(run.inits):
            c = run.inits[run.init_idx]
            if c.running() or run.proc is not None:
                return
            if now < c.backoff_until:
                return              # a timer is set for its end
            argv = self._initc_argv(c.spec)
            if argv is None:
                c.start()
                c.terminate(0, "Completed")
                c.ready = True
                run.init_idx += 1
                continue
            if not self._start_initc(key, pod, run, c, argv):
                self._after(RETRY, key)
            return
        if run.phase == "Failed":
            return
        if run.phase == "Pending":
            for c in run.mains:
                c.start()
            run.phase = "Running"
            run.ready_at = self._ready_at(pod, now)
        if run.ready_at is not None:
            if now >= run.ready_at:
                for c in run.mains:
                    if c.running():
                        c.ready = True
            else:
                self._after(run.ready_at - now, key)

    def _ready_at(self, pod, now):
        ann = pod["metadata"].get("annotations") or {}
        if str(ann.get(NEVER_READY_ANNOTATION, "")).lower() == "true":
            return None
        after = self.ready_after
        try:
            if READY_AFTER_ANNOTATION in ann:
                after = float(ann[READY_AFTER_ANNOTATION])
        except (TypeError, ValueError):
            pass
        return now + max(after, 0.0) * self.time_scale

    def _terminating(self, key, pod, run):
        meta = pod["metadata"]
        grace = meta.get("deletionGracePeriodSeconds") or 0
        now = time.monotonic()
        if run is not None and run.proc is not None:
            self.procs.kill(run.proc)
            run.proc = None
        if run is None:
            run = self.runs[key] = Run(pod, None, None)
            run.phase = "Unstarted"
        at = now + grace * self.time_scale
        if run.deleting_at is None or at < run.deleting_at:
            run.deleting_at = at
        if now < run.deleting_at:
            return self._after(run.deleting_at - now, key)
        if run.deleted:
            return
        # the grace period is over: what is still running is killed
        # (SIGKILL, 137), the final status written, the pod deleted with 0
        if run.phase != "Unstarted":
            killed = False
            for c in run.inits + run.mains:
                if c.running():
                    c.terminate(137, "Error")
                    killed = True
            if run.phase not in ("Failed", "Succeeded"):
                run.phase = "Failed" if killed or run.init_idx < len(run.inits) else "Succeeded"
            self._write(key, run, "True")
        run.deleted = True
        if grace == 0:
            return                  # already at 0: waiting for its finalizers
        try:
            self.store.delete(self.rt_pods, key[0], key[1], {
                "gracePeriodSeconds": 0, "preconditions": {"uid": run.uid}})
        except ApiError:
            pass

    # -- addresses

    def _pod_ip(self, node_name, pod):
        if pod["spec"].get("hostNetwork"):
            return self._host_ip(node_name)
        node = self.nodes.get(node_name) or {}
        cidr = (node.get("spec") or {}).get("podCIDR") or ""
        m = re.match(r"^(\d+\.\d+\.\d+)\.\d+/\d+$", cidr)
        n = self.node_index.setdefault(node_name, len(self.node_index))
        prefix = m.group(1) if m else "10.%d.%d" % (244 + n // 256, n % 256)
        used = self.ips.setdefault(node_name, set())
        host = next((h for h in range(2, 255) if h not in used), 2)
        used.add(host)
        return "%s.%d" % (prefix, host)

    def _host_ip(self, node_name):
        node = self.nodes.get(node_name) or {}
        for a in (node.get("status") or {}).get("addresses") or []:
            if a.get("type") == "InternalIP" and a.get("address"):
                return a["address"]
        n = self.node_index.setdefault(node_name, len(self.node_index))
        return "172.18.%d.%d" % (n // 250, n % 250 + 2)

    # -- status

    def _status(self, pod, run, nready):
        old = pod.get("status") or {}
        st = {k: copy.deepcopy(v) for k, v in old.items()
              if k not in ("phase", "conditions", "initContainerStatuses",
                           "containerStatuses", "podIP", "podIPs", "hostIP", "hostIPs",
                           "startTime", "qosClass", "reason", "message")}
        phase = "Pending" if run.phase == "Unstarted" else run.phase
        st["phase"] = phase
        if run.reason:
            st["reason"] = run.reason
        if run.message:
            st["message"] = run.message
        started = run.phase != "Unstarted"
        incomplete = [c.name for c in run.inits[run.init_idx:]]
        unready = [c.name for c in run.mains if not c.ready]
        mine = []

        def cond(t, ok, reason=None, message=None):
            c = {"type": t, "status": "True" if ok else "False"}
            if not ok and reason:
                c.update(reason=reason, message=message)
            mine.append(c)

        cond("PodReadyToStartContainers", started and phase not in ("Failed", "Succeeded"))
        cond("Initialized", not incomplete, "ContainersNotInitialized",
             "containers with incomplete status: [%s]" % " ".join(incomplete))
        gates = [g.get("conditionType") for g in pod["spec"].get("readinessGates") or []]
        gates_ok = all((_cond(pod, g) or {}).get("status") == "True" for g in gates)
        if phase == "Succeeded":
            cond("Ready", False, "PodCompleted", "")
            cond("ContainersReady", False, "PodCompleted", "")
        else:
            msg = "containers with unready status: [%s]" % " ".join(unready)
            if unready:
                cond("Ready", False, "ContainersNotReady", msg)
            elif not gates_ok:
                cond("Ready", False, "ReadinessGatesNotReady",
                     "corresponding condition of pod readiness gate \"%s\" does not exist."
                     % next(g for g in gates if (_cond(pod, g) or {}).get("status") != "True"))
            else:
                cond("Ready", True)
            cond("ContainersReady", not unready, "ContainersNotReady", msg)
        if nready != "True":
            # the node lifecycle controller (MarkPodsNotReady): Ready=False
            for c in mine:
                if c["type"] == "Ready" and c["status"] == "True":
                    c["status"] = "False"
        now = now_rfc3339()
        prev = {c.get("type"): c for c in old.get("conditions") or []}
        for c in mine:
            p = prev.get(c["type"])
            c["lastProbeTime"] = None
            c["lastTransitionTime"] = p.get("lastTransitionTime", now) if (
                p and p.get("status") == c["status"]) else now
        ours = {c["type"] for c in mine}
        others = [copy.deepcopy(c) for c in old.get("conditions") or []
                  if c.get("type") not in ours]
        if "PodScheduled" not in prev:
            others.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                           "lastTransitionTime": run.start_time})
        st["conditions"] = mine + others
        if run.inits:
            st["initContainerStatuses"] = [c.status(True) for c in run.inits]
        st["containerStatuses"] = [c.status(False) for c in run.mains]
        if run.host_ip:
            st["hostIP"], st["hostIPs"] = run.host_ip, [{"ip": run.host_ip}]
        if run.ip:
            st["podIP"], st["podIPs"] = run.ip, [{"ip": run.ip}]
        if started:
            st["startTime"] = run.start_time
        st["qosClass"] = qos_class(pod["spec"])
        return st

    def _write(self, key, run, nready):
        for _ in range(5):
            pod = self.pods.get(key)
            if pod is None:
                return
            st = self._status(pod, run, nready)
            if st == pod.get("status"):
                return
            try:
                new = self.store.update(self.rt_pods, key[0], key[1], {
                    "metadata": {"resourceVersion": pod["metadata"]["resourceVersion"]},
                    "status": st}, sub="status")
            except ApiError as e:
                if e.code == 404:
                    return
                if e.code != 409:
                    raise
                try:
                    cur = self.store.get(self.rt_pods, key[0], key[1])
                except ApiError:
                    return
                if cur["metadata"]["uid"] != run.uid:
                    return
                self.pods[key] = cur
                continue
            if new["metadata"]["uid"] == run.uid:
                self.pods[key] = new
            return

    # -- init containers that run groved initc

    def _initc_argv(self, c):
        """groved's argv (without the program) if c runs `groved initc`,
        else None: an image of groved's whose command and args, less a
        leading `groved` entrypoint, start with initc."""
        if c.get("image") not in self.images:
            return None
        argv = [str(a) for a in (c.get("command") or []) + (c.get("args") or [])]
        if argv and os.path.basename(argv[0]) == "groved":
            argv = argv[1:]
        if not argv or argv[0] != "initc":
            return None
        return argv

    def _start_initc(self, key, pod, run, c, argv):
        """Start `groved initc` for init container c; False to try again
        later (a Secret volume not there yet, or too many processes)."""
        if self.procs.busy():
            return False
        files = self._credentials(pod, c.spec)
        if files is None:
            return False
        root = os.path.join(self.workdir, "pods", run.uid, c.name)
        sa_dir = os.path.join(root, SA_PATH.lstrip("/"))
        shutil.rmtree(sa_dir, ignore_errors=True)
        os.makedirs(sa_dir)
        for name, data in files.items():
            path = os.path.join(sa_dir, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        env = self._env(pod, c.spec, run)
        host, _, port = self.api.rpartition(":")
        env.update({"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": root,
                    "HOSTNAME": pod["spec"].get("hostname") or pod["metadata"]["name"],
                    "KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": port,
                    "KUBERNETES_SERVICE_PORT_HTTPS": port,
                    "GROVED_SERVICEACCOUNT_ROOT": root})
        argv = [expand(a, env) for a in argv]
        c.start()
        pkey = (key[0], key[1], run.uid, c.name, c.restart_count)
        run.proc = pkey
        log = self.log_path(key[0], key[1], run.uid, c.name, c.restart_count)
        self.procs.start(pkey, [self.binary] + argv, env, log,
                         lambda k, code, to: self.q.put(("exit", k, code, to)))
        return True

    def _env(self, pod, c, run):
        env = {}
        meta = pod["metadata"]
        for e in c.get("env") or []:
            name = e.get("name")
            if not name:
                continue
            if "value" in e:
                env[name] = expand(str(e["value"]), env)
                continue
            vf = e.get("valueFrom") or {}
            v = None
            if "fieldRef" in vf:
                path = vf["fieldRef"].get("fieldPath", "")
                m = re.match(r"^metadata\.(labels|annotations)\['(.*)'\]$", path)
                if m:
                    v = (meta.get(m.group(1)) or {}).get(m.group(2))
                else:
                    v = {"metadata.name": meta.get("name"),
                         "metadata.namespace": meta.get("namespace"),
                         "metadata.uid": meta.get("uid"),
                         "spec.nodeName": pod["spec"].get("nodeName"),
                         "spec.serviceAccountName": pod["spec"].get("serviceAccountName"),
                         "status.podIP": run.ip, "status.hostIP": run.host_ip}.get(path)
            elif "secretKeyRef" in vf or "configMapKeyRef" in vf:
                ref = vf.get("secretKeyRef") or vf.get("configMapKeyRef")
                plural = "secrets" if "secretKeyRef" in vf else "configmaps"
                try:
                    obj = self.store.get(self.store.types[("", plural)],
                                         meta.get("namespace"), ref.get("name"))
                    data = obj.get("data") or {}
                    v = data.get(ref.get("key"))
                    if v is not None and plural == "secrets":
                        v = base64.b64decode(v).decode("utf-8", "replace")
                except ApiError:
                    v = None
            if v is not None:
                env[name] = str(v)
        return env

    def _credentials(self, pod, c):
        """The files a real kubelet mounts at SA_PATH in container c: a
        volume mounted there (a Secret's keys; a projected volume is the
        pod's own token), else the pod's own ServiceAccount token unless
        automountServiceAccountToken is false.  None: not mountable yet."""
        ns = pod["metadata"].get("namespace", "")
        mount = next((m for m in c.get("volumeMounts") or []
                      if (m.get("mountPath") or "").rstrip("/") == SA_PATH), None)
        if mount is not None:
            vol = next((v for v in pod["spec"].get("volumes") or []
                        if v.get("name") == mount.get("name")), None)
            if vol is None:
                return None
            if "secret" in vol:
                return self._secret_files(ns, vol["secret"])
            if "projected" not in vol:
                return {}
        elif pod["spec"].get("automountServiceAccountToken") is False:
            return {}
        sa = pod["spec"].get("serviceAccountName") or pod["spec"].get(
            "serviceAccount") or "default"
        files = {"namespace": ns.encode()}
        if self.ca_file:
            with open(self.ca_file, "rb") as f:
                files["ca.crt"] = f.read()
        token = self._own_token(ns, sa)
        if token is None:
            return None             # no token to mount yet: the pod waits
        files["token"] = token.encode()
        return files

    def _secret_files(self, ns, src):
        try:
            s = self.store.get(self.rt_secrets, ns, src.get("secretName"))
        except ApiError:
            return {} if src.get("optional") else None
        data = {k: base64.b64decode(v) for k, v in (s.get("data") or {}).items()}
        for k, v in (s.get("stringData") or {}).items():
            data[k] = str(v).encode()
        items = src.get("items")
        if items:
            return {i["path"]: data[i["key"]] for i in items if i.get("key") in data}
        return data

    def _own_token(self, ns, sa):
        """The pod's own token (the projected service-account token a real
        kubelet requests), or None while there is none."""
        try:
            from . import tokens
        except ImportError:
            tokens = None
        if tokens is not None:
            try:
                return tokens.token_for(self.store, ns, sa)
            except tokens.TokenError:
                return None         # its ServiceAccount does not exist (yet)
        # without the token controller: a token Secret of the account
        items, _ = self.store.list(self.rt_secrets, ns, [], [])
        for s in items:
            if s.get("type") == SA_TOKEN_TYPE and (s["metadata"].get("annotations") or {}).get(
                    SA_NAME_ANNOTATION) == sa and (s.get("data") or {}).get("token"):
                return base64.b64decode(s["data"]["token"]).decode()
        return None

    # -- logs

    def log_path(self, ns, name, uid, container, restarts):
        return os.path.join(self.workdir, "logs", "%s_%s_%s" % (ns, name, uid), container,
                            "%d.log" % restarts)

    def log(self, ns, name, container=None, previous=False):
        """The text `kubectl logs` shows: the init process's output (other
        containers print nothing)."""
        pod = self.store.get(self.rt_pods, ns, name)
        spec = pod["spec"]
        names = [c.get("name") for c in (spec.get("initContainers") or []) +
                 (spec.get("containers") or [])]
        if container is None:
            if len(spec.get("containers") or []) != 1:
                raise ApiError(400, "BadRequest", "a container name must be specified for "
                               "pod %s, choose one of: [%s]" % (
                                   name, " ".join(c.get("name") for c in
                                                  spec.get("containers") or [])))
            container = spec["containers"][0].get("name")
        if container not in names:
            raise ApiError(400, "BadRequest", "container %s is not valid for pod %s"
                           % (container, name))
        d = os.path.dirname(self.log_path(ns, name, pod["metadata"]["uid"], container, 0))
        try:
            runs = sorted(int(f[:-4]) for f in os.listdir(d) if f.endswith(".log"))
        except OSError:
            runs = []
        if previous:
            runs = runs[:-1]
            if not runs:
                raise ApiError(400, "BadRequest", 'previous terminated container "%s" in pod '
                               '"%s" not found' % (container, name))
        if not runs:
            return ""
        with open(os.path.join(d, "%d.log" % runs[-1]), errors="replace") as f:
            return f.read()

    # -- pod faults

    def fail_pod(self, ns, name, reason=None, message=None, code=1):
        """The pod fails (phase Failed, as on an eviction or a fatal
        error): running containers terminated (reason Error), not Ready."""
        return self.call(self._fail_pod, ns, name, reason, message, code)

    def _fail_pod(self, ns, name, reason, message, code):
        key = (ns, name)
        pod = self._bound(key)
        run = self.runs.get(key)
        if run is None:
            run = self.runs[key] = Run(pod, self._pod_ip(pod["spec"]["nodeName"], pod),
                                       self._host_ip(pod["spec"]["nodeName"]))
        if run.proc is not None:
            self.procs.kill(run.proc)
            run.proc = None
        for c in run.inits + run.mains:
            if c.running():
                c.terminate(code, "Error")
        run.phase, run.reason, run.message = "Failed", reason, message
        self._write(key, run, node_ready(self.nodes.get(pod["spec"]["nodeName"], {})))
        return self.pods.get(key)

    def crash_container(self, ns, name, container=None, code=1):
        """A running container exits with code: lastState terminated
        (Error), restartCount + 1, Running again (not Ready until
        --ready-after has passed again)."""
        return self.call(self._crash, ns, name, container, code)

    def _crash(self, ns, name, container, code):
        key = (ns, name)
        self._bound(key)
        run = self.runs.get(key)
        cs = [c for c in (run.mains + run.inits if run else []) if c.running() and
              (container is None or c.name == container)]
        if not cs:
            raise ApiError(409, "Conflict", "pod \"%s\" has no running container%s" % (
                name, " \"%s\"" % container if container else ""))
        c = cs[0]
        if c in run.inits and run.proc is not None:
            self.procs.kill(run.proc)
            run.proc = None
        c.terminate(code, "Error")
        c.last_state = c.state
        c.restart_count += 1
        if c in run.mains:
            c.start()
            run.ready_at = self._ready_at(self.pods[key], time.monotonic())
        else:
            c.state = {"waiting": {"reason": "PodInitializing"}}
        self.sync(key)
        return self.pods.get(key)

    def _bound(self, key):
        pod = self.pods.get(key)
        if pod is None:
            try:
                pod = self.store.get(self.rt_pods, key[0], key[1])
            except ApiError:
                raise
            raise ApiError(409, "Conflict", "pod \"%s\" is not bound to a node the kubelet "
                           "knows" % key[1])
        return pod


def _duration(s):
    """Go's time.Duration formatting for whole seconds (10s, 1m20s, 5m0s)."""
    s = int(s)
    return "%dm%ds" % (s // 60, s % 60) if s >= 60 else "%ds" % s
