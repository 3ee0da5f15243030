"""Options are parsed once, validated with errors that name the key, and never leak between aliases."""

import copy
from datetime import timedelta

import pytest
from django.core.files.storage import storages

from django_minio_backend.conf.options import OPTION_TABLE, StorageOptions, parse_options
from django_minio_backend.conf.sources import with_top_level_fallbacks
from django_minio_backend.errors import ConfigurationError, PrivatePublicMixedError
from django_minio_backend.models import MinioBackend, MinioBackendStatic

from tests.support import BASE, two_alias_settings


def test_defaults_match_the_4x_documentation():
    options = parse_options(BASE)
    assert options.external_endpoint == "s3.local:9000"
    assert options.external_use_https is False
    assert options.region == "us-east-1"
    assert options.url_expiry == timedelta(days=7)
    assert options.default_bucket == "auto-generated-bucket-media-files"
    assert options.static_bucket == "auto-generated-bucket-static-files"
    assert options.multipart_threshold == options.multipart_part_size == 10 * 1024 * 1024
    assert options.url_cache_prefix == "minio_url_"
    assert options.effective_url_cache_timeout == int(7 * 24 * 3600 * 0.8)
    assert options.consistency_check_on_start is False
    assert options.bucket_check_on_save is False


def test_external_https_follows_use_https_unless_set():
    assert parse_options({**BASE, "MINIO_USE_HTTPS": True}).external_use_https is True
    options = parse_options({**BASE, "MINIO_USE_HTTPS": True, "MINIO_EXTERNAL_ENDPOINT_USE_HTTPS": False})
    assert options.external_use_https is False


def test_every_table_entry_is_a_field_of_the_options_object():
    fields = set(StorageOptions.__dataclass_fields__)
    assert {option.attr for option in OPTION_TABLE} == fields


def test_options_are_immutable():
    options = parse_options(BASE)
    with pytest.raises(AttributeError):
        options.endpoint = "elsewhere"


def test_misspelled_key_names_the_closest_valid_key():
    with pytest.raises(
        ConfigurationError, match="MINIO_URL_EXPIRY_HOUR.*Did you mean MINIO_URL_EXPIRY_HOURS"
    ):
        parse_options({**BASE, "MINIO_URL_EXPIRY_HOUR": timedelta(hours=1)})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("MINIO_URL_EXPIRY_HOURS", 24, "MINIO_URL_EXPIRY_HOURS: expected a datetime.timedelta"),
        ("MINIO_URL_EXPIRY_HOURS", timedelta(days=8), "MINIO_URL_EXPIRY_HOURS: .*at most 7 days"),
        ("MINIO_URL_EXPIRY_HOURS", timedelta(0), "MINIO_URL_EXPIRY_HOURS"),
        ("MINIO_MULTIPART_PART_SIZE", 1024 * 1024, "MINIO_MULTIPART_PART_SIZE: .*outside"),
        ("MINIO_USE_HTTPS", "yes", "MINIO_USE_HTTPS: expected True or False"),
        ("MINIO_PUBLIC_BUCKETS", "one-bucket", "MINIO_PUBLIC_BUCKETS: expected a list"),
        ("MINIO_PRIVATE_BUCKETS", ["Bad_Name"], "MINIO_PRIVATE_BUCKETS: 'Bad_Name' is not a valid"),
        ("MINIO_ENDPOINT", "http://s3.local", "MINIO_ENDPOINT: .*scheme.*MINIO_USE_HTTPS"),
        ("MINIO_POLICY_HOOKS", [("bucket-a", "not a dict")], "MINIO_POLICY_HOOKS"),
        ("MINIO_HTTP_CLIENT", object(), "MINIO_HTTP_CLIENT: expected a urllib3.PoolManager"),
    ],
)
def test_wrong_type_or_value_names_the_key(key, value, message):
    with pytest.raises(ConfigurationError, match=message):
        parse_options({**BASE, key: value})


def test_bucket_in_both_lists_raises_private_public_mixed_error():
    with pytest.raises(PrivatePublicMixedError, match="both-ways"):
        parse_options({**BASE, "MINIO_PRIVATE_BUCKETS": ["both-ways"], "MINIO_PUBLIC_BUCKETS": ["both-ways"]})


