# SPDX-License-Identifier: Apache-2.0
"""DRA allocation of a pod's ResourceClaims on a node, as the scheduler's
DynamicResources plugin does it with structured parameters (Kubernetes
1.33's allocator, k8s.io/dynamic-resource-allocation/structured).

    taken = taken_devices(store)             # {(driver, pool, device)}
    results, reason = allocate(store, pod, node_name, taken)
    if results is not None:
        commit(store, pod, node_name, results)   # or CommitError(reason)

allocate() writes nothing: for each claim of the pod (the names in
pod.status.resourceClaimStatuses, or spec.resourceClaims[].resourceClaimName)
it picks devices of node_name's ResourceSlices that the request's
DeviceClass selectors AND the request's own selectors match (kubesim.cel),
`count` of them (allocationMode ExactCount, the default, count 1) or all of
them (All), none in `taken` and none twice, with matchAttribute
constraints, searching the way the real allocator does (first solution,
claims and requests in order, devices in slice order).  A claim already
allocated (a shared claim) is reused when its allocation's nodeSelector
admits the node.  On success `results` is a list, one entry per claim, to
hand to commit(); on failure `reason` says which claim, which request and
why ("cannot allocate all claims: ..."), including a selector this
evaluator does not support (never a silent match) and a CEL runtime error
(which, as in 1.33, fails the allocation rather than skipping the device).

commit() writes each claim as the scheduler's PreBind does: the finalizer
resource.kubernetes.io/delete-protection, then status.allocation
(devices.results [{request, driver, pool, device}], nodeSelector matching
the node's name) and status.reservedFor [{resource: pods, name, uid}].
It returns None, or raises CommitError(reason) when a claim changed
underneath (deleted, allocated elsewhere): schedule the pod again then.
"""

import copy
import queue
import threading
import weakref

from . import cel
from .errors import ApiError


GROUP = "resource.k8s.io"
FINALIZER = "resource.kubernetes.io/delete-protection"
RESERVED_FOR_MAX = 256


def _rt(store, plural):
    return store.types[(GROUP, plural)]


def _peek(store, group, plural, ns, name):
    """The stored object itself, or None: read only, never changed (the
    store replaces an object on a write, it does not change it), so no
    copy is needed for reading it."""
    with store.cond:
        return store.objs.get((group, plural), {}).get((ns or "", name))


def taken_devices(store):
    """{(driver, pool, device)} allocated by existing claims (admin access
    allocations excluded, as the real allocator excludes them)."""
    out = set()
    with store.cond:
        for claim in store.objs.get((GROUP, "resourceclaims"), {}).values():
            alloc = (claim.get("status") or {}).get("allocation") or {}
            for r in (alloc.get("devices") or {}).get("results") or []:
                if not r.get("adminAccess"):
                    out.add((r.get("driver"), r.get("pool"), r.get("device")))
    return out


def pod_claim_names(pod):
    """[(pod claim name, ResourceClaim name or None)] in spec order."""
    statuses = {s.get("name"): s.get("resourceClaimName")
                for s in (pod.get("status") or {}).get("resourceClaimStatuses") or []}
    out = []
    for pc in (pod.get("spec") or {}).get("resourceClaims") or []:
        if pc.get("resourceClaimName"):
            out.append((pc.get("name"), pc["resourceClaimName"]))
        else:
            out.append((pc.get("name"), statuses.get(pc.get("name"))))
    return out


def _request_body(req):
    """(body, problem): v1beta2/v1 requests have `exactly` (or
    `firstAvailable`), v1beta1 ones the fields at the top."""
    if req.get("firstAvailable"):
        return None, "firstAvailable (prioritized alternatives) is not simulated"
    if isinstance(req.get("exactly"), dict):
        return req["exactly"], None
    return req, None


def _selectors(obj):
    out = []
    for i, s in enumerate((obj or {}).get("selectors") or []):
        expr = ((s or {}).get("cel") or {}).get("expression")
        if expr is None:
            return None, "selector #%d: CEL expression empty (unsupported selector type?)" % i
        out.append(expr)
    return out, None


