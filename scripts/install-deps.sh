#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages groved builds, tests and benchmarks with.
# Idempotent: installs only what is missing and prints nothing when all is
# there. Run as root (or with sudo available).
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config git
  libjansson-dev libyaml-dev libssl-dev libcurl4-openssl-dev
  libmicrohttpd-dev libgnutls28-dev libcmocka-dev libmimalloc-dev
  clang libclang-rt-dev clang-format
  openssl curl python3 python3-yaml pyflakes3
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
