#!/usr/bin/env bash
# Installs every build and test dependency from Debian bookworm main.
# Idempotent: when everything is present it only runs dpkg-query and exits (well under a second).
# Used by the Makefile (make build/test/demo/bench), .ci/run and the Dockerfile.
#
#   scripts/install-deps.sh            build + test dependencies
#   scripts/install-deps.sh --runtime  only the shared libraries the operator binary needs
set -euo pipefail

build_packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libboost-dev libssl-dev nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  prometheus-cpp-dev libexpected-dev catch2 libjemalloc-dev libnghttp2-dev
  # tests and tooling: the e2e scrapes with a real Prometheus; fuzzing and sanitizers use clang;
  # python3 reads JSON in the e2e and renders BENCHMARKS.md
  prometheus clang-14 libclang-rt-14-dev openssl curl procps unzip python3
)
runtime_packages=(
  ca-certificates libssl3 libyaml-cpp0.7 libspdlog1.10 libfmt9 libprometheus-cpp-core1.0 libjemalloc2
  libnghttp2-14
)

packages=("${build_packages[@]}")
if [[ "${1:-}" == "--runtime" ]]; then
  packages=("${runtime_packages[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to apt-get install" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
