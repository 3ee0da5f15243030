"""The I/O core's promises (issue 12): exact writes, one header layout, copyable storages, clear errors."""

from __future__ import annotations

import copy
import io
import json
import logging
import os
import pickle
import re
import subprocess
import sys
import threading

import pytest
import urllib3
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import InMemoryUploadedFile
from minio.commonconfig import ENABLED, Filter
from minio.lifecycleconfig import Expiration, LifecycleConfig, Rule

from django_minio_backend.core import conditional
from django_minio_backend.errors import BucketMissingError, UploadSizeError
from django_minio_backend.models import MinioBackend, MinioBackendStatic

from tests.support import MULTIPART, PRIVATE, ROOT, MiB, pending_uploads, stored, through
from tests.support.faultproxy import FaultProxy


def declared(data: bytes, size: int, name: str = "u.bin") -> InMemoryUploadedFile:
    return InMemoryUploadedFile(
        io.BytesIO(data), "f", name, "application/octet-stream", size=size, charset=None
    )


# -- exact writes ---------------------------------------------------------------------------------

SIZES = {
    # path: (payload, declared size)
    "single, more than declared": (b"0123456789ABCDEFGHIJ", 5),
    "single, less than declared": (b"0123456789ABCDEFGHIJ", 50),
    "multipart, more than declared": (os.urandom(12 * MiB), 11 * MiB),
    "multipart, less than declared": (os.urandom(11 * MiB), 12 * MiB),
}


@pytest.mark.parametrize("replace", [False, True], ids=["new name", "replace_existing"])
@pytest.mark.parametrize("case", list(SIZES))
def test_a_wrong_declared_size_stores_nothing_and_the_pool_stays_usable(
    minio_settings, s3_server, storage, name, case, replace
):
    payload, size = SIZES[case]
    target = MinioBackend(
        bucket_name=PRIVATE,
        storage_name="default",
        replace_existing=replace,
        MINIO_READ_TIMEOUT=5,
        **MULTIPART,
    )
    storage.save(f"{name}/victim.txt", ContentFile(b"victim"))
    if replace:
        storage.save(f"{name}/u.bin", ContentFile(b"old"))
    with pytest.raises(UploadSizeError, match=r"u\.bin.*declared size"):
        target.save(f"{name}/u.bin", declared(payload, size))
    # The next requests on the same pool succeed: nothing of the failed body is left on a connection.
    assert target.size(f"{name}/victim.txt") == 6
    assert stored(target, f"{name}/victim.txt") == b"victim"
    if replace:
        assert stored(storage, f"{name}/u.bin") == b"old"
    else:
        assert not storage.exists(f"{name}/u.bin")
    assert pending_uploads(s3_server, name) == []


def test_the_declared_size_is_what_is_sent(storage, name):
    saved = storage.save(f"{name}/exact.bin", declared(b"0123456789", 10))
    assert stored(storage, saved) == b"0123456789"


# -- headers are the same on every path -----------------------------------------------------------


@pytest.mark.parametrize("path", ["new name", "replace_existing", "multipart new name", "multipart replace"])
def test_headers_argument_is_stored_the_same_on_every_path(minio_settings, s3_server, name, path):
    extra = MULTIPART if path.startswith("multipart") else {}
    storage = MinioBackend(
        bucket_name=PRIVATE,
        storage_name="default",
        replace_existing=path.endswith("replace") or path == "replace_existing",
        headers={"X-Custom": "kept", "Expires": "Thu, 01 Dec 2044 16:00:00 GMT", "Cache-Control": "no-cache"},
        **extra,
    )
    size = 6 * MiB if extra else 10
    saved = storage.save(f"{name}/h.bin", ContentFile(b"x" * size))
    metadata = {
        k.lower(): v
        for k, v in s3_server.client().stat_object(bucket_name=PRIVATE, object_name=saved).metadata.items()
    }
    assert metadata["x-amz-meta-x-custom"] == "kept"
    assert metadata["expires"] == "Thu, 01 Dec 2044 16:00:00 GMT"
    assert metadata["cache-control"] == "no-cache"
    assert "x-custom" not in metadata


