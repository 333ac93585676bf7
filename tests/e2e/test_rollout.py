#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Template changes rolled out by the reconcile worker, end to end:
`groved serve --kubeconfig` against kube-sim's cluster (nodes, DRA
claims, the gang scheduler, a kubelet), every write through groved's
own webhooks, the scenarios of the rollouts issue's "Tests":

 1. the reference workload at 4 units, maxSurge 1 on the router: every
    image changed; every pod ends on the new template, the router never
    without a Ready pod, at least one prefill:decode unit serving at
    every instant; the statuses and Events of a rollout;
 2. the image changed again halfway through a rollout, then a revert
    halfway through a third one; and (2b) a change landing while the
    worker is still making pods of the old template: every pod runs the
    images its grove.io/pod-template-hash names;
 3. kubectl scale of the group and an HPA-like PATCH of its /scale
    during a rollout: no recreation beyond the rollout's;
 4. kill -9 of the leader at several points of a rollout, two replicas;
 5. OnDelete: nothing moves until pods are deleted; updatedReplicas
    counts exactly the replaced ones;
 6. maxUnavailable 2 on a group of 6 units and a progressDeadline that
    expires on an image that never turns Ready: held, the set's
    UpdateInProgress says ProgressDeadlineExceeded, the old units keep
    serving; fixed, the rollout completes.

A RolloutWatcher (e2elib) follows each set's pods in one watch stream
and checks the invariant at every event: Ready pods per standalone
PodClique never below minAvailable (one below allowed where it equals
replicas without maxSurge), at least the group's minAvailable units
available, no unit with Ready pods of two templates; at the end no pod
gated. Scenario 1's Ready pods per template over time are drawn as an
SVG (ROLLOUT_TIMELINE_SVG, else the temporary directory).

kube-sim runs at --time-scale 0.05: containers Ready 50 ms after they
start, the reference workload's 30 s grace period is 1.5 s; the other
sets take 2 s (0.1 s).

