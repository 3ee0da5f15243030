"""Checksums: every PUT and part carries its body's MD5, and whole reads are checked.

Writes. ``send()`` is ``request.send`` plus ``Content-MD5``: the server recomputes the MD5 of what
arrived and refuses a body that differs (``BadDigest``), so a byte changed on the way is never
stored. ``Content-MD5`` is the one body checksum every S3 implementation checks (AWS, MinIO, Ceph
RGW, Swift's s3api, moto); the ``x-amz-checksum-*`` headers are newer and not everywhere, and
Python's standard library has no CRC32C. The digest has to be in the headers, before the body,
so it is computed by a first pass over ``body()`` (the same fresh body a retry reads): for a part
held in the reused part buffer that is a pass over memory; for a seekable file it is a second
read of that range of the file, never a copy of it in memory. During that pass upload progress
is not reported (:func:`hashing`). The answer's ETag is compared too (for servers that accept the
header without checking it, such as moto), except for SSE-C and SSE-KMS writes, whose ETag is not
the MD5. A corrupted body (``BadDigest``, or another ETag) is sent again once from a fresh body;
a second one fails the save. A whole object stored wrong is deleted before either, so nothing
corrupted stays under the name.

A server that refuses the header itself (501, or a 400 naming it that is not a digest mismatch)
is remembered once per endpoint and process as lacking ``content-md5`` (``state.py``); writes then
go without it, with one warning. ``MINIO_SERVER_CAPABILITIES = {"content-md5": False}`` states it
up front.

Reads. :class:`ReadVerifier` follows a read from byte 0 to the end and compares the MD5 of what
was returned with the stored checksum, where one exists: the ETag of a single-part object without
SSE-C or SSE-KMS (for those S3 does not make the ETag the MD5), else ``x-amz-meta-md5`` unless
the object has a Content-Encoding (the static storage records the MD5 before gzip there).
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import hashlib
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import urllib3

from ..errors import ChecksumMismatchError, StorageServerError
from . import request
from .connection import Connection
from .state import STATE

logger = logging.getLogger("django_minio_backend")

CONTENT_MD5 = "content-md5"
MD5_META = "x-amz-meta-md5"
_MISMATCH_CODES = {"BadDigest", "InvalidDigest"}
_hashing: contextvars.ContextVar[bool] = contextvars.ContextVar("minio_checksum_pass", default=False)


@contextlib.contextmanager
def hashing() -> Iterator[None]:
    """Inside: the checksum pass over a body (upload progress must not count it)."""
    token = _hashing.set(True)
    try:
        yield
    finally:
        _hashing.reset(token)


def is_hashing() -> bool:
    return _hashing.get()


def md5_of(chunks: Any) -> bytes:
    digest = hashlib.md5(usedforsecurity=False)
    for chunk in chunks:
        digest.update(chunk)
    return digest.digest()


def content_md5(body: Callable[[], Any]) -> str:
    """The ``Content-MD5`` value (base64 of the raw digest) of the bytes ``body()`` yields."""
    with hashing():
        return base64.b64encode(md5_of(body())).decode("ascii")


def sends_md5(conn: Connection) -> bool:
    """Whether writes to this endpoint carry Content-MD5: stated, learned (False), else True."""
    stated = conn.options.server_capabilities.get(CONTENT_MD5)
    if stated is not None:
        return stated
    return STATE.capability(conn.endpoint, CONTENT_MD5) is not False


def _error_code(response: urllib3.BaseHTTPResponse, bucket: str, key: str) -> tuple[str, str]:
    error = request.s3_error(response, bucket, key)
    return error.code or "", error.message or ""


def refuses_header(response: urllib3.BaseHTTPResponse, bucket: str, key: str) -> bool:
    """Whether the answer refuses the Content-MD5 header itself (not a body that did not match)."""
    if response.status == 501:
        return True
    if response.status != 400:
        return False
    code, message = _error_code(response, bucket, key)
    return code not in _MISMATCH_CODES and "md5" in f"{code} {message}".lower()


def is_mismatch(response: urllib3.BaseHTTPResponse, bucket: str, key: str) -> bool:
    return response.status == 400 and _error_code(response, bucket, key)[0] in _MISMATCH_CODES


def send(
    conn: Connection,
    method: str,
    bucket: str,
    key: str,
    *,
    body: Callable[[], Any],
    headers: Mapping[str, str],
    **kw: Any,
) -> tuple[urllib3.BaseHTTPResponse, int]:
    """``request.send`` with the body's Content-MD5 (see the module docstring). (response, attempts)."""
    if not sends_md5(conn):
        return request.send(conn, method, bucket, key, body=body, headers=dict(headers), **kw)
    checked = {**headers, "Content-MD5": content_md5(body)}
    response, attempts = request.send(conn, method, bucket, key, body=body, headers=checked, **kw)
    if refuses_header(response, bucket, key):
        _learn_refusal(conn, response.status)
        again, more = request.send(conn, method, bucket, key, body=body, headers=dict(headers), **kw)
        return again, attempts + more
    if not _corrupted(conn, response, checked, bucket, key, kw):
        return response, attempts
    logger.warning(
        "%s received a corrupted body for %s/%s (Content-MD5 or ETag mismatch); sending it again.",
        conn.endpoint, bucket, key,
    )  # fmt: skip
    response, more = request.send(conn, method, bucket, key, body=body, headers=checked, **kw)
    if _corrupted(conn, response, checked, bucket, key, kw):
        raise StorageServerError(
            f"Upload of {bucket}/{key} to {conn.endpoint} was corrupted on the way twice (Content-MD5 or "
            "ETag mismatch); nothing corrupted was kept. Check the network or proxy between them."
        )
    return response, attempts + more


