"""Django system checks for the MinIO aliases of settings.STORAGES (`manage.py check`).

Each configuration problem has its own ID and a hint. To add a check, write a function and append
it to ``ALIAS_CHECKS`` (it sees one conf.aliases.Alias) or ``STORAGES_CHECKS`` (it sees every MinIO alias).

Errors: E001 no endpoint, E002 no credentials, E003 a bucket both private and public, E004 an
unknown (misspelled) key, E005 a wrong type or value, E006 the static bucket listed as private,
E007 aliases on one endpoint disagree about a bucket, E008 MINIO_URL_CACHE_ALIAS not in CACHES,
E020 a credentials provider together with static keys, E021 a session token without keys, E022 a
provider path that does not import, E023 encryption options that do not go together, E024 an
unusable SSE-C key.
Warnings: W001 external endpoint without its https flag, W002 a policy hook for an undeclared
bucket, W003 the static bucket also declared as a media bucket, W004 MINIO_URL_CACHE_TIMEOUT
longer than the URL expiry (it is clamped), W005 storages configured the 3.x way (top-level
MINIO_* settings, DEFAULT_FILE_STORAGE): it prints the STORAGES block to paste instead, W012
MINIO_CONDITIONAL_WRITES = False (new names are checked with HEAD then PUT, which concurrent saves
of one name can race), W006 collectstatic is not this app's command (the static storage's
speed-ups are off), W020 SSE-C on a plain-http
endpoint.
Connection options: E050 MINIO_ADDRESSING_STYLE = "virtual" where it cannot address a bucket (an
IP-address endpoint, a bucket name with dots over https), E051 a MINIO_CA_BUNDLE that is not a
readable file; W050 pool options (timeouts, CA bundle, proxy) set beside MINIO_HTTP_CLIENT.
MinioMultiBucketStorage aliases: E030 a bad MINIO_URL_SCHEMES (a scheme mapped to a missing or
non-MinioBackend alias); W030 MINIO_URL_SCHEMES set on a MinioBackend alias, which ignores it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import django
from django.conf import DEFAULT_STORAGE_ALIAS, settings
from django.core.checks import CheckMessage, Error, Warning
from django.utils.module_loading import import_string

from .conf import legacy
from .conf.aliases import ROUTER, STORAGE_ROLES, Alias, all_aliases, role_of, router_problems
from .conf.buckets import plan_for
from .conf.network import connection_findings
from .conf.options import OPTION_KEYS, is_known_key, option_problems, unknown_key_error
from .conf.sources import top_level_settings, uses_top_level_settings
from .conf.validators import credentials_problem, encryption_problem
from .errors import ConfigurationError, CredentialsConfigError, EncryptionConfigError, PrivatePublicMixedError


def _error(number: int, message: str, hint: str, config: Alias) -> Error:
    return Error(message, hint=hint, obj=config.where(), id=f"minio_backend.E{number:03d}")


def _warning(number: int, message: str, hint: str, config: Alias) -> Warning:
    return Warning(message, hint=hint, obj=config.where(), id=f"minio_backend.W{number:03d}")


# -- checks on one alias ----------------------------------------------------------------------


def check_connection(config: Alias) -> Iterable[CheckMessage]:
    if not config.raw.get("MINIO_ENDPOINT"):
        yield _error(1, "MINIO_ENDPOINT is not set.", "Set it to the server's host[:port].", config)
    missing = [key for key in ("MINIO_ACCESS_KEY", "MINIO_SECRET_KEY") if not config.raw.get(key)]
    if missing and config.raw.get("MINIO_CREDENTIALS_PROVIDER") is None:
        yield _error(
            2,
            f"{' and '.join(missing)} not set.",
            "Set the credentials of an S3 user (read them from the environment, not from code), "
            "or set MINIO_CREDENTIALS_PROVIDER.",
            config,
        )


def check_option_values(config: Alias) -> Iterable[CheckMessage]:
    """Misspelled keys, wrong types and values, and buckets listed as both private and public."""
    for key in config.raw:
        if not is_known_key(key):
            problem = str(unknown_key_error(key))
            yield _error(4, problem.split(". ", 1)[0] + ".", problem.split(". ", 1)[-1], config)
    known = {key: value for key, value in config.raw.items() if key in OPTION_KEYS}
    for problem in option_problems(known):
        if isinstance(problem, PrivatePublicMixedError):
            yield _error(3, str(problem), "Remove the bucket from one of the two lists.", config)
        elif isinstance(problem, CredentialsConfigError | EncryptionConfigError):
            continue  # check_credentials and check_encryption report these with their own IDs
        else:
            yield _error(5, str(problem), "Fix the value as the message says.", config)


def check_external_endpoint(config: Alias) -> Iterable[CheckMessage]:
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


def check_static_bucket(config: Alias) -> Iterable[CheckMessage]:
    options = config.parsed()
    if not config.is_static or options is None:
        return
    static = options.static_bucket
    if static in options.private_buckets:
        yield _error(
            6,
            f"The static files bucket {static!r} is listed in MINIO_PRIVATE_BUCKETS.",
            "Static files are always served from a public bucket: remove it from MINIO_PRIVATE_BUCKETS.",
            config,
        )


def check_url_cache(config: Alias) -> Iterable[CheckMessage]:
    options = config.parsed()
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


def check_url_schemes_ignored(config: Alias) -> Iterable[CheckMessage]:
    if config.raw.get("MINIO_URL_SCHEMES"):
        yield _warning(
            30,
            "MINIO_URL_SCHEMES is set on a MinioBackend alias, which ignores it.",
            "Put it in the OPTIONS of a MinioMultiBucketStorage alias.",
            config,
        )


def check_collectstatic_command(config: Alias) -> Iterable[CheckMessage]:
    """The static storage's speed-ups need this app's collectstatic (or storage.collecting())."""
    if not config.is_static or config.name != "staticfiles":
        return
    from django.core.management import get_commands

    owner = get_commands().get("collectstatic")
    if owner != "django_minio_backend":
        yield Warning(
            f"manage.py collectstatic is {owner or 'missing'}'s command, not django_minio_backend's, so "
            "it runs without the static storage's speed-ups (one listing instead of a HEAD per file, "
            "parallel uploads, single-PUT replacements, bulk deletes for --clear).",
            hint="List 'django_minio_backend.apps.DjangoMinioBackendConfig' before "
            "'django.contrib.staticfiles' in INSTALLED_APPS, or wrap the run in "
            "`with staticfiles_storage.collecting():`.",
            obj="INSTALLED_APPS",
            id="minio_backend.W006",
        )


def _importable(path: str) -> str | None:
    """Why the dotted ``path`` cannot be imported, or None. Imports, never calls."""
    try:
        import_string(path)
    except ImportError as error:
        return str(error)
    return None


def check_credentials(config: Alias) -> Iterable[CheckMessage]:
    """E020 provider together with static keys, E021 session token without keys, E022 bad provider."""
    raw = config.raw
    parsed = {
        "access_key": raw.get("MINIO_ACCESS_KEY"),
        "secret_key": raw.get("MINIO_SECRET_KEY"),
        "session_token": raw.get("MINIO_SESSION_TOKEN"),
        "credentials_provider": raw.get("MINIO_CREDENTIALS_PROVIDER"),
    }
    problem = credentials_problem(parsed)
    if problem is not None:
        number, hint = (
            (20, "Keep MINIO_CREDENTIALS_PROVIDER and remove the static keys, or the other way round.")
            if parsed["credentials_provider"] is not None
            else (21, "Set MINIO_ACCESS_KEY and MINIO_SECRET_KEY of the temporary credentials too.")
        )
        yield _error(number, str(problem), hint, config)
    source = parsed["credentials_provider"]
    if isinstance(source, str):
        reason = _importable(source)
        if reason:
            yield _error(
                22,
                f"MINIO_CREDENTIALS_PROVIDER {source!r} cannot be imported: {reason}.",
                "Give the dotted path of a minio.credentials provider, or of a callable returning one.",
                config,
            )


def check_encryption(config: Alias) -> Iterable[CheckMessage]:
    """E023 encryption options that do not go together, E024 a bad SSE-C key, W020 SSE-C over http."""
    raw = config.raw
    parsed = {
        "server_side_encryption": raw.get("MINIO_SERVER_SIDE_ENCRYPTION"),
        "sse_kms_key_id": raw.get("MINIO_SSE_KMS_KEY_ID"),
        "sse_kms_context": raw.get("MINIO_SSE_KMS_CONTEXT"),
        "sse_customer_key": raw.get("MINIO_SSE_CUSTOMER_KEY"),
    }
    problem = encryption_problem(parsed)
    if problem is not None:
        yield _error(
            23, str(problem), "Set the option the message names, or remove the one it names.", config
        )
    key = parsed["sse_customer_key"]
    reason = None
    if isinstance(key, bytes) and len(key) != 32:
        reason = f"it is {len(key)} bytes long, not 32"
    elif isinstance(key, str) and (why := _importable(key)):
        reason = f"{key!r} cannot be imported ({why})"
    if reason:
        yield _error(
            24,
            f"MINIO_SSE_CUSTOMER_KEY cannot be used: {reason}.",
            "Give 32 raw bytes (base64.b64decode() a base64 key), or a callable or dotted path "
            "returning them.",
            config,
        )
    if parsed["server_side_encryption"] == "SSE-C" and not raw.get("MINIO_USE_HTTPS"):
        yield _warning(
            20,
            "SSE-C is configured on a plain-http endpoint: the encryption key travels unencrypted.",
            "Set MINIO_USE_HTTPS = True (AWS and MinIO refuse SSE-C over http).",
            config,
        )


# Add checks that look at one alias here (an Alias in, CheckMessages out).
def check_conditional_writes(config: Alias) -> Iterable[CheckMessage]:
    options = config.parsed()
    if options is None or options.conditional_writes is not False:
        return
    yield _warning(
        12,
        "MINIO_CONDITIONAL_WRITES is False: new names are checked with HEAD, then written with PUT, so "
        "two saves of one name at the same moment can overwrite each other.",
        "Use a server that honours If-None-Match (AWS S3, MinIO 2024 or later, Ceph RGW) and remove the "
        "option; left unset, the storage finds out once per process whether the server honours it.",
        config,
    )


def check_connection_options(config: Alias) -> Iterable[CheckMessage]:
    """E050 virtual-host style that cannot work, E051 an unusable CA bundle, W050 ignored pool keys."""
    options = config.parsed()
    if options is not None:
        for error, number, message, hint in connection_findings(options, config.buckets(), config.raw):
            yield (_error if error else _warning)(number, message, hint, config)


ALIAS_CHECKS: list[Callable[[Alias], Iterable[CheckMessage]]] = [
    check_connection,
    check_option_values,
    check_external_endpoint,
    check_static_bucket,
    check_url_cache,
    check_url_schemes_ignored,
    check_conditional_writes,
    check_collectstatic_command,
    check_credentials,
    check_encryption,
    check_connection_options,
]


# -- checks across aliases ---------------------------------------------------------------------


def check_bucket_agreement(configs: list[Alias]) -> Iterable[CheckMessage]:
    valid = [config for config in configs if config.parsed() is not None]
    try:
        plan_for(valid)
    except ConfigurationError as error:
        yield Error(
            str(error),
            hint="A bucket is either public or private on its server; the static bucket is public.",
            obj="STORAGES",
            id="minio_backend.E007",
        )


def check_policy_hooks(configs: list[Alias]) -> Iterable[CheckMessage]:
    valid = [config for config in configs if config.parsed() is not None]
    declared = {(config.endpoint, bucket) for config in valid for bucket in config.buckets()}
    for config in valid:
        for bucket, _policy in config.options.policy_hooks:
            if (config.endpoint, bucket) not in declared:
                yield _warning(
                    2,
                    f"MINIO_POLICY_HOOKS names bucket {bucket!r}, which no alias declares, "
                    "so initialize_buckets will not create it.",
                    "Add it to MINIO_PRIVATE_BUCKETS or MINIO_PUBLIC_BUCKETS.",
                    config,
                )


def check_static_shared_with_media(configs: list[Alias]) -> Iterable[CheckMessage]:
    valid = [config for config in configs if config.parsed() is not None]
    statics = {c.options.static_bucket: c for c in valid if c.is_static}
    for config in valid:
        if config.is_static:
            continue
        for bucket in sorted(set(config.buckets()) & set(statics)):
            yield _warning(
                3,
                f"Bucket {bucket!r} is both the static files bucket of {statics[bucket].name!r} and a "
                f"media bucket of {config.name!r}.",
                "Keep uploads and static files in separate buckets; clean_orphaned_minio_files never "
                "cleans the static bucket.",
                config,
            )


# The settings that named a storage before STORAGES (Django 5.1 removed them).
OLD_STORAGE_SETTINGS = {DEFAULT_STORAGE_ALIAS: "DEFAULT_FILE_STORAGE", "staticfiles": "STATICFILES_STORAGE"}


def _old_setting_in_use(name: str) -> bool:
    if django.VERSION >= (5, 1):
        return settings.is_overridden(name)
    # Django 4.2 and 5.0 fill DEFAULT_FILE_STORAGE in from STORAGES when STORAGES is set: not a use.
    return settings.is_overridden(name) and not settings.is_overridden("STORAGES")


def _ignored_storage_settings() -> dict[str, str]:
    """Alias -> MinIO backend of DEFAULT_FILE_STORAGE / STATICFILES_STORAGE, on a Django that ignores them."""
    if django.VERSION < (5, 1):  # Django 4.2 and 5.0 copy them into STORAGES
        return {}
    ignored = {}
    for alias, name in OLD_STORAGE_SETTINGS.items():
        backend = getattr(settings, name, None)
        if isinstance(backend, str) and role_of(backend) in STORAGE_ROLES:
            ignored[alias] = backend
    return ignored


def _what_to_paste(readers: list[Alias], ignored: dict[str, str]) -> tuple[dict[str, tuple], list[str]]:
    """alias -> (backend, reads the MINIO dict, has OPTIONS of its own), and what W005 says."""
    paste = {
        alias: (entry.get("BACKEND", ""), False, bool(entry.get("OPTIONS")))
        for alias, entry in settings.STORAGES.items()
    }
    said, bare = [], []
    for config in readers:
        if role_of(settings.STORAGES.get(config.name, {}).get("BACKEND", "")) in STORAGE_ROLES:
            paste[config.name] = (paste[config.name][0], True, False)
            old = OLD_STORAGE_SETTINGS.get(config.name)
            bare.append(old if old and _old_setting_in_use(old) else f"STORAGES[{config.name!r}]")
        else:  # no MinIO alias at all: the fields build MinioBackend(...) themselves
            paste["minio"] = ("django_minio_backend.models.MinioBackend", True, False)
            said.append(
                "MinioBackend(...) reads the top-level MINIO_* settings; "
                'with the STORAGES below, pass it storage_name="minio".'
            )
    if bare:
        said.insert(0, f"{' and '.join(bare)} have no OPTIONS, so they read the top-level MINIO_* settings.")
    for alias, backend in ignored.items():
        paste[alias] = (backend, True, False)
        said.append(f"Django {django.get_version()} ignores {OLD_STORAGE_SETTINGS[alias]} = {backend!r}.")
    return paste, said


def check_top_level_settings(configs: list[Alias]) -> Iterable[CheckMessage]:
    """W005: storages configured the 3.x way. Says which, and prints the STORAGES block to paste."""
    readers = [c for c in configs if c.top_level] if uses_top_level_settings() else []
    ignored = _ignored_storage_settings()
    if not readers and not ignored:
        return
    paste, said = _what_to_paste(readers, ignored)
    obsolete = ["the top-level MINIO_* settings"]
    obsolete += [name for name in OLD_STORAGE_SETTINGS.values() if _old_setting_in_use(name)]
    block = legacy.storages_block(top_level_settings(), [(alias, *spec) for alias, spec in paste.items()])
    yield Warning(
        f"{' '.join(said)} This is the 3.x style; it works, but STORAGES OPTIONS are the way now.",
        hint=f"Paste this into your settings and delete {', '.join(obsolete)}:\n\n{block}",
        obj="settings",
        id="minio_backend.W005",
    )


# Add checks that compare aliases here (every MinIO Alias in, CheckMessages out).
STORAGES_CHECKS: list[Callable[[list[Alias]], Iterable[CheckMessage]]] = [
    check_bucket_agreement,
    check_policy_hooks,
    check_static_shared_with_media,
    check_top_level_settings,
]


def check_multibucket_aliases(routers: list[Alias]) -> Iterable[CheckMessage]:
    """Each MinioMultiBucketStorage alias: its MINIO_URL_SCHEMES and the aliases they name."""
    for router in routers:
        for problem in router_problems(router):
            yield Error(
                problem,
                hint="Map each scheme to a STORAGES alias whose BACKEND is MinioBackend.",
                obj=f"STORAGES[{router.name!r}]['OPTIONS']",
                id="minio_backend.E030",
            )


def run_all(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Every MinIO check on every MinIO alias of settings.STORAGES. Makes no network request."""
    try:
        aliases = all_aliases()
    except ConfigurationError as error:  # the top-level settings contradict each other
        return [
            Error(
                str(error),
                hint="Fix the settings as the message says.",
                obj="settings",
                id="minio_backend.E005",
            )
        ]
    configs = [alias for alias in aliases if alias.role in STORAGE_ROLES]
    messages: list[CheckMessage] = list(check_multibucket_aliases([a for a in aliases if a.role == ROUTER]))
    for config in configs:
        for check in ALIAS_CHECKS:
            messages.extend(check(config))
    for check in STORAGES_CHECKS:
        messages.extend(check(configs))
    return messages
