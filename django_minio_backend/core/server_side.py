"""Server-side bulk work: copying an object without moving its bytes through us, and deleting
everything under a key prefix.

A copy of up to 5 GiB (S3's limit for one CopyObject) is one PUT with ``x-amz-copy-source``,
pinned to the source's ETag (a source replaced meanwhile fails with PreconditionFailed instead
of copying a mix). Larger sources are copied in parts (UploadPartCopy) by minio's
``compose_object``, from ranges of the one source, each pinned to the same ETag; the headers
and user metadata are then sent explicitly, because a multipart copy does not carry them over.

A prefix is deleted as it is listed: minio's ``remove_objects`` takes the listing lazily and
sends 1,000 keys per DeleteObjects request, so memory holds one batch, not the listing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from urllib.parse import quote

from minio.commonconfig import ComposeSource
from minio.datatypes import Object
from minio.deleteobjects import DeleteObject
from minio.sse import Sse, SseCustomerKey

from . import request
from .connection import Connection
from .copy import MAX_SINGLE_COPY

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
    if size <= single_limit:
        copy_headers = {
            "x-amz-copy-source": quote(f"/{source_bucket}/{source_key}"),
            "x-amz-copy-source-if-match": etag,
            "x-amz-copy-if-match": etag,  # Ceph RGW 16 reads this name only
        }
        if headers is not None:
            copy_headers |= {**headers, "x-amz-metadata-directive": "REPLACE"}
        if ssec is not None:
            copy_headers |= ssec.copy_headers()
        if target_sse is not None:
            copy_headers |= target_sse.headers()
        response = request.empty(conn, "PUT", target_bucket, target_key, headers=copy_headers)
        request.check_completed(response, target_bucket, target_key)
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
        bucket_name=target_bucket,
        object_name=target_key,
        sources=sources,
        sse=target_sse,
        metadata=_canonical_keys(headers) if headers is not None else carried_headers(stat),
    )


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
