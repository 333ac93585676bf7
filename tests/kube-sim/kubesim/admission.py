# SPDX-License-Identifier: Apache-2.0
"""Admission webhooks

kube-apiserver's MutatingAdmissionWebhook and ValidatingAdmissionWebhook
plugins (v1.33), driven by the stored Mutating/ValidatingWebhookConfiguration
objects.  The configurations are re-read on every write, so that a caBundle
written into one (by groved, say) is used by the very next request; the
real server's informer lags a little behind instead.
"""

import base64
import copy
import json
import os
import sys
import threading
import uuid

from . import state
from .errors import ApiError
from .patch import PatchError, json_patch
from .selectors import labels_match, selector_requirements
from .store import now_rfc3339
from .webhook_call import CallError, post_review


ADMISSION_GROUP = "admissionregistration.k8s.io"


class Attrs:
    """admission.Attributes: one write as the webhooks see it.  obj is
    replaced as the mutating webhooks patch it."""

    def __init__(self, handler, rt, version, sub, op, name, ns, obj, old, dry, options):
        self.rt, self.version, self.sub, self.op = rt, version, sub, op
        self.name, self.obj, self.old, self.dry, self.options = name, obj, old, dry, options
        # The request's namespace: a namespace object's own name when the
        # URL names it (the real request info does the same).
        if rt.namespaced:
            self.ns = ns or ""
        elif rt.group == "" and rt.plural == "namespaces" and op != "CREATE":
            self.ns = name or ""
        else:
            self.ns = ""
        self.user = handler.user
        self.warnings = handler.warnings

    def exempt(self):
        # Webhooks are never called for writes of webhook configurations (and
        # admission policies), so that a broken webhook cannot lock itself in.
        return self.rt.group == ADMISSION_GROUP


class Hook:
    """One webhook of a configuration, with the v1 defaults applied."""

    def __init__(self, kind, cfg_name, index, spec):
        self.kind, self.cfg, self.spec = kind, cfg_name, spec
        self.uid = (kind, cfg_name, index)
        self.name = spec.get("name") or "<unnamed>"
        self.failure_policy = spec.get("failurePolicy") or "Fail"
        self.match_policy = spec.get("matchPolicy") or "Equivalent"
        self.side_effects = spec.get("sideEffects")
        self.reinvocation = spec.get("reinvocationPolicy") or "Never"
        try:
            t = int(spec.get("timeoutSeconds") or 10)
        except (TypeError, ValueError):
            t = 10
        self.timeout = min(max(t, 1), 30)

    # -- matching (predicates/rules, namespace and object selectors)

    @staticmethod
    def _rule_matches(rule, a, version):
        ops = rule.get("operations") or []
        if "*" not in ops and a.op not in ops:
            return False
        groups = rule.get("apiGroups") or []
        if "*" not in groups and a.rt.group not in groups:
            return False
        versions = rule.get("apiVersions") or []
        if "*" not in versions and version not in versions:
            return False
        ok = False
        for r in rule.get("resources") or []:
            res, _, sub = r.partition("/")
            # "podcliquesets" is the main resource only; "podcliquesets/*",
            # "*/scale" and "*/*" reach subresources
            if (res == "*" or res == a.rt.plural) and (sub == "*" or sub == (a.sub or "")):
                ok = True
                break
        if not ok:
            return False
        scope = rule.get("scope") or "*"
        is_ns_obj = a.rt.group == "" and a.rt.plural == "namespaces"
        if scope == "Namespaced":
            return not is_ns_obj and a.ns != ""
        if scope == "Cluster":
            return is_ns_obj or a.ns == ""
        return True

    def _version(self, a):
        """The API version to send the request in, or None if no rule matches.
        matchPolicy Equivalent (the default) also matches a rule that names
        another served version of the same resource; kube-sim has one storage
        for all versions, so the 'conversion' only changes apiVersion."""
        rules = self.spec.get("rules") or []
        if any(self._rule_matches(r, a, a.version) for r in rules):
            return a.version
        if self.match_policy != "Exact":
            for v in a.rt.versions:
                if v != a.version and any(self._rule_matches(r, a, v) for r in rules):
                    return v
        return None

    def _selector(self, field):
        sel = self.spec.get(field)
        if not sel:
            return []
        try:
            return selector_requirements(sel)
        except ValueError as e:
            raise ApiError(500, "InternalError", "Internal error occurred: %s" % e,
                           causes=[{"message": str(e)}])

    def _namespace_matches(self, a):
        is_ns_obj = a.rt.group == "" and a.rt.plural == "namespaces"
        if not a.ns and not is_ns_obj:
            return True                  # cluster-scoped: never exempted
        reqs = self._selector("namespaceSelector")
        if not reqs:
            return True
        if is_ns_obj and not a.sub and a.op in ("CREATE", "UPDATE"):
            labels = (a.obj.get("metadata") or {}).get("labels")
        else:
            with state.STORE.cond:
                nso = state.STORE.objs.get(("", "namespaces"), {}).get(("", a.ns))
                labels = copy.deepcopy(nso["metadata"].get("labels")) if nso else None
            if labels is None and nso is None:
                # kube-sim lets objects live in namespaces that do not exist;
                # such a namespace has only the label every namespace has
                labels = {"kubernetes.io/metadata.name": a.ns}
        return labels_match(reqs, labels)

    def _object_matches(self, a):
        reqs = self._selector("objectSelector")
        if not reqs:
            return True
        for o in (a.obj, a.old):
            if isinstance(o, dict) and labels_match(reqs, (o.get("metadata") or {}).get(
                    "labels")):
                return True
        return False

    def matches(self, a):
        """The version to call with, or None when this webhook is not called.
        matchConditions (CEL) are not evaluated."""
        version = self._version(a)
        if version is None:
            return None
        if not self._namespace_matches(a) or not self._object_matches(a):
            return None
        return version


