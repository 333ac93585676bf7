# SPDX-License-Identifier: Apache-2.0
# groved's container image: `docker build -t ghcr.io/groved/groved:0.1.0 .`
#
# One image for both of groved's roles: the Deployment runs `groved serve`
# (deploy/base/deployment.yaml), and the pod webhook adds it as the
# grove-initc init container that runs `groved initc` (startup order,
# docs/api.md section 6; `groved serve --initc-image`).
#
# tests/deploy/check_dockerfile.py keeps this file honest without a Docker
# engine: it builds groved from the context this file sees (.dockerignore
# applied) with the cmake flags below, and checks that the runtime stage
# installs exactly the packages of the shared libraries groved links, and
# that the builder installs every pkg-config module CMakeLists.txt asks for.

# ---- build ---------------------------------------------------------------
FROM debian:bookworm AS builder

# The compiler and build tools, and the -dev packages of every library
# CMakeLists.txt finds (pkg-config modules jansson, yaml-0.1, libmicrohttpd,
# gnutls, libssl/libcrypto, libcurl; mimalloc by find_library). Test-only
# packages (cmocka, clang, python) are not needed with BUILD_TESTING=OFF.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      gcc libc6-dev make cmake pkg-config \
      libjansson-dev libyaml-dev libmicrohttpd-dev libgnutls28-dev \
      libssl-dev libcurl4-openssl-dev libmimalloc-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
 && cmake --build /build -j"$(nproc)" --target groved \
 && install -D -m 0755 /build/groved /out/groved \
 && /out/groved --version

# ---- run -----------------------------------------------------------------
FROM debian:bookworm-slim

ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="groved" \
      org.opencontainers.image.description="Grove API (grove.io/v1alpha1) admission webhooks and reconcile worker, in C" \
      org.opencontainers.image.source="https://github.com/groved/groved" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"

# Only the runtime libraries groved links (readelf -d: NEEDED); libc6 is in
# the base image. libmimalloc2.0: groved links mimalloc (GROVED_MIMALLOC,
# on by default). No shell tools are added.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libjansson4 libyaml-0-2 libmicrohttpd12 libgnutls30 libssl3 \
      libcurl4 libmimalloc2.0 \
 && rm -rf /var/lib/apt/lists/*

COPY --from=builder /out/groved /usr/local/bin/groved

# 65532: the conventional "nonroot" uid/gid, the same as the Deployment's
# runAsUser/runAsGroup. Numeric, so Kubernetes can check runAsNonRoot.
USER 65532:65532
# 9443 webhooks (HTTPS), 9444 /healthz and /readyz, 9445 /metrics
EXPOSE 9443 9444 9445
# no CMD: `docker run IMAGE` prints the commands; Kubernetes gives them
ENTRYPOINT ["groved"]
