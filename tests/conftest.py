"""The suite's fixtures and its tiers; helpers live in tests/support.

Each test is marked by the folder it is in (see TIERS); select a tier with ``-m``, e.g.
``pytest -m "unit or server"``, or run its folder (``make test-unit`` runs tests/unit).
"""

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import urllib3
from django.core.cache import caches

from django_minio_backend.core import state
from django_minio_backend.models import MinioBackend
from django_minio_backend.testing import (
    _rgw,
    create_bucket,
    create_declared_buckets,
    empty_bucket,
    planned_kind,
    shared_server,
    storages_for,
)

from tests.support import PRIVATE, PUBLIC, STATIC, CountingPoolManager, cache_config, cluster
from tests.support.browser import CHROMIUM
from tests.support.faultproxy import FaultProxy
from tests.support.processes import fake_programs, redis_server

pytest_plugins = ["pytester"]  # tests/unit/test_pytest_plugin.py runs the plugin in inner pytest runs

HERE = Path(__file__).resolve().parent
TIERS = ("unit", "server", "reliability", "system")  # folders of tests/, and the markers they give
CLUSTER_SKIP_REASON = "needs the load-balanced Ceph cluster (set MINIO_TEST_SERVER=rgw-cluster)"
# Fixtures that give a test what only some servers have: a test using one needs the capability.
NEEDS_BY_FIXTURE = {
    "public_storage": ("bucket-policies",),
    "static_bucket": ("bucket-policies",),
    # test_multibucket.py: declares a public bucket, and its request counts state conditional writes
    "two_servers": ("bucket-policies", "conditional-put"),
}

cluster.register()  # MINIO_TEST_SERVER=rgw-cluster, for `make test-cluster`


@pytest.hookimpl(tryfirst=True)  # before -m selects by these markers
def pytest_collection_modifyitems(items):
    rank = {}
    for item in items:
        if HERE not in item.path.parents:
            continue
        tier = item.path.relative_to(HERE).parts[0]
        if tier not in TIERS:
            raise pytest.UsageError(f"{item.nodeid}: tests live in a tier folder, one of {', '.join(TIERS)}")
        if tier == "unit" and "s3_server" in item.fixturenames:
            raise pytest.UsageError(f"{item.nodeid}: a unit test uses no S3 server; move it to tests/server")
        item.add_marker(tier)
        for fixture, capabilities in NEEDS_BY_FIXTURE.items():
            if fixture in item.fixturenames:
                item.add_marker(pytest.mark.s3_needs(*capabilities))
        rank[item] = TIERS.index(tier)
    # The quick tiers first; pytest-django then moves the database tests to the front.
    items.sort(key=lambda item: rank.get(item, len(TIERS)))
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
    """The buckets tests/settings.py declares; public ones stay private where policies are lacking.

    (initialize_buckets rightly refuses to create a public bucket it cannot make public; the tests
    that need one are marked ``s3_needs("bucket-policies")``, see NEEDS_BY_FIXTURE.)
    """
    if s3_server.supports("bucket-policies"):
        create_declared_buckets(storages_for(s3_server))
    else:
        client = s3_server.client()
        for bucket in (PRIVATE, PUBLIC, STATIC):
            create_bucket(client, bucket)
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
def stated_capabilities(s3_server):
    """Options that state what the server can do up front, from its description (S3Server.lacks)."""
    return {"MINIO_CONDITIONAL_WRITES": s3_server.supports("conditional-put")}


@pytest.fixture
def counted_storage(minio_settings, counter, stated_capabilities):
    """A storage whose requests ``counter`` counts. It states whether the server honours conditional
    writes (MINIO_CONDITIONAL_WRITES, from the server's description), so counts are a save's own
    requests; what learning it costs is counted in tests/server/test_core.py."""
    return MinioBackend(
        bucket_name=PRIVATE, storage_name="default", MINIO_HTTP_CLIENT=counter, **stated_capabilities
    )


@pytest.fixture
def name():
    """A fresh object name prefix, so tests never see each other's objects."""
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


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
    create_bucket(client, bucket, public=True)
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


@pytest.fixture(scope="session")
def redis_port() -> Iterator[int]:
    """A throw-away redis-server for the whole run; skips the test where it is not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server); CI installs it")
    with redis_server(binary) as port:
        yield port


@pytest.fixture(params=["locmem", "redis"])
def cache_kind(request, settings) -> Iterator[str]:
    """Django's default cache for this test: locmem, then Redis."""
    port = request.getfixturevalue("redis_port") if request.param == "redis" else None
    settings.CACHES = {"default": cache_config(request.param, port)}
    caches["default"].clear()
    yield request.param
    caches["default"].clear()


@pytest.fixture
def broken_ceph(tmp_path, monkeypatch) -> None:
    """Every Ceph program on PATH fails, so auto mode tries RGW and sees it fail."""
    fake_programs(tmp_path / "bin", _rgw.BINARIES, monkeypatch)
    monkeypatch.setenv("MINIO_TEST_SERVER", "auto")
    monkeypatch.delenv("MINIO_TEST_ENDPOINT", raising=False)
