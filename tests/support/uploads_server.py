"""Run tests/system/uploads_project under waitress for the direct-upload browser tests.

``uploads_server(s3_server, bucket, workdir, external=...)`` creates the database and an admin
user, starts waitress on a free loopback port, and stops it by pid. ``external`` is the endpoint
browsers are sent to (a fault proxy in front of the S3 server, say).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django_minio_backend.testing._process import LOOPBACK, free_ports, http_status, kill_pid, reap, tail

from . import ROOT

ADMIN_USER, ADMIN_PASSWORD = "uploader", "uploader-pass-1"
SETTINGS = "tests.system.uploads_project.settings"
CREATE_ADMIN = (
    "import django; django.setup(); from django.contrib.auth.models import User; "
    f"User.objects.create_superuser({ADMIN_USER!r}, 'u@example.com', {ADMIN_PASSWORD!r})"
)


@dataclass
class UploadsServer:
    port: int
    process: subprocess.Popen

    @property
    def base(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def stats(self) -> dict:
        """Requests and body bytes Django received so far, and its peak RSS."""
        with urllib.request.urlopen(f"{self.base}/stats/", timeout=10) as response:
            return json.loads(response.read())


def environment(s3_server, bucket: str, workdir: Path, external: str | None) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "UPLOADS_DB": str(workdir / "uploads.sqlite3"),
        "UPLOADS_BUCKET": bucket,
        "MINIO_ENDPOINT": s3_server.endpoint,
        "MINIO_EXTERNAL_ENDPOINT": external or "",
        "MINIO_ACCESS_KEY": s3_server.access_key,
        "MINIO_SECRET_KEY": s3_server.secret_key,
        "MINIO_REGION": s3_server.region or "",
        "PYTHONPATH": str(ROOT),
    }


@contextmanager
def uploads_server(
    s3_server, bucket: str, workdir: Path, *, external: str | None = None
) -> Iterator[UploadsServer]:
    workdir.mkdir(parents=True, exist_ok=True)
    env = environment(s3_server, bucket, workdir, external)
    manage = [sys.executable, "-m", "django"]
    subprocess.run(
        [*manage, "migrate", "--run-syncdb", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    subprocess.run([sys.executable, "-c", CREATE_ADMIN], cwd=ROOT, env=env, check=True, timeout=60)
    (port,) = free_ports(1)
    log = workdir / "waitress.log"
    command = [sys.executable, "-m", "waitress", f"--listen={LOOPBACK}:{port}", "--threads=8",
               "tests.system.uploads_project.wsgi:application"]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    running = UploadsServer(port, process)
    try:
        deadline = time.monotonic() + 30
        while http_status(f"{running.base}/stats/") is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the uploads project did not start:\n{tail(log)}")
            time.sleep(0.1)
        yield running
    finally:
        kill_pid(process.pid)
        reap(process)
