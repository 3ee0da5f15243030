"""Bucket planning without a server: the wanted policy, and the start-up check on a dead port."""

from __future__ import annotations

import logging

from django_minio_backend import buckets, startup

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
    spec = buckets.BucketSpec("http://x", "keep-me", False, options=None)
    named = {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:user/app"]}, "Action": "s3:*"}
    current = {"Version": "2012-10-17", "Statement": [named, buckets._public_read_statement("keep-me")]}
    assert buckets.wanted_policy(spec, current) == {"Version": "2012-10-17", "Statement": [named]}
    spec.public = True
    wanted = buckets.wanted_policy(spec, current)
    assert wanted["Statement"] == [named, buckets._public_read_statement("keep-me")]
