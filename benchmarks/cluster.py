"""The load-balanced Ceph cluster under failures: a gateway killed and restarted, an OSD killed.

Run: .venv/bin/python benchmarks/cluster.py [--threads 16] [--ops 500] [--runs 1] [--suite]
Writes benchmarks/results/cluster.md. Each scenario gets a fresh cluster (3 memstore OSDs, pools
size 3 / min_size 2, gateways rgw.a and rgw.b behind HAProxy, see tests/support/cluster.py).
``--threads`` threads each run ``--ops`` mixed operations through the balancer with one shared
storage (default options), while the fault is injected once a third of the operations are done:

- gateway: rgw.a is SIGKILLed, stays down DOWNTIME seconds, is restarted; "during" lasts until
  HAProxy sends to both gateways again.
- osd: osd.2 is SIGKILLed and stays down (memstore loses its data with the process); "during"
  lasts until the monitor counts it down.

Every payload's SHA-256 is kept. Reads, url() downloads, exists() and size() are checked against
it. At the end every object under the run's prefix is listed and read back, and compared with the
saves and deletes that succeeded. ``--suite`` also runs the test suite through the balancer.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._django import PRIVATE, configure, create_buckets

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "cluster.md"
DOWNTIME = 3.0
SCENARIO_DEADLINE = 300.0  # seconds per scenario; threads stop starting operations after it
MIX = {"save": 30, "open+read": 25, "url fetch": 15, "exists": 10, "size": 10, "delete": 10}
SUFFIX = re.compile(r"_[A-Za-z0-9]{7}(?=\.bin$)")


@dataclass
class Op:
    kind: str
    started: float
    seconds: float
    outcome: str  # ok | failed | wrong
    detail: str = ""


@dataclass
class Ledger:
    """What the threads know for sure: live objects and their hashes, and every operation."""

    live: dict[str, str] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    uncertain: set[str] = field(default_factory=set)  # a delete failed: it may or may not exist
    failed_saves: set[str] = field(default_factory=set)  # requested names of saves that failed
    saves_ok: int = 0
    deletes_ok: int = 0
    ops: list[Op] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Worker:
    def __init__(self, index: int, storage, http, ledger: Ledger, prefix: str, seed: int) -> None:
        self.index, self.storage, self.http, self.ledger = index, storage, http, ledger
        self.prefix = prefix
        self.rng = random.Random(seed)
        self.mine: dict[str, str] = {}
        self.count = 0

    def run(self, ops: int, done: Counter, deadline: float) -> None:
        kinds, weights = list(MIX), list(MIX.values())
        for _ in range(ops):
            if time.monotonic() > deadline:
                return
            kind = self.rng.choices(kinds, weights)[0]
            if kind != "save" and not self.mine:
                kind = "save"
            self.one(kind)
            with self.ledger.lock:
                done["ops"] += 1

    def one(self, kind: str) -> None:
        name = self.rng.choice(sorted(self.mine)) if kind != "save" else ""
        started = time.monotonic()
        try:
            outcome, detail = getattr(self, "op_" + kind.replace("+", "_").replace(" ", "_"))(name)
        except Exception as exc:  # every failure the user would see, kept with its message
            outcome, detail = "failed", f"{kind}: {type(exc).__name__}: {str(exc).splitlines()[0][:150]}"
            if kind == "delete":
                self.mine.pop(name, None)
                with self.ledger.lock:
                    self.ledger.uncertain.add(name)
        with self.ledger.lock:
            self.ledger.ops.append(Op(kind, started, time.monotonic() - started, outcome, detail))

    def op_save(self, _name: str) -> tuple[str, str]:
        from django.core.files.base import ContentFile

        self.count += 1
        requested = f"{self.prefix}/t{self.index:02d}/{self.count}.bin"
        payload = os.urandom(self.rng.choice((1024, 8 * 1024, 64 * 1024)))
        try:
            saved = self.storage.save(requested, ContentFile(payload))
        except Exception:
            with self.ledger.lock:
                self.ledger.failed_saves.add(requested)
            raise
        self.mine[saved] = digest(payload)
        with self.ledger.lock:
            self.ledger.live[saved] = self.mine[saved]
            self.ledger.saves_ok += 1
        return ("ok", "") if saved == requested else ("ok", f"saved as {saved}")

    def op_open_read(self, name: str) -> tuple[str, str]:
        with self.storage.open(name) as stored:
            data = stored.read()
        return (
            ("ok", "") if digest(data) == self.mine[name] else ("wrong", f"open+read {name}: content differs")
        )

    def op_url_fetch(self, name: str) -> tuple[str, str]:
        response = self.http.request("GET", self.storage.url(name))
        if response.status != 200:
            return "failed", f"url GET answered {response.status}"
        return ("ok", "") if digest(response.data) == self.mine[name] else ("wrong", f"{name}: url content")

    def op_exists(self, name: str) -> tuple[str, str]:
        return ("ok", "") if self.storage.exists(name) else ("wrong", f"{name}: exists() is False")

    def op_size(self, name: str) -> tuple[str, str]:
        size = self.storage.size(name)
        return ("ok", "") if size > 0 else ("wrong", f"{name}: size {size}")

    def op_delete(self, name: str) -> tuple[str, str]:
        self.storage.delete(name)
        self.mine.pop(name)
        with self.ledger.lock:
            self.ledger.live.pop(name)
            self.ledger.deleted.add(name)
            self.ledger.deletes_ok += 1
        return "ok", ""


class Fault:
    """Injects the scenario's fault once a third of the operations are done; records the phases."""

    def __init__(self, scenario: str, running, done: Counter, total: int) -> None:
        self.scenario, self.running, self.done, self.total = scenario, running, done, total
        self.killed = self.recovered = float("inf")
        self.notes: list[str] = []
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        deadline = time.monotonic() + SCENARIO_DEADLINE
        while self.done["ops"] < self.total // 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.killed = time.monotonic()
        if self.scenario == "gateway":
            self.running.kill_gateway("rgw.a")
            time.sleep(DOWNTIME)
            restart = time.monotonic()
            self.running.restart_gateway("rgw.a")
            self.notes.append(
                f"rgw.a restarted and serving {time.monotonic() - restart:.2f} s after its start"
            )
            self.running.wait_balanced()
            self.recovered = time.monotonic()
            self.notes.append(
                f"HAProxy sent to both gateways again {self.recovered - self.killed:.2f} s after the kill"
            )
        else:
            self.running.kill_osd(2)
            while self.running.osds_up() != 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            self.recovered = time.monotonic()
            self.notes.append(
                f"the monitor marked osd.2 down {self.recovered - self.killed:.2f} s after the kill"
            )

    def phase(self, op: Op) -> str:
        if op.started < self.killed:
            return "before"
        return "during" if op.started < self.recovered else "after"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def verify(storage, client, prefix: str, ledger: Ledger) -> dict[str, int]:
    """List and read back everything under ``prefix``; compare with what succeeded."""
    listed = {
        obj.object_name
        for obj in client.list_objects(bucket_name=PRIVATE, prefix=prefix + "/", recursive=True)
    }
    lost = [name for name in ledger.live if name not in listed]
    corrupted = 0
    for name, expected in ledger.live.items():
        if name in listed:
            with storage.open(name) as stored:
                corrupted += digest(stored.read()) != expected
    extra = listed - set(ledger.live) - ledger.uncertain
    requested_ok = {SUFFIX.sub("", name) for name in ledger.live} | {
        SUFFIX.sub("", n) for n in ledger.deleted
    }
    twice = [name for name in extra if SUFFIX.sub("", name) in requested_ok and name not in ledger.deleted]
    resurrected = [name for name in extra if name in ledger.deleted]
    leftovers = [name for name in extra if SUFFIX.sub("", name) in ledger.failed_saves]
    return {
        "objects listed": len(listed),
        "saves ok - deletes ok": ledger.saves_ok - ledger.deletes_ok,
        "lost": len(lost),
        "corrupted": corrupted,
        "stored twice": len(twice),
        "deleted but present": len(resurrected),
        "left by failed saves": len(leftovers),
        "uncertain (failed delete)": len(ledger.uncertain & listed),
    }


