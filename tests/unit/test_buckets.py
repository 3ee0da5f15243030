"""Bucket planning without a server: the wanted policy, and the start-up check on a dead port."""

from __future__ import annotations

import logging

from django_minio_backend.conf.buckets import BucketSpec
from django_minio_backend.core.buckets import public_read_statement
from django_minio_backend.ops import startup
from django_minio_backend.ops.buckets import wanted_policy

from tests.support import MEDIA


def test_start_up_check_logs_an_unreachable_server_and_goes_on(settings, caplog):
    settings.STORAGES = {
        "default": {
            "BACKEND": MEDIA,
            "OPTIONS": {
                "MINIO_ENDPOINT": "127.0.0.1:9",
                "MINIO_ACCESS_KEY": "a",
                "MINIO_SECRET_KEY": "b",
                "MINIO_CONSISTENCY_CHECK_ON_START": True,
                "MINIO_HEALTH_CHECK_TIMEOUT": 1,
            },
        }
    }
    with caplog.at_level(logging.ERROR, logger="django_minio_backend"):
        results = startup.consistency_check()
    assert results is not None and not results[0].ok
    assert "refused" in caplog.text and "127.0.0.1:9" in caplog.text


def test_wanted_policy_keeps_statements_for_named_principals():
    spec = BucketSpec("http://x", "keep-me", False, options=None)
    named = {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:user/app"]}, "Action": "s3:*"}
    current = {"Version": "2012-10-17", "Statement": [named, public_read_statement("keep-me")]}
    assert wanted_policy(spec, current) == {"Version": "2012-10-17", "Statement": [named]}
    spec.public = True
    wanted = wanted_policy(spec, current)
    assert wanted["Statement"] == [named, public_read_statement("keep-me")]
