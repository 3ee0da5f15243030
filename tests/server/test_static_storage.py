"""The static storages' uploads: gzip for text files, MD5 metadata, and times under both USE_TZ."""

import gzip
import hashlib
from contextlib import nullcontext

import pytest
import urllib3
from django.core.files.base import ContentFile
from django.utils import timezone

from django_minio_backend.errors import ConfigurationError
from django_minio_backend.models import MinioBackend, MinioBackendStatic, MinioManifestStaticStorage

from tests.support import PUBLIC

CSS = b"body { color: #123456; margin: 0 auto; padding: 1em; }\n" * 40
anonymous = urllib3.PoolManager()


@pytest.fixture
def static_storage(minio_settings, static_bucket):
    def build(cls=MinioBackendStatic, **options):
        return cls(storage_name="staticfiles", MINIO_STATIC_FILES_BUCKET=static_bucket, **options)

    return build


def raw_object(s3_server, bucket, name):
    """(raw stored bytes, stat) of an object, without decoding."""
    client = s3_server.client()
    response = client.get_object(bucket_name=bucket, object_name=name)
    try:
        return response.read(decode_content=False), client.stat_object(bucket_name=bucket, object_name=name)
    finally:
        response.close()
        response.release_conn()


# -- gzip ---------------------------------------------------------------------------------------


def test_static_text_files_are_stored_gzipped_and_read_back_as_saved(
    static_storage, s3_server, static_bucket
):
    storage = static_storage()
    storage.save("css/site.css", ContentFile(CSS))
    raw, stat = raw_object(s3_server, static_bucket, "css/site.css")
    assert stat.metadata["Content-Encoding"] == "gzip"
    assert stat.content_type == "text/css"
    assert gzip.decompress(raw) == CSS and len(raw) < len(CSS) / 10
    assert stat.metadata["x-amz-meta-md5"] == hashlib.md5(CSS).hexdigest()
    # A browser (or any HTTP client that decodes) gets the original bytes.
    response = anonymous.request("GET", storage.url("css/site.css"))
    assert response.status == 200 and response.data == CSS
    # open() returns the bytes that were saved; the file's size is theirs, size() the stored one.
    with storage.open("css/site.css") as handle:
        assert handle.read() == CSS
        assert handle.size == len(CSS)
    with storage.open("css/site.css", "r") as handle:
        assert handle.read() == CSS.decode()
    assert storage.size("css/site.css") == len(raw)


def test_seeking_in_a_gzipped_file_works_both_ways(static_storage):
    storage = static_storage()
    storage.save("app.js", ContentFile(CSS))
    with storage.open("app.js") as handle:
        handle.seek(100)
        assert handle.read(10) == CSS[100:110]
        handle.seek(5)
        assert handle.read(5) == CSS[5:10]


@pytest.mark.parametrize(
    ("name", "data", "options"),
    [
        ("img/logo.png", CSS, {}),  # not a text type
        ("tiny.css", b"a{}", {}),  # gzip would be larger
        ("css/site.css", CSS, {"MINIO_GZIP": False}),
        ("css/site.css", CSS, {"MINIO_GZIP_EXTENSIONS": [".txt"]}),
    ],
)
def test_what_is_not_gzipped(static_storage, s3_server, static_bucket, name, data, options):
    static_storage(**options).save(name, ContentFile(data))
    raw, stat = raw_object(s3_server, static_bucket, name)
    assert raw == data
    assert "Content-Encoding" not in stat.metadata
    assert stat.metadata["x-amz-meta-md5"] == hashlib.md5(data).hexdigest()


def test_the_extensions_are_configurable(static_storage, s3_server, static_bucket):
    static_storage(MINIO_GZIP_EXTENSIONS=[".TXT"]).save("notes.txt", ContentFile(CSS))
    raw, stat = raw_object(s3_server, static_bucket, "notes.txt")
    assert stat.metadata["Content-Encoding"] == "gzip" and gzip.decompress(raw) == CSS


