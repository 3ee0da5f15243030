"""Re-apply the current header and metadata options to objects that already exist.

Changing MINIO_CACHE_CONTROL, MINIO_CONTENT_DISPOSITION, MINIO_CONTENT_LANGUAGE or MINIO_METADATA
affects new uploads only. ``sync_bucket`` brings existing objects in line: for each object under
the alias's MINIO_LOCATION it computes what a save would set today (those four options, and the
Content-Type guessed from the name) and, where the stored values differ, rewrites the object's
metadata with a server-side copy onto itself (``metadata_directive=REPLACE``): the body is neither
downloaded nor uploaded.

- The listing streams (1,000 keys a page) and at most ``WINDOW`` objects are in flight.
- S3's listing carries no headers, so each object costs one HEAD. MinIO can put the metadata in
  the listing (``include_user_meta``); where it does, objects that are up to date cost no HEAD.
- The copy is one request (core/copy.py), conditional on the ETag the HEAD saw, so an
  object replaced meanwhile is skipped, never given the old one's headers (on servers that honour
  the copy condition: S3, MinIO, Ceph RGW; moto does not).
- Headers a REPLACE copy would drop are carried over: Content-Encoding, the storage class,
  SSE-S3/SSE-KMS settings, the website redirect, and x-amz-meta-* keys that no option governs.
  An option that is not set leaves that header as it is. Objects the copy cannot keep intact
  (SSE-C, an Expires header) are skipped and counted.
- In a versioned bucket each copy makes a new version; the old one stays.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import urllib3
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation

from ..conf.aliases import Alias, storage_aliases
from ..conf.options import StorageOptions
from ..core.conditional import CLAIM_HEADER
from ..core.connection import endpoint_url
from ..core.headers import object_headers
from ..core.store import ObjectStore
from ..errors import ConfigurationError, StorageServerError
from ..names import directory_prefix, name_from_key

WORKERS = 8
WINDOW = 64  # objects in flight at once: bounds memory whatever the bucket's size
# Stored headers a REPLACE copy would drop unless they are sent again.
CARRIED_HEADERS = (
    "cache-control",
    "content-disposition",
    "content-language",
    "content-type",
    "content-encoding",
    "x-amz-storage-class",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-website-redirect-location",
)
META_PREFIX = "x-amz-meta-"


def wanted_headers(options: StorageOptions, name: str) -> dict[str, str]:
    """The headers (lowercase names) a save of ``name`` would set today, from the options.

    Only what the options decide is listed: an unset option, or a name whose type mimetypes
    cannot guess, leaves that header as it is stored. Values are encoded as uploads send them
    (headers.object_headers), so they compare equal to what a save stored.
    """
    wanted = {header.lower(): value for header, value in object_headers(options, {}, name).items()}
    content_type, _ = mimetypes.guess_type(name)
    if content_type:
        wanted["content-type"] = content_type
    return wanted


def _lower(headers: Mapping[str, Any] | None) -> dict[str, str] | None:
    if headers is None:
        return None
    return {str(key).lower(): str(value) for key, value in headers.items()}


def is_current(wanted: Mapping[str, str], stored: Mapping[str, str]) -> bool:
    return all(stored.get(header) == value for header, value in wanted.items())


def replacement_headers(wanted: Mapping[str, str], stored: Mapping[str, str]) -> dict[str, str]:
    """What the REPLACE copy sends: the stored headers worth keeping, updated with ``wanted``."""
    kept = {
        header: value
        for header, value in stored.items()
        if header in CARRIED_HEADERS or header.startswith(META_PREFIX)
    }
    return {**kept, **wanted}


def _uncopyable(stored: Mapping[str, str]) -> str | None:
    if CLAIM_HEADER in stored:
        return "a save in progress holds the name"
    if "x-amz-server-side-encryption-customer-algorithm" in stored:
        return "encrypted with a customer key (SSE-C)"
    if "expires" in stored:
        return "has an Expires header, which a copy through minio-py cannot keep"
    return None


# -- what to sync ------------------------------------------------------------------------------


@dataclass
class SyncTarget:
    """One bucket (under one alias's location and an optional prefix) to bring up to date."""

    alias: str
    bucket: str
    options: StorageOptions = field(repr=False)
    prefix: str = ""  # S3 key prefix, MINIO_LOCATION included

    @property
    def endpoint(self) -> str:
        return endpoint_url(self.options)


def _header_options(options: StorageOptions) -> tuple:
    return (
        options.cache_control,
        options.content_disposition,
        options.content_language,
        tuple(options.metadata.items()),
        options.location,
    )


def plan_targets(
    *, aliases: Iterable[str] = (), buckets: Iterable[str] = (), prefix: str = ""
) -> list[SyncTarget]:
    """The (alias, bucket) pairs to sync: every bucket of every MinIO alias, or the ones named.

    Raises ConfigurationError for an unknown alias or bucket, and when two aliases share a bucket
    but disagree about the headers (choose one with ``aliases``).
    """
    wanted_aliases, wanted_buckets = set(aliases), set(buckets)
    try:
        directory_prefix("", prefix)
    except SuspiciousFileOperation as error:
        raise ConfigurationError(f"The prefix {prefix!r} cannot name objects of a storage: {error}") from None
    found = [entry for entry in storage_aliases() if not wanted_aliases or entry.name in wanted_aliases]
    unknown = wanted_aliases - {entry.name for entry in found}
    if unknown:
        raise ConfigurationError(
            f"STORAGES has no MinIO alias {', '.join(sorted(unknown))}.{_router_hint(unknown)}"
        )
    targets: dict[tuple[str, str], tuple[Alias, SyncTarget]] = {}
    for entry in found:
        for bucket in entry.buckets():
            if wanted_buckets and bucket not in wanted_buckets:
                continue
            target = SyncTarget(
                entry.name, bucket, entry.options, directory_prefix(entry.options.location, prefix)
            )
            seen = targets.setdefault((entry.endpoint, bucket), (entry, target))
            if _header_options(seen[0].options) != _header_options(entry.options):
                raise ConfigurationError(
                    f"Bucket {bucket!r} on {entry.endpoint} belongs to aliases {seen[0].name!r} and "
                    f"{entry.name!r}, whose header options differ. Choose one with --alias."
                )
    missing = wanted_buckets - {bucket for _, bucket in targets}
    if missing:
        raise ConfigurationError(f"No chosen alias declares bucket {', '.join(sorted(missing))}.")
    return [target for _, target in targets.values()]


def _router_hint(aliases: Iterable[str]) -> str:
    for alias in sorted(aliases):
        schemes = settings.STORAGES.get(alias, {}).get("OPTIONS", {}).get("MINIO_URL_SCHEMES")
        if schemes:
            targets = ", ".join(dict.fromkeys(schemes.values()))
            return f" {alias!r} is a MinioMultiBucketStorage: sync the aliases it maps to ({targets})."
    return ""


# -- syncing one bucket ------------------------------------------------------------------------


@dataclass
class SyncReport:
    target: SyncTarget
    listed: int = 0
    current: int = 0
    stale: int = 0
    updated: int = 0
    skipped: int = 0  # changed during the sync, or not copyable
    heads: int = 0
    errors: list[str] = field(default_factory=list)
    on_done: Callable[[], None] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Outcome:
    key: str
    result: str  # "current", "stale", "updated", "skipped" or "error"
    detail: str = ""
    head: bool = False


def _sync_object(
    store: ObjectStore, target: SyncTarget, key: str, listed: Mapping[str, str] | None, dry_run: bool
) -> Outcome:
    wanted = wanted_headers(target.options, name_from_key(target.options.location, key))
    if listed is not None and is_current(wanted, listed):
        return Outcome(key, "current")
    stat = store.stat_key(key)
    stored = _lower(stat.metadata) or {}
    if is_current(wanted, stored):
        return Outcome(key, "current", head=True)
    reason = _uncopyable(stored)
    if reason:
        return Outcome(key, "skipped", reason, head=True)
    changes = ", ".join(f"{h}: {stored.get(h)!r} -> {v!r}" for h, v in wanted.items() if stored.get(h) != v)
    if dry_run:
        return Outcome(key, "stale", changes, head=True)
    headers = replacement_headers(wanted, stored)
    if not store.rewrite_headers(key, headers, etag=stat.etag or "", size=stat.size or 0):
        return Outcome(key, "skipped", "changed or deleted during the sync", head=True)
    return Outcome(key, "updated", changes, head=True)


def _safe_sync_object(*args: Any) -> Outcome:
    key = args[2]
    try:
        return _sync_object(*args)
    except FileNotFoundError:
        return Outcome(key, "skipped", "deleted during the sync", head=True)
    except (StorageServerError, ValueError) as error:
        return Outcome(key, "error", str(error))


def _count(report: SyncReport, outcome: Outcome, on_change: Callable[[Outcome], None] | None) -> None:
    report.heads += outcome.head
    if report.on_done is not None:
        report.on_done()
    if outcome.result == "current":
        report.current += 1
        return
    if outcome.result == "error":
        report.errors.append(f"{outcome.key}: {outcome.detail}")
    elif outcome.result == "skipped":
        report.skipped += 1
    else:
        report.stale += 1
        report.updated += outcome.result == "updated"
    if on_change:
        on_change(outcome)


def sync_bucket(
    target: SyncTarget,
    *,
    dry_run: bool = False,
    workers: int = WORKERS,
    http_client: urllib3.PoolManager | None = None,
    on_change: Callable[[Outcome], None] | None = None,
    on_done: Callable[[], None] | None = None,
) -> SyncReport:
    """Bring the metadata of every object under ``target`` up to date (or, with ``dry_run``,
    count what would change). ``on_change`` sees every object that is not up to date, ``on_done``
    is called once per object checked (progress)."""
    report = SyncReport(target)
    report.on_done = on_done
    store = ObjectStore(target.options, target.bucket, http_client=http_client, alias=target.alias)
    in_flight: set[Future[Outcome]] = set()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        try:
            for item in store.list(target.prefix, recursive=True, include_user_meta=True):
                if item.is_dir:
                    continue
                report.listed += 1
                listed = _lower(item.metadata) if item.metadata else None
                in_flight.add(
                    pool.submit(_safe_sync_object, store, target, item.object_name, listed, dry_run)
                )
                if len(in_flight) >= WINDOW:
                    done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                    for future in done:
                        _count(report, future.result(), on_change)
        except StorageServerError as error:
            report.errors.append(f"listing failed: {error}")
        for future in wait(in_flight).done:
            _count(report, future.result(), on_change)
    return report
