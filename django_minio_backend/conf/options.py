"""Every storage option, declared once: its OPTIONS key, default, validator and documentation.

Each field of :class:`StorageOptions` is an option. ``OPTION_TABLE`` (the system checks, the
"did you mean" hints and the README's reference table in ``reference.py`` read it) is derived from
those fields, so nothing is written twice. :func:`parse_options` validates a raw mapping into the
frozen object; where the raw mapping comes from (OPTIONS, keyword arguments, 3.x settings) is
``sources.py``.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from ..errors import ConfigurationError, PrivatePublicMixedError
from . import validators as check
from .validators import UPLOAD_KWARGS, GiB, MiB  # noqa: F401 (re-exported: sizes; upload arguments)

DEFAULT_GZIP_EXTENSIONS = (".css", ".js", ".svg", ".json", ".xml", ".txt", ".html", ".map")
DEFAULT_MEDIA_BUCKET = "auto-generated-bucket-media-files"
DEFAULT_STATIC_BUCKET = "auto-generated-bucket-static-files"
DEFAULT_PART_SIZE = 10 * MiB
_UNSET = object()


@dataclasses.dataclass(frozen=True)
class SameAs:
    """A default that copies another option's parsed value (e.g. the external endpoint)."""

    attr: str


@dataclasses.dataclass(frozen=True)
class Option:
    """One row of the option table, read from a StorageOptions field."""

    key: str
    attr: str
    default: Any
    check: Callable[[str, Any], Any]
    doc: str
    shown_default: str
    new: bool


def option(
    key: str,
    default: Any,
    validator: Callable[[str, Any], Any],
    doc: str,
    *,
    shown: str | None = None,
    new: bool = True,
    secret: bool = False,
    identity: bool = True,
) -> Any:
    """A StorageOptions field. ``secret`` keeps it out of repr; ``identity=False`` out of ==."""
    meta = {"key": key, "check": validator, "doc": doc, "shown": shown, "new": new}
    kwargs: dict[str, Any] = {"repr": not secret, "compare": identity, "metadata": meta}
    if isinstance(default, dict):
        return dataclasses.field(default_factory=dict, **kwargs)
    return dataclasses.field(default=default, **kwargs)


_NEW_CACHE = "Also read from top-level settings."


