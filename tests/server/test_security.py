"""Security: anonymous access is limited to reading public objects; credentials never leak.

Also covered in test_storage.py: anonymous reads of private objects, tampered, expired and
wrong-host presigned URLs; in test_options.py: deconstruct() and repr() of configured storages.
"""

import io
import logging
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor

import pytest
import urllib3
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings

from django_minio_backend.errors import StorageServerError
from django_minio_backend.models import MinioBackend

from tests.support import PRIVATE, PUBLIC, STATIC, STORAGE_MODELS, refused

http = urllib3.PoolManager(retries=False)


def anonymous(method, url, body=None):
    return http.request(method, url, body=body)


@pytest.mark.s3_strict
@pytest.mark.parametrize("bucket", [PUBLIC, STATIC, PRIVATE])
def test_no_bucket_can_be_listed_or_written_anonymously(storage, s3_server, bucket, name):
    storage.save(f"{name}/listed.txt", ContentFile(b"x"))
    base = f"{s3_server.url}/{bucket}"
    assert refused(anonymous("GET", f"{base}/"))
    assert refused(anonymous("GET", f"{base}/?list-type=2&prefix={name}"))
    assert refused(anonymous("GET", f"{base}/?uploads"))
    assert refused(anonymous("PUT", f"{base}/{name}/planted.txt", body=b"evil"))
    assert refused(anonymous("DELETE", f"{base}/{name}/listed.txt"))


@pytest.mark.s3_strict
def test_public_objects_are_readable_but_not_deletable_anonymously(public_storage, name):
    saved = public_storage.save(f"{name}/pub.txt", ContentFile(b"public"))
    url = public_storage.url(saved)
    assert http.request("GET", url).data == b"public"
    assert refused(anonymous("DELETE", url))
    assert public_storage.exists(saved)


@pytest.mark.s3_strict
def test_url_signed_with_a_wrong_secret_is_rejected(minio_settings, storage, name):
    saved = storage.save(f"{name}/s.txt", ContentFile(b"s"))
    forged = MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_SECRET_KEY="guessed-secret")
    assert refused(anonymous("GET", forged.url(saved)))
    assert anonymous("GET", storage.url(saved)).status == 200


# -- credentials never leak ------------------------------------------------------------------


def leaks(text, server):
    return [
        label
        for label, value in (("secret", server.secret_key), ("access key", server.access_key))
        if value in text
    ]


@pytest.mark.django_db
def test_migrations_hold_no_credentials(minio_settings, minio_options, s3_server, tmp_path, monkeypatch):
    package = tmp_path / "leakcheck"
    (package / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "migrations" / "__init__.py").write_text("")
    (package / "models.py").write_text(STORAGE_MODELS.format(options=dict(minio_options)))
    monkeypatch.syspath_prepend(str(tmp_path))
    output = io.StringIO()
    apps = [*minio_settings.INSTALLED_APPS, "leakcheck"]
    with override_settings(INSTALLED_APPS=apps):
        call_command("makemigrations", "leakcheck", dry_run=True, verbosity=3, stdout=output)
    text = output.getvalue()
    sys.modules.pop("leakcheck.models", None)
    assert "django_minio_backend.models.MinioBackend(" in text and "storage_name='default'" in text
    assert leaks(text, s3_server) == []


def test_reprs_hold_no_credentials(storage, s3_server):
    storage.client  # noqa: B018  (built clients are part of the object)
    texts = [
        repr(storage),
        str(storage),
        repr(storage.options),
        repr(storage.deconstruct()),
        repr(vars(storage)),
    ]
    assert leaks(" ".join(texts), s3_server) == []


def full_text(error):
    return "".join(traceback.format_exception(error))


def failing_operations(storage, name):
    return {
        "save": lambda: storage.save(f"{name}/f.txt", ContentFile(b"f")),
        "save (big)": lambda: storage.save(f"{name}/big.txt", ContentFile("x" * 100)),
        "open": lambda: storage.open(f"{name}/f.txt"),
        "exists": lambda: storage.exists(f"{name}/f.txt"),
        "delete": lambda: storage.delete(f"{name}/f.txt"),
        "listdir": lambda: storage.listdir(name),
    }


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(
            {"MINIO_SECRET_KEY": "wrong-secret-value"}, marks=pytest.mark.s3_strict, id="wrong secret"
        ),
        pytest.param({"MINIO_ENDPOINT": "127.0.0.1:9", "MINIO_MAX_RETRIES": 1}, id="server down"),
    ],
)
def test_errors_and_logs_hold_no_credentials(minio_settings, s3_server, caplog, name, broken):
    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default", **broken)
    errors = []
    caplog.set_level(logging.DEBUG)
    for operation in failing_operations(storage, name).values():
        with pytest.raises(StorageServerError) as raised:
            operation()
        errors.append(full_text(raised.value))
    for text in errors:
        assert leaks(text, s3_server) == [], text
    logged = "\n".join(caplog.text.splitlines()) + "".join(r.exc_text or "" for r in caplog.records)
    assert leaks(logged, s3_server) == []
    secret = broken.get("MINIO_SECRET_KEY")
    assert secret is None or all(secret not in text for text in [*errors, logged])


def test_debug_logs_of_working_operations_hold_no_credentials(
    storage, public_storage, s3_server, caplog, name
):
    caplog.set_level(logging.DEBUG)
    saved = storage.save(f"{name}/a.txt", ContentFile(b"a"))
    storage.save(f"{name}/a.txt", ContentFile(b"b"))  # 412, then a new name
    storage.save(f"{name}/big.txt", ContentFile("t" * 1000))  # claim + upload
    with storage.open(saved) as handle:
        handle.read()
    storage.exists(saved)
    storage.size(saved)
    storage.url(saved)
    public_storage.url(saved)
    storage.listdir(name)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: storage.save(f"{name}/race.txt", ContentFile(b"r")), range(8)))
    storage.delete(saved)
    assert any(record.name.startswith("urllib3") for record in caplog.records)  # DEBUG was captured
    assert leaks(caplog.text, s3_server) == []