def scenario(name: str, threads: int, ops: int, label: str) -> dict:
    import urllib3
    from django.conf import settings

    from django_minio_backend.models import MinioBackend

    from tests.support.cluster import start_rgw_cluster

    with start_rgw_cluster() as running:
        startup, rss_start = running.startup_seconds, running.rss_bytes()
        options = running.server.storage_options(MINIO_EXTERNAL_ENDPOINT=running.server.endpoint)
        settings.STORAGES["default"]["OPTIONS"].update(options)
        create_buckets(running.server.client(), running.server.region)
        storage = MinioBackend(bucket_name=PRIVATE, storage_name="default")
        http = urllib3.PoolManager(
            maxsize=threads, retries=False, timeout=urllib3.Timeout(connect=2, read=30)
        )
        ledger, done = Ledger(), Counter()
        prefix = f"{name}-{uuid.uuid4().hex[:8]}"
        workers = [Worker(i, storage, http, ledger, prefix, seed=i) for i in range(threads)]
        fault = Fault(name, running, done, threads * ops)
        deadline = time.monotonic() + SCENARIO_DEADLINE
        pool = [threading.Thread(target=w.run, args=(ops, done, deadline)) for w in workers]
        started = time.monotonic()
        fault.thread.start()
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join(SCENARIO_DEADLINE + 60)
        fault.thread.join(60)
        wall = time.monotonic() - started
        rss_end = running.rss_bytes()
        figures = verify(storage, running.server.client(), prefix, ledger)
        http.clear()
    return {
        "name": label,
        "startup": startup,
        "rss_start": rss_start,
        "rss_end": rss_end,
        "wall": wall,
        "ops": ledger.ops,
        "fault": fault,
        "figures": figures,
    }


