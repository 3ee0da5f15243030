"""Sphinx configuration of the documentation site (``make docs``)."""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path[:0] = [str(DOCS.parent), str(DOCS / "_ext")]

project = "django-minio-backend"
author = "The django-minio-backend developers"
copyright = "the django-minio-backend developers"

extensions = ["myst_parser", "repository"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
myst_heading_anchors = 4
myst_enable_extensions = ["colon_fence"]
html_theme = "furo"
html_title = "django-minio-backend"
# Where links to files of the repository outside docs/ (examples/, benchmarks/results/, ...) point
# in the built site; on GitHub the same relative links resolve by themselves.
repository_url = "https://github.com/theriverman/django-minio-backend/blob/main/"
