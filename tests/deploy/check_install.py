#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the install manifests in deploy/ (docs/install.md).

Usage: python3 tests/deploy/check_install.py <repo-root> [--update]

Needs python3 and PyYAML, and kubectl (its built-in kustomize renders the
manifests offline, no cluster needed).

For each install,
  default        deploy/                        (self-managed certificates)
  cert-manager   deploy/overlays/cert-manager
  byo-certs      deploy/overlays/byo-certs
it renders `kubectl kustomize DIR`, compares the output with the golden file
tests/deploy/expected/<install>.yaml (--update rewrites them: review the
diff), and checks the objects:
  * exactly the expected objects, every namespaced one in groved-system, the
    common labels on all, the five CRDs of deploy/crds unchanged, no Secret
    groved-webhook-cert and no Lease (groved, cert-manager or you make
    them);
  * RBAC: no "*" anywhere; exactly the expected rules per install (the
    Secret and webhook-configuration rules only with self-managed
    certificates); every role bound to groved-system/groved and to nothing
    else;
  * webhooks: exactly the expected ones, each with admissionReviewVersions
    [v1], sideEffects None, timeoutSeconds <= 10, matchPolicy Equivalent,
    the Service groved-system/groved-webhook:443, a path of docs/api.md
    section 8, its rules and failurePolicy (PodCliqueSet ones Fail, the
    core authorizer Ignore), the pod webhook's object and namespace
    selectors, the authorizer's objectSelector and no subresource; the
    caBundle left to groved / cert-manager, or yours with byo-certs;
  * the Deployment: 2 replicas, the image, `groved serve` with the mode's
    flags, POD_NAME/POD_NAMESPACE, ports, liveness /healthz and readiness
    /readyz on 9444, requests and limits, the full security context (pod
    and container), topology spread over hostname and zone, a grace period
    longer than groved's shutdown timeout; the Service to 9443; the PDB
    selecting the pods;
  * cert-manager: the inject-ca-from annotation, the Certificate's Secret,
    DNS names and issuer; byo-certs: rendered from a copy of deploy/ with a
    test ca.crt put beside it, every caBundle is that file, and without a
    ca.crt the render fails (a forgotten CA stops the install).
Then a self-test: each check is run on copies of the rendered objects with
one fault put in, and must report it.