def configured_hooks(kind):
    """The webhooks of the stored configurations of kind 'mutating' or
    'validating': configurations sorted by name, webhooks in list order."""
    with state.STORE.cond:
        cfgs = state.STORE.objs.get((ADMISSION_GROUP, kind + "webhookconfigurations"), {})
        cfgs = copy.deepcopy([cfgs[k] for k in sorted(cfgs)])
    return [Hook(kind, c["metadata"]["name"], i, h)
            for c in cfgs for i, h in enumerate(c.get("webhooks") or []) if isinstance(h, dict)]


def versioned(obj, a, version):
    """The object as sent to the webhook, in the matched version."""
    if obj is None:
        return None
    out = {}
    if a.sub == "scale":
        out["apiVersion"], out["kind"] = "autoscaling/v1", "Scale"
    else:
        out["apiVersion"], out["kind"] = a.rt.gv(version), a.rt.kind
    for k, v in obj.items():
        if k not in out:
            out[k] = copy.deepcopy(v)
    return out


def build_review(a, uid, version):
    """An admission.k8s.io/v1 AdmissionReview, keys in the real server's order."""
    def gvk(v):
        if a.sub == "scale":
            return {"group": "autoscaling", "version": "v1", "kind": "Scale"}
        return {"group": a.rt.group, "version": v, "kind": a.rt.kind}

    r = {"uid": uid, "kind": gvk(version),
         "resource": {"group": a.rt.group, "version": version, "resource": a.rt.plural}}
    if a.sub:
        r["subResource"] = a.sub
    r["requestKind"] = gvk(a.version)
    r["requestResource"] = {"group": a.rt.group, "version": a.version, "resource": a.rt.plural}
    if a.sub:
        r["requestSubResource"] = a.sub
    if a.name:
        r["name"] = a.name
    if a.ns:
        r["namespace"] = a.ns
    r["operation"] = a.op
    r["userInfo"] = copy.deepcopy(a.user)
    r["object"] = versioned(a.obj, a, version)
    r["oldObject"] = versioned(a.old, a, version)
    r["dryRun"] = bool(a.dry)
    r["options"] = copy.deepcopy(a.options)
    return {"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": r}



def verify_response(review, uid, mutating):
    """webhookrequest.VerifyAdmissionResponse for admission.k8s.io/v1."""
    bad = "received invalid webhook response: "
    if not isinstance(review, dict):
        raise CallError(bad + "webhook response was absent")
    r = review.get("response")
    if not isinstance(r, dict):
        raise CallError(bad + "webhook response was absent")
    if r.get("uid") != uid:
        raise CallError(bad + 'expected response.uid="%s", got "%s"' % (uid, r.get("uid") or ""))
    gv, kind = review.get("apiVersion") or "", review.get("kind") or ""
    if gv != "admission.k8s.io/v1" or kind != "AdmissionReview":
        raise CallError(bad + "expected webhook response of admission.k8s.io/v1, "
                        "Kind=AdmissionReview, got %s, Kind=%s" % (gv if "/" in gv else "/" + gv,
                                                                   kind))
    if mutating:
        if r.get("patch") and r.get("patchType") is None:
            raise CallError(bad + "webhook returned response.patch but not response.patchType")
        if not r.get("patch") and r.get("patchType") is not None:
            raise CallError(bad + "webhook returned response.patchType but not response.patch")
        if r.get("patchType") == "":
            raise CallError(bad + 'webhook returned invalid response.patchType of ""')
    else:
        if r.get("patch"):
            raise CallError(bad + "validating webhooks may not return response.patch")
        if r.get("patchType") is not None:
            raise CallError(bad + "validating webhooks may not return response.patchType")
    return r


