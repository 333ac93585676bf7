#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End to end: `groved serve` on loopback ephemeral ports, driven with curl
# and openssl as kube-apiserver and an attacker would. Every check prints
# "ok - ..." or "not ok - ..."; the last line is "N passed, N failed".
#
#   test_serve.sh GROVED SOURCE_DIR
set -u
groved=$1
src=$2
fx="$src/tests/fixtures"
tmp=$(mktemp -d /tmp/gv-serve.XXXXXX)
pid=""

cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# check NAME COMMAND... and summary
. "$src/tests/lib/check.sh"

# wait_until SECONDS COMMAND...: runs COMMAND every 50 ms until it
# succeeds (0) or SECONDS have passed (1). Waits are for a condition, with
# a generous bound: a slow machine makes a slower test, not a false one.
wait_until() {
  local end=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -ge "$end" ] && return 1
    sleep 0.05
  done
}

# port SERVER: from the "listening" log line (ports are ephemeral)
port_of() {
  sed -n "s/.*\"msg\":\"listening\",\"server\":\"$1\".*\"port\":\([0-9]*\).*/\1/p" "$tmp/serve.log" | tail -1
}

listening_or_gone() { [ -n "$(port_of metrics)" ] || ! kill -0 "$pid" 2>/dev/null; }

start() { # start ARGS...: groved serve in the background, ports known
  # emptied here, not only by the background job's redirection, which may
  # come after the first look: the last run's ports would be read
  : >"$tmp/serve.log"
  "$groved" serve --webhook-addr 127.0.0.1:0 --health-addr 127.0.0.1:0 \
    --metrics-addr 127.0.0.1:0 --threads 2 "$@" 2>"$tmp/serve.log" &
  pid=$!
  wait_until 30 listening_or_gone
  wh=$(port_of webhooks); hp=$(port_of health); mp=$(port_of metrics)
  [ -n "$wh" ] && [ -n "$hp" ] && [ -n "$mp" ]
}

stop() { # stop: SIGTERM, then the exit status
  kill -TERM "$pid"
  wait "$pid"
  local rc=$?
  pid=""
  return $rc
}

# post HOOK BODYFILE [CURLARGS...]: prints "STATUS BODY"
post() {
  local hook=$1 body=$2
  shift 2
  curl -sS --max-time 10 --cacert "$tmp/certs/ca.crt" -o "$tmp/out" -w '%{http_code}' \
    -H 'Content-Type: application/json' --data-binary @"$body" "$@" \
    "https://127.0.0.1:$wh/webhooks/$hook?timeout=10s"
  echo -n " "
  cat "$tmp/out"
}

json_get() { # json_get EXPR < json: a python expression over `r`
  python3 -c "import json,sys; r=json.load(sys.stdin); print($1)"
}

# ---- start with a self-signed certificate -------------------------------
check "serve starts with --self-signed" start --self-signed "$tmp/certs"
check "ca.crt, tls.crt, tls.key written" test -s "$tmp/certs/ca.crt" -a -s "$tmp/certs/tls.crt" -a -s "$tmp/certs/tls.key"
check "tls.key is 0600" test "$(stat -c %a "$tmp/certs/tls.key")" = 600
check "healthz" test "$(curl -s "http://127.0.0.1:$hp/healthz")" = ok
check "readyz once the certificate is loaded" test "$(curl -s "http://127.0.0.1:$hp/readyz")" = ok

