"""Minimal Django configuration for benchmark scripts, pointed at one S3 server."""

from __future__ import annotations

from typing import Any

import django
from django.conf import settings

PRIVATE, PUBLIC, STATIC = "bench-private", "bench-public", "bench-static"


def configure(options: dict[str, Any], **extra_settings: Any) -> None:
    """Configure Django once, with STORAGES on the given MINIO_* options."""
    if settings.configured:
        return
    options = {
        **options,
        "MINIO_PRIVATE_BUCKETS": [PRIVATE],
        "MINIO_PUBLIC_BUCKETS": [PUBLIC],
        "MINIO_DEFAULT_BUCKET": PRIVATE,
        "MINIO_STATIC_FILES_BUCKET": STATIC,
    }
    settings.configure(
        SECRET_KEY="benchmarks-only",
        USE_TZ=True,
        INSTALLED_APPS=["django_minio_backend", "django.contrib.staticfiles"],
        STATIC_URL="/static/",
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        STORAGES={
            "default": {"BACKEND": "django_minio_backend.models.MinioBackend", "OPTIONS": options},
            "staticfiles": {"BACKEND": "django_minio_backend.models.MinioBackendStatic", "OPTIONS": options},
        },
        **extra_settings,
    )
    django.setup()


def create_buckets(client: Any, region: str) -> None:
    from django_minio_backend.testing import create_bucket

    for bucket in (PRIVATE, PUBLIC, STATIC):
        create_bucket(client, bucket, public=bucket != PRIVATE)
