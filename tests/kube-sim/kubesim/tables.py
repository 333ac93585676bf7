# SPDX-License-Identifier: Apache-2.0
"""Server-side tables for kubectl get (Accept: as=Table): printer columns,
the JSONPath subset they use, ages.
"""

import datetime
import re


def age(ts):
    try:
        t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return "<unknown>"
    s = int((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds())
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= n:
            return "%d%s" % (s // n, unit)
    return "%ds" % max(s, 0)


def json_path(obj, path):
    """The simple JSONPath subset used by printer columns: .a.b, .a[*].b, .a[0],
    and a filter on a member, .a[?(@.type=="Ready")].b."""
    vals = [obj]
    for part in re.findall(r"[^.\[\]]+|\[[^\]]*\]", path or ""):
        nxt = []
        flt = re.fullmatch(r'\[\?\(@\.([A-Za-z0-9_]+)=="([^"]*)"\)\]', part)
        for v in vals:
            if part == "[*]":
                nxt.extend(v if isinstance(v, list) else [])
            elif flt:
                nxt.extend(e for e in (v if isinstance(v, list) else [])
                           if isinstance(e, dict) and e.get(flt.group(1)) == flt.group(2))
            elif part.startswith("["):
                i = part[1:-1]
                if isinstance(v, list) and i.isdigit() and int(i) < len(v):
                    nxt.append(v[int(i)])
            elif isinstance(v, dict) and part in v:
                nxt.append(v[part])
        vals = nxt
    return vals


def table(rt, version, items, rv):
    cols = [{"name": "Name", "type": "string", "format": "name", "priority": 0,
             "description": "Name must be unique within a namespace."}]
    extra = rt.printer_columns.get(version) or []
    if not extra:
        extra = [{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]
    for c in extra:
        cols.append({"name": c["name"], "type": c.get("type", "string"),
                     "format": c.get("format", ""), "priority": c.get("priority", 0),
                     "description": c.get("description", "")})
    rows = []
    for o in items:
        cells = [o["metadata"]["name"]]
        for c in extra:
            vals = json_path(o, c.get("jsonPath"))
            if c.get("type") == "date":
                cells.append(age(vals[0]) if vals else "<unknown>")
            elif not vals:
                cells.append(None)
            elif len(vals) == 1:
                cells.append(vals[0])
            else:
                cells.append(",".join(str(v) for v in vals))
        rows.append({"cells": cells, "object": {
            "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": o["metadata"]}})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": rv}, "columnDefinitions": cols, "rows": rows}
