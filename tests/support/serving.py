"""Run tests/system/serving_project under uvicorn (ASGI) or waitress (WSGI), and download from it.

``served(kind, s3_server, bucket)`` starts the server on a free loopback port in a subprocess and
stops it by pid; ``peak_rss()`` reads the process's VmHWM (its peak resident set) from /proc.
``download_all`` fetches URLs concurrently with plain sockets (http.client), hashing each body as it
arrives, so the client never holds a body in memory.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django_minio_backend.testing._process import LOOPBACK, free_ports, http_status, kill_pid, reap, tail

from . import ROOT

SERVERS = ("asgi", "wsgi")
START_TIMEOUT = 30.0
# waitress buffers what a slow client has not taken yet, up to 16 MiB per connection by default;
# 1 MiB keeps 50 downloads at a few MiB each (the app thread waits instead).
OUTBUF = 1024 * 1024


@dataclass
class Served:
    kind: str
    port: int
    process: subprocess.Popen

    @property
    def base(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def rss_kib(self, field: str) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
        raise RuntimeError(f"no {field} in /proc/{self.process.pid}/status")

    def peak_rss(self) -> int:
        """The server's peak resident set so far, in bytes."""
        return self.rss_kib("VmHWM") * 1024


def command(kind: str, port: int, threads: int) -> list[str]:
    if kind == "asgi":
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "tests.system.serving_project.asgi:application",
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
    return [
        sys.executable,
        "-m",
        "waitress",
        f"--listen={LOOPBACK}:{port}",
        f"--threads={threads}",
        "--connection-limit=200",
        f"--outbuf-high-watermark={OUTBUF}",
        "tests.system.serving_project.wsgi:application",
    ]


@contextmanager
def served(kind: str, s3_server, bucket: str, workdir: Path, *, threads: int = 50) -> Iterator[Served]:
    (port,) = free_ports(1)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.system.serving_project.settings",
        "SERVING_BUCKET": bucket,
        "MINIO_ENDPOINT": s3_server.endpoint,
        "MINIO_ACCESS_KEY": s3_server.access_key,
        "MINIO_SECRET_KEY": s3_server.secret_key,
        "MINIO_REGION": s3_server.region or "",
        "PYTHONPATH": str(ROOT),
    }
    log = workdir / f"{kind}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command(kind, port, threads), cwd=ROOT, env=env, stdout=out, stderr=out)
    running = Served(kind, port, process)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while http_status(f"{running.base}/stream/none") is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{kind} server did not start:\n{tail(log)}")
            time.sleep(0.1)
        yield running
    finally:
        kill_pid(process.pid)
        reap(process)


def fetch(
    url: str, headers: dict[str, str] | None = None, timeout: float = 300
) -> tuple[int, dict, str, int]:
    """(status, headers, sha256 of the body, body length) of one GET, read 256 KiB at a time."""
    parts = url.split("/", 3)
    host, port = parts[2].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request("GET", "/" + parts[3], headers=headers or {})
        response = connection.getresponse()
        digest, length = hashlib.sha256(), 0
        while chunk := response.read(256 * 1024):
            digest.update(chunk)
            length += len(chunk)
        return response.status, {k.lower(): v for k, v in response.getheaders()}, digest.hexdigest(), length
    finally:
        connection.close()


def download_all(url: str, count: int) -> tuple[list[tuple[int, dict, str, int]], float]:
    """``count`` concurrent GETs of ``url``: their results and the wall time they took."""
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=count) as pool:
        results = list(pool.map(lambda _: fetch(url), range(count)))
    return results, time.monotonic() - started
