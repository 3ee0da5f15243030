"""Write the option reference of docs/configuration.md from the one option table (conf/options.py).

Run with ``make option-table`` after adding or changing an option (``--check`` only compares);
tests/unit/test_docs.py fails until the page matches. The site's build writes the same table into
the page it renders (docs/_ext/repository.py), so the built site is current either way.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "docs" / "_ext")]
PAGE = ROOT / "docs" / "configuration.md"


def main(argv: list[str]) -> int:
    from repository import with_option_table

    text = PAGE.read_text(encoding="utf-8")
    written = with_option_table(text)
    if "--check" in argv:
        if written != text:
            print(f"{PAGE.relative_to(ROOT)}: the option table is out of date; run `make option-table`")
            return 1
        return 0
    PAGE.write_text(written, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
