#!/usr/bin/env bash
# make demo: the operator against embedded local clusters.
#
# Starts kube-testenv with a control-plane cluster ("hub") and two remote clusters (cn-beijing,
# cn-hangzhou; three nodes each, non-overlapping CIDRs), installs the CRDs with kubectl, starts
# the operator, joins both remotes, applies the reference RemoteIstio sample to each, and shows
# progress until everything is Ready. Then it prints what exists and how to look around, and runs
# until Ctrl-C. `--once` exits after Ready (CI runs that).
#
#   scripts/demo.sh [--once] [--timeout SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."

once=0
timeout=120
while [[ $# -gt 0 ]]; do
  case "$1" in
    --once) once=1 ;;
    --timeout) timeout="$2"; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

bin=${BUILD_DIR:-build}/bin
kubectl=${KUBECTL:-kubectl}
for b in "$bin/kube-testenv" "$bin/remote-istio-operator" "$bin/kubectl-remoteistio"; do
  [[ -x "$b" ]] || { echo "demo: $b is missing; run 'make build' first" >&2; exit 1; }
done
command -v "$kubectl" >/dev/null || { echo "demo: kubectl is required" >&2; exit 1; }

demo=${DEMO_DIR:-$PWD/build/demo}
rm -rf "$demo"
mkdir -p "$demo"
metrics_port=${DEMO_METRICS_PORT:-18080}
health_port=${DEMO_HEALTH_PORT:-18081}
remotes=(cn-beijing cn-hangzhou)
pids=()

