"""Bucket creation and policies, shared by the storage, the app start-up check and the commands.

``plan_buckets()`` reads settings.STORAGES (no I/O) and says what every declared bucket should be:
created, public (anonymous GetObject only, never listing) or private, and which policy hook
applies. ``initialize_buckets()`` reads each bucket's state with one request, then makes only
the changes needed, several buckets at a time. Running it twice changes nothing the second time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import urllib3
from django.conf import settings
from django.utils.module_loading import import_string
from minio import Minio
from minio.commonconfig import ENABLED, Filter
from minio.error import MinioException, S3Error
from minio.lifecycleconfig import AbortIncompleteMultipartUpload, LifecycleConfig, Rule

from .client import build_client, default_http_client, endpoint_url
from .errors import ConfigurationError
from .options import StorageOptions, alias_raw_options, parse_options, uses_top_level_settings

PUBLIC_READ_SID = "PublicReadGetObject"
LIFECYCLE_RULE_ID = "django-minio-backend-abort-incomplete-uploads"
MAX_WORKERS = 8

_known_buckets: set[tuple[str, str]] = set()
_known_lock = threading.Lock()


def public_read_policy(bucket: str) -> dict[str, Any]:
    """Anonymous GetObject on every object, and nothing else: nobody can list the bucket."""
    return {"Version": "2012-10-17", "Statement": [_public_read_statement(bucket)]}


def _public_read_statement(bucket: str) -> dict[str, Any]:
    return {
        "Sid": PUBLIC_READ_SID,
        "Effect": "Allow",
        "Principal": {"AWS": ["*"]},
        "Action": ["s3:GetObject"],
        "Resource": [f"arn:aws:s3:::{bucket}/*"],
    }


def set_policy(client: Minio, bucket: str, policy: dict[str, Any]) -> None:
    client.set_bucket_policy(bucket_name=bucket, policy=json.dumps(policy))


def create_bucket(client: Minio, bucket: str, *, region: str, public: bool) -> bool:
    """Create ``bucket`` if missing (and make it public if asked). True when it was created."""
    if client.bucket_exists(bucket_name=bucket):
        return False
    try:
        client.make_bucket(bucket_name=bucket, location=region)
    except S3Error as error:
        if error.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
        return False
    if public:
        set_policy(client, bucket, public_read_policy(bucket))
    return True


def ensure_bucket_once(client: Minio, endpoint: str, bucket: str, *, region: str, public: bool) -> None:
    """Create ``bucket`` on its first use in this process; later calls make no request."""
    marker = (endpoint, bucket)
    if marker in _known_buckets:
        return
    create_bucket(client, bucket, region=region, public=public)
    with _known_lock:
        _known_buckets.add(marker)


# -- which storages and buckets settings declare ---------------------------------------------


@dataclass(frozen=True)
class MinioAlias:
    """One STORAGES alias whose BACKEND is a MinioBackend (or a subclass)."""

    alias: str
    options: StorageOptions
    is_static: bool

    @property
    def endpoint(self) -> str:
        return endpoint_url(self.options)

    def buckets(self) -> dict[str, bool]:
        """The buckets this alias declares, mapped to whether each is public."""
        if self.is_static:
            return {self.options.static_bucket: True}
        declared = {self.options.default_bucket: self.options.default_bucket in self.options.public_buckets}
        declared.update(dict.fromkeys(self.options.private_buckets, False))
        declared.update(dict.fromkeys(self.options.public_buckets, True))
        return declared


def backend_class(config: Mapping[str, Any]) -> type | None:
    """The MinioBackend subclass named by a STORAGES entry, or None for other backends."""
    from .storage import MinioBackend

    try:
        cls = import_string(config.get("BACKEND", ""))
    except ImportError:
        return None
    return cls if isinstance(cls, type) and issubclass(cls, MinioBackend) else None


@dataclass(frozen=True)
class MinioEntry:
    """A MinIO alias before its options are parsed: what the system checks look at."""

    alias: str
    backend: type
    raw: dict[str, Any]
    top_level: bool  # the options are the 3.x top-level settings (the alias has no OPTIONS)


def minio_entries(storages: Mapping[str, Any] | None = None) -> list[MinioEntry]:
    """Every MinIO alias of STORAGES (default: settings.STORAGES) with its raw options.

    A 3.x project that only passes storage instances to its fields (no MinIO alias at all, but
    top-level MINIO_* settings) gets one entry, "default", for those settings, which is what
    ``MinioBackend()`` reads.
    """
    from .storage import MinioBackend

    found = []
    for alias, config in (settings.STORAGES if storages is None else storages).items():
        cls = backend_class(config)
        if cls is not None:
            found.append(MinioEntry(alias, cls, *alias_raw_options(config)))
    if not found and storages is None and uses_top_level_settings():
        found.append(MinioEntry("default", MinioBackend, *alias_raw_options(None)))
    return found


def minio_aliases(storages: Mapping[str, Any] | None = None) -> list[MinioAlias]:
    """Every MinIO alias of STORAGES with its parsed options (ConfigurationError names the alias)."""
    from .storage import MinioBackendStatic

    found = []
    for entry in minio_entries(storages):
        try:
            options = parse_options(entry.raw)
        except ConfigurationError as error:
            where = "top-level MINIO_* settings" if entry.top_level else f"STORAGES[{entry.alias!r}]"
            raise type(error)(f"{where}: {error}") from error
        found.append(MinioAlias(entry.alias, options, issubclass(entry.backend, MinioBackendStatic)))
    return found


@dataclass
class BucketSpec:
    """The wanted state of one bucket on one endpoint."""

    endpoint: str
    bucket: str
    public: bool | None  # None: not declared, only named by a policy hook
    options: StorageOptions = field(repr=False)
    aliases: list[str] = field(default_factory=list)
    hook: dict[str, Any] | None = None

    @property
    def visibility(self) -> str:
        return {True: "public", False: "private", None: "undeclared"}[self.public]


def plan_buckets(storages: Mapping[str, Any] | None = None) -> list[BucketSpec]:
    """What every declared bucket should be. No I/O.

    Raises ConfigurationError when two aliases on one endpoint disagree about whether a bucket
    is public (for example the static bucket listed in MINIO_PRIVATE_BUCKETS).
    """
    return plan_for(minio_aliases(storages))


def plan_for(aliases: list[MinioAlias]) -> list[BucketSpec]:
    """What the buckets of ``aliases`` should be (see :func:`plan_buckets`). No I/O."""
    specs: dict[tuple[str, str], BucketSpec] = {}
    for entry in aliases:
        for bucket, public in entry.buckets().items():
            spec = specs.setdefault(
                (entry.endpoint, bucket), BucketSpec(entry.endpoint, bucket, public, entry.options)
            )
            if spec.public != public:
                raise ConfigurationError(
                    f"Bucket {bucket!r} on {entry.endpoint} is {spec.visibility} for "
                    f"{', '.join(repr(a) for a in spec.aliases)} but {'public' if public else 'private'} "
                    f"for {entry.alias!r}. Declare it the same way in every alias "
                    "(the static files bucket is always public)."
                )
            if entry.alias not in spec.aliases:
                spec.aliases.append(entry.alias)
    for entry in aliases:
        for bucket, policy in entry.options.policy_hooks:
            undeclared = BucketSpec(entry.endpoint, bucket, None, entry.options, [entry.alias])
            spec = specs.setdefault((entry.endpoint, bucket), undeclared)
            spec.hook = policy  # each hook replaces the whole policy, so the last one wins
    return list(specs.values())


# -- reading and fixing one bucket ------------------------------------------------------------


@dataclass
class BucketResult:
    spec: BucketSpec
    changes: list[str] = field(default_factory=list)  # made, or that would be made in a dry run
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _is_anonymous_allow(statement: Mapping[str, Any]) -> bool:
    principal = statement.get("Principal")
    if isinstance(principal, Mapping):
        principal = principal.get("AWS")
    principals = principal if isinstance(principal, list | tuple) else [principal]
    return statement.get("Effect") == "Allow" and "*" in principals


def _canonical(policy: Mapping[str, Any] | None) -> str:
    """A comparable form of a policy: servers may reorder keys when they hand a policy back."""
    return json.dumps(policy, sort_keys=True) if policy else ""


def wanted_policy(spec: BucketSpec, current: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The policy the bucket should have, given the one it has (None: no policy).

    A hook's policy wins. Otherwise anonymous statements are dropped (ours, or an older release's
    that allowed listing) and a public bucket gets our GetObject-only statement back; statements
    for named principals are kept.
    """
    if spec.hook is not None:
        return dict(spec.hook)
    if spec.public is None:
        return dict(current) if current else None
    statements = [s for s in (current or {}).get("Statement", []) if not _is_anonymous_allow(s)]
    if spec.public:
        statements.append(_public_read_statement(spec.bucket))
    if not statements:
        return None
    return {**(current or {"Version": "2012-10-17"}), "Statement": statements}


