"""Throw-away programs for tests: a Redis server, fake Ceph binaries, and what a failed start leaves."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from django_minio_backend.testing._process import free_ports, pid_alive


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


def fake_programs(directory: Path, names: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    """Put programs called ``names`` first on PATH; each prints 'fake <name> failed' and exits 1."""
    directory.mkdir()
    for name in names:
        script = directory / name
        script.write_text(f"#!/bin/sh\necho 'fake {name} failed' >&2\nexit 1\n")
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ['PATH']}")


def processes_using(path: Path) -> list[int]:
    """Live processes whose command line mentions ``path``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(path).encode() in cmdline.read_bytes() and pid_alive(int(cmdline.parent.name)):
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


def assert_start_left_nothing(error: BaseException) -> None:
    """A failed start named its work directory, removed it, and left no process using it."""
    match = re.search(r"work directory (\S+), now removed", str(error))
    assert match, str(error)
    workdir = Path(match.group(1))
    assert not workdir.exists()
    assert processes_using(workdir) == []
