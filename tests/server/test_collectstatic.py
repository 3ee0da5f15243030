"""collectstatic on MinioBackendStatic and MinioManifestStaticStorage, counted request by request."""

import io
import math
import os
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import urllib3
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.files.base import ContentFile
from django.core.management import call_command, get_commands
from django.template import Context, Engine
from django.test import override_settings
from minio.sse import SseS3

from django_minio_backend import checks
from django_minio_backend.errors import UploadFailed
from django_minio_backend.models import MinioBackendStatic, MinioManifestStaticStorage
from django_minio_backend.staticfiles.manifest import IMMUTABLE
from django_minio_backend.testing import create_bucket, start_server
from django_minio_backend.testing.cleanup import empty_bucket

from tests.support import PUBLIC, CountingPoolManager, headers_of, refused
from tests.support.faultproxy import FaultProxy

STATIC = "django_minio_backend.models.MinioBackendStatic"
FILES_ONLY = "django.contrib.staticfiles.finders.FileSystemFinder"
MANIFEST = "django_minio_backend.models.MinioManifestStaticStorage"
anonymous = urllib3.PoolManager()
MIN_PART = 5 * 1024 * 1024
SSE_KMS = {
    "x-amz-server-side-encryption": "aws:kms",
    "x-amz-server-side-encryption-aws-kms-key-id": "testkey-1",
}


def make_sources(root, count):
    """``count`` small files spread over a few directories; returns {name: bytes}."""
    files = {}
    for index in range(count):
        name = f"d{index % 4}/sub{index % 3}/file{index}.txt"
        files[name] = f"static file {index}\n".encode() * (1 + index % 5)
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


@pytest.fixture
def use_static(minio_settings, minio_options, static_bucket, counter, tmp_path):
    """Point STATICFILES_DIRS at tmp_path/src and STORAGES["staticfiles"] at the fresh bucket."""
    source = tmp_path / "src"
    source.mkdir()

    def configure(backend=STATIC, **extra):
        minio_settings.STATICFILES_DIRS = [str(source)]
        minio_settings.STATICFILES_FINDERS = [FILES_ONLY]  # not the apps' own files (this package ships one)
        options = {**minio_options, "MINIO_STATIC_FILES_BUCKET": static_bucket, "MINIO_HTTP_CLIENT": counter}
        minio_settings.STORAGES = {
            **minio_settings.STORAGES,
            "staticfiles": {"BACKEND": backend, "OPTIONS": options | extra},
        }
        return source

    return configure


def collect(**options):
    counter = staticfiles_storage.options.http_client
    counter.reset()
    call_command("collectstatic", interactive=False, verbosity=0, **options)
    return requests_by_kind(counter, staticfiles_storage.bucket)


def requests_by_kind(counter, bucket):
    kinds = Counter()
    for method, path in counter.requests:
        listing = method == "GET" and path.rstrip("/") == f"/{bucket}"
        kinds["LIST" if listing else method] += 1
    return kinds


def bucket_contents(s3_server, bucket):
    client = s3_server.client()
    names = [item.object_name for item in client.list_objects(bucket_name=bucket, recursive=True)]
    return {name: client.get_object(bucket_name=bucket, object_name=name).read() for name in names}


# -- incremental collectstatic --------------------------------------------------------------


def test_first_run_uploads_each_file_once_and_makes_no_head(use_static, s3_server, static_bucket):
    files = make_sources(use_static(), 40)
    counts = collect()
    assert counts["PUT"] == 40
    assert counts["HEAD"] == 0
    assert counts["DELETE"] == 0
    assert 1 <= counts["LIST"] <= 2
    assert sum(counts.values()) == counts["PUT"] + counts["LIST"]
    assert bucket_contents(s3_server, static_bucket) == files


def test_second_run_with_nothing_changed_only_lists(use_static):
    make_sources(use_static(), 40)
    collect()
    counts = collect()
    assert counts == Counter({"LIST": 1})


