"""Request events, the request budget and checksums, without a server (a closed port at most)."""

from __future__ import annotations

import base64
import hashlib
import io
import threading

import pytest
import urllib3

from django_minio_backend.core import checksums, events
from django_minio_backend.core.checksums import ReadVerifier, stored_md5
from django_minio_backend.errors import ChecksumMismatchError, ConfigurationError, StorageServerError
from django_minio_backend.models import MinioBackend
from django_minio_backend.testing import assert_max_requests, count_requests


@pytest.mark.parametrize(
    ("method", "url", "headers", "expected"),
    [
        ("GET", "http://h:9/", {}, ("ListBuckets", "", "")),
        ("HEAD", "http://h:9/b", {}, ("HeadBucket", "b", "")),
        ("HEAD", "http://h:9/b/a/k%20x.txt", {}, ("HeadObject", "b", "a/k x.txt")),
        ("GET", "http://h:9/b?list-type=2&prefix=a", {}, ("ListObjectsV2", "b", "")),
        ("PUT", "http://h:9/b/k?partNumber=2&uploadId=u", {}, ("UploadPart", "b", "k")),
        ("POST", "http://h:9/b/k?uploads=", {}, ("CreateMultipartUpload", "b", "k")),
        ("POST", "http://h:9/b/k?uploadId=u", {}, ("CompleteMultipartUpload", "b", "k")),
        ("DELETE", "http://h:9/b/k?uploadId=u", {}, ("AbortMultipartUpload", "b", "k")),
        ("PUT", "http://h:9/b/k", {"x-amz-copy-source": "/b/s"}, ("CopyObject", "b", "k")),
        ("POST", "http://h:9/b?delete=", {}, ("DeleteObjects", "b", "")),
        ("GET", "http://b.h:9/k", {}, ("GetObject", "b", "k")),  # virtual-host style
    ],
)
def test_each_request_is_named_by_its_s3_operation(method, url, headers, expected):
    bucket, key, query = events.split_target(url, "h:9")
    assert (events.operation(method, bucket, key, query, headers), bucket, key) == expected


def offline(closed_port, **options):
    return MinioBackend(
        bucket_name="bkt", MINIO_ENDPOINT=f"127.0.0.1:{closed_port}", MINIO_CONNECT_TIMEOUT=1, **options
    )


def test_a_request_without_an_answer_is_an_event_with_its_error(closed_port):
    storage = offline(closed_port, MINIO_MAX_RETRIES=0)
    with count_requests() as made, pytest.raises(StorageServerError):
        storage.exists("a.txt")
    (event,) = made
    assert (event.operation, event.status, event.bucket, event.key, event.attempt) == (
        "HeadObject", None, "bkt", "a.txt", 1,
    )  # fmt: skip
    assert event.error and event.duration >= 0


def test_our_own_retries_are_one_event_per_attempt(closed_port):
    storage = offline(closed_port, MINIO_MAX_RETRIES=1, MINIO_CONDITIONAL_WRITES=False, replace_existing=True)
    with count_requests() as made, pytest.raises(StorageServerError):
        storage.save("a.txt", io.BytesIO(b"abc"))
    assert [(event.operation, event.attempt, event.bytes_sent) for event in made] == [
        ("PutObject", 1, 3),
        ("PutObject", 2, 3),
    ]


def test_url_makes_no_event(closed_port):
    with count_requests() as made:
        offline(closed_port).url("a.txt")
    assert made == []


