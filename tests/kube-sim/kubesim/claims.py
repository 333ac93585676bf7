# SPDX-License-Identifier: Apache-2.0
"""The resource-claim controller (kube-controller-manager's
pkg/controller/resourceclaim, as in Kubernetes 1.33), an in-process
controller on the store:

- for each pod's spec.resourceClaims[] entry with a
  resourceClaimTemplateName, a ResourceClaim made from the template:
  generateName `<pod>-<claim name>-` (both cut in proportion when longer
  than 57 characters, as the real controller does), the template's
  labels and annotations plus resource.kubernetes.io/pod-claim-name:
  <claim name>, an ownerReference to the pod (controller: true,
  blockOwnerDeletion: true), spec = the template's spec.spec; its name
  recorded in pod.status.resourceClaimStatuses [{name, resourceClaimName}].
  A claim left by an earlier attempt (same annotation, owned by the pod)
  is adopted rather than made twice.  A pod being deleted or done gets
  none; a missing template is retried when the template appears.
  An entry with resourceClaimName names an existing claim: nothing to do.
- status.reservedFor entries of pods that are gone (or replaced, or done)
  are removed; when the last one goes, the allocation is cleared
  (deallocation), and then the scheduler's finalizer
  resource.kubernetes.io/delete-protection is removed;
- an unreserved claim made for a pod that is done or gone is deleted
  (the garbage collector deletes it too, through the owner reference).

ClaimController(store).start() runs it in a daemon thread; stop() ends it.
"""

import copy
import queue
import sys
import threading

from .dra import FINALIZER, GROUP
from .errors import ApiError


POD_CLAIM_ANNOTATION = "resource.kubernetes.io/pod-claim-name"


def pod_done(pod):
    """isPodDone: terminal, or being deleted before it was scheduled."""
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        return True
    return bool(pod["metadata"].get("deletionTimestamp")) and \
        not (pod.get("spec") or {}).get("nodeName")


