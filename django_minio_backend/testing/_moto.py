"""Start moto's S3 server as a subprocess on a free loopback port."""

from __future__ import annotations

import importlib.util
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ._process import LOOPBACK, free_ports, http_status, retry_on_lost_port, tail
from .server import RunningServer, S3Server

logger = logging.getLogger("django_minio_backend.testing")

# moto accepts any credentials; these only have to look plausible.
ACCESS_KEY = "testing-access-key"
SECRET_KEY = "testing-secret-key"
READY_TIMEOUT = 30.0
# What moto's server does not do (S3Server.lacks): it checks no signature, secret or expiry, serves
# anonymous requests a real server refuses, and has no KMS key, extra storage class or STS role here.
LACKS = frozenset({"signatures", "anonymous-403", "sse-kms", "storage-classes", "sts"})


def _check_installed() -> None:
    for module in ("moto", "flask", "flask_cors"):
        if importlib.util.find_spec(module) is None:
            raise RuntimeError(
                f"the moto S3 test server needs the Python module {module!r}, which is not "
                'installed: pip install "moto[server]" (or "django-minio-backend[testing]")'
            )


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    # werkzeug prints "Running on <url>" only once it has bound the port, so a 200 from a
    # different server that grabbed the port first is not mistaken for ours.
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with code {process.returncode}:\n{tail(log)}")
        if f"Running on {url}" in log.read_text(errors="replace") and http_status(url + "/") == 200:
            return
        time.sleep(0.05)
    raise RuntimeError(f"moto server not ready at {url} after {READY_TIMEOUT:.0f} s:\n{tail(log)}")


def _start_once() -> RunningServer:
    started = time.monotonic()
    port = free_ports(1)[0]
    workdir = Path(tempfile.mkdtemp(prefix="dmb-moto-"))
    log = workdir / "moto.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            start_new_session=True,
        )
    server = S3Server(
        kind="moto", endpoint=f"{LOOPBACK}:{port}", access_key=ACCESS_KEY, secret_key=SECRET_KEY, lacks=LACKS
    )
    running = RunningServer(server, pids=(process.pid,), workdir=workdir, children=(process,))
    try:
        _wait_ready(process, server.url, log)
    except BaseException:
        running.stop()
        raise
    running.startup_seconds = time.monotonic() - started
    logger.info("moto S3 server ready at %s in %.2f s", server.url, running.startup_seconds)
    return running


def start_moto() -> RunningServer:
    """Start ``python -m moto.server`` on 127.0.0.1 and wait until it answers.

    A start that lost its port to another process before binding it is retried.
    """
    _check_installed()
    return retry_on_lost_port(_start_once, "moto")
