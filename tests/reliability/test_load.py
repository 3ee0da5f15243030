"""Load: 16 threads x 200 mixed operations on one storage instance."""

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import urllib3
from django.core.files.base import ContentFile

from django_minio_backend.core.connection import POOL_SIZE
from django_minio_backend.models import MinioBackend

from tests.support import PRIVATE

THREADS = 16
OPS_PER_THREAD = 200
http = urllib3.PoolManager()


def worker(storage, prefix, seed, barrier):
    """Run OPS_PER_THREAD random operations; return (ops done, problems found, objects kept)."""
    rng = random.Random(seed)
    mine: dict[str, bytes] = {}
    problems = []
    barrier.wait()
    for step in range(OPS_PER_THREAD):
        choice = rng.choice(["save", "save", "open", "exists", "url", "delete"]) if mine else "save"
        if choice == "save":
            payload = f"{seed}:{step}:".encode() * rng.randint(1, 400)
            saved = storage.save(f"{prefix}/shared.txt", ContentFile(payload))
            if saved in mine:
                problems.append(f"{saved} was handed out twice")
            mine[saved] = payload
            continue
        saved = rng.choice(list(mine))
        if choice == "open":
            with storage.open(saved) as handle:
                if handle.read() != mine[saved]:
                    problems.append(f"{saved} corrupted")
        elif choice == "exists":
            if not storage.exists(saved):
                problems.append(f"{saved} missing")
        elif choice == "url":
            if "X-Amz-Signature=" not in storage.url(saved):
                problems.append(f"{saved} url unsigned")
        else:
            storage.delete(saved)  # another thread may take the freed name at once
            del mine[saved]
    return OPS_PER_THREAD, problems, mine


def test_16_threads_x_200_mixed_operations(minio_settings, proxy, name):
    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_ENDPOINT=proxy.endpoint)
    barrier = threading.Barrier(THREADS)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(lambda seed: worker(storage, name, seed, barrier), range(THREADS)))
    elapsed = time.perf_counter() - started
    problems = [problem for _, found, _ in results for problem in found]
    assert problems == []
    assert sum(done for done, _, _ in results) == THREADS * OPS_PER_THREAD
    pool = storage.store.connection.http.connection_from_url(storage.base_url)
    # urllib3 counts every connection object it creates, and each holds at most one socket: the
    # storage never had more than POOL_SIZE connections open, and never had to discard one.
    assert pool.num_connections <= POOL_SIZE
    peak = proxy.peak_connections  # as seen by the proxy, which notices closed sockets a bit late
    for _, _, survivors in results:  # spot-check survivors through their URLs
        for saved, payload in list(survivors.items())[:2]:
            assert http.request("GET", storage.url(saved)).data == payload
    print(
        f"\nload: {THREADS * OPS_PER_THREAD} ops in {elapsed:.1f} s, {len(proxy.requests)} requests, "
        f"{pool.num_connections} pooled connections (pool {POOL_SIZE}), "
        f"{proxy.connections_total} TCP connections, peak {peak} at once at the proxy"
    )
