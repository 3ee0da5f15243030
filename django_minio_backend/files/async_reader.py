"""The object ``await storage.aopen(name)`` returns: an async face on the storage's own file.

Each ``await f.read(n)`` is one call of the synchronous file's ``read(n)`` in the async pool
(``offload.py``), so the guarantees are the synchronous reader's: one GET read as the caller reads,
re-reads pinned to the first version with If-Match (``reader.py``), at most one buffer in memory.
``async for chunk in f`` yields bytes of at most ``CHUNK_SIZE``; ``async with`` closes the file
(and releases its connection) on the way out. A file opened for writing gets ``write`` as well.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

from . import offload

CHUNK_SIZE = 256 * 1024


class AsyncFile:
    """Awaitable read/write/seek over a synchronous file; see the module docstring."""

    def __init__(self, file: Any, chunk_size: int = CHUNK_SIZE) -> None:
        self.file = file
        self.chunk_size = chunk_size

    def __repr__(self) -> str:
        return f"<AsyncFile {self.name!r}>"

    @property
    def name(self) -> str:
        return self.file.name

    @property
    def mode(self) -> str:
        return getattr(self.file, "mode", "rb")

    @property
    def size(self) -> int:
        """The object's size (for a gzip-stored object, reading it through: use ``asize()``)."""
        return self.file.size

    async def asize(self) -> int:
        return await offload.run(lambda: self.file.size)

    @property
    def closed(self) -> bool:
        return self.file.closed

    async def read(self, size: int = -1) -> bytes | str:
        return await offload.run(self.file.read, size)

    async def readline(self, size: int = -1) -> bytes | str:
        return await offload.run(self.file.readline, size)

    async def write(self, data: bytes | str) -> int:
        return await offload.run(self.file.write, data)

    async def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return await offload.run(self.file.seek, offset, whence)

    def tell(self) -> int:
        return self.file.tell()  # a position kept in memory: no request

    async def aclose(self) -> None:
        if not self.file.closed:
            await offload.run(self.file.close)

    async def __aenter__(self) -> AsyncFile:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[bytes | str]:
        return self.chunks()

    async def chunks(self, chunk_size: int | None = None) -> AsyncIterator[bytes | str]:
        """The rest of the file, ``chunk_size`` (default CHUNK_SIZE) at most per item."""
        size = chunk_size or self.chunk_size
        while True:
            chunk = await offload.run(self.file.read, size)
            if not chunk:
                return
            yield chunk