def run_suite() -> str:
    env = {**os.environ, "MINIO_TEST_SERVER": "rgw-cluster", "S3_STRICT": "1"}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not browser"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    lines = result.stdout.splitlines()
    summary = [line for line in lines if re.search(r"\d+ (passed|failed)", line)]
    failed = "".join(f"\n- {line}" for line in lines if line.startswith("FAILED"))
    wall = time.monotonic() - started
    return (
        "`MINIO_TEST_SERVER=rgw-cluster S3_STRICT=1 pytest -m 'not browser'`: "
        f"{summary[-1].strip('= ') if summary else 'no summary'} (exit {result.returncode}, {wall:.0f} s wall){failed}"
    )


NOTES = [
    "- *Failed as the user saw them*: each failure above is the exception the caller got, after the "
    "operation it interrupted. For storage calls that is a `StorageServerError` naming the operation, "
    "the object and the endpoint; a *url fetch* is the benchmark's own urllib3 GET of the URL (as a "
    "browser would fetch it, no retries), so its failures are urllib3's. None returned data.",
    "- A read whose response headers came from the gateway before it died cannot be replayed by "
    "HAProxy: its body is cut (`IncompleteRead`). The storage's reader resumes it from the byte where "
    "it stopped with a ranged GET pinned by `If-Match` (up to 3 times per open file), which HAProxy sends "
    "to the live gateway; only a read cut more often than that reaches the caller, as an error, never "
    "short data. A *url fetch* is a plain GET of its own and is not resumed.",
    "- *Wrong answers or data*: a read, url() download, exists() or size() that answered anything "
    "but the saved payload (SHA-256) or its presence.",
    "- *Lost / corrupted*: saved objects (save returned their name, no delete succeeded) missing "
    "from the final listing, or whose content's SHA-256 differs when read back.",
    "- *Stored twice*: objects in the listing that no successful save returned, named like a "
    "successful save with Django's `_xxxxxxx` suffix. *Left by failed saves*: objects named like a save that "
    "raised. *Objects listed* equals *saves ok - deletes ok* when nothing is lost or extra.",
    "- Uploads in flight on the gateway at the moment it is killed lose their answer. A new-name "
    "save is a conditional PUT (`If-None-Match: *`) that the dead gateway may have stored, so HAProxy "
    "does not replay it (`disable-l7-retry`): the backend resends it and counts a 412 as success "
    "when the stored ETag is that of what it sent (`core/put.py`), so nothing is stored twice. Reads, "
    "exists, size, url downloads, deletes and overwrites are replayed by HAProxy on the other gateway.",
    "- Phases are by the operation's start time: *during* runs from the kill until HAProxy sends "
    "to both gateways again (gateway), or until the monitor marks the OSD down (OSD). The OSD stays "
    "down for the rest of the run, so *after* is the degraded cluster (2 of 3 replicas).",
]


