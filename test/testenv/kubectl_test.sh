#!/usr/bin/env bash
# kubectl (a client nobody here wrote) against kube-testenv: apply a CRD and a custom resource,
# get with printer columns, -o yaml, label, patch --type merge, apply --server-side, wait for a
# condition the test sets, delete with a finalizer pending, create token, auth can-i --token, and
# the typed-client (protobuf) creates kubectl uses. Ends kube-testenv with SIGTERM and expects a
# clean exit.
#
# usage: kubectl_test.sh /path/to/kube-testenv [/path/to/kubectl]
set -euo pipefail

TESTENV=${1:?usage: kubectl_test.sh KUBE_TESTENV [KUBECTL]}
KUBECTL=${2:-kubectl}
# shellcheck source=../support/testenv_script.sh
source "$(dirname "$0")/../support/testenv_script.sh"
start_testenv hub,beijing
expect "server version" "Server Version: v1.32.13" k version
# client-go takes HTTP/2 when the server offers it through ALPN, as kube-apiserver does; Go's
# HTTP/2 debug log shows kube-testenv's SETTINGS frame.
expect "kubectl speaks HTTP/2" "http2: Transport received SETTINGS" env GODEBUG=http2debug=1 "$KUBECTL" \
  --kubeconfig "$WORK/hub.kubeconfig" get --raw /version

cat >"$WORK/crd.yaml" <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, minimum: 1, description: How big.}
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
EOF
cat >"$WORK/cr.yaml" <<'EOF'
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: default}
spec: {size: 3}
EOF

expect "apply CRD" "widgets.example.com created" k apply -f "$WORK/crd.yaml"
expect "CRD established" "condition met" k wait --for=condition=Established crd/widgets.example.com --timeout=10s
expect "apply CR" "widget.example.com/w1 created" k apply -f "$WORK/cr.yaml"
expect "printer columns" "SIZE" k get widgets
expect "printer column value" "w1     3" k get wd
expect "get -o yaml" "size: 3" k get widget w1 -o yaml
expect "explain" "How big." k explain widgets.spec.size
expect "label" "labeled" k label widget w1 team=a
expect "label shown" "team=a" k get widget w1 --show-labels
expect "patch merge" "patched" k patch widget w1 --type merge -p '{"spec":{"size":5}}'
expect "patched value" "w1     5" k get wd
expect "schema validation" "should be greater than or equal to 1" bash -c "'$KUBECTL' --kubeconfig '$WORK/hub.kubeconfig' patch widget w1 --type merge -p '{\"spec\":{\"size\":0}}' 2>&1 || true"
expect "apply server-side" "serverside-applied" k apply --server-side --force-conflicts -f "$WORK/cr.yaml"
expect "server-side applied value" "w1     3" k get wd

k wait --for=condition=Ready widget/w1 --timeout=10s >"$WORK/wait.out" 2>&1 &
WAIT=$!
k patch widget w1 --subresource=status --type merge \
  -p '{"status":{"conditions":[{"type":"Ready","status":"True","reason":"Ok","message":"","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}' >/dev/null
wait "$WAIT" || fail "wait for Ready: $(cat "$WORK/wait.out")"
expect "Ready column" "True" k get wd w1

expect "add finalizer" "patched" k patch widget w1 --type merge -p '{"metadata":{"finalizers":["example.com/hold"]}}'
expect "delete with finalizer pending" "deleted" k delete widget w1 --wait=false
expect "still there, terminating" "20" k get widget w1 -o 'jsonpath={.metadata.deletionTimestamp}'
expect "remove finalizer" "patched" k patch widget w1 --type json -p '[{"op":"remove","path":"/metadata/finalizers"}]'
expect "gone" "NotFound" bash -c "'$KUBECTL' --kubeconfig '$WORK/hub.kubeconfig' get widget w1 2>&1 || true"

expect "create sa (protobuf)" "serviceaccount/bot created" k create serviceaccount bot
TOKEN=$(k create token bot --duration=1h) || fail "create token"
[[ ${#TOKEN} -gt 20 ]] || fail "create token returned '$TOKEN'"
expect "can-i as the token: no" "no" bash -c "'$KUBECTL' --kubeconfig '$WORK/hub.kubeconfig' auth can-i list secrets --token='$TOKEN' || true"
expect "whoami" "system:serviceaccount:default:bot" k auth whoami --token="$TOKEN"
expect "role" "created" k create role secret-reader --verb=list --resource=secrets
expect "rolebinding" "created" k create rolebinding bot-reads --role=secret-reader --serviceaccount=default:bot
expect "can-i as the token: yes" "yes" k auth can-i list secrets --token="$TOKEN"
expect "admin can" "yes" k auth can-i '*' '*'

expect "create deployment (protobuf)" "created" k create deployment web --image=nginx:1.27 --replicas=2
expect "deployment available" "condition met" k wait --for=condition=Available deployment/web --timeout=10s
expect "deployment columns" "2/2" k get deployment web
expect "nodes" "node-3" k get nodes
expect "second cluster" "Active" "$KUBECTL" --kubeconfig "$WORK/beijing.kubeconfig" get namespace default

kill -TERM "$PID"
STATUS=0
wait "$PID" || STATUS=$?
PID=
[[ $STATUS -eq 0 ]] || fail "kube-testenv exited with $STATUS after SIGTERM"
echo "kubectl against kube-testenv: ok"
