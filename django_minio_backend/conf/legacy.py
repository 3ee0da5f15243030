"""The 3.x line's top-level settings: the ``STORAGES`` block that says the same thing.

The system check ``minio_backend.W005`` prints this block so a 3.x project can paste it into its
settings. Credentials are written as ``os.environ[...]`` look-ups, never as their values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

CREDENTIAL_KEYS = ("MINIO_ACCESS_KEY", "MINIO_SECRET_KEY")


def _timedelta_source(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds != value.total_seconds():
        return f"timedelta(seconds={value.total_seconds()!r})"
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds % size == 0:
            return f"timedelta({unit}={seconds // size})"
    return f"timedelta(seconds={seconds})"


def _literal(value: Any) -> str:
    """Source for a literal in the settings file's style (double quotes); TypeError otherwise."""
    if isinstance(value, str):
        return json.dumps(value)
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, list | tuple):  # the options take lists where 3.x settings had tuples
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value).__name__)


def value_source(key: str, value: Any) -> str:
    """Python source for one option value.

    Credentials become ``os.environ["KEY"]``. A value that is not a literal (a PoolManager, a
    callable) is written as the name of the top-level setting that holds it today.
    """
    if key in CREDENTIAL_KEYS:
        return f'os.environ["{key}"]'
    if isinstance(value, timedelta):
        return _timedelta_source(value)
    try:
        return _literal(value)
    except TypeError:
        return key


def _alias_line(alias: str, backend: str, reads_top_level: bool, has_options: bool) -> str:
    if reads_top_level:
        return f'    "{alias}": {{"BACKEND": "{backend}", "OPTIONS": dict(MINIO)}},'
    if has_options:
        return f'    # "{alias}": keep it as it is (it has OPTIONS of its own)'
    return f'    "{alias}": {{"BACKEND": "{backend}"}},'


def storages_block(options: Mapping[str, Any], aliases: Sequence[tuple[str, str, bool, bool]]) -> str:
    """The settings source: a ``MINIO`` dict of ``options`` and the ``STORAGES`` setting.

    ``aliases`` holds (alias, backend import path, reads top-level settings, has OPTIONS) for
    every alias; those that read the top-level settings get ``dict(MINIO)``.
    """
    lines = ["import os"]
    if any(isinstance(value, timedelta) for value in options.values()):
        lines.append("from datetime import timedelta")
    lines += ["", "MINIO = {"]
    for key, value in options.items():
        source = value_source(key, value)
        keep = "  # keep this variable: its value is not a literal" if source == key else ""
        lines.append(f'    "{key}": {source},{keep}')
    lines += ["}", "STORAGES = {"]
    lines += [_alias_line(*alias) for alias in aliases]
    lines.append("}")
    return "\n".join(lines)
