"""clean_orphaned_minio_files on a real server: exactly the true orphans go."""

from __future__ import annotations

import io
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import CommandError, call_command

from django_minio_backend.testing import empty_bucket

from tests.support import PRIVATE, PUBLIC, STATIC, keys, put
from tests.testapp.models import Photo, PrivateAttachment, PublicAttachment

pytestmark = pytest.mark.django_db


def clean(*args, stdin=None):
    out, err = io.StringIO(), io.StringIO()
    call_command("clean_orphaned_minio_files", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def empty_media(s3_server, minio_settings):
    """Start with empty media buckets: the cleaner looks at whole buckets."""
    for bucket in (PRIVATE, PUBLIC):
        empty_bucket(s3_server, bucket)
    yield
    for bucket in (PRIVATE, PUBLIC):
        empty_bucket(s3_server, bucket)


@pytest.fixture
def undeclared_bucket(s3_server):
    bucket = f"undeclared-{uuid.uuid4().hex[:10]}"
    s3_server.client().make_bucket(bucket_name=bucket)
    yield bucket
    empty_bucket(s3_server, bucket)
    s3_server.client().remove_bucket(bucket_name=bucket)


def test_deletes_exactly_the_true_orphans(s3_server, empty_media, undeclared_bucket):
    PrivateAttachment.objects.create(file="private/ref.txt")
    PublicAttachment.objects.create(file="shared/foreign.txt")
    Photo.objects.create(image="photos/ref.png", scan="scans/ref.pdf")
    old = {
        PRIVATE: ["private/ref.txt", "photos/ref.png", "shared/foreign.txt", "private/orphan.txt"],
        PUBLIC: ["shared/foreign.txt", "scans/ref.pdf", "public/orphan.txt"],
        STATIC: ["static-orphan.css"],
        undeclared_bucket: ["orphan.txt"],
    }
    for bucket, names in old.items():
        for key in names:
            put(s3_server, bucket, key)
    # the objects above are now older than --min-age 2s, the next ones not (Swift rounds LastModified up)
    time.sleep(2.5 if s3_server.supports("exact-last-modified") else 3.5)
    put(s3_server, PRIVATE, "private/young.txt")
    put(s3_server, PUBLIC, "public/young.txt")

    out, err = clean("--min-age", "2s", "--noinput")

    assert err == ""
    # shared/foreign.txt is referenced in PUBLIC only: that does not protect the PRIVATE copy.
    assert keys(s3_server, PRIVATE) == ["photos/ref.png", "private/ref.txt", "private/young.txt"]
    assert keys(s3_server, PUBLIC) == ["public/young.txt", "scans/ref.pdf", "shared/foreign.txt"]
    assert keys(s3_server, STATIC)[-1:] and "static-orphan.css" in keys(s3_server, STATIC)
    assert keys(s3_server, undeclared_bucket) == ["orphan.txt"]
    assert f"{PRIVATE}: 5 object(s) listed, 2 referenced, 1 kept as too young, 2 orphaned, 2 deleted" in out
    assert f"{PUBLIC}: 4 object(s) listed, 2 referenced, 1 kept as too young, 1 orphaned, 1 deleted" in out
    assert STATIC not in out and undeclared_bucket not in out
    empty_bucket(s3_server, STATIC)


def test_default_grace_period_keeps_fresh_uploads(s3_server, empty_media):
    put(s3_server, PRIVATE, "private/uploaded-just-now.txt")
    out, _ = clean("--noinput")
    assert "1 kept as too young, 0 orphaned" in out
    assert keys(s3_server, PRIVATE) == ["private/uploaded-just-now.txt"]


def test_dry_run_lists_and_deletes_nothing(s3_server, empty_media):
    put(s3_server, PRIVATE, "private/orphan.txt")
    out, _ = clean("--dry-run", "--min-age", "0")
    assert f"would delete {PRIVATE}/private/orphan.txt" in out
    assert "1 orphaned, 1 would be deleted" in out
    assert keys(s3_server, PRIVATE) == ["private/orphan.txt"]


def test_check_missing_lists_rows_without_objects(s3_server, empty_media):
    PrivateAttachment.objects.create(file="private/present.txt")
    gone = PrivateAttachment.objects.create(file="private/gone.txt")
    put(s3_server, PRIVATE, "private/present.txt")
    out, _ = clean("--check-missing", "--dry-run")
    assert (
        f"missing: testapp.PrivateAttachment.file pk={gone.pk} 'private/gone.txt' (not in {PRIVATE})" in out
    )
    assert "present.txt" not in out.split("missing:", 1)[-1]


def test_location_confines_the_cleaner(s3_server, empty_media, minio_settings):
    for alias in ("default", "staticfiles"):
        minio_settings.STORAGES[alias]["OPTIONS"]["MINIO_LOCATION"] = "media"
    PrivateAttachment.objects.create(file="private/ref.txt")
    for key in ("media/private/ref.txt", "media/private/orphan.txt", "private/ref.txt", "elsewhere/x.txt"):
        put(s3_server, PRIVATE, key)
    clean("--min-age", "0", "--noinput")
    # Keys outside MINIO_LOCATION belong to someone else; the row's key is media/private/ref.txt.
    assert keys(s3_server, PRIVATE) == ["elsewhere/x.txt", "media/private/ref.txt", "private/ref.txt"]


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_terminal_asks_before_deleting(s3_server, empty_media, monkeypatch):
    put(s3_server, PRIVATE, "private/orphan.txt")
    monkeypatch.setattr("sys.stdin", Terminal("no\n"))
    with pytest.raises(CommandError, match="Cancelled"):
        clean("--min-age", "0")
    assert keys(s3_server, PRIVATE) == ["private/orphan.txt"]
    monkeypatch.setattr("sys.stdin", Terminal("yes\n"))
    clean("--min-age", "0")
    assert keys(s3_server, PRIVATE) == []


def test_no_terminal_runs_without_asking(s3_server, empty_media):
    put(s3_server, PRIVATE, "private/orphan.txt")
    clean("--min-age", "0")  # pytest's stdin is not a TTY, like cron's
    assert keys(s3_server, PRIVATE) == []


def test_streams_pages_and_deletes_in_batches_of_1000(s3_server, empty_media, minio_settings, counter):
    minio_settings.STORAGES["default"]["OPTIONS"]["MINIO_HTTP_CLIENT"] = counter
    names = [f"bulk/{i:05d}.txt" for i in range(1002)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda key: put(s3_server, PRIVATE, key), names))
    PrivateAttachment.objects.create(file="bulk/00007.txt")
    out, _ = clean("--min-age", "0", "--noinput", "--bucket", PRIVATE)
    assert "1002 object(s) listed, 1 referenced, 0 kept as too young, 1001 orphaned, 1001 deleted" in out
    assert keys(s3_server, PRIVATE) == ["bulk/00007.txt"]
    bucket_requests = [method for method, path in counter.requests if path == f"/{PRIVATE}"]
    # page 1 (1000 keys, 999 orphans), page 2 (2), DeleteObjects of 1000 keys and of 1, then the
    # one ListMultipartUploads that finds no stale upload
    assert bucket_requests == ["GET", "GET", "POST", "POST", "GET"]


def test_min_age_must_be_valid(minio_settings):
    with pytest.raises(CommandError, match="--min-age"):
        clean("--min-age", "yesterday")
