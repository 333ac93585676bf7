# SPDX-License-Identifier: Apache-2.0
"""kubesim: the code of kube-sim, the simulated Kubernetes API server
(tests/kube-sim/kube-sim is the command; README.md next to it the manual).

One module per concern (README.md, "Layout", lists them): errors,
restypes, selectors, patch, store (+ gc), tables, users, webhook_call,
admission, rbac, state, http_api (+ faults, discovery, writes, watch),
server, load, main.

In-process controllers (a scheduler, a kubelet, ...) work on the store
directly, not over HTTP.  The store is kubesim.state.STORE (main() sets it
before the server starts; a test may make its own kubesim.store.Store()).

Subscribe: Store.subscribe(group, plural, q=None, replay=False) returns a
queue.Queue that gets an Event(type, resource, obj, old) for every
ADDED, MODIFIED and DELETED of that resource, in resourceVersion order;
pass the same q to subscribe to several resources; replay=True first
queues an ADDED for every object already stored, atomically with the
subscription (list-then-watch with no gap).  Store.unsubscribe(q) stops it.
Events are queued under the store lock: never block on q while holding
store.cond, and do the work in the controller's own (daemon) thread.

Read: Store.get(rt, ns, name) and Store.list(rt, ns, lsel, fsel) return
deep copies; rt = store.types[(group, plural)]; lsel and fsel come from
selectors.parse_label_selector / parse_field_selector ([] matches all).

Write: Store.create(rt, ns, obj), Store.update(rt, ns, name, obj,
sub=None or "status") and Store.delete(rt, ns, name, opts) (opts a
DeleteOptions dict, {} for the default).  They are the same code the API's
writes commit through (commit_create, commit_update, delete): a new
resourceVersion, the watch history and HTTP watchers, subscriptions,
finalizers and garbage collection all see the write.  They skip admission
webhooks and RBAC, as --load and the garbage collector do.  An update
whose metadata.resourceVersion is set and stale raises the 409 ApiError
(errors.ApiError), so read-modify-write loops retry as real controllers
do; leave resourceVersion out to write unconditionally.

    import threading
    from kubesim import state
    q = state.STORE.subscribe("", "pods", replay=True)
    pods = state.STORE.types[("", "pods")]

    def run():
        while True:
            ev = q.get()                      # Event(type, resource, obj, old)
            if ev.type == "ADDED" and not ev.obj["spec"].get("nodeName"):
                pod = ev.obj
                pod["spec"]["nodeName"] = "node-1"
                state.STORE.update(pods, pod["metadata"]["namespace"],
                                   pod["metadata"]["name"], pod)
    threading.Thread(target=run, daemon=True).start()
"""
