"""Bucket creation and policies, shared by the storage, the app start-up check and the commands."""

from __future__ import annotations

import json
import threading
from typing import Any

from minio import Minio
from minio.error import S3Error

_known_buckets: set[tuple[str, str]] = set()
_known_lock = threading.Lock()


def public_read_policy(bucket: str) -> dict[str, Any]:
    """Anonymous GetObject on every object, and nothing else: nobody can list the bucket."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicReadGetObject",
                "Effect": "Allow",
                "Principal": {"AWS": ["*"]},
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/*"],
            }
        ],
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
