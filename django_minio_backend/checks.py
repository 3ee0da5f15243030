"""Django system checks for the MinIO aliases of settings.STORAGES (`manage.py check`).

Each configuration problem has its own ID and a hint. To add a check, write a function and append
it to ``ALIAS_CHECKS`` (it sees one alias) or ``STORAGES_CHECKS`` (it sees every MinIO alias).

Errors: E001 no endpoint, E002 no credentials, E003 a bucket both private and public, E004 an
unknown (misspelled) key, E005 a wrong type or value, E006 the static bucket listed as private,
E007 aliases on one endpoint disagree about a bucket, E008 MINIO_URL_CACHE_ALIAS not in CACHES.
Warnings: W001 external endpoint without its https flag, W002 a policy hook for an undeclared
bucket, W003 the static bucket also declared as a media bucket, W004 MINIO_URL_CACHE_TIMEOUT
longer than the URL expiry (it is clamped).
MinioMultiBucketStorage aliases: E030 a bad MINIO_URL_SCHEMES (a scheme mapped to a missing or
non-MinioBackend alias); W030 MINIO_URL_SCHEMES set on a MinioBackend alias, which ignores it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning
from django.utils.module_loading import import_string

from . import buckets
from .errors import ConfigurationError, PrivatePublicMixedError
from .options import OPTION_KEYS, StorageOptions, option_problems, parse_options, unknown_key_error


@dataclass(frozen=True)
class AliasConfig:
    """One MinIO alias of STORAGES, as a check sees it."""

    alias: str
    backend: type
    raw: Mapping[str, Any]
    options: StorageOptions | None  # None when the options do not parse

    @property
    def is_static(self) -> bool:
        from .storage import MinioBackendStatic

        return issubclass(self.backend, MinioBackendStatic)

    def where(self, key: str | None = None) -> str:
        return f"STORAGES[{self.alias!r}]['OPTIONS']" + (f"[{key!r}]" if key else "")


def _error(number: int, message: str, hint: str, config: AliasConfig) -> Error:
    return Error(message, hint=hint, obj=config.where(), id=f"minio_backend.E{number:03d}")


def _warning(number: int, message: str, hint: str, config: AliasConfig) -> Warning:
    return Warning(message, hint=hint, obj=config.where(), id=f"minio_backend.W{number:03d}")


# -- checks on one alias ----------------------------------------------------------------------


def check_connection(config: AliasConfig) -> Iterable[CheckMessage]:
    if not config.raw.get("MINIO_ENDPOINT"):
        yield _error(1, "MINIO_ENDPOINT is not set.", "Set it to the server's host[:port].", config)
    missing = [key for key in ("MINIO_ACCESS_KEY", "MINIO_SECRET_KEY") if not config.raw.get(key)]
    if missing:
        yield _error(
            2,
            f"{' and '.join(missing)} not set.",
            "Set the credentials of an S3 user (read them from the environment, not from code).",
            config,
        )


def check_option_values(config: AliasConfig) -> Iterable[CheckMessage]:
    """Misspelled keys, wrong types and values, and buckets listed as both private and public."""
    for key in config.raw:
        if key not in OPTION_KEYS:
            problem = str(unknown_key_error(key))
            yield _error(4, problem.split(". ", 1)[0] + ".", problem.split(". ", 1)[-1], config)
    known = {key: value for key, value in config.raw.items() if key in OPTION_KEYS}
    for problem in option_problems(known):
        if isinstance(problem, PrivatePublicMixedError):
            yield _error(3, str(problem), "Remove the bucket from one of the two lists.", config)
        else:
            yield _error(5, str(problem), "Fix the value as the message says.", config)


def check_external_endpoint(config: AliasConfig) -> Iterable[CheckMessage]:
    raw = config.raw
    if raw.get("MINIO_EXTERNAL_ENDPOINT") and "MINIO_EXTERNAL_ENDPOINT_USE_HTTPS" not in raw:
        scheme = "https" if raw.get("MINIO_USE_HTTPS") else "http"
        yield _warning(
            1,
            "MINIO_EXTERNAL_ENDPOINT is set without MINIO_EXTERNAL_ENDPOINT_USE_HTTPS, so URLs for users "
            f"use {scheme} (copied from MINIO_USE_HTTPS).",
            "Set MINIO_EXTERNAL_ENDPOINT_USE_HTTPS to True or False explicitly.",
            config,
        )


def check_static_bucket(config: AliasConfig) -> Iterable[CheckMessage]:
    if not config.is_static or config.options is None:
        return
    static = config.options.static_bucket
    if static in config.options.private_buckets:
        yield _error(
            6,
            f"The static files bucket {static!r} is listed in MINIO_PRIVATE_BUCKETS.",
            "Static files are always served from a public bucket: remove it from MINIO_PRIVATE_BUCKETS.",
            config,
        )


def check_url_cache(config: AliasConfig) -> Iterable[CheckMessage]:
    options = config.options
    if options is None or not options.url_caching_enabled:
        return
    expiry = int(options.url_expiry.total_seconds())
    if options.url_cache_timeout is not None and options.url_cache_timeout > expiry:
        yield _warning(
            4,
            f"MINIO_URL_CACHE_TIMEOUT ({options.url_cache_timeout} s) is longer than "
            f"MINIO_URL_EXPIRY_HOURS ({expiry} s); cached URLs are kept {expiry} s at most.",
            "Lower MINIO_URL_CACHE_TIMEOUT, or leave it unset for 80% of the expiry.",
            config,
        )
    if options.url_cache_alias not in settings.CACHES:
        yield _error(
            8,
            f"MINIO_URL_CACHE_ALIAS {options.url_cache_alias!r} is not in CACHES.",
            "Add that cache to CACHES, or name an existing one.",
            config,
        )


def check_url_schemes_ignored(config: AliasConfig) -> Iterable[CheckMessage]:
    if config.raw.get("MINIO_URL_SCHEMES"):
        yield _warning(
            30,
            "MINIO_URL_SCHEMES is set on a MinioBackend alias, which ignores it.",
            "Put it in the OPTIONS of a MinioMultiBucketStorage alias.",
            config,
        )


# Add checks that look at one alias here (an AliasConfig in, CheckMessages out).
ALIAS_CHECKS: list[Callable[[AliasConfig], Iterable[CheckMessage]]] = [
    check_connection,
    check_option_values,
    check_external_endpoint,
    check_static_bucket,
    check_url_cache,
    check_url_schemes_ignored,
]


# -- checks across aliases ---------------------------------------------------------------------


def check_bucket_agreement(configs: list[AliasConfig]) -> Iterable[CheckMessage]:
    valid = {c.alias: settings.STORAGES[c.alias] for c in configs if c.options is not None}
    try:
        buckets.plan_buckets(valid)
    except ConfigurationError as error:
        yield Error(
            str(error),
            hint="A bucket is either public or private on its server; the static bucket is public.",
            obj="STORAGES",
            id="minio_backend.E007",
        )


def check_policy_hooks(configs: list[AliasConfig]) -> Iterable[CheckMessage]:
    declared = {
        (buckets.MinioAlias(c.alias, c.options, c.is_static).endpoint, bucket)
        for c in configs
        if c.options is not None
        for bucket in buckets.MinioAlias(c.alias, c.options, c.is_static).buckets()
    }
    for config in configs:
        if config.options is None:
            continue
        endpoint = buckets.MinioAlias(config.alias, config.options, config.is_static).endpoint
        for bucket, _policy in config.options.policy_hooks:
            if (endpoint, bucket) not in declared:
                yield _warning(
                    2,
                    f"MINIO_POLICY_HOOKS names bucket {bucket!r}, which no alias declares, "
                    "so initialize_buckets will not create it.",
                    "Add it to MINIO_PRIVATE_BUCKETS or MINIO_PUBLIC_BUCKETS.",
                    config,
                )


def check_static_shared_with_media(configs: list[AliasConfig]) -> Iterable[CheckMessage]:
    statics = {c.options.static_bucket: c for c in configs if c.is_static and c.options is not None}
    for config in configs:
        if config.is_static or config.options is None:
            continue
        media = buckets.MinioAlias(config.alias, config.options, False).buckets()
        for bucket in sorted(set(media) & set(statics)):
            yield _warning(
                3,
                f"Bucket {bucket!r} is both the static files bucket of {statics[bucket].alias!r} and a "
                f"media bucket of {config.alias!r}.",
                "Keep uploads and static files in separate buckets; clean_orphaned_minio_files never "
                "cleans the static bucket.",
                config,
            )


# Add checks that compare aliases here (every MinIO AliasConfig in, CheckMessages out).
STORAGES_CHECKS: list[Callable[[list[AliasConfig]], Iterable[CheckMessage]]] = [
    check_bucket_agreement,
    check_policy_hooks,
    check_static_shared_with_media,
]


def alias_configs() -> list[AliasConfig]:
    configs = []
    for alias, entry in settings.STORAGES.items():
        backend = buckets.backend_class(entry)
        if backend is None:
            continue
        raw = entry.get("OPTIONS", {})
        try:
            options = parse_options(raw)
        except ConfigurationError:
            options = None
        configs.append(AliasConfig(alias, backend, raw, options))
    return configs


def check_multibucket_aliases() -> Iterable[CheckMessage]:
    """Each MinioMultiBucketStorage alias: its MINIO_URL_SCHEMES and the aliases they name."""
    from .multibucket import MinioMultiBucketStorage

    for alias, entry in settings.STORAGES.items():
        try:
            backend = import_string(entry.get("BACKEND", ""))
        except ImportError:
            continue
        if not (isinstance(backend, type) and issubclass(backend, MinioMultiBucketStorage)):
            continue
        try:
            problems = backend(**entry.get("OPTIONS", {})).configuration_problems()
        except ConfigurationError as error:
            problems = [str(error)]
        for problem in problems:
            yield Error(
                problem,
                hint="Map each scheme to a STORAGES alias whose BACKEND is MinioBackend.",
                obj=f"STORAGES[{alias!r}]['OPTIONS']",
                id="minio_backend.E030",
            )


def run_all(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Every MinIO check on every MinIO alias of settings.STORAGES. Makes no network request."""
    configs = alias_configs()
    messages: list[CheckMessage] = list(check_multibucket_aliases())
    for config in configs:
        for check in ALIAS_CHECKS:
            messages.extend(check(config))
    for check in STORAGES_CHECKS:
        messages.extend(check(configs))
    return messages