def denial(hook_name, result):
    """webhookerrors.ToStatusErr: the webhook's status passed through, with
    its message prefixed by the webhook's name, and a code of at least 400."""
    res = result if isinstance(result, dict) else {}
    code = res.get("code") if isinstance(res.get("code"), int) else 0
    if code < 400:
        code = 400
    status = res.get("status")
    if status in (None, "", "Success"):
        status = "Failure"
    denied = 'admission webhook "%s" denied the request' % hook_name
    if res.get("message"):
        message = "%s: %s" % (denied, res["message"])
    elif res.get("reason"):
        message = "%s: %s" % (denied, res["reason"])
    else:
        message = denied + " without explanation"
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": status,
            "message": message}
    if res.get("reason"):
        body["reason"] = res["reason"]
    d = res.get("details")
    if isinstance(d, dict):
        details = {k: d[k] for k in ("name", "group", "kind", "uid") if d.get(k)}
        causes = []
        for c in d.get("causes") or []:
            if isinstance(c, dict):
                causes.append({k: c[k] for k in ("reason", "message", "field") if c.get(k)})
        if causes:
            details["causes"] = causes
        if d.get("retryAfterSeconds"):
            details["retryAfterSeconds"] = d["retryAfterSeconds"]
        if details:
            body["details"] = details
    body["code"] = code
    return ApiError(code, res.get("reason") or "", message, body=body)


def internal_error(text):
    """apierrors.NewInternalError"""
    return ApiError(500, "InternalError", "Internal error occurred: " + text,
                    causes=[{"message": text}])


def admission_log(hook, a, uid, outcome, message="", rnd=0):
    entry = {"time": now_rfc3339(), "type": hook.kind, "configuration": hook.cfg,
             "webhook": hook.name, "uid": uid, "operation": a.op, "group": a.rt.group,
             "resource": a.rt.plural + ("/" + a.sub if a.sub else ""),
             "namespace": a.ns,
             "name": a.name or ((a.obj or a.old or {}).get("metadata") or {}).get("name", ""),
             "user": a.user.get("username"), "dryRun": bool(a.dry), "round": rnd,
             "outcome": outcome}
    if message:
        entry["message"] = message
    with state.SIM.lock:
        state.SIM.admission_log.append(entry)
    if os.environ.get("KUBE_SIM_VERBOSE"):
        sys.stderr.write("kube-sim: admission %s %s %s %s/%s: %s %s\n" % (
            hook.kind, hook.name, a.op, entry["resource"], entry["name"], outcome, message))


def dry_run_check(hook, a):
    """A dry run reaches only webhooks without side effects."""
    if not a.dry or hook.side_effects in ("None", "NoneOnDryRun"):
        return
    if hook.side_effects is None:
        raise CallError("Webhook SideEffects is nil")
    raise ApiError(400, "BadRequest", 'admission webhook "%s" does not support dry run'
                   % hook.name)


def call_failed(hook, a, uid, err, rnd=0):
    """failurePolicy: Ignore goes on without this webhook, Fail rejects."""
    text = 'failed calling webhook "%s": %s' % (hook.name, err.reason)
    if hook.failure_policy == "Ignore":
        admission_log(hook, a, uid, "ignored-error", text, rnd)
        return
    admission_log(hook, a, uid, "error", text, rnd)
    raise internal_error(text)


