"""Parallel parts of one multipart upload, and learning If-None-Match on completion in band (issue 24).

Each test starts with nothing learned (tests/conftest.py resets core/state.py), as a new process.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile

import pytest
from django.core.files import File
from django.core.files.base import ContentFile

from django_minio_backend.core import capabilities, state
from django_minio_backend.models import MinioBackend

from tests.support import MULTIPART, PRIVATE, NonSeekableStream, stored

MiB = 1024 * 1024
SIZE = 23 * MiB  # five 5 MiB parts, the last one short


def _storage(counter, parallel: int, **options) -> MinioBackend:
    return MinioBackend(
        bucket_name=PRIVATE,
        storage_name="default",
        replace_existing=options.pop("replace_existing", True),
        num_parallel_uploads=parallel,
        MINIO_HTTP_CLIENT=counter,
        **MULTIPART,
        **options,
    )


def _parts(counter) -> list[str]:
    return [line for line in counter.lines() if line.startswith("PUT ") and "partNumber=" in line]


@pytest.fixture
def data() -> bytes:
    return os.urandom(SIZE)


@pytest.mark.parametrize("parallel", [1, 4])
def test_parts_in_flight_are_bounded_by_num_parallel_uploads(minio_settings, counter, name, data, parallel):
    storage = _storage(counter, parallel)
    with tempfile.TemporaryFile() as handle:
        handle.write(data)
        storage.save(f"{name}/big.bin", File(handle))
    assert len(_parts(counter)) == 5
    assert counter.peak_active <= parallel
    if parallel > 1:
        assert counter.peak_active >= 2  # parts overlapped
    assert stored(storage, f"{name}/big.bin") == data


@pytest.mark.parametrize(
    "source",
    [
        "file",  # a plain file: each part reads its range with os.pread
        "bytesio",  # seekable, no descriptor: ranges read under one lock
        "stream",  # cannot seek: parts read in order into reused buffers
    ],
)
def test_every_source_stores_exactly_its_bytes_in_parallel(minio_settings, counter, name, data, source):
    storage = _storage(counter, 4)
    with tempfile.TemporaryFile() as handle:
        handle.write(data)
        content = {
            "file": File(handle),
            "bytesio": File(io.BytesIO(data)),
            "stream": NonSeekableStream(data, chunk=MiB),
        }[source]
        storage.save(f"{name}/{source}.bin", content)
    got = stored(storage, f"{name}/{source}.bin")
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    assert counter.peak_active >= 2


class _FailingAt(io.RawIOBase):
    """A seekable source whose read fails once a read reaches ``fail_at``."""

    def __init__(self, data: bytes, fail_at: int) -> None:
        super().__init__()
        self._data, self._fail_at, self._pos = data, fail_at, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._pos = offset if whence == io.SEEK_SET else len(self._data) + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._pos + size
        if end > self._fail_at:
            raise OSError("disk gone")
        chunk = self._data[self._pos : end]
        self._pos += len(chunk)
        return chunk


@pytest.mark.parametrize("source", ["seekable", "stream"])
def test_a_failing_part_aborts_the_upload_and_stores_nothing(minio_settings, counter, name, data, source):
    storage = _storage(counter, 4)
    fail_at = 17 * MiB  # inside the fourth part
    content = {
        "seekable": File(_FailingAt(data, fail_at), name="x.bin"),
        "stream": NonSeekableStream(data[:fail_at], chunk=MiB),  # ends early: a wrong size
    }[source]
    if source == "stream":
        content.size = SIZE  # declares more than it holds
    with pytest.raises(Exception):  # noqa: B017 (the size error or the source's OSError, wrapped)
        storage.save(f"{name}/broken.bin", content)
    assert not storage.exists(f"{name}/broken.bin")
    assert list(storage.store.pending_uploads(f"{name}/")) == []
    assert any("uploadId=" in line and line.startswith("DELETE ") for line in counter.lines())


@pytest.mark.s3_needs("conditional-put")  # else new names are HEAD then PUT, whatever their size
def test_the_first_big_new_name_save_learns_completion_without_a_probe_upload(
    minio_settings, counter, name, data
):
    storage = _storage(counter, 4, replace_existing=False)
    with tempfile.TemporaryFile() as handle:
        handle.write(data)
        first = storage.save(f"{name}/big.bin", File(handle))
        learned = state.STATE.capability(storage.store.endpoint, "if-none-match-complete")
        creates = [line for line in counter.lines() if line.startswith("POST ") and "uploads" in line]
        assert len(creates) == 1  # the upload itself: no probe upload
        assert learned is not None
        # PUT probe (3), claim, create, 5 parts, the completion (and a second one where refused)
        assert len(counter.requests) == 3 + 1 + 1 + 5 + (2 if learned else 1)
        assert stored(storage, first) == data

        counter.reset()
        handle.seek(0)
        second = storage.save(f"{name}/big.bin", File(handle))
    assert second != first and stored(storage, second) == data
    creates = [line for line in counter.lines() if line.startswith("POST ") and "uploads" in line]
    assert len(creates) == 1
    # honoured: a HEAD per name tried (taken, then free); else a claim per name tried (refused, then taken)
    assert counter.methods().count("PUT") == 5 + (0 if learned else 2)
    state.reset()
    assert storage.store.honours_if_none_match(capabilities.COMPLETE) is learned  # the probe agrees


def test_a_new_name_taken_during_the_learning_upload_is_never_overwritten(
    minio_settings, counter, name, data
):
    storage = _storage(counter, 4, replace_existing=False)
    storage.save(f"{name}/big.bin", ContentFile(b"first"))
    counter.reset()
    with tempfile.TemporaryFile() as handle:
        handle.write(data)
        second = storage.save(f"{name}/big.bin", File(handle))
    assert second != f"{name}/big.bin"
    assert stored(storage, f"{name}/big.bin") == b"first"
    assert stored(storage, second) == data
