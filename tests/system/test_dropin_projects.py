"""Whole projects written for the published lines run unchanged, in subprocesses, on the test server.

- ``fourx_project``: a 4.x project (STORAGES OPTIONS, storage callables, ``upload_to=iso_date_prefix``
  and a migration as 4.x's ``makemigrations`` wrote it).
- ``threex_project``: a 3.x project (top-level ``MINIO_*`` settings, a storage instance on the
  field, a migration as 3.x wrote it), selected with ``DEFAULT_FILE_STORAGE`` on Django 4.2 or
  with bare ``STORAGES`` entries on any Django.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import django
import pytest

HERE = Path(__file__).resolve().parent


def project(tmp_path: Path, name: str, server, **env: str):
    """Copy ``tests/<name>`` to ``tmp_path`` and return a runner of its manage.py."""
    root = tmp_path / name
    shutil.copytree(HERE / name, root, ignore=shutil.ignore_patterns("__pycache__"))
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_", "MINIO_"))}
    environ.update(
        MINIO_TEST_ENDPOINT=server.endpoint,
        MINIO_TEST_ACCESS_KEY=server.access_key,
        MINIO_TEST_SECRET_KEY=server.secret_key,
        MINIO_TEST_REGION=server.region,
        MINIO_TEST_USE_HTTPS="1" if server.use_https else "0",
        PYTHONDONTWRITEBYTECODE="1",
        **env,
    )

    def manage(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=root,
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done

    return manage


def test_a_4x_project_migrates_and_passes_its_tests_unchanged(tmp_path, s3_server):
    manage = project(tmp_path, "fourx_project", s3_server, FOURX_DATABASE=str(tmp_path / "db.sqlite3"))
    migrated = manage("migrate", "--noinput")
    assert "Applying attachments.0001_initial... OK" in migrated.stdout
    unchanged = manage("makemigrations", "--check", "--dry-run")
    assert unchanged.stdout.strip() == "No changes detected"
    checked = manage("check")
    # The app is listed after django.contrib.staticfiles, as 4.x documented: Django's collectstatic
    # runs (it works) and the one warning says how to get this app's faster one.
    report = checked.stderr + checked.stdout
    assert "minio_backend.W006" in report and "System check identified 1 issue (0 silenced)." in report, (
        report
    )
    manage("initialize_buckets")
    tested = manage("test", "attachments", "-v", "2")
    assert "Ran 4 tests" in tested.stderr and "\nOK" in tested.stderr, tested.stderr
    print(migrated.stdout, unchanged.stdout, tested.stderr.splitlines()[-3:], sep="\n")


THREEX_STYLES = [
    pytest.param(
        "setting",
        marks=pytest.mark.skipif(
            django.VERSION >= (5, 1), reason="Django 5.1 removed DEFAULT_FILE_STORAGE and STATICFILES_STORAGE"
        ),
        id="DEFAULT_FILE_STORAGE",
    ),
    pytest.param("storages", id="bare-STORAGES"),
]


@pytest.mark.parametrize("style", THREEX_STYLES)
def test_a_3x_project_works_with_its_top_level_settings(tmp_path, s3_server, style):
    manage = project(
        tmp_path,
        "threex_project",
        s3_server,
        THREEX_DATABASE=str(tmp_path / "db.sqlite3"),
        THREEX_STYLE=style,
    )
    migrated = manage("migrate", "--noinput")
    assert "Applying files.0001_initial... OK" in migrated.stdout
    assert manage("makemigrations", "--check", "--dry-run").stdout.strip() == "No changes detected"
    checked = manage("check")
    assert "minio_backend.W005" in checked.stderr + checked.stdout
    report = checked.stderr + checked.stdout
    assert "minio_backend.W006" in report  # the app comes after django.contrib.staticfiles
    assert "System check identified 2 issues (0 silenced)." in report, report
    assert 'os.environ["MINIO_SECRET_KEY"]' in report and s3_server.secret_key not in report
    initialized = manage("initialize_buckets", "-v", "2")
    for bucket in ("django-backend-dev-private", "django-backend-dev-public", "my-media-files-bucket"):
        assert bucket in initialized.stdout, initialized.stdout
    collected = manage("collectstatic", "--noinput")
    assert "static file" in collected.stdout and "copied" in collected.stdout, collected.stdout
    tested = manage("test", "files", "-v", "2")
    assert "Ran 3 tests" in tested.stderr and "\nOK" in tested.stderr, tested.stderr
    print(checked.stderr, initialized.stdout, collected.stdout, tested.stderr.splitlines()[-3:], sep="\n")
