"""The health probe and the is_minio_available command, against a real server and dead ports."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from django_minio_backend.conf.options import parse_options
from django_minio_backend.core import health

from tests.support import assert_probe_failed

MEDIA = "django_minio_backend.models.MinioBackend"


def test_available_on_the_test_server(s3_server):
    status = health.probe(parse_options(s3_server.storage_options()))
    assert status and status.is_available
    assert status.details == f"{s3_server.url}: available"
    assert status.status == 200


def test_storage_method_returns_a_status(storage):
    status = storage.is_minio_available()
    assert isinstance(status, health.MinioServerStatus) and bool(status)


@pytest.mark.s3_strict
def test_wrong_secret_is_an_authentication_failure(s3_server):
    status = health.probe(parse_options(s3_server.storage_options(MINIO_SECRET_KEY="not-the-secret")))
    assert_probe_failed(status, "authentication failed", s3_server.endpoint)
    assert "not-the-secret" not in status.details


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
