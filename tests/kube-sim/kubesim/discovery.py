# SPDX-License-Identifier: Apache-2.0
"""Discovery: /version, /api, /apis and the resource lists (enough for
kubectl).  A mixin of Handler.
"""

import collections

from . import state
from .errors import ApiError
from .restypes import VERBS


class Discovery:
    """Handler's discovery documents."""

    def groups(self):
        """{group: [versions]} of everything served, preferred version first."""
        out = collections.OrderedDict()
        for (g, pl), rt in sorted(state.STORE.types.items()):
            vs = out.setdefault(g, [])
            for v in rt.versions:
                if v not in vs:
                    vs.append(v)
        return out

    def resource_list(self, group, version):
        res = []
        for (g, pl), rt in sorted(state.STORE.types.items()):
            if g != group or version not in rt.versions:
                continue
            r = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced,
                 "kind": rt.kind, "verbs": VERBS}
            if rt.short:
                r["shortNames"] = rt.short
            if rt.categories:
                r["categories"] = rt.categories
            res.append(r)
            if rt.status:
                res.append({"name": rt.plural + "/status", "singularName": "",
                            "namespaced": rt.namespaced, "kind": rt.kind,
                            "verbs": ["get", "patch", "update"]})
            if (g, pl) == ("", "pods"):
                res.append({"name": "pods/binding", "singularName": "", "namespaced": True,
                            "kind": "Binding", "verbs": ["create"]})
            if rt.scale:
                res.append({"name": rt.plural + "/scale", "singularName": "",
                            "namespaced": rt.namespaced, "group": "autoscaling",
                            "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]})
        if not res:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": (group + "/" + version) if group else version, "resources": res}

    def discovery(self, parts):
        with state.STORE.cond:
            if parts == ["version"]:
                return {"major": "1", "minor": "32", "gitVersion": "v1.32.0-kube-sim",
                        "gitCommit": "kube-sim", "gitTreeState": "clean",
                        "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23",
                        "compiler": "gc", "platform": "linux/amd64"}
            if parts == ["api"]:
                return {"kind": "APIVersions", "versions": ["v1"],
                        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                        "serverAddress": state.SIM.address}]}
            if parts == ["api", "v1"]:
                return self.resource_list("", "v1")
            if parts == ["apis"]:
                groups = []
                for g, vs in self.groups().items():
                    if not g:
                        continue
                    gvs = [{"groupVersion": g + "/" + v, "version": v} for v in vs]
                    groups.append({"name": g, "versions": gvs, "preferredVersion": gvs[0]})
                return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
            if len(parts) == 2 and parts[0] == "apis":
                vs = self.groups().get(parts[1])
                if not vs:
                    raise ApiError(404, "NotFound", "the server could not find the requested "
                                   "resource")
                gvs = [{"groupVersion": parts[1] + "/" + v, "version": v} for v in vs]
                return {"kind": "APIGroup", "apiVersion": "v1", "name": parts[1],
                        "versions": gvs, "preferredVersion": gvs[0]}
            if len(parts) == 3 and parts[0] == "apis":
                return self.resource_list(parts[1], parts[2])
        return None