# -- storages are plain objects: pickle, deep-copy, one pool --------------------------------------


@pytest.mark.parametrize("cls", [MinioBackend, MinioBackendStatic])
def test_used_storages_pickle_and_deep_copy(minio_settings, name, cls):
    storage = cls(storage_name="default")
    saved = storage.save(f"{name}/p.txt", ContentFile(b"pickled"))
    assert storage.exists(saved)
    for clone in (copy.deepcopy(storage), pickle.loads(pickle.dumps(storage))):
        assert clone.bucket == storage.bucket
        assert clone.exists(saved)
        assert stored(clone, saved) == b"pickled"
    storage.delete(saved)


def test_concurrent_first_use_builds_one_pool_and_one_client(storage):
    barrier = threading.Barrier(8)
    seen = []

    def first_use():
        barrier.wait()
        seen.append((storage.client, storage.store.connection.http))

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(seen) == 8
    assert len({id(client) for client, _ in seen}) == 1
    assert len({id(pool) for _, pool in seen}) == 1


# -- a missing bucket is named as such ----------------------------------------------------------


@pytest.mark.parametrize(
    "operation",
    [
        lambda s, n: s.save(f"{n}/a.txt", ContentFile(b"a")),
        lambda s, n: s.open(f"{n}/a.txt").read(),
        lambda s, n: s.listdir(n),
        lambda s, n: s.exists(f"{n}/a.txt"),
        lambda s, n: s.size(f"{n}/a.txt"),
    ],
    ids=["save", "open", "listdir", "exists", "size"],
)
def test_a_missing_bucket_is_reported_with_the_fix(minio_settings, name, operation):
    """A HEAD 404 cannot tell a missing key from a missing bucket: exists() asks the bucket once."""
    storage = MinioBackend(bucket_name="no-such-bucket-here", storage_name="default")
    with pytest.raises(BucketMissingError, match=r"no-such-bucket-here.*initialize_buckets"):
        operation(storage, name)


# -- conditional writes on any server -------------------------------------------------------------


def test_a_server_that_ignores_if_none_match_is_found_out_and_nothing_is_overwritten(
    minio_settings, storage, proxy, name, caplog
):
    proxy.set("strip_header", header="If-None-Match")  # a gateway that drops the header
    with caplog.at_level(logging.WARNING, logger="django_minio_backend"):
        first = through(proxy).save(f"{name}/same.txt", ContentFile(b"first"))
        second = through(proxy).save(f"{name}/same.txt", ContentFile(b"second"))
        third = through(proxy).save(f"{name}/same.txt", ContentFile(b"third"))
    assert first == f"{name}/same.txt"
    assert len({first, second, third}) == 3
    assert [stored(storage, n) for n in (first, second, third)] == [b"first", b"second", b"third"]
    warnings = [r.getMessage() for r in caplog.records if "ignores If-None-Match" in r.getMessage()]
    assert len(warnings) == 1  # once per endpoint and process
    assert proxy.endpoint in warnings[0] and "MINIO_CONDITIONAL_WRITES" in warnings[0]
    assert storage.listdir(name)[1] == sorted(n.rsplit("/", 1)[1] for n in (first, second, third))


@pytest.mark.s3_needs("conditional-put")
def test_the_probe_costs_three_requests_once_per_endpoint(minio_settings, s3_server, counter, name):
    def probes() -> set[str]:  # fault tests may leave theirs: a probe whose DELETE failed stays
        return {key for key in MinioBackend(bucket_name=PRIVATE).listdir("")[1] if "probe" in key}

    before = probes()
    with FaultProxy(s3_server.endpoint) as learned, FaultProxy(s3_server.endpoint) as trusted:
        storage = through(learned, MINIO_HTTP_CLIENT=counter)
        storage.save(f"{name}/a.txt", ContentFile(b"a"))
        assert counter.methods() == ["PUT", "PUT", "DELETE", "PUT"]  # probe object: create, refused, delete
        counter.reset()
        through(learned, MINIO_HTTP_CLIENT=counter).save(f"{name}/b.txt", ContentFile(b"b"))
        assert counter.methods() == ["PUT"]
        counter.reset()
        through(trusted, MINIO_HTTP_CLIENT=counter, MINIO_CONDITIONAL_WRITES=True).save(
            f"{name}/c.txt", ContentFile(b"c")
        )
        assert counter.methods() == ["PUT"]
    assert probes() == before  # this test's probe object was deleted