def _learn_refusal(conn: Connection, status: int) -> None:
    STATE.remember(conn.endpoint, CONTENT_MD5, False)
    logger.warning(
        "S3 endpoint %s refuses the Content-MD5 header (HTTP %s): writes to it are sent without a body "
        "checksum from now on, so a body corrupted on the way would not be detected. Use a server that "
        'checks Content-MD5, or state MINIO_SERVER_CAPABILITIES = {"content-md5": False}.',
        conn.endpoint, status,
    )  # fmt: skip


def _corrupted(
    conn: Connection, response: Any, headers: Mapping[str, str], bucket: str, key: str, kw: Mapping
) -> bool:
    """Whether the server refused the body as corrupted, or stored other bytes than sent (its ETag,
    for servers that do not check Content-MD5). A whole object stored wrong is deleted at once."""
    if response.status >= 300:
        return is_mismatch(response, bucket, key)
    if _encrypted(headers):  # SSE-C and SSE-KMS ETags are not the MD5
        return False
    etag = request.etag_of(response)
    if not _is_md5(etag) or base64.b64decode(headers["Content-MD5"]).hex() == etag:
        return False
    if "partNumber" not in (kw.get("query") or {}):
        conn.client.remove_object(bucket_name=bucket, object_name=key)
    return True


def _encrypted(headers: Mapping[str, str]) -> bool:
    lowered = {name.lower(): value for name, value in headers.items()}
    return bool(lowered.get("x-amz-server-side-encryption-customer-algorithm")) or (
        lowered.get("x-amz-server-side-encryption", "").lower() == "aws:kms"
    )


# -- reads -------------------------------------------------------------------------------------


def stored_md5(headers: Mapping[str, str]) -> str | None:
    """The hex MD5 of the stored bytes, when the object's headers state one (module docstring)."""
    encrypted = headers.get("x-amz-server-side-encryption-customer-algorithm") or (
        (headers.get("x-amz-server-side-encryption") or "").lower() == "aws:kms"
    )
    etag = (headers.get("ETag") or "").strip('"').lower()
    if _is_md5(etag) and not encrypted:
        return etag
    meta = (headers.get(MD5_META) or "").strip().lower()
    if _is_md5(meta) and not headers.get("Content-Encoding"):  # else it is the decoded bytes' MD5
        return meta
    return None


def _is_md5(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


class ReadVerifier:
    """The MD5 of a read that runs from byte 0 to the end, compared with the stored one at the end.

    A seek elsewhere stops the check (the bytes no longer run in order); a seek back to 0 with
    nothing read yet keeps it.
    """

    def __init__(self, expected: str | None, size: int, what: str) -> None:
        self.expected = expected
        self._size = size
        self._what = what
        self._digest = hashlib.md5(usedforsecurity=False) if expected else None
        self._seen = 0
        self._failure: ChecksumMismatchError | None = None

    @property
    def active(self) -> bool:
        return self._digest is not None

    def moved(self, position: int) -> None:
        if position != self._seen:
            self._digest = None

    def update(self, data: Any) -> None:
        """Add the next bytes; ChecksumMismatchError when they complete the object wrongly."""
        if self._failure is not None:
            raise self._failure
        if self._digest is None:
            return
        self._digest.update(data)
        self._seen += len(data)
        if self._seen >= self._size:
            got, self._digest = self._digest.hexdigest(), None
            if got != self.expected:
                self._failure = ChecksumMismatchError(
                    f"Read of {self._what} returned bytes whose MD5 {got} differs from the stored "
                    f"checksum {self.expected}: they were corrupted on the way. The bytes were not handed "
                    "out as good; read the file again (a persistent mismatch means the stored object or "
                    "a proxy on the way is damaged)."
                )
                raise self._failure
