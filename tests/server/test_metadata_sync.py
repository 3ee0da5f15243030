"""sync_minio_metadata: existing objects get today's header options by a server-side copy."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from django_minio_backend.models import MinioBackend

from tests.support import PRIVATE, headers_of

NEW_OPTIONS = {
    "MINIO_CACHE_CONTROL": "public, max-age=600",
    "MINIO_CONTENT_DISPOSITION": lambda name: f'inline; filename="{name.rsplit("/", 1)[-1]}"',
    "MINIO_CONTENT_LANGUAGE": "hu",
    "MINIO_METADATA": {"owner": "web"},
}


def sync(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("sync_minio_metadata", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def new_options(minio_settings, counter):
    """Objects saved with the old options; then the "default" alias gets NEW_OPTIONS."""
    options = minio_settings.STORAGES["default"]["OPTIONS"]
    options["MINIO_HTTP_CLIENT"] = counter
    yield options
    for key in NEW_OPTIONS:
        options.pop(key, None)


def test_stale_objects_are_copied_in_place_and_current_ones_are_not(s3_server, new_options, counter, name):
    old = MinioBackend(bucket_name=PRIVATE, storage_name="default", metadata={"keep": "me"})
    stale = [old.save(f"{name}/stale-{i}.pdf", ContentFile(f"body {i}".encode())) for i in range(5)]
    new_options.update(NEW_OPTIONS)
    current = MinioBackend(bucket_name=PRIVATE, storage_name="default")
    fresh = [current.save(f"{name}/fresh-{i}.txt", ContentFile(b"new")) for i in range(25)]
    counter.reset()

    out, err = sync("--alias", "default", "--bucket", PRIVATE, "--prefix", name)

    assert err == ""
    assert f"/{PRIVATE}/{name}/ (default): 30 object(s) listed, 25 up to date, 5 updated, 0 skipped" in out
    methods = Counter(counter.methods())
    # 1 LIST, a HEAD per object, and one copy (PUT with x-amz-copy-source) per stale object.
    assert methods == {"GET": 1, "HEAD": 30, "PUT": 5}, counter.requests
    for i, key in enumerate(stale):
        stored = headers_of(s3_server, key)
        assert stored["cache-control"] == "public, max-age=600"
        assert stored["content-disposition"] == f'inline; filename="stale-{i}.pdf"'
        assert stored["content-language"] == "hu"
        assert stored["content-type"] == "application/pdf"
        assert stored["x-amz-meta-owner"] == "web"
        assert stored["x-amz-meta-keep"] == "me"  # per-object metadata no option governs survives
        assert current.open(key).read() == f"body {i}".encode()
    assert headers_of(s3_server, fresh[0])["cache-control"] == "public, max-age=600"

    counter.reset()
    out, _ = sync("--alias", "default", "--bucket", PRIVATE, "--prefix", name)
    assert "30 object(s) listed, 30 up to date, 0 updated" in out
    assert Counter(counter.methods()) == {"GET": 1, "HEAD": 30}


def test_dry_run_lists_changes_and_copies_nothing(s3_server, new_options, counter, name):
    key = MinioBackend(bucket_name=PRIVATE, storage_name="default").save(f"{name}/a.txt", ContentFile(b"a"))
    new_options["MINIO_CACHE_CONTROL"] = "no-store"
    counter.reset()
    out, _ = sync("--dry-run", "--bucket", PRIVATE, "--prefix", name)
    assert f"would update {PRIVATE}/{key}: cache-control: None -> 'no-store'" in out
    assert "1 object(s) listed, 0 up to date, 1 would be updated" in out
    assert "PUT" not in counter.methods()
    assert "cache-control" not in headers_of(s3_server, key)


def test_unset_option_keeps_the_stored_header_and_carried_headers_survive(s3_server, new_options, name):
    storage = MinioBackend(
        bucket_name=PRIVATE,
        storage_name="default",
        headers={"Content-Encoding": "gzip", "Cache-Control": "max-age=5"},
    )
    key = storage.save(f"{name}/page.html", ContentFile(b"<p>"))
    new_options["MINIO_CONTENT_LANGUAGE"] = "en"
    out, _ = sync("--bucket", PRIVATE, "--prefix", name)
    assert "1 updated" in out
    stored = headers_of(s3_server, key)
    assert (stored["content-language"], stored["cache-control"]) == ("en", "max-age=5")
    assert stored["content-encoding"] == "gzip"
    assert stored["content-type"] == "text/html"


def test_aliases_sharing_a_bucket_with_different_options_must_be_chosen(minio_settings):
    minio_settings.STORAGES["other"] = {
        "BACKEND": "django_minio_backend.models.MinioBackend",
        "OPTIONS": {**minio_settings.STORAGES["default"]["OPTIONS"], "MINIO_CACHE_CONTROL": "no-cache"},
    }
    with pytest.raises(CommandError, match=r"belongs to aliases 'default' and 'other'.*--alias"):
        sync("--bucket", PRIVATE, "--dry-run")
    with pytest.raises(CommandError, match="no MinIO alias nope"):
        sync("--alias", "nope")
    minio_settings.STORAGES["documents"] = {
        "BACKEND": "django_minio_backend.models.MinioMultiBucketStorage",
        "OPTIONS": {"MINIO_URL_SCHEMES": {"minio": "default", "old": "other"}},
    }
    with pytest.raises(
        CommandError, match=r"'documents' is a MinioMultiBucketStorage: .* \(default, other\)"
    ):
        sync("--alias", "documents")
    with pytest.raises(CommandError, match="No chosen alias declares bucket not-a-bucket"):
        sync("--alias", "default", "--bucket", "not-a-bucket")


def test_non_ascii_values_are_encoded_as_uploads_encode_them(s3_server, new_options, counter, name):
    key = MinioBackend(bucket_name=PRIVATE, storage_name="default").save(
        f"{name}/cv.pdf", ContentFile(b"%PDF")
    )
    new_options["MINIO_CONTENT_DISPOSITION"] = 'attachment; filename="résumé.pdf"'
    new_options["MINIO_METADATA"] = {"owner": "José"}
    out, _ = sync("--bucket", PRIVATE, "--prefix", name)
    assert "1 updated" in out
    stat = MinioBackend(bucket_name=PRIVATE, storage_name="default").stat(key)
    assert stat.metadata["x-amz-meta-owner"] == "José"
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9.pdf" in stat.metadata["Content-Disposition"]
    counter.reset()
    out, _ = sync("--bucket", PRIVATE, "--prefix", name)  # the encoded values compare equal
    assert "1 up to date, 0 updated" in out and "PUT" not in counter.methods()


def test_a_claimed_name_is_left_alone(s3_server, new_options, name):
    from django_minio_backend.core.conditional import CLAIM_HEADER

    key = f"{name}/uploading.bin"
    s3_server.client().put_object(
        bucket_name=PRIVATE, object_name=key, data=io.BytesIO(b""), length=0, metadata={CLAIM_HEADER: "1"}
    )
    new_options["MINIO_CACHE_CONTROL"] = "no-store"
    out, _ = sync("--bucket", PRIVATE, "--prefix", name)
    assert "0 updated, 1 skipped" in out
    assert "cache-control" not in headers_of(s3_server, key)


@pytest.mark.s3_strict  # moto ignores the copy conditions
def test_the_copy_is_conditional_on_the_etag_that_was_read(s3_server, minio_settings, name):
    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default")
    key = storage.save(f"{name}/a.txt", ContentFile(b"a"))
    assert not storage.store.rewrite_headers(key, {"cache-control": "no-store"}, etag="0" * 32, size=1)
    assert "cache-control" not in headers_of(s3_server, key)
    etag = storage.stat(key).etag
    assert storage.store.rewrite_headers(key, {"cache-control": "no-store"}, etag=etag, size=1)
    assert headers_of(s3_server, key)["cache-control"] == "no-store"
    assert storage.open(key).read() == b"a"