@dataclasses.dataclass(frozen=True)
class StorageOptions:
    """The parsed, validated OPTIONS of one storage. Immutable."""

    # fmt: off
    # The 4.x line's options.
    endpoint: str = option(
        "MINIO_ENDPOINT", "", check.endpoint,
        "`host[:port]` that Django connects to for every read and write. No scheme, no path.",
        shown="(required)", new=False,
    )
    external_endpoint: str = option(
        "MINIO_EXTERNAL_ENDPOINT", SameAs("endpoint"), check.endpoint,
        "`host[:port]` used in the URLs that browsers get (presigned and public). Use it when Django "
        "reaches the server on an internal address.",
        shown="= `MINIO_ENDPOINT`", new=False,
    )
    use_https: bool = option(
        "MINIO_USE_HTTPS", False, check.boolean, "Talk to `MINIO_ENDPOINT` over TLS.", new=False
    )
    external_use_https: bool = option(
        "MINIO_EXTERNAL_ENDPOINT_USE_HTTPS", SameAs("use_https"), check.boolean,
        "`https://` in URLs for `MINIO_EXTERNAL_ENDPOINT`.", shown="= `MINIO_USE_HTTPS`", new=False,
    )
    access_key: str = option(
        "MINIO_ACCESS_KEY", "", check.text, "Access key. Never printed, logged or written to migrations.",
        shown="(required)", new=False, secret=True,
    )
    secret_key: str = option(
        "MINIO_SECRET_KEY", "", check.text, "Secret key. Never printed, logged or written to migrations.",
        shown="(required)", new=False, secret=True,
    )
    region: str = option(
        "MINIO_REGION", "us-east-1", check.text,
        "Region for request signing. Because it is known, URLs are signed without asking the server.",
        new=False,
    )
    private_buckets: tuple[str, ...] = option(
        "MINIO_PRIVATE_BUCKETS", (), check.bucket_list,
        "Buckets whose objects are served by presigned URLs that expire.", new=False,
    )
    public_buckets: tuple[str, ...] = option(
        "MINIO_PUBLIC_BUCKETS", (), check.bucket_list,
        "Buckets whose objects anyone can read by a plain URL. Nobody can list them.", new=False,
    )
    default_bucket: str = option(
        "MINIO_DEFAULT_BUCKET", DEFAULT_MEDIA_BUCKET, check.bucket,
        "Bucket of `MinioBackend()` without `bucket_name`. Private unless listed in `MINIO_PUBLIC_BUCKETS`.",
        new=False,
    )
    static_bucket: str = option(
        "MINIO_STATIC_FILES_BUCKET", DEFAULT_STATIC_BUCKET, check.bucket,
        "Bucket of `MinioBackendStatic`. Always public.", new=False,
    )
    url_expiry: timedelta = option(
        "MINIO_URL_EXPIRY_HOURS", timedelta(days=7), check.expiry,
        "Lifetime of presigned URLs, a `timedelta` up to 7 days (the S3 limit).",
        shown="`timedelta(days=7)`", new=False,
    )
    consistency_check_on_start: bool = option(
        "MINIO_CONSISTENCY_CHECK_ON_START", False, check.boolean,
        "Run the bucket check of `initialize_buckets` once per process when Django starts. Off: no "
        "network I/O at start.", new=False,
    )
    bucket_check_on_save: bool = option(
        "MINIO_BUCKET_CHECK_ON_SAVE", False, check.boolean,
        "Create a missing bucket on the first save; remembered per process, so later saves make no "
        "extra request.", new=False,
    )
    policy_hooks: tuple[tuple[str, dict], ...] = option(
        "MINIO_POLICY_HOOKS", (), check.policy_hooks,
        "List of `(bucket, policy dict)` applied by `initialize_buckets`. See "
        "[examples/policy_hook.example.py](../examples/policy_hook.example.py).", new=False,
    )
    http_client: Any = option(
        "MINIO_HTTP_CLIENT", None, check.http_client,
        "Your own `urllib3.PoolManager` (e.g. another pool size). When set, the timeout, retry, CA "
        "bundle and proxy keys below do not apply to it (check warning `W050`).",
        new=False, secret=True, identity=False,
    )
    multipart_upload: bool = option(
        "MINIO_MULTIPART_UPLOAD", False, check.boolean,
        "Use `MINIO_MULTIPART_THRESHOLD` and `MINIO_MULTIPART_PART_SIZE` below; when `False` both "
        "are 10 MiB.", new=False,
    )
    multipart_threshold: int = option(
        "MINIO_MULTIPART_THRESHOLD", DEFAULT_PART_SIZE, check.int_between(0, check.MAX_PART_SIZE),
        "Uploads of known size up to this go in one PUT; larger ones, and uploads of unknown size, go "
        "multipart.", shown="`10 * 1024 * 1024`", new=False,
    )
    multipart_part_size: int = option(
        "MINIO_MULTIPART_PART_SIZE", DEFAULT_PART_SIZE,
        check.int_between(check.MIN_PART_SIZE, check.MAX_PART_SIZE),
        "Size of each multipart part (5 MiB to 5 GiB). Memory per upload is bounded by it.",
        shown="`10 * 1024 * 1024`", new=False,
    )
    url_caching_enabled: bool = option(
        "MINIO_URL_CACHING_ENABLED", False, check.boolean,
        f"Keep presigned URLs in Django's cache. {_NEW_CACHE}", new=False,
    )
    url_cache_timeout: int | None = option(
        "MINIO_URL_CACHE_TIMEOUT", None, check.whole_seconds,
        f"Seconds a cached URL is kept; clamped to the URL's own lifetime. {_NEW_CACHE}",
        shown="80% of the expiry", new=False,
    )
    url_cache_prefix: str = option(
        "MINIO_URL_CACHE_PREFIX", "minio_url_", check.text,
        f"Prefix of the cache keys. {_NEW_CACHE}", new=False,
    )
    url_cache_alias: str = option(
        "MINIO_URL_CACHE_ALIAS", "default", check.text,
        f"The `CACHES` alias that holds cached URLs. {_NEW_CACHE}",
    )
    # Options this package adds.
    connect_timeout: float = option(
        "MINIO_CONNECT_TIMEOUT", 5.0, check.seconds, "Seconds to open a TCP connection."
    )
    read_timeout: float = option(
        "MINIO_READ_TIMEOUT", 60.0, check.seconds, "Seconds to wait for data on an open connection."
    )
    max_retries: int = option(
        "MINIO_MAX_RETRIES", 3, check.int_between(0, 20, "retries"),
        "Retries on connection errors, 5xx answers and SlowDown, with back-off.",
    )
    addressing_style: str = option(
        "MINIO_ADDRESSING_STYLE", "auto", check.addressing_style,
        '`"path"` (`host/bucket/key`) or `"virtual"` (`bucket.host/key`) for requests, presigned and '
        'public URLs. `"auto"`: minio\'s choice (virtual-host on AWS, else path) for requests and '
        "presigned URLs, path style for public URLs. See "
        "[Connecting to other providers](servers.md#connecting-to-other-providers).",
    )
    ca_bundle: str | None = option(
        "MINIO_CA_BUNDLE", None, check.ca_bundle,
        "Path of a PEM file of the CA certificates that https endpoints (and an https proxy) are "
        "checked against. `None`: the file `SSL_CERT_FILE` names, else certifi's bundle.",
    )
    proxy: Any = option(
        "MINIO_PROXY", None, check.proxy,
        "HTTP(S) proxy for every request, `http://user:password@host:port` (https endpoints through a "
        "CONNECT tunnel). The credentials go in `Proxy-Authorization` only, never in repr, logs or errors.",
    )
    conditional_writes: bool | None = option(
        "MINIO_CONDITIONAL_WRITES", None, check.boolean,
        "Create new names with `If-None-Match: *`, so concurrent saves never overwrite each other (see "
        "below). `None`: find out once per process whether the server honours it (a 3-request probe), "
        "else fall back to HEAD then PUT with a warning; `True`: trust it; `False`: always HEAD then "
        "PUT (check warning `W012`).",
    )
    server_capabilities: Any = option(
        "MINIO_SERVER_CAPABILITIES", {}, check.server_capabilities,
        "What the server can do, stated up front so that it is not learned (see "
        "[What a server can do](capabilities.md)): e.g. "
        '`{"presigned-post": False, "bucket-policies": False}`. Keys: `if-none-match-put` (as '
        "`MINIO_CONDITIONAL_WRITES`), `if-none-match-complete`, `bucket-policies`, `presigned-post`, "
        "`content-md5`, `tagging`, `encryption:SSE-C`, `encryption:SSE-KMS`, `encryption:SSE-S3`.",
    )
    request_hook: Any = option("MINIO_REQUEST_HOOK", None, check.hook, "Called per request.", identity=False)
    stat_cache: bool = option("MINIO_STAT_CACHE", False, check.boolean, "Cache exists/size/modified time "
        "and image dimensions in Django's cache ([Observability](observability.md)).")
    stat_cache_timeout: int = option("MINIO_STAT_CACHE_TIMEOUT", 300, check.whole_seconds, "Seconds kept.")
    stat_cache_alias: str = option("MINIO_STAT_CACHE_ALIAS", "default", check.text, "Its `CACHES` alias.")
    health_check_timeout: float = option(
        "MINIO_HEALTH_CHECK_TIMEOUT", 3.0, check.seconds,
        "Upper bound, in seconds, on `is_minio_available()`.",
    )
    read_only: bool = option(
        "MINIO_READ_ONLY", False, check.boolean,
        "`save()` and `delete()` raise `ReadOnlyStorageError`; reads and URLs still work.",
    )
    abort_incomplete_uploads_days: int | None = option(
        "MINIO_ABORT_INCOMPLETE_UPLOADS_DAYS", None, check.int_between(1, 3650, "days"),
        "`initialize_buckets` (and the start-up check) installs a bucket lifecycle rule that aborts "
        "incomplete multipart uploads after this many days, keeping the bucket's other rules; `None` "
        "leaves lifecycle rules alone.",
    )
    location: str = option(
        "MINIO_LOCATION", "", check.location,
        "Key prefix: every object of the storage lives under it, and no name can escape it.",
    )
    public_base_url: str | None = option(
        "MINIO_PUBLIC_BASE_URL", None, check.public_base_url,
        "Base URL (CDN or proxy, e.g. `https://cdn.example.com/media`) for public buckets' URLs.",
    )
    cache_control: Any = option(
        "MINIO_CACHE_CONTROL", None, check.str_or_callable,
        "`Cache-Control` of uploaded objects: a string, or a callable of the name.",
    )
    content_disposition: Any = option(
        "MINIO_CONTENT_DISPOSITION", None, check.str_or_callable,
        "`Content-Disposition` of uploaded objects: a string, or a callable of the name.",
    )
    content_language: Any = option(
        "MINIO_CONTENT_LANGUAGE", None, check.str_or_callable,
        "`Content-Language` of uploaded objects: a string, or a callable of the name.",
    )
    metadata: Any = option(
        "MINIO_METADATA", {}, check.metadata,
        "User metadata (`x-amz-meta-*`) of uploaded objects: values are strings or callables of the name.",
    )
    url_schemes: Any = option(
        "MINIO_URL_SCHEMES", {}, check.url_schemes,
        "Only for `MinioMultiBucketStorage`: URL scheme → `STORAGES` alias of a `MinioBackend`, e.g. "
        '`{"minio": "default", "archive": "archive"}`. The first scheme takes plain names. See '
        "[Full-URL names](storage-api.md#full-url-names-one-field-many-buckets-and-servers).",
    )
    gzip: bool | None = option(
        "MINIO_GZIP", None, check.boolean,
        "Store files whose extension is in `MINIO_GZIP_EXTENSIONS` with `Content-Encoding: gzip` when "
        "that is smaller. `None`: on for the static storages, off for media.",
    )
    gzip_extensions: tuple[str, ...] = option(
        "MINIO_GZIP_EXTENSIONS", DEFAULT_GZIP_EXTENSIONS, check.extensions,
        "The extensions `MINIO_GZIP` compresses (case-insensitive).",
    )
    num_parallel_uploads: int = option(  # the default was measured: benchmarks/results/throughput.md
        "MINIO_NUM_PARALLEL_UPLOADS", 4, check.int_between(1, check.MAX_PARALLEL_PARTS, "parts"),
        "Parts of one multipart upload in flight (1 to 16; `num_parallel_uploads=` overrides it). A file is "
        "read range by range (no part buffers); a stream holds this many parts in memory.",
    )
    static_keep_only_hashed_files: bool = option(
        "MINIO_STATIC_KEEP_ONLY_HASHED_FILES", False, check.boolean,
        "`MinioManifestStaticStorage` stores only the hashed copies and the manifest (as WhiteNoise's "
        "`KEEP_ONLY_HASHED_FILES`); not with `collectstatic --no-post-process`.",
    )
    static_upload_workers: int = option(
        # the default was measured: benchmarks/results/collectstatic.md
        "MINIO_STATIC_UPLOAD_WORKERS", 16, check.int_between(1, 64, "workers"),
        "Parallel uploads of the static storage inside the collectstatic context (1 to 64; the default "
        "pool keeps 16 connections). Each upload in flight holds at most its file (and its gzipped "
        "copy) up to `MINIO_MULTIPART_THRESHOLD` in memory, larger files in temporary files, plus one "
        "part while sending.",
    )
    session_token: str = option(
        "MINIO_SESSION_TOKEN", "", check.text,
        "Session token of temporary credentials (with their `MINIO_ACCESS_KEY` and `MINIO_SECRET_KEY`). "
        "Never printed or logged.",
        secret=True,
    )
    credentials_provider: Any = option(
        "MINIO_CREDENTIALS_PROVIDER", None, check.credentials_provider,
        "Where credentials come from instead of static keys: a `minio.credentials` provider, or a "
        "callable or dotted path building one (built once per process). Asked before every request, so "
        "refreshing credentials stay current. Then `MINIO_ACCESS_KEY`/`MINIO_SECRET_KEY` must be unset.",
        secret=True, identity=False,
    )
    storage_class: str | None = option(
        "MINIO_STORAGE_CLASS", None, check.storage_class,
        "Storage class of uploaded objects (`x-amz-storage-class`), e.g. "
        '`"REDUCED_REDUNDANCY"`, `"STANDARD_IA"`.',
    )
    server_side_encryption: str | None = option(
        "MINIO_SERVER_SIDE_ENCRYPTION", None, check.sse_mode,
        'Encrypt every upload: `"SSE-S3"`, `"SSE-KMS"` (with `MINIO_SSE_KMS_KEY_ID`) or `"SSE-C"` (with '
        "`MINIO_SSE_CUSTOMER_KEY`).",
    )
    sse_kms_key_id: str | None = option(
        "MINIO_SSE_KMS_KEY_ID", None, check.text, 'KMS key id for `"SSE-KMS"`.'
    )
    sse_kms_context: Any = option(
        "MINIO_SSE_KMS_CONTEXT", None, check.kms_context,
        'Optional encryption context (a dict) for `"SSE-KMS"`.',
    )
    sse_customer_key: Any = option(
        "MINIO_SSE_CUSTOMER_KEY", None, check.key_source,
        'The `"SSE-C"` key: 32 raw bytes, or a callable or dotted path returning them (resolved once per '
        "process). Sent with every write, read, stat and copy; never printed or logged.",
        secret=True, identity=False,
    )
    # fmt: on

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, SameAs):
                object.__setattr__(self, field.name, getattr(self, value.attr))

    def __deepcopy__(self, memo: dict) -> StorageOptions:
        return self  # immutable: copies share it, and with it any MINIO_HTTP_CLIENT pool

    def __reduce__(self) -> tuple:
        # A urllib3 pool belongs to its process and cannot be pickled: an unpickled storage
        # builds its default pool from the timeouts and retries in these options.
        fields = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        return (_rebuild_options, (dict(fields, http_client=None),))

    @property
    def effective_url_cache_timeout(self) -> int:
        """Seconds a cached URL may live: the configured value, clamped below the URL's expiry."""
        expiry = int(self.url_expiry.total_seconds())
        return int(expiry * 0.8) if self.url_cache_timeout is None else min(self.url_cache_timeout, expiry)

    @property
    def upload_part_size(self) -> int:
        return self.multipart_part_size if self.multipart_upload else DEFAULT_PART_SIZE

    @property
    def upload_threshold(self) -> int:
        return self.multipart_threshold if self.multipart_upload else DEFAULT_PART_SIZE