def test_unchanged_files_are_skipped_without_use_tz(use_static, minio_settings):
    minio_settings.USE_TZ = False
    source = use_static()
    make_sources(source, 5)
    collect()
    assert collect() == Counter({"LIST": 1})
    (source / "d0/sub0/file0.txt").write_bytes(b"changed\n")
    assert collect() == Counter({"LIST": 1, "PUT": 1})


def test_fresh_checkout_mtimes_do_not_cause_uploads(use_static):
    """A new build or git checkout gives every file a new mtime; the content decides."""
    source = use_static()
    make_sources(source, 20)
    collect()
    later = time.time() + 3600
    for path in source.rglob("*.txt"):
        os.utime(path, (later, later))
    assert collect() == Counter({"LIST": 1})


def test_changed_and_externally_modified_files_are_uploaded_again(use_static, s3_server, static_bucket):
    source = use_static()
    files = make_sources(source, 30)
    collect()
    # Edited locally, with an mtime older than the upload: the content still differs.
    edited = source / "d0/sub0/file0.txt"
    edited.write_bytes(b"edited content\n")
    os.utime(edited, (1_000_000_000, 1_000_000_000))
    files["d0/sub0/file0.txt"] = b"edited content\n"
    # Another process deletes one object and overwrites another with other content.
    other = s3_server.client()
    other.remove_object(bucket_name=static_bucket, object_name="d1/sub1/file1.txt")
    other.put_object(
        bucket_name=static_bucket, object_name="d2/sub2/file2.txt", data=io.BytesIO(b"rogue"), length=5
    )
    counts = collect()
    assert counts == Counter({"LIST": 1, "PUT": 3})  # one PUT replaces: no DELETE, no HEAD
    assert bucket_contents(s3_server, static_bucket) == files


def test_listing_pages_stay_within_n_over_1000(use_static, s3_server, static_bucket):
    """1,050 objects already stored (uploaded in parallel here to keep the test fast): two pages."""
    files = make_sources(use_static(MINIO_GZIP=False), 1050)
    client = s3_server.client()

    def upload(item):
        client.put_object(
            bucket_name=static_bucket, object_name=item[0], data=io.BytesIO(item[1]), length=len(item[1])
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(upload, files.items()))
    assert collect() == Counter({"LIST": math.ceil(1050 / 1000)})


def test_clear_deletes_only_the_static_bucket_with_bulk_requests(use_static, s3_server, static_bucket, name):
    files = make_sources(use_static(), 10)
    client = s3_server.client()
    client.put_object(bucket_name=static_bucket, object_name="old/stale.css", data=io.BytesIO(b"x"), length=1)
    client.put_object(bucket_name=PUBLIC, object_name=f"{name}/keep.txt", data=io.BytesIO(b"keep"), length=4)
    collect()
    counts = collect(clear=True)
    # --clear uploads every file again (as Django's does) and deletes the stale one in bulk.
    assert counts == Counter({"LIST": 1, "PUT": 10, "POST": 1})
    assert bucket_contents(s3_server, static_bucket) == files
    assert client.get_object(bucket_name=PUBLIC, object_name=f"{name}/keep.txt").read() == b"keep"


def test_clear_of_many_stale_objects_takes_one_request_per_1000(use_static, s3_server, static_bucket):
    use_static()
    client = s3_server.client()

    def upload(index):
        client.put_object(
            bucket_name=static_bucket, object_name=f"stale/{index}.txt", data=io.BytesIO(b"x"), length=1
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(upload, range(1001)))
    counts = collect(clear=True)
    assert counts == Counter({"LIST": 2, "POST": 2})
    assert bucket_contents(s3_server, static_bucket) == {}


