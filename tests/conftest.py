"""The suite's fixtures; helpers live in tests/support."""

import os
import uuid
from pathlib import Path

import pytest
import urllib3

from django_minio_backend import buckets
from django_minio_backend.client import ObjectStore
from django_minio_backend.models import MinioBackend
from django_minio_backend.options import parse_options
from django_minio_backend.testing import (
    create_declared_buckets,
    empty_bucket,
    planned_kind,
    shared_server,
    storages_for,
)

from tests.support import PRIVATE, PUBLIC, STATIC, CountingPoolManager, cluster
from tests.support.browser import CHROMIUM
from tests.support.faultproxy import FaultProxy

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


@pytest.fixture
def http():
    """A plain HTTP client without retries, as a browser or curl would fetch a URL."""
    pool = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=30))
    yield pool
    pool.clear()


@pytest.fixture
def proxy(s3_server):
    """A FaultProxy in front of the test server; faults are set per test."""
    with FaultProxy(s3_server.endpoint) as running:
        yield running


@pytest.fixture
def static_bucket(s3_server):
    """A fresh public bucket per test, so request counts start clean."""
    bucket = f"st-{uuid.uuid4().hex[:12]}"
    client = s3_server.client()
    buckets.create_bucket(client, bucket, region=s3_server.region, public=True)
    yield bucket
    empty_bucket(s3_server, bucket, client=client)
    client.remove_bucket(bucket_name=bucket)


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of the system's Chromium; skips without it, except under CI, where it fails."""
    if not Path(CHROMIUM).exists():
        reason = f"Chromium not found at {CHROMIUM}: apt-get install chromium (or set CHROMIUM=path)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    pytest.importorskip("playwright", reason="playwright is in the test extra: pip install -e '.[test]'")
    return CHROMIUM