# ---- the captured requests through their webhooks ------------------------
r=$(post validate-podcliqueset "$fx/captured/pcs-create-cycle.json")
check "cycle denied with the captured message" test "$(echo "${r#* }" | json_get 'r["response"]["status"]["message"]')" = \
  "$(json_get 'r["response"]["status"]["message"]' < "$fx/captured/responses/deny-one.json")"
check "uid echoed" test "$(echo "${r#* }" | json_get 'r["response"]["uid"]')" = ef8d37f0-39fd-419f-816c-08ccdd576aef
r=$(post validate-podcliqueset "$fx/captured/pcs-create.json")
check "reference workload allowed" test "$(echo "${r#* }" | json_get 'r["response"]["allowed"]')" = True
r=$(post default-podcliqueset "$fx/captured/pcs-create-mutating.json")
check "defaults come as a base64 JSONPatch" test "$(echo "${r#* }" | json_get 'r["response"]["patchType"]')" = JSONPatch
r=$(post validate-podcliqueset "$fx/captured/pcs-update.json")
check "update allowed" test "$(echo "${r#* }" | json_get 'r["response"]["allowed"]')" = True
r=$(post validate-podcliqueset "$fx/captured/pcs-delete.json")
check "delete allowed" test "$(echo "${r#* }" | json_get 'r["response"]["allowed"]')" = True
r=$(post mutate-pod "$fx/captured/pod-create.json")
check "pod allowed (cache not synced: warned, not blocked)" test "$(echo "${r#* }" | json_get 'r["response"]["allowed"]')" = True
r=$(post validate-scale "$fx/captured/pcs-scale.json")
check "scale allowed while the cache is not synced" test "$(echo "${r#* }" | json_get 'r["response"]["allowed"]')" = True

# ---- bad requests: a clear status, and the server keeps serving ----------
code() { curl -sk --max-time 10 -o /dev/null -w '%{http_code}' "$@"; }
check "GET is 405" test "$(code "https://127.0.0.1:$wh/webhooks/validate-podcliqueset")" = 405
check "unknown path is 404" test "$(code -H 'Content-Type: application/json' --data '{}' "https://127.0.0.1:$wh/nope")" = 404
check "no Content-Type is 415" test "$(code -H 'Content-Type:' --data '{}' "https://127.0.0.1:$wh/webhooks/validate-podcliqueset")" = 415
head -c 8000000 /dev/zero | tr '\0' ' ' > "$tmp/big.json"
check "8 MB body is 413" test "$(code -H 'Content-Type: application/json' --data-binary @"$tmp/big.json" "https://127.0.0.1:$wh/webhooks/validate-podcliqueset")" = 413
printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":' > "$tmp/trunc.json"
check "truncated JSON is 400" test "$(code -H 'Content-Type: application/json' --data-binary @"$tmp/trunc.json" "https://127.0.0.1:$wh/webhooks/validate-podcliqueset")" = 400
python3 -c "print('['*5000 + ']'*5000)" > "$tmp/deep.json"
check "deeply nested JSON is 400" test "$(code -H 'Content-Type: application/json' --data-binary @"$tmp/deep.json" "https://127.0.0.1:$wh/webhooks/validate-podcliqueset")" = 400
printf '\xff\xfe{"a":"\xc3"}' > "$tmp/bad-utf8.json"
check "non-UTF-8 is 400" test "$(code -H 'Content-Type: application/json' --data-binary @"$tmp/bad-utf8.json" "https://127.0.0.1:$wh/webhooks/validate-podcliqueset")" = 400
# plaintext HTTP and TLS garbage on the TLS port
curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$wh/webhooks/validate-podcliqueset" 2>/dev/null
head -c 4096 /dev/urandom | timeout 5 openssl s_client -quiet -connect "127.0.0.1:$wh" >/dev/null 2>&1
(exec 3<>"/dev/tcp/127.0.0.1/$wh" && head -c 2048 /dev/urandom >&3 && exec 3>&-) 2>/dev/null
r=$(post validate-podcliqueset "$fx/captured/pcs-create.json")
check "still serving after plaintext and garbage" test "${r%% *}" = 200
check "TLS 1.1 refused" sh -c "! openssl s_client -tls1_1 -connect 127.0.0.1:$wh </dev/null >/dev/null 2>&1"
check "TLS 1.3 accepted" sh -c "openssl s_client -tls1_3 -connect 127.0.0.1:$wh </dev/null 2>/dev/null | grep -q 'TLSv1.3'"

# ---- metrics --------------------------------------------------------------
m=$(curl -s "http://127.0.0.1:$mp/metrics")
check "metrics count the denial" sh -c "echo '$m' | grep -q 'groved_admission_requests_total{webhook=\"validate-podcliqueset\",outcome=\"denied\"} 1'"
check "metrics count malformed reviews" sh -c "echo '$m' | grep -Eq 'groved_admission_requests_total\\{webhook=\"validate-podcliqueset\",outcome=\"malformed\"\\} [1-9]'"
check "build info" sh -c "echo '$m' | grep -q 'groved_build_info{version='"
check "TLS garbage counted as handshake failures" sh -c "echo '$m' | grep -Eq '^groved_tls_handshake_failures_total [1-9]'"
check "logs are JSON lines" python3 -c "
import json
for l in open('$tmp/serve.log'):
    json.loads(l)"
check "SIGTERM exits 0" stop

# ---- certificate files, hot reload without failed requests ---------------
mkdir -p "$tmp/files"
newpair() { # newpair DIR: a CA-less self-signed ECDSA pair
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$1/tls.key.new" -out "$1/tls.crt.new" 2>/dev/null
}
newpair "$tmp/files" && mv "$tmp/files/tls.key.new" "$tmp/files/tls.key" && mv "$tmp/files/tls.crt.new" "$tmp/files/tls.crt"
printf 'log-level: info\n' > "$tmp/config.yaml"
check "serve starts with certificate files and a config file" start --tls-cert-file "$tmp/files/tls.crt" --tls-key-file "$tmp/files/tls.key" --config "$tmp/config.yaml"
serial() { openssl s_client -connect "127.0.0.1:$wh" </dev/null 2>/dev/null | openssl x509 -noout -serial; }
before=$(serial)
# requests all through the swap: the loader counts them in load.n and
# stops when load.stop appears
(
  fails=0; n=0
  while [ ! -e "$tmp/load.stop" ] && [ "$n" -lt 5000 ]; do
    c=$(curl -sk --max-time 5 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
      --data-binary @"$fx/captured/pcs-create.json" "https://127.0.0.1:$wh/webhooks/validate-podcliqueset")
    [ "$c" = 200 ] || fails=$((fails + 1))
    n=$((n + 1)); echo "$n" > "$tmp/load.n.new" && mv "$tmp/load.n.new" "$tmp/load.n"
    sleep 0.02
  done
  echo "$fails" > "$tmp/load.fails"
) &
loader=$!
requests_past() { [ "$(cat "$tmp/load.n" 2>/dev/null || echo 0)" -ge "$1" ]; }
new_served() { after=$(serial); [ -n "$before" ] && [ -n "$after" ] && [ "$before" != "$after" ]; }
wait_until 30 requests_past 5
newpair "$tmp/files" && mv "$tmp/files/tls.key.new" "$tmp/files/tls.key" && mv "$tmp/files/tls.crt.new" "$tmp/files/tls.crt"
wait_until 30 new_served
wait_until 30 requests_past $(($(cat "$tmp/load.n") + 5))
touch "$tmp/load.stop"
wait "$loader"
check "the new certificate is served without a restart" new_served
check "no request failed during the swap" test "$(cat "$tmp/load.fails")" = 0
printf 'log-level: debug\n' > "$tmp/config.yaml"
kill -HUP "$pid"
wait_until 30 grep -q '"msg":"configuration reloaded"' "$tmp/serve.log"
check "SIGHUP reloads the configuration" grep -q '"msg":"configuration reloaded"' "$tmp/serve.log"
check "SIGTERM exits 0" stop

# ---- with a cluster: kube-sim behind, the caches filled by informers -----
sim_log="$tmp/kube-sim.log"
python3 "$src/tests/kube-sim/kube-sim" --addr 127.0.0.1:0 --kubeconfig-out "$tmp/kubeconfig" \
  --load "$src/deploy/crds/grove.io_podcliquesets.yaml" --load "$src/deploy/crds/grove.io_podcliques.yaml" \
  --load "$src/deploy/crds/grove.io_clustertopologybindings.yaml" --load "$src/deploy/crds/grove.io_podcliquescalinggroups.yaml" \
  --load "$src/examples/claim-templates.yaml" --load "$src/examples/vllm-disaggregated.yaml" \
  >"$sim_log" 2>&1 &
sim_pid=$!
wait_until 30 grep -q listening "$sim_log"
check "serve starts against kube-sim" start --self-signed "$tmp/certs" --kubeconfig "$tmp/kubeconfig"
ready() { [ "$(curl -s "http://127.0.0.1:$hp/readyz")" = ok ]; }
wait_until 30 ready
check "readyz once the informers have synced" test "$(curl -s "http://127.0.0.1:$hp/readyz")" = ok
python3 - "$fx/captured/pcs-create.json" "$tmp/missing-claim.json" "$tmp/with-claim.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
spec = r["request"]["object"]["spec"]
spec["podCliques"][2]["resourceClaims"] = [{"name": "gpu", "resourceClaimTemplateName": "h100-claim"}]
json.dump(r, open(sys.argv[2], "w"))
spec["podCliques"][2]["resourceClaims"][0]["resourceClaimTemplateName"] = "h200-decode-claim"
json.dump(r, open(sys.argv[3], "w"))
PY
r=$(post validate-podcliqueset "$tmp/missing-claim.json")
check "a missing claim template is denied from the cluster's state" test "$(echo "${r#* }" | json_get 'not r["response"]["allowed"] and "Not found" in r["response"]["status"]["message"] and "h100-claim" in r["response"]["status"]["message"]')" = True
r=$(post validate-podcliqueset "$tmp/with-claim.json")
check "an existing claim template is found" test "$(echo "${r#* }" | json_get 'r["response"]["allowed"]')" = True
r=$(post mutate-pod "$fx/captured/pod-create.json")
check "the pod webhook shapes a pod of a cached PodCliqueSet" test "$(echo "${r#* }" | json_get 'r["response"].get("patchType")')" = JSONPatch
# a parent missing from the cache is asked for live, once, on a short
# budget: with the API server 8 s slow the answer is a warning within the
# kube-apiserver's 10 s, not a stuck webhook
sim_url=$(sed -n 's/^listening //p' "$sim_log")
python3 - "$fx/captured/pcs-scale-2-to-5.json" "$tmp/scale-unknown.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["request"]["name"] = "not-cached"
json.dump(r, open(sys.argv[2], "w"))
PY
curl -s -X POST "$sim_url/__sim/latency?ms=8000" >/dev/null
r=$(post validate-scale "$tmp/scale-unknown.json" --max-time 7)
curl -s -X POST "$sim_url/__sim/latency?ms=0" >/dev/null
check "a slow API server: the scale webhook answers in time, with a warning" test "$(echo "${r#* }" | json_get 'r["response"]["allowed"] and "did not answer" in r["response"]["warnings"][0]')" = True
check "SIGTERM exits 0 with informers running" stop

# self-managed certificates whose caBundle target is missing: the pair is
# still made and served, and the failure is logged once, not every period
# (a 4 s certificate makes the period 200 ms)
check "serve starts with --cert-secret" start --kubeconfig "$tmp/kubeconfig" \
  --namespace groved-system --cert-secret cert --cert-validity 4s \
  --inject-ca-into validatingwebhookconfigurations/not-installed
wait_until 30 ready
check "ready on the pair from the Secret it made" test "$(curl -s "http://127.0.0.1:$hp/readyz")" = ok
# many rounds (200 ms each) have passed once the 4 s certificate has
# been replaced and loaded again
loaded_twice() { [ "$(grep -c '"msg":"certificate loaded"' "$tmp/serve.log")" -ge 2 ]; }
wait_until 60 loaded_twice
check "the short-lived certificate is replaced (rounds ran)" loaded_twice
check "a missing webhook configuration is logged once" test "$(grep -c 'cannot renew the certificate or inject the CA' "$tmp/serve.log")" = 1
check "and named" grep -q 'not-installed' "$tmp/serve.log"
check "SIGTERM exits 0 with the certificate thread running" stop

# the parts stop in the reverse order of their start: on SIGTERM the
# webhooks finish first, then the elector releases the Lease (before the
# certificate thread it kicks stops), then the informers
check "serve starts with --leader-elect and --cert-secret" start --kubeconfig "$tmp/kubeconfig" \
  --namespace groved-system --cert-secret cert --leader-elect
leading() { grep -q '"msg":"leading"' "$tmp/serve.log"; }
wait_until 30 leading
wait_until 30 ready
check "it leads and is ready" sh -c "grep -q '\"msg\":\"leading\"' '$tmp/serve.log' && test \"\$(curl -s http://127.0.0.1:$hp/readyz)\" = ok"
check "SIGTERM exits 0 with the elector running" stop
# line numbers of the first MSG in the log
line_of() { grep -n "\"msg\":\"$1\"" "$tmp/serve.log" | head -1 | cut -d: -f1; }
check "stopping, then the Lease given up, then stopped" sh -c \
  "[ -n '$(line_of stopping)' ] && [ '$(line_of stopping)' -lt '$(line_of 'no longer leading')' ] && [ '$(line_of 'no longer leading')' -lt '$(line_of stopped)' ]"
holder=$(curl -s "$sim_url/apis/coordination.k8s.io/v1/namespaces/groved-system/leases/groved-leader" | json_get 'r["spec"].get("holderIdentity", "")')
check "the Lease is free after SIGTERM" test -z "$holder"
kill "$sim_pid" 2>/dev/null; wait "$sim_pid" 2>/dev/null

# a part that cannot start stops the ones started before it: the metrics
# server cannot bind the health server's port; groved exits 2 at once
# (bounded: a part left running would hang the exit), naming the part
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
timeout 60 "$groved" serve --self-signed "$tmp/certs" --webhook-addr 127.0.0.1:0 \
  --health-addr "127.0.0.1:$port" --metrics-addr "127.0.0.1:$port" 2>"$tmp/err.log"
check "a part that cannot start: exit 2, the others stopped" test $? = 2
check "the servers before it had started" sh -c "grep -q '\"server\":\"webhooks\"' '$tmp/err.log' && grep -q '\"server\":\"health\"' '$tmp/err.log'"
check "the failure names the part" grep -q '"msg":"cannot start","part":"metrics"' "$tmp/err.log"

# ---- the subcommands, from one table -------------------------------------
"$groved" --help > "$tmp/help.txt"
check "groved --help lists the commands" sh -c "for c in serve validate certs version plan; do grep -q \"^  \$c \" '$tmp/help.txt' || exit 1; done"
"$groved" plna 2>"$tmp/err.log"
check "an unknown command exits 2" test $? = 2
check "and says it is not a groved command" grep -q "^groved: 'plna' is not a groved command" "$tmp/err.log"
check "groved --version" sh -c "'$groved' --version | grep -q '^groved '"

# ---- bad configurations fail clearly -------------------------------------
"$groved" serve --webhook-addr nonsense --self-signed "$tmp/certs" 2>"$tmp/err.log"
check "bad address exits 2" test $? = 2
check "and says which option" grep -q 'webhook-addr' "$tmp/err.log"
"$groved" serve --tls-cert-file /nonexistent/tls.crt --tls-key-file /nonexistent/tls.key --webhook-addr 127.0.0.1:0 --health-addr 127.0.0.1:0 --metrics-addr 127.0.0.1:0 2>"$tmp/err.log"
check "missing certificate exits 2 naming the file" sh -c "grep -q '/nonexistent/tls.crt' '$tmp/err.log'"
"$groved" serve --help > "$tmp/help.txt"
check "--help documents every address option" sh -c "grep -q webhook-addr '$tmp/help.txt' && grep -q health-addr '$tmp/help.txt' && grep -q metrics-addr '$tmp/help.txt' && grep -q no-reconcile '$tmp/help.txt'"

summary