Usage: test_rollout.py GROVED REPO_ROOT [SCENARIO...]   (e.g. s1 s6)
"""
import collections
import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import (GATE, L_HASH, RolloutWatcher, Watch, plan_templates,  # noqa: E402
                    pod_gated, pod_ready, rv_of, wait_for)

GROVED, ROOT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
ONLY = set(sys.argv[3:])
PCS = "vllm-disaggregated"
NS = "inference"
TIME_SCALE = 0.05
GRACE = 2   # the small sets' terminationGracePeriodSeconds (0.1 s here)
R = e2elib.Results()
GROUP = "/apis/grove.io/v1alpha1/namespaces/%s/%s/%s"


class World(e2elib.Cluster):
    """kube-sim with the reference nodes, groved's webhooks registered,
    groved (one leading worker, or a webhook replica and elected
    workers), all at --log-level debug."""

    def __init__(self, tmp, name, workers=1, leader_elect=False):
        super().__init__(GROVED, ROOT, tmp, name, TIME_SCALE, ["--log-level", "debug"])
        self.n = 0
        self.start(workers, leader_elect, lambda i: self.start_worker())

    def start_worker(self):
        """An elected worker with a short Lease (a failover in about 1 s)."""
        self.n += 1
        return self.start_groved("w%d" % self.n, [
            "--leader-elect", "--leader-lease-duration", "1s", "--leader-renew-deadline",
            "700ms", "--leader-retry-period", "100ms"])

    def close(self):
        """SIGTERM to every groved at once, then each waited for."""
        t = time.monotonic()
        for g in self.groveds:
            if g.alive():
                g.p.send_signal(signal.SIGTERM)
        # not a test of the shutdown (e2e-worker's): 3 s, then kill -9
        killed = []
        for g in self.groveds:
            try:
                g.p.wait(timeout=max(0.1, t + 3 - time.monotonic()))
            except subprocess.TimeoutExpired:
                killed.append(g.name)
                g.kill()
        self.sim.stop()
        print("# %s: groved and kube-sim stopped in %.1f s%s" % (
            os.path.basename(self.tmp), time.monotonic() - t,
            " (killed after 3 s: %s)" % ", ".join(killed) if killed else ""))

    def get(self, kind, ns, name):
        code, out = self.sim.request("GET", GROUP % (ns, kind, name))
        return out if code == 200 else None

    def events(self, ns, pcs):
        code, out = self.sim.request("GET", "/api/v1/namespaces/%s/events" % ns)
        return [e for e in (out.get("items") or [] if code == 200 else [])
                if (e.get("involvedObject") or {}).get("name") == pcs]

    def dump(self, ns, watcher=None, since=None):
        rc, out, err = self.k("get", "pcs,pclq,pcsg,pg,pods", "-n", ns, "-o", "wide")
        print("  --- kubectl get pcs,pclq,pcsg,pg,pods -n %s\n%s%s" % (ns, out, err))
        for s in self.sim.items("pcs", "-n", ns):
            print("  pcs %s status: %s" % (s["metadata"]["name"],
                                          json.dumps(s.get("status"))[:2500]))
        if watcher is not None:
            print("  --- the watcher\n  " + watcher.report(since).replace("\n", "\n  "))
        self.print_logs(30, 300, 15)


# ---- sets ----------------------------------------------------------------


def small_set(name, ns, tag="v1", units=3, per_unit=(1, 2), router=2, router_min=1,
              group_min=1, strategy=None, group_rolling=None, router_rolling=None,
              annotations=None, scale_max=None, grace=GRACE):
    """A template-form set without GPUs, every clique AnyOrder: `router`
    pods (none if 0), and a group `pd` of `units` units of prefill and
    decode pods (per_unit). tag: the images' tag (a template change)."""
    def clique(cname, replicas, min_avail=None, rolling=None):
        c = {"name": cname, "spec": {
            "roleName": cname, "replicas": replicas,
            "podSpec": {"terminationGracePeriodSeconds": grace, "containers": [
                {"name": "main", "image": "registry.example/%s:%s" % (cname, tag)}]}}}
        if min_avail is not None:
            c["spec"]["minAvailable"] = min_avail
        if rolling:
            c["rollingUpdate"] = rolling
        if annotations and cname != "router":
            c["annotations"] = dict(annotations)
        return c
    cliques = [clique("router", router, router_min, router_rolling)] if router else []
    cliques += [clique("prefill", per_unit[0]), clique("decode", per_unit[1])]
    group = {"name": "pd", "cliqueNames": ["prefill", "decode"], "replicas": units,
             "minAvailable": group_min}
    if group_rolling:
        group["rollingUpdate"] = group_rolling
    if scale_max:
        group["scaleConfig"] = {"minReplicas": 1, "maxReplicas": scale_max}
    spec = {"replicas": 1, "template": {"cliques": cliques, "podCliqueScalingGroups": [group]}}
    if strategy:
        spec["updateStrategy"] = {"type": strategy}
    return {"apiVersion": "grove.io/v1alpha1", "kind": "PodCliqueSet",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def namespace(w, ns):
    rc, out, err = w.sim.apply({"apiVersion": "v1", "kind": "Namespace",
                                "metadata": {"name": ns}})
    return rc == 0


class Template(dict):
    """{clique: grove.io/pod-template-hash} of a set's template, and
    .images: {clique: [container images]} (groved plan's)."""


def tpl(pcs):
    hashes, images = plan_templates(GROVED, pcs)
    t = Template(hashes)
    t.images = images
    return t


def on_template(pods, t, n):
    """The pods if they are n, all Ready, none terminating or gated, each
    labelled with its clique's hash of template t and running its
    images."""
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    ok = len(pods) == n and len(live) == n and all(
        pod_ready(p) and not pod_gated(p, GATE) and
        t.get(p["metadata"]["labels"].get(e2elib.L_CLIQUE))
        == p["metadata"]["labels"].get(L_HASH) and
        t.images.get(p["metadata"]["labels"].get(e2elib.L_CLIQUE))
        == [c.get("image") for c in p["spec"].get("containers") or []] for p in pods)
    return pods if ok else None


def wait_rolled(w, ns, pcs, hashes, n, timeout=60):
    return wait_for(lambda: on_template(w.set_pods(ns, pcs), hashes, n), timeout, 0.05)


def hist(pods):
    """{template hash: pods} of a LIST, for a message."""
    out = {}
    for p in pods:
        h = p["metadata"]["labels"].get(L_HASH)
        out[h] = out.get(h, 0) + 1
    return out


def count_on(wt, v, live_only=True):
    """Pods of the watcher's state on version v (not terminating)."""
    return wt.query(lambda s: sum(1 for st in s.pods.values()
                                  if v in s.compatible(st) and not
                                  (live_only and st["terminating"])))


def uid_set(wt, pred):
    return wt.query(lambda s: {st["uid"] for st in s.pods.values() if pred(s, st)})


def apply_ready(w, ns, name, doc, t, n, what):
    """Applies the set doc (template t); the check what: its n pods
    Ready on t."""
    rc, out, err = w.sim.apply(doc)
    return R.check(what, rc == 0 and wait_rolled(w, ns, name, t, n), err)


def watch(w, ns, name, t):
    """A RolloutWatcher of the set, started on template t ("v1"), and
    the time it started; a failed check dumps the world and the watcher."""
    wt = RolloutWatcher(w.sim, ns, name)
    wt.add_version("v1", t, t.images)
    wt.start()
    t0 = time.monotonic()
    R.on_failure = lambda what: w.dump(ns, wt, t0)
    return wt, t0


def version(wt, label, t):
    """Template t as the watcher's next version, label."""
    return wt.add_version(label, t, t.images)


def roll_halfway(w, wt, label, t, doc, n, tag):
    """doc (template t) applied as version label; checked: half the n
    pods on it (a rollout in progress). The version."""
    v = version(wt, label, t)
    w.sim.apply(doc)
    half = wait_for(lambda: count_on(wt, v) >= n // 2, 30, 0.01)
    R.check("%s: %s rolls: halfway (%d of %d pods on %s)" % (tag, label, count_on(wt, v), n,
                                                              label), half)
    return v


def change_planned(w, wt, label, t, doc, what):
    """doc (template t) applied as version label; the check what: the
    worker plans with it. (the version, when it was applied)."""
    v = version(wt, label, t)
    t_applied = time.monotonic()
    rc, out, err = w.sim.apply(doc)
    R.check(what, rc == 0 and wt.wait_planned(v), err)
    return v, t_applied


def check_watch(tag, wt, since, gated_too=True):
    """The invariant held throughout, and (at the end) no pod gated."""
    wt.sync()
    R.check("%s: the invariant held at every event (%d pod events; least available: %s)"
            % (tag, wt.events_seen, ", ".join("%s %d" % kv for kv in sorted(wt.minimum.items()))),
            not wt.violations, wt.report(since))
    if gated_too:
        gated = [n for n, st in wt.snapshot().items() if st["gated"]]
        R.check("%s: no pod left gated" % tag, not gated, gated)


def bad_deletions(wt, since, exclude=lambda st: False):
    """Pods deleted after since that were not outdated for the worker
    when they were deleted."""
    return [(round(t - since, 3), st["name"], st["hash"]) for t, st in
            wt.query(lambda s: list(s.deleted))
            if t >= since and not exclude(st) and not wt.outdated_at(t, st)]


def bad_creations(wt, since):
    """Pods created after since on a template the worker no longer had
    (a change during a rollout must not finish the older one first)."""
    out = []
    for t, st in wt.query(lambda s: list(s.created)):
        if t >= since and not any(wt.versions[i]["hashes"].get(st["clique"]) == st["hash"]
                                  for i in wt.current_at(t)):
            out.append((round(t - since, 3), st["name"], st["hash"]))
    return out


def timed(what):
    def deco(fn):
        def run(*a):
            t = time.monotonic()
            try:
                return fn(*a)
            finally:
                TIMES.append((what, time.monotonic() - t))
                print("# %s: %.1f s" % (what, time.monotonic() - t))
                sys.stdout.flush()
        return run
    return deco


TIMES = []


# ---- the timeline picture ------------------------------------------------


def timeline_svg(series, names, title, note, end=None, marks=()):
    """Ready pods per template over time as stacked steps, an SVG text.
    series: [(seconds, {name: count})]; names: stacking order, bottom
    first; marks: [(seconds, label)] written above the plot."""
    colours = ["#8c8c8c", "#1f77b4", "#ff7f0e", "#2ca02c"]
    W, H, L, Rm, T, B = 760, 400, 60, 170, 62, 50
    pw, ph = W - L - Rm, H - T - B
    tmax = max([t for t, _ in series] + [end or 0]) * 1.05 or 1.0
    ymax = max([sum(c.values()) for _, c in series] + [1])
    ystep = max(1, -(-ymax // 6))
    ymax = -(-ymax // ystep) * ystep

    def x(t):
        return L + pw * t / tmax

    def y(n):
        return T + ph - ph * n / ymax
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">' % (W, H, W, H),
           '<rect width="%d" height="%d" fill="white"/>' % (W, H),
           '<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>' % (L, title),
           '<text x="%d" y="40" font-size="11" fill="#444444">Ready pods per template; old'
           ' pods deleted at the marks; dashed: every pod new and Ready</text>' % L]
    # stacked steps: each layer a polygon between its base and its top
    pts = series + [(tmax / 1.05, series[-1][1])]
    base = [0] * len(pts)
    for k, name in enumerate(names):
        top = [b + c.get(name, 0) for b, (_, c) in zip(base, pts)]
        upper, lower = [], []
        for i, (t, _) in enumerate(pts):
            t2 = pts[i + 1][0] if i + 1 < len(pts) else t
            upper += [(x(t), y(top[i])), (x(t2), y(top[i]))]
            lower += [(x(t), y(base[i])), (x(t2), y(base[i]))]
        poly = upper + lower[::-1]
        out.append('<polygon fill="%s" fill-opacity="0.85" stroke="none" points="%s"/>' % (
            colours[k % len(colours)], " ".join("%.1f,%.1f" % p for p in poly)))
        base = top
    # axes, ticks, grid
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (L, T + ph, L + pw,
                                                                          T + ph))
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (L, T, L, T + ph))
    n = 0
    while n <= ymax:
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#dddddd"/>'
                   % (L, y(n), L + pw, y(n)))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%d</text>' % (L - 6, y(n) + 4, n))
        n += ystep
    tstep = next(s for s in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if tmax / s <= 10)
    t = 0.0
    while t <= tmax:
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black"/>'
                   % (x(t), T + ph, x(t), T + ph + 5))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%g</text>'
                   % (x(t), T + ph + 18, round(t, 1)))
        t += tstep
    if end is not None:
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black" '
                   'stroke-dasharray="4,3"/>' % (x(end), T, x(end), T + ph))
        out.append('<text x="%.1f" y="%d" text-anchor="end">rollout done, %.1f s</text>'
                   % (x(end) - 4, T + 12, end))
    merged = []
    for t, label in sorted(marks):
        if merged and x(t) - x(merged[-1][0]) < 40:
            merged[-1] = (merged[-1][0], merged[-1][1] + ", " + label)
        else:
            merged.append((t, label))
    for t, label in merged:
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#555555"/>'
                   % (x(t), T - 4, x(t), T + 6))
        out.append('<text x="%.1f" y="%d" font-size="10" text-anchor="start">%s</text>'
                   % (x(t) + 2, T - 6, label))
    out.append('<text x="%d" y="%d" text-anchor="middle">%s</text>'
               % (L + pw / 2, H - 12, note))
    out.append('<text transform="translate(16,%d) rotate(-90)" text-anchor="middle">'
               'Ready pods</text>' % (T + ph / 2))
    for k, name in enumerate(names):
        ly = T + 10 + 22 * k
        out.append('<rect x="%d" y="%d" width="14" height="14" fill="%s"/>'
                   % (L + pw + 16, ly, colours[k % len(colours)]))
        out.append('<text x="%d" y="%d">%s</text>' % (L + pw + 36, ly + 11, name))
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ---- scenarios -----------------------------------------------------------


