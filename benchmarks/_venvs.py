"""The contenders and their virtualenvs under benchmarks/.venvs/ (gitignored).

This package and the published 4.x line share the import name ``django_minio_backend``, so
each contender lives in its own virtualenv and runs in its own process. All of them use the same
Python (3.12 when pyenv or PATH has it: the 4.5 release of 4.x needs it) and the newest Django.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENVS = HERE / ".venvs"


@dataclass(frozen=True)
class Contender:
    key: str
    label: str
    venv: str
    requirements: tuple[str, ...]


CONTENDERS: dict[str, Contender] = {
    "ours": Contender("ours", "this package", "ours", ("-e", str(ROOT), "Django")),
    "v4": Contender("v4", "django-minio-backend 4.x", "v4", ("django-minio-backend>=4,<5", "Django")),
    "storages": Contender("storages", "django-storages[s3]", "storages", ("django-storages[s3]", "Django")),
}
# Extra rows that reuse a contender's virtualenv with other options (big save only).
VARIANTS: dict[str, Contender] = {
    "v4-multipart": Contender(
        "v4-multipart", "4.x with MINIO_MULTIPART_UPLOAD", "v4", CONTENDERS["v4"].requirements
    ),
}


# Peers only benchmarks/collectstatic.py runs. collectfast 2.2 reads settings Django 5 removed.
STATIC_PEERS: dict[str, Contender] = {
    "collectfast": Contender(
        "collectfast",
        "collectfast 2.2 + django-storages[s3]",
        "collectfast",
        ("django-storages[s3]", "collectfast", "Django>=4.2,<5"),
    ),
}


def find_python() -> str:
    """BENCH_PYTHON, else a pyenv or PATH Python 3.12, else the running interpreter."""
    if os.environ.get("BENCH_PYTHON"):
        return os.environ["BENCH_PYTHON"]
    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python3.12")))
    if found:
        return found[-1]
    return shutil.which("python3.12") or sys.executable


def _stamp(contender: Contender, python: str) -> str:
    text = json.dumps([python, contender.requirements])
    if contender.key == "ours":  # reinstall when our dependencies change
        text += (ROOT / "pyproject.toml").read_text()
    return hashlib.sha256(text.encode()).hexdigest()


def venv_python(contender: Contender) -> Path:
    return VENVS / contender.venv / "bin" / "python"


def ensure_venv(contender: Contender, python: str, *, refresh: bool = False) -> Path:
    """Create (or reuse) the contender's virtualenv and install its requirements."""
    home = VENVS / contender.venv
    stamp_file = home / ".bench-stamp"
    stamp = _stamp(contender, python)
    if not refresh and stamp_file.exists() and stamp_file.read_text() == stamp:
        return venv_python(contender)
    if home.exists():
        shutil.rmtree(home)
    VENVS.mkdir(parents=True, exist_ok=True)
    subprocess.run([python, "-m", "venv", str(home)], check=True)
    pip = [str(venv_python(contender)), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    done = subprocess.run([*pip, *contender.requirements], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pip install {' '.join(contender.requirements)} failed:\n{done.stderr[-2000:]}")
    stamp_file.write_text(stamp)
    return venv_python(contender)
