"""Embedded S3 servers for testing code that uses django-minio-backend.

``start_server()`` starts Ceph RADOS Gateway (when its programs are installed) or moto on a free
127.0.0.1 port, or describes an external server from ``MINIO_TEST_*`` environment variables::

    from django_minio_backend.testing import override_minio_storages, start_server

    with start_server() as running:
        client = running.server.client()
        options = running.server.storage_options(MINIO_PRIVATE_BUCKETS=["private"])

    @override_minio_storages(clear=True)  # every MinIO alias of STORAGES on a shared server
    class UploadTests(SimpleTestCase): ...

The pytest plugin (``django_minio_backend.testing.pytest_plugin``) provides the ``s3_server``
(alias ``minio_server``), ``minio_storages`` and ``s3_clean_buckets`` fixtures and skips
``@pytest.mark.s3_strict`` tests on moto. ``register_kind()`` adds a server kind of your own
(``MINIO_TEST_SERVER=<kind>``). ``count_requests()`` and ``assert_max_requests(n)`` give a test
a budget of S3 requests (``requests.py``). Nothing here imports moto or pytest until it is used.
"""

from typing import TYPE_CHECKING, Any

from .cleanup import create_bucket, empty_all_buckets, empty_bucket
from .server import KINDS, RunningServer, S3Server, register_kind
from .servers import planned_kind, shared_server, start_server

if TYPE_CHECKING:
    from .requests import RequestLog, assert_max_requests, count_requests
    from .storages import (
        create_declared_buckets,
        empty_declared_buckets,
        override_minio_storages,
        storages_for,
    )

_LAZY = ("create_declared_buckets", "empty_declared_buckets", "override_minio_storages", "storages_for")
_REQUESTS = ("assert_max_requests", "count_requests", "RequestLog")

__all__ = [
    "KINDS",
    "RequestLog",
    "RunningServer",
    "S3Server",
    "assert_max_requests",
    "count_requests",
    "create_bucket",
    "create_declared_buckets",
    "empty_all_buckets",
    "empty_bucket",
    "empty_declared_buckets",
    "override_minio_storages",
    "planned_kind",
    "register_kind",
    "shared_server",
    "start_server",
    "storages_for",
]


def __getattr__(name: str) -> Any:
    # django.test is only imported when the STORAGES helpers are used, keeping the plugin cheap.
    if name in _REQUESTS:
        from . import requests

        return getattr(requests, name)
    if name in _LAZY:
        from . import storages

        return getattr(storages, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
