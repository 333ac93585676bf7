#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job: build groved, run the reference workload (a router, a
# prefill pool on B200 and a decode pool on H200, one PodCliqueSet) and a
# broken variant through `groved validate`, show what the worker creates
# for it (`groved plan -o tree`), then install groved as a user would
# (`kubectl kustomize deploy/`) into kube-sim, the simulated cluster (one
# B200 and two H200 nodes, a gang scheduler, DRA claims and a kubelet
# that runs groved's own init container), and apply the workload with
# kubectl. groved's webhooks admit it (kube-sim calls them over HTTPS with
# the CA groved made and injected itself), its reconcile worker creates
# the PodCliques, the scaling group, the PodGang and the pods, the gang is
# bound at once, and the pods start in order: router, then prefill, then
# decode, printed as it happens. Then one more prefill:decode unit with
# `kubectl scale pcs`, its own gang.
#
# groved is built in build/release with scripts/test.sh's options
# (scripts/build-release.sh), so the test command after it does not
# compile groved again. Every wait is bounded: on a timeout the demo says
# what it waited for, prints the logs' tails and exits 1.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

"$top/scripts/install-deps.sh"
"$top/scripts/build-release.sh" groved >/dev/null
groved=build/release/groved

run() {
  printf '\n$ groved %s\n' "$*"
  rc=0
  "$groved" "$@" || rc=$?
  printf '(exit %d)\n' "$rc"
  return 0
}

echo "== the reference workload, with its claim templates: valid"
run validate -f examples/vllm-disaggregated.yaml -f examples/claim-templates.yaml \
  -f examples/router-service.yaml

echo
echo "== router made to start after decode: a startup cycle, denied"
run validate -f examples/invalid/startup-cycle.yaml

echo
echo "== the same check as a tool sees it (--output json)"
run validate -o json -f examples/invalid/startup-cycle.yaml

echo
echo "== upstream Grove's own sample manifests (template form)"
run validate -f tests/fixtures/upstream-samples/

echo
echo "== what the worker will create for the reference workload, and in which order (groved plan)"
run plan -o tree -f examples/vllm-disaggregated.yaml -f examples/claim-templates.yaml
echo
echo "== the same at two scaling units: one more prefill:decode unit, its own gang"
run plan -o tree --replicas 2 -f examples/vllm-disaggregated.yaml \
  -f examples/claim-templates.yaml

echo
echo "== the install: kubectl kustomize deploy/ into kube-sim, groved behind its webhooks"
if ! command -v kubectl >/dev/null; then
  echo "(kubectl is not installed: skipping the install; see docs/install.md)"
  exit 0
