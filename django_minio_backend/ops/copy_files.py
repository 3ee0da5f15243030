"""Moving existing files into a MinIO storage under the same names (copy_files_to_minio).

The source is walked one directory at a time; each directory's counterpart in the bucket is
listed once (1,000 keys a page), and each file is decided from that listing:

- missing: copied. Small files are read once into memory; larger ones are read twice from disk
  (once for the MD5, once while uploading, in parts above MINIO_UPLOAD_THRESHOLD), so memory
  stays bounded whatever the sizes. Every copy stores ``x-amz-meta-md5``, and without
  ``replace`` it is written conditionally (If-None-Match), so another writer is never overwritten.
- present with the same content: skipped, without a GET. Same size, and the listed ETag equals
  the source's (its MD5 when single-part, or the multipart ETag of our part size); otherwise at
  most one HEAD, for the stored ``x-amz-meta-md5``.
- present with other content: a conflict, left alone, unless ``replace`` (then one replacing PUT).
- a claim (a save killed midway, see core/conditional.py): taken over.

Each copy is verified: the ETag the server answers is the one the source's bytes give (servers
whose ETag is no MD5, under SSE-C or SSE-KMS, are trusted with the stored MD5). ``verify``
reads every object back and compares MD5s. A killed run leaves whole objects and, at most,
incomplete multipart uploads (never listed; clean_orphaned_minio_files aborts them); a rerun
copies only what is missing.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import io
import os
import posixpath
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any

from ..conf.validators import MIN_PART_SIZE
from ..core.conditional import listed_is_claim
from ..core.connection import POOL_SIZE, build_http_client
from ..core.plan import content_type
from ..core.store import NameTaken
from ..core.types import Object
from ..names import clean_name, directory_prefix
from ..storage.compression import MD5_METADATA, Fingerprint, PreparedFile

IN_MEMORY = 1024 * 1024  # files up to this size are read once, into memory
CHUNK = 1024 * 1024
MAX_NAMED_ERRORS = 20


@dataclass(frozen=True)
class SourceFile:
    """One file to copy: its name in the source, its size, and how to read it."""

    name: str
    size: int
    path: str | None = None  # a local file
    opener: Callable[[], IO[bytes]] | None = None  # else: opens it in the source storage

    def open(self) -> IO[bytes]:
        if self.path is not None:
            return open(self.path, "rb")
        assert self.opener is not None
        return self.opener()


@dataclass
class CopyReport:
    copied: int = 0
    skipped: int = 0
    conflicts: int = 0
    failed: int = 0
    verified: int = 0
    bytes: int = 0  # bytes copied (or, in a dry run, that would be)
    errors: list[str] = field(default_factory=list)  # the first failures, one line each
    conflict_names: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, outcome: str, size: int, message: str = "") -> None:
        with self._lock:
            setattr(self, outcome, getattr(self, outcome) + 1)
            if outcome == "copied":
                self.bytes += size
            if outcome == "failed" and len(self.errors) < MAX_NAMED_ERRORS:
                self.errors.append(message)
            if outcome == "conflicts" and len(self.conflict_names) < MAX_NAMED_ERRORS:
                self.conflict_names.append(message)


@dataclass(frozen=True)
class Digest:
    md5: str
    etag: str  # the ETag our upload of these bytes gets: the MD5, or the multipart ETag
    data: bytes | None  # the bytes, when small enough to keep


@dataclass
class CopyJob:
    """What to copy where, and how (the command's options)."""

    target: Any  # a MinioBackend
    prefix: str = ""
    workers: int = 8
    replace: bool = False
    verify: bool = False
    dry_run: bool = False
    on_file: Callable[[str, str, int], None] | None = None  # (outcome, name, bytes) of each file

    def target_name(self, name: str) -> str:
        return clean_name(posixpath.join(self.prefix, name) if self.prefix else name)


# -- sources ------------------------------------------------------------------------------------


def walk_directory(root: str) -> Iterator[list[SourceFile]]:
    """The regular files under ``root``, one directory at a time (sorted; symlinked dirs skipped)."""
    root = os.path.abspath(root)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"--from-path {root!r} is not a directory.")
    pending = [""]
    while pending:
        relative = pending.pop()
        files, subdirs = [], []
        with os.scandir(os.path.join(root, relative)) as entries:
            for entry in entries:
                name = f"{relative}/{entry.name}" if relative else entry.name
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append(name)
                elif entry.is_file():
                    files.append(SourceFile(name, entry.stat().st_size, path=entry.path))
        pending.extend(sorted(subdirs, reverse=True))
        if files:
            yield sorted(files, key=lambda f: f.name)


