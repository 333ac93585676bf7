#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The reconcile worker's speed against kube-sim (bench/README.md,
# "reconcile/"): `groved serve --kubeconfig` (the worker alone; the
# webhooks in a second groved) on kube-sim's cluster, loopback only.
#
#   ref    the reference workload on reference.yaml's 3 nodes: kubectl
#          apply, scale 1 -> 2, a decode pod deleted, idle (RUNS times)
#   3k     1 + 1,000 x 3 = 3,001 pods (bench/plan/gen.py --units 1000) on
#          large.yaml without admission webhooks, the worker's default
#          rate limit (--kube-qps 50 --kube-burst 100) and a raised one
#          (500 / 1000)
#   3k-hooks  the same through groved's webhooks, qps 50 (not in the
#          default WHAT: 10-15 minutes, kube-sim's webhook calls)
#   10k    10,000 pods (--units 3333), no webhooks, kube-sim
#          --no-scheduler (nothing binds: the scaled gangs stay gated),
#          --kube-qps 1000: the worker's CPU and RSS with 10,000 pods
#          cached, idle after
#
#     bench/reconcile/run.sh                  # ref 3k 10k, about 10 minutes
#     WHAT=3k-hooks bench/reconcile/run.sh
#     WHAT="ref" RUNS=3 bench/reconcile/run.sh
#
# Prints bench.py's JSON lines (kept in $OUT, default a temporary file)
# and the tables of table.py.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-$root/build/benchrec}
what=${WHAT:-"ref 3k 10k"}
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
nodes=$root/tests/fixtures/nodes

bench() { python3 "$here/bench.py" --groved "$groved" --root "$root" "$@" | tee -a "$out"; }

bench_header reconcile "RUNS=$runs"
for w in $what; do
	case $w in
	ref)
		for ((i = 1; i <= runs; i++)); do
			bench --nodes "$nodes/reference.yaml" \
				--set "$root/examples/vllm-disaggregated.yaml" \
				--steps apply,scale2,kill,idle --idle 5 --label "ref#$i"
		done
		;;
	3k)
		python3 "$root/bench/plan/gen.py" --units 1000 >"$work/set-3k.yaml"
		for q in "500 1000" "50 100"; do
			set -- $q
			bench --nodes "$nodes/large.yaml" --set "$work/set-3k.yaml" \
				--no-webhooks --qps "$1" --burst "$2" --steps apply \
				--timeout 900 --label "3k-nohooks-qps$1"
		done
		;;
	3k-hooks)
		# through groved's webhooks: kube-sim dials a new TLS connection
		# per webhook call, ~45 ms a pod create; 10-15 minutes
		python3 "$root/bench/plan/gen.py" --units 1000 >"$work/set-3k.yaml"
		bench --nodes "$nodes/large.yaml" --set "$work/set-3k.yaml" \
			--qps 50 --burst 100 --steps apply --timeout 1200 --label "3k-hooks-qps50"
		;;
	10k)
		python3 "$root/bench/plan/gen.py" --units 3333 >"$work/set-10k.yaml"
		bench --nodes "$nodes/reference.yaml" --set "$work/set-10k.yaml" \
			--no-webhooks --no-scheduler --qps 1000 --burst 2000 \
			--steps apply,idle --idle 10 --timeout 900 --label "10k-nosched"
		;;
	*)
		echo "run.sh: unknown WHAT '$w'" >&2
		exit 2
		;;
	esac
done
echo
python3 "$here/table.py" <"$out"
