"""Where a storage's raw options come from: STORAGES OPTIONS, keyword arguments, 3.x settings.

- An alias with OPTIONS reads them, plus the URL cache keys that older setups put in top-level
  settings (when OPTIONS does not set them).
- An alias without OPTIONS (a bare ``{"BACKEND": ...}``, or ``DEFAULT_FILE_STORAGE`` on Django
  4.2) reads the 3.x line's top-level ``MINIO_*`` settings.
- Keyword arguments to the storage class override single keys.

Why the alias is sometimes guessed: Django builds ``STORAGES[alias]`` as
``BACKEND(**OPTIONS)`` and does not tell the storage its alias. A storage needs it anyway:
``deconstruct()`` writes the alias into migrations (never the options, which hold secrets), and
the URL cache key includes it. So when keyword arguments equal one alias's OPTIONS, that alias
built the storage; when several aliases have equal OPTIONS, the class's own alias wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from ..errors import ConfigurationError
from .options import DEFAULT_STATIC_BUCKET, OPTION_KEYS, OPTION_TABLE, StorageOptions, parse_options

# Keys that older setups put in top-level settings; read there when OPTIONS lacks them.
TOP_LEVEL_FALLBACK_KEYS = (
    "MINIO_URL_CACHING_ENABLED",
    "MINIO_URL_CACHE_TIMEOUT",
    "MINIO_URL_CACHE_PREFIX",
    "MINIO_URL_CACHE_ALIAS",
)
# The 3.x line read its options from top-level settings and called the default bucket this.
LEGACY_DEFAULT_BUCKET_KEY = "MINIO_MEDIA_FILES_BUCKET"


def with_top_level_fallbacks(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``raw`` plus the URL cache keys set at the top level of settings (OPTIONS wins)."""
    merged = dict(raw)
    for key in TOP_LEVEL_FALLBACK_KEYS:
        if key not in merged and hasattr(settings, key):
            merged[key] = getattr(settings, key)
    return merged


def top_level_settings() -> dict[str, Any]:
    """The 3.x line's top-level ``MINIO_*`` settings, as OPTIONS keys.

    ``MINIO_MEDIA_FILES_BUCKET`` becomes ``MINIO_DEFAULT_BUCKET``. The static bucket is left out
    of the bucket lists (3.x asked for it there): it belongs to the static storage, which keeps
    it public. A setting that is ``None`` is left out, so its default applies.
    """
    raw = {
        option.key: getattr(settings, option.key)
        for option in OPTION_TABLE
        if getattr(settings, option.key, None) is not None
    }
    media = getattr(settings, LEGACY_DEFAULT_BUCKET_KEY, None)
    if media is not None and raw.setdefault("MINIO_DEFAULT_BUCKET", media) != media:
        raise ConfigurationError(
            f"{LEGACY_DEFAULT_BUCKET_KEY} ({media!r}) and MINIO_DEFAULT_BUCKET "
            f"({raw['MINIO_DEFAULT_BUCKET']!r}) disagree. Keep MINIO_DEFAULT_BUCKET only."
        )
    static = raw.get("MINIO_STATIC_FILES_BUCKET", DEFAULT_STATIC_BUCKET)
    for key in ("MINIO_PRIVATE_BUCKETS", "MINIO_PUBLIC_BUCKETS"):
        if isinstance(raw.get(key), list | tuple) and static in raw[key]:
            raw[key] = [bucket for bucket in raw[key] if bucket != static]
    return {option.key: raw[option.key] for option in OPTION_TABLE if option.key in raw}


def uses_top_level_settings() -> bool:
    """True when the settings hold 3.x-style top-level options (the URL cache keys aside)."""
    names = (OPTION_KEYS - set(TOP_LEVEL_FALLBACK_KEYS)) | {LEGACY_DEFAULT_BUCKET_KEY}
    return any(getattr(settings, name, None) is not None for name in names)


def alias_raw_options(entry: Mapping[str, Any] | None) -> tuple[dict[str, Any], bool]:
    """A STORAGES entry's raw options, and whether they are the 3.x top-level settings."""
    options = (entry or {}).get("OPTIONS")
    if options:
        return with_top_level_fallbacks(options), False
    return with_top_level_fallbacks(top_level_settings()), True


def _alias_given(option_kwargs: Mapping[str, Any], preferred: str) -> str | None:
    """The alias whose MINIO_* OPTIONS equal ``option_kwargs`` (Django passed them), if any."""
    matches = [
        alias
        for alias, entry in settings.STORAGES.items()
        if {key: value for key, value in (entry.get("OPTIONS") or {}).items() if key.startswith("MINIO_")}
        == option_kwargs
    ]
    return preferred if preferred in matches else next(iter(matches), None)


def resolve_options(
    default_alias: str, storage_name: str | None, option_kwargs: Mapping[str, Any]
) -> tuple[str, StorageOptions]:
    """The alias a storage belongs to and its parsed options (see the module docstring).

    - ``storage_name`` given: that alias's options, with ``option_kwargs`` overriding single keys.
    - Not given, and ``option_kwargs`` equal some alias's OPTIONS: exactly those options.
    - Otherwise: ``default_alias``'s options, with ``option_kwargs`` overriding single keys.
    """
    if storage_name and storage_name not in settings.STORAGES:
        raise ConfigurationError(f"STORAGES has no alias {storage_name!r} (storage_name).")
    if not storage_name and option_kwargs:
        given = _alias_given(option_kwargs, default_alias)
        if given is not None:
            return given, parse_options(with_top_level_fallbacks(option_kwargs))
    alias = storage_name or default_alias
    raw, _ = alias_raw_options(settings.STORAGES.get(alias))
    return alias, parse_options({**raw, **option_kwargs})
