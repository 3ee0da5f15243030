"""Race-free unique names: new objects are created with S3 conditional writes.

When ``replace_existing`` is False, a save must never overwrite an object, even one another thread
or process creates at the same moment. Asking "does it exist?" and then writing leaves a window in
which two writers both see a free name. Instead, every new object is written with
``If-None-Match: *``: the server refuses (412) to create a key that already exists, and we retry
with the next name Django's rules give.

- Single-part uploads (known length up to the multipart threshold, no SSE/tags/retention/legal
  hold/progress) are one conditional PUT: one request per save instead of HEAD + PUT.
- Everything else first claims the name with an empty conditional PUT, then uploads over it with
  minio's ``put_object`` (multipart when large). Not every server honours If-None-Match on
  CompleteMultipartUpload (Ceph RGW 16 ignores it), so the claim is what keeps this race-free.
  Until that upload finishes, the name holds an empty object; if it fails, the claim is deleted.

minio's ``put_object`` cannot send If-None-Match (it turns unknown headers into user metadata), so
the conditional PUT is signed here (SigV4, in headers) and sent through the storage's own urllib3
pool, so its timeouts, retries and counting apply. minio still builds the object's URL.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import urllib3
from django.core.files.storage import Storage
from minio.error import S3Error

from . import sigv4
from .errors import StorageServerError
from .uploads import upload_source

if TYPE_CHECKING:
    from .storage import MinioBackend

logger = logging.getLogger("django_minio_backend")

MAX_ATTEMPTS = 10  # Django's 7-character random suffixes practically never collide twice
URL_SHAPE_LIFETIME = timedelta(minutes=1)  # only the URL's scheme, host and path are used
# Upload arguments that only minio's put_object knows how to send: they take the claim path.
PUT_OBJECT_ONLY = ("sse", "progress", "tags", "retention", "legal_hold")

_max_length: ContextVar[int | None] = ContextVar("django_minio_backend_max_length", default=None)


class NameTaken(Exception):
    """The server answered 412: an object with this key already exists."""


@contextmanager
def save_limits(max_length: int | None) -> Iterator[None]:
    """Make ``max_length`` of the current save() known to the name retries in ``_save``."""
    token = _max_length.set(max_length)
    try:
        yield
    finally:
        _max_length.reset(token)


class _NameChooser(Storage):
    """Django's name rules (suffixes, truncation to max_length), with known-taken names as exists()."""

    def __init__(self, taken: set[str], alternative: Callable[[str, str], str]) -> None:
        self._taken = taken
        self._alternative = alternative

    def exists(self, name: str) -> bool:
        return name in self._taken

    def get_alternative_name(self, file_root: str, file_ext: str) -> str:
        return self._alternative(file_root, file_ext)


def first_name(storage: Storage, name: str, max_length: int | None) -> str:
    """The name to try first: ``name`` itself, shortened if it exceeds ``max_length``. No request."""
    return _NameChooser(set(), storage.get_alternative_name).get_available_name(name, max_length=max_length)


def save_new(storage: MinioBackend, name: str, content: Any) -> str:
    """Store ``content`` under ``name`` or the next free name; never overwrite. Return the name used."""
    data, length = upload_source(content)
    single = 0 <= length <= storage.options.upload_threshold and not any(
        storage._upload_kwargs.get(key) for key in PUT_OBJECT_ONLY
    )
    body = _replayable(data, length) if single else None
    taken: set[str] = set()
    for _ in range(MAX_ATTEMPTS):
        try:
            if single:
                _put_new(storage, name, content, body, length)
            else:
                _claim_then_upload(storage, name, content, data, length)
            return name
        except NameTaken:
            taken.add(name)
            name = _NameChooser(taken, storage.get_alternative_name).get_available_name(
                name, max_length=_max_length.get()
            )
    raise StorageServerError(
        f"Could not find a free name for {name!r} in bucket {storage.bucket!r} after {MAX_ATTEMPTS} "
        "attempts: every candidate already exists."
    )


