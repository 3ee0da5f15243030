"""Multipart uploads: parts sent in parallel from the source, completion, abort, leftovers.

Up to ``plan.parallel`` parts are in flight at once (``num_parallel_uploads``, as minio-py names
it), on a thread pool that lives for one upload. The first failing part stops new parts from
starting; the parts still in flight finish before the upload is aborted, so no part lands after
the abort.

- A seekable source is never buffered: each part reads its own byte range, with ``os.pread`` on
  a plain file (no shared position, no lock) and with seek and read under one lock otherwise.
  Each attempt reads its range again, so a retried part resends the same bytes. Memory: a
  256 KiB chunk per part in flight.
- A stream that cannot rewind is read, in order, into part buffers that are reused: at most
  ``parallel`` buffers of ``part_size`` (a part is read when a slot is free), so a retry can
  resend a part and memory stays bounded whatever the object's size.

A completion retried after an earlier attempt finished counts as success when the stored ETag is
the multipart ETag of our parts. ``complete_learning`` completes a new-name upload over its own
claim while finding out whether the server honours ``If-None-Match`` on completion (see
store.py), so learning that costs one request, not a probe upload.

Incomplete uploads are listed with our own request and parsed by minio's public
``ListMultipartUploadsResult``: minio-py's own listing call (``_list_multipart_uploads``) is
private. The page's NextUploadIdMarker is read here, because minio 7.2 stores it under a wrong
attribute name (its ``next_upload_id_marker`` is always None).
"""

from __future__ import annotations

import hashlib
import logging
import queue
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime
from typing import Any

import urllib3
from minio.datatypes import ListMultipartUploadsResult

from ..errors import StorageServerError
from . import checksums, request
from .conditional import NameTaken, claim, claim_headers, release_claim, stored_etag
from .connection import Connection
from .plan import UploadPlan
from .put import CHUNK, RangeSource, ended_early, exact_chunks, read_source, too_long

logger = logging.getLogger("django_minio_backend")


class UploadGone(Exception):
    """The server dropped the upload after refusing its conditional completion: nothing was stored."""


def put_multipart(
    conn: Connection,
    bucket: str,
    key: str,
    plan: UploadPlan,
    *,
    new: bool = False,
    learn: Callable[[bool], None] | None = None,
) -> str:
    """Upload ``plan`` in parts; with ``new``, complete with ``If-None-Match: *``. The ETag.

    With ``learn`` (the key holds our own claim), completion finds out whether the server honours
    If-None-Match on it (``complete_learning``) and hands the answer to ``learn``.
    """
    upload_id = create(conn, bucket, key, {**plan.headers, "Content-Type": plan.content_type})
    try:
        etags = _upload_parts(conn, bucket, key, plan, upload_id)
        if learn is not None:
            etag, honoured = complete_learning(conn, bucket, key, upload_id, etags, plan.part_headers)
            learn(honoured)
            return etag
        return complete(
            conn,
            bucket,
            key,
            upload_id,
            etags,
            new=new,
            rewindable=plan.start is not None,
            headers=plan.part_headers,
        )
    except BaseException:
        abort_quietly(conn, bucket, key, upload_id)
        raise


def put_claimed(
    conn: Connection, bucket: str, key: str, plan: UploadPlan, learn: Callable[[bool], None] | None = None
) -> str:
    """Claim ``key`` (NameTaken if it exists), then upload over the claim; the claim goes on failure.

    With ``learn``, see ``put_multipart`` (and ``UploadGone``: the upload is sent once more).
    """
    claim(conn, bucket, key, claim_headers(plan.headers))
    try:
        try:
            return put_multipart(conn, bucket, key, plan, learn=learn)
        except UploadGone:
            return put_multipart(conn, bucket, key, plan)
    except BaseException:
        release_claim(conn, bucket, key)
        raise


def create(conn: Connection, bucket: str, key: str, headers: dict[str, str]) -> str:
    """CreateMultipartUpload; the upload id."""
    response = request.empty(conn, "POST", bucket, key, headers=headers, query={"uploads": ""})
    request.check(response, bucket, key)
    return ET.fromstring(response.data).findtext("{*}UploadId") or ""


def _part_lengths(plan: UploadPlan) -> Iterator[tuple[int, int, bool]]:
    """(part number, length, is last) for a known total length; endless parts for an unknown one."""
    number, remaining = 1, plan.length
    while True:
        if plan.length < 0:
            yield number, plan.part_size, False
        else:
            size = min(plan.part_size, remaining)
            remaining -= size
            yield number, size, remaining == 0
            if remaining == 0:
                return
        number += 1


