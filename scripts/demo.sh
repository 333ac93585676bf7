#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job, as far as groved goes today: build it, run the reference
# workload (a router, a prefill pool on B200 and a decode pool on H200, one
# PodCliqueSet) and a broken variant through `groved validate`, shows what
# the worker will create for it (`groved plan -o tree`), then install
# groved as a user would (`kubectl kustomize deploy/`) into kube-sim, the
# simulated API server, and apply the workload with kubectl: kube-sim calls
# groved's webhooks over HTTPS with the CA groved made and injected itself.
# It ends where groved ends today: the reconcile worker, which would create
# the PodCliques, PodGangs and pods, is not built yet, and the demo shows
# that no such object appears.
#
# groved is built in build/release with scripts/test.sh's options
# (scripts/build-release.sh), so the test command after it does not
# compile groved again.
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
kubectl kustomize deploy/ > "$work/install.yaml"
printf '$ kubectl kustomize deploy/ | grep -c "^kind:"   # objects in the install\n'
grep -c '^kind:' "$work/install.yaml"
python3 tests/kube-sim/kube-sim --addr 127.0.0.1:0 --kubeconfig-out "$work/kubeconfig" \
  --tls-dir "$work/sim-tls" \
  --token groved-sa=system:serviceaccount:groved-system:groved \
  --load "$work/install.yaml" examples/claim-templates.yaml >"$work/sim.out" 2>"$work/sim.log" &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/sim.out" && break; sleep 0.05; done
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
for _ in $(seq 100); do [ -n "$(port_of metrics)" ] && break; sleep 0.05; done
# no cluster DNS here: the Service's name resolves to groved's port
curl -s --cacert "$work/sim-tls/ca.crt" -X POST \
  "$sim/__sim/resolve-service?service=groved-system/groved-webhook:443&addr=127.0.0.1:$(port_of webhooks)" >/dev/null
for _ in $(seq 200); do [ "$(curl -s "http://127.0.0.1:$(port_of health)/readyz")" = ok ] && break; sleep 0.05; done
k() { printf '\n$ kubectl %s\n' "$*"; kubectl --kubeconfig "$work/kubeconfig" "$@" 2>&1 || true; }
k -n groved-system get secret groved-webhook-cert
printf '\n(the CA groved injected into its webhook configuration)\n'
kubectl --kubeconfig "$work/kubeconfig" get validatingwebhookconfiguration groved-validating \
  -o jsonpath='{.webhooks[0].clientConfig.caBundle}' | base64 -d | openssl x509 -noout -subject -enddate
printf '\n(--validate=false: kubectl first downloads the API server'"'"'s OpenAPI schema
to check a manifest on the client; kube-sim serves none, so kubectl would stop
with "failed to download openapi". The flag skips only that client-side check:
the API server and groved'"'"'s webhooks still check everything. A real cluster
needs no such flag.)\n'
k apply --validate=false -f examples/invalid/startup-cycle.yaml
k apply --validate=false -f examples/vllm-disaggregated.yaml
k get pcs -n inference
k scale pcs -n inference vllm-disaggregated --replicas=5
k scale pcs -n inference vllm-disaggregated --replicas=2
printf '\n(a pod of the router clique, as the worker or a user would create it)\n'
cat > "$work/pod.yaml" <<'POD'
apiVersion: v1
kind: Pod
metadata:
  name: router-demo
  namespace: inference
  labels: {grove.io/podcliquesets: vllm-disaggregated, grove.io/podcliquesets-clique: router-clique}
spec:
  containers: [{name: dynamo-router, image: nvcr.io/nvidia/ai-dynamo/vllm-runtime:1.0.0}]
POD
k create --validate=false -f "$work/pod.yaml"
k get pod -n inference router-demo -o 'jsonpath={.spec.schedulerName}{"  gates="}{.spec.schedulingGates[*].name}{"  labels="}{.metadata.labels}{"\n"}'
printf '\n(from here the reconcile worker would create the set'"'"'s PodCliques, PodGangs
and pods, and lift a pod'"'"'s scheduling gate once its gang exists. It is not
built yet: nothing is created, and a gated pod like the one above stays Pending.)\n'
k get pclq,pg -n inference
printf '\n(nor can a user lift the gate: the pod is groved'"'"'s, and its authorizer webhook
refuses the change)\n'
k patch pod -n inference router-demo --type=json \
  -p '[{"op":"remove","path":"/spec/schedulingGates"}]'
printf '\n$ curl http://127.0.0.1:%s/metrics | grep requests_total\n' "$(port_of metrics)"
curl -s "http://127.0.0.1:$(port_of metrics)/metrics" | grep '^groved_admission_requests_total' | grep -v ' 0$'
kill -TERM "${pids[1]}"
wait "${pids[1]}" && echo "(groved serve stopped cleanly on SIGTERM, releasing its Lease)"
printf '\ngroved'"'"'s log (whole lines, read after it stopped), certificates and leadership:\n'
grep -E '"msg":"(leading|certificate secret created|CA bundle injected|certificate loaded|stopped)"' "$work/serve.log"
