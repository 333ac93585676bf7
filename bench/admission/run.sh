#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Side-by-side admission benchmark: groved, the Go stdlib peer, and the
# nginx fixed-answer ceiling, one after another in one run, on the same
# bodies, each server pinned to CPU 1 with the load generator (wrk) on
# CPU 0. Loopback only; every load is bounded (DURATION seconds).
#
#   bench/admission/run.sh              the full comparison (~6 minutes)
#   DURATION=3 ROUNDS=1 bench/admission/run.sh   a quick look
#
# Prints a markdown table (medians over ROUNDS) and the soak result.
# Needs wrk, nginx, golang-go, openssl, curl (Debian packages).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
SOAK_SECONDS=${SOAK_SECONDS:-30}
SOAK_CONNS=${SOAK_CONNS:-320}
export PEERS_RUN=${PEERS_RUN:-/tmp/groved-bench}
mkdir -p "$PEERS_RUN"

for tool in wrk nginx go openssl curl taskset; do
  command -v "$tool" >/dev/null || { echo "missing: $tool (apt-get install wrk nginx-light golang-go openssl curl)" >&2; exit 2; }
done

cmake -S "$TOP" -B "$TOP/build/release" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$TOP/build/release" -j"$(nproc)" --target groved >/dev/null
GROVED="$TOP/build/release/groved"

bodies=(
  "compact-create:$TOP/tests/fixtures/reviews/compact-create.json"
  "template-create:$TOP/tests/fixtures/reviews/template-create.json"
  "captured-create:$TOP/tests/fixtures/captured/pcs-create.json"
  "captured-update:$TOP/tests/fixtures/captured/pcs-update.json"
)

gv_pid=""
stop_all() {
  [ -n "$gv_pid" ] && kill "$gv_pid" 2>/dev/null && wait "$gv_pid" 2>/dev/null || true
  gv_pid=""
  "$HERE/peers.sh" stop >/dev/null 2>&1 || true
}
trap stop_all EXIT

start_groved() { # same certificate as the peers (ECDSA P-256)
  "$HERE/peers.sh" start nginx 18999 1 >/dev/null 2>&1 && "$HERE/peers.sh" stop >/dev/null  # makes the cert
  taskset -c 1 "$GROVED" serve --threads 1 --tls-cert-file "$PEERS_RUN/tls.crt" \
    --tls-key-file "$PEERS_RUN/tls.key" --webhook-addr 127.0.0.1:19443 \
    --health-addr 127.0.0.1:19444 --metrics-addr 127.0.0.1:19445 --log-level warn \
    2>"$PEERS_RUN/groved.log" &
  gv_pid=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:19444/readyz >/dev/null && return 0; sleep 0.05; done
  echo "groved did not start; see $PEERS_RUN/groved.log" >&2; exit 1
}

server_pid() {
  case $1 in
  groved) echo "$gv_pid" ;;
  go) cat "$PEERS_RUN/go.pid" ;;
  nginx) pgrep -P "$(cat "$PEERS_RUN/nginx-master.pid")" | head -1 ;;
  esac
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

url_of() {
  case $1 in
  groved) echo "https://127.0.0.1:19443/webhooks/validate-podcliqueset?timeout=10s" ;;
  go) echo "https://127.0.0.1:19443/validate" ;;
  nginx) echo "https://127.0.0.1:19443/validate" ;;
  esac
}

start() {
  case $1 in
  groved) start_groved ;;
  *) "$HERE/peers.sh" start "$1" 19443 1 >/dev/null ;;
  esac
  sleep 0.3
}

