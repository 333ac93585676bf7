# SPDX-License-Identifier: Apache-2.0
"""The pods/binding subresource: POST /api/v1/namespaces/NS/pods/NAME/binding
with a v1 Binding, as kube-apiserver's BindingREST does it (the scheduler
binds through bind() below, the same path as the HTTP request).

What kube-apiserver checks and does, in one write of the pod: the
Binding's name must be the pod's; target.kind empty or Node, target.name
set; the Binding's metadata.uid and resourceVersion are preconditions on
the pod; a pod being deleted, already assigned or with scheduling gates
gets 409 Conflict on pods/binding; else spec.nodeName is set, the
Binding's annotations are copied onto the pod, status.nominatedNodeName
is cleared and the condition PodScheduled becomes True.  No admission
webhook is called for a binding (kube-sim shortcut: none of groved's
webhooks matches pods/binding).
"""

import copy

from .errors import ApiError, bad_request, conflict, not_found
from .store import now_rfc3339


def _binding_conflict(name, why):
    return ApiError(409, "Conflict", 'Operation cannot be fulfilled on pods/binding "%s": %s'
                    % (name, why), name=name, kind="pods/binding")


def set_condition(status, cond):
    """podutil.UpdatePodCondition: replace the condition of cond's type,
    keeping lastTransitionTime when the status does not change.  Returns
    whether anything changed."""
    conds = status.setdefault("conditions", [])
    for i, c in enumerate(conds):
        if c.get("type") != cond["type"]:
            continue
        new = dict(cond)
        if c.get("status") == cond.get("status") and c.get("lastTransitionTime"):
            new["lastTransitionTime"] = c["lastTransitionTime"]
        if {k: v for k, v in c.items() if k != "lastProbeTime"} == \
                {k: v for k, v in new.items() if k != "lastProbeTime"}:
            return False
        conds[i] = new
        return True
    conds.append(dict(cond))
    return True


def bind(store, ns, name, node, uid=None, rv=None, annotations=None, dry_run=False):
    """Bind the pod ns/name to node, in one store write.  Raises ApiError
    as kube-apiserver would.  Returns the stored pod."""
    rt = store.types[("", "pods")]
    with store.cond:
        old = store.objs[("", "pods")].get((ns or "", name))
        if old is None:
            raise not_found(rt, name)
        meta = old["metadata"]
        if uid and uid != meta.get("uid"):
            raise conflict(rt, name, "Precondition failed: UID in precondition: %s, UID in "
                           "object meta: %s" % (uid, meta.get("uid")))
        if rv and rv != meta.get("resourceVersion"):
            raise conflict(rt, name)
        spec = old.get("spec") or {}
        if meta.get("deletionTimestamp"):
            raise _binding_conflict(name, "pod %s is being deleted, cannot be assigned to a "
                                    "host" % name)
        if spec.get("nodeName"):
            raise _binding_conflict(name, 'pod %s is already assigned to node "%s"'
                                    % (name, spec["nodeName"]))
        if spec.get("schedulingGates"):
            raise _binding_conflict(name, "pod %s has non-empty .spec.schedulingGates" % name)
        # shallow where unchanged: prepare_update copies what it keeps
        new = dict(old, spec=dict(spec, nodeName=node),
                   status=copy.deepcopy(old.get("status") or {}))
        if annotations:
            new["metadata"] = dict(meta, annotations=dict(meta.get("annotations") or {},
                                                          **annotations))
        status = new["status"]
        status.pop("nominatedNodeName", None)
        set_condition(status, {"type": "PodScheduled", "status": "True",
                               "lastProbeTime": None, "lastTransitionTime": now_rfc3339()})
        prepared = store.prepare_update(rt, ns, name, new, None, old)
        prepared["status"] = status
        return store.commit_update(rt, ns, name, prepared, old, dry_run)


def bind_request(handler, ns, name, q):
    """The HTTP route: POST .../pods/NAME/binding (201 and a Success Status)."""
    body = handler.read_body()
    if not isinstance(body, dict):
        raise bad_request("the body of the request was not a JSON object")
    meta = body.get("metadata") or {}
    if meta.get("name") not in (None, "", name):
        raise bad_request("name in URL does not match name in Binding object")
    if meta.get("namespace") not in (None, "", ns):
        raise bad_request("the namespace of the provided object does not match the "
                          "namespace sent on the request")
    target = body.get("target") or {}
    errs = []
    if target.get("kind") not in (None, "", "Node"):
        errs.append(("target.kind", 'Invalid value: "%s": must be empty or \'Node\''
                     % target.get("kind")))
    if not target.get("name"):
        errs.append(("target.name", "Required value"))
    if errs:
        raise ApiError(422, "Invalid", 'Binding "%s" is invalid: %s' % (
            name, ", ".join("%s: %s" % e for e in errs)), name=name, kind="Binding",
            causes=[{"reason": "FieldValueInvalid", "message": m, "field": f}
                    for f, m in errs])
    from . import state
    bind(state.STORE, ns, name, target["name"], uid=meta.get("uid"),
         rv=meta.get("resourceVersion"), annotations=meta.get("annotations"),
         dry_run=q.get("dryRun") == "All")
    return handler.send_json(201, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                   "status": "Success", "code": 201})
