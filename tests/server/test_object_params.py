"""Per-object upload parameters, read-only mode and MINIO_LOCATION, read back from the server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import urllib3
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from minio.commonconfig import GOVERNANCE, Tags
from minio.deleteobjects import DeleteObject
from minio.retention import Retention
from minio.sse import SseCustomerKey, SseS3

from django_minio_backend.errors import ReadOnlyStorageError, StorageServerError, UnsupportedByServerError
from django_minio_backend.models import MinioBackend

from tests.support import PRIVATE, PUBLIC, headers_of

http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=30))


# -- per-object headers and metadata -----------------------------------------------------------


def test_fixed_headers_and_metadata_are_stored(minio_settings, s3_server, name):
    storage = MinioBackend(
        bucket_name=PRIVATE,
        storage_name="default",
        MINIO_CACHE_CONTROL="public, max-age=600",
        MINIO_CONTENT_DISPOSITION="inline",
        MINIO_CONTENT_LANGUAGE="hu",
        MINIO_METADATA={"owner": "team-a"},
    )
    saved = storage.save(f"{name}/fixed.txt", ContentFile(b"x"))
    headers = headers_of(s3_server, saved)
    assert headers["cache-control"] == "public, max-age=600"
    assert headers["content-disposition"] == "inline"
    assert headers["content-language"] == "hu"
    assert headers["x-amz-meta-owner"] == "team-a"
    assert headers["content-type"] == "text/plain"


def test_callable_headers_and_metadata_get_the_name(minio_settings, s3_server, name):
    storage = MinioBackend(
        bucket_name=PRIVATE,
        storage_name="default",
        MINIO_CACHE_CONTROL=lambda n: "no-store" if n.endswith(".csv") else "max-age=60",
        MINIO_CONTENT_DISPOSITION=lambda n: f'attachment; filename="{n.rsplit("/", 1)[-1]}"',
        MINIO_CONTENT_LANGUAGE=lambda n: "de" if "/de/" in n else "en",
        MINIO_METADATA={"source-name": lambda n: n.rsplit("/", 1)[-1], "fixed": "1"},
    )
    csv = storage.save(f"{name}/de/report.csv", ContentFile(b"a,b"))
    txt = storage.save(f"{name}/en/readme.txt", ContentFile(b"hi"))
    csv_headers, txt_headers = headers_of(s3_server, csv), headers_of(s3_server, txt)
    assert csv_headers["cache-control"] == "no-store"
    assert csv_headers["content-disposition"] == 'attachment; filename="report.csv"'
    assert csv_headers["content-language"] == "de"
    assert csv_headers["x-amz-meta-source-name"] == "report.csv"
    assert txt_headers["cache-control"] == "max-age=60"
    assert txt_headers["content-language"] == "en"
    assert txt_headers["x-amz-meta-fixed"] == "1"


def test_headers_are_served_on_get_of_a_presigned_url(minio_settings, name):
    storage = MinioBackend(
        bucket_name=PRIVATE,
        storage_name="default",
        MINIO_CACHE_CONTROL="max-age=31536000, immutable",
        MINIO_CONTENT_DISPOSITION="attachment",
    )
    saved = storage.save(f"{name}/served.bin", ContentFile(b"bytes"))
    response = http.request("GET", storage.url(saved))
    assert response.status == 200
    assert response.headers["Cache-Control"] == "max-age=31536000, immutable"
    assert response.headers["Content-Disposition"] == "attachment"


def test_constructor_metadata_and_headers_pass_through(minio_settings, s3_server, name):
    storage = MinioBackend(
        bucket_name=PRIVATE,
        storage_name="default",
        metadata={"batch": "7"},
        headers={"Content-Encoding": "identity"},
    )
    saved = storage.save(f"{name}/ctor.txt", ContentFile(b"x"))
    headers = headers_of(s3_server, saved)
    assert headers["x-amz-meta-batch"] == "7"
    assert headers["content-encoding"] == "identity"


@pytest.mark.s3_needs("tagging")
def test_tags_pass_through(minio_settings, s3_server, name):
    tags = Tags.new_object_tags()
    tags["project"] = "alpha"
    tags["tier"] = "cold"
    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default", tags=tags)
    saved = storage.save(f"{name}/tagged.txt", ContentFile(b"x"))
    stored = s3_server.client().get_object_tags(bucket_name=PRIVATE, object_name=saved)
    assert dict(stored) == {"project": "alpha", "tier": "cold"}


def test_tags_where_tagging_is_stated_missing_are_refused_before_any_request(minio_settings, counter, name):
    tags = Tags.new_object_tags()
    tags["project"] = "alpha"
    storage = MinioBackend(
        bucket_name=PRIVATE,
        storage_name="default",
        tags=tags,
        MINIO_HTTP_CLIENT=counter,
        MINIO_SERVER_CAPABILITIES={"tagging": False},
    )
    with pytest.raises(UnsupportedByServerError, match="`tags` argument"):
        storage.save(f"{name}/tagged.txt", ContentFile(b"x"))
    assert counter.requests == []


def test_tags_on_a_server_without_tagging_are_refused_and_nothing_is_stored(
    minio_settings, s3_server, counter, name
):
    if s3_server.supports("tagging"):
        pytest.skip("needs a server without object tagging (the swift test server)")
    tags = Tags.new_object_tags()
    tags["project"] = "alpha"
    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default", tags=tags, MINIO_HTTP_CLIENT=counter)
    for size in (10, 6 * 1024 * 1024):  # one PUT, and a multipart upload
        with pytest.raises(UnsupportedByServerError, match="object tagging"):
            storage.save(f"{name}/tagged-{size}.bin", ContentFile(b"x" * size))
    assert not storage.listdir(name)[1]
    counter.reset()
    with pytest.raises(UnsupportedByServerError):
        storage.save(f"{name}/again.txt", ContentFile(b"x"))
    assert counter.requests == []  # learned from the first 501


@pytest.mark.s3_needs("tagging")
def test_upload_arguments_in_storages_options_keep_the_alias(minio_settings, minio_options, s3_server, name):
    from django.core.files.storage import storages

    tags = Tags.new_object_tags()
    tags["via"] = "storages"
    minio_settings.STORAGES = {
        **minio_settings.STORAGES,
        "media": {
            "BACKEND": "django_minio_backend.models.MinioBackend",
            "OPTIONS": {**minio_options, "MINIO_CACHE_CONTROL": "max-age=5", "tags": tags},
        },
    }
    media = storages["media"]
    assert media.storage_name == "media"
    saved = media.save(f"{name}/via-storages.txt", ContentFile(b"x"))
    assert dict(s3_server.client().get_object_tags(bucket_name=PRIVATE, object_name=saved)) == {
        "via": "storages"
    }
    assert headers_of(s3_server, saved)["cache-control"] == "max-age=5"


def test_sse_s3_passes_through(minio_settings, s3_server, counter, name):
    storage = MinioBackend(
        bucket_name=PRIVATE, storage_name="default", sse=SseS3(), MINIO_HTTP_CLIENT=counter
    )

    def last_put_headers():  # what the storage asked the server for
        return [sent.headers for sent in counter.sent if sent.method == "PUT"][-1]

    if not storage.store.confirms_encryption({"x-amz-server-side-encryption": "AES256"}):
        assert last_put_headers()["x-amz-server-side-encryption"] == "AES256"  # the probe asked for it
        with pytest.raises(UnsupportedByServerError, match="SSE-S3"):
            storage.save(f"{name}/sse.txt", ContentFile(b"secret"))
        assert not storage.exists(f"{name}/sse.txt")
        return
    saved = storage.save(f"{name}/sse.txt", ContentFile(b"secret"))
    assert last_put_headers()["x-amz-server-side-encryption"] == "AES256"
    assert headers_of(s3_server, saved)["x-amz-server-side-encryption"] == "AES256"
    assert storage.open(saved).read() == b"secret"


@pytest.mark.s3_needs("sse-c")
@pytest.mark.s3_strict
def test_sse_c_key_given_as_upload_argument_also_reads(minio_settings, s3_server, name):
    """An ``sse=SseCustomerKey(...)`` argument encrypts uploads and is sent with reads and stats."""
    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default", sse=SseCustomerKey(b"k" * 32))
    saved = storage.save(f"{name}/ssec.txt", ContentFile(b"x"))
    assert storage.open(saved).read() == b"x"
    assert storage.size(saved) == 1
    without_key = MinioBackend(bucket_name=PRIVATE, storage_name="default")
    with pytest.raises(StorageServerError):  # the server keeps only the key's MD5
        without_key.open(saved).read()


@pytest.fixture
def locked_bucket(minio_settings, s3_server):
    bucket = f"locked-{uuid.uuid4().hex[:12]}"
    client = s3_server.client()
    client.make_bucket(bucket_name=bucket, object_lock=True)
    yield bucket
    listing = client.list_objects(bucket_name=bucket, recursive=True, include_version=True)
    versions = [DeleteObject(name=o.object_name, version_id=o.version_id) for o in listing]
    errors = list(
        client.remove_objects(bucket_name=bucket, delete_object_list=versions, bypass_governance_mode=True)
    )
    assert errors == []
    client.remove_bucket(bucket_name=bucket)


@pytest.mark.s3_needs("object-lock")
def test_retention_passes_through(s3_server, locked_bucket, name):
    until = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    storage = MinioBackend(
        bucket_name=locked_bucket,
        storage_name="default",
        MINIO_PRIVATE_BUCKETS=[locked_bucket],
        retention=Retention(GOVERNANCE, until),
    )
    try:
        saved = storage.save(f"{name}/kept.txt", ContentFile(b"keep me"))
    except StorageServerError as error:
        if "MissingUploadObjectWithObjectLockHeaders" in str(error):
            pytest.skip(
                "moto requires Content-MD5 on uploads with object-lock retention; "
                "minio-py sends no Content-MD5 on plain http PUTs"
            )
        raise
    headers = headers_of(s3_server, saved, bucket=locked_bucket)
    assert headers["x-amz-object-lock-mode"] == "GOVERNANCE"
    assert headers["x-amz-object-lock-retain-until-date"].startswith(until.strftime("%Y-%m-%dT%H:%M:%S"))


# -- read-only mode --------------------------------------------------------------------------------


def test_read_only_storage_reads_lists_and_serves_urls(minio_settings, storage, name):
    saved = storage.save(f"{name}/ro/file.txt", ContentFile(b"read me"))
    read_only = MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_READ_ONLY=True)
    assert read_only.exists(saved)
    assert read_only.size(saved) == 7
    assert read_only.open(saved).read() == b"read me"
    assert read_only.listdir(f"{name}/ro") == ([], ["file.txt"])
    assert http.request("GET", read_only.url(saved)).data == b"read me"
    with pytest.raises(ReadOnlyStorageError, match="'default' has MINIO_READ_ONLY"):
        read_only.save(f"{name}/ro/new.txt", ContentFile(b"no"))
    with pytest.raises(ReadOnlyStorageError, match="MINIO_READ_ONLY"):
        read_only.delete(saved)
    assert storage.exists(saved)
    assert not storage.exists(f"{name}/ro/new.txt")


# -- MINIO_LOCATION ------------------------------------------------------------------------------------


@pytest.fixture
def located(minio_settings, name):
    return MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_LOCATION=f"{name}/site")


def test_every_object_lives_under_the_location(located, storage, s3_server, name):
    saved = located.save("docs/a.txt", ContentFile(b"a"))
    assert saved == "docs/a.txt"
    keys = [
        o.object_name
        for o in s3_server.client().list_objects(bucket_name=PRIVATE, prefix=name, recursive=True)
    ]
    assert keys == [f"{name}/site/docs/a.txt"]
    assert storage.exists(f"{name}/site/docs/a.txt")


def test_listdir_exists_url_and_delete_respect_the_location(located, storage, name):
    located.save("docs/a.txt", ContentFile(b"a"))
    located.save("top.txt", ContentFile(b"t"))
    storage.save(f"{name}/site-sibling/x.txt", ContentFile(b"outside"))  # shares the prefix's text
    storage.save(f"{name}/outside.txt", ContentFile(b"outside"))

    assert located.listdir("") == (["docs"], ["top.txt"])
    assert located.listdir("docs") == ([], ["a.txt"])
    assert located.exists("docs/a.txt") and not located.exists("outside.txt")
    url = located.url("docs/a.txt")
    assert f"/{PRIVATE}/{name}/site/docs/a.txt?" in url
    assert http.request("GET", url).data == b"a"

    located.delete("docs/a.txt")
    assert not storage.exists(f"{name}/site/docs/a.txt")
    assert storage.exists(f"{name}/site-sibling/x.txt") and storage.exists(f"{name}/outside.txt")


@pytest.mark.s3_needs("bucket-policies")
def test_public_url_with_location(minio_settings, name):
    public = MinioBackend(bucket_name=PUBLIC, storage_name="default", MINIO_LOCATION=f"{name}/pub")
    saved = public.save("p.txt", ContentFile(b"public"))
    url = public.url(saved)
    assert url.endswith(f"/{PUBLIC}/{name}/pub/p.txt")
    assert http.request("GET", url).data == b"public"


@pytest.mark.parametrize("bad", ["../x.txt", "a/../../x.txt", "/etc/passwd", "\\x.txt", "..", "a\x00b"])
def test_no_name_escapes_the_location(located, bad):
    for call in (
        lambda: located.save(bad, ContentFile(b"x")),
        lambda: located.exists(bad),
        lambda: located.url(bad),
        lambda: located.delete(bad),
        lambda: located.listdir(bad),
        lambda: located.open(bad),
    ):
        with pytest.raises(SuspiciousFileOperation):
            call()
