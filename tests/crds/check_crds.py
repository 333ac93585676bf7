#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the CustomResourceDefinitions in deploy/crds/ (docs/api.md section 1).

Usage: python3 tests/crds/check_crds.py <repo-root>

Needs python3 and PyYAML only. Reads nothing outside the repository.

What it checks:
  * every CRD file parses, is an apiextensions.k8s.io/v1 CRD with the names,
    group, scope, short name and category `grove` of docs/api.md section 1, one
    version v1alpha1 (served, storage), the groved labels;
  * every schema is structural, following the rules kube-apiserver applies
    (k8s.io/apiextensions-apiserver .../schema/validation.go and
    .../apis/apiextensions/validation): types everywhere except under
    x-kubernetes-preserve-unknown-fields / x-kubernetes-int-or-string,
    items on arrays, no properties + additionalProperties, nothing forbidden
    inside allOf/anyOf/oneOf/not, metadata restricted, list-type/map-keys
    coherent, x-kubernetes-validations well formed;
  * CEL rules kube-apiserver's cost estimator can afford (it refuses a CRD
    whose estimated rule cost is too high, and cannot bound anything that
    reaches an untyped node): no x-kubernetes-validations at or under a
    node that keeps unknown fields or has no type, none on a node whose
    subtree holds such a node (self would reach it), and no
    messageExpression anywhere (string building is what the estimator
    cannot bound); a self-test puts the rule the PodCliqueSet CRD used to
    carry (tests/crds/fixtures/cel-on-untyped.yaml) back on a copy and
    must see it reported at its path, plus other injected rules;
  * status and scale subresources with the paths of docs/api.md section 1, and
    that those paths exist in the schema with the right types;
  * printer columns (PodCliqueSet: REPLICAS, READY, STATUS, UPDATED,
    UPDATING, AGE) and that their jsonPaths exist in the schema;
  * the PodCliqueSet CRD has no CEL rule at all: spec.replicas within
    spec.scaling is groved's to check (webhook V12 and /scale), so the
    user sees the bounds as numbers (docs/crds.md, "No CEL rules");
  * the compact-form design: spec, clique, group and scaling keep unknown
    fields (so the webhook reports typos), value ranges are left to the
    webhook (no minimum/maxLength/... in the PodCliqueSet spec);
  * every PodCliqueSet under tests/fixtures/upstream-samples/ and examples/
    validates against the PodCliqueSet schema (a small OpenAPI validator
    that, like kubectl's default fieldValidation=Strict, treats a field the
    schema would prune as an error), plus a few negative cases;
  * deploy/crds/kustomization.yaml lists exactly the CRD files;
  * with kubectl on PATH: `kubectl kustomize deploy/crds` renders the five
    CRDs (offline), and `kubectl create --dry-run=client` parses each file
    when an API server is reachable (skipped with a note otherwise).
