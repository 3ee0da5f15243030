"""Bucket requests: existence, creation, policies and lifecycle rules, through the ObjectStore.

A public bucket's policy allows anonymous GetObject on its objects and nothing else: nobody can
list it. Every call raises the translator's errors (StorageServerError naming the bucket).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from minio.commonconfig import ENABLED, Filter
from minio.error import S3Error
from minio.lifecycleconfig import AbortIncompleteMultipartUpload, LifecycleConfig, Rule

from ..errors import UnsupportedByServerError
from . import capabilities
from .state import STATE
from .store import ObjectStore

PUBLIC_READ_SID = "PublicReadGetObject"
LIFECYCLE_RULE_ID = "django-minio-backend-abort-incomplete-uploads"
ALREADY_THERE = ("BucketAlreadyOwnedByYou", "BucketAlreadyExists")
# How servers without lifecycle rules answer a valid PutBucketLifecycle (Swift s3api: MalformedXML).
LIFECYCLE_REFUSALS = ("NotImplemented", "MalformedXML")


def public_read_statement(bucket: str) -> dict[str, Any]:
    return {
        "Sid": PUBLIC_READ_SID,
        "Effect": "Allow",
        "Principal": {"AWS": ["*"]},
        "Action": ["s3:GetObject"],
        "Resource": [f"arn:aws:s3:::{bucket}/*"],
    }


def public_read_policy(bucket: str) -> dict[str, Any]:
    """Anonymous GetObject on every object, and nothing else: nobody can list the bucket."""
    return {"Version": "2012-10-17", "Statement": [public_read_statement(bucket)]}


def make(store: ObjectStore) -> bool:
    """Create the store's bucket; False when it already existed."""
    with store.errors("create bucket"):
        try:
            store.client.make_bucket(bucket_name=store.bucket, location=store.options.region)
        except S3Error as error:
            if error.code in ALREADY_THERE:
                return False
            raise
    STATE.mark_bucket_seen(store.endpoint, store.bucket)
    return True


def create(store: ObjectStore, *, public: bool) -> bool:
    """Create the bucket if missing (and make it public if asked). True when it was created.

    A public bucket on a server without bucket policies is refused (UnsupportedByServerError): the
    bucket just created for it is removed again, so nothing is left that looks public but is not.
    """
    if public and store.capability(capabilities.POLICIES) is False:
        raise public_unsupported(store)
    if store.bucket_exists() or not make(store):
        return False
    if public:
        try:
            set_policy(store, public_read_policy(store.bucket), learn=True)
        except UnsupportedByServerError:
            with store.errors("remove the bucket it created,"):
                store.client.remove_bucket(bucket_name=store.bucket)
            raise
    return True


def public_unsupported(store: ObjectStore) -> UnsupportedByServerError:
    return UnsupportedByServerError(
        f"{store.endpoint} does not implement bucket policies, so bucket {store.bucket!r} cannot be made "
        "public; it was not created. List it in MINIO_PRIVATE_BUCKETS (its files are then served by "
        "presigned URLs), or use a server with bucket policies."
    )


def ensure_once(store: ObjectStore, *, public: bool) -> None:
    """Create the bucket on its first use in this process; later calls make no request."""
    STATE.ensure_bucket_once(store.endpoint, store.bucket, lambda: create(store, public=public))


def read_policy(store: ObjectStore) -> tuple[bool, dict[str, Any] | None, bool]:
    """(exists, policy, policies supported): one GetBucketPolicy request tells all three.

    A server without bucket policies (501 NotImplemented) costs one more request, a HEAD, for
    whether the bucket exists; that it has no policies is remembered (``capabilities``).
    """
    if store.capability(capabilities.POLICIES) is False:
        return store.bucket_exists(), None, False
    with store.errors("read the policy of"):
        try:
            text = store.client.get_bucket_policy(bucket_name=store.bucket)
        except S3Error as error:
            if error.code == "NoSuchBucket":
                return False, None, True
            if error.code in ("NoSuchBucketPolicy", "NoSuchPolicy"):
                return True, None, True
            if error.code != "NotImplemented":
                raise
            capabilities.note_policies(store.endpoint, False)
            return store.bucket_exists(), None, False
    capabilities.note_policies(store.endpoint, True)
    return True, json.loads(text) if text else None, True


def set_policy(store: ObjectStore, policy: Mapping[str, Any], *, learn: bool = False) -> None:
    """PutBucketPolicy. With ``learn``, a 501 is remembered and raised as UnsupportedByServerError."""
    with store.errors("set policy on"):
        try:
            store.client.set_bucket_policy(bucket_name=store.bucket, policy=json.dumps(policy))
        except S3Error as error:
            if not learn or error.code != "NotImplemented":
                raise
            capabilities.note_policies(store.endpoint, False)
            raise public_unsupported(store) from error
        if learn:
            capabilities.note_policies(store.endpoint, True)


def delete_policy(store: ObjectStore) -> None:
    with store.errors("remove the policy of"):
        store.client.delete_bucket_policy(bucket_name=store.bucket)


def lifecycle_unsupported(store: ObjectStore, code: str) -> UnsupportedByServerError:
    return UnsupportedByServerError(
        f"{store.endpoint} refused the lifecycle rule for bucket {store.bucket!r} ({code}): it does not "
        "implement bucket lifecycle rules, so MINIO_ABORT_INCOMPLETE_UPLOADS_DAYS cannot be applied; "
        "nothing was changed. Set it to None for this server and run clean_orphaned_minio_files "
        "regularly instead (it aborts incomplete uploads older than its grace period)."
    )


def abort_rule_change(store: ObjectStore, days: int, *, exists: bool, dry_run: bool) -> str | None:
    """Add or update our AbortIncompleteMultipartUpload rule (other lifecycle rules are kept).

    Returns what changed (or would change, in a dry run), or None when the rule is already there.
    """
    with store.errors("read the lifecycle rules of"):
        config = store.client.get_bucket_lifecycle(bucket_name=store.bucket) if exists else None
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
        with store.errors("set the lifecycle rules of"):
            try:
                store.client.set_bucket_lifecycle(
                    bucket_name=store.bucket, config=LifecycleConfig([*others, rule])
                )
            except S3Error as error:
                if error.code not in LIFECYCLE_REFUSALS:
                    raise
                raise lifecycle_unsupported(store, error.code) from error
    return f"abort incomplete multipart uploads after {days} day(s) (lifecycle rule {LIFECYCLE_RULE_ID})"
