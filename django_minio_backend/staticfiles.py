"""Cheap ``collectstatic`` for the static storage: one bucket listing instead of a HEAD per file.

Django's ``collectstatic`` asks the destination storage, for every file, ``exists(name)`` and then
``get_modified_time(name)``; when the file changed it calls ``delete(name)`` and ``save(name)``.
On S3 that is two HEAD requests per file, plus a DELETE before every upload.

``StaticSyncMixin`` answers those questions from a *listing snapshot* of the bucket:

- The snapshot is taken by the first ``exists()``, ``get_modified_time()``, ``size()`` or
  ``listdir()`` call (one LIST request per 1,000 objects). Our own ``save()`` and ``delete()``
  keep it up to date.
- It ends when ``collectstatic`` finishes (``post_process()``), and is never older than
  ``listing_max_age`` seconds: a change made by another process is seen at the next run, and
  outside ``collectstatic`` an answer is at most ``listing_max_age`` seconds old.
- Change detection compares content, not clocks: for a name that the staticfiles finders also
  find locally, ``get_modified_time()`` checks the local file's size and MD5 against the listed
  size and ETag (the MD5 of a single-part upload). Same content: the stored copy counts as current
  (it reports the later of the two times). Different content: it reports the Unix epoch, so
  ``collectstatic`` uploads the file again, whatever the clocks say. Without a local copy, or for a
  multipart ETag, it reports the stored modification time, as the plain storage does.
- When Django's staticfiles code deletes a file only to save it again right after (``collectstatic``
  replacing a changed file, the manifest storage rewriting a hashed file or its manifest), the
  delete is held back and the upload replaces the object in one PUT, or is skipped when the stored
  object already has the same size and MD5 (a hashed file Django rewrites with unchanged content).
  A held delete is carried out before any other call on the storage from that thread, and at the
  end of ``collectstatic``. Other callers' deletes happen at once. If the replacing upload fails,
  the previous object stays in place and the error propagates.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from .errors import BucketMissingError
from .names import clean_name, directory_prefix, name_from_key

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HASH_CHUNK = 1024 * 1024

# Django functions that delete a static file and save the same name straight after.
_REPLACING_CALLERS = frozenset(
    {
        ("django.contrib.staticfiles.management.commands.collectstatic", "delete_file"),
        ("django.contrib.staticfiles.storage", "_post_process"),
        ("django.contrib.staticfiles.storage", "save_manifest"),
    }
)


@dataclass(frozen=True)
class Entry:
    """What a listing says about one object."""

    size: int | None
    md5: str | None  # of the content: a single-part upload's ETag, or what we uploaded
    last_modified: datetime


class Listing:
    """Objects by name, and how many objects each directory holds, as of ``taken``."""

    def __init__(self, entries: dict[str, Entry]) -> None:
        self.taken = time.monotonic()
        self.entries: dict[str, Entry] = {}
        self.directories: Counter[str] = Counter()
        for name, entry in entries.items():
            self.put(name, entry)

    def put(self, name: str, entry: Entry) -> None:
        if name not in self.entries:
            self.directories.update(_parents(name))
        self.entries[name] = entry

    def pop(self, name: str) -> None:
        if self.entries.pop(name, None) is not None:
            self.directories.subtract(_parents(name))
            self.directories += Counter()  # drop directories that became empty


def _parents(name: str) -> list[str]:
    parts = name.split("/")[:-1]
    return ["/".join(parts[: depth + 1]) for depth in range(len(parts))]


class StaticSyncMixin:
    """Answers exists/get_modified_time/size/listdir from one listing per ``collectstatic`` run.

    Mixed into a ``MinioBackend``; see the module docstring for the rules.
    """

    listing_max_age: float = 60.0  # seconds

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listing: Listing | None = None
        self._listing_lock = threading.Lock()
        self._held = threading.local()  # .name: a delete held back until the next call

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        for attr in ("_listing", "_listing_lock", "_held"):
            state.pop(attr, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._listing = None
        self._listing_lock = threading.Lock()
        self._held = threading.local()

    # -- the snapshot ----------------------------------------------------------------------------

    def _snapshot(self) -> Listing:
        with self._listing_lock:
            listing = self._listing
            if listing is None or time.monotonic() - listing.taken > self.listing_max_age:
                listing = self._listing = Listing(self._list_bucket())
            return listing

    def _entries(self) -> dict[str, Entry]:
        return self._snapshot().entries

    def _list_bucket(self) -> dict[str, Entry]:
        location = self.options.location
        prefix = directory_prefix(location, "")
        entries: dict[str, Entry] = {}
        try:
            for item in self.store.list(prefix, recursive=True):
                entries[name_from_key(location, item.object_name)] = Entry(
                    size=item.size,
                    md5=_md5_from_etag(item.etag),
                    last_modified=item.last_modified,
                )
        except BucketMissingError:  # the bucket does not exist yet: nothing is stored
            return {}
        return entries

    def _remember(self, name: str, entry: Entry | None) -> None:
        with self._listing_lock:
            if self._listing is None:
                return
            if entry is None:
                self._listing.pop(name)
            else:
                self._listing.put(name, entry)

    def finish_collect(self) -> None:
        """Carry out a held delete and forget the snapshot (the end of a collectstatic run)."""
        self._release_held()
        with self._listing_lock:
            self._listing = None

    def post_process(self, paths: dict, dry_run: bool = False, **options: Any) -> Iterator[tuple]:
        """Called by collectstatic once every file was copied: the run is over."""
        self.finish_collect()
        yield from ()

    # -- held deletes ----------------------------------------------------------------------------

    def _held_name(self) -> str | None:
        return getattr(self._held, "name", None)

    def _release_held(self, unless: str | None = None) -> None:
        """Delete the held name now, unless it is ``unless`` (about to be replaced or checked)."""
        held = self._held_name()
        if held is None or held == unless:
            return
        self._held.name = None
        super().delete(held)
        self._remember(held, None)

    # -- the Storage API -------------------------------------------------------------------------

    def exists(self, name: str) -> bool:
        name = clean_name(name).rstrip("/")
        if name and name == self._held_name():
            return False  # deleted, as far as the caller knows
        self._release_held()
        listing = self._snapshot()
        if not name:
            return bool(listing.entries)
        return name in listing.entries or name in listing.directories

    def size(self, name: str) -> int:
        entry = self._entry(name)
        if entry.size is None:
            return super().size(name)
        return entry.size

    def get_modified_time(self, name: str) -> datetime:
        cleaned = clean_name(name)
        entry = self._entry(cleaned)
        return self._django_time(_compare_with_local(cleaned, entry))

    def _entry(self, name: str) -> Entry:
        name = clean_name(name)
        if name == self._held_name():
            raise FileNotFoundError(f"{self.bucket}/{name} was deleted.")
        self._release_held()
        entry = self._entries().get(name)
        if entry is None:
            raise FileNotFoundError(f"{self.bucket}/{name} does not exist.")
        return entry

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        self._release_held()
        prefix = clean_name(path).rstrip("/")
        prefix = f"{prefix}/" if prefix else ""
        directories: set[str] = set()
        files: list[str] = []
        listing = self._snapshot()
        with self._listing_lock:
            keys = list(listing.entries)
        for key in keys:
            if not key.startswith(prefix):
                continue
            head, slash, _ = key[len(prefix) :].partition("/")
            if slash:
                directories.add(head)
            else:
                files.append(head)
        return sorted(directories), sorted(files)

    def delete(self, name: str) -> None:
        self._refuse_if_read_only("delete", name)
        name = clean_name(name)
        self._release_held(unless=name)
        if _caller_replaces_it() and name in self._entries():
            self._held.name = name
            return
        self._held.name = None
        super().delete(name)
        self._remember(name, None)

    def _save(self, name: str, content: Any) -> str:
        name = clean_name(name)
        self._release_held(unless=name)
        replacing = self._held_name() == name
        self._held.name = None  # the upload replaces the object: no DELETE needed
        size, md5 = _content_md5(content)
        if replacing and md5 is not None:
            stored = self._entries().get(name)
            if stored is not None and (stored.size, stored.md5) == (size, md5):
                return name  # deleted only to be saved again with the very same bytes
        self._held.replacing = replacing
        try:
            saved = super()._save(name, content)
        finally:
            self._held.replacing = False
        self._remember(saved, Entry(size=size, md5=md5, last_modified=timezone.now()))
        return saved

    @property
    def _creates_new_names(self) -> bool:
        # Replacing what Django deleted: write over that very name, not a new unique one.
        if getattr(self._held, "replacing", False):
            return False
        return super()._creates_new_names


def _caller_replaces_it() -> bool:
    """True when delete() was called by Django code that saves the same name right after."""
    frame = sys._getframe(2)  # 0: this function, 1: delete(), 2: its caller
    return (frame.f_globals.get("__name__"), frame.f_code.co_name) in _REPLACING_CALLERS


def _compare_with_local(name: str, entry: Entry) -> datetime:
    """The stored time, adjusted by content when a local source of ``name`` can be compared."""
    source = _local_source(name)
    if source is None or entry.md5 is None or entry.size is None:
        return entry.last_modified
    if os.path.getsize(source) == entry.size and _md5_of(source) == entry.md5:
        local_time = datetime.fromtimestamp(os.path.getmtime(source), tz=UTC)
        return max(entry.last_modified, local_time)
    return EPOCH


def _local_source(name: str) -> str | None:
    from django.contrib.staticfiles import finders

    found = finders.find(name)
    return found if isinstance(found, str) and os.path.isfile(found) else None


def _md5_from_etag(etag: str | None) -> str | None:
    """The content MD5 an ETag carries; None for multipart ETags ("<md5>-<parts>")."""
    etag = (etag or "").strip('"').lower()
    if len(etag) == 32 and all(char in "0123456789abcdef" for char in etag):
        return etag
    return None


def _md5_of(path: str) -> str:
    with open(path, "rb") as handle:
        return _digest(handle)[1]


def _content_md5(content: Any) -> tuple[int | None, str | None]:
    """(size, md5) of a seekable upload's whole content, as Django uploads it; (None, None) otherwise."""
    try:
        content.seek(0)
    except (AttributeError, OSError, ValueError):
        return None, None
    size, md5 = _digest(content)
    content.seek(0)
    return size, md5


def _digest(handle: Any) -> tuple[int, str]:
    digest, size = hashlib.md5(usedforsecurity=False), 0
    while chunk := handle.read(HASH_CHUNK):
        if isinstance(chunk, str):
            chunk = chunk.encode()
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()
