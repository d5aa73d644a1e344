#!/usr/bin/env python3
"""Benchmark of the operator as users run it (not a test): kube-testenv with a hub and N remote
clusters in one process, the operator binary in another, driven over HTTPS like any client.

For each N (--clusters 10,100,1000):
  - converge: N MeshMemberships (bootstrap Secrets created beforehand) and N RemoteIstios applied
    to a running operator; time until every one is Ready (followed as `kubectl wait` does: a list
    and a watch of each kind in the hub, not repeated lists); API requests and writes counted by each
    testenv API server (GET /_testenv/requests), against the objects that had to be written
    (counted in remote-0, every remote being alike); operator RSS (VmRSS, VmHWM from /proc).
    Then --converge-runs - 1 more convergences, each with a fresh kube-testenv and operator: the
    median time is reported beside every run (the other figures come from the first run).
  - idle: requests and writes per remote per minute over --idle-seconds once converged.
  - restart: SIGTERM, a new operator process with the N pairs present: time from exec until each
    key has been reconciled (controller_runtime_reconcile_total), every remote has had a full
    RemoteIstio pass (remote_istio_ready), and nothing is left in the queues.
  - outage: --outage-fraction of the remotes blackholed (PUT /_testenv/faults) until their
    MeshMemberships leave Ready; time from the end of the outage to all Ready again.
  - failover: a standby operator; the leader SIGKILLed; time until the standby holds the Lease
    and until a spec change made right after the kill reaches the remote, --failover-runs times
    (the median reported); then once with a leader and a standby started with client-go's 15 s
    Lease (CLIENT_GO_LEASE) for comparison.
Baseline (--manual 20): the reference procedure scripted with kubectl (namespace and RBAC in the
remote, a token, a kubeconfig, the Secret in the hub, the RemoteIstio), against the same number of
remotes joined with `kubectl create secret` + `kubectl apply` of a MeshMembership and a RemoteIstio.

  test/bench/operator_bench.py [--clusters 10,100] [--idle-seconds 300] [--manual 20] [--converge-runs 3]

Run from the source root after building remote-istio-operator and kube-testenv. Progress on
stderr; one JSON object on stdout (scripts/bench.sh renders it into BENCHMARKS.md).
"""
import argparse
import base64
import http.client
import json
import os
import re
import resource
import shutil
import signal
import statistics
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import yaml

GROUP = "/apis/istio.alibabacloud.com/v1beta1/namespaces/istio-system"
NS = "istio-system"


def log(*args):
    print(f"[{time.strftime('%H:%M:%S')}] operator-bench:", *args, file=sys.stderr, flush=True)


class Api:
    """One cluster's API server, from its kubeconfig (CA data and a bearer token)."""

    def __init__(self, kubeconfig, keepalive=False):
        cfg = yaml.safe_load(open(kubeconfig))
        cluster = cfg["clusters"][0]["cluster"]
        m = re.match(r"https://([^:/]+):(\d+)", cluster["server"])
        self.host, self.port = m.group(1), int(m.group(2))
        self.token = cfg["users"][0]["user"]["token"]
        self.ctx = ssl.create_default_context(
            cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
        self.ctx.check_hostname = False
        self.keepalive = keepalive
        self.local = threading.local()
        self.lock = threading.Lock()
        self.sent = 0  # requests this driver made (other than /_testenv), to subtract from counts

    def _conn(self):
        c = getattr(self.local, "conn", None) if self.keepalive else None
        if c is None:
            c = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=60)
            if self.keepalive:
                self.local.conn = c
        return c

    def request(self, method, path, body=None, ctype="application/json", timeout=60):
        if not path.startswith("/_testenv"):
            with self.lock:
                self.sent += 1
        data = None if body is None else (body if isinstance(body, (bytes, str)) else json.dumps(body))
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = ctype
        for attempt in range(2):
            c = self._conn()
            try:
                c.timeout = timeout
                c.request(method, path, body=data, headers=headers)
                r = c.getresponse()
                raw = r.read()
                if not self.keepalive:
                    c.close()
                try:
                    return r.status, json.loads(raw) if raw else {}
                except ValueError:
                    return r.status, {"raw": raw[:200].decode(errors="replace")}
            except (OSError, http.client.HTTPException):
                c.close()
                self.local.conn = None
                if attempt == 1:
                    raise


