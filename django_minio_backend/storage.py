"""MinioBackend and MinioBackendStatic: Django's Storage API on an S3-compatible server."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.core.files.utils import validate_file_name
from django.utils import timezone
from minio import Minio
from minio.datatypes import Object
from minio.sse import SseCustomerKey

from . import buckets, compression, conditional, direct_uploads, health, urlcache
from .client import NameTaken, ObjectStore, endpoint_url, require_connection_settings
from .errors import BucketMissingError, ConfigurationError, ReadOnlyStorageError, StorageServerError
from .files import MinioFile, ObjectReader
from .names import clean_name, directory_prefix, name_from_key
from .options import resolve_options
from .staticfiles import CollectSession, Entry, SessionHolder, StaticStore, stored_md5_from_stat
from .uploads import UploadKwargs, content_type, plan_upload, replayable
from .writer import ObjectWriter, is_write_mode, open_writer

logger = logging.getLogger("django_minio_backend")

# Keyword arguments (besides MINIO_* options) that tune uploads, as in the 4.x line.
UPLOAD_KWARGS = frozenset(
    {
        "replace_existing",
        "http_client",
        "metadata",
        "user_metadata",
        "sse",
        "progress",
        "tags",
        "retention",
        "legal_hold",
        "num_parallel_uploads",
        "headers",
    }
)


def _check_upload_kwargs(kwargs: Mapping[str, Any]) -> None:
    for key in kwargs:
        if key not in UPLOAD_KWARGS:
            close = difflib.get_close_matches(key, sorted(UPLOAD_KWARGS), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigurationError(f"MinioBackend got an unknown keyword argument {key!r}.{hint}")


class MinioBackend(Storage):
    """Stores files in one bucket of an S3-compatible server.

    ``storage_name`` is the STORAGES alias to read OPTIONS from ("default" when omitted).
    MINIO_* keyword arguments win over that alias's OPTIONS. When Django builds the storage from
    ``STORAGES[alias]`` it passes exactly that alias's OPTIONS, and only those are used.
    """

    default_alias = "default"
    compress_by_default = False  # MINIO_GZIP = None: media is stored as given

    def __init__(self, bucket_name: str = "", storage_name: str | None = None, **kwargs: Any) -> None:
        option_kwargs = {key: value for key, value in kwargs.items() if key.startswith("MINIO_")}
        upload_kwargs = {key: value for key, value in kwargs.items() if key not in option_kwargs}
        _check_upload_kwargs(upload_kwargs)
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

    # -- identity and configuration ---------------------------------------------------------

    @property
    def bucket(self) -> str:
        return self._bucket_name_arg or self.options.default_bucket

    @property
    def PRIVATE_BUCKETS(self) -> list[str]:
        return list(self.options.private_buckets)

    @property
    def PUBLIC_BUCKETS(self) -> list[str]:
        return list(self.options.public_buckets)

    @property
    def is_bucket_public(self) -> bool:
        return self.bucket in self.options.public_buckets

    @property
    def same_endpoints(self) -> bool:
        return self.store.same_endpoints

    @property
    def base_url(self) -> str:
        return endpoint_url(self.options) + "/"

    @property
    def base_url_external(self) -> str:
        return endpoint_url(self.options, external=True) + "/"

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} alias={self.storage_name!r} bucket={self.bucket!r} "
            f"endpoint={self.options.endpoint!r}>"
        )

    def __getstate__(self) -> dict[str, Any]:
        return self.__dict__.copy()  # the store drops its pool, clients and lock (see client.py)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def deconstruct(self) -> tuple[str, tuple, dict[str, Any]]:
        """Serialise for migrations: the alias and bucket, never options or credentials."""
        kwargs: dict[str, Any] = {"storage_name": self.storage_name}
        if self._bucket_name_arg:
            kwargs["bucket_name"] = self._bucket_name_arg
        if self.replace_existing:
            kwargs["replace_existing"] = True
        return f"django_minio_backend.models.{type(self).__name__}", (), kwargs

    def validate_settings(self) -> None:
        """Raise ConfigurationError if this storage could not connect as configured.

        Option types and values were already validated when the storage was built.
        """
        require_connection_settings(self.options)

    def _warn_if_undeclared(self) -> None:
        declared = {*self.options.private_buckets, *self.options.public_buckets, self.options.default_bucket}
        if self.bucket not in declared and not self.is_bucket_public:
            logger.warning(
                "Bucket %r of storage %r is in neither MINIO_PRIVATE_BUCKETS nor MINIO_PUBLIC_BUCKETS; "
                "treating it as private.",
                self.bucket,
                self.storage_name,
            )

    # -- the I/O core (built at construction; it makes no request until used) --------------------

    @property
    def client(self) -> Minio:
        """The minio client for I/O on MINIO_ENDPOINT."""
        return self.store.client

    @property
    def client_external(self) -> Minio:
        """The minio client that signs URLs for MINIO_EXTERNAL_ENDPOINT. It makes no requests."""
        return self.store.client_external

    def _refuse_if_read_only(self, action: str, name: str) -> None:
        if self.options.read_only:
            raise ReadOnlyStorageError(
                f"Cannot {action} {name!r}: storage {self.storage_name!r} has MINIO_READ_ONLY = True."
            )

    # -- Storage API -------------------------------------------------------------------------

    def open(
        self, name: str, mode: str = "rb", *, encoding: str | None = None, errors: str | None = None
    ) -> MinioFile | ObjectWriter:
        """Read an object ("rb", "r"), or write one ("wb", "w"): see writer.py.

        A write replaces the object ``name`` when the file is closed; ``encoding`` (default UTF-8)
        and ``errors`` apply to text mode "w".
        """
        if is_write_mode(mode):
            self._refuse_if_read_only("open for writing", name)
            return open_writer(
                self.store,
                plan_upload(
                    self.options, self._upload_kwargs, name, ContentFile(b""), self.extra_upload_headers(name)
                ),
                mode=mode,
                encoding=encoding,
                errors=errors,
                on_close=lambda: urlcache.forget(self.store, self.store.key(name)),
            )
        return self._open(name, mode)

    def _open(self, name: str, mode: str = "rb") -> MinioFile:
        if any(flag in mode for flag in "wax+") or not mode.startswith("r"):
            raise ValueError(
                f'MinioBackend opens files for reading ("rb", "r") or writing ("wb", "w"), '
                f"not mode {mode!r} (file {name!r})."
            )
        store = self.store
        store.key(name)  # a bad name fails here, before any request

        def fetch(offset: int, etag: str | None) -> Any:
            return store.get(name, offset=offset, etag=etag)

        return MinioFile(ObjectReader(fetch, name), name, mode)

    def save(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        """Store ``content``; unless replacing, under ``name`` or the next free name, never over another file.

        With conditional writes, each candidate name is written with If-None-Match: the server
        refuses a taken name (NameTaken) and the next candidate is tried, without asking first.
        """
        self._refuse_if_read_only("save", name or getattr(content, "name", ""))
        if not self._creates_new_names:
            return super().save(name, content, max_length=max_length)
        if name is None:
            name = content.name
        if not hasattr(content, "chunks"):
            content = File(content, name)
        validate_file_name(name, allow_relative_path=True)
        name = self.get_available_name(name, max_length=max_length)
        content, replay = replayable(content, self.options.upload_threshold + 1)
        taken: set[str] = set()
        for _ in range(conditional.MAX_ATTEMPTS):
            try:
                saved = self._save(name, content)
            except NameTaken:
                if replay is not None and not replay.replayable:
                    raise StorageServerError(
                        f"{name!r} in bucket {self.bucket!r} was taken by another save while this "
                        "upload was completing, and the stream cannot be read again to store it "
                        "under another name. Nothing was stored; save it again."
                    ) from None
                taken.add(name)
                name = conditional.next_name(self.get_alternative_name, taken, name, max_length)
                continue
            validate_file_name(saved, allow_relative_path=True)
            return saved
        raise StorageServerError(
            f"Could not find a free name for {name!r} in bucket {self.bucket!r} after "
            f"{conditional.MAX_ATTEMPTS} attempts: every candidate already exists."
        )

    def _save(self, name: str, content: Any) -> str:
        store = self.store
        if self.options.bucket_check_on_save:
            with store.errors("check bucket of", name):
                buckets.ensure_bucket_once(
                    store.client,
                    store.endpoint,
                    self.bucket,
                    region=self.options.region,
                    public=self.is_bucket_public,
                )
        if self._gzips(name) and not isinstance(content, compression.PreparedFile):
            prepared = self._prepare(name, content)
            try:
                return self._save(name, prepared)
            finally:
                prepared.close()
        if isinstance(content, compression.PreparedFile):
            extra = content.upload_headers  # computed when prepared, in the thread that saved
        else:
            extra = self.extra_upload_headers(name)
        plan = plan_upload(self.options, self._upload_kwargs, name, content, extra)
        store.put(name, plan, new=self._creates_new_names)
        urlcache.forget(store, store.key(name))
        return name

    def extra_upload_headers(self, name: str) -> dict[str, str]:
        """Headers a subclass adds to the upload of ``name`` (they win over options and arguments)."""
        return {}

    def _gzips(self, name: str) -> bool:
        enabled = self.compress_by_default if self.options.gzip is None else self.options.gzip
        return enabled and compression.compressible(name, self.options.gzip_extensions)

    def _prepare(self, name: str, content: Any) -> compression.PreparedFile:
        """The upload's bytes (gzipped when smaller), its MD5 metadata and extra headers, read once."""
        return compression.prepare(
            name,
            content,
            gzip=self._gzips(name),
            headers=self.extra_upload_headers(name),
            spool_limit=self.options.upload_threshold,
            content_type=content_type(name, content),
        )

    @property
    def _creates_new_names(self) -> bool:
        return not self.replace_existing and self.store.conditional_puts()

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        name = clean_name(name)
        if self._creates_new_names:  # the name is claimed race-free by save()
            return conditional.first_name(self.get_alternative_name, name, max_length)
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
        urlcache.forget(self.store, self.store.key(name))

    def delete_many(self, names: Iterable[str]) -> None:
        """Delete objects in bulk (1,000 keys per request); raise naming any that failed."""
        names = list(names)
        if not names:
            return
        self._refuse_if_read_only("delete", names[0])
        self.store.delete_many(names)
        for name in names:
            urlcache.forget(self.store, self.store.key(name))

    def exists(self, name: str) -> bool:
        try:
            self.stat(name)
        except FileNotFoundError:
            return False
        return True

    def stat(self, name: str) -> Object:
        """The object's metadata (one HEAD request). Raises FileNotFoundError when missing."""
        return self.store.stat(name)

    def size(self, name: str) -> int:
        return self.stat(name).size

    def get_modified_time(self, name: str) -> datetime:
        return self._django_time(self.stat(name).last_modified)

    @staticmethod
    def _django_time(moment: datetime) -> datetime:
        """An aware S3 time as Django expects it: aware under USE_TZ, naive local time otherwise."""
        if settings.USE_TZ:
            return moment
        return timezone.make_naive(moment, timezone.get_default_timezone())

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        prefix = directory_prefix(self.options.location, path)
        directories, files = [], []
        for item in self.store.list(prefix):
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

        Public buckets get a plain URL on the external endpoint (or MINIO_PUBLIC_BASE_URL).
        Private buckets get a URL presigned for the external endpoint, valid for ``expires``
        (default MINIO_URL_EXPIRY_HOURS), optionally overriding response headers such as
        ``{"response-content-disposition": "attachment"}``. ``version_id`` (versioned buckets)
        gives a presigned URL of that version, in public buckets too: their policy lets anyone
        read the current version only.
        """
        store = self.store
        key = store.key(name)
        plain = not response_headers and not version_id
        if self.is_bucket_public and plain:
            return store.public_url(key)
        sign = partial(
            store.presigned_get,
            key,
            expires=self.options.url_expiry if expires is None else expires,
            response_headers=response_headers,
            version_id=version_id or None,
        )
        if self.options.url_caching_enabled and expires is None and plain:
            return urlcache.cached_url(store, key, sign)
        return sign()

    # -- direct browser uploads (see direct_uploads.py) ------------------------------------------

    def presigned_put_url(self, name: str, *, expires: timedelta | None = None) -> str:
        """A URL a browser can PUT the object ``name`` to, signed for the external endpoint."""
        self._refuse_if_read_only("hand out an upload URL for", name)
        return direct_uploads.presigned_put_url(self.store, name, expires=expires)

    def presigned_post(
        self,
        name: str,
        *,
        max_size: int,
        min_size: int = 0,
        content_type: str | None = None,
        expires: timedelta | None = None,
    ) -> dict[str, Any]:
        """``{"url", "fields"}`` for an HTML form POST of ``name`` (or under ``name`` if it ends in /)."""
        self._refuse_if_read_only("hand out an upload policy for", name)
        return direct_uploads.presigned_post(
            self.store, name, max_size=max_size, min_size=min_size, content_type=content_type, expires=expires
        )

    def verify_upload(
        self, name: str, *, expected_size: int | None = None, max_size: int | None = None
    ) -> Object:
        """Stat a browser-uploaded object and check its size; returns the stat or raises."""
        return direct_uploads.verify_upload(self.store, name, expected_size=expected_size, max_size=max_size)

    def path(self, name: str) -> str:
        raise NotImplementedError("Objects in S3 have no local filesystem path; use open() or url().")

    def get_accessed_time(self, name: str) -> datetime:
        raise NotImplementedError("S3 does not record when an object was last read.")

    def get_created_time(self, name: str) -> datetime:
        raise NotImplementedError("S3 does not record creation time separately; use get_modified_time().")

    # -- buckets and health (compatible 4.x methods) ---------------------------------------------

    def is_minio_available(self) -> health.MinioServerStatus:
        return health.probe(self.options, bucket=self.bucket)

    def check_bucket_existence(self) -> None:
        """Create this storage's bucket if it is missing (and make it public if declared so)."""
        with self.store.errors("create bucket"):
            buckets.create_bucket(
                self.client, self.bucket, region=self.options.region, public=self.is_bucket_public
            )

    def check_bucket_existences(self) -> None:
        """Create every bucket this storage's options declare."""
        for bucket in (*self.options.private_buckets, *self.options.public_buckets):
            with self.store.errors("create bucket", bucket):
                buckets.create_bucket(
                    self.client,
                    bucket,
                    region=self.options.region,
                    public=bucket in self.options.public_buckets,
                )

    def set_bucket_policy(self, bucket: str, policy: dict[str, Any]) -> None:
        with self.store.errors("set policy on", bucket):
            buckets.set_policy(self.client, bucket, policy)

    def set_bucket_to_public(self) -> None:
        self.set_bucket_policy(self.bucket, buckets.public_read_policy(self.bucket))