def _node_matches_selector(node, sel):
    """A claim allocation's nodeSelector against a Node object."""
    if not sel:
        return True
    name = node["metadata"]["name"]
    labels = node["metadata"].get("labels") or {}
    for term in sel.get("nodeSelectorTerms") or []:
        ok = True
        for kind, src in (("matchFields", {"metadata.name": name}), ("matchExpressions", labels)):
            for e in term.get(kind) or []:
                key, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
                have = key in src
                if op == "In":
                    ok = ok and have and src[key] in vals
                elif op == "NotIn":
                    ok = ok and not (have and src[key] in vals)
                elif op == "Exists":
                    ok = ok and have
                elif op == "DoesNotExist":
                    ok = ok and not have
                else:
                    ok = False
        if ok:
            return True
    return False


class _SliceIndex:
    """The store's ResourceSlices by node, kept by a subscription (so that
    an allocation on one node does not walk every slice of the cluster)."""

    def __init__(self, store):
        self.lock = threading.Lock()
        self.by_node = {}      # node name -> {slice name: slice}
        self.other = {}        # slice name -> slice (allNodes, nodeSelector)
        self.q = store.subscribe(GROUP, "resourceslices", replay=True)

    def slices(self, node):
        with self.lock:
            while True:
                try:
                    ev = self.q.get_nowait()
                except queue.Empty:
                    break
                name = ev.obj["metadata"]["name"]
                for m in list(self.by_node.values()) + [self.other]:
                    m.pop(name, None)
                if ev.type != "DELETED":
                    spec = ev.obj.get("spec") or {}
                    if spec.get("nodeName"):
                        self.by_node.setdefault(spec["nodeName"], {})[name] = ev.obj
                    else:
                        self.other[name] = ev.obj
            out = list(self.by_node.get(node["metadata"]["name"], {}).values())
            for sl in self.other.values():
                spec = sl.get("spec") or {}
                if spec.get("allNodes") or (spec.get("nodeSelector") and _node_matches_selector(
                        node, spec["nodeSelector"])):
                    out.append(sl)
            return out


_INDEXES = weakref.WeakKeyDictionary()
_INDEX_LOCK = threading.Lock()
# selector results across calls: (expr, driver, pool, device, slice uid, slice rv) -> bool
_MATCHES = {}


def _pools(store, node):
    """The devices usable on the node: [(driver, pool, device, slice key)]
    from its complete pools (the newest generation of each, every slice of
    it present), slices naming the node, allNodes or a nodeSelector
    admitting it; and the incomplete pools."""
    with _INDEX_LOCK:
        index = _INDEXES.get(store)
        if index is None:
            index = _INDEXES[store] = _SliceIndex(store)
    pools = {}
    for s in index.slices(node):
        spec = s.get("spec") or {}
        pool = spec.get("pool") or {}
        key = (spec.get("driver"), pool.get("name"))
        gen = int(pool.get("generation") or 0)
        have = pools.get(key)
        if have is None or gen > have[0]:
            pools[key] = [gen, int(pool.get("resourceSliceCount") or 1), [s]]
        elif gen == have[0]:
            have[2].append(s)
    devices, incomplete = [], []
    for (driver, pool), (gen, count, ss) in sorted(pools.items()):
        if len(ss) < count:
            incomplete.append("%s/%s" % (driver, pool))
            continue
        for s in sorted(ss, key=lambda x: x["metadata"]["name"]):
            skey = (s["metadata"].get("uid"), s["metadata"].get("resourceVersion"))
            for d in (s.get("spec") or {}).get("devices") or []:
                devices.append((driver, pool, d, skey))
    return devices, incomplete


class CommitError(Exception):
    """commit() could not write a claim: the reason."""


class _Fail(Exception):
    """Allocation cannot succeed for this pod on this node: the reason."""


def _qualified(attr, driver):
    return attr if "/" in attr else "%s/%s" % (driver, attr)


def _attr_of(device, full_name, driver):
    """A device's attribute by fully qualified name (lookupAttribute)."""
    body = device.get("basic") if isinstance(device.get("basic"), dict) else device
    attrs = body.get("attributes") or {}
    if full_name in attrs:
        return attrs[full_name]
    domain, _, ident = full_name.partition("/")
    if domain == driver and ident in attrs:
        return attrs[ident]
    return None