class ReadyWatch:
    """Readiness of every object of one kind in the hub, kept the way `kubectl wait` does: a
    list, then a watch from its resourceVersion (a new list when the watch ends or expires).
    Polling lists instead cost the API server and this driver more than the operator's own work
    at N = 1,000 (every poll serialized and parsed every object)."""

    def __init__(self, api, plural, cond):
        self.api, self.plural, self.cond = api, plural, cond
        self.ready = {}
        self.synced = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                code, body = self.api.request("GET", f"{GROUP}/{self.plural}", timeout=120)
                if code != 200:
                    time.sleep(0.5)
                    continue
                with self.cond:
                    self.ready = {o["metadata"]["name"]: ready(o) for o in body.get("items", [])}
                    self.synced = True
                    self.cond.notify_all()
                self._watch(body["metadata"]["resourceVersion"])
            except (OSError, ValueError, KeyError, http.client.HTTPException):
                time.sleep(0.2)

    def _watch(self, rv):
        with self.api.lock:
            self.api.sent += 1
        c = http.client.HTTPSConnection(self.api.host, self.api.port, context=self.api.ctx, timeout=660)
        try:
            c.request("GET", f"{GROUP}/{self.plural}?watch=1&allowWatchBookmarks=true&timeoutSeconds=600"
                      f"&resourceVersion={rv}",
                      headers={"Authorization": f"Bearer {self.api.token}", "Accept": "application/json"})
            r = c.getresponse()
            if r.status != 200:
                return
            for line in iter(r.readline, b""):
                if not line.strip():
                    continue
                ev = json.loads(line)
                if ev.get("type") == "ERROR":
                    return  # e.g. 410 Gone: list again
                if ev.get("type") == "BOOKMARK":
                    continue
                obj = ev["object"]
                with self.cond:
                    if ev["type"] == "DELETED":
                        self.ready.pop(obj["metadata"]["name"], None)
                    else:
                        self.ready[obj["metadata"]["name"]] = ready(obj)
                    self.cond.notify_all()
        finally:
            c.close()


def ready(obj):
    for c in obj.get("status", {}).get("conditions", []):
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def rss_kib(pid):
    out = {}
    try:
        for line in open(f"/proc/{pid}/status"):
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def http_get(port, path, timeout=5):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read().decode()
    finally:
        c.close()