def reference(units):
    pcs = yaml.safe_load(open(os.path.join(ROOT, "examples", "vllm-disaggregated.yaml")))
    pcs["spec"]["replicas"] = units
    for c in pcs["spec"]["podCliques"]:
        if c["name"] == "router-clique":
            c["rollingUpdate"] = {"maxSurge": 1}
    return pcs


@timed("1. the reference workload at 4 units, every image changed")
def s1_reference(w, tmp):
    if not w.apply_base(R, NS, "s1"):
        return
    old = reference(4)
    rc, out, err = w.sim.apply(old)
    R.check("s1: the reference workload at 4 units, rollingUpdate maxSurge 1 on the router",
            rc == 0, err)
    h_old = tpl(old)
    if not R.check("s1: 13 pods Ready (1 router, 4 prefill, 8 decode)",
                   wait_rolled(w, NS, PCS, h_old, 13), hist(w.set_pods(NS, PCS))):
        return
    before = w.get("podcliquesets", NS, PCS) or {}
    hash_before = (before.get("status") or {}).get("currentGenerationHash")
    new = copy.deepcopy(old)
    for c in new["spec"]["podCliques"]:
        for ct in c["containers"]:
            ct["image"] = ct["image"].replace(":1.0.0", ":1.1.0").replace(":latest", ":25.06")
    h_new = tpl(new)
    R.check("s1: every clique's template hash changes with its image",
            sorted(h_old) == sorted(h_new) and all(h_old[c] != h_new[c] for c in h_old),
            "%s -> %s" % (h_old, h_new))
    wt = RolloutWatcher(w.sim, NS, PCS, surge=["router-clique"])
    version(wt, "old images", h_old)
    wt.start()
    sets = Watch(w.sim, "/apis/grove.io/v1alpha1/namespaces/%s/podcliquesets" % NS)
    cliques = Watch(w.sim, "/apis/grove.io/v1alpha1/namespaces/%s/podcliques" % NS)
    start_uids = uid_set(wt, lambda s, st: True)
    t0 = time.monotonic()
    version(wt, "new images", h_new)
    R.on_failure = lambda name: w.dump(NS, wt, t0)
    wall0 = time.time()
    rc, out, err = w.sim.apply(new)
    R.check("s1: kubectl apply of every image changed", rc == 0, err)
    R.check("s1: the worker plans the new template", wt.wait_planned(1))
    pods = wait_rolled(w, NS, PCS, h_new, 13, 90)
    R.check("s1: every pod ends on the new template, Ready (13)", pods,
            hist(w.set_pods(NS, PCS)))
    check_watch("s1", wt, t0)
    wt.stop()
    if not pods:
        return
    images = sorted({c["image"] for p in pods for c in p["spec"]["containers"]})
    R.check("s1: every pod runs a new image (%s)" % ", ".join(images),
            all(":1.1.0" in i or ":25.06" in i for i in images), images)
    router = [p for p in pods if p["metadata"]["labels"].get(e2elib.L_CLIQUE)
              == "router-clique"]
    R.check("s1: the router never without a Ready pod (least: %d)"
            % wt.minimum.get(PCS + "-0-router-clique", -1),
            wt.minimum.get(PCS + "-0-router-clique", 0) >= 1)
    R.check("s1: at least one prefill:decode unit served at every instant (least: %d)"
            % wt.minimum.get(PCS + "-0-prefill-decode-ratio", -1),
            wt.minimum.get(PCS + "-0-prefill-decode-ratio", 0) >= 1)
    surged = [st["name"] for t, st in wt.created if st["clique"] == "router-clique"]
    R.check("s1: the router's replacement came first, under a suffixed name (%s), hostname"
            " %s-0-router-clique-0" % (", ".join(surged), PCS),
            router and all(p["metadata"]["name"].startswith(PCS + "-0-router-clique-0-")
                           and p["spec"].get("hostname") == PCS + "-0-router-clique-0"
                           and p["metadata"]["labels"].get("grove.io/podclique-pod-index")
                           == "0" for p in router),
            [(p["metadata"]["name"], p["spec"].get("hostname")) for p in router])
    # the order: the router (the parent) first, then the scaled units,
    # the base unit (0) last
    dels = [(t, st) for t, st in wt.deleted if t >= t0]
    first_del = {}
    for t, st in dels:
        key = "router" if st["clique"] == "router-clique" else "unit %s" % st["unit"]
        first_del.setdefault(key, t)
    order = [k for k, _ in sorted(first_del.items(), key=lambda kv: kv[1])]
    R.check("s1: the router rolled before any unit, the base unit 0 after the scaled ones"
            " (%s)" % ", ".join(order),
            len(order) == 5 and order[0] == "router" and order[-1] == "unit 0", order)
    deleted = [st["uid"] for t, st in dels]
    R.check("s1: each of the 13 pods of before deleted exactly once, no new one deleted",
            sorted(deleted) == sorted(start_uids) and not bad_deletions(wt, t0),
            [(round(t - t0, 2), st["name"], st["hash"]) for t, st in dels])
    # the end of the rollout: the first instant every Ready pod was new
    done = next((t for t, c in wt.samples if t > t0 and set(c) <= set(h_new.values())
                 and sum(c.values()) == 13), None)
    dur = (done - t0) if done else -1
    print("# s1: rollout of 13 pods (router + 4 units): %.2f s from kubectl apply to the"
          " last new pod Ready (kube-sim time x%g: %.0f s)" % (dur, 1 / TIME_SCALE,
                                                               dur / TIME_SCALE))
    RESULTS["s1_duration"] = dur
    # statuses
    def finished():
        s = w.get("podcliquesets", NS, PCS) or {}
        st = s.get("status") or {}
        up = st.get("updateProgress") or {}
        return s if up.get("updateEndedAt") and st.get("currentGenerationHash") != \
            hash_before and up.get("podCliqueSetGenerationHash") == st.get(
                "currentGenerationHash") and st.get("updatedReplicas") == 4 else None
    s = wait_for(finished, 15, 0.1) or w.get("podcliquesets", NS, PCS) or {}
    st = s.get("status") or {}
    up = st.get("updateProgress") or {}
    R.check("s1: status.currentGenerationHash is the new template's (%s, was %s), that of"
            " updateProgress" % (st.get("currentGenerationHash"), hash_before),
            st.get("currentGenerationHash") and st.get("currentGenerationHash") != hash_before
            and up.get("podCliqueSetGenerationHash") == st.get("currentGenerationHash"),
            json.dumps(st))
    started, ended = up.get("updateStartedAt"), up.get("updateEndedAt")
    wall_start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(wall0)))
    wall_now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 1))
    R.check("s1: updateProgress.updateStartedAt %s <= updateEndedAt %s, within the rollout"
            % (started, ended), started and ended and wall_start <= started <= ended
            <= wall_now, json.dumps(up))
    R.check("s1: updateProgress counts every PodClique and group updated (%s/%s, %s/%s)"
            % (up.get("updatedPodCliquesCount"), up.get("totalPodCliquesCount"),
               up.get("updatedPodCliqueScalingGroupsCount"),
               up.get("totalPodCliqueScalingGroupsCount")),
            up.get("totalPodCliquesCount") == 9 and up.get("updatedPodCliquesCount") == 9 and
            up.get("totalPodCliqueScalingGroupsCount") == 1 and
            up.get("updatedPodCliqueScalingGroupsCount") == 1, json.dumps(up))
    R.check("s1: status.updatedReplicas %s = replicas %s" % (st.get("updatedReplicas"),
                                                               st.get("replicas")),
            st.get("updatedReplicas") == st.get("replicas") == 4, json.dumps(st))
    cond = next((c for c in st.get("conditions") or [] if c.get("type") == "UpdateInProgress"),
                {})
    R.check("s1: condition UpdateInProgress False at the end (%s)" % cond.get("reason"),
            cond.get("status") == "False", json.dumps(cond))
    def children():
        objs = w.sim.list("pclq", NS, "app.kubernetes.io/part-of=" + PCS) + \
            w.sim.list("pcsg", NS, "app.kubernetes.io/part-of=" + PCS)
        return objs if objs and all((o.get("status") or {}).get("updatedReplicas") ==
                                    o["spec"].get("replicas") for o in objs) else None
    objs = wait_for(children, 10, 0.1) or \
        w.sim.list("pclq", NS, "app.kubernetes.io/part-of=" + PCS) + \
        w.sim.list("pcsg", NS, "app.kubernetes.io/part-of=" + PCS)
    R.check("s1: updatedReplicas = replicas on every PodClique and the group",
            children(),
            [(o["metadata"]["name"], (o.get("status") or {}).get("updatedReplicas"),
              o["spec"].get("replicas")) for o in objs])
    sets.stop()
    cliques.stop()
    # what the statuses said during the rollout, as the watches saw them
    became = min((rv_of(o) for t, typ, o in sets.snapshot() if (o.get("status") or {}).get(
        "currentGenerationHash") == st.get("currentGenerationHash")), default=0)
    R.check("s1: currentGenerationHash changed (rv %d) only once no pod was outdated (rv %d)"
            % (became, wt.outdated_rv), became > wt.outdated_rv > 0)
    rolling = [c for t, typ, o in sets.snapshot() if t >= t0
               for c in (o.get("status") or {}).get("conditions") or []
               if c.get("type") == "UpdateInProgress" and c.get("status") == "True"]
    ended = min((rv_of(o) for t, typ, o in sets.snapshot() if ((o.get("status") or {}).get(
        "updateProgress") or {}).get("updateEndedAt")), default=0)
    done_rv = next((rv for (t, c), rv in zip(wt.samples, wt.sample_rvs) if t == done), 0)
    R.check("s1: updateEndedAt written (rv %d) once every new pod was Ready (rv %d)"
            % (ended, done_rv), ended > done_rv > 0)
    R.check("s1: during the rollout the set said UpdateInProgress True (%s)"
            % (rolling[0].get("message") if rolling else None),
            rolling and rolling[0].get("reason") == "RollingRecreate", rolling[:1])
    def said(status):
        return {o["metadata"]["name"] for t, typ, o in cliques.snapshot() if t >= t0
                for c in (o.get("status") or {}).get("conditions") or []
                if c.get("type") == "MinAvailableBreached" and c.get("status") == status}
    rolled = {st["pclq"] for t, st in dels if st["pcsg"]}
    R.check("s1: each PodClique of a recreated unit said MinAvailableBreached Unknown"
            " (UpdateInProgress) while rolled (%d of %d)" % (len(rolled & said("Unknown")),
                                                             len(rolled)),
            len(rolled) == 8 and rolled <= said("Unknown"), sorted(rolled - said("Unknown")))
    R.check("s1: and none said MinAvailableBreached True (a rollout within budget is no"
            " breach)", not said("True"), sorted(said("True")))
    print("# s1: the set's Events: %s" % json.dumps(collections.Counter(
        e.get("reason") for e in w.events(NS, PCS))))
    reasons = [e.get("reason") for e in w.events(NS, PCS)]
    R.check("s1: Events RolloutStarted, RolloutUnitUpdated or RolloutPodUpdated, RolloutFinished",
            "RolloutStarted" in reasons and "RolloutFinished" in reasons and
            ("RolloutUnitUpdated" in reasons or "RolloutPodUpdated" in reasons), reasons)
    # the picture
    series = wt.timeline(t0, done + 0.5 if done else None)
    marks = [(t - t0, k) for k, t in first_del.items()]
    svg = timeline_svg(series, ["old images", "new images"],
                       "The reference workload at 4 units, every image changed",
                       "seconds since kubectl apply (kube-sim x%g: grace 30 s = %.1f s, Ready"
                       " 1 s = %.2f s)" % (1 / TIME_SCALE, 30 * TIME_SCALE, TIME_SCALE),
                       dur if done else None, marks)
    path = os.environ.get("ROLLOUT_TIMELINE_SVG") or os.path.join(tmp, "rollout-timeline.svg")
    with open(path, "w") as f:
        f.write(svg)
    least = min(sum(c.values()) for _, c in series) if series else -1
    RESULTS["s1_least_ready"] = least
    print("# s1: timeline picture: %s (%d steps; Ready pods never below %d of 13)"
          % (path, len(series), least))
    R.on_failure = None


