"""Test helpers: a PoolManager that counts the requests a storage makes."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import urllib3

from django_minio_backend.testing._process import free_ports


class CountingPoolManager(urllib3.PoolManager):
    """Records (method, path) of every request; pass it as MINIO_HTTP_CLIENT."""

    def __init__(self, **kwargs):
        kwargs.setdefault("timeout", urllib3.Timeout(connect=5, read=60))
        kwargs.setdefault("maxsize", 16)  # as the default pool: parallel uploads reuse connections
        super().__init__(**kwargs)
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self.active = 0
        self.peak_active = 0  # the most requests in flight at once

    def urlopen(self, method, url, redirect=True, **kwargs):
        with self._lock:
            self.requests.append((method, urlsplit(url).path))
            self.active += 1
            self.peak_active = max(self.peak_active, self.active)
        try:
            return super().urlopen(method, url, redirect=redirect, **kwargs)
        finally:
            with self._lock:
                self.active -= 1

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.peak_active = 0

    def methods(self) -> list[str]:
        return [method for method, _ in self.requests]


@contextmanager
def redis_server(binary: str) -> Iterator[int]:
    """A throwaway redis-server on a free 127.0.0.1 port, without persistence, stopped by its pid."""
    import redis

    port = free_ports(1)[0]
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on 127.0.0.1:{port}") from None
                time.sleep(0.05)
        client.close()
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