Without kubectl the checks run on the golden files alone and the test exits
77 (skipped): the manifests themselves were not rendered.
"""

import base64
import copy
import difflib
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from k8s_yaml import load_all_text  # noqa: E402


# byo-certs needs the user's CA in deploy/overlays/byo-certs/ca.crt, which
# the repository does not ship; the test renders a copy with this one.
TEST_CA = """-----BEGIN CERTIFICATE-----
dGVzdHMvZGVwbG95L2NoZWNrX2luc3RhbGwucHk6IG5vdCBhIGNlcnRpZmljYXRl
-----END CERTIFICATE-----
"""

INSTALLS = [
    # name, kustomize dir, golden file
    ("default", "deploy", "install.yaml"),
    ("cert-manager", "deploy/overlays/cert-manager", "cert-manager.yaml"),
    ("byo-certs", "deploy/overlays/byo-certs", "byo-certs.yaml"),
]

NS = "groved-system"
SA = {"kind": "ServiceAccount", "name": "groved", "namespace": NS}
IMAGE = "ghcr.io/groved/groved:0.1.0"
LABELS = {"app.kubernetes.io/name": "groved",
          "app.kubernetes.io/part-of": "groved"}
CLUSTER_SCOPED = {"Namespace", "CustomResourceDefinition", "ClusterRole",
                  "ClusterRoleBinding", "MutatingWebhookConfiguration",
                  "ValidatingWebhookConfiguration"}
CRDS = {"podcliquesets.grove.io", "podcliques.grove.io",
        "podcliquescalinggroups.grove.io", "clustertopologybindings.grove.io",
        "podgangs.scheduler.grove.io"}

# The endpoints of docs/api.md section 8.
ENDPOINTS = {"/webhooks/default-podcliqueset",
             "/webhooks/validate-podcliqueset", "/webhooks/validate-scale",
             "/webhooks/mutate-pod", "/webhooks/validate-clustertopology",
             "/webhooks/authorizer-webhook"}

SELF_MANAGED_FLAGS = [
    "--leader-elect",
    "--cert-secret=groved-webhook-cert",
    "--cert-service=groved-webhook",
    "--inject-ca-into=mutatingwebhookconfigurations/groved-mutating,"
    "validatingwebhookconfigurations/groved-validating",
]
CERT_MANAGER_ANNOTATION = "cert-manager.io/inject-ca-from"
CERT_DNS = ["groved-webhook.groved-system.svc",
            "groved-webhook.groved-system.svc.cluster.local"]


def _objects(*pairs):
    return set(pairs)


BASE_OBJECTS = _objects(
    ("Namespace", "", NS), ("ServiceAccount", NS, "groved"),
    ("ClusterRole", "", "groved"), ("ClusterRoleBinding", "", "groved"),
    ("ClusterRole", "", "groved-reconcile"),
    ("ClusterRoleBinding", "", "groved-reconcile"),
    ("Role", NS, "groved"), ("RoleBinding", NS, "groved"),
    ("Service", NS, "groved-webhook"), ("Deployment", NS, "groved"),
    ("PodDisruptionBudget", NS, "groved"),
    ("ResourceQuota", NS, "groved-critical-pods"),
    ("MutatingWebhookConfiguration", "", "groved-mutating"),
    ("ValidatingWebhookConfiguration", "", "groved-validating"),
    *[("CustomResourceDefinition", "", n) for n in CRDS])
EXPECTED_OBJECTS = {
    "default": BASE_OBJECTS | _objects(
        ("Role", NS, "groved-webhook-cert"),
        ("RoleBinding", NS, "groved-webhook-cert"),
        ("ClusterRole", "", "groved-webhook-ca"),
        ("ClusterRoleBinding", "", "groved-webhook-ca")),
    "cert-manager": BASE_OBJECTS | _objects(
        ("Issuer", NS, "groved-selfsigned"),
        ("Certificate", NS, "groved-webhook-cert")),
    "byo-certs": BASE_OBJECTS,
}


def rule(groups, resources, verbs, names=()):
    return (frozenset(groups), frozenset(resources), frozenset(names),
            frozenset(verbs))


BASE_RULES = {
    ("ClusterRole", "", "groved"): {
        rule(["grove.io"], ["podcliquesets", "podcliques",
                            "podcliquescalinggroups",
                            "clustertopologybindings"], ["get", "list", "watch"]),
        rule(["resource.k8s.io"], ["resourceclaimtemplates"],
             ["get", "list", "watch"]),
    },
    ("ClusterRole", "", "groved-reconcile"): {
        rule(["grove.io"], ["podcliques", "podcliquescalinggroups"],
             ["create", "patch", "delete"]),
        rule(["scheduler.grove.io"], ["podgangs"],
             ["list", "watch", "create", "patch", "delete"]),
        rule([""], ["services", "serviceaccounts"],
             ["list", "watch", "create", "patch", "delete"]),
        rule(["rbac.authorization.k8s.io"], ["roles", "rolebindings"],
             ["list", "watch", "create", "patch", "delete"]),
        rule(["autoscaling"], ["horizontalpodautoscalers"],
             ["list", "watch", "create", "patch", "delete"]),
        rule([""], ["pods"],
             ["get", "list", "watch", "create", "patch", "delete"]),
        rule([""], ["pods/status"], ["get", "list", "watch"]),
        rule([""], ["secrets"], ["create"]),
        rule([""], ["nodes"], ["list", "watch"]),
        rule(["grove.io"], ["podcliquesets/status", "podcliques/status",
                            "podcliquescalinggroups/status"], ["patch"]),
        rule(["scheduler.grove.io"], ["podgangs/status"], ["patch"]),
        rule([""], ["events"], ["create"]),
        rule(["kai.scheduler"], ["topologies"],
             ["get", "list", "create", "patch"]),
        rule(["grove.io"], ["podcliquesets/finalizers",
                            "podcliques/finalizers",
                            "podcliquescalinggroups/finalizers"], ["update"]),
    },
    ("Role", NS, "groved"): {
        rule(["coordination.k8s.io"], ["leases"], ["create"]),
        rule(["coordination.k8s.io"], ["leases"], ["get", "update"],
             ["groved-leader"]),
    },
}
SELF_MANAGED_RULES = {
    ("Role", NS, "groved-webhook-cert"): {
        rule([""], ["secrets"], ["create"]),
        rule([""], ["secrets"], ["get", "update"], ["groved-webhook-cert"]),
    },
    ("ClusterRole", "", "groved-webhook-ca"): {
        rule(["admissionregistration.k8s.io"],
             ["mutatingwebhookconfigurations"], ["get", "update"],
             ["groved-mutating"]),
        rule(["admissionregistration.k8s.io"],
             ["validatingwebhookconfigurations"], ["get", "update"],
             ["groved-validating"]),
    },
}
EXPECTED_RULES = {
    "default": {**BASE_RULES, **SELF_MANAGED_RULES},
    "cert-manager": BASE_RULES,
    "byo-certs": BASE_RULES,
}


def wrule(groups, resources, ops, scope="Namespaced", versions=("v1",)):
    return (frozenset(groups), frozenset(versions), frozenset(resources),
            frozenset(ops), scope)


G = "grove.io"
GV = ("v1alpha1",)
WEBHOOKS = {
    # name: (configuration, path, failurePolicy, rules)
    "pcs.defaulting.webhooks.grove.io": (
        "MutatingWebhookConfiguration", "/webhooks/default-podcliqueset",
        "Fail", {wrule([G], ["podcliquesets"], ["CREATE", "UPDATE"],
                       versions=GV)}),
    "pod.mutating.webhooks.grove.io": (
        "MutatingWebhookConfiguration", "/webhooks/mutate-pod", "Fail",
        {wrule([""], ["pods"], ["CREATE"])}),
    "pcs.validating.webhooks.grove.io": (
        "ValidatingWebhookConfiguration", "/webhooks/validate-podcliqueset",
        "Fail", {wrule([G], ["podcliquesets"], ["CREATE", "UPDATE"],
                       versions=GV)}),
    "scale.validating.webhooks.grove.io": (
        "ValidatingWebhookConfiguration", "/webhooks/validate-scale", "Fail",
        {wrule([G], ["podcliquesets/scale", "podcliques/scale",
                     "podcliquescalinggroups/scale"], ["UPDATE"],
               versions=GV)}),
    "clustertopology.validating.webhooks.grove.io": (
        "ValidatingWebhookConfiguration",
        "/webhooks/validate-clustertopology", "Fail",
        {wrule([G], ["clustertopologybindings"], ["CREATE", "UPDATE"],
               scope="Cluster", versions=GV)}),
    "authorizer.grove.webhooks.grove.io": (
        "ValidatingWebhookConfiguration", "/webhooks/authorizer-webhook",
        "Fail",
        {wrule([G], ["podcliques", "podcliquescalinggroups"],
               ["CREATE", "UPDATE", "DELETE"], versions=GV),
         wrule(["scheduler.grove.io"], ["podgangs"],
               ["CREATE", "UPDATE", "DELETE"], versions=GV)}),
    "authorizer.core.webhooks.grove.io": (
        "ValidatingWebhookConfiguration", "/webhooks/authorizer-webhook",
        "Ignore",
        {wrule([""], ["services", "secrets", "serviceaccounts"],
               ["UPDATE", "DELETE"]),
         wrule(["rbac.authorization.k8s.io"], ["roles", "rolebindings"],
               ["UPDATE", "DELETE"]),
         wrule([""], ["pods"], ["UPDATE"])}),
}
CONFIG_NAMES = {"MutatingWebhookConfiguration": "groved-mutating",
                "ValidatingWebhookConfiguration": "groved-validating"}


# ---------------------------------------------------------------------------

def key(o):
    md = o.get("metadata") or {}
    return (o.get("kind"), md.get("namespace", "") or "", md.get("name"))


def find(docs, kind, name, ns=None):
    for o in docs:
        if o.get("kind") == kind and (o.get("metadata") or {}).get(
                "name") == name and (ns is None or o["metadata"].get(
                    "namespace") == ns):
            return o
    return None


def dig(o, *path, default=None):
    for p in path:
        if isinstance(o, dict) and p in o:
            o = o[p]
        elif isinstance(o, list) and isinstance(p, int) and p < len(o):
            o = o[p]
        else:
            return default
    return o


def selects(selector, labels, empty_selects_all=False):
    """A LabelSelector (matchLabels and matchExpressions) against labels.
    An empty or absent selector selects everything in a webhook's
    object/namespaceSelector, nothing in a Deployment or PDB."""
    if not selector:
        return empty_selects_all
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        k, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and labels.get(k) in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


class Checker:
    def __init__(self, root, install, docs):
        self.root, self.install, self.docs = root, install, docs
        self.errors = []

    def err(self, msg):
        self.errors.append(f"{self.install}: {msg}")

    # ---- objects, namespaces, labels, CRDs
    def check_objects(self):
        got = {key(o) for o in self.docs}
        want = EXPECTED_OBJECTS[self.install]
        for k in sorted(want - got, key=str):
            self.err(f"missing object {k[0]} {k[1] + '/' if k[1] else ''}"
                     f"{k[2]}")
        for k in sorted(got - want, key=str):
            self.err(f"unexpected object {k[0]} "
                     f"{k[1] + '/' if k[1] else ''}{k[2]}")
        if len(got) != len(self.docs):
            self.err("an object is rendered twice")
        for o in self.docs:
            kind, ns, name = key(o)
            if kind in CLUSTER_SCOPED:
                if ns:
                    self.err(f"cluster-scoped {kind} {name} has namespace "
                             f"{ns}")
            elif ns != NS:
                self.err(f"{kind} {name} is in namespace {ns or '(none)'}, "
                         f"not {NS}")
            labels = dig(o, "metadata", "labels", default={}) or {}
            for k, v in LABELS.items():
                if labels.get(k) != v:
                    self.err(f"{kind} {name} lacks the label {k}: {v}")
            if kind == "Secret" and name == "groved-webhook-cert":
                self.err("the Secret groved-webhook-cert is rendered: "
                         "groved, cert-manager or the user makes it")
            if kind == "Lease":
                self.err(f"Lease {name} is rendered: groved makes it")
        ns = find(self.docs, "Namespace", NS)
        if ns and dig(ns, "metadata", "labels",
                      "pod-security.kubernetes.io/enforce") != "restricted":
            self.err("namespace groved-system does not enforce the "
                     "restricted Pod Security Standard")

    def check_crds(self):
        files = sorted(glob.glob(os.path.join(self.root, "deploy", "crds",
                                              "*.yaml")))
        src = {}
        for f in files:
            if os.path.basename(f) == "kustomization.yaml":
                continue
            for d in load_all_text(open(f, encoding="utf-8").read()):
                src[d["metadata"]["name"]] = d
        if set(src) != CRDS:
            self.err(f"deploy/crds holds {sorted(src)}, want {sorted(CRDS)}")
        for name in sorted(CRDS):
            got = find(self.docs, "CustomResourceDefinition", name)
            if not got:
                self.err(f"CRD {name} missing")
            elif name in src and got.get("spec") != src[name].get("spec"):
                self.err(f"CRD {name}: spec differs from deploy/crds")

    # ---- RBAC
    def check_rbac(self):
        want = EXPECTED_RULES[self.install]
        roles = {}
        for o in self.docs:
            if o["kind"] not in ("Role", "ClusterRole"):
                continue
            k = key(o)
            got = set()
            for i, r in enumerate(o.get("rules") or []):
                for f in ("apiGroups", "resources", "verbs", "resourceNames",
                          "nonResourceURLs"):
                    for v in r.get(f) or []:
                        if "*" in str(v):
                            self.err(f"{k[0]} {k[2]} rules[{i}].{f} has a "
                                     f"wildcard: {v!r}")
                if r.get("nonResourceURLs"):
                    self.err(f"{k[0]} {k[2]} rules[{i}] has nonResourceURLs")
                got.add(rule(r.get("apiGroups") or [],
                             r.get("resources") or [], r.get("verbs") or [],
                             r.get("resourceNames") or []))
            if o.get("aggregationRule"):
                self.err(f"{k[0]} {k[2]} aggregates other roles")
            roles[k] = got
        for k in sorted(set(want) | set(roles), key=str):
            if k not in roles:
                self.err(f"{k[0]} {k[2]}: missing")
            elif k not in want:
                self.err(f"{k[0]} {k[2]}: unexpected role with rules "
                         f"{fmt_rules(roles[k])}")
            elif roles[k] != want[k]:
                self.err(f"{k[0]} {k[2]}: rules {fmt_rules(roles[k])}, "
                         f"want {fmt_rules(want[k])}")
        bound = set()
        for o in self.docs:
            if o["kind"] not in ("RoleBinding", "ClusterRoleBinding"):
                continue
            kind, ns, name = key(o)
            ref = o.get("roleRef") or {}
            rk = (ref.get("kind"), ns if ref.get("kind") == "Role" else "",
                  ref.get("name"))
            if rk not in roles:
                self.err(f"{kind} {name} refers to {rk[0]} {rk[2]}, not "
                         "rendered")
            if kind == "ClusterRoleBinding" and ref.get("kind") != \
                    "ClusterRole":
                self.err(f"{kind} {name} refers to a {ref.get('kind')}")
            subjects = o.get("subjects") or []
            if subjects != [SA]:
                self.err(f"{kind} {name}: subjects {subjects}, want only "
                         f"{SA}")
            bound.add(rk)
        for k in roles:
            if k not in bound:
                self.err(f"{k[0]} {k[2]} is bound to nobody")

    # ---- webhooks
    def check_webhooks(self):
        ca = None
        if self.install == "byo-certs":
            ca = base64.b64encode(TEST_CA.encode()).decode()
        seen = set()
        for kind, cname in CONFIG_NAMES.items():
            cfg = find(self.docs, kind, cname)
            if not cfg:
                continue  # check_objects reports it
            ann = dig(cfg, "metadata", "annotations", default={}) or {}
            if self.install == "cert-manager":
                if ann.get(CERT_MANAGER_ANNOTATION) != \
                        f"{NS}/groved-webhook-cert":
                    self.err(f"{kind} {cname}: annotation "
                             f"{CERT_MANAGER_ANNOTATION}: "
                             f"{ann.get(CERT_MANAGER_ANNOTATION)!r}, want "
                             f"{NS}/groved-webhook-cert")
            elif CERT_MANAGER_ANNOTATION in ann:
                self.err(f"{kind} {cname}: {CERT_MANAGER_ANNOTATION} "
                         "without cert-manager")
            for w in cfg.get("webhooks") or []:
                self.check_webhook(kind, w, ca)
                seen.add(w.get("name"))
        for name in sorted(set(WEBHOOKS) - seen):
            self.err(f"webhook {name}: missing")
        for name in sorted(seen - set(WEBHOOKS)):
            self.err(f"webhook {name}: unexpected")

    def check_webhook(self, kind, w, ca):
        name = w.get("name")
        want = WEBHOOKS.get(name)
        p = f"webhook {name}"
        if want and want[0] != kind:
            self.err(f"{p} is in a {kind}, want {want[0]}")
        if w.get("admissionReviewVersions") != ["v1"]:
            self.err(f"{p}: admissionReviewVersions "
                     f"{w.get('admissionReviewVersions')}, want [v1]")
        if w.get("sideEffects") != "None":
            self.err(f"{p}: sideEffects {w.get('sideEffects')}, want None")
        t = w.get("timeoutSeconds")
        if not isinstance(t, int) or not 1 <= t <= 10:
            self.err(f"{p}: timeoutSeconds {t}, want 1..10")
        if w.get("matchPolicy") != "Equivalent":
            self.err(f"{p}: matchPolicy {w.get('matchPolicy')}, want "
                     "Equivalent")
        cc = w.get("clientConfig") or {}
        svc = cc.get("service") or {}
        if "url" in cc or svc.get("namespace") != NS or \
                svc.get("name") != "groved-webhook" or \
                svc.get("port", 443) != 443:
            self.err(f"{p}: clientConfig {cc}, want the Service "
                     f"{NS}/groved-webhook port 443")
        if svc.get("path") not in ENDPOINTS:
            self.err(f"{p}: path {svc.get('path')} is not an endpoint of "
                     "docs/api.md section 8")
        bundle = cc.get("caBundle")
        if ca is None and bundle:
            self.err(f"{p}: caBundle set in the manifest (groved or "
                     "cert-manager injects it; a re-apply would erase it)")
        if ca is not None and "".join(str(bundle or "").split()) != ca:
            self.err(f"{p}: caBundle is not the ca.crt given to byo-certs")
        for r in w.get("rules") or []:
            for res in r.get("resources") or []:
                if "*" in res or any("*" in str(x) for x in
                                     (r.get("apiGroups") or []) +
                                     (r.get("apiVersions") or []) +
                                     (r.get("operations") or [])):
                    self.err(f"{p}: wildcard in rules {r}")
        if not want:
            return
        _, path, policy, rules = want
        if svc.get("path") != path:
            self.err(f"{p}: path {svc.get('path')}, want {path}")
        if w.get("failurePolicy") != policy:
            self.err(f"{p}: failurePolicy {w.get('failurePolicy')}, want "
                     f"{policy}")
        got = {wrule(r.get("apiGroups") or [], r.get("resources") or [],
                     r.get("operations") or [], r.get("scope", "*"),
                     r.get("apiVersions") or [])
               for r in w.get("rules") or []}
        if got != rules:
            self.err(f"{p}: rules {sorted(map(fmt_wrule, got))}, want "
                     f"{sorted(map(fmt_wrule, rules))}")
        if name == "pod.mutating.webhooks.grove.io":
            os_ = w.get("objectSelector") or {}
            if {"key": "grove.io/podcliquesets", "operator": "Exists"} \
                    not in (os_.get("matchExpressions") or []) or \
                    os_.get("matchLabels"):
                self.err(f"{p}: objectSelector {os_}, want "
                         "grove.io/podcliquesets Exists")
            for n in ("kube-system", NS, "inference"):
                hit = selects(w.get("namespaceSelector"),
                              {"kubernetes.io/metadata.name": n}, True)
                if hit != (n == "inference"):
                    self.err(f"{p}: namespaceSelector "
                             f"{'sends' if hit else 'skips'} namespace {n}")
            if w.get("reinvocationPolicy") != "IfNeeded":
                self.err(f"{p}: reinvocationPolicy "
                         f"{w.get('reinvocationPolicy')}, want IfNeeded")
        if name.startswith("authorizer."):
            sel = w.get("objectSelector")
            managed = {"app.kubernetes.io/managed-by": "grove-operator"}
            if not selects(sel, managed, True) or selects(sel, {}, True):
                self.err(f"{p}: objectSelector {sel}, want "
                         "app.kubernetes.io/managed-by: grove-operator")
            for r in w.get("rules") or []:
                if any("/" in x for x in r.get("resources") or []):
                    self.err(f"{p}: a subresource in {r.get('resources')}")
                if "pods" in (r.get("resources") or []) and \
                        set(r.get("operations") or []) != {"UPDATE"}:
                    self.err(f"{p}: pods {r.get('operations')}, want UPDATE "
                             "only (pod DELETE is always allowed)")
        if name == "authorizer.core.webhooks.grove.io":
            if selects(w.get("namespaceSelector"),
                       {"kubernetes.io/metadata.name": "kube-system"}, True):
                self.err(f"{p}: namespaceSelector sends kube-system")

    # ---- the Deployment, Service, PDB
    def check_deployment(self):
        d = find(self.docs, "Deployment", "groved", NS)
        if not d:
            return
        p = "Deployment groved"
        spec = d.get("spec") or {}
        if spec.get("replicas") != 2:
            self.err(f"{p}: replicas {spec.get('replicas')}, want 2")
        pod = dig(spec, "template", "spec", default={}) or {}
        plabels = dig(spec, "template", "metadata", "labels",
                      default={}) or {}
        if not selects(spec.get("selector"), plabels):
            self.err(f"{p}: selector does not select its pod template")
        if pod.get("serviceAccountName") != "groved":
            self.err(f"{p}: serviceAccountName "
                     f"{pod.get('serviceAccountName')}, want groved")
        if pod.get("automountServiceAccountToken") is False:
            self.err(f"{p}: the service account token is not mounted")
        if pod.get("priorityClassName") != "system-cluster-critical":
            self.err(f"{p}: priorityClassName "
                     f"{pod.get('priorityClassName')}")
        # clusters that limit system-* priority classes (GKE) admit such pods
        # only in a namespace with a quota scoped to that class
        pc = pod.get("priorityClassName")
        quota = [q for q in self.docs if q.get("kind") == "ResourceQuota"
                 and any(e.get("scopeName") == "PriorityClass"
                         and e.get("operator") == "In"
                         and pc in (e.get("values") or [])
                         for e in dig(q, "spec", "scopeSelector",
                                      "matchExpressions", default=[]) or [])]
        if pc and not any(int(dig(q, "spec", "hard", "pods", default=0)) >=
                          spec.get("replicas", 1) + 1 for q in quota):
            self.err(f"{p}: no ResourceQuota in {NS} admits "
                     f"{spec.get('replicas', 1) + 1} pods of priority class "
                     f"{pc}")
        grace = pod.get("terminationGracePeriodSeconds", 30)
        cs = pod.get("containers") or []
        if len(cs) != 1:
            self.err(f"{p}: {len(cs)} containers, want 1")
            return
        c = cs[0]
        sleep = dig(c, "lifecycle", "preStop", "sleep", "seconds",
                    default=0) or 0
        if not grace > 15 + sleep:
            self.err(f"{p}: terminationGracePeriodSeconds {grace} is not "
                     f"more than preStop {sleep}s + groved's 15s "
                     "--shutdown-timeout")
        if c.get("image") != IMAGE:
            self.err(f"{p}: image {c.get('image')}, want {IMAGE}")
        if c.get("command") != ["groved", "serve"]:
            self.err(f"{p}: command {c.get('command')}, want "
                     "[groved, serve]")
        args = c.get("args") or []
        self.check_args(p, args, pod, c)
        env = {e.get("name"): dig(e, "valueFrom", "fieldRef", "fieldPath")
               for e in c.get("env") or []}
        for n, fp in (("POD_NAME", "metadata.name"),
                      ("POD_NAMESPACE", "metadata.namespace"),
                      ("POD_SERVICE_ACCOUNT", "spec.serviceAccountName")):
            if env.get(n) != fp:
                self.err(f"{p}: env {n} is not the downward API {fp}")
        ports = {x.get("containerPort"): x.get("name")
                 for x in c.get("ports") or []}
        if ports.get(9443) != "https" or 9444 not in ports or \
                9445 not in ports:
            self.err(f"{p}: container ports {ports}, want 9443 (https), "
                     "9444, 9445")
        byname = {x.get("name"): x.get("containerPort")
                  for x in c.get("ports") or []}
        for probe, path in (("livenessProbe", "/healthz"),
                            ("readinessProbe", "/readyz")):
            g = dig(c, probe, "httpGet")
            port = dig(g, "port")
            port = byname.get(port, port)
            if not g or g.get("path") != path or port != 9444:
                self.err(f"{p}: {probe} {c.get(probe)}, want httpGet "
                         f"{path} on 9444")
        res = c.get("resources") or {}
        for part in ("requests", "limits"):
            for r in ("cpu", "memory"):
                if not dig(res, part, r):
                    self.err(f"{p}: no resources.{part}.{r}")
        want_c = {"runAsNonRoot": True, "runAsUser": 65532,
                  "runAsGroup": 65532, "readOnlyRootFilesystem": True,
                  "allowPrivilegeEscalation": False}
        sc = c.get("securityContext") or {}
        for k, v in want_c.items():
            if sc.get(k) != v:
                self.err(f"{p}: container securityContext.{k} "
                         f"{sc.get(k)!r}, want {v!r}")
        if dig(sc, "capabilities", "drop") != ["ALL"] or \
                dig(sc, "capabilities", "add"):
            self.err(f"{p}: container capabilities "
                     f"{sc.get('capabilities')}, want drop [ALL]")
        if sc.get("privileged"):
            self.err(f"{p}: privileged")
        psc = pod.get("securityContext") or {}
        for k in ("runAsNonRoot", "runAsUser", "runAsGroup"):
            if psc.get(k) != want_c[k]:
                self.err(f"{p}: pod securityContext.{k} {psc.get(k)!r}, "
                         f"want {want_c[k]!r}")
        for where, s in (("pod", psc), ("container", sc)):
            if dig(s, "seccompProfile", "type") != "RuntimeDefault":
                self.err(f"{p}: {where} seccompProfile "
                         f"{s.get('seccompProfile')}, want RuntimeDefault")
        for f in ("hostNetwork", "hostPID", "hostIPC"):
            if pod.get(f):
                self.err(f"{p}: {f}")
        tsc = pod.get("topologySpreadConstraints") or []
        keys = {t.get("topologyKey") for t in tsc
                if selects(t.get("labelSelector"), plabels)}
        for k in ("kubernetes.io/hostname", "topology.kubernetes.io/zone"):
            if k not in keys:
                self.err(f"{p}: no topologySpreadConstraint over {k} "
                         "selecting its pods")
        self.check_service_pdb(plabels, ports)

    def check_args(self, p, args, pod, c):
        if "--leader-elect" not in args and self.install != "default":
            self.err(f"{p}: args lack --leader-elect")
        if "--no-reconcile" in args:
            self.err(f"{p}: --no-reconcile is set")
        self_managed = [a for a in args if a.split("=")[0] in
                        ("--cert-secret", "--cert-service",
                         "--inject-ca-into", "--self-signed")]
        files = {a.split("=", 1)[0]: a.split("=", 1)[1] for a in args
                 if a.split("=")[0] in ("--tls-cert-file", "--tls-key-file")}
        if self.install == "default":
            for f in SELF_MANAGED_FLAGS:
                if f not in args:
                    self.err(f"{p}: args lack {f}")
            if files:
                self.err(f"{p}: self-managed mode with {sorted(files)}")
            return
        if self_managed:
            self.err(f"{p}: self-managed flags {self_managed} in files mode")
        mounts = {m.get("name"): m.get("mountPath")
                  for m in c.get("volumeMounts") or []}
        vols = {v.get("name"): dig(v, "secret", "secretName")
                for v in pod.get("volumes") or []}
        for flag, fname in (("--tls-cert-file", "tls.crt"),
                            ("--tls-key-file", "tls.key")):
            path = files.get(flag)
            ok = False
            for vname, mp in mounts.items():
                if path and vols.get(vname) == "groved-webhook-cert" and \
                        path == f"{mp.rstrip('/')}/{fname}":
                    ok = True
            if not ok:
                self.err(f"{p}: {flag}={path} is not {fname} of the mounted "
                         "Secret groved-webhook-cert")

    def check_service_pdb(self, plabels, ports):
        s = find(self.docs, "Service", "groved-webhook", NS)
        if s:
            sp = dig(s, "spec", "ports", default=[]) or []
            tgt = [x.get("targetPort") for x in sp if x.get("port") == 443]
            tgt = [ports and {v: k for k, v in ports.items()}.get(t, t)
                   for t in tgt]
            if tgt != [9443] or [x.get("name") for x in sp
                                 if x.get("port") == 443] != ["https"]:
                self.err(f"Service groved-webhook: ports {sp}, want 443 "
                         "(https) -> 9443")
            if not selects({"matchLabels": dig(s, "spec", "selector")},
                           plabels) or not dig(s, "spec", "selector"):
                self.err("Service groved-webhook does not select the "
                         "Deployment's pods")
        pdb = find(self.docs, "PodDisruptionBudget", "groved", NS)
        if pdb:
            if dig(pdb, "spec", "minAvailable") != 1:
                self.err("PodDisruptionBudget groved: minAvailable "
                         f"{dig(pdb, 'spec', 'minAvailable')}, want 1")
            if not selects(dig(pdb, "spec", "selector"), plabels):
                self.err("PodDisruptionBudget groved does not select the "
                         "Deployment's pods")

    # ---- cert-manager
    def check_cert_manager(self):
        if self.install != "cert-manager":
            return
        c = find(self.docs, "Certificate", "groved-webhook-cert", NS)
        if not c:
            return
        spec = c.get("spec") or {}
        if spec.get("secretName") != "groved-webhook-cert":
            self.err(f"Certificate: secretName {spec.get('secretName')}")
        dns = spec.get("dnsNames") or []
        for n in CERT_DNS:
            if n not in dns:
                self.err(f"Certificate: dnsNames {dns} lack {n}")
        ref = spec.get("issuerRef") or {}
        iss = find(self.docs, ref.get("kind", "Issuer"), ref.get("name"), NS)
        if not iss or ref.get("kind", "Issuer") != "Issuer":
            self.err(f"Certificate: issuerRef {ref} is not a rendered "
                     "Issuer")
        elif "selfSigned" not in (iss.get("spec") or {}):
            self.err(f"Issuer {ref.get('name')} is not selfSigned")

    def run(self):
        for f in (self.check_objects, self.check_crds, self.check_rbac,
                  self.check_webhooks, self.check_deployment,
                  self.check_cert_manager):
            f()
        return self.errors


def fmt_rules(rules):
    return sorted("{%s %s%s: %s}" % (",".join(sorted(g)) or '""',
                                     ",".join(sorted(r)),
                                     " [" + ",".join(sorted(n)) + "]"
                                     if n else "", ",".join(sorted(v)))
                  for g, r, n, v in rules)


def fmt_wrule(r):
    g, v, res, ops, scope = r
    return "%s/%s %s %s %s" % (",".join(sorted(g)) or '""',
                               ",".join(sorted(v)), ",".join(sorted(res)),
                               ",".join(sorted(ops)), scope)


# ---------------------------------------------------------------------------
# Self-test: one fault at a time, each must be reported.

def _dep(docs):
    return find(docs, "Deployment", "groved", NS)


def _ctr(docs):
    return _dep(docs)["spec"]["template"]["spec"]["containers"][0]


def _wh(docs, name):
    for o in docs:
        for w in o.get("webhooks") or []:
            if w.get("name") == name:
                return w
    raise KeyError(name)


def _secret(docs):
    docs.append({"apiVersion": "v1", "kind": "Secret",
                 "metadata": {"name": "groved-webhook-cert", "namespace": NS,
                              "labels": dict(LABELS)}})


def _drop_crd(docs):
    docs.remove(find(docs, "CustomResourceDefinition", "podgangs.scheduler.grove.io"))


def _cm_rule(docs):
    find(docs, "Role", "groved", NS)["rules"].append(
        {"apiGroups": [""], "resources": ["secrets"],
         "verbs": ["get"], "resourceNames": ["groved-webhook-cert"]})


def _args(fn):
    def f(docs):
        c = _ctr(docs)
        c["args"] = fn(c["args"])
    return f


MUTATIONS = [
    # (install, fault, mutation, text expected in a reported error)
    ("default", "wildcard verb",
     lambda d: find(d, "ClusterRole", "groved")["rules"][0]["verbs"].append(
         "*"), "wildcard"),
    ("default", "wildcard resourceNames",
     lambda d: find(d, "Role", "groved", NS)["rules"][1].__setitem__(
         "resourceNames", ["*"]), "wildcard"),
    ("default", "an extra verb",
     lambda d: find(d, "ClusterRole", "groved")["rules"][0]["verbs"].append(
         "update"), "ClusterRole groved: rules"),
    ("default", "secret rule without resourceNames",
     lambda d: find(d, "Role", "groved-webhook-cert", NS)["rules"][1].pop(
         "resourceNames"), "Role groved-webhook-cert: rules"),
    ("default", "no webhook-CA role",
     lambda d: d.remove(find(d, "ClusterRole", "groved-webhook-ca")),
     "groved-webhook-ca"),
    ("cert-manager", "a Secret rule in files mode", _cm_rule,
     "Role groved: rules"),
    ("byo-certs", "a binding to another subject",
     lambda d: find(d, "ClusterRoleBinding", "groved")["subjects"].append(
         {"kind": "Group", "name": "system:authenticated"}), "subjects"),
    ("default", "admissionReviewVersions v1beta1",
     lambda d: _wh(d, "pcs.defaulting.webhooks.grove.io").__setitem__(
         "admissionReviewVersions", ["v1", "v1beta1"]),
     "admissionReviewVersions"),
    ("default", "sideEffects Some",
     lambda d: _wh(d, "scale.validating.webhooks.grove.io").__setitem__(
         "sideEffects", "Some"), "sideEffects"),
    ("default", "timeout 30s",
     lambda d: _wh(d, "pod.mutating.webhooks.grove.io").__setitem__(
         "timeoutSeconds", 30), "timeoutSeconds"),
    ("default", "another service",
     lambda d: _wh(d, "pcs.validating.webhooks.grove.io")["clientConfig"][
         "service"].__setitem__("name", "groved"), "clientConfig"),
    ("default", "an unknown path",
     lambda d: _wh(d, "pcs.validating.webhooks.grove.io")["clientConfig"][
         "service"].__setitem__("path", "/validate"), "section 8"),
    ("default", "the wrong endpoint",
     lambda d: _wh(d, "pcs.validating.webhooks.grove.io")["clientConfig"][
         "service"].__setitem__("path", "/webhooks/validate-scale"),
     "want /webhooks/validate-podcliqueset"),
    ("default", "pod webhook without objectSelector",
     lambda d: _wh(d, "pod.mutating.webhooks.grove.io").pop(
         "objectSelector"), "objectSelector"),
    ("default", "pod webhook sends groved-system",
     lambda d: _wh(d, "pod.mutating.webhooks.grove.io")["namespaceSelector"][
         "matchExpressions"][0].__setitem__("values", ["kube-system"]),
     "sends namespace groved-system"),
    ("default", "pod webhook on UPDATE",
     lambda d: _wh(d, "pod.mutating.webhooks.grove.io")["rules"][0][
         "operations"].append("UPDATE"), "rules"),
    ("default", "PodCliqueSet validation Ignore",
     lambda d: _wh(d, "pcs.validating.webhooks.grove.io").__setitem__(
         "failurePolicy", "Ignore"), "failurePolicy"),
    ("default", "core authorizer Fail",
     lambda d: _wh(d, "authorizer.core.webhooks.grove.io").__setitem__(
         "failurePolicy", "Fail"), "failurePolicy"),
    ("default", "authorizer on a subresource",
     lambda d: _wh(d, "authorizer.core.webhooks.grove.io")["rules"][2][
         "resources"].append("pods/status"), "subresource"),
    ("default", "authorizer on pod DELETE",
     lambda d: _wh(d, "authorizer.core.webhooks.grove.io")["rules"][2][
         "operations"].append("DELETE"), "UPDATE only"),
    ("default", "authorizer without objectSelector",
     lambda d: _wh(d, "authorizer.grove.webhooks.grove.io").pop(
         "objectSelector"), "objectSelector"),
    ("default", "core authorizer sends kube-system",
     lambda d: _wh(d, "authorizer.core.webhooks.grove.io").pop(
         "namespaceSelector"), "sends kube-system"),
    ("default", "a webhook dropped",
     lambda d: find(d, "ValidatingWebhookConfiguration",
                    "groved-validating")["webhooks"].pop(),
     "authorizer.core.webhooks.grove.io: missing"),
    ("default", "a caBundle in the manifest",
     lambda d: _wh(d, "pcs.validating.webhooks.grove.io")[
         "clientConfig"].__setitem__("caBundle", "Zm9v"), "caBundle"),
    ("byo-certs", "a caBundle that is not ca.crt",
     lambda d: _wh(d, "pod.mutating.webhooks.grove.io")[
         "clientConfig"].__setitem__("caBundle", "Zm9v"), "ca.crt"),
    ("cert-manager", "no inject-ca-from",
     lambda d: find(d, "ValidatingWebhookConfiguration",
                    "groved-validating")["metadata"].pop("annotations"),
     CERT_MANAGER_ANNOTATION),
    ("default", "inject-ca-from without cert-manager",
     lambda d: find(d, "MutatingWebhookConfiguration", "groved-mutating")[
         "metadata"].__setitem__("annotations",
                                 {CERT_MANAGER_ANNOTATION: "x/y"}),
     "without cert-manager"),
    ("cert-manager", "Certificate without the .svc name",
     lambda d: find(d, "Certificate", "groved-webhook-cert", NS)["spec"][
         "dnsNames"].remove("groved-webhook.groved-system.svc"), "dnsNames"),
    ("cert-manager", "Certificate without the cluster.local name",
     lambda d: find(d, "Certificate", "groved-webhook-cert", NS)["spec"][
         "dnsNames"].remove("groved-webhook.groved-system.svc.cluster.local"),
     "dnsNames"),
    ("default", "1 replica",
     lambda d: _dep(d)["spec"].__setitem__("replicas", 1), "replicas"),
    ("default", "another image",
     lambda d: _ctr(d).__setitem__("image", "groved:latest"), "image"),
    ("default", "liveness on 8080",
     lambda d: _ctr(d)["livenessProbe"]["httpGet"].__setitem__("port", 8080),
     "livenessProbe"),
    ("default", "no readiness probe",
     lambda d: _ctr(d).pop("readinessProbe"), "readinessProbe"),
    ("default", "readiness on /healthz",
     lambda d: _ctr(d)["readinessProbe"]["httpGet"].__setitem__(
         "path", "/healthz"), "readinessProbe"),
    ("default", "no limits",
     lambda d: _ctr(d)["resources"].pop("limits"), "resources.limits"),
    ("default", "writable root",
     lambda d: _ctr(d)["securityContext"].__setitem__(
         "readOnlyRootFilesystem", False), "readOnlyRootFilesystem"),
    ("default", "privilege escalation",
     lambda d: _ctr(d)["securityContext"].pop("allowPrivilegeEscalation"),
     "allowPrivilegeEscalation"),
    ("default", "capabilities kept",
     lambda d: _ctr(d)["securityContext"]["capabilities"].__setitem__(
         "drop", []), "capabilities"),
    ("default", "no pod runAsNonRoot",
     lambda d: _dep(d)["spec"]["template"]["spec"]["securityContext"].pop(
         "runAsNonRoot"), "pod securityContext.runAsNonRoot"),
    ("default", "no container seccomp",
     lambda d: _ctr(d)["securityContext"].pop("seccompProfile"),
     "container seccompProfile"),
    ("default", "no zone spread",
     lambda d: _dep(d)["spec"]["template"]["spec"][
         "topologySpreadConstraints"].pop(), "topology.kubernetes.io/zone"),
    ("default", "short grace period",
     lambda d: _dep(d)["spec"]["template"]["spec"].__setitem__(
         "terminationGracePeriodSeconds", 15), "terminationGracePeriod"),
    ("default", "no quota for the priority class",
     lambda d: find(d, "ResourceQuota", "groved-critical-pods", NS)["spec"][
         "scopeSelector"]["matchExpressions"][0].__setitem__(
             "values", ["system-node-critical"]), "ResourceQuota"),
    ("default", "no POD_NAME",
     lambda d: _ctr(d)["env"].pop(0), "POD_NAME"),
    ("default", "no --leader-elect",
     _args(lambda a: [x for x in a if x != "--leader-elect"]),
     "--leader-elect"),
    ("default", "no --inject-ca-into",
     _args(lambda a: [x for x in a if not x.startswith("--inject")]),
     "--inject-ca-into"),
    ("default", "--no-reconcile",
     _args(lambda a: a + ["--no-reconcile"]), "--no-reconcile"),
    ("cert-manager", "self-managed flags in files mode",
     _args(lambda a: a + ["--cert-secret=groved-webhook-cert"]),
     "self-managed flags"),
    ("byo-certs", "key file outside the mount",
     _args(lambda a: [x if not x.startswith("--tls-key-file") else
                      "--tls-key-file=/tmp/tls.key" for x in a]),
     "--tls-key-file"),
    ("default", "Service to 8443",
     lambda d: find(d, "Service", "groved-webhook", NS)["spec"]["ports"][
         0].__setitem__("targetPort", 8443), "Service groved-webhook: ports"),
    ("default", "Service selects nothing of groved",
     lambda d: find(d, "Service", "groved-webhook", NS)["spec"].__setitem__(
         "selector", {"app": "other"}), "does not select"),
    ("default", "PDB selects other pods",
     lambda d: find(d, "PodDisruptionBudget", "groved", NS)["spec"][
         "selector"]["matchLabels"].__setitem__("app.kubernetes.io/name",
                                                "x"), "PodDisruptionBudget"),
    ("default", "PDB minAvailable 0",
     lambda d: find(d, "PodDisruptionBudget", "groved", NS)["spec"].__setitem__(
         "minAvailable", 0), "minAvailable"),
    ("default", "an object in default",
     lambda d: find(d, "Service", "groved-webhook", NS)[
         "metadata"].__setitem__("namespace", "default"), "in namespace"),
    ("default", "a CRD missing", _drop_crd, "podgangs.scheduler.grove.io"),
    ("default", "a CRD changed",
     lambda d: find(d, "CustomResourceDefinition", "podcliques.grove.io")[
         "spec"].__setitem__("scope", "Cluster"), "differs"),
    ("default", "the certificate Secret rendered", _secret,
     "Secret groved-webhook-cert"),
    ("default", "a label missing",
     lambda d: find(d, "ServiceAccount", "groved", NS)["metadata"][
         "labels"].pop("app.kubernetes.io/part-of"), "lacks the label"),
]


def self_test(root, rendered):
    bad = 0
    for install, fault, mutate, text in MUTATIONS:
        docs = copy.deepcopy(rendered[install])
        mutate(docs)
        errs = Checker(root, install, docs).run()
        if not any(text in e for e in errs):
            bad += 1
            print(f"FAIL: self-test '{fault}' ({install}): no error "
                  f"mentioning {text!r}; got {errs or 'none'}")
    if not bad:
        print(f"ok   self-test: each of {len(MUTATIONS)} faults put into a "
              "copy of the rendered objects is reported")
    return bad


# ---------------------------------------------------------------------------

def render(kubectl, root, d):
    """`kubectl kustomize` of root/d: (returncode, stdout, stderr). The
    byo-certs overlay is rendered from a copy of deploy/ with TEST_CA as its
    ca.crt (and must fail without one)."""
    if not d.endswith("byo-certs"):
        r = subprocess.run([kubectl, "kustomize", os.path.join(root, d)],
                           capture_output=True, text=True, check=False)
        return r.returncode, r.stdout, r.stderr
    tmp = tempfile.mkdtemp(prefix="groved-deploy-")
    try:
        shutil.copytree(os.path.join(root, "deploy"),
                        os.path.join(tmp, "deploy"))
        ca = os.path.join(tmp, d, "ca.crt")
        if os.path.exists(ca):
            os.unlink(ca)  # someone's own CA in their clone
        r = subprocess.run([kubectl, "kustomize", os.path.join(tmp, d)],
                           capture_output=True, text=True, check=False)
        if r.returncode == 0 or "ca.crt" not in r.stderr:
            return 1, "", (f"kubectl kustomize {d} without ca.crt: exit "
                           f"{r.returncode}, want a failure naming ca.crt "
                           "(a forgotten CA must stop the install)")
        with open(ca, "w", encoding="utf-8") as f:
            f.write(TEST_CA)
        r = subprocess.run([kubectl, "kustomize", os.path.join(tmp, d)],
                           capture_output=True, text=True, check=False)
        return r.returncode, r.stdout, r.stderr
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_other_namespace(kubectl, root):
    """An overlay with `namespace: platform` over deploy/ moves the whole
    install (docs/install.md): every namespaced object, the Namespace, the
    RBAC subjects and the webhooks' Service. groved takes its namespace,
    its SANs and its own user from the pod, so nothing else names
    groved-system; the pod webhook's namespaceSelector still does, which
    only keeps the (unlabelled) pods of a namespace of that name out of
    the webhook. Returns the failures."""
    tmp = tempfile.mkdtemp(prefix="groved-ns-")
    try:
        os.makedirs(os.path.join(tmp, "ov"))
        shutil.copytree(os.path.join(root, "deploy"), os.path.join(tmp, "deploy"))
        with open(os.path.join(tmp, "ov", "kustomization.yaml"), "w") as f:
            f.write("namespace: platform\nresources:\n- ../deploy\n")
        r = subprocess.run([kubectl, "kustomize", os.path.join(tmp, "ov")],
                           capture_output=True, text=True, check=False)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if r.returncode != 0:
        print("FAIL: namespace overlay: " + r.stderr)
        return 1
    errs = []
    for o in load_all_text(r.stdout):
        if o["kind"] == "MutatingWebhookConfiguration":
            for w in o["webhooks"]:
                w.pop("namespaceSelector", None)
        text = json.dumps(o)
        if "groved-system" in text:
            errs.append("%s %s still names groved-system" % (o["kind"], o["metadata"]["name"]))
        if o["kind"] == "Namespace" and o["metadata"]["name"] != "platform":
            errs.append("the Namespace is %s" % o["metadata"]["name"])
    for e in errs:
        print("FAIL: namespace overlay: " + e)
    if not errs:
        print("ok   an overlay with namespace: platform moves the whole install")
    return len(errs)


def main(argv):
    args = argv[1:]
    update = "--update" in args
    args = [a for a in args if a != "--update"]
    if len(args) != 1:
        print("usage: check_install.py <repo-root> [--update]",
              file=sys.stderr)
        return 2
    root = os.path.abspath(args[0])
    kubectl = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if update and not kubectl:
        print("--update needs kubectl", file=sys.stderr)
        return 2
    failures = 0
    rendered = {}
    for install, d, golden in INSTALLS:
        gpath = os.path.join(root, "tests", "deploy", "expected", golden)
        if kubectl:
            rc, text, stderr = render(kubectl, root, d)
            if rc != 0:
                print(f"FAIL: {install}: kubectl kustomize {d}:\n{stderr}")
                failures += 1
                continue
            if update:
                with open(gpath, "w", encoding="utf-8") as f:
                    f.write(text)
                print(f"updated {os.path.relpath(gpath, root)}")
            else:
                old = open(gpath, encoding="utf-8").read() \
                    if os.path.exists(gpath) else ""
                if old != text:
                    diff = list(difflib.unified_diff(
                        old.splitlines(), text.splitlines(),
                        f"tests/deploy/expected/{golden}",
                        f"kubectl kustomize {d}", lineterm=""))
                    print(f"FAIL: {install}: the render differs from "
                          f"tests/deploy/expected/{golden} (rerun with "
                          "--update and review the diff):")
                    print("\n".join(diff[:80]))
                    if len(diff) > 80:
                        print(f"... {len(diff) - 80} more diff lines")
                    failures += 1
                else:
                    print(f"ok   {install}: kubectl kustomize {d} equals "
                          f"tests/deploy/expected/{golden}")
        else:
            if not os.path.exists(gpath):
                print(f"FAIL: {install}: no kubectl and no {gpath}")
                failures += 1
                continue
            text = open(gpath, encoding="utf-8").read()
        docs = load_all_text(text)
        rendered[install] = docs
        errs = Checker(root, install, docs).run()
        for e in errs:
            print("FAIL: " + e)
        failures += len(errs)
        if not errs:
            print(f"ok   {install}: {len(docs)} objects, every check holds")
    if len(rendered) == len(INSTALLS):
        failures += self_test(root, rendered)
    if kubectl:
        failures += check_other_namespace(kubectl, root)
    if failures:
        print(f"\n{failures} failure(s)")
        return 1
    if not kubectl:
        print("\nSKIP: kubectl is not installed: the checks ran on the golden "
              "files in tests/deploy/expected/ only; deploy/ itself was not "
              "rendered")
        return 77
    print("\ninstall manifests: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
