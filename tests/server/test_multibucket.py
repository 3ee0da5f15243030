"""MinioMultiBucketStorage: one FileField whose rows point at three buckets on two S3 servers."""

from __future__ import annotations

import copy
import io
import pickle
import time

import pytest
import urllib3
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db.migrations.writer import MigrationWriter

from django_minio_backend.errors import ConfigurationError
from django_minio_backend.models import MinioMultiBucketStorage
from django_minio_backend.testing import create_declared_buckets, empty_bucket, start_server, storages_for

from tests.support import MULTI, PRIVATE, PUBLIC, CountingPoolManager, keys
from tests.testapp.models import Document

pytestmark = pytest.mark.django_db

ARCHIVE = "test-archive"


@pytest.fixture(scope="module")
def second_server(s3_server):
    """A second S3 server of the same kind, for the "archive" alias."""
    if s3_server.kind == "external":
        pytest.skip("needs a second embedded server; MINIO_TEST_SERVER=external gives only one")
    with start_server(s3_server.kind) as running:
        yield running.server


@pytest.fixture
def counters():
    pools = {"default": CountingPoolManager(), "archive": CountingPoolManager()}
    yield pools
    for pool in pools.values():
        pool.clear()


@pytest.fixture
def two_servers(settings, s3_server, s3_buckets, second_server, counters):
    """STORAGES: "default" (PRIVATE, PUBLIC) on the session server, "archive" on the second one."""
    storages = storages_for(s3_server)
    storages["default"]["OPTIONS"]["MINIO_HTTP_CLIENT"] = counters["default"]
    # Known If-None-Match support: no once-per-process probe in the request counts below.
    storages["default"]["OPTIONS"]["MINIO_CONDITIONAL_WRITES"] = True
    storages["archive"] = {
        "BACKEND": "django_minio_backend.models.MinioBackend",
        "OPTIONS": second_server.storage_options(
            MINIO_PRIVATE_BUCKETS=[ARCHIVE],
            MINIO_DEFAULT_BUCKET=ARCHIVE,
            MINIO_HTTP_CLIENT=counters["archive"],
            MINIO_CONDITIONAL_WRITES=True,
        ),
    }
    storages["documents"] = {
        "BACKEND": MULTI,
        "OPTIONS": {"MINIO_URL_SCHEMES": {"minio": "default", "archive": "archive"}},
    }
    settings.STORAGES = storages
    create_declared_buckets(storages)
    for bucket in (PRIVATE, PUBLIC):
        empty_bucket(s3_server, bucket)
    yield settings
    for bucket in (PRIVATE, PUBLIC):
        empty_bucket(s3_server, bucket)
    empty_bucket(second_server, ARCHIVE)


def requests(counters):
    return {alias: pool.methods() for alias, pool in counters.items() if pool.requests}


def reset(counters):
    for pool in counters.values():
        pool.reset()


def http_get(url):
    response = urllib3.PoolManager().request("GET", url, retries=False)
    return response.status, response.data


def test_one_field_three_buckets_on_two_servers(two_servers, s3_server, second_server, counters):
    rows = {
        "": b"plain name: the default bucket",
        f"minio://{PUBLIC}/press/": b"public bucket on server 1",
        f"archive://{ARCHIVE}/2019/": b"private bucket on server 2",
    }
    saved = []
    for destination, body in rows.items():
        document = Document(destination=destination)
        reset(counters)
        document.file.save("report.txt", ContentFile(body))
        assert sum(len(methods) for methods in requests(counters).values()) == 1, requests(counters)
        saved.append(document)

    assert [d.file.name for d in saved] == [
        f"minio://{PRIVATE}/docs/report.txt",
        f"minio://{PUBLIC}/press/report.txt",
        f"archive://{ARCHIVE}/2019/report.txt",
    ]
    assert keys(s3_server, PRIVATE) == ["docs/report.txt"]
    assert keys(s3_server, PUBLIC) == ["press/report.txt"]
    assert keys(second_server, ARCHIVE) == ["2019/report.txt"]
    assert not s3_server.client().bucket_exists(bucket_name=ARCHIVE)  # server 1 has no archive

    for document, body in zip(saved, rows.values(), strict=True):
        row = Document.objects.get(pk=document.pk)
        reset(counters)
        url = row.file.url
        assert requests(counters) == {}, "url() must make no request"
        assert http_get(url) == (200, body)
        with row.file.open("rb") as handle:
            assert handle.read() == body
        assert [m for methods in requests(counters).values() for m in methods] == ["GET"]
        assert row.file.size == len(body)

    public_url = Document.objects.get(pk=saved[1].pk).file.url
    assert public_url == f"{s3_server.url}/{PUBLIC}/press/report.txt"
    archive_url = Document.objects.get(pk=saved[2].pk).file.url
    assert archive_url.startswith(f"{second_server.url}/{ARCHIVE}/2019/report.txt?")
    assert "X-Amz-Signature=" in archive_url

    # A second save under the same name gets a new name in the same bucket.
    again = Document(destination=f"archive://{ARCHIVE}/2019/")
    again.file.save("report.txt", ContentFile(b"second"))
    assert (
        again.file.name.startswith(f"archive://{ARCHIVE}/2019/report_")
        and again.file.name != saved[2].file.name
    )

    for document in [*saved, again]:
        document.file.delete(save=False)
    assert keys(s3_server, PRIVATE) == keys(s3_server, PUBLIC) == keys(second_server, ARCHIVE) == []