"""

import copy
import glob
import os
import re
import shutil
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from k8s_yaml import Loader, load_all  # noqa: E402


# ---------------------------------------------------------------------------
# Expectations (docs/api.md section 1).

EXPECTED = {
    "grove.io_podcliquesets.yaml": dict(
        group="grove.io", kind="PodCliqueSet", plural="podcliquesets",
        singular="podcliqueset", scope="Namespaced", short=["pcs"],
        scale=(".spec.replicas", ".status.replicas", ".status.hpaPodSelector")),
    "grove.io_podcliques.yaml": dict(
        group="grove.io", kind="PodClique", plural="podcliques",
        singular="podclique", scope="Namespaced", short=["pclq"],
        scale=(".spec.replicas", ".status.replicas", ".status.hpaPodSelector")),
    "grove.io_podcliquescalinggroups.yaml": dict(
        group="grove.io", kind="PodCliqueScalingGroup",
        plural="podcliquescalinggroups", singular="podcliquescalinggroup",
        scope="Namespaced", short=["pcsg"],
        scale=(".spec.replicas", ".status.replicas", ".status.selector")),
    "grove.io_clustertopologybindings.yaml": dict(
        group="grove.io", kind="ClusterTopologyBinding",
        plural="clustertopologybindings", singular="clustertopologybinding",
        scope="Cluster", short=["ct"], scale=None),
    "scheduler.grove.io_podgangs.yaml": dict(
        group="scheduler.grove.io", kind="PodGang", plural="podgangs",
        singular="podgang", scope="Namespaced", short=["pg"], scale=None),
}

PCS_FILE = "grove.io_podcliquesets.yaml"

# Spec and status fields each kind must declare (docs/api.md sections 1, 2, 7).
REQUIRED_FIELDS = {
    "grove.io_podcliquesets.yaml": [
        "spec.replicas", "spec.scaling.minReplicas", "spec.scaling.maxReplicas",
        "spec.scalingGroups[].name", "spec.scalingGroups[].cliques[]",
        "spec.scalingGroups[].replicas[]",
        "spec.podCliques[].name", "spec.podCliques[].startsAfter",
        "spec.podCliques[].replicas", "spec.podCliques[].minAvailable",
        "spec.podCliques[].resourceClaims[].name",
        "spec.podCliques[].resourceClaims[].resourceClaimTemplateName",
        "spec.podCliques[].containers[]",
        "spec.podCliques[].initContainers[]", "spec.podCliques[].volumes[]",
        "spec.podCliques[].nodeSelector", "spec.podCliques[].tolerations[]",
        "spec.podCliques[].affinity", "spec.podCliques[].serviceAccountName",
        "spec.podCliques[].priorityClassName", "spec.podCliques[].schedulerName",
        "spec.podCliques[].terminationGracePeriodSeconds",
        "spec.podCliques[].imagePullSecrets[]",
        "spec.podCliques[].securityContext", "spec.podCliques[].hostNetwork",
        "spec.podCliques[].dnsPolicy", "spec.podCliques[].runtimeClassName",
        "spec.podCliques[].nodeName",
        "spec.podCliques[].topologySpreadConstraints[]",
        "spec.podCliques[].labels", "spec.podCliques[].annotations",
        "spec.updateStrategy",
        "spec.template.cliques[].name", "spec.template.cliques[].labels",
        "spec.template.cliques[].annotations",
        "spec.template.cliques[].topologyConstraint.topologyName",
        "spec.template.cliques[].spec.roleName",
        "spec.template.cliques[].spec.replicas",
        "spec.template.cliques[].spec.minAvailable",
        "spec.template.cliques[].spec.startsAfter[]",
        "spec.template.cliques[].spec.podSpec",
        "spec.template.cliques[].spec.autoScalingConfig.minReplicas",
        "spec.template.cliques[].spec.autoScalingConfig.maxReplicas",
        "spec.template.cliques[].spec.autoScalingConfig.metrics[]",
        "spec.template.cliqueStartupType", "spec.template.priorityClassName",
        "spec.template.headlessServiceConfig.publishNotReadyAddresses",
        "spec.template.terminationDelay",
        "spec.template.topologyConstraint.topologyName",
        "spec.template.topologyConstraint.pack.required",
        "spec.template.topologyConstraint.pack.preferred",
        "spec.template.topologyConstraint.packDomain",
        "spec.template.resourceClaimTemplates[].name",
        "spec.template.resourceClaimTemplates[].templateSpec",
        "spec.template.podCliqueScalingGroups[].name",
        "spec.template.podCliqueScalingGroups[].cliqueNames[]",
        "spec.template.podCliqueScalingGroups[].replicas",
        "spec.template.podCliqueScalingGroups[].minAvailable",
        "spec.template.podCliqueScalingGroups[].scaleConfig.minReplicas",
        "spec.template.podCliqueScalingGroups[].scaleConfig.maxReplicas",
        "spec.template.podCliqueScalingGroups[].scaleConfig.metrics[]",
        "spec.template.podCliqueScalingGroups[].annotations",
        "spec.template.podCliqueScalingGroups[].topologyConstraint.pack.required",
        "status.observedGeneration", "status.replicas",
        "status.availableReplicas", "status.updatedReplicas",
        "status.hpaPodSelector", "status.ready", "status.phase",
        "status.conditions[].type",
    ],
    "grove.io_podcliques.yaml": [
        "spec.roleName", "spec.podSpec", "spec.replicas", "spec.minAvailable",
        "spec.startsAfter[]", "spec.autoScalingConfig.maxReplicas",
        "status.replicas", "status.readyReplicas", "status.scheduledReplicas",
        "status.scheduleGatedReplicas", "status.updatedReplicas",
        "status.hpaPodSelector", "status.conditions[].type",
    ],
    "grove.io_podcliquescalinggroups.yaml": [
        "spec.replicas", "spec.minAvailable", "spec.cliqueNames[]",
        "status.replicas", "status.scheduledReplicas",
        "status.availableReplicas", "status.selector",
        "status.conditions[].type",
    ],
    "grove.io_clustertopologybindings.yaml": [
        "spec.levels[].domain", "spec.levels[].key",
    ],
    "scheduler.grove.io_podgangs.yaml": [
        "spec.podgroups[].name", "spec.podgroups[].podReferences[].namespace",
        "spec.podgroups[].podReferences[].name", "spec.podgroups[].minReplicas",
        "spec.priorityClassName", "spec.topologyConstraint",
        "status.phase", "status.conditions[].type",
    ],
}

ENUMS = {
    (PCS_FILE, "status.phase"): ["Pending", "Starting", "Running", "Degraded"],
    (PCS_FILE, "spec.template.cliqueStartupType"): [
        "CliqueStartupTypeAnyOrder", "CliqueStartupTypeInOrder",
        "CliqueStartupTypeExplicit"],
    ("scheduler.grove.io_podgangs.yaml", "status.phase"):
        ["Pending", "Starting", "Running"],
}

# Compact-form nodes that must keep unknown fields, so that groved's V1 rule
# (not the API server's pruning or strict decoding) reports a typo.
PRESERVING = ["spec", "spec.scaling", "spec.podCliques[]",
              "spec.scalingGroups[]"]


# ---------------------------------------------------------------------------
# Test bookkeeping.

passed = 0
failed = 0
notes = []


def check(name, errors):
    """errors: list of strings (empty = pass)."""
    global passed, failed
    if errors:
        failed += 1
        print(f"FAIL - {name}")
        for e in errors:
            print(f"       {e}")
    else:
        passed += 1
        print(f"ok   - {name}")


# ---------------------------------------------------------------------------
# Structural schema rules.

ALLOWED_KEYS = {
    "description", "type", "format", "title", "default", "maximum",
    "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength",
    "minLength", "pattern", "maxItems", "minItems", "uniqueItems",
    "multipleOf", "enum", "maxProperties", "minProperties", "required",
    "items", "allOf", "oneOf", "anyOf", "not", "properties",
    "additionalProperties", "nullable", "example", "externalDocs",
    "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource",
    "x-kubernetes-int-or-string", "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys", "x-kubernetes-map-type",
    "x-kubernetes-validations",
}
TYPES = {"object", "array", "string", "integer", "number", "boolean"}
JUNCTORS = ("allOf", "anyOf", "oneOf", "not")
# Not allowed inside a junctor (structural rule 3).
JUNCTOR_FORBIDDEN = {"type", "description", "default", "additionalProperties",
                     "nullable", "x-kubernetes-preserve-unknown-fields",
                     "x-kubernetes-embedded-resource",
                     "x-kubernetes-int-or-string", "x-kubernetes-list-type",
                     "x-kubernetes-list-map-keys", "x-kubernetes-map-type"}
INT_OR_STRING_ANYOF = [{"type": "integer"}, {"type": "string"}]
CEL_REASONS = {"FieldValueInvalid", "FieldValueForbidden",
               "FieldValueRequired", "FieldValueDuplicate"}
CEL_KEYS = {"rule", "message", "messageExpression", "reason", "fieldPath",
            "optionalOldSelf"}


def _type_ok(value, typ):
    if typ == "string":
        return isinstance(value, str)
    if typ == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if typ == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if typ == "boolean":
        return isinstance(value, bool)
    if typ == "object":
        return isinstance(value, dict)
    if typ == "array":
        return isinstance(value, list)
    return False


def structural_errors(node, path, errs, *, root=False, in_junctor=False):
    if not isinstance(node, dict):
        errs.append(f"{path}: schema must be a mapping, got {type(node).__name__}")
        return
    for k in node:
        if k not in ALLOWED_KEYS:
            errs.append(f"{path}: keyword {k!r} is not allowed in a CRD schema")
    typ = node.get("type")
    pres = node.get("x-kubernetes-preserve-unknown-fields")
    ios = node.get("x-kubernetes-int-or-string")

    if in_junctor:
        for k in JUNCTOR_FORBIDDEN & set(node):
            errs.append(f"{path}: {k!r} must not be set inside allOf/anyOf/oneOf/not")
    else:
        if typ is None and not pres and not ios:
            errs.append(f"{path}: type is required (no x-kubernetes-preserve-unknown-fields"
                        " or x-kubernetes-int-or-string here)")
    if typ is not None and typ not in TYPES:
        errs.append(f"{path}: type {typ!r} is not one of {sorted(TYPES)}")
    if root and typ != "object":
        errs.append(f"{path}: the root must be type object")
    if pres is not None and pres is not True:
        errs.append(f"{path}: x-kubernetes-preserve-unknown-fields must be true or absent")
    if ios is not None:
        if ios is not True:
            errs.append(f"{path}: x-kubernetes-int-or-string must be true or absent")
        if typ is not None:
            errs.append(f"{path}: x-kubernetes-int-or-string must not set type")
    if node.get("x-kubernetes-embedded-resource"):
        if typ != "object":
            errs.append(f"{path}: x-kubernetes-embedded-resource needs type object")
        if "properties" not in node and not pres:
            errs.append(f"{path}: x-kubernetes-embedded-resource needs properties"
                        " or x-kubernetes-preserve-unknown-fields")

    # object keywords
    if "properties" in node:
        if not isinstance(node["properties"], dict):
            errs.append(f"{path}: properties must be a mapping")
        elif typ not in (None, "object"):
            errs.append(f"{path}: properties on a non-object type {typ!r}")
    if "additionalProperties" in node:
        ap = node["additionalProperties"]
        if "properties" in node:
            errs.append(f"{path}: additionalProperties and properties are mutually exclusive")
        if ap is False:
            errs.append(f"{path}: additionalProperties: false is forbidden in a structural schema")
        elif isinstance(ap, dict):
            structural_errors(ap, path + ".additionalProperties", errs,
                              in_junctor=in_junctor)
        elif ap is not True:
            errs.append(f"{path}: additionalProperties must be a schema")
        if pres:
            errs.append(f"{path}: additionalProperties and"
                        " x-kubernetes-preserve-unknown-fields are mutually exclusive")
    if isinstance(node.get("properties"), dict):
        for name, sub in node["properties"].items():
            structural_errors(sub, f"{path}.{name}", errs, in_junctor=in_junctor)
    if "required" in node:
        req = node["required"]
        if not isinstance(req, list) or not all(isinstance(r, str) for r in req):
            errs.append(f"{path}: required must be a list of strings")
        elif not in_junctor and isinstance(node.get("properties"), dict):
            for r in req:
                if r not in node["properties"] and not pres:
                    errs.append(f"{path}: required field {r!r} is not a property")

    # array keywords
    if typ == "array" and "items" not in node and not in_junctor:
        errs.append(f"{path}: an array must specify items")
    if "items" in node:
        if isinstance(node["items"], list):
            errs.append(f"{path}: items must be a single schema, not a list")
        else:
            if typ not in (None, "array"):
                errs.append(f"{path}: items on a non-array type {typ!r}")
            structural_errors(node["items"], path + "[]", errs, in_junctor=in_junctor)
    if node.get("uniqueItems") is True:
        errs.append(f"{path}: uniqueItems: true is forbidden (use x-kubernetes-list-type: set)")

    # list / map types
    lt = node.get("x-kubernetes-list-type")
    if lt is not None:
        if typ != "array":
            errs.append(f"{path}: x-kubernetes-list-type needs type array")
        if lt not in ("atomic", "set", "map"):
            errs.append(f"{path}: x-kubernetes-list-type {lt!r} unknown")
        items = node.get("items") if isinstance(node.get("items"), dict) else {}
        if lt == "map":
            keys = node.get("x-kubernetes-list-map-keys") or []
            if not keys:
                errs.append(f"{path}: list-type map needs x-kubernetes-list-map-keys")
            if items.get("type") != "object":
                errs.append(f"{path}: list-type map needs object items")
            props = items.get("properties") or {}
            for k in keys:
                if k not in props:
                    errs.append(f"{path}: list-map-key {k!r} is not an item property")
                elif k not in (items.get("required") or []) and "default" not in props[k]:
                    errs.append(f"{path}: list-map-key {k!r} must be required or defaulted")
                elif props[k].get("type") not in ("string", "integer", "number", "boolean"):
                    errs.append(f"{path}: list-map-key {k!r} must be scalar")
        if lt == "set" and items.get("type") in ("object", "array"):
            errs.append(f"{path}: list-type set needs scalar items")
    if "x-kubernetes-list-map-keys" in node and lt != "map":
        errs.append(f"{path}: x-kubernetes-list-map-keys without list-type map")
    mt = node.get("x-kubernetes-map-type")
    if mt is not None:
        if typ != "object":
            errs.append(f"{path}: x-kubernetes-map-type needs type object")
        if mt not in ("granular", "atomic"):
            errs.append(f"{path}: x-kubernetes-map-type {mt!r} unknown")

    # enum values must match the type
    if "enum" in node:
        if not isinstance(node["enum"], list) or not node["enum"]:
            errs.append(f"{path}: enum must be a non-empty list")
        elif typ:
            for v in node["enum"]:
                if not _type_ok(v, typ):
                    errs.append(f"{path}: enum value {v!r} is not of type {typ}")
    if "default" in node and typ and not _type_ok(node["default"], typ):
        errs.append(f"{path}: default {node['default']!r} is not of type {typ}")

    # CEL
    if "x-kubernetes-validations" in node:
        vals = node["x-kubernetes-validations"]
        if not isinstance(vals, list):
            errs.append(f"{path}: x-kubernetes-validations must be a list")
        else:
            for i, v in enumerate(vals):
                p = f"{path}.x-kubernetes-validations[{i}]"
                if not isinstance(v, dict) or not isinstance(v.get("rule"), str) or not v["rule"].strip():
                    errs.append(f"{p}: rule must be a non-empty string")
                    continue
                for k in v:
                    if k not in CEL_KEYS:
                        errs.append(f"{p}: unknown key {k!r}")
                if "reason" in v and v["reason"] not in CEL_REASONS:
                    errs.append(f"{p}: reason {v['reason']!r} not one of {sorted(CEL_REASONS)}")
                if "message" in v and ("\n" in v["message"] or not v["message"].strip()):
                    errs.append(f"{p}: message must be one non-empty line")
                if "fieldPath" in v and not str(v["fieldPath"]).startswith("."):
                    errs.append(f"{p}: fieldPath must start with '.'")

    # junctors
    for j in JUNCTORS:
        if j not in node:
            continue
        subs = node[j] if j != "not" else [node[j]]
        if not isinstance(subs, list):
            errs.append(f"{path}: {j} must be a list")
            continue
        for i, sub in enumerate(subs):
            if ios and j == "anyOf" and node[j] == INT_OR_STRING_ANYOF:
                continue  # the one allowed int-or-string pattern
            structural_errors(sub, f"{path}.{j}[{i}]", errs, in_junctor=True)
            if isinstance(sub, dict):
                outside = node.get("properties") or {}
                for pname in (sub.get("properties") or {}):
                    if pname not in outside:
                        errs.append(f"{path}.{j}[{i}]: property {pname!r} must also be"
                                    " specified outside the junctor")
                if "items" in sub and "items" not in node:
                    errs.append(f"{path}.{j}[{i}]: items must also be specified"
                                " outside the junctor")


def metadata_errors(schema):
    errs = []
    md = (schema.get("properties") or {}).get("metadata")
    if md is None:
        return errs
    if set(md) - {"type", "description", "properties"}:
        errs.append(f"metadata: only type (and restrictions on name/generateName)"
                    f" are allowed, found {sorted(set(md) - {'type', 'description'})}")
    if md.get("type") != "object":
        errs.append("metadata: must be type object")
    for k in (md.get("properties") or {}):
        if k not in ("name", "generateName"):
            errs.append(f"metadata.{k}: only name and generateName may be restricted")
    return errs


def count_nodes(node):
    if not isinstance(node, dict):
        return 0
    n = 1
    for sub in (node.get("properties") or {}).values():
        n += count_nodes(sub)
    if isinstance(node.get("items"), dict):
        n += count_nodes(node["items"])
    if isinstance(node.get("additionalProperties"), dict):
        n += count_nodes(node["additionalProperties"])
    return n


# ---------------------------------------------------------------------------
# CEL rules kube-apiserver can afford.
#
# kube-apiserver estimates the cost of every x-kubernetes-validations rule
# and messageExpression from the schema when a CRD is written, and refuses
# the CRD when one is too expensive or when they all add up past the
# schema's limit (k8s.io/apiextensions-apiserver .../apis/apiextensions/
# validation, "estimated rule cost exceeds budget", "contributed to
# estimated rule cost total exceeding cost limit for entire OpenAPIv3
# schema"). Below a node that keeps unknown fields, or has no type, values
# are dynamic: the estimator assumes the worst (any size up to the request
# limit), and string building in a messageExpression over them is
# unbounded. The PodCliqueSet CRD's old rule on `spec` failed exactly so
# on kube-apiserver 1.33 (tests/crds/fixtures/cel-on-untyped.yaml). No
# CEL estimator runs here (nor in kube-sim), so the check is structural
# and deliberately stricter than kube: a rule must not sit at or under an
# untyped node, must not see one below it, and must not build its message.

PRESERVE = "x-kubernetes-preserve-unknown-fields"
RULES = "x-kubernetes-validations"


def _untyped(node):
    """A node whose values CEL sees as dynamic: it keeps unknown fields or
    has no type (x-kubernetes-int-or-string, or preserve alone)."""
    return node.get(PRESERVE) is True or "type" not in node


def _children(node, path):
    """(path, schema) of the nodes a value below node is checked by; an
    additionalProperties: true map yields (path, None): untyped values."""
    props = node.get("properties")
    for name, sub in (props.items() if isinstance(props, dict) else ()):
        yield f"{path}.{name}", sub
    if isinstance(node.get("items"), dict):
        yield path + "[]", node["items"]
    ap = node.get("additionalProperties")
    if isinstance(ap, dict):
        yield path + ".additionalProperties", ap
    elif ap is True:
        yield path + ".additionalProperties", None


def _untyped_below(node, path):
    """Path of the first untyped node strictly below node, or None."""
    for sub_path, sub in _children(node, path):
        if not isinstance(sub, dict) or _untyped(sub):
            return sub_path
        found = _untyped_below(sub, sub_path)
        if found:
            return found
    return None


def cel_cost_errors(node, path, errs, untyped_at=None, in_junctor=False):
    """Rules kube-apiserver's cost estimator would refuse or may refuse.
    untyped_at: the path of the untyped node above (or at) this one."""
    if not isinstance(node, dict):
        return
    if untyped_at is None and not in_junctor and _untyped(node):
        untyped_at = path
    rules = node.get(RULES)
    if isinstance(rules, list) and rules:
        at = f"{path}.{RULES}"
        why = ("kube-apiserver's CEL cost estimator cannot bound a rule over"
               " values the schema does not type, and may refuse the CRD")
        if untyped_at == path:
            errs.append(f"{at}: a CEL rule on a node that keeps unknown fields or"
                        f" has no type: {why}")
        elif untyped_at is not None:
            errs.append(f"{at}: a CEL rule under {untyped_at}, which keeps"
                        f" unknown fields or has no type: {why}")
        else:
            below = _untyped_below(node, path)
            if below:
                errs.append(f"{at}: the rule's self reaches {below}, which keeps"
                            f" unknown fields or has no type: {why}")
        for i, r in enumerate(rules):
            if isinstance(r, dict) and "messageExpression" in r:
                errs.append(f"{at}[{i}].messageExpression: string building in a"
                            " messageExpression is what the cost estimator cannot"
                            " bound; use a fixed message (or leave the check to"
                            " groved's webhook)")
    for sub_path, sub in _children(node, path):
        cel_cost_errors(sub, sub_path, errs, untyped_at, in_junctor)
    for j in JUNCTORS:
        subs = node.get(j)
        subs = [subs] if j == "not" else subs
        if isinstance(subs, list):
            for i, sub in enumerate(subs):
                cel_cost_errors(sub, f"{path}.{j}[{i}]", errs, untyped_at, True)


def count_rules(node):
    if not isinstance(node, dict):
        return 0
    n = len(node.get(RULES) or []) if isinstance(node.get(RULES), list) else 0
    for _, sub in _children(node, ""):
        n += count_rules(sub)
    for j in JUNCTORS:
        subs = node.get(j)
        for sub in ([subs] if j == "not" else subs if isinstance(subs, list) else []):
            n += count_rules(sub)
    return n


# ---------------------------------------------------------------------------
# Schema navigation.

def schema_at(schema, dotted):
    """'spec.podCliques[].name' -> the schema node, or None."""
    node = schema
    for part in [p for p in dotted.split(".") if p]:
        arrays = 0
        while part.endswith("[]"):
            part, arrays = part[:-2], arrays + 1
        if part:
            props = node.get("properties") or {}
            if part not in props:
                return None
            node = props[part]
        for _ in range(arrays):
            if not isinstance(node.get("items"), dict):
                return None
            node = node["items"]
    return node


def jsonpath_to_dotted(jp):
    """.spec.levels[*].domain -> spec.levels[].domain, and a filter on a
    field, .status.conditions[?(@.type=="Ready")].status ->
    status.conditions[].status; None if not simple."""
    if not jp.startswith("."):
        return None
    s = jp[1:].replace("[*]", "[]")
    s = re.sub(r'\[\?\(@\.[A-Za-z0-9_]+=="[A-Za-z0-9_]+"\)\]', "[]", s)
    if re.search(r"[^A-Za-z0-9_.\[\]]", s) or re.search(r"\[[^\]]", s):
        return None
    return s


# ---------------------------------------------------------------------------
# A small OpenAPI validator, as the API server applies a CRD schema (with
# kubectl's default fieldValidation=Strict: a field that would be pruned is
# an error).

def validate(value, node, path, errs):
    if value is None:
        return  # non-nullable nulls are pruned by the API server
    if node.get("x-kubernetes-int-or-string"):
        if not (_type_ok(value, "integer") or _type_ok(value, "string")):
            errs.append(f"{path}: Invalid value: must be an integer or a string")
            return
    typ = node.get("type")
    if typ and not _type_ok(value, typ):
        errs.append(f"{path}: Invalid value: {type(value).__name__}: must be of type {typ}")
        return
    if "enum" in node and value not in node["enum"]:
        errs.append(f"{path}: Unsupported value: {value!r}: supported values: {node['enum']}")
    pres = node.get("x-kubernetes-preserve-unknown-fields")
    if isinstance(value, dict):
        props = node.get("properties") or {}
        for r in node.get("required") or []:
            if r not in value:
                errs.append(f"{path}.{r}: Required value")
        for k, v in value.items():
            sub = f"{path}.{k}" if path else k
            if not path and k == "metadata":
                # the API server checks ObjectMeta itself; the schema may
                # only restrict name and generateName
                if not isinstance(v, dict):
                    errs.append("metadata: Invalid value: must be an object")
                continue
            if k in props:
                validate(v, props[k], sub, errs)
            elif isinstance(node.get("additionalProperties"), dict):
                validate(v, node["additionalProperties"], sub, errs)
            elif node.get("additionalProperties") is True or pres:
                pass
            elif typ == "object" or props:
                errs.append(f"{sub}: unknown field {k!r}")
    elif isinstance(value, list):
        if isinstance(node.get("items"), dict):
            for i, v in enumerate(value):
                validate(v, node["items"], f"{path}[{i}]", errs)


def validate_object(obj, schema):
    errs = []
    validate(obj, schema, "", errs)
    return errs


# ---------------------------------------------------------------------------
# Self-test of the CEL cost rules: rules put on copies of the CRDs.

CEL_FIXTURE = os.path.join("tests", "crds", "fixtures", "cel-on-untyped.yaml")


def _with_rules(schema_of, fname, dotted, rules):
    """A copy of fname's openAPIV3Schema with rules at dotted ("" is the
    root), or None when fname or the path is missing."""
    schema = copy.deepcopy(schema_of(fname))
    node = schema_at(schema, dotted) if isinstance(schema, dict) else None
    if node is None:
        return None
    node[RULES] = copy.deepcopy(rules)
    return schema


def cel_self_tests(root, schema_of):
    fixture = os.path.join(root, CEL_FIXTURE)
    try:
        fx = load_all(fixture)[0]
        old_rules, old_path = fx[RULES], fx["path"]
    except (OSError, yaml.YAMLError, IndexError, KeyError, TypeError) as e:
        check(f"self-test: {CEL_FIXTURE} holds the old rule", [str(e)])
        return
    at = "openAPIV3Schema." + old_path + "." + RULES
    fixed_msg = [{k: v for k, v in r.items() if k != "messageExpression"}
                 for r in old_rules]
    cases = [
        # label, file, where, rules, texts every one of which some error has
        ("the PodCliqueSet CRD with its old rule (" + CEL_FIXTURE + ")",
         PCS_FILE, old_path, old_rules,
         [at + ": a CEL rule on a node that keeps unknown fields",
          at + "[0].messageExpression: string building"]),
        ("the old rule with a fixed message only", PCS_FILE, old_path, fixed_msg,
         [at + ": a CEL rule on a node that keeps unknown fields"]),
        ("a rule on the root, whose self reaches the preserving spec", PCS_FILE, "",
         [{"rule": "has(self.spec)", "message": "m"}],
         ["openAPIV3Schema.x-kubernetes-validations: the rule's self reaches"
          " openAPIV3Schema.spec,"]),
        ("a rule on typed spec.replicas under the preserving spec", PCS_FILE,
         "spec.replicas", [{"rule": "self >= 1", "message": "m"}],
         ["openAPIV3Schema.spec.replicas.x-kubernetes-validations: a CEL rule"
          " under openAPIV3Schema.spec,"]),
        ("a rule on a PodClique's spec, whose self reaches the preserved podSpec",
         "grove.io_podcliques.yaml", "spec",
         [{"rule": "has(self.podSpec)", "message": "m"}],
         ["openAPIV3Schema.spec.x-kubernetes-validations: the rule's self reaches"
          " openAPIV3Schema.spec.podSpec,"]),
        ("messageExpression on a closed, typed node",
         "grove.io_clustertopologybindings.yaml", "spec.levels[]",
         [{"rule": "self.domain != ''", "messageExpression": "'level ' + self.key"}],
         ["openAPIV3Schema.spec.levels[].x-kubernetes-validations[0].messageExpression"]),
        ("a fixed-message rule on a closed, typed node",
         "grove.io_clustertopologybindings.yaml", "spec.levels[]",
         [{"rule": "self.domain != ''", "message": "domain must not be empty"}], []),
    ]
    for label, fname, where, rules, want in cases:
        schema = _with_rules(schema_of, fname, where, rules)
        if schema is None:
            check(f"self-test: {label}", [f"{fname} has no node {where!r}"])
            continue
        errs, problems = [], []
        cel_cost_errors(schema, "openAPIV3Schema", errs)
        if not want and errs:
            problems = ["reported, want accepted: " + "; ".join(errs)]
        for text in want:
            if not any(text in e for e in errs):
                problems.append(f"no error with {text!r}; got {errs}")
        # the checker's other rules still pass: only the cost rules see it
        structural_errors(schema, "openAPIV3Schema", problems, root=True)
        check(f"self-test: {label} is {'reported' if want else 'accepted'}", problems)


# ---------------------------------------------------------------------------
# The checks.

def main():
    if len(sys.argv) != 2:
        print("usage: check_crds.py <repo-root>", file=sys.stderr)
        sys.exit(2)
    root = os.path.abspath(sys.argv[1])
    crd_dir = os.path.join(root, "deploy", "crds")
    crds = {}

    # -- parse and identity -------------------------------------------------
    for fname, exp in EXPECTED.items():
        path = os.path.join(crd_dir, fname)
        errs = []
        try:
            docs = load_all(path)
        except (OSError, yaml.YAMLError) as e:
            check(f"{fname}: parses", [str(e)])
            continue
        if len(docs) != 1:
            errs.append(f"expected one document, found {len(docs)}")
        crd = docs[0] if docs else {}
        if crd.get("apiVersion") != "apiextensions.k8s.io/v1":
            errs.append(f"apiVersion {crd.get('apiVersion')!r}, want apiextensions.k8s.io/v1")
        if crd.get("kind") != "CustomResourceDefinition":
            errs.append(f"kind {crd.get('kind')!r}, want CustomResourceDefinition")
        check(f"{fname}: parses as a CustomResourceDefinition", errs)
        if errs:
            continue
        crds[fname] = crd

        errs = []
        md, spec = crd.get("metadata") or {}, crd.get("spec") or {}
        names = spec.get("names") or {}
        want_name = f"{exp['plural']}.{exp['group']}"
        if md.get("name") != want_name:
            errs.append(f"metadata.name {md.get('name')!r}, want {want_name!r}")
        labels = md.get("labels") or {}
        for k, v in (("app.kubernetes.io/name", "groved"),
                     ("app.kubernetes.io/part-of", "groved")):
            if labels.get(k) != v:
                errs.append(f"label {k}={labels.get(k)!r}, want {v!r}")
        if spec.get("group") != exp["group"]:
            errs.append(f"group {spec.get('group')!r}, want {exp['group']!r}")
        if spec.get("scope") != exp["scope"]:
            errs.append(f"scope {spec.get('scope')!r}, want {exp['scope']!r}")
        for k, v in (("kind", exp["kind"]), ("listKind", exp["kind"] + "List"),
                     ("plural", exp["plural"]), ("singular", exp["singular"]),
                     ("shortNames", exp["short"])):
            if names.get(k) != v:
                errs.append(f"names.{k} {names.get(k)!r}, want {v!r}")
        if "grove" not in (names.get("categories") or []):
            errs.append("names.categories lacks 'grove' (kubectl get grove)")
        if "all" in (names.get("categories") or []):
            errs.append("names.categories must not include 'all'")
        vers = spec.get("versions") or []
        if [v.get("name") for v in vers] != ["v1alpha1"]:
            errs.append(f"versions {[v.get('name') for v in vers]}, want ['v1alpha1']")
        elif not (vers[0].get("served") is True and vers[0].get("storage") is True):
            errs.append("v1alpha1 must be served and storage")
        if spec.get("preserveUnknownFields"):
            errs.append("spec.preserveUnknownFields must be false/absent in v1")
        check(f"{fname}: names, group {exp['group']}, scope {exp['scope']},"
              f" short {exp['short'][0]}, category grove", errs)

    def schema_of(fname):
        crd = crds.get(fname)
        if not crd:
            return None
        return (((crd["spec"].get("versions") or [{}])[0].get("schema") or {})
                .get("openAPIV3Schema"))

    # -- structural --------------------------------------------------------
    for fname in crds:
        schema = schema_of(fname)
        errs = []
        if not isinstance(schema, dict):
            errs.append("no openAPIV3Schema")
        else:
            structural_errors(schema, "openAPIV3Schema", errs, root=True)
            errs += metadata_errors(schema)
            for top in ("spec", "status"):
                if top not in (schema.get("properties") or {}):
                    errs.append(f"schema has no {top}")
            for k in ("apiVersion", "kind"):
                node = (schema.get("properties") or {}).get(k)
                if node is not None and node.get("type") != "string":
                    errs.append(f"{k} must be type string")
        check(f"{fname}: schema is structural"
              f" ({count_nodes(schema) if isinstance(schema, dict) else 0} nodes)", errs)
        if isinstance(schema, dict):
            errs = []
            cel_cost_errors(schema, "openAPIV3Schema", errs)
            check(f"{fname}: CEL rules affordable to kube-apiserver's cost estimator"
                  f" ({count_rules(schema)} rules; none on or reaching an untyped"
                  " node, no messageExpression)", errs)

    # -- declared fields and enums -------------------------------------------
    for fname, fields in REQUIRED_FIELDS.items():
        schema = schema_of(fname)
        if schema is None:
            continue
        errs = [f"missing {f}" for f in fields if schema_at(schema, f) is None]
        for (ef, fpath), values in ENUMS.items():
            if ef == fname:
                node = schema_at(schema, fpath) or {}
                if node.get("enum") != values:
                    errs.append(f"{fpath}: enum {node.get('enum')}, want {values}")
        check(f"{fname}: declares the fields of docs/api.md sections 1, 2 and 7", errs)

    # -- subresources ------------------------------------------------------
    for fname, exp in EXPECTED.items():
        crd, schema = crds.get(fname), schema_of(fname)
        if not crd:
            continue
        errs = []
        sub = crd["spec"]["versions"][0].get("subresources") or {}
        if sub.get("status") != {}:
            errs.append("subresources.status must be {}")
        scale = sub.get("scale")
        if exp["scale"] is None:
            if scale is not None:
                errs.append("unexpected scale subresource")
        else:
            want = dict(zip(("specReplicasPath", "statusReplicasPath",
                             "labelSelectorPath"), exp["scale"]))
            if scale != want:
                errs.append(f"scale {scale}, want {want}")
            else:
                for k, typ in (("specReplicasPath", "integer"),
                               ("statusReplicasPath", "integer"),
                               ("labelSelectorPath", "string")):
                    node = schema_at(schema, scale[k][1:])
                    if node is None or node.get("type") != typ:
                        errs.append(f"{k} {scale[k]} must be a {typ} in the schema")
        label = "status" + ("" if exp["scale"] is None
                            else " + scale " + " / ".join(exp["scale"]))
        check(f"{fname}: subresources {label}", errs)

    # -- printer columns ---------------------------------------------------
    for fname in crds:
        crd, schema = crds[fname], schema_of(fname)
        errs = []
        cols = crd["spec"]["versions"][0].get("additionalPrinterColumns") or []
        for c in cols:
            if c.get("type") not in ("integer", "number", "string", "boolean", "date"):
                errs.append(f"column {c.get('name')}: type {c.get('type')!r} unknown")
            jp = c.get("jsonPath", "")
            if jp == ".metadata.creationTimestamp":
                continue
            dotted = jsonpath_to_dotted(jp)
            if dotted is None:
                errs.append(f"column {c.get('name')}: jsonPath {jp!r} not a simple path")
            elif schema_at(schema, dotted) is None:
                errs.append(f"column {c.get('name')}: {jp} is not in the schema")
        names = [str(c.get("name", "")).upper() for c in cols]
        if len(set(names)) != len(names):
            errs.append(f"duplicate column names {names}")
        if "AGE" not in names:
            errs.append("no AGE column")
        if fname == PCS_FILE:
            want = [("REPLICAS", ".spec.replicas", "integer"),
                    ("READY", ".status.ready", "string"),
                    ("STATUS", ".status.phase", "string"),
                    ("UPDATED", ".status.updatedReplicas", "integer"),
                    ("UPDATING", '.status.conditions[?(@.type=="UpdateInProgress")].status',
                     "string"),
                    ("AGE", ".metadata.creationTimestamp", "date")]
            got = [(str(c.get("name", "")).upper(), c.get("jsonPath"), c.get("type"))
                   for c in cols if not c.get("priority")]
            if got != want:
                errs.append(f"columns {got}, want {want} (NAME is automatic)")
        check(f"{fname}: printer columns {' '.join(['NAME'] + names)}", errs)

    # -- PCS design choices -----------------------------------------------
    pcs = schema_of(PCS_FILE)
    if pcs is not None:
        errs = []
        for p in PRESERVING:
            node = schema_at(pcs, p)
            if node is None or node.get("x-kubernetes-preserve-unknown-fields") is not True:
                errs.append(f"{p} must keep unknown fields (x-kubernetes-preserve-unknown-fields)")
        sa = schema_at(pcs, "spec.podCliques[].startsAfter") or {}
        if "type" in sa or sa.get("x-kubernetes-preserve-unknown-fields") is not True:
            errs.append("spec.podCliques[].startsAfter must be untyped with"
                        " x-kubernetes-preserve-unknown-fields (string or list)")
        for p in ("spec.podCliques[].containers[]",
                  "spec.template.cliques[].spec.podSpec",
                  "spec.template.resourceClaimTemplates[].templateSpec"):
            node = schema_at(pcs, p) or {}
            if node.get("type") != "object" or node.get("x-kubernetes-preserve-unknown-fields") is not True:
                errs.append(f"{p} must be an object keeping unknown fields")
        check("podcliquesets: compact-form nodes keep unknown fields for the"
              " webhook's did-you-mean; embedded pod specs preserved", errs)

        errs = []
        value_keys = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                      "minLength", "maxLength", "pattern", "minItems", "maxItems",
                      "minProperties", "maxProperties", "multipleOf"}

        def walk(node, path):
            if not isinstance(node, dict):
                return
            for k in value_keys & set(node):
                errs.append(f"{path}: {k} pre-empts the webhook's message")
            for n, sub in (node.get("properties") or {}).items():
                walk(sub, f"{path}.{n}")
            if isinstance(node.get("items"), dict):
                walk(node["items"], path + "[]")
        walk(schema_at(pcs, "spec"), "spec")
        check("podcliquesets: spec has no value-range limits (the webhook checks values)", errs)

        # -- no CEL: the webhooks check spec.replicas ----------------------
        n = count_rules(pcs)
        check("podcliquesets: no CEL rule (x-kubernetes-validations); spec.replicas"
              " within spec.scaling is groved's V12 and /scale webhook's",
              [] if n == 0 else [f"{n} x-kubernetes-validations rule(s) in the"
                                 " PodCliqueSet schema (docs/crds.md, \"No CEL rules\")"])

        # -- fixtures validate ---------------------------------------------
        files = sorted(glob.glob(os.path.join(root, "tests", "fixtures",
                                              "upstream-samples", "**", "*.yaml"),
                                 recursive=True)
                       + glob.glob(os.path.join(root, "tests", "fixtures",
                                                "upstream-samples", "**", "*.yml"),
                                   recursive=True)
                       + glob.glob(os.path.join(root, "examples", "*.yaml")))
        n_pcs = 0
        for f in files:
            rel = os.path.relpath(f, root)
            try:
                docs = load_all(f)
            except yaml.YAMLError as e:
                check(f"{rel}: parses", [str(e)])
                continue
            for d in docs:
                if not isinstance(d, dict) or d.get("kind") != "PodCliqueSet":
                    continue
                n_pcs += 1
                errs = []
                if d.get("apiVersion") != "grove.io/v1alpha1":
                    errs.append(f"apiVersion {d.get('apiVersion')!r}")
                errs += validate_object(d, pcs)
                name = (d.get("metadata") or {}).get("name")
                check(f"schema accepts {rel} ({name})", errs)
        check("fixtures: at least one PodCliqueSet under tests/fixtures/upstream-samples"
              " and examples/", [] if n_pcs else ["no PodCliqueSet manifests found"])

        # -- negative and design cases for the validator -----------------
        base_compact = {
            "apiVersion": "grove.io/v1alpha1", "kind": "PodCliqueSet",
            "metadata": {"name": "t"},
            "spec": {"scaling": {"minReplicas": 1, "maxReplicas": 4}, "replicas": 2,
                     "podCliques": [{"name": "a", "replicas": 1,
                                     "containers": [{"name": "c", "image": "i"}]},
                                    {"name": "b", "startsAfter": ["a"],
                                     "containers": [{"name": "c", "image": "i"}]}]}}
        base_template = {
            "apiVersion": "grove.io/v1alpha1", "kind": "PodCliqueSet",
            "metadata": {"name": "t"},
            "spec": {"replicas": 1, "template": {
                "cliques": [{"name": "a", "spec": {"replicas": 1, "podSpec": {
                    "containers": [{"name": "c", "image": "i"}]}}}]}}}

        def case(label, base, mutate, want_ok, want_text=None):
            obj = copy.deepcopy(base)
            mutate(obj)
            errs = validate_object(obj, pcs)
            problems = []
            if want_ok and errs:
                problems = errs
            if not want_ok:
                if not errs:
                    problems = ["accepted, want rejected"]
                elif want_text and not any(want_text in e for e in errs):
                    problems = [f"no error mentions {want_text!r}: {errs}"]
            check(f"schema {'accepts' if want_ok else 'rejects'}: {label}", problems)

        case("compact typo startAfter is kept for the webhook's did-you-mean", base_compact,
             lambda o: o["spec"]["podCliques"][0].update(startAfter="b"), True)
        case("compact unknown spec field is kept for the webhook", base_compact,
             lambda o: o["spec"].update(scalingGroup=[]), True)
        case("compact startsAfter as a string", base_compact,
             lambda o: o["spec"]["podCliques"][1].update(startsAfter="a"), True)
        case("compact nodeName and topologySpreadConstraints reach the webhook", base_compact,
             lambda o: o["spec"]["podCliques"][0].update(
                 nodeName="n1", topologySpreadConstraints=[{"maxSkew": 1}]), True)
        case("compact replicas 0 (the webhook reports it, V6)", base_compact,
             lambda o: o["spec"]["podCliques"][0].update(replicas=0), True)
        case("compact spec.replicas above scaling.maxReplicas reaches the webhook (V12)",
             base_compact, lambda o: o["spec"].update(replicas=5), True)
        def upstream_unacted(o):
            t = o["spec"]["template"]
            t["resourceSharing"] = {"x": 1}
            c = t["cliques"][0]
            c.update(resourceSharing={"x": 1}, rollingUpdate={"maxUnavailable": 1})
            c["spec"]["rollingUpdate"] = {"maxSurge": 1}
            t["podCliqueScalingGroups"] = [{"name": "g", "cliqueNames": ["a"],
                                            "resourceSharing": {"x": 1},
                                            "rollingUpdate": {"maxUnavailable": 1}}]
        case("template resourceSharing and rollingUpdate reach the webhook (it warns)",
             base_template, upstream_unacted, True)
        case("compact replicas of the wrong type", base_compact,
             lambda o: o["spec"]["podCliques"][0].update(replicas="one"), False,
             "must be of type integer")
        case("compact ratio entries must be integers", base_compact,
             lambda o: o["spec"].update(scalingGroups=[
                 {"name": "g", "cliques": ["a", "b"], "replicas": [1, "2"]}]), False,
             "spec.scalingGroups[0].replicas[1]")
        case("template topologyConstraint with pack and packDomain", base_template,
             lambda o: o["spec"]["template"].update(topologyConstraint={
                 "topologyName": "grove-topology",
                 "pack": {"required": "rack", "preferred": "host"},
                 "packDomain": "rack"}), True)
        case("template unknown clique field (pruned: strict decoding rejects it)",
             base_template,
             lambda o: o["spec"]["template"]["cliques"][0].update(spce={}), False,
             "unknown field")
        case("template cliqueStartupType outside the enum", base_template,
             lambda o: o["spec"]["template"].update(cliqueStartupType="Sequential"), False,
             "Unsupported value")
        case("template terminationDelay as a duration string", base_template,
             lambda o: o["spec"]["template"].update(terminationDelay="4h"), True)
        case("status with phase Degraded and conditions", base_template,
             lambda o: o.update(status={
                 "observedGeneration": 2, "replicas": 1, "availableReplicas": 0,
                 "updatedReplicas": 1, "hpaPodSelector": "a=b", "ready": "3/4",
                 "phase": "Degraded", "conditions": [{
                     "type": "Degraded", "status": "True", "reason": "MinAvailableBreached",
                     "message": "m", "lastTransitionTime": "2025-01-01T00:00:00Z"}]}), True)
        case("status of a rollout in progress (nothing pruned)", base_template,
             lambda o: o.update(status={
                 "currentGenerationHash": "700181f0fdc2174b",
                 "updateProgress": {
                     "updateStartedAt": "2025-01-01T00:01:00Z",
                     "podCliqueSetGenerationHash": "ab0cffc6dc086af0",
                     "updatedPodCliquesCount": 2, "totalPodCliquesCount": 3,
                     "updatedPodCliqueScalingGroupsCount": 0,
                     "totalPodCliqueScalingGroupsCount": 1,
                     "currentlyUpdating": [{"replicaIndex": 0,
                                            "updateStartedAt": "2025-01-01T00:01:00Z"}]},
                 "conditions": [{
                     "type": "UpdateInProgress", "status": "True", "reason": "RollingRecreate",
                     "message": "m", "lastTransitionTime": "2025-01-01T00:01:00Z"}]}), True)
        case("status of a rollout: currentlyUpdating without replicaIndex", base_template,
             lambda o: o.update(status={"updateProgress": {"currentlyUpdating": [
                 {"updateStartedAt": "2025-01-01T00:01:00Z"}]}}), False, "Required")
        case("status phase outside the enum", base_template,
             lambda o: o.update(status={"phase": "Done"}), False, "Unsupported value")

    # -- ClusterTopologyBinding requires domain and key ------------------------
    ct = schema_of("grove.io_clustertopologybindings.yaml")
    if ct is not None:
        ok = {"apiVersion": "grove.io/v1alpha1", "kind": "ClusterTopologyBinding",
              "metadata": {"name": "grove-topology"},
              "spec": {"levels": [{"domain": "zone", "key": "topology.kubernetes.io/zone"},
                                  {"domain": "host", "key": "kubernetes.io/hostname"}]}}
        bad = copy.deepcopy(ok)
        del bad["spec"]["levels"][1]["key"]
        e_ok, e_bad = validate_object(ok, ct), validate_object(bad, ct)
        check("clustertopologybindings: levels need domain and key",
              e_ok + ([] if any("spec.levels[1].key: Required" in e for e in e_bad)
                      else [f"missing key not reported: {e_bad}"]))

    # -- self-test: the CEL cost rules see the rule kube-apiserver refused ---
    cel_self_tests(root, schema_of)

    # -- kustomization -------------------------------------------------------
    errs = []
    kpath = os.path.join(crd_dir, "kustomization.yaml")
    try:
        kdocs = load_all(kpath)
        k = kdocs[0] if kdocs else {}
        if k.get("kind") != "Kustomization":
            errs.append(f"kind {k.get('kind')!r}, want Kustomization")
        res = k.get("resources") or []
        on_disk = sorted(os.path.basename(p) for p in glob.glob(os.path.join(crd_dir, "*.yaml"))
                         if os.path.basename(p) != "kustomization.yaml")
        if sorted(res) != sorted(EXPECTED):
            errs.append(f"resources {res}, want {sorted(EXPECTED)}")
        if sorted(res) != on_disk:
            errs.append(f"resources {sorted(res)} differ from the files {on_disk}")
        if len(set(res)) != len(res):
            errs.append("duplicate resources")
    except (OSError, yaml.YAMLError) as e:
        errs.append(str(e))
    check("kustomization.yaml lists every CRD file", errs)

    # -- kubectl (optional) -------------------------------------------------
    kubectl = shutil.which("kubectl")
    if not kubectl:
        notes.append("kubectl not on PATH: kubectl checks skipped")
    else:
        try:
            r = subprocess.run([kubectl, "kustomize", crd_dir], capture_output=True,
                               text=True, timeout=60)
            errs = []
            if r.returncode != 0:
                errs.append(r.stderr.strip())
            else:
                kinds = [d.get("kind") for d in yaml.load_all(r.stdout, Loader=Loader) if d]
                if kinds.count("CustomResourceDefinition") != len(EXPECTED):
                    errs.append(f"rendered kinds {kinds}")
            check("kubectl kustomize deploy/crds renders the five CRDs", errs)
        except subprocess.TimeoutExpired:
            notes.append("kubectl kustomize timed out: skipped")

        skipped = False
        for fname in EXPECTED:
            path = os.path.join(crd_dir, fname)
            try:
                r = subprocess.run([kubectl, "create", "--dry-run=client", "--validate=false",
                                    "--request-timeout=5s", "-o", "yaml", "-f", path],
                                   capture_output=True, text=True, timeout=30)
            except subprocess.TimeoutExpired:
                skipped = True
                break
            if r.returncode != 0 and re.search(
                    r"connection refused|unable to recognize|couldn't get current server"
                    r"|no such host|i/o timeout|dial tcp|Unauthorized|forbidden"
                    r"|the server has asked for the client to provide credentials",
                    r.stderr):
                skipped = True
                break
            errs = [] if r.returncode == 0 else [r.stderr.strip()]
            if not errs:
                out = yaml.load(r.stdout, Loader=Loader) or {}
                if (out.get("metadata") or {}).get("name") != \
                        (crds.get(fname) or {}).get("metadata", {}).get("name"):
                    errs.append("kubectl output differs in metadata.name")
            check(f"kubectl create --dry-run=client -f {fname}", errs)
        if skipped:
            notes.append("kubectl create --dry-run=client needs an API server for"
                         " discovery and none is reachable: skipped")

    for n in dict.fromkeys(notes):
        print(f"note - {n}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
