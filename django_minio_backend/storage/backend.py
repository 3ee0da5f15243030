"""MinioBackend: Django's Storage API on one bucket of an S3-compatible server.

A save goes one way down: ``save()`` cleans the arguments, creates the bucket if
MINIO_BUCKET_CHECK_ON_SAVE asks, then decides once whether new names are written conditionally.
Conditionally, each candidate name is written with ``If-None-Match: *`` and a refused name gives
the next one (``naming.py``), without asking first; otherwise the name is chosen (replace, or
HEAD then PUT) and written once. What is uploaded (gzipped or not, its headers) is decided once
per save (``uploading.py``). Reads get the ObjectStore, never a callback into the storage.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.images import get_image_dimensions
from django.core.files.storage import Storage
from django.core.files.utils import validate_file_name
from django.utils import timezone

from ..conf.sources import resolve_options
from ..core import buckets
from ..core.plan import (
    UploadKwargs,
    check_upload_kwargs,
    replayable,
)
from ..core.store import NameTaken, ObjectStore
from ..core.types import Object, SseCustomerKey
from ..errors import ReadOnlyStorageError, StorageServerError
from ..files.reader import MinioFile, ObjectReader
from ..files.writer import ObjectWriter, is_write_mode, open_writer
from ..names import clean_name, directory_prefix
from . import naming, statcache, urlcache
from .asynchronous import AsyncStorageMixin
from .compat import FourXMembers
from .direct_uploads import DirectUploads
from .server_side import ServerSideOperations
from .uploading import UploadDecisions

logger = logging.getLogger("django_minio_backend")


class MinioBackend(
    AsyncStorageMixin, UploadDecisions, DirectUploads, ServerSideOperations, FourXMembers, Storage
):
    """Stores files in one bucket of an S3-compatible server.

    ``storage_name`` is the STORAGES alias to read OPTIONS from ("default" when omitted).
    MINIO_* keyword arguments win over that alias's OPTIONS. When Django builds the storage from
    ``STORAGES[alias]`` it passes exactly that alias's OPTIONS, and only those are used.
    """

    minio_role = "media"  # how conf.aliases recognises this backend in STORAGES
    default_alias = "default"
    compress_by_default = False  # MINIO_GZIP = None: media is stored as given
    records_md5 = False  # the static storages prepare every upload and store its MD5

    def __init__(self, bucket_name: str = "", storage_name: str | None = None, **kwargs: Any) -> None:
        option_kwargs = {key: value for key, value in kwargs.items() if key.startswith("MINIO_")}
        upload_kwargs = {key: value for key, value in kwargs.items() if key not in option_kwargs}
        check_upload_kwargs(upload_kwargs)
        self.storage_name, self.options = resolve_options(self.default_alias, storage_name, option_kwargs)
        self._bucket_name_arg = bucket_name
        self._upload_kwargs = UploadKwargs(upload_kwargs)
        self.replace_existing: bool = bool(upload_kwargs.get("replace_existing", False))
        self._warn_if_undeclared()
        given_sse = upload_kwargs.get("sse")
        self.store = ObjectStore(
            self.options,
            self.bucket,
            http_client=upload_kwargs.get("http_client"),
            alias=self.storage_name,
            customer_key=given_sse if isinstance(given_sse, SseCustomerKey) else None,
        )

    @property
    def bucket(self) -> str:
        return self._bucket_name_arg or self.options.default_bucket

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} alias={self.storage_name!r} bucket={self.bucket!r} "
            f"endpoint={self.options.endpoint!r}>"
        )

    def deconstruct(self) -> tuple[str, tuple, dict[str, Any]]:
        """Serialise for migrations: the alias and bucket, never options or credentials."""
        kwargs: dict[str, Any] = {"storage_name": self.storage_name}
        if self._bucket_name_arg:
            kwargs["bucket_name"] = self._bucket_name_arg
        if self.replace_existing:
            kwargs["replace_existing"] = True
        return f"django_minio_backend.models.{type(self).__name__}", (), kwargs

    def _warn_if_undeclared(self) -> None:
        declared = {*self.options.private_buckets, *self.options.public_buckets, self.options.default_bucket}
        if self.bucket not in declared and not self.is_bucket_public:
            logger.warning(
                "Bucket %r of storage %r is in neither MINIO_PRIVATE_BUCKETS nor MINIO_PUBLIC_BUCKETS; "
                "treating it as private.",
                self.bucket,
                self.storage_name,
            )

    def _refuse_if_read_only(self, action: str, name: str) -> None:
        if self.options.read_only:
            raise ReadOnlyStorageError(
                f"Cannot {action} {name!r}: storage {self.storage_name!r} has MINIO_READ_ONLY = True."
            )

    # -- reading and writing files -----------------------------------------------------------

    def open(
        self, name: str, mode: str = "rb", *, encoding: str | None = None, errors: str | None = None
    ) -> MinioFile | ObjectWriter:
        """Read an object ("rb", "r"), or write one ("wb", "w"): see files/writer.py.

        A write replaces the object ``name`` when the file is closed; ``encoding`` (default UTF-8)
        and ``errors`` apply to text mode "w".
        """
        if not is_write_mode(mode):
            return self._open(name, mode)
        self._refuse_if_read_only("open for writing", name)
        plan = self._plan(name, ContentFile(b""))
        on_close = partial(self._forget, name)
        return open_writer(self.store, plan, mode=mode, encoding=encoding, errors=errors, on_close=on_close)

    def _open(self, name: str, mode: str = "rb") -> MinioFile:
        if any(flag in mode for flag in "wax+") or not mode.startswith("r"):
            raise ValueError(
                f'MinioBackend opens files for reading ("rb", "r") or writing ("wb", "w"), '
                f"not mode {mode!r} (file {name!r})."
            )
        self.store.key(name)  # a bad name fails here, before any request
        return MinioFile(ObjectReader(self.store, name), name, mode)

    def save(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        """Store ``content`` under ``name`` or the next free name; never over another file unless
        replace_existing (see the module docstring)."""
        self._refuse_if_read_only("save", name or getattr(content, "name", ""))
        if name is None:
            name = content.name
        if not hasattr(content, "chunks"):
            content = File(content, name)
        validate_file_name(name, allow_relative_path=True)
        name = clean_name(name)
        self._check_upload(name, content)
        if self.options.bucket_check_on_save:  # before anything else asks the server
            buckets.ensure_once(self.store, public=self.is_bucket_public)
        if self._writes_new_names(name):
            saved = self._save_new(name, content, max_length)
        else:  # HEAD then PUT; saves of one name in this process take turns unless they replace
            turn = (
                nullcontext()
                if self.replace_existing
                else naming.head_then_put_lock(self.bucket, self.store.key(name))
            )
            with turn:
                saved = self._replace(self._available_name(name, max_length, conditional=False), content)
        validate_file_name(saved, allow_relative_path=True)
        return saved

    def _save(self, name: str, content: Any) -> str:
        """Django's hook (ManifestFilesMixin calls it): store under ``name``, never over another file."""
        if self._writes_new_names(name):
            return self._save_new(clean_name(name), content, None)
        return self._replace(name, content)

    def _save_new(self, name: str, content: Any, max_length: int | None) -> str:
        """Write each candidate name conditionally until one is free (NameTaken: the next one)."""
        content, replay = replayable(content, self.options.upload_threshold + 1)
        name = naming.first_name(self.get_alternative_name, name, max_length)
        taken: set[str] = set()
        with self._uploading(name, content) as upload:
            for _ in range(naming.MAX_ATTEMPTS):
                try:
                    self._put(name, upload, new=True)
                    return name
                except NameTaken:
                    if replay is not None and not replay.replayable:
                        raise StorageServerError(
                            f"{name!r} in bucket {self.bucket!r} was taken by another save while this "
                            "upload was completing, and the stream cannot be read again to store it "
                            "under another name. Nothing was stored; save it again."
                        ) from None
                    taken.add(name)
                    name = naming.next_name(self.get_alternative_name, taken, name, max_length)
        raise StorageServerError(
            f"Could not find a free name for {name!r} in bucket {self.bucket!r} after "
            f"{naming.MAX_ATTEMPTS} attempts: every candidate already exists."
        )

    def _replace(self, name: str, content: Any) -> str:
        """One PUT of ``content`` under ``name``, whatever is stored there."""
        with self._uploading(name, content) as upload:
            self._put(name, upload, new=False)
        return name

    def _put(self, name: str, upload: Any, *, new: bool) -> None:
        self.store.put(name, self._plan(name, upload), new=new)
        urlcache.forget(self.store, name)
        statcache.forget(self.store, name)

    def _writes_new_names(self, name: str = "") -> bool:
        """Whether new names are written conditionally (asked once per save; ``name`` for errors)."""
        return not self.replace_existing and self.store.conditional_puts(name)

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return self._available_name(clean_name(name), max_length, conditional=self._writes_new_names(name))

    def _available_name(self, name: str, max_length: int | None, *, conditional: bool) -> str:
        if conditional:  # the name is claimed race-free by the conditional write
            return naming.first_name(self.get_alternative_name, name, max_length)
        if not self.replace_existing:
            return super().get_available_name(name, max_length=max_length)
        if max_length is not None and len(name) > max_length:
            raise SuspiciousFileOperation(
                f"Storage cannot store {name!r}: it is longer than the field's max_length "
                f"({max_length}). Raise max_length or shorten upload_to."
            )
        return name

    def delete(self, name: str) -> None:
        self._refuse_if_read_only("delete", name)
        self.store.delete(name)
        urlcache.forget(self.store, name)
        statcache.forget(self.store, name)

    def delete_many(self, names: Iterable[str]) -> None:
        """Delete objects in bulk (1,000 keys per request); raise naming any that failed."""
        names = list(names)
        if not names:
            return
        self._refuse_if_read_only("delete", names[0])
        self.store.delete_many(names)
        for name in names:
            urlcache.forget(self.store, name)
            statcache.forget(self.store, name)

    # -- what is stored ------------------------------------------------------------------------

    def _forget(self, name: str) -> None:
        urlcache.forget(self.store, name)
        statcache.forget(self.store, name)

    def exists(self, name: str) -> bool:
        return self._known(name)["exists"]

    def _known(self, name: str) -> dict[str, Any]:
        """exists/size/modified/etag of ``name``: from the stat cache when on, else one HEAD."""
        return statcache.entry(self.store, name, partial(self.stat, name))

    def image_dimensions(self, name: str) -> tuple[int | None, int | None]:
        """(width, height) of the image ``name``, as Django's ImageField reads them; kept in the
        stat cache when it is on (``fields.ImageField`` asks here)."""
        return statcache.dimensions(self.store, name, partial(self._measure, name))

    def _measure(self, name: str) -> tuple[int | None, int | None]:
        with self._open(name) as image:
            return get_image_dimensions(image)

    def stat(self, name: str) -> Object:
        """The object's metadata (one HEAD request). Raises FileNotFoundError when missing."""
        return self.store.stat(name)

    def size(self, name: str) -> int:
        return statcache.require(self._known(name), self.store, name)["size"]

    def get_modified_time(self, name: str) -> datetime:
        return self._django_time(statcache.require(self._known(name), self.store, name)["modified"])

    @staticmethod
    def _django_time(moment: datetime) -> datetime:
        """An aware S3 time as Django expects it: aware under USE_TZ, naive local time otherwise."""
        if settings.USE_TZ:
            return moment
        return timezone.make_naive(moment, timezone.get_default_timezone())

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        prefix = directory_prefix(self.options.location, path)
        directories, files = [], []
        for item in self.store.files(prefix):
            relative = item.object_name[len(prefix) :]
            if not relative:
                continue
            if item.is_dir:
                directories.append(relative.rstrip("/"))
            else:
                files.append(relative)
        return directories, files

    def url(
        self,
        name: str,
        *,
        expires: timedelta | None = None,
        response_headers: Mapping[str, str] | None = None,
        version_id: str | None = None,
    ) -> str:
        """A URL for ``name``, built without any network request.

        Public buckets: a plain URL (external endpoint or MINIO_PUBLIC_BASE_URL). Private ones: a
        URL presigned for the external endpoint, valid ``expires`` (default MINIO_URL_EXPIRY_HOURS),
        with optional ``response_headers`` overrides. ``version_id`` gives a presigned URL of that
        version, in public buckets too (their policy lets anyone read the current version only).
        """
        store = self.store
        key = store.key(name)
        plain = not response_headers and not version_id
        if self.is_bucket_public and plain:
            return store.public_url(key)
        expiry = self.options.url_expiry if expires is None else expires

        def sign() -> str:
            return store.presigned_get(
                key, expires=expiry, response_headers=response_headers, version_id=version_id or None
            )

        if self.options.url_caching_enabled and expires is None and plain:
            return urlcache.cached_url(store, key, sign)
        return sign()

    def path(self, name: str) -> str:
        raise NotImplementedError("Objects in S3 have no local filesystem path; use open() or url().")

    def get_accessed_time(self, name: str) -> datetime:
        raise NotImplementedError("S3 does not record when an object was last read.")

    def get_created_time(self, name: str) -> datetime:
        raise NotImplementedError("S3 does not record creation time separately; use get_modified_time().")
