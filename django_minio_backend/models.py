"""Compatible import path for the storage classes (``django_minio_backend.models.MinioBackend``).

This module defines no database models.
"""

from .manifest import MinioManifestStaticStorage
from .multibucket import MinioMultiBucketStorage
from .storage import MinioBackend, MinioBackendStatic

__all__ = ["MinioBackend", "MinioBackendStatic", "MinioManifestStaticStorage", "MinioMultiBucketStorage"]
