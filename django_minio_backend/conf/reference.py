"""The README's option reference, written from the one option table (``make option-table``)."""

from __future__ import annotations

import json

from .options import OPTION_TABLE, Option


def shown_default(option: Option) -> str:
    """The default as the reference table shows it."""
    if option.shown_default:
        return option.shown_default
    value = option.default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, tuple):
        value = list(value)
    text = json.dumps(value) if isinstance(value, str | list | dict) else repr(value)
    return f"`{text}`"


def reference_table() -> str:
    """The README's option reference, as markdown rows (tests/unit keeps the README equal to it)."""
    rows = ["| Key | Default | Meaning |", "| --- | --- | --- |"]
    for option in OPTION_TABLE:
        new = " *New.*" if option.new else ""
        rows.append(f"| `{option.key}` | {shown_default(option)} | {option.doc}{new} |")
    return "\n".join(rows)