def test_media_is_not_gzipped_unless_asked(minio_settings, s3_server, name):
    plain = MinioBackend(bucket_name=PUBLIC, storage_name="default")
    saved = plain.save(f"{name}/a.css", ContentFile(CSS))
    raw, stat = raw_object(s3_server, PUBLIC, saved)
    assert raw == CSS and "Content-Encoding" not in stat.metadata
    asked = MinioBackend(bucket_name=PUBLIC, storage_name="default", MINIO_GZIP=True)
    saved = asked.save(f"{name}/b.css", ContentFile(CSS))
    raw, stat = raw_object(s3_server, PUBLIC, saved)
    assert stat.metadata["Content-Encoding"] == "gzip" and gzip.decompress(raw) == CSS
    with asked.open(saved) as handle:
        assert handle.read() == CSS


@pytest.mark.parametrize(
    ("key", "value"),
    [("MINIO_GZIP", "yes"), ("MINIO_GZIP_EXTENSIONS", ".css"), ("MINIO_GZIP_EXTENSIONS", ["css"])],
)
def test_bad_gzip_options_name_the_key(minio_settings, key, value):
    with pytest.raises(ConfigurationError, match=key):
        MinioBackendStatic(**{key: value})


def test_manifest_hashes_the_uncompressed_bytes(
    static_storage, s3_server, static_bucket, minio_settings, tmp_path
):
    from django.core.management import call_command

    source = tmp_path / "src"
    (source / "css").mkdir(parents=True)
    (source / "css" / "site.css").write_bytes(CSS)
    minio_settings.STATICFILES_DIRS = [str(source)]
    minio_settings.STORAGES = {
        **minio_settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django_minio_backend.models.MinioManifestStaticStorage",
            "OPTIONS": {
                **minio_settings.STORAGES["staticfiles"]["OPTIONS"],
                "MINIO_STATIC_FILES_BUCKET": static_bucket,
            },
        },
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    hashed = f"css/site.{hashlib.md5(CSS).hexdigest()[:12]}.css"
    raw, stat = raw_object(s3_server, static_bucket, hashed)
    assert stat.metadata["Content-Encoding"] == "gzip" and gzip.decompress(raw) == CSS
    fresh = static_storage(MinioManifestStaticStorage)  # reads the (gzipped) manifest back
    assert fresh.stored_name("css/site.css") == hashed


# -- USE_TZ: every static storage method, in and out of the collectstatic context ----------------


@pytest.mark.parametrize("use_tz", [True, False])
@pytest.mark.parametrize("in_context", [False, True])
@pytest.mark.parametrize("cls", [MinioBackendStatic, MinioManifestStaticStorage])
def test_every_method_under_use_tz(static_storage, minio_settings, use_tz, in_context, cls):
    minio_settings.USE_TZ = use_tz
    storage = static_storage(cls)
    storage.save("old.txt", ContentFile(b"stored before"))
    with storage.collecting() if in_context else nullcontext():
        saved = storage.save("dir/new.txt", ContentFile(b"new content"))
        assert saved == "dir/new.txt"
        for name in ("old.txt", "dir/new.txt"):  # from the listing, and from our own save
            moment = storage.get_modified_time(name)
            assert timezone.is_aware(moment) is use_tz
            now = timezone.now()
            assert abs((now - moment).total_seconds()) < 120
        assert storage.exists("dir/new.txt")
        assert storage.exists("dir") is in_context  # outside: a HEAD of the key, as for media
        assert not storage.exists("missing.txt")
        assert storage.size("old.txt") == len(b"stored before")
        assert storage.listdir("") == (["dir"], ["old.txt"])
        with storage.open("dir/new.txt") as handle:
            assert handle.read() == b"new content"
        if cls is MinioBackendStatic:  # the manifest storage has no entry for a name it did not hash
            assert storage.url("dir/new.txt").endswith("/dir/new.txt")
        storage.delete("old.txt")
        assert not storage.exists("old.txt")
        with pytest.raises(FileNotFoundError):
            storage.get_modified_time("old.txt")
    assert not storage.exists("old.txt")
    assert storage.exists("dir/new.txt")
