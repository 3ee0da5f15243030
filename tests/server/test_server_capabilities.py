"""What a server can do is learned once, explained, and never breaks a save (issue 19).

Each test starts with nothing learned (tests/conftest.py resets core/state.py), as a new process.
"""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from django_minio_backend.core import state
from django_minio_backend.core.conditional import claim
from django_minio_backend.errors import StorageServerError, UnsupportedByServerError
from django_minio_backend.models import MinioBackend, MinioMultiBucketStorage
from django_minio_backend.names import RESERVED_PREFIX
from django_minio_backend.testing import storages_for

from tests.support import MULTI, MULTIPART, PRIVATE, keys, put, stored


def test_bucket_check_on_save_creates_the_bucket_before_anything_else_is_asked(settings, s3_server, counter):
    bucket = f"cs-{uuid.uuid4().hex[:10]}"
    storages = storages_for(s3_server)
    options = storages["default"]["OPTIONS"]
    storages["default"] = {**storages["default"], "OPTIONS": {**options, "MINIO_PRIVATE_BUCKETS": [bucket]}}
    settings.STORAGES = storages
    storage = MinioBackend(
        bucket_name=bucket, storage_name="default", MINIO_BUCKET_CHECK_ON_SAVE=True, MINIO_HTTP_CLIENT=counter
    )
    saved = storage.save("first.txt", ContentFile(b"first"))
    assert stored(storage, saved) == b"first"
    methods = counter.methods()
    # the bucket check (HEAD, PUT bucket) comes first, then the conditional-write probe, then the save
    assert methods[:2] == ["HEAD", "PUT"], methods
    assert s3_server.client().bucket_exists(bucket_name=bucket)
    counter.reset()
    storage.save("second.txt", ContentFile(b"second"))
    # the bucket is checked once per process; the name costs HEAD only where PUTs are not conditional
    expected = ["PUT"] if storage.store.conditional_puts() else ["HEAD", "PUT"]
    assert counter.methods() == expected


def test_listdir_hides_the_packages_own_objects(storage, s3_server, name):
    storage.save(f"{name}/real.txt", ContentFile(b"real"))
    put(s3_server, PRIVATE, f"{name}/{RESERVED_PREFIX}probe-left-behind", b"")
    assert storage.listdir(name) == ([], ["real.txt"])
    assert len([key for key in keys(s3_server, PRIVATE) if key.startswith(name)]) == 2  # both stored


@pytest.mark.s3_needs("conditional-put")  # a claim is a conditional PUT
def test_listdir_hides_claims_and_the_packages_own_objects(storage, s3_server, name):
    storage.save(f"{name}/real.txt", ContentFile(b"real"))
    claim(storage.store.connection, PRIVATE, storage.store.key(f"{name}/in-flight.bin"))
    put(s3_server, PRIVATE, f"{name}/{RESERVED_PREFIX}probe-left-behind", b"")
    assert storage.listdir(name) == ([], ["real.txt"])
    assert not storage.exists(f"{name}/in-flight.bin")
    with pytest.raises(FileNotFoundError, match="claimed"):
        storage.open(f"{name}/in-flight.bin")
    assert len([key for key in keys(s3_server, PRIVATE) if key.startswith(name)]) == 3  # all stored


def test_reserved_names_are_refused_before_any_request(storage, counter):
    counted = MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_HTTP_CLIENT=counter)
    for call in (counted.exists, counted.delete, lambda n: counted.save(n, ContentFile(b"x"))):
        with pytest.raises(Exception, match="keeps for its own objects"):
            call(f"dir/{RESERVED_PREFIX}probe-x")
    assert counter.requests == []


def test_the_probe_leaves_no_object_the_storage_shows(storage, s3_server, name):
    before = set(keys(s3_server, PRIVATE))
    storage.save(f"{name}/a.txt", ContentFile(b"a"))  # the first new-name save learns (probe)
    added = set(keys(s3_server, PRIVATE)) - before
    assert added == {f"{name}/a.txt"}


def test_refused_credentials_name_the_file_and_the_servers_answer(settings, s3_server):
    settings.STORAGES = storages_for(s3_server)
    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_SECRET_KEY="wrong-secret")
    with pytest.raises(StorageServerError) as raised:
        storage.save("refused/report.pdf", ContentFile(b"x"))
    message = str(raised.value)
    assert "report.pdf" in message
    assert not message.rstrip().endswith(":"), message
    assert "probe" not in message.lower()


def test_the_router_passes_encoding_on_to_write_mode(minio_settings, name):
    minio_settings.STORAGES["files"] = {
        "BACKEND": MULTI,
        "OPTIONS": {"MINIO_URL_SCHEMES": {"minio": "default"}},
    }
    router = MinioMultiBucketStorage(storage_name="files")
    with router.open(f"minio://{PRIVATE}/{name}/latin.txt", "w", encoding="latin-1") as handle:
        handle.write("café")
    assert stored(
        MinioBackend(bucket_name=PRIVATE, storage_name="default"), f"{name}/latin.txt"
    ) == "café".encode("latin-1")


@pytest.mark.parametrize("prefix", ["../x", "/abs", "a/../../b"])
def test_sync_metadata_refuses_a_prefix_that_escapes_the_storage(minio_settings, prefix):
    with pytest.raises(CommandError, match="prefix"):
        call_command("sync_minio_metadata", "--prefix", prefix, stdout=io.StringIO())