def report(results: list[dict], threads: int, ops: int, suite: str | None) -> str:
    lines = [
        "# The load-balanced Ceph cluster under failures",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `benchmarks/cluster.py` on the "
        "shared 2-core machine (other engineers' suites running). Cluster: 1 monitor, 3 memstore OSDs, "
        "pools size 3 / min_size 2, radosgw rgw.a and rgw.b behind HAProxy 2.6 (Debian), all on 127.0.0.1. "
        f"{threads} threads x {ops} mixed operations ({', '.join(f'{k} {v}%' for k, v in MIX.items())}) "
        "through the balancer with one storage and its default options (3 retries on connection "
        "failures and 5xx); payloads of 1, 8 or 64 KiB.",
        "",
        "## Cluster",
        "",
        "| scenario | start (to ready through HAProxy) | RSS of all daemons after start | at the end | wall time of the run |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r['name']} | {r['startup']:.2f} s | {r['rss_start'] / 2**20:.0f} MiB | "
            f"{r['rss_end'] / 2**20:.0f} MiB | {r['wall']:.1f} s |"
        )
    lines += ["", "## Figures", ""]
    keys = list(results[0]["figures"])
    lines.append("| | " + " | ".join(r["name"] for r in results) + " |")
    lines.append("| --- |" + " --- |" * len(results))
    rows: dict[str, list[str]] = {}
    for r in results:
        ops_list: list[Op] = r["ops"]
        outcomes = Counter(op.outcome for op in ops_list)
        rows.setdefault("operations run", []).append(str(len(ops_list)))
        rows.setdefault("failed as the user saw them", []).append(str(outcomes["failed"]))
        rows.setdefault("wrong answers or data", []).append(str(outcomes["wrong"]))
        for key in keys:
            rows.setdefault(key, []).append(str(r["figures"][key]))
        for phase in ("before", "during", "after"):
            durations = [op.seconds * 1000 for op in ops_list if r["fault"].phase(op) == phase]
            rows.setdefault(f"p50 / p99 {phase} (ms), ops", []).append(
                f"{percentile(durations, 50):.0f} / {percentile(durations, 99):.0f}, {len(durations)}"
            )
    for label, cells in rows.items():
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "## What happened", ""]
    for r in results:
        fault: Fault = r["fault"]
        lines.append(f"- {r['name']}: " + "; ".join(fault.notes) + ".")
        failures = Counter(op.detail for op in r["ops"] if op.outcome != "ok" and op.detail)
        for detail, count in failures.most_common(8):
            lines.append(f"  - {count} x `{detail}`")
    lines += ["", "## Reading the figures", "", *NOTES, "", "## The test suite through the balancer", ""]
    lines.append(
        suite or "Not run this time (`--suite` runs it: MINIO_TEST_SERVER=rgw-cluster, `-m 'not browser'`)."
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--ops", type=int, default=500)
    parser.add_argument("--scenarios", default="gateway,osd")
    parser.add_argument("--runs", type=int, default=1, help="run each scenario this many times")
    parser.add_argument("--suite", action="store_true", help="also run the test suite through the balancer")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    configure({"MINIO_ENDPOINT": "127.0.0.1:1", "MINIO_ACCESS_KEY": "x", "MINIO_SECRET_KEY": "x"})
    results = [
        scenario(name, args.threads, args.ops, f"{name} killed" + (f", run {run}" if args.runs > 1 else ""))
        for name in args.scenarios.split(",")
        for run in range(1, args.runs + 1)
    ]
    suite = run_suite() if args.suite else None
    args.out.write_text(report(results, args.threads, args.ops, suite))
    print(args.out.read_text())


if __name__ == "__main__":
    main()
