#!/usr/bin/env bash
# Runs the benchmarks (not tests) and rewrites their sections of BENCHMARKS.md.
#
#   scripts/bench.sh            every benchmark binary that exists (build/bin/*-bench)
#   scripts/bench.sh testenv    only build/bin/testenv-bench (what `make bench-testenv` runs)
#   scripts/bench.sh operator   only test/bench/operator_bench.py (operator and kube-testenv as
#                               separate processes; long: BENCH_ARGS_operator="--clusters 10")
#
# Each benchmark prints one JSON object on stdout (progress on stderr). Its section in
# BENCHMARKS.md lies between `<!-- bench:<name> begin -->` and `<!-- bench:<name> end -->` and is
# replaced as a whole; the sections of benchmarks not run are left as they are. A section records
# the exact command, the machine (nproc, memory, CPU model), the date and the commit.
#
# Adding a benchmark: test/bench/<name>_bench.cc becomes build/bin/<name>-bench (test/CMakeLists.txt),
# or test/bench/<name>_bench.py is run with python3 from the source root;
# give it a title below and, if the generic JSON-to-table rendering does not suit it, a renderer
# in the Python block. Extra arguments per benchmark: BENCH_ARGS_<name>="--flag value".
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
out_md="$root/BENCHMARKS.md"
results="$build/bench"
mkdir -p "$results"
command -v python3 >/dev/null || { echo "bench.sh: python3 is needed to render BENCHMARKS.md" >&2; exit 1; }

declare -A titles=(
  [testenv]="kube-testenv"
  [runtime]="Controller runtime"
  [membership]="MeshMembership: joining N remote clusters"
  [operator]="Operator: N remote clusters, operator and kube-testenv in separate processes"
)

