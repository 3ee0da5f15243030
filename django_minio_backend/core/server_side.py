"""Server-side bulk work: copying an object without moving its bytes through us, and deleting
everything under a key prefix.

A copy of up to 5 GiB (S3's limit for one CopyObject) is one PUT with ``x-amz-copy-source``,
pinned to the source's ETag (a source replaced meanwhile fails with PreconditionFailed instead
of copying a mix). Larger sources are copied in parts (UploadPartCopy) by minio's
``compose_object``, from ranges of the one source, each pinned to the same ETag; the headers
and user metadata are then sent explicitly, because a multipart copy does not carry them over.

OpenStack Swift's s3api never matches ``x-amz-copy-source-if-match`` for a source uploaded in
parts (it answers 412 however unchanged the source is). A 412 whose source still shows the pinned
ETag on a fresh HEAD teaches that, once per endpoint and process (one warning); copies of such
sources are then pinned with ``x-amz-copy-source-if-unmodified-since`` (the source's
LastModified) instead, which Swift honours: a replacement within the same second goes unnoticed.

A prefix is deleted as it is listed: minio's ``remove_objects`` takes the listing lazily and
sends 1,000 keys per DeleteObjects request, so memory holds one batch, not the listing.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from urllib.parse import quote

from minio.commonconfig import ComposeSource
from minio.datatypes import Object
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from minio.sse import Sse, SseCustomerKey
from minio.time import to_http_header

from ..errors import UnsupportedByServerError
from . import multipart, request
from .connection import Connection
from .copy import MAX_SINGLE_COPY
from .state import STATE

logger = logging.getLogger("django_minio_backend")

# Capability: whether If-Match pins a copy of a source uploaded in parts (learned, see above).
COPY_IF_MATCH_MULTIPART = "copy-if-match-multipart"

# The headers that describe an object and that a multipart copy must send again itself.
CARRIED_HEADERS = (
    "content-type",
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
)


def carried_headers(stat: Object) -> dict[str, str]:
    """The describing headers and user metadata of ``stat`` (a HEAD), as they would be sent again."""
    carried = {}
    for header, value in (stat.metadata or {}).items():
        lower = header.lower()
        if lower in CARRIED_HEADERS:
            carried[_canonical(lower)] = value
        elif lower.startswith("x-amz-meta-"):
            carried[lower] = value
    return carried


def _canonical(header: str) -> str:
    """``Content-Type`` for ``content-type``: minio looks the upload's type up by that spelling."""
    return "-".join(part.capitalize() for part in header.split("-"))


def copy_object(
    conn: Connection,
    *,
    source_bucket: str,
    source_key: str,
    target_bucket: str,
    target_key: str,
    stat: Object,
    headers: Mapping[str, str] | None = None,
    ssec: SseCustomerKey | None = None,
    sse: Sse | None = None,
    single_limit: int = MAX_SINGLE_COPY,
    part_size: int = MAX_SINGLE_COPY,
) -> None:
    """Copy ``source_key`` (whose HEAD is ``stat``) to ``target_key`` on the server.

    ``headers`` (Content-Type, Cache-Control, ``x-amz-meta-*``...) replace the source's; None
    carries the source's over. ``ssec`` is the customer key of the source (and then also of the
    target); ``sse`` the encryption asked of the target.
    """
    etag = (stat.etag or "").strip('"')
    size = stat.size or 0
    target_sse = ssec or sse
    by_date = _pinned_by_date(conn, etag)
    if size <= single_limit:
        copy_headers = {"x-amz-copy-source": quote(f"/{source_bucket}/{source_key}"), **_pin(stat, by_date)}
        if headers is not None:
            copy_headers |= {**headers, "x-amz-metadata-directive": "REPLACE"}
        if ssec is not None:
            copy_headers |= ssec.copy_headers()
        if target_sse is not None:
            copy_headers |= target_sse.headers()
        response = request.empty(conn, "PUT", target_bucket, target_key, headers=copy_headers)
        if (
            response.status == 412
            and not by_date
            and _if_match_ignored(conn, source_bucket, source_key, etag)
        ):
            copy_headers = {
                k: v
                for k, v in copy_headers.items()
                if k not in ("x-amz-copy-source-if-match", "x-amz-copy-if-match")
            }
            copy_headers |= _pin(stat, by_date=True)
            response = request.empty(conn, "PUT", target_bucket, target_key, headers=copy_headers)
        request.check_completed(response, target_bucket, target_key)
        return
    metadata = _canonical_keys(headers) if headers is not None else carried_headers(stat)
    if by_date:  # minio's compose_object always pins by If-Match
        if ssec is not None or sse is not None:
            raise UnsupportedByServerError(
                f"{conn.endpoint} cannot pin a copy of the encrypted {source_bucket}/{source_key} (it "
                "refuses If-Match for objects uploaded in parts); nothing was copied."
            )
        source = (source_bucket, source_key)
        _copy_parts_by_date(conn, source, (target_bucket, target_key), stat, metadata, part_size)
        return
    sources = [
        ComposeSource(
            bucket_name=source_bucket,
            object_name=source_key,
            offset=offset,
            length=min(part_size, size - offset),
            match_etag=etag,
            ssec=ssec,
        )
        for offset in range(0, size, part_size)
    ]
    conn.client.compose_object(
        bucket_name=target_bucket, object_name=target_key, sources=sources, sse=target_sse, metadata=metadata
    )


