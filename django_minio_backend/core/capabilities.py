"""What a server can do, learned once per endpoint and process (kept in ``state``).

Whether the endpoint honours ``If-None-Match: *`` on PUT and on CompleteMultipartUpload is
learned by a probe on a throwaway key (3 requests for PUT: create, conditional create, delete),
the first time a new-name save needs to know, and never again in the process. Where it is not
honoured, new-name saves fall back to HEAD then PUT (PUT) or claim their name first (Complete),
with one warning. ``MINIO_CONDITIONAL_WRITES`` states the answer up front and skips the probe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from . import multipart, request
from .conditional import CLAIM_HEADER
from .connection import Connection
from .state import STATE

logger = logging.getLogger("django_minio_backend")

PUT, COMPLETE = "put", "complete"

_FALLBACK = {
    PUT: "New names are now checked with HEAD, then written: two saves of one name at the same moment "
    "can overwrite each other. Set MINIO_CONDITIONAL_WRITES = False for this storage to skip the probe; "
    "`python manage.py check` then lists the storages with this race.",
    COMPLETE: "Large new-name uploads claim their name with an empty object first (removed if the upload "
    "fails; clean_orphaned_minio_files removes stale ones).",
}


def honours_if_none_match(conn: Connection, bucket: str, on: str, probe_key: Callable[[], str]) -> bool:
    """Whether the endpoint refuses a conditional ``on`` (PUT or COMPLETE) over an existing key.

    Learned once per endpoint per process by a probe on a throwaway ``probe_key()`` (deleted
    afterwards).
    """

    def learn() -> bool:
        honoured = _probe(conn, bucket, on, probe_key())
        if not honoured:
            what = "PUT" if on == PUT else "CompleteMultipartUpload"
            logger.warning(
                "S3 endpoint %s ignores If-None-Match on %s. %s", conn.endpoint, what, _FALLBACK[on]
            )
        return honoured

    return STATE.learn(conn.endpoint, f"if-none-match-{on}", learn)


def _refused(conn: Connection, bucket: str, method: str, key: str, body: bytes, **kwargs: object) -> bool:
    """True on 412, False on success: did the server refuse the conditional request?"""
    response, _ = request.send(conn, method, bucket, key, body=lambda: body, length=len(body), **kwargs)
    if response.status == 412:
        return True
    request.check(response, bucket, key)
    return False


def _probe(conn: Connection, bucket: str, on: str, key: str) -> bool:
    create = {CLAIM_HEADER: "probe", "If-None-Match": "*", "Content-Type": "application/octet-stream"}
    _refused(conn, bucket, "PUT", key, b"", headers=create)
    try:
        if on == PUT:
            return _refused(conn, bucket, "PUT", key, b"", headers=create)
        upload_id = multipart.create(
            conn, bucket, key, {CLAIM_HEADER: "probe", "Content-Type": "application/octet-stream"}
        )
        try:
            response, _ = request.send(
                conn, "PUT", bucket, key, headers={}, body=lambda: b"p", length=1,
                query={"partNumber": "1", "uploadId": upload_id},
            )  # fmt: skip
            request.check(response, bucket, key)
            body = multipart.completion_body([request.etag_of(response)])
            headers = {"Content-Type": "application/xml", "If-None-Match": "*"}
            return _refused(conn, bucket, "POST", key, body, headers=headers, query={"uploadId": upload_id})
        finally:
            multipart.abort_quietly(conn, bucket, key, upload_id)
    finally:
        try:
            conn.client.remove_object(bucket_name=bucket, object_name=key)
        except Exception as error:
            logger.warning("Could not delete the probe object %s/%s: %s", bucket, key, error)
