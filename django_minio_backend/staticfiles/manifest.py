"""MinioManifestStaticStorage: hashed static file names, with the manifest kept in the bucket.

Built on Django's ManifestFilesMixin, with three changes:

- The manifest (``staticfiles.json`` in the static bucket) is read on first use, once per storage
  instance, so once per process for ``STORAGES["staticfiles"]``. Django reads it in ``__init__``;
  here construction makes no request. A manifest missing at that first read stays missing for the
  process (as with Django's own storage): restart the process after ``collectstatic``.
- Hashed files are uploaded with ``Cache-Control: public, max-age=31536000, immutable``: their
  names change whenever their content does. The manifest and the unhashed copies are not.
- Inside the collectstatic context (see ``session.py``) the listing, single-PUT replacements
  and parallel uploads apply; the manifest is written only after every hashed file is stored.
- Hashes are computed on the original bytes: files stored gzipped read back decompressed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from django.contrib.staticfiles.storage import ManifestFilesMixin

from .backend import MinioBackendStatic

IMMUTABLE = "public, max-age=31536000, immutable"

_NOT_READ: Any = object()


class MinioManifestStaticStorage(ManifestFilesMixin, MinioBackendStatic):
    """Static files under content-hashed names; ``{% static %}`` gives their public URLs."""

    hashed_cache_control: str = IMMUTABLE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._manifest_lock = threading.Lock()
        self._hashed_files: Any = _NOT_READ
        self._manifest_hash: Any = _NOT_READ
        self._constructing = True
        self._hashing = threading.local()
        super().__init__(*args, **kwargs)
        self._constructing = False

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_manifest_lock", None)
        state.pop("_hashing", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._manifest_lock = threading.Lock()
        self._hashing = threading.local()

    # -- the manifest, read on first use ---------------------------------------------------------

    def load_manifest(self) -> tuple[dict[str, str], str]:
        if self._constructing:
            return _NOT_READ, _NOT_READ  # ManifestFilesMixin.__init__ asks; read later instead
        return super().load_manifest()

    def _read_manifest_once(self) -> None:
        with self._manifest_lock:
            if self._hashed_files is _NOT_READ or self._manifest_hash is _NOT_READ:
                paths, digest = super().load_manifest()
                if self._hashed_files is _NOT_READ:
                    self._hashed_files = paths
                if self._manifest_hash is _NOT_READ:
                    self._manifest_hash = digest

    @property
    def hashed_files(self) -> dict[str, str]:
        if self._hashed_files is _NOT_READ:
            self._read_manifest_once()
        return self._hashed_files

    @hashed_files.setter
    def hashed_files(self, value: dict[str, str]) -> None:
        if not self._constructing:
            self._hashed_files = value

    @property
    def manifest_hash(self) -> str:
        if self._manifest_hash is _NOT_READ:
            self._read_manifest_once()
        return self._manifest_hash

    @manifest_hash.setter
    def manifest_hash(self, value: str) -> None:
        if not self._constructing:
            self._manifest_hash = value

    # -- collectstatic -----------------------------------------------------------------------------

    def post_process(self, *args: Any, **kwargs: Any) -> Iterator[tuple]:
        self._hashing.active = True
        try:
            yield from super().post_process(*args, **kwargs)
        finally:
            self._hashing.active = False

    def save_manifest(self) -> None:
        session = self.collect_session
        if session is not None:
            session.flush()  # every hashed file is stored before the manifest names it
        super().save_manifest()

    def extra_upload_headers(self, name: str) -> dict[str, str]:
        headers = super().extra_upload_headers(name)
        if getattr(self._hashing, "active", False) and name != self.manifest_name:
            headers["Cache-Control"] = self.hashed_cache_control
        return headers
