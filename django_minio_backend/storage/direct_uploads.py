"""Direct browser uploads: presigned PUT URLs, presigned POST policies, and checking the result.

Both kinds of upload are signed for the external endpoint (the one browsers reach) and for a
key inside this storage's bucket and MINIO_LOCATION. Signing is local: nothing here makes a
request except verify_upload(), which stats the object once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import SuspiciousFileOperation

from ..conf.validators import MAX_URL_EXPIRY, GiB
from ..core.capabilities import PRESIGNED_POST
from ..core.store import ObjectStore
from ..core.types import Object
from ..errors import UnsupportedByServerError, UploadVerificationError

MAX_POST_SIZE = 5 * GiB  # S3's limit for a single POST upload
FILENAME_PLACEHOLDER = "${filename}"  # S3 replaces it with the uploaded file's name


def _expires(store: ObjectStore, expires: timedelta | None) -> timedelta:
    expires = store.options.url_expiry if expires is None else expires
    if not isinstance(expires, timedelta) or not timedelta(0) < expires <= MAX_URL_EXPIRY:
        raise ValueError(f"expires must be a timedelta in (0, 7 days], got {expires!r}.")
    return expires


def _object_key(store: ObjectStore, name: str) -> str:
    if not name or name.endswith("/"):
        raise SuspiciousFileOperation(f"Upload name {name!r} must name an object, not a directory.")
    return store.key(name)


def _prefix_key(store: ObjectStore, name: str) -> str:
    prefix = store.key(name)
    if not prefix.endswith("/"):
        raise SuspiciousFileOperation(f"Upload directory {name!r} must end with '/'.")
    return prefix


def presigned_put_url(store: ObjectStore, name: str, *, expires: timedelta | None = None) -> str:
    """A URL that accepts one HTTP PUT of the object ``name``.

    A PUT URL cannot limit the size or type of what is sent: check the result with
    verify_upload(), or use presigned_post() when limits matter.
    """
    return store.presigned_put(_object_key(store, name), expires=_expires(store, expires))


def _check_sizes(min_size: int, max_size: int) -> None:
    for label, value in (("min_size", min_size), ("max_size", max_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{label} must be a non-negative int of bytes, got {value!r}.")
    if not min_size <= max_size <= MAX_POST_SIZE:
        raise ValueError(
            f"Need min_size <= max_size <= {MAX_POST_SIZE} (5 GiB, S3's POST limit); "
            f"got {min_size} and {max_size}."
        )


def presigned_post(
    store: ObjectStore,
    name: str,
    *,
    max_size: int,
    min_size: int = 0,
    content_type: str | None = None,
    expires: timedelta | None = None,
) -> dict[str, Any]:
    """A form POST policy: ``{"url": ..., "fields": {...}}``.

    ``name`` is either one object name (the upload must use exactly that key) or a directory
    ending in ``/`` (any key under it; the ``key`` field is ``<dir>/${filename}``). The file's
    size must lie in [min_size, max_size]. ``content_type`` is either exact (``"image/png"``),
    sent as a field, or a family (``"image/*"``), which the form must send as a Content-Type
    field starting with ``image/``. Without it, the form must not send a Content-Type field.
    """
    _check_sizes(min_size, max_size)
    expiration = datetime.now(UTC) + _expires(store, expires)
    if store.capability(PRESIGNED_POST) is False:
        raise UnsupportedByServerError(
            f"{store.endpoint} does not accept presigned POST uploads, so a form POST of {name!r} would be "
            "refused. Hand out presigned_put_url() instead, or use a server that accepts them."
        )
    policy = store.post_policy(expiration)
    fields: dict[str, str] = {}
    if name.endswith("/"):
        prefix = _prefix_key(store, name)
        policy.add_starts_with_condition(element="key", value=prefix)
        fields["key"] = prefix + FILENAME_PLACEHOLDER
    else:
        key = _object_key(store, name)
        policy.add_equals_condition(element="key", value=key)
        fields["key"] = key
    policy.add_content_length_range_condition(lower_limit=min_size, upper_limit=max_size)
    if content_type and content_type.endswith("/*"):
        policy.add_starts_with_condition(element="Content-Type", value=content_type[:-1])
    elif content_type:
        policy.add_equals_condition(element="Content-Type", value=content_type)
        fields["Content-Type"] = content_type
    fields.update(store.presigned_post(policy))
    return {"url": store.bucket_url(), "fields": fields}


def verify_upload(
    store: ObjectStore,
    name: str,
    *,
    expected_size: int | None = None,
    max_size: int | None = None,
) -> Object:
    """Stat the uploaded object ``name`` (one HEAD) and check its size.

    Returns the stat. Raises FileNotFoundError if nothing was uploaded under that name, and
    UploadVerificationError if the size differs from ``expected_size`` or exceeds ``max_size``.
    """
    stat = store.stat(name)
    if expected_size is not None and stat.size != expected_size:
        raise UploadVerificationError(
            f"Uploaded object {name!r} in bucket {store.bucket!r} is {stat.size} bytes, "
            f"but {expected_size} were expected."
        )
    if max_size is not None and stat.size > max_size:
        raise UploadVerificationError(
            f"Uploaded object {name!r} in bucket {store.bucket!r} is {stat.size} bytes, "
            f"more than the allowed {max_size}."
        )
    return stat


class DirectUploads:
    """MinioBackend's methods for direct browser uploads (it sets ``store`` and ``_refuse_if_read_only``)."""

    store: ObjectStore

    def presigned_put_url(self, name: str, *, expires: timedelta | None = None) -> str:
        """A URL a browser can PUT the object ``name`` to, signed for the external endpoint."""
        self._refuse_if_read_only("hand out an upload URL for", name)
        return presigned_put_url(self.store, name, expires=expires)

    def presigned_post(
        self,
        name: str,
        *,
        max_size: int,
        min_size: int = 0,
        content_type: str | None = None,
        expires: timedelta | None = None,
    ) -> dict[str, Any]:
        """``{"url", "fields"}`` for an HTML form POST of ``name`` (or under ``name`` if it ends in /)."""
        self._refuse_if_read_only("hand out an upload policy for", name)
        return presigned_post(
            self.store, name, max_size=max_size, min_size=min_size, content_type=content_type, expires=expires
        )

    def verify_upload(
        self, name: str, *, expected_size: int | None = None, max_size: int | None = None
    ) -> Object:
        """Stat a browser-uploaded object and check its size; returns the stat or raises."""
        return verify_upload(self.store, name, expected_size=expected_size, max_size=max_size)
