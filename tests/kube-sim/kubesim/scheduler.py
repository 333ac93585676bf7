# SPDX-License-Identifier: Apache-2.0
"""The scheduler: a stand-in for KAI Scheduler, as an in-process controller
(README.md, "Scheduling").

It serves pods whose spec.schedulerName is one of its names (default
kai-scheduler) and never touches a pod that has a scheduling gate.
Filters, as kube-scheduler's plugins say it: NodeUnschedulable (a
cordoned node, unless tolerated), TaintToleration (NoSchedule and
NoExecute; a node whose Ready condition is False or Unknown counts as
tainted not-ready / unreachable, as the node lifecycle controller taints
it), NodeAffinity (nodeSelector, required node affinity), NodeResourcesFit
(cpu, memory, pods against status.allocatable minus the pods bound
there), DynamicResources (the pod's ResourceClaims, through dra.py).

Gangs: a pod referenced by a PodGang (scheduler.grove.io) is bound only
when every podgroup of the gang has at least minReplicas pods placed at
once (a placement for the whole gang first, then the writes); a scaled
gang (its pods carry grove.io/base-podgang) waits for its base gang to be
scheduled (every podgroup with minReplicas pods bound); pack.required
keeps the gang, a topologyConstraintGroupConfigs entry or a podgroup
within one value of the node label key (preferred: tried first, then
anywhere).  A gang with a bound pod is running: its new pods (a
replacement) are placed alone, in the domains of its bound pods.  Pods in
no PodGang are placed one at a time.  Nodes are tried in name order
(first fit, which packs); domains in label value order, greedily (no
search across podgroups beyond first fit).

Binding goes through binding.bind(), the pods/binding path; DRA claims
are allocated (dra.commit) right before.  A pod that cannot be placed
gets PodScheduled=False reason Unschedulable and a FailedScheduling
Event, written only when the message changes.

Re-evaluation is event-driven (pods, PodGangs, nodes, ResourceSlices,
ResourceClaims) plus a retry every RETRY seconds while pods are pending.
hold(True) (/__sim/scheduler/hold) stops all scheduling until
hold(False).
"""

import collections
import itertools
import queue
import sys
import threading
import time
import weakref

from . import binding, gangs
from .errors import ApiError
from .store import now_rfc3339

try:
    from . import dra
except ImportError:           # dra.py not there: claims are unallocatable
    dra = None

RETRY = 0.5          # seconds between retries while something is pending
WAIT_REPORT = 1.0    # a gang still incomplete after this gets its reason written
PREFERRED_TRIES = 16  # domains tried for a preferred pack before anywhere
SLICE = 0.05         # seconds of jobs done under one hold of the store's lock

PODGANG_GROUPS = ("scheduler.grove.io",)

_HOLD = threading.Event()
_INSTANCES = weakref.WeakSet()


def hold(on):
    """Hold (True) or release (False) scheduling in every scheduler."""
    if on:
        _HOLD.set()
    else:
        _HOLD.clear()
    for s in list(_INSTANCES):
        s.wake()


def held():
    return _HOLD.is_set()


def info():
    """What /__sim/scheduler answers: held, and each scheduler's counters
    and what its waiting gangs wait for."""
    return {"held": held(), "schedulers": [s.info() for s in list(_INSTANCES)]}


def _log(msg):
    sys.stderr.write("kube-sim scheduler: %s\n" % msg)


class _Node:
    __slots__ = ("name", "labels", "taints", "unschedulable", "cpu", "mem", "pods",
                 "ucpu", "umem", "upods", "key")

    def __init__(self, obj):
        meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, \
            obj.get("status") or {}
        self.name = meta.get("name")
        self.labels = dict(meta.get("labels") or {})
        taints = [t for t in spec.get("taints") or [] if isinstance(t, dict) and
                  t.get("effect") in ("NoSchedule", "NoExecute")]
        ready = None
        for c in status.get("conditions") or []:
            if c.get("type") == "Ready":
                ready = c.get("status")
        # what the node lifecycle controller would taint a node with
        if ready == "False":
            taints.append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})
        elif ready != "True":
            taints.append({"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"})
        self.taints = taints
        self.unschedulable = bool(spec.get("unschedulable"))
        alloc = status.get("allocatable") or {}
        self.cpu = gangs.milli(alloc.get("cpu", 0))
        self.mem = gangs.units(alloc.get("memory", 0))
        self.pods = gangs.units(alloc.get("pods", 0))
        self.ucpu = self.umem = self.upods = 0
        self.key = repr((sorted(self.labels.items()), gangs._canon(self.taints),
                         self.unschedulable, self.cpu, self.mem, self.pods))


