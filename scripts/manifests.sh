#!/usr/bin/env bash
# Checks that every manifest the project ships renders: the kustomize base, the Helm chart (lint +
# template with every optional part on), and that the chart's CRDs are the ones in crds/.
# Used by `make manifests` and registered as a CTest test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-helm.sh
helm=tools/bin/helm
kubectl=${KUBECTL:-kubectl}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

"$kubectl" kustomize deploy/ >"$out/kustomize.yaml"
for kind in CustomResourceDefinition Deployment ClusterRole Role PodDisruptionBudget NetworkPolicy ServiceMonitor PrometheusRule; do
  grep -q "^kind: $kind$" "$out/kustomize.yaml" || { echo "manifests: kustomize output has no $kind" >&2; exit 1; }
done

"$helm" lint helm/remote-istio-operator --strict 2>&1 | grep -v "found symbolic link" >&2
"$helm" template rio helm/remote-istio-operator --namespace remote-istio-operator-system --include-crds \
  --set serviceMonitor.enabled=true --set prometheusRule.enabled=true 2>/dev/null >"$out/helm.yaml"
for kind in CustomResourceDefinition Deployment ServiceMonitor PrometheusRule NetworkPolicy PodDisruptionBudget; do
  grep -q "^kind: $kind$" "$out/helm.yaml" || { echo "manifests: helm output has no $kind" >&2; exit 1; }
done
# The Role for the mesh namespace stays there (a kustomize namespace transformer would move it).
for f in kustomize helm; do
  grep -A9 '^kind: Role$' "$out/$f.yaml" | grep -q '^  namespace: istio-system$' ||
    { echo "manifests: $f renders no Role in the mesh namespace istio-system" >&2; exit 1; }
done
for crd in crds/istio.alibabacloud.com_*.yaml; do
  cmp -s "$crd" "helm/remote-istio-operator/crds/$(basename "$crd")" || { echo "manifests: chart CRD differs from $crd" >&2; exit 1; }
done
# The alert rules must be the same in both packagings.
diff <(sed -n '/^  groups:/,$p' deploy/prometheus_rule.yaml) \
     <(awk '/^kind: PrometheusRule/{f=1} f' "$out/helm.yaml" | sed -n '/^  groups:/,/^---/p' | grep -v '^---') >/dev/null \
  || { echo "manifests: PrometheusRule differs between deploy/ and the chart" >&2; exit 1; }
# And Prometheus accepts them.
sed -n '/^spec:/,$p' deploy/prometheus_rule.yaml | sed '1d; s/^  //' >"$out/rules.yaml"
promtool check rules "$out/rules.yaml" >/dev/null
echo "manifests: kustomize and helm render; CRDs and alerts have one source; promtool accepts the alerts"
