#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The gcc build that scripts/demo.sh and scripts/test.sh share: build/release,
# -Werror, RelWithDebInfo. Its options live here only, so the demo and then
# the tests configure it once and compile each file once (the test script
# then only adds the test programs).
#
#   scripts/build-release.sh            everything, tests included
#   scripts/build-release.sh groved     just the program
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
CC=gcc cmake -S . -B build/release -DGROVED_WERROR=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build build/release -j"$(nproc 2>/dev/null || echo 2)" "${targets[@]}"
