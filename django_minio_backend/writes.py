"""Object writes for the I/O core: exactly the declared bytes, conditional when asked, retried safely.

Every write (one PUT, or CreateMultipartUpload + UploadPart... + CompleteMultipartUpload) is a
request we sign with minio's own SigV4 signer (``minio.signer.sign_v4_s3``, headers, unsigned
payload so the body streams) and send on the store's urllib3 pool. minio's put_object cannot
carry ``If-None-Match`` (it turns unknown headers into user metadata), reads each part into
memory, and cannot check that a stream holds exactly its declared size; this module does all three.

- Exactly ``plan.length`` bytes are sent. A source that ends early, or still has bytes after the
  declared length, raises UploadSizeError naming the object before the last byte goes out: the
  request is abandoned mid-body (its connection is closed, never reused), so the server stores
  nothing, and the pool stays usable.
- A request is retried (up to MINIO_MAX_RETRIES) on a 5xx/SlowDown answer or a dropped connection,
  from the same bytes. A conditional write whose earlier attempt may have reached the server
  counts a later 412 (or NoSuchUpload) as success when the stored object's ETag is that of what we
  sent: a retry never stores the content twice.
- A failed multipart upload is aborted.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

import urllib3
from minio.error import S3Error
from minio.signer import sign_v4_s3
from minio.time import from_iso8601utc, to_amz_date, utcnow

from . import credentials
from .errors import StorageServerError, UploadSizeError

if TYPE_CHECKING:
    from .client import ObjectStore
    from .uploads import UploadPlan

logger = logging.getLogger("django_minio_backend")

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
CHUNK = 256 * 1024
URL_SHAPE_LIFETIME = timedelta(minutes=1)  # only the URL's scheme, host and path are used
RETRY_STATUSES = frozenset({500, 502, 503, 504})
BACKOFF = 0.2  # seconds, doubled per attempt
CLAIM_HEADER = "x-amz-meta-django-minio-backend-claim"
PROBE_PREFIX = ".django-minio-backend-probe-"

_learned: dict[tuple[str, str], bool] = {}  # (endpoint, "put" | "complete") -> If-None-Match honoured
_learn_lock = threading.Lock()


class NameTaken(Exception):
    """A conditional write found the key taken (412): nothing of ours was stored."""


class SourceError(Exception):
    """Reading the content to upload failed (not the network): not retried."""


# -- the request ---------------------------------------------------------------------------------


def _query(params: dict[str, str] | None) -> str:
    return "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted((params or {}).items())
    )


def _request(
    store: ObjectStore,
    method: str,
    key: str,
    *,
    headers: dict[str, str],
    body: Any,
    length: int,
    query: dict[str, str] | None = None,
) -> urllib3.BaseHTTPResponse:
    headers = dict(headers)
    # minio builds the object's URL (path or virtual-host style, key encoding); we add the query.
    shape = urlsplit(
        store.client.get_presigned_url(
            method=method, bucket_name=store.bucket, object_name=key or "_", expires=URL_SHAPE_LIFETIME
        )
    )
    path = shape.path if key else shape.path[:-1]  # "" addresses the bucket itself
    url = shape._replace(path=path, query=_query(query))
    date = utcnow()
    # If-None-Match is sent unsigned (SigV4 allows unsigned standard headers): a gateway that
    # drops it then makes an ordinary PUT, which the support probe detects (see ObjectStore),
    # instead of a signature error.
    condition = {k: headers.pop(k) for k in list(headers) if k.lower() == "if-none-match"}
    headers = {
        **headers,
        "Host": url.netloc,
        "Content-Length": str(length),
        "x-amz-content-sha256": UNSIGNED_PAYLOAD,
        "x-amz-date": to_amz_date(date),
    }
    creds = credentials.current(store.options)  # asked per request: a refreshing provider stays current
    if creds.session_token:
        headers["X-Amz-Security-Token"] = creds.session_token
    signed = sign_v4_s3(
        method=method,
        url=url,
        region=store.options.region,
        headers=headers,
        credentials=creds,
        content_sha256=UNSIGNED_PAYLOAD,
        date=date,
    )
    signed.update(condition)
    return store.http.urlopen(
        method,
        urlunsplit(url),
        body=body,
        headers=signed,
        retries=False,
        redirect=False,
        preload_content=True,
    )


def _send(
    store: ObjectStore, method: str, key: str, *, body: Callable[[], Any], **kwargs: Any
) -> tuple[urllib3.BaseHTTPResponse, int]:
    """Send, retrying 5xx answers and dropped connections from a fresh body. (response, attempts)."""
    attempts = 1 + store.options.max_retries
    for attempt in range(1, attempts + 1):
        try:
            response = _request(store, method, key, body=body(), **kwargs)
        except (UploadSizeError, SourceError):
            raise
        except (urllib3.exceptions.HTTPError, OSError):
            if attempt == attempts:
                raise
        else:
            if response.status not in RETRY_STATUSES or attempt == attempts:
                return response, attempt
        time.sleep(BACKOFF * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


def s3_error(response: urllib3.BaseHTTPResponse, bucket: str, key: str) -> S3Error:
    """The S3 error an answer carries, parsed by minio; a synthetic one for bodiless answers."""
    if response.data:
        try:
            return S3Error.fromxml(response)
        except ET.ParseError:
            pass
    return S3Error(
        code=f"HTTP{response.status}",
        message=response.reason or "",
        resource=f"/{bucket}/{key}",
        request_id=response.headers.get("x-amz-request-id", ""),
        host_id=response.headers.get("x-amz-id-2", ""),
        response=response,
        bucket_name=bucket,
        object_name=key,
    )


def _check(response: urllib3.BaseHTTPResponse, store: ObjectStore, key: str) -> None:
    if response.status >= 300:
        raise s3_error(response, store.bucket, key)


# -- exact bodies --------------------------------------------------------------------------------


def _read(source: Any, size: int) -> bytes:
    try:
        data = source.read(size)
    except Exception as error:
        raise SourceError(f"reading the content failed: {error}") from error
    return data.encode() if isinstance(data, str) else data


def exact_chunks(source: Any, length: int, name: str, *, last: bool, progress: Any = None) -> Iterator[bytes]:
    """``length`` bytes of ``source`` in chunks; UploadSizeError if it has fewer (or, if ``last``, more).

    The check for surplus bytes runs before the final chunk is handed out, so a request with a
    wrong size never completes.
    """
    remaining = length
    while remaining > 0:
        chunk = _read(source, min(CHUNK, remaining))
        if not chunk:
            raise _ended_early(name, length - remaining, length)
        chunk = chunk[:remaining]
        remaining -= len(chunk)
        if remaining == 0 and last and _read(source, 1):
            raise _too_long(name, length)
        if progress is not None:
            progress.update(len(chunk))
        yield chunk
    if length == 0 and last and _read(source, 1):
        raise _too_long(name, 0)


def _ended_early(name: str, got: int, declared: int) -> UploadSizeError:
    return UploadSizeError(
        f"Upload of {name!r} stopped: the content ended after {got} bytes, but its declared size is "
        f"{declared}. Nothing was stored under that name; fix the file's size."
    )


def _too_long(name: str, declared: int) -> UploadSizeError:
    return UploadSizeError(
        f"Upload of {name!r} stopped: the content has more than its declared size of {declared} bytes. "
        "Nothing was stored under that name; fix the file's size."
    )


def _md5_of_plan(plan: UploadPlan) -> str:
    plan.rewind()
    digest = hashlib.md5(usedforsecurity=False)
    for chunk in exact_chunks(plan.source, plan.length, plan.name, last=False):
        digest.update(chunk)
    return digest.hexdigest()


def _stored_etag(store: ObjectStore, key: str) -> str | None:
    try:
        stat = store.client.stat_object(bucket_name=store.bucket, object_name=key)
    except S3Error as error:
        if error.code == "NoSuchBucket":
            raise
        return None
    return (stat.etag or "").strip('"').lower()


def _etag(response: urllib3.BaseHTTPResponse) -> str:
    return (response.headers.get("ETag") or "").strip('"').lower()


# -- single PUT ----------------------------------------------------------------------------------


def put(store: ObjectStore, key: str, plan: UploadPlan, *, new: bool) -> str:
    """Write ``plan`` to ``key``; with ``new``, never over an existing object (NameTaken). The ETag.

    A new multipart upload first checks the name (one HEAD, so a big upload is not sent to a
    taken name), then relies on If-None-Match on CompleteMultipartUpload where the endpoint
    honours it, so nothing appears under the name until the upload is whole. Where it does not
    (Ceph RGW 16), the name is claimed first with an empty, recognisable object.
    """
    if plan.progress is not None:
        plan.progress.set_meta(object_name=key, total_length=plan.length)
    if plan.single:
        return put_single(store, key, plan, new=new)
    if new and honours_if_none_match(store, "complete"):
        if _stored_etag(store, key) is not None:
            raise NameTaken(key)
        return put_multipart(store, key, plan, new=True)
    if new:
        claim(store, key, _claim_headers(plan))
        try:
            return put_multipart(store, key, plan)
        except BaseException:
            release_claim(store, key)
            raise
    return put_multipart(store, key, plan)


def put_single(store: ObjectStore, key: str, plan: UploadPlan, *, new: bool) -> str:
    headers = {**plan.headers, "Content-Type": plan.content_type}
    if new:
        headers["If-None-Match"] = "*"

    def body() -> Iterator[bytes]:
        plan.rewind()
        return exact_chunks(plan.source, plan.length, plan.name, last=True, progress=plan.progress)

    response, attempts = _send(store, "PUT", key, headers=headers, body=body, length=plan.length)
    if new and response.status == 412:
        if attempts > 1 and _stored_etag(store, key) == _md5_of_plan(plan):
            return _md5_of_plan(plan)  # our own earlier attempt stored it
        raise NameTaken(key)
    _check(response, store, key)
    return _etag(response)


def _claim_headers(plan: UploadPlan) -> dict[str, str]:
    """The storage class and SSE-S3/KMS of the upload, which a bucket policy may require of every PUT.

    Never the SSE-C key: the claim must stay recognisable (stat) without it.
    """
    return {
        name: value
        for name, value in plan.headers.items()
        if name.lower() == "x-amz-storage-class"
        or (name.lower().startswith("x-amz-server-side-encryption") and "-customer-" not in name.lower())
    }


def claim(store: ObjectStore, key: str, extra: dict[str, str] | None = None) -> None:
    """Take ``key`` with an empty, recognisable object (If-None-Match: *). NameTaken if it exists."""
    headers = {
        **(extra or {}),
        CLAIM_HEADER: "1",
        "If-None-Match": "*",
        "Content-Type": "application/octet-stream",
    }
    response, attempts = _send(store, "PUT", key, headers=headers, body=lambda: b"", length=0)
    if response.status == 412:
        if attempts > 1 and is_claim(store, key):
            return
        raise NameTaken(key)
    _check(response, store, key)


def is_claim(store: ObjectStore, key: str) -> bool:
    try:
        stat = store.client.stat_object(bucket_name=store.bucket, object_name=key)
    except S3Error:
        return False
    return stat.size == 0 and any(k.lower() == CLAIM_HEADER for k in stat.metadata)


def release_claim(store: ObjectStore, key: str) -> None:
    """Delete our claim on ``key`` after a failed upload (the upload's error is the one raised)."""
    try:
        if is_claim(store, key):
            store.client.remove_object(bucket_name=store.bucket, object_name=key)
    except Exception as error:
        logger.warning("Could not delete the claim %s/%s after a failed upload: %s", store.bucket, key, error)


# -- multipart -----------------------------------------------------------------------------------


def put_multipart(store: ObjectStore, key: str, plan: UploadPlan, *, new: bool = False) -> str:
    headers = {**plan.headers, "Content-Type": plan.content_type}
    response, _ = _send(
        store, "POST", key, headers=headers, body=lambda: b"", length=0, query={"uploads": ""}
    )
    _check(response, store, key)
    upload_id = ET.fromstring(response.data).findtext("{*}UploadId") or ""
    try:
        etags = _upload_parts(store, key, plan, upload_id)
        return _complete(
            store,
            key,
            upload_id,
            etags,
            new=new,
            plan_start_unknown=plan.start is None,
            headers=plan.part_headers,
        )
    except BaseException:
        _abort(store, key, upload_id)
        raise


def _part_lengths(plan: UploadPlan) -> Iterator[tuple[int, int, bool]]:
    """(part number, length, is last) for a known total length."""
    number, remaining = 1, plan.length
    while True:
        size = min(plan.part_size, remaining)
        remaining -= size
        yield number, size, remaining == 0
        if remaining == 0:
            return
        number += 1


def _upload_parts(store: ObjectStore, key: str, plan: UploadPlan, upload_id: str) -> list[str]:
    etags: list[str] = []
    if plan.length < 0 or plan.start is None:
        # A stream that cannot rewind: each part is read into one reused buffer, so that a retry
        # can resend it and memory stays at one part whatever the object's size.
        buffer = PartBuffer(plan.part_size)
        parts = _part_lengths(plan) if plan.length >= 0 else _unknown_part_lengths(plan)
        for number, size, last in parts:
            filled = buffer.fill(plan.source, size, plan.name, exact=plan.length >= 0, last=last)
            if filled == 0 and number > 1:
                break
            etags.append(_upload_part(store, key, plan, upload_id, number, buffer.body(filled), filled))
            if plan.progress is not None:
                plan.progress.update(filled)
            if filled < size:
                break
        return etags
    for number, size, last in _part_lengths(plan):
        offset = (number - 1) * plan.part_size

        def body(offset: int = offset, size: int = size, last: bool = last) -> Iterator[bytes]:
            plan.source.seek(plan.start + offset)
            return exact_chunks(plan.source, size, plan.name, last=last, progress=plan.progress)

        etags.append(_upload_part(store, key, plan, upload_id, number, body, size))
    return etags


def _unknown_part_lengths(plan: UploadPlan) -> Iterator[tuple[int, int, bool]]:
    number = 1
    while True:
        yield number, plan.part_size, False
        number += 1


class PartBuffer:
    """One part's bytes, in a buffer reused for every part of an upload."""

    def __init__(self, size: int) -> None:
        self._buffer = bytearray(size)
        self._view = memoryview(self._buffer)

    def fill(self, source: Any, size: int, name: str, *, exact: bool, last: bool) -> int:
        """Read up to ``size`` bytes; with ``exact``, exactly ``size`` (and, if ``last``, no more)."""
        filled = 0
        while filled < size:
            chunk = _read(source, min(CHUNK * 4, size - filled))[: size - filled]
            if not chunk:
                break
            self._view[filled : filled + len(chunk)] = chunk
            filled += len(chunk)
        if exact and filled < size:
            raise _ended_early(name, filled, size)
        if exact and last and _read(source, 1):
            raise _too_long(name, size)
        return filled

    def body(self, length: int) -> Callable[[], Iterator[memoryview]]:
        view = self._view
        return lambda: (view[start : min(start + CHUNK, length)] for start in range(0, length, CHUNK))


def _upload_part(
    store: ObjectStore,
    key: str,
    plan: UploadPlan,
    upload_id: str,
    number: int,
    body: Callable[[], Any],
    size: int,
) -> str:
    response, _ = _send(
        store,
        "PUT",
        key,
        headers=dict(plan.part_headers),
        body=body,
        length=size,
        query={"partNumber": str(number), "uploadId": upload_id},
    )
    _check(response, store, key)
    return _etag(response)


def multipart_etag(etags: list[str]) -> str:
    """The ETag S3 gives a completed multipart upload: MD5 of the parts' MD5s, dash, part count."""
    digest = hashlib.md5(b"".join(bytes.fromhex(etag) for etag in etags), usedforsecurity=False)
    return f"{digest.hexdigest()}-{len(etags)}"


def _complete(
    store: ObjectStore,
    key: str,
    upload_id: str,
    etags: list[str],
    *,
    new: bool,
    plan_start_unknown: bool = False,
    headers: dict[str, str] | None = None,
) -> str:
    parts = "".join(
        f'<Part><PartNumber>{number}</PartNumber><ETag>"{etag}"</ETag></Part>'
        for number, etag in enumerate(etags, start=1)
    )
    body = f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>".encode()
    headers = {**(headers or {}), "Content-Type": "application/xml"}  # SSE-C: the key again
    if new:
        headers["If-None-Match"] = "*"
    response, attempts = _send(
        store,
        "POST",
        key,
        headers=headers,
        body=lambda: body,
        length=len(body),
        query={"uploadId": upload_id},
    )
    expected = multipart_etag(etags)
    if attempts > 1 and response.status in (404, 412) and _stored_etag(store, key) == expected:
        return expected  # an earlier attempt completed it
    if new and response.status == 412:
        if plan_start_unknown:
            raise StorageServerError(
                f"Another upload created {key!r} while this one was in progress, and the content cannot "
                "be read again to try the next name. Nothing was stored; save it again."
            )
        raise NameTaken(key)
    _check(response, store, key)
    if response.data and ET.fromstring(response.data).tag.endswith("Error"):  # S3 can fail with 200
        raise S3Error.fromxml(response)
    return expected


def _abort(store: ObjectStore, key: str, upload_id: str) -> None:
    try:
        response, _ = _send(
            store, "DELETE", key, headers={}, body=lambda: b"", length=0, query={"uploadId": upload_id}
        )
        if response.status >= 300 and response.status != 404:
            logger.warning(
                "Could not abort multipart upload of %s/%s: HTTP %s", store.bucket, key, response.status
            )
    except Exception as error:  # the upload's own error is the one to raise
        logger.warning("Could not abort multipart upload of %s/%s: %s", store.bucket, key, error)


# -- learning whether the endpoint honours If-None-Match ---------------------------------------------


def honours_if_none_match(store: ObjectStore, on: str) -> bool:
    """Whether ``store``'s endpoint refuses a conditional ``on`` ("put" or "complete") over an
    existing key. Learned once per endpoint per process, by a probe on a throwaway key."""
    marker = (store.endpoint, on)
    with _learn_lock:
        if marker not in _learned:
            _learned[marker] = _probe(store, on)
            if not _learned[marker]:
                logger.warning(
                    "S3 endpoint %s ignores If-None-Match on %s. %s",
                    store.endpoint,
                    "PUT" if on == "put" else "CompleteMultipartUpload",
                    "New names are now checked with HEAD, then written: two saves of one name at the same "
                    "moment can overwrite each other. Set MINIO_CONDITIONAL_WRITES = False for this storage "
                    "to skip the probe; `python manage.py check` then lists the storages with this race."
                    if on == "put"
                    else "Large new-name uploads claim their name with an empty object first "
                    "(removed if the upload fails; clean_orphaned_minio_files removes stale ones).",
                )
        return _learned[marker]


def _conditional_status(store: ObjectStore, method: str, key: str, **kwargs: Any) -> bool:
    """True on 412, False on success: did the server refuse the conditional request?"""
    body = kwargs.pop("body")
    response, _ = _send(store, method, key, body=lambda: body, **kwargs)
    if response.status == 412:
        return True
    _check(response, store, key)
    return False


def _probe(store: ObjectStore, on: str) -> bool:
    key = store.key(PROBE_PREFIX + uuid.uuid4().hex)
    claim_headers = {CLAIM_HEADER: "probe", "If-None-Match": "*", "Content-Type": "application/octet-stream"}
    _conditional_status(store, "PUT", key, headers=claim_headers, body=b"", length=0)
    try:
        if on == "put":
            return _conditional_status(store, "PUT", key, headers=claim_headers, body=b"", length=0)
        plan_headers = {CLAIM_HEADER: "probe", "Content-Type": "application/octet-stream"}
        response, _ = _send(
            store, "POST", key, headers=plan_headers, body=lambda: b"", length=0, query={"uploads": ""}
        )
        _check(response, store, key)
        upload_id = ET.fromstring(response.data).findtext("{*}UploadId") or ""
        try:
            etag = _upload_part_bytes(store, key, upload_id, b"p")
            body = (
                "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"
                f'<ETag>"{etag}"</ETag></Part></CompleteMultipartUpload>'
            ).encode()
            return _conditional_status(
                store,
                "POST",
                key,
                headers={"Content-Type": "application/xml", "If-None-Match": "*"},
                body=body,
                length=len(body),
                query={"uploadId": upload_id},
            )
        finally:
            _abort(store, key, upload_id)
    finally:
        try:
            store.client.remove_object(bucket_name=store.bucket, object_name=key)
        except Exception as error:
            logger.warning("Could not delete the probe object %s/%s: %s", store.bucket, key, error)


def _upload_part_bytes(store: ObjectStore, key: str, upload_id: str, data: bytes) -> str:
    response, _ = _send(
        store,
        "PUT",
        key,
        headers={},
        body=lambda: data,
        length=len(data),
        query={"partNumber": "1", "uploadId": upload_id},
    )
    _check(response, store, key)
    return _etag(response)


# -- incomplete multipart uploads ------------------------------------------------------------------


def pending_uploads(store: ObjectStore, prefix: str) -> Iterator[tuple[str, str, datetime | None]]:
    """(key, upload id, initiated) of every incomplete multipart upload under ``prefix`` (paged)."""
    markers: dict[str, str] = {}
    while True:
        query = {"uploads": "", "prefix": prefix, **markers}
        response, _ = _send(store, "GET", "", headers={}, body=lambda: b"", length=0, query=query)
        _check(response, store, prefix)
        root = ET.fromstring(response.data)
        for upload in root.iterfind("{*}Upload"):
            initiated = upload.findtext("{*}Initiated")
            yield (
                upload.findtext("{*}Key") or "",
                upload.findtext("{*}UploadId") or "",
                from_iso8601utc(initiated) if initiated else None,
            )
        if (root.findtext("{*}IsTruncated") or "").lower() != "true":
            return
        markers = {
            "key-marker": root.findtext("{*}NextKeyMarker") or "",
            "upload-id-marker": root.findtext("{*}NextUploadIdMarker") or "",
        }


def abort(store: ObjectStore, key: str, upload_id: str) -> None:
    """Abort one incomplete multipart upload (its parts are freed); raises on failure."""
    response, _ = _send(
        store, "DELETE", key, headers={}, body=lambda: b"", length=0, query={"uploadId": upload_id}
    )
    if response.status != 404:
        _check(response, store, key)


def copy_in_place(store: ObjectStore, key: str, headers: dict[str, str], *, etag: str) -> None:
    """Rewrite the headers and user metadata of ``key`` by copying it onto itself in one request
    (metadata directive REPLACE), only while its ETag is still ``etag``.

    Raises S3Error: PreconditionFailed when the object changed since ``etag`` was read. The
    condition goes under its S3 name and under the name Ceph RGW 16 reads (``x-amz-copy-if-match``);
    a server that knows neither copies unconditionally. A single copy is limited to 5 GiB objects.
    A copy can fail after its 200 status; the body says so.
    """
    copy_headers = {
        **headers,
        "x-amz-copy-source": quote(f"/{store.bucket}/{key}"),
        "x-amz-copy-source-if-match": etag,
        "x-amz-copy-if-match": etag,  # Ceph RGW 16 reads this name only
        "x-amz-metadata-directive": "REPLACE",
    }
    response, _ = _send(store, "PUT", key, headers=copy_headers, body=lambda: b"", length=0)
    _check(response, store, key)
    if response.data and ET.fromstring(response.data).tag.rsplit("}", 1)[-1] == "Error":
        raise s3_error(response, store.bucket, key)
