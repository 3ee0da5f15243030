"""The 4.x and 3.x drop-in promises that need no server: import paths, helpers, alias rules."""

from __future__ import annotations

import importlib
import inspect
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import AppConfig
from django.core.files.storage import storages
from django.db.migrations.writer import MigrationWriter

from django_minio_backend.conf.options import parse_options
from django_minio_backend.models import MinioBackend, MinioBackendStatic, iso_date_prefix

from tests.support import MEDIA, STATIC_MEDIA, two_alias_settings

# -- 1. the 4.x import paths ------------------------------------------------------------------

FOURX_NAMES = {
    "django_minio_backend": [
        "MinioBackend",
        "MinioBackendStatic",
        "iso_date_prefix",
        "get_iso_date",
        "DjangoMinioBackendConfig",
    ],
    "django_minio_backend.models": ["MinioBackend", "MinioBackendStatic", "iso_date_prefix", "get_iso_date"],
    "django_minio_backend.utils": [
        "MinioServerStatus",
        "ConfigurationError",
        "PrivatePublicMixedError",
        "get_setting",
        "get_storages_setting",
        "iso_date_prefix",
        "get_iso_date",
    ],
    "django_minio_backend.apps": ["DjangoMinioBackendConfig"],
}


@pytest.mark.parametrize("module", sorted(FOURX_NAMES))
def test_every_4x_name_imports_from_its_4x_path(module):
    imported = importlib.import_module(module)
    missing = [name for name in FOURX_NAMES[module] if not hasattr(imported, name)]
    assert missing == []


def test_the_date_helpers_are_one_function_wherever_imported():
    import django_minio_backend
    from django_minio_backend import models, utils

    assert utils.iso_date_prefix is models.iso_date_prefix is django_minio_backend.iso_date_prefix
    assert utils.get_iso_date is models.get_iso_date is django_minio_backend.get_iso_date
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert models.get_iso_date() == today
    assert iso_date_prefix(None, "scan.pdf") == f"{today}/scan.pdf"


def test_migrations_reference_iso_date_prefix_where_4x_did():
    source, imports = MigrationWriter.serialize(iso_date_prefix)
    assert source == "django_minio_backend.models.iso_date_prefix"
    assert imports == {"import django_minio_backend.models"}


def test_the_4x_helper_signatures(settings):
    from django_minio_backend import utils

    assert list(inspect.signature(utils.get_setting).parameters) == ["name", "default"]
    assert list(inspect.signature(utils.get_storages_setting).parameters) == ["name", "storage", "default"]
    settings.MINIO_SOMETHING = 3
    assert utils.get_setting("MINIO_SOMETHING") == 3 and utils.get_setting("MINIO_NOPE", 7) == 7
    assert utils.get_storages_setting("MINIO_DEFAULT_BUCKET") == "test-private"
    assert utils.get_storages_setting("MINIO_REGION", "staticfiles", "x") == "x"


def test_the_3x_app_label_alone_installs_the_app_config():
    from django_minio_backend.apps import DjangoMinioBackendConfig

    assert type(AppConfig.create("django_minio_backend")) is DjangoMinioBackendConfig


# -- 3. keyword overrides merge -----------------------------------------------------------------


def test_keyword_override_without_storage_name_keeps_the_default_alias(settings):
    two_alias_settings(settings)
    storage = MinioBackend(bucket_name="shared-public", MINIO_URL_EXPIRY_HOURS=timedelta(hours=1))
    assert storage.storage_name == "default"
    assert storage.options.url_expiry == timedelta(hours=1)
    default = parse_options(settings.STORAGES["default"]["OPTIONS"])
    assert storage.options == parse_options(
        {**settings.STORAGES["default"]["OPTIONS"], "MINIO_URL_EXPIRY_HOURS": timedelta(hours=1)}
    )
    assert (storage.options.endpoint, storage.options.region) == (default.endpoint, "eu-west-1")
    assert storage.is_bucket_public  # the alias's MINIO_PUBLIC_BUCKETS still apply


def test_keyword_override_of_the_static_storage_keeps_the_staticfiles_alias(settings):
    two_alias_settings(settings)
    static = MinioBackendStatic(MINIO_URL_EXPIRY_HOURS=timedelta(hours=2))
    assert (static.storage_name, static.bucket) == ("staticfiles", "site-static")
    assert static.options.url_expiry == timedelta(hours=2)


def test_equal_options_the_class_own_alias_wins(settings):
    shared = {"MINIO_ENDPOINT": "h:9000", "MINIO_ACCESS_KEY": "a", "MINIO_SECRET_KEY": "s"}
    settings.STORAGES = {
        "default": {"BACKEND": MEDIA, "OPTIONS": dict(shared)},
        "staticfiles": {"BACKEND": STATIC_MEDIA, "OPTIONS": dict(shared)},
    }
    assert storages["staticfiles"].storage_name == "staticfiles"
    assert storages["default"].storage_name == "default"
    # Called by hand with exactly an alias's OPTIONS, a storage cannot tell it apart from Django's call.
    assert MinioBackend(**shared).storage_name == "default"