def test_outside_the_context_the_static_storage_behaves_like_media(use_static, s3_server, static_bucket):
    """No listing, no held delete: one HEAD per exists(), a DELETE at once."""
    make_sources(use_static(), 3)
    collect()
    storage = staticfiles_storage._wrapped
    counter = storage.options.http_client
    counter.reset()
    assert storage.collect_session is None
    assert storage.exists("d0/sub0/file0.txt")
    assert not storage.exists("nothing/here.txt")
    storage.get_modified_time("d0/sub0/file0.txt")
    storage.delete("d0/sub0/file0.txt")
    assert counter.methods() == ["HEAD", "HEAD", "HEAD", "DELETE"]
    assert "d0/sub0/file0.txt" not in bucket_contents(s3_server, static_bucket)


def test_the_listing_lives_exactly_as_long_as_the_context(use_static, s3_server, static_bucket, counter):
    use_static()
    storage = MinioBackendStatic(storage_name="staticfiles")
    with storage.collecting():
        assert not storage.exists("late.txt")
        s3_server.client().put_object(
            bucket_name=static_bucket, object_name="late.txt", data=io.BytesIO(b"x"), length=1
        )
        assert not storage.exists("late.txt")  # one listing per run
    assert storage.exists("late.txt")  # outside: asked at once
    with storage.collecting():
        assert storage.exists("late.txt")
        assert storage.size("late.txt") == 1
    assert requests_by_kind(counter, static_bucket) == Counter({"LIST": 2, "HEAD": 1})


def test_held_deletes_are_carried_out_in_bulk_only_when_the_run_succeeds(
    use_static, s3_server, static_bucket
):
    make_sources(use_static(), 3)
    collect()
    storage = MinioBackendStatic(storage_name="staticfiles")
    with pytest.raises(RuntimeError), storage.collecting():
        storage.delete("d0/sub0/file0.txt")
        assert not storage.exists("d0/sub0/file0.txt")
        raise RuntimeError("the deploy died")
    assert "d0/sub0/file0.txt" in bucket_contents(s3_server, static_bucket)  # the old deploy still works
    counter = storage.options.http_client
    counter.reset()
    with storage.collecting():
        storage.delete("d0/sub0/file0.txt")
        storage.delete("d1/sub1/file1.txt")
    assert requests_by_kind(counter, static_bucket) == Counter({"LIST": 1, "POST": 1})
    assert sorted(bucket_contents(s3_server, static_bucket)) == ["d2/sub2/file2.txt"]


def test_the_context_is_reentrant_and_ends_with_the_outermost(use_static, s3_server, static_bucket):
    use_static()
    storage = MinioBackendStatic(storage_name="staticfiles")
    with storage.collecting() as outer:
        with storage.collecting() as inner:
            assert inner is outer
            storage.save("a.txt", ContentFile(b"a"))
        assert storage.collect_session is outer
    assert storage.collect_session is None
    assert bucket_contents(s3_server, static_bucket) == {"a.txt": b"a"}


def test_static_urls_are_public_and_the_bucket_is_not_listable_anonymously(use_static, static_bucket):
    files = make_sources(use_static(), 2)
    collect()
    url = staticfiles_storage.url("d0/sub0/file0.txt")
    assert "X-Amz-" not in url
    response = anonymous.request("GET", url)
    assert response.status == 200
    assert response.data == files["d0/sub0/file0.txt"]


@pytest.mark.s3_strict
def test_static_bucket_cannot_be_listed_anonymously(use_static, s3_server, static_bucket):
    make_sources(use_static(), 1)
    collect()
    assert refused(anonymous.request("GET", f"{s3_server.url}/{static_bucket}?list-type=2"))
    assert refused(anonymous.request("GET", f"{s3_server.url}/{static_bucket}/"))


# -- manifest storage -------------------------------------------------------------------------


def make_site(source):
    (source / "img").mkdir()
    (source / "img" / "logo.png").write_bytes(b"\x89PNG not really")
    (source / "css").mkdir()
    (source / "css" / "site.css").write_bytes(b"body { background: url('../img/logo.png'); }\n")


