"""The I/O core's promises (issue 12): exact writes, one header layout, copyable storages, clear errors."""

from __future__ import annotations

import copy
import io
import logging
import os
import pickle
import threading

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import InMemoryUploadedFile

from django_minio_backend.errors import BucketMissingError, UploadSizeError
from django_minio_backend.models import MinioBackend, MinioBackendStatic

from .conftest import PRIVATE
from .faultproxy import FaultProxy

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


# -- conditional writes on any server -------------------------------------------------------------


@pytest.fixture
def proxy(s3_server):
    with FaultProxy(s3_server.endpoint) as running:
        yield running


def through(proxy, **extra):
    return MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_ENDPOINT=proxy.endpoint, **extra)


def test_a_server_that_ignores_if_none_match_is_found_out_and_nothing_is_overwritten(
    minio_settings, storage, proxy, name, caplog
):
    proxy.set("strip_header", header="If-None-Match")  # a gateway that drops the header
    with caplog.at_level(logging.WARNING, logger="django_minio_backend"):
        first = through(proxy).save(f"{name}/same.txt", ContentFile(b"first"))
        second = through(proxy).save(f"{name}/same.txt", ContentFile(b"second"))
        third = through(proxy).save(f"{name}/same.txt", ContentFile(b"third"))
    assert first == f"{name}/same.txt"
    assert len({first, second, third}) == 3
    assert [stored(storage, n) for n in (first, second, third)] == [b"first", b"second", b"third"]
    warnings = [r.getMessage() for r in caplog.records if "ignores If-None-Match" in r.getMessage()]
    assert len(warnings) == 1  # once per endpoint and process
    assert proxy.endpoint in warnings[0] and "MINIO_CONDITIONAL_WRITES" in warnings[0]
    assert storage.listdir(name)[1] == sorted(n.rsplit("/", 1)[1] for n in (first, second, third))


def test_the_probe_costs_three_requests_once_per_endpoint(minio_settings, s3_server, counter, name):
    with FaultProxy(s3_server.endpoint) as learned, FaultProxy(s3_server.endpoint) as trusted:
        storage = through(learned, MINIO_HTTP_CLIENT=counter)
        storage.save(f"{name}/a.txt", ContentFile(b"a"))
        assert counter.methods() == ["PUT", "PUT", "DELETE", "PUT"]  # probe object: create, refused, delete
        counter.reset()
        through(learned, MINIO_HTTP_CLIENT=counter).save(f"{name}/b.txt", ContentFile(b"b"))
        assert counter.methods() == ["PUT"]
        counter.reset()
        through(trusted, MINIO_HTTP_CLIENT=counter, MINIO_CONDITIONAL_WRITES=True).save(
            f"{name}/c.txt", ContentFile(b"c")
        )
        assert counter.methods() == ["PUT"]
    assert not [key for key in MinioBackend(bucket_name=PRIVATE).listdir("")[1] if "probe" in key]


def test_conditional_writes_false_is_a_system_check_warning(minio_settings):
    from django_minio_backend import checks

    minio_settings.STORAGES["default"]["OPTIONS"]["MINIO_CONDITIONAL_WRITES"] = False
    ids = [message.id for message in checks.run_all()]
    assert "minio_backend.W012" in ids


def only_requests_for(name, method, *, parts=None):
    def match(request_method, target):
        if request_method != method or name not in target:
            return False
        return parts is None or (("uploadId" in target) == parts)

    return match


@pytest.mark.parametrize(
    "fault",
    [("status_after", {"status": 502}), ("cut_response", {"after": 0})],
    ids=["502 after the server stored it", "connection cut after the request"],
)
def test_a_conditional_put_retried_after_it_was_stored_is_stored_once(
    minio_settings, storage, proxy, name, fault
):
    kind, fields = fault
    target = through(proxy, MINIO_CONDITIONAL_WRITES=True)
    proxy.set(kind, times=1, match=only_requests_for(name, "PUT"), **fields)
    saved = target.save(f"{name}/once.txt", ContentFile(b"once"))
    assert len(proxy.faulted) == 1
    assert saved == f"{name}/once.txt"
    assert storage.listdir(name) == ([], ["once.txt"])
    assert stored(storage, saved) == b"once"


@pytest.mark.parametrize("step", ["claim or first request", "complete"])
def test_a_multipart_save_retried_after_it_was_stored_is_stored_once(
    minio_settings, s3_server, storage, proxy, name, step
):
    target = through(proxy, MINIO_CONDITIONAL_WRITES=True, **MULTIPART)
    target.save(f"{name}/warm.bin", ContentFile(b"x" * 6 * MiB))  # probes the multipart path once
    if step == "complete":
        match = only_requests_for(name, "POST", parts=True)
    else:
        match = lambda method, t: name in t and "big.bin" in t and "partNumber" not in t  # noqa: E731
    proxy.set("status_after", status=502, times=1, match=match)
    payload = os.urandom(6 * MiB)
    saved = target.save(f"{name}/big.bin", ContentFile(payload))
    assert len(proxy.faulted) == 1
    assert saved == f"{name}/big.bin"
    assert storage.listdir(name) == ([], ["big.bin", "warm.bin"])
    assert stored(storage, saved) == payload
    assert pending_uploads(s3_server, name) == []
