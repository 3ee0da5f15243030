"""An open file reads one version of its object: re-reads after seek() are pinned with If-Match.

"Another client" replaces or deletes the object between the first GET and a later ranged GET;
the file must raise ObjectChangedError naming the object, never splice the versions.
"""

import io
import os

import pytest
from django.core.files.base import ContentFile

from django_minio_backend.errors import ObjectChangedError, StorageServerError
from django_minio_backend.files.reader import MinioFile, ObjectReader

from tests.support import PRIVATE, CountingPoolManager, put

MiB = 1024 * 1024


@pytest.mark.parametrize("new_size", [3 * MiB, 1 * MiB, 4 * MiB], ids=["same-size", "smaller", "larger"])
def test_seek_after_another_client_replaced_the_object_raises(s3_server, storage, name, new_size):
    old = os.urandom(3 * MiB)
    saved = storage.save(f"{name}/x.bin", ContentFile(old))
    handle = storage.open(saved)
    assert handle.read(1000) == old[:1000]
    put(s3_server, PRIVATE, saved, os.urandom(new_size))
    handle.seek(2 * MiB)
    with pytest.raises(ObjectChangedError, match=rf"{name}/x\.bin"):
        handle.read()
    handle.seek(0)
    with pytest.raises(ObjectChangedError, match=rf"{name}/x\.bin"):
        handle.read()
    handle.close()


def test_reading_on_within_the_first_response_returns_only_the_old_version(s3_server, storage, name):
    old = os.urandom(3 * MiB)
    saved = storage.save(f"{name}/x.bin", ContentFile(old))
    with storage.open(saved) as handle:
        head = handle.read(1000)
        put(s3_server, PRIVATE, saved, os.urandom(3 * MiB))
        try:
            rest = handle.read()
        except StorageServerError:
            return  # refusing is fine; mixing is not
    assert head + rest == old


def test_seek_after_the_object_was_deleted_raises(storage, name):
    saved = storage.save(f"{name}/gone.bin", ContentFile(os.urandom(2 * MiB)))
    handle = storage.open(saved)
    handle.read(10)
    storage.delete(saved)
    handle.seek(MiB)
    with pytest.raises(ObjectChangedError, match=r"gone\.bin"):
        handle.read()
    handle.close()


def test_text_mode_read_after_replacement_raises(s3_server, storage, name):
    text = "línea\n" * 400_000
    saved = storage.save(f"{name}/t.txt", ContentFile(text.encode()))
    handle = storage.open(saved, "r")
    assert handle.readline() == "línea\n"
    put(s3_server, PRIVATE, saved, ("other\n" * 500_000).encode())
    handle.seek(0)
    with pytest.raises(ObjectChangedError):
        handle.read()
    handle.close()


def test_open_read_is_one_get_and_a_re_read_carries_if_match(minio_settings, name):
    from django_minio_backend.models import MinioBackend

    pool = CountingPoolManager()
    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_HTTP_CLIENT=pool)
    payload = os.urandom(MiB)
    saved = storage.save(f"{name}/p.bin", ContentFile(payload))
    etag = storage.stat(saved).etag
    pool.reset()
    with storage.open(saved) as handle:
        assert handle.read() == payload
        assert pool.methods() == ["GET"]
        assert "if-match" not in pool.sent[0].headers
        handle.seek(1000)
        assert handle.read(5000) == payload[1000:6000]
        handle.seek(-10, io.SEEK_END)
        assert handle.read() == payload[-10:]
    assert pool.methods() == ["GET", "GET", "GET"]
    assert [sent.headers.get("if-match", "").strip('"') for sent in pool.sent[1:]] == [etag, etag]
    pool.clear()


class IgnoringGateway:
    """Stands where the ObjectStore does, like a gateway which ignores If-Match or Range: it answers
    with a real server response, but for the wrong version or the wrong bytes. The reader must
    still refuse."""

    def __init__(self, client, first_key, later):
        self.client, self.first_key, self.later = client, first_key, later

    def get(self, name, *, offset=0, etag=None):
        if etag is None:
            return self.client.get_object(bucket_name=PRIVATE, object_name=self.first_key)
        return self.later(self.client, offset)


def _reader(s3_server, first_key, later):
    return ObjectReader(IgnoringGateway(s3_server.client(), first_key, later), first_key)


def test_a_re_read_of_another_version_is_refused_even_if_if_match_was_ignored(s3_server, storage, name):
    first = storage.save(f"{name}/v1.bin", ContentFile(os.urandom(2 * MiB)))
    second = storage.save(f"{name}/v2.bin", ContentFile(os.urandom(2 * MiB)))
    reader = _reader(
        s3_server, first, lambda c, off: c.get_object(bucket_name=PRIVATE, object_name=second, offset=off)
    )
    handle = MinioFile(reader, first)
    handle.read(10)
    handle.seek(MiB)
    with pytest.raises(ObjectChangedError, match=r"v1\.bin"):
        handle.read()
    handle.close()


def test_a_re_read_answered_from_the_wrong_offset_is_refused(s3_server, storage, name):
    payload = os.urandom(2 * MiB)
    saved = storage.save(f"{name}/r.bin", ContentFile(payload))
    reader = _reader(s3_server, saved, lambda c, off: c.get_object(bucket_name=PRIVATE, object_name=saved))
    handle = MinioFile(reader, saved)
    handle.read(10)
    handle.seek(MiB)
    with pytest.raises(StorageServerError, match=r"r\.bin.*Content-Range"):
        handle.read()
    handle.close()


def test_negative_seek_raises_os_error_like_a_local_file(storage, name, tmp_path):
    saved = storage.save(f"{name}/n.bin", ContentFile(b"0123456789"))
    (tmp_path / "n.bin").write_bytes(b"0123456789")
    with storage.open(saved) as handle, (tmp_path / "n.bin").open("rb") as local:
        for target in (handle, local):
            with pytest.raises(OSError):
                target.seek(-1)
            with pytest.raises(OSError):
                target.seek(-11, io.SEEK_END)
        assert handle.tell() == local.tell() == 0