def test_storage_api_routes_by_name(two_servers, second_server, counters):
    from django.core.files.storage import storages

    storage = storages["documents"]
    name = storage.save(f"archive://{ARCHIVE}/a/b/c.txt", ContentFile(b"abc"))
    assert name == f"archive://{ARCHIVE}/a/b/c.txt"
    assert storage.exists(name) and not storage.exists(f"minio://{PRIVATE}/a/b/c.txt")
    assert storage.size(name) == 3
    assert storage.get_modified_time(name).tzinfo is not None
    assert storage.listdir(f"archive://{ARCHIVE}/a") == (["b"], [])
    assert storage.listdir(f"archive://{ARCHIVE}/a/b/") == ([], ["c.txt"])
    assert storage.open(name).name == "a/b/c.txt"  # the name inside its bucket, as MinioBackend gives
    # A plain name (e.g. a row written before the switch) is the first scheme's default bucket.
    plain = storage.save("legacy.txt", ContentFile(b"old"))
    assert plain == f"minio://{PRIVATE}/legacy.txt"
    assert storage.open("legacy.txt").read() == b"old"
    assert (
        storage.generate_filename("archive://test-archive/x/./y/é f.txt")
        == "archive://test-archive/x/y/é_f.txt"
    )
    with pytest.raises(SuspiciousFileOperation, match="path traversal"):
        storage.generate_filename("archive://test-archive/x/../../y.txt")
    storage.delete(name)
    assert not storage.exists(name)
    assert keys(second_server, ARCHIVE) == []


def test_undeclared_bucket_or_unknown_scheme_is_a_clear_error_before_any_request(two_servers, counters):
    storage = MinioMultiBucketStorage(storage_name="documents")
    reset(counters)
    with pytest.raises(
        ConfigurationError, match=r"bucket 'not-declared' is not declared for STORAGES\['archive'\]"
    ):
        storage.save("archive://not-declared/a.txt", ContentFile(b"x"))
    with pytest.raises(
        ConfigurationError, match=r"scheme 's3' is not in MINIO_URL_SCHEMES \(minio, archive\)"
    ):
        storage.url("s3://bucket/a.txt")
    with pytest.raises(ConfigurationError, match="bucket 'test-static' is not declared"):
        storage.open("minio://test-static/app.css")  # the static bucket is not a media bucket
    with pytest.raises(SuspiciousFileOperation, match="names a bucket, not an object"):
        storage.delete(f"archive://{ARCHIVE}/")
    with pytest.raises(SuspiciousFileOperation):
        storage.open(f"archive://{ARCHIVE}/../etc/passwd")
    with pytest.raises(SuspiciousFileOperation, match="alone fills the field's max_length"):
        storage.save(f"archive://{ARCHIVE}/a.txt", ContentFile(b"x"), max_length=10)
    assert requests(counters) == {}


def test_configuration_errors_name_the_setting(two_servers):
    with pytest.raises(ConfigurationError, match="takes only MINIO_URL_SCHEMES, not MINIO_ENDPOINT"):
        MinioMultiBucketStorage(MINIO_URL_SCHEMES={"minio": "default"}, MINIO_ENDPOINT="x:9000")
    with pytest.raises(ConfigurationError, match="MINIO_URL_SCHEMES is empty"):
        MinioMultiBucketStorage(MINIO_URL_SCHEMES={})
    with pytest.raises(ConfigurationError, match="'S3' is not a URL scheme"):
        MinioMultiBucketStorage(MINIO_URL_SCHEMES={"S3": "default"})
    missing = MinioMultiBucketStorage(MINIO_URL_SCHEMES={"minio": "nowhere"})
    with pytest.raises(ConfigurationError, match=r"STORAGES\['nowhere'\], which does not exist"):
        missing.url("a.txt")
    static = MinioMultiBucketStorage(MINIO_URL_SCHEMES={"minio": "staticfiles"})
    with pytest.raises(ConfigurationError, match="Map schemes to MinioBackend aliases"):
        static.url("a.txt")


def test_deconstruct_keeps_aliases_only(two_servers):
    storage = MinioMultiBucketStorage(storage_name="documents")
    assert storage.deconstruct() == (MULTI, (), {"storage_name": "documents"})
    by_map = MinioMultiBucketStorage(MINIO_URL_SCHEMES={"minio": "default"})
    written, _ = MigrationWriter.serialize(by_map)
    assert (
        written
        == "django_minio_backend.models.MinioMultiBucketStorage(MINIO_URL_SCHEMES={'minio': 'default'})"
    )
    assert "SECRET" not in repr(storage).upper()


