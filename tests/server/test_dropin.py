"""Drop-in for the published lines on the server: keyword overrides, 3.x top-level settings, and
the settings blocks of the 4.x and 3.x READMEs (tests/data, copied from the seeds) as data.

The 4.x import paths and alias rules are in tests/unit/test_dropin.py; whole projects in
subprocesses in tests/system/test_dropin_projects.py.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import django
import pytest
import urllib3
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import models
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.state import ProjectState
from django.db.migrations.writer import MigrationWriter
from django.test import override_settings

from django_minio_backend import checks
from django_minio_backend.conf.aliases import storage_aliases
from django_minio_backend.conf.buckets import plan_buckets
from django_minio_backend.conf.options import parse_options
from django_minio_backend.conf.sources import top_level_settings
from django_minio_backend.errors import ConfigurationError
from django_minio_backend.models import MinioBackend, iso_date_prefix
from django_minio_backend.testing import create_declared_buckets, storages_for

from tests.support import PRIVATE, PUBLIC, ROOT, STATIC

DATA = ROOT / "tests" / "data"
BACKEND = "django_minio_backend.models.MinioBackend"
STATIC_BACKEND = "django_minio_backend.models.MinioBackendStatic"
BARE_STORAGES = {"default": {"BACKEND": BACKEND}, "staticfiles": {"BACKEND": STATIC_BACKEND}}
anonymous = urllib3.PoolManager(timeout=urllib3.Timeout(connect=5, read=10), retries=False)


def fetch(url: str) -> bytes:
    response = anonymous.request("GET", url)
    assert response.status == 200, (url, response.status, response.data[:300])
    return response.data


def save_and_fetch(storage: MinioBackend, data: bytes = b"drop-in") -> str:
    name = storage.save(f"dropin/{uuid.uuid4().hex[:12]}.txt", ContentFile(data))
    try:
        assert storage.size(name) == len(data)
        assert fetch(storage.url(name)) == data
    finally:
        storage.delete(name)
    return name


# -- 3. keyword overrides merge -----------------------------------------------------------------


def test_keyword_override_saves_and_its_url_works(minio_settings):
    storage = MinioBackend(bucket_name=PRIVATE, MINIO_URL_EXPIRY_HOURS=timedelta(hours=1))
    assert storage.storage_name == "default"
    name = storage.save(f"dropin/{uuid.uuid4().hex[:12]}.txt", ContentFile(b"override"))
    try:
        url = storage.url(name)
        assert "X-Amz-Expires=3600" in url
        assert fetch(url) == b"override"
    finally:
        storage.delete(name)


# -- 4. the 3.x top-level settings ----------------------------------------------------------------


def set_top_level(settings, server, **extra):
    """3.x settings: top-level MINIO_* on the test server, and the given STORAGES (or none)."""
    values = {
        "MINIO_ENDPOINT": server.endpoint,
        "MINIO_ACCESS_KEY": server.access_key,
        "MINIO_SECRET_KEY": server.secret_key,
        "MINIO_USE_HTTPS": server.use_https,
        "MINIO_REGION": server.region,
        "MINIO_PRIVATE_BUCKETS": [PRIVATE],
        "MINIO_PUBLIC_BUCKETS": [PUBLIC, STATIC],  # as the 3.x README said: list the static bucket
        "MINIO_MEDIA_FILES_BUCKET": PRIVATE,
        "MINIO_STATIC_FILES_BUCKET": STATIC,
        "MINIO_URL_EXPIRY_HOURS": timedelta(days=1),
        **extra,
    }
    for key, value in values.items():
        setattr(settings, key, value)
    return values


@pytest.fixture
def three_x(settings, s3_server, s3_buckets):
    settings.STORAGES = BARE_STORAGES
    set_top_level(settings, s3_server)
    return settings


@pytest.mark.s3_needs("bucket-policies")
def test_bare_storages_entries_read_the_top_level_settings(three_x):
    default, static = storages["default"], storages["staticfiles"]
    assert (default.storage_name, default.bucket, default.is_bucket_public) == ("default", PRIVATE, False)
    assert default.options.url_expiry == timedelta(days=1)
    assert (static.storage_name, static.bucket, static.is_bucket_public) == ("staticfiles", STATIC, True)
    assert default.PUBLIC_BUCKETS == [PUBLIC]  # the static bucket belongs to the static storage
    save_and_fetch(default)
    save_and_fetch(MinioBackend(bucket_name=PUBLIC))  # the 3.x field style: an instance
    save_and_fetch(static)


def test_storages_with_options_ignore_the_top_level_settings(minio_settings, s3_server):
    set_top_level(minio_settings, s3_server, MINIO_ENDPOINT="elsewhere.invalid:9000")
    assert storages["default"].options.endpoint == s3_server.endpoint
    assert "minio_backend.W005" not in {message.id for message in checks.run_all()}


def test_3x_settings_give_no_check_problem_but_the_3x_warning(three_x):
    three_x.MINIO_PRIVATE_BUCKETS = [PRIVATE, STATIC]  # 3.x allowed a private static bucket
    messages = checks.run_all()
    assert [message.id for message in messages] == ["minio_backend.W005"], messages
    specs = {spec.bucket: spec.public for spec in plan_buckets()}
    assert specs == {PRIVATE: False, PUBLIC: True, STATIC: True}


def test_media_files_bucket_and_default_bucket_must_agree(settings, s3_server):
    settings.STORAGES = BARE_STORAGES
    set_top_level(settings, s3_server, MINIO_DEFAULT_BUCKET="other-bucket")
    with pytest.raises(ConfigurationError, match="MINIO_MEDIA_FILES_BUCKET.*MINIO_DEFAULT_BUCKET"):
        MinioBackend()
    assert [message.id for message in checks.run_all()] == ["minio_backend.E005"]


def test_a_top_level_setting_of_none_takes_the_default(three_x):
    three_x.MINIO_REGION = None  # 3.x's documented default
    three_x.MINIO_EXTERNAL_ENDPOINT = None
    storage = MinioBackend()
    assert storage.options.region == "us-east-1"
    assert storage.options.external_endpoint == storage.options.endpoint


def test_the_3x_warning_prints_a_storages_block_that_means_the_same(three_x, monkeypatch):
    three_x.MINIO_HTTP_CLIENT = pool = urllib3.PoolManager()
    (warning,) = checks.run_all()
    assert warning.id == "minio_backend.W005"
    assert "STORAGES['default'] and STORAGES['staticfiles'] have no OPTIONS" in warning.msg
    text = warning.msg + warning.hint
    assert 'os.environ["MINIO_SECRET_KEY"]' in text and 'os.environ["MINIO_ACCESS_KEY"]' in text
    assert three_x.MINIO_SECRET_KEY not in text and three_x.MINIO_ACCESS_KEY not in text
    block = warning.hint.split("\n\n", 1)[1]
    monkeypatch.setenv("MINIO_ACCESS_KEY", three_x.MINIO_ACCESS_KEY)
    monkeypatch.setenv("MINIO_SECRET_KEY", three_x.MINIO_SECRET_KEY)
    pasted = {"MINIO_HTTP_CLIENT": pool}  # the block names this setting: its value is no literal
    exec(block, pasted)
    assert pasted["STORAGES"] == {
        "default": {"BACKEND": BACKEND, "OPTIONS": pasted["MINIO"]},
        "staticfiles": {"BACKEND": STATIC_BACKEND, "OPTIONS": pasted["MINIO"]},
    }
    assert parse_options(pasted["MINIO"]) == storages["default"].options
    assert pasted["MINIO"]["MINIO_HTTP_CLIENT"] is pool
    with override_settings(STORAGES=pasted["STORAGES"]):
        assert checks.run_all() == []  # the top-level settings are still there, but nothing reads them


def test_3x_fields_with_instances_and_no_minio_alias(settings, s3_server, s3_buckets):
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    set_top_level(settings, s3_server)
    save_and_fetch(MinioBackend(bucket_name=PRIVATE))
    (entry,) = storage_aliases()
    assert (entry.name, entry.backend, entry.top_level) == (
        "default",
        "django_minio_backend.models.MinioBackend",
        True,
    )
    assert {spec.bucket for spec in plan_buckets()} == {PRIVATE, PUBLIC}  # initialize_buckets' plan
    (warning,) = checks.run_all()
    assert 'pass it storage_name="minio"' in warning.msg
    assert f'"minio": {{"BACKEND": "{BACKEND}", "OPTIONS": dict(MINIO)}}' in warning.hint
    assert '"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}' in warning.hint


@pytest.mark.skipif(django.VERSION < (5, 1), reason="Django 4.2 and 5.0 still honour DEFAULT_FILE_STORAGE")
def test_default_file_storage_that_django_ignores_is_reported(settings, s3_server):
    settings.STORAGES = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    settings.DEFAULT_FILE_STORAGE = BACKEND
    set_top_level(settings, s3_server)
    (warning,) = [m for m in checks.run_all() if m.id == "minio_backend.W005"]
    assert f"ignores DEFAULT_FILE_STORAGE = '{BACKEND}'" in warning.msg
    assert f'"default": {{"BACKEND": "{BACKEND}", "OPTIONS": dict(MINIO)}}' in warning.hint
    assert "DEFAULT_FILE_STORAGE" in warning.hint.split(":", 1)[0]


def test_a_4x_configuration_gets_no_3x_warning(minio_settings):
    assert "minio_backend.W005" not in {message.id for message in checks.run_all()}


def test_instance_fields_deconstruct_to_loadable_migrations(three_x):
    field = models.FileField(storage=MinioBackend(bucket_name=PUBLIC), upload_to=iso_date_prefix)
    source, imports = MigrationWriter.serialize(field)
    assert "storage=django_minio_backend.models.MinioBackend(" in source
    assert "upload_to=django_minio_backend.models.iso_date_prefix" in source
    assert three_x.MINIO_SECRET_KEY not in source and three_x.MINIO_ENDPOINT not in source
    namespace: dict = {}
    exec("\n".join(sorted(imports)), namespace)
    loaded = eval(source, namespace)
    assert loaded.storage.bucket == PUBLIC and loaded.storage.is_bucket_public
    assert loaded.storage.options == field.storage.options
    autodetector = MigrationAutodetector(ProjectState(), ProjectState())  # what makemigrations compares
    assert autodetector.deep_deconstruct(loaded) == autodetector.deep_deconstruct(field)


@pytest.mark.s3_needs("conditional-put")
def test_requests_per_save_and_url_are_the_same_as_with_storages_options(three_x, s3_server, counter):
    """The 3.x path costs what the STORAGES path costs: it is only another source of options."""

    def costs(storage: MinioBackend) -> dict[str, list[str]]:
        result = {}
        counter.reset()
        name = storage.save(f"dropin/{uuid.uuid4().hex[:12]}.txt", ContentFile(b"count me"))
        result["save"] = counter.methods()
        counter.reset()
        storage.url(name)
        result["url"] = counter.methods()
        counter.reset()
        storage.size(name)
        result["size"] = counter.methods()
        storage.delete(name)
        return result

    three_x.MINIO_HTTP_CLIENT = counter
    three_x.MINIO_CONDITIONAL_WRITES = True  # stated, so the counts are the save's own
    top_level = costs(MinioBackend(bucket_name=PRIVATE))
    three_x.STORAGES = {"default": {"BACKEND": BACKEND, "OPTIONS": dict(top_level_settings())}}
    assert MinioBackend().options.endpoint == s3_server.endpoint
    options_path = costs(MinioBackend(bucket_name=PRIVATE))
    assert top_level == options_path == {"save": ["PUT"], "url": [], "size": ["HEAD"]}


# -- 5. the READMEs' settings blocks, as data ------------------------------------------------------


def run_settings_block(filename: str) -> dict:
    namespace: dict = {}
    exec(compile((DATA / filename).read_text(), filename, "exec"), namespace)
    return namespace


@pytest.mark.s3_needs("bucket-policies")
def test_the_4x_readme_storages_block_works(settings, s3_server):
    published = run_settings_block("seed_002_4x_settings.py")["STORAGES"]
    settings.STORAGES = storages_for(s3_server, published)  # the hosts and keys: the test server's
    create_declared_buckets()
    default, static = storages["default"], storages["staticfiles"]
    assert (default.bucket, default.options.url_caching_enabled) == ("my-media-files-bucket", True)
    assert default.options.http_client is published["default"]["OPTIONS"]["MINIO_HTTP_CLIENT"]
    assert (static.storage_name, static.bucket) == ("staticfiles", "my-static-files-bucket")
    # The README's storages.py: callables that build a storage of the "default" alias.
    public = MinioBackend(bucket_name="django-backend-dev-public", storage_name="default")
    private = MinioBackend(bucket_name="django-backend-dev-private", storage_name="default")
    for storage in (default, static, public, private):
        save_and_fetch(storage)
    assert public.is_bucket_public and not private.is_bucket_public


@pytest.mark.s3_needs("bucket-policies")
def test_the_3x_readme_settings_block_works(settings, s3_server):
    published = run_settings_block("seed_001_3x_settings.py")
    for key, value in published.items():
        if key.startswith("MINIO_"):
            setattr(settings, key, value)
    set_top_level(  # only where the server is and how to sign for it
        settings,
        s3_server,
        MINIO_PRIVATE_BUCKETS=published["MINIO_PRIVATE_BUCKETS"],
        MINIO_PUBLIC_BUCKETS=published["MINIO_PUBLIC_BUCKETS"],
        MINIO_MEDIA_FILES_BUCKET=None,
        MINIO_STATIC_FILES_BUCKET=None,
    )
    settings.STORAGES = BARE_STORAGES
    create_declared_buckets()
    # Step 4 of that README: storage=MinioBackend(bucket_name='django-backend-dev-private')
    private = MinioBackend(bucket_name="django-backend-dev-private")
    assert private.options.url_expiry == timedelta(days=1) and private.options.consistency_check_on_start
    public = MinioBackend(bucket_name="django-backend-dev-public")
    assert public.is_bucket_public and not private.is_bucket_public
    for storage in (private, public, storages["staticfiles"]):
        save_and_fetch(storage)
    assert storages["default"].bucket == "auto-generated-bucket-media-files"
