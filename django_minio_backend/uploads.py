"""Turning whatever Django hands to save() into a byte stream of known or unknown length."""

from __future__ import annotations

import contextlib
import io
from typing import Any

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


def upload_source(content: Any) -> tuple[Any, int]:
    """Return ``(stream, length)`` for minio's put_object; length is -1 when unknown.

    Text content (a ContentFile of str, a file opened in text mode) is encoded as UTF-8 while it
    streams, so its byte length is unknown up front and it goes through the streaming path.
    """
    source = getattr(content, "file", content)
    if not callable(getattr(source, "read", None)):
        raise TypeError(
            f"save() needs a file-like object (File, ContentFile, UploadedFile), not "
            f"{type(source).__name__}. Wrap bytes or str in django.core.files.base.ContentFile."
        )
    _rewind(content)
    if isinstance(content.read(0), str):
        return _EncodedText(content), -1
    return content, _known_length(content)
