#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""`groved initc` end to end, against kube-sim.

groved initc runs here as grove-initc runs in a pod: the in-cluster
configuration (KUBERNETES_SERVICE_HOST/PORT pointing at kube-sim over
HTTPS) and the service account files (token, ca.crt, namespace) from a
directory named by GROVED_SERVICEACCOUNT_ROOT, as kube-sim's kubelet will
hand them over. kube-sim enforces RBAC (--authorize): the set's
ServiceAccount has the Role the worker creates (get, list, watch on pods
and pods/status); the pod's own `default` account has none. kube-sim has
no kubelet yet, so the test creates the pods and turns them Ready through
the API itself (the status subresource). It checks:

- bad arguments: exit 2 with one line saying what is wrong;
- the pod's own token: exit 1 with the API server's "forbidden" and the
  likely cause (the set's Secret `<pcs>-ic-sat`); a token that may list
  but not watch: exit 1 too;
- with the set's token it blocks while a parent lacks Ready pods (not
  Ready, terminating, other cliques' and other namespaces' pods do not
  count), logs what it waits for, goes on through 500s, dropped watches
  and a 410 Gone, and exits 0 within a second of the last parent pod
  turning Ready;
- already satisfied: exits 0 at once, also with --kubeconfig.

Usage: test_initc.py GROVED REPO_ROOT
"""
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

from e2elib import wait_for

GROVED, ROOT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
SIM = os.path.join(ROOT, "tests", "kube-sim", "kube-sim")
NS = "ns1"
PCS = "myset"
SA_DIR = "var/run/secrets/kubernetes.io/serviceaccount"
TOKENS = {
    "set": ("set-token", "system:serviceaccount:%s:%s" % (NS, PCS)),
    "pod": ("pod-token", "system:serviceaccount:%s:default" % NS),
    "lister": ("lister-token", "system:serviceaccount:%s:lister" % NS),
}
# what the release may take: from the PATCH that makes the last parent pod
# Ready to groved initc's exit
RELEASE_BOUND_S = 1.0

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok - %s" % name)
    else:
        failed += 1
        print("not ok - %s%s" % (name, ("\n  " + detail.replace("\n", "\n  ")) if detail else ""))
    sys.stdout.flush()
    return ok


class Sim:
    """kube-sim over HTTPS with RBAC, and an admin client."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.kc = os.path.join(tmp, "kubeconfig")
        self.tls_dir = os.path.join(tmp, "sim-tls")
        args = [sys.executable, SIM, "--addr", "127.0.0.1:0", "--kubeconfig-out", self.kc,
                "--tls-dir", self.tls_dir, "--authorize"]
        for token, user in TOKENS.values():
            args += ["--token", "%s=%s" % (token, user)]
        self.log = open(os.path.join(tmp, "kube-sim.log"), "w")
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.p.stdout.readline()
        m = re.search(r"listening (https://127\.0\.0\.1:(\d+))", line)
        if not m:
            self.stop()
            raise SystemExit("kube-sim did not start: %r" % line)
        self.url, self.port = m.group(1), m.group(2)
        self.ca = os.path.join(self.tls_dir, "ca.crt")
        self.tls = ssl.create_default_context(cafile=self.ca)
        kc = yaml.safe_load(open(self.kc))
        self.admin_token = kc["users"][0]["user"]["token"]

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()

    def req(self, method, path, body=None, ctype="application/json"):
        data = json.dumps(body).encode() if body is not None else None
        r = urllib.request.Request(self.url + path, data=data, method=method)
        r.add_header("Authorization", "Bearer " + self.admin_token)
        if data is not None:
            r.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(r, timeout=10, context=self.tls) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def must(self, method, path, body=None, ctype="application/json"):
        code, obj = self.req(method, path, body, ctype)
        if code >= 300:
            raise SystemExit("%s %s: %d %s" % (method, path, code, obj))
        return obj

    def fault(self, what):
        self.must("POST", "/__sim/" + what)

    def role(self, name, sa, verbs):
        """A Role on pods and pods/status, bound to ServiceAccount sa."""
        base = "/apis/rbac.authorization.k8s.io/v1/namespaces/%s/" % NS
        self.must("POST", base + "roles", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": name, "namespace": NS},
            "rules": [{"apiGroups": [""], "resources": ["pods", "pods/status"],
                       "verbs": verbs}]})
        self.must("POST", base + "rolebindings", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": NS},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": NS}]})

    def pod(self, name, pclq, ns=NS, finalizers=None):
        md = {"name": name, "namespace": ns,
              "labels": {"grove.io/podclique": pclq, "grove.io/podcliquesets": PCS}}
        if finalizers:
            md["finalizers"] = finalizers
        self.must("POST", "/api/v1/namespaces/%s/pods" % ns, {
            "apiVersion": "v1", "kind": "Pod", "metadata": md,
            "spec": {"containers": [{"name": "main", "image": "x"}]}})

    def ready(self, name, status="True", ns=NS):
        """The pod's Ready condition, as a kubelet writes it."""
        self.must("PATCH", "/api/v1/namespaces/%s/pods/%s/status" % (ns, name), {
            "status": {"phase": "Running", "conditions": [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Initialized", "status": "True"},
                {"type": "ContainersReady", "status": status},
                {"type": "Ready", "status": status}]}},
            "application/merge-patch+json")


