"""Write the README's option reference from the one option table (conf/options.py).

Run with ``make option-table`` after adding or changing an option; tests/test_docs.py fails until
the README matches.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import django
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    settings.configure()
    django.setup()
    from django_minio_backend.conf.reference import reference_table

    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    table = re.compile(r"^\| Key \| Default \| Meaning \|\n(?:^\|.*\|\n)+", re.M)
    if not table.search(text):
        print("README.md has no option table to replace", file=sys.stderr)
        return 1
    readme.write_text(table.sub(reference_table() + "\n", text, count=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
