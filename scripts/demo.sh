#!/usr/bin/env bash
# The main job, as far as groved goes today: build it, then run the
# reference workload (a router, a prefill pool on B200 and a decode pool
# on H200, one PodCliqueSet) through `groved validate`, then a broken
# variant of it, showing both outcomes. Later issues turn this into the
# full demo on kube-sim (webhook and worker).
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
