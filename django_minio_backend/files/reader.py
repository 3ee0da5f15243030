"""The file object returned by ``MinioBackend.open()``: streaming, seekable, read-only.

Reading never holds more than one buffer in memory. The object's bytes come from one GET that
is read as the caller reads; a seek drops that response and the next read starts a ranged GET
at the new position. A connection cut midway is resumed the same way, from the byte where it
stopped (at most RESUME_ATTEMPTS times per open file); a stalled one is not waited for again. Closing
the file releases its connection to the pool.

Every re-GET is pinned to the version the first GET returned: it carries ``If-Match`` with that
response's ETag, and its ETag and Content-Range are checked again. If the object was replaced or
deleted meanwhile, the read raises ObjectChangedError; it never returns bytes of two versions
and never returns fewer bytes than the object holds.

A read from byte 0 to the end is checked against the object's stored MD5 where it has one
(``core.checksums.ReadVerifier``): the chunk that completes a wrong object raises
ChecksumMismatchError instead of being returned, and so does every read after it.
"""

from __future__ import annotations

import errno
import gzip
import io
from functools import cached_property
from typing import Any

import urllib3
from django.core.files.base import File

from ..core.checksums import ReadVerifier, stored_md5
from ..core.store import ObjectStore
from ..core.translate import changed
from ..errors import StorageServerError

READ_BUFFER_SIZE = 256 * 1024
TEXT_ENCODING = "utf-8"
# A connection cut midway is resumed from the same byte, pinned to the same version, this many
# times per open file.
RESUME_ATTEMPTS = 3


def _release(response: Any) -> None:
    response.close()
    response.release_conn()


def _header(response: Any, name: str) -> str | None:
    return response.headers.get(name)


def _content_range(response: Any) -> tuple[int, int] | None:
    """(first byte, total size) from ``Content-Range: bytes first-last/total``, or None."""
    value = _header(response, "Content-Range") or ""
    unit, _, spec = value.partition(" ")
    span, _, total = spec.partition("/")
    first = span.partition("-")[0]
    if unit != "bytes" or not first.isdigit() or not total.isdigit():
        return None
    return int(first), int(total)


def _total_size(response: Any, name: str) -> int:
    """The object's size from the first, unranged response."""
    length = _header(response, "Content-Length")
    if length is None or not length.isdigit():  # e.g. headers cut short: never guess a size
        raise StorageServerError(f"The server's response for {name!r} had no Content-Length.")
    return int(length)


class ObjectReader(io.RawIOBase):
    """A raw, seekable reader over one S3 object. Wrap it in io.BufferedReader to use it."""

    def __init__(self, store: ObjectStore, name: str) -> None:
        super().__init__()
        self.name = name
        self._store = store
        response = store.get(name)
        try:
            self._size = _total_size(response, name)
        except StorageServerError:
            _release(response)
            raise
        self._etag: str | None = _header(response, "ETag")
        self.content_encoding = (_header(response, "Content-Encoding") or "").lower()
        self._response: Any = response
        self._position = 0
        self._resumptions = 0  # for the file's lifetime: a flaky connection costs bounded requests
        self._verifier = ReadVerifier(stored_md5(response.headers), self._size, repr(name))

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
        if target < 0:  # as a local file does
            raise OSError(errno.EINVAL, f"Negative seek position {target} in {self.name!r}")
        if target != self._position:
            self._drop_response()
            self._position = target
            self._verifier.moved(target)
        return self._position

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        self._check_open()
        wanted = min(len(buffer), self._size - self._position)
        if wanted <= 0:
            return 0
        while True:
            data, failure = self._read_some(wanted)
            if data:
                self._verifier.update(data)  # raises rather than return the end of a wrong object
                buffer[: len(data)] = data
                self._position += len(data)
                if self._position >= self._size:
                    self._drop_response()
                return len(data)
            if self._resumptions >= RESUME_ATTEMPTS:
                raise StorageServerError(
                    f"Reading {self.name!r} failed after {self._position} of {self._size} bytes, "
                    f"{RESUME_ATTEMPTS} resumptions included: {failure}"
                )
            self._resumptions += 1

    def _read_some(self, wanted: int) -> tuple[bytes, str]:
        """(up to ``wanted`` bytes, ""), or (b"", what went wrong) when the connection was cut."""
        if self._response is None:
            self._response = self._refetch()
        try:
            # The stored bytes: a gzip-encoded object is decoded by MinioFile, not by urllib3.
            data = self._response.read(wanted, decode_content=False)
        except urllib3.exceptions.ReadTimeoutError as error:  # a stalled server: do not wait again
            self._drop_response()
            raise StorageServerError(
                f"Reading {self.name!r} stalled after {self._position} of {self._size} bytes: {error}"
            ) from error
        except urllib3.exceptions.HTTPError as error:
            self._drop_response()  # the next attempt resumes here, pinned by _refetch
            return b"", str(error)
        if not data:
            self._drop_response()
            return b"", "the connection closed"
        return data, ""

    def _refetch(self) -> Any:
        """A GET from the current position, of the same version as the first GET."""
        if not self._etag:
            raise StorageServerError(
                f"Cannot re-read {self.name!r} from byte {self._position}: the server sent no ETag, "
                "so a second request could not be pinned to the version already read."
            )
        response = self._store.get(self.name, offset=self._position, etag=self._etag)
        try:
            self._check_same_version(response)
        except StorageServerError:
            _release(response)
            raise
        return response

    def _check_same_version(self, response: Any) -> None:
        """Refuse a response of another version, or of other bytes, even if If-Match was ignored."""
        etag = _header(response, "ETag")
        if etag != self._etag:
            raise changed(repr(self.name), f"ETag {self._etag} became {etag}")
        span = _content_range(response)
        if span is None and self._position == 0:  # an unranged GET: the whole object
            span = (0, _total_size(response, self.name))
        if span is None or span[0] != self._position:
            raise StorageServerError(
                f"The server answered a read of {self.name!r} from byte {self._position} with "
                f"Content-Range {_header(response, 'Content-Range')!r}; refusing bytes from elsewhere."
            )
        if span[1] != self._size:
            raise changed(repr(self.name), f"size {self._size} became {span[1]}")

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
    """A Django File over an ObjectReader. Binary for mode 'rb', UTF-8 text for mode 'r'.

    A ``gzipped`` object (stored with Content-Encoding: gzip) reads as its original, decompressed
    bytes; its ``size`` is then counted by reading to the end when first asked.
    """

    def __init__(self, reader: ObjectReader, name: str, mode: str = "rb") -> None:
        gzipped = reader.content_encoding == "gzip"
        buffered: io.BufferedIOBase = io.BufferedReader(reader, buffer_size=READ_BUFFER_SIZE)
        if gzipped:
            buffered = gzip.GzipFile(fileobj=buffered, mode="rb")
        stream = buffered if "b" in mode else io.TextIOWrapper(buffered, encoding=TEXT_ENCODING)
        super().__init__(stream, name)
        self.mode = mode
        self._binary = buffered
        if not gzipped:
            self.size = reader.size

    @cached_property
    def size(self) -> int:
        """Only reached for a gzipped object: its original size, counted by reading it through."""
        position = self._binary.tell()
        size = self._binary.seek(0, io.SEEK_END)
        self._binary.seek(position)
        return size

    def open(self, mode: str | None = None) -> MinioFile:
        if self.closed:
            raise ValueError(f"{self.name!r} is closed; open it again through the storage.")
        self.seek(0)
        return self