def _storage_file(storage: Any, name: str) -> SourceFile:
    path = None
    with contextlib.suppress(NotImplementedError, AttributeError):
        path = storage.path(name)
    return SourceFile(name, storage.size(name), path=path, opener=lambda: storage.open(name, "rb"))


def walk_storage(storage: Any, top: str = "") -> Iterator[list[SourceFile]]:
    """The files of any Django storage, one directory at a time (through listdir)."""
    pending = [top]
    while pending:
        directory = pending.pop()
        subdirs, names = storage.listdir(directory)
        pending.extend(sorted((posixpath.join(directory, d) for d in subdirs), reverse=True))
        files = [_storage_file(storage, posixpath.join(directory, n)) for n in sorted(names)]
        if files:
            yield files


def named_files(
    names: Iterable[str], *, root: str | None = None, storage: Any = None, report: CopyReport
) -> Iterator[list[SourceFile]]:
    """Only ``names`` (e.g. what FileField rows reference), grouped by directory; a name missing
    from the source is counted as failed."""
    by_dir: dict[str, list[str]] = {}
    for name in sorted(set(names)):
        by_dir.setdefault(posixpath.dirname(name), []).append(name)
    for group in by_dir.values():
        files = []
        for name in group:
            try:
                if root is not None:
                    path = os.path.join(root, *name.split("/"))
                    files.append(SourceFile(name, os.stat(path).st_size, path=path))
                else:
                    files.append(_storage_file(storage, name))
            except (FileNotFoundError, NotADirectoryError):
                report.count("failed", 0, f"{name}: not in the source")
        if files:
            yield files


# -- deciding and copying one file --------------------------------------------------------------


def digest(source: SourceFile, part_size: int, single_limit: int, spool: IO[bytes] | None = None) -> Digest:
    """Read the file once: its MD5, the ETag an upload of it gets, and (if small) its bytes."""
    whole = hashlib.md5(usedforsecurity=False)
    part, part_md5s, in_part = hashlib.md5(usedforsecurity=False), [], 0
    kept = bytearray() if source.size <= IN_MEMORY else None
    with source.open() as handle:
        while chunk := handle.read(CHUNK):
            whole.update(chunk)
            if kept is not None:
                kept += chunk
            if spool is not None:
                spool.write(chunk)
            view = memoryview(chunk)
            while view:
                take = view[: part_size - in_part]
                part.update(take)
                in_part += len(take)
                view = view[len(take) :]
                if in_part == part_size:
                    part_md5s.append(part.digest())
                    part, in_part = hashlib.md5(usedforsecurity=False), 0
    if in_part or not part_md5s:
        part_md5s.append(part.digest())
    md5 = whole.hexdigest()
    size = source.size
    if size <= single_limit:
        etag = md5
    else:
        etag = f"{hashlib.md5(b''.join(part_md5s), usedforsecurity=False).hexdigest()}-{len(part_md5s)}"
    return Digest(md5, etag, bytes(kept) if kept is not None else None)


def _listed_etag(item: Object) -> str:
    return (item.etag or "").strip('"').lower()


