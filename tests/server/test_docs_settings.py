"""Every settings example of the documentation works against a real server: its storages are
pointed at the test server (as users do with the testing helper), their buckets created, a file
saved through each media storage and fetched back over HTTP by its URL.

Options that would send the requests elsewhere or need what this server does not have are left
out: a proxy, a private CA bundle, virtual-host addressing, a credentials provider, encryption and
storage classes, a CDN base URL. tests/unit/test_docs.py checks those examples offline.
"""

from __future__ import annotations

import uuid

import pytest
import urllib3
from django.core.files.base import ContentFile
from django.core.files.storage import StorageHandler

from django_minio_backend.testing import create_declared_buckets, storages_for

from tests.support.docs import SETTINGS_BLOCKS, run_settings_block

ELSEWHERE = (
    "MINIO_PROXY",
    "MINIO_CA_BUNDLE",
    "MINIO_ADDRESSING_STYLE",
    "MINIO_CREDENTIALS_PROVIDER",
    "MINIO_SESSION_TOKEN",
    "MINIO_SERVER_SIDE_ENCRYPTION",
    "MINIO_SSE_KMS_KEY_ID",
    "MINIO_SSE_KMS_CONTEXT",
    "MINIO_SSE_CUSTOMER_KEY",
    "MINIO_STORAGE_CLASS",
    "MINIO_PUBLIC_BASE_URL",
    "MINIO_HTTP_CLIENT",
    "MINIO_POLICY_HOOKS",
)


def ours(storages: dict) -> dict:
    """The example's aliases of this package (routers aside), without the options in ELSEWHERE."""
    kept = {}
    for alias, entry in storages.items():
        options = entry.get("OPTIONS", {})
        if not entry["BACKEND"].startswith("django_minio_backend.") or "MINIO_URL_SCHEMES" in options:
            continue
        kept[alias] = {**entry, "OPTIONS": {k: v for k, v in options.items() if k not in ELSEWHERE}}
    return kept


@pytest.mark.s3_needs("bucket-policies")  # the examples declare public buckets
@pytest.mark.parametrize(("where", "code"), SETTINGS_BLOCKS, ids=[where for where, _ in SETTINGS_BLOCKS])
def test_every_settings_example_saves_and_serves_a_file(where, code, settings, s3_server, monkeypatch):
    examples = ours(run_settings_block(where, code, monkeypatch)["STORAGES"])
    if not examples:
        pytest.skip(f"{where} configures no storage of this package (e.g. django-storages' settings)")
    settings.STORAGES = storages_for(s3_server, examples)
    create_declared_buckets(settings.STORAGES)
    handler = StorageHandler(settings.STORAGES)
    http = urllib3.PoolManager()
    for alias in examples:  # Django 4.2 adds a "staticfiles" entry of its own to STORAGES
        storage = handler[alias]
        if hasattr(storage, "manifest_name"):
            continue  # a manifest storage serves hashed names collectstatic writes
        payload = f"{where} {alias}".encode()
        name = storage.save(f"docs-examples/{uuid.uuid4().hex[:8]}.txt", ContentFile(payload))
        response = http.request("GET", storage.url(name), retries=False)
        assert (response.status, response.data) == (200, payload), (where, alias)
        storage.delete(name)
