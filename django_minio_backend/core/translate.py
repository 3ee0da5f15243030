"""The one error translator: minio and urllib3 failures become the package's exceptions.

- A missing key becomes FileNotFoundError; a missing bucket, BucketMissingError naming the fix.
- A 412 (or a 404) answering a GET pinned with ``If-Match`` becomes ObjectChangedError: the
  object was replaced or deleted while it was open.
- Any other S3 error, or a server that cannot be reached, becomes StorageServerError naming the
  action, the bucket and object, the endpoint and the server's code and message. Never the
  credentials.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import urllib3
from minio.error import MinioException, S3Error

from ..errors import BucketMissingError, ObjectChangedError, StorageServerError

MISSING_CODES = frozenset({"NoSuchKey", "NotFound", "ResourceNotFound", "NoSuchObject"})
CHANGED_CODES = frozenset({"PreconditionFailed", "NoSuchKey", "NotFound"})


def bucket_missing(bucket: str, endpoint: str, action: str) -> BucketMissingError:
    return BucketMissingError(
        f"Bucket {bucket!r} does not exist on {endpoint} ({action}). "
        "Create it with `python manage.py initialize_buckets`, or set MINIO_BUCKET_CHECK_ON_SAVE."
    )


def changed(where: str, detail: str) -> ObjectChangedError:
    return ObjectChangedError(
        f"{where} was replaced or deleted on the server while it was open for reading ({detail}). "
        "Nothing of the new version was returned; open it again to read the current version."
    )


def translate(error: S3Error, action: str, bucket: str, name: str, endpoint: str) -> OSError:
    """The package's exception for an S3 error answer."""
    where = f"{bucket}/{name}" if name else bucket
    if error.code == "NoSuchBucket":
        return bucket_missing(bucket, endpoint, f"{action} {name or 'it'}")
    if error.code in MISSING_CODES:
        return FileNotFoundError(f"{where} does not exist on {endpoint}.")
    message = error.message or getattr(getattr(error, "response", None), "reason", "") or "no message"
    return StorageServerError(f"{action} {where} on {endpoint} failed: {error.code}: {message}")


@contextmanager
def translated(
    action: str, bucket: str, name: str, endpoint: str, *, pinned_etag: str | None = None
) -> Iterator[None]:
    """Around requests: raise the package's exceptions instead of minio's and urllib3's.

    With ``pinned_etag`` (a GET carrying If-Match), a 412 or 404 means the object changed.
    """
    where = f"{bucket}/{name}" if name else bucket
    try:
        yield
    except S3Error as error:
        if pinned_etag and error.code in CHANGED_CODES:
            raise changed(where, f"the server answered {error.code}") from error
        raise translate(error, action, bucket, name, endpoint) from error
    except (MinioException, urllib3.exceptions.HTTPError) as error:
        reason = getattr(error, "reason", None) or error
        raise StorageServerError(f"{action} {where} on {endpoint} failed: {reason}") from error
    except OSError as error:
        if isinstance(error, FileNotFoundError | StorageServerError | PermissionError):
            raise
        raise StorageServerError(f"{action} {where} on {endpoint} failed: {error}") from error
