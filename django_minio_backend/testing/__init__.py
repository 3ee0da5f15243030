"""Embedded S3 servers for testing code that uses django-minio-backend.

``start_server()`` starts Ceph RADOS Gateway (when its programs are installed) or moto on a free
127.0.0.1 port, or describes an external server from ``MINIO_TEST_*`` environment variables::

    from django_minio_backend.testing import start_server

    with start_server() as running:
        client = running.server.client()
        options = running.server.storage_options(MINIO_PRIVATE_BUCKETS=["private"])

The pytest plugin (``django_minio_backend.testing.pytest_plugin``) provides the ``s3_server``
and ``s3_clean_buckets`` fixtures and skips ``@pytest.mark.strict`` tests on moto.
"""

from .cleanup import empty_all_buckets, empty_bucket
from .servers import KINDS, RunningServer, S3Server, planned_kind, start_server

__all__ = [
    "KINDS",
    "RunningServer",
    "S3Server",
    "empty_all_buckets",
    "empty_bucket",
    "planned_kind",
    "start_server",
]
