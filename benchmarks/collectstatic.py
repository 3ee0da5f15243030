"""collectstatic of 300 and 3000 files: requests by method and wall time, per storage.

Compares, against the same server:
- per-file flow: plain MinioBackend on a public bucket with MINIO_CONDITIONAL_WRITES = False
  (exists() + get_modified_time() per file, a DELETE before each replacing upload: what 4.x does),
- MinioBackendStatic (one listing per run, content-based change detection),
- MinioManifestStaticStorage (the same, plus hashed copies and the manifest).

Runs per storage: first (empty bucket), second (nothing changed), "1% edited", and "new checkout"
(every local mtime moved forward, content unchanged, as after a fresh build or git clone).
Each run uses a new storage instance, as a new deploy process would.

Run: .venv/bin/python benchmarks/collectstatic.py  (starts Ceph RGW when installed, else moto)
Writes benchmarks/results/collectstatic.md.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._django import configure

RESULTS = Path(__file__).resolve().parent / "results" / "collectstatic.md"
SIZES = tuple(int(n) for n in os.environ.get("BENCH_SIZES", "300,3000").split(","))
RUNS = ("first", "second, unchanged", "1% edited", "new checkout (mtimes newer)")
METHODS = ("LIST", "HEAD", "PUT", "DELETE", "GET")


def make_sources(root: Path, count: int) -> list[Path]:
    """``count`` files of 1-4 KiB: mostly images and JS, some CSS referring to the images."""
    paths = []
    for index in range(count):
        kind = ("img", "js", "img", "css", "js")[index % 5]
        ext = {"img": "svg", "js": "js", "css": "css"}[kind]
        path = root / kind / f"group{index % 17}" / f"file{index}.{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "css":
            image = f"../../img/group{(index - 3) % 17}/file{index - 3}.svg"
            body = f".c{index} {{ background: url('{image}'); }}\n"
        else:
            body = f"/* static file {index} */\n"
        path.write_text(body * (1 + index % 4) + " " * (1024 * (1 + index % 4)))
        paths.append(path)
    return paths


def edit_one_percent(paths: list[Path]) -> None:
    for path in paths[::100]:
        path.write_text(path.read_text() + f"/* edited {uuid.uuid4().hex} */\n")


def move_mtimes_forward(paths: list[Path]) -> None:
    later = time.time() + 3600
    for path in paths:
        os.utime(path, (later, later))


def by_method(pool, bucket: str) -> Counter:
    counts: Counter = Counter()
    for method, path in pool.requests:
        counts["LIST" if method == "GET" and path.rstrip("/") == f"/{bucket}" else method] += 1
    return counts


def build_storage(flow: str, bucket: str, pool):
    from django_minio_backend.models import MinioBackend, MinioBackendStatic, MinioManifestStaticStorage

    if flow == "per-file (plain MinioBackend, as 4.x)":
        return MinioBackend(  # without conditional writes, a new name costs a HEAD, as in 4.x
            bucket_name=bucket,
            storage_name="default",
            MINIO_PUBLIC_BUCKETS=[bucket],
            MINIO_CONDITIONAL_WRITES=False,
            MINIO_HTTP_CLIENT=pool,
        )
    cls = MinioBackendStatic if flow == "MinioBackendStatic" else MinioManifestStaticStorage
    return cls(storage_name="staticfiles", MINIO_STATIC_FILES_BUCKET=bucket, MINIO_HTTP_CLIENT=pool)


def run_flow(flow: str, count: int, server) -> list[tuple]:
    from django.conf import settings
    from django.contrib.staticfiles import finders
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.core.management import call_command

    from django_minio_backend import buckets
    from tests.helpers import CountingPoolManager

    bucket = f"bench-cs-{uuid.uuid4().hex[:10]}"
    client = server.client()
    buckets.create_bucket(client, bucket, region=server.region, public=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_sources(Path(tmp), count)
        settings.STATICFILES_DIRS = [tmp]
        finders.get_finder.cache_clear()
        for run in RUNS:
            if run.startswith("new checkout"):
                move_mtimes_forward(paths)
            elif run == "1% edited":
                edit_one_percent(paths)
            pool = CountingPoolManager()
            staticfiles_storage._wrapped = build_storage(flow, bucket, pool)
            started = time.perf_counter()
            call_command("collectstatic", interactive=False, verbosity=0)
            seconds = time.perf_counter() - started
            counts = by_method(pool, bucket)
            rows.append((count, flow, run, counts, sum(counts.values()), seconds))
            print(rows[-1], flush=True)
    from django_minio_backend.testing.cleanup import empty_bucket

    empty_bucket(server, bucket, client=client)
    client.remove_bucket(bucket_name=bucket)
    return rows


def main() -> None:
    from django_minio_backend.testing import start_server

    flows = ("per-file (plain MinioBackend, as 4.x)", "MinioBackendStatic", "MinioManifestStaticStorage")
    with start_server() as running:
        server = running.server
        configure(server.storage_options(), STATICFILES_DIRS=[])
        rows = [row for count in SIZES for flow in flows for row in run_flow(flow, count, server)]
    lines = [
        "# collectstatic: requests and wall time",
        "",
        f"Server: {server.kind} on 127.0.0.1, one process, no parallel uploads. Measured "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `benchmarks/collectstatic.py` "
        "(client-side counts through a counting PoolManager; LIST = ListObjectsV2 pages). "
        "Files are 1-4 KiB. Each run builds a new storage instance, like a new deploy process.",
        "",
        "| files | storage | run | " + " | ".join(METHODS) + " | total requests | wall time (s) |",
        "|---|---|---|" + "---|" * len(METHODS) + "---|---|",
        *[
            f"| {count} | {flow} | {run} | "
            + " | ".join(str(counts.get(method, 0)) for method in METHODS)
            + f" | {total} | {seconds:.2f} |"
            for count, flow, run, counts, total, seconds in rows
        ],
        "",
        "The per-file flow asks HEAD twice per file: exists() and get_modified_time() for a stored file, "
        "exists() and get_available_name() for a new one; it replaces a changed file with DELETE + PUT. "
        "MinioBackendStatic lists the bucket once per run and compares each file's size and MD5 "
        "with the listed size and ETag, so a new checkout (new mtimes, same content) uploads nothing, "
        "and a changed file costs one PUT. The manifest storage also uploads the hashed copies and "
        "staticfiles.json; Django rewrites every CSS/JS file it post-processes on each run; unchanged bytes are not uploaded again.",
    ]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
