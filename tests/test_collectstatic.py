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
from django.core.management import call_command
from django.template import Context, Engine

from django_minio_backend import buckets
from django_minio_backend.manifest import IMMUTABLE
from django_minio_backend.models import MinioBackendStatic, MinioManifestStaticStorage
from django_minio_backend.testing.cleanup import empty_bucket

from .conftest import PUBLIC

STATIC = "django_minio_backend.models.MinioBackendStatic"
MANIFEST = "django_minio_backend.models.MinioManifestStaticStorage"
anonymous = urllib3.PoolManager()


@pytest.fixture
def static_bucket(s3_server):
    """A fresh public bucket per test, so request counts start clean."""
    bucket = f"st-{uuid.uuid4().hex[:12]}"
    client = s3_server.client()
    buckets.create_bucket(client, bucket, region=s3_server.region, public=True)
    yield bucket
    empty_bucket(s3_server, bucket, client=client)
    client.remove_bucket(bucket_name=bucket)


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
    files = make_sources(use_static(), 1050)
    client = s3_server.client()

    def upload(item):
        client.put_object(
            bucket_name=static_bucket, object_name=item[0], data=io.BytesIO(item[1]), length=len(item[1])
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(upload, files.items()))
    assert collect() == Counter({"LIST": math.ceil(1050 / 1000)})


def test_clear_deletes_only_the_static_bucket(use_static, s3_server, static_bucket, name):
    files = make_sources(use_static(), 10)
    client = s3_server.client()
    client.put_object(bucket_name=static_bucket, object_name="old/stale.css", data=io.BytesIO(b"x"), length=1)
    client.put_object(bucket_name=PUBLIC, object_name=f"{name}/keep.txt", data=io.BytesIO(b"keep"), length=4)
    collect()
    counts = collect(clear=True)
    assert counts["DELETE"] == 11  # the stale object and the ten collected ones
    assert counts["PUT"] == 10
    assert counts["HEAD"] == 0
    assert bucket_contents(s3_server, static_bucket) == files
    assert client.get_object(bucket_name=PUBLIC, object_name=f"{name}/keep.txt").read() == b"keep"


def test_a_plain_delete_is_not_held_back(use_static, s3_server, static_bucket):
    """Only Django's replace-after-delete paths skip the DELETE; other callers delete at once."""
    make_sources(use_static(), 3)
    collect()
    storage = staticfiles_storage._wrapped
    counter = storage.options.http_client
    counter.reset()
    assert storage.exists("d0/sub0/file0.txt")
    storage.get_modified_time("d0/sub0/file0.txt")
    storage.delete("d0/sub0/file0.txt")
    assert requests_by_kind(counter, static_bucket)["DELETE"] == 1
    assert "d0/sub0/file0.txt" not in bucket_contents(s3_server, static_bucket)
    assert not storage.exists("d0/sub0/file0.txt")


def test_snapshot_age_bounds_what_exists_can_miss(use_static, s3_server, static_bucket, counter):
    use_static()
    storage = MinioBackendStatic(storage_name="staticfiles")
    assert not storage.exists("late.txt")
    s3_server.client().put_object(
        bucket_name=static_bucket, object_name="late.txt", data=io.BytesIO(b"x"), length=1
    )
    storage.listing_max_age = 0
    assert storage.exists("late.txt")
    assert storage.size("late.txt") == 1


def test_static_urls_are_public_and_the_bucket_is_not_listable_anonymously(use_static, static_bucket):
    files = make_sources(use_static(), 2)
    collect()
    url = staticfiles_storage.url("d0/sub0/file0.txt")
    assert "X-Amz-" not in url
    response = anonymous.request("GET", url)
    assert response.status == 200
    assert response.data == files["d0/sub0/file0.txt"]


@pytest.mark.strict
def test_static_bucket_cannot_be_listed_anonymously(use_static, s3_server, static_bucket):
    make_sources(use_static(), 1)
    collect()
    assert anonymous.request("GET", f"{s3_server.url}/{static_bucket}?list-type=2").status == 403
    assert anonymous.request("GET", f"{s3_server.url}/{static_bucket}/").status == 403


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
