"""The public testing helper: STORAGES overrides, bucket creation and clearing, the README example."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import textwrap
import unittest
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.test import SimpleTestCase

from django_minio_backend.models import MinioBackend
from django_minio_backend.testing import (
    create_declared_buckets,
    empty_declared_buckets,
    override_minio_storages,
    storages_for,
)

from tests.support import ROOT, keys, refused


class CustomBackend(MinioBackend):
    """A user's subclass: still a MinIO alias."""


@pytest.fixture
def own_storages(settings, name):
    """STORAGES declaring buckets no other test uses, plus a non-MinIO alias."""
    buckets = {"private": f"{name}-priv", "public": f"{name}-pub", "static": f"{name}-static"}
    settings.STORAGES = {
        "default": {
            "BACKEND": "tests.server.test_testing_helper.CustomBackend",
            "OPTIONS": {
                "MINIO_ENDPOINT": "127.0.0.1:9",
                "MINIO_EXTERNAL_ENDPOINT": "files.example.com",
                "MINIO_EXTERNAL_ENDPOINT_USE_HTTPS": True,
                "MINIO_ACCESS_KEY": "user-key",
                "MINIO_SECRET_KEY": "user-secret",
                "MINIO_REGION": "eu-west-9",
                "MINIO_PRIVATE_BUCKETS": [buckets["private"]],
                "MINIO_PUBLIC_BUCKETS": [buckets["public"]],
                "MINIO_DEFAULT_BUCKET": buckets["private"],
                "MINIO_URL_EXPIRY_HOURS": timedelta(hours=3),
            },
        },
        "staticfiles": {
            "BACKEND": "django_minio_backend.models.MinioBackendStatic",
            "OPTIONS": {"MINIO_ENDPOINT": "127.0.0.1:9", "MINIO_STATIC_FILES_BUCKET": buckets["static"]},
        },
        "local": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": "/x"}},
    }
    return buckets


def test_storages_for_replaces_connection_and_keeps_the_rest(s3_server, own_storages):
    original = django_settings.STORAGES
    rewritten = storages_for(s3_server)
    options = rewritten["default"]["OPTIONS"]
    assert options["MINIO_ENDPOINT"] == options["MINIO_EXTERNAL_ENDPOINT"] == s3_server.endpoint
    assert options["MINIO_USE_HTTPS"] is options["MINIO_EXTERNAL_ENDPOINT_USE_HTTPS"] is s3_server.use_https
    assert (options["MINIO_ACCESS_KEY"], options["MINIO_SECRET_KEY"]) == (
        s3_server.access_key,
        s3_server.secret_key,
    )
    assert options["MINIO_REGION"] == s3_server.region
    assert options["MINIO_PRIVATE_BUCKETS"] == [own_storages["private"]]
    assert options["MINIO_URL_EXPIRY_HOURS"] == timedelta(hours=3)
    assert rewritten["default"]["BACKEND"] == "tests.server.test_testing_helper.CustomBackend"
    assert rewritten["staticfiles"]["OPTIONS"]["MINIO_ENDPOINT"] == s3_server.endpoint
    assert rewritten["local"] == original["local"]
    assert original["default"]["OPTIONS"]["MINIO_ENDPOINT"] == "127.0.0.1:9", "settings were mutated"


@pytest.mark.s3_needs("bucket-policies")
def test_context_manager_points_storages_creates_buckets_and_clears(s3_server, own_storages):
    before = django_settings.STORAGES
    with override_minio_storages(s3_server, clear=True) as server:
        assert server == s3_server
        assert {b.name for b in server.client().list_buckets()} >= set(own_storages.values())
        assert isinstance(storages["default"], CustomBackend)
        saved = default_storage.save("a/b.txt", ContentFile(b"payload"))
        with default_storage.open(saved) as stored:
            assert stored.read() == b"payload"
        storages["staticfiles"].save("app.css", ContentFile(b"body{}"))
        assert keys(server, own_storages["private"]) == ["a/b.txt"]
        assert keys(server, own_storages["static"]) == ["app.css"]
    assert django_settings.STORAGES is before
    assert storages["default"].options.endpoint == "127.0.0.1:9"
    for bucket in own_storages.values():
        assert keys(s3_server, bucket) == []


@pytest.mark.s3_needs("bucket-policies")
def test_without_clear_the_objects_stay(s3_server, own_storages):
    with override_minio_storages(s3_server):
        default_storage.save("kept.txt", ContentFile(b"k"))
    assert keys(s3_server, own_storages["private"]) == ["kept.txt"]
    with override_minio_storages(s3_server, create_buckets=False):
        assert empty_declared_buckets(s3_server) == 1


@pytest.mark.s3_needs("bucket-policies")
def test_default_server_is_the_sessions_shared_server(s3_server, own_storages):
    @override_minio_storages()
    def decorated():
        return django_settings.STORAGES["default"]["OPTIONS"]["MINIO_ENDPOINT"]

    assert decorated() == s3_server.endpoint
    assert django_settings.STORAGES["default"]["OPTIONS"]["MINIO_ENDPOINT"] == "127.0.0.1:9"


@pytest.mark.s3_needs("bucket-policies")
def test_public_bucket_is_created_public(s3_server, own_storages, http):
    with override_minio_storages(s3_server, clear=True):
        default_storage.save("p.txt", ContentFile(b"open"))  # private bucket
        storages["default"].__class__(bucket_name=own_storages["public"], storage_name="default").save(
            "p.txt", ContentFile(b"open")
        )
        public = http.request("GET", f"{s3_server.url}/{own_storages['public']}/p.txt")
        private = http.request("GET", f"{s3_server.url}/{own_storages['private']}/p.txt")
    assert public.status == 200 and public.data == b"open"
    if s3_server.strict:
        assert refused(private)


