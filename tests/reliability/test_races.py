"""Race-free unique names: concurrent saves of one name never overwrite each other.

Where the server honours ``If-None-Match: *`` on PUT (``conditional-put``) that holds across
threads and processes. Where it does not (OpenStack Swift), the package falls back to HEAD then
PUT: saves of one name in one process hold one lock from the HEAD to the end of the PUT, so threads
still get distinct names; across processes it promises less: every save succeeds, every name it
returns holds the whole payload of one of the writers it returned that name to, and the listing
shows exactly the names returned; two processes may get the same name, and then the last one's
payload is what is stored.
"""

import logging
import multiprocessing
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.files.base import ContentFile

from django_minio_backend.models import MinioBackend

from tests.support import PRIVATE, stored

WRITERS = 32


def race_pairs(storage, name, writers=WRITERS):
    """``writers`` threads save ``name`` at the same moment; returns [(saved name, payload)]."""
    payloads = [f"payload {i} ".encode() * 50 for i in range(writers)]
    storage.exists(name)  # warm the pool and the client before the barrier
    barrier = threading.Barrier(writers)

    def save(payload):
        barrier.wait()
        return storage.save(name, ContentFile(payload)), payload

    with ThreadPoolExecutor(max_workers=writers) as pool:
        return list(pool.map(save, payloads))


def race(storage, name, writers=WRITERS):
    """As :func:`race_pairs`, as {saved name: payload} (a name given twice keeps one payload)."""
    return dict(race_pairs(storage, name, writers))


@pytest.mark.s3_needs("conditional-put")
def test_32_threads_saving_one_name_keep_32_distinct_objects(storage, name):
    results = race(storage, f"{name}/same.txt")
    assert len(results) == WRITERS
    assert f"{name}/same.txt" in results
    for saved, payload in results.items():
        assert stored(storage, saved) == payload
    assert len(storage.listdir(name)[1]) == WRITERS


def test_32_threads_saving_one_name_keep_32_distinct_objects_on_every_server(storage, name, caplog):
    """On Swift it is HEAD then PUT, learned from the 501, and one process's saves take turns."""
    caplog.set_level(logging.WARNING, logger="django_minio_backend")
    results = race(storage, f"{name}/same.txt")
    assert len(results) == WRITERS
    for saved, payload in results.items():
        assert stored(storage, saved) == payload
    assert len(storage.listdir(name)[1]) == WRITERS
    fallbacks = [r for r in caplog.records if "ignores If-None-Match on PUT" in r.getMessage()]
    assert len(fallbacks) <= 1  # learned once, however many savers asked at the same moment


def test_head_then_put_keeps_the_threads_of_one_process_apart(minio_settings, name):
    """MINIO_CONDITIONAL_WRITES = False: HEAD then PUT under the process's lock for that name."""
    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_CONDITIONAL_WRITES=False)
    results = race(storage, f"{name}/same.txt")
    assert len(results) == WRITERS
    assert len(storage.listdir(name)[1]) == WRITERS
    for saved, payload in results.items():
        assert stored(storage, saved) == payload


@pytest.mark.s3_needs("conditional-put")  # the claim is a conditional PUT
def test_big_uploads_racing_for_one_name_claim_distinct_names(minio_settings, name):
    storage = MinioBackend(
        bucket_name=PRIVATE,
        storage_name="default",
        MINIO_MULTIPART_UPLOAD=True,
        MINIO_MULTIPART_THRESHOLD=1024,
        MINIO_MULTIPART_PART_SIZE=5 * 1024 * 1024,
    )
    results = race(storage, f"{name}/big.bin", writers=6)
    assert len(results) == 6
    for saved, payload in results.items():
        assert stored(storage, saved) == payload


@pytest.mark.s3_needs("conditional-put")
def test_new_name_is_one_conditional_put(counted_storage, counter, name):
    counted_storage.save(f"{name}/a.txt", ContentFile(b"first"))
    assert counter.methods() == ["PUT"]
    counter.reset()
    second = counted_storage.save(f"{name}/a.txt", ContentFile(b"second"))
    assert second != f"{name}/a.txt"
    assert counter.methods() == ["PUT", "PUT"]  # 412 on the taken name, then the new one
    assert stored(counted_storage, second) == b"second"
    assert stored(counted_storage, f"{name}/a.txt") == b"first"


