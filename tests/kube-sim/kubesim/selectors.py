# SPDX-License-Identifier: Apache-2.0
"""Label and field selectors (parse, format, match) and dotted paths into
objects (get_path, set_path).
"""

import re

from .errors import bad_request


def split_top(s):
    """Split a selector on commas that are not inside parentheses."""
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return [p.strip() for p in out if p.strip()]


SET_RE = re.compile(r"^([^\s!=()]+)\s+(in|notin)\s+\((.*)\)$")


def parse_label_selector(s):
    """Returns a list of (key, op, values); raises ApiError on syntax errors."""
    reqs = []
    for term in split_top(s or ""):
        m = SET_RE.match(term)
        if m:
            vals = [v.strip() for v in m.group(3).split(",") if v.strip()]
            reqs.append((m.group(1), m.group(2), vals))
        elif "!=" in term:
            k, v = term.split("!=", 1)
            reqs.append((k.strip(), "!=", [v.strip()]))
        elif "==" in term:
            k, v = term.split("==", 1)
            reqs.append((k.strip(), "=", [v.strip()]))
        elif "=" in term:
            k, v = term.split("=", 1)
            reqs.append((k.strip(), "=", [v.strip()]))
        elif term.startswith("!"):
            reqs.append((term[1:].strip(), "!exists", []))
        elif re.match(r"^[A-Za-z0-9._/-]+$", term):
            reqs.append((term, "exists", []))
        else:
            raise bad_request("unable to parse requirement: %r" % term)
    return reqs


def labels_match(reqs, labels):
    labels = labels or {}
    for key, op, vals in reqs:
        present = key in labels
        val = labels.get(key)
        if op == "=" and val != vals[0]:
            return False
        if op == "!=" and present and val == vals[0]:
            return False
        if op == "in" and (not present or val not in vals):
            return False
        if op == "notin" and present and val in vals:
            return False
        if op == "exists" and not present:
            return False
        if op == "!exists" and present:
            return False
    return True


SELECTOR_OPS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}


def selector_requirements(sel):
    """A metav1.LabelSelector object (matchLabels, matchExpressions) as the
    (key, op, values) list that labels_match() takes.  Raises ValueError."""
    if not isinstance(sel, dict):
        raise ValueError("a label selector must be an object")
    reqs = [(k, "=", [v]) for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for e in sel.get("matchExpressions") or []:
        op = SELECTOR_OPS.get(e.get("operator"))
        if op is None:
            raise ValueError("%r is not a valid label selector operator" % e.get("operator"))
        reqs.append((e.get("key"), op, list(e.get("values") or [])))
    return reqs


def format_label_selector(sel):
    """metav1.FormatLabelSelector: the string form of a LabelSelector object."""
    parts = []
    for key, op, vals in sorted(selector_requirements(sel), key=lambda r: r[0]):
        if op == "=":
            parts.append("%s=%s" % (key, vals[0]))
        elif op in ("in", "notin"):
            parts.append("%s %s (%s)" % (key, op, ",".join(sorted(vals))))
        elif op == "exists":
            parts.append(key)
        else:
            parts.append("!" + key)
    return ",".join(parts)


def parse_field_selector(s):
    reqs = []
    for term in split_top(s or ""):
        if "!=" in term:
            k, v = term.split("!=", 1)
            reqs.append((k.strip(), "!=", v.strip()))
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            reqs.append((k.strip(), "=", v.strip()))
        else:
            raise bad_request("invalid field selector: %r" % term)
    return reqs


def get_path(obj, dotted):
    cur = obj
    for part in dotted.strip(".").split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def set_path(obj, dotted, value):
    parts = dotted.strip(".").split(".")
    cur = obj
    for part in parts[:-1]:
        if not isinstance(cur.get(part), dict):
            cur[part] = {}
        cur = cur[part]
    cur[parts[-1]] = value


def fields_match(reqs, obj):
    for key, op, val in reqs:
        got = get_path(obj, key)
        got = "" if got is None else str(got)
        if op == "=" and got != val:
            return False
        if op == "!=" and got == val:
            return False
    return True