def test_create_failure_names_the_bucket(s3_server, settings):
    settings.STORAGES = {
        "default": {
            "BACKEND": "django_minio_backend.models.MinioBackend",
            "OPTIONS": {"MINIO_DEFAULT_BUCKET": "ok-bucket", "MINIO_POLICY_HOOKS": [("never-declared", {})]},
        }
    }
    with pytest.raises(RuntimeError, match="never-declared"):
        create_declared_buckets(storages_for(s3_server))


@pytest.mark.s3_needs("bucket-policies")
def test_class_decorator_is_active_from_set_up_class_and_clears_after_each_test(s3_server, own_storages):
    seen = []

    @override_minio_storages(s3_server, clear=True)
    class Uploads(SimpleTestCase):
        @classmethod
        def setUpClass(cls):
            super().setUpClass()
            seen.append(django_settings.STORAGES["default"]["OPTIONS"]["MINIO_ENDPOINT"])

        def test_1_save(self):
            default_storage.save("one.txt", ContentFile(b"1"))
            self.assertEqual(keys(s3_server, own_storages["private"]), ["one.txt"])

        def test_2_previous_test_was_cleared(self):
            self.assertEqual(keys(s3_server, own_storages["private"]), [])

    result = unittest.TextTestRunner(stream=io.StringIO()).run(
        unittest.defaultTestLoader.loadTestsFromTestCase(Uploads)
    )
    assert result.testsRun == 2 and result.wasSuccessful(), result.failures + result.errors
    assert seen == [s3_server.endpoint]
    assert django_settings.STORAGES["default"]["OPTIONS"]["MINIO_ENDPOINT"] == "127.0.0.1:9"


@pytest.mark.s3_needs("bucket-policies")
def test_minio_storages_fixture(minio_storages, s3_server, minio_server):
    assert minio_storages is s3_server is minio_server
    assert django_settings.STORAGES["default"]["OPTIONS"]["MINIO_ENDPOINT"] == s3_server.endpoint
    assert default_storage.exists("nothing-here.txt") is False


BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys

    class Refuse(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("moto", "pytest", "_pytest", "pytest_django", "boto3", "botocore"):
                raise ImportError(f"{name} is blocked in this test")
            return None

    sys.meta_path.insert(0, Refuse())
    """
)


def test_importable_without_test_dependencies(s3_server):
    script = BLOCKER + textwrap.dedent(
        f"""
        import django
        from django.conf import settings
        settings.configure(STORAGES={{"default": {{
            "BACKEND": "django_minio_backend.models.MinioBackend",
            "OPTIONS": {{"MINIO_DEFAULT_BUCKET": "b"}}}}}})
        django.setup()
        import django_minio_backend.testing as testing
        from django_minio_backend.testing import S3Server, override_minio_storages, storages_for
        server = S3Server("external", {s3_server.endpoint!r}, "k", "s")
        assert storages_for(server)["default"]["OPTIONS"]["MINIO_ENDPOINT"] == server.endpoint
        with override_minio_storages(server, create_buckets=False):
            assert settings.STORAGES["default"]["OPTIONS"]["MINIO_ACCESS_KEY"] == "k"
        try:
            import moto
        except ImportError:
            pass
        else:
            raise SystemExit("the blocker let moto in")
        leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("moto", "pytest", "_pytest"))
        assert not leaked, leaked
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def readme_files() -> dict[str, str]:
    """The fenced blocks of docs/testing.md ("Testing your project"), keyed by their first-line file name."""
    text = (ROOT / "docs" / "testing.md").read_text()
    files = {}
    for block in re.findall(r"^```\w*\n(.*?)^```", text, re.M | re.S):
        first = block.splitlines()[0]
        if first.startswith("# ") and first.endswith((".py", ".ini")):
            files[first[2:]] = block
    return files


# Not in the README: checks that minio_storages empties the buckets after each test.
EMPTIED_AFTER = """
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


def test_a_leaves_a_file(minio_storages):
    default_storage.save("left.txt", ContentFile(b"x"))


def test_b_finds_the_bucket_emptied(minio_storages):
    assert list(minio_storages.client().list_objects(bucket_name="uploads", recursive=True)) == []
"""


def test_readme_example_runs_as_written(tmp_path, s3_server):
    files = readme_files()
    assert set(files) == {
        "settings.py",
        "pytest.ini",
        "test_uploads.py",
        "test_uploads_unittest.py",
        "test_budget.py",
    }
    for filename, content in files.items():
        (tmp_path / filename).write_text(content)
    (tmp_path / "test_emptied_after.py").write_text(EMPTIED_AFTER)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    # The user's project uses this session's server as an external one: kinds the suite registers
    # itself (the Ceph cluster) are not there, as in any user's project.
    env |= {
        "MINIO_TEST_SERVER": "external",
        "MINIO_TEST_ENDPOINT": s3_server.endpoint,
        "MINIO_TEST_ACCESS_KEY": s3_server.access_key,
        "MINIO_TEST_SECRET_KEY": s3_server.secret_key,
        "MINIO_TEST_REGION": s3_server.region,
    }
    pytest_run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert pytest_run.returncode == 0, pytest_run.stdout + pytest_run.stderr
    assert "5 passed" in pytest_run.stdout, pytest_run.stdout
    django_run = subprocess.run(
        [sys.executable, "-m", "django", "test", "--settings=settings", "-v", "2"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert django_run.returncode == 0, django_run.stdout + django_run.stderr
    assert "Ran 1 test" in django_run.stderr and "OK" in django_run.stderr, django_run.stderr
