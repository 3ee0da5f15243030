"""New names that are never overwritten: the 412 of a conditional write, and name claims.

A new object is written with ``If-None-Match: *``: the server refuses (412) to create a key that
already exists, and the write raises NameTaken. A large new-name upload on a server that ignores
If-None-Match on CompleteMultipartUpload first claims its name with a small object carrying
``x-amz-meta-django-minio-backend-claim`` and the body ``CLAIM_BODY``; readers treat a claim as
missing, listings recognise it by its size and ETag (no request), and it is deleted if the
upload fails (clean_orphaned_minio_files removes stale ones). Earlier releases claimed with an
empty object: stat() still recognises those.
"""

from __future__ import annotations

import hashlib
import logging

from minio.datatypes import Object
from minio.error import S3Error

from . import request
from .connection import Connection

logger = logging.getLogger("django_minio_backend")

CLAIM_HEADER = "x-amz-meta-django-minio-backend-claim"
CLAIM_BODY = b"django-minio-backend: name claimed by a save in progress\n"
CLAIM_ETAG = hashlib.md5(CLAIM_BODY, usedforsecurity=False).hexdigest()
CLAIM_SIZES = (0, len(CLAIM_BODY))  # 0: a claim of an earlier release


class NameTaken(Exception):
    """A conditional write found the key taken (412): nothing of ours was stored."""


def stored_etag(conn: Connection, bucket: str, key: str) -> str | None:
    """The ETag stored under ``key`` (lowercase, unquoted), or None when nothing is stored."""
    try:
        stat = conn.client.stat_object(bucket_name=bucket, object_name=key)
    except S3Error as error:
        if error.code == "NoSuchBucket":
            raise
        return None
    return (stat.etag or "").strip('"').lower()


def claim_headers(plan_headers: dict[str, str]) -> dict[str, str]:
    """The storage class and SSE-S3/KMS of the upload, which a bucket policy may require of every PUT.

    Never the SSE-C key: the claim must stay recognisable (stat) without it.
    """
    return {
        name: value
        for name, value in plan_headers.items()
        if name.lower() == "x-amz-storage-class"
        or (name.lower().startswith("x-amz-server-side-encryption") and "-customer-" not in name.lower())
    }


def claim(conn: Connection, bucket: str, key: str, extra: dict[str, str] | None = None) -> None:
    """Take ``key`` with a small, recognisable object (If-None-Match: *). NameTaken if it exists."""
    headers = {
        **(extra or {}),
        CLAIM_HEADER: "1",
        "If-None-Match": "*",
        "Content-Type": "application/octet-stream",
    }
    response, attempts = request.send(
        conn, "PUT", bucket, key, headers=headers, body=lambda: CLAIM_BODY, length=len(CLAIM_BODY)
    )
    if response.status == 412:
        if attempts > 1 and is_claim(conn, bucket, key):
            return
        raise NameTaken(key)
    request.check(response, bucket, key)


def is_claim(conn: Connection, bucket: str, key: str) -> bool:
    """Whether ``key`` holds a claim (or probe) object left by a new-name save."""
    try:
        stat = conn.client.stat_object(bucket_name=bucket, object_name=key)
    except S3Error:
        return False
    return stat_is_claim(stat)


def stat_is_claim(stat: Object) -> bool:
    """Whether a stat (HEAD) describes a claim: its size and its claim metadata."""
    return stat.size in CLAIM_SIZES and any(k.lower() == CLAIM_HEADER for k in stat.metadata)


def listed_is_claim(item: Object) -> bool:
    """Whether a listing entry is a claim of this release, from its size and ETag alone."""
    return item.size == len(CLAIM_BODY) and (item.etag or "").strip('"').lower() == CLAIM_ETAG


def release_claim(conn: Connection, bucket: str, key: str) -> None:
    """Delete our claim on ``key`` after a failed upload (the upload's error is the one raised)."""
    try:
        if is_claim(conn, bucket, key):
            conn.client.remove_object(bucket_name=bucket, object_name=key)
    except Exception as error:
        logger.warning("Could not delete the claim %s/%s after a failed upload: %s", bucket, key, error)