def _read_policy(client: Minio, bucket: str) -> tuple[bool, dict[str, Any] | None]:
    """(exists, policy): one GetBucketPolicy request tells both."""
    try:
        text = client.get_bucket_policy(bucket_name=bucket)
    except S3Error as error:
        if error.code == "NoSuchBucket":
            return False, None
        if error.code in ("NoSuchBucketPolicy", "NoSuchPolicy"):
            return True, None
        raise
    return True, json.loads(text) if text else None


def reconcile(client: Minio, spec: BucketSpec, *, dry_run: bool = False) -> BucketResult:
    """Bring one bucket to its wanted state; in a dry run only say what would change."""
    result = BucketResult(spec)
    bucket = spec.bucket
    try:
        exists, current = _read_policy(client, bucket)
        if not exists:
            if spec.public is None:
                result.error = f"a policy hook names {bucket!r}, which does not exist and is not declared"
                return result
            result.changes.append(f"create {spec.visibility} bucket")
            if not dry_run:
                _make_bucket(client, bucket, spec.options.region)
        days = spec.options.abort_incomplete_uploads_days
        if days and spec.public is not None:
            change = _reconcile_lifecycle(client, bucket, days, exists=exists, dry_run=dry_run)
            if change:
                result.changes.append(change)
        wanted = wanted_policy(spec, current)
        if _canonical(wanted) == _canonical(current):
            return result
        if wanted is None:
            result.changes.append("remove the public-read policy (bucket is now private)")
            if not dry_run:
                client.delete_bucket_policy(bucket_name=bucket)
        else:
            result.changes.append(_describe_policy_change(spec, current))
            if not dry_run:
                set_policy(client, bucket, wanted)
    except S3Error as error:
        result.error = f"{error.code}: {error.message}"
    except (MinioException, urllib3.exceptions.HTTPError, OSError, ValueError) as error:
        result.error = str(getattr(error, "reason", None) or error)
    return result


