"""url(name, version_id=...) on a bucket with versioning enabled: each URL returns its version's bytes."""

from __future__ import annotations

import pytest
import urllib3
from django.core.files.base import ContentFile
from minio.commonconfig import ENABLED
from minio.versioningconfig import VersioningConfig

from django_minio_backend.models import MinioBackend
from django_minio_backend.testing import empty_bucket

from tests.support import PRIVATE, PUBLIC

VERSIONED = "test-versioned"


@pytest.fixture
def versioned_storage(minio_settings, s3_server, counter):
    client = s3_server.client()
    if not client.bucket_exists(bucket_name=VERSIONED):
        client.make_bucket(bucket_name=VERSIONED)
    client.set_bucket_versioning(bucket_name=VERSIONED, config=VersioningConfig(ENABLED))
    yield MinioBackend(
        bucket_name=VERSIONED,
        storage_name="default",
        replace_existing=True,
        MINIO_PRIVATE_BUCKETS=[PRIVATE, VERSIONED],
        MINIO_HTTP_CLIENT=counter,
    )
    empty_bucket(s3_server, VERSIONED)


def get(url):
    response = urllib3.PoolManager().request("GET", url, retries=False)
    return response.status, response.data, response.headers


def test_each_version_url_returns_its_own_bytes(versioned_storage, counter, name):
    storage = versioned_storage
    key = f"{name}/report.txt"
    storage.save(key, ContentFile(b"first version"))
    first = storage.stat(key).version_id
    storage.save(key, ContentFile(b"second, longer version"))
    second = storage.stat(key).version_id
    assert first and second and first != second

    counter.reset()
    urls = {version: storage.url(key, version_id=version) for version in (first, second)}
    latest = storage.url(key)
    assert counter.requests == []  # signing is local
    assert f"versionId={first}" in urls[first]

    assert get(urls[first])[:2] == (200, b"first version")
    assert get(urls[second])[:2] == (200, b"second, longer version")
    assert get(latest)[:2] == (200, b"second, longer version")


def test_version_id_keeps_the_response_header_overrides(versioned_storage, name):
    storage = versioned_storage
    key = f"{name}/invoice.pdf"
    storage.save(key, ContentFile(b"v1"))
    first = storage.stat(key).version_id
    storage.save(key, ContentFile(b"v2"))
    url = storage.url(
        key,
        version_id=first,
        response_headers={"response-content-disposition": 'attachment; filename="old-invoice.pdf"'},
    )
    status, body, headers = get(url)
    assert (status, body) == (200, b"v1")
    assert headers["Content-Disposition"] == 'attachment; filename="old-invoice.pdf"'


def test_public_bucket_signs_a_version_url(public_storage, s3_server):
    # The public policy grants GetObject (the current version) only, so a version URL is signed.
    url = public_storage.url("a.txt", version_id="v-123")
    assert url.startswith(f"{s3_server.url}/{PUBLIC}/a.txt?")
    assert "versionId=v-123" in url and "X-Amz-Signature=" in url
    assert public_storage.url("a.txt") == f"{s3_server.url}/{PUBLIC}/a.txt"
