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
- Inside the collectstatic context nothing is read back from the bucket, and each final file is
  uploaded once: ``open()`` of a name collected in this run reads its local source file, and
  what post-processing saves (hashed copies, the rewritten CSS of each pass) is staged on local
  disk (a temporary directory; a copy collected from a local file is not copied again) and
  uploaded when the manifest is saved, only under the names the manifest keeps. A later pass's
  intermediate name is never uploaded.
- MINIO_STATIC_KEEP_ONLY_HASHED_FILES: collectstatic's copies under the original names are not
  uploaded either (and ones a previous run stored are deleted); only the hashed copies and the
  manifest are stored, which ``{% static %}`` is all that needs.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.files import File

from ..names import clean_name
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
        self._hashing.staged = {}
        self._hashing.numbers = itertools.count()
        self._hashing.directory = tempfile.mkdtemp(prefix="minio-static-")
        try:
            yield from super().post_process(*args, **kwargs)
        finally:
            self._hashing.active = False
            self._hashing.staged = {}
            self._hashing.originals = set()
            shutil.rmtree(self._hashing.directory, ignore_errors=True)

    @property
    def keep_only_hashed(self) -> bool:
        return self.options.static_keep_only_hashed_files

    def _open(self, name: str, mode: str = "rb") -> Any:
        session = self.collect_session
        source = None if session is None or mode != "rb" else session.recorded_source(clean_name(name))
        if source is None:
            return super()._open(name, mode)
        return File(open(source, "rb"), name)

    def _replace(self, name: str, content: Any) -> str:
        session = self.collect_session
        name = clean_name(name)
        if session is None or name == self.manifest_name:
            return super()._replace(name, content)
        if getattr(self._hashing, "active", False):
            path = self._stage(name, content)
            session.note_staged(name, os.path.getsize(path))
            return name
        source = session.recorded_source(name)
        if self.keep_only_hashed and source is not None:
            session.note_staged(name, os.path.getsize(source))  # hashed below, never uploaded
            self._staged_originals().add(name)
            return name
        return super()._replace(name, content)

    def _staged_originals(self) -> set[str]:
        if getattr(self._hashing, "originals", None) is None:
            self._hashing.originals = set()
        return self._hashing.originals

    def _stage(self, name: str, content: Any) -> str:
        """Keep what post-processing saved under ``name`` on local disk; its path."""
        local = getattr(getattr(content, "file", None), "name", None)
        if isinstance(local, str) and os.path.isabs(local) and os.path.isfile(local):
            path = local  # the local source itself, read again when uploaded
        else:
            path = os.path.join(self._hashing.directory, str(next(self._hashing.numbers)))
            if hasattr(content, "seek"):
                content.seek(0)
            with open(path, "wb") as out:
                for chunk in content.chunks():
                    out.write(chunk.encode() if isinstance(chunk, str) else chunk)
        self._hashing.staged[name] = path
        return path

    def _upload_staged(self) -> None:
        """Upload the staged files the manifest names, once each; forget the others."""
        session = self.collect_session
        staged = getattr(self._hashing, "staged", None)
        if session is None or not staged:
            return
        final = set(self.hashed_files.values())
        for name, path in staged.items():
            if name not in final:
                session.keep_stored(name)
                continue
            with open(path, "rb") as handle:
                MinioBackendStatic._replace(self, name, File(handle, name))  # prepared (read) here
        staged.clear()
        if self.keep_only_hashed:  # originals an earlier run stored go at the end of this one
            kept = self._staged_originals()
            for original in self.hashed_files:
                if original not in final and original not in kept and session.exists(original):
                    session.delete(original)

    def save_manifest(self) -> None:
        session = self.collect_session
        if session is not None:
            self._upload_staged()
            session.flush()  # every hashed file is stored before the manifest names it
        super().save_manifest()

    def extra_upload_headers(self, name: str) -> dict[str, str]:
        headers = super().extra_upload_headers(name)
        if getattr(self._hashing, "active", False) and name != self.manifest_name:
            headers["Cache-Control"] = self.hashed_cache_control
        return headers