def call_mutating(hook, a, version, rnd):
    """One mutating webhook; patches a.obj.  True if the object changed."""
    uid = str(uuid.uuid4())
    try:
        dry_run_check(hook, a)
        r = verify_response(post_review(hook, build_review(a, uid, version)), uid, True)
    except CallError as e:
        call_failed(hook, a, uid, e, rnd)
        return False
    except ApiError as e:
        admission_log(hook, a, uid, "rejected", e.message, rnd)
        raise
    a.warnings.extend(w for w in r.get("warnings") or [] if isinstance(w, str))
    if not r.get("allowed"):
        err = denial(hook.name, r.get("status"))
        admission_log(hook, a, uid, "denied", err.message, rnd)
        raise err
    if not r.get("patch"):
        admission_log(hook, a, uid, "allowed", "", rnd)
        return False
    try:
        ops = json.loads(base64.b64decode(r["patch"], validate=True))
        if not isinstance(ops, list):
            raise ValueError("a JSON patch must be an array")
    except (ValueError, TypeError) as e:
        call_failed(hook, a, uid, CallError("received undecodable patch in webhook response: "
                                            "%s" % e), rnd)
        return False
    if r.get("patchType") != "JSONPatch":
        call_failed(hook, a, uid, CallError('unsupported patch type "%s"'
                                            % r.get("patchType")), rnd)
        return False
    if not ops:
        admission_log(hook, a, uid, "allowed", "", rnd)
        return False
    if a.obj is None:
        admission_log(hook, a, uid, "error", "patch on DELETE", rnd)
        raise internal_error('admission webhook "%s" attempted to modify the object, which '
                             "is not supported for this operation" % hook.name)
    before = versioned(a.obj, a, version)
    try:
        after = json_patch(before, ops)
    except (PatchError, KeyError, ValueError, TypeError, IndexError) as e:
        admission_log(hook, a, uid, "error", "patch failed: %s" % e, rnd)
        raise internal_error(str(e) or e.__class__.__name__)
    if not isinstance(after, dict):
        raise internal_error('the patch of webhook "%s" did not produce an object' % hook.name)
    changed = after != before
    if changed:
        # back to the request's version (kube-sim keeps one storage)
        after["apiVersion"] = versioned(a.obj, a, a.version)["apiVersion"]
        a.obj = after
    admission_log(hook, a, uid, "patched" if changed else "allowed", "", rnd)
    return changed


def admit(a):
    """Mutating admission: returns the (patched) object.

    Reinvocation as kube-apiserver does it: when a webhook changes the
    object, every webhook with reinvocationPolicy IfNeeded that ran before
    it is called once more, in a second (and last) round."""
    if a.exempt():
        return a.obj
    hooks = configured_hooks("mutating")
    invoked, reinvoke, again = set(), set(), False
    for rnd in (0, 1):
        if rnd == 1 and not again:
            break
        for h in hooks:
            version = h.matches(a)
            if version is None or (rnd == 1 and h.uid not in reinvoke):
                continue
            if call_mutating(h, a, version, rnd):
                reinvoke |= invoked
                again = True
            if h.reinvocation == "IfNeeded":
                invoked.add(h.uid)
    return a.obj


def call_validating(hook, a, version):
    """One validating webhook; returns (warnings, ApiError or None)."""
    uid = str(uuid.uuid4())
    try:
        dry_run_check(hook, a)
        r = verify_response(post_review(hook, build_review(a, uid, version)), uid, False)
    except CallError as e:
        try:
            call_failed(hook, a, uid, e)
            return [], None
        except ApiError as err:
            return [], err
    except ApiError as e:
        admission_log(hook, a, uid, "rejected", e.message)
        return [], e
    warnings = [w for w in r.get("warnings") or [] if isinstance(w, str)]
    if not r.get("allowed"):
        err = denial(hook.name, r.get("status"))
        admission_log(hook, a, uid, "denied", err.message)
        return warnings, err
    admission_log(hook, a, uid, "allowed")
    return warnings, None


def validate(a):
    """Validating admission: every matching webhook is called (in parallel,
    as the real server does); the first error in webhook order wins."""
    if a.exempt():
        return
    calls = [(h, v) for h in configured_hooks("validating") for v in [h.matches(a)]
             if v is not None]
    if not calls:
        return
    results = [([], None)] * len(calls)

    def run(i, h, v):
        try:
            results[i] = call_validating(h, a, v)
        except Exception as e:  # keep the request alive whatever happens
            results[i] = ([], internal_error("kube-sim: %r" % e))

    threads = [threading.Thread(target=run, args=(i, h, v), daemon=True)
               for i, (h, v) in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for warnings, _ in results:
        a.warnings.extend(warnings)
    for _, err in results:
        if err is not None:
            raise err
