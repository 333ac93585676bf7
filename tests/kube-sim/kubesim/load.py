# SPDX-License-Identifier: Apache-2.0
"""--load: objects from YAML files created at startup."""

import sys

import yaml

from . import state
from .errors import ApiError


def load_manifests(files):
    docs = []
    for fn in files:
        with open(fn) as f:
            for d in yaml.safe_load_all(f):
                if not d:
                    continue
                if d.get("kind", "").endswith("List") and "items" in d:
                    docs.extend(d["items"])
                else:
                    docs.append(d)
    order = {"CustomResourceDefinition": 0, "Namespace": 1}
    docs.sort(key=lambda d: order.get(d.get("kind"), 2))
    for d in docs:
        api = d.get("apiVersion", "")
        group, _, version = api.rpartition("/")
        rt = None
        with state.STORE.cond:
            for t in state.STORE.types.values():
                if t.group == group and version in t.versions and t.kind == d.get("kind"):
                    rt = t
        if rt is None:
            sys.exit("kube-sim: --load: no resource for %s %s" % (api, d.get("kind")))
        ns = (d.get("metadata") or {}).get("namespace") or "default"
        if rt.namespaced:
            try:
                state.STORE.create(state.STORE.types[("", "namespaces")], None, {"metadata": {"name": ns}})
            except ApiError:
                pass
        try:
            state.STORE.create(rt, ns if rt.namespaced else None, d)
        except ApiError as e:
            sys.exit("kube-sim: --load: %s" % e.message)
