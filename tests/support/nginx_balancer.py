"""Run docker/nginx.conf with Debian's nginx in front of the cluster's Ceph gateways.

Only what cannot be the same outside Docker is rendered: the upstream addresses (minio1..minio4
become the gateways, in turn), the listen addresses (free 127.0.0.1 ports) and the paths nginx
writes to (this run's directory). Everything else, proxy settings included, is the file as shipped.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from django_minio_backend.testing._process import LOOPBACK, free_ports, http_status, kill_pid, reap, tail

from . import ROOT

CONFIG = ROOT / "docker" / "nginx.conf"


def render(text: str, gateways: Sequence[str], ports: dict[str, int], workdir: Path) -> str:
    """docker/nginx.conf with ``minioN:P`` -> a gateway, ``listen P`` -> 127.0.0.1:ports[P]."""

    def upstream(match: re.Match[str]) -> str:
        return f"server {gateways[(int(match.group(1)) - 1) % len(gateways)]};"

    text, count = re.subn(r"server minio(\d+):\d+;", upstream, text)
    if count == 0:
        raise ValueError("docker/nginx.conf has no `server minioN:PORT;` upstream lines")
    for port, local in ports.items():
        text, count = re.subn(rf"listen {port};", f"listen {LOOPBACK}:{local};", text)
        if count != 1:
            raise ValueError(f"docker/nginx.conf should listen on {port} once, found {count}")
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
    return text.replace("http {\n", "http {\n" + paths, 1)


@contextmanager
def nginx_in_front_of(gateways: Sequence[str], workdir: Path) -> Iterator[str]:
    """Start nginx with the rendered config; yield its S3 endpoint; stop it by pid."""
    s3_port, console_port = free_ports(2)
    config = workdir / "nginx.conf"
    config.write_text(render(CONFIG.read_text(), gateways, {"9000": s3_port, "9001": console_port}, workdir))
    error_log = workdir / "error.log"
    globals_ = f"daemon off; pid {workdir / 'nginx.pid'}; error_log {error_log};"
    argv = ["nginx", "-p", str(workdir), "-e", str(error_log), "-c", str(config), "-g", globals_]
    process = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    endpoint = f"{LOOPBACK}:{s3_port}"
    try:
        deadline = time.monotonic() + 15
        while http_status(f"http://{endpoint}/") != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not serve docker/nginx.conf:\n{tail(error_log)}")
            time.sleep(0.05)
        yield endpoint
    finally:
        kill_pid(process.pid, group=True)
        reap(process)
