"""Capabilities stated up front (MINIO_SERVER_CAPABILITIES) and the refusals they lead to, offline."""

from __future__ import annotations

import pytest

from django_minio_backend.conf.options import parse_options
from django_minio_backend.core import capabilities, encryption, state
from django_minio_backend.errors import ConfigurationError, UnsupportedByServerError

from tests.support import BASE, CountingPoolManager, offline_storage


def test_capabilities_are_validated_by_name_and_type():
    assert parse_options(
        {**BASE, "MINIO_SERVER_CAPABILITIES": {"presigned-post": False}}
    ).server_capabilities == {"presigned-post": False}
    with pytest.raises(ConfigurationError, match="not a capability"):
        parse_options({**BASE, "MINIO_SERVER_CAPABILITIES": {"presigned_post": False}})
    with pytest.raises(ConfigurationError, match="True or False"):
        parse_options({**BASE, "MINIO_SERVER_CAPABILITIES": {"bucket-policies": "no"}})


def test_a_stated_lack_of_presigned_post_is_refused_without_a_request():
    counter = CountingPoolManager()
    storage = offline_storage(counter, MINIO_SERVER_CAPABILITIES={"presigned-post": False})
    with pytest.raises(UnsupportedByServerError, match="presigned_put_url"):
        storage.presigned_post("a.txt", max_size=10)
    assert storage.presigned_put_url("a.txt")  # the PUT URL is still handed out
    assert counter.requests == []


def test_stated_capabilities_answer_without_learning():
    counter = CountingPoolManager()
    storage = offline_storage(
        counter, MINIO_SERVER_CAPABILITIES={"if-none-match-put": False, "if-none-match-complete": True}
    )
    assert storage.store.conditional_puts() is False
    assert storage.store.honours_if_none_match(capabilities.COMPLETE) is True
    assert counter.requests == []


def test_what_a_process_learned_is_forgotten_by_reset():
    state.STATE.remember("http://s3.local:9000", capabilities.POLICIES, False)
    assert capabilities.learned("http://s3.local:9000") == {capabilities.POLICIES: False}
    state.reset()
    assert capabilities.learned("http://s3.local:9000") == {}


@pytest.mark.parametrize(
    ("headers", "mode"),
    [
        ({"X-Amz-Server-Side-Encryption-Customer-Algorithm": "AES256"}, "SSE-C"),
        ({"X-Amz-Server-Side-Encryption": "aws:kms"}, "SSE-KMS"),
        ({"X-Amz-Server-Side-Encryption": "AES256"}, "SSE-S3"),
        ({"Cache-Control": "no-store"}, None),
    ],
)
def test_the_encryption_a_write_asks_for_and_what_confirms_it(headers, mode):
    assert encryption.mode_of(headers) == mode
    if mode is not None:
        answer = {encryption.CONFIRMATION_HEADER[mode]: "aws:kms" if mode == "SSE-KMS" else "AES256"}
        assert encryption.confirmed(mode, answer)
        assert not encryption.confirmed(mode, {})