def test_manifest_storage_makes_no_request_when_built(use_static, counter):
    use_static(MANIFEST)
    MinioManifestStaticStorage(storage_name="staticfiles")
    assert counter.requests == []


def test_manifest_collectstatic_hashes_and_marks_hashed_files_immutable(use_static, s3_server, static_bucket):
    make_site(use_static(MANIFEST))
    counts = collect()
    assert counts["HEAD"] == 0
    assert counts["DELETE"] == 0
    client = s3_server.client()
    hashed_css = staticfiles_storage.stored_name("css/site.css")
    hashed_png = staticfiles_storage.stored_name("img/logo.png")
    assert hashed_css != "css/site.css"
    for hashed in (hashed_css, hashed_png):
        stat = client.stat_object(bucket_name=static_bucket, object_name=hashed)
        assert stat.metadata.get("Cache-Control") == IMMUTABLE
    for plain in ("css/site.css", "staticfiles.json"):
        stat = client.stat_object(bucket_name=static_bucket, object_name=plain)
        assert stat.metadata.get("Cache-Control") != IMMUTABLE
    css = client.get_object(bucket_name=static_bucket, object_name=hashed_css).read()
    assert hashed_png.split("/")[-1].encode() in css


def test_static_tag_gives_the_hashed_public_url_and_reads_the_manifest_once(
    use_static, s3_server, static_bucket, counter
):
    make_site(use_static(MANIFEST))
    collect()
    use_static(MANIFEST)  # a new STORAGES value: a new storage instance, like a new process
    counter.reset()
    engine = Engine(libraries={"static": "django.templatetags.static"})
    template = engine.from_string("{% load static %}{% static 'css/site.css' %}")
    urls = {template.render(Context()) for _ in range(5)}
    assert len(urls) == 1
    url = urls.pop()
    assert url.startswith(f"{s3_server.url}/{static_bucket}/css/site.")
    assert url != f"{s3_server.url}/{static_bucket}/css/site.css"
    assert counter.requests == [("GET", f"/{static_bucket}/staticfiles.json")]
    response = anonymous.request("GET", url)
    assert response.status == 200
    assert response.headers["Cache-Control"] == IMMUTABLE


def test_manifest_second_run_uploads_only_rewritten_files(use_static):
    make_site(use_static(MANIFEST))
    collect()
    counts = collect()
    assert counts["HEAD"] == 0
    assert counts["DELETE"] == 0
    # Django rewrites processed CSS and the manifest on every run; same bytes, so no upload.
    assert counts == Counter({"LIST": 1})


def test_manifest_picks_up_an_edited_file(use_static, s3_server, static_bucket):
    source = use_static(MANIFEST)
    make_site(source)
    collect()
    old = staticfiles_storage.stored_name("css/site.css")
    (source / "css" / "site.css").write_bytes(b"body { color: red; background: url('../img/logo.png'); }\n")
    collect()
    use_static(MANIFEST)  # a new instance reads the new manifest
    new = staticfiles_storage.stored_name("css/site.css")
    assert new != old
    response = anonymous.request("GET", staticfiles_storage.url("css/site.css"))
    assert response.status == 200
    assert b"color: red" in response.data
    assert staticfiles_storage.stored_name("img/logo.png").split("/")[-1].encode() in response.data


# -- the explicit context -----------------------------------------------------------------------


def test_this_apps_command_is_the_one_manage_py_runs(use_static):
    assert get_commands()["collectstatic"] == "django_minio_backend"
    assert not [m for m in checks.run_all() if m.id == "minio_backend.W006"]


STOCK_ORDER = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "django_minio_backend.apps.DjangoMinioBackendConfig",
    "tests.testapp",
]


