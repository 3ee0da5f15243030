"""Small process, port and HTTP helpers shared by the server starters."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

logger = logging.getLogger("django_minio_backend.testing")
T = TypeVar("T")

LOOPBACK = "127.0.0.1"


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct TCP ports that are free on the loopback interface right now."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((LOOPBACK, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie (exited, not yet reaped) counts as gone."""
    stat = Path(f"/proc/{pid}/stat")
    if Path("/proc/self/stat").exists():
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def _signal(pid: int, sig: int, group: bool) -> None:
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def kill_pid(pid: int, *, group: bool = False, grace: float = 5.0, sig: int = signal.SIGTERM) -> None:
    """Send ``sig`` to ``pid`` (or its process group), then SIGKILL if it outlives ``grace`` seconds."""
    if not pid_alive(pid):
        return
    _signal(pid, sig, group)
    if wait_until(lambda: not pid_alive(pid), grace):
        return
    _signal(pid, signal.SIGKILL, group)
    wait_until(lambda: not pid_alive(pid), 5.0)


def reap(child: subprocess.Popen[bytes]) -> None:
    """Collect the exit status of a child that was killed, so it leaves no zombie."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=10)


def http_status(url: str, timeout: float = 1.0) -> int | None:
    """Status of an anonymous GET of ``url``, or None when nothing answers."""
    import urllib3

    pool = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=timeout))
    try:
        return pool.request("GET", url).status
    except urllib3.exceptions.HTTPError:
        return None
    finally:
        pool.clear()


def tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a text file, or an empty string if it cannot be read."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


PORT_START_ATTEMPTS = 3


def retry_on_lost_port(start_once: Callable[[], T], label: str) -> T:
    """Run ``start_once``; if another process took a chosen port before we bound it, try again.

    Ports are picked free and then handed to the server, so a busy machine can lose one in between.
    """
    for attempt in range(1, PORT_START_ATTEMPTS + 1):
        try:
            return start_once()
        except RuntimeError as exc:
            if attempt == PORT_START_ATTEMPTS or "Address already in use" not in str(exc):
                raise
            logger.info("%s lost a port to another process, retrying with new ports", label)
    raise AssertionError("unreachable")
