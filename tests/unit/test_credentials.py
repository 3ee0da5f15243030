"""Credential options without a server: system checks, construction errors, no secret in reprs or logs."""

from __future__ import annotations

import logging

import pytest
from minio.credentials import Provider

from django_minio_backend.conf.options import parse_options
from django_minio_backend.errors import ConfigurationError
from django_minio_backend.models import MinioBackend

from tests.support import MEDIA, check_messages, shown_by_a_failed_save

GOOD = {
    "MINIO_ENDPOINT": "127.0.0.1:9",
    "MINIO_DEFAULT_BUCKET": "c-private",
    "MINIO_PRIVATE_BUCKETS": ["c-private"],
}


def test_a_provider_makes_the_static_keys_optional(settings):
    provider = {"MINIO_CREDENTIALS_PROVIDER": "minio.credentials.EnvAWSProvider"}
    assert check_messages(settings, {**GOOD, **provider}) == {}
    assert "minio_backend.E002" in check_messages(settings, GOOD)


@pytest.mark.parametrize(
    ("options", "check_id", "words"),
    [
        (
            {
                "MINIO_CREDENTIALS_PROVIDER": "minio.credentials.EnvAWSProvider",
                "MINIO_ACCESS_KEY": "AKIDSHOWN",
            },
            "E020",
            "either the provider or static keys",
        ),
        ({"MINIO_SESSION_TOKEN": "token-never-shown"}, "E021", "MINIO_ACCESS_KEY and MINIO_SECRET_KEY"),
        ({"MINIO_CREDENTIALS_PROVIDER": "nowhere.at_all.Provider"}, "E022", "nowhere.at_all.Provider"),
    ],
)
def test_credential_combinations_are_checked(settings, options, check_id, words):
    found = check_messages(settings, {**GOOD, **options})
    assert set(found) - {"minio_backend.E002"} == {f"minio_backend.{check_id}"}, found
    message = found[f"minio_backend.{check_id}"]
    assert words in message.msg and message.hint
    assert "token-never-shown" not in message.msg + message.hint


def test_construction_refuses_a_provider_with_keys_and_a_bad_provider(settings):
    check_messages(settings, GOOD)
    with pytest.raises(ConfigurationError, match="either the provider or static keys"):
        parse_options({**GOOD, "MINIO_CREDENTIALS_PROVIDER": Provider, "MINIO_SECRET_KEY": "s"})
    storage = MinioBackend(bucket_name="c-private", **GOOD, MINIO_CREDENTIALS_PROVIDER=f"{__name__}.GOOD")
    with pytest.raises(ConfigurationError, match="MINIO_CREDENTIALS_PROVIDER: .* not a provider"):
        storage.client  # noqa: B018  (built on first use: no I/O at construction)


def test_credentials_stay_out_of_reprs_deconstruct_errors_and_logs(settings, caplog):
    secret, token = "secret-never-shown-0000", "token-never-shown-0000"
    options = {
        **GOOD,
        "MINIO_ACCESS_KEY": "AKID",
        "MINIO_SECRET_KEY": secret,
        "MINIO_SESSION_TOKEN": token,
        "MINIO_MAX_RETRIES": 0,
        "MINIO_CONNECT_TIMEOUT": 0.5,
    }
    settings.STORAGES = {"default": {"BACKEND": MEDIA, "OPTIONS": options}}
    caplog.set_level(logging.DEBUG)
    storage = MinioBackend(bucket_name="c-private", storage_name="default")
    shown = shown_by_a_failed_save(storage, caplog)  # nothing listens on port 9
    assert secret not in shown and token not in shown
