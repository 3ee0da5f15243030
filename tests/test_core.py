"""The I/O core's promises (issue 12): exact writes, one header layout, copyable storages, clear errors."""

from __future__ import annotations

import copy
import io
import os
import pickle
import threading

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import InMemoryUploadedFile

from django_minio_backend.errors import BucketMissingError, UploadSizeError
from django_minio_backend.models import MinioBackend, MinioBackendStatic

from .conftest import PRIVATE

MiB = 1024 * 1024
MULTIPART = {
    "MINIO_MULTIPART_UPLOAD": True,
    "MINIO_MULTIPART_THRESHOLD": 5 * MiB,
    "MINIO_MULTIPART_PART_SIZE": 5 * MiB,
}


def stored(storage, name):
    with storage.open(name) as handle:
        return handle.read()


def declared(data: bytes, size: int, name: str = "u.bin") -> InMemoryUploadedFile:
    return InMemoryUploadedFile(
        io.BytesIO(data), "f", name, "application/octet-stream", size=size, charset=None
    )


def pending_uploads(s3_server, prefix):
    return list(s3_server.client()._list_multipart_uploads(bucket_name=PRIVATE, prefix=prefix).uploads)


# -- exact writes ---------------------------------------------------------------------------------

SIZES = {
    # path: (payload, declared size)
    "single, more than declared": (b"0123456789ABCDEFGHIJ", 5),
    "single, less than declared": (b"0123456789ABCDEFGHIJ", 50),
    "multipart, more than declared": (os.urandom(12 * MiB), 11 * MiB),
    "multipart, less than declared": (os.urandom(11 * MiB), 12 * MiB),
}


@pytest.mark.parametrize("replace", [False, True], ids=["new name", "replace_existing"])
@pytest.mark.parametrize("case", list(SIZES))
def test_a_wrong_declared_size_stores_nothing_and_the_pool_stays_usable(
    minio_settings, s3_server, storage, name, case, replace
):
    payload, size = SIZES[case]
    target = MinioBackend(
        bucket_name=PRIVATE,
        storage_name="default",
        replace_existing=replace,
        MINIO_READ_TIMEOUT=5,
        **MULTIPART,
    )
    storage.save(f"{name}/victim.txt", ContentFile(b"victim"))
    if replace:
        storage.save(f"{name}/u.bin", ContentFile(b"old"))
    with pytest.raises(UploadSizeError, match=r"u\.bin.*declared size"):
        target.save(f"{name}/u.bin", declared(payload, size))
    # The next requests on the same pool succeed: nothing of the failed body is left on a connection.
    assert target.size(f"{name}/victim.txt") == 6
    assert stored(target, f"{name}/victim.txt") == b"victim"
    if replace:
        assert stored(storage, f"{name}/u.bin") == b"old"
    else:
        assert not storage.exists(f"{name}/u.bin")
    assert pending_uploads(s3_server, name) == []


def test_the_declared_size_is_what_is_sent(storage, name):
    saved = storage.save(f"{name}/exact.bin", declared(b"0123456789", 10))
    assert stored(storage, saved) == b"0123456789"


# -- headers are the same on every path -----------------------------------------------------------


@pytest.mark.parametrize("path", ["new name", "replace_existing", "multipart new name", "multipart replace"])
def test_headers_argument_is_stored_the_same_on_every_path(minio_settings, s3_server, name, path):
    extra = MULTIPART if path.startswith("multipart") else {}
    storage = MinioBackend(
        bucket_name=PRIVATE,
        storage_name="default",
        replace_existing=path.endswith("replace") or path == "replace_existing",
        headers={"X-Custom": "kept", "Expires": "Thu, 01 Dec 2044 16:00:00 GMT", "Cache-Control": "no-cache"},
        **extra,
    )
    size = 6 * MiB if extra else 10
    saved = storage.save(f"{name}/h.bin", ContentFile(b"x" * size))
    metadata = {
        k.lower(): v
        for k, v in s3_server.client().stat_object(bucket_name=PRIVATE, object_name=saved).metadata.items()
    }
    assert metadata["x-amz-meta-x-custom"] == "kept"
    assert metadata["expires"] == "Thu, 01 Dec 2044 16:00:00 GMT"
    assert metadata["cache-control"] == "no-cache"
    assert "x-custom" not in metadata


# -- storages are plain objects: pickle, deep-copy, one pool --------------------------------------


@pytest.mark.parametrize("cls", [MinioBackend, MinioBackendStatic])
def test_used_storages_pickle_and_deep_copy(minio_settings, name, cls):
    storage = cls(storage_name="default")
    saved = storage.save(f"{name}/p.txt", ContentFile(b"pickled"))
    assert storage.exists(saved)
    for clone in (copy.deepcopy(storage), pickle.loads(pickle.dumps(storage))):
        assert clone.bucket == storage.bucket
        assert clone.exists(saved)
        assert stored(clone, saved) == b"pickled"
    storage.delete(saved)


def test_concurrent_first_use_builds_one_pool_and_one_client(storage):
    barrier = threading.Barrier(8)
    seen = []

    def first_use():
        barrier.wait()
        seen.append((storage.client, storage.store.http))

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(seen) == 8
    assert len({id(client) for client, _ in seen}) == 1
    assert len({id(pool) for _, pool in seen}) == 1


# -- a missing bucket is named as such ----------------------------------------------------------


@pytest.mark.parametrize(
    "operation",
    [
        lambda s, n: s.save(f"{n}/a.txt", ContentFile(b"a")),
        lambda s, n: s.open(f"{n}/a.txt").read(),
        lambda s, n: s.listdir(n),
    ],
    ids=["save", "open", "listdir"],
)
def test_a_missing_bucket_is_reported_with_the_fix(minio_settings, name, operation):
    storage = MinioBackend(bucket_name="no-such-bucket-here", storage_name="default")
    with pytest.raises(BucketMissingError, match=r"no-such-bucket-here.*initialize_buckets"):
        operation(storage, name)
