"""url() on a private object: S3 requests per call and time per call, with the URL cache off and on.

Run: .venv/bin/python benchmarks/url_cache.py  (starts Ceph RGW when installed, else moto, and a
redis-server on a free loopback port when one is installed). Writes benchmarks/results/url_cache.md.

A miss is timed on the same object after its entry was deleted (the delete is not timed); a hit
is timed after one priming call. S3 requests are counted by a counting PoolManager; Redis
commands by the server's own total_commands_processed counter.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._django import PRIVATE, configure, create_buckets

from tests.support.processes import redis_server

CALLS = 2000
RESULTS = Path(__file__).resolve().parent / "results" / "url_cache.md"


@contextmanager
def optional_redis() -> Iterator[int | None]:
    """A throwaway redis-server's port, or None when redis-server is not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    with redis_server(binary) as port:
        yield port


def timed_calls(call: Callable[[], str], before_each: Callable[[], None] | None = None) -> list[float]:
    """Microseconds per call, timing only ``call``."""
    times = []
    for _ in range(CALLS):
        if before_each:
            before_each()
        start = time.perf_counter_ns()
        call()
        times.append((time.perf_counter_ns() - start) / 1000)
    return times


def redis_commands(port: int | None) -> int:
    if port is None:
        return 0
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        return int(client.info("stats")["total_commands_processed"])
    finally:
        client.close()


def run(server, redis_port: int | None) -> list[tuple[str, str, float, float, float]]:
    import urllib3
    from django.core.cache import caches
    from django.core.files.base import ContentFile
    from django.test import override_settings

    from django_minio_backend.models import MinioBackend
    from django_minio_backend.storage import urlcache

    from tests.support import CountingPoolManager

    pool = CountingPoolManager()
    plain = MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_HTTP_CLIENT=pool)
    name = plain.save(f"bench-{time.time_ns()}/private.txt", ContentFile(b"private bytes"))
    assert urllib3.PoolManager().request("GET", plain.url(name)).data == b"private bytes"

    rows = []

    def measure(label: str, storage: MinioBackend, kind: str, before_each=None, port=None) -> None:
        pool.reset()
        commands = redis_commands(port)
        times = timed_calls(lambda: storage.url(name), before_each)
        commands = redis_commands(port) - commands - 1  # less the INFO itself
        if before_each:
            commands -= CALLS  # less the untimed DEL before each miss
        s3_requests = len(pool.requests) / CALLS
        assert s3_requests == 0, pool.requests[:5]
        cache_ops = f"{commands / CALLS:.2f}" if port else "-"
        rows.append((label, kind, s3_requests, statistics.median(times), statistics.fmean(times), cache_ops))

    measure("caching off (sign every call)", plain, "-")

    cache_configs = [("locmem", {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}, None)]
    if redis_port:
        redis_config = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{redis_port}",
        }
        cache_configs.append(("redis", redis_config, redis_port))
    for label, config, port in cache_configs:
        with override_settings(CACHES={"default": config}):
            cached = MinioBackend(
                bucket_name=PRIVATE,
                storage_name="default",
                MINIO_HTTP_CLIENT=pool,
                MINIO_URL_CACHING_ENABLED=True,
            )
            entry_key = urlcache.cache_key(cached.store, cached.store.key(name))
            cache = caches["default"]
            cached.url(name)  # opens the cache connection
            measure(
                f"caching on, {label}: miss", cached, label, lambda c=cache, k=entry_key: c.delete(k), port
            )
            cached.url(name)
            measure(f"caching on, {label}: hit", cached, label, None, port)
            cache.clear()
    return rows


def write(server, rows, redis_available: bool) -> None:
    lines = [
        "# url() on a private object: the URL cache",
        "",
        f"Server: {server.kind}. Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
        f"`benchmarks/url_cache.py`, {CALLS} calls per row, Python {sys.version.split()[0]}, "
        f"on a 2-core machine shared with other work (load average {os.getloadavg()[0]:.1f} at the end; "
        "times are indicative, medians are the steadier figure).",
        "",
        "| scenario | S3 requests per call | Redis commands per call | median µs per call | mean µs per call |",
        "|---|---|---|---|---|",
    ]
    for label, _kind, requests, median, mean, cache_ops in rows:
        lines.append(f"| {label} | {requests:.0f} | {cache_ops} | {median:.1f} | {mean:.1f} |")
    lines += [
        "",
        "S3 requests are counted client-side through a counting PoolManager: url() never asks the S3 "
        "server anything, with the cache off, on a miss or on a hit. A miss signs the URL and stores it "
        "(Redis: GET + SET); a hit is one cache GET.",
        "",
        "Signing is local HMAC work of about a tenth of a millisecond. A local-memory hit is cheaper "
        "than that; a hit on a cache server costs a network round trip, which can cost more than "
        "signing. The cache's lasting gain is a stable URL per object for the cache period, so browsers "
        "and CDNs can reuse what they downloaded.",
    ]
    if not redis_available:
        lines += ["", "redis-server was not installed, so the Redis rows are missing."]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")


def main() -> None:
    from django_minio_backend.testing import start_server

    with start_server() as running, optional_redis() as redis_port:
        server = running.server
        configure(server.storage_options())
        create_buckets(server.client(), server.region)
        rows = run(server, redis_port)
        write(server, rows, redis_port is not None)
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
