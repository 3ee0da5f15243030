"""The health probe and the is_minio_available command, against a real server and dead ports."""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Iterator

import pytest
import urllib3
from django.core.management import CommandError, call_command

from django_minio_backend import health
from django_minio_backend.models import MinioBackend
from django_minio_backend.options import parse_options

MEDIA = "django_minio_backend.models.MinioBackend"


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


def assert_failed(status: health.MinioServerStatus, reason: str, endpoint: str) -> None:
    assert not status and status.is_available is False
    assert reason in status.details
    assert endpoint in status.details
    assert "available" not in status.details.lower()


@pytest.fixture
def closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


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


def test_available_on_the_test_server(s3_server):
    status = health.probe(parse_options(s3_server.storage_options()))
    assert status and status.is_available
    assert status.details == f"{s3_server.url}: available"
    assert status.status == 200


def test_storage_method_returns_a_status(storage):
    status = storage.is_minio_available()
    assert isinstance(status, health.MinioServerStatus) and bool(status)


def test_closed_port_is_connection_refused(closed_port):
    assert_failed(
        health.probe(options_for(f"127.0.0.1:{closed_port}")), "connection refused", str(closed_port)
    )


def test_silent_port_times_out_with_the_configured_timeout(silent_port):
    status = health.probe(options_for(f"127.0.0.1:{silent_port}"))
    assert_failed(status, "timed out", str(silent_port))
    assert status.details.endswith(("timed out after 0.5 s waiting for an answer", "no answer within 0.5 s"))


def test_port_that_never_accepts_times_out(full_backlog_port):
    assert_failed(
        health.probe(options_for(f"127.0.0.1:{full_backlog_port}")), "timed out", str(full_backlog_port)
    )


@pytest.mark.s3_strict
def test_wrong_secret_is_an_authentication_failure(s3_server):
    status = health.probe(parse_options(s3_server.storage_options(MINIO_SECRET_KEY="not-the-secret")))
    assert_failed(status, "authentication failed", s3_server.endpoint)
    assert "not-the-secret" not in status.details


def test_missing_credentials_say_so():
    status = health.probe(options_for("127.0.0.1:9", MINIO_ACCESS_KEY=""))
    assert_failed(status, "MINIO_ACCESS_KEY", "127.0.0.1:9")


def test_dns_failure_is_named():
    error = urllib3.exceptions.NameResolutionError("no-such-host.invalid", None, socket.gaierror(-2, "x"))
    assert health._unreachable_reason(error).startswith("DNS lookup failed")


def test_command_checks_every_alias(minio_settings, closed_port):
    out = io.StringIO()
    call_command("is_minio_available", stdout=out)
    assert out.getvalue().count(": available") == 2  # default and staticfiles
    silent = io.StringIO()
    call_command("is_minio_available", "--silenced", stdout=silent)
    assert silent.getvalue() == ""

    minio_settings.STORAGES["down"] = {
        "BACKEND": MEDIA,
        "OPTIONS": {
            **minio_settings.STORAGES["default"]["OPTIONS"],
            "MINIO_ENDPOINT": f"127.0.0.1:{closed_port}",
        },
    }
    with pytest.raises(CommandError) as raised:
        call_command("is_minio_available", stdout=io.StringIO())
    message = str(raised.value)
    assert f"down: http://127.0.0.1:{closed_port}: connection refused" in message
    assert "default" not in message


def test_compatible_status_object():
    status = health.MinioServerStatus(False, "why", status=503, data={"a": 1})
    assert not status and str(status) == "why" and status.data == {"a": 1}
    assert MinioBackend is not None