RESULTS = {}


@timed("2. a change during a rollout, then a revert during a third")
def s2_change(w, tmp):
    ns, name = "change", "roll"
    namespace(w, ns)
    sets = [small_set(name, ns, tag) for tag in ("v1", "v2", "v3", "v4")]
    hs = [tpl(s) for s in sets]
    n = 2 + 3 * 3
    if not apply_ready(w, ns, name, sets[0], hs[0], n, "s2: a set of a router (2 pods) and 3"
                       " units of prefill and 2 decode: %d pods Ready" % n):
        return
    wt, t0 = watch(w, ns, name, hs[0])
    roll_halfway(w, wt, "v2", hs[1], sets[1], n, "s2")
    _, t_v3 = change_planned(w, wt, "v3", hs[2], sets[2],
                          "s2: v3 applied halfway through v2's rollout; the worker plans it")
    R.check("s2: every pod ends on v3, Ready", wait_rolled(w, ns, name, hs[2], n),
            hist(w.set_pods(ns, name)))
    wt.sync()
    R.check("s2: no pod created on v2 once v3 was planned (the rollout went on to v3)",
            not bad_creations(wt, t_v3), bad_creations(wt, t_v3))
    R.check("s2: every pod deleted was outdated for the worker when deleted",
            not bad_deletions(wt, t0), bad_deletions(wt, t0))
    roll_halfway(w, wt, "v4", hs[3], sets[3], n, "s2")
    back, t_back = change_planned(w, wt, "v3 again", hs[2], sets[2], "s2: reverted to v3"
                                  " halfway through v4's rollout; the worker plans it")
    keep = uid_set(wt, lambda s, st: back in s.compatible(st) and not st["terminating"])
    R.check("s2: every pod ends on v3 again, Ready", wait_rolled(w, ns, name, hs[2], n),
            hist(w.set_pods(ns, name)))
    wt.sync()
    now = uid_set(wt, lambda s, st: True)
    R.check("s2: the %d pods still on v3 at the revert were not touched" % len(keep),
            keep and keep <= now, sorted(keep - now))
    R.check("s2: every pod deleted was outdated for the worker when deleted (the revert"
            " recreates only v4's)", not bad_deletions(wt, t0), bad_deletions(wt, t0))
    R.check("s2: nothing created on v4 after the revert was planned",
            not bad_creations(wt, t_back), bad_creations(wt, t_back))
    check_watch("s2", wt, t0)
    wt.stop()
    R.on_failure = None


