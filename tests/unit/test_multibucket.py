"""MinioMultiBucketStorage's system checks, which read settings only."""

from __future__ import annotations

from tests.support import MULTI


def test_system_checks_validate_the_scheme_map(settings):
    from django.core.checks import run_checks

    good = settings.STORAGES["default"]
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": MULTI,
            "OPTIONS": {"MINIO_URL_SCHEMES": {"minio": "default", "old": "gone"}},
        },
        "static-router": {"BACKEND": MULTI, "OPTIONS": {"MINIO_URL_SCHEMES": {"s": "staticfiles"}}},
        "typo": {"BACKEND": MULTI, "OPTIONS": {"MINIO_URL_SCHEME": {"minio": "default"}}},
        "media": {**good, "OPTIONS": {**good["OPTIONS"], "MINIO_URL_SCHEMES": {"minio": "default"}}},
    }
    messages = [m for m in run_checks() if m.id.startswith("minio_backend.")]
    errors = {m.obj: m.msg for m in messages if m.id == "minio_backend.E030"}
    assert "STORAGES['gone'], which does not exist" in errors["STORAGES['documents']['OPTIONS']"]
    assert "Map schemes to MinioBackend aliases" in errors["STORAGES['static-router']['OPTIONS']"]
    assert "takes only MINIO_URL_SCHEMES, not MINIO_URL_SCHEME" in errors["STORAGES['typo']['OPTIONS']"]
    warnings = [m for m in messages if m.id == "minio_backend.W030"]
    assert [m.obj for m in warnings] == ["STORAGES['media']['OPTIONS']"]
