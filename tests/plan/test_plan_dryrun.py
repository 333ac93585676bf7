#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""`groved plan` against an API server: every planned object of the
reference workload and of every upstream sample is accepted by
`kubectl apply --dry-run=server` against kube-sim with groved's CRDs loaded
(names, namespaces, kinds the server serves), and every planned object of
a Grove kind validates against its CRD's schema with tests/crds/
check_crds.py's validator (unknown fields, types, required: kube-sim does
not apply CRD schemas).

    test_plan_dryrun.py GROVED ROOT

Exit 0 when every object is accepted, 1 otherwise, 77 (skipped) without
kubectl. Standard library and PyYAML only.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "crds"))
from check_crds import validate_object  # noqa: E402


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    groved, root = sys.argv[1], sys.argv[2]
    if not shutil.which("kubectl"):
        print("# SKIP: kubectl is not installed (it is the client)")
        return 77
    sets = [[os.path.join(root, "examples", "vllm-disaggregated.yaml"),
             os.path.join(root, "examples", "claim-templates.yaml")]]
    sets += [[p] for p in sorted(glob.glob(os.path.join(
        root, "tests", "fixtures", "upstream-samples", "**", "*.yaml"),
        recursive=True))]
    with tempfile.TemporaryDirectory() as tmp:
        kc = os.path.join(tmp, "kubeconfig")
        log = open(os.path.join(tmp, "kube-sim.log"), "w")
        sim = subprocess.Popen(
            [sys.executable, os.path.join(root, "tests", "kube-sim", "kube-sim"),
             "--addr", "127.0.0.1:0", "--kubeconfig-out", kc, "--load"]
            + sorted(p for p in glob.glob(os.path.join(root, "deploy", "crds", "*.yaml"))
                     if not p.endswith("kustomization.yaml")),
            stdout=subprocess.PIPE, stderr=log, text=True)
        try:
            line = sim.stdout.readline()
            if not re.search(r"listening https?://", line):
                print("kube-sim did not start: %r" % line)
                return 1
            return run(groved, kc, sets, root)
        finally:
            sim.terminate()
            sim.wait(timeout=30)
            log.close()


def kubectl(kc, *args, stdin=None):
    r = subprocess.run(["kubectl", "--kubeconfig", kc] + list(args),
                       input=stdin, capture_output=True, text=True,
                       timeout=120)
    return r.returncode, r.stdout, r.stderr


def schemas(root):
    """Kind -> the openAPIV3Schema of its CRD in deploy/crds/."""
    out = {}
    for path in glob.glob(os.path.join(root, "deploy", "crds", "*.yaml")):
        with open(path) as f:
            crd = yaml.safe_load(f)
        if crd.get("kind") != "CustomResourceDefinition":
            continue
        out[crd["spec"]["names"]["kind"]] = \
            crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return out


def run(groved, kc, sets, root):
    failed = 0
    schema_of = schemas(root)
    for files in sets:
        argv = [groved, "plan"]
        for f in files:
            argv += ["-f", f]
        plan = subprocess.run(argv, capture_output=True, text=True,
                              timeout=120)
        name = os.path.basename(files[0])
        if plan.returncode != 0:
            print("not ok - %s: groved plan exit %d: %s"
                  % (name, plan.returncode, plan.stderr))
            failed += 1
            continue
        objs = [o for o in yaml.safe_load_all(plan.stdout) if o]
        if not objs or not any(o["kind"] == "Pod" for o in objs):
            print("not ok - %s: no pods planned" % name)
            failed += 1
            continue
        bad = []
        for o in objs:
            if o["kind"] in schema_of:
                bad += ["%s %s: %s" % (o["kind"], o["metadata"]["name"], e)
                        for e in validate_object(o, schema_of[o["kind"]])]
        if bad:
            print("not ok - %s: not valid for the CRDs: %s"
                  % (name, "; ".join(bad[:10])))
            failed += 1
            continue
        for ns in sorted({o["metadata"].get("namespace") for o in objs} - {None}):
            kubectl(kc, "create", "namespace", ns)
        # kube-sim serves no OpenAPI: --validate=false, as the e2e test
        rc, out, err = kubectl(kc, "apply", "--dry-run=server",
                               "--validate=false", "-f", "-",
                               stdin=yaml.safe_dump_all(objs))
        accepted = out.count("(server dry run)")
        if rc != 0 or accepted != len(objs):
            print("not ok - %s: %d of %d objects accepted: %s"
                  % (name, accepted, len(objs), (err or out)[-2000:]))
            failed += 1
        else:
            print("ok - %s: %d objects accepted by a server dry run"
                  % (name, len(objs)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