@pytest.mark.s3_needs("conditional-put")
def test_conditional_put_keeps_content_type_headers_and_metadata(minio_settings, counter, name):
    storage = MinioBackend(
        bucket_name=PRIVATE,
        storage_name="default",
        MINIO_HTTP_CLIENT=counter,
        MINIO_CONDITIONAL_WRITES=True,  # stated: the count is the save's own
        MINIO_CACHE_CONTROL="max-age=60",
        MINIO_CONTENT_DISPOSITION=lambda n: f'attachment; filename="{n.rsplit("/", 1)[-1]}"',
        MINIO_METADATA={"origin": "tests"},
        metadata={"Owner": "alice"},
    )
    saved = storage.save(f"{name}/page.html", ContentFile(b"<p>hi</p>"))
    assert counter.methods() == ["PUT"]
    stat = storage.stat(saved)
    assert stat.content_type == "text/html"
    assert stat.metadata["Cache-Control"] == "max-age=60"
    assert stat.metadata["Content-Disposition"] == 'attachment; filename="page.html"'
    assert stat.metadata["x-amz-meta-origin"] == "tests"
    assert stat.metadata["x-amz-meta-owner"] == "alice"


def test_alternative_names_respect_max_length(storage, name):
    first = storage.save(f"{name}/report.txt", ContentFile(b"1"), max_length=len(name) + 11)
    second = storage.save(f"{name}/report.txt", ContentFile(b"2"), max_length=len(name) + 16)
    assert first == f"{name}/report.txt"
    assert second != first and len(second) <= len(name) + 16
    assert stored(storage, second) == b"2"


def test_failed_big_upload_releases_its_claimed_name(minio_settings, name):
    storage = MinioBackend(
        bucket_name=PRIVATE,
        storage_name="default",
        MINIO_MULTIPART_UPLOAD=True,
        MINIO_MULTIPART_THRESHOLD=1024,
    )

    class Broken:
        def read(self, size=-1):
            raise OSError("disk read failed")

    with pytest.raises(OSError, match="disk read failed"):
        storage.save(f"{name}/broken.bin", Broken())
    assert not storage.exists(f"{name}/broken.bin")


def _process_save(options, name, index, barrier):
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(STORAGES={}, USE_TZ=True)
        django.setup()
    storage = MinioBackend(bucket_name=PRIVATE, **options)
    storage.exists(name)
    barrier.wait()
    return storage.save(name, ContentFile(f"process {index}".encode()))


def _process_race(options, name, processes=4):
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(processes)
        with context.Pool(processes) as pool:
            args = [(dict(options), name, i, barrier) for i in range(processes)]
            return pool.starmap(_process_save, args)


def test_processes_without_conditional_writes_keep_what_head_then_put_promises(minio_options, storage, name):
    """Across processes HEAD then PUT may give two writers one name; nothing is spliced or lost silently."""
    options = {**minio_options, "MINIO_CONDITIONAL_WRITES": False}
    saved = _process_race(options, f"{name}/p.txt")
    given: dict[str, set[bytes]] = {}
    for index, each in enumerate(saved):
        given.setdefault(each, set()).add(f"process {index}".encode())
    for each, payloads in given.items():
        assert stored(storage, each) in payloads
    assert sorted(f"{name}/{each}" for each in storage.listdir(name)[1]) == sorted(given)


@pytest.mark.s3_needs("conditional-put")
def test_processes_saving_one_name_keep_distinct_objects(minio_options, storage, name):
    processes = min(4, (os.cpu_count() or 2) * 2)
    saved = _process_race(minio_options, f"{name}/p.txt", processes)
    assert len(set(saved)) == processes
    contents = {stored(storage, each) for each in saved}
    assert contents == {f"process {i}".encode() for i in range(processes)}
