"""Test helpers: a PoolManager that counts the requests a storage makes."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import urllib3


class CountingPoolManager(urllib3.PoolManager):
    """Records (method, path) of every request; pass it as MINIO_HTTP_CLIENT."""

    def __init__(self, **kwargs):
        kwargs.setdefault("timeout", urllib3.Timeout(connect=5, read=60))
        super().__init__(**kwargs)
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def urlopen(self, method, url, redirect=True, **kwargs):
        with self._lock:
            self.requests.append((method, urlsplit(url).path))
        return super().urlopen(method, url, redirect=redirect, **kwargs)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    def methods(self) -> list[str]:
        return [method for method, _ in self.requests]
