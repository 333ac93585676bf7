#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The driver of bench/kube-sim/run.sh: a planned set (`groved plan -o
json`) pushed into a running kube-sim as the reconcile worker would push
it, timed.

1. create: the namespace, the claim templates, then every planned object
   in the worker's order (ServiceAccount, Secret, Role, RoleBinding,
   Service, PodCliqueScalingGroup, PodCliques, PodGangs, then the pods,
   gated as planned), over THREADS keep-alive connections;
2. ungate the base gang's pods (a JSON patch removing groved's gate, as
   the worker does), wait until they are bound, then ungate every other
   pod (the worker's rule for scaled gangs);
3. wait until every pod is bound (and, with --ready, Ready).

A watch on the pods, opened before step 1, timestamps each pod's binding
and readiness.  Prints one JSON object: counts, phase times, pods bound
per second, the HTTP requests this driver made and their rate per phase,
and the store writes kube-sim made meanwhile (its resourceVersion went up
by one per write: bindings, claims, events and the kubelet's status
writes included).  Standard library only.
"""

import argparse
import http.client
import json
import queue
import sys
import threading
import time
import urllib.parse

import yaml

ORDER = ["ServiceAccount", "Secret", "Role", "RoleBinding", "Service",
         "PodCliqueScalingGroup", "PodClique", "PodGang", "Pod"]
PLURAL = {"ServiceAccount": "serviceaccounts", "Secret": "secrets", "Role": "roles",
          "RoleBinding": "rolebindings", "Service": "services",
          "PodCliqueScalingGroup": "podcliquescalinggroups", "PodClique": "podcliques",
          "PodGang": "podgangs", "Pod": "pods",
          "ResourceClaimTemplate": "resourceclaimtemplates"}
GATE = "grove.io/podgang-pending-creation"


class Client:
    """One keep-alive connection; counts its requests."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.conn = None
        self.count = 0

    def req(self, method, path, body=None, ctype="application/json"):
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": ctype} if data is not None else {}
        for attempt in range(3):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                self.count += 1
                return resp.status, json.loads(raw or b"null")
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        return None, None


def path_of(obj):
    kind = obj["kind"]
    api = obj["apiVersion"]
    ns = obj["metadata"].get("namespace")
    base = "/api/" + api if "/" not in api else "/apis/" + api
    return "%s/namespaces/%s/%s" % (base, ns, PLURAL[kind])


def run_pool(url, jobs, threads):
    """Run fn(client) for each job over `threads` connections; returns
    the requests made and the failures."""
    q = queue.Queue()
    for j in jobs:
        q.put(j)
    clients = [Client(url) for _ in range(threads)]
    errors = []

    def worker(c):
        while True:
            try:
                fn = q.get_nowait()
            except queue.Empty:
                return
            try:
                fn(c)
            except Exception as e:  # noqa: BLE001 - reported at the end
                errors.append(repr(e))

    ts = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(c.count for c in clients), errors


class PodWatch:
    """Timestamps of each pod's binding and readiness, from a watch."""

    def __init__(self, url, ns, rv):
        self.url, self.ns, self.rv = url, ns, rv
        self.bound, self.ready = {}, {}
        self.cond = threading.Condition()
        self.stop = False
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        u = urllib.parse.urlsplit(self.url)
        while not self.stop:
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=300)
            conn.request("GET", "/api/v1/namespaces/%s/pods?watch=1&resourceVersion=%s"
                         % (self.ns, self.rv))
            resp = conn.getresponse()
            while not self.stop:
                line = resp.readline()
                if not line:
                    break
                ev = json.loads(line)
                obj = ev.get("object") or {}
                rv = (obj.get("metadata") or {}).get("resourceVersion")
                if rv:
                    self.rv = rv
                if ev.get("type") not in ("ADDED", "MODIFIED"):
                    continue
                name = obj["metadata"]["name"]
                now = time.monotonic()
                with self.cond:
                    if obj["spec"].get("nodeName") and name not in self.bound:
                        self.bound[name] = now
                    for c in (obj.get("status") or {}).get("conditions") or []:
                        if c.get("type") == "Ready" and c.get("status") == "True" and \
                                name not in self.ready:
                            self.ready[name] = now
                    self.cond.notify_all()
            conn.close()

    def wait(self, what, names, timeout):
        end = time.monotonic() + timeout
        d = self.bound if what == "bound" else self.ready
        with self.cond:
            while not all(n in d for n in names):
                left = end - time.monotonic()
                if left <= 0:
                    missing = [n for n in names if n not in d]
                    raise SystemExit("bench: %d pods not %s after %.0f s (e.g. %s)" % (
                        len(missing), what, timeout, missing[:3]))
                self.cond.wait(min(left, 1.0))
            return max(d[n] for n in names)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--plan", required=True, help="groved plan -o json output")
    ap.add_argument("--claims", required=True, help="the claim templates (YAML)")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--ready", action="store_true", help="wait for every pod Ready too")
    ap.add_argument("--timeout", type=float, default=900)
    a = ap.parse_args()

    with open(a.plan) as f:
        items = json.load(f)["items"]
    ns = items[0]["metadata"]["namespace"]
    with open(a.claims) as f:
        templates = [d for d in yaml.safe_load_all(f) if d]
    by_kind = {k: [o for o in items if o["kind"] == k] for k in ORDER}
    pods = by_kind["Pod"]
    names = [p["metadata"]["name"] for p in pods]
    gangs = by_kind["PodGang"]
    base = {r["name"] for pg in gangs[0]["spec"]["podgroups"] for r in pg["podReferences"]}

    c = Client(a.url)
    rv0 = int(c.req("GET", "/__sim/rv")[1]["resourceVersion"])
    code, _ = c.req("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
    assert code in (201, 409), code
    for t in templates:
        t["metadata"]["namespace"] = ns
        code, body = c.req("POST", path_of(t), t)
        assert code == 201, (code, body)
    watch = PodWatch(a.url, ns, c.req("GET", "/__sim/rv")[1]["resourceVersion"])

    def create(obj):
        def fn(cl):
            code, body = cl.req("POST", path_of(obj), obj)
            if code != 201:
                raise RuntimeError("create %s %s: %s %s" % (
                    obj["kind"], obj["metadata"]["name"], code, body))
        return fn

    def ungate(name):
        def fn(cl):
            patch = [{"op": "test", "path": "/spec/schedulingGates/0/name", "value": GATE},
                     {"op": "remove", "path": "/spec/schedulingGates/0"}]
            code, body = cl.req("PATCH", "/api/v1/namespaces/%s/pods/%s" % (ns, name), patch,
                                "application/json-patch+json")
            if code != 200:
                raise RuntimeError("ungate %s: %s %s" % (name, code, body))
        return fn

    out = {"pods": len(pods), "podgangs": len(gangs), "threads": a.threads}
    t0 = time.monotonic()
    reqs, errors = 0, []
    for kind in ORDER:
        n, e = run_pool(a.url, [create(o) for o in by_kind[kind]], a.threads)
        reqs, errors = reqs + n, errors + e
    t1 = time.monotonic()
    out["create"] = {"objects": sum(len(v) for v in by_kind.values()), "requests": reqs,
                     "seconds": round(t1 - t0, 2), "requests_per_s": round(reqs / (t1 - t0))}
    n1, e1 = run_pool(a.url, [ungate(p) for p in names if p in base], a.threads)
    t_base = watch.wait("bound", sorted(base), a.timeout)
    n2, e2 = run_pool(a.url, [ungate(p) for p in names if p not in base], a.threads)
    t2 = time.monotonic()
    errors += e1 + e2
    out["ungate"] = {"requests": n1 + n2, "seconds": round(t2 - t1, 2),
                     "requests_per_s": round((n1 + n2) / (t2 - t1)),
                     "base_bound_after_s": round(t_base - t1, 2)}
    t_bound = watch.wait("bound", names, a.timeout)
    bound_times = sorted(watch.bound[n] for n in names)
    out["bound"] = {"all_bound_after_ungate_s": round(t_bound - t1, 2),
                    "pods_bound_per_s": round(len(names) / max(t_bound - t1, 1e-6)),
                    "first_to_last_s": round(bound_times[-1] - bound_times[0], 2)}
    if a.ready:
        t_ready = watch.wait("ready", names, a.timeout)
        out["ready"] = {"all_ready_after_ungate_s": round(t_ready - t1, 2),
                        "last_ready_after_last_bound_s": round(t_ready - t_bound, 2)}
    t_end = time.monotonic()
    watch.stop = True
    rv1 = int(c.req("GET", "/__sim/rv")[1]["resourceVersion"])
    sched = c.req("GET", "/__sim/scheduler")[1]
    total = reqs + n1 + n2 + c.count
    out["http_requests"] = {"total": total, "per_s_over_run": round(total / (t_end - t0))}
    out["store_writes"] = {"total": rv1 - rv0, "per_s_over_run": round((rv1 - rv0) /
                                                                       (t_end - t0))}
    out["scheduler"] = {k: v for k, v in sched["schedulers"][0].items() if k != "waiting"}
    out["whole_run_s"] = round(t_end - t0, 2)
    if errors:
        out["errors"] = errors[:5] + (["... %d in all" % len(errors)] if len(errors) > 5
                                      else [])
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