def test_cache_keys_fall_back_to_top_level_settings(settings):
    settings.MINIO_URL_CACHING_ENABLED = True
    settings.MINIO_URL_CACHE_PREFIX = "legacy_"
    options = parse_options(with_top_level_fallbacks(BASE))
    assert options.url_caching_enabled is True
    assert options.url_cache_prefix == "legacy_"
    assert (
        parse_options(with_top_level_fallbacks({**BASE, "MINIO_URL_CACHE_PREFIX": "opt_"})).url_cache_prefix
        == "opt_"
    )
    assert parse_options(BASE).url_caching_enabled is False  # parsing itself reads no settings


def test_cache_timeout_is_clamped_to_the_url_expiry():
    options = parse_options(
        {**BASE, "MINIO_URL_EXPIRY_HOURS": timedelta(hours=1), "MINIO_URL_CACHE_TIMEOUT": 7200}
    )
    assert options.effective_url_cache_timeout == 3600


def test_constructing_storages_never_mutates_settings(settings):
    two_alias_settings(settings)
    before = copy.deepcopy(settings.STORAGES)
    MinioBackend()
    MinioBackend(storage_name="archive")
    MinioBackendStatic()
    storages["default"], storages["archive"], storages["staticfiles"]
    assert before == settings.STORAGES


def test_django_built_storage_uses_exactly_its_alias_options(settings):
    two_alias_settings(settings)
    archive = storages["archive"]
    assert archive.options.endpoint == "archive.local"
    assert archive.options.region == "us-east-1"  # not inherited from "default"
    assert archive.PUBLIC_BUCKETS == []
    assert archive.storage_name == "archive"


def test_storage_name_reads_that_alias_and_explicit_kwargs_win(settings):
    two_alias_settings(settings)
    storage = MinioBackend(bucket_name="cold-files", storage_name="archive")
    assert (storage.options.endpoint, storage.bucket) == ("archive.local", "cold-files")
    storage = MinioBackend(storage_name="archive", MINIO_REGION="ap-south-1")
    assert storage.options.region == "ap-south-1"
    assert storage.options.endpoint == "archive.local"


def test_unknown_alias_is_a_configuration_error(settings):
    two_alias_settings(settings)
    with pytest.raises(ConfigurationError, match="no alias 'nope'"):
        MinioBackend(storage_name="nope")


def test_unknown_keyword_argument_is_named():
    with pytest.raises(ConfigurationError, match="'replace_exisitng'.*'replace_existing'"):
        MinioBackend(replace_exisitng=True)


def test_static_storage_uses_the_static_bucket_and_is_public(settings):
    two_alias_settings(settings)
    static = storages["staticfiles"]
    assert isinstance(static, MinioBackendStatic)
    assert static.bucket == "site-static"
    assert static.is_bucket_public
    assert "site-static" in static.PUBLIC_BUCKETS


def test_default_bucket_is_private_unless_listed_public(settings):
    two_alias_settings(settings)
    assert MinioBackend().bucket == "auto-generated-bucket-media-files"
    assert not MinioBackend().is_bucket_public
    assert MinioBackend(bucket_name="shared-public").is_bucket_public


def test_undeclared_bucket_is_private_with_a_warning(settings, caplog):
    two_alias_settings(settings)
    storage = MinioBackend(bucket_name="somewhere-else")
    assert not storage.is_bucket_public
    assert "somewhere-else" in caplog.text and "treating it as private" in caplog.text


def test_deconstruct_and_repr_hold_no_credentials(settings):
    two_alias_settings(settings)
    for storage in (storages["default"], MinioBackend(bucket_name="x-bucket", storage_name="archive")):
        path, args, kwargs = storage.deconstruct()
        assert path == "django_minio_backend.models.MinioBackend"
        text = repr((path, args, kwargs)) + repr(storage)
        for secret in ("s", "t"):
            assert f"'{secret}'" not in text
        assert "SECRET" not in text and "ACCESS" not in text
    assert MinioBackend(bucket_name="x-bucket", storage_name="archive").deconstruct()[2] == {
        "storage_name": "archive",
        "bucket_name": "x-bucket",
    }


def test_missing_credentials_raise_on_first_use_not_at_construction(settings):
    settings.STORAGES = {
        "default": {"BACKEND": "django_minio_backend.models.MinioBackend", "OPTIONS": {"MINIO_ENDPOINT": "h"}}
    }
    storage = MinioBackend()
    with pytest.raises(ConfigurationError, match="MINIO_ACCESS_KEY, MINIO_SECRET_KEY not set"):
        storage.client  # noqa: B018
