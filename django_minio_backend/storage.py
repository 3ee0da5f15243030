"""MinioBackend and MinioBackendStatic: Django's Storage API on an S3-compatible server."""

from __future__ import annotations

import difflib
import logging
import mimetypes
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cached_property, partial
from typing import Any
from urllib.parse import quote

import urllib3
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import Storage
from django.utils import timezone
from minio import Minio
from minio.datatypes import Object
from minio.error import MinioException, S3Error

from . import buckets, conditional, direct_uploads, health, urlcache
from .client import build_client, default_http_client, endpoint_url, require_connection_settings
from .errors import ConfigurationError, ReadOnlyStorageError, StorageServerError
from .files import MinioFile, ObjectReader, if_match, pinned
from .names import clean_name, directory_prefix, object_key
from .options import MIN_PART_SIZE, StorageOptions, parse_options
from .staticfiles import StaticSyncMixin
from .uploads import upload_source

logger = logging.getLogger("django_minio_backend")

MISSING_CODES = frozenset({"NoSuchKey", "NotFound", "ResourceNotFound", "NoSuchBucket", "NoSuchObject"})

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


def _alias_options(alias: str) -> Mapping[str, Any]:
    return settings.STORAGES.get(alias, {}).get("OPTIONS", {})


def _alias_of(options: Mapping[str, Any], fallback: str) -> str:
    """The STORAGES alias whose OPTIONS Django passed to us, found by equality."""
    for alias, config in settings.STORAGES.items():
        alias_options = config.get("OPTIONS") or {}
        if {key: value for key, value in alias_options.items() if key.startswith("MINIO_")} == options:
            return alias
    return fallback


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

    def __init__(self, bucket_name: str = "", storage_name: str | None = None, **kwargs: Any) -> None:
        option_kwargs = {key: value for key, value in kwargs.items() if key.startswith("MINIO_")}
        upload_kwargs = {key: value for key, value in kwargs.items() if key not in option_kwargs}
        _check_upload_kwargs(upload_kwargs)
        if storage_name is None and option_kwargs:
            self.storage_name = _alias_of(option_kwargs, self.default_alias)
            raw = option_kwargs
        else:
            self.storage_name = storage_name or self.default_alias
            if storage_name and storage_name not in settings.STORAGES:
                raise ConfigurationError(f"STORAGES has no alias {storage_name!r} (storage_name).")
            raw = {**_alias_options(self.storage_name), **option_kwargs}
        self.options: StorageOptions = parse_options(raw)
        self._bucket_name_arg = bucket_name
        self._upload_kwargs = upload_kwargs
        self.replace_existing: bool = bool(upload_kwargs.get("replace_existing", False))
        self._warn_if_undeclared()

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
        options = self.options
        return (options.endpoint, options.use_https) == (
            options.external_endpoint,
            options.external_use_https,
        )

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

    # -- clients (built on first use: no I/O at construction) ------------------------------------

    @cached_property
    def _http(self) -> urllib3.PoolManager:
        return self._upload_kwargs.get("http_client") or default_http_client(self.options)

    @cached_property
    def client(self) -> Minio:
        """The client for I/O on MINIO_ENDPOINT."""
        return build_client(self.options, self._http)

    @cached_property
    def client_external(self) -> Minio:
        """The client that signs URLs for MINIO_EXTERNAL_ENDPOINT. It makes no requests."""
        if self.same_endpoints:
            return self.client
        return build_client(self.options, self._http, external=True)

    # -- errors ------------------------------------------------------------------------------

    @contextmanager
    def _s3_errors(self, action: str, name: str = "") -> Iterator[None]:
        """Turn minio and urllib3 failures into FileNotFoundError or StorageServerError."""
        where = f"{self.bucket}/{name}" if name else self.bucket
        endpoint = endpoint_url(self.options)
        try:
            yield
        except S3Error as error:
            if error.code in MISSING_CODES:
                raise FileNotFoundError(f"{where} does not exist on {endpoint}.") from error
            raise StorageServerError(
                f"{action} {where} on {endpoint} failed: {error.code}: {error.message}"
            ) from error
        except (FileNotFoundError, StorageServerError, ReadOnlyStorageError, SuspiciousFileOperation):
            raise
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as error:
            reason = getattr(error, "reason", None) or error
            raise StorageServerError(f"{action} {where} on {endpoint} failed: {reason}") from error

    def _key(self, name: str) -> str:
        return object_key(self.options.location, name)

    def _refuse_if_read_only(self, action: str, name: str) -> None:
        if self.options.read_only:
            raise ReadOnlyStorageError(
                f"Cannot {action} {name!r}: storage {self.storage_name!r} has MINIO_READ_ONLY = True."
            )

    # -- Storage API -------------------------------------------------------------------------

    def _open(self, name: str, mode: str = "rb") -> MinioFile:
        if any(flag in mode for flag in "wax+") or not mode.startswith("r"):
            raise ValueError(
                f"MinioBackend opens files for reading only (mode {mode!r} given for {name!r}). "
                "Write with storage.save(name, content)."
            )
        key = self._key(name)

        def fetch(offset: int, etag: str | None) -> Any:
            with self._s3_errors("read", name), pinned(f"{self.bucket}/{name}", etag):
                return self.client.get_object(
                    bucket_name=self.bucket, object_name=key, offset=offset, request_headers=if_match(etag)
                )

        return MinioFile(ObjectReader(fetch, name), name, mode)

    def save(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        self._refuse_if_read_only("save", name or getattr(content, "name", ""))
        with conditional.save_limits(max_length):
            return super().save(name, content, max_length=max_length)

    def _save(self, name: str, content: Any) -> str:
        key = self._key(name)
        if self.options.bucket_check_on_save:
            with self._s3_errors("check bucket of", name):
                buckets.ensure_bucket_once(
                    self.client,
                    self.options.endpoint,
                    self.bucket,
                    region=self.options.region,
                    public=self.is_bucket_public,
                )
        if self._creates_new_names:
            name = conditional.save_new(self, name, content)  # may pick the next free name
        else:
            data, length = upload_source(content)
            put_kwargs = self._put_kwargs(name, content, length)
            with self._s3_errors("upload", name):
                self.client.put_object(bucket_name=self.bucket, object_name=key, data=data, **put_kwargs)
        urlcache.forget(self, self._key(name))
        return name

    def _put_kwargs(self, name: str, content: Any, length: int) -> dict[str, Any]:
        options, extra = self.options, self._upload_kwargs
        part_size = options.upload_part_size
        if 0 <= length <= options.upload_threshold:
            part_size = max(length, MIN_PART_SIZE)  # one PUT
        kwargs: dict[str, Any] = {
            "length": length,
            "part_size": part_size,
            "content_type": _content_type(name, content),
            "metadata": self._object_headers(name) or None,
        }
        for key in ("sse", "progress", "tags", "retention", "legal_hold", "num_parallel_uploads"):
            if extra.get(key) is not None:
                kwargs[key] = extra[key]
        return kwargs

    def _object_headers(self, name: str) -> dict[str, str]:
        """Headers and user metadata for an upload, from options and constructor arguments."""
        options, extra = self.options, self._upload_kwargs
        headers: dict[str, str] = {}
        for header, value in (
            ("Cache-Control", options.cache_control),
            ("Content-Disposition", options.content_disposition),
            ("Content-Language", options.content_language),
        ):
            if value:
                headers[header] = value(name) if callable(value) else value
        for meta_key, value in options.metadata.items():
            headers[f"x-amz-meta-{meta_key}"] = value(name) if callable(value) else value
        for meta_key, value in (extra.get("metadata") or extra.get("user_metadata") or {}).items():
            headers[meta_key if meta_key.lower().startswith("x-amz-") else f"x-amz-meta-{meta_key}"] = value
        headers.update(extra.get("headers") or {})
        return headers

    @property
    def _creates_new_names(self) -> bool:
        return not self.replace_existing and self.options.conditional_writes

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        name = clean_name(name)
        if self._creates_new_names:  # the name is claimed race-free in _save
            return conditional.first_name(self, name, max_length)
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
        with self._s3_errors("delete", name):
            self.client.remove_object(bucket_name=self.bucket, object_name=self._key(name))
        urlcache.forget(self, self._key(name))

    def exists(self, name: str) -> bool:
        try:
            self.stat(name)
        except FileNotFoundError:
            return False
        return True

    def stat(self, name: str) -> Object:
        """The object's metadata (one HEAD request). Raises FileNotFoundError when missing."""
        with self._s3_errors("stat", name):
            return self.client.stat_object(bucket_name=self.bucket, object_name=self._key(name))

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
        with self._s3_errors("list", path):
            listing = self.client.list_objects(bucket_name=self.bucket, prefix=prefix or None)
            for item in listing:
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
        key = self._key(name)
        plain = not response_headers and not version_id
        if self.is_bucket_public and plain:
            return self._public_url(key)
        sign = partial(
            self.client_external.presigned_get_object,
            bucket_name=self.bucket,
            object_name=key,
            expires=self.options.url_expiry if expires is None else expires,
            response_headers=dict(response_headers) if response_headers else None,
            version_id=version_id or None,
        )
        if self.options.url_caching_enabled and expires is None and plain:
            return urlcache.cached_url(self, key, sign)
        return sign()

    def _public_url(self, key: str) -> str:
        quoted = quote(key, safe="/~")
        if self.options.public_base_url:
            return f"{self.options.public_base_url}/{quoted}"
        return f"{self.base_url_external}{self.bucket}/{quoted}"

    # -- direct browser uploads (see direct_uploads.py) ------------------------------------------

    def presigned_put_url(self, name: str, *, expires: timedelta | None = None) -> str:
        """A URL a browser can PUT the object ``name`` to, signed for the external endpoint."""
        return direct_uploads.presigned_put_url(self, name, expires=expires)

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
        return direct_uploads.presigned_post(
            self, name, max_size=max_size, min_size=min_size, content_type=content_type, expires=expires
        )

    def verify_upload(
        self, name: str, *, expected_size: int | None = None, max_size: int | None = None
    ) -> Object:
        """Stat a browser-uploaded object and check its size; returns the stat or raises."""
        return direct_uploads.verify_upload(self, name, expected_size=expected_size, max_size=max_size)

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
        with self._s3_errors("create bucket"):
            buckets.create_bucket(
                self.client, self.bucket, region=self.options.region, public=self.is_bucket_public
            )

    def check_bucket_existences(self) -> None:
        """Create every bucket this storage's options declare."""
        for bucket in (*self.options.private_buckets, *self.options.public_buckets):
            with self._s3_errors("create bucket", bucket):
                buckets.create_bucket(
                    self.client,
                    bucket,
                    region=self.options.region,
                    public=bucket in self.options.public_buckets,
                )

    def set_bucket_policy(self, bucket: str, policy: dict[str, Any]) -> None:
        with self._s3_errors("set policy on", bucket):
            buckets.set_policy(self.client, bucket, policy)

    def set_bucket_to_public(self) -> None:
        self.set_bucket_policy(self.bucket, buckets.public_read_policy(self.bucket))


class MinioBackendStatic(StaticSyncMixin, MinioBackend):
    """Static files: always the public MINIO_STATIC_FILES_BUCKET of the "staticfiles" alias.

    StaticSyncMixin makes collectstatic cost one listing per run instead of a HEAD per file.
    """

    default_alias = "staticfiles"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("bucket_name", None)
        super().__init__(**kwargs)

    @property
    def bucket(self) -> str:
        return self.options.static_bucket

    @property
    def is_bucket_public(self) -> bool:
        return True

    @property
    def PUBLIC_BUCKETS(self) -> list[str]:
        return [*self.options.public_buckets, self.options.static_bucket]


def _content_type(name: str, content: Any) -> str:
    declared = getattr(content, "content_type", None)
    if declared:
        return declared
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"
