"""copy, rename and delete_prefix on the server: bytes never pass through us; requests counted."""

from __future__ import annotations

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile

from django_minio_backend.core import copy as core_copy
from django_minio_backend.core.server_side import COPY_IF_MATCH_MULTIPART
from django_minio_backend.core.state import STATE
from django_minio_backend.core.store import ObjectStore
from django_minio_backend.errors import ReadOnlyStorageError, StorageServerError
from django_minio_backend.models import MinioBackend

from tests.support import PRIVATE

MiB = 1024 * 1024


def test_copy_is_two_requests_and_carries_headers(counted_storage, counter, name):
    counted_storage.save(f"{name}/a.txt", ContentFile(b"hello", name="a.txt"))
    counter.reset()
    assert counted_storage.copy(f"{name}/a.txt", f"{name}/b.txt") == f"{name}/b.txt"
    assert counter.methods() == ["HEAD", "PUT"]
    assert all(path.endswith("/b.txt") or path.endswith("/a.txt") for _, path in counter.requests)
    with counted_storage.open(f"{name}/b.txt") as handle:
        assert handle.read() == b"hello"
    assert counted_storage.stat(f"{name}/b.txt").content_type == "text/plain"


def test_copy_replaces_headers_when_asked(storage, name):
    storage.save(f"{name}/a.bin", ContentFile(b"x" * 10, name="a.bin"))
    storage.copy(
        f"{name}/a.bin",
        f"{name}/b.bin",
        headers={"Content-Type": "image/png", "Cache-Control": "max-age=60", "x-amz-meta-owner": "kim"},
    )
    stat = storage.stat(f"{name}/b.bin")
    assert stat.content_type == "image/png"
    assert stat.metadata["Cache-Control"] == "max-age=60"
    assert stat.metadata["x-amz-meta-owner"] == "kim"


def test_copy_of_a_missing_source_is_file_not_found(storage, name):
    with pytest.raises(FileNotFoundError):
        storage.copy(f"{name}/nothing", f"{name}/b")
    assert not storage.exists(f"{name}/b")


def test_multipart_copy_above_the_single_copy_limit(storage, name, counter, minio_settings):
    """The path taken above 5 GiB, exercised with a 5 MiB limit: UploadPartCopy of 5 MiB ranges."""
    body = bytes(range(256)) * (12 * MiB // 256)
    storage.save(f"{name}/big.bin", ContentFile(body, name="big.bin"))
    storage.copy(f"{name}/big.bin", f"{name}/small.bin", headers={"x-amz-meta-k": "v"})  # warm caps
    counted = MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_HTTP_CLIENT=counter)
    counter.reset()
    counted.store.server_copy(f"{name}/big.bin", f"{name}/copy.bin", single_limit=5 * MiB, part_size=5 * MiB)
    methods = counter.methods()
    # our HEAD, minio's HEAD per part (3), Create, 3 UploadPartCopy, Complete; where the server
    # refuses If-Match for multipart sources (learned by the copy above), only our HEAD
    by_date = STATE.capability(counted.store.endpoint, COPY_IF_MATCH_MULTIPART) is False
    assert methods.count("HEAD") == (1 if by_date else 4)
    assert methods.count("POST") == 2
    assert methods.count("PUT") == 3
    stat = storage.stat(f"{name}/copy.bin")
    assert stat.size == len(body) and "-" in stat.etag
    assert stat.content_type == "application/octet-stream"
    with storage.open(f"{name}/copy.bin") as handle:
        assert handle.read() == body


def test_multipart_copy_carries_user_metadata(storage, name):
    storage.save(f"{name}/m.bin", ContentFile(b"z" * (6 * MiB), name="m.bin"))
    storage.copy(f"{name}/m.bin", f"{name}/m2.bin", headers={"x-amz-meta-a": "1", "Content-Type": "x/y"})
    storage.store.server_copy(f"{name}/m2.bin", f"{name}/m3.bin", single_limit=5 * MiB, part_size=5 * MiB)
    stat = storage.stat(f"{name}/m3.bin")
    assert stat.metadata["x-amz-meta-a"] == "1" and stat.content_type == "x/y"
    assert core_copy.MAX_SINGLE_COPY == 5 * 1024**3


def test_rename_is_copy_then_delete(counted_storage, counter, name):
    counted_storage.save(f"{name}/old.txt", ContentFile(b"data", name="old.txt"))
    counter.reset()
    assert counted_storage.rename(f"{name}/old.txt", f"{name}/new.txt") == f"{name}/new.txt"
    assert counter.methods() == ["HEAD", "PUT", "DELETE"]
    assert not counted_storage.exists(f"{name}/old.txt")
    assert counted_storage.open(f"{name}/new.txt").read() == b"data"