def test_conditional_writes_false_is_a_system_check_warning(minio_settings):
    from django_minio_backend import checks

    minio_settings.STORAGES["default"]["OPTIONS"]["MINIO_CONDITIONAL_WRITES"] = False
    ids = [message.id for message in checks.run_all()]
    assert "minio_backend.W012" in ids


# -- non-ASCII header values ----------------------------------------------------------------------


@pytest.mark.parametrize("size", [10, 6 * MiB], ids=["single PUT", "multipart"])
def test_non_ascii_disposition_and_metadata_round_trip(minio_settings, storage, name, size):
    writer = MinioBackend(
        bucket_name=PRIVATE,
        storage_name="default",
        MINIO_CONTENT_DISPOSITION=lambda n: 'attachment; filename="résumé.pdf"',
        MINIO_METADATA={"owner": "José", "city": lambda n: "Kraków"},
        **MULTIPART,
    )
    saved = writer.save(f"{name}/cv.pdf", ContentFile(b"%" * size))
    metadata = {k.lower(): v for k, v in storage.stat(saved).metadata.items()}
    assert metadata["x-amz-meta-owner"] == "José"
    assert metadata["x-amz-meta-city"] == "Kraków"
    disposition = "attachment; filename=\"resume.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
    assert metadata["content-disposition"] == disposition
    response = urllib3.PoolManager(retries=False).request("GET", storage.url(saved), preload_content=False)
    assert response.status == 200
    assert response.headers["Content-Disposition"] == disposition
    response.release_conn()


@pytest.mark.parametrize(
    "option, value, header",
    [
        ("MINIO_CACHE_CONTROL", "max-âge=60", "Cache-Control"),
        ("MINIO_CONTENT_DISPOSITION", "attachmént", "Content-Disposition"),
        ("MINIO_METADATA", {"ownér": "x"}, "x-amz-meta-ownér"),
        ("MINIO_METADATA", {"owner": "a\r\nX-Injected: 1"}, "x-amz-meta-owner"),
    ],
)
def test_header_values_s3_cannot_carry_are_refused_before_any_request(
    minio_settings, counter, name, option, value, header
):
    writer = MinioBackend(
        bucket_name=PRIVATE, storage_name="default", MINIO_HTTP_CLIENT=counter, **{option: value}
    )
    writer.exists("warm")  # builds the pool
    counter.reset()
    with pytest.raises(ValueError, match=re.escape(header)):
        writer.save(f"{name}/x.txt", ContentFile(b"x"))
    assert counter.methods() == []


# -- nothing left behind ------------------------------------------------------------------------


@pytest.mark.s3_needs("conditional-put")
def test_a_claimed_name_is_not_taken_by_another_save(storage, name):
    store = storage.store
    conditional.claim(store.connection, store.bucket, store.key(f"{name}/c.txt"))
    saved = storage.save(f"{name}/c.txt", ContentFile(b"mine"))
    assert saved != f"{name}/c.txt"
    assert stored(storage, saved) == b"mine"