def _upload_parts(conn: Connection, bucket: str, key: str, plan: UploadPlan, upload_id: str) -> list[str]:
    if plan.length < 0 or plan.start is None:
        return _upload_buffered_parts(conn, bucket, key, plan, upload_id)
    ranges = RangeSource.of(plan.source)

    def jobs() -> Iterator[Callable[[], str]]:
        for number, size, last in _part_lengths(plan):
            offset = plan.start + (number - 1) * plan.part_size

            def body(offset: int = offset, size: int = size, last: bool = last) -> Iterator[bytes]:
                reader = ranges.reader(offset)
                return exact_chunks(reader, size, plan.name, last=last, progress=plan.progress)

            yield lambda number=number, body=body, size=size: upload_part(
                conn, bucket, key, plan, upload_id, number, body, size
            )

    return run_parts(jobs(), plan.parallel)


def run_parts(jobs: Iterable[Callable[[], str]], parallel: int) -> list[str]:
    """Run the part uploads ``jobs`` (in order), at most ``parallel`` at once; their ETags in order.

    ``jobs`` is consumed in the calling thread (a stream is read there, in order). On the first
    failure no further job starts, the running ones finish, and the failure is raised.
    """
    if parallel <= 1:
        return [job() for job in jobs]
    etags: list[str | None] = []
    running: dict[Future, int] = {}
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="minio-part") as pool:
        try:
            jobs = iter(jobs)
            while True:
                if len(running) >= parallel:  # a slot first: a stream's next part is read into it
                    _collect(running, etags, FIRST_COMPLETED)
                job = next(jobs, None)
                if job is None:
                    break
                etags.append(None)
                running[pool.submit(job)] = len(etags) - 1
            _collect(running, etags, ALL_COMPLETED)
        except BaseException:
            for future in running:
                future.cancel()
            wait(running)
            raise
    return [etag for etag in etags if etag is not None]


def _collect(running: dict[Future, int], etags: list[str | None], when: str) -> None:
    done, _ = wait(running, return_when=when)
    for future in done:
        index = running.pop(future)
        etags[index] = future.result()  # raises the part's error


def _upload_buffered_parts(
    conn: Connection, bucket: str, key: str, plan: UploadPlan, upload_id: str
) -> list[str]:
    buffers = _Buffers(plan.part_size, plan.parallel)

    def jobs() -> Iterator[Callable[[], str]]:
        for number, size, last in _part_lengths(plan):
            buffer = buffers.take()
            try:
                filled = buffer.fill(plan.source, size, plan.name, exact=plan.length >= 0, last=last)
            except BaseException:
                buffers.give(buffer)
                raise
            if filled == 0 and number > 1:
                buffers.give(buffer)
                return
            yield lambda number=number, buffer=buffer, filled=filled: _send_buffer(number, buffer, filled)
            if filled < size:
                return

    def _send_buffer(number: int, buffer: PartBuffer, filled: int) -> str:
        try:
            etag = upload_part(conn, bucket, key, plan, upload_id, number, buffer.body(filled), filled)
        finally:
            buffers.give(buffer)
        if plan.progress is not None:
            plan.progress.update(filled)
        return etag

    return run_parts(jobs(), plan.parallel)


class _Buffers:
    """Part buffers made on demand, at most ``limit``, each reused once its part is sent."""

    def __init__(self, size: int, limit: int) -> None:
        self._size, self._limit, self._made = size, limit, 0
        self._free: queue.SimpleQueue[PartBuffer] = queue.SimpleQueue()

    def take(self) -> PartBuffer:
        if self._free.empty() and self._made < self._limit:
            self._made += 1
            return PartBuffer(self._size)
        return self._free.get()

    def give(self, buffer: PartBuffer) -> None:
        self._free.put(buffer)


class PartBuffer:
    """One part's bytes, in a buffer reused for every part of an upload."""

    def __init__(self, size: int) -> None:
        self._buffer = bytearray(size)
        self._view = memoryview(self._buffer)

    def fill(self, source: Any, size: int, name: str, *, exact: bool, last: bool) -> int:
        """Read up to ``size`` bytes; with ``exact``, exactly ``size`` (and, if ``last``, no more)."""
        filled = 0
        while filled < size:
            chunk = read_source(source, min(CHUNK * 4, size - filled))[: size - filled]
            if not chunk:
                break
            self._view[filled : filled + len(chunk)] = chunk
            filled += len(chunk)
        if exact and filled < size:
            raise ended_early(name, filled, size)
        if exact and last and read_source(source, 1):
            raise too_long(name, size)
        return filled

    def body(self, length: int) -> Callable[[], Iterator[memoryview]]:
        view = self._view
        return lambda: (view[start : min(start + CHUNK, length)] for start in range(0, length, CHUNK))


def upload_part(
    conn: Connection,
    bucket: str,
    key: str,
    plan: UploadPlan,
    upload_id: str,
    number: int,
    body: Callable[[], Any],
    size: int,
) -> str:
    """UploadPart ``number`` from ``body()``; its ETag."""
    query = {"partNumber": str(number), "uploadId": upload_id}
    response, _ = checksums.send(
        conn, "PUT", bucket, key, headers=dict(plan.part_headers), body=body, length=size, query=query
    )
    request.check(response, bucket, key)
    return request.etag_of(response)