def test_rename_keeps_both_when_the_delete_fails(storage, name, monkeypatch):
    storage.save(f"{name}/old.txt", ContentFile(b"data", name="old.txt"))

    def refuse(self, name):
        raise StorageServerError("the server refused the delete")

    monkeypatch.setattr(ObjectStore, "delete", refuse)
    with pytest.raises(StorageServerError, match="both exist"):
        storage.rename(f"{name}/old.txt", f"{name}/new.txt")
    monkeypatch.undo()
    assert storage.exists(f"{name}/old.txt") and storage.exists(f"{name}/new.txt")


def test_delete_prefix_batches_of_1000_and_is_confined(minio_settings, counter, name):
    storage = MinioBackend(
        bucket_name=PRIVATE, storage_name="default", MINIO_HTTP_CLIENT=counter, MINIO_LOCATION=name
    )
    outside = MinioBackend(bucket_name=PRIVATE, storage_name="default")
    outside.save(f"{name}x/keep.txt", ContentFile(b"k"))  # a sibling prefix, outside the location
    storage.save("gallery1/keep.txt", ContentFile(b"k"))  # a sibling directory
    keys = [f"{name}/gallery/{i:04d}" for i in range(1003)]
    outside.store.delete_keys([])  # warm up nothing; the objects are put through the pool below
    for key in keys:
        outside.store.client.put_object(bucket_name=PRIVATE, object_name=key, data=_Empty(), length=0)
    counter.reset()
    assert storage.delete_prefix("gallery") == 1003
    methods = counter.methods()
    assert methods.count("POST") == 2  # DeleteObjects: 1,000 + 3
    assert methods.count("GET") == 2  # two LIST pages
    assert len(methods) == 4
    assert storage.exists("gallery1/keep.txt")
    assert outside.exists(f"{name}x/keep.txt")
    assert not list(outside.store.list(f"{name}/gallery/", recursive=True))


def test_delete_prefix_refuses_the_whole_storage(storage, name):
    storage.save(f"{name}/keep.txt", ContentFile(b"k"))
    for prefix in ("", "/", ".", "./"):
        with pytest.raises((SuspiciousFileOperation, ValueError)):
            storage.delete_prefix(prefix)
    assert storage.exists(f"{name}/keep.txt")


def test_delete_prefix_allow_empty_stays_in_location(minio_settings, name):
    inside = MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_LOCATION=f"{name}/in")
    outside = MinioBackend(bucket_name=PRIVATE, storage_name="default")
    inside.save("a.txt", ContentFile(b"a"))
    outside.save(f"{name}/out.txt", ContentFile(b"b"))
    assert inside.delete_prefix("", allow_empty=True) == 1
    assert outside.exists(f"{name}/out.txt") and not inside.exists("a.txt")


def test_read_only_refuses(minio_settings, name):
    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_READ_ONLY=True)
    for call in (
        lambda: storage.copy(f"{name}/a", f"{name}/b"),
        lambda: storage.rename(f"{name}/a", f"{name}/b"),
        lambda: storage.delete_prefix(name),
    ):
        with pytest.raises(ReadOnlyStorageError):
            call()


def test_url_cache_forgets_changed_names(minio_settings, name, settings):
    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_URL_CACHING_ENABLED=True)
    storage.save(f"{name}/a.txt", ContentFile(b"a"))
    storage.save(f"{name}/b.txt", ContentFile(b"b"))
    urls = {n: storage.url(f"{name}/{n}") for n in ("a.txt", "b.txt")}
    assert storage.url(f"{name}/a.txt") == urls["a.txt"]  # cached
    from django_minio_backend.storage import urlcache

    def cached(n):
        from django.core.cache import caches

        key = urlcache.cache_key(storage.store, storage.store.key(f"{name}/{n}"))
        return caches[storage.options.url_cache_alias].get(key)

    assert cached("a.txt") and cached("b.txt")
    storage.copy(f"{name}/a.txt", f"{name}/b.txt")
    assert cached("b.txt") is None and cached("a.txt")
    storage.url(f"{name}/b.txt")
    storage.rename(f"{name}/a.txt", f"{name}/c.txt")
    assert cached("a.txt") is None
    storage.url(f"{name}/b.txt")
    storage.delete_prefix(name)
    assert cached("b.txt") is None


class _Empty:
    def read(self, size=-1):
        return b""
