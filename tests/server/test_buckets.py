"""initialize_buckets, policies, demotion, hooks, the start-up check and the bucket check on save."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from minio.error import S3Error

from django_minio_backend import apps
from django_minio_backend.conf.buckets import plan_buckets
from django_minio_backend.core import state
from django_minio_backend.core.buckets import public_read_policy
from django_minio_backend.errors import ConfigurationError, UnsupportedByServerError
from django_minio_backend.models import MinioBackend
from django_minio_backend.ops import startup
from django_minio_backend.ops.buckets import initialize_buckets

from tests.support import put, refused

MEDIA = "django_minio_backend.models.MinioBackend"
STATIC = "django_minio_backend.models.MinioBackendStatic"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def storages_for(server, *, private=(), public=(), default=None, static=None, **extra):
    options = server.storage_options(
        MINIO_PRIVATE_BUCKETS=list(private),
        MINIO_PUBLIC_BUCKETS=list(public),
        MINIO_DEFAULT_BUCKET=default or (list(private) + list(public))[0],
        **extra,
    )
    result = {"default": {"BACKEND": MEDIA, "OPTIONS": options}}
    if static:
        result["staticfiles"] = {
            "BACKEND": STATIC,
            "OPTIONS": {**options, "MINIO_STATIC_FILES_BUCKET": static},
        }
    return result


def policy_of(server, bucket):
    try:
        return json.loads(server.client().get_bucket_policy(bucket_name=bucket))
    except S3Error as error:
        assert error.code == "NoSuchBucketPolicy"
        return None


def test_plan_reads_settings_only(settings, s3_server, counter):
    settings.STORAGES = storages_for(
        s3_server, private=["p-a"], public=["p-b"], default="p-c", static="p-s", MINIO_HTTP_CLIENT=counter
    )
    plan = {spec.bucket: spec.visibility for spec in plan_buckets()}
    assert plan == {"p-a": "private", "p-b": "public", "p-c": "private", "p-s": "public"}
    assert counter.requests == []


def test_plan_rejects_a_bucket_public_in_one_alias_and_private_in_another(settings, s3_server):
    settings.STORAGES = storages_for(s3_server, private=["shared-b"], static="shared-b")
    with pytest.raises(ConfigurationError, match="shared-b"):
        plan_buckets()
    with pytest.raises(CommandError, match="shared-b"):
        call_command("initialize_buckets", stdout=io.StringIO())


@pytest.mark.s3_needs("bucket-policies")
def test_initialize_creates_every_bucket_then_changes_nothing(settings, s3_server, counter):
    private = [unique("ib-priv") for _ in range(3)]
    public = [unique("ib-pub") for _ in range(3)]
    static = unique("ib-static")
    settings.STORAGES = storages_for(
        s3_server, private=private, public=public, static=static, MINIO_HTTP_CLIENT=counter
    )
    results = initialize_buckets()
    assert all(result.ok for result in results)
    assert len(results) == 7
    # Per bucket: one GetBucketPolicy (says "no such bucket"), one CreateBucket, and for the
    # four public buckets one PutBucketPolicy.
    assert len(counter.requests) == 7 + 7 + 4
    client = s3_server.client()
    for bucket in [*private, *public, static]:
        assert client.bucket_exists(bucket_name=bucket)
    for bucket in private:
        assert policy_of(s3_server, bucket) is None
    for bucket in [*public, static]:
        assert policy_of(s3_server, bucket) == public_read_policy(bucket)

    counter.reset()
    again = initialize_buckets()
    assert [result.changes for result in again] == [[]] * 7
    assert counter.methods() == ["GET"] * 7  # one read per bucket, no write


@pytest.mark.s3_strict
@pytest.mark.s3_needs("bucket-policies")
def test_public_bucket_is_readable_but_never_listable(settings, s3_server, http):
    bucket = unique("ib-public")
    settings.STORAGES = storages_for(s3_server, public=[bucket])
    call_command("initialize_buckets", stdout=io.StringIO())
    put(s3_server, bucket, "hello.txt", b"hello")
    assert http.request("GET", f"{s3_server.url}/{bucket}/hello.txt").data == b"hello"
    assert refused(http.request("GET", f"{s3_server.url}/{bucket}/"))
    assert refused(http.request("GET", f"{s3_server.url}/{bucket}?list-type=2"))


@pytest.mark.s3_needs("bucket-policies")
def test_demotion_removes_the_public_policy(settings, s3_server, http):
    bucket = unique("ib-demote")
    settings.STORAGES = storages_for(s3_server, public=[bucket])
    call_command("initialize_buckets", stdout=io.StringIO())
    put(s3_server, bucket, "a.txt")
    assert http.request("GET", f"{s3_server.url}/{bucket}/a.txt").status == 200

    settings.STORAGES = storages_for(s3_server, private=[bucket])
    out = io.StringIO()
    call_command("initialize_buckets", stdout=out)
    assert "remove the public-read policy" in out.getvalue()
    assert policy_of(s3_server, bucket) is None
    assert refused(http.request("GET", f"{s3_server.url}/{bucket}/a.txt"))


@pytest.mark.s3_strict
@pytest.mark.s3_needs("bucket-policies")
def test_an_older_listable_public_policy_is_narrowed_to_get_object(settings, s3_server, http):
    bucket = unique("ib-legacy")
    s3_server.client().make_bucket(bucket_name=bucket)
    listable = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
                "Resource": f"arn:aws:s3:::{bucket}",
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            },
        ],
    }
    s3_server.client().set_bucket_policy(bucket_name=bucket, policy=json.dumps(listable))
    assert http.request("GET", f"{s3_server.url}/{bucket}?list-type=2").status == 200
    settings.STORAGES = storages_for(s3_server, public=[bucket])
    call_command("initialize_buckets", stdout=io.StringIO())
    assert refused(http.request("GET", f"{s3_server.url}/{bucket}?list-type=2"))
    assert policy_of(s3_server, bucket) == public_read_policy(bucket)


@pytest.mark.s3_needs("bucket-policies")
def test_policy_hooks_apply_after_visibility_and_are_idempotent(settings, s3_server, counter):
    bucket = unique("ib-hook")
    hook = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "HookRead",
                "Effect": "Allow",
                "Principal": {"AWS": ["*"]},
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/public/*"],
            }
        ],
    }
    settings.STORAGES = storages_for(
        s3_server, private=[bucket], MINIO_POLICY_HOOKS=[(bucket, hook)], MINIO_HTTP_CLIENT=counter
    )
    [result] = initialize_buckets()
    assert result.changes == ["create private bucket", "apply MINIO_POLICY_HOOKS policy"]
    assert policy_of(s3_server, bucket) == hook
    counter.reset()
    [again] = initialize_buckets()
    assert again.changes == [] and len(counter.requests) == 1


@pytest.mark.s3_needs("bucket-policies")
def test_dry_run_prints_the_plan_and_changes_nothing(settings, s3_server):
    created, public = unique("ib-dry"), unique("ib-dry-pub")
    settings.STORAGES = storages_for(s3_server, private=[created], public=[public])
    out = io.StringIO()
    call_command("initialize_buckets", "--dry-run", stdout=out)
    text = out.getvalue()
    assert f"{created} (private, default): would create private bucket" in text
    assert "would set public-read policy" in text
    assert "2 bucket(s) checked, 2 would change." in text
    assert not s3_server.client().bucket_exists(bucket_name=created)
    assert not s3_server.client().bucket_exists(bucket_name=public)


def test_silenced_and_verbosity(settings, s3_server):
    bucket = unique("ib-quiet")
    settings.STORAGES = storages_for(s3_server, private=[bucket])
    out = io.StringIO()
    call_command("initialize_buckets", "--silenced", stdout=out)
    assert out.getvalue() == ""
    assert s3_server.client().bucket_exists(bucket_name=bucket)
    call_command("initialize_buckets", verbosity=2, stdout=out)
    assert "up to date" in out.getvalue()
    quiet = io.StringIO()
    call_command("initialize_buckets", verbosity=0, stdout=quiet)
    assert quiet.getvalue() == ""


def test_failures_exit_non_zero_naming_the_endpoint(settings, s3_server):
    settings.STORAGES = storages_for(
        s3_server, private=["ib-down"], MINIO_ENDPOINT="127.0.0.1:9", MINIO_MAX_RETRIES=0
    )
    with pytest.raises(CommandError, match=r"127\.0\.0\.1:9/ib-down: .*refused"):
        call_command("initialize_buckets", stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.s3_needs("bucket-policies")
def test_bucket_check_on_save_creates_once_per_process(settings, s3_server, counter):
    bucket = unique("ib-onsave")
    settings.STORAGES = storages_for(s3_server, public=[bucket], MINIO_BUCKET_CHECK_ON_SAVE=True)
    storage = MinioBackend(bucket_name=bucket, storage_name="default", MINIO_HTTP_CLIENT=counter)
    storage.save("one.txt", ContentFile(b"1"))
    first = list(counter.requests)
    assert ("HEAD", f"/{bucket}") in first and ("PUT", f"/{bucket}") in first
    counter.reset()
    MinioBackend(bucket_name=bucket, storage_name="default", MINIO_HTTP_CLIENT=counter).save(
        "two.txt", ContentFile(b"2")
    )
    assert [path for _, path in counter.requests if path == f"/{bucket}"] == []  # no bucket request
    assert ("PUT", f"/{bucket}/two.txt") in counter.requests
    assert policy_of(s3_server, bucket) == public_read_policy(bucket)


def test_start_up_check_is_off_by_default_and_makes_no_request(settings, s3_server, counter):
    settings.STORAGES = storages_for(s3_server, private=[unique("ib-off")], MINIO_HTTP_CLIENT=counter)
    assert startup.consistency_check() is None
    assert counter.requests == []


@pytest.mark.s3_needs("bucket-policies")
def test_start_up_check_runs_once_per_process_for_every_alias(settings, s3_server, counter):
    media, static = unique("ib-start"), unique("ib-start-static")
    settings.STORAGES = storages_for(
        s3_server,
        private=[media],
        static=static,
        MINIO_CONSISTENCY_CHECK_ON_START=True,
        MINIO_HTTP_CLIENT=counter,
    )
    state.reset()  # as in a new process
    apps.run_startup_check()
    apps.run_startup_check()  # a second AppConfig.ready() in the same process does nothing
    assert s3_server.client().bucket_exists(bucket_name=media)
    assert s3_server.client().bucket_exists(bucket_name=static)
    assert counter.methods().count("GET") == 2  # one read per bucket, once


def test_bucket_check_on_save_refuses_a_public_bucket_known_to_lack_policies(settings, s3_server, counter):
    """Stated (or learned) "no bucket policies": refused before any request, nothing created."""
    bucket = unique("ib-nopol")
    settings.STORAGES = storages_for(
        s3_server,
        public=[bucket],
        MINIO_BUCKET_CHECK_ON_SAVE=True,
        MINIO_SERVER_CAPABILITIES={"bucket-policies": False},
    )
    storage = MinioBackend(bucket_name=bucket, storage_name="default", MINIO_HTTP_CLIENT=counter)
    with pytest.raises(UnsupportedByServerError, match="MINIO_PRIVATE_BUCKETS"):
        storage.save("a.txt", ContentFile(b"a"))
    assert counter.requests == []
    assert not s3_server.client().bucket_exists(bucket_name=bucket)


def test_bucket_check_on_save_of_a_public_bucket_where_policies_are_missing_leaves_no_bucket(
    settings, s3_server, counter
):
    """Learned from the 501 to PutBucketPolicy: the bucket made for it is removed, nothing stored."""
    if s3_server.supports("bucket-policies"):
        pytest.skip("needs a server without bucket policies (the swift test server)")
    bucket = unique("ib-nopol")
    settings.STORAGES = storages_for(s3_server, public=[bucket], MINIO_BUCKET_CHECK_ON_SAVE=True)
    storage = MinioBackend(bucket_name=bucket, storage_name="default", MINIO_HTTP_CLIENT=counter)
    with pytest.raises(UnsupportedByServerError, match="cannot be made public"):
        storage.save("a.txt", ContentFile(b"a"))
    assert not s3_server.client().bucket_exists(bucket_name=bucket)
    sent = len(counter.requests)
    with pytest.raises(UnsupportedByServerError):
        storage.save("b.txt", ContentFile(b"b"))
    assert len(counter.requests) == sent  # learned once: the second save asks nothing
