"""Objects that no FileField row references, and rows that point at missing objects.

Matching is by (bucket, key): a key referenced in one bucket does not protect an object of the
same name in another. Rows are streamed from the database and listings from S3 (1,000 keys a
page), so memory holds one set of referenced keys per bucket, never a listing. Only media
buckets declared in STORAGES are cleaned, only under their MINIO_LOCATION, never the static
bucket, and never objects younger than the grace period. The same grace period applies to the
leftovers of failed or killed saves: incomplete multipart uploads are aborted, and the
claim objects a save leaves on servers without If-None-Match on multipart uploads are deleted
like any unreferenced object. Objects with the package's reserved names (probe objects a
credential without delete permission left behind) are neither counted nor deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.apps import apps
from django.core.exceptions import SuspiciousFileOperation
from django.db.models import FileField, Model

from ..conf.aliases import storage_aliases
from ..conf.options import StorageOptions
from ..core.connection import endpoint_url
from ..core.store import ObjectStore
from ..errors import ConfigurationError, StorageServerError
from ..names import is_reserved, object_key
from ..storage.backend import MinioBackend
from ..storage.multibucket import MinioMultiBucketStorage

logger = logging.getLogger("django_minio_backend")

ROW_CHUNK = 2000
DELETE_BATCH = 1000  # S3's limit for one DeleteObjects request


Address = tuple[str, str, str]  # (endpoint URL, bucket, S3 key)


@dataclass(frozen=True)
class FieldRef:
    """A FileField (or subclass, such as ImageField) whose storage is a MinioBackend or a
    MinioMultiBucketStorage (whose rows name their own alias and bucket)."""

    model: type[Model]
    field: FileField
    storage: Any  # MinioBackend or MinioMultiBucketStorage

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field.name}"

    @property
    def routes_by_name(self) -> bool:
        return isinstance(self.storage, MinioMultiBucketStorage)

    def address(self, value: str) -> Address:
        """Where the row value ``value`` points. Raises for a full-URL name that cannot be routed."""
        if self.routes_by_name:
            return self.storage.object_address(value)
        options = self.storage.options
        try:
            key = object_key(options.location, value)
        except SuspiciousFileOperation:
            key = value  # cannot be one of ours; keep it so it protects rather than deletes
        return endpoint_url(options), self.storage.bucket, key


def _field_storage(file_field: FileField) -> Any:
    # A storage given as a callable is resolved again, so it reflects the current settings.
    factory = getattr(file_field, "_storage_callable", None)
    return factory() if callable(factory) else file_field.storage


def minio_file_fields() -> list[FieldRef]:
    """Every concrete FileField of every installed model whose storage is a MinioBackend
    or a MinioMultiBucketStorage."""
    refs = []
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        for model_field in model._meta.local_fields:
            if isinstance(model_field, FileField):
                storage = _field_storage(model_field)
                if isinstance(storage, MinioBackend | MinioMultiBucketStorage):
                    refs.append(FieldRef(model, model_field, storage))
    return refs


def _rows(ref: FieldRef, *columns: str) -> Iterator[Any]:
    """Non-empty values of the field, streamed. The base manager sees rows a default manager hides."""
    name = ref.field.attname
    queryset = ref.model._base_manager.exclude(**{name: ""}).exclude(**{f"{name}__isnull": True})
    return queryset.values_list(*columns, flat=len(columns) == 1).iterator(chunk_size=ROW_CHUNK)


def referenced_keys(refs: Iterable[FieldRef]) -> dict[tuple[str, str], set[str]]:
    """(endpoint, bucket) -> keys referenced by rows of these fields.

    Raises ConfigurationError when a full-URL row cannot be routed (unknown scheme, undeclared
    bucket): its object would otherwise look unreferenced and be deleted.
    """
    keys: dict[tuple[str, str], set[str]] = {}
    unroutable: list[str] = []
    for ref in refs:
        for value in _rows(ref, ref.field.attname):
            try:
                endpoint, bucket, key = ref.address(value)
            except (ConfigurationError, SuspiciousFileOperation) as error:
                unroutable.append(f"{ref.label} {value!r}: {error}")
                continue
            keys.setdefault((endpoint, bucket), set()).add(key)
    if unroutable:
        raise ConfigurationError(
            f"{len(unroutable)} row(s) name objects that cannot be located, so nothing can be "
            f"cleaned safely; first: {unroutable[0]}. Fix MINIO_URL_SCHEMES, the bucket lists or the rows."
        )
    return keys


# -- which buckets to scan ---------------------------------------------------------------------


@dataclass
class BucketScan:
    """One bucket to list: where deletion is allowed, and where rows point."""

    endpoint: str
    bucket: str
    options: StorageOptions = field(repr=False)
    delete_prefixes: set[str] = field(default_factory=set)  # declared aliases' MINIO_LOCATIONs
    list_prefixes: set[str] = field(default_factory=set)

    @property
    def deletable(self) -> bool:
        return bool(self.delete_prefixes)

    def may_delete(self, key: str) -> bool:
        return any(not prefix or key.startswith(prefix) for prefix in self.delete_prefixes)

    def listing_prefixes(self) -> list[str]:
        """The prefixes to list, none inside another ('' means the whole bucket)."""
        prefixes = sorted(self.list_prefixes | self.delete_prefixes)
        if "" in prefixes:
            return [""]
        return [p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes)]


def _prefix(location: str) -> str:
    return f"{location}/" if location else ""


def plan_scans(refs: Iterable[FieldRef], *, check_missing: bool = False) -> list[BucketScan]:
    """Declared media buckets (cleaned), plus, with ``check_missing``, other buckets rows use (read only)."""
    aliases = storage_aliases()
    static = {alias.options.static_bucket for alias in aliases if alias.is_static}
    scans: dict[tuple[str, str], BucketScan] = {}
    for alias in aliases:
        if alias.is_static:
            continue
        for bucket in alias.buckets():
            if bucket in static:
                continue
            new = BucketScan(alias.endpoint, bucket, alias.options)
            scan = scans.setdefault((alias.endpoint, bucket), new)
            scan.delete_prefixes.add(_prefix(alias.options.location))
    for ref in refs:
        if ref.routes_by_name:
            continue  # its buckets are declared by the aliases its schemes map to, planned above
        options = ref.storage.options
        key = (endpoint_url(options), ref.storage.bucket)
        if key not in scans and (not check_missing or ref.storage.bucket in static):
            continue
        scan = scans.setdefault(key, BucketScan(key[0], key[1], options))
        scan.list_prefixes.add(_prefix(options.location))
    return list(scans.values())


# -- scanning and deleting ---------------------------------------------------------------------


@dataclass
class ScanReport:
    scan: BucketScan
    listed: int = 0
    referenced: int = 0
    young: int = 0
    orphan_count: int = 0
    deleted: int = 0
    stale_uploads: int = 0  # incomplete multipart uploads older than the grace period
    aborted_uploads: int = 0
    errors: list[str] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)


def clean_bucket(
    scan: BucketScan,
    referenced: set[str],
    *,
    older_than: datetime,
    dry_run: bool = False,
    check_missing: bool = False,
    on_orphan: Callable[[str], None] | None = None,
    on_listed: Callable[[], None] | None = None,
) -> ScanReport:
    """List ``scan``'s bucket once; delete (unless ``dry_run``) unreferenced objects older than
    ``older_than`` in batches; with ``check_missing``, collect referenced keys that were not listed.
    """
    report = ScanReport(scan)
    store = ObjectStore(scan.options, scan.bucket)
    remaining = set(referenced) if check_missing else set()
    batch: list[str] = []
    try:
        for prefix in scan.listing_prefixes():
            for item in store.list(prefix, recursive=True):
                key = item.object_name
                if is_reserved(key):  # the package's own probe objects are never a user's files
                    continue
                report.listed += 1
                if on_listed is not None:
                    on_listed()
                remaining.discard(key)
                if key in referenced:
                    report.referenced += 1
                elif key.endswith("/") or not scan.may_delete(key):
                    continue
                elif item.last_modified is None or item.last_modified > older_than:
                    report.young += 1
                else:
                    report.orphan_count += 1
                    if on_orphan:
                        on_orphan(key)
                    batch.append(key)
                    if len(batch) >= DELETE_BATCH:
                        _flush(store, batch, report, dry_run)
        _flush(store, batch, report, dry_run)
        if scan.deletable:
            _abort_stale_uploads(store, scan, older_than, report, dry_run)
    except StorageServerError as error:
        report.errors.append(f"listing failed: {error}")
    report.missing = remaining
    return report


def _abort_stale_uploads(
    store: ObjectStore, scan: BucketScan, older_than: datetime, report: ScanReport, dry_run: bool
) -> None:
    """Abort incomplete multipart uploads older than ``older_than`` (a killed or failed upload's parts)."""
    for prefix in scan.listing_prefixes():
        for key, upload_id, initiated in store.pending_uploads(prefix):
            if not scan.may_delete(key) or initiated is None or initiated > older_than:
                continue
            report.stale_uploads += 1
            if not dry_run:
                store.abort_upload(key, upload_id)
                report.aborted_uploads += 1


def _flush(store: ObjectStore, batch: list[str], report: ScanReport, dry_run: bool) -> None:
    if not batch or dry_run:
        batch.clear()
        return
    try:
        failed = store.delete_keys(batch)
    except StorageServerError as error:
        failed = [f"delete of {len(batch)} objects failed: {error}"] * len(batch)
        report.errors.append(failed[0])
    else:
        report.errors.extend(failed)
    report.deleted += len(batch) - len(failed)
    batch.clear()


def missing_rows(
    refs: Iterable[FieldRef], scan: BucketScan, missing: set[str]
) -> Iterator[tuple[str, Any, str]]:
    """(model.field, primary key, name) of each row pointing at a key in ``missing`` in ``scan``'s bucket."""
    if not missing:
        return
    for ref in refs:
        if not ref.routes_by_name and ref.storage.bucket != scan.bucket:
            continue
        for pk, value in _rows(ref, "pk", ref.field.attname):
            endpoint, bucket, key = ref.address(value)
            if (endpoint, bucket) == (scan.endpoint, scan.bucket) and key in missing:
                yield ref.label, pk, value


def cutoff(min_age: timedelta) -> datetime:
    """Objects modified after this are too young. ``--min-age 0`` means no grace period at all, even
    for an object whose LastModified is a moment ahead (OpenStack Swift rounds it up to the second)."""
    if not min_age:
        return datetime.max.replace(tzinfo=UTC)
    return datetime.now(UTC) - min_age