def test_with_djangos_command_everything_works_without_the_speed_ups(use_static, s3_server, static_bucket):
    files = make_sources(use_static(MINIO_CONDITIONAL_WRITES=True), 6)  # counts without the probe
    with override_settings(INSTALLED_APPS=STOCK_ORDER):
        assert get_commands()["collectstatic"] == "django.contrib.staticfiles"
        warnings = [m for m in checks.run_all() if m.id == "minio_backend.W006"]
        assert len(warnings) == 1 and "before 'django.contrib.staticfiles'" in warnings[0].hint
        first = collect()
        assert first["PUT"] == 6 and first["LIST"] == 0  # per-file requests: HEADs, no listing
        assert bucket_contents(s3_server, static_bucket) == files
        second = collect()  # stored copies are newer than the sources: skipped by time
        assert second == Counter({"HEAD": 12})
        # A deploy script can still open the context around Django's command.
        with staticfiles_storage.collecting():
            assert collect() == Counter({"LIST": 1})


def test_copied_and_unmodified_counts_stay_true(use_static):
    source = use_static()
    make_sources(source, 12)
    out = io.StringIO()
    call_command("collectstatic", interactive=False, verbosity=1, stdout=out)
    assert "12 static files copied" in out.getvalue()
    (source / "d0/sub0/file0.txt").write_bytes(b"changed\n")
    out = io.StringIO()
    call_command("collectstatic", interactive=False, verbosity=1, stdout=out)
    assert "1 static file copied" in out.getvalue() and "11 unmodified" in out.getvalue()


# -- parallel uploads ---------------------------------------------------------------------------


def test_uploads_run_in_parallel_within_the_worker_bound(use_static, counter):
    make_sources(use_static(MINIO_STATIC_UPLOAD_WORKERS=3), 60)
    collect()
    assert 2 <= counter.peak_active <= 3


def test_the_first_failed_upload_is_raised_with_the_files_name(
    minio_settings, minio_options, static_bucket, tmp_path, s3_server
):
    source = tmp_path / "src"
    files = make_sources(source, 20)
    with FaultProxy(s3_server.endpoint) as proxy:
        minio_settings.STATICFILES_DIRS = [str(source)]
        minio_settings.STATICFILES_FINDERS = [FILES_ONLY]
        options = {
            **minio_options,
            "MINIO_ENDPOINT": proxy.endpoint,
            "MINIO_STATIC_FILES_BUCKET": static_bucket,
            "MINIO_MAX_RETRIES": 0,
        }
        minio_settings.STORAGES = {
            **minio_settings.STORAGES,
            "staticfiles": {"BACKEND": STATIC, "OPTIONS": options},
        }
        proxy.set(
            "status", status=500, match=lambda method, target: method == "PUT" and "file7.txt" in target
        )
        with pytest.raises(UploadFailed) as raised:
            call_command("collectstatic", interactive=False, verbosity=0)
    assert raised.value.name == "d3/sub1/file7.txt"
    assert "d3/sub1/file7.txt" in str(raised.value)
    stored = bucket_contents(s3_server, static_bucket)
    assert "d3/sub1/file7.txt" not in stored
    assert all(stored[name] == files[name] for name in stored)  # nothing partial


def test_manifest_storage_without_post_processing_waits_for_every_upload(
    use_static, s3_server, static_bucket
):
    source = use_static(MANIFEST)
    files = make_sources(source, 30)
    call_command("collectstatic", interactive=False, verbosity=0, post_process=False)
    assert bucket_contents(s3_server, static_bucket) == files


# -- change detection that holds for every upload ------------------------------------------------