def _rebuild_options(fields: dict[str, Any]) -> StorageOptions:
    return StorageOptions(**fields)


def _default_of(field: dataclasses.Field) -> Any:
    return field.default_factory() if field.default is dataclasses.MISSING else field.default  # type: ignore[misc]


OPTION_TABLE: tuple[Option, ...] = tuple(
    Option(
        key=field.metadata["key"],
        attr=field.name,
        default=_default_of(field),
        check=field.metadata["check"],
        doc=field.metadata["doc"],
        shown_default=field.metadata["shown"] or "",
        new=field.metadata["new"],
    )
    for field in dataclasses.fields(StorageOptions)
)
OPTION_KEYS = frozenset(option.key for option in OPTION_TABLE)


def closest_key(key: str) -> str | None:
    matches = difflib.get_close_matches(key, sorted(OPTION_KEYS), n=1, cutoff=0.6)
    return matches[0] if matches else None


def is_known_key(key: str) -> bool:
    """An option, or an upload argument (which OPTIONS may hold: Django passes them as kwargs)."""
    return key in OPTION_KEYS or key in UPLOAD_KWARGS


def unknown_key_error(key: str) -> ConfigurationError:
    suggestion = closest_key(key)
    fix = f"Did you mean {suggestion}?" if suggestion else "Remove it; see the README's option table."
    return ConfigurationError(f"{key}: unknown storage option. {fix}")


