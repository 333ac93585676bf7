#!/usr/bin/env bash
# Builds and runs every test of groved: the warning-clean build with its
# unit, golden and CRD tests; the same tests under ASan+UBSan; the format
# check; and each libFuzzer target for a bounded time.
#
#   scripts/test.sh                 everything (what CI runs)
#   FUZZ_SECONDS=0 scripts/test.sh  skip the fuzzing
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
# 8 targets x 20 s keeps the whole run near 6 minutes on 2 cores (CI
# allows 10); longer runs: FUZZ_SECONDS=300
fuzz_seconds=${FUZZ_SECONDS:-20}

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

step "build (-Werror) and test"
cmake -S . -B build/release -DGROVED_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$jobs"
ctest --test-dir build/release -j"$jobs" --output-on-failure

step "build with ASan+UBSan and test"
cmake -S . -B build/asan -DGROVED_WERROR=ON -DGROVED_ASAN=ON -DGROVED_UBSAN=ON \
  -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/asan -j"$jobs"
# the tests that run no C code of ours (Python checks of YAML, kube-sim
# alone, the Dockerfile's own build) ran in the step above already
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/asan -j"$jobs" --output-on-failure \
  -E '^(crds|kube-sim|deploy-install|deploy-dockerfile)$'

if [ "$fuzz_seconds" -gt 0 ]; then
  step "fuzz each parser for ${fuzz_seconds}s (libFuzzer)"
  CC=clang cmake -S . -B build/fuzz -DGROVED_FUZZ=ON -DBUILD_TESTING=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build/fuzz -j"$jobs"
  for bin in build/fuzz/tests/fuzz/fuzz_*; do
    name=$(basename "$bin")
    corpus="build/fuzz/corpus-$name"
    mkdir -p "$corpus"
    seeds="tests/fuzz/corpus/${name#fuzz_}"
    [ "$name" = fuzz_validate ] && seeds=tests/golden   # every golden input
    [ -d "$seeds" ] || seeds=""
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
