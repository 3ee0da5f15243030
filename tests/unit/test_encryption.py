"""Encryption options without a server: system checks, a wrong key on first use, no key in reprs or logs."""

from __future__ import annotations

import base64
import logging

import pytest

from django_minio_backend.conf.options import parse_options
from django_minio_backend.errors import ConfigurationError
from django_minio_backend.models import MinioBackend

from tests.support import MEDIA, SSE_C_KEY, check_messages, shown_by_a_failed_save

SSE_C_KEY_B64 = base64.b64encode(SSE_C_KEY).decode()

GOOD = {
    "MINIO_ENDPOINT": "127.0.0.1:9",
    "MINIO_ACCESS_KEY": "AKID",
    "MINIO_SECRET_KEY": "secret",
    "MINIO_DEFAULT_BUCKET": "c-private",
    "MINIO_PRIVATE_BUCKETS": ["c-private"],
}


@pytest.mark.parametrize(
    ("options", "check_id", "words"),
    [
        ({"MINIO_SERVER_SIDE_ENCRYPTION": "SSE-KMS"}, "E023", "MINIO_SSE_KMS_KEY_ID"),
        (
            {"MINIO_SERVER_SIDE_ENCRYPTION": "SSE-C", "MINIO_USE_HTTPS": True},
            "E023",
            "MINIO_SSE_CUSTOMER_KEY",
        ),
        ({"MINIO_SSE_KMS_KEY_ID": "k"}, "E023", "MINIO_SERVER_SIDE_ENCRYPTION = 'SSE-KMS'"),
        (
            {
                "MINIO_SERVER_SIDE_ENCRYPTION": "SSE-C",
                "MINIO_SSE_CUSTOMER_KEY": b"short",
                "MINIO_USE_HTTPS": True,
            },
            "E024",
            "5 bytes long",
        ),
        (
            {
                "MINIO_SERVER_SIDE_ENCRYPTION": "SSE-C",
                "MINIO_SSE_CUSTOMER_KEY": "no.such.key",
                "MINIO_USE_HTTPS": True,
            },
            "E024",
            "no.such.key",
        ),
        (
            {"MINIO_SERVER_SIDE_ENCRYPTION": "SSE-C", "MINIO_SSE_CUSTOMER_KEY": SSE_C_KEY},
            "W020",
            "plain-http",
        ),
        ({"MINIO_SERVER_SIDE_ENCRYPTION": "AES256"}, "E005", "SSE-S3, SSE-KMS, SSE-C"),
        ({"MINIO_STORAGE_CLASS": "reduced"}, "E005", "storage class"),
    ],
)
def test_encryption_combinations_are_checked(settings, options, check_id, words):
    found = check_messages(settings, {**GOOD, **options})
    assert set(found) == {f"minio_backend.{check_id}"}, found
    message = found[f"minio_backend.{check_id}"]
    assert words in message.msg and message.hint
    assert SSE_C_KEY_B64 not in message.msg + message.hint


def test_a_good_encryption_configuration_passes_the_checks(settings):
    kms = {"MINIO_SERVER_SIDE_ENCRYPTION": "SSE-KMS", "MINIO_SSE_KMS_KEY_ID": "k"}
    assert check_messages(settings, {**GOOD, **kms}) == {}
    assert check_messages(settings, {**GOOD, "MINIO_STORAGE_CLASS": "STANDARD_IA"}) == {}


def test_a_wrong_key_fails_on_first_use_without_showing_it(settings):
    check_messages(settings, GOOD)
    storage = MinioBackend(
        bucket_name="c-private",
        **GOOD,
        MINIO_SERVER_SIDE_ENCRYPTION="SSE-C",
        MINIO_SSE_CUSTOMER_KEY=lambda: b"x" * 31,
    )
    with pytest.raises(ConfigurationError, match="exactly 32 raw bytes, got 31 bytes"):
        storage.stat("a.txt")  # before any request: nothing listens on port 9


def test_the_sse_c_key_stays_out_of_reprs_deconstruct_errors_and_logs(settings, caplog):
    options = {
        **GOOD,
        "MINIO_SERVER_SIDE_ENCRYPTION": "SSE-C",
        "MINIO_SSE_CUSTOMER_KEY": SSE_C_KEY,
        "MINIO_MAX_RETRIES": 0,
        "MINIO_CONNECT_TIMEOUT": 0.5,
    }
    settings.STORAGES = {"default": {"BACKEND": MEDIA, "OPTIONS": options}}
    caplog.set_level(logging.DEBUG)
    storage = MinioBackend(bucket_name="c-private", storage_name="default")
    shown = shown_by_a_failed_save(storage, caplog, repr(parse_options(options)))  # nothing on port 9
    assert SSE_C_KEY_B64 not in shown and repr(SSE_C_KEY) not in shown
