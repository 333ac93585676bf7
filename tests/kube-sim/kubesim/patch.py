# SPDX-License-Identifier: Apache-2.0
"""Patches: RFC 7386 merge patch and RFC 6902 JSON patch."""

import copy


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    out = dict(target)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


class PatchError(Exception):
    pass


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError("invalid JSON pointer %r" % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc, tokens):
    cur = doc
    for t in tokens[:-1]:
        if isinstance(cur, list):
            if not t.isdigit() or int(t) >= len(cur):
                raise PatchError("path not found")
            cur = cur[int(t)]
        elif isinstance(cur, dict):
            if t not in cur:
                raise PatchError("path not found: %s" % t)
            cur = cur[t]
        else:
            raise PatchError("path not found")
    return cur


def _get(doc, tokens):
    if not tokens:
        return doc
    par, t = _parent(doc, tokens), tokens[-1]
    if isinstance(par, list):
        if not t.isdigit() or int(t) >= len(par):
            raise PatchError("path not found")
        return par[int(t)]
    if not isinstance(par, dict) or t not in par:
        raise PatchError("path not found: %s" % t)
    return par[t]


def _remove(doc, tokens):
    par, t = _parent(doc, tokens), tokens[-1]
    if isinstance(par, list):
        if not t.isdigit() or int(t) >= len(par):
            raise PatchError("path not found")
        return par.pop(int(t))
    if not isinstance(par, dict) or t not in par:
        raise PatchError("unable to remove nonexistent key: %s" % t)
    return par.pop(t)


def _add(doc, tokens, value):
    if not tokens:
        return value
    par, t = _parent(doc, tokens), tokens[-1]
    if isinstance(par, list):
        if t == "-":
            par.append(value)
        elif t.isdigit() and int(t) <= len(par):
            par.insert(int(t), value)
        else:
            raise PatchError("index out of range")
    elif isinstance(par, dict):
        par[t] = value
    else:
        raise PatchError("path not found")
    return doc


def json_patch(doc, ops):
    """RFC 6902."""
    if not isinstance(ops, list):
        raise PatchError("a JSON patch must be an array of operations")
    doc = copy.deepcopy(doc)
    for op in ops:
        kind, path = op.get("op"), _pointer(op.get("path", ""))
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            if not path:
                doc = copy.deepcopy(op["value"])
            else:
                _get(doc, path)
                par, t = _parent(doc, path), path[-1]
                par[int(t) if isinstance(par, list) else t] = copy.deepcopy(op["value"])
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise PatchError("testing value %s failed" % op.get("path"))
        elif kind == "move":
            val = _remove(doc, _pointer(op["from"]))
            doc = _add(doc, path, val)
        elif kind == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, _pointer(op["from"]))))
        else:
            raise PatchError("unknown operation %r" % kind)
    return doc
