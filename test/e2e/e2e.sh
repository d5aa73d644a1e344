#!/usr/bin/env bash
# End-to-end: the operator binary, real kubectl, a real Prometheus, and either kube-testenv
# clusters (default) or real clusters:
#
#   test/e2e/e2e.sh                         # kube-testenv: hub + cn-beijing + cn-hangzhou
#   E2E_HUB_KUBECONFIG=hub.yaml E2E_REMOTE_KUBECONFIGS=a.yaml,b.yaml test/e2e/e2e.sh
#
# Steps: CRDs via kubectl -> operator -> join the remotes -> the reference RemoteIstio -> Ready
# (kubectl wait) -> replicaCount change reaches the remote Deployment -> a Deployment deleted by hand
# comes back -> Prometheus scrapes the operator (remote_istio_ready, controller_runtime_reconcile_total)
# and promtool accepts /metrics -> no token from the remote secrets appears in logs, Events, status
# or metrics -> deleting the CRs removes what the operator created, and nothing else.
set -euo pipefail
cd "$(dirname "$0")/../.."

bin=${BUILD_DIR:-build}/bin
kubectl=${KUBECTL:-kubectl}
work=$(mktemp -d "${TMPDIR:-/tmp}/rio-e2e.XXXXXX")
pids=()
cleanup() {
  local rc=$?
  local i  # operators first, then Prometheus and the clusters
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; wait "${pids[i]}" 2>/dev/null || true; done
  if [[ $rc -ne 0 ]]; then
    echo "e2e: FAILED; last operator log lines:" >&2
    tail -20 "$work/operator.log" >&2 2>/dev/null || true
    tail -20 "$work/standby.log" >&2 2>/dev/null || true
  fi
  [[ -n "${E2E_KEEP:-}" ]] || rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
step() { echo "e2e: $*"; }
fail() { echo "e2e: FAIL: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- clusters --------------------------------------------------------------------------------
if [[ -n "${E2E_HUB_KUBECONFIG:-}" ]]; then
  hubcfg=$E2E_HUB_KUBECONFIG
  IFS=, read -r -a remotecfgs <<<"${E2E_REMOTE_KUBECONFIGS:?set E2E_REMOTE_KUBECONFIGS too}"
  remotes=()
  for cfg in "${remotecfgs[@]}"; do
    remotes+=("$("$kubectl" --kubeconfig "$cfg" config current-context | tr -c 'a-z0-9-\n' '-' | cut -c1-63)")
  done
  step "running against REAL clusters: hub=$hubcfg remotes=${remotes[*]}"
else
  remotes=(cn-beijing cn-hangzhou)
  "$bin/kube-testenv" --clusters "hub,cn-beijing,cn-hangzhou" --dir "$work" --nodes 3 \
    --deployment-ready-delay 500 --log-level warn >"$work/kube-testenv.log" 2>&1 &
  pids+=($!)
  for c in hub "${remotes[@]}"; do
    for _ in $(seq 100); do [[ -s "$work/$c.kubeconfig" ]] && break; sleep 0.1; done
    [[ -s "$work/$c.kubeconfig" ]] || fail "kube-testenv did not write $c.kubeconfig"
  done
  hubcfg=$work/hub.kubeconfig
  remotecfgs=("$work/cn-beijing.kubeconfig" "$work/cn-hangzhou.kubeconfig")
  step "running against kube-testenv clusters: hub ${remotes[*]}"
fi
hub() { "$kubectl" --kubeconfig "$hubcfg" "$@"; }
remote() { local i=$1; shift; "$kubectl" --kubeconfig "${remotecfgs[$i]}" "$@"; }

# --- install --------------------------------------------------------------------------------
step "installing CRDs with kubectl"
hub apply -f crds/istio.alibabacloud.com_remoteistios.yaml -f crds/istio.alibabacloud.com_meshmemberships.yaml >/dev/null
hub wait --for=condition=Established crd/remoteistios.istio.alibabacloud.com crd/meshmemberships.istio.alibabacloud.com --timeout=30s >/dev/null
hub get namespace istio-system >/dev/null 2>&1 || hub create namespace istio-system >/dev/null
if ! hub -n istio-system get pods -l istio=pilot -o name | grep -q .; then
  # kube-testenv has no istiod: stand one in as the operator sees it (a pilot Pod with an IP).
  hub -n istio-system run istio-pilot-0 --image=istio/pilot --labels=istio=pilot,app=pilot >/dev/null
  hub -n istio-system patch pod istio-pilot-0 --subresource=status --type=merge \
    -p '{"status":{"phase":"Running","podIP":"10.0.7.21","podIPs":[{"ip":"10.0.7.21"}]}}' >/dev/null
fi

# The operator runs with deploy/'s least-privilege RBAC in the hub, as in a real installation: its
# ServiceAccount's token, not the admin's (with real clusters: whatever E2E_OPERATOR_KUBECONFIG or
# the hub kubeconfig grants).
opns=remote-istio-operator-system
opcfg=${E2E_OPERATOR_KUBECONFIG:-}
if [[ -z "$opcfg" && -z "${E2E_HUB_KUBECONFIG:-}" ]]; then
  step "the operator's ServiceAccount and RBAC from deploy/"
  "$kubectl" kustomize deploy/ | awk 'BEGIN { RS = "\n---\n" }
    /(^|\n)kind: (Namespace|ServiceAccount|ClusterRole|ClusterRoleBinding|Role|RoleBinding)\n/ { printf "%s\n---\n", $0 }' |
    hub apply -f - >/dev/null
  opcfg=$work/operator.kubeconfig
  hub config view --raw --minify --flatten >"$opcfg"
  "$kubectl" --kubeconfig "$opcfg" config set-credentials "$("$kubectl" --kubeconfig "$opcfg" config view -o jsonpath='{.contexts[0].context.user}')" \
    --token="$(hub -n "$opns" create token remote-istio-operator --duration=2h)" >/dev/null
  [[ "$("$kubectl" --kubeconfig "$opcfg" auth can-i list secrets --all-namespaces)" == no ]] || fail "the operator's RBAC allows listing Secrets everywhere"
fi
opcfg=${opcfg:-$hubcfg}

# Two replicas with leader election, as deploy/ runs them: one leads, the other stands by.
start_operator() {  # start_operator NAME: sets op_pid, op_metrics
  local name=$1 health
  op_metrics=$(free_port)
  health=$(free_port)
  "$bin/remote-istio-operator" --kubeconfig "$opcfg" --metrics-bind-address "127.0.0.1:$op_metrics" \
    --health-probe-bind-address "127.0.0.1:$health" --log-format json --log-level debug \
    --leader-elect --leader-election-namespace "$opns" --leader-election-lease-duration 4s \
    --leader-election-renew-deadline 3s --leader-election-retry-period 1s >"$work/$name.log" 2>&1 &
  op_pid=$!
  pids+=("$op_pid")
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$health/readyz" >/dev/null && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$health/readyz" >/dev/null || fail "operator $name not ready"
}
step "starting two operator replicas with leader election"
start_operator operator
leader_pid=$op_pid metrics_port=$op_metrics
for _ in $(seq 100); do
  [[ "$(curl -sf "http://127.0.0.1:$metrics_port/metrics")" == *'leader_election_master_status{name="remote-istio-operator"} 1'* ]] && break
  sleep 0.1
done
start_operator standby
standby_pid=$op_pid standby_metrics=$op_metrics

prom_port=$(free_port)
cat >"$work/prometheus.yml" <<EOF
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: remote-istio-operator
    static_configs: [{targets: ["127.0.0.1:$metrics_port", "127.0.0.1:$standby_metrics"]}]
EOF
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prom" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)

# --- join and converge ---------------------------------------------------------------------
for i in "${!remotes[@]}"; do
  c=${remotes[$i]}
  step "joining $c"
  "$bin/kubectl-remoteistio" join "$c" --kubeconfig "$hubcfg" --remote-kubeconfig "${remotecfgs[$i]}" --mode Flat >/dev/null
  sed "s/name: cn-beijing/name: $c/" crds/samples/istio_v1beta1_remoteistio.yaml | hub apply -n istio-system -f - >/dev/null
done
for c in "${remotes[@]}"; do
  hub -n istio-system wait --for=condition=Ready "meshmembership/$c" --timeout=90s >/dev/null || fail "MeshMembership $c not Ready"
  hub -n istio-system wait --for=condition=Ready "remoteistio/$c" --timeout=90s >/dev/null || fail "RemoteIstio $c not Ready"
done
step "all Ready"
# The RBAC the operator holds (deploy/ in the hub, what joining created in the remotes) is enough.
if grep -h '"code":403' "$work/operator.log" "$work/standby.log" | head -3 | grep .; then fail "the operator was refused (403)"; fi
remote 0 -n istio-system get deployment istio-sidecar-injector >/dev/null || fail "no injector in ${remotes[0]}"
[[ "$(remote 0 get namespace default -o jsonpath='{.metadata.labels.istio-injection}')" == enabled ]] || fail "default not labelled"

# --- day 2 ----------------------------------------------------------------------------------
c=${remotes[0]}
step "replicaCount 1 -> 2 reaches $c"
hub -n istio-system patch remoteistio "$c" --type merge -p '{"spec":{"sidecarInjector":{"replicaCount":2}}}' >/dev/null
for _ in $(seq 100); do
  [[ "$(remote 0 -n istio-system get deployment istio-sidecar-injector -o jsonpath='{.spec.replicas}')" == 2 ]] && break
  sleep 0.2
done
[[ "$(remote 0 -n istio-system get deployment istio-sidecar-injector -o jsonpath='{.spec.replicas}')" == 2 ]] || fail "replicas not 2"

step "a Deployment deleted by hand in $c comes back"
remote 0 -n istio-system delete deployment istio-sidecar-injector --wait=false >/dev/null
for _ in $(seq 150); do
  remote 0 -n istio-system get deployment istio-sidecar-injector >/dev/null 2>&1 && break
  sleep 0.2
done
remote 0 -n istio-system get deployment istio-sidecar-injector >/dev/null 2>&1 || fail "Deployment not restored"

# --- Prometheus -----------------------------------------------------------------------------
step "Prometheus scrapes the operator"
query() { curl -sf "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1"; }
for _ in $(seq 100); do
  [[ "$(query 'sum(remote_istio_ready)' | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null)" == "${#remotes[@]}" ]] && break
  sleep 0.3
done
ready=$(query 'sum(remote_istio_ready)' | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")')
[[ "$ready" == "${#remotes[@]}" ]] || fail "Prometheus sees sum(remote_istio_ready)=$ready, want ${#remotes[@]}"
reconciles=$(query 'sum(controller_runtime_reconcile_total{result="success"})' | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "0")')
python3 -c "import sys; sys.exit(0 if float('$reconciles') > 0 else 1)" || fail "no successful reconciles in Prometheus"
leaders=$(query 'sum(leader_election_master_status{name="remote-istio-operator"})' | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")')
[[ "$leaders" == 1 ]] || fail "Prometheus sees $leaders leaders, want 1"
curl -sf "http://127.0.0.1:$metrics_port/metrics" >"$work/metrics.txt"
promtool check metrics <"$work/metrics.txt" >"$work/promtool.txt" 2>&1 || { cat "$work/promtool.txt" >&2; fail "promtool check metrics"; }
[[ ! -s "$work/promtool.txt" ]] || { cat "$work/promtool.txt" >&2; fail "promtool reported problems"; }
# Every series the dashboard and the alerts use is exported.
for name in $(grep -ohE '(remote_istio|controller_runtime|workqueue|rest_client|leader_election)_[a-z_]+' docs/grafana-dashboard.json deploy/prometheus_rule.yaml | sed -E 's/_(bucket|count|sum)$//' | sort -u); do
  grep -q "^$name" "$work/metrics.txt" || grep -q "^# TYPE $name " "$work/metrics.txt" || fail "metric $name (used by the dashboard or alerts) is not exported"
done

# --- secret hygiene --------------------------------------------------------------------------
step "no token appears in logs, Events, status or metrics"
tokens=$(hub -n istio-system get secrets -l app.kubernetes.io/managed-by=remote-istio-operator -o json |
  python3 -c '
import base64, json, re, sys
for s in json.load(sys.stdin)["items"]:
    for v in (s.get("data") or {}).values():
        for t in re.findall(r"token: *\"?([A-Za-z0-9._-]{20,})", base64.b64decode(v).decode("utf-8", "replace")):
            print(t)')
[[ -n "$tokens" ]] || fail "found no tokens to look for"
hub get events -A -o json >"$work/events.json"
hub get remoteistios,meshmemberships -A -o json >"$work/status.json"
while read -r t; do
  for f in "$work/operator.log" "$work/standby.log" "$work/events.json" "$work/status.json" "$work/metrics.txt"; do
    if grep -qF "$t" "$f"; then fail "a token appears in $(basename "$f")"; fi
  done
done <<<"$tokens"

# --- leader failover --------------------------------------------------------------------------
step "the leader is killed (SIGKILL); the standby takes over and reconciles"
failover_start=$(date +%s.%N)
kill -KILL "$leader_pid"
hub -n istio-system patch remoteistio "$c" --type merge -p '{"spec":{"sidecarInjector":{"replicaCount":3}}}' >/dev/null
for _ in $(seq 150); do
  [[ "$(remote 0 -n istio-system get deployment istio-sidecar-injector -o jsonpath='{.spec.replicas}')" == 3 ]] && break
  sleep 0.2
done
[[ "$(remote 0 -n istio-system get deployment istio-sidecar-injector -o jsonpath='{.spec.replicas}')" == 3 ]] ||
  fail "the standby did not take over (replicas not 3)"
step "  the standby applied the change $(python3 -c "print(f'{$(date +%s.%N) - $failover_start:.1f}')") s after the leader died (lease 4 s)"
[[ "$(curl -sf "http://127.0.0.1:$standby_metrics/metrics")" == *'leader_election_master_status{name="remote-istio-operator"} 1'* ]] ||
  fail "the standby does not report leadership"

# --- delete ---------------------------------------------------------------------------------
step "deleting the CRs removes what the operator created, and nothing else"
remote 0 create configmap users-own-config -n istio-system --from-literal=k=v >/dev/null
for c in "${remotes[@]}"; do
  hub -n istio-system delete remoteistio "$c" --timeout=60s >/dev/null
  hub -n istio-system delete meshmembership "$c" --timeout=60s >/dev/null
done
left=$(remote 0 get deployments,services,endpoints,configmaps,secrets,serviceaccounts,roles,rolebindings -n istio-system \
  -l app.kubernetes.io/managed-by=remote-istio-operator -o name; remote 0 get mutatingwebhookconfigurations,clusterroles,clusterrolebindings \
  -l app.kubernetes.io/managed-by=remote-istio-operator -o name)
[[ -z "$left" ]] || fail "left behind in ${remotes[0]}: $left"
remote 0 -n istio-system get configmap users-own-config >/dev/null || fail "the user's ConfigMap was deleted"
[[ -z "$(remote 0 get namespace default -o jsonpath='{.metadata.labels.istio-injection}')" ]] || fail "injection label left on default"
[[ -z "$(hub -n istio-system get secrets -l istio/multiCluster=true -o name)" ]] || fail "remote secrets left in the hub"
step "PASS"