names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
  for bin in "$build"/bin/*-bench; do
    [[ -x "$bin" ]] || continue
    b="$(basename "$bin")"
    names+=("${b%-bench}")
  done
  for script in "$root"/test/bench/*_bench.py; do
    [[ -f "$script" ]] || continue
    b="$(basename "$script")"
    names+=("${b%_bench.py}")
  done
fi
if [[ ${#names[@]} -eq 0 ]]; then
  echo "bench.sh: no benchmark binaries in $build/bin (build first: make build)" >&2
  exit 1
fi

machine="$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'))"
machine+=", $(awk '/MemTotal/ {printf "%.1f GiB", $2/1024/1024}' /proc/meminfo) memory"
date_utc="$(date -u +%Y-%m-%dT%H:%MZ)"
commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"

for name in "${names[@]}"; do
  bin="$build/bin/$name-bench"
  script="test/bench/${name//-/_}_bench.py"
  argsvar="BENCH_ARGS_${name//-/_}"
  read -r -a args <<<"${!argsvar:-}"
  if [[ -f "$root/$script" ]]; then
    cmd="$script${args[*]:+ ${args[*]}}"
    run=(python3 "$root/$script")
  elif [[ -x "$bin" ]]; then
    cmd="build/bin/$name-bench${args[*]:+ ${args[*]}}"
    run=("$bin")
  else
    echo "bench.sh: neither $bin nor $script exists; skipping $name" >&2
    continue
  fi
  echo "bench.sh: running $cmd" >&2
  (cd "$root" && BUILD_DIR="$build" "${run[@]}" "${args[@]}") >"$results/$name.json"
  python3 - "$out_md" "$name" "${titles[$name]:-$name}" "$results/$name.json" "$cmd" "$machine" "$date_utc" "$commit" <<'PY'
import json, re, sys

path, name, title, result, cmd, machine, date, commit = sys.argv[1:9]
data = json.load(open(result))

def fmt(v):
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}" if v else "0"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)

def generic(d):
    """Scalars as one table, each nested object as its own table, lists of objects as rows."""
    lines = []
    scalars = {k: v for k, v in d.items() if not isinstance(v, (dict, list))}
    if scalars:
        lines += ["| | |", "|---|---|"] + [f"| {k} | {fmt(v)} |" for k, v in scalars.items()] + [""]
    for k, v in d.items():
        if isinstance(v, dict):
            lines += [f"**{k}**", ""] + generic(v)
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            cols = list(v[0].keys())
            lines += [f"**{k}**", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
            lines += ["| " + " | ".join(fmt(x.get(c, "")) for c in cols) + " |" for x in v] + [""]
    return lines

def testenv(d):
    s, w, l = d["start"], d["idleWatches"], d["load"]
    lines = [
        f"One process serving **{d['clusters']:,} clusters** (each its own HTTPS port, CA, token "
        f"authority, seeded namespaces, 3 nodes, RBAC bootstrap) on one IoRuntime with "
        f"{d['ioThreads']} I/O threads. Client and servers share the process and its cores.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| start {d['clusters']:,} clusters | {s['seconds']:.1f} s |",
        f"| memory per cluster (RSS) | {s['rssPerClusterKiB']:.0f} KiB ({s['rssBeforeMiB']:.0f} → {s['rssAfterMiB']:.0f} MiB) |",
        f"| memory per client (our REST client, idle) | {w['rssPerClientKiB']:.0f} KiB |",
        f"| memory per idle watch (client + server side, TLS) | {w['rssPerWatchKiB']:.0f} KiB ({w['open']:,} open) |",
        f"| requests per second ({l['threads']} client threads, {l['sampledClusters']} clusters, 60% GET / 20% LIST / 20% PATCH, idle watches open) | **{l['requestsPerSecond']:,.0f}** ({l['requests']:,} in {l['seconds']:.0f} s, {l['errors']} errors, {l['cpuCoresBusy']:.2f} cores busy) |",
        "",
        "| verb | requests | p50 | p99 |",
        "|---|---|---|---|",
    ]
    for verb, v in sorted(l["verbs"].items()):
        lines.append(f"| {verb} | {v['count']:,} | {v['p50ms']:.2f} ms | {v['p99ms']:.2f} ms |")
    lines += [
        "",
        "Watch fan-out (one cluster, one ConfigMap patched in a loop, every watcher over its own "
        "HTTPS connection; CPU covers server encoding, TLS both ways and client decoding):",
        "",
        "| watchers | writes | events delivered | events/s | CPU per event | write latency |",
        "|---|---|---|---|---|---|",
    ]
    for f in d["fanout"]:
        lines.append(
            f"| {f['watchers']:,} | {f['writes']:,} | {f['eventsDelivered']:,} | {f['eventsPerSecond']:,.0f} | "
            f"{f['cpuMicrosPerEvent']:.0f} µs | {f['writeLatencyMs']:.2f} ms |")
    lines.append("")
    return lines

def operator(d):
    runs = [r for r in d["runs"]]
    cols = [f"N = {r['remotes']:,}" for r in runs]
    def s(v, unit="s", digits=2):
        return "not reached" if v is None else f"{v:,.{digits}f} {unit}".strip()
    def row(label, target, cell):
        out = []
        for r in runs:
            if "error" in r and "converge_seconds" not in r:
                out.append("failed: " + r["error"][:80].replace("|", "/"))
                continue
            try:
                out.append(cell(r))
            except (KeyError, TypeError, ZeroDivisionError):
                out.append("—")
        return f"| {label} | {target} | " + " | ".join(out) + " |"
    mib = lambda k: k / 1024
    def passes(r, controller):  # reconciles of one controller, every result
        return sum(v for k, v in r["converge_reconciles"].items() if k.split("/")[0] == controller)
    lines = [
        "kube-testenv (hub + N remotes, one API server each) in one process, `remote-istio-operator` "
        "(defaults, leader election on) in another, the driver in a third, which follows readiness "
        "with a watch per kind as `kubectl wait` does; requests counted by each API "
        "server (`/_testenv/requests`, the driver's own taken out). Open-file limit raised to "
        f"{d['fd_limit']:,} for both. The convergence is measured in several runs, each with fresh "
        "processes (the median and every run); the other rows come from the first run."
        + (f" Operator flags: `{d['operator_args']}`." if d.get("operator_args") else ""),
        "",
        "| measure | target | " + " | ".join(cols) + " |",
        "|---|---|" + "---|" * len(cols),
        row("apply N MeshMemberships + N RemoteIstios → all Ready", "100: ≤ 5 s; 1,000: ≤ 30 s",
            lambda r: (f"**{s(r['converge_seconds_median'])}** median ({' / '.join(f'{x:.2f}' for x in r['converge_seconds_runs'])} s)"
                       if "converge_seconds_median" in r else s(r["converge_seconds"]))
                      if r["all_ready"] else f"not all Ready after {r['converge_seconds']:,.0f} s"),
        row("CPU during convergence: operator / kube-testenv (load average)", "", lambda r: f"{r['converge_cpu_seconds_operator']:.1f} s / {r['converge_cpu_seconds_testenv']:.1f} s ({r['load_average']:.1f})"),
        row("remote objects that had to be written (per remote)", "", lambda r: f"{r['remote_objects_written']:,} ({r['remote_objects_per_remote']})"),
        row("remote requests (per object)", "", lambda r: f"{r['remote_requests']:,} ({r['remote_requests_per_object']})"),
        row("remote writes (per object)", "1 per object", lambda r: f"{r['remote_writes']:,} ({r['remote_writes_per_object']})"),
        row("reconciles: RemoteIstio / MeshMembership (per object)", "",
            lambda r: f"{passes(r, 'remoteistio'):,} / {passes(r, 'meshmembership'):,} "
                      f"({passes(r, 'remoteistio') / r['remotes']:.1f} / {passes(r, 'meshmembership') / r['remotes']:.1f})"),
        row("hub requests / writes (minimum writes)", "", lambda r: f"{r['hub_requests']:,} / {r['hub_writes']:,} ({r['hub_minimum_writes']:,})"),
        row("operator RSS before → converged (peak)", "", lambda r: f"{mib(r['rss_before_kib']):.0f} → {mib(r['rss_converged_kib']):.0f} MiB ({mib(r['rss_peak_kib']):.0f})"),
        row("RSS per remote", "≤ 1 MiB", lambda r: f"{r['rss_per_remote_kib']:,.0f} KiB"),
        row("idle requests per remote per minute", "≤ 1", lambda r: f"{r['idle_remote_requests_per_remote_per_minute']} (over {r['idle_seconds']} s)"),
        row("idle writes (remotes + hub), Lease renewals apart", "0", lambda r: f"**{r['idle_remote_writes'] + r['idle_hub_writes'] - r['idle_hub_lease_writes']:,}** (+ {r['idle_hub_lease_writes']:,} Lease renewals)"),
        row("idle hub requests per minute", "", lambda r: f"{r['idle_hub_requests_per_minute']:,}"),
        row("operator start with N pairs present (restart) → every key reconciled, all Ready", "", lambda r: s(r["restart_all_ready_seconds"]) + f" (lease after {s(r['restart_leader_seconds'])}; writes: {r['restart_remote_writes']:,} remote, {r['restart_hub_writes']:,} hub)"),
        row("outage of 10 % of the remotes: detected / all Ready again after it ends", "re-convergence ≤ 5 s", lambda r: f"{s(r['outage_detected_seconds'], digits=1)} / **{s(r['outage_reconverge_seconds'])}** ({r['outage_remotes']} down)"),
        row("failover after SIGKILL (8 s Lease): lease taken / a change reaches the remote, median", "≤ 10 s",
            lambda r: f"{s(r['failover_leader_seconds'])} / **{s(r['failover_change_applied_seconds'])}**"
                      + (f" ({' / '.join(s(x) for x in r['failover_change_applied_runs'])})" if r.get("failover_change_applied_runs") else "")),
        row("the same with client-go's 15 s Lease (`" + next((r["failover_client_go_lease_args"] for r in runs if r.get("failover_client_go_lease_args")), "") + "`), one run", "",
            lambda r: f"{s(r['failover_client_go_leader_seconds'])} / {s(r['failover_client_go_change_applied_seconds'])}"),
        "",
    ]
    pts = [(r["remotes"], r["rss_converged_kib"]) for r in runs if r.get("rss_converged_kib")]
    if len(pts) >= 2:
        n = len(pts); mx = sum(p[0] for p in pts) / n; my = sum(p[1] for p in pts) / n
        den = sum((p[0] - mx) ** 2 for p in pts)
        if den:
            slope = sum((p[0] - mx) * (p[1] - my) for p in pts) / den
            lines += [f"RSS slope (least squares over converged RSS at N = {', '.join(str(p[0]) for p in pts)}): "
                      f"**{slope:,.0f} KiB per remote** (target ≤ 1,024).", ""]
    b = d.get("baseline")
    if b and "error" not in b:
        lines += [
            f"Baseline, in the same run: {b['remotes']} remotes joined by the reference procedure scripted "
            f"with kubectl (namespace, RBAC, token, kubeconfig, Secret, label, RemoteIstio), and "
            f"{b['remotes']} more with the operator (bootstrap Secret, then one `kubectl apply` of a "
            "MeshMembership and a RemoteIstio), same testenv and operator:",
            "",
            "| | kubectl calls | script | all RemoteIstios (and MeshMemberships) Ready |",
            "|---|---|---|---|",
            f"| reference procedure | {b['manual_kubectl_calls']} | {b['manual_script_seconds']:.1f} s | {b['manual_all_ready_seconds']:.1f} s |",
            f"| operator (MeshMembership) | {b['operator_kubectl_calls']} | {b['operator_script_seconds']:.1f} s | {b['operator_all_ready_seconds']:.1f} s |",
            "",
        ]
    elif b:
        lines += [f"Baseline failed: {b['error']}", ""]
    return lines

body = (testenv(data) if name == "testenv" else operator(data) if name == "operator" else generic(data))
section = [
    f"<!-- bench:{name} begin -->",
    f"## {title}",
    "",
    f"`{cmd}` — {machine}; {date}, commit {commit}. Regenerate with `scripts/bench.sh {name}`.",
    "",
] + body + [f"<!-- bench:{name} end -->"]
text = "\n".join(section)

try:
    doc = open(path).read()
except FileNotFoundError:
    doc = ("# Benchmarks\n\nMeasured, never asserted in tests. Each section is written by "
           "`scripts/bench.sh` (`make bench`) from the benchmark's JSON output; edit the script, "
           "not the section.\n")
pattern = re.compile(rf"<!-- bench:{re.escape(name)} begin -->.*?<!-- bench:{re.escape(name)} end -->", re.S)
if pattern.search(doc):
    doc = pattern.sub(lambda _: text, doc)
else:
    doc = doc.rstrip("\n") + "\n\n" + text + "\n"
open(path, "w").write(doc)
PY
  echo "bench.sh: wrote the $name section of BENCHMARKS.md" >&2
done
