"""Exceptions raised by django-minio-backend."""

from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation


class ConfigurationError(ImproperlyConfigured):
    """A storage option is missing, misspelled or has a wrong type or value."""


class PrivatePublicMixedError(ConfigurationError):
    """A bucket is listed both in MINIO_PRIVATE_BUCKETS and MINIO_PUBLIC_BUCKETS."""


class CredentialsConfigError(ConfigurationError):
    """The credential options do not go together (e.g. a provider and static keys)."""


class EncryptionConfigError(ConfigurationError):
    """The server-side encryption options do not go together (e.g. SSE-KMS without a key id)."""


class StorageServerError(OSError):
    """The S3 server could not be reached or answered with an unexpected error.

    The message names the endpoint and the object, never the credentials.
    """


class ObjectChangedError(StorageServerError):
    """An object was replaced or deleted on the server while an open file was reading it.

    A re-read after seek() asks for the version first read (If-Match with its ETag), so the
    file never mixes bytes of two versions. Open the file again to read the new version.
    """


class ChecksumMismatchError(StorageServerError):
    """The bytes read from the server do not match the object's stored checksum (corrupted on the way).

    Raised instead of handing out the last bytes of a read; the object itself may be intact.
    """


class ReadOnlyStorageError(PermissionError):
    """A write was attempted on a storage configured with MINIO_READ_ONLY."""


class UploadVerificationError(SuspiciousOperation):
    """A browser-uploaded object is not what the application expected (for example its size).

    Left uncaught in a view, Django answers 400 Bad Request.
    """


class BucketMissingError(StorageServerError):
    """The storage's bucket does not exist on the server (create it with initialize_buckets)."""


class UnsupportedByServerError(StorageServerError):
    """The server lacks a capability a setting or argument needs (for example it does not confirm
    SSE-C, has no bucket policies, or refuses presigned POST). Nothing was stored; the message
    names the setting to change."""


class UploadSizeError(ValueError):
    """A save()'s content ended before its declared size, or went on past it. Nothing was stored."""


class UploadFailed(StorageServerError):
    """An upload queued by the collectstatic context failed. ``name`` is the file's name."""

    def __init__(self, name: str, error: BaseException) -> None:
        super().__init__(f"Uploading static file {name!r} failed: {error}")
        self.name = name
