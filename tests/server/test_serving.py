"""stream_object and private_file_view against a real server, through Django's request objects:
headers, Range, conditional GET, request counts, pinning, sync and async bodies, the view's modes."""

from __future__ import annotations

import asyncio
import os
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.http import Http404
from django.test import RequestFactory
from django.utils.http import http_date

from django_minio_backend.errors import ObjectChangedError
from django_minio_backend.models import MinioBackend
from django_minio_backend.serving import ObjectResponse, astream_object, private_file_view, stream_object

from tests.support import PRIVATE, put

PAYLOAD = os.urandom(700_000)
factory = RequestFactory()


def body(response) -> bytes:
    return b"".join(response)


def abody(response) -> bytes:
    async def collect():
        return b"".join([part async for part in response])

    return asyncio.run(collect())


@pytest.fixture
def saved(counted_storage, name):
    return counted_storage.save(f"{name}/clip.mp4", ContentFile(PAYLOAD))


def test_full_download_one_head_one_get_and_the_headers(counted_storage, counter, saved):
    counter.reset()
    response = stream_object(factory.get("/"), counted_storage, saved)
    assert isinstance(response, ObjectResponse)
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(PAYLOAD))
    assert response["Content-Type"] == "video/mp4"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Disposition"] == 'inline; filename="clip.mp4"'
    stat = counted_storage.stat(saved)
    assert response["ETag"] == f'"{stat.etag}"'
    assert response["Last-Modified"] == http_date(stat.last_modified.timestamp())
    assert body(response) == PAYLOAD
    assert counter.methods() == ["HEAD", "GET", "HEAD"]
    get = counter.sent[1]
    assert "range" not in get.headers and get.headers["if-match"] == response["ETag"]


def test_async_iteration_gives_the_same_bytes(counted_storage, counter, saved):
    async def main():
        response = await astream_object(factory.get("/"), counted_storage, saved, as_attachment=True)
        return response, b"".join([part async for part in response])

    response, data = asyncio.run(main())
    assert data == PAYLOAD and response["Content-Disposition"] == 'attachment; filename="clip.mp4"'


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=10-99", 10, 99),
        ("bytes=699000-", 699000, 699999),
        ("bytes=-500", 699500, 699999),
        ("bytes=5-9999999", 5, 699999),
        ("bytes=0-0", 0, 0),
    ],
)
def test_a_range_is_206_from_one_ranged_get(counted_storage, counter, saved, header, start, end):
    counter.reset()
    response = stream_object(factory.get("/", HTTP_RANGE=header), counted_storage, saved)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(PAYLOAD)}"
    assert response["Content-Length"] == str(end - start + 1)
    assert abody(response) == PAYLOAD[start : end + 1]
    assert counter.methods() == ["HEAD", "GET"]
    assert counter.sent[1].headers["range"] == f"bytes={start}-{end}"


@pytest.mark.parametrize("header", ["bytes=700000-", "bytes=900000-900001", "bytes=-0"])
def test_an_unsatisfiable_range_is_416_without_a_get(counted_storage, counter, saved, header):
    counter.reset()
    response = stream_object(factory.get("/", HTTP_RANGE=header), counted_storage, saved)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(PAYLOAD)}"
    assert counter.methods() == ["HEAD"]


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-5", "bytes=9-3", "bytes=x-"])
def test_several_or_malformed_ranges_give_the_whole_object(counted_storage, saved, header):
    response = stream_object(factory.get("/", HTTP_RANGE=header), counted_storage, saved)
    assert response.status_code == 200 and body(response) == PAYLOAD


def test_if_range_that_does_not_match_gives_the_whole_object(counted_storage, saved):
    etag = counted_storage.stat(saved).etag
    stale = stream_object(
        factory.get("/", HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"old"'), counted_storage, saved
    )
    assert stale.status_code == 200 and len(body(stale)) == len(PAYLOAD)
    fresh = stream_object(
        factory.get("/", HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=f'"{etag}"'), counted_storage, saved
    )
    assert fresh.status_code == 206 and body(fresh) == PAYLOAD[:10]


def test_conditional_gets_are_304_from_the_head_alone(counted_storage, counter, saved):
    first = stream_object(factory.get("/"), counted_storage, saved)
    first.close()
    counter.reset()
    by_etag = stream_object(factory.get("/", HTTP_IF_NONE_MATCH=first["ETag"]), counted_storage, saved)
    by_date = stream_object(
        factory.get("/", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]), counted_storage, saved
    )
    assert by_etag.status_code == by_date.status_code == 304
    assert by_etag["ETag"] == first["ETag"] and not by_etag.content
    assert counter.methods() == ["HEAD", "HEAD"]
    other = stream_object(factory.get("/", HTTP_IF_NONE_MATCH='"other"'), counted_storage, saved)
    assert other.status_code == 200
    other.close()
    refused = stream_object(factory.get("/", HTTP_IF_MATCH='"other"'), counted_storage, saved)
    assert refused.status_code == 412