def _reconcile_lifecycle(client: Minio, bucket: str, days: int, *, exists: bool, dry_run: bool) -> str | None:
    """Our AbortIncompleteMultipartUpload rule, added or updated; other lifecycle rules are kept."""
    config = client.get_bucket_lifecycle(bucket_name=bucket) if exists else None
    rules = list(config.rules) if config else []
    ours = [rule for rule in rules if rule.rule_id == LIFECYCLE_RULE_ID]
    abort = ours[0].abort_incomplete_multipart_upload if ours else None
    if abort is not None and abort.days_after_initiation == days and ours[0].status == ENABLED:
        return None
    rule = Rule(
        status=ENABLED,
        rule_filter=Filter(prefix=""),
        rule_id=LIFECYCLE_RULE_ID,
        abort_incomplete_multipart_upload=AbortIncompleteMultipartUpload(days_after_initiation=days),
    )
    if not dry_run:
        others = [r for r in rules if r.rule_id != LIFECYCLE_RULE_ID]
        client.set_bucket_lifecycle(bucket_name=bucket, config=LifecycleConfig([*others, rule]))
    return f"abort incomplete multipart uploads after {days} day(s) (lifecycle rule {LIFECYCLE_RULE_ID})"


def _make_bucket(client: Minio, bucket: str, region: str) -> None:
    try:
        client.make_bucket(bucket_name=bucket, location=region)
    except S3Error as error:
        if error.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise


def _describe_policy_change(spec: BucketSpec, current: Mapping[str, Any] | None) -> str:
    if spec.hook is not None:
        return "apply MINIO_POLICY_HOOKS policy"
    if spec.public:
        return "set public-read policy (GetObject only, no listing)"
    return "remove anonymous access from the policy (bucket is private)"


# -- all buckets ------------------------------------------------------------------------------


def _client_for(spec: BucketSpec, pool: urllib3.PoolManager | None) -> Minio:
    http = spec.options.http_client or pool or default_http_client(spec.options)
    return build_client(spec.options, http)


def initialize_buckets(
    specs: Iterable[BucketSpec] | None = None,
    *,
    dry_run: bool = False,
    default_http_client: urllib3.PoolManager | None = None,
    max_workers: int = MAX_WORKERS,
) -> list[BucketResult]:
    """Create every declared bucket and set its policy, several buckets at a time.

    Returns one result per bucket (in plan order); failures are in ``result.error``, never raised,
    so one bad bucket does not hide the others. ``default_http_client`` serves the aliases that
    set no MINIO_HTTP_CLIENT.
    """
    specs = plan_buckets() if specs is None else list(specs)
    clients: dict[int, Minio] = {}
    for spec in specs:
        if id(spec.options) not in clients:
            clients[id(spec.options)] = _client_for(spec, default_http_client)
    if not specs:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(specs)))) as pool:
        futures = [pool.submit(reconcile, clients[id(spec.options)], spec, dry_run=dry_run) for spec in specs]
        return [future.result() for future in futures]
