"""The embedded S3 test servers (django_minio_backend.testing) really serve and enforce S3."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import urllib3
from minio import Minio
from minio.datatypes import PostPolicy
from minio.error import S3Error
from minio.versioningconfig import ENABLED, VersioningConfig

from django_minio_backend.testing import S3Server, _rgw, empty_bucket, start_server
from django_minio_backend.testing._process import pid_alive

from tests.support import keys, put, refused
from tests.support.processes import assert_start_left_nothing, fake_programs

DENIED_CODES = {"SignatureDoesNotMatch", "AccessDenied", "InvalidAccessKeyId"}


@pytest.fixture
def bucket(s3_server: S3Server) -> Iterator[str]:
    name = f"servers-{uuid.uuid4().hex[:12]}"
    client = s3_server.client()
    client.make_bucket(bucket_name=name)
    yield name
    empty_bucket(s3_server, name)
    client.remove_bucket(bucket_name=name)


def read_object(client: Minio, bucket: str, key: str) -> bytes:
    response = client.get_object(bucket_name=bucket, object_name=key)
    try:
        return response.read()
    finally:
        response.close()
        response.release_conn()


def test_server_description(s3_server: S3Server) -> None:
    assert s3_server.kind in ("rgw", "rgw-cluster", "moto", "swift", "external")
    assert s3_server.strict is (s3_server.kind != "moto")
    assert s3_server.url == f"http{'s' if s3_server.use_https else ''}://{s3_server.endpoint}"
    if s3_server.kind != "external":
        assert s3_server.endpoint.startswith("127.0.0.1:")
    assert s3_server.secret_key not in repr(s3_server)
    options = s3_server.storage_options(MINIO_DEFAULT_BUCKET="x")
    assert options["MINIO_ENDPOINT"] == s3_server.endpoint
    assert options["MINIO_SECRET_KEY"] == s3_server.secret_key
    assert options["MINIO_REGION"] == s3_server.region
    assert options["MINIO_DEFAULT_BUCKET"] == "x"


def test_object_round_trip(s3_server: S3Server, bucket: str) -> None:
    client = s3_server.client()
    assert client.bucket_exists(bucket_name=bucket)
    put(s3_server, bucket, "dir/a.txt", b"first")
    put(s3_server, bucket, "dir/sub/b.txt", b"second, longer")

    assert read_object(client, bucket, "dir/a.txt") == b"first"
    assert client.stat_object(bucket_name=bucket, object_name="dir/sub/b.txt").size == 14
    assert keys(s3_server, bucket) == ["dir/a.txt", "dir/sub/b.txt"]
    top = client.list_objects(bucket_name=bucket, prefix="dir/")
    assert sorted(obj.object_name for obj in top) == ["dir/a.txt", "dir/sub/"]

    client.remove_object(bucket_name=bucket, object_name="dir/a.txt")
    assert keys(s3_server, bucket) == ["dir/sub/b.txt"]
    with pytest.raises(S3Error) as info:
        client.stat_object(bucket_name=bucket, object_name="dir/a.txt")
    assert info.value.code in ("NoSuchKey", "ResourceNotFound")


def test_client_without_region_discovers_it(
    s3_server: S3Server, bucket: str, http: urllib3.PoolManager
) -> None:
    # Asks GetBucketLocation; on RGW that answers the zonegroup's api name (us-east-1).
    client = Minio(
        endpoint=s3_server.endpoint,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        secure=s3_server.use_https,
    )
    data = b"signed for the right region"
    client.put_object(bucket_name=bucket, object_name="region.txt", data=io.BytesIO(data), length=len(data))
    url = client.presigned_get_object(
        bucket_name=bucket, object_name="region.txt", expires=timedelta(minutes=5)
    )
    assert f"%2F{s3_server.region}%2Fs3%2F" in url
    response = http.request("GET", url)
    assert response.status == 200
    assert response.data == data


def test_empty_bucket_removes_every_object(s3_server: S3Server, bucket: str) -> None:
    for key in ("a", "b/c", "b/d/e"):
        put(s3_server, bucket, key, key.encode())
    assert empty_bucket(s3_server, bucket) == 3
    assert keys(s3_server, bucket) == []
    assert empty_bucket(s3_server, bucket) == 0


def test_empty_bucket_removes_every_version(s3_server: S3Server, bucket: str) -> None:
    client = s3_server.client()
    client.set_bucket_versioning(bucket_name=bucket, config=VersioningConfig(ENABLED))
    put(s3_server, bucket, "v.txt", b"one")
    put(s3_server, bucket, "v.txt", b"two")
    client.remove_object(bucket_name=bucket, object_name="v.txt")  # leaves a delete marker
    versions = list(client.list_objects(bucket_name=bucket, include_version=True))
    assert len(versions) == 3
    assert empty_bucket(s3_server, bucket) == 3
    assert list(client.list_objects(bucket_name=bucket, include_version=True)) == []


@pytest.mark.s3_needs("presigned-post")
def test_presigned_post_policy_upload(s3_server: S3Server, bucket: str, http: urllib3.PoolManager) -> None:
    policy = PostPolicy(bucket, datetime.now(UTC) + timedelta(minutes=5))
    policy.add_equals_condition("key", "posted/form.txt")
    fields = s3_server.client().presigned_post_policy(policy)
    form = {**fields, "key": "posted/form.txt", "file": ("form.txt", b"from a form")}
    response = http.request("POST", f"{s3_server.url}/{bucket}", fields=form)
    assert response.status in (200, 201, 204), response.data
    assert read_object(s3_server.client(), bucket, "posted/form.txt") == b"from a form"


@pytest.mark.s3_needs("bucket-policies")
def test_bucket_policy_allows_anonymous_read(
    s3_server: S3Server, bucket: str, http: urllib3.PoolManager
) -> None:
    put(s3_server, bucket, "public/a.txt", b"for everyone")
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": ["*"]},
        "Action": ["s3:GetObject"],
        "Resource": [f"arn:aws:s3:::{bucket}/public/*"],
    }
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    s3_server.client().set_bucket_policy(bucket_name=bucket, policy=policy)
    response = http.request("GET", f"{s3_server.url}/{bucket}/public/a.txt")
    assert response.status == 200
    assert response.data == b"for everyone"


@pytest.mark.s3_strict
@pytest.mark.parametrize("wrong", ["secret", "access key"])
def test_wrong_credentials_are_rejected(s3_server: S3Server, bucket: str, wrong: str) -> None:
    client = Minio(
        endpoint=s3_server.endpoint,
        access_key="NOSUCHACCESSKEY00000" if wrong == "access key" else s3_server.access_key,
        secret_key=s3_server.secret_key + "x" if wrong == "secret" else s3_server.secret_key,
        secure=s3_server.use_https,
        region=s3_server.region,
    )
    with pytest.raises(S3Error) as info:
        client.put_object(bucket_name=bucket, object_name="forged.txt", data=io.BytesIO(b"no"), length=2)
    assert info.value.code in DENIED_CODES
    assert keys(s3_server, bucket) == []


@pytest.mark.s3_strict
def test_anonymous_get_of_private_object_is_forbidden(
    s3_server: S3Server, bucket: str, http: urllib3.PoolManager
) -> None:
    put(s3_server, bucket, "private.txt", b"secret content")
    response = http.request("GET", f"{s3_server.url}/{bucket}/private.txt")
    assert refused(response)
    assert b"secret content" not in response.data


def tamper_signature(url: str) -> str:
    signature = parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]
    changed = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    return url.replace(f"X-Amz-Signature={signature}", f"X-Amz-Signature={changed}")


@pytest.mark.s3_strict
def test_tampered_presigned_url_is_rejected(
    s3_server: S3Server, bucket: str, http: urllib3.PoolManager
) -> None:
    put(s3_server, bucket, "presigned.txt", b"only with a valid signature")
    url = s3_server.client().presigned_get_object(
        bucket_name=bucket, object_name="presigned.txt", expires=timedelta(minutes=5)
    )
    assert http.request("GET", url).status == 200
    forged = tamper_signature(url)
    assert forged != url
    response = http.request("GET", forged)
    assert refused(response)
    assert b"only with a valid signature" not in response.data


@pytest.mark.s3_strict
def test_expired_presigned_url_is_rejected(
    s3_server: S3Server, bucket: str, http: urllib3.PoolManager
) -> None:
    put(s3_server, bucket, "expiring.txt", b"short-lived")
    url = s3_server.client().presigned_get_object(
        bucket_name=bucket, object_name="expiring.txt", expires=timedelta(seconds=1)
    )
    time.sleep(2)
    response = http.request("GET", url)
    assert refused(response)
    assert b"short-lived" not in response.data


def test_second_server_starts_and_stops_cleanly(s3_server: S3Server, bucket: str) -> None:
    if s3_server.kind == "external":
        pytest.skip("an external server is not started or stopped by the tests")
    running = start_server(s3_server.kind)
    second = running.server
    try:
        assert second.kind == s3_server.kind
        assert second.endpoint != s3_server.endpoint
        assert running.pids and all(pid_alive(pid) for pid in running.pids)
        assert running.workdir is not None and running.workdir.is_dir()
        client = second.client()
        client.make_bucket(bucket_name="second-server")
        assert [b.name for b in client.list_buckets()] == ["second-server"]
    finally:
        running.stop()
    assert running.stopped
    assert not any(pid_alive(pid) for pid in running.pids)
    assert not running.workdir.exists()
    running.stop()  # idempotent

    # The session's server is untouched.
    put(s3_server, bucket, "still-here.txt", b"yes")
    assert read_object(s3_server.client(), bucket, "still-here.txt") == b"yes"


def test_context_manager_stops_server() -> None:
    with start_server("moto") as running:
        assert running.alive()
        pids = running.pids
    assert not running.alive()
    assert not any(pid_alive(pid) for pid in pids)


INNER_TESTS = """
import io, os
import pytest