class Operator:
    def __init__(self, binary, kubeconfig, workdir, name, args):
        self.metrics, self.health = free_port(), free_port()
        self.logpath = os.path.join(workdir, f"{name}.log")
        cmd = [binary, "--kubeconfig", kubeconfig,
               "--metrics-bind-address", f"127.0.0.1:{self.metrics}",
               "--health-probe-bind-address", f"127.0.0.1:{self.health}",
               "--log-format", "json", "--log-level", "warn",
               "--leader-elect", "--leader-election-namespace", NS] + args
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=open(self.logpath, "w"), stderr=subprocess.STDOUT)
        self.pid = self.proc.pid

    def errors(self, limit=3):
        """How many error lines the operator logged, and the first `limit` of them (message and
        error fields only; the log carries no secret material, the e2e checks that)."""
        count, first = 0, []
        try:
            for line in open(self.logpath):
                if '"level":"error"' not in line:
                    continue
                count += 1
                if len(first) < limit:
                    try:
                        e = json.loads(line)
                        first.append(f"{e.get('msg')}: {e.get('error', '')}"[:300])
                    except ValueError:
                        first.append(line[:300])
        except OSError:
            pass
        return count, first

    def wait_ready(self, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"operator exited ({self.proc.returncode}); see {self.logpath}")
            try:
                if http_get(self.health, "/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("operator not ready")

    def scrape(self):
        try:
            code, text = http_get(self.metrics, "/metrics")
        except OSError:
            return {}
        return text if code == 200 else ""

    def is_leader(self):
        return bool(re.search(r'^leader_election_master_status\{[^}]*\} 1', self.scrape() or "", re.M))

    def remotes_passed(self):
        """Remote clusters this process has run a full RemoteIstio pass for (remote_istio_ready
        is set by a pass over synced caches, not by a pass that waits for them)."""
        return len(re.findall(r'^remote_istio_ready\{[^}]*\} 1', self.scrape() or "", re.M))

    def reconciled(self, by_result=False):
        """Reconciles per controller (every result, or per controller/result) and the total queue
        depth."""
        text = self.scrape() or ""
        per = {}
        for m in re.finditer(r'^controller_runtime_reconcile_total\{([^}]*)\} ([0-9.e+]+)', text, re.M):
            ctrl = re.search(r'controller="([^"]*)"', m.group(1)).group(1)
            if by_result:
                ctrl += "/" + re.search(r'result="([^"]*)"', m.group(1)).group(1)
            per[ctrl] = per.get(ctrl, 0) + float(m.group(2))
        depth = sum(float(v) for v in re.findall(r'^workqueue_depth\{[^}]*\} ([0-9.e+]+)', text, re.M))
        return per, depth

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Env:
    """kube-testenv with hub + remotes, the CRDs, istio-system and a stand-in istiod Pod."""

    def __init__(self, args, remotes, workdir):
        self.args, self.workdir = args, workdir
        self.names = [f"remote-{i}" for i in range(remotes)]
        self.hub_writes_sent = 0
        log(f"starting kube-testenv with {remotes} remotes")
        t = time.monotonic()
        self.proc = subprocess.Popen(
            [os.path.join(args.bin, "kube-testenv"), "--clusters", ",".join(["hub"] + self.names),
             "--dir", workdir, "--log-level", "error", "--threads", str(args.testenv_threads)],
            stdout=open(os.path.join(workdir, "testenv.log"), "w"), stderr=subprocess.STDOUT)
        for name in ["hub"] + self.names:
            path = self.kubeconfig(name)
            while not os.path.exists(path) or os.path.getsize(path) == 0:
                if self.proc.poll() is not None:
                    raise RuntimeError("kube-testenv exited; see " + os.path.join(workdir, "testenv.log"))
                time.sleep(0.1)
        self.hub = Api(self.kubeconfig("hub"), keepalive=True)
        self.watches = None  # readiness of the CRs (watch_ready); their requests count in hub.sent
        self.ready_cond = threading.Condition()
        self.remotes = [Api(self.kubeconfig(n)) for n in self.names]
        while True:
            try:
                if self.hub.request("GET", "/version")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        self.start_seconds = time.monotonic() - t
        self.kubectl("apply", "-f", "crds/istio.alibabacloud.com_remoteistios.yaml",
                     "-f", "crds/istio.alibabacloud.com_meshmemberships.yaml")
        self.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                     "crd/remoteistios.istio.alibabacloud.com", "crd/meshmemberships.istio.alibabacloud.com")
        self.post("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        self.post(f"/api/v1/namespaces/{NS}/pods", {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "istio-pilot-0", "labels": {"istio": "pilot", "app": "pilot"}},
            "spec": {"containers": [{"name": "discovery", "image": "istio/pilot"}]}})
        self.hub.request("PATCH", f"/api/v1/namespaces/{NS}/pods/istio-pilot-0/status",
                         {"status": {"phase": "Running", "podIP": "10.100.7.21"}},
                         "application/merge-patch+json")
        log(f"kube-testenv up in {self.start_seconds:.1f} s")

    def kubeconfig(self, name):
        return os.path.join(self.workdir, f"{name}.kubeconfig")

    def kubectl(self, *args, cluster="hub", input=None):
        r = subprocess.run([self.args.kubectl, "--kubeconfig", self.kubeconfig(cluster)] + list(args),
                           input=input, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {r.stderr.strip()}")
        return r.stdout

    def post(self, path, body, api=None):
        code, resp = (api or self.hub).request("POST", path, body)
        if code >= 300 and code != 409:
            raise RuntimeError(f"POST {path}: {code} {json.dumps(resp)[:300]}")
        return resp

    def parallel(self, fn, items, workers=16):
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(fn, items))

    def counts(self, names=None):
        """Requests and writes served by the hub (this driver's own requests taken out) and remotes."""
        idx = range(len(self.names)) if names is None else names
        remote = self.parallel(lambda i: self.remotes[i].request("GET", "/_testenv/requests")[1], idx)
        hub = self.hub.request("GET", "/_testenv/requests")[1]
        hub_by = {}
        for e in hub.get("requests", []):
            key = f"{e['verb']} {e['resource']}".strip()
            hub_by[key] = hub_by.get(key, 0) + e["count"]
        remote_by = {}
        for r in remote:
            for e in r.get("requests", []):
                key = f"{e['verb']} {e['resource']}".strip()
                remote_by[key] = remote_by.get(key, 0) + e["count"]
        # The reset (DELETE /_testenv/requests) is counted once per server, without a resource.
        for by in (hub_by, remote_by):
            by.pop("delete", None)
        return {"hub_requests": hub["total"] - 1 - self.hub.sent, "hub_writes": hub["writes"] - self.hub_writes_sent,
                "remote_requests": sum(r["total"] - 1 for r in remote),
                "remote_writes": sum(r["writes"] for r in remote),
                "hub_by": hub_by, "remote_by": remote_by}

    def reset_counts(self):
        self.parallel(lambda a: a.request("DELETE", "/_testenv/requests"), self.remotes)
        self.hub.request("DELETE", "/_testenv/requests")
        self.hub.sent = 0
        self.hub_writes_sent = 0

    def list(self, plural):
        code, body = self.hub.request("GET", f"{GROUP}/{plural}", timeout=120)
        return body.get("items", []) if code == 200 else []

    def watch_ready(self):
        """Start following the readiness of every MeshMembership and RemoteIstio in the hub."""
        if self.watches is None:
            self.watches = [ReadyWatch(self.hub, p, self.ready_cond)
                            for p in ("meshmemberships", "remoteistios")]
            with self.ready_cond:
                self.ready_cond.wait_for(lambda: all(w.synced for w in self.watches), timeout=60)

    def _not_ready_locked(self, want):
        return {n for n in want if not all(w.ready.get(n) for w in self.watches)}

    def not_ready(self, names=None):
        """Names whose MeshMembership or RemoteIstio is missing or not Ready."""
        self.watch_ready()
        with self.ready_cond:
            return self._not_ready_locked(set(names if names is not None else self.names))

    def wait_ready(self, names=None, timeout=1800, invert=False):
        """Wait until every name is Ready (invert: none is), as the watches see it."""
        self.watch_ready()
        want = set(names if names is not None else self.names)

        def done():
            left = self._not_ready_locked(want)
            return left == want if invert else not left

        with self.ready_cond:
            return self.ready_cond.wait_for(done, timeout=timeout)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def sample_remoteistio(name):
    doc = yaml.safe_load(open("crds/samples/istio_v1beta1_remoteistio.yaml"))
    doc["metadata"]["name"] = name
    doc["metadata"]["namespace"] = NS
    return doc