def multipart_etag(etags: list[str]) -> str:
    """The ETag S3 gives a completed multipart upload: MD5 of the parts' MD5s, dash, part count."""
    digest = hashlib.md5(b"".join(bytes.fromhex(etag) for etag in etags), usedforsecurity=False)
    return f"{digest.hexdigest()}-{len(etags)}"


def completion_body(etags: list[str]) -> bytes:
    parts = "".join(
        f'<Part><PartNumber>{number}</PartNumber><ETag>"{etag}"</ETag></Part>'
        for number, etag in enumerate(etags, start=1)
    )
    return f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>".encode()


def complete(
    conn: Connection,
    bucket: str,
    key: str,
    upload_id: str,
    etags: list[str],
    *,
    new: bool,
    rewindable: bool = True,
    headers: dict[str, str] | None = None,
) -> str:
    """CompleteMultipartUpload (conditional with ``new``); the multipart ETag."""
    body = completion_body(etags)
    headers = {**(headers or {}), "Content-Type": "application/xml"}  # SSE-C: the key again
    if new:
        headers["If-None-Match"] = "*"
    response, attempts = _send_completion(conn, bucket, key, upload_id, body, headers)
    expected = multipart_etag(etags)
    if attempts > 1 and response.status in (404, 412) and stored_etag(conn, bucket, key) == expected:
        return expected  # an earlier attempt completed it
    if new and response.status == 412:
        if not rewindable:
            raise StorageServerError(
                f"Another upload created {key!r} while this one was in progress, and the content cannot "
                "be read again to try the next name. Nothing was stored; save it again."
            )
        raise NameTaken(key)
    request.check_completed(response, bucket, key)
    return expected


def _send_completion(
    conn: Connection, bucket: str, key: str, upload_id: str, body: bytes, headers: dict[str, str]
) -> tuple[urllib3.BaseHTTPResponse, int]:
    """One CompleteMultipartUpload POST of ``body``, with the retry policy: (response, attempts)."""
    return request.send(
        conn,
        "POST",
        bucket,
        key,
        headers=headers,
        body=lambda: body,
        length=len(body),
        query={"uploadId": upload_id},
    )


def complete_learning(
    conn: Connection, bucket: str, key: str, upload_id: str, etags: list[str], headers: dict[str, str]
) -> tuple[str, bool]:
    """Complete over our own claim on ``key`` with ``If-None-Match: *``: (ETag, whether refused).

    A server that honours the condition refuses (412), since the claim exists; the upload is then
    completed without it, over the claim (ours). One that ignores it completes at once. UploadGone
    when the refusal cost the upload (the caller sends it again).
    """
    body = completion_body(etags)
    expected = multipart_etag(etags)
    sent = {**headers, "Content-Type": "application/xml"}
    response, attempts = _send_completion(conn, bucket, key, upload_id, body, {**sent, "If-None-Match": "*"})
    if response.status in (404, 412) and attempts > 1 and stored_etag(conn, bucket, key) == expected:
        return expected, False  # an earlier attempt completed over the claim: the condition was ignored
    refused = response.status == 412
    if not refused and response.status != 501:
        request.check_completed(response, bucket, key)
        return expected, False
    response, _ = _send_completion(conn, bucket, key, upload_id, body, sent)
    if response.status == 404 and stored_etag(conn, bucket, key) != expected:
        raise UploadGone(key)
    if response.status != 404:
        request.check_completed(response, bucket, key)
    return expected, refused


def abort(conn: Connection, bucket: str, key: str, upload_id: str) -> None:
    """Abort one incomplete multipart upload (its parts are freed); raises on failure."""
    response = request.empty(conn, "DELETE", bucket, key, headers={}, query={"uploadId": upload_id})
    if response.status != 404:
        request.check(response, bucket, key)


def abort_quietly(conn: Connection, bucket: str, key: str, upload_id: str) -> None:
    """Abort after a failed upload: the upload's own error is the one to raise, so only log."""
    try:
        abort(conn, bucket, key, upload_id)
    except Exception as error:
        logger.warning("Could not abort multipart upload of %s/%s: %s", bucket, key, error)


def pending_uploads(conn: Connection, bucket: str, prefix: str) -> Iterator[tuple[str, str, datetime | None]]:
    """(key, upload id, initiated) of every incomplete multipart upload under ``prefix`` (paged)."""
    markers: dict[str, str] = {}
    while True:
        response = request.empty(
            conn, "GET", bucket, "", headers={}, query={"uploads": "", "prefix": prefix, **markers}
        )
        request.check(response, bucket, prefix)
        page = ListMultipartUploadsResult(response)
        for upload in page.uploads:
            yield upload.object_name, upload.upload_id, upload.initiated_time
        if not page.is_truncated:
            return
        next_upload = ET.fromstring(response.data).findtext("{*}NextUploadIdMarker") or ""
        markers = {"key-marker": page.next_key_marker or "", "upload-id-marker": next_upload}