def test_url_cache_is_per_alias_and_bucket(two_servers, counters, settings):
    for alias in ("default", "archive"):
        settings.STORAGES[alias]["OPTIONS"]["MINIO_URL_CACHING_ENABLED"] = True
    settings.STORAGES = dict(settings.STORAGES)  # a new STORAGES: the router rebuilds its backends
    storage = MinioMultiBucketStorage(storage_name="documents")
    names = [f"minio://{PRIVATE}/same.txt", f"archive://{ARCHIVE}/same.txt"]
    for name, body in zip(names, (b"one", b"two"), strict=True):
        storage.save(name, ContentFile(body))
    reset(counters)
    first = [storage.url(name) for name in names]
    assert first == [storage.url(name) for name in names]  # served from the cache
    assert requests(counters) == {}
    assert [http_get(url) for url in first] == [(200, b"one"), (200, b"two")]


def test_orphan_cleaner_and_check_missing_route_by_name(two_servers, s3_server, second_server):
    storage = MinioMultiBucketStorage(storage_name="documents")
    for name in (
        f"minio://{PRIVATE}/kept.txt",
        f"minio://{PUBLIC}/kept.txt",
        f"archive://{ARCHIVE}/kept.txt",
        f"minio://{PRIVATE}/orphan.txt",
        f"archive://{ARCHIVE}/orphan.txt",
        f"archive://{ARCHIVE}/only-private-is-referenced.txt",
    ):
        storage.save(name, ContentFile(b"x"))
    Document.objects.create(file=f"minio://{PRIVATE}/kept.txt")
    Document.objects.create(file=f"minio://{PUBLIC}/kept.txt")
    Document.objects.create(file=f"archive://{ARCHIVE}/kept.txt")
    Document.objects.create(file="only-private-is-referenced.txt")  # plain: PRIVATE, not ARCHIVE
    gone = Document.objects.create(file=f"archive://{ARCHIVE}/gone.txt")
    time.sleep(1.1)

    out = io.StringIO()
    call_command("clean_orphaned_minio_files", "--min-age", "1s", "--noinput", "--check-missing", stdout=out)

    assert keys(s3_server, PRIVATE) == ["kept.txt"]
    assert keys(s3_server, PUBLIC) == ["kept.txt"]
    assert keys(second_server, ARCHIVE) == ["kept.txt"]
    text = out.getvalue()
    assert f"{second_server.url}/{ARCHIVE}: 3 object(s) listed, 1 referenced" in text
    assert (
        f"missing: testapp.Document.file pk={gone.pk} 'archive://{ARCHIVE}/gone.txt' (not in {ARCHIVE})"
        in text
    )
    assert "only-private-is-referenced.txt' (not in" in text  # the plain row's PRIVATE object is missing


def test_orphan_cleaner_refuses_rows_it_cannot_route(two_servers, second_server):
    storage = MinioMultiBucketStorage(storage_name="documents")
    storage.save(f"archive://{ARCHIVE}/keep-me.txt", ContentFile(b"x"))
    Document.objects.create(file=f"s3://{ARCHIVE}/keep-me.txt")  # e.g. a scheme renamed in settings
    from django.core.management import CommandError

    with pytest.raises(CommandError, match=r"1 row\(s\) name objects that cannot be located.*'s3'"):
        call_command("clean_orphaned_minio_files", "--min-age", "0", "--noinput", stdout=io.StringIO())
    assert keys(second_server, ARCHIVE) == ["keep-me.txt"]


def test_direct_upload_is_signed_for_the_names_server(two_servers, second_server):
    storage = MinioMultiBucketStorage(storage_name="documents")
    name = f"archive://{ARCHIVE}/uploads/scan.pdf"
    url = storage.presigned_put_url(name)
    assert url.startswith(f"{second_server.url}/{ARCHIVE}/uploads/scan.pdf?")
    assert urllib3.PoolManager().request("PUT", url, body=b"%PDF", retries=False).status == 200
    assert storage.verify_upload(name, expected_size=4).size == 4
    assert storage.open(name).read() == b"%PDF"
    form = storage.presigned_post(f"archive://{ARCHIVE}/uploads/", max_size=10)
    assert form["url"].startswith(second_server.url) and form["fields"]["key"] == "uploads/${filename}"


def test_router_pickles_and_copies_without_its_connections(two_servers):
    storage = MinioMultiBucketStorage(storage_name="documents")
    name = f"archive://{ARCHIVE}/a.txt"
    url = storage.url(name)  # builds the archive backend and its pool
    for clone in (pickle.loads(pickle.dumps(storage)), copy.deepcopy(storage)):
        assert clone.deconstruct() == storage.deconstruct()
        assert clone.url(name).split("?")[0] == url.split("?")[0]


def test_write_mode_goes_to_the_names_bucket(two_servers, second_server):
    storage = MinioMultiBucketStorage(storage_name="documents")
    name = f"archive://{ARCHIVE}/written.txt"
    with storage.open(name, "w") as handle:
        handle.write("héllo")
    assert keys(second_server, ARCHIVE) == ["written.txt"]
    assert storage.open(name).read() == "héllo".encode()
