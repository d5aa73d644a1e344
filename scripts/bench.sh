#!/usr/bin/env bash
# Runs the benchmarks (not tests) and rewrites their sections of BENCHMARKS.md.
#
#   scripts/bench.sh            every benchmark binary that exists (build/bin/*-bench)
#   scripts/bench.sh testenv    only build/bin/testenv-bench (what `make bench-testenv` runs)
#
# Each benchmark prints one JSON object on stdout (progress on stderr). Its section in
# BENCHMARKS.md lies between `<!-- bench:<name> begin -->` and `<!-- bench:<name> end -->` and is
# replaced as a whole; the sections of benchmarks not run are left as they are. A section records
# the exact command, the machine (nproc, memory, CPU model), the date and the commit.
#
# Adding a benchmark: test/bench/<name>_bench.cc becomes build/bin/<name>-bench (test/CMakeLists.txt);
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
)

names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
  for bin in "$build"/bin/*-bench; do
    [[ -x "$bin" ]] || continue
    b="$(basename "$bin")"
    names+=("${b%-bench}")
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
  if [[ ! -x "$bin" ]]; then
    echo "bench.sh: $bin does not exist; skipping $name" >&2
    continue
  fi
  argsvar="BENCH_ARGS_${name//-/_}"
  read -r -a args <<<"${!argsvar:-}"
  cmd="build/bin/$name-bench${args[*]:+ ${args[*]}}"
  echo "bench.sh: running $cmd" >&2
  "$bin" "${args[@]}" >"$results/$name.json"
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

body = (testenv(data) if name == "testenv" else generic(data))
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
