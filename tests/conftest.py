import uuid

import pytest

from django_minio_backend.core import state
from django_minio_backend.models import MinioBackend
from django_minio_backend.testing import create_declared_buckets, storages_for

from .helpers import CountingPoolManager

PRIVATE, PUBLIC, STATIC = "test-private", "test-public", "test-static"


@pytest.fixture(scope="session")
def s3_buckets(s3_server):
    create_declared_buckets(storages_for(s3_server))  # the buckets tests/settings.py declares
    return PRIVATE, PUBLIC, STATIC


@pytest.fixture(autouse=True)
def _fresh_process_state():
    """Every test starts as a new process does: nothing learned about any server (core/state.py)."""
    state.reset()


@pytest.fixture
def minio_options(s3_server, s3_buckets):
    return s3_server.storage_options(
        MINIO_PRIVATE_BUCKETS=[PRIVATE],
        MINIO_PUBLIC_BUCKETS=[PUBLIC],
        MINIO_DEFAULT_BUCKET=PRIVATE,
        MINIO_STATIC_FILES_BUCKET=STATIC,
    )


@pytest.fixture
def minio_settings(settings, s3_server, s3_buckets):
    """Point STORAGES at the test server for this test (the same helper users get)."""
    settings.STORAGES = storages_for(s3_server)
    return settings


@pytest.fixture
def storage(minio_settings):
    return MinioBackend(bucket_name=PRIVATE, storage_name="default")


@pytest.fixture
def public_storage(minio_settings):
    return MinioBackend(bucket_name=PUBLIC, storage_name="default")


@pytest.fixture
def counter():
    pool = CountingPoolManager()
    yield pool
    pool.clear()


@pytest.fixture
def counted_storage(minio_settings, counter):
    return MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_HTTP_CLIENT=counter)


@pytest.fixture
def name():
    """A fresh object name prefix, so tests never see each other's objects."""
    return f"t-{uuid.uuid4().hex[:12]}"
