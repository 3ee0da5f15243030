"""The 4.x line's members of MinioBackend that are not part of Django's Storage API.

Bucket lists and flags, both minio clients, the base URLs, the health probe, the bucket checks and
policy setters keep their 4.x names and behaviour; each one is a thin call into the core.
"""

from __future__ import annotations

from typing import Any

from ..conf.options import StorageOptions
from ..core import buckets, health
from ..core.connection import endpoint_url, require_connection_settings
from ..core.store import ObjectStore
from ..core.types import Minio


class FourXMembers:
    """Mixed into MinioBackend, which sets ``options``, ``store`` and ``bucket``."""

    options: StorageOptions
    store: ObjectStore
    bucket: str

    @property
    def PRIVATE_BUCKETS(self) -> list[str]:
        return list(self.options.private_buckets)

    @property
    def PUBLIC_BUCKETS(self) -> list[str]:
        return list(self.options.public_buckets)

    @property
    def same_endpoints(self) -> bool:
        return self.store.same_endpoints

    @property
    def base_url(self) -> str:
        return endpoint_url(self.options) + "/"

    @property
    def base_url_external(self) -> str:
        return endpoint_url(self.options, external=True) + "/"

    @property
    def client(self) -> Minio:
        """The minio client for I/O on MINIO_ENDPOINT."""
        return self.store.client

    @property
    def client_external(self) -> Minio:
        """The minio client that signs URLs for MINIO_EXTERNAL_ENDPOINT. It makes no requests."""
        return self.store.client_external

    def validate_settings(self) -> None:
        """Raise ConfigurationError if this storage could not connect as configured.

        Option types and values were already validated when the storage was built.
        """
        require_connection_settings(self.options)

    def is_minio_available(self) -> health.MinioServerStatus:
        return health.probe(self.options, bucket=self.bucket)

    def check_bucket_existence(self) -> None:
        """Create this storage's bucket if it is missing (and make it public if declared so)."""
        buckets.create(self.store, public=self.is_bucket_public)

    def check_bucket_existences(self) -> None:
        """Create every bucket this storage's options declare."""
        for bucket in (*self.options.private_buckets, *self.options.public_buckets):
            buckets.create(self.store.for_bucket(bucket), public=bucket in self.options.public_buckets)

    def set_bucket_policy(self, bucket: str, policy: dict[str, Any]) -> None:
        buckets.set_policy(self.store.for_bucket(bucket), policy)

    def set_bucket_to_public(self) -> None:
        self.set_bucket_policy(self.bucket, buckets.public_read_policy(self.bucket))

    @property
    def is_bucket_public(self) -> bool:
        return self.bucket in self.options.public_buckets
