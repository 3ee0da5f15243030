"""The documentation cannot drift from the code: every option is documented, every Python block
compiles, every settings example builds its storages, every relative link resolves.

The site itself (docs/, MyST pages) is built with warnings as errors by `make docs` in CI, which
catches missing pages and anchors; tests/server/test_docs_settings.py runs the settings examples
against the test server.
"""

from __future__ import annotations

import re
from pathlib import Path

import certifi
import pytest
from django.core.files.storage import StorageHandler

from django_minio_backend.conf.options import OPTION_TABLE
from django_minio_backend.conf.reference import reference_table
from django_minio_backend.conf.sources import TOP_LEVEL_FALLBACK_KEYS

from tests.support import ROOT
from tests.support.docs import DOCS, PAGES, PYTHON_BLOCKS, SETTINGS_BLOCKS, run_settings_block

README_MAX_LINES = 300
DUMMY_ENDPOINT = "docs-example.invalid:9000"


def section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def read(doc: str) -> str:
    return (ROOT / doc).read_text()


@pytest.fixture(scope="module")
def readme() -> str:
    return read("README.md")


def test_the_configuration_page_holds_the_option_table():
    """Each option is declared once, in conf/options.py; `make option-table` writes this page."""
    page = read("docs/configuration.md")
    assert reference_table() in section(page, "Configuration reference"), "run `make option-table`"
    rows = re.findall(r"^\| `(MINIO_[A-Z_]+)` \|", section(page, "Configuration reference"), re.M)
    assert rows == [option.key for option in OPTION_TABLE]


def test_quick_start_comes_first_with_the_two_commands(readme):
    headings = re.findall(r"^## (.+)$", readme, re.M)
    assert headings[0] == "Quick start"
    quick = section(readme, "Quick start")
    assert "make demo" in quick and "make test" in quick


def test_the_readme_is_short_and_links_into_the_site(readme):
    assert len(readme.splitlines()) <= README_MAX_LINES
    linked = set(re.findall(r"\]\((docs/[\w-]+\.md)", readme))
    unlinked = {"docs/index.md", "docs/contributing.md"}  # the README links CONTRIBUTE.md itself
    assert linked == set(PAGES) - unlinked, "the README links every page"


def test_every_page_is_in_the_table_of_contents():
    index = read("docs/index.md")
    listed = set(re.findall(r"^([\w-]+)$", index, re.M))
    assert {Path(page).stem for page in PAGES} - {"index"} == listed


@pytest.mark.parametrize("doc", DOCS)
def test_relative_links_point_at_files_in_the_repository(doc):
    text = read(doc)
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" in target or target.startswith("mailto:"):
            continue
        assert ((ROOT / doc).parent / target).exists(), f"{doc} links to {target}, which does not exist"


def test_every_document_has_python_blocks_found():
    assert len(PYTHON_BLOCKS) >= 20 and len(SETTINGS_BLOCKS) >= 6, (len(PYTHON_BLOCKS), len(SETTINGS_BLOCKS))


@pytest.mark.parametrize(("where", "code"), PYTHON_BLOCKS, ids=[where for where, _ in PYTHON_BLOCKS])
def test_every_python_block_compiles(where, code):
    compile(code, where, "exec")


def offline(storages: dict) -> dict:
    """The example's STORAGES with this package's aliases pointed at a dummy host (no request is
    made) and filled in where the example elides the endpoint and keys ("# ... endpoint ...")."""
    result = {}
    for alias, entry in storages.items():
        entry = dict(entry)
        options = dict(entry.get("OPTIONS", {}))
        if entry["BACKEND"].startswith("django_minio_backend.") and "MINIO_URL_SCHEMES" not in options:
            options["MINIO_ENDPOINT"] = DUMMY_ENDPOINT
            if not options.get("MINIO_CREDENTIALS_PROVIDER"):
                options.setdefault("MINIO_ACCESS_KEY", "docs-example")
                options.setdefault("MINIO_SECRET_KEY", "docs-example")
            if options.get("MINIO_CA_BUNDLE"):
                options["MINIO_CA_BUNDLE"] = certifi.where()  # the example's path is the reader's
            entry["OPTIONS"] = options
        result[alias] = entry
    return result


@pytest.mark.parametrize(("where", "code"), SETTINGS_BLOCKS, ids=[where for where, _ in SETTINGS_BLOCKS])
def test_every_settings_example_builds_its_storages_and_passes_the_checks(where, code, settings, monkeypatch):
    from django_minio_backend import checks

    examples = run_settings_block(where, code, monkeypatch)["STORAGES"]
    settings.STORAGES = offline(examples)
    handler = StorageHandler(settings.STORAGES)
    built = 0
    for alias, entry in settings.STORAGES.items():
        if not entry["BACKEND"].startswith("django_minio_backend."):
            continue  # e.g. django-storages' "before" block, or Django's StaticFilesStorage
        storage = handler[alias]
        if not hasattr(storage, "manifest_name"):  # a manifest storage's url() reads its manifest
            assert storage.url("docs/example.txt").startswith(("http://", "https://")), where
        built += 1
    errors = [message for message in checks.run_all() if message.is_serious()]
    assert errors == [], (where, errors)
    if "storages.backends" not in code:
        assert built, f"{where} defines STORAGES without a storage of this package"


def test_migrations_names_every_key_still_read_from_top_level_settings():
    text = read("MIGRATIONS.md")
    for key in TOP_LEVEL_FALLBACK_KEYS:
        assert f"`{key}`" in text, f"MIGRATIONS.md does not say that {key} is read from top-level settings"


def test_migrations_shows_the_3x_warning_as_check_prints_it(settings):
    from datetime import timedelta

    from django_minio_backend import checks

    text = read("MIGRATIONS.md")
    part = text[text.index("### 1. Move the options into `STORAGES`") :]
    settings_block = re.search(r"```python\n(.*?)```", part, re.S).group(1)
    shown = re.search(r"```text\nWARNINGS:\n(.*?)\n```", part, re.S).group(1)
    top_level: dict = {"timedelta": timedelta}
    exec(settings_block, top_level)
    for key, value in top_level.items():
        if key.startswith("MINIO_"):
            setattr(settings, key, value)
    settings.STORAGES = {
        "default": {"BACKEND": "django_minio_backend.models.MinioBackend"},
        "staticfiles": {"BACKEND": "django_minio_backend.models.MinioBackendStatic"},
    }
    (warning,) = checks.run_all()
    assert f"{warning.obj}: ({warning.id}) {warning.msg}\n\tHINT: {warning.hint}" == shown
    first_lines = "\n".join(shown.splitlines()[:2])
    assert f"```text\n{first_lines}\n```" in read("docs/getting-started.md"), "the excerpt drifted"


def test_the_commands_page_lists_every_system_check_id():
    from django_minio_backend import checks

    ids = set(re.findall(r"\b([EW]\d{3})\b", checks.__doc__))
    page = read("docs/commands.md")
    listed = set(re.findall(r"`(?:minio_backend\.)?([EW]\d{3})`", section(page, "Management commands")))
    assert ids - listed == set(), "system checks missing from docs/commands.md"
