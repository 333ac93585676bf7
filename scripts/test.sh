#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds and runs every test of groved: the format check; the warning-clean
# gcc build with all its tests (build/release, shared with scripts/demo.sh);
# the README checked against that build and the demo run on it
# (tests/readme/check_readme.py); the warning-clean clang build with its
# unit and golden tests; the same tests under ASan+UBSan; and each libFuzzer
# target, built warning-clean too, for a bounded time.
#
#   scripts/test.sh                 everything (what CI runs)
#   FUZZ_SECONDS=0 scripts/test.sh  skip the fuzzing
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
# 9 targets x 15 s keeps the whole run under 12 minutes on 2 cores
# (measured 12.5 minutes at 20 s); longer runs: FUZZ_SECONDS=300 (10
# minutes a target with ASan: bench/README.md, "Fuzzing")
fuzz_seconds=${FUZZ_SECONDS:-15}

"$top/scripts/install-deps.sh"

step() { printf '\n== %s\n' "$*"; }

step "format check (clang-format)"
bad=$(git ls-files '*.c' '*.h' | while read -r f; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || echo "$f"
done)
if [ -n "$bad" ]; then
  echo "not clang-formatted (run clang-format -i on them):" $bad >&2
  exit 1
fi
echo "all C sources formatted"

step "build with gcc (-Werror) and test"
"$top/scripts/build-release.sh"
ctest --test-dir build/release -j"$jobs" --output-on-failure

step "the README against this build, and its first command (the demo), checked"
rc=0
python3 tests/readme/check_readme.py "$top" || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 77 ] || exit 1   # 77: no kubectl, skipped

step "build with clang (-Werror) and run the unit and golden tests"
# the other compiler's warnings; the end-to-end and Python tests ran above
# (and run again under ASan below)
CC=clang cmake -S . -B build/clang -DGROVED_WERROR=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/clang -j"$jobs"
ctest --test-dir build/clang -j"$jobs" --output-on-failure \
  -E '^(kube-live|crds|kube-sim.*|deploy-.*|e2e-.*|plan-dryrun|serve|certs-cli|docs-api|floors|python-lint|spdx)$'

step "build with ASan+UBSan and test"
cmake -S . -B build/asan -DGROVED_WERROR=ON -DGROVED_ASAN=ON -DGROVED_UBSAN=ON \
  -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/asan -j"$jobs"
# the tests that run no C code of ours (Python checks of YAML, kube-sim
# alone and its scheduler, the Dockerfile's own build) ran in the gcc step
# already; e2e-rollout runs the worker's C code that e2e-worker runs here
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/asan -j"$jobs" --output-on-failure \
  -E '^(crds|kube-sim|kube-sim-scheduler|deploy-install|deploy-dockerfile|deploy-image|python-lint|spdx|e2e-rollout)$'

if [ "$fuzz_seconds" -gt 0 ]; then
  step "fuzz each parser for ${fuzz_seconds}s (libFuzzer)"
  # -Werror: the fuzz build prints no warning either
  CC=clang cmake -S . -B build/fuzz -DGROVED_FUZZ=ON -DBUILD_TESTING=OFF \
    -DGROVED_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build/fuzz -j"$jobs"
  for bin in build/fuzz/tests/fuzz/fuzz_*; do
    name=$(basename "$bin")
    corpus="build/fuzz/corpus-$name"
    mkdir -p "$corpus"
    seeds="tests/fuzz/corpus/${name#fuzz_}"
    [ -d "$seeds" ] || seeds=""
    # every golden input, and the UPDATE pairs of tests/fuzz/corpus/validate
    [ "$name" = fuzz_validate ] && seeds="tests/golden $seeds"
    echo "-- $name"
    log="build/fuzz/$name.log"
    rc=0
    "$bin" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 "$corpus" $seeds >"$log" 2>&1 || rc=$?
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" || true
    if [ "$rc" -ne 0 ]; then   # a crash, leak or timeout
      tail -n 60 "$log" >&2
      exit 1
    fi
  done
fi

step "all tests passed"
