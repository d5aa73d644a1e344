#!/usr/bin/env bash
# The shipped CRDs and samples as a user meets them with kubectl, against kube-testenv: the CRDs
# apply and are Established; every sample applies; `kubectl get` works by plural, singular, short
# name and category and shows the printer columns; `kubectl explain` describes the fields; the API
# server refuses an out-of-range value with the field path.
#
# usage: kubectl_crds_test.sh /path/to/kube-testenv SOURCE_DIR [/path/to/kubectl]
set -euo pipefail

TESTENV=${1:?usage: kubectl_crds_test.sh KUBE_TESTENV SOURCE_DIR [KUBECTL]}
SRC=${2:?usage: kubectl_crds_test.sh KUBE_TESTENV SOURCE_DIR [KUBECTL]}
KUBECTL=${3:-kubectl}
WORK=$(mktemp -d)
PID=
cleanup() {
  if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  tail -n 20 "$WORK/testenv.log" >&2 || true
  exit 1
}
k() { "$KUBECTL" --kubeconfig "$WORK/hub.kubeconfig" "$@"; }
expect() {  # expect "description" "wanted substring" command...
  local what=$1 want=$2
  shift 2
  local out
  out=$("$@" 2>&1) || fail "$what: command failed: $out"
  [[ "$out" == *"$want"* ]] || fail "$what: wanted '$want' in: $out"
}
refused() {  # refused "description" "wanted substring in the error" command...
  local what=$1 want=$2
  shift 2
  local out
  if out=$("$@" 2>&1); then fail "$what: accepted: $out"; fi
  [[ "$out" == *"$want"* ]] || fail "$what: wanted '$want' in: $out"
}

"$TESTENV" --clusters hub --dir "$WORK" --log-level warn >"$WORK/testenv.log" 2>&1 &
PID=$!
for _ in $(seq 1 150); do
  [[ -f "$WORK/hub.kubeconfig" ]] && k version >/dev/null 2>&1 && break
  kill -0 "$PID" 2>/dev/null || fail "kube-testenv exited early"
  sleep 0.1
done

expect "CRDs apply" "created" k apply -f "$SRC/crds/istio.alibabacloud.com_remoteistios.yaml" \
  -f "$SRC/crds/istio.alibabacloud.com_meshmemberships.yaml"
expect "CRDs established" "condition met" k wait --for=condition=Established --timeout=20s \
  crd/remoteistios.istio.alibabacloud.com crd/meshmemberships.istio.alibabacloud.com
k create namespace istio-system >/dev/null
for f in "$SRC"/crds/samples/*.yaml; do
  expect "sample $(basename "$f") applies" "created" k apply -n istio-system -f "$f"
done

expect "get by plural, printer columns" "READY" k -n istio-system get remoteistios
expect "get by singular" "cn-beijing" k -n istio-system get remoteistio cn-beijing
expect "get by short name" "cn-beijing" k -n istio-system get ri cn-beijing
expect "get meshmembership by singular" "cn-beijing" k -n istio-system get meshmembership cn-beijing
expect "membership printer columns" "CLUSTER" k -n istio-system get mm
expect "category istio lists both kinds" "meshmembership.istio.alibabacloud.com/cn-beijing" k -n istio-system get istio
expect "category remote-istio lists both kinds" "remoteistio.istio.alibabacloud.com/cn-beijing" k -n istio-system get remote-istio
expect "defaults from the schema" "trustDomain: cluster.local" k -n istio-system get remoteistio cn-beijing -o yaml
expect "explain" "replicaCount" k explain remoteistio.spec.sidecarInjector

refused "replica bound" "spec.sidecarInjector.replicaCount" \
  k -n istio-system patch remoteistio cn-beijing --type merge -p '{"spec":{"sidecarInjector":{"replicaCount":-1}}}'
refused "network mode enum" "spec.network.mode" \
  k -n istio-system patch meshmembership cn-beijing --type merge -p '{"spec":{"network":{"mode":"Tunnel"}}}'

expect "delete" "deleted" k -n istio-system delete remoteistios,meshmemberships --all
kill -TERM "$PID"
wait "$PID" || fail "kube-testenv did not exit cleanly"
PID=
echo "ok: CRDs and samples work with kubectl"
