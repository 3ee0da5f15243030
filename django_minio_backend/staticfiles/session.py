"""The collectstatic context: one bucket listing per run, replacing PUTs, parallel uploads.

Django's ``collectstatic`` asks the destination storage, for every file, ``exists(name)`` and
``get_modified_time(name)``; for a changed file it calls ``delete(name)`` then ``save(name)``.
On S3 that is two HEAD requests per file plus a DELETE before every upload, one at a time.

Inside a :class:`CollectSession` (opened by this app's ``collectstatic`` command, or by
``with storage.collecting():`` in a deploy script) the static storage instead:

- answers ``exists()``, ``size()``, ``get_modified_time()`` and ``listdir()`` from one listing of
  the bucket, taken on first use (one LIST request per 1,000 objects) and kept up to date by the
  session's own saves and deletes. It lives as long as the context: no answer is reused later.
- finds changes by content: ``get_modified_time()`` of a name whose local source is known
  compares the source's size and MD5 (as is, and gzipped as it would be stored) with the listed
  size and ETag; changing MINIO_GZIP alone uploads nothing again. When the ETag is not a plain
  MD5 (a multipart upload) or the storage uploads with SSE, it reads the object's
  ``x-amz-meta-md5`` (one HEAD) instead. Same content: the stored copy
  counts as current (the later of the two times is reported). Different content: the Unix epoch
  is reported, so collectstatic uploads the file again whatever the clocks say.
- holds deletes: ``delete(name)`` only marks the name deleted. A ``save()`` of that name then
  replaces the object in one PUT (nothing is uploaded when the stored bytes are already the same,
  as when the manifest storage rewrites an unchanged file). Names still marked when the context
  ends without an error are deleted in bulk (1,000 keys per request): that is how ``--clear``
  removes stale files. If the run fails, nothing marked is deleted: the previous deploy's objects
  stay readable, and the next run compares and uploads again.
- uploads in parallel: ``save()`` prepares the upload in the calling thread and queues it on a
  bounded pool of workers (MINIO_STATIC_UPLOAD_WORKERS). The context ends only once every upload
  finished, and raises the first failure with the file's name.

Outside the context the static storage behaves like the media storage: one HEAD per exists().
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..names import clean_name
from ..storage.compression import MD5_METADATA, Fingerprint, PreparedFile, fingerprint_path
from .uploader import ParallelUploader

logger = logging.getLogger("django_minio_backend")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Entry:
    """What a listing (or our own upload) says about one object. Times are aware (UTC)."""

    size: int
    etag: str  # without quotes
    last_modified: datetime

    @property
    def etag_md5(self) -> str | None:
        """The ETag when it is a plain MD5 (single-part upload); None for "<md5>-<parts>"."""
        etag = self.etag.lower()
        if len(etag) == 32 and all(char in "0123456789abcdef" for char in etag):
            return etag
        return None


class Listing:
    """Objects by name, and how many objects each directory holds."""

    def __init__(self, entries: Iterable[tuple[str, Entry]]) -> None:
        self.taken = time.monotonic()
        self.entries: dict[str, Entry] = {}
        self.directories: Counter[str] = Counter()
        for name, entry in entries:
            self.put(name, entry)

    def put(self, name: str, entry: Entry) -> None:
        if name not in self.entries:
            self.directories.update(_parents(name))
        self.entries[name] = entry

    def pop(self, name: str) -> Entry | None:
        entry = self.entries.pop(name, None)
        if entry is not None:
            self.directories.subtract(_parents(name))
            self.directories += Counter()  # drop directories that became empty
        return entry


def _parents(name: str) -> list[str]:
    parts = name.split("/")[:-1]
    return ["/".join(parts[: depth + 1]) for depth in range(len(parts))]


@dataclass(frozen=True)
class StaticStore:
    """What the session needs from the storage's I/O, as plain functions (no storage internals).

    ``list_entries()`` yields (name, Entry) for every object of the static storage;
    ``stored_md5(name)`` returns (x-amz-meta-md5 or None, gzipped?) from one HEAD;
    ``delete_many(names)`` deletes in bulk; ``gzips(name)`` says whether uploads of ``name`` are
    gzipped; ``etags_are_md5`` is False when uploads use SSE (their ETag is not the MD5).
    """

    list_entries: Callable[[], Iterable[tuple[str, Entry]]]
    stored_md5: Callable[[str], tuple[str | None, bool]]
    delete_many: Callable[[list[str]], None]
    gzips: Callable[[str], bool]
    etags_are_md5: bool
    workers: int


class CollectSession:
    """The state of one collectstatic run on one static storage. See the module docstring."""

    def __init__(self, store: StaticStore) -> None:
        self.store = store
        self.uploader = ParallelUploader(store.workers)
        self._lock = threading.RLock()
        self._listing: Listing | None = None
        self._deleted: dict[str, Entry] = {}  # held deletes: name -> what was stored
        self._sources: dict[str, str] = {}  # name -> local path of its source file
        self._clearing = 0
        self.depth = 0

    # -- the listing -----------------------------------------------------------------------------

    def listing(self) -> Listing:
        with self._lock:
            if self._listing is None:
                self._listing = Listing(self.store.list_entries())
            return self._listing

    def exists(self, name: str) -> bool:
        listing = self.listing()
        name = name.rstrip("/")
        with self._lock:
            if not name:
                return bool(listing.entries)
            return name in listing.entries or name in listing.directories

    def entry(self, name: str) -> Entry:
        listing = self.listing()
        with self._lock:
            entry = listing.entries.get(name)
        if entry is None:
            raise FileNotFoundError(f"{name} does not exist in the static storage.")
        return entry

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        listing = self.listing()
        prefix = path.strip("/")
        prefix = f"{prefix}/" if prefix else ""
        directories: set[str] = set()
        files: list[str] = []
        with self._lock:
            names = list(listing.entries)
        for name in names:
            if not name.startswith(prefix):
                continue
            head, slash, _ = name[len(prefix) :].partition("/")
            if slash:
                directories.add(head)
            else:
                files.append(head)
        return sorted(directories), sorted(files)

    # -- change detection ------------------------------------------------------------------------

    def record_source(self, name: str, path: str | None) -> None:
        """Tell the session which local file ``name`` is collected from (the command does)."""
        if path is not None:
            with self._lock:
                self._sources[clean_name(name)] = path

    def _source(self, name: str) -> str | None:
        with self._lock:
            path = self._sources.get(name)
        if path is None:
            from django.contrib.staticfiles import finders

            found = finders.find(name)
            path = found if isinstance(found, str) else None
        return path if path is not None and os.path.isfile(path) else None

    def recorded_source(self, name: str) -> str | None:
        """The local file collectstatic collected ``name`` from in this run (no finder lookup)."""
        with self._lock:
            path = self._sources.get(name)
        return path if path is not None and os.path.isfile(path) else None

    def modified_time(self, name: str) -> datetime:
        """The stored time, or the epoch when the local source's content differs (aware, UTC)."""
        entry = self.entry(name)
        source = self._source(name)
        if source is None:
            return entry.last_modified
        local = fingerprint_path(source, self.store.gzips(name))
        if self.is_current(name, entry, local) or _gzipped_copy_of(entry, source, local):
            return max(entry.last_modified, datetime.fromtimestamp(os.path.getmtime(source), tz=UTC))
        return EPOCH

    def is_current(self, name: str, entry: Entry, local: Fingerprint) -> bool:
        """Whether the stored object holds the local content (gzipped or not)."""
        if entry.etag_md5 is not None and _same_bytes(entry, local):
            return True
        if entry.etag_md5 is not None and self.store.etags_are_md5:
            return False  # a single-part MD5 ETag that differs: the content differs
        md5, _ = self.store.stored_md5(name)  # multipart or SSE: ask for our metadata
        return md5 == local.md5

    # -- deletes and saves -----------------------------------------------------------------------

    @contextmanager
    def clearing(self) -> Iterator[None]:
        """Deletes made inside are meant to force a fresh upload (``collectstatic --clear``)."""
        with self._lock:
            self._clearing += 1
        try:
            yield
        finally:
            with self._lock:
                self._clearing -= 1

    def delete(self, name: str) -> None:
        """Mark ``name`` deleted; it is deleted at the end of the run unless saved again."""
        listing = self.listing()
        with self._lock:
            entry = listing.pop(name)
            if entry is not None:  # a name deleted twice: the bucket still holds the first
                self._deleted.setdefault(
                    name, Entry(-1, "", entry.last_modified) if self._clearing else entry
                )

    def save(
        self, name: str, prepare: Callable[[], PreparedFile], upload: Callable[[PreparedFile], None]
    ) -> None:
        """Queue the upload of ``name`` (``prepare`` runs now, ``upload`` in a worker)."""

        def prepared_unless_unchanged() -> PreparedFile | None:
            prepared = prepare()
            local = prepared.fingerprint
            with self._lock:
                before = self._deleted.pop(name, None)
                self.listing().put(name, Entry(local.stored_size, local.stored_md5, datetime.now(UTC)))
            if before is not None and _same_bytes(before, local):
                prepared.close()
                return None  # deleted only to be saved again with the very same bytes
            return prepared

        self.uploader.submit(name, prepared_unless_unchanged, upload)

    def note_staged(self, name: str, size: int) -> None:
        """``name`` is held locally (to be uploaded later, or never): listed as stored from now on,
        while a held delete of what the bucket stores under it stays held."""
        listing = self.listing()
        with self._lock:
            listing.put(name, Entry(size, "", datetime.now(UTC)))

    def keep_stored(self, name: str) -> None:
        """Cancel the held delete of ``name``: what the bucket stores under it stays."""
        with self._lock:
            entry = self._deleted.pop(name, None)
            if entry is not None and entry.size >= 0:
                self.listing().put(name, entry)

    def flush(self) -> None:
        """Wait for every queued upload; raise the first failure."""
        self.uploader.flush()

    # -- the end of the run ----------------------------------------------------------------------

    def finish(self) -> None:
        """Every upload done, then the held deletes carried out (in bulk)."""
        self.uploader.flush()
        with self._lock:
            names = sorted(self._deleted)
            self._deleted.clear()
        if names:
            self.store.delete_many(names)

    def close(self) -> None:
        self.uploader.close()


