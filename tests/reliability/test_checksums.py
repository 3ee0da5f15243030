"""Checksums against a byte flipped on the way (FaultProxy ``flip_request`` / ``flip_response``).

Uploads: every PUT and part carries Content-MD5, so the server refuses a corrupted body; one flip
is healed by the one resend, a flip on every attempt fails the save with nothing stored. Reads:
a whole read of a corrupted answer raises ChecksumMismatchError instead of returning the bytes.
The controls without checksums show that the same flips do corrupt otherwise.
"""

import io
import logging

import pytest
from django.core.files.base import ContentFile

from django_minio_backend.core import state
from django_minio_backend.errors import ChecksumMismatchError, StorageServerError

from tests.support import PRIVATE, keys, stored, through

MiB = 1024 * 1024
DATA = bytes(range(256)) * 64  # 16 KiB
ROUNDS = 10


def server_bytes(s3_server, key: str) -> bytes:
    response = s3_server.client().get_object(bucket_name=PRIVATE, object_name=key)
    try:
        return response.read()
    finally:
        response.close()
        response.release_conn()


def is_put(method: str, target: str) -> bool:
    return method == "PUT"


def test_a_flipped_upload_byte_is_refused_and_resent(proxy, s3_server, name, minio_settings):
    storage = through(proxy, MINIO_CONDITIONAL_WRITES=False)
    corrupted = 0
    for number in range(ROUNDS):
        proxy.set("flip_request", match=is_put, times=1, after=number * 997)
        saved = storage.save(f"{name}/up-{number}.bin", ContentFile(DATA))
        corrupted += server_bytes(s3_server, saved) != DATA
    assert len(proxy.faulted) == ROUNDS
    assert corrupted == 0


def test_a_flip_on_every_attempt_fails_the_save_and_stores_nothing(proxy, s3_server, name, minio_settings):
    storage = through(proxy, MINIO_CONDITIONAL_WRITES=False, MINIO_MAX_RETRIES=1)
    proxy.set("flip_request", match=is_put, after=5)
    with pytest.raises(StorageServerError, match="corrupted on the way"):
        storage.save(f"{name}/bad.bin", ContentFile(DATA))
    proxy.clear()
    assert [key for key in keys(s3_server, PRIVATE) if key.startswith(name)] == []


def test_a_flipped_byte_in_a_part_is_refused_and_resent(proxy, s3_server, name, minio_settings):
    storage = through(
        proxy,
        MINIO_CONDITIONAL_WRITES=False,
        MINIO_MULTIPART_UPLOAD=True,
        MINIO_MULTIPART_THRESHOLD=5 * MiB,
        MINIO_MULTIPART_PART_SIZE=5 * MiB,
    )
    data = DATA * 400  # 6.25 MiB: two parts
    for seekable in (True, False):
        proxy.set("flip_request", match=lambda m, t: m == "PUT" and "partNumber=2" in t, times=1, after=123)
        source = io.BytesIO(data) if seekable else _Unseekable(data)
        saved = storage.save(f"{name}/parts-{seekable}.bin", source)
        assert server_bytes(s3_server, saved) == data
    assert len(proxy.faulted) == 2


def test_without_checksums_the_same_flip_is_stored(proxy, s3_server, name, minio_settings):
    """The control: the flip does reach the server's storage when no checksum is sent."""
    storage = through(proxy, MINIO_CONDITIONAL_WRITES=False, MINIO_SERVER_CAPABILITIES={"content-md5": False})
    proxy.set("flip_request", match=is_put, times=1, after=10)
    saved = storage.save(f"{name}/unchecked.bin", ContentFile(DATA))
    assert server_bytes(s3_server, saved) != DATA


def test_a_flipped_download_byte_is_never_returned_as_good(proxy, storage, name):
    saved = storage.save(f"{name}/down.bin", ContentFile(DATA))
    reader = through(proxy)
    returned_corrupted = raised = 0
    for number in range(ROUNDS):
        proxy.set("flip_response", match=lambda m, t: m == "GET", times=1, after=number * 1601)
        try:
            returned_corrupted += stored(reader, saved) != DATA
        except ChecksumMismatchError:
            raised += 1
    assert (returned_corrupted, raised) == (0, ROUNDS)
    assert stored(reader, saved) == DATA  # nothing stays broken


def test_a_server_refusing_content_md5_is_learned_once_with_a_warning(
    proxy, s3_server, name, caplog, minio_settings
):
    storage = through(proxy, MINIO_CONDITIONAL_WRITES=False)
    proxy.set("status", match=is_put, times=1, status=501)
    with caplog.at_level(logging.WARNING, logger="django_minio_backend"):
        first = storage.save(f"{name}/one.bin", ContentFile(DATA))
        second = storage.save(f"{name}/two.bin", ContentFile(DATA))
    assert state.STATE.capability(storage.store.endpoint, "content-md5") is False
    assert caplog.text.count("refuses the Content-MD5 header") == 1
    assert server_bytes(s3_server, first) == server_bytes(s3_server, second) == DATA
    assert [method for method, _ in proxy.requests].count("PUT") == 3  # refused, resent, second save


class _Unseekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._stream.readinto(buffer)
