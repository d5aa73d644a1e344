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
# shellcheck source=../support/testenv_script.sh
source "$(dirname "$0")/../support/testenv_script.sh"
start_testenv hub

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
stop_testenv
echo "ok: CRDs and samples work with kubectl"
