"""The presigned URL cache on Django's cache framework: locmem, and Redis when redis-server exists."""

from __future__ import annotations

import pytest
import urllib3
from django.core.files.base import ContentFile

from django_minio_backend.models import MinioBackend

from tests.support import PRIVATE, CountingPoolManager, url_cache_entry

http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=30))


# -- invalidation, against the S3 server ----------------------------------------------------------


@pytest.fixture
def caching_storage(minio_settings, cache_kind):
    return MinioBackend(
        bucket_name=PRIVATE, storage_name="default", MINIO_URL_CACHING_ENABLED=True, replace_existing=True
    )


def test_save_and_delete_invalidate_their_entry(caching_storage, name):
    storage = caching_storage
    saved = storage.save(f"{name}/inv.txt", ContentFile(b"one"))
    url = storage.url(saved)
    other = storage.save(f"{name}/other.txt", ContentFile(b"other"))
    other_url = storage.url(other)
    assert http.request("GET", url).data == b"one"
    assert url_cache_entry(storage, saved)[1] == url

    assert storage.save(saved, ContentFile(b"two")) == saved
    assert url_cache_entry(storage, saved) is None
    assert url_cache_entry(storage, other)[1] == other_url
    assert http.request("GET", storage.url(saved)).data == b"two"

    storage.delete(saved)
    assert url_cache_entry(storage, saved) is None
    assert url_cache_entry(storage, other)[1] == other_url


def test_cached_url_reads_the_private_object_with_zero_requests_per_call(minio_settings, cache_kind, name):
    counter = CountingPoolManager()
    storage = MinioBackend(
        bucket_name=PRIVATE, storage_name="default", MINIO_URL_CACHING_ENABLED=True, MINIO_HTTP_CLIENT=counter
    )
    saved = storage.save(f"{name}/z.txt", ContentFile(b"zero"))
    counter.reset()
    urls = {storage.url(saved) for _ in range(20)}
    assert counter.requests == []
    assert len(urls) == 1
    assert http.request("GET", urls.pop()).data == b"zero"


# -- system check -------------------------------------------------------------------------------