def test_fills_bucket(s3_clean_buckets):
    client = s3_clean_buckets.client()
    for key in ("x", "y/z"):
        client.put_object(bucket_name=os.environ["INNER_BUCKET"], object_name=key,
                          data=io.BytesIO(b"1"), length=1)

@pytest.mark.s3_strict
def test_strict(s3_server):
    assert s3_server.strict

def test_without_server():
    pass
"""


def run_inner_pytest(tmp_path: Path, env: dict[str, str]) -> str:
    """Run pytest with only this plugin on INNER_TESTS in a fresh directory; return its output."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_inner.py").write_text(INNER_TESTS)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MINIO_TEST_", "DJANGO_"))}
    argv = [sys.executable, "-m", "pytest", "-ra", "-p", "no:cacheprovider", "-p", "no:django"]
    argv += ["-p", "no:django_minio_backend", "-p", "django_minio_backend.testing.pytest_plugin"]
    result = subprocess.run(argv, cwd=tmp_path, env=base | env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_plugin_cleans_buckets_and_reports_server(s3_server: S3Server, bucket: str, tmp_path: Path) -> None:
    env = {
        "MINIO_TEST_SERVER": "external",
        "MINIO_TEST_ENDPOINT": s3_server.endpoint,
        "MINIO_TEST_ACCESS_KEY": s3_server.access_key,
        "MINIO_TEST_SECRET_KEY": s3_server.secret_key,
        "MINIO_TEST_USE_HTTPS": "1" if s3_server.use_https else "0",
        "MINIO_TEST_REGION": s3_server.region,
        "INNER_BUCKET": bucket,
    }
    out = run_inner_pytest(tmp_path, env)
    assert "S3 test server: external (MINIO_TEST_SERVER=external)" in out
    assert "3 passed" in out
    assert f"S3 test server used: external at {s3_server.url}" in out
    assert keys(s3_server, bucket) == []


def test_auto_falls_back_to_moto_when_rgw_fails(
    broken_ceph: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("S3_STRICT", raising=False)
    caplog.set_level(logging.WARNING, logger="django_minio_backend.testing")
    with start_server() as running:
        assert running.server.kind == "moto"
    assert "falling back to moto" in caplog.text
    assert "fake ceph-authtool failed" in caplog.text


@pytest.mark.skipif(not _rgw.available(), reason="Ceph RGW programs are not installed")
def test_rgw_failing_late_stops_its_daemons(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_programs(tmp_path / "bin", ("radosgw",), monkeypatch)
    with pytest.raises(RuntimeError, match="Ceph RGW did not start") as info:
        start_server("rgw")
    assert "fake radosgw failed" in str(info.value)
    assert "--- mon.a.log" in str(info.value)
    assert_start_left_nothing(info.value)