class MinioBackendStatic(MinioBackend):
    """Static files: always the public MINIO_STATIC_FILES_BUCKET of the "staticfiles" alias.

    Uploads store the content's MD5 as metadata and gzip text files (MINIO_GZIP, on by default).
    Inside ``collecting()`` (this app's collectstatic command opens it) the storage answers from
    one bucket listing and uploads in parallel; see staticfiles.py. Outside it, it behaves like
    MinioBackend.
    """

    default_alias = "staticfiles"
    compress_by_default = True

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("bucket_name", None)
        super().__init__(**kwargs)
        self._sessions = SessionHolder()

    @property
    def bucket(self) -> str:
        return self.options.static_bucket

    @property
    def is_bucket_public(self) -> bool:
        return True

    @property
    def PUBLIC_BUCKETS(self) -> list[str]:
        return [*self.options.public_buckets, self.options.static_bucket]

    # -- the collectstatic context -----------------------------------------------------------------

    def collecting(self) -> AbstractContextManager[CollectSession]:
        """The collectstatic context: one listing, held deletes, parallel uploads (staticfiles.py).

        ``with staticfiles_storage.collecting(): call_command("collectstatic", ...)`` in a deploy
        script; this app's collectstatic command opens it by itself. Re-entrant.
        """
        return self._sessions.collecting(self._new_session)

    @property
    def collect_session(self) -> CollectSession | None:
        """The open collectstatic session, or None outside the context."""
        return self._sessions.session

    def _new_session(self) -> CollectSession:
        headers = self._upload_kwargs.get("headers") or {}
        sse = (
            self._upload_kwargs.get("sse") is not None
            or self.options.server_side_encryption is not None
            or any(key.lower().startswith("x-amz-server-side-encryption") for key in headers)
        )
        return CollectSession(
            StaticStore(
                list_entries=self._list_entries,
                stored_md5=self._stored_md5,
                delete_many=self.delete_many,
                gzips=self._gzips,
                etags_are_md5=not sse,
                workers=self.options.static_upload_workers,
            )
        )

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_sessions", None)  # an open collectstatic context stays in its process
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._sessions = SessionHolder()

    def _list_entries(self) -> Iterator[tuple[str, Entry]]:
        location = self.options.location
        try:
            listing = self.store.list(directory_prefix(location, ""), recursive=True)
            items = [(item.object_name, item.size, item.etag, item.last_modified) for item in listing]
        except BucketMissingError:  # no bucket yet: nothing is stored
            return
        for key, size, etag, modified in items:
            yield name_from_key(location, key), Entry(size or 0, (etag or "").strip('"'), modified)

    def _stored_md5(self, name: str) -> tuple[str | None, bool]:
        try:
            return stored_md5_from_stat(self.stat(name).metadata)
        except FileNotFoundError:
            return None, False

    # -- the Storage API: the session's answers inside the context --------------------------------

    def exists(self, name: str) -> bool:
        session = self.collect_session
        return super().exists(name) if session is None else session.exists(clean_name(name))

    def size(self, name: str) -> int:
        session = self.collect_session
        return super().size(name) if session is None else session.entry(clean_name(name)).size

    def get_modified_time(self, name: str) -> datetime:
        session = self.collect_session
        if session is None:
            return super().get_modified_time(name)
        return self._django_time(session.modified_time(clean_name(name)))

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        session = self.collect_session
        return super().listdir(path) if session is None else session.listdir(clean_name(path))

    def delete(self, name: str) -> None:
        session = self.collect_session
        if session is None:
            return super().delete(name)
        self._refuse_if_read_only("delete", name)
        session.delete(clean_name(name))

    def _open(self, name: str, mode: str = "rb") -> MinioFile:
        session = self.collect_session
        if session is not None:
            session.flush()  # a queued upload of this name must land before it is read
        return super()._open(name, mode)

    def _save(self, name: str, content: Any) -> str:
        session = self.collect_session
        prepared = content if isinstance(content, compression.PreparedFile) else None
        if session is None:
            if prepared is not None:
                return super()._save(name, prepared)
            prepared = self._prepare(name, content)
            try:
                return super()._save(name, prepared)
            finally:
                prepared.close()
        name = clean_name(name)
        session.save(name, lambda: prepared or self._prepare(name, content), partial(self._replace, name))
        return name

    def _replace(self, name: str, prepared: compression.PreparedFile) -> None:
        """One PUT that writes ``name`` whether or not it exists (collectstatic owns the names)."""
        super()._save(name, prepared)  # inside the context, _creates_new_names is False

    @property
    def _creates_new_names(self) -> bool:
        return self.collect_session is None and super()._creates_new_names
