# Shared by the shell tests that drive kube-testenv with kubectl (source it after setting TESTENV
# and KUBECTL). Provides WORK (removed on exit), start_testenv CLUSTERS (waits until hub answers),
# stop_testenv (SIGTERM, expects a clean exit), k (kubectl against the hub), fail, expect, refused.
WORK=$(mktemp -d)
PID=
cleanup() {
  if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- kube-testenv output (last lines)" >&2
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
start_testenv() {  # start_testenv hub[,other...]: every cluster's kubeconfig written, the hub answers
  local clusters=$1 c
  "$TESTENV" --clusters "$clusters" --dir "$WORK" --log-level warn >"$WORK/testenv.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 150); do
    local all=1
    for c in ${clusters//,/ }; do [[ -f "$WORK/$c.kubeconfig" ]] || all=0; done
    [[ $all == 1 ]] && k version >/dev/null 2>&1 && return 0
    kill -0 "$PID" 2>/dev/null || fail "kube-testenv exited early"
    sleep 0.1
  done
  fail "kube-testenv did not answer"
}
stop_testenv() {
  kill -TERM "$PID"
  wait "$PID" || fail "kube-testenv did not exit cleanly"
  PID=
}
