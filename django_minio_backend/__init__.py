"""Django storage backend for MinIO and any S3-compatible object store."""

from .apps import DjangoMinioBackendConfig
from .models import MinioBackend, MinioBackendStatic, MinioManifestStaticStorage
from .utils import get_iso_date, iso_date_prefix

__all__ = [
    "DjangoMinioBackendConfig",
    "MinioBackend",
    "MinioBackendStatic",
    "MinioManifestStaticStorage",
    "get_iso_date",
    "iso_date_prefix",
]
