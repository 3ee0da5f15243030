"""The one table of storage options: keys, defaults, types and validation.

Every ``MINIO_*`` key a storage understands is declared in ``OPTION_TABLE``. A storage's
OPTIONS are parsed once, by :func:`parse_options`, into a frozen :class:`StorageOptions`.
Nothing else in the package reads settings for storage options.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from .errors import ConfigurationError, CredentialsConfigError, EncryptionConfigError, PrivatePublicMixedError

MiB = 1024 * 1024
GiB = 1024 * MiB
MIN_PART_SIZE = 5 * MiB  # S3's smallest multipart part (all but the last)
MAX_PART_SIZE = 5 * GiB
MAX_URL_EXPIRY = timedelta(days=7)  # SigV4 presigned URLs cannot live longer

DEFAULT_GZIP_EXTENSIONS = (".css", ".js", ".svg", ".json", ".xml", ".txt", ".html", ".map")
DEFAULT_MEDIA_BUCKET = "auto-generated-bucket-media-files"
DEFAULT_STATIC_BUCKET = "auto-generated-bucket-static-files"

# Keys that older setups put in top-level settings; read there when OPTIONS lacks them.
TOP_LEVEL_FALLBACK_KEYS = (
    "MINIO_URL_CACHING_ENABLED",
    "MINIO_URL_CACHE_TIMEOUT",
    "MINIO_URL_CACHE_PREFIX",
    "MINIO_URL_CACHE_ALIAS",
)

_BUCKET_NAME = re.compile(r"^(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_OBJECT_HEADER_KEYS = ("MINIO_CACHE_CONTROL", "MINIO_CONTENT_DISPOSITION", "MINIO_CONTENT_LANGUAGE")

_UNSET = object()
_STATIC_KEYS = (("MINIO_ACCESS_KEY", "access_key"), ("MINIO_SECRET_KEY", "secret_key"))


# -- validators: (key, value) -> cleaned value, or ConfigurationError naming the key ----------


def _fail(key: str, problem: str, fix: str) -> ConfigurationError:
    return ConfigurationError(f"{key}: {problem}. {fix}")


def import_dotted(key: str, path: str) -> Any:
    """The object a dotted-path option names, or ConfigurationError naming the option."""
    try:
        return import_string(path)
    except ImportError as error:
        raise ConfigurationError(f"{key}: cannot import {path!r} ({error}). Fix the dotted path.") from None


def _type_name(value: Any) -> str:
    return type(value).__name__


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _fail(key, f"expected True or False, got {_type_name(value)} {value!r}", "Use a bool.")
    return value


def _optional_days(key: str, value: Any) -> int | None:
    return None if value is None else _int_between(1, 3650)(key, value)


def _optional_bool(key: str, value: Any) -> bool | None:
    return None if value is None else _bool(key, value)


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _fail(key, f"expected a string, got {_type_name(value)}", "Use a str.")
    return value


def _optional_text(key: str, value: Any) -> str | None:
    return None if value is None else _text(key, value)


def _endpoint(key: str, value: Any) -> str:
    value = _text(key, value).strip()
    if "://" in value:
        raise _fail(
            key,
            f"{value!r} contains a URL scheme",
            "Give host[:port] only, and choose the scheme with MINIO_USE_HTTPS "
            "(or MINIO_EXTERNAL_ENDPOINT_USE_HTTPS).",
        )
    if "/" in value.rstrip("/"):
        raise _fail(key, f"{value!r} contains a path", "Give host[:port] only.")
    return value.rstrip("/")


def _location(key: str, value: Any) -> str:
    value = _text(key, value).strip("/")
    if any(part in ("", ".", "..") for part in value.split("/")) and value:
        raise _fail(key, f"{value!r} has an empty, '.' or '..' segment", "Use a plain prefix like 'media'.")
    return value


def _public_base_url(key: str, value: Any) -> str | None:
    value = _optional_text(key, value)
    if value is None:
        return None
    if not value.startswith(("http://", "https://")):
        raise _fail(key, f"{value!r} is not an http(s) URL", "Use e.g. 'https://cdn.example.com/media'.")
    return value.rstrip("/")


def bucket_name_problem(name: Any) -> str | None:
    """Return why ``name`` is not a valid S3 bucket name, or None when it is valid."""
    if not isinstance(name, str):
        return f"expected a string, got {_type_name(name)}"
    if not _BUCKET_NAME.match(name) or ".." in name:
        return f"{name!r} is not a valid S3 bucket name (3-63 lowercase letters, digits, '.' and '-')"
    return None


def _bucket(key: str, value: Any) -> str:
    problem = bucket_name_problem(value)
    if problem:
        raise _fail(key, problem, "Rename the bucket.")
    return value


def _bucket_list(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise _fail(key, f"expected a list of bucket names, got {_type_name(value)}", "Use a list.")
    return tuple(_bucket(key, item) for item in value)


def _expiry(key: str, value: Any) -> timedelta:
    if not isinstance(value, timedelta):
        raise _fail(
            key,
            f"expected a datetime.timedelta, got {_type_name(value)} {value!r}",
            "Use e.g. timedelta(hours=12).",
        )
    if value <= timedelta(0) or value > MAX_URL_EXPIRY:
        raise _fail(key, f"{value} is outside (0, 7 days]", "S3 presigned URLs last at most 7 days.")
    return value


def _int_between(low: int, high: int) -> Callable[[str, Any], int]:
    def check(key: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(key, f"expected an int, got {_type_name(value)}", "Use a number of bytes.")
        if not low <= value <= high:
            raise _fail(key, f"{value} is outside [{low}, {high}]", f"Use a value from {low} to {high}.")
        return value

    return check


def _seconds(key: str, value: Any) -> float:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise _fail(key, f"expected a positive number of seconds, got {value!r}", "Use e.g. 5.")
    return float(value)


def _optional_seconds(key: str, value: Any) -> int | None:
    if value is None:
        return None
    return int(_seconds(key, value))


def _retries(key: str, value: Any) -> int:
    return _int_between(0, 20)(key, value)


def _policy_hooks(key: str, value: Any) -> tuple[tuple[str, dict], ...]:
    if not isinstance(value, list | tuple):
        raise _fail(key, f"expected a list of (bucket, policy dict), got {_type_name(value)}", "Use a list.")
    hooks = []
    for item in value:
        if not (isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[1], dict)):
            raise _fail(key, f"{item!r} is not a (bucket name, policy dict) pair", "Fix that entry.")
        hooks.append((_bucket(key, item[0]), item[1]))
    return tuple(hooks)


def _http_client(key: str, value: Any) -> Any:
    if value is not None and not callable(getattr(value, "urlopen", None)):
        raise _fail(
            key, f"expected a urllib3.PoolManager, got {_type_name(value)}", "Pass urllib3.PoolManager(...)."
        )
    return value


def _str_or_callable(key: str, value: Any) -> str | Callable[[str], str] | None:
    if value is None or value == "" or callable(value):
        return value or None
    return _text(key, value)


_URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")


def _url_schemes(key: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise _fail(key, f"expected a dict, got {_type_name(value)}", 'Use {"minio": "default"}.')
    for scheme, alias in value.items():
        if not isinstance(scheme, str) or not _URL_SCHEME.match(scheme):
            raise _fail(
                key, f"{scheme!r} is not a URL scheme", "Use lowercase letters, digits, '+', '-' and '.'."
            )
        if not isinstance(alias, str) or not alias:
            raise _fail(key, f"scheme {scheme!r} must map to a STORAGES alias name", "Use a str.")
    return dict(value)


def _extensions(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise _fail(
            key, f"expected a list of extensions, got {_type_name(value)}", "Use e.g. ['.css', '.js']."
        )
    for item in value:
        if not (isinstance(item, str) and item.startswith(".") and len(item) > 1):
            raise _fail(key, f"{item!r} is not a file name extension", "Write extensions like '.css'.")
    return tuple(item.lower() for item in value)


def _metadata(key: str, value: Any) -> dict:
    if not isinstance(value, Mapping):
        raise _fail(key, f"expected a dict, got {_type_name(value)}", "Use {'name': value or callable}.")
    for meta_key, meta_value in value.items():
        if not isinstance(meta_key, str) or not (isinstance(meta_value, str) or callable(meta_value)):
            raise _fail(key, f"entry {meta_key!r} must map a str to a str or a callable", "Fix that entry.")
    return dict(value)


SSE_MODES = ("SSE-S3", "SSE-KMS", "SSE-C")
_STORAGE_CLASS = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _storage_class(key: str, value: Any) -> str | None:
    value = _optional_text(key, value)
    if value is not None and not _STORAGE_CLASS.match(value):
        raise _fail(
            key, f"{value!r} is not an S3 storage class", "Use e.g. 'STANDARD' or 'REDUCED_REDUNDANCY'."
        )
    return value or None


def _sse_mode(key: str, value: Any) -> str | None:
    if value is not None and value not in SSE_MODES:
        raise _fail(key, f"{value!r} is not one of {', '.join(SSE_MODES)}", "Use one of them, or None.")
    return value


def _kms_context(key: str, value: Any) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise _fail(key, f"expected a dict with str keys, got {_type_name(value)}", "Use {'key': 'value'}.")
    return dict(value)


def _key_source(key: str, value: Any) -> Any:
    """A secret given directly (bytes), or where to get it: a callable or a dotted path to one."""
    if value is None or isinstance(value, bytes | str) or callable(value):
        return value or None
    raise _fail(
        key,
        f"expected 32 bytes, a callable returning them, or a dotted path to one; got {_type_name(value)}",
        "See the README's server-side encryption section.",
    )


def _credentials_provider(key: str, value: Any) -> Any:
    """A minio.credentials Provider, a callable building one, or a dotted path to either."""
    if (
        value is None
        or isinstance(value, str)
        or callable(getattr(value, "retrieve", None))
        or callable(value)
    ):
        return value or None
    raise _fail(
        key,
        f"expected a minio.credentials provider, a callable or a dotted path, got {_type_name(value)}",
        "Use e.g. 'minio.credentials.EnvAWSProvider' or IamAwsProvider().",
    )


# -- the table --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Option:
    key: str
    attr: str
    default: Any  # a value, or a callable(parsed: dict) -> value for derived defaults
    check: Callable[[str, Any], Any]
    doc: str


def _same_as(attr: str) -> Callable[[dict], Any]:
    return lambda parsed: parsed[attr]


OPTION_TABLE: tuple[Option, ...] = (
    Option("MINIO_ENDPOINT", "endpoint", "", _endpoint, "host[:port] Django uses for I/O."),
    Option(
        "MINIO_EXTERNAL_ENDPOINT",
        "external_endpoint",
        _same_as("endpoint"),
        _endpoint,
        "host[:port] used in URLs given to users.",
    ),
    Option("MINIO_USE_HTTPS", "use_https", False, _bool, "Use https for MINIO_ENDPOINT."),
    Option(
        "MINIO_EXTERNAL_ENDPOINT_USE_HTTPS",
        "external_use_https",
        _same_as("use_https"),
        _bool,
        "Use https in URLs for MINIO_EXTERNAL_ENDPOINT.",
    ),
    Option("MINIO_ACCESS_KEY", "access_key", "", _text, "Access key."),
    Option("MINIO_SECRET_KEY", "secret_key", "", _text, "Secret key."),
    Option("MINIO_REGION", "region", "us-east-1", _text, "Region used for signing (no lookup)."),
    Option("MINIO_PRIVATE_BUCKETS", "private_buckets", (), _bucket_list, "Buckets served by presigned URLs."),
    Option("MINIO_PUBLIC_BUCKETS", "public_buckets", (), _bucket_list, "Buckets served by plain URLs."),
    Option("MINIO_DEFAULT_BUCKET", "default_bucket", DEFAULT_MEDIA_BUCKET, _bucket, "Media bucket."),
    Option(
        "MINIO_STATIC_FILES_BUCKET",
        "static_bucket",
        DEFAULT_STATIC_BUCKET,
        _bucket,
        "Static files bucket (always public).",
    ),
    Option("MINIO_URL_EXPIRY_HOURS", "url_expiry", timedelta(days=7), _expiry, "Presigned URL lifetime."),
    Option(
        "MINIO_CONSISTENCY_CHECK_ON_START",
        "consistency_check_on_start",
        False,
        _bool,
        "Create and fix buckets when Django starts.",
    ),
    Option(
        "MINIO_BUCKET_CHECK_ON_SAVE",
        "bucket_check_on_save",
        False,
        _bool,
        "Create a missing bucket on the first save.",
    ),
    Option("MINIO_POLICY_HOOKS", "policy_hooks", (), _policy_hooks, "(bucket, policy) pairs to apply."),
    Option("MINIO_HTTP_CLIENT", "http_client", None, _http_client, "A urllib3.PoolManager to use."),
    Option(
        "MINIO_MULTIPART_UPLOAD",
        "multipart_upload",
        False,
        _bool,
        "Use MINIO_MULTIPART_THRESHOLD/PART_SIZE instead of the defaults.",
    ),
    Option(
        "MINIO_MULTIPART_THRESHOLD",
        "multipart_threshold",
        10 * MiB,
        _int_between(0, MAX_PART_SIZE),
        "Uploads larger than this go multipart.",
    ),
    Option(
        "MINIO_MULTIPART_PART_SIZE",
        "multipart_part_size",
        10 * MiB,
        _int_between(MIN_PART_SIZE, MAX_PART_SIZE),
        "Multipart part size.",
    ),
    Option("MINIO_URL_CACHING_ENABLED", "url_caching_enabled", False, _bool, "Cache presigned URLs."),
    Option(
        "MINIO_URL_CACHE_TIMEOUT",
        "url_cache_timeout",
        None,
        _optional_seconds,
        "Seconds a cached URL is kept (default 80% of the expiry, never longer than it).",
    ),
    Option("MINIO_URL_CACHE_PREFIX", "url_cache_prefix", "minio_url_", _text, "Cache key prefix."),
    Option(
        "MINIO_URL_CACHE_ALIAS",
        "url_cache_alias",
        "default",
        _text,
        "The CACHES alias that holds cached URLs.",
    ),
    # Options this package adds.
    Option("MINIO_CONNECT_TIMEOUT", "connect_timeout", 5.0, _seconds, "TCP connect timeout, seconds."),
    Option("MINIO_READ_TIMEOUT", "read_timeout", 60.0, _seconds, "Socket read timeout, seconds."),
    Option(
        "MINIO_MAX_RETRIES", "max_retries", 3, _retries, "Retries on connection errors, 5xx and SlowDown."
    ),
    Option(
        "MINIO_HEALTH_CHECK_TIMEOUT",
        "health_check_timeout",
        3.0,
        _seconds,
        "Total time the health probe may take, seconds.",
    ),
    Option(
        "MINIO_CONDITIONAL_WRITES",
        "conditional_writes",
        None,
        _optional_bool,
        "Write new names with If-None-Match (race-free). None: learned from the server once per "
        "process; False: HEAD then PUT.",
    ),
    Option("MINIO_READ_ONLY", "read_only", False, _bool, "Refuse save() and delete()."),
    Option(
        "MINIO_ABORT_INCOMPLETE_UPLOADS_DAYS",
        "abort_incomplete_uploads_days",
        None,
        _optional_days,
        "initialize_buckets installs a lifecycle rule aborting incomplete multipart uploads after this "
        "many days (None: leave lifecycle rules alone).",
    ),
    Option("MINIO_LOCATION", "location", "", _location, "Key prefix every object name lives under."),
    Option(
        "MINIO_PUBLIC_BASE_URL",
        "public_base_url",
        None,
        _public_base_url,
        "Base URL (CDN/proxy) for public buckets' URLs.",
    ),
    Option(
        "MINIO_CACHE_CONTROL",
        "cache_control",
        None,
        _str_or_callable,
        "Cache-Control for uploads: a str or callable(name).",
    ),
    Option(
        "MINIO_CONTENT_DISPOSITION",
        "content_disposition",
        None,
        _str_or_callable,
        "Content-Disposition for uploads: a str or callable(name).",
    ),
    Option(
        "MINIO_CONTENT_LANGUAGE",
        "content_language",
        None,
        _str_or_callable,
        "Content-Language for uploads: a str or callable(name).",
    ),
    Option("MINIO_METADATA", "metadata", {}, _metadata, "User metadata for uploads: values or callables."),
    Option(
        "MINIO_URL_SCHEMES",
        "url_schemes",
        {},
        _url_schemes,
        "MinioMultiBucketStorage: URL scheme -> STORAGES alias; the first scheme takes plain names.",
    ),
    Option(
        "MINIO_GZIP",
        "gzip",
        None,
        _optional_bool,
        "Store files with MINIO_GZIP_EXTENSIONS gzipped when smaller; None: on for static, off for media.",
    ),
    Option(
        "MINIO_GZIP_EXTENSIONS",
        "gzip_extensions",
        DEFAULT_GZIP_EXTENSIONS,
        _extensions,
        "File name extensions MINIO_GZIP compresses.",
    ),
    Option(
        "MINIO_STATIC_UPLOAD_WORKERS",
        "static_upload_workers",
        16,  # measured: benchmarks/results/collectstatic.md
        _int_between(1, 64),
        "Parallel uploads inside the collectstatic context.",
    ),
    Option("MINIO_SESSION_TOKEN", "session_token", "", _text, "Session token of temporary credentials."),
    Option(
        "MINIO_CREDENTIALS_PROVIDER",
        "credentials_provider",
        None,
        _credentials_provider,
        "A minio.credentials provider (or a callable/dotted path building one) instead of static keys.",
    ),
    Option(
        "MINIO_STORAGE_CLASS",
        "storage_class",
        None,
        _storage_class,
        "x-amz-storage-class of uploaded objects.",
    ),
    Option(
        "MINIO_SERVER_SIDE_ENCRYPTION",
        "server_side_encryption",
        None,
        _sse_mode,
        "Encrypt uploads: 'SSE-S3', 'SSE-KMS' or 'SSE-C'.",
    ),
    Option("MINIO_SSE_KMS_KEY_ID", "sse_kms_key_id", None, _optional_text, "KMS key id for SSE-KMS."),
    Option("MINIO_SSE_KMS_CONTEXT", "sse_kms_context", None, _kms_context, "Encryption context for SSE-KMS."),
    Option(
        "MINIO_SSE_CUSTOMER_KEY",
        "sse_customer_key",
        None,
        _key_source,
        "SSE-C key: 32 bytes, or a callable/dotted path returning them.",
    ),
)

OPTION_KEYS = frozenset(option.key for option in OPTION_TABLE)


@dataclasses.dataclass(frozen=True)
class StorageOptions:
    """The parsed, validated OPTIONS of one storage. Immutable."""

    endpoint: str
    external_endpoint: str
    use_https: bool
    external_use_https: bool
    access_key: str = dataclasses.field(repr=False)
    secret_key: str = dataclasses.field(repr=False)
    region: str = "us-east-1"
    private_buckets: tuple[str, ...] = ()
    public_buckets: tuple[str, ...] = ()
    default_bucket: str = DEFAULT_MEDIA_BUCKET
    static_bucket: str = DEFAULT_STATIC_BUCKET
    url_expiry: timedelta = timedelta(days=7)
    consistency_check_on_start: bool = False
    bucket_check_on_save: bool = False
    policy_hooks: tuple[tuple[str, dict], ...] = ()
    http_client: Any = dataclasses.field(default=None, repr=False, compare=False)
    multipart_upload: bool = False
    multipart_threshold: int = 10 * MiB
    multipart_part_size: int = 10 * MiB
    url_caching_enabled: bool = False
    url_cache_timeout: int | None = None
    url_cache_prefix: str = "minio_url_"
    url_cache_alias: str = "default"
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    max_retries: int = 3
    health_check_timeout: float = 3.0
    conditional_writes: bool | None = None
    read_only: bool = False
    abort_incomplete_uploads_days: int | None = None
    location: str = ""
    public_base_url: str | None = None
    cache_control: Any = None
    content_disposition: Any = None
    content_language: Any = None
    metadata: Any = dataclasses.field(default_factory=dict)
    url_schemes: Any = dataclasses.field(default_factory=dict)
    gzip: bool | None = None
    gzip_extensions: tuple[str, ...] = DEFAULT_GZIP_EXTENSIONS
    static_upload_workers: int = 16
    session_token: str = dataclasses.field(default="", repr=False)
    credentials_provider: Any = dataclasses.field(default=None, repr=False, compare=False)
    storage_class: str | None = None
    server_side_encryption: str | None = None
    sse_kms_key_id: str | None = None
    sse_kms_context: Any = None
    sse_customer_key: Any = dataclasses.field(default=None, repr=False, compare=False)

    def __deepcopy__(self, memo: dict) -> StorageOptions:
        return self  # immutable: copies share it, and with it any MINIO_HTTP_CLIENT pool

    def __reduce__(self) -> tuple:
        # A urllib3 pool belongs to its process and cannot be pickled: an unpickled storage
        # builds its default pool from the timeouts and retries in these options.
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return (_rebuild_options, (dict(fields, http_client=None),))

    @property
    def effective_url_cache_timeout(self) -> int:
        """Seconds a cached URL may live: the configured value, clamped below the URL's expiry."""
        expiry = int(self.url_expiry.total_seconds())
        if self.url_cache_timeout is None:
            return int(expiry * 0.8)
        return min(self.url_cache_timeout, expiry)

    @property
    def upload_part_size(self) -> int:
        return self.multipart_part_size if self.multipart_upload else 10 * MiB

    @property
    def upload_threshold(self) -> int:
        return self.multipart_threshold if self.multipart_upload else 10 * MiB