@timed("2b. a change landing while the worker makes pods")
def s2_race(w, tmp):
    """The template changes while the worker's round, planned on the old
    one, is still making pods (kube-sim answers every request 150 ms
    late): every pod must end running the images of the template its
    grove.io/pod-template-hash names, the new one."""
    import threading
    ns, name = "race", "race"
    namespace(w, ns)
    old = small_set(name, ns, "v1", units=1, router=4, router_min=1)
    new = small_set(name, ns, "v2", units=1, router=4, router_min=1)
    h_old, h_new = tpl(old), tpl(new)
    n = 4 + 3
    if not apply_ready(w, ns, name, old, h_old, n,
                       "s2: a set of 4 router pods and one unit: %d pods Ready" % n):
        return
    routers = sorted(p["metadata"]["name"] for p in w.set_pods(ns, name)
                     if p["metadata"]["labels"].get(e2elib.L_CLIQUE) == "router")
    w.sim.admin("/__sim/latency?ms=150")
    try:
        applied = []
        th = threading.Thread(target=lambda: applied.append(w.sim.apply(new)))
        rc, out, err = w.k("delete", "pod", "-n", ns, "--wait=false", *routers)
        th.start()
        th.join(60)
    finally:
        w.sim.admin("/__sim/latency?ms=0")
    R.check("s2: the router's pods deleted while v2 is applied (150 ms a request)",
            rc == 0 and applied and applied[0][0] == 0, err + str(applied))
    pods = wait_rolled(w, ns, name, h_new, n, 10)
    R.check("s2: every pod ends on v2, each running v2's images", pods, json.dumps([
        (p["metadata"]["name"], p["metadata"]["labels"].get(L_HASH),
         [c.get("image") for c in p["spec"].get("containers") or []])
        for p in w.set_pods(ns, name)]))


