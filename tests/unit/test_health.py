"""The health probe against dead ports and bad settings: every failure is named, no server needed."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import urllib3

from django_minio_backend.conf.options import parse_options
from django_minio_backend.core import health
from django_minio_backend.models import MinioBackend

from tests.support import assert_probe_failed


def options_for(endpoint: str, **extra):
    return parse_options(
        {
            "MINIO_ENDPOINT": endpoint,
            "MINIO_ACCESS_KEY": "access",
            "MINIO_SECRET_KEY": "secret",
            "MINIO_HEALTH_CHECK_TIMEOUT": 0.5,
            **extra,
        }
    )


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A listener that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone does not
    listener.close()
    for connection in accepted:
        connection.close()
    thread.join(timeout=5)


@pytest.fixture
def full_backlog_port() -> Iterator[int]:
    """A listener that never accepts, with its backlog already full: new connects hang."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    listener.close()


def test_closed_port_is_connection_refused(closed_port):
    assert_probe_failed(
        health.probe(options_for(f"127.0.0.1:{closed_port}")), "connection refused", str(closed_port)
    )


def test_silent_port_times_out_with_the_configured_timeout(silent_port):
    status = health.probe(options_for(f"127.0.0.1:{silent_port}"))
    assert_probe_failed(status, "timed out", str(silent_port))
    assert status.details.endswith(("timed out after 0.5 s waiting for an answer", "no answer within 0.5 s"))


def test_port_that_never_accepts_times_out(full_backlog_port):
    assert_probe_failed(
        health.probe(options_for(f"127.0.0.1:{full_backlog_port}")), "timed out", str(full_backlog_port)
    )


def test_missing_credentials_say_so():
    status = health.probe(options_for("127.0.0.1:9", MINIO_ACCESS_KEY=""))
    assert_probe_failed(status, "MINIO_ACCESS_KEY", "127.0.0.1:9")


def test_dns_failure_is_named():
    error = urllib3.exceptions.NameResolutionError("no-such-host.invalid", None, socket.gaierror(-2, "x"))
    assert health._unreachable_reason(error).startswith("DNS lookup failed")


def test_compatible_status_object():
    status = health.MinioServerStatus(False, "why", status=503, data={"a": 1})
    assert not status and str(status) == "why" and status.data == {"a": 1}
    assert MinioBackend is not None
