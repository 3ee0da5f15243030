"""The private-file view under real servers: uvicorn (ASGI) and waitress (WSGI) in subprocesses.

50 concurrent downloads of a 64 MiB object through the streaming view: every body byte-exact and
the server's peak RSS bounded (a few MiB per download, not 64). Range, 304, 416, the permission and
the redirect are checked with a plain HTTP client.
"""

from __future__ import annotations

import hashlib
import os

import pytest
from django.core.files.base import ContentFile

from tests.support import PRIVATE, MiB
from tests.support.serving import SERVERS, download_all, fetch, served

SIZE = 64 * MiB
DOWNLOADS = 50
PER_DOWNLOAD_BUDGET = 4 * MiB  # measured: about 1.5 MiB under uvicorn, 2 MiB under waitress
TOKEN = "token=let-me-in"


@pytest.fixture(scope="module")
def big_object(s3_server, s3_buckets, tmp_path_factory):
    from django_minio_backend.models import MinioBackend

    payload = os.urandom(SIZE)
    storage = MinioBackend(bucket_name=PRIVATE, **s3_server.storage_options(MINIO_PRIVATE_BUCKETS=[PRIVATE]))
    name = storage.save(f"serving-{os.getpid()}/big.bin", ContentFile(payload))
    yield name, payload, hashlib.sha256(payload).hexdigest()
    storage.delete(name)


@pytest.mark.parametrize("kind", SERVERS)
def test_fifty_concurrent_64_mib_downloads_are_exact_in_bounded_memory(kind, s3_server, big_object, tmp_path):
    name, _, digest = big_object
    with served(kind, s3_server, PRIVATE, tmp_path) as server:
        assert fetch(f"{server.base}/stream/{name}?{TOKEN}", {"Range": "bytes=0-9"})[0] == 206  # warm
        before = server.peak_rss()
        results, seconds = download_all(f"{server.base}/stream/{name}?{TOKEN}", DOWNLOADS)
        peak = server.peak_rss()
    assert [status for status, *_ in results] == [200] * DOWNLOADS
    assert all(length == SIZE and sha == digest for _, _, sha, length in results)
    growth = peak - before
    print(
        f"{kind}: {DOWNLOADS} x 64 MiB in {seconds:.1f} s, peak RSS {peak / MiB:.0f} MiB (+{growth / MiB:.0f})"
    )
    assert growth < DOWNLOADS * PER_DOWNLOAD_BUDGET
    assert "must consume" not in (tmp_path / f"{kind}.log").read_text()  # Django never listed a body


@pytest.mark.parametrize("kind", SERVERS)
def test_range_304_416_permission_and_redirect_with_a_real_client(kind, s3_server, big_object, tmp_path):
    name, payload, digest = big_object
    with served(kind, s3_server, PRIVATE, tmp_path) as server:
        url = f"{server.base}/stream/{name}?{TOKEN}"
        status, headers, sha, length = fetch(url, {"Range": "bytes=1000-2000999"})
        assert (status, length) == (206, 2_000_000)
        assert headers["content-range"] == f"bytes 1000-2000999/{SIZE}"
        assert sha == hashlib.sha256(payload[1000:2001000]).hexdigest()
        status, headers, _, _ = fetch(url, {"Range": "bytes=0-0"})
        assert fetch(url, {"If-None-Match": headers["etag"]})[0] == 304
        assert fetch(url, {"If-Modified-Since": headers["last-modified"]})[0] == 304
        assert fetch(url, {"Range": f"bytes={SIZE}-"})[0] == 416
        assert fetch(f"{server.base}/stream/{name}")[0] == 404  # no token: the policy refuses
        assert fetch(f"{server.base}/stream/nothing-here?{TOKEN}")[0] == 404
        status, headers, _, _ = fetch(f"{server.base}/redirect/{name}?{TOKEN}")
        assert status == 302 and "X-Amz-Signature=" in headers["location"]
        status, _, sha, _ = fetch(headers["location"], {"Range": "bytes=0-999"})
        assert status == 206 and sha == hashlib.sha256(payload[:1000]).hexdigest()
        if kind == "asgi":  # an async view awaiting astream_object
            status, _, sha, length = fetch(f"{server.base}/astream/{name}", {"Range": "bytes=-5000000"})
            assert (status, length) == (206, 5_000_000)
            assert sha == hashlib.sha256(payload[-5_000_000:]).hexdigest()
        assert digest
