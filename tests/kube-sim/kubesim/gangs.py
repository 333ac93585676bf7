# SPDX-License-Identifier: Apache-2.0
"""PodGangs as the scheduler reads them, and the pieces of a pod the
filters need: requests (quantities), node selection, taints and
tolerations.  Pure functions over dicts; scheduler.py keeps the state.

PodGang (scheduler.grove.io/v1alpha1, as groved plans it; see docs/api.md
section 5): spec.podgroups[{name, podReferences[{namespace, name}],
minReplicas, topologyConstraint}], spec.topologyConstraint,
spec.topologyConstraintGroupConfigs[{name, podGroupNames,
topologyConstraint}], spec.priorityClassName.  A topologyConstraint is
{packConstraint: {required: <node label key>, preferred: <key>}}.
"""

import collections
import decimal
import math
import re

# the label a scaled gang's pods carry: the name of their base PodGang
BASE_PODGANG = "grove.io/base-podgang"

PodGroup = collections.namedtuple("PodGroup", "name refs min pack")
Gang = collections.namedtuple("Gang", "key obj groups units pack created")


def pack_of(tc):
    """(required, preferred) node label keys of a topologyConstraint."""
    pc = (tc or {}).get("packConstraint") if isinstance(tc, dict) else None
    if not isinstance(pc, dict):
        return (None, None)
    req, pref = pc.get("required"), pc.get("preferred")
    return (req if isinstance(req, str) and req else None,
            pref if isinstance(pref, str) and pref else None)


def parse_gang(obj):
    """A Gang from a PodGang object.  units: [(pack, [podgroup names])],
    one per topologyConstraintGroupConfigs entry (first one wins for a
    podgroup named twice), then one per podgroup in no config."""
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace") or ""
    spec = obj.get("spec") or {}
    groups = []
    for pg in spec.get("podgroups") or []:
        if not isinstance(pg, dict) or not pg.get("name"):
            continue
        refs = []
        for r in pg.get("podReferences") or []:
            if isinstance(r, dict) and r.get("name"):
                refs.append((r.get("namespace") or ns, r["name"]))
        mn = pg.get("minReplicas")
        if not isinstance(mn, int) or isinstance(mn, bool) or mn < 0:
            mn = len(refs)
        groups.append(PodGroup(pg["name"], refs, mn, pack_of(pg.get("topologyConstraint"))))
    names = {g.name for g in groups}
    units, used = [], set()
    for cfg in spec.get("topologyConstraintGroupConfigs") or []:
        if not isinstance(cfg, dict):
            continue
        members = [n for n in cfg.get("podGroupNames") or [] if n in names and n not in used]
        if members:
            used.update(members)
            units.append((pack_of(cfg.get("topologyConstraint")), members))
    for g in groups:
        if g.name not in used:
            units.append(((None, None), [g.name]))
    return Gang((ns, meta.get("name")), obj, groups, units,
                pack_of(spec.get("topologyConstraint")), meta.get("creationTimestamp") or "")


# -- quantities

_QTY = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:[eE]([+-]?[0-9]+))?"
                  r"(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")
_MULT = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50,
         "Ei": 2 ** 60, "n": decimal.Decimal("1e-9"), "u": decimal.Decimal("1e-6"),
         "m": decimal.Decimal("1e-3"), None: 1, "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9,
         "T": 10 ** 12, "P": 10 ** 15, "E": 10 ** 18}


def quantity(s):
    """A resource.Quantity string (or number) as a Decimal; ValueError if
    it is not one."""
    if isinstance(s, bool):
        raise ValueError("not a quantity: %r" % (s,))
    if isinstance(s, (int, float)):
        return decimal.Decimal(str(s))
    m = _QTY.match(str(s).strip())
    if not m:
        raise ValueError("not a quantity: %r" % (s,))
    v = decimal.Decimal(m.group(1))
    if m.group(2):
        v = v.scaleb(int(m.group(2)))
    return v * _MULT[m.group(3)]


def milli(s):
    try:
        return int(math.ceil(quantity(s) * 1000))
    except (ValueError, decimal.InvalidOperation):
        return 0


def units(s):
    try:
        return int(math.ceil(quantity(s)))
    except (ValueError, decimal.InvalidOperation):
        return 0


def _container_requests(c):
    res = (c or {}).get("resources") or {}
    req = dict(res.get("limits") or {})     # requests default to limits
    req.update(res.get("requests") or {})
    return milli(req.get("cpu", 0)), units(req.get("memory", 0))


def pod_requests(pod):
    """(milli-cpu, memory bytes) the pod asks for, as kube-scheduler counts
    them: the containers' sum (with sidecars), or the largest init
    container on top of the sidecars started before it, whichever is
    more; plus spec.overhead."""
    spec = pod.get("spec") or {}
    cpu = mem = 0
    for c in spec.get("containers") or []:
        a, b = _container_requests(c)
        cpu, mem = cpu + a, mem + b
    side_cpu = side_mem = init_cpu = init_mem = 0
    for c in spec.get("initContainers") or []:
        a, b = _container_requests(c)
        if (c or {}).get("restartPolicy") == "Always":
            side_cpu, side_mem = side_cpu + a, side_mem + b
            init_cpu, init_mem = max(init_cpu, side_cpu), max(init_mem, side_mem)
        else:
            init_cpu, init_mem = max(init_cpu, side_cpu + a), max(init_mem, side_mem + b)
    cpu, mem = max(cpu + side_cpu, init_cpu), max(mem + side_mem, init_mem)
    over = spec.get("overhead") or {}
    return cpu + milli(over.get("cpu", 0)), mem + units(over.get("memory", 0))


# -- node selection

def _expr_matches(e, labels):
    key, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
    has = key in labels
    if op == "In":
        return has and labels[key] in vals
    if op == "NotIn":
        return not has or labels[key] not in vals
    if op == "Exists":
        return has
    if op == "DoesNotExist":
        return not has
    if op in ("Gt", "Lt"):
        try:
            a, b = int(labels[key]), int(vals[0])
        except (KeyError, IndexError, ValueError, TypeError):
            return False
        return a > b if op == "Gt" else a < b
    return False


def _term_matches(term, node_name, labels):
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False              # an empty term matches no node
    if not all(_expr_matches(e, labels) for e in exprs):
        return False
    for f in fields:
        if f.get("key") != "metadata.name":
            return False
        if not _expr_matches(dict(f, key="n"), {"n": node_name}):
            return False
    return True


def node_selected(pod, node_name, labels):
    """nodeSelector and required node affinity (NodeAffinity filter)."""
    spec = pod.get("spec") or {}
    for k, v in (spec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    req = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
           .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = req.get("nodeSelectorTerms")
    if terms is None:
        return True
    return any(_term_matches(t or {}, node_name, labels) for t in terms)


def tolerates(tolerations, taint):
    for t in tolerations or []:
        eff = t.get("effect") or ""
        if eff and eff != taint.get("effect"):
            continue
        op = t.get("operator") or "Equal"
        if not t.get("key"):
            if op == "Exists":
                return True
            continue
        if t["key"] != taint.get("key"):
            continue
        if op == "Exists" or (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def selection_signature(pod):
    """What the static filters read of a pod (pods alike share results)."""
    spec = pod.get("spec") or {}
    aff = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution")
    return repr((sorted((spec.get("nodeSelector") or {}).items()), _canon(aff),
                 _canon(spec.get("tolerations"))))


def _canon(v):
    if isinstance(v, dict):
        return tuple(sorted((k, _canon(x)) for k, x in v.items()))
    if isinstance(v, list):
        return tuple(_canon(x) for x in v)
    return v
