"""The file object returned by ``MinioBackend.open()``: streaming, seekable, read-only.

Reading never holds more than one buffer in memory. The object's bytes come from one GET that
is read as the caller reads; a seek drops that response and the next read starts a ranged GET
at the new position. Closing the file releases its connection to the pool.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import urllib3
from django.core.files.base import File

from .errors import StorageServerError

READ_BUFFER_SIZE = 256 * 1024
TEXT_ENCODING = "utf-8"

# fetch(offset) -> (urllib3 response positioned at offset, total object size)
Fetcher = Callable[[int], tuple[object, int]]


def _release(response: object) -> None:
    response.close()  # type: ignore[attr-defined]
    response.release_conn()  # type: ignore[attr-defined]


class ObjectReader(io.RawIOBase):
    """A raw, seekable reader over one S3 object. Wrap it in io.BufferedReader to use it."""

    def __init__(self, fetch: Fetcher, name: str) -> None:
        super().__init__()
        self.name = name
        self._fetch = fetch
        self._response, self._size = fetch(0)
        self._position = 0

    @property
    def size(self) -> int:
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        self._check_open()
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check_open()
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        target = base + offset
        if target < 0:
            raise ValueError(f"negative seek position {target} in {self.name!r}")
        if target != self._position:
            self._drop_response()
            self._position = target
        return self._position

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        self._check_open()
        wanted = min(len(buffer), self._size - self._position)
        if wanted <= 0:
            return 0
        if self._response is None:
            self._response, _ = self._fetch(self._position)
        try:
            data = self._response.read(wanted)  # type: ignore[attr-defined]
        except urllib3.exceptions.HTTPError as error:
            self._drop_response()
            raise StorageServerError(
                f"Reading {self.name!r} failed after {self._position} of {self._size} bytes: {error}"
            ) from error
        if not data:
            self._drop_response()
            raise StorageServerError(
                f"The connection closed after {self._position} of {self._size} bytes of {self.name!r}."
            )
        buffer[: len(data)] = data
        self._position += len(data)
        if self._position >= self._size:
            self._drop_response()
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._drop_response()
        super().close()

    def _drop_response(self) -> None:
        if self._response is not None:
            response, self._response = self._response, None
            _release(response)

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError(f"I/O operation on closed file {self.name!r}.")


class MinioFile(File):
    """A Django File over an ObjectReader. Binary for mode 'rb', UTF-8 text for mode 'r'."""

    def __init__(self, reader: ObjectReader, name: str, mode: str = "rb") -> None:
        buffered = io.BufferedReader(reader, buffer_size=READ_BUFFER_SIZE)
        stream = buffered if "b" in mode else io.TextIOWrapper(buffered, encoding=TEXT_ENCODING)
        super().__init__(stream, name)
        self.mode = mode
        self.size = reader.size

    def open(self, mode: str | None = None) -> MinioFile:
        if self.closed:
            raise ValueError(f"{self.name!r} is closed; open it again through the storage.")
        self.seek(0)
        return self
