"""Direct browser uploads: presigned PUT and POST, sent with urllib3 as a browser would send them."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import urllib3
from django.core.files.base import ContentFile

from django_minio_backend.errors import UploadVerificationError
from django_minio_backend.models import MinioBackend

from tests.support import PRIVATE, refused

browser = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=30))


def form_post(policy: dict, data: bytes, filename: str = "photo.txt", **overrides: str):
    """POST multipart/form-data like an HTML form: the policy's fields, then the file last."""
    fields = {**policy["fields"], **overrides}
    body = [*fields.items(), ("file", (filename, data, fields.get("Content-Type", "text/plain")))]
    return browser.request("POST", policy["url"], fields=body)


# -- end to end on the server ---------------------------------------------------------------------


@pytest.fixture
def located(minio_settings, name):
    """A storage whose objects live under a per-test MINIO_LOCATION."""
    return MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_LOCATION=f"{name}/media")


@pytest.mark.s3_needs("presigned-post")
def test_post_within_the_policy_is_stored_and_verified(located, name):
    policy = located.presigned_post("avatars/", max_size=100, content_type="text/*")
    response = form_post(policy, b"hello from a browser", filename="me.txt", **{"Content-Type": "text/plain"})
    assert response.status in (200, 201, 204), response.data
    stat = located.verify_upload("avatars/me.txt", expected_size=20, max_size=100)
    assert stat.object_name == f"{name}/media/avatars/me.txt"
    assert stat.content_type == "text/plain"
    assert located.open("avatars/me.txt").read() == b"hello from a browser"


@pytest.mark.s3_needs("presigned-post")
def test_post_to_one_name_is_stored(located):
    policy = located.presigned_post("exact/upload.bin", max_size=10, content_type="application/octet-stream")
    assert form_post(policy, b"12345").status in (200, 201, 204)
    assert located.verify_upload("exact/upload.bin", expected_size=5).size == 5


@pytest.mark.s3_needs("presigned-post")
@pytest.mark.s3_strict
def test_post_larger_than_max_size_is_rejected(located):
    policy = located.presigned_post("big/", max_size=10)
    response = form_post(policy, b"x" * 11)
    assert response.status == 400 and b"EntityTooLarge" in response.data
    assert not located.exists("big/photo.txt")


@pytest.mark.s3_needs("presigned-post")
@pytest.mark.s3_strict
def test_post_smaller_than_min_size_is_rejected(located):
    policy = located.presigned_post("small/", max_size=10, min_size=5)
    assert form_post(policy, b"1234").status == 400
    assert not located.exists("small/photo.txt")


@pytest.mark.s3_needs("presigned-post")
@pytest.mark.s3_strict
def test_post_under_a_wrong_key_prefix_is_rejected(located, name):
    policy = located.presigned_post("avatars/", max_size=100)
    outside = f"{name}/elsewhere/photo.txt"
    response = form_post(policy, b"sneaky", key=outside)
    assert refused(response)
    outside_storage = MinioBackend(bucket_name=PRIVATE, storage_name="default")
    assert not outside_storage.exists(outside)


@pytest.mark.s3_needs("presigned-post")
@pytest.mark.s3_strict
def test_post_to_another_name_than_granted_is_rejected(located, name):
    policy = located.presigned_post("one.txt", max_size=100)
    response = form_post(policy, b"sneaky", key=f"{name}/media/two.txt")
    assert refused(response)
    assert not located.exists("two.txt")


@pytest.mark.s3_needs("presigned-post")
@pytest.mark.s3_strict
def test_post_with_a_wrong_content_type_is_rejected(located):
    policy = located.presigned_post("imgs/", max_size=100, content_type="image/*")
    response = form_post(policy, b"<script>", filename="x.html", **{"Content-Type": "text/html"})
    assert refused(response)
    assert not located.exists("imgs/x.html")


@pytest.mark.s3_needs("presigned-post")
@pytest.mark.s3_strict
def test_post_after_expiry_is_rejected(located):
    policy = located.presigned_post("late/", max_size=100, expires=timedelta(seconds=1))
    time.sleep(2.5)
    response = form_post(policy, b"too late")
    assert refused(response)
    assert not located.exists("late/photo.txt")


def test_presigned_put_uploads_and_is_verified(located):
    url = located.presigned_put_url("put/file.bin", expires=timedelta(minutes=5))
    response = browser.request("PUT", url, body=b"put by a browser")
    assert response.status == 200, response.data
    assert located.verify_upload("put/file.bin", expected_size=16).size == 16


@pytest.mark.s3_strict
def test_tampered_presigned_put_is_rejected(located):
    url = located.presigned_put_url("put/granted.bin")
    other_name = url.replace("/put/granted.bin?", "/put/other.bin?")
    assert refused(browser.request("PUT", other_name, body=b"x"))
    signature = url.split("X-Amz-Signature=")[1][:64]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    assert refused(browser.request("PUT", url.replace(signature, flipped), body=b"x"))
    assert not located.exists("put/other.bin") and not located.exists("put/granted.bin")


@pytest.mark.s3_strict
def test_expired_presigned_put_is_rejected(located):
    url = located.presigned_put_url("put/late.bin", expires=timedelta(seconds=1))
    time.sleep(2.5)
    assert refused(browser.request("PUT", url, body=b"x"))
    assert not located.exists("put/late.bin")


def test_verify_upload_reports_missing_and_wrong_sizes(located):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        located.verify_upload("never/arrived.bin")
    located.save("sized.bin", ContentFile(b"123456"))
    with pytest.raises(UploadVerificationError, match="is 6 bytes, but 5 were expected"):
        located.verify_upload("sized.bin", expected_size=5)
    with pytest.raises(UploadVerificationError, match="more than the allowed 4"):
        located.verify_upload("sized.bin", max_size=4)
    assert located.verify_upload("sized.bin", expected_size=6, max_size=6).size == 6