def _same_bytes(entry: Entry, local: Fingerprint) -> bool:
    """The listed size and single-part ETag match the local content, stored gzipped or not."""
    stored = (entry.size, entry.etag_md5)
    return stored in ((local.size, local.md5), (local.stored_size, local.stored_md5))


def _gzipped_copy_of(entry: Entry, source: str, local: Fingerprint) -> bool:
    """Whether the listed object is the gzipped copy of ``source``, stored while MINIO_GZIP was on:
    turning it off alone must not upload unchanged files again."""
    if local.gzipped or entry.etag_md5 is None or entry.size == local.size:
        return False
    packed = fingerprint_path(source, True)
    return packed.gzipped and (entry.size, entry.etag_md5) == (packed.stored_size, packed.stored_md5)


def stored_md5_from_stat(metadata: Any) -> tuple[str | None, bool]:
    """(x-amz-meta-md5, gzipped?) from a stat's headers."""
    md5 = metadata.get(MD5_METADATA)
    encoding = (metadata.get("Content-Encoding") or "").lower()
    return (md5.lower() if md5 else None), encoding == "gzip"


class SessionHolder:
    """The open session of one storage instance, if any (shared by every thread using it)."""

    def __init__(self) -> None:
        self.session: CollectSession | None = None
        self._lock = threading.Lock()

    @contextmanager
    def collecting(self, session_factory: Callable[[], CollectSession]) -> Iterator[CollectSession]:
        """Open (or join) the session; the outermost exit finishes it.

        On an error, running uploads are waited for, and held deletes are NOT carried out.
        """
        with self._lock:
            session = self.session
            if session is None:
                session = self.session = session_factory()
            session.depth += 1
        try:
            yield session
            if session.depth == 1:
                session.finish()
        finally:
            with self._lock:
                session.depth -= 1
                outermost = session.depth == 0
                if outermost:
                    self.session = None
            if outermost:
                session.close()