fi
work=$(mktemp -d /tmp/groved-demo.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# a wait that ran out: what was awaited, then the logs' tails
fail() {
  printf '\nFAILED: %s\n' "$*"
  printf '\n--- the tail of groved'"'"'s log\n'; tail -n 25 "$work/serve.log" 2>/dev/null || true
  printf '\n--- the tail of kube-sim'"'"'s log\n'; tail -n 25 "$work/sim.log" 2>/dev/null || true
  exit 1
}
# until a command succeeds, at most $1 tenths of a second
poll() {
  local n=$1; shift
  for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
  "$@"
}
kubectl kustomize deploy/ > "$work/install.yaml"
printf '$ kubectl kustomize deploy/ | grep -c "^kind:"   # objects in the install\n'
grep -c '^kind:' "$work/install.yaml"
# kube-sim as the cluster: the reference nodes (one B200, two H200, 8 GPUs
# each, published as DRA ResourceSlices), RBAC enforced for groved (the
# install's roles), and a kubelet that runs groved's init container as
# build/release/groved; a started container turns Ready after 0.5 s
printf '\n$ kube-sim --nodes tests/fixtures/nodes/reference.yaml --authorize --ready-after 1 --time-scale 0.5 --load install.yaml\n'
python3 tests/kube-sim/kube-sim --addr 127.0.0.1:0 --kubeconfig-out "$work/kubeconfig" \
  --tls-dir "$work/sim-tls" --authorize \
  --token groved-sa=system:serviceaccount:groved-system:groved \
  --nodes tests/fixtures/nodes/reference.yaml --groved-binary "$groved" \
  --ready-after 1 --time-scale 0.5 \
  --load "$work/install.yaml" >"$work/sim.out" 2>"$work/sim.log" &
pids+=($!)
poll 300 grep -qs listening "$work/sim.out" || fail "kube-sim did not start within 30 s"
sim=$(sed -n 's/^listening //p' "$work/sim.out")
# groved as the Deployment runs it (its own args), with the service
# account's token and loopback ports
sed 's/token: .*/token: groved-sa/' "$work/kubeconfig" > "$work/groved-kubeconfig"
mapfile -t args < <(python3 -c '
import sys, yaml
for o in yaml.safe_load_all(open(sys.argv[1])):
    if o and o["kind"] == "Deployment":
        print("\n".join(o["spec"]["template"]["spec"]["containers"][0]["args"]))' "$work/install.yaml")
printf '$ groved serve %s\n' "${args[*]}"
POD_NAME=groved-demo POD_NAMESPACE=groved-system POD_SERVICE_ACCOUNT=groved "$groved" serve "${args[@]}" \
  --kubeconfig "$work/groved-kubeconfig" --webhook-addr 127.0.0.1:0 \
  --health-addr 127.0.0.1:0 --metrics-addr 127.0.0.1:0 2>"$work/serve.log" &
pids+=($!)
port_of() {
  sed -n "s/.*\"server\":\"$1\".*\"port\":\([0-9]*\).*/\1/p" "$work/serve.log" | tail -1
}
has_ports() { [ -n "$(port_of metrics)" ] && [ -n "$(port_of webhooks)" ]; }
poll 100 has_ports || fail "groved serve did not listen within 10 s"
# no cluster DNS here: the Service's name resolves to groved's port
curl -s --cacert "$work/sim-tls/ca.crt" -X POST \
  "$sim/__sim/resolve-service?service=groved-system/groved-webhook:443&addr=127.0.0.1:$(port_of webhooks)" >/dev/null
is_ready() { [ "$(curl -s "http://127.0.0.1:$(port_of health)/readyz")" = ok ]; }
poll 200 is_ready || fail "groved serve was not ready within 20 s (/readyz)"
kc() { kubectl --kubeconfig "$work/kubeconfig" "$@"; }
k() { printf '\n$ kubectl %s\n' "$*"; kc "$@" 2>&1 || true; }
k -n groved-system get secret groved-webhook-cert
printf '\n(the CA groved injected into its webhook configuration)\n'
kc get validatingwebhookconfiguration groved-validating \
  -o jsonpath='{.webhooks[0].clientConfig.caBundle}' | base64 -d | openssl x509 -noout -subject -enddate
k get nodes -L nvidia.com/gpu.product,example.com/rack
printf '\n(--validate=false: kubectl first downloads the API server'"'"'s OpenAPI schema
to check a manifest on the client; kube-sim serves none, so kubectl would stop
with "failed to download openapi". The flag skips only that client-side check:
the API server and groved'"'"'s webhooks still check everything. A real cluster
needs no such flag.)\n'
ns='{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "inference"}}'
printf '\n$ echo %s | kubectl apply --validate=false -f -\n' "'$ns'"
echo "$ns" | kc apply --validate=false -f - 2>&1 || true
k apply --validate=false -f examples/claim-templates.yaml -f examples/router-service.yaml
k apply --validate=false -f examples/invalid/startup-cycle.yaml

echo
echo "== the reference workload applied: the worker creates its children, the gang is"
echo "   bound at once, and the pods start in order (seconds since kubectl apply)"
# scripts/demo-watch.py lists the set's pods, runs the kubectl command, and
# prints each new pod's steps as the API server's watch reports them
watch_pods() {
  KUBECONFIG="$work/kubeconfig" python3 scripts/demo-watch.py -n inference \
    -l grove.io/podcliquesets=vllm-disaggregated --timeout 60 "$@"
}
watch_pods --ready 4 --order router-clique,prefill-clique,decode-clique -- \
  kubectl apply --validate=false -f examples/vllm-disaggregated.yaml ||
  fail "the reference workload's 4 pods were not all Ready in order (above)"
# the set's status follows its pods (READY R/D and STATUS, written by the worker)
pcs_shows() {
  kc get pcs -n inference vllm-disaggregated --no-headers 2>/dev/null |
    awk -v r="$1" '$3 == r && $4 == "Running" { ok = 1 } END { exit !ok }'
}
poll 100 pcs_shows 4/4 || fail "kubectl get pcs did not show READY 4/4, STATUS Running within 10 s"
k get pcs,pclq,pcsg,pg,pods -n inference
pods_cols='custom-columns=NAME:.metadata.name,NODE:.spec.nodeName,PHASE:.status.phase,READY:.status.conditions[?(@.type=="Ready")].status,GANG:.metadata.labels.grove\.io/podgang'
printf '\n(each pod'"'"'s node, phase, readiness and gang)\n'
k get pods -n inference -o "$pods_cols"
printf '\n(what the worker wrote: the set'"'"'s status, its conditions, and the Events of its startup)\n'
printf '$ kubectl describe pcs -n inference vllm-disaggregated | sed -n '"'"'/^Status:/,$p'"'"'\n'
kc describe pcs -n inference vllm-disaggregated 2>&1 | sed -n '/^Status:/,$p'
k get resourceclaims -n inference
k get resourceclaims -n inference -o 'custom-columns=NAME:.metadata.name,DEVICE:.status.allocation.devices.results[*].device,RESERVED-FOR:.status.reservedFor[*].name'
printf '\n(the router Service'"'"'s selector: the router pod, and only it)\n'
k get pods -n inference -o name \
  -l grove.io/podcliquesets=vllm-disaggregated,grove.io/podcliquesets-clique=router-clique
printf '\n(what the worker made is its own: a user'"'"'s change is refused by groved'"'"'s
authorizer webhook; edit the PodCliqueSet instead)\n'
k delete pclq -n inference vllm-disaggregated-0-router-clique

echo
echo "== kubectl scale: beyond maxReplicas refused; 2 adds one prefill:decode unit, its own gang"
k scale pcs -n inference vllm-disaggregated --replicas=5
echo
watch_pods --ready 7 --order prefill-clique,decode-clique -- \
  kubectl scale pcs -n inference vllm-disaggregated --replicas=2 ||
  fail "the second unit's pods were not all Ready in order (above)"
poll 100 pcs_shows 7/7 || fail "kubectl get pcs did not show READY 7/7, STATUS Running within 10 s"
printf '\n(unit 1 is above the group'"'"'s minAvailable (1), so its pods form a scaled
gang, numbered from there as upstream Grove does: <set>-0-<group>-0; its gate
was lifted once the base gang was scheduled)\n'
k get pcs,pcsg,pg -n inference
k get pods -n inference -o "$pods_cols"
printf '\n$ curl http://127.0.0.1:%s/metrics | grep -E "requests_total|reconcile"\n' "$(port_of metrics)"
curl -s "http://127.0.0.1:$(port_of metrics)/metrics" |
  grep -E '^groved_(admission_requests_total|reconcile_[a-z_]*total)' | grep -v ' 0$' || true
kill -TERM "${pids[1]}"
wait "${pids[1]}" && echo "(groved serve stopped cleanly on SIGTERM, releasing its Lease)"
printf '\ngroved'"'"'s log (whole lines, read after it stopped), certificates, leadership, the worker:\n'
grep -E '"msg":"(leading|certificate secret created|CA bundle injected|certificate loaded|reconciling PodCliqueSets|stopped)"' "$work/serve.log"
if grep -q '"level":"warn"' "$work/serve.log"; then
  printf '\ngroved'"'"'s warnings:\n'
  grep '"level":"warn"' "$work/serve.log"
fi
