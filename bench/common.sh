# SPDX-License-Identifier: Apache-2.0
# What bench/reconcile/run.sh and bench/rollout/run.sh share, sourced by
# both once they have set root (the source tree) and build (groved's
# build folder): $runs (RUNS, 1 to 10, default 1), a temporary folder
# $work removed on exit, $out (OUT, default $work/results.jsonl) emptied,
# kubectl checked, groved built (Release, no tests, in $build when it is
# not configured yet) and $groved; `bench_header NAME DETAIL...` prints a
# report's first line (the date, the CPUs, the details joined by blanks,
# the commit).
# shellcheck shell=bash disable=SC2034,SC2154 # root, build: set by the
# sourcing run.sh; runs, groved, out: used by it

runs=${RUNS:-1}
work=$(mktemp -d)
out=${OUT:-$work/results.jsonl}
trap 'rm -rf "$work"' EXIT

if [ "$runs" -lt 1 ] || [ "$runs" -gt 10 ]; then
	echo "run.sh: RUNS must be 1..10" >&2
	exit 2
fi
command -v kubectl >/dev/null || {
	echo "run.sh: needs kubectl" >&2
	exit 2
}
if [ ! -f "$build/CMakeCache.txt" ]; then
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
		-DBUILD_TESTING=OFF >/dev/null
fi
cmake --build "$build" -j2 --target groved >/dev/null
groved=$build/groved
: >"$out"

bench_header() {
	local name=$1
	shift
	echo "# groved $name, $(date -u +%Y-%m-%d), $(nproc) CPUs, $*," \
		"$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
}
