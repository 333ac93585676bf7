# SPDX-License-Identifier: Apache-2.0
"""The garbage collector: ownerReferences (background, foreground and
orphan propagation), a background thread fed by the store's gc_queue, as
the real one is.  A mixin of Store.
"""

import copy
import sys

from .errors import ApiError


class GarbageCollector:
    """Store's garbage collection; it uses the store's objs, types, cond,
    gc_queue, update() and delete()."""

    def _dependents(self, uid):
        out = []
        for (g, pl), objs in self.objs.items():
            for k, o in objs.items():
                if any(r.get("uid") == uid for r in o["metadata"].get("ownerReferences") or []):
                    out.append((self.types[(g, pl)], k, o))
        return out

    def _find_uid(self, uid):
        for (g, pl), objs in self.objs.items():
            for k, o in objs.items():
                if o["metadata"]["uid"] == uid:
                    return self.types[(g, pl)], k, o
        return None

    def _owner_exists(self, ref, ns):
        """Whether the owner ref names (same uid) exists, in the
        dependent's namespace or cluster-wide."""
        group = ref.get("apiVersion", "").rpartition("/")[0]
        for (g, pl), rt in self.types.items():
            if g == group and rt.kind == ref.get("kind"):
                o = self.objs.get((g, pl), {}).get((ns if rt.namespaced else "", ref.get("name")))
                return o is not None and o["metadata"]["uid"] == ref.get("uid")
        return True   # a kind kube-sim does not serve: not ours to judge

    def _orphan(self, uid):
        for rt, k, o in self._dependents(uid):
            new = copy.deepcopy(o)
            new["metadata"]["ownerReferences"] = [
                r for r in o["metadata"]["ownerReferences"] if r.get("uid") != uid]
            if not new["metadata"]["ownerReferences"]:
                del new["metadata"]["ownerReferences"]
            new["metadata"].pop("resourceVersion", None)
            self.update(rt, k[0], k[1], new)

    # -- garbage collector (a background thread, like the real one)

    def gc_loop(self):
        while True:
            item = self.gc_queue.get()
            try:
                with self.cond:
                    self._gc(item)
            except ApiError:
                pass
            except Exception as e:  # keep the collector alive
                print("kube-sim: gc error: %r" % e, file=sys.stderr)

    def _gc(self, item):
        if item[0] == "delete":
            _, rt, k, policy = item
            if k in self.objs.get((rt.group, rt.plural), {}):
                self.delete(rt, k[0], k[1], {"propagationPolicy": policy})
        elif item[0] == "owner-gone":
            uid = item[1]
            for rt, k, o in self._dependents(uid):
                refs = o["metadata"].get("ownerReferences") or []
                alive = [r for r in refs if r.get("uid") != uid and self._find_uid(r.get("uid"))]
                if alive:
                    new = copy.deepcopy(o)
                    new["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != uid]
                    new["metadata"].pop("resourceVersion", None)
                    self.update(rt, k[0], k[1], new)
                else:
                    self.delete(rt, k[0], k[1], {"propagationPolicy": "Background"})
        elif item[0] == "dangling":
            # created after its owners were gone (a controller acting on a
            # stale cache): the real collector looks the owners up and
            # deletes a dependent none of whose owners exists
            _, rt, k = item
            o = self.objs.get((rt.group, rt.plural), {}).get(k)
            if o is not None and not o["metadata"].get("deletionTimestamp") and not any(
                    self._owner_exists(r, k[0]) for r in o["metadata"].get("ownerReferences") or []):
                self.delete(rt, k[0], k[1], {"propagationPolicy": "Background"})
        elif item[0] == "dependent-gone":
            found = self._find_uid(item[1])
            if found and "foregroundDeletion" in (found[2]["metadata"].get("finalizers") or []):
                self._gc(("foreground", found[0], found[1]))
        elif item[0] == "foreground":
            _, rt, k = item
            o = self.objs.get((rt.group, rt.plural), {}).get(k)
            if o is None or "foregroundDeletion" not in (o["metadata"].get("finalizers") or []):
                return
            deps = self._dependents(o["metadata"]["uid"])
            for drt, dk, d in deps:
                if not d["metadata"].get("deletionTimestamp"):
                    self.delete(drt, dk[0], dk[1], {"propagationPolicy": "Foreground"})
            if not self._dependents(o["metadata"]["uid"]):
                new = copy.deepcopy(o)
                new["metadata"]["finalizers"] = [f for f in o["metadata"]["finalizers"]
                                                 if f != "foregroundDeletion"]
                new["metadata"].pop("resourceVersion", None)
                self.update(rt, k[0], k[1], new)
