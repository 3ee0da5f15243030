"""Multipart uploads: parts streamed from the source, completion, abort, and listing leftovers.

A seekable source is read part by part straight from the file (each attempt seeks back to its
part's start); a stream that cannot rewind is read into one reused part buffer, so a retry can
resend it and memory stays at one part whatever the object's size. A failed upload is aborted.
A completion retried after an earlier attempt finished counts as success when the stored ETag is
the multipart ETag of our parts.

Incomplete uploads are listed with our own request and parsed by minio's public
``ListMultipartUploadsResult``: minio-py's own listing call (``_list_multipart_uploads``) is
private. The page's NextUploadIdMarker is read here, because minio 7.2 stores it under a wrong
attribute name (its ``next_upload_id_marker`` is always None).
"""

from __future__ import annotations

import hashlib
import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from minio.datatypes import ListMultipartUploadsResult

from ..errors import StorageServerError
from . import checksums, request
from .conditional import NameTaken, stored_etag
from .connection import Connection
from .plan import UploadPlan
from .put import CHUNK, ended_early, exact_chunks, read_source, too_long

logger = logging.getLogger("django_minio_backend")


def put_multipart(conn: Connection, bucket: str, key: str, plan: UploadPlan, *, new: bool = False) -> str:
    """Upload ``plan`` in parts; with ``new``, complete with ``If-None-Match: *``. The ETag."""
    upload_id = create(conn, bucket, key, {**plan.headers, "Content-Type": plan.content_type})
    try:
        etags = _upload_parts(conn, bucket, key, plan, upload_id)
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
    etags: list[str] = []
    for number, size, last in _part_lengths(plan):
        offset = plan.start + (number - 1) * plan.part_size

        def body(offset: int = offset, size: int = size, last: bool = last) -> Iterator[bytes]:
            plan.source.seek(offset)
            return exact_chunks(plan.source, size, plan.name, last=last, progress=plan.progress)

        etags.append(upload_part(conn, bucket, key, plan, upload_id, number, body, size))
    return etags


def _upload_buffered_parts(
    conn: Connection, bucket: str, key: str, plan: UploadPlan, upload_id: str
) -> list[str]:
    etags: list[str] = []
    buffer = PartBuffer(plan.part_size)
    for number, size, last in _part_lengths(plan):
        filled = buffer.fill(plan.source, size, plan.name, exact=plan.length >= 0, last=last)
        if filled == 0 and number > 1:
            break
        etags.append(upload_part(conn, bucket, key, plan, upload_id, number, buffer.body(filled), filled))
        if plan.progress is not None:
            plan.progress.update(filled)
        if filled < size:
            break
    return etags


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
    response, attempts = request.send(
        conn,
        "POST",
        bucket,
        key,
        headers=headers,
        body=lambda: body,
        length=len(body),
        query={"uploadId": upload_id},
    )
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
