"""The async Storage API against a real server: the same bytes, names and request counts as the
sync methods, every request made off the event loop's thread, and aopen()'s async file."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest
from django.core.files.base import ContentFile

from django_minio_backend.errors import ObjectChangedError
from django_minio_backend.files.async_reader import CHUNK_SIZE
from django_minio_backend.models import MinioBackend, MinioBackendStatic, MinioMultiBucketStorage

from tests.support import MULTI, PRIVATE, PUBLIC, STATIC, CountingPoolManager, MiB, put


class ThreadRecordingPool(CountingPoolManager):
    """A counting pool that also records which thread sent each request."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.threads: list[int] = []

    def urlopen(self, method, url, redirect=True, **kwargs):
        self.threads.append(threading.get_ident())
        return super().urlopen(method, url, redirect=redirect, **kwargs)


def run(coroutine):
    return asyncio.run(coroutine)


def test_every_async_method_makes_the_requests_of_its_sync_twin(counted_storage, counter, name):
    storage = counted_storage
    payload = os.urandom(300_000)

    def counts(call) -> list[str]:
        counter.reset()
        call()
        return counter.methods()

    sync_name = storage.save(f"{name}/sync.bin", ContentFile(payload))
    counter.reset()
    async_name = run(storage.asave(f"{name}/async.bin", ContentFile(payload)))
    async_save = counter.methods()
    counter.reset()
    storage.save(f"{name}/sync2.bin", ContentFile(payload))
    assert async_save == counter.methods()
    pairs = [
        (lambda: storage.exists(sync_name), lambda: run(storage.aexists(async_name))),
        (lambda: storage.size(sync_name), lambda: run(storage.asize(async_name))),
        (lambda: storage.stat(sync_name), lambda: run(storage.astat(async_name))),
        (lambda: storage.get_modified_time(sync_name), lambda: run(storage.aget_modified_time(async_name))),
        (lambda: storage.listdir(name), lambda: run(storage.alistdir(name))),
        (lambda: storage.url(sync_name), lambda: run(storage.aurl(async_name))),
        (lambda: storage.exists(f"{name}/none"), lambda: run(storage.aexists(f"{name}/none"))),
    ]
    for sync_call, async_call in pairs:
        assert counts(sync_call) == counts(async_call)
    assert run(storage.asize(async_name)) == len(payload)
    assert run(storage.aexists(async_name)) and not run(storage.aexists(f"{name}/none"))
    assert sorted(run(storage.alistdir(name))[1]) == ["async.bin", "sync.bin", "sync2.bin"]
    assert run(storage.aget_modified_time(async_name)) == storage.get_modified_time(async_name)
    assert counts(lambda: run(storage.adelete(async_name))) == ["DELETE"]
    assert counts(lambda: run(storage.adelete_many([sync_name, f"{name}/sync2.bin"]))) == ["POST"]
    assert run(storage.alistdir(name)) == ([], [])


def test_async_saves_of_one_name_get_distinct_names_and_exact_bytes(storage, name):
    payloads = [os.urandom(10_000 + i) for i in range(6)]

    async def main():
        return await asyncio.gather(*(storage.asave(f"{name}/same.bin", ContentFile(p)) for p in payloads))

    saved = run(main())
    assert len(set(saved)) == len(payloads)
    for saved_name, payload in zip(saved, payloads, strict=True):
        with storage.open(saved_name) as handle:
            assert handle.read() == payload


def test_no_request_is_made_on_the_event_loop_thread(minio_settings, name):
    pool = ThreadRecordingPool()
    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_HTTP_CLIENT=pool)
    payload = os.urandom(6 * MiB)

    async def main() -> int:
        saved = await storage.asave(f"{name}/big.bin", ContentFile(payload))
        await storage.aexists(saved)
        async with await storage.aopen(saved) as handle:
            assert b"".join([chunk async for chunk in handle]) == payload
        await storage.adelete(saved)
        return threading.get_ident()

    loop_thread = run(main())
    assert pool.threads and loop_thread not in pool.threads


def test_aopen_reads_awaits_iterates_and_closes(storage, name):
    payload = os.urandom(CHUNK_SIZE * 3 + 1234)
    saved = storage.save(f"{name}/f.bin", ContentFile(payload))

    async def main():
        handle = await storage.aopen(saved)
        assert handle.size == len(payload)
        head = await handle.read(100)
        chunks = [chunk async for chunk in handle]
        await handle.aclose()
        assert handle.closed
        async with await storage.aopen(saved) as again:
            await again.seek(len(payload) - 10)
            tail = await again.read()
        assert again.closed
        return head, chunks, tail

    head, chunks, tail = run(main())
    assert head + b"".join(chunks) == payload
    assert all(0 < len(chunk) <= CHUNK_SIZE for chunk in chunks)
    assert tail == payload[-10:]


def test_aopen_text_mode_and_missing_file(storage, name):
    saved = storage.save(f"{name}/t.txt", ContentFile("héllo\nwörld\n".encode()))

    async def main():
        async with await storage.aopen(saved, "r") as handle:
            first = await handle.readline()
            rest = await handle.read()
        with pytest.raises(FileNotFoundError):
            await storage.aopen(f"{name}/missing.txt")
        return first, rest

    assert run(main()) == ("héllo\n", "wörld\n")


def test_aopen_rereads_stay_pinned_to_the_first_version(storage, s3_server, name):
    saved = storage.save(f"{name}/p.bin", ContentFile(b"a" * 500_000))

    async def main():
        async with await storage.aopen(saved) as handle:
            assert await handle.read(10) == b"a" * 10
            put(s3_server, PRIVATE, storage.store.key(saved), b"b" * 500_000)
            await handle.seek(400_000)  # drops the first GET: the next read is a pinned re-GET
            with pytest.raises(ObjectChangedError):
                await handle.read(10)

    run(main())


def test_static_and_router_storages_have_the_async_api(minio_settings, name):
    static = MinioBackendStatic(bucket_name=STATIC, storage_name="staticfiles")
    router = MinioMultiBucketStorage(MINIO_URL_SCHEMES={"minio": "default"})

    async def main():
        saved = await static.asave(f"{name}/s.css", ContentFile(b"body{}"))
        assert await static.aexists(saved)
        assert (await static.aurl(saved)).endswith(f"/{saved}")
        await static.adelete(saved)
        full = await router.asave(f"minio://{PUBLIC}/{name}/r.txt", ContentFile(b"routed"))
        assert full.startswith(f"minio://{PUBLIC}/{name}/")
        assert await router.asize(full) == 6
        async with await router.aopen(full) as handle:
            assert await handle.read() == b"routed"
        assert (await router.alistdir(f"minio://{PUBLIC}/{name}"))[1] == ["r.txt"]
        await router.adelete_many([full])
        assert not await router.aexists(full)

    assert MULTI.endswith("MinioMultiBucketStorage")
    run(main())