def generate_name(pod_name, claim_name):
    gen = pod_name + "-" + claim_name + "-"
    base = 57     # room for a hyphen and 5 random characters in 63
    if len(gen) > base:
        gen = pod_name[:len(pod_name) * base // len(gen)] + "-" + \
            claim_name[:len(claim_name) * base // len(gen)]
    return gen


class ClaimController:
    def __init__(self, store):
        self.store = store
        self.q = queue.Queue()
        self.pods_rt = store.types[("", "pods")]
        self.claims_rt = store.types[(GROUP, "resourceclaims")]
        self.templates_rt = store.types[(GROUP, "resourceclaimtemplates")]
        self.thread = None

    def start(self):
        s = self.store
        s.subscribe(GROUP, "resourceclaimtemplates", self.q, replay=True)
        s.subscribe(GROUP, "resourceclaims", self.q, replay=True)
        s.subscribe("", "pods", self.q, replay=True)
        self.thread = threading.Thread(target=self.run, name="claim-controller", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.store.unsubscribe(self.q)
        self.q.put(None)

    def run(self):
        while True:
            ev = self.q.get()
            if ev is None:
                return
            try:
                self.handle(ev)
            except Exception as e:  # keep the controller alive, as a real one retries
                print("kube-sim: claim controller: %r" % e, file=sys.stderr)

    def handle(self, ev):
        kind = ev.resource[1]
        obj = ev.obj
        ns = obj["metadata"].get("namespace", "")
        if kind == "pods":
            if ev.type != "DELETED":
                self.sync_pod(obj)
            for cname in self.claims_of(obj):
                self.sync_claim_named(ns, cname)
            if ev.type == "DELETED" or pod_done(obj):
                # claims reserved for it by uid (a shared claim not named
                # in its status) and claims it owns
                uid = obj["metadata"]["uid"]
                with self.store.cond:
                    names = [n for (cns, n), c in self.store.objs.get(
                        (GROUP, "resourceclaims"), {}).items() if cns == ns and (
                        any(r.get("uid") == uid for r in
                            (c.get("status") or {}).get("reservedFor") or []) or
                        any(r.get("uid") == uid for r in
                            c["metadata"].get("ownerReferences") or []))]
                for n in names:
                    self.sync_claim_named(ns, n)
        elif kind == "resourceclaims":
            if ev.type != "DELETED":
                self.sync_claim(obj)
        elif kind == "resourceclaimtemplates" and ev.type != "DELETED":
            name = obj["metadata"]["name"]
            pods, _ = self.store.list(self.pods_rt, ns, [], [])
            for p in pods:
                if any(pc.get("resourceClaimTemplateName") == name
                       for pc in (p.get("spec") or {}).get("resourceClaims") or []):
                    self.sync_pod(p)

    @staticmethod
    def claims_of(pod):
        out = [s.get("resourceClaimName") for s in
               (pod.get("status") or {}).get("resourceClaimStatuses") or []]
        out += [pc.get("resourceClaimName") for pc in
                (pod.get("spec") or {}).get("resourceClaims") or []]
        return [n for n in out if n]

    # -- pods: claims from templates

    def sync_pod(self, pod):
        if pod["metadata"].get("deletionTimestamp") or pod_done(pod):
            return
        ns, name = pod["metadata"].get("namespace", ""), pod["metadata"]["name"]
        have = {s.get("name"): s.get("resourceClaimName")
                for s in (pod.get("status") or {}).get("resourceClaimStatuses") or []}
        new = {}
        for pc in (pod.get("spec") or {}).get("resourceClaims") or []:
            tmpl = pc.get("resourceClaimTemplateName")
            if not tmpl or pc.get("name") in have:
                continue
            claim = self.find_orphan(pod, pc["name"])
            if claim is None:
                try:
                    t = self.store.get(self.templates_rt, ns, tmpl)
                except ApiError:
                    continue          # retried when the template appears
                claim = self.store.create(self.claims_rt, ns, self.claim_from(pod, pc, t))
            new[pc["name"]] = claim["metadata"]["name"]
        if not new:
            return
        for _ in range(20):
            try:
                cur = self.store.get(self.pods_rt, ns, name)
            except ApiError:
                return
            if cur["metadata"]["uid"] != pod["metadata"]["uid"]:
                return
            st = cur.setdefault("status", {})
            statuses = list(st.get("resourceClaimStatuses") or [])
            known = {s.get("name") for s in statuses}
            statuses += [{"name": k, "resourceClaimName": v} for k, v in new.items()
                         if k not in known]
            st["resourceClaimStatuses"] = statuses
            try:
                self.store.update(self.pods_rt, ns, name, cur, sub="status")
                return
            except ApiError as e:
                if e.code != 409:
                    return

    def find_orphan(self, pod, claim_name):
        uid = pod["metadata"]["uid"]
        ns = pod["metadata"].get("namespace", "")
        with self.store.cond:
            for (cns, _), c in sorted(self.store.objs.get((GROUP, "resourceclaims"), {}).items()):
                if cns != ns:
                    continue
                meta = c["metadata"]
                if (meta.get("annotations") or {}).get(POD_CLAIM_ANNOTATION) == claim_name and \
                        any(r.get("uid") == uid for r in meta.get("ownerReferences") or []):
                    return copy.deepcopy(c)
        return None

    @staticmethod
    def claim_from(pod, pc, template):
        tspec = template.get("spec") or {}
        tmeta = tspec.get("metadata") or {}
        annotations = dict(tmeta.get("annotations") or {})
        annotations[POD_CLAIM_ANNOTATION] = pc["name"]
        meta = {"generateName": generate_name(pod["metadata"]["name"], pc["name"]),
                "annotations": annotations,
                "ownerReferences": [{"apiVersion": "v1", "kind": "Pod",
                                     "name": pod["metadata"]["name"],
                                     "uid": pod["metadata"]["uid"],
                                     "controller": True, "blockOwnerDeletion": True}]}
        if tmeta.get("labels"):
            meta["labels"] = dict(tmeta["labels"])
        api = template.get("apiVersion") or "resource.k8s.io/v1beta2"
        return {"apiVersion": api, "kind": "ResourceClaim", "metadata": meta,
                "spec": copy.deepcopy(tspec.get("spec") or {})}

    # -- claims: reservations, deallocation, deletion

    def sync_claim_named(self, ns, name):
        try:
            claim = self.store.get(self.claims_rt, ns, name)
        except ApiError:
            return
        self.sync_claim(claim)

    def pod_state(self, ns, name, uid):
        """'live', 'done' or 'gone' for the pod of that name and uid."""
        try:
            pod = self.store.get(self.pods_rt, ns, name)
        except ApiError:
            return "gone"
        if pod["metadata"]["uid"] != uid:
            return "gone"
        return "done" if pod_done(pod) else "live"

    def sync_claim(self, claim):
        ns, name = claim["metadata"].get("namespace", ""), claim["metadata"]["name"]
        for _ in range(20):
            try:
                if self._sync_claim(ns, name):
                    return
            except ApiError as e:
                if e.code != 409:
                    return

    def _sync_claim(self, ns, name):
        """One pass; True when nothing is left to do."""
        try:
            claim = self.store.get(self.claims_rt, ns, name)
        except ApiError:
            return True
        status = claim.get("status") or {}
        reserved = status.get("reservedFor") or []
        valid = [r for r in reserved if r.get("resource", "pods") != "pods" or
                 self.pod_state(ns, r.get("name"), r.get("uid")) == "live"]
        if len(valid) != len(reserved):
            new = copy.deepcopy(claim)
            st = new.setdefault("status", {})
            if valid:
                st["reservedFor"] = valid
            else:
                st.pop("reservedFor", None)
                st.pop("allocation", None)     # the last user went: deallocate
            self.store.update(self.claims_rt, ns, name, new, sub="status")
            return False
        fins = claim["metadata"].get("finalizers") or []
        if not status.get("allocation") and FINALIZER in fins:
            new = copy.deepcopy(claim)
            new["metadata"]["finalizers"] = [f for f in fins if f != FINALIZER]
            self.store.update(self.claims_rt, ns, name, new)
            return False
        if not valid and not claim["metadata"].get("deletionTimestamp"):
            owner = [r for r in claim["metadata"].get("ownerReferences") or []
                     if r.get("kind") == "Pod" and r.get("controller")]
            if owner and self.pod_state(ns, owner[0].get("name"), owner[0].get("uid")) != "live":
                self.store.delete(self.claims_rt, ns, name,
                                  {"preconditions": {"uid": claim["metadata"]["uid"]}})
        return True