class _Alloc:
    def __init__(self, store, pod, node, taken):
        self.store, self.pod, self.node, self.taken = store, pod, node, taken
        self.devices, self.incomplete = _pools(store, node)
        self.classes = {}
        self.picking = set()

    def device_class(self, claim_name, req_name, class_name):
        if class_name not in self.classes:
            self.classes[class_name] = _peek(self.store, GROUP, "deviceclasses", None,
                                             class_name)
            if self.classes[class_name] is None:
                raise _Fail('claim %s, request %s: could not retrieve device class %s: '
                            'deviceclasses.resource.k8s.io "%s" not found' % (
                                claim_name, req_name, class_name, class_name))
        return self.classes[class_name]

    def matches(self, what, exprs, driver, pool, device, skey):
        """All of exprs match the device; what names the selectors' owner
        for messages ("class X" or "claim ns/y")."""
        for i, expr in enumerate(exprs):
            key = (expr, driver, pool, device.get("name"), skey)
            hit = _MATCHES.get(key)
            if hit is None:
                try:
                    hit = cel.evaluate(expr, device, driver)
                except cel.Unsupported as e:
                    raise _Fail("%s: selector #%d: unsupported expression `%s`: %s is not "
                                "simulated by kube-sim" % (what, i, expr, e))
                except cel.CelError as e:
                    raise _Fail("%s: selector #%d on device %s/%s/%s: CEL runtime error: %s" % (
                        what, i, driver, pool, device.get("name"), e))
                if len(_MATCHES) > 500000:
                    _MATCHES.clear()
                _MATCHES[key] = hit
            if not hit:
                return False
        return True


def _requests(claim_name, claim):
    """[(name, body, class selectors later)] of the claim, or _Fail."""
    devs = ((claim.get("spec") or {}).get("devices") or {})
    out = []
    for req in devs.get("requests") or []:
        body, problem = _request_body(req)
        if problem:
            raise _Fail("claim %s, request %s: %s" % (claim_name, req.get("name"), problem))
        mode = body.get("allocationMode") or "ExactCount"
        if mode not in ("ExactCount", "All"):
            raise _Fail("claim %s, request %s: unsupported count mode %s" % (
                claim_name, req.get("name"), mode))
        if not body.get("deviceClassName"):
            raise _Fail("claim %s, request %s: missing device class name" % (
                claim_name, req.get("name")))
        if body.get("tolerations"):
            raise _Fail("claim %s, request %s: device taints and tolerations are not "
                        "simulated" % (claim_name, req.get("name")))
        out.append((req.get("name"), body))
    return out


def allocate(store, pod, node_name, taken):
    """(results, None) or (None, reason).  Writes nothing."""
    ns = pod["metadata"].get("namespace", "default")
    node = _peek(store, "", "nodes", None, node_name)
    if node is None:
        return None, 'node "%s" not found' % node_name
    claims = []
    for pc_name, claim_name in pod_claim_names(pod):
        if not claim_name:
            return None, ('waiting for resource claim controller to create the ResourceClaim '
                          'for pod claim "%s"' % pc_name)
        claim = _peek(store, GROUP, "resourceclaims", ns, claim_name)
        if claim is None:
            return None, 'resourceclaim "%s" not found' % claim_name
        if claim["metadata"].get("deletionTimestamp"):
            return None, 'resourceclaim "%s" is being deleted' % claim_name
        claims.append(claim)

    a = _Alloc(store, pod, node, taken)
    # shared claims already allocated: reused where their node admits
    plan = []       # (claim, [(request name, body, class exprs, request exprs)]) to allocate
    results = []
    try:
        for claim in claims:
            cname = "%s/%s" % (ns, claim["metadata"]["name"])
            status = claim.get("status") or {}
            if status.get("allocation"):
                sel = status["allocation"].get("nodeSelector")
                if not _node_matches_selector(node, sel):
                    raise _Fail("claim %s is already allocated to a node other than %s" % (
                        cname, node_name))
                reserved = status.get("reservedFor") or []
                mine = any(r.get("uid") == pod["metadata"].get("uid") for r in reserved)
                if not mine and len(reserved) >= RESERVED_FOR_MAX:
                    raise _Fail("claim %s is reserved for %d pods, the maximum" % (
                        cname, len(reserved)))
                results.append({"claim": claim["metadata"]["name"], "namespace": ns,
                                "uid": claim["metadata"]["uid"], "allocation": None})
                continue
            reqs = []
            for rname, body in _requests(cname, claim):
                cls = a.device_class(cname, rname, body["deviceClassName"])
                cexprs, problem = _selectors(cls.get("spec"))
                if problem:
                    raise _Fail("class %s: %s" % (body["deviceClassName"], problem))
                rexprs, problem = _selectors(body)
                if problem:
                    raise _Fail("claim %s, request %s: %s" % (cname, rname, problem))
                for what, exprs in (("class " + body["deviceClassName"], cexprs),
                                    ("claim %s" % cname, rexprs)):
                    for i, e in enumerate(exprs):
                        try:
                            cel.check(e)
                        except cel.Unsupported as x:
                            raise _Fail("%s: selector #%d: unsupported expression `%s`: %s "
                                        "is not simulated by kube-sim" % (what, i, e, x))
                        except cel.CelError as x:
                            raise _Fail("%s: selector #%d: CEL compile error: %s" % (
                                what, i, x))
                reqs.append((rname, body, cexprs, rexprs))
            constraints = []
            for c in (claim.get("spec") or {}).get("devices", {}).get("constraints") or []:
                if not c.get("matchAttribute"):
                    raise _Fail("claim %s: empty constraint (unsupported constraint type?)"
                                % cname)
                constraints.append((set(c.get("requests") or []), c["matchAttribute"]))
            plan.append((claim, cname, reqs, constraints))
        picked = _search(a, plan)
    except _Fail as e:
        return None, "cannot allocate all claims: %s" % e
    if picked is None:
        return None, "cannot allocate all claims: %s" % _explain(a, plan, node_name)
    for (claim, cname, reqs, constraints), devs in zip(plan, picked):
        results.append({
            "claim": claim["metadata"]["name"], "namespace": ns, "uid": claim["metadata"]["uid"],
            "allocation": {
                "devices": {"results": [
                    dict({"request": r, "driver": d, "pool": p, "device": dev},
                         **({"adminAccess": True} if admin else {}))
                    for r, d, p, dev, admin in devs]},
                "nodeSelector": {"nodeSelectorTerms": [{"matchFields": [
                    {"key": "metadata.name", "operator": "In", "values": [node_name]}]}]}}})
    return results, None