def parse_options(raw: Mapping[str, Any]) -> StorageOptions:
    """Validate a storage's raw OPTIONS into the frozen options (None: "not set" where the default is
    None or derived). ConfigurationError names the key of an unknown key, a wrong type or a bad
    value; PrivatePublicMixedError names a bucket listed as both private and public."""
    for key in raw:
        if not is_known_key(key):
            raise unknown_key_error(key)
    parsed: dict[str, Any] = {}
    for option in OPTION_TABLE:
        value = raw.get(option.key, _UNSET)
        if value is not _UNSET and not (
            value is None and (option.default is None or isinstance(option.default, SameAs))
        ):
            parsed[option.attr] = option.check(option.key, value)
    for problem in (check.credentials_problem(parsed), check.encryption_problem(parsed)):
        if problem:
            raise problem
    both = sorted(set(parsed.get("private_buckets", ())) & set(parsed.get("public_buckets", ())))
    if both:
        raise PrivatePublicMixedError(
            f"MINIO_PRIVATE_BUCKETS and MINIO_PUBLIC_BUCKETS both list {', '.join(both)}. "
            "Keep each bucket in one list."
        )
    return StorageOptions(**parsed)


def option_problems(raw: Mapping[str, Any]) -> list[ConfigurationError]:
    """Every problem in ``raw``, not just the first; used by the system checks."""
    problems: list[ConfigurationError] = [unknown_key_error(key) for key in raw if not is_known_key(key)]
    for option in OPTION_TABLE:
        if raw.get(option.key) is not None:
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
