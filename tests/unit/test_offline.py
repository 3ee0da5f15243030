"""Behaviour that needs no server: no I/O at construction, URLs without requests, refusals."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile

from django_minio_backend.conf.options import DEFAULT_MEDIA_BUCKET
from django_minio_backend.models import MinioBackend

from tests.support import CountingPoolManager, offline_storage


@pytest.fixture
def offline_counter():
    return CountingPoolManager()


def test_construction_and_client_building_make_no_request(offline_counter):
    storage = offline_storage(offline_counter)
    storage.client, storage.client_external  # noqa: B018
    assert offline_counter.requests == []


def test_private_url_is_presigned_for_the_external_endpoint_without_a_request(offline_counter):
    storage = offline_storage(
        offline_counter,
        MINIO_EXTERNAL_ENDPOINT="files.example.com",
        MINIO_EXTERNAL_ENDPOINT_USE_HTTPS=True,
        MINIO_URL_EXPIRY_HOURS=timedelta(hours=2),
    )
    url = urlsplit(storage.url("reports/q1 2026.pdf"))
    query = parse_qs(url.query)
    assert (url.scheme, url.netloc) == ("https", "files.example.com")
    assert url.path == "/test-private/reports/q1%202026.pdf"
    assert query["X-Amz-Expires"] == ["7200"]
    assert "X-Amz-Signature" in query
    assert query["X-Amz-Credential"][0].split("/")[2] == "us-east-1"
    assert offline_counter.requests == []


def test_per_call_expiry_and_response_headers(offline_counter):
    storage = offline_storage(offline_counter)
    url = storage.url(
        "a.pdf",
        expires=timedelta(minutes=5),
        response_headers={"response-content-disposition": 'attachment; filename="a.pdf"'},
    )
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["response-content-disposition"] == ['attachment; filename="a.pdf"']
    assert offline_counter.requests == []


def test_public_url_is_plain_and_path_encoded(offline_counter):
    storage = MinioBackend(
        bucket_name="test-public", storage_name="default", MINIO_HTTP_CLIENT=offline_counter
    )
    assert storage.url("a b/c+d é.png") == "http://127.0.0.1:9/test-public/a%20b/c%2Bd%20%C3%A9.png"
    assert offline_counter.requests == []


def test_public_base_url_replaces_endpoint_and_bucket(offline_counter):
    storage = MinioBackend(
        bucket_name="test-public", storage_name="default", MINIO_PUBLIC_BASE_URL="https://cdn.example.com/m/"
    )
    assert storage.url("x/y.css") == "https://cdn.example.com/m/x/y.css"


def test_compatible_properties():
    storage = MinioBackend(storage_name="default", MINIO_EXTERNAL_ENDPOINT="ext.example.com")
    assert storage.bucket == "test-private"
    assert storage.base_url == "http://127.0.0.1:9/"
    assert storage.base_url_external == "http://ext.example.com/"
    assert storage.same_endpoints is False
    assert storage.PRIVATE_BUCKETS == ["test-private"]
    assert storage.PUBLIC_BUCKETS == ["test-public"]
    assert MinioBackend(storage_name="default", MINIO_DEFAULT_BUCKET=DEFAULT_MEDIA_BUCKET).bucket == (
        DEFAULT_MEDIA_BUCKET
    )


@pytest.mark.parametrize("method", ["path", "get_created_time", "get_accessed_time"])
def test_unsupported_methods_raise_not_implemented(method):
    with pytest.raises(NotImplementedError):
        getattr(MinioBackend(), method)("a.txt")


@pytest.mark.parametrize("mode", ["a", "r+", "rb+", "x", "wb+"])
def test_other_write_modes_are_refused_before_any_request(offline_counter, mode):
    with pytest.raises(ValueError, match=r'reading \("rb", "r"\) or writing \("wb", "w"\)'):
        offline_storage(offline_counter).open("a.txt", mode)
    assert offline_counter.requests == []


@pytest.mark.parametrize("mode", ["w", "wb"])
def test_opening_for_writing_makes_no_request_until_written(offline_counter, mode):
    handle = offline_storage(offline_counter).open("a.txt", mode)
    assert offline_counter.requests == []
    handle.abort()
    assert offline_counter.requests == []


def test_read_only_mode_refuses_writes_but_gives_urls(offline_counter):
    storage = offline_storage(offline_counter, MINIO_READ_ONLY=True)
    with pytest.raises(PermissionError, match="MINIO_READ_ONLY"):
        storage.save("a.txt", ContentFile(b"x"))
    with pytest.raises(PermissionError, match="MINIO_READ_ONLY"):
        storage.delete("a.txt")
    assert storage.url("a.txt").startswith("http://127.0.0.1:9/test-private/a.txt?")
    assert offline_counter.requests == []


def test_package_root_exports_load_lazily():
    import subprocess
    import sys

    code = (
        "import sys, django_minio_backend as d; "
        "assert 'django_minio_backend.storage' not in sys.modules; "
        "assert 'minio' not in sys.modules; "
        "assert sorted(d.__all__) == ['DjangoMinioBackendConfig', 'MinioBackend', 'MinioBackendStatic', "
        "'MinioManifestStaticStorage', 'MinioMultiBucketStorage', 'get_iso_date', 'iso_date_prefix']"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    import django_minio_backend
    from django_minio_backend.models import MinioBackend as FromModels

    assert django_minio_backend.MinioBackend is FromModels