def membership(name):
    return {"apiVersion": "istio.alibabacloud.com/v1beta1", "kind": "MeshMembership",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"bootstrapSecretRef": {"name": f"{name}-bootstrap", "key": "kubeconfig"}}}


def bootstrap_secret(env, name):
    data = base64.b64encode(open(env.kubeconfig(name), "rb").read()).decode()
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"{name}-bootstrap", "namespace": NS},
            "data": {"kubeconfig": data}}


def owned_objects(env, name):
    """Objects the operator keeps in one remote: everything with its owner label, plus the
    injection label on each auto-injection namespace."""
    kinds = env.kubectl("api-resources", "--verbs=list", "-o", "name", cluster=name).split()
    out = env.kubectl("get", ",".join(kinds), "-A", "-l", "istio.alibabacloud.com/owner-kind",
                      "-o", "name", cluster=name)
    objects = [l for l in out.splitlines() if l.strip()]
    labelled = env.kubectl("get", "namespaces", "-l", "istio-injection=enabled", "-o", "name", cluster=name)
    return len(objects) + len([l for l in labelled.splitlines() if l.strip()])


def hub_objects(env):
    """Secrets the operator wrote in the hub (istiod's remote secrets, its credentials)."""
    code, body = env.hub.request("GET", f"/api/v1/namespaces/{NS}/secrets")
    return sum(1 for s in body.get("items", []) if not s["metadata"]["name"].endswith("-bootstrap"))


