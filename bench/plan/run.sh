#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The planner's speed: `groved plan` on sets of 1 router + N units of
# 1 prefill + 2 decode (bench/plan/gen.py), 1k, 3k, 10k and 100k pods.
# For each set: wall time of the whole command with -o tree (read,
# validate, plan, print the tree) and with YAML output, peak RSS
# (/usr/bin/time -v), and, from the bench driver plan_bench, the planner
# call alone (rec_plan_build) apart from reading and validation and from
# the output's JSON dump. hyperfine when installed, else a bounded loop
# of RUNS runs. Everything runs on this machine, one after another.
#
#     bench/plan/run.sh               # RUNS=5, a few minutes
#     RUNS=3 SIZES="333 1000" bench/plan/run.sh
#     BASELINE=/path/to/other/build bench/plan/run.sh
#
# BASELINE: another build folder with groved and plan_bench (an older
# commit, say); each size is then measured with both, alternately, in the
# same run, and a second table gives the ratios.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-$root/build/bench-plan}
runs=${RUNS:-5}
sizes=${SIZES:-"333 1000 3333 33333"} # units: 1,000 3,001 10,000 100,000 pods
baseline=${BASELINE:-}
claims=$root/examples/claim-templates.yaml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "$runs" -lt 1 ] || [ "$runs" -gt 100 ]; then
	echo "run.sh: RUNS must be 1..100" >&2
	exit 2
fi
# configured once, brought up to date every run (incremental)
if [ ! -f "$build/CMakeCache.txt" ]; then
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
		-DBUILD_TESTING=OFF >/dev/null
fi
cmake -S "$root" -B "$build" -DGROVED_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target groved plan_bench >/dev/null
groved=$build/groved
bench=$build/bench/plan/plan_bench

# median of the numbers on stdin
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# wall ms of one run of "$@", output discarded
wall_ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))e-3
}

# median wall ms over $runs runs (hyperfine's median when installed)
timed() {
	local i
	if command -v hyperfine >/dev/null; then
		hyperfine -N -w 1 -r "$runs" --export-json "$work/h.json" \
			"$*" >/dev/null 2>&1
		python3 -c 'import json,sys; print("%.1f" % (1e3 * json.load(open(sys.argv[1]))["results"][0]["median"]))' "$work/h.json"
		return
	fi
	for ((i = 0; i < runs; i++)); do wall_ms "$@"; done | median |
		awk '{ printf "%.1f\n", $1 }'
}

peak_kb() {
	/usr/bin/time -v "$@" 2>&1 >/dev/null |
		awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }'
}

echo "# groved plan, $(date -u +%Y-%m-%d), $(nproc) CPUs, RUNS=$runs"
echo "# $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')," \
	"timer: $(command -v hyperfine >/dev/null && echo hyperfine || echo 'bounded loop')"
echo
echo "| pods | gangs | plan call ms (min / median) | read + validate ms | JSON dump ms (median) | groved plan -o tree ms | groved plan (YAML) ms | peak RSS tree MiB | peak RSS YAML MiB |"
echo "|---|---|---|---|---|---|---|---|---|"
ratios=""
for u in $sizes; do
	set_file=$work/set-$u.yaml
	"$here/gen.py" --units "$u" >"$set_file"
	rounds=$((runs * 2))
	[ "$u" -gt 10000 ] && rounds=$runs
	read -r pods_ gangs_ <<<"$("$groved" plan -f "$set_file" -f "$claims" -o tree |
		awk 'NR == 1 { print $3, $5 }')"
	b=$("$bench" "$set_file" "$rounds")
	# pods N rounds N read+validate X ms plan min X median X ms dump min X median X ms
	plan_min=$(awk '{ print $10 }' <<<"$b")
	plan_med=$(awk '{ print $12 }' <<<"$b")
	readv=$(awk '{ print $6 }' <<<"$b")
	dump=$(awk '{ print $18 }' <<<"$b")
	tree=$(timed "$groved" plan -f "$set_file" -f "$claims" -o tree)
	yaml=$(timed "$groved" plan -f "$set_file" -f "$claims")
	rss_t=$(peak_kb "$groved" plan -f "$set_file" -f "$claims" -o tree)
	rss_y=$(peak_kb "$groved" plan -f "$set_file" -f "$claims")
	printf "| %s | %s | %s / %s | %s | %s | %s | %s | %.1f | %.1f |\n" \
		"$pods_" "$gangs_" "$plan_min" "$plan_med" "$readv" "$dump" \
		"$tree" "$yaml" "$(echo "$rss_t / 1024" | bc -l)" \
		"$(echo "$rss_y / 1024" | bc -l)"
	if [ -n "$baseline" ]; then
		bb=$("$baseline/bench/plan/plan_bench" "$set_file" "$rounds")
		b2=$("$bench" "$set_file" "$rounds")
		bb_med=$(awk '{ print $12 }' <<<"$bb")
		b2_med=$(awk '{ print $12 }' <<<"$b2")
		bt=$(timed "$baseline/groved" plan -f "$set_file" -f "$claims" -o tree)
		t2=$(timed "$groved" plan -f "$set_file" -f "$claims" -o tree)
		ratios+=$(printf "| %s | %s | %s | %.2f | %s | %s | %.2f |" \
			"$pods_" "$bb_med" "$b2_med" \
			"$(echo "$b2_med / $bb_med" | bc -l)" "$bt" "$t2" \
			"$(echo "$t2 / $bt" | bc -l)")$'\n'
	fi
done
if [ -n "$baseline" ]; then
	echo
	echo "Side by side with BASELINE=$baseline (measured alternately, same run):"
	echo
	echo "| pods | plan call ms, baseline | plan call ms, this | ratio | -o tree ms, baseline | -o tree ms, this | ratio |"
	echo "|---|---|---|---|---|---|---|"
	printf "%s" "$ratios"
fi
