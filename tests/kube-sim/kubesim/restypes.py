# SPDX-License-Identifier: Apache-2.0
"""Resource types: ResType, the built-in resources kube-sim serves (CRDs
add theirs at run time, see Store.crd_changed), their verbs, the object
name rule and the built-in scale subresources.
"""

import re


class ResType:
    def __init__(self, group, versions, plural, singular, kind, namespaced,
                 short=(), categories=(), status=False, scale=None, crd=None,
                 printer_columns=None):
        self.group, self.versions, self.plural = group, list(versions), plural
        self.singular, self.kind, self.namespaced = singular, kind, namespaced
        self.short, self.categories = list(short), list(categories)
        self.status, self.scale, self.crd = status, scale, crd
        self.printer_columns = printer_columns or {}  # version -> columns

    def gr(self):
        return self.plural + ("." + self.group if self.group else "")

    def gv(self, version):
        return (self.group + "/" + version) if self.group else version


VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

BUILTINS = [
    # group, versions, plural, singular, kind, namespaced, short, status
    ("", ["v1"], "namespaces", "namespace", "Namespace", False, ["ns"], True),
    ("", ["v1"], "pods", "pod", "Pod", True, ["po"], True),
    ("", ["v1"], "services", "service", "Service", True, ["svc"], True),
    ("", ["v1"], "secrets", "secret", "Secret", True, [], False),
    ("", ["v1"], "serviceaccounts", "serviceaccount", "ServiceAccount", True, ["sa"], False),
    ("", ["v1"], "configmaps", "configmap", "ConfigMap", True, ["cm"], False),
    ("", ["v1"], "events", "event", "Event", True, ["ev"], False),
    ("", ["v1"], "nodes", "node", "Node", False, ["no"], True),
    ("", ["v1"], "resourcequotas", "resourcequota", "ResourceQuota", True, ["quota"], True),
    ("scheduling.k8s.io", ["v1"], "priorityclasses", "priorityclass", "PriorityClass", False,
     ["pc"], False),
    ("apps", ["v1"], "deployments", "deployment", "Deployment", True, ["deploy"], True),
    ("autoscaling", ["v2"], "horizontalpodautoscalers", "horizontalpodautoscaler",
     "HorizontalPodAutoscaler", True, ["hpa"], True),
    ("policy", ["v1"], "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget",
     True, ["pdb"], True),
    ("coordination.k8s.io", ["v1"], "leases", "lease", "Lease", True, [], False),
    ("rbac.authorization.k8s.io", ["v1"], "roles", "role", "Role", True, [], False),
    ("rbac.authorization.k8s.io", ["v1"], "rolebindings", "rolebinding", "RoleBinding", True, [], False),
    ("rbac.authorization.k8s.io", ["v1"], "clusterroles", "clusterrole", "ClusterRole", False, [], False),
    ("rbac.authorization.k8s.io", ["v1"], "clusterrolebindings", "clusterrolebinding",
     "ClusterRoleBinding", False, [], False),
    ("resource.k8s.io", ["v1", "v1beta2", "v1beta1"], "resourceclaimtemplates",
     "resourceclaimtemplate", "ResourceClaimTemplate", True, [], False),
    ("resource.k8s.io", ["v1", "v1beta2", "v1beta1"], "resourceclaims",
     "resourceclaim", "ResourceClaim", True, [], True),
    ("resource.k8s.io", ["v1", "v1beta2", "v1beta1"], "resourceslices",
     "resourceslice", "ResourceSlice", False, [], False),
    ("resource.k8s.io", ["v1", "v1beta2", "v1beta1"], "deviceclasses",
     "deviceclass", "DeviceClass", False, [], False),
    ("apiextensions.k8s.io", ["v1"], "customresourcedefinitions", "customresourcedefinition",
     "CustomResourceDefinition", False, ["crd", "crds"], True),
    ("admissionregistration.k8s.io", ["v1"], "mutatingwebhookconfigurations",
     "mutatingwebhookconfiguration", "MutatingWebhookConfiguration", False, [], False),
    ("admissionregistration.k8s.io", ["v1"], "validatingwebhookconfigurations",
     "validatingwebhookconfiguration", "ValidatingWebhookConfiguration", False, [], False),
]

NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


# Built-in scale subresources (a CRD declares its own).  A Deployment's Scale
# carries its spec.selector in the string form, as the real one does.
BUILTIN_SCALE = {
    ("apps", "deployments"): {"specReplicasPath": ".spec.replicas",
                              "statusReplicasPath": ".status.replicas",
                              "labelSelectorPath": ".spec.selector"},
}
