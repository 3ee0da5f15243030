"""Django settings and storages for each contender, built inside the contender's virtualenv.

Each contender gets its own three buckets (``<prefix>-private``, ``-public``, ``-static``),
created beforehand by compare.py, so no contender sees another's objects.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

MINIO_BACKENDS = ("ours", "v4", "v4-multipart")


@dataclass(frozen=True)
class Server:
    """The S3 server under test, as compare.py passes it in the environment."""

    endpoint: str
    access_key: str
    secret_key: str
    region: str
    prefix: str

    @classmethod
    def from_env(cls) -> Server:
        return cls(
            endpoint=os.environ["BENCH_ENDPOINT"],
            access_key=os.environ["BENCH_ACCESS_KEY"],
            secret_key=os.environ["BENCH_SECRET_KEY"],
            region=os.environ.get("BENCH_REGION", "us-east-1"),
            prefix=os.environ["BENCH_BUCKET_PREFIX"],
        )

    @property
    def private(self) -> str:
        return f"{self.prefix}-private"

    @property
    def public(self) -> str:
        return f"{self.prefix}-public"

    @property
    def static(self) -> str:
        return f"{self.prefix}-static"


def minio_options(server: Server, backend: str) -> dict[str, Any]:
    """STORAGES OPTIONS for this package and for 4.x (the same keys: the 4.x contract)."""
    options: dict[str, Any] = {
        "MINIO_ENDPOINT": server.endpoint,
        "MINIO_ACCESS_KEY": server.access_key,
        "MINIO_SECRET_KEY": server.secret_key,
        "MINIO_USE_HTTPS": False,
        "MINIO_REGION": server.region,
        "MINIO_PRIVATE_BUCKETS": [server.private],
        "MINIO_PUBLIC_BUCKETS": [server.public],
        "MINIO_DEFAULT_BUCKET": server.private,
        "MINIO_STATIC_FILES_BUCKET": server.static,
        "MINIO_CONSISTENCY_CHECK_ON_START": False,
    }
    if backend == "v4-multipart":
        # 4.x buffers a whole upload in memory unless multipart is switched on.
        options["MINIO_MULTIPART_UPLOAD"] = True
    return options


def s3_options(server: Server) -> dict[str, Any]:
    """django-storages S3Storage OPTIONS common to every bucket."""
    return {
        "access_key": server.access_key,
        "secret_key": server.secret_key,
        "endpoint_url": f"http://{server.endpoint}",
        "region_name": server.region,
        "addressing_style": "path",
        "signature_version": "s3v4",
        "default_acl": None,
    }


def storages_setting(server: Server, backend: str) -> dict[str, Any]:
    """The STORAGES setting: "default" (private), "staticfiles" and "cached" (URL cache on)."""
    if backend in MINIO_BACKENDS:
        options = minio_options(server, backend)
        cached = {**options, "MINIO_URL_CACHING_ENABLED": True, "MINIO_URL_CACHE_TIMEOUT": 3600}
        return {
            "default": {"BACKEND": "django_minio_backend.models.MinioBackend", "OPTIONS": options},
            "cached": {"BACKEND": "django_minio_backend.models.MinioBackend", "OPTIONS": cached},
            "staticfiles": {
                "BACKEND": "django_minio_backend.models.MinioBackendStatic",
                "OPTIONS": dict(options),
            },
        }
    if backend == "storages":
        common = s3_options(server)
        return {
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {**common, "bucket_name": server.private, "file_overwrite": False},
            },
            "staticfiles": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {**common, "bucket_name": server.static, "querystring_auth": False},
            },
        }
    raise ValueError(f"unknown backend {backend!r}")


def installed_apps(backend: str) -> list[str]:
    if backend in MINIO_BACKENDS:  # before staticfiles: its collectstatic command is used
        return ["django_minio_backend.apps.DjangoMinioBackendConfig", "django.contrib.staticfiles"]
    return ["django.contrib.staticfiles", "storages"]


class Storages:
    """The storage objects one workload needs, built the way each backend documents."""

    def __init__(self, server: Server, backend: str) -> None:
        self.server = server
        self.backend = backend

    def private(self, *, replace: bool = False) -> Any:
        """Private bucket; ``replace`` selects each backend's overwrite semantics."""
        if self.backend in MINIO_BACKENDS:
            from django_minio_backend.models import MinioBackend

            kwargs = {"replace_existing": True} if replace else {}
            return MinioBackend(bucket_name=self.server.private, storage_name="default", **kwargs)
        from storages.backends.s3 import S3Storage

        return S3Storage(**s3_options(self.server), bucket_name=self.server.private, file_overwrite=replace)

    def cached(self) -> Any:
        """Private bucket with the presigned-URL cache on (None when the backend has none)."""
        if self.backend not in MINIO_BACKENDS:
            return None
        from django_minio_backend.models import MinioBackend

        return MinioBackend(bucket_name=self.server.private, storage_name="cached")

    def public(self) -> Any:
        if self.backend in MINIO_BACKENDS:
            from django_minio_backend.models import MinioBackend

            return MinioBackend(bucket_name=self.server.public, storage_name="default")
        from storages.backends.s3 import S3Storage

        return S3Storage(**s3_options(self.server), bucket_name=self.server.public, querystring_auth=False)
