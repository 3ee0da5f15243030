"""MinioBackend's server-side bulk methods: copy, rename, delete_prefix, and the exact-name write
that ``copy_files_to_minio`` uses.

No object's bytes pass through this process for a copy or a rename: the server copies them
(core/server_side.py). Each method forgets the cached URLs of the names it changes.

Requests (tested in tests/server/test_server_side.py):

- ``copy(src, dst)``: 2 (HEAD of the source, CopyObject); above 5 GiB, HEAD, then for P parts of
  5 GiB minio's compose_object: P HEADs, CreateMultipartUpload, P UploadPartCopy, Complete.
- ``rename(src, dst)``: the copy's, then one DELETE of the source.
- ``delete_prefix(prefix)``: per 1,000 objects, one LIST page and one DeleteObjects request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import SuspiciousFileOperation

from ..core.store import ObjectStore
from ..errors import StorageServerError
from ..names import clean_name, directory_prefix
from . import statcache, urlcache


class ServerSideOperations:
    """Mixed into MinioBackend, which provides ``store``, ``options``, ``_refuse_if_read_only``,
    ``_uploading`` and ``_plan``."""

    store: ObjectStore

    def copy(self, source: str, target: str, *, headers: Mapping[str, str] | None = None) -> str:
        """Copy the object ``source`` to ``target`` on the server and return ``target``.

        ``target`` is replaced if it exists. Its headers and user metadata are the source's, or
        exactly ``headers`` (Content-Type, Cache-Control, ``x-amz-meta-*``...) when given.
        """
        source, target = clean_name(source), clean_name(target)
        self._refuse_if_read_only("copy to", target)
        self.store.server_copy(source, target, headers=dict(headers) if headers is not None else None)
        urlcache.forget(self.store, target)
        statcache.forget(self.store, target)
        return target

    def rename(self, source: str, target: str, *, headers: Mapping[str, str] | None = None) -> str:
        """Move ``source`` to ``target``: a server-side copy, then the source is deleted.

        If the delete fails, both objects exist and StorageServerError says so: nothing is lost.
        """
        source, target = clean_name(source), clean_name(target)
        if source == target:
            self.store.stat(source)  # FileNotFoundError when there is nothing to rename
            return target
        self._refuse_if_read_only("rename", source)
        self.copy(source, target, headers=headers)
        try:
            self.store.delete(source)
        except StorageServerError as error:
            raise StorageServerError(
                f"Renamed {source!r} to {target!r} in bucket {self.store.bucket!r}, but the old object could "
                f"not be deleted, so both exist now: {error}. Delete {source!r} when the server is back."
            ) from error
        finally:
            urlcache.forget(self.store, source)
            statcache.forget(self.store, source)
        return target

    def delete_prefix(self, prefix: str, *, allow_empty: bool = False) -> int:
        """Delete every object under the directory ``prefix`` (``"galleries/42"`` deletes
        ``galleries/42/...``, never ``galleries/420``); return how many were deleted.

        Only this storage's bucket, only under MINIO_LOCATION. An empty prefix (everything the
        storage holds) is refused unless ``allow_empty=True``.
        """
        self._refuse_if_read_only("delete the objects under", prefix or "/")
        if not clean_name(prefix).strip("/") and not allow_empty:
            raise SuspiciousFileOperation(
                f"delete_prefix({prefix!r}) would delete everything in bucket {self.store.bucket!r}"
                + (f" under MINIO_LOCATION {self.options.location!r}" if self.options.location else "")
                + "; pass allow_empty=True if that is what you mean."
            )
        key_prefix = directory_prefix(self.options.location, prefix)
        sent, failed = self.store.delete_under(key_prefix, self._forget_key if self._caches_keys() else None)
        if failed:
            raise StorageServerError(
                f"Could not delete {len(failed)} of {sent} objects under {prefix!r} in bucket "
                f"{self.store.bucket!r}; first {failed[0]}"
            )
        return sent

    def _caches_keys(self) -> bool:
        return self.options.url_caching_enabled or self.options.stat_cache

    def _forget_key(self, key: str) -> None:
        urlcache.forget_key(self.store, key)
        statcache.forget_key(self.store, key)

    def save_exactly(self, name: str, content: Any, *, replace: bool) -> str:
        """Store ``content`` under exactly ``name`` and return the ETag: never another name.

        Without ``replace`` the write is conditional where the server honours it (NameTaken when
        the name is taken); ``content`` may be a compression.PreparedFile (its headers are sent).
        """
        name = clean_name(name)
        self._refuse_if_read_only("save", name)
        new = not replace and self.store.conditional_puts(name)
        with self._uploading(name, content) as upload:
            etag = self.store.put(name, self._plan(name, upload), new=new)
        urlcache.forget(self.store, name)
        statcache.forget(self.store, name)
        return etag
