"""The async Storage API: ``a*`` twins of the public methods, for async views and tasks.

Each one is the synchronous method run once in the bounded pool of ``files/offload.py``: the same
requests, the same names chosen race-free, the same pinned reads, the same errors. The event loop
never waits on the network; what it costs is one thread hop per call (tens of microseconds) and,
while a call runs, one of the pool's threads. ``aopen()`` gives an AsyncFile whose every read is
one such call.

The mixin only names the synchronous methods, so it serves MinioBackend, the static and manifest
storages (subclasses) and the multibucket router alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ..files import offload
from ..files.async_reader import AsyncFile


class AsyncStorageMixin:
    """``asave``, ``aopen``, ``aexists``... on any storage with the synchronous methods."""

    async def asave(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        return await offload.run(self.save, name, content, max_length=max_length)

    async def aopen(self, name: str, mode: str = "rb", **kwargs: Any) -> AsyncFile:
        """An AsyncFile over ``open(name, mode)``: ``await f.read(n)``, ``async for``, ``async with``."""
        return AsyncFile(await offload.run(self.open, name, mode, **kwargs))

    async def aexists(self, name: str) -> bool:
        return await offload.run(self.exists, name)

    async def astat(self, name: str) -> Any:
        return await offload.run(self.stat, name)

    async def asize(self, name: str) -> int:
        return await offload.run(self.size, name)

    async def aget_modified_time(self, name: str) -> datetime:
        return await offload.run(self.get_modified_time, name)

    async def adelete(self, name: str) -> None:
        await offload.run(self.delete, name)

    async def adelete_many(self, names: Iterable[str]) -> None:
        """Bulk delete where the storage has ``delete_many``; one ``delete`` per name elsewhere."""
        names = list(names)
        bulk = getattr(self, "delete_many", None)
        if bulk is not None:
            await offload.run(bulk, names)
            return
        for name in names:
            await offload.run(self.delete, name)

    async def alistdir(self, path: str) -> tuple[list[str], list[str]]:
        return await offload.run(self.listdir, path)

    async def aurl(self, name: str, **kwargs: Any) -> str:
        """``url()`` (no request; the URL cache may ask Django's cache, so it runs in the pool too)."""
        return await offload.run(self.url, name, **kwargs)

    async def aget_available_name(self, name: str, max_length: int | None = None) -> str:
        return await offload.run(self.get_available_name, name, max_length=max_length)

    async def apresigned_post(self, name: str, **kwargs: Any) -> dict[str, Any]:
        return await offload.run(self.presigned_post, name, **kwargs)

    async def apresigned_put_url(self, name: str, **kwargs: Any) -> str:
        return await offload.run(self.presigned_put_url, name, **kwargs)

    async def averify_upload(self, name: str, **kwargs: Any) -> Any:
        return await offload.run(self.verify_upload, name, **kwargs)