def run_n(args, n):
    workdir = tempfile.mkdtemp(prefix=f"rio-opbench-{n}-")
    env = Env(args, n, workdir)
    ops = []
    res = {"remotes": n, "testenv_start_seconds": round(env.start_seconds, 2)}
    try:
        env.parallel(lambda name: env.post(f"/api/v1/namespaces/{NS}/secrets", bootstrap_secret(env, name)),
                     env.names, workers=8)
        opbin = os.path.join(args.bin, "remote-istio-operator")
        op = Operator(opbin, env.kubeconfig("hub"), workdir, "operator", args.operator_args)
        ops.append(op)
        op.wait_ready()
        while not op.is_leader():
            time.sleep(0.1)
        time.sleep(1)
        rss0 = rss_kib(op.pid)
        env.reset_counts()

        # ---- converge
        log(f"N={n}: applying {n} MeshMemberships and {n} RemoteIstios (operator pid {op.pid}, testenv pid {env.proc.pid})")
        env.watch_ready()
        cpu0 = (cpu_seconds(op.pid), cpu_seconds(env.proc.pid))
        t0 = time.monotonic()
        env.parallel(lambda name: (env.post(f"{GROUP}/meshmemberships", membership(name)),
                                   env.post(f"{GROUP}/remoteistios", sample_remoteistio(name))),
                     env.names, workers=8)
        env.hub_writes_sent = 2 * n
        applied = time.monotonic() - t0
        ok = env.wait_ready(timeout=args.timeout)
        converge = time.monotonic() - t0
        log(f"N={n}: all Ready={ok} after {converge:.2f} s (applying took {applied:.2f} s)")
        cpu1 = (cpu_seconds(op.pid), cpu_seconds(env.proc.pid))
        time.sleep(3)  # in-flight passes (status writes, Events)
        c = env.counts()
        rss1 = rss_kib(op.pid)
        per_remote = owned_objects(env, env.names[0])
        hub_objs = hub_objects(env)
        # The least a convergence can write: each remote object once; in the hub each Secret once,
        # one finalizer and one status write per CR (Events not counted).
        minimum_remote = per_remote * n
        minimum_hub = hub_objs + 4 * n
        res.update({
            "all_ready": ok, "apply_seconds": round(applied, 2), "converge_seconds": round(converge, 2),
            "remote_objects_per_remote": per_remote, "remote_objects_written": minimum_remote,
            "remote_requests": c["remote_requests"], "remote_writes": c["remote_writes"],
            "remote_requests_per_object": round(c["remote_requests"] / max(1, minimum_remote), 2),
            "remote_writes_per_object": round(c["remote_writes"] / max(1, minimum_remote), 2),
            "hub_objects_written": hub_objs, "hub_minimum_writes": minimum_hub,
            "hub_requests": c["hub_requests"], "hub_writes": c["hub_writes"],
            "rss_before_kib": rss0.get("VmRSS", 0), "rss_converged_kib": rss1.get("VmRSS", 0),
            "rss_peak_kib": rss1.get("VmHWM", 0),
            "rss_per_remote_kib": round((rss1.get("VmRSS", 0) - rss0.get("VmRSS", 0)) / n, 1),
            "converge_cpu_seconds_operator": round(cpu1[0] - cpu0[0], 2),
            "converge_cpu_seconds_testenv": round(cpu1[1] - cpu0[1], 2),
            "load_average": os.getloadavg()[0],
            "converge_hub_by": c["hub_by"], "converge_remote_by": c["remote_by"],
            "converge_reconciles": {k: int(v) for k, v in op.reconciled(by_result=True)[0].items() if v},
        })
        errors, first = op.errors()
        if errors:
            res.update({"converge_error_lines": errors, "converge_first_errors": first})
        log(f"N={n}: {json.dumps(res)}")
        if not ok or args.converge_only:
            return res

        # ---- idle
        if args.idle_seconds > 0 and "idle" in args.phases:
            env.reset_counts()
            log(f"N={n}: idle for {args.idle_seconds} s")
            time.sleep(args.idle_seconds)
            c = env.counts()
            minutes = args.idle_seconds / 60
            res.update({
                "idle_seconds": args.idle_seconds,
                "idle_remote_requests_per_remote_per_minute": round(c["remote_requests"] / n / minutes, 2),
                "idle_remote_writes": c["remote_writes"],
                "idle_hub_requests_per_minute": round(c["hub_requests"] / minutes, 1),
                "idle_hub_writes": c["hub_writes"],
                "idle_hub_lease_writes": sum(v for k, v in c["hub_by"].items() if "leases" in k and not k.startswith(("get", "list", "watch"))),
                "rss_idle_kib": rss_kib(op.pid).get("VmRSS", 0),
                "idle_hub_by": c["hub_by"], "idle_remote_by": c["remote_by"],
            })
            log(f"N={n}: idle {c}")

        # ---- restart: a new process with every CR present
        if "restart" not in args.phases:
            args.phases += ",restart"  # the later phases use the restarted process; keep it simple
        op.stop()
        env.reset_counts()
        t0 = time.monotonic()
        op = Operator(opbin, env.kubeconfig("hub"), workdir, "operator-restart", args.operator_args)
        ops.append(op)
        op.wait_ready()
        leader = None
        done = False
        end = t0 + args.timeout
        while time.monotonic() < end:
            if op.proc.poll() is not None:  # e.g. leadership lost while connecting to every remote
                break
            if leader is None and op.is_leader():
                leader = time.monotonic() - t0
            per, depth = op.reconciled()
            # Every key reconciled at least once by this process, a full pass over synced caches
            # for every remote, and then everything Ready.
            if per and all(v >= n for v in per.values()) and len(per) >= 2 and depth == 0 \
                    and op.remotes_passed() >= n and not env.not_ready():
                done = True
                break
            time.sleep(0.1 if n <= 100 else 0.5)
        restart = time.monotonic() - t0
        time.sleep(2)
        c = env.counts()
        res.update({"restart_leader_seconds": round(leader or -1, 2),
                    "restart_all_ready_seconds": round(restart, 2) if done else None,
                    "restart_remote_requests": c["remote_requests"], "restart_remote_writes": c["remote_writes"],
                    "restart_hub_writes": c["hub_writes"], "restart_hub_by": c["hub_by"],
                    "rss_restart_kib": rss_kib(op.pid).get("VmRSS", 0)})
        log(f"N={n}: restart reconciled everything in {restart:.2f} s (leader after {leader}), writes {c}")
        if op.proc.poll() is not None:
            res["restart_error"] = f"the restarted operator exited ({op.proc.returncode}); see its log"
            log(f"N={n}: {res['restart_error']}")
            return res

        # ---- outage of a fraction of the remotes
        if "outage" in args.phases:
            k = max(1, int(n * args.outage_fraction))
            down = env.names[:k]
            log(f"N={n}: blackholing {k} remotes")
            env.parallel(lambda i: env.remotes[i].request("PUT", "/_testenv/faults", {"blackhole": True}), range(k))
            t0 = time.monotonic()
            detected = env.wait_ready(down, timeout=120, invert=True)
            detect = time.monotonic() - t0
            time.sleep(2)
            env.parallel(lambda i: (env.remotes[i].request("PUT", "/_testenv/faults", {}),
                                    env.remotes[i].request("POST", "/_testenv/blackhole/release")), range(k))
            t0 = time.monotonic()
            back = env.wait_ready(down, timeout=300)
            reconverge = time.monotonic() - t0
            res.update({"outage_remotes": k, "outage_detected_seconds": round(detect, 2) if detected else None,
                        "outage_reconverge_seconds": round(reconverge, 2) if back else None})
            log(f"N={n}: outage detected in {detect:.1f} s, all Ready {reconverge:.2f} s after it ended")

        if "failover" not in args.phases:
            return res
        # ---- failover: a standby, the leader SIGKILLed, a change made right after; again with
        # the standby that took over as the leader, --failover-runs times (the takeover moment
        # within a renew interval varies, so one run says little), the median reported
        leads, applied = [], []
        for i in range(args.failover_runs):
            if i:
                wait_settled(op, n, args.timeout)
            standby = Operator(opbin, env.kubeconfig("hub"), workdir, f"standby-{i}", args.operator_args)
            ops.append(standby)
            lead, applied_change = failover(env, op, standby, replicas=2 + i)
            log(f"N={n}: failover {i + 1}: leader after {lead}, change applied after {applied_change}")
            leads.append(lead)
            applied.append(applied_change)
            op = standby
        res.update({"failover_leader_seconds": median_or_none(leads),
                    "failover_change_applied_seconds": median_or_none(applied),
                    "failover_change_applied_runs": [round(x, 2) if x else None for x in applied]})

        # ---- the same with client-go's Lease timings, for comparison: the leader stops (releasing
        # the Lease), a leader and a standby with CLIENT_GO_LEASE take over
        wait_settled(op, n, args.timeout)
        op.stop()
        slow = args.operator_args + CLIENT_GO_LEASE
        op = Operator(opbin, env.kubeconfig("hub"), workdir, "client-go-leader", slow)
        ops.append(op)
        op.wait_ready()
        wait_settled(op, n, args.timeout)
        standby = Operator(opbin, env.kubeconfig("hub"), workdir, "client-go-standby", slow)
        ops.append(standby)
        lead, applied_change = failover(env, op, standby, replicas=2 + args.failover_runs)
        res.update({"failover_client_go_lease_args": " ".join(CLIENT_GO_LEASE),
                    "failover_client_go_leader_seconds": round(lead, 2) if lead else None,
                    "failover_client_go_change_applied_seconds": round(applied_change, 2) if applied_change else None})
        log(f"N={n}: failover with {' '.join(CLIENT_GO_LEASE)}: leader after {lead}, change applied after {applied_change}")
        return res
    finally:
        for o in reversed(ops):
            o.stop()
        env.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"kept {workdir}")