results="$PEERS_RUN/results.txt"
: >"$results"
hz=$(getconf CLK_TCK)
for round in $(seq "$ROUNDS"); do
  for server in nginx go groved; do
    start "$server"
    pid=$(server_pid "$server")
    idle=$(rss_kib "$pid")
    for b in "${bodies[@]}"; do
      name=${b%%:*}; file=${b#*:}
      for conns in 32 1; do
        t0=$(cpu_ticks "$pid")
        line=$(CONNS=$conns THREADS=$([ "$conns" = 1 ] && echo 1 || echo 2) DURATION=$DURATION \
          "$HERE/load.sh" "$(url_of "$server")" "$file")
        t1=$(cpu_ticks "$pid")
        reqs=$(echo "$line" | sed 's/.*requests=\([0-9]*\).*/\1/')
        cpu_us=$(awk -v d=$((t1 - t0)) -v r="$reqs" -v hz="$hz" 'BEGIN { if (r > 0) printf "%.0f", d * 1e6 / hz / r; else print "-" }')
        echo "$round $server $name $conns $line cpu_us=$cpu_us" >>"$results"
      done
    done
    peak=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    echo "$round $server rss idle_kib=$idle peak_kib=$peak" >>"$results"
    stop_all
  done
done

python3 - "$results" <<'PY'
import sys, statistics, re
rows = {}
mem = {}
for line in open(sys.argv[1]):
    f = line.split()
    if f[2] == "rss":
        kv = dict(x.split("=") for x in f[3:])
        mem.setdefault(f[1], []).append(kv)
        continue
    rnd, server, body, conns = f[:4]
    kv = dict(x.split("=") for x in f[4:])
    rows.setdefault((body, conns, server), []).append(kv)
def med(vals, key):
    v = [float(x[key]) for x in vals if x.get(key, "-") not in ("-", "")]
    return statistics.median(v) if v else float("nan")
print("| body | conns | server | req/s | p50 ms | p99 ms | CPU us/req | non-200 | sock errors |")
print("|---|---|---|---|---|---|---|---|---|")
for body in ["compact-create", "template-create", "captured-create", "captured-update"]:
    for conns in ["32", "1"]:
        for server in ["nginx", "go", "groved"]:
            r = rows.get((body, conns, server))
            if not r:
                continue
            print(f"| {body} | {conns} | {server} | {med(r,'req_s'):.0f} | {med(r,'p50_ms'):.3f} | "
                  f"{med(r,'p99_ms'):.3f} | {med(r,'cpu_us'):.0f} | {sum(int(x['non200']) for x in r)} | "
                  f"{sum(int(x['sock_errors']) for x in r)} |")
print()
print("| ratio groved / go | conns | req/s | p50 | p99 | CPU/req |")
print("|---|---|---|---|---|---|")
for body in ["compact-create", "template-create", "captured-create", "captured-update"]:
    for conns in ["32", "1"]:
        g, o = rows.get((body, conns, "groved")), rows.get((body, conns, "go"))
        if g and o:
            print(f"| {body} | {conns} | {med(g,'req_s')/med(o,'req_s'):.2f} | {med(g,'p50_ms')/med(o,'p50_ms'):.2f} | "
                  f"{med(g,'p99_ms')/med(o,'p99_ms'):.2f} | {med(g,'cpu_us')/med(o,'cpu_us'):.2f} |")
print()
print("| server | idle RSS MiB | peak RSS MiB |")
print("|---|---|---|")
for server in ["nginx", "go", "groved"]:
    m = mem.get(server)
    if m:
        print(f"| {server} | {statistics.median(float(x['idle_kib']) for x in m)/1024:.1f} | "
              f"{statistics.median(float(x['peak_kib']) for x in m)/1024:.1f} |")
PY

# the soak: many keep-alive connections for a while, nothing may fail
start groved
line=$(CONNS=$SOAK_CONNS THREADS=2 DURATION=$SOAK_SECONDS TIMEOUT=5s \
  "$HERE/load.sh" "$(url_of groved)" "$TOP/tests/fixtures/captured/pcs-create.json")
echo
echo "soak: $SOAK_CONNS keep-alive connections for ${SOAK_SECONDS}s: $line"
stop_all
