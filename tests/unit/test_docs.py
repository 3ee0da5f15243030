"""The documentation cannot drift from the code: every option is documented, every link resolves."""

from __future__ import annotations

import re

import pytest

from django_minio_backend.conf.options import OPTION_TABLE
from django_minio_backend.conf.reference import reference_table
from django_minio_backend.conf.sources import TOP_LEVEL_FALLBACK_KEYS

from tests.support import ROOT

DOCS = ("README.md", "MIGRATIONS.md", "CONTRIBUTE.md")


def section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


@pytest.fixture(scope="module")
def readme() -> str:
    return (ROOT / "README.md").read_text()


def test_the_readme_reference_is_the_option_table(readme):
    """Each option is declared once, in conf/options.py; `make option-table` writes this section."""
    assert reference_table() in section(readme, "Configuration reference"), "run `make option-table`"
    rows = re.findall(r"^\| `(MINIO_[A-Z_]+)` \|", section(readme, "Configuration reference"), re.M)
    assert rows == [option.key for option in OPTION_TABLE]


def test_quick_start_comes_first_with_the_two_commands(readme):
    headings = re.findall(r"^## (.+)$", readme, re.M)
    assert headings[0] == "Quick start"
    quick = section(readme, "Quick start")
    assert "make demo" in quick and "make test" in quick


@pytest.mark.parametrize("doc", DOCS)
def test_relative_links_point_at_files_in_the_repository(doc):
    text = (ROOT / doc).read_text()
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" in target or target.startswith("mailto:"):
            continue
        assert (ROOT / target).exists(), f"{doc} links to {target}, which does not exist"


def test_migrations_names_every_key_still_read_from_top_level_settings():
    text = (ROOT / "MIGRATIONS.md").read_text()
    for key in TOP_LEVEL_FALLBACK_KEYS:
        assert f"`{key}`" in text, f"MIGRATIONS.md does not say that {key} is read from top-level settings"


def test_migrations_shows_the_3x_warning_as_check_prints_it(settings):
    from datetime import timedelta

    from django_minio_backend import checks

    text = (ROOT / "MIGRATIONS.md").read_text()
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
    assert f"```text\n{first_lines}\n```" in (ROOT / "README.md").read_text(), "README's excerpt drifted"


def test_readme_lists_every_system_check_id():
    from django_minio_backend import checks

    ids = set(re.findall(r"\b([EW]\d{3})\b", checks.__doc__))
    readme = (ROOT / "README.md").read_text()
    listed = set(re.findall(r"`(?:minio_backend\.)?([EW]\d{3})`", section(readme, "Management commands")))
    assert ids - listed == set(), "system checks missing from README's list"
