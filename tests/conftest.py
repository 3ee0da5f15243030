import uuid

import pytest

from django_minio_backend.client import ObjectStore
from django_minio_backend.models import MinioBackend
from django_minio_backend.options import parse_options
from django_minio_backend.testing import create_declared_buckets, planned_kind, shared_server, storages_for

from .helpers import CountingPoolManager
from .support import cluster

PRIVATE, PUBLIC, STATIC = "test-private", "test-public", "test-static"
CLUSTER_SKIP_REASON = "needs the load-balanced Ceph cluster (set MINIO_TEST_SERVER=rgw-cluster)"

cluster.register()  # MINIO_TEST_SERVER=rgw-cluster, for `make test-cluster`


def pytest_collection_modifyitems(items):
    # Judged from the plan, so that a skipped test starts no server.
    if not cluster_planned():
        for item in items:
            if item.get_closest_marker("s3_cluster") is not None:
                item.add_marker(pytest.mark.skip(reason=CLUSTER_SKIP_REASON))


def cluster_planned() -> bool:
    try:
        return planned_kind() == cluster.KIND
    except ValueError:  # a MINIO_TEST_SERVER typo: starting the server names it
        return False


@pytest.fixture(scope="session")
def s3_cluster(s3_server) -> cluster.RunningCluster:
    """The session's cluster (balancer, gateways, OSDs); skips the test on any other server."""
    running = shared_server()
    if not isinstance(running, cluster.RunningCluster):
        pytest.skip(CLUSTER_SKIP_REASON)
    return running


@pytest.fixture(scope="session")
def s3_buckets(s3_server):
    create_declared_buckets(storages_for(s3_server))  # the buckets tests/settings.py declares
    # Learn the server's If-None-Match support now (a once-per-process probe), so that tests
    # counting a save's requests see the save's own requests, whatever ran before them.
    ObjectStore(parse_options(s3_server.storage_options()), PRIVATE).conditional_puts()
    return PRIVATE, PUBLIC, STATIC


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
