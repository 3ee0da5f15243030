"""Create and empty test buckets on an S3 server through minio's public API."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from minio import Minio

    from .server import S3Server


def _is_versioned(client: Minio, bucket: str) -> bool:
    return client.get_bucket_versioning(bucket_name=bucket).status in ("Enabled", "Suspended")


def empty_bucket(server: S3Server, bucket: str, *, client: Minio | None = None) -> int:
    """Delete every object (every version, if the bucket is versioned) from ``bucket``.

    Returns how many objects were deleted. Incomplete multipart uploads are left alone, since
    minio's public API cannot list them. Raises RuntimeError on the first object that
    could not be deleted.
    """
    from minio.deleteobjects import DeleteObject

    client = client or server.client()
    versioned = _is_versioned(client, bucket)
    listing = client.list_objects(bucket_name=bucket, recursive=True, include_version=versioned)
    names = [DeleteObject(name=obj.object_name, version_id=obj.version_id) for obj in listing]
    for error in client.remove_objects(bucket_name=bucket, delete_object_list=names):
        raise RuntimeError(f"cannot delete {bucket}/{error.name}: {error.code} {error.message}")
    return len(names)


def empty_all_buckets(server: S3Server) -> int:
    """Empty every bucket the server's user can list; the buckets themselves stay.

    Only point this at a server that holds nothing but test data.
    """
    client = server.client()
    return sum(empty_bucket(server, bucket.name, client=client) for bucket in client.list_buckets())


def create_bucket(client: Minio, bucket: str, *, public: bool = False) -> bool:
    """Create ``bucket`` unless it exists; a public one gets the package's read-only policy
    (anonymous GetObject, never listing). True when it was created."""
    import json

    from minio.error import S3Error

    from ..core.buckets import ALREADY_THERE, public_read_policy

    try:
        client.make_bucket(bucket_name=bucket)
    except S3Error as error:
        if error.code not in ALREADY_THERE:
            raise
        return False
    if public:
        client.set_bucket_policy(bucket_name=bucket, policy=json.dumps(public_read_policy(bucket)))
    return True
