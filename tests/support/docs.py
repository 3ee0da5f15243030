"""The documents' code blocks, for the tests that compile and run them (unit and server)."""

from __future__ import annotations

import re
import textwrap

from tests.support import ROOT

TOP_LEVEL = ("README.md", "MIGRATIONS.md", "CONTRIBUTE.md")
PAGES = tuple(sorted(str(path.relative_to(ROOT)) for path in (ROOT / "docs").glob("*.md")))
DOCS = TOP_LEVEL + PAGES
FENCE = re.compile(r"^( *)```(\w+)[^\n]*\n(.*?)^\1```", re.M | re.S)


def blocks(doc: str, language: str = "python") -> list[tuple[str, str]]:
    """(where, code) of each fenced block of ``language`` in ``doc``, indented blocks dedented."""
    text = (ROOT / doc).read_text()
    found = []
    for match in FENCE.finditer(text):
        if match.group(2) == language:
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{doc}:{line}", textwrap.dedent(match.group(3))))
    return found


PYTHON_BLOCKS = [block for doc in DOCS for block in blocks(doc)]
SETTINGS_BLOCKS = [(where, code) for where, code in PYTHON_BLOCKS if re.search(r"^STORAGES = ", code, re.M)]


PYTHON_BLOCKS = [block for doc in DOCS for block in blocks(doc)]
SETTINGS_BLOCKS = [(where, code) for where, code in PYTHON_BLOCKS if re.search(r"^STORAGES = ", code, re.M)]


def run_settings_block(where: str, code: str, monkeypatch) -> dict:
    """Execute a settings example with the environment variables it reads set to dummy values."""
    for key in set(re.findall(r"os\.environ(?:\.get\()?\[?\(?\"([A-Z0-9_]+)\"", code)):
        monkeypatch.setenv(key, "http://proxy.invalid:3128" if "PROXY" in key else "docs-example")
    namespace: dict = {}
    exec(compile(code, where, "exec"), namespace)
    return namespace