# Lease settings for the comparison failover: client-go's and controller-runtime's defaults (the
# operator's are 8 s / 5 s / 2 s). Same retry period, so the same Lease writes.
CLIENT_GO_LEASE = ["--leader-election-lease-duration=15s", "--leader-election-renew-deadline=10s",
                   "--leader-election-retry-period=2s"]


def median_or_none(xs):
    """The median of the runs, rounded; None when any run did not finish."""
    return None if any(x is None for x in xs) or not xs else round(statistics.median(xs), 2)


def wait_settled(op, n, timeout):
    """Waits until `op` leads and has done its first pass over all n remotes with nothing queued."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and not (op.is_leader() and op.remotes_passed() >= n
                                            and op.reconciled()[1] == 0):
        time.sleep(0.2)


def failover(env, leader, standby, replicas):
    """SIGKILLs `leader` once `standby` is ready and a spec change (sidecarInjector.replicaCount)
    is made right after; returns (seconds until standby leads, seconds until the change reached
    the remote), None for what did not happen within 120 s."""
    standby.wait_ready()
    time.sleep(2)
    leader.stop(signal.SIGKILL)
    t0 = time.monotonic()
    target = env.names[-1]
    env.hub.request("PATCH", f"{GROUP}/remoteistios/{target}",
                    {"spec": {"sidecarInjector": {"replicaCount": replicas}}}, "application/merge-patch+json")
    lead = applied_change = None
    end = t0 + 120
    while time.monotonic() < end and applied_change is None:
        if lead is None and standby.is_leader():
            lead = time.monotonic() - t0
        code, dep = env.remotes[-1].request("GET", f"/apis/apps/v1/namespaces/{NS}/deployments/istio-sidecar-injector")
        if code == 200 and dep.get("spec", {}).get("replicas") == replicas:
            applied_change = time.monotonic() - t0
        time.sleep(0.1)
    return lead, applied_change


MANUAL_RBAC = """apiVersion: v1
kind: ServiceAccount
metadata:
  name: istio-multi
  namespace: istio-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: istio-multi
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
- kind: ServiceAccount
  name: istio-multi
  namespace: istio-system
