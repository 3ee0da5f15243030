"""The I/O core under faults: a write retried after the server stored it is stored once, and a save
killed mid-upload leaves nothing a reader takes for the file."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command

from django_minio_backend.conf.options import parse_options
from django_minio_backend.core.store import ObjectStore
from django_minio_backend.testing import empty_bucket

from tests.support import MULTIPART, PRIVATE, MiB, pending_uploads, stored, through

KILLED_SAVE = """
import json, sys, time
import django
from django.conf import settings
settings.configure(INSTALLED_APPS=[], USE_TZ=True, STORAGES={})
django.setup()
from django_minio_backend.models import MinioBackend

class Stalls:
    # A stream that gives 6 MiB, says so, then hangs: the process is killed mid-upload.
    sent = 0
    def read(self, size=-1):
        if self.sent >= 6 * 1024 * 1024:
            print("uploading", flush=True)
            time.sleep(60)
        size = 1024 * 1024 if size is None or size < 0 else min(size, 1024 * 1024)
        self.sent += size
        return b"k" * size

storage = MinioBackend(bucket_name=sys.argv[2], **json.loads(sys.argv[1]))
storage.save(sys.argv[3], Stalls())
"""


def only_requests_for(name, method, *, parts=None):
    def match(request_method, target):
        if request_method != method or name not in target:
            return False
        return parts is None or (("uploadId" in target) == parts)

    return match


@pytest.mark.s3_needs("conditional-put")
@pytest.mark.parametrize(
    "fault",
    [("status_after", {"status": 502}), ("cut_response", {"after": 0})],
    ids=["502 after the server stored it", "connection cut after the request"],
)
def test_a_conditional_put_retried_after_it_was_stored_is_stored_once(
    minio_settings, storage, proxy, name, fault
):
    kind, fields = fault
    target = through(proxy, MINIO_CONDITIONAL_WRITES=True)
    proxy.set(kind, times=1, match=only_requests_for(name, "PUT"), **fields)
    saved = target.save(f"{name}/once.txt", ContentFile(b"once"))
    assert len(proxy.faulted) == 1
    assert saved == f"{name}/once.txt"
    assert storage.listdir(name) == ([], ["once.txt"])
    assert stored(storage, saved) == b"once"


@pytest.mark.s3_needs("conditional-put")
@pytest.mark.parametrize("step", ["claim or first request", "complete"])
def test_a_multipart_save_retried_after_it_was_stored_is_stored_once(
    minio_settings, s3_server, storage, proxy, name, step
):
    target = through(proxy, MINIO_CONDITIONAL_WRITES=True, **MULTIPART)
    target.save(f"{name}/warm.bin", ContentFile(b"x" * 6 * MiB))  # probes the multipart path once
    if step == "complete":
        match = only_requests_for(name, "POST", parts=True)
    else:
        match = lambda method, t: name in t and "big.bin" in t and "partNumber" not in t  # noqa: E731
    proxy.set("status_after", status=502, times=1, match=match)
    payload = os.urandom(6 * MiB)
    saved = target.save(f"{name}/big.bin", ContentFile(payload))
    assert len(proxy.faulted) == 1
    assert saved == f"{name}/big.bin"
    assert storage.listdir(name) == ([], ["big.bin", "warm.bin"])
    assert stored(storage, saved) == payload
    assert pending_uploads(s3_server, name) == []


def kill_mid_upload(s3_server, name):
    options = {**s3_server.storage_options(), **MULTIPART, "MINIO_PRIVATE_BUCKETS": [PRIVATE]}
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_SAVE, json.dumps(options), PRIVATE, name],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "uploading"
    finally:
        process.kill()
        process.wait(10)


@pytest.fixture
def empty_private(s3_server, minio_settings):
    """The orphan cleaner looks at whole buckets: start and end with an empty media bucket."""
    empty_bucket(s3_server, PRIVATE)
    yield
    empty_bucket(s3_server, PRIVATE)
    for key, upload_id, _ in ObjectStore(parse_options(s3_server.storage_options()), PRIVATE).pending_uploads(
        ""
    ):
        s3_server.client()._abort_multipart_upload(bucket_name=PRIVATE, object_name=key, upload_id=upload_id)


@pytest.mark.django_db
def test_a_killed_save_leaves_nothing_a_reader_takes_for_the_file_and_the_cleaner_removes_it(
    s3_server, storage, empty_private, name
):
    kill_mid_upload(s3_server, f"{name}/killed.bin")
    # Readers do not see a file: where CompleteMultipartUpload honours If-None-Match (moto, MinIO)
    # nothing is under the name; where it does not (Ceph RGW 16) only an empty claim holds it,
    # and a claim reads as missing.
    assert not storage.exists(f"{name}/killed.bin")
    with pytest.raises(FileNotFoundError):
        storage.open(f"{name}/killed.bin")
    with pytest.raises(FileNotFoundError):
        storage.size(f"{name}/killed.bin")
    assert len(pending_uploads(s3_server, name)) == 1
    out = io.StringIO()
    call_command("clean_orphaned_minio_files", "--min-age", "0", "--noinput", "--bucket", PRIVATE, stdout=out)
    assert "1 incomplete multipart upload(s) aborted" in out.getvalue()
    assert pending_uploads(s3_server, name) == []
    assert storage.listdir(name) == ([], [])
