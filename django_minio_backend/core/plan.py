"""What an upload sends: one pure function turns a save() into an UploadPlan.

``plan_upload(options, upload_kwargs, name, content)`` decides, once and for every write path
(new name, replace, multipart), the byte stream and its length, the content type, the headers and
user metadata (``headers.object_headers``), and the part size.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import io
import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from minio.helpers import genheaders
from minio.sse import SseCustomerKey

from ..conf.options import UPLOAD_KWARGS, StorageOptions
from ..conf.validators import MAX_PARALLEL_PARTS, MIN_PART_SIZE
from ..errors import ConfigurationError
from . import encryption
from .headers import object_headers

TEXT_ENCODING = "utf-8"


class _EncodedText(io.RawIOBase):
    """Reads a text stream as UTF-8 bytes, a chunk at a time."""

    def __init__(self, text_stream: Any) -> None:
        super().__init__()
        self._text = text_stream
        self._pending = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            data, self._pending = self._pending + self._text.read().encode(TEXT_ENCODING), b""
            return data
        while len(self._pending) < size:
            chunk = self._text.read(max(size // 4, 1))
            if not chunk:
                break
            self._pending += chunk.encode(TEXT_ENCODING)
        data, self._pending = self._pending[:size], self._pending[size:]
        return data


def check_upload_kwargs(kwargs: Mapping[str, Any]) -> None:
    """ConfigurationError for a keyword argument no upload understands, with the closest one."""
    for key in kwargs:
        if key not in UPLOAD_KWARGS:
            close = difflib.get_close_matches(key, sorted(UPLOAD_KWARGS), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigurationError(f"MinioBackend got an unknown keyword argument {key!r}.{hint}")


class UploadKwargs(dict):
    """A storage's upload keyword arguments (replace_existing, sse, tags...), never changed after
    construction: deep copies share them; pickling leaves out ``http_client`` (a pool cannot leave
    its process; the unpickled storage builds its default pool)."""

    def __deepcopy__(self, memo: dict) -> UploadKwargs:
        return self

    def __reduce__(self) -> tuple:
        return (UploadKwargs, ({key: value for key, value in self.items() if key != "http_client"},))


@dataclass
class UploadPlan:
    """Everything a write sends. ``length`` is -1 when unknown (then the source is read in parts)."""

    name: str
    source: Any  # has read(); seekable unless noted by ``start`` being None
    start: int | None  # position to rewind to before each attempt; None: cannot rewind
    length: int
    content_type: str
    headers: dict[str, str]  # sent on the PUT / CreateMultipartUpload
    part_headers: dict[str, str] = field(default_factory=dict)  # sent on every UploadPart (SSE-C)
    part_size: int = 10 * 1024 * 1024
    single: bool = True  # one PUT (else multipart)
    parallel: int = 1  # multipart parts in flight at once
    progress: Any = None
    encryption: str | None = None  # "SSE-C", "SSE-KMS", "SSE-S3": what the server must confirm

    @property
    def tagged(self) -> bool:
        """Whether the write carries object tags (``x-amz-tagging``)."""
        return any(name.lower() == "x-amz-tagging" for name in self.headers)

    def rewind(self) -> None:
        if self.start is not None:
            self.source.seek(self.start)


def _position(stream: Any) -> int | None:
    try:
        position = stream.tell()
        stream.seek(position)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None
    return position


def _rewind(content: Any) -> None:
    # A non-seekable stream is read from where it stands.
    with contextlib.suppress(AttributeError, OSError, ValueError):
        content.seek(0)


def _known_length(content: Any) -> int:
    try:
        size = content.size
    except (AttributeError, OSError, ValueError):
        return -1
    return size if isinstance(size, int) and size >= 0 else -1


def check_content(content: Any) -> None:
    """TypeError, with the fix, unless ``content`` is (or wraps) something with read()."""
    source = getattr(content, "file", content)
    if not callable(getattr(source, "read", None)):
        raise TypeError(
            f"save() needs a file-like object (File, ContentFile, UploadedFile), not "
            f"{type(source).__name__}. Wrap bytes or str in django.core.files.base.ContentFile."
        )


def upload_source(content: Any) -> tuple[Any, int]:
    """Return ``(stream, length)``; length is -1 when unknown.

    Text content (a ContentFile of str, a file opened in text mode) is encoded as UTF-8 while it
    streams, so its byte length is unknown up front.
    """
    check_content(content)
    _rewind(content)
    if isinstance(content.read(0), str):
        return _EncodedText(content), -1
    return content, _known_length(content)


def content_type(name: str, content: Any) -> str:
    declared = getattr(content, "content_type", None)
    if declared:
        return declared
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


def plan_upload(
    options: StorageOptions,
    upload_kwargs: Mapping[str, Any],
    name: str,
    content: Any,
    extra_headers: Mapping[str, str] | None = None,
) -> UploadPlan:
    """The one description of what saving ``content`` under ``name`` sends, on every path."""
    source, length = upload_source(content)
    start = _position(source)
    threshold, part_size = options.upload_threshold, options.upload_part_size
    single = 0 <= length <= threshold
    if length < 0 or (start is None and single):
        source, length, start, single = _buffer_head(source, length, threshold, part_size)
    sse = upload_kwargs.get("sse") or encryption.for_writes(options)
    headers = object_headers(options, upload_kwargs, name, extra_headers)
    headers |= genheaders(
        None,
        sse,
        upload_kwargs.get("tags"),
        upload_kwargs.get("retention"),
        bool(upload_kwargs.get("legal_hold")),
    )
    return UploadPlan(
        name=name,
        source=source,
        start=start,
        length=length,
        content_type=content_type(name, content),
        headers=headers,
        part_headers=sse.headers() if isinstance(sse, SseCustomerKey) else {},
        part_size=max(part_size, MIN_PART_SIZE),
        single=single,
        parallel=parallel_parts(options, upload_kwargs),
        progress=upload_kwargs.get("progress"),
        encryption=encryption.mode_of(headers),
    )


def parallel_parts(options: StorageOptions, upload_kwargs: Mapping[str, Any]) -> int:
    """Parts in flight per multipart upload: ``num_parallel_uploads``, else MINIO_NUM_PARALLEL_UPLOADS."""
    given = upload_kwargs.get("num_parallel_uploads")
    if given is None:
        return options.num_parallel_uploads
    if isinstance(given, bool) or not isinstance(given, int) or not 1 <= given <= MAX_PARALLEL_PARTS:
        raise ConfigurationError(
            f"num_parallel_uploads must be a whole number from 1 to {MAX_PARALLEL_PARTS} (parts of one "
            f"upload sent at once), not {given!r}."
        )
    return given


def _buffer_head(
    source: Any, length: int, threshold: int, part_size: int
) -> tuple[Any, int, int | None, bool]:
    """For a stream of unknown length, or one that cannot rewind: read what one PUT would send.

    If the whole stream fits in one PUT (at most ``threshold`` bytes, or exactly ``length``), it
    becomes an in-memory, rewindable source. Otherwise the bytes read so far are put back in
    front of the rest and the upload goes multipart, reading each part before sending it.
    """
    limit = length if 0 <= length <= threshold else threshold
    head = _read_up_to(source, limit + 1)
    if len(head) <= limit and (length < 0 or len(head) == length):
        return io.BytesIO(head), len(head), 0, True
    if 0 <= length <= threshold:  # declared length, but the stream is longer or shorter
        return io.BytesIO(head), length, 0, True  # the writer's exact-length check reports it
    return _Chained(head, source), length, None, False


def _read_up_to(source: Any, size: int) -> bytearray:
    """Up to ``size`` bytes of ``source``, read into one buffer (no list of chunks to join)."""
    buffer, filled = bytearray(size), 0
    while filled < size:
        chunk = source.read(min(size - filled, 1024 * 1024))
        if not chunk:
            break
        chunk = chunk[: size - filled]
        buffer[filled : filled + len(chunk)] = chunk
        filled += len(chunk)
    del buffer[filled:]
    return buffer


class _Chained(io.RawIOBase):
    """``head`` bytes, then the rest of ``stream``."""

    def __init__(self, head: bytearray, stream: Any) -> None:
        super().__init__()
        self._head: memoryview | None = memoryview(head) if head else None
        self._stream = stream

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._head is not None:
            size = len(self._head) if size is None or size < 0 else size
            data, rest = bytes(self._head[:size]), self._head[size:]
            self._head = rest if len(rest) else None  # the head's memory goes once it is read
            return data
        return self._stream.read(size)


class Replayable(io.RawIOBase):
    """A non-seekable stream that can be read again from the start, while at most ``limit``
    bytes (or characters) were read: a save whose name turned out to be taken resends them under
    the next name. ``replayable`` is False once more was read; nothing beyond ``limit`` is kept.
    """

    def __init__(self, stream: Any, limit: int) -> None:
        super().__init__()
        self._stream, self._limit = stream, limit
        self._kept: list[Any] = []
        self._kept_size = 0
        self._position = 0
        self.replayable = True

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self.replayable

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset + (self._position if whence == io.SEEK_CUR else 0)
        if whence == io.SEEK_END or not self.replayable or not 0 <= target <= self._kept_size:
            raise io.UnsupportedOperation(f"cannot seek to {offset} (whence {whence}) in a stream")
        self._position = target
        return target

    def read(self, size: int | None = -1) -> Any:
        kept = self._joined()
        if self._position < self._kept_size:
            end = self._kept_size if size is None or size < 0 else self._position + size
            data = kept[self._position : end]
            self._position += len(data)
            return data
        data = self._stream.read(size)
        self._position += len(data)
        if self.replayable and self._position <= self._limit:
            self._kept.append(data)
            self._kept_size += len(data)
        elif data:
            self.replayable, self._kept = False, []
        return data

    def _joined(self) -> Any:
        if len(self._kept) > 1:
            self._kept = [self._kept[0][:0].join(self._kept)]
        return self._kept[0] if self._kept else b""


def replayable(content: Any, limit: int) -> tuple[Any, Replayable | None]:
    """``content`` itself if it can rewind; else a copy reading through a Replayable, and that."""
    source = getattr(content, "file", content)
    if not callable(getattr(source, "read", None)) or _position(source) is not None:
        return content, None
    replay = Replayable(source, limit)
    if source is content:
        return replay, replay
    wrapped = copy.copy(content)
    wrapped.file = replay
    return wrapped, replay