"""


def run_manual(args, n):
    """The reference procedure with kubectl for n remotes, and the operator's way for n more."""
    workdir = tempfile.mkdtemp(prefix="rio-opbench-manual-")
    env = Env(args, 2 * n, workdir)
    manual, joined = env.names[:n], env.names[n:]
    op = None
    calls = {"manual": 0, "operator": 0}

    def k(kind, *a, cluster="hub", input=None):
        calls[kind] += 1
        return env.kubectl(*a, cluster=cluster, input=input)

    try:
        op = Operator(os.path.join(args.bin, "remote-istio-operator"), env.kubeconfig("hub"), workdir,
                      "operator", args.operator_args)
        op.wait_ready()
        rbac = os.path.join(workdir, "rbac.yml")
        open(rbac, "w").write(MANUAL_RBAC)
        sample = open("crds/samples/istio_v1beta1_remoteistio.yaml").read()
        log(f"manual: the reference procedure with kubectl for {n} remotes")
        t0 = time.monotonic()
        for name in manual:
            k("manual", "create", "namespace", NS, cluster=name)
            k("manual", "apply", "-f", rbac, cluster=name)
            token = k("manual", "-n", NS, "create", "token", "istio-multi", "--duration=24h", cluster=name).strip()
            cfg = yaml.safe_load(open(env.kubeconfig(name)))
            ca = os.path.join(workdir, f"{name}.ca")
            open(ca, "wb").write(base64.b64decode(cfg["clusters"][0]["cluster"]["certificate-authority-data"]))
            out = os.path.join(workdir, f"{name}.multi")
            server = cfg["clusters"][0]["cluster"]["server"]
            subprocess.run([args.kubectl, "--kubeconfig", out, "config", "set-cluster", name, "--server", server,
                            "--certificate-authority", ca, "--embed-certs=true"], check=True, capture_output=True)
            subprocess.run([args.kubectl, "--kubeconfig", out, "config", "set-credentials", name,
                            "--token", token], check=True, capture_output=True)
            subprocess.run([args.kubectl, "--kubeconfig", out, "config", "set-context", name, "--cluster", name,
                            "--user", name], check=True, capture_output=True)
            subprocess.run([args.kubectl, "--kubeconfig", out, "config", "use-context", name],
                           check=True, capture_output=True)
            calls["manual"] += 4
            k("manual", "-n", NS, "create", "secret", "generic", name, f"--from-file={name}={out}")
            k("manual", "-n", NS, "label", "secret", name, "istio/multiCluster=true")
            k("manual", "apply", "-n", NS, "-f", "-", input=sample.replace("name: cn-beijing", f"name: {name}"))
        manual_script = time.monotonic() - t0
        end = time.monotonic() + args.timeout
        while time.monotonic() < end:
            ok = {o["metadata"]["name"] for o in env.list("remoteistios") if ready(o)}
            if all(x in ok for x in manual):
                break
            time.sleep(0.1)
        manual_ready = time.monotonic() - t0
        log(f"manual: script {manual_script:.1f} s, all Ready after {manual_ready:.1f} s")

        log(f"manual: the operator's way with kubectl for {n} remotes")
        t0 = time.monotonic()
        for name in joined:
            k("operator", "-n", NS, "create", "secret", "generic", f"{name}-bootstrap",
              f"--from-file=kubeconfig={env.kubeconfig(name)}")
            doc = yaml.safe_dump(membership(name)) + "---\n" + sample.replace("name: cn-beijing", f"name: {name}")
            k("operator", "apply", "-n", NS, "-f", "-", input=doc)
        joined_script = time.monotonic() - t0
        ok = env.wait_ready(joined, timeout=args.timeout)
        joined_ready = time.monotonic() - t0
        log(f"manual: operator way script {joined_script:.1f} s, all Ready={ok} after {joined_ready:.1f} s")
        return {"remotes": n,
                "manual_kubectl_calls": calls["manual"], "manual_script_seconds": round(manual_script, 2),
                "manual_all_ready_seconds": round(manual_ready, 2),
                "operator_kubectl_calls": calls["operator"], "operator_script_seconds": round(joined_script, 2),
                "operator_all_ready_seconds": round(joined_ready, 2)}
    finally:
        if op:
            op.stop()
        env.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clusters", default="10,100", help="remote counts, comma separated")
    p.add_argument("--idle-seconds", type=int, default=300)
    p.add_argument("--manual", type=int, default=20, help="remotes for the kubectl baseline (0: skip)")
    p.add_argument("--outage-fraction", type=float, default=0.1)
    p.add_argument("--timeout", type=int, default=1800)
    p.add_argument("--testenv-threads", type=int, default=2)
    p.add_argument("--bin", default=os.path.join(os.environ.get("BUILD_DIR", "build"), "bin"))
    p.add_argument("--kubectl", default=os.environ.get("KUBECTL", "kubectl"))
    p.add_argument("--failover-runs", type=int, default=3,
                   help="SIGKILLed leaders per N with the default Lease (the median is reported)")
    p.add_argument("--phases", default="idle,restart,outage,failover",
                   help="what to measure after convergence (restart always runs before outage/failover)")
    p.add_argument("--converge-only", action="store_true", help="measure the convergence only")
    p.add_argument("--converge-runs", type=int, default=3,
                   help="convergences measured per N (each with a fresh kube-testenv and operator; the "
                        "first run also measures the other phases); the median is reported")
    p.add_argument("--keep", action="store_true", help="keep the work directories (logs)")
    p.add_argument("--operator-arg", dest="operator_args", action="append", default=[],
                   help="extra operator flag (repeatable), e.g. --operator-arg=--max-concurrent-reconciles=4")
    args = p.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by both processes
    runs = []
    for n in [int(x) for x in args.clusters.split(",") if x]:
        try:
            r = run_n(args, n)
            if r.get("all_ready") and args.converge_runs > 1:
                # A 2-vCPU machine shared by the operator, N API servers and the driver varies by
                # +-10 % from run to run: more convergences of the same N, the median reported.
                times = [r["converge_seconds"]]
                again = argparse.Namespace(**{**vars(args), "converge_only": True})
                for i in range(args.converge_runs - 1):
                    extra = run_n(again, n)
                    if not extra.get("all_ready"):
                        break
                    times.append(extra["converge_seconds"])
                r["converge_seconds_runs"] = times
                r["converge_seconds_median"] = round(statistics.median(times), 2)
            runs.append(r)
            log(f"result: {json.dumps(runs[-1])}")  # kept in the log should a later N not finish
        except Exception as e:  # record what was not reached and go on
            log(f"N={n}: failed: {e}")
            runs.append({"remotes": n, "error": str(e)[:300]})
    out = {"fd_limit": hard, "operator_args": " ".join(args.operator_args), "runs": runs}
    if args.manual > 0:
        try:
            out["baseline"] = run_manual(args, args.manual)
        except Exception as e:
            log(f"manual baseline failed: {e}")
            out["baseline"] = {"error": str(e)[:300]}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
