"""Exactly the declared bytes: the body of every write, and the single PUT.

- Exactly ``plan.length`` bytes are sent. A source that ends early, or still has bytes after the
  declared length, raises UploadSizeError naming the object before the last byte goes out: the
  request is abandoned mid-body (its connection is closed, never reused), so the server stores
  nothing, and the pool stays usable.
- Every PUT carries its body's Content-MD5 (``checksums.send``), so the server refuses a body
  changed on the way.
- A conditional PUT whose earlier attempt may have reached the server counts a later 412 as
  success when the stored object's ETag is the MD5 of what we sent: a retry never stores twice.
- ``RangeSource`` reads byte ranges of one seekable source from several threads (the parallel
  parts of multipart.py): ``os.pread`` on a plain file's descriptor, which needs no shared
  position and no lock; seek and read under one lock for anything else.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Iterator
from typing import Any

from ..errors import UnsupportedByServerError, UploadSizeError
from . import checksums, encryption, request
from .conditional import NameTaken, stored_etag
from .connection import Connection
from .plan import UploadPlan

CHUNK = 256 * 1024


def read_source(source: Any, size: int) -> bytes:
    """Up to ``size`` bytes of the content; SourceError (not retried) when reading it fails."""
    try:
        data = source.read(size)
    except Exception as error:
        raise request.SourceError(f"reading the content failed: {error}") from error
    return data.encode() if isinstance(data, str) else data


def exact_chunks(source: Any, length: int, name: str, *, last: bool, progress: Any = None) -> Iterator[bytes]:
    """``length`` bytes of ``source`` in chunks; UploadSizeError if it has fewer (or, if ``last``, more).

    The check for surplus bytes runs before the final chunk is handed out, so a request with a
    wrong size never completes.
    """
    remaining = length
    while remaining > 0:
        chunk = read_source(source, min(CHUNK, remaining))
        if not chunk:
            raise ended_early(name, length - remaining, length)
        chunk = chunk[:remaining]
        remaining -= len(chunk)
        if remaining == 0 and last and read_source(source, 1):
            raise too_long(name, length)
        if progress is not None and not checksums.is_hashing():
            progress.update(len(chunk))
        yield chunk
    if length == 0 and last and read_source(source, 1):
        raise too_long(name, 0)


class RangeSource:
    """Byte ranges of one seekable source, readable from several threads at once."""

    def __init__(self, source: Any, fd: int | None) -> None:
        self._source, self._fd = source, fd
        self._lock = threading.Lock()

    @classmethod
    def of(cls, source: Any) -> RangeSource:
        """pread on the descriptor of a plain binary file, also inside wrappers whose read() is the
        file's own (Django's File, a temporary file's wrapper); else seek and read under a lock."""
        raw = source
        for _ in range(4):
            if isinstance(raw, (io.FileIO, io.BufferedReader, io.BufferedRandom)):
                try:
                    return cls(source, raw.fileno())
                except (OSError, ValueError):
                    break
            inner = getattr(raw, "file", None)
            if inner is None or not _reads_through(raw, inner):
                break
            raw = inner
        return cls(source, None)

    def reader(self, offset: int) -> _RangeReader:
        return _RangeReader(self, offset)

    def read_at(self, offset: int, size: int) -> bytes:
        if self._fd is not None:
            return os.pread(self._fd, size, offset)
        with self._lock:
            self._source.seek(offset)
            return read_source(self._source, size)


def _reads_through(outer: Any, inner: Any) -> bool:
    """Whether ``outer.read`` is ``inner.read`` itself (no transformation in between)."""
    outer_read, inner_read = getattr(outer, "read", None), getattr(inner, "read", None)
    return getattr(outer_read, "__wrapped__", outer_read) == getattr(inner_read, "__wrapped__", inner_read)


class _RangeReader:
    """A file-like view reading forward from ``offset`` (what exact_chunks reads)."""

    def __init__(self, ranges: RangeSource, offset: int) -> None:
        self._ranges, self._offset = ranges, offset

    def read(self, size: int) -> bytes:
        try:
            data = self._ranges.read_at(self._offset, size)
        except OSError as error:
            raise request.SourceError(f"reading the content failed: {error}") from error
        self._offset += len(data)
        return data


def ended_early(name: str, got: int, declared: int) -> UploadSizeError:
    return UploadSizeError(
        f"Upload of {name!r} stopped: the content ended after {got} bytes, but its declared size is "
        f"{declared}. Nothing was stored under that name; fix the file's size."
    )


def too_long(name: str, declared: int) -> UploadSizeError:
    return UploadSizeError(
        f"Upload of {name!r} stopped: the content has more than its declared size of {declared} bytes. "
        "Nothing was stored under that name; fix the file's size."
    )


def md5_of_plan(plan: UploadPlan) -> str:
    plan.rewind()
    digest = hashlib.md5(usedforsecurity=False)
    for chunk in exact_chunks(plan.source, plan.length, plan.name, last=False):
        digest.update(chunk)
    return digest.hexdigest()


def put_single(conn: Connection, bucket: str, key: str, plan: UploadPlan, *, new: bool) -> str:
    """One PUT of the whole plan; with ``new``, ``If-None-Match: *`` (NameTaken when taken). The ETag.

    A write asking for server-side encryption whose answer does not confirm it is deleted again
    and refused: the package never leaves plaintext behind believing it encrypted.
    """
    headers = {**plan.headers, "Content-Type": plan.content_type}
    if new:
        headers["If-None-Match"] = "*"

    def body() -> Iterator[bytes]:
        plan.rewind()
        return exact_chunks(plan.source, plan.length, plan.name, last=True, progress=plan.progress)

    response, attempts = checksums.send(
        conn, "PUT", bucket, key, headers=headers, body=body, length=plan.length
    )
    if new and response.status == 412:
        if attempts > 1 and stored_etag(conn, bucket, key) == md5_of_plan(plan):
            return md5_of_plan(plan)  # our own earlier attempt stored it
        raise NameTaken(key)
    request.check(response, bucket, key)
    mode = plan.encryption
    if mode and not encryption.confirmed(mode, response.headers):
        conn.client.remove_object(bucket_name=bucket, object_name=key)
        raise UnsupportedByServerError(
            f"{conn.endpoint} stored {bucket}/{key} without confirming {mode} encryption in its answer, "
            f"so it was deleted again. The server does not apply {mode}: use one that does, or remove "
            "MINIO_SERVER_SIDE_ENCRYPTION (or the sse/headers argument)."
        )
    return request.etag_of(response)
