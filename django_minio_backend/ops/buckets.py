"""initialize_buckets: bring every declared bucket to its wanted state, several at a time.

``conf.buckets.plan_buckets()`` says what each bucket should be (no I/O). ``reconcile()`` reads a
bucket's state with one request (GetBucketPolicy tells whether it exists and its policy), then
makes only the changes needed, through the core's bucket requests. Running it twice changes
nothing the second time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import urllib3

from ..conf.buckets import BucketSpec, plan_buckets
from ..core import buckets
from ..core.store import ObjectStore
from ..errors import ConfigurationError, StorageServerError

__all__ = ["BucketResult", "ConfigurationError", "initialize_buckets", "reconcile", "wanted_policy"]

MAX_WORKERS = 8


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
        statements.append(buckets.public_read_statement(spec.bucket))
    if not statements:
        return None
    return {**(current or {"Version": "2012-10-17"}), "Statement": statements}


def reconcile(store: ObjectStore, spec: BucketSpec, *, dry_run: bool = False) -> BucketResult:
    """Bring one bucket to its wanted state; in a dry run only say what would change."""
    result = BucketResult(spec)
    try:
        exists, current, policies = buckets.read_policy(store)
        if not policies and (spec.public or spec.hook is not None):
            result.error = _no_policies(spec, store.endpoint)
            return result
        if not exists:
            if spec.public is None:
                result.error = (
                    f"a policy hook names {spec.bucket!r}, which does not exist and is not declared"
                )
                return result
            result.changes.append(f"create {spec.visibility} bucket")
            if not dry_run:
                buckets.make(store)
        days = spec.options.abort_incomplete_uploads_days
        if days and spec.public is not None:
            change = buckets.abort_rule_change(store, days, exists=exists, dry_run=dry_run)
            if change:
                result.changes.append(change)
        if not policies:  # a private bucket: no policy to change where none can exist
            return result
        wanted = wanted_policy(spec, current)
        if _canonical(wanted) == _canonical(current):
            return result
        if wanted is None:
            result.changes.append("remove the public-read policy (bucket is now private)")
            if not dry_run:
                buckets.delete_policy(store)
        else:
            result.changes.append(_describe_policy_change(spec))
            if not dry_run:
                buckets.set_policy(store, wanted)
    except (StorageServerError, ValueError) as error:
        result.error = str(error)
    return result


def _no_policies(spec: BucketSpec, endpoint: str) -> str:
    what = "apply its MINIO_POLICY_HOOKS policy" if spec.hook is not None else "make it public"
    return (
        f"{endpoint} does not implement bucket policies (NotImplemented), so initialize_buckets cannot "
        f"{what}; nothing was changed. List {spec.bucket!r} in MINIO_PRIVATE_BUCKETS (its files are then "
        "served by presigned URLs), or use a server with bucket policies. The static files bucket is "
        "always public: serve static files from elsewhere on such a server."
    )


def _describe_policy_change(spec: BucketSpec) -> str:
    if spec.hook is not None:
        return "apply MINIO_POLICY_HOOKS policy"
    if spec.public:
        return "set public-read policy (GetObject only, no listing)"
    return "remove anonymous access from the policy (bucket is private)"


# -- all buckets ------------------------------------------------------------------------------


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
    stores: dict[int, ObjectStore] = {}
    for spec in specs:
        if id(spec.options) not in stores:
            http = spec.options.http_client or default_http_client
            stores[id(spec.options)] = ObjectStore(spec.options, spec.bucket, http_client=http)
    if not specs:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(specs)))) as pool:
        futures = [
            pool.submit(reconcile, stores[id(spec.options)].for_bucket(spec.bucket), spec, dry_run=dry_run)
            for spec in specs
        ]
        return [future.result() for future in futures]