@timed("3. kubectl scale and an HPA's /scale during a rollout")
def s3_scale(w, tmp):
    ns, name = "hpa", "scaled"
    pcsg = "%s-0-pd" % name
    namespace(w, ns)
    # a grace of 10 s (0.5 s here): the rollout lasts long enough for
    # both scale changes to land during it
    old = small_set(name, ns, "v1", units=3, scale_max=6, grace=10)
    new = small_set(name, ns, "v2", units=3, scale_max=6, grace=10)
    h_old, h_new = tpl(old), tpl(new)
    if not apply_ready(w, ns, name, old, h_old, 11,
                       "s3: a set with a group of 3 units, scaleConfig 1..6: 11 pods Ready"):
        return
    code, hpa = w.sim.request("GET", "/apis/autoscaling/v2/namespaces/%s/"
                              "horizontalpodautoscalers/%s" % (ns, pcsg))
    R.check("s3: groved made the group's HorizontalPodAutoscaler (scaleTargetRef %s)" % pcsg,
            code == 200 and (hpa.get("spec") or {}).get("scaleTargetRef", {}).get("name")
            == pcsg, json.dumps(hpa)[:400])
    wt, t0 = watch(w, ns, name, h_old)
    start_uids = uid_set(wt, lambda s, st: True)
    start_names = set(wt.snapshot())
    v = version(wt, "v2", h_new)

    def outdated():
        return wt.query(lambda s: sum(1 for st in s.pods.values()
                                      if v not in s.compatible(st)))
    w.sim.apply(new)
    R.check("s3: the rollout reaches the group (a unit's pods deleted)", wait_for(
        lambda: wt.query(lambda s: any(st["pcsg"] for t, st in s.deleted)), 30, 0.01))
    rc, out, err = w.k("scale", "pcsg", "-n", ns, pcsg, "--replicas=5")
    left = outdated()
    R.check("s3: kubectl scale pcsg %s --replicas=5 during the rollout (%d pods still on v1)"
            % (pcsg, left), rc == 0 and left > 0, err)
    R.check("s3: the new units' pods are made", wait_for(lambda: wt.query(
        lambda s: {st["unit"] for st in s.pods.values() if st["pcsg"]} >= {"3", "4"}), 30, 0.01))
    code, out = w.sim.request("PATCH", GROUP % (ns, "podcliquescalinggroups", pcsg) + "/scale",
                              {"spec": {"replicas": 4}}, ctype="application/merge-patch+json")
    left = outdated()
    R.check("s3: PATCH of its /scale to 4 as the HPA controller writes it, during the rollout"
            " (%d pods still on v1)" % left, code == 200 and left > 0, out)
    R.check("s3: every pod ends on v2, Ready (2 + 4 units of 3)",
            wait_rolled(w, ns, name, h_new, 14), hist(w.set_pods(ns, name)))
    g = w.get("podcliquescalinggroups", ns, pcsg) or {}
    R.check("s3: the group keeps the HPA's 4", (g.get("spec") or {}).get("replicas") == 4,
            json.dumps(g.get("spec")))
    wt.sync()
    scaled_in = [st["name"] for t, st in wt.deleted if st["pcsg"] and int(st["unit"]) >= 4]
    bad = bad_deletions(wt, t0, lambda st: st["pcsg"] and int(st["unit"]) >= 4)
    R.check("s3: every pod deleted was outdated (v1) when deleted, beside unit 4's %d"
            " removed by the scale-in" % len(scaled_in), not bad, bad)
    deleted = [st["uid"] for t, st in wt.deleted if st["uid"] in start_uids]
    R.check("s3: each of the %d pods of before deleted exactly once (no recreation beyond"
            " the rollout's)" % len(start_uids),
            sorted(deleted) == sorted(start_uids), "%d deleted of %d; twice: %s" % (
                len(deleted), len(start_uids), len(deleted) - len(set(deleted))))
    fresh = [(st["name"], st["hash"]) for t, st in wt.created
             if st["pcsg"] and int(st["unit"]) >= 3]
    R.check("s3: the new units 3 and 4 came up on v2 (%d pods)" % len(fresh),
            fresh and all(h_new.get(n.split("-")[-2]) == h for n, h in fresh)
            and len(fresh) == 6, fresh)
    rec = [st for t, st in wt.created if st["name"] in start_names]
    print("# s3: %d pods recreated by the rollout, %d created by the scale-up, %d removed by"
          " the scale-in" % (len(rec), len(fresh), len(scaled_in)))
    check_watch("s3", wt, t0)
    wt.stop()
    R.on_failure = None


