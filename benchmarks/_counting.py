"""Count HTTP requests in a worker process, whatever S3 client sends them.

minio-py and botocore both send every request through ``urllib3``'s
``HTTPConnectionPool.urlopen`` (urllib3 retries call it again, so each attempt counts once).
Wrapping that one method counts the requests of all three contenders the same way, on the
client side, without a proxy in the data path. It is installed before any backend is imported.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any
from urllib.parse import urlsplit


class RequestLog:
    """Every request the process sent since the last ``reset``: (method, S3 action hint)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.entries: list[tuple[str, str]] = []

    def record(self, method: str, url: str, headers: Any = None) -> None:
        hint = _hint(method, url)
        names = {key.lower() for key in headers or ()}
        if "x-amz-copy-source" in names:
            hint += "(copy)"
        if "if-none-match" in names:
            hint += "(if-none-match)"
        with self._lock:
            self.entries.append((method, hint))

    def reset(self) -> None:
        with self._lock:
            self.entries.clear()

    def count(self) -> int:
        with self._lock:
            return len(self.entries)

    def breakdown(self) -> dict[str, int]:
        with self._lock:
            return dict(Counter(hint for _, hint in self.entries))


def _hint(method: str, url: str) -> str:
    """The method, with the S3 action where the method alone is ambiguous (path-style URLs)."""
    parts = urlsplit(url)
    query = parts.query
    on_bucket = "/" not in parts.path.strip("/")
    if method == "POST" and "uploads" in query:
        return "POST(create-multipart)"
    if method == "POST" and "uploadId" in query:
        return "POST(complete-multipart)"
    if method == "PUT" and "partNumber" in query:
        return "PUT(part)"
    if method == "DELETE" and "uploadId" in query:
        return "DELETE(abort-multipart)"
    if on_bucket and method == "GET":
        return "GET(list)" if "location" not in query else "GET(location)"
    if on_bucket:
        return f"{method}(bucket)"
    return method


LOG = RequestLog()


def install() -> RequestLog:
    """Wrap urllib3's connection-pool ``urlopen`` so every request is logged in ``LOG``."""
    from urllib3 import connectionpool

    pool_class = connectionpool.HTTPConnectionPool
    if getattr(pool_class.urlopen, "_bench_counting", False):
        return LOG
    original = pool_class.urlopen

    def urlopen(self, method, url, *args, **kwargs):
        LOG.record(method, url, kwargs.get("headers"))
        return original(self, method, url, *args, **kwargs)

    urlopen._bench_counting = True
    pool_class.urlopen = urlopen
    return LOG