def sa_root(tmp, name, sim, token):
    """A directory laid out like a container's root: the service account
    files under var/run/secrets/kubernetes.io/serviceaccount."""
    root = os.path.join(tmp, "root-" + name)
    d = os.path.join(root, SA_DIR)
    os.makedirs(d)
    shutil.copy(sim.ca, os.path.join(d, "ca.crt"))
    with open(os.path.join(d, "token"), "w") as f:
        f.write(token)
    with open(os.path.join(d, "namespace"), "w") as f:
        f.write(NS)
    return root


class Initc:
    """One groved initc process, as grove-initc."""

    def __init__(self, tmp, name, args, sim=None, root=None):
        self.log_path = os.path.join(tmp, "initc-%s.log" % name)
        self.log = open(self.log_path, "w")
        env = {k: v for k, v in os.environ.items()
               if k not in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT")}
        env["HOME"] = tmp  # no ~/.kube/config of the machine's
        if sim:
            env.update(KUBERNETES_SERVICE_HOST="127.0.0.1", KUBERNETES_SERVICE_PORT=sim.port,
                       GROVED_SERVICEACCOUNT_ROOT=root, GROVE_PCS_NAME=PCS)
        self.p = subprocess.Popen([GROVED, "initc"] + args, stdout=subprocess.DEVNULL,
                                  stderr=self.log, env=env)

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def says(self, text, after=None):
        """Whether the log holds text (after the first line holding
        after, when given)."""
        log = self.text()
        if after is not None:
            if after not in log:
                return False
            log = log[log.index(after) + len(after):]
        return text in log

    def wait(self, timeout):
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def t_bad_args(tmp):
    cases = [
        ([], "groved initc: no parent PodClique given (use --podcliques=NAME:N)"),
        (["--podcliques=a:0"], "groved initc: --podcliques 'a:0': count '0' is not a whole "
         "number from 1 to 2147483647"),
        (["--podcliques=a:1", "--podcliques=a:2"],
         "groved initc: --podcliques: PodClique 'a' is named twice"),
        (["--podcliques=Router:1"], "groved initc: --podcliques 'Router:1': PodClique name "
         "'Router' is not a lowercase RFC 1123 label"),
        (["--podcliques=a:1", "--bogus"], "groved initc: unknown option '--bogus'"),
    ]
    for i, (args, want) in enumerate(cases):
        p = Initc(tmp, "args%d" % i, args)
        rc = p.wait(10)
        text = p.text()
        check("bad arguments %s: exit 2, one line" % args,
              rc == 2 and text.startswith(want) and text.count("\n") == 1,
              "exit %s, stderr:\n%s" % (rc, text))


def t_refused(tmp, sim):
    p = Initc(tmp, "pod-token", ["--podcliques=%s-0-router:1" % PCS, "--log-every=200ms"],
              sim, sa_root(tmp, "pod", sim, TOKENS["pod"][0]))
    rc = p.wait(20)
    text = p.text()
    check("the pod's own token: exit 1", rc == 1, "exit %s, stderr:\n%s" % (rc, text))
    check("... with the API server's words",
          'groved initc: forbidden: pods is forbidden: User "system:serviceaccount:ns1:default" '
          'cannot list resource "pods" in API group "" in the namespace "ns1"' in text, text)
    check("... and the likely cause: not the set's token",
          "Secret '%s-ic-sat'" % PCS in text and "not the pod's own" in text, text)

    # list allowed, watch not: refused at the watch
    p = Initc(tmp, "lister", ["--podcliques=%s-0-router:1" % PCS],
              sim, sa_root(tmp, "lister", sim, TOKENS["lister"][0]))
    rc = p.wait(20)
    text = p.text()
    check("a token that may list but not watch: exit 1",
          rc == 1 and 'cannot watch resource "pods"' in text, "exit %s, stderr:\n%s" % (rc, text))


def t_waits_and_releases(tmp, sim):
    router, prefill = "%s-0-router" % PCS, "%s-0-prefill" % PCS
    root = sa_root(tmp, "set", sim, TOKENS["set"][0])
    sim.pod(router + "-0", router)
    sim.pod(prefill + "-0", prefill)
    sim.pod(prefill + "-1", prefill)
    # pods that must not count: another clique's, another namespace's
    # (same label), all Ready
    sim.pod("%s-0-decode-0" % PCS, "%s-0-decode" % PCS)
    sim.ready("%s-0-decode-0" % PCS)
    sim.pod(prefill + "-9", prefill, ns="ns2")
    sim.ready(prefill + "-9", ns="ns2")
    sim.pod(prefill + "-8", prefill, ns="ns2")
    sim.ready(prefill + "-8", ns="ns2")

    # API errors before the first list: it must retry, not give up
    sim.fault("fail?count=2&code=500")
    p = Initc(tmp, "set", ["--podcliques=%s:1" % router, "--podcliques=%s:2" % prefill,
                           "--log-every=200ms"], sim, root)
    try:
        check("500s from the API server: logged and retried",
              wait_for(lambda: p.says("retrying in"), 20), p.text())
        check("the first list logs what is awaited",
              wait_for(lambda: p.says('waiting for "%s" (0 Ready, 2 needed), "%s" (0 Ready, '
                                      '1 needed)' % (prefill, router)), 20), p.text())

        sim.ready(router + "-0")
        check("the router Ready: still waiting for the prefill",
              wait_for(lambda: p.says('groved initc: waiting for "%s" (0 Ready, 2 needed)\n'
                                      % prefill), 20) and p.p.poll() is None, p.text())

        # a dropped watch, then a 410 Gone on the resume: it relists
        sim.fault("drop-watches")
        sim.fault("gone-next")
        sim.fault("drop-watches")
        sim.ready(prefill + "-0")
        # a terminating pod (held by a finalizer) that is Ready does not
        # count
        sim.pod(prefill + "-2", prefill, finalizers=["test.grove.io/hold"])
        sim.must("DELETE", "/api/v1/namespaces/%s/pods/%s" % (NS, prefill + "-2"))
        sim.ready(prefill + "-2")
        # nor a pod whose Ready condition is False
        sim.ready(prefill + "-1", "False")
        # a marker after them in the watch stream: the router not Ready;
        # had either counted, groved initc would have exited before it
        sim.ready(router + "-0", "False")
        check("one prefill pod Ready (a terminating one and a not-Ready one not counted)",
              wait_for(lambda: p.says('groved initc: waiting for "%s" (1 Ready, 2 needed), '
                                      '"%s" (0 Ready, 1 needed)\n' % (prefill, router)), 20)
              and p.p.poll() is None, p.text())
        marker = '"%s" (0 Ready, 1 needed)\n' % router
        sim.ready(router + "-0")
        check("the router Ready again: waiting for the prefill alone",
              wait_for(lambda: p.says('groved initc: waiting for "%s" (1 Ready, 2 needed)\n'
                                      % prefill, after=marker), 20)
              and p.p.poll() is None, p.text())

        t0 = time.monotonic()
        sim.ready(prefill + "-1")
        rc = p.wait(20)
        took = time.monotonic() - t0
        text = p.text()
        check("the last parent pod Ready: exit 0", rc == 0, "exit %s, stderr:\n%s" % (rc, text))
        check("... within %.1f s of it (%.3f s)" % (RELEASE_BOUND_S, took), took < RELEASE_BOUND_S,
              text)
        check("... saying so", 'groved initc: done: "%s" (2 Ready, 2 needed), "%s" (1 Ready, 1 '
              'needed)' % (prefill, router) in text, text)
        print("# release took %.3f s" % took)
    finally:
        p.kill()

    # already satisfied: at once, from the first list
    p = Initc(tmp, "set-again", ["--podcliques=%s:1,%s:2" % (router, prefill)], sim, root)
    rc = p.wait(20)
    check("parents already Ready: exit 0 from the first list", rc == 0 and p.says("done: "),
          "exit %s, stderr:\n%s" % (rc, p.text()))
    # with --kubeconfig (kube-sim's admin) and -n instead of a pod's files
    p = Initc(tmp, "kubeconfig", ["--kubeconfig", sim.kc, "-n", NS,
                                  "--podcliques=%s:2" % prefill])
    rc = p.wait(20)
    check("--kubeconfig and -n: exit 0", rc == 0 and p.says("done: "),
          "exit %s, stderr:\n%s" % (rc, p.text()))
    # the other namespace has two Ready pods of that name, the kubeconfig's
    # default namespace none: -n decides
    p = Initc(tmp, "kubeconfig-ns2", ["--kubeconfig", sim.kc, "-n", "ns2",
                                      "--podcliques=%s:3" % prefill, "--log-every=100ms"])
    check("-n ns2: waits for a third Ready pod there",
          wait_for(lambda: p.says('waiting for "%s" (2 Ready, 3 needed)' % prefill), 20)
          and p.p.poll() is None, p.text())
    p.kill()


def main():
    tmp = tempfile.mkdtemp(prefix="groved-initc-")
    sim = None
    try:
        t_bad_args(tmp)
        sim = Sim(tmp)
        sim.role("grove.io:pcs:%s" % PCS, PCS, ["get", "list", "watch"])
        sim.role("lister", "lister", ["list"])
        t_refused(tmp, sim)
        t_waits_and_releases(tmp, sim)
    finally:
        if sim:
            sim.stop()
    print("%d passed, %d failed" % (passed, failed))
    if failed:
        print("logs kept in %s" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