cleanup() {
  # The operator first (the clusters it talks to stay up while it shuts down), then kube-testenv.
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'echo; echo "demo: stopping"; exit 0' INT TERM

bold() { if [[ -t 1 ]]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
hub() { "$kubectl" --kubeconfig "$demo/hub.kubeconfig" "$@"; }
remote() { local c=$1; shift; "$kubectl" --kubeconfig "$demo/$c.kubeconfig" "$@"; }

bold "1. Starting kube-testenv: hub + ${remotes[*]} (3 nodes each)"
"$bin/kube-testenv" --clusters "hub,$(IFS=,; echo "${remotes[*]}")" --dir "$demo" --nodes 3 \
  --region hub=cn-hangzhou,cn-beijing=cn-beijing,cn-hangzhou=cn-hangzhou \
  --deployment-ready-delay 1500 --log-level warn >"$demo/kube-testenv.log" 2>&1 &
pids+=($!)
for c in hub "${remotes[@]}"; do
  for _ in $(seq 100); do [[ -s "$demo/$c.kubeconfig" ]] && break; sleep 0.1; done
  [[ -s "$demo/$c.kubeconfig" ]] || { echo "demo: kube-testenv did not start; see $demo/kube-testenv.log" >&2; exit 1; }
done
for c in hub "${remotes[@]}"; do
  printf '   %-12s %s\n' "$c" "$("$kubectl" --kubeconfig "$demo/$c.kubeconfig" config view -o jsonpath='{.clusters[0].cluster.server}')"
done

bold "2. Installing the CRDs and a stand-in istiod in the hub"
hub apply -f crds/istio.alibabacloud.com_remoteistios.yaml -f crds/istio.alibabacloud.com_meshmemberships.yaml >/dev/null
hub create namespace istio-system >/dev/null
# istiod (legacy layout: istio-pilot) as far as the operator can see it: a Service and a Pod with an IP.
hub -n istio-system create service clusterip istio-pilot --tcp=15010:15010 >/dev/null
hub -n istio-system label --overwrite service istio-pilot istio=pilot app=pilot >/dev/null
hub -n istio-system run istio-pilot-0 --image=istio/pilot --labels=istio=pilot,app=pilot >/dev/null
hub -n istio-system patch pod istio-pilot-0 --subresource=status --type=merge \
  -p '{"status":{"phase":"Running","podIP":"10.0.7.21","podIPs":[{"ip":"10.0.7.21"}]}}' >/dev/null
hub get crds

bold "3. Starting remote-istio-operator"
"$bin/remote-istio-operator" --kubeconfig "$demo/hub.kubeconfig" \
  --metrics-bind-address "127.0.0.1:$metrics_port" --health-probe-bind-address "127.0.0.1:$health_port" \
  --mesh-namespace istio-system --log-format json >"$demo/operator.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$health_port/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$health_port/readyz" >/dev/null || { echo "demo: operator not ready; see $demo/operator.log" >&2; tail -5 "$demo/operator.log" >&2; exit 1; }
echo "   ready: http://127.0.0.1:$health_port/readyz, metrics on :$metrics_port, log in $demo/operator.log"

bold "4. Joining ${remotes[*]} and applying the reference RemoteIstio"
for c in "${remotes[@]}"; do
  echo "   kubectl remoteistio join $c --remote-kubeconfig $c.kubeconfig --mode Flat"
  "$bin/kubectl-remoteistio" join "$c" --kubeconfig "$demo/hub.kubeconfig" \
    --remote-kubeconfig "$demo/$c.kubeconfig" --mode Flat | sed 's/^/   /'
  echo "   kubectl apply RemoteIstio $c (crds/samples/istio_v1beta1_remoteistio.yaml)"
  sed "s/name: cn-beijing/name: $c/" crds/samples/istio_v1beta1_remoteistio.yaml | hub apply -n istio-system -f - >/dev/null
done

bold "5. Waiting for Ready (timeout ${timeout}s)"
ready_count() {
  local n=0 c
  for c in "${remotes[@]}"; do
    [[ "$(hub -n istio-system get remoteistio "$c" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]] &&
    [[ "$(hub -n istio-system get meshmembership "$c" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]] &&
      n=$((n + 1))
  done
  echo "$n"
}
start=$(date +%s)
while true; do
  table=$(hub get remoteistios,meshmemberships -A 2>&1 || true)
  elapsed=$(( $(date +%s) - start ))
  if [[ -t 1 ]]; then
    printf '\033[H\033[J'; bold "5. Waiting for Ready (${elapsed}s)"; printf '%s\n' "$table"
  else
    printf '[%3ss]\n%s\n' "$elapsed" "$table"
  fi
  [[ "$(ready_count)" -eq ${#remotes[@]} ]] && break
  if (( elapsed >= timeout )); then
    echo "demo: not Ready after ${timeout}s; the operator log is $demo/operator.log" >&2
    hub -n istio-system describe remoteistios,meshmemberships >&2 || true
    exit 1
  fi
  sleep 1
done

bold "6. Converged in $(( $(date +%s) - start ))s"
hub get remoteistios,meshmemberships -A
for c in "${remotes[@]}"; do
  bold "   in $c:"
  remote "$c" -n istio-system get deployments,services,endpoints,secrets -l app.kubernetes.io/managed-by=remote-istio-operator
  remote "$c" get mutatingwebhookconfigurations -l app.kubernetes.io/managed-by=remote-istio-operator
  remote "$c" get namespaces -L istio-injection
done
bold "   istiod's remote secrets in the hub:"
hub -n istio-system get secrets -l istio/multiCluster=true
bold "   kubectl remoteistio check:"
"$bin/kubectl-remoteistio" check --kubeconfig "$demo/hub.kubeconfig" | sed 's/^/   /' || true
bold "   a few metrics (http://127.0.0.1:$metrics_port/metrics):"
curl -s "http://127.0.0.1:$metrics_port/metrics" | grep -E '^(remote_istio_ready|remote_istio_cluster_reachable|remote_istio_credentials_expiry_timestamp_seconds|controller_runtime_reconcile_total)' | head -20

cat <<EOF

Look around (the clusters keep running until Ctrl-C):
  kubectl --kubeconfig $demo/hub.kubeconfig get remoteistios,meshmemberships -A
  kubectl --kubeconfig $demo/hub.kubeconfig -n istio-system describe remoteistio cn-beijing
  kubectl --kubeconfig $demo/cn-beijing.kubeconfig -n istio-system get all
  $bin/kubectl-remoteistio check --kubeconfig $demo/hub.kubeconfig
  curl -s http://127.0.0.1:$metrics_port/metrics | grep remote_istio
  tail -f $demo/operator.log
EOF

if (( once )); then
  exit 0
fi
echo "Press Ctrl-C to stop."
while true; do sleep 3600; done
