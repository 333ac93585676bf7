# SPDX-License-Identifier: Apache-2.0
"""Writes through admission: create, update (PUT, PATCH, status), delete
and the scale subresource, each split around the webhook calls as
kube-apiserver does.  A mixin of Handler.
"""

import copy

from . import state
from .admission import Attrs, admit, validate
from .errors import ApiError, bad_request, conflict, invalid
from .patch import PatchError, json_patch, merge_patch
from .selectors import format_label_selector, get_path, set_path
from .store import Store


class AdmittedWrites:
    """Handler's writes, through admission."""

    def is_apply(self):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        return ctype == "application/apply-patch+yaml"

    def apply_patch(self, current):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        body = self.read_body()
        if ctype in ("application/merge-patch+json", "application/strategic-merge-patch+json",
                     "application/apply-patch+yaml"):
            if not isinstance(body, dict):
                raise bad_request("a merge patch must be a JSON object")
            return merge_patch(current, body)
        if ctype == "application/json-patch+json":
            try:
                return json_patch(current, body)
            except (PatchError, KeyError, ValueError, TypeError) as e:
                raise ApiError(422, "Invalid", "the server rejected our request due to an "
                               "error in our request: %s" % e)
        raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an "
                       "unknown format - accepted media types include: "
                       "application/json-patch+json, application/merge-patch+json, "
                       "application/strategic-merge-patch+json, "
                       "application/apply-patch+yaml")

    # -- writes through admission
    #
    # Each write reads the stored object under the lock, lets go of the lock
    # while the webhooks are called (they may call back into kube-sim, and a
    # webhook may take up to 30 s), and stores the result under the lock only
    # if the object did not change meanwhile.  If it did, the write starts
    # over, as the real server's GuaranteedUpdate does.

    RETRIES = 5

    def write_options(self, kind, q, extra=None):
        """The options object (CreateOptions, UpdateOptions, DeleteOptions)
        webhooks get, from the query and (DeleteOptions) the body."""
        o = {"kind": kind, "apiVersion": "meta.k8s.io/v1"}
        for k, v in (extra or {}).items():
            o[k] = v
        if q.get("dryRun"):
            o["dryRun"] = [q["dryRun"]]
        if kind != "DeleteOptions":
            for k in ("fieldManager", "fieldValidation"):
                if q.get(k):
                    o[k] = q[k]
        return o

    def delete_options(self, q):
        opts = self.read_body() or {}
        if not isinstance(opts, dict):
            raise bad_request("the body of a DELETE must be DeleteOptions")
        if q.get("propagationPolicy"):
            opts["propagationPolicy"] = q["propagationPolicy"]
        if q.get("gracePeriodSeconds"):
            opts["gracePeriodSeconds"] = int(q["gracePeriodSeconds"])
        return opts

    def create(self, rt, version, ns, q, dry):
        body = self.read_body()
        obj = Store.set_request_namespace(rt, ns, copy.deepcopy(body))
        a = Attrs(self, rt, version, None, "CREATE", obj["metadata"].get("name"), ns, obj,
                  None, dry, self.write_options("CreateOptions", q))
        # mutating webhooks see the object before uid, creationTimestamp,
        # generation (and a generated name) are set; validating ones after
        obj = admit(a)
        prepared = state.STORE.prepare_create(rt, ns, obj)
        a.name, a.obj = prepared["metadata"]["name"], prepared
        validate(a)
        return state.STORE.commit_create(rt, prepared, dry)

    def update(self, rt, version, ns, name, sub, q, dry):
        """PUT or PATCH of the object or its status: UPDATE admission."""
        opts = self.write_options("UpdateOptions", q)
        for _ in range(self.RETRIES):
            with state.STORE.cond:
                old = state.STORE.get(rt, ns, name)
                new = self.read_body() if self.command == "PUT" else self.apply_patch(old)
            if not isinstance(new, dict):
                raise bad_request("the body of the request was not a JSON object"
                                  if self.command == "PUT" else
                                  "the patch produced something that is not an object")
            new = copy.deepcopy(new)
            new.setdefault("metadata", {})
            if isinstance(new["metadata"], dict) and rt.namespaced:
                new["metadata"].setdefault("namespace", ns)
            old["apiVersion"] = rt.gv(version)
            a = Attrs(self, rt, version, sub, "UPDATE", name, ns, new, old, dry, opts)
            new = admit(a)
            with state.STORE.cond:
                if state.STORE.current_rv(rt, ns, name) != old["metadata"]["resourceVersion"]:
                    continue
                prepared = state.STORE.prepare_update(rt, ns, name, new, sub, old)
            a.obj = prepared
            validate(a)
            with state.STORE.cond:
                if state.STORE.current_rv(rt, ns, name) != old["metadata"]["resourceVersion"]:
                    continue
                return state.STORE.commit_update(rt, ns, name, prepared, old, dry)
        raise conflict(rt, name)

    def delete(self, rt, version, ns, name, opts, q, dry, collection=False, url_ns=None):
        """DELETE of one object: webhooks get object null and the stored
        object as oldObject (mutating ones may not patch it).  Within a
        deletecollection the review has the request's name and namespace
        (no name; the URL's namespace, if any), as the real one does."""
        extra = {k: opts[k] for k in ("gracePeriodSeconds", "preconditions",
                                      "orphanDependents", "propagationPolicy") if k in opts}
        options = self.write_options("DeleteOptions", q, extra)
        for _ in range(self.RETRIES):
            with state.STORE.cond:
                old = state.STORE.get(rt, ns, name)
                state.STORE.check_delete_preconditions(rt, name, old, opts)
            old["apiVersion"] = rt.gv(version)
            a = Attrs(self, rt, version, None, "DELETE", "" if collection else name,
                      url_ns if collection else ns, None, old, dry, options)
            admit(a)
            validate(a)
            with state.STORE.cond:
                if state.STORE.current_rv(rt, ns, name) != old["metadata"]["resourceVersion"]:
                    continue
                return state.STORE.delete(rt, ns, name, opts, dry)
        raise conflict(rt, name)

    # -- scale subresource

    @staticmethod
    def as_scale(rt, o, for_admission=False):
        """The autoscaling/v1 Scale of an object.  For admission, an unset
        spec.replicas is left out (the real oldObject has `spec: {}`)."""
        sc, m = rt.scale, o["metadata"]
        replicas = get_path(o, sc["specReplicasPath"])
        s = {"kind": "Scale", "apiVersion": "autoscaling/v1",
             "metadata": {k: m[k] for k in ("name", "namespace", "uid",
                                            "resourceVersion", "creationTimestamp") if k in m},
             "spec": {} if replicas is None and for_admission else {"replicas": replicas or 0},
             "status": {"replicas": get_path(o, sc["statusReplicasPath"]) or 0}}
        sel = get_path(o, sc["labelSelectorPath"]) if sc.get("labelSelectorPath") else None
        if isinstance(sel, dict):
            try:
                sel = format_label_selector(sel)
            except ValueError:
                sel = None
        if sel:
            s["status"]["selector"] = sel
        return s

    def scale(self, rt, version, ns, name, q, dry):
        sc = rt.scale
        if self.command == "GET":
            return self.send_json(200, self.as_scale(rt, state.STORE.get(rt, ns, name)))
        if self.command not in ("PUT", "PATCH"):
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this "
                           "method on the requested resource")
        opts = self.write_options("UpdateOptions", q)
        for _ in range(self.RETRIES):
            with state.STORE.cond:
                obj = state.STORE.get(rt, ns, name)
                new = self.read_body() if self.command == "PUT" else \
                    self.apply_patch(self.as_scale(rt, obj))
            if not isinstance(new, dict):
                raise bad_request("the body of the request was not a Scale object")
            # webhooks see Scale objects; the kind and resource of the review
            # are autoscaling/v1 Scale and the parent's resource
            a = Attrs(self, rt, version, "scale", "UPDATE", name, ns, copy.deepcopy(new),
                      self.as_scale(rt, obj, True), dry, opts)
            new = admit(a)
            replicas = (new.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
                raise invalid(rt, name, "spec.replicas", "Invalid value: %r: must be greater "
                              "than or equal to 0" % (replicas,))
            rv = (new.get("metadata") or {}).get("resourceVersion")
            if rv and rv != obj["metadata"]["resourceVersion"]:
                raise conflict(rt, name)
            with state.STORE.cond:
                if state.STORE.current_rv(rt, ns, name) != obj["metadata"]["resourceVersion"]:
                    continue
                parent = copy.deepcopy(obj)
                set_path(parent, sc["specReplicasPath"], replicas)
                parent["metadata"].pop("resourceVersion", None)
                prepared = state.STORE.prepare_update(rt, ns, name, parent, None, obj)
            a.obj = self.as_scale(rt, prepared)
            validate(a)
            with state.STORE.cond:
                if state.STORE.current_rv(rt, ns, name) != obj["metadata"]["resourceVersion"]:
                    continue
                updated = state.STORE.commit_update(rt, ns, name, prepared, obj, dry)
            return self.send_json(200, self.as_scale(rt, updated))
        raise conflict(rt, name)
