"""Django storage backend for MinIO and any S3-compatible object store.

The public names load on first use, so importing the package (for example through its pytest
plugin) does not import the storage, minio or Django's storage machinery.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .apps import DjangoMinioBackendConfig
    from .models import get_iso_date, iso_date_prefix
    from .staticfiles.backend import MinioBackendStatic
    from .staticfiles.manifest import MinioManifestStaticStorage
    from .storage.backend import MinioBackend
    from .storage.multibucket import MinioMultiBucketStorage

_EXPORTS = {
    "DjangoMinioBackendConfig": ".apps",
    "MinioBackend": ".storage.backend",
    "MinioBackendStatic": ".staticfiles.backend",
    "MinioManifestStaticStorage": ".staticfiles.manifest",
    "MinioMultiBucketStorage": ".storage.multibucket",
    "get_iso_date": ".models",
    "iso_date_prefix": ".models",
}

__all__ = [
    "DjangoMinioBackendConfig",
    "MinioBackend",
    "MinioBackendStatic",
    "MinioManifestStaticStorage",
    "MinioMultiBucketStorage",
    "get_iso_date",
    "iso_date_prefix",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value