def test_a_multipart_upload_is_not_uploaded_again_when_unchanged(use_static, s3_server, static_bucket):
    source = use_static(
        MINIO_MULTIPART_UPLOAD=True, MINIO_MULTIPART_THRESHOLD=0, MINIO_MULTIPART_PART_SIZE=MIN_PART
    )
    big = os.urandom(MIN_PART + 1000)
    (source / "big.bin").write_bytes(big)
    (source / "small.css").write_bytes(b"body { color: red; }\n" * 20)
    # Threshold 0: both go multipart (initiate, parts, complete): big.bin 2 parts, small.css 1.
    assert collect() == Counter({"LIST": 1, "POST": 4, "PUT": 3})
    for name in ("big.bin", "small.css"):
        stat = s3_server.client().stat_object(bucket_name=static_bucket, object_name=name)
        assert "-" in stat.etag  # not an MD5
    assert collect() == Counter({"LIST": 1, "HEAD": 2})  # our x-amz-meta-md5 says: the same
    (source / "big.bin").write_bytes(big[:-1] + b"!")
    assert collect() == Counter({"LIST": 1, "HEAD": 2, "POST": 2, "PUT": 2})


@pytest.fixture(scope="module")
def sse_server(s3_server):
    """A server that stores SSE-S3 uploads: the one under test, or moto when that is Ceph RGW 16
    (it refuses SSE-S3 without a key backend, and SSE-KMS/SSE-C over plain http)."""
    if s3_server.kind not in ("rgw", "rgw-cluster"):
        yield s3_server
        return
    with start_server("moto") as running:
        yield running.server


def test_an_sse_upload_is_not_uploaded_again_when_unchanged(use_static, minio_settings, sse_server):
    source = use_static()
    make_sources(source, 4)
    bucket = f"sse-{uuid.uuid4().hex[:12]}"
    client = sse_server.client()
    create_bucket(client, bucket, public=True)
    storage = MinioBackendStatic(
        sse=SseS3(),
        **sse_server.storage_options(
            MINIO_STATIC_FILES_BUCKET=bucket, MINIO_HTTP_CLIENT=CountingPoolManager()
        ),
    )
    try:
        collect_with(storage)
        stat = client.stat_object(bucket_name=bucket, object_name="d0/sub0/file0.txt")
        assert stat.metadata.get("x-amz-server-side-encryption") == "AES256"
        assert collect_with(storage) == Counter({"LIST": 1})  # this server's SSE ETags are MD5s
        (source / "d0/sub0/file0.txt").write_bytes(b"changed\n")
        # An ETag that differs is not proof under SSE: the stored x-amz-meta-md5 decides (one HEAD).
        assert collect_with(storage) == Counter({"LIST": 1, "HEAD": 1, "PUT": 1})
    finally:
        empty_bucket(sse_server, bucket, client=client)
        client.remove_bucket(bucket_name=bucket)


def collect_with(storage):
    counter = storage.options.http_client
    counter.reset()
    staticfiles_storage._wrapped = storage
    call_command("collectstatic", interactive=False, verbosity=0)
    return requests_by_kind(counter, storage.bucket)


def test_objects_uploaded_by_others_are_compared_by_etag(use_static, s3_server, static_bucket):
    source = use_static()
    files = make_sources(source, 3)
    client = s3_server.client()
    for name, data in files.items():  # raw bytes, no metadata: what another tool uploads
        client.put_object(
            bucket_name=static_bucket, object_name=name, data=io.BytesIO(data), length=len(data)
        )
    assert collect() == Counter({"LIST": 1})


def test_turning_gzip_off_alone_uploads_nothing_again(use_static, s3_server, static_bucket):
    """Files stored gzipped while MINIO_GZIP was on are still the same content once it is off."""
    source = use_static()
    for index in range(4):
        (source / f"style{index}.css").write_bytes(b"body { color: red; }\n" * 200)
    collect()
    assert all(
        headers_of(s3_server, f"style{index}.css", bucket=static_bucket).get("content-encoding") == "gzip"
        for index in range(4)
    )
    use_static(MINIO_GZIP=False)
    assert collect() == Counter({"LIST": 1})
    (source / "style0.css").write_bytes(b"body { color: blue; }\n" * 200)
    assert collect() == Counter({"LIST": 1, "PUT": 1})  # a real change is still uploaded
