"""Request events, the request budget and the stat cache, against the session server.

The oracle for "one event per request" is the counting pool (``counter``): it sees every request
that reaches urllib3, independently of the events.
"""

import logging

import pytest
from django.core.files.base import ContentFile

from django_minio_backend.core import events
from django_minio_backend.models import MinioBackend
from django_minio_backend.testing import assert_max_requests, count_requests

from tests.support import PRIVATE, RECORDED_EVENTS, stored


def test_one_event_per_request_with_its_fields(counted_storage, counter, name):
    with count_requests() as made:
        counted_storage.save(f"{name}/a.txt", ContentFile(b"hello"))
        assert counted_storage.exists(f"{name}/a.txt")
        assert stored(counted_storage, f"{name}/a.txt") == b"hello"
        counted_storage.delete(f"{name}/a.txt")
    assert len(made) == len(counter.requests)
    assert [event.method for event in made] == [method for method, _ in counter.requests]
    by_operation = {event.operation: event for event in made}
    put = by_operation["PutObject"]
    assert (put.bucket, put.key, put.bytes_sent, put.attempt) == (PRIVATE, f"{name}/a.txt", 5, 1)
    assert 200 <= put.status < 300 and put.duration > 0
    assert by_operation["GetObject"].bytes_received == 5
    assert {"HeadObject", "DeleteObject"} <= set(by_operation)


def test_url_emits_nothing(counted_storage, name):
    with count_requests() as made:
        counted_storage.url(f"{name}/a.txt")
    assert made == []


def test_logger_signal_and_hook_each_get_every_event(minio_settings, name, caplog):
    hooked, signalled = [], []

    def receiver(sender, event, **kwargs):
        signalled.append(event)

    events.request_sent.connect(receiver)
    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_REQUEST_HOOK=hooked.append)
    try:
        with caplog.at_level(logging.DEBUG, logger="django_minio_backend.requests"):
            storage.save(f"{name}/b.txt", ContentFile(b"xyz"))
            storage.size(f"{name}/b.txt")
    finally:
        events.request_sent.disconnect(receiver)
    records = [record for record in caplog.records if record.name == "django_minio_backend.requests"]
    assert len(records) == len(hooked) == len(signalled) >= 2
    assert [record.operation for record in records] == [event.operation for event in hooked]
    assert records[-1].operation == "HeadObject" and records[-1].key == f"{name}/b.txt"
    assert {"status", "bytes_sent", "bytes_received", "duration", "attempt", "bucket"} <= set(
        vars(records[-1])
    )


def test_a_dotted_hook_is_imported(minio_settings, name):
    storage = MinioBackend(
        bucket_name=PRIVATE, storage_name="default", MINIO_REQUEST_HOOK="tests.support.recorded_event"
    )
    RECORDED_EVENTS.clear()
    storage.exists(f"{name}/missing.txt")
    assert [event.operation for event in RECORDED_EVENTS] == ["HeadObject", "HeadBucket"]


def test_budget_passes_within_and_fails_naming_each_request(counted_storage, name):
    counted_storage.save(f"{name}/c.txt", ContentFile(b"c"))
    with assert_max_requests(1) as made:
        counted_storage.exists(f"{name}/c.txt")
    assert len(made) == 1
    with pytest.raises(AssertionError) as failure, assert_max_requests(1):
        counted_storage.exists(f"{name}/c.txt")
        counted_storage.size(f"{name}/c.txt")
    message = str(failure.value)
    assert "2 S3 requests" in message and "budget of 1" in message
    assert message.count(f"HeadObject HEAD {PRIVATE}/{name}/c.txt -> 200") == 2
