# SPDX-License-Identifier: Apache-2.0
"""The store: objects by resource, resourceVersion, conflicts, the watch
history (and its compaction), in-process subscriptions, finalizers and
deletion, CRD registration.  The garbage collector is in gc.py.
"""

import collections
from . import fastcopy as copy
import datetime
import queue
import random
import string
import threading
import uuid

from .errors import ApiError, bad_request, conflict, invalid, not_found
from .gc import GarbageCollector
from .restypes import BUILTINS, BUILTIN_SCALE, NAME_RE, ResType
from .selectors import fields_match, labels_match


HISTORY_SIZE = 1000

# One event of an in-process subscription (Store.subscribe).
Event = collections.namedtuple("Event", "type resource obj old")


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Store(GarbageCollector):
    def __init__(self):
        self.cond = threading.Condition(threading.RLock())
        self.types = {}        # (group, plural) -> ResType
        self.objs = {}         # (group, plural) -> {(ns, name): obj}
        self.rv = 0
        self.history = collections.deque()   # (rv, type, (group, plural), ns, obj, old)
        self.oldest = 0        # events with rv > oldest are all in history
        self.drop_gen = 0      # bumped by /__sim/drop-watches
        self.stopping = False
        self.gc_queue = queue.Queue()
        self.subscribers = []  # [((group, plural), queue.Queue)]: subscribe()
        # graceful deletion of pods, set while a kubelet runs (kubelet.py)
        self.pod_deletion = None
        for g, vs, pl, sg, kind, nsd, short, st in BUILTINS:
            self.register(ResType(g, vs, pl, sg, kind, nsd, short, status=st,
                                  scale=BUILTIN_SCALE.get((g, pl))))
        for ns in ("default", "kube-system", "kube-public"):
            self.create(self.types[("", "namespaces")], None, {"metadata": {"name": ns}})
        threading.Thread(target=self.gc_loop, daemon=True).start()

    # -- types

    def register(self, rt):
        self.types[(rt.group, rt.plural)] = rt
        self.objs.setdefault((rt.group, rt.plural), {})

    def find_type(self, group, version, plural):
        rt = self.types.get((group, plural))
        if rt is None or version not in rt.versions:
            return None
        return rt

    def crd_changed(self, crd, deleted=False):
        spec = crd.get("spec", {})
        group, names = spec.get("group", ""), spec.get("names", {})
        plural = names.get("plural")
        if not plural:
            return
        if deleted:
            self.types.pop((group, plural), None)
            for (ns, name), obj in list(self.objs.get((group, plural), {}).items()):
                self._emit("DELETED", (group, plural), ns, obj, None)
            self.objs.pop((group, plural), None)
            return
        versions = [v for v in spec.get("versions", []) if v.get("served", True)]
        # storage version first so that it is the preferred one
        versions.sort(key=lambda v: not v.get("storage", False))
        sub = (versions[0].get("subresources") or {}) if versions else {}
        cols = {v["name"]: v.get("additionalPrinterColumns") or [] for v in versions}
        rt = ResType(group, [v["name"] for v in versions], plural,
                     names.get("singular") or plural, names.get("kind", plural),
                     spec.get("scope", "Namespaced") == "Namespaced",
                     names.get("shortNames") or [], names.get("categories") or [],
                     status="status" in sub, scale=sub.get("scale"), crd=crd["metadata"]["name"],
                     printer_columns=cols)
        self.register(rt)

    # -- events

    def _next_rv(self):
        self.rv += 1
        return str(self.rv)

    def _emit(self, etype, key, ns, obj, old):
        rv = int(obj["metadata"]["resourceVersion"])
        self.history.append((rv, etype, key, ns, copy.deepcopy(obj),
                             copy.deepcopy(old) if old is not None else None))
        while len(self.history) > HISTORY_SIZE:
            self.oldest = self.history.popleft()[0]
        for skey, q in self.subscribers:
            if skey == key:
                q.put(Event(etype, key, copy.deepcopy(obj),
                            copy.deepcopy(old) if old is not None else None))
        self.cond.notify_all()

    def compact(self):
        with self.cond:
            self.history.clear()
            self.oldest = self.rv

    def drop_watches(self):
        with self.cond:
            self.drop_gen += 1
            self.cond.notify_all()

    # -- in-process subscriptions (controllers; no HTTP, no history limit)

    def subscribe(self, group, plural, q=None, replay=False):
        """Every later event of the resource (group, plural) is put on q (a
        new queue.Queue if None; one queue may take several resources) as an
        Event(type, resource, obj, old): type ADDED, MODIFIED or DELETED,
        resource (group, plural), obj and old deep copies (old: the object
        before a MODIFIED, else None).  With replay, an ADDED for each object
        already stored goes first, under the same lock, so that nothing is
        missed or seen twice.  Events are put under the store's lock, in
        resourceVersion order; drop-watches, compaction and --history do not
        touch subscriptions.  Returns q."""
        with self.cond:
            if q is None:
                q = queue.Queue()
            key = (group, plural)
            if replay:
                for _, obj in sorted(self.objs.get(key, {}).items()):
                    q.put(Event("ADDED", key, copy.deepcopy(obj), None))
            self.subscribers.append((key, q))
            return q

    def unsubscribe(self, q):
        """No more events on q (for any resource)."""
        with self.cond:
            self.subscribers = [(k, s) for k, s in self.subscribers if s is not q]

    # -- reads

    def get(self, rt, ns, name):
        with self.cond:
            obj = self.objs.get((rt.group, rt.plural), {}).get((ns or "", name))
            if obj is None:
                raise not_found(rt, name)
            return copy.deepcopy(obj)

    def list(self, rt, ns, lsel, fsel):
        with self.cond:
            items = []
            for (ons, name), obj in sorted(self.objs.get((rt.group, rt.plural), {}).items()):
                if ns and ons != ns:
                    continue
                if labels_match(lsel, obj["metadata"].get("labels")) and fields_match(fsel, obj):
                    items.append(copy.deepcopy(obj))
            return items, str(self.rv)

    # -- writes
    #
    # Each write is split the way kube-apiserver splits it, so that the
    # admission webhooks run where the real ones do and outside the lock:
    # the mutating webhooks see the request's object, prepare_*() does what
    # the registry strategy does (uid, creationTimestamp, generation, status
    # reset), the validating webhooks see that result, and commit_*() stores
    # it.  create() and update() do all of it at once for internal writers
    # (--load, the garbage collector), which bypass admission.

    @staticmethod
    def set_request_namespace(rt, ns, obj):
        """Fill in (or check) metadata.namespace from the URL, in place, as
        the API server does before admission."""
        if not isinstance(obj, dict):
            raise bad_request("the body of the request was not a JSON object")
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        if rt.namespaced:
            if meta.get("namespace") and ns and meta["namespace"] != ns:
                raise bad_request("the namespace of the provided object does not match "
                                  "the namespace sent on the request")
            meta["namespace"] = ns or meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        return obj

    def prepare_create(self, rt, ns, obj):
        """The object a create would store, not stored yet (no resourceVersion)."""
        with self.cond:
            if not isinstance(obj, dict):
                raise bad_request("the body of the request was not a JSON object")
            obj = self.set_request_namespace(rt, ns, copy.deepcopy(obj))
            meta = obj["metadata"]
            ons = meta.get("namespace", "")
            store = self.objs[(rt.group, rt.plural)]
            if not meta.get("name"):
                if not meta.get("generateName"):
                    raise invalid(rt, "", "metadata.name", "Required value: name or "
                                  "generateName is required")
                for _ in range(100):
                    cand = meta["generateName"] + "".join(
                        random.choice(string.ascii_lowercase + string.digits) for _ in range(5))
                    if (ons, cand) not in store:
                        break
                meta["name"] = cand
            name = meta["name"]
            if rt.group == "rbac.authorization.k8s.io":
                # RBAC names are path segments (ValidatePathSegmentName):
                # "grove.io:pcs:x" is valid there, as kube-apiserver allows
                bad = ("may not be '%s'" % name if name in (".", "..") else
                       "may not contain '/'" if "/" in name else
                       "may not contain '%'" if "%" in name else None)
                if bad:
                    raise invalid(rt, name, "metadata.name",
                                  'Invalid value: "%s": %s' % (name, bad))
            elif not NAME_RE.match(name) or len(name) > 253:
                raise invalid(rt, name, "metadata.name", 'Invalid value: "%s": a lowercase '
                              "RFC 1123 subdomain must consist of lower case alphanumeric "
                              "characters, '-' or '.', and must start and end with an "
                              "alphanumeric character" % name)
            if rt.plural == "customresourcedefinitions":
                spec = obj.get("spec", {})
                want = "%s.%s" % (spec.get("names", {}).get("plural"), spec.get("group"))
                if name != want:
                    raise invalid(rt, name, "metadata.name", 'Invalid value: "%s": must be '
                                  'spec.names.plural+"."+spec.group' % name)
            obj["kind"] = rt.kind
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            meta["generation"] = 1
            for k in ("deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion"):
                meta.pop(k, None)
            if rt.plural == "namespaces":
                obj["status"] = {"phase": "Active"}
                self._namespace_label(obj)
            if rt.plural == "customresourcedefinitions":
                obj["status"] = {"acceptedNames": obj.get("spec", {}).get("names", {}),
                                 "storedVersions": [v["name"] for v in obj.get("spec", {}).get(
                                     "versions", []) if v.get("storage")],
                                 "conditions": [
                                     {"type": t, "status": "True", "reason": r,
                                      "lastTransitionTime": meta["creationTimestamp"]}
                                     for t, r in (("NamesAccepted", "NoConflicts"),
                                                  ("Established", "InitialNamesAccepted"))]}
            return obj

    @staticmethod
    def _namespace_label(obj):
        # the real namespace strategy always sets this label, so that a
        # namespaceSelector can select namespaces by name
        meta = obj["metadata"]
        if not isinstance(meta.get("labels"), dict):
            meta["labels"] = {}
        meta["labels"]["kubernetes.io/metadata.name"] = meta["name"]

    def commit_create(self, rt, obj, dry_run=False):
        """Store what prepare_create() returned (409 if the name is taken)."""
        with self.cond:
            obj = copy.deepcopy(obj)
            meta = obj["metadata"]
            ons, name = meta.get("namespace", ""), meta["name"]
            store = self.objs[(rt.group, rt.plural)]
            if (ons, name) in store:
                raise ApiError(409, "AlreadyExists", '%s "%s" already exists' % (rt.gr(), name),
                               name=name, kind=rt.plural, group=rt.group)
            if dry_run:
                meta["resourceVersion"] = str(self.rv)
                return obj
            meta["resourceVersion"] = self._next_rv()
            store[(ons, name)] = obj
            self._emit("ADDED", (rt.group, rt.plural), ons, obj, None)
            # created after all its owners were gone (decided now, under
            # the lock: an owner deleted later, with Orphan propagation
            # say, is the owner's deletion's business, not this one's)
            refs = meta.get("ownerReferences") or []
            if refs and not any(self._owner_exists(r, ons) for r in refs):
                self.gc_queue.put(("dangling", rt, (ons, name)))
            if rt.plural == "customresourcedefinitions":
                self.crd_changed(obj)
            return copy.deepcopy(obj)

    def create(self, rt, ns, obj, dry_run=False):
        with self.cond:
            return self.commit_create(rt, self.prepare_create(rt, ns, obj), dry_run)

    def current_rv(self, rt, ns, name):
        """The stored object's resourceVersion, or None (no copy made)."""
        with self.cond:
            obj = self.objs.get((rt.group, rt.plural), {}).get((ns or "", name))
            return obj["metadata"]["resourceVersion"] if obj is not None else None

    def prepare_update(self, rt, ns, name, new, sub, old):
        """The object a PUT of new over old would store, not stored yet: the
        status reset and generation bump of the registry strategy, the
        resourceVersion precondition.  sub is None or 'status'."""
        with self.cond:
            if not isinstance(new, dict):
                raise bad_request("the body of the request was not a JSON object")
            nmeta = new.get("metadata") or {}
            if nmeta.get("name") not in (None, "", name):
                raise bad_request("the name of the object (%s) does not match the name on the "
                                  "URL (%s)" % (nmeta.get("name"), name))
            if rt.namespaced and nmeta.get("namespace") not in (None, "", ns):
                raise bad_request("the namespace of the provided object does not match the "
                                  "namespace sent on the request")
            want_rv = nmeta.get("resourceVersion")
            if want_rv and want_rv != old["metadata"]["resourceVersion"]:
                raise conflict(rt, name)
            if sub == "status":
                obj = copy.deepcopy(old)
                if "status" in new:
                    obj["status"] = copy.deepcopy(new["status"])
                else:
                    obj.pop("status", None)
            else:
                obj = copy.deepcopy(new)
                obj["kind"] = rt.kind
                meta = obj.setdefault("metadata", {})
                ometa = old["metadata"]
                for k in ("name", "namespace", "uid", "creationTimestamp", "generation",
                          "deletionTimestamp", "deletionGracePeriodSeconds", "generateName"):
                    if k in ometa:
                        meta[k] = ometa[k]
                    else:
                        meta.pop(k, None)
                if rt.status:
                    if "status" in old:
                        obj["status"] = copy.deepcopy(old["status"])
                    else:
                        obj.pop("status", None)
                if old.get("spec") != obj.get("spec"):
                    meta["generation"] = ometa.get("generation", 1) + 1
                if rt.plural == "namespaces":
                    self._namespace_label(obj)
            obj["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            obj.setdefault("apiVersion", old.get("apiVersion"))
            if rt.plural == "customresourcedefinitions" and sub is None and "status" in old:
                obj["status"] = old["status"]
            return obj

    def commit_update(self, rt, ns, name, obj, old, dry_run=False):
        """Store what prepare_update() made of old.  The caller has checked
        (under the lock) that old is still the stored version."""
        with self.cond:
            key = (ns or "", name)
            store = self.objs.get((rt.group, rt.plural), {})
            if self._same(old, obj):
                return copy.deepcopy(old)        # a no-op write changes nothing
            obj = copy.deepcopy(obj)
            if dry_run:
                return obj
            obj["metadata"]["resourceVersion"] = self._next_rv()
            if obj["metadata"].get("deletionTimestamp") and not obj["metadata"].get(
                    "finalizers") and not obj["metadata"].get("deletionGracePeriodSeconds"):
                self._remove(rt, key, obj)
                return copy.deepcopy(obj)
            store[key] = obj
            self._emit("MODIFIED", (rt.group, rt.plural), key[0], obj, old)
            if rt.plural == "customresourcedefinitions":
                self.crd_changed(obj)
            if "foregroundDeletion" in (obj["metadata"].get("finalizers") or []):
                self.gc_queue.put(("foreground", rt, key))
            return copy.deepcopy(obj)

    def update(self, rt, ns, name, new, sub=None, dry_run=False):
        """PUT without admission (internal writers).  sub is None or 'status'."""
        with self.cond:
            if not isinstance(new, dict):
                raise bad_request("the body of the request was not a JSON object")
            old = self.objs.get((rt.group, rt.plural), {}).get((ns or "", name))
            if old is None:
                raise not_found(rt, name)
            obj = self.prepare_update(rt, ns, name, new, sub, old)
            return self.commit_update(rt, ns, name, obj, old, dry_run)

    @staticmethod
    def _same(a, b):
        a, b = copy.deepcopy(a), copy.deepcopy(b)
        for o in (a, b):
            o.pop("apiVersion", None)
            if not o["metadata"].get("finalizers"):
                o["metadata"].pop("finalizers", None)
        return a == b

    @staticmethod
    def check_delete_preconditions(rt, name, old, opts):
        pre = opts.get("preconditions") or {}
        if pre.get("uid") and pre["uid"] != old["metadata"]["uid"]:
            raise conflict(rt, name, "Precondition failed: UID in precondition: %s, UID in "
                           "object meta: %s" % (pre["uid"], old["metadata"]["uid"]))
        if pre.get("resourceVersion") and pre["resourceVersion"] != \
                old["metadata"]["resourceVersion"]:
            raise conflict(rt, name)

    def delete(self, rt, ns, name, opts, dry_run=False):
        with self.cond:
            key = (ns or "", name)
            store = self.objs.get((rt.group, rt.plural), {})
            old = store.get(key)
            if old is None:
                raise not_found(rt, name)
            self.check_delete_preconditions(rt, name, old, opts)
            if dry_run:
                return copy.deepcopy(old)
            if self.pod_deletion is not None:
                graceful = self.pod_deletion(self, rt, key, old, opts)
                if graceful is not None:
                    return graceful
            policy = opts.get("propagationPolicy") or "Background"
            if opts.get("orphanDependents") is True:
                policy = "Orphan"
            obj = copy.deepcopy(old)
            meta = obj["metadata"]
            fins = list(meta.get("finalizers") or [])
            if policy == "Orphan":
                self._orphan(meta["uid"])
            if policy == "Foreground" and self._dependents(meta["uid"]):
                if "foregroundDeletion" not in fins:
                    fins.append("foregroundDeletion")
            if fins:
                if meta.get("deletionTimestamp") and fins == (meta.get("finalizers") or []):
                    return obj                   # already being deleted
                meta.setdefault("deletionTimestamp", now_rfc3339())
                meta.setdefault("deletionGracePeriodSeconds", 0)
                meta["finalizers"] = fins
                meta["resourceVersion"] = self._next_rv()
                store[key] = obj
                self._emit("MODIFIED", (rt.group, rt.plural), key[0], obj, old)
                if "foregroundDeletion" in fins:
                    self.gc_queue.put(("foreground", rt, key))
                return copy.deepcopy(obj)
            meta["resourceVersion"] = self._next_rv()
            self._remove(rt, key, obj)
            return copy.deepcopy(obj)

    def _remove(self, rt, key, obj):
        """Really remove an object (its finalizers are gone)."""
        self.objs[(rt.group, rt.plural)].pop(key, None)
        self._emit("DELETED", (rt.group, rt.plural), key[0], obj, None)
        if rt.plural == "customresourcedefinitions":
            self.crd_changed(obj, deleted=True)
        if rt.plural == "namespaces":
            for (g, pl), objs in self.objs.items():
                t = self.types.get((g, pl))
                if t is not None and t.namespaced:
                    for k in [k for k in objs if k[0] == key[1]]:
                        self.gc_queue.put(("delete", t, k, "Background"))
        self.gc_queue.put(("owner-gone", obj["metadata"]["uid"]))
        for ref in obj["metadata"].get("ownerReferences") or []:
            self.gc_queue.put(("dependent-gone", ref.get("uid")))
