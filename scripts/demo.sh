#!/usr/bin/env bash
# The main job, as far as groved goes today: build it, run the reference
# workload (a router, a prefill pool on B200 and a decode pool on H200, one
# PodCliqueSet) and a broken variant through `groved validate`, then start
# `groved serve` and send it what kube-apiserver sent for the same objects.
# Later issues turn this into the full demo on kube-sim (webhook and worker).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

"$top/scripts/install-deps.sh"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc 2>/dev/null || echo 2)" --target groved >/dev/null
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
echo "== groved serve: the admission webhooks over HTTPS (self-signed, loopback)"
certs=$(mktemp -d /tmp/groved-demo.XXXXXX)
"$groved" serve --self-signed "$certs" --webhook-addr 127.0.0.1:0 \
  --health-addr 127.0.0.1:0 --metrics-addr 127.0.0.1:0 2>"$certs/serve.log" &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true; rm -rf "$certs"' EXIT
port_of() {
  sed -n "s/.*\"server\":\"$1\".*\"port\":\([0-9]*\).*/\1/p" "$certs/serve.log" | tail -1
}
for _ in $(seq 100); do [ -n "$(port_of metrics)" ] && break; sleep 0.05; done
wh=$(port_of webhooks)
post() { # post HOOK FILE: what kube-apiserver would send, and the answer
  printf '\n$ curl https://127.0.0.1:%s/webhooks/%s  < %s\n' "$wh" "$1" "${2#"$top"/}"
  curl -sS --cacert "$certs/ca.crt" -H 'Content-Type: application/json' \
    --data-binary @"$2" "https://127.0.0.1:$wh/webhooks/$1?timeout=10s" |
    python3 -c '
import base64, json, sys
r = json.load(sys.stdin)["response"]
if "patch" in r:  # show the JSON Patch kube-apiserver will apply
    r["patch"] = json.loads(base64.b64decode(r["patch"]))
print(json.dumps(r, indent=2))'
}
echo "(the router made to start after decode, as kube-apiserver sent it)"
post validate-podcliqueset "$top/tests/fixtures/captured/pcs-create-cycle.json"
echo "(the reference workload: allowed; the mutating webhook adds the defaults)"
post validate-podcliqueset "$top/tests/fixtures/captured/pcs-create.json"
post default-podcliqueset "$top/tests/fixtures/captured/pcs-create-mutating.json"
printf '\n$ curl http://127.0.0.1:%s/metrics | grep requests_total\n' "$(port_of metrics)"
curl -s "http://127.0.0.1:$(port_of metrics)/metrics" | grep '^groved_admission_requests_total' | grep -v ' 0$'
kill -TERM "$serve_pid"
wait "$serve_pid" && echo "(groved serve stopped cleanly on SIGTERM)"
printf '\nlast log lines:\n'
tail -n 3 "$certs/serve.log"
