"""The 4.x import path: ``django_minio_backend.models.MinioBackend`` and friends.

This module defines no database models. ``iso_date_prefix`` lives here because migrations
written by 4.x's ``makemigrations`` reference ``django_minio_backend.models.iso_date_prefix``;
defining it here keeps the migrations this package generates identical to those.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .core.health import MinioServerStatus
from .errors import ConfigurationError, PrivatePublicMixedError
from .staticfiles.backend import MinioBackendStatic
from .staticfiles.manifest import MinioManifestStaticStorage
from .storage.backend import MinioBackend
from .storage.multibucket import MinioMultiBucketStorage

__all__ = [
    "ConfigurationError",
    "MinioBackend",
    "MinioBackendStatic",
    "MinioManifestStaticStorage",
    "MinioMultiBucketStorage",
    "MinioServerStatus",
    "PrivatePublicMixedError",
    "get_iso_date",
    "iso_date_prefix",
]


def get_iso_date() -> str:
    """Today's date in UTC as YYYY-MM-DD."""
    return datetime.now(UTC).strftime("%Y-%m-%d")


def iso_date_prefix(_instance: Any, filename: str) -> str:
    """An ``upload_to`` callable that files uploads under today's UTC date: YYYY-MM-DD/filename."""
    return f"{get_iso_date()}/{filename}"
