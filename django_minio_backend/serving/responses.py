"""A response that streams one object of a storage, with Range, conditional GET and one version.

``stream_object(request, storage, name)`` makes one HEAD, then answers:

- 304 (or 412) to a matching If-None-Match/If-Modified-Since (If-Match/If-Unmodified-Since), from
  the HEAD alone;
- 416 with ``Content-Range: bytes */size`` to an unsatisfiable single Range;
- 206 with one ranged GET to a satisfiable single Range (If-Range honoured), else 200 with one GET.

The GET carries ``If-Match`` with the HEAD's ETag and is sent before the headers go out, so a file
replaced between the two is an error, not a response; replaced later, the body ends short with an
error (``files/ranged.py``), never with bytes of two versions. The body is read a chunk at a time:
under ASGI by ``async for`` (each read one call in the async pool, so the loop is never blocked and
Django does not collect the body into a list), under WSGI by plain iteration in the server's thread.
"""

from __future__ import annotations

import mimetypes
import re
from posixpath import basename
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import content_disposition_header, http_date, parse_http_date_safe

from ..files import offload
from ..files.ranged import PinnedRange

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class ObjectResponse(StreamingHttpResponse):
    """A StreamingHttpResponse over a PinnedRange that iterates it sync or async, as the server asks.

    Django iterates a streaming response with ``iter()`` under WSGI and ``aiter()`` under ASGI,
    and would list a body of the other kind in memory first; this one has both. A middleware that
    replaces ``streaming_content`` gets Django's usual behaviour for what it put there.
    """

    def __init__(self, body: PinnedRange, *, status: int = 200, headers: dict[str, str] | None = None):
        super().__init__(body, status=status, headers=headers)
        self.body_range = body
        self._own_iterator = self._iterator

    def _replaced(self) -> bool:
        return self._iterator is not self._own_iterator

    def __iter__(self):
        return super().__iter__() if self._replaced() else self._own_iterator

    async def __aiter__(self):
        if self._replaced():
            async for part in super().__aiter__():
                yield part
            return
        async for chunk in self.body_range:
            yield chunk


def _locate(storage: Any, name: str) -> tuple[Any, str]:
    """(ObjectStore, name in its bucket) for MinioBackend and its subclasses, or the router."""
    if hasattr(storage, "locate") and hasattr(storage, "backend"):
        location = storage.locate(name)
        return storage.backend(location).store, location.name
    store = getattr(storage, "store", None)
    if store is None:
        raise TypeError(
            f"{type(storage).__name__} is not a django-minio-backend storage; cannot stream {name!r}."
        )
    return store, name


def requested_range(request: HttpRequest, size: int, etag: str, last_modified: int) -> tuple[int, int] | None:
    """(start, length) of a single satisfiable Range; None to send everything; ValueError if unsatisfiable.

    Several ranges, a malformed header or a stale If-Range give the whole object (RFC 9110 14.2).
    """
    header = request.headers.get("Range", "").replace(" ", "")
    if not header or request.method not in ("GET", "HEAD"):
        return None
    if_range = request.headers.get("If-Range")
    if if_range:
        if if_range.startswith(('"', 'W/"')):
            if if_range != etag:
                return None
        elif parse_http_date_safe(if_range) != last_modified:
            return None
    match = _RANGE.match(header)
    if match is None or not (match[1] or match[2]):
        return None
    if not match[1]:  # the last N bytes
        suffix = int(match[2])
        if suffix == 0 or size == 0:
            raise ValueError("unsatisfiable")
        start = max(size - suffix, 0)
        return start, size - start
    start = int(match[1])
    if match[2] and int(match[2]) < start:
        return None
    if start >= size:
        raise ValueError("unsatisfiable")
    end = int(match[2]) if match[2] else size - 1
    end = min(end, size - 1)
    return start, end - start + 1


def stream_object(
    request: HttpRequest,
    storage: Any,
    name: str,
    *,
    as_attachment: bool = False,
    filename: str | None = None,
    content_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponseBase:
    """The response for ``name`` in ``storage`` (see the module docstring). Http404 when missing."""
    store, inner = _locate(storage, name)
    try:
        stat = store.stat(inner)
    except FileNotFoundError as error:
        raise Http404(str(error)) from error
    size = stat.size
    etag = f'"{stat.etag}"'
    modified = int(stat.last_modified.timestamp())
    filename = filename if filename is not None else basename(inner)
    kind = content_type or stat.content_type or mimetypes.guess_type(filename)[0]
    common = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": http_date(modified),
        **(headers or {}),
    }
    base = HttpResponse(headers=common)
    answer = get_conditional_response(request, etag=etag, last_modified=modified, response=base)
    if answer is not base:
        return answer
    common["Content-Type"] = kind or "application/octet-stream"
    disposition = content_disposition_header(as_attachment, filename)
    if disposition:
        common["Content-Disposition"] = disposition
    encoding = stat.metadata.get("Content-Encoding") or stat.metadata.get("content-encoding")
    if encoding:
        common["Content-Encoding"] = encoding
    try:
        wanted = requested_range(request, size, etag, modified)
    except ValueError:
        refused = HttpResponse(status=416, headers={**common, "Content-Range": f"bytes */{size}"})
        del refused["Content-Type"]
        return refused
    status, (start, length) = (200, (0, size)) if wanted is None else (206, wanted)
    common["Content-Length"] = str(length)
    if status == 206:
        common["Content-Range"] = f"bytes {start}-{start + length - 1}/{size}"
    if request.method == "HEAD" or length == 0:
        return HttpResponse(status=status, headers=common)
    body = PinnedRange(store, inner, etag=etag, start=start, length=length, size=size).open()
    return ObjectResponse(body, status=status, headers=common)


async def astream_object(request: HttpRequest, storage: Any, name: str, **kwargs: Any) -> HttpResponseBase:
    """``stream_object`` for async views: its HEAD and first GET run in the async pool."""
    return await offload.run(stream_object, request, storage, name, **kwargs)
