#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Dockerfile's runtime stage without Docker: debootstrap a Debian 12
# minbase root (what bookworm-slim is), install exactly the packages the
# runtime stage names, drop groved in and run it as uid 65532 (the image's
# USER): version, validate, certs generate, serve with /readyz and one
# review over TLS. Needs root, network to deb.debian.org and a few minutes,
# so it is not part of scripts/test.sh; run it after changing the
# Dockerfile's package list or groved's libraries.
#
#   sudo tests/deploy/check_runtime_rootfs.sh [ROOTFS_DIR]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
root=${1:-/tmp/groved-rootfs}
command -v debootstrap >/dev/null || apt-get install -y -q debootstrap >/dev/null
[ -x "$root/bin/sh" ] || debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
# the runtime stage's list, read from the Dockerfile itself
pkgs=$(python3 - "$top/Dockerfile" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
stage = text[text.rindex("\nFROM "):]          # the last stage: the runtime
run = re.search(r"apt-get install -y --no-install-recommends(.*?)&&", stage, re.S).group(1)
print(" ".join(w for w in run.replace("\\", " ").split()))
PY
)
echo "runtime packages: $pkgs"
chroot "$root" /bin/sh -c "apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $pkgs >/dev/null"
cmake -S "$top" -B "$root.build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$root.build" -j"$(nproc)" --target groved >/dev/null
install -m 0755 "$root.build/groved" "$root/usr/local/bin/groved"
rm -rf "$root/work" && mkdir -p "$root/work" && cp -r "$top/examples" "$top/tests/fixtures/captured" "$root/work/"
as() { chroot --userspec=65532:65532 "$root" "$@"; }
missing=$(chroot "$root" ldd /usr/local/bin/groved | grep -c 'not found' || true)
[ "$missing" = 0 ] || { echo "not ok - libraries missing in the runtime root"; exit 1; }
echo "ok - every library groved needs is in the runtime root"
as /usr/local/bin/groved version
as /usr/local/bin/groved validate -f /work/examples/vllm-disaggregated.yaml -f /work/examples/claim-templates.yaml
rm -rf "$root/tmp/c"
as /usr/local/bin/groved certs generate --service groved-webhook --namespace groved-system --out /tmp/c >/dev/null
# chroot itself, not the function: $! must be groved's pid
chroot --userspec=65532:65532 "$root" /usr/local/bin/groved serve --tls-cert-file /tmp/c/tls.crt --tls-key-file /tmp/c/tls.key \
  --webhook-addr 127.0.0.1:19443 --health-addr 127.0.0.1:19444 --metrics-addr 127.0.0.1:19445 \
  2>"$root/tmp/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ "$(curl -s http://127.0.0.1:19444/readyz)" = ok ] && break; sleep 0.05; done
[ "$(curl -s http://127.0.0.1:19444/readyz)" = ok ] && echo "ok - groved serve is ready as uid 65532"
curl -sf --cacert "$root/tmp/c/ca.crt" --resolve groved-webhook.groved-system.svc:19443:127.0.0.1 \
  -H 'Content-Type: application/json' --data-binary @"$root/work/captured/pcs-create-cycle.json" \
  https://groved-webhook.groved-system.svc:19443/webhooks/validate-podcliqueset | grep -q '"allowed":false' &&
  echo "ok - a review over TLS is answered (denied: the startsAfter cycle)"
kill -TERM $pid && wait $pid && echo "ok - SIGTERM exits 0"
du -sh "$root" | awk '{print "runtime root: " $1 " (debootstrap minbase plus the packages, apt caches included)"}'
