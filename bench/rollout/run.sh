#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A rollout's speed and writes (bench/README.md, "rollout/"): the reference
# workload at UNITS units (default 100: 1 router + 100 x (1 prefill + 2
# decode)) on kube-sim's cluster, the prefill and decode image changed,
# the worker (`groved serve --kubeconfig`, alone in its process) rolling
# the 300 pods. Loopback only; every wait bounded.
#
#   mu1         maxUnavailable 1 on the group, the worker's default rate
#               limit (--kube-qps 50 --kube-burst 100)
#   mu10        maxUnavailable 10, the same rate limit
#   mu1-qps500  maxUnavailable 1, --kube-qps 500 --kube-burst 1000
#   mu10-qps500 maxUnavailable 10, the same (the budget's floor without
#               the rate limit's)
#
# Each in a world of its own (a fresh kube-sim and worker), in the order
# given, RUNS times round. Replacements are Ready READY_AFTER (default 1)
# simulated seconds after they start, old pods take GRACE (default 1)
# simulated seconds to go, and kube-sim's --time-scale TIME_SCALE (default
# 0.25) makes a simulated second TIME_SCALE real seconds.
#
#     bench/rollout/run.sh                        # all four: ~6 minutes
#     WHAT=mu10 UNITS=20 bench/rollout/run.sh     # a quick look
#     DEBUG=1 WHAT=mu1 bench/rollout/run.sh       # the worker at --log-level debug, logs kept
#
# Prints bench.py's JSON lines (kept in $OUT, default a temporary file)
# and the tables of table.py.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-$root/build/benchroll}
what=${WHAT:-"mu1 mu10 mu1-qps500 mu10-qps500"}
units=${UNITS:-100}
scale=${TIME_SCALE:-0.25}
ready=${READY_AFTER:-1}
grace=${GRACE:-1}
timeout=${TIMEOUT:-900}
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
extra=()
if [ -n "${DEBUG:-}" ]; then
	extra+=(--debug)
fi

failed=0
bench() {
	python3 "$here/bench.py" --groved "$groved" --units "$units" \
		--time-scale "$scale" --ready-after "$ready" --grace "$grace" \
		--timeout "$timeout" "${extra[@]}" "$@" | tee -a "$out" || {
		echo "run.sh: bench.py $* failed" >&2
		failed=1
	}
}

bench_header rollout "UNITS=$units," \
	"TIME_SCALE=$scale (1 s simulated = $scale s), READY_AFTER=$ready, GRACE=$grace," \
	"RUNS=$runs"
for ((i = 1; i <= runs; i++)); do
	for w in $what; do
		case $w in
		mu1) bench --max-unavailable 1 --label "mu1#$i" ;;
		mu10) bench --max-unavailable 10 --label "mu10#$i" ;;
		mu1-qps500)
			bench --max-unavailable 1 --qps 500 --burst 1000 \
				--label "mu1-qps500#$i"
			;;
		mu10-qps500)
			bench --max-unavailable 10 --qps 500 --burst 1000 \
				--label "mu10-qps500#$i"
			;;
		*)
			echo "run.sh: unknown WHAT '$w'" >&2
			exit 2
			;;
		esac
	done
done
echo
python3 "$here/table.py" <"$out"
exit $failed
