"""MinioMultiBucketStorage: names that carry their endpoint and bucket, e.g. ``minio://media-2025/a.pdf``.

The scheme picks a STORAGES alias (``MINIO_URL_SCHEMES``), the host part a bucket that alias
declares, and the path the object's name in that bucket (under the alias's MINIO_LOCATION). So one
FileField can hold files in many buckets on many endpoints. A plain name (no scheme) means the
default bucket of the first scheme's alias, and a saved file's name is always a full URL.

This class only parses and formats names: every call goes to the MinioBackend of that
(alias, bucket), built on first use and sharing one connection pool per alias.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import Storage
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from ..conf.aliases import ROUTER, SCHEMES_KEY, Alias, router_target
from ..conf.options import parse_options
from ..core.connection import default_http_client
from ..core.state import STATE
from ..core.types import Object
from ..errors import ConfigurationError
from . import statcache, urlcache
from .asynchronous import AsyncStorageMixin

_FULL_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<bucket>[^/]*)(?:/(?P<name>.*))?$", re.S)


@receiver(setting_changed)
def _forget_backends_on_storages_change(*, setting: str, **kwargs: Any) -> None:
    if setting == "STORAGES":
        STATE.settings_changed()


@dataclass(frozen=True)
class Location:
    """Where a full-URL name points: scheme (and so alias), bucket, and the name in that bucket."""

    scheme: str
    alias: str
    bucket: str
    name: str

    @property
    def prefix(self) -> str:
        return f"{self.scheme}://{self.bucket}/"

    def __str__(self) -> str:
        return f"{self.prefix}{self.name}"


@dataclass(frozen=True)
class Target:
    """A MinioBackend alias a scheme maps to, with the pool its backends share."""

    alias: Alias
    pool: Any

    @property
    def options(self) -> Any:
        return self.alias.options

    def declared(self) -> set[str]:
        return set(self.alias.buckets())


class MinioMultiBucketStorage(AsyncStorageMixin, Storage):
    """A router over MinioBackend storages, addressed by full-URL names.

    Configure it with ``MINIO_URL_SCHEMES`` (scheme -> STORAGES alias of a MinioBackend), either in
    its own STORAGES alias's OPTIONS or as a keyword argument. The first scheme takes plain names.
    """

    minio_role = ROUTER  # how conf.aliases recognises this backend in STORAGES

    def __init__(self, storage_name: str | None = None, **kwargs: Any) -> None:
        if storage_name is not None:
            if storage_name not in settings.STORAGES:
                raise ConfigurationError(f"STORAGES has no alias {storage_name!r} (storage_name).")
            kwargs = {**settings.STORAGES[storage_name].get("OPTIONS", {}), **kwargs}
        others = sorted(key for key in kwargs if key != SCHEMES_KEY)
        if others:
            raise ConfigurationError(
                f"MinioMultiBucketStorage takes only {SCHEMES_KEY}, not {', '.join(others)}. Put endpoint, "
                "bucket and upload options in the MinioBackend aliases that the schemes map to."
            )
        schemes = parse_options({SCHEMES_KEY: kwargs.get(SCHEMES_KEY, {})}).url_schemes
        if not schemes:
            raise ConfigurationError(
                f"{SCHEMES_KEY} is empty. Map at least one scheme to a STORAGES alias, "
                'e.g. {"minio": "default"}.'
            )
        self.storage_name = storage_name
        self.schemes: dict[str, str] = dict(schemes)
        self.default_scheme: str = next(iter(self.schemes))
        self._reset()

    def __getstate__(self) -> dict[str, Any]:
        # Backends hold pools and locks; a copy or an unpickled router builds its own on first use.
        return {"storage_name": self.storage_name, "schemes": self.schemes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.storage_name = state["storage_name"]
        self.schemes = dict(state["schemes"])
        self.default_scheme = next(iter(self.schemes))
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._generation = STATE.generation
        self._aliases: dict[str, Target] = {}
        self._backends: dict[tuple[str, str], Storage] = {}

    def __repr__(self) -> str:
        return f"<MinioMultiBucketStorage schemes={self.schemes!r}>"

    def deconstruct(self) -> tuple[str, tuple, dict[str, Any]]:
        """Serialise for migrations: the alias, or the scheme map (aliases only, no options)."""
        path = "django_minio_backend.models.MinioMultiBucketStorage"
        if self.storage_name is not None:
            return path, (), {"storage_name": self.storage_name}
        return path, (), {SCHEMES_KEY: dict(self.schemes)}

    # -- names ---------------------------------------------------------------------------------

    def locate(self, name: str, *, allow_empty: bool = False) -> Location:
        """Parse ``name`` into its Location; a plain name goes to the first scheme's default bucket.

        Raises ConfigurationError for a scheme not in MINIO_URL_SCHEMES or a bucket its alias does
        not declare, and SuspiciousFileOperation for a name that names no object.
        """
        if not isinstance(name, str):
            raise SuspiciousFileOperation(f"Object name must be a str, got {type(name).__name__}.")
        match = _FULL_URL.match(name)
        if match is None:
            alias = self.schemes[self.default_scheme]
            location = Location(self.default_scheme, alias, self._alias(alias).options.default_bucket, name)
        else:
            scheme = match["scheme"].lower()
            if scheme not in self.schemes:
                raise ConfigurationError(
                    f"{name!r}: the scheme {scheme!r} is not in {SCHEMES_KEY} "
                    f"({', '.join(self.schemes)}). Add it, mapped to a STORAGES alias."
                )
            alias = self.schemes[scheme]
            location = Location(scheme, alias, match["bucket"], match["name"] or "")
            if location.bucket not in self._alias(alias).declared():
                raise ConfigurationError(
                    f"{name!r}: bucket {location.bucket!r} is not declared for STORAGES[{alias!r}]. "
                    "Add it to that alias's MINIO_PRIVATE_BUCKETS or MINIO_PUBLIC_BUCKETS."
                )
        if not location.name and not allow_empty:
            raise SuspiciousFileOperation(f"{name!r} names a bucket, not an object.")
        return location

    def full_name(self, name: str) -> str:
        """``name`` as the full URL it is stored under (plain names get the default location)."""
        return str(self.locate(name))

    def backend(self, location: Location) -> Storage:
        """The MinioBackend that serves ``location``'s alias and bucket, built on first use."""
        self._forget_if_settings_changed()
        key = (location.alias, location.bucket)
        backend = self._backends.get(key)
        if backend is None:
            alias = self._alias(location.alias)
            with self._lock:
                backend = self._backends.get(key)
                if backend is None:
                    backend = import_string(alias.alias.backend)(
                        bucket_name=location.bucket, storage_name=location.alias, http_client=alias.pool
                    )
                    self._backends[key] = backend
        return backend

    def object_address(self, name: str) -> tuple[str, str, str]:
        """(endpoint URL, bucket, S3 key) of ``name``, e.g. for matching listings to rows."""
        location, backend = self._route(name)
        return backend.store.endpoint, location.bucket, backend.store.key(location.name)

    def _route(self, name: str, *, allow_empty: bool = False) -> tuple[Location, Any]:
        location = self.locate(name, allow_empty=allow_empty)
        return location, self.backend(location)

    def _alias(self, alias: str) -> Target:
        self._forget_if_settings_changed()
        found = self._aliases.get(alias)
        if found is None:
            target = router_target(alias)
            resolved = Target(target, default_http_client(target.options))
            with self._lock:
                found = self._aliases.setdefault(alias, resolved)
        return found

    def _forget_if_settings_changed(self) -> None:
        if self._generation != STATE.generation:
            with self._lock:
                self._aliases.clear()
                self._backends.clear()
                self._generation = STATE.generation

    # -- Storage API: every call goes to the backend of the name's (alias, bucket) ---------------

    def generate_filename(self, filename: str) -> str:
        location, backend = self._route(str(filename).replace("\\", "/"))
        return str(replace(location, name=backend.generate_filename(location.name)))

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        location, backend = self._route(name)
        available = backend.get_available_name(location.name, max_length=_inner(location, max_length))
        return str(replace(location, name=available))

    def save(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        """Save in the bucket the name points at; returns the full URL of the name used."""
        if name is None:
            name = content.name
        location, backend = self._route(name)
        saved = backend.save(location.name, content, max_length=_inner(location, max_length))
        return str(replace(location, name=saved))

    def open(self, name: str, mode: str = "rb", **kwargs: Any) -> Any:
        """Open in the backend of the name's bucket (``encoding``/``errors`` as MinioBackend.open())."""
        location, backend = self._route(name)
        return backend.open(location.name, mode, **kwargs)  # its name is the name inside the bucket

    def delete(self, name: str) -> None:
        location, backend = self._route(name)
        backend.delete(location.name)

    def exists(self, name: str) -> bool:
        location, backend = self._route(name)
        return backend.exists(location.name)

    def stat(self, name: str) -> Object:
        location, backend = self._route(name)
        return backend.stat(location.name)

    def size(self, name: str) -> int:
        location, backend = self._route(name)
        return backend.size(location.name)

    def get_modified_time(self, name: str) -> datetime:
        location, backend = self._route(name)
        return backend.get_modified_time(location.name)

    def get_accessed_time(self, name: str) -> datetime:
        location, backend = self._route(name)
        return backend.get_accessed_time(location.name)

    def get_created_time(self, name: str) -> datetime:
        location, backend = self._route(name)
        return backend.get_created_time(location.name)

    def path(self, name: str) -> str:
        location, backend = self._route(name)
        return backend.path(location.name)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        """Directories and files under ``path`` (``scheme://bucket/dir``; plain paths: the default bucket)."""
        location, backend = self._route(path, allow_empty=True)
        return backend.listdir(location.name)

    def url(self, name: str, **kwargs: Any) -> str:
        """The URL of ``name``, from its alias and bucket (no request); see MinioBackend.url()."""
        location, backend = self._route(name)
        return backend.url(location.name, **kwargs)

    # -- server-side operations (see server_side.py): both names on one alias's endpoint ----------

    def copy(self, source: str, target: str, **kwargs: Any) -> str:
        """Copy on the server, across buckets of one alias too; returns the full URL of ``target``."""
        (src, backend), (dst, into) = self._route(source), self._route(target)
        if src.alias != dst.alias:
            raise ConfigurationError(f"Cannot copy {source!r} to {target!r} on the server: other alias.")
        if into is backend:
            return str(replace(dst, name=backend.copy(src.name, dst.name, **kwargs)))
        into._refuse_if_read_only("copy to", dst.name)
        backend.store.server_copy(src.name, dst.name, into=into.store, headers=kwargs.get("headers"))
        urlcache.forget(into.store, dst.name)
        statcache.forget(into.store, dst.name)
        return str(dst)

    def rename(self, source: str, target: str, **kwargs: Any) -> str:
        """``copy`` then delete ``source`` (its backend's rename() when both are in one bucket)."""
        (src, backend), (dst, into) = self._route(source), self._route(target)
        if into is backend:
            return str(replace(dst, name=backend.rename(src.name, dst.name, **kwargs)))
        copied = self.copy(source, target, **kwargs)
        backend.delete(src.name)
        return copied

    def delete_prefix(self, prefix: str, *, allow_empty: bool = False) -> int:
        """Delete every object under ``prefix`` (``scheme://bucket/dir``) in that one bucket."""
        location, backend = self._route(prefix, allow_empty=True)
        return backend.delete_prefix(location.name, allow_empty=allow_empty)

    # -- direct browser uploads: signed for the name's alias and bucket (see direct_uploads.py) ---

    def presigned_put_url(self, name: str, **kwargs: Any) -> str:
        """A URL a browser can PUT ``name`` to; see MinioBackend.presigned_put_url()."""
        location, backend = self._route(name)
        return backend.presigned_put_url(location.name, **kwargs)

    def presigned_post(self, name: str, **kwargs: Any) -> dict[str, Any]:
        """An HTML form POST policy for ``name``; see MinioBackend.presigned_post()."""
        location, backend = self._route(name)
        return backend.presigned_post(location.name, **kwargs)

    def verify_upload(self, name: str, **kwargs: Any) -> Object:
        """Stat a browser-uploaded object and check its size; see MinioBackend.verify_upload()."""
        location, backend = self._route(name)
        return backend.verify_upload(location.name, **kwargs)


def _inner(location: Location, max_length: int | None) -> int | None:
    """The field's max_length, less the ``scheme://bucket/`` prefix the stored name carries."""
    if max_length is None:
        return None
    inner = max_length - len(location.prefix)
    if inner <= 0:
        raise SuspiciousFileOperation(
            f"{location.prefix!r} alone fills the field's max_length ({max_length}). Raise max_length."
        )
    return inner
