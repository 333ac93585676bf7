#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `groved certs generate` end to end: the files it writes checked with
# openssl, the caBundle it prints, its refusals, and the pair served by
# `groved serve` to curl on loopback with the right name, a wrong one, and
# (with a pair made by `openssl ca`) an expired certificate. Every check
# prints "ok - ..." or "not ok - ..."; the last line is "N passed, N
# failed"; the exit status is non-zero when any check failed.
#
#   test_certs_cli.sh GROVED SOURCE_DIR
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 GROVED SOURCE_DIR" >&2
  exit 2
fi
groved=$1
src=$2
fx="$src/tests/fixtures/captured"
tmp=$(mktemp -d /tmp/gv-certs.XXXXXX)
pid=""

cleanup() {
  if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# check NAME COMMAND... and summary
. "$src/tests/lib/check.sh"

svc=groved-webhook
ns=grove-system
host="$svc.$ns.svc"

# gen DIR ARGS...: groved certs generate; stdout, stderr and the exit status
# in DIR.out, DIR.err, DIR.rc
gen() {
  local dir=$1
  shift
  local rc=0
  timeout 20 "$groved" certs generate --out "$dir" "$@" >"$dir.out" 2>"$dir.err" || rc=$?
  echo "$rc" >"$dir.rc"
  # a sanitizer build reports on stderr: keep every report for the end
  if grep -q -e 'Sanitizer' -e 'runtime error' "$dir.err"; then
    cat "$dir.err" >>"$tmp/sanitizer.log"
  fi
}
rc_of() { cat "$1.rc"; }

# lifetime FILE: notAfter - notBefore in seconds
lifetime() {
  openssl x509 -in "$1" -noout -startdate -enddate 2>/dev/null | python3 2>/dev/null -c '
import sys, datetime
d = dict(l.strip().split("=", 1) for l in sys.stdin)
f = "%b %d %H:%M:%S %Y GMT"
p = lambda s: datetime.datetime.strptime(" ".join(s.split()), f)
print(int((p(d["notAfter"]) - p(d["notBefore"])).total_seconds()))'
}

# sans FILE: the subjectAltName entries, one a line, in certificate order
sans() {
  openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr ',' '\n' | sed 's/^ *//;/^$/d'
}

same_lines() { # same_lines "A" "B": equal texts
  [ "$1" = "$2" ]
}

# ---- generate ---------------------------------------------------------------
d="$tmp/pair"
gen "$d" --service "$svc" --namespace "$ns" --validity 720h --ca-validity 1000h
check "generate exits 0" test "$(rc_of "$d")" = 0
check "directory made with mode 0700" test "$(stat -c %a "$d" 2>/dev/null)" = 700
check "ca.crt, tls.crt, tls.key written" test -s "$d/ca.crt" -a -s "$d/tls.crt" -a -s "$d/tls.key"
check "tls.key is 0600" test "$(stat -c %a "$d/tls.key" 2>/dev/null)" = 600
check "chain verifies" sh -c "openssl verify -CAfile '$d/ca.crt' '$d/tls.crt' >/dev/null 2>&1"
check "chain verifies for purpose sslserver" sh -c "openssl verify -purpose sslserver -CAfile '$d/ca.crt' '$d/tls.crt' >/dev/null 2>&1"
check "key is EC prime256v1" sh -c "openssl pkey -in '$d/tls.key' -noout -text 2>/dev/null | grep -q 'ASN1 OID: prime256v1'"
check "certificate key is EC prime256v1" sh -c "openssl x509 -in '$d/tls.crt' -noout -text 2>/dev/null | grep -q 'ASN1 OID: prime256v1'"
pub_of_key=$(openssl pkey -in "$d/tls.key" -pubout 2>/dev/null || :)
check "key matches certificate" test -n "$pub_of_key" -a "$pub_of_key" = "$(openssl x509 -in "$d/tls.crt" -noout -pubkey 2>/dev/null)"
check "exactly the four Service SANs" same_lines "$(sans "$d/tls.crt")" \
  "DNS:$svc
DNS:$svc.$ns
DNS:$svc.$ns.svc
DNS:$svc.$ns.svc.cluster.local"
check "leaf lifetime is --validity 720h plus the 5 min backdate" test "$(lifetime "$d/tls.crt")" = $((720 * 3600 + 300))
check "CA lifetime is --ca-validity 1000h plus the 5 min backdate" test "$(lifetime "$d/ca.crt")" = $((1000 * 3600 + 300))
check "stdout is one line" test "$(wc -l <"$d.out")" = 1
check "caBundle on stdout decodes to exactly ca.crt" sh -c "base64 -d '$d.out' | cmp -s - '$d/ca.crt'"
check "caBundle is plain base64, unwrapped" grep -Eqx '[A-Za-z0-9+/]+=*' "$d.out"
check "one summary line on stderr" test "$(wc -l <"$d.err")" = 1

d2="$tmp/defaults"
gen "$d2" --service "$svc" --namespace "$ns" --dns extra.example.com --dns "$host" --ip 127.0.0.1 --ip ::1
check "defaults: leaf and CA valid 365 days" test "$(lifetime "$d2/tls.crt") $(lifetime "$d2/ca.crt")" = "$((365 * 86400 + 300)) $((365 * 86400 + 300))"
check "--dns and --ip added, duplicates dropped" same_lines "$(sans "$d2/tls.crt")" \
  "DNS:$svc
DNS:$svc.$ns
DNS:$svc.$ns.svc
DNS:$svc.$ns.svc.cluster.local
DNS:extra.example.com
IP Address:127.0.0.1
IP Address:0:0:0:0:0:0:0:1"
d3="$tmp/days"
gen "$d3" --service "$svc" --namespace "$ns" --validity 30d --ca-validity 90m
check "--ca-validity shorter than --validity is a usage error" sh -c "test $(rc_of "$d3") = 2 && grep -q -- '--ca-validity' '$d3.err'"
gen "$d3" --service "$svc" --namespace "$ns" --validity 30d
check "'30d' is 30 days; the CA follows a longer --validity" test "$(lifetime "$d3/tls.crt") $(lifetime "$d3/ca.crt")" = "$((30 * 86400 + 300)) $((365 * 86400 + 300))"

# ---- no overwrite without --force -------------------------------------------
before=$(sha256sum "$d"/ca.crt "$d"/tls.crt "$d"/tls.key 2>/dev/null || :)
gen "$d" --service "$svc" --namespace "$ns"
check "re-run without --force exits 1" test "$(rc_of "$d")" = 1
check "re-run without --force says to use --force" grep -q "refusing to overwrite '$d/tls.key'.*--force" "$d.err"
check "re-run without --force prints no caBundle" test ! -s "$d.out"
check "re-run without --force leaves the files" test -n "$before" -a "$(sha256sum "$d"/ca.crt "$d"/tls.crt "$d"/tls.key 2>/dev/null)" = "$before"
cp "$d/ca.crt" "$tmp/old-ca.crt" 2>/dev/null || :
gen "$d" --service "$svc" --namespace "$ns" --force
check "--force exits 0" test "$(rc_of "$d")" = 0
all_replaced() { # every file's hash differs from the one in $before
  local f
  for f in ca.crt tls.crt tls.key; do
    if grep -Fqx "$(sha256sum "$d/$f" 2>/dev/null)" <<<"$before"; then return 1; fi
  done
}
check "--force replaces all three files" all_replaced
check "--force: the new chain verifies" sh -c "openssl verify -purpose sslserver -CAfile '$d/ca.crt' '$d/tls.crt' >/dev/null 2>&1"
check "--force: caBundle matches the new ca.crt" sh -c "base64 -d '$d.out' | cmp -s - '$d/ca.crt'"

# ---- usage errors: exit 2, the flag named -----------------------------------
usage_error() { # usage_error FLAG ARGS...: exit 2, FLAG in the message, no files
  local flag=$1
  shift
  local u="$tmp/usage"
  rm -rf "$u"
  gen "$u" "$@"
  [ "$(rc_of "$u")" = 2 ] && grep -q -- "$flag" "$u.err" && [ ! -e "$u" ] && [ ! -s "$u.out" ]
}
long=$(printf 'a%.0s' $(seq 64))
check "--service with '_' is exit 2" usage_error "invalid --service 'bad_name'" --service bad_name --namespace "$ns"
check "--service with upper case is exit 2" usage_error "invalid --service 'Webhook'" --service Webhook --namespace "$ns"
check "--service starting with '-' is exit 2" usage_error "invalid --service '-x'" --service=-x --namespace "$ns"
check "--service of 64 characters is exit 2" usage_error "invalid --service '$long': 64 characters, at most 63" --service "$long" --namespace "$ns"
check "empty --service is exit 2" usage_error "invalid --service '': empty" --service "" --namespace "$ns"
check "--namespace with '.' is exit 2" usage_error "invalid --namespace 'a.b'" --service "$svc" --namespace a.b
check "--namespace ending with '-' is exit 2" usage_error "invalid --namespace 'ns-'" --service "$svc" --namespace ns-
check "missing --namespace is exit 2" usage_error "missing --namespace" --service "$svc"
check "--validity without a unit is exit 2" usage_error "invalid --validity '365': needs a unit" --service "$svc" --namespace "$ns" --validity 365
check "--validity '10x' is exit 2" usage_error "invalid --validity '10x'" --service "$svc" --namespace "$ns" --validity 10x
check "--validity '0s' is exit 2" usage_error "invalid --validity '0s'" --service "$svc" --namespace "$ns" --validity 0s
check "--validity over 100 years is exit 2" usage_error "invalid --validity '36501d'" --service "$svc" --namespace "$ns" --validity 36501d
check "--ca-validity '-1h' is exit 2" usage_error "invalid --ca-validity '-1h'" --service "$svc" --namespace "$ns" --ca-validity=-1h
check "--dns 'a..b' is exit 2" usage_error "invalid --dns 'a..b'" --service "$svc" --namespace "$ns" --dns a..b
check "--ip '1.2.3' is exit 2" usage_error "invalid --ip '1.2.3'" --service "$svc" --namespace "$ns" --ip 1.2.3
check "unknown option is exit 2" usage_error "usage: groved certs generate" --service "$svc" --namespace "$ns" --bogus
check "unknown option is said with the command's prefix" usage_error "^groved certs generate: unknown option '--bogus'$" --service "$svc" --namespace "$ns" --bogus
check "an option without its value is said with the prefix" usage_error "^groved certs generate: option '--out' needs a value$" --service "$svc" --namespace "$ns" --out
check "a value for --force is said with the prefix" usage_error "^groved certs generate: option '--force' takes no value$" --service "$svc" --namespace "$ns" --force=yes
check "'groved certs' alone is exit 2" sh -c "'$groved' certs >/dev/null 2>&1; test \$? = 2"
check "'groved certs --help' is exit 0 on stdout" sh -c "'$groved' certs --help 2>/dev/null | grep -q 'generate'"
check "'groved certs generate --help' is exit 0 on stdout" sh -c "'$groved' certs generate --help 2>/dev/null | grep -q -- '--validity DURATION'"
check "'groved --help' lists certs" sh -c "'$groved' --help | grep -q '^  certs '"

# ---- served by groved serve -------------------------------------------------
port_of() { # port_of SERVER: from the "listening" log line
  sed -n "s/.*\"msg\":\"listening\",\"server\":\"$1\".*\"port\":\([0-9]*\).*/\1/p" "$tmp/serve.log" | tail -1
}
serve_start() { # serve_start CERTDIR: groved serve in the background
  "$groved" serve --tls-cert-file "$1/tls.crt" --tls-key-file "$1/tls.key" \
    --webhook-addr 127.0.0.1:0 --health-addr 127.0.0.1:0 \
    --metrics-addr 127.0.0.1:0 --threads 2 2>"$tmp/serve.log" &
  pid=$!
  for _ in $(seq 100); do
    [ -n "$(port_of metrics)" ] && break
    sleep 0.05
  done
  wh=$(port_of webhooks)
  [ -n "$wh" ]
}
# review HOST CAFILE: POSTs a captured review to https://HOST:$wh (HOST
# resolved to 127.0.0.1); prints the HTTP status, curl's error on stderr
review() {
  curl -sS --max-time 5 --cacert "$2" --resolve "$1:$wh:127.0.0.1" \
    -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary @"$fx/pcs-create.json" \
    "https://$1:$wh/webhooks/validate-podcliqueset?timeout=10s"
}
wh=""
check "groved serve starts with the generated pair" serve_start "$d"
check "client reaching $host is answered" test "$(review "$host" "$d/ca.crt" 2>/dev/null)" = 200
check "client reaching $svc.$ns.svc.cluster.local is answered" test "$(review "$svc.$ns.svc.cluster.local" "$d/ca.crt" 2>/dev/null)" = 200
r=0
review wrong.example "$d/ca.crt" >/dev/null 2>"$tmp/curl.err" || r=$?
check "wrong host name refused (curl exit 60)" test "$r" = 60
check "wrong host name refused: name mismatch" grep -q "no alternative certificate subject name matches" "$tmp/curl.err"
r=0
review "$host" "$tmp/old-ca.crt" >/dev/null 2>"$tmp/curl.err" || r=$?
check "the replaced CA no longer verifies the server" test "$r" = 60
if [ -n "$pid" ]; then
  kill -TERM "$pid" 2>/dev/null || true
  r=0
  wait "$pid" || r=$?
  pid=""
  check "groved serve stops with exit 0" test "$r" = 0
fi

# ---- an expired certificate -------------------------------------------------
# `openssl ca` takes explicit dates (OpenSSL 3.0 has no -not_after for req or
# x509), so the expired pair comes from a CA made with openssl.
e="$tmp/expired"
mkdir -p "$e/db"
: >"$e/db/index.txt"
cat >"$e/ca.cnf" <<EOF
[ca]
default_ca = ca_sect
[ca_sect]
dir = $e/db
database = \$dir/index.txt
new_certs_dir = \$dir
serial = \$dir/serial
rand_serial = yes
default_md = sha256
policy = policy_any
copy_extensions = copy
unique_subject = no
x509_extensions = leaf_ext
[policy_any]
commonName = supplied
[leaf_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:$host
EOF
make_expired() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -days 2 -subj /CN=expired-test-ca -keyout "$e/ca.key" -out "$e/ca.crt" &&
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -subj "/CN=$host" -keyout "$e/tls.key" -out "$e/tls.csr" &&
    openssl ca -batch -config "$e/ca.cnf" -cert "$e/ca.crt" -keyfile "$e/ca.key" \
      -startdate 20200101000000Z -enddate 20200102000000Z \
      -in "$e/tls.csr" -out "$e/tls.crt" &&
    ! openssl verify -CAfile "$e/ca.crt" "$e/tls.crt"
} >/dev/null 2>&1
check "openssl ca makes an expired certificate" make_expired

r=0
timeout 10 "$groved" serve --tls-cert-file "$e/tls.crt" --tls-key-file "$e/tls.key" \
  --webhook-addr 127.0.0.1:0 --health-addr 127.0.0.1:0 \
  --metrics-addr 127.0.0.1:0 --threads 2 >/dev/null 2>"$tmp/serve-expired.log" || r=$?
check "groved serve refuses the expired pair (non-zero exit, not killed)" sh -c "test $r -ne 0 && test $r -ne 124"
check "groved serve says the certificate expired" grep -qi "expired" "$tmp/serve-expired.log"
check "groved serve exits 2 (cannot start)" test "$r" = 2
check "groved serve cleans up after refusing (no sanitizer report)" sh -c "! grep -q 'Sanitizer' '$tmp/serve-expired.log'"

openssl s_server -accept 127.0.0.1:0 -cert "$e/tls.crt" -key "$e/tls.key" -www \
  -naccept 5 >"$tmp/s_server.out" 2>&1 &
pid=$!
sport=""
for _ in $(seq 100); do
  sport=$(sed -n 's/^ACCEPT 127.0.0.1:\([0-9]*\)$/\1/p' "$tmp/s_server.out")
  [ -n "$sport" ] && break
  sleep 0.05
done
r=0
curl -sS --max-time 5 --cacert "$e/ca.crt" --resolve "$host:$sport:127.0.0.1" \
  -o /dev/null "https://$host:$sport/" 2>"$tmp/curl.err" || r=$?
check "client refuses the expired certificate (curl exit 60)" test "$r" = 60
check "client says 'certificate has expired'" grep -q "certificate has expired" "$tmp/curl.err"
r=0
curl -sS --max-time 5 --cacert "$e/ca.crt" --resolve "$host:$sport:127.0.0.1" \
  -o /dev/null --insecure "https://$host:$sport/" 2>/dev/null || r=$?
check "the same server is reachable when verification is off (control)" test "$r" = 0
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=""

check "no sanitizer report from any 'groved certs generate' run" test ! -s "$tmp/sanitizer.log"

summary
