# SPDX-License-Identifier: Apache-2.0
"""RBAC (--authorize): kube-apiserver's RBAC authorizer over the stored Roles,
ClusterRoles and their bindings, for users outside system:masters.  Only
resource requests are checked; discovery and other non-resource paths are
open to everyone, as the default system:discovery bindings make them.
"""

from . import state


RBAC_GROUP = "rbac.authorization.k8s.io"


def request_verb(method, name, watch):
    """The RBAC verb of a resource request, as kube-apiserver's RequestInfo."""
    if method == "GET":
        if watch:
            return "watch"
        return "get" if name else "list"
    return {"POST": "create", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete" if name else "deletecollection"}.get(method, method.lower())


def _subject_matches(subj, user):
    kind = subj.get("kind")
    if kind == "User":
        return subj.get("name") == user["username"]
    if kind == "Group":
        return subj.get("name") in user.get("groups", [])
    if kind == "ServiceAccount":
        return user["username"] == "system:serviceaccount:%s:%s" % (
            subj.get("namespace", ""), subj.get("name", ""))
    return False


def _rule_allows(rule, group, resource, verb, name):
    def has(field, value):
        vals = rule.get(field) or []
        return "*" in vals or value in vals
    if not has("verbs", verb) or not has("apiGroups", group) or not has("resources", resource):
        return False
    names = rule.get("resourceNames") or []
    # create and a list without a name cannot be limited by name
    return not names or (name is not None and name in names)


def rbac_allows(user, group, resource, ns, name, verb):
    """Whether a binding in the store grants user verb on the resource."""
    if "system:masters" in user.get("groups", []):
        return True
    roles = {}
    for kind, plural in (("ClusterRole", "clusterroles"), ("Role", "roles")):
        for (rns, rname), obj in state.STORE.objs.get((RBAC_GROUP, plural), {}).items():
            roles[(kind, rns or None, rname)] = obj.get("rules") or []
    bindings = list(state.STORE.objs.get((RBAC_GROUP, "clusterrolebindings"), {}).values())
    if ns:
        bindings += [b for (bns, _), b in
                     state.STORE.objs.get((RBAC_GROUP, "rolebindings"), {}).items() if bns == ns]
    for b in bindings:
        if not any(_subject_matches(sj, user) for sj in b.get("subjects") or []):
            continue
        ref = b.get("roleRef") or {}
        if ref.get("kind") == "Role":
            rules = roles.get(("Role", b["metadata"].get("namespace"), ref.get("name")), [])
        else:
            rules = roles.get(("ClusterRole", None, ref.get("name")), [])
        if any(_rule_allows(r, group, resource, verb, name) for r in rules):
            return True
    return False
