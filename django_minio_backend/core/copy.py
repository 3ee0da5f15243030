"""Server-side copies onto the same key: rewriting an object's headers without moving its body."""

from __future__ import annotations

from urllib.parse import quote

from minio.commonconfig import REPLACE, CopySource
from minio.error import S3Error

from ..conf.validators import GiB
from . import request
from .connection import Connection

MAX_SINGLE_COPY = 5 * GiB  # S3's limit for one CopyObject
CHANGED = frozenset({"PreconditionFailed", "NoSuchKey"})


def rewrite_headers(
    conn: Connection, bucket: str, key: str, headers: dict[str, str], *, etag: str, size: int
) -> bool:
    """Replace the headers and user metadata of ``key`` by copying it onto itself, only while its
    ETag is still ``etag``. False when the object changed or was deleted meanwhile.

    Up to 5 GiB it is one request: the condition goes under its S3 name and under the name Ceph
    RGW 16 reads (``x-amz-copy-if-match``); a server that knows neither copies unconditionally.
    Larger objects are copied in parts by minio (UploadPartCopy).
    """
    try:
        if size <= MAX_SINGLE_COPY:
            _copy_in_place(conn, bucket, key, headers, etag=etag)
        else:
            conn.client.copy_object(
                bucket_name=bucket,
                object_name=key,
                source=CopySource(bucket_name=bucket, object_name=key, match_etag=etag),
                metadata=headers,
                metadata_directive=REPLACE,
            )
    except S3Error as error:
        if error.code in CHANGED:
            return False
        raise
    return True


def _copy_in_place(conn: Connection, bucket: str, key: str, headers: dict[str, str], *, etag: str) -> None:
    copy_headers = {
        **headers,
        "x-amz-copy-source": quote(f"/{bucket}/{key}"),
        "x-amz-copy-source-if-match": etag,
        "x-amz-copy-if-match": etag,  # Ceph RGW 16 reads this name only
        "x-amz-metadata-directive": "REPLACE",
    }
    response = request.empty(conn, "PUT", bucket, key, headers=copy_headers)
    request.check_completed(response, bucket, key)