def _candidates(a, cname, rname, body, cexprs, rexprs):
    """Devices of the node the request's selectors accept (in order)."""
    out = []
    cls = "class " + body["deviceClassName"]
    for driver, pool, dev, skey in a.devices:
        if a.matches(cls, cexprs, driver, pool, dev, skey) and \
                a.matches("claim " + cname, rexprs, driver, pool, dev, skey):
            out.append((driver, pool, dev))
    return out


def _search(a, plan):
    """The first full solution ([[(request, driver, pool, device, admin)]]
    per claim) or None; backtracking over devices as the real allocator."""
    # flatten into slots: one per device needed
    slots = []      # (claim index, request name, candidates, admin)
    for ci, (claim, cname, reqs, constraints) in enumerate(plan):
        for rname, body, cexprs, rexprs in reqs:
            cands = _candidates(a, cname, rname, body, cexprs, rexprs)
            admin = bool(body.get("adminAccess"))
            if (body.get("allocationMode") or "ExactCount") == "All":
                if a.incomplete:
                    raise _Fail("claim %s, request %s: asks for all devices, but resource pool "
                                "%s is currently being updated" % (cname, rname,
                                                                    a.incomplete[0]))
                if not cands:
                    return None
                for d in cands:
                    slots.append((ci, rname, [d], admin))
            else:
                n = int(body.get("count") or 1)
                for _ in range(n):
                    slots.append((ci, rname, cands, admin))
    chosen = []
    in_use = set()

    def constraint_ok(ci, rname, driver, dev):
        for names, attr in plan[ci][3]:
            if names and rname not in names:
                continue
            full = attr
            mine = _attr_of(dev, full, driver)
            if mine is None:
                return False
            for cj, r2, d2, p2, dv2, _ in chosen:
                if cj != ci or (names and r2 not in names):
                    continue
                if _attr_of(dv2, full, d2) != mine:
                    return False
        return True

    def step(k, budget):
        if budget[0] <= 0:
            raise _Fail("the search for a device allocation gave up after 100000 steps")
        budget[0] -= 1
        if k == len(slots):
            return True
        ci, rname, cands, admin = slots[k]
        for driver, pool, dev in cands:
            key = (driver, pool, dev.get("name"))
            if admin:
                if (ci, key) in in_use:
                    continue
            elif key in a.taken or any(u[1] == key for u in in_use):
                continue
            if not constraint_ok(ci, rname, driver, dev):
                continue
            mark = (ci, key) if admin else (-1, key)
            in_use.add(mark)
            chosen.append((ci, rname, driver, pool, dev, admin))
            if step(k + 1, budget):
                return True
            chosen.pop()
            in_use.discard(mark)
        return False

    if not step(0, [100000]):
        return None
    out = [[] for _ in plan]
    for ci, rname, driver, pool, dev, admin in chosen:
        out[ci].append((rname, driver, pool, dev.get("name"), admin))
    return out


