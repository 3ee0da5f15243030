"""Two things the site needs beyond MyST, so that the docs cannot drift from the repository:

- the configuration page's option table is written from ``conf.reference`` when the page is read
  (the committed copy between the markers is what GitHub shows; ``make option-table`` rewrites it
  and tests/unit/test_docs.py keeps it equal);
- relative links to files of the repository outside ``docs/`` (``../examples/...``, and the links
  of the top-level files the pages include) become links to the repository at
  ``repository_url``. A link to a file that does not exist is a warning, so ``-W`` fails on it.
"""

from __future__ import annotations

import re
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)
START, END = "<!-- option-table:start -->", "<!-- option-table:end -->"
LINK = re.compile(r"(\]\()([^)\s#]+)(#[^)\s]*)?(\))")


def option_table() -> str:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure()
        django.setup()
    from django_minio_backend.conf.reference import reference_table

    return reference_table()


def with_option_table(text: str) -> str:
    """``text`` with the table between the markers replaced by the generated one."""
    before, start, rest = text.partition(START)
    _, end, after = rest.partition(END)
    if not (start and end):
        raise ValueError(f"the configuration page has no {START} ... {END} markers")
    return f"{before}{START}\n{option_table()}\n{END}{after}"


def repository_links(text: str, source: Path, docs: Path, base_url: str, where: str) -> str:
    root = docs.parent

    def replace(match: re.Match) -> str:
        target, anchor = match.group(2), match.group(3) or ""
        if "://" in target or target.startswith("mailto:"):
            return match.group(0)
        path = (source.parent / target).resolve()
        if path.is_relative_to(docs) and not path.is_relative_to(docs / "_build"):
            if source.parent != docs:  # a top-level file included into a page: relative to docs/
                return f"{match.group(1)}{path.relative_to(docs).as_posix()}{anchor}{match.group(4)}"
            return match.group(0)
        if not path.exists():
            logger.warning("%s links to %s, which does not exist", where, target)
            return match.group(0)
        if not path.is_relative_to(root):
            logger.warning("%s links outside the repository: %s", where, target)
            return match.group(0)
        url = base_url + path.relative_to(root).as_posix() + ("/" if path.is_dir() else "")
        return f"{match.group(1)}{url}{anchor}{match.group(4)}"

    return LINK.sub(replace, text)


def on_source_read(app, docname: str, content: list[str]) -> None:
    docs = Path(app.srcdir)
    text = content[0]
    if docname == "configuration":
        text = with_option_table(text)
    content[0] = repository_links(
        text, docs / f"{docname}.md", docs, app.config.repository_url, f"{docname}.md"
    )


def on_include_read(app, relative_path: Path, parent_docname: str, content: list[str]) -> None:
    docs = Path(app.srcdir)
    source = (docs / relative_path).resolve()
    content[0] = repository_links(content[0], source, docs, app.config.repository_url, source.name)


def setup(app):
    app.add_config_value("repository_url", "", "html")
    app.connect("source-read", on_source_read)
    app.connect("include-read", on_include_read)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