def test_head_requests_and_empty_objects_make_no_get(counted_storage, counter, name, saved):
    counter.reset()
    head = stream_object(factory.head("/"), counted_storage, saved)
    assert head.status_code == 200 and head["Content-Length"] == str(len(PAYLOAD))
    empty = counted_storage.save(f"{name}/empty.txt", ContentFile(b""))
    counter.reset()
    response = stream_object(factory.get("/"), counted_storage, empty)
    assert response.status_code == 200 and response["Content-Length"] == "0"
    assert counter.methods() == ["HEAD"]
    assert stream_object(factory.get("/", HTTP_RANGE="bytes=0-"), counted_storage, empty).status_code == 416


def test_non_ascii_names_get_an_rfc_5987_disposition(counted_storage, name):
    saved = counted_storage.save(f"{name}/résumé 2025.pdf", ContentFile(b"%PDF"))
    response = stream_object(factory.get("/"), counted_storage, saved, as_attachment=True)
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''r%C3%A9sum%C3%A9%202025.pdf"
    assert response["Content-Type"] == "application/pdf"
    assert body(response) == b"%PDF"


def test_a_missing_object_is_404(counted_storage, name):
    with pytest.raises(Http404):
        stream_object(factory.get("/"), counted_storage, f"{name}/missing.bin")


def test_replaced_mid_download_ends_with_an_error_not_mixed_bytes(minio_settings, proxy, s3_server, name):
    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_ENDPOINT=proxy.endpoint)
    saved = storage.save(f"{name}/v.bin", ContentFile(b"a" * 2_000_000))
    response = stream_object(factory.get("/"), storage, saved)
    parts = iter(response)
    received = next(parts)
    put(s3_server, PRIVATE, storage.store.key(saved), b"b" * 2_000_000)
    response.body_range._response.close()  # the open connection ends: the next read resumes, pinned
    with pytest.raises(ObjectChangedError):
        for part in parts:
            received += part
    assert set(received) == {ord("a")} and len(received) < 2_000_000


def test_a_cut_connection_resumes_pinned_and_the_body_is_whole(minio_settings, proxy, name):
    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_ENDPOINT=proxy.endpoint)
    saved = storage.save(f"{name}/r.bin", ContentFile(PAYLOAD))
    proxy.set("cut_response", match=lambda method, _: method == "GET", after=300_000, times=1)
    response = stream_object(factory.get("/", HTTP_RANGE="bytes=1000-"), storage, saved)
    assert body(response) == PAYLOAD[1000:]


def test_the_view_redirects_to_a_short_presigned_url_with_no_request(counted_storage, counter, saved, http):
    view = private_file_view(counted_storage, permission=lambda request, name: True, as_attachment=True)
    counter.reset()
    response = view(factory.get("/"), saved)
    assert response.status_code == 302 and counter.methods() == []
    assert response["Cache-Control"] == "private, no-store"
    assert "X-Amz-Expires=60" in response["Location"]
    fetched = http.request("GET", response["Location"])
    assert fetched.status == 200 and fetched.data == PAYLOAD
    assert fetched.headers["Content-Disposition"] == 'attachment; filename="clip.mp4"'


def test_the_view_refuses_by_permission_with_404_or_403(counted_storage, counter, saved):
    request = factory.get("/")
    request.user = AnonymousUser()
    from django_minio_backend.serving import authenticated

    counter.reset()
    with pytest.raises(Http404):
        private_file_view(counted_storage, permission=authenticated)(request, saved)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        private_file_view(counted_storage, permission=authenticated, deny_status=403)(request, saved)
    assert counter.methods() == []
    assert (
        private_file_view(counted_storage, permission=authenticated)(factory.post("/"), saved).status_code
        == 405
    )


def test_the_view_streams_and_hands_off_to_nginx(counted_storage, saved):
    allow = lambda request, name: True  # noqa: E731
    streamed = private_file_view(counted_storage, permission=allow, mode="stream")(
        factory.get("/", HTTP_RANGE="bytes=0-99"), saved
    )
    assert streamed.status_code == 206 and body(streamed) == PAYLOAD[:100]
    accel = private_file_view(counted_storage, permission=allow, mode="accel")(factory.get("/"), saved)
    target = accel["X-Accel-Redirect"]
    assert target.startswith(f"/_minio_private/{PRIVATE}/{saved}?") and "X-Amz-Signature=" in target
    assert "Content-Type" not in accel and not accel.content
    with pytest.raises(ValueError, match="mode"):
        private_file_view(counted_storage, permission=allow, mode="proxy")
    assert urlsplit(target).query
