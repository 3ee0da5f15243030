"""Every configuration error is a Django system check with an ID and a hint."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from django_minio_backend.errors import ConfigurationError, PrivatePublicMixedError
from django_minio_backend.models import MinioBackend

MEDIA = "django_minio_backend.models.MinioBackend"
STATIC = "django_minio_backend.models.MinioBackendStatic"
GOOD = {
    "MINIO_ENDPOINT": "127.0.0.1:9",
    "MINIO_ACCESS_KEY": "access",
    "MINIO_SECRET_KEY": "secret-never-shown",
    "MINIO_PRIVATE_BUCKETS": ["c-private"],
    "MINIO_PUBLIC_BUCKETS": ["c-public"],
    "MINIO_DEFAULT_BUCKET": "c-private",
    "MINIO_STATIC_FILES_BUCKET": "c-static",
}


def configure(settings, default=None, static=None, **more):
    settings.STORAGES = {
        "default": {"BACKEND": MEDIA, "OPTIONS": {**GOOD, **(default or {})}},
        "staticfiles": {"BACKEND": STATIC, "OPTIONS": {**GOOD, **(static or {})}},
        **more,
    }


def minio_messages():
    return {message.id: message for message in run_checks() if message.id.startswith("minio_backend.")}


def test_a_good_configuration_passes(settings):
    configure(settings)
    assert minio_messages() == {}
    call_command("check")


@pytest.mark.parametrize(
    ("change", "check_id", "words"),
    [
        ({"MINIO_ENDPOINT": ""}, "E001", "MINIO_ENDPOINT"),
        ({"MINIO_SECRET_KEY": ""}, "E002", "MINIO_SECRET_KEY"),
        ({"MINIO_PUBLIC_BUCKETS": ["c-private"]}, "E003", "c-private"),
        ({"MINIO_PRIVAT_BUCKETS": []}, "E004", "MINIO_PRIVATE_BUCKETS"),
        ({"MINIO_USE_HTTPS": "yes"}, "E005", "MINIO_USE_HTTPS"),
        ({"MINIO_URL_EXPIRY_HOURS": 24}, "E005", "timedelta"),
        ({"MINIO_EXTERNAL_ENDPOINT": "cdn.example.com"}, "W001", "MINIO_EXTERNAL_ENDPOINT_USE_HTTPS"),
        ({"MINIO_POLICY_HOOKS": [("c-nowhere", {})]}, "W002", "c-nowhere"),
    ],
)
def test_each_problem_has_its_own_id_and_a_hint(settings, change, check_id, words):
    configure(settings, default=change)
    messages = minio_messages()
    message = messages[f"minio_backend.{check_id}"]
    assert words in message.msg + (message.hint or "")
    assert message.hint
    assert "secret-never-shown" not in message.msg + message.hint
    assert "STORAGES['default']" in str(message.obj)


def test_upload_arguments_in_options_are_not_unknown_options(settings):
    """Django passes OPTIONS as keyword arguments, so `tags`, `metadata`... belong there too."""
    configure(settings, default={"tags": {"team": "media"}, "metadata": {"a": "b"}, "replace_existing": True})
    assert minio_messages() == {}
    assert MinioBackend(storage_name="default", metadata={"a": "b"}).storage_name == "default"


def test_misspelled_key_hint_suggests_the_right_one(settings):
    configure(settings, default={"MINIO_ENDPIONT": "x"})
    assert minio_messages()["minio_backend.E004"].hint == "Did you mean MINIO_ENDPOINT?"


def test_static_bucket_listed_as_private(settings):
    configure(settings, static={"MINIO_PRIVATE_BUCKETS": ["c-private", "c-static"]})
    assert "minio_backend.E006" in minio_messages()


def test_static_bucket_declared_private_by_a_media_alias(settings):
    configure(settings, default={"MINIO_PRIVATE_BUCKETS": ["c-private", "c-static"]})
    message = minio_messages()["minio_backend.E007"]
    assert "c-static" in message.msg


def test_static_bucket_shared_with_media_is_a_warning(settings):
    configure(settings, default={"MINIO_PUBLIC_BUCKETS": ["c-public", "c-static"]})
    assert "minio_backend.W003" in minio_messages()


def test_manage_py_check_fails_on_errors_and_names_the_ids(settings):
    configure(settings, default={"MINIO_ACCESS_KEY": "", "MINIO_PUBLIC_BUCKETS": ["c-private"]})
    with pytest.raises(SystemCheckError) as raised:
        call_command("check")
    assert "minio_backend.E002" in str(raised.value)
    assert "minio_backend.E003" in str(raised.value)


def test_other_backends_are_not_checked(settings):
    configure(settings, other={"BACKEND": "django.core.files.storage.FileSystemStorage"})
    assert minio_messages() == {}


def test_construction_keeps_the_compatible_exception_types(settings):
    configure(settings)
    with pytest.raises(PrivatePublicMixedError):
        MinioBackend(storage_name="default", MINIO_PUBLIC_BUCKETS=["c-private"])
    with pytest.raises(ConfigurationError, match="MINIO_USE_HTTPS"):
        MinioBackend(storage_name="default", MINIO_USE_HTTPS="yes")