def _rebuild_options(fields: dict[str, Any]) -> StorageOptions:
    return StorageOptions(**fields)


def closest_key(key: str) -> str | None:
    matches = difflib.get_close_matches(key, sorted(OPTION_KEYS), n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown_key_error(key: str) -> ConfigurationError:
    suggestion = closest_key(key)
    fix = f"Did you mean {suggestion}?" if suggestion else "Remove it; see the README's option table."
    return ConfigurationError(f"{key}: unknown storage option. {fix}")


def _with_top_level_fallbacks(raw: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(raw)
    for key in TOP_LEVEL_FALLBACK_KEYS:
        if key not in merged and hasattr(settings, key):
            merged[key] = getattr(settings, key)
    return merged


def parse_options(raw: Mapping[str, Any]) -> StorageOptions:
    """Validate a storage's OPTIONS mapping and return the frozen options.

    Raises ConfigurationError naming the key for an unknown key, a wrong type or a bad value,
    and PrivatePublicMixedError for a bucket listed as both private and public.
    """
    raw = _with_top_level_fallbacks(raw)
    for key in raw:
        if key not in OPTION_KEYS:
            raise unknown_key_error(key)
    parsed: dict[str, Any] = {}
    for option in OPTION_TABLE:
        value = raw.get(option.key, _UNSET)
        if value is _UNSET or (value is None and callable(option.default)):
            parsed[option.attr] = option.default(parsed) if callable(option.default) else option.default
        else:
            parsed[option.attr] = option.check(option.key, value)
    for problem in (credentials_problem(parsed), encryption_problem(parsed)):
        if problem:
            raise problem
    both = sorted(set(parsed["private_buckets"]) & set(parsed["public_buckets"]))
    if both:
        raise PrivatePublicMixedError(
            f"MINIO_PRIVATE_BUCKETS and MINIO_PUBLIC_BUCKETS both list {', '.join(both)}. "
            "Keep each bucket in one list."
        )
    return StorageOptions(**parsed)


def credentials_problem(parsed: Mapping[str, Any]) -> CredentialsConfigError | None:
    """What is wrong with the combination of credential options (parsed attribute names), if anything."""
    static = [key for key, attr in _STATIC_KEYS if parsed.get(attr)]
    if parsed.get("credentials_provider") is not None and static:
        return CredentialsConfigError(
            f"MINIO_CREDENTIALS_PROVIDER is set together with {', '.join(static)}. "
            "Use either the provider or static keys: remove one."
        )
    if parsed.get("session_token") and not (parsed.get("access_key") and parsed.get("secret_key")):
        return CredentialsConfigError(
            "MINIO_SESSION_TOKEN is set without MINIO_ACCESS_KEY and MINIO_SECRET_KEY. A session token "
            "belongs to a temporary access key and secret key: set all three."
        )
    return None


def encryption_problem(parsed: Mapping[str, Any]) -> EncryptionConfigError | None:
    """What is wrong with the combination of encryption options, if anything."""
    mode = parsed.get("server_side_encryption")
    if mode == "SSE-KMS" and not parsed.get("sse_kms_key_id"):
        return EncryptionConfigError(
            "MINIO_SERVER_SIDE_ENCRYPTION = 'SSE-KMS' needs MINIO_SSE_KMS_KEY_ID: set the KMS key id."
        )
    if mode == "SSE-C" and parsed.get("sse_customer_key") is None:
        return EncryptionConfigError(
            "MINIO_SERVER_SIDE_ENCRYPTION = 'SSE-C' needs MINIO_SSE_CUSTOMER_KEY: give 32 bytes, or a "
            "callable or dotted path returning them."
        )
    for key, attr, needs in (
        ("MINIO_SSE_KMS_KEY_ID", "sse_kms_key_id", "SSE-KMS"),
        ("MINIO_SSE_KMS_CONTEXT", "sse_kms_context", "SSE-KMS"),
        ("MINIO_SSE_CUSTOMER_KEY", "sse_customer_key", "SSE-C"),
    ):
        if parsed.get(attr) is not None and mode != needs:
            return EncryptionConfigError(
                f"{key} is set but MINIO_SERVER_SIDE_ENCRYPTION is {mode!r}. "
                f"Set MINIO_SERVER_SIDE_ENCRYPTION = {needs!r}, or remove {key}."
            )
    return None


def option_problems(raw: Mapping[str, Any]) -> list[ConfigurationError]:
    """Every problem in ``raw``, not just the first; used by the system checks."""
    problems: list[ConfigurationError] = []
    raw = _with_top_level_fallbacks(raw)
    for key in raw:
        if key not in OPTION_KEYS:
            problems.append(unknown_key_error(key))
    for option in OPTION_TABLE:
        if option.key in raw and raw[option.key] is not None:
            try:
                option.check(option.key, raw[option.key])
            except ConfigurationError as error:
                problems.append(error)
    if not problems:
        try:
            parse_options(raw)
        except ConfigurationError as error:
            problems.append(error)
    return problems


# -- where a storage's raw options come from ----------------------------------------------------

# The 3.x line read its options from top-level settings and called the default bucket this.
LEGACY_DEFAULT_BUCKET_KEY = "MINIO_MEDIA_FILES_BUCKET"


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
    """A STORAGES entry's raw options, and whether they are the 3.x top-level settings.

    An alias without OPTIONS (``DEFAULT_FILE_STORAGE`` on Django 4.2 makes one, and so does a
    bare ``{"BACKEND": ...}``) reads the top-level settings, as the 3.x line did.
    """
    options = (entry or {}).get("OPTIONS")
    if options:
        return dict(options), False
    return top_level_settings(), True


def _alias_given(option_kwargs: Mapping[str, Any], preferred: str) -> str | None:
    """The alias whose MINIO_* OPTIONS equal ``option_kwargs`` (Django passed them), if any.

    Several aliases may have equal OPTIONS; ``preferred`` (the class's own alias) wins then.
    """
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
    """The alias a storage belongs to and its parsed options.

    - ``storage_name`` given: that alias's options, with ``option_kwargs`` overriding single keys.
    - Not given, and ``option_kwargs`` equal some alias's OPTIONS: Django built the storage from
      ``STORAGES[alias]``, so exactly those options (``default_alias`` wins a tie).
    - Otherwise: ``default_alias``'s options, with ``option_kwargs`` overriding single keys.

    An alias without OPTIONS reads the 3.x top-level settings (see :func:`alias_raw_options`).
    """
    if storage_name and storage_name not in settings.STORAGES:
        raise ConfigurationError(f"STORAGES has no alias {storage_name!r} (storage_name).")
    if not storage_name and option_kwargs:
        given = _alias_given(option_kwargs, default_alias)
        if given is not None:
            return given, parse_options(option_kwargs)
    alias = storage_name or default_alias
    raw, _ = alias_raw_options(settings.STORAGES.get(alias))
    return alias, parse_options({**raw, **option_kwargs})