@timed("4. kill -9 of the leader at several points of a rollout")
def s4_leader(tmp):
    t_start = time.monotonic()
    w = World(tmp, "leader", workers=2, leader_elect=True)
    print("# s4: kube-sim and three groveds up in %.1f s" % (time.monotonic() - t_start))
    ns, name = "lead", "led"
    try:
        namespace(w, ns)
        first = wait_for(w.leader, 30, 0.05)
        if not R.check("s4: one of two replicas leads", first):
            return
        old = small_set(name, ns, "v1", units=4)
        new = small_set(name, ns, "v2", units=4)
        h_old, h_new = tpl(old), tpl(new)
        n = 2 + 3 * 4
        if not apply_ready(w, ns, name, old, h_old, n,
                           "s4: a set of a router (2 pods) and 4 units: %d pods Ready" % n):
            return
        print("# s4: leader elected and the set Ready %.1f s after the start"
              % (time.monotonic() - t_start))
        wt, t0 = watch(w, ns, name, h_old)
        start_uids = uid_set(wt, lambda s, st: True)
        v = version(wt, "v2", h_new)
        w.sim.apply(new)
        # the points: the first deletion of the rollout (the router's
        # pod), a unit's pods just deleted, halfway
        points = [("at the rollout's first deletion",
                   lambda: wt.query(lambda s: len(s.deleted) >= 1)),
                  ("just after a unit's pods were deleted",
                   lambda: wt.query(lambda s: any(st["pcsg"] for t, st in s.deleted))),
                  ("halfway", lambda: count_on(wt, v) >= n // 2 and wt.query(
                      lambda s: any(st["terminating"] or st["gated"] for st in
                                    s.pods.values())))]
        for what, when in points:
            leader = w.leader()
            got = wait_for(when, 30, 0.005)
            if not R.check("s4: the rollout reaches the point: %s" % what, got):
                break
            leader = w.leader() or leader
            if leader is None:
                R.check("s4: a leader to kill %s" % what, False)
                break
            leader.kill()
            w.start_worker()
            k = time.monotonic()
            nxt = wait_for(lambda: w.leader() if w.leader() not in (None, leader) else None,
                           30, 0.02)
            R.check("s4: kill -9 of leader %s %s (%.1f s, %d pods on v2): %s takes over in"
                    " %.1f s" % (leader.name, what, k - t0, count_on(wt, v), nxt and nxt.name,
                                 time.monotonic() - k), nxt)
        R.check("s4: the rollout completes: every pod on v2, Ready",
                wait_rolled(w, ns, name, h_new, n, 60), hist(w.set_pods(ns, name)))
        print("# s4: rollout done %.1f s after the change" % (time.monotonic() - t0))
        wt.sync()
        deleted = [st["uid"] for t, st in wt.deleted]
        R.check("s4: each of the %d pods of before deleted exactly once, no v2 pod deleted"
                % len(start_uids), sorted(deleted) == sorted(start_uids) and
                not bad_deletions(wt, t0), bad_deletions(wt, t0))
        made = [st["name"] for t, st in wt.created]
        R.check("s4: each pod made once (%d creates, no duplicate)" % len(made),
                len(made) == len(set(made)) == n, sorted(made))
        check_watch("s4", wt, t0)
        wt.stop()
    finally:
        R.on_failure = None
        w.close()


@timed("5. OnDelete")
def s5_on_delete(w, tmp):
    ns, name = "ondelete", "od"
    namespace(w, ns)
    old = small_set(name, ns, "v1", units=2, router=3, router_min=2, strategy="OnDelete")
    new = small_set(name, ns, "v2", units=2, router=3, router_min=2, strategy="OnDelete")
    h_old, h_new = tpl(old), tpl(new)
    n = 3 + 2 * 3
    if not apply_ready(w, ns, name, old, h_old, n, "s5: updateStrategy OnDelete, a router of 3"
                       " and 2 units: %d pods Ready" % n):
        return
    wt, t0 = watch(w, ns, name, h_old)
    start = wt.snapshot()
    v = version(wt, "v2", h_new)
    rc, out, err = w.sim.apply(new)
    R.check("s5: the images changed", rc == 0, err)
    R.check("s5: the worker plans v2 (the PodCliques carry its hash)", wt.wait_planned(v))

    def round_done():
        s = w.get("podcliquesets", ns, name) or {}
        st = s.get("status") or {}
        return st.get("observedGeneration") == s["metadata"].get("generation") and any(
            c.get("type") == "UpdateInProgress" and c.get("status") == "True"
            for c in st.get("conditions") or [])
    R.check("s5: a round on v2 has written the set's status (observedGeneration,"
            " UpdateInProgress True)", wait_for(round_done, 15, 0.05),
            json.dumps((w.get("podcliquesets", ns, name) or {}).get("status")))
    wt.sync()
    R.check("s5: nothing moved: no pod deleted or created", not wt.deleted and not
            [c for t, c in wt.created], [st["name"] for t, st in wt.deleted])
    router1 = "%s-0-router-1" % name
    unit1 = sorted(nm for nm, st in start.items() if st["pcsg"] and st["unit"] == "1")
    rc, out, err = w.k("delete", "pod", "-n", ns, "--wait=false", router1, *unit1)
    R.check("s5: kubectl delete pod %s and unit 1's pods %s" % (router1, ", ".join(unit1)),
            rc == 0, err)
    replaced = set([router1] + unit1)

    def back():
        pods = w.set_pods(ns, name)
        ok = len(pods) == n and all(pod_ready(p) and not p["metadata"].get("deletionTimestamp")
                                    for p in pods)
        return pods if ok and all(
            (p["metadata"]["labels"][L_HASH] == h_new[p["metadata"]["labels"][e2elib.L_CLIQUE]])
            == (p["metadata"]["name"] in replaced) for p in pods) else None
    R.check("s5: the deleted pods come back on v2, Ready; the others stay on v1",
            wait_for(back, 30, 0.05), hist(w.set_pods(ns, name)))
    wt.sync()
    untouched = {nm: st["uid"] for nm, st in start.items() if nm not in replaced}
    R.check("s5: no other pod was touched",
            all(wt.snapshot().get(nm, {}).get("uid") == u for nm, u in untouched.items()))

    def counts():
        out = {}
        for q in w.sim.list("pclq", ns, "app.kubernetes.io/part-of=" + name) + \
                w.sim.list("pcsg", ns, "app.kubernetes.io/part-of=" + name):
            out[q["metadata"]["name"]] = (q.get("status") or {}).get("updatedReplicas")
        return out
    want = {"%s-0-router" % name: 1, "%s-0-pd" % name: 1,
            "%s-0-pd-0-prefill" % name: 0, "%s-0-pd-0-decode" % name: 0,
            "%s-0-pd-1-prefill" % name: 1, "%s-0-pd-1-decode" % name: 2}
    got = wait_for(lambda: counts() == want and counts(), 15, 0.05)
    R.check("s5: updatedReplicas counts exactly the replaced ones (router 1, group 1 unit,"
            " unit 1's cliques 1 and 2, unit 0's 0)", got, json.dumps(counts()))
    check_watch("s5", wt, t0)
    wt.stop()
    # the rest deleted at once by hand: an outage the watcher must see
    # (it can fail)
    wt2 = RolloutWatcher(w.sim, ns, name)
    wt2.add_version("v1", h_old, h_old.images)
    wt2.add_version("v2", h_new, h_new.images)
    wt2.start()
    rest = sorted(nm for nm in untouched)
    rc, out, err = w.k("delete", "pod", "-n", ns, "--wait=false", *rest)
    R.check("s5: the rest deleted by hand: every pod on v2, Ready",
            rc == 0 and wait_rolled(w, ns, name, h_new, n), hist(w.set_pods(ns, name)))
    wt2.sync()
    wt2.stop()
    R.check("s5: the watcher saw that outage: the router below its minAvailable 2",
            any("PodClique %s-0-router: 1 pods Ready, minAvailable 2" % name in what
                for t, what, state in wt2.violations),
            [what for t, what, state in wt2.violations])

    def over():
        st = (w.get("podcliquesets", ns, name) or {}).get("status") or {}
        up = st.get("updateProgress") or {}
        return st if up.get("updateEndedAt") and up.get("podCliqueSetGenerationHash") == \
            st.get("currentGenerationHash") and any(
                c.get("type") == "UpdateInProgress" and c.get("status") == "False"
                for c in st.get("conditions") or []) else None
    st = wait_for(over, 15, 0.05)
    R.check("s5: then the rollout is over: UpdateInProgress False, currentGenerationHash the"
            " new one", st, json.dumps((w.get("podcliquesets", ns, name) or {}).get("status")))
    R.on_failure = None


