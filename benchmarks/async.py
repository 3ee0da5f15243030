"""The async API and the streaming view: event-loop stalls, aopen throughput, 50 downloads.

1. The loop's longest stall while two 64 MiB asave() and two 64 MiB aopen() reads run (a ticker
   task sleeps 1 ms and records how late it wakes), next to one sync save() called on the loop.
2. Reading 64 MiB: ``async for chunk in await aopen()`` against ``open().read()`` in 256 KiB chunks.
3. 50 concurrent downloads of a 64 MiB object from tests/system/serving_project under uvicorn (ASGI)
   and waitress (WSGI): the streaming private-file view against Django's plain
   ``FileResponse(storage.open(name))``; the server's peak RSS (VmHWM) and the wall time.

Writes benchmarks/results/async.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._django import PRIVATE, configure, create_buckets

RESULTS = Path(__file__).resolve().parent / "results" / "async.md"
MiB = 1024 * 1024
SIZE = 64 * MiB
DOWNLOADS = 50


async def ticker(stop: asyncio.Event, gaps: list[float]) -> None:
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(0.001)
        gaps.append(time.perf_counter() - before - 0.001)


async def stalls_while(work) -> tuple[float, float, float]:
    """(longest stall ms, 99th percentile ms, seconds) of the loop while ``work()`` runs."""
    stop, gaps = asyncio.Event(), []
    tick = asyncio.create_task(ticker(stop, gaps))
    await asyncio.sleep(0.01)  # the ticker is asleep when the work starts
    started = time.perf_counter()
    await work()
    seconds = time.perf_counter() - started
    stop.set()
    await tick
    gaps.sort()
    return gaps[-1] * 1000, gaps[min(int(len(gaps) * 0.99), len(gaps) - 1)] * 1000, seconds


def loop_rows(storage, payload: bytes) -> list[tuple[str, float, float, float]]:
    from django.core.files.base import ContentFile

    async def saves():
        names = await asyncio.gather(
            *(storage.asave("bench/async/s.bin", ContentFile(payload)) for _ in range(2))
        )
        await storage.adelete_many(names)

    name = storage.save("bench/async/r.bin", ContentFile(payload))

    async def reads():
        async def one():
            async with await storage.aopen(name) as handle:
                async for _ in handle:
                    pass

        await asyncio.gather(one(), one())

    async def blocking():
        storage.delete(storage.save("bench/async/b.bin", ContentFile(payload)))

    rows = [
        ("2 x asave(64 MiB) at once", *asyncio.run(stalls_while(saves))),
        ("2 x aopen() + async for over 64 MiB at once", *asyncio.run(stalls_while(reads))),
        ("for contrast: one sync save(64 MiB) called on the loop", *asyncio.run(stalls_while(blocking))),
    ]
    return rows, name


def throughput_rows(storage, name: str) -> list[tuple[str, float]]:
    rows = []
    for _ in range(2):  # the second round is reported; the first warms connections
        started = time.perf_counter()
        with storage.open(name) as handle:
            while handle.read(256 * 1024):
                pass
        sync = SIZE / MiB / (time.perf_counter() - started)

        async def read():
            async with await storage.aopen(name) as handle:
                async for _ in handle:
                    pass

        started = time.perf_counter()
        asyncio.run(read())
        asynchronous = SIZE / MiB / (time.perf_counter() - started)
        rows = [("open().read(256 KiB) loop", sync), ("async for chunk in await aopen()", asynchronous)]
    return rows


def download_rows(server, name: str, digest: str) -> list[tuple[str, str, float, float, float, bool]]:
    from tests.support.serving import download_all, fetch, served

    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for kind in ("asgi", "wsgi"):
            for label, path in (("streaming view", "stream"), ("FileResponse(storage.open())", "plain")):
                with served(kind, server, PRIVATE, Path(workdir)) as running:
                    fetch(f"{running.base}/stream/{name}?token=let-me-in", {"Range": "bytes=0-9"})
                    before = running.peak_rss()
                    results, seconds = download_all(
                        f"{running.base}/{path}/{name}?token=let-me-in", DOWNLOADS
                    )
                    peak = running.peak_rss()
                exact = all(status == 200 and sha == digest for status, _, sha, _ in results)
                rows.append((kind, label, peak / MiB, (peak - before) / MiB / DOWNLOADS, seconds, exact))
    return rows


def main() -> None:
    from django.core.files.base import ContentFile

    from django_minio_backend.files import offload
    from django_minio_backend.models import MinioBackend
    from django_minio_backend.testing import start_server

    with start_server() as running:
        server = running.server
        configure(server.storage_options())
        create_buckets(server.client(), server.region)
        storage = MinioBackend(bucket_name=PRIVATE, storage_name="default")
        payload = os.urandom(SIZE)
        digest = hashlib.sha256(payload).hexdigest()
        loop, name = loop_rows(storage, payload)
        speeds = throughput_rows(storage, name)
        big = storage.save("bench/async/big.bin", ContentFile(payload))
        del payload
        downloads = download_rows(server, big, digest)
        storage.delete_many([name, big])
    lines = [
        "# Async storage API and the streaming view",
        "",
        f"Server: {server.kind}. Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
        f"`benchmarks/async.py`, Python {sys.version.split()[0]}, async pool of {offload.WORKERS} threads, "
        f"on a 2-core machine that also runs the S3 server and the clients (load average "
        f"{os.getloadavg()[0]:.1f} at the end): times are indicative.",
        "",
        "## The event loop while 64 MiB moves",
        "",
        "A ticker task sleeps 1 ms in a loop; a stall is how much later than that it wakes.",
        "",
        "| work on the loop | longest stall (ms) | 99th percentile (ms) | seconds |",
        "|---|---|---|---|",
        *(f"| {label} | {worst:.1f} | {p99:.2f} | {seconds:.2f} |" for label, worst, p99, seconds in loop),
        "",
        "## Reading 64 MiB",
        "",
        "| how | MiB/s |",
        "|---|---|",
        *(f"| {label} | {speed:.0f} |" for label, speed in speeds),
        "",
        f"## {DOWNLOADS} concurrent downloads of one 64 MiB object",
        "",
        "uvicorn (one process) and waitress (50 threads, 1 MiB output buffer per connection), each in a "
        "subprocess; the client reads 50 connections at once and hashes every body. Peak RSS is the "
        "server's VmHWM; per download is (peak - peak before the downloads) / 50.",
        "",
        "| server | response | peak RSS (MiB) | MiB per download | seconds | every body exact |",
        "|---|---|---|---|---|---|",
        *(
            f"| {kind.upper()} | {label} | {peak:.0f} | {each:.1f} | {seconds:.1f} | {'yes' if exact else 'NO'} |"
            for kind, label, peak, each, seconds, exact in downloads
        ),
        "",
        "Under ASGI, Django's FileResponse over a synchronous file lists the whole body in memory before "
        "sending it (Django warns that it 'must consume synchronous iterators'); the streaming view "
        "iterates asynchronously, one 256 KiB chunk per download in flight. Under WSGI both stream; "
        "FileResponse reads the storage's file 4 KiB at a time (its block size) and grows more per "
        "download than the view.",
    ]
    RESULTS.write_text("\n".join(lines) + "\n")
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
