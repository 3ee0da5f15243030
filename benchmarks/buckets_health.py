"""initialize_buckets request counts, health probe return times, and orphan-cleaner memory.

Run: .venv/bin/python benchmarks/buckets_health.py [--objects N]
(starts Ceph RGW when installed, else moto). Writes benchmarks/results/buckets_health.md.
"""

from __future__ import annotations

import argparse
import io
import socket
import sys
import threading
import time
import tracemalloc
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django
from django.conf import settings

RESULTS = Path(__file__).resolve().parent / "results" / "buckets_health.md"
MEDIA = "django_minio_backend.models.MinioBackend"


def setup(server) -> None:
    settings.configure(
        SECRET_KEY="benchmarks-only",
        USE_TZ=True,
        INSTALLED_APPS=["django.contrib.contenttypes", "django_minio_backend", "tests.testapp"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        STORAGES={"default": {"BACKEND": MEDIA, "OPTIONS": server.storage_options()}},
    )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def initialize(server, count: int) -> list[str]:
    from django_minio_backend.ops.buckets import initialize_buckets

    from tests.support import CountingPoolManager

    tag = uuid.uuid4().hex[:6]
    private = [f"bh-{tag}-p{i}" for i in range(count // 2)]
    public = [f"bh-{tag}-q{i}" for i in range(count - count // 2)]
    counter = CountingPoolManager()
    settings.STORAGES = {
        "default": {
            "BACKEND": MEDIA,
            "OPTIONS": server.storage_options(
                MINIO_PRIVATE_BUCKETS=private,
                MINIO_PUBLIC_BUCKETS=public,
                MINIO_DEFAULT_BUCKET=private[0],
                MINIO_HTTP_CLIENT=counter,
            ),
        }
    }
    rows = []
    for run in ("first run", "rerun"):
        counter.reset()
        started = time.perf_counter()
        results = initialize_buckets()
        elapsed = time.perf_counter() - started
        assert all(result.ok for result in results), [r.error for r in results if not r.ok]
        rows.append(
            f"| {count} ({len(private)} private, {len(public)} public) | {run} | {len(counter.requests)} "
            f"| {', '.join(f'{m} {counter.methods().count(m)}' for m in ('GET', 'PUT'))} | {elapsed:.2f} |"
        )
    return rows


def probe_times() -> list[str]:
    from django_minio_backend.conf.options import parse_options
    from django_minio_backend.core import health

    rows = []
    for timeout in (1.0, 3.0):
        for label, (endpoint, cleanup) in _dead_ports().items():
            options = parse_options(
                {
                    "MINIO_ENDPOINT": endpoint,
                    "MINIO_ACCESS_KEY": "a",
                    "MINIO_SECRET_KEY": "b",
                    "MINIO_HEALTH_CHECK_TIMEOUT": timeout,
                }
            )
            started = time.perf_counter()
            status = health.probe(options)
            elapsed = time.perf_counter() - started
            cleanup()
            reason = status.details.split(": ", 1)[1]
            rows.append(f"| {label} | {timeout:g} | {elapsed:.3f} | {reason[:70]} |")
    return rows


def _dead_ports():
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    held = []

    def accept():
        while True:
            try:
                held.append(silent.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()

    full = socket.socket()
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(full.getsockname())
        fillers.append(filler)

    def close_silent():
        silent.close()
        for connection in held:
            connection.close()

    def close_full():
        for filler in fillers:
            filler.close()
        full.close()

    return {
        "closed port": (f"127.0.0.1:{closed_port}", lambda: None),
        "accepts, never answers": (f"127.0.0.1:{silent.getsockname()[1]}", close_silent),
        "backlog full, never accepts": (f"127.0.0.1:{full.getsockname()[1]}", close_full),
    }


def cleaner_memory(server, objects: int) -> list[str]:
    from django.core.management import call_command

    from tests.testapp.models import PrivateAttachment

    bucket = "test-private"  # the bucket of tests.testapp's PrivateAttachment storage
    server.client().make_bucket(bucket_name=bucket)
    settings.STORAGES = {
        "default": {
            "BACKEND": MEDIA,
            "OPTIONS": server.storage_options(MINIO_PRIVATE_BUCKETS=[bucket], MINIO_DEFAULT_BUCKET=bucket),
        }
    }
    names = [f"seed/{i:07d}.bin" for i in range(objects)]
    client = server.client()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(
            pool.map(
                lambda key: client.put_object(
                    bucket_name=bucket, object_name=key, data=io.BytesIO(b"x"), length=1
                ),
                names,
            )
        )
    seeded = time.perf_counter() - started
    # Half the objects are referenced by rows (of a model whose storage is this bucket).
    rows = [PrivateAttachment(file=name) for name in names[::2]]
    PrivateAttachment.objects.bulk_create(rows, batch_size=2000)
    tracemalloc.start()
    started = time.perf_counter()
    out = io.StringIO()
    call_command("clean_orphaned_minio_files", "--min-age", "0", "--noinput", "--bucket", bucket, stdout=out)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    remaining = sum(1 for _ in client.list_objects(bucket_name=bucket, recursive=True))
    return [
        f"| {objects} | {len(rows)} | {seeded:.1f} | {elapsed:.1f} | {peak / 1024 / 1024:.1f} | {remaining} |",
        f"\n`{out.getvalue().strip()}`",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=10000)
    args = parser.parse_args()
    from django_minio_backend.testing import start_server

    with start_server() as running:
        server = running.server
        setup(server)
        lines = [
            "# Buckets, health probe and orphan cleaner",
            "",
            f"Server: {server.kind}. Measured by `benchmarks/buckets_health.py` on the shared 2-core machine.",
            "",
            "## initialize_buckets: requests for N buckets",
            "",
            "| buckets | run | requests | by method | seconds |",
            "| --- | --- | --- | --- | --- |",
        ]
        for count in (10, 50):
            lines += initialize(server, count)
        lines += [
            "",
            "## Health probe against dead ports (MINIO_HEALTH_CHECK_TIMEOUT)",
            "",
            "| port | timeout s | returned after s | reason |",
            "| --- | --- | --- | --- |",
            *probe_times(),
            "",
            "## clean_orphaned_minio_files: half the objects referenced, all older than --min-age 0",
            "",
            "| objects | rows | seed s | clean s | peak Python heap MiB (tracemalloc) | objects left |",
            "| --- | --- | --- | --- | --- | --- |",
            *cleaner_memory(server, args.objects),
        ]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