@pytest.mark.s3_needs("lifecycle")
def test_initialize_buckets_installs_the_abort_incomplete_uploads_rule_once(minio_settings, s3_server):
    from django_minio_backend.core.buckets import LIFECYCLE_RULE_ID
    from django_minio_backend.ops.buckets import initialize_buckets

    client = s3_server.client()
    keep = Rule(
        status=ENABLED,
        rule_filter=Filter(prefix="tmp/"),
        rule_id="users-own-rule",
        expiration=Expiration(days=30),
    )
    client.set_bucket_lifecycle(bucket_name=PRIVATE, config=LifecycleConfig([keep]))
    options = minio_settings.STORAGES["default"]["OPTIONS"]
    options["MINIO_ABORT_INCOMPLETE_UPLOADS_DAYS"] = 2
    try:
        first = {r.spec.bucket: r for r in initialize_buckets()}
        assert any("abort incomplete multipart uploads after 2 day" in c for c in first[PRIVATE].changes)
        rules = {rule.rule_id: rule for rule in client.get_bucket_lifecycle(bucket_name=PRIVATE).rules}
        assert rules[LIFECYCLE_RULE_ID].abort_incomplete_multipart_upload.days_after_initiation == 2
        assert "users-own-rule" in rules
        second = {r.spec.bucket: r for r in initialize_buckets()}
        assert second[PRIVATE].changes == []
    finally:
        client.delete_bucket_lifecycle(bucket_name=PRIVATE)


def test_abort_incomplete_uploads_days_on_a_server_without_lifecycle_rules_names_the_setting(
    minio_settings, s3_server
):
    from django_minio_backend.ops.buckets import initialize_buckets

    if s3_server.supports("lifecycle"):
        pytest.skip("needs a server without bucket lifecycle rules (the swift test server)")
    minio_settings.STORAGES["default"]["OPTIONS"]["MINIO_ABORT_INCOMPLETE_UPLOADS_DAYS"] = 2
    results = {r.spec.bucket: r for r in initialize_buckets()}
    assert "MINIO_ABORT_INCOMPLETE_UPLOADS_DAYS" in results[PRIVATE].error
    assert "clean_orphaned_minio_files" in results[PRIVATE].error
    assert s3_server.client().get_bucket_lifecycle(bucket_name=PRIVATE) in (None, LifecycleConfig([]))


# -- memory -------------------------------------------------------------------------------------

MEMORY_SAVE = """
import json, os, sys, tempfile
import django
from django.conf import settings
settings.configure(INSTALLED_APPS=[], USE_TZ=True, STORAGES={})
django.setup()
from django.core.files import File
from django_minio_backend.models import MinioBackend
from tests.support import NonSeekableStream

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024

storage = MinioBackend(
    bucket_name=sys.argv[2], replace_existing=True, num_parallel_uploads=int(sys.argv[4]), **json.loads(sys.argv[1])
)
storage.exists("warm")
size = 64 * 1024 * 1024
with tempfile.TemporaryFile() as handle:
    for _ in range(64):
        handle.write(os.urandom(1024 * 1024))
    handle.seek(0)
    before = hwm()
    storage.save(sys.argv[3] + "/file.bin", File(handle))
    after_file = hwm()
stream = NonSeekableStream(os.urandom(1024 * 1024), chunk=1024 * 1024).repeat(size)  # size unknown
storage.save(sys.argv[3] + "/stream.bin", stream)
print(json.dumps({"file": after_file - before, "stream": hwm() - before}))
"""


@pytest.mark.parametrize("parallel", [1, 4])
def test_large_saves_hold_at_most_parallel_parts_in_memory(s3_server, storage, name, parallel):
    """64 MiB: a file streams from disk, range by range (no part buffer, whatever the parallelism);
    a stream that cannot seek holds one part buffer per part in flight."""
    options = {**s3_server.storage_options(), "MINIO_PRIVATE_BUCKETS": [PRIVATE]}
    output = subprocess.run(
        [sys.executable, "-c", MEMORY_SAVE, json.dumps(options), PRIVATE, name, str(parallel)],
        cwd=ROOT,  # where the script imports tests.support from
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    grown = json.loads(output.strip().splitlines()[-1])
    assert grown["file"] <= 8, grown
    # parallel 10 MiB part buffers, the first 10 MiB read to choose the path, 4 MiB of slack
    assert grown["stream"] <= parallel * 10 + 10 + 4, grown
    assert storage.size(f"{name}/file.bin") == storage.size(f"{name}/stream.bin") == 64 * 1024 * 1024
