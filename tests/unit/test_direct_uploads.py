"""Browser upload grants, signed without a request: POST policies and PUT URLs, and what they refuse."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import SuspiciousFileOperation

from django_minio_backend.errors import ReadOnlyStorageError

from tests.support import CountingPoolManager, offline_storage


def policy_document(policy: dict) -> dict:
    return json.loads(base64.b64decode(policy["fields"]["policy"]))


def test_post_policy_is_signed_for_the_external_endpoint_with_its_conditions():
    counter = CountingPoolManager()
    storage = offline_storage(
        counter,
        MINIO_EXTERNAL_ENDPOINT="uploads.example.com",
        MINIO_EXTERNAL_ENDPOINT_USE_HTTPS=True,
        MINIO_LOCATION="media",
    )
    policy = storage.presigned_post("avatars/", max_size=1000, min_size=1, content_type="image/*")
    assert policy["url"] == "https://uploads.example.com/test-private/"
    assert policy["fields"]["key"] == "media/avatars/${filename}"
    assert "Content-Type" not in policy["fields"]
    conditions = policy_document(policy)["conditions"]
    assert ["starts-with", "$key", "media/avatars/"] in conditions
    assert ["starts-with", "$Content-Type", "image/"] in conditions
    assert ["content-length-range", 1, 1000] in conditions
    assert ["eq", "$bucket", "test-private"] in conditions
    assert counter.requests == []


def test_post_policy_for_one_name_pins_the_key_and_the_exact_type():
    storage = offline_storage(CountingPoolManager(), MINIO_LOCATION="media")
    policy = storage.presigned_post("docs/report.pdf", max_size=10, content_type="application/pdf")
    assert policy["fields"]["key"] == "media/docs/report.pdf"
    assert policy["fields"]["Content-Type"] == "application/pdf"
    conditions = policy_document(policy)["conditions"]
    assert ["eq", "$key", "media/docs/report.pdf"] in conditions
    assert ["eq", "$Content-Type", "application/pdf"] in conditions


def test_post_policy_expiry_defaults_to_the_url_expiry_and_can_be_given():
    storage = offline_storage(CountingPoolManager(), MINIO_URL_EXPIRY_HOURS=timedelta(hours=2))
    for expires, seconds in ((None, 7200), (timedelta(minutes=10), 600)):
        policy = storage.presigned_post("a.txt", max_size=10, expires=expires)
        expiration = policy_document(policy)["expiration"]
        remaining = time.mktime(time.strptime(expiration[:19], "%Y-%m-%dT%H:%M:%S")) - time.mktime(
            time.gmtime()
        )
        assert seconds - 5 <= remaining <= seconds + 1


def test_put_url_is_signed_for_the_external_endpoint_without_a_request():
    counter = CountingPoolManager()
    storage = offline_storage(counter, MINIO_EXTERNAL_ENDPOINT="uploads.example.com", MINIO_LOCATION="media")
    url = urlsplit(storage.presigned_put_url("in/a b.txt", expires=timedelta(minutes=5)))
    assert (url.netloc, url.path) == ("uploads.example.com", "/test-private/media/in/a%20b.txt")
    assert "X-Amz-Expires=300" in url.query
    assert counter.requests == []


@pytest.mark.parametrize("bad", ["../escape.txt", "/abs.txt", "a/../../b", "nul\x00.txt", "", "dir/"])
def test_upload_names_cannot_escape_the_location(bad):
    storage = offline_storage(CountingPoolManager(), MINIO_LOCATION="media")
    with pytest.raises(SuspiciousFileOperation):
        storage.presigned_put_url(bad)
    if bad not in ("", "dir/"):
        with pytest.raises(SuspiciousFileOperation):
            storage.presigned_post(bad, max_size=10)


def test_post_needs_a_directory_with_a_slash_or_an_object_name():
    storage = offline_storage(CountingPoolManager(), MINIO_LOCATION="media")
    with pytest.raises(SuspiciousFileOperation, match="must name an object"):
        storage.presigned_post("", max_size=10)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_size": -1}, "max_size"),
        ({"max_size": 10, "min_size": 11}, "min_size <= max_size"),
        ({"max_size": 6 * 1024**3}, "5 GiB"),
        ({"max_size": 10, "expires": timedelta(days=8)}, "7 days"),
        ({"max_size": "10"}, "max_size"),
    ],
)
def test_post_policy_rejects_bad_limits(kwargs, match):
    with pytest.raises(ValueError, match=match):
        offline_storage(CountingPoolManager()).presigned_post("a.txt", **kwargs)


def test_read_only_storage_hands_out_no_upload_grants():
    storage = offline_storage(CountingPoolManager(), MINIO_READ_ONLY=True)
    with pytest.raises(ReadOnlyStorageError, match="MINIO_READ_ONLY"):
        storage.presigned_put_url("a.txt")
    with pytest.raises(ReadOnlyStorageError, match="MINIO_READ_ONLY"):
        storage.presigned_post("a.txt", max_size=10)