class FileCopier:
    """Decides and copies one file at a time (called from the worker threads)."""

    def __init__(self, job: CopyJob, report: CopyReport) -> None:
        self.job = job
        self.report = report
        options = job.target.options
        self.part_size = max(options.upload_part_size, MIN_PART_SIZE)
        self.single_limit = options.upload_threshold
        self.etag_is_md5 = options.server_side_encryption not in ("SSE-KMS", "SSE-C")

    def run(self, source: SourceFile, listed: Object | None) -> None:
        name = self.job.target_name(source.name)
        try:
            outcome = self._copy(source, name, listed)
        except Exception as error:  # one file's failure is reported; the others go on
            outcome = "failed"
            self.report.count("failed", source.size, f"{name}: {type(error).__name__}: {error}")
        else:
            if outcome != "failed":
                self.report.count(outcome, source.size, name)
        if self.job.on_file is not None:
            self.job.on_file(outcome, name, source.size)

    def _copy(self, source: SourceFile, name: str, listed: Object | None) -> str:
        store = self.job.target.store
        with tempfile.SpooledTemporaryFile(max_size=IN_MEMORY) as spool:
            local = source.path is not None
            known: Digest | None = None
            replace = self.job.replace
            if listed is not None and listed_is_claim(listed) and store.is_claim(store.key(name)):
                replace = True  # a save killed midway left only its claim
            elif listed is not None:
                if listed.size == source.size:
                    known = digest(source, self.part_size, self.single_limit, None if local else spool)
                    if self._same(name, listed, known):
                        return self._verified(name, known, "skipped")
                if not replace:
                    return "conflicts"
            if self.job.dry_run:
                return "copied"
            if known is None:
                known = digest(source, self.part_size, self.single_limit, None if local else spool)
            if not local:
                spool.seek(0)
            with self._content(source, known, spool, name) as content:
                try:
                    etag = self.job.target.save_exactly(name, content, replace=replace)
                except NameTaken:
                    return "conflicts"  # another writer stored it between our listing and our write
        if self.etag_is_md5 and etag and etag.lower() != known.etag:
            raise ValueError(f"the stored ETag {etag} is not the source's {known.etag}: verify the object")
        return self._verified(name, known, "copied")

    def _same(self, name: str, listed: Object, known: Digest) -> bool:
        if self.etag_is_md5 and _listed_etag(listed) == known.etag:
            return True
        try:
            stat = self.job.target.store.stat(name)
        except FileNotFoundError:
            return False
        stored = {key.lower(): value for key, value in stat.metadata.items()}.get(MD5_METADATA)
        return stored == known.md5 and stat.size == listed.size

    @contextlib.contextmanager
    def _content(self, source: SourceFile, known: Digest, spool: IO[bytes], name: str) -> Iterator[Any]:
        fingerprint = Fingerprint(source.size, known.md5, source.size, known.md5, False)
        if known.data is not None:
            handle: IO[bytes] = io.BytesIO(known.data)
        elif source.path is not None:
            handle = open(source.path, "rb")  # noqa: SIM115 (closed below)
        else:
            handle = spool
        prepared = PreparedFile(handle, name, fingerprint, content_type(name, None))
        prepared.upload_headers = {**self.job.target.extra_upload_headers(name), MD5_METADATA: known.md5}
        try:
            yield prepared
        finally:
            if handle is not spool:
                handle.close()

    def _verified(self, name: str, known: Digest, outcome: str) -> str:
        if not self.job.verify or self.job.dry_run:
            return outcome
        read = hashlib.md5(usedforsecurity=False)
        with self.job.target.open(name, "rb") as stored:
            while chunk := stored.read(CHUNK):
                read.update(chunk)
        if read.hexdigest() != known.md5:
            raise ValueError(f"read back, its MD5 is {read.hexdigest()}, the source's {known.md5}")
        with self.report._lock:
            self.report.verified += 1
        return outcome


# -- the whole run ------------------------------------------------------------------------------


def listed_directory(job: CopyJob, directory: str) -> dict[str, Object]:
    """The objects directly in the target's counterpart of the source directory, by name."""
    store = job.target.store
    prefix = directory_prefix(store.options.location, job.target_name(directory) if directory else job.prefix)
    found = {}
    for item in store.list(prefix, recursive=False):
        if not item.is_dir:
            found[item.object_name[len(prefix) :]] = item
    return found


def copy_files(
    job: CopyJob, batches: Iterable[list[SourceFile]], report: CopyReport | None = None
) -> CopyReport:
    """Copy every file of ``batches`` (one list per directory) into ``job.target``; see the module doc.

    The bucket's directories are listed ``job.workers`` at a time, a few directories ahead of the
    copies, so a tree of many small directories is not one listing after another.
    """
    report = report or CopyReport()
    copier = FileCopier(job, report)
    slots = threading.BoundedSemaphore(job.workers * 2)  # files read or queued at once
    with (
        ThreadPoolExecutor(max_workers=job.workers, thread_name_prefix="copy-files") as pool,
        ThreadPoolExecutor(max_workers=job.workers, thread_name_prefix="copy-list") as listers,
    ):
        ahead: collections.deque[tuple[list[SourceFile], Future]] = collections.deque()
        source = iter(batches)
        while True:
            while len(ahead) < job.workers * 2 and (batch := next(source, None)) is not None:
                ahead.append((batch, listers.submit(listed_directory, job, posixpath.dirname(batch[0].name))))
            if not ahead:
                break
            batch, listing = ahead.popleft()
            try:
                listed = listing.result()
            except Exception as error:
                for item in batch:
                    report.count("failed", item.size, f"{item.name}: listing the bucket failed: {error}")
                continue
            for item in batch:
                slots.acquire()
                future = pool.submit(
                    copier.run, item, listed.get(posixpath.basename(job.target_name(item.name)))
                )
                future.add_done_callback(lambda _f: slots.release())
    return report


def sized_target(target: Any, workers: int) -> Any:
    """``target``, or the same storage with a pool of ``workers`` connections when it needs more."""
    if workers <= POOL_SIZE or target.options.http_client is not None:
        return target
    pool = build_http_client(target.options, maxsize=workers)
    return type(target)(bucket_name=target.bucket, storage_name=target.storage_name, http_client=pool)