def _replayable(data: Any, length: int) -> Any:
    """A body that can be sent again after a 412: the stream itself if seekable, else its bytes."""
    try:
        start = data.tell()
        data.seek(start)
    except (AttributeError, OSError, ValueError):
        return _Rewindable(data.read(length))  # at most the multipart threshold, as minio would buffer
    return _Rewindable(data, start)


class _Rewindable:
    """Wraps a body so each attempt starts from the same position."""

    def __init__(self, source: Any, start: int = 0) -> None:
        self.source, self.start = source, start

    def rewound(self) -> Any:
        if isinstance(self.source, bytes):
            return self.source
        self.source.seek(self.start)
        return self.source


def _put_new(storage: MinioBackend, name: str, content: Any, body: _Rewindable, length: int) -> None:
    put_kwargs = storage._put_kwargs(name, content, length)
    headers = {"Content-Type": put_kwargs["content_type"], **(put_kwargs["metadata"] or {})}
    with storage._s3_errors("upload", name):
        conditional_put(storage, storage._key(name), body.rewound(), length, headers)


def _claim_then_upload(storage: MinioBackend, name: str, content: Any, data: Any, length: int) -> None:
    key = storage._key(name)
    with storage._s3_errors("claim a name for", name):
        conditional_put(storage, key, b"", 0, {})
    try:
        with storage._s3_errors("upload", name):
            storage.client.put_object(
                bucket_name=storage.bucket,
                object_name=key,
                data=data,
                **storage._put_kwargs(name, content, length),
            )
    except BaseException:
        _release_claim(storage, key)
        raise


def _release_claim(storage: MinioBackend, key: str) -> None:
    try:
        storage.client.remove_object(bucket_name=storage.bucket, object_name=key)
    except Exception as error:  # the upload's own error is the one to raise
        logger.warning("Could not delete the empty placeholder %s/%s: %s", storage.bucket, key, error)


def conditional_put(storage: MinioBackend, key: str, body: Any, length: int, headers: dict[str, str]) -> None:
    """PUT ``body`` at ``key`` only if no object has that key. Raises NameTaken on 412."""
    # minio builds the object's URL (path or virtual-host style, encoding); we sign in headers.
    presigned = storage.client.get_presigned_url(
        method="PUT", bucket_name=storage.bucket, object_name=key, expires=URL_SHAPE_LIFETIME
    )
    url = urlunsplit(urlsplit(presigned)._replace(query=""))
    options = storage.options
    request_headers = sigv4.signed_headers(
        "PUT",
        url,
        {**headers, "If-None-Match": "*"},
        access_key=options.access_key,
        secret_key=options.secret_key,
        region=options.region,
    )
    request_headers["Content-Length"] = str(length)
    http = storage._http
    try:
        response = http.request(
            "PUT", url, body=body, headers=request_headers, retries=_without_read_retries(http)
        )
    except urllib3.exceptions.MaxRetryError as error:
        # The underlying cause says what failed without repeating the request line.
        raise (error.reason or error) from None
    if response.status == 412:
        raise NameTaken(key)
    if response.status >= 300:
        raise _s3_error(response, storage.bucket, key)


def _without_read_retries(http: Any) -> urllib3.Retry:
    """The pool's retry policy, minus retries after the request was sent.

    Re-sending a conditional PUT whose first attempt reached the server would get a 412 for our
    own object and store the content a second time under another name.
    """
    retries = getattr(http, "connection_pool_kw", {}).get("retries")
    base = retries if isinstance(retries, urllib3.Retry) else urllib3.Retry.DEFAULT
    return base.new(read=0)


def _s3_error(response: Any, bucket: str, key: str) -> S3Error:
    code, message = f"HTTP{response.status}", response.reason or ""
    try:
        root = ET.fromstring(response.data)
        code = root.findtext("Code") or code
        message = root.findtext("Message") or message
    except ET.ParseError:
        pass
    return S3Error(
        code=code,
        message=message,
        resource=f"/{bucket}/{key}",
        request_id=response.headers.get("x-amz-request-id", ""),
        host_id=response.headers.get("x-amz-id-2", ""),
        response=response,
        bucket_name=bucket,
        object_name=key,
    )