@timed("6. maxUnavailable 2 on 6 units, a progressDeadline exceeded, then fixed")
def s6_deadline(w, tmp):
    ns, name = "deadline", "held"
    namespace(w, ns)
    rolling = {"maxUnavailable": 2, "progressDeadline": "2s"}
    kw = dict(units=6, per_unit=(1, 1), router=0, group_min=3, group_rolling=rolling)
    old = small_set(name, ns, "v1", **kw)
    broken = small_set(name, ns, "v2", annotations={"sim.grove.io/never-ready": "true"}, **kw)
    fixed = small_set(name, ns, "v3", **kw)
    hs = [tpl(s) for s in (old, broken, fixed)]
    n = 12
    if not apply_ready(w, ns, name, old, hs[0], n,
                       "s6: a group of 6 units (minAvailable 3; rollingUpdate maxUnavailable 2,"
                       " progressDeadline 2s): 12 pods Ready"):
        return
    wt, t0 = watch(w, ns, name, hs[0])
    v = version(wt, "v2 (never Ready)", hs[1])
    rc, out, err = w.sim.apply(broken)
    R.check("s6: a template whose pods never turn Ready (sim.grove.io/never-ready)",
            rc == 0, err)

    def held():
        st = (w.get("podcliquesets", ns, name) or {}).get("status") or {}
        c = next((c for c in st.get("conditions") or [] if c.get("type") == "UpdateInProgress"),
                 {})
        return c if c.get("status") == "True" and c.get("reason") == \
            "ProgressDeadlineExceeded" else None
    c = wait_for(held, 20, 0.05)
    t_held = time.monotonic()
    R.check("s6: held: UpdateInProgress True, reason ProgressDeadlineExceeded (%.1f s after"
            " the change)" % (t_held - t0), c,
            json.dumps((w.get("podcliquesets", ns, name) or {}).get("status")))
    wt.sync()
    snap = wt.snapshot()
    broken_pods = sorted(nm for nm, st in snap.items() if v in wt.compatible(st))
    units = sorted({snap[nm]["unit"] for nm in broken_pods})
    R.check("s6: the condition names a pod of the new template (%s)" % (c or {}).get("message"),
            c and any(nm in c.get("message", "") for nm in broken_pods), broken_pods)
    R.check("s6: two units (maxUnavailable 2) taken down and made on v2: %s" % units,
            len(units) == 2 and len(broken_pods) == 4 and all(int(u) >= 3 for u in units),
            broken_pods)
    avail = wt.minimum.get("%s-0-pd" % name)
    R.check("s6: the old units keep serving: 4 Ready on v1, never fewer than 3 available"
            " (least %s)" % avail, count_on(wt, 0) == 8 and avail is not None and avail >= 3
            and all(snap[nm]["ready"] for nm in snap if 0 in wt.compatible(snap[nm])))
    reasons = [e.get("reason") for e in w.events(ns, name)]
    R.check("s6: a RolloutHeld Event", wait_for(
        lambda: "RolloutHeld" in [e.get("reason") for e in w.events(ns, name)], 10, 0.1),
        reasons)
    # held: a round more changes nothing (deletions stay at two units)
    wt.sync()
    dels = len(wt.deleted)
    change_planned(w, wt, "v3 (fixed)", hs[2], fixed, "s6: the image fixed (v3)")
    R.check("s6: then the rollout completes: every pod on v3, Ready",
            wait_rolled(w, ns, name, hs[2], n), hist(w.set_pods(ns, name)))
    wt.sync()
    R.check("s6: no more than the 4 broken pods deleted while held (%d)" % dels, dels == 4)

    def clear():
        st = (w.get("podcliquesets", ns, name) or {}).get("status") or {}
        return any(c.get("type") == "UpdateInProgress" and c.get("status") == "False"
                   for c in st.get("conditions") or [])
    R.check("s6: UpdateInProgress False at the end", wait_for(clear, 15, 0.05),
            json.dumps((w.get("podcliquesets", ns, name) or {}).get("status")))
    check_watch("s6", wt, t0)
    wt.stop()
    R.on_failure = None


def want(s):
    return not ONLY or s in ONLY


def main():
    def scenarios(tmp):
        if any(want(s) for s in ("s1", "s2", "s3", "s5", "s6")):
            with World(tmp, "main") as w:
                for key, fn in (("s1", s1_reference), ("s6", s6_deadline), ("s2", s2_change),
                                ("s2", s2_race), ("s3", s3_scale), ("s5", s5_on_delete)):
                    if want(key):
                        fn(w, tmp)
        if want("s4"):
            s4_leader(tmp)

    def keep(tmp):
        """The timeline picture of s1, when it was not asked for
        elsewhere (ROLLOUT_TIMELINE_SVG)."""
        if os.environ.get("ROLLOUT_TIMELINE_SVG") or not want("s1"):
            return False
        for f in os.listdir(tmp):
            p = os.path.join(tmp, f)
            if os.path.isdir(p):
                shutil.rmtree(p, ignore_errors=True)
        print("# kept %s (the timeline picture)" % tmp)
        return True
    e2elib.run_scenarios(R, "gv-e2e-rollout-", scenarios, keep, lambda: [
        "# times: %s" % ", ".join("%s %.1f s" % (w.split(".")[0], t) for w, t in TIMES)])

if __name__ == "__main__":
    main()