def _explain(a, plan, node_name):
    """Why no solution: the first request that cannot be served alone, or
    the claims together."""
    for claim, cname, reqs, constraints in plan:
        for rname, body, cexprs, rexprs in reqs:
            cls = body["deviceClassName"]
            of_class = [d for d in a.devices
                        if a.matches("class " + cls, cexprs, d[0], d[1], d[2], d[3])]
            cands = _candidates(a, cname, rname, body, cexprs, rexprs)
            exprs = " && ".join("`%s`" % e for e in rexprs)
            if not of_class:
                return ("claim %s, request %s: no device of class %s on node %s" % (
                    cname, rname, cls, node_name))
            if not cands:
                return ("claim %s, request %s: no device of class %s on node %s matches %s "
                        "(%d devices of the class there)" % (
                            cname, rname, cls, node_name, exprs, len(of_class)))
            if body.get("adminAccess"):
                continue
            taken = [d for d in cands if (d[0], d[1], d[2].get("name")) in a.taken]
            if (body.get("allocationMode") or "ExactCount") == "All":
                if taken:
                    return ("claim %s, request %s: asks for all %d matching devices of class %s "
                            "on node %s, %d of them taken" % (
                                cname, rname, len(cands), cls, node_name, len(taken)))
                continue
            free = [d for d in cands if (d[0], d[1], d[2].get("name")) not in a.taken]
            need = int(body.get("count") or 1)
            if len(free) < need:
                return ("claim %s, request %s: %d of the %d matching devices of class %s on "
                        "node %s are taken, %d wanted" % (
                            cname, rname, len(cands) - len(free), len(cands), cls, node_name,
                            need))
    if a.incomplete:
        return "resource pool %s is currently being updated" % a.incomplete[0]
    names = ", ".join(p[1] for p in plan)
    return ("the claims %s cannot all be satisfied together on node %s (devices taken by "
            "one another or matchAttribute constraints)" % (names, node_name))


def commit(store, pod, node_name, results):
    """Write the allocation and reservation of each claim.  Returns None;
    raises CommitError(reason) when a claim changed underneath (deleted,
    replaced, allocated or deallocated meanwhile): nothing more is written
    then, and the pod should be scheduled again."""
    rt = _rt(store, "resourceclaims")
    ref = {"resource": "pods", "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]}
    for r in results:
        for _ in range(20):
            try:
                claim = store.get(rt, r["namespace"], r["claim"])
            except ApiError:
                raise CommitError('resourceclaim "%s" not found' % r["claim"])
            if claim["metadata"]["uid"] != r["uid"]:
                raise CommitError('resourceclaim "%s" was replaced' % r["claim"])
            if claim["metadata"].get("deletionTimestamp"):
                raise CommitError('resourceclaim "%s" is being deleted' % r["claim"])
            status = claim.get("status") or {}
            try:
                if r["allocation"] is not None:
                    if status.get("allocation") and status["allocation"] != r["allocation"]:
                        raise CommitError('resourceclaim "%s" was allocated meanwhile'
                                          % r["claim"])
                    fins = claim["metadata"].get("finalizers") or []
                    if FINALIZER not in fins:
                        new = copy.deepcopy(claim)
                        new["metadata"]["finalizers"] = fins + [FINALIZER]
                        store.update(rt, r["namespace"], r["claim"], new)
                        continue      # read again, then the status
                    status = dict(status, allocation=r["allocation"])
                elif not status.get("allocation"):
                    raise CommitError('resourceclaim "%s" was deallocated meanwhile'
                                      % r["claim"])
                reserved = list(status.get("reservedFor") or [])
                if not any(x.get("uid") == ref["uid"] for x in reserved):
                    reserved.append(dict(ref))
                status["reservedFor"] = reserved
                new = copy.deepcopy(claim)
                new["status"] = status
                store.update(rt, r["namespace"], r["claim"], new, sub="status")
                break
            except ApiError as e:
                if e.code == 409:
                    continue
                raise CommitError('resourceclaim "%s": %s' % (r["claim"], e.message))
        else:
            raise CommitError('resourceclaim "%s": too many conflicts' % r["claim"])
    return None