def test_with_nobody_listening_no_event_is_built(closed_port, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("an event was built with nobody listening")

    monkeypatch.setattr(events.ObservedPool, "_record", fail)
    with pytest.raises(StorageServerError):
        offline(closed_port, MINIO_MAX_RETRIES=0).exists("a.txt")


def test_a_context_only_recording_ignores_other_threads(closed_port):
    storage = offline(closed_port, MINIO_MAX_RETRIES=0)

    def elsewhere():
        with pytest.raises(StorageServerError):
            storage.exists("other.txt")

    with events.recording(this_context_only=True) as mine, count_requests() as everything:
        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
        with pytest.raises(StorageServerError):
            storage.exists("mine.txt")
    assert [event.key for event in mine] == ["mine.txt"]
    assert sorted(event.key for event in everything) == ["mine.txt", "other.txt"]


def test_the_request_hook_is_checked(closed_port):
    with pytest.raises(ConfigurationError, match="MINIO_REQUEST_HOOK"):
        offline(closed_port, MINIO_REQUEST_HOOK=5)
    with pytest.raises(ConfigurationError, match="MINIO_REQUEST_HOOK.*cannot import"):
        offline(closed_port, MINIO_REQUEST_HOOK="no.such.hook", MINIO_MAX_RETRIES=0).exists("a")


BUDGET_TESTS = """
import unittest

import django
from django.conf import settings

if not settings.configured:  # a user's own project has its settings; this file brings minimal ones
    settings.configure(INSTALLED_APPS=[], USE_TZ=True)
    django.setup()

from django_minio_backend.errors import StorageServerError
from django_minio_backend.models import MinioBackend
from django_minio_backend.testing import assert_max_requests

STORAGE = MinioBackend(
    bucket_name="photos", MINIO_ENDPOINT="127.0.0.1:{port}", MINIO_ACCESS_KEY="k", MINIO_SECRET_KEY="s",
    MINIO_MAX_RETRIES=0, MINIO_CONNECT_TIMEOUT=1,
)


def one_request():
    try:
        STORAGE.exists("cat.jpg")
    except StorageServerError:
        pass


def test_within_budget():
    with assert_max_requests(1):
        one_request()


def test_over_budget():
    with assert_max_requests(0):
        one_request()


class BudgetTests(unittest.TestCase):
    def test_within_budget(self):
        with assert_max_requests(1):
            one_request()

    def test_over_budget(self):
        with assert_max_requests(0):
            one_request()
"""


def test_the_budget_fails_users_pytest_and_unittest_tests_naming_each_request(pytester, closed_port):
    pytester.makepyfile(test_budget=BUDGET_TESTS.replace("{port}", str(closed_port)))
    result = pytester.runpytest("-p", "no:django", "-p", "no:hypothesispytest", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=2)
    output = result.stdout.str()
    assert output.count("1 S3 requests were made, more than the budget of 0") >= 2
    assert "1. HeadObject HEAD photos/cat.jpg -> " in output


def test_assert_max_requests_passes_the_log_through():
    with assert_max_requests(0) as made:
        pass
    assert made == [] and made.describe() == ""


# -- checksums ---------------------------------------------------------------------------------

DATA = b"stored bytes" * 1000
MD5 = hashlib.md5(DATA).hexdigest()


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"ETag": f'"{MD5}"'}, MD5),
        ({"ETag": '"0123456789abcdef0123456789abcdef-3"'}, None),  # multipart
        ({"ETag": f'"{MD5}"', "x-amz-server-side-encryption": "aws:kms"}, None),
        ({"ETag": f'"{MD5}"', "x-amz-server-side-encryption-customer-algorithm": "AES256"}, None),
        ({"ETag": '"x-3"', "x-amz-meta-md5": MD5}, MD5),
        ({"ETag": '"x-3"', "x-amz-meta-md5": MD5, "Content-Encoding": "gzip"}, None),  # MD5 before gzip
        ({}, None),
    ],
)
def test_the_stored_checksum_is_found_where_s3_states_one(headers, expected):
    assert stored_md5(urllib3.HTTPHeaderDict(headers)) == expected


def test_a_whole_read_of_the_right_bytes_passes():
    verifier = ReadVerifier(MD5, len(DATA), "b/k")
    for start in range(0, len(DATA), 4096):
        verifier.update(DATA[start : start + 4096])


def test_a_wrong_last_chunk_raises_and_so_does_every_later_read():
    verifier = ReadVerifier(MD5, len(DATA), "b/k")
    verifier.update(DATA[:-1])
    with pytest.raises(ChecksumMismatchError, match="b/k"):
        verifier.update(b"!")
    with pytest.raises(ChecksumMismatchError):
        verifier.update(b"")


def test_a_read_that_seeks_away_is_not_checked():
    verifier = ReadVerifier(MD5, len(DATA), "b/k")
    verifier.update(DATA[:10])
    verifier.moved(100)
    verifier.update(b"x" * (len(DATA) - 10))  # no error: the bytes no longer run in order
    assert not verifier.active


def answer(status: int, code: str = "", message: str = "") -> urllib3.HTTPResponse:
    body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode() if code else b""
    return urllib3.HTTPResponse(body=body, status=status, preload_content=True)


@pytest.mark.parametrize(
    ("response", "refuses", "mismatch"),
    [
        (answer(501), True, False),
        (answer(400, "InvalidArgument", "Content-MD5 is not supported"), True, False),
        (answer(400, "BadDigest", "The Content-MD5 you specified did not match"), False, True),
        (answer(400, "InvalidDigest", "bad Content-MD5"), False, True),
        (answer(400, "EntityTooSmall", "too small"), False, False),
        (answer(200), False, False),
    ],
)
def test_a_refused_header_is_told_apart_from_a_corrupted_body(response, refuses, mismatch):
    assert checksums.refuses_header(response, "b", "k") is refuses
    assert checksums.is_mismatch(response, "b", "k") is mismatch


def test_content_md5_is_the_base64_digest_and_hides_progress():
    seen = []

    def body():
        seen.append(checksums.is_hashing())
        return iter([DATA[:5], DATA[5:]])

    assert checksums.content_md5(body) == base64.b64encode(hashlib.md5(DATA).digest()).decode()
    assert seen == [True] and not checksums.is_hashing()
