"""The README's nginx snippet for mode="accel", run by Debian's nginx in front of the serving
project (waitress) and the test S3 server: the bytes go from S3 through nginx, never through Django."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import time
from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile

from django_minio_backend.testing._process import LOOPBACK, free_ports, http_status, kill_pid, reap, tail

from tests.support import PRIVATE, ROOT
from tests.support.serving import fetch, served

TOKEN = "token=let-me-in"


def readme_snippet() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Serving private files", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```nginx\n(.*?)```", section, re.S)
    return block


def render(snippet: str, django_port: int, s3_endpoint: str, port: int, workdir) -> str:
    replacements = {
        "server django:8000;": f"server {LOOPBACK}:{django_port};",
        "server minio:9000;": f"server {s3_endpoint};",
        "proxy_set_header Host minio:9000;": f"proxy_set_header Host {s3_endpoint};",
        "listen 8080;": f"listen {LOOPBACK}:{port};",
    }
    for old, new in replacements.items():
        assert snippet.count(old) == 1, f"the README's nginx snippet should contain {old!r} once"
        snippet = snippet.replace(old, new)
    paths = "".join(
        f"    {directive} {workdir / name};\n"
        for directive, name in (
            ("access_log", "access.log"),
            ("client_body_temp_path", "body"),
            ("proxy_temp_path", "proxy"),
            ("fastcgi_temp_path", "fastcgi"),
            ("uwsgi_temp_path", "uwsgi"),
            ("scgi_temp_path", "scgi"),
        )
    )
    return f"events {{}}\nhttp {{\n{paths}{snippet}}}\n"


@pytest.fixture
def nginx_front(s3_server, s3_buckets, tmp_path):
    if shutil.which("nginx") is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    with served("wsgi", s3_server, PRIVATE, tmp_path) as app:
        (port,) = free_ports(1)
        config = tmp_path / "nginx.conf"
        config.write_text(render(readme_snippet(), app.port, s3_server.endpoint, port, tmp_path))
        error_log = tmp_path / "error.log"
        argv = [
            "nginx",
            "-p",
            str(tmp_path),
            "-e",
            str(error_log),
            "-c",
            str(config),
            "-g",
            f"daemon off; pid {tmp_path / 'nginx.pid'}; error_log {error_log};",
        ]
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        base = f"http://{LOOPBACK}:{port}"
        try:
            deadline = time.monotonic() + 15
            while http_status(f"{base}/accel/none") is None:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start:\n{tail(error_log)}")
                time.sleep(0.1)
            yield base, app, tmp_path
        finally:
            kill_pid(process.pid)
            reap(process)


def test_accel_redirect_through_the_readme_nginx_config(nginx_front, s3_server):
    from django_minio_backend.models import MinioBackend

    base, app, workdir = nginx_front
    storage = MinioBackend(bucket_name=PRIVATE, **s3_server.storage_options(MINIO_PRIVATE_BUCKETS=[PRIVATE]))
    payload = os.urandom(3_000_000)
    name = storage.save(f"nginx-{os.getpid()}/résumé final+1.bin", ContentFile(payload))
    try:
        url = f"{base}/accel/{quote(name)}?{TOKEN}"
        status, headers, sha, length = fetch(url)
        assert (status, length) == (200, len(payload)), tail(workdir / "error.log")
        assert sha == hashlib.sha256(payload).hexdigest()
        assert "x-accel-redirect" not in headers and headers["etag"]
        status, ranged, sha, length = fetch(url, {"Range": "bytes=100-199"})
        assert (status, length) == (206, 100) and sha == hashlib.sha256(payload[100:200]).hexdigest()
        assert ranged["content-range"] == f"bytes 100-199/{len(payload)}"
        assert fetch(url, {"If-None-Match": headers["etag"]})[0] == 304
        assert fetch(f"{base}/accel/{quote(name)}")[0] == 404  # the policy, in Django
        assert fetch(f"{base}/_minio_private/{PRIVATE}/{quote(name)}")[0] == 404  # internal only
        # Django answered with headers alone: its peak RSS did not take the file
        assert app.peak_rss() < 200 * 1024 * 1024
    finally:
        storage.delete(name)
