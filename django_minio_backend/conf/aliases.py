"""The STORAGES aliases served by this package: one ``Alias`` type for every caller.

The system checks, the start-up check, initialize_buckets, the orphan cleaner, the metadata
sync, the multibucket router and the testing helper all see an alias through :class:`Alias`.
A backend is recognised by its ``minio_role`` class attribute ("media", "static" or "router"),
so this module never imports the storage classes. Reading aliases makes no request.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from ..errors import ConfigurationError
from .options import StorageOptions, parse_options
from .sources import alias_raw_options, uses_top_level_settings

MEDIA, STATIC, ROUTER = "media", "static", "router"
STORAGE_ROLES = (MEDIA, STATIC)
SCHEMES_KEY = "MINIO_URL_SCHEMES"
DEFAULT_BACKEND = "django_minio_backend.models.MinioBackend"


def role_of(backend: Any) -> str | None:
    """The role of a STORAGES BACKEND (a dotted path or a class), or None for other backends."""
    if isinstance(backend, str):
        try:
            backend = import_string(backend)
        except ImportError:
            return None
    role = getattr(backend, "minio_role", None) if isinstance(backend, type) else None
    return role if role in (MEDIA, STATIC, ROUTER) else None


@dataclass(frozen=True)
class Alias:
    """One STORAGES alias whose BACKEND is one of this package's storages (or a subclass).

    ``raw`` holds its raw options: OPTIONS, or the 3.x top-level settings when ``top_level``.
    """

    name: str
    backend: str
    role: str
    raw: Mapping[str, Any]
    top_level: bool = False

    @property
    def is_static(self) -> bool:
        return self.role == STATIC

    @functools.cached_property
    def options(self) -> StorageOptions:
        """The parsed options; ConfigurationError names the alias when they do not parse."""
        try:
            return parse_options(self.raw)
        except ConfigurationError as error:
            raise type(error)(f"{self.where()}: {error}") from error

    def parsed(self) -> StorageOptions | None:
        """The parsed options, or None when they do not parse (the checks report why)."""
        try:
            return self.options
        except ConfigurationError:
            return None

    @property
    def endpoint(self) -> str:
        scheme = "https" if self.options.use_https else "http"
        return f"{scheme}://{self.options.endpoint}"

    def buckets(self) -> dict[str, bool]:
        """The buckets this alias declares, mapped to whether each is public."""
        options = self.options
        if self.is_static:
            return {options.static_bucket: True}
        declared = {options.default_bucket: options.default_bucket in options.public_buckets}
        declared.update(dict.fromkeys(options.private_buckets, False))
        declared.update(dict.fromkeys(options.public_buckets, True))
        return declared

    def where(self, key: str | None = None) -> str:
        """Where a user finds this alias's setting ``key`` (or the alias itself)."""
        if self.top_level:
            return f"settings.{key}" if key else f"top-level MINIO_* settings (STORAGES[{self.name!r}])"
        return f"STORAGES[{self.name!r}]['OPTIONS']" + (f"[{key!r}]" if key else "")


def _alias(name: str, entry: Mapping[str, Any]) -> Alias | None:
    backend = entry.get("BACKEND", "")
    role = role_of(backend)
    if role is None:
        return None
    if role == ROUTER:
        return Alias(name, backend, role, dict(entry.get("OPTIONS") or {}))
    raw, top_level = alias_raw_options(entry)
    return Alias(name, backend, role, raw, top_level)


def all_aliases(storages: Mapping[str, Any] | None = None) -> list[Alias]:
    """Every alias of STORAGES (default: settings.STORAGES) served by this package, routers included.

    A 3.x project that only passes storage instances to its fields (no such alias at all, but
    top-level MINIO_* settings) gets one alias, "default", for those settings, which is what
    ``MinioBackend()`` reads.
    """
    found = [
        alias
        for name, entry in (settings.STORAGES if storages is None else storages).items()
        if (alias := _alias(name, entry)) is not None
    ]
    if storages is None and not any(a.role in STORAGE_ROLES for a in found) and uses_top_level_settings():
        raw, top_level = alias_raw_options(None)
        found.append(Alias("default", DEFAULT_BACKEND, MEDIA, raw, top_level))
    return found


def storage_aliases(storages: Mapping[str, Any] | None = None) -> list[Alias]:
    """The media and static aliases (the ones with endpoints and buckets), in STORAGES order."""
    return [alias for alias in all_aliases(storages) if alias.role in STORAGE_ROLES]


def router_target(scheme_alias: str) -> Alias:
    """The media alias a MINIO_URL_SCHEMES entry maps to, or ConfigurationError saying why not."""
    entry = settings.STORAGES.get(scheme_alias)
    where = f"{SCHEMES_KEY} maps a scheme to STORAGES[{scheme_alias!r}]"
    if entry is None:
        raise ConfigurationError(f"{where}, which does not exist. Add that alias or fix the map.")
    alias = _alias(scheme_alias, entry)
    if alias is None or alias.role != MEDIA:
        raise ConfigurationError(
            f"{where}, whose BACKEND is {entry.get('BACKEND')!r}. Map schemes to MinioBackend aliases "
            "(not the static files storage, not another MinioMultiBucketStorage)."
        )
    alias.options  # noqa: B018 (parse now: a bad target is a configuration problem of the router)
    return alias


def router_problems(alias: Alias) -> list[str]:
    """What is wrong with a router alias's MINIO_URL_SCHEMES and the aliases it maps to. No I/O."""
    others = sorted(key for key in alias.raw if key != SCHEMES_KEY)
    if others:
        return [
            f"MinioMultiBucketStorage takes only {SCHEMES_KEY}, not {', '.join(others)}. Put endpoint, "
            "bucket and upload options in the MinioBackend aliases that the schemes map to."
        ]
    try:
        schemes = parse_options({SCHEMES_KEY: alias.raw.get(SCHEMES_KEY, {})}).url_schemes
    except ConfigurationError as error:
        return [str(error)]
    if not schemes:
        return [
            f"{SCHEMES_KEY} is empty. Map at least one scheme to a STORAGES alias, "
            'e.g. {"minio": "default"}.'
        ]
    problems = []
    for target in dict.fromkeys(schemes.values()):
        try:
            router_target(target)
        except ConfigurationError as error:
            problems.append(str(error))
    return problems
