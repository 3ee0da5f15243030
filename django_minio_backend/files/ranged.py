"""One byte range of one version of an object, read as a response body is sent.

``PinnedRange`` makes one GET for ``length`` bytes from ``start``, carrying ``If-Match`` with the
ETag the caller already saw (from the HEAD that answered the conditional and Range headers), and
checks that the answer is that ETag and that range. A connection cut midway is resumed from the
byte where it stopped, pinned the same way, at most RESUME_ATTEMPTS times. If the object was
replaced meanwhile the read raises ObjectChangedError: the body ends short, it never mixes versions.

It iterates both ways: ``for chunk in body`` (WSGI, in the server's thread) and
``async for chunk in body`` (ASGI, each read one call in the async pool), at most ``chunk_size``
bytes per item, so memory stays one chunk per download.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import urllib3

from ..core.store import ObjectStore
from ..core.translate import changed
from ..errors import StorageServerError
from . import offload
from .reader import RESUME_ATTEMPTS, _content_range, _header, _release

CHUNK_SIZE = 256 * 1024


class PinnedRange:
    """``length`` bytes from ``start`` of the version ``etag`` of ``name``; see the module docstring."""

    def __init__(
        self, store: ObjectStore, name: str, *, etag: str, start: int, length: int, size: int
    ) -> None:
        self.name = name
        self._store = store
        self._etag = etag
        self._size = size
        self._position = start
        self._end = start + length
        self._response: Any = None
        self._resumptions = 0
        self.chunk_size = CHUNK_SIZE

    def open(self) -> PinnedRange:
        """Send the GET now (so that a refusal comes before the response's headers)."""
        if self._response is None and self._position < self._end:
            self._response = self._get()
        return self

    def _get(self) -> Any:
        whole = self._position == 0 and self._end == self._size
        response = self._store.get(
            self.name,
            offset=self._position,
            length=0 if whole else self._end - self._position,
            etag=self._etag,
        )
        etag = _header(response, "ETag")
        span = _content_range(response)
        if span is None and whole:
            span = (0, self._size)
        try:
            if etag != self._etag:
                raise changed(repr(self.name), f"ETag {self._etag} became {etag}")
            if span is None or span[0] != self._position or span[1] != self._size:
                raise StorageServerError(
                    f"The server answered a read of {self.name!r} from byte {self._position} with "
                    f"Content-Range {_header(response, 'Content-Range')!r}; refusing bytes from elsewhere."
                )
        except StorageServerError:
            _release(response)
            raise
        return response

    def read(self, size: int | None = None) -> bytes:
        """Up to ``size`` (default chunk_size) bytes; b"" at the end of the range."""
        wanted = min(size or self.chunk_size, self._end - self._position)
        while wanted > 0:
            if self._response is None:
                self._response = self._get()
            try:
                data = self._response.read(wanted, decode_content=False)
            except urllib3.exceptions.ReadTimeoutError as error:
                self.close()
                raise StorageServerError(
                    f"Reading {self.name!r} stalled at byte {self._position}: {error}"
                ) from error
            except urllib3.exceptions.HTTPError as error:
                data, failure = b"", str(error)
            else:
                failure = "the connection closed"
            if data:
                self._position += len(data)
                if self._position >= self._end:
                    self.close()
                return data
            self.close()
            if self._resumptions >= RESUME_ATTEMPTS:
                raise StorageServerError(
                    f"Reading {self.name!r} failed at byte {self._position} of {self._end}, "
                    f"{RESUME_ATTEMPTS} resumptions included: {failure}"
                )
            self._resumptions += 1
        return b""

    def close(self) -> None:
        if self._response is not None:
            response, self._response = self._response, None
            _release(response)

    def __iter__(self) -> Iterator[bytes]:
        try:
            while chunk := self.read():
                yield chunk
        finally:
            self.close()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            while chunk := await offload.run(self.read):
                yield chunk
        finally:
            await offload.run(self.close)
