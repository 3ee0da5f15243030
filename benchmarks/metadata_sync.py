"""sync_minio_metadata on 1,000 objects of which 100 are stale: requests by kind, and time.

Run: .venv/bin/python benchmarks/metadata_sync.py  (starts Ceph RGW when installed, else moto).
Writes benchmarks/results/metadata_sync.md.

900 objects are saved with the current MINIO_CACHE_CONTROL, 100 without it (stale). Then a dry
run, a real run and a second real run are measured, each counting requests through a counting
PoolManager given as MINIO_HTTP_CLIENT.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._django import PRIVATE, configure, create_buckets

OBJECTS, STALE = 1000, 100
RESULTS = Path(__file__).resolve().parent / "results" / "metadata_sync.md"
CACHE_CONTROL = "public, max-age=600"


def populate(prefix: str) -> None:
    from django.core.files.base import ContentFile

    from django_minio_backend.models import MinioBackend

    current = MinioBackend(bucket_name=PRIVATE, storage_name="default")
    old = MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_CACHE_CONTROL=None)

    def save(i: int) -> None:
        storage = old if i % (OBJECTS // STALE) == 0 else current
        storage.save(f"{prefix}/{i:05d}.txt", ContentFile(b"x" * 100))

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(save, range(OBJECTS)))


def measure(prefix: str, pool, *, dry_run: bool, workers: int) -> dict:
    from django_minio_backend.ops import metadata_sync

    (target,) = metadata_sync.plan_targets(aliases=["default"], buckets=[PRIVATE], prefix=prefix)
    pool.reset()
    start = time.perf_counter()
    report = metadata_sync.sync_bucket(target, dry_run=dry_run, workers=workers)
    seconds = time.perf_counter() - start
    assert not report.errors, report.errors[:3]
    return {
        "report": report,
        "methods": Counter(method for method, _ in pool.requests),
        "seconds": seconds,
    }


def main() -> None:
    from django_minio_backend.testing import start_server

    from tests.support import CountingPoolManager

    pool = CountingPoolManager(maxsize=16)
    with start_server() as running:
        server = running.server
        configure(server.storage_options(MINIO_HTTP_CLIENT=pool, MINIO_CACHE_CONTROL=CACHE_CONTROL))
        create_buckets(server.client(), server.region)
        prefix = f"sync-{time.time_ns()}"
        populate(prefix)
        runs = [
            ("dry run (--dry-run)", measure(prefix, pool, dry_run=True, workers=8)),
            ("sync, 8 workers", measure(prefix, pool, dry_run=False, workers=8)),
            ("second sync (all current)", measure(prefix, pool, dry_run=False, workers=8)),
        ]
        populate(prefix + "-serial")
        runs.append(("sync, 1 worker", measure(prefix + "-serial", pool, dry_run=False, workers=1)))
        write(server, runs)
    print(RESULTS.read_text())


def write(server, runs) -> None:
    lines = [
        f"# sync_minio_metadata: {OBJECTS:,} objects, {STALE} stale",
        "",
        f"Server: {server.kind}. Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
        f"`benchmarks/metadata_sync.py`, Python {sys.version.split()[0]}, on a 2-core machine shared "
        f"with other work (load average {os.getloadavg()[0]:.1f} at the end; times are indicative).",
        "",
        "| run | listed | up to date | copied (or would be) | LIST (GET) | HEAD | copy (PUT) | total requests | seconds |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, run in runs:
        report, methods = run["report"], run["methods"]
        changed = report.stale
        lines.append(
            f"| {label} | {report.listed} | {report.current} | {changed} | {methods['GET']} | "
            f"{methods['HEAD']} | {methods['PUT']} | {sum(methods.values())} | {run['seconds']:.2f} |"
        )
    lines += [
        "",
        "S3's ListObjectsV2 returns no headers, so reading the stored Cache-Control, Content-Type, "
        "... of each object costs one HEAD: 1 LIST + 1,000 HEADs to find the 100 stale objects. Each "
        "stale object is then rewritten by one server-side copy onto itself (a PUT with "
        "x-amz-copy-source, metadata directive REPLACE, conditional on the ETag the HEAD saw). No "
        "object body is downloaded or uploaded.",
        "",
        "On MinIO, the listing is asked for the metadata too (`include_user_meta`, MinIO's "
        "`metadata=true`); where it carries the headers, up-to-date objects need no HEAD. Ceph RGW "
        "and moto ignore the parameter.",
    ]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