class _Trial:
    """Placements not written yet: accounting applied, undone on failure."""

    def __init__(self, s):
        self.s, self.placed, self.domain = s, [], {}

    def mark(self):
        return len(self.placed)

    def add(self, pk, node, results):
        s = self.s
        pod = s.pods[pk]
        cpu, mem = s.requests(pk, pod)
        s.set_charge(pk, (node, cpu, mem))
        devs = _result_devices(results)
        for d in devs:
            s.take(d)
        self.placed.append((pk, node, results, devs))

    def undo(self, to=0):
        while len(self.placed) > to:
            pk, node, results, devs = self.placed.pop()
            self.s.set_charge(pk, None)
            for d in devs:
                self.s.untake(d)


def _result_devices(results):
    """Every (driver, pool, device) named in dra.allocate's results."""
    out, stack = [], [results]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            if all(isinstance(v.get(k), str) for k in ("driver", "pool", "device")):
                out.append((v["driver"], v["pool"], v["device"]))
            else:
                stack.extend(v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
    return out


def _claim_devices(claim):
    alloc = (claim.get("status") or {}).get("allocation") or {}
    return [(r.get("driver"), r.get("pool"), r.get("device"))
            for r in ((alloc.get("devices") or {}).get("results") or [])
            if isinstance(r, dict)]


def _terminal(pod):
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


class Scheduler:
    """Scheduler(store, names).start(); stop() ends its thread."""

    def __init__(self, store, names=("kai-scheduler",), retry=RETRY):
        self.store = store
        self.names = set(names)
        self.retry = retry
        self.q = queue.Queue()
        self.lock = threading.Lock()       # info() against the thread
        self.stopped = False
        self.thread = None
        self.pods = {}          # (ns, name) -> pod
        self.nodes = {}         # name -> _Node
        self.node_order = []    # node names, sorted
        self.gangs = {}         # (ns, name) -> gangs.Gang
        self.pod_gang = {}      # (ns, pod) -> gang key
        self.claims = {}        # (ns, name) -> claim
        self.claim_devs = {}    # (ns, name) -> [device]
        self.taken_n = collections.Counter()
        self.taken = set()      # devices allocated or placed: dra.allocate's `taken`
        self.charge = {}        # (ns, pod) -> (node, cpu, mem): pods counted on nodes
        self.node_pods = collections.defaultdict(set)   # node -> pod keys charged
        self.req_cache = {}     # pod uid -> (cpu, mem)
        self.static = {}        # selection signature -> ([ok nodes], {node: reason})
        self.dra_fail = {}      # (claim signature, node) -> reason
        self.pending = set()    # our pods: unbound, not deleting, not terminal
        self.active = set()     # pod keys whose job is to be tried next cycle
        self.gen = 0            # bumped when capacity may have been freed
        self.failed_at = {}     # job key -> gen of its last failure
        self.waiting = {}       # gang key -> (since, reason): incomplete or base unscheduled
        self.base_waiters = collections.defaultdict(set)  # base gang -> gangs waiting for it
        self.reported = {}      # pod key -> message written
        self.written = {}       # (resource, key) -> resourceVersion of our own write:
                                # older events of it are stale (already accounted)
        self.gang_order = {}    # gang key -> its sort key (priority, creation)
        self.cycles = 0
        self.held_loops = 0     # wake-ups spent held (tests: the hold was seen)
        self.bound = 0
        _INSTANCES.add(self)

    # -- lifecycle

    def start(self):
        q = self.q
        for res in (("", "nodes"), ("resource.k8s.io", "resourceslices"),
                    ("resource.k8s.io", "resourceclaims"), ("", "pods")) + \
                tuple((g, "podgangs") for g in PODGANG_GROUPS):
            self.store.subscribe(res[0], res[1], q=q, replay=True)
        self.thread = threading.Thread(target=self.run, name="kube-sim-scheduler",
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.stopped = True
        self.store.unsubscribe(self.q)
        self.wake()
        if self.thread is not None:
            self.thread.join(5)

    def wake(self):
        self.q.put(None)

    def info(self):
        with self.lock:
            return {"names": sorted(self.names), "cycles": self.cycles, "bound": self.bound,
                    "heldLoops": self.held_loops, "pending": len(self.pending),
                    "waiting": {"%s/%s" % k: r for k, (_, r) in sorted(self.waiting.items())}}

    def run(self):
        last_full = 0.0
        while not self.stopped:
            timeout = self.retry if self.pending else None
            try:
                evs = [self.q.get(timeout=timeout)]
            except queue.Empty:
                evs = []
            for _ in range(100000):
                try:
                    evs.append(self.q.get_nowait())
                except queue.Empty:
                    break
            for ev in evs:
                if ev is not None:
                    try:
                        self.apply(ev)
                    except Exception as e:  # noqa: BLE001 - keep scheduling
                        _log("event %s %s: %r" % (ev.type, ev.resource, e))
            if self.stopped:
                continue
            if held():
                with self.lock:
                    self.held_loops += 1
                continue
            now = time.monotonic()
            full = now - last_full >= self.retry
            if full:
                last_full = now
            try:
                self.cycle(full)
            except Exception as e:  # noqa: BLE001
                import traceback
                traceback.print_exc()
                _log("cycle: %r" % e)
            with self.lock:
                self.cycles += 1

    # -- the cache, from events

    def apply(self, ev):
        group, plural = ev.resource
        obj = ev.obj
        meta = obj.get("metadata") or {}
        key = (meta.get("namespace") or "", meta.get("name"))
        if plural in ("pods", "resourceclaims"):
            mine = self.written.get((plural, key))
            if mine is not None:
                if ev.type != "DELETED" and int(meta.get("resourceVersion") or 0) < mine:
                    return              # from before our write, which counted it
                del self.written[(plural, key)]
        if plural == "pods":
            self.pod_event(ev.type, key, obj)
        elif plural == "nodes":
            self.node_event(ev.type, meta.get("name"), obj)
        elif plural == "podgangs":
            self.gang_event(ev.type, key, obj)
        elif plural == "resourceclaims":
            self.claim_event(ev.type, key, obj)
        elif plural == "resourceslices":
            self.freed()

    def freed(self):
        """Something changed that may make room: every failed job retries."""
        self.gen += 1
        self.dra_fail.clear()

    def pod_event(self, etype, pk, pod):
        old = self.pods.get(pk)
        if etype == "DELETED":
            self.pods.pop(pk, None)
            self.reported.pop(pk, None)
        else:
            self.pods[pk] = pod
        spec = pod.get("spec") or {}
        live = etype != "DELETED" and not _terminal(pod)
        node = spec.get("nodeName")
        if live and node:
            cpu, mem = self.requests(pk, pod)
            self.set_charge(pk, (node, cpu, mem))
            if old is None or not (old.get("spec") or {}).get("nodeName"):
                # a pod bound: a scaled gang may wait for its gang
                for gk in self.base_waiters.pop(self.pod_gang.get(pk), ()):
                    self.activate_gang(gk)
        elif self.charge.get(pk) is not None and (not live or not node):
            self.set_charge(pk, None)
            self.freed()
        if live and not node and not (pod.get("metadata") or {}).get("deletionTimestamp") \
                and spec.get("schedulerName") in self.names:
            self.pending.add(pk)
            self.active.add(pk)
        else:
            self.pending.discard(pk)
        gk = self.pod_gang.get(pk)
        if gk is not None:
            if etype != "MODIFIED":
                self.gang_order.pop(gk, None)
            self.activate_gang(gk)

    def activate_gang(self, gk):
        g = self.gangs.get(gk)
        if g is None:
            return
        for pg in g.groups:
            for r in pg.refs:
                if r in self.pending:
                    self.active.add(r)

    def node_event(self, etype, name, obj):
        old = self.nodes.get(name)
        if etype == "DELETED":
            self.nodes.pop(name, None)
        else:
            n = _Node(obj)
            if old is not None:
                n.ucpu, n.umem, n.upods = old.ucpu, old.umem, old.upods
                if old.key == n.key:
                    self.nodes[name] = n
                    return
            self.nodes[name] = n
            if old is None:
                self.recount(name)
        self.node_order = sorted(self.nodes)
        self.static.clear()
        self.freed()

    def gang_event(self, etype, gk, obj):
        old = self.gangs.pop(gk, None)
        if old is not None:
            for pg in old.groups:
                for r in pg.refs:
                    if self.pod_gang.get(r) == gk:
                        del self.pod_gang[r]
                    if r in self.pending:
                        self.active.add(r)
        self.waiting.pop(gk, None)
        self.gang_order.pop(gk, None)
        self.failed_at.pop(("gang",) + gk, None)
        if etype != "DELETED":
            g = gangs.parse_gang(obj)
            self.gangs[gk] = g
            for pg in g.groups:
                for r in pg.refs:
                    self.pod_gang[r] = gk
            self.activate_gang(gk)

    def claim_event(self, etype, ck, claim):
        if etype == "DELETED":
            self.claims.pop(ck, None)
        else:
            self.claims[ck] = claim
        devs = [] if etype == "DELETED" else _claim_devices(claim)
        old = self.claim_devs.get(ck, [])
        if devs != old:
            for d in old:
                self.untake(d)
            for d in devs:
                self.take(d)
            if devs:
                self.claim_devs[ck] = devs
            else:
                self.claim_devs.pop(ck, None)
            if set(old) - set(devs):
                self.freed()
        # the owning pod may have been waiting for its claim
        for ref in (claim.get("metadata") or {}).get("ownerReferences") or []:
            if ref.get("kind") == "Pod":
                pk = (ck[0], ref.get("name"))
                if pk in self.pending:
                    self.active.add(pk)
                    gk = self.pod_gang.get(pk)
                    if gk is not None:
                        self.activate_gang(gk)

    # -- accounting

    def take(self, d):
        self.taken_n[d] += 1
        self.taken.add(d)

    def untake(self, d):
        self.taken_n[d] -= 1
        if self.taken_n[d] <= 0:
            del self.taken_n[d]
            self.taken.discard(d)

    def requests(self, pk, pod):
        uid = (pod.get("metadata") or {}).get("uid") or pk
        r = self.req_cache.get(uid)
        if r is None:
            r = self.req_cache[uid] = gangs.pod_requests(pod)
        return r

    def set_charge(self, pk, ch):
        old = self.charge.get(pk)
        if old == ch:
            return
        if old is not None:
            n = self.nodes.get(old[0])
            if n is not None:
                n.ucpu, n.umem, n.upods = n.ucpu - old[1], n.umem - old[2], n.upods - 1
            self.node_pods[old[0]].discard(pk)
            del self.charge[pk]
        if ch is not None:
            n = self.nodes.get(ch[0])
            if n is not None:
                n.ucpu, n.umem, n.upods = n.ucpu + ch[1], n.umem + ch[2], n.upods + 1
            self.node_pods[ch[0]].add(pk)
            self.charge[pk] = ch

    def recount(self, name):
        """A node (re)appeared: count the pods already charged to it."""
        n = self.nodes[name]
        n.ucpu = n.umem = n.upods = 0
        for pk in self.node_pods.get(name, ()):
            ch = self.charge[pk]
            n.ucpu, n.umem, n.upods = n.ucpu + ch[1], n.umem + ch[2], n.upods + 1

    # -- readiness

    def claims_ready(self, pk, pod):
        """Every claim of the pod exists (kube-scheduler's PreEnqueue: a pod
        whose claims are not created yet is not tried).  Returns (ready,
        fresh): fresh when none is allocated yet (results can be cached)."""
        spec = pod.get("spec") or {}
        rcs = spec.get("resourceClaims") or []
        if not rcs:
            return True, True
        st = {s.get("name"): s.get("resourceClaimName")
              for s in (pod.get("status") or {}).get("resourceClaimStatuses") or []}
        fresh = True
        for rc in rcs:
            name = rc.get("resourceClaimName")
            if not name and rc.get("resourceClaimTemplateName"):
                if rc.get("name") not in st:
                    return False, False
                name = st[rc.get("name")]
                if not name:
                    continue          # the template made no claim
            c = self.claims.get((pk[0], name))
            if c is None:
                return False, False
            if (c.get("status") or {}).get("allocation"):
                fresh = False
        return True, fresh

    def ready(self, pk):
        pod = self.pods.get(pk)
        if pod is None or pk not in self.pending:
            return False
        if (pod.get("spec") or {}).get("schedulingGates"):
            return False
        return self.claims_ready(pk, pod)[0]

    def bound_node(self, pk):
        ch = self.charge.get(pk)
        return ch[0] if ch is not None else None

    # -- filters

    def static_nodes(self, pod):
        sig = gangs.selection_signature(pod)
        hit = self.static.get(sig)
        if hit is not None:
            return hit
        ok, why = [], {}
        tol = (pod.get("spec") or {}).get("tolerations") or []
        for name in self.node_order:
            n = self.nodes[name]
            r = None
            if n.unschedulable and not gangs.tolerates(tol, {
                    "key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}):
                r = "node(s) were unschedulable"
            if r is None:
                for t in n.taints:
                    if not gangs.tolerates(tol, t):
                        r = "node(s) had untolerated taint {%s: %s}" % (
                            t.get("key"), t.get("value") or "")
                        break
            if r is None and not gangs.node_selected(pod, name, n.labels):
                r = "node(s) didn't match Pod's node affinity/selector"
            if r is None:
                ok.append(name)
            else:
                why[name] = r
        self.static[sig] = (ok, why)
        return ok, why

    @staticmethod
    def claim_signature(pod):
        return repr(sorted((rc.get("name"), rc.get("resourceClaimTemplateName"),
                            rc.get("resourceClaimName"))
                           for rc in (pod.get("spec") or {}).get("resourceClaims") or []))

    def fits_resources(self, n, cpu, mem):
        why = []
        if n.ucpu + cpu > n.cpu and cpu > 0:
            why.append("Insufficient cpu")
        if n.umem + mem > n.mem and mem > 0:
            why.append("Insufficient memory")
        if n.upods + 1 > n.pods:
            why.append("Too many pods")
        return why

    def try_claims(self, pk, pod, name, csig, fresh, cached=True):
        """(results, None) or (None, reason) for the pod's claims on node.
        A failure is remembered for pods alike (fresh: their claims are
        not allocated yet) until something is freed; cached=False asks
        again (the reason names this pod's claim)."""
        if fresh and cached:
            r = self.dra_fail.get((csig, name))
            if r is not None:
                return None, r
        if dra is None:
            return None, "no DRA allocator in this kube-sim (kubesim/dra.py)"
        try:
            res, reason = dra.allocate(self.store, pod, name, self.taken)
        except ApiError as e:
            res, reason = None, e.message
        if res is None:
            reason = reason or "cannot allocate all claims"
            if fresh:
                self.dra_fail[(csig, name)] = reason
        return res, reason

    def fit(self, pk, allowed):
        """The first node (in name order, within allowed if not None) the pod
        fits on: (node, dra results) or None."""
        pod = self.pods[pk]
        cpu, mem = self.requests(pk, pod)
        ok, _ = self.static_nodes(pod)
        claims = bool((pod.get("spec") or {}).get("resourceClaims"))
        fresh = csig = None
        if claims:
            _, fresh = self.claims_ready(pk, pod)
            csig = self.claim_signature(pod)
        for name in ok:
            if allowed is not None and name not in allowed:
                continue
            n = self.nodes[name]
            if n.upods + 1 > n.pods or (cpu and n.ucpu + cpu > n.cpu) or \
                    (mem and n.umem + mem > n.mem):
                continue
            if claims:
                res, _ = self.try_claims(pk, pod, name, csig, fresh)
                if res is None:
                    continue
                return name, res
            return name, None
        return None

    def explain(self, pk, allowed, where=""):
        """kube-scheduler's message for a pod that fits nowhere:
        0/N nodes are available: <count> <reason>, ..."""
        pod = self.pods[pk]
        cpu, mem = self.requests(pk, pod)
        _, why = self.static_nodes(pod)
        claims = bool((pod.get("spec") or {}).get("resourceClaims"))
        fresh = csig = None
        if claims:
            _, fresh = self.claims_ready(pk, pod)
            csig = self.claim_signature(pod)
        hist = collections.Counter()
        for name in self.node_order:
            if name in why:
                hist[why[name]] += 1
                continue
            if allowed is not None and name not in allowed:
                hist["node(s) outside the topology domain%s" % where] += 1
                continue
            rs = self.fits_resources(self.nodes[name], cpu, mem)
            if rs:
                hist.update(rs)
                continue
            if claims:
                res, reason = self.try_claims(pk, pod, name, csig, fresh, cached=False)
                if res is None:
                    hist[_node_neutral(reason, name)] += 1
                    continue
            hist["node(s) fit, but not together with the rest of the gang"] += 1
        parts = ["%d %s" % (c, r) for r, c in sorted(hist.items(), key=lambda x: x[0])]
        sep = "; " if any("," in r for r in hist) else ", "
        return "0/%d nodes are available: %s." % (len(self.node_order), sep.join(parts))

    # -- domains

    def domains(self, pack, allowed, bound_nodes):
        """The node sets a scope with this (required, preferred) pack may
        use, in the order to try: each value of the label key (the value
        of the scope's bound pods first, only it when required), then
        (preferred) anywhere.  Yields (nodes or None, description)."""
        req, pref = pack
        key = req or pref
        if not key:
            yield allowed, ""
            return
        doms = collections.defaultdict(set)
        for name in (allowed if allowed is not None else self.node_order):
            n = self.nodes.get(name)
            if n is not None and key in n.labels:
                doms[n.labels[key]].add(name)
        fixed = sorted({self.nodes[b].labels[key] for b in bound_nodes
                        if b in self.nodes and key in self.nodes[b].labels})
        if req:
            for v in (fixed[:1] if fixed else sorted(doms)):
                yield frozenset(doms.get(v, ())), " %s=%s" % (key, v)
            return
        order = fixed + [v for v in sorted(doms) if v not in fixed]
        for v in order[:PREFERRED_TRIES]:
            yield frozenset(doms.get(v, ())), " %s=%s" % (key, v)
        yield allowed, ""

    # -- placement

    def place(self, trial, gang, cands, need, fail):
        """Place the candidates of each podgroup (cands: name -> [pod
        keys]; need: name -> how many must be placed) within gang's
        topology.  On failure, fail[0] is set to the message and the
        trial is as it was."""
        groups = {pg.name: pg for pg in gang.groups}

        def bound_of(names):
            return [self.bound_node(r) for n in names for r in groups[n].refs
                    if self.bound_node(r)]

        all_names = [pg.name for pg in gang.groups]
        for dom, where in self.domains(gang.pack, None, bound_of(all_names)):
            m = trial.mark()
            if all(self.place_unit(trial, groups, unit, dom, where, cands, need, fail,
                                   bound_of) for unit in gang.units):
                return True
            trial.undo(m)
        if fail[0] is None:
            fail[0] = "no node has the label %s the gang's pack requires" % (
                gang.pack[0] or gang.pack[1])
        return False

    def place_unit(self, trial, groups, unit, allowed, where, cands, need, fail, bound_of):
        pack, names = unit
        if not any(cands.get(n) for n in names):
            return True
        for dom, w in self.domains(pack, allowed, bound_of(names)):
            m = trial.mark()
            if all(self.place_group(trial, groups[n], dom, where + w, cands, need, fail,
                                    bound_of) for n in names):
                return True
            trial.undo(m)
        if fail[0] is None:
            fail[0] = "no node has the label %s the pack of podgroups %s requires" % (
                pack[0] or pack[1], ", ".join(names))
        return False

    def place_group(self, trial, pg, allowed, where, cands, need, fail, bound_of):
        todo = cands.get(pg.name) or []
        want = need.get(pg.name, 0)
        if not todo:
            return want <= 0
        for dom, w in self.domains(pg.pack, allowed, bound_of([pg.name])):
            m = trial.mark()
            placed, first_fail = 0, None
            for pk in todo:
                if placed >= want:
                    break
                got = self.fit(pk, dom)
                if got is None:
                    if first_fail is None:
                        first_fail = pk
                    continue
                trial.add(pk, got[0], got[1])
                placed += 1
            if placed >= want:
                trial.domain[pg.name] = dom
                return True
            if fail[0] is None and first_fail is not None:
                fail[0] = "podgroup %s: %d of minReplicas %d placed%s; pod %s: %s" % (
                    pg.name, max(0, pg.min - want) + placed, pg.min,
                    (" (within%s%s)" % (where, w)) if where + w else "", first_fail[1],
                    self.explain(first_fail, dom, where + w))
            trial.undo(m)
        return False

    # -- a cycle

    def cycle(self, full):
        act = self.active & self.pending
        self.active = set()
        work = set(self.pending) if full else act
        jobs = {}
        for pk in work:
            gk = self.pod_gang.get(pk)
            if gk is not None and gk in self.gangs:
                jobs.setdefault(("gang",) + gk, (gk, None))
            else:
                jobs.setdefault(("pod",) + pk, (None, pk))
        if not jobs:
            return
        order = sorted(jobs.items(), key=lambda kv: self.job_order(kv[1]))
        now = time.monotonic()
        i = 0
        while i < len(order):
            # the store's lock held over many jobs, SLICE seconds at most:
            # dra.allocate and the writes take it again and again, and a
            # lock handed back and forth between threads costs a GIL
            # switch interval each time
            with self.store.cond:
                end = time.monotonic() + SLICE
                while i < len(order) and time.monotonic() < end:
                    jk, (gk, pk) = order[i]
                    i += 1
                    if gk is not None:
                        self.gang_job(jk, gk, now, act)
                    elif self.ready(pk) and (pk in act or self.failed_at.get(jk) != self.gen):
                        self.single_job(jk, pk)

    def job_order(self, job):
        gk, pk = job
        if gk is not None:
            hit = self.gang_order.get(gk)
            if hit is None:
                g = self.gangs[gk]
                prio = max([self.priority(self.pods[r]) for pg in g.groups for r in pg.refs
                            if r in self.pods] or [0])
                hit = self.gang_order[gk] = (-prio, g.created, gk)
            return hit
        pod = self.pods[pk]
        return (-self.priority(pod), (pod.get("metadata") or {}).get("creationTimestamp", ""),
                pk)

    @staticmethod
    def priority(pod):
        p = (pod.get("spec") or {}).get("priority")
        return p if isinstance(p, int) and not isinstance(p, bool) else 0

    def single_job(self, jk, pk):
        trial = _Trial(self)
        got = self.fit(pk, None)
        if got is None:
            self.failed_at[jk] = self.gen
            self.unschedulable([pk], self.explain(pk, None))
            return
        trial.add(pk, got[0], got[1])
        self.failed_at.pop(jk, None)
        self.commit(trial)

    def gang_job(self, jk, gk, now, act):
        g = self.gangs[gk]
        if self.failed_at.get(jk) == self.gen and not any(
                r in act for pg in g.groups for r in pg.refs):
            return                  # nothing changed since it last failed
        running = any(self.bound_node(r) for pg in g.groups for r in pg.refs)
        cands, need, counts = {}, {}, []
        for pg in g.groups:
            c = [r for r in pg.refs if self.ready(r)]
            bound = sum(1 for r in pg.refs if self.bound_node(r))
            cands[pg.name] = c
            need[pg.name] = max(0, pg.min - bound)
            missing = sum(1 for r in pg.refs if r not in self.pods)
            if bound + len(c) < pg.min:
                counts.append("podgroup %s has %d of minReplicas %d pods ready to schedule "
                              "(%d not created, %d gated or waiting for their claims)" % (
                                  pg.name, bound + len(c), pg.min, missing,
                                  len(pg.refs) - bound - len(c) - missing))
        ready_pods = [r for c in cands.values() for r in c]
        if not ready_pods:
            with self.lock:
                self.waiting.pop(gk, None)
            return
        touched = any(r in act for r in ready_pods)
        if self.failed_at.get(jk) == self.gen and not touched:
            return                  # nothing changed since it last failed
        if running:
            # replacements: each pod alone, in the domains of the bound pods
            with self.lock:
                self.waiting.pop(gk, None)
            self.failed_at.pop(jk, None)
            for pk in ready_pods:
                pgname = next(pg.name for pg in g.groups if pk in cands[pg.name])
                trial, fail = _Trial(self), [None]
                if self.place(trial, g, {pgname: [pk]}, {pgname: 1}, fail):
                    self.commit(trial)
                else:
                    self.failed_at[jk] = self.gen
                    self.unschedulable([pk], "PodGang %s/%s: %s" % (gk[0], gk[1], fail[0]))
            return
        reason = None
        if counts:
            reason = "waiting for the gang's pods: " + "; ".join(counts)
        else:
            base = self.base_of(g)
            if base is not None and not self.gang_scheduled(base):
                reason = "waiting for base PodGang %s/%s to be scheduled" % base
                self.base_waiters[base].add(gk)
        if reason is not None:
            since = self.waiting.get(gk, (now, None))[0]
            with self.lock:
                self.waiting[gk] = (since, reason)
            if now - since >= WAIT_REPORT:   # else: again on the next tick
                self.unschedulable(ready_pods, "PodGang %s/%s: %s" % (gk[0], gk[1], reason))
            return
        with self.lock:
            self.waiting.pop(gk, None)
        trial, fail = _Trial(self), [None]
        if self.place(trial, g, cands, need, fail):
            self.failed_at.pop(jk, None)
            # best effort: the pods above minReplicas, in their podgroup's domain
            for pg in g.groups:
                for pk in cands[pg.name]:
                    if any(p[0] == pk for p in trial.placed):
                        continue
                    got = self.fit(pk, trial.domain.get(pg.name))
                    if got is not None:
                        trial.add(pk, got[0], got[1])
            self.commit(trial)
        else:
            self.failed_at[jk] = self.gen
            self.unschedulable(ready_pods, "PodGang %s/%s cannot be placed, none of its pods "
                               "is bound: %s" % (gk[0], gk[1], fail[0]))

    def base_of(self, g):
        for pg in g.groups:
            for r in pg.refs:
                pod = self.pods.get(r)
                if pod is not None:
                    b = ((pod.get("metadata") or {}).get("labels") or {}).get(
                        gangs.BASE_PODGANG)
                    if b and (r[0], b) != g.key:
                        return (r[0], b)
        return None

    def gang_scheduled(self, gk):
        g = self.gangs.get(gk)
        if g is None:
            return False
        return all(sum(1 for r in pg.refs if self.bound_node(r)) >= pg.min for pg in g.groups)

    # -- writes

    def commit(self, trial):
        """Allocate the claims and bind, pod after pod, in placement order."""
        for pk, node, results, devs in list(trial.placed):
            pod = self.pods[pk]
            ns, name = pk
            try:
                why = None
                if results is not None:
                    why = dra.commit(self.store, pod, node, results)
                if why is None:
                    bound = binding.bind(self.store, ns, name, node,
                                         uid=pod["metadata"].get("uid"))
                    self.pods[pk] = bound
                    self.pending.discard(pk)
                    self.written[("pods", pk)] = int(bound["metadata"]["resourceVersion"])
            except ApiError as e:
                why = e.message
            if why is not None:         # the pod or a claim changed meanwhile
                _log("binding %s/%s to %s: %s" % (ns, name, node, why))
                self.set_charge(pk, None)
                for d in devs:
                    self.untake(d)
                self.active.add(pk)
                continue
            # the claims' own events follow: their devices now count as the
            # claims', once
            for r in results or ():
                if r.get("allocation") is not None:
                    ck = (r.get("namespace") or ns, r.get("claim"))
                    old = self.claim_devs.get(ck, [])
                    new = _result_devices(r)
                    for d in old:
                        self.untake(d)
                    for d in new:
                        self.take(d)
                    self.claim_devs[ck] = new
                    # under the store's lock: nobody wrote since dra.commit
                    self.written[("resourceclaims", ck)] = self.store.rv
            for d in devs:
                self.untake(d)
            with self.lock:
                self.bound += 1
            self.reported.pop(pk, None)
            self.event(pod, "Normal", "Scheduled", "Successfully assigned %s/%s to %s"
                       % (ns, name, node))

    def unschedulable(self, pks, msg):
        """PodScheduled=False reason Unschedulable and a FailedScheduling
        Event, when the message is new for the pod."""
        rt = self.store.types[("", "pods")]
        for pk in pks:
            if self.reported.get(pk) == msg:
                continue
            self.reported[pk] = msg
            with self.store.cond:
                try:
                    pod = self.store.get(rt, pk[0], pk[1])
                except ApiError:
                    continue
                if (pod.get("spec") or {}).get("nodeName"):
                    continue
                st = pod.setdefault("status", {})
                st.setdefault("phase", "Pending")
                changed = binding.set_condition(st, {
                    "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                    "message": msg, "lastProbeTime": None,
                    "lastTransitionTime": now_rfc3339()})
                if changed:
                    try:
                        self.store.update(rt, pk[0], pk[1], pod, sub="status")
                    except ApiError:
                        continue
            if changed:
                self.event(pod, "Warning", "FailedScheduling", msg)

    _seq = itertools.count(1)

    def event(self, pod, etype, reason, msg):
        meta = pod.get("metadata") or {}
        now = now_rfc3339()
        comp = (pod.get("spec") or {}).get("schedulerName") or "kai-scheduler"
        ev = {"apiVersion": "v1", "kind": "Event",
              "metadata": {"name": "%s.%x%04x" % (meta.get("name"), time.time_ns() // 1000,
                                                 next(self._seq) & 0xffff),
                           "namespace": meta.get("namespace")},
              "involvedObject": {"kind": "Pod", "apiVersion": "v1",
                                 "namespace": meta.get("namespace"), "name": meta.get("name"),
                                 "uid": meta.get("uid"),
                                 "resourceVersion": meta.get("resourceVersion")},
              "reason": reason, "message": msg, "type": etype,
              "source": {"component": comp}, "reportingComponent": comp,
              "reportingInstance": comp + "-kube-sim",
              "firstTimestamp": now, "lastTimestamp": now, "count": 1}
        try:
            self.store.create(self.store.types[("", "events")], meta.get("namespace"), ev)
        except ApiError as e:
            _log("event for %s: %s" % (meta.get("name"), e.message))


def _node_neutral(reason, node):
    """A DRA reason with the node's name taken out, so that nodes alike
    count as one line of the message."""
    for pat in ('node "%s"' % node, "node %s" % node, '"%s"' % node, node):
        reason = reason.replace(pat, "the node")
    return reason
