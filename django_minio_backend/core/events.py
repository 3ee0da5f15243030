"""One event per S3 request, made where every request of the package leaves: the pool's ``urlopen``.

minio's client and this package's own signed requests (``request.py``) both send through the
connection's urllib3 pool, and both call its ``urlopen`` (urllib3's ``request()`` is a front for
it). So :class:`ObservedPool`, a thin wrapper around that pool, sees every request once, whichever
code built it, and nothing that sends no request (``url()``, signing) can emit one. Wrapping the
pool rather than subclassing it keeps a ``MINIO_HTTP_CLIENT`` given by the user as it is.

An event (:class:`RequestEvent`) goes to three places: the logger ``django_minio_backend.requests``
at DEBUG, the :data:`request_sent` Django signal, and the storage's ``MINIO_REQUEST_HOOK``
callable; plus the recorders of :func:`recording` (``testing.count_requests`` and the debug
toolbar panel). When none of them listens, ``urlopen`` makes one cheap check and sends the
request untouched: no clock is read and no event is built.

What an event measures: ``duration`` runs from sending to the answer's headers (for a streamed
GET) or to its whole body (everything else); ``bytes_received`` is the body's length, or for a
streamed GET the length the server announced. ``attempt`` is the attempt that gave the answer:
urllib3 retries minio's requests inside ``urlopen`` (its ``Retry`` history tells how many), and
``request.send`` retries ours one ``urlopen`` at a time (it says which, through :func:`attempt`).
A request that got no answer has ``status`` None and ``error`` set to the exception's class name.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import urllib3
from django.dispatch import Signal

logger = logging.getLogger("django_minio_backend.requests")

#: Sent once per S3 request with ``event=`` a :class:`RequestEvent` (sender: the ObservedPool's endpoint).
request_sent = Signal()

_attempt: contextvars.ContextVar[int] = contextvars.ContextVar("minio_request_attempt", default=0)
_context_recorders: contextvars.ContextVar[tuple[list, ...]] = contextvars.ContextVar(
    "minio_request_recorders", default=()
)
_process_recorders: list[list] = []
_recorders_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class RequestEvent:
    """One S3 request as sent and answered. See the module docstring for what each field measures."""

    operation: str
    method: str
    endpoint: str
    bucket: str
    key: str
    status: int | None
    bytes_sent: int
    bytes_received: int
    duration: float  # seconds
    attempt: int
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __str__(self) -> str:
        target = f"{self.bucket}/{self.key}" if self.key else self.bucket or "/"
        outcome = self.status if self.status is not None else self.error
        return f"{self.operation} {self.method} {target} -> {outcome}"


# -- naming a request --------------------------------------------------------------------------

_BUCKET_QUERIES = {
    "GET": (
        ("uploads", "ListMultipartUploads"),
        ("versioning", "GetBucketVersioning"),
        ("policy", "GetBucketPolicy"),
        ("location", "GetBucketLocation"),
        ("lifecycle", "GetBucketLifecycle"),
        ("versions", "ListObjectVersions"),
        ("list-type", "ListObjectsV2"),
    ),
    "PUT": (("policy", "PutBucketPolicy"), ("versioning", "PutBucketVersioning")),
    "DELETE": (("policy", "DeleteBucketPolicy"),),
    "POST": (("delete", "DeleteObjects"),),
}
_OBJECT_QUERIES = {
    "PUT": (
        ("partNumber", "UploadPart"),
        ("tagging", "PutObjectTagging"),
        ("retention", "PutObjectRetention"),
    ),
    "POST": (("uploads", "CreateMultipartUpload"), ("uploadId", "CompleteMultipartUpload")),
    "DELETE": (("uploadId", "AbortMultipartUpload"),),
    "GET": (("uploadId", "ListParts"), ("tagging", "GetObjectTagging")),
}
_PLAIN = {
    (True, "GET"): "GetObject",
    (True, "HEAD"): "HeadObject",
    (True, "PUT"): "PutObject",
    (True, "DELETE"): "DeleteObject",
    (False, "GET"): "ListObjects",
    (False, "HEAD"): "HeadBucket",
    (False, "PUT"): "CreateBucket",
    (False, "DELETE"): "DeleteBucket",
    (False, "POST"): "PostObject",
}


def operation(method: str, bucket: str, key: str, query: dict[str, str], headers: Any) -> str:
    """The S3 operation name of a request (``ListBuckets``, ``PutObject``, ``UploadPart`` ...)."""
    if not bucket:
        return "ListBuckets" if method == "GET" else f"{method} /"
    table = _OBJECT_QUERIES if key else _BUCKET_QUERIES
    for parameter, name in table.get(method, ()):
        if parameter in query:
            return name
    if key and method == "PUT" and headers and _header(headers, "x-amz-copy-source"):
        return "UploadPartCopy" if "partNumber" in query else "CopyObject"
    return _PLAIN.get((bool(key), method), method)


def _header(headers: Any, name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def split_target(url: str, endpoint_host: str) -> tuple[str, str, dict[str, str]]:
    """(bucket, key, query) of a request URL, path-style or virtual-host style."""
    parts = urlsplit(url)
    path = unquote(parts.path).lstrip("/")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    host = parts.netloc
    if endpoint_host and host != endpoint_host and host.endswith("." + endpoint_host):
        return host[: -len(endpoint_host) - 1], path, query
    bucket, _, key = path.partition("/")
    return bucket, key, query


# -- who listens -------------------------------------------------------------------------------


@contextlib.contextmanager
def recording(*, this_context_only: bool = False) -> Iterator[list[RequestEvent]]:
    """Collect the events of the requests made inside the block into the list it gives.

    Process-wide by default (requests from worker threads count too); ``this_context_only``
    collects only those of the current thread or task (a debug toolbar panel of one page).
    """
    events: list[RequestEvent] = []
    if this_context_only:
        token = _context_recorders.set((*_context_recorders.get(), events))
        try:
            yield events
        finally:
            _context_recorders.reset(token)
        return
    with _recorders_lock:
        _process_recorders.append(events)
    try:
        yield events
    finally:
        with _recorders_lock:
            _process_recorders.remove(events)


@contextlib.contextmanager
def attempt(number: int) -> Iterator[None]:
    """Mark the requests sent inside the block as attempt ``number`` (``request.send`` uses it)."""
    token = _attempt.set(number)
    try:
        yield
    finally:
        _attempt.reset(token)


def _listening(hook: Callable | None) -> bool:
    return bool(
        hook
        or _process_recorders
        or request_sent.receivers
        or _context_recorders.get()
        or logger.isEnabledFor(logging.DEBUG)
    )


def _emit(event: RequestEvent, hook: Callable | None) -> None:
    for events in (*_process_recorders, *_context_recorders.get()):
        events.append(event)
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("S3 request %s in %.1f ms", event, event.duration * 1000, extra=event.as_dict())
    if request_sent.receivers:
        request_sent.send(sender=event.endpoint, event=event)
    if hook is not None:
        hook(event)


# -- the pool ----------------------------------------------------------------------------------


_FRONT_ENDS = frozenset({"urlopen", "request", "request_encode_url", "request_encode_body"})


class ObservedPool(urllib3.PoolManager):
    """A urllib3 pool whose ``urlopen`` emits one event per request (see the module docstring).

    It is a PoolManager (minio requires one) that holds the real pool and hands it everything
    but ``urlopen`` and urllib3's ``request()`` front ends (which call ``urlopen``): ``clear()``,
    ``connection_from_url()``, ``connection_pool_kw``, ``headers`` ... are the wrapped pool's
    (PoolManager's own names through the properties set below the class, others through
    ``__getattr__``). Its own attributes are plain ones, so the check of ``urlopen`` stays cheap.
    """

    def __init__(self, pool: urllib3.PoolManager, *, endpoint: str, hook: Callable | None = None) -> None:
        # No PoolManager.__init__: this object has no connections of its own.
        self.pool = pool
        self.endpoint = endpoint
        self._host = urlsplit(endpoint).netloc
        self._hook = hook

    def __getattr__(self, name: str) -> Any:
        if name == "pool":  # not set yet (e.g. while copying): nothing to hand over to
            raise AttributeError(name)
        return getattr(self.pool, name)

    def urlopen(self, method: str, url: str, **kw: Any) -> Any:  # type: ignore[override]
        if not _listening(self._hook):
            return self.pool.urlopen(method, url, **kw)
        started = time.perf_counter()
        try:
            response = self.pool.urlopen(method, url, **kw)
        except Exception as error:
            self._record(method, url, kw, None, time.perf_counter() - started, type(error).__name__)
            raise
        self._record(method, url, kw, response, time.perf_counter() - started, None)
        return response

    def _record(self, method: str, url: str, kw: dict, response: Any, duration: float, error: Any) -> None:
        bucket, key, query = split_target(url, self._host)
        headers = kw.get("headers") or {}
        event = RequestEvent(
            operation=operation(method, bucket, key, query, headers),
            method=method,
            endpoint=self.endpoint,
            bucket=bucket,
            key=key,
            status=None if response is None else response.status,
            bytes_sent=_sent(headers, kw.get("body")),
            bytes_received=0 if response is None else _received(response, kw.get("preload_content", True)),
            duration=duration,
            attempt=_attempt.get() or _attempts_of(response),
            error=error,
        )
        _emit(event, self._hook)


def _delegated(name: str) -> property:
    return property(lambda self: getattr(self.pool, name))


for _name in dir(urllib3.PoolManager):
    if not _name.startswith("__") and _name not in _FRONT_ENDS and _name not in vars(ObservedPool):
        setattr(ObservedPool, _name, _delegated(_name))


def _sent(headers: Any, body: Any) -> int:
    length = _header(headers, "content-length")
    if length and length.isdigit():
        return int(length)
    return len(body) if isinstance(body, bytes | bytearray | memoryview) else 0


def _received(response: Any, preloaded: bool) -> int:
    if preloaded:
        return len(response.data or b"")
    length = response.headers.get("Content-Length") or ""
    return int(length) if length.isdigit() else 0


def _attempts_of(response: Any) -> int:
    retries = getattr(response, "retries", None)
    history = getattr(retries, "history", None) or ()
    return 1 + len(history)


def observed(pool: Any, *, endpoint: str, hook: Callable | None = None) -> ObservedPool:
    """``pool`` wrapped so that its requests emit events; an already wrapped pool as it is."""
    if isinstance(pool, ObservedPool):
        return pool
    return ObservedPool(pool, endpoint=endpoint, hook=hook)