def _copy_parts_by_date(
    conn: Connection,
    source: tuple[str, str],
    target: tuple[str, str],
    stat: Object,
    metadata: dict[str, str],
    part_size: int,
) -> None:
    """UploadPartCopy of ``part_size`` ranges, each pinned by the source's LastModified."""
    bucket, key = target
    upload_id = multipart.create(conn, bucket, key, {"Content-Type": "application/octet-stream", **metadata})
    try:
        etags = []
        size = stat.size or 0
        for number, offset in enumerate(range(0, size, part_size), start=1):
            end = min(offset + part_size, size) - 1
            part_headers = {
                "x-amz-copy-source": quote(f"/{source[0]}/{source[1]}"),
                "x-amz-copy-source-range": f"bytes={offset}-{end}",
                **_pin(stat, by_date=True),
            }
            query = {"partNumber": str(number), "uploadId": upload_id}
            response = request.empty(conn, "PUT", bucket, key, headers=part_headers, query=query)
            request.check_completed(response, bucket, key)
            etags.append((ET.fromstring(response.data).findtext("{*}ETag") or "").strip('"'))
        multipart.complete(conn, bucket, key, upload_id, etags, new=False)
    except BaseException:
        multipart.abort_quietly(conn, bucket, key, upload_id)
        raise


def _pinned_by_date(conn: Connection, etag: str) -> bool:
    """Whether a copy of a source with this ETag is pinned by date (see the module docstring)."""
    return "-" in etag and STATE.capability(conn.endpoint, COPY_IF_MATCH_MULTIPART) is False


def _pin(stat: Object, by_date: bool) -> dict[str, str]:
    etag = (stat.etag or "").strip('"')
    if by_date and stat.last_modified is not None:
        return {"x-amz-copy-source-if-unmodified-since": to_http_header(stat.last_modified)}
    return {"x-amz-copy-source-if-match": etag, "x-amz-copy-if-match": etag}  # RGW 16 reads the second


def _if_match_ignored(conn: Connection, bucket: str, key: str, etag: str) -> bool:
    """After a 412 to a pinned copy of a multipart source: True (and remembered) when the source
    is unchanged, so the server, not the source, refused the pin."""
    if "-" not in etag:
        return False
    try:
        current = conn.client.stat_object(bucket_name=bucket, object_name=key)
    except S3Error:
        return False
    if (current.etag or "").strip('"') != etag:
        return False
    logger.warning(
        "S3 endpoint %s refuses x-amz-copy-source-if-match for objects uploaded in parts; such copies "
        "are now pinned by the source's LastModified instead (a replacement within one second goes "
        "unnoticed).",
        conn.endpoint,
    )
    STATE.remember(conn.endpoint, COPY_IF_MATCH_MULTIPART, False)
    return True


def _canonical_keys(headers: Mapping[str, str]) -> dict[str, str]:
    return {_canonical(k.lower()) if k.lower() in CARRIED_HEADERS else k: v for k, v in headers.items()}


def delete_listed(
    conn: Connection, bucket: str, keys: Iterator[str], on_key: Callable[[str], None] | None = None
) -> tuple[int, list[str]]:
    """Delete the keys as ``keys`` yields them (1,000 a request); (how many were sent, failures)."""
    sent = 0

    def objects() -> Iterator[DeleteObject]:
        nonlocal sent
        for key in keys:
            sent += 1
            if on_key is not None:
                on_key(key)
            yield DeleteObject(name=key)

    failed = conn.client.remove_objects(bucket_name=bucket, delete_object_list=objects())
    errors = [f"{error.name}: {error.code}: {error.message}" for error in failed]
    return sent, errors
