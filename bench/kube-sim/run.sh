#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kube-sim at the scale of the worker's benchmarks: the reference workload
# at 1,000 units (1 router + 1,000 x (1 prefill + 2 decode) = 3,001 pods,
# 1,000 PodGangs; bench/plan/gen.py), planned by `groved plan -o json`,
# pushed into kube-sim with tests/fixtures/nodes/large.yaml (125 B200 and
# 250 H200 nodes, 8 GPUs each: every GPU is used) by bench.py as the
# worker would push it, then scheduled (claims allocated, pods bound) and
# run to Ready by kube-sim's scheduler and kubelet.
#
#     bench/kube-sim/run.sh                 # ~1-2 minutes
#     UNITS=100 THREADS=8 bench/kube-sim/run.sh
#     INITC=1 bench/kube-sim/run.sh         # grove-initc runs the real groved initc
#     KUBELET=0 bench/kube-sim/run.sh       # scheduling only (--no-kubelet)
#
# By default the kubelet completes every init container at once (no image
# is groved's); INITC=1 makes grove-initc run `groved initc` processes as
# in the end-to-end tests (2,000 of them at this size). Prints bench.py's
# JSON, then kube-sim's CPU time and peak RSS.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-$root/build/simsched}
units=${UNITS:-1000}
threads=${THREADS:-4}
work=$(mktemp -d)
sim_pid=
cleanup() {
	if [ -n "$sim_pid" ]; then
		kill "$sim_pid" 2>/dev/null || true
		wait "$sim_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

if [ "$units" -lt 1 ] || [ "$units" -gt 1000 ]; then
	echo "run.sh: UNITS must be 1..1000 (large.yaml holds 1,000 units)" >&2
	exit 2
fi
if [ ! -f "$build/CMakeCache.txt" ]; then
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
fi
cmake --build "$build" -j2 --target groved >/dev/null
groved=$build/groved

python3 "$root/bench/plan/gen.py" --units "$units" >"$work/set.yaml"
"$groved" plan -f "$work/set.yaml" -f "$root/examples/claim-templates.yaml" -o json \
	>"$work/plan.json"

kubelet=(--groved-image example.invalid/not-groved:0)
ready=(--ready)
if [ "${INITC:-0}" = 1 ]; then
	kubelet=(--groved-binary "$groved")
fi
if [ "${KUBELET:-1}" = 0 ]; then
	kubelet=(--no-kubelet)
	ready=()
fi
crds=()
for f in "$root"/deploy/crds/*.yaml; do
	[ "$(basename "$f")" = kustomization.yaml ] || crds+=("$f")
done
mkfifo "$work/out"
python3 "$root/tests/kube-sim/kube-sim" --addr 127.0.0.1:0 --load "${crds[@]}" \
	--nodes "$root/tests/fixtures/nodes/large.yaml" "${kubelet[@]}" \
	>"$work/out" 2>"$work/sim.err" &
sim_pid=$!
exec 3<"$work/out"
read -r -t 60 line <&3 || {
	echo "run.sh: kube-sim did not start" >&2
	cat "$work/sim.err" >&2
	exit 1
}
url=${line#listening }

rc=0
python3 "$here/bench.py" --url "$url" --plan "$work/plan.json" \
	--claims "$root/examples/claim-templates.yaml" --threads "$threads" "${ready[@]}" || rc=$?

# kube-sim's own CPU time (user + system, clock ticks) and peak RSS
ticks=$(getconf CLK_TCK)
read -r -a stat <"/proc/$sim_pid/stat"
cpu=$(((stat[13] + stat[14]) / ticks))
hwm=$(awk '/VmHWM/ { print $2 / 1024 " MiB" }' "/proc/$sim_pid/status")
echo "kube-sim: cpu ${cpu} s (user+system), peak RSS ${hwm}"
if grep -q Traceback "$work/sim.err"; then
	echo "run.sh: kube-sim printed a traceback:" >&2
	cat "$work/sim.err" >&2
	rc=1
fi
exit "$rc"
