"""Time to a ready embedded S3 server (moto and Ceph RGW), as the testing helper starts them.

Run: .venv/bin/python benchmarks/server_startup.py [--runs N] [--kinds moto,rgw]
Writes benchmarks/results/server_startup.md. "ready" is when start_server() returns (the server
answered an S3 request); "first request" then times one ListBuckets with a fresh client.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django_minio_backend.testing import start_server
from django_minio_backend.testing._rgw import available as rgw_available

RESULTS = Path(__file__).resolve().parent / "results" / "server_startup.md"


def one_run(kind: str) -> dict[str, float]:
    load = os.getloadavg()[0]
    started = time.monotonic()
    running = start_server(kind)
    ready = time.monotonic() - started
    try:
        before = time.monotonic()
        running.server.client().list_buckets()
        first = time.monotonic() - before
    finally:
        before = time.monotonic()
        running.stop()
        stopped = time.monotonic() - before
    return {"load": load, "ready": ready, "first": first, "stop": stopped}


def row(kind: str, runs: list[dict[str, float]]) -> str:
    ready = [r["ready"] for r in runs]
    loads = [r["load"] for r in runs]
    return (
        f"| {kind} | {len(runs)} | {statistics.median(ready):.2f} | {min(ready):.2f} | {max(ready):.2f} "
        f"| {statistics.median(r['first'] for r in runs) * 1000:.0f} "
        f"| {statistics.median(r['stop'] for r in runs):.2f} | {min(loads):.1f}-{max(loads):.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--kinds", default="moto,rgw")
    args = parser.parse_args()
    kinds = [k for k in args.kinds.split(",") if k != "rgw" or rgw_available()]
    lines = [
        "# Time to a ready embedded S3 server",
        "",
        "Measured by `benchmarks/server_startup.py` on the shared 2-core machine (other engineers'",
        "work running too: the load column is the 1-minute load average before each start).",
        "",
        "| server | runs | ready s (median) | min | max | first ListBuckets ms | stop s | load |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind in kinds:
        runs = [one_run(kind) for _ in range(args.runs)]
        lines.append(row(kind, runs))
        print(lines[-1], flush=True)
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