def test_sync_metadata_counts_an_object_deleted_before_its_head_as_skipped(storage, minio_settings, name):
    from django_minio_backend.ops import metadata_sync

    (target,) = [t for t in metadata_sync.plan_targets(buckets=[PRIVATE]) if t.bucket == PRIVATE]
    outcome = metadata_sync._safe_sync_object(storage.store, target, f"{name}/gone.txt", None, False)
    assert outcome.result == "skipped"


@pytest.mark.s3_strict  # RGW 16 does not apply SSE-S3 without a Vault backend; moto does not say
def test_encryption_the_server_does_not_confirm_is_refused_and_nothing_is_stored(
    minio_settings, s3_server, name
):
    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_SERVER_SIDE_ENCRYPTION="SSE-S3")
    if storage.store.confirms_encryption({"x-amz-server-side-encryption": "AES256"}):
        pytest.skip(f"{s3_server.kind} confirms SSE-S3 writes")
    for size in (10, 6 * 1024 * 1024):
        with pytest.raises(UnsupportedByServerError, match="MINIO_SERVER_SIDE_ENCRYPTION"):
            storage.save(f"{name}/plain-{size}.bin", ContentFile(b"x" * size))
    assert [key for key in keys(s3_server, PRIVATE) if key.startswith(name)] == []


def test_stated_capabilities_skip_learning(minio_settings, s3_server, counter, name):
    conditional = s3_server.supports("conditional-put")
    storage = MinioBackend(
        bucket_name=PRIVATE,
        storage_name="default",
        MINIO_HTTP_CLIENT=counter,
        MINIO_SERVER_CAPABILITIES={"if-none-match-put": conditional, "presigned-post": False},
    )
    saved = storage.save(f"{name}/a.txt", ContentFile(b"a"))
    assert not [path for _, path in counter.requests if RESERVED_PREFIX in path]  # no probe
    assert counter.requests[-1] == ("PUT", f"/{PRIVATE}/{saved}")
    if conditional:
        assert counter.methods() == ["PUT"]
    with pytest.raises(UnsupportedByServerError, match="presigned_put_url"):
        storage.presigned_post(f"{name}/b.txt", max_size=10)


def test_the_capability_report_learns_once(minio_settings, s3_server, counter):
    minio_settings.STORAGES["default"]["OPTIONS"]["MINIO_HTTP_CLIENT"] = counter
    out = io.StringIO()
    call_command("is_minio_available", "--capabilities", stdout=out)
    report = out.getvalue()

    def answer(capability):
        return "yes" if s3_server.supports(capability) else "no"

    assert f"conditional PUT (If-None-Match: race-free new names): {answer('conditional-put')}" in report
    assert f"bucket policies (public buckets): {answer('bucket-policies')}" in report
    assert f"object tagging: {answer('tagging')}" in report
    assert f"presigned POST (browser form uploads): {answer('presigned-post')}" in report
    first = len(counter.requests)
    counter.reset()
    call_command("is_minio_available", "--capabilities", stdout=io.StringIO())
    assert len(counter.requests) < first  # probes are not repeated: only the plain reads again
    endpoint = MinioBackend(storage_name="default").store.endpoint
    assert state.STATE.capability(endpoint, "if-none-match-put") is s3_server.supports("conditional-put")


def test_a_multipart_new_name_save_still_never_overwrites(minio_settings, name):
    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default", **MULTIPART)
    first = storage.save(f"{name}/big.bin", ContentFile(b"a" * (6 * 1024 * 1024)))
    second = storage.save(f"{name}/big.bin", ContentFile(b"b" * (6 * 1024 * 1024)))
    assert first != second
    assert stored(storage, first)[:1] == b"a" and stored(storage, second)[:1] == b"b"
    assert storage.listdir(name)[1] == sorted(n.rsplit("/", 1)[1] for n in (first, second))


@pytest.mark.django_db
def test_the_orphan_cleaner_does_not_see_the_packages_own_objects(minio_settings, s3_server, name):
    put(s3_server, PRIVATE, f"{RESERVED_PREFIX}probe-{name}", b"")
    out = io.StringIO()
    call_command("clean_orphaned_minio_files", "--dry-run", "--min-age", "0", "--bucket", PRIVATE, stdout=out)
    assert f"{RESERVED_PREFIX}probe-{name}" not in out.getvalue()
    assert f"{RESERVED_PREFIX}probe-{name}" in keys(s3_server, PRIVATE)


def test_check_deploy_names_each_missing_capability_the_settings_need(minio_settings, s3_server):
    from django.core import checks
    from minio.commonconfig import Tags

    tags = Tags.new_object_tags()
    tags["team"] = "media"
    minio_settings.STORAGES["default"]["OPTIONS"]["tags"] = tags  # tests/settings.py declares a public bucket
    ids = {message.id for message in checks.run_checks(include_deployment_checks=True)}
    lacking = {
        "minio_backend.W040": not s3_server.supports("conditional-put"),
        "minio_backend.E040": not s3_server.supports("bucket-policies"),
        "minio_backend.W041": not s3_server.supports("presigned-post"),
        "minio_backend.E042": not s3_server.supports("tagging"),
    }
    assert {check for check, missing in lacking.items() if missing} == ids & set(lacking)
    assert "minio_backend.W042" not in ids  # every capability was learned
